"""export_common.py — what the model export scripts share without importing
torch: ImageNet normalisation constants, model-card YAML (tools/card.h),
atomic text writes and the --out/--models/--opset/--seed command line.
export_alexnet.py, export_zoo.py, export_detect.py, export_rnn.py (and,
through export_alexnet, train_fashion_alexnet.py) use it; exporting stays
in them.
"""
import argparse
import json
import os

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def image_input(size, resize, crop="center", color="RGB", mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """The card's input keys for a size x size NCHW image: bilinear resizing
    to `resize`, a `crop`, pixels scaled by 1/255 then normalised."""
    return [
        "  layout: NCHW",
        f"  height: {size}",
        f"  width: {size}",
        f"  resize: {resize}",
        f"  crop: {crop}",
        "  interpolation: bilinear",
        f"  color: {color}",
        f"  scale: {1 / 255!r}",
        f"  mean: [{', '.join(repr(v) for v in mean)}]",
        f"  std: [{', '.join(repr(v) for v in std)}]",
    ]


def card_yaml(name, desc, weights, input_name, output_name, image=None, labels=None):
    """A model card with a logits output; `image` is image_input()'s lines
    (None: a non-image input), `labels` a label file name or None."""
    q = json.dumps  # a JSON string is a valid YAML double-quoted scalar
    lines = [f"name: {q(name)}", f"description: {q(desc)}", f"weights: {weights}", "input:",
             f"  name: {input_name}"]
    lines += image or []
    lines += ["output:", f"  name: {output_name}", "  kind: logits"]
    if labels:
        lines.append(f"  labels: {labels}")
    return "\n".join(lines) + "\n"


def write_text(path, text):
    """Writes path atomically (a .tmp file renamed into place)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def export_main(doc, models, export, opset):
    """The command line of an export script (`doc` its docstring): --out
    (created), --models (of `models`, all by default), --opset (default
    `opset`), --seed; prints export(name, out, opset, seed) of each model."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--models", nargs="+", choices=list(models), default=list(models))
    p.add_argument("--opset", type=int, default=opset)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.models:
        print(export(name, args.out, args.opset, args.seed), flush=True)
    return 0
