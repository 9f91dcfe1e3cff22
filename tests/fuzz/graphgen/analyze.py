"""analyze.py — recomputes the generator's facts (facts.Val) for any ONNX
model the generator could have built, from the model and its input data:
used when a shrunk or saved graph is compared (which outputs are exact,
their depth, which are fragile) and to refuse shrink candidates that are
invalid (infer.InferError) before any oracle sees them.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

import infer as inf
from builder import post_infer
from facts import DTYPE_OF, InferError, Val, bounds_of_data, grid_of_data


def attrs_of(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode() for x in v]
        out[a.name] = v
    return out


def leaf_val(name, arr, kind):
    arr = np.asarray(arr)
    dt = str(arr.dtype)
    v = Val(name, dt, arr.shape, *bounds_of_data(arr), True, grid_of_data(arr, dt), kind=kind)
    v.distinct = arr.size == len(np.unique(arr))
    v.data_full = arr
    if kind == "init":
        v.data = arr
    return v


def _graph(g, vals, opset):
    for init in g.initializer:
        vals[init.name] = leaf_val(init.name, numpy_helper.to_array(init), "init")
    for nd in g.node:
        ins = [vals[n] if n else None for n in nd.input]
        if any(n and n not in vals for n in nd.input):
            raise InferError(f"node {nd.name}: unknown input")
        attrs = attrs_of(nd)
        if nd.op_type == "If":
            outs = _if(nd, ins, attrs, vals, opset)
        elif nd.op_type == "Loop":
            outs = loop_facts(attrs["body"], ins, vals, opset, len(nd.output))
        elif nd.op_type == "Scan":
            outs = scan_facts(attrs, ins, vals, opset, len(nd.output))
        elif nd.op_type == "SequenceMap":
            outs = seqmap_facts(attrs["body"], ins, vals, opset)
        else:
            if nd.op_type not in inf.INFER:
                raise InferError(f"{nd.op_type} is not one graphgen knows")
            node = inf.N(nd.op_type, [v for v in ins], attrs, opset, len(nd.output))
            outs = list(inf.INFER[nd.op_type](node)) + [None] * len(nd.output)
            outs = outs[:len(nd.output)]
            outs = [o if nd.output[k] else None for k, o in enumerate(outs)]
            post_infer(nd.op_type, ins, outs, opset, attrs)
        for name, o in zip(nd.output, outs):
            if name and o is not None:
                o.name = name
                vals[name] = o
    return vals


def _if(nd, ins, attrs, vals, opset):
    branches = []
    for key in ("then_branch", "else_branch"):
        sub = _graph(attrs[key], _Chain(vals), opset)
        branches.append([sub[o.name] for o in attrs[key].output])
    outs = []
    for t, e in zip(*branches):
        if t.dtype != e.dtype:
            raise InferError("If branches differ in dtype")
        o = Val(None, t.dtype, t.shape if t.shape == e.shape else t.shape, min(t.lo, e.lo),
                max(t.hi, e.hi), False)
        o.depth = max(t.depth, e.depth)
        o.fragile = t.fragile or e.fragile or ins[0].fragile or not ins[0].exact
        o.op = "If"
        o.prec = t.prec if t.prec == e.prec else "float16" if "float16" in (t.prec, e.prec) \
            else "float32"
        outs.append(o)
    return outs


def loop_facts(body, ins, vals, opset, n_out):
    """Loop's output facts: the body's facts iteration by iteration (the
    trip count and the condition must be known; the body's condition output
    must repeat its input, as graphgen builds it)."""
    trip, cond = ins[0], ins[1] if len(ins) > 1 else None
    if trip is None or trip.data is None:
        raise InferError("Loop: trip count unknown at build time")
    if cond is not None and (cond.data is None or not bool(np.asarray(cond.data).reshape(-1)[0])):
        raise InferError("Loop: condition must be a known true")
    m = int(np.asarray(trip.data).reshape(-1)[0])
    carried = list(ins[2:])
    n_carried = len(carried)
    if len(body.input) != 2 + n_carried or len(body.output) < 1 + n_carried:
        raise InferError("Loop: body inputs/outputs do not match")
    if any(v is None for v in carried):
        raise InferError("Loop: a missing loop-carried value")
    scans = [[] for _ in range(len(body.output) - 1 - n_carried)]
    state = carried
    for i in range(m):
        sub = _Chain(vals)
        it = Val(body.input[0].name, "int64", (), i, i, True)
        it.data = it.data_full = np.array(i, np.int64)
        cv = Val(body.input[1].name, "bool", (), 1, 1, True)
        cv.data = cv.data_full = np.array(True)
        dict.__setitem__(sub, it.name, it)
        dict.__setitem__(sub, cv.name, cv)
        for vi, v in zip(body.input[2:], state):
            w = Val(vi.name, v.dtype, v.shape, v.lo, v.hi, v.exact, v.grid)
            w.depth, w.fragile, w.prec, w.op = v.depth, v.fragile, v.prec, v.op
            dict.__setitem__(sub, vi.name, w)
        _graph(body, sub, opset)
        outs = [sub[o.name] for o in body.output]
        if not any(nd.op_type == "Identity" and list(nd.input) == [body.input[1].name] and
                   list(nd.output) == [body.output[0].name] for nd in body.node):
            raise InferError("Loop: the body's condition must be Identity(its input)")
        new = outs[1:1 + n_carried]
        for a, b in zip(state, new):
            if a.dtype != b.dtype or a.shape != b.shape:
                raise InferError("Loop: a loop-carried value changes type or shape")
        state = new
        for k, v in enumerate(outs[1 + n_carried:]):
            scans[k].append(v)
    res = []
    for v in state:
        o = Val(None, v.dtype, v.shape, v.lo, v.hi, v.exact, v.grid)
        o.depth, o.fragile, o.prec = v.depth, v.fragile, v.prec
        res.append(o)
    for k, per in enumerate(scans):
        if not per:
            raise InferError("Loop: scan outputs of zero iterations")
        f = per[0]
        if any(v.shape != f.shape for v in per):
            raise InferError("Loop: scan output shapes differ between iterations")
        o = Val(None, f.dtype, (m,) + f.shape, min(v.lo for v in per), max(v.hi for v in per),
                all(v.exact for v in per))
        o.depth = max(v.depth for v in per)
        o.fragile = any(v.fragile for v in per)
        o.prec = f.prec
        res.append(o)
    for o in res:
        o.op = "Loop"
        o.fragile = o.fragile or any(v is not None and v.fragile for v in ins)
    return (res + [None] * n_out)[:n_out]


def _copy_facts(name, v, shape=None):
    w = Val(name, v.dtype, v.shape if shape is None else shape, v.lo, v.hi, v.exact, v.grid)
    w.depth, w.fragile, w.prec, w.op = v.depth, v.fragile, v.prec, v.op
    return w


def scan_facts(attrs, ins, vals, opset, n_out):
    """Scan's (opset 9+) output facts: the body's, iteration by iteration
    over slices of the scan inputs (their facts are the whole input's)."""
    if opset < 9:
        raise InferError("Scan-8 is not generated")
    body = attrs["body"]
    nsi = attrs.get("num_scan_inputs")
    if nsi is None or nsi < 1 or nsi > len(ins) or any(v is None for v in ins):
        raise InferError("Scan: num_scan_inputs")
    n_state = len(ins) - nsi
    states, xs = list(ins[:n_state]), list(ins[n_state:])
    axes = list(attrs.get("scan_input_axes", [0] * nsi))
    if len(axes) != nsi or len(body.input) != n_state + nsi:
        raise InferError("Scan: body inputs or scan_input_axes do not match")
    axes = [inf.norm_axis(a, x.rank) for a, x in zip(axes, xs)]
    lens = {x.shape[a] for a, x in zip(axes, xs)}
    if len(lens) != 1 or 0 in lens:
        raise InferError("Scan: scan inputs of different or zero lengths")
    n_iter = lens.pop()
    n_scan_out = len(body.output) - n_state
    if n_scan_out < 0 or n_out != n_state + n_scan_out:
        raise InferError("Scan: body outputs do not match")
    oaxes = list(attrs.get("scan_output_axes", [0] * n_scan_out))
    if len(oaxes) != n_scan_out:
        raise InferError("Scan: scan_output_axes")
    per = [[] for _ in range(n_scan_out)]
    for _ in range(n_iter):
        sub = _Chain(vals)
        for vi, v in zip(body.input[:n_state], states):
            dict.__setitem__(sub, vi.name, _copy_facts(vi.name, v))
        for vi, x, a in zip(body.input[n_state:], xs, axes):
            dict.__setitem__(sub, vi.name, _copy_facts(vi.name, x, x.shape[:a] + x.shape[a + 1:]))
        _graph(body, sub, opset)
        outs = [sub[o.name] for o in body.output]
        for a, b in zip(states, outs[:n_state]):
            if a.dtype != b.dtype or a.shape != b.shape:
                raise InferError("Scan: a state changes type or shape")
        states = outs[:n_state]
        for k, v in enumerate(outs[n_state:]):
            per[k].append(v)
    res = [_copy_facts(None, v) for v in states]
    for k, vs in enumerate(per):
        f = vs[0]
        if any(v.shape != f.shape for v in vs):
            raise InferError("Scan: scan output shapes differ between iterations")
        a = inf.norm_axis(oaxes[k], f.rank + 1)
        o = Val(None, f.dtype, f.shape[:a] + (n_iter,) + f.shape[a:], min(v.lo for v in vs),
                max(v.hi for v in vs), all(v.exact for v in vs))
        o.depth = max(v.depth for v in vs)
        o.fragile = any(v.fragile for v in vs)
        o.prec = f.prec
        res.append(o)
    for o in res:
        o.op = "Scan"
        o.fragile = o.fragile or any(v.fragile for v in ins)
    return res


def seqmap_facts(body, ins, vals, opset):
    """SequenceMap's output sequences: the body's facts element by element
    (one input sequence, any number of output sequences)."""
    if len(ins) != 1 or ins[0] is None or ins[0].seq is None or ins[0].optional or \
            len(body.input) != 1:
        raise InferError("SequenceMap: one input sequence")
    s = ins[0]
    per = [[] for _ in body.output]
    for e in s.seq:
        sub = _Chain(vals)
        dict.__setitem__(sub, body.input[0].name, _copy_facts(body.input[0].name, e))
        _graph(body, sub, opset)
        for k, o in enumerate(body.output):
            v = sub[o.name]
            if v.seq is not None:
                raise InferError("SequenceMap: a body output that is not a tensor")
            per[k].append(_copy_facts(None, v))
    outs = []
    for k, o in enumerate(body.output):
        dt = per[k][0].dtype if per[k] else s.dtype
        outs.append(inf._seq_val(dt, per[k]))
    return outs


class _Chain(dict):
    """A subgraph's values, falling back to the enclosing scope's."""

    def __init__(self, outer):
        super().__init__()
        self.outer = outer

    def __missing__(self, k):
        return self.outer[k]

    def __contains__(self, k):
        return dict.__contains__(self, k) or k in self.outer


def analyze(model, inputs):
    """{value name: Val}; inputs: arrays in graph-input order. Raises
    InferError when the model is not one the generator's rules accept."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    vals = {}
    inits = {i.name for i in model.graph.initializer}
    real = [i for i in model.graph.input if i.name not in inits]
    if len(real) != len(inputs):
        raise InferError(f"{len(real)} graph inputs, {len(inputs)} arrays")
    for vi, arr in zip(real, inputs):
        want = DTYPE_OF.get(vi.type.tensor_type.elem_type)
        if want != str(np.asarray(arr).dtype):
            raise InferError(f"input {vi.name}: {want} declared, {np.asarray(arr).dtype} given")
        vals[vi.name] = leaf_val(vi.name, arr, "input")
    return _graph(model.graph, vals, opset)


def output_metas(model, inputs):
    vals = analyze(model, inputs)
    res = []
    for o in model.graph.output:
        v = vals[o.name]
        res.append({"name": o.name, "dtype": v.dtype, "exact": bool(v.exact),
                    "depth": int(v.depth), "fragile": bool(v.fragile), "op": v.op,
                    "prec": v.prec, "qstep": bool(v.qstep)})
    return res
