/* registry.c — the static table of operators: lookup by (domain, op type,
 * opset), the version a node resolved to, the rules every row must follow
 * (ortc_registry_validate, run by the unit tests) and the public listing
 * (ortc_operator_count/get). Each family file contributes one table; adding
 * a family means adding one line to `tables` below. No kernels here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "operator.h"

ORTC_OP_TABLE(conv);
ORTC_OP_TABLE(deconv);
ORTC_OP_TABLE(pool);
ORTC_OP_TABLE(lrn);
ORTC_OP_TABLE(norm);
ORTC_OP_TABLE(gemm);
ORTC_OP_TABLE(softmax);
ORTC_OP_TABLE(eltwise);
ORTC_OP_TABLE(binary);
ORTC_OP_TABLE(logic);
ORTC_OP_TABLE(reduce);
ORTC_OP_TABLE(shape);
ORTC_OP_TABLE(movement);
ORTC_OP_TABLE(index);
ORTC_OP_TABLE(generate);
ORTC_OP_TABLE(cast);
ORTC_OP_TABLE(trilu);
ORTC_OP_TABLE(resize);
ORTC_OP_TABLE(if);
ORTC_OP_TABLE(rnn);
ORTC_OP_TABLE(topk);
ORTC_OP_TABLE(cumsum);
ORTC_OP_TABLE(det);
ORTC_OP_TABLE(einsum);
ORTC_OP_TABLE(nd_index);
ORTC_OP_TABLE(onehot);
ORTC_OP_TABLE(revseq);
ORTC_OP_TABLE(unpool);
ORTC_OP_TABLE(gridsamp);
ORTC_OP_TABLE(mvn);
ORTC_OP_TABLE(roialign);
ORTC_OP_TABLE(loss);
ORTC_OP_TABLE(windows);
ORTC_OP_TABLE(dft);
ORTC_OP_TABLE(random);
ORTC_OP_TABLE(strnorm);
ORTC_OP_TABLE(tfidf);
ORTC_OP_TABLE(training);
ORTC_OP_TABLE(loop);
ORTC_OP_TABLE(scan);
ORTC_OP_TABLE(select);
ORTC_OP_TABLE(unique);
ORTC_OP_TABLE(sequence);
ORTC_OP_TABLE(optional);
ORTC_OP_TABLE(seqmap);
ORTC_OP_TABLE(nms);
ORTC_OP_TABLE(quant);

#define TABLE(family)                                                                              \
    {                                                                                              \
        ortc_ops_##family, &ortc_ops_##family##_count                                              \
    }

static const struct {
    const ortc_operator *ops;
    const size_t *count;
} tables[] = {
    TABLE(conv),     TABLE(deconv),  TABLE(pool),     TABLE(lrn),      TABLE(norm),
    TABLE(gemm),     TABLE(softmax), TABLE(eltwise),  TABLE(binary),   TABLE(logic),
    TABLE(reduce),   TABLE(shape),   TABLE(movement), TABLE(index),    TABLE(generate),
    TABLE(cast),     TABLE(trilu),   TABLE(resize),   TABLE(if),       TABLE(rnn),
    TABLE(topk),     TABLE(cumsum),  TABLE(det),      TABLE(einsum),   TABLE(nd_index),
    TABLE(onehot),   TABLE(revseq),  TABLE(unpool),   TABLE(gridsamp), TABLE(mvn),
    TABLE(roialign), TABLE(loss),    TABLE(windows),  TABLE(dft),      TABLE(random),
    TABLE(strnorm),  TABLE(tfidf),   TABLE(training), TABLE(loop),     TABLE(scan),
    TABLE(select),   TABLE(unique),  TABLE(sequence), TABLE(optional), TABLE(seqmap),
    TABLE(nms),      TABLE(quant),
};

#define N_TABLES (sizeof tables / sizeof *tables)

/* "" for ai.onnx however it is spelled (NULL, "", "ai.onnx"). */
static const char *norm_domain(const char *d)
{
    return (!d || strcmp(d, "ai.onnx") == 0) ? "" : d;
}

