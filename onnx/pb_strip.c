/* pb_strip.c — unpacks a protobuf message without copying its large
 * TensorProto.raw_data payloads: a walk of the wire format records where each
 * one lies in the source and writes a stripped copy (a few KB for a 250 MB
 * model) for protobuf-c. It does not read tensor data (tensor_pb.c does).
 * Also the protobuf-c allocator and the small helpers every onnx/ source
 * uses.
 *
 * The walk descends into every message-typed field (per protobuf-c's
 * descriptors), so it also guards the nesting depth, and it re-encodes the
 * length prefixes of the messages that enclose a stripped field. In the copy
 * a stripped raw_data becomes an unknown varint field (SENTINEL_TAG) holding
 * the payload's index in src->blobs; protobuf-c keeps unknown fields in
 * base.unknown_fields, which is where ortc_pb_stripped_index finds it.
 * Sentinel fields already present in a source are dropped, so a file cannot
 * point at payloads itself.
 */
#include "pb_strip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- allocator ------------------------------------------------------------ */

static void *pb_alloc(void *unused, size_t size)
{
    (void)unused;
    if (size >= ORTC_PB_ALIGNED_MIN) {
        size_t r = (size + ORTC_PB_ALIGN - 1) & ~(size_t)(ORTC_PB_ALIGN - 1);
        return r < size ? NULL : aligned_alloc(ORTC_PB_ALIGN, r);
    }
    return malloc(size ? size : 1);
}

