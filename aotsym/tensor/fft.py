"""``T.fft``: Theano's ``theano.tensor.fft`` — ``rfft`` and ``irfft`` over all axes but the
first (a batch), the complex values as a last axis of two (real, imaginary).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The ops' reference is
NumPy's ``rfftn`` / ``irfftn``; compiled functions call it back (as the other NumPy-reference
ops: :func:`aotsym.emit_c.cumulative.lower_numpy_reference_op`), so a standalone module
refuses them at build time.  Theano's conventions: ``RFFTOp`` is unnormalized,
``IRFFTOp`` too (NumPy's ``1/N`` removed); ``rfft`` / ``irfft`` apply ``norm`` — None (the
``1/N`` on the inverse, NumPy's), ``'ortho'`` (``1/sqrt(N)`` both ways) or ``'no_norm'``.
The gradients are Theano's: each op's is the other op on the output gradient, the
frequencies that stand for two (all but the first and, for an even length, the last)
halved or doubled.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind

__all__ = ["rfft", "irfft", "RFFTOp", "IRFFTOp", "rfft_op", "irfft_op"]


def _lengths(s, what):
    s = as_tensor_variable(s)
    if s.ndim != 1 or dtype_kind(s.dtype) not in "iu":
        raise TypeError(f"{what}: s must be an integer vector (the transform's lengths), got "
                        f"{s.type.describe()}")
    return s


def _paired(gout, s, factor):
    """``gout`` (..., frequencies, 2) with the frequencies 1 .. (s[-1] + 1) // 2 - 1 -- the
    ones standing for a pair of conjugates -- multiplied by ``factor``."""
    from aotsym.graph.ops.subtensor import set_subtensor
    last = s[-1]
    idx = (slice(None),) * (gout.ndim - 2) + (slice(1, last // 2 + last % 2), slice(None))
    return set_subtensor(gout[idx], gout[idx] * np.asarray(factor, dtype=gout.dtype))


class RFFTOp(Op):
    """``a`` (batch, n1, ..., nk) -> (batch, s1, ..., sk // 2 + 1, 2): NumPy's ``rfftn`` over
    the lengths ``s``, unnormalized, real and imaginary parts last."""

    def output_types(self, inputs):
        a, s = inputs
        if a.ndim < 2 or dtype_kind(a.dtype) != "f":
            raise TypeError(f"rfft: the input must be a float tensor of 2 or more dimensions "
                            f"(the first a batch), got {a.type.describe()}")
        _lengths(s, "rfft")
        return [TensorType(a.dtype, (False,) * (a.ndim + 1))]

    def perform(self, node, inputs):
        a, s = inputs
        if len(s) != a.ndim - 1:
            raise ValueError(f"rfft: {len(s)} lengths for {a.ndim - 1} transformed axes")
        spectrum = np.fft.rfftn(a, s=tuple(int(n) for n in s),
                                axes=tuple(range(1, a.ndim)))
        return [np.stack([spectrum.real, spectrum.imag], axis=-1).astype(a.dtype)]

    def grad(self, node, inputs, output_grads):
        (gout,) = output_grads
        s = inputs[1]
        return [irfft_op(_paired(gout, s, 0.5), s), None]

    def infer_shape(self, node, input_shapes):
        a, s = node.inputs
        n = a.ndim - 1
        last = s[n - 1] // 2 + 1
        return [(input_shapes[0][0],) + tuple(s[i] for i in range(n - 1)) + (last, 2)]


class IRFFTOp(Op):
    """``a`` (batch, m1, ..., mk, 2) -> (batch, s1, ..., sk): NumPy's ``irfftn`` of
    ``a[..., 0] + 1j * a[..., 1]`` over the lengths ``s``, without its ``1/N``."""

    def output_types(self, inputs):
        a, s = inputs
        if a.ndim < 3 or dtype_kind(a.dtype) != "f":
            raise TypeError(f"irfft: the input must be a float tensor of 3 or more dimensions "
                            f"(a batch first, real and imaginary parts last), got "
                            f"{a.type.describe()}")
        _lengths(s, "irfft")
        return [TensorType(a.dtype, (False,) * (a.ndim - 1))]

    def perform(self, node, inputs):
        a, s = inputs
        if a.shape[-1] != 2:
            raise ValueError(f"irfft: the last axis holds the real and imaginary parts: its "
                             f"length must be 2, got {a.shape[-1]}")
        if len(s) != a.ndim - 2:
            raise ValueError(f"irfft: {len(s)} lengths for {a.ndim - 2} transformed axes")
        lengths = tuple(int(n) for n in s)
        out = np.fft.irfftn(a[..., 0] + 1j * a[..., 1], s=lengths,
                            axes=tuple(range(1, a.ndim - 1)))
        return [(out * np.prod(lengths, dtype=np.int64)).astype(a.dtype)]

    def grad(self, node, inputs, output_grads):
        (gout,) = output_grads
        s = inputs[1]
        return [_paired(rfft_op(gout, s), s, 2), None]

    def infer_shape(self, node, input_shapes):
        a, s = node.inputs
        return [(input_shapes[0][0],) + tuple(s[i] for i in range(a.ndim - 2))]


rfft_op = RFFTOp()
irfft_op = IRFFTOp()


def _norm(norm):
    if norm not in (None, "ortho", "no_norm"):
        raise ValueError(f"fft: norm must be None, 'ortho' or 'no_norm', got {norm!r}")
    return norm


def rfft(inp, norm=None):
    """The real FFT of ``inp`` (batch, n1, ..., nk) over all but the first axis: (batch, n1,
    ..., nk // 2 + 1, 2).  ``norm``: None and ``'no_norm'`` unscaled, ``'ortho'``
    ``1/sqrt(N)``."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.shape import shape
    inp = as_tensor_variable(inp)
    _norm(norm)
    s = shape(inp)[1:]
    out = rfft_op(inp, s)
    if norm == "ortho":
        out = out / m.sqrt(m.cast(s.prod(), inp.dtype))
    return out


def irfft(inp, norm=None, is_odd=False):
    """The inverse of :func:`rfft`: ``inp`` (batch, m1, ..., mk, 2) -> (batch, m1, ...,
    2 (mk - 1)), or ``2 (mk - 1) + 1`` with ``is_odd``.  ``norm``: None ``1/N`` (NumPy's),
    ``'ortho'`` ``1/sqrt(N)``, ``'no_norm'`` unscaled."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.subtensor import set_subtensor
    if is_odd not in (True, False):
        raise ValueError(f"irfft: is_odd must be True or False, got {is_odd!r}")
    from aotsym.graph.ops.shape import shape
    inp = as_tensor_variable(inp)
    _norm(norm)
    s = shape(inp)[1:-1]
    s = set_subtensor(s[-1], (s[-1] - 1) * 2 + int(is_odd))
    out = irfft_op(inp, s)
    if norm is None:
        out = out / m.cast(s.prod(), inp.dtype)
    elif norm == "ortho":
        out = out / m.sqrt(m.cast(s.prod(), inp.dtype))
    return out
