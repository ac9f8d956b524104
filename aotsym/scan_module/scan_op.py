"""``aotsym.scan_module.scan_op``: Theano's module path of the ``Scan`` op class
(``isinstance(node.op, theano.scan_module.scan_op.Scan)``).

Beside the pipeline: a re-export of :class:`aotsym.graph.ops.scan.Scan`.
"""

from aotsym.graph.ops.scan import Scan  # noqa: F401

__all__ = ["Scan"]
