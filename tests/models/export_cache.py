#!/usr/bin/python3
"""export_cache.py — export the models the whole-model tests need into a
cache folder (the models.export CTest fixture), through
models/export_alexnet.py, or (the int8 QDQ models, QDQ_MODELS) through the
script in models/ their entry names. A model is skipped when all its files
exist and its stamp (NAME.stamp) records the same export-script content and
arguments, so reruns take well under a second. It does not run ortc.

  export_cache.py --script models/export_alexnet.py --cache build/models-cache
                  [--models seed_op11 ...] [--force] [--list]

Exit codes: 0 all exported or cached, 1 an export failed, 2 usage error,
77 this python lacks torch/torchvision/onnx (CTest reports a skip).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

# name -> export_alexnet.py arguments (without --out). The tests' names in
# tests/models/CMakeLists.txt are these keys.
MODELS = {
    "seed_op11": ["seed", "--opset", "11", "--batch", "1"],
    "seed_op13": ["seed", "--opset", "13", "--batch", "1"],
    "seed_dyn_op11": ["seed", "--opset", "11", "--dynamic-batch", "--test-batch", "2"],
    "seed_dyn_op13": ["seed", "--opset", "13", "--dynamic-batch", "--test-batch", "2"],
    # Pixel-range input (std 50, as raw pixels minus the mean in the AlexNet
    # paper): at std 1, LRN with alpha 1e-4 and k 2 is a constant scale to
    # within 5e-6, below the tolerance (export_alexnet.check_lrn_sensitivity).
    "seed_lrn_op13": ["seed-lrn", "--opset", "13", "--batch", "1", "--input-std", "50"],
    "torchvision_op9": ["torchvision", "--opset", "9", "--batch", "3"],
    "torchvision_op17": ["torchvision", "--opset", "17", "--batch", "3"],
}

# name -> (script in the folder of --script, its arguments without --out):
# int8 models quantized by PyTorch's fake quantization and exported as QDQ
# (tests/models/test_quant_models.py). Their stamps cover every script in
# QDQ_DEPENDS, which import one another.
QDQ_MODELS = {
    "resnet18_int8": ("export_quant.py", ["resnet18"]),
    "fashion_int8": ("export_quant.py", ["fashion"]),
    "seed_int8": ("export_alexnet.py", ["seed", "--int8", "--batch", "1"]),
}
QDQ_DEPENDS = ("export_quant.py", "export_alexnet.py", "train_fashion_alexnet.py")

SUFFIXES = (".onnx", ".yaml", ".input.npy", ".expected.npy")
LABELS_FILE = "imagenet_labels.txt"


def model_files(cache, name):
    """Every file a cached model consists of (the label list is shared)."""
    if name in QDQ_MODELS:  # the Fashion card names another label list
        return [os.path.join(cache, name + s) for s in SUFFIXES]
    return [os.path.join(cache, name + s) for s in SUFFIXES] + [os.path.join(cache, LABELS_FILE)]


def stamp_of(script_bytes, args):
    h = hashlib.sha256()
    h.update(script_bytes)
    h.update(b"\0")
    h.update(json.dumps(args).encode())
    return h.hexdigest()


def read_stamp(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("hash")
    except (OSError, ValueError):
        return None


def main():
    p = argparse.ArgumentParser(description="Export the whole-model tests' models into a cache.")
    p.add_argument("--script", help="path of models/export_alexnet.py (required to export)")
    p.add_argument("--cache", help="cache folder, created if missing (required to export)")
    p.add_argument("--models", nargs="+", metavar="NAME", help="subset to export (default: all)")
    p.add_argument("--force", action="store_true", help="export even when the stamp matches")
    p.add_argument("--list", action="store_true", help="print the known model names and exit")
    args = p.parse_args()

    if args.list:
        for name, margs in MODELS.items():
            print(f"{name}: {' '.join(margs)}")
        for name, (script, margs) in QDQ_MODELS.items():
            print(f"{name}: {script} {' '.join(margs)}")
        return 0
    if not args.script or not args.cache:
        p.error("--script and --cache are required (unless --list)")
    names = args.models or list(MODELS)
    unknown = [n for n in names if n not in MODELS and n not in QDQ_MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; known: "
                f"{', '.join(list(MODELS) + list(QDQ_MODELS))}")
    models_dir = os.path.dirname(os.path.abspath(args.script))
    try:
        with open(args.script, "rb") as f:
            script_bytes = f.read()
        qdq_bytes = b""
        if any(n in QDQ_MODELS for n in names):
            for dep in QDQ_DEPENDS:
                with open(os.path.join(models_dir, dep), "rb") as f:
                    qdq_bytes += hashlib.sha256(f.read()).digest()
    except OSError as e:
        p.error(f"cannot read an export script: {e}")
    os.makedirs(args.cache, exist_ok=True)

    todo = []
    for name in names:
        stamp_path = os.path.join(args.cache, name + ".stamp")
        if name in QDQ_MODELS:
            script, margs = QDQ_MODELS[name]
            script = os.path.join(models_dir, script)
            digest = stamp_of(qdq_bytes, [os.path.basename(script)] + margs)
        else:
            script, margs = args.script, MODELS[name]
            digest = stamp_of(script_bytes, margs)
        if (not args.force and read_stamp(stamp_path) == digest
                and all(os.path.isfile(f) for f in model_files(args.cache, name))):
            print(f"{name}: cached")
        else:
            todo.append((name, stamp_path, digest, script, margs))
    if not todo:
        return 0

    # Checked here rather than at import so a fully cached run needs no torch.
    probe = subprocess.run([sys.executable, "-c", "import torch, torchvision, onnx, numpy"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: {sys.executable} cannot import torch, torchvision, onnx and numpy "
              f"(set ORTC_PYTHON to Debian's /usr/bin/python3):\n{probe.stderr}", file=sys.stderr)
        return 77

    failed = []
    for name, stamp_path, digest, script, margs in todo:
        if os.path.exists(stamp_path):
            os.remove(stamp_path)  # a half-written model must never look cached
        out = os.path.join(args.cache, name + ".onnx")
        cmd = [sys.executable, script, *margs, "--out", out]
        print(f"{name}: exporting: {' '.join(cmd)}", flush=True)
        t0 = time.time()
        r = subprocess.run(cmd)
        if r.returncode != 0:
            print(f"{name}: FAILED (exit code {r.returncode})", file=sys.stderr, flush=True)
            failed.append(name)
            continue
        missing = [f for f in model_files(args.cache, name) if not os.path.isfile(f)]
        if missing:
            print(f"{name}: FAILED: export wrote no {', '.join(missing)}", file=sys.stderr)
            failed.append(name)
            continue
        with open(stamp_path, "w", encoding="utf-8") as f:
            json.dump({"hash": digest, "args": margs}, f)
            f.write("\n")
        print(f"{name}: done in {time.time() - t0:.1f}s", flush=True)
    if failed:
        print(f"export failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
