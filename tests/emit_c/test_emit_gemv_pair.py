"""FusedGemvPair in C (aotsym/emit_c/gemv_pair.py): the compiled node against the reference
evaluator of the graph before the rewrite — float32 and float64, strided, transposed and
negative-stride X, NaN, inf, empty — and the seed's training step against NumPy's."""

import numpy as np
import pytest

import aotsym.emit_c.gemv_pair  # noqa: F401  (the family's lowering, registered on import)
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.gradient import grad
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.gemv_pair import FusedGemvPair

from emit_helpers import Case, build
from tests.optimizer.test_gemv_pair import fused, seed_graph, seed_values


def fused_case(name, inputs, outputs):
    """(the Case of the graph after the rewrite, the graph before it)."""
    before, after, fired = fused(inputs, outputs)
    assert fired == 1, name
    assert any(isinstance(n.op, FusedGemvPair) for n in after.toposort())
    return Case(name, after.inputs, after.outputs), before


def check(entry, before, values, rtol=1e-10, atol=1e-12):
    """The compiled values against the reference's of the unfused graph."""
    got = entry(*values)
    with np.errstate(all="ignore"):
        ref = evaluate(list(before.outputs), dict(zip(before.inputs, values)))
    assert len(got) == len(ref)
    for k, (g, r) in enumerate(zip(got, ref)):
        assert g.dtype == r.dtype and g.shape == r.shape, (k, g.dtype, r.dtype, g.shape)
        if g.dtype.kind == "f":
            tol = max(rtol, 2e-5) if g.dtype == np.float32 else rtol
            np.testing.assert_allclose(g, r, rtol=tol, atol=max(atol, tol), equal_nan=True,
                                       err_msg=f"output {k}")
        else:
            np.testing.assert_array_equal(g, r, err_msg=f"output {k}")
    return got


def _variants():
    cases = {}
    for dtype in ("float64", "float32"):
        cases[f"seed_{dtype}"] = fused_case(f"seed_{dtype}", *seed_graph(dtype))
    cases["nobias"] = fused_case("nobias", *seed_graph(bias=False))
    a, v, y = T.matrix("a"), T.vector("v"), T.vector("y")
    cases["transposed"] = fused_case(                  # X = a.T, d @ X
        "transposed", [a, v, y], [T.dot(T.tanh(T.dot(a.T, v)) - y, a.T)])
    x, v, lr = T.matrix("x"), T.vector("v"), T.scalar("lr")
    z = T.dot(x, v)
    d = T.exp(z) * 3
    cases["readers"] = fused_case(                     # z and d read elsewhere, a symbolic scale
        "readers", [x, v, lr], [v - lr * T.dot(x.T, d), z, T.sum(d * z)])
    x, v = T.matrix("x", dtype="float32"), T.vector("v", dtype="float32")
    n, e = T.vector("n", dtype="int64"), T.scalar("e", dtype="int64")
    d = T.cast(T.dot(x, v) * n ** e, "float32")        # integers in the chain, a power
    cases["mixed"] = fused_case("mixed", [x, v, n, e], [T.dot(x.T, d)])
    # the node itself, alpha1 symbolic, z kept
    x, v, a1 = T.matrix("x"), T.vector("v"), T.scalar("a1")
    tanh = Composite([("tanh", None, (("in", 0),))], 1, [("step", 0)])
    g, z = FusedGemvPair(tanh, 0, 0, (), store_z=True)(x, v, a1)
    cases["direct"] = (Case("direct", [x, v, a1], [g, z]), FunctionGraph([x, v, a1], [g, z]))
    return cases


