/* loader.c — .onnx bytes -> ortc IR: model metadata, opset imports, graphs
 * and subgraphs, value types, initializers, nodes and attributes. Checks
 * what the file states (versions, names, types, tensor sizes); linking,
 * ordering and dangling names are ortc_graph_finalize's job, operators the
 * registry's. The protobuf message never outlives a call.
 *
 * Memory: protobuf-c never sees the large raw_data payloads. pb_strip.c
 * walks the mapped file, unpacks a stripped copy of its structure (KBs) and
 * unmaps it; each initializer's payload is then read with pread straight
 * into the tensor's own aligned storage (tensor_pb.c). So the weights exist
 * once, and the file's pages never count in the process's RSS. Smaller
 * raw_data and typed arrays are moved, not copied, out of the message.
 */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "onnx.pb-c.h"
#include "tensor_pb.h"

typedef struct loader {
    ortc_model *model;
    const char *dir;           /* external data folder; NULL refuses it */
    const ortc_pb_source *src; /* where stripped raw_data is read from */
    ortc_errbuf *err;
} loader;

/* Where a graph sits, for messages: "" at the top, else
 * " in subgraph 'body' (attribute 'body' of node 'loop' (Loop))". */
#define WHERE_MAX 1024
#define NLABEL_MAX (WHERE_MAX + 300) /* a node's label */
#define LABEL_MAX (NLABEL_MAX + 400) /* a tensor's label */

/* A malloc'd copy of n elements of `size` bytes; NULL when out of memory
 * (and when n is 0, which is no error). */
static void *dup_array(const void *src, size_t n, size_t size)
{
    void *d = n ? malloc(n * size) : NULL;
    if (d)
        memcpy(d, src, n * size);
    return d;
}

static ortc_status oom(loader *L)
{
    return ortc_err_set(L->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
}

static int replace_str(char **dst, const char *src)
{
    char *d = strdup(src ? src : "");
    if (!d)
        return -1;
    free(*dst);
    *dst = d;
    return 0;
}

static bool is_ai_onnx(const char *domain)
{
    return !domain || !*domain || strcmp(domain, "ai.onnx") == 0;
}

/* "node 'conv1' (Conv)", "node #3 (com.x.Op)", plus where the graph sits. */
static const char *node_label(char *buf, size_t len, const Onnx__NodeProto *np, size_t index,
                              const char *where)
{
    const char *op = np->op_type ? np->op_type : "";
    const char *dom = is_ai_onnx(np->domain) ? "" : np->domain;
    if (np->name && *np->name)
        snprintf(buf, len, "node '%s' (%s%s%s)%s", np->name, dom, *dom ? "." : "", op, where);
    else
        snprintf(buf, len, "node #%zu (%s%s%s)%s", index, dom, *dom ? "." : "", op, where);
    return buf;
}

/* ---- value types --------------------------------------------------------- */

typedef struct value_type {
    bool present; /* a type was given */
    ortc_type type;
    ortc_dtype dtype;
    int rank; /* -1: no shape */
    int64_t dims[ORTC_MAX_RANK];
    const char *params[ORTC_MAX_RANK]; /* point into the message */
} value_type;

/* `what` is "input", "output" or "value_info". */
static ortc_status parse_type(loader *L, const Onnx__TypeProto *tp, const char *what,
                              const char *name, const char *where, value_type *vt)
{
    memset(vt, 0, sizeof *vt);
    vt->rank = -1;
    if (!tp)
        return ORTC_STATUS_OK;
    /* tensor, sequence(tensor), optional(tensor), optional(sequence(tensor)):
     * peel the containers, then read the tensor type inside */
    vt->type = ORTC_TYPE_TENSOR;
    bool optional = false, sequence = false;
    const char *kind = NULL, *incomplete = NULL; /* incomplete: the last container peeled */
    while (!kind) {
        if (incomplete && (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)) {
            kind = incomplete; /* a container without its element type */
            break;
        }
        switch (tp->value_case) {
        case ONNX__TYPE_PROTO__VALUE__NOT_SET: return ORTC_STATUS_OK; /* no type given */
        case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: break;
        case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
            if (sequence)
                kind = "a sequence of sequences";
            sequence = true;
            incomplete = "an incomplete sequence";
            tp = tp->sequence_type ? tp->sequence_type->elem_type : NULL;
            continue;
        case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
            if (optional || sequence)
                kind = sequence ? "a sequence of optionals" : "an optional of an optional";
            optional = true;
            incomplete = "an incomplete optional";
            tp = tp->optional_type ? tp->optional_type->elem_type : NULL;
            continue;
        case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
            kind = sequence || optional ? "a container of maps, which is" : "a map";
            break;
        case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: kind = "a sparse tensor"; break;
        default: kind = "an unknown"; break;
        }
        break;
    }
    if (kind)
        return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                            "%s '%s'%s has %s type; ortc supports tensors, sequences of tensors "
                            "and optionals of either",
                            what, name, where, kind);
    vt->type = optional ? (sequence ? ORTC_TYPE_OPTIONAL_SEQUENCE : ORTC_TYPE_OPTIONAL_TENSOR)
                        : (sequence ? ORTC_TYPE_SEQUENCE : ORTC_TYPE_TENSOR);
    vt->present = true;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!tt)
        return ORTC_STATUS_OK;
    if (tt->has_elem_type && tt->elem_type != 0) {
        if (!ortc_pb_dtype_known(tt->elem_type))
            return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                                "%s '%s'%s has element type %d, which is not an ONNX type ortc "
                                "knows",
                                what, name, where, (int)tt->elem_type);
        vt->dtype = (ortc_dtype)tt->elem_type;
    }
    if (!tt->shape)
        return ORTC_STATUS_OK;
    if (tt->shape->n_dim > ORTC_MAX_RANK)
        return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                            "%s '%s'%s has rank %zu; ortc supports at most %d dims", what, name,
                            where, tt->shape->n_dim, ORTC_MAX_RANK);
    vt->rank = (int)tt->shape->n_dim;
    for (int i = 0; i < vt->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        vt->dims[i] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                    "%s '%s'%s has dim %d = %lld; dims must be >= 0", what, name,
                                    where, i, (long long)d->dim_value);
            vt->dims[i] = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   d->dim_param && *d->dim_param) {
            vt->params[i] = d->dim_param;
        }
    }
    return ORTC_STATUS_OK;
}

