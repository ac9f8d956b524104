"""``aotsym.build``: optimized graphs in, loaded extension modules out.

Last stage of the pipeline (frontend -> graph -> optimizer -> emit_c -> **build**).  It asks
:mod:`aotsym.emit_c` for the C source of one or more functions, compiles it with cffi in API
mode (:mod:`.compiler`), keeps the result in the content-hashed cache (:mod:`.cache`) and
loads it.  :func:`compile_fgraph` is the backend of ``aotsym.function`` in FAST_RUN; the
command line (:mod:`.cli`) builds standalone modules from the same emitted code.

The call path.  A module is a cffi extension whose one cffi-declared function,
``aot_register(key)``, publishes the module's entry points as ``sys.modules[key]``: one
METH_FASTCALL C function per exported graph, which checks its ndarray arguments in C, runs
the graph with the GIL released (for inputs of 16k elements and more), and wraps the output
blocks as ndarrays.  One C call per Python call and no Python in between: ~0.1 µs for
``x*2+1`` on 10 elements from a standalone module (NumPy's own ``x*2+1``: ~1 µs).  Anything
the fast checks reject goes to the Python slow path (:mod:`.pyruntime`), which converts or
raises Theano's errors, then calls again.

Each function also has an *exact* entry, the same C with the slow path left out: it refuses
what its checks reject with ``NotImplemented``.  ``aotsym.function`` calls it first (its
inputs have their own options: ``strict``, ``allow_downcast``, defaults, keywords) and runs
its own checks only when it is refused; :class:`CompiledFunction` holds both entries.

BLAS: the module links OpenBLAS from the scipy-openblas64/32 package (:mod:`.blas`); a cached
module finds it through an rpath to that package, a standalone one through ``$ORIGIN`` (the
library is copied beside it).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass

import aotsym
from aotsym.build import compiler
from aotsym.build.cache import Cache, cache_key
from aotsym.build.pyruntime import FunctionSignature, make_slowpath, register

__all__ = ["compile_fgraph", "build_module", "BuildOptions", "LoadedModule",
           "CompiledFunction"]


@dataclass(frozen=True)
class BuildOptions:
    cc: str = "cc"
    cflags: str = "-O3 -march=native"
    threads: bool = True
    profile: bool = False
    blas: str = "auto"
    cache_dir: str | None = None

    @classmethod
    def from_config(cls, **overrides) -> "BuildOptions":
        from aotsym.config import config
        values = dict(cc=config.cxx, cflags=config.cflags, threads=bool(config.openmp),
                      blas=config.blas, cache_dir=config.cache_dir)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class LoadedModule:
    """A built, loaded module.  ``c_entries[i]`` is the C function of the i-th FunctionSpec;
    ``entries[i]`` calls it and, when it fails, names the failing node with the source line
    of *these* specs (a module is shared by every identical graph of the process, wherever
    the user made it); ``exact_entries[i]`` is its exact entry (NotImplemented for arguments
    that are not exactly the declared types, no node description)."""
    key: str
    path: str
    fast: object
    c_entries: list
    entries: list
    emitted: object
    from_cache: bool
    exact_entries: list
    nodes: list           # per spec, the nodes in the order the C code numbers them


_LOADED: dict[str, LoadedModule] = {}
_LOADED_LOCK = threading.Lock()


def _runtime_source() -> str:
    from aotsym.emit_c import runtime_source
    return runtime_source()


def build_module(specs, options: BuildOptions | None = None) -> LoadedModule:
    """Emit, compile (or find in the cache) and load one module exporting ``specs``."""
    from aotsym.emit_c import emit_module
    options = options or BuildOptions.from_config()
    emitted = emit_module(specs, profile=options.profile, threads=options.threads)
    link = link_options(emitted, options)
    flags = compiler.compile_flags(options.cflags, extra=link.cflags)
    key = cache_key({
        "source": emitted.digest(), "cdef": emitted.cdef, "flags": flags,
        "link": link.args, "compiler": compiler.compiler_identity(options.cc),
        "aotsym": aotsym.__version__, "python": compiler.ext_suffix(),
        "numpy": _numpy_version(),
    })
    with _LOADED_LOCK:
        loaded = _LOADED.get(key)
    if loaded is not None:
        fast, c_entries, path, from_cache = loaded
        return _wrap(key, fast, c_entries, path, emitted, specs, from_cache)
    name = f"aotsym_{key[:24]}"
    so_name = name + compiler.ext_suffix()

    def build(tmp):
        c_path = os.path.join(tmp, "module.c")
        compiler.write_cffi_source(name, emitted.source, emitted.cdef, c_path)
        compiler.compile_extension(c_path, os.path.join(tmp, so_name), options.cc, flags,
                                   link.args)
        return [so_name, "module.c"]

    cache = Cache(options.cache_dir or _default_cache_dir())
    manifest, built = cache.get_or_build(key, build, {
        "module": name, "functions": [f.name for f in emitted.functions],
        "compiler": compiler.compiler_version(options.cc), "flags": flags})
    ext = load_extension(os.path.join(manifest["dir"], so_name), name)
    fast = register(ext, f"{name}._aot")
    c_entries = [getattr(fast, f.name) for f in emitted.functions]
    _install_slowpath(fast, specs, c_entries, emitted)
    with _LOADED_LOCK:
        _LOADED.setdefault(key, (fast, c_entries, manifest["dir"], not built))
    return _wrap(key, fast, c_entries, manifest["dir"], emitted, specs, not built)


def _wrap(key, fast, c_entries, path, emitted, specs, from_cache) -> LoadedModule:
    nodes = [spec.fgraph.toposort() for spec in specs]
    entries = [described(entry, order, spec.name)
               for entry, order, spec in zip(c_entries, nodes, specs)]
    return LoadedModule(key, path, fast, c_entries, entries, emitted, from_cache,
                        list(fast._exact_entries()), nodes)


def described(entry, nodes, fname):
    """``entry`` whose run-time errors name the failing node of ``nodes`` (op, user line)."""
    def call(*args):
        try:
            return entry(*args)
        except Exception as exc:
            error = node_error(exc, nodes, fname)
            if error is None:
                raise
            raise error from None
    call.__name__ = fname
    return call


class CompiledFunction:
    """The FAST_RUN backend of one ``aotsym.function``: ``run(values) -> list of arrays``.

    ``values`` are in ``fgraph.inputs`` order (user inputs, then shared values), already
    checked by the ``Function``; results come in ``fgraph.outputs`` order and are fresh
    arrays the caller owns (the emitted code copies an output that is an input, a constant
    or shares memory with another output) — except an update written in place into its
    shared value's buffer, which comes back as that value's array itself (the state rule,
    :mod:`aotsym.optimizer.inplace`; never a user output).  ``exact(*values)`` is the module's exact entry:
    the same call without the slow path — the list of results, or ``NotImplemented`` when a
    value is not exactly of its declared type (the caller checks and converts, then calls
    ``run``).  Its run-time errors are raw: ``node_error(exc)`` describes them.
    """

    def __init__(self, loaded, index=0):
        self.module = loaded
        self.exact = loaded.exact_entries[index]
        self._entry = loaded.entries[index]
        self._nodes = loaded.nodes[index]
        self._name = loaded.emitted.functions[index].name

    def __call__(self, values):
        return list(self._entry(*values))

    def node_error(self, exc):
        """The exception to raise for ``exc`` raised by ``exact``: the failing node
        described, or None when ``exc`` is not a node's failure (raise it as it is)."""
        return node_error(exc, self._nodes, self._name)


