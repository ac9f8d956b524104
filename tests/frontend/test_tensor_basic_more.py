"""``aotsym.tensor.basic``: Theano's structure and shape functions, compiled (FAST_RUN)
against NumPy on ordinary values, NaN/inf/-0.0, empty, strided and negative-stride inputs;
against PyTensor where it is importable and has the function; gradients against finite
differences; the broadcastable flags; errors for bad arguments.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import verify_grad

RNG = np.random.default_rng(7)


def _special(shape):
    """Values of ``shape`` holding NaN, +-inf, -0.0 and 0.0 among ordinary numbers."""
    v = RNG.standard_normal(shape)
    flat = v.reshape(-1)
    for i, s in enumerate([np.nan, np.inf, -np.inf, -0.0, 0.0]):
        if i < flat.size:
            flat[(i * 7) % flat.size] = s
    return v


def _variants(shape, empty_shape):
    big = RNG.standard_normal(tuple(2 * n for n in shape))
    return {
        "ordinary": RNG.standard_normal(shape),
        "special": _special(shape),
        "empty": np.zeros(empty_shape),
        "strided": big[tuple(slice(None, None, 2) for _ in shape)],
        "negative_stride": big[tuple(slice(None, None, -2) for _ in shape)],
    }


INPUTS = {
    "vector": (T.vector, _variants((5,), (0,))),
    "matrix": (T.matrix, _variants((3, 4), (0, 4))),
    "square": (T.matrix, _variants((4, 4), (3, 0))),
    "tensor3": (T.tensor3, _variants((2, 3, 4), (2, 0, 3))),
}


def _np_split(v, sizes):
    if len(v) != sum(sizes):
        raise ValueError("lengths do not add up")
    return np.split(v, np.cumsum(sizes)[:-1])


def _np_max_and_argmax(a, axes):
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = np.transpose(a, kept + list(axes))
    flat = moved.reshape(moved.shape[:len(kept)] + (int(np.prod(moved.shape[len(kept):])),))
    return [np.max(a, axis=tuple(axes)), np.argmax(flat, axis=-1)]


# name: (input kind, build(namespace, x) -> variable or list, NumPy reference, exact)
# ``build`` takes the namespace, so the same line runs with PyTensor's ``pt``.
CASES = {
    "tile_2x3": ("matrix", lambda ns, x: ns.tile(x, (2, 3)), lambda a: np.tile(a, (2, 3)), 1),
    "tile_pads_ndim": ("matrix", lambda ns, x: ns.tile(x, (2, 1, 2)),
                       lambda a: np.tile(a, (2, 1, 2)), 1),
    "tile_zero": ("vector", lambda ns, x: ns.tile(x, (0,)), lambda a: np.tile(a, 0), 1),
    "tile_t3": ("tensor3", lambda ns, x: ns.tile(x, 2), lambda a: np.tile(a, 2), 1),
    "roll_axis0": ("matrix", lambda ns, x: ns.roll(x, 1, 0), lambda a: np.roll(a, 1, 0), 1),
    "roll_flat_neg": ("matrix", lambda ns, x: ns.roll(x, -5), lambda a: np.roll(a, -5), 1),
    "roll_large": ("matrix", lambda ns, x: ns.roll(x, 7, 1), lambda a: np.roll(a, 7, 1), 1),
    "roll_vector": ("vector", lambda ns, x: ns.roll(x, 2), lambda a: np.roll(a, 2), 1),
    "roll_two_axes": ("tensor3", lambda ns, x: T.roll(x, (1, -1), (0, 2)),
                      lambda a: np.roll(a, (1, -1), (0, 2)), 1),
    "flip_all": ("matrix", lambda ns, x: ns.flip(x), np.flip, 1),
    "flip_axis": ("tensor3", lambda ns, x: ns.flip(x, (0, 2)), lambda a: np.flip(a, (0, 2)), 1),
    "swapaxes": ("tensor3", lambda ns, x: ns.swapaxes(x, 0, -1),
                 lambda a: np.swapaxes(a, 0, -1), 1),
    "diag_of_vector": ("vector", lambda ns, x: ns.diag(x), np.diag, 1),
    "diag_of_vector_k2": ("vector", lambda ns, x: ns.diag(x, 2), lambda a: np.diag(a, 2), 1),
    "diag_of_vector_km1": ("vector", lambda ns, x: ns.diag(x, -1), lambda a: np.diag(a, -1), 1),
    "diag_of_matrix": ("matrix", lambda ns, x: ns.diag(x), np.diag, 1),
    "diagonal_p1": ("matrix", lambda ns, x: ns.diagonal(x, 1), lambda a: np.diagonal(a, 1), 1),
    "diagonal_m2": ("square", lambda ns, x: ns.diagonal(x, -2),
                    lambda a: np.diagonal(a, -2), 1),
    "diagonal_far": ("matrix", lambda ns, x: ns.diagonal(x, 9), lambda a: np.diagonal(a, 9), 1),
    "diagonal_t3": ("tensor3", lambda ns, x: ns.diagonal(x, 1, 2, 0),
                    lambda a: np.diagonal(a, 1, 2, 0), 1),
    "extract_diag": ("square", lambda ns, x: ns.extract_diag(x), np.diagonal, 1),
    "trace": ("square", lambda ns, x: ns.trace(x), np.trace, 0),
    "trace_t3": ("tensor3", lambda ns, x: T.trace(x, 1, 0, 2),
                 lambda a: np.trace(a, 1, 0, 2), 0),
    "tril": ("matrix", lambda ns, x: ns.tril(x), np.tril, 1),
    "tril_m1": ("square", lambda ns, x: ns.tril(x, -1), lambda a: np.tril(a, -1), 1),
    "triu": ("matrix", lambda ns, x: ns.triu(x), np.triu, 1),
    "triu_2_t3": ("tensor3", lambda ns, x: T.triu(x, 2), lambda a: np.triu(a, 2), 1),
    "max_and_argmax_1": ("matrix", lambda ns, x: ns.max_and_argmax(x, 1),
                         lambda a: [np.max(a, 1), np.argmax(a, 1)], 1),
    "max_and_argmax_all": ("matrix", lambda ns, x: ns.max_and_argmax(x),
                           lambda a: [np.max(a), np.argmax(a)], 1),
    "max_and_argmax_02": ("tensor3", lambda ns, x: T.max_and_argmax(x, (0, 2)),
                          lambda a: _np_max_and_argmax(a, (0, 2)), 1),
    "isclose": ("matrix", lambda ns, x: ns.isclose(x, x * (1 + 1e-6)),
                lambda a: np.isclose(a, a * (1 + 1e-6)), 1),
    "isclose_far": ("matrix", lambda ns, x: ns.isclose(x, x + 1e-3),
                    lambda a: np.isclose(a, a + 1e-3), 1),
    "isclose_nan": ("matrix", lambda ns, x: ns.isclose(x, x, equal_nan=True),
                    lambda a: np.isclose(a, a, equal_nan=True), 1),
    "allclose": ("matrix", lambda ns, x: ns.allclose(x, x[::-1]),
                 lambda a: np.bool_(np.allclose(a, a[::-1])), 1),
    "square": ("matrix", lambda ns, x: ns.square(x), np.square, 1),
    "deg2rad": ("matrix", lambda ns, x: ns.deg2rad(x), np.deg2rad, 1),
    "rad2deg": ("matrix", lambda ns, x: ns.rad2deg(x), np.rad2deg, 1),
    "horizontal_stack": ("matrix", lambda ns, x: ns.horizontal_stack(x, 2 * x),
                         lambda a: np.hstack([a, 2 * a]), 1),
    "vertical_stack": ("matrix", lambda ns, x: ns.vertical_stack(x, x[::-1]),
                       lambda a: np.vstack([a, a[::-1]]), 1),
    "split": ("vector", lambda ns, x: ns.split(x, [1, 2, 2], n_splits=3),
              lambda a: _np_split(a, [1, 2, 2]), 1),
    "split_axis1": ("matrix", lambda ns, x: ns.split(x, [3, 0, 1], n_splits=3, axis=1),
                    lambda a: np.split(a, [3, 3], axis=1), 1),
    "shape_padaxis": ("matrix", lambda ns, x: ns.shape_padaxis(x, -2),
                      lambda a: np.expand_dims(a, -2), 1),
    "shape_padleft_right": ("vector", lambda ns, x: ns.shape_padright(ns.shape_padleft(x, 2)),
                            lambda a: a[None, None, :, None], 1),
}

SKIP = {  # (case, variant): NumPy's answer is not a specification there
    ("max_and_argmax_all", "empty"): "NumPy raises; checked in test_max_and_argmax_of_empty",
}
XFAIL = {}  # known differences from NumPy in ops this module builds on (not in it)


def _run(fn, *args):
    """(result, None) or (None, exception class)."""
    try:
        return fn(*args), None
    except (ValueError, IndexError) as exc:
        return None, type(exc)


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _check_equal(got, want, exact, what):
    want = np.asarray(want)
    assert got.shape == want.shape, what
    if want.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want, err_msg=what)
    elif exact:
        assert got.dtype == want.dtype, what
        np.testing.assert_array_equal(got, want, err_msg=what)
        assert np.array_equal(np.signbit(got), np.signbit(want)), what + " (signs of zeros)"
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=what)


@pytest.fixture(scope="module")
def compiled():
    cache = {}

    def get(name):
        if name not in cache:
            kind, build, _, _ = CASES[name]
            x = INPUTS[kind][0]("x")
            cache[name] = aotsym.function([x], build(T, x))
        return cache[name]
    return get


@pytest.mark.parametrize("variant", ["ordinary", "special", "empty", "strided",
                                     "negative_stride"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_matches_numpy(compiled, request, name, variant):
    if (name, variant) in SKIP:
        pytest.skip(SKIP[name, variant])
    if (name, variant) in XFAIL:
        request.node.add_marker(pytest.mark.xfail(reason=XFAIL[name, variant], strict=True))
    kind, _, reference, exact = CASES[name]
    value = INPUTS[kind][1][variant]
    with np.errstate(all="ignore"):
        want, want_error = _run(reference, value)
    got, got_error = _run(compiled(name), value)
    if want_error is not None:
        assert got_error is not None, f"{name}: NumPy raises {want_error.__name__}, aotsym not"
        return
    assert got_error is None, f"{name}: aotsym raises {got_error}"
    got, want = _as_list(got), _as_list(want)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        _check_equal(g, w, exact, f"{name}[{i}] on {variant}")


# PyTensor's tril/triu multiply by the mask (-0.0 below a negative, NaN below an infinity):
# NumPy, the oracle, writes +0.0 there, and so does aotsym; compared on ordinary values only
PT_MASK_PRODUCT = {"tril", "tril_m1", "triu"}


@pytest.mark.filterwarnings("ignore::FutureWarning")   # PyTensor's extract_diag
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytensor(compiled, name):
    pt = pytest.importorskip("pytensor.tensor")
    import pytensor
    kind, build, _, exact = CASES[name]
    if "T" in build.__code__.co_names:
        pytest.skip("aotsym-only spelling (NumPy's, beyond Theano's)")
    try:
        xp = getattr(pt, kind if kind != "square" else "matrix")("x")
        out = build(pt, xp)
    except (AttributeError, TypeError, NotImplementedError) as exc:
        pytest.skip(f"PyTensor has no {name} in this form: {exc}")
    fp = pytensor.function([xp], out, mode="FAST_COMPILE")
    variants = ("ordinary",) if name in PT_MASK_PRODUCT else ("ordinary", "special", "empty")
    for variant in variants:
        value = INPUTS[kind][1][variant]
        got, want_error = _run(compiled(name), value)
        if want_error is not None:
            continue   # compared with NumPy's error above
        for g, w in zip(_as_list(got), _as_list(fp(value))):
            _check_equal(g, np.asarray(w), exact and name not in PT_MASK_PRODUCT,
                         f"{name} on {variant} against PyTensor")


# ---------------------------------------------------------------------------- broadcast flags


def test_addbroadcast_sets_the_flag_and_checks_the_length_at_run_time():
    x = T.matrix("x")
    y = T.addbroadcast(x, 0)
    assert y.broadcastable == (True, False)
    assert T.addbroadcast(x, -1, 0).broadcastable == (True, True)
    assert T.addbroadcast(y, 0) is y
    f = aotsym.function([x], y + T.ones((3, 4)))     # the row broadcasts against 3 rows
    row = RNG.standard_normal((1, 4))
    np.testing.assert_array_equal(f(row), np.repeat(row + 1, 3, axis=0))
    np.testing.assert_array_equal(f(row[:, ::-1]), np.repeat(row[:, ::-1] + 1, 3, axis=0))
    with pytest.raises(ValueError, match="addbroadcast"):
        f(np.zeros((2, 4)))


def test_unbroadcast_and_patternbroadcast_flags_and_values():
    r = T.row("r")
    u = T.unbroadcast(r, 0)
    assert u.broadcastable == (False, False)
    assert T.unbroadcast(r, 1) is r                   # already not broadcastable
    p = T.patternbroadcast(T.col("c"), (False, True))
    assert p.broadcastable == (False, True)
    q = T.patternbroadcast(T.matrix("m"), (True, False))
    assert q.broadcastable == (True, False)
    c = T.col("c")
    swapped = T.patternbroadcast(c, (True, False))
    assert swapped.broadcastable == (True, False)
    f = aotsym.function([r, c], [u, swapped])
    rv, cv = RNG.standard_normal((1, 5)), np.array([[-0.0]])
    got_u, got_s = f(rv, cv)
    np.testing.assert_array_equal(got_u, rv)
    assert got_s.shape == (1, 1) and np.signbit(got_s[0, 0])
    with pytest.raises(ValueError, match="patternbroadcast"):
        f(rv, np.zeros((3, 1)))


def test_shape_pads_flags():
    v = T.vector("v")
    assert T.shape_padleft(v).broadcastable == (True, False)
    assert T.shape_padleft(v, 3).broadcastable == (True, True, True, False)
    assert T.shape_padright(v, 2).broadcastable == (False, True, True)
    assert T.shape_padaxis(T.matrix("m"), 1).broadcastable == (False, True, False)
    assert T.shape_padaxis(T.matrix("m"), -1).broadcastable == (False, False, True)


def test_broadcastable_inputs():
    r, s = T.row("r"), T.TensorType("float64", (True,))("s")
    cases = [
        (T.tile(r, (3, 2)), lambda a, b: np.tile(a, (3, 2))),
        (T.tile(s, (2, 1, 3)), lambda a, b: np.tile(b, (2, 1, 3))),
        (T.roll(r, 1, 0), lambda a, b: np.roll(a, 1, 0)),
        (T.roll(r, 2), lambda a, b: np.roll(a, 2)),
        (T.diag(s, -1), lambda a, b: np.diag(b, -1)),
        (T.diagonal(r, 1), lambda a, b: np.diagonal(a, 1)),
        (T.tril(r), lambda a, b: np.tril(a)),
        (T.flip(r), lambda a, b: np.flip(a)),
        (T.split(r, [2, 1], 2, axis=1)[1], lambda a, b: a[:, 2:]),
        (T.split(r, [3], 1, axis=1), lambda a, b: a),     # one piece: not a list (Theano)
        (T.max_and_argmax(r, 0)[1], lambda a, b: np.argmax(a, 0)),
    ]
    f = aotsym.function([r, s], [c[0] for c in cases])
    a, b = np.array([[1.0, -0.0, np.nan]]), np.array([np.inf])
    for i, (got, (_, reference)) in enumerate(zip(f(a, b), cases)):
        _check_equal(got, reference(a, b), True, f"case {i}")


def test_unbroadcast_for_scan_outputs_info():
    """The common use: an initial state whose broadcastable flags differ from the step's."""
    h0 = T.alloc(np.float64(0.0), 1, 3)                 # a (1, 3) zeros: broadcastable rows
    xs = T.tensor3("xs")

    def step(x_t, h):
        return h + x_t
    out, _ = aotsym.scan(step, sequences=xs, outputs_info=T.unbroadcast(h0, 0))
    f = aotsym.function([xs], out[-1])
    v = RNG.standard_normal((4, 1, 3))
    np.testing.assert_allclose(f(v), v.sum(axis=0))


