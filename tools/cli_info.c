/* cli_info.c — `ortc info`: what a model is (IR, producer, opsets), its
 * inputs/outputs, operator histogram, parameters, unsupported operators and
 * the memory plan ortc would use; with --passes the graph before and after
 * the graph passes and what each changed (from the session's log). Text or
 * --json. `--ops` (the operator registry, no model) is cli_ops.c's.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static void help(void)
{
    printf("usage: ortc info MODEL [options]\n"
           "       ortc info --ops [--json]\n"
           "\n"
           "Prints the model's IR version, producer, opsets, inputs and outputs with shapes,\n"
           "an operator histogram, parameter count and bytes, unsupported operators, and\n"
           "the memory plan (arena bytes, lower bound, naive sum of intermediates).\n"
           "\n"
           "options:\n"
           "  --batch N     value for symbolic input dims when planning (default 1)\n"
           "  --plan-svg FILE  draw the memory plan as SVG: steps across, arena offset\n"
           "                up, one rectangle per buffer (hover: name, bytes, steps),\n"
           "                the lower bound as a dashed line\n"
           "  --graph FILE  draw the optimised graph (fused post-ops, blocked layouts,\n"
           "                shapes on the edges): FILE.dot is Graphviz DOT; FILE.svg\n"
           "                runs Graphviz's dot (must be on PATH)\n"
           "  --limits      print ortc's input limits and exit (no MODEL needed)\n"
           "  --ops         list the operators ortc implements (no MODEL): versions,\n"
           "                backend (oneDNN or plain C), fusable, aliasing, dtypes\n"
           "  --passes      show the graph (node, op, inputs -> outputs, shapes) before and\n"
           "                after the graph passes, and what each pass changed\n"
           "  --threads N   kernel threads used when compiling the plan\n"
           "  --precision P fp32 (default) or bf16 (ortc run --help): the plan's steps say\n"
           "                what each computes in\n"
           "  --max-tensor-bytes B, --max-arena-bytes B   memory limits (ortc run --help)\n"
           "  --json        print as JSON\n");
}

typedef struct op_count {
    const char *op;
    const char *domain;
    int count;
} op_count;

static int by_count(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;
    return strcmp(x->op, y->op);
}

static const char *type_name(ortc_type t)
{
    switch (t) {
    case ORTC_TYPE_SEQUENCE: return "sequence";
    case ORTC_TYPE_OPTIONAL_TENSOR: return "optional";
    case ORTC_TYPE_OPTIONAL_SEQUENCE: return "optional sequence";
    default: return "tensor";
    }
}

static void print_limits(void)
{
    printf("limits (model files; fixed):\n"
           "  model file                 %lld bytes (protobuf's 2 GB message limit)\n"
           "  tensor rank                %d\n"
           "  nodes, subgraphs included  %d\n"
           "  subgraph nesting           %d\n"
           "  protobuf message nesting   100\n"
           "  one attribute              %lld bytes\n"
           "  image                      %lld pixels (checked before decoding)\n"
           "limits (memory; session options, 0 = default; CLI --max-tensor-bytes,\n"
           "--max-arena-bytes):\n"
           "  max_tensor_bytes           %llu (one computed tensor)\n"
           "  max_arena_bytes            %llu (a plan's activations + scratch)\n"
           "  max_concurrent_runs        %d (arenas per input shape for concurrent\n"
           "                             ortc_session_run calls; at most %d; more wait)\n"
           "limits (what only a run reveals; session options, 0 = default; CLI\n"
           "--max-loop-iterations, --max-sequence-length, --max-nms-boxes,\n"
           "--max-dynamic-bytes):\n"
           "  max_loop_iterations        %lld (trips of one Loop node in one run)\n"
           "  max_sequence_length        %lld (tensors in one sequence)\n"
           "  max_nms_boxes              %lld (NonMaxSuppression boxes per batch item)\n"
           "  max_dynamic_bytes          %llu (a run's values of data-dependent size:\n"
           "                             sequences, NonZero/Unique/NMS outputs, ...)\n"
           "Initializers and external data must hold exactly the bytes their shape\n"
           "declares and stay inside the model's folder and file.\n",
           (long long)ORTC_MAX_MODEL_BYTES, ORTC_MAX_RANK, ORTC_MAX_NODES, ORTC_MAX_SUBGRAPH_DEPTH,
           (long long)ORTC_MAX_ATTR_BYTES, (long long)ORTC_IMAGE_MAX_PIXELS,
           (unsigned long long)ORTC_DEFAULT_MAX_TENSOR_BYTES,
           (unsigned long long)ORTC_DEFAULT_MAX_ARENA_BYTES, ORTC_DEFAULT_CONCURRENT_RUNS,
           ORTC_MAX_CONCURRENT_RUNS, (long long)ORTC_DEFAULT_MAX_LOOP_ITERATIONS,
           (long long)ORTC_DEFAULT_MAX_SEQUENCE_LENGTH, (long long)ORTC_DEFAULT_MAX_NMS_BOXES,
           (unsigned long long)ORTC_DEFAULT_MAX_DYNAMIC_BYTES);
}

/* Log lines of the graph passes ("passes: ..."), collected for --passes. */
typedef struct pass_lines {
    char **lines;
    size_t n;
} pass_lines;

