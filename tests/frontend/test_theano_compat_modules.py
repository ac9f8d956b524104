"""Theano module paths that ported code imports: ``theano.tensor.var`` (isinstance checks) and
``theano.misc.pkl_utils`` (a model saved to a zip archive, its arrays as .npy files)."""

import io
import zipfile

import numpy as np

import aotsym
from aotsym import tensor as T
from aotsym.misc import pkl_utils
from aotsym.tensor.var import TensorConstant, TensorSharedVariable, TensorVariable


def test_tensor_var_classes_are_the_variables():
    x = T.matrix("x")
    w = aotsym.shared(np.ones(2), name="w")
    assert isinstance(x, TensorVariable) and isinstance(x * 2, TensorVariable)
    assert isinstance(T.constant(1.0), TensorConstant) and isinstance(w, TensorSharedVariable)
    assert not isinstance(x, TensorConstant)


def test_pkl_utils_dump_and_load_a_trained_function(tmp_path):
    w = aotsym.shared(np.arange(6.0).reshape(2, 3), name="w")
    x = T.vector("x")
    f = aotsym.function([x], T.dot(w, x), updates=[(w, w * 2)])
    f(np.ones(3))
    path = tmp_path / "model.zip"
    with open(path, "wb") as fh:
        pkl_utils.dump({"train": f, "w": w, "extra": [np.float32([1, 2])]}, fh)
    names = zipfile.ZipFile(path).namelist()
    assert "pkl" in names and any(n.endswith(".npy") for n in names)
    with open(path, "rb") as fh:
        saved = pkl_utils.load(fh)
    np.testing.assert_array_equal(saved["w"].get_value(), np.arange(6.0).reshape(2, 3) * 2)
    assert saved["extra"][0].dtype == np.float32
    out = saved["train"](np.ones(3))               # the loaded function updates the loaded w
    np.testing.assert_array_equal(out, [6.0, 24.0])
    np.testing.assert_array_equal(saved["w"].get_value(), np.arange(6.0).reshape(2, 3) * 4)
    buf = io.BytesIO()                             # file objects and NumPy values alone
    pkl_utils.dump(np.arange(3), buf)
    buf.seek(0)
    assert pkl_utils.load(buf).tolist() == [0, 1, 2]


def test_importing_the_var_and_sort_modules_keeps_t_var_and_t_sort_functions():
    """Python sets aotsym.tensor.var to the module when it is imported (this file does):
    T.var(x) must stay the variance, T.sort(x) the sort (they failed as 'module object is
    not callable' in every later test of the same process)."""
    import aotsym.tensor.sort  # noqa: F401
    x = T.vector("x")
    f = aotsym.function([x], [T.var(x), T.sort(x), T.var(x, ddof=1)])
    v, s, v1 = f(np.array([3.0, 1.0, 2.0]))
    assert np.isclose(v, 2 / 3) and s.tolist() == [1.0, 2.0, 3.0] and np.isclose(v1, 1.0)


def test_scalar_constant_indexes_and_differentiates_as_in_theanos_subtensor_tests():
    """``theano.scalar.constant`` (Theano's test_subtensor: ``z = scal.constant(0)``,
    ``n[z:, z]``): a 0-d constant with tensor.constant's dtype rule."""
    import pytest
    from aotsym import scalar as scal
    z = scal.constant(0)
    assert z.ndim == 0 and z.dtype == "int8" and scal.constant(2.5).dtype == aotsym.config.floatX
    with pytest.raises(TypeError, match="scalar.constant"):
        scal.constant([1, 2])
    data = np.random.RandomState(0).rand(2, 3)
    n = aotsym.shared(data)
    zi = z.astype("int32")
    gn = T.grad(T.sum(T.exp(n[zi:, zi])), n)
    good = np.zeros_like(data)
    good[0:, 0] = np.exp(data[0:, 0])
    np.testing.assert_allclose(aotsym.function([], gn)(), good, rtol=1e-15)


