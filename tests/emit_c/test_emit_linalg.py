"""The C of the linear algebra ops (aotsym/emit_c/linalg.py): LAPACKE through the linked
OpenBLAS, named as the CBLAS symbols are (prefix, suffix, integer type of the BLAS
``blas.py`` finds); it compiles without warnings at -Wall -Wextra -Werror, with the runtime
pasted in and apart; float32 calls the ``s`` routines; a module built without a BLAS fails
the call saying what it needs (never a crash); the CUDA target refuses the ops at build time
naming the op and the user's line."""

import os

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.build import compiler
from aotsym.build.blas import find_blas
from aotsym.build.driver import _spec
from aotsym.config import config
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.emit_cuda import renderer as R
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program, optimize
from emit_helpers import compile_strictly, libasan, run_sanitized


def _cases():
    x, f, b, fb = T.matrix("x"), T.fmatrix("f"), T.vector("b"), T.fmatrix("fb")
    cases = [
        ("nlinalg", [x, f], [T.nlinalg.matrix_inverse(x), T.nlinalg.det(f),
                             T.nlinalg.slogdet(x)[0], T.nlinalg.eigh(f)[1],
                             T.nlinalg.matrix_inverse(f)]),
        ("slinalg", [x, b, f, fb], [T.slinalg.cholesky(x), T.slinalg.cholesky(f, lower=False),
                                    T.slinalg.solve(x, b), T.slinalg.solve_lower_triangular(f, fb),
                                    T.slinalg.eigvalsh(x)]),
        ("decompositions", [x, f], [*T.nlinalg.svd(x), T.nlinalg.svd(f, compute_uv=False),
                                    *T.nlinalg.qr(f, mode="complete"), T.nlinalg.qr(x, mode="r"),
                                    T.nlinalg.pinv(x), T.nlinalg.pinv(f), T.slinalg.expm(x),
                                    T.slinalg.expm(f)]),
    ]
    return [FunctionSpec(name, lower_program(FunctionGraph(ins, outs)))
            for name, ins, outs in cases]


def test_linalg_ops_compile_without_warnings_and_link_the_blas(tmp_path):
    """With the BLAS (runtime pasted in and apart) and without one (no LAPACK: the steps
    only fail, their parameters unused: the build's own warning flags)."""
    specs = _cases()
    no_blas = compiler.REQUIRED_FLAGS + compiler.WARNING_FLAGS + ["-Werror", "-O1"]
    for apart, flags in ((False, None), (True, None), (False, no_blas)):
        emitted = emit_module(specs, profile=False, runtime_apart=apart)
        assert emitted.uses_blas                       # the build links the BLAS (LAPACKE)
        for routine in ("dgesv_work", "sgesv_work", "sgetrf_work", "dpotrf_work",
                        "spotrf_work", "dgesv_work", "strtrs_work", "ssyevd_work",
                        "dsyevd_work", "dgesdd_work", "sgesdd_work", "sgeqrf_work",
                        "sorgqr_work", "dgeqrf_work"):
            assert f"AOT_LAPACKE({routine})" in emitted.source, routine
        compile_strictly(emitted, tmp_path, f"linalg{int(apart)}{int(flags is None)}", flags)


def test_the_lapacke_symbols_are_those_the_blas_exports():
    """``AOT_BLAS_PREFIX LAPACKE_dgesv_work AOT_BLAS_SUFFIX`` is a symbol of the library."""
    blas = find_blas("auto")
    if blas.name == "none":
        pytest.skip("no BLAS installed")
    import ctypes
    import os
    lib = ctypes.CDLL(os.path.join(blas.lib_dir, blas.lib_file))
    for routine in ("gesv", "getrf", "potrf", "trtrs", "syevd", "gesdd", "geqrf", "orgqr"):
        for p in "ds":
            assert hasattr(lib, f"{blas.prefix}LAPACKE_{p}{routine}_work{blas.suffix}"), routine


