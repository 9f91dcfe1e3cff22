/* op_util.c — checks and small helpers shared by operator implementations:
 * errors that name the node, arity/dtype/attribute checks, broadcasting,
 * axis normalisation, reading integer tensors; and ortc_op_prepare, which
 * applies a row's declared aliasing around its prepare. The helpers of
 * op_util.h too. No operator's kernel here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"
#include "tensor/cast.h"

ortc_status ortc_op_error(ortc_opctx *c, ortc_status status, const char *fmt, ...)
{
    char msg[ORTC_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ortc_node *n = c->node;
    return ortc_err_set(c->err, status, "node '%s' (%s%s%s-%d): %s", n->name,
                        n->domain[0] ? n->domain : "", n->domain[0] ? "." : "", n->op_type,
                        ortc_node_version(n), msg);
}

ortc_status ortc_op_check_arity(ortc_opctx *c, int min_in, int max_in, int min_out, int max_out)
{
    /* trailing omitted inputs do not count */
    int n_in = c->n_in;
    while (n_in > 0 && !c->in[n_in - 1])
        n_in--;
    if (n_in < min_in || n_in > max_in) {
        if (min_in == max_in)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "has %d inputs; it takes %d", n_in,
                                 min_in);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "has %d inputs; it takes %d to %d", n_in,
                             min_in, max_in);
    }
    for (int i = 0; i < min_in; i++)
        if (!c->in[i])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing", i);
    if (c->n_out < min_out || c->n_out > max_out)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "has %d outputs; it takes %d to %d",
                             c->n_out, min_out, max_out);
    for (int k = 0; k < min_out; k++)
        if (!c->out[k])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required output %d is missing", k);
    return ORTC_STATUS_OK;
}

ortc_status ortc_op_check_dtype(ortc_opctx *c, int i, ...)
{
    if (i >= c->n_in || !c->in[i])
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is missing", i);
    ortc_dtype have = c->in[i]->dtype;
    char allowed[256] = "";
    va_list ap;
    va_start(ap, i);
    for (;;) {
        ortc_dtype d = (ortc_dtype)va_arg(ap, int);
        if (d == ORTC_DTYPE_UNDEFINED)
            break;
        if (d == have) {
            va_end(ap);
            return ORTC_STATUS_OK;
        }
        ortc_strbuf_append(allowed, sizeof allowed, "%s%s", allowed[0] ? ", " : "",
                           ortc_dtype_name(d));
    }
    va_end(ap);
    const ortc_value *v = c->node->inputs[i];
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "input %d '%s' has dtype %s; supported: %s", i,
                         v ? v->name : "", ortc_dtype_name(have), allowed);
}

/* Display order of dtype lists: floating types, integers by width (signed
 * before unsigned), then the rest. */
static const ortc_dtype dtype_order[] = {
    ORTC_DTYPE_FLOAT, ORTC_DTYPE_DOUBLE, ORTC_DTYPE_FLOAT16,   ORTC_DTYPE_BFLOAT16,
    ORTC_DTYPE_INT8,  ORTC_DTYPE_UINT8,  ORTC_DTYPE_INT16,     ORTC_DTYPE_UINT16,
    ORTC_DTYPE_INT32, ORTC_DTYPE_UINT32, ORTC_DTYPE_INT64,     ORTC_DTYPE_UINT64,
    ORTC_DTYPE_BOOL,  ORTC_DTYPE_STRING, ORTC_DTYPE_COMPLEX64, ORTC_DTYPE_COMPLEX128,
};

void ortc_dtypes_str(char *buf, size_t size, uint32_t mask)
{
    if (size)
        buf[0] = '\0';
    for (size_t k = 0; k < sizeof dtype_order / sizeof *dtype_order; k++)
        if (mask & (1u << dtype_order[k]))
            ortc_strbuf_append(buf, size, "%s%s", buf[0] ? ", " : "",
                               ortc_dtype_name(dtype_order[k]));
}

ortc_status ortc_op_check_dtypes(ortc_opctx *c, int i, uint32_t mask)
{
    if (i >= c->n_in || !c->in[i])
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is missing", i);
    ortc_dtype have = c->in[i]->dtype;
    if (ortc_dtype_in(mask, have))
        return ORTC_STATUS_OK;
    char allowed[256];
    ortc_dtypes_str(allowed, sizeof allowed, mask);
    const ortc_value *v = c->node->inputs[i];
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "input %d '%s' has dtype %s; supported: %s", i,
                         v ? v->name : "", ortc_dtype_name(have), allowed);
}

uint32_t ortc_op_dtypes(const ortc_opctx *c)
{
    return c->node->op ? c->node->op->dtypes : ORTC_DTYPES_ALL;
}

