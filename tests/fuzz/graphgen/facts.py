"""facts.py — what the generator knows about every value of a graph it
builds: dtype, concrete shape (and which dims are symbolic), conservative
value bounds, whether the value is *exact* (the same bits in every correct
implementation), a dyadic grid that keeps sums exact, depth (inexact float
operations on the longest path from an input), and known contents for
constants. Shared by the generator (ops.py, builder.py) and by the analysis
of saved or shrunk graphs (analyze.py). It builds no graphs itself.
"""
import math

import numpy as np
from onnx import TensorProto

INF = float("inf")

FLOATS = ("float32", "float16", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTS = SIGNED + UNSIGNED
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",)

ONNX_OF = {
    "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16,
    "float64": TensorProto.DOUBLE, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
    "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL,
}
DTYPE_OF = {v: k for k, v in ONNX_OF.items()}
# 'tensor(float)' as in onnx.defs type constraints
TYPESTR = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int8)": "int8", "tensor(int16)": "int16", "tensor(int32)": "int32",
    "tensor(int64)": "int64", "tensor(uint8)": "uint8", "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32", "tensor(uint64)": "uint64", "tensor(bool)": "bool",
}

# Mantissa bits: a grid value k * 2^-q with |value| <= B is representable
# exactly, and every sum of such values in any order is exact, while
# B * 2^q < 2^MANT.
MANT = {"float32": 24, "float16": 11, "float64": 53}
# Largest finite magnitude kept: beyond this the generator conditions the
# value (float16 overflows at 65504).
MAX_MAG = {"float32": 1e6, "float16": 1e3, "float64": 1e6}


def int_range(dtype):
    if dtype == "bool":
        return 0, 1
    i = np.iinfo(np.dtype(dtype))
    return int(i.min), int(i.max)


class Val:
    """One value of the graph and what is known about it."""

    __slots__ = ("name", "dtype", "shape", "sym", "lo", "hi", "exact", "grid", "depth",
                 "fragile", "data", "kind", "producer", "consumers", "distinct", "scope",
                 "op", "data_full", "prec", "seq", "optional", "qstep")

    def __init__(self, name, dtype, shape, lo=-INF, hi=INF, exact=False, grid=None, data=None,
                 kind="node", sym=None, distinct=False):
        self.name = name
        self.dtype = dtype
        self.shape = tuple(int(d) for d in shape)
        self.sym = sym  # None, or a tuple with a dim_param name or None per dim
        self.lo, self.hi = lo, hi
        self.exact = exact
        self.grid = grid  # None or (q, B)
        self.depth = 0
        self.fragile = False
        self.data = data  # np.ndarray when the contents are known at build time
        self.kind = kind  # input | init | node
        self.producer = None  # op type of the producing node
        self.consumers = 0
        self.distinct = distinct  # all elements differ (no ties)
        self.scope = 0
        self.op = None
        self.data_full = None  # leaves: the data fed or stored
        # the least precise float type whose rounding reached this value
        # (a float32 result cast to float64 keeps float32's error)
        self.prec = dtype if dtype in FLOATS else None
        # a sequence: its elements' Vals (dtype is theirs, shape ()); an
        # optional: optional True and seq [] or [the element]
        self.seq = None
        self.optional = False
        # quantized from an inexact value: compared within one step, and
        # anything computed from it is fragile
        self.qstep = False

    @property
    def rank(self):
        return len(self.shape)

    @property
    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def is_float(self):
        return self.dtype in FLOATS

    @property
    def mag(self):
        return max(abs(self.lo), abs(self.hi))

    def has_sym(self):
        return self.sym is not None and any(s is not None for s in self.sym)

    def __repr__(self):
        return (f"Val({self.name} {self.dtype}{list(self.shape)} [{self.lo:.3g},{self.hi:.3g}]"
                f"{' exact' if self.exact else ''}{' grid' + str(self.grid) if self.grid else ''}"
                f" d{self.depth})")


PRECISION_ORDER = {"float16": 0, "float32": 1, "float64": 2}