@pytest.fixture(scope="module")
def built():
    cases = _variants()
    entries = build([c for c, _ in cases.values()])
    return {name: (entries[name], before) for name, (_, before) in cases.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_seed_step_matches_the_reference(built, dtype):
    entry, before = built[f"seed_{dtype}"]
    for m, n in ((40, 30), (3, 7), (401, 33), (1, 1)):   # full blocks, a short one, one row
        check(entry, before, seed_values(m, n, dtype))


def test_without_bias(built):
    entry, before = built["nobias"]
    check(entry, before, seed_values(21, 13)[:3])


def test_strided_transposed_and_reversed_x(built):
    entry, before = built["seed_float64"]
    x, y, w, b = seed_values(24, 10)
    big = np.random.default_rng(5).standard_normal((48, 20))
    check(entry, before, [big[::2, ::2], y, w, b])          # no unit stride at all: copied
    check(entry, before, [np.asfortranarray(x), y, w, b])   # columns contiguous: copied
    check(entry, before, [x[::-1], y[::-1], w[::-1], b])    # negative strides
    check(entry, before, [big[:24, 5:15], y, w, b])          # rows of a wider matrix
    t_entry, t_before = built["transposed"]
    rng = np.random.default_rng(6)
    a = rng.standard_normal((9, 14))
    check(t_entry, t_before, [a, rng.standard_normal(9), rng.standard_normal(14)])
    check(t_entry, t_before, [np.ascontiguousarray(a.T).T, rng.standard_normal(9),
                              rng.standard_normal(14)])


def test_nan_and_inf_propagate_as_in_the_two_products(built):
    entry, before = built["seed_float64"]
    x, y, w, b = seed_values(16, 9)
    x[2, 3], x[7, 0] = np.nan, np.inf
    w[5] = -np.inf
    got = check(entry, before, [x, y, w, b])
    assert np.isnan(got[2]).any()
    x, y, w, b = seed_values(16, 9)
    got = check(entry, before, [x, y, w, np.asarray(np.nan)])
    assert np.isnan(got[2]).all()


def test_empty_inputs(built):
    entry, before = built["seed_float64"]
    for m, n in ((0, 6), (6, 0), (0, 0)):
        check(entry, before, seed_values(m, n))


def test_other_readers_and_a_symbolic_scale(built):
    entry, before = built["readers"]
    rng = np.random.default_rng(7)
    for m, n in ((13, 6), (0, 6), (5, 0)):
        check(entry, before, [rng.standard_normal((m, n)), rng.standard_normal(n),
                              np.asarray(0.25)])


def test_integers_in_the_chain(built):
    entry, before = built["mixed"]
    rng = np.random.default_rng(8)
    values = [rng.standard_normal((10, 7)).astype("float32"),
              rng.standard_normal(7).astype("float32"), rng.integers(-3, 4, 10), np.asarray(2)]
    check(entry, before, values)
    values[3] = np.asarray(-1)                # an integer to a negative power: an error
    with pytest.raises(ValueError):
        evaluate(list(before.outputs), dict(zip(before.inputs, values)))
    with pytest.raises(ValueError):
        entry(*values)


def test_the_node_itself_with_a_symbolic_scale(built):
    entry, before = built["direct"]
    rng = np.random.default_rng(9)
    x, v = rng.standard_normal((11, 6)), rng.standard_normal(6)
    check(entry, before, [x, v, np.asarray(0.5)])
    check(entry, before, [x, v, np.asarray(np.inf)])
    got = check(entry, before, [x[:0], v, np.asarray(-1.0)])
    assert (got[0] == 0).all() and not np.signbit(got[0]).any()  # sums of nothing: +0.0


def test_shape_errors_name_the_product(built):
    entry, before = built["seed_float64"]
    x, y, w, b = seed_values(8, 5)
    with pytest.raises(ValueError, match="do not match"):
        entry(x, y, w[:4], b)
    with pytest.raises(ValueError, match="do not match"):
        entry(x, y[:3], w, b)


def test_large_enough_to_split_over_threads(built):
    """400 x 784 (the seed's size) may run split over the threads; the runtime times both
    ways in turn on the first calls (aot_adapt): each call agrees with the reference."""
    entry, before = built["seed_float64"]
    values = seed_values(400, 784)
    for _ in range(4):
        check(entry, before, values)


def test_the_fused_gradient_matches_finite_differences():
    """The cost's gradient w.r.t. w, whose X.T @ d is fused with X @ w, against central
    differences of the cost computed by the same module."""
    x, y, w, b = T.matrix("x"), T.vector("y"), T.vector("w"), T.scalar("b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    (gw,) = grad(cost, [w])
    case, before = fused_case("grad", [x, y, w, b], [gw])
    entries = build([case, Case("cost", [x, y, w, b], [cost])])
    values = seed_values(50, 12)
    (got,) = check(entries["grad"], before, values)
    eps, fd = 1e-6, []
    for k in range(12):
        hi, lo = values[2].copy(), values[2].copy()
        hi[k] += eps
        lo[k] -= eps
        (c_hi,), (c_lo,) = (entries["cost"](values[0], values[1], u, values[3])
                            for u in (hi, lo))
        fd.append((c_hi - c_lo) / (2 * eps))
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-8)


def numpy_step(x, y, w, b):
    """The seed's step with a hand-written gradient (benchmarks/workloads/w2_logreg.py)."""
    p_1 = 1 / (1 + np.exp(-(x @ w) - b))
    xent = -y * np.log(p_1) - (1 - y) * np.log(1 - p_1)
    g = (p_1 - y) / x.shape[0]
    return p_1 > 0.5, xent, w - 0.1 * (x.T @ g + 0.02 * w), b - 0.1 * g.sum()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_step_at_full_optimization_matches_numpy(dtype):
    """At the default flags (the vectorized loops), the seed's size: 400 x 784."""
    case, _ = fused_case("step", *seed_graph(dtype))
    entry = build([case], cflags=None)["step"]
    x, y, w, b = seed_values(400, 784, dtype)
    w *= 0.1                                  # the seed's scale: nothing saturates
    ref = numpy_step(x, y, w, b)
    for _ in range(3):                        # one call, then the split over threads
        got = entry(x, y, w, b)
        rtol = 1e-4 if dtype == "float32" else 1e-10
        np.testing.assert_array_equal(got[0], ref[0])
        for g, r in zip(got[1:], ref[1:]):
            np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol * 1e-2)


def test_repeated_calls_give_the_same_bits_split_or_not(built):
    """Whether a call is split over the threads (aot_adapt times both ways on the first calls)
    changes nothing in the result: the rows are summed in the same parts either way."""
    entry, _ = built["seed_float64"]
    values = seed_values(400, 784)
    first = entry(*values)
    for _ in range(5):
        for a, b in zip(first, entry(*values)):
            np.testing.assert_array_equal(a, b)
