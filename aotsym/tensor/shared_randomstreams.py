"""``aotsym.tensor.shared_randomstreams``: Theano's module path of ``RandomStreams``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters); the implementation is
:mod:`aotsym.frontend.random` (Philox4x32-10 states held in shared variables).
"""

from aotsym.frontend.random import RandomStreams  # noqa: F401

__all__ = ["RandomStreams"]
