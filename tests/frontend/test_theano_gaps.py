"""Theano behaviours that Theano's scan tests and third-party scripts found missing: the
top-level ``scan_checkpoints``, gradients with respect to integer inputs, ``T.shape(X)``
unpacking, attributes on shared variables, ``OpFromGraph``'s inputs, and the names
``softmax_graph``, ``compile.mode.get_mode``, ``change_flags``, ``NullTypeGradError`` and
the config flags Theano code sets — each checked against NumPy or the reference evaluator
(``mode="FAST_COMPILE"``)."""

import pickle

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T
from aotsym.frontend.grad import DisconnectedInputError


def test_scan_checkpoints_is_a_top_level_name():
    from aotsym.scan_module.scan_checkpoints import scan_checkpoints
    assert theano.scan_checkpoints is scan_checkpoints
    A, k = T.dvector("A"), T.iscalar("k")
    out, _ = theano.scan_checkpoints(lambda p, A: p * A, outputs_info=T.ones_like(A),
                                     non_sequences=A, n_steps=k, save_every_N=2)
    f = theano.function([A, k], out[-1], mode="FAST_COMPILE")
    vA = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(f(vA, 5), vA ** 5)


def test_grad_with_respect_to_an_integer_input_is_float_zeros():
    u, x = T.ivector("u"), T.dvector("x")
    vu, vx = np.array([1, 2, 0], "int32"), np.array([3.0, -4.0, 0.5])
    for cost in [(T.cast(u, "float64") * x).sum(), (u * x).sum(),
                 (T.cast(u + 1, "float64") * x ** 2).sum()]:
        g = theano.grad(cost, u)
        f = theano.function([u, x], g, mode="FAST_COMPILE", on_unused_input="ignore")
        got = f(vu, vx)
        assert got.dtype == theano.config.floatX and got.shape == vu.shape
        np.testing.assert_array_equal(got, np.zeros(3))
    gx, gu = theano.grad((T.cast(u, "float64") * x).sum(), [x, u])
    f = theano.function([u, x], [gx, gu], mode="FAST_COMPILE")
    got_x, got_u = f(vu, vx)
    np.testing.assert_array_equal(got_x, vu.astype("float64"))
    np.testing.assert_array_equal(got_u, np.zeros(3))


def test_grad_with_respect_to_an_integer_input_in_float32():
    with theano.config.change_flags(floatX="float32"):
        u, x = T.imatrix("u"), T.fmatrix("x")
        g = theano.grad((u * x).sum(), u)
        assert g.dtype == "float32"
        f = theano.function([u, x], g, mode="FAST_COMPILE", on_unused_input="ignore")
        got = f(np.ones((2, 3), "int32"), np.ones((2, 3), "float32"))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.zeros((2, 3)))


def test_an_integer_input_the_cost_does_not_depend_on_is_still_disconnected():
    u, x = T.ivector("u"), T.dvector("x")
    with pytest.raises(DisconnectedInputError):
        theano.grad(x.sum(), u)
    through_stop = (x * theano.gradient.disconnected_grad(T.cast(u, "float64"))).sum()
    with pytest.raises(DisconnectedInputError):
        theano.grad(through_stop, u)
    with pytest.raises(DisconnectedInputError):
        theano.grad((x * T.cast(u, "float64")).sum(), u, consider_constant=[u])


def test_T_shape_unpacks_like_the_shape_attribute():
    X = T.dtensor3("X")
    n, d, k = T.shape(X)
    s = T.shape(X)
    f = theano.function([X], [n * 100 + d * 10 + k, s, s * 2, T.zeros(T.shape(X)).sum()],
                        mode="FAST_COMPILE")
    v = np.zeros((4, 0, 3))
    code, vec, twice, total = f(v)
    assert code == 403 and total == 0.0
    np.testing.assert_array_equal(vec, v.shape)
    np.testing.assert_array_equal(twice, np.array(v.shape) * 2)
    assert len(T.shape(X)) == 3 and T.shape(np.ones((2, 5)))[1].eval() == 5
    assert isinstance(s, theano.Variable) and s.ndim == 1 and s.dtype == "int64"
    with pytest.raises(TypeError, match="iterated"):
        iter(s + 0)   # other vectors are still refused


