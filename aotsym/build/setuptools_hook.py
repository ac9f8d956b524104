"""The setuptools build hook: ``pip install .`` / ``pip wheel .`` / ``python -m build`` of a
user's package compiles its aotsym modules into the wheel, as ``cffi_modules=`` does for cffi.

Part of the build stage (frontend -> graph -> optimizer -> emit_c -> **build**): a third door
into the one build path, beside ``aotsym.function`` and ``aotsym build``.  It loads a spec as
the command line does (:func:`aotsym.build.cli.load_modules`: by path, with runpy, so the
user's package ``__init__`` — which may import the module not built yet — is never imported),
has the Module assemble its exports and hands them to
:func:`aotsym.build.driver.build_package`.  setuptools only decides when and where.

The spelling (fixed by DESIGN.md), in the user's project::

    # pyproject.toml
    [build-system]
    requires = ["setuptools>=64", "aotsym"]
    build-backend = "setuptools.build_meta"

    [tool.aotsym]
    modules = ["pkg/model.py:mod"]      # SPEC.py[:attribute], relative to the project root
    cflags = "-O2"                      # optional; default: portable -O3 (see .cli)
    profile = false                     # optional: a profile build (NAME.profile())
    target = "c"                        # optional

    # or, in a setup.py:  setup(aotsym_modules=["pkg/model.py:mod"])

How each spelling activates — setuptools' documented plug-in points, nothing patched:

* ``setup(aotsym_modules=...)``: aotsym's ``distutils.setup_keywords`` entry point
  ``aotsym_modules`` (:func:`aotsym_modules`).  setuptools calls it with the value while it
  finalizes the Distribution, as it calls cffi's ``cffi_modules``.
* ``[tool.aotsym] modules``, with no setup.py: a setup keyword is only seen when setup() is
  given it, and the setup() that ``setuptools.build_meta`` runs for a pyproject-only project is
  given nothing.  The ``setuptools.finalize_distribution_options`` entry point
  (:func:`finalize_distribution_options`) is setuptools' documented hook for plugins that
  "configure options on the distribution at finalization time" (the way setuptools-scm and
  setuptools-rust read their pyproject tables): setuptools calls every registered hook on every
  Distribution it finalizes — with or without setup.py, in every PEP 517 hook and in editable
  builds — before any command is created, which is when ``ext_modules`` and ``cmdclass`` must
  be set.  The alternatives are worse: ``[tool.setuptools] ext-modules`` cannot name our
  ``build_ext``, and an aotsym build backend would replace setuptools' own for the user's whole
  project.  The hook costs nothing elsewhere: without ``[tool.aotsym] modules`` in the
  project's pyproject.toml it returns at once (it runs in every setuptools build of an
  environment where aotsym is installed).

Either way aotsym must be importable where the build runs: ``"aotsym"`` in ``[build-system]
requires`` (pip installs it into the isolated build environment), or, with
``pip --no-build-isolation``, aotsym installed in the environment that runs pip.

What they add to the Distribution, per spec:

* an :class:`AotsymExtension` in ``ext_modules``: a real ``Extension`` whose one source is the
  spec file, so the wheel is a platform wheel (``cpXY-cpXY-<platform>``) and the sdist carries
  the spec (setuptools puts every extension's sources in it);
* ``cmdclass["build_ext"]``: a subclass of the project's own ``build_ext`` (:func:`make_build_ext`)
  whose ``build_extension`` traces the spec, builds the package with ``build_package`` into the
  build directory (``build_temp/aotsym/``: the generated C is kept there) and copies it to
  ``build_lib/pkg/NAME/`` (the extension ``pkg.NAME._aot``, ``__init__.py``, ``__init__.pyi``,
  ``initial_state.npz``, the BLAS library found through ``$ORIGIN``); in place
  (``--inplace``, editable installs) it replaces ``pkg/NAME/`` in the source tree.  Every build
  traces and compiles again, so a changed spec is always picked up;
* ``cmdclass["build_py"]``: the spec files stay out of the wheel (they import aotsym; the
  wheel's runtime needs only numpy and cffi).

``pkg`` is the package of the spec's directory (found by walking up through its
``__init__.py`` files: flat and src layouts alike); ``NAME`` is the Module's name.  A spec that
fails to load, trace or build stops the build with one paragraph — the spec, the user's file
and line, the reason — through setuptools' own error channel (:class:`SpecError`), not a
traceback.
"""

from __future__ import annotations

import os
import shutil
import textwrap
import traceback

from setuptools import Extension
from setuptools.errors import BaseError, SetupError

RUNTIME_REQUIREMENTS = ("numpy", "cffi")


class SpecError(BaseError):
    """An aotsym spec could not be loaded, traced or built: setuptools prints ``error:`` and
    the message, with no traceback, and the build stops."""


