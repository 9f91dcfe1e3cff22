/* fuzz_yaml.c — model-card and conformance-manifest parsing of the same
 * bytes.
 */
#include "card.h"
#include "fuzz.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    ortc_card card;
    if (ortc_card_parse((const char *)data, size, "/nonexistent", &card, err, sizeof err) == 0)
        ortc_card_free(&card);
    ortc_manifest m;
    if (ortc_manifest_parse((const char *)data, size, "fuzz", &m, err, sizeof err) == 0)
        ortc_manifest_free(&m);
    return 0;
}
