/* dnnl_wino.h — constant fp32 3x3 weights packed for oneDNN 2.6's Winograd
 * convolutions by this project's transform (dnnl_wino.c), bit-identical to
 * oneDNN's own wino_reorder and faster. Private to operators/.
 */
#ifndef ORTC_DNNL_WINO_H
#define ORTC_DNNL_WINO_H

#include <stdbool.h>

#include <oneapi/dnnl/dnnl.h>

/* Writes src (plain oihw fp32, described by src_md) into dst in the Winograd
 * layout dst_md (dnnl_format_kind_wino; dst holds dnnl_memory_desc_get_size
 * bytes), using up to `threads` threads. false, writing nothing, when the
 * pair is not one this transform knows (another layout, dtype or window):
 * the caller then reorders through oneDNN. */
bool ortc_dnnl_wino_pack(const dnnl_memory_desc_t *dst_md, const dnnl_memory_desc_t *src_md,
                         const void *src, void *dst, int threads);

#endif
