"""The models of popular stand-alone Theano scripts, trimmed, trained a few steps.

One test per script family (see :mod:`tests.frontend.test_thirdparty_scripts` for the
scripts): the model as the script writes it, with the same API calls, small; trained a few
steps compiled (FAST_RUN) and by the reference evaluator (FAST_COMPILE) from the same initial
weights and data, which must agree; where a NumPy or finite-difference answer is cheap
(Denny Britz's truncated BPTT, Hessian-free's Gauss-Newton products) it is checked too.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.sandbox.rng_mrg import MRG_RandomStreams


def _floatX(x):
    return np.asarray(x, dtype=aotsym.config.floatX)


def _run_both(build, **kw):
    """``build(mode, **kw)`` makes the model from scratch and returns its final arrays."""
    got = build("FAST_RUN", **kw)
    want = build("FAST_COMPILE", **kw)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    return got


# ---------------------------------------------------------------------------- Newmu


def _rmsprop(cost, params, lr=0.001, rho=0.9, epsilon=1e-6):
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        acc = aotsym.shared(p.get_value() * 0.)
        acc_new = rho * acc + (1 - rho) * g ** 2
        g = g / T.sqrt(acc_new + epsilon)
        updates.append((acc, acc_new))
        updates.append((p, p - lr * g))
    return updates


def _newmu_softmax(X):
    e_x = T.exp(X - X.max(axis=1).dimshuffle(0, 'x'))
    return e_x / e_x.sum(axis=1).dimshuffle(0, 'x')


def _build_newmu_convnet(mode):
    # 5_convolutional_net.py, narrower: conv2d(border_mode='full') then valid convs, Theano
    # 0.7's max_pool_2d (partial windows kept), MRG dropout, RMSprop
    from aotsym.tensor.nnet.conv import conv2d
    from aotsym.tensor.signal.downsample import max_pool_2d
    rng = np.random.RandomState(0)
    srng = MRG_RandomStreams(seed=42)

    def init_weights(shape):
        return aotsym.shared(_floatX(rng.randn(*shape) * 0.1))

    def dropout(X, p=0.):
        if p > 0:
            retain_prob = 1 - p
            X *= srng.binomial(X.shape, p=retain_prob, dtype=aotsym.config.floatX)
            X /= retain_prob
        return X

    def model(X, w, w2, w3, w4, w_o, p_drop_conv, p_drop_hidden):
        l1 = dropout(max_pool_2d(T.maximum(conv2d(X, w, border_mode='full'), 0.), (2, 2)),
                     p_drop_conv)
        l2 = dropout(max_pool_2d(T.maximum(conv2d(l1, w2), 0.), (2, 2)), p_drop_conv)
        l3 = T.flatten(max_pool_2d(T.maximum(conv2d(l2, w3), 0.), (2, 2)), outdim=2)
        l4 = dropout(T.maximum(T.dot(dropout(l3, p_drop_conv), w4), 0.), p_drop_hidden)
        return _newmu_softmax(T.dot(l4, w_o))

    X, Y = T.ftensor4(), T.fmatrix()
    # 12x12 input: full 3x3 -> 14, pool -> 7, valid -> 5, pool -> 3, valid -> 1, pool -> 1
    w, w2, w3 = init_weights((4, 1, 3, 3)), init_weights((6, 4, 3, 3)), init_weights((8, 6, 3, 3))
    w4, w_o = init_weights((8 * 1 * 1, 10)), init_weights((10, 3))
    noise_py_x = model(X, w, w2, w3, w4, w_o, 0.2, 0.5)
    py_x = model(X, w, w2, w3, w4, w_o, 0., 0.)
    cost = T.mean(T.nnet.categorical_crossentropy(noise_py_x, Y))
    params = [w, w2, w3, w4, w_o]
    train = aotsym.function([X, Y], cost, updates=_rmsprop(cost, params, lr=0.01),
                            allow_input_downcast=True, mode=mode)
    predict = aotsym.function([X], T.argmax(py_x, axis=1), allow_input_downcast=True,
                              mode=mode)
    data = np.random.RandomState(1)
    trX = data.rand(24, 1, 12, 12)
    trY = np.eye(3)[data.randint(0, 3, 24)]
    costs = [train(trX[s:s + 8], trY[s:s + 8]) for s in (0, 8, 16, 0)]
    return [np.array(costs), predict(trX)] + [p.get_value() for p in params]


@pytest.mark.filterwarnings("ignore:max_pool_2d")
def test_newmu_convolutional_net_trains_as_the_reference():
    costs = _run_both(_build_newmu_convnet)[0]
    assert np.all(np.isfinite(costs)) and 0.5 < costs[0] < 2.0


# ---------------------------------------------------------------------------- rnnlm


def _np_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _np_truncated_bptt(U, V, W, x, y, k):
    """Theano's truncated BPTT: the backward scan runs over the last ``k`` steps only."""
    H, n = W.shape[0], len(x)
    s = np.zeros((n + 1, H))   # s[t + 1] is the state after step t
    o = []
    for t in range(n):
        s[t + 1] = np.tanh(U[:, x[t]] + W.dot(s[t]))
        o.append(_np_softmax(V.dot(s[t + 1])))
    dU, dV, dW = np.zeros_like(U), np.zeros_like(V), np.zeros_like(W)
    ds_next = np.zeros(H)
    for t in reversed(range(max(0, n - k), n)):
        do = o[t].copy()
        do[y[t]] -= 1
        dV += np.outer(do, s[t + 1])
        dz = (V.T.dot(do) + ds_next) * (1 - s[t + 1] ** 2)
        dU[:, x[t]] += dz
        dW += np.outer(dz, s[t])
        ds_next = W.T.dot(dz)
    return dU, dV, dW


