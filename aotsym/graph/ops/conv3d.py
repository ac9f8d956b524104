"""3-D convolution, ``T.nnet.conv3d`` (Theano 1.0's signature), built on the 2-D one.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  No new op: the depth axis
is unfolded into the channels and one :class:`~aotsym.graph.ops.conv.AbstractConv2d` does
the rest (rows and columns, their padding, strides, dilation, flip and groups), so the C
kernel, the gradients and the shape checks are conv2d's::

    input (N, C, D, H, W), filters (F, C/g, kd, kh, kw), depth padding p, stride s, dilation d
    taps  = arange(Dout)[:, None] * s + arange(kd)[None, :] * d        (Dout, kd)
    cols  = pad_depth(input)[:, :, taps]                               (N, C, Dout, kd, H, W)
            -> (N * Dout, C * kd, H, W)         (channel c * kd + k: groups stay contiguous)
    bank  = filters (depth reversed when filter_flip) -> (F, C/g * kd, kh, kw)
    out   = conv2d(cols, bank, rows/cols parameters) -> (N, Dout, F, Ho, Wo)
            -> (N, F, Dout, Ho, Wo)

Layouts, parameters and output lengths are Theano's (see :mod:`aotsym.graph.ops.conv`):
``border_mode`` 'valid' / 'full' / 'half' / an int / a triple; ``subsample`` and
``filter_dilation`` triples; ``filter_flip`` True flips all three spatial axes.  The depth
window is a gather of the input (``kd`` copies of it, as an im2col would).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.ops.conv import BORDER_MODES, _float_operands, _hinted, conv2d


def _triple(value, what, minimum):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,) * 3
    if (not isinstance(value, (tuple, list)) or len(value) != 3
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in value)):
        raise ValueError(f"conv3d: {what} must be a triple of ints, got {value!r}")
    value = tuple(int(v) for v in value)
    if min(value) < minimum:
        raise ValueError(f"conv3d: {what} must be >= {minimum}, got {value!r}")
    return value


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1):
    """Theano 1.0's ``T.nnet.conv3d``: NCDHW input, (F, C/groups, kd, kh, kw) filters (see
    the module docstring)."""
    from aotsym.graph.ops.alloc import arange, zeros
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.reshape import reshape
    from aotsym.graph.ops.shape import shape_i
    from aotsym.graph.ops.subtensor import set_subtensor

    x, w = _float_operands(input, filters, ndim=5)
    x, w = (_hinted(x, input_shape, "input_shape", ndim=5),
            _hinted(w, filter_shape, "filter_shape", ndim=5))
    subsample = _triple(subsample, "subsample", 1)
    dilation = _triple(filter_dilation, "filter_dilation", 1)
    if isinstance(border_mode, str):
        if border_mode not in BORDER_MODES:
            raise ValueError(f"conv3d: border_mode must be 'valid', 'full', 'half', an int "
                             f"or a triple of ints, got {border_mode!r}")
        mode2d = border_mode
    else:
        pads = _triple(border_mode, "border_mode (the padding)", 0)
        border_mode, mode2d = pads[0], pads[1:]

    n, c, depth = shape_i(x, 0), shape_i(x, 1), shape_i(x, 2)
    f, cg, kd = shape_i(w, 0), shape_i(w, 1), shape_i(w, 2)
    sd, dd = subsample[0], dilation[0]
    if border_mode == "valid":
        pad = 0
    elif border_mode == "full":
        pad = dd * (kd - 1)
    elif border_mode == "half":
        pad = dd * (kd // 2)
    else:
        pad = border_mode
    if not (isinstance(pad, int) and pad == 0):
        padded = zeros([n, c, depth + 2 * pad, shape_i(x, 3), shape_i(x, 4)], dtype=x.dtype)
        x = set_subtensor(padded[:, :, pad:pad + depth], x)
        depth = depth + 2 * pad
    out_depth = (depth - dd * (kd - 1) - 1) // sd + 1
    taps = (dimshuffle(arange(out_depth) * sd, 0, "x")
            + dimshuffle(arange(kd) * dd, "x", 0))                      # (Dout, kd)
    cols = dimshuffle(x[:, :, taps], 0, 2, 1, 3, 4, 5)                 # (N, Dout, C, kd, H, W)
    cols = reshape(cols, [n * out_depth, c * kd, shape_i(x, 3), shape_i(x, 4)], ndim=4)
    if filter_flip:
        w = w[:, :, ::-1]
    bank = reshape(w, [f, cg * kd, shape_i(w, 3), shape_i(w, 4)], ndim=4)
    out = conv2d(cols, bank, border_mode=mode2d, subsample=subsample[1:],
                 filter_flip=filter_flip, filter_dilation=dilation[1:], num_groups=num_groups)
    out = reshape(out, [n, out_depth, f, shape_i(out, 2), shape_i(out, 3)], ndim=5)
    return dimshuffle(out, 0, 2, 1, 3, 4)
