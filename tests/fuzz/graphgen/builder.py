"""builder.py — constructs one random valid ONNX graph: a pool of typed,
shaped values (facts.Val) from which ops.py picks inputs, leaves (graph
inputs and initializers with well-conditioned data), emission of nodes with
their facts from infer.py, If subgraphs, and the final ModelProto with a
self-check against onnx.checker and onnx.shape_inference. Deterministic
from the seed. What each op needs and chooses lives in ops.py.
"""
import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

import infer as inf
from facts import (FLOATS, INTS, MAX_MAG, ONNX_OF, TYPESTR, Val, bounds_of_data, coarsest,
                   grid_of_data, numel)

OPSETS = list(range(9, 18))
IR_OF_OPSET = {9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8}


REJECTED = {}  # op -> nodes ops.py asked for that infer.py refused
REJECTED_WHY = {}


class GenError(Exception):
    """The generator broke its own contract (a bug in graphgen)."""


class Skip(Exception):
    """An op cannot be built from this pool; the builder tries another."""


_SCHEMA_CACHE = {}


def schema(op, opset):
    key = (op, opset)
    if key not in _SCHEMA_CACHE:
        try:
            s = onnx.defs.get_schema(op, opset)
            _SCHEMA_CACHE[key] = None if s.deprecated else s
        except onnx.defs.SchemaError:
            _SCHEMA_CACHE[key] = None
    return _SCHEMA_CACHE[key]


def allowed_types(op, opset, tc="T"):
    s = schema(op, opset)
    if s is None:
        return []
    for t in s.type_constraints:
        if t.type_param_str == tc:
            return sorted({TYPESTR[x] for x in t.allowed_type_strs if x in TYPESTR})
    return []


def post_infer(op, ins, outs, opset, attrs):
    """depth, exactness and fragility of outs from the op's kind (infer.KIND)."""
    kind = inf.kind_of(op)
    present = [v for v in ins if v is not None]
    if op in ("Cast", "CastLike") and outs[0] is not None and outs[0].dtype in FLOATS:
        kind = "exact"
    need = inf.DISCONT_INPUTS.get(op)
    crit = present if need is None else [ins[i] for i in need if i < len(ins) and ins[i]]
    frag_in = any(v.fragile or v.qstep for v in present)
    depth = max([v.depth for v in present], default=0)
    for k, o in enumerate(outs):
        if o is None:
            continue
        o.fragile = o.fragile or frag_in
        if op == "QuantizeLinear" and k == 0 and not frag_in and not ins[0].exact:
            o.qstep = True  # rounding of an inexact value: within one step
        elif kind == "discont" and any(not v.exact for v in crit):
            o.fragile = True
        if op == "LayerNormalization" and k in (0, 2) and not ins[0].exact and \
                numel(ins[0].shape[attrs.get("axis", -1):]) <= 4:
            # 1 / sqrt(variance) over a few inexact values that nearly
            # coincide amplifies their rounding without bound (the case that
            # showed it: STFT's [real, imag] pairs, 2e-4 apart in
            # InvStdDev between ortc and ONNX Runtime, each exact for its
            # own input)
            o.fragile = True
        if op == "MaxPool" and k == 1:
            o.fragile = o.fragile or not ins[0].exact or not ins[0].distinct
        if op in ("ArgMax", "ArgMin") and opset < 12 and not ins[0].distinct:
            o.fragile = True  # ties unspecified before select_last_index
        if op == "Hardmax" and not ins[0].distinct:
            o.fragile = o.fragile or opset < 11
        if kind == "inexact" and o.dtype in FLOATS:
            o.exact = False
            o.grid = None
        elif kind in ("move", "exact"):
            o.exact = o.exact and all(v.exact for v in present)
        if not o.exact:
            o.grid = None
        step = 0
        if o.dtype in FLOATS and kind != "move":
            step = 1
        if op in ("Resize", "Upsample") and attrs.get("mode", "nearest") != "nearest":
            step = 1
        o.depth = depth + step
        o.op = op
        # rounding carried in from inexact inputs, at their precision
        o.prec = coarsest(o.dtype if o.dtype in FLOATS else None,
                          *[v.prec for v in present if not v.exact])
    return outs


