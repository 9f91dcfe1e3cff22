"""oracles.py — runs a saved case (model.onnx + in_<i>.npy in a folder)
through ortc's optimised path, ortc's reference path (optimize = 0,
reference = 1: graph passes off, plain-C kernels) and ONNX Runtime, each in
a long-lived process (tests/fuzz/difftest_driver.c, ort_server.js) fed one
line per case; and compares their outputs (compare()). Process crashes,
hangs and sanitizer reports become results, and the process is restarted.
"""
import json
import math
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
ORT_PACKAGE = "onnxruntime-node@1.30.0"


class Result:
    """status: ok | refused | shape_error | run_error | io_error |
    nondeterministic | input_modified | crash | hang | server_error"""

    def __init__(self, status, msg="", n=0, stderr=""):
        self.status = status
        self.msg = msg
        self.n = n
        self.stderr = stderr
        self.seconds = 0.0

    def __repr__(self):
        return f"Result({self.status} {self.msg[:200]!r})"


class _Proc:
    """A line-oriented child process with a timeout per answer."""

    def __init__(self, argv, env=None, timeout=120.0):
        self.argv = argv
        self.env = env
        self.timeout = timeout
        self.p = None
        self.err = None
        self.pending = None

    def start(self):
        self.err = tempfile.TemporaryFile(mode="w+b")
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, env=self.env, start_new_session=True)
        self.buf = b""

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stderr_tail(self, n=4000):
        if not self.err:
            return ""
        self.err.seek(0, os.SEEK_END)
        size = self.err.tell()
        self.err.seek(max(0, size - n))
        return self.err.read().decode("utf-8", "replace")

    def send(self, line):
        if not self.alive():
            self.start()
        self.err.seek(0)
        self.err.truncate()
        self.t0 = time.time()
        try:
            self.p.stdin.write((line + "\n").encode())
            self.p.stdin.flush()
            self.pending = line
        except BrokenPipeError:
            self.pending = line

    def recv(self):
        """One answer line; a Result for a crash or a hang."""
        deadline = self.t0 + self.timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                self.kill()
                return Result("hang", f"no answer within {self.timeout:.0f} s")
            r, _, _ = select.select([fd], [], [], min(left, 1.0))
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    code = self.p.wait()
                    tail = self.stderr_tail()
                    self.p = None
                    sig = f"signal {-code}" if code < 0 else f"exit {code}"
                    return Result("crash", f"process ended ({sig})", stderr=tail)
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.pending = None
        return line.decode("utf-8", "replace")

    def kill(self):
        if self.p is not None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait()
            self.p = None

    def close(self, quit_line="quit"):
        """Ends the process; its exit status (a leak report comes only now)
        and the end of its stderr, or None when it was not running."""
        res = None
        if self.alive():
            try:
                self.err.seek(0)
                self.err.truncate()
                self.p.stdin.write((quit_line + "\n").encode())
                self.p.stdin.close()
                code = self.p.wait(timeout=60)
                res = (code, self.stderr_tail())
            except Exception:  # noqa: BLE001 - closing anyway
                self.kill()
        self.p = None
        return res


class OrtcOracle:
    """ortc through difftest_driver: `mode` opt (the default session) or ref
    (reference kernels, no graph passes)."""

    def __init__(self, driver, mode, timeout=120.0):
        self.mode = mode
        self.name = "ortc-" + mode
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:exitcode=86")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=86")
        env.setdefault("OMP_WAIT_POLICY", "passive")
        self.proc = _Proc([driver], env=env, timeout=timeout)

    def submit(self, d, threads=1):
        ref, opt = (1, 0) if self.mode == "ref" else (0, 1)
        self.proc.send(f"run {d} {self.mode} {ref} {opt} {threads}")

    def result(self):
        t0 = self.proc.t0
        line = self.proc.recv()
        if isinstance(line, Result):
            line.seconds = time.time() - t0
            return line
        kind, _, rest = line.partition(" ")
        if kind == "ok":
            r = Result("ok", n=int(rest))
        else:
            r = Result(kind, rest)
        tail = self.proc.stderr_tail()
        if "runtime error:" in tail or "ERROR: AddressSanitizer" in tail:
            r = Result("crash", "sanitizer report", stderr=tail)
        r.seconds = time.time() - t0
        return r

    def outputs(self, d, n):
        return [np.load(os.path.join(d, f"{self.mode}_out_{k}.npy")) for k in range(n)]

    def probe(self, model):
        self.proc.send(f"probe {model}")
        res = []
        while True:
            line = self.proc.recv()
            if isinstance(line, Result) or line == "done" or line.startswith("refused"):
                return res
            parts = line.split()
            if parts and parts[0] == "unsupported":
                res.append((parts[1], int(parts[2])))

    def close(self):
        return self.proc.close()


