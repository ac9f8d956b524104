"""The lowered program: slots, storage, liveness, state writes, handover and step ids are
decided by aotsym.optimizer.lower, and the structure is checked here for representative
graphs (the C renderer's obedience and the values are checked in tests/emit_c)."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.optimizer import optimize
from aotsym.optimizer.lower import lower_program
from aotsym.optimizer.program import (ALLOC, APPLY, COMMIT, CONSTANT, INPLACE, INPUT, NODE,
                                      PREPARE, VIEW)
from seed_logreg import logreg_step


def _step_of(program, var):
    return next(s for s in program.steps if var in s.node.outputs)


def test_chain_releases_each_value_after_its_last_reader():
    x = T.vector("x")
    a = T.exp(x)
    b = T.sin(a)
    c = T.cos(b)
    p = lower_program(FunctionGraph([x], [c]))
    assert [s.kind for s in p.steps] == [APPLY] * 3
    assert [s.id.number for s in p.steps] == [0, 1, 2]
    assert [s.id.path for s in p.steps] == [(0,), (1,), (2,)]
    assert p.step_nodes == [a.owner, b.owner, c.owner]
    sa, sb = p.slot(a).index, p.slot(b).index
    # a dies after sin reads it, b after cos; the output and the argument are never released
    assert p.steps[0].release == ()
    assert p.steps[1].release == (sa,)
    assert p.steps[2].release == (sb,)
    assert p.slot(x).role == INPUT and p.slot(c).role == NODE
    assert p.outputs[0].how == "move"


def test_a_value_read_twice_lives_until_the_second_reader():
    x = T.vector("x")
    a = T.exp(x)
    b = T.sin(a)
    c = b + a            # a read again after b
    p = lower_program(FunctionGraph([x], [c]))
    sa = p.slot(a).index
    assert sa not in _step_of(p, b).release
    assert sa in _step_of(p, c).release


def test_views_share_their_inputs_buffer_and_outputs_are_copied_when_not_fresh():
    x = T.matrix("x")
    e = T.exp(x)
    t = e.T
    xt = x.T
    p = lower_program(FunctionGraph([x], [e, t, xt, x]))
    step = _step_of(p, t)
    assert step.outputs[0].storage == VIEW and step.outputs[0].source == 0
    assert p.slot(t).root == p.slot(e).index
    assert p.slot(xt).root == p.slot(x).index
    # e: fresh -> move; t: the same buffer as e -> copy; x.T: an argument's memory; x itself
    assert [h.how for h in p.outputs] == ["move", "copy", "copy", "copy"]
    assert all(h.state_arg == -1 for h in p.outputs)


def test_a_view_keeps_its_buffer_alive():
    x = T.matrix("x")
    e = T.exp(x)
    t = e.T              # a view: e's buffer must live while t is read
    s = T.sin(t) + e.sum()
    p = lower_program(FunctionGraph([x], [s]))
    se = p.slot(e).index
    releasing = [k for k, st in enumerate(p.steps) if se in st.release]
    assert releasing and all(p.steps[k].id.number >= _step_of(p, t).id.number
                             for k in releasing)


def _inplace_exp():
    return Elemwise(SCALAR_OPS["exp"], inplace=((0, 0),))


def test_inplace_is_granted_over_a_dead_intermediate():
    x = T.vector("x")
    a = T.sin(x)
    b = _inplace_exp()(a)
    p = lower_program(FunctionGraph([x], [b]))
    step = _step_of(p, b)
    assert step.outputs[0].storage == INPLACE and step.inplace() == {0: 0}
    assert p.slot(b).root == p.slot(a).index
    assert p.outputs[0].how == "move"


@pytest.mark.parametrize("case", ["argument", "read_later", "view_read_later", "output",
                                  "constant"])
def test_inplace_is_refused_where_the_buffer_is_still_needed(case):
    x = T.vector("x")
    a = T.sin(x)
    if case == "argument":
        target, outs = x, lambda b: [b]
    elif case == "read_later":
        target, outs = a, lambda b: [b + a]
    elif case == "view_read_later":
        target, outs = a, lambda b: [b + a[::-1]]
    elif case == "output":
        target, outs = a, lambda b: [b, a]
    else:
        target, outs = aotsym.tensor.constant(np.arange(3.0)), lambda b: [b + x]
    b = _inplace_exp()(target)
    fg = FunctionGraph([x], outs(b))
    p = lower_program(fg)
    assert _step_of(p, b).outputs[0].storage == ALLOC
    assert p.slot(b).root == p.slot(b).index
    if case == "constant":
        assert p.slot(target).role == CONSTANT


def _logreg_train():
    step = logreg_step(np.random.RandomState(0).randn(5))
    f = aotsym.function(step.inputs, step.outputs, updates=step.updates, mode="FAST_COMPILE")
    return optimize(f.unoptimized, "FAST_RUN"), step.w


def test_state_write_is_split_into_prepare_and_commit_after_the_handover():
    fg, w = _logreg_train()
    p = lower_program(fg)
    k = list(fg.inputs).index(w)
    prepares = [s for s in p.steps if s.kind == PREPARE]   # w's gemv and b's elementwise
    (prepare,) = [s for s in prepares if s.node.inputs[0] is w]
    (commit,) = [s for s in p.commits if s.node is prepare.node]
    assert commit.kind == COMMIT and len(p.commits) == len(prepares) == 2
    assert type(prepare.node.op).__name__ == "Gemv"
    assert prepare.state_arg == commit.state_arg == k
    assert prepare.id == commit.id          # one id: one profile counter, one error id
    assert p.steps[-len(prepares):] == prepares   # the prepares come last
    assert prepare.release == () and commit.release == ()
    j = list(fg.outputs).index(prepare.node.outputs[0])
    assert p.outputs[j].state_arg == k and p.outputs[j].how == "move"
    others = [h.state_arg for i, h in enumerate(p.outputs) if i != j]
    assert sorted(others) == [-1, -1, list(fg.inputs).index(prepares[1 - prepares.index(
        prepare)].node.inputs[0])]
    text = p.describe()
    assert f"[over argument {k}]" in text and "commit" in text


def test_a_state_write_read_by_another_node_is_not_split():
    w = aotsym.shared(np.zeros(3), name="w")
    A, x = T.matrix("A"), T.vector("x")
    from aotsym.graph.ops.gemm import Gemv
    new = Gemv(inplace=True)(w, 1.0, A, x, 1.0)
    fg = FunctionGraph([A, x, w], [new * 2, new], meta={"updates": {1: 2}})
    p = lower_program(fg)
    assert not p.commits and all(s.kind == APPLY for s in p.steps)
    assert all(h.state_arg == -1 for h in p.outputs)


def test_constants_get_slots_at_their_first_use():
    x = T.vector("x")
    p = lower_program(FunctionGraph([x], [x * 3.5 + 1]))
    consts = [s for s in p.slots if s.role == CONSTANT]
    assert sorted(float(s.var.data) for s in consts) == [1.0, 3.5]
    assert p.inputs == [0]


def test_walk_and_step_table_cover_every_step():
    fg, _ = _logreg_train()
    p = lower_program(fg)
    walked = list(p.walk())
    assert len(walked) == len(p.steps) + len(p.commits)
    assert p.n_step_ids == len(fg.toposort())
    for step in walked:
        assert p.step_nodes[step.id.number] is step.node
