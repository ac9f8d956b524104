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

from aotsym.graph.basic import Variable
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
    return x[_along_axis_index(x, indices, axis)]


def _prepare(a, axis, what):
    from aotsym.graph.ops.reshape import flatten
    from aotsym.graph.basic import Constant
    a = as_tensor_variable(a)
    if isinstance(axis, Constant) and axis.ndim == 0:
        axis = int(axis.data)
    if isinstance(axis, Variable):
        if axis.ndim != 0 or dtype_kind(axis.dtype) not in "iuf":
            raise TypeError(f"{what}: the axis must be an int (or None), got "
                            f"{axis.type.describe()}")
        if a.ndim == 0:
            raise ValueError(f"{what}: cannot sort a scalar")
        return a, axis
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
    """``a`` sorted along ``axis`` (None: flattened; a symbolic scalar: read at run time),
    NaN last; stable whatever ``kind`` says (see the module docstring)."""
    _check_kind(kind, order, "sort")
    a, axis = _prepare(a, axis, "sort")
    if isinstance(axis, Variable):
        return SortAnyAxis(False)(a, axis)
    return Sort(axis)(a)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (None: flattened; a symbolic
    scalar: read at run time), stable."""
    _check_kind(kind, order, "argsort")
    a, axis = _prepare(a, axis, "argsort")
    if isinstance(axis, Variable):
        return SortAnyAxis(True)(a, axis)
    return ArgSort(axis)(a)


class SortAnyAxis(Op):
    """Theano's ``sort(a, axis)`` / ``argsort`` with the axis a symbolic scalar (Theano's
    SortOp takes it as an input): the axis is read at run time (an int, or a float holding
    one; out of range: a ValueError).  No C kernel: compiled functions call ``perform``
    back.  Gradient of the sort: :class:`Sort`'s along whichever axis it is."""

    __props__ = ("argsort",)

    def __init__(self, argsort=False):
        self.argsort = bool(argsort)

    def output_types(self, inputs):
        x, axis = inputs
        if dtype_kind(x.dtype) == "c":
            raise TypeError("sort: complex inputs cannot be sorted")
        return [TensorType("int64", x.broadcastable) if self.argsort else x.type]

    def perform(self, node, inputs):
        x, axis = inputs
        if axis != int(axis) or not -x.ndim <= int(axis) < x.ndim:
            raise ValueError(f"sort: axis {axis} is out of range for an array of ndim "
                             f"{x.ndim}")
        fn = np.argsort if self.argsort else np.sort
        return [np.asarray(fn(x, axis=int(axis), kind="stable"), node.outputs[0].dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.alloc import zeros_like
        x, axis = inputs
        if self.argsort or dtype_kind(x.dtype) != "f":
            return [None, None]
        gx = zeros_like(x)
        for d in range(x.ndim):   # the gradient of Sort(d) where the axis is d
            inverse = ArgSort(d)(ArgSort(d)(x))
            gx = m.switch(m.or_(m.eq(axis, d), m.eq(axis, d - x.ndim)),
                          take_along_axis(output_grads[0], inverse, d), gx)
        return [gx, None]


def _along_axis_index(x, indices, axis):
    """The advanced index of ``np.take_along_axis(x, indices, axis)``."""
    from aotsym.graph.ops.alloc import arange
    index = []
    for d in range(x.ndim):
        if d == axis:
            index.append(indices)
        else:
            pattern = ["x"] * x.ndim
            pattern[d] = 0
            index.append(arange(x.shape[d]).dimshuffle(*pattern))
    return tuple(index)


class TopKOp(Op):
    """Theano's ``TopKOp``: the ``kth`` largest entries of ``x`` along ``axis`` (``kth < 0``:
    the ``-kth`` smallest), their values and/or their indices (``idx_dtype``).  Unsorted
    (``sorted=False``, in ``np.argpartition``'s order) or sorted, largest first (smallest
    first for ``kth < 0``).  ``kth`` is an int scalar input: 0, or more entries than the
    axis has, is a ValueError at run time, as in Theano."""

    __props__ = ("axis", "sorted", "return_values", "return_indices", "idx_dtype")

    def __init__(self, axis=-1, sorted=True, idx_dtype="int64", return_values=True,
                 return_indices=True):
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"TopKOp: axis must be an int, got {axis!r}")
        if idx_dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                             "uint64"):
            raise TypeError(f"TopKOp: idx_dtype must be an integer dtype, got {idx_dtype!r}")
        if not (return_values or return_indices):
            raise ValueError("TopKOp: neither values nor indices are returned")
        self.axis, self.sorted, self.idx_dtype = int(axis), bool(sorted), idx_dtype
        self.return_values, self.return_indices = bool(return_values), bool(return_indices)

    @property
    def nout(self):
        return int(self.return_values) + int(self.return_indices)

    def make_node_inputs(self, x, kth):
        return (as_tensor_variable(x), as_tensor_variable(kth))

    def output_types(self, inputs):
        x, kth = inputs
        if x.ndim == 0:
            raise ValueError("topk: cannot take a scalar as input")
        if not -x.ndim <= self.axis < x.ndim:
            raise IndexError(f"topk: axis {self.axis} is out of range for a tensor of ndim "
                             f"{x.ndim}")
        if kth.ndim != 0 or dtype_kind(kth.dtype) not in "iu":
            raise TypeError(f"topk: kth must be an integer scalar, got {kth.type.describe()}")
        if dtype_kind(x.dtype) == "c":
            raise TypeError("topk: complex inputs cannot be ordered")
        bc = list(x.broadcastable)
        bc[self.axis % x.ndim] = False
        out = [TensorType(x.dtype, bc)] if self.return_values else []
        return out + ([TensorType(self.idx_dtype, bc)] if self.return_indices else [])

    def perform(self, node, inputs):
        x, k = inputs[0], int(inputs[1])
        axis = self.axis % x.ndim
        n = x.shape[axis]
        if k == 0:
            raise ValueError("topk: kth cannot be zero")
        if abs(k) > n:
            raise ValueError(f"topk: kth={k} is larger than the length {n} of axis {axis}")
        order = np.argpartition(x, -k if k > 0 else -k - 1, axis=axis) if abs(k) < n \
            else np.broadcast_to(np.arange(n).reshape((n,) + (1,) * (x.ndim - axis - 1)),
                                 x.shape)
        keep = [slice(None)] * x.ndim
        keep[axis] = slice(-k, None) if k > 0 else slice(None, -k)
        idx = np.array(order[tuple(keep)])
        if self.sorted:
            rank = np.argsort(np.take_along_axis(x, idx, axis), axis=axis, kind="stable")
            if k > 0:
                rank = np.flip(rank, axis)
            idx = np.take_along_axis(idx, rank, axis)
        out = [np.take_along_axis(x, idx, axis)] if self.return_values else []
        return out + ([idx.astype(self.idx_dtype)] if self.return_indices else [])

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.alloc import zeros_like
        from aotsym.graph.ops.subtensor import inc_subtensor
        x, kth = inputs
        if dtype_kind(x.dtype) != "f" or not self.return_values:
            return [None, None]
        gz = output_grads[0]
        if self.return_indices:
            idx = node.outputs[1]
        else:
            idx = TopKOp(self.axis, self.sorted, "int64", False, True)(x, kth)
        axis = self.axis % x.ndim
        return [inc_subtensor(zeros_like(x)[_along_axis_index(x, idx, axis)], gz), None]
