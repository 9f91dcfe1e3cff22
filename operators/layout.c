/* layout.c — placeholder table so the registry links while the family is
 * being written; it registers nothing, so its ops are reported unsupported.
 */
#include "operator.h"

const ortc_operator ortc_ops_layout[] = {{0}};
const size_t ortc_ops_layout_count = 0;
