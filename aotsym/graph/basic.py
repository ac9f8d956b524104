"""Graph nodes: variables, constants and apply nodes, hash-consed.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Invariants:

* Nodes are immutable once made.  An :class:`Apply` is *interned*: applying an equal op to the
  same input variables returns the existing node, so common subexpressions are one node and
  structural equality is identity.  Constants are interned by dtype, shape and bytes.
  One exception, Theano's rule for its users: an expression the user spells again (a call
  from user code, no :func:`traced_as` in force) is a new variable with its own name and
  tag (``a = x + 1; b = x + 1``: ``a is not b``); :func:`interned` (the optimizer's merge
  stage) makes it the interned node again.  Work on constants alone stays one node.
* Names and source locations live in ``Variable.name`` / ``Variable.tag``, beside the graph;
  they take no part in hashing or interning.
* A new node records where the user asked for it: the innermost stack frame outside aotsym
  (:func:`user_source_info`), unless code that builds nodes on the user's behalf (the
  optimizer, ``grad``) says which user line they stand for, with :func:`traced_as` or
  ``apply(..., trace=...)``.  So a node a rewrite makes carries the line of the expression it
  replaces, not the line that called the optimizer.
* Every traversal here is iterative: a 100,000-node chain never meets Python's recursion limit.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref

import numpy as np

from aotsym.graph import test_values
from aotsym.graph.types import TensorType

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SourceInfo:
    """Where the user created a node: file, line number and the line's text.

    ``note`` says how a node made on the user's behalf relates to that line (a gradient node
    carries the line of the expression it differentiates, noting where ``grad`` was taken).
    """

    __slots__ = ("filename", "lineno", "function", "note")

    def __init__(self, filename, lineno, function, note=None):
        self.filename, self.lineno, self.function = filename, lineno, function
        self.note = note

    def noted(self, note) -> "SourceInfo":
        """The same line, with ``note``."""
        return SourceInfo(self.filename, self.lineno, self.function, note)

    def short(self) -> str:
        """``file.py:12``."""
        return f"{os.path.basename(self.filename)}:{self.lineno}"

    def line_text(self) -> str:
        import linecache
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self):
        text = self.line_text()
        where = f'File "{self.filename}", line {self.lineno}, in {self.function}'
        if text:
            where += f"\n    {text}"
        return f"{where}\n    ({self.note})" if self.note else where


_IS_USER_FILE: dict[str, bool] = {}


def _is_user_file(filename: str) -> bool:
    known = _IS_USER_FILE.get(filename)
    if known is None:
        known = not (os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)
                     or filename.startswith("<frozen"))
        _IS_USER_FILE[filename] = known
    return known


_SOURCES: dict = {}   # (code, line) -> its SourceInfo: a loop's nodes share their line's


def user_source_info() -> SourceInfo | None:
    """The innermost stack frame outside the aotsym package: the user's line."""
    frame = sys._getframe(1)
    known = _IS_USER_FILE.get       # (_is_user_file inlined: ~7 frames a node)
    while frame is not None:
        code = frame.f_code
        user = known(code.co_filename)
        if user is None:
            user = _is_user_file(code.co_filename)
        if user:
            key = (code, frame.f_lineno)
            info = _SOURCES.get(key)
            if info is None:
                if len(_SOURCES) > 4096:      # (code made by exec: keep the memo bounded)
                    _SOURCES.clear()
                info = _SOURCES[key] = SourceInfo(code.co_filename, key[1], code.co_name)
            return info
        frame = frame.f_back
    return None


FROM_STACK = object()  # "no override": a new node looks up the user's frame on the stack


class _Override(threading.local):
    trace = FROM_STACK


_OVERRIDE = _Override()


def creation_trace():
    """The source line a node made now records: the override in force, else the user's
    innermost frame (see :func:`traced_as`)."""
    trace = _OVERRIDE.trace
    return user_source_info() if trace is FROM_STACK else trace


