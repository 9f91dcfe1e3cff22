"""conftest.py — what the Python tests share: the package from tools/python,
the build's `ortc` CLI and capi_check (ctest passes ORTC_CLI, ORTC_LIBRARY,
ORTC_CAPI_CHECK; by hand they default to build/), and small ONNX models.
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "python"))
BUILD = os.environ.get("ORTC_BUILD_DIR", os.path.join(REPO, "build"))
FASHION_DIR = os.path.join(REPO, "models", "fashion-alexnet")
TESTDATA = "/usr/share/libonnx-testdata/data"


def _exe(env, default):
    path = os.environ.get(env) or default
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{path} is not an executable (build it, or set {env})")
    return path


@pytest.fixture(scope="session")
def cli():
    return _exe("ORTC_CLI", os.path.join(BUILD, "ortc"))


@pytest.fixture(scope="session")
def capi_check():
    return _exe("ORTC_CAPI_CHECK", os.path.join(BUILD, "tests", "python", "capi_check"))


def run_cli(args, **kw):
    """(exit code, stdout, the message of its `ortc: ...` line or '')."""
    r = subprocess.run(args, capture_output=True, text=True, errors="replace", **kw)
    msg = ""
    for line in r.stderr.splitlines():
        if line.startswith("ortc: "):
            msg = line[len("ortc: "):]
    return r.returncode, r.stdout, msg
