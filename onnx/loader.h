/* loader.h — .onnx bytes -> ortc IR. The protobuf message lives only inside
 * these calls; the returned model owns plain C copies (weights moved, not
 * duplicated, where protobuf-c already allocated them). Private.
 */
#ifndef ORTC_ONNX_LOADER_H
#define ORTC_ONNX_LOADER_H

#include <stddef.h>

#include "error.h"
#include "ir.h"

/* Highest ai.onnx opset ortc implements; newer imports are refused. */
#define ORTC_MAX_OPSET 17
#define ORTC_MIN_IR_VERSION 3
#define ORTC_MAX_IR_VERSION 8

/* Loads and finalizes (links, orders, checks) a model file. External data
 * is read relative to the file's folder. On failure *out is NULL and err
 * names the file and the problem. Operators are not resolved here. */
ortc_status ortc_onnx_load_file(ortc_model **out, const char *path, ortc_errbuf *err);
/* Same from memory; base_dir NULL refuses external data. */
ortc_status ortc_onnx_load_buffer(ortc_model **out, const void *data, size_t size,
                                  const char *base_dir, ortc_errbuf *err);

#endif
