"""Gemm / Gemv / Ger with a zero scale and hostile operands, compiled against the reference.

BLAS reads neither operand when ``alpha == 0`` (the runtime skips the product too), while the
op means NumPy's ``alpha * dot(a, b) + beta * z``: NaN wherever the product is NaN or
infinite.  The emitter runs a plain loop when alpha is 0 at run time
(:func:`aotsym.emit_c.blas._guarded`).  NaN, inf and -0 are put in every operand, alpha and
beta are run-time values (0, -0 and others) and literals, in float32 and float64, for new
buffers, in-place calls and state writes (the two-half commit)."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import Constant
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger
from aotsym.graph.types import TensorType

# the reference evaluator computes 0 * inf as NumPy does, warning as NumPy does: expected here
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def _const(value, dtype):
    return Constant(TensorType(dtype, ()), np.asarray(value, dtype))


def _cases(dtype):
    A, B, Z = (T.matrix(n, dtype=dtype) for n in ("A", "B", "Z"))
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    al, be = T.scalar("al", dtype=dtype), T.scalar("be", dtype=dtype)
    zero = _const(0, dtype)
    return [
        Case(f"gemm_{dtype}", [Z, A, B, al, be],
             [Gemm()(Z, al, A, B, be), Gemm()(Z, zero, A, B, be),
              Gemm(inplace=True)(Z * 1, al, A, B, be)]),
        Case(f"gemv_{dtype}", [y, A, x, al, be],
             [Gemv()(y, al, A, x, be), Gemv()(y, zero, A, x, be), Gemv()(x, al, A.T, y, be),
              Gemv(inplace=True)(y * 1, al, A, x, be)]),
        Case(f"ger_{dtype}", [A, x, y, al],
             [Ger()(A, al, x, y), Ger()(A, zero, x, y), Ger(inplace=True)(A * 1, al, x, y)]),
    ]


CASES = _cases("float64") + _cases("float32")


@pytest.fixture(scope="module")
def entries():
    return build(CASES)


def _hostile(shape, dtype, rng, where):
    """Random values with NaN, +inf, -inf and -0 at some places of the operand ``where``
    says (a different pattern per operand)."""
    a = rng.standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    specials = [np.nan, np.inf, -np.inf, -0.0]
    for k, s in enumerate(specials):
        if (where + k) % 2 == 0 and flat.size > k:
            flat[(3 * k + where) % flat.size] = s
    return a


SCALES = [(op, alpha, beta) for op in ("gemm", "gemv", "ger") for alpha in (0.0, -0.0, 1.5)
          for beta in ((0.0, -0.0, 1.0, 0.5) if op != "ger" else (1.0,))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("op, alpha, beta", SCALES)
@pytest.mark.parametrize("hostile", ["a", "b", "z", "none"])
def test_zero_scales_give_the_references_answer(entries, dtype, op, alpha, beta, hostile):
    case = next(c for c in CASES if c.name == f"{op}_{dtype}")
    rng = np.random.default_rng(abs(hash((op, alpha, beta, hostile))) % 2**32)
    m, k, n = 4, 3, 5
    shapes = {"gemm": [(m, n), (m, k), (k, n)], "gemv": [(m,), (m, k), (k,)],
              "ger": [(m, n), (m,), (n,)]}[op]
    names = ["z", "a", "b"]
    values = [_hostile(s, dtype, rng, names.index(nm) + 1) if nm == hostile
              else rng.standard_normal(s).astype(dtype) for s, nm in zip(shapes, names)]
    if op == "gemv":  # y, A, x
        args = values + [np.array(alpha, dtype), np.array(beta, dtype)]
    elif op == "gemm":  # Z, A, B
        args = values + [np.array(alpha, dtype), np.array(beta, dtype)]
    else:  # A, x, y
        args = values + [np.array(alpha, dtype)]
    keep = [np.array(v) for v in args]
    got = assert_matches(case, entries[case.name], args, rtol=1e-5)
    for v, old in zip(args, keep):                      # inputs untouched
        np.testing.assert_array_equal(v, old)
    if alpha == 0 and hostile in ("a", "b"):
        assert np.isnan(got[0]).any()                   # 0 * (NaN or inf) is NaN


def test_strided_and_reversed_operands_on_the_alpha_zero_path(entries):
    case = next(c for c in CASES if c.name == "gemv_float64")
    rng = np.random.default_rng(7)
    a = rng.standard_normal((6, 8))
    a[1, 2] = np.inf
    x, y = rng.standard_normal(8), rng.standard_normal(6)
    y[3] = np.nan
    for av, xv, yv in [(a[::2, ::-1], x[::-1], y[::-2]), (np.asfortranarray(a), x[::-1], y)]:
        for beta in (0.0, 2.0):
            assert_matches(case, entries[case.name],
                           [np.asarray(yv), av, np.asarray(xv), np.array(0.0),
                            np.array(beta)], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_state_update_with_a_zero_learning_rate_keeps_nan(dtype):
    """``w - lr * dot(X, d)`` is a Gemv state write (the two-half commit): with lr 0 and a
    NaN in X the new w holds NaN where NumPy's does."""
    rng = np.random.default_rng(0)
    w = aotsym.shared(rng.standard_normal(4).astype(dtype), name="w")
    X, d = T.matrix("X", dtype=dtype), T.vector("d", dtype=dtype)
    lr = T.scalar("lr", dtype=dtype)
    f = aotsym.function([X, d, lr], [], updates={w: w - lr * T.dot(X, d)})
    assert any(type(n.op).__name__ == "Gemv" for n in f.maker.fgraph.toposort())
    Xv = rng.standard_normal((4, 3)).astype(dtype)
    Xv[2, 1] = np.nan
    dv = rng.standard_normal(3).astype(dtype)
    for lrv in (0.0, 0.5):
        w0 = w.get_value()
        f(Xv, dv, np.array(lrv, dtype))
        with np.errstate(all="ignore"):
            want = (w0 - np.asarray(lrv, dtype) * (Xv @ dv)).astype(dtype)
        np.testing.assert_allclose(w.get_value(), want, rtol=1e-5, equal_nan=True)
        w.set_value(rng.standard_normal(4).astype(dtype))
