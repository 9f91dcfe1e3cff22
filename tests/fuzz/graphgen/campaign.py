"""campaign.py — the differential-testing loop: generate a graph, run it
through ortc's optimised path, ortc's reference path and (when installed)
ONNX Runtime, classify the outcome, count coverage, and shrink and save
every new kind of disagreement. Used by the ctest batch, by
tools/difffuzz for long campaigns, and by the replay of saved cases.
"""
import collections
import json
import os
import re
import shutil
import time

import numpy as np
import onnx
import onnx.numpy_helper

import analyze
import gen
import known as known_issues
import oracles
from builder import GenError

FINDING_KINDS = ("crash", "hang", "nondeterministic", "input_modified", "io_error")


def reason_key(msg):
    """A refusal message without names, numbers and shapes: one key per
    reason."""
    m = re.sub(r"^\S+\.onnx: ", "", msg)
    m = re.sub(r"'[^']*'", "'…'", m)
    m = re.sub(r"\[[0-9, ]*\]", "[…]", m)
    m = re.sub(r"\b\d+(\.\d+)?\b", "N", m)
    return m[:160]


def op_of_reason(msg):
    m = re.search(r"\(([A-Za-z]+)-\d+\)", msg)
    return m.group(1) if m else "?"


class Outcome:
    def __init__(self):
        self.kind = "ok"  # ok | refused | ort_refused | finding | fragile
        self.findings = []  # [{oracle, kind, ...}]
        self.refusal = None
        self.ort_note = None
        self.worst = {"ref": 0.0, "ort": 0.0}
        self.known = []  # ids of known.KNOWN issues that explain ORT findings

    def add(self, oracle_, kind_, **kw):
        f = dict(kw)
        f.update(oracle=oracle_, kind=kind_)
        self.findings.append(f)
        self.kind = "finding"

    def signature(self):
        f = self.findings[0]
        return f"{f['oracle']}:{f['kind']}:{f.get('op') or '?'}:{f.get('how') or ''}"