# ---------------------------------------------------------------------------- symbolic arguments


def test_tile_with_symbolic_reps():
    x, k = T.matrix("x"), T.iscalar("k")
    reps = T.ivector("reps")
    f = aotsym.function([x, k, reps], [T.tile(x, (k, 2)), T.tile(x, k),
                                       T.tile(x, reps, ndim=3)])
    xv = RNG.standard_normal((2, 3))
    a, b, c = f(xv, 3, np.array([2, 1], "int32"))
    np.testing.assert_array_equal(a, np.tile(xv, (3, 2)))
    np.testing.assert_array_equal(b, np.tile(xv, 3))
    np.testing.assert_array_equal(c, np.tile(xv, (1, 2, 1)))
    a, b, c = f(xv, 0, np.array([1, 2, 1], "int32"))
    np.testing.assert_array_equal(a, np.tile(xv, (0, 2)))
    np.testing.assert_array_equal(c, np.tile(xv, (1, 2, 1)))
    with pytest.raises(ValueError):          # more repetitions than ndim
        f(xv, 1, np.array([1, 1, 1, 1], "int32"))
    with pytest.raises(ValueError):          # a negative repetition
        f(xv, -1, np.array([1], "int32"))


def test_roll_with_symbolic_shift():
    x, s = T.matrix("x"), T.lscalar("s")
    f = aotsym.function([x, s], [T.roll(x, s, 1), T.roll(x, s)])
    for shape in [(3, 4), (3, 0), (0, 2)]:
        xv = _special(shape)
        for shift in (0, 1, -1, 5, -9, 2 ** 40):
            a, b = f(xv, shift)
            np.testing.assert_array_equal(a, np.roll(xv, shift, 1))
            np.testing.assert_array_equal(b, np.roll(xv, shift))


