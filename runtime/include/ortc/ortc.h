/* ortc.h — the public C API of libortc, an ONNX inference runtime.
 * This is the only installed header: handles are opaque, tensors are plain
 * structs the caller owns. Nothing here prints, exits or keeps caller memory.
 *
 * Usage:
 *
 *   ortc_options opt;
 *   ortc_options_init(&opt);                  // threads = cores, logging off
 *   ortc_session *s = NULL;
 *   if (ortc_session_create(&s, "alexnet.onnx", &opt) != ORTC_STATUS_OK) {
 *       fprintf(stderr, "ortc: %s\n", ortc_last_error());
 *       return 1;
 *   }
 *   ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 3, 224, 224}, pixels};
 *   ortc_tensor out = {0};
 *   ortc_session_output_shapes(s, &in, 1, &out, 1);  // dtype, rank, dims
 *   out.data = malloc(ortc_tensor_bytes(&out));
 *   if (ortc_session_run(s, &in, 1, &out, 1) != ORTC_STATUS_OK) ...
 *   ortc_session_destroy(s);
 */
#ifndef ORTC_H
#define ORTC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORTC_VERSION_STRING "0.1.0"

#if defined(ORTC_BUILDING) && defined(__GNUC__)
#define ORTC_API __attribute__((visibility("default")))
#else
#define ORTC_API
#endif

/* Tensors of higher rank are refused with ORTC_STATUS_UNSUPPORTED. */
#define ORTC_MAX_RANK 8

/* Limits (see README "Limits"; `ortc info --limits`). The model-file ones
 * are fixed; the memory ones are defaults of ortc_options. */
#define ORTC_MAX_MODEL_BYTES 2147483647ll /* protobuf's 2 GB message limit */
#define ORTC_MAX_NODES 1000000            /* per model, subgraphs included */
#define ORTC_MAX_SUBGRAPH_DEPTH 32        /* If inside If ... */
#define ORTC_MAX_ATTR_BYTES (64ll << 20)  /* one string/list attribute */
#define ORTC_DEFAULT_MAX_TENSOR_BYTES (8ull << 30)
#define ORTC_DEFAULT_MAX_ARENA_BYTES (16ull << 30)
#define ORTC_DEFAULT_CONCURRENT_RUNS 4 /* ortc_options.max_concurrent_runs */
#define ORTC_MAX_CONCURRENT_RUNS 8
/* Limits on what only a run reveals (values whose size depends on data);
 * defaults of ortc_options. */
#define ORTC_DEFAULT_MAX_LOOP_ITERATIONS 1000000ll  /* one Loop node's trips in one run */
#define ORTC_DEFAULT_MAX_SEQUENCE_LENGTH 1000000ll  /* tensors in one sequence */
#define ORTC_DEFAULT_MAX_NMS_BOXES 65536ll          /* NonMaxSuppression boxes per batch item */
#define ORTC_DEFAULT_MAX_DYNAMIC_BYTES (4ull << 30) /* a run's values of data-dependent size */

typedef enum ortc_status {
    ORTC_STATUS_OK = 0,
    ORTC_STATUS_INVALID_ARGUMENT, /* the caller passed something wrong */
    ORTC_STATUS_IO_ERROR,         /* a file is missing or unreadable */
    ORTC_STATUS_INVALID_MODEL,    /* malformed file or inconsistent graph */
    ORTC_STATUS_UNSUPPORTED,      /* valid ONNX that ortc does not implement */
    ORTC_STATUS_OUT_OF_MEMORY,
    ORTC_STATUS_LIMIT_EXCEEDED, /* a size or count above a documented limit */
    ORTC_STATUS_RUNTIME_ERROR   /* a kernel or the backend failed */
} ortc_status;

/* Element types; the numbers are ONNX's TensorProto.DataType. */
typedef enum ortc_dtype {
    ORTC_DTYPE_UNDEFINED = 0,
    ORTC_DTYPE_FLOAT = 1,
    ORTC_DTYPE_UINT8 = 2,
    ORTC_DTYPE_INT8 = 3,
    ORTC_DTYPE_UINT16 = 4,
    ORTC_DTYPE_INT16 = 5,
    ORTC_DTYPE_INT32 = 6,
    ORTC_DTYPE_INT64 = 7,
    ORTC_DTYPE_STRING = 8, /* data is an array of char* (NUL-terminated) */
    ORTC_DTYPE_BOOL = 9,   /* one byte per element, 0 or 1 */
    ORTC_DTYPE_FLOAT16 = 10,
    ORTC_DTYPE_DOUBLE = 11,
    ORTC_DTYPE_UINT32 = 12,
    ORTC_DTYPE_UINT64 = 13,
    ORTC_DTYPE_COMPLEX64 = 14,
    ORTC_DTYPE_COMPLEX128 = 15,
    ORTC_DTYPE_BFLOAT16 = 16
} ortc_dtype;

