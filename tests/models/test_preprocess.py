#!/usr/bin/python3
"""test_preprocess.py — ortc's image preprocessing against torchvision's
standard transform on real photos in every PNG/JPEG flavour: for each
fixture image and crop size S in (224, 227), `ortc run` on a one-node model
with input 'input' [1,3,S,S] dumps the tensor it fed the model, which is
compared with torchvision 0.14's output (preprocess_fixtures.py).

    /usr/bin/python3 test_preprocess.py --cli build/ortc --work /tmp/pp

Both tensors are ImageNet-normalized; the comparison undoes that on both
sides (x * std + mean) and measures |ortc - torchvision| in [0, 1] pixel
units. Limits: max <= 2/255 (one or two 8-bit levels at a few pixels, e.g.
a resampling rounding difference) and mean < 0.5/255 (a systematic error
such as a shifted crop or different colour conversion moves the mean far
beyond that). Exit status 0 only when every image passes; 77 (skip) when
this python lacks numpy/onnx/PIL/torchvision.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    import preprocess_fixtures  # needs PIL, torch, torchvision
except ImportError as e:  # CTest's SKIP_RETURN_CODE
    print(f"skipped: {e} (run with Debian's /usr/bin/python3)")
    sys.exit(77)

MAX_LIMIT = 2.0 / 255.0
MEAN_LIMIT = 0.5 / 255.0


def make_model(path, size):
    """input 'input' float [1,3,S,S] -> GlobalAveragePool -> 'output'."""
    node = helper.make_node("GlobalAveragePool", ["input"], ["output"], name="gap")
    graph = helper.make_graph(
        [node], f"gap{size}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 1, 1])])
    model = helper.make_model(graph, producer_name="test_preprocess",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def unnormalize(x, mean, std):
    """[3, S, S] normalized -> [0, 1] pixel units, in float64."""
    m = np.asarray(mean, np.float64).reshape(3, 1, 1)
    s = np.asarray(std, np.float64).reshape(3, 1, 1)
    return x.astype(np.float64) * s + m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the ortc executable")
    ap.add_argument("--work", required=True, help="scratch folder (created)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[224, 227])
    args = ap.parse_args(argv)

    fixtures = os.path.join(args.work, "fixtures")
    os.makedirs(fixtures, exist_ok=True)
    preprocess_fixtures.main([fixtures, "--sizes", *map(str, args.sizes)])
    images = sorted(n for n in os.listdir(fixtures) if n.endswith((".png", ".jpg")))
    mean, std = preprocess_fixtures.IMAGENET_MEAN, preprocess_fixtures.IMAGENET_STD

    failures = 0
    checked = 0
    print(f"{'image':<18} {'S':>4} {'max*255':>8} {'mean*255':>9}  worst (c, y, x), values*255")
    for s in args.sizes:
        model = os.path.join(args.work, f"gap_{s}.onnx")
        make_model(model, s)
        for name in images:
            out = os.path.join(args.work, f"{name}.{s}.ortc.npy")
            if os.path.exists(out):
                os.remove(out)
            cmd = [args.cli, "run", model, os.path.join(fixtures, name), "--dump-input", out]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(out):
                print(f"{name:<18} {s:>4} FAILED: exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            got = np.load(out)
            want = np.load(os.path.join(fixtures, f"{name}.{s}.npy"))
            if got.dtype != np.float32 or got.size != want.size or \
                    got.shape not in ((1, 3, s, s), (3, s, s)):
                print(f"{name:<18} {s:>4} FAILED: dumped {got.dtype} {got.shape}, "
                      f"expected float32 [1,3,{s},{s}]")
                failures += 1
                continue
            got = got.reshape(3, s, s)
            g, w = unnormalize(got, mean, std), unnormalize(want, mean, std)
            diff = np.abs(g - w)
            worst = np.unravel_index(int(diff.argmax()), diff.shape)
            dmax, dmean = float(diff.max()), float(diff.mean())
            ok = dmax <= MAX_LIMIT and dmean < MEAN_LIMIT
            checked += 1
            print(f"{name:<18} {s:>4} {dmax * 255:8.4f} {dmean * 255:9.5f}  "
                  f"{tuple(map(int, worst))} ortc {g[worst] * 255:.2f} torchvision "
                  f"{w[worst] * 255:.2f}{'' if ok else '  FAILED (limits: max 2, mean 0.5)'}")
            if not ok:
                failures += 1
    print(f"{checked} compared, {failures} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
