/* test_onnx.c — the onnx module's Check runner: ModelProtos built here with
 * the generated protobuf-c structs, packed and loaded, with the IR checked
 * field by field; every refusal path; real files from libonnx-testdata (ONNX
 * 1.12 backend tests) and their TensorProto inputs/outputs; the writer (IR ->
 * file -> the same IR); large raw_data read around protobuf-c (hand-encoded
 * corner cases, truncation, peak RSS).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader.h"
#include "helper_common.h"
#include "helper_onnx_build.h"
#include "onnx.pb-c.h"
#include "tensor_pb.h"
#include "writer.h"

#define TESTDATA "/usr/share/libonnx-testdata/data/node"

/* Packs m (and frees it), then loads the bytes. */
static ortc_status load_msg(Onnx__ModelProto *m, const char *base_dir, ortc_model **out,
                            ortc_errbuf *e)
{
    size_t len;
    uint8_t *b = pb_pack_model(m, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    ortc_status st = ortc_onnx_load_buffer(out, b, len, base_dir, e);
    free(b);
    if (st)
        ck_assert_ptr_null(*out);
    return st;
}

/* Packs m (and frees it) into `path`, then loads the file. */
static ortc_status load_msg_file(Onnx__ModelProto *m, const char *path, ortc_model **out,
                                 ortc_errbuf *e)
{
    size_t len;
    uint8_t *b = pb_pack_model(m, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    write_file(path, b, len);
    free(b);
    ortc_status st = ortc_onnx_load_file(out, path, e);
    if (st)
        ck_assert_ptr_null(*out);
    return st;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s (is libonnx-testdata installed?)", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *b = pb_xcalloc((size_t)n, 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[PATH_MAX];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            struct stat sb;
            if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
                rm_rf(sub);
            else
                unlink(sub);
        }
        closedir(d);
        rmdir(path);
    }
}

/* An error with the expected status whose message (and ortc_last_error())
 * contains every needle. */
static void expect_load_error(ortc_status st, ortc_status want, const ortc_errbuf *e,
                              const char *const *needles)
{
    ck_assert_msg(st == want, "status %s, want %s; message: %s", ortc_status_name(st),
                  ortc_status_name(want), e->msg);
    ck_assert_int_eq(e->status, want);
    for (; *needles; needles++) {
        ck_assert_msg(strstr(e->msg, *needles), "message \"%s\" lacks \"%s\"", e->msg, *needles);
        ck_assert_msg(strstr(ortc_last_error(), *needles), "last error \"%s\" lacks \"%s\"",
                      ortc_last_error(), *needles);
    }
}
#define EXPECT_ERROR(st, want, e, ...)                                                             \
    do {                                                                                           \
        const char *needles_[] = {__VA_ARGS__, NULL};                                              \
        expect_load_error((st), (want), (e), needles_);                                            \
    } while (0)

static ortc_value *find(ortc_graph *g, const char *name)
{
    ortc_value *v = ortc_graph_find_local(g, name);
    ck_assert_msg(v != NULL, "value '%s' missing in graph '%s'", name, g->name);
    return v;
}

static void assert_dims(const ortc_value *v, int rank, const int64_t *dims)
{
    ck_assert_msg(v->rank == rank, "'%s' rank %d, want %d", v->name, v->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(v->dims[i].value == dims[i], "'%s' dim %d is %lld, want %lld", v->name, i,
                      (long long)v->dims[i].value, (long long)dims[i]);
}

/* ---- well-formed models ------------------------------------------------- */

START_TEST(test_model_metadata_and_io)
{
    Onnx__ModelProto *m = pb_model_new(7, 13);
    pb_add_opset(m, "com.example", 2);
    m->domain = pb_xstrdup("org.test");
    m->doc_string = pb_xstrdup("a test model");
    m->has_model_version = 1;
    m->model_version = 5;
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "batch,3,?,4");
    pb_add_input(g, "s", ORTC_DTYPE_INT64, "");
    pb_add_input(g, "u", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(g, "Relu", "r1", "x", "y");
    pb_add_output(g, "y", ORTC_DTYPE_FLOAT, "batch,3,?,4");

    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ck_assert_int_eq(model->ir_version, 7);
    ck_assert_str_eq(model->producer_name, "ortc-test");
    ck_assert_str_eq(model->producer_version, "1.2");
    ck_assert_str_eq(model->domain, "org.test");
    ck_assert_str_eq(model->doc, "a test model");
    ck_assert_int_eq(model->model_version, 5);
    ck_assert_str_eq(model->path, "");
    ck_assert_ptr_null(model->dir);
    ck_assert_int_eq(model->n_opsets, 2);
    ck_assert_int_eq(ortc_model_opset_version(model, ""), 13);
    ck_assert_int_eq(ortc_model_opset_version(model, "ai.onnx"), 13);
    ck_assert_int_eq(ortc_model_opset_version(model, "com.example"), 2);

    ortc_graph *gr = model->graph;
    ck_assert_str_eq(gr->name, "main");
    ck_assert_ptr_null(gr->parent);
    ck_assert_int_eq(gr->n_inputs, 3);
    ortc_value *x = gr->inputs[0];
    ck_assert_str_eq(x->name, "x");
    ck_assert_int_eq(x->kind, ORTC_VALUE_INPUT);
    ck_assert(x->declared);
    ck_assert_int_eq(x->dtype, ORTC_DTYPE_FLOAT);
    assert_dims(x, 4, (const int64_t[]){-1, 3, -1, 4});
    ck_assert_str_eq(x->dims[0].param, "batch");
    ck_assert_ptr_null(x->dims[1].param);
    ck_assert_ptr_null(x->dims[2].param); /* unknown, not symbolic */
    ortc_value *s = gr->inputs[1];
    ck_assert_str_eq(s->name, "s");
    ck_assert_int_eq(s->dtype, ORTC_DTYPE_INT64);
    ck_assert_int_eq(s->rank, 0);
    ortc_value *u = gr->inputs[2];
    ck_assert_int_eq(u->rank, -1); /* no shape: unknown rank */
    ck_assert_int_eq(u->dtype, ORTC_DTYPE_FLOAT);

    ck_assert_int_eq(gr->n_nodes, 1);
    ortc_node *n = gr->nodes[0];
    ck_assert_str_eq(n->op_type, "Relu");
    ck_assert_str_eq(n->domain, "");
    ck_assert_str_eq(n->name, "r1");
    ck_assert_int_eq(n->opset, 13);
    ck_assert_ptr_eq(n->inputs[0], x);
    ck_assert_int_eq(gr->n_outputs, 1);
    ortc_value *y = gr->outputs[0];
    ck_assert_ptr_eq(n->outputs[0], y);
    ck_assert(y->is_output);
    ck_assert(y->declared);
    ck_assert_ptr_eq(y->producer, n); /* finalize ran */
    ck_assert_int_eq(x->n_uses, 1);
    assert_dims(y, 4, (const int64_t[]){-1, 3, -1, 4});
    ck_assert_str_eq(y->dims[0].param, "batch");
    ortc_model_free(model);
}
END_TEST

static ortc_value *constant_of(ortc_model *model, const char *name, ortc_dtype dt, int rank,
                               const int64_t *dims)
{
    ortc_value *v = find(model->graph, name);
    ck_assert_msg(v->kind == ORTC_VALUE_CONSTANT, "'%s' is not a constant", name);
    ck_assert_ptr_nonnull(v->constant);
    const ortc_tensor *t = &v->constant->t;
    ck_assert_msg(t->dtype == dt, "'%s' dtype %s, want %s", name, ortc_dtype_name(t->dtype),
                  ortc_dtype_name(dt));
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
    ck_assert_int_eq(v->dtype, dt);
    assert_dims(v, rank, dims);
    ck_assert_ptr_nonnull(t->data);
    ck_assert_msg(((uintptr_t)t->data % 64) == 0, "'%s' data not 64-byte aligned", name);
    return v;
}
#define CONST_DATA(model, name, dt, type, ...)                                                     \
    ((const type *)constant_of((model), (name), (dt),                                              \
                               (int)(sizeof((const int64_t[]){__VA_ARGS__}) / 8),                  \
                               (const int64_t[]){__VA_ARGS__})                                     \
         ->constant->t.data)

START_TEST(test_initializers_every_storage)
{
    Onnx__ModelProto *m = pb_model_new(8, 17);
    Onnx__GraphProto *g = m->graph;
    const float f6[6] = {1, -2, 3.5f, 4, 5, -6};
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("f_raw", ORTC_DTYPE_FLOAT, "2,3")), f6, sizeof f6);
    pb_tensor_floats(pb_add_init(g, pb_tensor_new("f_typed", ORTC_DTYPE_FLOAT, "3")), f6, 3);
    /* large enough to be moved out of the message instead of copied */
    float *big = pb_xcalloc(4096, sizeof *big);
    for (int i = 0; i < 4096; i++)
        big[i] = (float)i * 0.5f;
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("f_big", ORTC_DTYPE_FLOAT, "64,64")), big, 4096 * 4);
    pb_tensor_floats(pb_add_init(g, pb_tensor_new("f_big_typed", ORTC_DTYPE_FLOAT, "2048")), big,
                     2048);
    pb_tensor_int64s(pb_add_init(g, pb_tensor_new("i64", ORTC_DTYPE_INT64, "2")),
                     (const int64_t[]){-5, (int64_t)1 << 40}, 2);
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("i32", ORTC_DTYPE_INT32, "2")),
                     (const int32_t[]){-7, 123456}, 2);
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("i8", ORTC_DTYPE_INT8, "3")),
                     (const int32_t[]){-128, -1, 127}, 3);
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("u8", ORTC_DTYPE_UINT8, "2")),
                     (const int32_t[]){0, 255}, 2);
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("i16", ORTC_DTYPE_INT16, "2")),
                     (const int32_t[]){-32768, 32767}, 2);
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("u16", ORTC_DTYPE_UINT16, "2")),
                     (const int32_t[]){65535, 1}, 2);
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("b", ORTC_DTYPE_BOOL, "3")),
                     (const int32_t[]){1, 0, 1}, 3);
    /* float16 bits, numpy: np.float16(1.0).view(np.uint16) == 0x3C00,
     * np.float16(-2.0).view(np.uint16) == 0xC000 */
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("h", ORTC_DTYPE_FLOAT16, "2")),
                     (const int32_t[]){0x3C00, 0xC000}, 2);
    /* bfloat16 1.0 is the top half of float 1.0 (0x3F800000) */
    pb_tensor_int32s(pb_add_init(g, pb_tensor_new("bf", ORTC_DTYPE_BFLOAT16, "1")),
                     (const int32_t[]){0x3F80}, 1);
    Onnx__TensorProto *d = pb_add_init(g, pb_tensor_new("d", ORTC_DTYPE_DOUBLE, "2"));
    d->double_data = pb_xcalloc(2, sizeof(double));
    d->double_data[0] = 1.5;
    d->double_data[1] = -2.25;
    d->n_double_data = 2;
    Onnx__TensorProto *u32 = pb_add_init(g, pb_tensor_new("u32", ORTC_DTYPE_UINT32, "2"));
    u32->uint64_data = pb_xcalloc(2, sizeof(uint64_t));
    u32->uint64_data[0] = 4000000000u;
    u32->uint64_data[1] = 7;
    u32->n_uint64_data = 2;
    Onnx__TensorProto *u64 = pb_add_init(g, pb_tensor_new("u64", ORTC_DTYPE_UINT64, "1"));
    u64->uint64_data = pb_xcalloc(1, sizeof(uint64_t));
    u64->uint64_data[0] = (uint64_t)1 << 63;
    u64->n_uint64_data = 1;
    Onnx__TensorProto *str = pb_add_init(g, pb_tensor_new("str", ORTC_DTYPE_STRING, "2"));
    str->string_data = pb_xcalloc(2, sizeof(ProtobufCBinaryData));
    str->string_data[0].data = (uint8_t *)pb_xstrdup("hello");
    str->string_data[0].len = 5;
    str->string_data[1].data = NULL;
    str->string_data[1].len = 0;
    str->n_string_data = 2;
    pb_tensor_floats(pb_add_init(g, pb_tensor_new("c64", ORTC_DTYPE_COMPLEX64, "2")),
                     (const float[]){1, 2, 3, 4}, 4);
    pb_add_init(g, pb_tensor_new("empty", ORTC_DTYPE_FLOAT, "0,3"));
    pb_tensor_int64s(pb_add_init(g, pb_tensor_new("scalar", ORTC_DTYPE_INT64, "")),
                     (const int64_t[]){42}, 1);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("b_raw", ORTC_DTYPE_BOOL, "2")),
                  (const uint8_t[]){1, 0}, 2);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("h_raw", ORTC_DTYPE_FLOAT16, "1")),
                  (const uint16_t[]){0x3C00}, 2);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("i64_raw", ORTC_DTYPE_INT64, "1")),
                  (const int64_t[]){-3}, 8);
    /* an explicitly empty raw_data beside float_data: the typed field holds the data */
    Onnx__TensorProto *er = pb_add_init(g, pb_tensor_new("f_empty_raw", ORTC_DTYPE_FLOAT, "2"));
    er->has_raw_data = 1;
    pb_tensor_floats(er, (const float[]){6, 7}, 2);

    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ck_assert_int_eq(model->graph->n_inputs, 0);

    const float *fr = CONST_DATA(model, "f_raw", ORTC_DTYPE_FLOAT, float, 2, 3);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(fr[i], f6[i]);
    const float *ft = CONST_DATA(model, "f_typed", ORTC_DTYPE_FLOAT, float, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq(ft[i], f6[i]);
    const float *fb = CONST_DATA(model, "f_big", ORTC_DTYPE_FLOAT, float, 64, 64);
    for (int i = 0; i < 4096; i++)
        ck_assert_float_eq(fb[i], (float)i * 0.5f);
    const float *fbt = CONST_DATA(model, "f_big_typed", ORTC_DTYPE_FLOAT, float, 2048);
    for (int i = 0; i < 2048; i++)
        ck_assert_float_eq(fbt[i], (float)i * 0.5f);
    free(big);
    const int64_t *i64 = CONST_DATA(model, "i64", ORTC_DTYPE_INT64, int64_t, 2);
    ck_assert_int_eq(i64[0], -5);
    ck_assert_int_eq(i64[1], (int64_t)1 << 40);
    const int32_t *i32 = CONST_DATA(model, "i32", ORTC_DTYPE_INT32, int32_t, 2);
    ck_assert_int_eq(i32[0], -7);
    ck_assert_int_eq(i32[1], 123456);
    const int8_t *i8 = CONST_DATA(model, "i8", ORTC_DTYPE_INT8, int8_t, 3);
    ck_assert_int_eq(i8[0], -128);
    ck_assert_int_eq(i8[1], -1);
    ck_assert_int_eq(i8[2], 127);
    const uint8_t *u8 = CONST_DATA(model, "u8", ORTC_DTYPE_UINT8, uint8_t, 2);
    ck_assert_uint_eq(u8[0], 0);
    ck_assert_uint_eq(u8[1], 255);
    const int16_t *i16 = CONST_DATA(model, "i16", ORTC_DTYPE_INT16, int16_t, 2);
    ck_assert_int_eq(i16[0], -32768);
    ck_assert_int_eq(i16[1], 32767);
    const uint16_t *u16 = CONST_DATA(model, "u16", ORTC_DTYPE_UINT16, uint16_t, 2);
    ck_assert_uint_eq(u16[0], 65535);
    ck_assert_uint_eq(u16[1], 1);
    const uint8_t *b = CONST_DATA(model, "b", ORTC_DTYPE_BOOL, uint8_t, 3);
    ck_assert_uint_eq(b[0], 1);
    ck_assert_uint_eq(b[1], 0);
    ck_assert_uint_eq(b[2], 1);
    const uint16_t *h = CONST_DATA(model, "h", ORTC_DTYPE_FLOAT16, uint16_t, 2);
    ck_assert_uint_eq(h[0], 0x3C00);
    ck_assert_uint_eq(h[1], 0xC000);
    const uint16_t *bf = CONST_DATA(model, "bf", ORTC_DTYPE_BFLOAT16, uint16_t, 1);
    ck_assert_uint_eq(bf[0], 0x3F80);
    const double *dd = CONST_DATA(model, "d", ORTC_DTYPE_DOUBLE, double, 2);
    ck_assert_double_eq(dd[0], 1.5);
    ck_assert_double_eq(dd[1], -2.25);
    const uint32_t *uu32 = CONST_DATA(model, "u32", ORTC_DTYPE_UINT32, uint32_t, 2);
    ck_assert_uint_eq(uu32[0], 4000000000u);
    ck_assert_uint_eq(uu32[1], 7);
    const uint64_t *uu64 = CONST_DATA(model, "u64", ORTC_DTYPE_UINT64, uint64_t, 1);
    ck_assert(uu64[0] == (uint64_t)1 << 63);
    char *const *ss = (char *const *)CONST_DATA(model, "str", ORTC_DTYPE_STRING, char *, 2);
    ck_assert_str_eq(ss[0], "hello");
    ck_assert_str_eq(ss[1], "");
    const float *c64 = CONST_DATA(model, "c64", ORTC_DTYPE_COMPLEX64, float, 2);
    ck_assert_float_eq(c64[0], 1);
    ck_assert_float_eq(c64[3], 4);
    ortc_value *ev = constant_of(model, "empty", ORTC_DTYPE_FLOAT, 2, (const int64_t[]){0, 3});
    ck_assert_int_eq(ortc_tensor_numel(&ev->constant->t), 0);
    ortc_value *sc = constant_of(model, "scalar", ORTC_DTYPE_INT64, 0, NULL);
    ck_assert_int_eq(((const int64_t *)sc->constant->t.data)[0], 42);
    const uint8_t *br = CONST_DATA(model, "b_raw", ORTC_DTYPE_BOOL, uint8_t, 2);
    ck_assert_uint_eq(br[0], 1);
    ck_assert_uint_eq(br[1], 0);
    const uint16_t *hr = CONST_DATA(model, "h_raw", ORTC_DTYPE_FLOAT16, uint16_t, 1);
    ck_assert_uint_eq(hr[0], 0x3C00);
    const int64_t *ir = CONST_DATA(model, "i64_raw", ORTC_DTYPE_INT64, int64_t, 1);
    ck_assert_int_eq(ir[0], -3);
    const float *fer = CONST_DATA(model, "f_empty_raw", ORTC_DTYPE_FLOAT, float, 2);
    ck_assert_float_eq(fer[1], 7);
    ortc_model_free(model);
}
END_TEST

