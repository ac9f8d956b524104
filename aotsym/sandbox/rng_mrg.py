"""``aotsym.sandbox.rng_mrg``: Theano's module path of ``MRG_RandomStreams``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters); the implementation is
:mod:`aotsym.frontend.random`.  The generator is Philox4x32-10, not MRG31k3p: streams are
reproducible for a seed and identical across the C and CUDA backends, but they are not
Theano's MRG numbers.
"""

from aotsym.frontend.random import MRG_RandomStreams  # noqa: F401

__all__ = ["MRG_RandomStreams"]