def test_split_with_symbolic_sizes_checks_them_at_run_time():
    x, sizes = T.matrix("x"), T.lvector("sizes")
    f = aotsym.function([x, sizes], T.split(x, sizes, 3, axis=0))
    xv = RNG.standard_normal((5, 2))
    for got, want in zip(f(xv, np.array([2, 0, 3])), np.split(xv, [2, 2])):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="split"):
        f(xv, np.array([2, 2, 2]))                     # adds up to 6, not 5
    with pytest.raises(ValueError, match="split"):
        f(xv, np.array([6, -1, 0]))                    # a negative length
    with pytest.raises(ValueError, match="split"):
        f(xv, np.array([5, 0]))                        # two lengths for n_splits=3


def test_tri_with_symbolic_sizes():
    n, k = T.iscalar("n"), T.iscalar("k")
    f = aotsym.function([n, k], [T.tri(n), T.tri(n, n + 2, k, dtype="int32"),
                                 T.tril(T.ones((n, n)), k)])
    for nv, kv in [(3, 0), (4, -1), (0, 1), (2, 5)]:
        a, b, c = f(nv, kv)
        np.testing.assert_array_equal(a, np.tri(nv))
        assert a.dtype == aotsym.config.floatX and b.dtype == np.int32
        np.testing.assert_array_equal(b, np.tri(nv, nv + 2, kv, dtype="int32"))
        np.testing.assert_array_equal(c, np.tril(np.ones((nv, nv)), kv))


