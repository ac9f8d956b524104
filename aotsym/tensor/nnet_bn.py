"""``T.nnet.bn``: Theano's batch normalization (``theano.tensor.nnet.bn``), composed from
elementwise ops and reductions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Nothing here is an
op: the optimizer fuses each formula into one elementwise kernel (and the statistics into
reductions), and gradients come from the pieces.

* ``batch_normalization(inputs, gamma, beta, mean, std, mode)``:
  ``(inputs - mean) * (gamma / std) + beta``; ``mode`` ('low_mem' / 'high_mem') only chose
  the memory strategy of Theano's graph, the values are the same;
* ``batch_normalization_train(inputs, gamma, beta, axes, epsilon, running_average_factor,
  running_mean, running_var)``: the statistics of the batch over ``axes`` ('per-activation':
  axis 0; 'spatial': every axis but 1; or a tuple), returned as ``(out, mean, invstd)`` with
  the reduced axes kept (broadcastable), plus the updated running averages when given (the
  variance's unbiased, ``m / (m - 1)``, as Theano's);
* ``batch_normalization_test(inputs, gamma, beta, mean, var, axes, epsilon)``:
  ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.
"""

from __future__ import annotations

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """``(inputs - mean) * (gamma / std) + beta`` (Theano's signature; see the module)."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', got "
                         f"{mode!r}")
    return (inputs - mean) * (gamma / std) + beta


def _axes(axes, ndim, what):
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    if isinstance(axes, (list, tuple)) and all(isinstance(a, int) for a in axes):
        return tuple(sorted(int(a) % ndim for a in axes))
    raise ValueError(f"{what}: axes must be 'per-activation', 'spatial' or a tuple of ints, "
                     f"got {axes!r}")


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None,
                              running_var=None):
    """Normalize with the batch's statistics: ``(out, mean, invstd)``, and with
    ``running_mean`` / ``running_var`` also their updated values (see the module)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.reduce import mean as tmean
    from aotsym.graph.ops.shape import shape_i
    inputs = as_tensor_variable(inputs)
    axes = _axes(axes, inputs.ndim, "batch_normalization_train")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_normalization_train: give both running_mean and running_var, "
                         "or neither")
    mean = tmean(inputs, axis=axes, keepdims=True)
    var = tmean(m.sqr(inputs - mean), axis=axes, keepdims=True)
    invstd = m.reciprocal(m.sqrt(var + epsilon))
    out = (inputs - mean) * gamma * invstd + beta
    if running_mean is None:
        return out, mean, invstd
    count = m.cast(m.mul(*[shape_i(inputs, a) for a in axes]), var.dtype)
    f = running_average_factor
    new_mean = running_mean * (1 - f) + mean * f
    new_var = running_var * (1 - f) + var * (count / m.maximum(count - 1, 1)) * f
    return out, mean, invstd, new_mean, new_var


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation",
                             epsilon=1e-4):
    """Normalize with given statistics: ``(inputs - mean) * gamma / sqrt(var + epsilon) +
    beta`` (``axes`` is checked, as Theano's, and otherwise plays no part)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    inputs = as_tensor_variable(inputs)
    _axes(axes, inputs.ndim, "batch_normalization_test")
    return (inputs - mean) * gamma / m.sqrt(var + epsilon) + beta
