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
