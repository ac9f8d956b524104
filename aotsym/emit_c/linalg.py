"""Dense linear algebra (:mod:`aotsym.graph.ops.linalg`) through LAPACKE.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  Every op of the family
(``MatrixInverse``, ``Det`` / ``SLogDet``, ``Cholesky``, ``Solve``, ``Eigh``, ``SVD``,
``QR``, ``MatrixPinv``) calls the LAPACKE routines of the OpenBLAS that products link
(``uses_blas``; the symbols are named as the CBLAS ones of ``runtime/aotsym_blas.h``:
``AOT_BLAS_PREFIX`` + ``LAPACKE_dgesv_work`` + ``AOT_BLAS_SUFFIX``, integers
``AOT_BLAS_INT``) on fresh column-major copies of their inputs (``linalg_kernel.c.j2``): the
caller's arrays are never written.  They are the calls NumPy makes (gesv, getrf, potrf,
syevd, gesdd, geqrf + orgqr; trtrs as SciPy), so the answers and their failures are NumPy's:
a singular matrix or one that is not positive definite fails the call with NumPy's words,
the node and the user's line.  ``MatrixPinv`` is NumPy's recipe (gesdd, singular values at
most ``1e-15 * max(s)`` dropped, one gemm).  Without a BLAS (``aotsym.config.blas=none``)
the step fails at run time saying so.  ``Expm`` runs the reference's scaling and squaring
(Pade 13; gemm for the products, gesv for the quotient).
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.templates import c_comment, render

_PREFIX = {"float64": "d", "float32": "s"}

# LAPACKE_<p><routine>_work's parameters after the name (T: the element type)
_SIGNATURES = {
    "gesv": "int, aot_blasint, aot_blasint, T *, aot_blasint, aot_blasint *, T *, aot_blasint",
    "getrf": "int, aot_blasint, aot_blasint, T *, aot_blasint, aot_blasint *",
    "potrf": "int, char, aot_blasint, T *, aot_blasint",
    "trtrs": "int, char, char, char, aot_blasint, aot_blasint, const T *, aot_blasint, T *, "
             "aot_blasint",
    "syevd": "int, char, char, aot_blasint, T *, aot_blasint, T *, T *, aot_blasint, "
             "aot_blasint *, aot_blasint",
    "gesdd": "int, char, aot_blasint, aot_blasint, T *, aot_blasint, T *, T *, aot_blasint, "
             "T *, aot_blasint, T *, aot_blasint, aot_blasint *",
    "geqrf": "int, aot_blasint, aot_blasint, T *, aot_blasint, T *, T *, aot_blasint",
    "orgqr": "int, aot_blasint, aot_blasint, aot_blasint, T *, aot_blasint, const T *, T *, "
             "aot_blasint",
}
# op class -> (kernel kind, the routines it calls, the user's name of the op)
_KINDS = {
    "MatrixInverse": ("inverse", ("gesv",), "matrix_inverse"),
    "Det": ("slogdet", ("getrf",), "det"),
    "SLogDet": ("slogdet", ("getrf",), "slogdet"),
    "Cholesky": ("cholesky", ("potrf",), "cholesky"),
    "Solve": ("solve", ("gesv", "trtrs"), "solve"),
    "Eigh": ("eigh", ("syevd",), "eigh"),
    "Eigvalsh": ("eigh", ("syevd",), "eigvalsh"),
    "SVD": ("svd", ("gesdd",), "svd"),
    "MatrixPinv": ("pinv", ("gesdd",), "pinv"),
    "QR": ("qr", ("geqrf", "orgqr"), "qr"),
    "Expm": ("expm", ("gesv",), "expm"),
}


def _kernel(fe, node):
    dtype = node.inputs[0].dtype
    if dtype not in _PREFIX:
        raise EmitError(f"{node.op} needs a float32 or float64 matrix, got {dtype}", node)
    kind, routines, what = _KINDS[type(node.op).__name__]
    p, ctype = _PREFIX[dtype], D.STORAGE[dtype]
    declarations = [(f"{p}{r}_work", _SIGNATURES[r].replace("T ", ctype + " "))
                    for r in routines]
    fe.module.uses_blas = True
    return fe.module.kernel("linalg_kernel.c.j2", comment=c_comment(f"{what} {dtype}"),
                            kind=kind, p=p, ctype=ctype, what=what,
                            libm=D.LIBM_SUFFIX.get(dtype, ""),
                            declarations=declarations,
                            **(_expm_tables() if kind == "expm" else {}))


def _expm_tables():
    """Higham's Pade coefficients and norm bounds, spelled for ``linalg_kernel.c.j2``."""
    from aotsym.graph.ops.linalg import EXPM_PADE, EXPM_THETA, EXPM_THETA_13
    return {"pade": [(m, ", ".join(repr(c) for c in b)) for m, b in EXPM_PADE.items()],
            "thetas": ", ".join(repr(t) for _, t in EXPM_THETA),
            "degrees": ", ".join(str(m) for m, _ in EXPM_THETA),
            "theta13": repr(EXPM_THETA_13)}