static ortc_status apply_type(loader *L, ortc_value *v, const value_type *vt)
{
    if (!vt->present)
        return ORTC_STATUS_OK;
    v->type = vt->type;
    ortc_value_set_shape(v, vt->dtype, vt->rank, vt->rank > 0 ? vt->dims : NULL);
    for (int i = 0; i < vt->rank; i++)
        if (vt->params[i] && !(v->dims[i].param = strdup(vt->params[i])))
            return oom(L);
    v->declared = true;
    return ORTC_STATUS_OK;
}

/* A graph input that is also an initializer: its declared type must fit. */
static ortc_status check_input_matches_initializer(loader *L, const ortc_value *v,
                                                   const value_type *vt, const char *where)
{
    const ortc_tensor *t = &v->constant->t;
    char a[200], b[200];
    if (vt->present && vt->type != ORTC_TYPE_TENSOR)
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                            "input '%s'%s is declared a sequence or optional but it is an "
                            "initializer (a tensor)",
                            v->name, where);
    if (vt->present && vt->dtype != ORTC_DTYPE_UNDEFINED && vt->dtype != t->dtype)
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                            "input '%s'%s is declared %s but its initializer is %s", v->name, where,
                            ortc_dtype_name(vt->dtype), ortc_dtype_name(t->dtype));
    bool bad = vt->present && vt->rank >= 0 && vt->rank != t->rank;
    for (int i = 0; !bad && vt->present && i < vt->rank; i++)
        bad = vt->dims[i] >= 0 && vt->dims[i] != t->dims[i];
    if (bad) {
        a[0] = '\0';
        ortc_strbuf_append(a, sizeof a, "[");
        for (int i = 0; i < vt->rank; i++) {
            if (vt->dims[i] >= 0)
                ortc_strbuf_append(a, sizeof a, "%s%lld", i ? "," : "", (long long)vt->dims[i]);
            else
                ortc_strbuf_append(a, sizeof a, "%s%s", i ? "," : "",
                                   vt->params[i] ? vt->params[i] : "?");
        }
        ortc_strbuf_append(a, sizeof a, "]");
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                            "input '%s'%s is declared with shape %s but its initializer has %s",
                            v->name, where, a, ortc_shape_str(b, sizeof b, t->rank, t->dims));
    }
    return ORTC_STATUS_OK;
}

