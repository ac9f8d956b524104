"""``SumToShape``: a gradient summed back to the shape of a value that was broadcast at run time.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The indexed writes
(``inc_subtensor(x[idx], y)`` and friends, :mod:`.subtensor`) broadcast ``y`` into the region
as NumPy does: a dimension of ``y`` of length 1 at run time repeats even where its type does
not say broadcastable.  y's gradient is the region's gradient summed over those dimensions,
which only the run time knows::

    gy = reduce_to_input(gz[idx], y)                 # the static part: declared dimensions
    gy = SumToShape(gy, y.shape)                     # the rest: where y.shape[d] == 1 but
                                                     # gy.shape[d] != 1, sum with keepdims

When no dimension is summed (the common case) the output is ``g`` itself, a view (the C
backend shares the buffer); otherwise a fresh array of the target shape.  A target shape that
``g`` does not broadcast from is a ValueError naming the op.  ``view_map`` declares the output
a view of ``g`` — the conservative declaration, as ``Reshape`` does.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.op import Op
from aotsym.graph.types import dtype_kind


def _summed_axes(op, g_shape, target):
    """The axes of ``g`` to sum (keepdims) to reach ``target``; ValueError if it cannot."""
    if len(target) != len(g_shape):
        raise ValueError(f"{op}: a target shape of {len(target)} entries for a gradient of "
                         f"ndim {len(g_shape)}")
    axes = []
    for d, (n, want) in enumerate(zip(g_shape, target)):
        if n == want:
            continue
        if want != 1:
            raise ValueError(f"{op}: a gradient of shape {tuple(g_shape)} cannot be summed to "
                             f"the shape {tuple(int(t) for t in target)} of the value")
        axes.append(d)
    return tuple(axes)


class SumToShape(Op):
    """``g`` summed (keepdims) over the dimensions where the int64 vector ``shp`` is 1 and
    ``g`` is not.  Inputs: g, shp (length g.ndim).  Output: g's type."""

    view_map = {0: [0]}   # g itself when nothing is summed (module docstring)

    def output_types(self, inputs):
        g, shp = inputs
        if shp.ndim != 1 or dtype_kind(shp.dtype) not in "iu":
            raise TypeError(f"{self}: the shape must be an integer vector, got "
                            f"{shp.type.describe()}")
        return [g.type]

    def perform(self, node, inputs):
        g, shp = inputs
        axes = _summed_axes(self, g.shape, [int(n) for n in shp])
        if not axes:
            return [g[...]]
        return [np.asarray(g.sum(axis=axes, keepdims=True, dtype=g.dtype))]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.alloc import zeros_like
        from aotsym.graph.ops.subtensor import IncSubtensor
        g, _ = inputs
        (gout,) = output_grads
        # spread gout back over the summed dimensions: a write broadcasting at run time
        return [IncSubtensor(())(zeros_like(g), gout), None]


def reduce_to_value(g, y):
    """The gradient ``g`` of an indexed region summed to the shape of the value ``y`` written
    into it: over y's missing and declared broadcastable dimensions statically, over the
    dimensions of length 1 at run time by ``SumToShape`` (absent where y has none left that
    could be)."""
    from aotsym.graph.ops.elemwise import reduce_to_input
    from aotsym.graph.ops.shape import shape
    g = reduce_to_input(g, y)
    if all(y.broadcastable):
        return g
    return SumToShape()(g, shape(y))
