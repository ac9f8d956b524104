"""Theano 1.0's remaining semantics that real code leans on: the truth value of variables,
the mean of integers, ``T.nnet.softmax`` rows, the small names ported code imports
(``T.xlogx``, ``T.extra_ops``, ``aotsym.scalar.upcast``, ``config.warn.*``, Theano's module
paths), and the deeplearning.net tutorials' logistic regression and MLP, ported by changing
only the imports.
"""

import importlib

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T

RNG = np.random.default_rng(3)


def run(inputs, outputs, mode="FAST_COMPILE"):
    return aotsym.function(inputs, outputs, mode=mode, on_unused_input="ignore")


# ---------------------------------------------------------------------------- truth value


def test_if_not_w_on_a_shared_variable_is_a_none_check():
    W = aotsym.shared(np.zeros(3), name="W")
    if not W:                     # the tutorials' "if W is None"-style check
        pytest.fail("a shared variable is truthy, as in Theano 1.0")
    x = T.matrix("x")
    assert bool(x) and bool(x * 2) and (x or None) is x


def test_a_comparison_refuses_bool_and_names_the_line():
    x = T.vector("x")
    with pytest.raises(TypeError) as info:
        if (x > 0).any():  # the user's line
            pass
    msg = str(info.value)
    assert "if (x > 0).any():  # the user's line" in msg
    for word in ("aotsym.ifelse", "T.switch", "aotsym.scan"):
        assert word in msg
    for boolean in (T.eq(x, 1), T.isnan(x), (x > 0) & (x < 1), T.bvector("b") > 0):
        with pytest.raises(TypeError):
            bool(boolean)


# ---------------------------------------------------------------------------- dtypes, softmax


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "int64", "uint16"])
def test_mean_of_integers_is_float64(dtype):
    x = T.tensor(dtype, (False,), name="x")
    m = T.mean(x)
    assert m.dtype == "float64"
    v = (np.arange(5) % 2).astype(dtype)
    assert run([x], m)(v) == pytest.approx(np.mean(v))


