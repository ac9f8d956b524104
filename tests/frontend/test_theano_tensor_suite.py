"""What Theano's own tensor tests (``theano/tensor/tests/test_basic.py`` and friends, run on
aotsym) found wrong or missing, each as a Theano program checked against NumPy, compiled
(FAST_RUN) and, where it is cheap, with the reference evaluator (``mode="FAST_COMPILE"``):
integer true division in floatX, Theano's ``'floatX'`` dtype string, argmax over several
axes and constant axes, ``stack([a, b], axis)``, the error classes Theano's tests expect
(join of scalars, float tile reps, swapaxes out of range), and the names ``ceil_intdiv``,
``smallest``/``largest``, ``ptp``, ``cov``, ``choose``, ``inverse_permutation``,
``get_vector_length``, ``get_scalar_constant_value``, ``extract_constant`` and the dtype
lists."""

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_integer_true_division_is_floatx(mode):
    # Theano's TrueDiv: integers (and bools) divide in floatX, as NumPy's int / int
    b, u, i = T.bvector("b"), T.vector("u", dtype="uint8"), T.ivector("i")
    bb = T.vector(dtype="bool")
    outs = [b / b, u / u + i / i, u / b + bb / bb, b / 2]
    f = theano.function([b, u, i, bb], outs, mode=mode)
    vb = np.array([-128, 5, 0, 0, 7], "int8")
    vu = np.array([255, 5, 4, 0, 3], "uint8")
    vi = np.array([7, -7, 0, 0, 2 ** 31 - 1], "int32")
    vbb = np.array([True, False, True, False, True])
    with np.errstate(all="ignore"):
        want = [vb / vb, vu / vu + vi / vi, vu / vb + vbb / vbb, vb / 2]
    for o, got, w in zip(outs, f(vb, vu, vi, vbb), want):
        assert o.dtype == "float64" and got.dtype == np.float64
        np.testing.assert_array_equal(got, w)
    with theano.change_flags(floatX="float32"):
        b2, i2 = T.bvector(), T.ivector()
        assert (b2 / b2).dtype == "float32" and (i2 / 3).dtype == "float32"
        assert (T.fvector() / i2).dtype == "float64"      # a float operand: NumPy's rule


def test_floatx_dtype_string():
    assert T.matrix(dtype="floatX").dtype == theano.config.floatX
    assert T.TensorType("floatX", (False,))().dtype == theano.config.floatX
    assert T.cast(T.ivector(), "floatX").dtype == theano.config.floatX
    assert T.zeros((2,), dtype="floatX").dtype == theano.config.floatX
    with theano.change_flags(floatX="float32"):
        assert T.vector(dtype="floatX").dtype == "float32"


def _flat_arg(fn, X, axes):
    kept = [d for d in range(X.ndim) if d not in axes]
    moved = X.transpose(kept + sorted(axes))
    return fn(moved.reshape([X.shape[d] for d in kept] + [-1]), axis=-1)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_argmax_over_several_axes_and_constant_axes(mode):
    x = T.tensor3("x")
    X = np.random.default_rng(0).normal(size=(2, 3, 4))
    X[1, 2, :] = np.nan                      # NumPy: the first NaN is the max's index
    cases = [((0, 1), T.argmax), ([2, 0], T.argmax), ((1, 2), T.argmin),
             (T.constant(1), T.argmax), (T.constant([0, 2]), T.argmin), ([0, 1, 2], T.argmax)]
    outs = [fn(x, axis=ax) for ax, fn in cases]
    outs += [fn(x, axis=ax, keepdims=True) for ax, fn in cases[:2]]
    mx, amx = T.max_and_argmax(x, axis=T.constant([0, 1]))
    f = theano.function([x], outs + [mx, amx], mode=mode)
    got = f(X)
    for (ax, fn), g in zip(cases, got):
        axes = ax.data.tolist() if isinstance(ax, T.TensorConstant) else ax
        axes = [axes] if isinstance(axes, int) else list(axes)
        np_fn = np.argmax if fn is T.argmax else np.argmin
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g, _flat_arg(np_fn, X, [a % 3 for a in axes]))
    np.testing.assert_array_equal(got[6], got[0].reshape(1, 1, 4))
    np.testing.assert_array_equal(got[7], got[1].reshape(1, 3, 1))
    np.testing.assert_array_equal(got[8], np.max(X, axis=(0, 1)))
    np.testing.assert_array_equal(got[9], got[0])
    with pytest.raises(TypeError, match="constant"):
        T.argmax(x, axis=T.iscalar())


