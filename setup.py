"""Build hook: ship the C runtime inside the wheel.

Everything declarative lives in pyproject.toml.  The one thing it cannot say is "copy the
top-level ``runtime/`` directory into the package as ``aotsym/_runtime/``": that is what this
``build_py`` does.  An editable install needs no copy: :func:`aotsym.runtime_dir` falls back to
the checkout's ``runtime/``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RUNTIME_SUFFIXES = (".c", ".h", ".cu", ".cuh")
HERE = Path(__file__).resolve().parent


class build_py_with_runtime(build_py):  # noqa: N801 - setuptools command naming
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        src = HERE / "runtime"
        dst = Path(self.build_lib) / "aotsym" / "_runtime"
        for path in sorted(src.rglob("*")):
            if path.is_file() and path.suffix in RUNTIME_SUFFIXES:
                target = dst / path.relative_to(src)
                self.mkpath(str(target.parent))
                self.copy_file(str(path), str(target))


setup(cmdclass={"build_py": build_py_with_runtime})
