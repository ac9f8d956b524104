"""What Theano's own tests of ``theano.function``, shared variables, ``grad`` and printing
(``theano/compile/tests/test_function.py``, ``test_pfunc.py``, ``theano/tests/
test_dictionary_output.py``, ``test_updates.py``, ``test_2nd_order_grads.py``,
``test_gradient.py``, ``test_printing.py``, run on aotsym) found wrong or missing, each as
a Theano program checked against NumPy, compiled (FAST_RUN) and, where it is cheap, with the
reference evaluator (``mode="FAST_COMPILE"``): dictionary outputs, ``In(x, update=...)``,
``f.name``, givens applied before default updates, ``rebuild_strict=False``,
``no_default_updates`` checks, tuples from ``grad``/``jacobian``, and the module names
``theano.compile.io`` / ``sharedvalue`` / ``pfunc``, ``theano.updates.OrderedUpdates``,
``theano.function_dump``, ``printing.min_informative_str``."""

import pickle
import sys

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T
from aotsym.compile.io import In


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_dictionary_outputs(mode):
    x, y = T.scalars("x", "y")
    f = theano.function([x, y], outputs={"b": x * y, "a": x + y, "1": x - y}, mode=mode)
    mode = "FAST_COMPILE"   # (the rest checks the frontend)
    assert f(2.0, 4.0) == {"a": 6.0, "b": 8.0, "1": -2.0}
    assert f(2.0, y=4.0) == f(x=2.0, y=4.0) == f(2.0, 4.0)
    assert list(f(1.0, 1.0)) == ["1", "a", "b"]   # sorted keys: the order computed
    a, b = T.scalars("a", "b")
    g = theano.function([a, b], [a + b, a * b], mode=mode)
    assert [float(v) for v in g(**{k: v for k, v in f(5.0, 7.0).items() if k != "1"})] \
        == [47.0, 420.0]
    for bad in ({1.0: x}, {1.0: x, "a": x ** 2}, {(1, "b"): x}):
        with pytest.raises(AssertionError):   # (Theano's class; a TypeError too)
            theano.function([x], outputs=bad, mode=mode)
    h = pickle.loads(pickle.dumps(f))
    assert h(2.0, 4.0) == {"a": 6.0, "b": 8.0, "1": -2.0}


def test_in_update_is_input_state():
    a = T.dscalar("a")
    f = theano.function([In(a, value=0.0, update=a + 1)], a)   # (compiled)
    assert [float(f()) for _ in range(3)] == [0.0, 1.0, 2.0]
    # the update and a shared variable's update swap values at once
    s = theano.shared(1.0)
    b = T.dscalar("b")
    g = theano.function([In(b, value=0.0, update=s)], [], updates={s: b}, mode="FAST_COMPILE")
    for i in range(4):
        g()
        assert s.get_value() == i % 2
    with pytest.raises(TypeError):
        In(a, update=T.dvector("v"))
    with pytest.raises(TypeError):
        theano.function([In(s, update=s + 1)], [])


def test_function_name_and_dump(tmp_path):
    v = T.vector()
    line = sys._getframe().f_lineno + 1
    f = theano.function([v], v + 1, mode="FAST_COMPILE")
    assert f.name == f"{__file__}:{line}"   # Theano's: where it was made
    assert theano.function([v], v, name="g", mode="FAST_COMPILE").name == "g"
    fname = str(tmp_path / "f.pkl")
    theano.function_dump(fname, [v], v + 1, mode="FAST_COMPILE")
    with open(fname, "rb") as fh:
        f2 = theano.function(**pickle.load(fh))
    x = np.array([1.0, -2.0, np.inf])
    np.testing.assert_array_equal(f2(x), x + 1)


