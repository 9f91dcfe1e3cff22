#!/usr/bin/python3
"""test_lrn_fusion.py — PyTorch's decomposed LocalResponseNorm through the
graph passes. For several sizes, alphas, betas, k and opsets it exports
nn.LocalResponseNorm / F.local_response_norm (alone and inside a small
conv net) with torch.onnx.export, then

  * `ortc info --passes MODEL` must show, after the passes, exactly one LRN
    node in place of the decomposition for odd sizes, and for even sizes
    (PyTorch's window is not ONNX LRN's) no LRN and the decomposition kept;
  * `ortc run MODEL --input x=X.npy --output-dir DIR` must match PyTorch's
    output: max|ortc - torch| <= 1e-5 * max|torch|, for odd and even sizes.

A dynamic-batch export (the If on the input rank cannot fold) must be left
decomposed and still match. It writes into --work DIR.

  test_lrn_fusion.py --cli build/ortc --work build/lrn-fusion

Exit codes: 0 pass, 1 failure, 2 usage error.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REL_TOL = 1e-5  # the bound for the fused LRN against PyTorch
TIMEOUT = 300


class Lrn(nn.Module):
    def __init__(self, size, alpha, beta, k, functional):
        super().__init__()
        self.args = (size, alpha, beta, k)
        self.functional = functional
        self.lrn = nn.LocalResponseNorm(size, alpha, beta, k)

    def forward(self, x):
        if self.functional:
            return F.local_response_norm(x, *self.args)
        return self.lrn(x)


class ConvLrn(nn.Module):
    """Conv -> ReLU -> LRN -> MaxPool -> Conv, as in AlexNet's first block."""

    def __init__(self, size, alpha, beta, k):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.lrn = nn.LocalResponseNorm(size, alpha, beta, k)
        self.conv2 = nn.Conv2d(16, 8, 3)

    def forward(self, x):
        x = self.lrn(F.relu(self.conv1(x)))
        return self.conv2(F.max_pool2d(x, 2))


# (name, module factory, input shape, opset, dynamic batch)
def cases():
    out = []
    params = [(3, 1e-4, 0.75, 1.0), (5, 1e-3, 0.75, 2.0), (7, 2e-2, 0.5, 1.5),
              (1, 1e-2, 1.0, 1.0), (2, 1e-3, 0.75, 2.0), (4, 5e-3, 0.6, 1.0),
              (6, 1e-4, 0.9, 3.0)]
    for i, (size, alpha, beta, k) in enumerate(params):
        for opset in (13, 17):
            functional = (i + opset) % 2 == 0
            out.append((f"lrn_s{size}_op{opset}{'_f' if functional else ''}",
                        lambda s=size, a=alpha, b=beta, kk=k, f=functional: Lrn(s, a, b, kk, f),
                        (2, 12, 5, 6), opset, False))
    out.append(("convlrn_s5_op13", lambda: ConvLrn(5, 1e-4, 0.75, 2.0), (1, 3, 16, 16), 13, False))
    out.append(("convlrn_s4_op17", lambda: ConvLrn(4, 1e-4, 0.75, 2.0), (1, 3, 16, 16), 17, False))
    out.append(("lrn_s5_op13_dynbatch", lambda: Lrn(5, 1e-3, 0.75, 2.0, False), (3, 12, 5, 6), 13,
                True))
    return out


def export(model, shape, opset, dynamic, path):
    torch.manual_seed(0)
    x = torch.randn(*shape) * 2
    with torch.no_grad():
        want = model(x).numpy()
    kw = {}
    if dynamic:
        kw["dynamic_axes"] = {"x": {0: "batch"}, "y": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"],
                          output_names=["y"], **kw)
    return x.numpy(), want


def run(cmd):
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError(f"exit code {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r.stdout


def graph_after(info_text):
    """Op types of the nodes listed under 'graph after passes'."""
    lines = info_text.splitlines()
    start = next((i for i, l in enumerate(lines) if "graph after passes:" in l), None)
    if start is None:
        raise RuntimeError("no 'graph after passes' section in `ortc info --passes`:\n" + info_text)
    ops = []
    for line in lines[start + 1:]:
        m = re.match(r"\s+\d+ (\S+)\s", line)
        if not m:
            break
        ops.append((m.group(1), line))
    return ops


DECOMPOSED = {"Mul", "Pad", "AveragePool", "Pow", "Div"}


def check_case(cli, work, name, make, shape, opset, dynamic):
    size = make().lrn.size
    path = os.path.join(work, name + ".onnx")
    x, want = export(make().eval(), shape, opset, dynamic, path)
    # the export must be the decomposition, not an LRN node
    xin = os.path.join(work, name + ".x.npy")
    np.save(xin, x)

    info = run([cli, "info", path, "--passes"])
    ops = graph_after(info)
    names = [o for o, _ in ops]
    lrn_lines = [l for o, l in ops if o == "LRN"]
    replace = size % 2 == 1 and not dynamic
    if replace:
        if len(lrn_lines) != 1 or DECOMPOSED & set(names):
            raise RuntimeError(f"expected one LRN in place of the decomposition, got {names}")
        if f"size={size} " not in lrn_lines[0]:
            raise RuntimeError(f"LRN has the wrong size: {lrn_lines[0].strip()}")
    else:
        if lrn_lines or not {"AveragePool", "Div"} <= set(names):
            raise RuntimeError(f"expected the decomposition kept (size {size}"
                               f"{', dynamic batch' if dynamic else ''}), got {names}")
        if not dynamic and "even size" not in info:
            raise RuntimeError("expected the pass to note the even size it left alone")

    out_dir = os.path.join(work, name + ".out")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    run([cli, "run", path, "--input", f"x={xin}", "--output-dir", out_dir])
    got = np.load(os.path.join(out_dir, "y.npy"))
    if got.shape != want.shape:
        raise RuntimeError(f"output shape {got.shape}, PyTorch {want.shape}")
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    scale = float(np.max(np.abs(want)))
    worst = int(np.argmax(diff))
    if not diff.flat[worst] <= REL_TOL * scale:
        raise RuntimeError(
            f"max|ortc - torch| = {diff.flat[worst]:.3g} > {REL_TOL} * {scale:.3g} at flat index "
            f"{worst}: ortc {got.flat[worst]:.9g}, torch {want.flat[worst]:.9g}")
    what = "1 LRN" if replace else "decomposed"
    print(f"PASS {name}: {what}, max|diff| {diff.flat[worst]:.2g} (max|torch| {scale:.3g})",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the ortc executable")
    ap.add_argument("--work", required=True, help="folder for exports and outputs")
    args = ap.parse_args()
    if not (os.path.isfile(args.cli) and os.access(args.cli, os.X_OK)):
        print(f"FAIL: ortc CLI '{args.cli}' is not an executable", file=sys.stderr)
        return 2
    os.makedirs(args.work, exist_ok=True)
    failed = 0
    all_cases = cases()
    for name, make, shape, opset, dynamic in all_cases:
        try:
            check_case(args.cli, args.work, name, make, shape, opset, dynamic)
        except Exception as e:  # report every case, then fail
            failed += 1
            print(f"FAIL {name}: {e}", file=sys.stderr, flush=True)
    print(f"{len(all_cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