START_TEST(test_graph_input_that_is_initializer)
{
    Onnx__ModelProto *m = pb_model_new(3, 9);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "2,2");
    pb_add_input(g, "W", ORTC_DTYPE_FLOAT, "2,2"); /* as old exporters wrote */
    pb_tensor_floats(pb_add_init(g, pb_tensor_new("W", ORTC_DTYPE_FLOAT, "2,2")),
                     (const float[]){1, 2, 3, 4}, 4);
    pb_add_node(g, "Add", "add", "x,W", "y");
    pb_add_output(g, "y", ORTC_DTYPE_FLOAT, "2,2");
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ck_assert_int_eq(model->graph->n_inputs, 1);
    ck_assert_str_eq(model->graph->inputs[0]->name, "x");
    const float *w = CONST_DATA(model, "W", ORTC_DTYPE_FLOAT, float, 2, 2);
    ck_assert_float_eq(w[3], 4);
    ck_assert_ptr_eq(model->graph->nodes[0]->inputs[1], find(model->graph, "W"));
    ortc_model_free(model);

    /* the declared type must agree with the initializer */
    m = pb_model_new(3, 9);
    pb_add_input(m->graph, "W", ORTC_DTYPE_INT64, "2,2");
    pb_tensor_floats(pb_add_init(m->graph, pb_tensor_new("W", ORTC_DTYPE_FLOAT, "2,2")),
                     (const float[]){1, 2, 3, 4}, 4);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "<buffer>: ", "input 'W'", "int64", "float32");
    m = pb_model_new(3, 9);
    pb_add_input(m->graph, "W", ORTC_DTYPE_FLOAT, "2,3");
    pb_tensor_floats(pb_add_init(m->graph, pb_tensor_new("W", ORTC_DTYPE_FLOAT, "2,2")),
                     (const float[]){1, 2, 3, 4}, 4);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "input 'W'", "[2,3]", "[2,2]");
}
END_TEST

START_TEST(test_constant_node_stays_a_node)
{
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "3");
    Onnx__NodeProto *c = pb_add_node(g, "Constant", "c", "", "k");
    Onnx__AttributeProto *a =
        pb_add_attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = pb_tensor_new("kt", ORTC_DTYPE_FLOAT, "3");
    pb_tensor_floats(a->t, (const float[]){0.5f, 1.5f, -2}, 3);
    pb_add_node(g, "Add", "add", "k,x", "y");
    pb_add_output(g, "y", ORTC_DTYPE_FLOAT, "3");
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ortc_graph *gr = model->graph;
    ck_assert_int_eq(gr->n_nodes, 2);
    ortc_node *cn = gr->nodes[0];
    ck_assert_str_eq(cn->op_type, "Constant");
    const ortc_attr *va = ortc_node_attr(cn, "value");
    ck_assert_ptr_nonnull(va);
    ck_assert_int_eq(va->type, ORTC_ATTR_TENSOR);
    ck_assert_int_eq(va->t->t.dtype, ORTC_DTYPE_FLOAT);
    ck_assert_int_eq(va->t->t.rank, 1);
    ck_assert_int_eq(va->t->t.dims[0], 3);
    const float *kv = va->t->t.data;
    ck_assert_float_eq(kv[0], 0.5f);
    ck_assert_float_eq(kv[2], -2);
    ortc_value *k = find(gr, "k");
    ck_assert_int_eq(k->kind, ORTC_VALUE_INTERMEDIATE);
    ck_assert_ptr_null(k->constant);
    ck_assert_ptr_eq(k->producer, cn);
    ortc_model_free(model);
}
END_TEST

static bool has_implicit(const ortc_node *n, const ortc_value *v)
{
    for (int i = 0; i < n->n_implicit; i++)
        if (n->implicit_inputs[i] == v)
            return true;
    return false;
}

START_TEST(test_subgraph_outer_scope)
{
    Onnx__ModelProto *m = pb_model_new(8, 16);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "cond", ORTC_DTYPE_BOOL, "");
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "2");
    pb_tensor_floats(pb_add_init(g, pb_tensor_new("t", ORTC_DTYPE_FLOAT, "2")),
                     (const float[]){7, 8}, 2);
    Onnx__NodeProto *if1 = pb_add_node(g, "If", "if1", "cond", "out");
    /* then: defines its own 't' (shadowing the outer initializer) */
    Onnx__GraphProto *then_g = pb_graph_new("then_body");
    pb_add_node(then_g, "Add", "then_add", "t,x", "then_out");
    pb_add_node(then_g, "Identity", "then_id", "x", "t"); /* after its use: pass 1 sees it */
    pb_add_output(then_g, "then_out", ORTC_DTYPE_FLOAT, "2");
    pb_add_graph(if1, "then_branch", then_g);
    /* else: reads the outer 't' and a local initializer */
    Onnx__GraphProto *else_g = pb_graph_new("else_body");
    pb_tensor_floats(pb_add_init(else_g, pb_tensor_new("one", ORTC_DTYPE_FLOAT, "1")),
                     (const float[]){1}, 1);
    pb_add_node(else_g, "Add", "else_add", "t,one", "else_out");
    pb_add_output(else_g, "else_out", ORTC_DTYPE_FLOAT, "2");
    pb_add_graph(if1, "else_branch", else_g);
    /* if2's branches pass outer values straight out */
    Onnx__NodeProto *if2 = pb_add_node(g, "If", "if2", "cond", "out2");
    Onnx__GraphProto *pass1 = pb_graph_new("pass_then");
    pb_add_output(pass1, "x", ORTC_DTYPE_FLOAT, "2");
    pb_add_graph(if2, "then_branch", pass1);
    Onnx__GraphProto *pass2 = pb_graph_new("pass_else");
    pb_add_output(pass2, "out", ORTC_DTYPE_FLOAT, "2");
    pb_add_graph(if2, "else_branch", pass2);
    pb_add_output(g, "out2", ORTC_DTYPE_FLOAT, "2");

    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ortc_graph *top = model->graph;
    ortc_value *x = find(top, "x"), *t = find(top, "t"), *out = find(top, "out");
    ck_assert_int_eq(top->n_nodes, 2);
    ortc_node *n1 = top->nodes[0], *n2 = top->nodes[1];
    ck_assert_str_eq(n1->name, "if1");
    ck_assert_str_eq(n2->name, "if2"); /* if2 reads 'out': ordered after if1 */

    const ortc_attr *ta = ortc_node_attr(n1, "then_branch");
    ck_assert_int_eq(ta->type, ORTC_ATTR_GRAPH);
    ortc_graph *tg = ta->g;
    ck_assert_str_eq(tg->name, "then_body");
    ck_assert_ptr_eq(tg->parent, top);
    ck_assert_ptr_eq(tg->model, model);
    ck_assert_int_eq(tg->n_nodes, 2);
    ck_assert_str_eq(tg->nodes[0]->name, "then_id"); /* topological order */
    ortc_node *add = tg->nodes[1];
    ck_assert_ptr_eq(add->inputs[0]->graph, tg); /* the local 't' */
    ck_assert_ptr_eq(add->inputs[0], find(tg, "t"));
    ck_assert_ptr_eq(add->inputs[1], x); /* outer */
    ck_assert_int_eq(add->opset, 16);

    ortc_graph *eg = ortc_node_attr(n1, "else_branch")->g;
    ck_assert_ptr_eq(eg->parent, top);
    ortc_node *eadd = eg->nodes[0];
    ck_assert_ptr_eq(eadd->inputs[0], t); /* the outer initializer */
    ck_assert_ptr_eq(eadd->inputs[1], find(eg, "one"));
    ck_assert_int_eq(find(eg, "one")->kind, ORTC_VALUE_CONSTANT);
    ck_assert(has_implicit(n1, x));
    ck_assert(has_implicit(n1, t));

    ortc_graph *p1 = ortc_node_attr(n2, "then_branch")->g;
    ck_assert_int_eq(p1->n_outputs, 1);
    ck_assert_ptr_eq(p1->outputs[0], x);
    ck_assert(!x->is_output); /* an output of the subgraph, not of the model */
    ck_assert_ptr_eq(ortc_node_attr(n2, "else_branch")->g->outputs[0], out);
    ck_assert(!out->is_output);
    ck_assert(has_implicit(n2, out));
    ortc_model_free(model);
}
END_TEST

START_TEST(test_value_info)
{
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "batch,8");
    pb_add_node(g, "Relu", "r1", "x", "h");
    pb_add_node(g, "Relu", "r2", "h", "y");
    pb_add_output(g, "y", ORTC_DTYPE_FLOAT, NULL);
    pb_add_value_info(g, "h", ORTC_DTYPE_FLOAT, "batch,8");
    pb_add_value_info(g, "ghost", ORTC_DTYPE_FLOAT, "1"); /* no such value: ignored */
    pb_add_value_info(g, "x", ORTC_DTYPE_INT64, "5");     /* inputs keep their own */
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ortc_value *h = find(model->graph, "h");
    ck_assert(h->declared);
    ck_assert_int_eq(h->kind, ORTC_VALUE_INTERMEDIATE);
    ck_assert_int_eq(h->dtype, ORTC_DTYPE_FLOAT);
    assert_dims(h, 2, (const int64_t[]){-1, 8});
    ck_assert_str_eq(h->dims[0].param, "batch");
    ck_assert_ptr_null(ortc_graph_find_local(model->graph, "ghost"));
    ortc_value *x = find(model->graph, "x");
    ck_assert_int_eq(x->dtype, ORTC_DTYPE_FLOAT);
    ck_assert_int_eq(x->rank, 2);
    ortc_value *y = find(model->graph, "y");
    ck_assert(y->declared);
    ck_assert_int_eq(y->rank, -1);
    ortc_model_free(model);
}
END_TEST

