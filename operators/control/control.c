/* control.c — registry entries for control-flow operators. Their subgraphs
 * are compiled and run by the runtime (runtime/compile.c, executor.c), so the
 * entries carry only the flag; there is no kernel here.
 */
#include "operator.h"

const ortc_operator ortc_ops_control[] = {
    {"", "If", 1, ORTC_OP_CONTROL_FLOW, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"", "If", 11, ORTC_OP_CONTROL_FLOW, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"", "If", 13, ORTC_OP_CONTROL_FLOW, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"", "If", 16, ORTC_OP_CONTROL_FLOW, 0, NULL, NULL, NULL, NULL, NULL, NULL},
};
const size_t ortc_ops_control_count = sizeof ortc_ops_control / sizeof *ortc_ops_control;
