"""DEBUG_MODE's runner: every call runs the compiled module and the reference evaluator.

Part of the build (frontend -> graph -> optimizer -> emitters -> **build**).  In DEBUG_MODE
the optimizer checks each rewrite as it fires (:mod:`aotsym.optimizer.debug`); the graph it
ends with is then compiled as in FAST_RUN, and each call of the function runs it twice: by the
NumPy reference evaluator on the optimized graph, then by the compiled module, on the same
values.  The results must agree as a rewrite's must (:func:`aotsym.optimizer.debug.
values_agree`: same dtype and shape, exact values equal, nan and infinities in the same
places, floats close); otherwise the call raises :class:`CompiledResultError` naming the
output, the first differing element and the node that computes it.  The module's results are
returned; what it writes in place (a shared variable's update) it writes into a copy of the
value, so a call that fails the comparison stores no update (and, unlike FAST_RUN, an array
taken with ``get_value(borrow=True)`` keeps its old contents).  This is Theano's DebugMode
comparing its Python and C implementations, for the whole module.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.errors import describe_node
from aotsym.optimizer.debug import RewriteCheckError, values_agree


class CompiledResultError(RewriteCheckError):
    """DEBUG_MODE: the compiled module's result differs from the reference evaluator's."""


class CheckedFunction:
    """A runner (see :class:`aotsym.build.driver.CompiledFunction`) that runs ``reference``
    (the reference evaluator's runner) and ``compiled`` on every call and compares them."""

    def __init__(self, reference, compiled, name):
        self.reference, self.compiled, self.name = reference, compiled, name
        self.fgraph = reference.fgraph
        self.stats = reference.stats
        self.output_types = reference.output_types
        self.module = getattr(compiled, "module", None)

    def __call__(self, values):
        expected = self.reference(values)
        # what the module writes in place (a shared value's update) it writes into a copy,
        # so that a call that fails the comparison leaves the state as it was (and the
        # reference's results, which may be those values, stay as computed)
        destroyed = self.reference.destroyed
        got = self.compiled([np.array(v, copy=True) if k in destroyed else v
                             for k, v in enumerate(values)])
        for k, (want, have) in enumerate(zip(expected, got)):
            ok, why = values_agree(want, have)
            if not ok:
                out = self.fgraph.outputs[k]
                made = f"\n  computed by {describe_node(out.owner)}" if out.owner else ""
                raise CompiledResultError(
                    f"DEBUG_MODE: function {self.name!r}: the compiled module's output {k} "
                    f"({self.output_types[k]}) differs from the reference evaluator's: "
                    f"{why}{made}")
        return got
