/* cli_pictures.c — pictures of a compiled plan for `ortc info`: the memory
 * plan as SVG (steps across, arena offsets up, one rectangle per buffer,
 * the lower bound marked) and the optimised graph as Graphviz DOT, turned
 * into SVG by `dot` when asked. Reads the plan through ortc.h only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* ---- SVG of the memory plan ------------------------------------------------------- */

/* Writes s with XML's five special characters escaped. */
static void put_xml(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            fputc((unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s, f);
        }
}

static const char *human_bytes(char *buf, size_t len, size_t b)
{
    if (b >= (1u << 20))
        snprintf(buf, len, "%.2f MiB", (double)b / (1024.0 * 1024.0));
    else if (b >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
    else
        snprintf(buf, len, "%zu B", b);
    return buf;
}

/* A step of ticks that gives about `want` ticks over `range`: 1, 2 or 5 x 10^k. */
static double tick_step(double range, int want)
{
    double raw = range / want, p = 1;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw && p > 1e-9)
        p /= 10;
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

int cli_plan_svg(const ortc_session *s, const char *path, const char *model, long batch)
{
    ortc_plan_stats ps;
    if (ortc_session_plan_stats(s, &ps))
        return cli_error("--plan-svg: %s", ortc_last_error());
    size_t n = ortc_session_plan_buffers(s, NULL, 0);
    ortc_plan_buffer_info *b = calloc(n + 1, sizeof *b);
    if (!b)
        return cli_error("--plan-svg: out of memory for %zu buffers", n);
    ortc_session_plan_buffers(s, b, n);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(b);
        return cli_error("--plan-svg: cannot write '%s': %s", path, strerror(errno));
    }

    /* plot area: steps 0..n_steps on x, offsets 0..arena upwards on y */
    const double left = 90, top = 56, pw = 880, ph = 480, right = 24, bottom = 52;
    const double width = left + pw + right, height = top + ph + bottom;
    double steps = ps.n_steps ? (double)ps.n_steps : 1;
    double arena = ps.arena_bytes ? (double)ps.arena_bytes : 1;
    double sx = pw / steps, sy = ph / arena;
    char h1[32], h2[32], h3[32];

    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(f, "<title>memory plan of ");
    put_xml(f, model);
    fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"20\" font-size=\"15\" font-weight=\"bold\">memory plan of ",
            left);
    put_xml(f, model);
    fprintf(f, " (symbolic dims = %ld)</text>\n", batch);
    fprintf(f,
            "<text x=\"%.0f\" y=\"40\">arena %s, lower bound %s, naive sum %s; %zu buffers, "
            "%zu steps</text>\n",
            left, human_bytes(h1, sizeof h1, ps.arena_bytes),
            human_bytes(h2, sizeof h2, ps.lower_bound_bytes),
            human_bytes(h3, sizeof h3, ps.naive_bytes), n, ps.n_steps);

    /* axes and ticks: steps below, MiB (or KiB) on the left */
    fprintf(f,
            "<g stroke=\"#444\" fill=\"none\"><rect x=\"%.3f\" y=\"%.3f\" width=\"%.3f\" "
            "height=\"%.3f\"/></g>\n",
            left, top, pw, ph);
    double xt = tick_step(steps, 10);
    if (xt < 1)
        xt = 1;
    fprintf(f, "<g font-size=\"11\" text-anchor=\"middle\" fill=\"#444\">\n");
    for (double t = 0; t <= steps + 1e-9; t += xt)
        fprintf(f,
                "<line x1=\"%.3f\" y1=\"%.3f\" x2=\"%.3f\" y2=\"%.3f\" stroke=\"#444\"/>"
                "<text x=\"%.3f\" y=\"%.3f\">%.0f</text>\n",
                left + t * sx, top + ph, left + t * sx, top + ph + 4, left + t * sx, top + ph + 17,
                t);
    fprintf(f, "<text x=\"%.3f\" y=\"%.3f\">step</text>\n</g>\n", left + pw / 2, top + ph + 36);
    double unit = ps.arena_bytes >= (1u << 20) ? 1024.0 * 1024.0 : 1024.0;
    const char *uname = ps.arena_bytes >= (1u << 20) ? "MiB" : "KiB";
    double yt = ps.arena_bytes ? tick_step(arena / unit, 8) : 0; /* none: only 0 */
    if (!ps.arena_bytes)
        fprintf(f,
                "<text x=\"%.3f\" y=\"%.3f\" text-anchor=\"middle\">no activation buffers: "
                "every value is an input, output, constant or view</text>\n",
                left + pw / 2, top + ph / 2);
    fprintf(f, "<g font-size=\"11\" text-anchor=\"end\" fill=\"#444\">\n");
    for (double t = 0; t * unit <= arena * (1 + 1e-9); t += yt) {
        fprintf(f,
                "<line x1=\"%.3f\" y1=\"%.3f\" x2=\"%.3f\" y2=\"%.3f\" stroke=\"#444\"/>"
                "<text x=\"%.3f\" y=\"%.3f\">%g</text>\n",
                left - 4, top + ph - t * unit * sy, left, top + ph - t * unit * sy, left - 7,
                top + ph - t * unit * sy + 4, t);
        if (yt <= 0)
            break;
    }
    fprintf(f,
            "<text transform=\"translate(%.3f %.3f) rotate(-90)\" text-anchor=\"middle\">"
            "arena offset (%s)</text>\n</g>\n",
            left - 52, top + ph / 2, uname);

    /* one rectangle per buffer: x = its steps, y = its bytes in the arena */
    fprintf(f, "<g id=\"buffers\" stroke=\"#222\" stroke-width=\"0.5\">\n");
    for (size_t i = 0; i < n; i++) {
        double x = left + b[i].first_step * sx;
        double w = (b[i].last_step - b[i].first_step + 1) * sx;
        double y = top + ph - (double)(b[i].offset + b[i].bytes) * sy;
        double h = (double)b[i].bytes * sy;
        unsigned hue = (unsigned)((i * 137) % 360);
        fprintf(f,
                "<rect class=\"buffer\" x=\"%.3f\" y=\"%.3f\" width=\"%.3f\" height=\"%.3f\" "
                "fill=\"hsl(%u,60%%,70%%)\" data-name=\"",
                x, y, w, h, hue);
        put_xml(f, b[i].name);
        fprintf(f,
                "\" data-offset=\"%zu\" data-bytes=\"%zu\" data-first=\"%d\" "
                "data-last=\"%d\"><title>",
                b[i].offset, b[i].bytes, b[i].first_step, b[i].last_step);
        put_xml(f, b[i].name);
        fprintf(f, ": %zu bytes (%s) at offset %zu, steps %d-%d", b[i].bytes,
                human_bytes(h1, sizeof h1, b[i].bytes), b[i].offset, b[i].first_step,
                b[i].last_step);
        if (b[i].n_values > 1)
            fprintf(f, ", shared by %d values (views, in-place)", b[i].n_values);
        fprintf(f, "</title></rect>\n");
        /* inside: its name when it fits (about 6.5 px per character), else its size */
        const char *label = b[i].name;
        if (w < 6.5 * (double)strlen(label) + 6)
            label = human_bytes(h1, sizeof h1, b[i].bytes);
        if (w >= 6.5 * (double)strlen(label) + 6 && h >= 14) {
            fprintf(f,
                    "<text x=\"%.3f\" y=\"%.3f\" text-anchor=\"middle\" stroke=\"none\" "
                    "font-size=\"11\">",
                    x + w / 2, y + h / 2 + 4);
            put_xml(f, label);
            fprintf(f, "</text>\n");
        }
    }
    fprintf(f, "</g>\n");

    /* the lower bound: no arena can be smaller */
    double ylb = top + ph - (double)ps.lower_bound_bytes * sy;
    fprintf(f,
            "<g id=\"lower-bound\"><line x1=\"%.3f\" y1=\"%.3f\" x2=\"%.3f\" y2=\"%.3f\" "
            "stroke=\"#c00\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\" "
            "data-bytes=\"%zu\"/><text x=\"%.3f\" y=\"%.3f\" text-anchor=\"end\" "
            "fill=\"#c00\">lower bound %s</text></g>\n",
            left, ylb, left + pw, ylb, ps.lower_bound_bytes, left + pw - 4, ylb - 4,
            human_bytes(h1, sizeof h1, ps.lower_bound_bytes));
    fprintf(f, "</svg>\n");
    free(b);
    if (fclose(f))
        return cli_error("--plan-svg: cannot write '%s': %s", path, strerror(errno));
    return CLI_OK;
}

