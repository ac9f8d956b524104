"""``aotsym.compile.sharedvalue``: Theano's ``theano.compile.sharedvalue`` (``shared``,
``SharedVariable``).

Beside the pipeline: re-exports of :mod:`aotsym.frontend.shared`, for code written
``from theano.compile.sharedvalue import shared``.
"""

from aotsym.frontend.shared import SharedVariable, shared  # noqa: F401

__all__ = ["SharedVariable", "shared"]
