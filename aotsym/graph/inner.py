"""Inner graphs: the closed, immutable sub-graphs that ops like ``scan`` and ``ifelse`` hold.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  An op that holds a
sub-program (``OpFromGraph``'s body, later ``scan``'s step and ``ifelse``'s branches) keeps
it as an :class:`InnerGraph` among its ``__props__``.  Invariants:

* **Closed.**  Every free variable of the outputs is one of ``inputs`` (positional
  placeholders, owned by no node) or a constant.  Construction checks it, and a variable
  that is neither is a :class:`ClosednessError` naming it and the user line that made it.
* **Immutable.**  An inner graph never changes; optimizer stages that run inside make a new
  one (:meth:`InnerGraph.with_outputs`) and a new op (:meth:`HasInnerGraphs.with_inner_graphs`).
* **Structural identity.**  ``hash`` and ``==`` compare the *structure*: each node's op and
  where its inputs come from (placeholder ``i``, constant by its interned key, output ``j``
  of the ``k``-th node of the topological order), the input types and which variables are
  the outputs.  Placeholder objects and names take no part.  So two traces of the same step
  function (fresh placeholders each time) are equal inner graphs, their ops are equal, and
  applying them to the same outer variables gives ONE interned Apply node: merge and CSE
  keep working for ops that hold sub-graphs.  The key is built once, iteratively (a
  100,000-node inner graph hashes without recursion), and the hash is cached.
* **Not entered by default.**  Traversals of :mod:`aotsym.graph.basic` see an op holding
  inner graphs as one node; ``enter_inner=True`` is the explicit switch.  Because inner graphs
  are closed, substituting outer variables (``clone_replace``) never needs to enter them.

Ops that hold inner graphs mix in :class:`HasInnerGraphs` (PyTensor's ``HasInnerGraph``,
JAX's sub-jaxprs in equation params); :func:`inner_graphs_of` finds them generically.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant, Variable, clone_replace, toposort


class ClosednessError(ValueError):
    """An inner graph's output depends on a variable that is not one of its inputs."""


