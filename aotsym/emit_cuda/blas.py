"""Products on the GPU: ``Dot`` and the optimizer's ``Gemm`` / ``Gemv`` / ``Ger``, through cuBLAS.

Part of the CUDA renderer (graph -> optimizer -> **emit_cuda** -> build).  The same steps of
the lowered program as :mod:`aotsym.emit_c.blas`, spelled for ``runtime/aotsym_cuda_blas.cuh``
(which picks the transposes and leading dimensions from the operands' strides at run time,
cuBLAS being column-major):

* ``Dot`` of float32 / float64 operands of the output's dtype: matrix·matrix is
  ``aot_cu_gemm`` (``cublas?gemm``), matrix·vector ``aot_cu_gemv``, vector·matrix the gemv of
  the matrix's transposed descriptor, vector·vector ``aot_cu_dot`` (the result written on
  the device); alpha 1 and beta 0 from the host;
* ``Gemm`` / ``Gemv`` / ``Ger`` (every input one float dtype, alpha and beta 0-d device
  values read by cuBLAS in device pointer mode): the output is the accumulated input's own
  buffer when the step writes in place and cuBLAS can write it as laid out, else a
  contiguous copy of it (no copy when beta is the constant 0: BLAS does not read it).

Integer, bool, complex and mixed-dtype products are a build-time :class:`CudaEmitError`
naming the op and the user's line (the C backend runs them as plain loops).
"""

from __future__ import annotations

import numpy as np

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.templates import c_string
from aotsym.emit_cuda import dtypes as CU
from aotsym.emit_cuda.renderer import CudaEmitError, lowers
from aotsym.optimizer.program import CONSTANT

BLAS_DTYPES = ("float32", "float64")
_KINDS = {(1, 1): "vector·vector", (2, 1): "matrix·vector", (1, 2): "vector·matrix",
          (2, 2): "matrix·matrix"}


def _blas_dtype(node) -> str:
    dtype = node.outputs[0].dtype
    if dtype not in BLAS_DTYPES or any(v.dtype != dtype for v in node.inputs):
        raise CudaEmitError(
            f"the CUDA backend computes products through cuBLAS, of float32 or float64 "
            f"operands of the result's dtype only (got {', '.join(v.dtype for v in node.inputs)}"
            f" -> {dtype}); cast the operands to one float dtype", node)
    return dtype


def _shape_error(ref_a, ref_b, message, nums) -> list:
    """C lines raising a ValueError with both shapes formatted (then ``nums``)."""
    args = ", ".join([f"aot_cu_format_shape(sa, sizeof sa, &{ref_a})",
                      f"aot_cu_format_shape(sb, sizeof sb, &{ref_b})"] + nums)
    return ["    char sa[160], sb[160];",
            f"    aot_cu_fail(err, step, AOT_CU_ERR_VALUE, {c_string(message)}, {args});",
            "    goto fail;"]


@lowers("Dot")
def lower_dot(fe, step):
    node = step.node
    a, b = node.inputs
    (out,) = node.outputs
    dtype = _blas_dtype(node)
    fe.module.uses_blas = True
    T = CU.STORAGE[dtype]
    ra, rb, o = fe.ref(a), fe.ref(b), fe.ref(out)
    inner = a.ndim - 1
    kind = _KINDS[(a.ndim, b.ndim)]
    lines = [f"if ({ra}.shape[{inner}] != {rb}.shape[0]) {{"]
    lines += _shape_error(ra, rb, f"Dot: shapes %s and %s are not aligned for a {kind} "
                          f"product: %lld (dimension {inner} of the first) != %lld "
                          "(dimension 0 of the second)",
                          [f"(long long){ra}.shape[{inner}]", f"(long long){rb}.shape[0]"])
    lines += ["}", f"{o}.ndim = {out.ndim};", f"{o}.itemsize = {D.itemsize(dtype)};"]
    dims = ([f"{ra}.shape[0]"] if a.ndim == 2 else []) + \
        ([f"{rb}.shape[1]"] if b.ndim == 2 else [])
    lines += [f"{o}.shape[{j}] = {d};" for j, d in enumerate(dims)]
    lines += [f"if (aot_cu_alloc(err, step, &{o})) goto fail;",
              f"const {T} one = 1, zero = 0;", "(void)one; (void)zero;"]
    call = {
        (2, 2): f"aot_cu_gemm<{T}>(err, step, &{o}, &{ra}, &{rb}, &one, &zero, 0)",
        (2, 1): f"aot_cu_gemv<{T}>(err, step, &{o}, &{ra}, &{rb}, &one, &zero, 0)",
        (1, 2): f"aot_cu_gemv<{T}>(err, step, &{o}, &bt, &{ra}, &one, &zero, 0)",
        (1, 1): f"aot_cu_dot<{T}>(err, step, &{o}, &{ra}, &{rb})",
    }[(a.ndim, b.ndim)]
    if (a.ndim, b.ndim) == (1, 2):
        lines.append(f"const aot_cu_array bt = aot_cu_transposed(&{rb});")
    return lines + [f"if ({call}) goto fail;"]


