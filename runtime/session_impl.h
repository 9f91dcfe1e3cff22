/* session_impl.h — what a session and its compiled plans are made of:
 * per-value tensors and memory bindings, the step list, the arena. Shared by
 * model.c, compile.c and session.c. Private.
 */
#ifndef ORTC_SESSION_IMPL_H
#define ORTC_SESSION_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "ir.h"
#include "operator.h"
#include "planner.h"
#include "ortc/ortc.h"
#include "pool.h"

/* Where a value's bytes live during a run. */
typedef enum ortc_bind_kind {
    ORTC_BIND_NONE = 0, /* never materialised (unused optional output) */
    ORTC_BIND_CONST,    /* constant or folded at compile time: fixed pointer */
    ORTC_BIND_ARENA,    /* activation: arena + offset */
    ORTC_BIND_INPUT,    /* the caller's input tensor `index` */
    ORTC_BIND_OUTPUT,   /* the caller's output tensor `index` */
    ORTC_BIND_OUTER,    /* subgraph plans: the enclosing plan's tensor outer_src[index] */
    /* values whose size is known only at run time (segment.c): */
    ORTC_BIND_DYNAMIC,  /* made by its step at run time in the run's pool */
    ORTC_BIND_DEFERRED, /* computed by a continuation (its node is deferred) */
    ORTC_BIND_PREFIX    /* continuations: the prefix plan's tensor of slot `index` */
} ortc_bind_kind;

typedef struct ortc_binding {
    ortc_bind_kind kind;
    int index;
    size_t offset;
    void *ptr;
} ortc_binding;

typedef struct ortc_step {
    ortc_node *node;
    ortc_opctx ctx;
    bool use_reference; /* call op->reference instead of run */
    bool skip;          /* every output is a view: nothing to compute */
} ortc_step;

/* What a concurrent run needs of its own besides the shared plan: the
 * values' tensors, the steps' contexts (pointing at those tensors), arena
 * and scratch. Context 0 is the plan itself; others are made by
 * ortc_exec_create when runs overlap, together with context k of every
 * sub-plan (kept in the sub-plan's exec[k]). */
typedef struct ortc_exec {
    int id;                  /* 1 .. ORTC_MAX_CONTEXTS-1 */
    ortc_tensor *tensors;    /* [slots] */
    ortc_opctx *ctx;         /* [n_steps] */
    ortc_tensor **ptr_pool;  /* the ctx in/out arrays */
    ortc_tensor **outer_src; /* [n_outer] */
    ortc_tensor *prefix_src; /* continuations: the prefix's tensors in this context */
    void *arena, *scratch;
    ortc_errbuf err;
} ortc_exec;

/* A continuation of a plan (segment.c): the plan of its deferred nodes
 * compiled for the shapes (and, for values shapes depend on, contents) the
 * cut values had when it was compiled; those are its key, kept in the
 * continuation plan's tensors (and owned data) of the cut slots. */
typedef struct ortc_cont {
    struct ortc_plan *plan;
    uint64_t last_used;
    int n_busy; /* runs executing it (under the session lock) */
} ortc_cont;