/* A dense, row-major tensor. It never owns `data`: whoever set the pointer
 * keeps the memory alive and frees it. */
typedef struct ortc_tensor {
    ortc_dtype dtype;
    int rank; /* 0 for a scalar */
    int64_t dims[ORTC_MAX_RANK];
    void *data;
} ortc_tensor;

/* What a graph input or output is. ONNX values are tensors, sequences of
 * tensors (one element type; each tensor has its own shape) and optionals
 * of either (a value, or nothing). Models with only tensors use
 * ortc_session_run; the others ortc_session_run_any. */
typedef enum ortc_type {
    ORTC_TYPE_TENSOR = 0,
    ORTC_TYPE_SEQUENCE = 1,
    ORTC_TYPE_OPTIONAL_TENSOR = 2,
    ORTC_TYPE_OPTIONAL_SEQUENCE = 3,
    ORTC_TYPE_NONE = 4 /* only in ortc_any: an optional holding nothing */
} ortc_type;

/* A value of any type (ortc_session_run_any): a tensor, a sequence of
 * tensors, or an optional's nothing. Like ortc_tensor it owns nothing by
 * itself; what ortc_session_run_any and ortc_any_read_pb fill in is the
 * caller's to release with ortc_any_release. */
typedef struct ortc_any {
    ortc_type type;     /* TENSOR, SEQUENCE or NONE */
    ortc_tensor tensor; /* TENSOR */
    /* SEQUENCE: `length` tensors of element type `elem_dtype` (also set
     * for an empty sequence) */
    ortc_dtype elem_dtype;
    size_t length;
    ortc_tensor *tensors;
} ortc_any;

/* The library's version, ORTC_VERSION_STRING of the header it was built
 * with (a program can compare the two). */
ORTC_API const char *ortc_version(void);

/* Bytes per element (0 for UNDEFINED, sizeof(char*) for STRING). */
ORTC_API size_t ortc_dtype_size(ortc_dtype dtype);
/* "float32", "int64", ... ; "undefined" for unknown values. */
ORTC_API const char *ortc_dtype_name(ortc_dtype dtype);
/* Element count (1 for a scalar); -1 if a dim is negative or it overflows. */
ORTC_API int64_t ortc_tensor_numel(const ortc_tensor *t);
/* numel * element size; 0 when numel is invalid. */
ORTC_API size_t ortc_tensor_bytes(const ortc_tensor *t);
/* "OK", "INVALID_ARGUMENT", ... */
ORTC_API const char *ortc_status_name(ortc_status status);

/* The message of the last failed ortc call on this thread ("" if none).
 * Valid until the next ortc call on this thread. */
ORTC_API const char *ortc_last_error(void);

/* ---- tensor files ------------------------------------------------------ */

/* Reads a serialized ONNX TensorProto (a backend test's input_0.pb, say).
 * On success t->data is malloc'd and belongs to the caller: release it with
 * ortc_tensor_release. `name` may be NULL; else it receives the tensor's
 * name (malloc'd, "" when absent; free() it). Raw and typed fields and all
 * numeric dtypes, bool and string are read; external data is refused. */
ORTC_API ortc_status ortc_tensor_parse_pb(const void *data, size_t size, ortc_tensor *t,
                                          char **name);
ORTC_API ortc_status ortc_tensor_read_pb(const char *path, ortc_tensor *t, char **name);
/* Frees data set by the readers above (for STRING also every string) and
 * zeroes t. NULL or a zeroed tensor is a no-op. */
ORTC_API void ortc_tensor_release(ortc_tensor *t);
/* Reads a serialized TensorProto (type TENSOR), SequenceProto (SEQUENCE)
 * or OptionalProto (OPTIONAL_TENSOR, OPTIONAL_SEQUENCE; an empty one gives
 * type NONE), as a model input or output of that type is stored in ONNX's
 * backend tests. v and `name` as for ortc_tensor_read_pb; release v with
 * ortc_any_release. */
ORTC_API ortc_status ortc_any_read_pb(const char *path, ortc_type type, ortc_any *v, char **name);
/* Frees what ortc_any_read_pb or ortc_session_run_any put in v (tensor
 * data, a sequence's tensors and their data) and zeroes v. */
ORTC_API void ortc_any_release(ortc_any *v);