ortc_status ortc_op_check_input(ortc_opctx *c, int i)
{
    return ortc_op_check_dtypes(c, i, ortc_op_dtypes(c));
}

ortc_status ortc_op_prepare(const ortc_operator *op, ortc_opctx *c)
{
    if ((op->flags & ORTC_OP_VIEW) && c->view && c->n_in > 0 && c->n_out > 0)
        c->view[0] = 0;
    if ((op->flags & ORTC_OP_INPLACE) && c->inplace && c->n_in > 0 && c->n_out > 0)
        c->inplace[0] = 0;
    if (!op->prepare)
        return ORTC_STATUS_OK;
    ORTC_TRY(op->prepare(c));
    for (int k = 0; k < c->n_out; k++) {
        if (c->view && c->view[k] >= 0 && !(op->flags & (ORTC_OP_VIEW | ORTC_OP_MAY_VIEW)))
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: prepare made output %d a view, which the registry row "
                                 "does not declare",
                                 k);
        if (c->inplace && c->inplace[k] >= 0 &&
            !(op->flags & (ORTC_OP_INPLACE | ORTC_OP_MAY_INPLACE)))
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: prepare let output %d reuse an input, which the "
                                 "registry row does not declare",
                                 k);
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_op_check_min_rank(ortc_opctx *c, int i, int min_rank, const char *layout)
{
    const ortc_tensor *x = c->in[i];
    if (x->rank >= min_rank)
        return ORTC_STATUS_OK;
    char sx[128];
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                         "input %d '%s' has shape %s (rank %d); %s needs rank >= %d%s%s%s", i,
                         c->node->inputs[i] ? c->node->inputs[i]->name : "",
                         ortc_shape_str(sx, sizeof sx, x->rank, x->dims), x->rank, c->node->op_type,
                         min_rank, layout ? " (" : "", layout ? layout : "", layout ? ")" : "");
}

ortc_status ortc_op_check_same_dtype(ortc_opctx *c, int i, int j)
{
    for (int k = 0; k < 2; k++) {
        int m = k ? j : i;
        if (m >= c->n_in || !c->in[m])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is omitted", m);
    }
    if (c->in[i]->dtype == c->in[j]->dtype)
        return ORTC_STATUS_OK;
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                         "inputs %d '%s' (%s) and %d '%s' (%s) have different dtypes", i,
                         c->node->inputs[i]->name, ortc_dtype_name(c->in[i]->dtype), j,
                         c->node->inputs[j]->name, ortc_dtype_name(c->in[j]->dtype));
}

ortc_status ortc_op_check_attr(ortc_opctx *c, const char *name, ortc_attr_type type)
{
    const ortc_attr *a = ortc_node_attr(c->node, name);
    if (a && a->type != type)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute '%s' has type %s; expected %s", name,
                             ortc_attr_type_name(a->type), ortc_attr_type_name(type));
    return ORTC_STATUS_OK;
}

void ortc_op_set_output(ortc_opctx *c, int k, ortc_dtype dtype, int rank, const int64_t *dims)
{
    ortc_tensor *t = c->out[k];
    if (!t)
        return;
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < ORTC_MAX_RANK; i++)
        t->dims[i] = i < rank ? dims[i] : 0;
}

int ortc_broadcast_dims(int ra, const int64_t *a, int rb, const int64_t *b, int64_t *out,
                        int64_t bad[2])
{
    int r = ra > rb ? ra : rb;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - ra), ib = i - (r - rb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            bad[0] = da;
            bad[1] = db;
            return i;
        }
        out[i] = da == 1 ? db : da;
    }
    return -1;
}

ortc_status ortc_op_broadcast(ortc_opctx *c, const ortc_tensor *a, const ortc_tensor *b,
                              int *out_rank, int64_t *out_dims)
{
    int64_t bad[2];
    int i = ortc_broadcast_dims(a->rank, a->dims, b->rank, b->dims, out_dims, bad);
    if (i >= 0) {
        char sa[128], sb[128];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "shapes %s and %s cannot be broadcast (dim %d: %lld vs %lld)",
                             ortc_shape_str(sa, sizeof sa, a->rank, a->dims),
                             ortc_shape_str(sb, sizeof sb, b->rank, b->dims), i, (long long)bad[0],
                             (long long)bad[1]);
    }
    *out_rank = a->rank > b->rank ? a->rank : b->rank;
    return ORTC_STATUS_OK;
}

ortc_status ortc_op_axis(ortc_opctx *c, int64_t axis, int rank, int *out)
{
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= (rank > 0 ? rank : 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "axis %lld is out of range for rank %d",
                             (long long)axis, rank);
    *out = (int)a;
    return ORTC_STATUS_OK;
}

