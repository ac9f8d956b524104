"""The build driver: one path from assembled functions to an artifact.

Part of the build stage (frontend -> graph -> optimizer -> emit_c -> **build**).  Every way of
building goes through here — ``aotsym.function`` (:mod:`aotsym.frontend.function`), the
command line and its standalone packages (:mod:`.cli`, :mod:`.standalone`), ``--profile``,
the setuptools hook and the CUDA target (``aotsym.config.device = "cuda"`` in-process and
``aotsym build --target cuda`` both render with :mod:`aotsym.emit_cuda` and build with
:mod:`.cuda`)::

    AssembledFunction ─► optimize ─► lower ───────────► _emit ───────► compile ─────────► load
    (the frontend)       aotsym.optimizer (the lowered    aotsym.emit_c  .compiler + .cache
                                           program)                      or .standalone

* :class:`AssembledFunction` is the input: a function's unoptimized graph in the calling
  convention (user inputs, then the shared variables read; outputs, then the new values of
  updated shared variables; ``meta["updates"]``) and the labels its arguments have in error
  messages.  The frontend assembles it (:mod:`aotsym.frontend.assemble`: only the frontend
  knows shared variables, givens and the user's options); this stage receives it as data and
  never imports the frontend.
* :func:`build_functions` builds functions in-process (``aotsym.function``, ``Module.function``):
  optimized, then run by the reference evaluator (``FAST_COMPILE``) or emitted, compiled
  into the content-hashed cache and loaded (``FAST_RUN``, ``PROFILE_MODE``; ``DEBUG_MODE``
  too, each call compared with the reference evaluator: :mod:`.checked`).  :func:`build_package` builds a Module's exports into a standalone
  package (:mod:`.standalone` writes its files).  Both optimize with :func:`optimize_graphs`,
  lower each graph to its program (:func:`aotsym.optimizer.lower_program`, the optimizer's
  last stage) and render the programs with :func:`_emit`.
* A cache hit costs neither the optimizer nor the emitter: :func:`build_functions` first
  looks the assembled graphs up by their graph key (:mod:`.graph_key`, a digest of the
  unoptimized graphs, the options and aotsym's own source), in the cache's ``graphs/`` index
  written after every build; a hit loads the module it names (:class:`LoadedModule`'s
  ``from_graph_key``; its optimized graphs and C source are made again only when asked
  for).  Everything else, and a graph without a key, is keyed on its emitted C as before.
* What the optimizer did travels with the artifact, never through a global: each optimized
  graph carries its :class:`~aotsym.optimizer.engine.OptimizerStats` as
  ``meta["optimizer_stats"]``; a :class:`CompiledFunction`'s or reference runner's ``stats``,
  a :class:`LoadedModule`'s ``stats``, a :class:`PackageBuild`'s ``stats`` and a standalone
  package's ``__aotsym__["optimizer"]`` (:func:`stats_summary`) are that object or its summary.
* The C code reports a failing step by its id number; :func:`step_table` is the one place
  that maps those numbers back to graph nodes (the lowered program's ``step_nodes``) and
  their descriptions.

The call path of a compiled module.  A module is a cffi extension whose one cffi-declared
function, ``aot_register(key)``, publishes the module's entry points as ``sys.modules[key]``:
one METH_FASTCALL C function per exported graph, which checks its ndarray arguments in C, runs
the graph with the GIL released (for inputs of 16k elements and more), and wraps the output
blocks as ndarrays.  Anything the fast checks reject goes to the Python slow path
(:mod:`.pyruntime`), which converts or raises Theano's errors, then calls again.  Each function
also has an *exact* entry, the same C without the slow path: it refuses what its checks
reject with ``NotImplemented`` (``aotsym.function`` calls it first, see
:class:`CompiledFunction`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from dataclasses import dataclass

import numpy as np

import aotsym
from aotsym.build import compiler
from aotsym.build.blas import blas_fingerprint
from aotsym.build.cache import Cache, cache_key
from aotsym.build.checked import CheckedFunction
from aotsym.build.glue import write_cffi_source
from aotsym.build.graph_key import graph_key
from aotsym.build.pyruntime import FunctionSignature, make_slowpath, register
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.graph.checking import filter_value
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program, optimize
from aotsym.optimizer.inplace import Aliasing
from aotsym.optimizer.pipeline import MODES as STAGE_LISTS

__all__ = ["AssembledFunction", "BuildOptions", "build_functions", "build_package",
           "build_module", "compile_fgraph", "CompiledFunction", "LoadedModule",
           "PackageBuild", "argument_labels", "optimize_graphs", "profile_layouts",
           "stats_summary", "step_table"]

TARGETS = ("c", "cuda")
# modes whose graphs are not looked up by their graph key: FAST_COMPILE runs the evaluator,
# DEBUG_MODE checks every rewrite (so it optimizes) and compares each call with it
REFERENCE_MODES = ("FAST_COMPILE", "DEBUG_MODE")


# ------------------------------------------------------------------------------ inputs


@dataclass
class AssembledFunction:
    """One function, as the frontend hands it to the build stage.

    ``fgraph`` is unoptimized: inputs are the ``n_args`` user arguments, then the shared
    variables read; outputs are the ``n_outputs`` user outputs, then the new values of the
    updated shared variables (``fgraph.n_updates``; ``fgraph.meta["updates"]`` maps each such
    output index to the input index it replaces).  ``name`` is the function's name in a module
    (an identifier for Module exports); ``label`` names it in messages (``"train()"``);
    ``labels`` names each input of ``fgraph`` (:func:`argument_labels`).
    """
    name: str
    label: str
    fgraph: FunctionGraph
    n_args: int
    n_outputs: int
    single_output: bool
    labels: list
    arg_names: list
    doc: str = ""
    trace: object = None

    @property
    def shared_inputs(self) -> list:
        """The shared variables read, in the order they follow the arguments."""
        return list(self.fgraph.inputs[self.n_args:])

    @property
    def updated(self) -> list:
        """The shared variables the trailing outputs replace, in output order."""
        updates = self.fgraph.meta.get("updates", {})
        return [self.fgraph.inputs[updates[self.n_outputs + k]]
                for k in range(self.fgraph.n_updates)]


def argument_labels(label: str, inputs, n_args: int | None = None) -> list:
    """How messages name each input of a function called ``label`` (``"train()"``): the first
    ``n_args`` (default: all) are ``"train() argument 0 (x) declared at model.py:12"``, the
    rest ``"train() shared value w"``.  The one place these labels are made: the frontend's
    checks, a compiled module's slow path and a standalone package all use them."""
    n_args = len(inputs) if n_args is None else n_args
    labels = []
    for k, var in enumerate(inputs):
        if k >= n_args:
            labels.append(f"{label} shared value {var.name or k - n_args}")
            continue
        text = f"{label} argument {k}" + (f" ({var.name})" if var.name else "")
        if var.tag.trace is not None:
            text += f" declared at {var.tag.trace.filename}:{var.tag.trace.lineno}"
        labels.append(text)
    return labels