/* ---- DOT of the optimised graph --------------------------------------------------- */

/* Writes s escaped for a DOT double-quoted string. */
static void put_dot(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
    }
}

typedef struct producer {
    const char *name;
    size_t step;
} producer;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const producer *)a)->name, ((const producer *)b)->name);
}

static void put_shape(FILE *f, const ortc_plan_value_info *v)
{
    char sh[160];
    fputs(cli_shape_str(sh, sizeof sh, v->rank, v->dims), f);
    if (v->dtype != ORTC_DTYPE_FLOAT)
        fprintf(f, " %s", ortc_dtype_name(v->dtype));
}

/* A graph input or output: the ellipse "<kind>:<name>" (its edge follows). */
static void put_terminal(FILE *f, const char *kind, const char *name, const char *color)
{
    fprintf(f, "  \"%s:", kind);
    put_dot(f, name);
    fprintf(f, "\" [shape=ellipse, style=filled, fillcolor=\"%s\", label=\"", color);
    put_dot(f, name);
    fprintf(f, "\"];\n");
}

/* One step of the plan: its info and its input and output values (one
 * buffer, in then out, cap entries each, reused from step to step). */
typedef struct dot_step {
    ortc_plan_step_info si;
    ortc_plan_value_info *in, *out;
    size_t cap;
} dot_step;

