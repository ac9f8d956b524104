"""The IR: types, hash-consed nodes, ops and the NumPy reference evaluator.

Second stage of the pipeline (frontend -> **graph** -> optimizer -> emitters).
"""

from aotsym.graph import methods as _methods
from aotsym.graph.basic import Apply, Constant, Variable, apply, constant, toposort  # noqa: F401
from aotsym.graph.evaluate import evaluate  # noqa: F401
from aotsym.graph.types import TensorType  # noqa: F401

_methods.install()
