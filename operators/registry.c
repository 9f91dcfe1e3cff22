/* registry.c — the static table of operators, looked up by (domain, op
 * type, opset). Each family file contributes one table; adding a family
 * means adding one line to `tables` below.
 */
#include <string.h>

#include "operator.h"

ORTC_OP_TABLE(conv);
ORTC_OP_TABLE(pool);
ORTC_OP_TABLE(lrn);
ORTC_OP_TABLE(gemm);
ORTC_OP_TABLE(softmax);
ORTC_OP_TABLE(eltwise);
ORTC_OP_TABLE(binary);
ORTC_OP_TABLE(shape);
ORTC_OP_TABLE(tensor);
ORTC_OP_TABLE(layout);
ORTC_OP_TABLE(reduce);
ORTC_OP_TABLE(norm);
ORTC_OP_TABLE(deconv);
ORTC_OP_TABLE(resize);
ORTC_OP_TABLE(logic);
ORTC_OP_TABLE(if);

static const struct {
    const ortc_operator *ops;
    const size_t *count;
} tables[] = {
    {ortc_ops_conv, &ortc_ops_conv_count},       {ortc_ops_pool, &ortc_ops_pool_count},
    {ortc_ops_lrn, &ortc_ops_lrn_count},         {ortc_ops_gemm, &ortc_ops_gemm_count},
    {ortc_ops_softmax, &ortc_ops_softmax_count}, {ortc_ops_eltwise, &ortc_ops_eltwise_count},
    {ortc_ops_binary, &ortc_ops_binary_count},   {ortc_ops_shape, &ortc_ops_shape_count},
    {ortc_ops_tensor, &ortc_ops_tensor_count},   {ortc_ops_layout, &ortc_ops_layout_count},
    {ortc_ops_reduce, &ortc_ops_reduce_count},   {ortc_ops_norm, &ortc_ops_norm_count},
    {ortc_ops_deconv, &ortc_ops_deconv_count},   {ortc_ops_resize, &ortc_ops_resize_count},
    {ortc_ops_logic, &ortc_ops_logic_count},     {ortc_ops_if, &ortc_ops_if_count},
};

#define N_TABLES (sizeof tables / sizeof *tables)

static const char *norm_domain(const char *d)
{
    return (!d || strcmp(d, "ai.onnx") == 0) ? "" : d;
}

const ortc_operator *ortc_registry_find(const char *domain, const char *op_type, int opset)
{
    const ortc_operator *best = NULL;
    domain = norm_domain(domain);
    for (size_t t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < *tables[t].count; i++) {
            const ortc_operator *op = &tables[t].ops[i];
            if (strcmp(op->op_type, op_type) || strcmp(op->domain, domain))
                continue;
            if (op->since_version <= opset && (!best || op->since_version > best->since_version))
                best = op;
        }
    return best;
}

bool ortc_registry_knows(const char *domain, const char *op_type)
{
    domain = norm_domain(domain);
    for (size_t t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < *tables[t].count; i++)
            if (!strcmp(tables[t].ops[i].op_type, op_type) &&
                !strcmp(tables[t].ops[i].domain, domain))
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
