"""Errors that name the user's source line.

Part of the IR (frontend -> **graph** -> optimizer -> emitters); every layer raises these so a
message always says which op, which node and which line of the user's model file.
"""

from __future__ import annotations


def describe_node(node) -> str:
    out = node.outputs[0]
    trace = out.tag.trace
    where = f"\n  created at {trace}" if trace else ""
    name = f" ({out.name})" if out.name else ""
    return f"{node.op}{name}{where}"


class NodeError(ValueError):
    """A failure while computing one node: says which op and which user line made it."""

    def __init__(self, node, cause):
        self.node = node
        self.cause = cause
        super().__init__(f"{cause}\n  while computing {describe_node(node)}")


def symbolic_bool_error(var) -> TypeError:
    from aotsym.graph.basic import user_source_info
    here = user_source_info()
    where = f"\n  at {here}" if here else ""
    return TypeError(
        "the truth value of a symbolic tensor is not known while the graph is being built "
        f"(Python `if`, `while`, `and`, `or` or `not` on {var!r}){where}\n"
        "  use aotsym.ifelse(cond, a, b) for a lazy branch, T.switch(cond, a, b) for an "
        "elementwise choice, or aotsym.scan for a loop")
