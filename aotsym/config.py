"""``aotsym.config``: the flags every stage reads (floatX, mode, cache directory, compiler).

Beside the pipeline: stages receive values from here as arguments; only the frontend reads it
directly.

Where flags come from, later sources overriding earlier ones:

1. the built-in defaults (``FLAGS`` below);
2. ``~/.aotsymrc``: an INI file, flags in a ``[global]`` (or ``[aotsym]``) section or before
   any section: ``floatX = float32``;
3. ``[tool.aotsym]`` in the current project's ``pyproject.toml`` (the nearest one in the
   current directory or above it); its ``modules`` and ``target`` keys belong to the
   setuptools build hook (:mod:`aotsym.build.setuptools_hook`), not here;
4. the environment: Theano's ``THEANO_FLAGS`` (a flag aotsym cannot take there is a warning),
   then ``AOTSYM_FLAGS="floatX=float32,mode=FAST_COMPILE"``;
5. assignment in code: ``aotsym.config.floatX = "float32"``, or temporarily
   ``with aotsym.config.change_flags(floatX="float32"): ...``.

``fast_math`` (off by default) lets rewrites assume finite values; :data:`FAST_MATH_TEXT`
lists exactly the rewrites it changes.

Theano's own flags (``optimizer``, ``linker``, ``scan.allow_gc``, ``lib.cnmem`` ...) are
accepted and change nothing (:mod:`aotsym.theano_flags`); ``compiledir`` and
``base_compiledir`` are other names of ``cache_dir``.  An unknown flag or a bad value is a
``ValueError`` that names the source and lists the valid flags or values.  ``aotsym config`` (the command line) prints every flag with its source.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings

from aotsym import theano_flags

MODES = ("FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "PROFILE_MODE")
# Theano's spellings of the same modes.
MODE_ALIASES = {"DebugMode": "DEBUG_MODE", "ProfileMode": "PROFILE_MODE",
                "DEBUG": "DEBUG_MODE", "PROFILE": "PROFILE_MODE"}


def normalize_mode(mode) -> str:
    """The canonical name of a mode, or a ValueError listing the valid ones."""
    name = MODE_ALIASES.get(mode, mode)
    if name not in MODES:
        raise ValueError(f"unknown aotsym mode {mode!r}; valid modes: {', '.join(MODES)} "
                         f"(or Theano's {', '.join(MODE_ALIASES)})")
    return name

SOURCES_TEXT = """\
Flags are read, later sources overriding earlier ones, from: the defaults; ~/.aotsymrc
([global] section); [tool.aotsym] in the nearest pyproject.toml; THEANO_FLAGS; AOTSYM_FLAGS="k=v,...";
assignments in code (aotsym.config.floatX = "float32")."""


def _cache_default():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aotsym")


def _device(value) -> str:
    """cpu, or cuda for Theano's spellings of a GPU (gpu, gpu0, cuda, cuda1 ...)."""
    text = str(value).strip().lower()
    if text == "cpu":
        return "cpu"
    if re.fullmatch(r"(cuda|gpu)\d*", text):
        return "cuda"
    raise ValueError(f"{value!r} is not a valid value; valid values: cpu, cuda (or Theano's "
                     "gpu, gpuN, cudaN)")


