"""``aotsym.gpuarray.dnn``: Theano 1.0's ``theano.gpuarray.dnn`` probe, as on a CPU install.

Beside the pipeline: names only (see :mod:`aotsym.gpuarray`).  aotsym calls no cuDNN, so
``dnn_present()`` is False and says why in ``dnn_present.msg``, as Theano's does.
"""


def dnn_present():
    """False: aotsym has no cuDNN ops (Theano: whether cuDNN can be used)."""
    return False


dnn_present.msg = "aotsym does not use cuDNN (its CUDA target is chosen at build time)"
dnn_available = dnn_present   # the old backend's name
