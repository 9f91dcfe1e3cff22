/* concat_dnnl.h — Concat on oneDNN where inputs arrive in blocked layouts
 * (concat_dnnl.c); movement.c keeps the operator's row, checks and plain-C
 * kernel. Private to operators/.
 */
#ifndef ORTC_CONCAT_DNNL_H
#define ORTC_CONCAT_DNNL_H

#include "operator.h"

/* prepare: a oneDNN concat along `axis` (validated) when an input is
 * blocked; no state (the plain-C kernel) otherwise. */
ortc_status ortc_concat_dnnl_prepare(ortc_opctx *c, int axis);
/* run: the primitive, or plain(c) (on plain copies of blocked inputs where
 * oneDNN had no implementation). */
ortc_status ortc_concat_dnnl_run(ortc_opctx *c, ortc_status (*plain)(ortc_opctx *c));
void ortc_concat_dnnl_release(ortc_opctx *c);

#endif
