/* npy.c — reads and writes NumPy .npy files (format 1.0, 2.0 and 3.0),
 * parsing the header's dict literal and checking the data length. Little-
 * endian C-order arrays only: no .npz, object arrays or structured dtypes.
 */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The dtypes .npy can carry, with NumPy's type character and item size. */
typedef struct npy_type {
    ortc_dtype dtype;
    char kind; /* 'f', 'i', 'u', 'b', 'c' */
    int size;  /* bytes */
} npy_type;

static const npy_type npy_types[] = {
    {ORTC_DTYPE_FLOAT, 'f', 4},     {ORTC_DTYPE_DOUBLE, 'f', 8},      {ORTC_DTYPE_FLOAT16, 'f', 2},
    {ORTC_DTYPE_INT8, 'i', 1},      {ORTC_DTYPE_INT16, 'i', 2},       {ORTC_DTYPE_INT32, 'i', 4},
    {ORTC_DTYPE_INT64, 'i', 8},     {ORTC_DTYPE_UINT8, 'u', 1},       {ORTC_DTYPE_UINT16, 'u', 2},
    {ORTC_DTYPE_UINT32, 'u', 4},    {ORTC_DTYPE_UINT64, 'u', 8},      {ORTC_DTYPE_BOOL, 'b', 1},
    {ORTC_DTYPE_COMPLEX64, 'c', 8}, {ORTC_DTYPE_COMPLEX128, 'c', 16},
};
#define N_NPY_TYPES (sizeof npy_types / sizeof npy_types[0])

static const npy_type *npy_type_of_dtype(ortc_dtype dtype)
{
    for (size_t i = 0; i < N_NPY_TYPES; i++)
        if (npy_types[i].dtype == dtype)
            return &npy_types[i];
    return NULL;
}

/* ---- header parsing: a tiny reader for the dict literal ---------------- */

typedef struct hdr_reader {
    const char *p, *end;
} hdr_reader;

