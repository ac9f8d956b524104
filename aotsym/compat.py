"""``aotsym.compat``: Theano's ``theano.compat`` (its Python 2/3 helpers), for ported code.

Beside the pipeline: names only.  Theano programs import ``OrderedDict``, ``izip``, ``PY3``
and the like from here; on the Python 3 aotsym runs on they are the builtins and standard
library objects Theano's module gave under Python 3.
"""

import configparser  # noqa: F401
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, ValuesView  # noqa: F401
from collections.abc import MutableMapping as DictMixin  # noqa: F401
from importlib import reload  # noqa: F401
from io import BytesIO  # noqa: F401
from operator import truediv as operator_div  # noqa: F401

PY3 = True
next = next
izip, imap, ifilter = zip, map, filter


def b(s):
    """A byte string from a text literal (six.b)."""
    return s.encode("latin-1")


def exc_message(e):
    """The message of an exception re-raised with the original as its first argument."""
    msg = e.args[0]
    return exc_message(msg) if isinstance(msg, Exception) else msg


def cmp(x, y):
    """-1 if x < y, 0 if x == y, 1 if x > y (Python 2's cmp)."""
    return (x > y) - (x < y)


def get_unbound_function(unbound):
    return getattr(unbound, "__func__", unbound)


def decode(x):
    return x.decode()


def decode_iter(itr):
    for x in itr:
        yield x.decode()


def decode_with(x, encoding):
    return x.decode(encoding)


class DefaultOrderedDict(OrderedDict):
    """An OrderedDict with a default factory (Theano's)."""

    def __init__(self, default_factory=None, *a, **kw):
        if default_factory is not None and not callable(default_factory):
            raise TypeError("first argument must be callable")
        OrderedDict.__init__(self, *a, **kw)
        self.default_factory = default_factory

    def __missing__(self, key):
        if self.default_factory is None:
            raise KeyError(key)
        self[key] = value = self.default_factory()
        return value

    def __reduce__(self):
        args = () if self.default_factory is None else (self.default_factory,)
        return type(self), args, None, None, iter(list(self.items()))

    def copy(self):
        return self.__copy__()

    def __copy__(self):
        return type(self)(self.default_factory, self)


__all__ = ["PY3", "b", "BytesIO", "Callable", "next", "configparser", "reload", "cmp",
           "operator_div", "DictMixin", "Iterable", "Mapping", "OrderedDict", "ValuesView",
           "decode", "decode_iter", "decode_with", "get_unbound_function", "imap", "izip",
           "ifilter", "exc_message", "DefaultOrderedDict"]
