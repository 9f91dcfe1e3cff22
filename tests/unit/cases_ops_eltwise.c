/* cases_ops_eltwise.c — placeholder while this group of operator tests is
 * written; adds no cases.
 */
#include "cases.h"

void ortc_cases_ops_eltwise(Suite *s)
{
    (void)s;
}