START_TEST(test_attributes_every_type)
{
    Onnx__ModelProto *m = pb_model_new(8, 17);
    pb_add_opset(m, "com.example", 2);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "2");
    Onnx__NodeProto *n = pb_add_node(g, "Custom", "n", "x,,x", "o1,,o3");
    n->domain = pb_xstrdup("com.example");
    Onnx__AttributeProto *a;
    a = pb_add_attr(n, "f", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = 0.25f;
    a = pb_add_attr(n, "i", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = -3;
    a = pb_add_attr(n, "s", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)pb_xstrdup("abc");
    a->s.len = 3;
    a = pb_add_attr(n, "t", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = pb_tensor_new("", ORTC_DTYPE_INT64, "2");
    pb_tensor_int64s(a->t, (const int64_t[]){1, 2}, 2);
    Onnx__GraphProto *body = pb_graph_new("body");
    pb_add_node(body, "Identity", "", "x", "bo");
    pb_add_output(body, "bo", ORTC_DTYPE_FLOAT, "2");
    pb_add_graph(n, "g", body);
    a = pb_add_attr(n, "fs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->floats = pb_xcalloc(2, sizeof(float));
    a->floats[0] = 1;
    a->floats[1] = 2.5f;
    a->n_floats = 2;
    pb_add_ints(n, "is", (const int64_t[]){1, -2, 3}, 3);
    a = pb_add_attr(n, "ss", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->strings = pb_xcalloc(2, sizeof(ProtobufCBinaryData));
    a->strings[0].data = (uint8_t *)pb_xstrdup("a");
    a->strings[0].len = 1;
    a->strings[1].data = (uint8_t *)pb_xstrdup("bc");
    a->strings[1].len = 2;
    a->n_strings = 2;
    a = pb_add_attr(n, "ts", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
    a->tensors = pb_xcalloc(2, sizeof *a->tensors);
    a->tensors[0] = pb_tensor_new("t0", ORTC_DTYPE_FLOAT, "1");
    pb_tensor_floats(a->tensors[0], (const float[]){9}, 1);
    a->tensors[1] = pb_tensor_new("t1", ORTC_DTYPE_INT32, "");
    pb_tensor_int32s(a->tensors[1], (const int32_t[]){-4}, 1);
    a->n_tensors = 2;
    a = pb_add_attr(n, "gs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
    a->graphs = pb_xcalloc(2, sizeof *a->graphs);
    a->graphs[0] = pb_graph_new("g0");
    pb_add_output(a->graphs[0], "x", ORTC_DTYPE_FLOAT, "2");
    a->graphs[1] = pb_graph_new("g1");
    pb_add_input(a->graphs[1], "gin", ORTC_DTYPE_FLOAT, "2");
    pb_add_node(a->graphs[1], "Neg", "", "gin", "gout");
    pb_add_output(a->graphs[1], "gout", ORTC_DTYPE_FLOAT, "2");
    a->n_graphs = 2;
    pb_add_output(g, "o1", ORTC_DTYPE_FLOAT, NULL);

    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(m, NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ortc_node *nd = model->graph->nodes[0];
    ck_assert_str_eq(nd->domain, "com.example");
    ck_assert_int_eq(nd->opset, 2);
    ck_assert_int_eq(nd->n_inputs, 3);
    ck_assert_ptr_nonnull(nd->inputs[0]);
    ck_assert_ptr_null(nd->inputs[1]); /* omitted optional input */
    ck_assert_ptr_eq(nd->inputs[2], nd->inputs[0]);
    ck_assert_int_eq(nd->n_outputs, 3);
    ck_assert_ptr_null(nd->outputs[1]);
    ck_assert_str_eq(nd->outputs[2]->name, "o3");
    ck_assert_int_eq(nd->n_attrs, 10);
    ck_assert_float_eq(ortc_node_attr_float(nd, "f", 0), 0.25f);
    ck_assert_int_eq(ortc_node_attr_int(nd, "i", 0), -3);
    ck_assert_str_eq(ortc_node_attr_string(nd, "s", ""), "abc");
    ck_assert_uint_eq(ortc_node_attr(nd, "s")->s_len, 3);
    const ortc_attr *ta = ortc_node_attr(nd, "t");
    ck_assert_int_eq(ta->type, ORTC_ATTR_TENSOR);
    ck_assert_int_eq(((const int64_t *)ta->t->t.data)[1], 2);
    const ortc_attr *ga = ortc_node_attr(nd, "g");
    ck_assert_int_eq(ga->type, ORTC_ATTR_GRAPH);
    ck_assert_str_eq(ga->g->name, "body");
    ck_assert_ptr_eq(ga->g->nodes[0]->inputs[0], find(model->graph, "x"));
    size_t cnt;
    const float *fs = ortc_node_attr_floats(nd, "fs", &cnt);
    ck_assert_uint_eq(cnt, 2);
    ck_assert_float_eq(fs[1], 2.5f);
    const int64_t *is = ortc_node_attr_ints(nd, "is", &cnt);
    ck_assert_uint_eq(cnt, 3);
    ck_assert_int_eq(is[1], -2);
    const ortc_attr *ssa = ortc_node_attr(nd, "ss");
    ck_assert_int_eq(ssa->type, ORTC_ATTR_STRINGS);
    ck_assert_uint_eq(ssa->n, 2);
    ck_assert_str_eq(ssa->strings[1], "bc");
    const ortc_attr *tsa = ortc_node_attr(nd, "ts");
    ck_assert_int_eq(tsa->type, ORTC_ATTR_TENSORS);
    ck_assert_uint_eq(tsa->n, 2);
    ck_assert_float_eq(((const float *)tsa->tensors[0]->t.data)[0], 9);
    ck_assert_int_eq(tsa->tensors[1]->t.rank, 0);
    ck_assert_int_eq(((const int32_t *)tsa->tensors[1]->t.data)[0], -4);
    const ortc_attr *gsa = ortc_node_attr(nd, "gs");
    ck_assert_int_eq(gsa->type, ORTC_ATTR_GRAPHS);
    ck_assert_uint_eq(gsa->n, 2);
    ck_assert_str_eq(gsa->graphs[0]->name, "g0");
    ck_assert_ptr_eq(gsa->graphs[0]->outputs[0], find(model->graph, "x"));
    ck_assert_int_eq(gsa->graphs[1]->n_inputs, 1);
    ck_assert_ptr_eq(gsa->graphs[1]->parent, model->graph);
    ortc_model_free(model);
}
END_TEST

/* ---- refusals ----------------------------------------------------------- */

START_TEST(test_err_empty_and_garbage)
{
    ortc_model *model = (ortc_model *)1;
    ortc_errbuf e;
    ortc_status st = ortc_onnx_load_buffer(&model, "", 0, NULL, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "<buffer>: ", "not a valid ONNX model",
                 "empty");
    ck_assert_ptr_null(model);
    uint64_t s = 88172645463325252ull;
    uint8_t buf[700];
    for (int trial = 0; trial < 200; trial++) {
        size_t len = 1 + (size_t)(trial * 7 % 700);
        for (size_t i = 0; i < len; i++) { /* xorshift64 */
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        st = ortc_onnx_load_buffer(&model, buf, len, NULL, &e);
        ck_assert_msg(st != ORTC_STATUS_OK, "random bytes (trial %d) loaded", trial);
        ck_assert_ptr_null(model);
        ck_assert_msg(strncmp(e.msg, "<buffer>: ", 10) == 0, "%s", e.msg);
    }
}
END_TEST

START_TEST(test_err_truncated_real_model)
{
    const char *path = TESTDATA "/test_conv_with_strides_padding/model.onnx";
    size_t len;
    uint8_t *bytes = read_whole(path, &len);
    ortc_model *model = NULL;
    ortc_errbuf e;
    ck_assert_int_eq(ortc_onnx_load_buffer(&model, bytes, len, NULL, &e), ORTC_STATUS_OK);
    ortc_model_free(model);
    /* every strict prefix must be refused, none may crash */
    for (size_t cut = 0; cut < len; cut++) {
        ortc_status st = ortc_onnx_load_buffer(&model, bytes, cut, NULL, &e);
        ck_assert_msg(st == ORTC_STATUS_INVALID_MODEL, "prefix of %zu/%zu bytes: %s (%s)", cut, len,
                      ortc_status_name(st), e.msg);
        ck_assert_ptr_null(model);
    }
    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/half.onnx", dir);
    write_file(file, bytes, len / 2);
    ortc_status st = ortc_onnx_load_file(&model, file, &e);
    char want[64];
    snprintf(want, sizeof want, "the file is %zu bytes", len / 2);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, file, "protobuf parse failed", want,
                 "truncated?");
    rm_rf(dir);
    free(bytes);
}
END_TEST

START_TEST(test_err_missing_file)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = ortc_onnx_load_file(&model, "/nonexistent/dir/model.onnx", &e);
    EXPECT_ERROR(st, ORTC_STATUS_IO_ERROR, &e,
                 "/nonexistent/dir/model.onnx: cannot open: No such file or directory");
    st = ortc_onnx_load_file(&model, "/tmp", &e);
    EXPECT_ERROR(st, ORTC_STATUS_IO_ERROR, &e, "/tmp: ", "directory");
    ck_assert_ptr_null(model);
    st = ortc_onnx_load_file(NULL, "/tmp", &e);
    ck_assert_int_eq(st, ORTC_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_err_rank9_and_bad_types)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "big", ORTC_DTYPE_FLOAT, "1,1,1,1,1,1,1,1,1");
    ortc_status st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "input 'big'", "rank 9");

    m = pb_model_new(8, 13); /* rank 8 is fine */
    pb_add_input(m->graph, "ok", ORTC_DTYPE_FLOAT, "1,1,1,1,1,1,1,2");
    ck_assert_int_eq(load_msg(m, NULL, &model, &e), ORTC_STATUS_OK);
    ck_assert_int_eq(model->graph->inputs[0]->rank, 8);
    ortc_model_free(model);

    m = pb_model_new(8, 13);
    pb_tensor_floats(
        pb_add_init(m->graph, pb_tensor_new("w9", ORTC_DTYPE_FLOAT, "1,1,1,1,1,1,1,1,1")),
        (const float[]){1}, 1);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "initializer 'w9'", "rank 9");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "neg", ORTC_DTYPE_FLOAT, "2,-3");
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "input 'neg'", "-3");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "odd", 99, "2");
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "input 'odd'", "element type 99");

    m = pb_model_new(8, 13);
    Onnx__ValueInfoProto *vi = pb_vi_new("seq", ORTC_DTYPE_FLOAT, NULL);
    Onnx__TypeProto *elem = vi->type;
    Onnx__TypeProto *seq = pb_xcalloc(1, sizeof *seq);
    onnx__type_proto__init(seq);
    Onnx__TypeProto__Sequence *sq = pb_xcalloc(1, sizeof *sq);
    onnx__type_proto__sequence__init(sq);
    sq->elem_type = elem;
    seq->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    seq->sequence_type = sq;
    vi->type = seq;
    PB_PUSH(m->graph->input, m->graph->n_input, vi);
    /* a sequence of float tensors is a value type ortc takes... */
    ck_assert_int_eq(load_msg(m, NULL, &model, &e), ORTC_STATUS_OK);
    ck_assert_int_eq(model->graph->inputs[0]->type, ORTC_TYPE_SEQUENCE);
    ck_assert_int_eq(model->graph->inputs[0]->dtype, ORTC_DTYPE_FLOAT);
    ortc_model_free(model);

    /* ...a sequence of sequences is not */
    m = pb_model_new(8, 13);
    vi = pb_vi_new("seqseq", ORTC_DTYPE_FLOAT, NULL);
    for (int level = 0; level < 2; level++) {
        Onnx__TypeProto *outer = pb_xcalloc(1, sizeof *outer);
        onnx__type_proto__init(outer);
        Onnx__TypeProto__Sequence *q = pb_xcalloc(1, sizeof *q);
        onnx__type_proto__sequence__init(q);
        q->elem_type = vi->type;
        outer->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
        outer->sequence_type = q;
        vi->type = outer;
    }
    PB_PUSH(m->graph->input, m->graph->n_input, vi);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "input 'seqseq'", "a sequence of sequences");

    /* a container without its element type, absent or empty, is named */
    for (int empty = 0; empty < 2; empty++) {
        m = pb_model_new(8, 13);
        vi = pb_xcalloc(1, sizeof *vi);
        onnx__value_info_proto__init(vi);
        vi->name = pb_xstrdup("bare");
        Onnx__TypeProto *outer = vi->type = pb_xcalloc(1, sizeof *outer);
        onnx__type_proto__init(outer);
        if (empty) { /* optional(<a TypeProto with no value>) */
            Onnx__TypeProto__Optional *o = pb_xcalloc(1, sizeof *o);
            onnx__type_proto__optional__init(o);
            o->elem_type = pb_xcalloc(1, sizeof *o->elem_type);
            onnx__type_proto__init(o->elem_type);
            outer->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
            outer->optional_type = o;
        } else { /* sequence(<no elem_type>) */
            Onnx__TypeProto__Sequence *q = pb_xcalloc(1, sizeof *q);
            onnx__type_proto__sequence__init(q);
            outer->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
            outer->sequence_type = q;
        }
        PB_PUSH(m->graph->input, m->graph->n_input, vi);
        st = load_msg(m, NULL, &model, &e);
        EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "input 'bare'",
                     empty ? "an incomplete optional type" : "an incomplete sequence type");
    }
}
END_TEST

