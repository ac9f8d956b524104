"""``aotsym.configparser``: Theano's ``theano.configparser`` — ``change_flags``.

Beside the pipeline: the flags themselves are :mod:`aotsym.config`'s; ``change_flags`` here
is :meth:`aotsym.config.Config.change_flags` with Theano's signature (a dict as well as
keywords), also ``theano.change_flags`` at the top level.
"""

from __future__ import annotations

from aotsym.config import config

__all__ = ["change_flags"]


def change_flags(args=(), **kwargs):
    """Theano's ``change_flags``: set ``aotsym.config`` flags for a ``with`` block or for
    every call of a decorated function, and restore them afterwards, also when it raises::

        with aotsym.change_flags(floatX="float32"): ...
        @aotsym.change_flags({"mode": "FAST_COMPILE"})
        def f(): ...
    """
    flags = dict(args)
    flags.update(kwargs)
    return config.change_flags(**flags)
