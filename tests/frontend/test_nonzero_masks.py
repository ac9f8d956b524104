"""``T.nonzero`` / ``T.flatnonzero`` / ``T.nonzero_values`` and boolean-mask indexing
(``x[mask]``, ``set_subtensor(x[mask], v)``, ``inc_subtensor``).

Compiled results (FAST_RUN) are compared with NumPy and with the reference evaluator, on
every dtype, 0-d / 1-d / 3-d, empty, NaN / -0.0, strided and negative-stride inputs; masks
inside a scan step and among fused elementwise ops; gradients against finite differences of
the compiled function; one DEBUG_MODE run (every rewrite checked).
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.gradient import verify_grad
from aotsym.graph.ops.nonzero import Nonzero
from aotsym.graph.ops.subtensor import AdvancedSubtensor, AdvancedSubtensor1
from aotsym.optimizer.testing import count_ops

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128"]


def _values(dtype, shape, rng):
    """Values of ``dtype`` with many zeros; floats with NaN, -0.0 and inf among them."""
    size = int(np.prod(shape))
    if dtype == "bool":
        return (rng.random(size) < 0.5).reshape(shape)
    raw = rng.integers(-2, 3, size).astype("float64")
    if np.dtype(dtype).kind in "fc":
        special = np.array([np.nan, -0.0, np.inf, -np.inf, 0.0, 0.5])
        pick = rng.random(size) < 0.4
        raw[pick] = special[rng.integers(0, len(special), pick.sum())]
    if np.dtype(dtype).kind == "u":
        raw = np.abs(raw)
    out = raw.astype(dtype)
    if np.dtype(dtype).kind == "c" and size:
        part = out[::3]                   # imaginary parts only (NaN among them)
        part.imag = part.real
        part.real = -0.0
        out.flat[0] = complex(-0.0, 0.0)
    return out.reshape(shape)


def _layouts(value):
    """The value as given, strided, and with negative strides (where it has elements)."""
    out = [value]
    if value.ndim >= 1:
        big = np.repeat(value, 2, axis=-1)
        out.append(big[..., ::2])                         # strided, same values
        out.append(value[::-1])                           # negative stride
    if value.ndim == 3:
        out.append(value[::-1, :, ::-1].transpose(2, 0, 1))
    return out


def _numpy(value):
    nz = np.nonzero(value)
    flat = np.flatnonzero(value)
    return [*nz, np.array(nz).reshape(value.ndim, -1), flat, value.ravel()[flat]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonzero_functions_match_numpy_on_every_dtype_and_layout(dtype):
    rng = np.random.default_rng(DTYPES.index(dtype))
    for ndim, shapes in ((1, [(7,), (0,), (1,)]), (3, [(2, 3, 4), (2, 0, 3), (1, 1, 1)])):
        x = T.tensor(dtype, (False,) * ndim, name="x")
        outs = [*T.nonzero(x), T.nonzero(x, return_matrix=True), T.flatnonzero(x),
                T.nonzero_values(x)]
        f = aotsym.function([x], outs, name=f"nonzero_{dtype}_{ndim}d")
        for shape in shapes:
            for value in _layouts(_values(dtype, shape, rng)):
                got = f(value)
                want = _numpy(value)
                ref = evaluate(outs, {x: value})
                for g, w, r in zip(got, want, ref):
                    assert g.dtype == w.dtype and g.shape == w.shape
                    np.testing.assert_array_equal(g, w)
                    np.testing.assert_array_equal(r, w)


@pytest.mark.parametrize("dtype", ["bool", "int32", "float64", "complex64"])
def test_flatnonzero_and_nonzero_values_of_a_0d_tensor(dtype):
    x = T.tensor(dtype, (), name="x")
    f = aotsym.function([x], [T.flatnonzero(x), T.nonzero_values(x)])
    for v in ([0, 1] if dtype != "float64" else [0.0, -0.0, np.nan, 2.5]):
        value = np.asarray(v, dtype=dtype)
        got = f(value)
        np.testing.assert_array_equal(got[0], np.flatnonzero(value))
        np.testing.assert_array_equal(got[1], value.ravel()[np.flatnonzero(value)])


def test_nonzero_of_a_0d_tensor_is_refused_as_numpy_2():
    with pytest.raises(ValueError, match="0-d"):
        T.nonzero(T.scalar("s"))


def test_tensor_method_and_namespace():
    x = T.matrix("x")
    rows, cols = x.nonzero()
    value = np.array([[0.0, 1.0], [np.nan, -0.0]])
    got = aotsym.function([x], [rows, cols])(value)
    np.testing.assert_array_equal(got, np.nonzero(value))
    for name in ("nonzero", "flatnonzero", "nonzero_values"):
        assert name in dir(T)


def test_the_indices_have_no_gradient():
    x = T.vector("x")
    cost = T.cast(T.flatnonzero(x), "float64").sum() + x.sum()
    g = aotsym.function([x], aotsym.grad(cost, x))
    np.testing.assert_array_equal(g(np.array([0.0, 2.0, 3.0])), np.ones(3))


# ---------------------------------------------------------------------------- masks


def test_a_mask_is_advanced_indexing_by_one_checked_nonzero():
    x, v, m = T.tensor3("x"), T.vector("v"), T.matrix("m", dtype="bool")
    picked = x[m]
    assert isinstance(picked.owner.op, AdvancedSubtensor)
    assert count_ops(picked, Nonzero) == 1
    assert count_ops(picked, "Nonzero{mask at axis 0}") == 1
    assert isinstance(v[v > 0].owner.op, AdvancedSubtensor1)
    assert count_ops(x[:, m[0]], "Nonzero{mask at axis 1}") == 1


def _mask_cases(rng):
    x = rng.standard_normal((3, 4, 5))
    x.flat[::7] = 0.0
    x.flat[3] = np.nan
    x.flat[5] = -0.0
    full = x > 0
    return x, [full, full[:, :, 0], full[:, 0, 0], np.ones((3, 4), bool),
               np.zeros((3,), bool)]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "uint8", "bool",
                                   "complex128"])
def test_mask_reads_writes_and_increments_match_numpy(dtype):
    rng = np.random.default_rng(3)
    base, masks = _mask_cases(rng)
    kind = np.dtype(dtype).kind
    value = base > 0.3 if kind == "b" else (
        base.astype(dtype) if kind in "fc" else np.nan_to_num(base * 3).astype(dtype))
    x = T.tensor(dtype, (False,) * 3, name="x")
    fns = {}
    for mask in masks:
        m = T.tensor("bool", (False,) * mask.ndim, name="m")
        if mask.ndim not in fns:
            one = T.constant(np.ones((), dtype))
            fns[mask.ndim] = aotsym.function(
                [x, m], [x[m], T.set_subtensor(x[m], one), T.inc_subtensor(x[m], one)],
                name=f"mask{mask.ndim}d")
        f = fns[mask.ndim]
        for xv in (value, value[::-1, :, ::-1], np.repeat(value, 2, axis=1)[:, ::2]):
            for mv in (mask, mask[::-1]):
                got = f(xv, mv)
                set_ = xv.copy()
                set_[mv] = 1
                inc = xv.copy()
                with np.errstate(all="ignore"):
                    inc[mv] += np.ones((), dtype)
                np.testing.assert_array_equal(got[0], xv[mv])
                np.testing.assert_array_equal(got[1], set_)
                np.testing.assert_array_equal(got[2], inc)
                assert not np.shares_memory(got[1], xv)


def test_a_mask_after_slices_and_with_integer_indices():
    rng = np.random.default_rng(4)
    xv = rng.standard_normal((3, 4, 5))
    mv = rng.random((4, 5)) < 0.5
    x, m, i = T.tensor3("x"), T.matrix("m", dtype="bool"), T.lscalar("i")
    y = T.vector("y")
    outs = [x[:, m], x[1, :, m[0]], x[..., m[1]], x[i, m], T.set_subtensor(x[:, m], y),
            T.inc_subtensor(x[i, m], 2.0)]
    f = aotsym.function([x, m, i, y], outs)
    yv = np.arange(mv.sum(), dtype=float)
    got = f(xv, mv, 2, yv)
    a = xv.copy()
    a[:, mv] = yv
    b = xv.copy()
    b[2, mv] += 2.0
    want = [xv[:, mv], xv[1, :, mv[0]], xv[..., mv[1]], xv[2, mv], a, b]
    for g, w in zip(got, want):   # (compiled: exp within an ulp of NumPy's)
        np.testing.assert_allclose(g, w, rtol=1e-15, atol=0)


def test_constant_masks_all_true_all_false_and_empty():
    x = T.matrix("x")
    xv = np.array([[1.0, np.nan], [-0.0, 4.0]])
    outs = [x[np.array([True, False])], x[[False, True]], x[np.ones((2, 2), bool)],
            x[np.zeros((2, 2), bool)], x[True], x[False], x[T.neq(x, x)]]
    got = aotsym.function([x], outs)(xv)
    want = [xv[[True, False]], xv[[False, True]], xv[np.ones((2, 2), bool)],
            xv[np.zeros((2, 2), bool)], xv[True], xv[False], xv[xv != xv]]
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    e = np.zeros((0, 3))
    f = aotsym.function([x], [x[x > 0], T.set_subtensor(x[x > 0], 1.0)])
    got = f(e)
    assert got[0].shape == (0,) and got[1].shape == (0, 3)


def test_reading_through_a_0d_bool_mask():
    x, s = T.matrix("x"), T.scalar("s", dtype="bool")
    f = aotsym.function([x, s], x[s])
    xv = np.arange(6.0).reshape(2, 3)
    for sv in (True, False):
        np.testing.assert_array_equal(f(xv, np.bool_(sv)), xv[np.bool_(sv)])


def test_a_mask_of_the_wrong_shape_is_an_index_error_naming_the_function():
    x, m = T.tensor3("x"), T.matrix("m", dtype="bool")
    f = aotsym.function([x, m], x[m] * 2, name="pick")
    xv = np.zeros((3, 4, 5))
    for bad in (np.ones((3, 5), bool), np.ones((2, 4), bool), np.ones((4, 4), bool)):
        with pytest.raises(IndexError) as compiled:
            f(xv, bad)
        with pytest.raises(IndexError) as numpy_error:
            xv[bad]
        assert "boolean index did not match" in str(compiled.value)
        assert str(numpy_error.value) in str(compiled.value)
        assert "pick" in str(compiled.value)
    with pytest.raises(IndexError, match="boolean index did not match"):
        aotsym.function([x, m], x[m], mode="FAST_COMPILE")(xv, np.ones((3, 5), bool))
    with pytest.raises(IndexError, match="too many indices"):
        x[:, :, m]


def test_masks_among_fused_elementwise_ops():
    x, y = T.matrix("x"), T.matrix("y")
    mask = (x * 2 > y) & ~T.isnan(x)
    picked = x[mask]
    out = [T.exp(picked) * 2 + 1, (picked ** 2).sum() + (x * y).sum(),
           T.set_subtensor(x[mask], (y[mask] * 3 + 1)) - y]
    f = aotsym.function([x, y], out)
    rng = np.random.default_rng(5)
    xv, yv = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    xv[0, 0] = np.nan
    got = f(xv, yv)
    mv = (xv * 2 > yv) & ~np.isnan(xv)
    a = xv.copy()
    a[mv] = yv[mv] * 3 + 1
    want = [np.exp(xv[mv]) * 2 + 1, (xv[mv] ** 2).sum() + (xv * yv).sum(), a - yv]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13)
    for g, w in zip(got, evaluate(out, {x: xv, y: yv})):
        np.testing.assert_allclose(g, w, rtol=1e-13)


def test_a_mask_inside_a_scan_step():
    xs, t = T.matrix("xs"), T.scalar("t")

    def step(row, acc):
        kept = row[row > t]
        return acc + kept.sum() + T.cast(kept.shape[0], "float64"), \
            T.set_subtensor(row[row > t], -1.0)

    (acc, rows), _ = aotsym.scan(step, sequences=xs, outputs_info=[T.constant(0.0), None])
    f = aotsym.function([xs, t], [acc[-1], rows])
    rng = np.random.default_rng(6)
    xv = rng.standard_normal((8, 5))
    got = f(xv, 0.25)
    total, want_rows = 0.0, xv.copy()
    for r in range(8):
        kept = xv[r][xv[r] > 0.25]
        total += kept.sum() + len(kept)
        want_rows[r][xv[r] > 0.25] = -1.0
    np.testing.assert_allclose(got[0], total, rtol=1e-13)
    np.testing.assert_array_equal(got[1], want_rows)


# ---------------------------------------------------------------------------- gradients


def _finite_differences(f, xv, eps=1e-6):
    g = np.zeros_like(xv)
    for idx in np.ndindex(*xv.shape):
        plus, minus = xv.copy(), xv.copy()
        plus[idx] += eps
        minus[idx] -= eps
        g[idx] = (f(plus) - f(minus)) / (2 * eps)
    return g


def test_gradients_through_masks_by_finite_differences():
    x = T.tensor3("x")
    rng = np.random.default_rng(7)
    xv = rng.standard_normal((2, 3, 4))
    xv[np.abs(xv) < 0.05] = 0.5    # no element within eps of the mask's threshold
    mv = rng.random((2, 3)) < 0.5
    costs = [lambda x: (T.sin(x[x > 0]) * x[x > 0]).sum(),
             lambda x: (x[mv] ** 2).sum() + T.nonzero_values(x).sum() * 3,
             lambda x: (T.set_subtensor(x[x < 0], x[x < 0] ** 2) * x).sum(),
             lambda x: (T.inc_subtensor(x[:, mv[0]], 1.5) ** 3).sum()]
    for cost in costs:
        c = cost(x)
        f = aotsym.function([x], c)
        g = aotsym.function([x], aotsym.grad(c, x))
        np.testing.assert_allclose(g(xv), _finite_differences(f, xv), rtol=1e-6, atol=1e-6)
    verify_grad(lambda a: a[a > 0] * 2, [xv], rng=rng, n_tests=1)


def test_gradient_with_respect_to_the_written_value():
    x, v = T.matrix("x"), T.vector("v")
    cost = (T.set_subtensor(x[x > 0], v) ** 2).sum()
    g = aotsym.function([x, v], aotsym.grad(cost, v))
    xv = np.array([[1.0, -1.0], [2.0, 0.0]])
    np.testing.assert_allclose(g(xv, np.array([3.0, 5.0])), [6.0, 10.0])


# ---------------------------------------------------------------------------- DEBUG_MODE


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
def test_debug_mode_checks_every_rewrite_on_masks_and_nonzero():
    x, m = T.matrix("x"), T.matrix("m", dtype="bool")
    out = [T.exp(x[m]) + 1, T.set_subtensor(x[x > 0], 0.0) * 2, T.nonzero_values(x * 2),
           T.flatnonzero(x), aotsym.grad((x[m] ** 2).sum(), x)]
    f = aotsym.function([x, m], out, mode="DEBUG_MODE")
    xv = np.array([[1.0, np.nan, -0.0], [0.0, -2.0, np.inf]])
    mv = np.array([[True, False, True], [False, True, True]])
    got = f(xv, mv)
    a = xv.copy()
    a[xv > 0] = 0.0
    want = [np.exp(xv[mv]) + 1, a * 2, (xv * 2).ravel()[np.flatnonzero(xv * 2)],
            np.flatnonzero(xv), np.where(mv, 2 * xv, 0.0)]
    for g, w in zip(got, want):   # (compiled: exp within an ulp of NumPy's)
        np.testing.assert_allclose(g, w, rtol=1e-15, atol=0)


def test_writing_through_a_0d_mask_is_refused():
    x, s = T.matrix("x"), T.scalar("s", dtype="bool")
    for b in (s, True):
        with pytest.raises(TypeError, match="0-d boolean index"):
            T.set_subtensor(x[b], 0.0)
        with pytest.raises(TypeError, match="0-d boolean index"):
            T.inc_subtensor(x[b], 1.0)
