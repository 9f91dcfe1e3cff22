#!/usr/bin/python3
"""test_detect_models.py — whole-model tests of torchvision's detection
models as models/export_detect.py exports them from PyTorch 1.13 (Faster
R-CNN and SSDlite on MobileNetV3 at 320x320, Mask R-CNN on ResNet-50 at
256x256; random weights, score threshold 0, 20 detections kept): each
model runs through `ortc run` on the exported image, optimised and with
--reference --no-optimize (plain-C kernels, no graph passes), and its
detections are compared with PyTorch's: the same count (never 0), labels
equal, boxes, scores and masks within max|ortc - torch| <= 1e-4 * max|torch|
(Mask R-CNN's masks: a known miss, see KNOWN).

  test_detect_models.py --export --script models/export_detect.py --cache DIR --models A B
      (the ctest fixture: exports into DIR each model whose stamp does not
      record this version of the script and of export_zoo.py, whose
      re-initialization it uses)
  test_detect_models.py --cli build/ortc --cache DIR --model NAME

Exit codes: 0 pass, 1 failure, 2 usage error, 77 this python lacks
numpy (or, to export, torch/torchvision/onnx).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_check import check_cli, fail, run_cli  # noqa: E402
from export_cache import read_stamp, stamp_of  # noqa: E402

try:
    import numpy as np
except ImportError:
    print(f"SKIP: {sys.executable} has no numpy (set ORTC_PYTHON to /usr/bin/python3)")
    sys.exit(77)

REL_TOL = 1e-4  # relative to max|torch|; the README's model tolerance
CLI_TIMEOUT = 900
# name -> outputs (the file names of models/export_detect.py); labels are
# compared exactly, the others within REL_TOL
MODELS = {
    "fasterrcnn_mobilenet_v3_large_320_fpn": ["boxes", "labels", "scores"],
    "ssdlite320_mobilenet_v3_large": ["boxes", "labels", "scores"],
    "maskrcnn_resnet50_fpn": ["boxes", "labels", "scores", "masks"],
}
EXACT = {"labels"}
# Outputs known to miss REL_TOL, with the reason and the bound they must
# still keep (a regression beyond it fails; meeting REL_TOL fails too, so
# that the entry is removed). Measured 2026-12-07 against PyTorch in float64:
# the random-weight ResNet-50 amplifies float32 rounding (layer4 3.4e-5
# relative, the mask head 1.7e-4), so PyTorch's own float32 masks are
# 2.3e-4 x max from float64; ortc's are 4.1e-4 (optimised; 3.2e-4 without
# oneDNN's Winograd, so not that) and 1.4e-4 (reference). Count, labels,
# boxes and scores meet REL_TOL.
KNOWN = {
    ("maskrcnn_resnet50_fpn", "masks"): (
        1e-3, "float32 rounding through the random ResNet-50: PyTorch's own float32 masks are "
              "2.3e-4 x max|y| from float64 (ortc 4.1e-4 optimised, 1.4e-4 reference)"),
}


def files_of(cache, name):
    return [os.path.join(cache, name + s) for s in (".onnx", ".image.npy", ".meta.json")] + [
        os.path.join(cache, f"{name}.{o}.npy") for o in MODELS[name]]


def export(script, cache, names):
    scripts = [script, os.path.join(os.path.dirname(os.path.abspath(script)), "export_zoo.py")]
    try:
        text = b"\0".join(open(s, "rb").read() for s in scripts)
    except OSError as e:
        return fail(f"cannot read the export script: {e}")
    os.makedirs(cache, exist_ok=True)
    stamps = {n: (os.path.join(cache, n + ".stamp"), stamp_of(text, [n])) for n in names}
    todo = [n for n in names if read_stamp(stamps[n][0]) != stamps[n][1] or
            not all(os.path.isfile(f) for f in files_of(cache, n))]
    for n in names:
        if n not in todo:
            print(f"{n}: cached")
    if not todo:
        return 0
    probe = subprocess.run([sys.executable, "-c", "import torch, torchvision, onnx, numpy"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: {sys.executable} cannot import torch, torchvision, onnx and numpy:\n"
              f"{probe.stderr}", file=sys.stderr)
        return 77
    for n in todo:
        if os.path.exists(stamps[n][0]):
            os.remove(stamps[n][0])  # a half-written export must never look cached
    cmd = [sys.executable, script, "--out", cache, "--models", *todo]
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd)
    if r.returncode != 0:
        return fail(f"export failed ({r.returncode})")
    missing = [f for n in todo for f in files_of(cache, n) if not os.path.isfile(f)]
    if missing:
        return fail(f"export wrote no {', '.join(missing)}")
    for n in todo:
        with open(stamps[n][0], "w", encoding="utf-8") as f:
            json.dump({"hash": stamps[n][1], "models": [n]}, f)
            f.write("\n")
    return 0


def compare(what, got, exp, known=None):
    """(failures, max relative error) of one output; known: (bound, reason)
    when it is known to miss REL_TOL (KNOWN)."""
    if got.shape != exp.shape or got.dtype != exp.dtype:
        return fail(f"{what}: {got.dtype} {list(got.shape)}, expected {exp.dtype} "
                    f"{list(exp.shape)}"), None
    if what.split()[-1] in EXACT:
        bad = np.flatnonzero(got.reshape(-1) != exp.reshape(-1))
        print(f"{what}: {exp.size - bad.size} of {exp.size} equal {'ok' if not bad.size else 'FAIL'}")
        if bad.size:
            i = int(bad[0])
            return fail(f"{what}: {bad.size} differ, first at {i}: ortc {got.reshape(-1)[i]}, "
                        f"torch {exp.reshape(-1)[i]}"), None
        return 0, 0.0
    scale = float(np.abs(exp).max()) if exp.size else 0.0
    diff = float(np.abs(got.astype(np.float64) - exp).max()) if exp.size else 0.0
    ok = scale > 0 and bool(np.isfinite(got).all()) and diff <= REL_TOL * scale
    rel = diff / scale if scale else float("inf")
    if known:
        bound, reason = known
        if ok:
            return fail(f"{what}: {rel:.3g} x max|torch| now meets {REL_TOL}: remove its KNOWN "
                        f"entry ({reason})"), rel
        if np.isfinite(got).all() and rel <= bound:
            print(f"{what}: max|ortc - torch| = {diff:.3g} = {rel:.3g} x max|torch| known "
                  f"(within {bound:g}: {reason})", flush=True)
            return 0, rel
    print(f"{what}: max|ortc - torch| = {diff:.3g} = {rel:.3g} x max|torch| "
          f"{'ok' if ok else 'FAIL'}", flush=True)
    if not ok:
        i = np.unravel_index(np.argmax(np.abs(got - exp)), exp.shape) if exp.size else ()
        return fail(f"{what}: worst at {list(i)}: ortc {got[i] if exp.size else ''}, torch "
                    f"{exp[i] if exp.size else ''} (tolerance {REL_TOL} x {scale:.6g})"), rel
    return 0, rel


def run_model(cli, cache, name, work):
    err = check_cli(cli)
    if err:
        return fail(err)
    missing = [f for f in files_of(cache, name) if not os.path.isfile(f)]
    if missing:
        return fail(f"not exported: {', '.join(missing)}; run `ctest -R models.detect_export`")
    model = os.path.join(cache, name + ".onnx")
    outs = MODELS[name]
    expected = {o: np.load(os.path.join(cache, f"{name}.{o}.npy")) for o in outs}
    n_det = expected["boxes"].shape[0]
    if n_det == 0:  # the export refuses this; a stale cache must not pass empty
        return fail(f"{name}: PyTorch's output holds no detection: nothing to compare")
    failures = 0
    # the second mode with optimisations off: plain-C kernels and no graph passes
    for mode in ([], ["--reference", "--no-optimize"]):
        tag = " " + " ".join(mode) if mode else ""
        out_dir = os.path.join(work, name + ("--reference" if mode else ""))
        os.makedirs(out_dir, exist_ok=True)
        for o in outs:
            path = os.path.join(out_dir, o + ".npy")
            if os.path.exists(path):
                os.remove(path)
        cmd = [cli, "run", model, "--input", f"image={os.path.join(cache, name + '.image.npy')}",
               "--output-dir", out_dir] + mode
        r, err, secs = run_cli(cmd, CLI_TIMEOUT)
        if err:
            failures += fail(f"{name}{tag}: {err}")
            continue
        got = {}
        for o in outs:
            path = os.path.join(out_dir, o + ".npy")
            if not os.path.isfile(path):
                failures += fail(f"{name}{tag}: ortc wrote no {path}")
                continue
            got[o] = np.load(path)
        if len(got) < len(outs):
            continue
        n_got = got["boxes"].shape[0] if got["boxes"].ndim else -1
        print(f"{name}{tag}: {n_got} detections, PyTorch {n_det} ({secs:.1f}s)", flush=True)
        if n_got != n_det:
            failures += fail(f"{name}{tag}: {n_got} detections, PyTorch finds {n_det}")
            continue
        worst = 0.0
        for o in outs:
            f, rel = compare(f"{name}{tag} {o}", got[o], expected[o], KNOWN.get((name, o)))
            failures += f
            worst = max(worst, rel or 0.0)
        print(f"{name}{tag}: worst relative error {worst:.3g}", flush=True)
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--export", action="store_true", help="export into --cache (the fixture)")
    p.add_argument("--script", help="models/export_detect.py (with --export)")
    p.add_argument("--models", nargs="+", choices=list(MODELS), help="to export (with --export)")
    p.add_argument("--cache", required=True)
    p.add_argument("--cli")
    p.add_argument("--model", choices=list(MODELS))
    p.add_argument("--work", help="where ortc writes its outputs (default: CACHE/out)")
    args = p.parse_args()
    if args.export:
        if not args.script or not args.models:
            p.error("--export needs --script and --models")
        return export(args.script, args.cache, args.models)
    if not args.cli or not args.model:
        p.error("--cli and --model are required (or --export)")
    return run_model(args.cli, args.cache, args.model, args.work or os.path.join(args.cache, "out"))


if __name__ == "__main__":
    sys.exit(main())
