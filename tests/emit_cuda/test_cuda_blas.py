"""cuBLAS products of the CUDA target (runtime/aotsym_cuda_blas.cuh, aotsym/emit_cuda/blas.py).

Here, without a GPU:

* the plans — which transposes, leading dimensions and increments cuBLAS (column-major) gets
  for aotsym's row-major, strided descriptors — are compiled by nvcc into a host harness
  (``blas_plan_harness.cu``) that runs a host reference of cuBLAS's column-major gemm /
  gemv / ger with them, on NumPy arrays of many layouts (C order, transposed views, row and
  column slices, negative and zero strides, length-1 and empty dimensions), compared with
  NumPy; a layout the plan refuses is one cuBLAS cannot read (its copy is then planned);
* a module holding Dot (all four shapes), Gemm, Gemv and Ger in float32 and float64 is
  rendered, compiled by nvcc and linked against the ``nvidia-cublas`` wheel's libcublas (an
  rpath to it), and imports; a call says no GPU is here.

On a GPU (skipped here): the module's functions against the reference evaluator.
"""

import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.build import cuda as B
from aotsym.build.driver import BuildOptions, _spec
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import optimize
from aotsym.resources import runtime_dir

HERE = os.path.dirname(os.path.abspath(__file__))


def _cublas():
    try:
        return B.find_cublas(B.cuda_major("nvcc"))
    except (ImportError, B.NvccError) as exc:
        pytest.skip(f"no cuBLAS wheel for nvcc here: {exc}")


