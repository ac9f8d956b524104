"""grad's disconnected inputs, the symbolic-bool error, and the tracing frontend (Module)."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.frontend.grad import DisconnectedInputError


# ---------------------------------------------------------------------------- grad


def test_grad_of_disconnected_input_raises():
    x, y = T.dvectors("x", "y")
    cost = (x ** 2).sum()
    with pytest.raises(DisconnectedInputError, match="(?s)does not depend on y.*ignore"):
        aotsym.grad(cost, [x, y])


def test_grad_disconnected_ignore_returns_zeros():
    x, y = T.dvectors("x", "y")
    cost = (x ** 2).sum()
    gx, gy = aotsym.grad(cost, [x, y], disconnected_inputs="ignore")
    assert gy.type == y.type
    f = aotsym.function([x, y], [gx, gy])
    out_x, out_y = f([1.0, 2.0], [5.0, 6.0, 7.0])
    np.testing.assert_array_equal(out_x, [2.0, 4.0])
    np.testing.assert_array_equal(out_y, [0.0, 0.0, 0.0])


def test_grad_disconnected_warn():
    x, y = T.dvectors("x", "y")
    with pytest.warns(UserWarning, match="does not depend on y"):
        aotsym.grad(x.sum(), [x, y], disconnected_inputs="warn")


def test_grad_single_variable_and_T_grad():
    x = T.dscalar("x")
    g = T.grad(x ** 3, x)
    assert isinstance(g, aotsym.Variable)
    assert aotsym.function([x], g)(2.0) == pytest.approx(12.0)


def test_grad_errors():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="scalar"):
        aotsym.grad(x * 2, x)
    with pytest.raises(TypeError, match="not a symbolic variable"):
        aotsym.grad(x.sum(), [np.ones(2)])


# ---------------------------------------------------------------------------- symbolic bool


def test_if_on_symbolic_value_names_the_users_line():
    x = T.dscalar("x")
    with pytest.raises(TypeError) as info:
        if x > 0:  # the line the message must point at
            pass
    msg = str(info.value)
    assert "test_grad_and_tracing.py" in msg
    assert "if x > 0:  # the line the message must point at" in msg
    for word in ("aotsym.ifelse", "T.switch", "aotsym.scan"):
        assert word in msg


@pytest.mark.parametrize("action", [
    lambda x: bool(x > 0), lambda x: not (x > 0), lambda x: (x > 0) and 1,
    lambda x: [i for i in x], lambda x: len(x),
])
def test_other_python_control_flow_is_refused(action):
    with pytest.raises(TypeError, match="symbolic"):
        action(T.dvector("x"))


def test_a_non_boolean_variable_is_truthy_as_in_theano():
    # (Theano 1.0: only boolean-valued expressions refuse bool(); see DESIGN.md)
    assert bool(T.dvector("x")) and not (not T.dvector("x"))


def test_while_on_symbolic_value():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="aotsym.scan"):
        while x < 10:
            x = x + 1


# ---------------------------------------------------------------------------- Module


def make_module():
    mod = aotsym.Module("toy")
    w = mod.shared(np.zeros(3), name="w")
    c = mod.shared(0.0, name="c")

    @mod.export(T.dmatrix("x"), T.dvector("y"))
    def train(x, y):
        """One gradient step."""
        pred = T.dot(x, w) + c
        cost = ((pred - y) ** 2).mean()
        gw, gc = aotsym.grad(cost, [w, c])
        return [pred, cost], {w: w - 0.1 * gw, c: c - 0.1 * gc}

    @mod.export(T.dmatrix("x"))
    def predict(x):
        return (x * w).sum(axis=1) + c

    return mod, w, c


def test_module_records_exports():
    mod, w, c = make_module()
    assert list(mod.exports) == ["train", "predict"]
    assert list(mod.shared_vars) == ["w", "c"]
    train = mod.exports["train"]
    assert train.arg_names == ["x", "y"]
    assert len(train.outputs) == 2 and not train.single_output
    assert [var for var, _ in train.updates] == [w, c]
    assert train.doc == "One gradient step."
    assert mod.exports["predict"].single_output
    assert "toy" in repr(mod)


def test_module_function_runs_in_process():
    mod, w, c = make_module()
    train = mod.function("train")
    X = np.eye(3)
    Y = np.array([1.0, 2.0, 3.0])
    for _ in range(200):
        pred, cost = train(X, Y)
    np.testing.assert_allclose(mod.function("predict")(X), Y, atol=1e-2)
    assert cost < 1e-3


def test_module_rejects_update_of_foreign_shared_variable():
    mod = aotsym.Module("m")
    foreign = aotsym.shared(np.zeros(2), name="foreign")
    with pytest.raises(ValueError, match="(?s)foreign.*not a shared variable of Module 'm'"):
        @mod.export(T.dvector("x"))
        def step(x):
            return x, {foreign: foreign + x}


def test_module_name_and_argument_checks():
    with pytest.raises(ValueError, match="identifier"):
        aotsym.Module("not valid")
    mod = aotsym.Module("m")
    mod.shared(1.0, name="a")
    with pytest.raises(ValueError, match="already"):
        mod.shared(2.0, name="a")
    with pytest.raises(TypeError, match="argument 0 must be a symbolic input"):
        @mod.export(3)
        def f(x):
            return x
    with pytest.raises(TypeError, match="2 argument types for a function of 1"):
        @mod.export(T.dvector(), T.dvector())
        def g(x):
            return x
    x = T.dvector("x")

    @mod.export(x)
    def h(v):
        return v * 2
    with pytest.raises(ValueError, match="already exports"):
        @mod.export(T.dvector(), name="h")
        def h2(v):
            return v


def test_module_export_unnamed_arguments_take_parameter_names():
    mod = aotsym.Module("m")

    @mod.export(T.dvector(), T.dscalar())
    def scale(values, factor):
        return values * factor
    assert mod.exports["scale"].arg_names == ["values", "factor"]


def test_a_consider_constant_variable_gets_its_own_gradient_but_passes_none_on():
    """Theano's rule (test_grad_constant, batch-norm tests): consider_constant stops the
    gradient from flowing *through* a variable to what computes it; the variable itself, if
    asked for, has its gradient."""
    x, y = T.scalars("x", "y")
    g = aotsym.grad(x * y + x, x, consider_constant=[x])
    assert aotsym.function([x, y], g)(1.0, 2.0) == 3.0
    z = T.exp(x)
    gz, gx = aotsym.grad(z * y, [z, x], consider_constant=[z], disconnected_inputs="ignore")
    got_z, got_x = aotsym.function([x, y], [gz, gx])(1.0, 2.0)
    assert got_z == 2.0 and got_x == 0.0
    with pytest.raises(aotsym.gradient.DisconnectedInputError):
        aotsym.grad(z * y, x, consider_constant=[z])
