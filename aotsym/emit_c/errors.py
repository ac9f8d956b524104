"""Build-time errors of the C emitter: which op, which node, which line of the user's code.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).
"""

from __future__ import annotations

from aotsym.graph.errors import describe_node


class EmitError(NotImplementedError):
    """A node the C backend cannot translate.  Raised while building, never at call time.

    The message names the op and the user's source line; nothing falls back silently to
    another backend.
    """

    def __init__(self, message, node=None):
        self.node = node
        where = f"\n  in node {describe_node(node)}" if node is not None else ""
        super().__init__(f"{message}{where}\n  (the C backend, aotsym.emit_c; use "
                         "mode='FAST_COMPILE' to run this graph on the reference evaluator)")
