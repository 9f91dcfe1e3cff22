#!/usr/bin/python3
"""export_zoo.py — the benchmark zoo: torchvision 0.14 models (and a small
text transformer, and the AlexNet variants of export_alexnet.py) exported
from PyTorch 1.13 to ONNX with a dynamic batch dimension, each with a model
card (NAME.yaml, the format of tools/card.h), a fixed seeded input
(NAME.input.npy), PyTorch's own output for it (NAME.expected.npy, eval mode,
no_grad) and a description (NAME.meta.json: input/output names, dtype and
shape, opset, node count, kind). It does not run ortc.

Weights are random and seeded (torch.manual_seed): nothing is downloaded,
no pretrained weights are ever used. Tensors a fresh network holds as one
constant (BatchNorm statistics 0/1, LayerNorm 1/0, zero biases, ViT's
zero-initialized head and class token, ConvNeXt's 1e-6 layer scale) are
replaced by seeded random values, so an output depends on every parameter
the way a trained network's does: with ViT's zero head every output is 0
and with ConvNeXt's 1e-6 layer scales the residual branches change the
output by less than the tests' 1e-4 tolerance, so such an oracle could not
tell a working operator from a broken one. BatchNorm running statistics are
then those of a seeded calibration batch (calibrate_batchnorm), so
activations keep a trained network's scale instead of growing layer by
layer.

  export_zoo.py --list
  export_zoo.py --model resnet18_op13 --out /tmp/r18.onnx       one model
  export_zoo.py --cache build/zoo [--models a,b,...|all] [--force]
  export_zoo.py --names SELECTION             the names a selection means

With --cache, each model goes to CACHE/NAME.* and is exported (in its own
process) only when its files are missing or its stamp (NAME.stamp) records
another version of this script (or of export_alexnet.py for the AlexNet
variants) or other arguments; per model it prints export time, file size,
opset and node count. --models takes names or architectures (`convnext_tiny`
selects every opset of it, `alexnet` every AlexNet variant).

Exit codes: 0 done, 1 an export failed, 2 usage error, 77 this python lacks
torch/torchvision/onnx/numpy (CTest reports a skip).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

from export_common import card_yaml, image_input, write_text

HERE = os.path.dirname(os.path.abspath(__file__))
ALEXNET_SCRIPT = os.path.join(HERE, "export_alexnet.py")

LABELS = {  # kind of labels -> file name in the cache
    "imagenet": "imagenet_labels.txt",
    "voc": "voc_labels.txt",
    "kinetics": "kinetics400_labels.txt",
}

# The text transformer: vocabulary, width, heads, feed-forward width, layers,
# sequence length (fixed; the batch is dynamic).
TEXT = {"vocab": 1000, "d_model": 128, "heads": 4, "ff": 512, "layers": 2, "seq": 32}


def _image(arch, opset, size=224, labels="imagenet", test_batch=2, **kw):
    return {"kind": "image", "arch": arch, "opset": opset, "size": size, "labels": labels,
            "test_batch": test_batch, **kw}


# name -> export arguments. `arch` is the torchvision builder (or "text" /
# "alexnet"); everything here is part of the model's cache stamp. Opsets as
# PyTorch users pick them: a few at 11, most at 13-14, the LayerNorm models
# at 14 (LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div) and at 17
# (one LayerNormalization node).
ZOO = {
    "resnet18_op13": _image("resnet18", 13),
    "resnet50_op13": _image("resnet50", 13),
    "resnext50_32x4d_op14": _image("resnext50_32x4d", 14),
    "densenet121_op13": _image("densenet121", 13),
    "squeezenet1_0_op11": _image("squeezenet1_0", 11),
    "mobilenet_v2_op13": _image("mobilenet_v2", 13),
    "mobilenet_v3_large_op14": _image("mobilenet_v3_large", 14),  # HardSwish is an op from 14
    "efficientnet_b0_op13": _image("efficientnet_b0", 13),
    "mnasnet0_5_op11": _image("mnasnet0_5", 11),
    "shufflenet_v2_x1_0_op13": _image("shufflenet_v2_x1_0", 13),
    "regnet_y_400mf_op13": _image("regnet_y_400mf", 13),
    "googlenet_op11": _image("googlenet", 11),
    "inception_v3_op13": _image("inception_v3", 13, size=299),
    "convnext_tiny_op14": _image("convnext_tiny", 14),
    "convnext_tiny_op17": _image("convnext_tiny", 17),
    "vit_b_16_op14": _image("vit_b_16", 14, test_batch=1),
    "vit_b_16_op17": _image("vit_b_16", 17, test_batch=1),
    # shifted-window attention: the masks are built with ScatterND
    "swin_t_op14": _image("swin_t", 14),
    # Segmentation at 256x256 (torchvision returns a dict: 'out' is exported).
    "fcn_resnet50_op11": _image("fcn_resnet50", 11, size=256, labels="voc", test_batch=1,
                                segmentation=True),
    "deeplabv3_mobilenet_v3_large_op13": _image("deeplabv3_mobilenet_v3_large", 13, size=256,
                                                labels="voc", segmentation=True),
    "lraspp_mobilenet_v3_large_op13": _image("lraspp_mobilenet_v3_large", 13, size=256,
                                             labels="voc", segmentation=True),
    # Video: clips of 16 frames of 112x112, (N, C, T, H, W).
    "r3d_18_op13": {"kind": "video", "arch": "r3d_18", "opset": 13, "frames": 16, "size": 112,
                    "labels": "kinetics", "test_batch": 1},
    # Text: nn.TransformerEncoder, 2 pre-LN layers with GELU, a causal mask,
    # nn.Embedding over int64 token ids, a linear head over the vocabulary.
    "transformer_op14": {"kind": "tokens", "arch": "text", "opset": 14, **TEXT, "test_batch": 2},
    "transformer_op17": {"kind": "tokens", "arch": "text", "opset": 17, **TEXT, "test_batch": 2},
    # models/export_alexnet.py's variants with a dynamic batch.
    "alexnet_seed_op13": {"kind": "image", "arch": "alexnet", "variant": "seed", "opset": 13,
                          "size": 227, "labels": "imagenet", "test_batch": 2},
    "alexnet_seed_lrn_op13": {"kind": "image", "arch": "alexnet", "variant": "seed-lrn",
                              "opset": 13, "size": 227, "labels": "imagenet", "test_batch": 2,
                              # see export_alexnet.check_lrn_sensitivity
                              "input_std": 50},
    "alexnet_torchvision_op13": {"kind": "image", "arch": "alexnet", "variant": "torchvision",
                                 "opset": 13, "size": 224, "labels": "imagenet", "test_batch": 2},
}

SUFFIXES = (".onnx", ".yaml", ".input.npy", ".expected.npy", ".meta.json")


# ---- networks -----------------------------------------------------------------

def build_torchvision(arch):
    import torchvision
    tv = torchvision.models
    if arch in ("fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"):
        kw = {"weights": None, "weights_backbone": None}
        if arch != "lraspp_mobilenet_v3_large":
            kw["aux_loss"] = False
        return network_classes()[0](getattr(tv.segmentation, arch)(**kw))
    if arch == "r3d_18":
        return tv.video.r3d_18(weights=None)
    if arch in ("googlenet", "inception_v3"):
        # no auxiliary classifiers (eval mode never returns them anyway)
        return getattr(tv, arch)(weights=None, aux_logits=False, init_weights=True)
    return getattr(tv, arch)(weights=None)


def network_classes():
    """(SegmentationOut, TokenTransformer), defined on first use so that
    --list and fully cached runs do not import torch."""
    global _CLASSES
    if _CLASSES:
        return _CLASSES
    import torch
    import torch.nn as nn

    class SegmentationOut(nn.Module):
        """torchvision's segmentation models return {'out': ...}; ONNX gets 'out'."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x)["out"]

    class TokenTransformer(nn.Module):
        """A GPT-style encoder: token embedding + learned positions, pre-LN
        nn.TransformerEncoder layers (GELU) under a causal mask, a final
        LayerNorm, a linear head over the vocabulary.
        tokens: (N, seq) int64 -> (N, seq, vocab)."""

        def __init__(self, vocab, d_model, heads, ff, layers, seq):
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model)
            self.pos = nn.Parameter(torch.randn(1, seq, d_model) * 0.02)
            layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.1,
                                               activation="gelu", batch_first=True,
                                               norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq))

        def forward(self, tokens):
            x = self.embed(tokens) + self.pos
            x = self.encoder(x, mask=self.mask)
            return self.head(self.norm(x))

    _CLASSES = (SegmentationOut, TokenTransformer)
    return _CLASSES


