/* writer.c — ortc IR -> ModelProto -> file. Builds protobuf-c messages that
 * point into the IR (names, weights: nothing large is copied), packs them
 * with protobuf-c and writes the bytes. Every message it allocates is on
 * one list freed at the end; the IR is only read. It writes what the
 * loader reads back; it does not re-derive value_info or shapes.
 */
#include "writer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "pb_strip.h"

/* protobuf's hard limit on one message */
#define MAX_MESSAGE_BYTES ((size_t)INT32_MAX)

typedef struct block {
    struct block *next;
    max_align_t data[];
} block;

typedef struct writer {
    block *blocks; /* everything allocated for the messages */
    bool oom;
    ortc_errbuf *err;
} writer;

/* Zeroed memory that lives until the end of the write; NULL (and w->oom)
 * when out of memory. */
static void *wr_alloc(writer *w, size_t size)
{
    block *b = calloc(1, sizeof *b + (size ? size : 1));
    if (!b) {
        w->oom = true;
        return NULL;
    }
    b->next = w->blocks;
    w->blocks = b;
    return b->data;
}

/* A message of descriptor d with protobuf-c's defaults, owned by w; NULL:
 * out of memory. */
static void *wr_msg(writer *w, const ProtobufCMessageDescriptor *d)
{
    void *m = wr_alloc(w, d->sizeof_message);
    if (m)
        protobuf_c_message_init(d, m);
    return m;
}

/* Gives msg's repeated field F count zeroed items owned by w (msg->n_F =
 * count; none: NULL); false when out of memory. */
