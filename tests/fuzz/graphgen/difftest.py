#!/usr/bin/python3
"""difftest.py — differential testing of ortc on random valid ONNX graphs
(tests/fuzz/graphgen). Subcommands:

  batch     a fixed-seed batch (ctest fuzz.difftest.batch): every graph
            against the reference path, and against ONNX Runtime when
            onnxruntime-node is installed; exit 1 on any disagreement
  campaign  a long run (tools/difffuzz): graphs tried, ops covered,
            disagreements shrunk and saved, a per-op coverage table
  replay    every saved case under tests/fuzz/regressions/graphs
            (ctest fuzz.difftest.replay): a case is fixed when it agrees
  corpus    write N generated models (libFuzzer seed corpus)
  gen       write one case (model.onnx, in_<i>.npy) for a seed
  shrink    shrink a saved case folder again and save it elsewhere

Oracles: ortc's optimised path (the default session) is the one under test;
the reference is ortc with optimize=0 and reference=1 (no graph passes,
plain-C kernels) and ONNX Runtime 1.30 (onnxruntime-node, graph
optimisations off). Exit codes: 0 all agree, 1 a disagreement or a crash,
2 usage or setup error.
"""
import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402

import analyze  # noqa: E402
import campaign as cp  # noqa: E402
import gen  # noqa: E402
import shrink as sh  # noqa: E402
from builder import REJECTED  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
REGRESSIONS = os.path.join(ROOT, "tests", "fuzz", "regressions", "graphs")


def log(msg):
    print(msg, flush=True)


def make_runner(a, oracle=None):
    ort_dir = a.ort_dir or os.path.join(os.path.dirname(os.path.dirname(
        os.path.dirname(a.driver))), "ort-node")
    r = cp.Runner(a.driver, a.work, oracle or a.oracle, ort_dir, not a.no_npm, log,
                  timeout=a.timeout)
    return r


def oracle_line(r):
    parts = ["ortc optimised path (under test)"]
    if r.ref:
        parts.append("ortc reference path (optimize=0, reference=1)")
    if r.ort:
        parts.append(f"ONNX Runtime {r.ort_version} (onnxruntime-node)")
    line = "oracles: " + " vs ".join(parts)
    if r.ort_note:
        line += f"\nONNX Runtime NOT used: {r.ort_note}"
    return line


# ---- findings: shrink and save -------------------------------------------------

def _same_finding(out, want):
    for f in out.findings:
        if f["oracle"] == want["oracle"] and f["kind"] == want["kind"] and \
                f.get("how") == want.get("how"):
            return True
    return False


def make_predicate(runner, want, work, threads=1):
    """Whether a candidate still shows `want` (same oracle, kind and how),
    run with the original case's kernel threads (a bug may need 2)."""
    d = os.path.join(work, "shrink")

    def pred(m, inputs):
        shutil.rmtree(d, ignore_errors=True)
        cp.save_case(d, m, inputs, {})
        try:
            metas = analyze.output_metas(m, inputs)
        except Exception:  # noqa: BLE001
            return False
        res = runner.run_dir(d, [(n, None) for n in cp.input_names(m)], threads)
        out = runner.classify(d, res, metas)
        return _same_finding(out, want)
    return pred


def make_materialize(runner, work):
    d = os.path.join(work, "materialize")
    oracle = runner.ref or runner.opt

    def mat(m, inputs, value):
        c = onnx.ModelProto()
        c.CopyFrom(m)
        del c.graph.output[:]
        c.graph.output.append(onnx.helper.make_tensor_value_info(value, 0, None))
        vals = analyze.analyze(m, inputs)
        v = vals[value]
        from facts import ONNX_OF
        c.graph.output[0].type.tensor_type.elem_type = ONNX_OF[v.dtype]
        c, ins = sh.dce(c, list(inputs))
        shutil.rmtree(d, ignore_errors=True)
        cp.save_case(d, c, ins, {})
        oracle.submit(d, 1)
        r = oracle.result()
        if r.status != "ok":
            return None
        return oracle.outputs(d, 1)[0]
    return mat


