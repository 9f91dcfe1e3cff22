#!/usr/bin/python3
"""Hostile and broken inputs for `ortc run`, generated here at test time
(nothing binary is committed): truncated and corrupted models, graphs that
are invalid in each way ONNX forbids, escaping external data, bad images,
wrong tensors. Each case states its expected outcome: an error (exit 1, one
line on stderr starting "ortc: " that contains the given facts) or success
(exit 0, for inputs that are odd but valid, such as a 1x1 or 16-bit image).
Every case fails on a crash, a hang (timeout), any other exit code or a
sanitizer report in stderr (CI runs this suite under ASan+UBSan+LSan).

    run_bad_inputs.py --cli build/ortc --work build/bad-inputs
"""
import argparse
import io
import os
import random
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))
import make_seeds  # noqa: E402  (the QDQ groups the model fuzzer starts from)

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:", "ThreadSanitizer")
TIMEOUT = 120


class Suite:
    def __init__(self, cli, work):
        self.cli, self.work = cli, work
        self.failures, self.count = [], 0

    def path(self, name):
        return os.path.join(self.work, name)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run(self, what, args, expect, facts=(), allow_success=False, max_seconds=None):
        """expect: 'error' (exit 1 + one line with facts) or 'ok' (exit 0);
        max_seconds: the case fails when the command takes longer."""
        self.count += 1
        t0 = time.monotonic()
        try:
            r = subprocess.run([self.cli] + args, capture_output=True, text=True,
                               errors="replace", timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.failures.append(f"{what}: no exit after {TIMEOUT} s (hang)")
            return
        secs = time.monotonic() - t0
        err = r.stderr
        problems = []
        if max_seconds is not None and secs > max_seconds:
            problems.append(f"took {secs:.1f} s, more than {max_seconds} s")
        if any(m in err for m in SANITIZER_MARKS):
            problems.append("sanitizer report")
        if r.returncode < 0:
            problems.append(f"killed by signal {-r.returncode}")
        elif expect == "ok" or (allow_success and r.returncode == 0):
            if r.returncode != 0:
                problems.append(f"exit {r.returncode}, expected success")
        else:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            if r.returncode != 1:
                problems.append(f"exit {r.returncode}, expected 1")
            if len(lines) != 1 or not lines[0].startswith("ortc: "):
                problems.append(f"expected one 'ortc: ...' line, got {len(lines)}")
            for fact in facts:
                if fact.lower() not in err.lower():
                    problems.append(f"message lacks '{fact}'")
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {what}: exit {r.returncode}: {err.strip()[:300]}", flush=True)
        if problems:
            self.failures.append(f"{what}: {'; '.join(problems)}\n    stderr: {err.strip()[:800]}")


def small_cnn(seed=0):
    """x: float [1,1,8,8] -> Conv(4, 3x3) -> Relu -> MaxPool 2 -> Flatten -> Gemm -> y [1,10]"""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    fw = numpy_helper.from_array(rng.standard_normal((10, 36)).astype(np.float32), "fw")
    fb = numpy_helper.from_array(rng.standard_normal(10).astype(np.float32), "fb")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    g = helper.make_graph(nodes, "cnn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                          [w, b, fw, fb])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="bad")


def relu_model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, shape, dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def npy_bytes(arr):
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_size(w, h):
    """A PNG whose header declares w x h (the image data is a single tiny row)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(b"\x00" * 4)) + png_chunk(b"IEND", b""))


def jpeg_with_size(w, h):
    """A baseline JPEG whose SOF0 declares w x h, cut after the headers."""
    b = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 120, 200)).save(b, "JPEG")
    data = bytearray(b.getvalue())
    i = data.find(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def loop_model(name, body_nodes, body_out, carried, m=None, cond=True, extra_inputs=()):
    """y... = Loop(M, cond, carried...) named `name`; body(i, c, carried...) ->
    (c, body_out...): the loop's condition stays true. M: an int64
    initializer, or None (omitted). carried: [(name, elem type, shape)]."""
    ins = [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL)]
    ins += [vi(n + "_in", shp, dt) for n, dt, shp in carried]
    outs = [vi("c_out", [], TensorProto.BOOL)] + [vi(o, None, dt) for o, dt in body_out]
    body = helper.make_graph([helper.make_node("Identity", ["c"], ["c_out"])] + body_nodes,
                             "body", ins, outs)
    inits = [numpy_helper.from_array(np.array(cond), "cond")]
    if m is not None:
        inits.append(numpy_helper.from_array(np.array(m, np.int64), "m"))
    node = helper.make_node("Loop", ["m" if m is not None else "", "cond"] +
                            [n for n, _, _ in carried], [n + "_final" for n, _, _ in carried],
                            name=name, body=body)
    g = helper.make_graph([node], "g", [vi(n, shp, dt) for n, dt, shp in carried] +
                          list(extra_inputs),
                          [vi(n + "_final", None, dt) for n, dt, _ in carried], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)])


def limit_cases(s, x):
    """Hostile models for the limits on values of data-dependent size: a loop
    that never ends, a sequence too long, too many boxes for
    NonMaxSuppression, a value growing past max_dynamic_bytes. Each ends in
    one line naming the node and the limit, within 5 seconds."""
    one = s.write("limits/one.npy", npy_bytes(np.zeros(1, np.float32)))

    def case(what, m, facts, inputs, extra=()):
        p = s.write(f"limits/{what.replace(' ', '_')}.onnx", m.SerializeToString())
        args = ["run", p] + [a for k, v in inputs for a in ("--input", f"{k}={v}")] + list(extra)
        s.run(what, args, "error", facts, max_seconds=5)

    # a while loop whose condition never turns false, and one whose trip
    # count is 2^62: both stop at max_loop_iterations (default 1,000,000)
    forever = loop_model("forever", [helper.make_node("Identity", ["v_in"], ["v"])],
                         [("v", TensorProto.FLOAT)], [("v", TensorProto.FLOAT, [1])])
    case("Loop whose condition never ends it", forever, ["'forever'", "max_loop_iterations"],
         [("v", one)])
    huge_m = loop_model("counting", [helper.make_node("Identity", ["v_in"], ["v"])],
                        [("v", TensorProto.FLOAT)], [("v", TensorProto.FLOAT, [1])], m=1 << 62)
    case("Loop with a trip count of 2^62", huge_m, ["'counting'", "max_loop_iterations"],
         [("v", one)])
    # a carried value that doubles every trip: past max_dynamic_bytes (set
    # to 64 MiB here: the default 4 GiB would be reached only after 4 GiB of
    # real memory)
    doubling = loop_model("doubling",
                          [helper.make_node("Concat", ["v_in", "v_in"], ["v"], name="twice",
                                            axis=0)],
                          [("v", TensorProto.FLOAT)], [("v", TensorProto.FLOAT, [1])])
    case("Loop whose carried value doubles every trip", doubling,
         ["'twice'", "max_dynamic_bytes"], [("v", one)], ["--max-dynamic-bytes", "64M"])
    # a sequence of 2,000,001 tensors (default max_sequence_length 1,000,000)
    long_in = s.write("limits/long.npy", npy_bytes(np.zeros(2_000_001, np.float32)))
    split = relu_model([helper.make_node("SplitToSequence", ["x"], ["seq"], name="splitter",
                                         keepdims=0),
                        helper.make_node("SequenceLength", ["seq"], ["n"], name="count")],
                       [vi("x", [2_000_001])], [vi("n", [], TensorProto.INT64)], opset=13)
    case("a sequence above max_sequence_length", split, ["'splitter'", "max_sequence_length"],
         [("x", long_in)])
    # a sequence appended to once per trip of an endless loop, past a lowered
    # max_sequence_length
    seq_vi = helper.make_tensor_sequence_value_info
    body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("SequenceInsert", ["s_in", "t"], ["s"], name="append")], "body",
        [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL),
         seq_vi("s_in", TensorProto.FLOAT, None)],
        [vi("c_out", [], TensorProto.BOOL), seq_vi("s", TensorProto.FLOAT, None)])
    append = relu_model(
        [helper.make_node("SequenceEmpty", [], ["s0"], name="empty"),
         helper.make_node("Loop", ["", "cond", "s0"], ["s_final"], name="appender", body=body),
         helper.make_node("SequenceLength", ["s_final"], ["n"], name="count")],
        [vi("t", [1])], [vi("n", [], TensorProto.INT64)],
        [numpy_helper.from_array(np.array(True), "cond")], opset=16)
    case("a sequence appended to past max_sequence_length", append,
         ["'append'", "max_sequence_length"], [("t", one)], ["--max-sequence-length", "1000"])
    # NonMaxSuppression over 70,000 boxes per batch item (max_nms_boxes 65,536)
    boxes = s.write("limits/boxes.npy", npy_bytes(np.zeros((1, 70_000, 4), np.float32)))
    scores = s.write("limits/scores.npy", npy_bytes(np.zeros((1, 1, 70_000), np.float32)))
    nms = relu_model([helper.make_node("NonMaxSuppression", ["b", "sc", "k"], ["sel"],
                                       name="suppress")],
                     [vi("b", [1, 70_000, 4]), vi("sc", [1, 1, 70_000])],
                     [vi("sel", None, TensorProto.INT64)],
                     [numpy_helper.from_array(np.array(10, np.int64), "k")], opset=11)
    case("NonMaxSuppression above max_nms_boxes", nms, ["'suppress'", "max_nms_boxes"],
         [("b", boxes), ("sc", scores)])
    # NonZero of 4M ones: 64 MiB of indices, above a lowered max_dynamic_bytes
    ones = s.write("limits/ones.npy", npy_bytes(np.ones(1 << 22, np.uint8).astype(bool)))
    nz = relu_model([helper.make_node("NonZero", ["x"], ["idx"], name="where")],
                    [vi("x", [1 << 22], TensorProto.BOOL)], [vi("idx", None, TensorProto.INT64)],
                    opset=13)
    case("NonZero output above max_dynamic_bytes", nz, ["'where'", "max_dynamic_bytes"],
         [("x", ones)], ["--max-dynamic-bytes", "16M"])


def quant_cases(s):
    """QDQ groups (DequantizeLinear -> Conv -> QuantizeLinear, as PyTorch's
    and ONNX Runtime's quantizers write them; tests/fuzz/make_seeds.py builds
    them for the model fuzzer too) with hostile quantization parameters. Each
    is one line naming the node or initializer that holds the parameter,
    whether or not the qdq pass would have fused the group, optimised and
    with --reference."""
    x = s.write("quant/x.npy", npy_bytes(np.zeros((1, 3, 8, 8), np.float32)))
    w = np.arange(-54, 54).reshape(4, 3, 3, 3)
    per_ch, zeros = [0.02, 0.01, 0.03, 0.015], np.zeros(4, np.int8)
    # a uint8 zero point stored in int32_data as 300 (raw_data cannot hold it)
    zp300 = make_seeds.qdq_group("Conv", w, per_ch, zeros)
    for t in zp300.graph.initializer:
        if t.name == "xz":
            t.CopyFrom(helper.make_tensor("xz", TensorProto.UINT8, [], [300]))
    cases = [
        ("a zero per-channel weight scale",
         make_seeds.qdq_group("Conv", w, [0.02, 0.0, 0.03, 0.015], zeros),
         ["'dq_w'", "'ws'[1] is 0", "positive"]),
        ("a negative activation scale",
         make_seeds.qdq_group("Conv", w, per_ch, zeros, act_scale=-0.05),
         ["'q_x'", "-0.05", "positive"]),
        ("an infinite output scale",
         make_seeds.qdq_group("Conv", w, per_ch, zeros, out_scale=float("inf")),
         ["'q_y'", "inf"]),
        ("a per-channel scale of the wrong length",
         make_seeds.qdq_group("Conv", w, per_ch[:3], np.zeros(3, np.int8)),
         ["'dq_w'", "[3]", "4 entries"]),
        ("a zero point of another dtype than its data",
         make_seeds.qdq_group("Conv", w, per_ch, np.zeros(4, np.uint8)),
         ["'dq_w'", "'wz' is uint8", "int8"]),
        ("a zero point outside its dtype's range", zp300, ["'xz'", "300", "uint8"]),
    ]
    for what, m, facts in cases:
        p = s.write(f"quant/{what.replace(' ', '_')}.onnx", m.SerializeToString())
        for extra in ([], ["--reference"]):
            s.run(f"QDQ group with {what} {' '.join(extra)}".strip(),
                  ["run", p, "--input", f"x={x}"] + extra, "error", [p] + facts, max_seconds=5)


def quantize_cases(s, model, x):
    """`ortc quantize`: bad calibration data, options naming what the model
    lacks and models it cannot quantize each end in one line naming them."""
    out = s.path("q/out.onnx")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    q = ["quantize", model, "-o", out, "--calibrate"]
    s.run("quantize: valid model and calibration tensor", q + [x], "ok")
    s.run("quantize: the quantized model runs", ["run", out, "--input", f"x={x}"], "ok")
    s.run("quantize: --exclude names a node the model lacks", q + [x, "--exclude", "conv,nope"],
          "error", [model, "'nope'"])
    s.run("quantize: every quantizable node excluded", q + [x, "--exclude", "conv,fc"], "error",
          [model, "no node to quantize"])
    s.run("quantize: calibration file that does not exist", q + [s.path("q/nope.npy")], "error",
          ["nope.npy", "cannot read calibration file"])
    p = s.write("q/shape.npy", npy_bytes(np.zeros((2, 1, 9, 8), np.float32)))
    s.run("quantize: calibration .npy of the wrong shape", q + [p], "error",
          [p, "[2,1,9,8]", "[1,1,8,8]", "'x'"])
    p = s.write("q/int64.npy", npy_bytes(np.zeros((1, 1, 8, 8), np.int64)))
    s.run("quantize: calibration .npy of the wrong dtype", q + [p], "error", [p, "int64"])
    p = s.write("q/short.npy", npy_bytes(np.zeros((1, 1, 8, 8), np.float32))[:-10])
    s.run("quantize: calibration .npy shorter than its shape", q + [p], "error", [p])
    p = s.write("q/text.png", b"this is not an image\n")
    s.run("quantize: an image for a model without a card", q + [p], "error", [p, "card"])
    os.makedirs(s.path("q/emptydir"), exist_ok=True)
    s.run("quantize: a calibration folder without samples", q + [s.path("q/emptydir")], "error",
          ["emptydir"])
    relu = s.write("q/relu.onnx", relu_model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                                             [vi("x", [1, 1, 8, 8])],
                                             [vi("y", [1, 1, 8, 8])]).SerializeToString())
    s.run("quantize: a model with no quantizable node", ["quantize", relu, "-o", out,
                                                         "--calibrate", x], "error",
          [relu, "no node to quantize"])
    m11 = small_cnn()
    m11.opset_import[0].version = 11
    p = s.write("q/cnn11.onnx", m11.SerializeToString())
    s.run("quantize: a model below opset 13", ["quantize", p, "-o", out, "--calibrate", x],
          "error", [p, "opset 13"])
    s.run("quantize: output file in a missing folder",
          ["quantize", model, "-o", s.path("q/no/such/dir/out.onnx"), "--calibrate", x], "error",
          ["out.onnx", "cannot create"])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    s = Suite(os.path.abspath(a.cli), os.path.abspath(a.work))
    rnd = random.Random(1234)

    good = small_cnn().SerializeToString()
    model = s.write("cnn.onnx", good)
    x = s.write("x.npy", npy_bytes(np.zeros((1, 1, 8, 8), np.float32)))
    s.run("valid model and input", ["run", model, "--input", f"x={x}"], "ok")

    # --- models: truncation, corruption, empty, random ------------------------
    offsets = sorted({1, 2, 5, 10, 20, 50, 100} | {rnd.randrange(1, len(good)) for _ in range(30)})
    for off in offsets:
        p = s.write(f"trunc/cnn_{off}.onnx", good[:off])
        s.run(f"model truncated at {off}/{len(good)} bytes", ["run", p, "--input", f"x={x}"],
              "error", [p])
    for k in range(25):
        data = bytearray(good)
        for _ in range(1 + k % 4):
            data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        p = s.write(f"flip/cnn_{k}.onnx", bytes(data))
        # a flipped bit may land in weight bytes and leave a valid model
        s.run(f"model with random bit flips #{k}", ["run", p, "--input", f"x={x}"], "error",
              [], allow_success=True)
    s.run("empty model file", ["run", s.write("empty.onnx", b""), "--input", f"x={x}"], "error",
          ["empty.onnx"])
    s.run("random bytes as a model",
          ["run", s.write("random.onnx", bytes(rnd.randrange(256) for _ in range(4096))),
           "--input", f"x={x}"], "error", ["random.onnx"])
    s.run("missing model file", ["run", s.path("does_not_exist.onnx"), "--input", f"x={x}"],
          "error", ["does_not_exist.onnx", "no such file"])

    # --- graphs ONNX forbids ------------------------------------------------------
    def model_case(what, m, facts, args_extra=None, check=False):
        p = s.write(f"graphs/{what.replace(' ', '_')}.onnx", m.SerializeToString())
        s.run(what, ["run", p] + (args_extra or ["--input", f"x={x}"]), "error", [p] + facts)

    model_case("graph with a cycle",
               relu_model([helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
                           helper.make_node("Relu", ["a"], ["b"], name="n2")],
                          [vi("x", [1, 1, 8, 8])], [vi("b", [1, 1, 8, 8])]), ["cycle"])
    model_case("node input nobody produces",
               relu_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")],
                          [vi("x", [1, 1, 8, 8])], [vi("y", [1, 1, 8, 8])]), ["'ghost'", "'adder'"])
    model_case("two nodes produce the same output",
               relu_model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                           helper.make_node("Relu", ["x"], ["y"], name="r2")],
                          [vi("x", [1, 1, 8, 8])], [vi("y", [1, 1, 8, 8])]), ["'y'", "two nodes"])
    model_case("the graph declares the same output twice",
               relu_model([helper.make_node("Relu", ["x"], ["y"], name="r1")],
                          [vi("x", [1, 1, 8, 8])],
                          [vi("y", [1, 1, 8, 8]), vi("y", [1, 1, 8, 8])]), ["'y'", "twice"])
    short = numpy_helper.from_array(np.zeros(3, np.float32), "w")
    short.dims[:] = [4, 1, 3, 3]
    model_case("initializer shorter than its shape",
               relu_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
                          [vi("x", [1, 1, 8, 8])], [vi("y", [1, 4, 6, 6])], [short]), ["'w'"])
    model_case("unknown operator",
               relu_model([helper.make_node("Frobnicate", ["x"], ["y"], name="frob")],
                          [vi("x", [1, 1, 8, 8])], [vi("y", [1, 1, 8, 8])]),
               ["Frobnicate", "'frob'"])
    wrong_attr = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2])
    wrong_attr.attribute.append(helper.make_attribute("strides", 2.5))
    model_case("attribute of the wrong type",
               relu_model([wrong_attr], [vi("x", [1, 1, 8, 8])], [vi("y", [1, 1, 4, 4])]),
               ["'pool'", "strides"])
    # (branches may disagree on a shape: the output is then of data-dependent
    # size; not on the element type)
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [],
                               [vi("t", [1, 1, 8, 8])])
    else_g = helper.make_graph([helper.make_node("Cast", ["x"], ["e"], to=TensorProto.INT64)],
                               "else", [], [vi("e", [1, 1, 8, 8], TensorProto.INT64)])
    c = s.write("cond.npy", npy_bytes(np.array(True)))
    model_case("If whose branches disagree",
               relu_model([helper.make_node("If", ["c"], ["y"], name="branchy",
                                            then_branch=then_g, else_branch=else_g)],
                          [vi("x", [1, 1, 8, 8]), vi("c", [], TensorProto.BOOL)], [vi("y", None)]),
               ["'branchy'"], ["--input", f"x={x}", "--input", f"c={c}"])
    ext = numpy_helper.from_array(np.zeros((4, 1, 3, 3), np.float32), "w")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for k, v in [("location", "../../outside.bin"), ("offset", "0"), ("length", "144")]:
        e = ext.external_data.add()
        e.key, e.value = k, v
    s.write("outside.bin", b"\0" * 144)
    model_case("external data escaping the model folder",
               relu_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
                          [vi("x", [1, 1, 8, 8])], [vi("y", [1, 4, 6, 6])], [ext]),
               ["'w'", "outside.bin"])
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "shape")
    huge = relu_model([helper.make_node("ConstantOfShape", ["shape"], ["big"], name="fill"),
                       helper.make_node("Add", ["x", "big"], ["y"], name="add")],
                      [vi("x", [1, 1])], [vi("y", [1 << 20, 1 << 20])], [shape])
    x11 = s.write("x11.npy", npy_bytes(np.zeros((1, 1), np.float32)))
    model_case("a node producing 2^40 elements", huge, ["'fill'", "limit"],
               ["--input", f"x={x11}"])
    # the memory limits are options: a lower one refuses the valid CNN (its
    # conv output is 576 bytes), a sufficient one lets it run
    s.run("a tensor above --max-tensor-bytes", ["run", model, "--input", f"x={x}",
          "--max-tensor-bytes", "512"], "error", [model, "max_tensor_bytes", "512"])
    s.run("an arena above --max-arena-bytes", ["run", model, "--input", f"x={x}",
          "--max-arena-bytes", "256"], "error", [model, "max_arena_bytes", "256"])
    s.run("the same model within raised limits", ["run", model, "--input", f"x={x}",
          "--max-tensor-bytes", "1K", "--max-arena-bytes", "64K"], "ok")

    # --- images ----------------------------------------------------------------------
    img_model = relu_model([helper.make_node("GlobalAveragePool", ["x"], ["y"], name="gap"),
                            helper.make_node("Flatten", ["y"], ["z"], name="flat")],
                           [vi("x", [1, 3, 32, 32])], [vi("z", [1, 3])])
    im = s.write("img_model.onnx", img_model.SerializeToString())
    photo = Image.open("/usr/lib/python3/dist-packages/skimage/data/chelsea.png").convert("RGB")
    b = io.BytesIO()
    photo.save(b, "PNG")
    png = b.getvalue()
    b = io.BytesIO()
    photo.save(b, "JPEG", quality=85)
    jpg = b.getvalue()
    for frac in (0.05, 0.3, 0.7, 0.99):
        p = s.write(f"img/trunc_{int(frac * 100)}.png", png[:int(len(png) * frac)])
        s.run(f"PNG truncated to {int(frac * 100)}%", ["run", im, p], "error", [p])
        p = s.write(f"img/trunc_{int(frac * 100)}.jpg", jpg[:int(len(jpg) * frac)])
        s.run(f"JPEG truncated to {int(frac * 100)}%", ["run", im, p], "error", [p])
    p = s.write("img/zero.png", png_with_size(0, 5))
    s.run("PNG declaring 0x5 pixels", ["run", im, p], "error", [p])
    p = s.write("img/huge.png", png_with_size(30000, 30000))
    s.run("PNG declaring 30000x30000", ["run", im, p], "error", [p, "30000"])
    p = s.write("img/huge.jpg", jpeg_with_size(30000, 30000))
    s.run("JPEG declaring 30000x30000", ["run", im, p], "error", [p, "30000"])
    b = io.BytesIO()
    Image.new("CMYK", (16, 16), (10, 20, 30, 40)).save(b, "JPEG")
    p = s.write("img/cmyk.jpg", b.getvalue())
    s.run("CMYK JPEG", ["run", im, p], "error", [p, "CMYK"])
    p = s.write("img/one.png", png[:0] or b"")
    Image.new("RGB", (1, 1), (200, 10, 10)).save(s.path("img/one.png"))
    s.run("1x1 PNG (valid: resized like torchvision)", ["run", im, s.path("img/one.png")], "ok")
    Image.fromarray((np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20)).save(
        s.path("img/gray16.png"))
    s.run("16-bit grayscale PNG (valid)", ["run", im, s.path("img/gray16.png")], "ok")
    p = s.write("img/text.png", b"this is not an image\n")
    s.run("text file named .png", ["run", im, p], "error", [p, "not a PNG or JPEG"])

    # --- limits on what only a run reveals (ortc info --limits): each case
    # must end within 5 seconds, also under ASan+UBSan --------------------------------
    limit_cases(s, x)
    quant_cases(s)

    # --- tensors -------------------------------------------------------------------------
    s.run("an input the model does not have", ["run", model, "--input", f"z={x}"], "error",
          ["'z'", "'x'"])
    p = s.write("t/int64.npy", npy_bytes(np.zeros((1, 1, 8, 8), np.int64)))
    s.run("input of the wrong dtype", ["run", model, "--input", f"x={p}"], "error",
          ["'x'", "int64", "float32"])
    p = s.write("t/rank3.npy", npy_bytes(np.zeros((1, 8, 8), np.float32)))
    s.run("input of the wrong rank", ["run", model, "--input", f"x={p}"], "error",
          ["'x'", "[1,8,8]"])
    p = s.write("t/shape.npy", npy_bytes(np.zeros((1, 1, 9, 8), np.float32)))
    s.run("input of the wrong shape", ["run", model, "--input", f"x={p}"], "error",
          ["'x'", "[1,1,9,8]", "[1,1,8,8]"])
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 8, 8, }"
    bad_npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", 64) + hdr.ljust(63) + b"\n"
    p = s.write("t/malformed.npy", bad_npy + b"\0" * 256)
    s.run(".npy with a malformed header", ["run", model, "--input", f"x={p}"], "error", [p])
    p = s.write("t/short.npy", npy_bytes(np.zeros((1, 1, 8, 8), np.float32))[:-10])
    s.run(".npy shorter than its shape", ["run", model, "--input", f"x={p}"], "error", [p])
    s.run("input file that does not exist", ["run", model, "--input", f"x={s.path('nope.npy')}"],
          "error", ["nope.npy"])

    quantize_cases(s, model, x)

    print(f"\n{s.count} cases, {len(s.failures)} failed")
    for f in s.failures:
        print("FAILED: " + f)
    return 1 if s.failures else 0


if __name__ == "__main__":
    sys.exit(main())
