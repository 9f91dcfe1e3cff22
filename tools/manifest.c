/* manifest.c — parses conformance manifests with libyaml's document API and
 * checks their rules (every non-pass and every tolerance override carries a
 * reason, and so does every statistical check; no duplicates; no unknown
 * keys). Running tests is cli_test.c's job.
 */
#include "manifest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"
#include "yaml_doc.h"

/* the document, the manifest's name for messages, the caller's buffer */
typedef ortc_yaml_doc parser;

static yaml_node_t *node(parser *p, int id)
{
    return yaml_document_get_node(&p->doc, id);
}

static int dup_scalar(parser *p, const yaml_node_t *v, const char *key, char **out)
{
    const char *s = ortc_yaml_scalar(v);
    if (!s)
        return ortc_yaml_doc_fail(p, v, "'%s' must be a string", key);
    free(*out);
    *out = strdup(s);
    return *out ? 0 : ortc_yaml_doc_fail(p, v, "out of memory");
}

static int parse_expect(parser *p, const yaml_node_t *v, ortc_expect *e)
{
    const char *s = ortc_yaml_scalar(v);
    if (s && !strcmp(s, "pass"))
        *e = ORTC_EXPECT_PASS;
    else if (s && !strcmp(s, "fail"))
        *e = ORTC_EXPECT_FAIL;
    else if (s && !strcmp(s, "unsupported"))
        *e = ORTC_EXPECT_UNSUPPORTED;
    else
        return ortc_yaml_doc_fail(p, v,
                                  "expected result must be pass, fail or unsupported, not '%s'",
                                  s ? s : "(not a scalar)");
    return 0;
}

static int parse_tol(parser *p, const yaml_node_t *v, const char *key, double *out)
{
    const char *s = ortc_yaml_scalar(v);
    char *end;
    errno = 0;
    double x = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end || !(x >= 0) || !isfinite(x))
        return ortc_yaml_doc_fail(p, v, "'%s' must be a non-negative number", key);
    *out = x;
    return 0;
}

static int parse_entry(parser *p, const yaml_node_t *key, const yaml_node_t *v,
                       ortc_manifest_entry *e)
{
    memset(e, 0, sizeof *e);
    e->rtol = e->atol = -1;
    e->line = (int)key->start_mark.line + 1;
    const char *name = ortc_yaml_scalar(key);
    if (!name || !*name)
        return ortc_yaml_doc_fail(p, key, "test names must be strings");
    if (!(e->name = strdup(name)))
        return ortc_yaml_doc_fail(p, key, "out of memory");
    if (v->type == YAML_SCALAR_NODE) {
        if (parse_expect(p, v, &e->expect))
            return -1;
    } else if (v->type == YAML_MAPPING_NODE) {
        int have_expect = 0;
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top;
             pr++) {
            const yaml_node_t *k = node(p, pr->key), *x = node(p, pr->value);
            const char *ks = ortc_yaml_scalar(k);
            if (!ks)
                return ortc_yaml_doc_fail(p, k, "keys must be strings");
            int r;
            if (!strcmp(ks, "expect"))
                r = parse_expect(p, x, &e->expect), have_expect = 1;
            else if (!strcmp(ks, "reason"))
                r = dup_scalar(p, x, "reason", &e->reason);
            else if (!strcmp(ks, "rtol"))
                r = parse_tol(p, x, "rtol", &e->rtol);
            else if (!strcmp(ks, "atol"))
                r = parse_tol(p, x, "atol", &e->atol);
            else if (!strcmp(ks, "check"))
                r = dup_scalar(p, x, "check", &e->check);
            else
                return ortc_yaml_doc_fail(
                    p, k, "%s: unknown key '%s' (expect, reason, rtol, atol, check)", name, ks);
            if (r)
                return -1;
        }
        if (!have_expect)
            return ortc_yaml_doc_fail(p, v, "%s: missing 'expect'", name);
    } else {
        return ortc_yaml_doc_fail(p, v, "%s: give pass/fail/unsupported or a mapping", name);
    }
    if (e->expect != ORTC_EXPECT_PASS && (!e->reason || !*e->reason))
        return ortc_yaml_doc_fail(p, v, "%s: a '%s' entry needs a reason", name,
                                  ortc_expect_name(e->expect));
    if ((e->rtol >= 0 || e->atol >= 0) && (!e->reason || !*e->reason))
        return ortc_yaml_doc_fail(p, v, "%s: a tolerance override needs a reason", name);
    if (e->check && (!e->reason || !*e->reason))
        return ortc_yaml_doc_fail(p, v, "%s: a statistical check needs a reason", name);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ortc_manifest_entry *)a)->name, ((const ortc_manifest_entry *)b)->name);
}

