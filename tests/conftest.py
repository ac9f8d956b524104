"""Flags and build cache for every test.

Every test runs with aotsym's default flags, whatever ~/.aotsymrc, the nearest pyproject.toml
or AOTSYM_FLAGS say on the developer's machine (tests that need other flags use
``aotsym.config.change_flags``; tests of the flag sources build their own ``Config``), and
with one temporary build cache for the whole session, so compiled modules are shared between
tests (module-scoped fixtures build once per file) and never land in the user's cache.
"""

import pytest

from aotsym.config import config


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("aotsym-cache"))


@pytest.fixture(scope="module", autouse=True)
def module_flags(session_cache):
    """Defaults for module-scoped fixtures (they run before function-scoped ones)."""
    with config.defaults(), config.change_flags(cache_dir=session_cache):
        yield


@pytest.fixture(autouse=True)
def default_flags(session_cache):
    with config.defaults(), config.change_flags(cache_dir=session_cache):
        yield


def pytest_collection_modifyitems(config, items):
    """Tests marked ``fuzz`` (long fuzzing runs) run only when asked: ``pytest -m fuzz``."""
    import pytest
    if "fuzz" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="long fuzzing run: select it with -m fuzz")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)
