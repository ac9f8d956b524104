"""The Python half of a built module: argument conversion on the slow path, shared state,
state files (profiles: :mod:`.profiling`).

Part of the build stage (emit_c -> **build** -> module.so).  This file needs only NumPy: it is
imported by aotsym in-process, and its source is copied into every standalone module that
``aotsym build`` writes (which must import without aotsym).

A generated function's C entry checks its arguments on a fast path (an aligned, native
ndarray of the declared dtype and ndim, length 1 on broadcastable dimensions).  Anything else
comes here: ``filter_value`` (Theano's rules and messages, :mod:`aotsym.graph.checking`)
converts or rejects each argument, and the C entry is called again with the converted values.
"""

import json
import os
import sys
import threading
import zipfile
import zlib

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


def make_slowpath(signatures, exact_entries, filter_value):
    """The callable the C entries call with ``(function index, args tuple)``: it converts the
    arguments and calls the function's *exact* entry (which has no slow path), so a
    conversion that calls the module again (an argument's ``__array__``) is an ordinary,
    re-entrant call."""

    def slowpath(index, args):
        sig = signatures[index]
        n = len(sig.arg_types)
        if len(args) != n:
            raise TypeError(f"{sig.name}() takes {n} argument{'s' * (n != 1)}, "
                            f"got {len(args)}")
        fixed = [behaved(np.asarray(filter_value(value, ttype, what=label)))
                 for value, ttype, label in zip(args, sig.arg_types, sig.arg_labels)]
        result = exact_entries[index](*fixed)
        if result is NotImplemented:
            raise TypeError(f"{sig.name}(): an argument was rejected after conversion "
                            "(internal error)")
        return result

    return slowpath


_ENV_LOCK = threading.Lock()


class openblas_unthreaded:
    """A context in which a module's extension is loaded: the OpenBLAS it links starts no
    threads of its own.  The runtime's pool is the one owner of the threads (it sets
    OpenBLAS to one thread at its first product), but OpenBLAS starts its server threads when
    the library is loaded, and each spins for 2**28 cycles (about 0.1 s) before it sleeps:
    on two cores that spinner shared a core with the pool's worker, so for the first ~150
    calls of a 60x784 @ 784x500 sgemm a split over two threads ran as slowly as one call
    (0.6 ms, then 0.3 ms), and a training step's first hundreds of calls with it.  OpenBLAS
    reads OPENBLAS_NUM_THREADS when the library loads (its constructor): set to 1 for the
    load (a library already loaded in the process is not affected), then put back."""

    def __enter__(self):
        _ENV_LOCK.acquire()
        self._saved = os.environ.get("OPENBLAS_NUM_THREADS")
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        return self

    def __exit__(self, *exc):
        try:
            if self._saved is None:
                os.environ.pop("OPENBLAS_NUM_THREADS", None)
            else:
                os.environ["OPENBLAS_NUM_THREADS"] = self._saved
        finally:
            _ENV_LOCK.release()
        return False


def register(ext, key):
    """Run an extension's registration: its functions appear as ``sys.modules[key]``."""
    if ext.lib.aot_register(key.encode()) != 0:
        message = ext.ffi.string(ext.lib.aot_register_error()).decode()
        raise ImportError(f"loading the aotsym module {ext.__name__}: {message}")
    return sys.modules.pop(key)


# ------------------------------------------------------------------------------ shared state


class SharedValue:
    """The state of a built module: ``get_value()`` / ``set_value(v)`` as ``aotsym.shared``."""

    def __init__(self, module_name, name, type, value, filter_value, lock=None):
        self.module_name = module_name
        self.name = name
        self.type = type
        self._filter = filter_value
        self._lock = lock if lock is not None else threading.RLock()
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
        if borrow:
            return self._value
        with self._lock:  # not while a call writes it in place
            return self._value.copy()

    def set_value(self, value, borrow=False):
        value = behaved(self._check(value, copy=not borrow))
        with self._lock:
            self._value = value

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
    """Shared values from a file written by ``save_state`` (``path``, or ``path.npz`` as
    ``save_state`` names it), after checking that it matches this module (names, dtypes,
    shapes and, when ``strict``, the graph it was saved from).  A file that is not a state
    file, or does not match, is a ValueError naming it; the state is then unchanged."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path = path + ".npz"
    where = f"{module_name}.load_state({path!r})"
    meta, values = _read_state(path, shared, where)
    names = {s.name for s in shared}
    stored = set(meta["values"]) & set(values)
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
    for s in shared:
        arr = values.get(s.name)
        if arr is None:
            continue
        if arr.dtype.name != s.dtype:
            problems.append(f"{s.name} has dtype {arr.dtype}, the module {s.dtype}")
        elif arr.shape != s._value.shape:
            problems.append(f"{s.name} has shape {arr.shape}, the module {s._value.shape}")
    if problems:
        raise ValueError(f"{where}: the state file does not match this module: "
                         + "; ".join(problems))
    checked = {s.name: behaved(s._check(values[s.name], copy=False)) for s in shared}
    for s in shared:  # every value checked: store them all
        s._value = checked[s.name]


def _read_state(path, shared, where):
    """(metadata dict, {name: array}) of the state file ``path``, or a ValueError saying why
    it is not one (``FileNotFoundError`` when there is no such file)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{where}: no such file")
    wanted = {s.name for s in shared}
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{where}: not a state file written by save_state (an .npz "
                         f"archive): {exc}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{where}: not a state file written by save_state: it holds one "
                         f"array (an .npy file), not an .npz archive")
    try:
        with data:
            if META_KEY not in data.files:
                raise ValueError(f"{where}: not a state file written by save_state (no "
                                 f"{META_KEY} entry)")
            entry = data[META_KEY]
            meta = json.loads(str(entry)) if entry.dtype.kind == "U" and entry.ndim == 0 \
                else None
            if not isinstance(meta, dict) or not isinstance(meta.get("values"), dict):
                raise ValueError(f"{where}: not a state file written by save_state (its "
                                 f"{META_KEY} entry is not the description save_state "
                                 "writes)")
            values = {name: data[name] for name in data.files
                      if name != META_KEY and name in wanted}
    except ValueError as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where}: the state file is damaged or not one written by "
                         f"save_state: {exc}") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, RuntimeError, zlib.error) as exc:
        raise ValueError(f"{where}: the state file is damaged: {type(exc).__name__}: "
                         f"{exc}") from None
    return meta, values
