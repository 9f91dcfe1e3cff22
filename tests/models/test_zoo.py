#!/usr/bin/python3
"""test_zoo.py — the benchmark zoo against PyTorch: every model exported by
models/export_zoo.py is run through `ortc run MODEL --input NAME=FILE
--output-dir DIR`, once optimised (the default path) and once with
--reference (plain-C kernels, no graph passes), and each output is compared
with PyTorch's on the same input: max|ortc - torch| <= 1e-4 * max|torch|.
It does not export: the models.zoo_export fixture does.

Models that do not pass today are recorded in a manifest (tests/models/
zoo.yaml) with their expected outcome and a reason; the run fails on a
regression (an expected pass that does not pass), on a model that now passes
but is not marked pass, on an outcome other than the recorded one, and on a
zoo model missing from the manifest — so the manifest is how later work
shows progress. Outcomes:

  pass         output within the tolerance
  fail         ortc ran but the output is wrong (above the tolerance, wrong
               shape or dtype, non-finite values, no output file)
  unsupported  ortc refused to load the model: unsupported operators
  error        ortc exited with another error (load, shape, run)
  crash        ortc was killed by a signal or timed out

  test_zoo.py --cli build/ortc --cache build/zoo --manifest tests/models/zoo.yaml \
              --model resnet18_op13 [--model ...] [--modes optimised,reference] [--json FILE]
  test_zoo.py --check-manifest --manifest tests/models/zoo.yaml   (entries vs the zoo)
  test_zoo.py --self-test                  (the verdict logic on synthetic outcomes)

With the optimised mode it also checks the kernels (issue 12): one profiled
`ortc bench --json` run at batch 1 and at batch 8 (the zoo's batch is
dynamic), and no Conv, ConvTranspose, MatMul, Gemm, pooling or
normalization step may run a oneDNN `ref` implementation or a plain-C
fallback (`ortc:c`, `ortc:reference`); ortc's own named kernels
(`ortc:fc_gemv`, `ortc:wino5_f2x2_5x5`, ...) are chosen for speed and allowed.

Exit codes: 0 every outcome as the manifest says, 1 otherwise, 2 usage error,
77 skip (this python lacks numpy or yaml).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models"))
import export_zoo  # noqa: E402  (the zoo's names and files; imports no torch)

try:
    import numpy as np
    import yaml
except ImportError as e:
    print(f"SKIP: {sys.executable} lacks {e.name} (use /usr/bin/python3 with python3-numpy "
          "and python3-yaml)")
    sys.exit(77)

REL_TOL = 1e-4  # relative to max|torch|; DESIGN.md's model tolerance
MODES = ("optimised", "reference")
OUTCOMES = ("pass", "fail", "unsupported", "error", "crash")
CLI_TIMEOUT = 3600  # seconds; the reference kernels on vit_b_16 under ASan are slow
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"


# ---- the manifest -------------------------------------------------------------

def parse_expectation(where, v):
    """A manifest value -> {mode: (outcome, reason)}; raises ValueError."""
    def one(w, x):
        if x == "pass":
            return ("pass", None)
        if not isinstance(x, dict) or set(x) - {"expect", "reason"}:
            raise ValueError(f"{w}: expected 'pass' or {{expect: OUTCOME, reason: TEXT}}, "
                             f"got {x!r}")
        outcome, reason = x.get("expect"), x.get("reason")
        if outcome not in OUTCOMES or outcome == "pass":
            raise ValueError(f"{w}: expect must be one of {', '.join(OUTCOMES[1:])} "
                             f"(or write plain 'pass'), got {outcome!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{w}: an expected {outcome} needs a reason")
        return (outcome, reason.strip())

    if isinstance(v, dict) and set(v) & set(MODES):
        if set(v) != set(MODES):
            raise ValueError(f"{where}: per-mode entries need exactly {', '.join(MODES)}, "
                             f"got {sorted(v)}")
        return {m: one(f"{where}.{m}", v[m]) for m in MODES}
    e = one(where, v)
    return {m: e for m in MODES}


def load_manifest(path):
    """{model: {mode: (outcome, reason)}}; raises ValueError naming the problem."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        raise ValueError(f"{path}: needs a top-level 'models' mapping")
    return {str(k): parse_expectation(f"{path}: {k}", v) for k, v in doc["models"].items()}


