/* fuzz_tensor.c — the tensor-file readers: ONNX TensorProto (.pb) and NumPy
 * .npy, both fed the same bytes.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "npy.h"
#include "ortc/ortc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ortc_tensor t;
    char *name = NULL;
    if (ortc_tensor_parse_pb(data, size, &t, &name) == ORTC_STATUS_OK) {
        (void)ortc_tensor_bytes(&t);
        ortc_tensor_release(&t);
        free(name);
    }
    char err[256];
    if (ortc_npy_parse(data, size, &t, err, sizeof err) == 0)
        free(t.data);
    return 0;
}