def test_without_a_blas_the_call_fails_saying_what_it_needs():
    x = T.matrix("x")
    with config.change_flags(blas="none"):
        f = aotsym.function([x], T.nlinalg.matrix_inverse(x) + 1)
    with pytest.raises(ValueError, match="needs LAPACK") as info:
        f(np.eye(2))
    assert "MatrixInverse" in str(info.value)
    assert f(np.zeros((0, 0))).shape == (0, 0)        # nothing to compute: no LAPACK needed


@pytest.mark.parametrize("build", [
    lambda x: T.nlinalg.matrix_inverse(x), lambda x: T.nlinalg.det(x),
    lambda x: T.slinalg.cholesky(x), lambda x: T.slinalg.solve(x, x),
    lambda x: T.nlinalg.eigh(x)[0], lambda x: T.slinalg.eigvalsh(x),
    lambda x: T.nlinalg.svd(x)[1],
    lambda x: T.nlinalg.qr(x)[0], lambda x: T.nlinalg.pinv(x), lambda x: T.slinalg.expm(x)])
def test_the_cuda_target_refuses_the_linalg_ops_naming_them(build):
    x = T.matrix("x")
    y = build(x)
    spec = _spec("la", optimize(FunctionGraph([x], [y * 2]), mode="FAST_RUN"))
    with pytest.raises(R.CudaEmitError) as info:
        R.emit_cuda_module([spec])
    message = str(info.value)
    assert "no translation of the op" in message and y.owner.op.__class__.__name__ in message
    assert "test_emit_linalg.py" in message and "lambda x: T." in message, message


_SANITIZED = r'''
import sys
import numpy as np
import aotsym
import aotsym.tensor as T
from emit_helpers import Case, build, assert_matches

aotsym.config.cache_dir = sys.argv[1]
x, f, b = T.matrix("x"), T.fmatrix("f"), T.matrix("b")
cases = [Case("square", [x, b], [T.nlinalg.matrix_inverse(x), T.nlinalg.det(x),
                                 T.slinalg.cholesky(x), T.slinalg.solve(x, b),
                                 T.slinalg.solve_lower_triangular(x, b), *T.nlinalg.eigh(x),
                                 T.slinalg.eigvalsh(x), T.slinalg.expm(x * 0.5)]),
         Case("rect", [x], [*T.nlinalg.svd(x), *T.nlinalg.qr(x, mode="complete"),
                            T.nlinalg.pinv(x), T.nlinalg.qr(x, mode="r")]),
         Case("single", [f], [T.nlinalg.matrix_inverse(f), T.nlinalg.svd(f, compute_uv=False),
                              T.slinalg.expm(f)])]
entries = build(cases, cflags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined "
                "-fno-sanitize-recover=all")
rng = np.random.default_rng(0)
for n in (0, 1, 3, 40):
    a = rng.standard_normal((n, n))
    spd = a @ a.T + n * np.eye(n)
    for view in (spd, spd.T.copy().T, spd[::-1, ::-1].copy()[::-1, ::-1]):
        assert_matches(cases[0], entries["square"], [view, rng.standard_normal((n, 2))],
                       rtol=1e-6)
    assert_matches(cases[2], entries["single"], [(spd / max(n, 1)).astype("float32")],
                   rtol=1e-3)
for shape in ((5, 3), (3, 5), (0, 4), (4, 0), (30, 20)):
    assert_matches(cases[1], entries["rect"], [rng.standard_normal(shape)], rtol=1e-6)
for bad in (np.ones((3, 3)), -np.eye(3), np.ones((2, 3))):   # the error paths
    try:
        entries["square"](bad, np.ones((bad.shape[0], 2)))
        raise AssertionError("no error")
    except ValueError:
        pass
print("sanitized run ok")
'''


@pytest.mark.skipif(libasan() is None, reason="needs gcc with AddressSanitizer")
def test_the_linalg_ops_run_clean_under_asan_and_ubsan(tmp_path):
    run_sanitized(["-c", _SANITIZED], tmp_path / "cache")
