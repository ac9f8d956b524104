"""``aotsym.compile.monitormode``: Theano's ``MonitorMode`` — a function whose every node is
run with the user's callbacks before and after it (Theano's "Debugging Theano": printing
each node's inputs and outputs, finding the node that makes the first NaN).

Beside the pipeline (a mode object for :func:`aotsym.function`), like
:mod:`.nanguardmode`::

    def detect_nan(i, node, fn):
        for output in fn.outputs:
            if np.isnan(output[0]).any():
                print('*** NaN detected ***')
                aotsym.printing.debugprint(node)
                print('Inputs : %s' % [input[0] for input in fn.inputs])
                break

    f = aotsym.function([x], [T.log(x) * x], mode=MonitorMode(post_func=detect_nan))

The graph is optimized as in FAST_RUN (``.excluding('local_elemwise_fusion', 'inplace')``
keeps the nodes apart, as Theano's advice says), then each call runs it node by node with
the reference evaluator, in the compiled order.  ``pre_func(i, node, fn)`` and
``post_func(i, node, fn)`` get the node's position, the node, and ``fn``: Theano's thunk,
with ``fn.inputs`` and ``fn.outputs`` lists of one-element lists (the values; an output is
``[None]`` before the node runs) and ``fn()`` running the node.  A debugging mode: slow,
like Theano's.
"""

from __future__ import annotations

import numpy as np

from aotsym.frontend.function import Mode

__all__ = ["MonitorMode", "detect_nan"]


class MonitorMode(Mode):
    """Theano's ``MonitorMode(pre_func=None, post_func=None, optimizer='default',
    linker=None)``."""

    def __init__(self, pre_func=None, post_func=None, optimizer="default", linker=None):
        super().__init__("FAST_RUN", linker, optimizer)
        for what, func in (("pre_func", pre_func), ("post_func", post_func)):
            if func is not None and not callable(func):
                raise TypeError(f"MonitorMode: {what} must be a function (i, node, fn), got "
                                f"{type(func).__name__}")
        self.pre_func, self.post_func = pre_func, post_func

    def __repr__(self):
        return f"MonitorMode(pre_func={self.pre_func!r}, post_func={self.post_func!r})"

    def eval(self, i, node, fn):
        """Theano's: the callbacks around one node's run."""
        if self.pre_func is not None:
            self.pre_func(i, node, fn)
        fn()
        if self.post_func is not None:
            self.post_func(i, node, fn)

    def guard(self, fgraph, input_names):
        """The runner of the optimized graph ``fgraph`` (not compiled)."""
        return _Monitored(fgraph, self)


class Thunk:
    """Theano's thunk of one node: ``inputs``/``outputs`` are lists of one-element lists;
    calling it runs the node on ``inputs`` and fills ``outputs``."""

    def __init__(self, node, inputs):
        self.node = node
        self.inputs = [[value] for value in inputs]
        self.outputs = [[None] for _ in node.outputs]

    def __call__(self):
        from aotsym.graph.evaluate import node_error
        from aotsym.graph.errors import NodeError
        node = self.node
        try:
            results = node.op.perform(node, [cell[0] for cell in self.inputs])
        except NodeError:
            raise
        except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as exc:
            raise node_error(node, exc) from exc
        for cell, value in zip(self.outputs, results):
            cell[0] = np.asarray(value)


class _Monitored:
    """The runner of a function compiled with a :class:`MonitorMode`."""

    def __init__(self, fgraph, mode):
        from aotsym.build.driver import ReferenceFunction
        self.reference = ReferenceFunction(fgraph)
        self.fgraph, self.stats = fgraph, self.reference.stats
        self.output_types = self.reference.output_types
        self.mode = mode
        self.order = fgraph.toposort()

    def __call__(self, values):
        from aotsym.graph.evaluate import NODE_HOOK
        fg = self.fgraph
        # (a node the optimizer made in place writes over its input: the caller's arrays
        # are not the function's to change)
        values = {id(var): np.array(v, copy=True) if k in self.reference.destroyed else v
                  for k, (var, v) in enumerate(zip(fg.inputs, values))}
        # the nodes of inner graphs (a scan's step at every step, an ifelse's branch) run
        # through the callbacks too, as in Theano, where they are compiled in the same mode
        token = NODE_HOOK.set(self._run_node)
        try:
            for i, node in enumerate(self.order):
                results = self._run_node(
                    i, node, [values[id(v)] if id(v) in values else np.asarray(v.data)
                              for v in node.inputs])
                values.update((id(var), r) for var, r in zip(node.outputs, results))
        finally:
            NODE_HOOK.reset(token)
        return [values[id(v)] if id(v) in values else np.asarray(v.data) for v in fg.outputs]

    def _run_node(self, i, node, args):
        thunk = Thunk(node, args)
        self.mode.eval(i, node, thunk)
        if any(cell[0] is None for cell in thunk.outputs):
            raise RuntimeError(f"MonitorMode: the callbacks did not run node {i} ({node.op}): "
                               "call fn() between pre and post")
        return [cell[0] for cell in thunk.outputs]


def detect_nan(i, node, fn):
    """Theano's ``theano.compile.monitormode.detect_nan``: a ``post_func`` printing the first
    node output holding a NaN, with the node and its inputs and outputs."""
    from aotsym.printing import debugprint
    for output in fn.outputs:
        value = output[0]
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and \
                np.isnan(value).any():
            print("*** NaN detected ***")
            debugprint(node)
            print("Inputs : %s" % [input[0] for input in fn.inputs])
            print("Outputs: %s" % [output[0] for output in fn.outputs])
            break
