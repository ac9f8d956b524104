"""``aotsym.sandbox.neighbours``: Theano's older path of ``images2neibs`` / ``neibs2images``
(:mod:`aotsym.tensor.nnet_neighbours`).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters): aliases only.
"""

from aotsym.tensor.nnet_neighbours import images2neibs, neibs2images  # noqa: F401

__all__ = ["images2neibs", "neibs2images"]
