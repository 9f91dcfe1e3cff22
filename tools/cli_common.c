/* cli_common.c — helpers shared by the `ortc` subcommands: errors and exit
 * codes, option parsing, session creation with stderr logging, tensor files,
 * JSON output.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "npy.h"

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ortc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_ERROR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ortc %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'ortc %s --help')\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

long cli_parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 1000000)
        return -1;
    return v;
}

int cli_opt_count(const char *cmd, const char *opt, const char *val, long max, int *out)
{
    long n = cli_parse_count(val);
    if (n < 0 || n > max)
        return cli_usage_error(cmd, "%s: '%s' is not a count (1..%ld)", opt, val, max);
    *out = (int)n;
    return CLI_OK;
}

/* "N", or N with a K/M/G/T suffix (powers of 1024); 0 on error */
static size_t parse_bytes(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-' || v == 0)
        return 0;
    int shift = 0;
    switch (*end) {
    case 'K':
        shift = 10;
        end++;
        break;
    case 'M':
        shift = 20;
        end++;
        break;
    case 'G':
        shift = 30;
        end++;
        break;
    case 'T':
        shift = 40;
        end++;
        break;
    default: break;
    }
    if (*end || v > (SIZE_MAX >> shift))
        return 0;
    return (size_t)(v << shift);
}

int cli_common_opt(const char *cmd, int argc, char **argv, int *i, cli_common *c)
{
    const char *val;
    /* options with a value, each parsed by its kind into its field */
    enum { COUNT, BYTES, PRECISION, THREADS };
    const struct {
        const char *name;
        int kind;
        void *dst;
    } opts[] = {{"--max-loop-iterations", COUNT, &c->max_loop_iterations},
                {"--max-sequence-length", COUNT, &c->max_sequence_length},
                {"--max-nms-boxes", COUNT, &c->max_nms_boxes},
                {"--max-tensor-bytes", BYTES, &c->max_tensor_bytes},
                {"--max-arena-bytes", BYTES, &c->max_arena_bytes},
                {"--max-dynamic-bytes", BYTES, &c->max_dynamic_bytes},
                {"--precision", PRECISION, &c->precision},
                {"--threads", THREADS, &c->threads}};
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        int r = cli_opt_value(argc, argv, i, opts[k].name, &val);
        if (r < 0) {
            cli_usage_error(cmd, "%s needs a value", opts[k].name);
            return -1;
        }
        if (r == 0)
            continue;
        const char *bad = NULL; /* what val is not, when it is not */
        switch (opts[k].kind) {
        case COUNT: {
            char *end;
            errno = 0;
            long long v = strtoll(val, &end, 10);
            if (errno || end == val || *end || v <= 0)
                bad = "a positive count";
            else
                *(long long *)opts[k].dst = v;
            break;
        }
        case BYTES: {
            size_t b = parse_bytes(val);
            if (!b)
                bad = "a byte count (N, or N with K/M/G/T)";
            else
                *(size_t *)opts[k].dst = b;
            break;
        }
        case PRECISION:
            if (strcmp(val, "fp32") && strcmp(val, "bf16"))
                bad = "fp32 or bf16";
            else
                c->precision = strcmp(val, "fp32") ? ORTC_PRECISION_BF16 : ORTC_PRECISION_FP32;
            break;
        default: {
            long n = cli_parse_count(val);
            if (n < 0 || n > 1024)
                bad = "a thread count (1..1024)";
            else
                c->threads = (int)n;
        }
        }
        if (bad) {
            cli_usage_error(cmd, "%s: '%s' is not %s", opts[k].name, val, bad);
            return -1;
        }
        return 1;
    }
    const struct {
        const char *name, *alias;
        bool *flag;
    } flags[] = {{"--reference", NULL, &c->reference},
                 {"--no-optimize", NULL, &c->no_optimize},
                 {"--verbose", "-v", &c->verbose},
                 {"--json", NULL, &c->json},
                 {"--huge-pages", NULL, &c->huge_pages}};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
        if (!strcmp(argv[*i], flags[k].name) ||
            (flags[k].alias && !strcmp(argv[*i], flags[k].alias))) {
            *flags[k].flag = true;
            return 1;
        }
    return 0;
}

int cli_standard_opt(const char *cmd, void (*help)(void), int argc, char **argv, int *i,
                     cli_common *c)
{
    if (!strcmp(argv[*i], "--help") || !strcmp(argv[*i], "-h")) {
        help();
        return -1;
    }
    int r = cli_common_opt(cmd, argc, argv, i, c);
    return r < 0 ? CLI_USAGE : r;
}

int cli_opt_pick(const char *cmd, int argc, char **argv, int *i, const char *const *names, int n,
                 const char **val)
{
    for (int k = 0; k < n; k++) {
        int r = cli_opt_value(argc, argv, i, names[k], val);
        if (r < 0) {
            cli_usage_error(cmd, "%s needs a value", names[k]);
            return -2;
        }
        if (r > 0)
            return k;
    }
    return -1;
}