static void pb_free(void *unused, void *p)
{
    (void)unused;
    free(p);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

ProtobufCAllocator *ortc_pb_allocator(void)
{
    return &pb_allocator;
}

const char *ortc_pb_strerror(int e)
{
    static _Thread_local char buf[128];
    if (strerror_r(e, buf, sizeof buf) != 0)
        snprintf(buf, sizeof buf, "error %d", e);
    return buf;
}

char *ortc_pb_bytes_dup(const ProtobufCBinaryData *b)
{
    char *s = malloc(b->len + 1);
    if (s) {
        if (b->len)
            memcpy(s, b->data, b->len);
        s[b->len] = '\0';
    }
    return s;
}

/* ---- the walk -------------------------------------------------------------- */

/* The largest field number protobuf allows; no ONNX message uses it. */
#define SENTINEL_TAG 536870911u
/* Names quoted in messages are cut at this many bytes. */
#define NAME_SHOWN_MAX 200

/* Why a walk stopped. */
enum { WALK_OK = 0, WALK_MALFORMED, WALK_DEEP, WALK_REPORTED };

/* One message being walked, for the names in a truncation error. */
typedef struct frame {
    const struct frame *up;
    const ProtobufCMessageDescriptor *desc;
    unsigned tag_in_up;       /* the field of `up` that holds this message */
    const uint8_t *name, *op; /* its "name" (and NodeProto's "op_type"), once read */
    size_t name_len, op_len;
} frame;

typedef struct walker {
    const uint8_t *base; /* the source */
    size_t size;
    bool emit; /* pass 2: write `out` */
    /* sizes of the messages walked, in pre-order (pass 1 fills, pass 2 reads) */
    uint64_t *sizes;
    size_t n_sizes, cap_sizes, next_size;
    /* stripped payloads (pass 1 fills; pass 2 counts them again) */
    ortc_pb_blob *blobs;
    size_t n_blobs, cap_blobs, next_blob;
    bool changed; /* the copy differs from the source */
    uint8_t *out;
    size_t out_len, out_cap;
    bool overflow;      /* pass 2 met more than pass 1 (the source changed) */
    const char *kind;   /* "file", "buffer" */
    ortc_errbuf *err;   /* may be NULL (ortc_err_set still records the message) */
    ortc_status status; /* of a WALK_REPORTED error */
    unsigned raw_tag;   /* TensorProto.raw_data */
} walker;

static int get_varint(const uint8_t *p, size_t n, uint64_t *v, size_t *used)
{
    uint64_t r = 0;
    for (size_t i = 0; i < n && i < 10; i++) {
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            *used = i + 1;
            return 0;
        }
    }
    return -1;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put(walker *w, const void *p, size_t n)
{
    if (!w->emit)
        return;
    if (n > w->out_cap - w->out_len) {
        w->overflow = true;
        return;
    }
    memcpy(w->out + w->out_len, p, n);
    w->out_len += n;
}

static void put_varint(walker *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    put(w, b, n);
}

static unsigned field_tag(const ProtobufCMessageDescriptor *d, const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    return f ? f->id : 0;
}

/* "initializer 'fc.weight'", "node 'k' (Constant) attribute 'value'" or
 * "tensor 'x'": what the loader would call the TensorProto in frame t. */
static void tensor_label(char *buf, size_t len, const frame *t)
{
    int tn = (int)(t->name_len < NAME_SHOWN_MAX ? t->name_len : NAME_SHOWN_MAX);
    const char *tname = t->name ? (const char *)t->name : "";
    const frame *up = t->up;
    if (up && up->desc == &onnx__graph_proto__descriptor &&
        t->tag_in_up == field_tag(up->desc, "initializer")) {
        snprintf(buf, len, "initializer '%.*s'", tn, tname);
        return;
    }
    if (up && up->desc == &onnx__attribute_proto__descriptor && up->up &&
        up->up->desc == &onnx__node_proto__descriptor) {
        const frame *a = up, *n = up->up;
        snprintf(buf, len, "node '%.*s' (%.*s) attribute '%.*s'",
                 (int)(n->name_len < NAME_SHOWN_MAX ? n->name_len : NAME_SHOWN_MAX),
                 n->name ? (const char *)n->name : "",
                 (int)(n->op_len < NAME_SHOWN_MAX ? n->op_len : NAME_SHOWN_MAX),
                 n->op ? (const char *)n->op : "",
                 (int)(a->name_len < NAME_SHOWN_MAX ? a->name_len : NAME_SHOWN_MAX),
                 a->name ? (const char *)a->name : "");
        return;
    }
    snprintf(buf, len, "tensor '%.*s'", tn, tname);
}

/* A raw_data payload of `len` bytes of which only `have` are in the source
 * (kept out of walk() so its buffer is not on every level's stack). */
static int report_truncated(walker *w, const frame *t, size_t len, size_t have)
{
    char label[3 * NAME_SHOWN_MAX + 100];
    tensor_label(label, sizeof label, t);
    w->status = ortc_err_set(w->err, ORTC_STATUS_INVALID_MODEL,
                             "%s: raw_data of %zu bytes runs past the end of the %s (%zu of them "
                             "are there; the %s is %zu bytes - truncated?)",
                             label, len, w->kind, have, w->kind, w->size);
    return WALK_REPORTED;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

/* Walks the message in [start, end) (end may lie past the source when it is
 * truncated; SIZE_MAX for the top message, which ends with the source),
 * adding its stripped size to *size_out, and in pass 2 writing it. Returns a
 * WALK_* code; WALK_REPORTED means err is set. */
static int walk(walker *w, frame *f, size_t start, size_t end, int depth, uint64_t *size_out)
{
    if (depth >= ORTC_PB_MAX_DEPTH)
        return WALK_DEEP;
    const bool tensor = f->desc == &onnx__tensor_proto__descriptor;
    const unsigned name_tag = field_tag(f->desc, "name");
    const unsigned op_tag =
        f->desc == &onnx__node_proto__descriptor ? field_tag(f->desc, "op_type") : 0;
    const size_t avail = end < w->size ? end : w->size;
    const uint8_t *b = w->base;
    uint64_t size = 0;
    long strip = -1; /* blob index of this tensor's raw_data, when stripped */
    size_t i = start;
    while (i < (end == SIZE_MAX ? avail : end)) {
        if (i >= avail)
            return WALK_MALFORMED; /* the data ends inside the message */
        const size_t k0 = i;
        uint64_t key, v;
        size_t u;
        if (get_varint(b + i, avail - i, &key, &u))
            return WALK_MALFORMED;
        i += u;
        const uint64_t tag = key >> 3;
        if (tag == 0 || tag > SENTINEL_TAG)
            return WALK_MALFORMED;
        switch (key & 7) {
        case 0:
            if (get_varint(b + i, avail - i, &v, &u))
                return WALK_MALFORMED;
            i += u;
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if (avail - i < n)
                return WALK_MALFORMED;
            i += n;
            break;
        }
        case 2: {
            if (get_varint(b + i, avail - i, &v, &u))
                return WALK_MALFORMED;
            i += u;
            if (v > end - i || v > (uint64_t)INT64_MAX)
                return WALK_MALFORMED; /* longer than the enclosing message */
            const size_t p = i, len = (size_t)v;
            const ProtobufCFieldDescriptor *fd =
                protobuf_c_message_descriptor_get_field(f->desc, (unsigned)tag);
            if (tensor && tag == w->raw_tag) {
                if (len > avail - p)
                    return report_truncated(w, f, len, avail - p);
                if (len >= ORTC_PB_STRIP_MIN) {
                    /* protobuf keeps the last raw_data; an earlier one is dropped */
                    if (!w->emit) {
                        if (grow((void **)&w->blobs, &w->cap_blobs, w->n_blobs, sizeof *w->blobs))
                            goto oom;
                        w->blobs[w->n_blobs] = (ortc_pb_blob){p, len};
                        strip = (long)w->n_blobs++;
                    } else {
                        if (w->next_blob >= w->n_blobs)
                            return WALK_MALFORMED; /* the source changed */
                        strip = (long)w->next_blob++;
                    }
                    w->changed = true;
                    i = p + len;
                    continue;
                }
                strip = -1; /* a later, small raw_data wins */
            } else if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                /* re-encode: the length may shrink */
                size_t slot;
                if (!w->emit) {
                    if (grow((void **)&w->sizes, &w->cap_sizes, w->n_sizes, sizeof *w->sizes))
                        goto oom;
                    slot = w->n_sizes++;
                } else {
                    if (w->next_size >= w->n_sizes)
                        return WALK_MALFORMED; /* the source changed */
                    slot = w->next_size++;
                }
                put(w, b + k0, (size_t)(p - u - k0)); /* the key as written */
                if (w->emit)
                    put_varint(w, w->sizes[slot]);
                frame child = {f, fd->descriptor, (unsigned)tag, NULL, NULL, 0, 0};
                uint64_t sub = 0;
                int r = walk(w, &child, p, p + len, depth + 1, &sub);
                if (r)
                    return r;
                if (!w->emit)
                    w->sizes[slot] = sub;
                else if (sub != w->sizes[slot])
                    return WALK_MALFORMED; /* cannot happen: both passes agree */
                size += (p - u - k0) + varint_len(sub) + sub;
                i = p + len;
                continue;
            } else if (len > avail - p) {
                return WALK_MALFORMED;
            }
            if (name_tag && tag == name_tag && fd && fd->type == PROTOBUF_C_TYPE_STRING) {
                f->name = b + p;
                f->name_len = len;
            } else if (op_tag && tag == op_tag) {
                f->op = b + p;
                f->op_len = len;
            }
            i = p + len;
            break;
        }
        default: return WALK_MALFORMED; /* groups and invalid wire types */
        }
        if (tensor && tag == SENTINEL_TAG) {
            w->changed = true; /* only ours may point at payloads */
            continue;
        }
        put(w, b + k0, i - k0);
        size += i - k0;
    }
    if (strip >= 0) {
        uint64_t key = (uint64_t)SENTINEL_TAG << 3; /* wire type 0: varint */
        put_varint(w, key);
        put_varint(w, (uint64_t)strip);
        size += varint_len(key) + varint_len((uint64_t)strip);
    }
    *size_out += size;
    return WALK_OK;
oom:
    w->status = ortc_err_set(w->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    return WALK_REPORTED;
}

ortc_status ortc_pb_unpack_stripped(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                    size_t size, const char *what, ortc_pb_source *src,
                                    ProtobufCMessage **out, ortc_errbuf *err)
{
    *out = NULL;
    src->blobs = NULL;
    src->n_blobs = 0;
    const char *kind = src->kind ? src->kind : "buffer";
    walker w = {0};
    w.base = data;
    w.size = size;
    w.kind = kind;
    w.err = err;
    w.raw_tag = field_tag(&onnx__tensor_proto__descriptor, "raw_data");
    ortc_status st = ORTC_STATUS_OK;
    frame root = {NULL, desc, 0, NULL, NULL, 0, 0};
    uint64_t total = 0;
    int r = walk(&w, &root, 0, SIZE_MAX, 0, &total);
    uint8_t *copy = NULL;
    if (!r && w.changed) {
        /* pass 2: the same walk, writing */
        copy = malloc(total ? (size_t)total : 1);
        if (!copy) {
            st = ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        w.emit = true;
        w.out = copy;
        w.out_cap = (size_t)total;
        frame root2 = {NULL, desc, 0, NULL, NULL, 0, 0};
        uint64_t again = 0;
        r = walk(&w, &root2, 0, SIZE_MAX, 0, &again);
        if (!r && (w.overflow || again != total || w.out_len != total))
            r = WALK_MALFORMED;
    }
    switch (r) {
    case WALK_OK: break;
    case WALK_DEEP:
        st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                          "not a valid %s (messages nested deeper than %d levels)", what,
                          ORTC_PB_MAX_DEPTH);
        goto done;
    case WALK_REPORTED: st = w.status; goto done;
    default:
        st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                          "not a valid %s (protobuf parse failed; the %s is %zu bytes - "
                          "truncated?)",
                          what, kind, size);
        goto done;
    }
    *out = protobuf_c_message_unpack(desc, ortc_pb_allocator(), copy ? (size_t)total : size,
                                     copy ? copy : data);
    if (!*out)
        st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                          "not a valid %s (protobuf parse failed; the %s is %zu bytes - "
                          "truncated?)",
                          what, kind, size);
