"""``Sort`` and ``ArgSort`` along one axis, and the builders ``sort`` / ``argsort``
(Theano's ``T.sort`` / ``T.argsort``, exported through ``aotsym/tensor/special.py``).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Both sort *stably*
(``kind="stable"``: equal elements keep their order, so ``argsort`` is deterministic) and
put NaN last, as NumPy does.  NumPy's default ``quicksort`` (introsort) breaks ties in an
unspecified order: ``argsort`` of an array with repeated values, and the order of ``-0.0``
and ``0.0`` in ``sort``, can differ from ``np.sort(a)`` / ``np.argsort(a)`` with the default
kind; they equal NumPy's with ``kind="stable"``.  ``axis=None`` sorts the flattened array
(the builders flatten; the ops always have a normalized int axis).  Complex inputs are
refused.  ``argsort`` gives int64.

Gradient of ``sort`` (Theano's): the output gradient sent back through the permutation,
``gx = gz[..., inverse]`` with ``inverse = argsort(argsort(a))`` along the axis.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind


class _SortOp(Op):
    __props__ = ("axis",)

    def __init__(self, axis):
        if not isinstance(axis, (int, np.integer)) or axis < 0:
            raise ValueError(f"{type(self).__name__}: axis must be a normalized int, got "
                             f"{axis!r}")
        self.axis = int(axis)

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}}}"

    def _check(self, x):
        if dtype_kind(x.dtype) == "c":
            raise TypeError(f"{self}: complex inputs cannot be sorted")
        if x.ndim == 0 or self.axis >= x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for a tensor of ndim "
                             f"{x.ndim}")

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Sort(_SortOp):
    """The values of ``x`` sorted along ``axis`` (stable, NaN last)."""

    def output_types(self, inputs):
        (x,) = inputs
        self._check(x)
        return [x.type]

    def perform(self, node, inputs):
        return [np.sort(inputs[0], axis=self.axis, kind="stable")]

    def grad(self, node, inputs, output_grads):
        (x,) = inputs
        if dtype_kind(x.dtype) != "f":
            return [None]
        inverse = ArgSort(self.axis)(ArgSort(self.axis)(x))
        return [take_along_axis(output_grads[0], inverse, self.axis)]


class ArgSort(_SortOp):
    """The int64 indices that sort ``x`` along ``axis`` (stable, NaN last)."""

    def output_types(self, inputs):
        (x,) = inputs
        self._check(x)
        return [TensorType("int64", x.broadcastable)]

    def perform(self, node, inputs):
        return [np.argsort(inputs[0], axis=self.axis, kind="stable").astype("int64")]

    def grad(self, node, inputs, output_grads):
        return [None]


def take_along_axis(x, indices, axis):
    """``np.take_along_axis(x, indices, axis)`` for ``indices`` of ``x``'s shape, by
    advanced indexing (an ``arange`` per other axis, broadcast)."""
    from aotsym.graph.ops.alloc import arange
    index = []
    for d in range(x.ndim):
        if d == axis:
            index.append(indices)
        else:
            pattern = ["x"] * x.ndim
            pattern[d] = 0
            index.append(arange(x.shape[d]).dimshuffle(*pattern))
    return x[tuple(index)]


def _prepare(a, axis, what):
    from aotsym.graph.ops.reshape import flatten
    a = as_tensor_variable(a)
    if axis is None:
        return flatten(a), 0
    if not isinstance(axis, (int, np.integer)) or not -a.ndim <= axis < max(a.ndim, 1) \
            or a.ndim == 0:
        raise ValueError(f"{what}: axis {axis!r} is out of range for a tensor of ndim "
                         f"{a.ndim}")
    return a, int(axis) % a.ndim


def _check_kind(kind, order, what):
    if order is not None:
        raise ValueError(f"{what}: order= (structured arrays) is not supported")
    if kind not in ("quicksort", "mergesort", "heapsort", "stable"):
        raise ValueError(f"{what}: unknown kind {kind!r}")


def sort(a, axis=-1, kind="quicksort", order=None):
    """``a`` sorted along ``axis`` (None: flattened), NaN last; stable whatever ``kind``
    says (see the module docstring)."""
    _check_kind(kind, order, "sort")
    a, axis = _prepare(a, axis, "sort")
    return Sort(axis)(a)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (None: flattened), stable."""
    _check_kind(kind, order, "argsort")
    a, axis = _prepare(a, axis, "argsort")
    return ArgSort(axis)(a)
