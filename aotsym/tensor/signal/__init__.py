"""``aotsym.tensor.signal`` (``T.signal``): Theano's signal-processing namespace; today its
``pool`` module (:mod:`aotsym.tensor.signal.pool`).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).
"""

from aotsym.tensor.signal import pool  # noqa: F401