class InnerGraph:
    """A closed sub-graph ``inputs -> outputs`` with a structural hash (module docstring).

    ``InnerGraph(inputs, outputs)`` rebuilds the outputs on fresh placeholder variables (one
    per input, same type and name), so the inner graph shares no variable with the graph it
    was traced in; ``fresh_inputs=False`` keeps the given inputs as the placeholders (for
    graphs already built on placeholders, e.g. by an optimizer stage).
    """

    __slots__ = ("inputs", "outputs", "_key", "_hash", "_fgraph", "__weakref__")

    def __init__(self, inputs, outputs, fresh_inputs=True):
        inputs, outputs = tuple(inputs), tuple(outputs)
        for k, v in enumerate(inputs):
            if not isinstance(v, Variable) or v.owner is not None or isinstance(v, Constant):
                raise TypeError(f"InnerGraph: input {k} ({v!r}) must be a free variable (no "
                                "owner, not a constant)")
        if len({id(v) for v in inputs}) != len(inputs):
            raise ValueError("InnerGraph: the same variable is given twice as an input")
        for k, v in enumerate(outputs):
            if not isinstance(v, Variable):
                raise TypeError(f"InnerGraph: output {k} is {type(v).__name__}, not a "
                                "symbolic variable")
        _check_closed(inputs, outputs)
        if fresh_inputs:
            fresh = tuple(v.clone() for v in inputs)
            outputs = tuple(clone_replace(outputs, dict(zip(inputs, fresh))))
            inputs = fresh
        self.inputs = inputs
        self.outputs = outputs
        self._key = None
        self._hash = None
        self._fgraph = None

    # ------------------------------------------------------------------ identity
    def key(self) -> tuple:
        """The structural key (see the module docstring); built once, iteratively."""
        if self._key is None:
            self._key = _structural_key(self.inputs, self.outputs)
        return self._key

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(self.key())
        return self._hash

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, InnerGraph) or hash(self) != hash(other):
            return False
        return self.key() == other.key()

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return (f"InnerGraph({len(self.inputs)} inputs -> {len(self.outputs)} outputs, "
                f"{len(self.nodes())} nodes)")

    __str__ = __repr__

    def __reduce__(self):
        return (InnerGraph, (self.inputs, self.outputs, False))

    # ------------------------------------------------------------------ views
    def nodes(self) -> list:
        """The inner Apply nodes in topological order (not entering nested inner graphs)."""
        return self.fgraph().toposort()

    def fgraph(self):
        """A :class:`~aotsym.graph.fgraph.FunctionGraph` view (same variables; no copy)."""
        if self._fgraph is None:
            from aotsym.graph.fgraph import FunctionGraph
            self._fgraph = FunctionGraph(self.inputs, self.outputs, check=False)
        return self._fgraph

    @property
    def input_types(self) -> tuple:
        return tuple(v.type for v in self.inputs)

    @property
    def output_types(self) -> tuple:
        return tuple(v.type for v in self.outputs)

    # ------------------------------------------------------------------ new graphs
    def with_outputs(self, outputs) -> "InnerGraph":
        """The same placeholders with other outputs (built on them; closedness checked)."""
        return InnerGraph(self.inputs, outputs, fresh_inputs=False)

    def select_outputs(self, indices) -> "InnerGraph":
        """Only the outputs at ``indices`` (in that order): for dropping unused outputs."""
        return self.with_outputs([self.outputs[i] for i in indices])

    def rebuilt(self, new_outputs) -> "InnerGraph":
        """``with_outputs``, for a pass that rewrote the outputs; ``self`` when unchanged."""
        new_outputs = tuple(new_outputs)
        if len(new_outputs) == len(self.outputs) and all(
                a is b for a, b in zip(new_outputs, self.outputs)):
            return self
        return self.with_outputs(new_outputs)

    def check_arguments(self, args, who, what="argument", built_for="the graph was built") -> list:
        """``args`` as variables for this graph's inputs (Python values made constants of the
        input's dtype), or a TypeError naming ``who`` and the argument: the dtype and ndim
        must be the input's, and broadcastable wherever the input is."""
        from aotsym.graph.convert import as_tensor_variable
        types = self.input_types
        if len(args) != len(types):
            raise TypeError(f"{who}: called with {len(args)} {what}s, takes {len(types)}")
        result = []
        for k, (a, t) in enumerate(zip(args, types)):
            v = a if isinstance(a, Variable) else as_tensor_variable(a, dtype=t.dtype)
            if v.dtype != t.dtype or v.ndim != t.ndim or any(
                    pb and not vb for pb, vb in zip(t.broadcastable, v.broadcastable)):
                raise TypeError(f"{who}: {what} {k} is {v.type.describe()}, but {built_for} "
                                f"for {t.describe()}; cast it (T.cast) or reshape it to match")
            result.append(v)
        return result

    def apply_to(self, outer_inputs) -> list:
        """The outputs with the placeholders replaced by ``outer_inputs``: the inner graph
        inlined into an outer graph (``clone_replace``; unchanged nodes keep their identity)."""
        outer_inputs = tuple(outer_inputs)
        if len(outer_inputs) != len(self.inputs):
            raise ValueError(f"InnerGraph.apply_to: {len(outer_inputs)} values for "
                             f"{len(self.inputs)} inputs")
        return clone_replace(self.outputs, dict(zip(self.inputs, outer_inputs)))

    # ------------------------------------------------------------------ semantics
    def evaluate(self, values) -> list:
        """The outputs' values for one value per input, by the reference evaluator."""
        from aotsym.graph.evaluate import evaluate
        values = list(values)
        if len(values) != len(self.inputs):
            raise ValueError(f"InnerGraph.evaluate: {len(values)} values for "
                             f"{len(self.inputs)} inputs")
        return evaluate(self.outputs, dict(zip(self.inputs, values)))

    def infer_shape(self, input_shapes):
        """Output shapes from input shapes, by the inner ops' shape rules (whatever the
        entries are: symbolic int64 scalars, ints, or the memory planner's keys).  None when
        a rule along the way does not know."""
        shapes: dict = {}
        for v, shape in zip(self.inputs, input_shapes):
            shapes[id(v)] = tuple(shape)
        for node in self.nodes():
            in_shapes = []
            for v in node.inputs:
                if id(v) not in shapes:
                    if not isinstance(v, Constant):
                        return None
                    shapes[id(v)] = tuple(v.data.shape)
                in_shapes.append(shapes[id(v)])
            got = node.op.infer_shape(node, in_shapes)
            if got is None or any(e is None for shape in got for e in shape):
                return None
            for o, s in zip(node.outputs, got):
                shapes[id(o)] = tuple(s)
        result = []
        for v in self.outputs:
            if id(v) not in shapes:
                if not isinstance(v, Constant):
                    return None
                shapes[id(v)] = tuple(v.data.shape)
            result.append(shapes[id(v)])
        return result


