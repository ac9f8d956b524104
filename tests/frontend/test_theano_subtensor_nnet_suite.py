"""What Theano's own subtensor, extra_ops, sort and nnet test files found missing or wrong,
as programs checked against NumPy here (compiled FAST_RUN, and the reference evaluator with
``mode="FAST_COMPILE"`` where the point is semantics): ``theano.tensor.subtensor``'s
functions, ``categorical_crossentropy`` of a softmax at huge inputs, the ``extra_ops`` ops and
functions, ``theano.tensor.sort``, and Theano 1.0's softmax / crossentropy helpers."""

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T


# ---------------------------------------------------------------------------- subtensor


def test_subtensor_module_functions_and_canonical_slices():
    from aotsym.tensor.subtensor import get_canonical_form_slice
    advanced_inc_subtensor, advanced_inc_subtensor1, advanced_set_subtensor1 = (
        T.advanced_inc_subtensor, T.advanced_inc_subtensor1, T.advanced_set_subtensor1)
    x, i, j = T.dmatrix("x"), T.lvector("i"), T.lvector("j")
    y = T.dmatrix("y")
    b, e, s, n = T.iscalars("b", "e", "s", "n")
    cnf, direction = get_canonical_form_slice(slice(b, e, s), n)
    cnf2, direction2 = get_canonical_form_slice(slice(None, e, s), n)
    f = theano.function(
        [x, y, i, j, b, e, s, n],
        [advanced_inc_subtensor1(x, y, i), advanced_set_subtensor1(x, y, i),
         advanced_inc_subtensor(x, y[0, :2], i, j)]
        + [T.as_tensor_variable(v) for v in (cnf.start, cnf.stop, cnf.step, direction,
                                             cnf2.start, cnf2.stop, cnf2.step, direction2)],
        mode="FAST_COMPILE")     # (semantics: the reference evaluator)
    vx, vy = np.arange(12.0).reshape(3, 4), -np.ones((2, 4))
    vi, vj = np.array([2, 2]), np.array([1, 3])
    a = np.arange(5)
    for start in [-8, -5, -1, 0, 1, 4, 8]:
        for stop in [-8, -4, -1, 0, 4, 5, 8]:
            for step in [-6, -3, -1, 2, 5]:
                out = f(vx, vy, vi, vj, start, stop, step, 5)
                inc = vx.copy()
                np.add.at(inc, vi, vy)
                np.testing.assert_array_equal(out[0], inc)
                st = vx.copy()
                st[vi] = vy
                np.testing.assert_array_equal(out[1], st)
                adv = vx.copy()
                np.add.at(adv, (vi, vj), vy[0][:2])
                np.testing.assert_array_equal(out[2], adv)
                got = a[out[3]:out[4]:out[5]][::out[6]]
                np.testing.assert_array_equal(got, a[start:stop:step])
                got2 = a[out[7]:out[8]:out[9]][::out[10]]
                np.testing.assert_array_equal(got2, a[:stop:step])
    for sl in [slice(-8, 3, -2), slice(None, None, -1), slice(1, 4, 2), slice(7, -9, -3)]:
        for length in (0, 5):                    # constant bounds: Python ints
            c, d = get_canonical_form_slice(sl, length)
            np.testing.assert_array_equal(np.arange(length)[c][::d], np.arange(length)[sl])


