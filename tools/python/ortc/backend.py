"""backend.py — ortc as an ONNX backend (onnx.backend.base.Backend: prepare,
run_model, run_node, supports_device), so ONNX's own test runner
(onnx.backend.test.BackendTest) and other backend-based tools run ortc; plus
OrtcBackendTest, that runner over a chosen data folder with the known
failures of ortc's conformance manifests (tests/conformance/*.yaml) skipped.

    import ortc.backend
    rep = ortc.backend.prepare(onnx.load("model.onnx"))
    outputs = rep.run([x])

Needs python3-onnx (the package itself needs only numpy).
"""
import dataclasses
import os
import re
import unittest

import numpy as np
import onnx
import onnx.backend.test
import onnx.shape_inference
from onnx import helper, mapping
from onnx.backend.base import Backend, BackendRep, namedtupledict

from . import _capi as C
from .session import InferenceSession

__all__ = ["OrtcBackend", "OrtcBackendRep", "OrtcBackendTest", "prepare", "run_model",
           "run_node", "supports_device", "is_compatible", "SUITES", "load_manifest"]


class OrtcBackendRep(BackendRep):
    """A prepared model: run(inputs) with inputs a list (graph-input order), a
    dict by name, or one array for a one-input model; returns the outputs
    as a namedtuple (by position or name)."""

    def __init__(self, session):
        self.session = session
        self._inputs = [a.name for a in session.get_inputs()]
        self._outputs = [a.name for a in session.get_outputs()]

    def run(self, inputs, **kwargs):
        if isinstance(inputs, dict):
            feed = inputs
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) != len(self._inputs):
                raise C.InvalidArgument(f"{len(inputs)} inputs given; the model has "
                                        f"{len(self._inputs)} ({', '.join(self._inputs)})")
            feed = dict(zip(self._inputs, inputs))
        else:
            if len(self._inputs) != 1:
                raise C.InvalidArgument(f"one input given; the model has {len(self._inputs)} "
                                        f"({', '.join(self._inputs)})")
            feed = {self._inputs[0]: inputs}
        outs = self.session.run(None, feed)
        return namedtupledict("Outputs", self._outputs)(*outs)


class OrtcBackend(Backend):
    """ortc behind ONNX's Backend interface. Models are compiled by ortc
    itself (its own validation and errors, ortc.Error subclasses); ONNX's
    checker is not run on them. Keyword arguments of prepare/run_model/
    run_node go to ortc.InferenceSession (threads=, optimize=, ...)."""

    @classmethod
    def supports_device(cls, device):
        return onnx.backend.base.Device(device).type == onnx.backend.base.DeviceType.CPU

    @classmethod
    def is_compatible(cls, model, device="CPU", **kwargs):
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        """model: an onnx.ModelProto, the bytes of one, or a file name."""
        if not cls.supports_device(device):
            raise C.Unsupported(f"device '{device}': ortc runs on the CPU only")
        if isinstance(model, onnx.ModelProto):
            model = model.SerializeToString()
        return OrtcBackendRep(InferenceSession(model, **kwargs))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        """Runs one NodeProto on inputs (a list in node.input order, empty
        names skipped, or a dict) through a one-node model: graph inputs
        typed from the arrays, outputs from outputs_info [(dtype, shape)] or
        ONNX shape inference; opset_version= picks the ai.onnx opset
        (default: the newest onnx knows)."""
        super().run_node(node, inputs, device=device, outputs_info=outputs_info,
                         **({"opset_version": kwargs["opset_version"]}
                            if "opset_version" in kwargs else {}))
        opset = kwargs.pop("opset_version", onnx.defs.onnx_opset_version())
        names = [n for n in node.input if n]
        if isinstance(inputs, dict):
            feed = {k: np.asarray(v) for k, v in inputs.items()}
        else:
            if len(inputs) != len(names):
                raise C.InvalidArgument(f"node '{node.name}' ({node.op_type}) has {len(names)} "
                                        f"inputs; {len(inputs)} given")
            feed = {n: np.asarray(v) for n, v in zip(names, inputs)}
        graph_inputs = [helper.make_tensor_value_info(n, _elem_type(feed[n]), feed[n].shape)
                        for n in names]
        if outputs_info:
            graph_outputs = [helper.make_tensor_value_info(
                o, mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)], shape)
                for o, (dt, shape) in zip(node.output, outputs_info)]
        else:
            graph_outputs = [helper.make_empty_tensor_value_info(o) for o in node.output if o]
        graph = helper.make_graph([node], f"run_node_{node.op_type}", graph_inputs,
                                  graph_outputs)
        imports = [helper.make_opsetid("", opset)]
        if node.domain not in ("", "ai.onnx"):
            imports.append(helper.make_opsetid(node.domain, 1))
        model = helper.make_model(graph, producer_name="ortc.backend.run_node",
                                  opset_imports=imports)
        if not outputs_info:
            try:
                model = onnx.shape_inference.infer_shapes(model)
            except Exception:  # noqa: BLE001  ortc's own inference decides then
                pass
        kwargs.pop("opset_version", None)
        rep = cls.prepare(model, device, **kwargs)
        return rep.run(feed)


def _elem_type(a):
    if a.dtype.kind in "OUS":
        return onnx.TensorProto.STRING
    return mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]


prepare = OrtcBackend.prepare
run_model = OrtcBackend.run_model
run_node = OrtcBackend.run_node
supports_device = OrtcBackend.supports_device
is_compatible = OrtcBackend.is_compatible