done:
    free(copy);
    free(w.sizes);
    if (st) {
        free(w.blobs);
        return st;
    }
    src->blobs = w.blobs;
    src->n_blobs = w.n_blobs;
    return ORTC_STATUS_OK;
}

long ortc_pb_stripped_index(const Onnx__TensorProto *tp, const ortc_pb_source *src)
{
    long found = -1;
    if (!src || !src->n_blobs)
        return -1;
    for (unsigned k = 0; k < tp->base.n_unknown_fields; k++) {
        const ProtobufCMessageUnknownField *u = &tp->base.unknown_fields[k];
        uint64_t v;
        size_t used;
        if (u->tag != SENTINEL_TAG || u->wire_type != PROTOBUF_C_WIRE_TYPE_VARINT ||
            get_varint(u->data, u->len, &v, &used) || v >= src->n_blobs)
            continue;
        found = (long)v; /* the last one wins, as for raw_data itself */
    }
    return found;
}

ortc_status ortc_pb_unpack_fd(const ProtobufCMessageDescriptor *desc, const char *what,
                              ortc_pb_source *src, ProtobufCMessage **out, ortc_errbuf *err)
{
    *out = NULL;
    src->data = NULL;
    size_t size = (size_t)src->size;
    if (size == 0) /* mmap refuses empty files; the walk takes an empty source */
        return ortc_pb_unpack_stripped(desc, (const uint8_t *)"", 0, what, src, out, err);
    /* the payloads are read in file order after the walk */
    posix_fadvise(src->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, src->fd, 0);
    if (map != MAP_FAILED) {
        /* the walk touches only the pages around message headers, and they
         * leave the process with the mapping */
        ortc_status st = ortc_pb_unpack_stripped(desc, map, size, what, src, out, err);
        munmap(map, size);
        return st;
    }
    uint8_t *buf = malloc(size);
    if (!buf)
        return ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory reading %zu bytes",
                            size);
    size_t done = 0;
    while (done < size) {
        ssize_t r = pread(src->fd, buf + done, size - done, (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            free(buf);
            return ortc_err_set(err, ORTC_STATUS_IO_ERROR, "read failed: %s",
                                r < 0 ? ortc_pb_strerror(e) : "the file shrank while reading");
        }
        done += (size_t)r;
    }
    ortc_status st = ortc_pb_unpack_stripped(desc, buf, size, what, src, out, err);
    free(buf);
    return st;
}
