/* passes.c — the pass pipeline run at session creation: fold (with If
 * inlining) -> Identity/Dropout elimination -> Conv+BN folding -> LRN
 * recognition -> post-op fusion -> input-major weights for fully connected
 * layers fed by a ReLU -> dead-node elimination. Logs one INFO
 * line of what changed and, at DEBUG, the graph before and after and every
 * change. The passes themselves live in pass_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "pass_impl.h"
#include "passes.h"

typedef ortc_status (*pass_fn)(ortc_pass_ctx *pc);

ortc_status ortc_passes_run_stats(ortc_model *m, const ortc_options *opts, ortc_errbuf *err,
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
    static const struct {
        const char *name;
        pass_fn fn;
    } pipeline[] = {
        {"fold", ortc_pass_fold}, {"eliminate", ortc_pass_eliminate}, {"bn", ortc_pass_fold_bn},
        {"lrn", ortc_pass_lrn},   {"fuse", ortc_pass_fuse},           {"fc", ortc_pass_fc},
        {"dead", ortc_pass_dead},
    };
    ortc_status st = ortc_pass_infer(&pc);
    int nodes_before = m->graph->n_nodes;
    if (!st)
        ortc_pass_dump(&pc, "before passes");
    for (size_t i = 0; !st && i < sizeof pipeline / sizeof *pipeline; i++) {
        st = pipeline[i].fn(&pc);
        if (st)
            ortc_err_prefix(err, "graph pass '%s'", pipeline[i].name);
    }
    if (!st)
        st = ortc_pass_infer(&pc);
    if (!st) {
        ortc_pass_dump(&pc, "after passes");
        const ortc_pass_stats *s = &pc.stats;
        ortc_pass_log(
            &pc, ORTC_LOG_INFO,
            "passes: %d -> %d nodes: fold: folded %d nodes, inlined %d If; eliminate: "
            "removed %d Identity, %d Dropout; bn: folded %d; lrn: replaced %d (kept "
            "%d even-size); fuse: fused %d; fc: transposed %d; dead: removed %d nodes, %d "
            "initializers",
            nodes_before, m->graph->n_nodes, s->folded, s->inlined, s->identities, s->dropouts,
            s->bn_folded, s->lrn, s->lrn_kept, s->fused, s->fc_transposed, s->dead_nodes,
            s->dead_values);
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

ortc_status ortc_passes_run(ortc_model *m, const ortc_options *opts, ortc_errbuf *err)
{
    return ortc_passes_run_stats(m, opts, err, NULL);
}
