"""Dense linear algebra on 2-d matrices: Theano's ``nlinalg`` / ``slinalg`` ops.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``MatrixInverse``,
``Det``, ``SLogDet``, ``Cholesky``, ``Solve``, ``Eigh``, ``Eigvalsh``, ``SVD``, ``QR`` and
``MatrixPinv``, each with its NumPy reference (``numpy.linalg``; SciPy is never needed), its
type and shape rule and, where Theano had one, its gradient; ``aotsym/tensor/nlinalg.py`` and
``aotsym/tensor/slinalg.py`` are the user's names for them.  The C lowering (LAPACKE on a
copy of each input) is :mod:`aotsym.emit_c.linalg`.

Invariants:

* inputs are 2-d (Theano's ops took matrices only; no batches); integer and bool inputs are
  converted to float64 by the builders (``numpy.linalg``'s rule), complex ones refused;
  float32 stays float32 (LAPACK's ``s`` routines, as NumPy);
* a non-square matrix where a square one is needed, a singular matrix given to
  ``matrix_inverse`` / ``solve``, a matrix that is not positive definite given to
  ``cholesky``, and an eigen/singular value iteration that does not converge raise
  ``numpy.linalg.LinAlgError`` with NumPy's words (``"Singular matrix"``, ``"Matrix is not
  positive definite"`` ...).  ``det`` of a singular matrix is 0, as NumPy's;
* the triangular solves read only their triangle, ``cholesky`` and ``eigh`` only the
  triangle they are told (``lower``/``UPLO``), exactly as LAPACK (and so NumPy) do; the
  gradients respect it (zero in the triangle that is not read).

Gradients (Theano's): ``matrix_inverse`` ``-A^-T G A^-T``; ``det`` ``G det(A) A^-T``;
``slogdet``'s log ``G A^-T``; ``cholesky`` Theano 1.0's symbolic CholeskyGrad (two
triangular solves); ``solve`` both inputs (``b_bar = solve(A^T, G)``, ``A_bar = -b_bar
x^T``, masked to A's triangle); ``eigh`` Theano's EighGrad, ``eigvalsh`` its
EigvalshGrad (both NaN where eigenvalues repeat, as Theano's); ``pinv`` Theano's
MatrixPinv.L_op.  ``svd`` and ``qr`` have none (Theano had none).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind

LinAlgError = np.linalg.LinAlgError


def as_matrix(x, what):
    """``x`` as a 2-d float variable (int/bool -> float64, as ``numpy.linalg``)."""
    from aotsym.graph.ops import math as m
    x = as_tensor_variable(x)
    if dtype_kind(x.dtype) == "c":
        raise TypeError(f"{what}: complex matrices are not supported")
    if dtype_kind(x.dtype) != "f":
        x = m.cast(x, "float64")
    elif x.dtype not in ("float32", "float64"):
        x = m.cast(x, "float32")
    if x.ndim != 2:
        raise ValueError(f"{what}: expects a matrix (2-d; Theano's linear algebra takes no "
                         f"batches), got {x.type.describe()}")
    return x


def _square(a, what):
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise LinAlgError(f"{what}: Last 2 dimensions of the array must be square "
                          f"(got shape {a.shape})")


def _matrix_type(x):
    return TensorType(x.dtype, (False, False))


def _float_matrix(op, inputs):
    """The one input of ``op``, checked: a float32/float64 matrix (else TypeError)."""
    (x,) = inputs
    if x.ndim != 2 or x.dtype not in ("float32", "float64"):
        raise TypeError(f"{op}: expects a float32/float64 matrix, got {x.type.describe()}")
    return x


class _MatrixOp(Op):
    """One 2-d float input, one output of the same type (``inv``, ``cholesky``)."""

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        return [_matrix_type(x)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class MatrixInverse(_MatrixOp):
    """``numpy.linalg.inv``; ``LinAlgError("Singular matrix")`` where LU finds a zero pivot."""

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "matrix_inverse")
        return [np.linalg.inv(a).astype(a.dtype, copy=False)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.blas import dot
        from aotsym.graph.ops import math as m
        xi = node.outputs[0]
        return [m.neg(dot(dot(xi.T, output_grads[0]), xi.T))]


class Cholesky(_MatrixOp):
    """``numpy.linalg.cholesky``: ``L`` (``lower``) with ``A = L L^T`` from A's lower
    triangle, or ``U`` with ``A = U^T U`` from its upper triangle.  A matrix that is not
    positive definite: a LinAlgError (``on_error='raise'``), or a matrix of NaN
    (``'nan'``), as Theano's."""
    __props__ = ("lower", "on_error")

    def __init__(self, lower=True, on_error="raise"):
        if on_error not in ("raise", "nan"):
            raise ValueError(f"Cholesky: on_error must be 'raise' or 'nan', got {on_error!r}")
        self.lower, self.on_error = bool(lower), on_error

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "cholesky")
        try:
            return [np.linalg.cholesky(a, upper=not self.lower).astype(a.dtype, copy=False)]
        except np.linalg.LinAlgError:
            if self.on_error == "raise":
                raise
            return [np.full(a.shape, np.nan, a.dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.blas import dot
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.triangular import diag, diagonal, tril, triu
        chol, dz = node.outputs[0], output_grads[0]
        if not self.lower:
            chol, dz = chol.T, dz.T

        def tril_and_halve_diagonal(mtx):
            return m.sub(tril(mtx), diag(m.true_div(diagonal(mtx), np.asarray(2, mtx.dtype))))

        def conjugate_solve_triangular(outer, inner):   # L^-T P L^-1 for lower L
            upper = Solve("upper_triangular", lower=False)
            return upper(outer.T, upper(outer.T, inner.T).T)

        s = conjugate_solve_triangular(chol, tril_and_halve_diagonal(dot(chol.T, dz)))
        tri = tril if self.lower else triu
        gx = m.sub(tri(m.add(s, s.T)), diag(diagonal(s)))
        if self.on_error == "nan":   # a failed factorization: a NaN gradient (Theano's)
            from aotsym.graph.ops.reduce import any as tany
            gx = m.switch(tany(m.isnan(chol)), np.asarray(np.nan, gx.dtype), gx)
        return [gx]


class Det(Op):
    """``numpy.linalg.det`` (LU; 0 for a singular matrix, 1 for 0x0)."""

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        return [TensorType(x.dtype, ())]

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "det")
        return [np.asarray(np.linalg.det(a), dtype=a.dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        (x,) = inputs
        return [m.mul(m.mul(output_grads[0], node.outputs[0]), matrix_inverse(x).T)]

    def infer_shape(self, node, input_shapes):
        return [()]


class SLogDet(Op):
    """``numpy.linalg.slogdet``: (sign, log|det|); sign 0 and log -inf when singular."""

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        return [TensorType(x.dtype, ()), TensorType(x.dtype, ())]

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "slogdet")
        sign, logdet = np.linalg.slogdet(a)
        return [np.asarray(sign, a.dtype), np.asarray(logdet, a.dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        (x,) = inputs
        return [m.mul(output_grads[1], matrix_inverse(x).T)]

    def infer_shape(self, node, input_shapes):
        return [(), ()]


SOLVE_STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular")


class Solve(Op):
    """Theano's ``Solve(A_structure, lower)``: ``x`` with ``A x = b`` (``b`` a vector or a
    matrix of right-hand sides).  ``general`` / ``symmetric``: LU with partial pivoting
    (``numpy.linalg.solve``; a symmetric A is solved as a general one);
    ``lower_triangular`` / ``upper_triangular``: substitution reading only that triangle
    (``scipy.linalg.solve_triangular``; a zero on the diagonal is SciPy's
    ``LinAlgError("singular matrix: resolution failed at diagonal %d")``)."""
    __props__ = ("A_structure", "lower")

    def __init__(self, A_structure="general", lower=False):  # noqa: N803 - Theano's name
        if A_structure not in SOLVE_STRUCTURES:
            raise ValueError(f"Solve: A_structure must be one of {SOLVE_STRUCTURES}, got "
                             f"{A_structure!r}")
        self.A_structure = A_structure
        self.lower = bool(lower)

    def output_types(self, inputs):
        a, b = inputs
        if a.ndim != 2 or b.ndim not in (1, 2):
            raise TypeError(f"{self}: expects a matrix A and a vector or matrix b, got "
                            f"{a.type.describe()} and {b.type.describe()}")
        if a.dtype != b.dtype or a.dtype not in ("float32", "float64"):
            raise TypeError(f"{self}: A and b must both be float32 or both float64, got "
                            f"{a.dtype} and {b.dtype}")
        return [TensorType(b.dtype, (False,) * b.ndim)]

    @property
    def triangular(self):
        return self.A_structure.endswith("_triangular")

    def perform(self, node, inputs):
        a, b = inputs
        _square(a, "solve")
        if b.shape[0] != a.shape[0]:
            raise ValueError(f"solve: A of shape {a.shape} and b of shape {b.shape} do not "
                             "match (b.shape[0] must be A.shape[0])")
        if not self.triangular:
            if b.ndim == 1:
                return [np.linalg.solve(a, b[:, None])[:, 0].astype(b.dtype, copy=False)]
            return [np.linalg.solve(a, b).astype(b.dtype, copy=False)]
        t = np.tril(a) if self.A_structure == "lower_triangular" else np.triu(a)
        zero = np.flatnonzero(np.diagonal(t) == 0)
        if zero.size:
            raise LinAlgError(f"singular matrix: resolution failed at diagonal {zero[0]}")
        if a.shape[0] == 0:
            return [np.zeros(b.shape, b.dtype)]
        rhs = b[:, None] if b.ndim == 1 else b
        x = np.linalg.solve(t, rhs)
        return [(x[:, 0] if b.ndim == 1 else x).astype(b.dtype, copy=False)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.blas import dot, outer
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.triangular import tril, triu
        a, _ = inputs
        c, c_bar = node.outputs[0], output_grads[0]
        flipped = {"lower_triangular": "upper_triangular",
                   "upper_triangular": "lower_triangular"}
        trans = Solve(flipped.get(self.A_structure, self.A_structure), lower=not self.lower)
        b_bar = trans(a.T, c_bar)
        a_bar = m.neg(outer(b_bar, c) if c.ndim == 1 else dot(b_bar, c.T))
        if self.A_structure == "lower_triangular":
            a_bar = tril(a_bar)
        elif self.A_structure == "upper_triangular":
            a_bar = triu(a_bar)
        return [a_bar, b_bar]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]


class Eigh(Op):
    """``numpy.linalg.eigh(a, UPLO)``: eigenvalues (ascending) and eigenvectors (columns) of
    the symmetric matrix read from one triangle."""
    __props__ = ("UPLO",)

    def __init__(self, UPLO="L"):  # noqa: N803 - NumPy's name
        if UPLO not in ("L", "U"):
            raise ValueError(f"Eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        return [TensorType(x.dtype, (False,)), _matrix_type(x)]

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "eigh")
        w, v = np.linalg.eigh(a, UPLO=self.UPLO)
        return [w.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)]

    def grad(self, node, inputs, output_grads):
        """Theano's EighGrad: ``g = V (diag(gw) + F o (V^T gV)^T) V^T`` with ``F[n, m] =
        1 / (w[n] - w[m])`` off the diagonal, 0 on it; then the triangle that is read gets
        ``g``'s own triangle plus the other one transposed."""
        from aotsym.graph.ops.alloc import identity_like
        from aotsym.graph.ops.blas import dot
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.triangular import diag, tril, triu
        w, v = node.outputs
        gw, gv = output_grads
        diff = m.sub(w.dimshuffle(0, "x"), w.dimshuffle("x", 0))
        eye = identity_like(v, dtype="bool")
        zero = as_tensor_variable(np.zeros((), w.dtype))
        f = m.switch(eye, zero, m.true_div(np.asarray(1, w.dtype), m.switch(
            eye, as_tensor_variable(np.ones((), w.dtype)), diff)))
        inner = m.add(diag(gw), m.mul(f, dot(v.T, gv).T))
        g = dot(dot(v, inner), v.T)
        if self.UPLO == "L":
            return [m.add(tril(g), triu(g, 1).T)]
        return [m.add(triu(g), tril(g, -1).T)]

    def infer_shape(self, node, input_shapes):
        n = input_shapes[0][0]
        return [(n,), (n, n)]


class Eigvalsh(Op):
    """``numpy.linalg.eigvalsh(a, UPLO)``: the eigenvalues alone (LAPACK without vectors,
    as NumPy); Theano's ``slinalg.Eigvalsh`` for ``b=None``."""
    __props__ = ("UPLO",)

    def __init__(self, UPLO="L"):  # noqa: N803 - NumPy's name
        if UPLO not in ("L", "U"):
            raise ValueError(f"Eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        return [TensorType(x.dtype, (False,))]

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "eigvalsh")
        return [np.linalg.eigvalsh(a, UPLO=self.UPLO).astype(a.dtype, copy=False)]

    def grad(self, node, inputs, output_grads):
        """Theano's EigvalshGrad: ``V diag(gw) V^T`` folded onto the triangle read."""
        from aotsym.graph.ops.blas import dot
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.triangular import tril, triu
        v = Eigh(self.UPLO)(inputs[0])[1]
        g = dot(m.mul(v, output_grads[0].dimshuffle("x", 0)), v.T)
        if self.UPLO == "L":
            return [m.add(tril(g), triu(g, 1).T)]
        return [m.add(triu(g), tril(g, -1).T)]

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0],)]


