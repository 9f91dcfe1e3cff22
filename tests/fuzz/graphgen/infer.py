"""infer.py — per-operator inference of output facts (facts.py) from input
facts and attributes, written from the ONNX operator specification (opsets
9 to 17): dtype, shape, bounds, exactness, grid and known contents. The
generator calls it for every node it emits (and then checks the shapes
against onnx.shape_inference); the analysis of a saved or shrunk graph
(analyze.py) calls it to recompute facts and to refuse invalid candidates.
It chooses nothing at random; ops.py does.
"""
import math

import numpy as np

from facts import (DTYPE_OF, FLOATS, INF, InferError, Val, auto_pads, bounds_of_data, broadcast,
                   clamp_bounds, conv_out, grid_ok, int_range, monotone, mul_bounds, norm_axis,
                   numel, unidirectional)

# How an op relates to exactness (facts.Val.exact):
#   move     rearranges or selects elements: exact iff its inputs are
#   exact    one correctly rounded IEEE operation per element (or order-free
#            like max): exact iff its inputs are
#   discont  a discontinuous function of its input (Floor, comparisons,
#            ArgMax, ...): its inputs must be exact, else the output is
#            *fragile* (a last-bit difference upstream may flip it)
#   inexact  anything else: compared with a tolerance
KIND = {}
# which inputs of a discont op must be exact (default: all)
DISCONT_INPUTS = {"Where": (0,), "Clip": (), "Resize": (), "Upsample": ()}


def kind_of(op):
    return KIND.get(op, "inexact")


SEQ_OPS = ("SequenceConstruct", "SequenceEmpty", "SequenceInsert", "SequenceErase",
           "SequenceAt", "SequenceLength", "SplitToSequence", "ConcatFromSequence", "Optional",
           "OptionalGetElement", "OptionalHasElement", "SequenceMap")


class N:
    """A node being inferred: op, inputs (Val or None), attributes."""

    def __init__(self, op, ins, attrs, opset, n_out=1):
        if op not in SEQ_OPS and any(v is not None and v.seq is not None for v in ins):
            raise InferError(f"{op}: a sequence or optional where a tensor is expected")
        self.op = op
        self.ins = ins
        self.attrs = attrs
        self.opset = opset
        self.n_out = n_out

    def a(self, name, default=None):
        return self.attrs.get(name, default)

    def inp(self, i):
        return self.ins[i] if i < len(self.ins) else None

    def need(self, lo, hi=None):
        n = len(self.ins)
        if n < lo or (hi is not None and n > hi):
            raise InferError(f"{self.op}: {n} inputs")

    def data(self, i, what):
        v = self.inp(i)
        if v is None:
            return None
        if v.data is None:
            raise InferError(f"{self.op}: {what} (input {i}) is not known at build time")
        return v.data


INFER = {}


def infer_op(name, kind="inexact"):
    def deco(f):
        INFER[name] = f
        KIND[name] = kind
        return f
    return deco


def same(v, **kw):
    o = Val(None, kw.pop("dtype", v.dtype), kw.pop("shape", v.shape), **kw)
    return o


def like(v, lo=None, hi=None, exact=None, grid=None, dtype=None):
    """Output of the same dtype/shape as v; bounds default to v's."""
    o = Val(None, dtype or v.dtype, v.shape, v.lo if lo is None else lo,
            v.hi if hi is None else hi, v.exact if exact is None else exact, grid)
    return o


# ---- element-wise unary ----------------------------------------------------

def _f(name, **kw):
    return lambda x: getattr(np, name)(x, **kw)


def _elu(alpha):
    return lambda x: np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


UNARY = {
    # op: (kind, bounds function (lo, hi, node) -> (lo, hi))
    "Relu": ("exact", lambda lo, hi, n: (max(lo, 0.0), max(hi, 0.0))),
    "Abs": ("exact", lambda lo, hi, n: (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)),
                                        max(abs(lo), abs(hi)))),
    "Neg": ("exact", lambda lo, hi, n: (-hi, -lo)),
    "LeakyRelu": ("inexact", lambda lo, hi, n: _lrelu_b(lo, hi, n.a("alpha", 0.01))),
    "Elu": ("inexact", lambda lo, hi, n: monotone(_elu(n.a("alpha", 1.0)), lo, hi)),
    "Celu": ("inexact", lambda lo, hi, n: (max(lo, -n.a("alpha", 1.0)) if lo < 0 else lo,
                                           max(hi, 0.0) if hi > 0 else hi)),
    "Selu": ("inexact", lambda lo, hi, n: monotone(
        lambda x: n.a("gamma", 1.0507009873554805) * _elu(n.a("alpha", 1.6732632423543772))(x),
        lo, hi)),
    "Sigmoid": ("inexact", lambda lo, hi, n: monotone(lambda x: 1 / (1 + np.exp(-x)), lo, hi)),
    "HardSigmoid": ("inexact", lambda lo, hi, n: _hsig_b(lo, hi, n)),
    "HardSwish": ("inexact", lambda lo, hi, n: (-0.375, max(hi, 0.0))),
    "Tanh": ("inexact", lambda lo, hi, n: monotone(np.tanh, lo, hi)),
    "Softplus": ("inexact", lambda lo, hi, n: monotone(lambda x: np.logaddexp(0, x), lo, hi)),
    "Softsign": ("inexact", lambda lo, hi, n: monotone(lambda x: x / (1 + np.abs(x)), lo, hi)),
    "ThresholdedRelu": ("discont", lambda lo, hi, n: (0.0 if lo <= n.a("alpha", 1.0) else lo,
                                                      max(hi, 0.0))),
    "Shrink": ("discont", lambda lo, hi, n: (min(lo + n.a("bias", 0.0), 0.0, lo),
                                             max(hi - n.a("bias", 0.0), 0.0, hi))),
    "Sqrt": ("inexact", lambda lo, hi, n: monotone(np.sqrt, max(lo, 0.0), hi)),
    "Exp": ("inexact", lambda lo, hi, n: monotone(np.exp, lo, hi)),
    "Log": ("inexact", lambda lo, hi, n: monotone(np.log, lo, hi)),
    "Reciprocal": ("inexact", lambda lo, hi, n: _recip_b(lo, hi)),
    "Round": ("discont", lambda lo, hi, n: monotone(np.round, lo, hi)),
    "Floor": ("discont", lambda lo, hi, n: monotone(np.floor, lo, hi)),
    "Ceil": ("discont", lambda lo, hi, n: monotone(np.ceil, lo, hi)),
    "Sign": ("discont", lambda lo, hi, n: (float(np.sign(lo)), float(np.sign(hi)))),
    "Erf": ("inexact", lambda lo, hi, n: monotone(lambda x: np.vectorize(math.erf)(x), lo, hi)),
    "Sin": ("inexact", lambda lo, hi, n: (-1.0, 1.0)),
    "Cos": ("inexact", lambda lo, hi, n: (-1.0, 1.0)),
    "Tan": ("inexact", lambda lo, hi, n: monotone(np.tan, lo, hi)),
    "Asin": ("inexact", lambda lo, hi, n: monotone(np.arcsin, lo, hi)),
    "Acos": ("inexact", lambda lo, hi, n: monotone(np.arccos, lo, hi, increasing=False)),
    "Atan": ("inexact", lambda lo, hi, n: monotone(np.arctan, lo, hi)),
    "Sinh": ("inexact", lambda lo, hi, n: monotone(np.sinh, lo, hi)),
    "Cosh": ("inexact", lambda lo, hi, n: (1.0, float(np.cosh(max(abs(lo), abs(hi)))))),
    "Asinh": ("inexact", lambda lo, hi, n: monotone(np.arcsinh, lo, hi)),
    "Acosh": ("inexact", lambda lo, hi, n: monotone(np.arccosh, lo, hi)),
    "Atanh": ("inexact", lambda lo, hi, n: monotone(np.arctanh, lo, hi)),
}


def _lrelu_b(lo, hi, a):
    c = [lo if lo > 0 else a * lo, hi if hi > 0 else a * hi, 0.0 if lo < 0 < hi else lo]
    return min(c), max(c)


def _hsig_b(lo, hi, n):
    a, b = n.a("alpha", 0.2), n.a("beta", 0.5)
    f = lambda x: min(1.0, max(0.0, a * x + b))  # noqa: E731
    c = [f(lo), f(hi)]
    return min(c), max(c)


def _recip_b(lo, hi):
    if lo > 0 or hi < 0:
        return clamp_bounds(1 / hi, 1 / lo)
    return -INF, INF


def _unary(op):
    kind, bf = UNARY[op]

    def f(n):
        n.need(1, 1)
        x = n.ins[0]
        lo, hi = bf(x.lo, x.hi, n) if x.dtype in FLOATS else (x.lo, x.hi)
        lo, hi = clamp_bounds(lo, hi)
        if x.dtype not in FLOATS and op in ("Relu", "Abs", "Neg", "Sign"):
            lo, hi = {"Relu": (max(x.lo, 0), max(x.hi, 0)), "Neg": (-x.hi, -x.lo),
                      "Abs": (0, max(abs(x.lo), abs(x.hi))),
                      "Sign": (float(np.sign(x.lo)), float(np.sign(x.hi)))}[op]
        grid = x.grid if op in ("Relu", "Abs", "Neg") else None
        if op in ("Round", "Floor", "Ceil", "Sign") and x.dtype in FLOATS:
            grid = grid_ok((0, max(abs(lo), abs(hi), 1.0)), x.dtype)
        o = like(x, lo, hi, grid=grid)
        if op == "Abs" and x.dtype not in FLOATS:
            lo_t, hi_t = int_range(x.dtype)
            if lo_t < 0 and x.lo <= lo_t:  # abs(INT_MIN) overflows
                raise InferError("Abs of the type's minimum")
        return [o]
    KIND[op] = kind
    INFER[op] = f


for _op in UNARY:
    _unary(_op)


@infer_op("Clip", "exact")
def _clip(n):
    x = n.ins[0]
    if n.opset < 11:
        mn, mx = n.a("min", -3.4028234663852886e38), n.a("max", 3.4028234663852886e38)
    else:
        n.need(1, 3)
        # bounds fed at run time: their value ranges
        mn = (float(n.ins[1].data.reshape(-1)[0]) if n.ins[1].data is not None else n.ins[1].lo) \
            if n.inp(1) is not None else -INF
        mx = (float(n.ins[2].data.reshape(-1)[0]) if n.ins[2].data is not None else n.ins[2].hi) \
            if n.inp(2) is not None else INF
        for i in (1, 2):
            v = n.inp(i)
            if v is not None and (v.shape not in ((), (1,)) or v.dtype != x.dtype):
                raise InferError("Clip bounds must be scalars of the input's type")
    lo, hi = min(max(x.lo, mn), mx), min(max(x.hi, mn), mx)
    if mn > mx:  # numpy's rule: every element becomes max
        lo = hi = mx
    grid = x.grid
    if grid:  # a bound off the grid (1.2) puts values off it
        from facts import grid_of_data
        bg = grid_of_data(np.array([b for b in (mn, mx) if abs(b) < 1e30] or [0.0]), x.dtype)
        grid = None if bg is None or bg[0] > grid[0] else (grid[0], max(grid[1], bg[1]))
    return [like(x, lo, hi, grid=grid)]


@infer_op("IsNaN", "discont")
def _isnan(n):
    return [like(n.ins[0], 0, 1, dtype="bool", exact=True)]


@infer_op("IsInf", "discont")
def _isinf(n):
    return [like(n.ins[0], 0, 1, dtype="bool", exact=True)]


@infer_op("Not", "exact")
def _not(n):
    return [like(n.ins[0], 0, 1)]


# ---- element-wise binary / variadic ------------------------------------------

def _bshape(n, *vals):
    return broadcast(*[v.shape for v in vals])


def _int_check(dtype, lo, hi):
    if dtype in FLOATS or dtype == "bool":
        return
    tlo, thi = int_range(dtype)
    if lo < tlo or hi > thi:
        raise InferError(f"integer result [{lo}, {hi}] overflows {dtype}")


def _arith(op):
    def f(n):
        n.need(2, 2)
        a, b = n.ins
        if a.dtype != b.dtype:
            raise InferError(f"{op}: dtypes {a.dtype} and {b.dtype}")
        shape = _bshape(n, a, b)
        grid = None
        if op == "Add":
            lo, hi = a.lo + b.lo, a.hi + b.hi
            if a.grid and b.grid:
                grid = (max(a.grid[0], b.grid[0]), a.grid[1] + b.grid[1])
        elif op == "Sub":
            lo, hi = a.lo - b.hi, a.hi - b.lo
            if a.grid and b.grid:
                grid = (max(a.grid[0], b.grid[0]), a.grid[1] + b.grid[1])
        elif op == "Mul":
            lo, hi = mul_bounds(a, b)
            if a.grid and b.grid:
                grid = (a.grid[0] + b.grid[0], a.grid[1] * b.grid[1])
        else:  # Div
            if a.dtype in FLOATS:
                if not (b.lo > 0 or b.hi < 0):
                    lo, hi = -INF, INF
                else:
                    r = Val(None, b.dtype, b.shape, *_recip_b(b.lo, b.hi))
                    lo, hi = mul_bounds(a, r)
            else:
                if b.lo <= 0 <= b.hi:
                    raise InferError("integer Div by a range that holds 0")
                if a.lo < 0 or b.lo < 0:
                    # truncation vs floor: the spec does not say
                    raise InferError("integer Div of negative values (rounding unspecified)")
                lo, hi = 0, a.hi // max(b.lo, 1)
        lo, hi = clamp_bounds(lo, hi)
        _int_check(a.dtype, lo, hi)
        exact = a.exact and b.exact and (op != "Div" or a.dtype not in FLOATS)
        return [Val(None, a.dtype, shape, lo, hi, exact, grid_ok(grid, a.dtype))]
    INFER[op] = f
    KIND[op] = "exact"


