"""The memory plan: buffers reused by liveness, views and in-place results share them."""

from aotsym import tensor as T
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import optimize, plan_memory


def test_chain_reuses_two_buffers():
    x = T.vector("x")
    v = x
    for i in range(50):
        v = T.sin(v) if i % 2 else T.exp(v)
    plan = plan_memory(FunctionGraph([x], [v]))
    assert plan.n_allocations == 50
    assert len(plan.buffers) == 2
    assert "2 buffers" in plan.describe()


def test_different_shapes_do_not_share():
    x, y = T.vector("x"), T.vector("y")
    a = T.exp(x)          # shape of x
    b = T.exp(y)          # shape of y: not known to be equal
    c = T.sum(a) + T.sum(b)
    plan = plan_memory(FunctionGraph([x, y], [c]))
    assert plan.buffer_of[a.owner.outputs[0]] != plan.buffer_of[b.owner.outputs[0]]


def test_outputs_keep_their_buffers_and_views_share():
    x = T.matrix("x")
    e = T.exp(x)
    t = e.T
    s = T.sin(t)
    plan = plan_memory(FunctionGraph([x], [e, s]))
    assert plan.kind[t] == "view" and plan.buffer_of[t] == plan.buffer_of[e]
    assert plan.buffer_of[s] != plan.buffer_of[e]
    for freed in plan.free_after:
        assert plan.buffer_of[e] not in freed


def test_inplace_results_live_in_their_input_buffer():
    x = T.vector("x")
    fg = optimize(FunctionGraph([x], [T.sum(T.exp(x) * 2)]), stages=["inplace"])
    plan = plan_memory(fg)
    inplace = [v for v, k in plan.kind.items() if k == "inplace"]
    assert inplace
    for v in inplace:
        src = v.owner.inputs[v.owner.op.destroy_map[v.index][0]]
        assert plan.buffer_of[v] == plan.buffer_of[src]