class Builder:
    def __init__(self, seed, opset=None, max_nodes=None, cfg=None):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.cfg = dict(cfg or {})
        r = self.rng
        self.opset = opset if opset else int(r.choice(OPSETS))
        self.max_nodes = max_nodes if max_nodes else int(r.choice([1, 2, 3, 4, 6, 8, 10, 14, 20],
                                                                  p=[.06, .1, .12, .14, .16, .16,
                                                                     .12, .08, .06]))
        self.max_elems = int(r.choice([1 << 10, 1 << 12, 1 << 14, 1 << 16], p=[.3, .35, .25, .1]))
        self.batch = int(r.choice([1, 1, 2, 3]))
        self.dynamic = r.random() < 0.2
        self.f16_ok = r.random() < 0.1  # float16 / float64 graphs now and then
        self.nodes = [[]]  # node lists by scope; [0] is the main graph
        self.inputs = []
        self.inits = []
        self.vals = {}
        self.pool = []
        self.n = 0
        self.op_counts = {}
        self.flops = 0
        self.flop_cap = float(r.choice([2e6, 8e6, 3e7], p=[.55, .35, .1]))
        self.scope = 0
        self.outputs_extra = []
        self.specials = []  # NaN/Inf leaves, consumed only by IsNaN/IsInf

    # ---- names and randomness -------------------------------------------------
    def name(self, prefix="v"):
        self.n += 1
        return f"{prefix}{self.n}"

    def p(self, prob):
        return self.rng.random() < prob

    def choice(self, seq, p=None):
        i = int(self.rng.choice(len(seq), p=p))
        return seq[i]

    def randint(self, lo, hi):
        """inclusive"""
        return int(self.rng.integers(lo, hi + 1))

    def types(self, op, tc="T"):
        return allowed_types(op, self.opset, tc)

    def pick_dtype(self, op, tc="T", among=None, float_bias=0.85):
        ts = self.types(op, tc)
        if among is not None:
            ts = [t for t in ts if t in among]
        if not ts:
            raise Skip(f"{op}: no type")
        if "float32" in ts and (self.p(float_bias) or len(ts) == 1):
            return "float32"
        others = [t for t in ts if t != "float32"]
        if not self.f16_ok:
            others = [t for t in others if t not in ("float16", "float64")] or others
        return self.choice(others) if others else "float32"

    # ---- shapes ---------------------------------------------------------------
    def dim(self, big=True):
        r = self.rng.random()
        if r < 0.2:
            return 1
        if r < 0.7:
            return self.randint(2, 8)
        if r < 0.95 or not big:
            return self.randint(9, 32)
        return self.randint(33, 300)

    def fit(self, shape, cap=None, keep=()):
        cap = cap or self.max_elems
        shape = list(shape)
        while numel(shape) > cap:
            i = max((j for j in range(len(shape)) if j not in keep), key=lambda j: shape[j],
                    default=None)
            if i is None or shape[i] <= 1:
                break
            shape[i] = max(1, shape[i] // 2)
        return shape

    def rand_shape(self, rank, cap=None, batch=True):
        s = [self.dim() for _ in range(rank)]
        if rank >= 2 and batch and self.p(0.7):
            s[0] = self.batch
        return tuple(self.fit(s, cap))

    # ---- data -----------------------------------------------------------------
    def data(self, dtype, shape, flavor=None, scale=1.0):
        r = self.rng
        n = numel(shape)
        if dtype == "bool":
            return (r.random(n) < 0.5).reshape(shape)
        if dtype in INTS:
            lo, hi = (0, 15) if dtype.startswith("u") else (-8, 8)
            if flavor == "pos":
                lo, hi = 1, 6
            elif flavor == "small":
                lo, hi = (0, 3) if dtype.startswith("u") else (-3, 3)
            return r.integers(lo, hi + 1, size=n).astype(dtype).reshape(shape)
        if flavor is None:
            flavor = self.choice(["normal", "uniform", "grid", "grid", "pos", "wide", "small"],
                                 p=[.22, .22, .18, .1, .1, .08, .1])
        if flavor == "normal":
            x = r.standard_normal(n)
        elif flavor == "uniform":
            x = r.uniform(-1, 1, n)
        elif flavor == "grid":  # dyadic values with ties: exact sums, tie rules exercised
            x = r.integers(-8, 9, n) / 4.0
        elif flavor == "distinct":  # no ties (MaxPool indices, ArgMax before opset 12)
            x = (r.permutation(n) - n / 2.0) / 4.0
            if dtype == "float16":
                x = x / max(1.0, n / 1024.0)
                x = np.round(x * 4) / 4
                if len(np.unique(x)) != n:
                    x = r.permutation(n) / float(max(n, 1))
        elif flavor == "pos":
            x = r.uniform(0.5, 2.0, n)
        elif flavor == "wide":
            x = r.standard_normal(n) * 10
        elif flavor == "small":
            x = r.uniform(-0.1, 0.1, n)
        elif flavor == "unit":
            x = r.uniform(-0.9, 0.9, n)
        else:
            raise GenError(f"flavor {flavor}")
        return (x * scale).astype(dtype).reshape(shape)

    # ---- values ---------------------------------------------------------------
    def add_val(self, v, pool=True):
        v.scope = self.scope
        self.vals[v.name] = v
        if pool:
            self.pool.append(v)
        return v

    def leaf(self, dtype, shape, role="act", flavor=None, data=None, as_input=None, pool=None,
             scale=1.0):
        """A graph input or initializer. role: act (mostly an input), weight /
        param (mostly initializers)."""
        shape = tuple(int(d) for d in shape)
        if data is None:
            data = self.data(dtype, shape, flavor, scale)
        # C order: the .npy files (and ortc's reader) are row-major
        data = np.asarray(data).astype(dtype, order="C").reshape(shape)
        if as_input is None:
            as_input = self.p({"act": 0.8, "weight": 0.15, "param": 0.1}[role])
        if self.scope > 0:
            as_input = False  # subgraph leaves are outer initializers
        v = Val(self.name("in" if as_input else "w"), dtype, shape, *bounds_of_data(data), True,
                grid_of_data(data, dtype), data=data, kind="input" if as_input else "init")
        v.distinct = data.size == len(np.unique(data))
        if as_input and self.dynamic and role == "act" and len(shape) >= 2 and \
                shape[0] == self.batch:
            # now and then another name for the same run-time size: passes
            # must not take two unknown dims for equal
            v.sym = ("N" if self.p(0.8) else "M",) + (None,) * (len(shape) - 1)
        if not as_input:
            v.data = data  # initializers are known at build time
        v.data_full = data
        saved = self.scope
        self.scope = 0
        (self.inputs if as_input else self.inits).append(v)
        self.add_val(v, pool=(role == "act") if pool is None else pool)
        self.scope = saved
        return v

    def const(self, arr, dtype=None, node_p=0.3):
        """Known-at-build-time value (shape arguments, scalars): an
        initializer or a Constant node."""
        arr = np.asarray(arr, dtype=dtype)
        dt = str(arr.dtype)
        if self.p(node_p) and dt in ONNX_OF:
            (v,) = self.emit("Constant", [], {"value": arr}, pool=False)
            return v
        v = self.leaf(dt, arr.shape, data=arr, as_input=False, pool=False)
        v.data = arr
        return v

    def i64(self, values, node_p=0.3):
        return self.const(np.array(values, dtype=np.int64), node_p=node_p)

    def scalar(self, dtype, value, shape=()):
        return self.const(np.full(shape, value, dtype=dtype))

    # ---- picking from the pool -------------------------------------------------
    def candidates(self, pred):
        # empty tensors are an edge case: offered now and then
        empty_ok = self.p(0.2)
        return [v for v in self.pool if v.scope <= self.scope and (empty_ok or v.numel > 0) and
                pred(v)]

    def pick(self, pred=lambda v: True, fresh=None, make=None, recent=True):
        """A pool value satisfying pred (preferring recent and unconsumed
        values), else make() (a new leaf)."""
        c = self.candidates(pred)
        if fresh is None:
            fresh = 0.12
        if c and not self.p(fresh):
            w = np.array([(3.0 if v.consumers == 0 else 1.0) * (1 + 2.0 * i / len(c) if recent
                                                                   else 1.0)
                          for i, v in enumerate(c)])
            return c[int(self.rng.choice(len(c), p=w / w.sum()))]
        if make is None:
            raise Skip("no candidate")
        v = make()
        if not pred(v):  # the new leaf misses a constraint make() does not know
            raise Skip("made value does not fit")
        return v

    def pick_float(self, op, rank=None, min_rank=0, max_rank=6, pred=lambda v: True,
                   dtype=None, fresh=None, shape=None, tc="T"):
        dt = dtype or self.pick_dtype(op, tc, among=FLOATS)

        def ok(v):
            return (v.dtype == dt and (rank is None or v.rank == rank) and
                    min_rank <= v.rank <= max_rank and (shape is None or v.shape == shape) and
                    pred(v))

        def make():
            r = rank if rank is not None else self.randint(max(min_rank, 1), min(max_rank, 4))
            return self.leaf(dt, shape or self.rand_shape(r))
        return self.pick(ok, fresh, make)

    def pick_any(self, op, tc="T", rank=None, min_rank=0, max_rank=6, pred=lambda v: True,
                 dtypes=None, float_bias=0.85, make_shape=None):
        ts = [t for t in self.types(op, tc) if dtypes is None or t in dtypes]
        if not ts:
            raise Skip(f"{op}: no type")

        def ok(v):
            return (v.dtype in ts and (rank is None or v.rank == rank) and
                    min_rank <= v.rank <= max_rank and pred(v) and
                    (v.dtype in FLOATS + ("int64", "int32", "bool") or self.p(0.5)))

        def make():
            dt = self.pick_dtype(op, tc, among=ts, float_bias=float_bias)
            if make_shape is not None:
                return self.leaf(dt, make_shape())
            r = rank if rank is not None else self.randint(max(min_rank, 1), min(max_rank, 4))
            return self.leaf(dt, self.rand_shape(r))
        return self.pick(ok, None, make)

    # ---- conditioning ------------------------------------------------------------
    def positive(self, v, m=0.1):
        """v, or a chain of ops making it >= m (for Log, Sqrt, Div, Pow)."""
        if v.dtype not in FLOATS:
            raise GenError(f"conditioning {v.dtype}")
        if v.lo >= m and v.hi <= MAX_MAG[v.dtype]:
            return v
        k = self.choice(["absadd", "sigadd", "softplus", "sq"])
        if k == "absadd" or (k == "softplus" and not schema("Softplus", self.opset)):
            (a,) = self.emit("Abs", [self.bounded(v, 100.0)])
        elif k == "sigadd":
            (a,) = self.emit("Sigmoid", [v])
        elif k == "softplus":
            (a,) = self.emit("Softplus", [self.bounded(v, 20.0)])
        else:
            b = self.bounded(v, 10.0)
            (a,) = self.emit("Mul", [b, b])
        (o,) = self.emit("Add", [a, self.scalar(v.dtype, max(m, 0.25) * 2)])
        return o

    def bounded(self, v, r):
        """v, or v squashed into [-r, r] (Exp, Sinh, Asin, float16 ...)."""
        if v.dtype not in FLOATS:
            raise GenError(f"conditioning {v.dtype}")
        if v.lo >= -r and v.hi <= r:
            return v
        k = self.choice(["tanh", "clip", "softsign", "scale"])
        if k == "tanh":
            (t,) = self.emit("Tanh", [v])
        elif k == "softsign":
            (t,) = self.emit("Softsign", [v])
        elif k == "clip":
            if self.opset < 11:
                (t,) = self.emit("Clip", [v], {"min": -r, "max": r})
            else:
                (t,) = self.emit("Clip", [v, self.scalar(v.dtype, -r), self.scalar(v.dtype, r)])
            return t
        else:
            if math.isfinite(v.mag) and v.mag > 0:
                (t,) = self.emit("Mul", [v, self.scalar(v.dtype, r / v.mag)])
                return t
            (t,) = self.emit("Tanh", [v])
        if r == 1.0:
            return t
        (o,) = self.emit("Mul", [t, self.scalar(v.dtype, r * 0.95)])
        return o

    def away_from_zero(self, v, m=0.25):
        if v.lo >= m or v.hi <= -m:
            return v
        return self.positive(v, m)

    # ---- emission -----------------------------------------------------------------
    def emit(self, op, ins, attrs=None, n_out=1, present=None, pool=True, name=None):
        """Adds node op(ins) with attrs; returns the output Vals (None for
        omitted optional outputs). Raises GenError when the node is invalid:
        ops.py must only build valid nodes."""
        attrs = dict(attrs or {})
        if schema(op, self.opset) is None:
            raise GenError(f"{op} does not exist at opset {self.opset}")
        node = inf.N(op, ins, attrs, self.opset, n_out)
        try:
            outs = inf.INFER[op](node)
        except inf.InferError as e:
            # a builder in ops.py asked for an invalid node: nothing is
            # emitted and another op is tried (counted, to keep it rare)
            REJECTED[op] = REJECTED.get(op, 0) + 1
            REJECTED_WHY[op] = str(e)
            raise Skip(f"{op}: {e}") from e
        outs = list(outs) + [None] * (n_out - len(outs))
        present = present or [True] * n_out
        outs = [o if present[k] else None for k, o in enumerate(outs)]
        post_infer(op, ins, outs, self.opset, attrs)
        for v in ins:
            if v is not None:
                v.consumers += 1
        for o in outs:
            if o is None:
                continue
            o.name = self.name()
            if o.dtype in FLOATS and (o.hi > MAX_MAG[o.dtype] or o.lo < -MAX_MAG[o.dtype] or
                                      math.isnan(o.lo)):
                pool_o = False  # too large to build on; may still be an output
            else:
                pool_o = pool
            self.add_val(o, pool=pool_o)
            o.kind = "node"
        onnx_attrs = {}
        for k, a in attrs.items():
            if isinstance(a, np.ndarray):
                onnx_attrs[k] = numpy_helper.from_array(a)
            else:
                onnx_attrs[k] = a
        nd = helper.make_node(op, [v.name if v is not None else "" for v in ins],
                              [o.name if o is not None else "" for o in outs],
                              name=name or f"n{self.n}_{op}", **onnx_attrs)
        self.nodes[self.scope].append(nd)
        self.op_counts[op] = self.op_counts.get(op, 0) + 1
        return outs

    # ---- subgraphs (If) -----------------------------------------------------------
    def begin_scope(self):
        self.scope += 1
        self.nodes.append([])

    def end_scope(self):
        nodes = self.nodes.pop()
        self.pool = [v for v in self.pool if v.scope < self.scope]
        self.scope -= 1
        return nodes

    # ---- the model ------------------------------------------------------------
    def value_info(self, v, shaped=True):
        if shaped and not v.has_sym():
            return vinfo(v.name, v.dtype, v.shape)
        if v.sym is not None:
            return vinfo(v.name, v.dtype, [s if s is not None else d
                                           for s, d in zip(v.sym, v.shape)])
        # rank known, dims unknown (they may follow a dynamic batch)
        return vinfo(v.name, v.dtype, [None] * v.rank)

    def choose_outputs(self):
        main = [v for v in self.vals.values() if v.scope == 0 and v.kind == "node" and
                v.seq is None]
        leaves = [v for v in main if v.consumers == 0]
        outs = list(leaves)
        # values in the middle of a chain that are outputs too
        for v in main:
            if v.consumers > 0 and self.p(0.08):
                outs.append(v)
        if not outs and main:
            outs = [main[-1]]
        if len(outs) > 12:
            keep = list(self.rng.choice(len(outs), 12, replace=False))
            outs = [outs[i] for i in sorted(keep)]
        return outs

    def model(self):
        outs = self.choose_outputs()
        if not outs:
            raise Skip("no node was built")
        dyn = any(v.has_sym() for v in self.inputs)
        used = set()
        for nd in self.nodes[0]:
            used.update(nd.input)
        for sg in self.subgraph_inputs():
            used.update(sg)
        inputs = [v for v in self.inputs if v.name in used]
        inits = [v for v in self.inits if v.name in used or v.name in {o.name for o in outs}]
        g = helper.make_graph(
            self.nodes[0], f"graphgen_{self.seed}",
            [self.value_info(v) for v in inputs],
            [self.value_info(v, shaped=not dyn) for v in outs],
            initializer=[numpy_helper.from_array(np.asarray(v.data_full), v.name)
                         for v in inits])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="ortc-graphgen", producer_version="1")
        m.ir_version = IR_OF_OPSET[self.opset]
        self.out_vals = outs
        self.in_vals = inputs
        return m

    def subgraph_inputs(self):
        res = []
        for nd in self.nodes[0]:
            for a in nd.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    res.append(_graph_refs(a.g))
        return res


