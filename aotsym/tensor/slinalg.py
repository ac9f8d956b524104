"""``T.slinalg`` (Theano's ``theano.tensor.slinalg``): Cholesky, linear solves (general and
triangular), symmetric eigenvalues, the matrix exponential, ``kron``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The ops live in
:mod:`aotsym.graph.ops.linalg`; their references use NumPy (SciPy is not needed), their C
lowering LAPACK.  Matrices (2-d) only, as in Theano.  ``eigvalsh(a, b)`` with a ``b``
(generalized problem) is not supported.
"""

from __future__ import annotations

from aotsym.graph.ops.linalg import (Cholesky, Eigvalsh, Expm, LinAlgError,  # noqa: F401
                                     Solve, as_matrix, solve, solve_triangular)

__all__ = ["cholesky", "Cholesky", "solve", "Solve", "solve_triangular", "solve_lower_triangular",
           "solve_upper_triangular", "solve_symmetric", "eigvalsh", "Eigvalsh", "expm", "Expm",
           "kron",
           "LinAlgError"]


def cholesky(a, lower=True):
    """``L`` with ``a = L L^T`` (``lower``, Theano's default), else ``U`` with ``a = U^T U``."""
    return Cholesky(lower)(as_matrix(a, "cholesky"))


def solve_lower_triangular(a, b):
    """``x`` with ``tril(a) x = b``."""
    return solve_triangular(a, b, lower=True)


def solve_upper_triangular(a, b):
    """``x`` with ``triu(a) x = b``."""
    return solve_triangular(a, b, lower=False)


def solve_symmetric(a, b):
    """``x`` with ``a x = b`` for a symmetric ``a`` (solved by LU)."""
    return solve(a, b, A_structure="symmetric")


def eigvalsh(a, b=None, lower=True):
    """The eigenvalues (ascending) of the symmetric ``a`` read from its lower (``lower``) or
    upper triangle; with ``b`` (symmetric positive definite, the same triangle read), those
    of the generalized problem ``a v = w b v`` (SciPy's ``eigvalsh(a, b)``), as the
    eigenvalues of ``L^-1 a L^-T`` for ``b = L L^T``: differentiable through its pieces."""
    a = as_matrix(a, "eigvalsh")
    if b is None or getattr(b, "data", 0) is None:      # (Theano's NoneConst too)
        return Eigvalsh("L" if lower else "U")(a)
    from aotsym.graph.ops.triangular import tril, triu
    b = as_matrix(b, "eigvalsh")

    def symmetric(m):                  # the full matrix of the triangle that is read
        return tril(m) + tril(m, -1).T if lower else triu(m) + triu(m, 1).T

    chol = Cholesky(True)(symmetric(b))
    half = solve_lower_triangular(chol, symmetric(a))            # L^-1 a
    return Eigvalsh("L")(solve_lower_triangular(chol, half.T))   # L^-1 (L^-1 a)^T


def expm(A):  # noqa: N803 - Theano's name
    """The matrix exponential of the square matrix ``A`` (scaling and squaring, Pade 13)."""
    return Expm()(as_matrix(A, "expm"))


def kron(a, b):
    """``numpy.kron`` of two vectors or two matrices (Theano's ``slinalg.kron``), by one
    broadcast product and a reshape; other ndims (their sum 3 or more) as Theano's (SciPy's
    ``linalg.kron`` blocks over the first two axes, flattened where the sum is 3)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.reshape import flatten, reshape
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"kron: a and b must have at least one dimension, got "
                        f"{a.type.describe()} and {b.type.describe()}")
    if a.ndim == b.ndim == 1:
        return reshape(m.mul(a.dimshuffle(0, "x"), b.dimshuffle("x", 0)),
                       (a.shape[0] * b.shape[0],))
    if a.ndim == b.ndim == 2:
        product = m.mul(a.dimshuffle(0, "x", 1, "x"), b.dimshuffle("x", 0, "x", 1))
        return reshape(product, (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))
    o = m.mul(flatten(a).dimshuffle(0, "x"), flatten(b).dimshuffle("x", 0))
    dims = [a.shape[d] for d in range(a.ndim)] + [b.shape[d] for d in range(b.ndim)]
    o = reshape(o, dims, ndim=len(dims))
    if o.ndim == 3:
        return flatten(o.dimshuffle(1, 0, 2))
    shf = o.dimshuffle(0, 2, 1, *range(3, o.ndim))
    return reshape(shf, [dims[0] * dims[2], dims[1] * dims[3]] + dims[4:], ndim=o.ndim - 2)