class SVD(Op):
    """``numpy.linalg.svd(a, full_matrices, compute_uv)``: (U, s, Vt), or s alone.  No
    gradient (Theano had none)."""
    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        vec = TensorType(x.dtype, (False,))
        return [_matrix_type(x), vec, _matrix_type(x)] if self.compute_uv else [vec]

    def perform(self, node, inputs):
        (a,) = inputs
        out = np.linalg.svd(a, full_matrices=self.full_matrices, compute_uv=self.compute_uv)
        if not self.compute_uv:
            return [out.astype(a.dtype, copy=False)]
        return [o.astype(a.dtype, copy=False) for o in out]

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("the gradient of svd is not implemented (Theano had none)")


class QR(Op):
    """``numpy.linalg.qr(a, mode)`` for mode ``reduced`` / ``complete`` (Q, R), ``r``
    (R alone) and ``raw`` (LAPACK's ``(h, tau)``: no C kernel, the compiled function calls
    ``perform`` back).  No gradient (Theano had none)."""
    __props__ = ("mode",)

    def __init__(self, mode="reduced"):
        if mode not in ("reduced", "complete", "r", "raw"):
            raise ValueError(f"QR: mode must be 'reduced', 'complete', 'r' or 'raw', got "
                             f"{mode!r}")
        self.mode = mode

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        if self.mode == "raw":
            return [_matrix_type(x), TensorType(x.dtype, (False,))]
        return [_matrix_type(x)] * (1 if self.mode == "r" else 2)

    def perform(self, node, inputs):
        (a,) = inputs
        out = np.linalg.qr(a, mode=self.mode)
        if self.mode == "r":
            return [np.asarray(out, a.dtype)]
        return [o.astype(a.dtype, copy=False) for o in out]

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("the gradient of qr is not implemented (Theano had none)")


