"""The build cache's graph key (aotsym/build/graph_key.py): a function built before is loaded
without optimizing or emitting, in another process too; anything that decides the module
changes the key; a graph the key cannot vouch for, a damaged index entry or a vanished
module is built the long way."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import driver
from aotsym.build.graph_key import graph_key
from aotsym.frontend.assemble import assemble
from aotsym.graph.op import Op

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run_child(cache):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    env.pop("AOTSYM_FLAGS", None)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "graph_key_child.py"), str(cache)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_by_graph_key_and_computes_the_same(tmp_path):
    first = run_child(tmp_path)
    second = run_child(tmp_path)
    assert not first["from_graph_key"] and second["from_graph_key"]
    assert "emit" in first["stages"] and second["stages"] == ["load"]   # no optimize, emit
    expected_w = [2.0, 4.0, 6.0]
    for got in (first, second):
        assert got["results"][0] == pytest.approx(0.0)
        assert got["results"][1] == pytest.approx(14.0 / np.log(6.0))
        assert got["w"] == expected_w
        assert "graph_key_child.py" in got["error"] and "line 17" in got["error"], got["error"]


def key_of(outputs, inputs, mode="FAST_RUN", **options):
    fn = assemble(inputs, outputs, None, name="f", arg_names=[v.name for v in inputs])
    return graph_key([fn], mode, driver.BuildOptions.from_config(**options), {"env": 1})


def test_what_decides_the_module_changes_the_key():
    x, y = T.vector("x"), T.vector("y")
    twice = [key_of([x * 2 + 1], [x]) for _ in range(2)]     # (spelled on one line)
    base = twice[0]
    assert base == twice[1]                                    # the same graph: one key
    others = [
        key_of([x * 3 + 1], [x]),                               # a constant
        key_of([x * 2 - 1], [x]),                               # an op
        key_of([x * 2.5 + 1], [x]),                             # a constant's value
        key_of([x * 2 + 1], [x], mode="FAST_COMPILE"),          # the mode
        key_of([x * 2 + 1], [x], fast_math=True),               # an option
        key_of([x * 2 + 1], [x], cflags="-O1"),
        key_of([(x * 2 + 1).sum()], [x]),
        key_of([x * 2 + 1, x], [x]),                            # the outputs
        key_of([x * 2 + y], [x, y]),
    ]
    z = T.vector("z")                                           # another name
    others.append(key_of([z * 2 + 1], [z]))
    x32 = T.vector("x", dtype="float32")                        # another dtype
    others.append(key_of([x32 * 2 + 1], [x32]))
    row = T.row("x")                                            # another broadcast pattern
    others.append(key_of([row * 2 + 1], [row]))
    x_again = T.vector("x")                                     # made on another line: the
    others.append(key_of([x_again * 2 + 1], [x_again]))         # messages name other lines
    # ops, types, lines and constants are written once and named after: a name must stand
    # for its own definition, also across an inner graph (a scan's step)
    others.append(key_of([x * 2 + 1 + x * 2], [x]))
    others.append(key_of([x * 2 + 2], [x]))
    k = T.lscalar("k")
    for step in (lambda h: h * 2 + 1, lambda h: h * 2 - 1, lambda h: h * 3 + 1):
        out, _ = aotsym.scan(step, outputs_info=x, n_steps=k)
        others.append(key_of([out[-1] * 2 + 1], [x, k]))
    assert len(set(others + [base])) == len(others) + 1
    out, _ = aotsym.scan(lambda h: h * 2 + 1, outputs_info=x, n_steps=k)
    assert key_of([out[-1] * 2 + 1], [x, k]) == key_of([out[-1] * 2 + 1], [x, k])


class _UserOp(Op):
    """An op defined outside aotsym: two scripts may define different ops of this name."""
    __props__ = ()

    def make_node(self, x):
        from aotsym.graph.basic import Apply
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] + 1


def test_a_graph_with_a_user_op_has_no_key():
    x = T.vector("x")
    assert key_of([_UserOp()(x) * 2], [x]) is None
    assert key_of([x * 2], [x]) is not None


def _entries(cache, folder):
    return glob.glob(os.path.join(str(cache), folder, "??", "*", "manifest.json"))


def test_a_damaged_index_entry_or_a_vanished_module_builds_the_long_way(tmp_path):
    aotsym.config.cache_dir = str(tmp_path)   # (restored by the autouse default_flags)
    driver._LOADED.clear()
    x = T.vector("x")
    v = np.array([0.25, -1.0, np.nan, np.inf, -0.0])

    def build():
        driver._LOADED.clear()                 # as a new process would
        f = aotsym.function([x], T.exp(x) * 0.5)
        np.testing.assert_allclose(f(v), np.exp(v) * 0.5, rtol=1e-15)
        return f._run.module.from_graph_key

    assert build() is False and build() is True
    (index,) = _entries(tmp_path, "graphs")
    with open(os.path.join(os.path.dirname(index), "index.json"), "w") as fh:
        fh.write("{not json")                 # damaged: the manifest no longer matches
    assert build() is False and build() is True
    for manifest in glob.glob(os.path.join(str(tmp_path), "??", "*", "manifest.json")):
        os.remove(manifest)                   # the module itself is gone
    assert build() is False and build() is True


def test_a_module_loaded_by_graph_key_keeps_the_shared_state_rules(tmp_path):
    aotsym.config.cache_dir = str(tmp_path)   # (restored by the autouse default_flags)
    w = aotsym.shared(np.ones(2), name="w")
    x = T.vector("x")
    made = []
    for _ in range(2):
        driver._LOADED.clear()
        made.append(aotsym.function([x], w.sum(), updates={w: w * x}))
    assert [f._run.module.from_graph_key for f in made] == [False, True]
    assert made[1](np.array([2.0, 3.0])) == 2.0 and list(w.get_value()) == [2.0, 3.0]
    assert made[0](np.array([2.0, 3.0])) == 5.0 and list(w.get_value()) == [4.0, 9.0]
    with pytest.raises(TypeError):             # a wrong dtype named by this function's labels
        made[1](np.array(["a", "b"]))
    assert list(w.get_value()) == [4.0, 9.0]   # a failed call changes nothing


def test_a_module_that_calls_python_ops_back_is_built_the_long_way_every_time(tmp_path):
    """searchsorted runs its perform from C (a Python op): the callbacks are set from the
    emitted module's list of those nodes, which a module found by its graph key would not
    have (it raised "the module's Python ops were not set" in a second process: found by
    Theano's test_extra_ops.py under pytest-xdist)."""
    from aotsym.tensor.extra_ops import searchsorted
    aotsym.config.cache_dir = str(tmp_path)   # (restored by the autouse default_flags)
    x, v = T.vector("x"), T.matrix("v")
    a = np.sort(np.random.default_rng(0).random(20))
    b = np.random.default_rng(1).random((3, 4))

    def build():
        driver._LOADED.clear()                 # as a new process would
        f = aotsym.function([x, v], searchsorted(x, v, side="right"))
        np.testing.assert_array_equal(f(a, b), np.searchsorted(a, b, side="right"))
        return f._run.module.from_graph_key

    assert build() is False and build() is False
    assert _entries(tmp_path, "graphs") == []  # no index entry is made for such a module
