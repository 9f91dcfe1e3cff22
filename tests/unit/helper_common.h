/* helper_common.h — what any unit-test runner may use: running a Check
 * suite, deterministic bytes, and IR models built by hand (nodes and their
 * attributes; test_passes.c has a fuller builder of its own).
 */
#ifndef ORTC_TEST_HELPER_COMMON_H
#define ORTC_TEST_HELPER_COMMON_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "ortc/ortc.h"

/* Runs every test of s (each in its own process, Check's CK_NORMAL output)
 * and frees the runner: EXIT_SUCCESS when all passed, else EXIT_FAILURE. */
int run_suite(Suite *s);

/* The file at `path` into buf[0..len) as a NUL-terminated string (at most
 * len - 1 bytes; "" when it cannot be read); returns buf. */
char *read_text(const char *path, char *buf, size_t len);
/* data[0..len) into the file at `path` (the test fails when it cannot). */
void write_file(const char *path, const void *data, size_t len);

/* n bytes from a 64-bit LCG seeded with `seed`: no float pattern in
 * particular, and different between elements of any size. */
void fill_pattern(void *dst, size_t n, uint64_t seed);

/* An empty model importing the default domain at `opset`, with its main
 * graph "g". */
ortc_model *model_new(int opset);
/* ortc_graph_finalize must succeed (the test fails with its message). */
void finalize_ok(ortc_graph *g);
/* A node of the default domain in g. ins, outs: comma-separated value
 * names, "" for an omitted slot ("a,,b"); an input is the value of that
 * name seen from g (enclosing graphs included), else a new one of g. */
ortc_node *add_node(ortc_graph *g, const char *op, const char *name, const char *ins,
                    const char *outs);
/* A session of m (which it takes) with options o (NULL: the defaults); the
 * test fails, naming the error, when it cannot be created. */
ortc_session *session_ok(ortc_model *m, const ortc_options *o);
/* A new attribute of n of type t (the test fails when it cannot be added). */
ortc_attr *node_attr(ortc_node *n, const char *name, ortc_attr_type t);
/* One with its value; the list forms copy count entries. */
void node_attr_int(ortc_node *n, const char *name, int64_t v);
void node_attr_float(ortc_node *n, const char *name, float v);
void node_attr_string(ortc_node *n, const char *name, const char *v);
void node_attr_ints(ortc_node *n, const char *name, const int64_t *v, size_t count);
void node_attr_floats(ortc_node *n, const char *name, const float *v, size_t count);

#endif
