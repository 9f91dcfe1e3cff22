/* passes.c — the pass pipeline. For now it applies none: the model runs as
 * loaded (every node compiled and folded per plan by compile.c).
 */
#include "passes.h"

ortc_status ortc_passes_run(ortc_model *m, const ortc_options *opts, ortc_errbuf *err)
{
    (void)m;
    (void)opts;
    (void)err;
    return ORTC_STATUS_OK;
}
