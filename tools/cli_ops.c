/* cli_ops.c — `ortc info --ops [--json]`: the operator registry as the
 * library reports it (ortc_operator_count/get), one line or object per
 * entry: domain, op, version range, backend, facts, dtypes. Sorted by
 * domain, op (ignoring case) and version. Knows nothing about models.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* Element types in the order the listings print them. */
static const ortc_dtype dtype_order[] = {
    ORTC_DTYPE_FLOAT, ORTC_DTYPE_DOUBLE, ORTC_DTYPE_FLOAT16,   ORTC_DTYPE_BFLOAT16,
    ORTC_DTYPE_INT8,  ORTC_DTYPE_UINT8,  ORTC_DTYPE_INT16,     ORTC_DTYPE_UINT16,
    ORTC_DTYPE_INT32, ORTC_DTYPE_UINT32, ORTC_DTYPE_INT64,     ORTC_DTYPE_UINT64,
    ORTC_DTYPE_BOOL,  ORTC_DTYPE_STRING, ORTC_DTYPE_COMPLEX64, ORTC_DTYPE_COMPLEX128,
};
#define N_DTYPES (sizeof dtype_order / sizeof *dtype_order)

static int by_name(const void *a, const void *b)
{
    const ortc_operator_info *x = a, *y = b;
    int c = strcmp(x->domain, y->domain);
    if (!c)
        c = strcasecmp(x->op_type, y->op_type);
    if (!c)
        c = strcmp(x->op_type, y->op_type);
    return c ? c : x->since_version - y->since_version;
}

static bool has_dtype(const ortc_operator_info *o, ortc_dtype d)
{
    return (o->dtypes >> d) & 1u;
}

static bool all_dtypes(const ortc_operator_info *o)
{
    for (size_t k = 0; k < N_DTYPES; k++)
        if (!has_dtype(o, dtype_order[k]))
            return false;
    return true;
}

/* "1-14 (1,6,7,13,14)", or "9" for a single version. */
static const char *versions_str(char *buf, size_t len, const ortc_operator_info *o)
{
    int n = o->since_version == o->until_version
                ? snprintf(buf, len, "%d", o->since_version)
                : snprintf(buf, len, "%d-%d", o->since_version, o->until_version);
    if (o->n_versions > 2) {
        for (int k = 0; k < o->n_versions && n > 0 && (size_t)n < len; k++)
            n += snprintf(buf + n, len - (size_t)n, "%s%d", k ? "," : " (", o->versions[k]);
        if (n > 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, ")");
    }
    return buf;
}

static const char *alias_word(int kind, const char *what, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", kind == 2 ? "may-" : "", what);
    return buf;
}

/* "fusable, blocked, view, ..." or "-" */
static const char *facts_str(char *buf, size_t len, const ortc_operator_info *o)
{
    char w[32];
    buf[0] = '\0';
#define FACT(cond, text)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            size_t used = strlen(buf);                                                             \
            snprintf(buf + used, len - used, "%s%s", used ? "," : "", (text));                     \
        }                                                                                          \
    } while (0)
    FACT(o->fusable, "fusable");
    FACT(o->accepts_blocked, "blocked");
    FACT(o->view, alias_word(o->view, "view", w, sizeof w));
    FACT(o->inplace, alias_word(o->inplace, "inplace", w, sizeof w));
    FACT(o->shape_only, "shape-only");
    FACT(o->no_fold, "no-fold");
    FACT(o->control_flow, "control-flow");
    for (int i = 0; i < 32; i++)
        if ((o->data_inputs >> i) & 1u) {
            snprintf(w, sizeof w, "data-input-%d", i);
            FACT(1, w);
        }
    FACT(o->flops, "flops");
#undef FACT
    if (!buf[0])
        snprintf(buf, len, "-");
    return buf;
}

static const char *dtypes_str(char *buf, size_t len, const ortc_operator_info *o)
{
    buf[0] = '\0';
    if (all_dtypes(o)) {
        snprintf(buf, len, "all");
        return buf;
    }
    for (size_t k = 0; k < N_DTYPES; k++)
        if (has_dtype(o, dtype_order[k])) {
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, "%s%s", used ? "," : "",
                     ortc_dtype_name(dtype_order[k]));
        }
    if (!buf[0])
        snprintf(buf, len, "-");
    return buf;
}