class Runner:
    def __init__(self, driver, work, oracle="both", ort_dir=None, allow_npm=False, log=print,
                 timeout=120.0):
        self.work = work
        self.log = log
        os.makedirs(work, exist_ok=True)
        self.opt = oracles.OrtcOracle(driver, "opt", timeout)
        self.ref = oracles.OrtcOracle(driver, "ref", timeout) if oracle in ("reference", "both") \
            else None
        self.ort = None
        self.ort_note = None
        self.ort_version = None
        if oracle in ("ort", "both"):
            found, why = oracles.ensure_ort(ort_dir, allow_npm, log)
            if found:
                self.ort = oracles.OrtOracle(found[0], timeout)
                self.ort_version = found[1]
            else:
                self.ort_note = why
        self.seconds = collections.Counter()
        self.rechecked = 0  # tolerance failures that passed at the path's scale

    def close(self):
        """Problems at exit (an ortc process ending non-zero: a leak or
        sanitizer report), as strings."""
        bad = []
        for o in (self.opt, self.ref, self.ort):
            if o:
                r = o.close()
                if r and r[0] != 0 and o is not self.ort:
                    bad.append(f"{o.name}: exit {r[0]} at the end: {r[1][-2000:]}")
        return bad

    # -- one case -------------------------------------------------------------
    def submit(self, d, case_inputs, threads):
        self.opt.submit(d, threads)
        if self.ref:
            self.ref.submit(d, 1)
        if self.ort:
            self.ort.submit(d, [n for n, _ in case_inputs], 1)

    def collect(self):
        res = {"opt": self.opt.result()}
        if self.ref:
            res["ref"] = self.ref.result()
        if self.ort:
            res["ort"] = self.ort.result()
        for k, r in res.items():
            self.seconds[k] += r.seconds
        return res

    def run_dir(self, d, inputs, threads=1):
        self.submit(d, inputs, threads)
        return self.collect()

    def recheck(self, d, got, want, metas, bad):
        """Outputs over the tolerance are compared again with the scale of
        the values that computed them: a sum that cancels (a mean near 0 of
        values near 1, Sigmoid(-25) = 1e-11) keeps the absolute rounding
        error of its terms, which the output's own magnitude understates.
        The scale is the largest magnitude along the output's upstream
        path, measured by running the graph with every upstream value as an
        output (reference path, else the optimised one). Only tolerance
        failures are rechecked; exact, shape and NaN/Inf ones stand."""
        if not any(m.get("how") == "tolerance" for _, m in bad):
            return bad
        keep = []
        for k, m in bad:
            if m.get("how") != "tolerance":
                keep.append((k, m))
                continue
            ps = self.path_scale(d, k)
            if ps is None:
                keep.append((k, m))
                continue
            metas[k]["path_scale"] = ps
            m2 = oracles.compare_one(got[k], want[k], metas[k])
            if m2 is None or m2["how"] is None:
                self.rechecked += 1
                continue
            m2["output"] = k
            m2["path_scale"] = ps
            keep.append((k, m2))
        return keep

    @staticmethod
    def case_shapes(d, model):
        """{value: shape} of the case in folder d (empty when it cannot be
        analysed)."""
        inputs = []
        i = 0
        while os.path.exists(os.path.join(d, f"in_{i}.npy")):
            inputs.append(np.load(os.path.join(d, f"in_{i}.npy")))
            i += 1
        try:
            return {n: v.shape for n, v in analyze.analyze(model, inputs).items()}
        except Exception:  # noqa: BLE001
            return {}

    def path_scale(self, d, k):
        model = onnx.load(os.path.join(d, "model.onnx"))
        inputs = []
        i = 0
        while os.path.exists(os.path.join(d, f"in_{i}.npy")):
            inputs.append(np.load(os.path.join(d, f"in_{i}.npy")))
            i += 1
        try:
            vals = analyze.analyze(model, inputs)
        except Exception:  # noqa: BLE001
            return None
        names = []
        consts = []
        inits = {i.name: i for i in model.graph.initializer}
        for nd in known_issues.upstream(model, k):
            names += [o for o in nd.output if o and o in vals and vals[o].dtype in
                      oracles.EPS and vals[o].seq is None]  # tensors only
            consts += [onnx.numpy_helper.to_array(inits[i]) for i in nd.input if i in inits]
        names = list(dict.fromkeys(names))
        scale = max([float(np.max(np.abs(a[np.isfinite(a)]))) for a in inputs + consts
                     if a.dtype.kind == "f" and np.isfinite(a).any()] + [0.0])
        if not names:
            return scale
        from onnx import helper
        c = onnx.ModelProto()
        c.CopyFrom(model)
        del c.graph.output[:]
        for n in names:
            c.graph.output.append(helper.make_tensor_value_info(
                n, oracles.ONNX_FLOAT[vals[n].dtype], None))
        pd = d + "_paths"
        shutil.rmtree(pd, ignore_errors=True)
        save_case(pd, c, inputs, {})
        oracle = self.ref or self.opt
        oracle.submit(pd, 1)
        r = oracle.result()
        if r.status != "ok":
            return None
        for a in oracle.outputs(pd, r.n):
            fin = a[np.isfinite(a)] if a.dtype.kind == "f" else a
            if fin.size:
                scale = max(scale, float(np.max(np.abs(fin.astype(np.float64)))))
        return scale

    def classify(self, d, res, metas, expect_ort=None):
        """Outcome of one case from the oracles' results. expect_ort: saved
        ONNX Runtime outputs (replay without Node.js)."""
        out = Outcome()
        opt, ref, ort = res["opt"], res.get("ref"), res.get("ort")
        for name, r in (("opt", opt), ("ref", ref)):
            if r is not None and r.status in FINDING_KINDS:
                out.add("ortc-" + name, r.status, msg=r.msg, stderr=r.stderr[-3000:])
        if out.findings:
            return out
        # a clear UNSUPPORTED (at session creation, when the plan for the
        # input shapes is compiled, or in a run when the nodes after a value
        # of data-dependent size are compiled) is a refusal, counted per reason
        def unsupported(r):
            return r.status in ("refused", "shape_error", "run_error") and \
                r.msg.startswith("UNSUPPORTED")
        if unsupported(opt) and (ref is None or unsupported(ref)):
            out.kind = "refused"
            out.refusal = opt.msg.split(" ", 1)[1] if " " in opt.msg else opt.msg
            return out
        if opt.status == "ok" and ref is not None and unsupported(ref):
            # the passes removed or folded what the reference path cannot run
            # (an If branch not taken, a dead node): still a refusal
            out.kind = "refused"
            out.refusal = "reference path only: " + ref.msg.split(" ", 1)[-1]
            return out
        if ref is not None and (opt.status == "ok") != (ref.status == "ok"):
            bad, other = (opt, "ortc-opt") if opt.status != "ok" else (ref, "ortc-ref")
            out.add(other, "status", how=bad.status, msg=bad.msg[:400],
                    op=op_of_reason(bad.msg))
            return out
        if opt.status != "ok":
            # both ortc paths fail alike on a checker-valid graph
            if ort is None or ort.status == "ok" or expect_ort is not None:
                out.add("ortc", "error", how=opt.status, msg=opt.msg[:400],
                        op=op_of_reason(opt.msg))
            else:
                out.kind = "ort_refused"
                out.ort_note = f"ortc: {opt.msg[:200]} / ort: {ort.msg[:200]}"
            return out
        got = self.opt.outputs(d, opt.n)
        fragile_only = True
        metas = [dict(m) for m in metas]
        if ref is not None:
            want = self.ref.outputs(d, ref.n)
            bad, worst = oracles.compare(got, want, metas)
            bad = self.recheck(d, got, want, metas, bad)
            out.worst["ref"] = worst
            for k, m in bad:
                meta = metas[k] if 0 <= k < len(metas) else {}
                if meta.get("fragile"):
                    continue
                fragile_only = False
                m.update(op=meta.get("op"))
                out.add("ref", "mismatch", **m)
            if bad and fragile_only and not out.findings:
                out.kind = "fragile"
        want_ort = None
        if expect_ort is not None:
            want_ort = expect_ort
        elif ort is not None:
            if ort.status == "ok":
                want_ort = self.ort.outputs(d, ort.n)
            else:
                out.ort_note = f"{ort.status}: {ort.msg[:300]}"
                if out.kind == "ok":
                    out.kind = "ort_refused"
        if want_ort is not None:
            bad, worst = oracles.compare(got, want_ort, metas)
            bad = self.recheck(d, got, want_ort, metas, bad)
            out.worst["ort"] = worst
            model = None
            for k, m in bad:
                meta = metas[k] if 0 <= k < len(metas) else {}
                if meta.get("fragile"):
                    if out.kind == "ok":
                        out.kind = "fragile"
                    continue
                m.update(op=meta.get("op"), oracle="ort")
                if expect_ort is None:
                    if model is None:
                        model = onnx.load(os.path.join(d, "model.onnx"))
                        shapes = self.case_shapes(d, model)
                    kn = known_issues.match(model, m, shapes)
                    if kn:
                        out.known.append(kn.id)
                        if out.kind == "ok":
                            out.kind = "known"
                        continue
                out.add("ort", "mismatch", **m)
        return out


