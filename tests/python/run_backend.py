#!/usr/bin/python3
"""run_backend.py — acceptance check of ortc.backend: ONNX's backend test
runner under pytest (test_onnx_backend.py) must pass exactly the tests that
`ortc test` passes, suite by suite.

For each --suite: `ortc test DATA/SUITE --json` (no manifest: the CLI's own
verdicts) and `pytest test_onnx_backend.py --junitxml` with the suite's
manifest skipping its known failures. Pass when pytest has no failure or
error, and the names pytest passed equal the names `ortc test` passed (so
the counts are equal), and the names it skipped are the rest.

  run_backend.py --cli build/ortc --suite node [--suite simple ...]
  run_backend.py --cli build/ortc --suite simple --manifest-dir DIR   (the guard
      test points this at doctored manifests and expects a mismatch, exit 1)

Exit 0 pass, 1 mismatch or failure.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = "/usr/share/libonnx-testdata/data"


def ortc_test(cli, suite_dir, tmp):
    report = os.path.join(tmp, "ortc-test.json")
    t0 = time.time()
    r = subprocess.run([cli, "test", suite_dir, "--quiet", "--threads", "1", "--json", report],
                       capture_output=True, text=True, errors="replace")
    secs = time.time() - t0
    if not os.path.isfile(report):
        sys.exit(f"FAIL: ortc test wrote no report (exit {r.returncode}): {r.stderr.strip()}")
    with open(report, encoding="utf-8") as f:
        data = json.load(f)
    passed = {t["name"] for t in data["tests"] if t["result"] == "pass"}
    return passed, data["summary"], secs


def pytest_run(suite, data_dir, manifest_dir, tmp, threads):
    xml = os.path.join(tmp, "pytest.xml")
    env = dict(os.environ, ORTC_BACKEND_SUITES=suite, ORTC_BACKEND_DATA=data_dir,
               ORTC_THREADS=str(threads))
    if manifest_dir:
        env["ORTC_MANIFEST_DIR"] = manifest_dir
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", xml,
           os.path.join(HERE, "test_onnx_backend.py")]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=env, cwd=tmp)
    secs = time.time() - t0
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if not os.path.isfile(xml):
        sys.exit(f"FAIL: pytest wrote no report (exit {r.returncode})\n{r.stdout}\n{r.stderr}")
    passed, skipped, failed = set(), set(), {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = case.get("name")
        if name.endswith("_cuda"):
            # skipped by supports_device("CUDA") == False; not a test of the data
            continue
        base = re.sub(r"_cpu$", "", name)
        if case.find("failure") is not None or case.find("error") is not None:
            el = case.find("failure") if case.find("failure") is not None else case.find("error")
            failed[base] = (el.get("message") or "").splitlines()[0:1]
        elif case.find("skipped") is not None:
            skipped.add(base)
        else:
            passed.add(base)
    return passed, skipped, failed, summary, secs, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--suite", action="append", required=True)
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--manifest-dir", help="manifests to skip by (default tests/conformance)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    bad = 0
    for suite in a.suite:
        with tempfile.TemporaryDirectory(prefix=f"ortc-backend-{suite}-") as tmp:
            want, summ, csecs = ortc_test(a.cli, os.path.join(a.data, suite), tmp)
            got, skipped, failed, psum, psecs, r = pytest_run(suite, a.data, a.manifest_dir, tmp,
                                                              a.threads)
        print(f"{suite}: ortc test: {summ['passed']} passed, {summ['failed']} failed, "
              f"{summ['skipped']} skipped ({csecs:.1f} s)")
        print(f"{suite}: pytest + ortc.backend: {len(got)} passed, {len(failed)} failed, "
              f"{len(skipped)} skipped by the manifest ({psecs:.1f} s; pytest: {psum})")
        problems = []
        if failed:
            problems.append(f"{len(failed)} pytest failures: " +
                            "; ".join(f"{k}: {v}" for k, v in sorted(failed.items())[:20]))
        if got - want:
            problems.append("passed under pytest, not under ortc test: " +
                            ", ".join(sorted(got - want)))
        if want - got:
            problems.append("passed under ortc test, not under pytest: " +
                            ", ".join(sorted(want - got)))
        if not got and not want:
            problems.append("no test passed under either runner")
        if problems:
            bad += 1
            print(f"FAIL: {suite}: " + "\n  ".join(problems))
            if r.returncode not in (0, 1):
                print(r.stdout[-4000:], r.stderr[-4000:])
        else:
            print(f"{suite}: same {len(got)} tests pass under both runners")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