def ensure_ort(ort_dir, allow_npm=True, log=print):
    """NODE_PATH of onnxruntime-node 1.30.0, or (None, why)."""
    modules = os.path.join(ort_dir, "node_modules")
    pkg = os.path.join(modules, "onnxruntime-node", "package.json")
    if not shutil.which("node"):
        return None, "Node.js (node) is not installed"
    if not os.path.exists(pkg):
        if not allow_npm:
            return None, f"onnxruntime-node is not installed in {ort_dir}"
        if not shutil.which("npm"):
            return None, "npm is not installed"
        os.makedirs(ort_dir, exist_ok=True)
        log(f"npm install --ignore-scripts {ORT_PACKAGE} into {ort_dir} ...")
        r = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund",
                            "--prefix", ort_dir, ORT_PACKAGE], capture_output=True, text=True,
                           timeout=900)
        if r.returncode or not os.path.exists(pkg):
            return None, f"npm install {ORT_PACKAGE} failed: {r.stderr.strip()[-300:]}"
    with open(pkg) as f:
        version = json.load(f).get("version", "?")
    return (modules, version), None


class OrtOracle:
    name = "ort"

    def __init__(self, node_path, timeout=120.0):
        env = dict(os.environ, NODE_PATH=node_path)
        self.proc = _Proc(["node", os.path.join(HERE, "ort_server.js")], env=env,
                          timeout=timeout)

    def submit(self, d, input_names, threads=1):
        self.proc.send(json.dumps({"dir": d, "inputs": input_names, "threads": threads}))

    def result(self):
        t0 = self.proc.t0
        line = self.proc.recv()
        if isinstance(line, Result):
            line.seconds = time.time() - t0
            return line
        try:
            j = json.loads(line)
        except ValueError:
            return Result("server_error", line)
        r = Result(j.get("status", "server_error"), j.get("msg", ""), j.get("n", 0))
        r.seconds = time.time() - t0
        return r

    def outputs(self, d, n):
        return [np.load(os.path.join(d, f"ort_out_{k}.npy")) for k in range(n)]

    def close(self):
        return self.proc.close()


# ---- comparison ------------------------------------------------------------

ONNX_FLOAT = {"float32": 1, "float16": 10, "float64": 11}
EPS = {"float32": float(np.finfo(np.float32).eps), "float16": float(np.finfo(np.float16).eps),
       "float64": float(np.finfo(np.float64).eps)}
# Tolerance for outputs that are not exact (see README "Differential tests"):
#   |a - b| <= (ULPS_REL * eps * |b| + ULPS_SCALE * eps * max|b|) * (1 + depth)
# Why: kernels may reorder sums (blocked layouts, Winograd, oneDNN's GEMMs)
# and use other libm approximations, so each inexact operation on the path
# may add a few ulps relative to the magnitudes it combines, and those are
# the output's magnitudes, not each element's (a sum that cancels keeps the
# absolute error of its terms): hence a term scaled by the output's largest
# magnitude, growing with depth (inexact float operations on the longest
# path from an input). Winograd's transforms cost about two decimal digits
# against direct convolution, the largest single contributor; ULPS_SCALE
# leaves room for it. A bug (a wrong index, a missed post-op, wrong
# padding) shows up at O(1) relative to the output's magnitude, three or
# more orders above this.
ULPS_REL = 64.0
ULPS_SCALE = 512.0
FP16_ULPS_REL, FP16_ULPS_SCALE = 4.0, 8.0  # float16 outputs: rounding of the result dominates


def tolerance(dtype, depth):
    eps = EPS[dtype]
    rel, scale = (FP16_ULPS_REL, FP16_ULPS_SCALE) if dtype == "float16" else \
        (ULPS_REL, ULPS_SCALE)
    return rel * eps * (1 + depth), scale * eps * (1 + depth)


def _same_special(a, b):
    """NaN where NaN, +-Inf where the same Inf."""
    na, nb = np.isnan(a), np.isnan(b)
    if not np.array_equal(na, nb):
        return False
    ia, ib = np.isinf(a), np.isinf(b)
    if not np.array_equal(ia, ib):
        return False
    return np.array_equal(a[ia], b[ib])