def _build_rnnlm(mode, truncate=4):
    # rnn_theano.py's RNNTheano, word_dim 20, hidden 6
    word_dim, hidden_dim = 20, 6
    rng = np.random.RandomState(3)
    U = aotsym.shared(rng.uniform(-1, 1, (hidden_dim, word_dim)), name='U')
    V = aotsym.shared(rng.uniform(-.5, .5, (word_dim, hidden_dim)), name='V')
    W = aotsym.shared(rng.uniform(-.5, .5, (hidden_dim, hidden_dim)), name='W')
    x, y = T.ivector('x'), T.ivector('y')

    def forward_prop_step(x_t, s_t_prev, U, V, W):
        s_t = T.tanh(U[:, x_t] + W.dot(s_t_prev))
        o_t = T.nnet.softmax(V.dot(s_t))
        return [o_t[0], s_t]

    [o, s], updates = aotsym.scan(forward_prop_step, sequences=x,
                                  outputs_info=[None, dict(initial=T.zeros(hidden_dim))],
                                  non_sequences=[U, V, W], truncate_gradient=truncate,
                                  strict=True)
    o_error = T.sum(T.nnet.categorical_crossentropy(o, y))
    dU, dV, dW = T.grad(o_error, U), T.grad(o_error, V), T.grad(o_error, W)
    bptt = aotsym.function([x, y], [dU, dV, dW], mode=mode)
    learning_rate = T.scalar('learning_rate')
    sgd_step = aotsym.function([x, y, learning_rate], [], mode=mode,
                               updates=[(U, U - learning_rate * dU), (V, V - learning_rate * dV),
                                        (W, W - learning_rate * dW)])
    data = np.random.RandomState(4)
    X = [data.randint(0, word_dim, size=n).astype('int32') for n in (9, 3, 7)]
    Y = [np.append(s[1:], 1).astype('int32') for s in X]
    values = [U.get_value(), V.get_value(), W.get_value()]
    grads = bptt(X[0], Y[0])
    k = truncate if truncate > 0 else len(X[0])
    for want, got in zip(_np_truncated_bptt(*values, X[0], Y[0], k), grads):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    short = bptt(X[1], Y[1])   # shorter than the truncation: full BPTT
    for want, got in zip(_np_truncated_bptt(*values, X[1], Y[1], 100), short):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    for i in range(4):
        sgd_step(X[i % 3], Y[i % 3], 0.05)
    return list(grads) + [U.get_value(), V.get_value(), W.get_value()]