for _op in ("Add", "Sub", "Mul", "Div"):
    _arith(_op)


@infer_op("Pow", "inexact")
def _pow(n):
    n.need(2, 2)
    a, b = n.ins
    if n.opset < 12 and a.dtype != b.dtype:
        raise InferError("Pow-7: base and exponent of one type")
    shape = _bshape(n, a, b)
    if a.dtype in FLOATS:
        if a.lo > 0:
            c = [a.lo ** b.lo, a.lo ** b.hi, a.hi ** b.lo, a.hi ** b.hi]
            lo, hi = min(c), max(c)
        elif b.data is not None and np.all(b.data == np.round(b.data)) and b.data.size:
            e = np.unique(b.data.astype(np.float64))
            m = max(abs(a.lo), abs(a.hi))
            hi = max(m ** float(x) for x in e) if e.min() >= 0 else INF
            lo = -hi if np.any(e % 2 == 1) else (0.0 if e.min() >= 0 else -INF)
        else:
            lo, hi = -INF, INF
        return [Val(None, a.dtype, shape, *clamp_bounds(lo, hi))]
    if b.lo < 0:
        raise InferError("integer Pow with a negative exponent")
    m = max(abs(a.lo), abs(a.hi))
    hi = m ** b.hi if m > 1 else 1
    lo = -hi if a.lo < 0 else 0
    _int_check(a.dtype, lo, hi)
    return [Val(None, a.dtype, shape, lo, hi, a.exact and b.exact)]


@infer_op("Mod", "discont")
def _mod(n):
    n.need(2, 2)
    a, b = n.ins
    fmod = n.a("fmod", 0)
    if a.dtype != b.dtype:
        raise InferError("Mod: dtypes differ")
    if a.dtype in FLOATS and fmod != 1:
        raise InferError("Mod on floats needs fmod=1")
    if b.lo <= 0 <= b.hi:
        raise InferError("Mod by a range that holds 0")
    m = max(abs(b.lo), abs(b.hi))
    shape = _bshape(n, a, b)
    if fmod:
        lo, hi = (-m if a.lo < 0 else 0), (m if a.hi > 0 else 0)
    else:
        lo, hi = (-m if b.lo < 0 else 0), (m if b.hi > 0 else 0)
    return [Val(None, a.dtype, shape, lo, hi)]


@infer_op("BitShift", "exact")
def _bitshift(n):
    n.need(2, 2)
    a, b = n.ins
    bits = np.dtype(a.dtype).itemsize * 8
    if b.lo < 0 or b.hi >= bits:
        raise InferError("BitShift amount out of range")
    shape = _bshape(n, a, b)
    if n.a("direction") == "RIGHT":
        lo, hi = 0, a.hi
    else:
        lo, hi = 0, int_range(a.dtype)[1]
    return [Val(None, a.dtype, shape, lo, hi)]


def _variadic(op):
    def f(n):
        n.need(1)
        d = n.ins[0].dtype
        if any(v.dtype != d for v in n.ins):
            raise InferError(f"{op}: dtypes differ")
        if n.opset < 8 and len({v.shape for v in n.ins}) > 1:
            raise InferError(f"{op}: no broadcasting before opset 8")
        shape = broadcast(*[v.shape for v in n.ins])
        grid = None
        if op == "Sum":
            lo, hi = sum(v.lo for v in n.ins), sum(v.hi for v in n.ins)
            if all(v.grid for v in n.ins):
                grid = (max(v.grid[0] for v in n.ins), sum(v.grid[1] for v in n.ins))
        elif op == "Mean":
            lo, hi = min(v.lo for v in n.ins), max(v.hi for v in n.ins)
        elif op == "Max":
            lo, hi = max(v.lo for v in n.ins), max(v.hi for v in n.ins)
            if all(v.grid for v in n.ins):
                grid = (max(v.grid[0] for v in n.ins), max(v.grid[1] for v in n.ins))
        else:
            lo, hi = min(v.lo for v in n.ins), min(v.hi for v in n.ins)
            if all(v.grid for v in n.ins):
                grid = (max(v.grid[0] for v in n.ins), max(v.grid[1] for v in n.ins))
        exact = all(v.exact for v in n.ins)
        if op == "Sum" and len(n.ins) > 2 and d in FLOATS:
            exact = exact and grid_ok(grid, d) is not None  # summation order
        if op == "Mean" and len(n.ins) > 1:
            exact = False
        return [Val(None, d, shape, *clamp_bounds(lo, hi), exact, grid_ok(grid, d))]
    INFER[op] = f
    KIND[op] = "exact"


for _op in ("Sum", "Mean", "Max", "Min"):
    _variadic(_op)
KIND["Mean"] = "inexact"


@infer_op("PRelu", "inexact")
def _prelu(n):
    n.need(2, 2)
    x, s = n.ins
    if x.dtype != s.dtype:
        raise InferError("PRelu: dtypes differ")
    if not unidirectional(x.shape, s.shape):
        raise InferError(f"PRelu slope {s.shape} does not broadcast to {x.shape}")
    c = [x.lo * s.lo, x.lo * s.hi, x.hi, max(x.lo, 0), 0.0]
    return [like(x, min(c), max(c) if x.hi > 0 else max(x.hi * s.lo, x.hi * s.hi, 0))]


def _cmp(op):
    def f(n):
        n.need(2, 2)
        a, b = n.ins
        if a.dtype != b.dtype:
            raise InferError(f"{op}: dtypes differ")
        return [Val(None, "bool", _bshape(n, a, b), 0, 1, True)]
    INFER[op] = f
    KIND[op] = "discont"


for _op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"):
    _cmp(_op)


def _logic(op):
    def f(n):
        n.need(2, 2)
        a, b = n.ins
        return [Val(None, "bool", _bshape(n, a, b), 0, 1, a.exact and b.exact)]
    INFER[op] = f
    KIND[op] = "exact"


for _op in ("And", "Or", "Xor"):
    _logic(_op)


@infer_op("Where", "discont")
def _where(n):
    n.need(3, 3)
    c, x, y = n.ins
    if c.dtype != "bool" or x.dtype != y.dtype:
        raise InferError("Where: types")
    shape = broadcast(c.shape, x.shape, y.shape)
    grid = None
    if x.grid and y.grid:
        grid = (max(x.grid[0], y.grid[0]), max(x.grid[1], y.grid[1]))
    return [Val(None, x.dtype, shape, min(x.lo, y.lo), max(x.hi, y.hi), x.exact and y.exact,
                grid_ok(grid, x.dtype))]


# ---- linear algebra ----------------------------------------------------------

def _dot_bounds(a, b, k):
    m = max(abs(a.lo), abs(a.hi)) * max(abs(b.lo), abs(b.hi)) * k
    if a.lo >= 0 and b.lo >= 0:
        return 0.0, m
    return -m, m


def _dot_grid(a, b, k, dtype):
    if a.grid and b.grid:
        return grid_ok((a.grid[0] + b.grid[0], a.grid[1] * b.grid[1] * k), dtype)
    return None


def _w_bounds(x, w, axis_out, reduce_axes_size):
    """bounds of sum_k x_k w_jk: with w's contents, per output row."""
    if w.data is not None and w.data.size:
        wd = np.abs(w.data.astype(np.float64))
        wd = np.moveaxis(wd, axis_out, 0).reshape(wd.shape[axis_out], -1)
        m = float(wd.sum(axis=1).max()) * max(abs(x.lo), abs(x.hi))
        if x.lo >= 0 and w.lo >= 0:
            return 0.0, m
        return -m, m
    return _dot_bounds(x, w, reduce_axes_size)


@infer_op("MatMul", "exact")
def _matmul(n):
    n.need(2, 2)
    a, b = n.ins
    if a.dtype != b.dtype:
        raise InferError("MatMul: dtypes differ")
    sa, sb = list(a.shape), list(b.shape)
    if not sa or not sb:
        raise InferError("MatMul of a scalar")
    va, vb = len(sa) == 1, len(sb) == 1
    if va:
        sa = [1] + sa
    if vb:
        sb = sb + [1]
    if sa[-1] != sb[-2]:
        raise InferError(f"MatMul: {a.shape} x {b.shape}")
    batch = broadcast(tuple(sa[:-2]), tuple(sb[:-2]))
    out = list(batch) + [sa[-2], sb[-1]]
    if va:
        out.pop(-2)
    if vb:
        out.pop(-1)
    k = sa[-1]
    lo, hi = _w_bounds(a, b, len(b.shape) - 1, k) if len(b.shape) == 2 else _dot_bounds(a, b, k)
    grid = _dot_grid(a, b, k, a.dtype)
    # one product (k == 1) is one rounding, except inside a QDQ group, which
    # the qdq pass computes as integers times x_scale * w_scale (another
    # rounding: DESIGN.md, Precision)
    one = k == 1 and "DequantizeLinear" not in (a.op, b.op)
    exact = a.exact and b.exact and (grid is not None or a.dtype not in FLOATS or one)
    if a.dtype not in FLOATS:
        _int_check(a.dtype, lo, hi)
    return [Val(None, a.dtype, out, lo, hi, exact, grid)]


@infer_op("Gemm", "exact")
def _gemm(n):
    n.need(2, 3)
    a, b = n.ins[0], n.ins[1]
    c = n.inp(2)
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise InferError("Gemm needs 2-D A and B")
    m, k = a.shape[::-1] if n.a("transA", 0) else a.shape
    k2, nn = b.shape[::-1] if n.a("transB", 0) else b.shape
    if k != k2:
        raise InferError(f"Gemm: K {k} vs {k2}")
    alpha, beta = n.a("alpha", 1.0), n.a("beta", 1.0)
    if c is not None and not unidirectional((m, nn), c.shape):
        raise InferError(f"Gemm: C {c.shape} does not broadcast to {(m, nn)}")
    if b.data is not None:
        lo, hi = _w_bounds(a, b, 0 if n.a("transB", 0) else 1, k)
    else:
        lo, hi = _dot_bounds(a, b, k)
    lo, hi = sorted((lo * alpha, hi * alpha))
    if c is not None:
        clo, chi = sorted((c.lo * beta, c.hi * beta))
        lo, hi = lo + clo, hi + chi
    grid = _dot_grid(a, b, k, a.dtype)
    scal = alpha == 1.0 and (c is None or beta == 1.0)
    if grid and c is not None:
        grid = grid_ok((max(grid[0], c.grid[0]), grid[1] + c.grid[1]), a.dtype) if c.grid else None
    exact = (a.exact and b.exact and (c is None or c.exact) and scal and
             (grid is not None or a.dtype not in FLOATS))
    if a.dtype not in FLOATS:
        _int_check(a.dtype, lo, hi)
    return [Val(None, a.dtype, (m, nn), lo, hi, exact, grid if scal else None)]


# ---- reductions ----------------------------------------------------------------

def _reduce_axes(n, x):
    if n.op == "ReduceSum" and n.opset >= 13:
        axes = n.data(1, "axes") if n.inp(1) is not None else None
        axes = None if axes is None else [int(v) for v in axes.reshape(-1)]
        if axes is not None and not axes:
            axes = None
        if axes is None and n.a("noop_with_empty_axes", 0):
            return []
    else:
        axes = n.a("axes")
    if axes is None:
        return list(range(x.rank))
    out = sorted({norm_axis(a, x.rank) for a in axes})
    if len(out) != len(axes):
        raise InferError("repeated reduce axes")
    return out


