"""test_images.py — ortc.images (Pillow + numpy preprocessing, used by
ortc.dask.classify) against the CLI's: for photos in every PNG/JPEG flavour
(tests/models/preprocess_fixtures.py) and the Fashion-MNIST samples, and
cards covering every option (sizes, resize rules, crops with and without
padding, the three filters, RGB/BGR/GRAY, NCHW/NHWC, scales, 1 or 3
mean/std entries), the tensor ortc.images makes equals `ortc run MODEL
IMAGES --card CARD --dump-input` bit for bit.

Run by ctest (python.images) as: pytest test_images.py with ORTC_CLI set.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "python"))
sys.path.insert(0, os.path.join(REPO, "tests", "models"))

import ortc.images  # noqa: E402
import preprocess_fixtures  # noqa: E402  (photos in every PNG/JPEG flavour)

FASHION_DIR = os.path.join(REPO, "models", "fashion-alexnet")

# name -> (card YAML text, model input shape)
CARDS = {
    "default224": (None, [1, 3, 224, 224]),
    "default227": (None, [1, 3, 227, 227]),
    "resize300": ("input: {height: 227, width: 227, resize: 300, crop: center}\n",
                  [1, 3, 227, 227]),
    "bgr_nhwc_nearest": ("input: {layout: NHWC, height: 160, width: 120, resize: 170, "
                         "interpolation: nearest, color: BGR, scale: 1.0, "
                         "mean: [103.9, 116.8, 123.7], std: [57.4, 57.1, 58.4]}\n",
                         [1, 160, 120, 3]),
    "bicubic_pad": ("input: {height: 128, width: 128, resize: 100, crop: center, "
                    "interpolation: bicubic, mean: [0.5], std: [0.25]}\n", [1, 3, 128, 128]),
    "gray_stretch": ("input: {height: 28, width: 28, resize: 0, crop: none, color: GRAY, "
                     "mean: [0.286], std: [0.353]}\n", [1, 1, 28, 28]),
    "gray_crop_mean_only": ("input: {height: 64, width: 48, resize: 64, color: GRAY, "
                            "mean: [0.5]}\n", [1, 1, 64, 48]),
    "fashion_card": (open(os.path.join(FASHION_DIR, "fashion_alexnet.yaml")).read()
                     .replace("labels: fashion_mnist_labels.txt", ""), [1, 1, 28, 28]),
}


def flatten_model(path, shape):
    """input 'input' float32 `shape` -> Flatten -> 'output' [1, n]: the CLI's
    image mode wants float scores shaped [batch, classes]."""
    n = int(np.prod(shape[1:]))
    node = helper.make_node("Flatten", ["input"], ["output"], name="flat")
    graph = helper.make_graph([node], "flat",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                             ["batch"] + shape[1:])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                                             ["batch", n])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    made = preprocess_fixtures.make_images(str(d))
    paths = [os.path.join(d, n) for n in sorted(made)]
    paths += sorted(os.path.join(FASHION_DIR, n) for n in os.listdir(FASHION_DIR)
                    if n.endswith(".png"))
    return paths


def cli():
    exe = os.environ.get("ORTC_CLI") or os.path.join(REPO, "build", "ortc")
    assert os.access(exe, os.X_OK), f"no ortc CLI at {exe} (set ORTC_CLI)"
    return exe


@pytest.mark.parametrize("name", sorted(CARDS))
def test_same_tensor_as_cli(name, images, tmp_path):
    text, shape = CARDS[name]
    model = str(tmp_path / "flat.onnx")
    flatten_model(model, shape)
    args = [cli(), "run", model, *images, "--dump-input", str(tmp_path / "cli.npy"), "--top", "1",
            "--threads", "1"]
    if text is None:
        card = ortc.images.Card(height=shape[2], width=shape[3])
    else:
        card_path = tmp_path / "card.yaml"
        card_path.write_text(text)
        args += ["--card", str(card_path)]
        card = ortc.images.load_card(str(card_path))
        if card.height == 0:
            card.height, card.width = shape[2], shape[3]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = np.load(tmp_path / "cli.npy")
    assert want.shape == (len(images), *shape[1:])
    for i, path in enumerate(images):
        got = ortc.images.preprocess(path, card)
        assert got.dtype == np.float32 and got.shape == want[i].shape, (path, got.shape)
        if not np.array_equal(got, want[i]):
            diff = np.abs(got.astype(np.float64) - want[i])
            k = np.unravel_index(np.argmax(diff), diff.shape)
            pytest.fail(f"{name}: {os.path.basename(path)}: {int((diff > 0).sum())} of "
                        f"{diff.size} values differ; worst at {list(k)}: ortc.images {got[k]!r} "
                        f"vs ortc run --dump-input {want[i][k]!r}")


def test_card_errors_name_the_key(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("input: {height: 28, colour: GRAY}\n")
    with pytest.raises(ValueError, match="input.colour"):
        ortc.images.load_card(str(p))
