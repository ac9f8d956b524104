"""Reductions over any axes (keepdims too), fused reductions and argmax/argmin, compiled and
compared with the reference evaluator."""

import itertools

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym import tensor as T
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.graph.types import TensorType

KINDS = ("sum", "prod", "max", "min", "all", "any")
DTYPES = ("float64", "float32", "int32", "uint8", "bool")
AXES3 = [None, 0, 1, 2, (0, 1), (0, 2), (1, 2), (-1,)]


def _cases():
    cases = []
    for dt in DTYPES:
        x = TensorType(dt, (False, False, False))("x")
        outs = []
        for kind, axis in itertools.product(KINDS, AXES3):
            outs.append(getattr(T, kind)(x, axis=axis))
        outs.append(T.sum(x, axis=1, keepdims=True))
        outs.append(T.max(x, axis=(0, 2), keepdims=True))
        cases.append(Case(f"reduce_{dt}", [x], outs))
        if dt in ("float64", "float32"):
            cases.append(Case(f"stats_{dt}", [x], [T.mean(x, axis=0), T.var(x, axis=(1, 2)),
                                                   T.std(x), x.mean(keepdims=True)]))
    for dt in ("float64", "float32", "int16", "uint8", "bool"):
        x = TensorType(dt, (False, False))("x")
        cases.append(Case(f"arg_{dt}", [x], [T.argmax(x), T.argmin(x), T.argmax(x, axis=0),
                                             T.argmin(x, axis=1), T.argmax(x, keepdims=True)]))
    # FusedReduce: the elementwise program evaluated in the reduction's loop
    a, b = T.matrix("a"), T.row("b")
    comp = Composite([("mul", None, [("in", 0), ("in", 1)]), ("exp", None, [("step", 0)])],
                     2, [("step", 1)])
    fused = [FusedReduce("sum", (0,), comp)(a, b), FusedReduce("max", (1,), comp)(a, b),
             FusedReduce("sum", (0, 1), comp)(a, b)]
    cases.append(Case("fused", [a, b], fused))
    f32 = T.fmatrix("f")
    comp32 = Composite([("sqr", None, [("in", 0)])], 1, [("step", 0)])
    cases.append(Case("fused_f32", [f32], [FusedReduce("sum", (0, 1), comp32)(f32)]))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def entries():
    return build(CASES, cflags="-O1")


def _value(var, shape, rng):
    dt = var.dtype
    if dt == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if np.dtype(dt).kind in "iu":
        return rng.integers(0, 4, shape).astype(dt)
    return (rng.standard_normal(shape) * 0.7 + 1).astype(dt)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "reversed"])
def test_reductions_match_reference(entries, case, layout):
    rng = np.random.default_rng(3)
    values = []
    for var in case.inputs:
        shape = tuple(1 if b else n for b, n in zip(var.broadcastable, (5, 3, 4)))
        base = _value(var, tuple(2 * n for n in shape), rng)
        base = base[tuple(slice(0, n) for n in shape)] if layout != "strided" else \
            base[tuple(slice(None, None, 2) for _ in shape)]
        if layout == "transposed" and var.ndim > 1 and not any(var.broadcastable):
            base = np.ascontiguousarray(np.swapaxes(base, 0, -1)).swapaxes(0, -1)
        if layout == "reversed":
            base = np.ascontiguousarray(base)[tuple(slice(None, None, -1) for _ in shape)]
        values.append(base)
    assert_matches(case, entries[case.name], values, rtol=1e-5)


def test_float32_sum_accumulates_in_double(entries):
    case = next(c for c in CASES if c.name == "reduce_float32")
    x = np.full((1000, 1000, 3), 0.1, dtype="float32")
    total = entries[case.name](x)[0]  # sum over all axes
    assert abs(float(total) - 3_000_000 * np.float64(np.float32(0.1))) < 0.05


def test_nan_propagates_through_max_and_argmax(entries):
    x = np.ones((5, 3, 4))
    x[2, 1, 3] = np.nan
    got = entries["reduce_float64"](x)
    assert np.isnan(got[KINDS.index("max") * len(AXES3)])  # max over all axes
    arg = entries["arg_float64"](np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan]]))
    assert arg[0] == 1 and list(arg[3]) == [1, 0]


def test_empty_max_raises_and_empty_sum_is_zero(entries):
    x = np.zeros((0, 3, 4))
    with pytest.raises(ValueError, match="zero-size array to a max reduction"):
        entries["reduce_float64"](x)
    with pytest.raises(ValueError, match="argmax of an empty sequence"):
        entries["arg_float64"](np.zeros((0, 2)))


# A full reduction (every dimension reduced) of 200k elements and more is split over the
# threads, one accumulator per chunk, the partials combined in chunk order.
@pytest.mark.parametrize("layout", ["c", "strided", "reversed", "fortran"])
def test_large_full_reductions_split_over_threads_match_numpy(layout):
    import aotsym
    from aotsym import tensor as T
    x, n = T.matrix("x"), T.lmatrix("n")
    f = aotsym.function([x, n], [x.sum(), x.max(), x.min(), x.mean(), (x * x).sum(),
                                 (1 + (x - 1) * 1e-3).prod(), (x > 0.5).any(), (x > -1).all(),
                                 n.sum(), n.max(),
                                 T.cast(x, "float32").sum()])
    rng = np.random.default_rng(3)
    base = rng.uniform(0.9, 1.1, (1200, 900))
    ints = rng.integers(-1000, 1000, (1200, 900))
    if layout == "strided":
        base, ints = np.repeat(base, 2, axis=1)[:, ::2], np.repeat(ints, 2, axis=1)[:, ::2]
    elif layout == "reversed":
        base, ints = base[::-1, ::-1], ints[::-1, ::-1]
    elif layout == "fortran":
        base, ints = np.asfortranarray(base), np.asfortranarray(ints)
    want = [base.sum(), base.max(), base.min(), base.mean(), (base * base).sum(),
            (1 + (base - 1) * 1e-3).prod(),
            (base > 0.5).any(), (base > -1).all(), ints.sum(), ints.max(),
            base.astype("float32").sum(dtype="float64")]
    got = f(base, ints)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-6 if k == 10 else 1e-12, err_msg=str(k))
    for special in (np.nan, np.inf, -np.inf):
        b = base.copy()
        b[700, 13] = special
        s, mx, mn = f(b, ints)[:3]
        np.testing.assert_array_equal([s, mx, mn], [b.sum(), b.max(), b.min()])


def test_argmax_over_a_nonempty_axis_of_an_array_empty_elsewhere_is_empty():
    """NumPy: argmax(zeros((0, 4)), axis=1) is an empty int64 vector; only an empty reduced
    axis (or an empty array with axis=None) has no answer."""
    import aotsym
    from aotsym import tensor as T
    x = T.dmatrix("x")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = aotsym.function([x], T.argmax(x, axis=1), mode=mode)
        a = f(np.zeros((0, 4)))
        assert a.shape == (0,) and a.dtype == np.int64
        with pytest.raises(ValueError, match="empty"):   # axis 1 of (3, 0): empty
            f(np.zeros((3, 0)))
        g = aotsym.function([x], T.argmax(x, axis=0), mode=mode)
        np.testing.assert_array_equal(g(np.zeros((3, 0))), np.zeros(0, np.int64))
        with pytest.raises(ValueError, match="empty"):
            g(np.zeros((0, 3)))