def test_stack_axis_positional_join_constant_axis_and_error_classes():
    a, b = T.imatrices("ab")
    outs = [T.stack(a, b), T.stack([a, b], 1), T.stack([a, b], axis=T.constant(2)),
            T.join(T.constant(1), a, b), T.concatenate([a, b], axis=T.constant(-1))]
    va, vb = np.array([[1, 2]], "int32"), np.array([[3, 4]], "int32")
    want = [np.stack([va, vb]), np.stack([va, vb], 1), np.stack([va, vb], 2),
            np.concatenate([va, vb], 1), np.concatenate([va, vb], -1)]
    for got, w in zip(theano.function([a, b], outs, mode="FAST_COMPILE")(va, vb), want):
        np.testing.assert_array_equal(got, w)
    # Theano's TypeError, NumPy's ValueError: both catch these
    for error in (TypeError, ValueError):
        with pytest.raises(error):
            T.join(0, T.as_tensor_variable(1), T.as_tensor_variable(2))
        with pytest.raises(error):
            T.tile(T.vector(), 2.5)
    for error in (IndexError, ValueError):   # NumPy's AxisError is both
        with pytest.raises(error):
            T.swapaxes(T.vector(), 0, 1)
        with pytest.raises(error):
            T.sum(T.matrix(), axis=2)
        with pytest.raises(error):
            T.stack([a, b], 4)
        with pytest.raises(error):
            T.join(-3, a, b)


