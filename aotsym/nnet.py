"""``T.nnet``: Theano's neural-network namespace, aliases of :mod:`aotsym.tensor` functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).
"""

from aotsym.graph.ops.math import sigmoid, softplus  # noqa: F401


def __getattr__(name):
    from aotsym import tensor
    if name in ("softmax", "log_softmax", "binary_crossentropy", "categorical_crossentropy",
                "relu", "logsumexp"):
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
