"""_capi.py — libortc's public C API (runtime/include/ortc/ortc.h) through
ctypes: finding and loading the shared library, the structs mirrored field
for field, the function prototypes, dtype tables and the status -> exception
mapping. Nothing here knows about sessions as Python objects (session.py).

ctypes.CDLL releases the GIL for the duration of every foreign call, so a
long ortc_session_run in one Python thread lets the others run (and call
ortc_session_run themselves: the C API is thread-safe).
"""
import ctypes
import ctypes.util
import os
import sysconfig

import numpy as np

MAX_RANK = 8  # ORTC_MAX_RANK

# ---- ortc_status -> exception classes ----------------------------------------------


class Error(Exception):
    """Any error reported by ortc. str(e) is ortc's one-line message (what and
    where: file, node, tensor, shape); .status is the ortc_status number and
    .status_name its name ("INVALID_ARGUMENT", ...)."""

    status = -1
    status_name = "ERROR"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidArgument(Error, ValueError):
    """ORTC_STATUS_INVALID_ARGUMENT: the caller passed something wrong (an
    input of the wrong dtype or shape, an unknown input or output name).
    Also a ValueError."""
    status, status_name = 1, "INVALID_ARGUMENT"


class IoError(Error, OSError):
    """ORTC_STATUS_IO_ERROR: a file is missing or unreadable. Also an OSError."""
    status, status_name = 2, "IO_ERROR"


class InvalidModel(Error):
    """ORTC_STATUS_INVALID_MODEL: a malformed file or an inconsistent graph."""
    status, status_name = 3, "INVALID_MODEL"


class Unsupported(Error):
    """ORTC_STATUS_UNSUPPORTED: valid ONNX that ortc does not implement."""
    status, status_name = 4, "UNSUPPORTED"


class OutOfMemory(Error, MemoryError):
    """ORTC_STATUS_OUT_OF_MEMORY. Also a MemoryError."""
    status, status_name = 5, "OUT_OF_MEMORY"


class LimitExceeded(Error):
    """ORTC_STATUS_LIMIT_EXCEEDED: a size or count above a documented limit."""
    status, status_name = 6, "LIMIT_EXCEEDED"


class RuntimeFailure(Error):
    """ORTC_STATUS_RUNTIME_ERROR: a kernel or the backend failed."""
    status, status_name = 7, "RUNTIME_ERROR"


ERRORS = {c.status: c for c in (InvalidArgument, IoError, InvalidModel, Unsupported, OutOfMemory,
                                LimitExceeded, RuntimeFailure)}


def error_for(status, message):
    """The exception for an ortc_status (an unknown number gives Error)."""
    cls = ERRORS.get(status)
    if cls is None:
        e = Error(message)
        e.status, e.status_name = status, f"STATUS_{status}"
        return e
    return cls(message)

# ---- dtypes -------------------------------------------------------------------------


# ortc_dtype (= ONNX TensorProto.DataType) -> (ONNX type name, numpy dtype or None).
# bfloat16 has no numpy dtype: its tensors travel as uint16 arrays of the bits
# (as numpy_helper.to_array in ONNX 1.12 returns them). Strings are numpy
# object arrays of str.
DTYPES = {
    1: ("float", np.dtype(np.float32)),
    2: ("uint8", np.dtype(np.uint8)),
    3: ("int8", np.dtype(np.int8)),
    4: ("uint16", np.dtype(np.uint16)),
    5: ("int16", np.dtype(np.int16)),
    6: ("int32", np.dtype(np.int32)),
    7: ("int64", np.dtype(np.int64)),
    8: ("string", np.dtype(object)),
    9: ("bool", np.dtype(np.bool_)),
    10: ("float16", np.dtype(np.float16)),
    11: ("double", np.dtype(np.float64)),
    12: ("uint32", np.dtype(np.uint32)),
    13: ("uint64", np.dtype(np.uint64)),
    14: ("complex64", np.dtype(np.complex64)),
    15: ("complex128", np.dtype(np.complex128)),
    16: ("bfloat16", np.dtype(np.uint16)),
}
DTYPE_STRING = 8
DTYPE_BFLOAT16 = 16
NUMPY_TO_ORTC = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3,
                 np.dtype(np.uint16): 4, np.dtype(np.int16): 5, np.dtype(np.int32): 6,
                 np.dtype(np.int64): 7, np.dtype(np.bool_): 9, np.dtype(np.float16): 10,
                 np.dtype(np.float64): 11, np.dtype(np.uint32): 12, np.dtype(np.uint64): 13,
                 np.dtype(np.complex64): 14, np.dtype(np.complex128): 15}


