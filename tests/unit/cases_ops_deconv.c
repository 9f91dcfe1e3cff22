/* cases_ops_deconv.c — placeholder while this group of operator tests is
 * written; adds no cases.
 */
#include "cases.h"

void ortc_cases_ops_deconv(Suite *s)
{
    (void)s;
}
