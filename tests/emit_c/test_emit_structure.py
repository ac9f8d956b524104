"""Views, indexing, joins, constructors and softmax, compiled and compared with the reference
evaluator; index errors raise IndexError naming the node."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym import tensor as T

x = T.matrix("x")
y = T.matrix("y")
v = T.vector("v")
i = T.lscalar("i")
iv = T.ivector("iv")
x3 = T.tensor3("x3")
bm = T.bmatrix("bm")

CASES = [
    Case("dimshuffle", [x, x3], [x.T * 1, x.dimshuffle("x", 1, 0, "x") + 0, x3.dimshuffle(2, 0, 1)[0] * 1]),
    Case("shape", [x3], [T.shape(x3), x3.shape[1] * 2]),
    Case("reshape", [x], [x.reshape((2, -1)), x.T.reshape((-1,)), x.flatten(), x.reshape((1, -1))]),
    Case("subtensor", [x, i], [x[1], x[1:, ::-1], x[i], x[:, i:], x[-1, ::2], x[i, i], x[::-3, 1:i]]),
    Case("inc_subtensor", [x, v], [T.set_subtensor(x[1:3], 5.0), T.inc_subtensor(x[:, 0], v[:4]),
                                   T.inc_subtensor(x[::-1], x), T.set_subtensor(x[2], v[:5])]),
    Case("int_subtensor", [bm, i], [T.inc_subtensor(bm[1:, 2:], 3), T.set_subtensor(bm[i], 7)]),
    Case("advanced1", [x, iv, v], [x[iv], T.inc_subtensor(x[iv], 1.0),
                                T.set_subtensor(x[iv], x[iv] * 2), T.inc_subtensor(x[iv], v[:5])]),
    Case("advanced", [x, iv, x3], [x[iv, iv], x[1:, iv], x[iv, 1], T.inc_subtensor(x[iv, iv], 1.0),
                                   x3[iv, :, iv], T.set_subtensor(x[1:, iv], 0.0)]),
    Case("join", [x, y, v], [T.concatenate([x, y]), T.concatenate([x, y], axis=1),
                             T.stack([v, v * 2]), T.concatenate([x, T.cast(y, "int32")])]),
    Case("alloc", [x, i, v], [T.alloc(2.5, 3, i), T.zeros((i, 2)), T.ones_like(x),
                              T.alloc(v, i, v.shape[0])]),
    Case("arange", [i], [T.arange(i), T.arange(1, i, 2), T.arange(0.0, 1.0, 0.1), T.eye(i),
                         T.eye(3, i, 1), T.arange(i, -3, -2)]),
    Case("nnet", [x, x3], [T.softmax(x), T.log_softmax(x), T.softmax(x3, axis=1),
                           T.softmax(x, axis=None), T.log_softmax(x3, axis=0)]),
]


@pytest.fixture(scope="module")
def entries():
    return build(CASES)


def _values(name, rng):
    X = rng.standard_normal((4, 5))
    V = rng.standard_normal(6)
    I = np.array([0, 3, 3, -1], "int32")
    X3 = rng.standard_normal((2, 3, 4))
    return {
        "dimshuffle": [X, X3], "shape": [X3], "reshape": [X[:, :4]],
        "subtensor": [X, np.int64(2)], "inc_subtensor": [X, V],
        "int_subtensor": [rng.integers(-9, 9, (4, 5)).astype("int8"), np.int64(-1)],
        "advanced1": [X, I, V], "advanced": [X, I, rng.standard_normal((4, 3, 4))],
        "join": [X, X + 1, V], "alloc": [X, np.int64(4), V], "arange": [np.int64(5)],
        "nnet": [X * 50, X3],
    }[name]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_structure_matches_reference(entries, case):
    rng = np.random.default_rng(7)
    values = _values(case.name, rng)
    assert_matches(case, entries[case.name], values)
    # the same through non-contiguous, reversed views of the inputs
    flipped = [np.ascontiguousarray(a[::-1])[::-1] if isinstance(a, np.ndarray) and a.ndim else a
               for a in values]
    assert_matches(case, entries[case.name], flipped)


def test_index_out_of_bounds_is_an_index_error_naming_the_node(entries):
    with pytest.raises(IndexError, match=r"index 7 is out of bounds for axis 0 with size 4"):
        entries["subtensor"](np.zeros((4, 5)), np.int64(7))
    with pytest.raises(IndexError, match="out of bounds"):
        entries["advanced1"](np.zeros((4, 5)), np.array([0, 9], "int32"), np.zeros(6))


def test_bad_reshape_and_join_raise_value_errors(entries):
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(3, 3\)"):
        entries["reshape"](np.zeros((3, 3)))
    with pytest.raises(ValueError, match="must have equal lengths in every dimension but 0"):
        entries["join"](np.zeros((2, 3)), np.zeros((2, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="step must not be zero|negative length"):
        entries["alloc"](np.zeros((2, 2)), np.int64(-1), np.zeros(3))
