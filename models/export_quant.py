#!/usr/bin/python3
"""export_quant.py — int8 models in the QDQ format made with PyTorch's own
quantization tools, for ortc's tests and benchmarks: models ortc did not
quantize itself. It does not run ortc.

The recipe (fake_quantize below), the same for every model:
  1. BatchNormalization folded into the convolution before it
     (torch.nn.utils.fusion.fuse_conv_bn_eval on the traced graph), as
     PyTorch's own post-training flow does;
  2. torch.ao.quantization FX prepare (prepare_qat_fx: FakeQuantize modules)
     with per-output-channel symmetric int8 weight observers
     (PerChannelMinMaxObserver, [-128, 127]) and uint8 histogram activation
     observers (HistogramObserver, [0, 255], reduce_range off: ONNX's
     QuantizeLinear has no reduced range);
  3. calibration: observers on, fake quantization off, on real images;
  4. observers off, fake quantization on: the fake-quant model, exported by
     torch.onnx.export as QuantizeLinear/DequantizeLinear pairs (opset 13:
     per-channel weights need QuantizeLinear's axis).

Models:
  resnet18, resnet50  torchvision, random weights (torch.manual_seed(--seed);
                      no network access is assumed), 224x224, calibrated on
                      crops of skimage's photos in torchvision's ImageNet
                      preprocessing
  fashion             the trained Fashion-MNIST AlexNet (models/fashion-alexnet,
                      ONNX LRN), calibrated on the first 1,000 training images
  (models/export_alexnet.py --int8 makes the AlexNet variants with the same
  functions.)

Each export writes PATH.onnx, PATH.yaml (the model card), PATH.input.npy and
PATH.expected.npy (PyTorch's fake-quant output on that input: the oracle of
ortc's tests) and PATH.fp32.npy (the float model's output on it).

  models/export_quant.py resnet18 --out build/quant/resnet18_int8.onnx
  models/export_quant.py fashion --out build/quant/fashion_alexnet_int8.onnx

The zoo export (models/export_zoo.py, branch 'zoo') was not on main when this
was written; its models can take the same recipe through fake_quantize().
"""
import argparse
import glob
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.fx
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


# ---- the recipe --------------------------------------------------------------

