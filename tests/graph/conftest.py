"""Graph tests run with the default flags (floatX=float64), whatever ~/.aotsymrc or
AOTSYM_FLAGS say."""

import pytest

from aotsym.config import FLAGS, config


@pytest.fixture(autouse=True)
def default_flags():
    with config.change_flags(**{name: spec[0] for name, spec in FLAGS.items()}):
        yield
