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
  axis 0; 'spatial': every axis but 1; or a tuple), returned as ``(out, mean, invstd)`` in
  the parameters' shape, plus the updated running averages when given (the variance's
  unbiased, ``m / (m - 1)``, as Theano's);
* ``batch_normalization_test(inputs, gamma, beta, mean, var, axes, epsilon)``:
  ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.

Parameters (``gamma``, ``beta``, the statistics) have the input's ndim, or one dimension per
non-normalized axis, put in place as Theano 1.0 does: ``gamma`` of shape ``(C,)`` with
``axes='spatial'`` on ``(N, C, H, W)`` runs along axis 1, and the statistics come back as
``(C,)``.  ``epsilon`` must be at least 1e-5 (ValueError), as in Theano.
"""

from __future__ import annotations

import numpy as np

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """``(inputs - mean) * (gamma / std) + beta`` (Theano's signature; see the module)."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', got "
                         f"{mode!r}")
    return (inputs - mean) * (gamma / std) + beta


def _axes(axes, ndim, what):
    """Theano's ``_prepare_batch_normalization_axes``: the sorted normalized axes and the
    others (those ``gamma``/``beta`` of fewer dimensions than the input run along)."""
    if axes == "per-activation":
        axes = (0,)
    elif axes == "spatial":
        axes = (0,) + tuple(range(2, ndim))
    elif isinstance(axes, (list, tuple, range)) and all(
            isinstance(a, (int, np.integer)) for a in axes):
        axes = tuple(sorted(int(a) for a in axes))
    else:
        raise ValueError(f"{what}: axes must be 'per-activation', 'spatial' or a tuple of "
                         f"ints, got {axes!r}")
    if not axes:
        raise ValueError(f"{what}: there should be at least one normalization axis")
    if min(axes) < 0 or max(axes) >= ndim:
        raise ValueError(f"{what}: axes should be less than ndim (<{ndim}), got {axes}")
    return axes, tuple(i for i in range(ndim) if i not in axes)


def _params(what, axes, non_bc, ndim, params, names):
    """Theano's parameter rule: ``gamma``, ``beta`` (and the statistics) have the input's
    ndim (broadcast along ``axes``) or one dimension per non-normalized axis, which are put
    in place: ``gamma`` of shape ``(C,)`` with ``axes=(0, 2, 3)`` runs along axis 1."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.tensor.basic import addbroadcast
    params = [as_tensor_variable(p) for p in params]
    full = params[0].ndim == ndim
    want = ndim if full else len(non_bc)
    for p, name in zip(params, names):
        if p.ndim != want:
            raise ValueError(f"{what}: {name} has {p.ndim} dimensions; gamma, beta and the "
                             f"statistics need the input's {ndim} or one per non-normalized "
                             f"axis ({len(non_bc)}), as gamma has")
    if full:
        return full, [addbroadcast(p, *axes) for p in params]
    pattern = ["x"] * ndim
    for i, axis in enumerate(non_bc):
        pattern[axis] = i
    return full, [dimshuffle(p, *pattern) for p in params]


def _epsilon(epsilon, what):
    from aotsym import config
    eps = np.asarray(epsilon, dtype=config.floatX)   # Theano checks it in floatX
    if eps < 1e-5:
        raise ValueError(f"{what}: epsilon must be at least 1e-5, got {epsilon}")
    return eps


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None,
                              running_var=None):
    """Normalize with the batch's statistics: ``(out, mean, invstd)``, and with
    ``running_mean`` / ``running_var`` also their updated values (see the module).  The
    statistics have the parameters' shape: the input's ndim (reduced axes broadcastable) or,
    for 1-per-axis parameters, the non-normalized axes only (Theano 1.0's rule)."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.reduce import mean as tmean
    from aotsym.graph.ops.shape import shape_i
    from aotsym.tensor.basic import patternbroadcast
    what = "batch_normalization_train"
    inputs = as_tensor_variable(inputs)
    axes, non_bc = _axes(axes, inputs.ndim, what)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{what}: give both running_mean and running_var, or neither")
    running = [] if running_mean is None else [running_mean, running_var]
    full, params = _params(what, axes, non_bc, inputs.ndim, [gamma, beta] + running,
                           ["gamma", "beta", "running_mean", "running_var"])
    gamma, beta = params[:2]
    epsilon = _epsilon(epsilon, what)
    mean = tmean(inputs, axis=axes, keepdims=True)
    var = tmean(m.sqr(inputs - mean), axis=axes, keepdims=True)
    invstd = m.reciprocal(m.sqrt(var + epsilon))
    out = (inputs - mean) * (gamma * invstd) + beta
    results = [mean, invstd]
    if running:
        running_mean, running_var = params[2:]
        count = m.cast(m.mul(*[shape_i(inputs, a) for a in axes]), var.dtype)
        f = running_average_factor
        new_mean = running_mean * (1 - f) + mean * f
        new_var = running_var * (1 - f) + var * (count / m.maximum(count - 1, 1)) * f
        results += [patternbroadcast(new_mean, running_mean.broadcastable),
                    patternbroadcast(new_var, running_var.broadcastable)]
    if not full:   # back to the parameters' own dimensions
        results = [dimshuffle(r, *non_bc) for r in results]
    return (out, *results)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation",
                             epsilon=1e-4):
    """Normalize with given statistics: ``(inputs - mean) * gamma / sqrt(var + epsilon) +
    beta``, the parameters put along the non-normalized axes as in
    :func:`batch_normalization_train`."""
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    what = "batch_normalization_test"
    inputs = as_tensor_variable(inputs)
    axes, non_bc = _axes(axes, inputs.ndim, what)
    _, (gamma, beta, mean, var) = _params(what, axes, non_bc, inputs.ndim,
                                          [gamma, beta, mean, var],
                                          ["gamma", "beta", "mean", "var"])
    epsilon = _epsilon(epsilon, what)
    return (inputs - mean) * gamma / m.sqrt(var + epsilon) + beta
