"""BLAS-shaped ops the optimizer makes from ``dot``: ``Gemm``, ``Gemv``, ``Ger``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The user never builds these;
the BLAS pass (:mod:`aotsym.optimizer.blas`) turns ``dot`` and the scaling and accumulation
around it into one of them, and the inplace pass sets ``inplace=True`` when the accumulated
buffer may be overwritten.  Each op maps to exactly one CBLAS call; float32 and float64 only
(``s`` and ``d`` routines), every input of the same dtype.

Inputs ``alpha`` and ``beta`` are 0-d tensors (usually constants).  When ``beta`` is zero the
accumulated input is *not read* (BLAS semantics: NaN or garbage there does not propagate), so
the optimizer may pass any buffer of the right shape.

What the C emitter does
-----------------------
``Gemm{inplace}(Z, alpha, X, Y, beta)`` -> ``Z <- alpha * X @ Y + beta * Z``
    ``cblas_?gemm(CblasRowMajor, transX, transY, M, N, K, alpha, X, ldX, Y, ldY, beta, Z, ldZ)``.
    A C-contiguous operand is passed with ``CblasNoTrans`` and ``ld`` = its row stride, a
    Fortran-contiguous one (e.g. a transposed view, ``x.T``) with ``CblasTrans``; any other
    layout (a dimension of stride other than 1 on both axes, a broadcast dimension) is copied
    to a contiguous temporary first.  Without ``inplace`` the output is a fresh buffer: copy
    ``Z`` into it (skip the copy when ``beta == 0``), then call.  ``Z`` is M x N, X M x K,
    Y K x N; K == 0 gives ``beta * Z``.
``Gemv{inplace}(y, alpha, A, x, beta)`` -> ``y <- alpha * A @ x + beta * y``
    ``cblas_?gemv(CblasRowMajor, transA, M, N, alpha, A, ldA, x, incx, beta, y, incy)``:
    ``A`` as above (a transposed view is ``CblasTrans`` on its base), ``incx`` / ``incy`` the
    element strides of the vectors (negative strides: copy first).
``Ger{inplace}(A, alpha, x, y)`` -> ``A <- alpha * outer(x, y) + A``
    ``cblas_?ger(CblasRowMajor, M, N, alpha, x, incx, y, incy, A, ldA)``; ``A`` must be
    C-contiguous for the in-place call (else copy into a fresh output).

Shapes are checked at run time like ``dot``'s (a ``ValueError`` naming the node).  With
``inplace`` the output *is* the accumulated input's buffer: ``destroy_map = {0: [0]}``.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.op import Op

BLAS_DTYPES = ("float32", "float64")


def _check_dtypes(opname, inputs):
    dtypes = {v.dtype for v in inputs}
    if len(dtypes) != 1 or next(iter(dtypes)) not in BLAS_DTYPES:
        raise TypeError(f"{opname}: all inputs must share one dtype among {BLAS_DTYPES}, got "
                        + ", ".join(v.dtype for v in inputs))


def _check_scalar(opname, what, v):
    if v.ndim != 0:
        raise TypeError(f"{opname}: {what} must be a scalar, got {v.type.describe()}")


class _Blas(Op):
    __props__ = ("inplace",)

    def __init__(self, inplace=False):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    __repr__ = __str__

    def with_inplace(self, inplace=True):
        return type(self)(inplace)

    def _finish(self, acc, product, alpha, beta, inputs0):
        """``alpha * product + beta * acc`` in BLAS's order, written in place if asked."""
        dtype = acc.dtype
        scaled = np.multiply(alpha, product, dtype=dtype)
        if beta == 0:
            result = scaled
        else:
            result = np.add(scaled, np.multiply(beta, acc, dtype=dtype), dtype=dtype)
        if self.inplace:
            np.copyto(inputs0, result)
            return [inputs0]
        return [np.asarray(result, dtype=dtype)]

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError(f"{self} is made by the optimizer after differentiation")


class Gemm(_Blas):
    """``Z <- alpha * dot(X, Y) + beta * Z``; inputs ``(Z, alpha, X, Y, beta)`` (matrices)."""

    def output_types(self, inputs):
        z, alpha, x, y, beta = inputs
        _check_dtypes("Gemm", inputs)
        _check_scalar("Gemm", "alpha", alpha)
        _check_scalar("Gemm", "beta", beta)
        if (z.ndim, x.ndim, y.ndim) != (2, 2, 2):
            raise TypeError("Gemm: Z, X and Y must be matrices")
        if z.broadcastable != (x.broadcastable[0], y.broadcastable[1]):
            raise TypeError(f"Gemm: Z has pattern {z.broadcastable}, the product "
                            f"{(x.broadcastable[0], y.broadcastable[1])}")
        return [z.type]

    def perform(self, node, inputs):
        z, alpha, x, y, beta = inputs
        if x.shape[1] != y.shape[0] or z.shape != (x.shape[0], y.shape[1]):
            raise ValueError(f"{self}: shapes Z{z.shape}, X{x.shape}, Y{y.shape} do not match")
        return self._finish(z, np.dot(x, y), alpha, beta, z)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Gemv(_Blas):
    """``y <- alpha * dot(A, x) + beta * y``; inputs ``(y, alpha, A, x, beta)``."""

    def output_types(self, inputs):
        y, alpha, a, x, beta = inputs
        _check_dtypes("Gemv", inputs)
        _check_scalar("Gemv", "alpha", alpha)
        _check_scalar("Gemv", "beta", beta)
        if (y.ndim, a.ndim, x.ndim) != (1, 2, 1):
            raise TypeError("Gemv: y and x must be vectors, A a matrix")
        if y.broadcastable != (a.broadcastable[0],):
            raise TypeError(f"Gemv: y has pattern {y.broadcastable}, the product "
                            f"{(a.broadcastable[0],)}")
        return [y.type]

    def perform(self, node, inputs):
        y, alpha, a, x, beta = inputs
        if a.shape[1] != x.shape[0] or y.shape != (a.shape[0],):
            raise ValueError(f"{self}: shapes y{y.shape}, A{a.shape}, x{x.shape} do not match")
        return self._finish(y, np.dot(a, x), alpha, beta, y)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Ger(_Blas):
    """``A <- alpha * outer(x, y) + A``; inputs ``(A, alpha, x, y)``."""

    def output_types(self, inputs):
        a, alpha, x, y = inputs
        _check_dtypes("Ger", inputs)
        _check_scalar("Ger", "alpha", alpha)
        if (a.ndim, x.ndim, y.ndim) != (2, 1, 1):
            raise TypeError("Ger: A must be a matrix, x and y vectors")
        if a.broadcastable != (x.broadcastable[0], y.broadcastable[0]):
            raise TypeError(f"Ger: A has pattern {a.broadcastable}, the outer product "
                            f"{(x.broadcastable[0], y.broadcastable[0])}")
        return [a.type]

    def perform(self, node, inputs):
        a, alpha, x, y = inputs
        if a.shape != (x.shape[0], y.shape[0]):
            raise ValueError(f"{self}: shapes A{a.shape}, x{x.shape}, y{y.shape} do not match")
        return self._finish(a, np.outer(x, y), alpha, 1, a)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]
