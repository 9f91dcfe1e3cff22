/* helper_onnx_build.h — build ONNX ModelProto/TensorProto messages in C with
 * protobuf-c's generated structs (for loader, CLI and fuzz-seed tests). All
 * parts are malloc'd so onnx__model_proto__free_unpacked frees them.
 */
#ifndef ORTC_TEST_HELPER_ONNX_BUILD_H
#define ORTC_TEST_HELPER_ONNX_BUILD_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "onnx.pb-c.h"

#define PB_PUSH(arr, n, x)                                                                         \
    do {                                                                                           \
        void *p_ = realloc((arr), ((n) + 1) * sizeof *(arr));                                      \
        ck_assert_ptr_nonnull(p_);                                                                 \
        (arr) = p_;                                                                                \
        (arr)[(n)++] = (x);                                                                        \
    } while (0)

char *pb_xstrdup(const char *s);
void *pb_xcalloc(size_t n, size_t sz);
/* "a,,b" -> {"a", "", "b"}; "" -> none */
void pb_split_names(const char *list, char ***arr, size_t *n);
Onnx__GraphProto *pb_graph_new(const char *name);
void pb_add_opset(Onnx__ModelProto *m, const char *domain, int64_t version);
/* a model with producer 'ortc-test', an ai.onnx import (opset > 0) and an empty graph */
Onnx__ModelProto *pb_model_new(int64_t ir, int64_t opset);
/* shape: NULL = no shape; "" = scalar; "2,batch,?" = dims (value, param, unknown) */
Onnx__TypeProto *pb_tensor_type(int elem, const char *shape);
Onnx__ValueInfoProto *pb_vi_new(const char *name, int elem, const char *shape);
void pb_add_input(Onnx__GraphProto *g, const char *name, int elem, const char *shape);
void pb_add_output(Onnx__GraphProto *g, const char *name, int elem, const char *shape);
void pb_add_value_info(Onnx__GraphProto *g, const char *name, int elem, const char *shape);
Onnx__TensorProto *pb_tensor_new(const char *name, int dtype, const char *dims);
void pb_tensor_raw(Onnx__TensorProto *t, const void *data, size_t len);
void pb_tensor_floats(Onnx__TensorProto *t, const float *v, size_t n);
void pb_tensor_int32s(Onnx__TensorProto *t, const int32_t *v, size_t n);
void pb_tensor_int64s(Onnx__TensorProto *t, const int64_t *v, size_t n);
Onnx__TensorProto *pb_add_init(Onnx__GraphProto *g, Onnx__TensorProto *t);
/* external data entries; NULL values are left out */
void pb_tensor_external(Onnx__TensorProto *t, const char *location, const char *offset,
                        const char *length);
/* ins/outs: comma-separated names, "" for an omitted slot ("a,,b") */
Onnx__NodeProto *pb_add_node(Onnx__GraphProto *g, const char *op, const char *name, const char *ins,
                             const char *outs);
/* type < 0: leave the type unset */
Onnx__AttributeProto *pb_add_attr(Onnx__NodeProto *n, const char *name, int type);
/* an attribute of n with its type and value */
Onnx__AttributeProto *pb_add_int(Onnx__NodeProto *n, const char *name, int64_t v);
Onnx__AttributeProto *pb_add_ints(Onnx__NodeProto *n, const char *name, const int64_t *v,
                                  size_t count);
Onnx__AttributeProto *pb_add_graph(Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g);
/* serialized bytes (malloc'd) */
uint8_t *pb_pack_model(Onnx__ModelProto *m, size_t *len);

#endif
