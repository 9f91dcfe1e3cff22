/* passes.c — the pass pipeline run at session creation, from the table
 * below: QDQ groups to int8 ops -> fold (with If inlining) ->
 * Identity/Dropout elimination -> Conv+BN folding -> LRN recognition ->
 * zero-Pad elimination -> Pad into AveragePool/Conv -> LayerNorm recognition ->
 * bias and activation patterns -> post-op fusion -> spatial ReduceMean as
 * GlobalAveragePool -> input-major weights for
 * fully connected layers fed by a ReLU -> dead-node elimination. Logs one
 * INFO line of what changed and, at DEBUG, the graph before and after and
 * every change. The passes themselves live in pass_*.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pass_impl.h"
#include "passes.h"

/* The pipeline, one row per pass in order: its name (for errors and the
 * summary), the pass, and its statistics — a printf format over up to three
 * counters of ortc_pass_stats for the INFO summary line. Adding a pass: its
 * file (pass_NAME.c, declared in pass_impl.h) and a row here. */
typedef struct pass_row {
    const char *name;
    ortc_status (*run)(ortc_pass_ctx *pc);
    const char *stats;
    size_t counter[3]; /* offsetof(ortc_pass_stats, ...) for each %d */
} pass_row;

#define STAT(field) offsetof(ortc_pass_stats, field)

static const pass_row pipeline[] = {
    {"qdq",
     ortc_pass_qdq,
     "fused %d groups, %d moves in int8, %d into QuantizeLinear",
     {STAT(qdq_groups), STAT(qdq_moved), STAT(qdq_quant)}},
    {"fold", ortc_pass_fold, "folded %d nodes, inlined %d If", {STAT(folded), STAT(inlined)}},
    {"eliminate",
     ortc_pass_eliminate,
     "removed %d Identity, %d Dropout",
     {STAT(identities), STAT(dropouts)}},
    {"bn", ortc_pass_fold_bn, "folded %d", {STAT(bn_folded)}},
    {"lrn", ortc_pass_lrn, "replaced %d (kept %d even-size)", {STAT(lrn), STAT(lrn_kept)}},
    {"pad", ortc_pass_pads, "removed %d zero Pad", {STAT(pads)}},
    {"padfuse", ortc_pass_padfuse, "merged %d", {STAT(pads_fused)}},
    {"ln", ortc_pass_ln, "replaced %d", {STAT(ln)}},
    {"bias", ortc_pass_bias, "fused %d, scaled %d", {STAT(bias), STAT(scaled)}},
    {"act",
     ortc_pass_act,
     "SiLU %d, HardSwish %d, GELU %d",
     {STAT(swish), STAT(hard_swish), STAT(gelu)}},
    {"fuse", ortc_pass_fuse, "fused %d", {STAT(fused)}},
    {"gap", ortc_pass_gap, "replaced %d ReduceMean", {STAT(gap)}},
    {"concat", ortc_pass_concat, "shortened %d", {STAT(concats)}},
    {"fc", ortc_pass_fc, "transposed %d", {STAT(fc_transposed)}},
    {"dead",
     ortc_pass_dead,
     "removed %d nodes, %d initializers",
     {STAT(dead_nodes), STAT(dead_values)}},
};

static int counter(const ortc_pass_stats *s, size_t off)
{
    return *(const int *)(const void *)((const char *)s + off);
}

/* "passes: 40 -> 31 nodes: fold: folded 6 nodes, inlined 0 If; ..." */
static void log_summary(ortc_pass_ctx *pc, int nodes_before)
{
    char line[1024], part[256];
    snprintf(line, sizeof line, "passes: %d -> %d nodes: ", nodes_before, pc->g->n_nodes);
    for (size_t i = 0; i < sizeof pipeline / sizeof *pipeline; i++) {
        const pass_row *r = &pipeline[i];
        const ortc_pass_stats *s = &pc->stats;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(part, sizeof part, r->stats, counter(s, r->counter[0]), counter(s, r->counter[1]),
                 counter(s, r->counter[2]));
#pragma GCC diagnostic pop
        ortc_strbuf_append(line, sizeof line, "%s%s: %s", i ? "; " : "", r->name, part);
    }
    ortc_pass_log(pc, ORTC_LOG_INFO, "%s", line);
}

static ortc_status run_pipeline(ortc_model *m, const ortc_options *opts,
                                struct ortc_backend **backend, ortc_errbuf *err,
                                ortc_pass_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!m || !m->graph)
        return ORTC_STATUS_OK;
    /* speculative inference sets the thread's last error; keep the caller's */
    char saved[ORTC_ERR_MAX];
    snprintf(saved, sizeof saved, "%s", ortc_last_error());

    ortc_pass_ctx pc;
    ortc_pass_ctx_init(&pc, m, opts, err);
    if (backend)
        pc.backend = backend;
    ortc_status st = ortc_pass_infer(&pc);
    int nodes_before = m->graph->n_nodes;
    if (!st)
        ortc_pass_dump(&pc, "before passes");
    /* each pass starts from current shape information */
    for (size_t i = 0; !st && i < sizeof pipeline / sizeof *pipeline; i++) {
        if (i)
            st = ortc_pass_infer(&pc);
        if (!st)
            st = pipeline[i].run(&pc);
        if (st)
            ortc_err_prefix(err, "graph pass '%s'", pipeline[i].name);
    }
    if (!st)
        st = ortc_pass_infer(&pc);
    if (!st) {
        ortc_pass_dump(&pc, "after passes");
        log_summary(&pc, nodes_before);
        ortc_errbuf keep;
        keep.status = ORTC_STATUS_OK;
        memcpy(keep.msg, saved, sizeof keep.msg);
        ortc_err_publish(&keep);
    }
    if (stats)
        *stats = pc.stats;
    ortc_pass_ctx_free(&pc);
    return st;
}

ortc_status ortc_passes_run_stats(ortc_model *m, const ortc_options *opts, ortc_errbuf *err,
                                  ortc_pass_stats *stats)
{
    return run_pipeline(m, opts, NULL, err, stats);
}

ortc_status ortc_passes_run(ortc_model *m, const ortc_options *opts, struct ortc_backend **backend,
                            ortc_errbuf *err)
{
    return run_pipeline(m, opts, backend, err, NULL);
}