_CLASSES = None


def randomize_constants(model, gen):
    """Replaces every floating-point parameter or buffer whose elements are
    all equal (see the file comment) by seeded random values: running_var
    uniform in [0.5, 1.5]; a matrix or kernel ('weight' of rank >= 2) normal
    with std 1/sqrt(fan-in); anything else its constant plus normal noise of
    std 0.1. Returns the names replaced."""
    import torch
    done = []
    tensors = list(model.named_parameters()) + list(model.named_buffers())
    with torch.no_grad():
        for name, t in tensors:
            if not t.is_floating_point() or t.numel() < 2:
                continue
            flat = t.reshape(-1)
            if not bool((flat == flat[0]).all()):
                continue
            if name.endswith("running_var"):
                new = 0.5 + torch.rand(t.shape, generator=gen)
            elif name.endswith("weight") and t.dim() >= 2:
                fan_in = t[0].numel()
                new = torch.randn(t.shape, generator=gen) / fan_in ** 0.5
            else:
                new = flat[0] + 0.1 * torch.randn(t.shape, generator=gen)
            t.copy_(new.to(t.dtype))
            done.append(name)
    return done


def calibrate_batchnorm(model, x):
    """Sets every BatchNorm's running statistics to those of its input on
    the batch x (one forward pass in training mode, cumulative averaging), as
    a trained network's statistics describe its activations. Without this,
    networks initialized without regard to fan-in explode: inception_v3's
    truncated-normal std-0.1 kernels give outputs of ~1e13. Returns the
    number of BatchNorm layers."""
    import torch
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: exactly this batch's statistics
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()
    for m, mom in zip(bns, saved):
        m.momentum = mom
    return len(bns)


