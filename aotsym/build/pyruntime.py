"""The Python half of a built module: argument conversion on the slow path, shared state,
state files, profiles.

Part of the build stage (emit_c -> **build** -> module.so).  This file needs only NumPy: it is
imported by aotsym in-process, and its source is copied into every standalone module that
``aotsym build`` writes (which must import without aotsym).

A generated function's C entry checks its arguments on a fast path (an aligned, native
ndarray of the declared dtype and ndim, length 1 on broadcastable dimensions).  Anything else
comes here: ``filter_value`` (Theano's rules and messages, :mod:`aotsym.graph.checking`)
converts or rejects each argument, and the C entry is called again with the converted values.
"""

import json
import sys

import numpy as np


class FunctionSignature:
    """What the slow path needs to know about one exported function."""

    def __init__(self, name, arg_labels, arg_types):
        self.name = name
        self.arg_labels = list(arg_labels)
        self.arg_types = list(arg_types)


class ArgType:
    """A stand-in for ``TensorType`` where aotsym is not installed: dtype and pattern."""

    def __init__(self, dtype, broadcastable):
        self.dtype = dtype
        self.broadcastable = tuple(broadcastable)

    @property
    def ndim(self):
        return len(self.broadcastable)

    def describe(self):
        """Words for error messages, as ``TensorType.describe``: 'a float32 matrix'."""
        names = {0: "scalar", 1: "vector", 2: "matrix"}
        shape = names.get(self.ndim, f"{self.ndim}-d tensor")
        if self.ndim == 2 and self.broadcastable == (True, False):
            shape = "row"
        elif self.ndim == 2 and self.broadcastable == (False, True):
            shape = "col"
        return f"a {self.dtype} {shape}"

    def __str__(self):
        shape = ", ".join("1" if b else "?" for b in self.broadcastable)
        return f"{self.dtype}[{shape}]" if self.ndim else self.dtype


def behaved(arr):
    """``arr`` itself, or an aligned native-byte-order copy the C code can read."""
    if arr.flags.aligned and arr.dtype.isnative:
        return arr
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), copy=True)


def make_slowpath(signatures, entries, filter_value):
    """The callable the C entries call with ``(function index, args tuple)``."""

    def slowpath(index, args):
        sig = signatures[index]
        n = len(sig.arg_types)
        if len(args) != n:
            raise TypeError(f"{sig.name}() takes {n} argument{'s' * (n != 1)}, "
                            f"got {len(args)}")
        fixed = [behaved(filter_value(value, ttype, what=label))
                 for value, ttype, label in zip(args, sig.arg_types, sig.arg_labels)]
        return entries[index](*fixed)

    return slowpath


def register(ext, key):
    """Run an extension's registration: its functions appear as ``sys.modules[key]``."""
    if ext.lib.aot_register(key.encode()) != 0:
        message = ext.ffi.string(ext.lib.aot_register_error()).decode()
        raise ImportError(f"loading the aotsym module {ext.__name__}: {message}")
    return sys.modules.pop(key)


# ------------------------------------------------------------------------------ shared state


class SharedValue:
    """The state of a built module: ``get_value()`` / ``set_value(v)`` as ``aotsym.shared``."""

    def __init__(self, module_name, name, type, value, filter_value):
        self.module_name = module_name
        self.name = name
        self.type = type
        self._filter = filter_value
        self._value = self._check(value, copy=True)

    def _check(self, value, copy):
        return self._filter(value, self.type, what=f"{self.module_name}.{self.name}",
                            copy=copy)

    @property
    def dtype(self):
        return self.type.dtype

    def get_value(self, borrow=False):
        """A copy of the value; ``borrow=True``: the module's own array, which an update
        written in place (``Gemv{inplace}``) changes on the next call."""
        return self._value if borrow else self._value.copy()

    def set_value(self, value, borrow=False):
        self._value = behaved(self._check(value, copy=not borrow))

    @property
    def value(self):
        return self.get_value()

    def __repr__(self):
        return f"<{self.module_name}.{self.name}: {self.type}, shape {self._value.shape}>"


META_KEY = "__aotsym_state__"


def save_state(path, shared, graph_hash):
    """Every shared value to an ``.npz`` file, with a description checked when loading."""
    meta = {"graph_hash": graph_hash,
            "values": {s.name: {"dtype": s.dtype, "shape": list(s._value.shape)}
                       for s in shared}}
    arrays = {s.name: s._value for s in shared}
    arrays[META_KEY] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def load_state(path, shared, graph_hash, module_name, strict=True):
    """Shared values from a file written by ``save_state``, after checking that it matches
    this module (names, dtypes, shapes and, when ``strict``, the graph it was saved from)."""
    with np.load(path, allow_pickle=False) as data:
        if META_KEY not in data.files:
            raise ValueError(f"{module_name}.load_state({path!r}): not a state file written "
                             f"by save_state (no {META_KEY} entry)")
        meta = json.loads(str(data[META_KEY]))
        names = {s.name for s in shared}
        stored = set(meta.get("values", {})) & (set(data.files) - {META_KEY})
        problems = []
        if stored != names:
            if names - stored:
                problems.append(f"missing {sorted(names - stored)}")
            if stored - names:
                problems.append(f"unknown {sorted(stored - names)}")
        if strict and meta.get("graph_hash") != graph_hash:
            problems.append("saved from a different build of the module (graph hash "
                            f"{str(meta.get('graph_hash'))[:12]}..., this one "
                            f"{graph_hash[:12]}...; pass strict=False to load it anyway)")
        values = {}
        for s in shared:
            if s.name not in data.files:
                continue
            arr = data[s.name]
            if arr.dtype.name != s.dtype:
                problems.append(f"{s.name} has dtype {arr.dtype}, the module {s.dtype}")
            elif arr.shape != s._value.shape:
                problems.append(f"{s.name} has shape {arr.shape}, the module "
                                f"{s._value.shape}")
            values[s.name] = arr
        if problems:
            raise ValueError(f"{module_name}.load_state({path!r}): the state file does not "
                             "match this module: " + "; ".join(problems))
    for s in shared:
        s.set_value(values[s.name])


# ------------------------------------------------------------------------------ profiles


def profile(fast, function_names, node_names):
    """``{function: [{"node", "seconds", "calls"}, ...]}`` of a profile build, else None."""
    result = {}
    for index, fname in enumerate(function_names):
        counters = fast._profile(index)
        if counters is None:
            return None
        result[fname] = [{"node": node_names[index][k], "seconds": ns * 1e-9, "calls": calls}
                         for k, (ns, calls) in enumerate(counters)]
    return result


def print_profile(report, file=None):
    """A Theano-style table: per function, the nodes by time spent."""
    if report is None:
        print("not a profile build (aotsym build --profile)", file=file)
        return
    for fname, nodes in report.items():
        total = sum(n["seconds"] for n in nodes) or 1e-30
        print(f"Function {fname}: {total * 1e3:.3f} ms in {len(nodes)} nodes", file=file)
        print(f"  {'%':>6} {'seconds':>10} {'calls':>8}  node", file=file)
        for n in sorted(nodes, key=lambda n: -n["seconds"]):
            first = n["node"].splitlines()[0]
            print(f"  {100 * n['seconds'] / total:6.1f} {n['seconds']:10.6f} {n['calls']:8d}  "
                  f"{first}", file=file)
