#!/usr/bin/python3
"""test_bench.py — `ortc bench` on an exported AlexNet with a dynamic batch,
checked against the ONNX file itself (read with the onnx package, an
independent oracle): the --json summary has exactly the documented keys and
consistent figures (percentiles ordered, throughput = batch / mean, weights
= the initializers' bytes); every profiled node is a node of the file, in
file order, with FLOPs equal to 2*MACs computed here from onnx's shape
inference at the benchmark's batch; the --trace file is a Chrome-trace JSON
array of complete events, one per node per profiled run, whose args carry
the op and the shapes onnx infers. Also: --batch on a fixed-batch model is a
one-line error (exit 1), and the text report lists every node. Or
(--compare) a `tools/bench-compare --quick` smoke run: its JSON has a value
for every runtime, model, batch and measure, and the table is printed.
Timings are checked for consistency only, never for speed.

  test_bench.py --cli build/ortc --cache build/models-cache
  test_bench.py --compare tools/bench-compare --build build

Exit codes: 0 pass, 1 failure, 77 skip (this python lacks numpy/onnx).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError:
    print(f"SKIP: {sys.executable} lacks numpy/onnx (set ORTC_PYTHON to /usr/bin/python3)")
    sys.exit(77)

DYN_MODEL = "seed_dyn_op13"   # symbolic batch: --batch binds it
FIXED_MODEL = "seed_op13"     # batch fixed to 1
BATCH = 2
RUNS = 3                      # timed runs
PROFILE_RUNS = 2

# The keys `ortc bench --help` documents for --json (nested ones by path).
TOP_KEYS = {"model", "threads", "batch", "seed", "inputs", "session_create_ms",
            "plan_compile_ms", "first_run_ms", "warmup_runs", "timed_runs", "timed_seconds",
            "latency_ms", "throughput_items_per_s", "peak_rss_bytes", "weights_bytes",
            "arena_bytes", "scratch_bytes", "steps", "profile", "trace"}
INPUT_KEYS = {"name", "dtype", "shape", "source"}
LATENCY_KEYS = {"min", "p50", "p90", "p99", "max", "mean"}
PROFILE_KEYS = {"runs", "mean_run_ms", "nodes"}
NODE_KEYS = {"node", "op", "ms", "share_percent", "flops", "gflops_per_s", "impl", "precision"}


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def run(cmd, expect_rc=0, timeout=900):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    check(p.returncode == expect_rc,
          f"{' '.join(cmd)}: exit {p.returncode}, want {expect_rc}\nstdout: {p.stdout[-2000:]}\n"
          f"stderr: {p.stderr[-2000:]}")
    return p


def shape_data(g, shapes):
    """Values of the small integer tensors of the export's shape arithmetic
    (Constant, Shape, Gather, Unsqueeze, Concat), computed here from known
    shapes: onnx 1.12's inference cannot see through Shape->Gather, so it
    leaves the following Reshape without a shape."""
    data = {t.name: numpy_helper.to_array(t) for t in g.initializer
            if t.data_type == onnx.TensorProto.INT64}
    for n in g.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        ins = [data.get(i) for i in n.input]
        if n.op_type == "Constant" and "value" in attrs:
            data[n.output[0]] = numpy_helper.to_array(attrs["value"])
        elif n.op_type == "Shape" and n.input[0] in shapes:
            data[n.output[0]] = np.array(shapes[n.input[0]], dtype=np.int64)
        elif n.op_type == "Gather" and all(x is not None for x in ins):
            data[n.output[0]] = np.take(ins[0], ins[1], axis=attrs.get("axis", 0))
        elif n.op_type == "Unsqueeze" and ins[0] is not None:
            axes = attrs.get("axes") if "axes" in attrs else ins[1]
            if axes is not None:
                data[n.output[0]] = np.expand_dims(ins[0], tuple(int(a) for a in axes))
        elif n.op_type == "Concat" and all(x is not None for x in ins):
            data[n.output[0]] = np.concatenate(ins, axis=attrs.get("axis", 0))
    return data


def infer(m):
    """Fully known shapes by value name after onnx's shape inference."""
    inferred = shape_inference.infer_shapes(m, strict_mode=True)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + \
            list(inferred.graph.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shapes[vi.name] = [d.dim_value for d in tt.shape.dim]
    return shapes


def onnx_oracle(path, batch):
    """Node list, initializer bytes, and per-node shapes/FLOPs from onnx's
    own shape inference with the batch dim fixed."""
    m = onnx.load(path)
    g = m.graph
    init_bytes = sum(numpy_helper.to_array(t).nbytes for t in g.initializer)
    init_shapes = {t.name: list(t.dims) for t in g.initializer}
    small = shape_data(g, {})  # constants only, before raw data is dropped
    for t in g.initializer:          # inference needs dims only
        if t.data_type != onnx.TensorProto.INT64:
            t.ClearField("raw_data")
    inputs = {t.name for t in g.initializer}
    for vi in g.input:
        if vi.name in inputs:
            continue
        d0 = vi.type.tensor_type.shape.dim[0]
        d0.ClearField("dim_param")
        d0.dim_value = batch
    shapes = dict(init_shapes)
    shapes.update(infer(m))
    # Reshape outputs onnx could not infer: numpy's reshape of the input shape
    # by the shape computed from the shape arithmetic, then inference again
    data = dict(small, **shape_data(g, shapes))
    for n in g.node:
        if n.op_type == "Reshape" and n.output[0] not in shapes and n.input[1] in data:
            out = list(np.empty(shapes[n.input[0]], dtype=np.uint8).reshape(
                [int(v) for v in data[n.input[1]]]).shape)
            g.value_info.append(onnx.helper.make_tensor_value_info(
                n.output[0], onnx.TensorProto.FLOAT, out))
    shapes.update(infer(m))
    for n in g.node:  # shape tensors: their length
        for name in list(n.input) + list(n.output):
            if name and name not in shapes and name in data:
                shapes[name] = list(data[name].shape)
    nodes = []
    for n in g.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        flops = 0
        if n.op_type == "Conv":
            w, y = shapes[n.input[1]], shapes[n.output[0]]
            flops = 2 * int(np.prod(y)) * int(np.prod(w[1:]))
        elif n.op_type == "Gemm":
            a, y = shapes[n.input[0]], shapes[n.output[0]]
            k = a[0] if attrs.get("transA", 0) else a[1]
            flops = 2 * int(np.prod(y)) * k
        elif n.op_type == "MatMul":
            a, y = shapes[n.input[0]], shapes[n.output[0]]
            flops = 2 * int(np.prod(y)) * a[-1]
        inputs = [shapes.get(i) if i else None for i in n.input]
        # runtime/passes/pass_fc.c stores the weights of a Gemm fed by a ReLU
        # transposed (transB 1 -> 0): that operand may run as [K, N]
        alt = None
        if n.op_type == "Gemm" and attrs.get("transB", 0) and inputs[1]:
            alt = [inputs[0], list(reversed(inputs[1]))] + inputs[2:]
        nodes.append({"name": n.name, "op": n.op_type, "flops": flops,
                      "inputs": inputs, "inputs_alt": alt,
                      "outputs": [shapes.get(o) if o else None for o in n.output]})
    return nodes, init_bytes


def match_nodes(profile_names, onnx_nodes, what):
    """Each profiled name is a node of the file, in file order; returns the
    matched onnx nodes."""
    by_name = {n["name"]: (i, n) for i, n in enumerate(onnx_nodes)}
    last = -1
    out = []
    for name in profile_names:
        check(name in by_name, f"{what}: node '{name}' is not a node of the ONNX file")
        i, n = by_name[name]
        check(i > last, f"{what}: node '{name}' is out of the file's order")
        last = i
        out.append(n)
    return out


def check_json(r, model, onnx_nodes, init_bytes, trace):
    check(set(r) == TOP_KEYS, f"--json keys {sorted(r)}; documented {sorted(TOP_KEYS)}")
    check(r["model"] == model and r["batch"] == BATCH and r["threads"] == 2,
          f"model/batch/threads: {r['model']} {r['batch']} {r['threads']}")
    check(len(r["inputs"]) == 1 and set(r["inputs"][0]) == INPUT_KEYS,
          f"inputs: {r['inputs']}")
    inp = r["inputs"][0]
    check(inp["shape"] == [BATCH, 3, 227, 227] and inp["dtype"] == "float32" and
          inp["source"] == "random", f"input: {inp}")
    lat = r["latency_ms"]
    check(set(lat) == LATENCY_KEYS, f"latency_ms keys {sorted(lat)}")
    check(0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"],
          f"latency percentiles out of order: {lat}")
    check(lat["min"] <= lat["mean"] <= lat["max"], f"mean outside [min, max]: {lat}")
    want_tp = BATCH * 1e3 / lat["mean"]
    check(abs(r["throughput_items_per_s"] - want_tp) <= 1e-9 * want_tp,
          f"throughput {r['throughput_items_per_s']}, batch/mean = {want_tp}")
    check(r["timed_runs"] == RUNS and r["warmup_runs"] == 1,
          f"runs: {r['timed_runs']} timed, {r['warmup_runs']} warm-up")
    check(r["timed_seconds"] * 1e3 >= RUNS * lat["min"] * 0.999,
          f"timed_seconds {r['timed_seconds']} < {RUNS} x min latency")
    for k in ("session_create_ms", "plan_compile_ms", "first_run_ms"):
        check(r[k] > 0, f"{k} = {r[k]}")
    # weights: the initializers' bytes (folded shape constants may add a few bytes)
    check(init_bytes <= r["weights_bytes"] <= init_bytes + 4096,
          f"weights_bytes {r['weights_bytes']}; the file's initializers hold {init_bytes}")
    check(r["peak_rss_bytes"] >= init_bytes,
          f"peak RSS {r['peak_rss_bytes']} below the weights' {init_bytes} bytes")
    check(r["arena_bytes"] > 0 and r["scratch_bytes"] >= 0, "arena/scratch")
    check(r["trace"] == trace, f"trace: {r['trace']}")

    p = r["profile"]
    check(p is not None and set(p) == PROFILE_KEYS, f"profile keys: {p and sorted(p)}")
    check(p["runs"] == PROFILE_RUNS, f"profile runs {p['runs']}, want {PROFILE_RUNS}")
    nodes = p["nodes"]
    check(len(nodes) == r["steps"], f"{len(nodes)} profiled nodes, {r['steps']} steps")
    matched = match_nodes([n["node"] for n in nodes], onnx_nodes, "--json profile")
    total = sum(n["ms"] for n in nodes)
    check(total <= p["mean_run_ms"] * 1.0001,
          f"profiled nodes sum to {total} ms, more than a profiled run's {p['mean_run_ms']} ms")
    share = 0.0
    for n, o in zip(nodes, matched):
        check(set(n) == NODE_KEYS, f"node keys {sorted(n)}")
        check(n["op"] == o["op"], f"node '{n['node']}': op {n['op']}, the file says {o['op']}")
        check(n["flops"] == o["flops"],
              f"node '{n['node']}' ({n['op']}): flops {n['flops']:.0f}, 2*MACs from onnx "
              f"shapes = {o['flops']}")
        check(n["ms"] >= 0, f"node '{n['node']}': {n['ms']} ms")
        if o["flops"] and n["ms"] > 0:
            want = o["flops"] / n["ms"] / 1e6
            check(abs(n["gflops_per_s"] - want) <= 1e-9 * want,
                  f"node '{n['node']}': {n['gflops_per_s']} GFLOP/s, flops/ms says {want}")
        elif not o["flops"]:
            check(n["gflops_per_s"] is None, f"node '{n['node']}': GFLOP/s for a {n['op']}")
        share += n["share_percent"]
        # the kernel each step ran: oneDNN's implementation or ortc's own
        check(isinstance(n["impl"], str) and n["impl"],
              f"node '{n['node']}': impl {n['impl']!r}")
        if n["op"] in ("Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "LRN"):
            check(not n["impl"].startswith("ref") and n["impl"] != "ortc:reference",
                  f"node '{n['node']}' ({n['op']}) ran a reference kernel: {n['impl']}")
            # the default precision: float32 steps say so (--precision bf16 is
            # tests/unit/test_precision.c's and models.fashion_alexnet_bf16's)
            check(n["precision"] == "fp32",
                  f"node '{n['node']}' ({n['op']}) computed in {n['precision']!r}, want fp32")
    check(abs(share - 100) < 1e-6 or total == 0, f"shares sum to {share}%")
    convs = [o["name"] for o in onnx_nodes if o["op"] in ("Conv", "Gemm")]
    check(all(c in {n["node"] for n in nodes} for c in convs),
          "every Conv and Gemm of the file is profiled")
    return nodes


def check_trace(path, nodes, onnx_nodes, runs):
    with open(path) as f:
        events = json.load(f)
    check(isinstance(events, list), "the trace is not a JSON array")
    n = len(nodes)
    check(len(events) == runs * n,
          f"trace: {len(events)} events; want {runs} runs x {n} nodes = {runs * n}")
    by_name = {o["name"]: o for o in onnx_nodes}
    end = -1.0
    for k, ev in enumerate(events):
        run_i, step = divmod(k, n)
        for key in ("name", "ph", "ts", "dur", "pid", "tid", "args"):
            check(key in ev, f"trace event {k}: no '{key}': {ev}")
        check(ev["ph"] == "X", f"trace event {k}: ph {ev['ph']!r}, want 'X' (complete)")
        check(isinstance(ev["ts"], (int, float)) and isinstance(ev["dur"], (int, float)) and
              ev["dur"] >= 0, f"trace event {k}: ts/dur {ev['ts']}/{ev['dur']}")
        check(ev["ts"] >= end - 1e-3,
              f"trace event {k} starts at {ev['ts']} us, before the previous ended ({end})")
        end = ev["ts"] + ev["dur"]
        want = nodes[step]["node"]
        check(ev["name"] == want, f"trace event {k}: name {ev['name']!r}, want {want!r}")
        a = ev["args"]
        check(a.get("op") == nodes[step]["op"] and a.get("run") == run_i,
              f"trace event {k}: args {a}")
        o = by_name[want]
        shapes = a.get("shapes", {})
        check(shapes.get("outputs") == o["outputs"],
              f"trace event {k} ('{want}'): output shapes {shapes.get('outputs')}, onnx "
              f"infers {o['outputs']}")
        check(shapes.get("inputs") in (o["inputs"], o["inputs_alt"]),
              f"trace event {k} ('{want}'): input shapes {shapes.get('inputs')}, onnx "
              f"infers {o['inputs']}")


def test_cli(cli, cache):
    model = os.path.join(cache, DYN_MODEL + ".onnx")
    fixed = os.path.join(cache, FIXED_MODEL + ".onnx")
    for p in (model, fixed):
        check(os.path.exists(p), f"{p} is not exported (ctest -R models.export)")
    onnx_nodes, init_bytes = onnx_oracle(model, BATCH)
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.json")
        common = ["--batch", str(BATCH), "--threads", "2", "--warmup", "1", "--iterations",
                  str(RUNS), "--profile-runs", str(PROFILE_RUNS)]
        p = run([cli, "bench", model, "--json", "--trace", trace] + common)
        r = json.loads(p.stdout)
        nodes = check_json(r, model, onnx_nodes, init_bytes, trace)
        check_trace(trace, nodes, onnx_nodes, PROFILE_RUNS)
        print(f"ok: --json and --trace: {len(nodes)} nodes x {PROFILE_RUNS} runs, p50 "
              f"{r['latency_ms']['p50']:.2f} ms at batch {BATCH}")

        # the text report: the summary lines and one table row per node
        p = run([cli, "bench", model] + common)
        for word in ("session", "first run", "p50", "p99", "throughput", "peak RSS", "weights",
                     "arena", "scratch", "profile", "GFLOP/s"):
            check(word in p.stdout, f"text report lacks '{word}':\n{p.stdout}")
        rows = [ln.split()[0] for ln in p.stdout.splitlines() if ln.startswith("  /")]
        want_rows = [n["node"] for n in nodes if n["node"].startswith("/")]
        check(rows == want_rows, f"table rows {rows}; want {want_rows}")
        print("ok: text report")

    # --batch on a fixed-batch model: one line naming the problem, exit 1
    p = run([cli, "bench", fixed, "--batch", "2", "--iterations", "1"], expect_rc=1)
    err = p.stderr.strip()
    check(len(err.splitlines()) == 1 and "fixed batch of 1" in err and "--batch 2" in err,
          f"--batch on a fixed-batch model: {err!r}")
    # usage errors exit 2
    run([cli, "bench", model, "--iterations", "3", "--duration", "1"], expect_rc=2)
    run([cli, "bench", model, "--trace", "x.json", "--profile-runs", "0"], expect_rc=2)
    help_text = run([cli, "bench", "--help"]).stdout
    for k in TOP_KEYS | LATENCY_KEYS | NODE_KEYS | INPUT_KEYS | PROFILE_KEYS:
        check(k in help_text, f"--help does not document the JSON key '{k}'")
    check("separate" in help_text, "--help does not say the profile is a separate pass")
    print("ok: errors and --help")


def test_compare(script, build):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "compare.json")
        # --no-npm: tests never reach the network; ONNX Runtime runs only when
        # BUILD/ort-node already holds onnxruntime-node
        p = run([script, "--quick", "--models", "seed", "--batches", "1,2", "--build", build,
                 "--no-npm", "--json", out], timeout=1800)
        with open(out) as f:
            d = json.load(f)
    check(d["failed"] is None, f"bench-compare reports a failure: {d['failed']}")
    runtimes = ["ortc", "torch"] + (["ort"] if d["ort"] else [])
    if not d["ort"]:
        check("ONNX Runtime skipped" in p.stdout, "no note that ONNX Runtime was skipped")
    res = d["results"]
    for key in ("latency1", "latency2", "throughput2", "load", "oneshot_wall", "oneshot_rss",
                "bare_rss"):
        for rt in runtimes:
            v = res.get(f"seed/{key}", {}).get(rt)
            check(v and len(v) == 1, f"seed/{key}/{rt}: {v} (want one value: one round)")
            if key != "oneshot_rss":   # above bare: may be near 0 or below for tiny processes
                check(v[0] > 0, f"seed/{key}/{rt} = {v[0]}")
        lat2 = res["seed/latency2"][rt][0]
        tp2 = res["seed/throughput2"][rt][0]
        check(abs(tp2 - 2e3 / lat2) <= 1e-9 * tp2, f"{rt}: throughput {tp2} != 2 / {lat2} ms")
    lines = p.stdout.splitlines()
    header = "| model | measure | ortc | ONNX Runtime | PyTorch | ortc/ORT | ortc/PyTorch |"
    check(header in lines, f"no table header in:\n{p.stdout}")
    rows = [ln for ln in lines if ln.startswith("| seed (227) |")]
    check(len(rows) == 5, f"{len(rows)} table rows for seed; want 5:\n{p.stdout}")
    check(any("machine:" in ln for ln in lines) and any("date:" in ln for ln in lines),
          "the header does not describe the machine and date")
    tops = d["top1"]["seed"]
    check(len({tuple(v) for v in tops.values()}) == 1,
          f"one-shot processes disagree on the photo's top-1 class: {tops}")
    print(f"ok: bench-compare --quick ({', '.join(runtimes)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli")
    ap.add_argument("--cache")
    ap.add_argument("--compare", help="path of tools/bench-compare")
    ap.add_argument("--build", help="build folder for --compare")
    a = ap.parse_args()
    try:
        if a.compare:
            test_compare(a.compare, a.build)
        else:
            test_cli(a.cli, a.cache)
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
