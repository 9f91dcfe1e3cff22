/* progress.h — the progress bar `ortc run` draws on stderr while it works
 * through many images: done/total, a bar, images/s and the time left. It
 * draws only on a terminal; elsewhere every call is a no-op.
 */
#ifndef ORTC_TOOLS_PROGRESS_H
#define ORTC_TOOLS_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct ortc_progress {
    FILE *f;
    int on;       /* drawing: enabled and f is a terminal */
    size_t total; /* items expected */
    double t0;    /* start, monotonic seconds */
    double last;  /* last draw */
    int shown;    /* a bar is on the terminal's current line */
} ortc_progress;

/* Seconds on a monotonic clock. */
double ortc_progress_now(void);

/* Starts the clock. Draws only when `enabled` and f is a terminal. */
void ortc_progress_start(ortc_progress *p, FILE *f, size_t total, int enabled);
/* Redraws the bar for `done` items (at most ten times a second unless
 * `force`). */
void ortc_progress_update(ortc_progress *p, size_t done, int force);
/* Erases the bar, so that other output can go to the same terminal; the
 * next update draws it again. */
void ortc_progress_clear(ortc_progress *p);
/* Erases the bar and prints one closing line: "N images in T s (R images/s)". */
void ortc_progress_finish(ortc_progress *p, size_t done);

/* The bar's text for a terminal `width` columns wide (no control
 * characters): "  4512/10000 [=======>     ]  812 images/s  ETA 0:07".
 * Returns buf. */
char *ortc_progress_format(char *buf, size_t len, int width, size_t done, size_t total,
                           double elapsed);

#endif
