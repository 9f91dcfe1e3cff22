"""test_op_oracles.py — the indexing, detection and contraction operators of
issue 13 (TopK, GatherND, ScatterND, CumSum, OneHot, EyeLike,
ReverseSequence, MaxUnpool, GridSample, Det, MeanVarianceNormalization,
Einsum, RoiAlign) against independent oracles on random inputs: PyTorch
(torch.topk's values, torch.nn.functional.grid_sample, max_pool2d/max_unpool2d,
torchvision.ops.roi_align) and numpy (einsum, linalg.det, fancy indexing,
cumsum, eye). Each case builds a one-node ONNX model with onnx.helper and
runs it through the ortc package, with the default (optimised, oneDNN) path
and with reference=True (plain-C kernels). Tolerances are stated per test
with their reason; integer and data-movement results must be exact.
"""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

import conftest  # noqa: F401  (puts tools/python on sys.path)
import ortc

NP_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.int16): TensorProto.INT16, np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64, np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.uint16): TensorProto.UINT16, np.dtype(np.uint32): TensorProto.UINT32,
    np.dtype(np.uint64): TensorProto.UINT64, np.dtype(np.bool_): TensorProto.BOOL,
}


def one_node(op, inputs, n_out=1, opset=16, consts=(), **attrs):
    """A model of one `op` node. inputs: [(name, array)], fed at run time
    except the names in consts, which become initializers. Returns (model
    bytes, feed dict)."""
    node = helper.make_node(op, [n for n, _ in inputs], [f"y{k}" for k in range(n_out)], **attrs)
    g_in = [helper.make_tensor_value_info(n, NP_TO_ONNX[a.dtype], a.shape)
            for n, a in inputs if n not in consts]
    inits = [numpy_helper.from_array(a, n) for n, a in inputs if n in consts]
    outs = [helper.make_tensor_value_info(f"y{k}", TensorProto.UNDEFINED, None)
            for k in range(n_out)]
    g = helper.make_graph([node], "g", g_in, outs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    feed = {n: a for n, a in inputs if n not in consts}
    return m.SerializeToString(), feed


def run_both(model, feed):
    """[(mode, outputs)] for the optimised run and the reference run."""
    res = []
    for ref in (False, True):
        s = ortc.InferenceSession(model, reference=ref, threads=2)
        res.append(("reference" if ref else "default", s.run(None, feed)))
        s.close()
    return res


def close(got, want, rtol, atol, what):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    if got.size == 0:
        return
    g, w = got.astype(np.float64), want.astype(np.float64)
    err = np.abs(g - w) - (atol + rtol * np.abs(w))
    i = np.unravel_index(np.argmax(err), err.shape)
    assert err[i] <= 0, f"{what}: worst at {i}: got {g[i]!r}, want {w[i]!r} (rtol {rtol}, atol {atol})"


def exact(got, want, what):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    bad = np.argwhere(got != want)
    assert bad.size == 0, (f"{what}: {len(bad)} elements differ, first at {tuple(bad[0])}: "
                           f"got {got[tuple(bad[0])]!r}, want {want[tuple(bad[0])]!r}")


RNG = np.random.default_rng(20240613)

# ---- RoiAlign ------------------------------------------------------------------


def random_rois(n_rois, n_img, h, w, scale):
    """Regions in input-image coordinates (feature map / scale): most inside,
    some crossing the border, some tiny (below one feature pixel) or
    inverted, as a detector's proposals are."""
    x1 = RNG.uniform(-4, w / scale, n_rois)
    y1 = RNG.uniform(-4, h / scale, n_rois)
    bw = RNG.uniform(0.1, w / scale, n_rois)
    bh = RNG.uniform(0.1, h / scale, n_rois)
    bw[:3] = [0.3, 0.0, -1.0]  # tiny, empty, inverted
    rois = np.stack([x1, y1, x1 + bw, y1 + bh], 1).astype(np.float32)
    batch = RNG.integers(0, n_img, n_rois).astype(np.int64)
    return rois, batch


@pytest.mark.parametrize("aligned,opset", [(True, 16), (False, 16), (False, 10)])
@pytest.mark.parametrize("out_hw,sampling,scale", [((7, 7), 0, 0.25), ((3, 5), 2, 0.5),
                                                   ((2, 2), 0, 1.0)])
def test_roi_align_torchvision(aligned, opset, out_hw, sampling, scale):
    """torchvision.ops.roi_align (the operator torchvision's detection
    models export as RoiAlign): aligned=True is half_pixel, aligned=False
    output_half_pixel (and RoiAlign-10). Both compute in float32 in the same
    order (samples row by row, then one division), so only rounding in the
    sample coordinates separates them: 1e-5 relative + 1e-6 absolute."""
    from torchvision.ops import roi_align
    x = RNG.standard_normal((2, 3, 17, 23)).astype(np.float32)
    rois, batch = random_rois(12, 2, 17, 23, scale)
    attrs = dict(output_height=out_hw[0], output_width=out_hw[1], sampling_ratio=sampling,
                 spatial_scale=scale, mode="avg")
    if opset >= 16:
        attrs["coordinate_transformation_mode"] = "half_pixel" if aligned else "output_half_pixel"
    model, feed = one_node("RoiAlign", [("x", x), ("rois", rois), ("batch", batch)], opset=opset,
                           **attrs)
    boxes = torch.from_numpy(np.concatenate([batch[:, None].astype(np.float32), rois], 1))
    want = roi_align(torch.from_numpy(x), boxes, out_hw, spatial_scale=scale,
                     sampling_ratio=sampling if sampling > 0 else -1, aligned=aligned).numpy()
    for mode, (got,) in run_both(model, feed):
        close(got, want, 1e-5, 1e-6, f"RoiAlign-{opset} aligned={aligned} ({mode})")


def test_roi_align_max():
    """mode max on a ramp X[..., i, j] = j: bilinear interpolation is exact
    on it, so a sample's value is its x coordinate clamped to [0, W-1], or 0
    when it lies beyond [-1, W] (torchvision's and the spec's empty sample),
    and a bin's maximum is the larger of its two samples (sampling_ratio 2):
    x1 + (pw + (ix + 0.5) / 2) * bin_w, ix = 0, 1. All y samples are inside."""
    h, w = 6, 9
    x = np.broadcast_to(np.arange(w, dtype=np.float32), (1, 2, h, w)).copy()
    rois = np.array([[1.0, 1.0, 7.0, 4.0], [-2.0, 0.0, 3.0, 5.0], [5.5, 2.0, 12.0, 3.0]],
                    np.float32)
    batch = np.zeros(3, np.int64)
    model, feed = one_node("RoiAlign", [("x", x), ("rois", rois), ("batch", batch)], opset=16,
                           mode="max", output_height=2, output_width=3, sampling_ratio=2,
                           coordinate_transformation_mode="half_pixel")

    def value(sx):
        return 0.0 if sx < -1 or sx > w else min(max(sx, 0.0), w - 1)

    want = np.empty((3, 2, 2, 3), np.float32)
    for r, (x1, _, x2, _) in enumerate(rois.astype(np.float64)):
        x1, x2 = x1 - 0.5, x2 - 0.5
        bw = (x2 - x1) / 3
        for pw in range(3):
            want[r, :, :, pw] = max(value(x1 + (pw + (ix + 0.5) / 2) * bw) for ix in (0, 1))
    assert len(set(want.ravel().tolist())) > 4  # the case exercises clamping and emptiness
    for mode, (got,) in run_both(model, feed):
        close(got, want, 1e-6, 1e-6, f"RoiAlign max ({mode})")


# ---- GridSample ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode,padding,align", list(itertools.product(
    ["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"], [0, 1])))