@dataclass(frozen=True)
class BuildOptions:
    """How to build: the C compiler and its flags, threads, profile counters, BLAS, the cache
    directory and the target (``"c"``; ``"cuda"`` is not part of this installation yet)."""
    cc: str = "cc"
    cflags: str = "-O3 -march=native"
    threads: bool = True
    profile: bool = False
    blas: str = "auto"
    cache_dir: str | None = None
    target: str = "c"
    fast_math: bool = False   # rewrites may assume finite values (aotsym.config.fast_math)
    nvcc: str = "nvcc"        # the CUDA compiler (target "cuda")
    exclude: tuple = ()       # optimizer stages left out (Theano's Mode.excluding)

    @classmethod
    def from_config(cls, **overrides) -> "BuildOptions":
        from aotsym.config import config
        values = dict(cc=config.cxx, cflags=config.cflags, threads=bool(config.openmp),
                      blas=config.blas, cache_dir=config.cache_dir,
                      fast_math=bool(config.fast_math), nvcc=config.nvcc,
                      target="cuda" if config.device == "cuda" else "c")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def check_target(target: str, nvcc: str | None = None) -> None:
    """Refuse a target this installation cannot build, before any work is done: an unknown
    one (ValueError); ``"cuda"`` when ``nvcc`` is given and is not found
    (NotImplementedError saying how to get it)."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
    if target == "cuda" and nvcc is not None:
        from aotsym.build.cuda import nvcc_path
        if nvcc_path(nvcc) is None:
            raise NotImplementedError(
                f"the CUDA target compiles with nvcc, and {nvcc!r} was not found: install the "
                "CUDA toolkit or pip install nvidia-cuda-nvcc, or set aotsym.config.nvcc "
                "(AOTSYM_FLAGS=nvcc=/path/to/nvcc); no GPU is needed to build")
    # "cuda" (aotsym.build.cuda): an op the CUDA renderer does not translate is refused
    # at build time by aotsym.emit_cuda.renderer, naming the op and the user's line


# ------------------------------------------------------------------------------ the stages


def optimize_graphs(assembled: list, mode: str, fast_math: bool = False,
                    target: str = "c", exclude=()) -> list:
    """The optimized graph of each function for ``target`` (its stats in
    ``meta["optimizer_stats"]``), without the stages named in ``exclude``."""
    stages = [s for s in STAGE_LISTS[mode] if s not in exclude] if exclude else None
    return [optimize(fn.fgraph, mode=mode, stages=stages, fast_math=fast_math, target=target)
            for fn in assembled]


def _emit(specs: list, options: BuildOptions, python_ops: bool = False):
    """The emit step, the only one of this stage: ``FunctionSpec``s -> ``EmittedModule``
    (the runtime compiled apart, once per compiler and flags: :func:`compiler.runtime_parts`;
    ``python_ops``: Python-only ops called back, in-process modules only)."""
    return emit_module(specs, profile=options.profile, threads=options.threads,
                       runtime_apart=True, python_ops=python_ops)


def _spec(name, fgraph, single_output=False, doc="") -> FunctionSpec:
    """What the renderer gets for one function: its lowered program (the optimizer's last
    stage, run on the graph as it is)."""
    return FunctionSpec(name, lower_program(fgraph), single_output, doc)


def step_table(spec, emitted_function) -> list:
    """``[(node, description)]`` of one emitted function, indexed as its C code numbers its
    steps (the id number in a run-time error, the row of a profile counter).  The one place
    that maps those numbers back to the graph: the lowered program's step table."""
    nodes = spec.program.step_nodes
    descriptions = list(emitted_function.node_descriptions)
    if len(nodes) != len(descriptions):
        raise RuntimeError(f"{spec.name}: the emitted code numbers {len(descriptions)} steps, "
                           f"its graph has {len(nodes)} nodes")
    return list(zip(nodes, descriptions))