def set_trace_override(trace):
    """Nodes made from now on (in this thread) record ``trace`` (a :class:`SourceInfo` or
    None; ``FROM_STACK`` to walk the stack again).  Returns the previous setting, which the
    caller restores.  For loops that switch per node; elsewhere use :func:`traced_as`."""
    previous = _OVERRIDE.trace
    _OVERRIDE.trace = trace
    return previous


class traced_as:
    """``with traced_as(trace):`` every node made inside records ``trace`` as its source.

    For code that builds nodes on the user's behalf: a rewrite's replacement stands for the
    node it replaces, a gradient for the expression it differentiates.  It also spares the
    stack walk of :func:`user_source_info` for each new node.
    """

    __slots__ = ("trace", "previous")

    def __init__(self, trace):
        self.trace = trace

    def __enter__(self):
        self.previous = set_trace_override(self.trace)
        return self

    def __exit__(self, *exc):
        _OVERRIDE.trace = self.previous


def trace_of(node):
    """The source line of an Apply node (that of its first output)."""
    return node.outputs[0].tag.trace


class Tag:
    """Mutable annotations beside a variable: source line, test value, anything else.

    ``trace``: the :class:`SourceInfo` of the user's line that made it (or None);
    ``fused_traces`` (only on a fused node's first output): the lines of every user
    expression that node computes.
    """

    __slots__ = ("trace", "test_value", "__dict__")

    def __init__(self, trace=None):
        self.trace = trace
        self.test_value = None


class _TagAttribute:
    """A variable's attribute kept in its tag, read-only: a non-data descriptor, so a
    variable with a ``__dict__`` (a shared variable) may still set its own."""

    def __init__(self, key, name):
        self.key, self.name = key, name

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = obj.tag.__dict__.get(self.key)
        if value is None:
            raise AttributeError(f"{obj!r} has no {self.name}: only variables a random "
                                 "stream made (srng.uniform(...) ...) have one")
        return value


