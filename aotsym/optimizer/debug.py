"""DEBUG_MODE: every rewrite checked as it fires, against the reference evaluator.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  A
:class:`RewriteChecker` holds test values for the graph's inputs (``tag.test_value`` where the
user gave one, else random values of the declared types: every non-broadcastable length 3,
so any product or elementwise combination of the inputs lines up) and the value of every
variable computed so far.  It is called

* by the rewrite engine on every fire (``checker(rule, node, replacement)``): the node and
  its replacement are evaluated on the test values (only the new nodes are computed) and must
  agree; the first rule that changes a result raises :class:`RewriteCheckError` naming the
  rule, showing both subgraphs and the user's source line;
* after every global pass (``check_pass``): the graph's outputs before and after agree;
* on the final graph (``check_final``): run node by node on copies of the test values, it
  checks that an op declared non-destructive left its inputs alone, that an output sharing
  memory with an input is declared a view (``view_map``) or a destroyer (``destroy_map``) of
  it, and that the results (after every in-place write) still equal the original graph's.

"Agree": same dtype and shape; equal for exact dtypes; for floats nan in the same places,
the same infinities in the same places, and close elsewhere (relative 1e-4 for float32, 1e-7
for float64, absolute tolerance scaled by the magnitude of the values): a rewrite that turns
nan into 0 (``x - x -> 0``) is caught.  Only the stabilizing rules (the ``stabilize`` stage's
own rules, and the ifelse stage's ``drop_untaken_gradient_terms``), a global pass in which that
rule fired, and the final comparison, which spans them, may turn a non-finite value into
any value: making such places finite is what stabilization is for.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant
from aotsym.graph.types import dtype_kind
from aotsym.optimizer.utils import format_graph


class RewriteCheckError(AssertionError):
    """A rewrite changed a result (DEBUG_MODE)."""


TEST_LENGTH = 3


def random_value(ttype, rng) -> np.ndarray:
    """A random array of ``ttype`` (length 1 where broadcastable, ``TEST_LENGTH`` else)."""
    shape = tuple(1 if b else TEST_LENGTH for b in ttype.broadcastable)
    kind = dtype_kind(ttype.dtype)
    if kind == "b":
        return rng.random(shape) < 0.5
    if kind in "iu":
        return rng.integers(0, 5, size=shape).astype(ttype.dtype)
    if kind == "c":
        return (rng.uniform(0.1, 2, shape) + 1j * rng.uniform(-1, 1, shape)).astype(ttype.dtype)
    # Mostly positive (so log, sqrt and pow are defined), some negative.
    return rng.uniform(-0.5, 2.0, shape).astype(ttype.dtype)


def values_agree(before, after, stabilizing=False) -> tuple[bool, str]:
    """(ok, why not) — the comparison of the module docstring; ``stabilizing``: non-finite
    values before may become anything."""
    before, after = np.asarray(before), np.asarray(after)
    if before.dtype != after.dtype:
        return False, f"dtype {before.dtype} became {after.dtype}"
    if before.shape != after.shape:
        return False, f"shape {before.shape} became {after.shape}"
    kind = before.dtype.kind
    if kind not in "fc":
        if np.array_equal(before, after):
            return True, ""
        return False, f"values differ: {before!r} vs {after!r}"
    finite = np.isfinite(before)
    if not stabilizing:
        nan_b, nan_a = np.isnan(before), np.isnan(after)
        if not np.array_equal(nan_b, nan_a):
            k = int(np.argmax(nan_b != nan_a))
            return False, (f"nan in other places: {before.ravel()[k]!r} became "
                           f"{after.ravel()[k]!r} (flat index {k})")
        inf_b = np.isinf(before)
        if not np.array_equal(before[inf_b], after[inf_b]) or \
                np.isinf(after[finite]).any():
            return False, "infinities in other places"
    if not finite.any():
        return True, ""
    b, a = before[finite], after[finite]
    rtol = 1e-4 if before.dtype in (np.float32, np.complex64) else 1e-7
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    close = np.isclose(a, b, rtol=rtol, atol=rtol * max(scale, 1e-30) + 1e-300)
    if close.all():
        return True, ""
    k = int(np.argmin(close))
    return False, (f"values differ where the original was finite: {b[k]!r} became {a[k]!r} "
                   f"(max abs difference {np.max(np.abs(a - b))!r})")


class RewriteChecker:
    """See the module docstring.  ``seed`` fixes the random test values."""

    def __init__(self, fgraph, seed=0):
        self.rng = np.random.default_rng(seed)
        self.fgraph = fgraph
        self.values: dict = {}
        self.enabled = True
        self.relaxed = False
        for v in fgraph.inputs:
            tv = getattr(v.tag, "test_value", None)
            val = np.asarray(tv, dtype=v.dtype) if tv is not None else \
                random_value(v.type, self.rng)
            self.values[v] = _frozen(val)
        try:
            self.original = self.value(list(fgraph.outputs))
        except Exception as exc:  # noqa: BLE001
            self.enabled = False
            self.disabled_because = (f"DEBUG_MODE: the graph cannot run on random test values "
                                     f"({exc}); give inputs a tag.test_value to check it")
            import warnings
            warnings.warn(self.disabled_because, stacklevel=3)

    # ------------------------------------------------------------------ evaluation
    def value(self, variables) -> list:
        """Values of ``variables``, computing only what is not known yet (iteratively)."""
        values = self.values
        stack = [v for v in variables]
        while stack:
            v = stack[-1]
            if v in values:
                stack.pop()
                continue
            if isinstance(v, Constant):
                values[v] = v.data
                stack.pop()
                continue
            node = v.owner
            if node is None:
                raise ValueError(f"no test value for the input {v!r}")
            missing = [i for i in node.inputs if i not in values]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            # known values are frozen (a rewrite must not change them): an op that writes
            # over an input (destroy_map) gets its own copy of it
            destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
            args = [np.array(values[x], copy=True) if i in destroyed else values[x]
                    for i, x in enumerate(node.inputs)]
            results = node.op.perform(node, args)
            for o, r in zip(node.outputs, results):
                values[o] = _frozen(np.asarray(r))
        return [values[v] for v in variables]

    # ------------------------------------------------------------------ checks
    def __call__(self, rule, node, replacement):
        if not self.enabled:
            return
        before = self.value(list(node.outputs))
        try:
            after = self.value(list(replacement))
        except Exception as exc:  # noqa: BLE001
            self._fail(rule.name, node.outputs, replacement, f"the replacement fails: {exc}")
        stabilizing = rule.name in _stabilizing_rules()
        if rule.name in _LAZY_RULES:
            self.relaxed = True   # the global stage around it: checked like it
        for k, (b, a) in enumerate(zip(before, after)):
            ok, why = values_agree(b, a, stabilizing)
            if not ok:
                self._fail(rule.name, node.outputs, replacement, why)

    def check_pass(self, name, before_fg, after_fg):
        if not self.enabled:
            return
        after = _run_with_copies(self, after_fg, check_honesty=False)
        relaxed, self.relaxed = self.relaxed, False
        for k, (b, a) in enumerate(zip(self.value(list(before_fg.outputs)), after)):
            ok, why = values_agree(b, a, stabilizing=relaxed)
            if not ok:
                self._fail(name, [before_fg.outputs[k]], [after_fg.outputs[k]],
                           f"output {k}: {why}")

    def check_final(self, fgraph):
        """Destroy/view honesty and final values (see the module docstring)."""
        if not self.enabled:
            return
        results = _run_with_copies(self, fgraph, check_honesty=True)
        for k, (b, a) in enumerate(zip(self.original, results)):
            ok, why = values_agree(b, a, stabilizing=True)
            if not ok:
                self._fail("the optimized graph (in-place writes included)",
                           [self.fgraph.outputs[k]], [fgraph.outputs[k]], f"output {k}: {why}")

    def _fail(self, name, before, after, why):
        trace = next((v.tag.trace for v in before if v.tag.trace is not None), None)
        where = f"\n  the node was created at {trace}" if trace else ""
        raise RewriteCheckError(
            f"DEBUG_MODE: rewrite {name!r} changed a result: {why}{where}\n"
            f"  before:\n{_indent(format_graph(before))}\n"
            f"  after:\n{_indent(format_graph(after))}")


def _stabilizing_rules() -> set:
    """The stabilize stage's rules, and ``drop_untaken_gradient_terms`` (the ifelse stage):
    it drops a branch's gradient terms when the branch is not taken, which were 0 unless
    the untaken work was NaN or infinite (:mod:`.ifelse`)."""
    from aotsym.optimizer.stabilize import STABILIZE_RULES
    return {r.name for r in STABILIZE_RULES.rules} | _LAZY_RULES


_LAZY_RULES = {"drop_untaken_gradient_terms"}


def _run_with_copies(checker, fgraph, check_honesty):
    """Run ``fgraph`` on writable copies of the test values, as a compiled module would."""
    values: dict = {v: np.array(checker.values[v]) for v in fgraph.inputs}
    for node in fgraph.toposort():
        args = [v.data if isinstance(v, Constant) else values[v] for v in node.inputs]
        snapshot = [np.array(a) for a in args] if check_honesty else None
        results = node.op.perform(node, args)
        if check_honesty:
            _check_honest(checker, node, args, snapshot, results)
        for o, r in zip(node.outputs, results):
            values[o] = np.asarray(r)
    return [v.data if isinstance(v, Constant) else values[v] for v in fgraph.outputs]


def _check_honest(checker, node, args, snapshot, results):
    destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
    viewed = {(o, i) for o, ins in node.op.view_map.items() for i in ins}
    viewed |= {(o, i) for o, ins in node.op.destroy_map.items() for i in ins}
    for i, (a, s) in enumerate(zip(args, snapshot)):
        if i not in destroyed and not np.array_equal(a, s, equal_nan=a.dtype.kind in "fc"):
            checker._fail(f"{node.op} (declared non-destructive)", node.outputs, node.outputs,
                          f"it modified its input {i}")
    for o, r in enumerate(results):
        for i, a in enumerate(args):
            if isinstance(a, np.ndarray) and a.size and np.may_share_memory(r, a) and \
                    (o, i) not in viewed:
                checker._fail(f"{node.op} (no view declared)", node.outputs, node.outputs,
                              f"output {o} shares memory with input {i} but view_map / "
                              "destroy_map do not say so")


def _frozen(arr):
    arr = np.asarray(arr)
    if arr.flags.writeable:
        arr = arr.copy() if arr.base is not None else arr
        arr.setflags(write=False)
    return arr


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())
