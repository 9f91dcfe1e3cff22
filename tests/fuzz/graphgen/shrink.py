"""shrink.py — delta debugging of a disagreeing graph: repeatedly tries
smaller variants (fewer outputs, a node dropped with its inputs cut into
graph inputs, a node bypassed by a same-shaped value, dims halved,
attributes back to their defaults, initializers and inputs simplified) and
keeps each one the predicate still calls a disagreement of the same kind,
until none helps. Every candidate must pass onnx.checker, strict shape
inference and graphgen's own analysis before an oracle sees it.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

import analyze
from facts import DTYPE_OF, ONNX_OF


def _clone(m):
    c = onnx.ModelProto()
    c.CopyFrom(m)
    return c


def _inits(m):
    return {i.name for i in m.graph.initializer}


def _real_inputs(m):
    inits = _inits(m)
    return [i for i in m.graph.input if i.name not in inits]


def _subgraph_reads(nd):
    names = set()
    for a in nd.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            for sn in a.g.node:
                names.update(sn.input)
                names.update(_subgraph_reads(sn))
            names.update(o.name for o in a.g.output)
    return names


def dce(m, inputs):
    """Drops nodes, initializers and graph inputs nothing reads (inputs: the
    arrays, kept aligned). Returns a new model; m is not changed."""
    m = _clone(m)
    g = m.graph
    live = {o.name for o in g.output}
    keep = []
    for nd in reversed(list(g.node)):
        if any(o in live for o in nd.output if o):
            keep.append(nd)
            live.update(i for i in nd.input if i)
            live.update(_subgraph_reads(nd))
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    inits = [i for i in g.initializer if i.name in live]
    del g.initializer[:]
    g.initializer.extend(inits)
    init_names = {i.name for i in inits}
    new_in, new_arrays = [], []
    real = [i for i in g.input if i.name not in init_names]
    for vi, arr in zip(real, inputs):
        if vi.name in live:
            new_in.append(vi)
            new_arrays.append(arr)
    kept_inits_inputs = [i for i in g.input if i.name in init_names]
    del g.input[:]
    g.input.extend(new_in + kept_inits_inputs)
    return m, new_arrays


def inputs_match(m, inputs):
    """Every array has its graph input's declared dtype and static dims."""
    real = _real_inputs(m)
    if len(real) != len(inputs):
        return False
    for vi, a in zip(real, inputs):
        tt = vi.type.tensor_type
        a = np.asarray(a)
        if DTYPE_OF.get(tt.elem_type) != str(a.dtype) or len(tt.shape.dim) != a.ndim:
            return False
        for d, n in zip(tt.shape.dim, a.shape):
            if d.HasField("dim_value") and d.dim_value != n:
                return False
    return True


def valid(m, inputs):
    if not inputs_match(m, inputs):
        return False
    try:
        onnx.checker.check_model(m)
        onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
        analyze.analyze(m, inputs)
    except Exception:  # noqa: BLE001 - any refusal rejects the candidate
        return False
    return True


def _rand_like(v, rng):
    if v.dtype == "bool":
        return rng.random(v.shape) < 0.5
    if v.dtype in ONNX_OF and np.dtype(v.dtype).kind in "iu":
        lo = max(int(v.lo), -8) if np.isfinite(v.lo) else 0
        hi = min(int(v.hi), 8) if np.isfinite(v.hi) else 8
        return rng.integers(lo, max(lo, hi) + 1, size=v.shape).astype(v.dtype)
    lo = v.lo if np.isfinite(v.lo) else -1.0
    hi = v.hi if np.isfinite(v.hi) else 1.0
    lo, hi = max(lo, -4.0), min(hi, 4.0)
    if hi < lo:
        lo, hi = v.lo, v.hi
    return rng.uniform(lo, hi, size=v.shape).astype(v.dtype)


def measure(m, inputs):
    """What shrinking decreases, in this order: nodes, elements of inputs and
    initializers, attributes, outputs, distinct data values."""
    arrays = [np.asarray(a) for a in inputs] + [numpy_helper.to_array(i)
                                                for i in m.graph.initializer]
    return (len(m.graph.node), sum(a.size for a in arrays),
            sum(len(n.attribute) for n in m.graph.node), len(m.graph.output),
            sum(len(np.unique(a)) for a in arrays if a.size))