/* Reads step i into d: 0, DOT_ERROR (ortc_last_error() says why) or
 * DOT_OOM. */
enum { DOT_ERROR = 1, DOT_OOM };
static int dot_step_read(const ortc_session *s, size_t i, dot_step *d)
{
    if (ortc_session_plan_step(s, i, &d->si))
        return DOT_ERROR;
    size_t need = (size_t)(d->si.n_inputs > d->si.n_outputs ? d->si.n_inputs : d->si.n_outputs);
    if (need > d->cap) {
        ortc_plan_value_info *v = realloc(d->in, 2 * need * sizeof *v); /* inputs, outputs */
        if (!v)
            return DOT_OOM;
        d->in = v;
        d->cap = need;
    }
    d->out = d->in + d->cap;
    for (int side = 0; side < 2; side++) {
        int n = side ? d->si.n_outputs : d->si.n_inputs;
        for (int k = 0; k < n; k++)
            if (ortc_session_plan_step_value(s, i, side, (size_t)k, side ? &d->out[k] : &d->in[k]))
                return DOT_ERROR;
    }
    return 0;
}

/* Step i's box: op type, node name, fused post-ops, constant inputs
 * (weights) by shape, blocked output layouts. */
static void put_step_box(FILE *f, size_t i, const dot_step *d)
{
    const ortc_plan_step_info *si = &d->si;
    fprintf(f, "  s%zu [label=\"%zu: ", i, i);
    if (si->domain[0]) {
        put_dot(f, si->domain);
        fputc('.', f);
    }
    put_dot(f, si->op_type);
    if (si->node_name[0]) {
        fputs("\\n", f);
        put_dot(f, si->node_name);
    }
    if (si->post_ops[0]) {
        fputs("\\n+ ", f);
        put_dot(f, si->post_ops);
    }
    const char *sep = "\\nconst ";
    for (int k = 0; k < si->n_inputs; k++)
        if (d->in[k].place == ORTC_PLACE_CONSTANT) {
            fputs(sep, f);
            sep = " ";
            put_shape(f, &d->in[k]);
        }
    for (int k = 0; k < si->n_outputs; k++)
        if (d->out[k].place != ORTC_PLACE_NONE && strcmp(d->out[k].layout, "plain")) {
            fputs("\\nout ", f);
            put_dot(f, d->out[k].layout);
        }
    if (si->reference)
        fputs("\\n(reference kernel)", f);
    fprintf(f, "\"%s];\n",
            si->view          ? ", style=\"rounded,dashed\""
            : si->post_ops[0] ? ", fillcolor=\"#fde9c9\""
                              : "");
}

/* Step i's incoming edges (from their producer steps, or from graph
 * inputs) and its edges to graph outputs. prod: the n_prod values' producer
 * steps, sorted by name. */
static void put_step_edges(FILE *f, size_t i, const dot_step *d, const producer *prod,
                           size_t n_prod)
{
    for (int k = 0; k < d->si.n_inputs; k++) {
        const ortc_plan_value_info *v = &d->in[k];
        if (v->place == ORTC_PLACE_NONE || v->place == ORTC_PLACE_CONSTANT)
            continue;
        producer key = {v->name, 0};
        const producer *p = n_prod ? bsearch(&key, prod, n_prod, sizeof *prod, by_name) : NULL;
        if (p && p->step < i) {
            fprintf(f, "  s%zu -> s%zu", p->step, i);
        } else {
            /* a graph input (or an enclosing graph's value) */
            put_terminal(f, "in", v->name, "#e3f4e1");
            fprintf(f, "  \"in:");
            put_dot(f, v->name);
            fprintf(f, "\" -> s%zu", i);
        }
        fprintf(f, " [label=\"");
        put_shape(f, v);
        if (strcmp(v->layout, "plain")) {
            fputc(' ', f);
            put_dot(f, v->layout);
        }
        fprintf(f, "\"];\n");
    }
    for (int k = 0; k < d->si.n_outputs; k++) {
        const ortc_plan_value_info *v = &d->out[k];
        if (v->place != ORTC_PLACE_OUTPUT)
            continue;
        put_terminal(f, "out", v->name, "#f9e1e1");
        fprintf(f, "  s%zu -> \"out:", i);
        put_dot(f, v->name);
        fprintf(f, "\" [label=\"");
        put_shape(f, v);
        fprintf(f, "\"];\n");
    }
}

