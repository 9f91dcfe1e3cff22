"""known.py — disagreements with ONNX Runtime that were triaged as ONNX
Runtime deviations or spec questions, each with the spec's words and a
matcher over the graph upstream of the disagreeing output. A campaign counts
a match under the issue's id instead of as a disagreement; a minimized case
of each is saved under tests/fuzz/regressions/graphs (with ortc's output,
checked by hand against the spec, as the expected value). Only the ONNX
Runtime oracle's findings are matched: a disagreement between ortc's own
two paths is never "known".
"""
import onnx
from onnx import helper, numpy_helper


class Known:
    def __init__(self, id, what, spec, match):
        self.id = id
        self.what = what  # "ONNX Runtime deviation" | "spec question"
        self.spec = spec
        self.match = match


def _attr(nd, name, default=None):
    for a in nd.attribute:
        if a.name == name:
            v = helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return default


def _const(model, name):
    for i in model.graph.initializer:
        if i.name == name:
            return numpy_helper.to_array(i)
    for nd in model.graph.node:
        if nd.op_type == "Constant" and nd.output[0] == name:
            return numpy_helper.to_array(nd.attribute[0].t) if nd.attribute[0].t.dims or \
                nd.attribute[0].type == 4 else None
    return None


def upstream(model, output_index):
    """Nodes the graph output depends on."""
    g = model.graph
    if not 0 <= output_index < len(g.output):
        return list(g.node)
    prod = {o: nd for nd in g.node for o in nd.output if o}
    seen, todo, res = set(), [g.output[output_index].name], []
    while todo:
        v = todo.pop()
        nd = prod.get(v)
        if nd is None or id(nd) in seen:
            continue
        seen.add(id(nd))
        res.append(nd)
        todo.extend(i for i in nd.input if i)
        todo.extend(_subgraph_reads(nd))  # an If's branches read outer values
    return res


def _subgraph_reads(nd):
    names = []
    for a in nd.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            for sn in a.g.node:
                names += [i for i in sn.input if i]
                names += _subgraph_reads(sn)
    return names


def _opset(model):
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _dropout_mask(model, nodes):
    return _opset(model) < 12 and any(
        nd.op_type == "Dropout" and len(nd.output) > 1 and nd.output[1] for nd in nodes)


def _same_dilated(model, nodes):
    return any(nd.op_type in ("MaxPool", "AveragePool") and
               _attr(nd, "auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER") and
               any(d != 1 for d in _attr(nd, "dilations", [1])) for nd in nodes)


def _tf_nn_ceil(model, nodes):
    return any(nd.op_type == "Resize" and
               _attr(nd, "coordinate_transformation_mode") == "tf_half_pixel_for_nn" and
               _attr(nd, "nearest_mode", "round_prefer_floor") in ("ceil", "round_prefer_ceil")
               for nd in nodes)


def _shape_of(model, name):
    """Shape of a value: from the case's own values when known (a dynamic
    batch leaves ONNX's inference symbolic), else ONNX shape inference."""
    if name in _SHAPES:
        return list(_SHAPES[name])
    try:
        inf = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001
        return None
    for vi in list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output):
        if vi.name == name:
            dims = vi.type.tensor_type.shape.dim
            if all(d.HasField("dim_value") for d in dims):
                return [d.dim_value for d in dims]
    for init in model.graph.initializer:
        if init.name == name:
            return list(init.dims)
    return None


def _resize_scales(model, nd):
    """(scales, sizes) constants of a Resize-11+ node (None when absent)."""
    sc = _const(model, nd.input[2]) if len(nd.input) > 2 and nd.input[2] else None
    sz = _const(model, nd.input[3]) if len(nd.input) > 3 and nd.input[3] else None
    if sc is not None and sc.size == 0:
        sc = None
    return sc, sz