/* ---- graphs, nodes, attributes ------------------------------------------ */

static ortc_status build_graph(loader *L, Onnx__GraphProto *gp, ortc_graph *g, const char *where);

static ortc_status build_subgraph(loader *L, Onnx__GraphProto *gp, ortc_graph *parent,
                                  const char *attr, const char *nlabel, ortc_graph **out)
{
    char where[WHERE_MAX];
    snprintf(where, sizeof where, " in subgraph '%s' (attribute '%s' of %s)",
             gp->name ? gp->name : "", attr, nlabel);
    *out = ortc_graph_new(L->model, parent, gp->name);
    if (!*out)
        return oom(L);
    return build_graph(L, gp, *out, where);
}

static ortc_status build_attr(loader *L, ortc_graph *g, ortc_node *n, Onnx__AttributeProto *ap,
                              size_t index, const char *nlabel)
{
    if (!ap->name || !*ap->name)
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL, "%s attribute #%zu has no name",
                            nlabel, index);
    if (ortc_node_attr(n, ap->name))
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL, "%s has attribute '%s' twice",
                            nlabel, ap->name);
    if (!strncmp(ap->name, "ortc_", 5)) /* reserved for graph passes (operator.h) */
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                            "%s has attribute '%s': names starting with 'ortc_' are reserved",
                            nlabel, ap->name);
    if (ap->ref_attr_name && *ap->ref_attr_name)
        return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                            "%s attribute '%s' refers to function attribute '%s' (ref_attr_name); "
                            "ortc does not support function bodies",
                            nlabel, ap->name, ap->ref_attr_name);
    if (!ap->has_type || ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL, "%s attribute '%s' has no type",
                            nlabel, ap->name);

    ortc_attr_type type;
    switch (ap->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: type = ORTC_ATTR_FLOAT; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: type = ORTC_ATTR_INT; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: type = ORTC_ATTR_STRING; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
        if (!ap->t)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "%s attribute '%s' has type tensor but no tensor", nlabel,
                                ap->name);
        type = ORTC_ATTR_TENSOR;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
        if (!ap->g)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "%s attribute '%s' has type graph but no graph", nlabel, ap->name);
        type = ORTC_ATTR_GRAPH;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: type = ORTC_ATTR_FLOATS; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: type = ORTC_ATTR_INTS; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: type = ORTC_ATTR_STRINGS; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: type = ORTC_ATTR_TENSORS; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: type = ORTC_ATTR_GRAPHS; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
        return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                            "%s attribute '%s' holds sparse tensors, which ortc does not support",
                            nlabel, ap->name);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: type = ORTC_ATTR_TYPE_PROTO; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
        return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                            "%s attribute '%s' holds type protos, which ortc does not support",
                            nlabel, ap->name);
    default:
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                            "%s attribute '%s' has unknown type %d", nlabel, ap->name,
                            (int)ap->type);
    }
    ortc_attr *a = ortc_node_add_attr(n, ap->name, type);
    if (!a)
        return oom(L);
    /* lists: the array first (zeroed where elements are converted one by
     * one), then a->n, so that a failure leaves an attribute ir.c can free */
    char label[LABEL_MAX];
    ortc_status st = ORTC_STATUS_OK;
    switch (type) {
    case ORTC_ATTR_FLOAT: a->f = ap->f; break;
    case ORTC_ATTR_INT: a->i = ap->i; break;
    case ORTC_ATTR_STRING:
        if (!(a->s = ortc_pb_bytes_dup(&ap->s)))
            return oom(L);
        a->s_len = ap->s.len;
        break;
    case ORTC_ATTR_TENSOR:
        snprintf(label, sizeof label, "%s attribute '%s'", nlabel, ap->name);
        st = ortc_pb_tensor_convert(ap->t, label, L->dir, L->src, &a->t, L->err);
        break;
    case ORTC_ATTR_GRAPH: st = build_subgraph(L, ap->g, g, ap->name, nlabel, &a->g); break;
    case ORTC_ATTR_TYPE_PROTO: {
        value_type vt;
        snprintf(label, sizeof label, " (%s attribute '%s')", nlabel, ap->name);
        if ((st = parse_type(L, ap->tp, "type", ap->name, label, &vt)))
            return st;
        if (!vt.present)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "%s attribute '%s' has type 'type' but names none", nlabel,
                                ap->name);
        a->vtype = vt.type;
        a->vdtype = vt.dtype;
        break;
    }
    case ORTC_ATTR_FLOATS:
        if (ap->n_floats && !(a->floats = dup_array(ap->floats, ap->n_floats, sizeof *a->floats)))
            return oom(L);
        a->n = ap->n_floats;
        break;
    case ORTC_ATTR_INTS:
        if (ap->n_ints && !(a->ints = dup_array(ap->ints, ap->n_ints, sizeof *a->ints)))
            return oom(L);
        a->n = ap->n_ints;
        break;
    case ORTC_ATTR_STRINGS:
        if (ap->n_strings && !(a->strings = calloc(ap->n_strings, sizeof *a->strings)))
            return oom(L);
        a->n = ap->n_strings;
        for (size_t i = 0; i < ap->n_strings; i++)
            if (!(a->strings[i] = ortc_pb_bytes_dup(&ap->strings[i])))
                return oom(L);
        break;
    case ORTC_ATTR_TENSORS:
        if (ap->n_tensors && !(a->tensors = calloc(ap->n_tensors, sizeof *a->tensors)))
            return oom(L);
        a->n = ap->n_tensors;
        for (size_t i = 0; i < ap->n_tensors && !st; i++) {
            snprintf(label, sizeof label, "%s attribute '%s' tensor #%zu", nlabel, ap->name, i);
            st = ortc_pb_tensor_convert(ap->tensors[i], label, L->dir, L->src, &a->tensors[i],
                                        L->err);
        }
        break;
    case ORTC_ATTR_GRAPHS:
        if (ap->n_graphs && !(a->graphs = calloc(ap->n_graphs, sizeof *a->graphs)))
            return oom(L);
        a->n = ap->n_graphs;
        for (size_t i = 0; i < ap->n_graphs && !st; i++)
            st = build_subgraph(L, ap->graphs[i], g, ap->name, nlabel, &a->graphs[i]);
        break;
    default: break; /* refused above */
    }
    return st;
}

