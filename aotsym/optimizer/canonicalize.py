"""Canonicalization: one spelling per expression, so that later rules match one form.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Runs first (after
merge); the stabilize stage keeps these rules on so its replacements stay canonical.

Sums and products are flattened and rebuilt in one order (:mod:`.algebra`): non-constant terms
in the order they first appear (left to right), scalar constants collected into one, placed
last.  Flattening
stops at a node of another dtype, so integer overflow and float rounding of the separate
nodes' dtypes are kept; within one float dtype it reassociates (results may differ in the
last bits, as in every optimizing compiler; DEBUG_MODE compares with a tolerance).  ``x - x``
cancels only where ``x`` is provably finite (integers, finite constants), ``x / x`` only where
``x`` is a finite nonzero constant: NumPy gives nan for ``inf - inf``, ``0 / 0``, ``inf / inf``
(Theano assumed finite values).  Under ``fast_math`` (:mod:`aotsym.config`) both cancel for
any ``x``.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant, apply
from aotsym.graph.ops import math as m
from aotsym.graph.ops.elemwise import DimShuffle
from aotsym.graph.ops.reduce import Reduce
from aotsym.graph.ops.shape import Shape, Shape_i, make_vector, shape_i
from aotsym.graph.types import TensorType, dtype_kind
from aotsym.optimizer.algebra import (Product, Sum, any_value, as_dtype, product_root_ok,
                                      same_dtype_elemwise, surely_finite,
                                      surely_finite_nonzero)
from aotsym.optimizer.pattern import P, Rule, RuleSet, constant_value, rule
from aotsym.optimizer.utils import const_like, fill_like, is_elemwise, scalar_constant

x = P.var("x")


# ---------------------------------------------------------------------------- sums and products


def _may_cancel_term(ctx):
    return any_value if getattr(ctx, "fast_math", False) else surely_finite


def _may_cancel_factor(ctx):
    return any_value if getattr(ctx, "fast_math", False) else surely_finite_nonzero


@rule("canonicalize_sum", root=("add", "sub", "neg"))
def canonicalize_sum(node, ctx=None):
    """Flatten add/sub/neg, cancel ``x - x`` (``x`` provably finite, or ``fast_math``),
    collect scalar constants, drop ``+ 0``.

    before: (x + 1) - (y - 2) + -x       after: 3 - y       (x integer, or fast_math)
    before: (x + 1) - (y - 2) + -x       after: x - y - x + 3   (x a float)
    before: -(-x)                        after: x
    """
    out = node.outputs[0]
    if dtype_kind(out.dtype) == "b" or not all(i.dtype == out.dtype for i in node.inputs):
        return None
    if node.op.scalar_op.name == "neg" and not same_dtype_elemwise(
            node.inputs[0], Sum.NAMES, out.dtype):
        return None
    s = Sum(out, _may_cancel_term(ctx))
    return None if s.unchanged() else s.build()


@rule("canonicalize_product", root=("mul", "true_div", "reciprocal", "neg"))
def canonicalize_product(node, ctx=None):
    """Flatten mul/div/reciprocal/neg, cancel ``x / x`` (only under ``fast_math``: a
    variable may be 0, inf or nan), collect scalar constants, drop ``* 1``.

    before: (2 * x) * (y / x) / 4        after: x * y * 0.5 / x   (fast_math: y * 0.5)
    before: -(x * -3)                    after: x * 3
    before: 1 / (1 / x)                  after: x
    """
    if not product_root_ok(node):
        return None
    out = node.outputs[0]
    p = Product.of(out)
    if dtype_kind(out.dtype) not in "fc" and p.den:
        return None
    if as_dtype(p.coeff, out.dtype) == 0 and dtype_kind(out.dtype) in "fc":
        return None  # x * 0 is not 0 for x = inf or nan
    p.cancel(_may_cancel_factor(ctx))
    return None if p.unchanged() else p.build()


# ---------------------------------------------------------------------------- elementwise


@rule("useless_fill", root="second")
def useless_fill(node):
    """``fill(model, v) -> v`` when ``v`` already has the output's type.

    before: second(x, y)   (y of x's type)      after: y
    """
    model, v = node.inputs
    return v if v.type == node.outputs[0].type else None


@rule("useless_cast", root="cast")
def useless_cast(node):
    """A cast to the input's own dtype disappears; a cast of a widening cast goes direct.

    before: cast{float64}(cast{float32}(i8))       after: cast{float64}(i8)
    """
    (v,) = node.inputs
    out = node.outputs[0]
    if v.dtype == out.dtype:
        return v
    if is_elemwise(v, "cast"):
        inner = v.owner.inputs[0]
        if np.can_cast(inner.dtype, v.dtype, "safe"):
            return m.cast(inner, out.dtype)
    return None


@rule("useless_identity", root="identity")
def useless_identity(node):
    """``identity(x) -> x`` (a copy; outputs are copied anyway where they alias inputs)."""
    return node.inputs[0]


@rule("useless_switch", root="switch")
def useless_switch(node):
    """A switch with a constant condition or equal branches is one branch.

    before: switch(1, a, b)      after: a
    before: switch(c, a, a)      after: a
    """
    cond, a, b = node.inputs
    if a is b:
        return a
    val = constant_value(cond)
    if val is None:
        return None
    return a if val else b


@rule("add_zero", root="add")
def add_zero(node):
    """``x + 0 -> x`` where the zero is neutral: always in integers; in floats only an added
    -0.0, since -0.0 + 0.0 is +0.0 (IEEE 754): x + 0.0 is not x at x = -0.0.

    before: i + 0,  x + (-0.0),  0 + i      after: i,  x,  i
    unchanged: x + 0.0 (x float)
    """
    if len(node.inputs) != 2:
        return None
    floats = dtype_kind(node.outputs[0].dtype) in "fc"
    for x, zero in (node.inputs, node.inputs[::-1]):
        if constant_value(zero) == 0 and (not floats or _all_negative_zero(zero)):
            return x
    return None


def _all_negative_zero(v) -> bool:
    """Whether the constant ``v`` (through broadcasting DimShuffles) is -0.0 everywhere."""
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    data = getattr(v, "data", None)
    if data is None or dtype_kind(data.dtype) not in "fc":
        return False
    negative = np.signbit(data.real) & (np.signbit(data.imag) if np.iscomplexobj(data) else True)
    return bool(np.all((data == 0) & negative))


def _log_is_real(v):
    return dtype_kind(v.dtype) == "f"


NEUTRAL_RULES = [
    Rule("mul_by_one", P.mul(x, 1), lambda x: x,
         doc="x * 1 -> x   (any dtypes: the engine casts x to the product's dtype)"),
    add_zero,
    Rule("sub_zero", P.sub(x, 0), lambda x: x, doc="x - 0 -> x"),
    Rule("div_by_one", P.true_div(x, 1), lambda x: x, doc="x / 1 -> x"),
]

RULES_ELEMWISE = [
    Rule("exp_of_log", P.exp(P.log(x)),
         lambda x: m.switch(m.ge(x, 0), x, const_like(np.nan, x)) if _log_is_real(x) else None,
         doc="exp(log(x)) -> switch(x >= 0, x, nan)   (exact; log of a negative is nan)"),
    Rule("log_of_exp", P.log(P.exp(x)),
         lambda x: x if _log_is_real(x) else None,
         doc="log(exp(x)) -> x   (real x; also right where exp overflows)"),
    Rule("log1p_of_expm1", P.log1p(P.expm1(x)), lambda x: x,
         doc="log1p(expm1(x)) -> x"),
    Rule("expm1_of_log1p", P.expm1(P.log1p(x)),
         lambda x: m.switch(m.ge(x, -1), x, const_like(np.nan, x)),
         doc="expm1(log1p(x)) -> switch(x >= -1, x, nan)"),
]


@rule("fill_model_input", root="second")
def fill_model_input(node):
    """A fill's shape model is replaced by an input of it with the same shape, so the model's
    computation is not needed just for its shape.

    before: fill(w ** 2, 0.01)       after: fill(w, 0.01)
    """
    model, v = node.inputs
    start = model
    for _ in range(1000):  # bounded: a fill at the end of a long chain stays cheap
        if not is_elemwise(model):
            break
        for inp in model.owner.inputs:
            if inp.broadcastable == model.broadcastable:
                model = inp
                break
        else:
            break
    return None if model is start else m.second(model, v)


@rule("pow_neutral", root="pow")
def pow_neutral(node):
    """``x ** 1 -> x``, ``x ** 0 -> 1`` (shape kept).

    before: pow(w, 1)        after: w
    """
    base, e = node.inputs
    val = scalar_constant(e)
    if val is None or isinstance(val, complex):
        return None
    if val == 1:
        return base
    if val == 0:
        return fill_like(base, 1)
    return None


# ---------------------------------------------------------------------------- shapes


@rule("shape_of_computed", root=Shape_i)
def shape_of_computed(node):
    """The length of a computed value's dimension, from its inputs' shapes (the op's shape
    rule), so the value need not be computed to know it.

    before: Shape_i{0}(exp(x))       after: Shape_i{0}(x)
    """
    (v,) = node.inputs
    owner = v.owner
    if owner is None:
        return None
    in_shapes = [tuple(shape_i(i, d) for d in range(i.ndim)) for i in owner.inputs]
    try:
        shapes = owner.op.infer_shape(owner, in_shapes)
    except NotImplementedError:
        return None
    if shapes is None:
        return None
    length = shapes[v.index][node.op.i]
    if length is None:   # (a length the op's rule does not know)
        return None
    if isinstance(length, (int, np.integer)):
        return Constant(TensorType("int64", ()), np.asarray(length, dtype="int64"))
    if length.dtype != "int64" or length.ndim != 0:
        return None
    return length


@rule("shape_to_shape_i", root=Shape)
def shape_to_shape_i(node, ctx=None):
    """The shape vector of a computed value from its inputs' shapes (the op's shape rule), so
    the value need not be computed to know it (Theano's local_shape_to_shape_i):
    ``function([x], (x ** 2).shape)`` computes no square, ``scan(...)[0].shape`` runs no loop.
    A value whose shape is one input's has that input's shape; otherwise its lengths, as a
    vector of Shape_i (which shape_of_computed then lifts) -- for the C backend only: the
    vector is a Join, which the CUDA renderer does not translate.

    before: Shape(exp(x))             after: Shape(x)
    before: Shape(scan(x, h0).0)      after: MakeVector(Shape_i{0}(scan.0), Shape_i{1}(scan.0))
                                             (-> MakeVector(n + 1, Shape_i{0}(h0)))
    """
    (v,) = node.inputs
    owner = v.owner
    if owner is None or v.ndim == 0:
        return None
    in_shapes = [tuple(shape_i(i, d) for d in range(i.ndim)) for i in owner.inputs]
    try:
        shapes = owner.op.infer_shape(owner, in_shapes)
    except NotImplementedError:
        shapes = None
    if shapes is not None:
        same = _shape_of_one_input(shapes[v.index], owner.inputs, v)
        if same is not None:
            out = Shape()(same)
            return out if out.type == node.outputs[0].type else None
    if getattr(ctx, "target", "c") != "c":
        return None
    out = make_vector([shape_i(v, d) for d in range(v.ndim)])
    return out if out.type == node.outputs[0].type else None


def _shape_of_one_input(lengths, inputs, v):
    """The input whose whole shape ``lengths`` (an op's shape rule) is, or None."""
    for inp in inputs:
        if inp.ndim == v.ndim and inp.broadcastable == v.broadcastable and all(
                _is_length_of(n, inp, d) for d, n in enumerate(lengths)):
            return inp
    return None


# ---------------------------------------------------------------------------- dimshuffle


def _compose(inner: DimShuffle, outer: DimShuffle):
    order = []
    for d in outer.new_order:
        order.append("x" if d == "x" else inner.new_order[d])
    return order


@rule("merge_dimshuffles", root=DimShuffle)
def merge_dimshuffles(node):
    """Two DimShuffles in a row are one (a double transpose is none).

    before: DimShuffle{1,0}(DimShuffle{1,0}(x))     after: x
    before: DimShuffle{x,0}(DimShuffle{1}(row))     after: DimShuffle{x,1}(row)
    """
    (v,) = node.inputs
    op = node.op
    if _is_identity(list(op.new_order), v):
        return v
    if v.owner is None or not isinstance(v.owner.op, DimShuffle):
        return None
    src = v.owner.inputs[0]
    order = _compose(v.owner.op, op)
    if _is_identity(order, src):
        return src
    return DimShuffle(src.broadcastable, order)(src)


def _is_identity(order, src) -> bool:
    """The shuffle leaves every non-broadcastable dimension where it is, and the ndim: only
    length-1 dimensions move, so the values are ``src``'s."""
    return len(order) == src.ndim and all(
        order[i] == i for i in range(src.ndim) if not src.broadcastable[i]) and all(
        src.broadcastable[i] for i, d in enumerate(order) if d != i)


@rule("lift_dimshuffle", root=DimShuffle)
def lift_dimshuffle(node, ctx=None):
    """A DimShuffle of an elementwise op moves to the op's inputs (views are free, and the
    op then meets the other ops of its expression), when nothing else reads the op's
    result or its inputs are constants and DimShuffles (nothing is computed twice).

    before: DimShuffle{0,x}(true_div(a, b))     after: true_div(DimShuffle{0,x}(a),
                                                                 DimShuffle{0,x}(b))
    """
    (v,) = node.inputs
    if not is_elemwise(v) or len(v.owner.outputs) != 1:
        return None
    ins = v.owner.inputs
    if not all(isinstance(i, Constant) or (i.owner is not None and
                                           isinstance(i.owner.op, DimShuffle)) for i in ins) \
            and (ctx is None or ctx.n_readers(v) > 1):
        return None
    order = node.op.new_order
    new_ins = [DimShuffle(i.broadcastable, order)(i) for i in ins]
    return apply(v.owner.op, new_ins).outputs[0]


# ---------------------------------------------------------------------------- reductions


@rule("useless_reduce", root=Reduce)
def useless_reduce(node):
    """A sum/prod/max/min over only broadcastable (length-1) dimensions is a DimShuffle.

    before: sum(row, axis=0)      after: DimShuffle{1}(row)
    """
    (v,) = node.inputs
    op = node.op
    out = node.outputs[0]
    if op.kind not in ("sum", "prod", "max", "min"):
        return None
    if not all(v.broadcastable[a] for a in op.axis) or out.dtype != v.dtype:
        return None
    order = [d for d in range(v.ndim) if d not in op.axis]
    return DimShuffle(v.broadcastable, order)(v)


# ---------------------------------------------------------------------------- shapes of data


def _is_length_of(entry, v, d) -> bool:
    """Whether ``entry`` (an int64 scalar, or an int or None -- unknown -- from a shape
    rule) is the length of ``v``'s dimension ``d``."""
    from aotsym.graph.ops.shape import constant_value as int_value
    if entry is None:
        return False
    if isinstance(entry, (int, np.integer)):
        return v.broadcastable[d] and entry == 1
    if v.broadcastable[d]:
        return int_value(entry) == 1
    node = entry.owner
    return node is not None and isinstance(node.op, Shape_i) and node.op.i == d and \
        node.inputs[0] is v


@rule("merge_reshapes", root="Reshape")
def merge_reshapes(node):
    """A reshape of a reshape is one reshape; a reshape to the input's own shape is nothing.

    before: reshape(reshape(x, (6,)), (2, 3))        after: reshape(x, (2, 3))
    before: reshape(x, x.shape)                      after: x
    """
    from aotsym.graph.ops.shape import vector_entries
    x, shp = node.inputs
    out = node.outputs[0]
    entries = vector_entries(shp)
    if entries is not None and len(entries) == x.ndim and out.type == x.type and all(
            _is_length_of(e, x, d) for d, e in enumerate(entries)):
        return x
    if x.owner is not None and type(x.owner.op) is type(node.op):
        return apply(node.op, [x.owner.inputs[0], shp]).outputs[0]
    return None


@rule("useless_alloc", root="Alloc")
def useless_alloc(node):
    """An alloc of a value to the value's own shape is the value.

    before: alloc(x, x.shape[0], x.shape[1])        after: x
    """
    v, dims = node.inputs[0], node.inputs[1:]
    out = node.outputs[0]
    if v.type != out.type or len(dims) != v.ndim:
        return None
    if all(_is_length_of(e, v, d) for d, e in enumerate(dims)):
        return v
    return None


def _plain_slice(e):
    """``(start, stop)`` of a constant step-1 slice with non-negative bounds, else None."""
    if not isinstance(e, tuple):
        return None
    start, stop, step = e
    if step not in (None, 1) or "?" in (start, stop):
        return None
    if (start is not None and start < 0) or (stop is not None and stop < 0):
        return None
    return (start or 0, stop)


@rule("merge_subtensors", root="Subtensor")
def merge_subtensors(node):
    """Indexing the result of indexing is one indexing (constant, step-1, non-negative
    slices and indices; anything else is left as it is).

    before: x[2:][1:5]       after: x[3:7]
    before: x[1:, :][0]      after: x[1]
    """
    x = node.inputs[0]
    inner = x.owner
    if inner is None or type(inner.op) is not type(node.op) or len(node.inputs) > 1 or \
            len(inner.inputs) > 1:
        return None
    src = inner.inputs[0]
    in_list = list(inner.op.idx_list) + [(None, None, None)] * (src.ndim - len(
        inner.op.idx_list))
    kept = [d for d, e in enumerate(in_list) if isinstance(e, tuple)]  # inner output dims
    merged = list(in_list)
    for k, e in enumerate(node.op.idx_list):
        d = kept[k]
        a = _plain_slice(in_list[d])
        if a is None:
            return None
        start, stop = a
        if isinstance(e, tuple):
            b = _plain_slice(e)
            if b is None:
                return None
            c, dd = b
            new_stop = stop if dd is None else (start + dd if stop is None
                                                else min(stop, start + dd))
            merged[d] = (start + c or None, new_stop, None)
        elif isinstance(e, int) and e >= 0 and stop is None:
            merged[d] = start + e
        else:
            return None
    while merged and merged[-1] == (None, None, None):
        merged.pop()
    if not merged:
        return src
    return apply(type(node.op)(tuple(merged)), [src]).outputs[0]


@rule("factor_out_of_sum", root=Reduce)
def factor_out_of_sum(node):
    """Factors that do not vary along the summed axes move out of the sum.

    before: sum(y / expand(s), axis=1)      after: sum(y, axis=1) / s
    before: sum(c * x, axis=0)   (c a broadcast scalar)   after: sum(x, axis=0) * c
    """
    op = node.op
    (v,) = node.inputs
    out = node.outputs[0]
    if op.kind != "sum" or not same_dtype_elemwise(v, ("mul", "true_div"), out.dtype) or \
            dtype_kind(out.dtype) not in "fc":
        return None
    p = Product.of(v)
    def constant_along(f):
        return all(f.broadcastable[a] for a in op.axis)
    outer_num = [f for f in p.num if constant_along(f)]
    outer_den = [f for f in p.den if constant_along(f)]
    if not outer_num and not outer_den or p.models:
        return None
    inner = Product(v, coeff=p.coeff, num=[f for f in p.num if not constant_along(f)],
                    den=[f for f in p.den if not constant_along(f)])
    order = [d for d in range(v.ndim) if d not in op.axis]
    def reduced(f):
        return DimShuffle(f.broadcastable, order)(f)
    summed = Reduce("sum", op.axis, op.dtype)(inner.build(like=v))
    return Product(out, num=[summed] + [reduced(f) for f in outer_num],
                   den=[reduced(f) for f in outer_den]).build()


CANONICALIZE_RULES = RuleSet("canonicalize", [
    canonicalize_sum,
    canonicalize_product,
    *NEUTRAL_RULES,
    useless_fill,
    fill_model_input,
    pow_neutral,
    shape_to_shape_i,
    shape_of_computed,
    useless_cast,
    useless_identity,
    useless_switch,
    *RULES_ELEMWISE,
    merge_dimshuffles,
    lift_dimshuffle,
    useless_reduce,
    factor_out_of_sum,
    merge_reshapes,
    useless_alloc,
    merge_subtensors,
])

# The subset that only removes work; later stages keep it on so their output stays tidy.
SIMPLIFY_RULES = RuleSet("simplify", [*NEUTRAL_RULES, useless_fill, useless_cast, useless_identity,
                                      useless_switch, merge_dimshuffles])