typedef struct ortc_plan {
    const ortc_graph *graph;
    ortc_session *session; /* that compiled it */
    /* values of enclosing graphs this (sub)graph reads, and where the
     * enclosing plan keeps them; their slots follow the graph's own values */
    int n_outer;
    ortc_value **outer;
    ortc_tensor **outer_src;

    /* key: the inputs' dtype/rank/dims, plus the bytes of inputs whose
     * values shapes depend on (key.data then points to an owned copy) */
    int n_inputs;
    ortc_tensor *key;
    size_t *key_bytes;

    int n_values;         /* of `graph`; slots = n_values + n_outer */
    ortc_tensor *tensors; /* runtime tensor per slot */
    /* each slot's dtype and shape as compiled (a run rewrites the data in
     * tensors, and the shape of a value of data-dependent size); dims -1
     * where only a run tells */
    ortc_tensor *shapes;
    ortc_layout *layouts;
    ortc_binding *bind;
    void **owned; /* folded values' buffers */
    bool *is_static;

    int n_steps;
    ortc_step *steps;
    /* storage behind the steps' ctx arrays */
    ortc_tensor **ptr_pool;
    ortc_layout **layout_pool;
    int *int_pool;
    bool *bool_pool;

    void *arena;
    void *scratch;
    struct ortc_poison *poison; /* ASan builds: poison.h's schedule (else NULL) */
    ortc_plan_stats stats;
    /* the arena's buffers as planned, by first step (for
     * ortc_session_plan_buffers): slot of the value each was made for and
     * how many values it holds */
    int n_buffers;
    ortc_plan_buffer *buffers;
    int *buffer_value, *buffer_n_values;
    uint64_t last_used;
    /* concurrency: execution contexts ([0] unused: the plan's own); for
     * top-level plans also which are running */
    ortc_exec *exec[ORTC_MAX_CONTEXTS];
    bool busy[ORTC_MAX_CONTEXTS];
    int n_busy;
    ortc_errbuf run_err; /* context 0's kernel errors */
    /* sub-plans its steps' operators compiled (subgraph.c), and the plan
     * that compiled this one (NULL: top level) */
    struct ortc_plan **subplans;
    int n_subplans;
    struct ortc_plan *parent;

    /* Values whose size is known only at run time (segment.c). The
     * top-level plan (root) owns a pool per execution context; every plan
     * nested in it uses the root's. */
    struct ortc_plan *root;
    ortc_pool *pools; /* root: [ORTC_MAX_CONTEXTS]; others NULL */
    /* root: [ORTC_MAX_CONTEXTS], aligned copies of the caller's tensors
     * where they are not 64-byte aligned (session.c, stage_io); others NULL */
    ortc_pool *stage;
    /* Nodes that read a value of data-dependent size they cannot take (or
     * a shape-determining input known only at run time), and every node
     * after them that depends on them: deferred to a continuation, compiled
     * at run time for the cut values' shapes. */
    ortc_node **deferred;
    int n_deferred;
    int *cut_slots; /* slots whose run-time shape keys the continuation */
    bool *cut_data; /* [n_cut]: its contents too (a shape-determining input) */
    int n_cut;
    ortc_cont **conts; /* compiled continuations, at most opts.max_plans */
    int n_conts;
    /* a continuation: the plan it continues, whose tensors (context 0)
     * its PREFIX slots read */
    const struct ortc_plan *prefix;
    ortc_tensor *prefix_src;
} ortc_plan;

struct ortc_session {
    ortc_model *model;
    ortc_options opts;
    struct ortc_backend *backend; /* NULL until first needed */
    ortc_errbuf err;
    /* what plan steps are asked to compute in: opts.precision where the CPU
     * and the options allow it, else fp32 (session_precision) */
    ortc_precision precision;
    bool *key_data_input; /* [n_inputs]: shapes depend on this input's values */
    ortc_plan **plans;
    int n_plans;
    ortc_plan *last;
    uint64_t tick;
    /* concurrent runs: plan cache, contexts and compiling under `lock` */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int max_contexts;
    /* profiling (ortc_session_set_profiling): per-step times of the last run */
    bool profiling;
    size_t prof_cap;            /* steps the buffers below hold */
    double *prof_start_ms;      /* [prof_cap] */
    double *prof_ms;            /* [prof_cap] */
    const ortc_plan *prof_plan; /* the plan of the last profiled run; NULL: none */
};

/* model.c: resolve every node (recursively) against the registry; returns
 * UNSUPPORTED listing all unresolved nodes in err. */
ortc_status ortc_model_resolve(ortc_model *m, ortc_errbuf *err);

/* What a plan is compiled from. */
typedef struct ortc_plan_src {
    const ortc_graph *graph;
    /* [graph->n_inputs] dtype and shape of each input (NULL: a graph
     * without inputs); key_data[i] (key_data may be NULL): input i's
     * contents determine shapes, so inputs[i].data is read, copied into the
     * plan's key and known at compile time */
    const ortc_tensor *inputs;
    const bool *key_data;
    /* values of enclosing graphs the graph reads, where the enclosing plan
     * keeps them, and which of them are known at compile time */
    int n_outer;
    ortc_value *const *outer;
    ortc_tensor **outer_src;
    const bool *outer_static;
    ortc_layout *const *outer_layouts; /* their types (NULL: static tensors) */
    /* [graph->n_inputs] each input's type and whether it is dynamic (NULL:
     * static tensors as `inputs` gives them; a top-level plan takes them
     * from the graph's declared types) */
    const ortc_layout *input_layouts;
    /* the top-level plan this one is nested in (NULL: this is one) */
    struct ortc_plan *root;
    /* a continuation: the plan whose deferred nodes to compile, and its
     * tensors in the running context (the cut values' shapes and data) */
    const struct ortc_plan *prefix;
    const ortc_tensor *prefix_src;
} ortc_plan_src;

