#!/usr/bin/python3
"""backend_guard.py — run_backend.py must fail when pytest and `ortc test`
disagree. With doctored copies of tests/conformance/simple.yaml: (1) a test
that passes marked unsupported (pytest then skips it: one pass fewer than
`ortc test`), (2) a test ortc cannot run marked pass (pytest then fails it).
Each must make run_backend.py exit 1 naming the test; exit 0 when both do.

  backend_guard.py --cli build/ortc --work DIR
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIMPLE = os.path.join(REPO, "tests", "conformance", "simple.yaml")


def doctor(text, work, name, old, new):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    doctored, n = re.subn(old, new, text, count=1, flags=re.M)
    assert n == 1, f"pattern {old!r} not in {SIMPLE}"
    with open(os.path.join(d, "simple.yaml"), "w", encoding="utf-8") as f:
        f.write(doctored)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    text = open(SIMPLE, encoding="utf-8").read()
    cases = [
        ("pass-marked-unsupported", r"^  (test_\w+): pass$",
         r'  \1: {expect: unsupported, reason: "doctored by backend_guard.py"}',
         "passed under ortc test, not under pytest"),
        ("unsupported-marked-pass", r"^  (test_gradient_of_add): \{.*\}$", r"  \1: pass",
         "pytest failures"),
    ]
    bad = 0
    for name, old, new, expect in cases:
        d = doctor(text, a.work, name, old, new)
        r = subprocess.run([sys.executable, os.path.join(HERE, "run_backend.py"), "--cli", a.cli,
                            "--suite", "simple", "--manifest-dir", d],
                           capture_output=True, text=True)
        ok = r.returncode == 1 and expect in r.stdout
        print(f"{'ok  ' if ok else 'FAIL'} {name}: run_backend.py exit {r.returncode}"
              f"{'' if ok else ' (expected 1 with ' + repr(expect) + ')'}")
        if not ok:
            print(r.stdout[-3000:], r.stderr[-3000:])
            bad += 1
    print(f"{len(cases) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
