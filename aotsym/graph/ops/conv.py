"""2-D convolution: ``AbstractConv2d`` and its two gradients, ``AbstractConv2d_gradInputs``
and ``AbstractConv2d_gradWeights`` (Theano 1.0's names), and the builder ``conv2d``
(``T.nnet.conv2d``, ``T.nnet.conv.conv2d``).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Layouts are Theano's: the
input is NCHW ``(batch, channels, rows, cols)``, the filters ``(out_channels,
in_channels // num_groups, rows, cols)``.  The op parameters are static:

``border_mode``
    ``'valid'``, ``'full'``, ``'half'`` or a pair of non-negative ints (zero padding of the
    rows and the columns); ``'full'`` pads by ``dilation * (k - 1)``, ``'half'`` by
    ``dilation * (k // 2)``, so those two depend on the filters' shape at run time;
``subsample``
    the strides; ``filter_dilation``: the distance between filter taps;
``filter_flip``
    True: a true convolution (the filters are flipped in both spatial axes); False: a
    cross-correlation;
``num_groups``
    grouped convolution: the channels are split in ``num_groups`` consecutive groups, each
    convolved with its own ``out_channels // num_groups`` filters.

Output length along an axis of input length ``n``, padding ``p``, filter length ``k``,
dilation ``d`` and stride ``s``: ``(n + 2p - d(k-1) - 1) // s + 1``; the dilated filter must
fit in the padded input (``n + 2p >= d(k-1) + 1``), else a ValueError.

The gradient ops take the spatial shape they produce as two int64 scalars (the input's
rows/cols for ``gradInputs``, the filters' for ``gradWeights``): with strides, the input's
shape is not recoverable from the output's.  Theano's spelling works too: the ops accept
the shape hints ``imshp=`` / ``kshp=`` (ignored: shapes are read at run time) and are called
``op(filters, output_grad, (rows, cols))`` with the pair as one argument (Lasagne's
transposed and dilated convolution layers build them so).  All three are bilinear, so
each one's gradient is built from the other two (second derivatives through conv come for
free).
"""

from __future__ import annotations

import warnings

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind, upcast, upgrade_to_float

BORDER_MODES = ("valid", "full", "half")


# ---------------------------------------------------------------------------- parameters

def _pair(value, what, minimum):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in value)):
        raise ValueError(f"conv2d: {what} must be a pair of ints, got {value!r}")
    value = tuple(int(v) for v in value)
    if min(value) < minimum:
        raise ValueError(f"conv2d: {what} must be >= {minimum}, got {value!r}")
    return value


def normalize_border_mode(border_mode):
    """``'valid'``/``'full'``/``'half'`` or a pair of non-negative ints (an int: both)."""
    if isinstance(border_mode, str):
        if border_mode not in BORDER_MODES:
            raise ValueError(f"conv2d: border_mode must be 'valid', 'full', 'half', an int or "
                             f"a pair of ints, got {border_mode!r}")
        return border_mode
    pads = _pair(border_mode, "border_mode (the padding)", 0)
    return "valid" if pads == (0, 0) else pads


