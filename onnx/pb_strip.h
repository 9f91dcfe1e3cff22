/* pb_strip.h — the protobuf layer of onnx/ (pb_strip.c): the protobuf-c
 * allocator, unpacking with large raw_data payloads left in the source,
 * finding them again, and small helpers (strerror, bytes -> string). Knows
 * no tensor or graph (tensor_pb.h, loader.c).
 * Private to onnx/; not installed.
 */
#ifndef ORTC_ONNX_PB_STRIP_H
#define ORTC_ONNX_PB_STRIP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "onnx.pb-c.h"

/* Messages nested deeper than this (subgraphs of subgraphs...) are refused
 * before protobuf-c, which recurses without a limit, can overflow the stack. */
#define ORTC_PB_MAX_DEPTH 100

/* The allocator every unpack/free_unpacked in onnx/ uses: malloc for small
 * blocks, ORTC_PB_ALIGN-byte aligned (aligned_alloc) for those of at least
 * ORTC_PB_ALIGNED_MIN bytes, so they can become weights as they are; free()
 * for all.
 * Buffers it returns may therefore be moved into the IR and released with
 * free(), as ortc_const_tensor_free does. */
#define ORTC_PB_ALIGNED_MIN 1024
#define ORTC_PB_ALIGN 64
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
    /* a file: where constants read from it can be read again (a reference
     * each takes; NULL: none can) */
    struct ortc_const_origin *origin;
    /* a file: NULL, or where tensor reads wait for ortc_pb_reads_run */
    struct ortc_pb_reads *reads;
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

/* strerror for messages, thread-safe (valid until the next call on this thread). */
const char *ortc_pb_strerror(int e);

/* b's bytes as a new NUL-terminated string (release with free()); NULL when
 * out of memory. */
char *ortc_pb_bytes_dup(const ProtobufCBinaryData *b);

#endif
