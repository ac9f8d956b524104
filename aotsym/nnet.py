"""``T.nnet``: Theano's neural-network namespace, aliases of :mod:`aotsym.tensor` functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).
"""

from aotsym.graph.ops.math import sigmoid, softplus  # noqa: F401


def __getattr__(name):
    from aotsym import tensor
    if name in ("softmax", "log_softmax", "binary_crossentropy", "categorical_crossentropy",
                "relu", "logsumexp"):
        return getattr(tensor, name)
    if name == "ultra_fast_sigmoid" or name == "hard_sigmoid":
        return sigmoid
    raise AttributeError(f"aotsym.tensor.nnet has no attribute {name!r}")
