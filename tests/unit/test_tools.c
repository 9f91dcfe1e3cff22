/* test_tools.c — Check runner for tools/ (.npy, PNG/JPEG, resize, cards, labels,
 * preprocessing) against hand-derived values and NumPy/Pillow/torchvision run
 * by $ORTC_PYTHON. The CLI is tested by tests/models/test_preprocess.py.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "card.h"
#include "helper_common.h"
#include "cases.h"
#include "image.h"
#include "npy.h"
#include "preprocess.h"
#include "resize.h"

/* ---- shared helpers -------------------------------------------------------- */

static char g_tmp[256]; /* a fresh folder per run, made in main() */

static void tpath(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%.200s", g_tmp, name);
}

static const char *python(void)
{
    const char *p = getenv("ORTC_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* The source tree: $ORTC_SOURCE_DIR (set by CTest), else from __FILE__. */
static void source_dir(char *out, size_t n)
{
    const char *env = getenv("ORTC_SOURCE_DIR");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    snprintf(out, n, "%s", __FILE__);
    char *p = strstr(out, "/tests/unit/");
    if (p)
        *p = '\0';
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Writes `script` to the temp folder and runs it with python3 and `args`;
 * returns the exit status; output (stdout+stderr) goes to out. */
static int run_python(const char *name, const char *script, const char *args, char *out,
                      size_t outlen)
{
    char path[512], cmd[2048];
    tpath(path, sizeof path, name);
    write_file(path, script, strlen(script));
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s 2>&1", python(), path, args);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint32_t rng_state = 12345;
static uint32_t xorshift32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Compares two 8-bit images; fails naming the worst pixel. */
static void assert_pixels(const char *what, const uint8_t *got, const uint8_t *want, int w, int h,
                          int ch, int tol)
{
    int worst = -1, wi = 0;
    for (int i = 0; i < w * h * ch; i++) {
        int d = abs((int)got[i] - (int)want[i]);
        if (d > worst)
            worst = d, wi = i;
    }
    ck_assert_msg(worst <= tol,
                  "%s: max diff %d > %d at x=%d y=%d c=%d (got %d, want %d; %dx%dx%d)", what, worst,
                  tol, (wi / ch) % w, wi / ch / w, wi % ch, got[wi], want[wi], w, h, ch);
}

/* Pillow's RGB -> L, verified on all 2^24 colours against Pillow 9.4. */
static uint8_t pil_luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 32768u) >> 16);
}

/* ---- npy ---------------------------------------------------------------- */

typedef struct npy_case {
    ortc_dtype dtype;
    const char *np; /* numpy dtype string used by the interop script */
    size_t size;
} npy_case;

static const npy_case npy_cases[] = {
    {ORTC_DTYPE_FLOAT, "f4", 4},     {ORTC_DTYPE_DOUBLE, "f8", 8},
    {ORTC_DTYPE_FLOAT16, "f2", 2},   {ORTC_DTYPE_INT8, "i1", 1},
    {ORTC_DTYPE_INT16, "i2", 2},     {ORTC_DTYPE_INT32, "i4", 4},
    {ORTC_DTYPE_INT64, "i8", 8},     {ORTC_DTYPE_UINT8, "u1", 1},
    {ORTC_DTYPE_UINT16, "u2", 2},    {ORTC_DTYPE_UINT32, "u4", 4},
    {ORTC_DTYPE_UINT64, "u8", 8},    {ORTC_DTYPE_BOOL, "b1", 1},
    {ORTC_DTYPE_COMPLEX64, "c8", 8}, {ORTC_DTYPE_COMPLEX128, "c16", 16},
};
#define N_NPY_CASES (sizeof npy_cases / sizeof npy_cases[0])

/* Half-precision bits of a float that is exactly representable (normal or 0). */
static uint16_t to_half(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) == 0)
        return (uint16_t)(u >> 16);
    uint32_t sign = u >> 31, exp = (u >> 23) & 0xff, man = u & 0x7fffff;
    return (uint16_t)(sign << 15 | (exp - 127 + 15) << 10 | man >> 13);
}

/* The interop pattern (same formulas as the Python script below). */
static void fill_interop(const npy_case *c, unsigned char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = data + i * c->size;
        double fv = (double)i * 0.5 - 3.0;
        long long iv = (long long)(i * 7 % 200);
        switch (c->dtype) {
        case ORTC_DTYPE_FLOAT: {
            float v = (float)fv;
            memcpy(p, &v, 4);
            break;
        }
        case ORTC_DTYPE_DOUBLE: memcpy(p, &fv, 8); break;
        case ORTC_DTYPE_FLOAT16: {
            uint16_t v = to_half((float)fv);
            memcpy(p, &v, 2);
            break;
        }
        case ORTC_DTYPE_INT8: {
            int8_t v = (int8_t)(iv - 100);
            memcpy(p, &v, 1);
            break;
        }
        case ORTC_DTYPE_INT16: {
            int16_t v = (int16_t)(iv - 100);
            memcpy(p, &v, 2);
            break;
        }
        case ORTC_DTYPE_INT32: {
            int32_t v = (int32_t)(iv - 100);
            memcpy(p, &v, 4);
            break;
        }
        case ORTC_DTYPE_INT64: {
            int64_t v = iv - 100;
            memcpy(p, &v, 8);
            break;
        }
        case ORTC_DTYPE_UINT8: {
            uint8_t v = (uint8_t)iv;
            memcpy(p, &v, 1);
            break;
        }
        case ORTC_DTYPE_UINT16: {
            uint16_t v = (uint16_t)iv;
            memcpy(p, &v, 2);
            break;
        }
        case ORTC_DTYPE_UINT32: {
            uint32_t v = (uint32_t)iv;
            memcpy(p, &v, 4);
            break;
        }
        case ORTC_DTYPE_UINT64: {
            uint64_t v = (uint64_t)iv;
            memcpy(p, &v, 8);
            break;
        }
        case ORTC_DTYPE_BOOL: p[0] = i % 3 == 1; break;
        case ORTC_DTYPE_COMPLEX64: {
            float v[2] = {(float)fv, (float)i};
            memcpy(p, v, 8);
            break;
        }
        case ORTC_DTYPE_COMPLEX128: {
            double v[2] = {fv, (double)i};
            memcpy(p, v, 16);
            break;
        }
        default: ck_abort_msg("no pattern for dtype %d", (int)c->dtype);
        }
    }
}

START_TEST(test_npy_roundtrip)
{
    /* every dtype, at ranks 0, 1 and 3 */
    static const int64_t shapes[3][3] = {{0}, {5}, {2, 3, 4}};
    static const int ranks[3] = {0, 1, 3};
    for (size_t k = 0; k < N_NPY_CASES; k++) {
        const npy_case *c = &npy_cases[k];
        for (int s = 0; s < 3; s++) {
            ortc_tensor t = {c->dtype, ranks[s], {0}, NULL};
            size_t n = 1;
            for (int d = 0; d < ranks[s]; d++)
                n *= (size_t)(t.dims[d] = shapes[s][d]);
            unsigned char *data = malloc(n * c->size);
            fill_interop(c, data, n);
            t.data = data;
            char path[512], err[256] = "";
            tpath(path, sizeof path, "rt.npy");
            ck_assert_msg(ortc_npy_write(path, &t, err, sizeof err) == 0, "%s: %s", c->np, err);
            size_t fsize;
            unsigned char *file = read_all(path, &fsize);
            ck_assert_msg(memcmp(file, "\x93NUMPY\x01\x00", 8) == 0, "%s: bad magic", c->np);
            ck_assert_msg((fsize - n * c->size) % 64 == 0, "%s: header not 64-aligned", c->np);
            free(file);
            ortc_tensor r;
            ck_assert_msg(ortc_npy_read(path, &r, err, sizeof err) == 0, "%s: %s", c->np, err);
            ck_assert_int_eq(r.dtype, c->dtype);
            ck_assert_int_eq(r.rank, ranks[s]);
            for (int d = 0; d < ranks[s]; d++)
                ck_assert_int_eq(r.dims[d], shapes[s][d]);
            ck_assert_msg(memcmp(r.data, data, n * c->size) == 0, "%s rank %d: data differs", c->np,
                          ranks[s]);
            free(r.data);
            free(data);
        }
    }
}
END_TEST

/* An in-memory .npy with the given version, header text and data. */
static size_t make_npy(unsigned char *out, int major, const char *header, const void *data,
                       size_t n)
{
    size_t hl = strlen(header), pos = 0;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)major;
    out[7] = 0;
    if (major == 1) {
        out[8] = (unsigned char)(hl & 0xff), out[9] = (unsigned char)(hl >> 8);
        pos = 10;
    } else {
        out[8] = (unsigned char)(hl & 0xff), out[9] = (unsigned char)(hl >> 8);
        out[10] = out[11] = 0;
        pos = 12;
    }
    memcpy(out + pos, header, hl);
    memcpy(out + pos + hl, data, n);
    return pos + hl + n;
}

