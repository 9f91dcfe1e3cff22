#!/usr/bin/python3
"""train_fashion_alexnet.py — train a small AlexNet on Fashion-MNIST (CPU,
2 threads, a few minutes) and export it to ONNX twice: with native ONNX LRN
nodes, and with PyTorch's nn.LocalResponseNorm (which torch.onnx turns into
Pad/AveragePool/Pow/Div/... with an If). Writes the model cards, the label
list, the PyTorch state_dict, a training record and a few test images as PNG
into --out-dir (by default the committed models/fashion-alexnet/), and with
--npy-dir the normalized test set as .npy for the whole-model test. It does
not run ortc: tests/models/test_fashion.py does.

The network keeps the AlexNet paper's shape at 28x28: ReLU everywhere, LRN
after the ReLUs of the first two convolutions, overlapping max pooling 3/2,
five convolutions, three linear layers with dropout 0.5 before the first
two. Fashion-MNIST is read from Debian's dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist/*.gz, idx format).

  models/train_fashion_alexnet.py                       # rewrites models/fashion-alexnet/
  models/train_fashion_alexnet.py --npy-dir build/fashion
  models/train_fashion_alexnet.py --quick --out-dir /tmp/fq   # 2048 images, 1 epoch

Time on 2 idle cores: ~25-50 s per epoch, ~4 min in all for the default 6
epochs; --quick ~10 s. Other work on the same cores stretches this a lot
(the committed run: 762 s of training at load average 4-10).

Same seed, same code: the same architecture, data order and initialization;
PyTorch's CPU kernels are deterministic for a fixed thread count, so weights
usually repeat bitwise on one machine, and accuracy repeats within noise
elsewhere. Exit codes: 0 done, 1 accuracy below --min-accuracy or an export
check failed (nothing is written over --out-dir then), 2 usage error.
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_alexnet  # noqa: E402  (native ONNX LRN export, model cards, write_text)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "models", "fashion-alexnet")
DATA_DIR = "/usr/share/datasets/fashion-mnist"
DATA_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Training-set pixel statistics (after /255) rounded to 4 digits: 0.28604 and
# 0.35302 measured; the card and every .npy use these exact constants.
MEAN, STD = 0.2860, 0.3530

# LRN as in the AlexNet paper (size 5, beta 0.75, k 2), with alpha rescaled
# to normalized input. The paper's alpha 1e-4 acts on activations of raw
# pixels minus the mean; ours are those divided by 255 * STD = 90, so squares
# are 8100x smaller and the same normalization needs alpha 1e-4 * 90^2 = 0.81.
# (With alpha 1e-4 here, LRN is the constant scale 2^-0.75 to within ~1e-5:
# no test could tell it from no LRN at all.)
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 0.81, 0.75, 2.0

# Channels of conv1..conv5 and width of the two hidden linear layers.
WIDTHS = (24, 48, 64, 64, 64)
HIDDEN = 192

# Files in --out-dir. The native-LRN export is the one the README runs.
MODELS = {
    # name: (lrn kind, opset)
    "fashion_alexnet": ("onnx", 13),
    "fashion_alexnet_torchlrn_op13": ("torch", 13),
    "fashion_alexnet_torchlrn_op17": ("torch", 17),
}
STATE_DICT = "fashion_alexnet.pt"
LABELS_FILE = "fashion_mnist_labels.txt"
RECORD = "training.json"
SAMPLE_INDICES = (0, 1, 2)   # the first three test images (not chosen by outcome)


# ---- data -------------------------------------------------------------------

def read_idx(path):
    """An idx file (gzip): magic 0x0000 08 NDIM (unsigned bytes), NDIM
    big-endian uint32 dims, then the data. Returns a uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file (magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise ValueError(f"{path}: {len(raw) - offset} data bytes for dims {dims}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_split(split, data_dir=DATA_DIR):
    """(images uint8 [N, 28, 28], labels uint8 [N]) of 'train' or 'test'."""
    img_file, lbl_file = DATA_FILES[split]
    images = read_idx(os.path.join(data_dir, img_file))
    labels = read_idx(os.path.join(data_dir, lbl_file))
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValueError(f"{data_dir}: {split} images {images.shape}, labels {labels.shape}")
    if labels.max() >= len(CLASSES):
        raise ValueError(f"{data_dir}: {split} label {labels.max()} out of range")
    return images, labels


def normalize(images):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28]: x / 255 then (x - MEAN) / STD,
    in float32, the order and precision of torchvision's ToTensor + Normalize
    and of ortc's preprocessing for this card."""
    x = images.astype(np.float32) / np.float32(255)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x[:, None, :, :])