def save_case(d, model, inputs, info, outputs=None):
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, a in enumerate(inputs):
        np.save(os.path.join(d, f"in_{i}.npy"), a)
    for k, a in enumerate(outputs or []):
        np.save(os.path.join(d, f"expected_{k}.npy"), a)
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(info, f, indent=2, sort_keys=True, default=str)
        f.write("\n")


def load_case(d):
    model = onnx.load(os.path.join(d, "model.onnx"))
    inputs = []
    i = 0
    while os.path.exists(os.path.join(d, f"in_{i}.npy")):
        inputs.append(np.load(os.path.join(d, f"in_{i}.npy")))
        i += 1
    with open(os.path.join(d, "case.json")) as f:
        info = json.load(f)
    exp = []
    k = 0
    while os.path.exists(os.path.join(d, f"expected_{k}.npy")):
        exp.append(np.load(os.path.join(d, f"expected_{k}.npy")))
        k += 1
    return model, inputs, info, exp


def input_names(model):
    inits = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


class Stats:
    def __init__(self):
        self.graphs = 0
        self.gen_errors = collections.Counter()
        self.outcomes = collections.Counter()
        self.op_nodes = collections.Counter()
        self.op_graphs = collections.Counter()
        self.builders = collections.Counter()  # ops.GEN builders used (ops and P: patterns)
        self.op_tested = collections.Counter()  # graphs that ran through every oracle
        self.refusals = collections.Counter()
        self.refusal_ops = collections.Counter()
        self.ort_notes = collections.Counter()
        self.findings = collections.Counter()
        self.finding_examples = {}
        self.fragile = 0
        self.known = collections.Counter()
        self.worst = {"ref": [], "ort": []}
        self.opsets = collections.Counter()
        self.gen_seconds = 0.0
        self.t0 = time.time()

    def record(self, case, out):
        self.graphs += 1
        self.opsets[case.opset] += 1
        self.outcomes[out.kind] += 1
        self.builders.update(getattr(case, "builders", {}).keys())
        for op, n in case.ops.items():
            self.op_nodes[op] += n
            self.op_graphs[op] += 1
            if out.kind in ("ok", "finding", "fragile", "known"):
                self.op_tested[op] += 1
        if out.kind == "refused":
            self.refusals[reason_key(out.refusal)] += 1
            self.refusal_ops[op_of_reason(out.refusal)] += 1
        if out.ort_note:
            self.ort_notes[reason_key(out.ort_note)] += 1
        self.known.update(set(out.known))
        for k in ("ref", "ort"):
            if out.worst[k]:
                self.worst[k].append(out.worst[k])
        if out.kind == "finding":
            sig = out.signature()
            self.findings[sig] += 1
            self.finding_examples.setdefault(sig, (case.seed, out.findings[0]))