double ortc_op_flops(const ortc_tensor *t, double macs_per_element)
{
    double macs = t ? (double)ortc_tensor_numel(t) * macs_per_element : 0;
    return macs > 0 ? 2 * macs : 0;
}

int64_t ortc_tensor_get_int(const ortc_tensor *t, int64_t i)
{
    return ortc_load_int(t->data, t->dtype, i);
}

double ortc_tensor_get_double(const ortc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ORTC_DTYPE_FLOAT: return ((const float *)t->data)[i];
    case ORTC_DTYPE_DOUBLE: return ((const double *)t->data)[i];
    default: return (double)ortc_tensor_get_int(t, i);
    }
}

ortc_status ortc_op_shape_error(ortc_opctx *c, int i, const char *role, const char *fmt, ...)
{
    char rest[512], shape[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    const ortc_tensor *t = c->in[i];
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d '%s'%s%s%s has shape %s; %s", i,
                         ortc_plain_input_name(c, i), role ? " (" : "", role ? role : "",
                         role ? ")" : "", ortc_shape_str(shape, sizeof shape, t->rank, t->dims),
                         rest);
}

ortc_status ortc_op_attr_choice(ortc_opctx *c, const char *attr, const char *const *names, int def,
                                int *out)
{
    ORTC_TRY(ortc_op_check_attr(c, attr, ORTC_ATTR_STRING));
    const char *s = ortc_node_attr_string(c->node, attr, NULL);
    int n = 0;
    while (names[n])
        n++;
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s",
                 i == 0       ? ""
                 : i == n - 1 ? " or "
                              : ", ",
                 names[i]);
    }
    if (!s) {
        if (def < 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' (%s) is missing",
                                 attr, list);
        *out = def;
        return ORTC_STATUS_OK;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return ORTC_STATUS_OK;
        }
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is \"%s\"; it must be %s",
                         attr, s, list);
}

ortc_status ortc_op_scatter_check(ortc_opctx *c, const char *op, ortc_scatter_reduction *red)
{
    *red = ORTC_SCATTER_NONE;
    ORTC_TRY(ortc_op_check_same_dtype(c, 2, 0));
    ortc_dtype dtype = c->in[0]->dtype;
    if (ortc_op_version(c) < 16) {
        if (ortc_node_attr(c->node, "reduction"))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'reduction' exists from %s-16 on", op);
        return ORTC_STATUS_OK;
    }
    static const char *const names[] = {"none", "add", "mul", NULL};
    int i;
    ORTC_TRY(ortc_op_attr_choice(c, "reduction", names, 0, &i));
    *red = (ortc_scatter_reduction)i;
    if (*red != ORTC_SCATTER_NONE && (!ortc_dtype_is_numeric(dtype) || dtype == ORTC_DTYPE_BOOL))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "reduction '%s' on dtype %s is not supported", names[i],
                             ortc_dtype_name(dtype));
    return ORTC_STATUS_OK;
}

void ortc_op_scatter_combine(ortc_dtype t, void *y, const void *u, int64_t n,
                             ortc_scatter_reduction red)
{
    bool add = red == ORTC_SCATTER_ADD;
    switch (t) {
#define COMBINE(T)                                                                                 \
    {                                                                                              \
        T *p = y;                                                                                  \
        const T *v = u;                                                                            \
        for (int64_t i = 0; i < n; i++)                                                            \
            p[i] = add ? (T)(p[i] + v[i]) : (T)(p[i] * v[i]);                                      \
        break;                                                                                     \
    }
    case ORTC_DTYPE_FLOAT: COMBINE(float)
    case ORTC_DTYPE_DOUBLE: COMBINE(double)
    case ORTC_DTYPE_INT8: COMBINE(int8_t)
    case ORTC_DTYPE_INT16: COMBINE(int16_t)
    case ORTC_DTYPE_INT32: COMBINE(int32_t)
    case ORTC_DTYPE_INT64: COMBINE(int64_t)
    case ORTC_DTYPE_UINT8: COMBINE(uint8_t)
    case ORTC_DTYPE_UINT16: COMBINE(uint16_t)
    case ORTC_DTYPE_UINT32: COMBINE(uint32_t)
    case ORTC_DTYPE_UINT64: COMBINE(uint64_t)
#undef COMBINE
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_BFLOAT16:
        for (int64_t i = 0; i < n; i++) {
            double a = ortc_scalar_double(ortc_scalar_load(t, y, i)),
                   b = ortc_scalar_double(ortc_scalar_load(t, u, i));
            ortc_scalar_store(t, y, i, ortc_scalar_float(add ? a + b : a * b));
        }
        break;
    default: break;
    }
}

