/* capi_check.c — the C side of the Python binding's checks. `layout` prints
 * sizeof/offsetof of every ortc.h struct the ctypes module mirrors (as JSON,
 * compared by test_abi.py); `names MODEL NAME...` prints what the name and
 * metadata lookups of ortc.h return, so the ASan build exercises them too.
 * Uses the public API only.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ortc/ortc.h"

#define FIELD(T, f)                                                                                \
    printf("%s\"%s\": [%zu, %zu]", first ? "" : ", ", #f, offsetof(T, f), sizeof(((T *)0)->f));    \
    first = 0
#define BEGIN(T)                                                                                   \
    printf("%s\"%s\": {\"sizeof\": %zu, \"fields\": {", n++ ? ",\n" : "", #T, sizeof(T));          \
    first = 1
#define END() printf("}}")

static int layout(void)
{
    int n = 0, first;
    printf("{\n");
    BEGIN(ortc_tensor);
    FIELD(ortc_tensor, dtype);
    FIELD(ortc_tensor, rank);
    FIELD(ortc_tensor, dims);
    FIELD(ortc_tensor, data);
    END();
    BEGIN(ortc_value_info);
    FIELD(ortc_value_info, name);
    FIELD(ortc_value_info, dtype);
    FIELD(ortc_value_info, rank);
    FIELD(ortc_value_info, dims);
    FIELD(ortc_value_info, dim_params);
    END();
    BEGIN(ortc_options);
    FIELD(ortc_options, threads);
    FIELD(ortc_options, reference);
    FIELD(ortc_options, optimize);
    FIELD(ortc_options, max_plans);
    FIELD(ortc_options, max_tensor_bytes);
    FIELD(ortc_options, max_arena_bytes);
    FIELD(ortc_options, max_concurrent_runs);
    FIELD(ortc_options, huge_pages);
    FIELD(ortc_options, log_level);
    FIELD(ortc_options, log);
    FIELD(ortc_options, log_user);
    FIELD(ortc_options, max_loop_iterations);
    FIELD(ortc_options, max_sequence_length);
    FIELD(ortc_options, max_nms_boxes);
    FIELD(ortc_options, max_dynamic_bytes);
    FIELD(ortc_options, precision);
    END();
    BEGIN(ortc_model_info);
    FIELD(ortc_model_info, ir_version);
    FIELD(ortc_model_info, producer_name);
    FIELD(ortc_model_info, producer_version);
    FIELD(ortc_model_info, graph_name);
    FIELD(ortc_model_info, model_version);
    FIELD(ortc_model_info, n_opsets);
    FIELD(ortc_model_info, n_nodes);
    FIELD(ortc_model_info, n_initializers);
    FIELD(ortc_model_info, n_parameters);
    FIELD(ortc_model_info, parameter_bytes);
    FIELD(ortc_model_info, domain);
    FIELD(ortc_model_info, doc_string);
    FIELD(ortc_model_info, graph_doc_string);
    FIELD(ortc_model_info, n_metadata);
    END();
    BEGIN(ortc_plan_stats);
    FIELD(ortc_plan_stats, arena_bytes);
    FIELD(ortc_plan_stats, lower_bound_bytes);
    FIELD(ortc_plan_stats, naive_bytes);
    FIELD(ortc_plan_stats, n_steps);
    FIELD(ortc_plan_stats, n_folded);
    FIELD(ortc_plan_stats, scratch_bytes);
    FIELD(ortc_plan_stats, n_static_values);
    FIELD(ortc_plan_stats, n_dynamic_values);
    FIELD(ortc_plan_stats, n_deferred_nodes);
    FIELD(ortc_plan_stats, n_joined_steps);
    END();
    BEGIN(ortc_any);
    FIELD(ortc_any, type);
    FIELD(ortc_any, tensor);
    FIELD(ortc_any, elem_dtype);
    FIELD(ortc_any, length);
    FIELD(ortc_any, tensors);
    END();
    BEGIN(ortc_profile_entry);
    FIELD(ortc_profile_entry, node_name);
    FIELD(ortc_profile_entry, op_type);
    FIELD(ortc_profile_entry, start_ms);
    FIELD(ortc_profile_entry, ms);
    FIELD(ortc_profile_entry, flops);
    FIELD(ortc_profile_entry, n_inputs);
    FIELD(ortc_profile_entry, n_outputs);
    FIELD(ortc_profile_entry, inputs);
    FIELD(ortc_profile_entry, outputs);
    FIELD(ortc_profile_entry, impl);
    FIELD(ortc_profile_entry, precision);
    END();
    printf("\n}\n");
    return 0;
}

/* One line per lookup: "input NAME -> INDEX" or "input NAME: STATUS: message". */
static int names(const char *model, int argc, char **argv)
{
    ortc_session *s = NULL;
    if (ortc_session_create(&s, model, NULL) != ORTC_STATUS_OK) {
        fprintf(stderr, "capi_check: %s\n", ortc_last_error());
        return 1;
    }
    printf("version %s (header %s)\n", ortc_version(), ORTC_VERSION_STRING);
    for (int i = 0; i < argc; i++)
        for (int io = 0; io < 2; io++) {
            size_t idx = 0;
            ortc_status st = io ? ortc_session_output_index(s, argv[i], &idx)
                                : ortc_session_input_index(s, argv[i], &idx);
            if (st)
                printf("%s %s: %s: %s\n", io ? "output" : "input", argv[i], ortc_status_name(st),
                       ortc_last_error());
            else
                printf("%s %s -> %zu\n", io ? "output" : "input", argv[i], idx);
        }
    const ortc_model *m = ortc_session_model(s);
    ortc_model_info info;
    ortc_model_get_info(m, &info);
    printf("domain '%s'\ndoc '%s'\ngraph_doc '%s'\nmetadata %zu\n", info.domain, info.doc_string,
           info.graph_doc_string, info.n_metadata);
    for (size_t i = 0; i <= info.n_metadata; i++) { /* one past the end: the range check */
        const char *k = NULL, *v = NULL;
        ortc_status st = ortc_model_metadata(m, i, &k, &v);
        if (st)
            printf("metadata %zu: %s: %s\n", i, ortc_status_name(st), ortc_last_error());
        else
            printf("metadata %zu: '%s' = '%s'\n", i, k, v);
    }
    ortc_session_destroy(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "layout"))
        return layout();
    if (argc >= 3 && !strcmp(argv[1], "names"))
        return names(argv[2], argc - 3, argv + 3);
    fprintf(stderr, "usage: capi_check layout | names MODEL NAME...\n");
    return 2;
}