typedef enum ortc_log_level {
    ORTC_LOG_ERROR = 0,
    ORTC_LOG_WARNING = 1,
    ORTC_LOG_INFO = 2,
    ORTC_LOG_DEBUG = 3
} ortc_log_level;

typedef void (*ortc_log_fn)(void *user, ortc_log_level level, const char *message);

/* What the heavy operators compute in (ortc_options.precision). */
typedef enum ortc_precision {
    ORTC_PRECISION_FP32 = 0, /* float32 throughout (the default and the reference) */
    /* Conv, ConvTranspose, Gemm and MatMul read their inputs and weights as
     * bfloat16 (weights converted once at session creation) and accumulate
     * and write float32; every other op, and the graph's inputs and
     * outputs, stay float32. Needs a CPU with AVX-512 BF16 (or AMX): where
     * oneDNN cannot use it, the session logs a warning once and runs fp32.
     * Ignored with `reference`. Results differ from fp32 by bfloat16's
     * rounding (8 significant bits: about 2-3 decimal digits). */
    ORTC_PRECISION_BF16 = 1
} ortc_precision;

typedef struct ortc_options {
    int threads;   /* kernel threads; 0 = number of cores */
    int reference; /* 1: plain-C reference kernels (debugging, slow) */
    int optimize;  /* 1: graph passes (default 1) */
    int max_plans; /* compiled input-shape plans kept (default 8) */
    /* Memory limits, checked before anything is allocated (0: the default).
     * A model whose shapes need more is refused with LIMIT_EXCEEDED. */
    size_t max_tensor_bytes; /* one computed tensor (default ORTC_DEFAULT_MAX_TENSOR_BYTES) */
    size_t max_arena_bytes;  /* a plan's activations + scratch (ORTC_DEFAULT_MAX_ARENA_BYTES) */
    /* ortc_session_run may be called from several threads at once; each
     * concurrent run gets its own activations (arena) from a pool of up to
     * this many per input shape (default ORTC_DEFAULT_CONCURRENT_RUNS, at
     * most ORTC_MAX_CONCURRENT_RUNS); more callers wait for a free one. */
    int max_concurrent_runs;
    /* 1: at session creation, move the model's weight tensors of 2 MB and
     * more onto transparent huge pages (Linux madvise MADV_COLLAPSE; advice
     * only, ignored where unsupported). Batch-1 fully connected layers then
     * stream their weights a few percent faster, but fresh huge pages can
     * cost tenths of a second to fault in: for long-running processes, not
     * one-shot runs (default 0). */
    int huge_pages;
    ortc_log_level log_level;
    ortc_log_fn log; /* NULL: no logging */
    void *log_user;
    /* Limits on what only a run reveals (0: the default). A run that would
     * pass one fails with LIMIT_EXCEEDED naming the node and the limit. */
    int64_t max_loop_iterations; /* trips of one Loop node in one run
                                    (ORTC_DEFAULT_MAX_LOOP_ITERATIONS) */
    int64_t max_sequence_length; /* tensors in one sequence value
                                    (ORTC_DEFAULT_MAX_SEQUENCE_LENGTH) */
    int64_t max_nms_boxes;       /* NonMaxSuppression input boxes per batch
                                    item (ORTC_DEFAULT_MAX_NMS_BOXES) */
    size_t max_dynamic_bytes;    /* all values of data-dependent size one run
                                    holds (ORTC_DEFAULT_MAX_DYNAMIC_BYTES) */
    /* ortc_precision of the heavy operators (default 0: ORTC_PRECISION_FP32).
     * Last so the fields above keep their offsets. */
    int precision;
} ortc_options;

/* Fills defaults. Always call before setting fields. */
ORTC_API void ortc_options_init(ortc_options *opts);
/* 1 when sessions asking for `precision` (ortc_precision) compute in it on
 * this machine (BF16: oneDNN can use AVX-512 BF16 or AMX here), else 0. */
ORTC_API int ortc_precision_available(int precision);

/* ---- models: load and inspect without compiling ---------------------- */

typedef struct ortc_model ortc_model;

/* Loads an .onnx file (external data is resolved relative to its folder).
 * On success *out owns the model; free it with ortc_model_free. On failure
 * *out is NULL and ortc_last_error() says what and where. */
ORTC_API ortc_status ortc_model_load(ortc_model **out, const char *path);
/* Same from memory; `base_dir` (may be NULL: external data refused) is used
 * for external data. The buffer is not kept. */
ORTC_API ortc_status ortc_model_load_buffer(ortc_model **out, const void *data, size_t size,
                                            const char *base_dir);
