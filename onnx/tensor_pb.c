/* tensor_pb.c — ONNX TensorProto -> ortc tensors: raw_data (inline, or
 * stripped by pb_strip.c and read from the source into the tensor's own
 * storage), the typed fields and external data, for every numeric dtype,
 * bool and string; also the public tensor-file readers. Knows nothing of
 * graphs (see loader.c) or of the wire format (pb_strip.c).
 *
 * Moving instead of copying: protobuf-c 1.4.1 allocates a bytes field
 * (raw_data) with allocator->alloc(len) and memcpy's the payload into it,
 * and a repeated scalar field (float_data, int64_data...) as one array of
 * n * sizeof(elem) from the same allocator. free_unpacked frees a bytes
 * field only when its .data is non-NULL (and not the descriptor default,
 * which onnx.proto does not set), and a repeated field's array only when
 * the pointer is non-NULL. So taking the pointer and then setting it to
 * NULL (length/count 0) hands the block to us and free_unpacked skips it.
 * Our allocator uses malloc/aligned_alloc, so free() releases it later.
 */
#include "tensor_pb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ortc reads raw_data as little-endian and runs on little-endian hosts only"
#endif

/* Storage of at least this size is aligned to it, so a session asked for
 * huge pages (ortc_options.huge_pages) can collapse it into whole ones. It
 * is not advised as huge pages here: on hosts that hand 2 MB blocks back to
 * the hypervisor when free, faulting in 250 MB of fresh huge pages took
 * 0.3-0.7 s against 0.05-0.1 s for small pages, which are recycled warm. */
#define PB_HUGE ((size_t)2 << 20)
#define PB_PAGE 4096
#define PB_POPULATE_MIN ((size_t)64 << 10)

/* ---- dtypes ----------------------------------------------------------------- */

int ortc_pb_dtype_known(int32_t data_type)
{
    switch (data_type) {
    case ORTC_DTYPE_FLOAT:
    case ORTC_DTYPE_UINT8:
    case ORTC_DTYPE_INT8:
    case ORTC_DTYPE_UINT16:
    case ORTC_DTYPE_INT16:
    case ORTC_DTYPE_INT32:
    case ORTC_DTYPE_INT64:
    case ORTC_DTYPE_STRING:
    case ORTC_DTYPE_BOOL:
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_DOUBLE:
    case ORTC_DTYPE_UINT32:
    case ORTC_DTYPE_UINT64:
    case ORTC_DTYPE_COMPLEX64:
    case ORTC_DTYPE_COMPLEX128:
    case ORTC_DTYPE_BFLOAT16: return 1;
    default: return 0;
    }
}

/* Which typed field holds a dtype's elements, and how many values per
 * element (complex numbers are two floats / doubles). */
typedef enum typed_field {
    FIELD_FLOAT,
    FIELD_INT32,
    FIELD_STRING,
    FIELD_INT64,
    FIELD_DOUBLE,
    FIELD_UINT64,
    FIELD_COUNT
} typed_field;

static const char *const field_names[FIELD_COUNT] = {"float_data", "int32_data",  "string_data",
                                                     "int64_data", "double_data", "uint64_data"};

static size_t field_len(const Onnx__TensorProto *tp, typed_field f)
{
    switch (f) {
    case FIELD_FLOAT: return tp->n_float_data;
    case FIELD_INT32: return tp->n_int32_data;
    case FIELD_STRING: return tp->n_string_data;
    case FIELD_INT64: return tp->n_int64_data;
    case FIELD_DOUBLE: return tp->n_double_data;
    case FIELD_UINT64: return tp->n_uint64_data;
    case FIELD_COUNT: break;
    }
    return 0;
}