def test_givens_come_before_default_updates():
    a = theano.shared(0)
    a.default_update = a + 1
    b = 2 * a
    f = theano.function([b], b, mode="FAST_COMPILE")   # only the tip: a is not read
    assert f(21) == 21 and a.get_value() == 0
    c = theano.shared(1.0, "c")
    c.default_update = c + 3.0
    d = T.dscalar("d")
    g = theano.function([d], c + 10, givens={c: d}, mode="FAST_COMPILE")
    assert g(2.0) == 12.0 and c.get_value() == 1.0
    h = theano.function([], c + 10, givens={c: c + 10})   # (the update gets the givens)
    assert [float(h()) for _ in range(2)] == [21.0, 34.0]


def test_rebuild_strict_false_other_dtype():
    w = T.dvector("w")
    x, y = T.ivectors("x", "y")
    f = theano.function([w, y], x * y, givens=[(x, w)], rebuild_strict=False,
                        mode="FAST_COMPILE")
    z = f(np.array([0.5, -0.0, np.nan]), np.array([3, 2, 1], dtype="int32"))
    assert z.dtype == np.float64
    np.testing.assert_array_equal(z, np.array([0.5, -0.0, np.nan]) * [3, 2, 1])


def test_rebuild_strict_false_other_ndim():
    w = T.imatrix()
    x, y = T.ivectors("x", "y")
    f = theano.function([w, y], x * y, givens=[(x, w)], rebuild_strict=False)
    z = f(np.ones((3, 5), dtype="int32"), np.arange(5, dtype="int32"))
    np.testing.assert_array_equal(z, np.ones((3, 5)) * np.arange(5))


def test_argument_checks():
    s = theano.shared(0)
    s.default_update = s + 2
    for bad in (s, "canard"):
        with pytest.raises(TypeError):
            theano.function([], [s], no_default_updates=bad)
    q = T.lscalar("q")
    with pytest.raises(theano.compile.UnusedInputError):
        theano.function([q, q, q], q)
    with pytest.raises(TypeError, match="Cannot use a shared variable"):
        theano.compile.pfunc([s], s * 2)
    p = theano.compile.pfunc([q], q * 2, mode="FAST_COMPILE")   # (Theano's older name)
    assert p(3) == 6 and theano.compile.pfunc.pfunc is not None


def test_grad_jacobian_follow_the_wrt_container():
    x = T.vector("x")
    y = x * 2
    assert isinstance(T.jacobian(y, (x,)), tuple)
    assert isinstance(T.jacobian(y, [x]), list)
    assert isinstance(theano.grad(y.sum(), (x,)), tuple)
    assert isinstance(theano.gradient.hessian(y.sum(), (x,)), tuple)
    jx = T.jacobian(y, (x,))
    f = theano.function([x], list(jx), mode="FAST_COMPILE")
    np.testing.assert_array_equal(f(np.arange(3.0))[0], 2 * np.eye(3))


def test_ordered_updates_and_module_names():
    from aotsym.compile.sharedvalue import SharedVariable, shared
    from aotsym.updates import OrderedUpdates
    a, b = shared(1.0), shared(2.0)
    assert isinstance(a, SharedVariable)
    up1, up2 = OrderedUpdates(), OrderedUpdates()
    up1[a] = a + 1
    up2[b] = b * 2
    both = up1 + up2
    assert list(both) == [a, b]
    with pytest.raises(TypeError):
        up1[T.scalar()] = 1
    with pytest.raises(KeyError):
        up1 + OrderedUpdates([(a, a * 3)])
    f = theano.function([], [], updates=both, mode="FAST_COMPILE")
    f()
    assert (a.get_value(), b.get_value()) == (2.0, 4.0)
    assert theano.compile.io.Out is theano.Out
    assert theano.compile.config is theano.config


def test_min_informative_str():
    from aotsym.printing import min_informative_str
    A, B, D, E = (T.matrix(n) for n in "ABDE")
    C = A + B
    C.name = "C"
    op = str(C.owner.op)
    assert min_informative_str(C + (D + E)) == f"A. {op}\n B. C\n C. {op}\n  D. D\n  E. E"
    assert min_informative_str(C * C) == f"A. {(C * C).owner.op}\n B. C\n <B>"