def build(spec, seed):
    """(eval-mode module, one-line note on what was re-initialized)."""
    import numpy as np
    import torch
    torch.manual_seed(seed)
    if spec["arch"] == "text":
        model = network_classes()[1](*(spec[k] for k in ("vocab", "d_model", "heads", "ff",
                                                         "layers", "seq")))
    else:
        model = build_torchvision(spec["arch"])
    model.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    replaced = randomize_constants(model, gen)
    # a calibration batch of 4 drawn like the test input, with another seed
    # (4: BatchNorm after a global pooling sees one value per sample)
    calib = dict(spec, test_batch=4)
    n_bn = calibrate_batchnorm(model, torch.from_numpy(np.ascontiguousarray(
        make_input(calib, seed + 2))))
    return model, (f"{len(replaced)} constant tensors re-randomized, {n_bn} BatchNorm "
                   "statistics calibrated")


def make_input(spec, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    n = spec["test_batch"]
    if spec["kind"] == "tokens":
        return rng.integers(0, spec["vocab"], (n, spec["seq"]), dtype=np.int64)
    if spec["kind"] == "video":
        shape = (n, 3, spec["frames"], spec["size"], spec["size"])
    else:
        shape = (n, 3, spec["size"], spec["size"])
    # the spread of ImageNet-normalized pixels
    return rng.standard_normal(shape, dtype=np.float32)


# ---- side files ---------------------------------------------------------------

def card_text(name, spec, desc, input_name, output_name):
    image = None
    if spec["kind"] == "image":
        image = image_input(spec["size"], round(spec["size"] * 256 / 224))
    return card_yaml(name, desc, "random", input_name, output_name, image,
                     LABELS[spec["labels"]] if spec.get("labels") else None)


def label_list(kind):
    import torchvision
    tv = torchvision.models
    if kind == "imagenet":
        return tv.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    if kind == "voc":
        return tv.segmentation.FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1.meta["categories"]
    if kind == "kinetics":
        return tv.video.R3D_18_Weights.KINETICS400_V1.meta["categories"]
    raise ValueError(kind)


def describe(spec):
    if spec["arch"] == "text":
        return (f"nn.TransformerEncoder, {spec['layers']} pre-LN layers (d_model {spec['d_model']}, "
                f"{spec['heads']} heads, ff {spec['ff']}, GELU), causal mask, nn.Embedding over "
                f"{spec['vocab']} int64 token ids, sequence {spec['seq']}")
    if spec["kind"] == "video":
        return f"torchvision.models.video.{spec['arch']}, clips of {spec['frames']}x{spec['size']}x{spec['size']}"
    if spec.get("segmentation"):
        return f"torchvision.models.segmentation.{spec['arch']} ('out'), {spec['size']}x{spec['size']}"
    return f"torchvision.models.{spec['arch']}, {spec['size']}x{spec['size']}"


def graph_facts(path):
    """(node count, op histogram, input dims, output dims, ir version) of an ONNX file,
    without its weights."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    hist = {}
    for n in m.graph.node:
        hist[n.op_type] = hist.get(n.op_type, 0) + 1

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    return (len(m.graph.node), hist, [(i.name, dims(i)) for i in m.graph.input],
            [(o.name, dims(o)) for o in m.graph.output], m.ir_version)


def check_onnx(path):
    """onnx.checker plus strict shape inference (what full_check adds)."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    for init in m.graph.initializer:
        init.ClearField("raw_data")
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)