def write_test_set(npy_dir, data_dir=DATA_DIR):
    """npy_dir/test_images.npy (float32 [10000, 1, 28, 28], normalized as in
    training) and npy_dir/test_labels.npy (int64 [10000]). Returns both paths."""
    images, labels = load_split("test", data_dir)
    os.makedirs(npy_dir, exist_ok=True)
    paths = (os.path.join(npy_dir, "test_images.npy"), os.path.join(npy_dir, "test_labels.npy"))
    for path, arr in zip(paths, (normalize(images), labels.astype(np.int64))):
        tmp = f"{path}.{os.getpid()}.tmp.npy"   # concurrent writers never share one
        np.save(tmp, arr)
        os.replace(tmp, path)
    return paths


# ---- LRN --------------------------------------------------------------------

def _channel_window_sum(t, size, before):
    """out[:, c] = sum of t[:, j] for j in [c - before, c - before + size - 1]
    (zero outside [0, C-1]). t: (N, C, H, W)."""
    channels = t.shape[1]
    padded = F.pad(t, (0, 0, 0, 0, before, size - 1 - before))
    out = padded[:, 0:channels].clone()
    for i in range(1, size):
        out += padded[:, i:i + channels]
    return out


class LRNTrainFunction(torch.autograd.Function):
    """F.local_response_norm (torch's window: size // 2 channels before c)
    with a hand-written backward: about 1.5x faster to train than autograd
    through torch's avg_pool3d formulation, which dominates a step otherwise.
    check_lrn_train() compares both directions with PyTorch at startup."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        # s = k + alpha / size * sum of x^2 over the window; y = x * s^-beta
        s = _channel_window_sum(x * x, size, size // 2).mul_(alpha / size).add_(k)
        r = s.pow(-beta)
        ctx.save_for_backward(x, s, r)
        ctx.params = (size, alpha, beta)
        return x * r

    @staticmethod
    def backward(ctx, grad):
        # dx_c = g_c r_c - 2 alpha beta / size * x_c * sum over windows j that
        # contain c of g_j x_j r_j / s_j (the transposed window).
        x, s, r = ctx.saved_tensors
        size, alpha, beta = ctx.params
        t = grad * x * r / s
        dx = grad * r - (2 * alpha * beta / size) * x * _channel_window_sum(t, size, (size - 1) // 2)
        return dx, None, None, None, None


class LRNTrain(nn.Module):
    def __init__(self, size, alpha, beta, k):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return LRNTrainFunction.apply(x, self.size, self.alpha, self.beta, self.k)


def check_lrn_train():
    """LRNTrainFunction against F.local_response_norm (values, odd and even
    sizes) and against numerical gradients (torch.autograd.gradcheck, float64).
    Raises on a mismatch; takes milliseconds."""
    gen = torch.Generator().manual_seed(4321)
    x = torch.randn(2, 7, 3, 4, generator=gen, dtype=torch.float64)
    for size in (1, 2, 3, 4, 5):
        ours = LRNTrainFunction.apply(x, size, 0.8, 0.75, 2.0)
        ref = F.local_response_norm(x, size, alpha=0.8, beta=0.75, k=2.0)
        if not torch.allclose(ours, ref, rtol=1e-12, atol=1e-12):
            raise AssertionError(f"LRNTrainFunction != F.local_response_norm for size {size}")
        xg = x.clone().requires_grad_(True)
        if not torch.autograd.gradcheck(lambda t: LRNTrainFunction.apply(t, size, 0.8, 0.75, 2.0),
                                        (xg,), raise_exception=False):
            raise AssertionError(f"LRNTrainFunction's backward is wrong for size {size}")


def make_lrn(kind):
    """'train': LRNTrainFunction; 'onnx': export_alexnet.LRN (exports one ONNX
    LRN node; same function for odd sizes); 'torch': nn.LocalResponseNorm."""
    if kind == "train":
        return LRNTrain(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K)
    if kind == "onnx":
        return export_alexnet.LRN(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K)
    if kind == "torch":
        return nn.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA, beta=LRN_BETA, k=LRN_K)
    raise ValueError(f"unknown LRN kind '{kind}'")


# ---- network ----------------------------------------------------------------

class FashionAlexNet(nn.Module):
    """AlexNet at 28x28, one input channel, 10 classes. Shapes (N, C, H, W):
    conv1 5x5 -> (24, 24, 24), pool -> 11x11; conv2 5x5 pad 2 -> (48, 11, 11),
    pool -> 5x5; conv3..5 3x3 pad 1 -> (48, 5, 5), pool -> 2x2; 192 -> 128 ->
    128 -> 10. The LRN kind changes nothing in state_dict()."""

    def __init__(self, lrn="torch", widths=WIDTHS, hidden=HIDDEN, num_classes=len(CLASSES)):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=5),
            nn.ReLU(inplace=True),
            make_lrn(lrn),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            make_lrn(lrn),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(c5 * 2 * 2, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(x, 1))


def load_trained(state_dict_path, lrn="torch"):
    """The trained network (eval mode) from a state_dict this script saved."""
    model = FashionAlexNet(lrn=lrn)
    model.load_state_dict(torch.load(state_dict_path, map_location="cpu", weights_only=True))
    return model.eval()


def predict(model, x, batch=1000):
    """Logits float32 [N, 10] of model (eval mode) on x float32 [N, 1, 28, 28]."""
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(out).astype(np.float32)


def lrn_sensitivity(state_dict, x, labels):
    """How much LRN matters in the trained network: replace both LRNs by the
    constant scale k^-beta (what LRN is when alpha is negligible) and count the
    test images whose class changes. Returns (changed, accuracy without LRN)."""
    with_lrn = FashionAlexNet(lrn="torch")
    with_lrn.load_state_dict(state_dict)
    without = FashionAlexNet(lrn="torch")
    without.load_state_dict(state_dict)
    scale = LRN_K ** -LRN_BETA

    class ConstantScale(nn.Module):
        def forward(self, t):
            return t * scale

    for i, m in enumerate(without.features):
        if isinstance(m, nn.LocalResponseNorm):
            without.features[i] = ConstantScale()
    a = predict(with_lrn.eval(), x).argmax(1)
    b = predict(without.eval(), x).argmax(1)
    return int((a != b).sum()), float((b == labels).mean())


# ---- training ---------------------------------------------------------------

def train(model, images, labels, epochs, batch, lr, seed, log):
    """Adam with one-cycle learning rate, cross entropy, random horizontal
    flips. images float32 [N, 1, 28, 28], labels int64 [N]. Deterministic for
    a given seed (data order and flips from a seeded generator)."""
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    n = len(x_all)
    steps_per_epoch = (n + batch - 1) // batch
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                pct_start=0.2)
    gen = torch.Generator().manual_seed(seed + 1)
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        order = torch.randperm(n, generator=gen)
        flips = torch.rand(n, generator=gen) < 0.5
        loss_sum, correct = 0.0, 0
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            xb, yb = x_all[idx], y_all[idx]
            xb = torch.where(flips[idx].view(-1, 1, 1, 1), xb.flip(-1), xb)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((out.argmax(1) == yb).sum())
        log(f"epoch {epoch + 1}/{epochs}: loss {loss_sum / n:.4f}, train accuracy "
            f"{correct / n:.4f} (dropout on), {time.time() - t0:.1f}s")


# ---- export -----------------------------------------------------------------

def export(model, path, opset):
    """ONNX with input 'input' [batch, 1, 28, 28] and output 'output' [batch, 10]."""
    dummy = torch.zeros(2, 1, 28, 28)
    torch.onnx.export(model, dummy, path, opset_version=opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)


def check_export(path, lrn_kind, opset):
    """onnx.checker (full: strict shape inference too), the graph's I/O and
    the LRN form. Returns (ops in graph order, op histogram text, subgraph
    ops); raises ValueError on a problem."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    imports = {o.domain or "ai.onnx": o.version for o in m.opset_import}
    if imports.get("ai.onnx") != opset:
        raise ValueError(f"{path}: opset imports {imports}, expected ai.onnx {opset}")

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    if [(i.name, dims(i)) for i in m.graph.input] != [("input", ["batch", 1, 28, 28])]:
        raise ValueError(f"{path}: graph inputs {[(i.name, dims(i)) for i in m.graph.input]}")
    if [(o.name, dims(o)) for o in m.graph.output] != [("output", ["batch", 10])]:
        raise ValueError(f"{path}: graph outputs {[(o.name, dims(o)) for o in m.graph.output]}")
    ops = [n.op_type for n in m.graph.node]
    sub = []
    for n in m.graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                sub.append(f"{n.op_type}.{a.name}: {' '.join(x.op_type for x in a.g.node)}")
    if lrn_kind == "onnx" and (ops.count("LRN") != 2 or "Pow" in ops):
        raise ValueError(f"{path}: expected 2 native LRN nodes, got ops {ops}")
    if lrn_kind == "torch" and "LRN" in ops:
        raise ValueError(f"{path}: nn.LocalResponseNorm exported as LRN: {ops}")
    hist = {}
    for op in ops:
        hist[op] = hist.get(op, 0) + 1
    hist_text = " ".join(f"{k} {v}" for k, v in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))
    return ops, hist_text, sub