def stats_summary(stats) -> dict | None:
    """What the optimizer did, as plain data (a package's ``__aotsym__``, the profile):
    ``{"mode", "seconds", "stages": {stage: seconds}, "rewrites": {rule: times fired}}``."""
    if stats is None:
        return None
    rewrites: dict = {}
    for rule in stats.rules.values():
        if rule.fired:
            rewrites[rule.name] = rewrites.get(rule.name, 0) + rule.fired
    stages: dict = {}
    for stage in stats.stages:
        stages[stage.name] = round(stages.get(stage.name, 0.0) + stage.seconds, 6)
    return {"mode": stats.mode, "seconds": round(stats.seconds, 6), "stages": stages,
            "rewrites": dict(sorted(rewrites.items()))}


# ------------------------------------------------------------------------------ in-process


def build_functions(assembled: list, mode: str = "FAST_RUN",
                    options: BuildOptions | None = None) -> list:
    """One runner per assembled function: ``run(values) -> list of arrays``, ``values`` and
    results in the calling convention; ``run.fgraph`` is the optimized graph and
    ``run.stats`` what the optimizer did.  ``FAST_COMPILE`` runs on the reference
    evaluator; the other modes compile one module holding every function
    (:class:`CompiledFunction`), whose calls ``DEBUG_MODE`` compares with the reference
    evaluator's (:class:`aotsym.build.checked.CheckedFunction`)."""
    options = options or BuildOptions.from_config()
    check_target(options.target)
    indexed = mode not in REFERENCE_MODES and options.target == "c" and not options.profile
    if indexed:   # a module built from these very graphs before: no optimizer, no emitter
        key = _graph_key(assembled, mode, options)
        loaded = _load_indexed(key, assembled, mode, options) if key else None
        if loaded is not None:
            return [CompiledFunction(loaded, k) for k in range(len(assembled))]
    fgraphs = optimize_graphs(assembled, mode, options.fast_math, options.target,
                              options.exclude)
    if mode == "FAST_COMPILE":
        return [ReferenceFunction(fg) for fg in fgraphs]
    if options.target == "cuda":
        runners = _build_cuda_functions(assembled, fgraphs, options)
    else:
        t = time.perf_counter()
        specs = [_spec(fn.name, fg) for fn, fg in zip(assembled, fgraphs)]
        lower_s = time.perf_counter() - t
        loaded = build_module(specs, options, labels=[fn.labels for fn in assembled])
        loaded.seconds["lower"] = lower_s
        if indexed and key and not loaded.emitted.python_ops:
            # (a module that calls Python ops back needs them set at load, from the emitted
            # module's list of their nodes: found by its graph key, it could not have them)
            _index_module(key, loaded, options)
        runners = [CompiledFunction(loaded, k) for k in range(len(specs))]
    if mode == "DEBUG_MODE":   # each call compared with the reference evaluator
        return [CheckedFunction(ReferenceFunction(fg), run, fn.name)
                for fn, fg, run in zip(assembled, fgraphs, runners)]
    return runners


