#!/usr/bin/python3
"""test_alexnet.py — whole-model tests: run an exported AlexNet through
`ortc run MODEL --input input=MODEL.input.npy --output-dir DIR` and compare
DIR/output.npy with PyTorch's output on the same input (MODEL.expected.npy,
written by models/export_alexnet.py); or (--check-card) check that exports
are valid ONNX and that their model cards parse with the expected keys.
It does not export: the models.export fixture (export_cache.py) does.

  test_alexnet.py --cli build/ortc --cache build/models-cache --model seed_op11
  test_alexnet.py --check-card --cache build/models-cache --model all

Pass: max|ortc - torch| <= 1e-4 * max|torch| (README.md, Tests). Exit codes:
0 pass, 1 failure, 2 usage error, 77 skip (this python lacks numpy).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_cache  # noqa: E402  (the list of models and their files)
from cli_check import check_cli, describe_exit, fail, load_output, run_cli  # noqa: E402

try:
    import numpy as np
except ImportError:
    print(f"SKIP: {sys.executable} has no numpy (set ORTC_PYTHON to /usr/bin/python3)")
    sys.exit(77)

REL_TOL = 1e-4           # relative to max|torch|; the README's model tolerance
PLAN_SLACK = 1.05        # arena <= 1.05 x lower bound (issue 2's planner criterion)
CLI_TIMEOUT = 900        # seconds; sanitizer builds are slow on 60M weights


def require_files(cache, name):
    missing = [f for f in export_cache.model_files(cache, name) if not os.path.isfile(f)]
    if missing:
        return (f"model '{name}' is not exported: missing {', '.join(missing)}; run "
                f"`ctest -R models.export` or tests/models/export_cache.py --script "
                f"models/export_alexnet.py --cache {cache}")
    return None


def run_model(cli, cache, name, keep):
    err = require_files(cache, name)
    if err:
        return fail(err)
    err = check_cli(cli)
    if err:
        return fail(err)
    stem = os.path.join(cache, name)
    out_dir = os.path.join(cache, "out", name)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    r, err, _ = run_cli([cli, "run", stem + ".onnx", "--input", f"input={stem}.input.npy",
                         "--output-dir", out_dir], CLI_TIMEOUT)
    if err:
        return fail(f"ortc {err}")
    if r.stdout:
        print(r.stdout.rstrip())
    if r.stderr:
        print("stderr:\n" + r.stderr.rstrip())
    want = np.load(stem + ".expected.npy", allow_pickle=False)
    got, err = load_output(out_dir, want.shape)
    if err:
        return fail(err)

    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    max_diff = float(diff[worst])
    max_ref = float(np.abs(want).max())
    tol = REL_TOL * max_ref
    top_got, top_want = got.argmax(axis=1), want.argmax(axis=1)
    print(f"{name}: max|ortc - torch| = {max_diff:.3e} at {worst} "
          f"(ortc {got[worst]:.8g}, torch {want[worst]:.8g}); max|torch| = {max_ref:.3e}; "
          f"tolerance {REL_TOL:g} * max|torch| = {tol:.3e}")
    print(f"{name}: top-1 ortc {top_got.tolist()}, torch {top_want.tolist()}")
    if not max_diff <= tol:  # the output stays in out_dir for a look
        return fail(f"{name}: max|ortc - torch| {max_diff:.3e} > {tol:.3e}")
    if not keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    plan_err = check_plan(cli, stem + ".onnx", name)
    if plan_err:
        return fail(plan_err)
    print(f"PASS: {name}")
    return 0


def check_plan(cli, model, name):
    """`ortc info --json`: the memory plan's three numbers, arena within
    PLAN_SLACK of the lower bound (the bound is computed independently of the
    assignment: max over steps of the bytes alive)."""
    r = subprocess.run([cli, "info", "--json", model], capture_output=True, text=True,
                       errors="replace", timeout=CLI_TIMEOUT)
    if r.returncode != 0:
        return f"ortc info failed ({describe_exit(r.returncode)}): {r.stderr.strip()}"
    try:
        plan = json.loads(r.stdout)["memory_plan"]
        arena, lb, naive = plan["arena_bytes"], plan["lower_bound_bytes"], plan["naive_bytes"]
    except (ValueError, KeyError) as e:
        return f"ortc info --json has no memory plan ({e}): {r.stdout[:500]}"
    print(f"{name}: plan arena {arena} bytes, lower bound {lb}, naive sum {naive} "
          f"(arena/bound {arena / lb:.4f})")
    if not (0 < lb <= arena <= PLAN_SLACK * lb and arena <= naive):
        return f"{name}: arena {arena} not within [{lb}, {PLAN_SLACK} x {lb}] or above naive {naive}"
    return None


CARD_KEYS = {
    "": {"name", "description", "weights", "input", "output"},
    "input": {"name", "layout", "height", "width", "resize", "crop", "interpolation",
              "color", "scale", "mean", "std"},
    "output": {"name", "kind", "labels"},
}


def check_card(cache, name):
    """The export is checker-valid ONNX, and its card parses as YAML with the
    keys of tools/card.h and values that agree with the graph. Returns a list
    of problems."""
    err = require_files(cache, name)
    if err:
        return [err]
    import onnx
    stem = os.path.join(cache, name)
    problems = []
    model = onnx.load(stem + ".onnx")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        problems.append(f"{stem}.onnx: onnx.checker: {e}")
    g_in, g_out = model.graph.input[0], model.graph.output[0]
    in_dims = [d.dim_param or d.dim_value for d in g_in.type.tensor_type.shape.dim]
    del model

    try:
        import yaml
    except ImportError:
        print(f"SKIP (card YAML part): {sys.executable} has no yaml module (python3-yaml)")
        return problems
    with open(stem + ".yaml", encoding="utf-8") as f:
        card = yaml.safe_load(f)
    if not isinstance(card, dict):
        return problems + [f"{stem}.yaml: not a mapping"]
    for section, keys in CARD_KEYS.items():
        d = card if not section else card.get(section)
        if not isinstance(d, dict):
            problems.append(f"{stem}.yaml: '{section}' is not a mapping")
            continue
        if set(d) != keys:
            problems.append(f"{stem}.yaml: {section or 'top level'} keys {sorted(d)}, "
                            f"expected {sorted(keys)}")
    if problems:
        return problems
    i, o = card["input"], card["output"]
    size = i["height"]

    def expect(what, got, want):
        if got != want:
            problems.append(f"{stem}.yaml: {what} is {got!r}, expected {want!r}")

    expect("weights", card["weights"], "random")
    expect("input.name", i["name"], g_in.name)
    expect("[input.height, input.width]", [i["height"], i["width"]], in_dims[2:])
    expect("input.layout", i["layout"], "NCHW")
    expect("input.resize", i["resize"], round(size * 256 / 224))
    expect("input.crop", i["crop"], "center")
    expect("input.interpolation", i["interpolation"], "bilinear")
    expect("input.color", i["color"], "RGB")
    expect("input.scale", i["scale"], 1 / 255)
    expect("input.mean", i["mean"], [0.485, 0.456, 0.406])
    expect("input.std", i["std"], [0.229, 0.224, 0.225])
    expect("output.name", o["name"], g_out.name)
    expect("output.kind", o["kind"], "logits")
    labels_path = os.path.join(cache, o["labels"])
    if not os.path.isfile(labels_path):
        problems.append(f"{stem}.yaml: output.labels '{o['labels']}' does not exist in {cache}")
    else:
        with open(labels_path, encoding="utf-8") as f:
            labels = f.read().splitlines()
        if len(labels) != 1000 or not all(s.strip() for s in labels):
            problems.append(f"{labels_path}: {len(labels)} lines, expected 1000 non-empty")
        elif labels[0] != "tench":
            problems.append(f"{labels_path}: first label '{labels[0]}', expected 'tench'")
    return problems


def main():
    p = argparse.ArgumentParser(description="Compare ortc with PyTorch on exported AlexNets.")
    p.add_argument("--cli", help="path of the ortc executable (required unless --check-card)")
    p.add_argument("--cache", required=True, help="folder export_cache.py filled")
    p.add_argument("--model", required=True, nargs="+",
                   help=f"model name(s) or 'all': {', '.join(export_cache.MODELS)}")
    p.add_argument("--check-card", action="store_true",
                   help="check ONNX validity and the model card instead of running ortc")
    p.add_argument("--keep-output", action="store_true",
                   help="keep CACHE/out/NAME/output.npy after a pass (a failure always keeps it)")
    args = p.parse_args()
    names = list(export_cache.MODELS) if args.model == ["all"] else args.model
    unknown = [n for n in names if n not in export_cache.MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(export_cache.MODELS)}")
    if not args.check_card and not args.cli:
        p.error("--cli is required to run models")

    failures = 0
    for name in names:
        if args.check_card:
            problems = check_card(args.cache, name)
            for msg in problems:
                fail(msg)
            print(f"{'FAIL' if problems else 'PASS'}: {name} (ONNX checker and card)", flush=True)
            failures += bool(problems)
        else:
            failures += run_model(args.cli, args.cache, name, args.keep_output)
    if len(names) > 1:
        print(f"{len(names) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
