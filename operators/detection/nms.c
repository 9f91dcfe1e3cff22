/* nms.c — NonMaxSuppression (ONNX 10, 11): per batch item and class, the
 * boxes scoring at least score_threshold in descending score order (ties:
 * lower index first), each kept unless its IoU with a box kept before
 * exceeds iou_threshold, at most max_output_boxes_per_class of them.
 * Boxes are corners [y1, x1, y2, x2] (either diagonal) or, with
 * center_point_box, [x_center, y_center, width, height]. The count kept
 * depends on the data: selected_indices is a value of data-dependent size
 * (operator.h). The boxes per batch item are bounded by the session's
 * max_nms_boxes (the greedy pass is quadratic in them).
 *
 * The spec removes boxes "with score less than score_threshold", so a
 * score equal to it stays; ONNX's reference implementation and ONNX
 * Runtime drop it too (they keep score > threshold). ortc follows the spec
 * (tests/conformance/REPORT.md notes it).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"

typedef struct nms_params {
    int64_t max_out; /* per batch item and class */
    float iou, score;
    bool has_score;
    bool center;
} nms_params;

static ortc_status check_scalar_input(ortc_opctx *c, int i, ortc_dtype dtype)
{
    char sh[160];
    if (i >= c->n_in || !c->in[i])
        return ORTC_STATUS_OK;
    const ortc_tensor *t = c->in[i];
    if (t->dtype != dtype || ortc_tensor_numel(t) != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d must be one %s; it is %s %s",
                             i, ortc_dtype_name(dtype), ortc_dtype_name(t->dtype),
                             ortc_shape_str(sh, sizeof sh, t->rank, t->dims));
    return ORTC_STATUS_OK;
}

static ortc_status nms_check(ortc_opctx *c)
{
    char a[160], b[160];
    ORTC_TRY(ortc_op_check_arity(c, 2, 5, 1, 1));
    ORTC_TRY(ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(check_scalar_input(c, 2, ORTC_DTYPE_INT64));
    ORTC_TRY(check_scalar_input(c, 3, ORTC_DTYPE_FLOAT));
    ORTC_TRY(check_scalar_input(c, 4, ORTC_DTYPE_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "center_point_box", ORTC_ATTR_INT));
    const ortc_tensor *boxes = c->in[0], *scores = c->in[1];
    if (boxes->rank != 3 || boxes->dims[2] != 4 || scores->rank != 3 ||
        scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "boxes %s and scores %s: they must be [batch, boxes, 4] and [batch, "
                             "classes, boxes]",
                             ortc_shape_str(a, sizeof a, boxes->rank, boxes->dims),
                             ortc_shape_str(b, sizeof b, scores->rank, scores->dims));
    int64_t cpb = ortc_node_attr_int(c->node, "center_point_box", 0);
    if (cpb != 0 && cpb != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "center_point_box is %lld; 0 or 1",
                             (long long)cpb);
    int64_t max = ortc_op_max_nms_boxes(c);
    if (boxes->dims[1] > max)
        return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                             "%lld boxes per batch item, above the limit of %lld (session option "
                             "max_nms_boxes)",
                             (long long)boxes->dims[1], (long long)max);
    return ORTC_STATUS_OK;
}

static ortc_status nms_infer(ortc_opctx *c)
{
    ORTC_TRY(nms_check(c));
    int64_t dims[2] = {-1, 3};
    ortc_op_set_output_dynamic(c, 0, ORTC_DTYPE_INT64, 2, dims);
    return ORTC_STATUS_OK;
}

/* Box i as corners y1 <= y2, x1 <= x2. */
static void corners(const float *b, bool center, float *y1, float *x1, float *y2, float *x2)
{
    if (center) {
        float xc = b[0], yc = b[1], w = b[2] / 2, h = b[3] / 2;
        *x1 = xc - w;
        *x2 = xc + w;
        *y1 = yc - h;
        *y2 = yc + h;
        return;
    }
    *y1 = fminf(b[0], b[2]);
    *y2 = fmaxf(b[0], b[2]);
    *x1 = fminf(b[1], b[3]);
    *x2 = fmaxf(b[1], b[3]);
}

/* Whether boxes a and b overlap by more than `iou` (intersection over
 * union; boxes of no area overlap nothing). */
