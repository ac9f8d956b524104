"""FunctionGraph: the unit the optimizer rewrites and the emitters translate.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  A FunctionGraph is an
immutable pair (inputs, outputs): every variable the outputs depend on is an input, a
constant, or computed from them.  Rewrites return a new FunctionGraph; node identity is kept
wherever nothing changed (nodes are hash-consed), so rebuilding is cheap.

Inputs are ``Variable``s owned by no node.  By convention a compiled function's graph lists
the user's inputs first, then the shared variables it reads; its outputs are the user's
outputs followed by the new values of updated shared variables (``n_updates`` of them).

``meta`` carries what later stages need beside the graph: ``meta["updates"]`` (``{output
index: input index}``: that output is the new value of that input, a shared variable) and
``meta["schedule_last"]`` (nodes :func:`toposort` puts after every other node, in that order:
the in-place writes into shared variables, see :mod:`aotsym.optimizer.inplace`; a listed node
that some node reads is left where it is).
"""

from __future__ import annotations

from aotsym.graph.basic import Constant, Variable, clients, toposort


class MissingInputError(ValueError):
    """An output depends on a variable that is neither an input nor a constant."""


class FunctionGraph:
    __slots__ = ("inputs", "outputs", "n_updates", "_order", "_clients", "meta")

    def __init__(self, inputs, outputs, n_updates=0, check=True, meta=None, order=None):
        """``order``: ``toposort(outputs)``, when the caller has made it already."""
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.n_updates = n_updates
        self._order = None if order is None or (meta or {}).get("schedule_last") else order
        self._clients = None
        self.meta = dict(meta or {})
        if check:
            self.check_inputs()

    def check_inputs(self):
        known = {id(v) for v in self.inputs}
        if len(known) != len(self.inputs):
            raise ValueError("the same variable is given twice as an input")
        for v in self.outputs:
            if v.owner is None and id(v) not in known and not isinstance(v, Constant):
                raise MissingInputError(_missing(v))
        for node in self.toposort():
            for v in node.inputs:
                if v.owner is None and id(v) not in known and not isinstance(v, Constant):
                    raise MissingInputError(_missing(v, node))

    def toposort(self):
        if self._order is None:
            order = toposort(self.outputs)
            last = self.meta.get("schedule_last")
            if last:
                order = _schedule_last(order, last, self.clients())
            self._order = order
        return self._order

    @property
    def apply_nodes(self):
        return self.toposort()

    def clients(self):
        """``{id(variable): [(node, input index), ...]}``; outputs have ('output', i) too."""
        if self._clients is None:
            # the cached order is toposort(outputs)'s unless nodes were scheduled last
            plain = self._order if not self.meta.get("schedule_last") else None
            cl = clients(self.outputs, order=plain)
            for i, v in enumerate(self.outputs):
                cl.setdefault(id(v), []).append(("output", i))
            self._clients = cl
        return self._clients

    def variables(self):
        seen, out = set(), []
        for v in self.inputs:
            seen.add(id(v))
            out.append(v)
        for node in self.toposort():
            for v in node.inputs + node.outputs:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def with_outputs(self, outputs, **kw) -> "FunctionGraph":
        return FunctionGraph(self.inputs, outputs, self.n_updates, check=False,
                             meta={**self.meta, **kw})

    def __len__(self):
        return len(self.toposort())

    def __repr__(self):
        return f"FunctionGraph({len(self)} nodes, inputs={list(self.inputs)})"


def _schedule_last(order, last, clients) -> list:
    """``order`` with the nodes of ``last`` that no node reads moved to its end."""
    present = set(order)
    movable = [n for n in last if n in present and all(
        reader == "output" for v in n.outputs for reader, _ in clients.get(id(v), []))]
    if not movable:
        return order
    moved = set(movable)
    return [n for n in order if n not in moved] + movable


def _missing(v: Variable, node=None) -> str:
    where = f" created at {v.tag.trace}" if v.tag.trace else ""
    used = f", used by {node.op}" if node is not None else ""
    return (f"the graph depends on the input {v!r} ({v.type.describe()}){where}{used}, which "
            "is not among the function's inputs; add it to the inputs list (or to givens)")