class MatrixPinv(_MatrixOp):
    """``numpy.linalg.pinv`` (SVD; singular values at most ``rcond * max(s)`` dropped)."""

    def perform(self, node, inputs):
        (a,) = inputs
        return [np.linalg.pinv(a).astype(a.dtype, copy=False)]

    def grad(self, node, inputs, output_grads):
        """Theano's MatrixPinv.L_op."""
        from aotsym.graph.ops.alloc import identity_like
        from aotsym.graph.ops.blas import dot
        from aotsym.graph.ops import math as m
        (x,), z, gz = inputs, node.outputs[0], output_grads[0]
        x_dot_z, z_dot_x = dot(x, z), dot(z, x)
        g = m.add(m.add(
            m.neg(matrix_dot(z, gz.T, z)),
            matrix_dot(z, z.T, gz, m.sub(identity_like(x_dot_z), x_dot_z))),
            matrix_dot(m.sub(identity_like(z_dot_x), z_dot_x), gz, z.T, z))
        return [g.T]

    def infer_shape(self, node, input_shapes):
        r, c = input_shapes[0]
        return [(c, r)]


# Higham (2005), "The scaling and squaring method for the matrix exponential revisited":
# the Pade degrees tried, the 1-norm bound under which each is accurate in double precision,
# and the coefficients b_0 .. b_m of each
EXPM_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1),
              (7, 9.504178996162932e-1), (9, 2.097847961257068e0))
