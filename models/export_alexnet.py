#!/usr/bin/python3
"""export_alexnet.py — export an AlexNet variant from PyTorch to ONNX, with
its model card (PATH.yaml, format of tools/card.h), the ImageNet label list
and a reference pair (PATH.input.npy, PATH.expected.npy) computed by PyTorch,
the oracle of ortc's whole-model tests. It does not run ortc.

Variants:
  seed         the network of the seed article: 5 conv + 3 linear layers,
               227x227 input, flattened with x.view(x.size(0), -1)
  seed-lrn     the same with Local Response Normalization (AlexNet paper:
               size 5, alpha 1e-4, beta 0.75, k 2) after the ReLUs of conv1
               and conv2, exported as native ONNX LRN nodes
  torchvision  torchvision.models.alexnet(), 224x224 input

Weights are random (torch.manual_seed(--seed) before construction) unless
--pretrained is given (torchvision only): that loads IMAGENET1K_V1 through
torchvision and needs internet access or a populated ~/.cache/torch.

--int8 exports the variant quantized by PyTorch's own tools instead
(models/export_quant.py's recipe: BatchNorm folded, FX fake quantization
with per-channel int8 weights and uint8 activations calibrated on
--calibration crops of skimage's photos, exported as QuantizeLinear/
DequantizeLinear pairs; opset 13 or later); the reference output is the
fake-quant model's.

Example:
  models/export_alexnet.py seed --opset 11 --out build/alexnet.onnx
  models/export_alexnet.py seed --dynamic-batch --test-batch 4 --out /tmp/a.onnx
  models/export_alexnet.py seed --int8 --out build/quant/seed_int8.onnx
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import export_common
from export_common import IMAGENET_MEAN, IMAGENET_STD, image_input, write_text  # noqa: F401

LABELS_FILE = "imagenet_labels.txt"


# ---- LRN with the ONNX definition ------------------------------------------

def lrn_onnx(x, size, alpha, beta, bias):
    """ONNX LRN (opset 1 and 13), written from the operator's definition:
    square_sum[n, c, h, w] = sum of x[n, i, h, w]^2 for i in
    [max(0, c - floor((size-1)/2)), min(C-1, c + ceil((size-1)/2))];
    y = x / (bias + alpha / size * square_sum) ^ beta.
    x: (N, C, ...)."""
    channels = x.shape[1]
    below = (size - 1) // 2           # floor((size-1)/2) channels before c
    above = size - 1 - below          # ceil((size-1)/2) channels after c
    # Zero channels outside [0, C-1] stand for the clipped summation range.
    pad = [0, 0] * (x.dim() - 2) + [below, above]
    sq = F.pad(x * x, pad)            # channel c of x is channel c + below of sq
    square_sum = sq[:, 0:channels]
    for i in range(1, size):
        square_sum = square_sum + sq[:, i:i + channels]
    return x / (bias + alpha / size * square_sum).pow(beta)


class LRNFunction(torch.autograd.Function):
    """Runs lrn_onnx in PyTorch; exports as one ONNX LRN node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, bias):
        return lrn_onnx(x, size, alpha, beta, bias)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, bias):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=bias)


