"""Pickling and copying as Theano allows: symbolic graphs (elementwise rows, inner graphs of
OpFromGraph / scan / ifelse), shared variables and compiled functions pickle, unpickle and
deep-copy; a function is rebuilt on load (from the build cache), never stored as machine code.
"""

import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.graph.basic import Apply, toposort
from aotsym.graph.evaluate import evaluate


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def value_of(var, givens):
    (out,) = evaluate([var], givens)
    return out


def test_graph_with_elementwise_rows_pickles():
    x = T.matrix("x")
    y = (T.exp(x) * 2 + T.tanh(x)).sum(axis=1) / x.shape[1] + T.nnet.sigmoid(x).mean()
    y.name = "y"
    y2 = roundtrip(y)
    assert y2.name == "y"
    (x2,) = [v for v in aotsym.graph.basic.graph_inputs([y2]) if v.name == "x"]
    xv = np.arange(6.0).reshape(2, 3) / 7
    np.testing.assert_allclose(value_of(y2, {x2: xv}), value_of(y, {x: xv}))
    # the rebuilt nodes are interned again: the same expression on x2 is the same node
    assert all(Apply._interned.get((n.op, n.inputs)) is n for n in toposort([y2]))


def test_several_variables_share_their_graph_after_pickling():
    x = T.vector("x")
    h = T.tanh(x) * 3
    a, b = h + 1, h * 2
    a2, b2 = roundtrip([a, b])
    assert a2.owner.inputs[0] is b2.owner.inputs[0]     # h is one node again
    assert roundtrip(x) is not x


def test_deep_graph_pickles_without_recursion():
    x = T.scalar("x")
    y = x
    for _ in range(20000):
        y = y + 1
    y2 = roundtrip(y)
    (x2,) = aotsym.graph.basic.graph_inputs([y2])[:1]
    assert value_of(y2, {x2: np.float64(1)}) == 20001


def test_graph_pickles_in_another_process(tmp_path):
    x = T.vector("x")
    y = T.exp(x).sum() + T.softmax(x)[0]
    path = tmp_path / "graph.pkl"
    path.write_bytes(pickle.dumps(y))
    code = ("import pickle, numpy as np, aotsym\n"
            "from aotsym.graph.basic import graph_inputs\n"
            "from aotsym.graph.evaluate import evaluate\n"
            f"y = pickle.load(open({str(path)!r}, 'rb'))\n"
            "(x,) = [v for v in graph_inputs([y]) if v.name == 'x']\n"
            "print(float(evaluate([y], {x: np.array([0.0, 1.0])})[0]))\n")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    e = np.exp([0.0, 1.0])
    assert float(out) == pytest.approx(e.sum() + e[0] / e.sum())


def test_shared_variable_pickles_with_its_value():
    w = aotsym.shared(np.arange(3.0), name="w")
    w2 = roundtrip(w)
    assert w2.name == "w" and w2.type == w.type and w2 is not w
    np.testing.assert_array_equal(w2.get_value(), [0, 1, 2])
    w2.set_value(np.ones(3))
    np.testing.assert_array_equal(w.get_value(), [0, 1, 2])   # its own value


def test_shared_in_a_graph_stays_one_variable():
    w = aotsym.shared(np.ones(2), name="w")
    x = T.vector("x")
    y = T.dot(x, w) + w.sum()
    y2, w2 = roundtrip([y, w])
    from aotsym.graph.basic import graph_inputs
    assert w2 in graph_inputs([y2])


def test_function_pickles_and_is_rebuilt():
    w = aotsym.shared(np.zeros(3), name="w")
    x = T.vector("x")
    f = aotsym.function([x], (x * w).sum(), updates={w: w + x})
    f(np.ones(3))
    g = roundtrip(f)
    assert g(np.ones(3)) == pytest.approx(3.0)    # g carries w's value at pickling time
    assert f(np.ones(3)) == pytest.approx(3.0)
    assert g(np.ones(3)) == pytest.approx(6.0)


