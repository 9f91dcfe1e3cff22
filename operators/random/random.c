/* random.c — the generator operators: RandomUniform, RandomNormal,
 * RandomUniformLike, RandomNormalLike (1), Bernoulli (15), Multinomial (7).
 * Philox4x64-10 (philox.h) keyed by the `seed` attribute, or without one by
 * a key drawn from the OS once per compiled plan (a per-session source).
 * Each run reserves a block of counters with one atomic add, so successive
 * runs continue the sequence (a seeded session repeats it from its start)
 * and concurrent runs never share numbers. Never folded (ORTC_OP_NO_FOLD).
 * Not bit-compatible with numpy or ONNX Runtime: no two implementations
 * are, as the spec says.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "philox.h"
#include "plain_util.h"
#include "tensor/cast.h"

#define RANDOM_FLOATS (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))

/* Per node and plan: the key and the next unused counter. */
typedef struct random_state {
    uint64_t key[2];
    _Atomic uint64_t next;
} random_state;

/* ---- attributes ---------------------------------------------------------------- */

/* The `dtype` attribute: absent -> `def` (UNDEFINED: must be given), else
 * one of `allowed`. */
static ortc_status random_dtype(ortc_opctx *c, ortc_dtype def, uint32_t allowed, ortc_dtype *out)
{
    ORTC_TRY(ortc_op_check_attr(c, "dtype", ORTC_ATTR_INT));
    const ortc_attr *a = ortc_node_attr(c->node, "dtype");
    int64_t v = a ? a->i : (int64_t)def;
    char names[256];
    ortc_dtypes_str(names, sizeof names, allowed);
    const char *name = v >= 0 && v <= 31 ? ortc_dtype_name((ortc_dtype)v) : "no dtype";
    if (v < 0 || v > 31 || !ortc_dtype_in(allowed, (ortc_dtype)v)) {
        if (a)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'dtype' is %lld (%s); supported: %s", (long long)v,
                                 name, names);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "without attribute 'dtype' the output would be %s (input 0's); "
                             "supported: %s",
                             name, names);
    }
    *out = (ortc_dtype)v;
    return ORTC_STATUS_OK;
}

static ortc_status check_common_attrs(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_attr(c, "seed", ORTC_ATTR_FLOAT));
    const char *fl[] = {"low", "high", "mean", "scale"};
    for (size_t k = 0; k < sizeof fl / sizeof *fl; k++)
        ORTC_TRY(ortc_op_check_attr(c, fl[k], ORTC_ATTR_FLOAT));
    return ORTC_STATUS_OK;
}

/* ---- infer ------------------------------------------------------------------------ */

static bool is_like(const ortc_opctx *c)
{
    return !strcmp(c->node->op_type, "RandomUniformLike") ||
           !strcmp(c->node->op_type, "RandomNormalLike");
}

static bool is_uniform(const ortc_opctx *c)
{
    return !strncmp(c->node->op_type, "RandomUniform", 13);
}

/* RandomUniform/Normal: shape from the attribute; *Like: input 0's shape,
 * dtype from the attribute or input 0. */
