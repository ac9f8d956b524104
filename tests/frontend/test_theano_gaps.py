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
    x = T.dvector("x")
    x.update = 1                       # symbolic variables take attributes too, as Theano's
    assert x.update == 1 and not hasattr(T.dvector("y"), "update")


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


# ---------------------------------------------------------------------------- names


def test_tensor_submodules_are_attributes():
    import aotsym.frontend.random as random
    assert T.shared_randomstreams.RandomStreams is random.RandomStreams
    sv = T.sharedvar
    assert sv.TensorSharedVariable is theano.SharedVariable is sv.ScalarSharedVariable
    v = np.arange(6, dtype="float32").reshape(2, 3)
    t = sv.tensor_constructor(v, name="t", borrow=True)
    assert isinstance(t, sv.TensorSharedVariable) and t.dtype == "float32" and t.ndim == 2
    np.testing.assert_array_equal(t.get_value(), v)
    with pytest.raises(TypeError):
        sv.tensor_constructor([1.0, 2.0])      # a list is not an ndarray (Theano's check)
    with theano.config.change_flags(floatX="float32"):
        s = sv.scalar_constructor(0.5)        # the number's own dtype, not floatX
    assert s.dtype == "float64" and s.ndim == 0 and s.get_value() == 0.5
    assert sv.scalar_constructor(np.int16(3)).dtype == "int16"
    with pytest.raises(TypeError):
        sv.scalar_constructor(np.ones(2))
    with pytest.raises(TypeError):
        sv.tensor_constructor(v, target="gpu")
    assert sv.load_shared_variable(v).get_value().dtype == np.float32


def test_softmax_graph_equals_softmax():
    x, row = T.dmatrix("x"), T.dvector("v")
    f = theano.function([x, row], [T.nnet.softmax_graph(x), T.nnet.softmax(x),
                                   T.nnet.softmax_graph(row)], mode="FAST_COMPILE")
    vx = np.array([[0.0, 1.0, -2.0], [3.0, 3.0, 3.0]])
    vr = np.array([0.5, -0.5])
    graph, op, vec = f(vx, vr)
    e = np.exp(vx)
    np.testing.assert_allclose(graph, e / e.sum(axis=-1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(graph, op, rtol=1e-15)
    assert vec.shape == (2,)
    np.testing.assert_allclose(vec, np.exp(vr) / np.exp(vr).sum(), rtol=1e-15)
    assert T.nnet.softmax_graph(x).owner.op.__class__.__name__ != "Softmax"


def test_compile_mode_get_mode_and_get_default_mode():
    from aotsym.compile import mode as cmode
    fast_run = cmode.get_mode("FAST_RUN")
    assert isinstance(fast_run, theano.Mode) and fast_run.name == "FAST_RUN"
    assert cmode.get_mode("fast_run") is fast_run            # one instance per mode
    assert cmode.get_mode("DebugMode").name == "DEBUG_MODE"
    assert isinstance(cmode.get_mode("ProfileMode"), theano.ProfileMode)
    mine = theano.Mode("FAST_COMPILE")
    assert cmode.get_mode(mine) is mine
    assert cmode.get_default_mode() is fast_run
    with theano.config.change_flags(mode="FAST_COMPILE"):
        assert cmode.get_default_mode().name == "FAST_COMPILE"
        assert theano.compile.get_mode(None).name == "FAST_COMPILE"
    with pytest.raises(ValueError, match="no_such_mode"):
        cmode.get_mode("no_such_mode")
    x = T.dvector("x")
    f = theano.function([x], x * 2, mode=cmode.get_mode("FAST_COMPILE"))
    np.testing.assert_array_equal(f(np.array([1.0, -0.0])), [2.0, -0.0])


def test_change_flags_sets_and_restores_also_on_exceptions():
    assert theano.config.floatX == "float64"
    with theano.change_flags(floatX="float32", exception_verbosity="high"):
        assert T.matrix().dtype == "float32" and theano.config.exception_verbosity == "high"
    assert theano.config.floatX == "float64" and theano.config.exception_verbosity == "low"
    with pytest.raises(KeyError):
        with theano.change_flags({"floatX": "float32"}):
            assert theano.config.floatX == "float32"
            raise KeyError("boom")
    assert theano.config.floatX == "float64"

    @theano.change_flags(floatX="float32")
    def make():
        return T.vector().dtype

    assert make() == "float32" and make() == "float32" and theano.config.floatX == "float64"
    assert theano.configparser.change_flags is theano.change_flags
    with pytest.raises(ValueError):
        with theano.change_flags(floatX="float16"):
            pass
    assert theano.config.floatX == "float64"


def test_theano_config_flags_with_their_defaults_and_values():
    cfg = theano.config
    assert (cfg.exception_verbosity, cfg.on_opt_error, cfg.compute_test_value_opt) == \
        ("low", "warn", "off")
    for name, values in [("exception_verbosity", ["low", "high"]),
                         ("on_opt_error", ["warn", "raise", "pdb", "ignore"]),
                         ("compute_test_value_opt", ["off", "ignore", "warn", "raise", "pdb"])]:
        for value in values:
            with cfg.change_flags(**{name: value}):
                assert getattr(cfg, name) == value
        with pytest.raises(ValueError, match=name):
            setattr(cfg, name, "sometimes")


def test_null_gradient_raises_null_type_grad_error():
    from aotsym.gradient import NullTypeGradError
    x = T.dmatrix("x")
    cost = T.nlinalg.svd(x)[1].sum()        # svd has no gradient (nor had it in Theano)
    for base in (NullTypeGradError, TypeError, NotImplementedError):
        with pytest.raises(base, match="svd"):
            theano.grad(cost, x)
    assert theano.gradient.DisconnectedInputError is DisconnectedInputError


@pytest.mark.parametrize("tags", [("inplace",), ("fusion",), ("BlasOpt",), ("scan",),
                                  ("canonicalize",), ("stabilize",), ("specialize",),
                                  ("merge", "ifelse"), ("local_elemwise_fusion", "inplace"),
                                  ("no_such_tag",)])
def test_mode_excluding_leaves_out_the_stages_its_tags_name(tags):
    """Theano's get_default_mode().excluding(...): the function is built without those
    optimizer stages (its stats show none of them ran) and computes the same values."""
    from aotsym.optimizer.pipeline import STAGES
    x, y = T.dmatrix("x"), T.dvector("y")
    w = theano.shared(np.linspace(-1, 1, 4), name="w")
    p = T.nnet.sigmoid(T.dot(x, w))
    cost = T.nnet.binary_crossentropy(p, y).mean()
    s, _ = theano.scan(lambda r, acc: acc + T.exp(r), sequences=x, outputs_info=T.zeros(4))
    outs = [cost, s[-1], theano.grad(cost, w)]
    mode = theano.compile.mode.get_default_mode().excluding(*tags)
    f = theano.function([x, y], outs, mode=mode)
    ref = theano.function([x, y], outs, mode="FAST_COMPILE")
    v = np.random.default_rng(0).normal(size=(5, 4))
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    for got, want in zip(f(v, t), ref(v, t)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    ran = {st.name for st in f._run.stats.stages}
    left_out = set(mode.excluded)
    assert left_out <= set(STAGES) and not (ran & left_out)
    assert (left_out == set()) == (tags == ("no_such_tag",))
    assert mode.including(*tags).excluded == frozenset()
