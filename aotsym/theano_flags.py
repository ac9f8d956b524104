"""Theano's configuration flags that aotsym accepts for ported code (``theano.config.X``).

Beside the pipeline: data read by :mod:`aotsym.config`.  Theano programs read and set flags
that name Theano's own machinery: its linkers and virtual machine, its optimizer database,
its C-module cache, its GPU back ends' memory pools.  aotsym has none of these, so each such
flag here is accepted (in code, ``~/.aotsymrc``, ``AOTSYM_FLAGS`` and Theano's
``THEANO_FLAGS``) with Theano's default and kind of value, remembered, and changes nothing.
Dotted names are sections as in Theano: ``config.scan.allow_gc``, ``config.dnn.conv.algo_fwd``.

The flags that do change something are :mod:`aotsym.config`'s own ``FLAGS`` (``floatX``,
``mode``, ``device``, ``compute_test_value``, ``on_unused_input``, ...), plus the three
``NanGuardMode.*`` switches below, which are the defaults of
:class:`aotsym.compile.nanguardmode.NanGuardMode`, and ``print_test_value`` (a variable's
repr shows its test value); ``compiledir`` and ``base_compiledir``
are other names of ``cache_dir``.
"""

from __future__ import annotations

_NOTHING = "Theano's flag, accepted; changes nothing"

# name: (Theano's default, bool / int / float / str)
ACCEPTED = {
    "optimizer": ("fast_run", str), "linker": ("cvm", str), "allow_gc": (True, bool),
    "optimizer_including": ("", str), "optimizer_excluding": ("", str),
    "optimizer_requiring": ("", str), "optimizer_verbose": (False, bool),
    "warn_float64": ("ignore", str), "cast_policy": ("custom", str),
    "int_division": ("int", str), "deterministic": ("default", str),
    "compiledir_format": ("", str), "reoptimize_unpickled_function": (False, bool),
    "unpickle_function": (True, bool), "profile_memory": (False, bool),
    "profile_optimizer": (False, bool), "print_active_device": (True, bool),
    "openmp_elemwise_minsize": (200000, int), "check_input": (True, bool),
    "assert_no_cpu_op": ("ignore", str), "init_gpu_device": ("", str),
    "force_device": (False, bool), "contexts": ("", str), "cycle_detection": ("regular", str),
    "check_stack_trace": ("off", str), "on_shape_error": ("warn", str),
    "traceback.limit": (8, int), "traceback.compile_limit": (0, int),
    "scan.allow_gc": (False, bool), "scan.allow_output_prealloc": (True, bool),
    "scan.debug": (False, bool), "gcc.cxxflags": ("", str), "blas.ldflags": ("", str),
    "cmodule.warn_no_version": (False, bool), "cmodule.remove_gxx_opt": (False, bool),
    "cmodule.compilation_warning": (False, bool), "cmodule.preload_cache": (False, bool),
    "cmodule.age_thresh_use": (60 * 60 * 24 * 24, int), "cmodule.debug": (False, bool),
    "nvcc.fastmath": (False, bool), "nvcc.flags": ("", str), "cuda.root": ("", str),
    "dnn.enabled": ("auto", str), "dnn.include_path": ("", str),
    "dnn.library_path": ("", str), "dnn.conv.algo_fwd": ("small", str),
    "dnn.conv.algo_bwd_data": ("none", str), "dnn.conv.algo_bwd_filter": ("none", str),
    "dnn.conv.precision": ("as_input_f32", str), "lib.cnmem": (0.0, float),
    "gpuarray.preallocate": (0.0, float), "gpuarray.sched": ("default", str),
    "gpuarray.single_stream": (True, bool), "magma.enabled": (False, bool),
    "DebugMode.check_finite": (True, bool), "DebugMode.check_c": (True, bool),
    "DebugMode.check_py": (True, bool), "DebugMode.check_strides": (0, int),
    "DebugMode.patience": (10, int), "DebugMode.check_preallocated_output": ("", str),
    "NanGuardMode.action": ("raise", str), "numpy.seterr_all": ("ignore", str),
    "numpy.seterr_divide": ("None", str), "numpy.seterr_over": ("None", str),
    "numpy.seterr_under": ("None", str), "numpy.seterr_invalid": ("None", str),
    "tensor.cmp_sloppy": (0, int), "tensor.local_elemwise_fusion": (True, bool),
    "optdb.max_use_ratio": (8.0, float), "optdb.position_cutoff": (float("inf"), float),
    "metaopt.verbose": (0, int), "compile.wait": (5, int), "compile.timeout": (120, int),
    "conv.assert_shape": (False, bool), "pycuda.init": (False, bool),
    "experimental.unpickle_gpu_on_cpu": (False, bool),
    "unittests.rseed": ("666", str),
    "profiling.n_apply": (20, int), "profiling.n_ops": (20, int),
    "profiling.output_line_width": (512, int), "profiling.min_memory_size": (1024, int),
    "profiling.min_peak_memory": (False, bool), "profiling.destination": ("stderr", str),
    "profiling.debugprint": (False, bool), "profiling.ignore_first_call": (False, bool),
}

# flags with an effect (aotsym.config reads them): name: (default, kind, help)
ACTIVE = {
    "NanGuardMode.nan_is_error": (True, bool, "NanGuardMode's default: a nan is an error"),
    "NanGuardMode.inf_is_error": (True, bool, "NanGuardMode's default: an inf is an error"),
    "NanGuardMode.big_is_error": (True, bool,
                                  "NanGuardMode's default: |value| > 1e10 is an error"),
    "print_test_value": (False, bool, "repr() of a variable with a test value "
                         "(tag.test_value) shows the value on the next line"),
}

# other names of aotsym flags
ALIASES = {"compiledir": "cache_dir", "base_compiledir": "cache_dir"}


def flag_specs() -> dict:
    """``{name: (default, converter, help)}`` for :data:`aotsym.config.FLAGS`' format."""
    specs = {name: (default, _converter(kind), _NOTHING)
             for name, (default, kind) in ACCEPTED.items()}
    specs.update({name: (default, _converter(kind), text)
                  for name, (default, kind, text) in ACTIVE.items()})
    return specs


def _converter(kind):
    if kind is bool:
        return bool                      # (aotsym.config's own boolean parsing)
    if kind is str:
        return _text

    def convert(value):
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a{'n' if kind is int else ''} "
                             f"{kind.__name__}") from None
    return convert


def _text(value):
    return "None" if value is None else str(value)


def sections(names) -> set:
    """Every dotted prefix of ``names`` (``dnn``, ``dnn.conv`` for ``dnn.conv.algo_fwd``)."""
    out = set()
    for name in names:
        parts = name.split(".")
        out.update(".".join(parts[:k]) for k in range(1, len(parts)))
    return out
