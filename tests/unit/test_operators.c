/* test_operators.c — the operators module's Check runner: every operator
 * against an independent oracle (its reference kernel or hand-derived
 * values), plus infer's error paths. The cases live in cases_ops_*.c.
 */
#include <check.h>
#include <stdlib.h>

#include "cases.h"
#include "helper_common.h"

int main(void)
{
    Suite *s = suite_create("operators");
    ortc_cases_ops_dnnl(s);
    ortc_cases_ops_plain(s);
    ortc_cases_ops_eltwise(s);
    ortc_cases_ops_binary(s);
    ortc_cases_ops_layout(s);
    ortc_cases_ops_reduce(s);
    ortc_cases_ops_deconv(s);
    ortc_cases_ops_perf(s);
    ortc_cases_ops_wino5(s);
    ortc_cases_dnnl_wino(s);
    ortc_cases_dnnl_serial(s);
    ortc_cases_post_ops(s);
    return run_suite(s);
}
