"""Fixtures shared by tests/build/: the wheel of examples/packaged_model/, built once per
session by aotsym's setuptools hook (test_setuptools_hook.py and test_distributed.py use it)."""

import pytest

from hook_project import build_wheel, copy_example, require_hook


@pytest.fixture(scope="session")
def packaged_wheel(tmp_path_factory):
    """(wheel path, project copy it was built from)."""
    require_hook()
    root = tmp_path_factory.mktemp("packaged_wheel")
    project = copy_example(root / "project")
    return build_wheel(project, root / "dist"), project
