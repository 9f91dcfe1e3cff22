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
ortc_status ortc_pb_tensor_convert(Onnx__TensorProto *tp, const char *label, const char *dir,
                                   const ortc_pb_source *src, ortc_const_tensor **out,
                                   ortc_errbuf *err);

/* True for a TensorProto.DataType number ortc_dtype has a name for. */
int ortc_pb_dtype_known(int32_t data_type);

#endif