def check_manifest(manifest, path):
    """Problems: zoo models missing from the manifest, entries no zoo model has."""
    problems = [f"{path}: zoo model '{n}' has no entry (add '{n}: pass' or an expected "
                "outcome with a reason)" for n in export_zoo.ZOO if n not in manifest]
    problems += [f"{path}: '{n}' is not a zoo model (models/export_zoo.py --list)"
                 for n in manifest if n not in export_zoo.ZOO]
    return problems


def verdict(name, mode, expected, outcome, detail):
    """(ok, message) for one model and mode: the manifest's guard."""
    want, reason = expected
    if outcome == want:
        if want == "pass":
            return True, f"{name} [{mode}]: pass"
        return True, f"{name} [{mode}]: expected {want} ({reason}): {detail}"
    if want == "pass":
        return False, f"{name} [{mode}]: REGRESSION: expected pass, got {outcome}: {detail}"
    if outcome == "pass":
        return False, (f"{name} [{mode}]: now passing (manifest: {want}, {reason}): mark it "
                       "pass in the manifest")
    return False, (f"{name} [{mode}]: outcome changed: manifest says {want} ({reason}), got "
                   f"{outcome}: {detail}; update the manifest")


# ---- running ortc -------------------------------------------------------------

def describe_exit(rc):
    if rc < 0:
        try:
            return f"killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit code {rc}"


