/* writer.h — ortc IR -> .onnx bytes (writer.c): the inverse of loader.h for
 * what the IR holds (metadata, opsets, graphs and subgraphs, value types of
 * inputs and outputs, initializers, nodes, attributes). Fused post-ops and
 * other pass-made state have no ONNX form and are refused. Private.
 */
#ifndef ORTC_ONNX_WRITER_H
#define ORTC_ONNX_WRITER_H

#include "error.h"
#include "ir.h"

/* Writes m as a ModelProto to `path` (created or truncated; weights inline
 * as raw_data, so models over protobuf's 2 GB limit are refused). On
 * failure err names the file and the problem; a partly written file is
 * removed. */
ortc_status ortc_onnx_save_file(const ortc_model *m, const char *path, ortc_errbuf *err);

#endif
