"""Ops written for Theano in Python (an ``Op`` subclass with ``make_node``/``perform``, the
``itypes``/``otypes`` form, ``as_op``) work with only the imports changed: built, evaluated
by the reference evaluator, differentiated, and called back from compiled code
(aotsym/emit_c/python_op.py) while the rest of the graph stays compiled."""

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T
from aotsym.compile.ops import as_op
from aotsym.emit_c.errors import EmitError


# ---- the "Extending Theano" tutorial's op, as written there
class DoubleOp(theano.Op):
    __props__ = ()

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = x * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]


class DoubleOp2(theano.Op):
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


class Scale(theano.Op):
    """State, no __props__: instances must not be merged."""

    def __init__(self, k):
        self.k = k

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * self.k


class SplitSigns(theano.Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type(), T.lvector()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = np.abs(x)
        output_storage[1][0] = np.flatnonzero(x < 0)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_the_tutorials_op_runs_compiled_with_the_rest_of_the_graph(mode):
    x = T.matrix()
    f = theano.function([x], T.exp(DoubleOp()(x)) + x, mode=mode)
    inp = np.random.default_rng(0).random((5, 4)).astype("float32")
    np.testing.assert_allclose(f(inp), np.exp(inp * 2) + inp, rtol=1e-6)
    if mode == "FAST_RUN":   # compiled, the op called back from its step
        source = f._run.module.emitted.source
        assert "python op 0: DoubleOp" in source and "aot_py_set_ops" in source
    g = theano.function([x], theano.grad(DoubleOp()(x).sum(), x), mode=mode)
    np.testing.assert_array_equal(g(inp), np.full_like(inp, 2))


def test_itypes_otypes_and_their_type_check():
    y = T.dmatrix("y")
    f = theano.function([y], DoubleOp2()(y) + 1)
    np.testing.assert_array_equal(f(np.ones((2, 3))), np.full((2, 3), 3.0))
    with pytest.raises(TypeError, match="itypes"):
        DoubleOp2()(T.fmatrix())


def test_as_op_and_distinct_functions_keep_their_own_callbacks():
    @as_op(itypes=[T.dmatrix], otypes=[T.dvector])
    def rowsum(a):
        return a.sum(axis=1)

    @as_op(itypes=[T.dmatrix], otypes=[T.dvector])
    def rowmax(a):
        return a.max(axis=1)

    y = T.dmatrix("y")
    f = theano.function([y], rowsum(y) * 2)
    g = theano.function([y], rowmax(y) * 2)    # the same C but for the op called back
    v = np.array([[1.0, 5.0], [-3.0, 2.0]])
    np.testing.assert_array_equal(f(v), v.sum(1) * 2)
    np.testing.assert_array_equal(g(v), v.max(1) * 2)
    np.testing.assert_array_equal(f(v), v.sum(1) * 2)


def test_ops_without_props_are_not_merged():
    x = T.dvector("x")
    f = theano.function([x], Scale(2.0)(x) + Scale(3.0)(x))
    np.testing.assert_array_equal(f(np.array([1.0, -2.0])), [5.0, -10.0])


def test_several_outputs_empty_and_strided_inputs_and_a_released_gil():
    x = T.dvector("x")
    a, neg = SplitSigns()(x)
    f = theano.function([x], [a + 1, neg])
    for v in (np.array([1.0, -2.0, 0.0, -0.0, np.nan]), np.zeros(0),
              np.arange(10.0)[::-3] - 5):
        got_a, got_neg = f(v)
        np.testing.assert_array_equal(got_a, np.abs(v) + 1)
        np.testing.assert_array_equal(got_neg, np.flatnonzero(v < 0))
    big = np.random.default_rng(1).standard_normal(300_000)   # the entry releases the GIL
    got_a, got_neg = f(big)
    np.testing.assert_array_equal(got_a, np.abs(big) + 1)
    assert got_neg.dtype == np.int64 and len(got_neg) == (big < 0).sum()


def test_inside_a_scan_step():
    xs = T.dmatrix("xs")
    out, _ = theano.scan(lambda row, acc: acc + DoubleOp()(row), sequences=xs,
                         outputs_info=T.zeros_like(xs[0]))
    f = theano.function([xs], out[-1])
    v = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(f(v), 2 * v.sum(0))


class Broken(theano.Op):
    __props__ = ("how",)

    def __init__(self, how):
        self.how = how

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        if self.how == "raise":
            raise KeyError("boom")
        if self.how == "shape":
            output_storage[0][0] = np.zeros((2, 2))
        # "none": stores nothing


@pytest.mark.parametrize("how,error,text", [("raise", ValueError, "KeyError: 'boom'"),
                                            ("shape", TypeError, "shape (2, 2)"),
                                            ("none", ValueError, "did not store")])
def test_a_failing_perform_names_the_op_and_the_users_line(how, error, text):
    x = T.dvector("x")
    y = Broken(how)(x) * 2   # the line the error names
    f = theano.function([x], y)
    with pytest.raises(error) as info:
        f(np.ones(3))
    message = str(info.value)
    assert text in message and "Broken" in message and "y = Broken(how)(x) * 2" in message
    np.testing.assert_array_equal(theano.function([x], x + 1)(np.ones(2)), [2.0, 2.0])


def test_a_standalone_module_refuses_a_python_op():
    from aotsym.build.driver import _spec
    from aotsym.emit_c import emit_module
    from aotsym.graph.fgraph import FunctionGraph
    x = T.dvector("x")
    fg = FunctionGraph([x], [DoubleOp()(x)])
    with pytest.raises(EmitError, match="standalone module"):
        emit_module([_spec("f", fg)], runtime_apart=True)
    assert emit_module([_spec("f", fg)], runtime_apart=True, python_ops=True).python_ops


def test_the_call_back_compiles_without_warnings(tmp_path):
    theano.config.cache_dir = str(tmp_path)      # (restored by the autouse default_flags)
    theano.config.cflags = "-O3 -march=native -Werror"
    x = T.dvector("x")
    a, neg = SplitSigns()(x)
    f = theano.function([x], [DoubleOp()(x) + a, neg])
    got = f(np.array([1.0, -2.0]))
    np.testing.assert_array_equal(got[0], [3.0, -2.0])
    np.testing.assert_array_equal(got[1], [1])


def test_a_scalar_output_from_compiled_code_stays_a_scalar():
    """A Python op's 0-d result (a NumPy scalar or 0-d array, the usual ``perform`` of a
    reduction) is copied back as the declared scalar: np.ascontiguousarray made it 1-d and
    the compiled call failed (found by DEBUG_MODE's comparison with the compiled module)."""
    @as_op(itypes=[T.dvector], otypes=[T.dscalar])
    def norm(v):
        return np.sqrt((v * v).sum())          # a NumPy float64, not an ndarray

    x = T.dvector("x")
    y = norm(x) * 2 + norm(x[::-1] + 1)
    f = theano.function([x], [y, norm(x)])
    xv = np.array([3.0, 4.0])
    got, n = f(xv)
    assert n.shape == () and n == 5.0
    assert got == 10.0 + np.sqrt(16.0 + 25.0)


class RoundScaled(theano.Op):
    """A Theano op whose grad says one input's gradient is undefined and the other's
    disconnected, in Theano's spellings."""
    __props__ = ()

    def make_node(self, x, k):
        x, k = T.as_tensor_variable(x), T.as_tensor_variable(k)
        return theano.Apply(self, [x, k], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.round(inputs[0] * inputs[1])

    def grad(self, inputs, output_grads):
        from aotsym.gradient import DisconnectedType, grad_undefined
        return [grad_undefined(self, 0, inputs[0], "rounding"), DisconnectedType()()]


def test_grad_undefined_and_disconnected_type_in_an_ops_grad():
    from aotsym.gradient import NullTypeGradError, grad_not_implemented
    x, k = T.dvector("x"), T.dscalar("k")
    y = RoundScaled()(x, k)
    assert theano.function([x, k], y)(np.array([0.4, 1.6]), 2.0).tolist() == [1.0, 3.0]
    with pytest.raises(NullTypeGradError, match="input 0 .* undefined: rounding"):
        theano.grad(y.sum(), x)
    with pytest.raises(theano.gradient.DisconnectedInputError):
        theano.grad(y.sum(), k)
    # off the path to wrt, an undefined gradient is never asked for
    g = theano.grad(y.sum() * 0 + (x ** 2).sum(), x, consider_constant=[y])
    np.testing.assert_allclose(theano.function([x, k], g, on_unused_input="ignore")(
        np.array([1.0, -2.0]), 1.0), [2.0, -4.0])
    assert "not implemented" in grad_not_implemented(RoundScaled(), 1, k).why


def test_an_error_raised_by_perform_in_compiled_code_keeps_its_class():
    """A LinAlgError from a called-back perform is a LinAlgError (Theano's tests catch it);
    an AssertionError is one too, and still a ValueError like every run-time failure; both
    name the node."""
    @as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])
    def chol(a):
        return np.linalg.cholesky(a)

    @as_op(itypes=[T.dvector], otypes=[T.dvector])
    def nonneg(v):
        assert (v >= 0).all(), "negative entries"
        return v

    x, v = T.dmatrix("x"), T.dvector("v")
    f = theano.function([x], chol(x) * 2)
    g = theano.function([v], nonneg(v) + 1)
    with pytest.raises(np.linalg.LinAlgError, match="while computing"):
        f(-np.eye(2))
    with pytest.raises(AssertionError, match="negative entries") as info:
        g(-np.ones(2))
    assert isinstance(info.value, ValueError)
    np.testing.assert_array_equal(g(np.ones(2)), [2.0, 2.0])
