"""``T.nnet``: Theano's neural-network namespace, aliases of :mod:`aotsym.tensor` functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).
"""

from aotsym.graph.ops.math import sigmoid, softplus  # noqa: F401
from aotsym.graph.ops.opfromgraph import OpFromGraph

# Theano's ``theano.tensor.nnet`` is a package.  An (empty) ``__path__`` lets the import system
# treat this module as one, so that ``import <alias>.tensor.nnet.conv`` under a renaming of
# the package reaches the submodules :mod:`aotsym.tensor.nnet` registers in ``sys.modules``
# (without it Python stops at "'...nnet' is not a package").
__path__ = []


def softmax(c, axis=None):
    """Theano 1.0's ``T.nnet.softmax``: along the last axis, and a vector ``c`` gives a
    ``(1, n)`` row, as Theano's op did.  With ``axis`` it is :func:`aotsym.tensor.softmax`
    (NumPy-style axes, a vector stays a vector)."""
    return _theano_axis_op("softmax", c, axis)


def softmax_graph(c):
    """Theano's ``softmax_graph``: the softmax along the last axis as a graph of ``exp`` and
    ``sum``, ``exp(c) / exp(c).sum(axis=-1, keepdims=True)`` (no max subtracted, as Theano's:
    it overflows where ``exp`` does, unless the optimizer stabilizes it); a vector stays a
    vector."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops.math import exp
    e = exp(as_tensor_variable(c))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(c, axis=None):
    """``log(softmax(c))``, stable, with :func:`softmax`'s shapes."""
    return _theano_axis_op("log_softmax", c, axis)


logsoftmax = log_softmax   # Theano's other spelling

# SELU's constants (Klambauer et al. 2017), as Theano 1.0's selu.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def elu(x, alpha=1):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    x = as_tensor_variable(x)
    return m.switch(m.gt(x, 0), x, alpha * m.expm1(x))


def selu(x):
    """Scaled ELU: ``SELU_SCALE * elu(x, SELU_ALPHA)``."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def softsign(x):
    """``x / (1 + abs(x))``."""
    from aotsym.graph.ops import math as m
    return x / (1 + m.abs(x))


def sigmoid_binary_crossentropy(output, target):
    """``binary_crossentropy(sigmoid(output), target)`` from the logits ``output``, stable:
    ``softplus(-abs(output)) + output * ((output > 0) - target)`` (Theano 1.0's form), with
    Theano's gradient ``(sigmoid(output) - target, -output)`` (the formula's own gradient is
    wrong at ``output == 0``, where ``abs`` has a kink): an ``OpFromGraph`` with that
    gradient, inlined by the optimizer like any other."""
    from aotsym.graph.convert import as_tensor_variable
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return SigmoidBinaryCrossentropy(output.type, target.type)(output, target)


class SigmoidBinaryCrossentropy(OpFromGraph):
    """The stable formula of :func:`sigmoid_binary_crossentropy` with Theano's gradient."""

    def __init__(self, output_type, target_type):
        from aotsym.graph.ops import math as m
        o, t = output_type("output"), target_type("target")
        positive = m.cast(m.gt(o, 0), o.dtype)
        super().__init__([o, t], [m.softplus(-m.abs(o)) + o * (positive - t)],
                         name="sigmoid_binary_crossentropy")

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        (o, t), (gz,) = inputs, output_grads
        return [gz * (m.sigmoid(o) - t), gz * -o]


