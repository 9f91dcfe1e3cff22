/* helper_cases.h — what the operator case files (cases_ops_*.c) share on
 * top of helper_ops.h and helper_common.h: dtype shorthands, random inputs, the tolerances of
 * oneDNN against the reference kernels, and checks of an op_case: its
 * outputs, its error, and whether a oneDNN primitive ran. Named as the case
 * files have long called them.
 */
#ifndef ORTC_TEST_HELPER_CASES_H
#define ORTC_TEST_HELPER_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "helper_common.h"
#include "helper_ops.h"

#define F32 ORTC_DTYPE_FLOAT
#define F64 ORTC_DTYPE_DOUBLE
#define F16 ORTC_DTYPE_FLOAT16
#define BF16 ORTC_DTYPE_BFLOAT16
#define I8 ORTC_DTYPE_INT8
#define I16 ORTC_DTYPE_INT16
#define I32 ORTC_DTYPE_INT32
#define I64 ORTC_DTYPE_INT64
#define U8 ORTC_DTYPE_UINT8
#define U16 ORTC_DTYPE_UINT16
#define U32 ORTC_DTYPE_UINT32
#define U64 ORTC_DTYPE_UINT64
#define BOOL ORTC_DTYPE_BOOL
#define STR ORTC_DTYPE_STRING
#define C128 ORTC_DTYPE_COMPLEX128
#define OK ORTC_STATUS_OK

#define THREADS 2 /* of the oneDNN backend in prepare+run */
#define N_OF(a) (int)(sizeof(a) / sizeof *(a))

/* Which path a run must take: a oneDNN primitive, the plain-C kernel, either. */
enum { PATH_ANY = -1, PATH_PLAIN = 0, PATH_DNNL = 1 };

/* ---- tolerances ------------------------------------------------------------
 * Random inputs are uniform in [-1, 1], so every product in a dot product
 * has magnitude <= 1. The reference accumulates in double; oneDNN in float,
 * in its own order. A float sum of k such terms is off by at most about
 * k * eps * (largest partial sum); with random signs partial sums stay near
 * sqrt(k), so k * eps (eps = 1.19e-7) is a safe but still meaningful bound:
 * a dropped term, a wrong index or a wrong pad costs O(0.01..1). The
 * relative part (1e-5, ~100 ulp) covers transcendental approximations
 * (exp in Softmax, pow in LRN) and large outputs. */
#define RTOL 1e-5
double atol_sum(int64_t k); /* k * eps, at least eps */

/* ---- data --------------------------------------------------------------- */

int64_t numel_of(int rank, const int64_t *dims);
/* n floats uniform in [lo, hi) (opc_fill_uniform), malloc'd: free them. */
float *rand_f32(int64_t n, float lo, float hi, uint64_t *seed);
/* x: 0, 1, 2, ... as float */
void iota_f32(float *x, int64_t n);
bool any_nonzero(const int64_t *v, int n);

/* ---- running ---------------------------------------------------------------- */

/* Runs c (reference 1: the reference kernel; 0: prepare + run on THREADS
 * threads), which must succeed; `path` says whether the run must execute a
 * oneDNN primitive (PATH_DNNL), must not (PATH_PLAIN), or may (PATH_ANY).
 * Returns how many primitives ran. */
uint64_t run_checked(op_case *c, int reference, int path, const char *what);
/* Runs c on one thread, which must succeed; returns 1 (for FOR_BOTH_MODES). */
int run_ok(op_case *c, int reference);
/* The body runs after run without prepare (as in reference mode) and again
 * after prepare + run (views skip run; the harness then copies the input). */
#define FOR_BOTH_MODES(c, mode) for (int mode = 1; mode >= 0 && run_ok(c, mode); mode--)
/* infer + prepare on a hand-built context (no backend): what prepare
 * declared for output 0 (-1: nothing): the input it is a view of, the
 * input it may overwrite. */
void declared(op_case *c, int *view, int *inplace);
int declared_view(op_case *c); /* declared's view */

/* ---- checks ------------------------------------------------------------------ */

/* Output 0's rank and dims. */
void check_shape(const op_case *c, int rank, const int64_t *dims, const char *what);
/* |got - exp| <= atol + rtol |exp| everywhere, where equal values (also
 * equal infinities) and NaN against NaN pass; otherwise fails naming the
 * worst element, with x[i] when x is not NULL (the input of an
 * element-wise op). */
void assert_close_x(const float *got, const float *exp, const float *x, int64_t n, double rtol,
                    double atol, const char *what);
/* Both the reference kernel (plain C) and prepare+run (taking `path`) must
 * produce output 0 of shape (rank, dims) equal to exp within tol (rtol =
 * atol). */
void expect_both(op_case *c, const float *exp, int rank, const int64_t *dims, double tol, int path,
                 const char *what);
/* The reference kernel (plain C), then prepare+run (taking `path`): float32
 * outputs 0..n_out-1 must have the same shapes and agree within rtol/atol. */
void compare_paths_n(op_case *c, int n_out, double rtol, double atol, int path, const char *what);
/* compare_paths_n on output 0. */
void compare_paths(op_case *c, double rtol, double atol, int path, const char *what);
/* The reference run (infer first) must fail with `want`, naming node n0
 * and containing `needle` (NULL: any message). */
void expect_error(op_case *c, ortc_status want, const char *needle, const char *what);
/* A run's status `got` must be `want`, its message naming node n0 and
 * containing `fact`. */
void expect_status(op_case *c, ortc_status got, ortc_status want, const char *fact);
/* t must have dtype and shape (rank, dims). */
void expect_shape(const ortc_tensor *t, ortc_dtype dtype, int rank, const int64_t *dims,
                  const char *what);
/* Exact comparison (bitwise; strings by content); on failure names how many
 * elements differ and the first one with both values. */
void expect_data(const ortc_tensor *t, ortc_dtype dtype, const void *exp, int64_t n,
                 const char *what);

#endif
