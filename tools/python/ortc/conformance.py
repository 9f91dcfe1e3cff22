"""conformance.py — ortc.test(): ONNX backend-test folders run by the `ortc
test` command, its JSON report returned as Python objects. The C library
has no conformance API; the CLI is the runner (see test()'s docstring).
"""
import collections
import json
import os
import shutil
import subprocess
import tempfile

from . import _capi as C

__all__ = ["test", "find_cli", "TestReport", "TestResult"]

CLI_ENV = "ORTC_CLI"

TestResult = collections.namedtuple("TestResult",
                                    "name result reason detail ops unsupported_ops seconds")
TestResult.__doc__ = ("One backend test: result 'pass', 'fail' or 'unsupported'; reason the "
                      "class ('wrong result', 'run error', 'load error', 'crash', 'timeout', "
                      "'unsupported op', ...); detail ortc's one-line explanation.")


class TestReport:
    """What `ortc test --json` reports: .tests (TestResult list, in run order),
    .passed/.failed/.skipped counts, .by_reason, .manifest (path or None) and
    .ok — no failure, or with a manifest no regression, no newly passing and
    no unlisted test (the command's exit status 0). .output is the command's
    text report (per-test lines, tables, manifest verdict)."""

    def __init__(self, data, returncode, output):
        s = data.get("summary", {})
        self.tests = [TestResult(t["name"], t["result"], t["class"], t["detail"], t["ops"],
                                 t["unsupported_ops"], t["seconds"]) for t in data["tests"]]
        self.passed, self.failed, self.skipped = s["passed"], s["failed"], s["skipped"]
        self.total = s["total"]
        self.by_reason = dict(s.get("by_class", {}))
        self.manifest = data.get("manifest")
        self.suite = data.get("suite")
        self.rtol, self.atol = data.get("rtol"), data.get("atol")
        self.returncode = returncode
        self.ok = returncode == 0
        self.output = output

    def __getitem__(self, name):
        for t in self.tests:
            if t.name == name:
                return t
        raise KeyError(name)

    def __repr__(self):
        return (f"<ortc.TestReport {self.passed} passed, {self.failed} failed, "
                f"{self.skipped} skipped{'' if self.ok else ' (not ok)'}>")


def find_cli():
    """The `ortc` command that goes with the loaded libortc: $ORTC_CLI, the
    library's build folder (build/ortc next to build/libortc.so), the install
    prefix's bin/ (PREFIX/lib[/multiarch]/libortc.so -> PREFIX/bin/ortc),
    then PATH."""
    env = os.environ.get(CLI_ENV)
    if env:
        return env
    libdir = os.path.dirname(os.path.realpath(C.library_path)) if os.sep in C.library_path \
        else ""
    cands = []
    if libdir:
        cands = [os.path.join(libdir, "ortc"),
                 os.path.join(libdir, "..", "bin", "ortc"),
                 os.path.join(libdir, "..", "..", "bin", "ortc")]
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.normpath(c)
    found = shutil.which("ortc")
    if found:
        return found
    raise C.IoError(f"cannot find the `ortc` command (looked next to {C.library_path} and on "
                    f"PATH); set {CLI_ENV}=/path/to/ortc")


def test(paths, *, manifest=None, filter=None, rtol=None, atol=None, threads=None,
         timeout=None, cli=None):
    """Runs ONNX backend tests (a test folder such as .../node/test_abs, or a
    folder of them such as /usr/share/libonnx-testdata/data/node) and returns
    a TestReport. manifest: a conformance manifest (tests/conformance/*.yaml)
    to check the results against; filter: a glob or list of globs on test
    names; rtol/atol: tolerances (default 1e-3/1e-7, ONNX's runner's);
    threads: kernel threads per test; timeout: seconds per test.

    Why the CLI and not a C API: `ortc test` runs every test in its own child
    process, so a test that crashes the runtime or hangs becomes one FAIL
    line (crash, signal; timeout, killed) while the run goes on. Done in this
    process through the C API, one such test would take the Python
    interpreter down with it, and a hang could not be stopped. The CLI is
    the same runner ctest's conformance tests use, so the numbers are the
    same by construction. A usage error (no tests found, a bad manifest)
    raises ortc.InvalidArgument with the command's message; test failures
    are results, not exceptions.
    """
    exe = cli or find_cli()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    args = [exe, "test", *[os.fspath(p) for p in paths]]
    if manifest:
        args += ["--manifest", os.fspath(manifest)]
    for f in ([filter] if isinstance(filter, str) else filter or []):
        args += ["--filter", f]
    if rtol is not None:
        args += ["--rtol", repr(float(rtol))]
    if atol is not None:
        args += ["--atol", repr(float(atol))]
    if threads is not None:
        args += ["--threads", str(int(threads))]
    if timeout is not None:
        args += ["--timeout", repr(float(timeout))]
    with tempfile.TemporaryDirectory(prefix="ortc-test-") as tmp:
        report = os.path.join(tmp, "report.json")
        r = subprocess.run(args + ["--json", report], capture_output=True, text=True,
                           errors="replace")
        if not os.path.isfile(report):
            msg = r.stderr.strip().splitlines()
            msg = msg[-1] if msg else f"`{' '.join(args)}` exited with status {r.returncode}"
            if msg.startswith("ortc: "):
                msg = msg[len("ortc: "):]
            raise C.InvalidArgument(msg)
        with open(report, encoding="utf-8") as f:
            data = json.load(f)
    return TestReport(data, r.returncode, r.stdout)