def export_one(name, out, seed=0):
    """Exports ZOO[name] to OUT (.onnx) and its side files; returns a
    one-line summary."""
    import numpy as np
    import torch
    import warnings
    spec = ZOO[name]
    torch.set_num_threads(2)
    stem = out[:-len(".onnx")]
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    if spec["arch"] == "alexnet":
        cmd = [sys.executable, ALEXNET_SCRIPT, spec["variant"], "--opset", str(spec["opset"]),
               "--dynamic-batch", "--test-batch", str(spec["test_batch"]), "--seed", str(seed),
               "--input-std", str(spec.get("input_std", 1)), "--out", out]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
        input_name, output_name = "input", "output"
        init_note = "weights as export_alexnet.py makes them"
        x = np.load(stem + ".input.npy")
        expected = np.load(stem + ".expected.npy")
        t_export = time.time() - t0
    else:
        model, init_note = build(spec, seed)
        x = make_input(spec, seed)
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        input_name = "tokens" if spec["kind"] == "tokens" else "input"
        output_name = "logits" if spec["kind"] == "tokens" else "output"
        t0 = time.time()
        with warnings.catch_warnings():
            # torch 1.13's exporter warns about every traced shape computation
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", UserWarning)
            torch.onnx.export(model, torch.from_numpy(x), out, opset_version=spec["opset"],
                              input_names=[input_name], output_names=[output_name],
                              dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                              do_constant_folding=True)
        t_export = time.time() - t0
        write_text(stem + ".yaml", card_text(name, spec, f"{describe(spec)}, random weights "
                                             f"(seed {seed}), ONNX opset {spec['opset']}, "
                                             "dynamic batch", input_name, output_name))
        np.save(stem + ".input.npy", x)
        np.save(stem + ".expected.npy", expected.astype(np.float32))
    check_onnx(out)
    n_nodes, hist, inputs, outputs, ir = graph_facts(out)
    if [i[0] for i in inputs] != [input_name] or inputs[0][1][0] != "batch":
        raise RuntimeError(f"{out}: graph inputs {inputs}, expected one '{input_name}' with a "
                           "symbolic batch")
    if [o[0] for o in outputs] != [output_name]:
        raise RuntimeError(f"{out}: graph outputs {outputs}, expected one '{output_name}'")
    if spec.get("labels"):
        write_text(os.path.join(out_dir, LABELS[spec["labels"]]),
                   "".join(c + "\n" for c in label_list(spec["labels"])))
    expected = expected.astype(np.float32)
    meta = {
        "name": name, "arch": spec["arch"], "kind": spec["kind"], "opset": spec["opset"],
        "ir_version": ir, "nodes": n_nodes, "ops": hist, "seed": seed,
        "input": {"name": input_name, "dtype": str(x.dtype), "shape": list(x.shape),
                  "dims": inputs[0][1]},
        "output": {"name": output_name, "shape": list(expected.shape), "dims": outputs[0][1],
                   "max_abs": float(np.abs(expected).max()), "std": float(expected.std())},
        "image_size": spec["size"] if spec["kind"] == "image" else None,
        "initialization": init_note,
        "export_seconds": round(t_export, 2),
        "torch": torch.__version__,
    }
    write_text(stem + ".meta.json", json.dumps(meta, indent=1) + "\n")
    size_mb = os.path.getsize(out) / 1e6
    return (f"{name}: opset {spec['opset']}, {n_nodes} nodes, {size_mb:.1f} MB, export "
            f"{t_export:.1f} s; input {input_name} {x.dtype} {list(x.shape)}, output "
            f"{list(expected.shape)} max|y| {meta['output']['max_abs']:.3g}; {init_note}")


# ---- the cache ------------------------------------------------------------------

def model_files(cache, name):
    """Every file a cached model consists of (label lists are shared)."""
    files = [os.path.join(cache, name + s) for s in SUFFIXES]
    if ZOO[name].get("labels"):
        files.append(os.path.join(cache, LABELS[ZOO[name]["labels"]]))
    return files


