/* ir_edit.h — small rewrites of a graph for the passes: fresh names, new
 * constants, inserting/removing/moving nodes, redirecting the readers of a
 * value. They edit node slots only; producers, uses and order are stale
 * until the caller runs ortc_graph_finalize. Private.
 */
#ifndef ORTC_IR_EDIT_H
#define ORTC_IR_EDIT_H

#include <stdbool.h>

#include "ir.h"

/* A value name not yet used in g or its enclosing graphs: `base` itself
 * when free, else base + "_1", "_2", ... (malloc'd; NULL on OOM). */
char *ortc_ir_fresh_name(const ortc_graph *g, const char *base);

/* A new intermediate value of g named after `base` (see above); NULL on OOM. */
ortc_value *ortc_ir_new_value(ortc_graph *g, const char *base);

/* A new constant value of g holding t (ownership moves to the value, also
 * on failure, when t is freed). NULL on OOM. */
ortc_value *ortc_ir_add_constant(ortc_graph *g, const char *base, ortc_const_tensor *t);

/* Frees a constant's data and leaves v as an orphan (kind INTERMEDIATE, no
 * producer, unknown shape): it must no longer be read. */
void ortc_ir_drop_value(ortc_value *v);

/* Inserts a new node at position pos (0..n_nodes) of g and resolves its
 * operator at the model's opset (op stays NULL when unknown). NULL on OOM. */
ortc_node *ortc_ir_insert_node(ortc_graph *g, int pos, const char *op_type, const char *domain,
                               const char *name, int n_inputs, int n_outputs);
/* Inserts an existing node (taken from another graph) at pos. 0 / -1 (OOM). */
int ortc_ir_insert_existing(ortc_graph *g, int pos, ortc_node *n);
/* Takes n out of g's node list without freeing it. */
void ortc_ir_detach_node(ortc_graph *g, ortc_node *n);
/* Detaches n from g and frees it (attributes and subgraphs included). */
void ortc_ir_remove_node(ortc_graph *g, ortc_node *n);

/* Grows (never shrinks) n's input slots to `count`; new slots are NULL.
 * 0 / -1 (OOM). */
int ortc_ir_set_input_count(ortc_node *n, int count);

/* Every node input of g and of its subgraphs (and every subgraph output)
 * that reads `old` reads `nw` instead. g's own output list is untouched. */
void ortc_ir_replace_uses(ortc_graph *g, const ortc_value *old, ortc_value *nw);

/* `out` is about to lose its producer and holds the same data as `src`:
 * make every reader of `out` read `src`. When `out` is a graph output its
 * name must survive, so `src`'s producer is made to write `out` instead (and
 * src's readers read out). Returns false, changing nothing, when that is
 * impossible (out is a graph output and src is an input, a constant, a
 * graph output itself or not produced in g): the caller keeps a copy. Needs
 * producers linked (a finalized graph). */
bool ortc_ir_forward_value(ortc_graph *g, ortc_value *out, ortc_value *src);

#endif
