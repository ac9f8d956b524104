"""Default updates: Theano's ``SharedVariable.default_update``, collected for a graph.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  A shared variable may
carry ``default_update``, the new value a function stores after each call when the user gave
no update of it (a random stream's state carries the advance of its generator).  Two places
read it, through :func:`collect_default_updates`:

* function assembly (:mod:`.assemble`, so ``aotsym.function`` and a Module's exports alike),
  unless ``no_default_updates`` is True (or lists the variable);
* ``aotsym.scan``: a step that reads such a variable updates it every step, and scan returns
  the variable's value after the last step in its updates (Theano's rule).

A default update is applied only where it can be computed from what the graph has: an
expression of shared variables, constants, ``allowed`` inputs and the other leaves the
outputs themselves read — never one that reads a scan step's placeholders from outside the
step.  (The leaves matter in a scan step: rnnrbm.py's Gibbs chain draws with ``p`` computed
from the outer ``bv_t``, itself computed from the function's input; the draw's state must
still advance every step, as in Theano.)
"""

from __future__ import annotations

from aotsym.graph.basic import Constant, graph_inputs


def collect_default_updates(outputs, explicit=(), exclude=(), allowed=(), leaves=None,
                            strict=False) -> dict:
    """``{shared variable: default update}`` for the shared variables ``outputs`` (and the
    default updates added, transitively) read, with a ``default_update``, not among
    ``explicit`` (updated by the user) or ``exclude``; ``allowed``: the non-shared inputs a
    default update may read besides the leaves of ``outputs``; ``leaves``:
    ``graph_inputs(outputs)`` when the caller has it.  A default update that reads anything
    else is left out, or with ``strict`` (a function's own, Theano's rule) a MissingInputError
    naming it: never an update silently lost."""
    from aotsym.frontend.shared import SharedVariable
    skip = {id(v) for v in explicit} | {id(v) for v in exclude}
    ok = {id(v) for v in allowed}
    found: dict = {}
    frontier = list(outputs)
    first = True
    while frontier:
        more = []
        if leaves is None:
            leaves = graph_inputs([v for v in frontier if v is not None])
        if first:    # what the outputs read anyway may be read by their default updates
            ok.update(id(v) for v in leaves if not isinstance(v, Constant))
            first = False
        for var in leaves:
            if not isinstance(var, SharedVariable) or id(var) in skip or var in found:
                continue
            new = getattr(var, "default_update", None)
            if new is None:
                continue
            free = [u for u in graph_inputs([new]) if not isinstance(u, (SharedVariable,
                                                                         Constant))
                    and id(u) not in ok]
            if free and strict:
                from aotsym.graph.fgraph import MissingInputError
                raise MissingInputError(
                    f"the default update of the shared variable {var!r} reads {free[0]!r}, "
                    "which is not an input of the function: pass it among the inputs, or "
                    f"leave the update out (no_default_updates=[{var.name or 'the variable'}])")
            if free:
                continue
            found[var] = new
            more.append(new)
        frontier, leaves = more, None
    return found
