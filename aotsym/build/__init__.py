"""``aotsym.build``: assembled functions in, artifacts out (loaded modules, packages).

Last stage of the pipeline (frontend -> graph -> optimizer -> emit_c -> **build**).  One
driver (:mod:`.driver`) takes every build from the frontend's assembled functions through
the optimizer, the C emitter (:mod:`aotsym.emit_c`), the compiler (:mod:`.compiler`: cffi in
API mode) and the content-hashed cache (:mod:`.cache`) to a loaded module — for
``aotsym.function`` — or, with :mod:`.standalone`, to a package that imports without aotsym —
for ``aotsym build`` (:mod:`.cli`) and for the setuptools hook that compiles a package's specs
into its wheel (:mod:`.setuptools_hook`).  :mod:`.pyruntime` is the Python half of every built
module; :mod:`.blas` finds the BLAS a module links.

This package re-exports the driver's names; importing it does not import the frontend.
"""

from __future__ import annotations

from aotsym.build.driver import (AssembledFunction, BuildOptions,  # noqa: F401
                                 CompiledFunction, LoadedModule, PackageBuild,
                                 argument_labels, build_functions, build_module, build_package,
                                 compile_fgraph, described, link_options, load_extension,
                                 node_error, optimize_graphs, stats_summary, step_table)

__all__ = ["build_functions", "build_package", "build_module", "compile_fgraph",
           "AssembledFunction", "BuildOptions", "CompiledFunction", "LoadedModule",
           "PackageBuild"]