static ortc_status random_infer(ortc_opctx *c)
{
    bool like = is_like(c);
    ortc_dtype dt;
    ORTC_TRY(ortc_op_check_arity(c, like ? 1 : 0, like ? 1 : 0, 1, 1));
    ORTC_TRY(check_common_attrs(c));
    if (is_uniform(c)) {
        float lo = ortc_node_attr_float(c->node, "low", 0),
              hi = ortc_node_attr_float(c->node, "high", 1);
        if (!(lo <= hi) || !isfinite(lo) || !isfinite(hi))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attributes low %g and high %g must be finite with low <= high",
                                 lo, hi);
    } else {
        float mean = ortc_node_attr_float(c->node, "mean", 0);
        float scale = ortc_node_attr_float(c->node, "scale", 1);
        if (!isfinite(mean) || !isfinite(scale) || scale < 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attributes mean %g and scale %g must be finite with scale >= 0",
                                 mean, scale);
    }
    if (like) {
        ORTC_TRY(ortc_op_check_input(c, 0));
        const ortc_tensor *x = c->in[0];
        ORTC_TRY(random_dtype(c, x->dtype, RANDOM_FLOATS, &dt));
        ortc_op_set_output(c, 0, dt, x->rank, x->dims);
        return ORTC_STATUS_OK;
    }
    ORTC_TRY(random_dtype(c, ORTC_DTYPE_FLOAT, RANDOM_FLOATS, &dt));
    ORTC_TRY(ortc_op_check_attr(c, "shape", ORTC_ATTR_INTS));
    size_t n = 0;
    const int64_t *shape = ortc_node_attr_ints(c->node, "shape", &n);
    if (!ortc_node_attr(c->node, "shape"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'shape' is missing");
    ORTC_TRY(ortc_plain_check_rank(c, (int)(n > ORTC_MAX_RANK ? ORTC_MAX_RANK + 1 : n), "output"));
    for (size_t k = 0; k < n; k++)
        if (shape[k] < 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'shape' has %lld at position %zu; dims must be >= 0",
                                 (long long)shape[k], k);
    ortc_op_set_output(c, 0, dt, (int)n, shape);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status bernoulli_infer(ortc_opctx *c)
{
    ortc_dtype dt;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(check_common_attrs(c));
    ORTC_TRY(random_dtype(c, c->in[0]->dtype,
                          ORTC_DTYPES_NUMERIC | ORTC_DT(BFLOAT16) | ORTC_DT(BOOL), &dt));
    ortc_op_set_output(c, 0, dt, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

/* input (batch, classes) of unnormalized log-probabilities; output
 * (batch, sample_size) of class indices */
static ortc_status multinomial_infer(ortc_opctx *c)
{
    ortc_dtype dt;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(check_common_attrs(c));
    ORTC_TRY(ortc_op_check_attr(c, "sample_size", ORTC_ATTR_INT));
    ORTC_TRY(random_dtype(c, ORTC_DTYPE_INT32, ORTC_DT(INT32) | ORTC_DT(INT64), &dt));
    const ortc_tensor *x = c->in[0];
    if (x->rank != 2 || x->dims[1] < 1)
        return ortc_op_shape_error(
            c, 0, NULL, "Multinomial needs [batch_size, class_size] with class_size >= 1");
    int64_t samples = ortc_node_attr_int(c->node, "sample_size", 1);
    if (samples < 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'sample_size' is %lld",
                             (long long)samples);
    int64_t dims[2] = {x->dims[0], samples};
    ortc_op_set_output(c, 0, dt, 2, dims);
    return ortc_plain_check_numel(c, 0);
}

/* ---- state ----------------------------------------------------------------------------- */

/* A key nobody chose: 128 bits from the OS, else from the clock and an
 * address (never fails). */
static void key_from_os(uint64_t key[2], const void *salt)
{
    if (getrandom(key, 2 * sizeof *key, 0) == (ssize_t)(2 * sizeof *key))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ctr[4] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)(uintptr_t)salt, 0};
    uint64_t k[2] = {0x0123456789abcdefull, (uint64_t)clock()}, out[4];
    ortc_philox4x64(ctr, k, out);
    key[0] = out[0];
    key[1] = out[1];
}

static ortc_status random_prepare(ortc_opctx *c)
{
    random_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    const ortc_attr *seed = ortc_node_attr(c->node, "seed");
    if (seed) {
        /* the seed's float bits: distinct seeds give distinct streams */
        uint32_t bits;
        memcpy(&bits, &seed->f, sizeof bits);
        s->key[0] = bits;
        s->key[1] = 0x5eed0f0a11ed0000ull;
    } else {
        key_from_os(s->key, s);
    }
    atomic_init(&s->next, 0);
    c->state = s;
    if (!strcmp(c->node->op_type, "Multinomial")) /* one row's cumulative probabilities */
        c->scratch_bytes = (size_t)c->in[0]->dims[1] * sizeof(double);
    return ORTC_STATUS_OK;
}

static void random_release(ortc_opctx *c)
{
    free(c->state);
    c->state = NULL;
}

/* The first of `n` counters reserved for this run. */
static uint64_t reserve(ortc_opctx *c, int64_t n)
{
    random_state *s = c->state;
    return atomic_fetch_add_explicit(&s->next, (uint64_t)n, memory_order_relaxed);
}

static inline void draw(const ortc_opctx *c, uint64_t counter, uint64_t out[4])
{
    const random_state *s = c->state;
    uint64_t ctr[4] = {counter, 0, 0, 0};
    ortc_philox4x64(ctr, s->key, out);
}

/* ---- kernels ------------------------------------------------------------------------ */

/* The largest value of dtype t below `high` (a uniform draw that rounded
 * up to high goes there: the interval is half-open). */
static void store_below(ortc_tensor *y, int64_t i, double high)
{
    switch (y->dtype) {
    case ORTC_DTYPE_FLOAT: ((float *)y->data)[i] = nextafterf((float)high, -INFINITY); break;
    case ORTC_DTYPE_DOUBLE: ((double *)y->data)[i] = nextafter(high, -INFINITY); break;
    case ORTC_DTYPE_FLOAT16: {
        uint16_t h = ortc_f16_from_double(high);
        /* one step toward -inf in binary16's sign-magnitude order */
        h = (h & 0x7fff) == 0 ? 0x8001 : (h & 0x8000) ? (uint16_t)(h + 1) : (uint16_t)(h - 1);
        ((uint16_t *)y->data)[i] = h;
        break;
    }
    default: break;
    }
}

static double load_back(const ortc_tensor *y, int64_t i)
{
    return ortc_scalar_double(ortc_scalar_load(y->dtype, y->data, i));
}

// y: any shape, uniform in [low, high) or normal(mean, scale)
static ortc_status random_run(ortc_opctx *c)
{
    ortc_tensor *y = c->out[0];
    int64_t n = ortc_tensor_numel(y);
    uint64_t base = reserve(c, n);
    if (is_uniform(c)) {
        double lo = ortc_node_attr_float(c->node, "low", 0);
        double hi = ortc_node_attr_float(c->node, "high", 1);
        for (int64_t i = 0; i < n; i++) {
            uint64_t r[4];
            draw(c, base + (uint64_t)i, r);
            ortc_scalar_store(y->dtype, y->data, i,
                              ortc_scalar_float(lo + (hi - lo) * ortc_philox_unit(r[0])));
            if (hi > lo && load_back(y, i) >= hi)
                store_below(y, i, hi);
        }
    } else {
        double mean = ortc_node_attr_float(c->node, "mean", 0);
        double scale = ortc_node_attr_float(c->node, "scale", 1);
        for (int64_t i = 0; i < n; i++) {
            uint64_t r[4];
            draw(c, base + (uint64_t)i, r);
            /* Box-Muller: u1 in (0, 1] keeps the log finite */
            double u1 = 1.0 - ortc_philox_unit(r[0]), u2 = ortc_philox_unit(r[1]);
            double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
            ortc_scalar_store(y->dtype, y->data, i, ortc_scalar_float(mean + scale * z));
        }
    }
    return ORTC_STATUS_OK;
}

// y: x's shape, 1 with probability x[i], else 0
static ortc_status bernoulli_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    int64_t n = ortc_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double p = ortc_scalar_double(ortc_scalar_load(x->dtype, x->data, i));
        if (!(p >= 0 && p <= 1))
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "input 0 '%s' holds %g at element %lld; probabilities must be "
                                 "in [0, 1]",
                                 ortc_plain_input_name(c, 0), p, (long long)i);
    }
    uint64_t base = reserve(c, n);
    for (int64_t i = 0; i < n; i++) {
        double p = ortc_scalar_double(ortc_scalar_load(x->dtype, x->data, i));
        uint64_t r[4];
        draw(c, base + (uint64_t)i, r);
        ortc_scalar_store(y->dtype, y->data, i,
                          ortc_scalar_unsigned(ortc_philox_unit(r[0]) < p ? 1 : 0));
    }
    return ORTC_STATUS_OK;
}

