/* model.c — the public model API: load (via onnx/), inspect, and resolve
 * nodes to operators. Loading never compiles or allocates activations.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "loader.h"
#include "session_impl.h"

/* Counts nodes and checks nesting and attribute sizes against the limits
 * of ortc.h; 0 or an error in err. */
static ortc_status check_limits(const ortc_model *m, const ortc_graph *g, int depth, long *nodes,
                                ortc_errbuf *err)
{
    const char *file = m->path[0] ? m->path : "model";
    if (depth > ORTC_MAX_SUBGRAPH_DEPTH)
        return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "%s: subgraphs nested deeper than %d (graph '%s')", file,
                            ORTC_MAX_SUBGRAPH_DEPTH, g->name);
    *nodes += g->n_nodes;
    if (*nodes > ORTC_MAX_NODES)
        return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED, "%s: more than %d nodes", file,
                            ORTC_MAX_NODES);
    for (int i = 0; i < g->n_nodes; i++) {
        const ortc_node *n = g->nodes[i];
        for (int a = 0; a < n->n_attrs; a++) {
            const ortc_attr *at = &n->attrs[a];
            long long bytes = (long long)at->s_len + (long long)at->n * 8;
            if (bytes > ORTC_MAX_ATTR_BYTES)
                return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED,
                                    "%s: node '%s' (%s) attribute '%s' holds %lld bytes, above "
                                    "the limit of %lld",
                                    file, n->name, n->op_type, at->name, bytes,
                                    (long long)ORTC_MAX_ATTR_BYTES);
        }
        ortc_subgraph_it it = {0};
        for (const ortc_graph *sg; (sg = ortc_node_next_subgraph(n, &it));) {
            ORTC_TRY(check_limits(m, sg, depth + 1, nodes, err));
        }
    }
    return ORTC_STATUS_OK;
}

static ortc_status finish_load(ortc_model **out, ortc_errbuf *err)
{
    ortc_model *m = *out;
    long nodes = 0;
    ortc_status lst = m->graph ? check_limits(m, m->graph, 0, &nodes, err) : ORTC_STATUS_OK;
    if (lst) {
        ortc_model_free(m);
        *out = NULL;
        return ortc_err_publish(err);
    }
    /* resolution failures are reported by ortc_model_check_supported and
     * session creation; loading an unsupported model for `ortc info` is fine */
    ortc_errbuf tmp;
    ortc_err_clear(&tmp);
    if (ortc_model_resolve(m, &tmp) == ORTC_STATUS_OUT_OF_MEMORY) {
        ortc_model_free(m);
        *out = NULL;
        return ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory resolving operators");
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_load(ortc_model **out, const char *path)
{
    ortc_errbuf err;
    if (!out || !path) {
        if (out)
            *out = NULL;
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "ortc_model_load: NULL argument");
    }
    ortc_status st = ortc_onnx_load_file(out, path, &err);
    if (st)
        return ortc_err_publish(&err);
    return finish_load(out, &err);
}

ortc_status ortc_model_load_buffer(ortc_model **out, const void *data, size_t size,
                                   const char *base_dir)
{
    ortc_errbuf err;
    if (!out || (!data && size)) {
        if (out)
            *out = NULL;
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "ortc_model_load_buffer: NULL argument");
    }
    ortc_status st = ortc_onnx_load_buffer(out, data, size, base_dir, &err);
    if (st)
        return ortc_err_publish(&err);
    return finish_load(out, &err);
}

static void count_constants(const ortc_graph *g, ortc_model_info *info)
{
    for (int i = 0; i < g->n_values; i++) {
        const ortc_value *v = g->values[i];
        if (v->kind != ORTC_VALUE_CONSTANT || !v->constant)
            continue;
        info->n_initializers++;
        int64_t n = ortc_tensor_numel(&v->constant->t);
        if (n > 0) {
            info->n_parameters += n;
            info->parameter_bytes += (int64_t)ortc_tensor_bytes(&v->constant->t);
        }
    }
}

void ortc_model_get_info(const ortc_model *m, ortc_model_info *info)
{
    memset(info, 0, sizeof *info);
    if (!m)
        return;
    info->ir_version = m->ir_version;
    info->producer_name = m->producer_name;
    info->producer_version = m->producer_version;
    info->graph_name = m->graph ? m->graph->name : "";
    info->model_version = m->model_version;
    info->domain = m->domain;
    info->doc_string = m->doc;
    info->graph_doc_string = m->graph_doc;
    info->n_metadata = (size_t)m->n_meta;
    info->n_opsets = (size_t)m->n_opsets;
    if (m->graph) {
        info->n_nodes = (size_t)m->graph->n_nodes;
        count_constants(m->graph, info);
    }
}