#define WR_REPEATED(w, msg, F, count)                                                              \
    ((msg)->n_##F = (size_t)(count),                                                               \
     (msg)->F = (msg)->n_##F ? wr_alloc((w), (msg)->n_##F * sizeof *(msg)->F) : NULL,              \
     !(msg)->n_##F || (msg)->F)

/* Gives msg's repeated message field F count items, item i the message
 * CONVERT makes (an expression of i, NULL on failure); returns NULL from
 * the calling function when an allocation or a conversion fails. */
#define WR_MESSAGES(w, msg, F, count, i, CONVERT)                                                  \
    do {                                                                                           \
        if (!WR_REPEATED(w, msg, F, count))                                                        \
            return NULL;                                                                           \
        for (size_t i = 0; i < (msg)->n_##F; i++)                                                  \
            if (!((msg)->F[i] = (CONVERT)))                                                        \
                return NULL;                                                                       \
    } while (0)

/* The IR's strings are never NULL but the protobuf ones may be: "" keeps
 * the field present as the loader saw it. */
static char *str(const char *s)
{
    return (char *)(s ? s : "");
}

static Onnx__TensorProto *tensor_pb(writer *w, const ortc_const_tensor *ct, const char *name)
{
    Onnx__TensorProto *tp = wr_msg(w, &onnx__tensor_proto__descriptor);
    if (!tp)
        return NULL;
    const ortc_tensor *t = &ct->t;
    tp->name = str(name);
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    if (!WR_REPEATED(w, tp, dims, t->rank))
        return NULL;
    for (int i = 0; i < t->rank; i++)
        tp->dims[i] = t->dims[i];
    int64_t n = ortc_tensor_numel(t);
    if (t->dtype == ORTC_DTYPE_STRING) {
        if (!WR_REPEATED(w, tp, string_data, n))
            return NULL;
        char *const *s = t->data;
        for (int64_t i = 0; i < n; i++) {
            tp->string_data[i].data = (uint8_t *)(s[i] ? s[i] : "");
            tp->string_data[i].len = s[i] ? strlen(s[i]) : 0;
        }
        return tp;
    }
    /* raw_data is little-endian, as the IR holds it on the hosts ortc
     * supports */
    tp->has_raw_data = 1;
    tp->raw_data.len = ortc_tensor_bytes(t);
    tp->raw_data.data = t->data;
    return tp;
}

/* Makes outer an optional (or a sequence) of a new TypeProto and returns
 * that one; NULL: out of memory. */
static Onnx__TypeProto *type_wrap(writer *w, Onnx__TypeProto *outer, bool optional)
{
    Onnx__TypeProto *e = wr_msg(w, &onnx__type_proto__descriptor);
    if (!e)
        return NULL;
    if (optional) {
        Onnx__TypeProto__Optional *o = wr_msg(w, &onnx__type_proto__optional__descriptor);
        if (!o)
            return NULL;
        o->elem_type = e;
        outer->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
        outer->optional_type = o;
    } else {
        Onnx__TypeProto__Sequence *q = wr_msg(w, &onnx__type_proto__sequence__descriptor);
        if (!q)
            return NULL;
        q->elem_type = e;
        outer->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
        outer->sequence_type = q;
    }
    return e;
}

static Onnx__TypeProto *type_pb(writer *w, const ortc_value *v)
{
    Onnx__TypeProto *tp = wr_msg(w, &onnx__type_proto__descriptor), *inner = tp;
    if (!tp)
        return NULL;
    bool optional = v->type == ORTC_TYPE_OPTIONAL_TENSOR || v->type == ORTC_TYPE_OPTIONAL_SEQUENCE;
    bool sequence = v->type == ORTC_TYPE_SEQUENCE || v->type == ORTC_TYPE_OPTIONAL_SEQUENCE;
    /* optional(sequence(tensor)): the wrappers from the outside in */
    if (optional && !(inner = type_wrap(w, inner, true)))
        return NULL;
    if (sequence && !(inner = type_wrap(w, inner, false)))
        return NULL;
    Onnx__TypeProto__Tensor *tt = wr_msg(w, &onnx__type_proto__tensor__descriptor);
    if (!tt)
        return NULL;
    inner->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    inner->tensor_type = tt;
    if (v->dtype != ORTC_DTYPE_UNDEFINED) {
        tt->has_elem_type = 1;
        tt->elem_type = (int32_t)v->dtype;
    }
    if (v->rank < 0)
        return tp;
    Onnx__TensorShapeProto *sp = wr_msg(w, &onnx__tensor_shape_proto__descriptor);
    if (!sp)
        return NULL;
    tt->shape = sp;
    if (!WR_REPEATED(w, sp, dim, v->rank))
        return NULL;
    for (int i = 0; i < v->rank; i++) {
        Onnx__TensorShapeProto__Dimension *d =
            wr_msg(w, &onnx__tensor_shape_proto__dimension__descriptor);
        if (!d)
            return NULL;
        if (v->dims[i].value >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = v->dims[i].value;
        } else if (v->dims[i].param) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = v->dims[i].param;
        }
        sp->dim[i] = d;
    }
    return tp;
}

static Onnx__ValueInfoProto *value_info_pb(writer *w, const ortc_value *v)
{
    Onnx__ValueInfoProto *vi = wr_msg(w, &onnx__value_info_proto__descriptor);
    if (!vi)
        return NULL;
    vi->name = str(v->name);
    /* a value whose type the file never gave (a subgraph's outputs often)
     * stays untyped */
    if (v->declared || v->dtype != ORTC_DTYPE_UNDEFINED)
        if (!(vi->type = type_pb(w, v)))
            return NULL;
    return vi;
}

static Onnx__GraphProto *graph_pb(writer *w, const ortc_graph *g);

/* NULL on failure: out of memory (w->oom) or an error already in w->err. */
static Onnx__AttributeProto *attr_pb(writer *w, const ortc_node *n, const ortc_attr *a)
{
    Onnx__AttributeProto *ap = wr_msg(w, &onnx__attribute_proto__descriptor);
    if (!ap)
        return NULL;
    ap->name = str(a->name);
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)a->type;
    switch (a->type) {
    case ORTC_ATTR_FLOAT:
        ap->has_f = 1;
        ap->f = a->f;
        break;
    case ORTC_ATTR_INT:
        ap->has_i = 1;
        ap->i = a->i;
        break;
    case ORTC_ATTR_STRING:
        ap->has_s = 1;
        ap->s.data = (uint8_t *)str(a->s);
        ap->s.len = a->s_len;
        break;
    case ORTC_ATTR_TENSOR:
        if (!(ap->t = tensor_pb(w, a->t, "")))
            return NULL;
        break;
    case ORTC_ATTR_GRAPH:
        if (!(ap->g = graph_pb(w, a->g)))
            return NULL;
        break;
    case ORTC_ATTR_FLOATS:
        ap->n_floats = a->n;
        ap->floats = a->floats;
        break;
    case ORTC_ATTR_INTS:
        ap->n_ints = a->n;
        ap->ints = a->ints;
        break;
    case ORTC_ATTR_STRINGS:
        if (!WR_REPEATED(w, ap, strings, a->n))
            return NULL;
        for (size_t i = 0; i < a->n; i++) {
            ap->strings[i].data = (uint8_t *)str(a->strings[i]);
            ap->strings[i].len = a->strings[i] ? strlen(a->strings[i]) : 0;
        }
        break;
    case ORTC_ATTR_TENSORS:
        WR_MESSAGES(w, ap, tensors, a->n, i, tensor_pb(w, a->tensors[i], ""));
        break;
    case ORTC_ATTR_GRAPHS: WR_MESSAGES(w, ap, graphs, a->n, i, graph_pb(w, a->graphs[i])); break;
    case ORTC_ATTR_TYPE_PROTO: {
        ortc_value tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.type = a->vtype;
        tmp.dtype = a->vdtype;
        tmp.rank = -1;
        if (!(ap->tp = type_pb(w, &tmp)))
            return NULL;
        break;
    }
    default:
        ortc_err_set(w->err, ORTC_STATUS_UNSUPPORTED,
                     "attribute '%s' of node '%s' (%s) has type %s, which ortc cannot write",
                     a->name, n->name, n->op_type, ortc_attr_type_name(a->type));
        return NULL;
    }
    return ap;
}

