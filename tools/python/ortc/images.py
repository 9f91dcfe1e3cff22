"""images.py — image files -> model input per a model card (the YAML sidecar
MODEL.yaml of `ortc run`, see tools/card.h), with Pillow and numpy: decode,
convert to RGB or L, resize the shorter side (Pillow's antialiased filters),
center crop, scale, mean/std, NCHW or NHWC. Same arithmetic as the CLI's
tools/preprocess.c (float32, x / 255 then (x - mean) / std), so a tensor
made here equals `ortc run MODEL IMAGE --dump-input` bit for bit
(tests/python/test_images.py checks it on photos in every PNG/JPEG flavour).

Why Pillow and not the CLI or the C library: libortc has no image API by
design (images belong to tools/, the CLI), and a Dask worker must keep one
session per model across many files, which a CLI process per batch would
not. Pillow is what torchvision's transforms use, and the CLI's decoder and
resampler reproduce Pillow's; this module is the same recipe in Python.
Needs python3-pil and python3-yaml (the core ortc package needs neither).
"""
import dataclasses
import math
import os

import numpy as np

__all__ = ["Card", "load_card", "card_for_model", "fill_size", "preprocess", "load_labels",
           "softmax"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclasses.dataclass
class Card:
    """A model card's fields (tools/card.h) with the CLI's defaults:
    torchvision's ImageNet transform at the model's input size."""
    name: str = None
    weights: str = None
    input_name: str = None
    layout: str = "NCHW"
    height: int = 0
    width: int = 0
    resize: int = -1              # shorter side target; -1 round(S*256/224); 0 none
    crop: str = "center"
    interpolation: str = "bilinear"
    color: str = "RGB"
    scale: float = 1.0 / 255.0
    mean: tuple = _IMAGENET_MEAN
    std: tuple = _IMAGENET_STD
    output_name: str = None
    kind: str = "logits"
    labels: str = None            # path, resolved against the card's folder

    @property
    def channels(self):
        return 1 if self.color == "GRAY" else 3


def load_card(path):
    """Parses a model card YAML file into a Card (unknown keys are errors,
    as in the CLI)."""
    import yaml
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: the card must be a mapping")
    card = Card()
    base = os.path.dirname(os.path.abspath(path))
    for k, v in doc.items():
        if k in ("name", "weights"):
            setattr(card, k, v)
        elif k == "description":
            pass
        elif k == "input":
            _card_input(card, v or {}, path)
        elif k == "output":
            for ok, ov in (v or {}).items():
                if ok == "name":
                    card.output_name = ov
                elif ok == "kind":
                    if ov not in ("logits", "probabilities"):
                        raise ValueError(f"{path}: output.kind must be logits or probabilities")
                    card.kind = ov
                elif ok == "labels":
                    card.labels = ov if os.path.isabs(ov) else os.path.join(base, ov)
                else:
                    raise ValueError(f"{path}: unknown key 'output.{ok}'")
        else:
            raise ValueError(f"{path}: unknown key '{k}'")
    return card


def _card_input(card, d, path):
    have_mean, have_std = "mean" in d, "std" in d
    for k, v in d.items():
        if k == "name":
            card.input_name = v
        elif k in ("layout", "crop", "interpolation", "color"):
            allowed = {"layout": ("NCHW", "NHWC"), "crop": ("center", "none"),
                       "interpolation": ("bilinear", "nearest", "bicubic"),
                       "color": ("RGB", "BGR", "GRAY")}[k]
            if v not in allowed:
                raise ValueError(f"{path}: input.{k} must be one of {', '.join(allowed)}")
            setattr(card, k, v)
        elif k in ("height", "width", "resize"):
            setattr(card, k, int(v))
        elif k == "scale":
            card.scale = float(v)
        elif k in ("mean", "std"):
            vals = tuple(float(x) for x in (v if isinstance(v, list) else [v]))
            if len(vals) not in (1, 3):
                raise ValueError(f"{path}: input.{k} must be a list of 1 or 3 numbers")
            setattr(card, k, vals)
        else:
            raise ValueError(f"{path}: unknown key 'input.{k}'")
    # the CLI's rules: neither given -> ImageNet's (RGB/BGR) or 0/1 (GRAY);
    # one given -> the other is the identity
    if not have_mean and not have_std:
        if card.color == "GRAY":
            card.mean, card.std = (0.0,), (1.0,)
    elif not have_mean:
        card.mean = (0.0,) * len(card.std)
    elif not have_std:
        card.std = (1.0,) * len(card.mean)
    if len(card.mean) != len(card.std):
        raise ValueError(f"{path}: input.mean has {len(card.mean)} entries but input.std has "
                         f"{len(card.std)}")


def fill_size(card, session):
    """card with height/width taken from the model's input (session: an
    ortc.InferenceSession) where the card has none; ValueError when neither
    says (a dynamic spatial size and no card size)."""
    inputs = session.get_inputs()
    arg = next((a for a in inputs if a.name == card.input_name), inputs[0])
    shape = arg.shape or []
    if len(shape) == 4:
        h, w = (shape[1], shape[2]) if card.layout == "NHWC" else (shape[2], shape[3])
        if not card.height and isinstance(h, int):
            card.height = h
        if not card.width and isinstance(w, int):
            card.width = w
    if not card.height or not card.width:
        raise ValueError(f"input '{arg.name}' has shape {shape}: the image size is not known "
                         f"(give a card with input.height and input.width)")
    return card


def card_for_model(model_path, session=None):
    """The card `ortc run` would use for model_path: MODEL.yaml next to it,
    else the ImageNet default; height/width taken from the model's input
    when the card has none (session: an ortc.InferenceSession of it)."""
    side = os.path.splitext(model_path)[0] + ".yaml"
    card = load_card(side) if os.path.isfile(side) else Card()
    if session is not None:
        fill_size(card, session)
    return card


def load_labels(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip() for line in f.read().splitlines()]


def _shorter_side(w, h, size):
    shorter, longer = min(w, h), max(w, h)
    other = int(size * longer / shorter)  # torchvision's int(), in double
    return (size, other) if w <= h else (other, size)


def _center_offset(n, crop):
    if crop > n:
        return -((crop - n) // 2)
    return round((n - crop) / 2)  # Python's round: ties to even, as torchvision


def preprocess(path_or_image, card, out=None):
    """One image (a path or a PIL image) -> float32 array [C, H, W] (NCHW
    cards) or [H, W, C] (NHWC) per card; into `out` when given."""
    from PIL import Image
    img = path_or_image
    if not isinstance(img, Image.Image):
        with Image.open(path_or_image) as im:
            img = im.convert("L" if card.color == "GRAY" else "RGB")
    else:
        img = img.convert("L" if card.color == "GRAY" else "RGB")
    H, W = card.height, card.width
    if card.resize == 0:
        rw, rh = W, H
    else:
        size = card.resize if card.resize > 0 else round(min(H, W) * 256.0 / 224.0)
        rw, rh = _shorter_side(img.width, img.height, size)
    if rw <= 0 or rh <= 0:
        raise ValueError(f"image {img.width}x{img.height} resizes to an empty {rw}x{rh} image")
    if (rw, rh) != img.size:
        filt = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST,
                "bicubic": Image.BICUBIC}[card.interpolation]
        img = img.resize((rw, rh), filt)
    if img.size != (W, H):
        if card.crop != "center":
            raise ValueError(f"resized image is {img.width}x{img.height} but the input is "
                             f"{W}x{H} and the card has no crop (use crop: center or resize: 0)")
        left, top = _center_offset(img.width, W), _center_offset(img.height, H)
        img = img.crop((left, top, left + W, top + H))
    px = np.asarray(img, dtype=np.uint8).astype(np.float32)
    if px.ndim == 2:
        px = px[:, :, None]
    if card.color == "BGR":
        px = px[:, :, ::-1]
    scale = np.float32(card.scale)
    if scale == np.float32(1.0) / np.float32(255.0):
        v = px / np.float32(255.0)
    else:
        v = px * scale
    n = card.channels
    mean = np.array([card.mean[0 if len(card.mean) == 1 else c] for c in range(n)], np.float32)
    std = np.array([card.std[0 if len(card.std) == 1 else c] for c in range(n)], np.float32)
    v = (v - mean) / std
    if card.layout != "NHWC":
        v = v.transpose(2, 0, 1)
    if out is None:
        return np.ascontiguousarray(v, dtype=np.float32)
    out[...] = v
    return out


def softmax(scores):
    """Probabilities from one image's logits exactly as `ortc run` computes
    them: in double, exp(x - max) with the C library's exp (math.exp, not
    numpy's vectorised one, whose last bits may differ), summed in class
    order, then divided. Returns a float64 array."""
    row = [float(v) for v in np.asarray(scores).ravel()]
    mx = max(row)
    e = [math.exp(v - mx) for v in row]
    total = 0.0
    for v in e:
        total += v
    return np.array([v / total for v in e] if total > 0 else e, dtype=np.float64)