ortc_status ortc_model_opset(const ortc_model *m, size_t i, const char **domain, int64_t *version)
{
    if (!m || i >= (size_t)m->n_opsets)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "opset index %zu out of range", i);
    if (domain)
        *domain = m->opsets[i].domain;
    if (version)
        *version = m->opsets[i].version;
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_node(const ortc_model *m, size_t i, const char **op_type,
                            const char **domain, const char **name)
{
    if (!m || !m->graph || i >= (size_t)m->graph->n_nodes)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "node index %zu out of range", i);
    const ortc_node *n = m->graph->nodes[i];
    if (op_type)
        *op_type = n->op_type;
    if (domain)
        *domain = n->domain;
    if (name)
        *name = n->name;
    return ORTC_STATUS_OK;
}

void ortc_value_to_info(const ortc_value *v, ortc_value_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = v->name;
    info->dtype = v->dtype;
    info->rank = v->rank;
    for (int d = 0; d < ORTC_MAX_RANK; d++) {
        info->dims[d] = d < v->rank ? v->dims[d].value : 0;
        info->dim_params[d] = d < v->rank ? v->dims[d].param : NULL;
    }
}

size_t ortc_model_input_count(const ortc_model *m)
{
    return m && m->graph ? (size_t)m->graph->n_inputs : 0;
}

size_t ortc_model_output_count(const ortc_model *m)
{
    return m && m->graph ? (size_t)m->graph->n_outputs : 0;
}

ortc_status ortc_model_input(const ortc_model *m, size_t i, ortc_value_info *info)
{
    if (i >= ortc_model_input_count(m))
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "input index %zu out of range", i);
    ortc_value_to_info(m->graph->inputs[i], info);
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_output(const ortc_model *m, size_t i, ortc_value_info *info)
{
    if (i >= ortc_model_output_count(m))
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "output index %zu out of range", i);
    ortc_value_to_info(m->graph->outputs[i], info);
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_input_type(const ortc_model *m, size_t i, ortc_type *type)
{
    if (i >= ortc_model_input_count(m) || !type)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            type ? "input index %zu out of range" : "input %zu: NULL type", i);
    *type = m->graph->inputs[i]->type;
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_output_type(const ortc_model *m, size_t i, ortc_type *type)
{
    if (i >= ortc_model_output_count(m) || !type)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            type ? "output index %zu out of range" : "output %zu: NULL type", i);
    *type = m->graph->outputs[i]->type;
    return ORTC_STATUS_OK;
}

/* Resolves nodes of g and its subgraphs; appends unresolved ones to list. */
static void resolve_graph(ortc_graph *g, char *list, size_t len, int *missing)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        n->op = n->opset > 0 ? ortc_registry_find(n->domain, n->op_type, n->opset) : NULL;
        if (!n->op) {
            const char *why = n->opset <= 0 ? "its domain is not imported by the model"
                              : ortc_registry_knows(n->domain, n->op_type)
                                  ? "not implemented at this opset"
                                  : "not implemented";
            ortc_strbuf_append(list, len, "%s%s (domain '%s', opset %d) at node '%s': %s",
                               *missing ? "; " : " ", n->op_type,
                               n->domain[0] ? n->domain : "ai.onnx", n->opset, n->name, why);
            (*missing)++;
        }
        ortc_subgraph_it it = {0};
        for (ortc_graph *sg; (sg = ortc_node_next_subgraph(n, &it));)
            resolve_graph(sg, list, len, missing);
    }
}

ortc_status ortc_model_resolve(ortc_model *m, ortc_errbuf *err)
{
    char list[ORTC_ERR_MAX - 256];
    list[0] = '\0';
    int missing = 0;
    if (m->graph)
        resolve_graph(m->graph, list, sizeof list, &missing);
    if (missing)
        return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                            "%s: %d node%s use%s unsupported operators:%s",
                            m->path[0] ? m->path : "model", missing, missing == 1 ? "" : "s",
                            missing == 1 ? "s" : "", list);
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_check_supported(const ortc_model *m)
{
    if (!m)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL model");
    return ortc_model_resolve((ortc_model *)m, NULL);
}

static void collect_unsupported(const ortc_graph *g, ortc_unsupported *out, size_t max, size_t *n)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const ortc_node *nd = g->nodes[i];
        if (!nd->op) {
            if (*n < max)
                out[*n] = (ortc_unsupported){nd->op_type, nd->domain, nd->name, nd->opset};
            (*n)++;
        }
        ortc_subgraph_it it = {0};
        for (const ortc_graph *sg; (sg = ortc_node_next_subgraph(nd, &it));)
            collect_unsupported(sg, out, max, n);
    }
}

size_t ortc_model_unsupported(const ortc_model *m, ortc_unsupported *out, size_t max)
{
    size_t n = 0;
    if (m && m->graph)
        collect_unsupported(m->graph, out, out ? max : 0, &n);
    return n;
}