# flag: (default, allowed values or converter, help)
FLAGS = {
    "floatX": ("float64", ("float64", "float32"), "default float dtype of T.matrix() etc."),
    "mode": ("FAST_RUN", normalize_mode, "default mode of aotsym.function"),
    "cache_dir": (None, str, "where built modules are cached (default ~/.cache/aotsym)"),
    "cxx": ("cc", str, "the C compiler"),
    "cflags": ("-O3 -march=native", str, "extra C compiler flags"),
    "nvcc": ("nvcc", str, "the CUDA compiler"),
    "device": ("cpu", _device, "where aotsym.function runs compiled graphs: cpu (the C "
               "backend) or cuda (an NVIDIA GPU; Theano's device=gpu, gpu0, cuda0 ...)"),
    "on_unused_input": ("raise", ("raise", "warn", "ignore"),
                        "what aotsym.function does with an input no output reads, unless its "
                        "on_unused_input argument says (Theano's flag)"),
    "blas": ("auto", str, "BLAS to link: auto, openblas32, openblas64 or none"),
    "compute_test_value": ("off", ("off", "ignore", "warn", "raise"),
                           "evaluate test values while building graphs (Theano's flag)"),
    "compute_test_value_opt": ("off", ("off", "ignore", "warn", "raise", "pdb"),
                               "Theano's test values during optimization; accepted, changes "
                               "nothing (DEBUG_MODE checks rewrites on tag.test_value)"),
    "exception_verbosity": ("low", ("low", "high"),
                            "Theano's detail of error messages; accepted, changes nothing "
                            "(aotsym's errors always name the user's source line)"),
    "on_opt_error": ("warn", ("warn", "raise", "pdb", "ignore"),
                     "Theano's handling of a rewrite that raises; accepted, changes nothing "
                     "(an error in an aotsym rewrite always raises)"),
    "openmp": (True, bool, "multithread large elementwise loops"),
    "profile": (False, bool, "profile every compiled function (Theano's flag): f.profile(), "
                "and each one's report printed at interpreter exit"),
    "fast_math": (False, bool, "let rewrites assume every value finite and every divisor "
                  "nonzero (see FAST_MATH_TEXT)"),
}
# Theano's flags, accepted for ported code (aotsym/theano_flags.py); dotted names are sections
FLAGS.update(theano_flags.flag_specs())
THEANO_ONLY = frozenset(theano_flags.ACCEPTED) | frozenset(theano_flags.ACTIVE)
SECTIONS = theano_flags.sections(FLAGS)

FAST_MATH_TEXT = """\
fast_math (off by default) lets the optimizer assume that no value is nan or +-inf and that no
divisor is 0, as Theano did.  It changes exactly these rewrites (FAST_RUN, PROFILE_MODE and
DEBUG_MODE; FAST_COMPILE does not rewrite):
  canonicalize_sum        a term and its negation cancel for any x:  x - x -> 0,
                          x + y - y -> x, sum(x) - sum(x) -> 0, sqrt(x) - sqrt(x) -> 0, and
                          var/std over length-1 axes -> 0 (off: only integer, bool, finite
                          constant or narrow-integer-cast terms cancel);
  canonicalize_product    a factor in numerator and denominator cancels for any x:
                          x / x -> 1, (x * 2) / x -> 2, x * y / y -> x, (0.5 / x) * x -> 0.5,
                          log(M) / log(M) -> 1 (off: only finite nonzero constants);
  cancel_stable_factors, sigmoid_in_product, distribute_to_cancel, softmax_in_product
                          (stabilize) cancel any factor, not only exp / sigmoid / softmax
                          (and sums and broadcasts of them) and finite nonzero constants.
With it off (the default) every rewrite keeps NumPy's answer for nan, +-inf and +-0, except
that stabilizing rewrites may make finite what overflows or underflows (log1p, softplus,
softmax, sigmoid) and floating-point sums and products may be reassociated (last bits)."""