@pytest.mark.parametrize("truncate", [4, -1])
def test_rnnlm_truncated_bptt_matches_theanos_and_trains_as_the_reference(truncate):
    _run_both(_build_rnnlm, truncate=truncate)


# ---------------------------------------------------------------------------- GRU


def _build_gru(mode):
    # gru_theano.py's GRUTheano (two GRU layers, hard_sigmoid gates, rmsprop with a Param
    # default), word_dim 12, hidden 5
    word_dim, hidden_dim = 12, 5
    rng = np.random.RandomState(5)
    E = aotsym.shared(rng.uniform(-.3, .3, (hidden_dim, word_dim)), name='E')
    U = aotsym.shared(rng.uniform(-.4, .4, (6, hidden_dim, hidden_dim)), name='U')
    W = aotsym.shared(rng.uniform(-.4, .4, (6, hidden_dim, hidden_dim)), name='W')
    V = aotsym.shared(rng.uniform(-.4, .4, (word_dim, hidden_dim)), name='V')
    b = aotsym.shared(np.zeros((6, hidden_dim)), name='b')
    c = aotsym.shared(np.zeros(word_dim), name='c')
    params = [E, U, W, V, b, c]
    caches = [aotsym.shared(np.zeros(p.get_value().shape)) for p in params]
    x, y = T.ivector('x'), T.ivector('y')

    def forward_prop_step(x_t, s_t1_prev, s_t2_prev):
        x_e = E[:, x_t]
        z_t1 = T.nnet.hard_sigmoid(U[0].dot(x_e) + W[0].dot(s_t1_prev) + b[0])
        r_t1 = T.nnet.hard_sigmoid(U[1].dot(x_e) + W[1].dot(s_t1_prev) + b[1])
        c_t1 = T.tanh(U[2].dot(x_e) + W[2].dot(s_t1_prev * r_t1) + b[2])
        s_t1 = (T.ones_like(z_t1) - z_t1) * c_t1 + z_t1 * s_t1_prev
        z_t2 = T.nnet.hard_sigmoid(U[3].dot(s_t1) + W[3].dot(s_t2_prev) + b[3])
        r_t2 = T.nnet.hard_sigmoid(U[4].dot(s_t1) + W[4].dot(s_t2_prev) + b[4])
        c_t2 = T.tanh(U[5].dot(s_t1) + W[5].dot(s_t2_prev * r_t2) + b[5])
        s_t2 = (T.ones_like(z_t2) - z_t2) * c_t2 + z_t2 * s_t2_prev
        o_t = T.nnet.softmax(V.dot(s_t2) + c)[0]
        return [o_t, s_t1, s_t2]

    [o, s, s2], updates = aotsym.scan(
        forward_prop_step, sequences=x, truncate_gradient=-1,
        outputs_info=[None, dict(initial=T.zeros(hidden_dim)),
                      dict(initial=T.zeros(hidden_dim))])
    cost = T.sum(T.nnet.categorical_crossentropy(o, y))
    grads = [T.grad(cost, p) for p in params]
    ce_error = aotsym.function([x, y], cost, mode=mode)
    bptt = aotsym.function([x, y], grads, mode=mode)
    learning_rate, decay = T.scalar('learning_rate'), T.scalar('decay')
    new_caches = [decay * m + (1 - decay) * g ** 2 for m, g in zip(caches, grads)]
    sgd_step = aotsym.function(
        [x, y, learning_rate, aotsym.Param(decay, default=0.9)], [], mode=mode,
        updates=[(p, p - learning_rate * g / T.sqrt(m + 1e-6))
                 for p, g, m in zip(params, grads, new_caches)] + list(zip(caches, new_caches)))
    data = np.random.RandomState(6)
    X = [data.randint(0, word_dim, size=n).astype('int32') for n in (6, 4, 8)]
    Y = [np.append(s[1:], 0).astype('int32') for s in X]
    g0 = bptt(X[0], Y[0])
    if mode == "FAST_RUN":   # the gradient against central differences (smooth here)
        h = 1e-6
        for p, g in zip(params, g0):
            value = p.get_value()
            direction = np.random.RandomState(7).randn(*value.shape)
            p.set_value(value + h * direction)
            plus = ce_error(X[0], Y[0])
            p.set_value(value - h * direction)
            minus = ce_error(X[0], Y[0])
            p.set_value(value)
            assert (plus - minus) / (2 * h) == pytest.approx(np.sum(g * direction), rel=1e-6,
                                                             abs=1e-9)
    for i in range(3):
        sgd_step(X[i], Y[i], 0.01)
    sgd_step(X[0], Y[0], 0.01, 0.5)
    return list(g0) + [p.get_value() for p in params + caches]


