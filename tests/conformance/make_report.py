#!/usr/bin/python3
"""Generate tests/conformance/REPORT.md: run `ortc test --json` on the four
ONNX backend-test suites and write, per operator, the ONNX versions ortc
implements and its backend (from the registry, `ortc info --ops --json`),
tests passed/total, the totals per suite, the date and the ONNX test-data
version, and the hand-written notes of tests/conformance/notes/*.md. Also
rewrites the operator list in README.md (between its "operator list"
markers) from the registry.

    tests/conformance/make_report.py --cli build/ortc           # write both
    tests/conformance/make_report.py --cli build/ortc --check   # compare only

--check runs no tests: it fails (exit 1, naming each difference) when the
README list or the registry columns of REPORT.md's per-operator table
disagree with the registry of the given ortc.
"""
import argparse
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

DATA = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
BEGIN = ("<!-- operator list: generated from `ortc info --ops --json` by "
         "tests/conformance/make_report.py; do not edit -->")
END = "<!-- end of operator list -->"
PER_OP_HEADER = ("| operator | ONNX versions (ortc) | backend | passed / total | failed "
                 "| unsupported |")


# ---- the registry -------------------------------------------------------------

def registry(cli):
    """{qualified op name: {"versions": [...], "onednn": bool, "fusable": bool,
    "since": int, "until": int}} from `ortc info --ops --json`."""
    r = subprocess.run([cli, "info", "--ops", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{cli} info --ops --json failed (exit {r.returncode}): {r.stderr.strip()}")
    ops = {}
    for e in json.loads(r.stdout)["operators"]:
        name = (e["domain"] + "." if e["domain"] else "") + e["op"]
        o = ops.setdefault(name, {"versions": set(), "onednn": False, "fusable": False,
                                  "since": e["since"], "until": e["until"]})
        o["versions"].update(e["versions"])
        o["onednn"] |= e["backend"] == "onednn"
        o["fusable"] |= e["fusable"]
        o["since"] = min(o["since"], e["since"])
        o["until"] = max(o["until"], e["until"])
    for o in ops.values():
        o["versions"] = sorted(o["versions"])
    return ops


def registry_columns(ops, name):
    """The per-operator table's registry cells: ONNX versions and backend."""
    o = ops.get(name)
    if not o:
        return "—", "—"
    return ", ".join(map(str, o["versions"])), "oneDNN" if o["onednn"] else "C"


def span(o):
    return (f"{o['since']}" if o["since"] == o["until"]
            else f"{o['since']}–{o['until']}")


def readme_list(ops):
    """The README's operator list (markers included)."""
    names = sorted(ops, key=lambda n: (n.lower(), n))
    onednn = [n for n in names if ops[n]["onednn"]]
    plain = [n for n in names if not ops[n]["onednn"]]
    fusable = [n for n in names if ops[n]["fusable"]]
    item = lambda n: f"{n} {span(ops[n])}"
    return "\n".join([
        BEGIN,
        f"ortc implements {len(names)} operators of the default ONNX domain, each listed with "
        "the ONNX versions it implements (a model at a later opset gets the newest); "
        "`ortc info --ops` lists every registry entry with its dtypes, aliasing and other "
        "facts.",
        "",
        f"- **oneDNN** ({len(onednn)}; each also has a plain-C reference kernel, "
        "`--reference`): " + ", ".join(map(item, onednn)) + ".",
        f"- **plain C** ({len(plain)}): " + ", ".join(map(item, plain)) + ".",
        "- **fusable** (element-wise followers become oneDNN post-ops): "
        + ", ".join(fusable) + ".",
        END])


def block_of(text, path):
    """The operator list in `text` (markers included), or exit naming path."""
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        sys.exit(f"{path}: no operator list between the markers\n  {BEGIN}\n  {END}")
    return i, j + len(END)


def write_readme(ops):
    with open(README) as f:
        text = f.read()
    i, j = block_of(text, README)
    text = text[:i] + readme_list(ops) + text[j:]
    with open(README, "w") as f:
        f.write(text)
    print(f"wrote the operator list in {os.path.normpath(README)}")


def check(ops, report_path):
    """Differences between the committed lists and the registry."""
    problems = []
    with open(README) as f:
        text = f.read()
    i, j = block_of(text, README)
    if text[i:j] != readme_list(ops):
        problems.append(f"{os.path.normpath(README)}: the operator list differs from the "
                        "registry")
    with open(report_path) as f:
        lines = f.read().splitlines()
    try:
        start = lines.index(PER_OP_HEADER) + 2
    except ValueError:
        return problems + [f"{report_path}: no per-operator table with the header "
                           f"'{PER_OP_HEADER}'"]
    seen = set()
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0]
        seen.add(name)
        want = registry_columns(ops, name)
        if tuple(cells[1:3]) != want:
            problems.append(f"{report_path}: {name}: versions/backend are "
                            f"'{cells[1]}' / '{cells[2]}', the registry says "
                            f"'{want[0]}' / '{want[1]}'")
    for name in sorted(set(ops) - seen):
        problems.append(f"{report_path}: registered operator {name} has no row")
    return problems


def data_version():
    try:
        v = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libonnx-testdata"],
                           capture_output=True, text=True, check=True).stdout.strip()
        return f"ONNX 1.12 backend test data (Debian libonnx-testdata {v})"
    except (OSError, subprocess.CalledProcessError):
        return "ONNX 1.12 backend test data"


