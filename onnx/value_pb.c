/* value_pb.c — the public readers of values that are not one tensor:
 * ONNX's SequenceProto and OptionalProto files (how backend tests store a
 * sequence or optional input or output), and ortc_any_release. libonnx-dev
 * ships only onnx.proto, which lacks these two messages, so their few
 * fields are read from the protobuf wire format here; every tensor inside
 * is a TensorProto, parsed as ortc_tensor_parse_pb does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ortc/ortc.h"

/* SequenceProto / OptionalProto field numbers (onnx-data.proto) */
enum { F_NAME = 1, F_ELEM_TYPE = 2, F_TENSOR = 3, F_SEQUENCE = 5 };
/* their elem_type values */
enum { ELEM_TENSOR = 1, ELEM_SEQUENCE = 3 };
#define MAX_FILE_BYTES ((size_t)1 << 31)

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static int varint(cursor *c, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end)
            return -1;
        uint8_t b = *c->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* One field of a message as next_field reads it. */
typedef struct pb_field {
    int number, wire;
    const uint8_t *data; /* wire type 2: the bytes */
    uint64_t len;        /* wire type 2: their length; 0 (varint): the value */
} pb_field;

/* The next field into *f. -1 on malformed data, 1 at the end. */
static int next_field(cursor *c, pb_field *f)
{
    if (c->p >= c->end)
        return 1;
    uint64_t tag;
    if (varint(c, &tag) || (tag >> 3) == 0 || (tag >> 3) > INT32_MAX)
        return -1;
    f->number = (int)(tag >> 3);
    f->wire = (int)(tag & 7);
    switch (f->wire) {
    case 0: return varint(c, &f->len);
    case 1:
        if (c->end - c->p < 8)
            return -1;
        c->p += 8;
        return 0;
    case 5:
        if (c->end - c->p < 4)
            return -1;
        c->p += 4;
        return 0;
    case 2:
        if (varint(c, &f->len) || f->len > (uint64_t)(c->end - c->p))
            return -1;
        f->data = c->p;
        c->p += f->len;
        return 0;
    default: return -1;
    }
}

static ortc_status bad(const char *path, const char *what)
{
    return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "%s: not a valid %s", path, what);
}

/* Field F_NAME of either message: the first one into *name (name NULL:
 * not wanted). */
