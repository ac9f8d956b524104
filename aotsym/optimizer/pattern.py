"""The pattern language of local rewrites: ``(pattern -> replacement)`` with captured names.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  A local rewrite reads::

    x = P.var("x")
    Rule("log1p_from_log", P.log(P.add(1, x)), lambda x: m.log1p(x))

* ``P.<scalar op>(*args)`` (``P.exp``, ``P.add`` ...) matches an ``Elemwise`` of that row of
  the scalar table; commutative binary ops match either argument order;
* ``P.var("x")`` captures any variable under the name ``x``; a name used twice must capture
  the same variable (``P.sub(x, x)``); ``P.var("x", pred)`` also requires ``pred(var)``;
* a Python number (or ``P.const(v)``) matches a constant tensor whose elements all equal it,
  seen through the broadcasting ``DimShuffle`` the builders add (``1 + x`` stores ``1`` as
  ``DimShuffle{x,x}(1)``); ``P.const("c")`` captures any such constant's value as ``c``;
* ``P.op(OpClass_or_predicate, *args, name=...)`` matches any other op; ``name`` captures
  the matched *variable* too (``P.exp(x, name="e")`` likewise).

The replacement is a function of the captured names (and optionally ``node``, the matched
Apply) returning a Variable, a list of Variables (one per output), or ``None`` to decline.
Rules that a pattern cannot say are plain functions ``node -> replacement | None`` wrapped
in :class:`Rule` with ``pattern=None`` and a ``root`` saying which nodes to try.
"""

from __future__ import annotations

import inspect
import itertools
import weakref

import numpy as np

from aotsym.graph.basic import Constant
from aotsym.graph.ops.elemwise import DimShuffle, Elemwise
from aotsym.graph.scalar import SCALAR_OPS

# ---------------------------------------------------------------------------- constants


def constant_value(v):
    """The Python scalar every element of ``v`` equals, if ``v`` is such a constant; else None.

    Sees through broadcasting DimShuffles and ``second``/fill of a constant.
    """
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if not isinstance(v, Constant):
        return None
    data = v.data
    if data.size == 0:
        return None
    cached = _CONST_CACHE.get(v)
    if cached is not None:
        return cached[0]
    first = data.reshape(-1)[0]   # (.flat is limited to 32 dimensions)
    value = first.item() if (data.size == 1 or bool(np.all(data == first))) else None
    if value is not None and isinstance(value, float) and value != value:
        value = None  # NaN never equals a pattern value
    _CONST_CACHE[v] = (value,)
    return value


_CONST_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


# ---------------------------------------------------------------------------- patterns


class Pattern:
    """Base class; ``match(var, captures) -> bool`` fills ``captures`` on success."""

    root_key = None  # which nodes can match (see Rule.keys)

    def match(self, var, captures) -> bool:
        raise NotImplementedError


class Var(Pattern):
    def __init__(self, name, pred=None):
        self.name, self.pred = name, pred

    def match(self, var, captures):
        if self.pred is not None and not self.pred(var):
            return False
        prev = captures.get(self.name)
        if prev is not None:
            return prev is var
        captures[self.name] = var
        return True

    def __repr__(self):
        return self.name


class Const(Pattern):
    """A constant equal to ``value`` everywhere, or (``value`` a str) capture its value."""

    def __init__(self, value):
        self.value = value

    def match(self, var, captures):
        got = constant_value(var)
        if got is None:
            return False
        if isinstance(self.value, str):
            captures[self.value] = got
            return True
        return got == self.value and isinstance(got, bool) == isinstance(self.value, bool)

    def __repr__(self):
        return repr(self.value)


class OpPattern(Pattern):
    def __init__(self, op_match, args, name=None):
        self.op_match = op_match
        self.args = tuple(as_pattern(a) for a in args)
        self.name = name
        if isinstance(op_match, str):
            row = SCALAR_OPS[op_match]
            if row.nin != len(self.args):
                raise ValueError(f"P.{op_match} takes {row.nin} arguments")
            self.root_key = (Elemwise, op_match)
            self.commutative = row.commutative and len(self.args) == 2
        else:
            self.root_key = op_match if isinstance(op_match, type) else None
            self.commutative = False

    def _op_ok(self, op):
        m = self.op_match
        if isinstance(m, str):
            return type(op) is Elemwise and op.scalar_op.name == m and not op.inplace
        if isinstance(m, type):
            return isinstance(op, m)
        return bool(m(op))

    def match(self, var, captures):
        node = var.owner
        if node is None or not self._op_ok(node.op):
            return False
        if len(node.inputs) != len(self.args):
            return False
        if self.name is not None:
            prev = captures.get(self.name)
            if prev is not None and prev is not var:
                return False
            captures[self.name] = var
        saved = dict(captures)
        if all(p.match(v, captures) for p, v in zip(self.args, node.inputs)):
            return True
        if self.commutative:
            captures.clear()
            captures.update(saved)
            a, b = node.inputs
            if self.args[0].match(b, captures) and self.args[1].match(a, captures):
                return True
        captures.clear()
        captures.update(saved)
        if self.name is not None:
            captures.pop(self.name, None)
        return False

    def __repr__(self):
        head = self.op_match if isinstance(self.op_match, str) else getattr(
            self.op_match, "__name__", "op")
        return f"{head}({', '.join(map(repr, self.args))})"