def fold_batchnorm(model, leaf_modules=()):
    """model (eval mode) traced by torch.fx (modules of the classes in
    leaf_modules as opaque calls) with every BatchNorm2d that follows a
    Conv2d (its only reader) folded into the convolution's weights and bias
    and removed from the graph."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    leaves = tuple(leaf_modules)

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualified_name):
            return isinstance(m, leaves) or super().is_leaf_module(m, qualified_name)

    model.eval()
    gm = torch.fx.GraphModule(model, Tracer().trace(model))
    mods = dict(gm.named_modules())
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or not isinstance(mods[node.target], nn.BatchNorm2d):
            continue
        prev = node.args[0]
        if (prev.op != "call_module" or not isinstance(mods[prev.target], nn.Conv2d)
                or len(prev.users) != 1):
            continue
        fused = fuse_conv_bn_eval(mods[prev.target], mods[node.target])
        parent, _, name = prev.target.rpartition(".")
        setattr(gm.get_submodule(parent) if parent else gm, name, fused)
        node.replace_all_uses_with(prev)
        gm.graph.erase_node(node)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return gm


def qconfig_mapping():
    """Per-channel symmetric int8 weights, uint8 histogram-calibrated activations."""
    import torch.ao.quantization as tq
    act = tq.FakeQuantize.with_args(observer=tq.HistogramObserver, quant_min=0, quant_max=255,
                                    dtype=torch.quint8, reduce_range=False)
    wt = tq.FakeQuantize.with_args(observer=tq.PerChannelMinMaxObserver, quant_min=-128,
                                   quant_max=127, dtype=torch.qint8,
                                   qscheme=torch.per_channel_symmetric)
    return tq.QConfigMapping().set_global(tq.QConfig(activation=act, weight=wt))


def fake_quantize(model, example, calibration, leaf_modules=(), batch=32):
    """The fake-quant version of model (eval mode) calibrated on the float32
    array `calibration` (N, ...) in batches; modules of the classes in
    leaf_modules are not traced into (they keep float32 inside)."""
    import torch.ao.quantization as tq
    from torch.ao.quantization.fx.custom_config import PrepareCustomConfig
    from torch.ao.quantization.quantize_fx import prepare_qat_fx
    gm = fold_batchnorm(model, leaf_modules)
    cfg = PrepareCustomConfig().set_non_traceable_module_classes(list(leaf_modules))
    fq = prepare_qat_fx(gm.train(), qconfig_mapping(), (example,), prepare_custom_config=cfg)
    fq.eval()
    fq.apply(tq.disable_fake_quant)
    fq.apply(tq.enable_observer)
    with torch.no_grad():
        for i in range(0, len(calibration), batch):
            fq(torch.from_numpy(calibration[i:i + batch]))
    fq.apply(tq.disable_observer)
    fq.apply(tq.enable_fake_quant)
    return fq


def export_qdq(fq, example, path, dynamic_batch):
    """torch.onnx.export of the fake-quant model (QDQ, opset 13), checked."""
    import onnx
    warnings.filterwarnings("ignore", message=".*_graph_op' is deprecated", category=FutureWarning)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(fq, example, path, opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes=axes)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return [n.op_type for n in m.graph.node]


def predict(model, x, batch=250):
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + batch])).numpy()
                               for i in range(0, len(x), batch)]).astype(np.float32)


# ---- calibration data ------------------------------------------------------------

def photo_crops(size, count, seed):
    """`count` float32 (3, size, size) ImageNet-normalized crops of skimage's
    colour photos: each photo resized so its shorter side is
    round(size * 256 / 224) (bilinear, antialiased), then random crops and
    horizontal flips (numpy generator `seed`)."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    photos = []
    for path in sorted(glob.glob(os.path.join(SKIMAGE_DATA, "*.png")) +
                       glob.glob(os.path.join(SKIMAGE_DATA, "*.jpg"))):
        try:
            with Image.open(path) as im:
                if im.mode != "RGB" or min(im.size) < 128:
                    continue
                short = round(size * 256 / 224)
                w, h = im.size
                scale = short / min(w, h)
                im = im.resize((max(size, round(w * scale)), max(size, round(h * scale))),
                               Image.BILINEAR)
                photos.append(np.asarray(im, dtype=np.float32) / 255.0)
        except OSError:  # Debian ships some of skimage's files as stubs
            continue
    if not photos:
        raise SystemExit(f"no colour photos in {SKIMAGE_DATA} (python3-skimage)")
    mean = np.array(IMAGENET_MEAN, np.float32)
    std = np.array(IMAGENET_STD, np.float32)
    out = np.empty((count, 3, size, size), np.float32)
    for i in range(count):
        p = photos[i % len(photos)]
        y = rng.integers(0, p.shape[0] - size + 1)
        x = rng.integers(0, p.shape[1] - size + 1)
        crop = p[y:y + size, x:x + size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out[i] = ((crop - mean) / std).transpose(2, 0, 1)
    return out, len(photos)


# ---- side files ---------------------------------------------------------------------

def write_card(path, name, desc, size, gray=False):
    sys.path.insert(0, HERE)
    import export_alexnet
    if gray:
        import train_fashion_alexnet as tfa
        text = export_alexnet.card_yaml(name, desc, "trained", size, 0, "none", "GRAY",
                                        [tfa.MEAN], [tfa.STD], tfa.LABELS_FILE)
    else:
        text = export_alexnet.card_yaml(name, desc, "random", size, round(size * 256 / 224),
                                        "center", "RGB", IMAGENET_MEAN, IMAGENET_STD,
                                        export_alexnet.LABELS_FILE)
    export_alexnet.write_text(path, text)


def save_outputs(stem, x, expected, fp32):
    np.save(stem + ".input.npy", x)
    np.save(stem + ".expected.npy", expected)
    np.save(stem + ".fp32.npy", fp32)


# ---- models ---------------------------------------------------------------------------

def export_torchvision(args):
    import torchvision
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.model)().eval()
    size = 224
    calib, n_photos = photo_crops(size, args.calibration, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    x = photo_crops(size, args.test_batch, args.seed + 7)[0]
    x += rng.standard_normal(x.shape, dtype=np.float32) * np.float32(0.01)
    fq = fake_quantize(model, torch.from_numpy(x[:1]), calib)
    expected, fp32 = predict(fq, x), predict(model, x)
    ops = export_qdq(fq, torch.from_numpy(x[:1]), args.out, dynamic_batch=True)
    stem = args.out[:-len(".onnx")]
    write_card(stem + ".yaml", f"{args.model}-int8",
               f"torchvision.models.{args.model}, random weights (seed {args.seed}), PyTorch "
               f"fake-quant int8 (per-channel weights, calibrated on {args.calibration} crops of "
               f"{n_photos} skimage photos), QDQ opset 13, dynamic batch", size)
    save_outputs(stem, x, expected, fp32)
    return ops, expected, fp32, None


def export_fashion(args):
    sys.path.insert(0, HERE)
    import export_alexnet
    import train_fashion_alexnet as tfa
    model = tfa.load_trained(os.path.join(HERE, "fashion-alexnet", tfa.STATE_DICT), lrn="onnx")
    images, _ = tfa.load_split("train", args.data_dir)
    calib = tfa.normalize(images[:args.calibration])
    test_images, test_labels = tfa.load_split("test", args.data_dir)
    x = tfa.normalize(test_images[:args.test_batch])
    fq = fake_quantize(model, torch.from_numpy(x[:1]), calib, leaf_modules=[export_alexnet.LRN])
    expected, fp32 = predict(fq, x), predict(model, x)
    ops = export_qdq(fq, torch.from_numpy(x[:1]), args.out, dynamic_batch=True)
    stem = args.out[:-len(".onnx")]
    write_card(stem + ".yaml", "fashion_alexnet_int8",
               f"the Fashion-MNIST AlexNet, PyTorch fake-quant int8 (per-channel weights, "
               f"calibrated on the first {args.calibration} training images), QDQ opset 13, "
               "dynamic batch", 28, gray=True)
    save_outputs(stem, x, expected, fp32)
    # accuracy of PyTorch's fake-quant model on the whole test set, for the record
    all_x = tfa.normalize(test_images)
    acc_fq = float((predict(fq, all_x).argmax(1) == test_labels).mean())
    acc_fp32 = float((predict(model, all_x).argmax(1) == test_labels).mean())
    return ops, expected, fp32, f"test accuracy: PyTorch fake-quant {acc_fq:.4f}, float {acc_fp32:.4f}"


def parse_args(argv):
    p = argparse.ArgumentParser(description="Export an int8 QDQ model made with PyTorch's "
                                "fake quantization, with its card and reference outputs.")
    p.add_argument("model", choices=("resnet18", "resnet50", "fashion"))
    p.add_argument("--out", required=True, help="output PATH.onnx")
    p.add_argument("--seed", type=int, default=0, help="weights and crops (default 0)")
    p.add_argument("--calibration", type=int, default=None,
                   help="calibration images (default: 64 photo crops; fashion: 1000)")
    p.add_argument("--test-batch", type=int, default=2,
                   help="images in the reference pair (default 2)")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist",
                   help="Fashion-MNIST idx files (fashion)")
    args = p.parse_args(argv)
    if not args.out.endswith(".onnx"):
        p.error("--out must end with .onnx")
    if args.calibration is None:
        args.calibration = 1000 if args.model == "fashion" else 64
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(2)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    t0 = time.time()
    if args.model == "fashion":
        ops, expected, fp32, note = export_fashion(args)
    else:
        ops, expected, fp32, note = export_torchvision(args)
    from collections import Counter
    hist = Counter(ops)
    print(f"{args.model}: {len(ops)} nodes: " + " ".join(f"{k} {v}" for k, v in hist.most_common()))
    rel = float(np.abs(expected - fp32).max() / np.abs(fp32).max())
    print(f"fake-quant vs float output: max|diff| = {rel:.3e} * max|float|; argmax equal "
          f"{int((expected.argmax(1) == fp32.argmax(1)).sum())}/{len(fp32)}")
    if note:
        print(note)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