START_TEST(test_npy_headers)
{
    static const struct {
        int major;
        const char *header;
        size_t nbytes;
        ortc_dtype dtype;
        int rank;
        int64_t d0, d1;
    } ok[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24, ORTC_DTYPE_FLOAT,
         2, 2, 3},
        {1, "{ 'shape' : (2,3) , 'descr':'<f4','fortran_order':False }", 24, ORTC_DTYPE_FLOAT, 2, 2,
         3},
        {1, "{\"fortran_order\": False, \"shape\": (2, 3), \"descr\": \"<f4\"}   \n", 24,
         ORTC_DTYPE_FLOAT, 2, 2, 3},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8, ORTC_DTYPE_DOUBLE, 0, 0,
         0},
        {1, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 40, ORTC_DTYPE_INT64, 1, 5,
         0},
        {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3L, 2L), }", 24, ORTC_DTYPE_INT32,
         2, 3, 2},
        {2, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", 4, ORTC_DTYPE_UINT8, 1, 4,
         0},
        {3, "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", 8, ORTC_DTYPE_UINT16, 1, 4,
         0},
        {1, "{'descr': '=i4', 'fortran_order': False, 'shape': (2,), }", 8, ORTC_DTYPE_INT32, 1, 2,
         0},
        {1, "{'descr': 'i2', 'fortran_order': False, 'shape': (2,), }", 4, ORTC_DTYPE_INT16, 1, 2,
         0},
        {1, "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", 2, ORTC_DTYPE_INT8, 1, 2,
         0},
        {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4, ORTC_DTYPE_FLOAT16, 1,
         2, 0},
        {1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", 8, ORTC_DTYPE_UINT64, 1, 1,
         0},
        {1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", 4, ORTC_DTYPE_UINT32, 1, 1,
         0},
        {1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", 3, ORTC_DTYPE_BOOL, 1, 3,
         0},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0, ORTC_DTYPE_FLOAT, 2,
         0, 3},
    };
    unsigned char data[64], buf[512];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 3 + 2);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = make_npy(buf, ok[i].major, ok[i].header, data, ok[i].nbytes);
        ortc_tensor t;
        char err[256] = "";
        ck_assert_msg(ortc_npy_parse(buf, n, &t, err, sizeof err) == 0, "case %zu (%s): %s", i,
                      ok[i].header, err);
        ck_assert_int_eq(t.dtype, ok[i].dtype);
        ck_assert_int_eq(t.rank, ok[i].rank);
        if (ok[i].rank > 0)
            ck_assert_int_eq(t.dims[0], ok[i].d0);
        if (ok[i].rank > 1)
            ck_assert_int_eq(t.dims[1], ok[i].d1);
        ck_assert_ptr_nonnull(t.data);
        if (ok[i].dtype == ORTC_DTYPE_BOOL) { /* bytes 2, 5, 8 -> true */
            for (size_t k = 0; k < 3; k++)
                ck_assert_int_eq(((unsigned char *)t.data)[k], 1);
        } else {
            ck_assert(memcmp(t.data, data, ok[i].nbytes) == 0);
        }
        free(t.data);
    }
}
END_TEST