static void skip_space(hdr_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int accept_char(hdr_reader *r, char c)
{
    skip_space(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...", no escapes needed for npy keys/descrs). */
static int read_string(hdr_reader *r, char *out, size_t outlen)
{
    skip_space(r);
    if (r->p >= r->end || (*r->p != '\'' && *r->p != '"'))
        return -1;
    char q = *r->p++;
    size_t n = 0;
    while (r->p < r->end && *r->p != q) {
        if (*r->p == '\\' || n + 1 >= outlen)
            return -1;
        out[n++] = *r->p++;
    }
    if (r->p >= r->end)
        return -1;
    r->p++;
    out[n] = '\0';
    return 0;
}

static int read_word(hdr_reader *r, const char *word)
{
    skip_space(r);
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, word, n) == 0) {
        const char *after = r->p + n;
        if (after < r->end && (isalnum((unsigned char)*after) || *after == '_'))
            return 0;
        r->p = after;
        return 1;
    }
    return 0;
}

/* (), (n,), (a, b, c) — non-negative integers, an optional trailing comma,
 * and Python 2's 'L' suffix. Returns 0 or -1 with err set. */
static int read_shape(hdr_reader *r, ortc_tensor *t, char *err, size_t errlen)
{
    if (!accept_char(r, '(')) {
        ortc_tools_err(err, errlen, "header: 'shape' must be a tuple");
        return -1;
    }
    int rank = 0;
    for (;;) {
        if (accept_char(r, ')'))
            break;
        skip_space(r);
        if (r->p >= r->end || !isdigit((unsigned char)*r->p)) {
            ortc_tools_err(err, errlen, "header: 'shape' must hold non-negative integers");
            return -1;
        }
        int64_t v = 0;
        while (r->p < r->end && isdigit((unsigned char)*r->p)) {
            if (v > (INT64_MAX - 9) / 10) {
                ortc_tools_err(err, errlen, "header: a 'shape' dimension is too large");
                return -1;
            }
            v = v * 10 + (*r->p++ - '0');
        }
        if (r->p < r->end && (*r->p == 'L' || *r->p == 'l'))
            r->p++;
        if (rank >= ORTC_MAX_RANK) {
            ortc_tools_err(err, errlen, "header: 'shape' has more than %d dimensions",
                           ORTC_MAX_RANK);
            return -1;
        }
        t->dims[rank++] = v;
        if (accept_char(r, ','))
            continue;
        if (accept_char(r, ')'))
            break;
        ortc_tools_err(err, errlen, "header: 'shape' is not a valid tuple");
        return -1;
    }
    t->rank = rank;
    return 0;
}

/* Maps a descr such as '<f4' to a dtype; err names the descr on failure. */
static int parse_descr(const char *d, ortc_dtype *dtype, char *err, size_t errlen)
{
    char order = '=';
    const char *s = d;
    if (*s == '<' || *s == '>' || *s == '|' || *s == '=')
        order = *s++;
    char kind = *s ? *s++ : '\0';
    if (kind == '?' && *s == '\0') { /* NumPy's single-character bool code */
        *dtype = ORTC_DTYPE_BOOL;
        return 0;
    }
    if (kind == 'O') {
        ortc_tools_err(err, errlen, "header: object arrays ('%s') are not supported", d);
        return -1;
    }
    char *endp = NULL;
    errno = 0;
    long size = (*s >= '0' && *s <= '9') ? strtol(s, &endp, 10) : -1;
    if (size <= 0 || errno || !endp || *endp != '\0') {
        ortc_tools_err(err, errlen, "header: unsupported dtype '%s'", d);
        return -1;
    }
    if (order == '>' && size > 1) {
        ortc_tools_err(err, errlen, "header: big-endian data ('%s') is not supported", d);
        return -1;
    }
    for (size_t i = 0; i < N_NPY_TYPES; i++) {
        if (npy_types[i].kind == kind && npy_types[i].size == size) {
            if (order == '|' && size > 1)
                break; /* '|' means "byte order not applicable" */
            *dtype = npy_types[i].dtype;
            return 0;
        }
    }
    ortc_tools_err(err, errlen, "header: unsupported dtype '%s'", d);
    return -1;
}

/* Parses the dict literal between p and end into dtype/shape. */
static int parse_header_dict(const char *p, const char *end, ortc_tensor *t, char *err,
                             size_t errlen)
{
    hdr_reader r = {p, end};
    int have_descr = 0, have_order = 0, have_shape = 0;
    ortc_dtype dtype = ORTC_DTYPE_UNDEFINED;
    if (!accept_char(&r, '{')) {
        ortc_tools_err(err, errlen, "header: not a Python dict literal");
        return -1;
    }
    for (;;) {
        if (accept_char(&r, '}'))
            break;
        char key[32];
        if (read_string(&r, key, sizeof key) != 0) {
            ortc_tools_err(err, errlen, "header: expected a quoted key or '}'");
            return -1;
        }
        if (!accept_char(&r, ':')) {
            ortc_tools_err(err, errlen, "header: expected ':' after '%s'", key);
            return -1;
        }
        if (strcmp(key, "descr") == 0) {
            char descr[32];
            skip_space(&r);
            if (r.p < r.end && *r.p == '[') {
                ortc_tools_err(err, errlen, "header: structured dtypes are not supported");
                return -1;
            }
            if (read_string(&r, descr, sizeof descr) != 0) {
                ortc_tools_err(err, errlen, "header: 'descr' must be a dtype string");
                return -1;
            }
            if (parse_descr(descr, &dtype, err, errlen) != 0)
                return -1;
            have_descr++;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (read_word(&r, "True")) {
                ortc_tools_err(err, errlen,
                               "header: fortran_order True is not supported (C order only)");
                return -1;
            }
            if (!read_word(&r, "False")) {
                ortc_tools_err(err, errlen, "header: 'fortran_order' must be True or False");
                return -1;
            }
            have_order++;
        } else if (strcmp(key, "shape") == 0) {
            if (read_shape(&r, t, err, errlen) != 0)
                return -1;
            have_shape++;
        } else {
            ortc_tools_err(err, errlen, "header: unexpected key '%s'", key);
            return -1;
        }
        if (accept_char(&r, ','))
            continue;
        if (accept_char(&r, '}'))
            break;
        ortc_tools_err(err, errlen, "header: expected ',' or '}' after '%s'", key);
        return -1;
    }
    skip_space(&r);
    if (r.p != r.end) {
        ortc_tools_err(err, errlen, "header: unexpected text after the dict");
        return -1;
    }
    if (have_descr > 1 || have_order > 1 || have_shape > 1) {
        ortc_tools_err(err, errlen, "header: duplicate key");
        return -1;
    }
    if (!have_descr) {
        ortc_tools_err(err, errlen, "header: missing 'descr'");
        return -1;
    }
    if (!have_order) {
        ortc_tools_err(err, errlen, "header: missing 'fortran_order'");
        return -1;
    }
    if (!have_shape) {
        ortc_tools_err(err, errlen, "header: missing 'shape'");
        return -1;
    }
    t->dtype = dtype;
    return 0;
}

int ortc_npy_parse(const void *data, size_t size, ortc_tensor *t, char *err, size_t errlen)
{
    if (!data || !t) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    memset(t, 0, sizeof *t);
    const unsigned char *b = data;
    if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
        ortc_tools_err(err, errlen, "not a .npy file (bad magic)");
        return -1;
    }
    int major = b[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) {
            ortc_tools_err(err, errlen, "truncated header");
            return -1;
        }
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        hstart = 12;
    } else {
        ortc_tools_err(err, errlen, "unsupported .npy format version %d.%d", major, b[7]);
        return -1;
    }
    if (hlen > size - hstart) {
        ortc_tools_err(err, errlen, "truncated header (%zu bytes declared, %zu present)", hlen,
                       size - hstart);
        return -1;
    }
    const char *h = (const char *)b + hstart;
    ortc_tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    if (parse_header_dict(h, h + hlen, &tmp, err, errlen) != 0)
        return -1;

    const npy_type *ty = npy_type_of_dtype(tmp.dtype);
    uint64_t numel = 1;
    for (int i = 0; i < tmp.rank; i++) {
        uint64_t d = (uint64_t)tmp.dims[i];
        if (d != 0 && numel > UINT64_MAX / d) {
            ortc_tools_err(err, errlen, "header: 'shape' is too large");
            return -1;
        }
        numel *= d;
    }
    size_t have = size - hstart - hlen;
    if (numel > (uint64_t)SIZE_MAX / (uint64_t)ty->size ||
        numel * (uint64_t)ty->size != (uint64_t)have) {
        if (numel <= UINT64_MAX / (uint64_t)ty->size)
            ortc_tools_err(err, errlen,
                           "data length mismatch: shape needs %llu bytes, file has %zu",
                           (unsigned long long)(numel * (uint64_t)ty->size), have);
        else
            ortc_tools_err(err, errlen, "header: 'shape' is too large");
        return -1;
    }
    /* a valid pointer for empty tensors too */
    void *copy = ortc_tools_alloc_tensor(have);
    if (!copy) {
        ortc_tools_err(err, errlen, "out of memory (%zu bytes)", have);
        return -1;
    }
    memcpy(copy, h + hlen, have);
    if (tmp.dtype == ORTC_DTYPE_BOOL) { /* ortc's bool is 0 or 1 */
        unsigned char *c = copy;
        for (size_t i = 0; i < have; i++)
            c[i] = c[i] != 0;
    }
    *t = tmp;
    t->data = copy;
    return 0;
}