def handle_finding(runner, a, case, d, out, res, saved, stats_extra):
    sig = out.signature()
    want = out.findings[0]
    raw = os.path.join(a.work, "findings", sig.replace(":", "_").replace("/", "_"),
                       str(case.seed))
    model = onnx.load(os.path.join(d, "model.onnx"))
    inputs = [arr for _, arr in case.inputs]
    info = {"seed": case.seed, "opset": case.opset, "oracle": want["oracle"],
            "kind": want["kind"], "finding": want, "threads": case.threads,
            "signature": sig, "nodes": len(model.graph.node)}
    cp.save_case(raw, model, inputs, info)
    log(f"FINDING seed {case.seed} opset {case.opset}: {sig}: "
        f"{json.dumps(want, default=str)[:400]}")
    if saved[sig] >= a.shrink_per_signature:
        return
    saved[sig] += 1
    t0 = time.time()
    pred = make_predicate(runner, want, a.work, case.threads)
    m2, in2, tests = sh.shrink(model, inputs, pred, log=log if a.verbose else None,
                               max_tests=a.shrink_tests,
                               materialize=make_materialize(runner, a.work))
    # the final case, run once more for its record and expected outputs
    fd = os.path.join(a.work, "final")
    shutil.rmtree(fd, ignore_errors=True)
    cp.save_case(fd, m2, in2, {})
    metas = analyze.output_metas(m2, in2)
    res2 = runner.run_dir(fd, [(n, None) for n in cp.input_names(m2)], case.threads)
    out2 = runner.classify(fd, res2, metas)
    # ONNX Runtime's outputs stand in for it at replay (no Node.js needed);
    # a reference-path case needs nothing saved: the replay runs that path
    expected = []
    if want["oracle"] == "ort" and res2.get("ort") and res2["ort"].status == "ok":
        expected = runner.ort.outputs(fd, res2["ort"].n)
    ops_in = sorted({n.op_type for n in m2.graph.node})
    name = f"{want['oracle']}-{want['kind']}-{'-'.join(ops_in)[:60] or 'empty'}-s{case.seed}"
    dest = os.path.join(a.save, name) if a.save else os.path.join(a.work, "shrunk", name)
    info.update({
        "nodes_before": len(model.graph.node), "nodes": len(m2.graph.node),
        "ops": ops_in, "shrink_tests": tests, "shrink_seconds": round(time.time() - t0, 1),
        "finding_after_shrink": out2.findings[0] if out2.findings else None,
        "expected_from": want["oracle"] if expected else None,
        "status": "open",
        "found_by": f"tools/difffuzz --seed {a.seed} --oracle {a.oracle} (graph seed "
                    f"{case.seed})",
    })
    cp.save_case(dest, m2, in2, info, expected)
    stats_extra["shrunk"].append((sig, dest, len(model.graph.node), len(m2.graph.node)))
    log(f"  shrunk {len(model.graph.node)} -> {len(m2.graph.node)} nodes ({ops_in}) in "
        f"{tests} tests, {time.time() - t0:.0f} s: {dest}")


# ---- reports ----------------------------------------------------------------

def report(stats, runner, wall, supported=None, extra=None, as_json=None):
    n = stats.graphs
    log(f"\n== {n} graphs in {wall:.1f} s: {n / max(wall, 1e-9):.2f} graphs/s "
        f"(generation {stats.gen_seconds:.1f} s; oracle busy time: " +
        ", ".join(f"{k} {v:.1f} s ({n / max(v, 1e-9):.1f}/s)" for k, v in runner.seconds.items())
        + ")")
    log("outcomes: " + ", ".join(f"{k} {v}" for k, v in stats.outcomes.most_common()))
    log("opsets: " + ", ".join(f"{k}:{v}" for k, v in sorted(stats.opsets.items())))
    if stats.gen_errors:
        log(f"generator errors: {sum(stats.gen_errors.values())}")
        for k, v in stats.gen_errors.most_common(10):
            log(f"  {v:5d}  {k}")
    if REJECTED:
        log("nodes the builders asked for and infer.py refused (not emitted): " +
            ", ".join(f"{k} {v}" for k, v in sorted(REJECTED.items(), key=lambda x: -x[1])[:12]))
    covered = sorted(stats.op_graphs)
    log(f"op types covered: {len(covered)}; tested through every oracle: "
        f"{len([o for o in covered if stats.op_tested.get(o)])}")
    if supported is not None:
        missing = sorted(set(supported) - set(covered))
        log(f"ortc supports {len(supported)} op types; never generated: {missing or 'none'}")
    if stats.refusals:
        log("ortc refused (UNSUPPORTED at load), by reason:")
        for k, v in stats.refusals.most_common(25):
            log(f"  {v:5d}  {k}")
    if stats.ort_notes:
        log("ONNX Runtime refused or failed (checker-valid graphs; spec questions, not ortc "
            "failures):")
        for k, v in stats.ort_notes.most_common(25):
            log(f"  {v:5d}  {k}")
    for k in ("ref", "ort"):
        w = stats.worst[k]
        if w:
            q = np.quantile(np.array(w), [0.5, 0.99, 1.0])
            log(f"agreeing outputs vs {k}: worst |diff|/max|out| per graph: median {q[0]:.2e}, "
                f"99% {q[1]:.2e}, max {q[2]:.2e}")
    if stats.known:
        log("disagreements with ONNX Runtime explained by known ONNX Runtime deviations or spec "
            "questions (tests/fuzz/graphgen/known.py):")
        for k, v in stats.known.most_common():
            log(f"  {v:5d}  {k}")
    log(f"outputs over the tolerance at their own scale that agreed at their path's scale "
        f"(cancellation): {runner.rechecked}")
    log(f"fragile outputs that differed (discontinuity after inexact values; not counted): "
        f"{stats.outcomes.get('fragile', 0)}")
    log(f"disagreements: {sum(stats.findings.values())} in {len(stats.findings)} kinds")
    for sig, cnt in stats.findings.most_common():
        seed, f = stats.finding_examples[sig]
        log(f"  {cnt:5d}  {sig}  (first: graph seed {seed})")
    if extra and extra.get("shrunk"):
        log("shrunk and saved:")
        for sig, dest, n0, n1 in extra["shrunk"]:
            log(f"  {sig}: {n0} -> {n1} nodes: {dest}")
    if as_json:
        with open(as_json, "w") as f:
            json.dump({"graphs": n, "seconds": wall, "outcomes": stats.outcomes,
                       "op_graphs": stats.op_graphs, "op_nodes": stats.op_nodes,
                       "op_tested": stats.op_tested, "refusals": stats.refusals,
                       "ort_notes": stats.ort_notes, "findings": stats.findings,
                       "oracle_seconds": runner.seconds, "gen_seconds": stats.gen_seconds,
                       "supported": supported}, f, indent=1, default=str)


