/* results.c — writes `ortc run --output` files: CSV quoted as RFC 4180 does
 * (a field with a comma, quote or line break in quotes, quotes doubled; rows
 * end in \n) or JSON Lines built with cJSON. Probabilities: 6 significant
 * digits in CSV, cJSON's round-trip form in JSON. No ranking here.
 */
#include "results.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ortc_results_format_of(const char *path, ortc_results_format *format)
{
    size_t n = strlen(path);
    if (n > 4 && !strcasecmp(path + n - 4, ".csv")) {
        *format = ORTC_RESULTS_CSV;
        return 0;
    }
    if (n > 6 && !strcasecmp(path + n - 6, ".jsonl")) {
        *format = ORTC_RESULTS_JSONL;
        return 0;
    }
    return -1;
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int ortc_results_open(ortc_results *r, const char *path, int top, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (ortc_results_format_of(path, &r->format)) {
        ortc_tools_err(err, errlen, "%s: the results file must end in .csv or .jsonl", path);
        return -1;
    }
    r->f = fopen(path, "w");
    if (!r->f) {
        ortc_tools_err(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    r->path = path;
    r->top = top;
    if (r->format == ORTC_RESULTS_CSV) {
        fputs("path", r->f);
        for (int k = 1; k <= top; k++)
            fprintf(r->f, ",class_%d,label_%d,probability_%d", k, k, k);
        fputc('\n', r->f);
    }
    if (ferror(r->f)) {
        ortc_tools_err(err, errlen, "%s: write error: %s", path, strerror(errno));
        fclose(r->f);
        r->f = NULL;
        return -1;
    }
    return 0;
}

static int write_jsonl(ortc_results *r, const char *image, int n, const int64_t *classes,
                       const char *const *labels, const double *probs)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    cJSON_AddStringToObject(o, "path", image);
    cJSON *top = cJSON_AddArrayToObject(o, "top");
    for (int k = 0; top && k < n; k++) {
        cJSON *e = cJSON_CreateObject();
        if (!e)
            break;
        cJSON_AddNumberToObject(e, "rank", k + 1);
        cJSON_AddNumberToObject(e, "class", (double)classes[k]);
        cJSON_AddStringToObject(e, "label", labels[k] ? labels[k] : "");
        cJSON_AddNumberToObject(e, "probability", probs[k]); /* NaN prints as null */
        cJSON_AddItemToArray(top, e);
    }
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!txt)
        return -1;
    fputs(txt, r->f);
    fputc('\n', r->f);
    free(txt);
    return 0;
}

int ortc_results_write(ortc_results *r, const char *image, int n, const int64_t *classes,
                       const char *const *labels, const double *probs, char *err, size_t errlen)
{
    if (!r->f) {
        ortc_tools_err(err, errlen, "results file is not open");
        return -1;
    }
    if (n > r->top)
        n = r->top;
    if (r->format == ORTC_RESULTS_JSONL) {
        if (write_jsonl(r, image, n, classes, labels, probs)) {
            ortc_tools_err(err, errlen, "%s: out of memory writing results", r->path);
            return -1;
        }
    } else {
        csv_field(r->f, image);
        for (int k = 0; k < r->top; k++) {
            if (k >= n) {
                fputs(",,,", r->f);
                continue;
            }
            fprintf(r->f, ",%lld,", (long long)classes[k]);
            csv_field(r->f, labels[k] ? labels[k] : "");
            if (isfinite(probs[k]))
                fprintf(r->f, ",%.6g", probs[k]);
            else
                fputs(",nan", r->f);
        }
        fputc('\n', r->f);
    }
    if (ferror(r->f)) {
        ortc_tools_err(err, errlen, "%s: write error: %s", r->path, strerror(errno));
        return -1;
    }
    return 0;
}

int ortc_results_close(ortc_results *r, char *err, size_t errlen)
{
    if (!r->f)
        return 0;
    int bad = ferror(r->f);
    int e = errno;
    if (fclose(r->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    r->f = NULL;
    if (bad) {
        ortc_tools_err(err, errlen, "%s: could not write all results: %s", r->path, strerror(e));
        return -1;
    }
    return 0;
}
