"""``T.nlinalg`` (Theano's ``theano.tensor.nlinalg``): inverse, determinant, eigen and
singular value decompositions, QR, pseudo-inverse, and the matrix helpers Theano kept here.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The ops live in
:mod:`aotsym.graph.ops.linalg` (NumPy references, gradients); they take matrices (2-d) only,
as Theano's did.  ``trace``, ``diag``, ``extract_diag``, ``alloc_diag`` and ``norm`` are
composed of existing ops.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops import math as m
from aotsym.graph.ops import reduce as r
from aotsym.graph.ops.linalg import (QR, SVD, Cholesky, Det, Eigh, LinAlgError,  # noqa: F401
                                     MatrixInverse, MatrixPinv, SLogDet, as_matrix,
                                     matrix_dot, matrix_inverse)
from aotsym.graph.ops.linalg import Eig  # noqa: F401
from aotsym.graph.ops.linalg import Lstsq as lstsq  # noqa: F401  (Theano: lstsq()(a, b, rcond))
from aotsym.tensor.basic import diag, extract_diag, trace  # noqa: F401

__all__ = ["matrix_inverse", "det", "slogdet", "eigh", "eig", "svd", "qr", "pinv", "trace", "diag",
           "extract_diag", "alloc_diag", "matrix_dot", "matrix_power", "norm", "MatrixInverse",
           "Det", "SLogDet", "Eigh", "SVD", "QR", "MatrixPinv", "LinAlgError", "tensorinv",
           "tensorsolve", "lstsq"]


def det(a):
    """``numpy.linalg.det(a)``."""
    return Det()(as_matrix(a, "det"))


def slogdet(a):
    """``numpy.linalg.slogdet(a)``: (sign, log|det|)."""
    return tuple(SLogDet()(as_matrix(a, "slogdet")))


def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    """``numpy.linalg.eigh(a, UPLO)``: (w ascending, v)."""
    return tuple(Eigh(UPLO)(as_matrix(a, "eigh")))


eig = Eig()   # Theano's op instance: eig(a) -> [w, v] (real parts, in a's float dtype)


def svd(a, full_matrices=1, compute_uv=1):
    """``numpy.linalg.svd``: (U, s, Vt), or s when ``compute_uv`` is false."""
    out = SVD(full_matrices, compute_uv)(as_matrix(a, "svd"))
    return tuple(out) if compute_uv else out


def qr(a, mode="reduced"):
    """``numpy.linalg.qr(a, mode)``: (Q, R), or R for mode ``'r'``."""
    out = QR(mode)(as_matrix(a, "qr"))
    return out if mode == "r" else tuple(out)


def pinv(a):
    """``numpy.linalg.pinv(a)``."""
    return MatrixPinv()(as_matrix(a, "pinv"))


def matrix_power(M, n):  # noqa: N803 - Theano's name
    """``M`` to the int power ``n`` by repeated squaring (Theano's: a negative ``n`` raises
    ``pinv(M)`` to ``-n``; 0 gives the identity)."""
    from aotsym.graph.ops.alloc import identity_like
    from aotsym.graph.ops.blas import dot
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: n must be an int, got {n!r}")
    M = as_matrix(M, "matrix_power")
    if n < 0:
        M, n = pinv(M), -int(n)
    if n == 0:
        return identity_like(M)
    result = z = None
    while n > 0:
        z = M if z is None else dot(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else dot(result, z)
    return result


def alloc_diag(x):
    """The square matrix with the vector ``x`` on its diagonal (Theano's ``alloc_diag``:
    a vector only, a TypeError otherwise)."""
    x = as_tensor_variable(x)
    if x.ndim != 1:
        raise TypeError(f"alloc_diag: x must be a vector, got {x.type.describe()}")
    return diag(x)


def norm(x, ord):  # noqa: A002 - Theano's name
    """Theano's ``nlinalg.norm``: vectors: ``ord`` None/2, inf, -inf, 0 or any p;
    matrices: ``'fro'``/None, inf, -inf, 1, -1 (``numpy.linalg.norm``'s meanings)."""
    x = as_tensor_variable(x)
    if isinstance(ord, str) and ord in ("inf", "-inf"):   # Theano's spellings of +-inf
        ord = np.inf if ord == "inf" else -np.inf          # noqa: A001
    if x.ndim > 2:
        raise NotImplementedError(f"norm: x must be a vector or a matrix, got "
                                  f"{x.type.describe()}")
    if x.ndim == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: order {ord!r} is not supported for vectors")
        if ord is None or ord == 2:
            return m.sqrt(r.sum(m.sqr(x)))
        if ord == np.inf:
            return r.max(m.abs(x))
        if ord == -np.inf:
            return r.min(m.abs(x))
        if ord == 0:
            return m.cast(r.sum(m.neq(x, 0)), x.dtype if x.dtype in ("float32", "float64")
                          else "float64")
        return m.pow(r.sum(m.pow(m.abs(x), ord)), 1.0 / ord)
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return m.sqrt(r.sum(m.sqr(m.abs(x))))
        if ord in (np.inf, -np.inf):
            rows = r.sum(m.abs(x), axis=1)
            return r.max(rows) if ord == np.inf else r.min(rows)
        if ord in (1, -1):
            cols = r.sum(m.abs(x), axis=0)
            return r.max(cols) if ord == 1 else r.min(cols)
        raise ValueError(f"norm: order {ord!r} is not supported for matrices")
    raise ValueError(f"norm: x must be a vector or a matrix, got {x.type.describe()}")


def _prod(dims):
    out = 1
    for d in dims:
        out = out * d
    return out


def tensorinv(a, ind=2):
    """``np.linalg.tensorinv``: the inverse of ``a`` for :func:`numpy.tensordot` over its
    first ``ind`` axes, of shape ``a.shape[ind:] + a.shape[:ind]``."""
    a = as_tensor_variable(a)
    if not 0 < ind < a.ndim:
        raise ValueError(f"tensorinv: ind must be in 1..{a.ndim - 1}, got {ind!r}")
    head = [a.shape[d] for d in range(ind)]
    tail = [a.shape[d] for d in range(ind, a.ndim)]
    inv = matrix_inverse(a.reshape((_prod(head), _prod(tail))))
    return inv.reshape(tail + head, ndim=a.ndim)


def tensorsolve(a, b, axes=None):
    """``np.linalg.tensorsolve``: the ``x`` with ``tensordot(a, x, x.ndim) == b``, of shape
    ``a.shape[b.ndim:]`` (``axes``: the axes of ``a`` moved to its end first)."""
    from aotsym.graph.ops.linalg import solve
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if axes is not None:
        moved = [d % a.ndim for d in axes]
        a = a.dimshuffle([d for d in range(a.ndim) if d not in moved] + moved)
    x_dims = [a.shape[d] for d in range(b.ndim, a.ndim)]
    x = solve(a.reshape((_prod([b.shape[d] for d in range(b.ndim)]), _prod(x_dims))),
              b.flatten())
    return x.reshape(x_dims, ndim=a.ndim - b.ndim)
