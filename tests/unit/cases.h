/* cases.h — groups of Check test cases that live in their own files and are
 * added to a module's runner (test_operators.c adds both operator groups).
 */
#ifndef ORTC_TEST_CASES_H
#define ORTC_TEST_CASES_H

#include <check.h>

/* cases_ops_dnnl.c: oneDNN-backed operators against their reference kernels. */
void ortc_cases_ops_dnnl(Suite *s);
/* cases_ops_plain.c: plain-C operators (shape manipulation, Gather, Cast...). */
void ortc_cases_ops_plain(Suite *s);

#endif