static ortc_status build_node(loader *L, ortc_graph *g, Onnx__NodeProto *np, size_t index,
                              const char *where)
{
    char nlabel[NLABEL_MAX];
    node_label(nlabel, sizeof nlabel, np, index, where);
    if (!np->op_type || !*np->op_type)
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL, "%s has no op_type", nlabel);
    if (ortc_model_opset_version(L->model, np->domain) < 0) {
        if (is_ai_onnx(np->domain))
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "%s is an ai.onnx operator but the model imports no ai.onnx "
                                "opset",
                                nlabel);
        return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                            "%s uses domain '%s', which the model does not import (opset_import)",
                            nlabel, np->domain);
    }
    if (np->n_input > INT_MAX || np->n_output > INT_MAX)
        return ortc_err_set(L->err, ORTC_STATUS_LIMIT_EXCEEDED, "%s has too many inputs/outputs",
                            nlabel);
    ortc_node *n = ortc_graph_add_node(g, np->op_type, np->domain, np->name, (int)np->n_input,
                                       (int)np->n_output);
    if (!n)
        return oom(L);
    for (size_t k = 0; k < np->n_input; k++) {
        const char *nm = np->input[k];
        if (!nm || !*nm)
            continue; /* omitted optional input */
        /* this scope, else an enclosing one; unknown names become local
         * placeholders that ortc_graph_finalize reports as dangling */
        ortc_value *v = ortc_graph_find_value(g, nm);
        if (!v && !(v = ortc_graph_get_value(g, nm)))
            return oom(L);
        n->inputs[k] = v;
    }
    for (size_t k = 0; k < np->n_output; k++) {
        const char *nm = np->output[k];
        if (!nm || !*nm)
            continue;                                /* omitted optional output */
        ortc_value *v = ortc_graph_get_value(g, nm); /* created in pass 1 */
        if (!v)
            return oom(L);
        n->outputs[k] = v;
    }
    for (size_t a = 0; a < np->n_attribute; a++) {
        ORTC_TRY(build_attr(L, g, n, np->attribute[a], a, nlabel));
    }
    return ORTC_STATUS_OK;
}

