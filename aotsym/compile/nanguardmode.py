"""``aotsym.compile.nanguardmode``: Theano's ``NanGuardMode``, which finds the node that first
makes a nan, an infinity or a huge value.

Beside the pipeline (a mode object for :func:`aotsym.function`).  Theano's advice for "Dealing
with NaNs"::

    from aotsym.compile.nanguardmode import NanGuardMode
    f = aotsym.function([x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
                                                 big_is_error=True))

A function built in this mode is optimized as in FAST_RUN (so the graph checked is the one
that runs: stabilized, fused), and each call runs that graph node by node with the reference
evaluator, checking the function's inputs and every node's outputs: the first float value that
is nan (``nan_is_error``), ±inf (``inf_is_error``) or larger than 1e10 in magnitude
(``big_is_error``) raises an AssertionError naming the node, its op and the user's line that
made it (Theano raises AssertionError too).  It is a debugging mode: slow, like Theano's.
"""

from __future__ import annotations

import numpy as np

from aotsym.frontend.function import Mode

__all__ = ["NanGuardMode"]

BIG = 1e10   # Theano's threshold for big_is_error


class NanGuardMode(Mode):
    """Theano's ``NanGuardMode(nan_is_error=None, inf_is_error=None, big_is_error=None,
    optimizer='default', linker=None)``; None: ``aotsym.config.NanGuardMode.nan_is_error``
    etc. (True, as Theano's flags)."""

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None,
                 optimizer="default", linker=None):
        from aotsym.config import config
        super().__init__("FAST_RUN", linker, optimizer)
        flags = config.NanGuardMode
        self.nan_is_error = bool(flags.nan_is_error if nan_is_error is None else nan_is_error)
        self.inf_is_error = bool(flags.inf_is_error if inf_is_error is None else inf_is_error)
        self.big_is_error = bool(flags.big_is_error if big_is_error is None else big_is_error)

    def __repr__(self):
        return (f"NanGuardMode(nan_is_error={self.nan_is_error}, inf_is_error="
                f"{self.inf_is_error}, big_is_error={self.big_is_error})")

    def guard(self, fgraph, input_names):
        """The runner of the optimized graph ``fgraph``: the guard (not compiled)."""
        return _Guarded(fgraph, self, input_names)

    def problem(self, value) -> str | None:
        """What is wrong with ``value`` for this mode, or None."""
        arr = np.asarray(value)
        if arr.dtype.kind not in "fc" or arr.size == 0:
            return None
        if self.nan_is_error and np.isnan(arr).any():
            return "NaN detected"
        if self.inf_is_error and np.isinf(arr).any():
            return "Inf detected"
        if self.big_is_error:
            with np.errstate(invalid="ignore"):
                finite = np.abs(arr[np.isfinite(arr)])
            if finite.size and finite.max() > BIG:
                return f"Big value detected (|value| up to {finite.max():.3g} > {BIG:g})"
        return None


class _Guarded:
    """The runner of a function compiled with a :class:`NanGuardMode`."""

    def __init__(self, fgraph, mode, input_names):
        from aotsym.build.driver import ReferenceFunction
        self.reference = ReferenceFunction(fgraph)
        self.fgraph, self.stats = fgraph, self.reference.stats
        self.output_types = self.reference.output_types
        self.mode, self.input_names = mode, input_names

    def __call__(self, values):
        from aotsym.graph.errors import describe_node
        from aotsym.graph.evaluate import evaluate
        fg = self.fgraph
        for k, (var, value) in enumerate(zip(fg.inputs, values)):
            why = self.mode.problem(value)
            if why:
                name = self.input_names[k] if k < len(self.input_names) else None
                raise AssertionError(f"NanGuardMode: {why} in input {k} "
                                     f"({name or repr(var)}) of the function")
        values = [np.array(v, copy=True) if k in self.reference.destroyed else v
                  for k, v in enumerate(values)]
        computed = evaluate(fg.outputs, dict(zip(fg.inputs, values)), keep_all=True)
        for node in fg.toposort():
            for j, out in enumerate(node.outputs):
                why = self.mode.problem(computed.get(id(out)))
                if why:
                    raise AssertionError(
                        f"NanGuardMode: {why} in output {j} of {describe_node(node)}\n"
                        f"  its inputs: " + ", ".join(
                            _summary(computed.get(id(v), getattr(v, "data", None)))
                            for v in node.inputs))
        return [computed[id(v)] if id(v) in computed else np.asarray(v.data)
                for v in fg.outputs]


def _summary(value) -> str:
    if value is None:
        return "?"
    arr = np.asarray(value)
    if arr.size <= 4:
        return np.array2string(arr, precision=4)
    with np.errstate(all="ignore"):
        finite = arr[np.isfinite(arr)] if arr.dtype.kind in "fc" else arr
        span = f", finite in [{finite.min():.3g}, {finite.max():.3g}]" if finite.size else ""
    return f"{arr.dtype}{list(arr.shape)}{span}"
