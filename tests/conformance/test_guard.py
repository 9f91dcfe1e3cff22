#!/usr/bin/python3
"""The manifest guard of `ortc test` must fail a run when the manifest and
the results disagree: a regression (expected pass, did not pass), a test that
passes but is marked otherwise, an unlisted test, a failing entry without a
reason; and succeed when they agree. Uses two real node tests: test_relu
(passes) and test_training_dropout (refused: training-mode Dropout)."""
import argparse
import os
import subprocess
import sys
import tempfile

PASSING = "test_relu"
REFUSED = "test_training_dropout"


def run(cli, data, manifest_text, tmp):
    path = os.path.join(tmp, "m.yaml")
    with open(path, "w") as f:
        f.write(manifest_text)
    r = subprocess.run([cli, "test", data, "--filter", PASSING, "--filter", REFUSED,
                        "--manifest", path, "--quiet"], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    head = "suite: node\ndata_version: test\ntests:\n"
    cases = [
        ("agreeing manifest", f"  {PASSING}: pass\n  {REFUSED}: {{expect: unsupported, reason: x}}\n",
         0, "0 regressions"),
        ("regression", f"  {PASSING}: pass\n  {REFUSED}: pass\n", 1, "REGRESSIONS"),
        ("newly passing", f"  {PASSING}: {{expect: fail, reason: x}}\n"
                          f"  {REFUSED}: {{expect: unsupported, reason: x}}\n", 1, "now passing"),
        ("unlisted test", f"  {PASSING}: pass\n", 1, "not in"),
        ("fail without a reason", f"  {PASSING}: pass\n  {REFUSED}: fail\n", 1, "needs a reason"),
    ]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, body, want_rc, want_text in cases:
            rc, out = run(a.cli, a.data, head + body, tmp)
            ok = rc == want_rc and want_text in out
            print(f"{'ok  ' if ok else 'FAIL'} {what}: exit {rc} (want {want_rc}), "
                  f"{'found' if want_text in out else 'missing'} '{want_text}'")
            if not ok:
                print(out)
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
