"""The C translation of conv2d (im2col + gemm) and pooling (direct loops), forward and
gradients, against the reference evaluator: every border mode, stride, dilation, flip,
group count, pooling mode and geometry, float32/float64, NaN/inf, empty batches, strided
inputs; a conv2d + pool_2d + tanh layer and its gradient against a NumPy implementation;
run-time errors naming the user's line."""

import inspect
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

import aotsym
from aotsym import tensor as T

pool_2d = T.signal.pool.pool_2d
CONV_CASES = [dict(border_mode=b, subsample=s, filter_dilation=d, filter_flip=f)
              for b, s, d, f in itertools.product(["valid", "full", "half", (1, 2)],
                                                  [(1, 1), (2, 3)], [(1, 1), (2, 1)],
                                                  [True, False])]
POOL_GEOMETRIES = [((2, 2), True, None, (0, 0)), ((2, 2), False, None, (0, 0)),
                   ((3, 2), False, (1, 1), (0, 0)), ((2, 3), False, (3, 4), (0, 0)),
                   ((3, 3), True, (2, 2), (1, 1)), ((3, 2), True, (1, 2), (2, 1))]


def _conv_case(name, dtype, kwargs_list):
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    outs = []
    for kw in kwargs_list:
        y = T.nnet.conv2d(x, w, **kw)
        outs += [y, *aotsym.grad((y * y).sum(), [x, w])]
    return Case(name, [x, w], outs)


def _pool_case(name, dtype, mode):
    x = T.tensor4("x", dtype=dtype)
    outs = []
    for ws, ib, st, pad in POOL_GEOMETRIES:
        p = pool_2d(x, ws, ib, st, pad, mode)
        outs += [p, aotsym.grad((p * p).sum(), x)]
    return Case(name, [x], outs)


@pytest.fixture(scope="module")
def entries():
    cases = [_conv_case(f"conv_{dt}", dt, CONV_CASES) for dt in ("float64", "float32")]
    cases += [_pool_case(f"pool_{m}_{dt}", dt, m)
              for m in ("max", "sum", "average_inc_pad", "average_exc_pad")
              for dt in ("float64", "float32")]
    xi = T.tensor3("xi", dtype="int32")
    cases.append(Case("pool_int", [xi], [pool_2d(xi, (2, 2), False),
                                        pool_2d(xi, (2, 3), True, (1, 1), (1, 1), "sum")]))
    return {c.name: (c, e) for c, e in zip(cases, build(cases).values())}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv_and_gradients_match_the_reference(entries, dtype):
    case, entry = entries[f"conv_{dtype}"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 2)).astype(dtype)
    assert_matches(case, entry, [x, w], rtol=1e-10, atol=1e-10)
    # strided (non-contiguous) operands, an empty batch, nan and inf
    assert_matches(case, entry, [np.repeat(x, 2, axis=3)[..., ::2][:, ::-1], w[..., ::-1]],
                   rtol=1e-10, atol=1e-10)
    assert_matches(case, entry, [x[:0], w])
    x[0, 1, 2, 3], x[1, 0, 5, 5], w[2, 1, 0, 1] = np.nan, np.inf, -np.inf
    assert_matches(case, entry, [x, w], rtol=1e-10, atol=1e-10)


