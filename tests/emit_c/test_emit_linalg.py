"""The C of the linear algebra ops (aotsym/emit_c/linalg.py): LAPACKE through the linked
OpenBLAS, named as the CBLAS symbols are (prefix, suffix, integer type of the BLAS
``blas.py`` finds); it compiles without warnings at -Wall -Wextra -Werror, with the runtime
pasted in and apart; float32 calls the ``s`` routines; a module built without a BLAS fails
the call saying what it needs (never a crash); the CUDA target refuses the ops at build time
naming the op and the user's line."""

import subprocess

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
    specs = _cases()
    blas = find_blas("auto")
    flags = compiler.REQUIRED_FLAGS + ["-Wall", "-Wextra", "-Werror", "-O1"] + blas.cflags
    for apart in (False, True):
        emitted = emit_module(specs, profile=False, runtime_apart=apart)
        assert emitted.uses_blas                       # the build links the BLAS (LAPACKE)
        for routine in ("dgesv_work", "sgesv_work", "sgetrf_work", "dpotrf_work",
                        "spotrf_work", "dgesv_work", "strtrs_work", "ssyevd_work",
                        "dsyevd_work", "dgesdd_work", "sgesdd_work", "sgeqrf_work",
                        "sorgqr_work", "dgeqrf_work"):
            assert f"AOT_LAPACKE({routine})" in emitted.source, routine
        c_path = str(tmp_path / f"linalg{int(apart)}.c")
        compiler.write_cffi_source(f"linalg{int(apart)}", emitted.source, emitted.cdef, c_path)
        units = [c_path]
        if apart:
            units.append(str(tmp_path / "runtime.c"))
            with open(units[-1], "w") as fh:
                fh.write(emitted.runtime)
        for unit in units:
            argv = ["cc", "-c"] + [f for f in flags if f != "-shared"] + \
                [f"-I{d}" for d in compiler.include_dirs()] + [unit, "-o", unit + ".o"]
            proc = subprocess.run(argv, capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr[-5000:]


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
