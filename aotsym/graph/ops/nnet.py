"""Neural-network helpers: the ``Softmax`` and ``LogSoftmax`` ops and the builders
``softmax``, ``log_softmax``, ``logsumexp``, ``relu``, ``binary_crossentropy`` and
``categorical_crossentropy`` (``T.nnet.*`` resolves to these through ``aotsym/nnet.py``).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Softmax and log-softmax are
ops (not compositions) so their references — and later their kernels — are the numerically
stable forms: the maximum along ``axis`` is subtracted before exponentiating, so large inputs
never overflow.  ``axis`` is a normalized int, or None for all axes.  Integer inputs are
computed in ``upgrade_to_float`` of their dtype.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import dtype_kind, upgrade_to_float


def _stable_parts(x, axis):
    """(x - max, log(sum(exp(x - max)))) along ``axis``, keeping dims: NumPy's stable
    formula, so a row holding +inf is all nan (``inf - inf``), as in SciPy.  Only a maximum
    of -inf (a row of -inf) is replaced by 0; the result there is nan as in the formula."""
    if x.size == 0:
        return x, x
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        xmax = np.max(x, axis=axis, keepdims=True)
        xmax = np.where(xmax == -np.inf, 0, xmax)
        shifted = x - xmax
        log_norm = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted, log_norm


class _AxisOp(Op):
    __props__ = ("axis",)

    def __init__(self, axis=-1):
        if axis is not None and (not isinstance(axis, (int, np.integer)) or axis < 0):
            raise ValueError(f"{type(self).__name__}: axis must be normalized (a non-negative "
                             f"int or None), got {axis!r}")
        self.axis = None if axis is None else int(axis)

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}}}"

    def output_types(self, inputs):
        (x,) = inputs
        if dtype_kind(x.dtype) not in "f":
            raise TypeError(f"{self}: needs a float input, got {x.type.describe()}")
        if self.axis is not None and self.axis >= x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for a tensor of ndim "
                             f"{x.ndim}")
        return [x.type]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Softmax(_AxisOp):
    """``exp(x) / sum(exp(x), axis)``, computed as ``exp(x - max) / sum(exp(x - max))``."""

    def perform(self, node, inputs):
        (x,) = inputs
        shifted, log_norm = _stable_parts(x, self.axis)
        with np.errstate(invalid="ignore", over="ignore"):
            return [np.exp(shifted - log_norm).astype(x.dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.reduce import sum as tsum
        (sm,) = node.outputs
        (gz,) = output_grads
        return [(gz - tsum(gz * sm, axis=self.axis, keepdims=True)) * sm]


class LogSoftmax(_AxisOp):
    """``x - logsumexp(x, axis)``, stable."""

    def perform(self, node, inputs):
        (x,) = inputs
        shifted, log_norm = _stable_parts(x, self.axis)
        with np.errstate(invalid="ignore"):
            return [(shifted - log_norm).astype(x.dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.reduce import sum as tsum
        (lsm,) = node.outputs
        (gz,) = output_grads
        return [gz - m.exp(lsm) * tsum(gz, axis=self.axis, keepdims=True)]


def _float_input(x, what):
    from aotsym.graph.ops.math import cast
    x = as_tensor_variable(x)
    if dtype_kind(x.dtype) == "c":
        raise TypeError(f"{what}: complex inputs are not supported")
    if dtype_kind(x.dtype) != "f":
        x = cast(x, upgrade_to_float(x.dtype))
    return x


def _axis(axis, ndim, what):
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{what}: axis {axis!r} is out of range for a tensor of ndim {ndim}")
    return int(axis) % ndim if ndim else None


def softmax(x, axis=-1):
    """Softmax along ``axis`` (default the last; None: over all elements)."""
    x = _float_input(x, "softmax")
    return Softmax(_axis(axis, x.ndim, "softmax"))(x)


def log_softmax(x, axis=-1):
    """``log(softmax(x))``, computed stably."""
    x = _float_input(x, "log_softmax")
    return LogSoftmax(_axis(axis, x.ndim, "log_softmax"))(x)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x), axis))`` without overflow: the maximum is factored out."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import DimShuffle
    from aotsym.graph.ops.reduce import normalize_axis
    from aotsym.graph.ops.reduce import max as tmax
    from aotsym.graph.ops.reduce import sum as tsum
    x = _float_input(x, "logsumexp")
    axes = normalize_axis(axis, x.ndim)
    if not axes:
        return x
    xmax = tmax(x, axis=axes, keepdims=True)
    xmax = m.switch(m.isinf(xmax), 0, xmax)  # all -inf (or an inf) along the axis
    out = m.log(tsum(m.exp(x - xmax), axis=axes, keepdims=True)) + xmax
    if keepdims:
        return out
    order = [d for d in range(x.ndim) if d not in axes]
    return DimShuffle(out.broadcastable, order)(out)


def relu(x, alpha=0):
    """``max(x, 0)``; with ``alpha``, the leaky form ``x if x > 0 else alpha * x``.

    Theano's ``relu`` is an expression of its operand (``0.5 * (x + abs(x))`` when
    ``alpha`` is 0), so a NumPy array or number gives a NumPy value there, and code relies
    on it (Lasagne's ``rectify`` is this function and its tests apply it to arrays): so
    here too, for ``alpha == 0``.  Symbolic values get :class:`Relu`: the exact forward
    (no ``2 * x`` overflow) with Theano's gradient."""
    if (isinstance(x, (np.ndarray, np.generic, int, float)) and not isinstance(x, bool)
            and isinstance(alpha, (int, float)) and alpha == 0):
        return 0.5 * (x + abs(x))
    x = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        return Relu(x.type, float(alpha))(x)
    alpha = as_tensor_variable(alpha)
    return Relu(x.type, None, alpha.type)(x, alpha)


def _relu_op_from_graph():
    from aotsym.graph.ops.opfromgraph import OpFromGraph
    return OpFromGraph


class Relu(_relu_op_from_graph()):
    """``relu(x, alpha)`` with Theano's gradient ``gz * (f1 + f2 * sgn(x))``, ``f1 = (1 +
    alpha) / 2``, ``f2 = (1 - alpha) / 2``: the derivative of Theano's formula ``f1 * x + f2 *
    abs(x)``, which is ``f1`` (0.5 for the plain relu) where ``x`` is exactly 0 (a
    pre-activation of zero inputs and a zero bias; the body's own ``maximum`` / ``switch``
    would give 1 or ``alpha`` there, and training would part from Theano's).  The body is
    the exact forward, inlined by the optimizer like any ``OpFromGraph``::

        before: Relu{alpha}(x)      after: maximum(x, 0)  (alpha 0)
                                           switch(x > 0, x, alpha * x)  (else)

    ``alpha``: a Python number (a parameter of the op) or, with ``alpha_type``, None and a
    second input."""

    def __init__(self, x_type, alpha, alpha_type=None):
        from aotsym.graph.ops import math as m
        x = x_type("x")
        inputs = [x]
        if alpha is None:
            a = alpha_type("alpha")
            inputs.append(a)
        else:
            a = alpha
        if alpha is not None and alpha == 0:
            body = m.maximum(x, 0)
        else:
            body = m.switch(m.gt(x, 0), x, a * x)
            if body.dtype != x.dtype and alpha is not None:
                body = m.cast(body, x.dtype)
        super().__init__(inputs, [body], name="relu")
        self.alpha = alpha

    def __eq__(self, other):
        return (super().__eq__(other) and isinstance(other, Relu)
                and self.alpha == other.alpha)

    def __hash__(self):
        return hash((super().__hash__(), self.alpha))

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        x, (gz,) = inputs[0], output_grads
        alpha = self.alpha if self.alpha is not None else inputs[1]
        f1, f2 = 0.5 * (1 + alpha), 0.5 * (1 - alpha)
        gx = gz * (f1 + f2 * m.sgn(x))
        if self.alpha is not None:
            return [gx]
        return [gx, gz * 0.5 * (x - m.abs(x))]


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise."""
    from aotsym.graph.ops import math as m
    return -(target * m.log(output) + (1 - target) * m.log(1 - output))


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy of each distribution along the last axis of ``coding_dist``
    (probabilities) against ``true_dist``: either distributions of the same shape (one-hot
    or soft; any ndim), or integer class labels, one per row of a matrix or vector
    ``coding_dist`` (Theano's semantics)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.reduce import sum as tsum
    from aotsym.graph.ops.shape import shape_i
    from aotsym.graph.ops.subtensor import getitem
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim and coding_dist.ndim >= 1:
        # distributions along the last axis, whatever the ndim (Keras's sequence outputs
        # (batch, time, classes)), as in Theano
        return -tsum(true_dist * m.log(coding_dist), axis=-1)
    if coding_dist.ndim not in (1, 2):
        raise TypeError(f"categorical_crossentropy: with integer labels, coding_dist must be "
                        f"a matrix (one row per example) or a vector, got "
                        f"{coding_dist.type.describe()}")
    if true_dist.ndim == coding_dist.ndim - 1 and dtype_kind(true_dist.dtype) in "iu":
        # of a softmax: the entries of its log-softmax, so that a probability that
        # underflowed to 0 still gives a finite cost and gradient (Theano's
        # crossentropy_softmax_argmax_1hot rewrite)
        owner = coding_dist.owner
        if owner is not None and type(owner.op) is Softmax and owner.op.axis == \
                coding_dist.ndim - 1:
            log_p, log = LogSoftmax(owner.op.axis)(owner.inputs[0]), (lambda v: v)
        else:
            log_p, log = coding_dist, m.log
        if coding_dist.ndim == 1:
            return -log(getitem(log_p, true_dist))
        rows = arange(shape_i(coding_dist, 0))
        return -log(getitem(log_p, (rows, true_dist)))
    raise TypeError(
        f"categorical_crossentropy: true_dist must be {coding_dist.type.describe()}-shaped "
        f"distributions or integer labels of ndim {coding_dist.ndim - 1}, got "
        f"{true_dist.type.describe()}")