# ---------------------------------------------------------------------------- nnet


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_crossentropy_of_softmax_stays_finite_at_huge_inputs(dtype):
    # Theano's test_asymptotic_32: -log(softmax(x)[i, y_i]) where the probability
    # underflows to 0 must stay finite, and so must its gradient
    x, x2, y = T.matrix(dtype=dtype), T.vector(dtype=dtype), T.lvector()
    c = T.nnet.categorical_crossentropy(T.nnet.softmax(x + x2), y)
    f = theano.function([x, y, x2], [c.sum(), T.grad(c.sum(), x)])
    xval = np.zeros((5, 5), dtype=dtype)
    x2val = np.zeros(5, dtype=dtype)
    for _ in range(100):
        cval, gxval = f(xval, np.arange(5), x2val)
        xval += 100000.3 * gxval
    assert np.isfinite(cval) and cval > 61750000
    assert gxval[0, 0] == -1.0 and gxval[0, 1] == 0.25
    # at ordinary values: -log of the softmax entries, as NumPy computes them
    v = np.random.RandomState(0).randn(4, 5).astype(dtype)
    e = np.exp(v - v.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    want = -np.log(p[np.arange(4), [0, 4, 2, 2]])
    got = theano.function([x, y, x2], c)(v, np.array([0, 4, 2, 2]), np.zeros(5, dtype))
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)


# ---------------------------------------------------------------------------- sort


def test_topk_argtopk_against_numpy():
    from aotsym.tensor.sort import argtopk, topk, topk_and_argtopk
    x, k = T.dmatrix("x"), T.iscalar("k")
    outs = [topk(x, k, axis=1, sorted=True), argtopk(x, k, axis=0, sorted=True,
                                                     idx_dtype="int32"),
            topk(x, k, axis=None, sorted=False)] + list(topk_and_argtopk(x, k, axis=-1,
                                                                         sorted=False))
    v = np.random.RandomState(1).permutation(20).reshape(4, 5) - 7.5
    for mode in ("FAST_RUN",):     # (its perform, called back: the reference too)
        f = theano.function([x, k], outs, mode=mode)
        for kv in (1, 2, 4, -1, -3, -4):
            a, b, c, d, e = f(v, kv)
            srt = np.sort(v, axis=1)
            want = srt[:, ::-1][:, :kv] if kv > 0 else srt[:, :-kv]
            np.testing.assert_array_equal(a, want)            # sorted: largest first
            col = np.argsort(v, axis=0)
            want_i = col[::-1][:kv] if kv > 0 else col[:-kv]
            assert b.dtype == np.int32
            np.testing.assert_array_equal(b, want_i)
            flat = np.sort(v, axis=None)
            np.testing.assert_array_equal(np.sort(c), np.sort(flat[-kv:] if kv > 0
                                                              else flat[:-kv]))
            np.testing.assert_array_equal(np.sort(d, axis=1), np.sort(
                srt[:, -kv:] if kv > 0 else srt[:, :-kv], axis=1))
            np.testing.assert_array_equal(np.take_along_axis(v, e, axis=1), d)
        for bad in (0, 6, -6):
            with pytest.raises(ValueError):
                f(v, bad)
    theano.gradient.verify_grad(lambda a: topk(a, 2, axis=1, sorted=False), [v],
                                rng=np.random.RandomState(2))
    np.testing.assert_array_equal(
        theano.function([x], T.sort(x, T.constant(0)))(v), np.sort(v, axis=0))
    ax = T.scalar("ax")            # Theano's sort(a, axis) with a symbolic (float) axis
    w = np.arange(20.0).reshape(4, 5)
    f = theano.function([x, ax], [T.sort(x, ax), T.argsort(x, ax),
                                  T.grad((T.sort(x, ax) * w).sum(), x)])
    for a in (0, 1, -1, -2):
        s, i, g = f(v, a)
        np.testing.assert_array_equal(s, np.sort(v, a))
        np.testing.assert_array_equal(i, np.argsort(v, a, kind="stable"))
        np.testing.assert_array_equal(np.take_along_axis(g, i, a), w)   # gz sent back
    with pytest.raises(ValueError):
        f(v, 2)


# ---------------------------------------------------------------------------- extra_ops