pytestmark = pytest.mark.skipif(shutil.which("nvcc") is None,
                                reason="nvcc is not on PATH: CUDA sources are not compiled here")


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cublas = _cublas()
    so = str(tmp_path_factory.mktemp("blas_plan") / "harness.so")
    proc = subprocess.run(["nvcc", "-std=c++17", "-O1", "-Xcompiler", "-fPIC", "-shared",
                           "-cudart", "static", "-arch=sm_80", "-I", runtime_dir(), "-I",
                           cublas.include_dir, os.path.join(HERE, "blas_plan_harness.cu"),
                           "-o", so], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return ctypes.CDLL(so)


def _args(a):
    shape = (ctypes.c_int64 * max(1, a.ndim))(*a.shape)
    strides = (ctypes.c_int64 * max(1, a.ndim))(*a.strides)
    return [ctypes.c_void_p(a.ctypes.data), shape, strides]


def _layouts(rows, cols, rng):
    """(name, 2-d float64 array of shape rows x cols) in many memory layouts."""
    base = rng.randn(rows, cols)
    out = [("C", base.copy()), ("F", np.asfortranarray(base)),
           ("T-view", np.ascontiguousarray(base.T).T)]
    wide = rng.randn(rows, cols + 3)
    wide[:, :cols] = base
    out.append(("row-slice", wide[:, :cols]))
    tall = rng.randn(rows + 2, cols).T.copy().T          # F-order with spare rows
    tall[:rows] = base
    out.append(("col-major-slice", tall[:rows]))
    every2 = np.zeros((rows, 2 * cols))
    every2[:, ::2] = base
    out.append(("col-step-2", every2[:, ::2]))
    out.append(("reversed-rows", base[::-1].copy()[::-1]))
    window = rng.randn(rows + cols)       # overlapping rows: row stride 1 element < cols
    out.append(("sliding-window",
                np.lib.stride_tricks.as_strided(window, (rows, cols), (8, 8))))
    if rows == 1 or cols == 1:
        out.append(("broadcast", np.broadcast_to(base, (rows, cols))))
    out.append(("zero-stride", np.broadcast_to(base[:1], (rows, cols)) if rows > 0 and
                np.all(base == base[:1]) else base.copy()))
    return out


def _usable(a) -> bool:
    """What a layout cuBLAS reads as it is looks like (one unit-stride dimension, the other
    a positive leading dimension large enough)."""
    r, c = a.shape
    if a.size == 0:
        return True
    s0, s1 = (s // 8 for s in a.strides)
    if a.strides[0] % 8 or a.strides[1] % 8:
        return False
    return ((c == 1 or s1 == 1) and (r == 1 or s0 >= c)) or \
        ((r == 1 or s0 == 1) and (c == 1 or s1 >= r))


@pytest.mark.parametrize("m,k,n", [(3, 4, 5), (1, 4, 5), (3, 1, 5), (3, 4, 1), (1, 1, 1),
                                   (6, 7, 2), (0, 3, 4), (3, 0, 4)])
def test_gemm_plans_compute_numpys_product_in_every_layout(harness, m, k, n):
    rng = np.random.RandomState(m * 100 + k * 10 + n)
    computed = 0
    for xn, x in _layouts(m, k, rng):
        for yn, y in _layouts(k, n, rng):
            for on, make in (("C", lambda: np.full((m, n), np.nan)),
                             ("F", lambda: np.asfortranarray(np.full((m, n), np.nan)))):
                out = make()
                need = harness.gemm_ref(*_args(out), *_args(x), *_args(y))
                want = (0 if _usable(x) else 1) | (0 if _usable(y) else 2)
                assert need == want, (xn, yn, on, x.strides, y.strides)
                if need:
                    # the step copies what is refused into a C-contiguous temporary
                    x2 = x if need & 1 == 0 else np.ascontiguousarray(x)
                    y2 = y if need & 2 == 0 else np.ascontiguousarray(y)
                    assert harness.gemm_ref(*_args(out), *_args(x2), *_args(y2)) == 0
                if m and n:
                    np.testing.assert_allclose(out, x @ y, rtol=1e-12, atol=1e-12,
                                               err_msg=f"{xn} @ {yn} -> {on}")
                computed += 1
    assert computed > 50


def test_no_copy_for_c_order_transposed_views_and_row_slices(harness):
    rng = np.random.RandomState(1)
    x, y = rng.randn(5, 4), rng.randn(4, 3)
    for a in (x, x.T.copy().T, np.ascontiguousarray(x.T).T, rng.randn(5, 9)[:, :4]):
        out = np.zeros((5, 3))
        assert harness.gemm_ref(*_args(out), *_args(a), *_args(y)) == 0
        np.testing.assert_allclose(out, a @ y, rtol=1e-12)


@pytest.mark.parametrize("m,n", [(3, 4), (1, 4), (3, 1), (5, 5), (0, 3)])
def test_gemv_plans_compute_numpys_product_in_every_layout(harness, m, n):
    rng = np.random.RandomState(m * 10 + n)
    for an, a in _layouts(m, n, rng):
        xs = [("contig", rng.randn(n)), ("step-3", rng.randn(3 * n + 1)[::3][:n])]
        xs += [("reversed", rng.randn(n)[::-1])] if n > 1 else []
        for xn, x in xs:
            out = np.full(m, np.nan)
            need = harness.gemv_ref(*_args(out), *_args(a), *_args(x))
            want = (0 if _usable(a) else 1) | (2 if n > 1 and x.strides[0] <= 0 else 0)
            assert need == want, (an, xn)
            if need:
                a2 = a if need & 1 == 0 else np.ascontiguousarray(a)
                x2 = x if need & 2 == 0 else np.ascontiguousarray(x)
                assert harness.gemv_ref(*_args(out), *_args(a2), *_args(x2)) == 0
            np.testing.assert_allclose(out, a @ x, rtol=1e-12, atol=1e-12, err_msg=an + xn)
    # the output through a stride too
    a, x = rng.randn(m, n), rng.randn(n)
    buf = np.full(2 * m + 1, np.nan)
    assert harness.gemv_ref(*_args(buf[::2][:m]), *_args(a), *_args(x)) == 0
    np.testing.assert_allclose(buf[::2][:m], a @ x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("m,n", [(3, 4), (1, 4), (3, 1), (0, 2)])
def test_ger_plans_add_the_outer_product_in_c_and_f_order(harness, m, n):
    rng = np.random.RandomState(7)
    x, y = rng.randn(m), rng.randn(n)[::-1].copy()
    for name, a in (("C", rng.randn(m, n)), ("F", np.asfortranarray(rng.randn(m, n))),
                    ("row-slice", rng.randn(m, n + 2)[:, :n])):
        want = a + np.outer(x, y)
        assert harness.ger_ref(*_args(a), *_args(x), *_args(y)) == 0, name
        np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-12, err_msg=name)
    refused = np.zeros((m, 2 * n))[:, ::2]
    if m > 1 and n > 1:
        assert harness.ger_ref(*_args(refused), *_args(x), *_args(y)) == 4


# ------------------------------------------------------------------ the module


def _graphs():
    x, y, v, w = T.matrix("x"), T.matrix("y"), T.vector("v"), T.vector("w")
    f, fv = T.fmatrix("f"), T.fvector("fv")
    return {
        "mm": ([x, y], [T.dot(x, y), T.dot(x.T, y) * 2 + 1]),
        "mv": ([x, v], [T.dot(x, v), T.dot(v, x)]),
        "vv": ([v, w], [T.dot(v, w)]),
        "f32": ([f, fv], [T.dot(f, f.T), T.dot(f, fv) + fv]),
        "ger": ([x, v, w], [x + 0.5 * T.outer(v, w)]),
        "gemm": ([x, y], [x + 0.25 * T.dot(x, y)]),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    _cublas()
    graphs = _graphs()
    specs = [_spec(name, optimize(FunctionGraph(i, o), mode="FAST_RUN"))
             for name, (i, o) in graphs.items()]
    options = BuildOptions.from_config(cache_dir=str(tmp_path_factory.mktemp("cuda_blas")))
    return B.build_cuda_module(specs, options), graphs


def test_the_products_are_cublas_calls(built):
    module, _ = built
    ops = {type(n.op).__name__ for s in module.specs for n in s.fgraph.toposort()}
    assert {"Dot", "Gemv", "Gemm", "Ger"} <= ops, ops
    source = module.emitted.source
    assert module.emitted.uses_cublas and '#include "aotsym_cuda_blas.cuh"' in source
    for call in ("aot_cu_gemm<double>", "aot_cu_gemv<double>", "aot_cu_dot<double>",
                 "aot_cu_ger<double>", "aot_cu_gemm<float>", "aot_cu_gemv<float>"):
        assert call in source, call
    header = open(os.path.join(runtime_dir(), "aotsym_cuda_blas.cuh")).read()
    for fn in ("cublasDgemm_64", "cublasSgemm_64", "cublasDgemv_64", "cublasSgemv_64",
               "cublasDger_64", "cublasDdot_64"):
        assert fn in header


def test_the_module_links_the_wheels_cublas_with_an_rpath(built):
    module, _ = built
    cublas = _cublas()
    so = module.ext.__file__
    dyn = subprocess.run(["readelf", "-d", so], capture_output=True, text=True).stdout
    assert f"[{cublas.libraries[0]}]" in dyn, dyn
    assert cublas.lib_dir in dyn, dyn             # RUNPATH to the wheel's lib directory
    assert "libcudart" not in dyn                 # cudart stays static


def test_a_module_without_products_does_not_link_cublas(tmp_path):
    a = T.vector("a")
    spec = _spec("plain", optimize(FunctionGraph([a], [a * 2]), mode="FAST_RUN"))
    module = B.build_cuda_module([spec], BuildOptions.from_config(cache_dir=str(tmp_path)))
    assert not module.emitted.uses_cublas
    dyn = subprocess.run(["readelf", "-d", module.ext.__file__], capture_output=True,
                         text=True).stdout
    assert "cublas" not in dyn


def test_integer_products_are_a_build_time_error_naming_the_line():
    from aotsym.emit_cuda.renderer import CudaEmitError, emit_cuda_module
    i, j = T.lmatrix("i"), T.lmatrix("j")
    spec = _spec("ints", optimize(FunctionGraph([i, j], [T.dot(i, j)]), mode="FAST_RUN"))
    with pytest.raises(CudaEmitError, match=r"(?s)cuBLAS.*int64.*test_cuda_blas\.py"):
        emit_cuda_module([spec])


def test_a_call_without_a_gpu_says_so(built):
    module, _ = built
    if module.device_ready():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cannot run the CUDA function mm"):
        module.runners[0]([np.eye(2), np.eye(2)])


SHAPES = {"mm": [(5, 4), (4, 3)], "mv": [(5, 4), (4,)], "vv": [(6,), (6,)],
          "f32": [(5, 4), (4,)], "ger": [(5, 4), (5,), (4,)], "gemm": [(4, 4), (4, 4)]}


@pytest.mark.parametrize("case", ["plain", "specials", "empty"])
def test_on_a_gpu_the_products_match_the_reference(built, case):
    module, graphs = built
    if not module.device_ready():
        pytest.skip("no usable GPU here (nvidia-smi absent or the device check failed)")
    rng = np.random.RandomState(0)
    for k, (name, (ins, _)) in enumerate(graphs.items()):
        shapes = SHAPES[name]
        if case == "empty":
            shapes = [tuple(0 for _ in s) if name in ("vv", "gemm") else
                      tuple(0 if d == len(s) - 1 else n for d, n in enumerate(s))
                      for s in shapes]
        values = [rng.randn(*s).astype(v.dtype) for s, v in zip(shapes, ins)]
        if case == "specials":
            for val in values:
                val.flat[0] = np.nan
        fg = module.specs[k].fgraph
        try:
            want = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
        except ValueError:
            with pytest.raises(ValueError):
                module.runners[k](values)
            continue
        got = module.runners[k](values)
        for g, w in zip(got, want):
            assert g.shape == np.shape(w) and g.dtype == np.asarray(w).dtype, name
            rtol = 1e-4 if g.dtype == np.float32 else 1e-10
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True,
                                       err_msg=f"{name} ({case})")