class AotsymExtension(Extension):
    """One spec's module: ``pkg.NAME._aot`` once the spec is traced (until then the name is
    a placeholder: NAME is the Module's, known only by running the spec).  ``sources`` is the
    spec file, relative to the project root."""

    def __init__(self, spec: str, attr: str, package: str, options: dict):
        stem = os.path.splitext(os.path.basename(spec))[0]
        super().__init__(f"{package}.{stem}_aotsym_module._aot", sources=[spec])
        self.spec = spec
        self.attr = attr
        self.package = package
        self.options = dict(options)
        self.package_files: list = []       # the files built beside the extension

    @property
    def entry(self) -> str:
        return f"{self.spec}:{self.attr}" if self.attr else self.spec


# ------------------------------------------------------------------------------ entry points


def aotsym_modules(dist, attr, value) -> None:
    """The ``distutils.setup_keywords`` entry point: ``setup(aotsym_modules=[...])``."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SetupError(f"setup({attr}=...) must be a list of 'path/to/spec.py[:module]' "
                         f"strings, got {value!r}")
    root = os.getcwd()
    add_modules(dist, list(value), read_tool_table(root), root, f"setup({attr}=...)")


def finalize_distribution_options(dist) -> None:
    """The ``setuptools.finalize_distribution_options`` entry point: ``[tool.aotsym]
    modules`` in the project's pyproject.toml.  A no-op for every other project."""
    root = os.getcwd()
    table = read_tool_table(root)
    modules = table.get("modules")
    if not modules:
        return
    where = os.path.join(root, "pyproject.toml") + " [tool.aotsym] modules"
    if not isinstance(modules, list) or not all(isinstance(v, str) for v in modules):
        raise SetupError(f"{where} must be a list of 'path/to/spec.py[:module]' strings, "
                         f"got {modules!r}")
    add_modules(dist, list(modules), table, root, where)


finalize_distribution_options.order = 10     # after setuptools' own keyword hook


def read_tool_table(root: str) -> dict:
    """``[tool.aotsym]`` of ``root/pyproject.toml`` ({} without one)."""
    path = os.path.join(root, "pyproject.toml")
    if not os.path.isfile(path):
        return {}
    from aotsym.config import read_pyproject
    try:
        return read_pyproject(path)
    except ValueError as exc:
        raise SetupError(str(exc)) from None


def hook_options(table: dict, where: str) -> dict:
    """The build options of ``[tool.aotsym]`` (``cflags``, ``profile``, ``target``), checked."""
    options = {"cflags": table.get("cflags"), "profile": table.get("profile", False),
               "target": table.get("target", "c")}
    if options["cflags"] is not None and not isinstance(options["cflags"], str):
        raise SetupError(f"{where}: [tool.aotsym] cflags must be a string")
    if not isinstance(options["profile"], bool):
        raise SetupError(f"{where}: [tool.aotsym] profile must be true or false")
    if options["target"] not in ("c", "cuda"):
        raise SetupError(f"{where}: [tool.aotsym] target must be \"c\" or \"cuda\", got "
                         f"{options['target']!r}")
    return options


def add_modules(dist, entries: list, table: dict, root: str, where: str) -> None:
    """One :class:`AotsymExtension` per spec entry, and the commands that build them."""
    options = hook_options(table, where)
    known = getattr(dist, "_aotsym_entries", set())
    dist._aotsym_entries = known
    for entry in entries:
        spec, attr = split_entry(entry)
        if entry in known:
            continue
        if os.path.isabs(spec) or not spec.endswith(".py"):
            raise SetupError(f"{where}: {entry!r}: the spec must be a .py file given relative "
                             "to the project root, as 'pkg/model.py:mod'")
        path = os.path.join(root, spec)
        if not os.path.isfile(path):
            raise SetupError(f"{where}: {entry!r}: no such spec file {path}")
        package = package_of(os.path.dirname(path))
        if package is None:
            raise SetupError(f"{where}: {entry!r}: the spec's directory is not a package (no "
                             "__init__.py): the built module lands inside the spec's package, "
                             "as pkg.NAME")
        known.add(entry)
        dist.ext_modules = list(dist.ext_modules or []) + [
            AotsymExtension(spec.replace(os.sep, "/"), attr, package, options)]
    cmdclass = dist.cmdclass
    if not getattr(cmdclass.get("build_ext"), "_aotsym_hook", False):
        from setuptools.command.build_ext import build_ext
        cmdclass["build_ext"] = make_build_ext(cmdclass.get("build_ext", build_ext))
    if not getattr(cmdclass.get("build_py"), "_aotsym_hook", False):
        from setuptools.command.build_py import build_py
        cmdclass["build_py"] = make_build_py(cmdclass.get("build_py", build_py))


