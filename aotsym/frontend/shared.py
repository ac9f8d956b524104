"""``aotsym.shared``: variables whose value lives beside the graph and persists across calls.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  A SharedVariable is an
input variable of the graph; compiled functions read its current value and write ``updates``
back.  Values are copied on the way in (``shared(v)``, ``set_value``) and out (``get_value``)
unless ``borrow=True``, so a caller never aliases the stored array.  Each variable has a
lock that compiled functions hold while they read and update it (:class:`StateLock`).
"""

from __future__ import annotations

import itertools
import threading

import numpy as np

from aotsym.graph.basic import Variable, user_source_info
from aotsym.graph.types import TensorType, floatx


_SERIAL = itertools.count()   # the order functions take several variables' locks in


class SharedVariable(Variable):
    """A graph input whose value is stored here.  ``_lock`` (re-entrant) is held by every
    compiled function that reads or updates the variable, from reading its value to storing
    the updates (:class:`StateLock`), and by ``get_value``/``set_value``: concurrent calls
    are serialized per variable and lose no update.

    Any other attribute may be set and read back (``counter.update = counter + 1``, as on
    Theano's shared variables); such attributes pickle with the variable."""
    # (a __dict__ of its own unless Variable already gives every variable one, as Theano's)
    __slots__ = ("_value", "strict", "allow_downcast", "_lock", "_serial",
                 "default_update") + (() if "__dict__" in Variable.__dict__ else ("__dict__",))

    def __init__(self, value, name=None, strict=False, allow_downcast=None, broadcastable=None):
        value = _as_value(value)
        if broadcastable is None:
            broadcastable = (False,) * value.ndim
        super().__init__(TensorType(value.dtype, broadcastable), name=name,
                         trace=user_source_info())
        self.strict = strict
        self.allow_downcast = allow_downcast
        self._lock = threading.RLock()
        self._serial = next(_SERIAL)
        # Theano's default_update: the new value a function applies after each call when
        # it is given no update of this variable (a random stream's state advance)
        self.default_update = None
        self._value = self._filter(value, copy=True)

    def _filter(self, value, copy):
        from aotsym.graph.checking import filter_value
        return filter_value(value, self.type, strict=self.strict,
                            allow_downcast=self.allow_downcast,
                            what=f"shared variable {self.name or '<unnamed>'}", copy=copy,
                            downcast_hint="create the shared variable with "
                                          "allow_downcast=True")

    def filter_update(self, value, copy):
        """``value`` checked as this variable's next value, without storing it (so a
        function can check all its updates before applying any)."""
        return self._filter(value, copy=copy)

    def get_value(self, borrow=False, return_internal_type=False):
        """The value: a copy the caller owns (a later call never changes it).  With
        ``borrow=True``, the variable's own array: a function whose update writes it in place
        (``Gemv{inplace}`` on this variable) changes that array, so it sees the new value."""
        if borrow:
            return self._value
        with self._lock:  # not while a call writes it in place
            return self._value.copy()

    def set_value(self, value, borrow=False):
        """Store ``value`` (a copy; with ``borrow=True`` the array itself when it has the
        right type — an in-place update may then write into it, unless it is read-only)."""
        value = self._filter(value, copy=not borrow)
        with self._lock:
            self._value = value

    @property
    def value(self):
        return self.get_value()

    def clone(self, name=None):
        return Variable(self.type, name=self.name if name is None else name)

    def __repr__(self):
        return self.name or f"<shared {self.type}>"

    def __reduce__(self):
        """Pickled with its value (``copy.deepcopy``: a variable with its own copy of the
        value); locks and the like are made afresh on load (:func:`_unpickle_shared`).
        Slots a subclass adds travel with it."""
        extra = {}
        for klass in type(self).__mro__:
            if klass is SharedVariable:
                break
            for slot in getattr(klass, "__slots__", ()):
                if slot not in ("__weakref__", "__dict__") and hasattr(self, slot):
                    extra[slot] = getattr(self, slot)
        # default_update and user attributes (graphs that may read this very variable)
        # travel as state: pickle memoizes the variable before it pickles the state, so the
        # cycle closes
        return (_unpickle_shared, (type(self), self._value, self.name, self.strict,
                                   self.allow_downcast, self.broadcastable, self.tag, extra),
                self._state())

    def _state(self):
        return {"default_update": self.default_update, **self.__dict__}

    def __setstate__(self, state):
        for slot, item in state.items():
            setattr(self, slot, item)


class SharedClone(SharedVariable):
    """Another shared variable over the storage of ``base``: what Theano's
    ``theano.clone(expr, share_inputs=False)`` makes of a shared variable (Theano: "cloned
    shared variables still use the same underlying storage").  It reads and writes
    ``base``'s value (under ``base``'s lock) but is its own graph input with its own
    ``default_update``.  Lasagne's BatchNormLayer relies on it: it clones its running mean,
    sets the clone's ``default_update``, and only the training function, whose graph holds
    the clone, updates the statistics; a prediction function reading the mean itself does
    not."""
    __slots__ = ("base",)

    def __init__(self, base, name=None):
        base = base.base if isinstance(base, SharedClone) else base
        Variable.__init__(self, base.type, name=base.name if name is None else name,
                          trace=user_source_info())
        self.base = base
        self.strict, self.allow_downcast = base.strict, base.allow_downcast
        self._lock, self._serial = base._lock, base._serial
        self.default_update = None

    @property
    def _value(self):
        return self.base._value

    @_value.setter
    def _value(self, value):
        self.base._value = value

    def __reduce__(self):
        return (SharedClone, (self.base, self.name), self._state())


def _unpickle_shared(cls, value, name, strict, allow_downcast, broadcastable, tag, extra):
    var = cls.__new__(cls)
    SharedVariable.__init__(var, value, name=name, strict=strict,
                            allow_downcast=allow_downcast, broadcastable=broadcastable)
    var.tag = tag
    for slot, item in extra.items():
        setattr(var, slot, item)
    return var


class StateLock:
    """The locks of a function's shared variables, taken in one global order (so two
    functions sharing several variables cannot deadlock) and released in reverse."""

    def __init__(self, variables):
        unique = {id(v): v for v in variables if getattr(v, "_lock", None) is not None}
        self.locks = [v._lock for v in sorted(unique.values(), key=lambda v: v._serial)]

    def __enter__(self):
        for k, lock in enumerate(self.locks):
            try:
                lock.acquire()
            except BaseException:
                for taken in reversed(self.locks[:k]):
                    taken.release()
                raise
        return self

    def __exit__(self, *exc):
        for lock in reversed(self.locks):
            lock.release()


def _as_value(value):
    if isinstance(value, Variable):
        raise TypeError("aotsym.shared needs a concrete value (a number or an array), "
                        f"got the symbolic variable {value!r}")
    arr = np.asarray(value)
    if arr.dtype == object:
        raise TypeError(f"aotsym.shared: cannot store {type(value).__name__} {value!r}")
    if isinstance(value, float):  # Python floats follow floatX, as Theano's shared(0.) does
        arr = arr.astype(floatx())
    if isinstance(value, bool):
        arr = arr.astype("bool")
    elif isinstance(value, int):
        arr = arr.astype("int64")
    return arr


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False,
           broadcastable=None):
    """A shared variable holding a copy of ``value`` (no copy with ``borrow=True``)."""
    var = SharedVariable(value, name=name, strict=strict, allow_downcast=allow_downcast,
                         broadcastable=broadcastable)
    if borrow and isinstance(value, np.ndarray) and var._value.dtype == value.dtype:
        var._value = value
    return var
