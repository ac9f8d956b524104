"""``aotsym.compile.function_module``: Theano's module path of the compiled function's
errors (``except theano.compile.function_module.UnusedInputError``) and class.

Beside the pipeline: re-exports only.
"""

from aotsym.frontend.assemble import UnusedInputError  # noqa: F401
from aotsym.frontend.function import Function, function  # noqa: F401
from aotsym.graph.fgraph import MissingInputError  # noqa: F401

__all__ = ["Function", "MissingInputError", "UnusedInputError", "function"]