def stamp_of(name):
    h = hashlib.sha256()
    scripts = [os.path.abspath(__file__)]
    if ZOO[name]["arch"] == "alexnet":
        scripts.append(ALEXNET_SCRIPT)
    for s in scripts:
        with open(s, "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    h.update(json.dumps(ZOO[name], sort_keys=True).encode())
    return h.hexdigest()


def is_cached(cache, name):
    try:
        with open(os.path.join(cache, name + ".stamp"), encoding="utf-8") as f:
            ok = json.load(f).get("hash") == stamp_of(name)
    except (OSError, ValueError):
        return False
    return ok and all(os.path.isfile(p) for p in model_files(cache, name))


def select(spec_list):
    """Names from a comma-separated list of names, architectures or 'all';
    raises ValueError naming the unknown ones."""
    names = []
    for item in [s for s in spec_list.split(",") if s]:
        if item == "all":
            hits = list(ZOO)
        elif item in ZOO:
            hits = [item]
        else:
            hits = [n for n, s in ZOO.items() if s["arch"] == item or
                    (s["arch"] == "alexnet" and item in ("alexnet", "alexnet_" + s["variant"]))]
        if not hits:
            raise ValueError(f"unknown zoo model '{item}' (known: {', '.join(ZOO)}; or an "
                             f"architecture, or 'all')")
        names += [h for h in hits if h not in names]
    return names


def export_cache(cache, names, force):
    os.makedirs(cache, exist_ok=True)
    todo = [n for n in names if force or not is_cached(cache, n)]
    for n in names:
        if n not in todo:
            print(f"{n}: cached", flush=True)
    if not todo:
        return 0
    # Checked here rather than at import so a fully cached run needs no torch.
    probe = subprocess.run([sys.executable, "-c", "import torch, torchvision, onnx, numpy"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: {sys.executable} cannot import torch, torchvision, onnx and numpy "
              f"(use Debian's /usr/bin/python3):\n{probe.stderr}", file=sys.stderr)
        return 77
    failed = []
    t_all = time.time()
    for name in todo:
        stamp_path = os.path.join(cache, name + ".stamp")
        if os.path.exists(stamp_path):
            os.remove(stamp_path)  # a half-written model must never look cached
        out = os.path.join(cache, name + ".onnx")
        t0 = time.time()
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--model", name,
                            "--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name}: FAILED (exit code {r.returncode}):\n{r.stdout}{r.stderr}",
                  file=sys.stderr, flush=True)
            failed.append(name)
            continue
        missing = [f for f in model_files(cache, name) if not os.path.isfile(f)]
        if missing:
            print(f"{name}: FAILED: the export wrote no {', '.join(missing)}", file=sys.stderr)
            failed.append(name)
            continue
        with open(stamp_path, "w", encoding="utf-8") as f:
            json.dump({"hash": stamp_of(name), "args": ZOO[name]}, f)
            f.write("\n")
        print(f"{r.stdout.strip().splitlines()[-1]} (process {time.time() - t0:.1f} s)",
              flush=True)
    print(f"exported {len(todo) - len(failed)} of {len(todo)} in {time.time() - t_all:.0f} s",
          flush=True)
    if failed:
        print(f"export failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="Export the benchmark zoo to ONNX (dynamic batch) "
                                            "with model cards and PyTorch reference outputs.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--list", action="store_true", help="print the zoo and exit")
    g.add_argument("--names", metavar="SELECTION",
                   help="print the names a --models selection means, one a line, and exit")
    g.add_argument("--model", help="export this one model to --out")
    g.add_argument("--cache", help="export the --models selection into this folder")
    p.add_argument("--out", help="with --model: the output PATH.onnx")
    p.add_argument("--models", default="all",
                   help="with --cache: comma-separated names, architectures or 'all' (default)")
    p.add_argument("--force", action="store_true", help="with --cache: export even when cached")
    p.add_argument("--seed", type=int, default=0, help="with --model: seed (default 0)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for name, spec in ZOO.items():
            what = (describe(spec) if spec["arch"] != "alexnet"
                    else "models/export_alexnet.py " + spec["variant"])
            print(f"{name}: {what}, opset {spec['opset']}, test batch {spec['test_batch']}")
        return 0
    if args.names:
        try:
            print("\n".join(select(args.names)))
        except ValueError as e:
            p.error(str(e))
        return 0
    if args.model:
        if args.model not in ZOO:
            p.error(f"unknown model '{args.model}'; known: {', '.join(ZOO)}")
        if not args.out or not args.out.endswith(".onnx"):
            p.error("--model needs --out PATH.onnx")
        print(export_one(args.model, args.out, args.seed), flush=True)
        return 0
    try:
        names = select(args.models)
    except ValueError as e:
        p.error(str(e))
    return export_cache(args.cache, names, args.force)


if __name__ == "__main__":
    sys.exit(main())
