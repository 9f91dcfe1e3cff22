#!/usr/bin/python3
"""test_rnn_models.py — whole-model tests of the recurrent models that
models/export_rnn.py exports from PyTorch 1.13 (an LSTM tagger, a GRU
classifier, an LSTM fed padded sequences with lengths): each model runs
through `ortc run` at both of its input sizes, optimised and with
--reference (plain-C kernels), and every output is compared with PyTorch's:
max|ortc - torch| <= 1e-4 * max|torch|.

  test_rnn_models.py --export --script models/export_rnn.py --cache DIR
      (the ctest fixture: exports into DIR unless its stamp says the
      script is unchanged)
  test_rnn_models.py --cli build/ortc --cache DIR --model lstm_tagger

Exit codes: 0 pass, 1 failure, 2 usage error, 77 this python lacks
numpy (or, to export, torch/onnx).
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
CLI_TIMEOUT = 600
# name -> (inputs, outputs, the recurrent op types its export must hold);
# the file names are those of models/export_rnn.py
MODELS = {
    "lstm_tagger": (["tokens"], ["tags"], {"LSTM": 2}),
    "gru_classifier": (["tokens"], ["logits"], {"GRU": 2}),
    "packed_lstm": (["tokens", "lengths"], ["tags", "h_n"], {"LSTM": 1}),
}
N_CASES = 2


def files_of(cache, name):
    ins, outs, _ = MODELS[name]
    return [os.path.join(cache, name + ".onnx")] + [
        os.path.join(cache, f"{name}.case{k}.{n}.npy") for k in range(N_CASES) for n in ins + outs]


def export(script, cache):
    try:
        with open(script, "rb") as f:
            digest = stamp_of(f.read(), sorted(MODELS))
    except OSError as e:
        return fail(f"cannot read --script: {e}")
    os.makedirs(cache, exist_ok=True)
    stamp = os.path.join(cache, "rnn-models.stamp")
    if read_stamp(stamp) == digest and all(os.path.isfile(f) for n in MODELS
                                           for f in files_of(cache, n)):
        print("rnn models: cached")
        return 0
    probe = subprocess.run([sys.executable, "-c", "import torch, onnx, numpy"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: {sys.executable} cannot import torch, onnx and numpy:\n{probe.stderr}",
              file=sys.stderr)
        return 77
    if os.path.exists(stamp):
        os.remove(stamp)  # a half-written export must never look cached
    cmd = [sys.executable, script, "--out", cache, "--models", *MODELS]
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd)
    if r.returncode != 0:
        return fail(f"export failed ({r.returncode})")
    missing = [f for n in MODELS for f in files_of(cache, n) if not os.path.isfile(f)]
    if missing:
        return fail(f"export wrote no {', '.join(missing)}")
    with open(stamp, "w", encoding="utf-8") as f:
        json.dump({"hash": digest, "models": sorted(MODELS)}, f)
        f.write("\n")
    return 0


def check_export(path, name):
    """None, or why the export is not what this test is about."""
    import onnx
    g = onnx.load(path).graph
    _, _, want = MODELS[name]
    for op, count in want.items():
        nodes = [n for n in g.node if n.op_type == op]
        if len(nodes) != count:
            return f"{path}: {len(nodes)} {op} nodes, expected {count}"
    if name == "packed_lstm":
        lstm = next(n for n in g.node if n.op_type == "LSTM")
        if len(lstm.input) < 5 or not lstm.input[4]:
            return f"{path}: the LSTM has no sequence_lens: the export dropped the lengths"
    return None


def run_model(cli, cache, name, work):
    err = check_cli(cli)
    if err:
        return fail(err)
    missing = [f for f in files_of(cache, name) if not os.path.isfile(f)]
    if missing:
        return fail(f"not exported: {', '.join(missing)}; run `ctest -R models.rnn_export`")
    model = os.path.join(cache, name + ".onnx")
    try:
        err = check_export(model, name)
    except ImportError:
        err = None  # onnx only checks the export's shape; the comparison needs numpy alone
    if err:
        return fail(err)
    ins, outs, _ = MODELS[name]
    failures = 0
    for k in range(N_CASES):
        for mode in ([], ["--reference"]):
            out_dir = os.path.join(work, f"{name}.case{k}{''.join(mode)}")
            os.makedirs(out_dir, exist_ok=True)
            cmd = [cli, "run", model, "--output-dir", out_dir] + mode
            for n in ins:
                cmd += ["--input", f"{n}={os.path.join(cache, f'{name}.case{k}.{n}.npy')}"]
            r, err, secs = run_cli(cmd, CLI_TIMEOUT)
            if err:
                failures += fail(f"{name} case {k} {' '.join(mode)}: {err}")
                continue
            for n in outs:
                exp = np.load(os.path.join(cache, f"{name}.case{k}.{n}.npy"))
                path = os.path.join(out_dir, n + ".npy")
                if not os.path.isfile(path):
                    failures += fail(f"{name} case {k}: ortc wrote no {path}")
                    continue
                got = np.load(path)
                what = f"{name} case {k} ({'x'.join(map(str, exp.shape))}) {n}" + \
                    (" --reference" if mode else "")
                if got.shape != exp.shape or got.dtype != exp.dtype:
                    failures += fail(f"{what}: {got.dtype} {list(got.shape)}, expected "
                                     f"{exp.dtype} {list(exp.shape)}")
                    continue
                scale = float(np.abs(exp).max())
                diff = float(np.abs(got.astype(np.float64) - exp).max())
                ok = scale > 0 and np.isfinite(got).all() and diff <= REL_TOL * scale
                print(f"{what}: max|ortc - torch| = {diff:.3g} = {diff / scale:.3g} x "
                      f"max|torch| ({secs:.2f}s) {'ok' if ok else 'FAIL'}", flush=True)
                if not ok:
                    i = np.unravel_index(np.argmax(np.abs(got - exp)), exp.shape)
                    failures += fail(f"{what}: worst at {list(i)}: ortc {got[i]:.9g}, torch "
                                     f"{exp[i]:.9g} (tolerance {REL_TOL} x {scale:.6g})")
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--export", action="store_true", help="export into --cache (the fixture)")
    p.add_argument("--script", help="models/export_rnn.py (with --export)")
    p.add_argument("--cache", required=True)
    p.add_argument("--cli")
    p.add_argument("--model", choices=list(MODELS))
    p.add_argument("--work", help="where ortc writes its outputs (default: CACHE/out)")
    args = p.parse_args()
    if args.export:
        if not args.script:
            p.error("--export needs --script")
        return export(args.script, args.cache)
    if not args.cli or not args.model:
        p.error("--cli and --model are required (or --export)")
    return run_model(args.cli, args.cache, args.model, args.work or os.path.join(args.cache, "out"))


if __name__ == "__main__":
    sys.exit(main())