@lowers("MatrixInverse", "Det", "SLogDet", "Cholesky", "Solve", "Eigh", "Eigvalsh", "SVD",
        "QR", "MatrixPinv", "Expm", "Lstsq", "Eig")
def lower_linalg(fe, node, pos):
    op = node.op
    name = type(op).__name__
    if name in ("Lstsq", "Eig") or name == "QR" and op.mode == "raw":   # NumPy's, called back
        from aotsym.emit_c.python_op import lower_python_op
        return lower_python_op(fe, node, pos)
    kernel = _kernel(fe, node)
    a = fe.ref(node.inputs[0])
    outs = [fe.ref(v) for v in node.outputs]   # every output has its slot, read or not
    ctype = D.STORAGE[node.inputs[0].dtype]
    if name in ("MatrixInverse", "MatrixPinv", "Expm"):
        lines = [f"rc = {kernel}(ctx, {pos}, &{outs[0]}, &{a});"]
    elif name == "SVD":
        u, s, vt = outs if op.compute_uv else ("", outs[0], "")
        u, vt = (f"&{u}", f"&{vt}") if op.compute_uv else ("NULL", "NULL")
        lines = [f"rc = {kernel}(ctx, {pos}, {u}, &{s}, {vt}, &{a}, {int(op.full_matrices)});"]
    elif name == "QR":
        q, r = (f"&{outs[0]}", outs[1]) if op.mode != "r" else ("NULL", outs[0])
        lines = [f"rc = {kernel}(ctx, {pos}, {q}, &{r}, &{a}, {int(op.mode == 'complete')});"]
    elif name == "Cholesky":
        lines = [f"rc = {kernel}(ctx, {pos}, &{outs[0]}, &{a}, {int(op.lower)}, "
                 f"{int(op.on_error == 'nan')});"]
    elif name == "Solve":
        structure = {"lower_triangular": 1, "upper_triangular": 2}.get(op.A_structure, 0)
        lines = [f"rc = {kernel}(ctx, {pos}, &{outs[0]}, &{a}, &{fe.ref(node.inputs[1])}, "
                 f"{structure});"]
    elif name in ("Eigh", "Eigvalsh"):
        vectors = f"&{outs[1]}" if name == "Eigh" else "NULL"
        lines = [f"rc = {kernel}(ctx, {pos}, &{outs[0]}, {vectors}, &{a}, "
                 f"{int(op.UPLO == 'L')});"]
    else:   # Det, SLogDet: (sign, log|det|) from one LU
        libm = D.LIBM_SUFFIX.get(node.inputs[0].dtype, "")
        lines = [f"{ctype} sign_ = 0, logdet_ = 0;",
                 f"rc = {kernel}(ctx, {pos}, &sign_, &logdet_, &{a});"]
        values = (["sign_ * exp" + libm + "(logdet_)"] if name == "Det"
                  else ["sign_", "logdet_"])
        for out, value in zip(outs, values):
            lines += [f"if (!rc) rc = aot_alloc(ctx, {pos}, &{out});",
                      f"if (!rc) *({ctype} *){out}.data = {value};"]
    return render("guarded_step.c.j2", lines=lines, temps=[])