def test_stacklists_of_scalars():
    a, b, c, d = T.scalars("a", "b", "c", "d")
    m = T.stacklists([[a, b], [c, d]])
    assert m.ndim == 2
    f = aotsym.function([a, b, c, d], m)
    np.testing.assert_array_equal(f(1, 2, 3, -0.0), [[1, 2], [3, -0.0]])
    assert np.signbit(f(1, 2, 3, -0.0)[1, 1])


def test_mgrid_and_ogrid_match_numpy():
    n = T.lscalar("n")
    grids = T.mgrid[0:3, 1:n:2] + T.ogrid[0:3, 1:n:2] + [T.mgrid[0:1:0.25]]
    f = aotsym.function([n], grids)
    for nv in (6, 1):
        got = f(nv)
        want = list(np.mgrid[0:3, 1:nv:2]) + list(np.ogrid[0:3, 1:nv:2]) + [np.mgrid[0:1:0.25]]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("mode", [None, "half_to_even", "half_away_from_zero"])
def test_iround_halves(mode):
    x = T.vector("x")
    f = aotsym.function([x], T.iround(x, mode))
    v = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, -0.0, 3.7, -3.7,
                  2.0 ** 52 + 1])
    got = f(v)
    assert got.dtype == np.int64
    if mode == "half_away_from_zero":
        want = np.trunc(v) + np.sign(v) * (np.abs(v - np.trunc(v)) >= 0.5)
    else:
        want = np.round(v)
    np.testing.assert_array_equal(got, want.astype(np.int64))