/* compile.c: builds a plan of src's graph; errors in s->err. */
ortc_status ortc_plan_compile_src(ortc_session *s, const ortc_plan_src *src, ortc_plan **out);
/* The plan of the model's graph for these inputs (already checked for
 * count and non-NULL data where needed). */
ortc_status ortc_plan_compile(ortc_session *s, const ortc_tensor *inputs, ortc_plan **out);
void ortc_plan_free(ortc_plan *p);
/* Marks graph inputs whose contents determine shapes (s->key_data_input). */
ortc_status ortc_session_find_key_inputs(ortc_session *s);
/* Slot of value v in plan p (its own values, then outer ones); -1 if p
 * does not see v. */
int ortc_plan_slot(const ortc_plan *p, const ortc_value *v);

/* executor.c: runs a compiled plan in context e (NULL: the plan's own);
 * inputs/outputs as in ortc_session_run (outputs' data set by the caller).
 * No allocation. Kernel errors land in the context's error buffer. */
ortc_status ortc_plan_execute(ortc_session *s, ortc_plan *p, ortc_exec *e,
                              const ortc_tensor *inputs, ortc_tensor *outputs);
/* The same with the tensors given by pointer (sub-plans). */
ortc_status ortc_plan_execute_ptrs(ortc_session *s, ortc_plan *p, ortc_exec *e,
                                   ortc_tensor *const *inputs, ortc_tensor *const *outputs);
/* Context 0, timing each step into start_ms[i] / ms[i] (p->n_steps entries). */
ortc_status ortc_plan_execute_profiled(ortc_session *s, ortc_plan *p, const ortc_tensor *inputs,
                                       ortc_tensor *outputs, double *start_ms, double *ms);
/* The error buffer a failed ortc_plan_execute wrote. */
const ortc_errbuf *ortc_exec_error(const ortc_plan *p, const ortc_exec *e);

/* contexts.c: a new execution context k of plan p, with context k of
 * every sub-plan (in its exec[k]); outer_src: where p's outer values live
 * in the enclosing context (NULL for a top-level plan). NULL when out of
 * memory. */
ortc_exec *ortc_exec_create(ortc_plan *p, int k, ortc_tensor **outer_src);
/* Frees e and context e->id of p's sub-plans. */
void ortc_exec_free(ortc_plan *p, ortc_exec *e);

/* subgraph.c: the subgraph services given to operators (operator.h). */
extern const ortc_subgraph_services ortc_plan_subgraphs;

/* segment.c: runs the continuation of p (p->n_deferred > 0) in context e
 * (NULL: 0) after p's steps: finds the one compiled for the cut values'
 * current shapes, or compiles it (under the session lock), and executes
 * it; the graph outputs it computes are published into p's tensors. Errors
 * in e's error buffer. */
ortc_status ortc_segment_continue(ortc_session *s, ortc_plan *p, ortc_exec *e);
/* Frees p's continuations (at ortc_plan_free). */
void ortc_segment_free(ortc_plan *p);
/* Frees context k of p's continuations (at ortc_exec_free). */
void ortc_segment_free_context(ortc_plan *p, int k);
/* Whether graph output k of p is of data-dependent size (its value is
 * dynamic or computed by a continuation). */
bool ortc_plan_output_dynamic(const ortc_plan *p, int k);
/* The type of graph output k of p (a continuation's: as declared). */
ortc_type ortc_plan_output_type(const ortc_plan *p, int k);

/* Convenience: value_info of a graph value. */
void ortc_value_to_info(const ortc_value *v, ortc_value_info *info);

#endif