static ortc_status field_for(ortc_dtype dt, typed_field *f, size_t *per_elem, const char *desc,
                             ortc_errbuf *err)
{
    *per_elem = 1;
    switch (dt) {
    case ORTC_DTYPE_FLOAT: *f = FIELD_FLOAT; return ORTC_STATUS_OK;
    case ORTC_DTYPE_COMPLEX64:
        *f = FIELD_FLOAT;
        *per_elem = 2;
        return ORTC_STATUS_OK;
    case ORTC_DTYPE_INT32:
    case ORTC_DTYPE_INT16:
    case ORTC_DTYPE_INT8:
    case ORTC_DTYPE_UINT16:
    case ORTC_DTYPE_UINT8:
    case ORTC_DTYPE_BOOL:
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_BFLOAT16: *f = FIELD_INT32; return ORTC_STATUS_OK;
    case ORTC_DTYPE_STRING: *f = FIELD_STRING; return ORTC_STATUS_OK;
    case ORTC_DTYPE_INT64: *f = FIELD_INT64; return ORTC_STATUS_OK;
    case ORTC_DTYPE_DOUBLE: *f = FIELD_DOUBLE; return ORTC_STATUS_OK;
    case ORTC_DTYPE_COMPLEX128:
        *f = FIELD_DOUBLE;
        *per_elem = 2;
        return ORTC_STATUS_OK;
    case ORTC_DTYPE_UINT32:
    case ORTC_DTYPE_UINT64: *f = FIELD_UINT64; return ORTC_STATUS_OK;
    case ORTC_DTYPE_UNDEFINED: break;
    }
    return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                        "%s has data type %d, which has no typed field", desc, (int)dt);
}

/* ---- building the constant ---------------------------------------------------- */

/* A constant of `shape` (bytes long) whose storage is allocated but not
 * written, except the padding after `bytes` (zeroed): callers fill it.
 * Released by ortc_const_tensor_free (free()). */
static ortc_const_tensor *const_uninit(const ortc_tensor *shape, size_t bytes, bool populate)
{
    size_t padded = (bytes + ORTC_PB_ALIGN - 1) & ~(size_t)(ORTC_PB_ALIGN - 1);
    if (padded < bytes)
        return NULL;
    if (!padded)
        padded = ORTC_PB_ALIGN; /* data != NULL even for no elements */
    ortc_const_tensor *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    void *p;
    if (bytes >= PB_HUGE) {
        size_t whole = (bytes + PB_HUGE - 1) & ~(PB_HUGE - 1);
        p = whole < bytes ? NULL : aligned_alloc(PB_HUGE, whole);
    } else {
        p = aligned_alloc(ORTC_PB_ALIGN, padded);
    }
    if (!p) {
        free(c);
        return NULL;
    }
#ifdef MADV_POPULATE_WRITE
    /* fault the small pages in with one call rather than one exception
     * each (tails and tensors below PB_HUGE; costly under virtualization);
     * advice only: older kernels refuse it */
    if (populate && bytes >= PB_POPULATE_MIN) {
        uintptr_t lo = ((uintptr_t)p + PB_PAGE - 1) & ~(uintptr_t)(PB_PAGE - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(PB_PAGE - 1);
        if (hi > lo)
            madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
    }
#endif
    memset((char *)p + bytes, 0, padded - bytes);
    c->t = *shape;
    c->t.data = p;
    c->owned = p;
    return c;
}

/* A constant over `block` (bytes long) when it is suitably aligned, else a
 * copy of it. *taken tells the caller to forget the block. */
static ortc_const_tensor *adopt_or_copy(void *block, size_t bytes, const ortc_tensor *shape,
                                        bool *taken)
{
    *taken = false;
    if (block && bytes >= ORTC_PB_ALIGNED_MIN && ((uintptr_t)block % ORTC_PB_ALIGN) == 0) {
        ortc_const_tensor *c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        c->t = *shape;
        c->owned = block;
        c->t.data = block;
        *taken = true;
        return c;
    }
    ortc_const_tensor *c = ortc_const_tensor_new(shape->dtype, shape->rank, shape->dims);
    if (c && bytes)
        memcpy(c->t.data, block, bytes);
    return c;
}

static ortc_status oom(ortc_errbuf *err, const char *desc)
{
    return ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "%s: out of memory", desc);
}

/* Elements stored one per int32_data entry, narrowed to the dtype's width.
 * Returns the index of the first entry outside the dtype's range (a uint8
 * zero point written as 300 would otherwise wrap silently to 44), or -1.
 * BOOL takes any value as "nonzero"; the 16-bit float types hold their bit
 * patterns, 0..65535. */
