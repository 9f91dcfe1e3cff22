"""test_onnx_backend.py — ONNX's own backend test runner
(onnx.backend.test.BackendTest) over ortc.backend, under pytest: every test
of Debian's libonnx-testdata suites, the known failures of
tests/conformance/SUITE.yaml skipped with their reasons (the files `ortc
test --manifest` reads). run_backend.py compares the outcome with `ortc test`.

  ORTC_BACKEND_SUITES=node,simple  (default: all four)
  ORTC_BACKEND_DATA=/usr/share/libonnx-testdata/data
  ORTC_MANIFEST_DIR=tests/conformance
  ORTC_THREADS=1                   kernel threads per session (default 1)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "python"))

import ortc.backend  # noqa: E402

SUITES = [s for s in os.environ.get("ORTC_BACKEND_SUITES",
                                    ",".join(ortc.backend.SUITES)).split(",") if s]
MANIFEST_DIR = os.environ.get("ORTC_MANIFEST_DIR", os.path.join(REPO, "tests", "conformance"))
MANIFESTS = {s: os.path.join(MANIFEST_DIR, f"{s}.yaml") for s in SUITES}

backend_test = ortc.backend.OrtcBackendTest(
    parent_module=__name__, suites=SUITES, manifests=MANIFESTS,
    data_dir=os.environ.get("ORTC_BACKEND_DATA", ortc.backend.DEFAULT_DATA_DIR),
    threads=int(os.environ.get("ORTC_THREADS", "1")))
globals().update(backend_test.test_cases)
