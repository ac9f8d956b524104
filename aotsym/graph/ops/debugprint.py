"""``Print``: an identity that prints its value each time the function runs (Theano's
``theano.printing.Print``, exported as :class:`aotsym.printing.Print`).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``Print(message,
attrs=("__str__",))(x)`` is ``x``; running it prints, for each attribute name in ``attrs``,
``message attr = value`` where ``value`` is ``getattr(array, attr)`` (called when callable),
through Python's ``print`` (so ``sys.stdout`` redirections see it), as Theano's op did.

It is an op, not an annotation: no rewrite knows it, so the optimizer neither removes it
nor folds it (``no_constant_folding``) nor looks through it; its output is a copy of the
input.  The reference evaluator prints from :meth:`Print.perform`; the C backend prints from
the compiled step (``aotsym/emit_c/debugprint.py``: the step takes the GIL to call Python).
Two ``Print`` s with the same message and attributes applied to one variable are one node,
as any equal nodes are.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.op import Op


class Print(Op):
    """``Print(message="", attrs=("__str__",))(x)``: see the module docstring."""

    __props__ = ("message", "attrs")
    no_constant_folding = True

    def __init__(self, message="", attrs=("__str__",), global_fn=None):
        if isinstance(attrs, str):
            attrs = (attrs,)
        self.message = str(message)
        self.attrs = tuple(str(a) for a in attrs)
        if global_fn is not None:
            raise NotImplementedError("Print(global_fn=...): a Python callback cannot run in "
                                      "a compiled module; use attrs")

    def __str__(self):
        return f"Print{{{self.message}}}"

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        (x,) = inputs
        print_value(self.message, self.attrs, np.asarray(x))
        return [np.array(x, copy=True)]

    def grad(self, node, inputs, output_grads):
        return [output_grads[0]]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def print_value(message, attrs, value):
    """What Theano's ``Print`` prints for ``value`` (one line per attribute)."""
    for attr in attrs:
        got = getattr(value, attr)
        print(message, attr, "=", got() if callable(got) else got)
