#!/usr/bin/python3
"""test_qdq.py — random QDQ graphs through ortc's int8 path against ortc's
float32 reference kernels evaluating the same graph as written
(`reference=True, optimize=False`: no graph pass, plain-C kernels).

Each case is one random block, the way ONNX Runtime's quantizer and
PyTorch's exporter write them: uint8/int8 graph inputs, DequantizeLinear ->
Conv (kernel, stride, pads, dilation, groups drawn at random), Gemm (transB,
alpha, beta, C) or MatMul (3-D input, Add bias) with weights as int8
initializers, as QuantizeLinear(float initializer), as uint8 with zero point
128, or as uint8 with zero points that leave int8 (not fusable), per-tensor
or per-channel, with or without a float or int32 (DequantizeLinear'd) bias
-> Relu / Clip / LeakyRelu / Sigmoid -> QuantizeLinear (uint8 or int8) or
no QuantizeLinear (float output); then maybe Flatten between values
quantized alike, Concat of two such values, a residual Add of a second
quantized input followed by Relu and QuantizeLinear; maybe a MaxPool
between the group and its QuantizeLinear, and DequantizeLinear -> MaxPool
[-> Flatten] -> QuantizeLinear of another quantized input. Parameters come from a
float simulation in PyTorch (not an oracle: only to make realistic scales).

Checks, per case:
  - `ortc info --passes` says the pass fused the group when it should
    (oneDNN can run it: weights minus zero point within int8) and made the
    data movement int8, and left unfusable groups alone;
  - the group's quantized output (a graph output) is within one
    quantization step of the reference everywhere and equal on all but 1%
    of the elements (at most one element for small outputs): the int8
    kernels round the scale arithmetic differently (qconv.c), which moves
    only values within float error of a rounding tie, while a wrong zero
    point or scale moves most of them; a float output within 1e-5 relative
    to its largest value (float32 rounding of scales times an exact integer
    accumulator against a double sum of float products);
  - everything after the group that does not depend on it (data movement,
    max pooling, the float Add of graph inputs) is bit-identical.

  test_qdq.py --cli build/ortc --build build [--count 60] [--seed 1]

Exit 0 pass, 1 failure, 2 usage error, 77 skip (no numpy/torch/onnx).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import torch
    import torch.nn.functional as F
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import numpy, torch and onnx ({e})")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

U8, I8 = np.uint8, np.int8
QRANGE = {U8: (0, 255), I8: (-128, 127)}
ONNX_TYPE = {U8: TensorProto.UINT8, I8: TensorProto.INT8}


# ---- quantization in numpy (for building graphs, not as the oracle) ------------

def qparams(lo, hi, dtype):
    """Scale and zero point mapping [min(lo, 0), max(hi, 0)] onto dtype."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    qmin, qmax = QRANGE[dtype]
    scale = np.float32(max(hi - lo, 1e-6) / (qmax - qmin))
    zero = int(np.clip(round(qmin - lo / float(scale)), qmin, qmax))
    return scale, zero


def quantize(x, scale, zero, dtype):
    qmin, qmax = QRANGE[dtype]
    return np.clip(np.rint(x / scale) + zero, qmin, qmax).astype(dtype)


def dequantize(q, scale, zero, axis=None):
    if axis is None or np.ndim(scale) == 0:
        return (q.astype(np.float32) - np.float32(zero)) * np.float32(scale)
    shape = [1] * q.ndim
    shape[axis] = -1
    return ((q.astype(np.float32) - np.asarray(zero, np.float32).reshape(shape)) *
            np.asarray(scale, np.float32).reshape(shape))


# ---- graph building ----------------------------------------------------------------