START_TEST(test_err_initializer_data)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    const float f6[6] = {0};
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("fc.weight", ORTC_DTYPE_FLOAT, "2,3")), f6,
                  20);
    ortc_status st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e,
                 "initializer 'fc.weight' (float32 [2,3]) needs 24 bytes but raw_data has 20");

    m = pb_model_new(8, 13);
    pb_tensor_floats(pb_add_init(m->graph, pb_tensor_new("w", ORTC_DTYPE_FLOAT, "2,3")), f6, 5);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w' (float32 [2,3])", "6 elements",
                 "float_data holds 5");

    m = pb_model_new(8, 13);
    pb_add_init(m->graph, pb_tensor_new("nodata", ORTC_DTYPE_INT64, "4"));
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'nodata' (int64 [4])", "no data");

    m = pb_model_new(8, 13);
    pb_tensor_floats(pb_add_init(m->graph, pb_tensor_new("wrong", ORTC_DTYPE_INT64, "1")), f6, 1);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'wrong'", "float_data",
                 "int64_data");

    m = pb_model_new(8, 13);
    Onnx__TensorProto *t = pb_add_init(m->graph, pb_tensor_new("both", ORTC_DTYPE_FLOAT, "1"));
    pb_tensor_raw(t, f6, 4);
    pb_tensor_floats(t, f6, 1);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'both'", "raw_data", "float_data");

    m = pb_model_new(8, 13);
    t = pb_add_init(m->graph, pb_tensor_new("nodtype", ORTC_DTYPE_FLOAT, "1"));
    t->has_data_type = 0;
    t->data_type = 0;
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'nodtype'", "no data type");

    m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("dt99", 99, "1")), f6, 4);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "initializer 'dt99'", "data type 99");

    m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("negdim", ORTC_DTYPE_FLOAT, "-1")), f6, 4);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'negdim'", "-1");

    m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("s", ORTC_DTYPE_STRING, "1")), "abcdefgh", 8);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 's'", "string_data");

    m = pb_model_new(8, 13);
    pb_tensor_floats(pb_add_init(m->graph, pb_tensor_new("dup", ORTC_DTYPE_FLOAT, "1")), f6, 1);
    pb_tensor_floats(pb_add_init(m->graph, pb_tensor_new("dup", ORTC_DTYPE_FLOAT, "1")), f6, 1);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'dup'", "twice");

    /* a Constant's tensor goes through the same checks */
    m = pb_model_new(8, 13);
    Onnx__NodeProto *c = pb_add_node(m->graph, "Constant", "k", "", "kout");
    Onnx__AttributeProto *a =
        pb_add_attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = pb_tensor_new("", ORTC_DTYPE_FLOAT, "3");
    pb_tensor_raw(a->t, f6, 8);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e,
                 "node 'k' (Constant) attribute 'value' (float32 [3]) needs 12 bytes but raw_data "
                 "has 8");
}
END_TEST

START_TEST(test_err_attributes)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    Onnx__NodeProto *n = pb_add_node(m->graph, "Conv", "conv1", "x", "y");
    pb_add_attr(n, "pads", -1);
    ortc_status st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e,
                 "<buffer>: node 'conv1' (Conv) attribute 'pads' has no type");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    n = pb_add_node(m->graph, "Conv", "conv1", "x", "y");
    pb_add_attr(n, "pads", 99);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "node 'conv1' (Conv) attribute 'pads'",
                 "unknown type 99");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    n = pb_add_node(m->graph, "Conv", "", "x", "y");
    Onnx__AttributeProto *a = pb_add_attr(n, "pads", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->ref_attr_name = pb_xstrdup("outer_pads");
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "node #0 (Conv)", "'pads'", "outer_pads");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    n = pb_add_node(m->graph, "Foo", "sp", "x", "y");
    pb_add_attr(n, "st", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "node 'sp' (Foo) attribute 'st'", "sparse");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    n = pb_add_node(m->graph, "Foo", "d", "x", "y");
    pb_add_attr(n, "k", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    pb_add_attr(n, "k", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "node 'd' (Foo)", "'k' twice");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    n = pb_add_node(m->graph, "If", "if0", "x", "y");
    pb_add_attr(n, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH); /* no graph */
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "node 'if0' (If) attribute 'then_branch'",
                 "no graph");

    /* inside a subgraph the message says where */
    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "c", ORTC_DTYPE_BOOL, "");
    n = pb_add_node(m->graph, "If", "if1", "c", "y");
    Onnx__GraphProto *body = pb_graph_new("then_body");
    Onnx__NodeProto *inner = pb_add_node(body, "Conv", "inner", "c", "z");
    pb_add_attr(inner, "pads", -1);
    pb_add_output(body, "z", ORTC_DTYPE_FLOAT, NULL);
    pb_add_graph(n, "then_branch", body);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "node 'inner' (Conv)", "'then_body'",
                 "node 'if1' (If)", "attribute 'pads' has no type");
}
END_TEST

START_TEST(test_err_versions_and_opsets)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    Onnx__ModelProto *m = pb_model_new(8, 18);
    ortc_status st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "opset 18", "17");

    m = pb_model_new(8, 17);
    ck_assert_int_eq(load_msg(m, NULL, &model, &e), ORTC_STATUS_OK);
    ortc_model_free(model);

    m = pb_model_new(9, 17);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "IR version 9", "3 to 8");

    m = pb_model_new(2, 17);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_UNSUPPORTED, &e, "IR version 2");

    m = pb_model_new(8, 17);
    m->has_ir_version = 0;
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "no ir_version");

    m = pb_model_new(8, 0);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "no opset_import");

    m = pb_model_new(8, 13);
    pb_add_opset(m, "ai.onnx", 13); /* the same domain as "" */
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "'ai.onnx' is imported twice");

    m = pb_model_new(8, 13); /* "ai.onnx" spelled out is the default domain */
    free(m->opset_import[0]->domain);
    m->opset_import[0]->domain = pb_xstrdup("ai.onnx");
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Relu", "r", "x", "y")->domain = pb_xstrdup("ai.onnx");
    pb_add_output(m->graph, "y", ORTC_DTYPE_FLOAT, NULL);
    ck_assert_int_eq(load_msg(m, NULL, &model, &e), ORTC_STATUS_OK);
    ck_assert_str_eq(model->graph->nodes[0]->domain, "");
    ck_assert_int_eq(model->graph->nodes[0]->opset, 13);
    ortc_model_free(model);

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Thing", "th", "x", "y")->domain = pb_xstrdup("com.vendor");
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "node 'th' (com.vendor.Thing)", "'com.vendor'",
                 "does not import");

    m = pb_model_new(8, 0);
    pb_add_opset(m, "com.vendor", 1);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Relu", "r", "x", "y");
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "node 'r' (Relu)", "no ai.onnx opset");

    m = pb_model_new(8, 13);
    onnx__graph_proto__free_unpacked(m->graph, NULL);
    m->graph = NULL;
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "no graph");
}
END_TEST

START_TEST(test_err_graph_structure)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/cycle.onnx", dir);

    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Add", "A", "x,b", "a");
    pb_add_node(m->graph, "Relu", "B", "a", "b");
    pb_add_output(m->graph, "b", ORTC_DTYPE_FLOAT, NULL);
    ortc_status st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, file, "cycle", "'A'", "'B'");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Add", "add", "x,nope", "y");
    pb_add_output(m->graph, "y", ORTC_DTYPE_FLOAT, NULL);
    st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, file, "node 'add' (Add)", "'nope'");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Relu", "r1", "x", "y");
    pb_add_node(m->graph, "Neg", "r2", "x", "y");
    pb_add_output(m->graph, "y", ORTC_DTYPE_FLOAT, NULL);
    st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, file, "'y'", "two nodes", "'r1'", "'r2'");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_node(m->graph, "Relu", "r1", "x", "x");
    st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "'x'", "graph input");

    m = pb_model_new(8, 13);
    pb_add_output(m->graph, "never", ORTC_DTYPE_FLOAT, NULL);
    st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "'never'");

    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, NULL);
    st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "input 'x'", "twice");

    /* a dangling name inside a subgraph */
    m = pb_model_new(8, 13);
    pb_add_input(m->graph, "c", ORTC_DTYPE_BOOL, "");
    Onnx__NodeProto *n = pb_add_node(m->graph, "If", "if1", "c", "y");
    Onnx__GraphProto *body = pb_graph_new("then_body");
    pb_add_node(body, "Relu", "inner", "ghost", "z");
    pb_add_output(body, "z", ORTC_DTYPE_FLOAT, NULL);
    pb_add_graph(n, "then_branch", body);
    pb_add_output(m->graph, "y", ORTC_DTYPE_FLOAT, NULL);
    st = load_msg_file(m, file, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, file, "'ghost'", "then_branch", "'if1'");
    rm_rf(dir);
}
END_TEST

START_TEST(test_err_deep_nesting)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    for (int depth = 5; depth <= 60; depth += 55) {
        Onnx__ModelProto *m = pb_model_new(8, 13);
        pb_add_input(m->graph, "c", ORTC_DTYPE_BOOL, "");
        Onnx__GraphProto *g = m->graph;
        for (int i = 0; i < depth; i++) {
            char name[32];
            snprintf(name, sizeof name, "if%d", i);
            Onnx__NodeProto *n = pb_add_node(g, "If", name, "c", i ? "" : "out");
            Onnx__GraphProto *body = pb_graph_new(name);
            pb_add_graph(n, "then_branch", body);
            g = body;
        }
        pb_add_output(m->graph, "out", ORTC_DTYPE_FLOAT, NULL);
        ortc_status st = load_msg(m, NULL, &model, &e);
        if (depth == 5) {
            ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
            ortc_graph *gr = model->graph;
            for (int i = 0; i < depth; i++) {
                ortc_graph *sub = ortc_node_attr(gr->nodes[0], "then_branch")->g;
                ck_assert_ptr_eq(sub->parent, gr);
                gr = sub;
            }
            ortc_model_free(model);
        } else {
            EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "nested deeper");
        }
    }
}
END_TEST

/* ---- external data ------------------------------------------------------ */

static Onnx__ModelProto *external_model(const char *loc, const char *off, const char *len,
                                        const char *dims)
{
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_tensor_external(pb_add_init(m->graph, pb_tensor_new("w", ORTC_DTYPE_FLOAT, dims)), loc, off,
                       len);
    pb_add_output(m->graph, "w", ORTC_DTYPE_FLOAT, NULL);
    return m;
}

