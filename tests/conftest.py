"""Every test runs with aotsym's default flags, whatever ~/.aotsymrc, the nearest
pyproject.toml or AOTSYM_FLAGS say on the developer's machine (tests that need other flags
use ``aotsym.config.change_flags``; tests of the flag sources build their own ``Config``)."""

import pytest

from aotsym.config import config


@pytest.fixture(autouse=True)
def default_flags():
    with config.defaults():
        yield