def test_extra_ops_numpy_functions_compiled():
    from aotsym.tensor import extra_ops as E
    x, v, s = T.dvector("x"), T.dmatrix("v"), T.ivector("s")
    a3, m, k = T.dtensor3("a3"), T.dmatrix("m"), T.iscalar("k")
    iv, cnt, c = T.lvector("iv"), T.lvector("cnt"), T.bvector("c")
    outs = [E.searchsorted(x, v), E.searchsorted(x, v, side="right", sorter=s),
            E.compress(c, m, axis=1), E.compress(c, x), E.bartlett(k),
            E.fill_diagonal(a3, 7.0), E.fill_diagonal_offset(m, -1.0, k - 3),
            E.bincount(iv), E.bincount(iv, weights=x[:4], minlength=9),
            E.repeat(x, cnt), E.repeat(m, [2], axis=1), E.CumOp(mode="mul")(m),
            E.CumOp(axis=-1)(m), E.RepeatOp()(m, 2)]
    outs += list(E.Unique(True, True, True)(m))
    outs += list(E.unravel_index(iv, (3, 4))) + list(E.unravel_index(iv, (4, 3), order="F"))
    outs += [E.ravel_multi_index((iv, cnt), (5, 3), mode="clip"),
             E.ravel_multi_index((iv, cnt), m.shape, mode="wrap", order="F")]
    f = theano.function([x, v, s, a3, m, k, iv, cnt, c], outs)
    rng = np.random.RandomState(3)
    vx = rng.rand(4) * 10
    vs = np.argsort(vx).astype("int32")
    vv = rng.rand(2, 3) * 10
    va3, vm = rng.rand(3, 3, 3), np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0],
                                            [-1.0, 0.0, 2.0, 2.0]])
    vi, vcnt, vc = np.array([1, 0, 11, 4]), np.array([0, 3, 1, 2]), np.array([1, 0, 1], "int8")
    for vk in (0, 1, 3, 5):
        got = f(np.sort(vx), vv, vs, va3, vm, vk, vi, vcnt, vc)
        fd = va3.copy()
        np.fill_diagonal(fd, 7.0)
        off = vm.copy()
        o = vk - 3
        rows = np.arange(max(0, min(3 + min(o, 0), 4 - max(o, 0))))
        off[rows - min(o, 0), rows + max(o, 0)] = -1.0
        want = [np.searchsorted(np.sort(vx), vv), np.searchsorted(np.sort(vx), vv, "right",
                                                                 vs),
                np.compress(vc, vm, axis=1), np.compress(vc, np.sort(vx)), np.bartlett(vk),
                fd, off, np.bincount(vi), np.bincount(vi, np.sort(vx)[:4], 9),
                np.repeat(np.sort(vx), vcnt), np.repeat(vm, 2, axis=1),
                np.cumprod(vm), np.cumsum(vm, axis=-1), np.repeat(vm, 2)]
        want += list(np.unique(vm, True, True, True))
        want += list(np.unravel_index(vi, (3, 4))) + list(np.unravel_index(vi, (4, 3),
                                                                           order="F"))
        want += [np.ravel_multi_index((vi, vcnt), (5, 3), mode="clip"),
                 np.ravel_multi_index((vi, vcnt), vm.shape, mode="wrap", order="F")]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype.kind == w.dtype.kind, (g, w)
            np.testing.assert_allclose(g, w)
    with pytest.raises(ValueError):                    # index 12 of a 3x4 array
        f(np.sort(vx), vv, vs, va3, vm, 1, np.array([1, 0, 12, 4]), vcnt, vc)
    with pytest.raises(ValueError):
        E.searchsorted(x, v, side="middle")
    with pytest.raises(TypeError):
        E.unravel_index(T.fvector(), (3, 4))
    theano.gradient.verify_grad(lambda a: E.repeat(a, np.array([2, 0, 1])), [vx[:3]],
                                rng=np.random.RandomState(0))