# The graph-keyed index (aotsym.build.graph_key): graph key -> the module built from the
# graphs, with what a call needs that would otherwise come from optimizing them again.
INDEX_FILE = "index.json"


def _graph_key(assembled, mode, options):
    environment = {"compiler": compiler.compiler_identity(options.cc),
                   "python": compiler.ext_suffix(), "numpy": np.__version__,
                   "vector_math": compiler.vector_math(portable=False)[0],
                   "blas": blas_fingerprint(options.blas)}
    return graph_key(assembled, mode, options, environment)


def _index(options) -> Cache:
    return Cache(os.path.join(options.cache_dir or _default_cache_dir(), "graphs"))


def _index_module(key, loaded, options) -> None:
    """Record that the graphs of ``key`` built ``loaded`` (a small entry beside the module)."""
    import base64
    import pickle
    record = {"module_key": loaded.key, "module": loaded.module_name,
              "functions": [{"entry": fn.entry_name, "descriptions": list(descriptions),
                             "output_types": base64.b64encode(pickle.dumps(
                                 [v.type for v in spec.fgraph.outputs])).decode()}
                            for spec, fn, descriptions in zip(loaded.specs, loaded.emitted.functions,
                                                              loaded.descriptions)]}

    def write(tmp):
        with open(os.path.join(tmp, INDEX_FILE), "w") as fh:
            json.dump(record, fh)
        return [INDEX_FILE]
    try:
        _index(options).get_or_build(key, write, {"index": True})
    except OSError:
        pass    # an index entry is an optimization: a read-only cache builds the long way


def _load_indexed(key, assembled, mode, options):
    """The module the graphs of ``key`` built, loaded, or None (no entry, or its module is
    gone or corrupt: the caller builds the long way, which rebuilds it)."""
    import base64
    import pickle
    manifest = _index(options).lookup(key)
    if manifest is None:
        return None
    t = time.perf_counter()
    try:
        with open(os.path.join(manifest["dir"], INDEX_FILE)) as fh:
            record = json.load(fh)
        module_key, name = record["module_key"], record["module"]
        functions = record["functions"]
        entry_names = [f["entry"] for f in functions]
        output_types = [pickle.loads(base64.b64decode(f["output_types"])) for f in functions]
        descriptions = [list(f["descriptions"]) for f in functions]
    except (OSError, ValueError, KeyError, TypeError, pickle.UnpicklingError, EOFError,
            AttributeError, ImportError):
        return None
    if len(functions) != len(assembled):
        return None
    with _LOADED_LOCK:
        found = _LOADED.get(module_key)
    # (a module that calls Python ops back is not used here, neither found loaded nor from
    # disk: its callbacks are set by build_module, from the emitted module's list of those
    # nodes; index entries made before such modules were left out may still name one)
    if found is not None:
        fast, c_entries, path, _ = found
        if hasattr(fast, "_set_py_ops"):
            return None
    else:
        cache = Cache(options.cache_dir or _default_cache_dir())
        module_manifest = cache.lookup(module_key)
        if module_manifest is None:
            return None
        path, so_name = module_manifest["dir"], name + compiler.ext_suffix()
        try:
            ext = load_extension(os.path.join(path, so_name), name)
            fast = register(ext, f"{name}._aot")
            c_entries = [getattr(fast, entry) for entry in entry_names]
        except (ImportError, OSError, AttributeError):   # (a library it links went away)
            return None
        if hasattr(fast, "_set_py_ops"):   # (before it is kept in _LOADED)
            return None
        signatures = [FunctionSignature(fn.name, fn.labels, [v.type for v in fn.fgraph.inputs])
                      for fn in assembled]
        fast._set_slowpath(make_slowpath(signatures, list(fast._exact_entries()),
                                         filter_value))
        with _LOADED_LOCK:
            _LOADED.setdefault(module_key, (fast, c_entries, path, True))
    return LoadedModule(
        module_key, path, fast, c_entries,
        [described(entry, d, fn.name) for entry, d, fn in zip(c_entries, descriptions, assembled)],
        True, list(fast._exact_entries()), name, [fn.name for fn in assembled], descriptions,
        output_types, seconds={"load": time.perf_counter() - t},
        rebuild=lambda: _rebuilt(assembled, mode, options))