def _is_zero_constant(fe, var) -> bool:
    slot = fe.program.slot(var)
    return slot.role == CONSTANT and np.all(np.asarray(var.data) == 0)


def _scalar(fe, var, T) -> str:
    return f"(const {T} *){fe.ref(var)}.data"


def _check(fe, node, cond, message, refs) -> list:
    """The op's shape check (the reference ``perform``'s message, three shapes)."""
    fmt = ", ".join(f"aot_cu_format_shape(s{k}, sizeof s{k}, &{fe.ref(v)})"
                    for k, v in enumerate(refs))
    return [f"if ({cond}) {{", "    char s0[160], s1[160], s2[160];",
            f"    aot_cu_fail(err, step, AOT_CU_ERR_VALUE, {c_string(message)}, {fmt});",
            "    goto fail;", "}"]


# op -> (shape check, its message, the inputs it names, dims of the output, the call)
_ACCUMULATING = {
    "Gemm": ("{x}.shape[1] != {y}.shape[0] || {z}.shape[0] != {x}.shape[0] || "
             "{z}.shape[1] != {y}.shape[1]", "shapes Z%s, X%s, Y%s do not match", 2, "gemm"),
    "Gemv": ("{x}.shape[1] != {y}.shape[0] || {z}.shape[0] != {x}.shape[0]",
             "shapes y%s, A%s, x%s do not match", 1, "gemv"),
}


@lowers("Gemm", "Gemv")
def lower_gemm_gemv(fe, step):
    """``out = alpha * x @ y + beta * z`` (Gemm: x, y matrices; Gemv: x a matrix, y a
    vector)."""
    node = step.node
    z, alpha, x, y, beta = node.inputs
    T = CU.STORAGE[_blas_dtype(node)]
    fe.module.uses_blas = True
    cond, message, nd, call = _ACCUMULATING[type(node.op).__name__]
    rz, rx, ry, o = fe.ref(z), fe.ref(x), fe.ref(y), fe.ref(node.outputs[0])
    lines = _check(fe, node, cond.format(x=rx, y=ry, z=rz), f"{node.op}: {message}",
                   (z, x, y))
    read_z = int(not _is_zero_constant(fe, beta))
    lines += [f"if (aot_cu_blas_target<{nd}>(err, step, &{o}, &{rz}, "
              f"{int(step.writes_inplace(0))}, {read_z})) goto fail;",
              f"if (aot_cu_{call}<{T}>(err, step, &{o}, &{rx}, &{ry}, {_scalar(fe, alpha, T)}, "
              f"{_scalar(fe, beta, T)}, 1)) goto fail;"]
    return lines


@lowers("Ger")
def lower_ger(fe, step):
    """``out = A + alpha * outer(x, y)``."""
    node = step.node
    a, alpha, x, y = node.inputs
    T = CU.STORAGE[_blas_dtype(node)]
    fe.module.uses_blas = True
    ra, rx, ry, o = fe.ref(a), fe.ref(x), fe.ref(y), fe.ref(node.outputs[0])
    lines = _check(fe, node, f"{ra}.shape[0] != {rx}.shape[0] || {ra}.shape[1] != "
                   f"{ry}.shape[0]", f"{node.op}: shapes A%s, x%s, y%s do not match",
                   (a, x, y))
    lines += [f"if (aot_cu_blas_target<2>(err, step, &{o}, &{ra}, "
              f"{int(step.writes_inplace(0))}, 1)) goto fail;",
              f"if (aot_cu_ger<{T}>(err, step, &{o}, &{rx}, &{ry}, {_scalar(fe, alpha, T)})) "
              "goto fail;"]
    return lines
