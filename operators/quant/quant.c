/* quant.c — the quantization family's registry table: QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear (quantize.c, plain C),
 * QLinearConv, ConvInteger (qconv.c) and QLinearMatMul, MatMulInteger
 * (qmatmul.c) on oneDNN's int8 primitives with plain-C references. The
 * graph pass runtime/passes/pass_qdq.c turns QDQ groups into QLinearConv
 * and QLinearMatMul nodes (qlinear.h). No kernels here.
 */
#include "quant.h"

#define QCONV_CALLBACKS                                                                            \
    .infer = ortc_qconv_infer, .prepare = ortc_qconv_prepare, .run = ortc_qconv_run,               \
    .release = ortc_qlin_release, .reference = ortc_qconv_reference, .flops = ortc_qconv_flops
#define QMATMUL_CALLBACKS                                                                          \
    .infer = ortc_qmatmul_infer, .prepare = ortc_qmatmul_prepare, .run = ortc_qmatmul_run,         \
    .release = ortc_qlin_release, .reference = ortc_qmatmul_reference, .flops = ortc_qmatmul_flops
#define Q_INT8 (ORTC_DT(INT8) | ORTC_DT(UINT8))

const ortc_operator ortc_ops_quant[] = {
    /* dtypes: of input 0 (x) */
    ORTC_OP("QuantizeLinear", 10, 13, .versions = {10, 13}, .backend = ORTC_BACKEND_C,
            .dtypes = ORTC_DT(FLOAT) | ORTC_DT(INT32), .infer = ortc_quantize_linear_infer,
            .run = ortc_quantize_linear_run),
    ORTC_OP("DequantizeLinear", 10, 13, .versions = {10, 13}, .backend = ORTC_BACKEND_C,
            .dtypes = Q_INT8 | ORTC_DT(INT32), .infer = ortc_dequantize_linear_infer,
            .run = ortc_dequantize_linear_run),
    ORTC_OP("DynamicQuantizeLinear", 11, 11, .backend = ORTC_BACKEND_C, .dtypes = ORTC_DT(FLOAT),
            .infer = ortc_dynamic_quantize_infer, .run = ortc_dynamic_quantize_run),
    /* post-ops: only the graph pass sets them (qlinear.h), never a sum */
    ORTC_OP("QLinearConv", 10, 10, .backend = ORTC_BACKEND_ONEDNN, .dtypes = Q_INT8,
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_BLOCKED_INT8 | ORTC_OP_POST_OPS |
                     ORTC_OP_MAY_INPLACE,
            QCONV_CALLBACKS),
    ORTC_OP("ConvInteger", 10, 10, .backend = ORTC_BACKEND_ONEDNN, .dtypes = Q_INT8,
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_BLOCKED_INT8, QCONV_CALLBACKS),
    ORTC_OP("QLinearMatMul", 10, 10, .backend = ORTC_BACKEND_ONEDNN, .dtypes = Q_INT8,
            .flags = ORTC_OP_POST_OPS | ORTC_OP_MAY_INPLACE, QMATMUL_CALLBACKS),
    ORTC_OP("MatMulInteger", 10, 10, .backend = ORTC_BACKEND_ONEDNN, .dtypes = Q_INT8,
            QMATMUL_CALLBACKS),
};
ORTC_OP_TABLE_END(quant);
