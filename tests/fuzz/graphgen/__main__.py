"""`/usr/bin/python3 tests/fuzz/graphgen --seed S -o DIR [--opset N] [--focus OP]`:
writes one generated case (model.onnx, in_<i>.npy, case.json) to DIR; the
other subcommands are difftest.py's (`... graphgen batch|campaign|replay|
corpus|shrink ...`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import difftest  # noqa: E402

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0].startswith("-"):
        argv = ["gen"] + argv
    sys.exit(difftest.main(argv))