START_TEST(test_external_data)
{
    char dir[] = "/tmp/ortc_onnx_XXXXXX", outside[] = "/tmp/ortc_onnx_out_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_nonnull(mkdtemp(outside));
    char path[PATH_MAX], model_path[PATH_MAX], out_bin[PATH_MAX], abs_loc[PATH_MAX];
    const float w[4] = {1, 2, 3, 4};
    snprintf(path, sizeof path, "%s/w.bin", dir);
    write_file(path, w, sizeof w);
    snprintf(path, sizeof path, "%s/sub", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/v.bin", dir);
    write_file(path, w, sizeof w);
    snprintf(out_bin, sizeof out_bin, "%s/secret.bin", outside);
    write_file(out_bin, w, sizeof w);
    snprintf(path, sizeof path, "%s/link.bin", dir);
    ck_assert_int_eq(symlink(out_bin, path), 0);
    snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
    snprintf(abs_loc, sizeof abs_loc, "%s/w.bin", dir);

    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg_file(external_model("w.bin", "0", "16", "4"), model_path, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ck_assert_str_eq(model->path, model_path);
    ck_assert_str_eq(model->dir, dir);
    const float *v = CONST_DATA(model, "w", ORTC_DTYPE_FLOAT, float, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(v[i], w[i]);
    ortc_model_free(model);

    st = load_msg_file(external_model("sub/v.bin", "8", NULL, "2"), model_path, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    v = CONST_DATA(model, "w", ORTC_DTYPE_FLOAT, float, 2);
    ck_assert_float_eq(v[0], 3);
    ck_assert_float_eq(v[1], 4);
    ortc_model_free(model);

    /* from memory: only with a base folder */
    st = load_msg(external_model("w.bin", NULL, NULL, "4"), dir, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ck_assert_str_eq(model->dir, dir);
    ortc_model_free(model);
    st = load_msg(external_model("w.bin", NULL, NULL, "4"), NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w'", "'w.bin'", "folder");

    st = load_msg_file(external_model("../w.bin", NULL, NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, model_path, "initializer 'w'", "'../w.bin'",
                 "'..'");
    st = load_msg_file(external_model("sub/../w.bin", NULL, NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "'sub/../w.bin'", "'..'");
    st = load_msg_file(external_model(abs_loc, NULL, NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, model_path, "initializer 'w'", abs_loc,
                 "absolute");
    st = load_msg_file(external_model("w.bin", "64", NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, model_path, "initializer 'w'", "'w.bin'",
                 "offset 64", "beyond the end", "16 bytes");
    st = load_msg_file(external_model("w.bin", "8", "16", "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w'", "'w.bin'",
                 "runs past the end");
    st = load_msg_file(external_model("w.bin", "0", "16", "3"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w' (float32 [3])",
                 "needs 12 bytes", "'w.bin' has 16");
    st = load_msg_file(external_model("w.bin", "-4", NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w'", "offset '-4'");
    st = load_msg_file(external_model("link.bin", NULL, NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w'", "'link.bin'",
                 "outside the model's folder");
    st = load_msg_file(external_model("nope.bin", NULL, NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_IO_ERROR, &e, model_path, "initializer 'w'", "'nope.bin'",
                 "No such file");
    st = load_msg_file(external_model(NULL, NULL, NULL, "4"), model_path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'w'", "location");
    rm_rf(dir);
    rm_rf(outside);
}
END_TEST

/* ---- real models from libonnx-testdata -------------------------------- */

static const ortc_attr *attr_of(const ortc_node *n, const char *name, ortc_attr_type type)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    ck_assert_msg(a != NULL, "node '%s' lacks attribute '%s'", n->name, name);
    ck_assert_int_eq(a->type, type);
    return a;
}

static void assert_ints(const ortc_attr *a, const int64_t *want, size_t n)
{
    ck_assert_uint_eq(a->n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(a->ints[i], want[i]);
}

START_TEST(test_real_conv_model)
{
    const char *path = TESTDATA "/test_conv_with_strides_padding/model.onnx";
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = ortc_onnx_load_file(&model, path, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    /* expectations from onnx.load(path) at test-writing time */
    ck_assert_int_eq(model->ir_version, 6);
    ck_assert_int_eq(ortc_model_opset_version(model, ""), 11);
    ck_assert_str_eq(model->producer_name, "backend-test");
    ck_assert_str_eq(model->path, path);
    ck_assert_str_eq(model->dir, TESTDATA "/test_conv_with_strides_padding");
    ortc_graph *g = model->graph;
    ck_assert_str_eq(g->name, "test_conv_with_strides_padding");
    ck_assert_int_eq(g->n_inputs, 2);
    assert_dims(g->inputs[0], 4, (const int64_t[]){1, 1, 7, 5});
    ck_assert_str_eq(g->inputs[1]->name, "W");
    assert_dims(g->inputs[1], 4, (const int64_t[]){1, 1, 3, 3});
    ck_assert_int_eq(g->n_outputs, 1);
    assert_dims(g->outputs[0], 4, (const int64_t[]){1, 1, 4, 3});
    ck_assert_int_eq(g->n_nodes, 1);
    ortc_node *n = g->nodes[0];
    ck_assert_str_eq(n->op_type, "Conv");
    ck_assert_int_eq(n->opset, 11);
    assert_ints(attr_of(n, "kernel_shape", ORTC_ATTR_INTS), (const int64_t[]){3, 3}, 2);
    assert_ints(attr_of(n, "pads", ORTC_ATTR_INTS), (const int64_t[]){1, 1, 1, 1}, 4);
    assert_ints(attr_of(n, "strides", ORTC_ATTR_INTS), (const int64_t[]){2, 2}, 2);
    ortc_model_free(model);
}
END_TEST

START_TEST(test_real_lrn_model)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = ortc_onnx_load_file(&model, TESTDATA "/test_lrn/model.onnx", &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ck_assert_int_eq(model->ir_version, 7);
    ck_assert_int_eq(ortc_model_opset_version(model, ""), 13);
    ortc_node *n = model->graph->nodes[0];
    ck_assert_str_eq(n->op_type, "LRN");
    /* onnx.load: alpha 0.00019999999494757503 (float 0.0002), beta 0.5, bias 2, size 3 */
    ck_assert_float_eq(attr_of(n, "alpha", ORTC_ATTR_FLOAT)->f, 0.0002f);
    ck_assert_float_eq(attr_of(n, "beta", ORTC_ATTR_FLOAT)->f, 0.5f);
    ck_assert_float_eq(attr_of(n, "bias", ORTC_ATTR_FLOAT)->f, 2.0f);
    ck_assert_int_eq(attr_of(n, "size", ORTC_ATTR_INT)->i, 3);
    assert_dims(model->graph->inputs[0], 4, (const int64_t[]){5, 5, 5, 5});
    ortc_model_free(model);
}
END_TEST

START_TEST(test_real_if_model)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = ortc_onnx_load_file(&model, TESTDATA "/test_if/model.onnx", &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ortc_graph *g = model->graph;
    ortc_value *cond = g->inputs[0];
    ck_assert_str_eq(cond->name, "cond");
    ck_assert_int_eq(cond->dtype, ORTC_DTYPE_BOOL);
    ck_assert_int_eq(cond->rank, 0);
    ortc_node *n = g->nodes[0];
    ck_assert_str_eq(n->op_type, "If");
    /* onnx.load: then_body's Constant holds [1,2,3,4,5], else_body's [5,4,3,2,1] */
    const char *branch[2] = {"then_branch", "else_branch"};
    const char *gname[2] = {"then_body", "else_body"};
    for (int b = 0; b < 2; b++) {
        ortc_graph *sub = attr_of(n, branch[b], ORTC_ATTR_GRAPH)->g;
        ck_assert_str_eq(sub->name, gname[b]);
        ck_assert_ptr_eq(sub->parent, g);
        ck_assert_int_eq(sub->n_nodes, 1);
        ortc_node *c = sub->nodes[0];
        ck_assert_str_eq(c->op_type, "Constant");
        const ortc_const_tensor *t = attr_of(c, "value", ORTC_ATTR_TENSOR)->t;
        ck_assert_int_eq(t->t.dtype, ORTC_DTYPE_FLOAT);
        ck_assert_int_eq(t->t.rank, 1);
        ck_assert_int_eq(t->t.dims[0], 5);
        for (int i = 0; i < 5; i++)
            ck_assert_float_eq(((const float *)t->t.data)[i], b == 0 ? i + 1 : 5 - i);
        ck_assert_ptr_eq(sub->outputs[0]->producer, c);
        assert_dims(sub->outputs[0], 1, (const int64_t[]){5});
    }
    ortc_model_free(model);
}
END_TEST

START_TEST(test_real_loop_and_constant_models)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = ortc_onnx_load_file(&model, TESTDATA "/test_loop11/model.onnx", &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    ortc_node *loop = model->graph->nodes[0];
    ck_assert_str_eq(loop->op_type, "Loop");
    ck_assert_int_eq(loop->n_outputs, 2);
    ortc_graph *body = attr_of(loop, "body", ORTC_ATTR_GRAPH)->g;
    /* onnx.load: loop_body has 3 inputs, 3 outputs, 9 nodes; Constant 'x' is
     * float_data [1..5], Constant 'one' an int64 scalar 1 in int64_data */
    ck_assert_str_eq(body->name, "loop_body");
    ck_assert_int_eq(body->n_inputs, 3);
    ck_assert_int_eq(body->n_outputs, 3);
    ck_assert_int_eq(body->n_nodes, 9);
    ck_assert_int_eq(find(body, "iter_count")->dtype, ORTC_DTYPE_INT64);
    const ortc_const_tensor *xt = attr_of(find(body, "x")->producer, "value", ORTC_ATTR_TENSOR)->t;
    ck_assert_int_eq(xt->t.dims[0], 5);
    ck_assert_float_eq(((const float *)xt->t.data)[4], 5);
    const ortc_const_tensor *one =
        attr_of(find(body, "one")->producer, "value", ORTC_ATTR_TENSOR)->t;
    ck_assert_int_eq(one->t.dtype, ORTC_DTYPE_INT64);
    ck_assert_int_eq(one->t.rank, 0);
    ck_assert_int_eq(((const int64_t *)one->t.data)[0], 1);
    ortc_model_free(model);

    st = ortc_onnx_load_file(&model, TESTDATA "/test_constant/model.onnx", &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    const ortc_const_tensor *ct = attr_of(model->graph->nodes[0], "value", ORTC_ATTR_TENSOR)->t;
    ck_assert_int_eq(ct->t.rank, 2);
    /* numpy_helper.to_array: first 1.764052391052246, last 2.269754648208618 */
    ck_assert_float_eq(((const float *)ct->t.data)[0], 1.764052391052246f);
    ck_assert_float_eq(((const float *)ct->t.data)[24], 2.269754648208618f);
    ortc_model_free(model);
}
END_TEST

START_TEST(test_every_backend_model)
{
    /* The backend-test models are valid ONNX (ONNX's own suite checks them):
     * each must load, or be refused as UNSUPPORTED for its sequence/optional
     * values, never called invalid. */
    glob_t gl;
    ck_assert_int_eq(glob(TESTDATA "/*/model.onnx", 0, NULL, &gl), 0);
    ck_assert_uint_gt(gl.gl_pathc, 900);
    size_t ok = 0;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        ortc_model *model = NULL;
        ortc_errbuf e;
        ortc_status st = ortc_onnx_load_file(&model, gl.gl_pathv[i], &e);
        if (st == ORTC_STATUS_OK) {
            ck_assert_ptr_nonnull(model->graph);
            ortc_model_free(model);
            ok++;
            continue;
        }
        ck_assert_msg(st == ORTC_STATUS_UNSUPPORTED &&
                          (strstr(e.msg, "sequence type") || strstr(e.msg, "optional type")),
                      "%s", e.msg);
        ck_assert_ptr_nonnull(strstr(e.msg, gl.gl_pathv[i]));
    }
    /* 908 of the 932 at the time of writing (24 use sequences/optionals) */
    ck_assert_msg(ok >= 900, "only %zu of %zu loaded", ok, gl.gl_pathc);
    globfree(&gl);
}
END_TEST

/* ---- the writer: IR -> file -> IR ------------------------------------------- */

static void same_tensor(const ortc_tensor *a, const ortc_tensor *b, const char *where)
{
    ck_assert_msg(a->dtype == b->dtype && a->rank == b->rank, "%s: dtype/rank", where);
    for (int i = 0; i < a->rank; i++)
        ck_assert_msg(a->dims[i] == b->dims[i], "%s: dim %d", where, i);
    if (a->dtype == ORTC_DTYPE_STRING) {
        char *const *x = a->data, *const *y = b->data;
        for (int64_t i = 0; i < ortc_tensor_numel(a); i++)
            ck_assert_msg(strcmp(x[i] ? x[i] : "", y[i] ? y[i] : "") == 0, "%s: string %lld", where,
                          (long long)i);
        return;
    }
    size_t n = ortc_tensor_bytes(a);
    ck_assert_msg(n == ortc_tensor_bytes(b) && (n == 0 || memcmp(a->data, b->data, n) == 0),
                  "%s: data", where);
}

static void same_value_type(const ortc_value *a, const ortc_value *b, const char *where)
{
    ck_assert_msg(strcmp(a->name, b->name) == 0, "%s: name %s vs %s", where, a->name, b->name);
    if (!a->declared)
        return;
    ck_assert_msg(a->type == b->type && a->dtype == b->dtype && a->rank == b->rank,
                  "%s: type of '%s'", where, a->name);
    for (int i = 0; i < a->rank; i++) {
        ck_assert_msg(a->dims[i].value == b->dims[i].value, "%s: dim %d of '%s'", where, i,
                      a->name);
        ck_assert_msg(strcmp(a->dims[i].param ? a->dims[i].param : "",
                             b->dims[i].param ? b->dims[i].param : "") == 0,
                      "%s: dim %d param of '%s'", where, i, a->name);
    }
}

static void same_graph(const ortc_graph *a, const ortc_graph *b, const char *where);

static void same_attr(const ortc_attr *a, const ortc_attr *b, const char *where)
{
    ck_assert_msg(strcmp(a->name, b->name) == 0 && a->type == b->type, "%s: attr %s", where,
                  a->name);
    switch (a->type) {
    case ORTC_ATTR_FLOAT: ck_assert_msg(memcmp(&a->f, &b->f, sizeof a->f) == 0, "%s", where); break;
    case ORTC_ATTR_INT: ck_assert_msg(a->i == b->i, "%s: %s", where, a->name); break;
    case ORTC_ATTR_STRING:
        ck_assert_msg(a->s_len == b->s_len && memcmp(a->s, b->s, a->s_len) == 0, "%s", where);
        break;
    case ORTC_ATTR_TENSOR: same_tensor(&a->t->t, &b->t->t, where); break;
    case ORTC_ATTR_GRAPH: same_graph(a->g, b->g, where); break;
    case ORTC_ATTR_TYPE_PROTO:
        ck_assert_msg(a->vtype == b->vtype && a->vdtype == b->vdtype, "%s", where);
        break;
    default:
        ck_assert_msg(a->n == b->n, "%s: %s has %zu vs %zu items", where, a->name, a->n, b->n);
        for (size_t i = 0; i < a->n; i++) {
            if (a->type == ORTC_ATTR_FLOATS)
                ck_assert_msg(memcmp(&a->floats[i], &b->floats[i], sizeof(float)) == 0, "%s",
                              where);
            else if (a->type == ORTC_ATTR_INTS)
                ck_assert_msg(a->ints[i] == b->ints[i], "%s", where);
            else if (a->type == ORTC_ATTR_STRINGS)
                ck_assert_msg(strcmp(a->strings[i], b->strings[i]) == 0, "%s", where);
            else if (a->type == ORTC_ATTR_TENSORS)
                same_tensor(&a->tensors[i]->t, &b->tensors[i]->t, where);
            else if (a->type == ORTC_ATTR_GRAPHS)
                same_graph(a->graphs[i], b->graphs[i], where);
        }
    }
}

static void same_graph(const ortc_graph *a, const ortc_graph *b, const char *where)
{
    ck_assert_msg(a->n_nodes == b->n_nodes && a->n_inputs == b->n_inputs &&
                      a->n_outputs == b->n_outputs,
                  "%s: graph '%s' counts", where, a->name);
    for (int i = 0; i < a->n_inputs; i++)
        same_value_type(a->inputs[i], b->inputs[i], where);
    for (int i = 0; i < a->n_outputs; i++)
        same_value_type(a->outputs[i], b->outputs[i], where);
    int constants = 0;
    for (int i = 0; i < a->n_values; i++) {
        const ortc_value *v = a->values[i];
        if (v->kind != ORTC_VALUE_CONSTANT || !v->constant)
            continue;
        constants++;
        const ortc_value *w = ortc_graph_find_local(b, v->name);
        ck_assert_msg(w && w->kind == ORTC_VALUE_CONSTANT && w->constant,
                      "%s: initializer '%s' lost", where, v->name);
        same_tensor(&v->constant->t, &w->constant->t, where);
    }
    for (int i = 0; i < b->n_values; i++)
        constants -= b->values[i]->kind == ORTC_VALUE_CONSTANT && b->values[i]->constant;
    ck_assert_msg(constants == 0, "%s: initializer count", where);
    for (int k = 0; k < a->n_nodes; k++) {
        const ortc_node *x = a->nodes[k], *y = b->nodes[k];
        ck_assert_msg(strcmp(x->op_type, y->op_type) == 0 && strcmp(x->domain, y->domain) == 0 &&
                          strcmp(x->name, y->name) == 0 && x->n_inputs == y->n_inputs &&
                          x->n_outputs == y->n_outputs && x->n_attrs == y->n_attrs,
                      "%s: node %d (%s)", where, k, x->op_type);
        for (int i = 0; i < x->n_inputs; i++)
            ck_assert_msg(strcmp(x->inputs[i] ? x->inputs[i]->name : "",
                                 y->inputs[i] ? y->inputs[i]->name : "") == 0,
                          "%s: node %d input %d", where, k, i);
        for (int i = 0; i < x->n_outputs; i++)
            ck_assert_msg(strcmp(x->outputs[i] ? x->outputs[i]->name : "",
                                 y->outputs[i] ? y->outputs[i]->name : "") == 0,
                          "%s: node %d output %d", where, k, i);
        for (int i = 0; i < x->n_attrs; i++)
            same_attr(&x->attrs[i], &y->attrs[i], where);
    }
}

START_TEST(test_writer_round_trip)
{
    /* Every backend-test model ortc loads, written and loaded again, is the
     * same IR: metadata, opsets, inputs/outputs with their types, every
     * initializer byte for byte, nodes and attributes of every type,
     * subgraphs (If/Loop/Scan) included. */
    const char *dirs[] = {TESTDATA "/*/model.onnx",
                          "/usr/share/libonnx-testdata/data/pytorch-converted/*/model.onnx",
                          "/usr/share/libonnx-testdata/data/simple/*/model.onnx"};
    char tmp[] = "/tmp/ortc_writer_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/m.onnx", tmp);
    size_t done = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        glob_t gl;
        ck_assert_int_eq(glob(dirs[d], 0, NULL, &gl), 0);
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            ortc_model *a = NULL, *b = NULL;
            ortc_errbuf e;
            if (ortc_onnx_load_file(&a, gl.gl_pathv[i], &e))
                continue; /* sequences/optionals: test_every_backend_model */
            ck_assert_msg(ortc_onnx_save_file(a, out, &e) == ORTC_STATUS_OK, "%s: %s",
                          gl.gl_pathv[i], e.msg);
            ck_assert_msg(ortc_onnx_load_file(&b, out, &e) == ORTC_STATUS_OK, "%s: %s",
                          gl.gl_pathv[i], e.msg);
            ck_assert_int_eq(a->ir_version, b->ir_version);
            ck_assert_int_eq(a->n_opsets, b->n_opsets);
            for (int k = 0; k < a->n_opsets; k++)
                ck_assert_int_eq(a->opsets[k].version, b->opsets[k].version);
            ck_assert_str_eq(a->producer_name ? a->producer_name : "",
                             b->producer_name ? b->producer_name : "");
            same_graph(a->graph, b->graph, gl.gl_pathv[i]);
            ortc_model_free(a);
            ortc_model_free(b);
            done++;
        }
        globfree(&gl);
    }
    ck_assert_uint_gt(done, 1000);
    unlink(out);
    rmdir(tmp);
}
END_TEST

START_TEST(test_writer_errors)
{
    ortc_model *m = NULL;
    ortc_errbuf e;
    glob_t gl;
    ck_assert_int_eq(glob(TESTDATA "/test_conv_with_strides_padding/model.onnx", 0, NULL, &gl), 0);
    ck_assert_int_eq(ortc_onnx_load_file(&m, gl.gl_pathv[0], &e), ORTC_STATUS_OK);
    globfree(&gl);
    /* a folder that does not exist: named, and nothing left behind */
    ck_assert_int_eq(ortc_onnx_save_file(m, "/nonexistent/dir/out.onnx", &e), ORTC_STATUS_IO_ERROR);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/dir/out.onnx"));
    /* fused post-ops have no ONNX form: refused naming the node */
    ortc_node *n = m->graph->nodes[0];
    ck_assert_int_eq(ortc_node_add_post_op(n, (ortc_post_op){.kind = ORTC_POST_OP_RELU}), 0);
    ck_assert_int_eq(ortc_onnx_save_file(m, "/tmp/ortc_writer_refused.onnx", &e),
                     ORTC_STATUS_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(e.msg, "post-ops"));
    ck_assert_int_ne(access("/tmp/ortc_writer_refused.onnx", F_OK), 0);
    ortc_model_free(m);
}
END_TEST

/* ---- tensor files ------------------------------------------------------- */

static void read_pb(const char *rel, ortc_tensor *t, const char *want_name, ortc_dtype dt, int rank,
                    const int64_t *dims)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", TESTDATA, rel);
    char *name = NULL;
    ortc_status st = ortc_tensor_read_pb(path, t, &name);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", ortc_last_error());
    ck_assert_str_eq(name, want_name);
    free(name);
    ck_assert_int_eq(t->dtype, dt);
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
    ck_assert_ptr_nonnull(t->data);
}

START_TEST(test_tensor_files)
{
    /* expected values: onnx.numpy_helper.to_array on each file, at test-writing time */
    ortc_tensor t;
    read_pb("test_conv_with_strides_padding/test_data_set_0/input_0.pb", &t, "x", ORTC_DTYPE_FLOAT,
            4, (const int64_t[]){1, 1, 7, 5});
    const float *f = t.data;
    ck_assert_float_eq(f[0], 0);
    ck_assert_float_eq(f[3], 3);
    ck_assert_float_eq(f[34], 34);
    ortc_tensor_release(&t);
    ck_assert_ptr_null(t.data);
    ck_assert_int_eq(t.rank, 0);

    read_pb("test_conv_with_strides_padding/test_data_set_0/output_0.pb", &t, "y", ORTC_DTYPE_FLOAT,
            4, (const int64_t[]){1, 1, 4, 3});
    f = t.data;
    ck_assert_float_eq(f[0], 12);
    ck_assert_float_eq(f[1], 27);
    ck_assert_float_eq(f[3], 63);
    ck_assert_float_eq(f[11], 124);
    ortc_tensor_release(&t);

    read_pb("test_lrn/test_data_set_0/input_0.pb", &t, "x", ORTC_DTYPE_FLOAT, 4,
            (const int64_t[]){5, 5, 5, 5});
    f = t.data;
    ck_assert_float_eq(f[0], 1.764052391052246f);
    ck_assert_float_eq(f[3], 2.2408931255340576f);
    ck_assert_float_eq(f[624], -0.3751471f);
    ortc_tensor_release(&t);
    read_pb("test_lrn/test_data_set_0/output_0.pb", &t, "y", ORTC_DTYPE_FLOAT, 4,
            (const int64_t[]){5, 5, 5, 5});
    ck_assert_float_eq(((const float *)t.data)[1], 0.2829531133174896f);
    ortc_tensor_release(&t);

    read_pb("test_if/test_data_set_0/input_0.pb", &t, "cond", ORTC_DTYPE_BOOL, 0, NULL);
    ck_assert_uint_eq(((const uint8_t *)t.data)[0], 1);
    ortc_tensor_release(&t);
    read_pb("test_loop11/test_data_set_0/input_0.pb", &t, "trip_count", ORTC_DTYPE_INT64, 0, NULL);
    ck_assert_int_eq(((const int64_t *)t.data)[0], 5);
    ortc_tensor_release(&t);

    /* float16 raw bits: to_array(...).view(np.uint16)[:2] == [14436, 14777] */
    read_pb("test_cast_FLOAT_to_FLOAT16/test_data_set_0/output_0.pb", &t, "output",
            ORTC_DTYPE_FLOAT16, 2, (const int64_t[]){3, 4});
    ck_assert_uint_eq(((const uint16_t *)t.data)[0], 14436);
    ck_assert_uint_eq(((const uint16_t *)t.data)[1], 14777);
    ortc_tensor_release(&t);

    /* strings in string_data: '0.47892547' first, '-INF' last */
    read_pb("test_cast_STRING_to_FLOAT/test_data_set_0/input_0.pb", &t, "input", ORTC_DTYPE_STRING,
            2, (const int64_t[]){3, 4});
    char *const *s = t.data;
    ck_assert_str_eq(s[0], "0.47892547");
    ck_assert_str_eq(s[11], "-INF");
    ortc_tensor_release(&t);

    /* name may be NULL */
    ck_assert_int_eq(ortc_tensor_read_pb(TESTDATA "/test_if/test_data_set_0/output_0.pb", &t, NULL),
                     ORTC_STATUS_OK);
    ck_assert_int_eq(t.dims[0], 5);
    ck_assert_float_eq(((const float *)t.data)[4], 5);
    ortc_tensor_release(&t);
    ortc_tensor_release(&t); /* zeroed: no-op */
    ortc_tensor_release(NULL);
}
END_TEST

static uint8_t *pack_tensor(Onnx__TensorProto *tp, size_t *len)
{
    *len = onnx__tensor_proto__get_packed_size(tp);
    uint8_t *b = pb_xcalloc(*len, 1);
    onnx__tensor_proto__pack(tp, b);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return b;
}

START_TEST(test_tensor_parse_pb)
{
    ortc_tensor t;
    char *name = NULL;
    size_t len;
    /* a large raw tensor (moved out of the message), then typed int8 */
    float *big = pb_xcalloc(1000, sizeof *big);
    for (int i = 0; i < 1000; i++)
        big[i] = (float)i - 500;
    Onnx__TensorProto *tp = pb_tensor_new("big", ORTC_DTYPE_FLOAT, "10,100");
    pb_tensor_raw(tp, big, 4000);
    uint8_t *b = pack_tensor(tp, &len);
    ck_assert_int_eq(ortc_tensor_parse_pb(b, len, &t, &name), ORTC_STATUS_OK);
    ck_assert_str_eq(name, "big");
    free(name);
    ck_assert_int_eq(t.rank, 2);
    ck_assert_int_eq(t.dims[1], 100);
    for (int i = 0; i < 1000; i++)
        ck_assert_float_eq(((const float *)t.data)[i], big[i]);
    ortc_tensor_release(&t);
    free(big);
    free(b);

    tp = pb_tensor_new("", ORTC_DTYPE_INT8, "2");
    pb_tensor_int32s(tp, (const int32_t[]){-3, 100}, 2);
    b = pack_tensor(tp, &len);
    ck_assert_int_eq(ortc_tensor_parse_pb(b, len, &t, &name), ORTC_STATUS_OK);
    ck_assert_str_eq(name, "");
    free(name);
    ck_assert_int_eq(((const int8_t *)t.data)[0], -3);
    ck_assert_int_eq(((const int8_t *)t.data)[1], 100);
    ortc_tensor_release(&t);
    free(b);

    /* refusals */
    tp = pb_tensor_new("short", ORTC_DTYPE_FLOAT, "4");
    pb_tensor_raw(tp, "abcdefgh", 8);
    b = pack_tensor(tp, &len);
    ck_assert_int_eq(ortc_tensor_parse_pb(b, len, &t, &name), ORTC_STATUS_INVALID_MODEL);
    ck_assert_ptr_null(name);
    ck_assert_ptr_null(t.data);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(),
                                 "tensor 'short' (float32 [4]) needs 16 bytes but raw_data has 8"));
    free(b);

    tp = pb_tensor_new("ext", ORTC_DTYPE_FLOAT, "4");
    pb_tensor_external(tp, "w.bin", NULL, NULL);
    b = pack_tensor(tp, &len);
    ck_assert_int_eq(ortc_tensor_parse_pb(b, len, &t, NULL), ORTC_STATUS_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "tensor 'ext'"));
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "external"));
    free(b);

    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    ck_assert_int_eq(ortc_tensor_parse_pb(junk, sizeof junk, &t, NULL), ORTC_STATUS_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "not a valid TensorProto"));
    ck_assert_int_eq(ortc_tensor_parse_pb(junk, 0, &t, NULL), ORTC_STATUS_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "no data type"));
    ck_assert_int_eq(ortc_tensor_parse_pb(junk, 1, NULL, NULL), ORTC_STATUS_INVALID_ARGUMENT);

    ck_assert_int_eq(ortc_tensor_read_pb("/nonexistent/input_0.pb", &t, &name),
                     ORTC_STATUS_IO_ERROR);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "/nonexistent/input_0.pb: cannot open"));
    ck_assert_ptr_null(name);
    /* a model file is not a tensor: the error names the file */
    ortc_status st = ortc_tensor_read_pb(TESTDATA "/test_lrn/model.onnx", &t, NULL);
    ck_assert_int_ne(st, ORTC_STATUS_OK);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "test_lrn/model.onnx: "));
}
END_TEST

/* ---- large raw_data: read from the source, never copied by protobuf-c ---- */

/* want[0..n) vs got: fails naming the first differing byte. */
static void assert_bytes(const char *what, const void *got, const void *want, size_t n)
{
    const uint8_t *g = got, *w = want;
    if (memcmp(got, want, n) == 0)
        return; /* (a check per byte would be slow: Check marks each one) */
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(g[i] == w[i], "%s: byte %zu of %zu is 0x%02x, want 0x%02x", what, i, n, g[i],
                      w[i]);
}

static size_t find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return i;
    ck_abort_msg("pattern not found in the packed model");
    return 0;
}

/* Sizes around the stripping threshold, and one above a huge page with an
 * odd tail (storage then mixes huge and small pages). */
#define N_BELOW ((ORTC_PB_STRIP_MIN - 4) / 4) /* floats */
#define N_AT (ORTC_PB_STRIP_MIN / 4)
#define N_HUGE ((3 << 20) / 4 + 3)

typedef struct large_data {
    float *below, *at, *huge, *attr, *sub, *ts1;
    int32_t *ints;
} large_data;

static large_data large_data_new(void)
{
    large_data d;
    d.below = pb_xcalloc(N_BELOW, 4);
    d.at = pb_xcalloc(N_AT, 4);
    d.huge = pb_xcalloc(N_HUGE, 4);
    d.attr = pb_xcalloc(5000, 4);
    d.sub = pb_xcalloc(3000, 4);
    d.ts1 = pb_xcalloc(2000, 4);
    d.ints = pb_xcalloc(1500, 4);
    fill_pattern(d.below, N_BELOW * 4, 1);
    fill_pattern(d.at, N_AT * 4, 2);
    fill_pattern(d.huge, N_HUGE * 4, 3);
    fill_pattern(d.attr, 5000 * 4, 4);
    fill_pattern(d.sub, 3000 * 4, 5);
    fill_pattern(d.ts1, 2000 * 4, 6);
    fill_pattern(d.ints, 1500 * 4, 7);
    return d;
}

static void large_data_free(large_data *d)
{
    free(d->below);
    free(d->at);
    free(d->huge);
    free(d->attr);
    free(d->sub);
    free(d->ts1);
    free(d->ints);
}

static char *dims_str(char *buf, size_t len, size_t n)
{
    snprintf(buf, len, "%zu", n);
    return buf;
}

/* Initializers below, at and far above the threshold (one int32), a
 * Constant's tensor, a TENSORS attribute and an If branch's initializer. */
static Onnx__ModelProto *large_model(const large_data *d)
{
    char dims[32];
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__GraphProto *g = m->graph;
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("below", ORTC_DTYPE_FLOAT,
                                               dims_str(dims, sizeof dims, N_BELOW))),
                  d->below, N_BELOW * 4);
    pb_tensor_raw(
        pb_add_init(g, pb_tensor_new("at", ORTC_DTYPE_FLOAT, dims_str(dims, sizeof dims, N_AT))),
        d->at, N_AT * 4);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("huge", ORTC_DTYPE_FLOAT,
                                               dims_str(dims, sizeof dims, N_HUGE))),
                  d->huge, N_HUGE * 4);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("ints", ORTC_DTYPE_INT32, "30,50")), d->ints,
                  1500 * 4);
    pb_add_input(g, "c", ORTC_DTYPE_BOOL, "");
    Onnx__NodeProto *k = pb_add_node(g, "Constant", "k", "", "kout");
    Onnx__AttributeProto *a =
        pb_add_attr(k, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = pb_tensor_new("", ORTC_DTYPE_FLOAT, "50,100");
    pb_tensor_raw(a->t, d->attr, 5000 * 4);
    Onnx__NodeProto *x = pb_add_node(g, "Identity", "many", "kout", "mout");
    a = pb_add_attr(x, "ts", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
    a->n_tensors = 2;
    a->tensors = pb_xcalloc(2, sizeof *a->tensors);
    a->tensors[0] = pb_tensor_new("small", ORTC_DTYPE_FLOAT, "2");
    pb_tensor_raw(a->tensors[0], d->below, 8);
    a->tensors[1] = pb_tensor_new("ts1", ORTC_DTYPE_FLOAT, "2000");
    pb_tensor_raw(a->tensors[1], d->ts1, 2000 * 4);
    Onnx__NodeProto *n = pb_add_node(g, "If", "branch", "c", "out");
    Onnx__GraphProto *body = pb_graph_new("then");
    pb_tensor_raw(pb_add_init(body, pb_tensor_new("sub", ORTC_DTYPE_FLOAT, "3000")), d->sub,
                  3000 * 4);
    pb_add_output(body, "sub", ORTC_DTYPE_FLOAT, NULL);
    pb_add_graph(n, "then_branch", body);
    pb_add_output(g, "out", ORTC_DTYPE_FLOAT, NULL);
    pb_add_output(g, "mout", ORTC_DTYPE_FLOAT, NULL);
    return m;
}

static void check_large_model(ortc_model *model, const large_data *d)
{
    assert_bytes("below", CONST_DATA(model, "below", ORTC_DTYPE_FLOAT, float, N_BELOW), d->below,
                 N_BELOW * 4);
    assert_bytes("at", CONST_DATA(model, "at", ORTC_DTYPE_FLOAT, float, N_AT), d->at, N_AT * 4);
    assert_bytes("huge", CONST_DATA(model, "huge", ORTC_DTYPE_FLOAT, float, N_HUGE), d->huge,
                 N_HUGE * 4);
    assert_bytes("ints", CONST_DATA(model, "ints", ORTC_DTYPE_INT32, int32_t, 30, 50), d->ints,
                 1500 * 4);
    ortc_graph *g = model->graph;
    const ortc_node *k = NULL, *many = NULL, *br = NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!strcmp(g->nodes[i]->name, "k"))
            k = g->nodes[i];
        else if (!strcmp(g->nodes[i]->name, "many"))
            many = g->nodes[i];
        else if (!strcmp(g->nodes[i]->name, "branch"))
            br = g->nodes[i];
    }
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(many);
    ck_assert_ptr_nonnull(br);
    const ortc_attr *a = attr_of(k, "value", ORTC_ATTR_TENSOR);
    ck_assert_int_eq(a->t->t.rank, 2);
    ck_assert_int_eq(a->t->t.dims[1], 100);
    ck_assert_msg((uintptr_t)a->t->t.data % 64 == 0, "Constant data not 64-byte aligned");
    assert_bytes("Constant value", a->t->t.data, d->attr, 5000 * 4);
    a = attr_of(many, "ts", ORTC_ATTR_TENSORS);
    ck_assert_uint_eq(a->n, 2);
    assert_bytes("ts[0]", a->tensors[0]->t.data, d->below, 8);
    ck_assert_int_eq(a->tensors[1]->t.dims[0], 2000);
    assert_bytes("ts[1]", a->tensors[1]->t.data, d->ts1, 2000 * 4);
    ortc_graph *sub = attr_of(br, "then_branch", ORTC_ATTR_GRAPH)->g;
    ortc_value *v = find(sub, "sub");
    ck_assert_int_eq(v->kind, ORTC_VALUE_CONSTANT);
    ck_assert_msg((uintptr_t)v->constant->t.data % 64 == 0, "subgraph data not aligned");
    assert_bytes("sub", v->constant->t.data, d->sub, 3000 * 4);
}