def _crop_identity(model, nodes):
    """tf_crop_and_resize where an axis keeps its length (scale 1) but its
    roi is not [0, 1]."""
    for nd in nodes:
        if nd.op_type != "Resize" or \
                _attr(nd, "coordinate_transformation_mode") != "tf_crop_and_resize":
            continue
        if len(nd.input) < 2 or not nd.input[1]:
            continue
        roi = _const(model, nd.input[1])
        if roi is not None and roi.size == 0:
            continue
        sc, sz = _resize_scales(model, nd)
        if sc is not None:
            same = [float(v) == 1.0 for v in sc]
        else:
            shape = _shape_of(model, nd.input[0])
            if sz is None or shape is None:
                continue
            same = [int(a) == int(b) for a, b in zip(sz, shape)]
        for i, keep in enumerate(same):
            if not keep:
                continue
            if roi is None:  # fed at run time: may select part of the axis
                return True
            half = roi.size // 2
            if i < half and (roi[i] != 0 or roi[half + i] != 1):
                return True
    return False


def _length_resized(model, nodes):
    """align_corners, or pytorch_half_pixel at a resized length of 1, with
    a scale whose input * scale is not an integer."""
    for nd in nodes:
        if nd.op_type != "Resize":
            continue
        ctm = _attr(nd, "coordinate_transformation_mode", "half_pixel")
        if ctm not in ("align_corners", "pytorch_half_pixel", "tf_crop_and_resize"):
            continue
        sc, sz = _resize_scales(model, nd)
        if sc is None:
            continue  # sizes: input * (output / input) is the output length
        shape = _shape_of(model, nd.input[0])
        if shape is None:
            return True
        for d, s in zip(shape, sc):
            exact = float(d) * float(s)
            if exact != int(exact) and (ctm != "pytorch_half_pixel" or int(exact) == 1):
                return True
    return False


def _nearest_index(x, mode):
    import numpy as np
    fl = np.floor(x)
    frac = x - fl
    if mode == "floor":
        return fl
    if mode == "ceil":
        return np.ceil(x)
    if mode == "round_prefer_ceil":
        return np.where(frac >= 0.5, fl + 1, fl)
    return np.where(frac > 0.5, fl + 1, fl)  # round_prefer_floor


def _nearest_coordinate_precision(model, nodes):
    """Resize (opset 11+) in nearest mode where some output position's
    x_original picks another input index when computed in float32 than in
    exact (double) arithmetic."""
    import numpy as np
    if _opset(model) < 11:
        return False
    for nd in nodes:
        if nd.op_type != "Resize" or _attr(nd, "mode", "nearest") != "nearest":
            continue
        ctm = _attr(nd, "coordinate_transformation_mode", "half_pixel")
        if ctm == "tf_crop_and_resize":
            continue
        nmode = _attr(nd, "nearest_mode", "round_prefer_floor")
        shape = _shape_of(model, nd.input[0])
        if shape is None:
            return True
        sc, sz = _resize_scales(model, nd)
        if sc is None and sz is None:
            continue
        for ax, lin in enumerate(shape):
            if sc is not None:
                scale = float(sc[ax])
                lout = int(np.floor(lin * scale))
            else:
                lout = int(sz[ax])
                scale = lout / lin if lin else 1.0
            if lout == lin or lout == 0:
                continue
            res = []
            for ft in (np.float64, np.float32):
                x = np.arange(lout, dtype=ft)
                s_, li, lo = ft(scale), ft(lin), ft(lout)
                if ctm == "align_corners":
                    xo = x * (li - 1) / (lo - 1) if lout > 1 else np.zeros_like(x)
                elif ctm == "asymmetric":
                    xo = x / s_
                elif ctm == "tf_half_pixel_for_nn":
                    xo = (x + ft(0.5)) / s_
                elif ctm == "pytorch_half_pixel" and lout == 1:
                    xo = np.zeros_like(x)
                else:
                    xo = (x + ft(0.5)) / s_ - ft(0.5)
                res.append(_nearest_index(xo.astype(np.float64), nmode))
            if np.any(res[0] != res[1]):
                return True
    return False


def _gemm_empty_k(model, nodes):
    for nd in nodes:
        if nd.op_type == "Gemm" and len(nd.input) > 2 and nd.input[2] and \
                _attr(nd, "beta", 1.0) != 1.0:
            a = _shape_of(model, nd.input[0])
            if a is not None and len(a) == 2 and a[1 if not _attr(nd, "transA", 0) else 0] == 0:
                return True
    return False


def _matmul_empty_k(model, nodes):
    for nd in nodes:
        if nd.op_type == "MatMul":
            a = _shape_of(model, nd.input[0])
            if a is not None and len(a) >= 1 and a[-1] == 0:
                return True
    return False


