"""The rewrite engine: local rules to a fixed point, global passes, stages and their stats.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Nodes are immutable
and hash-consed, so a rewrite is a memoized bottom-up rebuild:

* every node is visited after its inputs; it is rebuilt on the rewritten inputs (interning
  makes an unchanged node the same object, and merges common subexpressions for free), then
  the rules that can match it are tried in order.  When one fires, its replacement's new
  nodes are rewritten the same way (their inputs first) before the replacement is accepted;
  so every node of the result is at a fixed point of the rule set, and only what changed is
  revisited.  Rules look at a node and its producers, not at what the rewritten graph
  does with it, which is what makes one bottom-up sweep reach the fixed point.  A rule that
  must not duplicate work may ask how many nodes read a variable in the graph the stage
  started from (``ctx.n_readers``; fixed for the stage).
* a rule that was tried on a node and did not fire is not tried on that node again in a later
  stage of the same ``optimize`` call (the memo ``PassContext.declined``): a node is interned,
  so the same node object is the same expression with the same producers, and a rule's answer
  depends on nothing else (``fast_math`` is fixed for the call).  The one exception, an answer
  that asked ``ctx.n_readers`` (which is per stage), is not remembered.  Stabilize, specialize
  and blas re-run canonicalize's and the fold's rules on every node; this is what makes that
  cheap.  The graphs made are the same as without the memo.
* the work list is an explicit stack: a 100,000-node chain never recurses.  A replacement
  that contains the node it replaces keeps that inner occurrence as it is; rules that keep
  undoing or extending each other exhaust a budget of rewrites per node and are reported.
* a rule's replacement must have the type of what it replaces; where only the dtype differs
  or the replacement is more broadcastable, the engine adds the ``cast`` / ``fill`` (the
  rules stay short: ``x * 1 -> x``).  Anything else is a :class:`RewriteError` naming the rule.
* every node made while a node is rebuilt or rewritten records that node's source line
  (:func:`~aotsym.graph.basic.set_trace_override`): a rewrite's result names the user's
  expression it stands for.  Global passes do the same for the nodes they make; a node made
  during a stage on behalf of no node records none, never the line that called the optimizer.

Global passes (fusion, inplace) are plain functions ``FunctionGraph -> FunctionGraph``.  A
pipeline is an explicit ordered list of named :class:`Stage` s; :class:`OptimizerStats` keeps,
for every stage and every rule, how often it fired and how long it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aotsym.graph.basic import Apply, rebuild, set_trace_override, traced_as
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.test_values import without_test_values


class RewriteError(RuntimeError):
    """A rule produced something ill-formed (a bug in the rule, reported by its name)."""


# ---------------------------------------------------------------------------- statistics


@dataclass
class RuleStat:
    name: str
    stage: str
    tried: int = 0
    fired: int = 0
    seconds: float = 0.0


@dataclass
class StageStat:
    name: str
    seconds: float = 0.0
    nodes_before: int = 0
    nodes_after: int = 0


@dataclass
class OptimizerStats:
    """What the optimizer did: per stage time and graph size, per rule fires and time."""

    mode: str = ""
    stages: list = field(default_factory=list)
    rules: dict = field(default_factory=dict)
    seconds: float = 0.0

    def rule(self, name, stage) -> RuleStat:
        key = (stage, name)
        st = self.rules.get(key)
        if st is None:
            st = self.rules[key] = RuleStat(name, stage)
        return st

    def fired(self, name) -> int:
        """How often the rule (or global pass) ``name`` fired, over all stages."""
        return sum(s.fired for (_, n), s in self.rules.items() if n == name)

    def report(self) -> str:
        lines = [f"Optimizer ({self.mode}): {self.seconds:.3f}s"]
        lines.append("  <stage> <time> <nodes before -> after>")
        for s in self.stages:
            lines.append(f"    {s.name:<24} {s.seconds:8.4f}s  {s.nodes_before} -> "
                         f"{s.nodes_after}")
        fired = sorted((s for s in self.rules.values() if s.fired),
                       key=lambda s: -s.seconds)
        if fired:
            lines.append("  <rewrite> <stage> <fired> <tried> <time>")
            for s in fired:
                lines.append(f"    {s.name:<32} {s.stage:<16} {s.fired:6d} {s.tried:8d} "
                             f"{s.seconds:8.4f}s")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- local rules


class LocalRewriter:
    """Rewrites a graph with one :class:`~aotsym.optimizer.pattern.RuleSet` to a fixed point.

    ``checker`` (DEBUG_MODE) is called as ``checker(rule, node, replacement)`` on every fire.
    """

    MAX_FIRES_PER_NODE = 50  # more fires than this per node of the graph: rules that loop

    def __init__(self, ruleset, stats: OptimizerStats, stage: str, checker=None,
                 fast_math=False, declined=None, target="c"):
        self.ruleset = ruleset
        self.fast_math = fast_math  # rules may assume finite values (aotsym.config.fast_math)
        self.target = target        # the backend ("c", "cuda"): what ops a rule may make
        self.stats = stats
        self.stage = stage
        self.checker = checker
        self.result: dict = {}   # Apply -> tuple of the rewritten outputs
        self.busy: set = set()   # Apply nodes whose replacement is being rewritten
        self._rule_stats = {}
        self._fires = 0
        self._budget = 0
        self._n_nodes = 0
        self._clients = None
        self._inherited_readers: dict = {}  # replacement -> readers of what it replaced
        # Apply -> mask of the rules (Rule.bit) that did not fire on it (shared by the stages
        # of one optimize call)
        self.declined: dict = {} if declined is None else declined
        self._asked_readers = False  # whether the rule being tried called n_readers

    def _stat(self, r):
        st = self._rule_stats.get(r)
        if st is None:
            st = self._rule_stats[r] = self.stats.rule(r.name, self.stage)
        return st

    def n_readers(self, v) -> int:
        """Readers of ``v`` (graph outputs count) in the graph this stage started from; 1 for
        a variable made during the stage.  For rules that must not duplicate work."""
        self._asked_readers = True
        clients = self._readers()
        if clients is None:
            return 1
        found = clients.get(id(v))
        if found is not None:
            return len(found)
        return self._inherited_readers.get(v, 1)

    def var(self, v):
        """The rewritten version of ``v`` (its owner must be done, or busy)."""
        owner = v.owner
        if owner is None:
            return v
        res = self.result.get(owner)
        if res is None:
            return v  # busy: a replacement that contains the node it replaces keeps it as is
        return res[v.index]

    def _readers(self):
        """The clients map of the stage's graph, made at the first need (a stage where no
        rule fires and none asks ``n_readers`` never makes it)."""
        if callable(self._clients):
            self._clients = self._clients()
        return self._clients

    def rewrite(self, outputs, n_nodes=0, clients=None) -> list:
        """The rewritten ``outputs``; ``n_nodes`` (the graph's size) bounds the number of
        rewrites, so rules that undo or endlessly extend each other are reported.
        ``clients`` (the graph's clients map) and ``n_nodes`` may be functions that make
        them, called only when needed."""
        self._n_nodes = n_nodes
        self._budget = self.MAX_FIRES_PER_NODE * ((0 if callable(n_nodes) else n_nodes) + 100)
        self._clients = clients
        previous = set_trace_override(None)
        try:
            return self._rewrite(outputs)
        finally:
            set_trace_override(previous)

    def _rewrite(self, outputs) -> list:
        stack = [(v.owner, 0, None) for v in reversed(list(outputs)) if v.owner is not None]
        result, busy = self.result, self.busy
        result_get, candidates = result.get, self.ruleset.candidates
        declined_get = self.declined.get
        while stack:
            node, state, extra = stack.pop()
            if state == 0:                               # expand: inputs first
                if node in result or node in busy:
                    continue
                stack.append((node, 1, None))
                for inp in node.inputs:
                    o = inp.owner
                    if o is not None and o not in result and o not in busy:
                        stack.append((o, 0, None))
            elif state == 1:                             # inputs done: rebuild, try rules
                if node in result:
                    continue
                trace = node.outputs[0].tag.trace
                changed = False
                new_inputs = []
                for v in node.inputs:                    # self.var, inlined (hot loop)
                    o = v.owner
                    if o is not None:
                        res = result_get(o)
                        if res is not None and res[v.index] is not v:
                            v = res[v.index]
                            changed = True
                    new_inputs.append(v)
                if changed:
                    set_trace_override(trace)            # what's made stands for node
                    new = rebuild(node, new_inputs, same_values=True)
                    done = result_get(new)
                    if done is not None:
                        result[node] = done
                        continue
                    if new in busy:
                        result[node] = new.outputs
                        continue
                else:
                    new = node
                rules = candidates(new.op)
                declined = declined_get(new)
                if declined:
                    rules = [r for r in rules if not declined & r.bit]
                fire = None
                if rules:
                    if not changed:
                        set_trace_override(trace)
                    fire = self._try_rules(new, rules)
                if fire is None:
                    result[new] = new.outputs
                    if new is not node:
                        result[node] = new.outputs
                    continue
                busy.add(node)
                busy.add(new)
                stack.append((node, 2, (new, fire)))
                for r in fire:
                    o = r.owner
                    if o is not None and o not in result and o not in busy:
                        stack.append((o, 0, None))
            else:                                        # replacement rewritten: accept it
                new, fire = extra
                outs = tuple(self.var(r) for r in fire)
                clients = self._readers()
                if clients is not None:
                    for old, o in zip(node.outputs, outs):
                        if id(o) not in clients:
                            self._inherited_readers[o] = self.n_readers(old)
                busy.discard(node)
                busy.discard(new)
                result[node] = outs
                result[new] = outs
        return [self.var(v) for v in outputs]

    def _try_rules(self, node: Apply, rules):
        """The first of ``rules`` (candidates not known to decline) that fires on ``node``:
        its fitted replacement, or None.  Rules that decline are remembered."""
        declined = self.declined.get(node, 0)
        stat = self._rule_stats.get
        clock = time.perf_counter
        for r in rules:
            st = stat(r) or self._stat(r)
            self._asked_readers = False
            t0 = clock()
            repl = r.apply(node, self)
            st.seconds += clock() - t0
            st.tried += 1
            if repl is not None:
                repl = self._fit(r, node, repl)
            if repl is None or all(a is b for a, b in zip(repl, node.outputs)):
                if not self._asked_readers:   # the same answer in any later stage
                    declined |= r.bit
                    self.declined[node] = declined
                continue
            st.fired += 1
            self._fires += 1
            if self._fires > self._budget and callable(self._n_nodes):   # sized when needed
                self._n_nodes = self._n_nodes()
                self._budget = self.MAX_FIRES_PER_NODE * (self._n_nodes + 100)
            if self._fires > self._budget:
                busiest = sorted(self._rule_stats.values(), key=lambda s: -s.fired)[:3]
                raise RewriteError(
                    f"stage {self.stage}: rewriting does not settle ({self._fires} rewrites; "
                    "most frequent: " + ", ".join(f"{s.name} x{s.fired}" for s in busiest)
                    + f"); last: {r.name} on {node.op}")
            if self.checker is not None:
                self.checker(r, node, repl)
            return repl
        return None

    def _fit(self, r, node, repl):
        """The replacement as a list of variables of exactly the node's output types."""
        from aotsym.optimizer.utils import fit_type
        if not isinstance(repl, (list, tuple)):
            repl = [repl]
        if len(repl) != len(node.outputs):
            raise RewriteError(f"rule {r.name} gave {len(repl)} outputs for {node.op}, "
                               f"which has {len(node.outputs)}")
        fitted = []
        for old, new in zip(node.outputs, repl):
            if new is None:
                return None
            got = fit_type(old, new, node)
            if got is None:
                raise RewriteError(
                    f"rule {r.name} replaced {node.op} (type {old.type}) by a value of type "
                    f"{new.type}, which cannot be cast or broadcast to it")
            fitted.append(got)
        return fitted


def rewrite_graph(fgraph: FunctionGraph, ruleset, stats: OptimizerStats, stage: str,
                  checker=None, fast_math=False, declined=None, target="c") -> FunctionGraph:
    """``fgraph`` with ``ruleset`` applied to a fixed point (see :class:`LocalRewriter`);
    ``declined``: the memo of rules that did not fire, shared by the stages of one call."""
    outputs = LocalRewriter(ruleset, stats, stage, checker, fast_math, declined,
                            target).rewrite(
        fgraph.outputs, fgraph.__len__, fgraph.clients)
    if all(a is b for a, b in zip(outputs, fgraph.outputs)):   # unchanged: keep its order
        return FunctionGraph(fgraph.inputs, outputs, fgraph.n_updates, check=False,
                             meta=fgraph.meta, order=fgraph.toposort())
    return fgraph.with_outputs(outputs)


# ---------------------------------------------------------------------------- pipelines


@dataclass(frozen=True)
class Stage:
    """One named step of a pipeline: a rule set run to a fixed point, or a global pass."""

    name: str
    rules: object = None      # a RuleSet
    run: object = None        # a function (fgraph, context) -> fgraph
    doc: str = ""

    def __call__(self, fgraph, ctx) -> FunctionGraph:
        if self.rules is not None:
            return rewrite_graph(fgraph, self.rules, ctx.stats, self.name, ctx.checker,
                                 ctx.fast_math, ctx.declined, ctx.target)
        return self.run(fgraph, ctx)


@dataclass
class PassContext:
    """What a stage gets besides the graph: the stats to fill, the DEBUG_MODE checker,
    whether rules may assume finite values (``fast_math``, see :mod:`aotsym.config`) and the
    backend the graph is built for (``target``: "c" or "cuda"; see :mod:`.pipeline`), and
    ``declined``, the rules known not to fire on a node (see :class:`LocalRewriter`)."""

    stats: OptimizerStats
    checker: object = None
    mode: str = "FAST_RUN"
    fast_math: bool = False
    target: str = "c"
    declined: dict = field(default_factory=dict)

    def count(self, name, stage, n=1, seconds=0.0):
        st = self.stats.rule(name, stage)
        st.fired += n
        st.tried += 1
        st.seconds += seconds


def run_stages(fgraph: FunctionGraph, stages, ctx: PassContext) -> FunctionGraph:
    """``stages`` in order on ``fgraph``; then, for ops that hold inner graphs (``scan``,
    ``ifelse``, ``OpFromGraph``), the same ``stages`` inside each inner graph, recursively
    (:func:`aotsym.optimizer.inner.optimize_inner_graphs`: one more stage line,
    ``inner_graphs``, and only when some node holds an inner graph)."""
    # a pass says which user line each node it makes stands for; its nodes get no test
    # values (the user's graph has them)
    with traced_as(None), without_test_values():
        fgraph = _run_stages(fgraph, stages, ctx)
        from aotsym.optimizer.inner import optimize_inner_graphs
        return optimize_inner_graphs(fgraph, stages, ctx)


def _run_stages(fgraph, stages, ctx):
    t_start = time.perf_counter()
    for stage in stages:
        before = len(fgraph)
        t0 = time.perf_counter()
        new = stage(fgraph, ctx)
        seconds = time.perf_counter() - t0
        if ctx.checker is not None and stage.rules is None:
            ctx.checker.check_pass(stage.name, fgraph, new)
        fgraph = new
        ctx.stats.stages.append(StageStat(stage.name, seconds, before, len(fgraph)))
    ctx.stats.seconds += time.perf_counter() - t_start
    return fgraph