def type_string(dtype, kind=0):
    """ONNX Runtime's NodeArg.type for an ortc_dtype and ortc_type:
    'tensor(float)', 'seq(tensor(float))', 'optional(tensor(float))',
    'optional(seq(tensor(float)))'."""
    name = DTYPES.get(dtype, ("undefined", None))[0]
    t = f"tensor({name})"
    if kind in (1, 3):
        t = f"seq({t})"
    if kind in (2, 3):
        t = f"optional({t})"
    return t

# ---- structs (ortc.h, field for field; tests/python/test_abi.py checks them
# against the C compiler's sizeof/offsetof) ------------------------------------------


class Tensor(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("dims", ctypes.c_int64 * MAX_RANK), ("data", ctypes.c_void_p)]


class ValueInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("dims", ctypes.c_int64 * MAX_RANK),
                ("dim_params", ctypes.c_char_p * MAX_RANK)]


LogFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


class Options(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_int), ("reference", ctypes.c_int),
                ("optimize", ctypes.c_int), ("max_plans", ctypes.c_int),
                ("max_tensor_bytes", ctypes.c_size_t), ("max_arena_bytes", ctypes.c_size_t),
                ("max_concurrent_runs", ctypes.c_int), ("huge_pages", ctypes.c_int),
                ("log_level", ctypes.c_int), ("log", LogFn), ("log_user", ctypes.c_void_p),
                ("max_loop_iterations", ctypes.c_int64), ("max_sequence_length", ctypes.c_int64),
                ("max_nms_boxes", ctypes.c_int64), ("max_dynamic_bytes", ctypes.c_size_t),
                ("precision", ctypes.c_int)]

# ortc_precision (ortc_options.precision)
PRECISIONS = {"fp32": 0, "bf16": 1}


class ModelInfo(ctypes.Structure):
    _fields_ = [("ir_version", ctypes.c_int64), ("producer_name", ctypes.c_char_p),
                ("producer_version", ctypes.c_char_p), ("graph_name", ctypes.c_char_p),
                ("model_version", ctypes.c_int64), ("n_opsets", ctypes.c_size_t),
                ("n_nodes", ctypes.c_size_t), ("n_initializers", ctypes.c_size_t),
                ("n_parameters", ctypes.c_int64), ("parameter_bytes", ctypes.c_int64),
                ("domain", ctypes.c_char_p), ("doc_string", ctypes.c_char_p),
                ("graph_doc_string", ctypes.c_char_p), ("n_metadata", ctypes.c_size_t)]


class PlanStats(ctypes.Structure):
    _fields_ = [("arena_bytes", ctypes.c_size_t), ("lower_bound_bytes", ctypes.c_size_t),
                ("naive_bytes", ctypes.c_size_t), ("n_steps", ctypes.c_size_t),
                ("n_folded", ctypes.c_size_t), ("scratch_bytes", ctypes.c_size_t),
                ("n_static_values", ctypes.c_size_t), ("n_dynamic_values", ctypes.c_size_t),
                ("n_deferred_nodes", ctypes.c_size_t), ("n_joined_steps", ctypes.c_size_t)]