static ortc_status build_graph(loader *L, Onnx__GraphProto *gp, ortc_graph *g, const char *where)
{
    ortc_status st;
    char label[LABEL_MAX];
    if (gp->n_sparse_initializer) {
        const Onnx__SparseTensorProto *sp = gp->sparse_initializer[0];
        const char *nm = sp->values && sp->values->name ? sp->values->name : "";
        return ortc_err_set(L->err, ORTC_STATUS_UNSUPPORTED,
                            "sparse initializer '%s'%s: ortc does not support sparse tensors", nm,
                            where);
    }

    /* pass 1: every value this graph defines */
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL, "initializer #%zu%s has no name",
                                i, where);
        ortc_value *v = ortc_graph_find_local(g, tp->name);
        if (v && v->kind == ORTC_VALUE_CONSTANT)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "initializer '%s'%s is listed twice", tp->name, where);
        if (!v && !(v = ortc_graph_get_value(g, tp->name)))
            return oom(L);
        snprintf(label, sizeof label, "initializer '%s'%s", tp->name, where);
        ortc_const_tensor *c = NULL;
        ORTC_TRY(ortc_pb_tensor_convert(tp, label, L->dir, L->src, &c, L->err));
        ortc_value_set_constant(v, c);
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !*vi->name)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL, "graph input #%zu%s has no name",
                                i, where);
        value_type vt;
        ORTC_TRY(parse_type(L, vi->type, "input", vi->name, where, &vt));
        ortc_value *v = ortc_graph_get_value(g, vi->name);
        if (!v)
            return oom(L);
        if (v->kind == ORTC_VALUE_CONSTANT) {
            /* older exporters list initializers as inputs too: a constant */
            ORTC_TRY(check_input_matches_initializer(L, v, &vt, where));
            continue;
        }
        if (v->kind == ORTC_VALUE_INPUT)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "graph input '%s'%s is listed twice", vi->name, where);
        ORTC_TRY(apply_type(L, v, &vt));
        if (ortc_graph_add_input(g, v))
            return oom(L);
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        for (size_t k = 0; k < np->n_output; k++)
            if (np->output[k] && *np->output[k] && !ortc_graph_get_value(g, np->output[k]))
                return oom(L);
    }

    /* declared types of intermediates, then the graph outputs */
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        if (!vi->name || !*vi->name)
            continue;
        value_type vt;
        ORTC_TRY(parse_type(L, vi->type, "value", vi->name, where, &vt));
        ortc_value *v = ortc_graph_find_local(g, vi->name);
        /* names this graph does not define (stale entries) are ignored;
         * inputs and constants keep their own types */
        if (v && v->kind == ORTC_VALUE_INTERMEDIATE && (st = apply_type(L, v, &vt)))
            return st;
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi->name || !*vi->name)
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "graph output #%zu%s has no name", i, where);
        value_type vt;
        ORTC_TRY(parse_type(L, vi->type, "output", vi->name, where, &vt));
        /* a subgraph may pass an enclosing graph's value straight out */
        ortc_value *v = ortc_graph_find_value(g, vi->name);
        if (!v && !(v = ortc_graph_get_value(g, vi->name)))
            return oom(L);
        if (v->graph == g && v->is_output) /* ONNX graphs are in SSA form */
            return ortc_err_set(L->err, ORTC_STATUS_INVALID_MODEL,
                                "graph output '%s'%s is listed twice", vi->name, where);
        if (v->graph == g && v->kind == ORTC_VALUE_INTERMEDIATE && (st = apply_type(L, v, &vt)))
            return st;
        if (ortc_graph_add_output(g, v))
            return oom(L);
    }

    /* pass 2: nodes (and their subgraphs, which may read any value above) */
    for (size_t i = 0; i < gp->n_node; i++)
        ORTC_TRY(build_node(L, g, gp->node[i], i, where));
    return ORTC_STATUS_OK;
}

/* ---- model ---------------------------------------------------------------- */