static void collect_pass_line(void *user, ortc_log_level level, const char *msg)
{
    (void)level;
    pass_lines *pl = user;
    static const char prefix[] = "passes: ";
    if (strncmp(msg, prefix, sizeof prefix - 1))
        return;
    char *copy = strdup(msg + sizeof prefix - 1);
    char **p = copy ? realloc(pl->lines, (pl->n + 1) * sizeof *p) : NULL;
    if (!p) {
        free(copy);
        return;
    }
    p[pl->n++] = copy;
    pl->lines = p;
}

static double mib(size_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static const char *precision_name(int precision)
{
    return precision == ORTC_PRECISION_BF16 ? "bf16" : "fp32";
}

/* "precision: requested bf16; steps: bf16 8 (Conv 5, Gemm 3), fp32 12" */
static void precision_text(const ortc_session *s, int requested)
{
    ortc_plan_stats ps;
    if (ortc_session_plan_stats(s, &ps))
        return;
    printf("precision: requested %s; steps:", precision_name(requested));
    /* each distinct precision in step order, with its count; the ops of
     * bf16 steps named */
    const char *seen[16];
    int n_seen = 0;
    for (size_t i = 0; i < ps.n_steps; i++) {
        ortc_plan_step_info si;
        if (ortc_session_plan_step(s, i, &si) || !si.precision)
            continue;
        bool known = false;
        for (int k = 0; k < n_seen; k++)
            known |= !strcmp(seen[k], si.precision);
        if (known || n_seen == 16)
            continue;
        seen[n_seen++] = si.precision;
        size_t count = 0;
        op_count ops[32];
        int n_ops = 0;
        for (size_t j = i; j < ps.n_steps; j++) {
            ortc_plan_step_info sj;
            if (ortc_session_plan_step(s, j, &sj) || !sj.precision ||
                strcmp(sj.precision, si.precision))
                continue;
            count++;
            int k = 0;
            while (k < n_ops && strcmp(ops[k].op, sj.op_type))
                k++;
            if (k == n_ops && n_ops < 32)
                ops[n_ops++] = (op_count){sj.op_type, sj.domain, 0};
            if (k < n_ops)
                ops[k].count++;
        }
        printf("%s %s %zu", n_seen > 1 ? "," : "", si.precision, count);
        if (!strcmp(si.precision, "bf16")) {
            for (int k = 0; k < n_ops; k++)
                printf("%s%s %d", k ? ", " : " (", ops[k].op, ops[k].count);
            printf(")");
        }
    }
    printf("\n");
}

/* "precision": {"requested": "bf16", "steps": [{"node", "op", "precision"}]} */
static void precision_json(cJSON *o, const ortc_session *s, int requested)
{
    ortc_plan_stats ps;
    if (ortc_session_plan_stats(s, &ps))
        return;
    cJSON *p = cJSON_AddObjectToObject(o, "precision");
    cJSON_AddStringToObject(p, "requested", precision_name(requested));
    cJSON *arr = cJSON_AddArrayToObject(p, "steps");
    for (size_t i = 0; arr && i < ps.n_steps; i++) {
        ortc_plan_step_info si;
        if (ortc_session_plan_step(s, i, &si))
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "node", si.node_name);
        cJSON_AddStringToObject(e, "op", si.op_type);
        cJSON_AddStringToObject(e, "precision", si.precision ? si.precision : "");
        cJSON_AddItemToArray(arr, e);
    }
}