def first_line(text, limit=200):
    """The first non-empty line, cut to LIMIT characters (an unsupported-op
    error lists every node: 45 of them for swin_t)."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[:limit - 3] + "..."
    return ""


def run_mode(cli, cache, name, meta, mode, keep):
    """(outcome, detail, figures) for one model and mode."""
    stem = os.path.join(cache, name)
    out_dir = os.path.join(cache, "out", f"{name}.{mode}")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    inp, outp = meta["input"]["name"], meta["output"]["name"]
    cmd = [cli, "run", stem + ".onnx", "--input", f"{inp}={stem}.input.npy", "--output-dir",
           out_dir]
    if mode == "reference":
        # optimisations off: plain-C kernels and no graph passes, the
        # differential tester's reference path (a pass bug then shows as a
        # difference between the two modes instead of hiding in both)
        cmd += ["--reference", "--no-optimize"]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "crash", f"did not finish in {CLI_TIMEOUT} s", {}
    secs = time.time() - t0
    if r.returncode != 0:
        msg = first_line(r.stderr) or describe_exit(r.returncode)
        if r.returncode < 0 or r.returncode > 2:
            tail = "\n".join(r.stderr.strip().splitlines()[-10:])
            print(f"stderr:\n{tail}", flush=True)
            return "crash", f"{describe_exit(r.returncode)}: {msg}", {}
        if "unsupported operator" in msg:
            return "unsupported", msg, {}
        return "error", msg, {}
    if r.stderr.strip():
        print("stderr:\n" + r.stderr.rstrip(), flush=True)
    path = os.path.join(out_dir, outp + ".npy")
    if not os.path.isfile(path):
        return "fail", f"ortc exited 0 but wrote no {path} (found {os.listdir(out_dir)})", {}
    try:
        got = np.load(path, allow_pickle=False)
    except Exception as e:  # a malformed .npy is a failure, not a crash of the test
        return "fail", f"{path}: cannot read: {e}", {}
    want = np.load(stem + ".expected.npy", allow_pickle=False)
    if got.dtype != np.float32 or got.shape != want.shape:
        return "fail", (f"output {got.dtype} {list(got.shape)}, PyTorch's is {want.dtype} "
                        f"{list(want.shape)}"), {}
    bad = ~np.isfinite(got)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return "fail", f"{int(bad.sum())} non-finite values, first at {idx}: {got[idx]}", {}
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    err, scale = float(diff[worst]), float(np.abs(want).max())
    tol = REL_TOL * scale
    figures = {"max_abs_error": err, "max_abs_torch": scale, "tolerance": tol,
               "relative_error": err / scale if scale else None, "seconds": round(secs, 2)}
    print(f"{name} [{mode}]: max|ortc - torch| = {err:.3e} at {worst} (ortc {got[worst]:.8g}, "
          f"torch {want[worst]:.8g}); tolerance {REL_TOL:g} * max|torch| = {REL_TOL:g} * "
          f"{scale:.4g} = {tol:.3e}; relative {err / scale if scale else float('nan'):.2e}; "
          f"{secs:.1f} s", flush=True)
    if not err <= tol:  # the output stays in out_dir for a look
        return "fail", f"max|ortc - torch| {err:.3e} > tolerance {tol:.3e}", figures
    if not keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    return "pass", f"max error {err:.3e} <= {tol:.3e}", figures


def fp64_diagnosis(cache, name, outputs):
    """For a model over the tolerance: how far PyTorch's own float32 output
    and ortc's are from the same network computed in float64, to tell an
    ortc error from float32 rounding the network amplifies (where PyTorch's
    own output is off by about the tolerance). Rebuilds the module as the
    export did and checks it reproduces the recorded output first. Prints;
    never changes a verdict. outputs: {mode: path of ortc's .npy}."""
    try:
        import torch
    except ImportError:
        print(f"{name}: no float64 diagnosis ({sys.executable} has no torch)")
        return
    spec = export_zoo.ZOO[name]
    stem = os.path.join(cache, name)
    x = np.load(stem + ".input.npy")
    want = np.load(stem + ".expected.npy")
    torch.set_num_threads(2)
    if spec["arch"] == "alexnet":
        import export_alexnet
        model = export_alexnet.build_model(spec["variant"], pretrained=False, seed=0)
    else:
        model, _ = export_zoo.build(spec, 0)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        again = model(xt).numpy()
        scale = float(np.abs(want).max())
        if not np.abs(again - want).max() <= 1e-6 * scale:
            print(f"{name}: no float64 diagnosis: the rebuilt module does not reproduce the "
                  "recorded output")
            return
        y64 = model.double()(xt if x.dtype == np.int64 else xt.double()).numpy()
    s64 = float(np.abs(y64).max())
    line = [f"PyTorch float32 {np.abs(want - y64).max() / s64:.2e}"]
    for mode, path in outputs.items():
        line.append(f"ortc {mode} {np.abs(np.load(path) - y64).max() / s64:.2e}")
    print(f"{name}: max error / max|y| against PyTorch in float64: {', '.join(line)}", flush=True)


def check_card(cli, cache, name, meta, run_image):
    """The card parses (YAML) and agrees with the graph; for image models
    that load, `ortc run MODEL PHOTO` accepts it (parse, size, labels).
    Returns a list of problems."""
    stem = os.path.join(cache, name)
    problems = []
    with open(stem + ".yaml", encoding="utf-8") as f:
        card = yaml.safe_load(f)
    if not isinstance(card, dict) or not isinstance(card.get("input"), dict):
        return [f"{stem}.yaml: not a card with an input section"]
    if card["input"].get("name") != meta["input"]["name"]:
        problems.append(f"{stem}.yaml: input.name {card['input'].get('name')!r}, the graph's "
                        f"is {meta['input']['name']!r}")
    if (card.get("output") or {}).get("name") != meta["output"]["name"]:
        problems.append(f"{stem}.yaml: output.name differs from the graph's "
                        f"{meta['output']['name']!r}")
    if card.get("weights") != "random":
        problems.append(f"{stem}.yaml: weights {card.get('weights')!r}, expected 'random'")
    if meta["kind"] == "image":
        size = meta["image_size"]
        i = card["input"]
        if [i.get("height"), i.get("width")] != meta["input"]["dims"][2:] or \
                [i.get("height"), i.get("width")] != [size, size]:
            problems.append(f"{stem}.yaml: height/width {i.get('height')}x{i.get('width')}, "
                            f"the graph's input is {meta['input']['dims']}")
        if i.get("resize") != round(size * 256 / 224) or i.get("crop") != "center":
            problems.append(f"{stem}.yaml: not ImageNet preprocessing at {size}")
        if run_image and os.path.exists(PHOTO):
            cmd = [cli, "run", stem + ".onnx", PHOTO, "--top", "1", "--json"]
            r = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                               timeout=CLI_TIMEOUT)
            if r.returncode != 0:
                problems.append(f"{' '.join(cmd)}: {describe_exit(r.returncode)}: "
                                f"{first_line(r.stderr)}")
            else:
                top = json.loads(r.stdout)["results"][0]["top"][0]
                print(f"{name}: card ok; `ortc run MODEL photo` top-1 class {top['class']} "
                      f"({top['label'] or 'no label'})", flush=True)
    return problems


