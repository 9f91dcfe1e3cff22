/* results.h — the per-image results file of `ortc run --output`: CSV (one
 * row per image: path, then class, label and probability for each of the
 * top k) or JSON Lines (one object per image), chosen by the file's
 * extension. Writing only; the ranking is the caller's.
 */
#ifndef ORTC_TOOLS_RESULTS_H
#define ORTC_TOOLS_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ortc_results_format {
    ORTC_RESULTS_CSV,  /* .csv */
    ORTC_RESULTS_JSONL /* .jsonl */
} ortc_results_format;

typedef struct ortc_results {
    FILE *f;
    const char *path;
    ortc_results_format format;
    int top;
} ortc_results;

/* The format named by path's extension (.csv, .jsonl; any case). 0, or -1
 * when it is neither. */
int ortc_results_format_of(const char *path, ortc_results_format *format);

/* Creates (truncates) `path` and, for CSV, writes the header:
 * path,class_1,label_1,probability_1,...,class_K,label_K,probability_K.
 * 0, or -1 with one line in err. */
int ortc_results_open(ortc_results *r, const char *path, int top, char *err, size_t errlen);

/* One image: its path and its top `n` (<= top) classes, best first, with
 * labels ("" when there are none) and probabilities. A CSV row leaves the
 * columns of ranks above n empty; a JSON line is
 * {"path": ..., "top": [{"rank": 1, "class": 9, "label": "...",
 * "probability": 0.99}, ...]}. 0, or -1 with err set (a write error). */
int ortc_results_write(ortc_results *r, const char *image, int n, const int64_t *classes,
                       const char *const *labels, const double *probs, char *err, size_t errlen);

/* Flushes and closes; 0, or -1 with err set when the data could not be
 * written completely (disk full...). */
int ortc_results_close(ortc_results *r, char *err, size_t errlen);

#endif
