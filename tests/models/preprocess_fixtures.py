#!/usr/bin/python3
"""preprocess_fixtures.py — writes test images (from skimage's sample photos,
in every PNG/JPEG flavour ortc decodes) into a folder, and for each the
tensor torchvision 0.14 computes from it, so ortc's preprocessing can be
compared with the standard transform. Oracle only: nothing here calls ortc.

    /usr/bin/python3 preprocess_fixtures.py OUT_DIR [--sizes 224 227]

For every image NAME and size S it writes OUT_DIR/NAME.S.npy: float32
[3, S, S], Compose([Resize(round(S*256/224)), CenterCrop(S), ToTensor(),
Normalize(IMAGENET_MEAN, IMAGENET_STD)]) applied to
Image.open(OUT_DIR/NAME).convert('RGB') — the same default that `ortc run`
uses for a model without a card. OUT_DIR/fixtures.json lists everything.
"""
import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image
import torchvision
from torchvision import transforms

PHOTOS = "/usr/lib/python3/dist-packages/skimage/data"
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def photo(name):
    return Image.open(os.path.join(PHOTOS, name))


def write_png_16bit_rgb(path, rgb16):
    """Pillow cannot write 16-bit RGB PNGs, so this writes one by hand
    (filter 0 on every row, one IDAT): rgb16 is uint16 (H, W, 3)."""
    h, w, _ = rgb16.shape

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = rgb16.astype(">u2")
    raw = b"".join(b"\0" + rows[y].tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def make_images(out_dir):
    """Writes the images; returns {file name: what it is}."""
    rng = np.random.default_rng(20240101)
    made = {}

    def save(name, what, img=None, **kw):
        if img is not None:
            img.save(os.path.join(out_dir, name), **kw)
        made[name] = what

    chelsea = photo("chelsea.png").convert("RGB")     # 451 x 300, landscape
    coffee = photo("coffee.png").convert("RGB")       # 600 x 400
    camera = photo("camera.png").convert("L")         # 512 x 512
    astronaut = photo("astronaut.png").convert("RGB")  # 512 x 512

    save("chelsea.png", "RGB 8-bit PNG", chelsea)
    save("coffee.png", "RGB 8-bit PNG", coffee)
    save("camera.png", "grayscale 8-bit PNG", camera)

    # Palette (P) with a tRNS chunk: 200 colours, portrait crop.
    pal = astronaut.crop((40, 0, 440, 512)).quantize(colors=200)
    save("palette.png", "palette PNG (200 colours, tRNS)", pal, transparency=0)

    # Gray + alpha: alpha is a ramp that convert('RGB') must drop.
    cam = camera.crop((0, 0, 400, 512))
    alpha = Image.fromarray(np.tile(np.linspace(0, 255, 400).astype(np.uint8), (512, 1)), "L")
    save("gray_alpha.png", "gray+alpha 8-bit PNG", Image.merge("LA", (cam, alpha)))

    # RGBA with a random alpha (dropped, not composited).
    a = Image.fromarray(rng.integers(0, 256, (300, 451), dtype=np.uint8), "L")
    save("rgba.png", "RGBA 8-bit PNG", Image.merge("RGBA", (*chelsea.split(), a)))

    # 16-bit RGB: the high byte is coffee, the low byte random, so a decoder
    # that rounds (v / 257) instead of taking the high byte (as Pillow does)
    # is off by one on about half of the samples.
    c8 = np.asarray(coffee).astype(np.uint16)
    rgb16 = (c8 << 8) | rng.integers(0, 256, c8.shape, dtype=np.uint16)
    write_png_16bit_rgb(os.path.join(out_dir, "rgb16.png"), rgb16)
    made["rgb16.png"] = "RGB 16-bit PNG (written by hand; Pillow cannot)"

    # 16-bit gray: Pillow opens it as mode 'I' and convert('RGB') clips at
    # 255; values 0..382 so that about a third of the pixels clip.
    g16 = (np.asarray(camera).astype(np.uint32) * 3 // 2).astype(np.uint16)
    save("gray16.png", "grayscale 16-bit PNG (values 0..382)",
         Image.fromarray(g16, "I;16"))

    save("baseline.jpg", "baseline JPEG, 4:2:0", chelsea, quality=90)
    save("progressive.jpg", "progressive JPEG, 4:2:0", coffee, quality=85, progressive=True)
    save("gray.jpg", "grayscale JPEG", camera, quality=90)
    return made


def reference(path, size):
    """torchvision 0.14's ImageNet transform at crop size `size`."""
    t = transforms.Compose([
        transforms.Resize(round(size * 256 / 224)),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    return t(Image.open(path).convert("RGB")).numpy().astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--sizes", type=int, nargs="+", default=[224, 227])
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    made = make_images(args.out_dir)
    listing = {"torchvision": torchvision.__version__, "mean": IMAGENET_MEAN,
               "std": IMAGENET_STD, "sizes": args.sizes, "images": {}}
    for name, what in made.items():
        path = os.path.join(args.out_dir, name)
        opened = Image.open(path)
        listing["images"][name] = {"what": what, "mode": opened.mode, "size": opened.size}
        for s in args.sizes:
            np.save(os.path.join(args.out_dir, f"{name}.{s}.npy"), reference(path, s))
    with open(os.path.join(args.out_dir, "fixtures.json"), "w") as f:
        json.dump(listing, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