# ---- ONNX's test runner over ortc's manifests ------------------------------------------

# suite folder -> BackendTest's category (test class OnnxBackend<category>Test)
SUITES = {"node": "NodeModel", "simple": "SimpleModel",
          "pytorch-converted": "PyTorchConvertedModel",
          "pytorch-operator": "PyTorchOperatorModel"}
DEFAULT_DATA_DIR = "/usr/share/libonnx-testdata/data"


def load_manifest(path):
    """A conformance manifest (tests/conformance/SUITE.yaml, the file `ortc
    test --manifest` reads) as {test name: (expect, reason, rtol, atol)};
    expect is 'pass', 'fail' or 'unsupported', rtol/atol None unless
    overridden. A test `ortc test` checks statistically (`check: NAME`: its
    outputs are random, its data from numpy's generator) has expect
    'check NAME': ONNX's runner can only compare values. Needs python3-yaml."""
    import yaml
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    out = {}
    for name, e in (doc.get("tests") or {}).items():
        if isinstance(e, str):
            out[name] = (e, None, None, None)
        else:
            expect = e.get("expect", "pass")
            if expect == "pass" and e.get("check"):
                expect = f"check {e['check']}"
            out[name] = (expect, e.get("reason"), e.get("rtol"), e.get("atol"))
    return out


class OrtcBackendTest(onnx.backend.test.BackendTest):
    """onnx.backend.test.BackendTest (ONNX's runner, unchanged in what it
    runs and compares) for ortc, with three differences:

    - only the given suites, read from data_dir (default Debian's
      libonnx-testdata, /usr/share/libonnx-testdata/data; ONNX's runner reads
      its package's own data folder, which on Debian links there, plus the
      'real' models it would download — never loaded here);
    - manifests {suite: path}: a test whose manifest entry is not 'pass' is
      skipped with the manifest's reason, and a tolerance override in the
      manifest replaces the test's rtol/atol — the same files and meaning as
      `ortc test --manifest`; tests absent from a manifest run;
    - assert_similar_outputs without np.object, which numpy 1.24 removed
      (ONNX 1.12's runner uses it for every comparison); same checks:
      output count, dtype equality, assert_allclose(rtol, atol), string
      arrays equal.

    backend kwargs (threads=, ...) go to every prepare.
        globals().update(OrtcBackendTest(manifests={...}, parent_module=__name__).test_cases)
    """

    def __init__(self, backend=OrtcBackend, parent_module=None, suites=tuple(SUITES),
                 data_dir=DEFAULT_DATA_DIR, manifests=None, **backend_kwargs):
        # What Runner.__init__ sets, without its fixed data folder and kinds.
        self.backend = _with_kwargs(backend, backend_kwargs) if backend_kwargs else backend
        self._parent_module = parent_module
        self._include_patterns = set()
        self._exclude_patterns = set()
        self._xfail_patterns = set()
        from collections import defaultdict
        self._test_items = defaultdict(dict)
        self.manifests = {}
        for suite in suites:
            if suite not in SUITES:
                raise ValueError(f"unknown suite '{suite}' (known: {', '.join(SUITES)})")
            man = load_manifest(manifests[suite]) if manifests and suite in manifests else {}
            self.manifests[suite] = man
            for case in onnx.backend.test.loader.load_model_tests(data_dir=data_dir,
                                                                   kind=suite):
                entry = man.get(case.name)
                if entry and entry[2] is not None:
                    case = dataclasses.replace(case, rtol=entry[2])
                if entry and entry[3] is not None:
                    case = dataclasses.replace(case, atol=entry[3])
                self._add_model_test(case, SUITES[suite][:-len("Model")])
            category = SUITES[suite]
            for item_name, item in self._test_items[category].items():
                entry = man.get(re.sub(r"_(cpu|cuda)$", "", item_name))
                if entry and entry[0] != "pass":
                    why = f"{os.path.basename(manifests[suite])}: {entry[0]}: {entry[1]}"
                    item.func = unittest.skip(why)(item.func)

    @classmethod
    def assert_similar_outputs(cls, ref_outputs, outputs, rtol, atol):
        # (recursing into a sequence compares its elements as one-element
        # lists: an element may be a 0-d tensor, which has no len())
        np.testing.assert_equal(len(outputs), len(ref_outputs))
        for i in range(len(outputs)):
            if isinstance(outputs[i], (list, tuple)):
                np.testing.assert_equal(len(outputs[i]), len(ref_outputs[i]))
                for j in range(len(outputs[i])):
                    cls.assert_similar_outputs([ref_outputs[i][j]], [outputs[i][j]], rtol, atol)
            elif outputs[i] is None or ref_outputs[i] is None:
                assert outputs[i] is None and ref_outputs[i] is None, (outputs[i], ref_outputs[i])
            else:
                np.testing.assert_equal(outputs[i].dtype, ref_outputs[i].dtype)
                if ref_outputs[i].dtype == object:
                    np.testing.assert_array_equal(outputs[i], ref_outputs[i])
                else:
                    np.testing.assert_allclose(outputs[i], ref_outputs[i], rtol=rtol, atol=atol)


def _with_kwargs(backend, kwargs):
    """backend with kwargs added to every prepare (ONNX's runner calls
    prepare(model, device) only)."""
    class Configured(backend):
        @classmethod
        def prepare(cls, model, device="CPU", **kw):
            return backend.prepare(model, device, **{**kwargs, **kw})
    Configured.__name__ = backend.__name__
    return Configured
