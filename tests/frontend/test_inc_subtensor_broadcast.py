"""``set_subtensor`` / ``inc_subtensor`` broadcast a value's length-1 dimensions at run time,
declared broadcastable or not, as Theano (NumPy's ``x[idx] = y`` / ``np.add.at``) does.

One compiled function (FAST_RUN) holds every write form — basic slices (strided, reversed),
an integer vector with repeats, integer arrays with a slice, several arrays, boolean masks,
3-d — and is called on many values (empty regions, a (1, 1) value, strided and
negative-stride x) against NumPy and against the reference evaluator (FAST_COMPILE).  y's
gradient is summed over the dimensions broadcast at run time (``SumToShape``): checked
against NumPy in the compiled function, by finite differences (``verify_grad``) and through
a Jacobian.  A value that does not broadcast is a ValueError naming the op and the user's
line in every mode, and an in-place update of a shared variable that fails leaves it as it
was.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import jacobian, verify_grad

X, Y, I, N = T.dmatrix("x"), T.dmatrix("y"), T.lvector("i"), T.lscalar("n")
M = T.tensor("bool", (False,), name="m")
X3, Y3 = T.dtensor3("x3"), T.dtensor3("y3")
INPUTS = [X, Y, I, N, M, X3, Y3]


def _put(x, idx, y):
    out = x.copy()
    out[idx] = y
    return out


def _inc(x, idx, y):
    out = x.copy()
    with np.errstate(invalid="ignore"):
        np.add.at(out, idx, y)     # x[idx] += y for a basic index; accumulates repeats
    return out


# (symbolic write, NumPy's, on x (4, 2), y, i, n, m, x3 (2, 3, 2), y3): every region has
# len(i) == n - 1 == m.sum() rows, so one y fits all of them or none
WRITES = [
    (T.inc_subtensor(X[1:N], Y), lambda x, y, i, n, m, x3, y3: _inc(x, np.s_[1:n], y)),
    (T.set_subtensor(X[1:N], Y), lambda x, y, i, n, m, x3, y3: _put(x, np.s_[1:n], y)),
    (T.inc_subtensor(X[::-1][:N - 1], Y),
     lambda x, y, i, n, m, x3, y3: _inc(x[::-1], np.s_[:n - 1], y)),
    (T.set_subtensor(X[4 - N + 1:, ::-1], Y),
     lambda x, y, i, n, m, x3, y3: _put(x, np.s_[4 - n + 1:, ::-1], y)),
    (T.set_subtensor(X[I], Y), lambda x, y, i, n, m, x3, y3: _put(x, i, y)),
    (T.inc_subtensor(X[I], Y), lambda x, y, i, n, m, x3, y3: _inc(x, i, y)),
    (T.inc_subtensor(X[I, ::-1], Y), lambda x, y, i, n, m, x3, y3: _inc(x, (i, np.s_[::-1]), y)),
    (T.set_subtensor(X[I, I % 2], Y[:, 0]),
     lambda x, y, i, n, m, x3, y3: _put(x, (i, i % 2), y[:, 0])),
    (T.inc_subtensor(X[I, I % 2], Y[:, 0]),
     lambda x, y, i, n, m, x3, y3: _inc(x, (i, i % 2), y[:, 0])),
    (T.set_subtensor(X[M], Y), lambda x, y, i, n, m, x3, y3: _put(x, m, y)),
    (T.inc_subtensor(X3[:, 1:N], Y3), lambda x, y, i, n, m, x3, y3: _inc(x3, np.s_[:, 1:n], y3)),
    (T.set_subtensor(X3[I, 1:], Y3), lambda x, y, i, n, m, x3, y3: _put(x3, (i, np.s_[1:]), y3)),
    (T.inc_subtensor(X3[:, I], Y3), lambda x, y, i, n, m, x3, y3: _inc(x3, (np.s_[:], i), y3)),
]


@pytest.fixture(scope="module")
def functions():
    outs = [w for w, _ in WRITES]
    return aotsym.function(INPUTS, outs), aotsym.function(INPUTS, outs, mode="FAST_COMPILE")


def _x(how, rng):
    x = rng.standard_normal((8, 4))
    x[0, 0], x[6, 2], x[2, 0] = np.nan, -0.0, np.inf
    return {"contiguous": x[:4, :2].copy(), "strided": x[::2, ::2], "reversed": x[::-2, ::-2]}[how]


Y3_SHAPES = {(1, 2): (1, 2, 1), (2, 2): (2, 2, 2), (1, 1): (1, 1, 1), (2, 1): (2, 1, 2)}


@pytest.mark.parametrize("how", ["contiguous", "strided", "reversed"])
@pytest.mark.parametrize("y_shape, rows", [((1, 2), 2), ((2, 2), 2), ((1, 1), 2), ((2, 1), 2),
                                           ((1, 2), 0), ((1, 1), 0), ((1, 2), 3)])
def test_writes_broadcast_a_length_one_value_as_numpy_does(functions, how, y_shape, rows):
    """rows: the regions' length (0: empty regions; 3: repeated indices in i)."""
    rng = np.random.default_rng(len(how) + 10 * rows + sum(y_shape))
    x = _x(how, rng)
    y = rng.standard_normal(y_shape)
    y.flat[-1] = -np.inf
    i = np.array([1, 0][:rows] if rows != 3 else [1, 1, 0], "int64")
    n = rows + 1
    m = np.zeros(4, bool)
    m[[0, 2, 3][:rows]] = True
    x3 = rng.standard_normal((2, 3, 2))[:, ::-1]
    y3 = rng.standard_normal(Y3_SHAPES[y_shape] if rows == 2 else (1, 1, y_shape[1]))
    args = (x, y, i, n, m, x3, y3)
    fast, ref = functions
    for k, (got_fast, got_ref, (write, numpy_write)) in enumerate(zip(fast(*args), ref(*args),
                                                                       WRITES)):
        want = numpy_write(*args)
        np.testing.assert_array_equal(got_fast, want, err_msg=f"{k}: {write}")
        np.testing.assert_array_equal(got_ref, want, err_msg=f"{k}: {write}")