def _np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_theano_nnet_helpers_against_numpy():
    N = T.nnet
    x, b, y, dy = T.dmatrix("x"), T.dvector("b"), T.lvector("y"), T.dvector("dy")
    W1, b1, W2, b2 = T.dmatrix("W1"), T.dvector("b1"), T.dtensor3("W2"), T.dmatrix("b2")
    tgt = T.lvector("tgt")
    nll, sm, am = N.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    outs = [N.softmax_with_bias(x, b), N.softmax_op(x), N.logsoftmax_op(x),
            N.softmax_grad(x, N.softmax(x)), nll, sm, am,
            N.crossentropy_softmax_1hot_with_bias_dx(dy, sm, y),
            N.h_softmax(x, 3, 5, 2, 3, W1, b1, W2, b2),
            N.h_softmax(x, 3, 5, 2, 3, W1, b1, W2, b2, tgt)]
    outs += N.confusion_matrix(y, tgt)
    f = theano.function([x, b, y, dy, W1, b1, W2, b2, tgt], outs, mode="FAST_COMPILE")
    rng = np.random.RandomState(4)
    vx, vb, vy, vdy = rng.randn(3, 4), rng.randn(4), np.array([3, 0, 1]), rng.randn(3)
    vW1, vb1, vW2, vb2 = rng.randn(4, 2), rng.randn(2), rng.randn(2, 4, 3), rng.randn(2, 3)
    vt = np.array([4, 0, 2])
    got = f(vx, vb, vy, vdy, vW1, vb1, vW2, vb2, vt)
    s = _np_softmax(vx + vb)
    onehot = np.eye(4)[vy]
    cls = _np_softmax(vx @ vW1 + vb1)
    inner = _np_softmax(np.einsum("bf,cfo->bco", vx, vW2) + vb2)
    full = (cls[:, :, None] * inner).reshape(3, -1)[:, :5]
    sx = _np_softmax(vx)
    order = np.unique(np.concatenate([vy, vt]))
    conf = np.zeros((len(order), len(order)), "int64")
    for a, p in zip(vy, vt):
        conf[np.searchsorted(order, a), np.searchsorted(order, p)] += 1
    want = [s, sx, np.log(sx), (vx - (vx * sx).sum(1, keepdims=True)) * sx,
            -np.log(s[np.arange(3), vy]), s, np.argmax(vx + vb, axis=1),
            vdy[:, None] * (s - onehot), full, full[np.arange(3), vt], conf, order]
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_newaxis_beside_integer_arrays_and_index_errors():
    v = np.arange(24.0).reshape(2, 3, 4)
    x = T.dtensor3("x")
    idxs = [np.index_exp[..., None, [1, 2]], np.index_exp[[0, 1], None, [0, 1]],
            np.index_exp[None, [1, 0], :, [0, 3]], np.index_exp[:, None, [[0, 1]]],
            np.index_exp[[1], None, 1:, None, [-1, 0, 2]]]
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = theano.function([x], [x[i] for i in idxs], mode=mode)(v)
        for g, i in zip(got, idxs):
            np.testing.assert_array_equal(g, v[i])
            assert g.shape == v[i].shape
    big = [np.index_exp[:2 ** 63], np.index_exp[-2 ** 63 - 5:], np.index_exp[2 ** 64:],
           np.index_exp[::2 ** 63], np.index_exp[2 ** 63:-2 ** 65:-1]]    # beyond int64
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = theano.function([x], [x[i] for i in big], mode=mode)(v)
        for g, i in zip(got, big):
            assert g.shape == v[i].shape
            np.testing.assert_array_equal(g, v[i])
    with pytest.raises(IndexError):
        x[2 ** 63]
    with pytest.raises(TypeError):                     # float indices (Theano, NumPy)
        x[[0.0, 0], [1, 1]]
    y = T.dvector()
    with pytest.raises(TypeError) as err:              # Theano: TypeError
        T.inc_subtensor(y[T.lvector()], T.dmatrix())
    assert isinstance(err.value, ValueError)           # (and aotsym's ValueError before)


# ---------------------------------------------------------------------------- nlinalg