def compare_one(a, b, meta):
    """None when a (under test) agrees with b (oracle); else a dict saying how."""
    if a.dtype != b.dtype:
        return {"how": "dtype", "detail": f"{a.dtype} vs {b.dtype}"}
    if a.shape != b.shape:
        return {"how": "shape", "detail": f"{list(a.shape)} vs {list(b.shape)}"}
    if a.size == 0:
        return None
    if a.dtype.kind not in "f" and meta.get("qstep"):
        # a quantized rounding of an inexact value (QuantizeLinear after
        # float arithmetic): a value within rounding error of a tie may go
        # either way, so one quantization step apart agrees (DESIGN.md,
        # Precision: 'within one quantization step')
        d = np.abs(a.astype(np.int64) - b.astype(np.int64))
        if not (d > 1).any():
            return None
        i = int(np.argmax(d))
        return {"how": "qstep", "count": int((d > 1).sum()), "index": list(np.unravel_index(
            i, a.shape)), "got": a.reshape(-1)[i].item(), "want": b.reshape(-1)[i].item(),
            "err": float(d.reshape(-1)[i])}
    if a.dtype.kind not in "f":
        bad = a != b
        if not bad.any():
            return None
        i = int(np.flatnonzero(bad)[0])
        return {"how": "values", "count": int(bad.sum()), "index": list(np.unravel_index(
            i, a.shape)), "got": a.reshape(-1)[i].item(), "want": b.reshape(-1)[i].item(),
            "err": 1.0}
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if not _same_special(a64, b64):
        bad = ~((np.isnan(a64) & np.isnan(b64)) | (a64 == b64))
        i = int(np.flatnonzero(bad)[0])
        return {"how": "nan/inf", "count": int(bad.sum()),
                "index": list(np.unravel_index(i, a.shape)), "got": a64.reshape(-1)[i],
                "want": b64.reshape(-1)[i], "err": math.inf}
    fin = np.isfinite(b64)
    if not fin.any():
        return None
    diff = np.where(fin, np.abs(a64 - b64), 0.0)
    scale = float(np.max(np.abs(b64[fin])))
    if meta.get("exact"):
        bad = diff > 0
        if not bad.any():
            return None
        i = int(np.argmax(diff))
        return {"how": "exact", "count": int(bad.sum()), "index": list(np.unravel_index(
            i, a.shape)), "got": a64.reshape(-1)[i], "want": b64.reshape(-1)[i],
            "err": float(diff.reshape(-1)[i]) / max(scale, 1e-30), "scale": scale}
    # the precision the value was computed in (a float32 result cast to
    # float64 keeps float32's rounding)
    prec = meta.get("prec") or str(a.dtype)
    if prec not in EPS or EPS[prec] < EPS[str(a.dtype)]:
        prec = str(a.dtype)
    rel, sc = tolerance(prec, meta.get("depth", 1))
    scale = max(scale, float(meta.get("path_scale", 0.0)))
    tol = rel * np.where(fin, np.abs(b64), 0.0) + sc * scale
    ratio = np.where(fin, diff / np.maximum(tol, 1e-300), 0.0)
    i = int(np.argmax(ratio))
    worst = float(ratio.reshape(-1)[i])
    err = float(diff.reshape(-1)[i]) / max(scale, 1e-30)
    if worst <= 1.0:
        return {"how": None, "err": err, "ratio": worst}
    return {"how": "tolerance", "count": int((ratio > 1).sum()),
            "index": list(np.unravel_index(i, a.shape)), "got": a64.reshape(-1)[i],
            "want": b64.reshape(-1)[i], "err": err, "ratio": worst, "scale": scale,
            "depth": meta.get("depth", 1)}


def compare(got, want, metas):
    """[(k, mismatch)] for outputs that disagree, plus the worst error ratio
    of those that agree (for the tolerance statistics)."""
    bad = []
    worst = 0.0
    if len(got) != len(want):
        return [(-1, {"how": "count", "detail": f"{len(got)} vs {len(want)} outputs"})], worst
    for k, (a, b) in enumerate(zip(got, want)):
        m = compare_one(a, b, metas[k] if k < len(metas) else {})
        if m is None:
            continue
        if m["how"] is None:
            worst = max(worst, m.get("err", 0.0))
            continue
        m["output"] = k
        bad.append((k, m))
    return bad, worst