class LRN(nn.Module):
    def __init__(self, size=5, alpha=1e-4, beta=0.75, bias=2.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias

    def forward(self, x):
        return LRNFunction.apply(x, self.size, self.alpha, self.beta, self.bias)

    def extra_repr(self):
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, bias={self.bias}"


def check_lrn_against_torch():
    """lrn_onnx must equal F.local_response_norm for odd sizes (for even
    sizes the two place the window differently: torch pads size//2 channels
    before c, ONNX floor((size-1)/2)). Raises on a mismatch."""
    gen = torch.Generator().manual_seed(1234)
    x = torch.randn(2, 7, 5, 4, generator=gen)
    # A large alpha makes the normalization term matter; the paper's values too.
    for size in (1, 3, 5, 7, 9):
        for alpha, beta, bias in ((0.5, 0.75, 1.0), (1e-4, 0.75, 2.0), (2.0, 0.5, 0.5)):
            ours = lrn_onnx(x, size, alpha, beta, bias)
            ref = F.local_response_norm(x, size, alpha=alpha, beta=beta, k=bias)
            err = (ours - ref).abs().max().item()
            if not torch.allclose(ours, ref, rtol=1e-5, atol=1e-6):
                raise AssertionError(f"lrn_onnx != F.local_response_norm for size {size} "
                                     f"alpha {alpha} beta {beta} k {bias}: max error {err:g}")


def check_lrn_sensitivity(model, x, expected):
    """How much the model's output on x changes when every LRN becomes the
    constant scale x / bias^beta, relative to max|output|. With the paper's
    parameters (alpha 1e-4, k 2) and unit-variance inputs this is ~5e-6:
    below the tests' 1e-4 tolerance, so such a test could not tell a working
    LRN from a broken one. Inputs with the spread of raw pixels minus the
    mean (as in the paper) make the term matter; the export cache uses that.
    Returns a one-line report; warns on stderr when the change is < 1e-2."""
    lrns = [(i, m) for i, m in enumerate(model.features) if isinstance(m, LRN)]

    class ConstantScale(nn.Module):
        def __init__(self, lrn):
            super().__init__()
            self.scale = lrn.bias ** -lrn.beta

        def forward(self, t):
            return t * self.scale

    for i, m in lrns:
        model.features[i] = ConstantScale(m)
    try:
        with torch.no_grad():
            flat = model(torch.from_numpy(x)).numpy()
    finally:
        for i, m in lrns:
            model.features[i] = m
    change = float(np.abs(flat - expected).max() / np.abs(expected).max())
    msg = f"replacing LRN by a constant scale changes the output by {change:.2e} * max|output|"
    if change < 1e-2:
        print(f"warning: {msg}; the test input cannot check LRN (raise --input-std)",
              file=sys.stderr)
    return msg


# ---- networks ---------------------------------------------------------------

class SeedAlexNet(nn.Module):
    """The seed article's AlexNet (input 227x227); with lrn=True, LRN after
    the ReLUs of conv1 and conv2 as in the AlexNet paper."""

    def __init__(self, num_classes=1000, lrn=False):
        super().__init__()
        norm = (lambda: [LRN(5, 1e-4, 0.75, 2.0)]) if lrn else (lambda: [])
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=0),
            nn.ReLU(inplace=True),
            *norm(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            *norm(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


VARIANTS = {
    # name: (input size, description, default constant folding)
    "seed": (227, "AlexNet of the seed article", False),
    "seed-lrn": (227, "AlexNet of the seed article with LRN after conv1 and conv2", True),
    "torchvision": (224, "torchvision.models.alexnet", True),
}


def build_model(variant, pretrained, seed):
    torch.manual_seed(seed)
    if variant == "seed":
        model = SeedAlexNet()
    elif variant == "seed-lrn":
        check_lrn_against_torch()
        model = SeedAlexNet(lrn=True)
    elif variant == "torchvision":
        weights = torchvision.models.AlexNet_Weights.IMAGENET1K_V1 if pretrained else None
        model = torchvision.models.alexnet(weights=weights)
    else:
        raise ValueError(f"unknown variant '{variant}'")
    return model.eval()


# ---- side files --------------------------------------------------------------

def card_text(variant, args, size, batch_desc):
    desc, weights = VARIANTS[variant][1], ("pretrained" if args.pretrained else "random")
    if not args.pretrained:
        desc += f", random weights (seed {args.seed})"
    if args.int8:
        desc += (f", PyTorch fake-quant int8 QDQ (per-channel weights, calibrated on "
                 f"{args.calibration} photo crops)")
    desc += f", ONNX opset {args.opset}, {batch_desc}"
    return card_yaml(variant, desc, weights, size, round(size * 256 / 224), "center", "RGB",
                     IMAGENET_MEAN, IMAGENET_STD, LABELS_FILE)


def card_yaml(name, desc, weights, size, resize, crop, color, mean, std, labels):
    """A model card (tools/card.h) for a size x size NCHW image input named
    'input' and a logits output named 'output' (export_common.image_input);
    train_fashion_alexnet.py writes its cards with it too."""
    return export_common.card_yaml(name, desc, weights, "input", "output",
                                   image_input(size, resize, crop, color, mean, std), labels)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export an AlexNet variant to ONNX with its model card and a "
                    "PyTorch reference input/output pair.")
    p.add_argument("variant", choices=sorted(VARIANTS))
    p.add_argument("--opset", type=int, default=13, help="ONNX opset, 9..17 (default 13)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--batch", type=int, help="fixed batch size (default 1)")
    g.add_argument("--dynamic-batch", action="store_true",
                   help="dim 0 of input and output is the symbolic 'batch'")
    p.add_argument("--test-batch", type=int,
                   help="batch of the reference pair (default: --batch, or 2 when dynamic)")
    p.add_argument("--pretrained", action="store_true",
                   help="torchvision only: IMAGENET1K_V1 weights (needs internet or ~/.cache/torch)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and test input (default 0)")
    p.add_argument("--input-std", type=float, default=1.0,
                   help="standard deviation of the normal test input (default 1, the spread of "
                        "ImageNet-normalized pixels; LRN needs more, see check_lrn_sensitivity)")
    p.add_argument("--constant-folding", choices=("auto", "on", "off"), default="auto",
                   help="torch.onnx.export do_constant_folding; auto: off for 'seed', on otherwise")
    p.add_argument("--int8", action="store_true",
                   help="quantized by PyTorch (export_quant.py's recipe), exported as QDQ")
    p.add_argument("--calibration", type=int, default=64,
                   help="--int8: calibration crops of skimage's photos (default 64)")
    p.add_argument("--out", required=True, help="output PATH.onnx")
    args = p.parse_args(argv)
    if args.int8 and args.opset < 13:
        p.error("--int8 needs --opset 13 or later (per-channel QuantizeLinear)")
    if not 9 <= args.opset <= 17:
        p.error("--opset must be in 9..17")
    if not args.out.endswith(".onnx"):
        p.error("--out must end with .onnx")
    if args.pretrained and args.variant != "torchvision":
        p.error("--pretrained exists only for the torchvision variant")
    if args.batch is not None and args.batch < 1:
        p.error("--batch must be >= 1")
    if not args.dynamic_batch and args.batch is None:
        args.batch = 1
    if args.test_batch is None:
        args.test_batch = 2 if args.dynamic_batch else args.batch
    if args.test_batch < 1:
        p.error("--test-batch must be >= 1")
    if not args.dynamic_batch and args.test_batch != args.batch:
        p.error("--test-batch must equal --batch for a fixed-batch export")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import onnx  # after argument parsing: --help works without it

    torch.set_num_threads(2)
    # torch 1.13 flags g.op in symbolic functions as deprecated, yet it is
    # the documented way to emit a node; the warning is noise here.
    warnings.filterwarnings("ignore", message=".*_graph_op' is deprecated", category=FutureWarning)
    size, _, fold_default = VARIANTS[args.variant]
    fold = {"auto": fold_default, "on": True, "off": False}[args.constant_folding]
    stem = args.out[:-len(".onnx")]
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    paths = {
        "model": args.out,
        "card": stem + ".yaml",
        "labels": os.path.join(out_dir, LABELS_FILE),
        "input": stem + ".input.npy",
        "expected": stem + ".expected.npy",
    }

    t0 = time.time()
    model = build_model(args.variant, args.pretrained, args.seed)
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((args.test_batch, 3, size, size), dtype=np.float32)
    x *= np.float32(args.input_std)
    if args.int8:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import export_quant
        calib, _ = export_quant.photo_crops(size, args.calibration, args.seed)
        model = export_quant.fake_quantize(model, torch.from_numpy(x[:1]), calib,
                                           leaf_modules=[LRN])
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy().astype(np.float32)
    t_model = time.time() - t0

    # The seed variant keeps its shape computation: do_constant_folding=False
    # leaves x.view(x.size(0), -1) as Constant/Unsqueeze/Concat -> Reshape
    # (fixed batch; the tracer turns x.size(0) into a constant) or as
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape (--dynamic-batch), and
    # ortc must evaluate that chain itself instead of finding a folded shape.
    dynamic_axes = {"input": {0: "batch"}, "output": {0: "batch"}} if args.dynamic_batch else None
    t0 = time.time()
    torch.onnx.export(model, torch.from_numpy(x), args.out, opset_version=args.opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes=dynamic_axes, do_constant_folding=fold)
    t_export = time.time() - t0

    t0 = time.time()
    m = onnx.load(args.out)
    onnx.checker.check_model(m)
    # What check_model's full_check adds (strict shape inference), without
    # copying 240 MB of weights around: inference needs initializer dims only.
    for init in m.graph.initializer:
        init.ClearField("raw_data")
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    t_check = time.time() - t0
    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    want = ["batch" if args.dynamic_batch else args.batch, 3, size, size]
    if [i.name for i in m.graph.input] != ["input"] or dims != want:
        raise SystemExit(f"{args.out}: unexpected graph input {m.graph.input}")
    if [o.name for o in m.graph.output] != ["output"]:
        raise SystemExit(f"{args.out}: unexpected graph output {m.graph.output}")
    ops = [n.op_type for n in m.graph.node]
    del m

    batch_desc = "dynamic batch" if args.dynamic_batch else f"batch {args.batch}"
    write_text(paths["card"], card_text(args.variant, args, size, batch_desc))
    categories = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["categories"]
    write_text(paths["labels"], "".join(c + "\n" for c in categories))
    np.save(paths["input"], x)
    np.save(paths["expected"], expected)

    print(f"{args.variant}: opset {args.opset}, {batch_desc}, test batch {args.test_batch}, "
          f"constant folding {'on' if fold else 'off'}, weights "
          f"{'pretrained' if args.pretrained else f'random (seed {args.seed})'}")
    print(f"test input: normal, std {args.input_std:g}, shape {list(x.shape)}")
    if args.variant == "seed-lrn" and not args.int8:
        print("LRN sensitivity: " + check_lrn_sensitivity(model, x, expected))
    print(f"ops: {' '.join(ops)}")
    print(f"time: model+reference {t_model:.1f}s, export {t_export:.1f}s, check {t_check:.1f}s")
    for key in ("model", "card", "labels", "input", "expected"):
        print(f"wrote {paths[key]} ({os.path.getsize(paths[key])} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