def test_tensorinv_tensorsolve_qr_raw_and_norm_spellings():
    from aotsym.tensor.nlinalg import alloc_diag, norm, qr, tensorinv, tensorsolve
    A, C, B = T.dtensor4("A"), T.dtensor3("C"), T.dmatrix("B")
    M, V = T.dmatrix("M"), T.dvector("V")
    f = theano.function([A, C, B, M, V],
                        [tensorinv(A), tensorinv(C, ind=1), tensorsolve(A, B),
                         norm(M, "inf"), norm(M, "-inf"), norm(V, "inf"), norm(V, "-inf")],
                        mode="FAST_COMPILE")
    r = np.random.RandomState(6)
    a, c = r.rand(4, 6, 8, 3), r.rand(30, 2, 15)
    a2, b = np.eye(24).reshape(6, 4, 2, 12) + 0.1 * r.rand(6, 4, 2, 12), r.rand(6, 4)
    m, v = r.randn(4, 4), r.randn(5)
    got = f(a2, c, b, m, v)
    want = [np.linalg.tensorinv(a2), np.linalg.tensorinv(c, ind=1),
            np.linalg.tensorsolve(a2, b), np.linalg.norm(m, np.inf),
            np.linalg.norm(m, -np.inf), np.linalg.norm(v, np.inf), np.linalg.norm(v, -np.inf)]
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(theano.function([A], tensorinv(A), mode="FAST_COMPILE")(a),
                               np.linalg.tensorinv(a), rtol=1e-9, atol=1e-10)
    from aotsym.tensor.nlinalg import eig, lstsq
    sym = m + m.T
    S = T.dmatrix("S")
    out = theano.function([M, S, V], list(qr(M[:, :3], "raw")) + eig(S)     # FAST_RUN: the
                          + lstsq()(M, V[:4], -1.0))(m, sym, v)             # ops called back
    nh, ntau = np.linalg.qr(m[:, :3], "raw")
    np.testing.assert_allclose(out[0], nh, rtol=1e-12)
    np.testing.assert_allclose(out[1], ntau, rtol=1e-12)
    w, vec = out[2:4]
    np.testing.assert_allclose(sym @ vec, w * vec, atol=1e-12)
    np.testing.assert_allclose(np.sort(w), np.linalg.eigvalsh(sym), atol=1e-12)
    for g, w in zip(out[4:], np.linalg.lstsq(m, v[:4], rcond=-1.0)):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    with pytest.raises(TypeError):
        alloc_diag(M)
    with pytest.raises(ValueError):
        norm(V, "fro")
    with pytest.raises(NotImplementedError):
        norm(A, None)


def _scipy_kron(a, b):   # SciPy < 1.13's linalg.kron, which Theano's kron follows
    o = np.outer(a, b).reshape(a.shape + b.shape)
    return np.concatenate(np.concatenate(o, axis=1), axis=1)


