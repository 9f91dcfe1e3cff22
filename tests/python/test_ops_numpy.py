"""test_ops_numpy.py — the signal, loss, text and Cast-to-string operators
of the wave-2 families against numpy: numpy.fft for DFT and STFT on random
lengths (primes among them) and shapes, ONNX's own numpy reference
functions for the two losses, ONNX's MelWeightMatrix algorithm, numpy's
window functions, a brute-force n-gram count for TfIdfVectorizer and
numpy's str() for float32 -> string. One-node models built with
onnx.helper, run through the ortc Python package.
"""
import itertools
import math

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
from onnx import TensorProto, helper
from onnx.backend.test.case.node.negativeloglikelihoodloss import \
    compute_negative_log_likelihood_loss
from onnx.backend.test.case.node.softmaxcrossentropy import softmaxcrossentropy

import ortc

NP_TO_ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
              np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
              np.dtype(object): TensorProto.STRING}


def run_node(op, inputs, attrs=None, opset=17, n_out=1, consts=None):
    """Runs one node: inputs {name: array} in the node's input order (None:
    an omitted slot) are graph inputs, except those also in consts, which
    are initializers (values known when compiling); returns the outputs."""
    consts = consts or {}
    vis = [helper.make_tensor_value_info(k, NP_TO_ONNX[v.dtype], v.shape)
           for k, v in inputs.items() if v is not None and k not in consts]
    inits = [onnx.numpy_helper.from_array(v, k) for k, v in consts.items()]
    node = helper.make_node(op, [k if v is not None else "" for k, v in inputs.items()],
                            [f"y{k}" for k in range(n_out)], **(attrs or {}))
    outs = [helper.make_tensor_value_info(f"y{k}", TensorProto.UNDEFINED, None)
            for k in range(n_out)]
    g = helper.make_graph([node], "g", vis, outs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    s = ortc.InferenceSession(m.SerializeToString(), threads=1)
    return s.run(None, {k: v for k, v in inputs.items() if v is not None and k not in consts})


def close(got, want, rtol, what):
    err = np.abs(got.astype(np.complex128) - want).max() if want.size else 0
    scale = max(np.abs(want).max() if want.size else 0, 1e-300)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, numpy {want.shape}"
    assert err <= rtol * scale, f"{what}: max error {err:.3g} of {scale:.3g}"


def as_complex(y):
    return y[..., 0] + 1j * y[..., 1]


# ---- DFT ------------------------------------------------------------------------------

LENGTHS = [1, 2, 3, 5, 7, 11, 12, 13, 16, 17, 31, 60, 61, 97, 100, 101, 127, 128, 131, 210,
           251, 256, 257, 499, 512, 997, 1000, 1021, 1024, 2017, 4096, 4099]


@pytest.mark.parametrize("n", LENGTHS)
def test_dft_lengths_float64(n):
    """complex float64 [2, n, 3, 2] along axis 1, forward and inverse:
    numpy.fft.fft/ifft to 1e-12 of the largest output"""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((2, n, 3, 2))
    z = as_complex(x)
    for inverse in (0, 1):
        y = run_node("DFT", {"x": x}, {"axis": 1, "inverse": inverse})[0]
        want = (np.fft.ifft if inverse else np.fft.fft)(z, axis=1)
        close(as_complex(y), want, 1e-12, f"n={n} inverse={inverse}")


@pytest.mark.parametrize("n", [7, 64, 97, 250])
def test_dft_real_onesided_axes_lengths(n):
    """real float32 [3, 4, n, 1]: onesided (numpy.fft.rfft), on axis 2 and
    -2, with dft_length padding (n + 5) and truncating (n // 2 + 1)"""
    rng = np.random.default_rng(100 + n)
    x = rng.standard_normal((3, 4, n, 1)).astype(np.float32)
    r = x[..., 0].astype(np.float64)
    y = run_node("DFT", {"x": x}, {"axis": -2, "onesided": 1})[0]
    close(as_complex(y), np.fft.rfft(r, axis=2), 1e-5, "rfft")
    for length in (n + 5, n // 2 + 1):
        ln = np.array(length, dtype=np.int64)
        y = run_node("DFT", {"x": x, "n": ln}, {"axis": 2}, consts={"n": ln})[0]
        close(as_complex(y), np.fft.fft(r, n=length, axis=2), 1e-5, f"dft_length {length}")
    # axis 1 of the same tensor (length 4), complex input
    xc = rng.standard_normal((3, 4, n, 2)).astype(np.float32)
    y = run_node("DFT", {"x": xc}, {"axis": 1})[0]
    close(as_complex(y), np.fft.fft(as_complex(xc.astype(np.float64)), axis=1), 1e-5, "axis 1")


# ---- STFT -----------------------------------------------------------------------------

@pytest.mark.parametrize("length,step,frame", [(128, 8, 16), (1000, 37, 101), (64, 64, 64),
                                               (300, 1, 7)])
def test_stft(length, step, frame):
    """real signals with a Hann window (numpy.hanning of frame + 1, the
    periodic one), onesided; and without window, both sides"""
    rng = np.random.default_rng(length)
    sig = rng.standard_normal((2, length, 1))
    win = np.hanning(frame + 1)[:-1]
    frames = (length - frame) // step + 1
    idx = np.arange(frames)[:, None] * step + np.arange(frame)[None, :]
    segs = sig[:, idx, 0]  # [batch, frames, frame]
    st = np.array(step, dtype=np.int64)
    fl = np.array(frame, dtype=np.int64)
    y = run_node("STFT", {"x": sig, "step": st, "window": win},
                 consts={"step": st})[0]
    close(as_complex(y), np.fft.rfft(segs * win, axis=2), 1e-12, "windowed, onesided")
    y = run_node("STFT", {"x": sig, "step": st, "window": None, "len": fl}, {"onesided": 0},
                 consts={"step": st, "len": fl})[0]
    close(as_complex(y), np.fft.fft(segs, axis=2), 1e-12, "two-sided")


# ---- windows ----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 9, 10, 64, 255])
def test_windows_vs_numpy(size):
    """numpy's hanning and blackman are the symmetric windows (same
    coefficients); the periodic one of size N is numpy's of N + 1 without
    its last point. (numpy's hamming uses 0.54/0.46, ONNX 25/46: not
    compared.)"""
    sz = np.array(size, dtype=np.int64)
    for op, ref in (("HannWindow", np.hanning), ("BlackmanWindow", np.blackman)):
        for periodic in (0, 1):
            y = run_node(op, {"size": sz}, {"periodic": periodic,
                                            "output_datatype": TensorProto.DOUBLE},
                         consts={"size": sz})[0]
            want = ref(size + 1)[:-1] if periodic else ref(size)
            np.testing.assert_allclose(y, want, rtol=0, atol=1e-12, err_msg=f"{op} {periodic}")


# ---- MelWeightMatrix ----------------------------------------------------------------------

def mel_reference(num_mel_bins, dft_length, sample_rate, lower, upper):
    """ONNX's algorithm (onnx/backend/test/case/node/melweightmatrix.py), in
    float64"""
    num_spectrogram_bins = dft_length // 2 + 1
    frequency_bins = np.arange(0, num_mel_bins + 2)
    low_mel = 2595 * np.log10(1 + lower / 700)
    high_mel = 2595 * np.log10(1 + upper / 700)
    mel_step = (high_mel - low_mel) / frequency_bins.shape[0]
    frequency_bins = frequency_bins * mel_step + low_mel
    frequency_bins = 700 * (np.power(10, (frequency_bins / 2595)) - 1)
    frequency_bins = ((dft_length + 1) * frequency_bins) // sample_rate
    frequency_bins = frequency_bins.astype(int)
    out = np.zeros((num_spectrogram_bins, num_mel_bins))
    for i in range(num_mel_bins):
        lo, c, hi = frequency_bins[i], frequency_bins[i + 1], frequency_bins[i + 2]
        if c == lo:
            out[c, i] = 1
        else:
            for j in range(lo, c + 1):
                out[j, i] = (j - lo) / (c - lo)
        if hi > c:
            for j in range(c, hi):
                out[j, i] = (hi - j) / (hi - c)
    return out


@pytest.mark.parametrize("bins,dft,rate,lo,hi", [(8, 16, 8192, 0, 4096), (40, 512, 16000, 20, 8000),
                                                 (13, 400, 22050, 300, 11025),
                                                 (80, 1024, 44100, 0, 18000)])
def test_mel(bins, dft, rate, lo, hi):
    ins = {"b": np.array(bins, np.int64), "d": np.array(dft, np.int64),
           "r": np.array(rate, np.int64), "lo": np.array(lo, np.float64),
           "hi": np.array(hi, np.float64)}
    y = run_node("MelWeightMatrix", ins, {"output_datatype": TensorProto.DOUBLE},
                 consts={"b": ins["b"], "d": ins["d"]})[0]
    np.testing.assert_allclose(y, mel_reference(bins, dft, rate, float(lo), float(hi)),
                               rtol=0, atol=1e-12)


# ---- losses ------------------------------------------------------------------------------

SHAPES = [(3, 5), (2, 4, 3), (2, 3, 2, 2), (1, 6, 2, 1, 3), (4, 2, 1, 1, 1, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_losses_vs_onnx_reference(shape, reduction):
    """both losses, with and without weights and ignore_index, against the
    numpy functions ONNX generates its test data with"""
    rng = np.random.default_rng(hash((shape, reduction)) % 2**32)
    n, c = shape[0], shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, c, size=(n,) + shape[2:]).astype(np.int64)
    t.flat[::3] = -1  # some ignored
    w = rng.uniform(0.1, 2, size=c).astype(np.float32)
    for weight, ii in itertools.product((None, w), (None, -1)):
        tt = np.where(t < 0, 0, t) if ii is None else t
        attrs = {"reduction": reduction}
        if ii is not None:
            attrs["ignore_index"] = ii
        ins = {"x": x, "t": tt, "w": weight}
        got = run_node("NegativeLogLikelihoodLoss", ins, attrs, opset=13)[0]
        want = compute_negative_log_likelihood_loss(x, tt, weight=weight, reduction=reduction,
                                                    ignore_index=ii)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg="NLL")
        got, logp = run_node("SoftmaxCrossEntropyLoss", ins, attrs, opset=13, n_out=2)
        want, want_logp = softmaxcrossentropy(x, tt, weight=weight, reduction=reduction,
                                              ignore_index=ii, get_log_prob=True)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg="SCE")
        np.testing.assert_allclose(logp, want_logp, rtol=1e-5, atol=1e-6, err_msg="log_prob")


# ---- TfIdfVectorizer ------------------------------------------------------------------------

def tfidf_reference(x, pool, counts, indexes, weights, mode, min_n, max_n, skip):
    """brute force from the spec's text: every start, every gap 0..skip,
    every length min_n..max_n (1-grams once per position)"""
    grams = []
    for k, start in enumerate(counts):
        end = counts[k + 1] if k + 1 < len(counts) else len(pool)
        grams += [tuple(pool[i:i + k + 1]) for i in range(start, end, k + 1)]
    width = max(indexes) + 1
    rows = x if x.ndim == 2 else x[None]
    out = np.zeros((rows.shape[0], width), np.float32)
    for r, row in enumerate(rows):
        count = {}
        for n in range(min_n, max_n + 1):
            for gap in range(0, skip + 1 if n > 1 else 1):
                for s in range(len(row)):
                    pos = [s + j * (gap + 1) for j in range(n)]
                    if pos[-1] >= len(row):
                        break
                    g = tuple(row[p] for p in pos)
                    count[g] = count.get(g, 0) + 1
        for i, g in enumerate(grams):
            c = count.get(g, 0)
            w = weights[i] if weights is not None else 1.0
            out[r, indexes[i]] = c if mode == "TF" else (w if c else 0) if mode == "IDF" else c * w
    return out if x.ndim == 2 else out[0]


@pytest.mark.parametrize("seed", range(8))
def test_tfidf_random(seed):
    rng = np.random.default_rng(seed)
    vocab = 6
    uni = rng.permutation(vocab)[:4]
    bi = rng.integers(0, vocab, size=(5, 2))
    tri = rng.integers(0, vocab, size=(3, 3))
    pool = list(uni) + list(bi.ravel()) + list(tri.ravel())
    counts = [0, 4, 14]
    n_grams = 4 + 5 + 3
    indexes = list(rng.permutation(n_grams))
    weights = list(rng.uniform(0.5, 3, n_grams).astype(np.float32))
    x = rng.integers(0, vocab, size=(3, 20)).astype(np.int64)
    for mode, (min_n, max_n), skip in itertools.product(("TF", "IDF", "TFIDF"),
                                                          ((1, 3), (2, 2), (1, 1)), (0, 2)):
        attrs = {"mode": mode, "min_gram_length": min_n, "max_gram_length": max_n,
                 "max_skip_count": skip, "ngram_counts": counts, "ngram_indexes": indexes,
                 "pool_int64s": [int(v) for v in pool], "weights": weights}
        got = run_node("TfIdfVectorizer", {"x": x}, attrs, opset=9)[0]
        want = tfidf_reference(x, [int(v) for v in pool], counts, indexes, weights, mode,
                               min_n, max_n, skip)
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{mode} {min_n}-{max_n} {skip}")


# ---- Cast to string -------------------------------------------------------------------------

def test_cast_float_to_string_is_numpy_str():
    """for non-integer float32 values of magnitude 1e-4 .. 1e7 (where numpy
    prints positionally) ortc's shortest round-trip %g is numpy's str()"""
    rng = np.random.default_rng(5)
    x = (10.0 ** rng.uniform(-4, 7, 5000)).astype(np.float32)
    x *= np.where(rng.random(5000) < 0.5, -1, 1).astype(np.float32)
    x = x[x != np.round(x)]
    got = run_node("Cast", {"x": x}, {"to": TensorProto.STRING}, opset=13)[0]
    want = np.array([str(v) for v in x], dtype=object)
    bad = [(a, b) for a, b in zip(got, want) if a != b]
    assert not bad, f"{len(bad)} differ, e.g. {bad[:5]}"
    assert math.isfinite(float(got[0]))
