"""The cache key of a build taken from the graphs as the user made them, before optimizing.

Part of the build stage (frontend -> **build**: looked up before the optimizer runs).  The
module cache (:mod:`.cache`) is keyed on the emitted C, which is known only after optimizing
and emitting — 0.2 s for a 1,000-node graph, 2 s for 10,000, spent again on every cache hit.
:func:`graph_key` is a digest of what decides the built module, known before any of that:

* each function's unoptimized graph: every node's op (its class and ``__props__``, inner
  graphs by their own digest), where each input comes from (a graph input by position, a
  constant by type and bytes, an output of an earlier node), every variable's type, name and
  the user line that made it (the text of run-time error messages comes from them), the
  graph's outputs and its ``meta`` (updates);
* each function's name, docstring, argument count and output convention (not its label:
  how messages name the function and its arguments is given to the module when it loads);
* the optimizer mode and the build options, the compiler's identity, the Python ABI, the
  NumPy version, and a fingerprint of aotsym's own source files and runtime (so an edited
  checkout never loads a module built by the previous code).

The driver (:mod:`.driver`) records under this key which module the graphs built into and
what a call needs without the graphs (each step's description, the outputs' types), and on
a hit loads that module without optimizing or emitting.  A graph the digest cannot vouch for
— an op, type or property value defined outside aotsym (a user's ``Op`` subclass: two
scripts may define different ops under one name), or a property of a kind it does not know
— has no key (None), and is built the long way, keyed on its emitted C as before.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os

import numpy as np

import aotsym
from aotsym.graph.basic import Constant
from aotsym.graph.inner import InnerGraph
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType

__all__ = ["graph_key", "source_fingerprint", "Unkeyable"]

SOURCE_SUFFIXES = (".py", ".j2", ".c", ".h", ".cuh")


class Unkeyable(Exception):
    """A value the digest cannot vouch for (see the module docstring)."""


def graph_key(assembled: list, mode: str, options, environment: dict) -> str | None:
    """The digest of building ``assembled`` (``AssembledFunction``s) with ``mode`` and
    ``options`` (a ``BuildOptions``) in ``environment`` (what else decides the binary: the
    compiler's identity, flags, versions); None when a graph has no key."""
    h = hashlib.sha256()
    h.update(repr((mode, sorted(vars(options).items()) if hasattr(options, "__dict__")
                   else repr(options), sorted(environment.items()),
                   aotsym.__version__, source_fingerprint())).encode())
    try:
        for fn in assembled:
            # (not fn.label nor fn.labels: messages name the arguments from them at load)
            h.update(repr((fn.name, fn.n_args, fn.n_outputs, fn.single_output,
                           fn.doc)).encode())
            h.update(_GraphDigest().fgraph(fn.fgraph).encode())
    except Unkeyable:
        return None
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """The size and modification time of every source file of aotsym and its runtime."""
    from aotsym.resources import runtime_dir
    package = os.path.dirname(os.path.abspath(aotsym.__file__))
    h = hashlib.sha256()
    for root in (package, runtime_dir()):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES):
                    st = os.stat(os.path.join(dirpath, name))
                    h.update(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


class _GraphDigest:
    """One graph's text for the digest; ops and constants encoded once each."""

    def __init__(self):
        # ops, types and source lines are written out once, where first met, and named by
        # their number after that (a 10k-node graph's text: 0.4 MB, not 1.2 MB); the caches
        # key on id(): the objects stay alive in the graph while one digest is made
        self._ops: dict = {}
        self._types: dict = {}
        self._lines: dict = {}
        self._constants: dict = {}
        self._defs: list = []      # definitions not yet written into a graph's text
        self._count = 0

    def _define(self, kind: str, text: str) -> str:
        name = f"{kind}{self._count}"
        self._count += 1
        self._defs.append(f"{name}={text}")
        return name

    def fgraph(self, fgraph) -> str:
        return self.graph(fgraph.inputs, fgraph.outputs, fgraph.toposort(), fgraph.meta)

    def graph(self, inputs, outputs, nodes, meta=None) -> str:
        where: dict = {}
        parts = []
        variable, ref, op = self.variable, self.ref, self.op
        for k, v in enumerate(inputs):
            where[id(v)] = f"i{k}"
            parts.append(f"in {k} {variable(v)}")
        for n, node in enumerate(nodes):   # (the hot loop of a cached build: 10k nodes)
            args = ",".join([where.get(id(v)) or ref(v, where) for v in node.inputs])
            outs = []
            for j, out in enumerate(node.outputs):
                where[id(out)] = f"n{n}.{j}"
                outs.append(variable(out))
            parts.append(f"node {n} {op(node.op)} ({args}) -> {' '.join(outs)}")
        parts.append("out " + ",".join(ref(v, where) for v in outputs))
        if meta:
            node_ref = {id(node): str(n) for n, node in enumerate(nodes)}
            parts.append("meta " + self.value(meta, node_ref))
        # the definitions met so far first (those met in an inner graph go into its text)
        text = "\n".join(self._defs + parts)
        self._defs = []
        return text

    def ref(self, v, where: dict) -> str:
        """Where ``v`` comes from: an input or a node's output (``where``), or a constant."""
        ref = where.get(id(v))
        if ref is not None:
            return ref
        if not isinstance(v, Constant):
            raise Unkeyable(f"a free variable {v!r} in the graph")
        return self.constant(v)

    def variable(self, v) -> str:
        t = self._types.get(id(v.type))
        if t is None:
            t = self._types[id(v.type)] = self._define("t", self.type(v.type))
        return f"{t}:{v.name!r}:{self.line(v.tag.trace)}"

    def line(self, trace) -> str:
        if trace is None:
            return "-"
        key = (trace.filename, trace.lineno, trace.function, trace.note)
        name = self._lines.get(key)
        if name is None:
            name = self._lines[key] = self._define("l", repr((*key, trace.line_text())))
        return name

    def constant(self, c) -> str:
        data = c.data
        raw = data.tobytes()
        key = (self.type(c.type), data.shape,
               raw.hex() if len(raw) <= 64 else hashlib.sha256(raw).hexdigest(), c.name)
        name = self._constants.get(key)
        if name is None:
            name = self._constants[key] = self._define("c", repr(key))
        return name

    def type(self, t) -> str:
        if type(t) is not TensorType:
            return self.value(t, {})
        return f"{t.dtype}{''.join('b' if b else '.' for b in t.broadcastable)}"

    def op(self, op) -> str:
        name = self._ops.get(id(op))
        if name is None:
            name = self._ops[id(op)] = self._define("o", self.value(op, {}))
        return name

    def value(self, v, nodes: dict) -> str:
        if v is None or isinstance(v, (bool, int, str, bytes, float, complex)):
            return repr(v)
        if isinstance(v, (tuple, list)):
            return "(" + ",".join(self.value(x, nodes) for x in v) + ")"
        if isinstance(v, (dict,)):
            items = sorted((self.value(k, nodes), self.value(x, nodes)) for k, x in v.items())
            return "{" + ",".join(f"{k}:{x}" for k, x in items) + "}"
        if isinstance(v, (frozenset, set)):
            return "set(" + ",".join(sorted(self.value(x, nodes) for x in v)) + ")"
        if isinstance(v, np.dtype):
            return f"dtype:{v.str}"
        if isinstance(v, np.ndarray):
            return (f"array:{v.dtype.str}:{v.shape}:"
                    f"{hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()}")
        if isinstance(v, np.generic):
            return f"{v.dtype.str}:{v.item()!r}"
        if id(v) in nodes:
            return "node" + nodes[id(v)]
        cls = type(v)
        if not cls.__module__.startswith("aotsym."):
            raise Unkeyable(f"{cls.__module__}.{cls.__qualname__}")
        name = f"{cls.__module__}.{cls.__qualname__}"
        if isinstance(v, InnerGraph):
            return f"inner[{self.graph(v.inputs, v.outputs, v.nodes())}]"
        if isinstance(v, TensorType):
            return self.type(v)
        if isinstance(v, Op) or hasattr(cls, "__props__"):
            return f"{name}{self.value(tuple(getattr(v, p) for p in cls.__props__), nodes)}"
        if dataclasses.is_dataclass(v):    # its identity: the fields equality compares
            return name + self.value(tuple(getattr(v, f.name) for f in dataclasses.fields(v)
                                           if f.compare), nodes)
        raise Unkeyable(name)
