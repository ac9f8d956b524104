"""Errors that name the user's source line.

Part of the IR (frontend -> **graph** -> optimizer -> emitters); every layer raises these so a
message always says which op, which node and which line of the user's model file.
"""

from __future__ import annotations

import os


_BOTH: dict = {}


def error_class(first, second, name=None):
    """A class that is both ``first`` and ``second`` (made once per pair), so that a raised
    error keeps its cause's class and the one callers catch; its ``str`` is its message
    (a KeyError's own would quote it whole)."""
    key = (first, second, name)
    cls = _BOTH.get(key)
    if cls is None:
        cls = _BOTH[key] = type(name or first.__name__, (first, second),
                                {"__str__": BaseException.__str__})
    return cls


def describe_node(node) -> str:
    """The op, the output's name and the user's line that made ``node``; for a node that
    fuses several user expressions, the lines of all of them.  Build and run time errors,
    compiled or not, describe a node with this."""
    out = node.outputs[0]
    trace = out.tag.trace
    where = f"\n  created at {trace}" if trace else ""
    fused = getattr(out.tag, "fused_traces", ())
    if len(fused) > 1:
        where += f"\n  fusing the expressions at {_lines(fused)}"
    name = f" ({out.name})" if out.name else ""
    return f"{node.op}{name}{where}"


MAX_LINES_LISTED = 12


def _lines(traces) -> str:
    """``model.py lines 9, 10, 12`` (several files: ``;``-separated)."""
    by_file: dict = {}
    for t in traces:
        by_file.setdefault(t.filename, set()).add(t.lineno)
    parts, listed = [], 0
    for filename, numbers in by_file.items():
        shown = sorted(numbers)[:MAX_LINES_LISTED - listed]
        listed += len(shown)
        if shown:
            parts.append(f"{os.path.basename(filename)} line{'s' if len(shown) > 1 else ''} "
                         + ", ".join(map(str, shown)))
    more = sum(map(len, by_file.values())) - listed
    return "; ".join(parts) + (f" and {more} more" if more > 0 else "")


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