def _check_closed(inputs, outputs):
    known = {id(v) for v in inputs}

    def check(v, node):
        if v.owner is None and id(v) not in known and not isinstance(v, Constant):
            where = f" created at {v.tag.trace}" if v.tag.trace else ""
            used = f", used by {node.op}" if node is not None else " (an output)"
            raise ClosednessError(
                f"the inner graph depends on the variable {v!r} ({v.type.describe()}){where}"
                f"{used}, which is not among its inputs; inner graphs are closed: pass it as "
                "an explicit input (e.g. in OpFromGraph's inputs list, or scan's "
                "non_sequences)")

    for v in outputs:
        check(v, None)
    for node in toposort(outputs):
        for v in node.inputs:
            check(v, node)


def _structural_key(inputs, outputs) -> tuple:
    """``(input types, ((op, input refs), ...), output refs)``; a ref is ``('i', k)`` for
    placeholder ``k``, ``('c', constant key)`` or ``(node number, output index)``."""
    refs: dict[int, tuple] = {id(v): ("i", k) for k, v in enumerate(inputs)}

    def ref(v):
        r = refs.get(id(v))
        if r is None:  # a constant (closedness was checked)
            r = refs[id(v)] = ("c", v._key)
        return r

    body = []
    for n, node in enumerate(toposort(outputs)):
        body.append((node.op, tuple(ref(v) for v in node.inputs)))
        for j, o in enumerate(node.outputs):
            refs[id(o)] = (n, j)
    return (tuple(v.type for v in inputs), tuple(body), tuple(ref(v) for v in outputs))


# ---------------------------------------------------------------------------- the interface


class HasInnerGraphs:
    """Mixin for ops that hold inner graphs (one interface, found generically).

    A subclass provides:

    ``inner_graphs``
        the tuple of :class:`InnerGraph` s it holds (part of its identity, ``__props__``);
    ``with_inner_graphs(graphs) -> op``
        an op like this one holding ``graphs`` instead (same count, same input and output
        types): how optimizer stages that ran inside rebuild the op;
    ``prune_outputs(node, used) -> Apply | None``
        drop outputs nobody reads.  ``used`` is the set of indices of ``node.outputs`` that
        are read (by a node or as a graph output).  Return None to keep the node as it is,
        or a new Apply ``new`` on outer inputs of the op's choosing with **exactly one output
        per used index, in increasing index order**: ``new.outputs[j]`` replaces
        ``node.outputs[sorted(used)[j]]`` and has its type.  An output the op cannot drop
        outright (a loop carry another carry reads) stays *inside* the new op as internal
        state; it is never handed back as an extra output.  The generic pass
        (:func:`aotsym.optimizer.inner.prune_unused_outputs`) checks this contract.
    """

    inner_graphs: tuple = ()

    def with_inner_graphs(self, graphs):
        raise NotImplementedError(f"{type(self).__name__}.with_inner_graphs")

    def prune_outputs(self, node, used):
        return None


def inner_graphs_of(op) -> tuple:
    """The inner graphs ``op`` holds; ``()`` for an ordinary op."""
    if isinstance(op, HasInnerGraphs):
        return tuple(op.inner_graphs)
    return ()


def copy_if_aliased(results, inputs) -> list:
    """``results`` with any array that shares memory with an input or an earlier result (or
    is read-only, e.g. a constant's data) copied: for ``perform`` of an op whose inner graph
    may return an input or a view of one, since the op declares no ``view_map``."""
    out: list = []
    for r in results:
        r = np.asarray(r)
        if not r.flags.writeable or any(
                isinstance(a, np.ndarray) and np.may_share_memory(r, a)
                for a in (*inputs, *out)):
            r = r.copy()
        out.append(r)
    return out