ORTC_API void ortc_model_free(ortc_model *model); /* NULL is a no-op */

typedef struct ortc_model_info {
    int64_t ir_version;
    const char *producer_name; /* "" when absent */
    const char *producer_version;
    const char *graph_name;
    int64_t model_version;
    size_t n_opsets;
    size_t n_nodes; /* top-level graph */
    size_t n_initializers;
    int64_t n_parameters; /* elements of all constants */
    int64_t parameter_bytes;
    const char *domain;           /* ModelProto.domain ("" when absent) */
    const char *doc_string;       /* ModelProto.doc_string */
    const char *graph_doc_string; /* GraphProto.doc_string of the main graph */
    size_t n_metadata;            /* metadata_props entries (ortc_model_metadata) */
} ortc_model_info;

/* Strings point into the model and live as long as it. */
ORTC_API void ortc_model_get_info(const ortc_model *model, ortc_model_info *info);
/* Entry i (0 <= i < n_metadata) of the model's metadata_props, in file
 * order: key and value point into the model. INVALID_ARGUMENT when i is out
 * of range. */
ORTC_API ortc_status ortc_model_metadata(const ortc_model *model, size_t i, const char **key,
                                         const char **value);
/* Opset import i: domain ("" is ai.onnx) and version. */
ORTC_API ortc_status ortc_model_opset(const ortc_model *model, size_t i, const char **domain,
                                      int64_t *version);
/* The type of graph input (output) i: TENSOR, SEQUENCE, OPTIONAL_TENSOR
 * or OPTIONAL_SEQUENCE. For a sequence or optional, ortc_model_input's
 * dtype, rank and dims describe its tensors where the file declares them. */
ORTC_API ortc_status ortc_model_input_type(const ortc_model *model, size_t i, ortc_type *type);
ORTC_API ortc_status ortc_model_output_type(const ortc_model *model, size_t i, ortc_type *type);
/* Top-level node i in execution order: op type, domain and name. */
ORTC_API ortc_status ortc_model_node(const ortc_model *model, size_t i, const char **op_type,
                                     const char **domain, const char **name);

/* Graph inputs (initializers excluded) and outputs. Dims are -1 when
 * unknown or symbolic; dim_params[k] names a symbolic dim (else NULL). */
typedef struct ortc_value_info {
    const char *name;
    ortc_dtype dtype;
    int rank; /* -1 when unknown */
    int64_t dims[ORTC_MAX_RANK];
    const char *dim_params[ORTC_MAX_RANK];
} ortc_value_info;

ORTC_API size_t ortc_model_input_count(const ortc_model *model);
ORTC_API size_t ortc_model_output_count(const ortc_model *model);
ORTC_API ortc_status ortc_model_input(const ortc_model *model, size_t i, ortc_value_info *info);
ORTC_API ortc_status ortc_model_output(const ortc_model *model, size_t i, ortc_value_info *info);

/* Checks every node against the operator registry. Returns OK when all are
 * supported; otherwise UNSUPPORTED with every (op, domain, opset, node)
 * listed in ortc_last_error(), one per line. */
ORTC_API ortc_status ortc_model_check_supported(const ortc_model *model);

/* One node without an operator (from ortc_model_unsupported). */
typedef struct ortc_unsupported {
    const char *op_type;
    const char *domain; /* "" is ai.onnx */
    const char *node_name;
    int opset; /* the model's opset for the domain; -1 if not imported */
} ortc_unsupported;

/* Every node, subgraphs included, that no registered operator implements at
 * the model's opset. Writes up to `max` entries (strings live as long as the
 * model) and returns the total count. */
ORTC_API size_t ortc_model_unsupported(const ortc_model *model, ortc_unsupported *out, size_t max);

/* ---- operators: what this build implements ------------------------------ */

/* The most ONNX versions one registry entry lists. */
#define ORTC_MAX_OP_VERSIONS 8

/* One entry of the operator registry: an operator (domain, op type) and
 * the range of its ONNX versions that one implementation serves. An
 * operator may have several entries (where the implementation or its facts
 * change between versions); their ranges never overlap. A node resolves to
 * the entry with the highest since_version not above the model's opset for
 * the domain (so the newest entry also serves later opsets). */
