"""session.py — ortc.InferenceSession: ONNX Runtime's Python session API
(get_inputs, get_outputs, run, get_modelmeta, ...) over libortc's C API, plus
what ONNX Runtime lacks (plan_stats, profile). Tensors cross as numpy arrays;
a C-contiguous input of the model's dtype is handed to C without a copy.
Everything here is a call into ortc.h; nothing is computed in Python.
"""
import collections
import ctypes
import json
import logging
import os
import threading
import time
import warnings

import numpy as np

from . import _capi as C

__all__ = ["InferenceSession", "SessionOptions", "RunOptions", "GraphOptimizationLevel",
           "NodeArg", "ModelMetadata", "PlanStats", "ProfileStep", "get_available_providers",
           "get_device"]

PROVIDERS = ["CPUExecutionProvider"]
_log = logging.getLogger("ortc")


def get_available_providers():
    """ONNX Runtime's names for where models run: ortc runs on the CPU."""
    return list(PROVIDERS)


def get_device():
    return "CPU"


class GraphOptimizationLevel:
    """ONNX Runtime's levels. ortc has one switch: ORT_DISABLE_ALL turns the
    graph passes off (ortc_options.optimize = 0); any other level on."""
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


class SessionOptions:
    """ONNX Runtime's SessionOptions, the fields ortc has a meaning for:

    intra_op_num_threads   kernel threads (0: all cores) -> ortc_options.threads
    graph_optimization_level  ORT_DISABLE_ALL -> no graph passes
    enable_profiling       time every step of every run (see
                           InferenceSession.profile / end_profiling)
    profile_file_prefix    end_profiling's file name prefix
    log_severity_level     0 verbose .. 4 fatal, as ONNX Runtime; ortc's
                           log goes to the Python logger "ortc"

    and ortc's own: reference (plain-C kernels), precision ("fp32", or
    "bf16": Conv, ConvTranspose, Gemm and MatMul on bfloat16 inputs and
    weights with fp32 accumulation, where the CPU has AVX-512 BF16), max_plans,
    max_concurrent_runs, huge_pages, max_tensor_bytes, max_arena_bytes (see
    ortc_options in ortc.h). Other attributes ONNX Runtime scripts set
    (inter_op_num_threads, execution_mode, ...) are accepted and have no
    effect: ortc runs one node at a time, each on intra-op threads.
    """

    def __init__(self):
        self.intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
        self.enable_profiling = False
        self.profile_file_prefix = "ortc_profile"
        self.log_severity_level = 2
        self.reference = False
        self.precision = "fp32"
        self.max_plans = 0
        self.max_concurrent_runs = 0
        self.huge_pages = False
        self.max_tensor_bytes = 0
        self.max_arena_bytes = 0


class RunOptions:
    """Accepted for ONNX Runtime compatibility; ortc's runs have no options."""

    def __init__(self):
        self.log_severity_level = 2
        self.run_tag = ""
        self.terminate = False


class NodeArg:
    """An input or output: .name, .type ('tensor(float)', 'seq(tensor(float))',
    'optional(...)') and .shape (of a sequence's or optional's tensors), a
    list whose entries are ints, strings for symbolic dims (dim_param) and
    None for unknown dims; None when even the rank is unknown."""

    __slots__ = ("name", "type", "shape", "dtype", "kind")

    def __init__(self, name, type_, shape, dtype, kind=0):
        self.name, self.type, self.shape, self.dtype = name, type_, shape, dtype
        self.kind = kind  # ortc_type: 0 tensor, 1 sequence, 2/3 optional tensor/sequence

    def __repr__(self):
        return f"NodeArg(name='{self.name}', type='{self.type}', shape={self.shape})"