def _rebuilt(assembled, mode, options):
    """(specs, emitted) of ``assembled``, made again for a module loaded by its graph key
    when something asks for them (its optimized graphs, its C source)."""
    fgraphs = optimize_graphs(assembled, mode, options.fast_math, options.target,
                              options.exclude)
    specs = [_spec(fn.name, fg) for fn, fg in zip(assembled, fgraphs)]
    return specs, _emit(specs, options, python_ops=True)


def _build_cuda_functions(assembled, fgraphs, options) -> list:
    """The CUDA runners of ``fgraphs`` (:mod:`.cuda`): one module, rendered by
    :mod:`aotsym.emit_cuda`, compiled by nvcc."""
    from aotsym.build.cuda import build_cuda_module
    if options.profile:
        raise NotImplementedError("profile builds of the CUDA target are not implemented "
                                  "yet; profile with aotsym.config.device='cpu'")
    specs = [_spec(fn.name, fg) for fn, fg in zip(assembled, fgraphs)]
    return build_cuda_module(specs, options).runners


class ReferenceFunction:
    """The reference evaluator as a runner (``FAST_COMPILE``, ``DEBUG_MODE``).  It runs the
    nodes in order, so an in-place op's write into a shared value could come before a later
    node fails: the inputs an op destroys are copied first (the state changes only when the
    caller stores the results)."""

    def __init__(self, fgraph):
        self.fgraph = fgraph
        self.stats = fgraph.meta.get("optimizer_stats")
        self.output_types = [v.type for v in fgraph.outputs]
        self.destroyed = _destroyed_inputs(fgraph)

    def __call__(self, values):
        values = [np.array(v, copy=True) if k in self.destroyed else v
                  for k, v in enumerate(values)]
        return evaluate(self.fgraph.outputs, dict(zip(self.fgraph.inputs, values)))


def _destroyed_inputs(fgraph) -> set:
    """Indices of the graph inputs some node's ``destroy_map`` writes over (directly, through
    views or through earlier writes: the optimizer's graph-level alias analysis)."""
    written = Aliasing(fgraph).written_roots(fgraph)
    return {k for k, v in enumerate(fgraph.inputs) if v in written}


class LoadedModule:
    """A built, loaded module.  ``c_entries[i]`` is the C function of the i-th function;
    ``entries[i]`` calls it and, when it fails, names the failing node with the source line
    of *these* graphs (a module is shared by every identical graph of the process, wherever
    the user made it); ``exact_entries[i]`` is its exact entry (NotImplemented for arguments
    that are not exactly the declared types, no node description).  ``descriptions[i]``
    describes each step as the C code numbers them, ``output_types[i]`` are the types of the
    function's outputs.

    A module built here has its ``specs`` (the lowered programs, on the optimized graphs)
    and ``emitted`` source.  A module loaded by its graph key (``from_graph_key``) was built
    from the same graphs by an earlier process: nothing was optimized or emitted to load it,
    and ``specs``/``emitted`` are made again only if something asks for them (``rebuild``).
    """

    def __init__(self, key, path, fast, c_entries, entries, from_cache, exact_entries,
                 module_name, names, descriptions, output_types, seconds=None, specs=None,
                 emitted=None, rebuild=None):
        self.key, self.path, self.fast = key, path, fast
        self.c_entries, self.entries, self.exact_entries = c_entries, entries, exact_entries
        self.from_cache = from_cache
        self.module_name, self.names = module_name, names
        self.descriptions, self.output_types = descriptions, output_types
        self.seconds = dict(seconds or {})    # stage -> seconds this build took
        self.from_graph_key = rebuild is not None
        self._specs, self._emitted, self._rebuild = specs, emitted, rebuild
        self._lock = threading.Lock()

    def _built(self):
        with self._lock:
            if self._specs is None:
                self._specs, self._emitted = self._rebuild()
        return self._specs, self._emitted

    @property
    def specs(self) -> list:
        """Per function, its ``FunctionSpec`` (lowered program, optimized graph)."""
        return self._built()[0]

    @property
    def emitted(self):
        """The module's ``EmittedModule`` (its C source)."""
        return self._built()[1]

    @property
    def steps(self) -> list:
        """Per function, :func:`step_table`: (node, description) per C step index."""
        specs, emitted = self._built()
        return [step_table(spec, fn) for spec, fn in zip(specs, emitted.functions)]

    @property
    def nodes(self) -> list:
        """Per function, the nodes in the order the C code numbers them."""
        return [spec.program.step_nodes for spec in self.specs]

    @property
    def stats(self) -> list:
        """Per function, what the optimizer did (None for a graph built unoptimized)."""
        return [spec.fgraph.meta.get("optimizer_stats") for spec in self.specs]