# [tool.aotsym] keys of the setuptools build hook that are not flags (cflags and profile are
# both: flags here, and the hook's options for the modules it builds)
BUILD_HOOK_KEYS = ("modules", "target")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _convert(name, value, source):
    _, check, _ = FLAGS[name]
    where = f" (from {source})" if source != "code" else ""
    if isinstance(check, tuple):
        if value not in check:
            raise ValueError(f"aotsym.config.{name}{where}: {value!r} is not a valid value; "
                             f"valid values: {', '.join(check)}")
        return value
    if check is bool:
        if isinstance(value, str):
            low = value.strip().lower()
            if low not in _TRUE + _FALSE:
                raise ValueError(f"aotsym.config.{name}{where}: {value!r} is not a boolean; "
                                 f"valid values: {', '.join(_TRUE + _FALSE)}")
            return low in _TRUE
        if not isinstance(value, (bool, int)):
            raise ValueError(f"aotsym.config.{name}{where}: {value!r} is not a boolean")
        return bool(value)
    if check is not str:  # a converter that raises ValueError with its own message
        try:
            return check(value)
        except ValueError as exc:
            raise ValueError(f"aotsym.config.{name}{where}: {exc}") from None
    if value is None and FLAGS[name][0] is None:
        return None  # back to the computed default (cache_dir)
    if not isinstance(value, str):
        raise ValueError(f"aotsym.config.{name}{where}: expected a string, got {value!r}")
    return value


class WarnFlags:
    """``config.warn.*``: Theano's switches for warnings about its own old bugs
    (``config.warn.sum_div_dimshuffle_bug = False``, ``warn.ignore_bug_before``).  aotsym
    never had those bugs, so every such flag is accepted, remembered and changes nothing."""

    def __init__(self):
        object.__setattr__(self, "_values", {"ignore_bug_before": "0.9"})

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return object.__getattribute__(self, "_values").get(name, False)

    def __setattr__(self, name, value):
        self._values[name] = value

    def __repr__(self):
        return f"WarnFlags({self._values!r})"


def _valid_flags() -> str:
    return ", ".join(sorted(set(FLAGS) - THEANO_ONLY)) + " (and Theano's: aotsym/theano_flags.py)"


class _Section:
    """``config.scan``, ``config.dnn.conv`` ...: Theano's dotted flags, by attribute."""

    def __init__(self, config, prefix):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._config, f"{self._prefix}.{name}")

    def __setattr__(self, name, value):
        self._config.set(f"{self._prefix}.{name}", value, "code")

    def __repr__(self):
        return f"<aotsym.config.{self._prefix}>"


