"""``aotsym.misc.safe_asarray``: Theano's ``_asarray`` (``theano._asarray``), for ported code.

Beside the pipeline: a NumPy helper.  Theano's test and tutorial code converts values with
``theano._asarray(x, dtype=config.floatX)``.
"""

import numpy as np


def _asarray(a, dtype, order=None):
    """``numpy.asarray(a, dtype, order)``, with ``dtype='floatX'`` read as
    ``aotsym.config.floatX``; the result has exactly that dtype (Theano's guarantee)."""
    if str(dtype) == "floatX":
        from aotsym.config import config
        dtype = config.floatX
    dtype = np.dtype(dtype)
    rval = np.asarray(a, dtype=dtype, order=order)
    return rval if rval.dtype == dtype else rval.view(dtype)