typedef struct ortc_operator_info {
    const char *domain; /* "" is ai.onnx */
    const char *op_type;
    int since_version, until_version;   /* ONNX versions implemented, inclusive */
    int n_versions;                     /* the ONNX since-versions in that range */
    int versions[ORTC_MAX_OP_VERSIONS]; /* (where the spec changed), ascending */
    /* Element types of the op's data (ONNX's type constraint T: input 0 and
     * the inputs sharing its type; for Constant, its output): bit d set for
     * each accepted ortc_dtype d, i.e. dtypes & (1u << ORTC_DTYPE_FLOAT). */
    uint32_t dtypes;
    int onednn;          /* 1: runs on oneDNN where it can and has a plain-C
                            reference kernel (ortc_options.reference); 0: plain C */
    int fusable;         /* 1: element-wise followers fuse into it as post-ops */
    int accepts_blocked; /* 1: takes oneDNN's blocked layouts on its inputs */
    /* Output 0 aliases an input: 0 never, 1 always, 2 when the node's shapes
     * and attributes allow (decided when compiling). A view reinterprets the
     * input's bytes with another shape; in-place overwrites an input that
     * dies at the node. */
    int view, inplace;
    int shape_only;       /* 1: reads only its inputs' shapes (Shape, Size) */
    int no_fold;          /* 1: never evaluated at compile time */
    int control_flow;     /* 1: runs subgraphs (If) */
    uint32_t data_inputs; /* bit i: input i's values are needed when compiling */
    int flops;            /* 1: its profile entries count floating-point operations */
} ortc_operator_info;

/* Number of registry entries (not operators: one operator may have several). */
ORTC_API size_t ortc_operator_count(void);
/* Fills *info with entry i (in registry order, grouped by operator family;
 * sort for display). Strings are static: valid for the life of the process.
 * INVALID_ARGUMENT when info is NULL or i >= ortc_operator_count(). */
ORTC_API ortc_status ortc_operator_get(size_t i, ortc_operator_info *info);

/* ---- sessions: compile and run ---------------------------------------- */

typedef struct ortc_session ortc_session;

/* Loads, validates and prepares a model. opts may be NULL (defaults).
 * Fails before any run when an op is unsupported, naming all of them. */
ORTC_API ortc_status ortc_session_create(ortc_session **out, const char *path,
                                         const ortc_options *opts);
ORTC_API ortc_status ortc_session_create_from_buffer(ortc_session **out, const void *data,
                                                     size_t size, const char *base_dir,
                                                     const ortc_options *opts);
/* Takes ownership of `model` whether or not it succeeds. */
ORTC_API ortc_status ortc_session_create_from_model(ortc_session **out, ortc_model *model,
                                                    const ortc_options *opts);
ORTC_API void ortc_session_destroy(ortc_session *session); /* NULL is a no-op */

/* The model the session runs (owned by the session). */
ORTC_API const ortc_model *ortc_session_model(const ortc_session *session);

/* Input and output metadata (same as ortc_model_input/output). */
ORTC_API size_t ortc_session_input_count(const ortc_session *session);
ORTC_API size_t ortc_session_output_count(const ortc_session *session);
ORTC_API ortc_status ortc_session_input_info(const ortc_session *session, size_t i,
                                             ortc_value_info *info);
ORTC_API ortc_status ortc_session_output_info(const ortc_session *session, size_t i,
                                              ortc_value_info *info);

/* Position of the graph input (initializers excluded) or output called
 * `name` in *index. INVALID_ARGUMENT, with a message listing the model's
 * input (output) names, when there is none. */
ORTC_API ortc_status ortc_session_input_index(const ortc_session *session, const char *name,
                                              size_t *index);
ORTC_API ortc_status ortc_session_output_index(const ortc_session *session, const char *name,
                                               size_t *index);

/* Compiles (or finds the cached plan) for these inputs and fills dtype, rank
 * and dims of every output; output data pointers are not touched. Inputs are
 * in graph-input order; only their dtype and shape are read, except small
 * integer inputs whose values determine shapes (Reshape's shape, say). An
 * output whose shape depends on the inputs' values (NonZero's, a Loop's
 * scan outputs, ...) has dims -1 where they are unknown (rank -1 when the
 * rank is): see ortc_session_run. */
ORTC_API ortc_status ortc_session_output_shapes(ortc_session *session, const ortc_tensor *inputs,
                                                size_t n_inputs, ortc_tensor *outputs,
                                                size_t n_outputs);

