#!/usr/bin/python3
"""dask_full.py — python.dask_full: test_dask.py on all 10,000 Fashion-MNIST
test images when ORTC_FULL=1 (tools/check-all --full sets it), else a skip
(exit 77, ctest's SKIP_RETURN_CODE): the full run takes minutes.

  dask_full.py PYTEST-COMMAND...
"""
import os
import subprocess
import sys

if os.environ.get("ORTC_FULL") != "1":
    print("SKIP: the 10,000-image Dask run needs ORTC_FULL=1 (tools/check-all --full)")
    sys.exit(77)
sys.exit(subprocess.call(sys.argv[1:]))