def _reduce(op):
    def f(n):
        x = n.ins[0]
        axes = _reduce_axes(n, x)
        keep = n.a("keepdims", 1)
        shape = [1 if i in axes else d for i, d in enumerate(x.shape)] if keep else \
            [d for i, d in enumerate(x.shape) if i not in axes]
        cnt = numel([x.shape[i] for i in axes])
        if cnt == 0 and op in ("ReduceMax", "ReduceMin", "ReduceLogSum", "ReduceMean",
                               "ReduceLogSumExp", "ArgMax", "ArgMin"):
            raise InferError(f"{op} over an empty axis")
        m = max(abs(x.lo), abs(x.hi))
        grid = None
        exact = False
        if op in ("ReduceMax", "ReduceMin"):
            lo, hi = x.lo, x.hi
            grid, exact = x.grid, x.exact
        elif op == "ReduceSum":
            lo, hi = x.lo * cnt if x.lo < 0 else x.lo, x.hi * cnt if x.hi > 0 else x.hi
            if cnt == 0:
                lo = hi = 0.0
            if x.grid:
                grid = grid_ok((x.grid[0], x.grid[1] * max(cnt, 1)), x.dtype)
            exact = x.exact and (grid is not None or x.dtype not in FLOATS or cnt <= 2)
        elif op == "ReduceSumSquare":
            lo, hi = 0.0, m * m * cnt
            if x.grid:
                grid = grid_ok((2 * x.grid[0], x.grid[1] ** 2 * max(cnt, 1)), x.dtype)
            exact = x.exact and (grid is not None or x.dtype not in FLOATS)
        elif op == "ReduceMean":
            lo, hi = x.lo, x.hi
        elif op == "ReduceProd":
            hi = m ** cnt if m > 1 else 1.0
            lo = -hi if x.lo < 0 else (x.lo ** cnt if x.lo > 0 and x.lo < 1 else 0.0)
            if x.lo >= 1:
                lo = x.lo ** cnt
            if x.grid:
                grid = grid_ok((x.grid[0] * cnt, max(x.grid[1], 1.0) ** cnt), x.dtype)
            exact = x.exact and (grid is not None or x.dtype not in FLOATS)
        elif op == "ReduceL1":
            lo, hi = 0.0, m * cnt
        elif op == "ReduceL2":
            lo, hi = 0.0, m * math.sqrt(max(cnt, 1))
        elif op == "ReduceLogSum":
            if x.lo <= 0:
                lo = -INF
            else:
                lo = math.log(x.lo * cnt)
            hi = math.log(x.hi * cnt) if x.hi > 0 else -INF
        elif op == "ReduceLogSumExp":
            lo, hi = x.lo, x.hi + math.log(max(cnt, 1))
        else:
            raise AssertionError(op)
        if x.dtype not in FLOATS:
            _int_check(x.dtype, lo, hi)
            exact = x.exact and op in ("ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd",
                                       "ReduceSumSquare", "ReduceL1")
        return [Val(None, x.dtype, shape, *clamp_bounds(lo, hi), exact, grid)]
    INFER[op] = f
    KIND[op] = "exact" if op in ("ReduceMax", "ReduceMin", "ReduceSum", "ReduceSumSquare",
                                 "ReduceProd") else "inexact"


for _op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
            "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
    _reduce(_op)


def _arg(op):
    def f(n):
        x = n.ins[0]
        ax = norm_axis(n.a("axis", 0), x.rank)
        if x.shape[ax] == 0:
            raise InferError("ArgMax over an empty axis")
        keep = n.a("keepdims", 1)
        shape = [1 if i == ax else d for i, d in enumerate(x.shape)] if keep else \
            [d for i, d in enumerate(x.shape) if i != ax]
        return [Val(None, "int64", shape, 0, x.shape[ax] - 1, True)]
    INFER[op] = f
    KIND[op] = "discont"


_arg("ArgMax")
_arg("ArgMin")


# ---- softmax family, normalisation ----------------------------------------

def _softmax(op):
    def f(n):
        x = n.ins[0]
        default = -1 if n.opset >= 13 else 1
        norm_axis(n.a("axis", default), x.rank)
        if op == "Softmax":
            return [like(x, 0.0, 1.0, exact=False)]
        if op == "Hardmax":
            return [like(x, 0.0, 1.0, exact=True, grid=grid_ok((0, 1.0), x.dtype))]
        return [like(x, -INF, 0.0, exact=False)]
    INFER[op] = f
    KIND[op] = "discont" if op == "Hardmax" else "inexact"


for _op in ("Softmax", "LogSoftmax", "Hardmax"):
    _softmax(_op)


@infer_op("BatchNormalization")
def _bn(n):
    n.need(5, 5)
    x, s, b, mean, var = n.ins
    if x.rank < 2:
        raise InferError("BatchNormalization needs rank >= 2")
    c = x.shape[1]
    for v in (s, b, mean, var):
        if v.shape != (c,):
            raise InferError(f"BatchNormalization: parameter shape {v.shape}, channels {c}")
    if n.opset < 15 and any(v.dtype != x.dtype for v in (s, b, mean, var)):
        raise InferError("BatchNormalization: parameter dtypes")
    if var.lo < 0:
        raise InferError("negative variance")
    eps = n.a("epsilon", 1e-5)
    sd = math.sqrt(max(var.lo, 0) + eps)
    m = (max(abs(x.lo), abs(x.hi)) + max(abs(mean.lo), abs(mean.hi))) / sd * \
        max(abs(s.lo), abs(s.hi)) + max(abs(b.lo), abs(b.hi))
    outs = [like(x, -m, m, exact=False)]
    return outs + [None] * (n.n_out - 1)


@infer_op("InstanceNormalization")
def _in(n):
    n.need(3, 3)
    x, s, b = n.ins
    if x.rank < 3:
        raise InferError("InstanceNormalization needs rank >= 3")
    c = x.shape[1]
    if s.shape != (c,) or b.shape != (c,):
        raise InferError("InstanceNormalization: parameter shapes")
    sp = numel(x.shape[2:])
    m = math.sqrt(max(sp, 1)) * max(abs(s.lo), abs(s.hi)) + max(abs(b.lo), abs(b.hi))
    return [like(x, -m, m, exact=False)]


@infer_op("LayerNormalization")
def _ln(n):
    n.need(2, 3)
    x, s = n.ins[0], n.ins[1]
    b = n.inp(2)
    ax = norm_axis(n.a("axis", -1), x.rank)
    norm_shape = x.shape[ax:]
    for v in (s, b):
        if v is not None and not unidirectional(norm_shape, v.shape):
            raise InferError(f"LayerNormalization: scale/bias {v.shape} vs {norm_shape}")
    sp = numel(norm_shape)
    m = math.sqrt(max(sp, 1)) * max(abs(s.lo), abs(s.hi)) + (
        max(abs(b.lo), abs(b.hi)) if b is not None else 0)
    outs = [like(x, -m, m, exact=False)]
    red = [1 if i >= ax else d for i, d in enumerate(x.shape)]
    stash = "float32"
    if n.n_out > 1:
        outs.append(Val(None, stash, red))
    if n.n_out > 2:
        outs.append(Val(None, stash, red, 0, INF))
    return outs


@infer_op("LRN")
def _lrn(n):
    x = n.ins[0]
    if x.rank < 3:
        raise InferError("LRN needs rank >= 3")
    # y = x / (bias + alpha/size * sum x^2)^beta: at most |x| / bias^beta
    # (a bias below 1 amplifies)
    bias, beta = n.a("bias", 1.0), n.a("beta", 0.75)
    m = max(abs(x.lo), abs(x.hi)) / (bias ** beta if bias > 0 else 1e-30)
    return [like(x, -m, m, exact=False)]


# ---- convolution and pooling -------------------------------------------------

def _spatial(n, x, kernel):
    nsp = x.rank - 2
    strides = n.a("strides", [1] * nsp)
    dil = n.a("dilations", [1] * nsp)
    pads = n.a("pads", [0] * (2 * nsp))
    ap = n.a("auto_pad", "NOTSET")
    if len(kernel) != nsp or len(strides) != nsp or len(dil) != nsp or len(pads) != 2 * nsp:
        raise InferError("window attribute lengths")
    if min(strides) < 1 or min(dil) < 1 or min(kernel) < 1 or min(pads) < 0:
        raise InferError("window attributes must be positive")
    return nsp, strides, dil, pads, ap


@infer_op("Conv")
def _conv(n):
    n.need(2, 3)
    x, w = n.ins[0], n.ins[1]
    b = n.inp(2)
    if x.rank < 3 or w.rank != x.rank:
        raise InferError(f"Conv: X {x.shape}, W {w.shape}")
    g = n.a("group", 1)
    kernel = n.a("kernel_shape", list(w.shape[2:]))
    if list(kernel) != list(w.shape[2:]):
        raise InferError("kernel_shape differs from W")
    nsp, strides, dil, pads, ap = _spatial(n, x, kernel)
    c, m = x.shape[1], w.shape[0]
    if g < 1 or c % g or m % g or w.shape[1] * g != c:
        raise InferError(f"Conv: group {g}, C {c}, W {w.shape}")
    if b is not None and b.shape != (m,):
        raise InferError("Conv bias shape")
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        raise InferError("Conv dtypes")
    out = [x.shape[0], m]
    for i in range(nsp):
        out.append(conv_out(x.shape[2 + i], kernel[i], strides[i], dil[i], pads[i],
                            pads[i + nsp], ap))
    if min(out[2:]) < 1:
        raise InferError("Conv output is empty")
    k = w.shape[1] * numel(kernel)
    lo, hi = _w_bounds(x, w, 0, k)
    if b is not None:
        bm = max(abs(b.lo), abs(b.hi))
        lo, hi = lo - bm, hi + bm
    return [Val(None, x.dtype, out, lo, hi)]


@infer_op("ConvTranspose")
def _convt(n):
    n.need(2, 3)
    x, w = n.ins[0], n.ins[1]
    b = n.inp(2)
    if x.rank < 3 or w.rank != x.rank:
        raise InferError("ConvTranspose ranks")
    g = n.a("group", 1)
    kernel = n.a("kernel_shape", list(w.shape[2:]))
    if list(kernel) != list(w.shape[2:]):
        raise InferError("kernel_shape differs from W")
    nsp, strides, dil, pads, ap = _spatial(n, x, kernel)
    c = x.shape[1]
    if w.shape[0] != c or c % g:
        raise InferError("ConvTranspose: W's first dim must be C")
    m = w.shape[1] * g
    if b is not None and b.shape != (m,):
        raise InferError("ConvTranspose bias shape")
    opad = n.a("output_padding", [0] * nsp)
    oshape = n.a("output_shape")
    out = [x.shape[0], m]
    for i in range(nsp):
        eff = (kernel[i] - 1) * dil[i] + 1
        full = strides[i] * (x.shape[2 + i] - 1) + opad[i] + eff
        if oshape is not None:
            o = oshape[-nsp + i]
            if o > full or o < 1:
                raise InferError("ConvTranspose output_shape too large")
        elif ap in ("SAME_UPPER", "SAME_LOWER"):
            o = x.shape[2 + i] * strides[i]
        else:
            o = full - pads[i] - pads[i + nsp]
        if opad[i] >= max(strides[i], dil[i]) or opad[i] < 0:
            raise InferError("output_padding must be smaller than stride or dilation")
        out.append(o)
    if min(out[2:]) < 1:
        raise InferError("ConvTranspose output is empty")
    k = c // g * numel(kernel)
    lo, hi = _dot_bounds(x, w, k)
    if b is not None:
        bm = max(abs(b.lo), abs(b.hi))
        lo, hi = lo - bm, hi + bm
    return [Val(None, x.dtype, out, lo, hi)]


def _empty_window(x, kernel, strides, dil, pads, ap, out):
    """Whether some window (a dilated one stepping over a short input) holds
    no input element."""
    nsp = x.rank - 2
    for i in range(nsp):
        size = x.shape[2 + i]
        if ap in ("SAME_UPPER", "SAME_LOWER", "VALID"):
            pb = auto_pads(ap, size, kernel[i], strides[i], dil[i])[0]
        else:
            pb = pads[i]
        for o in range(out[2 + i]):
            start = o * strides[i] - pb
            if not any(0 <= start + j * dil[i] < size for j in range(kernel[i])):
                return True
    return False


def _pool(op):
    def f(n):
        x = n.ins[0]
        if x.rank < 3:
            raise InferError(f"{op} needs rank >= 3")
        kernel = n.a("kernel_shape")
        if kernel is None:
            raise InferError("kernel_shape is required")
        nsp, strides, dil, pads, ap = _spatial(n, x, kernel)
        if op == "AveragePool" and "dilations" in n.attrs:
            raise InferError("AveragePool has no dilations before opset 19")
        ceil = n.a("ceil_mode", 0)
        out = list(x.shape[:2])
        for i in range(nsp):
            eff = (kernel[i] - 1) * dil[i] + 1
            if ap == "NOTSET" and (pads[i] >= eff or pads[i + nsp] >= eff):
                raise InferError("pool pads must be smaller than the window")
            out.append(conv_out(x.shape[2 + i], kernel[i], strides[i], dil[i], pads[i],
                                pads[i + nsp], ap, ceil))
        if min(out[2:]) < 1:
            raise InferError("pool output is empty")
        if op == "MaxPool":
            o = like(x, exact=x.exact, grid=x.grid)
            o.shape = tuple(out)
            empty = _empty_window(x, kernel, strides, dil, pads, ap, out)
            if empty:
                # the type's lowest value (-FLT_MAX): out of the pool's range
                o.lo = min(o.lo, -3.4028234663852886e38)
            outs = [o]
            if n.n_out > 1:
                idx = Val(None, "int64", out, -1, numel(x.shape) - 1, True)
                # which index a window with no element gives is not
                # specified (ortc: -1; ONNX Runtime: other values)
                idx.fragile = empty
                outs.append(idx)
            return outs
        o = like(x, exact=False)
        o.shape = tuple(out)
        return [o]
    INFER[op] = f
    KIND[op] = "move" if op == "MaxPool" else "inexact"


_pool("MaxPool")
_pool("AveragePool")
DISCONT_INPUTS["MaxPool"] = ()


def _gpool(op):
    def f(n):
        x = n.ins[0]
        if x.rank < 3:
            raise InferError(f"{op} needs rank >= 3")
        o = like(x, exact=x.exact if op == "GlobalMaxPool" else False,
                 grid=x.grid if op == "GlobalMaxPool" else None)
        o.shape = tuple(x.shape[:2]) + (1,) * (x.rank - 2)
        return [o]
    INFER[op] = f
    KIND[op] = "move" if op == "GlobalMaxPool" else "inexact"


_gpool("GlobalAveragePool")
_gpool("GlobalMaxPool")


# ---- data movement -----------------------------------------------------------

def _moved(x, shape, **kw):
    o = Val(None, kw.get("dtype", x.dtype), shape, x.lo, x.hi, x.exact, x.grid)
    o.distinct = x.distinct and numel(shape) <= x.numel and kw.get("distinct", True)
    return o


