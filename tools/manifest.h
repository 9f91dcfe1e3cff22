/* manifest.h — conformance manifests (tests/conformance/NAME.yaml): for each
 * backend test its expected result and any tolerance override, each
 * non-pass and each override with a one-line reason. Parsing only; the
 * `ortc test` runner compares results against it.
 *
 *   suite: node
 *   data_version: ONNX 1.12.0 (Debian libonnx-testdata 1.12.0-2)
 *   tests:
 *     test_abs: pass
 *     test_cast_FLOAT_to_STRING: {expect: unsupported, reason: "string casts"}
 *     test_foo: {expect: pass, rtol: 1e-2, reason: "why the default is too tight"}
 *     test_bar: {expect: pass, check: bernoulli, reason: "why values cannot be compared"}
 *
 * `check` replaces the element-wise comparison with a statistical one
 * (cli_test.c names the checks), for outputs drawn from a random generator.
 */
#ifndef ORTC_TOOLS_MANIFEST_H
#define ORTC_TOOLS_MANIFEST_H

#include <stddef.h>

typedef enum ortc_expect {
    ORTC_EXPECT_PASS = 0,
    ORTC_EXPECT_FAIL,       /* runs but gives a wrong result or a run error */
    ORTC_EXPECT_UNSUPPORTED /* refused: unsupported op, dtype or feature */
} ortc_expect;

typedef struct ortc_manifest_entry {
    char *name;
    ortc_expect expect;
    char *reason;      /* NULL only for plain passes */
    double rtol, atol; /* < 0: not overridden */
    char *check;       /* NULL: compare values; else the statistical check's name */
    int line;
} ortc_manifest_entry;

typedef struct ortc_manifest {
    char *path;
    char *suite;
    char *data_version;
    ortc_manifest_entry *entries;
    size_t n;
} ortc_manifest;

/* 0, or -1 with "file:line: problem" in err (unknown key, a fail without a
 * reason, an override without a reason, a duplicate test, ...). */
int ortc_manifest_load(const char *path, ortc_manifest *m, char *err, size_t errlen);
int ortc_manifest_parse(const char *yaml, size_t len, const char *name, ortc_manifest *m, char *err,
                        size_t errlen);
/* NULL when the test is not listed. */
const ortc_manifest_entry *ortc_manifest_find(const ortc_manifest *m, const char *test);
void ortc_manifest_free(ortc_manifest *m);
const char *ortc_expect_name(ortc_expect e);

#endif
