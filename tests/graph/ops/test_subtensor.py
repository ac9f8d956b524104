"""Indexing against NumPy: basic (Subtensor), integer arrays (AdvancedSubtensor1 /
AdvancedSubtensor), set/inc, take; gradients; errors."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1,
                                        AdvancedSubtensor, AdvancedSubtensor1, IncSubtensor,
                                        Subtensor)
from aotsym.gradient import verify_grad


def ev(out, givens):
    return evaluate([out], givens)[0]


X = np.arange(60.0).reshape(3, 4, 5)

BASIC = [
    (1,), (-1,), (0, 2), (-1, -2, -3), (slice(None),), (slice(1, None),),
    (slice(None, None, -1),), (slice(None, None, -2), 1), (slice(2, 0, -1),),
    (slice(-2, None), slice(None, 1, -1)), (slice(None), slice(None, None, 3), 4),
    (Ellipsis, 1), (1, Ellipsis), (Ellipsis,), (None,), (None, 1, None),
    (slice(None), None, slice(1, 3)), (Ellipsis, None), (1, slice(10, 20)),
    (slice(-100, 100, 2),), (0, 0, 0), (-3, slice(None, None, -1), None, -5), (),
]


@pytest.mark.parametrize("index", BASIC, ids=str)
def test_basic_indexing_matches_numpy(index):
    x = T.tensor3()
    out = x[index]
    want = X[index]
    got = ev(out, {x: X})
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    node = out.owner
    while not isinstance(node.op, Subtensor):  # None adds a DimShuffle after the Subtensor
        node = node.inputs[0].owner
    assert node.op.view_map == {0: [0]}


def test_subtensor_output_is_a_view_of_the_input():
    x = T.matrix()
    out = x[1:, ::-1]
    M = np.arange(12.0).reshape(3, 4)
    node = out.owner
    (res,) = node.op.perform(node, [M])
    assert np.shares_memory(res, M)


def test_symbolic_indices_and_slice_bounds():
    x = T.tensor3()
    i, j, k = T.lscalar(), T.iscalar(), T.bscalar()
    cases = [
        (lambda: x[i], lambda I, J, K: X[I]),
        (lambda: x[i, j], lambda I, J, K: X[I, J]),
        (lambda: x[i:j], lambda I, J, K: X[I:J]),
        (lambda: x[::k], lambda I, J, K: X[::K]),
        (lambda: x[:, j:i:k], lambda I, J, K: X[:, J:I:K]),
        (lambda: x[-i, None, j:], lambda I, J, K: X[-I, None, J:]),
    ]
    for build, want in cases:
        out = build()
        for I, J, K in [(1, 2, 1), (2, 0, -1), (-1, 3, 2), (0, -2, -2)]:
            used = aotsym.graph.basic.graph_inputs([out])
            givens = {v: val for v, val in ((x, X), (i, I), (j, J), (k, K)) if v in used}
            np.testing.assert_array_equal(ev(out, givens), want(I, J, K))
    # an int scalar variable is a symbolic input of the op, not a prop
    assert x[i].owner.op.idx_list == ("?",)
    assert x[1:i:2].owner.op.idx_list == ((1, "?", 2),)


def test_constant_shape_entries_index_statically():
    x, y = T.tensor3(), T.matrix()
    out = x[y.shape[0] - 1]
    np.testing.assert_array_equal(ev(out, {x: X, y: np.zeros((2, 2))}), X[1])


def test_broadcastable_pattern_of_slices():
    r = T.row()
    assert r[0].broadcastable == (False,)
    assert r[:, 1:].broadcastable == (True, False)
    assert r[::-1].broadcastable == (True, False)
    assert r[1:].broadcastable == (False, False)   # length 0
    assert r[-1:].broadcastable == (True, False)
    assert T.matrix()[None, :, 0].broadcastable == (True, False)


def test_basic_indexing_errors():
    x = T.tensor3()
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    with pytest.raises(TypeError, match="must be an integer"):
        x[1.5]
    with pytest.raises(TypeError, match="must be an integer"):
        x[T.scalar()]
    with pytest.raises(TypeError, match="must be an integer"):
        x[:T.scalar()]
    with pytest.raises(IndexError, match="out of bounds"):
        T.row()[1]
    with pytest.raises(IndexError, match=r"Subtensor\{5\}: index 5 is out of bounds"):
        ev(x[5], {x: X})
    k = T.lscalar()
    with pytest.raises(ValueError, match="step cannot be zero"):
        ev(x[::k], {x: X, k: 0})


def test_boolean_masks_index_as_numpy():
    """A mask stands for its nonzero indices (the reference evaluator against NumPy)."""
    x = T.vector()
    X = np.array([1.5, -0.0, np.nan, 2.0])
    for mask in (x > 0, np.array([True, False, True, False]), [True, False, False, True]):
        want = X[np.asarray(ev(mask, {x: X}) if hasattr(mask, "owner") else mask)]
        np.testing.assert_array_equal(ev(x[mask], {x: X}), want)
    np.testing.assert_array_equal(ev(x[True], {x: X}), X[True])
    with pytest.raises(TypeError, match="take: the indices must be integers"):
        T.take(x, x > 0)
    with pytest.raises(IndexError, match="boolean index did not match"):
        ev(x[np.array([True, False])], {x: X})


def test_basic_indexing_gradient():
    rng = np.random.default_rng(0)
    pt = [rng.normal(size=(3, 4, 5))]
    for index in [(1,), (slice(None, None, -1), 2), (slice(1, None, 2), None, -1),
                  (Ellipsis, slice(3, 0, -2))]:
        verify_grad(lambda a: a[index], pt, rng=rng, n_tests=1)
    i, x = T.lscalar(), T.tensor3()
    g = aotsym.grad(x[i, ::-1].sum(), x)
    want = np.zeros((3, 4, 5))
    want[2] = 1
    np.testing.assert_array_equal(ev(g, {x: X, i: 2}), want)


# ---------------------------------------------------------------------------- set / inc


@pytest.mark.parametrize("index", [(1,), (slice(None, None, -1), 2), (Ellipsis, slice(1, 3)),
                                   (slice(None), slice(None), -1), (0, 0, 0)], ids=str)
def test_set_and_inc_subtensor_match_numpy(index):
    rng = np.random.default_rng(1)
    x = T.tensor3()
    region = X[index]
    Y = rng.normal(size=region.shape)
    y = T.tensor("float64", (False,) * Y.ndim)
    want_set, want_inc = X.copy(), X.copy()
    want_set[index] = Y
    want_inc[index] += Y
    out = T.set_subtensor(x[index], y)
    assert isinstance(out.owner.op, IncSubtensor) and out.owner.op.set_instead_of_inc
    np.testing.assert_array_equal(ev(out, {x: X, y: Y}), want_set)
    np.testing.assert_array_equal(ev(T.inc_subtensor(x[index], y), {x: X, y: Y}), want_inc)
    verify_grad(lambda a, b: T.set_subtensor(a[index], b), [X + 0.5, Y], rng=rng, n_tests=1)
    verify_grad(lambda a, b: T.inc_subtensor(a[index], b), [X + 0.5, Y], rng=rng, n_tests=1)


def test_set_subtensor_broadcasts_the_value():
    x = T.matrix()
    M = np.zeros((3, 4))
    np.testing.assert_array_equal(ev(T.set_subtensor(x[1:], 7.0), {x: M})[1:], 7.0)
    v = T.vector()
    got = ev(T.inc_subtensor(x[:, 1:3], v), {x: M, v: [1.0, 2.0]})
    want = M.copy()
    want[:, 1:3] += [1.0, 2.0]
    np.testing.assert_array_equal(got, want)
    c = T.col()
    got = ev(T.set_subtensor(x[::2], c), {x: M, c: [[5.0], [6.0]]})
    want = M.copy()
    want[::2] = [[5.0], [6.0]]
    np.testing.assert_array_equal(got, want)
    # gradient of a broadcast value is summed over the repeated axes
    verify_grad(lambda a, b: T.set_subtensor(a[:, 1:3], b), [np.ones((3, 4)),
                                                            np.array([1.0, 2.0])])
    # the input is not modified
    M2 = np.zeros((3, 4))
    ev(T.set_subtensor(x[0], 1.0), {x: M2})
    assert not M2.any()


def test_set_subtensor_through_none():
    x, y = T.matrix(), T.matrix()
    M = np.zeros((3, 4))
    r = T.row()
    got = ev(T.set_subtensor(x[None, 1], r), {x: M, r: np.ones((1, 4))})
    want = M.copy()
    want[None, 1] = 1.0
    np.testing.assert_array_equal(got, want)
    got = ev(T.inc_subtensor(x[1:, None], 2.0), {x: M})
    want = M.copy()
    want[1:] += 2.0
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="dimension 0 must be broadcastable"):
        T.set_subtensor(x[None, 1], y)


def test_set_subtensor_errors():
    x = T.matrix()
    with pytest.raises(TypeError, match="set_subtensor: the first argument must be an "
                                        "indexing"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match="must be an indexing"):
        T.inc_subtensor(x + 1, 1.0)
    with pytest.raises(ValueError, match="ndim 2, more than the ndim 1"):
        T.set_subtensor(x[0], T.matrix())
    with pytest.raises(TypeError, match="cannot write a float64 value into a int32"):
        T.set_subtensor(T.imatrix()[0], T.vector())
    with pytest.raises(ValueError, match="does not fit the indexed region"):
        ev(T.set_subtensor(x[0], x[:, 0]), {x: np.zeros((2, 3))})
    with pytest.raises(IndexError, match="IncSubtensor"):
        ev(T.inc_subtensor(x[5], 1.0), {x: np.zeros((2, 3))})


def test_integer_tensor_set_subtensor_keeps_dtype():
    x = T.imatrix()
    got = ev(T.set_subtensor(x[0, 1:], 3), {x: np.zeros((2, 3), "int32")})
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [[0, 3, 3], [0, 0, 0]])


# ---------------------------------------------------------------------------- advanced


def test_integer_vector_index_is_advanced_subtensor1():
    rng = np.random.default_rng(2)
    x, iv = T.tensor3(), T.lvector()
    I = np.array([2, 0, 2, -1])
    out = x[iv]
    assert isinstance(out.owner.op, AdvancedSubtensor1)
    np.testing.assert_array_equal(ev(out, {x: X, iv: I}), X[I])
    np.testing.assert_array_equal(ev(x[[0, 2]], {x: X}), X[[0, 2]])
    np.testing.assert_array_equal(ev(x[iv, :], {x: X, iv: I}), X[I, :])
    verify_grad(lambda a: a[I] * 2.0, [rng.normal(size=(3, 4))], rng=rng)  # repeated rows
    with pytest.raises(IndexError, match="AdvancedSubtensor1: index 3 is out of bounds"):
        ev(out, {x: X, iv: np.array([0, 3])})
    with pytest.raises(TypeError, match="integers"):
        x[T.vector()]


def test_set_and_inc_with_an_integer_vector():
    x, iv, y = T.matrix(), T.lvector(), T.matrix()
    M, I, Y = np.zeros((4, 3)), np.array([1, 3, 1]), np.arange(9.0).reshape(3, 3)
    inc = T.inc_subtensor(x[iv], y)
    assert isinstance(inc.owner.op, AdvancedIncSubtensor1)
    want = M.copy()
    np.add.at(want, I, Y)  # repeated indices accumulate
    np.testing.assert_array_equal(ev(inc, {x: M, iv: I, y: Y}), want)
    want = M.copy()
    want[I] = Y
    np.testing.assert_array_equal(ev(T.set_subtensor(x[iv], y), {x: M, iv: I, y: Y}), want)
    r = T.row()
    want = M.copy()
    np.add.at(want, I, np.ones((1, 3)))
    np.testing.assert_array_equal(ev(T.inc_subtensor(x[iv], r), {x: M, iv: I,
                                                                 r: np.ones((1, 3))}), want)
    rng = np.random.default_rng(3)
    verify_grad(lambda a, b: T.inc_subtensor(a[I], b), [rng.normal(size=(4, 3)), Y], rng=rng)
    verify_grad(lambda a, b: T.set_subtensor(a[[0, 2]], b),
                [rng.normal(size=(4, 3)), rng.normal(size=(2, 3))], rng=rng)


def test_pair_form_for_negative_log_likelihood():
    rng = np.random.default_rng(4)
    p, y = T.matrix(), T.lvector()
    P, Y = rng.uniform(0.1, 1, (5, 3)), np.array([0, 2, 1, 1, 0])
    out = p[T.arange(y.shape[0]), y]
    assert isinstance(out.owner.op, AdvancedSubtensor)
    np.testing.assert_array_equal(ev(out, {p: P, y: Y}), P[np.arange(5), Y])
    nll = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    np.testing.assert_allclose(ev(nll, {p: P, y: Y}), -np.mean(np.log(P)[np.arange(5), Y]))
    verify_grad(lambda a: -T.log(a)[T.arange(5), Y], [P], rng=rng)
    inc = T.inc_subtensor(p[T.arange(5), y], 1.0)
    assert isinstance(inc.owner.op, AdvancedIncSubtensor)
    want = P.copy()
    want[np.arange(5), Y] += 1
    np.testing.assert_allclose(ev(inc, {p: P, y: Y}), want)
    want[np.arange(5), Y] = -1
    np.testing.assert_allclose(ev(T.set_subtensor(p[T.arange(5), y], -1.0), {p: P, y: Y}),
                               want)
    verify_grad(lambda a, b: T.set_subtensor(a[T.arange(5), Y], b), [P, rng.normal(size=5)],
                rng=rng)


ADVANCED = [
    (slice(None), [1, 3]), (1, [0, 2], slice(None)), ([0, 2], slice(None), [1, 4]),
    ([[0, 1], [2, 2]],), (slice(1, None), [0, 0], [4, 1]), (Ellipsis, [3, 1]),
    ([0, 2], 1), ([2, 0], [1, 3], [4, 0]), (slice(None, None, -1), [[1], [2]], [0, 3]),
]


@pytest.mark.parametrize("index", ADVANCED, ids=str)
def test_advanced_indexing_matches_numpy(index):
    rng = np.random.default_rng(5)
    x = T.tensor3()
    want = X[index]
    got = ev(x[index], {x: X})
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    verify_grad(lambda a: a[index], [rng.normal(size=X.shape)], rng=rng, n_tests=1)
    Y = rng.normal(size=want.shape)
    want_inc = X.copy()
    np.add.at(want_inc, index, Y)
    y = T.tensor("float64", (False,) * Y.ndim)
    np.testing.assert_allclose(ev(T.inc_subtensor(x[index], y), {x: X, y: Y}), want_inc)


def test_advanced_index_errors():
    x = T.matrix()
    with pytest.raises(IndexError, match="AdvancedSubtensor"):
        ev(x[[0, 1], [0, 5]], {x: np.zeros((2, 3))})
    with pytest.raises(IndexError, match="AdvancedSubtensor"):
        ev(x[[0, 1], [0, 1, 2]], {x: np.zeros((2, 3))})
    with pytest.raises(TypeError, match="newaxis"):   # reading works (NumPy's rule)
        T.set_subtensor(x[None, [0, 1]], 1.0)


def test_take():
    rng = np.random.default_rng(6)
    x, iv = T.tensor3(), T.lvector()
    I = np.array([1, 0, 1])
    for axis in (0, 1, -1, None):
        np.testing.assert_array_equal(ev(T.take(x, iv, axis), {x: X, iv: I}),
                                      np.take(X, I, axis))
    im = T.lmatrix()
    Im = np.array([[0, 1], [2, 2]])
    for axis in (0, 2):
        np.testing.assert_array_equal(ev(T.take(x, im, axis), {x: X, im: Im}),
                                      np.take(X, Im, axis))
    np.testing.assert_array_equal(ev(T.take(x, 2, 1), {x: X}), np.take(X, 2, 1))
    verify_grad(lambda a: T.take(a, I, 1), [rng.normal(size=(2, 3, 2))], rng=rng)
    with pytest.raises(ValueError, match="take: axis 3 is out of range"):
        T.take(x, iv, 3)
