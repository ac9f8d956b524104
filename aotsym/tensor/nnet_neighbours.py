"""``T.nnet.neighbours``: Theano's ``images2neibs`` and ``neibs2images`` (patches of images as
the rows of a matrix, and back).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Not ops of their own:
``images2neibs`` is an integer-array index of the (padded) images, ``x[:, :, R, C]`` with
``R[i, a] = i * step_r + a`` and ``C[j, b] = j * step_c + b`` broadcast to
``(N, C, rows of patches, columns of patches, nr, nc)``, reshaped to one patch a row in
Theano's order (image, channel, patch row, patch column); its gradient is the index's (the
patches' gradients summed back where they overlap).  ``neibs2images`` reshapes the rows back
(the inverse for patches that tile the image, Theano's supported case).

Modes (Theano's): ``valid`` (the patches must tile the image exactly: a run-time error
otherwise), ``ignore_borders`` (the rows and columns no patch reaches are left out),
``half`` and ``full`` (zeros padded first, ``n // 2`` and ``n - 1`` on each side; then as
``valid``, and the image must be at least a patch).
``wrap_centered`` is not implemented (an error says so).  ``neib_shape`` and ``neib_step``
must be constants.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable

__all__ = ["images2neibs", "neibs2images"]

MODES = ("valid", "ignore_borders", "half", "full")


def _pair(value, what):
    from aotsym.graph.basic import Constant
    from aotsym.graph.ops.shape import constant_value
    if isinstance(value, Constant):   # T.as_tensor_variable((2, 2)): a constant vector
        value = [int(v) for v in np.asarray(value.data).reshape(-1)]
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a pair of ints, got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{what} must be a pair of ints, got {value!r}")
    out = []
    for v in items:
        c = constant_value(as_tensor_variable(v))
        if c is None or int(c) != c or int(c) < 1:
            raise NotImplementedError(f"{what} must hold two positive constant ints, got "
                                      f"{value!r}")
        out.append(int(c))
    return tuple(out)


def images2neibs(ten4, neib_shape, neib_step=None, mode="valid"):
    """The ``neib_shape`` patches of the 4-d ``ten4`` (N, C, H, W), taken every
    ``neib_step`` (default: ``neib_shape``, patches side by side), as the rows of a matrix
    ``(N * C * patch rows * patch columns, nr * nc)``."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange, zeros
    from aotsym.graph.ops.shape import specify_shape
    from aotsym.graph.ops.subtensor import set_subtensor
    x = as_tensor_variable(ten4)
    if x.ndim != 4:
        raise TypeError(f"images2neibs: ten4 must be a 4-d tensor, got {x.type.describe()}")
    nr, nc = _pair(neib_shape, "images2neibs: neib_shape")
    sr, sc = (nr, nc) if neib_step is None else _pair(neib_step, "images2neibs: neib_step")
    if mode == "wrap_centered":
        raise NotImplementedError("images2neibs: mode='wrap_centered' is not implemented; "
                                  "use 'valid', 'ignore_borders', 'half' or 'full'")
    if mode not in MODES:
        raise ValueError(f"images2neibs: mode must be one of {', '.join(MODES)}, got "
                         f"{mode!r}")
    n, c, h, w = (x.shape[d] for d in range(4))
    where = f"images2neibs (neib_shape={(nr, nc)}, neib_step={(sr, sc)}, mode={mode!r}"
    if mode in ("half", "full"):
        # Theano's: the image itself must be at least a patch
        x = specify_shape(x, (n, c, m.maximum(h, np.int64(nr)), m.maximum(w, np.int64(nc))),
                          context=f"{where}: the image must be at least a patch)")
        pr, pc = (nr // 2, nc // 2) if mode == "half" else (nr - 1, nc - 1)
        padded = zeros((n, c, h + 2 * pr, w + 2 * pc), dtype=x.dtype)
        x = set_subtensor(padded[:, :, pr:pr + h, pc:pc + w], x)
        h, w = h + 2 * pr, w + 2 * pc
    gi = m.int_div(h - nr, np.int64(sr)) + 1
    gj = m.int_div(w - nc, np.int64(sc)) + 1
    if mode != "ignore_borders":   # Theano's: the patches must tile the (padded) image
        x = specify_shape(x, (n, c, (gi - 1) * sr + nr, (gj - 1) * sc + nc),
                          context=f"{where}: the patches must reach the last row and "
                                  "column; mode='ignore_borders' leaves the rest out)")
    rows = (arange(gi) * sr).dimshuffle(0, "x") + arange(nr).dimshuffle("x", 0)
    cols = (arange(gj) * sc).dimshuffle(0, "x") + arange(nc).dimshuffle("x", 0)
    patches = x[:, :, rows.dimshuffle(0, "x", 1, "x"), cols.dimshuffle("x", 0, "x", 1)]
    return patches.reshape((-1, nr * nc))


def neibs2images(neibs, neib_shape, original_shape, mode="valid"):
    """The images whose side-by-side patches (``images2neibs`` with the default step) are
    the rows of ``neibs``: a 4-d tensor of ``original_shape``.  ``ignore_borders``: the rows
    and columns the patches did not reach are zeros."""
    from aotsym.graph.ops.alloc import zeros
    from aotsym.graph.ops.subtensor import set_subtensor
    neibs = as_tensor_variable(neibs)
    if neibs.ndim != 2:
        raise TypeError(f"neibs2images: neibs must be a matrix, got {neibs.type.describe()}")
    nr, nc = _pair(neib_shape, "neibs2images: neib_shape")
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError(f"neibs2images: mode {mode!r} is not implemented (Theano's "
                                  "supports 'valid' and 'ignore_borders')")
    n, c, h, w = (as_tensor_variable(original_shape[d]) for d in range(4))
    gi, gj = h // nr, w // nc
    blocks = neibs.reshape((n, c, gi, gj, nr, nc)).dimshuffle(0, 1, 2, 4, 3, 5)
    image = blocks.reshape((n, c, gi * nr, gj * nc))
    if mode == "valid":
        from aotsym.graph.ops.shape import specify_shape
        return specify_shape(image, (n, c, h, w), context=(
            f"neibs2images (neib_shape={(nr, nc)}, mode='valid': the patches must tile "
            "original_shape)"))
    out = zeros((n, c, h, w), dtype=neibs.dtype)
    return set_subtensor(out[:, :, :gi * nr, :gj * nc], image)
