#!/usr/bin/python3
"""The statistical checks of `ortc test` (a manifest entry's `check:`) must
pass a correct random operator and fail everything else. Uses node test
test_bernoulli's data (input x: 10 probabilities, expected y: float64) with
models written here: Bernoulli itself (passes `check: bernoulli`, fails
`check: bernoulli_complement`), and outputs that are constant, outside
{0, 1}, of another dtype, of the wrong rate (Bernoulli of 1 - x) — each must
fail `check: bernoulli`. Also: an unknown check and a check without a reason
are manifest errors."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SOURCE = "test_bernoulli"
# runs given to a case whose expected outcome holds only with high probability
ATTEMPTS = 8


def model(nodes, out_type=TensorProto.DOUBLE, inits=()):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [10])],
                          [helper.make_tensor_value_info("y", out_type, [10])],
                          initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])


def const(name, value):
    return numpy_helper.from_array(np.array(value, dtype=np.float64), name)


MODELS = {
    # a correct Bernoulli(x)
    "bernoulli": model([helper.make_node("Bernoulli", ["x"], ["y"])]),
    # 0 whatever x: the rate of every element with 0 < p is wrong
    "constant": model([helper.make_node("Greater", ["x", "two"], ["b"]),
                       helper.make_node("Cast", ["b"], ["y"], to=TensorProto.DOUBLE)],
                      inits=[const("two", 2.0)]),
    # right rate, values 0 and 2
    "range": model([helper.make_node("Bernoulli", ["x"], ["b"]),
                    helper.make_node("Mul", ["b", "two"], ["y"])], inits=[const("two", 2.0)]),
    # float32 where the data says float64
    "dtype": model([helper.make_node("Bernoulli", ["x"], ["y"], dtype=TensorProto.FLOAT)],
                   out_type=TensorProto.FLOAT),
    # 1 with probability 1 - x
    "inverted": model([helper.make_node("Sub", ["one", "x"], ["q"]),
                       helper.make_node("Bernoulli", ["q"], ["y"])], inits=[const("one", 1.0)]),
}

# (what, model, manifest entry body, expected exit code, text the output must hold)
CASES = [
    ("Bernoulli passes check bernoulli", "bernoulli",
     "{expect: pass, check: bernoulli, reason: r}", 0, "check bernoulli: 2000 runs"),
    ("Bernoulli fails check bernoulli_complement", "bernoulli",
     "{expect: pass, check: bernoulli_complement, reason: r}", 1, "REGRESSIONS"),
    ("a constant output fails", "constant", "{expect: pass, check: bernoulli, reason: r}", 1,
     "runs (rate 0.0000)"),
    ("values outside {0, 1} fail", "range", "{expect: pass, check: bernoulli, reason: r}", 1,
     "not 0 or 1"),
    ("another dtype fails", "dtype", "{expect: pass, check: bernoulli, reason: r}", 1,
     "has dtype float32, expected float64"),
    ("the wrong rate fails", "inverted", "{expect: pass, check: bernoulli, reason: r}", 1,
     "its probability is"),
    # one run matches test_bernoulli's expected y by chance with probability 0.0061
    # (the product over its elements of P(that element's draw equals y)), so this
    # case gets ATTEMPTS runs and must fail in at least one (all match: 0.0061^8)
    ("exact comparison fails a random output", "bernoulli", "pass", 1, "elements differ"),
    ("an unknown check is a manifest error", "bernoulli",
     "{expect: pass, check: gaussian, reason: r}", 1, "unknown check 'gaussian'"),
    ("a check needs a reason", "bernoulli", "{expect: pass, check: bernoulli}", 1,
     "a statistical check needs a reason"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--data", required=True, help="the node suite's folder")
    a = ap.parse_args()
    src = os.path.join(a.data, SOURCE)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, name, body, want_rc, want_text in CASES:
            test = os.path.join(tmp, name, SOURCE)
            if not os.path.isdir(test):
                shutil.copytree(os.path.join(src, "test_data_set_0"),
                                os.path.join(test, "test_data_set_0"))
                onnx.save(MODELS[name], os.path.join(test, "model.onnx"))
            man = os.path.join(tmp, "m.yaml")
            with open(man, "w") as f:
                f.write(f"suite: node\ndata_version: test\ntests:\n  {SOURCE}: {body}\n")
            # the exact comparison of a random output: every attempt that does not
            # fail must be an honest pass (the draw equalled the data), and one must fail
            tries = ATTEMPTS if body == "pass" else 1
            for attempt in range(tries):
                r = subprocess.run([a.cli, "test", test, "--manifest", man], capture_output=True,
                                   text=True)
                out = r.stdout + r.stderr
                ok = r.returncode == want_rc and want_text in out
                if ok or not (r.returncode == 0 and "PASS" in out and attempt + 1 < tries):
                    break
            print(f"{'ok  ' if ok else 'FAIL'} {what}: exit {r.returncode} (want {want_rc}), "
                  f"{'found' if want_text in out else 'missing'} '{want_text}'")
            if not ok:
                print(out)
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
