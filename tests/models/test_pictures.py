#!/usr/bin/python3
"""test_pictures.py — `ortc info MODEL --plan-svg FILE --graph FILE` on
AlexNet models. For each model:

  * the plan SVG parses as XML and has one rectangle per buffer of the
    plan `ortc info --json` reports (memory_plan.buffers), with the same
    name, offset, bytes and steps; each rectangle's geometry is where those
    numbers put it (x from the steps, y from the offset, height from the
    bytes); no two rectangles whose step intervals intersect overlap in the
    picture or in the arena; the dashed lower-bound line sits at the lower
    bound recomputed here from the buffers (max over steps of the 64-byte
    aligned bytes alive), and every buffer holds at least the bytes of its
    value's shape as ONNX's own shape inference gives it;
  * the graph, as DOT and as SVG (Graphviz's dot), has one box per step of
    the plan, every Conv and Gemm of the model file, the ReLUs fused into
    them shown as "+ relu" on the nodes, and the model's inputs and outputs;
  * both SVGs render to non-empty PNGs with rsvg-convert (exit 77, ctest's
    skip, when rsvg-convert is not installed: tools/setup-debian installs
    librsvg2-bin);
  * bad requests fail before any work with a message naming the file:
    --graph with another extension (usage error, exit 2), and --graph
    FILE.svg when dot is not on PATH (exit 1, one line suggesting .dot).

  test_pictures.py --cli build/ortc --work DIR MODEL.onnx...

Exit codes: 0 pass, 1 failure, 2 usage error, 77 rsvg-convert missing.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import onnx
from onnx import shape_inference
from PIL import Image

SVG = "{http://www.w3.org/2000/svg}"
ALIGN = 64  # runtime/planner.h ORTC_ARENA_ALIGN: the lower bound counts aligned sizes
EPS = 0.01  # the SVG's coordinates are printed with 3 decimals

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


def run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def onnx_bytes(path):
    """{value name: bytes of its shape} from ONNX's shape inference."""
    model = shape_inference.infer_shapes(onnx.load(path))
    sizes = {}
    for vi in list(model.graph.value_info) + list(model.graph.output):
        t = vi.type.tensor_type
        # symbolic dims (the batch) are 1: ortc info plans with --batch 1
        dims = [d.dim_value if d.HasField("dim_value") else 1 if d.HasField("dim_param")
                else None for d in t.shape.dim]
        if None in dims or not t.HasField("shape"):
            continue
        n = 1
        for d in dims:
            n *= d
        sizes[vi.name] = n * onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type].itemsize
    return model, sizes


def lower_bound(bufs, n_steps):
    alive = [0] * max(n_steps, 1)
    for b in bufs:
        aligned = (b["bytes"] + ALIGN - 1) // ALIGN * ALIGN
        for s in range(b["first_step"], b["last_step"] + 1):
            alive[s] += aligned
    return max(alive) if bufs else 0