def split_entry(entry: str) -> tuple:
    """``"pkg/model.py:mod"`` -> ``("pkg/model.py", "mod")``; no attribute -> ``""``."""
    spec, _, attr = entry.partition(":")
    return spec.strip(), attr.strip()


def package_of(directory: str) -> str | None:
    """The dotted name of the package in ``directory``: its parents, as long as they hold an
    ``__init__.py`` (so ``src/pkg/sub`` is ``pkg.sub``); None when it is not a package."""
    parts = []
    directory = os.path.abspath(directory)
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parts.append(os.path.basename(directory))
        directory = os.path.dirname(directory)
    return ".".join(reversed(parts)) or None


# ------------------------------------------------------------------------------ commands


def make_build_ext(base):
    """``base`` (the project's build_ext) that also builds :class:`AotsymExtension`s."""

    class build_ext(base):  # noqa: N801 - setuptools command naming
        _aotsym_hook = True

        def build_extension(self, ext):
            if not isinstance(ext, AotsymExtension):
                return super().build_extension(ext)
            return build_spec(self, ext)

        def copy_extensions_to_source(self):
            ours = [e for e in self.extensions if isinstance(e, AotsymExtension)]
            saved = self.extensions
            self.extensions = [e for e in saved if not isinstance(e, AotsymExtension)]
            try:
                if self.extensions:
                    super().copy_extensions_to_source()
            finally:
                self.extensions = saved
            for ext in ours:
                built = os.path.dirname(os.path.join(self.build_lib, ext._file_name))
                replace_tree(built, source_package_dir(ext))

        def get_outputs(self):
            outputs = list(super().get_outputs())
            if not self.inplace:
                for ext in self.extensions:
                    if isinstance(ext, AotsymExtension):
                        built = os.path.dirname(self.get_ext_fullpath(ext.name))
                        outputs += [os.path.join(built, f) for f in ext.package_files
                                    if os.path.join(built, f) not in outputs]
            return outputs

        def get_output_mapping(self):
            mapping = dict(super().get_output_mapping())
            if self.inplace:
                for ext in self.extensions:
                    if isinstance(ext, AotsymExtension) and ext.package_files:
                        built = os.path.dirname(os.path.join(self.build_lib, ext._file_name))
                        for f in ext.package_files:
                            mapping[os.path.join(built, f)] = os.path.join(
                                source_package_dir(ext), f)
            return dict(sorted(mapping.items()))

    build_ext.__doc__ = f"{base.__name__}, building aotsym specs too (aotsym's setuptools hook)"
    return build_ext


def make_build_py(base):
    """``base`` (the project's build_py) that leaves the spec files out of the wheel."""

    class build_py(base):  # noqa: N801 - setuptools command naming
        _aotsym_hook = True

        def find_package_modules(self, package, package_dir):
            specs = {os.path.abspath(ext.spec) for ext in self.distribution.ext_modules or ()
                     if isinstance(ext, AotsymExtension)}
            return [m for m in super().find_package_modules(package, package_dir)
                    if os.path.abspath(m[2]) not in specs]

    return build_py


def source_package_dir(ext) -> str:
    """Where ``pkg.NAME`` lives in the source tree: beside the spec."""
    return os.path.join(os.path.dirname(os.path.abspath(ext.spec)), ext.name.split(".")[-2])


def replace_tree(src: str, dst: str) -> None:
    """``dst`` becomes a copy of ``src``: assembled beside it, then renamed into place."""
    tmp = f"{dst}.aotsym-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    old = f"{dst}.aotsym-old-{os.getpid()}"
    if os.path.isdir(dst):
        os.rename(dst, old)
    os.rename(tmp, dst)
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------ the build


def build_spec(cmd, ext: AotsymExtension) -> None:
    """Trace ``ext``'s spec and build it into ``build_lib/pkg/NAME/`` (``cmd``: build_ext)."""
    root = os.getcwd()
    try:
        module = load_module(ext)
    except SpecError:
        raise
    except BaseException as exc:     # the spec's own code: anything may come out of it
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SpecError(spec_failure(ext, exc, root, "loading and tracing it")) from None
    name = module.name
    ext.name = f"{ext.package}.{name}._aot"
    ext._full_name = cmd.get_ext_fullname(ext.name)
    ext._file_name = cmd.get_ext_filename(ext._full_name)
    target = os.path.dirname(cmd.get_ext_fullpath(ext.name))
    outdir = os.path.join(cmd.build_temp, "aotsym", *ext.package.split("."))
    options = build_options(ext.options)
    cmd.announce(f"aotsym: building {ext.entry} -> {ext.package}.{name} "
                 f"(cflags {options.cflags})", level=2)
    check_requirements(cmd)
    try:
        from aotsym.build.driver import build_package
        built = build_package(module, module.assemble(), outdir, mode="FAST_RUN",
                              options=options, spec_path=ext.spec, keep_source=True,
                              log=lambda text: cmd.announce(text, level=2))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SpecError(spec_failure(ext, exc, root, "building it")) from None
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(os.path.realpath(built.path), target, symlinks=False,
                    ignore=shutil.ignore_patterns("_aot.c", "_aot_runtime.c", "__pycache__"))
    ext.package_files = sorted(os.path.relpath(os.path.join(d, f), target)
                               for d, _, names in os.walk(target) for f in names)
    cmd.announce(f"aotsym: wrote {target} (C source kept in "
                 f"{os.path.join(built.path, '_aot.c')})", level=2)