# ortc_type: what a graph value is (ortc_any.type also NONE: an empty optional)
TYPE_TENSOR, TYPE_SEQUENCE, TYPE_OPTIONAL_TENSOR, TYPE_OPTIONAL_SEQUENCE, TYPE_NONE = range(5)


class Any(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("tensor", Tensor), ("elem_dtype", ctypes.c_int),
                ("length", ctypes.c_size_t), ("tensors", ctypes.POINTER(Tensor))]


class ProfileEntry(ctypes.Structure):
    _fields_ = [("node_name", ctypes.c_char_p), ("op_type", ctypes.c_char_p),
                ("start_ms", ctypes.c_double), ("ms", ctypes.c_double),
                ("flops", ctypes.c_double), ("n_inputs", ctypes.c_int),
                ("n_outputs", ctypes.c_int), ("inputs", ctypes.POINTER(ctypes.POINTER(Tensor))),
                ("outputs", ctypes.POINTER(ctypes.POINTER(Tensor))), ("impl", ctypes.c_char_p),
                ("precision", ctypes.c_char_p)]


STRUCTS = {"ortc_tensor": Tensor, "ortc_value_info": ValueInfo, "ortc_options": Options,
           "ortc_model_info": ModelInfo, "ortc_plan_stats": PlanStats,
           "ortc_profile_entry": ProfileEntry, "ortc_any": Any}

# ---- finding the library ------------------------------------------------------------

LIBRARY_ENV = "ORTC_LIBRARY"      # path of libortc.so to use
BUILD_DIR_ENV = "ORTC_BUILD_DIR"  # a build tree whose libortc.so to use
_NAMES = ("libortc.so.0", "libortc.so")
_HERE = os.path.dirname(os.path.abspath(__file__))


def _source_build_dirs():
    """Build trees of a source checkout when this package is tools/python/ortc."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
    if not os.path.isfile(os.path.join(repo, "runtime", "include", "ortc", "ortc.h")):
        return []
    return [os.path.join(repo, "build")]


def library_candidates():
    """Where libortc is looked for, in order: $ORTC_LIBRARY; the package's
    own folder and its ancestors' (an install prefix: PREFIX/lib/python3/
    dist-packages/ortc finds PREFIX/lib/libortc.so.0, also under the
    multiarch folder PREFIX/lib/x86_64-linux-gnu); $ORTC_BUILD_DIR; the
    build/ folder of the source checkout this package sits in; then the
    system's library path (ctypes.util.find_library)."""
    out = []
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return [env]
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    d = _HERE
    for _ in range(5):
        for sub in ("", multiarch):
            for n in _NAMES:
                out.append(os.path.join(d, sub, n) if sub else os.path.join(d, n))
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    dirs = []
    if os.environ.get(BUILD_DIR_ENV):
        dirs.append(os.environ[BUILD_DIR_ENV])
    dirs += _source_build_dirs()
    for b in dirs:
        out += [os.path.join(b, n) for n in _NAMES]
    return out


