/* cases.h — groups of Check test cases that live in their own files and are
 * added to a module's runner (test_operators.c adds both operator groups).
 */
#ifndef ORTC_TEST_CASES_H
#define ORTC_TEST_CASES_H

#include <check.h>

/* cases_ops_dnnl.c: oneDNN-backed operators against their reference kernels. */
void ortc_cases_ops_dnnl(Suite *s);
/* cases_ops_plain.c: plain-C operators (shape manipulation, Gather, Cast...). */
void ortc_cases_ops_plain(Suite *s);
/* cases_ops_eltwise.c: unary/activation ops (Sigmoid, Clip, Exp, trig, ...). */
void ortc_cases_ops_eltwise(Suite *s);
/* cases_ops_binary.c: Pow, Min/Max/Mean/Sum, comparisons, logic, Where, Mod. */
void ortc_cases_ops_binary(Suite *s);
/* cases_ops_layout.c: Split, Slice, Transpose, Pad, Expand, Range, Tile, ... */
void ortc_cases_ops_layout(Suite *s);
/* cases_ops_reduce.c: reductions, ArgMax/ArgMin, normalizations, LogSoftmax. */
void ortc_cases_ops_reduce(Suite *s);
/* cases_ops_deconv.c: ConvTranspose, Resize, Upsample. */
void ortc_cases_ops_deconv(Suite *s);
/* cases_ops_perf.c: post-ops, blocked layouts, fully connected paths. */
void ortc_cases_ops_perf(Suite *s);
/* cases_ops_wino5.c: the 5x5 Winograd kernel against the direct convolution. */
void ortc_cases_ops_wino5(Suite *s);
/* cases_dnnl_wino.c: Winograd weight packing (dnnl_wino.c) against oneDNN's reorder. */
void ortc_cases_dnnl_wino(Suite *s);
/* cases_dnnl_serial.c: which oneDNN steps run on one thread (dnnl_util.c). */
void ortc_cases_dnnl_serial(Suite *s);
/* cases_post_ops.c: operators describing themselves as fused post-ops; one
 * prepared oneDNN operator run from two execution contexts. */
void ortc_cases_post_ops(Suite *s);
/* cases_tools_batch.c: `ortc run` on folders: pipeline, listing, results, progress. */
void ortc_cases_tools_batch(Suite *s);

#endif
