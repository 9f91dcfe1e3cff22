#!/usr/bin/python3
"""test_bench_zoo.py — a smoke test of `tools/bench-compare --zoo`: one
quick round on two exported zoo models (a float image model and the int64
token transformer), then checks of its table and --json against what the
measurement must contain. It checks the tool's plumbing, not the timings;
it never runs npm (ONNX Runtime is measured only when onnxruntime-node is
already in BUILD/ort-node).

  test_bench_zoo.py --compare tools/bench-compare --build build --cache build/zoo \
                    --models squeezenet1_0_op11,transformer_op17

Exit codes: 0 pass, 1 failure, 2 usage error.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--compare", required=True, help="tools/bench-compare")
    p.add_argument("--build", required=True, help="the build folder (BUILD/ortc)")
    p.add_argument("--cache", required=True, help="the exported zoo (models.zoo_export)")
    p.add_argument("--models", required=True, help="comma-separated zoo models")
    a = p.parse_args()
    models = a.models.split(",")
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        out_json = os.path.join(tmp, "zoo.json")
        cmd = [sys.executable, a.compare, "--zoo", "--quick", "--no-npm", "--build", a.build,
               "--zoo-cache", a.cache, "--models", a.models, "--json", out_json]
        print("$ " + " ".join(cmd), flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        print(r.stdout)
        if r.returncode != 0:
            print(f"FAIL: exit code {r.returncode}\n{r.stderr[-3000:]}", file=sys.stderr)
            return 1
        with open(out_json) as f:
            data = json.load(f)
    ort = data["ort"]
    print(f"ONNX Runtime measured: {ort}")
    if data.get("mode") != "zoo" or data["batches"] != [1, 8] or data["rounds"] != 1:
        problems.append(f"--json header: mode {data.get('mode')}, batches {data['batches']}, "
                        f"rounds {data['rounds']}; expected zoo, [1, 8], 1")
    if sorted(data["models"]) != sorted(models):
        problems.append(f"--json models {sorted(data['models'])}, expected {sorted(models)}")
    rts = ["ortc", "ort"] if ort else ["ortc"]
    for name in models:
        m = data["models"].get(name)
        if not m:
            continue
        if m["status"] != "ok":
            problems.append(f"{name}: status {m['status']} ({m['reason']}); these models run")
            continue
        c = m["cells"]
        for rt in rts:
            p50, p90 = c["p50_b1"][rt], c["p90_b1"][rt]
            if not (p50 and p90 and 0 < p50 <= p90):
                problems.append(f"{name}: {rt} batch-1 p50 {p50} / p90 {p90}")
            thr, p50_8 = c["items_per_s_b8"][rt], c["p50_b8"][rt]
            if not (thr and p50_8 and abs(thr - 8e3 / p50_8) <= 1e-6 * thr):
                problems.append(f"{name}: {rt} batch-8 throughput {thr} is not 8 / p50 {p50_8}")
            if not (c["create_ms"][rt] and c["create_ms"][rt] > 0):
                problems.append(f"{name}: {rt} creation time {c['create_ms'][rt]}")
            rss = c["oneshot_rss_mb"][rt]
            if rss is None or rss <= 0:
                problems.append(f"{name}: {rt} one-shot RSS above bare {rss} MB")
        rat = m["ratios"]
        if ort:
            want = c["p50_b1"]["ortc"] / c["p50_b1"]["ort"]
            if rat["latency_b1"] is None or abs(rat["latency_b1"] - want) > 1e-9 * want:
                problems.append(f"{name}: latency ratio {rat['latency_b1']}, expected {want}")
        elif any(v is not None for v in rat.values()):
            problems.append(f"{name}: ratios {rat} without ONNX Runtime")
        if f"| {name} |" not in r.stdout:
            problems.append(f"{name}: no table row")
    if "geometric mean" not in r.stdout:
        problems.append("the table has no geometric-mean row")
    if ort and data["geomean"]["latency_b1"] is None:
        problems.append("no batch-1 latency geometric mean although ONNX Runtime ran")
    for msg in problems:
        print(f"FAIL: {msg}", file=sys.stderr)
    print("PASS" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