def load_module(ext: AotsymExtension):
    """The one ``aotsym.Module`` of ``ext``'s spec, traced."""
    from aotsym.build.cli import load_modules
    path, modules = load_modules(ext.entry)
    if len(modules) > 1:
        names = ", ".join(repr(m.name) for m in modules)
        raise SpecError(f"aotsym: {ext.spec} defines several aotsym.Modules ({names}); name "
                        f"the one to build, as '{ext.spec}:mod' (one entry per Module)")
    (module,) = modules
    if not module.name.isidentifier():
        raise SpecError(f"aotsym: {ext.spec}: Module name {module.name!r} is not a Python "
                        f"identifier; it becomes the import name {ext.package}.NAME")
    if not module.exports:
        raise SpecError(f"aotsym: {ext.spec}: Module {module.name!r} exports no function "
                        f"(@{module.name}.export)")
    return module


def build_options(hook: dict):
    """BuildOptions for a shipped wheel.  cflags: ``AOTSYM_FLAGS=cflags=...`` if set, else
    ``[tool.aotsym] cflags``, else the command line's rule (``aotsym.config.cflags`` when the
    user set it, else portable flags): a wheel runs on other machines than the one that
    built it."""
    from aotsym.build.cli import PORTABLE_CFLAGS
    from aotsym.build.driver import BuildOptions
    from aotsym.config import config
    source = config.source("cflags")
    if source == "AOTSYM_FLAGS" or hook.get("cflags") is None:
        cflags = config.cflags if source != "default" else PORTABLE_CFLAGS
    else:
        cflags = hook["cflags"]
    return BuildOptions.from_config(cflags=cflags, profile=hook.get("profile", False),
                                    target=hook.get("target", "c"))


def check_requirements(cmd) -> None:
    """Warn when the project does not declare what the built module imports."""
    declared = " ".join(getattr(cmd.distribution, "install_requires", None) or []).lower()
    missing = [r for r in RUNTIME_REQUIREMENTS if r not in declared]
    if missing:
        cmd.warn(f"aotsym: the built module imports {' and '.join(RUNTIME_REQUIREMENTS)} at run "
                 f"time; add {', '.join(missing)} to [project] dependencies")


def spec_failure(ext: AotsymExtension, exc: BaseException, root: str, doing: str) -> str:
    """One paragraph: which spec failed, at which line of the user's code, and why."""
    where = user_frame(exc, os.path.abspath(ext.spec), root)
    reason = " ".join(str(exc).split()) or "(no message)"
    if exc.__class__.__name__ == "CompileError":     # the C compiler's output: keep it short
        reason = textwrap.shorten(str(exc), 1500, placeholder=" ...")
    text = f"aotsym could not build {ext.entry} ({doing}): "
    if where:
        text += where + ": "
    text += f"{type(exc).__name__}: {reason}"
    return textwrap.fill(text, 99, break_long_words=False, break_on_hyphens=False)


def user_frame(exc: BaseException, spec: str, root: str) -> str:
    """``"pkg/model.py:31 (in predict: `return x + y`)"``: the innermost line of the user's
    code (the spec, else any file of the project) where ``exc`` was raised; "" if none."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_relative(exc.filename, root)}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    chosen = None
    for inside in (lambda f: os.path.abspath(f) == spec,
                   lambda f: _under(f, root) and "site-packages" not in f):
        matching = [f for f in frames if inside(f.filename)]
        if matching:
            chosen = matching[-1]
            break
    if chosen is None:
        return ""
    code = f": `{chosen.line.strip()}`" if chosen.line else ""
    where = f"in {chosen.name}" if chosen.name != "<module>" else "at module level"
    return f"{_relative(chosen.filename, root)}:{chosen.lineno} ({where}{code})"


def _under(path: str, root: str) -> bool:
    path = os.path.abspath(path)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root) if _under(path, root) else path


__all__ = ["aotsym_modules", "finalize_distribution_options", "AotsymExtension", "SpecError",
           "make_build_ext", "make_build_py"]