# ------------------------------------------------------------------------ gradients


def test_the_value_gradient_is_summed_over_dimensions_broadcast_at_run_time():
    """cost = sum(w * write(x, y)): y's gradient is w read at the region, summed where y has
    length 1 (the region does not), x's is w (inc) or w with the region zeroed (set)."""
    w = T.dmatrix("w")
    forms = [(T.inc_subtensor, X[1:3], lambda i: np.s_[1:3]),
             (T.set_subtensor, X[::-2], lambda i: np.s_[::-2]),
             (T.inc_subtensor, X[I], lambda i: i),
             (T.set_subtensor, X[I, ::-1], lambda i: (i, np.s_[::-1]))]
    outs = []
    for write, region, _ in forms:
        outs += aotsym.grad((write(region, Y) * w).sum(), [X, Y])
    f = aotsym.function([X, Y, I, w], outs)
    rng = np.random.default_rng(1)
    x, wv, i = rng.standard_normal((4, 2)), rng.standard_normal((4, 2)), np.array([3, 1])
    for y_shape in [(1, 2), (2, 1), (1, 1), (2, 2)]:
        y = rng.standard_normal(y_shape)
        got = f(x, y, i, wv)
        for k, (write, _, index_of) in enumerate(forms):
            index = index_of(i)
            region = wv[index]
            axes = tuple(d for d in range(2) if y_shape[d] == 1 and region.shape[d] != 1)
            want_gy = region.sum(axis=axes, keepdims=True)
            want_gx = wv.copy()
            if write is T.set_subtensor:
                want_gx[index] = 0
            gx, gy = got[2 * k], got[2 * k + 1]
            assert gy.shape == y_shape
            np.testing.assert_allclose(gy, want_gy, rtol=1e-12, err_msg=f"{k} {y_shape}")
            np.testing.assert_array_equal(gx, want_gx)


@pytest.mark.parametrize("write", [T.inc_subtensor, T.set_subtensor])
def test_verify_grad_of_a_row_written_into_two_rows(write):
    """y of shape (1, 2), not declared broadcastable (verify_grad declares a length-1
    dimension broadcastable: unbroadcast undoes it), into a (2, 2) region and, by an integer
    vector, into rows 2 and 0."""
    rng = np.random.default_rng(2)

    def fun(x, y):
        y = T.unbroadcast(y, 0)
        return write(x[1:3], y) * 3 + write(x[np.array([2, 0])], y ** 2)

    verify_grad(fun, [rng.standard_normal((4, 2)), rng.standard_normal((1, 2))], rng=rng)


def test_the_jacobian_of_a_broadcast_value_is_one_batched_pass():
    x, y = T.dvector("x"), T.dvector("y")
    out = T.inc_subtensor(x[1:3], y) * T.set_subtensor(x[:2], y * y)
    j = jacobian(out, y)
    assert not any(type(n.op).__name__ == "Scan" for n in aotsym.graph.basic.toposort([j]))
    f = aotsym.function([x, y], j)
    xv, yv = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5])
    # out[k] = (x[k] + y [k in 1:3]) * (y^2 if k < 2 else x[k])
    want = np.array([[xv[0] * 2 * yv[0]], [yv[0] ** 2 + (xv[1] + yv[0]) * 2 * yv[0]],
                     [xv[2]], [0.0]])
    np.testing.assert_allclose(f(xv, yv), want, rtol=1e-12)


# ------------------------------------------------------------------------ errors, in place


@pytest.mark.filterwarnings("ignore:DEBUG_MODE. the graph cannot run on random test values")
def test_a_value_that_does_not_broadcast_is_refused_and_a_failed_update_leaves_the_state():
    """y (3, 2) or (2, 3) into a (2, 2) region: a ValueError naming the op and this file's
    line, in every mode; the in-place update of the shared variable is all or nothing."""
    for mode in ("FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"):
        s = aotsym.shared(np.arange(8.0).reshape(4, 2), name="s")
        f = aotsym.function([Y, I], [], updates={s: T.inc_subtensor(s[I], Y)}, mode=mode)
        g = aotsym.function([Y], T.set_subtensor(s[1:3], Y), mode=mode)
        f(np.ones((1, 2)), np.array([0, 0, 3]))                  # row 0 twice, row 3 once
        want = np.arange(8.0).reshape(4, 2) + [[2, 2], [0, 0], [0, 0], [1, 1]]
        np.testing.assert_array_equal(s.get_value(), want)
        for bad in (np.ones((3, 2)), np.ones((2, 3))):
            with pytest.raises(ValueError, match="AdvancedIncSubtensor1: a value of shape") as e:
                f(bad, np.array([0, 1]))
            assert "test_inc_subtensor_broadcast.py" in str(e.value), mode
            with pytest.raises(ValueError, match=r"SetSubtensor\{1:3\}: a value of shape"):
                g(bad)
        with pytest.raises(IndexError, match="out of bounds"):   # after rows were checked
            f(np.ones((1, 2)), np.array([1, 9]))
        np.testing.assert_array_equal(s.get_value(), want)
        np.testing.assert_array_equal(g(np.full((1, 2), 7.0))[1:3], np.full((2, 2), 7.0))