class Config:
    """The flag values and, for each, the source it came from."""

    def __init__(self):
        object.__setattr__(self, "_values", {k: v[0] for k, v in FLAGS.items()})
        object.__setattr__(self, "_sources", {k: "default" for k in FLAGS})
        object.__setattr__(self, "warn", WarnFlags())   # Theano's no-op config.warn.*

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        name = theano_flags.ALIASES.get(name, name)
        if name not in values:
            if name in SECTIONS:          # Theano's dotted flags: config.scan.allow_gc
                return _Section(self, name)
            raise AttributeError(f"aotsym.config has no flag {name!r}; valid flags: "
                                 + _valid_flags())
        if name == "cache_dir" and values[name] is None:
            return _cache_default()
        return values[name]

    def __setattr__(self, name, value):
        self.set(name, value, "code")

    def __dir__(self):
        return sorted(set(super().__dir__()) | {n for n in FLAGS if "." not in n}
                      | {s for s in SECTIONS if "." not in s})

    def set(self, name, value, source):
        """Set flag ``name`` from ``source`` (a file name, 'AOTSYM_FLAGS', 'code' ...)."""
        if name.startswith("warn.") and len(name) > 5:   # Theano's warn.* (no-ops)
            setattr(self.warn, name[5:], value)
            return
        name = theano_flags.ALIASES.get(name, name)
        if name not in FLAGS:
            raise ValueError(f"unknown aotsym flag {name!r} (from {source}); valid flags: "
                             + _valid_flags())
        self._values[name] = _convert(name, value, source)
        self._sources[name] = source

    def source(self, name) -> str:
        return self._sources[name]

    @contextlib.contextmanager
    def change_flags(self, **flags):
        """Set flags for the duration of a ``with`` block (Theano's ``change_flags``)."""
        flags = {theano_flags.ALIASES.get(k, k): v for k, v in flags.items()}
        saved = {k: (self._values[k], self._sources[k]) for k in flags if k in FLAGS}
        try:
            for name, value in flags.items():
                self.set(name, value, "code")
            yield self
        finally:
            for name, (value, source) in saved.items():
                self._values[name], self._sources[name] = value, source

    @contextlib.contextmanager
    def defaults(self):
        """Every flag at its built-in default (source 'default') for a ``with`` block, as if
        no rc file, pyproject.toml or AOTSYM_FLAGS existed: what test suites want."""
        saved = dict(self._values), dict(self._sources)
        try:
            for name, spec in FLAGS.items():
                self._values[name], self._sources[name] = spec[0], "default"
            yield self
        finally:
            self._values.update(saved[0])
            self._sources.update(saved[1])

    def load(self, environ=None, cwd=None, home=None):
        """Read ~/.aotsymrc, pyproject.toml's [tool.aotsym], then AOTSYM_FLAGS."""
        environ = os.environ if environ is None else environ
        home = home or os.path.expanduser("~")
        rc = os.path.join(home, ".aotsymrc")
        if os.path.isfile(rc):
            for name, value in _parse_rc(rc):
                self.set(name, value, rc)
        pyproject = _find_pyproject(cwd or os.getcwd())
        if pyproject:
            for name, value in read_pyproject(pyproject).items():
                if name in BUILD_HOOK_KEYS:  # read by aotsym.build.setuptools_hook
                    continue
                self.set(name, value, f"{pyproject} [tool.aotsym]")
        self._load_theano_flags(environ.get("THEANO_FLAGS", ""))
        for item in filter(None, (s.strip() for s in environ.get("AOTSYM_FLAGS", "").split(","))):
            if "=" not in item:
                raise ValueError(f"AOTSYM_FLAGS: {item!r} is not of the form flag=value; "
                                 "valid flags: " + ", ".join(sorted(FLAGS)))
            name, value = item.split("=", 1)
            self.set(name.strip(), value.strip(), "AOTSYM_FLAGS")
        return self

    def _load_theano_flags(self, text):
        """Theano's THEANO_FLAGS (a ported script may set it before importing): read before
        AOTSYM_FLAGS; a flag aotsym does not know, or a value it cannot take (floatX=float16),
        is a warning, not an error, as Theano warns about flags it does not know."""
        for item in filter(None, (s.strip() for s in text.split(","))):
            name, _, value = item.partition("=")
            try:
                if not _:
                    raise ValueError(f"{item!r} is not of the form flag=value")
                self.set(name.strip(), value.strip(), "THEANO_FLAGS")
            except ValueError as exc:
                warnings.warn(f"THEANO_FLAGS: {exc}; ignored", stacklevel=3)

    def precedence_text(self) -> str:
        return SOURCES_TEXT

    def __repr__(self):
        return "\n".join(f"{k} = {getattr(self, k)!r}  ({self._sources[k]})" for k in FLAGS
                         if k not in THEANO_ONLY)


def _parse_rc(path):
    """(flag, value) pairs of an INI-style ~/.aotsymrc (``[global]`` / ``[aotsym]``)."""
    section = None
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith(";"):
                continue
            if line.startswith("["):
                section = line.strip("[]").strip()
                continue
            if section not in (None, "global", "aotsym"):
                continue
            if "=" not in line:
                raise ValueError(f"{path}:{lineno}: {line!r} is not of the form flag = value")
            name, value = line.split("=", 1)
            yield name.strip(), value.strip().strip('"').strip("'")


def _find_pyproject(start):
    d = os.path.abspath(start)
    while True:
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def read_pyproject(path) -> dict:
    """``[tool.aotsym]`` of the pyproject.toml at ``path``; ValueError for bad TOML or a
    section that is no table (the flags here, the setuptools hook's keys too)."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML ({exc})") from None
    section = data.get("tool", {}).get("aotsym", {})
    if not isinstance(section, dict):
        raise ValueError(f"{path}: [tool.aotsym] must be a table")
    return section


config = Config()
config.load()