def test_nnet_softmax_of_a_vector_is_a_row():
    v = T.vector("v")
    row = T.nnet.softmax(v)
    assert row.broadcastable == (True, False)
    xv = RNG.standard_normal(4)
    e = np.exp(xv - xv.max())
    np.testing.assert_allclose(run([v], row, "FAST_RUN")(xv), (e / e.sum())[None, :])
    np.testing.assert_allclose(run([v], T.nnet.log_softmax(v))(xv),
                               np.log(e / e.sum())[None, :])
    # T.softmax keeps NumPy-style axes: a vector stays a vector
    assert T.softmax(v).ndim == 1
    m = T.tensor3("m")
    mv = RNG.standard_normal((2, 3, 4))
    ex = np.exp(mv - mv.max(axis=1, keepdims=True))
    np.testing.assert_allclose(run([m], T.softmax(m, axis=1))(mv),
                               ex / ex.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(run([m], T.nnet.softmax(m, axis=-1))(mv).sum(axis=-1), 1)


# ---------------------------------------------------------------------------- small names


def test_module_paths_ported_code_imports():
    for path in ("aotsym.tensor.nnet", "aotsym.tensor.extra_ops", "aotsym.tensor.xlogx",
                 "aotsym.scalar"):
        importlib.import_module(path)
    from aotsym.tensor.nnet import softmax  # noqa: F401
    assert importlib.import_module("aotsym.tensor.nnet") is T.nnet
    assert T.nnet.relu is not None and T.nnet.binary_crossentropy is not None


def test_scalar_upcast():
    from aotsym import scalar
    assert scalar.upcast("int32", "float32") == "float64"
    assert scalar.upcast("int8", "int16") == "int16"
    assert scalar.upcast("float32") == "float32"
    assert scalar.upcast(np.float32, "int64") == np.result_type(np.float32, np.int64).name


def test_config_warn_flags_are_accepted():
    aotsym.config.warn.sum_div_dimshuffle_bug = False
    aotsym.config.warn.ignore_bug_before = "all"
    assert aotsym.config.warn.sum_div_dimshuffle_bug is False
    assert aotsym.config.warn.subtensor_merge_bug is False     # never set: off
    aotsym.config.set("warn.round", False, "AOTSYM_FLAGS")
    assert aotsym.config.warn.round is False


def test_xlogx_and_xlogy0():
    x, y = T.vectors("x", "y")
    xv = np.array([0.0, 0.5, 1.0, 2.0])
    yv = np.array([0.0, 3.0, 0.1, 2.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(run([x], T.xlogx.xlogx(x), "FAST_RUN")(xv),
                                   np.where(xv == 0, 0, xv * np.log(xv)))
        np.testing.assert_allclose(run([x, y], T.xlogx.xlogy0(x, y))(xv, yv),
                                   np.where(xv == 0, 0, xv * np.log(yv)))
    g = run([x], aotsym.grad(T.xlogx.xlogx(x).sum(), x))(xv)
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g[1:], np.log(xv[1:]) + 1)


def test_nnet_relu_and_crossentropies():
    x, t = T.matrix("x"), T.matrix("t")
    xv = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(run([x], T.nnet.relu(x))(xv), np.maximum(xv, 0))
    np.testing.assert_allclose(run([x], T.nnet.relu(x, 0.1))(xv), np.where(xv > 0, xv, 0.1 * xv))
    p = 1 / (1 + np.exp(-xv))
    tv = (RNG.random((3, 4)) > 0.5).astype(float)
    np.testing.assert_allclose(
        run([x, t], T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t))(xv, tv),
        -(tv * np.log(p) + (1 - tv) * np.log(1 - p)))
    sm = np.exp(xv) / np.exp(xv).sum(axis=1, keepdims=True)
    labels = T.ivector("labels")
    lv = np.array([0, 3, 1], dtype="int32")
    np.testing.assert_allclose(
        run([x, labels], T.nnet.categorical_crossentropy(T.nnet.softmax(x), labels))(xv, lv),
        -np.log(sm[np.arange(3), lv]))


# ---------------------------------------------------------------------------- extra_ops


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumsum_cumprod_against_numpy_and_gradient(axis):
    x = T.matrix("x")
    xv = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(run([x], T.extra_ops.cumsum(x, axis))(xv), np.cumsum(xv, axis))
    np.testing.assert_allclose(run([x], T.extra_ops.cumprod(x, axis))(xv),
                               np.cumprod(xv, axis))
    ax = -1 if axis is None else axis
    aotsym.gradient.verify_grad(lambda v: T.extra_ops.cumsum(v, ax), [xv])
    aotsym.gradient.verify_grad(lambda v: T.extra_ops.cumprod(v, ax), [xv + 3])


def test_cumsum_compiles_in_fast_run():
    """(It used to be a build error; tests/emit_c/test_emit_cumulative.py checks the C.)"""
    x = T.vector("x")
    f = aotsym.function([x], T.extra_ops.cumsum(x), mode="FAST_RUN")
    v = np.array([1.0, -0.0, np.inf, 2.0], dtype=x.dtype)
    np.testing.assert_array_equal(f(v), np.cumsum(v))


def test_diff_squeeze_repeat_against_numpy():
    x = T.matrix("x")
    xv = RNG.standard_normal((3, 5))
    for n, axis in [(1, -1), (2, 1), (1, 0)]:
        np.testing.assert_allclose(run([x], T.extra_ops.diff(x, n, axis), "FAST_RUN")(xv),
                                   np.diff(xv, n, axis))
    r = T.row("r")
    assert T.extra_ops.squeeze(r).ndim == 1
    np.testing.assert_allclose(run([r], T.extra_ops.squeeze(r))(xv[:1]), xv[0])
    for axis in (None, 0, 1):
        np.testing.assert_allclose(run([x], T.extra_ops.repeat(x, 3, axis), "FAST_RUN")(xv),
                                   np.repeat(xv, 3, axis))
    counts = np.array([1, 0, 2])
    np.testing.assert_allclose(run([x], T.extra_ops.repeat(x, counts, 0))(xv),
                               np.repeat(xv, counts, 0))
    aotsym.gradient.verify_grad(lambda v: T.extra_ops.repeat(v, counts, 0), [xv])
    aotsym.gradient.verify_grad(lambda v: T.extra_ops.repeat(v, 2, 1), [xv])


def test_bincount_fill_diagonal_to_one_hot():
    i = T.lvector("i")
    w = T.vector("w")
    iv = np.array([0, 3, 3, 1, 0, 3])
    wv = RNG.random(6)
    np.testing.assert_array_equal(run([i], T.extra_ops.bincount(i))(iv), np.bincount(iv))
    np.testing.assert_array_equal(run([i], T.extra_ops.bincount(i, minlength=6))(iv),
                                  np.bincount(iv, minlength=6))
    np.testing.assert_allclose(run([i, w], T.extra_ops.bincount(i, w))(iv, wv),
                               np.bincount(iv, wv))
    with pytest.raises(ValueError, match="non-negative"):
        run([i], T.extra_ops.bincount(i))(np.array([1, -1]))
    a = T.matrix("a")
    av = RNG.standard_normal((3, 4))
    expected = av.copy()
    np.fill_diagonal(expected, 5.0)
    np.testing.assert_allclose(run([a], T.extra_ops.fill_diagonal(a, 5.0))(av), expected)
    y = T.ivector("y")
    yv = np.array([2, 0, 1], dtype="int32")
    hot = run([y], T.extra_ops.to_one_hot(y, 4), "FAST_RUN")(yv)
    np.testing.assert_array_equal(hot, np.eye(4)[yv])
    assert hot.dtype == aotsym.config.floatX


# ---------------------------------------------------------------------------- tutorials


class LogisticRegression:
    """deeplearning.net's logistic_sgd.py, as written for Theano (imports changed only)."""

    def __init__(self, input, n_in, n_out):
        self.W = aotsym.shared(value=np.zeros((n_in, n_out), dtype=aotsym.config.floatX),
                               name="W", borrow=True)
        self.b = aotsym.shared(value=np.zeros((n_out,), dtype=aotsym.config.floatX),
                               name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError("y should have the same shape as self.y_pred",
                            ("y", y.type, "y_pred", self.y_pred.type))
        if y.dtype.startswith("int"):
            return T.mean(T.neq(self.y_pred, y))
        raise NotImplementedError()


class HiddenLayer:
    """deeplearning.net's mlp.py HiddenLayer (the ``if W is None`` / ``if not b`` checks)."""

    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.tanh):
        self.input = input
        if W is None:
            W_values = np.asarray(rng.uniform(low=-np.sqrt(6. / (n_in + n_out)),
                                              high=np.sqrt(6. / (n_in + n_out)),
                                              size=(n_in, n_out)), dtype=aotsym.config.floatX)
            if activation == T.nnet.sigmoid:
                W_values *= 4
            W = aotsym.shared(value=W_values, name="W", borrow=True)
        if not b:
            b = aotsym.shared(value=np.zeros((n_out,), dtype=aotsym.config.floatX), name="b",
                              borrow=True)
        self.W, self.b = W, b
        lin_output = T.dot(input, self.W) + self.b
        self.output = lin_output if activation is None else activation(lin_output)
        self.params = [self.W, self.b]


class MLP:
    def __init__(self, rng, input, n_in, n_hidden, n_out):
        self.hiddenLayer = HiddenLayer(rng=rng, input=input, n_in=n_in, n_out=n_hidden,
                                       activation=T.tanh)
        self.logRegressionLayer = LogisticRegression(input=self.hiddenLayer.output,
                                                     n_in=n_hidden, n_out=n_out)
        self.L1 = abs(self.hiddenLayer.W).sum() + abs(self.logRegressionLayer.W).sum()
        self.L2_sqr = (self.hiddenLayer.W ** 2).sum() + (self.logRegressionLayer.W ** 2).sum()
        self.negative_log_likelihood = self.logRegressionLayer.negative_log_likelihood
        self.errors = self.logRegressionLayer.errors
        self.params = self.hiddenLayer.params + self.logRegressionLayer.params
        self.input = input


def blobs(n=120, d=6, k=3):
    centers = RNG.standard_normal((k, d)) * 3
    labels = RNG.integers(0, k, n)
    return (centers[labels] + RNG.standard_normal((n, d))).astype("float64"), labels


def train_minibatches(classifier, x, y, cost, data, batch_size=20, lr=0.1, epochs=30):
    data_x, data_y = data
    train_set_x = aotsym.shared(data_x, borrow=True)
    train_set_y = T.cast(aotsym.shared(data_y.astype("float64"), borrow=True), "int32")
    index = T.lscalar()
    gparams = [T.grad(cost, param) for param in classifier.params]
    updates = [(param, param - lr * gparam) for param, gparam in zip(classifier.params, gparams)]
    train_model = aotsym.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_set_x[index * batch_size:(index + 1) * batch_size],
                y: train_set_y[index * batch_size:(index + 1) * batch_size]})
    test_model = aotsym.function(inputs=[], outputs=classifier.errors(y),
                                 givens={x: train_set_x, y: train_set_y})
    n_batches = len(data_x) // batch_size
    first = test_model()
    for _ in range(epochs):
        for i in range(n_batches):
            train_model(i)
    return first, test_model()