/* NULL on failure, as attr_pb. */
static Onnx__NodeProto *node_pb(writer *w, const ortc_node *n)
{
    if (n->n_post_ops) {
        ortc_err_set(w->err, ORTC_STATUS_UNSUPPORTED,
                     "node '%s' (%s) has fused post-ops, which ONNX cannot express (write "
                     "the model before graph passes run)",
                     n->name, n->op_type);
        return NULL;
    }
    Onnx__NodeProto *np = wr_msg(w, &onnx__node_proto__descriptor);
    if (!np)
        return NULL;
    np->name = str(n->name);
    np->op_type = str(n->op_type);
    np->domain = str(n->domain);
    if (!WR_REPEATED(w, np, input, n->n_inputs) || !WR_REPEATED(w, np, output, n->n_outputs))
        return NULL;
    for (int i = 0; i < n->n_inputs; i++)
        np->input[i] = n->inputs[i] ? n->inputs[i]->name : "";
    for (int i = 0; i < n->n_outputs; i++)
        np->output[i] = n->outputs[i] ? n->outputs[i]->name : "";
    WR_MESSAGES(w, np, attribute, n->n_attrs, i, attr_pb(w, n, &n->attrs[i]));
    return np;
}

/* NULL on failure: out of memory (w->oom) or an error already in w->err. */
static Onnx__GraphProto *graph_pb(writer *w, const ortc_graph *g)
{
    Onnx__GraphProto *gp = wr_msg(w, &onnx__graph_proto__descriptor);
    if (!gp)
        return NULL;
    gp->name = str(g->name);
    if (!g->parent && g->model && g->model->graph_doc && *g->model->graph_doc)
        gp->doc_string = g->model->graph_doc;
    size_t n_init = 0;
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i]->kind == ORTC_VALUE_CONSTANT && g->values[i]->constant)
            n_init++;
    if (!WR_REPEATED(w, gp, initializer, n_init))
        return NULL;
    size_t k = 0;
    for (int i = 0; i < g->n_values; i++) {
        const ortc_value *v = g->values[i];
        if (v->kind == ORTC_VALUE_CONSTANT && v->constant &&
            !(gp->initializer[k++] = tensor_pb(w, v->constant, v->name)))
            return NULL;
    }
    WR_MESSAGES(w, gp, input, g->n_inputs, i, value_info_pb(w, g->inputs[i]));
    WR_MESSAGES(w, gp, output, g->n_outputs, i, value_info_pb(w, g->outputs[i]));
    WR_MESSAGES(w, gp, node, g->n_nodes, i, node_pb(w, g->nodes[i]));
    return gp;
}

