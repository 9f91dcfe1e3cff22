/* progress.c — a one-line progress bar on a terminal (carriage return and
 * erase-to-end-of-line; no other terminal control), with the rate measured
 * since the start and the time left at that rate. Nothing when not a tty.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

double ortc_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int term_width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* "0:07", "12:03", "1:02:03" */
static void fmt_duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

char *ortc_progress_format(char *buf, size_t len, int width, size_t done, size_t total,
                           double elapsed)
{
    char rate[48] = "", eta[48] = "ETA --:--", d[32];
    if (done > 0 && elapsed > 0) {
        double r = (double)done / elapsed;
        snprintf(rate, sizeof rate, "  %.*f images/s", r < 10 ? 1 : 0, r);
        if (done < total) {
            fmt_duration(d, sizeof d, (double)(total - done) / r);
            snprintf(eta, sizeof eta, "ETA %s", d);
        } else {
            fmt_duration(d, sizeof d, elapsed);
            snprintf(eta, sizeof eta, "in %s", d);
        }
    }
    char count[64];
    int nw = snprintf(count, sizeof count, "%zu", total);
    snprintf(count, sizeof count, "%*zu/%zu", nw, done, total);
    /* the bar takes what the numbers leave, 10..50 columns */
    int fixed = (int)strlen(count) + (int)strlen(rate) + (int)strlen(eta) + 6;
    int bar = width - 1 - fixed;
    bar = bar > 50 ? 50 : bar;
    char barbuf[64] = "";
    if (bar >= 10 && total > 0) {
        int fill = (int)((double)bar * (double)(done < total ? done : total) / (double)total);
        for (int i = 0; i < bar; i++)
            barbuf[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        barbuf[bar] = '\0';
        snprintf(buf, len, "%s [%s]%s  %s", count, barbuf, rate, eta);
    } else {
        snprintf(buf, len, "%s%s  %s", count, rate, eta);
    }
    return buf;
}

void ortc_progress_start(ortc_progress *p, FILE *f, size_t total, int enabled)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->total = total;
    p->on = enabled && f && isatty(fileno(f));
    p->t0 = ortc_progress_now();
}

void ortc_progress_update(ortc_progress *p, size_t done, int force)
{
    if (!p->on)
        return;
    double now = ortc_progress_now();
    if (!force && p->shown && now - p->last < 0.1)
        return;
    p->last = now;
    char line[256];
    int w = term_width(p->f);
    ortc_progress_format(line, sizeof line, w < (int)sizeof line ? w : (int)sizeof line - 1, done,
                         p->total, now - p->t0);
    fprintf(p->f, "\r%s\033[K", line);
    fflush(p->f);
    p->shown = 1;
}

void ortc_progress_clear(ortc_progress *p)
{
    if (!p->on || !p->shown)
        return;
    fputs("\r\033[K", p->f);
    fflush(p->f);
    p->shown = 0;
}

void ortc_progress_finish(ortc_progress *p, size_t done)
{
    if (!p->on)
        return;
    ortc_progress_clear(p);
    double el = ortc_progress_now() - p->t0;
    double r = el > 0 ? (double)done / el : 0;
    fprintf(p->f, "%zu image%s in %.1f s (%.*f images/s)\n", done, done == 1 ? "" : "s", el,
            r < 10 ? 1 : 0, r);
    fflush(p->f);
}