def test_tutorial_logistic_regression_learns():
    x, y = T.matrix("x"), T.ivector("y")
    classifier = LogisticRegression(input=x, n_in=6, n_out=3)
    cost = classifier.negative_log_likelihood(y)
    before, after = train_minibatches(classifier, x, y, cost, blobs())
    assert before > 0.3 and after < 0.05
    assert classifier.errors(y).dtype == "float64"


def test_tutorial_mlp_learns_and_pickles():
    import pickle
    x, y = T.matrix("x"), T.ivector("y")
    rng = np.random.RandomState(1234)
    classifier = MLP(rng=rng, input=x, n_in=6, n_hidden=10, n_out=3)
    cost = (classifier.negative_log_likelihood(y) + 0.0 * classifier.L1
            + 0.0001 * classifier.L2_sqr)
    before, after = train_minibatches(classifier, x, y, cost, blobs(), lr=0.05)
    assert after < 0.05 < before
    # the tutorial's best-model checkpoint: pickle.dump(classifier), then predict
    saved = pickle.loads(pickle.dumps(classifier))
    predict = aotsym.function([saved.input], saved.logRegressionLayer.y_pred)
    assert predict(blobs(5)[0]).shape == (5,)


# ---------------------------------------------------------------------------- eval


def test_eval_reads_shared_variables():
    # logistic_sgd's load_data returns T.cast(shared_y, 'int32'); code reads it by .eval()
    shared_y = aotsym.shared(np.array([1.0, 2.0, 0.0]), borrow=True)
    labels = T.cast(shared_y, "int32")
    out = labels.eval()
    assert out.dtype == np.int32 and out.tolist() == [1, 2, 0]
    x = T.vector("x")
    assert (x * shared_y).eval({x: np.ones(3)}).tolist() == [1.0, 2.0, 0.0]


def test_eval_advances_a_random_stream():
    from aotsym.tensor.shared_randomstreams import RandomStreams
    draw = RandomStreams(seed=5).uniform((4,))
    first, second = draw.eval(), draw.eval()
    assert first.shape == (4,) and not np.array_equal(first, second)