_LOADED: dict = {}
_LOADED_LOCK = threading.Lock()


def build_module(specs, options: BuildOptions | None = None, labels=None) -> LoadedModule:
    """Emit, compile (or find in the cache) and load one module exporting ``specs`` (graphs
    as they are: optimizing is :func:`build_functions`' step).  ``labels``: per spec, how
    messages name its inputs (default: :func:`argument_labels` of every input)."""
    options = options or BuildOptions.from_config()
    check_target(options.target)
    t = time.perf_counter()
    emitted = _emit(specs, options, python_ops=True)
    seconds = {"emit": time.perf_counter() - t}
    link = link_options(emitted, options)
    flags = compiler.compile_flags(options.cflags,
                                   extra=link.cflags + compiler.vector_math(portable=False)[0])
    key = cache_key({
        "source": emitted.digest(), "cdef": emitted.cdef, "flags": flags,
        "link": link.args, "compiler": compiler.compiler_identity(options.cc),
        "aotsym": aotsym.__version__, "python": compiler.ext_suffix(),
        "numpy": np.__version__,
    })
    with _LOADED_LOCK:
        loaded = _LOADED.get(key)
    if loaded is not None:
        fast, c_entries, path, from_cache = loaded
        return _wrap(key, f"aotsym_{key[:24]}", fast, c_entries, path, emitted, specs,
                     from_cache, seconds)
    name = f"aotsym_{key[:24]}"
    so_name = name + compiler.ext_suffix()

    cache = Cache(options.cache_dir or _default_cache_dir())

    def build(tmp):
        c_path = os.path.join(tmp, "module.c")
        write_cffi_source(name, emitted.source, emitted.cdef, c_path, cache)
        t0 = time.perf_counter()
        compiler.compile_module(c_path, os.path.join(tmp, so_name), options.cc, flags,
                                link.args, emitted.runtime, cache)
        seconds["compile"] = time.perf_counter() - t0
        return [so_name, "module.c"]

    manifest, built = cache.get_or_build(key, build, {
        "module": name, "functions": [f.name for f in emitted.functions],
        "compiler": compiler.compiler_version(options.cc), "flags": flags})
    t = time.perf_counter()
    ext = load_extension(os.path.join(manifest["dir"], so_name), name)
    fast = register(ext, f"{name}._aot")
    if emitted.python_ops:
        from aotsym.emit_c.python_op import callback
        fast._set_py_ops([callback(node) for node in emitted.python_ops])
    c_entries = [getattr(fast, f.entry_name) for f in emitted.functions]
    if labels is None:
        labels = [argument_labels(f"{spec.name}()", spec.fgraph.inputs) for spec in specs]
    signatures = [FunctionSignature(spec.name, spec_labels, [v.type for v in spec.fgraph.inputs])
                  for spec, spec_labels in zip(specs, labels)]
    fast._set_slowpath(make_slowpath(signatures, list(fast._exact_entries()), filter_value))
    seconds["load"] = time.perf_counter() - t
    with _LOADED_LOCK:
        _LOADED.setdefault(key, (fast, c_entries, manifest["dir"], not built))
    return _wrap(key, name, fast, c_entries, manifest["dir"], emitted, specs, not built,
                 seconds)


def _wrap(key, name, fast, c_entries, path, emitted, specs, from_cache, seconds) -> LoadedModule:
    steps = [step_table(spec, fn) for spec, fn in zip(specs, emitted.functions)]
    descriptions = [[d for _, d in table] for table in steps]
    entries = [described(entry, d, spec.name)
               for entry, d, spec in zip(c_entries, descriptions, specs)]
    return LoadedModule(key, path, fast, c_entries, entries, from_cache,
                        list(fast._exact_entries()), name,
                        [fn.name for fn in emitted.functions], descriptions,
                        [[v.type for v in spec.fgraph.outputs] for spec in specs],
                        seconds, specs=list(specs), emitted=emitted)