def run_batch(runner, seeds, stats, deadline=None, on_finding=None, focus_every=3,
              progress=None):
    """Generates and checks one case per seed (pipelined: the next graph is
    generated while the oracles run the current one)."""
    dirs = [os.path.join(runner.work, f"slot{i}") for i in range(2)]
    pending = None  # (case, dir)
    it = iter(seeds)
    n = 0
    while True:
        if deadline and time.time() > deadline:
            seed = None
        else:
            seed = next(it, None)
        case = None
        if seed is not None:
            focus = None
            if focus_every and n % focus_every == 0:
                # coverage steering: the least generated builder so far
                def focus(names):
                    return min(names, key=lambda o: (stats.builders.get(o, 0), o))
            t = time.time()
            try:
                case = gen.generate(seed, focus=focus)
            except GenError as e:
                stats.gen_errors[str(e)[:120]] += 1
                case = None
            except Exception as e:  # noqa: BLE001 - onnx checker / inference refusals
                stats.gen_errors[f"{type(e).__name__}: {str(e)[:120]}"] += 1
                case = None
            stats.gen_seconds += time.time() - t
            n += 1
        if pending:
            pcase, pdir = pending
            res = runner.collect()
            out = runner.classify(pdir, res, pcase.outputs)
            stats.record(pcase, out)
            if out.kind == "finding" and on_finding:
                on_finding(pcase, pdir, out, res)
            if progress:
                progress(stats)
            pending = None
        if case is None:
            if seed is None:
                break
            continue
        d = dirs[n % 2]
        shutil.rmtree(d, ignore_errors=True)
        case.save(d)
        runner.submit(d, case.inputs, case.threads)
        pending = (case, d)
    return stats


def coverage_table(stats, supported=None):
    rows = []
    names = set(stats.op_nodes) | set(supported or [])
    for op in sorted(names):
        rows.append((op, stats.op_graphs.get(op, 0), stats.op_nodes.get(op, 0),
                     stats.op_tested.get(op, 0), stats.refusal_ops.get(op, 0),
                     "" if supported is None or op in supported else "not in ortc"))
    lines = [f"{'op':<24}{'graphs':>8}{'nodes':>9}{'tested':>9}{'refused':>9}  note"]
    for r in rows:
        lines.append(f"{r[0]:<24}{r[1]:>8}{r[2]:>9}{r[3]:>9}{r[4]:>9}  {r[5]}")
    return "\n".join(lines)


def supported_ops(runner, opsets=range(9, 18)):
    """{op: [opsets]} ortc implements, asked of ortc itself (a model with one
    node per ONNX operator, ortc_model_unsupported)."""
    from onnx import helper
    names = sorted({s.name for s in onnx.defs.get_all_schemas_with_history()
                    if s.domain in ("", "ai.onnx")})
    res = collections.defaultdict(list)
    for opset in opsets:
        nodes = []
        for i, n in enumerate(names):
            try:
                s = onnx.defs.get_schema(n, opset)
            except onnx.defs.SchemaError:
                continue
            if not s.deprecated:
                nodes.append(helper.make_node(n, ["x"], [f"y{i}"], name=n))
        g = helper.make_graph(nodes, "probe", [helper.make_tensor_value_info("x", 1, [1])],
                              [helper.make_tensor_value_info(nodes[0].output[0], 1, None)])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        p = os.path.join(runner.work, f"probe{opset}.onnx")
        onnx.save(m, p)
        bad = {op for op, _ in runner.opt.probe(p)}
        for nd in nodes:
            if nd.op_type not in bad:
                res[nd.op_type].append(opset)
    return dict(res)


__all__ = ["Runner", "Stats", "run_batch", "coverage_table", "supported_ops", "save_case",
           "load_case"]