def check_plan_svg(name, svg_path, plan, value_bytes):
    root = ET.parse(svg_path).getroot()
    rects = [r for r in root.iter(SVG + "rect") if r.get("class") == "buffer"]
    bufs = plan["buffers"]
    check(len(bufs) > 0, f"{name}: the plan has no buffers")
    if not check(len(rects) == len(bufs),
                 f"{name}: {len(rects)} rectangles for {len(bufs)} buffers"):
        return
    geo = []
    for r, b in zip(rects, bufs):
        x, y = float(r.get("x")), float(r.get("y"))
        w, h = float(r.get("width")), float(r.get("height"))
        title = r.find(SVG + "title")
        check(title is not None and b["name"] in title.text and str(b["bytes"]) in title.text,
              f"{name}: rectangle of {b['name']} has no <title> with its name and size")
        for key, attr in (("name", "data-name"), ("offset", "data-offset"), ("bytes", "data-bytes"),
                          ("first_step", "data-first"), ("last_step", "data-last")):
            got = r.get(attr)
            check(str(b[key]) == got, f"{name}: buffer {b['name']}: {attr}={got}, plan says {b[key]}")
        geo.append((x, y, w, h))
    # the scales, from the widest and tallest buffers, then every rectangle against them
    steps_total = plan["steps"]
    b0 = max(range(len(bufs)), key=lambda i: bufs[i]["bytes"])
    sy = geo[b0][3] / bufs[b0]["bytes"]
    bottom = geo[b0][1] + geo[b0][3] + bufs[b0]["offset"] * sy
    i0 = max(range(len(bufs)), key=lambda i: bufs[i]["last_step"] - bufs[i]["first_step"])
    sx = geo[i0][2] / (bufs[i0]["last_step"] - bufs[i0]["first_step"] + 1)
    left = geo[i0][0] - bufs[i0]["first_step"] * sx
    for (x, y, w, h), b in zip(geo, bufs):
        ok = (abs(x - (left + b["first_step"] * sx)) < EPS
              and abs(w - (b["last_step"] - b["first_step"] + 1) * sx) < EPS
              and abs(h - b["bytes"] * sy) < EPS
              and abs(y + h - (bottom - b["offset"] * sy)) < EPS
              and y >= bottom - plan["arena_bytes"] * sy - EPS
              and x + w <= left + steps_total * sx + EPS)
        check(ok, f"{name}: rectangle of {b['name']} is not where its steps/offset/bytes put it")
        if b["name"] in value_bytes:
            check(b["bytes"] >= value_bytes[b["name"]],
                  f"{name}: buffer {b['name']} has {b['bytes']} bytes, its shape needs "
                  f"{value_bytes[b['name']]}")
    matched = sum(1 for b in bufs if b["name"] in value_bytes)
    check(matched * 2 >= len(bufs),
          f"{name}: only {matched} of {len(bufs)} buffers are values ONNX's shape inference knows")
    # values alive together never share bytes: in the arena and in the picture
    overlaps = 0
    for i in range(len(bufs)):
        for j in range(i + 1, len(bufs)):
            a, b = bufs[i], bufs[j]
            if a["last_step"] < b["first_step"] or b["last_step"] < a["first_step"]:
                continue
            if a["offset"] < b["offset"] + b["bytes"] and b["offset"] < a["offset"] + a["bytes"]:
                overlaps += 1
                check(False, f"{name}: {a['name']} and {b['name']} are alive together and "
                             f"overlap in the arena")
            (xa, ya, wa, ha), (xb, yb, wb, hb) = geo[i], geo[j]
            if (max(xa, xb) < min(xa + wa, xb + wb) - EPS
                    and max(ya, yb) < min(ya + ha, yb + hb) - EPS):
                overlaps += 1
                check(False, f"{name}: rectangles of {a['name']} and {b['name']} overlap")
    check(max(b["offset"] + b["bytes"] for b in bufs) <= plan["arena_bytes"],
          f"{name}: a buffer ends past the arena ({plan['arena_bytes']} bytes)")
    lb = lower_bound(bufs, steps_total)
    check(lb == plan["lower_bound_bytes"],
          f"{name}: lower bound {plan['lower_bound_bytes']}, recomputed from the buffers {lb}")
    lines = [ln for ln in root.iter(SVG + "line") if ln.get("data-bytes")]
    if check(len(lines) == 1, f"{name}: {len(lines)} lower-bound lines"):
        y = float(lines[0].get("y1"))
        check(int(lines[0].get("data-bytes")) == lb and abs(y - (bottom - lb * sy)) < EPS,
              f"{name}: the lower-bound line is at y={y}, not at {lb} bytes")
    print(f"{name}: plan SVG: {len(bufs)} buffers, {steps_total} steps, arena "
          f"{plan['arena_bytes']} bytes, lower bound {lb}, {overlaps} overlaps of live buffers")


def dot_labels(dot_text):
    """{node id: label} of the step boxes s<i> in ortc's DOT."""
    labels = {}
    for m in re.finditer(r'^\s*(s\d+) \[label="((?:[^"\\]|\\.)*)"', dot_text, re.M):
        labels[m.group(1)] = m.group(2).replace("\\n", "\n")
    return labels