def paddings(border_mode, kshape, dilation):
    """The (rows, cols) zero padding for filters of spatial shape ``kshape``."""
    if border_mode == "valid":
        return (0, 0)
    if border_mode == "full":
        return tuple(d * (k - 1) for k, d in zip(kshape, dilation))
    if border_mode == "half":
        return tuple(d * (k // 2) for k, d in zip(kshape, dilation))
    return tuple(border_mode)


def output_length(n, k, pad, dilation, stride):
    """The output length along one axis (see the module docstring)."""
    return (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1


class _ConvBase(Op):
    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation", "num_groups")

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip=True,
                 filter_dilation=(1, 1), num_groups=1, *, imshp=None, kshp=None,
                 unshared=False):
        # imshp / kshp: Theano's optional shape hints (the ops read shapes at run time)
        if unshared:
            raise NotImplementedError(f"{type(self).__name__}: unshared convolution is not "
                                      f"supported")
        self.border_mode = normalize_border_mode(border_mode)
        self.subsample = _pair(subsample, "subsample", 1)
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _pair(filter_dilation, "filter_dilation", 1)
        if not isinstance(num_groups, (int, np.integer)) or num_groups < 1:
            raise ValueError(f"conv2d: num_groups must be a positive int, got {num_groups!r}")
        self.num_groups = int(num_groups)

    def __str__(self):
        return (f"{type(self).__name__}{{{self.border_mode}, s={self.subsample}, "
                f"d={self.filter_dilation}, flip={self.filter_flip}, g={self.num_groups}}}")

    def params(self):
        return dict(border_mode=self.border_mode, subsample=self.subsample,
                    filter_flip=self.filter_flip, filter_dilation=self.filter_dilation,
                    num_groups=self.num_groups)

    # ------------------------------------------------------------------ run-time geometry
    def geometry(self, xshape, kshape):
        """Check shapes; return (pads, (out_rows, out_cols)).  ``xshape``: the input's
        (N, C, H, W); ``kshape``: the filters' (O, C/g, kh, kw)."""
        name = type(self).__name__
        g = self.num_groups
        n, c, h, w = xshape
        o, cg, kh, kw = kshape
        if c != cg * g:
            raise ValueError(
                f"{name}: the input has {c} channels (shape {tuple(xshape)}) but the filters "
                f"of shape {tuple(kshape)} expect {cg * g} ({cg} per group x num_groups={g})")
        if o % g:
            raise ValueError(f"{name}: {o} filters (shape {tuple(kshape)}) do not split into "
                             f"num_groups={g} groups")
        pads = paddings(self.border_mode, (kh, kw), self.filter_dilation)
        out = []
        for axis, (length, k, p, d, s) in enumerate(zip((h, w), (kh, kw), pads,
                                                        self.filter_dilation, self.subsample)):
            if length + 2 * p < d * (k - 1) + 1:
                raise ValueError(
                    f"{name}: the filters (shape {tuple(kshape)}, dilation "
                    f"{self.filter_dilation}) are larger than the padded input (shape "
                    f"{tuple(xshape)}, padding {pads}) along axis {axis + 2}")
            out.append(output_length(length, k, p, d, s))
        return pads, tuple(out)

    def _windows(self, pads, oshape, kshape):
        """(a, b, row slice, col slice) of each filter tap into the padded input: the
        window of the padded input that tap (a, b) of the (unflipped) filter reads."""
        (dh, dw), (sh, sw) = self.filter_dilation, self.subsample
        oh, ow = oshape
        for a in range(kshape[0]):
            for b in range(kshape[1]):
                yield (a, b, slice(a * dh, a * dh + sh * (oh - 1) + 1, sh),
                       slice(b * dw, b * dw + sw * (ow - 1) + 1, sw))

    def _length(self, n, k, axis):
        """The symbolic output length along spatial ``axis`` (int64 scalars n, k)."""
        d, s = self.filter_dilation[axis], self.subsample[axis]
        if self.border_mode == "full":
            pad2 = 2 * d * (k - 1)
        elif self.border_mode == "half":
            pad2 = 2 * d * (k // 2)
        else:
            pad2 = 2 * paddings(self.border_mode, (1, 1), (d, d))[axis]
        return (n + pad2 - d * (k - 1) - 1) // s + 1

    def _effective(self, w):
        return w[:, :, ::-1, ::-1] if self.filter_flip else w

    def _check_floats(self, inputs, names):
        for v, what in zip(inputs, names):
            if v.ndim != 4 or dtype_kind(v.dtype) != "f":
                raise TypeError(f"{type(self).__name__}: {what} must be a float tensor4, got "
                                f"{v.type.describe()}")
        if len({v.dtype for v in inputs}) != 1:
            raise TypeError(f"{type(self).__name__}: operands of one dtype expected, got "
                            f"{', '.join(v.dtype for v in inputs)}")


def _grouped(x, g):
    n, c = x.shape[:2]
    return x.reshape((n, g, c // g) + x.shape[2:])


def _int_scalars(values, what):
    from aotsym.graph.ops.shape import as_int_scalar
    return [as_int_scalar(v, f"{what} {i}") for i, v in enumerate(values)]


def _spatial(rows, cols, what):
    """The two int64 scalars of a spatial shape given as ``rows, cols`` or, Theano's
    spelling ``op(filters, output_grad, shape)``, as one pair (a tuple, a list or an
    integer vector variable of length 2)."""
    if cols is not None:
        return _int_scalars((rows, cols), what)
    from aotsym.graph.basic import Variable
    if isinstance(rows, Variable) or hasattr(rows, "__aotsym_variable__"):
        from aotsym.graph.ops.subtensor import getitem
        vec = as_tensor_variable(rows)
        if vec.ndim != 1:
            raise TypeError(f"{what}: a vector of 2 lengths expected, got "
                            f"{vec.type.describe()}")
        return _int_scalars((getitem(vec, 0), getitem(vec, 1)), what)
    pair = list(rows)
    if len(pair) != 2:
        raise ValueError(f"{what}: 2 lengths (rows, cols) expected, got {rows!r}")
    return _int_scalars(pair, what)


class AbstractConv2d(_ConvBase):
    """``out[n, o] = sum_c input[n, c] (*) filters[o, c]`` per group (see the module)."""

    def make_node_inputs(self, x, w):
        return (as_tensor_variable(x), as_tensor_variable(w))

    def output_types(self, inputs):
        self._check_floats(inputs, ("the input", "the filters"))
        x, w = inputs
        return [TensorType(x.dtype, (x.broadcastable[0], w.broadcastable[0], False, False))]

    def perform(self, node, inputs):
        x, w = inputs
        pads, (oh, ow) = self.geometry(x.shape, w.shape)
        g = self.num_groups
        n, o = x.shape[0], w.shape[0]
        out = np.zeros((n, g, o // g, oh, ow), dtype=x.dtype)
        if out.size and x.size and w.size:
            xp = _grouped(np.pad(x, ((0, 0), (0, 0), (pads[0],) * 2, (pads[1],) * 2)), g)
            we = self._effective(w)
            wg = we.reshape((g, o // g) + we.shape[1:])
            with np.errstate(all="ignore"):
                for a, b, rows, cols in self._windows(pads, (oh, ow), w.shape[2:]):
                    out += np.einsum("ngcij,goc->ngoij", xp[..., rows, cols], wg[..., a, b])
        return [out.reshape((n, o, oh, ow))]

    def infer_shape(self, node, input_shapes):
        (n, _, h, w), (o, _, kh, kw) = input_shapes
        return [(n, o, self._length(h, kh, 0), self._length(w, kw, 1))]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.shape import shape_i
        x, w = inputs
        (gz,) = output_grads
        p = self.params()
        gx = AbstractConv2d_gradInputs(**p)(w, gz, shape_i(x, 2), shape_i(x, 3))
        gw = AbstractConv2d_gradWeights(**p)(x, gz, shape_i(w, 2), shape_i(w, 3))
        return [gx, gw]


class AbstractConv2d_gradInputs(_ConvBase):
    """The gradient of ``AbstractConv2d`` w.r.t. its input: inputs ``(filters, output_grad,
    rows, cols)`` (the input's spatial shape), output of the input's shape."""

    def make_node_inputs(self, w, gz, rows, cols=None):
        return (as_tensor_variable(w), as_tensor_variable(gz),
                *_spatial(rows, cols, "conv2d gradInputs: input shape entry"))

    def output_types(self, inputs):
        w, gz = inputs[:2]
        self._check_floats((w, gz), ("the filters", "the output gradient"))
        return [TensorType(w.dtype, (gz.broadcastable[0], False, False, False))]

    def perform(self, node, inputs):
        w, gz, h, wd = inputs
        g = self.num_groups
        n, o = gz.shape[:2]
        xshape = (n, w.shape[1] * g, int(h), int(wd))
        pads, oshape = self.geometry(xshape, w.shape)
        if gz.shape[1:] != (o,) + oshape or o != w.shape[0]:
            raise ValueError(f"{type(self).__name__}: the output gradient has shape "
                             f"{gz.shape}, expected {(n, w.shape[0]) + oshape} for filters "
                             f"{w.shape} and an input of shape {xshape}")
        hp, wp = xshape[2] + 2 * pads[0], xshape[3] + 2 * pads[1]
        gxp = np.zeros((n, g, w.shape[1], hp, wp), dtype=w.dtype)
        if gz.size and w.size:
            we = self._effective(w)
            wg = we.reshape((g, o // g) + we.shape[1:])
            gzg = _grouped(gz, g)
            with np.errstate(all="ignore"):
                for a, b, rows, cols in self._windows(pads, oshape, w.shape[2:]):
                    gxp[..., rows, cols] += np.einsum("ngoij,goc->ngcij", gzg, wg[..., a, b])
        gx = gxp.reshape((n, xshape[1], hp, wp))
        return [np.ascontiguousarray(gx[:, :, pads[0]:pads[0] + xshape[2],
                                        pads[1]:pads[1] + xshape[3]])]

    def infer_shape(self, node, input_shapes):
        (_, cg, _, _), (n, _, _, _) = input_shapes[:2]
        return [(n, cg * self.num_groups if self.num_groups > 1 else cg,
                 node.inputs[2], node.inputs[3])]

    def grad(self, node, inputs, output_grads):
        w, gz = inputs[:2]
        (gg,) = output_grads
        p = self.params()
        from aotsym.graph.ops.shape import shape_i
        gw = AbstractConv2d_gradWeights(**p)(gg, gz, shape_i(w, 2), shape_i(w, 3))
        return [gw, AbstractConv2d(**p)(gg, w), None, None]


class AbstractConv2d_gradWeights(_ConvBase):
    """The gradient of ``AbstractConv2d`` w.r.t. its filters: inputs ``(input,
    output_grad, rows, cols)`` (the filters' spatial shape), output of the filters' shape."""

    def make_node_inputs(self, x, gz, rows, cols=None):
        return (as_tensor_variable(x), as_tensor_variable(gz),
                *_spatial(rows, cols, "conv2d gradWeights: filter shape entry"))

    def output_types(self, inputs):
        x, gz = inputs[:2]
        self._check_floats((x, gz), ("the input", "the output gradient"))
        return [TensorType(x.dtype, (gz.broadcastable[1], False, False, False))]

    def perform(self, node, inputs):
        x, gz, kh, kw = inputs
        g = self.num_groups
        o = gz.shape[1]
        kshape = (o, x.shape[1] // g, int(kh), int(kw))
        if min(kshape[2:]) < 0:
            raise ValueError(f"{type(self).__name__}: negative filter shape {kshape}")
        pads, oshape = self.geometry(x.shape, kshape)
        if gz.shape != (x.shape[0], o) + oshape:
            raise ValueError(f"{type(self).__name__}: the output gradient has shape "
                             f"{gz.shape}, expected {(x.shape[0], o) + oshape} for an input "
                             f"of shape {x.shape} and filters of shape {kshape}")
        gw = np.zeros((g, o // g, kshape[1], kshape[2], kshape[3]), dtype=x.dtype)
        if gz.size and x.size:
            xp = _grouped(np.pad(x, ((0, 0), (0, 0), (pads[0],) * 2, (pads[1],) * 2)), g)
            gzg = _grouped(gz, g)
            with np.errstate(all="ignore"):
                for a, b, rows, cols in self._windows(pads, oshape, kshape[2:]):
                    gw[..., a, b] = np.einsum("ngcij,ngoij->goc", xp[..., rows, cols], gzg)
        gw = gw.reshape(kshape)
        return [np.ascontiguousarray(self._effective(gw))]

    def infer_shape(self, node, input_shapes):
        (_, c, _, _), (_, o, _, _) = input_shapes[:2]
        if self.num_groups > 1:
            return None
        return [(o, c, node.inputs[2], node.inputs[3])]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.shape import shape_i
        x, gz = inputs[:2]
        (gg,) = output_grads
        p = self.params()
        gx = AbstractConv2d_gradInputs(**p)(gg, gz, shape_i(x, 2), shape_i(x, 3))
        return [gx, AbstractConv2d(**p)(x, gg), None, None]


# ---------------------------------------------------------------------------- builder

_LAYOUTS = {4: ("conv2d", "NCHW input, (out_channels, in_channels, rows, cols) filters"),
            5: ("conv3d", "NCDHW input, (out_channels, in_channels, depth, rows, cols) filters")}


def _float_operands(x, w, ndim=4):
    """``x`` and ``w`` as tensors of ``ndim`` dimensions (conv2d: 4, conv3d: 5) cast to
    their common float dtype; a TypeError naming the function otherwise."""
    from aotsym.graph.ops.math import cast
    name, layout = _LAYOUTS[ndim]
    x, w = as_tensor_variable(x), as_tensor_variable(w)
    for v, what in ((x, "input"), (w, "filters")):
        if v.ndim != ndim:
            raise TypeError(f"{name}: the {what} must be a {ndim}-d tensor ({layout}), got "
                            f"{v.type.describe()}")
        if dtype_kind(v.dtype) == "c":
            raise TypeError(f"{name}: complex {what} are not supported")
    dtype = upgrade_to_float(upcast(x.dtype, w.dtype))
    return [v if v.dtype == dtype else cast(v, dtype) for v in (x, w)]


def _hinted(v, hint, what, ndim=4):
    """``v`` checked against a shape hint of ``ndim`` entries (None: unknown) at run time."""
    if hint is None:
        return v
    name = _LAYOUTS[ndim][0]
    hint = tuple(hint)
    if len(hint) != ndim:
        raise ValueError(f"{name}: {what} must have {ndim} entries, got {hint!r}")
    if all(h is None for h in hint):
        return v
    from aotsym.graph.ops.shape import shape_i, specify_shape
    dims = [shape_i(v, i) if h is None else h for i, h in enumerate(hint)]
    for h in hint:
        if h is not None and (not isinstance(h, (int, np.integer)) or h < 0):
            raise ValueError(f"{name}: {what} entries must be non-negative ints or None, "
                             f"got {hint!r}")
    return specify_shape(v, dims, context=f"{name} {what}")


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=True, image_shape=None, filter_dilation=(1, 1),
           num_groups=1, **kwargs):
    """Theano 1.0's ``T.nnet.conv2d``: a batch of NCHW images with a bank of filters.

    ``input_shape`` / ``filter_shape`` (``image_shape`` is the old name of the first) are
    optional hints; given, they are checked at run time.  Integer operands are computed in
    float64 (float32 for 8/16-bit ones).  See the module docstring for the parameters.
    """
    if "imshp_logical" in kwargs or "kshp_logical" in kwargs:
        raise ValueError("conv2d: imshp_logical / kshp_logical (upsampling by the old ConvOp) "
                         "are not supported, as in Theano 1.0")
    if kwargs:   # the old ConvOp's tuning knobs (unroll_batch, openmp, ...): Theano 1.0 too
        warnings.warn(f"conv2d: {sorted(kwargs)} are ignored (old ConvOp options; Theano 1.0 "
                      f"ignores them too)", stacklevel=2)
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("conv2d: pass input_shape or image_shape (its old name), "
                             "not both")
        input_shape = image_shape
    x, w = _float_operands(input, filters)
    op = AbstractConv2d(border_mode, subsample, filter_flip, filter_dilation, num_groups)
    return op(_hinted(x, input_shape, "input_shape"), _hinted(w, filter_shape, "filter_shape"))


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None,
                           border_mode="valid", subsample=(1, 1), filter_flip=True,
                           filter_dilation=(1, 1), num_groups=1):
    """Theano's ``conv2d_grad_wrt_inputs`` (a transposed convolution): ``input_shape`` the
    full (N, C, H, W) of the input whose gradient this is (H, W needed)."""
    op = AbstractConv2d_gradInputs(border_mode, subsample, filter_flip, filter_dilation,
                                   num_groups)
    gz, w = _float_operands(output_grad, filters)
    return op(_hinted(w, filter_shape, "filter_shape"), gz, input_shape[2], input_shape[3])


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid",
                     input_dilation=(1, 1), filter_flip=True, filter_dilation=(1, 1),
                     num_groups=1):
    """Theano's ``T.nnet.conv2d_transpose`` (a "deconvolution"): the gradient of a
    convolution with respect to its input, ``output_shape`` the (N, C, H, W) it makes,
    ``input_dilation`` the strides of that convolution."""
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape, border_mode,
                                  input_dilation, filter_flip, filter_dilation, num_groups)


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None,
                            border_mode="valid", subsample=(1, 1), filter_flip=True,
                            filter_dilation=(1, 1), num_groups=1):
    """Theano's ``conv2d_grad_wrt_weights``: ``filter_shape`` the filters' (O, C, kh, kw)."""
    op = AbstractConv2d_gradWeights(border_mode, subsample, filter_flip, filter_dilation,
                                    num_groups)
    x, gz = _float_operands(input, output_grad)
    return op(_hinted(x, input_shape, "input_shape"), gz, filter_shape[2], filter_shape[3])
