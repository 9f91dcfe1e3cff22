"""cli_check.py — what the whole-model tests share about running the ortc
CLI: failure lines, exit descriptions, a run with a time limit, and reading
back the output.npy that `ortc run --output-dir DIR` writes. Standard library
and numpy only; the comparisons with PyTorch stay in each test.
"""
import os
import signal
import subprocess
import sys
import time


def fail(msg):
    """Prints 'FAIL: msg' on stderr; returns 1 (a failing exit code)."""
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    return 1


def describe_exit(rc):
    if rc < 0:
        try:
            return f"killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit code {rc}"


def check_cli(cli):
    """None, or why `cli` cannot be run."""
    if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
        return f"ortc CLI '{cli}' does not exist or is not executable (build target ortc_cli)"
    return None


def run_cli(cmd, timeout):
    """Runs cmd (echoed first): (CompletedProcess or None, error text, seconds).
    A non-zero exit or a timeout is an error that carries the output."""
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, f"did not finish in {timeout}s\nstderr:\n{e.stderr or ''}", time.time() - t0
    secs = time.time() - t0
    if r.returncode != 0:
        return None, (f"{describe_exit(r.returncode)}\nstdout:\n{r.stdout.rstrip()}\n"
                      f"stderr:\n{r.stderr.rstrip()}"), secs
    return r, None, secs


def load_output(out_dir, want_shape):
    """DIR/output.npy: (float32 array of want_shape with finite values, None),
    or (None, why not)."""
    import numpy as np
    out_path = os.path.join(out_dir, "output.npy")
    if not os.path.isfile(out_path):
        return None, f"ortc exited 0 but wrote no {out_path}; files there: {os.listdir(out_dir)}"
    try:
        got = np.load(out_path, allow_pickle=False)
    except Exception as e:  # a malformed .npy is a test failure, not a crash
        return None, f"{out_path}: cannot read: {e}"
    if got.dtype != np.float32 or got.shape != tuple(want_shape):
        return None, (f"{out_path}: {got.dtype} {list(got.shape)}, "
                      f"expected float32 {list(want_shape)}")
    bad = ~np.isfinite(got)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return None, (f"{out_path}: {int(bad.sum())} non-finite values, first at {idx}: "
                      f"{got[idx]}")
    return got, None