static int64_t narrow_int32(void *dst, const int32_t *src, size_t n, ortc_dtype dt)
{
    int32_t lo = 0, hi = 65535;
    switch (dt) {
    case ORTC_DTYPE_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
    case ORTC_DTYPE_UINT8: hi = UINT8_MAX; break;
    case ORTC_DTYPE_INT16: lo = INT16_MIN, hi = INT16_MAX; break;
    case ORTC_DTYPE_BOOL: lo = INT32_MIN, hi = INT32_MAX; break;
    default: break; /* UINT16, FLOAT16, BFLOAT16 */
    }
    for (size_t i = 0; i < n; i++)
        if (src[i] < lo || src[i] > hi)
            return (int64_t)i;
    switch (dt) {
    case ORTC_DTYPE_INT8:
        for (size_t i = 0; i < n; i++)
            ((int8_t *)dst)[i] = (int8_t)src[i];
        break;
    case ORTC_DTYPE_UINT8:
        for (size_t i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = (uint8_t)src[i];
        break;
    case ORTC_DTYPE_BOOL:
        for (size_t i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = src[i] != 0;
        break;
    case ORTC_DTYPE_INT16:
        for (size_t i = 0; i < n; i++)
            ((int16_t *)dst)[i] = (int16_t)src[i];
        break;
    default:
        for (size_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = (uint16_t)src[i];
        break;
    }
    return -1;
}

static ortc_status from_typed(Onnx__TensorProto *tp, const char *desc, const ortc_tensor *shape,
                              int64_t numel, size_t bytes, ortc_const_tensor **out,
                              ortc_errbuf *err)
{
    typed_field f = FIELD_FLOAT;
    size_t per = 1;
    ORTC_TRY(field_for(shape->dtype, &f, &per, desc, err));
    for (int k = 0; k < FIELD_COUNT; k++)
        if (k != (int)f && field_len(tp, (typed_field)k))
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "%s stores %zu values in %s, which cannot hold %s (use %s)", desc,
                                field_len(tp, (typed_field)k), field_names[k],
                                ortc_dtype_name(shape->dtype), field_names[f]);
    size_t have = field_len(tp, f);
    if (have != (uint64_t)numel * per) {
        if (have == 0)
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "%s has %lld elements but no data (raw_data and %s are empty)",
                                desc, (long long)numel, field_names[f]);
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s has %lld elements but %s holds %zu values%s", desc,
                            (long long)numel, field_names[f], have,
                            per == 2 ? " (complex numbers take two each)" : "");
    }

    ortc_const_tensor *c = NULL;
    bool taken = false;
/* c over tp's repeated field `f`, emptied when its block was taken */
#define ADOPT_FIELD(f)                                                                             \
    do {                                                                                           \
        c = adopt_or_copy(tp->f, bytes, shape, &taken);                                            \
        if (taken) {                                                                               \
            tp->f = NULL;                                                                          \
            tp->n_##f = 0;                                                                         \
        }                                                                                          \
    } while (0)
    switch (shape->dtype) {
    case ORTC_DTYPE_FLOAT:
    case ORTC_DTYPE_COMPLEX64: ADOPT_FIELD(float_data); break;
    case ORTC_DTYPE_INT32: ADOPT_FIELD(int32_data); break;
    case ORTC_DTYPE_INT64: ADOPT_FIELD(int64_data); break;
    case ORTC_DTYPE_DOUBLE:
    case ORTC_DTYPE_COMPLEX128: ADOPT_FIELD(double_data); break;
    case ORTC_DTYPE_UINT64: ADOPT_FIELD(uint64_data); break;
    case ORTC_DTYPE_UINT32:
        c = ortc_const_tensor_new(shape->dtype, shape->rank, shape->dims);
        if (c)
            for (int64_t i = 0; i < numel; i++) {
                if (tp->uint64_data[i] > UINT32_MAX) {
                    ortc_const_tensor_free(c);
                    return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                        "%s: uint64_data[%lld] is %llu, outside the range of "
                                        "uint32",
                                        desc, (long long)i, (unsigned long long)tp->uint64_data[i]);
                }
                ((uint32_t *)c->t.data)[i] = (uint32_t)tp->uint64_data[i];
            }
        break;
    case ORTC_DTYPE_INT8:
    case ORTC_DTYPE_UINT8:
    case ORTC_DTYPE_BOOL:
    case ORTC_DTYPE_INT16:
    case ORTC_DTYPE_UINT16:
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_BFLOAT16:
        c = ortc_const_tensor_new(shape->dtype, shape->rank, shape->dims);
        if (c) {
            int64_t bad = narrow_int32(c->t.data, tp->int32_data, (size_t)numel, shape->dtype);
            if (bad >= 0) {
                ortc_const_tensor_free(c);
                return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                    "%s: int32_data[%lld] is %d, outside the range of %s", desc,
                                    (long long)bad, (int)tp->int32_data[bad],
                                    ortc_dtype_name(shape->dtype));
            }
        }
        break;
    case ORTC_DTYPE_STRING:
        c = ortc_const_tensor_new(shape->dtype, shape->rank, shape->dims);
        if (c) {
            char **s = c->t.data;
            for (int64_t i = 0; i < numel; i++)
                if (!(s[i] = ortc_pb_bytes_dup(&tp->string_data[i]))) {
                    ortc_const_tensor_free(c);
                    return oom(err, desc);
                }
        }
        break;
    case ORTC_DTYPE_UNDEFINED: break;
    }