static bool suppresses(const float *a, const float *b, bool center, float iou)
{
    float ay1, ax1, ay2, ax2, by1, bx1, by2, bx2;
    corners(a, center, &ay1, &ax1, &ay2, &ax2);
    corners(b, center, &by1, &bx1, &by2, &bx2);
    float area_a = (ay2 - ay1) * (ax2 - ax1), area_b = (by2 - by1) * (bx2 - bx1);
    if (area_a <= 0 || area_b <= 0)
        return false;
    float ih = fminf(ay2, by2) - fmaxf(ay1, by1), iw = fminf(ax2, bx2) - fmaxf(ax1, bx1);
    if (ih <= 0 || iw <= 0)
        return false;
    float inter = ih * iw;
    return inter / (area_a + area_b - inter) > iou;
}

/* Box j before box i when its score is higher (ties keep index order). */
static bool higher_score(const void *score, int64_t j, int64_t i)
{
    return ((const float *)score)[j] > ((const float *)score)[i];
}

// selected: (count, 3) [batch, class, box] rows, batch by batch, class by class
static ortc_status nms_run(ortc_opctx *c)
{
    ORTC_TRY(nms_check(c));
    const ortc_tensor *boxes = c->in[0], *scores = c->in[1];
    nms_params p = {0};
    p.max_out = c->n_in > 2 && c->in[2] ? *(const int64_t *)c->in[2]->data : 0;
    p.iou = c->n_in > 3 && c->in[3] ? *(const float *)c->in[3]->data : 0.0f;
    p.has_score = c->n_in > 4 && c->in[4];
    p.score = p.has_score ? *(const float *)c->in[4]->data : 0.0f;
    p.center = ortc_node_attr_int(c->node, "center_point_box", 0) == 1;
    if (p.iou < 0 || p.iou > 1 || isnan(p.iou))
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "iou_threshold is %g; it must be in [0, 1]", (double)p.iou);
    int64_t nb = boxes->dims[0], nc = scores->dims[1], n = boxes->dims[1];
    int64_t per_class = p.max_out < 0 ? 0 : p.max_out < n ? p.max_out : n;
    /* room for every selection there can be, and the working lists */
    int64_t cap = nb * nc * per_class;
    int64_t *sel = ortc_op_alloc(c, (size_t)(cap ? cap : 1) * 3 * sizeof *sel);
    int64_t *idx = sel ? ortc_op_alloc(c, (size_t)(n ? n : 1) * sizeof *idx) : NULL;
    int64_t *tmp = idx ? ortc_op_alloc(c, (size_t)(n ? n : 1) * sizeof *tmp) : NULL;
    int64_t *kept = tmp ? ortc_op_alloc(c, (size_t)(n ? n : 1) * sizeof *kept) : NULL;
    if (!kept)
        return c->err->status;
    int64_t count = 0;
    for (int64_t b = 0; b < nb && per_class; b++) {
        const float *bx = (const float *)boxes->data + b * n * 4;
        for (int64_t k = 0; k < nc; k++) {
            const float *sc = (const float *)scores->data + (b * nc + k) * n;
            int64_t m = 0;
            for (int64_t i = 0; i < n; i++)
                if (!p.has_score || sc[i] >= p.score)
                    idx[m++] = i;
            ortc_sort_index(idx, tmp, m, higher_score, sc);
            int64_t nk = 0;
            for (int64_t i = 0; i < m && nk < per_class; i++) {
                const float *box = bx + idx[i] * 4;
                bool keep = true;
                for (int64_t j = 0; keep && j < nk; j++)
                    keep = !suppresses(bx + kept[j] * 4, box, p.center, p.iou);
                if (!keep)
                    continue;
                kept[nk++] = idx[i];
                sel[count * 3] = b;
                sel[count * 3 + 1] = k;
                sel[count * 3 + 2] = idx[i];
                count++;
            }
        }
    }
    ortc_tensor out = {.dtype = ORTC_DTYPE_INT64, .rank = 2, .dims = {count, 3}, .data = sel};
    return ortc_op_output_ref(c, 0, &out);
}

const ortc_operator ortc_ops_nms[] = {
    ORTC_OP("NonMaxSuppression", 10, 11, .versions = {10, 11}, .dtypes = ORTC_DT(FLOAT),
            .infer = nms_infer, .run = nms_run),
};
ORTC_OP_TABLE_END(nms);