static ortc_status take_name(const char *path, const pb_field *f, char **name)
{
    if (f->wire != 2 || !name || *name)
        return ORTC_STATUS_OK;
    if (!(*name = strndup((const char *)f->data, (size_t)f->len)))
        return ortc_err_set(NULL, ORTC_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    return ORTC_STATUS_OK;
}

/* A SequenceProto of tensors into v (appends to what v holds). */
static ortc_status parse_sequence(const char *path, const uint8_t *b, size_t n, ortc_any *v,
                                  char **name)
{
    cursor c = {b, b + n};
    pb_field f = {0};
    int r;
    v->type = ORTC_TYPE_SEQUENCE;
    while ((r = next_field(&c, &f)) == 0) {
        if (f.number == F_NAME) {
            ORTC_TRY(take_name(path, &f, name));
        } else if (f.number == F_ELEM_TYPE && f.wire == 0 && f.len != ELEM_TENSOR) {
            return ortc_err_set(NULL, ORTC_STATUS_UNSUPPORTED,
                                "%s: a sequence whose elements are not tensors (elem_type %llu)",
                                path, (unsigned long long)f.len);
        } else if (f.number > F_TENSOR && f.number <= 7 && f.wire == 2) {
            return ortc_err_set(NULL, ORTC_STATUS_UNSUPPORTED,
                                "%s: a sequence of sparse tensors, sequences, maps or optionals",
                                path);
        } else if (f.number == F_TENSOR && f.wire == 2) {
            ortc_tensor t;
            ortc_status st = ortc_tensor_parse_pb(f.data, (size_t)f.len, &t, NULL);
            if (st) {
                ortc_err_prefix(NULL, "%s: sequence item %zu", path, v->length);
                return st;
            }
            if (v->length && t.dtype != v->elem_dtype) {
                ortc_tensor_release(&t);
                return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                                    "%s: sequence item %zu is %s, the ones before %s", path,
                                    v->length, ortc_dtype_name(t.dtype),
                                    ortc_dtype_name(v->elem_dtype));
            }
            ortc_tensor *nt = realloc(v->tensors, (v->length + 1) * sizeof *nt);
            if (!nt) {
                ortc_tensor_release(&t);
                return ortc_err_set(NULL, ORTC_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
            }
            v->tensors = nt;
            v->tensors[v->length++] = t;
            v->elem_dtype = t.dtype;
        }
    }
    return r < 0 ? bad(path, "SequenceProto") : ORTC_STATUS_OK;
}

static ortc_status parse_optional(const char *path, const uint8_t *b, size_t n, ortc_type type,
                                  ortc_any *v, char **name)
{
    cursor c = {b, b + n};
    pb_field f = {0};
    int r;
    v->type = ORTC_TYPE_NONE;
    while ((r = next_field(&c, &f)) == 0) {
        ortc_status st = ORTC_STATUS_OK;
        if (f.number == F_NAME) {
            st = take_name(path, &f, name);
        } else if (f.number == F_TENSOR && f.wire == 2) {
            if (type != ORTC_TYPE_OPTIONAL_TENSOR || v->type != ORTC_TYPE_NONE)
                return bad(path, "OptionalProto of the model's type");
            v->type = ORTC_TYPE_TENSOR;
            st = ortc_tensor_parse_pb(f.data, (size_t)f.len, &v->tensor, NULL);
        } else if (f.number == F_SEQUENCE && f.wire == 2) {
            if (type != ORTC_TYPE_OPTIONAL_SEQUENCE || v->type != ORTC_TYPE_NONE)
                return bad(path, "OptionalProto of the model's type");
            st = parse_sequence(path, f.data, (size_t)f.len, v, NULL);
        } else if (f.number > F_TENSOR && f.number <= 7 && f.wire == 2) {
            return ortc_err_set(NULL, ORTC_STATUS_UNSUPPORTED,
                                "%s: an optional sparse tensor, map or optional", path);
        }
        if (st)
            return st;
    }
    return r < 0 ? bad(path, "OptionalProto") : ORTC_STATUS_OK;
}

ortc_status ortc_any_read_pb(const char *path, ortc_type type, ortc_any *v, char **name)
{
    if (name)
        *name = NULL;
    if (!v || !path)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "ortc_any_read_pb: %s is NULL",
                            v ? "path" : "v");
    memset(v, 0, sizeof *v);
    if (type == ORTC_TYPE_TENSOR) {
        v->type = ORTC_TYPE_TENSOR;
        return ortc_tensor_read_pb(path, &v->tensor, name);
    }
    if (type != ORTC_TYPE_SEQUENCE && type != ORTC_TYPE_OPTIONAL_TENSOR &&
        type != ORTC_TYPE_OPTIONAL_SEQUENCE)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "ortc_any_read_pb: type %d",
                            (int)type);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ortc_err_set(NULL, ORTC_STATUS_IO_ERROR, "%s: cannot open: %s", path,
                            strerror(errno));
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES) {
                fclose(f);
                free(buf);
                return ortc_err_set(NULL, ORTC_STATUS_LIMIT_EXCEEDED,
                                    "%s: above protobuf's 2 GB limit", path);
            }
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                fclose(f);
                free(buf);
                return ortc_err_set(NULL, ORTC_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    ortc_status st = failed ? ortc_err_set(NULL, ORTC_STATUS_IO_ERROR, "%s: read error", path)
                     : type == ORTC_TYPE_SEQUENCE ? parse_sequence(path, buf, n, v, name)
                                                  : parse_optional(path, buf, n, type, v, name);
    free(buf);
    if (st) {
        ortc_any_release(v);
        if (name) {
            free(*name);
            *name = NULL;
        }
    }
    return st;
}

void ortc_any_release(ortc_any *v)
{
    if (!v)
        return;
    ortc_tensor_release(&v->tensor);
    for (size_t i = 0; v->tensors && i < v->length; i++)
        ortc_tensor_release(&v->tensors[i]);
    free(v->tensors);
    memset(v, 0, sizeof *v);
}