def test_iround_of_nan_and_inf_agrees_with_the_reference_evaluator():
    x = T.vector("x")
    v = np.array([np.nan, np.inf, -np.inf, 1e300, -0.0])
    for mode in ("half_to_even", "half_away_from_zero"):
        y = T.iround(x, mode)
        np.testing.assert_array_equal(aotsym.function([x], y)(v),
                                      aotsym.function([x], y, mode="FAST_COMPILE")(v))


DTYPE_CASES = {
    "tile": (lambda x, v: T.tile(x, (2, 1)), lambda a, b: np.tile(a, (2, 1))),
    "roll": (lambda x, v: T.roll(x, 1), lambda a, b: np.roll(a, 1)),
    "flip": (lambda x, v: T.flip(x), lambda a, b: np.flip(a)),
    "diag_vector": (lambda x, v: T.diag(v, 1), lambda a, b: np.diag(b, 1)),
    "diag_matrix": (lambda x, v: T.diag(x), lambda a, b: np.diag(a)),
    "trace": (lambda x, v: T.trace(x), lambda a, b: np.trace(a)),
    "tril": (lambda x, v: T.tril(x), lambda a, b: np.tril(a)),
    "triu": (lambda x, v: T.triu(x, 1), lambda a, b: np.triu(a, 1)),
    "isclose": (lambda x, v: T.isclose(x, x[::-1]), lambda a, b: np.isclose(a, a[::-1])),
    "square": (lambda x, v: T.square(x), lambda a, b: np.square(a)),
    "split": (lambda x, v: T.split(v, [1, 2], 2)[1], lambda a, b: b[1:]),
    "unbroadcast": (lambda x, v: T.unbroadcast(x[:1], 0), lambda a, b: a[:1]),
    "max": (lambda x, v: T.max_and_argmax(x, 0)[0], lambda a, b: a.max(0)),
    "argmax": (lambda x, v: T.max_and_argmax(x, 0)[1], lambda a, b: a.argmax(0)),
}


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "bool"])
def test_dtypes_follow_numpy(dtype):
    x, v = T.tensor(dtype, (False, False), name="x"), T.tensor(dtype, (False,), name="v")
    names = sorted(DTYPE_CASES)
    f = aotsym.function([x, v], [DTYPE_CASES[n][0](x, v) for n in names])
    a = ((np.arange(12).reshape(3, 4) * 7) % 5).astype(dtype)
    b = np.arange(3).astype(dtype)
    for name, got in zip(names, f(a, b)):
        want = np.asarray(DTYPE_CASES[name][1](a, b))
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_isclose_of_integers_and_mixed_dtypes():
    i, f32 = T.lvector("i"), T.fvector("f")
    f = aotsym.function([i, f32], [T.isclose(i, f32), T.allclose(i, i), T.isclose(f32, i)])
    iv = np.array([1, 2, 3, -(2 ** 62)])
    fv = np.array([1, 2.00001, np.inf, -2.0 ** 62], "float32")
    a, b, c = f(iv, fv)
    np.testing.assert_array_equal(a, np.isclose(iv, fv))
    assert b.dtype == np.bool_ and bool(b)
    np.testing.assert_array_equal(c, np.isclose(fv, iv))