START_TEST(test_large_initializers)
{
    large_data d = large_data_new();
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg(large_model(&d), NULL, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    check_large_model(model, &d);
    ortc_model_free(model);

    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/large.onnx", dir);
    st = load_msg_file(large_model(&d), path, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    check_large_model(model, &d);
    ortc_model_free(model);
    rm_rf(dir);
    large_data_free(&d);
}
END_TEST

/* Tensors of 16 MB and more are read from the file by several threads,
 * one page-aligned part each: every byte must land where it belongs, for
 * sizes just at the threshold, not a multiple of the page, and with the
 * data at an odd offset in the file (a 3-byte tensor packed before it). */
START_TEST(test_parallel_read_parts)
{
    const size_t sizes[3] = {(16u << 20) / 4, (16u << 20) / 4 + 1024 + 3, (40u << 20) / 4 + 5};
    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX], dims[32];
    snprintf(path, sizeof path, "%s/parts.onnx", dir);
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__TensorProto *small = pb_tensor_new("small", ORTC_DTYPE_UINT8, "3");
    const uint8_t three[3] = {1, 2, 3};
    pb_tensor_raw(small, three, 3);
    pb_add_init(m->graph, small);
    pb_add_output(m->graph, "small", ORTC_DTYPE_UINT8, NULL);
    uint8_t *want[3];
    const char *names[3] = {"p0", "p1", "p2"};
    for (int i = 0; i < 3; i++) {
        Onnx__TensorProto *t =
            pb_tensor_new(names[i], ORTC_DTYPE_FLOAT, dims_str(dims, sizeof dims, sizes[i]));
        want[i] = pb_xcalloc(sizes[i], 4);
        fill_pattern(want[i], sizes[i] * 4, 77 + (uint64_t)i);
        pb_tensor_raw(t, want[i], sizes[i] * 4);
        pb_add_init(m->graph, t);
        pb_add_output(m->graph, names[i], ORTC_DTYPE_FLOAT, NULL);
    }
    ortc_model *model = NULL;
    ortc_errbuf e;
    ortc_status st = load_msg_file(m, path, &model, &e);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
    for (int i = 0; i < 3; i++) {
        ortc_value *v = find(model->graph, names[i]);
        ck_assert_int_eq(v->kind, ORTC_VALUE_CONSTANT);
        assert_bytes(names[i], v->constant->t.data, want[i], sizes[i] * 4);
        free(want[i]);
    }
    ortc_model_free(model);
    rm_rf(dir);
}
END_TEST

START_TEST(test_large_raw_data_refusals)
{
    ortc_model *model = NULL;
    ortc_errbuf e;
    float *buf = pb_xcalloc(5000, 4);
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("long", ORTC_DTYPE_FLOAT, "1024")), buf,
                  4100);
    ortc_status st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e,
                 "initializer 'long' (float32 [1024]) needs 4096 bytes but raw_data has 4100");

    m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("short", ORTC_DTYPE_FLOAT, "4,1024")), buf,
                  ORTC_PB_STRIP_MIN);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e,
                 "initializer 'short' (float32 [4,1024]) needs 16384 bytes but raw_data has 1024");

    m = pb_model_new(8, 13);
    Onnx__TensorProto *t = pb_add_init(m->graph, pb_tensor_new("both", ORTC_DTYPE_FLOAT, "1024"));
    pb_tensor_raw(t, buf, 4096);
    pb_tensor_floats(t, buf, 1024);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 'both'",
                 "both raw_data and float_data");

    m = pb_model_new(8, 13);
    pb_tensor_raw(pb_add_init(m->graph, pb_tensor_new("s", ORTC_DTYPE_STRING, "2")), buf, 2048);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "initializer 's'", "string_data");

    /* the same checks for a Constant's tensor and a TENSORS attribute */
    m = pb_model_new(8, 13);
    Onnx__NodeProto *c = pb_add_node(m->graph, "Constant", "k", "", "kout");
    Onnx__AttributeProto *a =
        pb_add_attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = pb_tensor_new("", ORTC_DTYPE_FLOAT, "1024");
    pb_tensor_raw(a->t, buf, 4092);
    st = load_msg(m, NULL, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e,
                 "node 'k' (Constant) attribute 'value' (float32 [1024]) needs 4096 bytes but "
                 "raw_data has 4092");

    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/bad.onnx", dir);
    m = pb_model_new(8, 13);
    c = pb_add_node(m->graph, "Foo", "n", "", "y");
    a = pb_add_attr(c, "ts", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
    a->n_tensors = 2;
    a->tensors = pb_xcalloc(2, sizeof *a->tensors);
    a->tensors[0] = pb_tensor_new("", ORTC_DTYPE_FLOAT, "1024");
    pb_tensor_raw(a->tensors[0], buf, 4096);
    a->tensors[1] = pb_tensor_new("", ORTC_DTYPE_FLOAT, "1000");
    pb_tensor_raw(a->tensors[1], buf, 4096);
    st = load_msg_file(m, path, &model, &e);
    EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, path,
                 "node 'n' (Foo) attribute 'ts' tensor #1 (float32 [1000]) needs 4000 bytes but "
                 "raw_data has 4096");
    rm_rf(dir);
    free(buf);
}
END_TEST