def run_model(args, manifest, name):
    """Returns (number of disagreements with the manifest, per-mode results)."""
    missing = [f for f in export_zoo.model_files(args.cache, name) if not os.path.isfile(f)]
    if missing:
        print(f"FAIL: {name} is not exported: missing {', '.join(missing)}; run `ctest -R "
              f"models.zoo_export` or models/export_zoo.py --cache {args.cache} --models {name}",
              file=sys.stderr)
        return 1, {}
    with open(os.path.join(args.cache, name + ".meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    bad, results = 0, {}
    for mode in args.modes:
        outcome, detail, figures = run_mode(args.cli, args.cache, name, meta, mode,
                                            args.keep_output)
        ok, msg = verdict(name, mode, manifest[name][mode], outcome, detail)
        print(("ok:   " if ok else "FAIL: ") + msg, flush=True)
        results[mode] = {"outcome": outcome, "detail": detail, **figures}
        bad += not ok
    if any(r["outcome"] == "fail" and "max_abs_error" in r for r in results.values()):
        outs = {}
        for m in results:
            path = os.path.join(args.cache, "out", f"{name}.{m}", meta["output"]["name"] + ".npy")
            if os.path.isfile(path):  # kept after a failure (and with --keep-output)
                outs[m] = path
        fp64_diagnosis(args.cache, name, outs)
    loads = any(r["outcome"] in ("pass", "fail") for r in results.values())
    problems = check_card(args.cli, args.cache, name, meta,
                          run_image=loads and "optimised" in args.modes)
    if results.get("optimised", {}).get("outcome") in ("pass", "fail"):
        problems += check_kernels(args.cli, args.cache, name, meta)
    for p in problems:
        print(f"FAIL: {p}", flush=True)
    return bad + len(problems), results


HOT_OPS = {"Conv", "ConvTranspose", "MatMul", "Gemm", "MaxPool", "AveragePool",
           "GlobalAveragePool", "GlobalMaxPool", "LpPool", "BatchNormalization",
           "LayerNormalization", "InstanceNormalization", "LRN"}


def slow_kernel(impl):
    return impl.startswith("ref") or impl in ("ortc:c", "ortc:reference")


def check_kernels(cli, cache, name, meta):
    """Problems: hot steps on a ref or plain-C fallback kernel, batch 1 and 8."""
    stem = os.path.join(cache, name)
    problems = []
    for batch in (1, 8):
        x = np.load(stem + ".input.npy", allow_pickle=False)
        path = os.path.join(cache, "out", f"{name}.kernels.b{batch}.npy")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, np.repeat(x[:1], batch, axis=0))
        cmd = [cli, "bench", stem + ".onnx", "--json", "--batch", str(batch), "--threads", "2",
               "--iterations", "1", "--warmup", "0", "--profile-runs", "1",
               "--input", f"{meta['input']['name']}={path}"]
        print("$ " + " ".join(cmd), flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=CLI_TIMEOUT)
        os.remove(path)
        if r.returncode != 0:
            problems.append(f"{name}: bench at batch {batch}: {first_line(r.stderr)}")
            continue
        nodes = json.loads(r.stdout)["profile"]["nodes"]
        hot = [n for n in nodes if n["op"] in HOT_OPS]
        slow = [f"{n['node']} ({n['op']}: {n['impl']})" for n in hot if slow_kernel(n["impl"])]
        kinds = sorted({n["impl"] for n in hot})
        print(f"{name} batch {batch}: {len(hot)} Conv/MatMul/Gemm/pooling/normalization steps "
              f"on {', '.join(kinds) or 'none'}", flush=True)
        if slow:
            problems.append(f"{name} batch {batch}: {len(slow)} step(s) on a slow kernel: "
                            + "; ".join(slow[:5]))
    return problems


# ---- the guard's own test ----------------------------------------------------------

def self_test():
    """verdict() and the manifest parser on synthetic cases: the guard must
    fail when the manifest and the outcome disagree, and only then."""
    P, U, F = ("pass", None), ("unsupported", "ScatterND"), ("fail", "wrong GELU")
    cases = [  # expected, outcome, ok
        (P, "pass", True), (P, "fail", False), (P, "unsupported", False), (P, "crash", False),
        (U, "unsupported", True), (U, "pass", False), (U, "fail", False),
        (F, "fail", True), (F, "pass", False), (F, "error", False),
    ]
    bad = 0
    for expected, outcome, want in cases:
        ok, msg = verdict("m", "optimised", expected, outcome, "detail")
        good = ok == want
        bad += not good
        print(f"{'ok  ' if good else 'FAIL'} expected {expected[0]}, got {outcome}: "
              f"{'accepted' if ok else 'rejected'} ({msg})")
    parse_cases = [  # value, should parse
        ("pass", True), ({"expect": "fail", "reason": "x"}, True),
        ({"expect": "fail"}, False), ({"expect": "pass", "reason": "x"}, False),
        ({"expect": "bogus", "reason": "x"}, False), ("fail", False),
        ({"optimised": "pass", "reference": {"expect": "error", "reason": "x"}}, True),
        ({"optimised": "pass"}, False),
    ]
    for value, want in parse_cases:
        try:
            parse_expectation("case", value)
            parsed = True
        except ValueError:
            parsed = False
        good = parsed == want
        bad += not good
        print(f"{'ok  ' if good else 'FAIL'} manifest value {value!r}: "
              f"{'parsed' if parsed else 'refused'}")
    fake = {n: {m: P for m in MODES} for n in list(export_zoo.ZOO)[1:]}
    fake["not_a_model"] = {m: P for m in MODES}
    problems = check_manifest(fake, "fake.yaml")
    good = len(problems) == 2
    bad += not good
    print(f"{'ok  ' if good else 'FAIL'} a manifest missing one model and naming an unknown "
          f"one: {len(problems)} problems")
    print(f"self-test: {'FAILED' if bad else 'passed'}")
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description="Zoo models through ortc vs PyTorch, guarded by a "
                                            "manifest of expected outcomes.")
    p.add_argument("--cli", help="the ortc executable")
    p.add_argument("--cache", help="the folder models/export_zoo.py --cache filled")
    p.add_argument("--manifest", help="expected outcomes (tests/models/zoo.yaml)")
    p.add_argument("--model", action="append", default=[],
                   help="zoo model (repeatable; 'all' for every one)")
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated subset of optimised,reference (default both)")
    p.add_argument("--json", metavar="FILE", help="write every outcome and figure as JSON")
    p.add_argument("--keep-output", action="store_true",
                   help="keep CACHE/out/NAME.MODE/ after a pass (a failure always keeps it)")
    p.add_argument("--check-manifest", action="store_true",
                   help="only check that the manifest lists exactly the zoo's models")
    p.add_argument("--self-test", action="store_true", help="test the guard's logic and exit")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if not args.manifest:
        p.error("--manifest is required")
    try:
        manifest = load_manifest(args.manifest)
    except (OSError, ValueError, yaml.YAMLError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    problems = check_manifest(manifest, args.manifest)
    for msg in problems:
        print(f"FAIL: {msg}", file=sys.stderr)
    if args.check_manifest:
        n_pass = sum(all(e[m][0] == "pass" for m in MODES) for e in manifest.values())
        print(f"{args.manifest}: {len(manifest)} models, {n_pass} expected to pass in both modes"
              f"{'' if not problems else f', {len(problems)} problems'}")
        return 1 if problems else 0
    if problems:
        return 1
    if not args.cli or not args.cache or not args.model:
        p.error("--cli, --cache and --model are required")
    args.modes = [m for m in args.modes.split(",") if m]
    if not args.modes or any(m not in MODES for m in args.modes):
        p.error(f"--modes takes a comma-separated subset of {', '.join(MODES)}")
    names = list(export_zoo.ZOO) if args.model == ["all"] else args.model
    unknown = [n for n in names if n not in export_zoo.ZOO]
    if unknown:
        p.error(f"unknown zoo model(s) {', '.join(unknown)}; models/export_zoo.py --list")
    if not (os.path.isfile(args.cli) and os.access(args.cli, os.X_OK)):
        p.error(f"ortc CLI '{args.cli}' does not exist or is not executable")

    bad, report = 0, {}
    for name in names:
        n_bad, results = run_model(args, manifest, name)
        bad += n_bad
        report[name] = results
    if len(names) > 1:
        print("\nsummary (error / tolerance per mode):")
        for name, results in report.items():
            cells = []
            for mode, r in results.items():
                if "max_abs_error" in r:
                    cells.append(f"{mode} {r['outcome']} {r['max_abs_error']:.2e}/"
                                 f"{r['tolerance']:.2e}")
                else:
                    cells.append(f"{mode} {r['outcome']} ({r['detail']})")
            print(f"  {name}: {'; '.join(cells)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    print(f"{'FAILED' if bad else 'passed'}: {len(names)} model(s), {bad} disagreement(s) with "
          f"{args.manifest}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