class ModelMetadata:
    """ONNX Runtime's ModelMetadata: producer_name, graph_name, domain,
    description (ModelProto.doc_string), graph_description, version and
    custom_metadata_map (metadata_props)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return "ModelMetadata(" + ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()) + ")"


PlanStats = collections.namedtuple(
    "PlanStats", "arena_bytes lower_bound_bytes naive_bytes n_steps n_folded scratch_bytes "
    "n_static_values n_dynamic_values n_deferred_nodes n_joined_steps")
PlanStats.__doc__ = ("The memory plan of the plan last compiled or run (ortc_plan_stats): "
                     "arena, lower bound (bytes alive at once), naive sum, steps, folded "
                     "nodes, scratch bytes; values planned statically, values of "
                     "data-dependent size (the run's pool), nodes compiled at run time.")

ProfileStep = collections.namedtuple(
    "ProfileStep",
    "node_name op_type start_ms ms flops input_shapes output_shapes impl precision")
ProfileStep.__doc__ = ("One executed step of a profiled run (ortc_profile_entry): times in "
                       "ms since the run's start, FLOPs (Conv, ConvTranspose, Gemm, MatMul), "
                       "the logical ONNX shapes of its inputs and outputs (None: omitted), "
                       "the kernel it ran (oneDNN's implementation name or ortc:<kernel>) "
                       "and what it computed in (\"bf16\", \"fp32\", or its output's "
                       "element type).")


def _value_info(info, kind=C.TYPE_TENSOR):
    if info.rank < 0:
        shape = None
    else:
        shape = []
        for d in range(info.rank):
            if info.dim_params[d]:
                shape.append(C.text(info.dim_params[d]))
            elif info.dims[d] >= 0:
                shape.append(int(info.dims[d]))
            else:
                shape.append(None)
    return NodeArg(C.text(info.name), C.type_string(info.dtype, kind), shape, info.dtype, kind)


def _shape_of(t):
    return [int(t.dims[d]) for d in range(t.rank)]


def _is_dynamic(t):
    """Whether an output ortc_session_output_shapes reported has a shape only
    the run tells (rank or a dim -1)."""
    return t.rank < 0 or any(t.dims[d] < 0 for d in range(t.rank))


def _array_of(t):
    """A numpy copy of ortc_tensor t (strings as an object array of str)."""
    shape = _shape_of(t)
    n = int(np.prod(shape, dtype=np.int64))
    if t.dtype == C.DTYPE_STRING:
        ptrs = ctypes.cast(t.data, ctypes.POINTER(ctypes.c_char_p)) if n else None
        return np.array([C.text(ptrs[i]) for i in range(n)], dtype=object).reshape(shape)
    entry = C.DTYPES.get(t.dtype)
    if entry is None:
        raise C.Unsupported(f"a tensor of dtype {C.text(C.ortc_dtype_name(t.dtype))}, which has "
                            f"no numpy equivalent")
    arr = np.empty(shape, dtype=entry[1])
    if n:
        ctypes.memmove(arr.ctypes.data, t.data, arr.nbytes)
    return arr


def _aligned_empty(shape, dtype):
    """np.empty with its data 64-byte aligned: ortc computes an output in
    place only at that alignment (any other costs a copy per run)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    off = (-raw.ctypes.data) % 64
    return raw[off:off + nbytes].view(dtype).reshape(shape)


