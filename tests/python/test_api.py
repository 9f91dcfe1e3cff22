"""test_api.py — ortc's Python session API against independent oracles:
PyTorch's outputs (AlexNet exports, Fashion-MNIST models), the ONNX files
read by onnx, the `ortc` CLI's messages and reports for the same mistakes
and models, numpy for tiny graphs, tracemalloc for the absence of copies,
and sequential runs for concurrent ones.

Environment (set by ctest): ORTC_CLI, ORTC_LIBRARY, ORTC_MODELS_CACHE (the
exported AlexNets), ORTC_ALEXNET_MODELS (their names, comma-separated).
"""
import json
import logging
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings

import numpy as np
import onnx
import pytest
from onnx import helper, TensorProto

from conftest import FASHION_DIR, HERE, REPO, TESTDATA, run_cli

import ortc
import ortc.backend

REL_TOL = 1e-4  # DESIGN.md's whole-model tolerance: max|ortc - torch| <= 1e-4 * max|torch|
CACHE = os.environ.get("ORTC_MODELS_CACHE", os.path.join(REPO, "build", "models-cache"))
ALEXNETS = [m for m in os.environ.get("ORTC_ALEXNET_MODELS", "").replace(";", ",").split(",")
            if m]
FASHION = ["fashion_alexnet", "fashion_alexnet_torchlrn_op13", "fashion_alexnet_torchlrn_op17"]
FASHION_WORK = os.environ.get("ORTC_FASHION_WORK", os.path.join(REPO, "build", "fashion-work"))
FASHION_MODEL = os.path.join(FASHION_DIR, "fashion_alexnet.onnx")


def compare_to_torch(got, want, what):
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, PyTorch {want.shape}"
    err = np.abs(got.astype(np.float64) - want)
    tol = REL_TOL * np.abs(want).max()
    k = np.unravel_index(np.argmax(err), err.shape)
    print(f"{what}: max|ortc - torch| = {err.max():.3e} at {list(k)} (ortc {got[k]:.7g}, torch "
          f"{want[k]:.7g}); tolerance {tol:.3e}")
    assert err.max() <= tol, f"{what}: worst at {list(k)}: ortc {got[k]!r} torch {want[k]!r}"


