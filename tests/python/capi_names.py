#!/usr/bin/python3
"""capi_names.py — the C API's name and metadata lookups (ortc_session_input_
index/output_index, ortc_model_metadata, ortc_model_get_info's domain and doc
strings, ortc_version) through capi_check on a model onnx writes with
metadata_props, compared with what onnx reads from the same file. Runs in
every build, the sanitizer builds included (only capi_check loads libortc).

  capi_names.py CAPI_CHECK --work DIR
"""
import argparse
import os
import subprocess
import sys

from onnx import TensorProto, helper, save


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capi_check")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Neg", ["x"], ["n"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("r", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("n", TensorProto.FLOAT, ["batch", 3])],
        doc_string="the graph's doc")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              doc_string="a doc string", domain="org.example")
    meta = [("labels", "fashion_mnist_labels.txt"), ("author", "ortc tests"), ("empty", "")]
    for k, v in meta:
        e = model.metadata_props.add()
        e.key, e.value = k, v
    path = os.path.join(a.work, "meta.onnx")
    save(model, path)
    r = subprocess.run([a.capi_check, "names", path, "x", "n", "nope"], capture_output=True,
                       text=True)
    print(r.stdout, r.stderr, sep="")
    if r.returncode != 0:
        print(f"FAIL: capi_check exit {r.returncode}")
        return 1
    lines = r.stdout.splitlines()
    want = ["input x -> 0", "output n -> 1", "domain 'org.example'", "doc 'a doc string'",
            "graph_doc 'the graph's doc'", f"metadata {len(meta)}"]
    want += [f"metadata {i}: '{k}' = '{v}'" for i, (k, v) in enumerate(meta)]
    problems = [f"missing line: {w}" for w in want if w not in lines]
    prefixes = [("output x: INVALID_ARGUMENT: ",
                 f"{path}: the model has no output named 'x' (its outputs: 'r', 'n')"),
                ("input nope: INVALID_ARGUMENT: ",
                 f"{path}: the model has no input named 'nope' (its inputs: 'x')"),
                (f"metadata {len(meta)}: INVALID_ARGUMENT: ", "out of range")]
    for pre, text in prefixes:
        if not any(line.startswith(pre) and text in line for line in lines):
            problems.append(f"no line '{pre}...{text}...'")
    v = lines[0].split() if lines else []
    if len(v) != 4 or v[1] != v[3].rstrip(")"):
        problems.append(f"library and header versions differ: {lines[:1]}")
    for p in problems:
        print("FAIL: " + p)
    print(f"{len(want) + len(prefixes) + 1 - len(problems)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