def as_pattern(x) -> Pattern:
    if isinstance(x, Pattern):
        return x
    if isinstance(x, (bool, int, float, complex)):
        return Const(x)
    raise TypeError(f"not a pattern: {x!r}")


class _PatternBuilder:
    """``P.exp(x)``, ``P.add(1, x)``, ``P.var('x')``, ``P.const(1)``, ``P.op(Cls, ...)``."""

    @staticmethod
    def var(name, pred=None) -> Var:
        return Var(name, pred)

    @staticmethod
    def const(value) -> Const:
        return Const(value)

    @staticmethod
    def op(op_match, *args, name=None) -> OpPattern:
        return OpPattern(op_match, args, name=name)

    def __getattr__(self, opname):
        if opname not in SCALAR_OPS:
            raise AttributeError(f"P.{opname}: no scalar op of that name")

        def build(*args, name=None):
            return OpPattern(opname, args, name=name)
        return build


P = _PatternBuilder()


# ---------------------------------------------------------------------------- rules


class Rule:
    """A named local rewrite: ``pattern`` + ``build``, or a function of the node.

    ``build(**captures)`` (or ``build(node)`` when ``pattern`` is None) returns the
    replacement: a Variable (single-output nodes), a list of Variables, or None.  A build
    function that also takes ``ctx`` (function rules: a second parameter) gets the
    :class:`~aotsym.optimizer.engine.LocalRewriter`, whose ``n_readers(var)`` says how many
    nodes read a variable in the graph the stage started from.
    ``root`` (for function rules) is what the node must be: an Op class, a scalar op name
    (for ``Elemwise``), a tuple of those, or None for every node.
    """

    def __init__(self, name, pattern, build, root=None, doc=None):
        self.name = name
        self.pattern = pattern
        self.build = build
        self.doc = doc or getattr(build, "__doc__", None)
        if pattern is not None:
            params = inspect.signature(build).parameters
            self._wants_node = "node" in params
            self._wants_ctx = "ctx" in params
            keys = [pattern.root_key]
        else:
            self._wants_ctx = len(inspect.signature(build).parameters) > 1
            roots = root if isinstance(root, tuple) else (root,)
            keys = [_root_key(r) for r in roots]
        self.keys = tuple(keys)
        self.bit = 1 << next(_RULE_NUMBERS)  # its bit in the engine's masks of declined rules

    def apply(self, node, ctx=None):
        if self.pattern is None:
            return self.build(node, ctx) if self._wants_ctx else self.build(node)
        captures: dict = {}
        if not self.pattern.match(node.outputs[0], captures):
            return None
        captures = {k: v for k, v in captures.items()}
        if self._wants_node:
            captures["node"] = node
        if self._wants_ctx:
            captures["ctx"] = ctx
        return self.build(**captures)

    def __repr__(self):
        return f"Rule({self.name})"


_RULE_NUMBERS = itertools.count()


def rule(name, root=None):
    """Decorator: a function rule ``fn(node) -> replacement | None`` tried on ``root`` nodes."""
    def wrap(fn):
        return Rule(name, None, fn, root=root, doc=fn.__doc__)
    return wrap


def _root_key(r):
    """A rule root: a scalar op name (its Elemwise), an Op class, or an op class *name*
    written as a capitalized string ("Reshape"), for ops a rule module need not import."""
    if isinstance(r, str):
        return ("op", r) if r[:1].isupper() else (Elemwise, r)
    return r


class RuleSet:
    """A named, ordered list of rules, indexed by the kind of node they can match."""

    def __init__(self, name, rules):
        self.name = name
        self.rules = list(rules)
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"RuleSet {name}: duplicate rule names")
        self._by_key: dict = {}
        self._generic = [r for r in self.rules if None in r.keys]
        self._cache: dict = {}

    def __add__(self, other: "RuleSet") -> "RuleSet":
        return RuleSet(f"{self.name}+{other.name}", self.rules + other.rules)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self):
        return len(self.rules)

    def candidates(self, op) -> list:
        """Rules that may match a node of ``op`` (in list order)."""
        if type(op) is Elemwise:
            key = (Elemwise, op.scalar_op.name)
        else:
            key = type(op)
            named = self._cache.get(("name", key))
            if named is None:
                named = self._cache[("name", key)] = [
                    r for r in self.rules if ("op", key.__name__) in r.keys]
        found = self._cache.get(key)
        if found is None:
            found = []
            for r in self.rules:
                for k in r.keys:
                    if k is None or k == key or (isinstance(k, type) and isinstance(op, k)
                                                 and type(op) is not Elemwise) or (
                            k is Elemwise and type(op) is Elemwise):
                        found.append(r)
                        break
            if type(op) is not Elemwise:
                found = [r for r in self.rules if r in found or r in named]
            self._cache[key] = found
        return found
