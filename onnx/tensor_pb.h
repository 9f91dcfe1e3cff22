/* tensor_pb.h — TensorProto -> ortc_const_tensor (tensor_pb.c), for
 * loader.c; unpacking is pb_strip.h's. Private to onnx/ (the only module that
 * sees onnx.pb-c.h); not installed.
 */
#ifndef ORTC_ONNX_TENSOR_PB_H
#define ORTC_ONNX_TENSOR_PB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ir.h"
#include "onnx.pb-c.h"
#include "pb_strip.h"

/* Converts tp into a new constant tensor (*out, owned by the caller).
 * `label` names it in messages ("initializer 'fc.weight'"). A stripped
 * raw_data is read from `src` (NULL when the message has none) straight
 * into the tensor's storage; other large raw_data and typed arrays are moved
 * out of tp (the fields are emptied, so free_unpacked skips them), not
 * copied. External data is read from `dir` (NULL: refused). Messages carry
 * no file name: callers prefix it. */
/* Reads of stripped raw_data from a file, deferred (ortc_pb_source.reads)
 * and then done together by several threads: the tensors are allocated
 * when made, filled by ortc_pb_reads_run (a failure names the first tensor
 * in load order that failed). */
typedef struct ortc_pb_reads ortc_pb_reads;
ortc_pb_reads *ortc_pb_reads_new(void);
ortc_status ortc_pb_reads_run(ortc_pb_source *src, ortc_errbuf *err);
void ortc_pb_reads_free(ortc_pb_reads *q);

ortc_status ortc_pb_tensor_convert(Onnx__TensorProto *tp, const char *label, const char *dir,
                                   const ortc_pb_source *src, ortc_const_tensor **out,
                                   ortc_errbuf *err);

/* True for a TensorProto.DataType number ortc_dtype has a name for. */
int ortc_pb_dtype_known(int32_t data_type);

#endif