def test_integer_grad_rules_and_names():
    x, y = T.iscalars("x", "y")
    ge = T.scalar("ge")
    known = theano.grad(None, known_grads={x: ge}, wrt=x)   # the given gradient, int x too
    outs = [theano.grad(x, x), known, theano.grad(x + y, x)]
    f = theano.function([x, y, ge], outs, mode="FAST_COMPILE", on_unused_input="ignore")
    assert [float(v) for v in f(12, 3, 0.6)] == [1.0, 0.6, 0.0]
    from aotsym.gradient import DisconnectedInputError, DisconnectedType
    with pytest.raises(DisconnectedInputError):   # the cost's gradient given as none
        cost = x + y   # (Theano's test_disconnected_cost_grad: the cost variable itself)
        theano.grad(cost, [x, y], known_grads={cost: DisconnectedType()()})
    A, v = T.matrix("A"), T.vector("v")
    c = T.dot(v, T.dot(A, v))
    c.name = "c"
    assert theano.grad(c, v).name == "(dc/dv)"
    c2 = T.dot(v, T.dot(A, v)) * 3
    c2.name = "c2"
    assert theano.grad(c2, v, add_names=False).name is None


def test_subgraph_grad_matches_grad():
    from aotsym.gradient import subgraph_grad
    x = T.vector("x")
    w1, w2 = theano.shared(np.array([0.5, -1.5]), "w1"), theano.shared(np.array([2.0, 3.0]), "w2")
    h = T.tanh(x * w1)
    cost = T.sum(T.sqr(h * w2))
    (g2,), (gh,) = subgraph_grad([w2], [h], cost=cost)
    (g1,), _ = subgraph_grad([w1], [x], start={h: gh})
    want = theano.grad(cost, [w1, w2])
    f = theano.function([x], [g1, g2] + want, mode="FAST_COMPILE")
    a1, a2, b1, b2 = f(np.array([0.3, -0.7]))
    np.testing.assert_allclose(a1, b1)
    np.testing.assert_allclose(a2, b2)


def test_rop_errors_are_value_errors_and_tuples():
    from aotsym.gradient import grad_undefined
    from aotsym.graph.basic import Apply
    from aotsym.graph.op import Op

    class BreakRop(Op):   # (Theano's test op: no derivative)
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inp, out):
            out[0][0] = inp[0]

        def grad(self, inp, grads):
            return [grad_undefined(self, 0, inp[0])]

    x, v = T.vector("x"), T.vector("v")
    for y in (BreakRop()(x) * 2, x.shape):
        with pytest.raises(ValueError):
            T.Rop(y, x, v)
    with pytest.raises(ValueError):
        T.Rop(0.0, [T.matrix()], [T.vector()])
    m, mv = T.matrix("m"), T.matrix("mv")
    r = T.Rop((m, m * 2), [m], [mv])
    assert isinstance(r, tuple) and len(r) == 2
    f = theano.function([m, mv], list(r), mode="FAST_COMPILE")
    mval = np.array([[1.0, -0.0], [np.inf, 2.0]])
    got = f(np.zeros((2, 2)), mval)
    np.testing.assert_array_equal(got[1], 2 * mval)


def test_theano_ifelse_op_constructor():
    from aotsym.ifelse import IfElse
    c = T.iscalar("c")
    x, y = T.vectors("x", "y")
    one = IfElse(1)(c, x, y)
    two = IfElse(2, as_view=True)(c, x, x * 2, y, y * 2)
    f = theano.function([c, x, y], [one] + two)
    vx, vy = np.array([1.0, np.nan]), np.array([-0.0, 3.0, 4.0])
    for cv, a, b in ((1, vx, vx), (0, vy, vy)):
        got = f(cv, vx, vy)
        np.testing.assert_array_equal(got[0], a)
        np.testing.assert_array_equal(got[1], a)
        np.testing.assert_array_equal(got[2], 2 * b)