def described(entry, descriptions, fname):
    """``entry`` whose run-time errors name the failing step (op, user line)."""
    def call(*args):
        try:
            return entry(*args)
        except Exception as exc:
            error = node_error(exc, descriptions, fname)
            if error is None:
                raise
            raise error from None
    call.__name__ = fname
    return call


def node_error(exc, descriptions, fname):
    """The exception ``exc`` raised by a module's C code, with the failing step described
    (which op, which line of the user's code; ``descriptions`` from :func:`step_table`), as
    the reference evaluator's NodeError says it; None when ``exc`` names no step."""
    index = getattr(exc, "aotsym_node", None)
    if index is None:
        return None
    text = f"{exc.aotsym_message}\n  while computing {descriptions[index]}\n  in {fname}()"
    from aotsym.emit_c.python_op import last_error
    cause = last_error()    # a Python op's perform raised: keep its class (and the runtime's)
    if cause is not None and exc.aotsym_message.startswith(type(cause).__name__ + ":"):
        from aotsym.graph.errors import error_class
        cls = type(cause)
        if not issubclass(cls, type(exc)):
            cls = error_class(cls, type(exc))
        try:
            return cls(text)
        except Exception:       # a class that takes other arguments: the runtime's own
            pass
    return type(exc)(text)


class CompiledFunction:
    """The compiled runner of one function: ``run(values) -> list of arrays``.

    ``values`` are in ``fgraph.inputs`` order (user inputs, then shared values), already
    checked by the caller; results come in ``fgraph.outputs`` order and are fresh arrays the
    caller owns (the emitted code copies an output that is an input, a constant or shares
    memory with another output) — except an update written in place into its shared value's
    buffer, which comes back as that value's array itself (the state rule,
    :mod:`aotsym.optimizer.inplace`; never a user output).  ``exact(*values)`` is the module's
    exact entry: the same call without the slow path — the list of results, or
    ``NotImplemented`` when a value is not exactly of its declared type (the caller checks and
    converts, then calls ``run``).  Its run-time errors are raw: ``node_error(exc)`` describes
    them.  ``fgraph`` is the graph compiled, ``stats`` what the optimizer did to it.
    """

    def __init__(self, loaded, index=0):
        self.module = loaded
        self.exact = loaded.exact_entries[index]
        self._entry = loaded.entries[index]
        self._descriptions = loaded.descriptions[index]
        self._name = loaded.names[index]
        self._index = index
        self.output_types = loaded.output_types[index]

    @property
    def fgraph(self):
        """The optimized graph (optimized again on first use when the module was loaded by
        its graph key)."""
        return self.module.specs[self._index].fgraph

    @property
    def stats(self):
        """What the optimizer did to the graph (see :attr:`fgraph`)."""
        return self.fgraph.meta.get("optimizer_stats")

    def __call__(self, values):
        return list(self._entry(*values))

    def node_error(self, exc):
        """The exception to raise for ``exc`` raised by ``exact``: the failing node
        described, or None when ``exc`` is not a node's failure (raise it as it is)."""
        return node_error(exc, self._descriptions, self._name)


def compile_fgraph(fgraph, name=None, profile=False) -> CompiledFunction:
    """One graph, as it is (not optimized here), compiled and loaded."""
    spec = _spec(name or "function", fgraph)
    return CompiledFunction(build_module([spec], BuildOptions.from_config(profile=profile)))


# ------------------------------------------------------------------------------ packages


@dataclass
class PackageBuild:
    """What :func:`build_package` made: the package's path, the emitted module, the compiler
    flags and BLAS used, per function the optimized graph and its stats, and the seconds each
    stage took (``optimize``, ``emit``, ``compile``)."""
    path: str
    emitted: object
    flags: list
    blas: object
    fgraphs: dict
    seconds: dict

    @property
    def stats(self) -> dict:
        return {name: fg.meta.get("optimizer_stats") for name, fg in self.fgraphs.items()}


