"""``aotsym.gpuarray``: Theano 1.0's ``theano.gpuarray`` module path, as on a CPU install.

Beside the pipeline: names only.  Theano code probes for its GPU backend with
``from theano import gpuarray`` and ``gpuarray.pygpu_activated`` (Lasagne's layers and tests
do) and falls back to the CPU ops when it is False; Theano without pygpu answers exactly so.
aotsym's CUDA target is chosen when a module is built (``aotsym build --target cuda``), not
by this flag, so it is always False here and code written this way takes its CPU path;
``gpuarray.dnn.dnn_present()`` (cuDNN) is False likewise, with Theano's ``.msg``.
"""

from aotsym.gpuarray import dnn  # noqa: F401

pygpu_activated = False
