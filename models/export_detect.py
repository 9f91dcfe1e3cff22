#!/usr/bin/python3
"""export_detect.py — export torchvision 0.14 detection models from PyTorch
1.13 to ONNX, with PyTorch's own outputs on a fixed image beside each model
(the oracle of tests/models/test_detect_models.py). It does not run ortc.

Each model takes one image `image` (3, H, W), float32 in [0, 1] (the model
normalizes and resizes it itself, as torchvision's detection models do) and
returns the detections of that image: `boxes` (n, 4) x1 y1 x2 y2, `labels`
(n,) int64, `scores` (n,) and, for Mask R-CNN, `masks` (n, 1, H, W).
Files: NAME.onnx, NAME.image.npy, NAME.<output>.npy, NAME.meta.json.

Weights are random (weights=None, torch.manual_seed(--seed) before
construction): nothing is downloaded. As in export_zoo.py, tensors a fresh
network holds as one constant are re-randomized and the backbone's
BatchNorm statistics are those of the test image (and its mirror image):
with BatchNorm's fresh 0/1 statistics MobileNetV3's features shrink to
~1e-7, every proposal gets the same features and so the same score, and
the order of equal scores is arbitrary. A random network scores every class
near chance, below torchvision's default thresholds, so the export lowers
the score threshold to 0 and keeps the DETECTIONS best detections per image:
the comparison then covers real detections (NMS, the box decoding, TopK,
RoIAlign and the mask head all do work). The image is skimage's astronaut
photo resized to the model's size (a real photo: its proposals are spread
unlike noise's), or seeded noise when skimage is missing.

Models (opset 11, torchvision's recommendation for detection):
  fasterrcnn_mobilenet_v3_large_320_fpn   320x320
  ssdlite320_mobilenet_v3_large           320x320
  maskrcnn_resnet50_fpn                   256x256 (min_size/max_size 256: ~1-2 min to
                                          export); 300 proposals instead of 1000: at
                                          threshold 0 every proposal enters the box
                                          NMS once per class (300 x 90 boxes; 1000 x 90
                                          is above ortc's default max_nms_boxes)

  export_detect.py --out DIR [--models NAME...] [--seed 0]
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

from export_common import export_main
from export_zoo import calibrate_batchnorm, randomize_constants

DETECTIONS = 20  # detections kept per image

# name -> (builder keyword arguments, image size, outputs)
MODELS = {
    "fasterrcnn_mobilenet_v3_large_320_fpn": (
        {"box_score_thresh": 0.0, "box_detections_per_img": DETECTIONS}, 320,
        ["boxes", "labels", "scores"]),
    "ssdlite320_mobilenet_v3_large": (
        {"score_thresh": 0.0, "detections_per_img": DETECTIONS, "topk_candidates": 100}, 320,
        ["boxes", "labels", "scores"]),
    "maskrcnn_resnet50_fpn": (
        {"box_score_thresh": 0.0, "box_detections_per_img": DETECTIONS,
         "min_size": 256, "max_size": 256, "rpn_post_nms_top_n_test": 300}, 256,
        ["boxes", "labels", "scores", "masks"]),
}


class Detections(torch.nn.Module):
    """One image in, the dict of its detections out as a tuple."""

    def __init__(self, model, outputs):
        super().__init__()
        self.model = model
        self.outputs = outputs

    def forward(self, image):
        det = self.model([image])[0]
        return tuple(det[k] for k in self.outputs)


def make_image(size, seed):
    try:
        from skimage import data, transform
        img = transform.resize(data.astronaut(), (size, size), anti_aliasing=True)
        img = np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)
    except ImportError:
        img = np.random.default_rng(seed).random((3, size, size), dtype=np.float32)
    return img


def export(name, out_dir, opset, seed):
    import torchvision
    kw, size, outputs = MODELS[name]
    torch.manual_seed(seed)
    model = getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None, **kw)
    model.eval()
    image = make_image(size, seed)
    x = torch.from_numpy(image)
    randomize_constants(model, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        batch = model.transform([x, x.flip(-1)])[0].tensors
    calibrate_batchnorm(model.backbone, batch)
    model = Detections(model, outputs).eval()
    with torch.no_grad():
        expected = model(x)
    n = int(expected[0].shape[0])
    if n == 0:
        raise RuntimeError(f"{name}: PyTorch finds no detection: the comparison would be empty")
    path = os.path.join(out_dir, name + ".onnx")
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer warns about every shape computation
        torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["image"],
                          output_names=outputs, do_constant_folding=True)
    secs = time.time() - t0
    np.save(os.path.join(out_dir, name + ".image.npy"), image)
    for o, t in zip(outputs, expected):
        np.save(os.path.join(out_dir, f"{name}.{o}.npy"), t.numpy())
    meta = {"name": name, "opset": opset, "seed": seed, "size": size, "detections": n,
            "outputs": outputs, "export_seconds": round(secs, 1), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "builder_args": kw}
    with open(os.path.join(out_dir, name + ".meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return f"{path}: {n} detections, export {secs:.1f} s"


def main():
    torch.set_num_threads(2)
    return export_main(__doc__, MODELS, export, opset=11)


if __name__ == "__main__":
    sys.exit(main())