static ortc_status build_model(loader *L, Onnx__ModelProto *mp, const char *path)
{
    ortc_errbuf *err = L->err;
    if (!mp->has_ir_version)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "not a valid ONNX model (it has no ir_version)");
    if (mp->ir_version < ORTC_MIN_IR_VERSION || mp->ir_version > ORTC_MAX_IR_VERSION)
        return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                            "IR version %lld is not supported (ortc reads IR versions %d to %d)",
                            (long long)mp->ir_version, ORTC_MIN_IR_VERSION, ORTC_MAX_IR_VERSION);
    /* onnx.proto: "All ModelProtos MUST have at least one entry" in
     * opset_import; nodes of a domain that is not imported are refused in
     * build_node (the ONNX checker does the same). */
    if (!mp->n_opset_import)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "the model has no opset_import; IR version %lld requires one",
                            (long long)mp->ir_version);
    if (!mp->graph)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL, "the model has no graph");

    ortc_model *m = L->model;
    m->ir_version = mp->ir_version;
    m->model_version = mp->has_model_version ? mp->model_version : 0;
    if (replace_str(&m->producer_name, mp->producer_name) ||
        replace_str(&m->producer_version, mp->producer_version) ||
        replace_str(&m->domain, mp->domain) || replace_str(&m->doc, mp->doc_string) ||
        replace_str(&m->path, path))
        return oom(L);
    if (L->dir && !(m->dir = strdup(L->dir)))
        return oom(L);
    if (replace_str(&m->graph_doc, mp->graph ? mp->graph->doc_string : NULL))
        return oom(L);
    if (mp->n_metadata_props) {
        size_t n = mp->n_metadata_props;
        if (!(m->meta_keys = calloc(n, sizeof *m->meta_keys)) ||
            !(m->meta_values = calloc(n, sizeof *m->meta_values)))
            return oom(L);
        for (size_t i = 0; i < n; i++, m->n_meta++) {
            const Onnx__StringStringEntryProto *kv = mp->metadata_props[i];
            if (replace_str(&m->meta_keys[i], kv->key) ||
                replace_str(&m->meta_values[i], kv->value)) {
                m->n_meta++; /* ortc_model_free releases the pair */
                return oom(L);
            }
        }
    }

    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        const char *dom = is_ai_onnx(os->domain) ? "" : os->domain;
        const char *shown = *dom ? dom : "ai.onnx";
        if (!os->has_version || os->version < 1)
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "opset_import of domain '%s' has no valid version", shown);
        if (ortc_model_opset_version(m, dom) >= 0)
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "domain '%s' is imported twice in opset_import", shown);
        if (!*dom && os->version > ORTC_MAX_OPSET)
            return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                                "the model imports ai.onnx opset %lld; ortc implements opsets up "
                                "to %d",
                                (long long)os->version, ORTC_MAX_OPSET);
        if (ortc_model_add_opset(m, dom, os->version))
            return oom(L);
    }

    if (!(m->graph = ortc_graph_new(m, NULL, mp->graph->name)))
        return oom(L);
    return build_graph(L, mp->graph, m->graph, "");
}

/* Size checks, then the stripped unpack of src (its bytes at `data` when in
 * memory, else read from src->fd). */
static ortc_status unpack_model(const uint8_t *data, ortc_pb_source *src, Onnx__ModelProto **out,
                                ortc_errbuf *err)
{
    *out = NULL;
    if (src->size == 0)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "not a valid ONNX model (the %s is empty)", src->kind);
    if (src->size > INT32_MAX)
        return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "the %s is %llu bytes; protobuf limits a model to 2 GB, larger models "
                            "must keep their weights in external data",
                            src->kind, (unsigned long long)src->size);
    ProtobufCMessage *msg = NULL;
    ortc_status st =
        data ? ortc_pb_unpack_stripped(&onnx__model_proto__descriptor, data, (size_t)src->size,
                                       "ONNX model", src, &msg, err)
             : ortc_pb_unpack_fd(&onnx__model_proto__descriptor, "ONNX model", src, &msg, err);
    *out = (Onnx__ModelProto *)msg;
    return st;
}

/* Builds the IR (reading stripped payloads from src), frees the message and
 * src's blob list (whatever happens) and finalizes. */