def test_kron_of_any_ndims_generalized_eigvalsh_and_cholesky_on_error_nan():
    from aotsym.tensor.slinalg import Cholesky, kron
    r = np.random.RandomState(7)
    ins, outs, vals, want = [], [], [], []
    for s0, s1 in [((2,), (6, 7)), ((2, 3), (6,)), ((2, 3, 4), (6, 7)), ((2, 3), (6, 7, 8)),
                   ((2, 3), (4, 5)), ((3,), (4,))]:
        x = T.tensor("float64", (False,) * len(s0))
        y = T.tensor("float64", (False,) * len(s1))
        a, b = r.rand(*s0), r.rand(*s1)
        ins += [x, y]
        vals += [a, b]
        outs.append(kron(x, y))
        n = len(s0) + len(s1)
        want.append(np.kron(a, b) if n == 2 or s0 == (2, 3) and s1 == (4, 5) else
                    _scipy_kron(a[None], b).flatten() if n == 3 else _scipy_kron(a, b))
    for g, w in zip(theano.function(ins, outs, mode="FAST_COMPILE")(*vals), want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w)
    from aotsym.tensor.slinalg import eigvalsh
    A, Bm = T.dmatrices("A", "Bm")
    ga = r.randn(4, 4)
    ga, gb = ga + ga.T, 10 * np.eye(4) + r.randn(4, 4)
    g = theano.function([A, Bm], [eigvalsh(A, Bm), eigvalsh(A, Bm, lower=False)],
                        mode="FAST_COMPILE")(ga, gb)
    for lower, got in zip((True, False), g):       # SciPy's eigvalsh(a, b): its triangle
        bs = np.tril(gb) + np.tril(gb, -1).T if lower else np.triu(gb) + np.triu(gb, 1).T
        c = np.linalg.cholesky(bs)
        ci = np.linalg.inv(c)
        np.testing.assert_allclose(got, np.linalg.eigvalsh(ci @ ga @ ci.T), rtol=1e-10)
    theano.gradient.verify_grad(lambda a, b: T.dot(eigvalsh(a, b), np.arange(1.0, 5.0)),
                                [ga, gb], rng=np.random.RandomState(1))
    m = T.dmatrix()
    chol = Cholesky(lower=False, on_error="nan")(m)
    f = theano.function([m], [chol, T.grad(Cholesky(on_error="nan")(m).sum(), m)])
    bad, good = np.array([[1, 0.2], [0.2, -2]]), np.array([[4.0, 2.0], [2.0, 3.0]])
    assert all(np.isnan(v).all() for v in f(bad))
    np.testing.assert_allclose(f(good)[0], np.linalg.cholesky(good).T)
    with pytest.raises(np.linalg.LinAlgError):
        theano.function([m], Cholesky(on_error="raise")(m), mode="FAST_COMPILE")(bad)


# ---------------------------------------------------------------------------- not in the
# files of this work: Theano programs that still fail (the hunks are in the report)


def test_function_of_a_shape_returns_the_vector():
    # (Theano's test_shape_i_scalar: x.shape as a function's output is the int64 vector)
    x, b, e = T.dvector("x"), T.iscalar("b"), T.iscalar("e")
    f = theano.function([x, b, e], x[b:e].shape)
    got = f(np.arange(5.0), -4, 4)
    assert isinstance(got, np.ndarray) and got.dtype == np.int64
    np.testing.assert_array_equal(got, np.arange(5.0)[-4:4].shape)


def test_verify_grad_of_a_graph_reading_a_shared_index():
    idx = theano.shared(np.array([0, 2, 2]))
    theano.gradient.verify_grad(lambda t: T.sum(T.exp(t[idx])), [np.random.rand(4)],
                                rng=np.random.RandomState(0))


def test_verify_grad_of_batch_normalization_with_row_statistics():
    from aotsym.tensor.nnet import bn
    r = np.random.RandomState(5)
    X, G, B = 1 + r.rand(4, 3), 1 + r.rand(3), 1 + r.rand(3)
    theano.gradient.verify_grad(
        lambda x, g, b, m, s: bn.batch_normalization(x, g, b, m, s, mode="high_mem"),
        [X, G, B, X.mean(axis=0)[None], X.std(axis=0)[None]], rng=r)


def test_inc_subtensor_broadcasts_a_length_one_value_at_run_time():
    x, y, i = T.dmatrix("x"), T.dmatrix("y"), T.lvector("i")
    f = theano.function([x, y, i], [T.inc_subtensor(x[1:3], y), T.set_subtensor(x[i], y)],
                        mode="FAST_COMPILE")
    vx, vy = np.zeros((4, 2)), np.array([[1.0, 2.0]])
    a, b = f(vx, vy, np.array([0, 3]))
    want_a, want_b = vx.copy(), vx.copy()
    want_a[1:3] += vy
    want_b[[0, 3]] = vy
    np.testing.assert_array_equal(a, want_a)
    np.testing.assert_array_equal(b, want_b)