static Onnx__ModelProto *model_pb(writer *w, const ortc_model *m)
{
    Onnx__ModelProto *mp = wr_msg(w, &onnx__model_proto__descriptor);
    if (!mp)
        return NULL;
    mp->has_ir_version = 1;
    mp->ir_version = m->ir_version;
    mp->producer_name = m->producer_name && *m->producer_name ? m->producer_name : NULL;
    mp->producer_version = m->producer_version && *m->producer_version ? m->producer_version : NULL;
    mp->domain = m->domain && *m->domain ? m->domain : NULL;
    mp->doc_string = m->doc && *m->doc ? m->doc : NULL;
    if (m->model_version) {
        mp->has_model_version = 1;
        mp->model_version = m->model_version;
    }
    if (!WR_REPEATED(w, mp, opset_import, m->n_opsets) ||
        !WR_REPEATED(w, mp, metadata_props, m->n_meta))
        return NULL;
    for (int i = 0; i < m->n_opsets; i++) {
        Onnx__OperatorSetIdProto *op = wr_msg(w, &onnx__operator_set_id_proto__descriptor);
        if (!op)
            return NULL;
        op->domain = str(m->opsets[i].domain);
        op->has_version = 1;
        op->version = m->opsets[i].version;
        mp->opset_import[i] = op;
    }
    for (int i = 0; i < m->n_meta; i++) {
        Onnx__StringStringEntryProto *e = wr_msg(w, &onnx__string_string_entry_proto__descriptor);
        if (!e)
            return NULL;
        e->key = str(m->meta_keys[i]);
        e->value = str(m->meta_values[i]);
        mp->metadata_props[i] = e;
    }
    if (!(mp->graph = graph_pb(w, m->graph)))
        return NULL;
    return mp;
}

static ortc_status write_bytes(const char *path, const uint8_t *data, size_t size, ortc_errbuf *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR, "%s: cannot create: %s", path,
                            ortc_pb_strerror(errno));
    size_t done = fwrite(data, 1, size, f);
    int e = errno;
    if (fclose(f) != 0 && done == size)
        e = errno, done = 0;
    if (done != size) {
        remove(path);
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR, "%s: cannot write: %s", path,
                            ortc_pb_strerror(e));
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_onnx_save_file(const ortc_model *m, const char *path, ortc_errbuf *err)
{
    writer w = {.err = err};
    ortc_err_clear(err);
    ortc_status st = ORTC_STATUS_OK;
    Onnx__ModelProto *mp = m && m->graph ? model_pb(&w, m) : NULL;
    if (!mp) {
        if (w.oom || !m || !m->graph)
            st = ortc_err_set(err, w.oom ? ORTC_STATUS_OUT_OF_MEMORY : ORTC_STATUS_INVALID_ARGUMENT,
                              "%s: %s", path, w.oom ? "out of memory" : "no model to write");
        else {
            ortc_err_prefix(err, "%s: ", path);
            st = ORTC_STATUS_UNSUPPORTED;
        }
    } else {
        size_t size = onnx__model_proto__get_packed_size(mp);
        uint8_t *buf = size <= MAX_MESSAGE_BYTES ? malloc(size ? size : 1) : NULL;
        if (!buf)
            st = ortc_err_set(
                err,
                size > MAX_MESSAGE_BYTES ? ORTC_STATUS_LIMIT_EXCEEDED : ORTC_STATUS_OUT_OF_MEMORY,
                "%s: the model needs %zu bytes; %s", path, size,
                size > MAX_MESSAGE_BYTES ? "protobuf allows at most 2 GB" : "out of memory");
        else {
            onnx__model_proto__pack(mp, buf);
            st = write_bytes(path, buf, size, err);
            free(buf);
        }
    }
    while (w.blocks) {
        block *b = w.blocks;
        w.blocks = b->next;
        free(b);
    }
    return st;
}
