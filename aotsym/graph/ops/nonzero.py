"""``Nonzero``: the indices of the nonzero elements of a tensor, and the builders
``nonzero`` / ``flatnonzero`` / ``nonzero_values`` (Theano's, exported by
``aotsym.tensor.basic``) and ``mask_indices`` (boolean-mask indexing, used by ``getitem``).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``Nonzero()(a)`` is an
``(a.ndim, n)`` int64 matrix whose column ``j`` is the index of the ``j``-th nonzero element
of ``a`` in C order (``np.array(np.nonzero(a))``): NaN counts as nonzero, ``-0.0`` as zero, as
NumPy's.  ``n`` is known only when the step runs (the C step counts, allocates, then fills),
so the op has no shape rule: the length is read from the output at run time.

Boolean masks become integer indices here, as NumPy does it (``x[mask]`` is
``x[mask.nonzero()]``)::

    x[mask]                     (mask of x's leading k dimensions)
    -> m = Nonzero{mask at axis 0}(mask, x.shape[0], ..., x.shape[k-1])
       AdvancedSubtensor(x, m[0], ..., m[k-1])     (AdvancedSubtensor1 for k == 1)

``Nonzero{mask at axis a}`` takes the lengths of the indexed dimensions as more inputs and
checks the mask against them (an IndexError with NumPy's words when they differ), so a mask
of the wrong shape is never read as in-bounds integer indices.  ``set_subtensor`` /
``inc_subtensor`` of ``x[mask]`` and the gradient of ``x[mask]`` are those of the advanced
indexing ops.  The indices themselves have no gradient (Theano's ``Nonzero`` neither).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind

__all__ = ["Nonzero", "nonzero", "flatnonzero", "nonzero_values", "mask_indices"]


def _mask_mismatch(axis, want, got) -> str:
    """NumPy's words for a boolean index of the wrong length (the C step says the same)."""
    return (f"boolean index did not match indexed array along axis {axis}; size of axis is "
            f"{want} but size of corresponding boolean axis is {got}")


class Nonzero(Op):
    """The ``(a.ndim, n)`` int64 indices of the nonzero elements of ``a`` (module docstring).

    ``mask_axis``: None for ``nonzero(a)``; for a boolean mask, the first axis of the indexed
    tensor that the mask covers, and the inputs after ``a`` are the lengths of the
    ``a.ndim`` dimensions it covers, checked at run time.
    """

    __props__ = ("mask_axis",)

    def __init__(self, mask_axis=None):
        self.mask_axis = None if mask_axis is None else int(mask_axis)

    def __str__(self):
        if self.mask_axis is None:
            return "Nonzero"
        return f"Nonzero{{mask at axis {self.mask_axis}}}"

    def output_types(self, inputs):
        a, lengths = inputs[0], inputs[1:]
        if a.ndim == 0:
            raise ValueError(f"{self}: a 0-d tensor has no index to give (NumPy 2 refuses "
                             "np.nonzero of a 0-d array); flatten it first (flatnonzero)")
        want = 0 if self.mask_axis is None else a.ndim
        if len(lengths) != want:
            raise TypeError(f"{self}: takes {want} lengths after the tensor, got {len(lengths)}")
        for v in lengths:
            if v.ndim != 0 or dtype_kind(v.dtype) not in "iu":
                raise TypeError(f"{self}: the lengths must be integer scalars, got "
                                f"{v.type.describe()}")
        return [TensorType("int64", (a.ndim == 1, False))]

    def perform(self, node, inputs):
        a, lengths = inputs[0], inputs[1:]
        for d, (want, got) in enumerate(zip(lengths, a.shape)):
            if int(want) != got:
                raise IndexError(f"{self}: " + _mask_mismatch(self.mask_axis + d, int(want),
                                                              got))
        return [np.array(np.nonzero(a), dtype="int64").reshape(a.ndim, -1)]

    def grad(self, node, inputs, output_grads):
        return [None] * len(inputs)   # integer indices: disconnected, as Theano's

    # no infer_shape: the number of nonzero elements is known only at run time


def nonzero(a, return_matrix=False):
    """Theano's ``nonzero``: a tuple of ``a.ndim`` int64 vectors (``np.nonzero(a)``), or with
    ``return_matrix=True`` the ``(a.ndim, n)`` matrix of them."""
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("nonzero: a 0-d tensor has no index to give (NumPy 2 refuses "
                         "np.nonzero of a 0-d array); use flatnonzero, or x.flatten() first")
    matrix = Nonzero()(a)
    if return_matrix:
        return matrix
    return tuple(matrix[d] for d in range(a.ndim))


def flatnonzero(a):
    """``np.flatnonzero(a)``: the int64 indices of the nonzero elements of ``a.flatten()``."""
    from aotsym.graph.ops.reshape import flatten
    a = as_tensor_variable(a)
    return Nonzero()(flatten(a, 1))[0]


def nonzero_values(a):
    """``a[a != 0]`` flattened (Theano's ``nonzero_values``): ``a.flatten()[flatnonzero(a)]``;
    its gradient reaches ``a`` through the indexing."""
    from aotsym.graph.ops.reshape import flatten
    a = as_tensor_variable(a)
    return flatten(a, 1)[flatnonzero(a)]


def mask_indices(x, mask, axis):
    """The integer index vectors that stand for the boolean ``mask`` covering dimensions
    ``axis, ..., axis + mask.ndim - 1`` of ``x`` (module docstring); ``mask.ndim >= 1``."""
    from aotsym.graph.ops.shape import shape_i
    mask = as_tensor_variable(mask)
    if mask.dtype != "bool":
        raise TypeError(f"a boolean mask must be of dtype bool, got {mask.type.describe()}")
    if axis + mask.ndim > x.ndim:
        raise IndexError(f"too many indices for a tensor of ndim {x.ndim}: a boolean mask of "
                         f"ndim {mask.ndim} at axis {axis}")
    for d in range(mask.ndim):
        data = getattr(mask, "data", None)
        if data is not None and x.broadcastable[axis + d] and data.shape[d] != 1:
            raise IndexError(_mask_mismatch(axis + d, 1, data.shape[d]))
    lengths = [shape_i(x, axis + d) for d in range(mask.ndim)]
    matrix = Nonzero(axis)(mask, *lengths)
    return [matrix[d] for d in range(mask.ndim)]
