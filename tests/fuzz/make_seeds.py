#!/usr/bin/python3
"""Writes the hand-made seeds of the model fuzzer (tests/fuzz/seeds/model/):
small models for the runtime's values of data-dependent size — hostile ones
at each limit (a loop that never ends, a carried value that doubles every
trip, a sequence appended to forever, too many NonMaxSuppression boxes, a
huge NonZero output) and ordinary ones whose plan is cut into segments
(NonZero before a MatMul, sequences, Scan, If with branches of different
shapes, Unique, Compress), and QDQ groups (DequantizeLinear -> Conv/MatMul/Gemm ->
QuantizeLinear, per-channel weights) that the qdq pass runs in int8, with
hostile quantization parameters (zero, negative and infinite scales, a
per-channel scale of the wrong length, zero points of another dtype).
ONNX's backend-test models seed the rest.
`ctest`'s fuzz.replay.model replays these files too; run-fuzzers adds them
to its corpus. Rerun after changing this script and commit the files.

    /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import os

import numpy as np
from onnx import TensorProto as T
from onnx import helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "model")


def vi(name, shape, dt=T.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def seq(name, dt=T.FLOAT):
    return helper.make_tensor_sequence_value_info(name, dt, None)


def model(nodes, inputs, outputs, inits=(), opset=16):
    g = helper.make_graph(nodes, "seed", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                             producer_name="ortc-fuzz-seed")


def const(name, value, dt=None):
    return numpy_helper.from_array(np.array(value, dt), name)


def loop_body(nodes, carried_in, carried_out, scan_out=()):
    return helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"])] + nodes, "body",
        [vi("i", [], T.INT64), vi("c", [], T.BOOL)] + carried_in,
        [vi("c_out", [], T.BOOL)] + carried_out + list(scan_out))


def seeds():
    s = {}
    # a while loop whose condition never ends it
    s["loop-forever"] = model(
        [helper.make_node("Loop", ["", "cond", "x"], ["y"], name="forever",
                          body=loop_body([helper.make_node("Identity", ["v"], ["v2"])],
                                         [vi("v", [1])], [vi("v2", [1])]))],
        [vi("x", [1])], [vi("y", [1])], [const("cond", True)])
    # a carried value that doubles every trip, with its trace as a scan output
    s["loop-doubling"] = model(
        [helper.make_node("Loop", ["", "cond", "x"], ["y", "trace"], name="doubling",
                          body=loop_body([helper.make_node("Concat", ["v", "v"], ["v2"], axis=0),
                                          helper.make_node("ReduceSum", ["v2"], ["t"])],
                                         [vi("v", [None])], [vi("v2", [None])],
                                         [vi("t", [1])]))],
        [vi("x", [1])], [vi("y", None), vi("trace", None)], [const("cond", True)])
    # a sequence appended to on every trip of an endless loop
    s["sequence-append-forever"] = model(
        [helper.make_node("SequenceEmpty", [], ["s0"]),
         helper.make_node("Loop", ["", "cond", "s0"], ["s"], name="appender",
                          body=loop_body([helper.make_node("SequenceInsert", ["q", "x"], ["q2"])],
                                         [seq("q")], [seq("q2")])),
         helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=0)],
        [vi("x", [2])], [vi("y", None)], [const("cond", True)])
    # NonMaxSuppression over more boxes than max_nms_boxes
    s["nms-too-many-boxes"] = model(
        [helper.make_node("NonMaxSuppression", ["b", "sc", "k"], ["sel"], name="suppress")],
        [vi("b", [1, 70000, 4]), vi("sc", [1, 1, 70000])], [vi("sel", None, T.INT64)],
        [const("k", 10, np.int64)], opset=11)
    # NonMaxSuppression on a few boxes, every optional input
    s["nms-center-boxes"] = model(
        [helper.make_node("NonMaxSuppression", ["b", "sc", "k", "iou", "th"], ["sel"],
                          center_point_box=1)],
        [vi("b", [2, 6, 4]), vi("sc", [2, 3, 6])], [vi("sel", None, T.INT64)],
        [const("k", 3, np.int64), const("iou", 0.5, np.float32), const("th", 0.0, np.float32)],
        opset=11)
    # NonZero of 4M elements: 64 MiB of indices
    s["nonzero-huge"] = model([helper.make_node("NonZero", ["x"], ["y"], name="where")],
                              [vi("x", [1 << 22], T.BOOL)], [vi("y", None, T.INT64)], opset=13)
    # NonZero before a MatMul: the MatMul is compiled once NonZero's shape is seen
    s["nonzero-then-matmul"] = model(
        [helper.make_node("NonZero", ["x"], ["idx"]),
         helper.make_node("Transpose", ["idx"], ["t"], perm=[1, 0]),
         helper.make_node("Cast", ["t"], ["tf"], to=T.FLOAT),
         helper.make_node("MatMul", ["tf", "w"], ["y"])],
        [vi("x", [3, 4])], [vi("y", None)],
        [numpy_helper.from_array(np.ones((2, 3), np.float32), "w")], opset=13)
    # sequences: split, erase, insert, at, concat
    s["sequence-ops"] = model(
        [helper.make_node("SplitToSequence", ["x"], ["s"], axis=1),
         helper.make_node("SequenceErase", ["s", "pos"], ["s2"]),
         helper.make_node("SequenceInsert", ["s2", "x"], ["s3"]),
         helper.make_node("SequenceAt", ["s3", "pos"], ["a"]),
         helper.make_node("ConcatFromSequence", ["s3"], ["y"], axis=1, new_axis=1)],
        [vi("x", [2, 3])], [vi("a", None), vi("y", None)], [const("pos", -1, np.int64)],
        opset=13)
    # a sequence input and an optional output
    s["sequence-and-optional-io"] = model(
        [helper.make_node("SequenceLength", ["s"], ["n"]),
         helper.make_node("Optional", ["n"], ["o"])],
        [seq("s")], [helper.make_value_info("o", helper.make_optional_type_proto(
            helper.make_tensor_type_proto(T.INT64, [])))], opset=16)
    # Scan-16 along axis 1, backwards
    s["scan-axes"] = model(
        [helper.make_node("Scan", ["s0", "x"], ["s", "ys"], num_scan_inputs=1,
                          scan_input_axes=[1], scan_input_directions=[1], scan_output_axes=[0],
                          body=helper.make_graph(
                              [helper.make_node("Add", ["a", "b"], ["a2"]),
                               helper.make_node("Identity", ["a2"], ["o"])], "body",
                              [vi("a", [2]), vi("b", [2])], [vi("a2", [2]), vi("o", [2])]))],
        [vi("s0", [2]), vi("x", [2, 5])], [vi("s", [2]), vi("ys", [5, 2])])
    # If whose branches give different shapes
    s["if-different-shapes"] = model(
        [helper.make_node("If", ["c"], ["y"], then_branch=helper.make_graph(
            [helper.make_node("Relu", ["x"], ["t"])], "then", [], [vi("t", [2, 3])]),
            else_branch=helper.make_graph(
            [helper.make_node("Flatten", ["x"], ["e"], axis=0)], "else", [], [vi("e", [1, 6])]))],
        [vi("x", [2, 3]), vi("c", [], T.BOOL)], [vi("y", None)], opset=13)
    # Unique with all outputs, and Compress
    s["unique-compress"] = model(
        [helper.make_node("Unique", ["x"], ["u", "i", "inv", "n"], axis=0, sorted=1),
         helper.make_node("Greater", ["n", "one"], ["keep"]),
         helper.make_node("Compress", ["u", "keep"], ["y"], axis=0)],
        [vi("x", [4, 2])], [vi("y", None), vi("inv", None, T.INT64)],
        [const("one", 1, np.int64)], opset=13)
    qdq_seeds(s)
    return s


def qdq_group(op, w, w_scale, w_zp, act_scale=0.05, act_zp=128, out_scale=0.1, out_zp=120,
              w_axis=0, inits_extra=(), x_shape=(1, 3, 8, 8), **attrs):
    """x -> Q/DQ (uint8, per tensor) -> op with an int8 weight behind a
    DequantizeLinear (per channel along w_axis when w_scale has several
    entries) -> Q/DQ at the output scale: the form PyTorch's and ONNX
    Runtime's quantizers write."""
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q_x"),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dq_x"),
             helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], name="dq_w",
                              **({"axis": w_axis} if np.ndim(w_scale) else {})),
             helper.make_node(op, ["xd", "wd"] + (["b"] if op != "MatMul" else []), ["y"],
                              name="quantized_" + op.lower(), **attrs),
             helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"], name="q_y"),
             helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["out"], name="dq_y")]
    w = np.asarray(w, np.int8)
    inits = [const("xs", act_scale, np.float32), const("xz", act_zp, np.uint8),
             numpy_helper.from_array(w, "w"), const("ws", w_scale, np.float32),
             const("wz", w_zp, np.int8) if not isinstance(w_zp, np.ndarray) else
             numpy_helper.from_array(w_zp, "wz"),
             const("ys", out_scale, np.float32), const("yz", out_zp, np.uint8)]
    if op != "MatMul":
        n_out = w.shape[0] if op == "Conv" else w.shape[1 if attrs.get("transB", 0) == 0 else 0]
        inits.append(const("b", np.linspace(-0.5, 0.5, n_out), np.float32))
    return model(nodes, [vi("x", list(x_shape))], [vi("out", None)],
                 inits + list(inits_extra), opset=13)