def test_gru_trains_as_the_reference_and_its_gradient_is_right():
    _run_both(_build_gru)


# ---------------------------------------------------------------------------- theano-rnn


def _build_rnn_minibatch(mode, output_type):
    # rnn_minibatch.py's RNN: parameters are reshaped views of one flat shared theta, h0
    # broadcast over the batch with T.alloc, the 3-d output through a 2-d softmax; SGD with
    # momentum on theta, data through givens
    n_in, n_hidden, n_out, n_steps, n_seq = 3, 4, 3, 5, 6
    rng = np.random.RandomState(8)
    sizes = [n_hidden * n_hidden, n_in * n_hidden, n_hidden * n_out, n_hidden, n_hidden, n_out]
    theta = aotsym.shared(np.concatenate([rng.uniform(-.3, .3, sizes[0] + sizes[1] + sizes[2]),
                                          np.zeros(sum(sizes[3:]))]))
    theta_update = aotsym.shared(np.zeros(sum(sizes)))
    cuts = np.cumsum([0] + sizes)
    W = theta[cuts[0]:cuts[1]].reshape((n_hidden, n_hidden))
    W_in = theta[cuts[1]:cuts[2]].reshape((n_in, n_hidden))
    W_out = theta[cuts[2]:cuts[3]].reshape((n_hidden, n_out))
    h0, bh, by = theta[cuts[3]:cuts[4]], theta[cuts[4]:cuts[5]], theta[cuts[5]:cuts[6]]
    x = T.tensor3(name='x')

    def step(x_t, h_tm1):
        h_t = T.tanh(T.dot(x_t, W_in) + T.dot(h_tm1, W) + bh)
        return h_t, T.dot(h_t, W_out) + by

    [h, y_pred], _ = aotsym.scan(step, sequences=x,
                                 outputs_info=[T.alloc(h0, x.shape[1], n_hidden), None])
    if output_type == 'softmax':
        y = T.matrix(name='y', dtype='int32')
        y_p_m = T.reshape(y_pred, (y_pred.shape[0] * y_pred.shape[1], -1))
        p_y_given_x = T.reshape(T.nnet.softmax(y_p_m), y_pred.shape)
        y_f = y.flatten(ndim=1)
        loss = -T.mean(T.log(T.reshape(p_y_given_x, y_p_m.shape))[T.arange(y_f.shape[0]), y_f])
    else:
        y = T.tensor3(name='y', dtype='int32')
        p_y_given_x = T.nnet.sigmoid(y_pred)
        loss = T.mean(T.nnet.binary_crossentropy(p_y_given_x, y))
    cost = loss + 1e-3 * (W ** 2).sum()
    data = np.random.RandomState(9)
    seq = data.randn(n_steps, 2 * n_seq, n_in)
    target = (data.randint(0, n_out, (n_steps, 2 * n_seq)) if output_type == 'softmax'
              else data.randint(0, 2, (n_steps, 2 * n_seq, n_out)))
    train_x, train_y = aotsym.shared(seq), T.cast(aotsym.shared(target.astype(float)), 'int32')
    index, l_r, mom = T.lscalar('index'), T.scalar('l_r'), T.scalar('mom')
    gtheta = T.grad(cost, theta)
    upd = mom * theta_update - l_r * gtheta
    train = aotsym.function([index, l_r, mom], cost, mode=mode,
                            updates=[(theta_update, upd), (theta, theta + upd)],
                            givens={x: train_x[:, index * n_seq:(index + 1) * n_seq],
                                    y: train_y[:, index * n_seq:(index + 1) * n_seq]})
    costs = [train(i % 2, 0.1, 0.5) for i in range(4)]
    return [np.array(costs), theta.get_value(), theta_update.get_value()]


