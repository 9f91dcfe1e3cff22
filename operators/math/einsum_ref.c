/* einsum_ref.c — Einsum's general contraction in plain C, the reference
 * kernel and the path for whatever the matmul lowering does not take
 * (einsum.c): every output element sums, over the labels absent from the
 * output, the product of one element of each input. Floating dtypes
 * accumulate in double and round once; integers multiply and add modulo
 * 2^64 and keep the low bits (numpy's wrap-around). No allocation.
 */
#include "einsum.h"
#include "plain_util.h"

typedef union einsum_acc {
    double f;
    uint64_t u;
} einsum_acc;

static double load_real(ortc_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: return ((const float *)p)[i];
    case ORTC_DTYPE_DOUBLE: return ((const double *)p)[i];
    default: return ortc_f16_to_float(((const uint16_t *)p)[i]);
    }
}

/* integers sign- or zero-extended to 64 bits */
static uint64_t load_int(ortc_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ORTC_DTYPE_INT8: return (uint64_t)(int64_t)((const int8_t *)p)[i];
    case ORTC_DTYPE_INT16: return (uint64_t)(int64_t)((const int16_t *)p)[i];
    case ORTC_DTYPE_INT32: return (uint64_t)(int64_t)((const int32_t *)p)[i];
    case ORTC_DTYPE_INT64: return (uint64_t)((const int64_t *)p)[i];
    case ORTC_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case ORTC_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case ORTC_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    default: return ((const uint64_t *)p)[i];
    }
}

static void store(ortc_dtype t, void *p, int64_t i, einsum_acc v)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: ((float *)p)[i] = (float)v.f; break;
    case ORTC_DTYPE_DOUBLE: ((double *)p)[i] = v.f; break;
    case ORTC_DTYPE_FLOAT16: ((uint16_t *)p)[i] = ortc_f16_from_double(v.f); break;
    case ORTC_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)(uint8_t)v.u; break;
    case ORTC_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)(uint16_t)v.u; break;
    case ORTC_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)(uint32_t)v.u; break;
    case ORTC_DTYPE_INT64: ((int64_t *)p)[i] = (int64_t)v.u; break;
    case ORTC_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)v.u; break;
    case ORTC_DTYPE_UINT16: ((uint16_t *)p)[i] = (uint16_t)v.u; break;
    case ORTC_DTYPE_UINT32: ((uint32_t *)p)[i] = (uint32_t)v.u; break;
    default: ((uint64_t *)p)[i] = v.u; break;
    }
}

/* Advances the odometer idx over labels[0..n) (last fastest), moving each
 * input's offset with it; false once it wraps around completely. */
static bool odometer_next(const ortc_einsum *e, int n, const int *labels, int64_t *idx,
                          int64_t *off)
{
    for (int j = n - 1; j >= 0; j--) {
        int l = labels[j];
        for (int i = 0; i < e->n_in; i++)
            off[i] += e->stride[i][l];
        if (++idx[j] < e->size[l])
            return true;
        for (int i = 0; i < e->n_in; i++)
            off[i] -= e->stride[i][l] * e->size[l];
        idx[j] = 0;
    }
    return false;
}

bool ortc_einsum_contract(const ortc_einsum *e, ortc_dtype t, void *out, const void *const *in)
{
    bool real = t == ORTC_DTYPE_FLOAT || t == ORTC_DTYPE_DOUBLE || t == ORTC_DTYPE_FLOAT16;
    if (!real && !ortc_dtype_in(ORTC_DTYPES_INT, t))
        return false;
    int sum_labels[ORTC_EINSUM_MAX_LABELS], n_sum = 0;
    int64_t out_count = 1, sum_count = 1;
    for (int l = 0; l < e->n_labels; l++)
        if (!e->in_out[l]) {
            sum_labels[n_sum++] = l;
            sum_count *= e->size[l];
        }
    for (int j = 0; j < e->out_rank; j++)
        out_count *= e->size[e->out_label[j]];
    if (out_count == 0)
        return true;
    int64_t oidx[ORTC_MAX_RANK] = {0}, base[ORTC_EINSUM_MAX_INPUTS] = {0};
    for (int64_t o = 0; o < out_count; o++) {
        einsum_acc acc = {0};
        if (real)
            acc.f = 0;
        int64_t sidx[ORTC_EINSUM_MAX_LABELS] = {0}, off[ORTC_EINSUM_MAX_INPUTS];
        for (int i = 0; i < e->n_in; i++)
            off[i] = base[i];
        for (int64_t s = 0; s < sum_count; s++) {
            if (real) {
                double p = 1;
                for (int i = 0; i < e->n_in; i++)
                    p *= load_real(t, in[i], off[i]);
                acc.f += p;
            } else {
                uint64_t p = 1;
                for (int i = 0; i < e->n_in; i++)
                    p *= load_int(t, in[i], off[i]);
                acc.u += p;
            }
            odometer_next(e, n_sum, sum_labels, sidx, off);
        }
        store(t, out, o, acc);
        odometer_next(e, e->out_rank, e->out_label, oidx, base);
    }
    return true;
}