def _load():
    tried = []
    for path in library_candidates():
        if os.path.isfile(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as e:
                tried.append(f"{path}: {e}")
                continue
    if not os.environ.get(LIBRARY_ENV):
        name = ctypes.util.find_library("ortc")
        if name:
            try:
                return ctypes.CDLL(name), name
            except OSError as e:
                tried.append(f"{name}: {e}")
    where = "; ".join(tried) if tried else "not found"
    raise ImportError(
        f"ortc: cannot load libortc ({where}). Build it (cmake --build build), install it "
        f"(cmake --install), or set {LIBRARY_ENV}=/path/to/libortc.so or "
        f"{BUILD_DIR_ENV}=/path/to/build")


lib, library_path = _load()


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


c_status = ctypes.c_int
P = ctypes.POINTER
vp = ctypes.c_void_p
cp = ctypes.c_char_p

ortc_version = _proto("ortc_version", cp)
ortc_last_error = _proto("ortc_last_error", cp)
ortc_status_name = _proto("ortc_status_name", cp, ctypes.c_int)
ortc_dtype_name = _proto("ortc_dtype_name", cp, ctypes.c_int)
ortc_options_init = _proto("ortc_options_init", None, P(Options))
ortc_precision_available = _proto("ortc_precision_available", ctypes.c_int, ctypes.c_int)
ortc_session_create = _proto("ortc_session_create", c_status, P(vp), cp, P(Options))
ortc_session_create_from_buffer = _proto("ortc_session_create_from_buffer", c_status, P(vp), cp,
                                         ctypes.c_size_t, cp, P(Options))
ortc_session_destroy = _proto("ortc_session_destroy", None, vp)
ortc_session_model = _proto("ortc_session_model", vp, vp)
ortc_session_input_count = _proto("ortc_session_input_count", ctypes.c_size_t, vp)
ortc_session_output_count = _proto("ortc_session_output_count", ctypes.c_size_t, vp)
ortc_session_input_info = _proto("ortc_session_input_info", c_status, vp, ctypes.c_size_t,
                                 P(ValueInfo))
ortc_session_output_info = _proto("ortc_session_output_info", c_status, vp, ctypes.c_size_t,
                                  P(ValueInfo))
ortc_session_input_index = _proto("ortc_session_input_index", c_status, vp, cp,
                                  P(ctypes.c_size_t))
ortc_session_output_index = _proto("ortc_session_output_index", c_status, vp, cp,
                                   P(ctypes.c_size_t))
ortc_session_output_shapes = _proto("ortc_session_output_shapes", c_status, vp, P(Tensor),
                                    ctypes.c_size_t, P(Tensor), ctypes.c_size_t)
ortc_session_run = _proto("ortc_session_run", c_status, vp, P(Tensor), ctypes.c_size_t,
                          P(Tensor), ctypes.c_size_t)
ortc_session_run_any = _proto("ortc_session_run_any", c_status, vp, P(Any), ctypes.c_size_t,
                              P(Any), ctypes.c_size_t)
ortc_any_release = _proto("ortc_any_release", None, P(Any))
ortc_tensor_release = _proto("ortc_tensor_release", None, P(Tensor))
ortc_model_input_type = _proto("ortc_model_input_type", c_status, vp, ctypes.c_size_t,
                               P(ctypes.c_int))
ortc_model_output_type = _proto("ortc_model_output_type", c_status, vp, ctypes.c_size_t,
                                P(ctypes.c_int))
ortc_session_dynamic_value = _proto("ortc_session_dynamic_value", cp, vp, ctypes.c_size_t)
ortc_session_plan_stats = _proto("ortc_session_plan_stats", c_status, vp, P(PlanStats))
ortc_session_set_profiling = _proto("ortc_session_set_profiling", c_status, vp, ctypes.c_int)
ortc_session_profile = _proto("ortc_session_profile", ctypes.c_size_t, vp, P(ProfileEntry),
                              ctypes.c_size_t)
ortc_model_get_info = _proto("ortc_model_get_info", None, vp, P(ModelInfo))
ortc_model_metadata = _proto("ortc_model_metadata", c_status, vp, ctypes.c_size_t, P(cp), P(cp))
ortc_model_opset = _proto("ortc_model_opset", c_status, vp, ctypes.c_size_t, P(cp),
                          P(ctypes.c_int64))


def last_error():
    """ortc_last_error() of this thread, decoded."""
    return text(ortc_last_error())


def text(b):
    """A C string from ortc as str ("" for NULL; undecodable bytes replaced)."""
    return b.decode("utf-8", "replace") if b else ""


def check(status):
    """Raises the exception for a non-OK status with this thread's message.
    Call right after the failing call, on the same thread (the message is
    per thread in ortc)."""
    if status != 0:
        raise error_for(status, last_error())