#undef ADOPT_FIELD
    if (!c)
        return oom(err, desc);
    *out = c;
    return ORTC_STATUS_OK;
}

/* ---- external data ---------------------------------------------------------------- */

/* Non-negative decimal integer, whole string. */
static int parse_offset(const char *s, int64_t *v)
{
    if (!s || !*s)
        return -1;
    int64_t r = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        int d = *s - '0';
        if (r > (INT64_MAX - d) / 10)
            return -1;
        r = r * 10 + d;
    }
    *v = r;
    return 0;
}

static bool has_dotdot_component(const char *loc)
{
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static ortc_status errno_status(int e)
{
    return e == ENOMEM ? ORTC_STATUS_OUT_OF_MEMORY : ORTC_STATUS_IO_ERROR;
}

static ortc_status from_external(Onnx__TensorProto *tp, const char *desc, const char *dir,
                                 const ortc_tensor *shape, size_t bytes, ortc_const_tensor **out,
                                 ortc_errbuf *err)
{
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv->key)
            continue;
        if (strcmp(kv->key, "location") == 0)
            loc = kv->value ? kv->value : "";
        else if (strcmp(kv->key, "offset") == 0)
            off_s = kv->value ? kv->value : "";
        else if (strcmp(kv->key, "length") == 0)
            len_s = kv->value ? kv->value : "";
        /* "checksum" (SHA1 of the file) and unknown keys are ignored */
    }
    if (!loc || !*loc)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s uses external data but names no 'location'", desc);
    if (shape->dtype == ORTC_DTYPE_STRING)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s is a string tensor in external data '%s'; strings must be stored "
                            "in string_data",
                            desc, loc);
    if (!dir)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s keeps its data in external file '%s', but no folder is known to "
                            "resolve it (load the model from a file, or pass a base folder)",
                            desc, loc);
    if (loc[0] == '/')
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s: external data location '%s' is an absolute path; it must be "
                            "relative to the model's folder",
                            desc, loc);
    if (has_dotdot_component(loc))
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s: external data location '%s' contains '..'; it must stay inside "
                            "the model's folder",
                            desc, loc);
    int64_t offset = 0, length = -1;
    if (off_s && parse_offset(off_s, &offset))
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s: external data offset '%s' (location '%s') is not a "
                            "non-negative integer",
                            desc, off_s, loc);
    if (len_s && parse_offset(len_s, &length))
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                            "%s: external data length '%s' (location '%s') is not a "
                            "non-negative integer",
                            desc, len_s, loc);

    /* resolve symlinks and make sure the file stays inside the folder */
    size_t plen = strlen(dir) + 1 + strlen(loc) + 1;
    char *joined = malloc(plen);
    if (!joined)
        return oom(err, desc);
    snprintf(joined, plen, "%s/%s", dir, loc);
    char *rdir = realpath(dir, NULL);
    int rdir_errno = errno;
    char *rfile = rdir ? realpath(joined, NULL) : NULL;
    int rfile_errno = errno;
    free(joined);
    if (!rdir)
        return ortc_err_set(err, errno_status(rdir_errno),
                            "%s: cannot resolve the model's folder '%s' for external data '%s': %s",
                            desc, dir, loc, ortc_pb_strerror(rdir_errno));
    if (!rfile) {
        free(rdir);
        return ortc_err_set(err, errno_status(rfile_errno),
                            "%s: cannot open external data file '%s': %s", desc, loc,
                            ortc_pb_strerror(rfile_errno));
    }
    size_t dl = strlen(rdir);
    bool inside = strncmp(rfile, rdir, dl) == 0 &&
                  (rfile[dl] == '/' || (dl == 1 && rdir[0] == '/')) && rfile[dl] != '\0';
    free(rdir);
    if (!inside) {
        ortc_status st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                      "%s: external data location '%s' resolves to '%s', outside "
                                      "the model's folder",
                                      desc, loc, rfile);
        free(rfile);
        return st;
    }

    int fd = open(rfile, O_RDONLY | O_CLOEXEC);
    int open_errno = errno;
    free(rfile);
    if (fd < 0)
        return ortc_err_set(err, errno_status(open_errno),
                            "%s: cannot open external data file '%s': %s", desc, loc,
                            ortc_pb_strerror(open_errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR,
                            "%s: external data '%s' is not a regular file", desc, loc);
    }
    int64_t fsize = (int64_t)sb.st_size;
    ortc_status st = ORTC_STATUS_OK;
    if (offset > fsize) {
        st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                          "%s: external data offset %lld is beyond the end of '%s' (%lld bytes)",
                          desc, (long long)offset, loc, (long long)fsize);
    } else if (length >= 0 && length > fsize - offset) {
        st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                          "%s: external data '%s' at offset %lld with length %lld runs past the "
                          "end of the file (%lld bytes)",
                          desc, loc, (long long)offset, (long long)length, (long long)fsize);
    } else {
        if (length < 0)
            length = fsize - offset;
        if ((uint64_t)length != bytes)
            st = ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                              "%s needs %zu bytes but external data '%s' has %lld (offset %lld)",
                              desc, bytes, loc, (long long)length, (long long)offset);
    }
    if (st) {
        close(fd);
        return st;
    }
    ortc_const_tensor *c = const_uninit(shape, bytes, true);
    if (!c) {
        close(fd);
        return oom(err, desc);
    }
    size_t done = 0;
    while (done < bytes) {
        ssize_t r = pread(fd, (char *)c->t.data + done, bytes - done, (off_t)(offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            ortc_const_tensor_free(c);
            return ortc_err_set(err, ORTC_STATUS_IO_ERROR,
                                "%s: reading external data '%s' failed at byte %zu: %s", desc, loc,
                                (size_t)offset + done, r < 0 ? ortc_pb_strerror(e) : "file shrank");
        }
        done += (size_t)r;
    }
    close(fd);
    *out = c;
    return ORTC_STATUS_OK;
}