class Shrinker:
    def __init__(self, predicate, log=None, max_tests=300, materialize=None):
        self.pred = predicate  # (model, inputs) -> bool
        self.log = log or (lambda s: None)
        self.max_tests = max_tests
        self.tests = 0
        self.materialize = materialize  # (model, inputs, value) -> array or None
        self.rng = np.random.default_rng(0)

    def test(self, m, inputs):
        if self.tests >= self.max_tests:
            return False
        m, inputs = dce(m, inputs)
        if measure(m, inputs) >= measure(self.m, self.inputs):
            return False  # not smaller: no progress (and no loops)
        if not valid(m, inputs):
            return False
        self.tests += 1
        ok = self.pred(m, inputs)
        return ok

    def accept(self, what, m, inputs):
        m, inputs = dce(m, inputs)
        assert inputs_match(m, inputs), what
        self.m, self.inputs = m, inputs
        self.log(f"shrink: {what}: {len(m.graph.node)} nodes")

    def run(self, m, inputs):
        self.m, self.inputs = dce(_clone(m), list(inputs))
        progress = True
        while progress and self.tests < self.max_tests:
            progress = False
            for step in (self.outputs, self.cut_nodes, self.bypass_nodes, self.attrs,
                         self.dims, self.simplify_data):
                if step():
                    progress = True
        return self.m, self.inputs

    # -- steps -----------------------------------------------------------------
    def outputs(self):
        g = self.m.graph
        if len(g.output) <= 1:
            return False
        for k in range(len(g.output)):
            c = _clone(self.m)
            keep = c.graph.output[k]
            del c.graph.output[:]
            c.graph.output.append(keep)
            if self.test(c, list(self.inputs)):
                self.accept(f"only output {keep.name}", c, list(self.inputs))
                return True
        # drop one output at a time
        for k in range(len(g.output)):
            c = _clone(self.m)
            del c.graph.output[k]
            if self.test(c, list(self.inputs)):
                self.accept("dropped an output", c, list(self.inputs))
                return True
        return False

    def _cut(self, m, inputs, idx, datas):
        """Node idx goes; each of its outputs becomes a graph input fed the
        given data (real values from an oracle, or random)."""
        c = _clone(m)
        nd = c.graph.node[idx]
        real = _real_inputs(c)
        pos = len(real)
        new_inputs = list(inputs)
        for o, data in zip(nd.output, datas):
            if not o or data is None:
                continue
            vi = helper.make_tensor_value_info(o, ONNX_OF[str(data.dtype)], list(data.shape))
            c.graph.input.insert(pos, vi)
            pos += 1
            new_inputs.append(data)
        del c.graph.node[idx]
        return c, new_inputs

    def cut_nodes(self):
        """Replace a node by graph inputs carrying (real or random) data."""
        changed = False
        i = len(self.m.graph.node) - 1
        while i >= 0 and self.tests < self.max_tests:
            nodes = self.m.graph.node
            if i >= len(nodes):
                i = len(nodes) - 1
                continue
            nd = nodes[i]
            try:
                vals = analyze.analyze(self.m, self.inputs)
            except Exception:  # noqa: BLE001
                return changed
            for how in ("real", "random"):
                datas = []
                for o in nd.output:
                    v = vals.get(o) if o else None
                    if v is None:
                        datas.append(None)
                    elif how == "real":
                        datas.append(self.materialize(self.m, self.inputs, o)
                                     if self.materialize else None)
                    else:
                        datas.append(_rand_like(v, self.rng))
                if how == "real" and any(d is None for o, d in zip(nd.output, datas) if o):
                    continue
                c, ins = self._cut(self.m, self.inputs, i, [None if d is None else np.asarray(d)
                                                            for d in datas])
                if self.test(c, ins):
                    self.accept(f"cut {nd.op_type} ({how} data)", c, ins)
                    changed = True
                    break
            i -= 1
        return changed

    def bypass_nodes(self):
        """Rewire the readers of a node's output to a same-shaped value
        defined earlier (often the node's own input)."""
        changed = False
        i = len(self.m.graph.node) - 1
        while i >= 0 and self.tests < self.max_tests:
            nodes = self.m.graph.node
            if i >= len(nodes):
                i = len(nodes) - 1
                continue
            try:
                vals = analyze.analyze(self.m, self.inputs)
            except Exception:  # noqa: BLE001
                return changed
            nd = nodes[i]
            earlier = [n for n in nd.input if n]
            for prev in list(nodes)[:i]:
                earlier += [o for o in prev.output if o]
            earlier += [vi.name for vi in self.m.graph.input]
            done = False
            for o in nd.output:
                v = vals.get(o)
                if v is None:
                    continue
                cands = [e for e in dict.fromkeys(earlier) if e in vals and e != o and
                         vals[e].dtype == v.dtype and vals[e].shape == v.shape]
                for e in cands[:4]:
                    c = _clone(self.m)
                    for n2 in c.graph.node:
                        for k, x in enumerate(n2.input):
                            if x == o:
                                n2.input[k] = e
                    for out in c.graph.output:
                        if out.name == o:
                            # graph outputs keep their name: an Identity of e
                            n3 = [n for n in c.graph.node if o in n.output][0]
                            idx = list(c.graph.node).index(n3)
                            c.graph.node.remove(n3)
                            c.graph.node.insert(idx, helper.make_node("Identity", [e], [o],
                                                                       name=n3.name + "_id"))
                            break
                    if self.test(c, list(self.inputs)):
                        self.accept(f"bypassed {nd.op_type} with {e}", c, list(self.inputs))
                        done = changed = True
                        break
                if done:
                    break
            i -= 1
        return changed

    def attrs(self):
        changed = False
        for i in range(len(self.m.graph.node)):
            j = 0
            while i < len(self.m.graph.node) and j < len(self.m.graph.node[i].attribute):
                nd = self.m.graph.node[i]
                a = nd.attribute[j]
                if a.type == onnx.AttributeProto.GRAPH:
                    j += 1
                    continue
                c = _clone(self.m)
                del c.graph.node[i].attribute[j]
                if self.test(c, list(self.inputs)):
                    self.accept(f"dropped {nd.op_type}.{a.name}", c, list(self.inputs))
                    changed = True
                else:
                    j += 1
        return changed

    def dims(self):
        """Halve a dim size everywhere it appears (inputs, initializers and
        int64 shape constants), or in one tensor only."""
        sizes = set()
        for arr in self.inputs:
            sizes.update(d for d in np.shape(arr) if d > 1)
        for init in self.m.graph.initializer:
            sizes.update(d for d in init.dims if d > 1)
        changed = False
        for s in sorted(sizes, reverse=True):
            for new in sorted({1, s // 2}, reverse=True):
                c, ins = self._resize_everywhere(s, new)
                if c is not None and self.test(c, ins):
                    self.accept(f"dim {s} -> {new}", c, ins)
                    changed = True
                    break
        # one tensor's one dim
        for t in range(len(self.inputs)):
            for ax, d in enumerate(np.shape(self.inputs[t])):
                if d <= 1 or self.tests >= self.max_tests:
                    continue
                ins = list(self.inputs)
                ins[t] = np.take(ins[t], np.arange(d // 2), axis=ax)
                c = _clone(self.m)
                vi = _real_inputs(c)[t]
                vi.type.tensor_type.shape.dim[ax].ClearField("dim_param")
                vi.type.tensor_type.shape.dim[ax].dim_value = d // 2
                self._clear_output_shapes(c)
                if self.test(c, ins):
                    self.accept(f"input {t} dim {ax}: {d} -> {d // 2}", c, ins)
                    changed = True
        return changed

    @staticmethod
    def _clear_output_shapes(c):
        for o in c.graph.output:
            tt = o.type.tensor_type
            if tt.HasField("shape"):
                for dd in tt.shape.dim:
                    dd.ClearField("dim_value")
                    dd.ClearField("dim_param")
        del c.graph.value_info[:]

    def _resize_everywhere(self, s, new):
        c = _clone(self.m)
        ins = []
        for t, arr in enumerate(self.inputs):
            a = np.asarray(arr)
            for ax, d in enumerate(a.shape):
                if d == s:
                    a = np.take(a, np.arange(new), axis=ax)
            ins.append(a)
            vi = _real_inputs(c)[t]
            for ax, dd in enumerate(vi.type.tensor_type.shape.dim):
                if dd.HasField("dim_value") and dd.dim_value == s:
                    dd.dim_value = new
        for init in c.graph.initializer:
            a = numpy_helper.to_array(init)
            if a.dtype == np.int64 and a.ndim == 1 and a.size <= 8:
                a = np.where(a == s, new, a)
            else:
                for ax, d in enumerate(a.shape):
                    if d == s:
                        a = np.take(a, np.arange(new), axis=ax)
            init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(a), init.name))
        self._clear_output_shapes(c)
        return c, ins

    def simplify_data(self):
        """Inputs and initializers replaced by rounder, smaller values."""
        changed = False
        for t in range(len(self.inputs)):
            a = np.asarray(self.inputs[t])
            if a.dtype.kind != "f" or a.size == 0:
                continue
            for how, b in (("ones", np.ones_like(a)), ("quarters", np.round(a * 4) / 4)):
                if np.array_equal(a, b):
                    continue
                ins = list(self.inputs)
                ins[t] = b.astype(a.dtype)
                if self.test(_clone(self.m), ins):
                    self.accept(f"input {t} -> {how}", _clone(self.m), ins)
                    changed = True
                    break
        for k in range(len(self.m.graph.initializer)):
            init = self.m.graph.initializer[k]
            a = numpy_helper.to_array(init)
            if a.dtype.kind != "f" or a.size == 0:
                continue
            for how, b in (("ones", np.ones_like(a)), ("quarters", np.round(a * 4) / 4)):
                if np.array_equal(a, b):
                    continue
                c = _clone(self.m)
                c.graph.initializer[k].CopyFrom(numpy_helper.from_array(b.astype(a.dtype),
                                                                        init.name))
                if self.test(c, list(self.inputs)):
                    self.accept(f"initializer {init.name} -> {how}", c, list(self.inputs))
                    changed = True
                    break
        return changed


def shrink(model, inputs, predicate, log=None, max_tests=300, materialize=None):
    s = Shrinker(predicate, log, max_tests, materialize)
    m, ins = s.run(model, inputs)
    return m, ins, s.tests


__all__ = ["shrink", "dce", "valid"]
