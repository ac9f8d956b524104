"""``aotsym.scan_module.scan_utils``: Theano's ``theano.scan_module.scan_utils`` names that
code outside scan imports, for ported code.

Beside the pipeline: graph comparison over the IR.  ``equal_computations`` is how Theano code
(Lasagne's tests among it) asks whether two expressions compute the same thing.  Nodes are
interned, so equal structure over the same variables is usually one object; the walk below
also answers for graphs over different inputs paired by ``in_xs``/``in_ys`` and for
constants that hold equal values.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant


def _same_constant(x, y) -> bool:
    return (isinstance(x, Constant) and isinstance(y, Constant) and x.type == y.type
            and x.data.shape == y.data.shape
            and bool(np.all((x.data == y.data) | ((x.data != x.data) & (y.data != y.data)))))


def equal_computations(xs, ys, in_xs=None, in_ys=None) -> bool:
    """Whether each of ``xs`` computes what the ``ys`` at its position computes (Theano's
    signature): the same ops applied in the same way, reaching the same inputs, or the
    inputs paired by ``in_xs`` / ``in_ys``, or constants of equal type and value."""
    xs, ys = list(xs), list(ys)
    in_xs, in_ys = list(in_xs or []), list(in_ys or [])
    if len(xs) != len(ys) or len(in_xs) != len(in_ys):
        return False
    paired = {id(x): y for x, y in zip(in_xs, in_ys)}
    checked = set()
    stack = list(zip(xs, ys))
    while stack:
        x, y = stack.pop()
        if (id(x), id(y)) in checked:
            continue
        checked.add((id(x), id(y)))
        if id(x) in paired:
            if paired[id(x)] is not y:
                return False
            continue
        if x is y:
            continue
        if x.type != y.type:
            return False
        if x.owner is None or y.owner is None:
            if not _same_constant(x, y):
                return False
            continue
        nx, ny = x.owner, y.owner
        if (x.index != y.index or nx.op != ny.op or len(nx.inputs) != len(ny.inputs)):
            return False
        stack.extend(zip(nx.inputs, ny.inputs))
    return True
