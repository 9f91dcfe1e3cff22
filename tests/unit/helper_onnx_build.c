/* helper_onnx_build.c — builders for ONNX protobuf messages used by tests;
 * see helper_onnx_build.h. Failing allocations fail the running Check test.
 */
#include "helper_onnx_build.h"

#include <stdio.h>
#include <string.h>

/* ---- building messages (all malloc'd: free_unpacked frees them) -------- */

char *pb_xstrdup(const char *s)
{
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

void *pb_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* "a,,b" -> {"a", "", "b"}; "" -> none */
void pb_split_names(const char *list, char ***arr, size_t *n)
{
    *arr = NULL;
    *n = 0;
    if (!list || !*list)
        return;
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *s = pb_xcalloc(len + 1, 1);
        memcpy(s, p, len);
        PB_PUSH(*arr, *n, s);
        if (!e)
            break;
        p = e + 1;
    }
}

Onnx__GraphProto *pb_graph_new(const char *name)
{
    Onnx__GraphProto *g = pb_xcalloc(1, sizeof *g);
    onnx__graph_proto__init(g);
    g->name = pb_xstrdup(name);
    return g;
}

void pb_add_opset(Onnx__ModelProto *m, const char *domain, int64_t version)
{
    Onnx__OperatorSetIdProto *o = pb_xcalloc(1, sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = pb_xstrdup(domain);
    o->has_version = 1;
    o->version = version;
    PB_PUSH(m->opset_import, m->n_opset_import, o);
}

Onnx__ModelProto *pb_model_new(int64_t ir, int64_t opset)
{
    Onnx__ModelProto *m = pb_xcalloc(1, sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = ir;
    m->producer_name = pb_xstrdup("ortc-test");
    m->producer_version = pb_xstrdup("1.2");
    if (opset > 0)
        pb_add_opset(m, "", opset);
    m->graph = pb_graph_new("main");
    return m;
}

/* shape: NULL = no shape; "" = scalar; "2,batch,?" = dims (value, param, unknown) */
Onnx__TypeProto *pb_tensor_type(int elem, const char *shape)
{
    Onnx__TypeProto *tp = pb_xcalloc(1, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = pb_xcalloc(1, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    if (shape) {
        Onnx__TensorShapeProto *sp = pb_xcalloc(1, sizeof *sp);
        onnx__tensor_shape_proto__init(sp);
        char **parts;
        size_t n;
        pb_split_names(shape, &parts, &n);
        for (size_t i = 0; i < n; i++) {
            Onnx__TensorShapeProto__Dimension *d = pb_xcalloc(1, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            char *end;
            long long v = strtoll(parts[i], &end, 10);
            if (strcmp(parts[i], "?") == 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE__NOT_SET;
            } else if (*end == '\0') {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = v;
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = pb_xstrdup(parts[i]);
            }
            PB_PUSH(sp->dim, sp->n_dim, d);
            free(parts[i]);
        }
        free(parts);
        tt->shape = sp;
    }
    return tp;
}

Onnx__ValueInfoProto *pb_vi_new(const char *name, int elem, const char *shape)
{
    Onnx__ValueInfoProto *vi = pb_xcalloc(1, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = pb_xstrdup(name);
    vi->type = pb_tensor_type(elem, shape);
    return vi;
}

void pb_add_input(Onnx__GraphProto *g, const char *name, int elem, const char *shape)
{
    PB_PUSH(g->input, g->n_input, pb_vi_new(name, elem, shape));
}

void pb_add_output(Onnx__GraphProto *g, const char *name, int elem, const char *shape)
{
    PB_PUSH(g->output, g->n_output, pb_vi_new(name, elem, shape));
}

void pb_add_value_info(Onnx__GraphProto *g, const char *name, int elem, const char *shape)
{
    PB_PUSH(g->value_info, g->n_value_info, pb_vi_new(name, elem, shape));
}

Onnx__TensorProto *pb_tensor_new(const char *name, int dtype, const char *dims)
{
    Onnx__TensorProto *t = pb_xcalloc(1, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = pb_xstrdup(name);
    t->has_data_type = 1;
    t->data_type = dtype;
    char **parts;
    size_t n;
    pb_split_names(dims, &parts, &n);
    t->dims = pb_xcalloc(n, sizeof *t->dims);
    for (size_t i = 0; i < n; i++) {
        t->dims[i] = strtoll(parts[i], NULL, 10);
        free(parts[i]);
    }
    t->n_dims = n;
    free(parts);
    return t;
}

void pb_tensor_raw(Onnx__TensorProto *t, const void *data, size_t len)
{
    t->has_raw_data = 1;
    t->raw_data.len = len;
    t->raw_data.data = pb_xcalloc(len, 1);
    memcpy(t->raw_data.data, data, len);
}

void pb_tensor_floats(Onnx__TensorProto *t, const float *v, size_t n)
{
    t->float_data = pb_xcalloc(n, sizeof *v);
    memcpy(t->float_data, v, n * sizeof *v);
    t->n_float_data = n;
}

void pb_tensor_int32s(Onnx__TensorProto *t, const int32_t *v, size_t n)
{
    t->int32_data = pb_xcalloc(n, sizeof *v);
    memcpy(t->int32_data, v, n * sizeof *v);
    t->n_int32_data = n;
}

void pb_tensor_int64s(Onnx__TensorProto *t, const int64_t *v, size_t n)
{
    t->int64_data = pb_xcalloc(n, sizeof *v);
    memcpy(t->int64_data, v, n * sizeof *v);
    t->n_int64_data = n;
}

void pb_tensor_external(Onnx__TensorProto *t, const char *location, const char *offset,
                        const char *length)
{
    const char *kv[3][2] = {{"location", location}, {"offset", offset}, {"length", length}};
    for (int i = 0; i < 3; i++) {
        if (!kv[i][1])
            continue;
        Onnx__StringStringEntryProto *e = pb_xcalloc(1, sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = pb_xstrdup(kv[i][0]);
        e->value = pb_xstrdup(kv[i][1]);
        PB_PUSH(t->external_data, t->n_external_data, e);
    }
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}

Onnx__TensorProto *pb_add_init(Onnx__GraphProto *g, Onnx__TensorProto *t)
{
    PB_PUSH(g->initializer, g->n_initializer, t);
    return t;
}

Onnx__NodeProto *pb_add_node(Onnx__GraphProto *g, const char *op, const char *name, const char *ins,
                             const char *outs)
{
    Onnx__NodeProto *n = pb_xcalloc(1, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = pb_xstrdup(op);
    n->name = pb_xstrdup(name);
    pb_split_names(ins, &n->input, &n->n_input);
    pb_split_names(outs, &n->output, &n->n_output);
    PB_PUSH(g->node, g->n_node, n);
    return n;
}

Onnx__AttributeProto *pb_add_attr(Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = pb_xcalloc(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = pb_xstrdup(name);
    if (type >= 0) {
        a->has_type = 1;
        a->type = (Onnx__AttributeProto__AttributeType)type;
    }
    PB_PUSH(n->attribute, n->n_attribute, a);
    return a;
}

Onnx__AttributeProto *pb_add_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
    return a;
}

Onnx__AttributeProto *pb_add_ints(Onnx__NodeProto *n, const char *name, const int64_t *v,
                                  size_t count)
{
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->ints = pb_xcalloc(count, sizeof *v);
    memcpy(a->ints, v, count * sizeof *v);
    a->n_ints = count;
    return a;
}

Onnx__AttributeProto *pb_add_graph(Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g)
{
    Onnx__AttributeProto *a = pb_add_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = g;
    return a;
}

uint8_t *pb_pack_model(Onnx__ModelProto *m, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *b = pb_xcalloc(*len, 1);
    ck_assert_uint_eq(onnx__model_proto__pack(m, b), *len);
    return b;
}