def _const_eval(x, f):
    """known contents through a data-movement op (for shape arithmetic)"""
    if x.data is None or x.numel > 4096:
        return None
    try:
        return np.asarray(f(x.data))
    except Exception:  # noqa: BLE001 - contents stay unknown
        return None


@infer_op("Identity", "move")
def _identity(n):
    x = n.ins[0]
    o = _moved(x, x.shape)
    o.data = x.data
    return [o]


@infer_op("Dropout", "move")
def _dropout(n):
    x = n.ins[0]
    if n.opset >= 12:
        n.need(1, 3)
        if n.inp(2) is not None:
            tm = n.data(2, "training_mode")
            if bool(tm.reshape(-1)[0]):
                raise InferError("Dropout in training mode is random")
    outs = [_moved(x, x.shape)]
    if n.n_out > 1:  # the mask: T before opset 10, bool since
        outs.append(Val(None, "bool" if n.opset >= 10 else x.dtype, x.shape, 1, 1, True))
    return outs


@infer_op("Flatten", "move")
def _flatten(n):
    x = n.ins[0]
    ax = n.a("axis", 1)
    if ax < 0:
        ax += x.rank
    if not 0 <= ax <= x.rank:
        raise InferError("Flatten axis")
    o = _moved(x, (numel(x.shape[:ax]), numel(x.shape[ax:])))
    o.data = _const_eval(x, lambda d: d.reshape(o.shape))
    return [o]


@infer_op("Reshape", "move")
def _reshape(n):
    n.need(2, 2)
    x = n.ins[0]
    shp = [int(v) for v in n.data(1, "shape").reshape(-1)]
    allowzero = n.a("allowzero", 0)
    out = []
    neg = -1
    for i, s in enumerate(shp):
        if s == 0 and not allowzero:
            if i >= x.rank:
                raise InferError("Reshape 0 beyond the input's rank")
            out.append(x.shape[i])
        elif s == -1:
            if neg >= 0:
                raise InferError("Reshape: two -1")
            neg = i
            out.append(1)
        elif s < -1:
            raise InferError("Reshape: negative dim")
        else:
            out.append(s)
    if neg >= 0:
        rest = numel(out)
        if rest == 0 or x.numel % rest:
            raise InferError("Reshape -1 does not divide")
        out[neg] = x.numel // rest
    if numel(out) != x.numel:
        raise InferError(f"Reshape {x.shape} -> {out}")
    o = _moved(x, out)
    o.data = _const_eval(x, lambda d: d.reshape(out))
    return [o]


@infer_op("Squeeze", "move")
def _squeeze(n):
    x = n.ins[0]
    axes = n.a("axes") if n.opset < 13 else (
        [int(v) for v in n.data(1, "axes").reshape(-1)] if n.inp(1) is not None else None)
    if axes is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    axes = [norm_axis(a, x.rank) for a in axes]
    if len(set(axes)) != len(axes) or any(x.shape[a] != 1 for a in axes):
        raise InferError("Squeeze of a dim that is not 1")
    out = [d for i, d in enumerate(x.shape) if i not in axes]
    o = _moved(x, out)
    o.data = _const_eval(x, lambda d: d.reshape(out))
    return [o]


@infer_op("Unsqueeze", "move")
def _unsqueeze(n):
    x = n.ins[0]
    axes = n.a("axes") if n.opset < 13 else [int(v) for v in n.data(1, "axes").reshape(-1)]
    if axes is None:
        raise InferError("Unsqueeze needs axes")
    r = x.rank + len(axes)
    axes = [norm_axis(a, r) for a in axes]
    if len(set(axes)) != len(axes):
        raise InferError("Unsqueeze: repeated axes")
    out, it = [], iter(x.shape)
    for i in range(r):
        out.append(1 if i in axes else next(it))
    o = _moved(x, out)
    o.data = _const_eval(x, lambda d: d.reshape(out))
    return [o]


@infer_op("Transpose", "move")
def _transpose(n):
    x = n.ins[0]
    perm = n.a("perm", list(range(x.rank))[::-1])
    if sorted(perm) != list(range(x.rank)):
        raise InferError("Transpose perm")
    return [_moved(x, [x.shape[p] for p in perm])]


@infer_op("Concat", "move")
def _concat(n):
    n.need(1)
    x = n.ins[0]
    if x.rank == 0:
        raise InferError("Concat of scalars")
    ax = norm_axis(n.a("axis"), x.rank)
    tot = 0
    for v in n.ins:
        if v.dtype != x.dtype or v.rank != x.rank:
            raise InferError("Concat: dtypes/ranks differ")
        for i in range(x.rank):
            if i != ax and v.shape[i] != x.shape[i]:
                raise InferError(f"Concat: shapes {x.shape} and {v.shape}")
        tot += v.shape[ax]
    out = list(x.shape)
    out[ax] = tot
    o = Val(None, x.dtype, out, min(v.lo for v in n.ins), max(v.hi for v in n.ins),
            all(v.exact for v in n.ins))
    if all(v.grid for v in n.ins):
        o.grid = (max(v.grid[0] for v in n.ins), max(v.grid[1] for v in n.ins))
    if all(v.data is not None for v in n.ins) and numel(out) <= 4096:
        o.data = np.concatenate([v.data for v in n.ins], axis=ax)
    return [o]


