/* helper_common.c — suite running, pattern bytes and hand-built models for
 * every unit-test runner (see helper_common.h).
 */
#include "helper_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

int run_suite(Suite *s)
{
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void fill_pattern(void *dst, size_t n, uint64_t seed)
{
    unsigned char *p = dst;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (unsigned char)(seed >> 56);
    }
}

ortc_model *model_new(int opset)
{
    ortc_model *m = ortc_model_new();
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(ortc_model_add_opset(m, "", opset), 0);
    m->graph = ortc_graph_new(m, NULL, "g");
    ck_assert_ptr_nonnull(m->graph);
    return m;
}

void finalize_ok(ortc_graph *g)
{
    char err[1024] = "";
    ortc_status st = ortc_graph_finalize(g, err, sizeof err);
    ck_assert_msg(st == ORTC_STATUS_OK, "finalize failed: %s", err);
}

/* Splits a comma-separated list into names[] ("" for an omitted slot, also
 * after a trailing comma); returns the count. */
static int split_names(const char *s, char names[][64], int max)
{
    int n = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        ck_assert(len < 64 && n < max);
        memcpy(names[n], s, len);
        names[n++][len] = '\0';
        if (e && !e[1]) { /* trailing comma: one more omitted slot */
            ck_assert(n < max);
            names[n++][0] = '\0';
            break;
        }
        s = e ? e + 1 : NULL;
    }
    return n;
}

ortc_node *add_node(ortc_graph *g, const char *op, const char *name, const char *ins,
                    const char *outs)
{
    char in_names[16][64], out_names[16][64];
    int n_in = split_names(ins, in_names, 16), n_out = split_names(outs, out_names, 16);
    ortc_node *n = ortc_graph_add_node(g, op, "", name, n_in, n_out);
    ck_assert_ptr_nonnull(n);
    for (int i = 0; i < n_in; i++) {
        ortc_value *v = NULL;
        if (in_names[i][0] && !(v = ortc_graph_find_value(g, in_names[i])))
            v = ortc_graph_get_value(g, in_names[i]);
        n->inputs[i] = v;
    }
    for (int k = 0; k < n_out; k++)
        n->outputs[k] = out_names[k][0] ? ortc_graph_get_value(g, out_names[k]) : NULL;
    return n;
}

ortc_session *session_ok(ortc_model *m, const ortc_options *o)
{
    ortc_session *s = NULL;
    ck_assert_msg(ortc_session_create_from_model(&s, m, o) == ORTC_STATUS_OK, "%s",
                  ortc_last_error());
    return s;
}

ortc_attr *node_attr(ortc_node *n, const char *name, ortc_attr_type t)
{
    ortc_attr *a = ortc_node_add_attr(n, name, t);
    ck_assert_ptr_nonnull(a);
    return a;
}

void node_attr_int(ortc_node *n, const char *name, int64_t v)
{
    node_attr(n, name, ORTC_ATTR_INT)->i = v;
}

void node_attr_float(ortc_node *n, const char *name, float v)
{
    node_attr(n, name, ORTC_ATTR_FLOAT)->f = v;
}

void node_attr_string(ortc_node *n, const char *name, const char *v)
{
    ortc_attr *a = node_attr(n, name, ORTC_ATTR_STRING);
    a->s = strdup(v);
    ck_assert_ptr_nonnull(a->s);
    a->s_len = strlen(v);
}

void node_attr_ints(ortc_node *n, const char *name, const int64_t *v, size_t count)
{
    ortc_attr *a = node_attr(n, name, ORTC_ATTR_INTS);
    a->ints = malloc((count + 1) * sizeof *a->ints);
    ck_assert_ptr_nonnull(a->ints);
    memcpy(a->ints, v, count * sizeof *v);
    a->n = count;
}

void node_attr_floats(ortc_node *n, const char *name, const float *v, size_t count)
{
    ortc_attr *a = node_attr(n, name, ORTC_ATTR_FLOATS);
    a->floats = malloc((count + 1) * sizeof *a->floats);
    ck_assert_ptr_nonnull(a->floats);
    memcpy(a->floats, v, count * sizeof *v);
    a->n = count;
}