/* A model whose only large payload is `payload` (len bytes) in initializer
 * 'fc.weight' or, with in_constant, in Constant 'k''s value. */
static uint8_t *pack_one_large(const void *payload, size_t len, bool in_constant, size_t *n)
{
    char dims[32];
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__TensorProto *t = pb_tensor_new(in_constant ? "" : "fc.weight", ORTC_DTYPE_FLOAT,
                                         dims_str(dims, sizeof dims, len / 4));
    pb_tensor_raw(t, payload, len);
    if (in_constant) {
        Onnx__NodeProto *c = pb_add_node(m->graph, "Constant", "k", "", "kout");
        pb_add_attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
        pb_add_output(m->graph, "kout", ORTC_DTYPE_FLOAT, NULL);
    } else {
        pb_add_init(m->graph, t);
        pb_add_output(m->graph, "fc.weight", ORTC_DTYPE_FLOAT, NULL);
    }
    uint8_t *b = pb_pack_model(m, n);
    onnx__model_proto__free_unpacked(m, NULL);
    return b;
}

START_TEST(test_truncated_inside_large_raw_data)
{
    const size_t len = 1200000;
    uint8_t *payload = pb_xcalloc(len, 1);
    fill_pattern(payload, len, 11);
    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cut.onnx", dir);
    ortc_model *model = NULL;
    ortc_errbuf e;
    for (int in_constant = 0; in_constant < 2; in_constant++) {
        const char *who =
            in_constant ? "node 'k' (Constant) attribute 'value'" : "initializer 'fc.weight'";
        size_t n;
        uint8_t *b = pack_one_large(payload, len, in_constant, &n);
        size_t at = find_bytes(b, n, payload, 64);
        /* whole: loads */
        ortc_status st = ortc_onnx_load_buffer(&model, b, n, NULL, &e);
        ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
        ortc_model_free(model);
        /* cut inside the payload: the tensor is named */
        size_t cut = at + len / 3;
        char want[200];
        snprintf(want, sizeof want,
                 "%s: raw_data of %zu bytes runs past the end of the file (%zu "
                 "of them are there; the file is %zu bytes - truncated?)",
                 who, len, len / 3, cut);
        write_file(path, b, cut);
        st = ortc_onnx_load_file(&model, path, &e);
        EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, path, want);
        ck_assert_ptr_null(model);
        st = ortc_onnx_load_buffer(&model, b, at + 1, NULL, &e);
        EXPECT_ERROR(st, ORTC_STATUS_INVALID_MODEL, &e, "<buffer>: ", who,
                     "runs past the end of "
                     "the buffer",
                     "truncated?");
        /* every cut is refused (sampled inside the payload), none crashes */
        for (size_t c = 0; c < n; c += (c < at + 64 || c + 512 > n) ? 1 : 4099) {
            st = ortc_onnx_load_buffer(&model, b, c, NULL, &e);
            ck_assert_msg(st == ORTC_STATUS_INVALID_MODEL, "prefix of %zu/%zu bytes: %s (%s)", c, n,
                          ortc_status_name(st), e.msg);
            ck_assert_ptr_null(model);
        }
        free(b);
    }
    rm_rf(dir);
    free(payload);
}
END_TEST