/* One part of a tensor read from the file: its pages faulted in with one
 * call, then pread in pieces (so a huge tensor does not stall one syscall
 * and a signal only repeats a piece). */
typedef struct pb_part {
    int fd;
    char *dst;
    size_t len;
    uint64_t offset;  /* in the file */
    size_t failed_at; /* bytes read before the failure */
    int err;          /* 0, errno, or -1: the file shrank */
} pb_part;

static void *pb_read_part(void *arg)
{
    pb_part *p = arg;
#ifdef MADV_POPULATE_WRITE
    uintptr_t lo = ((uintptr_t)p->dst + PB_PAGE - 1) & ~(uintptr_t)(PB_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p->dst + p->len) & ~(uintptr_t)(PB_PAGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* advice only */
#endif
    size_t done = 0;
    while (done < p->len) {
        size_t piece = p->len - done < ((size_t)64 << 20) ? p->len - done : ((size_t)64 << 20);
        ssize_t r = pread(p->fd, p->dst + done, piece, (off_t)(p->offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            p->err = r < 0 ? errno : -1;
            p->failed_at = done;
            return NULL;
        }
        done += (size_t)r;
    }
    return NULL;
}

/* Reads of at least PB_CHUNK bytes in all use up to PB_READ_PARTS threads:
 * faulting in fresh pages and copying them out of the page cache is
 * per-page kernel work that scales with cores (AlexNet's 234 MB on 2 cores
 * of a VM: 0.05 s instead of 0.09 s for its largest tensor). */
#define PB_READ_PARTS 4

/* ---- reads deferred to the end of the load ------------------------------------
 * With src->reads set, a stripped raw_data of the file is only allocated
 * when its tensor is made; ortc_pb_reads_run then reads all of them in
 * chunks by up to PB_READ_PARTS threads (per tensor, one thread read
 * inception_v3's 95 MB of tensors under 8 MB one after another). Without
 * it, each tensor is one such run of its own. */

#define PB_CHUNK ((size_t)4 << 20) /* page-aligned pieces the threads take */

typedef struct pb_read {
    char *dst;
    size_t len;
    uint64_t offset;
    char *desc; /* the tensor, for a failure */
} pb_read;

struct ortc_pb_reads {
    pb_read *r;
    size_t n, cap;
    /* the run: chunk k of read i; threads take the next under mu */
    pthread_mutex_t mu;
    size_t next_read, next_off;
    size_t fail_read; /* lowest failing read (n: none) */
    pb_part fail;
    int fd;
};

ortc_pb_reads *ortc_pb_reads_new(void)
{
    ortc_pb_reads *q = calloc(1, sizeof *q);
    if (q)
        pthread_mutex_init(&q->mu, NULL);
    return q;
}

void ortc_pb_reads_free(ortc_pb_reads *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->mu);
    for (size_t i = 0; i < q->n; i++)
        free(q->r[i].desc);
    free(q->r);
    free(q);
}

static bool reads_add(ortc_pb_reads *q, char *dst, size_t len, uint64_t offset, const char *desc)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        pb_read *r = realloc(q->r, cap * sizeof *r);
        if (!r)
            return false;
        q->r = r;
        q->cap = cap;
    }
    char *d = strdup(desc);
    if (!d)
        return false;
    q->r[q->n++] = (pb_read){.dst = dst, .len = len, .offset = offset, .desc = d};
    return true;
}