def test_theano_names_against_numpy():
    a, b = T.ivectors("ab")
    x, y = T.matrices("xy")
    outs = [T.ceil_intdiv(a, b), T.smallest(a, b), T.largest(a, b, a), T.smallest(a, b, -a),
            T.ptp(x), T.ptp(x, axis=0), T.ptp(x, axis=-1), T.tensor_copy(x),
            T.cov(x), T.cov(x, rowvar=False, bias=True), T.cov(x, y, ddof=0),
            T.inverse_permutation(a)]
    f = theano.function([a, b, x, y], outs, mode="FAST_COMPILE")   # compositions of ops
    va = np.array([7, -7, 6, 0, -9], "int32")
    vb = np.array([2, 2, -4, 3, -4], "int32")
    rng = np.random.default_rng(1)
    vx, vy = rng.normal(size=(3, 5)), rng.normal(size=(2, 5))
    got = f(va, vb, vx, vy)
    perm = np.array([2, 0, 1, 4, 3], "int32")
    got_perm = f(perm, vb, vx, vy)[-1]
    want = [-(-va // vb), np.minimum(va, vb), np.maximum(va, vb),
            np.minimum(np.minimum(va, vb), -va),
            np.ptp(vx), np.ptp(vx, axis=0), np.ptp(vx, axis=-1), vx,
            np.cov(vx), np.cov(vx, rowvar=False, bias=True), np.cov(vx, vy, ddof=0)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    assert got_perm.dtype == np.int32
    np.testing.assert_array_equal(got_perm, np.argsort(perm))
    # permute_row_elements: a vector permutes every row; a matrix row by row; inverse
    pm = T.imatrix("pm")
    g = theano.function([x, a, pm], [T.permute_row_elements(x, a),
                                     T.permute_row_elements(x, pm, inverse=1),
                                     T.permute_row_elements(x[0], pm)], mode="FAST_COMPILE")
    rows = np.array([rng.permutation(5) for _ in range(3)], "int32")
    g0, g1, g2 = g(vx, perm, rows)
    np.testing.assert_array_equal(g0, vx[:, perm])
    np.testing.assert_array_equal(g1, np.take_along_axis(vx, np.argsort(rows, axis=1), 1))
    np.testing.assert_array_equal(g2, vx[0][rows])


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_like_numpy(mode):
    a, c0, c1, c2 = T.imatrix("a"), T.matrix("c0"), T.vector("c1"), T.row("c2")
    t3 = T.tensor3("t3")
    f = theano.function([a, c0, c1, c2, t3],
                        [T.choose(a, [c0, c1, c2], mode=mode), T.choose(a, t3, mode=mode)],
                        mode="FAST_RUN" if mode == "raise" else "FAST_COMPILE")
    rng = np.random.default_rng(2)
    cs = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(1, 3))]
    v3 = rng.normal(size=(3, 2, 3))
    va = np.array([[0, 1, 2], [2, 1, 0]], "int32") if mode == "raise" else \
        np.array([[0, 4, -1], [2, -5, 3]], "int32")
    got = f(va, *cs, v3)
    np.testing.assert_array_equal(got[0], np.choose(va, cs, mode=mode))
    np.testing.assert_array_equal(got[1], np.choose(va, v3, mode=mode))
    if mode == "raise":
        for bad in ([[0, 1, 3], [2, 1, 0]], [[0, 1, -1], [2, 1, 0]]):
            with pytest.raises(IndexError):
                f(np.array(bad, "int32"), *cs, v3)
    with pytest.raises(TypeError):
        T.choose(T.vector(), [c1, c1])
    # NumPy's broadcast at run time, lengths 1 not declared broadcastable (Theano's test)
    ia, fb, fc = T.tensor3(dtype="int32"), T.tensor3(dtype="float32"), T.tensor3()
    g = theano.function([ia, fb, fc], T.choose(ia, (fb, fc), mode=mode), mode="FAST_COMPILE")
    A = rng.integers(0, 2, (2, 1, 1)).astype("int32")
    B, C = rng.random((1, 6, 1)).astype("float32"), rng.random((1, 1, 5))
    want = np.choose(A, (B, C), mode=mode)
    got = g(A, B, C)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    with pytest.raises(IndexError):          # lengths 3 and 2 do not broadcast
        g(A, B[:, :3], C[:, :1].repeat(2, axis=1))


def test_constant_values_and_vector_lengths():
    assert T.get_scalar_constant_value(T.constant(3) + 2) == 5
    assert T.get_scalar_constant_value(np.array([2, 2])) == 2
    assert T.get_scalar_constant_value(T.row().shape[0]) == 1
    assert T.get_scalar_constant_value(T.cast(T.constant(2.5), "int32") * 3) == 6
    m = T.matrix()                      # values that do not depend on m (Theano's gradients)
    assert T.get_scalar_constant_value(T.second(m, 0)) == 0
    assert T.get_scalar_constant_value(T.zeros_like(m) * 2 + 1) == 1
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(T.second(m, m))
    for bad in (T.scalar() + 1, T.constant([1, 2]), T.matrix().shape[0]):
        with pytest.raises(T.NotScalarConstantError):
            T.get_scalar_constant_value(bad)
    with pytest.raises(T.EmptyConstantError):
        T.get_scalar_constant_value(np.zeros(0))
    s = T.scalar()
    assert T.extract_constant(s) is s
    assert T.extract_constant(T.constant(2) * 4) == 8
    b = T.iscalar()
    stacked = T.stack([b, 2, 3])
    assert T.get_scalar_constant_value(stacked[1]) == 2
    assert T.get_scalar_constant_value(stacked[-1]) == 3
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(stacked[0])
    assert T.get_vector_length(T.stack([1, 2, 3])) == 3
    assert T.get_vector_length(T.tensor3().shape) == 3
    assert T.get_vector_length(T.constant([1, 2])) == 2
    with pytest.raises(ValueError):
        T.get_vector_length(T.vector())
    assert T.is_flat(T.vector()) and T.is_flat(T.matrix(), ndim=2)
    assert not T.is_flat(T.matrix())
    assert T.discrete_dtypes[0] == "bool" and "uint8" in T.discrete_dtypes
    assert "float64" in T.float_dtypes and "complex64" in T.continuous_dtypes
    assert set(T.int_dtypes) == {"int8", "int16", "int32", "int64"}


