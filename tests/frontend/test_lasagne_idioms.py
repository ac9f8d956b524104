"""Theano idioms that Lasagne (the Theano neural-network library) uses, ported unchanged.

Each test reproduces, without Lasagne, a call Lasagne's layers or tests make that aotsym got
wrong or refused; values are checked against NumPy, compiled (FAST_RUN) and by the reference
evaluator (FAST_COMPILE) where the idiom computes something.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T

MODES = ("FAST_RUN", "FAST_COMPILE")


# ---------------------------------------------------------------------------- graph walks


def test_gof_graph_inputs_in_theanos_depth_first_order():
    # lasagne.utils.collect_shared_vars: a layer's parameters, in Theano's order
    x = T.matrix("x")
    W = aotsym.shared(np.ones((3, 2)), name="W")
    b = aotsym.shared(np.zeros(2), name="b")
    V = aotsym.shared(np.ones((2, 2)), name="V")
    h = T.tanh(T.dot(x, W) + b)
    out = T.dot(h, V)
    found = [v for v in aotsym.gof.graph.inputs(reversed([out]))
             if isinstance(v, aotsym.compile.SharedVariable)]
    assert found == [W, b, V]
    # several expressions: the first one is searched first (reversed, then popped)
    found = [v for v in aotsym.gof.graph.inputs(reversed([b * 2, W.sum() + V.sum()]))
             if isinstance(v, aotsym.compile.SharedVariable)]
    assert found == [b, W, V]
    assert aotsym.gof.graph.inputs([out], blockers=[h]) == [V]
    assert aotsym.gof.graph.ancestors([out])[0] is out
    nodes = aotsym.gof.graph.io_toposort([h], [out])
    assert [n.outputs[0] for n in nodes] == [out]


def test_tensor_variable_classes_and_shared_in_compile():
    x = T.matrix()
    assert isinstance(x, T.TensorVariable)
    assert isinstance(T.constant(1.0), T.TensorConstant)
    w = aotsym.shared(np.zeros(3))
    assert isinstance(w, T.TensorSharedVariable) and isinstance(w, aotsym.compile.SharedVariable)
    assert not isinstance(x, aotsym.compile.SharedVariable)


def test_equal_computations():
    from aotsym.scan_module.scan_utils import equal_computations
    A = aotsym.shared(np.ones((2, 2)), name="A")
    B = aotsym.shared(np.ones((2, 2)), name="B")
    assert equal_computations([(A ** 2).sum()], [(A ** 2).sum()])
    assert equal_computations([sum([(A ** 2).sum(), (B ** 2).sum()])],
                              [sum([(A ** 2).sum(), (B ** 2).sum()])])
    assert not equal_computations([(A ** 2).sum() + (B ** 2).sum()],
                                  [sum([(A ** 2).sum(), (B ** 2).sum()])])   # 0 + a + b
    c1, c2 = T.constant(np.array([1.0, np.nan])), T.constant(np.array([1.0, np.nan]))
    assert equal_computations([A.sum() * c1], [A.sum() * c2])
    assert not equal_computations([(A ** 2).sum()], [(B ** 2).sum()])
    assert not equal_computations([(A ** 2).sum()], [(A ** 3).sum()])
    x, y = T.vectors("x", "y")
    assert equal_computations([x * 2], [y * 2], [x], [y])
    assert not equal_computations([x * 2], [y * 2])


def test_gpu_probes_answer_no_gpu():
    # Lasagne's dnn/corrmm modules and its conv tests probe these
    from aotsym import gpuarray
    assert gpuarray.pygpu_activated is False
    assert gpuarray.dnn.dnn_present() is False and gpuarray.dnn.dnn_present.msg


# ---------------------------------------------------------------------------- tensor API


def test_plural_constructors_split_one_string_per_character():
    p, t = T.matrices("pt")                  # lasagne/tests/test_objectives.py
    assert (p.name, t.name, p.ndim) == ("p", "t", 2)
    a, b, c = T.fvectors("abc")
    assert (a.dtype, c.name) == ("float32", "c")
    one = T.vectors("v")                     # Theano: one character, the variable itself
    assert isinstance(one, T.TensorVariable) and one.name == "v"
    assert [v.name for v in T.scalars("x", "y")] == ["x", "y"]
    assert [v.name for v in T.scalars("x, y")] == ["x", "y"]
    assert len(T.matrices(3)) == 3


def test_shape_of_shared_variable_evaluates():
    # lasagne/tests/layers/test_dense.py: layer.b.shape.eval()
    b = aotsym.shared(np.zeros((5, 4, 3)))
    np.testing.assert_array_equal(b.shape.eval(), [5, 4, 3])
    assert b.shape.ndim == 1 and b.shape.dtype == "int64"
    assert b.shape[1] is not None and len(b.shape) == 3      # still a tuple of scalars
    x = T.matrix("x")
    f = aotsym.function([x], x.shape.prod())
    assert f(np.zeros((3, 4))) == 12
    # arithmetic is the vector's, as in Theano (a tuple would repeat / concatenate)
    g = aotsym.function([x], [x.shape * 2, 1 + x.shape, x.shape // 2, -x.shape,
                              x.shape + (0, 1)])
    got = g(np.zeros((3, 4)))
    for a, b in zip(got, [[6, 8], [4, 5], [1, 2], [-3, -4], [3, 5]]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", MODES)
def test_index_with_a_list_holding_slices(mode):
    # lasagne.layers.merge.autocrop: input[slices] with slices a list of slice objects
    x = T.tensor3("x")
    v = np.arange(24.0).reshape(2, 3, 4)
    crop = [slice(None), slice(1, 3), slice(0, 4, 2)]
    y = x[crop]
    z = T.set_subtensor(x[[slice(None), slice(0, 1)]], -1.0)
    f = aotsym.function([x], [y, z], mode=mode)
    got_y, got_z = f(v)
    np.testing.assert_array_equal(got_y, v[tuple(crop)])
    want_z = v.copy()
    want_z[:, 0:1] = -1.0
    np.testing.assert_array_equal(got_z, want_z)
    # a list of integers is still an index array, as in NumPy
    np.testing.assert_array_equal(aotsym.function([x], x[[1, 0]], mode=mode)(v), v[[1, 0]])


def test_relu_of_numpy_values_is_a_numpy_value():
    # Lasagne's rectify is T.nnet.relu; its tests apply it to arrays to get the expected values
    v = np.array([-2.0, -0.0, 0.5, np.nan, np.inf], dtype="float32")
    got = T.nnet.relu(v)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_array_equal(got, [0.0, 0.0, 0.5, np.nan, np.inf])
    assert T.nnet.relu(-3.0) == 0.0 and T.nnet.relu(2) == 2
    assert isinstance(T.nnet.relu(v, alpha=0.1), T.TensorVariable)   # Theano: symbolic too
    x = T.vector("x")
    assert isinstance(T.nnet.relu(x), T.TensorVariable)


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("mode", MODES)
def test_grad_clip_clips_the_gradient_not_the_value(mode):
    x = T.vector("x")
    y = aotsym.gradient.grad_clip(x * 3.0, -1.0, 2.0)
    cost = (y ** 2).sum()
    g = aotsym.grad(cost, x)
    f = aotsym.function([x], [y, g], mode=mode)
    v = np.array([-2.0, -0.1, 0.0, 0.2, 5.0, np.nan])
    got_y, got_g = f(v)
    np.testing.assert_array_equal(got_y, v * 3.0)
    want_g = np.clip(2 * v * 3.0, -1.0, 2.0) * 3.0
    np.testing.assert_allclose(got_g, want_g)
    s = aotsym.gradient.grad_scale(x, 0.5)
    gs = aotsym.function([x], aotsym.grad((s ** 2).sum(), x), mode=mode)(v[:5])
    np.testing.assert_allclose(gs, 0.5 * 2 * v[:5])


def test_grad_clip_keeps_float32_and_refuses_symbolic_bounds():
    x = T.fvector("x")
    g = aotsym.grad(aotsym.gradient.grad_clip(x, -1, 1).sum() * 3, x)
    assert g.dtype == "float32"
    np.testing.assert_array_equal(g.eval({x: np.zeros(2, "float32")}), [1, 1])
    with pytest.raises(TypeError, match="Python number"):
        aotsym.gradient.grad_clip(x, T.scalar(), 1.0)
    with pytest.raises(ValueError, match="above"):
        aotsym.gradient.grad_clip(x, 1.0, -1.0)


def test_grad_of_an_integer_cost_is_zero():
    # lasagne/tests/test_updates.py: theano.grad(A + B, [A, B]) on int shared variables
    A, B = aotsym.shared(1), aotsym.shared(1)
    gA, gB = aotsym.grad(A + B, [A, B])
    assert gA.dtype == aotsym.config.floatX
    assert float(gA.eval()) == 0.0 and float(gB.eval()) == 0.0
    x = T.vector("x")
    gx = aotsym.grad(T.cast(x * 2, "int64").sum(), x)     # through an integer value
    assert gx.dtype == x.dtype
    np.testing.assert_array_equal(aotsym.function([x], gx)(np.ones(3)), np.zeros(3))
    with pytest.raises(ValueError, match="does not depend"):
        aotsym.grad(A + 1, [B])


# ---------------------------------------------------------------------------- scan


def _gru_like(W_r, W_u, x_seq, h0, clip):
    """NumPy: h_t = (1 - u) h + u tanh(x + r * (h W_r)), r = sigmoid(h W_r), u = sigmoid(h W_u)."""
    sig = lambda z: 1 / (1 + np.exp(-z))   # noqa: E731
    h = h0
    hs = []
    for xt in x_seq:
        r = sig(h @ W_r)
        u = sig(h @ W_u)
        h = (1 - u) * h + u * np.tanh(xt + r * (h @ W_r))
        hs.append(h)
    return np.array(hs)


@pytest.mark.parametrize("mode", MODES)
def test_scan_strict_step_reads_its_non_sequence_by_closure(mode):
    # lasagne.layers.GRULayer: W_stacked is built outside the step, passed in non_sequences
    # with strict=True, and the step reads the outer variable itself (a closure)
    rng = np.random.RandomState(0)
    n = 3
    W_r = aotsym.shared(rng.randn(n, n) * 0.5, name="W_r")
    W_u = aotsym.shared(rng.randn(n, n) * 0.5, name="W_u")
    W_stacked = T.concatenate([W_r, W_u], axis=1)
    x = T.matrix("x")
    h0 = T.vector("h0")

    def step(x_t, h_prev, *args):
        hid = T.dot(h_prev, W_stacked)
        hid = aotsym.gradient.grad_clip(hid, -5.0, 5.0)
        r = T.nnet.sigmoid(hid[:n])
        u = T.nnet.sigmoid(hid[n:])
        return (1 - u) * h_prev + u * T.tanh(x_t + r * hid[:n])

    hs, _ = aotsym.scan(step, sequences=x, outputs_info=[h0], non_sequences=[W_stacked],
                        strict=True)
    node = hs.owner
    while node is not None and type(node.op).__name__ != "Scan":
        node = node.inputs[0].owner
    assert node is not None and W_r not in node.inputs     # one input: W_stacked
    cost = hs[-1].sum()
    g = aotsym.grad(cost, W_r)
    f = aotsym.function([x, h0], [hs, g], mode=mode)
    xv, hv = rng.randn(4, n), rng.randn(n)
    got_h, got_g = f(xv, hv)
    wr, wu = W_r.get_value(), W_u.get_value()
    np.testing.assert_allclose(got_h, _gru_like(wr, wu, xv, hv, 5.0), rtol=1e-12)
    eps, num = 1e-6, np.zeros_like(wr)
    for i in range(n):
        for j in range(n):
            d = np.zeros_like(wr)
            d[i, j] = eps
            num[i, j] = (_gru_like(wr + d, wu, xv, hv, 5.0)[-1].sum()
                         - _gru_like(wr - d, wu, xv, hv, 5.0)[-1].sum()) / (2 * eps)
    np.testing.assert_allclose(got_g, num, rtol=1e-5, atol=1e-8)


def test_scan_strict_accepts_free_symbolic_inputs_and_refuses_free_shared():
    x, c = T.vector("x"), T.scalar("c")
    w = aotsym.shared(2.0, name="w")
    out, _ = aotsym.scan(lambda v: v * c, sequences=x, strict=True)   # Theano: implicit
    np.testing.assert_array_equal(out.eval({x: np.arange(3.0), c: 3.0}), [0, 3, 6])
    with pytest.raises(Exception, match="shared variable w"):
        aotsym.scan(lambda v: v * w, sequences=x, strict=True)
    out, _ = aotsym.scan(lambda v, ww: v * w, sequences=x, non_sequences=[w], strict=True)
    np.testing.assert_array_equal(out.eval({x: np.arange(3.0)}), [0, 2, 4])


# ---------------------------------------------------------------------------- convolution


def _conv_valid(x, w, stride, flip):
    """NumPy: a 'valid' strided 2-D convolution (flip) or cross-correlation of NCHW x."""
    wf = w[:, :, ::-1, ::-1] if flip else w
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("ncab,ocab->no", patch, wf)
    return out


def _conv_grad_inputs(gz, w, shape, stride, flip):
    wf = w[:, :, ::-1, ::-1] if flip else w
    gx = np.zeros(shape)
    kh, kw = w.shape[2:]
    for i in range(gz.shape[2]):
        for j in range(gz.shape[3]):
            gx[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
                np.einsum("no,ocab->ncab", gz[:, :, i, j], wf)
    return gx


@pytest.mark.parametrize("mode", MODES)
def test_abstract_conv_gradient_ops_built_the_theano_way(mode):
    # lasagne.layers.TransposedConv2DLayer and DilatedConv2DLayer build these ops with
    # imshp=/kshp= hints and call them op(kernel, topgrad, output_size)
    from aotsym.tensor.nnet import abstract_conv
    rng = np.random.RandomState(1)
    W = T.tensor4("W")
    top = T.tensor4("top")
    inp = T.tensor4("inp")
    op_in = abstract_conv.AbstractConv2d_gradInputs(
        imshp=(2, 3, 7, 8), kshp=(4, 3, 3, 2), subsample=(2, 2), border_mode="valid",
        filter_flip=True)
    size = T.iscalar("size")
    gx = op_in(W, top, (7, size))
    op_w = abstract_conv.AbstractConv2d_gradWeights(
        imshp=(2, 3, 7, 8), kshp=(4, 3, 3, 2), subsample=(2, 2), border_mode="valid",
        filter_flip=False)
    gw = op_w(inp, top, T.as_tensor_variable(np.array([3, 2])))
    f = aotsym.function([W, top, inp, size], [gx, gw], mode=mode)
    wv = rng.randn(4, 3, 3, 2)
    tv = rng.randn(2, 4, 3, 4)
    xv = rng.randn(2, 3, 7, 8)
    got_x, got_w = f(wv, tv, xv, 8)
    np.testing.assert_allclose(got_x, _conv_grad_inputs(tv, wv, (2, 3, 7, 8), 2, True),
                               rtol=1e-12, atol=1e-12)
    # gradWeights(x, top) is the gradient of sum(conv(x, w) * top) w.r.t. w
    want_w = np.zeros((4, 3, 3, 2))
    for idx in np.ndindex(*want_w.shape):
        d = np.zeros_like(want_w)
        d[idx] = 1.0
        want_w[idx] = (_conv_valid(xv, d, 2, False) * tv).sum()
    np.testing.assert_allclose(got_w, want_w, rtol=1e-12, atol=1e-12)
    with pytest.raises(NotImplementedError):
        abstract_conv.AbstractConv2d(unshared=True)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv1d_by_one_tensordot_compiles(stride):
    # lasagne.theano_extensions.conv.conv1d_sd: shifted reshaped copies of a zero-padded
    # input, stacked and contracted with the filters by one tensordot.  Constant folding
    # turned the reshape's stacked constant lengths into a one-element constant vector, the
    # rebuilt Reshape forgot its length-1 axes, and compiling failed in the optimizer
    # (a DimShuffle made for (False, True, True, False) applied to four unknown lengths)
    X, W = T.tensor3("X"), T.tensor3("W")
    batch, ch, n, nf, flen = 1, 1, 10, 2, 6
    num_steps = flen // stride
    padded = (n // flen) * flen + (num_steps - 1) * stride
    trunc = min(n, padded)
    xp = T.set_subtensor(T.zeros((batch, ch, padded))[:, :, :trunc], X[:, :, :trunc])
    parts = []
    for k in range(num_steps):
        shift = k * stride
        length = (padded - shift) // flen
        parts.append(xp[:, :, shift:length * flen + shift].reshape((batch, ch, length, flen)))
    r = T.tensordot(T.stack(*parts), W[:, :, ::-1], np.asarray([[2, 4], [1, 2]]))
    r = r.dimshuffle(1, 3, 2, 0)
    out = r.reshape((r.shape[0], r.shape[1], r.shape[2] * r.shape[3]))
    out = out[:, :, :(n - flen + stride) // stride]
    rng = np.random.RandomState(2)
    xv, wv = rng.randn(batch, ch, n), rng.uniform(-1, 1, (nf, ch, flen))
    want = np.array([[np.convolve(xv[0, 0], w[0], mode="valid")[::stride] for w in wv]])
    for mode in MODES:
        got = aotsym.function([X, W], out, mode=mode)(xv, wv)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_function_input_computed_from_other_variables_cuts_the_graph(mode):
    # Theano: theano.function([hidden], output) evaluates the graph above `hidden` from a
    # given value of it (lasagne/tests/layers/test_recurrent.py::test_recurrent_bck gives
    # the layer's output itself); aotsym refused inputs that are not leaves
    x = T.matrix("x")
    W = aotsym.shared(np.arange(6.0).reshape(3, 2), name="W")
    hidden = T.tanh(T.dot(x, W))
    out = T.nnet.softmax(hidden * 2.0)
    h = np.array([[0.1, -0.3], [2.0, 0.5]])
    got = aotsym.function([hidden], out, mode=mode)(h)
    e = np.exp(2 * h - (2 * h).max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(aotsym.function([hidden], hidden, mode=mode)(h), h)
    xv = np.ones((2, 3))
    both = aotsym.function([x, hidden], out + x.sum(), mode=mode)(xv, h)   # x still read
    np.testing.assert_allclose(both, got + 6.0, rtol=1e-12)


def test_theano_constant_autocasts_python_numbers():
    # lasagne.updates.adam/rmsprop/adadelta: one = T.constant(1) "to prevent upcasting of
    # float32"; aotsym's int64 constant made (one - beta1) * g float64 under floatX=float32,
    # and the update of a float32 parameter was refused
    assert T.constant(1).dtype == "int8" and T.constant(-129).dtype == "int16"
    assert T.constant(2 ** 40).dtype == "int64" and T.constant(2 ** 63).dtype == "uint64"
    assert T.constant(np.int64(1)).dtype == "int64"            # NumPy values keep theirs
    assert T.constant(np.float64(0.5)).dtype == "float64"
    assert T.constant(True).dtype == "bool"
    assert T.constant(3, ndim=2).broadcastable == (True, True)
    with pytest.raises(ValueError):
        T.constant(np.zeros(3), ndim=0)
    with aotsym.config.change_flags(floatX="float32"):
        assert T.constant(0.5).dtype == "float32"
        one = T.constant(1)
        g = T.fvector("g")
        t = aotsym.shared(np.float32(0)) + 1
        a_t = 0.001 * T.sqrt(one - 0.999 ** t) / (one - 0.9 ** t)
        m = aotsym.shared(np.zeros(3, "float32"))
        step = a_t * (0.9 * m + (one - 0.9) * g)
        assert step.dtype == "float32"
        f = aotsym.function([g], step, updates={m: m - step})
        gv = np.array([1.0, -2.0, 0.5], "float32")
        want = 0.001 * np.sqrt(np.float32(1 - 0.999)) / np.float32(1 - 0.9) * (
            np.float32(0.1) * gv)
        np.testing.assert_allclose(f(gv), want, rtol=1e-5)
    assert T.constant(0.5).dtype == aotsym.config.floatX


@pytest.mark.parametrize("mode", MODES)
def test_relu_gradient_at_zero_is_theanos(mode):
    # Theano's relu is f1 * x + f2 * abs(x) (f1 = (1 + alpha) / 2, f2 = (1 - alpha) / 2): its
    # gradient where x is exactly 0 is f1 (0.5 for rectify).  Such zeros are common in a
    # Lasagne network (zero bias on zero inputs, e.g. a transposed convolution of rectified
    # maps); aotsym gave 1 (alpha), and a finite-difference check of Lasagne's
    # TransposedConv2DLayer network disagreed with it (3.1337 vs 3.1347)
    x = T.vector("x")
    v = np.array([-2.0, -0.0, 0.0, 3.0, np.nan, -np.inf, np.inf])
    for alpha in (0, 0.1):
        y = T.nnet.relu(x, alpha)
        g = aotsym.grad((y * np.arange(1.0, 8.0)).sum(), x)
        got_y, got_g = aotsym.function([x], [y, g], mode=mode)(v)
        with np.errstate(invalid="ignore"):
            want = np.maximum(v, 0) if alpha == 0 else np.where(v > 0, v, alpha * v)
            np.testing.assert_array_equal(got_y, want)
        f1, f2 = 0.5 * (1 + alpha), 0.5 * (1 - alpha)
        np.testing.assert_allclose(got_g, (f1 + f2 * np.sign(v)) * np.arange(1.0, 8.0))
    a = T.scalar("a")
    ga = aotsym.grad(T.nnet.relu(x, a).sum(), a)
    got = aotsym.function([x, a], ga, mode=mode)(np.array([-2.0, 0.0, 3.0]), 0.3)
    assert got == -2.0


@pytest.mark.parametrize("mode", MODES)
def test_clone_without_sharing_inputs_keeps_the_storage_not_the_identity(mode):
    # lasagne.layers.BatchNormLayer: running_mean = theano.clone(self.mean,
    # share_inputs=False); running_mean.default_update = ...; mean += 0 * running_mean.
    # Only the training function holds the clone, so only it updates the statistics.
    # aotsym's clone returned self.mean itself: the default_update landed on the mean, and
    # every prediction function (deterministic=True, reading self.mean) updated the running
    # mean with its own inputs
    x = T.matrix("x")
    mean = aotsym.shared(np.zeros(3), name="mean")
    running = aotsym.clone(mean, share_inputs=False)
    assert running is not mean and running.type == mean.type
    alpha = 0.5
    running.default_update = (1 - alpha) * running + alpha * x.mean(axis=0)
    train = aotsym.function([x], x - x.mean(axis=0) + 0 * running, mode=mode)
    test = aotsym.function([x], x - mean, mode=mode)
    xv = np.arange(12.0).reshape(4, 3)
    train(xv)
    np.testing.assert_allclose(mean.get_value(), 0.5 * xv.mean(axis=0))
    np.testing.assert_allclose(test(xv * 10), xv * 10 - 0.5 * xv.mean(axis=0))
    np.testing.assert_allclose(mean.get_value(), 0.5 * xv.mean(axis=0))   # unchanged
    assert mean.default_update is None
    mean.set_value(np.ones(3))                       # one storage, seen through both
    np.testing.assert_array_equal(running.get_value(), np.ones(3))
    train(xv)
    np.testing.assert_allclose(mean.get_value(), 0.5 + 0.5 * xv.mean(axis=0))
    # symbolic inputs are cloned too (Theano), and replacements still apply
    y = T.vector("y")
    e = aotsym.clone(y * 2 + mean, share_inputs=False)
    assert y not in aotsym.gof.graph.inputs([e]) and mean not in aotsym.gof.graph.inputs([e])
    e2 = aotsym.clone(y * 2 + mean, replace={y: x[0]}, share_inputs=False)
    e2_inputs = aotsym.gof.graph.inputs([e2])   # the replacement's x is copied (Theano's)
    assert x not in e2_inputs and [v.name for v in e2_inputs if v.type == x.type] == ["x"]


def test_shared_clone_pickles_with_its_storage():
    import pickle
    mean = aotsym.shared(np.arange(3.0), name="mean")
    running = aotsym.clone(mean, share_inputs=False)
    running.default_update = running + 1
    m2, r2 = pickle.loads(pickle.dumps((mean, running)))
    r2.set_value(np.zeros(3))
    np.testing.assert_array_equal(m2.get_value(), np.zeros(3))
    np.testing.assert_array_equal(mean.get_value(), np.arange(3.0))
    f = aotsym.function([], r2 * 1)
    f()
    np.testing.assert_array_equal(m2.get_value(), np.ones(3))


def test_eval_converts_given_values_and_cuts_at_a_given_intermediate():
    # Theano's eval is a compiled function of its givens: each value goes through the input
    # rule (float32 data for a float64 variable is upcast; a lossy conversion is refused),
    # and a given variable computed from others cuts the graph there (Lasagne's
    # test_recurrent.py gives layer outputs to eval)
    x = T.vector("x")                                   # float64
    y = x * 2
    got = y.eval({x: np.array([1.5, -2.0], dtype="float32")})
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [3.0, -4.0])
    f = T.vector("f", dtype="float32")
    with pytest.raises(TypeError):
        (f * 2).eval({f: np.array([0.1, 0.2])})        # float64 data, float32 variable
    W = aotsym.shared(np.arange(6.0).reshape(3, 2), name="W")
    m = T.matrix("m")
    hidden = T.tanh(T.dot(m, W))
    h = np.array([[0.25, -1.0]])
    np.testing.assert_array_equal((hidden * 2).eval({hidden: h}), h * 2)


def test_tensor_type_accepts_theanos_name_and_sparse_grad():
    # Theano: TensorType(dtype, broadcastable, name=None, sparse_grad=False)
    t = aotsym.tensor.TensorType("float32", (False, True), name="row", sparse_grad=False)
    assert t is aotsym.tensor.TensorType("float32", (False, True))
    v = t("v")
    assert v.dtype == "float32" and v.broadcastable == (False, True)