def test_grouped_conv():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 7, 7))
    x6 = T.tensor4("x6")
    for g, kw in ((2, dict()), (3, dict(border_mode="half", subsample=(2, 1),
                                        filter_flip=False))):
        w = rng.standard_normal((6, 6 // g, 3, 3))
        y = T.nnet.conv2d(x6, T.constant(w), num_groups=g, **kw)
        outs = [y, aotsym.grad((y ** 2).sum(), x6)]
        f = aotsym.function([x6], outs)
        r = aotsym.function([x6], outs, mode="FAST_COMPILE")
        for a, b in zip(f(x), r(x)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pool_and_gradients_match_the_reference(entries, mode, dtype):
    case, entry = entries[f"pool_{mode}_{dtype}"]
    rng = np.random.default_rng(2)
    x = rng.permutation(2 * 3 * 7 * 9).reshape(2, 3, 7, 9).astype(dtype) / 10
    assert_matches(case, entry, [x])
    assert_matches(case, entry, [x[:, :, ::-1, ::2]])
    assert_matches(case, entry, [x[:0]])
    x[0, 0, 0, 0], x[0, 1, 3, 3], x[1, 2, 6, 8] = np.nan, np.inf, -np.inf
    x[1, 1, :2, :3] = -np.inf
    got = assert_matches(case, entry, [x])
    if mode == "max":
        assert np.isnan(got[0][0, 0, 0, 0]) and got[0][1, 1, 0, 0] == -np.inf


def test_integer_pooling(entries):
    case, entry = entries["pool_int"]
    x = np.arange(2 * 5 * 7, dtype="int32").reshape(2, 5, 7) * 7 - 100
    assert_matches(case, entry, [x])


def numpy_layer(x, w, gy_scale):
    """conv2d (valid, flipped) -> 2x2 max pool (ignore_border) -> tanh, cost = sum(out *
    gy_scale), and the gradients of the cost w.r.t. x and w, written in NumPy."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    wf = w[:, :, ::-1, ::-1]
    cols = np.stack([x[:, :, a:a + oh, b:b + ow] for a in range(kh) for b in range(kw)],
                    axis=2)                                   # (n, c, kh*kw, oh, ow)
    y = np.einsum("nckij,ock->noij", cols, wf.reshape(o, c, kh * kw))
    ph, pw = oh // 2, ow // 2
    yw = y[:, :, :2 * ph, :2 * pw].reshape(n, o, ph, 2, pw, 2)
    m = yw.max(axis=(3, 5))
    out = np.tanh(m)
    cost = (out * gy_scale).sum()
    gm = gy_scale * (1 - out ** 2)
    gy = np.zeros_like(y)
    hit = yw == m[:, :, :, None, :, None]
    gy[:, :, :2 * ph, :2 * pw] = (hit * gm[:, :, :, None, :, None]).reshape(n, o, 2 * ph,
                                                                           2 * pw)
    gwf = np.einsum("nckij,noij->ock", cols, gy).reshape(o, c, kh, kw)
    gx = np.zeros_like(x)
    for k, (a, b) in enumerate((a, b) for a in range(kh) for b in range(kw)):
        gx[:, :, a:a + oh, b:b + ow] += np.einsum("noij,oc->ncij", gy,
                                                  wf.reshape(o, c, kh * kw)[:, :, k])
    return cost, gx, gwf[:, :, ::-1, ::-1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv_pool_tanh_layer_and_gradient_vs_numpy(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 11, 10)).astype(dtype)
    w = (rng.standard_normal((4, 2, 3, 4)) * 0.3).astype(dtype)
    scale = rng.standard_normal((3, 4, 4, 3)).astype(dtype)
    xs, ws, ss = (T.tensor4(n, dtype=dtype) for n in "xws")
    out = T.tanh(pool_2d(T.nnet.conv2d(xs, ws), (2, 2), ignore_border=True))
    cost = (out * ss).sum()
    f = aotsym.function([xs, ws, ss], [cost, *aotsym.grad(cost, [xs, ws])])
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    for got, want in zip(f(x, w, scale), numpy_layer(x.astype("float64"),
                                                     w.astype("float64"),
                                                     scale.astype("float64"))):
        np.testing.assert_allclose(got, want, **tol)


def test_bad_shapes_fail_naming_the_user_line():
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x, w, filter_dilation=(2, 1))  # the line the error names
    line = inspect.currentframe().f_lineno - 1
    f = aotsym.function([x, w], [y, pool_2d(x, (2, 2), True, mode="sum")])
    with pytest.raises(ValueError, match="2 channels") as err:
        f(np.zeros((1, 2, 5, 5)), np.zeros((3, 1, 2, 2)))
    assert f"line {line}" in str(err.value)
    with pytest.raises(ValueError, match="larger than the padded input"):
        f(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)))
    gi = T.nnet.conv2d_grad_wrt_inputs(T.tensor4("gz"), w, (1, 1, 5, 5))
    g = aotsym.function([gi.owner.inputs[1], w], gi)
    with pytest.raises(ValueError, match="output gradient has shape"):
        g(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)))



def _first_max_pool(v, ws, ignore_border, stride, pad):
    """Max pooling as the C window loop defines it: each window in row-major order, the
    first of equal values kept (so -0.0 or +0.0 as it comes), NaN wins; partial windows at
    the far edges when ``ignore_border`` is False."""
    (wh, ww), (sh, sw), (ph, pw) = ws, stride or ws, pad
    h, w = v.shape[-2:]
    size = (lambda n, k, s, p: (n + 2 * p - k) // s + 1 if ignore_border
            else max(0, (n + 2 * p - k + s - 1) // s) + 1)
    oh, ow = size(h, wh, sh, ph), size(w, ww, sw, pw)
    out = np.empty(v.shape[:-2] + (oh, ow), v.dtype)
    for idx in np.ndindex(v.shape[:-2]):
        for i in range(oh):
            for j in range(ow):
                r0, c0 = i * sh - ph, j * sw - pw
                rows = range(max(r0, 0), min(r0 + wh, h))
                cols = range(max(c0, 0), min(c0 + ww, w))
                m, first = 0, True
                for r in rows:
                    for c in cols:
                        x = v[idx + (r, c)]
                        if first or x > m or x != x:
                            m, first = x, False
                out[idx + (i, j)] = m
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_max_pool_row_fast_path_keeps_ties_signed_zeros_and_nans(dtype):
    """The whole windows of a row are pooled all at once (pool_kernel.c.j2); with many ties,
    both zeros and NaN they must pick what the window loop picks (the first of equal values,
    so -0.0 or +0.0 as it comes; NaN wins), and the gradient must reach every tied max.
    The forward values are checked against the window loop's definition, and so is the
    reference evaluator (NumPy's max would pick among equal zeros as its reduction goes)."""
    x = T.tensor4("x", dtype=dtype)
    geometries = [((2, 2), True, None, (0, 0)), ((3, 2), False, (2, 1), (0, 0)),
                  ((3, 3), True, (2, 3), (1, 2))]
    outs = []
    for ws, ib, st, pad in geometries:
        p = pool_2d(x, ws, ib, st, pad, "max")
        outs += [p, aotsym.grad((p * np.asarray(1.5, dtype)).sum(), x)]
    fast, ref = (aotsym.function([x], outs, mode=m) for m in ("FAST_RUN", "FAST_COMPILE"))
    rng = np.random.default_rng(5)
    v = rng.choice(np.array([-0.0, 0.0, 1.0, -1.0, np.nan], dtype=dtype), size=(2, 3, 11, 17),
                   p=[0.3, 0.3, 0.15, 0.15, 0.1])
    got, want = fast(v), ref(v)
    for k, geometry in enumerate(geometries):
        pooled = _first_max_pool(v, *geometry)
        np.testing.assert_array_equal(got[2 * k], pooled)
        np.testing.assert_array_equal(np.signbit(got[2 * k]), np.signbit(pooled))
        np.testing.assert_array_equal(np.signbit(want[2 * k]), np.signbit(pooled))
        np.testing.assert_array_equal(got[2 * k + 1], want[2 * k + 1])
        np.testing.assert_array_equal(np.signbit(got[2 * k + 1]), np.signbit(want[2 * k + 1]))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv_in_blocks_of_output_rows_matches_the_reference(dtype):
    """Images large enough that the kernels work through several blocks of output rows
    (conv_kernel.c.j2 _block_rows: ~256 KB of columns; here 3-10 rows of 30-90 columns, the
    last block partial), forward and both gradients, in every border mode with a stride
    and a dilation."""
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    outs = []
    for kw in (dict(), dict(border_mode="full"), dict(border_mode="half", subsample=(2, 1)),
               dict(border_mode=(2, 1), filter_dilation=(1, 2), filter_flip=False)):
        y = T.nnet.conv2d(x, w, **kw)
        outs += [y, *aotsym.grad((y * y).sum(), [x, w])]
    fast, ref = (aotsym.function([x, w], outs, mode=m) for m in ("FAST_RUN", "FAST_COMPILE"))
    rng = np.random.default_rng(7)
    xv = rng.standard_normal((2, 3, 70, 90)).astype(dtype)
    wv = rng.standard_normal((4, 3, 5, 5)).astype(dtype)
    xv[0, 1, 33, 40] = np.nan
    tol = 1e-10 if dtype == "float64" else 2e-4
    for got, want in zip(fast(xv, wv), ref(xv, wv)):
        assert got.shape == want.shape
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        scale = np.abs(np.nan_to_num(want)).max(initial=1.0)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


def test_max_pool_of_rows_with_no_whole_window_finishes():
    """Windows wider than the rows (ignore_border=False): no window of a row is whole, so
    the row fast path has nothing to take and the window loop does them all (the fast path
    once took its empty range and looped forever; a child process with a time limit)."""
    code = """if True:
        import numpy as np, aotsym, aotsym.tensor as T
        x = T.tensor4("x")
        for ws, st, pad in [((2, 3), None, (0, 0)), ((3, 4), (1, 2), (0, 0))]:
            p = T.signal.pool.pool_2d(x, ws, False, st, pad, "max")
            outs = [p, aotsym.grad(p.sum(), x)]
            v = np.arange(8.0).reshape(1, 1, 4, 2)
            for got, want in zip(aotsym.function([x], outs)(v),
                                 aotsym.function([x], outs, mode="FAST_COMPILE")(v)):
                np.testing.assert_array_equal(got, want)
        print("done")
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ,
                                                   AOTSYM_FLAGS=f"cache_dir={aotsym.config.cache_dir}"))
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stderr[-2000:]