static void *reads_worker(void *arg)
{
    ortc_pb_reads *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->next_read < q->n && q->next_off >= q->r[q->next_read].len) {
            q->next_read++;
            q->next_off = 0;
        }
        if (q->next_read >= q->n || q->next_read > q->fail_read) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        size_t i = q->next_read, at = q->next_off;
        const pb_read *r = &q->r[i];
        size_t end = r->len - at <= PB_CHUNK ? r->len : (at + PB_CHUNK) & ~(size_t)(PB_PAGE - 1);
        if (end <= at)
            end = r->len;
        q->next_off = end;
        pthread_mutex_unlock(&q->mu);
        pb_part part = {.fd = q->fd, .dst = r->dst + at, .len = end - at, .offset = r->offset + at};
        pb_read_part(&part);
        if (part.err) {
            pthread_mutex_lock(&q->mu);
            if (i < q->fail_read || (i == q->fail_read && part.offset < q->fail.offset)) {
                q->fail_read = i;
                q->fail = part;
            }
            pthread_mutex_unlock(&q->mu);
        }
    }
}

ortc_status ortc_pb_reads_run(ortc_pb_source *src, ortc_errbuf *err)
{
    ortc_pb_reads *q = src->reads;
    if (!q || !q->n)
        return ORTC_STATUS_OK;
    size_t total = 0;
    for (size_t i = 0; i < q->n; i++)
        total += q->r[i].len;
    q->fd = src->fd;
    q->next_read = q->next_off = 0;
    q->fail_read = q->n;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cores < 2 || total < PB_CHUNK ? 1 : cores > PB_READ_PARTS ? PB_READ_PARTS : (int)cores;
    pthread_t tid[PB_READ_PARTS];
    bool started[PB_READ_PARTS] = {false};
    for (int i = 1; i < n; i++)
        started[i] = pthread_create(&tid[i], NULL, reads_worker, q) == 0;
    reads_worker(q);
    for (int i = 1; i < n; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
    if (q->fail_read == q->n)
        return ORTC_STATUS_OK;
    const pb_part *p = &q->fail;
    uint64_t where = p->offset + p->failed_at;
    return ortc_err_set(err, p->err > 0 ? errno_status(p->err) : ORTC_STATUS_IO_ERROR,
                        "%s: reading raw_data at byte %llu of the %s failed: %s",
                        q->r[q->fail_read].desc, (unsigned long long)where,
                        src->kind ? src->kind : "file",
                        p->err > 0 ? ortc_pb_strerror(p->err) : "it shrank while loading");
}

/* A stripped raw_data: copied from the buffer, or read from the file with
 * pread straight into the tensor's storage (no mapping, so the file's pages
 * never count in this process's RSS). */
static ortc_status from_source(const ortc_pb_source *src, const ortc_pb_blob *blob,
                               const char *desc, const ortc_tensor *shape, size_t bytes,
                               ortc_const_tensor **out, ortc_errbuf *err)
{
    ortc_const_tensor *c = const_uninit(shape, bytes, src->data != NULL);
    if (!c)
        return oom(err, desc);
    if (src->data) {
        memcpy(c->t.data, src->data + blob->offset, bytes);
        *out = c;
        return ORTC_STATUS_OK;
    }
    if (src->reads) { /* read by ortc_pb_reads_run */
        if (bytes && !reads_add(src->reads, c->t.data, bytes, blob->offset, desc)) {
            ortc_const_tensor_free(c);
            return oom(err, desc);
        }
        c->origin = ortc_const_origin_ref(src->origin);
        c->origin_offset = blob->offset;
        *out = c;
        return ORTC_STATUS_OK;
    }
    /* read now: a queue of this one tensor, run as the deferred reads are */
    ortc_pb_reads *q = ortc_pb_reads_new();
    if (!q || (bytes && !reads_add(q, c->t.data, bytes, blob->offset, desc))) {
        ortc_pb_reads_free(q);
        ortc_const_tensor_free(c);
        return oom(err, desc);
    }
    ortc_pb_source one = *src;
    one.reads = q;
    ortc_status st = ortc_pb_reads_run(&one, err);
    ortc_pb_reads_free(q);
    if (st) {
        ortc_const_tensor_free(c);
        return st;
    }
    c->origin = ortc_const_origin_ref(src->origin);
    c->origin_offset = blob->offset;
    *out = c;
    return ORTC_STATUS_OK;
}

/* ---- TensorProto -> ortc_const_tensor --------------------------------------------- */

ortc_status ortc_pb_tensor_convert(Onnx__TensorProto *tp, const char *label, const char *dir,
                                   const ortc_pb_source *src, ortc_const_tensor **out,
                                   ortc_errbuf *err)
{
    *out = NULL;
    if (!tp->has_data_type || tp->data_type == ORTC_DTYPE_UNDEFINED)
        return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL, "%s has no data type", label);
    if (!ortc_pb_dtype_known(tp->data_type))
        return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                            "%s has data type %d, which is not an ONNX type ortc knows", label,
                            (int)tp->data_type);
    if (tp->n_dims > ORTC_MAX_RANK)
        return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                            "%s has rank %zu; ortc supports at most %d dims", label, tp->n_dims,
                            ORTC_MAX_RANK);
    ortc_tensor shape = {(ortc_dtype)tp->data_type, (int)tp->n_dims, {0}, NULL};
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0)
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "%s has dim %zu = %lld; dims must be >= 0", label, i,
                                (long long)tp->dims[i]);
        shape.dims[i] = tp->dims[i];
    }
    char sbuf[200], desc[600];
    snprintf(desc, sizeof desc, "%s (%s %s)", label, ortc_dtype_name(shape.dtype),
             ortc_shape_str(sbuf, sizeof sbuf, shape.rank, shape.dims));
    int64_t numel = ortc_tensor_numel(&shape);
    size_t bytes = ortc_tensor_bytes(&shape);
    if (numel < 0 || (numel > 0 && bytes == 0))
        return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "%s has more elements than this machine can address", desc);
    if (tp->segment)
        return ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                            "%s is stored in segments, which ortc does not support", desc);

    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return from_external(tp, desc, dir, &shape, bytes, out, err);

    bool any_typed = false;
    for (int k = 0; k < FIELD_COUNT; k++)
        any_typed |= field_len(tp, (typed_field)k) != 0;
    /* a stripped raw_data came after any inline one, so it is the one */
    long blob = ortc_pb_stripped_index(tp, src);
    uint64_t raw_len = blob >= 0 ? src->blobs[blob].len : tp->raw_data.len;
    /* an explicitly empty raw_data next to a filled typed field is ignored */
    if (raw_len || (tp->has_raw_data && !any_typed)) {
        if (shape.dtype == ORTC_DTYPE_STRING)
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "%s uses raw_data; string tensors must use string_data", desc);
        for (int k = 0; k < FIELD_COUNT; k++)
            if (field_len(tp, (typed_field)k))
                return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                    "%s has both raw_data and %s; only one may hold the data", desc,
                                    field_names[k]);
        if (raw_len != bytes)
            return ortc_err_set(err, ORTC_STATUS_INVALID_MODEL,
                                "%s needs %zu bytes but raw_data has %llu", desc, bytes,
                                (unsigned long long)raw_len);
        if (blob >= 0)
            return from_source(src, &src->blobs[blob], desc, &shape, bytes, out, err);
        bool taken;
        ortc_const_tensor *c = adopt_or_copy(tp->raw_data.data, bytes, &shape, &taken);
        if (!c)
            return oom(err, desc);
        if (taken) {
            tp->raw_data.data = NULL;
            tp->raw_data.len = 0;
            tp->has_raw_data = 0;
        }
        *out = c;
        return ORTC_STATUS_OK;
    }
    return from_typed(tp, desc, &shape, numel, bytes, out, err);
}