int ortc_npy_read(const char *path, ortc_tensor *t, char *err, size_t errlen)
{
    if (!path || !t) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    memset(t, 0, sizeof *t);
    char *buf;
    size_t n;
    if (ortc_tools_read_file(path, 0, &buf, &n, err, errlen))
        return -1;
    char msg[256];
    int rc = ortc_npy_parse(buf, n, t, msg, sizeof msg);
    if (rc != 0)
        ortc_tools_err(err, errlen, "%s: %s", path, msg);
    free(buf);
    return rc;
}

int ortc_npy_write(const char *path, const ortc_tensor *t, char *err, size_t errlen)
{
    if (!path || !t) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    const npy_type *ty = npy_type_of_dtype(t->dtype);
    if (!ty) {
        ortc_tools_err(err, errlen, "%s: dtype %d cannot be written as .npy", path, (int)t->dtype);
        return -1;
    }
    if (t->rank < 0 || t->rank > ORTC_MAX_RANK) {
        ortc_tools_err(err, errlen, "%s: invalid rank %d", path, t->rank);
        return -1;
    }
    uint64_t numel = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0 ||
            ((uint64_t)t->dims[i] != 0 && numel > UINT64_MAX / (uint64_t)t->dims[i])) {
            ortc_tools_err(err, errlen, "%s: invalid dimension %lld", path, (long long)t->dims[i]);
            return -1;
        }
        numel *= (uint64_t)t->dims[i];
    }
    if (numel > SIZE_MAX / (uint64_t)ty->size) {
        ortc_tools_err(err, errlen, "%s: tensor too large", path);
        return -1;
    }
    size_t bytes = (size_t)numel * (size_t)ty->size;
    if (bytes && !t->data) {
        ortc_tools_err(err, errlen, "%s: tensor has no data", path);
        return -1;
    }

    char dict[512];
    char descr[8];
    snprintf(descr, sizeof descr, "%c%c%d", ty->size == 1 ? '|' : '<', ty->kind, ty->size);
    int n =
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->rank; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", i ? ", " : "",
                      (long long)t->dims[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", t->rank == 1 ? "," : "");
    /* Pad with spaces so magic + length + header + '\n' is a multiple of 64
     * (what NumPy writes, keeping the data aligned). */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};

    FILE *f = fopen(path, "wb");
    if (!f) {
        ortc_tools_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int ok =
        fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && (bytes == 0 || fwrite(t->data, 1, bytes, f) == bytes);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        ortc_tools_err(err, errlen, "%s: write error", path);
        return -1;
    }
    return 0;
}