def test_mean_dtype_ndarray_axes_and_small_names():
    x = T.imatrix("x")
    X = np.array([[1, 2, 4], [7, -3, 5]], "int32")
    # Theano's mean(dtype=d): the sum in d; an integer sum is divided to float64
    outs = [x.mean(dtype="int32"), x.mean(axis=np.array(1), dtype="int64"),
            x.sum(axis=[np.array(0), np.array(1)]), x.max(np.array(0)),
            T.mean(x, dtype="float32")]
    assert [o.dtype for o in outs] == ["float64", "float64", "int64", "int32", "float32"]
    got = theano.function([x], outs, mode="FAST_COMPILE")(X)
    want = [X.sum() / 6, X.sum(axis=1) / 3, X.sum(), X.max(0), np.float32(X.sum() / 6)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    m = T.matrix()
    assert T.patternbroadcast(m, T.scalar().broadcastable) is m
    assert T.Tensor is T.TensorType
    assert T.Tensor(dtype="int8", broadcastable=[False])().dtype == "int8"


def test_arange_of_integer_bounds_is_int64():
    start, stop, step = T.iscalars("start", "stop", "step")
    out = T.arange(start, stop, step)
    assert out.dtype == "int64"                 # Theano's cast_policy='custom'
    assert T.arange(T.bscalar()).dtype == "int64"
    assert T.arange(T.scalar(dtype="uint16"), 9).dtype == "uint64"
    assert T.arange(T.fscalar()).dtype == "float32"
    f = theano.function([start, stop, step], out, mode="FAST_COMPILE")
    for args in [(0, 5, 1), (2, 11, 4), (-5, 1, 1), (10, 2, -2), (10, 2, 2), (0, 0, 1)]:
        got = f(*args)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.arange(*args))


# ---- Theano behaviours whose fix lies outside the tensor ops: verify_grad's broadcastable
# points and function() of x.shape were fixed there meanwhile; the strict xfails turn green
# when theirs is.

def test_verify_grad_point_with_length_one_axes_broadcasts():
    rng = np.random.RandomState(0)
    theano.gradient.verify_grad(lambda a, b: a * b, [rng.rand(2, 3), rng.rand(1, 1)], rng=rng)


def test_function_mode_as_third_positional_argument():
    """Theano's order, function(inputs, outputs, mode, updates), beside aotsym's
    function(inputs, outputs, updates, givens, mode): told apart by the third's type."""
    x = T.vector()
    f = theano.function([x], 2 * x, theano.compile.mode.get_mode("FAST_COMPILE"))
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    w = theano.shared(np.ones(2))
    theano.function([x], (w * x).sum(), "FAST_RUN", [(w, w + 1)])(np.ones(2))
    theano.function([x], (w * x).sum(), [(w, w * 2)])(np.ones(2))
    np.testing.assert_array_equal(w.get_value(), [4.0, 4.0])
    with pytest.raises(TypeError, match="multiple values for argument 'updates'"):
        theano.function([x], x, [(w, w)], updates=[(w, w)])


def test_function_of_a_shape_returns_the_vector():
    x = T.matrix()
    got = theano.function([x], x.shape, mode="FAST_COMPILE")(np.ones((2, 3)))
    assert isinstance(got, np.ndarray) and got.tolist() == [2, 3]


