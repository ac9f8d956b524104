"""``aotsym.updates``: Theano's ``theano.updates.OrderedUpdates``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters): a dict of
``{shared variable: new value}`` that keeps insertion order, refuses keys that are not
shared variables, and adds (``u1 + u2``) by merging, where the same variable updated to two
different expressions is a KeyError.  ``aotsym.function(..., updates=u)`` takes it as any
dict.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

from aotsym.frontend.shared import SharedVariable

__all__ = ["OrderedUpdates"]


def _warn_unordered(arg):
    if isinstance(arg, dict) and len(arg) > 1 and not isinstance(arg, OrderedDict):
        warnings.warn("Updating an `OrderedUpdates` with a non-ordered dictionary with 2+ "
                      "elements could make your code non-deterministic", stacklevel=3)


class OrderedUpdates(OrderedDict):
    """Theano's ``OrderedUpdates``: an ``OrderedDict`` whose keys are shared variables."""

    def __init__(self, *args, **kwargs):
        if args:
            _warn_unordered(args[0])
        super().__init__(*args, **kwargs)
        for key in self:
            if not isinstance(key, SharedVariable):
                raise TypeError("OrderedUpdates keys must inherit from SharedVariable", key)

    def __setitem__(self, key, value):
        if not isinstance(key, SharedVariable):
            raise TypeError("OrderedUpdates keys must inherit from SharedVariable", key)
        super().__setitem__(key, value)

    def update(self, other=None):
        """Add ``other``'s updates; a variable already here with another new value is a
        KeyError ('Collision')."""
        if other is None:
            return
        _warn_unordered(other)
        for key, val in OrderedDict(other).items():
            if key in self:
                if self[key] is val:
                    continue
                raise KeyError("Collision", key)
            self[key] = val

    def __add__(self, other):
        rval = OrderedUpdates()
        rval.update(self)
        rval.update(other)
        return rval

    def __radd__(self, other):
        rval = OrderedUpdates()
        rval.update(other)
        rval.update(self)
        return rval