static const char *alias_json(int kind)
{
    return kind == 1 ? "always" : kind == 2 ? "may" : "never";
}

static cJSON *entry_json(const ortc_operator_info *o)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "domain", o->domain);
    cJSON_AddStringToObject(e, "op", o->op_type);
    cJSON_AddNumberToObject(e, "since", o->since_version);
    cJSON_AddNumberToObject(e, "until", o->until_version);
    cJSON *v = cJSON_AddArrayToObject(e, "versions");
    for (int k = 0; k < o->n_versions; k++)
        cJSON_AddItemToArray(v, cJSON_CreateNumber(o->versions[k]));
    cJSON_AddStringToObject(e, "backend", o->onednn ? "onednn" : "c");
    cJSON *d = cJSON_AddArrayToObject(e, "dtypes");
    for (size_t k = 0; k < N_DTYPES; k++)
        if (has_dtype(o, dtype_order[k]))
            cJSON_AddItemToArray(d, cJSON_CreateString(ortc_dtype_name(dtype_order[k])));
    cJSON_AddBoolToObject(e, "fusable", o->fusable);
    cJSON_AddBoolToObject(e, "accepts_blocked", o->accepts_blocked);
    cJSON_AddStringToObject(e, "view", alias_json(o->view));
    cJSON_AddStringToObject(e, "inplace", alias_json(o->inplace));
    cJSON_AddBoolToObject(e, "shape_only", o->shape_only);
    cJSON_AddBoolToObject(e, "no_fold", o->no_fold);
    cJSON_AddBoolToObject(e, "control_flow", o->control_flow);
    cJSON *di = cJSON_AddArrayToObject(e, "data_inputs");
    for (int i = 0; i < 32; i++)
        if ((o->data_inputs >> i) & 1u)
            cJSON_AddItemToArray(di, cJSON_CreateNumber(i));
    cJSON_AddBoolToObject(e, "flops", o->flops);
    return e;
}

int cli_info_ops(bool json)
{
    size_t n = ortc_operator_count();
    ortc_operator_info *ops = calloc(n + 1, sizeof *ops);
    if (!ops)
        return cli_error("out of memory listing %zu operators", n);
    for (size_t i = 0; i < n; i++)
        if (ortc_operator_get(i, &ops[i])) {
            free(ops);
            return cli_error("%s", ortc_last_error());
        }
    qsort(ops, n, sizeof *ops, by_name);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(ops[i].domain, ops[i - 1].domain) ||
            strcmp(ops[i].op_type, ops[i - 1].op_type))
            distinct++;

    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ortc_version", ORTC_VERSION_STRING);
        cJSON_AddNumberToObject(o, "operators_distinct", (double)distinct);
        cJSON *arr = cJSON_AddArrayToObject(o, "operators");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, entry_json(&ops[i]));
        char *txt = cJSON_Print(o);
        if (txt)
            puts(txt);
        free(txt);
        cJSON_Delete(o);
        free(ops);
        return CLI_OK;
    }
    printf("%zu operators in %zu registry entries (domain ai.onnx unless named; versions: the "
           "ONNX\nversions one implementation serves, a later opset uses the newest entry)\n",
           distinct, n);
    printf("%-24s %-22s %-7s %-40s %s\n", "operator", "versions", "backend", "facts", "dtypes");
    for (size_t i = 0; i < n; i++) {
        const ortc_operator_info *e = &ops[i];
        char name[128], ver[96], facts[256], dt[256];
        snprintf(name, sizeof name, "%s%s%s", e->domain, e->domain[0] ? "." : "", e->op_type);
        printf("%-24s %-22s %-7s %-40s %s\n", name, versions_str(ver, sizeof ver, e),
               e->onednn ? "oneDNN" : "C", facts_str(facts, sizeof facts, e),
               dtypes_str(dt, sizeof dt, e));
    }
    free(ops);
    return CLI_OK;
}
