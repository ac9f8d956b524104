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
    upper triangle."""
    if b is not None:
        raise NotImplementedError("eigvalsh: the generalized problem (b given) is not "
                                  "supported")
    return Eigvalsh("L" if lower else "U")(as_matrix(a, "eigvalsh"))


def expm(A):  # noqa: N803 - Theano's name
    """The matrix exponential of the square matrix ``A`` (scaling and squaring, Pade 13)."""
    return Expm()(as_matrix(A, "expm"))


def kron(a, b):
    """``numpy.kron`` of two vectors or two matrices (Theano's ``slinalg.kron``), by one
    broadcast product and a reshape."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.reshape import reshape
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim != b.ndim or a.ndim not in (1, 2):
        raise ValueError(f"kron: a and b must both be vectors or both matrices, got "
                         f"{a.type.describe()} and {b.type.describe()}")
    if a.ndim == 1:
        return reshape(m.mul(a.dimshuffle(0, "x"), b.dimshuffle("x", 0)),
                       (a.shape[0] * b.shape[0],))
    product = m.mul(a.dimshuffle(0, "x", 1, "x"), b.dimshuffle("x", 0, "x", 1))
    return reshape(product, (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))
