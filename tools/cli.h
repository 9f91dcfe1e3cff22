/* cli.h — shared pieces of the `ortc` command: option parsing helpers,
 * error reporting with exit codes, tensor files by extension, sessions with
 * the CLI's logging, JSON output. Subcommands live in cli_<name>.c.
 */
#ifndef ORTC_CLI_H
#define ORTC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "ortc/ortc.h"

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_quantize(int argc, char **argv);
/* `ortc info --ops [--json]` (cli_ops.c): the operator registry. */
int cli_info_ops(bool json);

/* Pictures of the session's last compiled plan (cli_pictures.c): the
 * memory plan as SVG; the optimised graph as .dot, or .svg through
 * Graphviz's dot. CLI_OK, or CLI_ERROR with the message printed. */
int cli_plan_svg(const ortc_session *s, const char *path, const char *model, long batch);
int cli_graph(const ortc_session *s, const char *path, const char *model);
/* Whether --graph PATH can be made (extension; dot on PATH for .svg), before
 * any work: CLI_OK, CLI_USAGE or CLI_ERROR with the message printed. */
int cli_graph_check(const char *path);

/* Prints "ortc: <fmt>" to stderr; returns CLI_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "ortc <cmd>: <fmt>" and a --help hint; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past
 * the value. Returns 1 on match (value in *val), 0 if argv[*i] is another
 * argument, -1 if the value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);
/* Parses a positive integer option value; -1 on error. */
long cli_parse_count(const char *s);
/* Parses option opt's value val, a count in 1..max, into *out: CLI_OK, or
 * CLI_USAGE with "opt: 'val' is not a count (1..max)" printed for cmd. */
int cli_opt_count(const char *cmd, const char *opt, const char *val, long max, int *out);

/* Options shared by commands that create sessions. */
typedef struct cli_common {
    int threads;
    bool reference;
    bool no_optimize; /* --no-optimize: graph passes off (ortc_options.optimize = 0) */
    bool verbose;
    bool json;
    bool huge_pages;
    size_t max_tensor_bytes, max_arena_bytes; /* 0: the library's defaults */
    /* limits on what only a run reveals (0: the library's defaults) */
    long long max_loop_iterations, max_sequence_length, max_nms_boxes;
    size_t max_dynamic_bytes;
    int precision; /* --precision fp32|bf16: ortc_options.precision */
} cli_common;

/* Handles --threads, --reference, --no-optimize, --precision, --verbose, --json, --huge-pages,
 * --max-tensor-bytes, --max-arena-bytes, --max-dynamic-bytes,
 * --max-loop-iterations, --max-sequence-length, --max-nms-boxes at argv[*i]. 1 if
 * consumed, 0 if not, -1 on a bad value (message printed). */
int cli_common_opt(const char *cmd, int argc, char **argv, int *i, cli_common *c);
/* What every subcommand takes at argv[*i]: --help/-h (calls help(); returns
 * -1) and cli_common_opt's options (1 if consumed; CLI_USAGE on a bad value,
 * message printed). 0: argv[*i] is the subcommand's own. */
int cli_standard_opt(const char *cmd, void (*help)(void), int argc, char **argv, int *i,
                     cli_common *c);
/* Matches argv[*i] against the value options names[0..n) as cli_opt_value
 * does: the index of the one given (its value in *val), -1 if argv[*i] is
 * none of them, -2 if its value is missing (usage error printed). */
int cli_opt_pick(const char *cmd, int argc, char **argv, int *i, const char *const *names, int n,
                 const char **val);
/* An argument of cmd's that none of its options took: '-x' is an unknown
 * option ("-" alone is not); else the first is the MODEL (*model; model
 * NULL: cmd takes none) and the ones after it go to paths[(*n_paths)++], up
 * to max (paths NULL: one MODEL only). CLI_OK, or CLI_USAGE (message
 * printed). */
int cli_operand(const char *cmd, const char *arg, const char **model, const char **paths,
                int *n_paths, int max);
/* A session log callback printing "ortc: <level>: <message>" to stderr. */
void cli_log_stderr(void *user, ortc_log_level level, const char *msg);
/* Creates a session; prints the error and returns NULL on failure. */
ortc_session *cli_session_create(const char *model_path, const cli_common *c);

/* Reads a tensor from .npy or ONNX TensorProto .pb (by content). The data
 * is malloc'd: release with cli_tensor_free. 0 / -1 (message printed). */
int cli_tensor_read(const char *path, ortc_tensor *t);
void cli_tensor_free(ortc_tensor *t);
/* Allocates output t's data for ortc_session_run (zeroed, of the exact
 * size, 1 byte when empty: under ASan an overrun by one byte is a report)
 * unless its shape depends on the data (*dynamic: the run allocates it).
 * -1 when out of memory. */
int cli_output_alloc(ortc_tensor *t, bool *dynamic);

/* "'x', 'mask'": the session's input names, quoted, cut to fit buf */
const char *cli_input_names(const ortc_session *s, char *buf, size_t len);
/* "[1,3,224,224]" */
const char *cli_shape_str(char *buf, size_t len, int rank, const int64_t *dims);
/* "batch" / "?" dims rendered from value info. */
const char *cli_info_shape_str(char *buf, size_t len, const ortc_value_info *vi);

/* MODEL.onnx -> MODEL.yaml in buf when that file exists (1), else 0. */
int cli_sidecar_card(const char *model, char *buf, size_t len);

struct cJSON;
/* Prints j as indented JSON and a newline on stdout (nothing if j is NULL). */
void cli_json_print(const struct cJSON *j);

#endif