# ---- subcommands -----------------------------------------------------------------

def cmd_batch(a):
    runner = make_runner(a)
    log(oracle_line(runner))
    stats = cp.Stats()
    saved = collections.Counter()
    extra = {"shrunk": []}
    t0 = time.time()
    deadline = t0 + a.max_seconds if a.max_seconds else None

    def on_finding(case, d, out, res):
        handle_finding(runner, a, case, d, out, res, saved, extra)

    def progress(s):
        if a.verbose and s.graphs % 50 == 0:
            log(f"  {s.graphs} graphs, {time.time() - t0:.0f} s")
    cp.run_batch(runner, range(a.seed, a.seed + a.count), stats, deadline, on_finding,
                 progress=progress)
    wall = time.time() - t0
    supported = cp.supported_ops(runner) if a.coverage else None
    report(stats, runner, wall, supported, extra, a.json)
    if a.coverage:
        log(cp.coverage_table(stats, supported))
    at_exit = runner.close()
    for p in at_exit:
        log(f"FAIL: {p}")
    if at_exit:
        return 1
    tested = sum(stats.outcomes.get(k, 0) for k in ("ok", "finding", "fragile", "known"))
    if tested == 0:
        log("FAIL: no graph ran through the oracles")
        return 1
    if stats.findings:
        log(f"FAIL: {sum(stats.findings.values())} disagreements")
        return 1
    if stats.gen_errors and a.strict_gen:
        log("FAIL: the generator broke its own contract")
        return 1
    log(f"OK: {tested} graphs agreed")
    return 0


def cmd_campaign(a):
    a.count = 10 ** 9
    a.max_seconds = a.minutes * 60
    return cmd_batch(a)


def cmd_replay(a):
    runner = make_runner(a, "reference")
    cases = sorted(d for d in os.listdir(a.cases)
                   if os.path.isfile(os.path.join(a.cases, d, "case.json")))
    log(f"replaying {len(cases)} saved cases from {a.cases}")
    fails = 0
    for name in cases:
        d = os.path.join(a.cases, name)
        model, inputs, info, expected = cp.load_case(d)
        work = os.path.join(a.work, "replay", name)
        shutil.rmtree(work, ignore_errors=True)
        cp.save_case(work, model, inputs, info)
        metas = analyze.output_metas(model, inputs)
        res = runner.run_dir(work, [(n, None) for n in cp.input_names(model)],
                             info.get("threads", 1))
        # saved expected outputs (ONNX Runtime's, or ortc's own checked by
        # hand against the spec) stand in for the ONNX Runtime oracle
        if info.get("expected_from") not in ("ort", "spec"):
            expected = []
        out = runner.classify(work, res, metas, expect_ort=expected or None)
        open_reason = info.get("known_open")
        agrees = out.kind in ("ok", "known") and not out.findings
        if info.get("oracle") == "ort" and not expected:
            agrees = False  # nothing to compare with
        if info.get("expect") == "unsupported":  # fixed by a clear refusal
            agrees = out.kind == "refused"
        what = out.findings[0] if out.findings else out.kind
        if open_reason:
            if agrees:
                log(f"FIXED  {name}: now agrees; remove 'known_open' from its case.json")
                fails += 1
            else:
                log(f"XFAIL  {name}: {open_reason}")
        elif agrees:
            log(f"ok     {name}")
        else:
            log(f"FAIL   {name}: {json.dumps(what, default=str)[:500]}")
            fails += 1
    at_exit = runner.close()
    for p in at_exit:
        log(f"FAIL: {p}")
        fails += 1
    if not cases:
        log("no saved cases")
    log(f"{len(cases)} cases, {fails} failing")
    return 1 if fails else 0