def qdq_seeds(s):
    rng = np.random.default_rng(7)
    wconv = rng.integers(-127, 128, (4, 3, 3, 3))
    per_ch = [0.02, 0.01, 0.03, 0.015]
    s["qdq-conv-per-channel"] = qdq_group("Conv", wconv, per_ch, np.zeros(4, np.int8),
                                          pads=[1, 1, 1, 1])
    s["qdq-matmul"] = qdq_group("MatMul", rng.integers(-127, 128, (8, 5)), 0.02, 0,
                                x_shape=(2, 8))
    s["qdq-gemm-transb"] = qdq_group("Gemm", rng.integers(-127, 128, (6, 8)), [0.01] * 6,
                                     np.zeros(6, np.int8), w_axis=0, x_shape=(2, 8), transB=1)
    # hostile parameters, each of which must be a one-line error naming the node
    s["qdq-conv-zero-weight-scale"] = qdq_group("Conv", wconv, [0.02, 0.0, 0.03, 0.015],
                                                np.zeros(4, np.int8))
    s["qdq-conv-negative-act-scale"] = qdq_group("Conv", wconv, per_ch, np.zeros(4, np.int8),
                                                 act_scale=-0.05)
    s["qdq-conv-inf-out-scale"] = qdq_group("Conv", wconv, per_ch, np.zeros(4, np.int8),
                                            out_scale=float("inf"))
    s["qdq-conv-scale-wrong-length"] = qdq_group("Conv", wconv, per_ch[:3], np.zeros(3, np.int8))
    s["qdq-conv-zero-point-dtype"] = qdq_group("Conv", wconv, per_ch,
                                               np.zeros(4, np.uint8))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, m in seeds().items():
        with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
        print(name)


if __name__ == "__main__":
    main()