def _reduce_empty(model, nodes):
    for nd in nodes:
        if nd.op_type.startswith("Reduce") or nd.op_type in ("ArgMax", "ArgMin"):
            s = _shape_of(model, nd.input[0])
            if s is not None and 0 in s:
                return True
    return False


def _same_negative_pad(model, nodes):
    """A pool with auto_pad SAME_* along an axis where the stride exceeds the
    dilated kernel so much that (out - 1) * stride + kernel - in < 0."""
    for nd in nodes:
        if nd.op_type not in ("MaxPool", "AveragePool", "LpPool") or \
                _attr(nd, "auto_pad", "NOTSET") not in ("SAME_UPPER", "SAME_LOWER"):
            continue
        shape = _shape_of(model, nd.input[0])
        if shape is None:
            return True
        k = _attr(nd, "kernel_shape", [])
        st = _attr(nd, "strides", [1] * len(k))
        dl = _attr(nd, "dilations", [1] * len(k))
        for i, n in enumerate(shape[2:2 + len(k)]):
            out = -(-n // st[i])
            if (out - 1) * st[i] + (k[i] - 1) * dl[i] + 1 - n < 0:
                return True
    return False


def _convt_output_shape_v1(model, nodes):
    return _opset(model) < 11 and any(
        nd.op_type == "ConvTranspose" and _attr(nd, "output_shape") is not None and
        _attr(nd, "auto_pad", "NOTSET") != "SAME_UPPER" for nd in nodes)


def _in_dtype(model, name):
    """Element type of a value (ONNX shape inference), or None."""
    for vi in list(model.graph.input) + list(model.graph.initializer):
        if vi.name == name:
            return vi.type.tensor_type.elem_type if hasattr(vi, "type") else vi.data_type
    try:
        inf = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001
        return None
    for vi in list(inf.graph.value_info) + list(inf.graph.output):
        if vi.name == name:
            return vi.type.tensor_type.elem_type
    for nd in model.graph.node:
        if nd.op_type == "Constant" and nd.output[0] == name:
            return nd.attribute[0].t.data_type
    return None


_WINDOWS = ("HannWindow", "HammingWindow", "BlackmanWindow")


def _window_size_1(model, nodes):
    for nd in nodes:
        if nd.op_type in _WINDOWS and _attr(nd, "periodic", 1) == 0:
            size = _const(model, nd.input[0])
            if size is None or int(size.reshape(-1)[0]) == 1:
                return True
    return False


def _window_double(model, nodes):
    return any(nd.op_type in _WINDOWS and _attr(nd, "output_datatype", 1) == 11 for nd in nodes)


def _roialign_max(model, nodes):
    return any(
        nd.op_type == "RoiAlign" and _attr(nd, "mode", "avg") == "max" for nd in nodes)


def _dft_double(model, nodes):
    return any(nd.op_type in ("DFT", "STFT") and _in_dtype(model, nd.input[0]) == 11
               for nd in nodes)


def _stft_complex(model, nodes):
    for nd in nodes:
        if nd.op_type == "STFT":
            shape = _shape_of(model, nd.input[0])
            if shape is None or shape[-1] == 2:
                return True
    return False


def _lstm_clip(model, nodes):
    return any(nd.op_type == "LSTM" and _attr(nd, "clip") is not None for nd in nodes)


def _maxunpool_output_shape(model, nodes):
    return any(nd.op_type == "MaxUnpool" and len(nd.input) > 2 and nd.input[2]
               for nd in nodes)


def _elem_types(model):
    """{value name: ONNX elem type} from ONNX's type inference."""
    try:
        m = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001
        m = model
    g = m.graph
    res = {i.name: i.data_type for i in g.initializer}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        if vi.type.HasField("tensor_type"):
            res[vi.name] = vi.type.tensor_type.elem_type
    return res


_FP16 = 10
# ops that only move or select float16 elements: no rounding to lose
_MOVES = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat",
          "Split", "Slice", "Gather", "GatherElements", "GatherND", "Expand", "Tile", "Pad",
          "Dropout", "DepthToSpace", "SpaceToDepth", "Compress", "Unique", "TopK",
          "MaxPool", "GlobalMaxPool", "ReduceMax", "ReduceMin", "Max", "Min", "Relu", "Abs",
          "Neg", "Where", "Trilu", "ReverseSequence", "ScatterElements", "ScatterND",
          "Scatter"}  # Cast to float16 rounds: not a move


