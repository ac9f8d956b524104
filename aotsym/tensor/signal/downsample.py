"""``aotsym.tensor.signal.downsample``: Theano 0.7/0.8's pooling module path, the one the
classic tutorials import (``from theano.tensor.signal.downsample import max_pool_2d``).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters); aliases of
:mod:`aotsym.tensor.signal.pool` under the old names and argument names (``ds``, ``st``,
``padding``), whose ops are :mod:`aotsym.graph.ops.pool`.  As in Theano, ``ignore_border``
left out means False: a last partial window is pooled too (a 5x5 map pools 2x2 to 3x3).
"""

import warnings

from aotsym.graph.ops.pool import (AveragePoolGrad, MaxPoolGrad, Pool,  # noqa: F401
                                   max_pool_2d_same_size, pool_2d)

# The old op names: same parameters in the same order (ds, ignore_border, st, padding, mode).
DownsampleFactorMax = Pool
DownsampleFactorMaxGrad = MaxPoolGrad


def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
    """Theano's ``downsample.max_pool_2d``: :func:`pool_2d` under the old argument names
    (window ``ds``, stride ``st``, ``padding``); ``mode`` may be any pooling mode."""
    if ignore_border is None:
        warnings.warn("max_pool_2d: ignore_border=None means False, as in Theano; pass it "
                      "explicitly", stacklevel=2)
        ignore_border = False
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding,
                   mode=mode)
