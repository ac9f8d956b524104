"""C emitter tests: default flags, and one temporary build cache for the whole session (the
modules built here are shared between tests through module-scoped fixtures)."""

import pytest

from aotsym.config import FLAGS, config


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("aotsym-cache"))
    defaults = {name: spec[0] for name, spec in FLAGS.items()}
    defaults["cache_dir"] = path
    with config.change_flags(**defaults):
        yield path