def coarsest(*dtypes):
    ds = [d for d in dtypes if d in PRECISION_ORDER]
    return min(ds, key=PRECISION_ORDER.get) if ds else None


def grid_ok(grid, dtype):
    if grid is None or dtype not in MANT:
        return None
    q, b = grid
    if q < 0 or q > 30 or b * (2.0 ** q) >= 2.0 ** (MANT[dtype] - 1):
        return None
    return grid


def grid_of_data(a, dtype):
    """(q, B) when every element of a is a small dyadic rational."""
    if dtype not in MANT or a.size == 0:
        return None
    x = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        return None
    b = float(np.max(np.abs(x)))
    for q in range(0, 9):
        s = x * (2.0 ** q)
        if np.all(s == np.round(s)):
            return grid_ok((q, max(b, 2.0 ** -q)), dtype)
    return None


def bounds_of_data(a):
    if a.size == 0:
        return 0.0, 0.0
    x = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        return -INF, INF
    return float(x.min()), float(x.max())


# ---- shapes ----------------------------------------------------------------

class InferError(Exception):
    """The node is invalid for its inputs (the analysis of a shrunk graph
    uses this to reject a candidate; the generator never builds one)."""


def broadcast(*shapes):
    r = max(len(s) for s in shapes)
    out = []
    for i in range(r):
        d = 1
        for s in shapes:
            k = i - (r - len(s))
            if k < 0:
                continue
            e = s[k]
            if e == 1:
                continue
            if d != 1 and e != d:
                raise InferError(f"shapes {shapes} do not broadcast")
            d = e
        out.append(d)
    return tuple(out)


def unidirectional(target, s):
    """s broadcasts to target without changing it."""
    if len(s) > len(target):
        return False
    for i in range(1, len(s) + 1):
        if s[-i] != 1 and s[-i] != target[-i]:
            return False
    return True


def norm_axis(axis, rank, what="axis"):
    if not -rank <= axis < max(rank, 1) or (rank == 0 and axis not in (0, -1)):
        raise InferError(f"{what} {axis} out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def window_out(size, k, s, d, pb, pe, ceil_mode=False):
    eff = (k - 1) * d + 1
    num = size + pb + pe - eff
    if num < 0:
        raise InferError(f"window {eff} larger than padded input {size + pb + pe}")
    if ceil_mode:
        return int(math.ceil(num / s)) + 1
    return num // s + 1


def auto_pads(auto_pad, size, k, s, d):
    """pads (begin, end) for auto_pad SAME_* / VALID, as ONNX's shape inference."""
    if auto_pad == "VALID":
        return 0, 0
    out = -(-size // s)
    eff = (k - 1) * d + 1
    total = max(0, (out - 1) * s + eff - size)
    if auto_pad == "SAME_UPPER":
        return total // 2, total - total // 2
    return total - total // 2, total // 2


def conv_out(size, k, s, d, pb, pe, auto_pad="NOTSET", ceil_mode=False):
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return -(-size // s)
    if auto_pad == "VALID":
        eff = (k - 1) * d + 1
        if size < eff:
            raise InferError("VALID window larger than input")
        return (size - eff) // s + 1
    return window_out(size, k, s, d, pb, pe, ceil_mode)


def numel(shape):
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


# ---- value ranges ----------------------------------------------------------

def clamp_bounds(lo, hi):
    if math.isnan(lo):
        lo = -INF
    if math.isnan(hi):
        hi = INF
    return lo, hi


def monotone(f, lo, hi, increasing=True):
    with np.errstate(all="ignore"):
        a, b = float(f(np.float64(lo))), float(f(np.float64(hi)))
    if not increasing:
        a, b = b, a
    return clamp_bounds(a, b)


def mul_bounds(a, b):
    c = []
    for x in (a.lo, a.hi):
        for y in (b.lo, b.hi):
            if (x == 0 and math.isinf(y)) or (y == 0 and math.isinf(x)):
                c.append(0.0)
            else:
                c.append(x * y)
    return min(c), max(c)