static bool same_op(const ortc_operator *op, const char *domain, const char *op_type)
{
    return !strcmp(op->op_type, op_type) && !strcmp(norm_domain(op->domain), domain);
}

const ortc_operator *ortc_registry_find(const char *domain, const char *op_type, int opset)
{
    const ortc_operator *best = NULL;
    domain = norm_domain(domain);
    for (size_t t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < *tables[t].count; i++) {
            const ortc_operator *op = &tables[t].ops[i];
            if (!same_op(op, domain, op_type))
                continue;
            if (op->since <= opset && (!best || op->since > best->since))
                best = op;
        }
    return best;
}

bool ortc_registry_knows(const char *domain, const char *op_type)
{
    domain = norm_domain(domain);
    for (size_t t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < *tables[t].count; i++)
            if (same_op(&tables[t].ops[i], domain, op_type))
                return true;
    return false;
}

size_t ortc_registry_count(void)
{
    size_t n = 0;
    for (size_t t = 0; t < N_TABLES; t++)
        n += *tables[t].count;
    return n;
}

const ortc_operator *ortc_registry_at(size_t i)
{
    for (size_t t = 0; t < N_TABLES; t++) {
        if (i < *tables[t].count)
            return &tables[t].ops[i];
        i -= *tables[t].count;
    }
    return NULL;
}

/* ---- versions ----------------------------------------------------------- */

/* Number of listed versions (0 when the row lists none: since alone). */
static int n_versions(const ortc_operator *op)
{
    int n = 0;
    while (n < ORTC_MAX_OP_VERSIONS && op->versions[n])
        n++;
    return n;
}

int ortc_operator_version(const ortc_operator *op, int opset)
{
    int v = op->since;
    for (int k = 0; k < n_versions(op); k++)
        if (op->versions[k] <= opset && op->versions[k] > v)
            v = op->versions[k];
    return v;
}

int ortc_node_version(const ortc_node *n)
{
    return n->op ? ortc_operator_version(n->op, n->opset) : n->opset;
}

int ortc_op_version(const ortc_opctx *c)
{
    return ortc_node_version(c->node);
}

/* ---- the rules ---------------------------------------------------------- */

typedef struct checker {
    void (*report)(void *user, const char *message);
    void *user;
    size_t problems;
} checker;

