/* fuzz.h — the entry point every fuzz target defines (libFuzzer's), so the
 * same target file links either with libFuzzer (clang, -DORTC_FUZZ=ON) or
 * with replay_main.c, which re-runs saved inputs in the normal test suite.
 */
#ifndef ORTC_FUZZ_H
#define ORTC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