def run_script(model, x, tmp_path):
    """ort_script.py (an ONNX Runtime script with only its import changed) in
    a fresh interpreter; returns its saved output."""
    inp, out = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(inp, x)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "tools", "python"))
    r = subprocess.run([sys.executable, os.path.join(HERE, "ort_script.py"), model, str(inp),
                        str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, f"ort_script.py failed:\n{r.stdout}\n{r.stderr}"
    print(r.stdout.strip())
    return np.load(out)


# ---- acceptance 1: an ONNX Runtime script on every AlexNet export and Fashion-MNIST ----------

@pytest.mark.parametrize("name", ALEXNETS)
def test_ort_script_alexnet(name, tmp_path):
    stem = os.path.join(CACHE, name)
    assert os.path.isfile(stem + ".onnx"), f"{stem}.onnx missing (ctest fixture models.export)"
    x = np.load(stem + ".input.npy")
    want = np.load(stem + ".expected.npy").astype(np.float64)  # PyTorch's output at export
    compare_to_torch(run_script(stem + ".onnx", x, tmp_path), want, name)


def test_alexnet_list_is_complete():
    """Every AlexNet the model tests export is covered above."""
    assert len(ALEXNETS) >= 7, f"ORTC_ALEXNET_MODELS lists {ALEXNETS}"


@pytest.fixture(scope="module")
def fashion_torch():
    """1000 test images and PyTorch's logits for them (the committed
    state_dict under torch's own nn.LocalResponseNorm)."""
    sys.path.insert(0, os.path.join(REPO, "models"))
    import torch
    import train_fashion_alexnet as tfa
    images, labels = tfa.load_split("test")
    x = tfa.normalize(images[:1000])
    torch.set_num_threads(2)
    model = tfa.load_trained(os.path.join(FASHION_DIR, tfa.STATE_DICT), lrn="torch")
    return x, tfa.predict(model, x).astype(np.float64), labels[:1000]


@pytest.mark.parametrize("name", FASHION)
def test_ort_script_fashion(name, fashion_torch, tmp_path):
    x, want, _ = fashion_torch
    got = run_script(os.path.join(FASHION_DIR, name + ".onnx"), x, tmp_path)
    compare_to_torch(got, want, name)
    assert np.array_equal(got.argmax(1), want.argmax(1)), "a class differs from PyTorch's"


# ---- errors: the right class, ortc's message, no crash ---------------------------------------

@pytest.fixture(scope="module")
def fashion():
    return ortc.InferenceSession(FASHION_MODEL, threads=1)


def cli_message(cli, model, x, tmp_path, name="input"):
    np.save(tmp_path / "bad.npy", x)
    rc, _, msg = run_cli([cli, "run", model, "--input", f"{name}={tmp_path / 'bad.npy'}",
                          "--output-dir", str(tmp_path / "out"), "--threads", "1"])
    assert rc == 1 and msg, f"the CLI accepted it (exit {rc})"
    return msg


def test_wrong_dtype(fashion, cli, tmp_path):
    x = np.zeros((2, 1, 28, 28), np.float64)
    with pytest.raises(ortc.InvalidArgument) as e:
        fashion.run(None, {"input": x})
    assert str(e.value) == cli_message(cli, FASHION_MODEL, x, tmp_path)
    assert isinstance(e.value, ortc.Error) and e.value.status_name == "INVALID_ARGUMENT"


def test_wrong_shape(fashion, cli, tmp_path):
    x = np.zeros((2, 1, 20, 28), np.float32)
    with pytest.raises(ortc.InvalidArgument) as e:
        fashion.run(None, {"input": x})
    assert str(e.value) == cli_message(cli, FASHION_MODEL, x, tmp_path)
    assert "[2,1,20,28]" in str(e.value)


def test_wrong_rank(fashion, cli, tmp_path):
    x = np.zeros((1, 28, 28), np.float32)
    with pytest.raises(ortc.InvalidArgument) as e:
        fashion.run(None, {"input": x})
    assert str(e.value) == cli_message(cli, FASHION_MODEL, x, tmp_path)


def test_unknown_input_name(fashion, cli, tmp_path):
    x = np.zeros((1, 1, 28, 28), np.float32)
    with pytest.raises(ortc.InvalidArgument) as e:
        fashion.run(None, {"pixels": x})
    assert str(e.value) == cli_message(cli, FASHION_MODEL, x, tmp_path, name="pixels")


def test_unknown_output_name(fashion):
    with pytest.raises(ortc.InvalidArgument, match="no output named 'logits' .*'output'"):
        fashion.run(["logits"], {"input": np.zeros((1, 1, 28, 28), np.float32)})


def test_missing_input(fashion):
    with pytest.raises(ortc.InvalidArgument, match="'input' missing from the input feed"):
        fashion.run(None, {})


def test_missing_file(cli, tmp_path):
    path = str(tmp_path / "no-such-model.onnx")
    with pytest.raises(ortc.IoError) as e:
        ortc.InferenceSession(path)
    _, _, msg = run_cli([cli, "info", path])
    assert str(e.value) == msg and path in msg
    assert isinstance(e.value, OSError) and isinstance(e.value, ortc.Error)


def test_invalid_model_bytes(cli, tmp_path):
    data = open(FASHION_MODEL, "rb").read()[:1000]
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data)
    with pytest.raises(ortc.InvalidModel) as e:
        ortc.InferenceSession(str(path))
    _, _, msg = run_cli([cli, "info", str(path)])
    assert str(e.value) == msg
    with pytest.raises(ortc.InvalidModel):
        ortc.InferenceSession(data)  # the same bytes from memory


def test_unsupported_op(cli, tmp_path):
    # an operator of a domain ortc does not know (ONNX's own ops get implemented)
    node = helper.make_node("StringSorter", ["x"], ["y"], name="norm", domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.STRING,
                                                                          [2])],
                              [helper.make_tensor_value_info("y", TensorProto.STRING, [2])])
    path = tmp_path / "unsupported.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                      helper.make_opsetid("com.example", 1)]),
              path)
    with pytest.raises(ortc.Unsupported) as e:
        ortc.InferenceSession(str(path))
    rc, _, msg = run_cli([cli, "run", str(path), "--input", "x=/dev/null"])
    assert "StringSorter" in str(e.value) and "'norm'" in str(e.value)
    assert str(e.value) == msg