def vinfo(name, dtype, dims):
    """A typed value_info whose shape field is present even at rank 0."""
    vi = helper.make_tensor_value_info(name, ONNX_OF[dtype], list(dims))
    vi.type.tensor_type.shape.SetInParent()
    return vi


def _graph_refs(g):
    names = set()
    for nd in g.node:
        names.update(nd.input)
        for a in nd.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                names.update(_graph_refs(a.g))
    for o in g.output:
        names.add(o.name)
    return names


def self_check(model, vals):
    """onnx.checker and strict shape inference must accept the model, and
    every shape ONNX infers must equal the generator's own."""
    onnx.checker.check_model(model)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        v = vals.get(vi.name)
        if v is None or not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        if tt.elem_type and ONNX_OF[v.dtype] != tt.elem_type:
            raise GenError(f"{vi.name}: onnx infers elem type {tt.elem_type}, graphgen {v.dtype}")
        if not tt.HasField("shape"):
            continue
        dims = tt.shape.dim
        if len(dims) != v.rank:
            raise GenError(f"{vi.name}: onnx infers rank {len(dims)}, graphgen {v.shape}")
        for d, mine in zip(dims, v.shape):
            if d.HasField("dim_value") and d.dim_value != mine:
                raise GenError(f"{vi.name} ({v.op}): onnx infers "
                               f"{[x.dim_value or x.dim_param for x in dims]}, graphgen {v.shape}")
    return inferred