def run_suite(cli, suite, tmp):
    """`ortc test` on the suite with its manifest (for the statistical checks
    it names; its verdict on the manifest is not needed here)."""
    out = os.path.join(tmp, suite + ".json")
    cmd = [cli, "test", os.path.join(DATA, suite), "--quiet", "--json", out,
           "--manifest", os.path.join(HERE, suite + ".yaml")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if not os.path.exists(out):
        sys.exit(f"{' '.join(cmd)} wrote no report (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
    with open(out) as f:
        return json.load(f)


def notes_section():
    """The hand-written notes in tests/conformance/notes/*.md (one file per
    area, so that branches add theirs without touching each other's), in
    file-name order: where ortc follows the ONNX spec and ONNX Runtime does
    not, and other behaviour the tables cannot show."""
    folder = os.path.join(HERE, "notes")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".md")) \
        if os.path.isdir(folder) else []
    if not files:
        return []
    lines = ["", "## Notes: where ortc and ONNX Runtime differ, and what the spec leaves open",
             "",
             "Hand-written, from tests/conformance/notes/ (one file per area).", ""]
    for name in files:
        with open(os.path.join(folder, name)) as f:
            lines += f.read().rstrip("\n").split("\n") + [""]
    return lines[:-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="path of the ortc executable")
    ap.add_argument("--out", default=os.path.join(HERE, "REPORT.md"))
    ap.add_argument("--check", action="store_true",
                    help="compare the committed operator lists with the registry; write nothing")
    args = ap.parse_args()

    registered = registry(args.cli)
    if args.check:
        problems = check(registered, args.out)
        for p in problems:
            print(p)
        if problems:
            print("regenerate with: tests/conformance/make_report.py --cli BUILD/ortc")
            return 1
        print(f"operator lists match the registry ({len(registered)} operators)")
        return 0

    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        for suite in SUITES:
            reports[suite] = run_suite(args.cli, suite, tmp)

    lines = ["# ortc conformance report", "",
             f"Generated by `tests/conformance/make_report.py` on "
             f"{datetime.date.today().isoformat()} with ortc "
             f"{reports['node'].get('ortc_version', '?')}, against {data_version()}.",
             "Default tolerance rtol 1e-3, atol 1e-7 (ONNX's own); a test passes when every "
             "output of every data set matches in dtype, shape and values.", "",
             "## Totals", "",
             "| suite | tests | passed | failed | unsupported |", "|---|---:|---:|---:|---:|"]
    for suite in SUITES:
        s = reports[suite]["summary"]
        lines.append(f"| {suite} | {s['total']} | {s['passed']} | {s['failed']} | {s['skipped']} |")

    # per operator: a test counts for every op type its top-level graph uses;
    # every registered operator has a row (0 / 0 when no test uses it)
    per_op = collections.defaultdict(lambda: collections.Counter())
    for name in registered:
        per_op[name]["total"] += 0
    for suite in SUITES:
        for t in reports[suite]["tests"]:
            ops = set(t["ops"]) | {u.split("@")[0] for u in t["unsupported_ops"]}
            for op in ops:
                per_op[op]["total"] += 1
                per_op[op][t["result"]] += 1
    lines += ["", "## Per operator", "",
              "Every operator ortc registers (its ONNX versions and backend from "
              "`ortc info --ops`) and every operator a test uses; tests of all four suites "
              "that use the operator (a test with several operators counts for each).", "",
              PER_OP_HEADER, "|---|---|---|---:|---:|---:|"]
    for op in sorted(per_op, key=lambda n: (n.lower(), n)):
        c = per_op[op]
        versions, backend = registry_columns(registered, op)
        lines.append(f"| {op} | {versions} | {backend} | {c['pass']} / {c['total']} | "
                     f"{c['fail']} | {c['unsupported']} |")

    lines += notes_section()
    lines += ["", "## Failing tests", ""]
    any_fail = False
    for suite in SUITES:
        for t in reports[suite]["tests"]:
            if t["result"] == "fail":
                any_fail = True
                lines.append(f"- {suite}/{t['name']}: {t['class']}: {t['detail'][:240]}")
    if not any_fail:
        lines.append("None.")

    # tests whose outputs are random: checked by statistics, not values
    checked = []
    for suite in SUITES:
        with open(os.path.join(HERE, suite + ".yaml")) as f:
            entries = (yaml.safe_load(f) or {}).get("tests") or {}
        for name, e in sorted(entries.items()):
            if isinstance(e, dict) and e.get("check"):
                checked.append(f"- {suite}/{name}: `check: {e['check']}`: {e.get('reason', '')}")
    if checked:
        lines += ["", "## Checked statistically", "",
                  "Their outputs are random and the test data's expected values come from "
                  "numpy's generator, so `ortc test` checks dtype, shape and the distribution "
                  "over 2000 runs instead of the values (the manifest names the check):", ""]
        lines += checked
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    write_readme(registered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
