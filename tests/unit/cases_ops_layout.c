/* cases_ops_layout.c — placeholder while this group of operator tests is
 * written; adds no cases.
 */
#include "cases.h"

void ortc_cases_ops_layout(Suite *s)
{
    (void)s;
}