def build_package(module, assembled: list, outdir: str, mode: str = "FAST_RUN",
                  options: BuildOptions | None = None, spec_path: str = "",
                  keep_source: bool = False, log=print) -> PackageBuild:
    """Build ``assembled`` (a Module's exports) into the standalone package
    ``outdir/module.name`` (see :mod:`.standalone`; ``module`` gives the package its name,
    docstring and shared values).  The package is compiled whatever ``mode`` is; ``mode``
    picks the optimizer's stages.  ``options.target`` picks the renderer and the package's
    extension: ``"c"`` (:class:`.standalone.CExtension`) or ``"cuda"``
    (:class:`.cuda.CudaExtension`: nvcc ahead of time; ``PackageBuild.blas`` is then the
    cuBLAS wheel linked, or None)."""
    from aotsym.build import standalone
    options = options or BuildOptions.from_config()
    check_target(options.target)
    if options.target == "cuda" and options.profile:
        raise NotImplementedError("profile builds of the CUDA target are not implemented "
                                  "yet: build the profile with --target c")
    seconds = {}
    t = time.perf_counter()
    fgraphs = optimize_graphs(assembled, mode, options.fast_math, options.target,
                              options.exclude)
    seconds["optimize"] = time.perf_counter() - t
    t = time.perf_counter()
    specs = [_spec(fn.name, fg, standalone.c_returns_single(fn), standalone.signature_doc(fn))
             for fn, fg in zip(assembled, fgraphs)]
    if options.target == "cuda":
        from aotsym.build.cuda import CudaExtension
        from aotsym.emit_cuda.renderer import emit_cuda_module
        emitted = emit_cuda_module(specs, module.name)
        seconds["emit"] = time.perf_counter() - t
        extension = CudaExtension(emitted, options.cc, options.nvcc)
        flags, blas = extension.flags, extension.cublas
    else:
        from aotsym.build.blas import NO_BLAS, find_blas
        emitted = _emit(specs, options)
        seconds["emit"] = time.perf_counter() - t
        blas = find_blas(options.blas) if emitted.uses_blas else NO_BLAS
        flags = compiler.compile_flags(
            options.cflags, extra=blas.cflags + compiler.vector_math(portable=True)[0])
        extension = standalone.CExtension(emitted, options.cc, flags, blas,
                                          Cache(options.cache_dir or _default_cache_dir()))
    steps = [step_table(spec, fn) for spec, fn in zip(specs, emitted.functions)]
    path, seconds["compile"] = standalone.write_package(
        module, assembled, emitted, steps, outdir, extension,
        stats={fn.name: stats_summary(fg.meta.get("optimizer_stats"))
               for fn, fg in zip(assembled, fgraphs)},
        spec_path=spec_path, keep_source=keep_source, log=log)
    seconds.update(getattr(extension, "seconds", {}))
    if options.target == "c" and emitted.profile:
        _write_profile_files(path, module.name, specs, emitted, seconds,
                             {"aotsym": aotsym.__version__, "flags": flags, "mode": mode,
                              "graph_hash": emitted.digest()})
    return PackageBuild(path, emitted, flags, blas,
                        {fn.name: fg for fn, fg in zip(assembled, fgraphs)}, seconds)


def profile_layouts(specs, emitted, seconds) -> dict:
    """Per function of a profile build, the layout of its counters
    (:func:`aotsym.build.profiling.describe_function`), with what building it took: the
    optimizer's summary and the module's ``seconds`` per stage."""
    from aotsym.build import profiling
    stage_seconds = {k: v for k, v in seconds.items() if k != "optimize"}
    return {spec.name: profiling.describe_function(
                spec.name, index, spec.program, fn, profiling.compile_info(
                    stats_summary(spec.fgraph.meta.get("optimizer_stats")), stage_seconds))
            for index, (spec, fn) in enumerate(zip(specs, emitted.functions))}


def _write_profile_files(path, name, specs, emitted, seconds, build):
    """A profile build's package reads its report with ``_profiling.py`` (a copy of
    :mod:`.profiling`: the package imports without aotsym) and ``_profile.json`` (the
    layouts of its counters)."""
    import inspect

    from aotsym.build import profiling
    files = {"_profiling.py": inspect.getsource(profiling)}
    tmp = os.path.join(path, f"._profile.json.{os.getpid()}")
    profiling.save_layouts(tmp, profile_layouts(specs, emitted, seconds), name, build)
    os.replace(tmp, os.path.join(path, "_profile.json"))
    for fname, text in files.items():
        tmp = os.path.join(path, f".{fname}.{os.getpid()}")
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, os.path.join(path, fname))


# ------------------------------------------------------------------------------ helpers


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
    from aotsym.build.pyruntime import openblas_unthreaded
    spec = importlib.util.spec_from_file_location(name, path)
    with openblas_unthreaded():
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def _default_cache_dir() -> str:
    from aotsym.config import config
    return config.cache_dir