EXPM_THETA_13 = 5.371920351148152e0
EXPM_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
        110880.0, 3960.0, 90.0, 1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
         1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
         33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}


def expm_reference(a):
    """``expm(a)`` by Higham's scaling and squaring (the algorithm the C lowering runs);
    a matrix holding NaN or inf gives NaN everywhere."""
    n = a.shape[0]
    if n == 0:
        return a.copy()
    norm1 = np.abs(a).sum(axis=0).max()
    if not np.isfinite(norm1):
        return np.full(a.shape, np.nan, a.dtype)
    eye = np.eye(n, dtype=a.dtype)
    for m, theta in EXPM_THETA:
        if norm1 <= theta:
            b = np.asarray(EXPM_PADE[m], a.dtype)
            powers = [eye, a @ a]
            while len(powers) <= m // 2:
                powers.append(powers[-1] @ powers[1])
            u = a @ sum(b[2 * k + 1] * powers[k] for k in range(m // 2 + 1))
            v = sum(b[2 * k] * powers[k] for k in range(m // 2 + 1))
            return np.linalg.solve(v - u, v + u)
    s = max(0, int(np.ceil(np.log2(norm1 / EXPM_THETA_13))))
    x = a / a.dtype.type(2.0 ** s)
    b = np.asarray(EXPM_PADE[13], a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2)
             + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 \
        + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


class Expm(_MatrixOp):
    """The matrix exponential (Theano's ``slinalg.expm``; SciPy's ``expm`` to rounding).
    Gradient: the Frechet derivative of ``expm`` at ``A^T`` in the direction ``G``, the
    upper-right block of ``expm([[A^T, G], [0, A^T]])`` (Theano's ExpmGrad by an
    eigendecomposition gives the same where A is diagonalizable)."""

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "expm")
        return [expm_reference(a).astype(a.dtype, copy=False)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.alloc import zeros_like
        from aotsym.graph.ops.join import concatenate
        (a,), g = inputs, output_grads[0]
        n = a.shape[0]
        block = concatenate([concatenate([a.T, g], axis=1),
                             concatenate([zeros_like(a), a.T], axis=1)], axis=0)
        return [Expm()(block)[:n, n:]]


def matrix_dot(*args):
    """``dot(dot(a, b), c) ...`` (Theano's ``nlinalg.matrix_dot``)."""
    from aotsym.graph.ops.blas import dot
    if not args:
        raise TypeError("matrix_dot: needs at least one argument")
    rval = args[0]
    for a in args[1:]:
        rval = dot(rval, a)
    return rval


def matrix_inverse(a):
    """``numpy.linalg.inv(a)`` (Theano's ``nlinalg.matrix_inverse``)."""
    return MatrixInverse()(as_matrix(a, "matrix_inverse"))


def _same_float(a, b, what):
    from aotsym.graph.ops import math as m
    a = as_matrix(a, what)
    b = as_tensor_variable(b)
    if dtype_kind(b.dtype) == "c":
        raise TypeError(f"{what}: complex right-hand sides are not supported")
    dtype = np.result_type(a.dtype, b.dtype if dtype_kind(b.dtype) == "f" else "float64").name
    dtype = dtype if dtype in ("float32", "float64") else "float64"
    if a.dtype != dtype:
        a = m.cast(a, dtype)
    if b.dtype != dtype:
        b = m.cast(b, dtype)
    if b.ndim not in (1, 2):
        raise ValueError(f"{what}: b must be a vector or a matrix, got {b.type.describe()}")
    return a, b


def solve(a, b, A_structure="general", lower=False, assume_a=None):  # noqa: N803
    """``x`` with ``a x = b`` (Theano's ``slinalg.solve``; ``assume_a``: SciPy's and
    PyTensor's ``"gen"`` / ``"sym"`` / ``"pos"`` spelling, all solved by LU)."""
    if assume_a is not None:
        if assume_a not in ("gen", "sym", "her", "pos"):
            raise ValueError(f"solve: assume_a must be 'gen', 'sym', 'her' or 'pos', got "
                             f"{assume_a!r}")
        A_structure = "general" if assume_a == "gen" else "symmetric"
    a, b = _same_float(a, b, "solve")
    return Solve(A_structure, lower)(a, b)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False):
    """``scipy.linalg.solve_triangular``: ``x`` with ``op(a) x = b`` for the triangle of
    ``a`` that ``lower`` names (``trans``: 0/'N', 1/'T' or 2/'C': ``a^T``)."""
    if unit_diagonal:
        raise NotImplementedError("solve_triangular: unit_diagonal=True is not supported")
    if trans not in (0, 1, 2, "N", "T", "C"):
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                         f"{trans!r}")
    a, b = _same_float(a, b, "solve_triangular")
    if trans not in (0, "N"):
        a, lower = a.T, not lower
    structure = "lower_triangular" if lower else "upper_triangular"
    return Solve(structure, lower=bool(lower))(a, b)


class Lstsq(Op):
    """``numpy.linalg.lstsq(a, b, rcond)``: ``(x, residuals, rank, s)`` in float64 (int64
    rank), as Theano's ``nlinalg.lstsq()(a, b, rcond)``; ``x`` has ``b``'s ndim.  No C
    kernel: the compiled function calls ``perform`` back.  No gradient (Theano had none)."""

    def output_types(self, inputs):
        a, b, rcond = inputs
        for v, what in ((a, "a"), (b, "b")):
            if dtype_kind(v.dtype) not in "biuf":
                raise TypeError(f"lstsq: {what} must be real, got {v.type.describe()}")
        dtype = "float32" if "float32" == a.dtype == b.dtype else "float64"
        vec = TensorType(dtype, (False,))
        return [TensorType(dtype, (False,) * max(b.ndim, 1)), vec, TensorType("int64", ()),
                vec]

    def perform(self, node, inputs):
        a, b, rcond = inputs
        x, res, rank, s = np.linalg.lstsq(a, b, rcond=float(rcond) if np.ndim(rcond) == 0
                                          else rcond)
        return [np.asarray(v, o.dtype) for v, o in zip((x, res, rank, s), node.outputs)]

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("the gradient of lstsq is not implemented (Theano had none)")


class Eig(Op):
    """Theano's ``nlinalg.eig``: ``numpy.linalg.eig(a)`` as ``(w, v)`` in ``a``'s float dtype
    (the real parts, as Theano's op: exact for matrices with real eigenvalues).  No C
    kernel: the compiled function calls ``perform`` back.  No gradient (Theano had none)."""

    def output_types(self, inputs):
        x = _float_matrix(self, inputs)
        return [TensorType(x.dtype, (False,)), _matrix_type(x)]

    def perform(self, node, inputs):
        (a,) = inputs
        _square(a, "eig")
        w, v = np.linalg.eig(a)
        return [np.real(w).astype(a.dtype), np.real(v).astype(a.dtype)]

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("the gradient of eig is not implemented (Theano had none)")