class Graph:
    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.n = 0

    def name(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def init(self, arr, base="c"):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op, ins, n_out=1, **attrs):
        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, ins, outs, name=self.name("n_" + op), **attrs))
        return outs[0] if n_out == 1 else outs

    def dq(self, q, scale, zero, axis=None):
        ins = [q, self.init(np.asarray(scale, np.float32), "s")]
        if zero is not None:
            ins.append(self.init(zero, "z"))
        return self.node("DequantizeLinear", ins, **({"axis": axis} if axis is not None else {}))

    def q(self, x, scale, zero_arr, axis=None):
        ins = [x, self.init(np.asarray(scale, np.float32), "s")]
        if zero_arr is not None:
            ins.append(self.init(zero_arr, "z"))
        return self.node("QuantizeLinear", ins, **({"axis": axis} if axis is not None else {}))

    def input(self, name, arr):
        self.inputs.append(helper.make_tensor_value_info(
            name, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype], list(arr.shape)))

    def output(self, name, dtype):
        self.outputs.append(helper.make_tensor_value_info(
            name, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dtype)], None))

    def model(self):
        g = helper.make_graph(self.nodes, "qdq_case", self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        # the outputs' shapes from ONNX's shape inference
        im = onnx.shape_inference.infer_shapes(m).graph
        inferred = {v.name: v for v in list(im.value_info) + list(im.output)}
        for o in m.graph.output:
            if o.name in inferred:
                o.type.CopyFrom(inferred[o.name].type)
        return m


# ---- one random case --------------------------------------------------------------------

def weights(g, rng, w, axis, form, per_channel):
    """The weight tensor w (float) in one of the QDQ forms: the name of the
    dequantized weights and whether oneDNN can fold them (w - z in int8)."""
    chans = w.shape[axis]
    red = tuple(d for d in range(w.ndim) if d != axis)
    amax = np.abs(w).max(axis=red) if per_channel else np.array(np.abs(w).max())
    scale = (np.maximum(amax, 1e-6) / 127).astype(np.float32)
    ax = axis if per_channel else None
    shape = [1] * w.ndim
    if per_channel:
        shape[axis] = chans
    wq = np.clip(np.rint(w / scale.reshape(shape)), -128, 127).astype(I8)
    zeros_i8 = np.zeros(chans if per_channel else (), I8)
    if form == "int8":
        return g.dq(g.init(wq, "w"), scale, zeros_i8, ax), True
    if form == "qfloat":  # PyTorch's fake-quant export: Q(float) -> DQ
        q = g.q(g.init(w.astype(np.float32), "wf"), scale, zeros_i8, ax)
        return g.dq(q, scale, zeros_i8, ax), True
    if form == "u8zp128":
        z = np.full(chans if per_channel else (), 128, U8)
        return g.dq(g.init((wq.astype(np.int32) + 128).astype(U8), "w"), scale, z, ax), True
    # asymmetric uint8 over [min, max]: w - z leaves int8
    lo, hi = w.min(), w.max()
    s, z = qparams(lo, hi, U8)
    wq8 = quantize(w, s, z, U8)
    return g.dq(g.init(wq8, "w"), s, np.array(z, U8)), bool(
        ((wq8.astype(np.int32) - z) >= -128).all() and ((wq8.astype(np.int32) - z) <= 127).all())


def follower(g, rng, name, y):
    """Maybe an element-wise follower: (output name, torch function)."""
    kind = rng.choice(["none", "relu", "relu", "clip", "leaky", "sigmoid"])
    if kind == "relu":
        return g.node("Relu", [name]), torch.relu
    if kind == "clip":
        lo, hi = np.float32(-0.5 * float(torch.abs(y).mean())), np.float32(float(y.max()) * 0.6)
        return (g.node("Clip", [name, g.init(lo, "lo"), g.init(hi, "hi")]),
                lambda t: torch.clamp(t, float(lo), float(hi)))
    if kind == "leaky":
        return g.node("LeakyRelu", [name], alpha=0.1), lambda t: F.leaky_relu(t, 0.1)
    if kind == "sigmoid":
        return g.node("Sigmoid", [name]), torch.sigmoid
    return name, lambda t: t


def pool_tail(g, prng, feeds, exp):
    """Maybe DQ -> MaxPool [-> Flatten] -> Q of a graph input with the same
    parameters on both sides: runs as MaxPool on the quantized input, the
    same bytes as the float32 graph (a max commutes with Q(DQ(.)))."""
    if prng.random() >= 0.35:
        return
    dt = prng.choice([U8, I8])
    nsp = int(prng.choice([1, 2, 2, 3]))
    shape = [int(prng.integers(1, 3)), int(prng.integers(1, 20))] + \
        [int(prng.integers(4, 10)) for _ in range(nsp)]
    a = prng.integers(QRANGE[dt][0], QRANGE[dt][1] + 1, size=shape).astype(dt)
    feeds["pa"] = a
    g.input("pa", a)
    kern = [int(prng.integers(1, 4)) for _ in range(nsp)]
    strides = [int(prng.integers(1, 3)) for _ in range(nsp)]
    dil = [int(prng.choice([1, 1, 2])) for _ in range(nsp)]
    pads = [int(prng.integers(0, kern[i])) if kern[i] > 1 else 0 for i in range(nsp)] * 2
    s, z = np.float32(prng.uniform(0.01, 0.2)), np.array(int(prng.integers(-20, 20)) +
                                                        (128 if dt == U8 else 0), dt)
    # ceil_mode only where its last window starts inside the input or the
    # left padding (where it does not, ONNX's shape formula keeps that
    # window and PyTorch's, which ortc follows, drops it)
    ceil = prng.random() < 0.3
    for i in range(nsp):
        ext = (kern[i] - 1) * dil[i] + 1
        last = -(-(shape[2 + i] + 2 * pads[i] - ext) // strides[i])
        ceil = ceil and last * strides[i] < shape[2 + i] + pads[i]
    p = g.node("MaxPool", [g.dq("pa", s, z)], kernel_shape=kern, strides=strides,
               pads=pads, dilations=dil, ceil_mode=int(ceil))
    exp["moves"] += 1
    if prng.random() < 0.5:
        p = g.node("Flatten", [p], axis=1)
        exp["moves"] += 1
    out = g.q(p, s, z)
    g.output(out, dt)
    exp["exact"].append(out)


def make_case(rng, k):
    """(model, feeds, expectation) of case k."""
    g = Graph(rng)
    op = rng.choice(["conv", "conv", "conv", "gemm", "matmul"])
    xt = rng.choice([U8, I8]) if op == "conv" else U8
    feeds = {}
    exp = {"groups": 0, "moves": 0, "group_out": None, "float_out": False, "exact": []}
    form = rng.choice(["int8", "qfloat", "u8zp128", "u8asym"], p=[0.35, 0.35, 0.15, 0.15])
    per_channel = bool(rng.random() < 0.7) and form != "u8asym"
    if op == "conv":
        n, c = int(rng.integers(1, 3)), int(rng.choice([3, 4, 8, 16]))
        group = int(rng.choice([1, 1, 2, c])) if c % 2 == 0 else 1
        m = group * int(rng.choice([1, 2, 4])) if group == c else int(rng.choice([4, 8, 12, 16]))
        m = m if m % group == 0 else group * (m // group + 1)
        kern = int(rng.choice([1, 3, 5]))
        stride, dil = int(rng.choice([1, 2])), int(rng.choice([1, 1, 2]))
        pad = int(rng.integers(0, kern // 2 + 1)) * dil
        h = w_ = int(rng.integers(kern * dil + 2, 15))
        xshape = (n, c, h, w_)
    elif op == "gemm":
        xshape = (int(rng.integers(1, 4)), int(rng.choice([8, 32, 50])))
    else:
        xshape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.choice([8, 24])))
    # the input: quantized, its real values spread over [-2, 3]
    sx, zx = qparams(-2.0, 3.0, xt)
    xq = rng.integers(QRANGE[xt][0], QRANGE[xt][1] + 1, size=xshape).astype(xt)
    feeds["xq"] = xq
    g.input("xq", xq)
    xf = torch.from_numpy(dequantize(xq, sx, zx))
    x_dq = g.dq("xq", sx, np.array(zx, xt))
    # drawn from their own generator, so the cases above stay as they were
    prng = np.random.default_rng(7919 + k)
    pool_tail(g, prng, feeds, exp)
    bias_kind = rng.choice(["none", "float", "int32"])
    fusable = True
    if op == "conv":
        wf = rng.standard_normal((m, c // group, kern, kern)).astype(np.float32) * 0.3
        w_name, fusable = weights(g, rng, wf, 0, form, per_channel)
        ins = [x_dq, w_name]
        b = rng.standard_normal(m).astype(np.float32)
        if bias_kind == "float":
            ins.append(g.init(b, "b"))
        elif bias_kind == "int32":  # ONNX Runtime's form: DQ(int32, scale sx * sw)
            sb = np.float32(sx * 0.01)
            ins.append(g.dq(g.init(np.rint(b / sb).astype(np.int32), "bi"), sb, None))
        y_name = g.node("Conv", ins, kernel_shape=[kern, kern], strides=[stride, stride],
                        pads=[pad] * 4, dilations=[dil, dil], group=group)
        y = F.conv2d(xf, torch.from_numpy(wf), None, stride, pad, dil, group)
    elif op == "gemm":
        kk, nn_ = xshape[1], int(rng.choice([4, 10, 33]))
        trans_b = bool(rng.random() < 0.5)
        wf = rng.standard_normal((nn_, kk) if trans_b else (kk, nn_)).astype(np.float32) * 0.2
        w_name, fusable = weights(g, rng, wf, 0 if trans_b else 1, form, per_channel)
        alpha = float(rng.choice([1.0, 0.5]))
        beta = float(rng.choice([1.0, 2.0]))
        ins = [x_dq, w_name]
        if bias_kind != "none":
            ins.append(g.init(rng.standard_normal((1, nn_) if rng.random() < 0.5 else nn_)
                              .astype(np.float32), "c"))
        y_name = g.node("Gemm", ins, transB=int(trans_b), alpha=alpha, beta=beta)
        wt = torch.from_numpy(wf.T if trans_b else wf)
        y = alpha * (xf @ wt)
    else:
        kk, nn_ = xshape[-1], int(rng.choice([5, 16]))
        wf = rng.standard_normal((kk, nn_)).astype(np.float32) * 0.2
        w_name, fusable = weights(g, rng, wf, 1, form, per_channel)
        y_name = g.node("MatMul", [x_dq, w_name])
        y = xf @ torch.from_numpy(wf)
        if bias_kind != "none":
            y_name = g.node("Add", [y_name, g.init(rng.standard_normal(nn_).astype(np.float32))])
    y_name, fn = follower(g, rng, y_name, y)
    y = fn(y)
    exp["groups"] = 1 if fusable else 0
    if rng.random() < 0.2:  # no QuantizeLinear: the group's output is float
        g.output(y_name, np.float32)
        exp["float_out"] = True
        exp["group_out"] = y_name
        return g.model(), feeds, exp
    if op == "conv" and prng.random() < 0.35 and min(y.shape[2:]) >= 3:
        # max pooling before the QuantizeLinear: the Q moves before it, the
        # group writes int8 and the pool runs on it
        kp, sp = int(prng.choice([2, 3])), int(prng.choice([1, 2]))
        pp = int(prng.integers(0, kp // 2 + 1))
        y_name = g.node("MaxPool", [y_name], kernel_shape=[kp, kp], strides=[sp, sp],
                        pads=[pp] * 4)
        y = F.max_pool2d(y, kp, sp, pp)
        exp["moves"] += 1
    yt = rng.choice([U8, I8])
    sy, zy = qparams(float(y.min()), float(y.max()), yt)
    yq = g.q(y_name, sy, np.array(zy, yt))
    g.output(yq, yt)
    exp["group_out"], exp["step"] = yq, float(sy)
    # after the group: data movement between values quantized alike (exact)
    tail = rng.choice(["none", "flatten", "concat", "add"])
    if tail == "flatten" and op == "conv":
        f = g.node("Flatten", [g.dq(yq, sy, np.array(zy, yt))], axis=1)
        out = g.q(f, sy, np.array(zy, yt))
        g.output(out, yt)
        exp["moves"] += 1
    elif tail == "concat":
        # concat of two graph inputs quantized alike: exact, int8
        shp = tuple(int(s) for s in rng.integers(1, 5, size=3))
        a = rng.integers(0, 256, size=shp).astype(U8)
        b = rng.integers(0, 256, size=shp).astype(U8)
        feeds["ca"], feeds["cb"] = a, b
        g.input("ca", a)
        g.input("cb", b)
        s, z = np.float32(0.05), np.array(7, U8)
        cat = g.node("Concat", [g.dq("ca", s, z), g.dq("cb", s, z)], axis=int(rng.integers(0, 3)))
        out = g.q(cat, s, z)
        g.output(out, U8)
        exp["moves"] += 1
        exp["exact"].append(out)
    elif tail == "add":
        # DQ(a) + DQ(b) -> Relu -> Q of graph inputs: float32 as the graph says
        shp = tuple(int(s) for s in rng.integers(1, 6, size=3))
        a = rng.integers(0, 256, size=shp).astype(U8)
        b = rng.integers(-128, 128, size=shp).astype(I8)
        feeds["aa"], feeds["ab"] = a, b
        g.input("aa", a)
        g.input("ab", b)
        add = g.node("Add", [g.dq("aa", np.float32(0.031), np.array(100, U8)),
                             g.dq("ab", np.float32(0.02), np.array(-3, I8))])
        out = g.q(g.node("Relu", [add]), np.float32(0.04), np.array(0, U8))
        g.output(out, U8)
        exp["exact"].append(out)
    return g.model(), feeds, exp


# ---- running --------------------------------------------------------------------------

def pass_counts(cli, path):
    r = subprocess.run([cli, "info", path, "--passes"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    m = re.search(r"qdq: fused (\d+) groups, (\d+) moves in int8", r.stdout)
    if not m:
        return None, "no qdq line in `ortc info --passes`:\n" + r.stdout[-2000:]
    return (int(m.group(1)), int(m.group(2))), None


def run_case(ortc, cli, work, rng, k):
    model, feeds, exp = make_case(rng, k)
    path = os.path.join(work, f"case{k}.onnx")
    onnx.save(model, path)
    onnx.checker.check_model(model)
    counts, err = pass_counts(cli, path)
    if err:
        return [f"case {k}: {err}"]
    problems = []
    if counts != (exp["groups"], exp["moves"]):
        problems.append(f"case {k}: the pass fused {counts[0]} groups and made {counts[1]} moves;"
                        f" expected {exp['groups']} and {exp['moves']}")
    fast = ortc.InferenceSession(path, threads=2)
    ref = ortc.InferenceSession(path, reference=True, optimize=False, threads=1)
    names = [o.name for o in fast.get_outputs()]
    got = dict(zip(names, fast.run(None, feeds)))
    want = dict(zip(names, ref.run(None, feeds)))
    for name in names:
        a, b = got[name], want[name]
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"case {k}: output {name}: {a.dtype}{list(a.shape)} vs reference "
                            f"{b.dtype}{list(b.shape)}")
            continue
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        worst = float(d.max()) if d.size else 0.0
        if name in exp["exact"]:
            ok, what = worst == 0, "bit-identical"
        elif name == exp["group_out"] and exp["float_out"]:
            tol = 1e-5 * max(1.0, float(np.abs(b).max()))
            ok, what = worst <= tol, f"within {tol:.3g}"
        else:  # the group's output, or data movement of it
            differ = int((d > 0).sum())
            ok = worst <= 1 and differ <= max(1, d.size // 100)
            what = f"within one quantization step, equal but for 1% ({differ} differ)"
        if not ok:
            i = np.unravel_index(int(np.argmax(d)), d.shape)
            problems.append(f"case {k}: output {name} not {what}: at {list(i)} int8 path "
                            f"{a[i]}, reference {b[i]} ({path})")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--build", required=True, help="build folder (libortc for the package)")
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="write the cases into this folder and keep them")
    args = ap.parse_args()
    os.environ["ORTC_BUILD_DIR"] = args.build
    sys.path.insert(0, os.path.join(REPO, "tools", "python"))
    import ortc
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        for k in range(args.count):
            p = run_case(ortc, args.cli, work, rng, k)
            problems += p
            for msg in p:
                print("FAIL: " + msg, file=sys.stderr, flush=True)
    print(f"{args.count} random QDQ cases (seed {args.seed}): {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