def check_graph(name, dot_path, svg_path, info, model):
    steps = info["memory_plan"]["steps"]
    text = open(dot_path).read()
    labels = dot_labels(text)
    check(len(labels) == steps, f"{name}: DOT has {len(labels)} step boxes, the plan {steps} steps")
    ops = [ln.split("\n")[0].split(": ", 1)[-1] for ln in labels.values()]
    for op in ("Conv", "Gemm"):
        in_model = sum(1 for n in model.graph.node if n.op_type == op)
        check(ops.count(op) == in_model, f"{name}: {ops.count(op)} {op} boxes, the model has {in_model}")
    relus_in_model = sum(1 for n in model.graph.node if n.op_type == "Relu")
    fused = sum(1 for lb in labels.values() if re.search(r"^\+ .*\brelu\b", lb, re.M | re.I))
    check(fused + ops.count("Relu") == relus_in_model,
          f"{name}: {fused} fused + {ops.count('Relu')} separate Relu, the model has {relus_in_model}")
    check(fused > 0, f"{name}: no ReLU shown fused into its producer")
    for io, prefix in (("inputs", "in"), ("outputs", "out")):
        for v in info[io]:
            check(f'"{prefix}:{v["name"]}"' in text,
                  f"{name}: DOT lacks the graph {io[:-1]} {v['name']}")
    edges = len(re.findall(r"->", text))
    check(edges >= steps, f"{name}: {edges} edges for {steps} steps")
    root = ET.parse(svg_path).getroot()
    nodes = [g for g in root.iter(SVG + "g") if g.get("class") == "node"]
    n_io = len(info["inputs"]) + len(info["outputs"])
    check(len(nodes) == steps + n_io,
          f"{name}: graph SVG has {len(nodes)} nodes, expected {steps} steps + {n_io} inputs/outputs")
    print(f"{name}: graph: {steps} steps, {fused} fused ReLUs, {edges} edges")


def render(name, svg_path, png_path):
    if os.path.exists(png_path):
        os.remove(png_path)
    r = run(["rsvg-convert", "-o", png_path, svg_path])
    if not check(r.returncode == 0, f"{name}: rsvg-convert {svg_path}: {r.stderr.strip()}"):
        return
    img = Image.open(png_path).convert("L")
    lo, hi = img.getextrema()
    check(os.path.getsize(png_path) > 0 and img.size[0] > 100 and img.size[1] > 100 and lo < hi,
          f"{name}: {png_path} is empty ({img.size}, gray levels {lo}..{hi})")
    print(f"{name}: {os.path.basename(svg_path)} -> PNG {img.size[0]}x{img.size[1]}, "
          f"{os.path.getsize(png_path)} bytes")


def check_errors(cli, model, work):
    r = run([cli, "info", model, "--graph", os.path.join(work, "g.png")])
    check(r.returncode == 2 and ".dot" in r.stderr.splitlines()[0] and not r.stdout,
          f"--graph g.png: exit {r.returncode}, stderr {r.stderr!r}")
    empty = os.path.join(work, "empty-path")
    os.makedirs(empty, exist_ok=True)
    out = os.path.join(work, "nodot.svg")
    r = run([cli, "info", model, "--graph", out], env=dict(os.environ, PATH=empty))
    check(r.returncode == 1 and ".dot" in r.stderr and len(r.stderr.strip().splitlines()) == 1
          and not r.stdout and not os.path.exists(out), f"--graph without dot on PATH: exit {r.returncode}, "
                                       f"stderr {r.stderr!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    if not shutil.which("rsvg-convert"):
        print("SKIP: rsvg-convert not found (apt-get install librsvg2-bin; tools/setup-debian "
              "installs it)")
        return 77
    if not shutil.which("dot"):
        print("SKIP: Graphviz's dot not found (apt-get install graphviz)")
        return 77
    os.makedirs(args.work, exist_ok=True)
    for path in args.models:
        name = os.path.splitext(os.path.basename(path))[0]
        base = os.path.join(args.work, name)
        r = run([args.cli, "info", path, "--json", "--plan-svg", base + ".plan.svg",
                 "--graph", base + ".graph.svg"])
        if not check(r.returncode == 0, f"{name}: ortc info exit {r.returncode}: {r.stderr}"):
            continue
        info = json.loads(r.stdout)
        r = run([args.cli, "info", path, "--graph", base + ".graph.dot"])
        if not check(r.returncode == 0, f"{name}: ortc info --graph .dot exit {r.returncode}: "
                                        f"{r.stderr}"):
            continue
        model, value_bytes = onnx_bytes(path)
        check_plan_svg(name, base + ".plan.svg", info["memory_plan"], value_bytes)
        check_graph(name, base + ".graph.dot", base + ".graph.svg", info, model)
        render(name, base + ".plan.svg", base + ".plan.png")
        render(name, base + ".graph.svg", base + ".graph.png")
    check_errors(args.cli, args.models[0], args.work)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all picture checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