def hard_sigmoid(x):
    """Theano's ``T.nnet.hard_sigmoid``: ``clip(0.2 * x + 0.5, 0, 1)``, computed in the
    float dtype of ``x`` (integers upgraded); its gradient is that of the formula (0 where
    the clip holds)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.types import upgrade_to_float
    x = as_tensor_variable(x)
    dtype = upgrade_to_float(x.dtype)
    return m.clip(x * _const(0.2, dtype) + _const(0.5, dtype), _const(0, dtype),
                  _const(1, dtype))


def _const(value, dtype):
    from aotsym.graph.convert import as_tensor_variable
    import numpy as np
    return as_tensor_variable(np.asarray(value, dtype=dtype))


# Theano's UltraFastScalarSigmoid: a piecewise approximation of tanh(t), t = x / 2.
_ULTRA_FAST_BREAKS = (1.7, 3.0)
_ULTRA_FAST_LINEAR = (0.935409070603099, 0.0458812946797165)
_ULTRA_FAST_TOP = 0.99505475368673


def ultra_fast_sigmoid(x):
    """Theano's ``T.nnet.ultra_fast_sigmoid``: its piecewise approximation of ``sigmoid``
    (``0.5 * z + 0.5``, ``z`` rational, then linear, then constant in ``|x| / 2``; a NaN
    gives Theano's ``0.0025``) with Theano's gradient ``gz * y * (1 - y)`` of the output
    ``y``: an ``OpFromGraph``, inlined by the optimizer."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.types import upgrade_to_float
    x = as_tensor_variable(x)
    dtype = upgrade_to_float(x.dtype)
    if x.dtype != dtype:
        x = m.cast(x, dtype)
    return UltraFastSigmoid(x.type)(x)


class UltraFastSigmoid(OpFromGraph):
    """The piecewise formula of :func:`ultra_fast_sigmoid` with Theano's gradient."""

    def __init__(self, x_type):
        from aotsym.graph.ops import math as m
        x = x_type("x")
        c = lambda v: _const(v, x.dtype)   # noqa: E731
        t = x * c(0.5)
        positive = m.ge(t, c(0))
        a = m.switch(positive, t, -t)   # |t|, and NaN stays NaN (then the constant branch)
        z = m.switch(m.lt(a, c(_ULTRA_FAST_BREAKS[0])), c(1.5) * a / (c(1) + a),
                     m.switch(m.lt(a, c(_ULTRA_FAST_BREAKS[1])),
                              c(_ULTRA_FAST_LINEAR[0])
                              + c(_ULTRA_FAST_LINEAR[1]) * (a - c(_ULTRA_FAST_BREAKS[0])),
                              c(_ULTRA_FAST_TOP)))
        z = m.switch(positive, z, -z)
        super().__init__([x], [c(0.5) * z + c(0.5)], name="ultra_fast_sigmoid")

    def grad(self, node, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        y = self(x)
        return [gz * y * (1 - y)]


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """``-log(coding_dist[i, true_one_of_n[i]])`` for each row ``i`` (integer labels)."""
    from aotsym.graph.ops.nnet import categorical_crossentropy
    return categorical_crossentropy(coding_dist, true_one_of_n)


def crossentropy_softmax_1hot(x, y_idx):
    """``(nll, softmax(x))``: the negative log-likelihood of label ``y_idx[i]`` under the
    softmax of row ``i`` of ``x`` (computed from the stable log-softmax), and the softmax."""
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.shape import shape_i
    from aotsym.graph.ops.subtensor import getitem
    lsm = log_softmax(x)
    nll = -getitem(lsm, (arange(shape_i(lsm, 0)), y_idx))
    return nll, softmax(x)


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """:func:`crossentropy_softmax_1hot` of ``x + b``."""
    return crossentropy_softmax_1hot(x + b, y_idx)


softmax_op = softmax          # Theano's op instances, callable as the functions
logsoftmax_op = log_softmax


def softmax_with_bias(x, b):
    """``softmax(x + b)`` for a matrix ``x`` and a bias vector ``b`` (Theano's)."""
    return softmax(x + b)


def softmax_grad(dy, sm):
    """Theano's ``softmax_grad(dy, sm)``: the gradient through a softmax ``sm`` (along the
    last axis) of the output gradient ``dy``, ``(dy - sum(dy * sm)) * sm``."""
    prod = dy * sm
    return prod - prod.sum(axis=-1, keepdims=True) * sm


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """``(nll, softmax(x + b), argmax(x + b, axis=1))`` (Theano's)."""
    from aotsym.graph.ops.reduce import argmax
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, argmax(x + b, axis=1)


def crossentropy_softmax_1hot_with_bias_dx(dy, sm, y_idx):
    """The gradient of :func:`crossentropy_softmax_1hot_with_bias` with respect to ``x``:
    ``dy[i] * (sm[i] - onehot(y_idx[i]))`` (Theano's)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.subtensor import getitem, inc_subtensor
    dy, sm, y_idx = (as_tensor_variable(v) for v in (dy, sm, y_idx))
    dx = dy.dimshuffle(0, "x") * sm
    return inc_subtensor(getitem(dx, (arange(sm.shape[0]), y_idx)), -dy)


def h_softmax(x, batch_size, n_outputs, n_classes, n_outputs_per_class, W1, b1, W2, b2,
              target=None):
    """Theano's two-level hierarchical softmax: the probabilities of all ``n_outputs``
    outputs (``target=None``: shape ``(batch_size, n_outputs)``), or of each row's
    ``target`` (shape ``(batch_size,)``), outputs grouped in ``n_classes`` classes of
    ``n_outputs_per_class``."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.blas import batched_dot, dot, tensordot
    x, W1, b1, W2, b2 = (as_tensor_variable(v) for v in (x, W1, b1, W2, b2))
    class_probs = softmax(dot(x, W1) + b1)
    if target is None:
        activations = tensordot(x, W2, (1, 1)) + b2
        output_probs = softmax(activations.reshape((-1, n_outputs_per_class)))
        output_probs = output_probs.reshape((batch_size, n_classes, -1))
        output_probs = class_probs.dimshuffle(0, 1, "x") * output_probs
        return output_probs.reshape((batch_size, -1))[:, :n_outputs]
    target = as_tensor_variable(target).flatten()
    target_classes = target // n_outputs_per_class
    target_outputs_in_class = target % n_outputs_per_class
    # Theano's sparse_block_dot: row i times its class's block of W2, plus its bias
    activations = batched_dot(x, W2[target_classes]) + b2[target_classes]
    output_probs = softmax(activations)
    rows = arange(batch_size)
    return class_probs[rows, target_classes] * output_probs[rows, target_outputs_in_class]


def confusion_matrix(actual, pred):
    """``[conf_mat, order]``: ``conf_mat[i, j]`` counts the entries with actual label
    ``order[i]`` predicted as ``order[j]``; ``order`` the sorted labels of both (Theano's)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.blas import dot
    from aotsym.graph.ops.join import concatenate
    from aotsym.tensor.extra_ops import Unique
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    if actual.ndim != 1:
        raise ValueError("confusion_matrix: actual must be a vector")
    if pred.ndim != 1:
        raise ValueError("confusion_matrix: pred must be a vector")
    order = Unique(False, False, False)(concatenate([actual, pred]))
    one_hot_a = m.cast(m.eq(actual.dimshuffle(0, "x"), order), "int64")
    one_hot_p = m.cast(m.eq(pred.dimshuffle(0, "x"), order), "int64")
    return [dot(one_hot_a.T, one_hot_p), order]


def _theano_axis_op(name, c, axis):
    from aotsym import tensor
    from aotsym.graph.convert import as_tensor_variable
    fn = getattr(tensor, name)
    if axis is not None:
        return fn(c, axis=axis)
    c = as_tensor_variable(c)
    return fn(c.dimshuffle("x", 0) if c.ndim == 1 else c, axis=-1)


def __getattr__(name):
    from aotsym import tensor
    if name in ("binary_crossentropy", "categorical_crossentropy", "relu", "logsumexp"):
        return getattr(tensor, name)
    if name in ("conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights",
                "conv2d_transpose"):
        from aotsym.graph.ops import conv
        return getattr(conv, name)
    if name == "conv3d":
        from aotsym.graph.ops.conv3d import conv3d
        return conv3d
    if name in ("conv", "abstract_conv"):   # theano.tensor.nnet.conv(.conv2d), abstract_conv
        import importlib
        return importlib.import_module("aotsym.graph.ops.conv")
    if name == "bn":                       # theano.tensor.nnet.bn
        import importlib
        return importlib.import_module("aotsym.tensor.nnet_bn")
    if name in ("neighbours", "images2neibs", "neibs2images"):   # theano.tensor.nnet.neighbours
        import importlib
        module = importlib.import_module("aotsym.tensor.nnet_neighbours")
        return module if name == "neighbours" else getattr(module, name)
    raise AttributeError(f"aotsym.tensor.nnet has no attribute {name!r}")
