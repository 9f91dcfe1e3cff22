/* tensor_pb.h — what the onnx/ sources share: the protobuf-c allocator,
 * unpacking with large raw_data left in the source (pb_strip.c), and
 * TensorProto -> ortc_const_tensor (tensor_pb.c). Private to onnx/ (the only
 * module that sees onnx.pb-c.h); not installed.
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

/* raw_data payloads of at least this many bytes are not copied by
 * protobuf-c: they stay in the source until their tensor is built. */
#define ORTC_PB_STRIP_MIN 1024

/* A stripped raw_data payload: where it lies in the source. */
typedef struct ortc_pb_blob {
    uint64_t offset, len;
} ortc_pb_blob;

/* Where a message came from, so stripped payloads can be read later. */
typedef struct ortc_pb_source {
    const uint8_t *data; /* the source in memory (a buffer), or NULL: read from fd */
    int fd;              /* an open file when data is NULL */
    uint64_t size;       /* bytes in the source */
    const char *kind;    /* "file" or "buffer", for messages */
    ortc_pb_blob *blobs; /* filled by ortc_pb_unpack_stripped (malloc'd) */
    size_t n_blobs;
} ortc_pb_source;

/* Unpacks the message of type `desc` in data[0..size) into *out (free with
 * protobuf_c_message_free_unpacked and ortc_pb_allocator()), leaving every
 * TensorProto.raw_data of ORTC_PB_STRIP_MIN bytes or more in the source:
 * src->blobs records them and ortc_pb_stripped_index finds a tensor's.
 * `data` is only read during the call (it may be a mapping of src->fd).
 * Also refuses nesting deeper than ORTC_PB_MAX_DEPTH. Errors: "not a valid
 * <what> (...)", or a truncated raw_data named after its tensor. On failure
 * *out is NULL and src->blobs is NULL; on success free src->blobs later. */
ortc_status ortc_pb_unpack_stripped(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                    size_t size, const char *what, ortc_pb_source *src,
                                    ProtobufCMessage **out, ortc_errbuf *err);

/* Same for the regular file open on src->fd (src->size bytes, src->data
 * NULL): the file is mapped for the walk only (read, where mapping fails),
 * and payloads are later read with pread. The caller closes src->fd. */
ortc_status ortc_pb_unpack_fd(const ProtobufCMessageDescriptor *desc, const char *what,
                              ortc_pb_source *src, ProtobufCMessage **out, ortc_errbuf *err);

/* The index in src->blobs of tp's stripped raw_data, or -1 when it has none
 * (src NULL: always -1). */
long ortc_pb_stripped_index(const Onnx__TensorProto *tp, const ortc_pb_source *src);

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

/* strerror for messages, thread-safe (valid until the next call on this thread). */
const char *ortc_pb_strerror(int e);

/* True for a TensorProto.DataType number ortc_dtype has a name for. */
int ortc_pb_dtype_known(int32_t data_type);

#endif
