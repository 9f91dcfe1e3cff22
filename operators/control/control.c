/* control.c — registry entries for control-flow operators. Their subgraphs
 * are compiled and run by the runtime (runtime/compile.c, executor.c), so the
 * entries carry only the flag; there is no kernel here.
 */
#include "operator.h"

const ortc_operator ortc_ops_control[] = {
    ORTC_OP("If", 1, 16, .versions = {1, 11, 13, 16}, .flags = ORTC_OP_CONTROL_FLOW),
};
ORTC_OP_TABLE_END(control);