def test_tensor_inplace_names_compute_the_ordinary_values():
    """``theano.tensor.inplace``: every name Theano 1.0 has, the value of the ordinary
    function, Theano's type rule (the result must fit its first input)."""
    import pytest
    from aotsym.tensor import inplace as I
    theano_names = ("lt gt le ge eq neq and_ or_ xor invert abs_ exp exp2 expm1 neg inv log "
                    "log1p log2 log10 sgn ceil floor trunc round_half_to_even "
                    "round_half_away_from_zero sqr sqrt deg2rad rad2deg cos arccos sin arcsin "
                    "tan arctan arctan2 cosh arccosh sinh arcsinh tanh arctanh erf erfc erfcx "
                    "gamma gammaln psi tri_gamma chi2sf j0 j1 jv i0 i1 iv second maximum "
                    "minimum add sub mul true_div int_div mod pow conj transpose").split()
    assert all(callable(getattr(I, n + "_inplace")) for n in theano_names)
    x, y = T.dvector("x"), T.dvector("y")
    m = T.dmatrix("m")
    f = aotsym.function([x, y, m], [I.exp_inplace(x), I.add_inplace(x, y),
                                    I.maximum_inplace(y, x), I.transpose_inplace(m),
                                    I.neg_inplace(x * 2)])
    a, b = np.array([0.0, -1.5, np.nan]), np.array([2.0, 3.0, -np.inf])
    c = np.arange(6.0).reshape(2, 3)
    got = f(a, b, c)
    want = [np.exp(a), a + b, np.maximum(b, a), c.T, -(a * 2)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(a, [0.0, -1.5, np.nan])      # inputs are not overwritten
    with pytest.raises(TypeError, match="lt_inplace"):
        I.lt_inplace(x, y)                                       # bool into float64
    with pytest.raises(TypeError, match="add_inplace"):
        I.add_inplace(T.ivector("i"), x)                         # float64 into int32
    with pytest.raises(TypeError, match="mul_inplace"):
        I.mul_inplace(T.row("r"), m)                             # (1, n) cannot hold (m, n)


def test_the_names_theanos_own_scan_tests_import():
    """theano/scan_module/tests/test_scan.py's imports and helpers, run against aotsym:
    theano.compat, theano._asarray, theano.gof.fg.MissingInputError,
    theano.compile.mode.FAST_RUN, theano.scan_module.scan_op.Scan,
    theano.gradient.verify_grad.E_grad, config.unittests.rseed."""
    from aotsym.compat import OrderedDict, PY3, DefaultOrderedDict, cmp, izip
    from aotsym.compile.mode import FAST_COMPILE, FAST_RUN, get_mode
    from aotsym.graph.fgraph import MissingInputError
    from aotsym.graph.ops.scan import Scan
    from aotsym.scan_module.scan_op import Scan as TheanosScan
    assert PY3 and cmp(1, 2) == -1 and list(izip("ab", [1, 2])) == [("a", 1), ("b", 2)]
    assert OrderedDict is __import__("collections").OrderedDict
    d = DefaultOrderedDict(list)
    d["k"].append(1)
    assert d == {"k": [1]} and list(d.copy().items()) == [("k", [1])]
    assert FAST_RUN is get_mode("FAST_RUN") and FAST_COMPILE is get_mode("FAST_COMPILE")
    assert aotsym.gof.fg.MissingInputError is MissingInputError and TheanosScan is Scan
    assert aotsym.gradient.verify_grad.E_grad is aotsym.gradient.GradientError
    assert aotsym.config.unittests.rseed == "666"
    a = aotsym._asarray([1, 2], dtype="floatX")
    assert a.dtype == np.dtype(aotsym.config.floatX) and a.tolist() == [1.0, 2.0]
    assert aotsym._asarray(np.arange(3), dtype="int32").dtype == np.int32
    out, _ = aotsym.scan(lambda v: v * 2, sequences=T.vector("v"))
    assert isinstance(out.owner.inputs[0].owner.op, TheanosScan) or any(
        isinstance(n.op, TheanosScan) for n in aotsym.graph.basic.toposort([out]))