int cli_info(int argc, char **argv)
{
    cli_common common = {0};
    const char *path = NULL;
    long batch = 1;
    bool show_passes = false, show_ops = false;
    const char *plan_svg = NULL, *graph_file = NULL;
    pass_lines passes = {NULL, 0};
    for (int i = 2; i < argc; i++) {
        const char *val;
        int r = cli_standard_opt("info", help, argc, argv, &i, &common);
        if (r == 1)
            continue;
        if (r)
            return r < 0 ? CLI_OK : r;
        if (!strcmp(argv[i], "--passes")) {
            show_passes = true;
            continue;
        }
        if (!strcmp(argv[i], "--ops")) {
            show_ops = true;
            continue;
        }
        if (!strcmp(argv[i], "--limits")) {
            print_limits();
            return CLI_OK;
        }
        static const char *const files[] = {"--plan-svg", "--graph"};
        int which = cli_opt_pick("info", argc, argv, &i, files, 2, &val);
        if (which == -2)
            return CLI_USAGE;
        if (which >= 0) {
            *(which ? &graph_file : &plan_svg) = val;
            continue;
        }
        r = cli_opt_value(argc, argv, &i, "--batch", &val);
        if (r < 0)
            return cli_usage_error("info", "--batch needs a value");
        if (r > 0) {
            if ((batch = cli_parse_count(val)) < 0)
                return cli_usage_error("info", "--batch: '%s' is not a positive count", val);
            continue;
        }
        if (cli_operand("info", argv[i], &path, NULL, NULL, 0))
            return CLI_USAGE;
    }
    if (show_ops) {
        if (path)
            return cli_usage_error("info", "--ops lists the registry and takes no MODEL");
        return cli_info_ops(common.json);
    }
    if (!path)
        return cli_usage_error("info", "missing MODEL");
    if (graph_file) {
        int r = cli_graph_check(graph_file);
        if (r)
            return r;
    }

    ortc_model *m = NULL;
    if (ortc_model_load(&m, path))
        return cli_error("%s", ortc_last_error());
    ortc_model_info mi;
    ortc_model_get_info(m, &mi);

    /* operator histogram */
    op_count *hist = calloc(mi.n_nodes + 1, sizeof *hist);
    size_t n_hist = 0;
    for (size_t i = 0; hist && i < mi.n_nodes; i++) {
        const char *op, *dom;
        ortc_model_node(m, i, &op, &dom, NULL);
        size_t k;
        for (k = 0; k < n_hist; k++)
            if (!strcmp(hist[k].op, op) && !strcmp(hist[k].domain, dom))
                break;
        if (k == n_hist)
            hist[n_hist++] = (op_count){op, dom, 0};
        hist[k].count++;
    }
    qsort(hist, n_hist, sizeof *hist, by_count);

    ortc_status sup = ortc_model_check_supported(m);
    char *unsupported = sup ? strdup(ortc_last_error()) : NULL;

    size_t n_in = ortc_model_input_count(m), n_out = ortc_model_output_count(m);
    ortc_value_info *ins = calloc(n_in + 1, sizeof *ins), *outs = calloc(n_out + 1, sizeof *outs);
    ortc_type *in_types = calloc(n_in + 1, sizeof *in_types);
    ortc_type *out_types = calloc(n_out + 1, sizeof *out_types);
    for (size_t i = 0; ins && in_types && i < n_in; i++) {
        ortc_model_input(m, i, &ins[i]);
        ortc_model_input_type(m, i, &in_types[i]);
    }
    for (size_t k = 0; outs && out_types && k < n_out; k++) {
        ortc_model_output(m, k, &outs[k]);
        ortc_model_output_type(m, k, &out_types[k]);
    }

    cJSON *o = common.json ? cJSON_CreateObject() : NULL;
    if (o) {
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddNumberToObject(o, "ir_version", (double)mi.ir_version);
        cJSON_AddStringToObject(o, "producer", mi.producer_name);
        cJSON_AddStringToObject(o, "producer_version", mi.producer_version);
        cJSON_AddStringToObject(o, "graph", mi.graph_name);
        cJSON *ops = cJSON_AddObjectToObject(o, "opsets");
        for (size_t i = 0; i < mi.n_opsets; i++) {
            const char *d;
            int64_t v;
            ortc_model_opset(m, i, &d, &v);
            cJSON_AddNumberToObject(ops, d[0] ? d : "ai.onnx", (double)v);
        }
        for (int io = 0; io < 2; io++) {
            cJSON *arr = cJSON_AddArrayToObject(o, io ? "outputs" : "inputs");
            size_t n = io ? n_out : n_in;
            for (size_t i = 0; i < n; i++) {
                const ortc_value_info *vi = io ? &outs[i] : &ins[i];
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "name", vi->name);
                cJSON_AddStringToObject(e, "type", type_name(io ? out_types[i] : in_types[i]));
                cJSON_AddStringToObject(e, "dtype", ortc_dtype_name(vi->dtype));
                cJSON *sh = cJSON_AddArrayToObject(e, "shape");
                for (int d = 0; d < vi->rank; d++)
                    cJSON_AddItemToArray(
                        sh, vi->dims[d] >= 0
                                ? cJSON_CreateNumber((double)vi->dims[d])
                                : cJSON_CreateString(vi->dim_params[d] ? vi->dim_params[d] : "?"));
                cJSON_AddItemToArray(arr, e);
            }
        }
        cJSON *h = cJSON_AddObjectToObject(o, "operators");
        for (size_t k = 0; k < n_hist; k++)
            cJSON_AddNumberToObject(h, hist[k].op, hist[k].count);
        cJSON_AddNumberToObject(o, "nodes", (double)mi.n_nodes);
        cJSON_AddNumberToObject(o, "parameters", (double)mi.n_parameters);
        cJSON_AddNumberToObject(o, "parameter_bytes", (double)mi.parameter_bytes);
        cJSON_AddNumberToObject(o, "initializers", (double)mi.n_initializers);
        cJSON_AddItemToObject(o, "unsupported",
                              unsupported ? cJSON_CreateString(unsupported) : cJSON_CreateNull());
    } else {
        printf("model      %s\n", path);
        printf("ir         %lld\n", (long long)mi.ir_version);
        printf("producer   %s %s\n", mi.producer_name[0] ? mi.producer_name : "(none)",
               mi.producer_version);
        printf("opsets    ");
        for (size_t i = 0; i < mi.n_opsets; i++) {
            const char *d;
            int64_t v;
            ortc_model_opset(m, i, &d, &v);
            printf(" %s %lld", d[0] ? d : "ai.onnx", (long long)v);
        }
        printf("\n");
        for (int io = 0; io < 2; io++) {
            size_t n = io ? n_out : n_in;
            printf("%s\n", io ? "outputs" : "inputs");
            for (size_t i = 0; i < n; i++) {
                char sh[256];
                const ortc_value_info *vi = io ? &outs[i] : &ins[i];
                ortc_type ty = io ? out_types[i] : in_types[i];
                if (ty == ORTC_TYPE_TENSOR)
                    printf("  %-20s %-8s %s\n", vi->name, ortc_dtype_name(vi->dtype),
                           cli_info_shape_str(sh, sizeof sh, vi));
                else /* the tensors' dtype and shape */
                    printf("  %-20s %s of %s %s\n", vi->name, type_name(ty),
                           ortc_dtype_name(vi->dtype), cli_info_shape_str(sh, sizeof sh, vi));
            }
        }
        printf("operators  %zu nodes:", mi.n_nodes);
        for (size_t k = 0; k < n_hist; k++)
            printf(" %s%s%s %d", hist[k].domain[0] ? hist[k].domain : "",
                   hist[k].domain[0] ? "." : "", hist[k].op, hist[k].count);
        printf("\n");
        printf("parameters %lld (%.1f MiB) in %zu initializers\n", (long long)mi.n_parameters,
               mib((size_t)mi.parameter_bytes), mi.n_initializers);
        printf("unsupported %s\n", unsupported ? unsupported : "none");
    }

    /* memory plan: compile with symbolic dims bound to --batch. The session
     * takes the model; input infos (which point into it) are used first. */
    char plan_note[1024] = "";
    ortc_plan_stats ps;
    bool have_plan = false;
    ortc_session *s = NULL;
    ortc_tensor *t = calloc(n_in + 1, sizeof *t);
    for (size_t i = 0; t && i < n_in; i++) {
        t[i].dtype = ins[i].dtype;
        t[i].rank = ins[i].rank < 0 ? 0 : ins[i].rank;
        for (int d = 0; d < t[i].rank; d++)
            t[i].dims[d] = ins[i].dims[d] >= 0 ? ins[i].dims[d] : batch;
    }
    free(ins);
    free(outs);
    free(in_types);
    free(out_types);
    if (sup) {
        snprintf(plan_note, sizeof plan_note, "not planned: the model uses unsupported operators");
        ortc_model_free(m);
    } else {
        ortc_options opt;
        ortc_options_init(&opt);
        opt.threads = common.threads;
        opt.optimize = !common.no_optimize;
        opt.reference = common.reference;
        opt.precision = common.precision;
        if (show_passes) {
            opt.log = collect_pass_line;
            opt.log_user = &passes;
            opt.log_level = ORTC_LOG_DEBUG;
        } else {
            opt.log = cli_log_stderr; /* warnings (bf16 unavailable, ...) */
        }
        if (ortc_session_create_from_model(&s, m, &opt))
            snprintf(plan_note, sizeof plan_note, "%s", ortc_last_error());
        else if (t && ortc_session_output_shapes(s, t, n_in, NULL, 0) == ORTC_STATUS_OK &&
                 ortc_session_plan_stats(s, &ps) == ORTC_STATUS_OK)
            have_plan = true;
        else
            snprintf(plan_note, sizeof plan_note, "%s", ortc_last_error());
    }
    m = NULL;
    free(t);

    if (o) {
        if (have_plan) {
            cJSON *p = cJSON_AddObjectToObject(o, "memory_plan");
            cJSON_AddNumberToObject(p, "batch", (double)batch);
            cJSON_AddNumberToObject(p, "arena_bytes", (double)ps.arena_bytes);
            cJSON_AddNumberToObject(p, "lower_bound_bytes", (double)ps.lower_bound_bytes);
            cJSON_AddNumberToObject(p, "naive_bytes", (double)ps.naive_bytes);
            cJSON_AddNumberToObject(p, "steps", (double)ps.n_steps);
            cJSON_AddNumberToObject(p, "folded", (double)ps.n_folded);
            cJSON_AddNumberToObject(p, "joined", (double)ps.n_joined_steps);
            cJSON_AddNumberToObject(p, "scratch_bytes", (double)ps.scratch_bytes);
            size_t nb = ortc_session_plan_buffers(s, NULL, 0);
            ortc_plan_buffer_info *bi = calloc(nb + 1, sizeof *bi);
            cJSON *arr = bi ? cJSON_AddArrayToObject(p, "buffers") : NULL;
            for (size_t k = 0; arr && k < ortc_session_plan_buffers(s, bi, nb); k++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "name", bi[k].name);
                cJSON_AddNumberToObject(e, "offset", (double)bi[k].offset);
                cJSON_AddNumberToObject(e, "bytes", (double)bi[k].bytes);
                cJSON_AddNumberToObject(e, "first_step", bi[k].first_step);
                cJSON_AddNumberToObject(e, "last_step", bi[k].last_step);
                cJSON_AddNumberToObject(e, "values", bi[k].n_values);
                cJSON_AddItemToArray(arr, e);
            }
            free(bi);
            cJSON_AddNumberToObject(p, "static_values", (double)ps.n_static_values);
            cJSON_AddNumberToObject(p, "dynamic_values", (double)ps.n_dynamic_values);
            cJSON_AddNumberToObject(p, "deferred_nodes", (double)ps.n_deferred_nodes);
            cJSON *dv = cJSON_AddArrayToObject(p, "not_planned_statically");
            for (size_t i = 0; s && ortc_session_dynamic_value(s, i); i++)
                cJSON_AddItemToArray(dv, cJSON_CreateString(ortc_session_dynamic_value(s, i)));
        } else {
            cJSON_AddStringToObject(o, "memory_plan_error", plan_note);
        }
        if (have_plan)
            precision_json(o, s, common.precision);
        if (show_passes) {
            cJSON *arr = cJSON_AddArrayToObject(o, "passes");
            for (size_t k = 0; k < passes.n; k++)
                cJSON_AddItemToArray(arr, cJSON_CreateString(passes.lines[k]));
        }
        cli_json_print(o);
        cJSON_Delete(o);
    } else if (have_plan) {
        printf("memory plan (symbolic dims = %ld): arena %zu bytes (%.2f MiB), lower bound "
               "%zu bytes (%.2f MiB), naive sum %zu bytes (%.2f MiB)\n",
               batch, ps.arena_bytes, mib(ps.arena_bytes), ps.lower_bound_bytes,
               mib(ps.lower_bound_bytes), ps.naive_bytes, mib(ps.naive_bytes));
        printf("           %zu kernel steps, %zu nodes folded at compile time, scratch %zu "
               "bytes, %zu Concat steps joined in place\n",
               ps.n_steps, ps.n_folded, ps.scratch_bytes, ps.n_joined_steps);
        printf("           values: %zu planned statically, %zu of data-dependent size (the "
               "run's pool), %zu nodes compiled at run time once their shapes are seen",
               ps.n_static_values, ps.n_dynamic_values, ps.n_deferred_nodes);
        if (ortc_session_dynamic_value(s, 0)) {
            printf("\n           not planned statically:");
            size_t i = 0;
            for (const char *nm; i < 12 && (nm = ortc_session_dynamic_value(s, i)); i++)
                printf("%s %s", i ? "," : "", nm);
            if (ortc_session_dynamic_value(s, i))
                printf(", ...");
        }
        printf("\n");
        precision_text(s, common.precision);
    } else {
        printf("memory plan: %s\n", plan_note);
    }
    if (show_passes && !common.json) {
        printf("passes%s\n", passes.n ? "" : "     (none ran: the session was not created)");
        for (size_t k = 0; k < passes.n; k++)
            printf("  %s\n", passes.lines[k]);
    }
    /* pictures of the plan, after the report (which says why there is none) */
    int rc = CLI_OK;
    if ((plan_svg || graph_file) && !have_plan)
        rc = cli_error("%s: no plan to draw: %s", path, plan_note);
    if (!rc && plan_svg)
        rc = cli_plan_svg(s, plan_svg, path, batch);
    if (!rc && graph_file)
        rc = cli_graph(s, graph_file, path);
    for (size_t k = 0; k < passes.n; k++)
        free(passes.lines[k]);
    free(passes.lines);
    ortc_session_destroy(s);
    free(unsupported);
    free(hist);
    return rc;
}
