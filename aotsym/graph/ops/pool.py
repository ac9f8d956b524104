"""2-D pooling over the last two axes: ``Pool`` and its gradients ``MaxPoolGrad`` and
``AveragePoolGrad`` (Theano 1.0's names), and the builders ``pool_2d`` and ``pool_3d``
(``T.signal.pool.pool_2d``/``pool_3d``; 3-D pooling is two 2-D ones).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The parameters are
static ints (Theano's semantics, ``theano.tensor.signal.pool.Pool``):

``ws``
    the window (rows, cols); ``stride`` the step between windows (default ``ws``);
``pad``
    zero padding of both borders (needs ``ignore_border=True``; each entry < ``ws``);
``ignore_border``
    True: only whole windows of the padded input; False: a last partial window too;
``mode``
    ``'max'``, ``'sum'``, ``'average_inc_pad'`` (the mean over the window, padding counted)
    or ``'average_exc_pad'`` (padding not counted).

Window ``j`` along an axis of length ``n`` covers ``[j*stride - pad, j*stride - pad + ws)``
clipped to ``n + pad`` (the padded end); except for ``average_inc_pad`` it is further
clipped to ``[0, n)``, so ``max`` never sees the padding.  Output length: with
``ignore_border``, ``max(0, (n + 2 pad - ws) // stride + 1)``; without it, ``(n - 1) //
stride + 1`` if ``stride >= ws`` else ``max(0, (n - 1 - ws + stride) // stride) + 1`` (0 for
an empty axis).  Max pooling propagates NaN (NumPy's ``max``); its gradient goes to every
element equal to the window's maximum (ties included, as in Theano).
"""

from __future__ import annotations

import warnings

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import dtype_kind

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _pair(value, what, minimum):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in value)):
        raise ValueError(f"pool_2d: {what} must be a pair of ints, got {value!r}")
    value = tuple(int(v) for v in value)
    if min(value) < minimum:
        raise ValueError(f"pool_2d: {what} must be >= {minimum}, got {value!r}")
    return value