@infer_op("Split", "move")
def _split(n):
    x = n.ins[0]
    ax = norm_axis(n.a("axis", 0), x.rank)
    if n.opset >= 13:
        split = [int(v) for v in n.data(1, "split").reshape(-1)] if n.inp(1) is not None else None
    else:
        split = n.a("split")
    k = n.n_out
    if split is None:
        if x.shape[ax] % k:
            raise InferError("Split: dim not divisible")
        split = [x.shape[ax] // k] * k
    if len(split) != k or sum(split) != x.shape[ax] or min(split) < 0:
        raise InferError(f"Split {split} of {x.shape[ax]}")
    outs = []
    for s in split:
        shp = list(x.shape)
        shp[ax] = s
        outs.append(_moved(x, shp))
    return outs


def slice_ranges(shape, starts, ends, axes, steps):
    """(start, stop, step) per dim, clamped as ONNX Slice does."""
    r = len(shape)
    res = [(0, d, 1) for d in shape]
    seen = set()
    for st, en, ax, sp in zip(starts, ends, axes, steps):
        ax = norm_axis(ax, r)
        if ax in seen:
            raise InferError("Slice: repeated axis")
        seen.add(ax)
        d = shape[ax]
        if sp == 0:
            raise InferError("Slice step 0")
        st = st + d if st < 0 else st
        en = en + d if en < 0 else en
        if sp > 0:
            st = min(max(st, 0), d)
            en = min(max(en, 0), d)
        else:
            st = min(max(st, 0), d - 1)
            en = min(max(en, -1), d - 1)
        res[ax] = (st, en, sp)
    return res


def _slice_len(st, en, sp):
    if sp > 0:
        return max(0, -(-(en - st) // sp))
    return max(0, -(-(st - en) // -sp))


@infer_op("Slice", "move")
def _slice(n):
    x = n.ins[0]
    if n.opset < 10:
        starts, ends = n.a("starts"), n.a("ends")
        axes = n.a("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        n.need(3, 5)
        starts = [int(v) for v in n.data(1, "starts").reshape(-1)]
        ends = [int(v) for v in n.data(2, "ends").reshape(-1)]
        axes = [int(v) for v in n.data(3, "axes").reshape(-1)] if n.inp(3) is not None \
            else list(range(len(starts)))
        steps = [int(v) for v in n.data(4, "steps").reshape(-1)] if n.inp(4) is not None \
            else [1] * len(starts)
    if not (len(starts) == len(ends) == len(axes) == len(steps)):
        raise InferError("Slice: lengths differ")
    rng = slice_ranges(x.shape, starts, ends, axes, steps)
    out = [_slice_len(*t) for t in rng]
    o = _moved(x, out)
    o.data = _const_eval(x, lambda d: d[tuple(slice(s, e if e >= 0 else None, p)
                                              for s, e, p in rng)])
    return [o]


@infer_op("Gather", "move")
def _gather(n):
    n.need(2, 2)
    x, idx = n.ins
    ax = norm_axis(n.a("axis", 0), x.rank)
    d = x.shape[ax]
    if idx.lo < -d or idx.hi >= d or (idx.lo < 0 and n.opset < 11):
        raise InferError(f"Gather indices [{idx.lo}, {idx.hi}] out of range for {d}")
    out = x.shape[:ax] + idx.shape + x.shape[ax + 1:]
    o = Val(None, x.dtype, out, x.lo, x.hi, x.exact and idx.exact, x.grid)
    if x.data is not None and idx.data is not None and numel(out) <= 4096:
        o.data = np.take(x.data, idx.data.astype(np.int64), axis=ax)
    return [o]


@infer_op("GatherElements", "move")
def _gather_el(n):
    n.need(2, 2)
    x, idx = n.ins
    ax = norm_axis(n.a("axis", 0), x.rank)
    if idx.rank != x.rank:
        raise InferError("GatherElements ranks")
    for i in range(x.rank):
        if i != ax and idx.shape[i] > x.shape[i]:
            raise InferError("GatherElements index shape larger than data")
    d = x.shape[ax]
    if idx.lo < -d or idx.hi >= d:
        raise InferError("GatherElements indices out of range")
    return [Val(None, x.dtype, idx.shape, x.lo, x.hi, x.exact and idx.exact, x.grid)]


def unique_along(idx, ax, dim):
    """No two updates target one element: indices (normalised) differ along
    `ax` for every position of the other axes."""
    d = idx.data if idx.data is not None else idx.data_full
    if d is None:
        return False
    d = np.asarray(d, dtype=np.int64) % max(dim, 1)
    d = np.moveaxis(d, ax, -1).reshape(-1, d.shape[ax])
    return all(len(np.unique(row)) == len(row) for row in d)


@infer_op("ScatterElements", "move")
def _scatter_el(n):
    n.need(3, 3)
    x, idx, upd = n.ins
    ax = norm_axis(n.a("axis", 0), x.rank)
    if idx.shape != upd.shape or idx.rank != x.rank or upd.dtype != x.dtype:
        raise InferError("ScatterElements shapes")
    for i in range(x.rank):
        if idx.shape[i] > x.shape[i]:
            raise InferError("ScatterElements updates larger than data")
    d = x.shape[ax]
    if idx.lo < -d or idx.hi >= d:
        raise InferError("ScatterElements indices out of range")
    red = n.a("reduction", "none")
    if red == "none":
        if not unique_along(idx, ax, d):
            raise InferError("ScatterElements with repeated indices (order unspecified)")
        lo, hi = min(x.lo, upd.lo), max(x.hi, upd.hi)
        return [Val(None, x.dtype, x.shape, lo, hi, x.exact and upd.exact and idx.exact)]
    if red == "add":
        m = max(abs(x.lo), abs(x.hi)) + max(abs(upd.lo), abs(upd.hi)) * idx.shape[ax]
    else:
        m = max(abs(x.lo), abs(x.hi)) * max(abs(upd.lo), abs(upd.hi), 1) ** idx.shape[ax]
    return [Val(None, x.dtype, x.shape, -m, m)]


@infer_op("Pad", "move")
def _pad(n):
    x = n.ins[0]
    if n.opset < 11:
        pads = n.a("pads")
        value = n.a("value", 0.0)
    else:
        n.need(2, 3)
        pads = [int(v) for v in n.data(1, "pads").reshape(-1)]
        value = float(n.data(2, "constant_value").reshape(-1)[0]) if n.inp(2) is not None \
            else 0.0
    mode = n.a("mode", "constant")
    r = x.rank
    if len(pads) != 2 * r:
        raise InferError("Pad: pads length")
    out = []
    for i in range(r):
        o = x.shape[i] + pads[i] + pads[i + r]
        if o < 0:
            raise InferError("Pad removes more than the dim")
        if mode == "reflect" and (pads[i] >= x.shape[i] or pads[i + r] >= x.shape[i]) and \
                (pads[i] > 0 or pads[i + r] > 0):
            raise InferError("reflect pad must be smaller than the dim")
        if mode == "edge" and x.shape[i] == 0 and (pads[i] > 0 or pads[i + r] > 0):
            raise InferError("edge pad of an empty dim")
        out.append(o)
    o = _moved(x, out)
    if mode == "constant" and any(p > 0 for p in pads):
        o.lo, o.hi = min(x.lo, value), max(x.hi, value)
        if o.grid:
            from facts import grid_of_data
            g2 = grid_of_data(np.array([value]), x.dtype)
            o.grid = None if g2 is None else (max(g2[0], o.grid[0]), max(g2[1], o.grid[1]))
    o.distinct = False
    return [o]


@infer_op("Expand", "move")
def _expand(n):
    n.need(2, 2)
    x = n.ins[0]
    shp = tuple(int(v) for v in n.data(1, "shape").reshape(-1))
    o = _moved(x, broadcast(x.shape, shp))
    o.distinct = False
    return [o]


@infer_op("Tile", "move")
def _tile(n):
    n.need(2, 2)
    x = n.ins[0]
    rep = [int(v) for v in n.data(1, "repeats").reshape(-1)]
    if len(rep) != x.rank or min(rep, default=0) < 0:
        raise InferError("Tile repeats")
    o = _moved(x, [d * r for d, r in zip(x.shape, rep)])
    o.distinct = False
    return [o]


@infer_op("Trilu", "move")
def _trilu(n):
    x = n.ins[0]
    if x.rank < 2:
        raise InferError("Trilu needs rank >= 2")
    if n.inp(1) is not None:
        n.data(1, "k")
    o = _moved(x, x.shape)
    o.lo, o.hi = min(o.lo, 0), max(o.hi, 0)
    o.distinct = False
    return [o]


@infer_op("DepthToSpace", "move")
def _d2s(n):
    x = n.ins[0]
    b = n.a("blocksize")
    if x.rank != 4 or not b or x.shape[1] % (b * b):
        raise InferError("DepthToSpace shape")
    nn, c, h, w = x.shape
    return [_moved(x, (nn, c // (b * b), h * b, w * b))]


@infer_op("SpaceToDepth", "move")
def _s2d(n):
    x = n.ins[0]
    b = n.a("blocksize")
    if x.rank != 4 or not b or x.shape[2] % b or x.shape[3] % b:
        raise InferError("SpaceToDepth shape")
    nn, c, h, w = x.shape
    return [_moved(x, (nn, c * b * b, h // b, w // b))]


# ---- shape and constants -----------------------------------------------------

@infer_op("Shape", "move")
def _shape(n):
    x = n.ins[0]
    r = x.rank
    st, en = n.a("start", 0), n.a("end", r)
    st = min(max(st + r if st < 0 else st, 0), r)
    en = min(max(en + r if en < 0 else en, 0), r)
    dims = np.array(x.shape[st:en], dtype=np.int64)
    o = Val(None, "int64", (len(dims),), float(dims.min()) if dims.size else 0,
            float(dims.max()) if dims.size else 0, True, data=dims)
    return [o]


@infer_op("Size", "move")
def _size(n):
    x = n.ins[0]
    return [Val(None, "int64", (), x.numel, x.numel, True, data=np.array(x.numel, np.int64))]


@infer_op("Constant", "move")
def _constant(n):
    if "value" in n.attrs:
        d = np.asarray(n.attrs["value"])
    elif "value_float" in n.attrs:
        d = np.array(n.attrs["value_float"], np.float32)
    elif "value_floats" in n.attrs:
        d = np.array(n.attrs["value_floats"], np.float32)
    elif "value_int" in n.attrs:
        d = np.array(n.attrs["value_int"], np.int64)
    elif "value_ints" in n.attrs:
        d = np.array(n.attrs["value_ints"], np.int64)
    else:
        raise InferError("Constant without a value")
    dt = str(d.dtype)
    return [data_val(d, dt)]


def data_val(d, dt):
    from facts import grid_of_data
    lo, hi = bounds_of_data(d)
    o = Val(None, dt, d.shape, lo, hi, True, grid_of_data(d, dt), data=d)
    o.distinct = d.size == len(np.unique(d))
    return o


@infer_op("ConstantOfShape", "move")
def _cos(n):
    shp = [int(v) for v in n.data(0, "shape").reshape(-1)]
    if min(shp, default=0) < 0:
        raise InferError("ConstantOfShape negative dim")
    v = n.a("value")
    v = np.zeros(1, np.float32) if v is None else np.asarray(v).reshape(-1)
    dt = str(v.dtype)
    val = float(v[0])
    o = Val(None, dt, shp, val, val, True)
    from facts import grid_of_data
    o.grid = grid_of_data(v, dt)
    if numel(shp) <= 4096:
        o.data = np.full(shp, v[0], dtype=v.dtype)
    return [o]


@infer_op("Range", "exact")
def _range(n):
    n.need(3, 3)
    s, l, d = [n.data(i, "range argument").reshape(-1)[0] for i in range(3)]
    for v in n.ins:
        if v.shape != () or v.dtype != n.ins[0].dtype:
            raise InferError("Range arguments must be scalars of one type")
    if d == 0:
        raise InferError("Range delta 0")
    cnt = max(int(math.ceil((float(l) - float(s)) / float(d))), 0)
    dt = n.ins[0].dtype
    data = (np.asarray(s) + np.arange(cnt).astype(dt) * np.asarray(d)).astype(dt) \
        if dt not in FLOATS else None
    lo = min(float(s), float(s) + (cnt - 1) * float(d)) if cnt else 0
    hi = max(float(s), float(s) + (cnt - 1) * float(d)) if cnt else 0
    o = Val(None, dt, (cnt,), lo, hi, dt not in FLOATS, data=data)
    return [o]


@infer_op("Cast", "discont")
def _cast(n):
    from facts import DTYPE_OF
    x = n.ins[0]
    to = DTYPE_OF.get(n.a("to"))
    if to is None:
        raise InferError(f"Cast to {n.a('to')}")
    return [_cast_val(x, to)]


def _cast_val(x, to):
    lo, hi = x.lo, x.hi
    if to == "bool":
        lo, hi = 0, 1
    elif to not in FLOATS:
        if x.dtype in FLOATS:
            lo, hi = math.trunc(lo) if math.isfinite(lo) else lo, \
                math.trunc(hi) if math.isfinite(hi) else hi
        tlo, thi = int_range(to)
        if lo < tlo or hi > thi:
            raise InferError(f"Cast {x.dtype} [{x.lo}, {x.hi}] to {to} overflows")
    elif to == "float16" and max(abs(lo), abs(hi)) > 60000:
        raise InferError("Cast to float16 overflows")
    grid = None
    if to in FLOATS:
        if x.dtype in FLOATS:
            grid = grid_ok(x.grid, to) if x.grid else None
        else:
            grid = grid_ok((0, max(abs(lo), abs(hi), 1)), to)
    # float narrowing is correctly rounded and integer truncation exact:
    # an exact input stays exact
    o = Val(None, to, x.shape, lo, hi, x.exact, grid)
    if x.data is not None and x.numel <= 4096:
        o.data = x.data.astype(to)
    return o


@infer_op("CastLike", "discont")
def _castlike(n):
    n.need(2, 2)
    return [_cast_val(n.ins[0], n.ins[1].dtype)]


DISCONT_INPUTS["CastLike"] = (0,)


# ---- resize ------------------------------------------------------------------

@infer_op("Upsample", "inexact")
def _upsample(n):
    x = n.ins[0]
    scales = [float(v) for v in n.data(1, "scales").reshape(-1)]
    if len(scales) != x.rank or min(scales) < 1:
        raise InferError("Upsample scales")
    out = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
    mode = n.a("mode", "nearest")
    o = _moved(x, out)
    if mode != "nearest":
        o.exact, o.grid = False, None
    o.distinct = False
    return [o]


@infer_op("Resize", "inexact")
def _resize(n):
    x = n.ins[0]
    mode = n.a("mode", "nearest")
    if n.opset < 11:
        scales = [float(v) for v in n.data(1, "scales").reshape(-1)]
        sizes = None
    else:
        scales = n.inp(2)
        scales = [float(v) for v in n.data(2, "scales").reshape(-1)] \
            if scales is not None and scales.numel > 0 else None
        sizes = [int(v) for v in n.data(3, "sizes").reshape(-1)] if n.inp(3) is not None else None
        if (scales is None) == (sizes is None):
            raise InferError("Resize needs exactly one of scales and sizes")
    if scales is not None:
        if len(scales) != x.rank or min(scales) <= 0:
            raise InferError("Resize scales")
        out = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
    else:
        if len(sizes) != x.rank:
            raise InferError("Resize sizes")
        out = sizes
    if min(out) < 1:
        raise InferError("Resize output empty")
    if mode in ("linear", "cubic"):
        if x.dtype not in FLOATS:
            raise InferError("linear/cubic resize of integers")
    o = _moved(x, out)
    if mode != "nearest":
        o.exact, o.grid = False, None
        if mode == "cubic":
            m = max(abs(x.lo), abs(x.hi)) * 1.5
            o.lo, o.hi = -m, m
        if n.a("coordinate_transformation_mode") == "tf_crop_and_resize":
            ev = n.a("extrapolation_value", 0.0)
            o.lo, o.hi = min(o.lo, ev), max(o.hi, ev)
    elif n.a("coordinate_transformation_mode") == "tf_crop_and_resize":
        ev = n.a("extrapolation_value", 0.0)
        o.lo, o.hi = min(o.lo, ev), max(o.hi, ev)
    o.distinct = False
    return [o]


# Resize/Upsample in nearest mode only select elements (exact), but the
# coordinate arithmetic may differ in the last bit at a tie. The generator
# keeps scales whose ties the spec's nearest_mode resolves.
KIND["Resize"] = "move"
KIND["Upsample"] = "move"


# ---- operators added with the coverage merges (issue 13) --------------------

def _idx_range(idx):
    """(lo, hi) of an index value: its contents when known, else its bounds."""
    d = idx.data if idx.data is not None else idx.data_full
    if d is not None and np.asarray(d).size:
        d = np.asarray(d, dtype=np.int64)
        return int(d.min()), int(d.max())
    return idx.lo, idx.hi


@infer_op("CumSum", "exact")
def _cumsum(n):
    n.need(2, 2)
    x, ax_v = n.ins
    ax = n.data(1, "axis")
    if ax.size != 1 or ax_v.rank > 1:
        raise InferError("CumSum: axis must be a scalar")
    a = norm_axis(int(ax.reshape(-1)[0]), x.rank)
    d = x.shape[a]
    m = max(abs(x.lo), abs(x.hi)) * max(d, 1)
    lo = 0.0 if x.lo >= 0 else -m
    hi = 0.0 if x.hi <= 0 else m
    if x.dtype not in FLOATS:
        _int_check(x.dtype, lo, hi)
    grid = grid_ok((x.grid[0], x.grid[1] * max(d, 1)), x.dtype) if x.grid else None
    # a running sum is exact when every partial sum is (small dyadic values)
    exact = x.exact and (x.dtype not in FLOATS or grid is not None or d <= 1)
    return [Val(None, x.dtype, x.shape, lo, hi, exact, grid)]


@infer_op("Det")
def _det(n):
    n.need(1, 1)
    x = n.ins[0]
    if x.rank < 2 or x.shape[-1] != x.shape[-2]:
        raise InferError(f"Det of {x.shape}")
    k = x.shape[-1]
    # Hadamard: |det| <= prod of row norms <= (sqrt(k) * max|x|)^k
    m = (math.sqrt(k) * x.mag) ** k
    return [Val(None, x.dtype, x.shape[:-2], -m, m)]


@infer_op("EyeLike", "move")
def _eyelike(n):
    n.need(1, 1)
    x = n.ins[0]
    if x.rank != 2:
        raise InferError("EyeLike needs rank 2")
    dt = DTYPE_OF[n.a("dtype")] if n.a("dtype") is not None else x.dtype
    o = Val(None, dt, x.shape, 0, 1, True, grid_ok((0, 1.0), dt))
    return [o]


@infer_op("GatherND", "move")
def _gather_nd(n):
    n.need(2, 2)
    x, idx = n.ins
    bd = n.a("batch_dims", 0)
    k = idx.shape[-1] if idx.rank else 0
    if idx.rank < 1 or x.rank < 1 or k < 1 or bd + k > x.rank or bd >= min(x.rank, idx.rank):
        raise InferError("GatherND ranks")
    if x.shape[:bd] != idx.shape[:bd]:
        raise InferError("GatherND batch dims differ")
    lo, hi = _idx_range(idx)
    m = min(x.shape[bd:bd + k])
    if lo < -m or hi >= m:
        d = idx.data if idx.data is not None else idx.data_full
        if d is None:
            raise InferError("GatherND indices unknown")
        dims = np.array(x.shape[bd:bd + k], dtype=np.int64)
        d = np.asarray(d, dtype=np.int64).reshape(-1, k)
        if np.any(d < -dims) or np.any(d >= dims):
            raise InferError("GatherND indices out of range")
    out = idx.shape[:-1] + x.shape[bd + k:]
    return [Val(None, x.dtype, out, x.lo, x.hi, x.exact and idx.exact, x.grid)]


def _nd_rows(idx, dims):
    d = idx.data if idx.data is not None else idx.data_full
    if d is None:
        return None
    k = len(dims)
    d = np.asarray(d, dtype=np.int64).reshape(-1, k)
    return d % np.maximum(np.array(dims, dtype=np.int64), 1)


@infer_op("ScatterND", "move")
def _scatter_nd(n):
    n.need(3, 3)
    x, idx, upd = n.ins
    k = idx.shape[-1] if idx.rank else 0
    if idx.rank < 1 or k < 1 or k > x.rank or upd.dtype != x.dtype:
        raise InferError("ScatterND ranks")
    if upd.shape != idx.shape[:-1] + x.shape[k:]:
        raise InferError(f"ScatterND updates {upd.shape}")
    dims = x.shape[:k]
    d = idx.data if idx.data is not None else idx.data_full
    if d is None:
        raise InferError("ScatterND indices unknown")
    raw = np.asarray(d, dtype=np.int64).reshape(-1, k)
    if np.any(raw < -np.array(dims)) or np.any(raw >= np.array(dims)):
        raise InferError("ScatterND indices out of range")
    rows = _nd_rows(idx, dims)
    red = n.a("reduction", "none")
    if red == "none":
        # the spec leaves the order of duplicate updates open
        if len({tuple(r) for r in rows.tolist()}) != len(rows):
            raise InferError("ScatterND with duplicate indices")
        return [Val(None, x.dtype, x.shape, min(x.lo, upd.lo), max(x.hi, upd.hi),
                    x.exact and upd.exact and idx.exact)]
    dup = max([sum(1 for r in rows.tolist() if r == q) for q in rows.tolist()], default=1)
    if red == "add":
        m = x.mag + upd.mag * dup
    else:
        m = x.mag * max(upd.mag, 1) ** dup
    if x.dtype not in FLOATS:
        _int_check(x.dtype, -m, m)
    exact = x.dtype not in FLOATS and x.exact and upd.exact
    return [Val(None, x.dtype, x.shape, -m, m, exact)]


@infer_op("Scatter", "move")
def _scatter(n):
    return _scatter_el(n)


@infer_op("OneHot", "move")
def _onehot(n):
    n.need(3, 3)
    idx, depth_v, vals = n.ins
    depth = n.data(1, "depth")
    values = n.data(2, "values")
    if depth.size != 1 or values.size != 2 or vals.rank != 1:
        raise InferError("OneHot depth/values")
    dep = int(np.asarray(depth).reshape(-1)[0])
    if dep < 1:
        raise InferError("OneHot depth < 1")
    r = idx.rank + 1
    ax = norm_axis(n.a("axis", -1), r)
    out = idx.shape[:ax] + (dep,) + idx.shape[ax:]
    o = Val(None, vals.dtype, out, float(np.min(values)) if vals.dtype != "bool" else 0,
            float(np.max(values)) if vals.dtype != "bool" else 1, vals.exact and idx.exact,
            vals.grid)
    return [o]


@infer_op("ReverseSequence", "move")
def _revseq(n):
    n.need(2, 2)
    x, lens = n.ins
    ba, ta = n.a("batch_axis", 1), n.a("time_axis", 0)
    if x.rank < 2 or {ba, ta} != {0, 1}:
        raise InferError("ReverseSequence axes")
    if lens.shape != (x.shape[ba],):
        raise InferError("ReverseSequence sequence_lens shape")
    lo, hi = _idx_range(lens)
    if lo < 0 or hi > x.shape[ta]:
        raise InferError("ReverseSequence lengths out of range")
    return [Val(None, x.dtype, x.shape, x.lo, x.hi, x.exact and lens.exact, x.grid)]


@infer_op("TopK", "move")
def _topk(n):
    x = n.ins[0]
    if n.opset >= 10:
        n.need(2, 2)
        k = int(n.data(1, "K").reshape(-1)[0])
    else:
        k = n.a("k")
    ax = norm_axis(n.a("axis", -1), x.rank)
    if k < 0 or k > x.shape[ax]:
        raise InferError(f"TopK k={k} for {x.shape}")
    shape = x.shape[:ax] + (k,) + x.shape[ax + 1:]
    vals = Val(None, x.dtype, shape, x.lo, x.hi, x.exact, x.grid)
    idx = Val(None, "int64", shape, 0, max(x.shape[ax] - 1, 0), True)
    return [vals, idx]


@infer_op("MaxUnpool", "move")
def _maxunpool(n):
    n.need(2, 3)
    x, idx = n.ins[0], n.ins[1]
    nsp = x.rank - 2
    ks = n.a("kernel_shape")
    st = n.a("strides", [1] * nsp)
    pads = n.a("pads", [0] * (2 * nsp))
    if idx.shape != x.shape or ks is None or len(ks) != nsp:
        raise InferError("MaxUnpool shapes")
    unpooled = x.shape[:2] + tuple((x.shape[2 + i] - 1) * st[i] + ks[i] - pads[i] -
                                   pads[i + nsp] for i in range(nsp))
    out = unpooled
    if n.inp(2) is not None:
        out = tuple(int(v) for v in n.data(2, "output_shape").reshape(-1))
        if len(out) != x.rank or any(o < u for o, u in zip(out, unpooled)):
            raise InferError("MaxUnpool output_shape smaller than the unpooled shape")
    d = idx.data if idx.data is not None else idx.data_full
    if d is None:
        raise InferError("MaxUnpool indices unknown")
    d = np.asarray(d, dtype=np.int64).reshape(-1)
    # flat indices into the unpooled shape (see ops.g_maxunpool)
    if d.size and (d.min() < 0 or d.max() >= numel(unpooled) or len(np.unique(d)) != d.size):
        raise InferError("MaxUnpool indices out of range or repeated")
    lo, hi = min(x.lo, 0.0), max(x.hi, 0.0)
    return [Val(None, x.dtype, out, lo, hi, x.exact and idx.exact, x.grid)]


@infer_op("GridSample", "discont")
def _grid_sample(n):
    n.need(2, 2)
    x, g = n.ins
    if x.rank != 4 or g.rank != 4 or g.shape[-1] != 2 or g.shape[0] != x.shape[0]:
        raise InferError("GridSample shapes")
    mode = n.a("mode", "bilinear")
    out = (x.shape[0], x.shape[1], g.shape[1], g.shape[2])
    if mode == "bicubic":  # cubic weights overshoot: |w| sums to at most 1.6 per axis
        lo, hi = -x.mag * 2.6, x.mag * 2.6
    else:
        lo, hi = min(x.lo, 0.0), max(x.hi, 0.0)
    return [Val(None, x.dtype, out, lo, hi, mode == "nearest" and x.exact, x.grid
                if mode == "nearest" else None)]


DISCONT_INPUTS["GridSample"] = (1,)


@infer_op("MeanVarianceNormalization")
def _mvn(n):
    n.need(1, 1)
    x = n.ins[0]
    axes = n.a("axes", [0, 2, 3])
    ax = sorted({norm_axis(a, x.rank) for a in axes})
    cnt = numel([x.shape[a] for a in ax])
    m = math.sqrt(max(cnt - 1, 1))
    return [like(x, -m, m, exact=False)]


def einsum_parse(eq):
    """(operand subscripts, output subscripts) of an explicit or implicit
    equation without ellipsis."""
    eq = eq.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    ins = lhs.split(",")
    if "->" not in eq:
        cnt = {}
        for s in ins:
            for c in s:
                cnt[c] = cnt.get(c, 0) + 1
        rhs = "".join(sorted(c for c, k in cnt.items() if k == 1))
    return ins, rhs


@infer_op("Einsum", "exact")
def _einsum(n):
    eq = n.a("equation")
    ins, rhs = einsum_parse(eq)
    if len(ins) != len(n.ins) or "." in eq:
        raise InferError("Einsum operands")
    dims = {}
    dt = n.ins[0].dtype
    for s, v in zip(ins, n.ins):
        if len(s) != v.rank or v.dtype != dt:
            raise InferError(f"Einsum {s} for {v.shape}")
        for c, d in zip(s, v.shape):
            if dims.setdefault(c, d) != d:
                raise InferError(f"Einsum dim {c}")
    if any(c not in dims for c in rhs) or len(set(rhs)) != len(rhs):
        raise InferError("Einsum output")
    out = tuple(dims[c] for c in rhs)
    summed = numel([dims[c] for c in dims if c not in rhs])
    m = float(np.prod([v.mag for v in n.ins])) * summed
    lo = 0.0 if all(v.lo >= 0 for v in n.ins) else -m
    if dt not in FLOATS:
        _int_check(dt, -m, m)
    grid = None
    if all(v.grid for v in n.ins):
        grid = grid_ok((sum(v.grid[0] for v in n.ins),
                        float(np.prod([v.grid[1] for v in n.ins])) * summed), dt)
    exact = all(v.exact for v in n.ins) and (dt not in FLOATS or grid is not None or
                                            (summed == 1 and len(n.ins) <= 2))
    return [Val(None, dt, out, lo, m, exact, grid)]


@infer_op("RoiAlign", "discont")
def _roialign(n):
    n.need(3, 3)
    x, rois, bi = n.ins
    if x.rank != 4 or rois.rank != 2 or rois.shape[1] != 4 or bi.shape != (rois.shape[0],):
        raise InferError("RoiAlign shapes")
    lo, hi = _idx_range(bi)
    if lo < 0 or hi >= x.shape[0]:
        raise InferError("RoiAlign batch index out of range")
    out = (rois.shape[0], x.shape[1], n.a("output_height", 1), n.a("output_width", 1))
    return [Val(None, x.dtype, out, min(x.lo, 0.0), max(x.hi, 0.0))]


DISCONT_INPUTS["RoiAlign"] = (1, 2)


_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _rnn(op):
    def f(n):
        n.need(3, 8)
        x, w, r = n.ins[:3]
        layout = n.a("layout", 0)
        hid = n.a("hidden_size")
        dirs = 2 if n.a("direction", "forward") == "bidirectional" else 1
        g = _GATES[op]
        if x.rank != 3:
            raise InferError(f"{op} input rank")
        seq, batch, inp = (x.shape[1], x.shape[0], x.shape[2]) if layout else x.shape
        if w.shape != (dirs, g * hid, inp) or r.shape != (dirs, g * hid, hid):
            raise InferError(f"{op} weights {w.shape} {r.shape}")
        b = n.inp(3)
        if b is not None and b.shape != (dirs, 2 * g * hid):
            raise InferError(f"{op} bias")
        sl = n.inp(4)
        if sl is not None:
            lo, hi = _idx_range(sl)
            if sl.shape != (batch,) or lo < 1 or hi > seq:
                raise InferError(f"{op} sequence_lens")
        hs = (batch, dirs, hid) if layout else (dirs, batch, hid)
        for i in (5, 6):
            if n.inp(i) is not None and n.ins[i].shape != hs:
                raise InferError(f"{op} initial state")
        if op == "LSTM" and n.inp(7) is not None and n.ins[7].shape != (dirs, 3 * hid):
            raise InferError("LSTM peepholes")
        ys = (batch, seq, dirs, hid) if layout else (seq, dirs, batch, hid)
        # tanh outputs (the defaults); the cell state of an LSTM is a sum of
        # at most seq + 1 bounded terms
        bound = 1.0
        c = n.ins[6] if op == "LSTM" and n.inp(6) is not None else None
        cb = (c.mag if c is not None else 0.0) + seq
        outs = [Val(None, x.dtype, ys, -bound, bound), Val(None, x.dtype, hs, -bound, bound)]
        if op == "LSTM":
            outs.append(Val(None, x.dtype, hs, -cb, cb))
        return outs[:n.n_out]
    INFER[op] = f
    KIND[op] = "inexact"


for _op in _GATES:
    _rnn(_op)


@infer_op("DFT")
def _dft(n):
    n.need(1, 2)
    x = n.ins[0]
    if x.rank < 3 or x.shape[-1] not in (1, 2):
        raise InferError("DFT input")
    ax = n.a("axis", 1)
    a = ax + x.rank if ax < 0 else ax
    if not 1 <= a <= x.rank - 2:
        raise InferError("DFT axis")
    length = x.shape[a]
    if n.inp(1) is not None:
        length = int(n.data(1, "dft_length").reshape(-1)[0])
    if length < 1:
        raise InferError("DFT length")
    if n.a("onesided", 0) and (x.shape[-1] != 1 or n.a("inverse", 0)):
        raise InferError("onesided DFT of a complex or inverse signal")
    bins = length // 2 + 1 if n.a("onesided", 0) else length
    out = x.shape[:a] + (bins,) + x.shape[a + 1:-1] + (2,)
    m = x.mag * min(length, x.shape[a]) * 1.5
    return [Val(None, x.dtype, out, -m, m)]


@infer_op("STFT")
def _stft(n):
    n.need(2, 4)
    x = n.ins[0]
    step = int(n.data(1, "frame_step").reshape(-1)[0])
    win = n.inp(2)
    if n.inp(3) is not None:
        fl = int(n.data(3, "frame_length").reshape(-1)[0])
        if win is not None and win.shape != (fl,):
            raise InferError("STFT window length")
    elif win is not None:
        fl = win.shape[0]
    else:
        raise InferError("STFT needs a window or a frame_length")
    if x.rank != 3 or x.shape[-1] not in (1, 2) or step < 1 or not 1 <= fl <= x.shape[1]:
        raise InferError("STFT shapes")
    ones = n.a("onesided", 1)
    if ones and x.shape[-1] != 1:  # (ops.py writes onesided=0: see g_stft)
        raise InferError("onesided STFT of a complex signal")
    frames = (x.shape[1] - fl) // step + 1
    bins = fl // 2 + 1 if ones else fl
    m = x.mag * fl * 1.5 * (win.mag if win is not None else 1.0)
    return [Val(None, x.dtype, (x.shape[0], frames, bins, 2), -m, m)]


def _window_fn(op):
    def f(n):
        n.need(1, 1)
        size = int(n.data(0, "size").reshape(-1)[0])
        if size < 1:
            raise InferError(f"{op} size")
        dt = DTYPE_OF[n.a("output_datatype", 1)]
        return [Val(None, dt, (size,), -0.01, 1.0)]
    INFER[op] = f
    KIND[op] = "inexact"


for _op in ("HannWindow", "HammingWindow", "BlackmanWindow"):
    _window_fn(_op)


@infer_op("MelWeightMatrix", "discont")
def _mel(n):
    n.need(5, 5)
    bins = int(n.data(0, "num_mel_bins").reshape(-1)[0])
    dl = int(n.data(1, "dft_length").reshape(-1)[0])
    dt = DTYPE_OF[n.a("output_datatype", 1)]
    if bins < 1 or dl < 1:
        raise InferError("MelWeightMatrix sizes")
    return [Val(None, dt, (dl // 2 + 1, bins), 0.0, 1.0)]


def _loss_common(n, x, t, w):
    if x.rank < 2 or t.shape != (x.shape[0],) + x.shape[2:]:
        raise InferError(f"{n.op} target shape {t.shape} for {x.shape}")
    c = x.shape[1]
    ign = n.a("ignore_index")
    d = t.data if t.data is not None else t.data_full
    if d is None:
        raise InferError(f"{n.op} target unknown")
    d = np.asarray(d, dtype=np.int64)
    valid = d != ign if ign is not None else np.ones(d.shape, bool)
    if np.any((d[valid] < 0) | (d[valid] >= c)):
        raise InferError(f"{n.op} target out of range")
    red = n.a("reduction", "mean")
    if red == "mean" and not valid.any():
        raise InferError(f"{n.op}: mean over no target")
    if w is not None and w.shape != (c,):
        raise InferError(f"{n.op} weight shape")
    return red, int(valid.sum())


@infer_op("NegativeLogLikelihoodLoss", "exact")
def _nll(n):
    n.need(2, 3)
    x, t = n.ins[:2]
    w = n.inp(2)
    red, cnt = _loss_common(n, x, t, w)
    wm = w.mag if w is not None else 1.0
    m = x.mag * wm
    if red == "none":
        # -x[n, t] * w[t]: one rounding at most
        exact = x.exact and (w is None or w.exact)
        return [Val(None, x.dtype, t.shape, -m, m, exact)]
    if red == "sum":
        m *= max(cnt, 1)
    else:
        if w is not None and w.lo <= 0:
            raise InferError("NLL mean with non-positive weights")
        m = m * (wm / w.lo) if w is not None else m
    return [Val(None, x.dtype, (), -m, m, False)]


@infer_op("SoftmaxCrossEntropyLoss")
def _sce(n):
    n.need(2, 3)
    x, t = n.ins[:2]
    w = n.inp(2)
    red, cnt = _loss_common(n, x, t, w)
    # -log softmax <= 2 max|x| + log C
    m = (2 * x.mag + math.log(x.shape[1])) * (w.mag if w is not None else 1.0)
    if red == "sum":
        m *= max(cnt, 1)
    elif red == "mean" and w is not None:
        if w.lo <= 0:
            raise InferError("SCE mean with non-positive weights")
        m *= w.mag / w.lo
    loss = Val(None, x.dtype, t.shape if red == "none" else (), -m, m)
    lp = Val(None, x.dtype, x.shape, -(2 * x.mag + math.log(x.shape[1])), 0.0)
    return [loss, lp][:n.n_out]


@infer_op("TfIdfVectorizer", "exact")
def _tfidf(n):
    n.need(1, 1)
    x = n.ins[0]
    if x.rank not in (1, 2):
        raise InferError("TfIdfVectorizer rank")
    idx = n.a("ngram_indexes")
    width = max(idx) + 1
    out = (width,) if x.rank == 1 else (x.shape[0], width)
    mode = n.a("mode")
    w = n.a("weights")
    cnt = x.shape[-1] * (n.a("max_skip_count", 0) + 1)
    wm = max([abs(v) for v in w]) if w else 1.0
    m = cnt * wm if mode != "IDF" else wm
    grid = grid_ok((2, m), "float32")
    return [Val(None, "float32", out, min(0.0, -m if w and min(w) < 0 else 0.0), m, x.exact,
                grid)]


# ---- values of data-dependent shape ------------------------------------------
# The output's shape depends on the input's contents: the input must be a
# value whose contents graphgen knows (a leaf: a graph input or an
# initializer, or the output of another such op); the contents are computed
# here with NumPy from the spec's definition and kept (data_full) so that
# later ops of this kind can build on them.

def _contents(n, i, what):
    v = n.inp(i)
    d = v.data if v.data is not None else v.data_full
    if d is None:
        raise InferError(f"{n.op}: {what} (input {i}) has contents unknown at build time")
    return np.asarray(d)


def _with_contents(o, arr):
    o.data_full = np.asarray(arr)
    return o


@infer_op("NonZero", "move")
def _nonzero(n):
    n.need(1, 1)
    x = n.ins[0]
    if x.rank < 1:
        raise InferError("NonZero of a scalar")  # ONNX 1.12 infers rank 2, NumPy gives 1
    d = _contents(n, 0, "X")
    idx = np.array(np.nonzero(d), dtype=np.int64).reshape(x.rank, -1)
    o = Val(None, "int64", idx.shape, 0, max(max(x.shape) - 1, 0), True)
    return [_with_contents(o, idx)]


@infer_op("Compress", "move")
def _compress(n):
    n.need(2, 2)
    x, c = n.ins
    if c.dtype != "bool" or c.rank != 1:
        raise InferError("Compress: condition must be 1-D bool")
    cond = _contents(n, 1, "condition").astype(bool)
    ax = n.a("axis")
    if ax is None:
        if cond.size > x.numel:
            raise InferError("Compress: condition longer than the input")
        shape = (int(cond.sum()),)
    else:
        if n.opset < 11 and ax < 0:
            raise InferError("Compress-9: negative axis")
        ax = norm_axis(ax, x.rank)
        if cond.size > x.shape[ax]:
            raise InferError("Compress: condition longer than the axis")
        shape = x.shape[:ax] + (int(cond.sum()),) + x.shape[ax + 1:]
    o = Val(None, x.dtype, shape, x.lo, x.hi, x.exact, x.grid)
    d = x.data if x.data is not None else x.data_full
    if d is not None:
        d = np.asarray(d)
        if ax is None:
            o.data_full = d.reshape(-1)[:cond.size][cond]
        else:
            keep = np.nonzero(cond)[0]
            o.data_full = np.take(d, keep, axis=ax)
    return [o]


@infer_op("Unique", "move")
def _unique(n):
    n.need(1, 1)
    x = n.ins[0]
    d = _contents(n, 0, "X")
    if d.dtype.kind == "f" and (np.isnan(d).any() or (np.signbit(d) & (d == 0)).any()):
        raise InferError("Unique: NaN or -0 (their order and equality are not specified)")
    ax = n.a("axis")
    if ax is None:
        flat = d.reshape(-1)
        u, idx, inv, cnt = np.unique(flat, return_index=True, return_inverse=True,
                                     return_counts=True)
    else:
        ax = norm_axis(ax, x.rank)
        if x.shape[ax] == 0:
            raise InferError("Unique along an empty axis")
        u, idx, inv, cnt = np.unique(d, return_index=True, return_inverse=True,
                                     return_counts=True, axis=ax)
    inv = np.asarray(inv).reshape(-1)
    if not n.a("sorted", 1):  # order of first occurrence
        order = np.argsort(idx, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        u = u[order] if ax is None else np.take(u, order, axis=ax)
        idx, cnt, inv = idx[order], cnt[order], rank[inv]
    y = Val(None, x.dtype, u.shape, x.lo, x.hi, x.exact, x.grid)
    top = max(x.numel - 1, 0)
    outs = [_with_contents(y, u),
            _with_contents(Val(None, "int64", idx.shape, 0, top, True), idx.astype(np.int64)),
            _with_contents(Val(None, "int64", inv.shape, 0, top, True), inv.astype(np.int64)),
            _with_contents(Val(None, "int64", cnt.shape, 1, top + 1, True),
                           cnt.astype(np.int64))]
    return outs[:max(n.n_out, 1)]


# ---- quantization -------------------------------------------------------------
# Integer results (MatMulInteger, ConvInteger) are exact. Quantized results
# are rounded: exact when the value quantized is (one correctly rounded
# division, then round half to even); the builders keep the QLinear* scales
# powers of two so that their requantization is exact too.

QTYPES = ("uint8", "int8")


def _qparam(n, i, x, axis, what, dtype=None, allow_axis=True):
    """Checks a scale or zero point: a scalar, or (per axis, opset 13) a 1-D
    tensor as long as x's axis."""
    v = n.inp(i)
    if v is None:
        return None
    if dtype is not None and v.dtype != dtype:
        raise InferError(f"{n.op}: {what} is {v.dtype}, expected {dtype}")
    if v.rank == 0 or (v.shape == (1,) and n.op in ("MatMulInteger", "ConvInteger")):
        return v
    if not allow_axis or v.rank != 1 or axis is None or v.shape[0] != x.shape[axis]:
        raise InferError(f"{n.op}: {what} shape {v.shape} for input {x.shape}")
    return v


def _q_axis(n, x, per_axis):
    if not per_axis:
        return None
    if n.opset < 13:
        raise InferError(f"{n.op}-{n.opset}: per-axis parameters need opset 13")
    return norm_axis(n.a("axis", 1), x.rank)


@infer_op("QuantizeLinear", "discont")
def _quantize(n):
    n.need(2, 3)
    x, s = n.ins[0], n.ins[1]
    zp = n.inp(2)
    if x.dtype not in (("float32", "int32") if n.opset >= 13 else ("float32",)):
        raise InferError(f"QuantizeLinear of {x.dtype}")
    per_axis = s.rank == 1 and not (n.opset < 13 and s.shape == (1,))
    ax = _q_axis(n, x, per_axis)
    _qparam(n, 1, x, ax, "y_scale", "float32")
    if zp is not None:
        if zp.dtype not in QTYPES or zp.shape != s.shape:
            raise InferError("QuantizeLinear: y_zero_point")
    if s.lo <= 0:
        raise InferError("QuantizeLinear: scale must be positive")
    dt = zp.dtype if zp is not None else "uint8"
    lo, hi = int_range(dt)
    o = Val(None, dt, x.shape, lo, hi, x.exact)
    o.distinct = False
    return [o]


@infer_op("DequantizeLinear", "exact")
def _dequantize(n):
    n.need(2, 3)
    x, s = n.ins[0], n.ins[1]
    zp = n.inp(2)
    if x.dtype not in QTYPES + ("int32",):
        raise InferError(f"DequantizeLinear of {x.dtype}")
    per_axis = s.rank == 1 and not (n.opset < 13 and s.shape == (1,))
    ax = _q_axis(n, x, per_axis)
    _qparam(n, 1, x, ax, "x_scale", "float32")
    if zp is not None:
        if zp.dtype != x.dtype or zp.shape != s.shape:
            raise InferError("DequantizeLinear: x_zero_point")
        if x.dtype == "int32" and (zp.data is None or np.any(zp.data != 0)):
            raise InferError("DequantizeLinear: an int32 input needs a zero point of 0")
    zm = zp.mag if zp is not None else 0
    m = (x.mag + zm) * s.mag
    # power-of-two scales make dyadic values (exact sums downstream)
    grid = None
    sd = s.data
    if sd is not None and sd.size and np.all(sd > 0):
        q = -np.log2(sd.astype(np.float64))
        if np.all(q == np.round(q)) and q.min() >= 0:
            grid = grid_ok((int(q.max()), max(m, 2.0 ** -int(q.max()))), "float32")
    return [Val(None, "float32", x.shape, -m, m, x.exact and s.exact, grid)]


@infer_op("DynamicQuantizeLinear", "discont")
def _dynquant(n):
    n.need(1, 1)
    x = n.ins[0]
    if x.dtype != "float32" or x.numel == 0:
        raise InferError("DynamicQuantizeLinear needs a non-empty float32 input")
    return [Val(None, "uint8", x.shape, 0, 255, x.exact),
            Val(None, "float32", (), 0, max(x.mag, 1.0) * 2 / 255, x.exact),
            Val(None, "uint8", (), 0, 255, x.exact)][:max(n.n_out, 1)]


def _mm_shape(a, b):
    sa, sb = list(a.shape), list(b.shape)
    if len(sa) < 2 or len(sb) < 2 or sa[-1] != sb[-2]:
        raise InferError(f"{a.shape} x {b.shape}")
    batch = broadcast(tuple(sa[:-2]), tuple(sb[:-2]))
    return tuple(batch) + (sa[-2], sb[-1]), sa[-1]


@infer_op("MatMulInteger", "exact")
def _mmint(n):
    n.need(2, 4)
    a, b = n.ins[0], n.ins[1]
    if a.dtype not in QTYPES or b.dtype not in QTYPES:
        raise InferError("MatMulInteger types")
    out, k = _mm_shape(a, b)
    for i, v, what in ((2, a, "a_zero_point"), (3, b, "b_zero_point")):
        zp = n.inp(i)
        if zp is None:
            continue
        if zp.dtype != v.dtype:
            raise InferError(f"MatMulInteger: {what} dtype")
        if zp.rank == 0 or zp.shape == (1,):
            continue
        if i == 3 and b.rank == 2 and zp.shape == (b.shape[1],):
            continue  # per column
        raise InferError(f"MatMulInteger: {what} shape {zp.shape}")
    m = k * 255 * 255
    return [Val(None, "int32", out, -m, m, True)]


def _conv_shape(n, x, w):
    if x.rank < 3 or w.rank != x.rank:
        raise InferError(f"{n.op}: X {x.shape}, W {w.shape}")
    g = n.a("group", 1)
    kernel = n.a("kernel_shape", list(w.shape[2:]))
    if list(kernel) != list(w.shape[2:]):
        raise InferError("kernel_shape differs from W")
    nsp, strides, dil, pads, ap = _spatial(n, x, kernel)
    c, m = x.shape[1], w.shape[0]
    if g < 1 or c % g or m % g or w.shape[1] * g != c:
        raise InferError(f"{n.op}: group {g}, C {c}, W {w.shape}")
    out = [x.shape[0], m]
    for i in range(nsp):
        out.append(conv_out(x.shape[2 + i], kernel[i], strides[i], dil[i], pads[i],
                            pads[i + nsp], ap))
    if min(out[2:]) < 1:
        raise InferError(f"{n.op} output is empty")
    return tuple(out), w.shape[1] * numel(kernel)


@infer_op("ConvInteger", "exact")
def _convint(n):
    n.need(2, 4)
    x, w = n.ins[0], n.ins[1]
    if x.dtype not in QTYPES or w.dtype not in QTYPES:
        raise InferError("ConvInteger types")
    out, k = _conv_shape(n, x, w)
    xz, wz = n.inp(2), n.inp(3)
    if xz is not None and (xz.dtype != x.dtype or xz.numel != 1):
        raise InferError("ConvInteger: x_zero_point")
    if wz is not None and (wz.dtype != w.dtype or
                           not (wz.numel == 1 or wz.shape == (w.shape[0],))):
        raise InferError("ConvInteger: w_zero_point")
    m = k * 255 * 255
    return [Val(None, "int32", out, -m, m, True)]


def _qlinear_params(n, idx_scale, idx_zp, v, per_channel=None):
    s, z = n.inp(idx_scale), n.inp(idx_zp)
    if s is None or s.dtype != "float32" or s.lo <= 0:
        raise InferError(f"{n.op}: scale {idx_scale}")
    ok = s.numel == 1 or (per_channel is not None and s.shape == (per_channel,))
    if not ok or s.rank > 1:
        raise InferError(f"{n.op}: scale {idx_scale} shape {s.shape}")
    if z is not None and (z.dtype != v.dtype or z.shape != s.shape):
        raise InferError(f"{n.op}: zero point {idx_zp}")


@infer_op("QLinearMatMul", "exact")
def _qlmm(n):
    n.need(8, 8)
    a, b, yz = n.ins[0], n.ins[3], n.ins[7]
    if a.dtype not in QTYPES or b.dtype not in QTYPES or yz.dtype not in QTYPES:
        raise InferError("QLinearMatMul types")
    out, _ = _mm_shape(a, b)
    _qlinear_params(n, 1, 2, a)
    _qlinear_params(n, 4, 5, b, b.shape[-1] if b.rank == 2 else None)
    _qlinear_params(n, 6, 7, yz)
    lo, hi = int_range(yz.dtype)
    return [Val(None, yz.dtype, out, lo, hi, True)]


@infer_op("QLinearConv", "exact")
def _qlconv(n):
    n.need(8, 9)
    x, w, yz = n.ins[0], n.ins[3], n.ins[7]
    if x.dtype not in QTYPES or w.dtype not in QTYPES or yz.dtype not in QTYPES:
        raise InferError("QLinearConv types")
    out, _ = _conv_shape(n, x, w)
    _qlinear_params(n, 1, 2, x)
    _qlinear_params(n, 4, 5, w, w.shape[0])
    _qlinear_params(n, 6, 7, yz)
    bias = n.inp(8)
    if bias is not None and (bias.dtype != "int32" or bias.shape != (w.shape[0],)):
        raise InferError("QLinearConv: bias")
    lo, hi = int_range(yz.dtype)
    return [Val(None, yz.dtype, out, lo, hi, True)]


# ---- sequences and optionals ---------------------------------------------------
# A sequence is a Val whose seq lists its elements' Vals (the generator
# knows every element's shape); an optional has optional True and seq [] or
# [its element]. Neither is ever a graph output or a tensor op's input.

def _seq_in(n, i, optional=False):
    v = n.inp(i)
    if v is None or v.seq is None or v.optional != optional:
        raise InferError(f"{n.op}: input {i} is not {'an optional' if optional else 'a sequence'}")
    return v


def _seq_val(dtype, elems, optional=False):
    o = Val(None, dtype, ())
    o.seq = list(elems)
    o.optional = optional
    if elems:
        o.lo = min(e.lo for e in elems)
        o.hi = max(e.hi for e in elems)
    o.exact = all(e.exact for e in elems)
    return o


def _elem_copy(e):
    o = Val(None, e.dtype, e.shape, e.lo, e.hi, e.exact, e.grid)
    o.distinct = e.distinct
    o.data = e.data
    o.data_full = e.data_full
    return o


def _position(n, i, length, insert=False):
    v = n.inp(i)
    if v is None:
        return length if insert else length - 1
    if v.dtype not in ("int32", "int64") or v.numel != 1 or v.rank > 0:
        raise InferError(f"{n.op}: position must be an int32/int64 scalar")
    pos = int(n.data(i, "position").reshape(-1)[0])
    hi = length if insert else length - 1
    if not -length <= pos <= hi:
        raise InferError(f"{n.op}: position {pos} out of range for length {length}")
    return pos + length if pos < 0 else pos


@infer_op("SequenceConstruct", "move")
def _seq_construct(n):
    if not n.ins or any(v is None or v.dtype != n.ins[0].dtype for v in n.ins):
        raise InferError("SequenceConstruct: inputs of one dtype")
    return [_seq_val(n.ins[0].dtype, n.ins)]


@infer_op("SequenceEmpty", "move")
def _seq_empty(n):
    n.need(0, 0)
    return [_seq_val(DTYPE_OF.get(n.a("dtype", 1), "float32"), [])]


@infer_op("SequenceInsert", "move")
def _seq_insert(n):
    n.need(2, 3)
    s, t = _seq_in(n, 0), n.ins[1]
    if t.seq is not None or t.dtype != s.dtype:
        raise InferError("SequenceInsert: tensor of the sequence's dtype")
    pos = _position(n, 2, len(s.seq), insert=True)
    return [_seq_val(s.dtype, s.seq[:pos] + [t] + s.seq[pos:])]


@infer_op("SequenceErase", "move")
def _seq_erase(n):
    n.need(1, 2)
    s = _seq_in(n, 0)
    if not s.seq:
        raise InferError("SequenceErase of an empty sequence")
    pos = _position(n, 1, len(s.seq))
    return [_seq_val(s.dtype, s.seq[:pos] + s.seq[pos + 1:])]


@infer_op("SequenceAt", "move")
def _seq_at(n):
    n.need(2, 2)
    s = _seq_in(n, 0)
    if not s.seq:
        raise InferError("SequenceAt of an empty sequence")
    return [_elem_copy(s.seq[_position(n, 1, len(s.seq))])]


@infer_op("SequenceLength", "move")
def _seq_length(n):
    n.need(1, 1)
    s = _seq_in(n, 0)
    o = Val(None, "int64", (), len(s.seq), len(s.seq), True)
    o.data = o.data_full = np.array(len(s.seq), np.int64)
    return [o]


@infer_op("SplitToSequence", "move")
def _split_to_seq(n):
    n.need(1, 2)
    x = n.ins[0]
    if x.rank < 1:
        raise InferError("SplitToSequence of a scalar")
    ax = norm_axis(n.a("axis", 0), x.rank)
    d = x.shape[ax]
    sp = n.inp(1)
    keep = n.a("keepdims", 1)
    if sp is None:
        sizes = [1] * d
    else:
        sv = n.data(1, "split").reshape(-1).astype(np.int64)
        if sp.rank == 0:
            if sv[0] < 1:
                raise InferError("SplitToSequence: split must be positive")
            sizes = [int(sv[0])] * (d // int(sv[0])) + ([d % int(sv[0])] if d % int(sv[0]) else [])
        else:
            sizes = [int(v) for v in sv]
            if sum(sizes) != d or min(sizes, default=0) < 0:
                raise InferError(f"SplitToSequence: split {sizes} vs dim {d}")
    if not sizes:
        raise InferError("SplitToSequence: no element")
    full = x.data if x.data is not None else x.data_full
    elems, at = [], 0
    for k in sizes:
        shape = x.shape[:ax] + ((k,) if sp is not None or keep else ()) + x.shape[ax + 1:]
        e = Val(None, x.dtype, shape, x.lo, x.hi, x.exact, x.grid)
        if full is not None:
            part = np.take(np.asarray(full), range(at, at + k), axis=ax)
            e.data_full = part.reshape(shape)
        elems.append(e)
        at += k
    return [_seq_val(x.dtype, elems)]


@infer_op("ConcatFromSequence", "move")
def _concat_from_seq(n):
    n.need(1, 1)
    s = _seq_in(n, 0)
    if not s.seq:
        raise InferError("ConcatFromSequence of an empty sequence")
    new = n.a("new_axis", 0)
    r = s.seq[0].rank
    if new:
        if any(e.shape != s.seq[0].shape for e in s.seq):
            raise InferError("ConcatFromSequence new_axis: elements of one shape")
        ax = norm_axis(n.a("axis"), r + 1)
        out = s.seq[0].shape[:ax] + (len(s.seq),) + s.seq[0].shape[ax:]
    else:
        if r < 1:
            raise InferError("ConcatFromSequence of scalars without new_axis")
        ax = norm_axis(n.a("axis"), r)
        for e in s.seq:
            if e.rank != r or e.shape[:ax] + e.shape[ax + 1:] != \
                    s.seq[0].shape[:ax] + s.seq[0].shape[ax + 1:]:
                raise InferError("ConcatFromSequence: shapes differ off the axis")
        out = s.seq[0].shape[:ax] + (sum(e.shape[ax] for e in s.seq),) + s.seq[0].shape[ax + 1:]
    grids = [e.grid for e in s.seq]
    grid = grids[0] if all(g == grids[0] for g in grids) else None
    return [Val(None, s.dtype, out, s.lo, s.hi, s.exact, grid)]


@infer_op("Optional", "move")
def _optional(n):
    n.need(1, 1)
    t = n.ins[0]
    if t is None or t.seq is not None:
        raise InferError("Optional of a tensor only")
    return [_seq_val(t.dtype, [t], optional=True)]


@infer_op("OptionalHasElement", "move")
def _opt_has(n):
    n.need(1, 1)
    o = _seq_in(n, 0, optional=True)
    v = Val(None, "bool", (), float(bool(o.seq)), float(bool(o.seq)), True)
    v.data = v.data_full = np.array(bool(o.seq))
    return [v]


@infer_op("OptionalGetElement", "move")
def _opt_get(n):
    n.need(1, 1)
    o = _seq_in(n, 0, optional=True)
    if not o.seq:
        raise InferError("OptionalGetElement of an empty optional")
    return [_elem_copy(o.seq[0])]


# ---- NonMaxSuppression -----------------------------------------------------------

def nms_iou(a, b, center):
    """IoU of two boxes in float64 (corners in any order, or center form)."""
    def corners(x):
        if center:
            return x[0] - x[2] / 2, x[1] - x[3] / 2, x[0] + x[2] / 2, x[1] + x[3] / 2
        return min(x[0], x[2]), min(x[1], x[3]), max(x[0], x[2]), max(x[1], x[3])
    a0, a1, a2, a3 = corners([float(v) for v in a])
    b0, b1, b2, b3 = corners([float(v) for v in b])
    inter = max(0.0, min(a2, b2) - max(a0, b0)) * max(0.0, min(a3, b3) - max(a1, b1))
    union = (a2 - a0) * (a3 - a1) + (b2 - b0) * (b3 - b1) - inter
    return inter / union if union > 0 else 0.0


@infer_op("NonMaxSuppression", "move")
def _nms(n):
    n.need(2, 5)
    bx, sc = n.ins[0], n.ins[1]
    if bx.rank != 3 or bx.shape[2] != 4 or sc.rank != 3 or sc.shape[0] != bx.shape[0] or \
            sc.shape[2] != bx.shape[1] or bx.dtype != "float32" or sc.dtype != "float32":
        raise InferError(f"NonMaxSuppression: boxes {bx.shape}, scores {sc.shape}")
    boxes, scores = _contents(n, 0, "boxes"), _contents(n, 1, "scores")
    mx = int(n.data(2, "max_output_boxes_per_class").reshape(-1)[0]) if n.inp(2) else 0
    thr = float(n.data(3, "iou_threshold").reshape(-1)[0]) if n.inp(3) else 0.0
    sthr = float(n.data(4, "score_threshold").reshape(-1)[0]) if n.inp(4) else None
    center = n.a("center_point_box", 0)
    sel = []
    for b in range(bx.shape[0]):
        ious = {}
        for c in range(sc.shape[1]):
            s = scores[b, c].astype(np.float64)
            if len(np.unique(s)) != s.size:
                raise InferError("NonMaxSuppression: equal scores (order unspecified)")
            if sthr is not None and np.any(np.abs(s - sthr) < 1e-6):
                raise InferError("NonMaxSuppression: a score at the score threshold")
            keep = []
            for i in np.argsort(-s, kind="stable"):
                if len(keep) >= mx:
                    break
                if sthr is not None and s[i] < sthr:
                    continue
                ok = True
                for j in keep:
                    key = (min(i, j), max(i, j))
                    if key not in ious:
                        ious[key] = nms_iou(boxes[b, i], boxes[b, j], center)
                    # (no overlap is an IoU of exactly 0 in any implementation)
                    if abs(ious[key] - thr) < 1e-4 and ious[key] != 0.0:
                        raise InferError("NonMaxSuppression: an IoU at the threshold")
                    if ious[key] > thr:
                        ok = False
                        break
                if ok:
                    keep.append(int(i))
            sel += [[b, c, i] for i in keep]
    out = np.array(sel, dtype=np.int64).reshape(-1, 3)
    o = Val(None, "int64", out.shape, 0, max(bx.shape[1], sc.shape[1], bx.shape[0]), True)
    return [_with_contents(o, out)]