class Variable:
    """A value in the graph: an input (``owner is None``) or output ``index`` of an Apply.

    Operator overloading (``x + y``, ``x.sum()``, ``x[1:]`` ...) is installed by
    :mod:`aotsym.graph.methods` once the ops exist.  Any other attribute may be set on a
    variable, as on Theano's (Keras keeps ``_keras_shape`` and ``_keras_history`` on every
    tensor it makes); the dict exists only for a variable that is given one.
    """

    __slots__ = ("type", "owner", "index", "name", "tag", "__weakref__", "__dict__")
    __array_priority__ = 1000  # so ndarray + Variable defers to Variable.__radd__

    def __init__(self, type: TensorType, owner=None, index=None, name=None, trace=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag(trace if trace is not None or owner is not None else creation_trace())

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple:
        return self.type.broadcastable

    def __repr__(self):
        if self.name is not None:
            text = self.name
        elif self.owner is not None:
            out = f".{self.index}" if len(self.owner.outputs) > 1 else ".0"
            text = f"{self.owner.op}{out}"
        else:
            text = f"<{self.type!r}>"   # Theano's: <TensorType(float32, matrix)>
        test_value = getattr(self.tag, "test_value", None)
        if test_value is not None:   # Theano's print_test_value: the value on a line below
            from aotsym.config import config
            if config.print_test_value:
                from aotsym.graph.checking import filter_value
                try:   # (as the variable's type holds it: x.tag.test_value = 42 -> array(42.))
                    test_value = filter_value(test_value, self.type)
                except (TypeError, ValueError):
                    pass
                text += "\n" + repr(test_value)
        return text

    def __bool__(self):
        """Theano 1.0's rule: a variable is truthy (``if not W:`` is a None check), except a
        boolean-valued one (a comparison, ``isnan``, ``&`` of those ...), whose truth would
        be a decision on values not known yet: that is the TypeError naming the user's line
        and pointing to ``aotsym.ifelse`` / ``T.switch`` / ``aotsym.scan``."""
        if self.type.dtype == "bool":
            from aotsym.graph.errors import symbolic_bool_error
            raise symbolic_bool_error(self)
        return True

    def __reduce_ex__(self, protocol):
        """Pickling and ``copy.deepcopy``: an input (owner None) by its fields; a computed
        variable as the flat list of the nodes it depends on (:func:`_graph_recipe`),
        rebuilt on load through :func:`apply`, so the nodes are interned again and a graph
        of any depth pickles without recursion."""
        if self.owner is None:
            return object.__reduce_ex__(self, protocol)
        return (_rebuild_from_recipe, _graph_recipe(self))

    # identity, as Theano's (``x == y`` is not elementwise: T.eq is).  object's own slots,
    # not Python methods: the optimizer hashes variables ~20 times a node (W7's 10,000-op
    # chain: 175,000 calls, 55 ms as Python functions)
    __hash__ = object.__hash__
    __eq__ = object.__eq__

    # a random variable's generator and (state, new state) (Theano's rv.rng, rv.update;
    # a random stream sets them)
    rng = _TagAttribute("rng_handle", "rng")
    update = _TagAttribute("update", "update")

    def get_test_value(self):
        """The variable's test value (Theano's): ``tag.test_value``, a constant's or shared
        variable's value, or what ``compute_test_value`` computed; TestValueError if none."""
        value = test_values.test_value(self)
        if value is None:
            raise test_values.TestValueError(
                f"{self!r} has no test value (set x.tag.test_value, or turn "
                "aotsym.config.compute_test_value on before building the graph)")
        return value

    def __iter__(self):
        """A vector whose length the graph knows (a shape, a constant, a stack of scalars:
        Theano's get_vector_length) iterates over its entries, ``self[i]``, so that
        ``n, d = T.shape(X)`` unpacks; any other tensor refuses."""
        n = self._known_length()
        if n is None:
            raise TypeError(
                "a symbolic tensor cannot be iterated in Python: its length is not known when "
                "the graph is built; use aotsym.scan to loop over it, or index it (x[0], x[1:])")
        return (self[i] for i in range(n))

    def __len__(self):
        n = self._known_length()
        if n is None:
            raise TypeError("len() of a symbolic tensor is not known when the graph is built; "
                            "use x.shape[0]")
        return n

    def _known_length(self):
        if getattr(self.type, "ndim", None) != 1:
            return None
        if self.owner is None:
            data = getattr(self, "data", None)   # a constant vector: any dtype
            return None if data is None else len(data)
        if self.type.dtype[0] not in "iu":
            return None
        from aotsym.graph.ops.shape import vector_entries
        entries = vector_entries(self)
        return None if entries is None else len(entries)

    def clone(self, name=None) -> "Variable":
        """A fresh input variable of the same type (not part of any graph)."""
        return Variable(self.type, name=self.name if name is None else name,
                        trace=self.tag.trace)


class Constant(Variable):
    """A variable with a fixed value, interned: equal constants are one node."""

    __slots__ = ("data", "_key")

    @property
    def value(self):
        """The value (Theano's ``TensorConstant.value``; read-only)."""
        return self.data
    _interned: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()

    def __new__(cls, type: TensorType, data, name=None):
        data = np.asarray(data, dtype=type.dtype)
        if data.ndim != type.ndim:
            raise ValueError(f"constant of ndim {data.ndim} for type {type}")
        if not data.flags.c_contiguous or data.base is not None:
            data = data.copy()  # (np.ascontiguousarray would make a 0-d array 1-d)
        data.setflags(write=False)
        key = (type, data.shape, data.tobytes())
        found = cls._interned.get(key)
        if found is not None:
            return found
        self = object.__new__(cls)
        Variable.__init__(self, type, name=name, trace=False)
        self.data = data
        self._key = key
        cls._interned[key] = self
        return self

    def __init__(self, type, data, name=None):
        pass  # all work is done in __new__ (interning)

    def __repr__(self):
        if self.name is not None:
            return self.name
        if self.data.size <= 8:
            return np.array2string(self.data, separator=", ") if self.data.ndim else str(self.data)
        return f"Constant{{{self.type}}}"

    def __reduce__(self):
        return (Constant, (self.type, np.array(self.data), self.name))


def _graph_recipe(var) -> tuple:
    """``(nodes, (k, j))``: ``var`` is output ``j`` of ``nodes[k]``; each node is ``(op,
    inputs, outputs' (name, tag))``, an input being a leaf variable or ``(k, j)``."""
    order = toposort([var])
    where = {id(o): (k, j) for k, node in enumerate(order) for j, o in enumerate(node.outputs)}
    nodes = tuple((node.op, tuple(where.get(id(v), v) for v in node.inputs),
                   tuple((o.name, o.tag) for o in node.outputs)) for node in order)
    return nodes, where[id(var)]


def _rebuild_from_recipe(nodes, target):
    """The variable a :func:`_graph_recipe` describes, rebuilt (interned nodes reused)."""
    built: list = []
    for op, refs, metas in nodes:
        inputs = tuple(r if isinstance(r, Variable) else built[r[0]].outputs[r[1]]
                       for r in refs)
        node = Apply._interned.get((op, inputs))
        if node is None:
            node = apply(op, inputs, trace=None)
            for out, (name, tag) in zip(node.outputs, metas):
                out.name, out.tag = name, tag
        built.append(node)
    k, j = target
    return built[k].outputs[j]


def constant(value, dtype=None, name=None) -> Constant:
    """A constant tensor; broadcastable where its length is 1 (as Theano does)."""
    arr = np.asarray(value, dtype=dtype)
    if arr.dtype == object:
        raise TypeError(f"cannot make a constant of {value!r}")
    if dtype is None and arr.dtype.kind == "f" and arr.dtype.itemsize < 4:
        arr = arr.astype("float32")
    return Constant(TensorType(arr.dtype, [n == 1 for n in arr.shape]), arr, name=name)


class Apply:
    """One application of an op to input variables, producing output variables.

    Made only through :meth:`aotsym.graph.op.Op.__call__` / :func:`apply`, which intern it.
    """

    __slots__ = ("op", "inputs", "outputs", "__weakref__")
    _interned: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()

    def __init__(self, op, inputs, output_types, trace=None):
        self.op = op
        self.inputs = tuple(inputs)
        # (Theano's spelling, in a user's make_node: Apply(self, [x], [x.type()]), outputs
        # given as fresh variables: their types)
        if len(output_types) == 1 and not isinstance(output_types[0], Variable):
            self.outputs = (Variable(output_types[0], self, 0, None, trace),)   # (most nodes)
            return
        self.outputs = tuple(Variable(t.type if isinstance(t, Variable) else t, owner=self,
                                      index=i, trace=trace)
                             for i, t in enumerate(output_types))

    def __repr__(self):
        return f"{self.op}({', '.join(map(repr, self.inputs))})"

    @property
    def out(self) -> Variable:
        (single,) = self.outputs
        return single


_INTERNED = Apply._interned.data   # key -> weak reference to the node


def apply(op, inputs, trace=FROM_STACK) -> Apply:
    """The interned Apply of ``op`` on ``inputs`` (inputs must already be Variables).

    A new node records ``trace`` as its source line; by default the override in force or the
    user's frame (:func:`creation_trace`).  An existing equal node keeps its own.  With
    ``config.compute_test_value`` on, the node is computed on its inputs' test values
    (:mod:`aotsym.graph.test_values`).
    """
    inputs = tuple(inputs)
    key = (op, inputs)
    ref = _INTERNED.get(key)        # (the WeakValueDictionary's own dict: no Python-level get)
    node = None if ref is None else ref()
    if node is None:
        output_types = op.output_types(inputs)
        if trace is FROM_STACK:
            trace = creation_trace()
        node = Apply(op, inputs, output_types, trace=trace)
        Apply._interned[key] = node
    elif trace is FROM_STACK and _OVERRIDE.trace is FROM_STACK and \
            not all(isinstance(v, Constant) for v in inputs):
        # the user spells an expression again: a variable of its own, as in Theano (its
        # name and tag are its own); the optimizer's merge makes the two one node.  Work on
        # constants alone stays one node (``x * 0.5`` broadcasts the 0.5 each time: W7's
        # chain would carry 2,000 copies of two broadcasts through its key and merge)
        node = Apply(op, inputs, [o.type for o in node.outputs], trace=user_source_info())
    if test_values.wanted():
        test_values.compute(node)
    return node


def rebuild(node, inputs, op=None, same_values=False) -> Apply:
    """``node``'s op (or ``op``, a variant of it) applied to ``inputs``, for passes that
    rebuild a graph: a node made here takes ``node``'s source information, output by output
    (an existing equal node keeps its own).  ``same_values``: each new input holds the value
    of the one it replaces (a rewrite's replacement, a merged node), so with the same op and
    input types the node's output types still hold and the op is not asked again (a pass
    rebuilds every node after the one it rewrote: W7's 10,000-op chain made 20,000 rebuilds,
    a third of their time in type inference).  Substitutions of other values (givens,
    clone_replace) must ask: a Reshape's output type depends on its shape's value."""
    op = node.op if op is None else op
    inputs = tuple(inputs)
    key = (op, inputs)
    found = Apply._interned.get(key)
    if found is not None:
        return found
    same_op = op is node.op and len(inputs) == len(node.inputs)
    if same_op and all(a is b for a, b in zip(inputs, node.inputs)):
        Apply._interned[key] = node   # (a user's second spelling whose first is gone)
        return node
    if same_values and same_op and all(a.type == b.type for a, b in zip(inputs, node.inputs)):
        new = Apply._interned[key] = Apply(op, inputs, [o.type for o in node.outputs],
                                           trace=node.outputs[0].tag.trace)
    else:   # (other values: the op converts its inputs as when the user applies it)
        new = apply(op, op.make_node_inputs(*inputs), trace=node.outputs[0].tag.trace)
    for old, out in zip(node.outputs, new.outputs):
        out.tag.trace = old.tag.trace
        if old.tag.__dict__:
            out.tag.__dict__.update(old.tag.__dict__)
    return new


def interned(outputs) -> tuple[list, int]:
    """``outputs`` with every node replaced by the interned node of its structure (two
    spellings of one expression become one variable: the optimizer's merge), and how many
    nodes were replaced."""
    memo: dict = {}
    merged = 0
    for node in toposort(list(outputs)):
        new = rebuild(node, [memo.get(id(v), v) for v in node.inputs], same_values=True)
        if new is not node:
            merged += 1
            for o, n in zip(node.outputs, new.outputs):
                memo[id(o)] = n
    return [memo.get(id(v), v) for v in outputs], merged


# ---------------------------------------------------------------------------- traversal


def _inner_outputs(node) -> list:
    """Outputs of the inner graphs ``node``'s op holds (see :mod:`aotsym.graph.inner`; found
    by the ``inner_graphs`` attribute, which this module cannot import the mixin to check)."""
    graphs = getattr(node.op, "inner_graphs", None)
    if not graphs:
        return []
    return [v for g in graphs for v in g.outputs]


def toposort(outputs, enter_inner=False) -> list[Apply]:
    """Apply nodes reachable from ``outputs``, every node after the nodes it reads.

    ``enter_inner``: also the nodes of the inner graphs of ops that hold them (recursively),
    each inner graph's nodes in their own order just before the node holding it (inner graphs
    are closed, so this order is valid for both).  Default: an op holding inner graphs is one
    node, as every pass that does not explicitly enter sees it.
    """
    # nodes themselves are the set's keys (Apply hashes by identity); a node stays on the
    # stack while its inputs are visited and is emitted when met again (about twice as
    # fast as (node, flag) pairs and id() keys: 10k nodes in about 10 ms)
    order: list[Apply] = []
    done: set = set()
    entered: set = set()
    stack = [v.owner for v in reversed(list(outputs)) if v.owner is not None]
    while stack:
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        if node in entered:
            stack.pop()
            done.add(node)
            order.append(node)
            continue
        entered.add(node)
        for inp in node.inputs[::-1]:
            owner = inp.owner
            if owner is not None and owner not in done:
                stack.append(owner)
        if enter_inner:
            for inp in reversed(_inner_outputs(node)):
                if inp.owner is not None and inp.owner not in done:
                    stack.append(inp.owner)
    return order


def graph_inputs(outputs, enter_inner=False) -> list[Variable]:
    """Variables without an owner (inputs and constants) that ``outputs`` depend on;
    ``enter_inner``: with those of inner graphs (their placeholders and constants) too."""
    return inputs_of(outputs, toposort(outputs, enter_inner), enter_inner)


def inputs_of(outputs, order, enter_inner=False) -> list[Variable]:
    """:func:`graph_inputs` of ``outputs`` from their :func:`toposort` ``order``, already
    made."""
    seen, result = set(), []
    for v in outputs:
        if v.owner is None and id(v) not in seen:
            seen.add(id(v))
            result.append(v)
    for node in order:
        if enter_inner:
            for v in _inner_outputs(node):
                if v.owner is None and id(v) not in seen:
                    seen.add(id(v))
                    result.append(v)
        for v in node.inputs:
            if v.owner is None and id(v) not in seen:
                seen.add(id(v))
                result.append(v)
    return result


def ancestors(outputs, enter_inner=False) -> list[Variable]:
    """Every variable ``outputs`` depend on, themselves included (``enter_inner``: and every
    variable of the inner graphs on the way)."""
    result, seen = [], set()
    for v in graph_inputs(outputs, enter_inner):
        seen.add(id(v))
        result.append(v)
    for node in toposort(outputs, enter_inner):
        for v in node.outputs:
            if id(v) not in seen:
                seen.add(id(v))
                result.append(v)
    return result


def clients(outputs, enter_inner=False, order=None) -> dict[int, list[tuple[Apply, int]]]:
    """For each variable id, the (node, input position) pairs that read it (``enter_inner``:
    inner nodes reading inner variables too; an inner graph's outputs are read by no node).
    ``order``: ``toposort(outputs, enter_inner)``, when the caller has it."""
    result: dict[int, list] = {}
    for node in order if order is not None else toposort(outputs, enter_inner):
        for i, v in enumerate(node.inputs):
            result.setdefault(id(v), []).append((node, i))
    return result


def clone_replace(outputs, replace: dict) -> list[Variable]:
    """Rebuild ``outputs`` with the variables in ``replace`` substituted (each replacement
    taken as it is: not rebuilt, not substituted into).

    It never enters inner graphs: they are closed (every free variable is one of their own
    placeholders), so no outer variable occurs inside one, and a node whose op holds inner
    graphs is rebuilt on its substituted outer inputs with its op unchanged.  To substitute
    inside an inner graph, rebuild it (``InnerGraph.with_outputs``) and the op
    (``with_inner_graphs``)."""
    memo = {id(k): v for k, v in replace.items()}
    for node in toposort(outputs):
        new_inputs = [memo.get(id(v), v) for v in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        new_node = rebuild(node, new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            # a variable given a replacement keeps it, whatever its ancestors became
            # (Theano's: clone(c + 1, {x: x2, c: c2}) is c2 + 1, c = x * 2 or not)
            memo.setdefault(id(old), new)
    return [memo.get(id(v), v) for v in outputs]