static void problem(checker *k, const ortc_operator *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(checker *k, const ortc_operator *op, const char *fmt, ...)
{
    char what[256], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *d = norm_domain(op->domain);
    snprintf(msg, sizeof msg, "%s%s%s %d-%d: %s", d, *d ? "." : "", op->op_type ? op->op_type : "?",
             op->since, op->until, what);
    k->problems++;
    if (k->report)
        k->report(k->user, msg);
}

/* Rules on one row. */
static void check_row(checker *k, const ortc_operator *op)
{
    if (!op->op_type || !*op->op_type) {
        problem(k, op, "no op type");
        return;
    }
    if (op->domain && !strcmp(op->domain, "ai.onnx"))
        problem(k, op, "domain is spelled \"ai.onnx\"; rows use \"\" (or leave it out)");

    /* versions: 1 <= since <= until; the list, when given, is ascending,
     * starts at since and ends at until (it is what ortc_op_version picks
     * from, so a gap or a stray entry changes what kernels see) */
    int nv = n_versions(op);
    if (op->since < 1 || op->until < op->since)
        problem(k, op, "version range is not 1 <= since <= until");
    if (nv == 0 && op->since != op->until)
        problem(k, op, "the range spans several versions but .versions does not list them");
    for (int i = nv; i < ORTC_MAX_OP_VERSIONS; i++)
        if (op->versions[i])
            problem(k, op, ".versions has a 0 before entry %d", i);
    if (nv > 0) {
        if (op->versions[0] != op->since || op->versions[nv - 1] != op->until)
            problem(k, op, ".versions runs %d..%d, not since..until", op->versions[0],
                    op->versions[nv - 1]);
        for (int i = 1; i < nv; i++)
            if (op->versions[i] <= op->versions[i - 1])
                problem(k, op, ".versions is not strictly ascending at entry %d", i);
    }

    /* callbacks: an op that owns subgraphs compiles them instead of
     * inferring (the runtime calls compile, never infer, for it); every op
     * runs */
    if (op->compile && op->infer)
        problem(k, op, "compile and infer are both set; the runtime would never call infer");
    if ((!op->compile && !op->infer) || !op->run)
        problem(k, op, "infer (or compile) and run are required");

    /* backend: a oneDNN op needs the plain-C reference (tests, --reference,
     * fallbacks); a plain-C op's run is its reference, and a second one would
     * be a kernel nothing checks against run. oneDNN state is built in
     * prepare. */
    if (op->backend == ORTC_BACKEND_ONEDNN) {
        if (!op->reference)
            problem(k, op, "oneDNN-backed but has no reference kernel");
        if (!op->prepare)
            problem(k, op, "oneDNN-backed but has no prepare to build its primitives");
    } else if (op->backend == ORTC_BACKEND_C) {
        if (op->reference)
            problem(k, op, "plain C but has a separate reference kernel");
    } else {
        problem(k, op, "unknown backend %d", (int)op->backend);
    }

    /* dtypes: every op that computes declares what it accepts */
    if (!op->compile && !op->dtypes)
        problem(k, op, "declares no dtypes");
    if (op->dtypes & ~(uint32_t)ORTC_DTYPES_ALL)
        problem(k, op, "dtypes has bits that are no ortc_dtype");

    /* flags */
    unsigned f = op->flags;
    /* blocked layouts are oneDNN memory descriptors, read in prepare */
    if ((f & ORTC_OP_ACCEPTS_BLOCKED) && (op->backend != ORTC_BACKEND_ONEDNN || !op->prepare))
        problem(k, op, "accepts blocked layouts without a oneDNN prepare to read them");
    if ((f & ORTC_OP_BLOCKED_INT8) && !(f & ORTC_OP_ACCEPTS_BLOCKED))
        problem(k, op, "takes blocked int8 layouts but no blocked layouts");
    /* post-ops are applied by oneDNN and, in the reference, in plain C */
    if ((f & ORTC_OP_POST_OPS) && op->backend != ORTC_BACKEND_ONEDNN)
        problem(k, op, "takes post-ops but is not oneDNN-backed");
    if (op->post_op_ok && !(f & ORTC_OP_POST_OPS))
        problem(k, op, "restricts post-ops (post_op_ok) but takes none");
    /* a fused "sum" runs in place over its summand when the planner allows
     * (ortc_dnnl_sum_init), so prepare may declare in-place reuse */
    if ((f & ORTC_OP_POST_OPS) && !(f & ORTC_OP_MAY_INPLACE))
        problem(k, op,
                "takes post-ops, whose fused sum runs in place over its summand, but does "
                "not declare ORTC_OP_MAY_INPLACE");
    /* a shape-only op is folded from shapes alone: no input contents, no
     * kernel state (prepare could need data), no aliasing of an input whose
     * bytes it never reads */
    if (f & ORTC_OP_SHAPE_ONLY) {
        if (op->data_inputs)
            problem(k, op, "shape-only but needs input contents (data_inputs)");
        if (op->prepare)
            problem(k, op, "shape-only but has a prepare");
        if (f & (ORTC_OP_VIEW | ORTC_OP_INPLACE | ORTC_OP_MAY_VIEW | ORTC_OP_MAY_INPLACE))
            problem(k, op, "shape-only but aliases an input");
        if (op->backend != ORTC_BACKEND_C)
            problem(k, op, "shape-only but not plain C");
    }
    if ((f & ORTC_OP_SHAPE_ONLY) && (f & ORTC_OP_NO_FOLD))
        problem(k, op, "both shape-only (folded from shapes) and no-fold");
    /* a view is the input's plain bytes; blocked inputs are not plain */
    if ((f & (ORTC_OP_VIEW | ORTC_OP_MAY_VIEW)) && (f & ORTC_OP_ACCEPTS_BLOCKED))
        problem(k, op, "may be a view but accepts blocked layouts");
    if ((f & ORTC_OP_VIEW) && (f & (ORTC_OP_INPLACE | ORTC_OP_MAY_VIEW)))
        problem(k, op, "always a view, so in-place or a conditional view says nothing");
    if ((f & ORTC_OP_INPLACE) && (f & ORTC_OP_MAY_INPLACE))
        problem(k, op, "both always and conditionally in-place");
    /* conditional aliasing is decided by prepare */
    if ((f & (ORTC_OP_MAY_VIEW | ORTC_OP_MAY_INPLACE)) && !op->prepare)
        problem(k, op, "may alias an input but has no prepare to decide it");
    if (op->data_inputs >> 31)
        problem(k, op, "data_inputs names input 31");
    /* values of data-dependent size are plain memory the run makes; no
     * oneDNN primitive is built for a shape only a run tells */
    if ((f & ORTC_OP_DYNAMIC) && op->backend != ORTC_BACKEND_C)
        problem(k, op, "takes values of data-dependent size but is not plain C");
}

size_t ortc_registry_validate(const ortc_operator *const *ops, size_t n,
                              void (*report)(void *user, const char *message), void *user)
{
    checker k = {report, user, 0};
    for (size_t i = 0; i < n; i++)
        check_row(&k, ops[i]);
    /* ranges of one (domain, op) never overlap: resolution picks by `since`
     * alone, so an overlap would hide part of one row behind the other */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const ortc_operator *a = ops[i], *b = ops[j];
            if (!a->op_type || !b->op_type || !same_op(a, norm_domain(b->domain), b->op_type))
                continue;
            if (a->since <= b->until && b->since <= a->until)
                problem(&k, a, "overlaps %d-%d of the same operator", b->since, b->until);
        }
    return k.problems;
}

