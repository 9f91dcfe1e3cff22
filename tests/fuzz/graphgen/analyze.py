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