def test_clone_without_sharing_inputs_copies_the_inputs_of_the_replacement_graph():
    from aotsym.graph.basic import graph_inputs
    x, y, w = T.dvector("x"), T.dvector("y"), T.dvector("w")
    z = theano.shared(np.array([2.0, -1.0]), name="z")
    out = z * x + y
    new = theano.clone(out, replace={y: T.exp(w) + x}, share_inputs=False)
    inputs = graph_inputs([new])
    assert sorted(v.name for v in inputs) == ["w", "x", "z"]
    assert not any(v is x or v is w or v is y or v is z for v in inputs)
    xs = [v for v in inputs if v.name == "x"]
    assert len(xs) == 1   # one copy of x, read by the graph and by the replacement
    by_name = {v.name: v for v in inputs}
    f = theano.function([by_name["x"], by_name["w"]], new, mode="FAST_COMPILE")
    vx, vw = np.array([0.5, -3.0]), np.array([0.0, np.log(2.0)])
    np.testing.assert_allclose(f(vx, vw), np.array([2.0, -1.0]) * vx + np.exp(vw) + vx)
    shared_too = theano.clone(out, replace={y: T.exp(w) + x})
    assert {id(v) for v in graph_inputs([shared_too])} == {id(x), id(w), id(z)}


@pytest.mark.parametrize("clone", [False, True])
def test_shared_variables_take_attributes_that_pickle(clone):
    counter = theano.shared(np.int64(0), name="counter")
    if clone:
        counter = theano.clone(counter, share_inputs=False)
    counter.update = counter + 1     # a user attribute, not an update: Theano's idiom
    counter.note = {"what": "steps"}
    assert counter.default_update is None
    f = theano.function([], counter * 10, updates=[(counter, counter.update)],
                        mode="FAST_COMPILE")
    assert f() == 0 and f() == 10 and counter.get_value() == 2
    again = pickle.loads(pickle.dumps(counter))
    assert again.note == {"what": "steps"} and again.get_value() == 2
    g = theano.function([], again.update, updates=[(again, again.update)],
                        mode="FAST_COMPILE")
    assert g() == 3 and again.get_value() == 3
    assert counter.get_value() == 2     # the unpickled one has its own storage
    with pytest.raises(AttributeError):
        T.dvector("x").update = 1      # symbolic variables still have only their slots


def test_map_variables_enters_an_op_from_graph_through_its_given_inputs():
    """Theano's map_variables test_opfromgraph: a replacement tagged on a variable of the
    body, reading the body's inputs ``a``, ``b`` and outer variables (``z``)."""
    from aotsym.scan_module.scan_utils import map_variables
    outer = T.scalar("outer")
    shared = theano.shared(np.array(1.0, dtype=theano.config.floatX), name="shared")
    z = outer * (shared + T.constant(1, name="constant"))
    a, b = T.scalar(), T.scalar()
    r = a + b
    r.tag.replacement = z * (a - b)
    c, d = T.scalar(), T.scalar()
    op = theano.OpFromGraph([a, b], [r])
    assert op.inner.inputs == (a, b)
    t = z * op(c, d)
    v, = map_variables(lambda g: getattr(g.tag, "replacement", g), [t])
    f = theano.function([c, d, outer], [t, z * v], mode="FAST_COMPILE")
    for m, n in [(0, 1), (3, 7), (9, 2)]:
        got_t, got_t2 = f(m, n, 0.5)
        assert got_t == m + n and got_t2 == m - n
        got_t, got_t2 = f(m, n, 1.5)   # z = 3
        assert got_t == 3 * (m + n) and got_t2 == 27 * (m - n)