/* ---- the public listing (ortc.h) ----------------------------------------- */

size_t ortc_operator_count(void)
{
    return ortc_registry_count();
}

static int alias_kind(unsigned flags, unsigned always, unsigned may)
{
    return flags & always ? 1 : flags & may ? 2 : 0;
}

ortc_status ortc_operator_get(size_t i, ortc_operator_info *info)
{
    const ortc_operator *op = ortc_registry_at(i);
    if (!info || !op)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            info ? "operator index %zu is out of range (%zu entries)"
                                 : "NULL info (operator %zu of %zu)",
                            i, ortc_registry_count());
    memset(info, 0, sizeof *info);
    info->domain = norm_domain(op->domain);
    info->op_type = op->op_type;
    info->since_version = op->since;
    info->until_version = op->until;
    int nv = n_versions(op);
    if (nv == 0)
        info->versions[nv++] = op->since;
    else
        memcpy(info->versions, op->versions, (size_t)nv * sizeof *info->versions);
    info->n_versions = nv;
    info->dtypes = op->dtypes;
    info->onednn = op->backend == ORTC_BACKEND_ONEDNN;
    info->fusable = (op->flags & ORTC_OP_POST_OPS) != 0;
    info->accepts_blocked = (op->flags & ORTC_OP_ACCEPTS_BLOCKED) != 0;
    info->view = alias_kind(op->flags, ORTC_OP_VIEW, ORTC_OP_MAY_VIEW);
    info->inplace = alias_kind(op->flags, ORTC_OP_INPLACE, ORTC_OP_MAY_INPLACE);
    info->shape_only = (op->flags & ORTC_OP_SHAPE_ONLY) != 0;
    info->no_fold = (op->flags & ORTC_OP_NO_FOLD) != 0;
    info->control_flow = op->compile != NULL;
    info->data_inputs = op->data_inputs;
    info->flops = op->flops != NULL;
    return ORTC_STATUS_OK;
}