class InferenceSession:
    """A model compiled for running: ONNX Runtime's InferenceSession.

        sess = ortc.InferenceSession("model.onnx")
        name = sess.get_inputs()[0].name
        probs = sess.run(None, {name: x})[0]

    path_or_bytes: a file name (external data is read from its folder) or
    the model's bytes (external data refused). sess_options and providers
    are taken as ONNX Runtime scripts pass them ("CPUExecutionProvider"; a
    provider ortc does not have is warned about and ignored, as ONNX Runtime
    does). Keyword arguments override sess_options: threads (None: all
    cores), optimize, reference, precision ("fp32" or "bf16"; where the CPU
    lacks bf16 ortc logs a warning and runs fp32), max_concurrent_runs,
    max_plans, huge_pages, profile.

    Errors raise ortc.Error subclasses (one per ortc_status) carrying ortc's
    one-line message. run() may be called from several threads at once.
    """

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None,
                 *, threads=None, optimize=None, reference=None, max_concurrent_runs=None,
                 max_plans=None, huge_pages=None, profile=None, precision=None, **kwargs):
        self._handle = None
        unknown = set(kwargs) - {"disabled_optimizers"}
        if unknown:
            raise TypeError(f"InferenceSession() got unexpected keyword arguments: "
                            f"{', '.join(sorted(unknown))}")
        so = sess_options if sess_options is not None else SessionOptions()
        self._sess_options = so
        self._check_providers(providers)
        opts = C.Options()
        C.ortc_options_init(ctypes.byref(opts))
        t = threads if threads is not None else getattr(so, "intra_op_num_threads", 0)
        opts.threads = int(t or 0)
        if optimize is None:
            optimize = getattr(so, "graph_optimization_level", 99) != \
                GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.optimize = 1 if optimize else 0
        opts.reference = 1 if (reference if reference is not None
                               else getattr(so, "reference", False)) else 0
        prec = precision if precision is not None else getattr(so, "precision", "fp32")
        if prec not in C.PRECISIONS:
            raise ValueError(f"precision {prec!r} is not one of {', '.join(C.PRECISIONS)}")
        opts.precision = C.PRECISIONS[prec]
        mcr = max_concurrent_runs if max_concurrent_runs is not None else \
            getattr(so, "max_concurrent_runs", 0)
        if mcr:
            opts.max_concurrent_runs = int(mcr)
        mp = max_plans if max_plans is not None else getattr(so, "max_plans", 0)
        if mp:
            opts.max_plans = int(mp)
        hp = huge_pages if huge_pages is not None else getattr(so, "huge_pages", False)
        opts.huge_pages = 1 if hp else 0
        opts.max_tensor_bytes = int(getattr(so, "max_tensor_bytes", 0) or 0)
        opts.max_arena_bytes = int(getattr(so, "max_arena_bytes", 0) or 0)
        # ONNX Runtime's severities 0 verbose, 1 info, 2 warning, 3 error, 4 fatal
        sev = int(getattr(so, "log_severity_level", 2))
        opts.log_level = 3 if sev <= 0 else 2 if sev == 1 else 1 if sev == 2 else 0
        self._log_fn = C.LogFn(_log_callback)  # kept alive as long as the session
        opts.log = self._log_fn
        self._profiling = bool(profile if profile is not None
                               else getattr(so, "enable_profiling", False))
        self._profile_runs = []
        self._profile_start = time.time()
        self._profile_lock = threading.Lock()
        # a model with STRING outputs runs one call at a time, its strings
        # copied inside: the strings an operator makes (StringNormalizer, Cast
        # to string) live in the session until its next run (ortc.h), and a
        # new input shape's plan may evict the one that made them
        self._strings_lock = threading.Lock()

        handle = ctypes.c_void_p()
        if hasattr(path_or_bytes, "SerializeToString"):  # an onnx.ModelProto
            path_or_bytes = path_or_bytes.SerializeToString()
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            buf = bytes(path_or_bytes)
            st = C.ortc_session_create_from_buffer(ctypes.byref(handle), buf, len(buf), None,
                                                   ctypes.byref(opts))
            self._model_path = None
        else:
            path = os.fspath(path_or_bytes)
            st = C.ortc_session_create(ctypes.byref(handle), os.fsencode(path),
                                       ctypes.byref(opts))
            self._model_path = path
        C.check(st)
        self._handle = handle
        self._close_lock = threading.Lock()
        model = C.ortc_session_model(handle)
        self._inputs = [self._info(C.ortc_session_input_info, i,
                                   self._kind(C.ortc_model_input_type, model, i))
                        for i in range(C.ortc_session_input_count(handle))]
        self._outputs = [self._info(C.ortc_session_output_info, i,
                                    self._kind(C.ortc_model_output_type, model, i))
                         for i in range(C.ortc_session_output_count(handle))]
        # sequences or optionals: runs go through ortc_session_run_any
        self._any = any(a.kind != C.TYPE_TENSOR for a in self._inputs + self._outputs)
        self._in_index = {a.name: i for i, a in enumerate(self._inputs)}
        self._out_index = {a.name: i for i, a in enumerate(self._outputs)}
        if self._profiling:
            C.check(C.ortc_session_set_profiling(handle, 1))

    # ---- ONNX Runtime's API ----------------------------------------------------------

    def get_inputs(self):
        """The graph inputs (initializers excluded), as NodeArg."""
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_overridable_initializers(self):
        """ortc treats initializers as constants (folded, reordered once), so
        none can be overridden at run time."""
        return []

    def get_modelmeta(self):
        h = self._live()
        model = C.ortc_session_model(h)
        info = C.ModelInfo()
        C.ortc_model_get_info(model, ctypes.byref(info))
        meta = {}
        for i in range(info.n_metadata):
            k, v = C.cp(), C.cp()
            C.check(C.ortc_model_metadata(model, i, ctypes.byref(k), ctypes.byref(v)))
            meta[C.text(k.value)] = C.text(v.value)
        return ModelMetadata(producer_name=C.text(info.producer_name),
                             graph_name=C.text(info.graph_name), domain=C.text(info.domain),
                             description=C.text(info.doc_string),
                             graph_description=C.text(info.graph_doc_string),
                             version=int(info.model_version), custom_metadata_map=meta)

    def get_providers(self):
        return list(PROVIDERS)

    def get_provider_options(self):
        return {p: {} for p in PROVIDERS}

    def get_session_options(self):
        return self._sess_options

    def set_providers(self, providers=None, provider_options=None):
        self._check_providers(providers)

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model: input_feed maps input names to numpy arrays (or
        anything np.asarray takes); returns a list of numpy arrays, the
        outputs named in output_names in that order, or all of them for None
        or an empty list. Arrays that are C-contiguous and of the model's
        dtype are read in place, not copied; bfloat16 inputs are uint16
        arrays of the bits; strings are numpy arrays of str or bytes."""
        h = self._live()
        tensors, keep = (None, None) if self._any else self._bind_feed(h, input_feed)
        if output_names:
            want = []
            for name in output_names:
                k = self._out_index.get(name)
                if k is None:
                    idx = ctypes.c_size_t()
                    C.check(C.ortc_session_output_index(h, str(name).encode(),
                                                        ctypes.byref(idx)))
                    k = idx.value
                want.append(k)
        else:
            want = range(len(self._outputs))
        if self._any:
            results = self._run_any(h, input_feed)
        else:
            results = self._run(h, tensors, len(self._inputs))
        return [results[k] for k in want]

    def end_profiling(self):
        """Writes the profiled runs so far as a Chrome trace (chrome://tracing,
        Perfetto) named <profile_file_prefix>_<date>.json, as ONNX Runtime
        does, and returns its name ("" when profiling is off)."""
        if not self._profiling:
            return ""
        with self._profile_lock:
            runs, self._profile_runs = self._profile_runs, []
        events = []
        for r, (t0, steps) in enumerate(runs):
            base_us = (t0 - self._profile_start) * 1e6
            for s in steps:
                events.append({"name": s.node_name or s.op_type, "cat": "Node", "ph": "X",
                               "pid": os.getpid(), "tid": 0,
                               "ts": base_us + s.start_ms * 1e3, "dur": s.ms * 1e3,
                               "args": {"op_name": s.op_type, "impl": s.impl, "run": r,
                                        "flops": s.flops,
                                        "input_shapes": s.input_shapes,
                                        "output_shapes": s.output_shapes}})
        prefix = getattr(self._sess_options, "profile_file_prefix", "ortc_profile")
        name = f"{prefix}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.json"
        with open(name, "w", encoding="utf-8") as f:
            json.dump(events, f)
        return name

    # ---- ortc's additions ------------------------------------------------------------

    def plan_stats(self, input_feed=None):
        """The memory plan (PlanStats) of the plan last compiled or run; with
        input_feed, of the plan for those inputs' shapes (compiled if new).
        A model with dynamic input shapes has no plan before its first run."""
        h = self._live()
        if input_feed is not None:
            tensors, keep = self._bind_feed(h, input_feed)
            C.check(C.ortc_session_output_shapes(h, tensors, len(self._inputs), None, 0))
        s = C.PlanStats()
        C.check(C.ortc_session_plan_stats(h, ctypes.byref(s)))
        return PlanStats(s.arena_bytes, s.lower_bound_bytes, s.naive_bytes, s.n_steps,
                         s.n_folded, s.scratch_bytes, s.n_static_values, s.n_dynamic_values,
                         s.n_deferred_nodes, s.n_joined_steps)

    def dynamic_values(self):
        """Names of the values of the last compiled plan that are not planned
        statically (of data-dependent size, or computed after one by nodes
        compiled at run time); [] for a static model."""
        h = self._live()
        names, i = [], 0
        while True:
            n = C.ortc_session_dynamic_value(h, i)
            if not n:
                return names
            names.append(C.text(n))
            i += 1

    def profile(self, input_feed=None):
        """Per-step timing (a list of ProfileStep, in execution order). With
        input_feed: runs once profiled (profiling is switched on for that run
        only, unless it was on) and returns that run's steps. Without: the
        steps of the session's last run if it was profiled (profiling on
        through enable_profiling / profile=True), else []. Profiled runs of
        one session take turns (ortc profiles one run at a time); do not
        call profile(input_feed) while other threads run the session."""
        h = self._live()
        if input_feed is None:
            if not self._profiling:
                return []
            with self._profile_lock:
                return self._read_profile(h)
        was_on = self._profiling
        if not was_on:
            C.check(C.ortc_session_set_profiling(h, 1))
        try:
            tensors, keep = self._bind_feed(h, input_feed)
            steps = []
            self._run(h, tensors, len(self._inputs), steps_out=steps)
            return steps
        finally:
            if not was_on:
                C.ortc_session_set_profiling(h, 0)

    @property
    def model_path(self):
        """The file the session was created from (None for bytes)."""
        return self._model_path

    def close(self):
        """Frees the session now (it is also freed when garbage collected).
        Do not close while another thread runs it."""
        with self._close_lock:
            h, self._handle = self._handle, None
        if h:
            C.ortc_session_destroy(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        h = getattr(self, "_handle", None)
        if h:
            self._handle = None
            C.ortc_session_destroy(h)

    def __repr__(self):
        src = self._model_path if self._model_path else "<bytes>"
        return f"<ortc.InferenceSession {src} inputs={self._inputs} outputs={self._outputs}>"

    # ---- internals -------------------------------------------------------------------

    def _live(self):
        h = self._handle
        if not h:
            raise C.InvalidArgument("the session is closed")
        return h

    def _where(self):
        return f"{self._model_path}: " if self._model_path else ""

    def _info(self, fn, i, kind=C.TYPE_TENSOR):
        info = C.ValueInfo()
        C.check(fn(self._handle, i, ctypes.byref(info)))
        return _value_info(info, kind)

    @staticmethod
    def _kind(fn, model, i):
        k = ctypes.c_int()
        C.check(fn(model, i, ctypes.byref(k)))
        return k.value

    @staticmethod
    def _check_providers(providers):
        for p in providers or []:
            name = p[0] if isinstance(p, (tuple, list)) else p
            if name not in PROVIDERS:
                warnings.warn(f"Specified provider '{name}' is not in available provider names. "
                              f"Available providers: '{', '.join(PROVIDERS)}' (ortc runs on "
                              f"the CPU)", stacklevel=3)

    def _feed_slots(self, h, input_feed):
        """(graph-input index, value) for each entry of {name: value};
        unknown names get ortc's message (ortc_session_input_index), and
        once all are given, an InvalidArgument naming the missing inputs."""
        n_in = len(self._inputs)
        given = [False] * n_in
        for name, value in input_feed.items():
            i = self._in_index.get(name)
            if i is None:
                idx = ctypes.c_size_t()
                C.check(C.ortc_session_input_index(h, str(name).encode(), ctypes.byref(idx)))
                i = idx.value
            yield i, value
            given[i] = True
        if not all(given):
            missing = [self._inputs[i].name for i in range(n_in) if not given[i]]
            raise C.InvalidArgument(
                f"{self._where()}required input{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)} missing from the input feed "
                f"(given: {', '.join(repr(k) for k in input_feed) or 'none'})")

    def _bind_feed(self, h, input_feed):
        """ortc_tensor array in graph-input order for {name: value}, and the
        objects whose memory it points into (keep them alive until the call
        returns); names are checked as _feed_slots says."""
        tensors = (C.Tensor * max(len(self._inputs), 1))()
        keep = []
        for i, value in self._feed_slots(h, input_feed):
            self._bind_input(tensors[i], self._inputs[i], value, keep)
        return tensors, keep

    def _bind_input(self, t, arg, value, keep):
        """Points ortc_tensor t at value's memory (a copy only when the array
        is not C-contiguous native-endian, or not an ndarray)."""
        a = value if isinstance(value, np.ndarray) else np.asarray(value)
        if a.ndim > C.MAX_RANK:
            raise C.Unsupported(f"{self._where()}input '{arg.name}' has rank {a.ndim}; ortc "
                                f"supports tensors of rank up to {C.MAX_RANK}")
        t.rank = a.ndim
        for d, n in enumerate(a.shape):
            t.dims[d] = n
        if a.dtype.kind in "OUS":
            flat = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in a.ravel()]
            buf = (ctypes.c_char_p * max(len(flat), 1))(*flat)
            keep.append((flat, buf))
            t.dtype = C.DTYPE_STRING
            t.data = ctypes.addressof(buf)
            return
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("="))
        dt = C.NUMPY_TO_ORTC.get(a.dtype)
        if dt is None:
            raise C.InvalidArgument(f"{self._where()}input '{arg.name}' is a numpy {a.dtype} "
                                    f"array; ONNX has no such type (the model expects "
                                    f"{arg.type})")
        if dt == 4 and arg.dtype == C.DTYPE_BFLOAT16:
            dt = C.DTYPE_BFLOAT16  # bfloat16 bits in a uint16 array
        if not a.flags.c_contiguous:
            a = np.ascontiguousarray(a)
        keep.append(a)
        t.dtype = dt
        t.data = a.ctypes.data

    def _run(self, h, tensors, n_in, steps_out=None):
        """Runs; when profiling (or steps_out is a list) also reads the run's
        steps: into steps_out, else into the runs end_profiling writes."""
        if any(o.dtype in (C.DTYPE_STRING, 0) for o in self._outputs):  # 0: undeclared
            with self._strings_lock:
                return self._run_unlocked(h, tensors, n_in, steps_out)
        return self._run_unlocked(h, tensors, n_in, steps_out)

    def _run_unlocked(self, h, tensors, n_in, steps_out):
        n_out = len(self._outputs)
        outs = (C.Tensor * max(n_out, 1))()
        C.check(C.ortc_session_output_shapes(h, tensors, n_in, outs, n_out))
        arrays, strings, dynamic = [], {}, []
        for k in range(n_out):
            if _is_dynamic(outs[k]):
                # a shape that depends on the data: the run allocates it
                dynamic.append(k)
                arrays.append(None)
                continue
            shape = _shape_of(outs[k])
            if outs[k].dtype == C.DTYPE_STRING:
                n = int(np.prod(shape, dtype=np.int64))
                buf = (ctypes.c_char_p * max(n, 1))()
                strings[k] = (buf, n, shape)
                outs[k].data = ctypes.addressof(buf)
                arrays.append(None)
                continue
            entry = C.DTYPES.get(outs[k].dtype)
            if entry is None:
                raise C.Unsupported(f"{self._where()}output '{self._outputs[k].name}' has "
                                    f"dtype {C.text(C.ortc_dtype_name(outs[k].dtype))}, which "
                                    f"has no numpy equivalent")
            arr = _aligned_empty(shape, entry[1])
            outs[k].data = arr.ctypes.data
            arrays.append(arr)
        t0 = time.time()
        if self._profiling or steps_out is not None:
            # a profiled run and the read of its steps as one unit: the C
            # profile describes the session's last run, and a concurrent
            # profiled run (or a new shape's plan) would change it meanwhile
            with self._profile_lock:
                C.check(C.ortc_session_run(h, tensors, n_in, outs, n_out))
                steps = self._read_profile(h)
            if steps_out is not None:
                steps_out.extend(steps)
            else:
                self._profile_runs.append((t0, steps))
        else:
            C.check(C.ortc_session_run(h, tensors, n_in, outs, n_out))
        for k in dynamic:
            try:
                arrays[k] = _array_of(outs[k])
            finally:
                C.ortc_tensor_release(ctypes.byref(outs[k]))
        for k, (buf, n, shape) in strings.items():
            # the char* point into the inputs, the model or the session: copy them now
            arrays[k] = np.array([C.text(buf[i]) for i in range(n)],
                                 dtype=object).reshape(shape)
        return arrays

    def _run_any(self, h, input_feed):
        """A run through ortc_session_run_any: inputs are arrays, lists of
        arrays (sequences) or None (an optional holding nothing); outputs
        come back the same way."""
        n_in, n_out = len(self._inputs), len(self._outputs)
        ins = (C.Any * max(n_in, 1))()
        outs = (C.Any * max(n_out, 1))()
        keep = []
        for i, value in self._feed_slots(h, input_feed):
            arg, a = self._inputs[i], ins[i]
            if value is None:
                a.type = C.TYPE_NONE
            elif isinstance(value, (list, tuple)):
                items = (C.Tensor * max(len(value), 1))()
                for j, v in enumerate(value):
                    self._bind_input(items[j], arg, v, keep)
                keep.append(items)
                a.type = C.TYPE_SEQUENCE
                a.length = len(value)
                a.tensors = items
                a.elem_dtype = items[0].dtype if value else arg.dtype
            else:
                a.type = C.TYPE_TENSOR
                self._bind_input(a.tensor, arg, value, keep)
        C.check(C.ortc_session_run_any(h, ins, n_in, outs, n_out))
        results = []
        try:
            for k in range(n_out):
                o = outs[k]
                if o.type == C.TYPE_NONE:
                    results.append(None)
                elif o.type == C.TYPE_SEQUENCE:
                    results.append([_array_of(o.tensors[j]) for j in range(o.length)])
                else:
                    results.append(_array_of(o.tensor))
        finally:
            for k in range(n_out):
                C.ortc_any_release(ctypes.byref(outs[k]))
        return results

    @staticmethod
    def _read_profile(h):
        n = C.ortc_session_profile(h, None, 0)
        if n == 0:
            return []
        entries = (C.ProfileEntry * n)()
        n = min(n, C.ortc_session_profile(h, entries, n))
        steps = []
        for e in entries[:n]:
            ins = [_shape_of(e.inputs[i].contents) if e.inputs[i] else None
                   for i in range(e.n_inputs)]
            outs = [_shape_of(e.outputs[i].contents) if e.outputs[i] else None
                    for i in range(e.n_outputs)]
            steps.append(ProfileStep(C.text(e.node_name), C.text(e.op_type), e.start_ms, e.ms,
                                     e.flops, ins, outs, C.text(e.impl), C.text(e.precision)))
        return steps


def _log_callback(user, level, message):
    lvl = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO}.get(level, logging.DEBUG)
    _log.log(lvl, "%s", C.text(message))
