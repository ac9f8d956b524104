"""Running sums and products (``CumOp``: ``T.cumsum``, ``T.cumprod``) along one axis.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  One kernel call per row
of the kept dimensions, each row accumulated sequentially in the output's dtype, so the
results are NumPy's bit for bit (``np.add.accumulate`` is sequential too).  Complex inputs
have no C translation (NumPy's complex product is not C's): the build says so.  The other
``extra_ops`` ops (bincount, repeat by counts, searchsorted, unique, bartlett, unravel /
ravel of indices) and ``T.fft``'s are called back through their NumPy reference (the last
function here).
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.nnet import axis_rows_lines
from aotsym.emit_c.templates import c_comment, render


@lowers("CumOp")
def lower_cum(fe, node, pos):
    (x,) = node.inputs
    (out,) = node.outputs
    if x.dtype.startswith("complex") or out.dtype.startswith("complex"):
        raise EmitError(f"the C backend has no implementation of {node.op} on {x.dtype}",
                        node)
    kernel = fe.module.kernel("cum_kernel.c.j2", comment=c_comment(str(node.op)),
                              op="+" if node.op.mode == "add" else "*",
                              itype=D.STORAGE[x.dtype], otype=D.STORAGE[out.dtype])
    xr, outr = fe.ref(x), fe.ref(out)
    lines = [f"aot_copy_shape(&{outr}, &{xr});",
             f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});"]
    lines += axis_rows_lines(xr, outr, x.ndim, node.op.axis, kernel)
    return render("guarded_step.c.j2", lines=lines, temps=[])


@lowers("BinCount", "RepeatOp", "SearchsortedOp", "Unique", "Bartlett", "UnravelIndex",
        "RavelMultiIndex", "RFFTOp", "IRFFTOp")
def lower_numpy_reference_op(fe, node, pos):
    """The ``extra_ops`` ops whose reference is a NumPy function (``np.bincount``,
    ``np.unique`` ...) and ``T.fft``'s (``np.fft.rfftn`` / ``irfftn``) have no C kernel: the
    compiled function calls their ``perform``
    (:mod:`aotsym.emit_c.python_op`; a standalone module refuses them at build time)."""
    from aotsym.emit_c.python_op import lower_python_op
    return lower_python_op(fe, node, pos)
