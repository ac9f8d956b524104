"""C emitter tests: default flags, and one temporary build cache for the whole session (the
modules built here are shared between tests through module-scoped fixtures)."""

import pytest

from aotsym.config import config


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("aotsym-cache"))


@pytest.fixture(scope="module", autouse=True)
def module_cache(session_cache):
    """Module-scoped builds (shared by the tests of a file) use the session's cache."""
    with config.defaults(), config.change_flags(cache_dir=session_cache):
        yield


@pytest.fixture(autouse=True)
def test_cache(session_cache):
    """After tests/conftest.py's default flags: keep the session's cache."""
    with config.change_flags(cache_dir=session_cache):
        yield
