"""``T.nnet``: Theano's neural-network namespace, aliases of :mod:`aotsym.tensor` functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).
"""

from aotsym.graph.ops.math import sigmoid, softplus  # noqa: F401


def softmax(c, axis=None):
    """Theano 1.0's ``T.nnet.softmax``: along the last axis, and a vector ``c`` gives a
    ``(1, n)`` row, as Theano's op did.  With ``axis`` it is :func:`aotsym.tensor.softmax`
    (NumPy-style axes, a vector stays a vector)."""
    return _theano_axis_op("softmax", c, axis)


def log_softmax(c, axis=None):
    """``log(softmax(c))``, stable, with :func:`softmax`'s shapes."""
    return _theano_axis_op("log_softmax", c, axis)


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
    if name == "ultra_fast_sigmoid" or name == "hard_sigmoid":
        return sigmoid
    raise AttributeError(f"aotsym.tensor.nnet has no attribute {name!r}")