def cmd_corpus(a):
    os.makedirs(a.out, exist_ok=True)
    n = 0
    seed = a.seed
    while n < a.count:
        try:
            c = gen.generate(seed)
        except Exception:  # noqa: BLE001
            seed += 1
            continue
        data = c.model.SerializeToString()
        if len(data) <= a.max_bytes:
            with open(os.path.join(a.out, f"graphgen_{seed:06d}.onnx"), "wb") as f:
                f.write(data)
            n += 1
        seed += 1
    log(f"{n} generated models in {a.out}")
    return 0


def cmd_gen(a):
    c = gen.generate(a.seed, opset=a.opset, focus=a.focus)
    c.save(a.out)
    with open(os.path.join(a.out, "case.json"), "w") as f:
        json.dump({"seed": a.seed, "opset": c.opset, "ops": c.ops, "outputs": c.outputs,
                   "inputs": [n for n, _ in c.inputs], "threads": c.threads}, f, indent=2)
    log(f"seed {a.seed}: opset {c.opset}, {len(c.model.graph.node)} nodes, ops {c.ops} -> "
        f"{a.out}")
    return 0


def cmd_shrink(a):
    runner = make_runner(a)
    model, inputs, info, _ = cp.load_case(a.case)
    want = info["finding"]
    pred = make_predicate(runner, want, a.work, info.get("threads", 1))
    if not pred(model, inputs):
        log("the case does not disagree (any more)")
        return 1
    m2, in2, tests = sh.shrink(model, inputs, pred, log=log, max_tests=a.shrink_tests,
                               materialize=make_materialize(runner, a.work))
    info.update({"nodes": len(m2.graph.node), "shrink_tests": tests})
    cp.save_case(a.out, m2, in2, info)
    runner.close()
    log(f"{len(model.graph.node)} -> {len(m2.graph.node)} nodes: {a.out}")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(q, oracle=True):
        q.add_argument("--driver", required=True, help="build/tests/fuzz/difftest_driver")
        q.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "ortc-difftest"))
        q.add_argument("--ort-dir", help="folder with node_modules/onnxruntime-node "
                                         "(default: BUILD/ort-node)")
        q.add_argument("--no-npm", action="store_true", help="never run npm install")
        q.add_argument("--timeout", type=float, default=120.0, help="seconds per graph")
        q.add_argument("--verbose", "-v", action="store_true")
        if oracle:
            q.add_argument("--oracle", choices=["reference", "ort", "both"], default="both")

    for name in ("batch", "campaign"):
        q = sub.add_parser(name)
        common(q)
        q.add_argument("--seed", type=int, default=1)
        q.add_argument("--save", help="folder for shrunk cases (default: WORK/shrunk)")
        q.add_argument("--shrink-per-signature", type=int, default=1)
        q.add_argument("--shrink-tests", type=int, default=250)
        q.add_argument("--json")
        q.add_argument("--coverage", action="store_true", help="per-op coverage table")
        q.add_argument("--strict-gen", action="store_true",
                       help="fail when the generator breaks its own contract")
        if name == "batch":
            q.add_argument("--count", type=int, default=300)
            q.add_argument("--max-seconds", type=float, default=0)
        else:
            q.add_argument("--minutes", type=float, required=True)
    q = sub.add_parser("replay")
    common(q, oracle=False)
    q.add_argument("--cases", default=REGRESSIONS)
    q = sub.add_parser("corpus")
    q.add_argument("--out", required=True)
    q.add_argument("--count", type=int, default=200)
    q.add_argument("--seed", type=int, default=100000)
    q.add_argument("--max-bytes", type=int, default=256 * 1024)
    q = sub.add_parser("gen")
    q.add_argument("--seed", type=int, required=True)
    q.add_argument("--opset", type=int)
    q.add_argument("--focus")
    q.add_argument("--out", "-o", required=True)
    q = sub.add_parser("shrink")
    common(q)
    q.add_argument("case")
    q.add_argument("--out", required=True)
    q.add_argument("--shrink-tests", type=int, default=400)
    a = p.parse_args(argv)
    if hasattr(a, "driver") and not os.access(a.driver, os.X_OK):
        print(f"difftest: driver {a.driver} is not an executable", file=sys.stderr)
        return 2
    return {"batch": cmd_batch, "campaign": cmd_campaign, "replay": cmd_replay,
            "corpus": cmd_corpus, "gen": cmd_gen, "shrink": cmd_shrink}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