/* Runs a model whose inputs and outputs are tensors. `outputs[i].data` must
 * point to caller memory of ortc_tensor_bytes() for the shape
 * ortc_session_output_shapes reports; dtype, rank and dims are filled in.
 * An output whose shape depends on data (reported with unknown dims) must
 * be passed with data NULL: the run sets its dims and a malloc'd buffer the
 * caller frees with ortc_tensor_release (or free()). After the first run at
 * a given input shape this performs no heap allocation (a concurrent run's
 * first use of a new context allocates that context's arena once), unless
 * the model has values of data-dependent size: then see README "Values
 * whose size is known only at run time" for what a run allocates.
 * Alignment: tensors whose data is 64-byte aligned are read and written in
 * place; any other (malloc's 16 bytes, say) is copied through an aligned
 * buffer the session keeps (a copy per run; the first such run allocates
 * it), because some oneDNN kernels need the alignment.
 * Thread-safe: several threads may run one session at once (weights, plans
 * and kernels are shared; each concurrent run has its own activations). On
 * failure read the message with ortc_last_error(), which is per thread;
 * ortc_session_last_error() holds whichever call failed last (a whole
 * message, never one half-written by a concurrent failure).
 * STRING outputs get char* into the inputs, the model or the session (the
 * strings an operator makes: StringNormalizer's, Cast's): valid until the
 * session's next run, on any thread, or its destruction; copy what you keep
 * (an output of data-dependent size, allocated by the run, holds malloc'd
 * copies that ortc_tensor_release frees). */
ORTC_API ortc_status ortc_session_run(ortc_session *session, const ortc_tensor *inputs,
                                      size_t n_inputs, ortc_tensor *outputs, size_t n_outputs);

/* Runs a model with inputs and outputs of any type (ortc_model_input_type):
 * inputs[i] is a TENSOR, a SEQUENCE, or NONE for an optional holding
 * nothing; the caller keeps owning them. Every output is set by the run —
 * type, shape and malloc'd data (a sequence's tensors array and each
 * tensor's data) — and is the caller's to free with ortc_any_release, also
 * when the run fails (outputs are then zeroed). Same threading as
 * ortc_session_run. */
ORTC_API ortc_status ortc_session_run_any(ortc_session *session, const ortc_any *inputs,
                                          size_t n_inputs, ortc_any *outputs, size_t n_outputs);

/* The memory plan of the plan last compiled (or run). */
typedef struct ortc_plan_stats {
    size_t arena_bytes;       /* size of the activation arena */
    size_t lower_bound_bytes; /* max over steps of the bytes alive at once */
    size_t naive_bytes;       /* sum of all intermediates, no reuse */
    size_t n_steps;           /* kernels executed per run */
    size_t n_folded;          /* nodes evaluated once at compile time */
    size_t scratch_bytes;     /* kernel scratch, shared by all steps */
    /* Values whose size is known only at run time (README "Values whose
     * size is known only at run time"): intermediates planned statically
     * (in the arena or in caller memory), those of data-dependent size
     * (sequences, optionals, NonZero's output, ...: allocated in the run's
     * pool), and the nodes after them compiled at run time, once per shape
     * seen (continuations; their values are planned then). All 0 but the
     * first for a fully static model. */
    size_t n_static_values;
    size_t n_dynamic_values;
    size_t n_deferred_nodes;
    /* Concat steps not run: their inputs' producers write straight into
     * their slices of its output (counted in n_steps all the same). */
    size_t n_joined_steps;
} ortc_plan_stats;

ORTC_API ortc_status ortc_session_plan_stats(const ortc_session *session, ortc_plan_stats *stats);
/* Name of the i-th value (0-based) of the last compiled plan that is not
 * planned statically: a value of data-dependent size, or one computed by a
 * node deferred to run time. NULL past the last. Points into the model. */
ORTC_API const char *ortc_session_dynamic_value(const ortc_session *session, size_t i);

/* The plan last compiled, piece by piece (for pictures: `ortc info
 * --plan-svg`, `--graph`). Strings point into the session: valid until
 * ortc_session_destroy. */

/* One buffer of the activation arena: bytes [offset, offset + bytes) are in
 * use from first_step (which writes them) to last_step (the last step that
 * reads them, directly or through a view); two buffers whose step intervals
 * intersect never overlap in the arena. */
typedef struct ortc_plan_buffer_info {
    const char *name; /* the value it was made for */
    size_t offset, bytes;
    int first_step, last_step;
    int n_values; /* values held: 1 + views and in-place outputs of it */
} ortc_plan_buffer_info;

/* Writes up to `max` buffers (by first step) to `out` (may be NULL when max
 * is 0); returns the total count, 0 when no plan was compiled. */
ORTC_API size_t ortc_session_plan_buffers(const ortc_session *session, ortc_plan_buffer_info *out,
                                          size_t max);

/* Step i of the plan (0 <= i < ortc_plan_stats.n_steps), as it runs: after
 * the graph passes, with the element-wise followers fused into it. */