ortc_status ortc_op_check_same_shape(ortc_opctx *c, int i, const char *role_i, int j,
                                     const char *role_j)
{
    const ortc_tensor *a = c->in[i], *b = c->in[j];
    if (a->rank == b->rank && !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof *a->dims))
        return ORTC_STATUS_OK;
    char sa[128], sb[128], ra[64] = "", rb[64] = "";
    if (role_i)
        snprintf(ra, sizeof ra, " (%s)", role_i);
    if (role_j)
        snprintf(rb, sizeof rb, " (%s)", role_j);
    return ortc_op_error(
        c, ORTC_STATUS_INVALID_MODEL,
        "input %d '%s'%s has shape %s but input %d '%s'%s has %s; they must match", i,
        ortc_plain_input_name(c, i), ra, ortc_shape_str(sa, sizeof sa, a->rank, a->dims), j,
        ortc_plain_input_name(c, j), rb, ortc_shape_str(sb, sizeof sb, b->rank, b->dims));
}

ortc_status ortc_op_auto_pad(ortc_opctx *c, ortc_auto_pad *mode)
{
    static const char *const names[] = {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", NULL};
    int i;
    ortc_status st = ortc_op_attr_choice(c, "auto_pad", names, 0, &i);
    if (!st)
        *mode = (ortc_auto_pad)i;
    return st;
}

void ortc_axes_split_init(ortc_axes_split *s, int n, const int64_t *dims, const int64_t *strides,
                          const bool *reduced)
{
    s->nk = s->nr = 0;
    s->n_kept = s->n_red = 1;
    for (int d = 0; d < n; d++) {
        if (reduced[d]) {
            s->rdim[s->nr] = dims[d];
            s->rstride[s->nr++] = strides[d];
            s->n_red *= dims[d];
        } else {
            s->kdim[s->nk] = dims[d];
            s->kstride[s->nk++] = strides[d];
            s->n_kept *= dims[d];
        }
    }
}

ortc_status ortc_op_check_bias(ortc_opctx *c, int i, int64_t m)
{
    const ortc_tensor *b = i < c->n_in ? c->in[i] : NULL;
    if (!b || (b->rank == 1 && b->dims[0] == m))
        return ORTC_STATUS_OK;
    char sb[128];
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                         "bias '%s' has shape %s; with %lld output channels it must be [%lld]",
                         ortc_plain_input_name(c, i),
                         ortc_shape_str(sb, sizeof sb, b->rank, b->dims), (long long)m,
                         (long long)m);
}

ortc_status ortc_matmul_shape_init(ortc_opctx *c, ortc_matmul_shape *s, int ia, int ib)
{
    const ortc_tensor *a = c->in[ia], *b = c->in[ib];
    const char *na = ortc_plain_input_name(c, ia), *nb = ortc_plain_input_name(c, ib);
    char sa[128], sb[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    ORTC_TRY(ortc_op_check_min_rank(c, ia, 1, NULL));
    ORTC_TRY(ortc_op_check_min_rank(c, ib, 1, NULL));
    memset(s, 0, sizeof *s);
    bool a_vec = a->rank == 1, b_vec = b->rank == 1;
    s->m = a_vec ? 1 : a->dims[a->rank - 2];
    s->k = a->dims[a->rank - 1];
    int64_t kb = b_vec ? b->dims[0] : b->dims[b->rank - 2];
    s->n = b_vec ? 1 : b->dims[b->rank - 1];
    if (kb != s->k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inner dims differ: A '%s' %s has K=%lld, B '%s' %s has K=%lld", na,
                             sa, (long long)s->k, nb, sb, (long long)kb);
    s->a_brank = a_vec ? 0 : a->rank - 2;
    s->b_brank = b_vec ? 0 : b->rank - 2;
    memcpy(s->a_batch, a->dims, (size_t)s->a_brank * sizeof *a->dims);
    memcpy(s->b_batch, b->dims, (size_t)s->b_brank * sizeof *b->dims);
    s->brank = s->a_brank > s->b_brank ? s->a_brank : s->b_brank;
    int64_t bad[2];
    int at = ortc_broadcast_dims(s->a_brank, s->a_batch, s->b_brank, s->b_batch, s->batch, bad);
    if (at >= 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "batch dims of A '%s' %s and B '%s' %s cannot be broadcast "
                             "(batch dim %d: %lld vs %lld)",
                             na, sa, nb, sb, at, (long long)bad[0], (long long)bad[1]);
    for (int i = 0; i < s->brank; i++)
        s->out_dims[s->out_rank++] = s->batch[i];
    if (!a_vec)
        s->out_dims[s->out_rank++] = s->m;
    if (!b_vec)
        s->out_dims[s->out_rank++] = s->n;
    return ORTC_STATUS_OK;
}