def test_deepcopy_of_a_function_has_its_own_state():
    w = aotsym.shared(np.float64(1.0), name="w")
    x = T.scalar("x")
    f = aotsym.function([x], w * x, updates=[(w, w + 1)])
    g = copy.deepcopy(f)
    assert g(2.0) == 2.0 and g(2.0) == 4.0
    assert f(2.0) == 2.0                   # f's w was not touched by g
    assert w.get_value() == 2.0
    h = f.copy(share_memory=True)
    assert h(1.0) == 2.0 and w.get_value() == 3.0


def test_function_modes_and_options_survive_pickling():
    x = T.vector("x")
    f = aotsym.function([aotsym.In(x, value=np.ones(2))], x * 2, mode="FAST_COMPILE",
                        name="double")
    g = roundtrip(f)
    assert g.mode == "FAST_COMPILE" and g.name == "double"
    np.testing.assert_array_equal(g(), [2, 2])


def test_op_from_graph_pickles():
    a, b = T.vectors("a", "b")
    op = aotsym.OpFromGraph([a, b], [a * b + 1])
    x, y = T.vectors("x", "y")
    z = op(x, y)
    z2 = roundtrip(z)
    assert z2.owner.op == op
    xs = [v for v in aotsym.graph.basic.graph_inputs([z2])]
    np.testing.assert_allclose(value_of(z2, {xs[0]: np.array([2.0]), xs[1]: np.array([3.0])}),
                               [7.0])


def test_scan_pickles_and_compiles_after_loading():
    coeffs = T.vector("coeffs")
    x = T.scalar("x")
    terms, _ = aotsym.scan(lambda c, p, x: c * x ** p,
                           sequences=[coeffs, T.arange(coeffs.shape[0])], non_sequences=x)
    poly = terms.sum()
    poly2, coeffs2, x2 = roundtrip([poly, coeffs, x])
    f = aotsym.function([coeffs2, x2], poly2)
    assert f(np.array([1.0, 0.0, 2.0]), 3.0) == pytest.approx(19.0)


def test_ifelse_pickles():
    a, b = T.scalars("a", "b")
    z = aotsym.ifelse(T.lt(a, b), a * 2, b * 3)
    z2, a2, b2 = roundtrip([z, a, b])
    assert value_of(z2, {a2: np.float64(1), b2: np.float64(2)}) == 2
    assert value_of(z2, {a2: np.float64(3), b2: np.float64(2)}) == 6


def test_deepcopy_of_a_graph_is_a_new_graph():
    x = T.vector("x")
    y = T.exp(x) + 1
    y2 = copy.deepcopy(y)
    assert y2 is not y and y2.owner.op == y.owner.op
    (x2,) = [v for v in aotsym.graph.basic.graph_inputs([y2]) if v.name == "x"]
    assert x2 is not x


class Classifier:
    """The tutorials' ``pickle.dump(classifier)``: an object holding shared variables and
    symbolic expressions."""

    def __init__(self, x, n_in, n_out):
        self.W = aotsym.shared(np.zeros((n_in, n_out)), name="W")
        self.b = aotsym.shared(np.zeros(n_out), name="b")
        self.p_y_given_x = T.nnet.softmax(T.dot(x, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.input = x


def test_tutorial_classifier_pickles_and_predicts():
    x = T.matrix("x")
    clf = Classifier(x, 3, 2)
    clf.W.set_value(np.array([[1.0, -1.0], [0.0, 0.0], [-1.0, 1.0]]))
    clf2 = roundtrip(clf)
    predict = aotsym.function([clf2.input], clf2.y_pred)
    np.testing.assert_array_equal(predict(np.array([[1.0, 0, 0], [0, 0, 1.0]])), [0, 1])


def test_a_random_stream_keeps_advancing_after_pickling():
    """A shared variable's default_update (a random state's advance, a graph reading the
    variable itself) travels with it."""
    import pickle
    srng = aotsym.RandomStreams(3)
    u = srng.uniform((3,))
    f = aotsym.function([], u)
    first, second = f(), f()
    assert not np.array_equal(first, second)
    g = pickle.loads(pickle.dumps(f))
    assert not np.array_equal(g(), g())
    state = pickle.loads(pickle.dumps(u.tag.rng))
    assert state.default_update is not None
    assert state in aotsym.graph.basic.graph_inputs([state.default_update])
