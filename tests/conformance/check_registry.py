#!/usr/bin/python3
"""Check ortc's operator registry against ONNX's own operator schemas (the
python3-onnx package, ONNX 1.12): every entry's version list must be
exactly ONNX's since-versions of that operator within the entry's range,
entries must start and end on ONNX versions, and no ONNX version at or after
an operator's first entry may fall between entries (a model at that opset
would silently get an older implementation). A version ONNX marks deprecated
(Upsample-10: "use Resize") ends the operator and needs no entry.

    tests/conformance/check_registry.py --cli build/ortc

Exit 0 when consistent; 1 with one line per problem.
"""
import argparse
import collections
import json
import subprocess
import sys

import onnx.defs


def onnx_versions():
    """{(domain, op): sorted since-versions} for every schema ONNX knows, with
    the deprecated ones left out."""
    out = collections.defaultdict(set)
    for s in onnx.defs.get_all_schemas_with_history():
        if not s.deprecated:
            out[(s.domain if s.domain != "ai.onnx" else "", s.name)].add(s.since_version)
    return {k: sorted(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="path of the ortc executable")
    args = ap.parse_args()
    r = subprocess.run([args.cli, "info", "--ops", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{args.cli} info --ops --json failed (exit {r.returncode}): {r.stderr}")
    entries = collections.defaultdict(list)
    for e in json.loads(r.stdout)["operators"]:
        entries[(e["domain"], e["op"])].append(e)

    known = onnx_versions()
    problems = []
    for key, rows in sorted(entries.items()):
        name = (key[0] + "." if key[0] else "") + key[1]
        if key not in known:
            problems.append(f"{name}: ONNX {onnx.__version__} has no such operator")
            continue
        spec = known[key]
        rows.sort(key=lambda e: e["since"])
        covered = set()
        for e in rows:
            want = [v for v in spec if e["since"] <= v <= e["until"]]
            if e["versions"] != want:
                problems.append(f"{name} {e['since']}-{e['until']}: lists versions "
                                f"{e['versions']}; ONNX's in that range are {want}")
            for end in (e["since"], e["until"]):
                if end not in spec:
                    problems.append(f"{name} {e['since']}-{e['until']}: {end} is not an ONNX "
                                    f"version of {name} ({spec})")
            covered.update(want)
        missing = [v for v in spec if v >= rows[0]["since"] and v not in covered]
        if missing:
            problems.append(f"{name}: ONNX versions {missing} fall between entries; a model at "
                            "those opsets would get an older implementation")
    for p in problems:
        print(p)
    n_rows = sum(len(v) for v in entries.values())
    print(f"{len(entries)} operators, {n_rows} entries checked against ONNX {onnx.__version__}: "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
