/* tensor_pb.h — what the onnx/ sources share: the protobuf-c allocator, a nesting
 * guard run before unpacking, and TensorProto -> ortc_const_tensor. Private
 * to onnx/ (the only module that sees onnx.pb-c.h); not installed.
 */
#ifndef ORTC_ONNX_TENSOR_PB_H
#define ORTC_ONNX_TENSOR_PB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ir.h"
#include "onnx.pb-c.h"

/* Messages nested deeper than this (subgraphs of subgraphs...) are refused
 * before protobuf-c, which recurses without a limit, can overflow the stack. */
#define ORTC_PB_MAX_DEPTH 100

/* The allocator every unpack/free_unpacked in onnx/ uses: malloc for small
 * blocks, 64-byte aligned (aligned_alloc) for large ones, free() for all.
 * Buffers it returns may therefore be moved into the IR and released with
 * free(), as ortc_const_tensor_free does. */
ProtobufCAllocator *ortc_pb_allocator(void);

/* 0: message nesting in data stays within max_depth; 1: deeper; -1: the
 * wire format is malformed (protobuf-c's unpack will then say so). */
int ortc_pb_check_depth(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                        int max_depth);

/* Converts tp into a new constant tensor (*out, owned by the caller).
 * `label` names it in messages ("initializer 'fc.weight'"). Large raw_data
 * and typed arrays are moved out of tp (the fields are emptied, so
 * free_unpacked skips them), not copied. External data is read from `dir`
 * (NULL: refused). Messages carry no file name: callers prefix it. */
ortc_status ortc_pb_tensor_convert(Onnx__TensorProto *tp, const char *label, const char *dir,
                                   ortc_const_tensor **out, ortc_errbuf *err);

/* strerror for messages, thread-safe (valid until the next call on this thread). */
const char *ortc_pb_strerror(int e);

/* True for a TensorProto.DataType number ortc_dtype has a name for. */
int ortc_pb_dtype_known(int32_t data_type);

#endif