def _fp16_chain(model, finding, nodes):
    """A float16 output computed by two rounding float16 ops in a row (the
    second reading the first's output, moves between them allowed)."""
    if finding.get("how") not in ("exact", "tolerance", "values"):
        return False
    types = _elem_types(model)
    outs = model.graph.output
    k = finding.get("output", -1)
    if not 0 <= k < len(outs) or types.get(outs[k].name) != _FP16:
        return False
    prod = {o: nd for nd in model.graph.node for o in nd.output if o}

    def rounding_above(name, seen):
        nd = prod.get(name)
        if nd is None or id(nd) in seen:
            return False
        seen.add(id(nd))
        if nd.op_type not in _MOVES and types.get(nd.output[0]) == _FP16:
            return True
        return any(rounding_above(i, seen) for i in nd.input if i and types.get(i) == _FP16)
    for nd in nodes:
        if nd.op_type in _MOVES or types.get(nd.output[0]) != _FP16:
            continue
        if any(i and types.get(i) == _FP16 and rounding_above(i, set()) for i in nd.input):
            return True
    return False


KNOWN = [
    Known("ort-float16-intermediate-precision", "ONNX Runtime deviation",
          "A float16 value computed by an operator and read by another (Mul then Mul): "
          "ONNX Runtime's CPU provider runs such float16 operators in float32 between Casts "
          "and drops the Casts between consecutive ones, so the intermediate is not "
          "rounded to float16 (Mul(Mul(a, b), c) in float16 equals the float32 chain "
          "rounded once; the intermediate as a graph output is rounded, its consumer "
          "reads the unrounded value). ONNX: Mul 'Performs element-wise binary "
          "multiplication', 'C (heterogeneous) - T: Result, has same element type as two "
          "inputs', T including tensor(float16): every intermediate is a float16 tensor.",
          lambda m, f, nodes: _fp16_chain(m, f, nodes)),
    Known("ort-dropout-mask", "ONNX Runtime deviation",
          "Dropout before opset 12 in inference: ONNX Runtime fills the mask output with "
          "0/false; nothing is dropped, and ONNX's reference and backend test "
          "(test_dropout_default_mask) give 1/true. From opset 12 ONNX Runtime agrees.",
          lambda m, f, nodes: _dropout_mask(m, nodes)),
    Known("ort-pool-same-dilation", "ONNX Runtime deviation",
          "MaxPool with auto_pad SAME_UPPER/SAME_LOWER and dilations > 1: ONNX Runtime "
          "computes the padding without the dilation and returns a wrong (even empty) "
          "output. ONNX: 'SAME_UPPER or SAME_LOWER: output_spatial_shape[i] = "
          "ceil(input_spatial_shape[i] / strides_spatial_shape[i])'.",
          lambda m, f, nodes: _same_dilated(m, nodes)),
    Known("ort-resize-tf-nn-nearest-mode", "ONNX Runtime deviation",
          "Resize with coordinate_transformation_mode tf_half_pixel_for_nn ignores "
          "nearest_mode ceil/round_prefer_ceil in ONNX Runtime. ONNX: 'x_original = "
          "(x_resized + 0.5) / scale' and nearest_mode 'indicates how to get \"nearest\" "
          "pixel in input tensor from x_original'.",
          lambda m, f, nodes: _tf_nn_ceil(m, nodes)),
    Known("ort-resize-crop-identity", "ONNX Runtime deviation",
          "Resize tf_crop_and_resize along an axis whose scale is 1: ONNX Runtime copies "
          "that axis unchanged and ignores its roi. ONNX: 'if "
          "coordinate_transformation_mode is \"tf_crop_and_resize\", x_original = "
          "length_resized > 1 ? start_x * (length_original - 1) + x_resized * (end_x - "
          "start_x) * (length_original - 1) / (length_resized - 1) : 0.5 * (start_x + end_x) "
          "* (length_original - 1)'; along axes scaled by other than 1 ONNX Runtime follows it.",
          lambda m, f, nodes: _crop_identity(m, nodes)),
    Known("ort-gemm-empty-k-beta", "ONNX Runtime deviation",
          "Gemm with an empty inner dimension (K = 0) and beta != 1: ONNX Runtime returns C "
          "unscaled. ONNX: 'Y = alpha * A' * B' + beta * C'; with K = 0 the product is 0 "
          "and Y = beta * C.",
          lambda m, f, nodes: _gemm_empty_k(m, nodes)),
    Known("ort-matmul-empty-k", "ONNX Runtime deviation",
          "MatMul with an empty inner dimension (K = 0): ONNX Runtime's output holds "
          "whatever its buffer held (56.6 where 0 is due, different from run to run, so the "
          "shrunk case does not reproduce; seed 30017935, A [32, 0] times TopK's [1, 7, 0, 3]). "
          "ONNX: 'Matrix product that behaves like numpy.matmul'; numpy's product over an "
          "empty K is all zeros, which ortc returns.",
          lambda m, f, nodes: _matmul_empty_k(m, nodes)),
    Known("ort-reduce-empty-shape", "ONNX Runtime deviation",
          "A reduction over an axis of an input with a 0-sized dim: ONNX Runtime returns the "
          "input's shape (ReduceSumSquare of [2,1,0] over axis 0, keepdims 0, gives [2,1,0]); "
          "ONNX: 'The resulting tensor has the same rank as the input if keepdims equals 1. "
          "If keepdims equals 0, then the resulting tensor has the reduced dimension pruned' "
          "([1,0]).",
          lambda m, f, nodes: _reduce_empty(m, nodes)),
    Known("spec-convtranspose-1-output-shape-pads", "spec question",
          "ConvTranspose before opset 11 with output_shape and an odd total padding: "
          "ConvTranspose-1 says 'If (auto_pads != SAME_UPPER): pads[start_i] = "
          "total_padding[i]/2; pads[end_i] = total_padding[i] - (total_padding[i]/2)', "
          "ConvTranspose-11 the opposite ('If (auto_pads == SAME_UPPER): pads[start_i] = "
          "total_padding[i]/2 ... Else: pads[start_i] = total_padding[i] - "
          "(total_padding[i]/2)'). ortc follows each version's words; ONNX Runtime applies "
          "the opset-11 rule to every version.",
          lambda m, f, nodes: _convt_output_shape_v1(m, nodes)),
    Known("spec-pool-same-negative-pad", "spec question",
          "A pool with auto_pad SAME_UPPER/SAME_LOWER where the stride is larger than the "
          "kernel, so 'pad_shape[i] = (output_spatial_shape[i] - 1) * "
          "strides_spatial_shape[i] + ((kernel_spatial_shape[i] - 1) * dilations[i] + 1) - "
          "input_spatial_shape[i]' is negative: the spec does not say whether a negative "
          "pad is zero or shifts the window into the input. ortc takes it as zero (windows "
          "start at 0, as TensorFlow's SAME, where auto_pad comes from); ONNX Runtime "
          "shifts the windows by half of it.",
          lambda m, f, nodes: _same_negative_pad(m, nodes)),
    Known("spec-resize-length-resized", "spec question",
          "Resize with scales whose input * scale is not an integer, in align_corners "
          "('x_original = x_resized * (length_original - 1) / (length_resized - 1)'), "
          "tf_crop_and_resize (the same ratio with the roi) or "
          "pytorch_half_pixel ('x_original = length_resized > 1 ? (x_resized + 0.5) / scale "
          "- 0.5 : 0'): is length_resized input * scale or the output's integer length? "
          "ONNX 1.12's own test data (test_resize_downsample_scales_linear_align_corners "
          "expects 3.142857) take input * scale, as ortc does; ONNX Runtime takes the "
          "integer length.",
          lambda m, f, nodes: _length_resized(m, nodes)),
    Known("spec-resize-nearest-coordinate-precision", "spec question",
          "Resize in nearest mode where an output position's x_original lies within float32 "
          "rounding of the point where nearest_mode switches index (align_corners, x_resized "
          "9556 of 14336 from 3584: 'x_original = x_resized * (length_original - 1) / "
          "(length_resized - 1)' = 2388.50003): the spec gives the formula, not the "
          "precision. ortc computes it in double (2388.50003 -> 2389, as ONNX's reference "
          "implementation in NumPy float64); ONNX Runtime in float32 (2388.5, a tie -> 2388 "
          "with round_prefer_floor).",
          lambda m, f, nodes: _nearest_coordinate_precision(m, nodes)),
    Known("ort-roialign-max", "ONNX Runtime deviation",
          "RoiAlign with mode 'max' (opsets 10 and 16): ONNX Runtime takes the largest of "
          "the four bilinear terms w_i * x_i of each sampling point (x = [[1, 2], [3, 4]], "
          "one sample at (0.5, 0.5): 1.0 = 0.25 * 4) instead of the maximum "
          "of the interpolated samples. ONNX: 'Max pooling' of 'the value of each sampling "
          "point ... computed directly through bilinear interpolation' (mode: 'The pooling "
          "method. Two modes are supported: avg and max').",
          lambda m, f, nodes: _roialign_max(m, nodes)),
    Known("spec-window-size-1", "spec question",
          "A symmetric (periodic=0) Hann/Hamming/Blackman window of size 1: the function "
          "bodies divide by 'Symmetric_Size_FP = Sub(Periodic_Size_FP, One)' = 0 and give "
          "NaN (0/0), as ONNX Runtime does; ortc gives [1] as NumPy, SciPy and PyTorch do "
          "(tests/conformance/notes/signal.md).",
          lambda m, f, nodes: _window_size_1(m, nodes)),
    Known("spec-window-float-body", "spec question",
          "Hann/Hamming/Blackman windows with output_datatype double: the function bodies "
          "compute in float ('Cast[to = 1](size)', 'Tau = 6.2831854820251465') and cast the "
          "float result to the output type, which ONNX Runtime follows (errors ~1e-8); "
          "ortc computes in double with pi exact, so a double output is the exact window.",
          lambda m, f, nodes: _window_double(m, nodes)),
    Known("ort-dft-double-precision", "ONNX Runtime deviation",
          "DFT/STFT of a double signal: ONNX Runtime's results are off by ~1e-8 relative "
          "(an inverse DFT of [1, 0, 0] gives 1.00000003), float precision; NumPy's FFT and "
          "ortc agree to 1e-16. ONNX: 'Computes the discrete Fourier transform of input' in "
          "its type T1 (float16, float, double).",
          lambda m, f, nodes: _dft_double(m, nodes)),
    Known("ort-stft-complex", "ONNX Runtime deviation",
          "STFT of a complex signal ([batch, length, 2], onesided=0): ONNX Runtime returns "
          "wrong values (x = [1+1j, 1+1j] with a window of ones gives bins [2j, 2j] instead "
          "of [2+2j, 0]). ONNX: 'signal: Input tensor representing a real or complex "
          "valued signal. For complex input, the following shape is expected: "
          "[batch_size][signal_length][2]'.",
          lambda m, f, nodes: _stft_complex(m, nodes)),
    Known("spec-maxunpool-output-shape", "spec question",
          "MaxUnpool with an output_shape larger than the unpooled shape: ortc reads the "
          "indices as offsets into the unpooled shape ((in - 1) * stride + kernel - pads) "
          "placed in the output's leading corner, as the spec's example and ONNX's "
          "reference implementation do; ONNX Runtime reads them as offsets into "
          "output_shape. ONNX: 'The shape of the output can be explicitly set which will "
          "cause pads values to be auto generated.'",
          lambda m, f, nodes: _maxunpool_output_shape(m, nodes)),
    Known("spec-lstm-clip-cell", "spec question",
          "LSTM with clip: ONNX: 'clip: Cell clip threshold. Clipping bounds the elements "
          "of a tensor in the range of [-threshold, +threshold] and is applied to the input "
          "of activations.' ortc clips the input of every activation, h(Ct)'s included "
          "(Ht = ot (.) h(clip(Ct))); ONNX Runtime clips the gates' inputs only. ONNX 1.12 "
          "has no test of clip.",
          lambda m, f, nodes: _lstm_clip(m, nodes)),
]


_SHAPES = {}


def match(model, finding, shapes=None):
    """The Known issue explaining an ONNX Runtime finding, or None. shapes:
    {value name: shape} of this case (analyze.analyze), when available."""
    if finding.get("oracle") != "ort":
        return None
    nodes = upstream(model, finding.get("output", -1))
    _SHAPES.clear()
    _SHAPES.update(shapes or {})
    try:
        for k in KNOWN:
            if k.match(model, finding, nodes):
                return k
    finally:
        _SHAPES.clear()
    return None