def compile_fgraph(fgraph, name=None, profile=False) -> CompiledFunction:
    """The FAST_RUN backend of ``aotsym.function`` (see :class:`CompiledFunction`)."""
    from aotsym.emit_c import FunctionSpec
    spec = FunctionSpec(name or "function", fgraph)
    loaded = build_module([spec], BuildOptions.from_config(profile=profile))
    return CompiledFunction(loaded)


# ------------------------------------------------------------------------------ helpers


def node_error(exc, nodes, fname):
    """The exception ``exc`` raised by a module's C code, with the failing node of ``nodes``
    described (which op, which line of the user's code), as the reference evaluator's
    NodeError says it; None when ``exc`` names no node."""
    node = getattr(exc, "aotsym_node", None)
    if node is None:
        return None
    from aotsym.graph.errors import describe_node
    return type(exc)(f"{exc.aotsym_message}\n  while computing {describe_node(nodes[node])}\n"
                     f"  in {fname}()")


@dataclass
class LinkOptions:
    cflags: list
    args: list


def link_options(emitted, options) -> LinkOptions:
    if not emitted.uses_blas:
        return LinkOptions([], [])
    from aotsym.build.blas import find_blas
    blas = find_blas(options.blas)
    return LinkOptions(blas.cflags, blas.link_args(rpath=[getattr(blas, "lib_dir", "")]))


def load_extension(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install_slowpath(fast, specs, entries, emitted):
    from aotsym.frontend.checking import filter_value
    signatures = []
    for spec in specs:
        labels = []
        for k, var in enumerate(spec.fgraph.inputs):
            label = f"{spec.name}() argument {k}" + (f" ({var.name})" if var.name else "")
            if var.tag.trace is not None:
                label += f" declared at {var.tag.trace.filename}:{var.tag.trace.lineno}"
            labels.append(label)
        signatures.append(FunctionSignature(spec.name, labels,
                                            [v.type for v in spec.fgraph.inputs]))
    fast._set_slowpath(make_slowpath(signatures, entries, filter_value))


def _default_cache_dir() -> str:
    from aotsym.config import config
    return config.cache_dir


def _numpy_version() -> str:
    import numpy
    return numpy.__version__