START_TEST(test_npy_malformed)
{
    static const struct {
        int major;
        const char *header;
        size_t nbytes;
        const char *msg;
    } bad[] = {
        {1, "{'fortran_order': False, 'shape': (2, 3), }", 24, "header: missing 'descr'"},
        {1, "{'descr': '<f4', 'fortran_order': False, }", 24, "header: missing 'shape'"},
        {1, "{'descr': '<f4', 'shape': (2, 3), }", 24, "header: missing 'fortran_order'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24,
         "'shape' must hold non-negative integers"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", 24,
         "'shape' must be a tuple"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,,3), }", 24,
         "'shape' must hold non-negative integers"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 24,
         "'shape' is not a valid tuple"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20,
         "data length mismatch: shape needs 24 bytes, file has 20"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28,
         "data length mismatch: shape needs 24 bytes, file has 28"},
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24,
         "fortran_order True is not supported"},
        {1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 24,
         "'fortran_order' must be True or False"},
        {1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24,
         "big-endian data ('>f4') is not supported"},
        {1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16,
         "object arrays ('|O') are not supported"},
        {1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
         "structured dtypes are not supported"},
        {1, "{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", 20,
         "unsupported dtype '<U5'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'foo': 1}", 8,
         "unexpected key 'foo'"},
        {1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8,
         "duplicate key"},
        {1, "['descr', '<f4']", 8, "not a Python dict literal"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
         "more than 8 dimensions"},
        {1,
         "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, "
         "4294967296), }",
         4, "too large"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,) } junk", 8,
         "unexpected text after the dict"},
    };
    unsigned char data[64] = {0}, buf[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = make_npy(buf, bad[i].major, bad[i].header, data, bad[i].nbytes);
        ortc_tensor t;
        char err[256] = "";
        ck_assert_msg(ortc_npy_parse(buf, n, &t, err, sizeof err) == -1, "case %zu accepted: %s", i,
                      bad[i].header);
        ck_assert_msg(strstr(err, bad[i].msg) != NULL, "case %zu: message '%s' lacks '%s'", i, err,
                      bad[i].msg);
        ck_assert_ptr_null(t.data);
    }
    /* framing errors */
    ortc_tensor t;
    char err[256];
    ck_assert_int_eq(ortc_npy_parse("PK\x03\x04 not npy", 14, &t, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a .npy file"));
    size_t n = make_npy(buf, 4, "{}", data, 0);
    ck_assert_int_eq(ortc_npy_parse(buf, n, &t, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unsupported .npy format version 4.0"));
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data, 4);
    ck_assert_int_eq(ortc_npy_parse(buf, 30, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "truncated header") != NULL, "%s", err);
    (void)n;
}
END_TEST

START_TEST(test_npy_file_errors)
{
    char path[512], err[512] = "";
    ortc_tensor t;
    tpath(path, sizeof path, "does-not-exist.npy");
    ck_assert_int_eq(ortc_npy_read(path, &t, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strstr(err, "No such file"),
                  "message: %s", err);
    unsigned char buf[256], data[8] = {0};
    size_t n = make_npy(buf, 1, "{'descr': '<f4', 'shape': (2,), }", data, 8);
    tpath(path, sizeof path, "bad.npy");
    write_file(path, buf, n);
    ck_assert_int_eq(ortc_npy_read(path, &t, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s: header: missing 'fortran_order'", path);
    ck_assert_str_eq(err, want);
    /* writing: a string tensor and an unwritable path */
    ortc_tensor s = {ORTC_DTYPE_STRING, 1, {1}, data};
    ck_assert_int_eq(ortc_npy_write(path, &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "cannot be written") != NULL, "%s", err);
    ortc_tensor f = {ORTC_DTYPE_FLOAT, 1, {2}, data};
    ck_assert_int_eq(ortc_npy_write("/nonexistent-dir/x.npy", &f, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent-dir/x.npy") != NULL, "%s", err);
}
END_TEST

static const char npy_interop_py[] =
    "import sys, numpy as np\n"
    "from numpy.lib import format as F\n"
    "d = sys.argv[1]\n"
    "def pattern(n, dt):\n"
    "    i = np.arange(n)\n"
    "    if dt == np.bool_: return i % 3 == 1\n"
    "    if dt.kind == 'f': return (i * 0.5 - 3).astype(dt)\n"
    "    if dt.kind == 'c': return (i * 0.5 - 3 + 1j * i).astype(dt)\n"
    "    if dt.kind == 'u': return (i * 7 % 200).astype(dt)\n"
    "    return (i * 7 % 200 - 100).astype(dt)\n"
    "bad = 0\n"
    "for n in sys.argv[2:]:\n"
    "    dt = np.dtype('?' if n == 'b1' else n)\n"
    "    exp = pattern(24, dt).reshape(2, 3, 4)\n"
    "    a = np.load(f'{d}/c_{n}.npy')\n"
    "    if a.dtype != dt or a.shape != (2, 3, 4) or not np.array_equal(a, exp):\n"
    "        print('numpy reads ortc file', n, 'as', a.dtype, a.shape, a.ravel()[:6]); bad += 1\n"
    "    np.save(f'{d}/py_{n}.npy', exp)\n"
    "x = pattern(6, np.dtype('f4')).reshape(2, 3)\n"
    "for v in (1, 2, 3):\n"
    "    with open(f'{d}/py_v{v}.npy', 'wb') as f: F.write_array(f, x, version=(v, 0))\n"
    "np.save(f'{d}/py_scalar.npy', np.float64(2.5))\n"
    "np.save(f'{d}/py_empty.npy', np.zeros((0, 3), np.int32))\n"
    "np.save(f'{d}/py_fortran.npy', np.asfortranarray(x))\n"
    "np.save(f'{d}/py_bigendian.npy', x.astype('>f4'))\n"
    "np.save(f'{d}/py_object.npy', np.array([1, 'a'], dtype=object), allow_pickle=True)\n"
    "sys.exit(1 if bad else 0)\n";

START_TEST(test_npy_numpy_interop)
{
    char args[1024], out[4096], path[512], err[512] = "";
    int pos = snprintf(args, sizeof args, "'%s'", g_tmp);
    for (size_t k = 0; k < N_NPY_CASES; k++) {
        const npy_case *c = &npy_cases[k];
        unsigned char data[24 * 16];
        fill_interop(c, data, 24);
        ortc_tensor t = {c->dtype, 3, {2, 3, 4}, data};
        char name[64];
        snprintf(name, sizeof name, "c_%s.npy", c->np);
        tpath(path, sizeof path, name);
        ck_assert_msg(ortc_npy_write(path, &t, err, sizeof err) == 0, "%s", err);
        pos += snprintf(args + pos, sizeof args - (size_t)pos, " %s", c->np);
    }
    int rc = run_python("npy_interop.py", npy_interop_py, args, out, sizeof out);
    ck_assert_msg(rc == 0, "numpy check failed (exit %d): %s", rc, out);
    /* numpy's files, read by ortc */
    for (size_t k = 0; k < N_NPY_CASES; k++) {
        const npy_case *c = &npy_cases[k];
        unsigned char want[24 * 16];
        fill_interop(c, want, 24);
        char name[64];
        snprintf(name, sizeof name, "py_%s.npy", c->np);
        tpath(path, sizeof path, name);
        ortc_tensor t;
        ck_assert_msg(ortc_npy_read(path, &t, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(t.dtype, c->dtype);
        ck_assert_int_eq(t.rank, 3);
        ck_assert(t.dims[0] == 2 && t.dims[1] == 3 && t.dims[2] == 4);
        ck_assert_msg(memcmp(t.data, want, 24 * c->size) == 0, "numpy's %s differs", c->np);
        free(t.data);
    }
    for (int v = 1; v <= 3; v++) {
        char name[32];
        snprintf(name, sizeof name, "py_v%d.npy", v);
        tpath(path, sizeof path, name);
        ortc_tensor t;
        ck_assert_msg(ortc_npy_read(path, &t, err, sizeof err) == 0, "v%d: %s", v, err);
        ck_assert(t.dtype == ORTC_DTYPE_FLOAT && t.rank == 2 && t.dims[0] == 2 && t.dims[1] == 3);
        ck_assert(((float *)t.data)[5] == -0.5f);
        free(t.data);
    }
    ortc_tensor t;
    tpath(path, sizeof path, "py_scalar.npy");
    ck_assert_msg(ortc_npy_read(path, &t, err, sizeof err) == 0, "%s", err);
    ck_assert(t.rank == 0 && t.dtype == ORTC_DTYPE_DOUBLE && *(double *)t.data == 2.5);
    free(t.data);
    tpath(path, sizeof path, "py_empty.npy");
    ck_assert_msg(ortc_npy_read(path, &t, err, sizeof err) == 0, "%s", err);
    ck_assert(t.rank == 2 && t.dims[0] == 0 && t.dims[1] == 3 && t.dtype == ORTC_DTYPE_INT32);
    free(t.data);
    static const struct {
        const char *file, *msg;
    } refused[] = {
        {"py_fortran.npy", "fortran_order True"},
        {"py_bigendian.npy", "big-endian"},
        {"py_object.npy", "object arrays"},
    };
    for (size_t i = 0; i < 3; i++) {
        tpath(path, sizeof path, refused[i].file);
        ck_assert_int_eq(ortc_npy_read(path, &t, err, sizeof err), -1);
        ck_assert_msg(strstr(err, refused[i].msg) && strstr(err, refused[i].file),
                      "%s: message '%s'", refused[i].file, err);
    }
}
END_TEST

/* ---- PNG and JPEG writers (libpng / libjpeg) ----------------------------- */

typedef struct test_png {
    int w, h, color_type, depth, interlace;
    uint16_t *samples; /* h * w * spp */
    png_color pal[256];
    int n_pal;
    png_byte trns[256];
    int n_trns;     /* palette alpha entries */
    int trns_color; /* 1: a tRNS colour key for gray / RGB */
} test_png;

static int spp_of(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;
    }
}

static void png_write_mem(png_structp png, png_bytep data, size_t n)
{
    FILE *f = png_get_io_ptr(png);
    if (fwrite(data, 1, n, f) != n)
        png_error(png, "write failed");
}

static void png_flush_mem(png_structp png)
{
    (void)png;
}

static void write_test_png(const char *path, const test_png *p)
{
    int spp = spp_of(p->color_type);
    int bps = p->depth == 16 ? 2 : 1; /* packed by libpng for depth < 8 */
    size_t rowbytes = (size_t)p->w * spp * bps;
    unsigned char *rows = malloc(rowbytes * p->h);
    png_bytep *rp = malloc(sizeof *rp * p->h);
    ck_assert(rows && rp);
    for (int y = 0; y < p->h; y++) {
        rp[y] = rows + rowbytes * y;
        for (int i = 0; i < p->w * spp; i++) {
            uint16_t v = p->samples[(size_t)y * p->w * spp + i];
            if (bps == 2) {
                rp[y][2 * i] = (png_byte)(v >> 8);
                rp[y][2 * i + 1] = (png_byte)(v & 0xff);
            } else {
                rp[y][i] = (png_byte)v;
            }
        }
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        ck_abort_msg("libpng failed writing %s", path);
    png_set_write_fn(png, f, png_write_mem, png_flush_mem);
    png_set_check_for_invalid_index(png, 0); /* out-of-range indices on purpose */
    png_set_IHDR(png, info, (png_uint_32)p->w, (png_uint_32)p->h, p->depth, p->color_type,
                 p->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (p->color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_PLTE(png, info, p->pal, p->n_pal);
    if (p->n_trns)
        png_set_tRNS(png, info, p->trns, p->n_trns, NULL);
    if (p->trns_color) {
        png_color_16 key = {0, 1, 2, 3, 1};
        png_set_tRNS(png, info, NULL, 0, &key);
    }
    png_write_info(png, info);
    if (p->depth < 8)
        png_set_packing(png);
    png_set_interlace_handling(png);
    png_write_image(png, rp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(f), 0);
    free(rows);
    free(rp);
}

/* Random samples for p (palette indices may exceed the palette: Pillow maps
 * those to gray, which the expectation below encodes). */
static void fill_test_png(test_png *p, int w, int h, int color_type, int depth, int interlace)
{
    memset(p, 0, sizeof *p);
    p->w = w, p->h = h, p->color_type = color_type, p->depth = depth;
    p->interlace = interlace;
    int spp = spp_of(color_type);
    p->samples = malloc(sizeof *p->samples * (size_t)w * h * spp);
    ck_assert_ptr_nonnull(p->samples);
    uint32_t max = (1u << depth) - 1;
    for (int i = 0; i < w * h * spp; i++) {
        uint32_t v = xorshift32() & max;
        /* 16-bit gray: keep many values near 255 to exercise the clip */
        if (color_type == PNG_COLOR_TYPE_GRAY && depth == 16 && (i & 1))
            v = xorshift32() % 400;
        p->samples[i] = (uint16_t)v;
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        p->n_pal = (int)(1 + xorshift32() % (max + 1)); /* 1 .. 2^depth entries */
        for (int i = 0; i < p->n_pal; i++) {
            p->pal[i].red = (png_byte)xorshift32();
            p->pal[i].green = (png_byte)xorshift32();
            p->pal[i].blue = (png_byte)xorshift32();
        }
    }
}

/* What Pillow's Image.open(f).convert(mode) gives for p's samples (rules
 * measured on Pillow 9.4; test_decode_vs_pillow re-checks them). */
static void expected_png(const test_png *p, int channels, uint8_t *out)
{
    int spp = spp_of(p->color_type);
    for (int i = 0; i < p->w * p->h; i++) {
        const uint16_t *s = p->samples + (size_t)i * spp;
        unsigned r, g, b;
        switch (p->color_type) {
        case PNG_COLOR_TYPE_GRAY:
            if (p->depth == 16)
                g = s[0] > 255 ? 255 : s[0];
            else
                g = s[0] * 255u / ((1u << p->depth) - 1);
            r = b = g;
            break;
        case PNG_COLOR_TYPE_GRAY_ALPHA: r = g = b = p->depth == 16 ? s[0] >> 8 : s[0]; break;
        case PNG_COLOR_TYPE_PALETTE:
            if (s[0] < p->n_pal)
                r = p->pal[s[0]].red, g = p->pal[s[0]].green, b = p->pal[s[0]].blue;
            else
                r = g = b = s[0];
            break;
        default: /* RGB, RGBA */
            r = s[0], g = s[1], b = s[2];
            if (p->depth == 16)
                r >>= 8, g >>= 8, b >>= 8;
            break;
        }
        if (channels == 3) {
            out[3 * i] = (uint8_t)r, out[3 * i + 1] = (uint8_t)g, out[3 * i + 2] = (uint8_t)b;
        } else {
            out[i] = pil_luma(r, g, b);
        }
    }
}

static const struct {
    int color_type, depth;
    const char *name;
} png_kinds[] = {
    {PNG_COLOR_TYPE_GRAY, 1, "gray1"},        {PNG_COLOR_TYPE_GRAY, 2, "gray2"},
    {PNG_COLOR_TYPE_GRAY, 4, "gray4"},        {PNG_COLOR_TYPE_GRAY, 8, "gray8"},
    {PNG_COLOR_TYPE_GRAY, 16, "gray16"},      {PNG_COLOR_TYPE_GRAY_ALPHA, 8, "ga8"},
    {PNG_COLOR_TYPE_GRAY_ALPHA, 16, "ga16"},  {PNG_COLOR_TYPE_RGB, 8, "rgb8"},
    {PNG_COLOR_TYPE_RGB, 16, "rgb16"},        {PNG_COLOR_TYPE_RGB_ALPHA, 8, "rgba8"},
    {PNG_COLOR_TYPE_RGB_ALPHA, 16, "rgba16"}, {PNG_COLOR_TYPE_PALETTE, 1, "pal1"},
    {PNG_COLOR_TYPE_PALETTE, 2, "pal2"},      {PNG_COLOR_TYPE_PALETTE, 4, "pal4"},
    {PNG_COLOR_TYPE_PALETTE, 8, "pal8"},
};
#define N_PNG_KINDS (sizeof png_kinds / sizeof png_kinds[0])

/* Writes a JPEG with libjpeg; comps 1 (gray), 3 (RGB) or 4 (CMYK/YCCK). */
static unsigned char *make_jpeg(int w, int h, int comps, const uint8_t *px, int quality,
                                int progressive, J_COLOR_SPACE jpeg_cs, unsigned long *size)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    *size = 0;
    jpeg_mem_dest(&c, &buf, size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, jpeg_cs);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return buf;
}

/* A smooth colour test picture (so JPEG is close to it). */
static uint8_t *smooth_rgb(int w, int h)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(40 + 150 * x / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(200 - 120 * y / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)(90 + 60 * (x + y) / (w + h));
        }
    return px;
}

/* ---- image decoding ------------------------------------------------------- */

START_TEST(test_png_all_kinds)
{
    /* every color type and bit depth, interlaced or not, at sizes that give
     * Adam7 empty passes (1x1, 3x5) and partial blocks (17x9) */
    static const int sizes[][2] = {{1, 1}, {3, 5}, {17, 9}, {64, 2}};
    char path[512], err[256] = "";
    for (size_t k = 0; k < N_PNG_KINDS; k++)
        for (int il = 0; il < 2; il++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                test_png p;
                fill_test_png(&p, sizes[s][0], sizes[s][1], png_kinds[k].color_type,
                              png_kinds[k].depth, il);
                if (png_kinds[k].color_type == PNG_COLOR_TYPE_PALETTE && s == 2)
                    for (int i = 0; i < p.n_pal && i < 3; i++)
                        p.trns[p.n_trns++] = (png_byte)(i * 100); /* palette tRNS */
                if ((png_kinds[k].color_type == PNG_COLOR_TYPE_GRAY ||
                     png_kinds[k].color_type == PNG_COLOR_TYPE_RGB) &&
                    s == 2)
                    p.trns_color = 1; /* colour-key tRNS: ignored by convert() */
                tpath(path, sizeof path, "kind.png");
                write_test_png(path, &p);
                for (int ch = 1; ch <= 3; ch += 2) {
                    ortc_image img;
                    int rc = ortc_image_load(path, ch == 3 ? ORTC_IMAGE_RGB : ORTC_IMAGE_GRAY, &img,
                                             err, sizeof err);
                    ck_assert_msg(rc == 0, "%s il=%d %dx%d: %s", png_kinds[k].name, il, p.w, p.h,
                                  err);
                    ck_assert_int_eq(img.width, p.w);
                    ck_assert_int_eq(img.height, p.h);
                    ck_assert_int_eq(img.channels, ch);
                    uint8_t *want = malloc((size_t)p.w * p.h * ch);
                    expected_png(&p, ch, want);
                    char what[96];
                    snprintf(what, sizeof what, "%s interlace=%d %dx%d ch=%d", png_kinds[k].name,
                             il, p.w, p.h, ch);
                    assert_pixels(what, img.pixels, want, p.w, p.h, ch, 0);
                    free(want);
                    ortc_image_free(&img);
                    ck_assert_ptr_null(img.pixels);
                }
                free(p.samples);
            }
}
END_TEST

START_TEST(test_jpeg_kinds)
{
    char err[256] = "";
    int w = 37, h = 29;
    uint8_t *rgb = smooth_rgb(w, h);
    uint8_t *gray = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++)
        gray[i] = pil_luma(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    for (int prog = 0; prog < 2; prog++) {
        unsigned long n;
        unsigned char *j = make_jpeg(w, h, 3, rgb, 95, prog, JCS_YCbCr, &n);
        ortc_image a, b;
        ck_assert_msg(ortc_image_decode(j, n, ORTC_IMAGE_RGB, &a, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(ortc_image_decode(j, n, ORTC_IMAGE_GRAY, &b, err, sizeof err) == 0, "%s",
                      err);
        ck_assert(a.width == w && a.height == h && a.channels == 3 && b.channels == 1);
        /* lossy: near the source (quality 95, smooth picture); exact
         * equality with Pillow is test_decode_vs_pillow's job */
        assert_pixels(prog ? "progressive RGB vs source" : "baseline RGB vs source", a.pixels, rgb,
                      w, h, 3, 12);
        /* gray of a colour JPEG is Pillow's luma of the decoded RGB, exactly */
        uint8_t *l = malloc((size_t)w * h);
        for (int i = 0; i < w * h; i++)
            l[i] = pil_luma(a.pixels[3 * i], a.pixels[3 * i + 1], a.pixels[3 * i + 2]);
        assert_pixels("gray of colour JPEG = luma(RGB)", b.pixels, l, w, h, 1, 0);
        free(l);
        ortc_image_free(&a);
        ortc_image_free(&b);
        free(j);
    }
    /* grayscale JPEG: RGB mode replicates the gray decode exactly */
    unsigned long n;
    unsigned char *j = make_jpeg(w, h, 1, gray, 95, 0, JCS_GRAYSCALE, &n);
    ortc_image a, b;
    ck_assert_msg(ortc_image_decode(j, n, ORTC_IMAGE_GRAY, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(ortc_image_decode(j, n, ORTC_IMAGE_RGB, &b, err, sizeof err) == 0, "%s", err);
    assert_pixels("gray JPEG vs source", a.pixels, gray, w, h, 1, 6);
    uint8_t *rep = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++)
        rep[i] = a.pixels[i / 3];
    assert_pixels("gray JPEG as RGB = replicated gray", b.pixels, rep, w, h, 3, 0);
    free(rep);
    ortc_image_free(&a);
    ortc_image_free(&b);
    free(j);
    /* a constant picture decodes to (nearly) that constant */
    uint8_t *flat = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++)
        flat[3 * i] = 200, flat[3 * i + 1] = 30, flat[3 * i + 2] = 90;
    j = make_jpeg(w, h, 3, flat, 90, 0, JCS_YCbCr, &n);
    ck_assert_msg(ortc_image_decode(j, n, ORTC_IMAGE_RGB, &a, err, sizeof err) == 0, "%s", err);
    assert_pixels("constant JPEG", a.pixels, flat, w, h, 3, 2);
    ortc_image_free(&a);
    free(j);
    free(flat);
    /* CMYK and YCCK are refused */
    uint8_t *cmyk = calloc((size_t)w * h, 4);
    j = make_jpeg(w, h, 4, cmyk, 90, 0, JCS_CMYK, &n);
    ck_assert_int_eq(ortc_image_decode(j, n, ORTC_IMAGE_RGB, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "CMYK JPEG images are not supported") != NULL, "%s", err);
    ck_assert_ptr_null(a.pixels);
    free(j);
    j = make_jpeg(w, h, 4, cmyk, 90, 0, JCS_YCCK, &n);
    ck_assert_int_eq(ortc_image_decode(j, n, ORTC_IMAGE_RGB, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "YCCK JPEG images are not supported") != NULL, "%s", err);
    free(j);
    free(cmyk);
    free(rgb);
    free(gray);
}
END_TEST

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A PNG signature and IHDR (w x h, RGB 8-bit), then `extra` bytes. */
static size_t png_header_only(unsigned char *out, uint32_t w, uint32_t h)
{
    memcpy(out, "\x89PNG\r\n\x1a\n", 8);
    put32(out + 8, 13);
    memcpy(out + 12, "IHDR", 4);
    put32(out + 16, w);
    put32(out + 20, h);
    out[24] = 8, out[25] = 2, out[26] = out[27] = out[28] = 0;
    put32(out + 29, crc32_of(out + 12, 17));
    return 33;
}

/* png with one chunk inserted after IHDR (CRC spoilt when bad_crc). */
static unsigned char *insert_chunk(const unsigned char *png, size_t n, const char *type,
                                   const void *data, size_t len, int bad_crc, size_t *out_n)
{
    unsigned char *b = malloc(n + len + 12);
    ck_assert_ptr_nonnull(b);
    memcpy(b, png, 33); /* signature + IHDR */
    put32(b + 33, (uint32_t)len);
    memcpy(b + 37, type, 4);
    memcpy(b + 41, data, len);
    put32(b + 41 + len, crc32_of(b + 37, len + 4) ^ (bad_crc ? 1u : 0u));
    memcpy(b + 45 + len, png + 33, n - 33);
    *out_n = n + len + 12;
    return b;
}

START_TEST(test_image_errors)
{
    char path[512], err[512] = "";
    ortc_image img;
    /* not an image, empty, missing */
    ck_assert_int_eq(ortc_image_decode("hello world", 11, ORTC_IMAGE_RGB, &img, err, sizeof err),
                     -1);
    ck_assert_str_eq(err, "not a PNG or JPEG file");
    ck_assert_int_eq(ortc_image_decode("", 0, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_str_eq(err, "not a PNG or JPEG file");
    tpath(path, sizeof path, "text.png");
    write_file(path, "GIF89a not really", 17);
    ck_assert_int_eq(ortc_image_load(path, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s: not a PNG or JPEG file", path);
    ck_assert_str_eq(err, want);
    tpath(path, sizeof path, "missing.png");
    ck_assert_int_eq(ortc_image_load(path, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) == err && strstr(err, "No such file"), "%s", err);

    /* oversized headers fail fast, naming the size */
    unsigned char buf[4096];
    size_t n = png_header_only(buf, 30000, 30000);
    clock_t t0 = clock();
    ck_assert_int_eq(ortc_image_decode(buf, n, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "30000x30000") && strstr(err, "limit"), "%s", err);
    n = png_header_only(buf, 0, 5);
    ck_assert_int_eq(ortc_image_decode(buf, n, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "zero size") != NULL, "%s", err);
    uint8_t *rgb = smooth_rgb(16, 16);
    unsigned long jn;
    unsigned char *j = make_jpeg(16, 16, 3, rgb, 90, 0, JCS_YCbCr, &jn);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < jn; i++)
        if (j[i] == 0xFF && j[i + 1] == 0xC0) {
            sof = i;
            break;
        }
    ck_assert_msg(sof > 0, "no SOF0 in the test JPEG");
    j[sof + 5] = 0x75, j[sof + 6] = 0x30, j[sof + 7] = 0x75, j[sof + 8] = 0x30; /* 30000 */
    ck_assert_int_eq(ortc_image_decode(j, jn, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "30000x30000") && strstr(err, "limit"), "%s", err);
    ck_assert_int_eq(ortc_image_decode(j, sof + 19, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "30000x30000") != NULL, "header cut after SOF: %s", err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    ck_assert_msg(secs < 1.0, "oversized headers took %.2f s to refuse", secs);
    j[sof + 5] = 0, j[sof + 6] = 0, j[sof + 7] = 0, j[sof + 8] = 16; /* height 0 */
    ck_assert_int_eq(ortc_image_decode(j, jn, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "JPEG") != NULL, "%s", err);
    free(j);

    /* truncated data at several cut points */
    j = make_jpeg(16, 16, 3, rgb, 90, 0, JCS_YCbCr, &jn);
    for (size_t cut = jn / 4; cut < jn - 2; cut += jn / 4) {
        ck_assert_int_eq(ortc_image_decode(j, cut, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "truncated JPEG data") != NULL, "cut %zu: %s", cut, err);
        ck_assert_ptr_null(img.pixels);
    }
    free(j);
    test_png p;
    fill_test_png(&p, 40, 30, PNG_COLOR_TYPE_RGB, 8, 0);
    tpath(path, sizeof path, "full.png");
    write_test_png(path, &p);
    uint8_t *pix = malloc(40 * 30 * 3);
    expected_png(&p, 3, pix);
    free(p.samples);
    size_t pn;
    unsigned char *png = read_all(path, &pn);
    /* cut inside the image data (one IDAT; its CRC and IEND are the last 16) */
    for (size_t cut = 8; cut < pn - 16; cut += (pn - 16) / 7) {
        ck_assert_int_eq(ortc_image_decode(png, cut, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "truncated PNG data") != NULL, "cut %zu of %zu: %s", cut, pn,
                      err);
        ck_assert_ptr_null(img.pixels);
    }
    /* after the image data nothing is read, as Pillow 9.4 (measured): a
     * missing IEND and a bad IDAT CRC still decode */
    ck_assert_msg(ortc_image_decode(png, pn - 12, ORTC_IMAGE_RGB, &img, err, sizeof err) == 0,
                  "no IEND: %s", err);
    assert_pixels("PNG without IEND", img.pixels, pix, 40, 30, 3, 0);
    ortc_image_free(&img);
    png[pn - 13] ^= 0x55; /* last byte of IDAT's CRC */
    ck_assert_msg(ortc_image_decode(png, pn, ORTC_IMAGE_RGB, &img, err, sizeof err) == 0,
                  "bad IDAT CRC: %s", err);
    assert_pixels("PNG with a bad IDAT CRC", img.pixels, pix, 40, 30, 3, 0);
    ortc_image_free(&img);
    png[pn - 13] ^= 0x55;
    /* a bad CRC before the image data is an error (Pillow: "cannot identify") */
    size_t bn;
    unsigned char *bad = insert_chunk(png, pn, "tEXt", "k\0values!", 9, 1, &bn);
    ck_assert_int_eq(ortc_image_decode(bad, bn, ORTC_IMAGE_RGB, &img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad PNG data") && strstr(err, "CRC"), "%s", err);
    free(bad);
    free(pix);
    free(png);
    free(rgb);
}
END_TEST

START_TEST(test_image_warnings_silent)
{
    /* Warnings (an invalid sRGB chunk; stray bytes before a JPEG marker)
     * are tolerated as Pillow does (measured) and never reach stderr. */
    char path[512], errpath[512], err[256] = "";
    test_png p;
    fill_test_png(&p, 8, 8, PNG_COLOR_TYPE_RGB, 8, 0);
    tpath(path, sizeof path, "warn.png");
    write_test_png(path, &p);
    size_t pn;
    unsigned char *png = read_all(path, &pn);
    size_t bn; /* an sRGB chunk with rendering intent 9: libpng warns, Pillow decodes */
    unsigned char *bad = insert_chunk(png, pn, "sRGB", "\x09", 1, 0, &bn);
    uint8_t *rgb = smooth_rgb(16, 16);
    unsigned long jn;
    unsigned char *j = make_jpeg(16, 16, 3, rgb, 90, 0, JCS_YCbCr, &jn);
    unsigned char *jx = malloc(jn + 3);
    memcpy(jx, j, jn - 2);
    memcpy(jx + jn - 2, "\x00\x01\x02\xFF\xD9", 5); /* 3 extraneous bytes before EOI */

    tpath(errpath, sizeof errpath, "stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    ortc_image a, b, c;
    int rc1 = ortc_image_decode(bad, bn, ORTC_IMAGE_RGB, &a, err, sizeof err);
    int rc2 = ortc_image_decode(jx, jn + 3, ORTC_IMAGE_RGB, &b, err, sizeof err);
    int rc3 = ortc_image_decode(jx, jn / 2, ORTC_IMAGE_RGB, &c, err, sizeof err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    struct stat st;
    ck_assert_int_eq(stat(errpath, &st), 0);
    ck_assert_msg(rc1 == 0, "PNG with an invalid sRGB chunk: %s", err);
    ck_assert_msg(rc2 == 0, "JPEG with extraneous bytes: %s", err);
    ck_assert_int_eq(rc3, -1);
    ck_assert_ptr_null(c.pixels);
    ck_assert_msg(st.st_size == 0, "decoders wrote %ld bytes to stderr", (long)st.st_size);
    uint8_t *want = malloc(8 * 8 * 3);
    expected_png(&p, 3, want);
    assert_pixels("PNG after an invalid sRGB", a.pixels, want, 8, 8, 3, 0);
    ortc_image_free(&a);
    ortc_image_free(&b);
    free(want);
    free(p.samples);
    free(png);
    free(bad);
    free(j);
    free(jx);
    free(rgb);
}
END_TEST

/* Pillow's decoder as the oracle: every PNG kind, and JPEGs made by Pillow
 * itself (baseline, progressive, 4:4:4 / 4:2:2 / 4:2:0, odd sizes, gray). */
static const char decode_oracle_py[] =
    "import sys, numpy as np\n"
    "from PIL import Image\n"
    "d = sys.argv[1]\n"
    "src = Image.open('/usr/lib/python3/dist-packages/skimage/data/coffee.png').convert('RGB')\n"
    "src = src.crop((101, 57, 101 + 67, 57 + 45))\n"
    "for sub in (0, 1, 2):\n"
    "    for prog in (0, 1):\n"
    "        src.save(f'{d}/pil_s{sub}_p{prog}.jpg', quality=87, subsampling=sub,\n"
    "                 progressive=bool(prog))\n"
    "src.convert('L').save(f'{d}/pil_gray.jpg', quality=90)\n"
    "src.convert('L').save(f'{d}/pil_gray_p.jpg', quality=90, progressive=True)\n"
    "for f in sys.argv[2:]:\n"
    "    for m in ('RGB', 'L'):\n"
    "        np.save(f'{d}/{f}.{m}.npy', np.asarray(Image.open(f'{d}/{f}').convert(m)))\n";

START_TEST(test_decode_vs_pillow)
{
    char args[8192], out[4096], path[512], err[256] = "";
    int pos = snprintf(args, sizeof args, "'%s'", g_tmp);
    static const char *pil_jpegs[] = {"pil_s0_p0.jpg", "pil_s0_p1.jpg", "pil_s1_p0.jpg",
                                      "pil_s1_p1.jpg", "pil_s2_p0.jpg", "pil_s2_p1.jpg",
                                      "pil_gray.jpg",  "pil_gray_p.jpg"};
    char names[64][48];
    int n_names = 0;
    for (size_t k = 0; k < N_PNG_KINDS; k++)
        for (int il = 0; il < 2; il++) {
            test_png p;
            fill_test_png(&p, 19, 11, png_kinds[k].color_type, png_kinds[k].depth, il);
            if (png_kinds[k].color_type == PNG_COLOR_TYPE_PALETTE)
                p.trns[p.n_trns++] = 0;
            snprintf(names[n_names], sizeof names[0], "oracle_%s_%d.png", png_kinds[k].name, il);
            tpath(path, sizeof path, names[n_names]);
            write_test_png(path, &p);
            free(p.samples);
            pos += snprintf(args + pos, sizeof args - (size_t)pos, " %s", names[n_names++]);
        }
    /* PNGs Pillow decodes despite flaws: no IEND, bad IDAT CRC, invalid sRGB */
    test_png fp;
    fill_test_png(&fp, 13, 7, PNG_COLOR_TYPE_RGB, 8, 0);
    tpath(path, sizeof path, "flaw_src.png");
    write_test_png(path, &fp);
    free(fp.samples);
    size_t pn, bn;
    unsigned char *png = read_all(path, &pn);
    unsigned char *flawed = insert_chunk(png, pn, "sRGB", "\x09", 1, 0, &bn);
    static const char *flaw_names[3] = {"flaw_noiend.png", "flaw_idatcrc.png", "flaw_srgb.png"};
    for (int k = 0; k < 3; k++) {
        snprintf(names[n_names], sizeof names[0], "%s", flaw_names[k]);
        tpath(path, sizeof path, names[n_names]);
        if (k == 1)
            png[pn - 13] ^= 0x55; /* IDAT's CRC; IEND is the last 12 bytes */
        write_file(path, k == 2 ? flawed : png, k == 0 ? pn - 12 : k == 1 ? pn : bn);
        pos += snprintf(args + pos, sizeof args - (size_t)pos, " %s", names[n_names++]);
    }
    free(png);
    free(flawed);
    /* a libjpeg-written progressive JPEG too */
    uint8_t *rgb = smooth_rgb(23, 17);
    unsigned long jn;
    unsigned char *j = make_jpeg(23, 17, 3, rgb, 75, 1, JCS_YCbCr, &jn);
    snprintf(names[n_names], sizeof names[0], "oracle_libjpeg.jpg");
    tpath(path, sizeof path, names[n_names]);
    write_file(path, j, jn);
    free(j);
    free(rgb);
    pos += snprintf(args + pos, sizeof args - (size_t)pos, " %s", names[n_names++]);
    for (size_t i = 0; i < sizeof pil_jpegs / sizeof pil_jpegs[0]; i++) {
        snprintf(names[n_names], sizeof names[0], "%s", pil_jpegs[i]);
        pos += snprintf(args + pos, sizeof args - (size_t)pos, " %s", names[n_names++]);
    }
    int rc = run_python("decode_oracle.py", decode_oracle_py, args, out, sizeof out);
    ck_assert_msg(rc == 0, "Pillow oracle failed (exit %d): %s", rc, out);
    for (int i = 0; i < n_names; i++)
        for (int ch = 1; ch <= 3; ch += 2) {
            char npy[600];
            snprintf(npy, sizeof npy, "%s/%.47s.%s.npy", g_tmp, names[i], ch == 3 ? "RGB" : "L");
            ortc_tensor ref;
            ck_assert_msg(ortc_npy_read(npy, &ref, err, sizeof err) == 0, "%s", err);
            ck_assert_int_eq(ref.dtype, ORTC_DTYPE_UINT8);
            tpath(path, sizeof path, names[i]);
            ortc_image img;
            ck_assert_msg(ortc_image_load(path, ch == 3 ? ORTC_IMAGE_RGB : ORTC_IMAGE_GRAY, &img,
                                          err, sizeof err) == 0,
                          "%s", err);
            ck_assert_int_eq(img.height, ref.dims[0]);
            ck_assert_int_eq(img.width, ref.dims[1]);
            char what[96];
            snprintf(what, sizeof what, "%.47s as %s vs Pillow", names[i], ch == 3 ? "RGB" : "L");
            assert_pixels(what, img.pixels, ref.data, img.width, img.height, ch, 0);
            ortc_image_free(&img);
            free(ref.data);
        }
}
END_TEST

/* ---- resize and crop ------------------------------------------------------ */

static ortc_image make_gray(int w, int h, const uint8_t *v)
{
    ortc_image img = {w, h, 1, malloc((size_t)w * h)};
    memcpy(img.pixels, v, (size_t)w * h);
    return img;
}

START_TEST(test_resize_by_hand)
{
    char err[256] = "";
    ortc_image out;
    /* 2x downscale of the ramp 0,10,..,70 (bilinear): the triangle stretched
     * to support 2 gives weights 1/8,3/8,3/8,1/8 inside; at the edges the
     * window is cut and renormalized: (3*0+3*10+20)/7 = 7.14 and
     * (50+3*60+3*70)/7 = 62.9. Interior: (10+60+90+40)/8 = 25, 45. */
    uint8_t ramp[8] = {0, 10, 20, 30, 40, 50, 60, 70};
    ortc_image src = make_gray(8, 1, ramp);
    ck_assert_int_eq(ortc_image_resize(&src, 4, 1, ORTC_RESAMPLE_BILINEAR, &out, err, sizeof err),
                     0);
    uint8_t want_down[4] = {7, 25, 45, 63};
    assert_pixels("bilinear 8->4 ramp", out.pixels, want_down, 4, 1, 1, 0);
    ortc_image_free(&out);
    /* the same along y (vertical pass) */
    ortc_image col = make_gray(1, 8, ramp);
    ck_assert_int_eq(ortc_image_resize(&col, 1, 4, ORTC_RESAMPLE_BILINEAR, &out, err, sizeof err),
                     0);
    assert_pixels("bilinear 8->4 ramp (vertical)", out.pixels, want_down, 1, 4, 1, 0);
    ortc_image_free(&out);
    ortc_image_free(&col);
    ortc_image_free(&src);
    /* 2x upscale of 0,40,80: samples at 0.25, 0.75, ... of the source:
     * edges replicate, inside 3:1 blends -> 0,10,30,50,70,80 */
    uint8_t three[3] = {0, 40, 80};
    src = make_gray(3, 1, three);
    ck_assert_int_eq(ortc_image_resize(&src, 6, 1, ORTC_RESAMPLE_BILINEAR, &out, err, sizeof err),
                     0);
    uint8_t want_up[6] = {0, 10, 30, 50, 70, 80};
    assert_pixels("bilinear 3->6 ramp", out.pixels, want_up, 6, 1, 1, 0);
    ortc_image_free(&out);
    /* nearest: 3 -> 6 repeats, 8 -> 4 takes the odd samples (centres at 1, 3, 5, 7) */
    ck_assert_int_eq(ortc_image_resize(&src, 6, 1, ORTC_RESAMPLE_NEAREST, &out, err, sizeof err),
                     0);
    uint8_t want_nn_up[6] = {0, 0, 40, 40, 80, 80};
    assert_pixels("nearest 3->6", out.pixels, want_nn_up, 6, 1, 1, 0);
    ortc_image_free(&out);
    ortc_image_free(&src);
    src = make_gray(8, 1, ramp);
    ck_assert_int_eq(ortc_image_resize(&src, 4, 1, ORTC_RESAMPLE_NEAREST, &out, err, sizeof err),
                     0);
    uint8_t want_nn[4] = {10, 30, 50, 70};
    assert_pixels("nearest 8->4", out.pixels, want_nn, 4, 1, 1, 0);
    ortc_image_free(&out);
    ortc_image_free(&src);
    /* Pillow's NEAREST accumulates the sample position, so 2 -> 7 samples
     * the 4th output at 3.5*2/7 = 0.99999.. (index 0), not 1.0 */
    uint8_t two[2] = {0, 100};
    src = make_gray(2, 1, two);
    ck_assert_int_eq(ortc_image_resize(&src, 7, 1, ORTC_RESAMPLE_NEAREST, &out, err, sizeof err),
                     0);
    uint8_t want_27[7] = {0, 0, 0, 0, 100, 100, 100};
    assert_pixels("nearest 2->7", out.pixels, want_27, 7, 1, 1, 0);
    ortc_image_free(&out);
    ortc_image_free(&src);
    /* a constant RGB image stays constant under every filter and size */
    ortc_image flat = {23, 17, 3, malloc(23 * 17 * 3)};
    for (int i = 0; i < 23 * 17; i++)
        flat.pixels[3 * i] = 7, flat.pixels[3 * i + 1] = 128, flat.pixels[3 * i + 2] = 255;
    static const int sizes[][2] = {{1, 1}, {5, 40}, {23, 3}, {100, 17}, {64, 64}};
    static const ortc_resample filters[] = {ORTC_RESAMPLE_NEAREST, ORTC_RESAMPLE_BILINEAR,
                                            ORTC_RESAMPLE_BICUBIC};
    for (int f = 0; f < 3; f++)
        for (int s = 0; s < 5; s++) {
            ck_assert_int_eq(ortc_image_resize(&flat, sizes[s][0], sizes[s][1], filters[f], &out,
                                               err, sizeof err),
                             0);
            uint8_t *want = malloc((size_t)out.width * out.height * 3);
            for (int i = 0; i < out.width * out.height; i++)
                want[3 * i] = 7, want[3 * i + 1] = 128, want[3 * i + 2] = 255;
            char what[64];
            snprintf(what, sizeof what, "constant, filter %d, %dx%d", (int)filters[f], sizes[s][0],
                     sizes[s][1]);
            assert_pixels(what, out.pixels, want, out.width, out.height, 3, 0);
            free(want);
            ortc_image_free(&out);
        }
    /* same size: an exact copy */
    ck_assert_int_eq(ortc_image_resize(&flat, 23, 17, ORTC_RESAMPLE_BICUBIC, &out, err, sizeof err),
                     0);
    assert_pixels("same size", out.pixels, flat.pixels, 23, 17, 3, 0);
    ortc_image_free(&out);
    /* errors */
    ck_assert_int_eq(ortc_image_resize(&flat, 0, 5, ORTC_RESAMPLE_BILINEAR, &out, err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "invalid output size 0x5") != NULL, "%s", err);
    ck_assert_int_eq(ortc_image_resize(&flat, 5, 5, (ortc_resample)7, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "unsupported resampling filter 7") != NULL, "%s", err);
    ortc_image_free(&flat);
}
END_TEST

START_TEST(test_crop)
{
    char err[256] = "";
    uint8_t v[12];
    for (int i = 0; i < 12; i++)
        v[i] = (uint8_t)(i + 1);
    ortc_image src = make_gray(4, 3, v); /* rows 1..4, 5..8, 9..12 */
    ortc_image out;
    ck_assert_int_eq(ortc_image_crop(&src, 1, 1, 2, 2, &out, err, sizeof err), 0);
    uint8_t inside[4] = {6, 7, 10, 11};
    assert_pixels("crop inside", out.pixels, inside, 2, 2, 1, 0);
    ortc_image_free(&out);
    /* partly outside: zeros there (Pillow's crop, torchvision's padding) */
    ck_assert_int_eq(ortc_image_crop(&src, -1, 2, 3, 3, &out, err, sizeof err), 0);
    uint8_t outside[9] = {0, 9, 10, 0, 0, 0, 0, 0, 0};
    assert_pixels("crop outside", out.pixels, outside, 3, 3, 1, 0);
    ortc_image_free(&out);
    ck_assert_int_eq(ortc_image_crop(&src, 10, 10, 2, 2, &out, err, sizeof err), 0);
    uint8_t zeros[4] = {0};
    assert_pixels("crop far outside", out.pixels, zeros, 2, 2, 1, 0);
    ortc_image_free(&out);
    ck_assert_int_eq(ortc_image_crop(&src, 0, 0, 0, 2, &out, err, sizeof err), -1);
    ck_assert_ptr_null(out.pixels);
    ortc_image_free(&src);
}
END_TEST

static const char resize_oracle_py[] =
    "import sys, numpy as np\n"
    "from PIL import Image\n"
    "d = sys.argv[1]\n"
    "names = {0: Image.NEAREST, 2: Image.BILINEAR, 3: Image.BICUBIC}\n"
    "for spec in sys.argv[2:]:\n"
    "    f, w, h, fl = spec.split(':')\n"
    "    im = Image.open(f'{d}/{f}')\n"
    "    np.save(f'{d}/{f}.{w}x{h}.{fl}.npy', np.asarray(im.resize((int(w), int(h)),\n"
    "            names[int(fl)])))\n";

START_TEST(test_resize_vs_pillow)
{
    /* random and smooth images, L and RGB, up and down, every filter:
     * Pillow 9.4's Image.resize is the oracle, exactly */
    static const struct {
        int w, h, color_type, smooth;
    } srcs[] = {
        {37, 23, PNG_COLOR_TYPE_GRAY, 0},
        {64, 48, PNG_COLOR_TYPE_RGB, 1},
        {301, 200, PNG_COLOR_TYPE_RGB, 0},
    };
    static const int sizes[][2] = {{18, 11}, {100, 60}, {1, 1}, {37, 5}, {224, 224}, {13, 77}};
    static const int filters[] = {0, 2, 3};
    char args[8192], out[4096], path[512], err[256] = "";
    int pos = snprintf(args, sizeof args, "'%s'", g_tmp);
    for (int s = 0; s < 3; s++) {
        test_png p;
        fill_test_png(&p, srcs[s].w, srcs[s].h, srcs[s].color_type, 8, 0);
        if (srcs[s].smooth) {
            uint8_t *sm = smooth_rgb(p.w, p.h);
            for (int i = 0; i < p.w * p.h * 3; i++)
                p.samples[i] = sm[i];
            free(sm);
        }
        char name[32];
        snprintf(name, sizeof name, "rs%d.png", s);
        tpath(path, sizeof path, name);
        write_test_png(path, &p);
        free(p.samples);
        for (int z = 0; z < 6; z++)
            for (int f = 0; f < 3; f++)
                pos += snprintf(args + pos, sizeof args - (size_t)pos, " %s:%d:%d:%d", name,
                                sizes[z][0], sizes[z][1], filters[f]);
    }
    int rc = run_python("resize_oracle.py", resize_oracle_py, args, out, sizeof out);
    ck_assert_msg(rc == 0, "Pillow oracle failed (exit %d): %s", rc, out);
    for (int s = 0; s < 3; s++) {
        char name[32];
        snprintf(name, sizeof name, "rs%d.png", s);
        tpath(path, sizeof path, name);
        int ch = srcs[s].color_type == PNG_COLOR_TYPE_GRAY ? 1 : 3;
        ortc_image img;
        ck_assert_msg(ortc_image_load(path, ch == 3 ? ORTC_IMAGE_RGB : ORTC_IMAGE_GRAY, &img, err,
                                      sizeof err) == 0,
                      "%s", err);
        for (int z = 0; z < 6; z++)
            for (int f = 0; f < 3; f++) {
                char npy[600];
                snprintf(npy, sizeof npy, "%s/%s.%dx%d.%d.npy", g_tmp, name, sizes[z][0],
                         sizes[z][1], filters[f]);
                ortc_tensor ref;
                ck_assert_msg(ortc_npy_read(npy, &ref, err, sizeof err) == 0, "%s", err);
                ortc_image o;
                ck_assert_int_eq(ortc_image_resize(&img, sizes[z][0], sizes[z][1],
                                                   (ortc_resample)filters[f], &o, err, sizeof err),
                                 0);
                char what[128];
                snprintf(what, sizeof what, "%dx%dx%d -> %dx%d filter %d vs Pillow", img.width,
                         img.height, ch, sizes[z][0], sizes[z][1], filters[f]);
                assert_pixels(what, o.pixels, ref.data, o.width, o.height, ch, 0);
                ortc_image_free(&o);
                free(ref.data);
            }
        ortc_image_free(&img);
    }
}
END_TEST

/* ---- cards and labels ------------------------------------------------------ */

static const char full_card[] = "name: seed-lrn\n"
                                "description: AlexNet of the seed article with LRN\n"
                                "weights: random\n"
                                "input:\n"
                                "  name: input\n"
                                "  layout: NHWC\n"
                                "  height: 227\n"
                                "  width: 225\n"
                                "  resize: 259\n"
                                "  crop: none\n"
                                "  interpolation: bicubic\n"
                                "  color: BGR\n"
                                "  scale: 1.0\n"
                                "  mean: [104.0, 117, 123.5]\n"
                                "  std: [1, 2, 4]\n"
                                "output:\n"
                                "  name: prob\n"
                                "  kind: probabilities\n"
                                "  labels: imagenet_labels.txt   # relative to the card\n";

START_TEST(test_card_full)
{
    ortc_card c;
    char err[256] = "";
    ck_assert_msg(ortc_card_parse(full_card, strlen(full_card), "/models/x", &c, err, sizeof err) ==
                      0,
                  "%s", err);
    ck_assert_str_eq(c.name, "seed-lrn");
    ck_assert_str_eq(c.description, "AlexNet of the seed article with LRN");
    ck_assert_str_eq(c.weights, "random");
    ck_assert_str_eq(c.input_name, "input");
    ck_assert_int_eq(c.nhwc, 1);
    ck_assert_int_eq(c.height, 227);
    ck_assert_int_eq(c.width, 225);
    ck_assert_int_eq(c.resize, 259);
    ck_assert_int_eq(c.center_crop, 0);
    ck_assert_int_eq(c.interpolation, ORTC_RESAMPLE_BICUBIC);
    ck_assert_int_eq(c.color, -3);
    ck_assert(c.scale == 1.0f);
    ck_assert_int_eq(c.n_channels, 3);
    ck_assert(c.mean[0] == 104.0f && c.mean[1] == 117.0f && c.mean[2] == 123.5f);
    ck_assert(c.std[0] == 1.0f && c.std[1] == 2.0f && c.std[2] == 4.0f);
    ck_assert_str_eq(c.output_name, "prob");
    ck_assert_int_eq(c.output_logits, 0);
    ck_assert_str_eq(c.labels_path, "/models/x/imagenet_labels.txt");
    ortc_card_free(&c);
    ck_assert_ptr_null(c.name);

    /* defaults: torchvision's ImageNet transform */
    ortc_card d;
    ortc_card_default(&d, 224, 224);
    ck_assert(d.height == 224 && d.width == 224 && d.resize == -1 && d.center_crop == 1);
    ck_assert(d.interpolation == ORTC_RESAMPLE_BILINEAR && d.color == 3 && d.nhwc == 0);
    ck_assert(d.scale == 1.0f / 255.0f && d.n_channels == 3 && d.output_logits == 1);
    ck_assert(d.mean[0] == 0.485f && d.mean[1] == 0.456f && d.mean[2] == 0.406f);
    ck_assert(d.std[0] == 0.229f && d.std[1] == 0.224f && d.std[2] == 0.225f);
    ck_assert(!d.name && !d.labels_path && !d.input_name && !d.output_name);
    /* an empty card (comments only) is all defaults */
    const char *empty = "# nothing here\n";
    ck_assert_int_eq(ortc_card_parse(empty, strlen(empty), NULL, &c, err, sizeof err), 0);
    ck_assert(c.resize == -1 && c.center_crop == 1 && c.height == 0 && c.mean[0] == 0.485f);
    ortc_card_free(&c);
    /* GRAY without mean/std: identity; one mean value applies to every channel */
    const char *gray = "input:\n  color: GRAY\n  height: 28\n  width: 28\n  resize: 0\n";
    ck_assert_msg(ortc_card_parse(gray, strlen(gray), NULL, &c, err, sizeof err) == 0, "%s", err);
    ck_assert(c.color == 1 && c.n_channels == 1 && c.mean[0] == 0.0f && c.std[0] == 1.0f &&
              c.resize == 0);
    ortc_card_free(&c);
    const char *one = "input:\n  mean: [0.5]\n  std: [0.25]\n";
    ck_assert_msg(ortc_card_parse(one, strlen(one), NULL, &c, err, sizeof err) == 0, "%s", err);
    ck_assert(c.n_channels == 1 && c.mean[2] == 0.5f && c.std[1] == 0.25f);
    ortc_card_free(&c);
    /* absolute label paths are kept; relative ones need no base */
    const char *abs = "output:\n  labels: /abs/l.txt\n";
    ck_assert_int_eq(ortc_card_parse(abs, strlen(abs), "/base", &c, err, sizeof err), 0);
    ck_assert_str_eq(c.labels_path, "/abs/l.txt");
    ortc_card_free(&c);
}
END_TEST

START_TEST(test_card_errors)
{
    static const struct {
        const char *yaml, *msg;
    } bad[] = {
        {"name: x\nfoo: 1\n", "card.yaml:2: unknown key 'foo'"},
        {"input:\n  height: 227\n  hieght: 3\n", "card.yaml:3: unknown key 'input.hieght'"},
        {"output:\n  label: x\n", "card.yaml:2: unknown key 'output.label'"},
        {"input:\n  height: abc\n", "card.yaml:2: input.height must be an integer in 1..65535"},
        {"input:\n  height: 0\n", "card.yaml:2: input.height must be an integer in 1..65535"},
        {"input:\n  width: 2.5\n", "card.yaml:2: input.width must be an integer"},
        {"input:\n  resize: -3\n", "card.yaml:2: input.resize must be an integer in 0..65535"},
        {"input:\n\n  mean: [0.5, 0.5]\n",
         "card.yaml:3: input.mean must be a list of 1 or 3 numbers"},
        {"input:\n  mean: 0.5\n", "card.yaml:2: input.mean must be a list of 1 or 3 numbers"},
        {"input:\n  std: [1, x, 1]\n", "card.yaml:2: input.std must be a list of 1 or 3 numbers"},
        {"input:\n  std: [1, 0, 1]\n", "card.yaml:2: input.std must not contain 0"},
        {"input:\n  color: YUV\n", "card.yaml:2: input.color must be one of RGB, BGR, GRAY"},
        {"input:\n  layout: CHW\n", "card.yaml:2: input.layout must be one of NCHW, NHWC"},
        {"input:\n  crop: random\n", "card.yaml:2: input.crop must be one of center, none"},
        {"input:\n  interpolation: lanczos\n", "card.yaml:2: input.interpolation must be one of"},
        {"input:\n  scale: 0\n", "card.yaml:2: input.scale must be a non-zero number"},
        {"output:\n  kind: softmax\n",
         "card.yaml:2: output.kind must be one of logits, probabilities"},
        {"weights: some\n", "card.yaml:1: weights must be one of random, pretrained, trained"},
        {"name: [a, b]\n", "card.yaml:1: name must be a string"},
        {"input: 3\n", "card.yaml:1: input must be a mapping"},
        {"- a\n- b\n", "card.yaml:1: the card must be a mapping"},
        {"name: a\nname: b\n", "card.yaml:2: duplicate key 'name' in the card"},
        {"input:\n  color: GRAY\n  mean: [1, 2, 3]\n  std: [1, 1, 1]\n",
         "input.mean/std must have 1 entry for color GRAY"},
        {"input:\n  mean: [1, 2, 3]\n  std: [1]\n", "input.mean has 3 entries but input.std has 1"},
        {"input:\n  height: [227\n", "card.yaml:3: YAML error"},
        {"name: a\n  b: c\n", "card.yaml:2: YAML error"},
    };
    char path[512], err[512];
    tpath(path, sizeof path, "card.yaml");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].yaml, strlen(bad[i].yaml));
        ortc_card c;
        err[0] = '\0';
        ck_assert_msg(ortc_card_load(path, &c, err, sizeof err) == -1, "case %zu accepted:\n%s", i,
                      bad[i].yaml);
        ck_assert_msg(strstr(err, bad[i].msg) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      bad[i].msg);
        ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "case %zu: '%s' does not name %s", i,
                      err, path);
        ck_assert_ptr_null(c.name);
    }
    /* from memory, messages say "line N" */
    ortc_card c;
    const char *y = "name: a\nbogus: 1\n";
    ck_assert_int_eq(ortc_card_parse(y, strlen(y), NULL, &c, err, sizeof err), -1);
    ck_assert_str_eq(err, "line 2: unknown key 'bogus'");
    /* load: missing file; labels resolved against the card's folder */
    tpath(path, sizeof path, "no-card.yaml");
    ck_assert_int_eq(ortc_card_load(path, &c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no-card.yaml: No such file") != NULL, "%s", err);
    tpath(path, sizeof path, "good.yaml");
    const char *good = "output:\n  labels: labels.txt\n";
    write_file(path, good, strlen(good));
    ck_assert_msg(ortc_card_load(path, &c, err, sizeof err) == 0, "%s", err);
    char want[600];
    snprintf(want, sizeof want, "%s/labels.txt", g_tmp);
    ck_assert_str_eq(c.labels_path, want);
    ortc_card_free(&c);
}
END_TEST

START_TEST(test_labels)
{
    char path[512], err[512] = "";
    char **l;
    size_t n;
    tpath(path, sizeof path, "labels.txt");
    const char *text = "\xEF\xBB\xBFtench  \r\ngoldfish\n\ngreat white shark\t\nlast";
    write_file(path, text, strlen(text));
    ck_assert_msg(ortc_labels_load(path, &l, &n, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(l[0], "tench");
    ck_assert_str_eq(l[1], "goldfish");
    ck_assert_str_eq(l[2], ""); /* empty lines keep their index */
    ck_assert_str_eq(l[3], "great white shark");
    ck_assert_str_eq(l[4], "last");
    ortc_labels_free(l, n);
    const char *nl = "a\nb\n"; /* a final newline adds no label */
    write_file(path, nl, strlen(nl));
    ck_assert_int_eq(ortc_labels_load(path, &l, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 2);
    ortc_labels_free(l, n);
    write_file(path, "", 0);
    ck_assert_int_eq(ortc_labels_load(path, &l, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no labels") && strstr(err, path), "%s", err);
    ck_assert_ptr_null(l);
    tpath(path, sizeof path, "nolabels.txt");
    ck_assert_int_eq(ortc_labels_load(path, &l, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "No such file") && strstr(err, path), "%s", err);
}
END_TEST

/* ---- preprocessing ---------------------------------------------------------- */

static ortc_card identity_card(int h, int w, int color)
{
    ortc_card c;
    ortc_card_default(&c, h, w);
    c.color = color;
    c.scale = 1.0f;
    c.n_channels = 3;
    for (int i = 0; i < 3; i++)
        c.mean[i] = 0.0f, c.std[i] = 1.0f;
    return c;
}

START_TEST(test_preprocess_rules)
{
    char err[512] = "";
    /* a 10x7 RGB image whose pixel (x, y) is (x, 10 y, 100 + c) */
    ortc_image img = {10, 7, 3, malloc(10 * 7 * 3)};
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 10; x++) {
            uint8_t *p = img.pixels + (y * 10 + x) * 3;
            p[0] = (uint8_t)x, p[1] = (uint8_t)(10 * y), p[2] = 123;
        }
    /* resize 7 = the shorter side already: no resampling; CenterCrop 4x4:
     * left = round(6 / 2) = 3, top = round(3 / 2 = 1.5) = 2 (Python's round) */
    ortc_card c = identity_card(4, 4, 3);
    c.resize = 7;
    float out[3 * 9 * 9];
    ck_assert_msg(ortc_preprocess_image(&img, &c, out, err, sizeof err) == 0, "%s", err);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            ck_assert_msg(out[0 * 16 + y * 4 + x] == (float)(x + 3), "R at %d,%d: %g", x, y,
                          out[y * 4 + x]);
            ck_assert_msg(out[1 * 16 + y * 4 + x] == (float)(10 * (y + 2)), "G at %d,%d: %g", x, y,
                          out[16 + y * 4 + x]);
            ck_assert(out[2 * 16 + y * 4 + x] == 123.0f);
        }
    /* height 9 - 4 = 5: (9-4)/2 = 2.5 rounds to 2 (ties to even) */
    ortc_image tall = {4, 9, 1, malloc(36)};
    for (int i = 0; i < 36; i++)
        tall.pixels[i] = (uint8_t)(i / 4);
    ortc_card g = identity_card(4, 4, 1);
    g.resize = 4;
    ck_assert_msg(ortc_preprocess_image(&tall, &g, out, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(out[0] == 2.0f && out[15] == 5.0f, "rows start at %g, end at %g", out[0],
                  out[15]);
    /* BGR swaps channels; NHWC interleaves; mean/std per tensor channel */
    c.color = -3;
    c.nhwc = 1;
    c.mean[0] = 100.0f, c.std[0] = 2.0f;
    ck_assert_msg(ortc_preprocess_image(&img, &c, out, err, sizeof err) == 0, "%s", err);
    ck_assert(out[0] == (123.0f - 100.0f) / 2.0f); /* (y0, x0): B first */
    ck_assert(out[1] == 20.0f && out[2] == 3.0f);
    ck_assert(out[(0 * 4 + 1) * 3 + 2] == 4.0f); /* (y0, x1) R */
    /* crop larger than the image: zero padding, torchvision's offsets:
     * (9 - 7) // 2 = 1 row before, (9 - 10) fits: left = round(0.5) = 0 */
    c = identity_card(9, 9, 3);
    c.resize = 7;
    ck_assert_msg(ortc_preprocess_image(&img, &c, out, err, sizeof err) == 0, "%s", err);
    ck_assert(out[0 * 81 + 0 * 9 + 4] == 0.0f && out[2 * 81 + 0 * 9 + 4] == 0.0f); /* pad row */
    ck_assert(out[0 * 81 + 1 * 9 + 4] == 4.0f && out[1 * 81 + 1 * 9 + 4] == 0.0f);
    ck_assert(out[1 * 81 + 8 * 9 + 0] == 0.0f && out[1 * 81 + 7 * 9 + 0] == 60.0f);
    /* default scale 1/255 with ImageNet statistics, in float32 as torch */
    ortc_card d;
    ortc_card_default(&d, 7, 10);
    d.resize = 0;
    ck_assert_msg(ortc_preprocess_image(&img, &d, out, err, sizeof err) == 0, "%s", err);
    float want = ((float)9 / 255.0f - 0.485f) / 0.229f;
    ck_assert_msg(out[9] == want, "R(9,0) = %.9g, want %.9g", out[9], want);
    /* the shorter-side rule: 451x300 with the default 227 crop gives
     * Resize(round(227*256/224) = 259): 259 x int(259*451/300 = 389.36) */
    ortc_image big = {451, 300, 3, calloc(451 * 300, 3)};
    d = identity_card(227, 227, 3);
    d.center_crop = 0;
    ck_assert_int_eq(ortc_preprocess_image(&big, &d, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "resized image is 389x259") != NULL, "%s", err);
    ortc_image portrait = {300, 451, 3, big.pixels};
    d.resize = 100; /* 100 x int(100 * 451 / 300 = 150.33) */
    ck_assert_int_eq(ortc_preprocess_image(&portrait, &d, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "resized image is 100x150") != NULL, "%s", err);
    /* errors: channels, no size */
    ck_assert_int_eq(ortc_preprocess_image(&tall, &c, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image has 1 channels but the card wants 3") != NULL, "%s", err);
    c.height = 0;
    ck_assert_int_eq(ortc_preprocess_image(&img, &c, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no input size") != NULL, "%s", err);
    ck_assert_int_eq(ortc_preprocess_file("/nonexistent.png", &d, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent.png") == err, "%s", err);
    free(big.pixels);
    ortc_image_free(&img);
    ortc_image_free(&tall);
}
END_TEST

/* torchvision 0.14 on the photo fixtures (tests/models/preprocess_fixtures.py)
 * against ortc_preprocess_file with the default card; the limits are
 * test_preprocess.py's: max 2/255, mean 0.5/255 in [0, 1] pixel units. */
START_TEST(test_preprocess_vs_torchvision)
{
    char src[512], cmd[2048], fx[512], out[4096], err[512] = "";
    source_dir(src, sizeof src);
    tpath(fx, sizeof fx, "fixtures");
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/models/preprocess_fixtures.py' '%s' 2>&1", python(),
             src, fx);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    ck_assert_msg(pclose(p) == 0, "%s failed: %s", cmd, out);
    DIR *dir = opendir(fx);
    ck_assert_ptr_nonnull(dir);
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    int compared = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char image[256];
        int s = 0;
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 4, ".npy") != 0)
            continue;
        snprintf(image, sizeof image, "%.*s", (int)(len - 8), e->d_name); /* drop .SSS.npy */
        s = atoi(e->d_name + len - 7);
        char ref_path[1024], img_path[1024];
        snprintf(ref_path, sizeof ref_path, "%s/%s", fx, e->d_name);
        snprintf(img_path, sizeof img_path, "%s/%s", fx, image);
        ortc_tensor ref;
        ck_assert_msg(ortc_npy_read(ref_path, &ref, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(ref.dtype == ORTC_DTYPE_FLOAT && ref.rank == 3 && ref.dims[1] == s,
                      "%s: unexpected fixture shape", ref_path);
        ortc_card c;
        ortc_card_default(&c, s, s);
        float *got = malloc(sizeof *got * 3 * (size_t)s * s);
        ck_assert_msg(ortc_preprocess_file(img_path, &c, got, err, sizeof err) == 0, "%s", err);
        const float *want = ref.data;
        double worst = 0, sum = 0;
        size_t wi = 0, total = 3 * (size_t)s * s;
        for (size_t i = 0; i < total; i++) {
            int ch = (int)(i / ((size_t)s * s));
            double a = (double)got[i] * stdv[ch] + mean[ch];
            double b = (double)want[i] * stdv[ch] + mean[ch];
            double d = fabs(a - b);
            sum += d;
            if (d > worst)
                worst = d, wi = i;
        }
        double avg = sum / (double)total;
        size_t plane = (size_t)s * s;
        ck_assert_msg(worst <= 2.0 / 255.0 && avg < 0.5 / 255.0,
                      "%s at %d: max %.3f/255 at c=%zu y=%zu x=%zu (ortc %.3f, torchvision "
                      "%.3f), mean %.4f/255",
                      image, s, worst * 255, wi / plane, wi % plane / (size_t)s, wi % (size_t)s,
                      ((double)got[wi] * stdv[wi / plane] + mean[wi / plane]) * 255,
                      ((double)want[wi] * stdv[wi / plane] + mean[wi / plane]) * 255, avg * 255);
        free(got);
        free(ref.data);
        compared++;
    }
    closedir(dir);
    ck_assert_msg(compared >= 22, "only %d fixtures compared", compared);
}
END_TEST

/* ---- runner --------------------------------------------------------------- */

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "%s/ortc_test_tools.XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("tools");
    TCase *npy = tcase_create("npy");
    tcase_add_test(npy, test_npy_roundtrip);
    tcase_add_test(npy, test_npy_headers);
    tcase_add_test(npy, test_npy_malformed);
    tcase_add_test(npy, test_npy_file_errors);
    tcase_add_test(npy, test_npy_numpy_interop);
    tcase_set_timeout(npy, 60);
    suite_add_tcase(s, npy);
    TCase *img = tcase_create("image");
    tcase_add_test(img, test_png_all_kinds);
    tcase_add_test(img, test_jpeg_kinds);
    tcase_add_test(img, test_image_errors);
    tcase_add_test(img, test_image_warnings_silent);
    tcase_add_test(img, test_decode_vs_pillow);
    tcase_set_timeout(img, 60);
    suite_add_tcase(s, img);
    TCase *rs = tcase_create("resize");
    tcase_add_test(rs, test_resize_by_hand);
    tcase_add_test(rs, test_crop);
    tcase_add_test(rs, test_resize_vs_pillow);
    tcase_set_timeout(rs, 60);
    suite_add_tcase(s, rs);
    TCase *card = tcase_create("card");
    tcase_add_test(card, test_card_full);
    tcase_add_test(card, test_card_errors);
    tcase_add_test(card, test_labels);
    suite_add_tcase(s, card);
    TCase *pp = tcase_create("preprocess");
    tcase_add_test(pp, test_preprocess_rules);
    tcase_add_test(pp, test_preprocess_vs_torchvision);
    tcase_set_timeout(pp, 120);
    suite_add_tcase(s, pp);
    ortc_cases_tools_batch(s);

    int rc = run_suite(s);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "test_tools: could not remove %s\n", g_tmp);
    return rc;
}