static int parse_root(parser *p, ortc_manifest *m)
{
    yaml_node_t *root = yaml_document_get_root_node(&p->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return ortc_yaml_doc_fail(p, root,
                                  "the manifest must be a mapping with suite, data_version, tests");
    const yaml_node_t *tests = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        const yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        const char *ks = ortc_yaml_scalar(k);
        if (ks && !strcmp(ks, "suite")) {
            if (dup_scalar(p, v, "suite", &m->suite))
                return -1;
        } else if (ks && !strcmp(ks, "data_version")) {
            if (dup_scalar(p, v, "data_version", &m->data_version))
                return -1;
        } else if (ks && !strcmp(ks, "tests")) {
            if (v->type != YAML_MAPPING_NODE)
                return ortc_yaml_doc_fail(p, v, "'tests' must map test names to results");
            tests = v;
        } else {
            return ortc_yaml_doc_fail(p, k, "unknown key '%s' (suite, data_version, tests)",
                                      ks ? ks : "?");
        }
    }
    if (!tests)
        return ortc_yaml_doc_fail(p, root, "missing 'tests'");
    size_t n = (size_t)(tests->data.mapping.pairs.top - tests->data.mapping.pairs.start);
    m->entries = calloc(n + 1, sizeof *m->entries);
    if (!m->entries)
        return ortc_yaml_doc_fail(p, tests, "out of memory");
    for (yaml_node_pair_t *pr = tests->data.mapping.pairs.start; pr < tests->data.mapping.pairs.top;
         pr++) {
        if (parse_entry(p, node(p, pr->key), node(p, pr->value), &m->entries[m->n])) {
            free(m->entries[m->n].name);
            free(m->entries[m->n].reason);
            free(m->entries[m->n].check);
            return -1;
        }
        m->n++;
    }
    qsort(m->entries, m->n, sizeof *m->entries, by_name);
    for (size_t i = 1; i < m->n; i++)
        if (!strcmp(m->entries[i].name, m->entries[i - 1].name)) {
            snprintf(p->err, p->errlen, "%s:%d: test '%s' is listed twice (also line %d)", p->file,
                     m->entries[i].line, m->entries[i].name, m->entries[i - 1].line);
            return -1;
        }
    return 0;
}

int ortc_manifest_parse(const char *yaml, size_t len, const char *name, ortc_manifest *m, char *err,
                        size_t errlen)
{
    memset(m, 0, sizeof *m);
    parser p;
    if (ortc_yaml_doc_open(&p, yaml, len, name ? name : "manifest", err, errlen))
        return -1;
    int r = parse_root(&p, m);
    ortc_yaml_doc_close(&p);
    if (!r && !(m->path = strdup(p.file))) {
        snprintf(err, errlen, "out of memory");
        r = -1;
    }
    if (r)
        ortc_manifest_free(m);
    return r;
}

int ortc_manifest_load(const char *path, ortc_manifest *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    char *buf;
    size_t len;
    if (ortc_tools_read_file(path, 0, &buf, &len, err, errlen))
        return -1;
    int r = ortc_manifest_parse(buf, len, path, m, err, errlen);
    free(buf);
    return r;
}

const ortc_manifest_entry *ortc_manifest_find(const ortc_manifest *m, const char *test)
{
    if (!m || !m->n)
        return NULL;
    ortc_manifest_entry key = {.name = (char *)test};
    return bsearch(&key, m->entries, m->n, sizeof *m->entries, by_name);
}

void ortc_manifest_free(ortc_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->entries[i].name);
        free(m->entries[i].reason);
        free(m->entries[i].check);
    }
    free(m->entries);
    free(m->path);
    free(m->suite);
    free(m->data_version);
    memset(m, 0, sizeof *m);
}

const char *ortc_expect_name(ortc_expect e)
{
    switch (e) {
    case ORTC_EXPECT_PASS: return "pass";
    case ORTC_EXPECT_FAIL: return "fail";
    case ORTC_EXPECT_UNSUPPORTED: return "unsupported";
    }
    return "?";
}