/* ---- hand-encoded messages: what protobuf-c's packer cannot produce ---- */

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static void put_bytes(bytes *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    ck_assert_ptr_nonnull(b->p);
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_varint(bytes *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    put_bytes(b, t, n);
}

static void put_field(bytes *b, uint32_t tag, const void *p, size_t n)
{
    put_varint(b, (uint64_t)tag << 3 | 2);
    put_varint(b, n);
    put_bytes(b, p, n);
}

/* ModelProto bytes: m's fields (its graph left out) plus a graph made of g
 * with `extra` (GraphProto fields, encoded) appended. Frees m. */
static bytes model_with_graph_fields(Onnx__ModelProto *m, const bytes *extra)
{
    Onnx__GraphProto *g = m->graph;
    size_t gl = onnx__graph_proto__get_packed_size(g);
    bytes gb = {pb_xcalloc(gl, 1), gl};
    onnx__graph_proto__pack(g, gb.p);
    put_bytes(&gb, extra->p, extra->n);
    m->graph = NULL;
    onnx__graph_proto__free_unpacked(g, NULL);
    size_t ml = onnx__model_proto__get_packed_size(m);
    bytes mb = {pb_xcalloc(ml, 1), ml};
    onnx__model_proto__pack(m, mb.p);
    onnx__model_proto__free_unpacked(m, NULL);
    put_field(&mb, 7, gb.p, gb.n); /* ModelProto.graph */
    free(gb.p);
    return mb;
}

/* An initializer 'name' (float [n]) with the given TensorProto fields
 * (encoded) appended to dims/data_type/name. */
static void put_initializer(bytes *graph, const char *name, size_t n, const bytes *fields)
{
    bytes t = {NULL, 0};
    put_varint(&t, 1 << 3); /* dims */
    put_varint(&t, n);
    put_varint(&t, 2 << 3); /* data_type */
    put_varint(&t, ORTC_DTYPE_FLOAT);
    put_field(&t, 8, name, strlen(name));
    put_bytes(&t, fields->p, fields->n);
    put_field(graph, 5, t.p, t.n); /* GraphProto.initializer */
    free(t.p);
}

START_TEST(test_raw_data_twice_and_spoofed_payloads)
{
    float *big1 = pb_xcalloc(1024, 4), *big2 = pb_xcalloc(1024, 4);
    fill_pattern(big1, 4096, 21);
    fill_pattern(big2, 4096, 22);
    const float small[2] = {1.5f, -2.5f};
    bytes extra = {NULL, 0}, f = {NULL, 0};
    /* protobuf keeps the last raw_data: large then small */
    put_field(&f, 9, big1, 4096);
    put_field(&f, 9, small, 8);
    put_initializer(&extra, "large_small", 2, &f);
    f.n = 0; /* small then large */
    put_field(&f, 9, small, 8);
    put_field(&f, 9, big2, 4096);
    put_initializer(&extra, "small_large", 1024, &f);
    f.n = 0; /* large then large */
    put_field(&f, 9, big2, 4096);
    put_field(&f, 9, big1, 4096);
    put_initializer(&extra, "large_large", 1024, &f);
    /* a file's own field with ortc's private tag must not reach a payload:
     * float_data [1.5, -2.5] plus a varint field 536870911 = 0 */
    f.n = 0;
    put_field(&f, 4, small, 8); /* float_data, packed */
    put_varint(&f, (uint64_t)536870911 << 3);
    put_varint(&f, 0);
    put_initializer(&extra, "spoof", 2, &f);
    free(f.p);
    Onnx__ModelProto *m = pb_model_new(8, 13);
    const char *outs[] = {"large_small", "small_large", "large_large", "spoof"};
    for (int i = 0; i < 4; i++)
        pb_add_output(m->graph, outs[i], ORTC_DTYPE_FLOAT, NULL);
    bytes mb = model_with_graph_fields(m, &extra);
    free(extra.p);

    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/twice.onnx", dir);
    write_file(path, mb.p, mb.n);
    for (int from_file = 0; from_file < 2; from_file++) {
        ortc_model *model = NULL;
        ortc_errbuf e;
        ortc_status st = from_file ? ortc_onnx_load_file(&model, path, &e)
                                   : ortc_onnx_load_buffer(&model, mb.p, mb.n, NULL, &e);
        ck_assert_msg(st == ORTC_STATUS_OK, "%s", e.msg);
        assert_bytes("large_small", CONST_DATA(model, "large_small", ORTC_DTYPE_FLOAT, float, 2),
                     small, 8);
        assert_bytes("small_large", CONST_DATA(model, "small_large", ORTC_DTYPE_FLOAT, float, 1024),
                     big2, 4096);
        assert_bytes("large_large", CONST_DATA(model, "large_large", ORTC_DTYPE_FLOAT, float, 1024),
                     big1, 4096);
        assert_bytes("spoof", CONST_DATA(model, "spoof", ORTC_DTYPE_FLOAT, float, 2), small, 8);
        ortc_model_free(model);
    }
    rm_rf(dir);
    free(mb.p);
    free(big1);
    free(big2);
}
END_TEST

START_TEST(test_large_tensor_files)
{
    const size_t n = (3 << 20) / 4 + 5;
    float *v = pb_xcalloc(n, 4);
    fill_pattern(v, n * 4, 31);
    char dims[32];
    Onnx__TensorProto *tp =
        pb_tensor_new("input", ORTC_DTYPE_FLOAT, dims_str(dims, sizeof dims, n));
    pb_tensor_raw(tp, v, n * 4);
    size_t len;
    uint8_t *b = pack_tensor(tp, &len);
    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/input_0.pb", dir);
    write_file(path, b, len);
    ortc_tensor t;
    char *name = NULL;
    ck_assert_int_eq(ortc_tensor_read_pb(path, &t, &name), ORTC_STATUS_OK);
    ck_assert_str_eq(name, "input");
    free(name);
    ck_assert_int_eq(t.rank, 1);
    ck_assert_int_eq(t.dims[0], (int64_t)n);
    assert_bytes("read_pb", t.data, v, n * 4);
    ortc_tensor_release(&t);
    ck_assert_int_eq(ortc_tensor_parse_pb(b, len, &t, NULL), ORTC_STATUS_OK);
    assert_bytes("parse_pb", t.data, v, n * 4);
    ortc_tensor_release(&t);
    /* cut inside the payload */
    ck_assert_int_eq(ortc_tensor_parse_pb(b, len - 1000, &t, &name), ORTC_STATUS_INVALID_MODEL);
    ck_assert_ptr_null(name);
    ck_assert_msg(strstr(ortc_last_error(), "tensor 'input': raw_data of") &&
                      strstr(ortc_last_error(), "runs past the end of the buffer"),
                  "%s", ortc_last_error());
    write_file(path, b, len - 1000);
    ck_assert_int_eq(ortc_tensor_read_pb(path, &t, &name), ORTC_STATUS_INVALID_MODEL);
    ck_assert_ptr_null(name);
    ck_assert_ptr_null(t.data);
    const char *msg = ortc_last_error();
    ck_assert_msg(strstr(msg, path) && strstr(msg, "tensor 'input': raw_data of") &&
                      strstr(msg, "runs past the end of the file"),
                  "%s", msg);
    rm_rf(dir);
    free(b);
    free(v);
}
END_TEST

/* kB from /proc/self/status ("VmRSS:", "VmHWM:"), or -1 */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl))
            v = strtol(line + kl, NULL, 10);
    fclose(f);
    return v;
}

/* Loading keeps the weights once: the peak RSS growth of a load of a
 * ~100 MB model stays under 1.3x its weights (the former protobuf-c path
 * held file and weights at once: ~2x). Measured in a forked child whose
 * peak is reset first; a memory bound, not a timing. */
START_TEST(test_load_holds_weights_once)
{
    const size_t n1 = (64u << 20) / 4, n2 = (36u << 20) / 4 + 7;
    const double weights = (double)(n1 + n2) * 4;
    char dir[] = "/tmp/ortc_onnx_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/big.onnx", dir);
    {
        char dims[32];
        Onnx__ModelProto *m = pb_model_new(8, 13);
        const size_t ns[2] = {n1, n2};
        const char *names[2] = {"w1", "w2"};
        for (int i = 0; i < 2; i++) {
            Onnx__TensorProto *t =
                pb_tensor_new(names[i], ORTC_DTYPE_FLOAT, dims_str(dims, sizeof dims, ns[i]));
            t->has_raw_data = 1;
            t->raw_data.len = ns[i] * 4;
            t->raw_data.data = pb_xcalloc(ns[i], 4);
            fill_pattern(t->raw_data.data, 4096, 41 + (uint64_t)i); /* the rest stays 0 */
            pb_add_init(m->graph, t);
            pb_add_output(m->graph, names[i], ORTC_DTYPE_FLOAT, NULL);
        }
        size_t len;
        uint8_t *b = pb_pack_model(m, &len);
        onnx__model_proto__free_unpacked(m, NULL);
        write_file(path, b, len);
        free(b);
    }
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        long r[3] = {-1, -1, -1}; /* rss before, peak after, status */
        FILE *cr = fopen("/proc/self/clear_refs", "w");
        if (cr) { /* "5" resets the peak RSS (Linux >= 4.0) */
            fputs("5", cr);
            fclose(cr);
        }
        r[0] = status_kb("VmRSS:");
        long hwm0 = status_kb("VmHWM:");
        ortc_model *model = NULL;
        ortc_errbuf e;
        r[2] = ortc_onnx_load_file(&model, path, &e);
        r[1] = status_kb("VmHWM:");
        if (hwm0 > r[0] + 1024) /* the reset did not take: no honest peak */
            r[1] = -1;
        ortc_model_free(model);
        ssize_t w = write(fds[1], r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    long r[3];
    ck_assert_int_eq(read(fds[0], r, sizeof r), (ssize_t)sizeof r);
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    rm_rf(dir);
    ck_assert_msg(r[2] == ORTC_STATUS_OK, "load failed with status %ld", r[2]);
    ck_assert_msg(r[0] > 0 && r[1] > 0, "cannot measure the peak RSS here (VmRSS %ld, VmHWM %ld)",
                  r[0], r[1]);
    double growth = (double)(r[1] - r[0]) * 1024;
    /* the lower bound proves the measurement sees the weights at all */
    ck_assert_msg(growth >= 0.95 * weights && growth <= 1.3 * weights,
                  "peak RSS grew by %.1f MB while loading %.1f MB of weights (%.2fx; want 0.95x to "
                  "1.3x)",
                  growth / 1048576, weights / 1048576, growth / weights);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, test_model_metadata_and_io);
    tcase_add_test(tc, test_initializers_every_storage);
    tcase_add_test(tc, test_graph_input_that_is_initializer);
    tcase_add_test(tc, test_constant_node_stays_a_node);
    tcase_add_test(tc, test_subgraph_outer_scope);
    tcase_add_test(tc, test_value_info);
    tcase_add_test(tc, test_attributes_every_type);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("refusals");
    tcase_add_test(te, test_err_empty_and_garbage);
    tcase_add_test(te, test_err_truncated_real_model);
    tcase_add_test(te, test_err_missing_file);
    tcase_add_test(te, test_err_rank9_and_bad_types);
    tcase_add_test(te, test_err_initializer_data);
    tcase_add_test(te, test_err_attributes);
    tcase_add_test(te, test_err_versions_and_opsets);
    tcase_add_test(te, test_err_graph_structure);
    tcase_add_test(te, test_err_deep_nesting);
    tcase_add_test(te, test_external_data);
    suite_add_tcase(s, te);
    TCase *tr = tcase_create("real_files");
    tcase_add_test(tr, test_real_conv_model);
    tcase_add_test(tr, test_real_lrn_model);
    tcase_add_test(tr, test_real_if_model);
    tcase_add_test(tr, test_real_loop_and_constant_models);
    tcase_add_test(tr, test_every_backend_model);
    tcase_add_test(tr, test_tensor_files);
    tcase_add_test(tr, test_tensor_parse_pb);
    suite_add_tcase(s, tr);
    TCase *tw = tcase_create("writer");
    /* ~1,100 models written and read back: ~6 s under ASan on a loaded machine */
    tcase_set_timeout(tw, 120);
    tcase_add_test(tw, test_writer_round_trip);
    tcase_add_test(tw, test_writer_errors);
    suite_add_tcase(s, tw);
    TCase *tl = tcase_create("large_data");
    tcase_add_test(tl, test_large_initializers);
    tcase_add_test(tl, test_parallel_read_parts);
    tcase_add_test(tl, test_large_raw_data_refusals);
    tcase_add_test(tl, test_truncated_inside_large_raw_data);
    tcase_add_test(tl, test_raw_data_twice_and_spoofed_payloads);
    tcase_add_test(tl, test_large_tensor_files);
    tcase_add_test(tl, test_load_holds_weights_once);
    suite_add_tcase(s, tl);
    return run_suite(s);
}
