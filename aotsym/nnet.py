"""``T.nnet``: Theano's neural-network namespace, aliases of :mod:`aotsym.tensor` functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).
"""

from aotsym.graph.ops.math import sigmoid, softplus  # noqa: F401
from aotsym.graph.ops.opfromgraph import OpFromGraph


def softmax(c, axis=None):
    """Theano 1.0's ``T.nnet.softmax``: along the last axis, and a vector ``c`` gives a
    ``(1, n)`` row, as Theano's op did.  With ``axis`` it is :func:`aotsym.tensor.softmax`
    (NumPy-style axes, a vector stays a vector)."""
    return _theano_axis_op("softmax", c, axis)


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
    if name in ("conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights"):
        from aotsym.graph.ops import conv
        return getattr(conv, name)
    if name in ("conv", "abstract_conv"):   # theano.tensor.nnet.conv(.conv2d), abstract_conv
        import importlib
        return importlib.import_module("aotsym.graph.ops.conv")
    if name == "bn":                       # theano.tensor.nnet.bn
        import importlib
        return importlib.import_module("aotsym.tensor.nnet_bn")
    if name == "ultra_fast_sigmoid" or name == "hard_sigmoid":
        return sigmoid
    raise AttributeError(f"aotsym.tensor.nnet has no attribute {name!r}")