/* ---- public tensor files ---------------------------------------------------------- */

/* Unpacks a TensorProto from src (its bytes at data when in memory) into *t
 * and *name. */
static ortc_status parse_tensor(const uint8_t *data, ortc_pb_source *src, ortc_tensor *t,
                                char **name, ortc_errbuf *err)
{
    if (src->size > INT32_MAX)
        return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "a TensorProto of %llu bytes exceeds protobuf's 2 GB limit",
                            (unsigned long long)src->size);
    ProtobufCMessage *msg = NULL;
    ORTC_TRY(
        data ? ortc_pb_unpack_stripped(&onnx__tensor_proto__descriptor, data, (size_t)src->size,
                                       "TensorProto", src, &msg, err)
             : ortc_pb_unpack_fd(&onnx__tensor_proto__descriptor, "TensorProto", src, &msg, err));
    ortc_status st = ORTC_STATUS_OK;
    Onnx__TensorProto *tp = (Onnx__TensorProto *)msg;
    char label[400];
    snprintf(label, sizeof label, "tensor '%s'", tp->name ? tp->name : "");
    ortc_const_tensor *c = NULL;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        st =
            ortc_err_set(err, ORTC_STATUS_UNSUPPORTED,
                         "%s keeps its data in an external file; tensor files must hold it", label);
    else
        st = ortc_pb_tensor_convert(tp, label, NULL, src, &c, err);
    char *nm = NULL;
    if (!st && name) {
        const char *s = tp->name ? tp->name : "";
        nm = malloc(strlen(s) + 1);
        if (!nm)
            st = oom(err, label);
        else
            strcpy(nm, s);
    }
    protobuf_c_message_free_unpacked(&tp->base, ortc_pb_allocator());
    free(src->blobs);
    src->blobs = NULL;
    src->n_blobs = 0;
    if (st) {
        ortc_const_tensor_free(c);
        return st;
    }
    *t = c->t;
    t->data = c->owned;
    free(c); /* the struct only: the data now belongs to the caller */
    if (name)
        *name = nm;
    return ORTC_STATUS_OK;
}

