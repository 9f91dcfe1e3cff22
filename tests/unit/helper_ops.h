/* helper_ops.h — drive one operator in isolation for unit tests: build a
 * one-node graph, run infer/prepare/run (or the reference kernel) on given
 * inputs, and compare float outputs with a worst-element report.
 */
#ifndef ORTC_TEST_HELPER_OPS_H
#define ORTC_TEST_HELPER_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "ir.h"
#include "operator.h"
#include "ortc/ortc.h"

#define OPC_MAX_IO 16

typedef struct op_case {
    ortc_model *model;
    ortc_graph *g;
    ortc_node *node;
    ortc_tensor in[OPC_MAX_IO];
    bool in_const[OPC_MAX_IO];   /* data visible to infer/prepare */
    ortc_tensor out[OPC_MAX_IO]; /* data malloc'd by opc_run, freed by opc_free */
    ortc_errbuf err;
} op_case;

/* A node `op_type` in domain "" at `opset` with n_in inputs and n_out
 * outputs named in0.. / out0.. . Add attributes with opc_attr_*. */
op_case *opc_new(const char *op_type, int opset, int n_in, int n_out);
void opc_free(op_case *c);

void opc_attr_int(op_case *c, const char *name, int64_t v);
void opc_attr_float(op_case *c, const char *name, float v);
void opc_attr_string(op_case *c, const char *name, const char *v);
void opc_attr_ints(op_case *c, const char *name, const int64_t *v, size_t n);
void opc_attr_floats(op_case *c, const char *name, const float *v, size_t n);

/* Input i: the harness copies nothing; `data` must outlive opc_run.
 * constant=true makes the data visible at infer/prepare time, as for an
 * initializer. Pass dtype UNDEFINED to leave input i omitted. */
void opc_input(op_case *c, int i, ortc_dtype dtype, int rank, const int64_t *dims, const void *data,
               bool constant);

/* Gives node n typed fused post-ops (runtime/ir.h) from a test shorthand:
 * a comma-separated list of "name" or "name:alpha[:beta]", names as
 * ortc_post_op_name ("relu,sum,clip:0:1.5"). */
void opc_set_post_ops(ortc_node *n, const char *list);
/* Runs the op through the runtime's evaluation of one node (eval.h), as
 * a plan would: infer (with the runtime's output checks) seeing constant
 * inputs' data, then reference=1: op->reference without prepare (plain-C
 * ops: prepare+run without a backend, as in reference mode); reference=0:
 * prepare+run with a oneDNN backend on `threads` threads. Outputs land in
 * c->out. Returns the status; on error c->err.msg says why. May be called
 * repeatedly. */
ortc_status opc_run(op_case *c, int reference, int threads);

/* Random floats in [lo, hi) from a small deterministic generator. */
void opc_fill_uniform(float *x, int64_t n, float lo, float hi, uint64_t *seed);

/* Passes when |got-exp| <= atol + rtol*|exp| everywhere; otherwise fails
 * the Check test naming `what`, the worst index, got and expected. */
void opc_assert_close(const float *got, const float *exp, int64_t n, double rtol, double atol,
                      const char *what);

#endif
