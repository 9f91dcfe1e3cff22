/* ir_edit.c — graph rewrites used by the passes (see ir_edit.h). Pointer
 * surgery on nodes and values only: relinking and ordering are
 * ortc_graph_finalize's job, and no pass logic lives here.
 */
#include "ir_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operator.h"

char *ortc_ir_fresh_name(const ortc_graph *g, const char *base)
{
    size_t len = strlen(base) + 24;
    char *name = malloc(len);
    if (!name)
        return NULL;
    snprintf(name, len, "%s", base);
    for (unsigned long k = 1; ortc_graph_find_value(g, name); k++)
        snprintf(name, len, "%s_%lu", base, k);
    return name;
}

ortc_value *ortc_ir_new_value(ortc_graph *g, const char *base)
{
    char *name = ortc_ir_fresh_name(g, base);
    if (!name)
        return NULL;
    ortc_value *v = ortc_graph_get_value(g, name);
    free(name);
    return v;
}

ortc_value *ortc_ir_add_constant(ortc_graph *g, const char *base, ortc_const_tensor *t)
{
    ortc_value *v = ortc_ir_new_value(g, base);
    if (!v) {
        ortc_const_tensor_free(t);
        return NULL;
    }
    ortc_value_set_constant(v, t);
    return v;
}

void ortc_ir_drop_value(ortc_value *v)
{
    ortc_const_tensor_free(v->constant);
    v->constant = NULL;
    v->kind = ORTC_VALUE_INTERMEDIATE;
    v->producer = NULL;
    v->declared = false;
    ortc_value_set_shape(v, ORTC_DTYPE_UNDEFINED, -1, NULL);
}

static void renumber(ortc_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        g->nodes[i]->index = i;
}

int ortc_ir_insert_existing(ortc_graph *g, int pos, ortc_node *n)
{
    if (g->n_nodes + 1 > g->cap_nodes) {
        int nc = g->cap_nodes ? g->cap_nodes * 2 : 8;
        ortc_node **p = realloc(g->nodes, (size_t)nc * sizeof *p);
        if (!p)
            return -1;
        g->nodes = p;
        g->cap_nodes = nc;
    }
    if (pos < 0 || pos > g->n_nodes)
        pos = g->n_nodes;
    memmove(&g->nodes[pos + 1], &g->nodes[pos], (size_t)(g->n_nodes - pos) * sizeof *g->nodes);
    g->nodes[pos] = n;
    g->n_nodes++;
    renumber(g);
    return 0;
}

ortc_node *ortc_ir_insert_node(ortc_graph *g, int pos, const char *op_type, const char *domain,
                               const char *name, int n_inputs, int n_outputs)
{
    ortc_node *n = ortc_graph_add_node(g, op_type, domain, name, n_inputs, n_outputs);
    if (!n)
        return NULL;
    ortc_ir_detach_node(g, n); /* appended: move it to pos */
    if (ortc_ir_insert_existing(g, pos, n)) {
        ortc_node_free(n);
        return NULL;
    }
    n->op = n->opset > 0 ? ortc_registry_find(n->domain, n->op_type, n->opset) : NULL;
    return n;
}

void ortc_ir_detach_node(ortc_graph *g, ortc_node *n)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == n) {
            memmove(&g->nodes[i], &g->nodes[i + 1],
                    (size_t)(g->n_nodes - i - 1) * sizeof *g->nodes);
            g->n_nodes--;
            break;
        }
    renumber(g);
}

void ortc_ir_remove_node(ortc_graph *g, ortc_node *n)
{
    ortc_ir_detach_node(g, n);
    ortc_node_free(n);
}

int ortc_ir_set_input_count(ortc_node *n, int count)
{
    if (count <= n->n_inputs)
        return 0;
    /* one spare slot, as ortc_graph_add_node allocates */
    ortc_value **p = realloc(n->inputs, (size_t)(count + 1) * sizeof *p);
    if (!p)
        return -1;
    for (int i = n->n_inputs; i <= count; i++)
        p[i] = NULL;
    n->inputs = p;
    n->n_inputs = count;
    return 0;
}

static void replace_in_graph(ortc_graph *g, const ortc_value *old, ortc_value *nw, bool outputs)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] == old)
                n->inputs[k] = nw;
        ortc_subgraph_it it = {0};
        for (ortc_graph *sg; (sg = ortc_node_next_subgraph(n, &it));)
            replace_in_graph(sg, old, nw, true);
    }
    /* a subgraph may pass an enclosing graph's value straight out */
    for (int k = 0; outputs && k < g->n_outputs; k++)
        if (g->outputs[k] == old)
            g->outputs[k] = nw;
}

void ortc_ir_replace_uses(ortc_graph *g, const ortc_value *old, ortc_value *nw)
{
    replace_in_graph(g, old, nw, false);
}

bool ortc_ir_forward_value(ortc_graph *g, ortc_value *out, ortc_value *src)
{
    if (!out->is_output) {
        ortc_ir_replace_uses(g, out, src);
        return true;
    }
    if (src->is_output || src->graph != g || src->kind != ORTC_VALUE_INTERMEDIATE || !src->producer)
        return false;
    ortc_node *p = src->producer;
    p->outputs[src->producer_output] = out;
    ortc_ir_replace_uses(g, src, out);
    src->producer = NULL;
    return true;
}
