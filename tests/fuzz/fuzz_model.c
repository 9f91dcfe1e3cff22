/* fuzz_model.c — model bytes -> session creation and, when that succeeds,
 * one run on zero-filled inputs of the declared shapes (symbolic dims = 1):
 * through ortc_session_run, outputs of data-dependent shape left to the run
 * to allocate, or, for a model with sequence or optional inputs or outputs,
 * through ortc_session_run_any (a sequence of one tensor, an optional
 * holding nothing). The limits on what only a run reveals are lowered so a
 * hostile loop or sequence stops within the fuzzer's time and memory
 * budget. Any status is fine; crashes, hangs, leaks and sanitizer reports
 * are not.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ortc/ortc.h"

#define MAX_IO 16
#define MAX_INPUT_BYTES (16u << 20) /* skip runs whose inputs alone exceed this */

/* Zero-filled input t of the declared shape; false when it cannot be made
 * (too large, strings, no dtype) or `total` would pass the budget. */
static bool zero_input(const ortc_value_info *vi, ortc_tensor *t, size_t *total)
{
    t->dtype = vi->dtype;
    t->rank = vi->rank < 0 ? 0 : vi->rank;
    for (int d = 0; d < t->rank; d++)
        t->dims[d] = vi->dims[d] >= 0 ? vi->dims[d] : 1;
    size_t bytes = ortc_tensor_bytes(t);
    if (ortc_tensor_numel(t) < 0 || bytes > MAX_INPUT_BYTES - *total ||
        vi->dtype == ORTC_DTYPE_STRING || vi->dtype == ORTC_DTYPE_UNDEFINED)
        return false;
    *total += bytes;
    t->data = calloc(1, bytes + 1);
    return t->data != NULL;
}

static void run_tensors(ortc_session *s, size_t ni, size_t no)
{
    ortc_tensor in[MAX_IO], out[MAX_IO];
    bool dynamic[MAX_IO] = {0};
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    size_t total = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < ni; i++) {
        ortc_value_info vi;
        ortc_session_input_info(s, i, &vi);
        ok = zero_input(&vi, &in[i], &total);
    }
    if (ok && ortc_session_output_shapes(s, in, ni, out, no) == ORTC_STATUS_OK) {
        size_t out_total = 0;
        for (size_t k = 0; ok && k < no; k++) {
            dynamic[k] = out[k].rank < 0;
            for (int d = 0; d < out[k].rank; d++)
                dynamic[k] |= out[k].dims[d] < 0;
            if (dynamic[k]) /* of data-dependent shape: the run allocates it */
                continue;
            size_t bytes = ortc_tensor_bytes(&out[k]);
            if (out[k].dtype == ORTC_DTYPE_STRING || bytes > MAX_INPUT_BYTES - out_total) {
                ok = false;
                break;
            }
            out_total += bytes;
            out[k].data = calloc(1, bytes + 1);
            ok = out[k].data != NULL;
        }
        if (ok)
            (void)ortc_session_run(s, in, ni, out, no);
    }
    for (size_t i = 0; i < MAX_IO; i++) {
        free(in[i].data);
        if (dynamic[i])
            ortc_tensor_release(&out[i]);
        else
            free(out[i].data);
    }
}

static void run_any(ortc_session *s, size_t ni, size_t no)
{
    const ortc_model *m = ortc_session_model(s);
    ortc_any in[MAX_IO], out[MAX_IO];
    ortc_tensor items[MAX_IO];
    memset(in, 0, sizeof in);
    memset(items, 0, sizeof items);
    size_t total = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < ni; i++) {
        ortc_value_info vi;
        ortc_type ty;
        ortc_session_input_info(s, i, &vi);
        ortc_model_input_type(m, i, &ty);
        if (ty == ORTC_TYPE_OPTIONAL_TENSOR || ty == ORTC_TYPE_OPTIONAL_SEQUENCE) {
            in[i].type = ORTC_TYPE_NONE;
        } else if (ty == ORTC_TYPE_SEQUENCE) {
            in[i].type = ORTC_TYPE_SEQUENCE;
            in[i].elem_dtype = vi.dtype;
            in[i].length = 1;
            in[i].tensors = &items[i];
            ok = zero_input(&vi, &items[i], &total);
        } else {
            in[i].type = ORTC_TYPE_TENSOR;
            ok = zero_input(&vi, &in[i].tensor, &total);
        }
    }
    if (ok && ortc_session_run_any(s, in, ni, out, no) == ORTC_STATUS_OK)
        for (size_t k = 0; k < no; k++)
            ortc_any_release(&out[k]);
    for (size_t i = 0; i < MAX_IO; i++) {
        free(in[i].tensor.data);
        free(items[i].data);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = 1;
    opt.max_loop_iterations = 100000;
    opt.max_sequence_length = 100000;
    opt.max_dynamic_bytes = 64u << 20;
    /* the documented memory limits, set below libFuzzer's 3 GB malloc and
     * RSS budget (run-fuzzers): a model needing more is refused with
     * LIMIT_EXCEEDED, which is what ortc owes such a model (the defaults,
     * 8 and 16 GB, let a 4.6 GB arena through to a fuzzer OOM report) */
    opt.max_tensor_bytes = 256u << 20;
    opt.max_arena_bytes = 512u << 20;
    ortc_session *s = NULL;
    if (ortc_session_create_from_buffer(&s, data, size, NULL, &opt) != ORTC_STATUS_OK)
        return 0;
    size_t ni = ortc_session_input_count(s), no = ortc_session_output_count(s);
    if (ni <= MAX_IO && no <= MAX_IO) {
        bool any = false;
        const ortc_model *m = ortc_session_model(s);
        for (size_t i = 0; i < ni + no; i++) {
            ortc_type ty = ORTC_TYPE_TENSOR;
            if (i < ni)
                ortc_model_input_type(m, i, &ty);
            else
                ortc_model_output_type(m, i - ni, &ty);
            any |= ty != ORTC_TYPE_TENSOR;
        }
        if (any)
            run_any(s, ni, no);
        else
            run_tensors(s, ni, no);
    }
    ortc_session_destroy(s);
    return 0;
}