static int write_dot(const ortc_session *s, FILE *f, const char *model)
{
    ortc_plan_stats ps;
    if (ortc_session_plan_stats(s, &ps))
        return cli_error("--graph: %s", ortc_last_error());
    size_t n_steps = ps.n_steps, n_prod = 0, cap = 0;
    producer *prod = NULL;
    dot_step d = {0};
    int why = 0;
    for (size_t i = 0; i < n_steps; i++) {
        if ((why = dot_step_read(s, i, &d)))
            goto fail;
        for (int k = 0; k < d.si.n_outputs; k++) {
            if (!d.out[k].name[0])
                continue;
            if (n_prod == cap) {
                cap = cap ? 2 * cap : 64;
                producer *np = realloc(prod, cap * sizeof *np);
                if (!np) {
                    why = DOT_OOM;
                    goto fail;
                }
                prod = np;
            }
            prod[n_prod++] = (producer){d.out[k].name, i};
        }
    }
    if (n_prod)
        qsort(prod, n_prod, sizeof *prod, by_name);

    fprintf(f, "digraph \"");
    put_dot(f, model);
    fprintf(f, "\" {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", "
               "fillcolor=\"#eef3fb\", fontname=\"sans-serif\", fontsize=10];\n"
               "  edge [fontname=\"sans-serif\", fontsize=9];\n");
    for (size_t i = 0; i < n_steps; i++) {
        if ((why = dot_step_read(s, i, &d)))
            goto fail;
        put_step_box(f, i, &d);
        put_step_edges(f, i, &d, prod, n_prod);
    }
    fprintf(f, "}\n");
    free(prod);
    free(d.in);
    return CLI_OK;
fail:
    free(prod);
    free(d.in);
    if (why == DOT_OOM)
        return cli_error("--graph: out of memory");
    return cli_error("--graph: %s", ortc_last_error());
}

/* The directory entry of `prog` on PATH, or "" (buf holds it). */
static const char *find_on_path(char *buf, size_t len, const char *prog)
{
    const char *path = getenv("PATH");
    buf[0] = '\0';
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t dl = end ? (size_t)(end - path) : strlen(path);
        int w = snprintf(buf, len, "%.*s/%s", (int)dl, dl ? path : ".", prog);
        if (w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
            return buf;
        buf[0] = '\0';
        path = end ? end + 1 : NULL;
    }
    return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int cli_graph_check(const char *path)
{
    char dot[4096];
    if (!ends_with(path, ".svg") && !ends_with(path, ".dot"))
        return cli_usage_error("info",
                               "--graph '%s': the file must end in .dot (Graphviz DOT) "
                               "or .svg",
                               path);
    if (ends_with(path, ".svg") && !find_on_path(dot, sizeof dot, "dot")[0])
        return cli_error("--graph '%s': SVG needs Graphviz's 'dot' on PATH (apt-get install "
                         "graphviz); write a .dot file instead",
                         path);
    return CLI_OK;
}

int cli_graph(const ortc_session *s, const char *path, const char *model)
{
    int r = cli_graph_check(path);
    if (r)
        return r;
    bool svg = ends_with(path, ".svg");
    char dot[4096];
    if (svg)
        find_on_path(dot, sizeof dot, "dot");
    if (!svg) {
        FILE *f = fopen(path, "w");
        if (!f)
            return cli_error("--graph: cannot write '%s': %s", path, strerror(errno));
        r = write_dot(s, f, model);
        if (fclose(f) && !r)
            r = cli_error("--graph: cannot write '%s': %s", path, strerror(errno));
        return r;
    }
    /* DOT into a temporary file, then dot -Tsvg -o path tmp */
    char tmp[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/ortc-graph-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd), unlink(tmp);
        return cli_error("--graph: cannot create a temporary file in %s: %s",
                         dir && dir[0] ? dir : "/tmp", strerror(errno));
    }
    r = write_dot(s, f, model);
    if (fclose(f) && !r)
        r = cli_error("--graph: cannot write '%s': %s", tmp, strerror(errno));
    if (!r) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            execl(dot, "dot", "-Tsvg", "-o", path, tmp, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        if (pid < 0)
            r = cli_error("--graph: cannot start '%s': %s", dot, strerror(errno));
        else if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
            r = cli_error("--graph: '%s -Tsvg' failed (status %d) making '%s'", dot,
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, path);
    }
    unlink(tmp);
    return r;
}