// y: (batch, samples) class indices; x: (batch, classes) log-probabilities
static ortc_status multinomial_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    int64_t batch = x->dims[0], classes = x->dims[1], samples = y->dims[1];
    double *cum = c->scratch;
    uint64_t base = reserve(c, batch * samples);
    for (int64_t b = 0; b < batch; b++) {
        double mx = -INFINITY, total = 0;
        for (int64_t k = 0; k < classes; k++)
            mx = fmax(mx, ortc_scalar_double(ortc_scalar_load(x->dtype, x->data, b * classes + k)));
        for (int64_t k = 0; k < classes; k++) {
            double v = ortc_scalar_double(ortc_scalar_load(x->dtype, x->data, b * classes + k));
            total += exp(v - mx); /* NaN when every weight is -inf: refused below */
            cum[k] = total;
        }
        if (!(total > 0) || !isfinite(total))
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "row %lld of input 0 '%s' gives no valid distribution (all "
                                 "-inf, NaN or +inf)",
                                 (long long)b, ortc_plain_input_name(c, 0));
        for (int64_t s = 0; s < samples; s++) {
            uint64_t r[4];
            draw(c, base + (uint64_t)(b * samples + s), r);
            double u = ortc_philox_unit(r[0]) * total;
            /* the first class whose cumulative weight exceeds u */
            int64_t lo = 0, hi = classes - 1;
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (cum[mid] > u)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            ortc_scalar_store(y->dtype, y->data, b * samples + s, ortc_scalar_signed(lo));
        }
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------------------- */

/* Every row: never folded (each run draws anew), state from random_prepare. */
#define RANDOM_ROW(name, since, dtypes_, infer_, run_)                                             \
    ORTC_OP(name, since, since, .dtypes = (dtypes_), .flags = ORTC_OP_NO_FOLD, .infer = (infer_),  \
            .prepare = random_prepare, .run = (run_), .release = random_release)
#define RANDOM_LIKE_DTYPES (ORTC_DTYPES_ALL & ~ORTC_DT(BFLOAT16))

/* dtypes: the output of RandomUniform/RandomNormal, input 0 of the others */
const ortc_operator ortc_ops_random[] = {
    RANDOM_ROW("RandomUniform", 1, RANDOM_FLOATS, random_infer, random_run),
    RANDOM_ROW("RandomNormal", 1, RANDOM_FLOATS, random_infer, random_run),
    RANDOM_ROW("RandomUniformLike", 1, RANDOM_LIKE_DTYPES, random_infer, random_run),
    RANDOM_ROW("RandomNormalLike", 1, RANDOM_LIKE_DTYPES, random_infer, random_run),
    RANDOM_ROW("Bernoulli", 15, RANDOM_FLOATS, bernoulli_infer, bernoulli_run),
    RANDOM_ROW("Multinomial", 7, RANDOM_FLOATS, multinomial_infer, multinomial_run),
};
ORTC_OP_TABLE_END(random);
