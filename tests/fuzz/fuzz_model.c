/* fuzz_model.c — model bytes -> session creation and, when that succeeds,
 * one run on zero-filled inputs of the declared shapes (symbolic dims = 1).
 * Any status is fine; crashes, hangs, leaks and sanitizer reports are not.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ortc/ortc.h"

#define MAX_IO 16
#define MAX_INPUT_BYTES (16u << 20) /* skip runs whose inputs alone exceed this */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = 1;
    ortc_session *s = NULL;
    if (ortc_session_create_from_buffer(&s, data, size, NULL, &opt) != ORTC_STATUS_OK)
        return 0;
    size_t ni = ortc_session_input_count(s), no = ortc_session_output_count(s);
    ortc_tensor in[MAX_IO], out[MAX_IO];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    size_t total = 0;
    int ok = ni <= MAX_IO && no <= MAX_IO;
    for (size_t i = 0; ok && i < ni; i++) {
        ortc_value_info vi;
        ortc_session_input_info(s, i, &vi);
        in[i].dtype = vi.dtype;
        in[i].rank = vi.rank < 0 ? 0 : vi.rank;
        for (int d = 0; d < in[i].rank; d++)
            in[i].dims[d] = vi.dims[d] >= 0 ? vi.dims[d] : 1;
        size_t bytes = ortc_tensor_bytes(&in[i]);
        if (ortc_tensor_numel(&in[i]) < 0 || bytes > MAX_INPUT_BYTES - total ||
            vi.dtype == ORTC_DTYPE_STRING || vi.dtype == ORTC_DTYPE_UNDEFINED) {
            ok = 0;
            break;
        }
        total += bytes;
        in[i].data = calloc(1, bytes + 1);
        ok = in[i].data != NULL;
    }
    if (ok && ortc_session_output_shapes(s, in, ni, out, no) == ORTC_STATUS_OK) {
        size_t out_total = 0;
        for (size_t k = 0; ok && k < no; k++) {
            size_t bytes = ortc_tensor_bytes(&out[k]);
            if (out[k].dtype == ORTC_DTYPE_STRING || bytes > MAX_INPUT_BYTES - out_total) {
                ok = 0;
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
        free(out[i].data);
    }
    ortc_session_destroy(s);
    return 0;
}