typedef struct ortc_plan_step_info {
    const char *node_name; /* "" for an unnamed node */
    const char *op_type;
    const char *domain; /* "" is ai.onnx */
    char post_ops[192]; /* fused followers in order, ", "-separated ("" none) */
    int n_inputs, n_outputs;
    int view;      /* 1: its outputs are views of its inputs: nothing runs */
    int reference; /* 1: runs its plain-C reference kernel */
    /* What the step computes in: "bf16" (bfloat16 inputs and weights, fp32
     * accumulation and output: ortc_options.precision), else "fp32" for
     * float32 outputs, or the element type of output 0 ("int64", ...). */
    const char *precision;
} ortc_plan_step_info;

ORTC_API ortc_status ortc_session_plan_step(const ortc_session *session, size_t i,
                                            ortc_plan_step_info *info);

/* Where a value of the plan lives. */
typedef enum ortc_plan_place {
    ORTC_PLACE_NONE = 0, /* omitted optional slot, or never materialised */
    ORTC_PLACE_CONSTANT, /* initializer, constant or folded at compile time */
    ORTC_PLACE_ARENA,    /* activation in the arena at `offset` */
    ORTC_PLACE_INPUT,    /* the caller's input */
    ORTC_PLACE_OUTPUT,   /* the caller's output */
    ORTC_PLACE_OUTER,    /* a value of an enclosing graph */
    ORTC_PLACE_DYNAMIC   /* shape known only at run time: allocated by its step, or computed
                          * by a plan continued at run time (not in the static arena) */
} ortc_plan_place;

typedef struct ortc_plan_value_info {
    const char *name; /* "" for an omitted optional slot */
    ortc_dtype dtype;
    int rank; /* the logical ONNX shape, whatever the layout */
    int64_t dims[ORTC_MAX_RANK];
    char layout[48]; /* "plain", or the blocked layout the producer chose in
                        oneDNN's notation ("aBcd16b": dim b blocked by 16),
                        then " bf16" when it holds bfloat16 (bf16 mode) */
    ortc_plan_place place;
    size_t offset; /* ORTC_PLACE_ARENA: bytes from the arena's start */
    size_t bytes;  /* storage in that layout */
} ortc_plan_value_info;

/* Input (output = 0) or output (output = 1) slot k of step i. */
ORTC_API ortc_status ortc_session_plan_step_value(const ortc_session *session, size_t i, int output,
                                                  size_t k, ortc_plan_value_info *info);

/* ---- profiling ---------------------------------------------------------- */

/* One executed step of a profiled run. Strings and tensors point into the
 * session's compiled plan: valid until the next run, a new input shape or
 * ortc_session_destroy. inputs[i] / outputs[k] are NULL for omitted optional
 * slots; their dims are the logical ONNX shapes whatever layout the kernel
 * uses inside. */
typedef struct ortc_profile_entry {
    const char *node_name; /* "" for an unnamed node */
    const char *op_type;
    double start_ms; /* since the start of the run */
    double ms;       /* wall time of the step (0 for pure views) */
    double flops;    /* floating-point operations (2 x multiply-adds) of ops
                        that count them (ortc_operator_info.flops: Conv,
                        ConvTranspose, Gemm, MatMul); else 0 */
    int n_inputs, n_outputs;
    const ortc_tensor *const *inputs;
    const ortc_tensor *const *outputs;
    /* The kernel the step ran: oneDNN's implementation name
     * ("brgconv:avx512_core", "jit:uni", "ref:any", ...; reorders around
     * it not named) or "ortc:<kernel>" for this project's own ("ortc:c"
     * for plain C, "ortc:reference" for a reference kernel). */
    const char *impl;
    const char *precision; /* as ortc_plan_step_info.precision: "bf16", "fp32", ... */
} ortc_profile_entry;

/* Turns per-step timing of ortc_session_run on (1) or off (0). Off costs
 * nothing; on adds two clock reads per step. Enabling reserves room for the
 * plans compiled so far (later plans reserve theirs when compiled), so
 * profiled runs still allocate nothing. */
ORTC_API ortc_status ortc_session_set_profiling(ortc_session *session, int enable);

/* The steps of the last run, if it was profiled, in execution order (an If
 * node and the branch it ran are one entry). Writes up to `max` entries to
 * `out` (may be NULL when max is 0) and returns the total count; 0 when the
 * last run was not profiled. */
ORTC_API size_t ortc_session_profile(const ortc_session *session, ortc_profile_entry *out,
                                     size_t max);

