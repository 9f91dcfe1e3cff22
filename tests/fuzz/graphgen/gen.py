"""gen.py — generate(seed) -> Case: one random valid ONNX model with its
input data and, per output, what the comparison needs (exact or not, depth,
fragile). Picks operators and patterns the opset offers (ops.GEN), weighted
towards what the passes rewrite, until the node budget is spent; a builder
that cannot use the current pool raises Skip and another is tried.
Deterministic: the same seed (and options) gives the same bytes.
"""
import os

import numpy as np

import ops
import patterns  # noqa: F401 - registers the P: builders
from builder import Builder, GenError, Skip, self_check


class Case:
    def __init__(self, model, inputs, outputs, seed, opset, ops_used, threads, focus=None):
        self.model = model
        self.inputs = inputs  # [(name, np.ndarray)] in graph-input order
        self.outputs = outputs  # [{name, dtype, exact, depth, fragile}] in output order
        self.seed = seed
        self.opset = opset
        self.ops = ops_used  # {op type: count}
        self.threads = threads
        self.focus = focus

    def save(self, d):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(self.model.SerializeToString())
        for i, (_, a) in enumerate(self.inputs):
            np.save(os.path.join(d, f"in_{i}.npy"), a)


def op_names(opset):
    return [n for n in ops.GEN if ops.available(n, opset)]


def generate(seed, opset=None, focus=None, max_nodes=None, check=True):
    """focus: an op or pattern name built first (coverage steering), or a
    function choosing one from the names the graph's opset offers."""
    b = Builder(seed, opset=opset, max_nodes=max_nodes)
    names = op_names(b.opset)
    w = np.array([ops.GEN[n][1] for n in names], dtype=np.float64)
    w /= w.sum()
    attempts = 0
    used = {}
    if callable(focus):
        focus = focus(names)
    first = focus if focus in names else None
    while len(b.nodes[0]) < b.max_nodes and attempts < 60 and b.flops < b.flop_cap * 3:
        attempts += 1
        name = first or names[int(b.rng.choice(len(names), p=w))]
        first = None
        try:
            n_before = len(b.nodes[0])
            ops.GEN[name][0](b)
            if len(b.nodes[0]) > n_before:
                used[name] = used.get(name, 0) + 1
        except Skip:
            continue
    for v in b.outputs_extra:
        v.consumers = max(v.consumers, 1)
    model = b.model()
    extra = []
    for v in b.outputs_extra:  # once each: ortc refuses an output listed twice
        if v.scope == 0 and v.kind == "node" and v not in b.out_vals and v not in extra:
            extra.append(v)
    if extra:
        from builder import vinfo
        dyn = any(v.has_sym() for v in b.inputs)
        for v in extra:
            model.graph.output.append(vinfo(v.name, v.dtype, [None] * v.rank if dyn
                                            else v.shape))
        b.out_vals = b.out_vals + extra
    if check:
        self_check(model, b.vals)
    outs = [{"name": v.name, "dtype": v.dtype, "exact": bool(v.exact), "depth": int(v.depth),
             "fragile": bool(v.fragile), "op": v.op, "prec": v.prec, "qstep": bool(v.qstep)} for v in b.out_vals]
    inputs = [(v.name, np.asarray(v.data_full)) for v in b.in_vals]
    threads = int(b.rng.choice([1, 1, 2]))
    case = Case(model, inputs, outs, seed, b.opset, dict(b.op_counts), threads, focus)
    case.builders = used
    return case


__all__ = ["Case", "GenError", "generate", "op_names"]