def test_error_classes_match_c_status_names():
    from ortc import _capi as C
    for status, cls in C.ERRORS.items():
        assert C.text(C.ortc_status_name(status)) == cls.status_name
        assert issubclass(cls, ortc.Error)
    assert len(C.ERRORS) == 7


def test_closed_session():
    s = ortc.InferenceSession(FASHION_MODEL, threads=1)
    s.close()
    with pytest.raises(ortc.InvalidArgument, match="closed"):
        s.run(None, {"input": np.zeros((1, 1, 28, 28), np.float32)})


# ---- no copy of inputs --------------------------------------------------------------------

def reduce_model(tmp_path, shape):
    node = helper.make_node("ReduceSum", ["x"], ["y"], keepdims=0)
    graph = helper.make_graph([node], "sum", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, shape)], [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                        [])])
    path = tmp_path / "sum.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]), path)
    return str(path)


def traced_peak(fn):
    """Peak bytes numpy/Python allocated during fn() (tracemalloc sees
    numpy's array buffers, not libortc's own allocations)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_inputs_are_not_copied(tmp_path):
    shape = [16, 1024, 1024]  # 64 MiB of float32
    s = ortc.InferenceSession(reduce_model(tmp_path, shape), threads=1)
    big = np.ones((16, 1024, 2048), np.float32)
    x = np.ascontiguousarray(big[:, :, :1024])
    want = float(x.size)
    out = []
    peak = traced_peak(lambda: out.append(s.run(None, {"x": x})[0]))
    print(f"C-contiguous float32 input of {x.nbytes >> 20} MiB: peak {peak} bytes allocated")
    assert float(out[0]) == want
    assert peak < x.nbytes // 100, f"{peak} bytes allocated: the input was copied"
    # the measurement can see a copy: a strided view and a Fortran-ordered
    # array must be made contiguous first
    view = big[:, :, ::2]
    peak = traced_peak(lambda: s.run(None, {"x": view}))
    print(f"strided view: peak {peak} bytes")
    assert peak >= view.nbytes, "a copy was expected for a strided view"
    fortran = np.asfortranarray(x)
    peak = traced_peak(lambda: s.run(None, {"x": fortran}))
    assert peak >= fortran.nbytes


# ---- several Python threads --------------------------------------------------------------

def test_concurrent_runs_match_sequential():
    s = ortc.InferenceSession(FASHION_MODEL, threads=1, max_concurrent_runs=4)
    x = np.load(os.path.join(FASHION_WORK, "test_images.npy"), mmap_mode="r") \
        if os.path.isfile(os.path.join(FASHION_WORK, "test_images.npy")) else None
    if x is None:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((640, 1, 28, 28)).astype(np.float32)
    batches = [np.ascontiguousarray(x[i * 32:(i + 1) * 32]) for i in range(20)]
    want = [s.run(None, {"input": b})[0] for b in batches]  # one at a time
    n_threads, rounds = 4, 3
    got = []  # (thread, batch, output) of every run
    spans = []
    errors = []

    def worker(t):
        step = (1, 3, 7, 9)[t]  # coprime to 20: each thread visits every batch, in its own order
        try:
            for r in range(rounds):
                for k in range(len(batches)):
                    i = (k * step + r) % len(batches)
                    t0 = time.perf_counter()
                    y = s.run(None, {"input": batches[i]})[0]
                    spans.append((t, t0, time.perf_counter()))
                    got.append((t, i, y))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert len(got) == n_threads * rounds * len(batches)
    for t, i, y in got:
        assert np.array_equal(y, want[i]), f"thread {t} batch {i} differs from the sequential run"
    # runs of different threads overlapped in time: the GIL was released
    # during the C call (were it held, no thread could start a run while
    # another's was in progress)
    spans.sort(key=lambda s_: s_[1])
    overlaps = sum(1 for a in range(len(spans)) for b in range(a + 1, len(spans))
                   if spans[a][0] != spans[b][0] and spans[b][1] < spans[a][2])
    print(f"{len(spans)} runs in {n_threads} threads; {overlaps} overlapping pairs")
    assert overlaps > 0, "no two runs overlapped: run() does not release the GIL"


# ---- metadata -----------------------------------------------------------------------------

def test_inputs_outputs_against_onnx():
    model = onnx.load(FASHION_MODEL)
    s = ortc.InferenceSession(FASHION_MODEL, threads=1)
    init = {i.name for i in model.graph.initializer}
    for args, vis in ((s.get_inputs(), [v for v in model.graph.input if v.name not in init]),
                      (s.get_outputs(), model.graph.output)):
        assert [a.name for a in args] == [v.name for v in vis]
        for a, v in zip(args, vis):
            tt = v.type.tensor_type
            want = [d.dim_param if d.HasField("dim_param") else d.dim_value
                    for d in tt.shape.dim]
            assert a.shape == want
            assert a.type == f"tensor({onnx.TensorProto.DataType.Name(tt.elem_type).lower()})"
    assert s.get_inputs()[0].shape[0] == "batch"  # symbolic dims are strings


def identity_model(path, dtypes):
    nodes, ins, outs = [], [], []
    for i, dt in enumerate(dtypes):
        nodes.append(helper.make_node("Identity", [f"x{i}"], [f"y{i}"]))
        ins.append(helper.make_tensor_value_info(f"x{i}", dt, [2, 3]))
        outs.append(helper.make_tensor_value_info(f"y{i}", dt, [2, 3]))
    graph = helper.make_graph(nodes, "ids", ins, outs)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)]), path)


def test_every_dtype_round_trips(tmp_path):
    T = TensorProto
    dts = [T.FLOAT, T.UINT8, T.INT8, T.UINT16, T.INT16, T.INT32, T.INT64, T.BOOL, T.FLOAT16,
           T.DOUBLE, T.UINT32, T.UINT64, T.STRING, T.BFLOAT16]
    path = str(tmp_path / "ids.onnx")
    identity_model(path, dts)
    s = ortc.InferenceSession(path, threads=1)
    rng = np.random.default_rng(1)
    feed = {}
    for i, (arg, dt) in enumerate(zip(s.get_inputs(), dts)):
        assert arg.type == f"tensor({T.DataType.Name(dt).lower()})"
        if dt == T.STRING:
            feed[arg.name] = np.array([["a", "bé", ""], ["long " * 20, "x", "yz"]], dtype=object)
        elif dt == T.BFLOAT16:  # the bits, as numpy_helper gives them
            feed[arg.name] = rng.integers(0, 65535, (2, 3)).astype(np.uint16)
        elif dt == T.BOOL:
            feed[arg.name] = rng.integers(0, 2, (2, 3)).astype(bool)
        else:
            np_dt = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[dt]
            feed[arg.name] = (rng.standard_normal((2, 3)) * 100).astype(np_dt)
    outs = s.run(None, feed)
    for i, (o, dt) in enumerate(zip(outs, dts)):
        x = feed[f"x{i}"]
        assert o.dtype == x.dtype and o.shape == x.shape, (T.DataType.Name(dt), o.dtype)
        assert np.array_equal(o, x), T.DataType.Name(dt)


def test_modelmeta_against_onnx(tmp_path):
    model = onnx.load(FASHION_MODEL)
    model.doc_string = "a doc string"
    model.domain = "org.example"
    model.model_version = 7
    model.graph.doc_string = "the graph's doc"
    for k, v in (("labels", "fashion_mnist_labels.txt"), ("author", "ortc tests"),
                 ("empty", "")):
        e = model.metadata_props.add()
        e.key, e.value = k, v
    path = str(tmp_path / "meta.onnx")
    onnx.save(model, path)
    m = ortc.InferenceSession(path, threads=1).get_modelmeta()
    assert m.producer_name == model.producer_name
    assert m.graph_name == model.graph.name
    assert m.domain == model.domain and m.description == model.doc_string
    assert m.graph_description == model.graph.doc_string and m.version == model.model_version
    assert m.custom_metadata_map == {p.key: p.value for p in model.metadata_props}


def test_providers_as_ort_scripts_pass_them():
    s = ortc.InferenceSession(FASHION_MODEL, providers=["CPUExecutionProvider"], threads=1)
    assert s.get_providers() == ["CPUExecutionProvider"]
    assert ortc.get_available_providers() == ["CPUExecutionProvider"]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ortc.InferenceSession(FASHION_MODEL, providers=[("CUDAExecutionProvider", {}),
                                                        "CPUExecutionProvider"], threads=1)
    assert any("CUDAExecutionProvider" in str(x.message) for x in w)
    so = ortc.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ortc.GraphOptimizationLevel.ORT_DISABLE_ALL
    s2 = ortc.InferenceSession(FASHION_MODEL, sess_options=so)
    x = np.zeros((1, 1, 28, 28), np.float32)
    a = s.run(None, {"input": x})[0]
    b = s2.run(None, {"input": x}, ortc.RunOptions())[0]
    assert np.abs(a - b).max() <= 1e-4 * np.abs(a).max()  # passes off vs on, same model
    with pytest.raises(TypeError):
        ortc.InferenceSession(FASHION_MODEL, no_such_option=1)


def test_bytes_and_output_selection(tmp_path):
    data = open(FASHION_MODEL, "rb").read()
    a = ortc.InferenceSession(FASHION_MODEL, threads=1)
    b = ortc.InferenceSession(data, threads=1)
    assert b.model_path is None
    x = np.random.default_rng(2).standard_normal((3, 1, 28, 28)).astype(np.float32)
    ya = a.run(None, {"input": x})[0]
    assert np.array_equal(ya, b.run(["output"], {"input": x})[0])
    path = str(tmp_path / "two.onnx")
    identity_model(path, [TensorProto.FLOAT, TensorProto.INT64])
    s = ortc.InferenceSession(path)
    f, i = np.ones((2, 3), np.float32), np.arange(6).reshape(2, 3)
    y1, y0 = s.run(["y1", "y0"], {"x1": i, "x0": f})
    assert np.array_equal(y1, i) and np.array_equal(y0, f)


# ---- ortc's additions: plan_stats, profile, ortc.test ------------------------------------

def test_plan_stats_equal_ortc_info(cli):
    s = ortc.InferenceSession(FASHION_MODEL, threads=1)
    with pytest.raises(ortc.InvalidArgument, match="no plan compiled yet"):
        s.plan_stats()  # dynamic batch: nothing compiled before a shape is known
    st = s.plan_stats({"input": np.zeros((1, 1, 28, 28), np.float32)})
    rc, out, _ = run_cli([cli, "info", FASHION_MODEL, "--threads", "1"])
    assert rc == 0
    line = next(l for l in out.splitlines() if l.startswith("memory plan"))
    nums = [int(t) for t in line.replace(",", " ").split() if t.isdigit()]
    assert nums[:3] == [st.arena_bytes, st.lower_bound_bytes, st.naive_bytes], (line, st)
    assert st.lower_bound_bytes <= st.arena_bytes <= st.naive_bytes
    steps = next(l for l in out.splitlines() if "kernel steps" in l)
    assert f"{st.n_steps} kernel steps" in steps and f"{st.n_folded} nodes folded" in steps


def test_profile(tmp_path):
    model = onnx.load(FASHION_MODEL)
    ops = {n.op_type for n in model.graph.node}
    names = {n.name for n in model.graph.node}
    so = ortc.SessionOptions()
    so.enable_profiling = True
    so.profile_file_prefix = str(tmp_path / "prof")
    s = ortc.InferenceSession(FASHION_MODEL, sess_options=so, threads=1)
    x = np.zeros((5, 1, 28, 28), np.float32)
    t0 = time.perf_counter()
    s.run(None, {"input": x})
    wall_ms = (time.perf_counter() - t0) * 1e3
    s.run(None, {"input": x})
    steps = s.profile()
    assert len(steps) == s.plan_stats().n_steps
    assert {p.op_type for p in steps} <= ops | {"Conv", "Gemm"}, {p.op_type for p in steps}
    assert {p.node_name for p in steps} <= names
    assert steps[0].op_type == "Conv" and steps[0].input_shapes[0] == [5, 1, 28, 28]
    assert all(p.ms >= 0 for p in steps) and sum(p.ms for p in steps) <= wall_ms * 50
    conv = steps[0]
    w = conv.input_shapes[1]  # (M, C/g, kh, kw): 2 * N*M*oh*ow * C*kh*kw
    n_out = np.prod(conv.output_shapes[0])
    assert conv.flops == 2 * n_out * np.prod(w[1:])
    assert all(p.impl for p in steps) and not conv.impl.startswith("ref"), conv.impl
    trace = s.end_profiling()
    events = json.load(open(trace))
    assert len(events) == 2 * len(steps) and {e["ph"] for e in events} == {"X"}
    # profile(feed) on a session without profiling: one profiled run
    s2 = ortc.InferenceSession(FASHION_MODEL, threads=1)
    assert s2.profile() == []
    assert len(s2.profile({"input": x})) == len(steps)
    assert {p.precision for p in steps} == {"fp32"}, {p.precision for p in steps}


def test_precision_bf16(caplog):
    """precision="bf16": the heavy steps say bf16 where the CPU has it (else
    a warning and fp32), the logits stay within bf16's rounding of fp32's."""
    from ortc import _capi as C
    x = np.random.default_rng(3).standard_normal((4, 1, 28, 28)).astype(np.float32)
    want = ortc.InferenceSession(FASHION_MODEL, threads=1).run(None, {"input": x})[0]
    with caplog.at_level(logging.WARNING, logger="ortc"):
        s = ortc.InferenceSession(FASHION_MODEL, threads=1, precision="bf16")
    got = s.run(None, {"input": x})[0]
    steps = s.profile({"input": x})
    heavy = {p.precision for p in steps if p.op_type in ("Conv", "Gemm")}
    if C.ortc_precision_available(C.PRECISIONS["bf16"]):
        assert heavy == {"bf16"}, [(p.node_name, p.precision) for p in steps]
        # bf16 keeps 8 significant bits: inputs and weights rounded by <= 2^-9
        # relative, summed in fp32 over 5 convolutions and 3 layers: a few 1e-3
        # of the largest logit (the unit test's bound, test_precision.c)
        err = float(np.abs(got - want).max())
        assert 0 < err <= 1e-2 * float(np.abs(want).max()), err
    else:
        assert heavy == {"fp32"}
        assert "no bfloat16 support" in caplog.text, caplog.text
        np.testing.assert_array_equal(got, want)
    so = ortc.SessionOptions()
    so.precision = "fp16"
    with pytest.raises(ValueError, match="precision 'fp16'"):
        ortc.InferenceSession(FASHION_MODEL, sess_options=so)


def expected_passes(manifest):
    return sum(1 for e in ortc.backend.load_manifest(manifest).values() if e[0] == "pass")


def test_ortc_test_runs_conformance():
    man = os.path.join(REPO, "tests", "conformance", "simple.yaml")
    rep = ortc.test(os.path.join(TESTDATA, "simple"), manifest=man, threads=1)
    assert rep.ok and rep.passed == expected_passes(man) > 0
    assert rep.passed + rep.failed + rep.skipped == rep.total == len(rep.tests)
    # the per-test results follow the manifest's expectations (pass or not)
    for name, e in ortc.backend.load_manifest(man).items():
        passes = e[0] == "pass" or e[0].startswith("check ")
        assert (rep[name].result == "pass") == passes, (name, e, rep[name].result)
    assert rep["test_gradient_of_add"].result == "unsupported"
    assert rep["test_sequence_model1"].result == "pass"
    one = ortc.test(os.path.join(TESTDATA, "node", "test_relu"))
    assert one.passed == 1 and one.tests[0].name == "test_relu"
    with pytest.raises(ortc.InvalidArgument, match="no tests found"):
        ortc.test(os.path.join(TESTDATA, "node"), filter="no_such_test*")


def test_run_node_against_numpy():
    x = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    y = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    (r,) = ortc.backend.run_node(helper.make_node("Relu", ["x"], ["r"]), [x])
    assert np.array_equal(r, np.maximum(x, 0))
    out = ortc.backend.run_node(helper.make_node("Add", ["x", "y"], ["s"]), [x, y])
    assert np.array_equal(out["s"], x + y)
    (m,) = ortc.backend.run_node(helper.make_node("MatMul", ["a", "b"], ["m"]),
                                 [x[0], y.T.copy()], opset_version=13)
    assert np.allclose(m, x[0] @ y.T, rtol=1e-5, atol=1e-6)
    assert ortc.backend.supports_device("CPU") and not ortc.backend.supports_device("CUDA")
    rep = ortc.backend.prepare(onnx.load(FASHION_MODEL), threads=1)
    z = np.zeros((2, 1, 28, 28), np.float32)
    assert np.array_equal(rep.run([z])[0], ortc.backend.run_model(onnx.load(FASHION_MODEL), z,
                                                                  threads=1)[0])