def test_grid_sample_torch(mode, padding, align, dtype):
    """torch.nn.functional.grid_sample, which the spec names as its
    definition. The grid reaches 30% beyond [-1, 1] so that every padding
    mode matters. Same arithmetic in the same precision: 1e-5 relative
    (float64: 1e-12) plus a matching absolute floor for values near 0."""
    x = RNG.standard_normal((2, 3, 5, 7)).astype(dtype)
    grid = RNG.uniform(-1.3, 1.3, (2, 4, 6, 2)).astype(dtype)
    model, feed = one_node("GridSample", [("x", x), ("grid", grid)], mode=mode,
                           padding_mode=padding, align_corners=align)
    want = F.grid_sample(torch.from_numpy(x), torch.from_numpy(grid), mode=mode,
                         padding_mode=padding, align_corners=bool(align)).numpy()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for run_mode, (got,) in run_both(model, feed):
        close(got, want, tol, tol, f"GridSample {mode}/{padding}/align {align} ({run_mode})")


# ---- Einsum ------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(5, 7), (7, 3)]),
    ("bij,bjk->bik", [(4, 5, 6), (4, 6, 3)]),
    ("bhid,bhjd->bhij", [(2, 3, 5, 8), (2, 3, 6, 8)]),  # attention scores
    ("bhij,bhjd->bhid", [(2, 3, 5, 6), (2, 3, 6, 8)]),
    ("ij,kj->ik", [(4, 5), (6, 5)]),
    ("ik,kj->ji", [(4, 5), (5, 3)]),  # result transposed
    ("bik,kj->bij", [(3, 4, 5), (5, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)]),  # broadcast batch
    ("i,i", [(7,), (7,)]),
    ("i,j->ij", [(4,), (5,)]),
    ("ij,j->i", [(4, 5), (5,)]),
    ("ab,ab->ab", [(3, 4), (3, 4)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("bii->bi", [(2, 3, 3)]),
    ("ij,jk", [(3, 4), (4, 2)]),  # implicit output
    ("Ab, bC -> AC", [(3, 4), (4, 2)]),  # capitals and spaces
    ("ij,ik->j", [(3, 4), (3, 5)]),  # k summed on one side only
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_einsum_numpy(eq, shapes, dtype):
    """numpy.einsum (float64 for the oracle). float32: the sums have at
    most 8 terms of magnitude <= 1, so 1e-5 relative and absolute covers
    float rounding in any order; float64: 1e-12; int32: exact."""
    ins = [(f"x{i}", (RNG.integers(-5, 6, s) if dtype == np.int32 else
                      RNG.uniform(-1, 1, s)).astype(dtype)) for i, s in enumerate(shapes)]
    model, feed = one_node("Einsum", ins, opset=12, equation=eq)
    want = np.einsum(eq.replace(" ", ""), *[a.astype(np.float64) for _, a in ins])
    want = np.asarray(want).astype(dtype)
    for mode, (got,) in run_both(model, feed):
        if dtype == np.int32:
            exact(got, want, f"Einsum {eq} int32 ({mode})")
        else:
            tol = 1e-5 if dtype == np.float32 else 1e-12
            close(got, want, tol, tol, f"Einsum {eq} {np.dtype(dtype).name} ({mode})")


# ---- TopK ------------------------------------------------------------------------------


def topk_oracle(x, k, axis, largest):
    """Stable argsort: equal values keep index order, as ONNX requires."""
    key = x.astype(np.float64)
    order = np.argsort(-key if largest else key, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis)
    return np.take_along_axis(x, idx, axis), idx.astype(np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int8, np.int32,
                                   np.int64, np.uint8, np.uint64])
@pytest.mark.parametrize("largest", [1, 0])
def test_topk_ties(dtype, largest):
    """Values drawn from a few integers, so most of them tie: the order of
    ties is the spec's (lower index first), checked against a stable sort;
    the values also against torch.topk (which leaves tie order open)."""
    x = RNG.integers(0, 6, (3, 9, 4)).astype(dtype)
    for axis in (1, -1, 0):
        kk = min(5, x.shape[axis])
        model, feed = one_node("TopK", [("x", x), ("k", np.array([kk], np.int64))], n_out=2,
                               opset=11, axis=axis, largest=largest)
        vals, idx = topk_oracle(x, kk, axis, largest)
        tv = torch.topk(torch.from_numpy(x.astype(np.float64)), kk, dim=axis,
                        largest=bool(largest)).values.numpy().astype(dtype)
        for mode, (gv, gi) in run_both(model, feed):
            exact(gv, vals, f"TopK values axis {axis} ({mode})")
            exact(gv, tv, f"TopK values vs torch axis {axis} ({mode})")
            exact(gi, idx, f"TopK indices axis {axis} ({mode})")


@pytest.mark.parametrize("opset", [1, 10, 11])
def test_topk_versions(opset):
    """k as TopK-1's attribute, as a constant input (10) and as a graph
    input that keys the plan (11), on random float32."""
    x = RNG.standard_normal((4, 30)).astype(np.float32)
    vals, idx = topk_oracle(x, 7, 1, True)
    if opset == 1:
        model, feed = one_node("TopK", [("x", x)], n_out=2, opset=1, k=7)
    else:
        consts = ("k",) if opset == 10 else ()
        model, feed = one_node("TopK", [("x", x), ("k", np.array([7], np.int64))], n_out=2,
                               opset=opset, consts=consts)
    for mode, (gv, gi) in run_both(model, feed):
        exact(gv, vals, f"TopK-{opset} values ({mode})")
        exact(gi, idx, f"TopK-{opset} indices ({mode})")


# ---- GatherND / ScatterND ------------------------------------------------------------


def gather_nd_oracle(data, idx, b):
    bshape = data.shape[:b]
    out = []
    for bi in np.ndindex(*bshape) if b else [()]:
        d = data[bi]
        t = idx[bi].reshape(-1, idx.shape[-1])
        out.append(np.stack([d[tuple(row)] for row in t]))
    out = np.stack(out)
    return out.reshape(idx.shape[:-1] + data.shape[b + idx.shape[-1]:])


@pytest.mark.parametrize("b,dshape,ishape", [(0, (4, 5, 6), (3, 2)), (0, (4, 5, 6), (2, 3, 3)),
                                             (1, (3, 5, 6), (3, 4, 1)),
                                             (2, (2, 3, 5, 4), (2, 3, 2, 2)),
                                             (0, (7,), (4, 1))])
def test_gather_nd_numpy(b, dshape, ishape):
    """numpy indexing tuple by tuple; indices include negative values."""
    data = RNG.standard_normal(dshape).astype(np.float32)
    m = ishape[-1]
    lim = np.array(dshape[b:b + m])
    idx = RNG.integers(-lim, lim, ishape).astype(np.int64)
    model, feed = one_node("GatherND", [("d", data), ("i", idx)], opset=13, batch_dims=b)
    want = gather_nd_oracle(data, idx, b)
    for mode, (got,) in run_both(model, feed):
        exact(got, want, f"GatherND b={b} ({mode})")


@pytest.mark.parametrize("reduction", ["none", "add", "mul"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_scatter_nd_numpy(reduction, dtype):
    """numpy: copy, then apply each update in row-major order of the index
    tuples (duplicates allowed for add/mul; for none, distinct tuples)."""
    data = RNG.integers(-3, 4, (4, 5, 3)).astype(dtype)
    if reduction == "none":
        flat = RNG.permutation(20)[:6]
        idx = np.stack([flat // 5, flat % 5], 1).astype(np.int64)
    else:
        idx = RNG.integers(0, [4, 5], (6, 2)).astype(np.int64)
        idx[3] = idx[0]  # a duplicate
    idx[1] -= np.array([4, 5])  # negative spelling of the same place
    upd = RNG.integers(-3, 4, (6, 3)).astype(dtype)
    model, feed = one_node("ScatterND", [("d", data), ("i", idx), ("u", upd)], opset=16,
                           reduction=reduction)
    want = data.copy()
    for t, u in zip(idx, upd):
        t = tuple(t)
        if reduction == "none":
            want[t] = u
        elif reduction == "add":
            want[t] += u
        else:
            want[t] *= u
    for mode, (got,) in run_both(model, feed):
        exact(got, want, f"ScatterND {reduction} ({mode})")


# ---- CumSum, OneHot, EyeLike, ReverseSequence, Det, MVN --------------------------------


@pytest.mark.parametrize("exclusive,reverse", list(itertools.product([0, 1], [0, 1])))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint64])
def test_cumsum_numpy(exclusive, reverse, dtype):
    """np.cumsum in float64 (ortc accumulates floats in double and rounds
    each output once: 1 ulp of float32, 2e-7 relative); reverse by flipping,
    exclusive by shifting. Integers exact."""
    x = (RNG.integers(0, 9, (3, 50, 4)) if np.dtype(dtype).kind in "iu"
         else RNG.uniform(-1, 1, (3, 50, 4))).astype(dtype)
    for axis in (1, -1, 0):
        a = axis % 3
        v = np.flip(x, a) if reverse else x
        c = np.cumsum(v.astype(np.float64 if dtype in (np.float32, np.float64) else dtype), a)
        if exclusive:
            c = np.concatenate([np.zeros_like(np.take(c, [0], a)),
                                np.take(c, np.arange(x.shape[a] - 1), a)], a)
        want = (np.flip(c, a) if reverse else c).astype(dtype)
        model, feed = one_node("CumSum", [("x", x), ("axis", np.array(axis, np.int32))],
                               opset=14, exclusive=exclusive, reverse=reverse)
        for mode, (got,) in run_both(model, feed):
            if np.dtype(dtype).kind in "iu":
                exact(got, want, f"CumSum axis {axis} ({mode})")
            else:
                close(got, want, 2.4e-7, 0, f"CumSum axis {axis} ({mode})")


@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
def test_onehot_numpy(axis):
    """np.eye rows moved to `axis`; indices outside [-depth, depth) give
    all-off rows; float indices truncate."""
    depth = 6
    # integers -8..8, some moved half a step toward or away from zero
    ind = (RNG.integers(-8, 9, (3, 4)) + RNG.choice([-0.5, 0, 0.5], (3, 4))).astype(np.float32)
    vals = np.array([-1.5, 4.0], np.float32)
    t = np.trunc(ind).astype(np.int64)
    ok = (t >= -depth) & (t < depth)
    hot = np.where(ok[..., None], np.eye(depth)[np.where(ok, t % depth, 0)], 0)
    want = np.moveaxis(np.where(hot > 0, vals[1], vals[0]).astype(np.float32), -1, axis)
    model, feed = one_node("OneHot", [("i", ind), ("d", np.array([depth], np.int64)),
                                      ("v", vals)], opset=11, axis=axis)
    for mode, (got,) in run_both(model, feed):
        exact(got, want, f"OneHot axis {axis} ({mode})")


@pytest.mark.parametrize("k", [-4, -1, 0, 2, 5])
def test_eyelike_numpy(k):
    x = np.zeros((4, 6), np.int32)
    model, feed = one_node("EyeLike", [("x", x)], opset=9, k=k, dtype=TensorProto.DOUBLE)
    for mode, (got,) in run_both(model, feed):
        exact(got, np.eye(4, 6, k=k), f"EyeLike k={k} ({mode})")


@pytest.mark.parametrize("time_axis", [0, 1])
def test_reverse_sequence_numpy(time_axis):
    x = RNG.standard_normal((6, 4, 3) if time_axis == 0 else (4, 6, 3)).astype(np.float32)
    lens = np.array([6, 0, 3, 1], np.int64)
    want = x.copy()
    for b, n in enumerate(lens):
        if time_axis == 0:
            want[:n, b] = x[:n, b][::-1]
        else:
            want[b, :n] = x[b, :n][::-1]
    model, feed = one_node("ReverseSequence", [("x", x), ("l", lens)], opset=10,
                           time_axis=time_axis, batch_axis=1 - time_axis)
    for mode, (got,) in run_both(model, feed):
        exact(got, want, f"ReverseSequence time_axis {time_axis} ({mode})")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_det_numpy(dtype):
    """numpy.linalg.det in float64 on the same values; ortc computes in
    double and rounds once, so float32 is within 1e-6 relative (a few ulp of
    LU's rounding differences), float64 within 1e-10 plus 1e-12 absolute for
    (near-)singular matrices."""
    x = RNG.uniform(-1, 1, (2, 3, 5, 5)).astype(dtype)
    x[0, 1, 3] = x[0, 1, 1]  # singular
    want = np.linalg.det(x.astype(np.float64)).astype(dtype)
    model, feed = one_node("Det", [("x", x)], opset=11)
    tol = (1e-6, 1e-7) if dtype == np.float32 else (1e-10, 1e-12)
    for mode, (got,) in run_both(model, feed):
        close(got, want, *tol, f"Det ({mode})")


@pytest.mark.parametrize("axes", [None, [1], [0, 2, 3], [-1, -2]])
def test_mvn_numpy(axes):
    """The spec's function body in float64: (X - mean) / (sqrt(var) + 1e-9)."""
    x = RNG.standard_normal((3, 4, 5, 6)).astype(np.float32)
    a = tuple(axes) if axes is not None else (0, 2, 3)
    x64 = x.astype(np.float64)
    mean = x64.mean(a, keepdims=True)
    want = ((x64 - mean) / (np.sqrt(((x64 - mean) ** 2).mean(a, keepdims=True)) + 1e-9))
    attrs = {} if axes is None else {"axes": axes}
    model, feed = one_node("MeanVarianceNormalization", [("x", x)], opset=13, **attrs)
    for mode, (got,) in run_both(model, feed):
        close(got, want.astype(np.float32), 1e-6, 1e-6, f"MVN axes {axes} ({mode})")


@pytest.mark.parametrize("hw,kernel,stride,pads,with_shape", [
    ((8, 8), (2, 2), (2, 2), (0, 0, 0, 0), False),
    ((9, 9), (3, 3), (2, 2), (1, 1, 1, 1), True),
    ((9, 8), (3, 2), (1, 2), (0, 0, 0, 0), True)])
def test_max_unpool_torch(hw, kernel, stride, pads, with_shape):
    """torch's max_pool2d indices (per plane) made ONNX's (over N x C x H x
    W), then ortc's MaxUnpool against torch.nn.functional.max_unpool2d. The
    sizes are ones MaxUnpool's formula maps back to the pooled input, where
    the spec and PyTorch agree (for a larger output_shape they differ: see
    unpool.c)."""
    x = torch.from_numpy(RNG.standard_normal((2, 3) + hw).astype(np.float32))
    pooled, ind = F.max_pool2d(x, kernel, stride, padding=pads[:2], return_indices=True)
    want = F.max_unpool2d(pooled, ind, kernel, stride, padding=pads[:2], output_size=hw)
    plane = hw[0] * hw[1]
    onnx_ind = ind.numpy() + (np.arange(6).reshape(2, 3, 1, 1) * plane)
    ins = [("x", pooled.numpy()), ("i", onnx_ind.astype(np.int64))]
    if with_shape:
        ins.append(("s", np.array(x.shape, np.int64)))
    model, feed = one_node("MaxUnpool", ins, opset=11, kernel_shape=list(kernel),
                           strides=list(stride), pads=list(pads))
    for mode, (got,) in run_both(model, feed):
        exact(got, want.numpy(), f"MaxUnpool {kernel}/{stride}/{pads} ({mode})")