int cli_operand(const char *cmd, const char *arg, const char **model, const char **paths,
                int *n_paths, int max)
{
    if (arg[0] == '-' && arg[1])
        return cli_usage_error(cmd, "unknown option '%s'", arg);
    if (model && !*model) {
        *model = arg;
        return CLI_OK;
    }
    if (!paths)
        return cli_usage_error(cmd, "one MODEL only ('%s' and '%s')", *model, arg);
    if (*n_paths >= max)
        return cli_usage_error(cmd, "too many paths");
    paths[(*n_paths)++] = arg;
    return CLI_OK;
}

void cli_log_stderr(void *user, ortc_log_level level, const char *msg)
{
    (void)user;
    static const char *names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "ortc: %s: %s\n", names[level <= ORTC_LOG_DEBUG ? level : 0], msg);
}

ortc_session *cli_session_create(const char *model_path, const cli_common *c)
{
    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = c->threads;
    opt.reference = c->reference;
    opt.optimize = !c->no_optimize;
    opt.max_tensor_bytes = c->max_tensor_bytes;
    opt.max_arena_bytes = c->max_arena_bytes;
    opt.max_loop_iterations = c->max_loop_iterations;
    opt.max_sequence_length = c->max_sequence_length;
    opt.max_nms_boxes = c->max_nms_boxes;
    opt.max_dynamic_bytes = c->max_dynamic_bytes;
    opt.huge_pages = c->huge_pages;
    opt.precision = c->precision;
    opt.log = cli_log_stderr;
    opt.log_level = c->verbose ? ORTC_LOG_INFO : ORTC_LOG_WARNING;
    ortc_session *s = NULL;
    if (ortc_session_create(&s, model_path, &opt) != ORTC_STATUS_OK) {
        cli_error("%s", ortc_last_error());
        return NULL;
    }
    return s;
}

int cli_tensor_read(const char *path, ortc_tensor *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_error("%s: cannot open: %s", path, strerror(errno)), -1;
    unsigned char magic[6] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got == 6 && !memcmp(magic, "\x93NUMPY", 6)) {
        char err[512];
        if (ortc_npy_read(path, t, err, sizeof err))
            return cli_error("%s", err), -1;
        return 0;
    }
    if (ortc_tensor_read_pb(path, t, NULL) != ORTC_STATUS_OK)
        return cli_error("%s: neither a .npy file nor an ONNX TensorProto: %s", path,
                         ortc_last_error()),
               -1;
    return 0;
}

void cli_tensor_free(ortc_tensor *t)
{
    ortc_tensor_release(t);
}

int cli_output_alloc(ortc_tensor *t, bool *dynamic)
{
    *dynamic = t->rank < 0;
    for (int d = 0; d < t->rank; d++)
        *dynamic |= t->dims[d] < 0;
    if (*dynamic)
        return 0;
    size_t bytes = ortc_tensor_bytes(t);
    t->data = calloc(1, bytes ? bytes : 1);
    return t->data ? 0 : -1;
}

const char *cli_shape_str(char *buf, size_t len, int rank, const int64_t *dims)
{
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, len - used, "[");
    for (int i = 0; i < rank && used < len; i++)
        used +=
            (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

const char *cli_info_shape_str(char *buf, size_t len, const ortc_value_info *vi)
{
    if (vi->rank < 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    size_t used = 0;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < vi->rank && used < len; i++) {
        if (vi->dims[i] >= 0)
            used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "",
                                     (long long)vi->dims[i]);
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                                     vi->dim_params[i] ? vi->dim_params[i] : "?");
    }
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

const char *cli_input_names(const ortc_session *s, char *buf, size_t len)
{
    size_t used = 0, n = ortc_session_input_count(s);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        ortc_value_info vi;
        if (ortc_session_input_info(s, i, &vi) != ORTC_STATUS_OK)
            break;
        int w = snprintf(buf + used, len - used, "%s'%s'", i ? ", " : "", vi.name);
        used += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

void cli_json_print(const cJSON *j)
{
    char *txt = j ? cJSON_Print(j) : NULL;
    if (txt)
        puts(txt);
    free(txt);
}

int cli_sidecar_card(const char *model, char *buf, size_t len)
{
    const char *dot = strrchr(model, '.');
    const char *slash = strrchr(model, '/');
    size_t stem = (dot && (!slash || dot > slash)) ? (size_t)(dot - model) : strlen(model);
    if (stem + 6 > len)
        return 0;
    snprintf(buf, len, "%.*s.yaml", (int)stem, model);
    struct stat st;
    return stat(buf, &st) == 0;
}