ortc_status ortc_tensor_parse_pb(const void *data, size_t size, ortc_tensor *t, char **name)
{
    if (name)
        *name = NULL;
    if (!t)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "ortc_tensor_parse_pb: t is NULL");
    memset(t, 0, sizeof *t);
    if (!data && size)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "ortc_tensor_parse_pb: data is NULL but size is %zu", size);
    ortc_pb_source src = {data ? data : (const void *)"", -1, size, "buffer", NULL, 0, NULL, NULL};
    return parse_tensor(src.data, &src, t, name, NULL);
}

ortc_status ortc_tensor_read_pb(const char *path, ortc_tensor *t, char **name)
{
    if (name)
        *name = NULL;
    if (!t || !path)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "ortc_tensor_read_pb: %s is NULL",
                            t ? "path" : "t");
    memset(t, 0, sizeof *t);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return ortc_err_set(NULL, errno_status(e), "%s: cannot open: %s", path,
                            ortc_pb_strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ortc_err_set(NULL, ORTC_STATUS_IO_ERROR, "%s: not a regular file", path);
    }
    ortc_errbuf err;
    ortc_err_clear(&err);
    ortc_pb_source src = {NULL, fd, (uint64_t)sb.st_size, "file", NULL, 0, NULL, NULL};
    ortc_status st = parse_tensor(NULL, &src, t, name, &err);
    close(fd);
    if (st)
        ortc_err_prefix(&err, "%s", path);
    return st;
}

void ortc_tensor_release(ortc_tensor *t)
{
    if (!t)
        return;
    if (t->dtype == ORTC_DTYPE_STRING && t->data) {
        int64_t n = ortc_tensor_numel(t);
        char **s = t->data;
        for (int64_t i = 0; i < n; i++)
            free(s[i]);
    }
    free(t->data);
    memset(t, 0, sizeof *t);
}
