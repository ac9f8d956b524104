"""``aotsym.compile.io``: Theano's ``theano.compile.io`` (``In``, ``Out``).

Beside the pipeline: re-exports of the frontend's input and output options
(:mod:`aotsym.frontend.function`), for code written ``from theano.compile.io import In``.
"""

from aotsym.frontend.function import In, Out  # noqa: F401

__all__ = ["In", "Out"]