@pytest.mark.parametrize("output_type", ["softmax", "binary"])
def test_theano_rnn_minibatch_trains_as_the_reference(output_type):
    _run_both(_build_rnn_minibatch, output_type=output_type)


def _gauss_newton_product(cost, p, v, s):
    # theano-hf's hf.py, as written
    Jv = T.Rop(s, p, v)
    HJv = T.grad(T.sum(T.grad(cost, s) * Jv), s, consider_constant=[Jv],
                 disconnected_inputs='ignore')
    Gv = T.grad(T.sum(HJv * s), p, consider_constant=[HJv, Jv], disconnected_inputs='ignore')
    return list(map(T.as_tensor_variable, Gv))


def _build_hessian_free_products(mode):
    # hf_example.py: rnn.py's RNN (real output, MSE) under theano-hf's hf_optimizer, whose
    # Gauss-Newton products use T.Rop, consider_constant, disconnected inputs and givens
    n_in, n_hidden, n_out, n_steps = 2, 3, 2, 4
    rng = np.random.RandomState(10)
    shapes = [(n_hidden, n_hidden), (n_in, n_hidden), (n_hidden, n_out), (n_hidden,),
              (n_hidden,), (n_out,)]
    p = [aotsym.shared(rng.uniform(-.5, .5, s)) for s in shapes]
    W, W_in, W_out, h0, bh, by = p
    x, y = T.matrix(), T.matrix()

    def step(x_t, h_tm1):
        h_t = T.tanh(T.dot(x_t, W_in) + T.dot(h_tm1, W) + bh)
        return h_t, T.dot(h_t, W_out) + by

    [h, y_pred], _ = aotsym.scan(step, sequences=x, outputs_info=[h0, None])
    cost = T.mean((y_pred - y) ** 2)
    symbolic_types = T.scalar, T.vector, T.matrix
    v = [symbolic_types[len(s)]() for s in shapes]
    Gv = _gauss_newton_product(cost, p, v, y_pred)
    coefficient = T.scalar()
    h_constant = symbolic_types[h.ndim]()
    damping = coefficient * (-h_constant * T.log(h + 1e-10)
                             - (1 - h_constant) * T.log((1 - h) + 1e-10)).sum() / h.shape[0]
    Gv = [a + b for a, b in zip(Gv, _gauss_newton_product(damping, p, v, h))]
    function_Gv = aotsym.function([x, y] + v + [coefficient], Gv, givens={h_constant: h},
                                  on_unused_input='ignore', mode=mode)
    f_gc = aotsym.function([x, y], T.grad(cost, p) + [cost], mode=mode)
    data = np.random.RandomState(11)
    xv, yv = data.randn(n_steps, n_in), data.randn(n_steps, n_out)
    vv = [data.randn(*s) for s in shapes]
    out = function_Gv(xv, yv, *vv, 0.3)
    if mode == "FAST_RUN":   # J'HJv from Jacobians by central differences
        f_s = aotsym.function([x], [y_pred, h], mode=mode)
        flat = np.concatenate([q.get_value().ravel() for q in p])

        def outputs(theta):
            at = 0
            for q, s in zip(p, shapes):
                q.set_value(theta[at:at + int(np.prod(s))].reshape(s))
                at += int(np.prod(s))
            return [o.ravel() for o in f_s(xv)]

        eps = 1e-6
        cols = [[(a - b) / (2 * eps)
                 for a, b in zip(outputs(flat + eps * e), outputs(flat - eps * e))]
                for e in np.eye(flat.size)]
        s_now, h_now = outputs(flat)
        J_s, J_h = np.array([c[0] for c in cols]).T, np.array([c[1] for c in cols]).T
        vflat = np.concatenate([a.ravel() for a in vv])
        curvature = h_now / (h_now + 1e-10) ** 2 + (1 - h_now) / (1 - h_now + 1e-10) ** 2
        want = (J_s.T.dot(2.0 / s_now.size * J_s.dot(vflat))
                + 0.3 / n_steps * J_h.T.dot(curvature * J_h.dot(vflat)))
        got = np.concatenate([a.ravel() for a in out])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8 * np.abs(want).max())
    return list(out) + f_gc(xv, yv)


