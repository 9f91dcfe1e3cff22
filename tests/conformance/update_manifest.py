#!/usr/bin/python3
"""Rewrite a conformance manifest from an `ortc test --json` report.

Passing tests become `pass`. Unsupported tests get `unsupported` with the
runner's factual reason (the unsupported op@opset, or the refused feature).
Failing tests keep the expectation and reason already written in the
manifest; a failing test without one needs `--reason NAME="why"` — the script
refuses to invent reasons for wrong results. Tolerance overrides and their
reasons are kept, and so are statistical checks (`check:`). Run it after a change that makes tests pass or fail, review
the diff, and commit the manifest with the change.
"""
import argparse
import json
import os
import re
import sys

import yaml


def load_manifest(path):
    if not os.path.exists(path):
        return {}, {}
    with open(path) as f:
        doc = yaml.safe_load(f) or {}
    return doc, doc.get("tests", {}) or {}


def quote(s):
    return json.dumps(s, ensure_ascii=False)  # a valid YAML double-quoted scalar


def auto_reason(t):
    if t["class"] == "unsupported op":
        return "unsupported op: " + ", ".join(t["unsupported_ops"])
    detail = t["detail"]
    detail = re.sub(r"^\S+/model\.onnx: ", "", detail)  # the path is noise here
    return detail[:300]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--report", required=True, help="ortc test --json output")
    ap.add_argument("--manifest", required=True, help="manifest YAML to rewrite")
    ap.add_argument("--suite", help="suite name (default: keep, else the manifest's file name)")
    ap.add_argument("--data-version", help="test data version (default: keep)")
    ap.add_argument("--reason", action="append", default=[], metavar="NAME=WHY",
                    help="reason for a failing test not yet in the manifest")
    args = ap.parse_args()

    with open(args.report) as f:
        report = json.load(f)
    doc, old = load_manifest(args.manifest)
    given = {}
    for r in args.reason:
        name, _, why = r.partition("=")
        given[name] = why
    suite = args.suite or doc.get("suite") or os.path.splitext(os.path.basename(args.manifest))[0]
    data_version = args.data_version or doc.get("data_version") or "unknown"

    lines = [
        "# Conformance manifest: the expected result of every test of this suite.",
        "# Checked by `ortc test DIR --manifest THIS` (CTest: conformance.*); rewritten by",
        "# tests/conformance/update_manifest.py from an `ortc test --json` report.",
        f"suite: {suite}",
        f"data_version: {quote(data_version)}",
        "tests:",
    ]
    missing = []
    counts = {"pass": 0, "fail": 0, "unsupported": 0}
    for t in sorted(report["tests"], key=lambda t: t["name"]):
        name = t["name"]
        prev = old.get(name)
        prev = {"expect": prev} if isinstance(prev, str) else (prev or {})
        tol = {k: prev[k] for k in ("rtol", "atol", "check") if k in prev}
        if t["result"] == "pass":
            expect, reason = "pass", prev.get("reason") if tol else None
        elif t["result"] == "unsupported":
            expect, reason = "unsupported", auto_reason(t)
        else:
            expect = "fail"
            reason = given.get(name) or (prev.get("reason") if prev.get("expect") == "fail" else None)
            if not reason:
                missing.append(f"{name}: {t['class']}: {t['detail'][:200]}")
                continue
        counts[expect] += 1
        if expect == "pass" and not tol:
            lines.append(f"  {name}: pass")
            continue
        fields = [f"expect: {expect}"]
        fields += [f"{k}: {v}" for k, v in tol.items()]
        if reason:
            fields.append(f"reason: {quote(reason)}")
        lines.append(f"  {name}: {{{', '.join(fields)}}}")
    if missing:
        print("failing tests need a reason (--reason NAME=\"why\"):", file=sys.stderr)
        for m in missing:
            print("  " + m, file=sys.stderr)
        return 1
    with open(args.manifest, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{args.manifest}: {counts['pass']} pass, {counts['fail']} fail, "
          f"{counts['unsupported']} unsupported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