# ---------------------------------------------------------------------------- gradients

M34 = RNG.standard_normal((3, 4))
T234 = RNG.standard_normal((2, 3, 4))
V5 = RNG.standard_normal(5)

GRADS = {
    "tile": (lambda x: T.tile(x, (2, 1, 3)), [M34]),
    "roll": (lambda x: T.roll(x, 2, 1) * T.arange(4), [M34]),
    "roll_flat": (lambda x: T.roll(x, -3) * T.arange(4), [M34]),
    "flip": (lambda x: T.flip(x, 0) * T.arange(3).dimshuffle(0, "x"), [M34]),
    "swapaxes": (lambda x: T.swapaxes(x, 0, 2) * T.arange(4).dimshuffle(0, "x", "x"), [T234]),
    "diag_vector": (lambda v: T.diag(v, -2), [V5]),
    "diag_matrix": (lambda x: T.diag(x, 1), [M34]),
    "diagonal_t3": (lambda x: T.diagonal(x, -1, 2, 1), [T234]),
    "trace": (lambda x: T.trace(x) * T.trace(x, 1), [M34]),
    "tril": (lambda x: T.tril(x, 1), [M34]),
    "triu": (lambda x: T.triu(x, -1), [T234]),
    "max_and_argmax": (lambda x: T.max_and_argmax(x, 1)[0], [M34]),
    "max_and_argmax_02": (lambda x: T.max_and_argmax(x, (0, 2))[0], [T234]),
    "split": (lambda v: T.split(v, [2, 3], 2)[1] * T.split(v, [2, 3], 2)[0].sum(), [V5]),
    "horizontal_stack": (lambda x, y: T.horizontal_stack(x, y, x), [M34, M34[:, :2]]),
    "vertical_stack": (lambda x: T.vertical_stack(x, x ** 2), [M34]),
    "stacklists": (lambda v: T.stacklists([[v[0], v[1]], [v[2] * v[3], v[4]]]), [V5]),
    "square": (lambda x: T.square(x), [M34]),
    "deg2rad": (lambda x: T.deg2rad(x) ** 2, [M34]),
    "rad2deg": (lambda x: T.rad2deg(x) ** 2, [M34]),
    "unbroadcast": (lambda x: T.unbroadcast(x[:1], 0) * T.arange(4), [M34]),
    "addbroadcast": (lambda x: T.addbroadcast(x[1:2], 0) * T.ones((3, 4)), [M34]),
    "patternbroadcast": (lambda x: T.patternbroadcast(x[:, :1], (False, False)) ** 2, [M34]),
    "shape_padaxis": (lambda x: T.shape_padaxis(x, 1) * T.ones((3, 2, 4)), [M34]),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradient_against_finite_differences(name):
    fun, point = GRADS[name]
    verify_grad(fun, point, rng=np.random.default_rng(1))


def test_gradients_compile_and_match_the_reference_evaluator():
    x, v = T.matrix("x"), T.vector("v")
    cost = (T.sum(T.roll(T.tile(x, (1, 2)), 3) ** 2) + T.sum(T.diag(v) * T.tril(T.ones((5, 5))))
            + T.sum(T.unbroadcast(x[:1], 0) * T.arange(4)) + T.trace(T.outer(v, v))
            + T.max_and_argmax(x, 0)[0].sum() + T.split(v, [1, 4], 2)[1].prod())
    grads = aotsym.grad(cost, [x, v])
    f = aotsym.function([x, v], grads)
    ref = aotsym.function([x, v], grads, mode="FAST_COMPILE")
    for got, want in zip(f(M34, V5), ref(M34, V5)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- bad arguments

x_, v_ = T.matrix("x"), T.vector("v")
ERRORS = [
    (lambda: T.addbroadcast(x_, 2), ValueError, "addbroadcast"),
    (lambda: T.addbroadcast(x_, 0.5), TypeError, "addbroadcast"),
    (lambda: T.unbroadcast(x_, -3), ValueError, "unbroadcast"),
    (lambda: T.patternbroadcast(x_, (True,)), ValueError, "patternbroadcast"),
    (lambda: T.shape_padleft(x_, -1), TypeError, "shape_padleft"),
    (lambda: T.shape_padaxis(x_, 3), IndexError, "shape_padaxis"),
    (lambda: T.shape_padaxis(x_, -4), IndexError, "shape_padaxis"),
    (lambda: T.tile(x_, [1.5]), TypeError, "tile"),
    (lambda: T.tile(x_, [2, -1]), ValueError, "tile"),
    (lambda: T.tile(x_, (2, 2), ndim=1), ValueError, "tile"),
    (lambda: T.tile(x_, (2, 2, 2), ndim=2), ValueError, "tile"),
    (lambda: T.tile(x_, T.fvector()), TypeError, "tile"),
    (lambda: T.tile(x_, T.ivector()), ValueError, "ndim"),
    (lambda: T.horizontal_stack(x_, v_), TypeError, "horizontal_stack"),
    (lambda: T.vertical_stack(), ValueError, "vertical_stack"),
    (lambda: T.stacklists([]), ValueError, "stacklists"),
    (lambda: T.split(v_, [1, 2], 3), ValueError, "split"),
    (lambda: T.split(v_, [1, -2], 2), ValueError, "split"),
    (lambda: T.split(v_, [1, 2], 0), ValueError, "split"),
    (lambda: T.split(v_, T.fvector(), 2), TypeError, "split"),
    (lambda: T.split(v_, [1, 2], 2, axis=1), ValueError, "split"),
    (lambda: T.split(T.scalar(), [1], 1), TypeError, "split"),
    (lambda: T.swapaxes(x_, 0, 2), ValueError, "swapaxes"),
    (lambda: T.roll(x_, 1, 2), ValueError, "roll"),
    (lambda: T.roll(x_, 1.5, 0), TypeError, "roll"),
    (lambda: T.roll(x_, (1, 2), (0,)), ValueError, "roll"),
    (lambda: T.flip(x_, 5), ValueError, "flip"),
    (lambda: T.diag(T.scalar()), ValueError, "diag"),
    (lambda: T.diag(v_, 0.5), TypeError, "diag"),
    (lambda: T.diagonal(v_), ValueError, "diagonal"),
    (lambda: T.diagonal(x_, 0, 1, -1), ValueError, "diagonal"),
    (lambda: T.trace(v_), ValueError, "diagonal"),
    (lambda: T.tri(2.5), TypeError, "tri"),
    (lambda: T.tril(v_), ValueError, "tril"),
    (lambda: T.triu(v_), ValueError, "triu"),
    (lambda: T.max_and_argmax(x_, 2), ValueError, "max_and_argmax"),
    (lambda: T.iround(x_, "up"), ValueError, "iround"),
    (lambda: T.mgrid[0:3, 1], TypeError, "mgrid"),
    (lambda: T.ogrid[0:3:5j], NotImplementedError, "ogrid"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_bad_arguments_raise_naming_the_function(index):
    build, error, word = ERRORS[index]
    with pytest.raises(error, match=word):
        build()


def test_max_and_argmax_of_empty():
    x = T.matrix("x")
    f = aotsym.function([x], T.max_and_argmax(x))
    with pytest.raises(ValueError):
        np.argmax(np.zeros((0, 3)))
    with pytest.raises(ValueError):
        f(np.zeros((0, 3)))


def test_namespace_lists_the_functions():
    import aotsym.tensor.basic as basic
    for name in basic.__all__:
        assert getattr(T, name) is getattr(basic, name)
        assert name in dir(T)
        assert getattr(basic, name).__doc__, name


def test_rewrites_keep_the_answers_in_debug_mode():
    """DEBUG_MODE checks every rewrite as it fires against the reference evaluator, on the
    inputs' test values (NaN, -inf and -0.0 among them); the gradients' rewrites too."""
    x, v, k = T.matrix("x"), T.vector("v"), T.lscalar("k")
    x.tag.test_value = _special((3, 4))
    v.tag.test_value = RNG.standard_normal(5)
    k.tag.test_value = np.int64(3)
    outs = [T.tile(x, (2, 3)), T.roll(x, k, 1), T.roll(x, -5), T.flip(x, 0), T.diag(v, 1),
            T.diag(x, -1), T.trace(x), T.tril(x, 1), T.triu(x),
            T.unbroadcast(T.shape_padleft(v), 0), T.patternbroadcast(x[:1], (True, False)),
            T.isclose(x, x[::-1]), T.allclose(x, x), T.iround(x, "half_away_from_zero"),
            T.deg2rad(x)] + T.split(v, [2, 3], 2) + T.max_and_argmax(x, 0)
    cost = sum(T.sum(o) for o in outs if o.dtype == "float64")
    outs += aotsym.grad(cost, [x, v])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a graph DEBUG_MODE could not check warns
        f = aotsym.function([x, v, k], outs, mode="DEBUG_MODE")
        f(x.tag.test_value, v.tag.test_value, 3)