def test_hessian_free_gauss_newton_products_against_finite_differences():
    _run_both(_build_hessian_free_products)


def test_rop_of_a_scan_against_finite_differences():
    # T.Rop through scan, the product Hessian-free is built on, for both outputs of rnn.py
    rng = np.random.RandomState(12)
    W = aotsym.shared(rng.uniform(-.5, .5, (3, 3)))
    W_in = aotsym.shared(rng.uniform(-.5, .5, (2, 3)))
    x = T.matrix()
    h, _ = aotsym.scan(lambda x_t, h_tm1: T.tanh(T.dot(x_t, W_in) + T.dot(h_tm1, W)),
                       sequences=x, outputs_info=[T.zeros(3)])
    vW, vW_in = T.matrix(), T.matrix()
    Jv = T.Rop(h, [W, W_in], [vW, vW_in])
    xv, dW, dW_in = rng.randn(5, 2), rng.randn(3, 3), rng.randn(2, 3)
    f_h = aotsym.function([x], h)
    eps, W0, W_in0 = 1e-6, W.get_value(), W_in.get_value()
    W.set_value(W0 + eps * dW), W_in.set_value(W_in0 + eps * dW_in)
    plus = f_h(xv)
    W.set_value(W0 - eps * dW), W_in.set_value(W_in0 - eps * dW_in)
    minus = f_h(xv)
    W.set_value(W0), W_in.set_value(W_in0)
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = aotsym.function([x, vW, vW_in], Jv, mode=mode)(xv, dW, dW_in)
        np.testing.assert_allclose(got, (plus - minus) / (2 * eps), rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------- craffel


def _build_craffel_mlp(mode):
    # theano-tutorial's MLP: layers as W.dot(x) + b.dimshuffle(0, 'x'), sigmoid, squared error,
    # gradient descent with momentum (param_update shared per parameter)
    rng = np.random.RandomState(13)
    sizes = [2, 4, 1]
    params = []
    for n_input, n_output in zip(sizes[:-1], sizes[1:]):
        params += [aotsym.shared(rng.randn(n_output, n_input), name='W', borrow=True),
                   aotsym.shared(np.ones(n_output).astype(aotsym.config.floatX), name='b',
                                 borrow=True, broadcastable=(False,))]
    mlp_input, mlp_target = T.matrix('mlp_input'), T.vector('mlp_target')
    out = mlp_input
    for W, b in zip(params[::2], params[1::2]):
        out = T.nnet.sigmoid(T.dot(W, out) + b.dimshuffle(0, 'x'))
    cost = T.sum((out - mlp_target) ** 2)
    updates = []
    for param in params:
        param_update = aotsym.shared(param.get_value() * 0., broadcastable=param.broadcastable)
        updates.append((param, param - 0.01 * param_update))
        updates.append((param_update, 0.9 * param_update + (1. - 0.9) * T.grad(cost, param)))
    train = aotsym.function([mlp_input, mlp_target], cost, updates=updates, mode=mode)
    data = np.random.RandomState(0)
    y = data.randint(0, 2, 50)
    X = np.vstack([data.randn(50) + y, data.randn(50) - y])
    costs = [train(X, y.astype(float)) for _ in range(5)]
    return [np.array(costs)] + [p.get_value() for p in params]


def test_craffel_mlp_trains_as_the_reference():
    _run_both(_build_craffel_mlp)