def card_text(name, lrn_kind, opset, accuracy, args):
    how = ("native ONNX LRN" if lrn_kind == "onnx"
           else "nn.LocalResponseNorm as exported by torch.onnx (Pad/AveragePool/Pow/Div, If)")
    desc = (f"AlexNet-style CNN trained on Fashion-MNIST ({args.epochs} epochs, seed {args.seed}"
            f"{', --quick' if args.quick else ''}), test accuracy {accuracy * 100:.2f}%, "
            f"{how}, ONNX opset {opset}, dynamic batch")
    return export_alexnet.card_yaml(name, desc, "trained", 28, 0, "none", "GRAY", [MEAN], [STD],
                                    LABELS_FILE)


def sample_name(index, label):
    slug = CLASSES[label].lower().replace("/", "-").replace(" ", "-")
    return f"test{index:05d}-{slug}.png"


# ---- main -------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train a small AlexNet on Fashion-MNIST and export it to ONNX "
                    "(native LRN, and nn.LocalResponseNorm at opsets 13 and 17).")
    p.add_argument("--out-dir", default=DEFAULT_OUT,
                   help=f"models, cards, labels, state_dict, samples (default {DEFAULT_OUT})")
    p.add_argument("--npy-dir", help="also write test_images.npy / test_labels.npy here "
                                     "(the build tree: they are 31 MB)")
    p.add_argument("--data-dir", default=DATA_DIR, help=f"Fashion-MNIST idx .gz files (default {DATA_DIR})")
    p.add_argument("--epochs", type=int, help="default 6 (--quick: 1)")
    p.add_argument("--batch", type=int, default=128, help="training batch (default 128)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default 3e-3)")
    p.add_argument("--seed", type=int, default=0, help="initialization, data order and flips (default 0)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--min-accuracy", type=float,
                   help="fail below this test accuracy, writing nothing (default 0.88; --quick: 0)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 2048 training and 1000 test images, 1 epoch; refuses "
                        "to write into the committed models/fashion-alexnet/")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 1 if args.quick else 6
    if args.min_accuracy is None:
        args.min_accuracy = 0.0 if args.quick else 0.88
    if args.epochs < 1 or args.batch < 1 or args.threads < 1 or not args.lr > 0:
        p.error("--epochs, --batch, --threads must be >= 1 and --lr > 0")
    if args.quick and os.path.realpath(args.out_dir) == os.path.realpath(DEFAULT_OUT):
        p.error("--quick would overwrite the committed models; give --out-dir")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import onnx  # noqa: F401  (after argument parsing: --help works without it)
    from PIL import Image

    t_start, cpu_start = time.time(), time.process_time()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.set_flush_denormal(True)
    # torch 1.13 flags g.op in symbolic functions as deprecated, yet it is
    # the documented way to emit a node; the warning is noise here.
    warnings.filterwarnings("ignore", message=".*_graph_op' is deprecated", category=FutureWarning)
    # nn.LocalResponseNorm's export: torch cannot fold its reversed Slice of
    # the pads and says so for every node; the graph is valid all the same
    # (check_export runs the ONNX checker with strict shape inference).
    warnings.filterwarnings("ignore", message="Constant folding - Only steps=1", category=UserWarning)
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant", category=UserWarning)

    def log(msg):
        print(f"[{time.time() - t_start:6.1f}s] {msg}", flush=True)

    check_lrn_train()
    export_alexnet.check_lrn_against_torch()

    train_u8, train_labels = load_split("train", args.data_dir)
    test_u8, test_labels = load_split("test", args.data_dir)
    if args.quick:
        train_u8, train_labels = train_u8[:2048], train_labels[:2048]
        test_u8, test_labels = test_u8[:1000], test_labels[:1000]
    x_train, y_train = normalize(train_u8), train_labels.astype(np.int64)
    x_test, y_test = normalize(test_u8), test_labels.astype(np.int64)
    log(f"data: {len(x_train)} training, {len(x_test)} test images from {args.data_dir}; "
        f"training-set mean {train_u8.mean() / 255:.5f}, std {(train_u8 / 255).std():.5f} "
        f"(constants {MEAN}, {STD})")

    torch.manual_seed(args.seed)
    model = FashionAlexNet(lrn="train")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params} parameters; LRN size {LRN_SIZE}, alpha {LRN_ALPHA}, beta {LRN_BETA}, "
        f"k {LRN_K}; {args.epochs} epochs, batch {args.batch}, Adam lr {args.lr} (one-cycle), "
        f"seed {args.seed}, {args.threads} threads")
    t0, c0 = time.time(), time.process_time()
    train(model, x_train, y_train, args.epochs, args.batch, args.lr, args.seed, log)
    train_wall, train_cpu = time.time() - t0, time.process_time() - c0
    log(f"training: {train_wall:.1f}s wall, {train_cpu:.1f}s CPU")

    # Evaluate as the tests do: the same weights under torch's own LRN.
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model_torch = FashionAlexNet(lrn="torch")
    model_torch.load_state_dict(state)
    model_torch.eval()
    logits = predict(model_torch, x_test)
    accuracy = float((logits.argmax(1) == y_test).mean())
    same_as_train = int((predict(model.eval(), x_test).argmax(1) == logits.argmax(1)).sum())
    changed, acc_no_lrn = lrn_sensitivity(state, x_test, y_test)
    log(f"test accuracy {accuracy:.4f} ({int(round(accuracy * len(y_test)))}/{len(y_test)}); "
        f"training LRN and nn.LocalResponseNorm agree on {same_as_train}/{len(y_test)}")
    log(f"LRN matters: as a constant scale {LRN_K}^-{LRN_BETA} it changes the class of {changed} "
        f"test images (accuracy {acc_no_lrn:.4f})")
    if accuracy < args.min_accuracy:
        log(f"FAIL: test accuracy {accuracy:.4f} < --min-accuracy {args.min_accuracy}; nothing written")
        return 1

    # Export into a staging folder first: a failed check leaves --out-dir alone.
    os.makedirs(args.out_dir, exist_ok=True)
    stage = os.path.join(args.out_dir, ".staging")
    shutil.rmtree(stage, ignore_errors=True)   # left over by an interrupted run
    os.makedirs(stage)
    exports = {}
    for name, (lrn_kind, opset) in MODELS.items():
        m = FashionAlexNet(lrn=lrn_kind)
        m.load_state_dict(state)
        m.eval()
        path = os.path.join(stage, name + ".onnx")
        t0 = time.time()
        export(m, path, opset)
        try:
            ops, hist, sub = check_export(path, lrn_kind, opset)
        except Exception as e:  # checker errors, wrong I/O, wrong LRN form
            log(f"FAIL: {name}: {e}")
            return 1
        exports[name] = {"lrn": lrn_kind, "opset": opset, "ops": ops, "histogram": hist,
                         "subgraphs": sub}
        export_alexnet.write_text(os.path.join(stage, name + ".yaml"),
                                  card_text(name, lrn_kind, opset, accuracy, args))
        log(f"{name}: opset {opset}, {len(ops)} nodes ({time.time() - t0:.1f}s): {hist}")
        log(f"{name}: ops in order: {' '.join(ops)}")
        for s in sub:
            log(f"{name}: subgraph {s}")

    torch.save(state, os.path.join(stage, STATE_DICT))
    export_alexnet.write_text(os.path.join(stage, LABELS_FILE),
                              "".join(c + "\n" for c in CLASSES))
    samples = []
    for i in SAMPLE_INDICES:
        fname = sample_name(i, int(test_labels[i]))
        Image.fromarray(test_u8[i], mode="L").save(os.path.join(stage, fname), optimize=True)
        samples.append({"file": fname, "test_index": i, "label": CLASSES[test_labels[i]],
                        "predicted": CLASSES[int(logits[i].argmax())]})
    record = {
        "seed": args.seed, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
        "quick": args.quick, "threads": args.threads, "parameters": n_params,
        "widths": list(WIDTHS), "hidden": HIDDEN,
        "lrn": {"size": LRN_SIZE, "alpha": LRN_ALPHA, "beta": LRN_BETA, "k": LRN_K},
        "mean": MEAN, "std": STD,
        "train_images": len(x_train), "test_images": len(x_test),
        "test_accuracy": accuracy,
        "lrn_as_constant_scale": {"changed_classes": changed, "test_accuracy": acc_no_lrn},
        "training_seconds_wall": round(train_wall, 1), "training_seconds_cpu": round(train_cpu, 1),
        "torch": torch.__version__, "onnx": onnx.__version__,
        "exports": exports, "samples": samples,
    }
    export_alexnet.write_text(os.path.join(stage, RECORD), json.dumps(record, indent=1) + "\n")
    for fname in sorted(os.listdir(stage)):
        os.replace(os.path.join(stage, fname), os.path.join(args.out_dir, fname))
    os.rmdir(stage)

    if args.npy_dir:
        for path in write_test_set(args.npy_dir, args.data_dir):
            log(f"wrote {path} ({os.path.getsize(path)} bytes)")
    total = 0
    for fname in sorted(os.listdir(args.out_dir)):
        size = os.path.getsize(os.path.join(args.out_dir, fname))
        total += size
        log(f"wrote {os.path.join(args.out_dir, fname)} ({size} bytes)")
    log(f"done: {total} bytes in {args.out_dir}; total {time.time() - t_start:.1f}s wall, "
        f"{time.process_time() - cpu_start:.1f}s CPU; test accuracy {accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