def test_variable_methods_theano_has():
    x, y = T.ivector("x"), T.ivector("y")
    assert x.sum(acc_dtype="float64").dtype == "float64"
    assert x.copy(name="c").name == "c"
    assert T.zvector().conjugate().dtype == "complex128"
    assert len(divmod(x, y)) == 2
    assert T.constant(3).value == 3


def test_variable_methods_in_theanos_positional_order_against_numpy():
    """x.sum(axis, dtype, keepdims), x.var(axis, ddof, keepdims, corrected), take's mode,
    divmod, searchsorted, compress: Theano's (and NumPy's) signatures."""
    x, i = T.matrix("x"), T.lvector("i")
    v, s = T.vector("v"), T.vector("s")
    xv, iv = np.arange(12.0).reshape(3, 4) - 5, np.array([-5, 0, 2, 7])
    f = theano.function([x, i], [x.take(i, axis=1, mode="wrap"), x.take(i, axis=0, mode="clip"),
                                 x.take(i, mode="clip"), x.sum(0, "float32"),
                                 x.mean(0, None, True), x.var(0, 1), *divmod(x, 3)])
    want = [np.take(xv, iv, axis=1, mode="wrap"), np.take(xv, iv, axis=0, mode="clip"),
            np.take(xv, iv, mode="clip"), xv.sum(0, dtype="float32"),
            xv.mean(0, keepdims=True), xv.var(0, ddof=1), *divmod(xv, 3)]
    for got, w in zip(f(xv, iv), want):
        assert got.dtype == w.dtype and got.shape == w.shape
        np.testing.assert_allclose(got, w)
    g = theano.function([v, s], [v.searchsorted(s), v.compress(s > 0)])
    got_idx, got_sel = g(np.array([1.0, 3, 5]), np.array([2.0, -1, 6]))
    assert got_idx.tolist() == [1, 0, 3] and got_sel.tolist() == [1.0, 5.0]
    with pytest.raises(ValueError, match="mode"):
        x.take(i, mode="nearest")


@pytest.mark.parametrize("op", [lambda x: T.clip(x, 0, x), lambda x: T.clip(x, x, 0),
                                lambda x: T.clip(0, x, x), lambda x: T.clip(x, x, x),
                                lambda x: T.clip(x, 0.4, -0.3)])
def test_clip_gradient_with_a_variable_in_two_roles(op):
    # Theano's gh-633 checks: clip(x, 0, x) is x everywhere (NumPy's clip: hi wins when
    # lo > hi), so its gradient is 1 (was 0 for x < 0)
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, size=(3, 7))
    x[np.abs(x) < 0.05] = 0.5                 # away from the kinks
    theano.gradient.verify_grad(op, [x], rng=rng, mode="FAST_COMPILE")


def test_var_corrected_is_the_two_pass_algorithm():
    # Theano's corrected=True subtracts the mean's rounding error; it is not ddof=1
    a = T.tensor3("a")
    A = np.arange(60.0).reshape(3, 4, 5) ** 1.5
    outs = [T.var(a, corrected=True), T.var(a, axis=2, ddof=1, corrected=True),
            T.std(a, axis=0, corrected=True), T.var(a, axis=1, ddof=1)]
    got = theano.function([a], outs, mode="FAST_COMPILE")(A)
    c = A - A.mean()
    np.testing.assert_allclose(got[0], np.mean(c ** 2) - np.mean(c) ** 2)
    c2 = A - A.mean(axis=2, keepdims=True)
    np.testing.assert_allclose(got[1], np.var(A, axis=2, ddof=1) - c2.sum(axis=2) ** 2 / 20)
    np.testing.assert_allclose(got[2], np.std(A, axis=0))
    np.testing.assert_allclose(got[3], np.var(A, axis=1, ddof=1))