def output_length(n, ws, stride, pad, ignore_border):
    """The number of windows along an axis of length ``n`` (see the module docstring)."""
    if ignore_border:
        return max(0, (n + 2 * pad - ws) // stride + 1)
    if n == 0:
        return 0
    if stride >= ws:
        return (n - 1) // stride + 1
    return max(0, (n - 1 - ws + stride) // stride) + 1


class _PoolBase(Op):
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(self, ws, ignore_border=False, stride=None, pad=(0, 0), mode="max"):
        self.ws = _pair(ws, "ws", 1)
        self.stride = self.ws if stride is None else _pair(stride, "stride", 1)
        self.pad = _pair(pad, "pad", 0)
        self.ignore_border = bool(ignore_border)
        if mode not in MODES:
            raise ValueError(f"pool_2d: mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.mode = mode
        if self.pad != (0, 0) and not self.ignore_border:
            raise NotImplementedError("pool_2d: padding works only with ignore_border=True")
        if self.pad[0] >= self.ws[0] or self.pad[1] >= self.ws[1]:
            raise NotImplementedError(f"pool_2d: the padding {self.pad} must be smaller than "
                                      f"the window ws={self.ws}")

    def __str__(self):
        return (f"{type(self).__name__}{{{self.mode}, ws={self.ws}, stride={self.stride}, "
                f"pad={self.pad}, ignore_border={self.ignore_border}}}")

    def params(self):
        return dict(ws=self.ws, ignore_border=self.ignore_border, stride=self.stride,
                    pad=self.pad)

    def out_shape(self, shape):
        return tuple(shape[:-2]) + tuple(
            output_length(n, w, s, p, self.ignore_border)
            for n, w, s, p in zip(shape[-2:], self.ws, self.stride, self.pad))

    def windows(self, shape, mode=None):
        """Per spatial axis, the list of (start, end, count) of each window in unpadded
        coordinates: the clipped range read, and the divisor of the averages."""
        mode = self.mode if mode is None else mode
        out = []
        for n, ws, st, p, no in zip(shape[-2:], self.ws, self.stride, self.pad,
                                    self.out_shape(shape)[-2:]):
            axis = []
            for j in range(no):
                start = j * st - p
                end = min(start + ws, n + p)
                if mode != "average_inc_pad":
                    start, end = max(start, 0), min(end, n)
                axis.append((max(start, 0), min(end, n), end - start))
            out.append(axis)
        return out

    def _check_input(self, x, what="the input"):
        if x.ndim < 2:
            raise TypeError(f"{type(self).__name__}: {what} needs at least 2 dimensions (it "
                            f"pools the last two), got {x.type.describe()}")
        kind = dtype_kind(x.dtype)
        if kind not in "iuf" or (self.mode.startswith("average") and kind != "f"):
            need = "a float" if self.mode.startswith("average") else "an integer or float"
            raise TypeError(f"{type(self).__name__}: {self.mode} pooling needs {need} "
                            f"tensor, got {x.type.describe()}")


class Pool(_PoolBase):
    """Pooling of the last two axes (see the module docstring)."""

    def output_types(self, inputs):
        (x,) = inputs
        self._check_input(x)
        return [_type(x)]

    def perform(self, node, inputs):
        (x,) = inputs
        z = np.zeros(self.out_shape(x.shape), dtype=x.dtype)
        rows, cols = self.windows(x.shape)
        with np.errstate(all="ignore"):
            for i, (r0, r1, rc) in enumerate(rows):
                for j, (c0, c1, cc) in enumerate(cols):
                    region = x[..., r0:r1, c0:c1]
                    if self.mode == "max":
                        # the first of equal maxima in row-major order, the first NaN (the C
                        # kernel's choice; NumPy's max picks among -0.0/+0.0 as it reduces)
                        flat = region.reshape(region.shape[:-2] +
                                              (region.shape[-2] * region.shape[-1],))
                        at = np.argmax(flat, axis=-1)[..., None]
                        z[..., i, j] = np.take_along_axis(flat, at, -1)[..., 0]
                    else:
                        total = region.sum(axis=(-2, -1), dtype=np.result_type(x.dtype, "i8")
                                           if dtype_kind(x.dtype) in "iu" else x.dtype)
                        z[..., i, j] = total if self.mode == "sum" else total / (rc * cc)
        return [z]

    def infer_shape(self, node, input_shapes):
        from aotsym.graph.ops import math as m
        (shape,) = input_shapes
        out = []
        for n, ws, st, p in zip(shape[-2:], self.ws, self.stride, self.pad):
            if self.ignore_border:
                out.append(m.maximum((n + (2 * p - ws)) // st + 1, 0))
            elif st >= ws:
                out.append((n + (st - 1)) // st)
            else:
                out.append(m.switch(m.eq(n, 0), 0,
                                    m.maximum((n + (st - 1 - ws)) // st, 0) + 1))
        return [tuple(shape[:-2]) + tuple(out)]

    def grad(self, node, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if dtype_kind(x.dtype) != "f":
            return [None]
        if self.mode == "max":
            return [MaxPoolGrad(**self.params())(x, node.outputs[0], gz)]
        return [AveragePoolGrad(**self.params(), mode=self.mode)(x, gz)]


def _type(x):
    from aotsym.graph.types import TensorType
    return TensorType(x.dtype, x.broadcastable[:-2] + (False, False))


class MaxPoolGrad(_PoolBase):
    """The gradient of max pooling: inputs ``(x, pooled, output_grad)``; each window's
    output gradient goes to every element of the window equal to its maximum."""

    def __init__(self, ws, ignore_border=False, stride=None, pad=(0, 0), mode="max"):
        super().__init__(ws, ignore_border, stride, pad, mode)

    def output_types(self, inputs):
        x, z, gz = inputs
        self._check_input(x)
        if dtype_kind(x.dtype) != "f" or z.dtype != x.dtype or gz.dtype != x.dtype:
            raise TypeError(f"{self}: float operands of one dtype expected")
        return [x.type]

    def perform(self, node, inputs):
        x, z, gz = inputs
        want = self.out_shape(x.shape)
        for v, what in ((z, "the pooled value"), (gz, "the output gradient")):
            if v.shape != want:
                raise ValueError(f"{type(self).__name__}: {what} has shape {v.shape}, "
                                 f"expected {want} for an input of shape {x.shape}")
        gx = np.zeros_like(x)
        rows, cols = self.windows(x.shape)
        for i, (r0, r1, _) in enumerate(rows):
            for j, (c0, c1, _) in enumerate(cols):
                region = x[..., r0:r1, c0:c1]
                hit = region == z[..., i, j][..., None, None]
                gx[..., r0:r1, c0:c1] += np.where(hit, gz[..., i, j][..., None, None], 0)
        return [gx]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError(f"{self}: the second derivative of max pooling is not "
                                  "implemented (use average pooling, or differentiate once)")


class AveragePoolGrad(_PoolBase):
    """The gradient of sum / average pooling: inputs ``(x, output_grad)`` (``x`` gives the
    shape); each window's output gradient (divided by its count for the averages) is added
    over the window."""

    def output_types(self, inputs):
        x, gz = inputs
        self._check_input(x)
        if self.mode == "max" or dtype_kind(x.dtype) != "f" or gz.dtype != x.dtype:
            raise TypeError(f"{self}: float operands of one dtype and a sum or average mode "
                            "expected")
        return [x.type]

    def perform(self, node, inputs):
        x, gz = inputs
        want = self.out_shape(x.shape)
        if gz.shape != want:
            raise ValueError(f"{type(self).__name__}: the output gradient has shape "
                             f"{gz.shape}, expected {want} for an input of shape {x.shape}")
        gx = np.zeros_like(x)
        rows, cols = self.windows(x.shape)
        for i, (r0, r1, rc) in enumerate(rows):
            for j, (c0, c1, cc) in enumerate(cols):
                g = gz[..., i, j][..., None, None]
                gx[..., r0:r1, c0:c1] += g if self.mode == "sum" else g / x.dtype.type(rc * cc)
        return [gx]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, node, inputs, output_grads):
        (gg,) = output_grads
        return [None, Pool(**self.params(), mode=self.mode)(gg)]


def _new_names(fn, ws, stride, pad, ds, st, padding):
    """``(ws, stride, pad)`` from the arguments or Theano's old names ``ds``, ``st``,
    ``padding`` (one of each pair at most; ``ws`` required)."""
    for old, new, value, current in (("ds", "ws", ds, ws), ("st", "stride", st, stride),
                                     ("padding", "pad", padding, None)):
        if value is not None and current is not None:
            raise ValueError(f"{fn}: pass {new} or its old name {old}, not both")
    ws = ds if ws is None else ws
    if ws is None:
        raise ValueError(f"{fn}: the window size ws is required")
    return ws, st if stride is None else stride, padding if padding is not None else pad


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max",
            ds=None, st=None, padding=None):
    """Theano 1.0's ``pool_2d``: pool the last two axes of ``input`` (see the module).

    ``ds``, ``st`` and ``padding`` are Theano's old names of ``ws``, ``stride`` and ``pad``.
    ``ignore_border=None`` warns and means False, as in Theano 1.0.
    """
    ws, stride, pad = _new_names("pool_2d", ws, stride, pad, ds, st, padding)
    if ignore_border is None:
        warnings.warn("pool_2d: ignore_border=None means False, as in Theano 1.0; pass it "
                      "explicitly (True is what cuDNN and most code want)", stacklevel=2)
        ignore_border = False
    x = as_tensor_variable(input)
    if mode == "max_deterministic":   # Theano's GPU spelling; the CPU max is deterministic
        mode = "max"
    return Pool(ws, ignore_border, stride, pad, mode)(x)


def pool_3d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0, 0), mode="max",
            ds=None, st=None, padding=None):
    """Theano 1.0's ``pool_3d``: pool the last three axes of ``input``, with the parameters
    and modes of :func:`pool_2d` given as triples.

    Every mode is separable, a window being a product of one interval per axis (max of
    maxes, sum of sums, and each average's divisor the product of its per-axis counts), so
    this is a :class:`Pool` of the last two axes, then one of the third-to-last moved last
    (window ``(1, ws[0])``)::

        pool_3d(x, ws=(a, b, c))  ==  pool_2d(pool_2d(x, (b, c)) with axis -3 moved last, (1, a))
                                      with axis -3 moved back
    """
    ws, stride, pad = _new_names("pool_3d", ws, stride, pad, ds, st, padding)
    triples = []
    for what, value in (("ws", ws), ("stride", ws if stride is None else stride), ("pad", pad)):
        if (not isinstance(value, (tuple, list)) or len(value) != 3
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                           for v in value)):
            raise ValueError(f"pool_3d: {what} must be a triple of ints, got {value!r}")
        triples.append(tuple(int(v) for v in value))
    ws, stride, pad = triples
    if ignore_border is None:
        warnings.warn("pool_3d: ignore_border=None means False, as in Theano 1.0; pass it "
                      "explicitly", stacklevel=2)
        ignore_border = False
    if mode == "max_deterministic":
        mode = "max"
    from aotsym.graph.ops.elemwise import dimshuffle
    x = as_tensor_variable(input)
    if x.ndim < 3:
        raise TypeError(f"pool_3d: the input needs at least 3 dimensions (it pools the last "
                        f"three), got {x.type.describe()}")
    inner = Pool(ws[1:], ignore_border, stride[1:], pad[1:], mode)(x)
    lead, n = list(range(x.ndim - 3)), x.ndim
    moved = dimshuffle(inner, *lead, n - 2, n - 1, n - 3)
    outer = Pool((1, ws[0]), ignore_border, (1, stride[0]), (0, pad[0]), mode)(moved)
    return dimshuffle(outer, *lead, n - 1, n - 3, n - 2)


def max_pool_2d_same_size(input, patch_size):
    """Theano's ``max_pool_2d_same_size``: ``input`` with every element that is not the
    maximum of its (non-overlapping) patch set to 0."""
    x = as_tensor_variable(input)
    pooled = Pool(patch_size, True)(x)
    return MaxPoolGrad(patch_size, True)(x, pooled, pooled)