/* Message of the last failed call on this session; every call clears it
 * as it starts ("" when none failed since). Safe while other threads run
 * the session: the message is copied under the session's lock into a
 * buffer of the calling thread, valid until that thread calls this again. */
ORTC_API const char *ortc_session_last_error(const ortc_session *session);

/* ---- static post-training quantization (`ortc quantize`) ---------------- */

/* Writes a model as an .onnx file (weights inline). Models a session has
 * optimized cannot be written (ortc_session_model's); loaded ones can. */
ORTC_API ortc_status ortc_model_save(const ortc_model *model, const char *path);

/* How activation ranges are taken from the calibration values. */
typedef enum ortc_calib_method {
    ORTC_CALIB_MINMAX = 0,     /* the smallest and largest value seen */
    ORTC_CALIB_PERCENTILE = 1, /* |x| clipped at a percentile of its histogram */
    ORTC_CALIB_ENTROPY = 2     /* |x| clipped where the KL divergence between the
                                  histogram and its quantized form is least */
} ortc_calib_method;

typedef struct ortc_quantize_options {
    int method;                 /* ortc_calib_method (default MINMAX) */
    double percentile;          /* PERCENTILE: in (0, 100] (default 99.99) */
    ortc_dtype activations;     /* UINT8 (default) or INT8, both asymmetric */
    const char *const *exclude; /* names of nodes kept in float32 */
    size_t n_exclude;
    int threads; /* kernel threads of the calibration runs; 0 = all cores */
} ortc_quantize_options;

ORTC_API void ortc_quantize_options_init(ortc_quantize_options *opts);

/* Static post-training quantization to the QDQ format: every Conv, Gemm
 * and MatMul with constant float32 weights (not excluded) reads its
 * activation input through QuantizeLinear -> DequantizeLinear (per-tensor
 * parameters from the calibration ranges), its weights as int8 symmetric
 * per output channel through DequantizeLinear, and its 1-D bias as int32
 * (scale input scale x weight scale) through DequantizeLinear.
 * Use: create, calibrate (any number of times), quantize, then save and
 * optionally evaluate (any number of times) and read the layers. */
typedef struct ortc_quantizer ortc_quantizer;

/* Loads the float32 model at `path`. Fails naming the node for an
 * --exclude name the model lacks, and when no node is left to quantize.
 * opts may be NULL (defaults). */
ORTC_API ortc_status ortc_quantizer_create(ortc_quantizer **out, const char *path,
                                           const ortc_quantize_options *opts);
ORTC_API void ortc_quantizer_free(ortc_quantizer *q); /* NULL is a no-op */
/* The float32 model as loaded (its inputs say what to feed). */
ORTC_API const ortc_model *ortc_quantizer_model(const ortc_quantizer *q);
/* Runs the float32 model on one batch of inputs (graph-input order) and
 * adds the activation values seen to the ranges. */
ORTC_API ortc_status ortc_quantizer_calibrate(ortc_quantizer *q, const ortc_tensor *inputs,
                                              size_t n_inputs);
/* Fixes the quantization parameters from the ranges and builds the QDQ
 * model (needs at least one calibrate). */
ORTC_API ortc_status ortc_quantizer_quantize(ortc_quantizer *q);
/* Writes the QDQ model (after quantize). */
ORTC_API ortc_status ortc_quantizer_save(const ortc_quantizer *q, const char *path);
/* Runs the float32 and the QDQ model (as ortc runs it: int8 where the
 * passes can) on one batch and adds each layer's output error. */
ORTC_API ortc_status ortc_quantizer_evaluate(ortc_quantizer *q, const ortc_tensor *inputs,
                                             size_t n_inputs);

typedef struct ortc_quant_layer {
    const char *node;           /* the node's name ("" when unnamed) */
    const char *op_type;        /* Conv, Gemm or MatMul */
    const char *input;          /* its activation input */
    float input_scale;          /* that input's quantization parameters */
    int input_zero_point;       /* (valid after quantize) */
    float input_min, input_max; /* the range they cover */
    int64_t channels;           /* weight scales (output channels) */
    const char *output;         /* the value compared by evaluate */
    int64_t count;              /* elements compared so far */
    double max_abs;             /* max |quantized - float32| */
    double rel_rms;             /* sqrt(sum (q - f)^2 / sum f^2); 0 when f is all 0 */
} ortc_quant_layer;

ORTC_API size_t ortc_quantizer_layer_count(const ortc_quantizer *q);
ORTC_API ortc_status ortc_quantizer_layer(const ortc_quantizer *q, size_t i, ortc_quant_layer *out);

#ifdef __cplusplus
}
#endif
#endif /* ORTC_H */
