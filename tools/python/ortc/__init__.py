"""ortc — Python API of ortc, an ONNX inference runtime in C11 on oneDNN.

ONNX Runtime's session API over libortc's C API (ctypes + numpy, no
compiled extension): a script written for onnxruntime needs only its import
changed.

    import ortc as ort                      # was: import onnxruntime as ort
    sess = ort.InferenceSession("alexnet.onnx")
    name = sess.get_inputs()[0].name
    logits = sess.run(None, {name: x})[0]

Errors raise ortc.Error subclasses, one per ortc_status (InvalidArgument,
IoError, InvalidModel, Unsupported, OutOfMemory, LimitExceeded,
RuntimeFailure), carrying ortc's one-line message. Also: session.plan_stats()
and session.profile(); ortc.test() runs ONNX backend tests; ortc.backend is
an onnx.backend Backend; ortc.dask scores files on a Dask cluster.

libortc is found next to this package (install prefix), through
$ORTC_LIBRARY or $ORTC_BUILD_DIR, in the build/ folder of the source
checkout this package is in, or on the system library path.
"""
from ._capi import (Error, InvalidArgument, IoError, InvalidModel, Unsupported, OutOfMemory,
                    LimitExceeded, RuntimeFailure, library_path)
from ._capi import ortc_version as _ortc_version
from .conformance import test, TestReport, TestResult
from .session import (InferenceSession, SessionOptions, RunOptions, GraphOptimizationLevel,
                      NodeArg, ModelMetadata, PlanStats, ProfileStep, get_available_providers,
                      get_device)

__version__ = _ortc_version().decode()

__all__ = ["InferenceSession", "SessionOptions", "RunOptions", "GraphOptimizationLevel",
           "NodeArg", "ModelMetadata", "PlanStats", "ProfileStep", "get_available_providers",
           "get_device", "test", "TestReport", "TestResult", "Error", "InvalidArgument",
           "IoError", "InvalidModel", "Unsupported", "OutOfMemory", "LimitExceeded",
           "RuntimeFailure", "library_path", "__version__"]