static ortc_status build_and_finalize(Onnx__ModelProto *mp, ortc_pb_source *src, const char *path,
                                      const char *dir, ortc_model **out, ortc_errbuf *err)
{
    loader L = {ortc_model_new(), dir, src, err};
    ortc_status st = L.model ? build_model(&L, mp, path)
                             : ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    if (!st)
        st = ortc_pb_reads_run(src, err); /* the weights' bytes, all together */
    protobuf_c_message_free_unpacked(&mp->base, ortc_pb_allocator());
    free(src->blobs);
    src->blobs = NULL;
    src->n_blobs = 0;
    if (!st) {
        char msg[ORTC_ERR_MAX];
        msg[0] = '\0';
        st = ortc_graph_finalize(L.model->graph, msg, sizeof msg);
        if (st)
            ortc_err_set(err, st, "%s", msg);
    }
    if (st) {
        ortc_model_free(L.model);
        return st;
    }
    *out = L.model;
    return ORTC_STATUS_OK;
}

ortc_status ortc_onnx_load_buffer(ortc_model **out, const void *data, size_t size,
                                  const char *base_dir, ortc_errbuf *err)
{
    ortc_errbuf local;
    if (!err)
        err = &local;
    ortc_err_clear(err);
    if (!out)
        return ortc_err_set(err, ORTC_STATUS_INVALID_ARGUMENT,
                            "ortc_onnx_load_buffer: out is NULL");
    *out = NULL;
    if (!data && size)
        return ortc_err_set(err, ORTC_STATUS_INVALID_ARGUMENT,
                            "ortc_onnx_load_buffer: data is NULL but size is %zu", size);
    ortc_pb_source src = {data, -1, size, "buffer", NULL, 0, NULL, NULL};
    Onnx__ModelProto *mp = NULL;
    ortc_status st = unpack_model(data, &src, &mp, err);
    if (!st)
        st = build_and_finalize(mp, &src, "", base_dir, out, err);
    if (st)
        ortc_err_prefix(err, "<buffer>");
    return st;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* Opens a model file: a regular file, *fd open on success. */
static ortc_status open_model(const char *path, int *fd, uint64_t *size, ortc_errbuf *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        int e = errno;
        return ortc_err_set(err, e == ENOMEM ? ORTC_STATUS_OUT_OF_MEMORY : ORTC_STATUS_IO_ERROR,
                            "cannot open: %s", ortc_pb_strerror(e));
    }
    struct stat sb;
    if (fstat(*fd, &sb) != 0) {
        int e = errno;
        close(*fd);
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR, "cannot stat: %s", ortc_pb_strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(*fd);
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR, "%s",
                            S_ISDIR(sb.st_mode) ? "is a directory, not an .onnx file"
                                                : "is not a regular file");
    }
    *size = (uint64_t)sb.st_size;
    return ORTC_STATUS_OK;
}

ortc_status ortc_onnx_load_file(ortc_model **out, const char *path, ortc_errbuf *err)
{
    ortc_errbuf local;
    if (!err)
        err = &local;
    ortc_err_clear(err);
    if (!out || !path)
        return ortc_err_set(err, ORTC_STATUS_INVALID_ARGUMENT, "ortc_onnx_load_file: %s is NULL",
                            out ? "path" : "out");
    *out = NULL;
    ortc_pb_source src = {NULL, -1, 0, "file", NULL, 0, NULL, NULL};
    ortc_status st = open_model(path, &src.fd, &src.size, err);
    if (st) {
        ortc_err_prefix(err, "%s", path);
        return st;
    }
    /* weights read from the file can be read again (none when the process
     * is out of descriptors: they are then kept) */
    src.origin = ortc_const_origin_new(src.fd, src.size);
    src.reads = ortc_pb_reads_new(); /* NULL: each tensor read when made */
    Onnx__ModelProto *mp = NULL;
    st = unpack_model(NULL, &src, &mp, err);
    if (!st) {
        char *dir = dir_of(path);
        if (!dir) {
            protobuf_c_message_free_unpacked(&mp->base, ortc_pb_allocator());
            free(src.blobs);
            st = ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
        } else {
            st = build_and_finalize(mp, &src, path, dir, out, err);
            free(dir);
        }
    }
    close(src.fd);
    ortc_const_origin_unref(src.origin);
    ortc_pb_reads_free(src.reads);
    if (st)
        ortc_err_prefix(err, "%s", path);
    return st;
}
