"""patterns.py — multi-node shapes the graph passes and kernels rewrite
(runtime/passes/: Conv+BatchNormalization folding, element-wise followers
and Conv+Add fused as post-ops, fully connected weights stored transposed
behind a ReLU, PyTorch's decomposed LRN, Identity/Dropout elimination,
constant folding and If inlining; operators/: Winograd 3x3 and 5x5, batch-1
fully connected paths, views and in-place outputs), each with near-misses
that must *not* be rewritten: a second reader of the intermediate value, the
intermediate as a graph output, parameters known only at run time,
broadcasting operands, bounds in the wrong order. Registered with ops.GEN
under "P:" names.
"""
import numpy as np

import ops
from builder import Skip
from facts import FLOATS, numel
from ops import gen

ACTS = ["Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "Elu", "HardSigmoid"]


def near_miss(b, v, p=0.3):
    """Sometimes give v a second reader or make it a graph output, so a
    fusion through v must not happen."""
    if not b.p(p):
        return
    r = b.rng.random()
    if r < 0.45 and v.dtype not in FLOATS:
        b.emit("Identity", [v])
    elif r < 0.45:
        b.emit(b.choice(["Abs", "Neg", "Relu", "Sigmoid"]), [v])
    elif r < 0.7 and v.rank > 0:
        (t,) = b.emit("Transpose", [v], {"perm": [int(i) for i in b.rng.permutation(v.rank)]})
    else:
        v.consumers += 1
        b.outputs_extra.append(v)


def activation(b, x, op=None):
    if x.dtype not in FLOATS:
        return b.emit("Identity", [x])[0]
    op = op or b.choice(ACTS)
    if op == "Clip":
        lo, hi = float(b.choice([0.0, -1.0, -0.5])), float(b.choice([6.0, 1.0, 0.5]))
        if b.p(0.1):
            lo, hi = hi, lo  # min > max: numpy's rule, not a clip post-op
        if b.opset < 11:
            attrs = {}
            if b.p(0.85):
                attrs["min"] = lo
            if b.p(0.85):
                attrs["max"] = hi
            return b.emit("Clip", [x], attrs)[0]
        ins = [x]
        r = b.rng.random()
        if r < 0.7:
            ins += [b.scalar(x.dtype, lo), b.scalar(x.dtype, hi)]
        elif r < 0.8:
            ins += [b.scalar(x.dtype, lo)]
        elif r < 0.9:
            ins += [None, b.scalar(x.dtype, hi)]
        else:  # run-time bounds: no post-op
            ins += [b.leaf(x.dtype, (), data=np.array(lo, x.dtype)),
                    b.leaf(x.dtype, (), data=np.array(hi, x.dtype))]
        return b.emit("Clip", ins)[0]
    return b.emit(op, [x], ops._unary_attrs(b, op, x))[0]


def _conv_in(b, min_sp=3, chans=None, nsp=2):
    dt = "float32" if b.p(0.95) else b.pick_dtype("Conv")
    return ops._image(b, "Conv", nsp=nsp, dt=dt, min_sp=min_sp, chans=chans)


@gen("P:conv_bn", 4.0, needs=["Conv", "BatchNormalization"])
def p_conv_bn(b):
    y = ops.g_conv(b, _conv_in(b))
    near_miss(b, y, 0.2)
    if b.p(0.15):  # Identity/Dropout in between: eliminated first, then folded
        y = b.emit(b.choice(["Identity", "Dropout"]), [y])[0]
    z = ops.g_bn(b, y, const=b.p(0.85))
    if b.p(0.5):
        activation(b, z)


@gen("P:conv_act", 5.0, needs=["Conv"] + ["Relu"])
def p_conv_act(b):
    y = ops.g_conv(b, _conv_in(b, nsp=b.choice([2, 2, 2, 1, 3])))
    near_miss(b, y, 0.25)
    z = activation(b, y)
    if b.p(0.3):
        z = activation(b, z)
    near_miss(b, z, 0.1)


@gen("P:conv_add_relu", 4.0, needs=["Conv", "Add", "Relu"])
def p_conv_add_relu(b):
    x = _conv_in(b)
    y = ops.g_conv(b, x)
    r = b.rng.random()
    if r < 0.35:  # residual: another branch of the same shape
        other = b.pick(lambda v: v.dtype == y.dtype and v.shape == y.shape and v is not y,
                       fresh=0.4, make=lambda: b.leaf(y.dtype, y.shape))
    elif r < 0.55:  # two convolutions summed
        try:
            other = ops.g_conv(b, x, m=y.shape[1])
        except Skip:
            other = b.leaf(y.dtype, y.shape)
        if other.shape != y.shape:
            other = b.leaf(y.dtype, y.shape)
    elif r < 0.7:  # a broadcast operand: a plain Add, not a sum post-op
        other = b.leaf(y.dtype, (1, y.shape[1]) + (1,) * (y.rank - 2), role="param")
    elif r < 0.8:
        other = y  # Add(y, y)
    else:
        other = b.leaf(y.dtype, y.shape, role=b.choice(["act", "param"]))
    near_miss(b, y, 0.2)
    (s,) = b.emit("Add", [y, other] if b.p(0.5) else [other, y])
    if b.p(0.8):
        activation(b, s, "Relu" if b.p(0.7) else None)


@gen("P:gemm_act", 4.0, needs=["Gemm", "Relu"])
def p_gemm_act(b):
    if b.p(0.5):
        y = ops.g_gemm(b)
    else:
        y = ops.g_matmul(b)
    near_miss(b, y, 0.25)
    z = activation(b, y)
    if b.p(0.3):
        (z,) = b.emit("Add", [z, b.leaf(z.dtype, z.shape[-1:] if z.rank else (),
                                        role="param")])


@gen("P:relu_fc", 3.0, needs=["Gemm", "Relu", "Flatten"])
def p_relu_fc(b):
    """AlexNet's classifier: Relu -> Gemm(transB=1, constant B (N, K)) at
    batch 1 (plain-C matrix-vector paths; the fc pass transposes B)."""
    m = b.choice([1, 1, 1, 2, 3])
    k = b.choice([16, 64, 100, 256, 500])
    x = b.pick_float("Gemm", dtype="float32", shape=(m, k), fresh=0.6)
    if b.p(0.2):
        (x,) = b.emit("Flatten", [b.leaf("float32", (m, k // 4 if k % 4 == 0 else k, 1,
                                                     4 if k % 4 == 0 else 1))])
    if b.p(0.8):
        (a,) = b.emit("Relu", [x])
    else:
        a = ops.g_conv(b, _conv_in(b)) if b.p(0.3) else x
        if a.rank != 2:
            (a,) = b.emit("Flatten", [a])
        a = b.emit("Relu", [a])[0]
    near_miss(b, a, 0.2)
    if a.numel == 0 or a.rank != 2:
        raise Skip("shape")
    w_shared = None
    y = ops.g_gemm(b, a=a, const_b=b.p(0.9), trans_b=1 if b.p(0.85) else 0, m_rows=a.shape[0])
    if b.p(0.1):  # the weights read by a second layer too: must stay (N, K)
        ws = [v for v in b.inits if v.rank == 2 and v.shape[1] == a.shape[1]]
        if ws:
            w_shared = ws[-1]
            c = [b.leaf("float32", (w_shared.shape[0],), role="param")] if b.opset < 11 else []
            b.emit("Gemm", [a, w_shared] + c, {"transB": 1})
    if b.p(0.6):
        (z,) = b.emit("Relu", [y])
        if b.p(0.5):
            ops.g_gemm(b, a=z, const_b=True, trans_b=1, m_rows=z.shape[0])


@gen("P:winograd", 2.5, needs=["Conv", "Relu"])
def p_winograd(b):
    """Convolutions that take ortc's Winograd paths (3x3 stride 1 with >= 64
    channels on oneDNN; 5x5 stride 1, >= 32 channels, output channels a
    multiple of 16 on ortc's own F(2x2,5x5)) and near-misses of each."""
    k = b.choice([3, 5, 5])
    c = b.choice([32, 48, 64, 64] if k == 5 else [64, 64, 96])
    m = b.choice([32, 48, 64] if k == 5 else [64, 80])
    if b.p(0.2):  # near-miss: channels not a multiple of 16, too few channels
        m = b.choice([40, 24, 31])
    sp = b.choice([4, 5, 6, 7, 9, 11])
    x = b.leaf("float32", (b.choice([1, 1, 2]), c, sp, sp + b.choice([0, 1, 3])))
    cost = 2 * x.shape[0] * c * m * k * k * numel(x.shape[2:])
    if cost > max(b.flop_cap, 3e7) * 2:
        raise Skip("Winograd conv too expensive")
    b.flop_cap = max(b.flop_cap, cost * 1.2)
    y = ops.g_conv(b, x, kernel=[k, k], stride1=True, m=m, group=1, const_w=b.p(0.9))
    near_miss(b, y, 0.15)
    if b.p(0.7):
        z = activation(b, y, b.choice(["Relu", "LeakyRelu", "Clip", "Sigmoid"]))
        if b.p(0.3):
            ops.g_maxpool(b, z)


@gen("P:conv_chain", 3.0, needs=["Conv", "MaxPool", "Relu"])
def p_conv_chain(b):
    """Conv -> pool -> LRN -> Conv: blocked layouts carried between oneDNN
    ops, with plain readers in between forcing conversions."""
    x = _conv_in(b, min_sp=6)
    y = ops.g_conv(b, x)
    if b.p(0.6):
        y = activation(b, y, "Relu")
    if b.p(0.6) and min(y.shape[2:]) >= 2:
        y = ops.g_maxpool(b, y)
        if y.lo < -1e6:
            return  # a window with no element: -FLT_MAX, nothing to build on
    if b.p(0.3) and y.rank == 4 and b.opset >= 1:
        y = ops.g_lrn(b, y)
    near_miss(b, y, 0.3)
    if b.p(0.3):  # a plain reader in the middle
        (t,) = b.emit("Transpose", [y], {"perm": [0, 1, 3, 2]} if y.rank == 4 else {})
        if t.rank == 4:
            (y,) = b.emit("Transpose", [t], {"perm": [0, 1, 3, 2]})
    if min(y.shape[2:]) >= 1:
        try:
            y2 = ops.g_conv(b, y)
            if b.p(0.5):
                activation(b, y2)
        except Skip:
            pass


@gen("P:lrn_decomposed", 1.5, needs=["Mul", "Unsqueeze", "Pad", "AveragePool", "Squeeze", "Add",
                                     "Pow", "Div"])
def p_lrn_decomposed(b):
    """PyTorch's export of nn.LocalResponseNorm (see pass_lrn.c)."""
    x = b.pick_float("LRN", dtype="float32", rank=4,
                     pred=lambda v: v.shape[1] >= 2, fresh=0.4)
    size = b.choice([1, 2, 3, 4, 5])
    alpha, beta, k = (float(b.choice([1e-4, 1e-2, 0.1])), float(b.choice([0.75, 0.5])),
                      float(b.choice([1.0, 2.0])))
    (sq,) = b.emit("Mul", [x, x])
    if b.opset >= 13:
        (u,) = b.emit("Unsqueeze", [sq, b.i64([1])])
    else:
        (u,) = b.emit("Unsqueeze", [sq], {"axes": [1]})
    before, after = size // 2, (size - 1) // 2
    if b.p(0.15) and after > 0:  # near-miss: the window shifted by one
        before, after = before + 1, after - 1
    pads = [0, 0, before, 0, 0, 0, 0, after, 0, 0]
    if b.opset >= 11:
        (pd,) = b.emit("Pad", [u, b.i64(pads)])
    else:
        (pd,) = b.emit("Pad", [u], {"pads": pads})
    (q,) = b.emit("AveragePool", [pd], {"kernel_shape": [size, 1, 1], "strides": [1, 1, 1]})
    if b.opset >= 13:
        (r,) = b.emit("Squeeze", [q, b.i64([1])])
    else:
        (r,) = b.emit("Squeeze", [q], {"axes": [1]})
    (m,) = b.emit("Mul", [r, b.scalar("float32", alpha)])
    (a,) = b.emit("Add", [m, b.scalar("float32", k)])
    (p,) = b.emit("Pow", [a, b.scalar("float32", beta)])
    b.emit("Div", [x, p])


@gen("P:flatten_dyn", 1.5, needs=["Shape", "Gather", "Unsqueeze", "Concat", "Reshape"])
def p_flatten_dyn(b):
    """PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze ->
    Concat -> Reshape, folded per plan (dynamic batch)."""
    x = b.pick_float("Reshape", min_rank=2, max_rank=5, fresh=0.3)
    (s,) = b.emit("Shape", [x])
    (g,) = b.emit("Gather", [s, b.const(np.array(0, np.int64))], {"axis": 0})
    if b.opset >= 13:
        (u,) = b.emit("Unsqueeze", [g, b.i64([0])])
    else:
        (u,) = b.emit("Unsqueeze", [g], {"axes": [0]})
    (c,) = b.emit("Concat", [u, b.i64([-1])], {"axis": 0})
    (y,) = b.emit("Reshape", [x, c])
    if b.p(0.6):
        ops.g_gemm(b, a=y, const_b=True)


@gen("P:view_inplace", 3.0, needs=["Reshape", "Relu", "Add"])
def p_view_inplace(b):
    """A view (Reshape/Flatten/Squeeze/Unsqueeze) of x read by an op that
    may write in place, while x itself is read again later: the planner
    must not let the in-place write clobber x."""
    x = b.pick_float("Relu", min_rank=1, fresh=0.3)
    k = b.rng.random()
    if k < 0.4:
        (v,) = b.emit("Flatten", [x], {"axis": b.randint(0, x.rank)})
    elif k < 0.7:
        v = ops.g_reshape(b, x)
    elif b.opset >= 13:
        (v,) = b.emit("Unsqueeze", [x, b.i64([0])])
    else:
        (v,) = b.emit("Unsqueeze", [x], {"axes": [0]})
    e = activation(b, v, b.choice(["Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip"]))
    r = b.rng.random()
    if r < 0.5:
        b.emit(b.choice(["Add", "Mul", "Sub"]), [x, x])
    elif r < 0.8:
        b.emit("Neg", [x])
    else:
        x.consumers += 1
        b.outputs_extra.append(x)
    if b.p(0.3):
        b.emit("Relu", [e])


@gen("P:concat_producers", 2.0, needs=["Concat", "Conv"])
def p_concat_producers(b):
    """Inception-like: several producers of one channel concat."""
    x = _conv_in(b, min_sp=3)
    outs = []
    for _ in range(b.choice([2, 2, 3])):
        r = b.rng.random()
        try:
            if r < 0.5:
                y = ops.g_conv(b, x, kernel=[1, 1], stride1=True)
            elif r < 0.7:
                y = ops.g_conv(b, x, kernel=[3, 3], stride1=True)
                if y.shape[2:] != x.shape[2:]:
                    raise Skip("shape")
            else:
                (y,) = b.emit("MaxPool", [x], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
        except Skip:
            (y,) = b.emit("Relu", [x])
        if y.shape[2:] == x.shape[2:] and y.shape[0] == x.shape[0]:
            outs.append(y)
    if b.p(0.3):
        outs.append(x)
    if len(outs) < 2:
        raise Skip("no producers")
    (c,) = b.emit("Concat", outs, {"axis": 1})
    if b.p(0.5):
        activation(b, c, "Relu")


@gen("P:const_fold", 1.5, needs=["Add", "Mul", "MatMul"])
def p_const_fold(b):
    """Weights computed from constants (folded at session creation), then
    used by a layer that may fuse."""
    x = b.pick_float("MatMul", dtype="float32", min_rank=2, max_rank=3, fresh=0.3)
    k = x.shape[-1]
    n = b.choice([4, 8, 16])
    w1 = b.leaf("float32", (k, n), role="weight", flavor="uniform", as_input=False,
                scale=float(1 / np.sqrt(max(k, 1))))
    w2 = b.leaf("float32", (k, n) if b.p(0.6) else (n,), role="weight", flavor="small",
                as_input=False)
    (w,) = b.emit(b.choice(["Add", "Mul", "Sub"]), [w1, w2])
    if b.p(0.3):
        (w,) = b.emit("Transpose", [w], {"perm": [0, 1]})
    (y,) = b.emit("MatMul", [x, w])
    if b.p(0.6):
        activation(b, y)


@gen("P:eliminate", 2.0, needs=["Identity", "Dropout", "Relu"])
def p_eliminate(b):
    """Identity/Dropout chains, including one that is a graph output and one
    that passes a graph input straight through."""
    x = b.pick_float("Identity", fresh=0.3)
    v = x
    for _ in range(b.randint(1, 3)):
        op = b.choice(["Identity", "Dropout"])
        outs = b.emit(op, [v], n_out=2 if op == "Dropout" and b.p(0.2) else 1)
        v = outs[0]
        near_miss(b, v, 0.15)
    if b.p(0.6):
        activation(b, v)


@gen("P:if", 2.0, needs=["If", "Relu"])
def p_if(b):
    """If with a constant condition (inlined by the fold pass) or one fed at
    run time; branches read outer values."""
    x = b.pick_float("Relu", fresh=0.2)
    r = b.rng.random()
    if r < 0.4:
        cond = b.const(np.array(bool(b.p(0.5))), node_p=0.5)
    elif r < 0.75:
        cond = b.leaf("bool", b.choice([(), (1,)]), as_input=True, pool=False)
    else:  # computed from exact values
        e = b.pick(lambda v: v.dtype == "float32" and v.exact and not v.fragile and v.rank >= 1,
                   fresh=0.3, make=lambda: b.leaf("float32", (4,), flavor="grid"))
        (mx,) = b.emit("ReduceMax", [e], {"keepdims": 0})
        (cond,) = b.emit("Greater", [mx, b.scalar("float32", 0.5)])
    n_out = b.choice([1, 1, 2])
    branches = []
    for _ in range(2):
        b.begin_scope()
        res = []
        for k in range(n_out):
            src = x if k == 0 else b.pick(lambda v: v.dtype == x.dtype and v.shape == x.shape,
                                          fresh=0.0, make=lambda: x)
            v = src
            for _ in range(b.randint(1, 3)):
                op = b.choice(["Relu", "Sigmoid", "Tanh", "Neg", "Abs", "Add", "Mul"])
                if op in ("Add", "Mul"):
                    (v,) = b.emit(op, [v, b.const(np.array(float(b.choice([0.5, 2.0, -1.0])),
                                                           x.dtype), node_p=0.6)])
                else:
                    (v,) = b.emit(op, [v])
            if v is src:  # a branch output must be produced inside the branch
                (v,) = b.emit("Identity", [v])
            res.append(v)
        nodes = b.end_scope()
        branches.append((nodes, res))
    from onnx import helper
    from builder import vinfo
    graphs = []
    for i, (nodes, res) in enumerate(branches):
        graphs.append(helper.make_graph(
            nodes, f"{'then' if i == 0 else 'else'}_{b.n}", [],
            [vinfo(v.name, v.dtype, v.shape) for v in res]))
    attrs = {"then_branch": graphs[0], "else_branch": graphs[1]}
    import infer as inf
    inf.INFER["If"] = _infer_if_stub(branches)
    try:
        outs = b.emit("If", [cond], attrs, n_out=n_out)
    finally:
        inf.INFER["If"] = _infer_if_generic
    for o, tv, ev in zip(outs, branches[0][1], branches[1][1]):
        o.lo, o.hi = min(tv.lo, ev.lo), max(tv.hi, ev.hi)
        o.depth = max(tv.depth, ev.depth)
        o.prec = tv.prec if tv.prec == ev.prec else "float16" if "float16" in (tv.prec, ev.prec) \
            else "float32"
        o.exact = False
        o.fragile = tv.fragile or ev.fragile or cond.fragile
    if b.p(0.5):
        activation(b, outs[0])


def _infer_if_stub(branches):
    """If's outputs while the builder emits it: the branches' types."""
    def f(n):
        from facts import Val
        return [Val(None, t.dtype, t.shape) for t in branches[0][1]]
    return f


def _infer_if_generic(n):
    from infer import InferError
    raise InferError("If is analysed by analyze.py")


import infer as _inf  # noqa: E402

_inf.INFER["If"] = _infer_if_generic
_inf.KIND["If"] = "inexact"


# ---- QDQ groups (runtime/passes/pass_qdq.c) ----------------------------------------
# xq -> DequantizeLinear -> Conv/MatMul/Gemm (weights DequantizeLinear of
# int8 constants, or of QuantizeLinear of float constants; bias a float
# constant or DequantizeLinear of int32) [-> Add bias] [-> activation]
# [-> QuantizeLinear]: the pass runs each group as one int8 primitive. The
# final QuantizeLinear of the float result is compared within one step
# (facts.Val.qstep); without it the float output gets the usual tolerance.
# Near-misses: a second reader of the float result, weights known only at
# run time, per-axis activation parameters.

def _dq(b, q, scale, zp, axis=None):
    ins = [q, b.leaf("float32", scale.shape, role="param", data=scale)]
    if zp is not None:
        ins.append(b.leaf(q.dtype, zp.shape, role="param", data=zp))
    return b.emit("DequantizeLinear", ins, {} if axis is None else {"axis": axis})[0]


def _qparams(b, shape=(), pow2=None):
    pow2 = b.p(0.6) if pow2 is None else pow2
    n = numel(shape)
    if pow2:
        s = 2.0 ** b.rng.integers(-7, -1, n)
    else:
        s = b.rng.uniform(0.005, 0.05, n)
    return s.astype("float32").reshape(shape)


@gen("P:qdq", 4.0, needs=["QuantizeLinear", "DequantizeLinear", "Conv", "MatMul"])
def p_qdq(b):
    kind = b.choice(["conv", "conv", "matmul", "gemm"])
    xdt = b.choice(["uint8", "int8"])
    xs = _qparams(b)
    xz = np.array(b.randint(100, 150) if xdt == "uint8" else b.randint(-20, 20), xdt) \
        if b.p(0.8) else np.array(0, xdt)
    if kind == "conv":
        c = b.choice([1, 3, 4, 8, 16])
        sp = [b.choice([3, 5, 8, 12, 16]) for _ in range(2)]
        xshape = tuple(b.fit([b.batch, c] + sp, keep=(1,)))
    else:
        xshape = b.rand_shape(2 if kind == "gemm" else b.choice([2, 3]), cap=4096)
    xq = ops._qleaf(b, xdt, xshape, full=b.p(0.5))
    x = _dq(b, xq, xs, xz)
    per_ch = b.opset >= 13 and b.p(0.5)
    const_w = b.p(0.9)
    if kind == "conv":
        m = b.choice([1, 2, 4, 8, 16])
        kern, strides, dil, pads, auto = ops._window(b, x)
        attrs = ops._window_attrs(b, kern, strides, dil, pads, auto, False)
        wshape = (m, c) + tuple(kern)
        cost = 2 * xshape[0] * m * c * numel(kern) * numel(xshape[2:])
        waxis = 0
    else:
        k = xshape[-1]
        m = b.choice([1, 4, 8, 16, 33])
        wshape = (k, m)
        attrs = {}
        cost = 2 * numel(xshape) * m
        waxis = 1
    if cost > b.flop_cap:
        raise Skip("QDQ group too expensive")
    b.flops += cost
    ws = _qparams(b, (wshape[waxis],) if per_ch else ())
    if b.p(0.75):  # int8 weights, symmetric (or not)
        wq = ops._qleaf(b, "int8", wshape, role="weight", as_input=not const_w, full=b.p(0.5))
        wz = np.zeros(ws.shape, "int8") if b.p(0.85) else \
            b.rng.integers(-3, 4, ws.shape).astype("int8")
        w = _dq(b, wq, ws, wz, axis=waxis if per_ch else None)
    else:  # DQ(Q(float weights))
        wf = b.leaf("float32", wshape, role="weight", flavor="uniform", as_input=not const_w)
        wsv = b.leaf("float32", ws.shape, role="param", data=ws)
        wzv = b.leaf("int8", ws.shape, role="param", data=np.zeros(ws.shape, "int8"))
        (wq,) = b.emit("QuantizeLinear", [wf, wsv, wzv], {"axis": waxis} if per_ch else {})
        w = b.emit("DequantizeLinear", [wq, wsv, wzv], {"axis": waxis} if per_ch else {})[0]
    bias = None
    if b.p(0.7) or (kind == "gemm" and b.opset < 11):  # Gemm's C optional from 11
        if b.p(0.5):
            bq = b.leaf("int32", (m,), role="param",
                        data=b.rng.integers(-500, 501, m).astype("int32"))
            bsc = (xs * ws).astype("float32") * np.ones((m,), "float32") if per_ch else \
                np.array(xs * ws, "float32")
            bias = _dq(b, bq, bsc.reshape(bsc.shape), None, axis=0 if per_ch else None)
        else:
            bias = b.leaf("float32", (m,), role="param", flavor="small")
    if kind == "conv":
        (y,) = b.emit("Conv", [x, w] + ([bias] if bias is not None else []), attrs)
    elif kind == "gemm":
        (y,) = b.emit("Gemm", [x, w] + ([bias] if bias is not None else []))
    else:
        (y,) = b.emit("MatMul", [x, w])
        if bias is not None:
            (y,) = b.emit("Add", [y, bias])
    near_miss(b, y, 0.15)
    if b.p(0.5):
        y = activation(b, y, b.choice(["Relu", "Relu", "Clip", None]))
    if b.p(0.8):
        ydt = b.choice(["uint8", "int8"])
        ys = _qparams(b)
        yz = np.array(b.randint(0, 255) if ydt == "uint8" else b.randint(-128, 127), ydt)
        b.emit("QuantizeLinear", [y, b.leaf("float32", (), role="param", data=ys),
                                  b.leaf(ydt, (), role="param", data=yz)], pool=False)


# ---- Loop --------------------------------------------------------------------------
# A known trip count (and a condition that stays true), loop-carried float
# values, the body reading the iteration number and outer values, scan
# outputs; the output facts are the body's, iteration by iteration
# (analyze.loop_facts).

@gen("P:loop", 1.5, needs=["Loop", "Relu"])
def p_loop(b):
    import analyze
    from builder import vinfo
    from facts import Val
    from onnx import helper
    x = b.pick_float("Relu", fresh=0.2, pred=lambda v: v.dtype == "float32" and v.mag < 100)
    carried = [x]
    if b.p(0.3):
        carried.append(b.pick(lambda v: v.dtype == "float32" and v is not x and v.mag < 100,
                              fresh=0.3, make=lambda: b.leaf("float32", b.rand_shape(2))))
    m = b.choice([1, 2, 3, 4, 6])
    trip = b.const(np.array(m, np.int64), node_p=0.3)
    cond = b.const(np.array(True)) if b.p(0.5) else None
    b.begin_scope()
    it = b.add_val(Val(b.name("it"), "int64", (), 0, m - 1, True), pool=False)
    cin = b.add_val(Val(b.name("cond"), "bool", (), 1, 1, True), pool=False)
    ins_b, outs_b, scans = [], [], []
    for c in carried:
        v = b.add_val(Val(b.name("x"), c.dtype, c.shape, c.lo, c.hi, c.exact, c.grid),
                      pool=False)
        ins_b.append(v)
        for _ in range(b.randint(1, 3)):
            op = b.choice(["Tanh", "Sigmoid", "Relu", "Neg", "Mul", "Add", "AddIter", "AddOuter"])
            if op == "Mul":
                (v,) = b.emit("Mul", [v, b.const(np.array(float(b.choice([0.5, -0.75, 1.5])),
                                                          np.float32), node_p=0.6)], pool=False)
            elif op == "Add":
                (v,) = b.emit("Add", [v, b.const(np.array(float(b.choice([0.25, -1.0])),
                                                          np.float32), node_p=0.6)], pool=False)
            elif op == "AddIter":
                (f,) = b.emit("Cast", [it], {"to": 1}, pool=False)
                (v,) = b.emit("Add", [v, f], pool=False)
            elif op == "AddOuter":  # an outer value read in the body
                o = b.pick(lambda u: u.dtype == "float32" and u.shape == c.shape and
                           u.scope == 0 and u.mag < 100, fresh=0.5,
                           make=lambda: b.leaf("float32", c.shape))
                (v,) = b.emit("Add", [v, o], pool=False)
            else:
                (v,) = b.emit(op, [v], pool=False)
        if v is ins_b[-1]:
            (v,) = b.emit("Identity", [v], pool=False)
        if v.mag > 1e4:
            (v,) = b.emit("Tanh", [v], pool=False)
        outs_b.append(v)
        if b.p(0.5):
            (sv,) = b.emit(b.choice(["Relu", "Identity", "Abs"]), [v], pool=False)
            scans.append(sv)
    (cout,) = b.emit("Identity", [cin], pool=False)
    nodes = b.end_scope()
    body = helper.make_graph(
        nodes, f"body_{b.n}",
        [vinfo(it.name, "int64", ()), vinfo(cin.name, "bool", ())] +
        [vinfo(v.name, v.dtype, v.shape) for v in ins_b],
        [vinfo(cout.name, "bool", ())] + [vinfo(v.name, v.dtype, v.shape) for v in outs_b] +
        [vinfo(v.name, v.dtype, v.shape) for v in scans])
    lins = [trip, cond] + carried
    facts = analyze.loop_facts(body, lins, dict(b.vals), b.opset, len(carried) + len(scans))
    if any(o.mag > 1e5 for o in facts if o is not None):
        raise Skip("Loop values grow too large")
    import infer as inf
    inf.INFER["Loop"] = lambda n: [Val(None, o.dtype, o.shape) for o in facts]
    try:
        outs = b.emit("Loop", lins, {"body": body}, n_out=len(facts))
    finally:
        inf.INFER["Loop"] = _infer_loop_generic
    for o, f in zip(outs, facts):
        o.lo, o.hi, o.exact, o.grid = f.lo, f.hi, f.exact, f.grid
        o.depth, o.fragile, o.prec = f.depth, f.fragile, f.prec
    if b.p(0.4):
        activation(b, outs[0])


def _infer_loop_generic(n):
    from infer import InferError
    raise InferError("Loop is analysed by analyze.py")


_inf.INFER["Loop"] = _infer_loop_generic
_inf.KIND["Loop"] = "inexact"


# ---- Scan (opset 9+) ---------------------------------------------------------------

@gen("P:scan", 1.2, needs=["Scan", "Relu"])
def p_scan(b):
    import analyze
    from builder import vinfo
    from facts import Val
    from onnx import helper
    if b.opset < 9:
        raise Skip("Scan-8 takes a batch axis")
    x = b.pick_float("Relu", fresh=0.3, min_rank=1, max_rank=4,
                     pred=lambda v: v.dtype == "float32" and v.mag < 100 and v.numel > 0 and
                     any(1 <= d <= 8 for d in v.shape))
    axes_ok = [a for a in range(x.rank) if 1 <= x.shape[a] <= 8]
    if not axes_ok:
        raise Skip("Scan: no short axis")
    ax = b.choice(axes_ok)
    sl_shape = x.shape[:ax] + x.shape[ax + 1:]
    s0 = b.pick(lambda v: v.dtype == "float32" and v.shape == sl_shape and v.mag < 100,
                fresh=0.5, make=lambda: b.leaf("float32", sl_shape))
    b.begin_scope()
    st = b.add_val(Val(b.name("st"), "float32", sl_shape, s0.lo, s0.hi, s0.exact, s0.grid),
                   pool=False)
    sl = b.add_val(Val(b.name("sl"), "float32", sl_shape, x.lo, x.hi, x.exact, x.grid),
                   pool=False)
    (v,) = b.emit(b.choice(["Add", "Sub", "Max"]), [st, sl] if b.p(0.5) else [sl, st],
                  pool=False)
    for _ in range(b.randint(0, 2)):
        op = b.choice(["Tanh", "Relu", "Mul", "Neg"])
        if op == "Mul":
            (v,) = b.emit("Mul", [v, b.const(np.array(0.5, np.float32), node_p=0.6)], pool=False)
        else:
            (v,) = b.emit(op, [v], pool=False)
    if v.mag > 1e4:
        (v,) = b.emit("Tanh", [v], pool=False)
    scans = []
    for _ in range(b.choice([0, 1, 1, 2])):
        (sv,) = b.emit(b.choice(["Relu", "Identity", "Sigmoid", "Abs"]),
                       [b.choice([v, sl, st])], pool=False)
        scans.append(sv)
    nodes = b.end_scope()
    body = helper.make_graph(nodes, f"scanbody_{b.n}",
                             [vinfo(st.name, "float32", sl_shape),
                              vinfo(sl.name, "float32", sl_shape)],
                             [vinfo(u.name, u.dtype, u.shape) for u in [v] + scans])
    attrs = {"body": body, "num_scan_inputs": 1}
    if ax != 0 or b.p(0.2):
        attrs["scan_input_axes"] = [ax - x.rank if b.opset >= 11 and b.p(0.3) else ax]
    if b.p(0.3):
        attrs["scan_input_directions"] = [int(b.p(0.5))]
    if scans and b.p(0.4):
        attrs["scan_output_axes"] = [b.randint(0, u.rank) for u in scans]
    if scans and b.p(0.3):
        attrs["scan_output_directions"] = [int(b.p(0.5)) for _ in scans]
    facts = analyze.scan_facts(attrs, [s0, x], dict(b.vals), b.opset, 1 + len(scans))
    import infer as inf
    inf.INFER["Scan"] = lambda n: [Val(None, o.dtype, o.shape) for o in facts]
    try:
        outs = b.emit("Scan", [s0, x], attrs, n_out=len(facts))
    finally:
        inf.INFER["Scan"] = _infer_scan_generic
    for o, f in zip(outs, facts):
        o.lo, o.hi, o.exact, o.grid = f.lo, f.hi, f.exact, f.grid
        o.depth, o.fragile, o.prec = f.depth, f.fragile, f.prec


def _infer_scan_generic(n):
    from infer import InferError
    raise InferError("Scan is analysed by analyze.py")


_inf.INFER["Scan"] = _infer_scan_generic
_inf.KIND["Scan"] = "inexact"
