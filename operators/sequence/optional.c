/* optional.c — the optional operators (ONNX 15): Optional (wrap a tensor or
 * sequence, or make an empty optional of the `type` attribute's type),
 * OptionalHasElement and OptionalGetElement. Optionals are values of data-
 * dependent size (operator.h): an empty one is rank -1 and no data, a full
 * one its tensor (or sequence) itself.
 */
#include "error.h"
#include "operator.h"

static ortc_status optional_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 0, 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "type", ORTC_ATTR_TYPE_PROTO));
    if (c->n_in && c->in[0]) {
        ortc_type t = ortc_op_in_type(c, 0);
        if (t != ORTC_TYPE_TENSOR && t != ORTC_TYPE_SEQUENCE)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 0 must be a tensor or a sequence; it is a %s",
                                 ortc_type_name(t));
        ortc_op_set_output_type(
            c, 0, t == ORTC_TYPE_TENSOR ? ORTC_TYPE_OPTIONAL_TENSOR : ORTC_TYPE_OPTIONAL_SEQUENCE,
            c->in[0]->dtype);
        return ORTC_STATUS_OK;
    }
    const ortc_attr *a = ortc_node_attr(c->node, "type");
    if (!a)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "makes an empty optional but has no attribute 'type'");
    if (a->vtype != ORTC_TYPE_TENSOR && a->vtype != ORTC_TYPE_SEQUENCE)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'type' is a %s; an optional holds a tensor or a sequence",
                             ortc_type_name(a->vtype));
    ortc_op_set_output_type(c, 0,
                            a->vtype == ORTC_TYPE_TENSOR ? ORTC_TYPE_OPTIONAL_TENSOR
                                                         : ORTC_TYPE_OPTIONAL_SEQUENCE,
                            a->vdtype);
    return ORTC_STATUS_OK;
}

/* Output 0 is input 0's sequence (seq) or tensor itself. */
static ortc_status output_input(ortc_opctx *c, bool seq)
{
    if (!seq)
        return ortc_op_output_ref(c, 0, c->in[0]);
    ortc_op_set_output_seq(c, 0, ortc_op_in_seq(c, 0));
    return ORTC_STATUS_OK;
}

static ortc_status optional_run(ortc_opctx *c)
{
    if (!c->n_in || !c->in[0]) {
        ortc_op_set_output_none(c, 0);
        return ORTC_STATUS_OK;
    }
    return output_input(c, ortc_op_in_type(c, 0) == ORTC_TYPE_SEQUENCE);
}

/* One input, an optional; one output. */
static ortc_status check_optional(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ortc_type t = ortc_op_in_type(c, 0);
    if (t != ORTC_TYPE_OPTIONAL_TENSOR && t != ORTC_TYPE_OPTIONAL_SEQUENCE)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 must be an optional; it is a %s", ortc_type_name(t));
    return ORTC_STATUS_OK;
}

static ortc_status has_element_infer(ortc_opctx *c)
{
    ortc_status st = check_optional(c);
    if (!st)
        ortc_op_set_output(c, 0, ORTC_DTYPE_BOOL, 0, NULL);
    return st;
}

static ortc_status has_element_run(ortc_opctx *c)
{
    *(uint8_t *)c->out[0]->data = ortc_op_in_none(c, 0) ? 0 : 1;
    return ORTC_STATUS_OK;
}

static ortc_status get_element_infer(ortc_opctx *c)
{
    ORTC_TRY(check_optional(c));
    const ortc_tensor *x = c->in[0];
    if (ortc_op_in_type(c, 0) == ORTC_TYPE_OPTIONAL_SEQUENCE)
        ortc_op_set_output_type(c, 0, ORTC_TYPE_SEQUENCE, x->dtype);
    else
        ortc_op_set_output_dynamic(c, 0, x->dtype, x->rank, x->dims);
    return ORTC_STATUS_OK;
}

static ortc_status get_element_run(ortc_opctx *c)
{
    if (ortc_op_in_none(c, 0))
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "input '%s' is an optional that holds nothing",
                             c->node->inputs[0] ? c->node->inputs[0]->name : "");
    return output_input(c, ortc_op_in_type(c, 0) == ORTC_TYPE_OPTIONAL_SEQUENCE);
}

#define OPT_FACTS .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_DYNAMIC

const ortc_operator ortc_ops_optional[] = {
    ORTC_OP("Optional", 15, 15, OPT_FACTS, .infer = optional_infer, .run = optional_run),
    ORTC_OP("OptionalHasElement", 15, 15, OPT_FACTS, .infer = has_element_infer,
            .run = has_element_run),
    ORTC_OP("OptionalGetElement", 15, 15, OPT_FACTS, .infer = get_element_infer,
            .run = get_element_run),
};
ORTC_OP_TABLE_END(optional);
