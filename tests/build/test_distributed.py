"""Built modules on a distributed engine: the packaged model's wheel (built once per session by
the setuptools hook, see conftest.py) on a Dask ``LocalCluster`` with worker processes.

The driver script runs in a separate interpreter that sees the installed wheel (on
PYTHONPATH, which the spawned worker processes inherit) and dask.  It checks that the
functions travel by reference (a short pickle naming ``packaged_model.logreg``; the workers
import the module themselves), that predict over data partitions on the workers gives the
driver's answers, and that state is per worker: fresh workers hold the wheel's initial state,
``client.run(pm.load, path)`` gives each the trained one, and ``set_value`` on one worker
changes that worker only.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from hook_project import build_env, pip

pytest.importorskip("distributed")

DRIVER = textwrap.dedent('''
    import json, os, pickle, sys
    import numpy as np
    from dask.distributed import Client, LocalCluster
    import packaged_model as pm


    def worker_state():
        import os, sys
        return os.getpid(), "packaged_model.logreg" in sys.modules


    def set_bias(value):
        pm.logreg.b.set_value(value)


    if __name__ == "__main__":
        ckpt = sys.argv[1]
        x, y = pm.make_data(400)
        initial = pm.predict(x)
        pm.train(x, y, steps=300)
        trained = pm.predict(x)
        pm.save(ckpt)
        assert not np.array_equal(initial, trained)
        blobs = {f.__qualname__: pickle.dumps(f) for f in
                 (pm.predict, pm.logreg.predict, pm.logreg.cross_entropy)}
        parts = np.array_split(x, 8)
        labels = np.array_split(y, 8)
        report = {"pickles": {k: [len(v), b"packaged_model" in v] for k, v in blobs.items()}}
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \\
                Client(cluster) as client:
            # fresh workers: the wheel's initial state
            got = client.gather(client.map(pm.predict, parts, pure=False))
            report["initial_matches"] = bool(np.array_equal(np.concatenate(got), initial))
            # state per worker: every worker loads the trained weights
            client.run(pm.load, ckpt)
            got = client.gather(client.map(pm.predict, parts, pure=False))
            report["trained_matches"] = bool(np.array_equal(np.concatenate(got), trained))
            # a C function of the module (no state) and a Python wrapper, by reference
            probs = client.map(pm.logreg.predict_proba, parts, pure=False)
            losses = client.gather(client.map(pm.logreg.cross_entropy, probs, labels,
                                              pure=False))
            report["loss_matches"] = bool(np.allclose(np.concatenate(losses),
                                                      pm.log_loss(x, y)))
            states = client.run(worker_state)
            report["worker_pids"] = sorted(pid for pid, _ in states.values())
            report["imported_on_workers"] = all(seen for _, seen in states.values())
            # one worker's state changes, the other's does not
            first, second = sorted(states)
            client.run(set_bias, 1e6, workers=[first])
            on_first = client.submit(pm.predict, parts[0], workers=[first], pure=False)
            on_second = client.submit(pm.predict, parts[0], workers=[second], pure=False)
            report["first_all_ones"] = bool(on_first.result().all())
            report["second_unchanged"] = bool(np.array_equal(on_second.result(),
                                                             trained[:len(parts[0])]))
        report["driver_pid"] = os.getpid()
        print("REPORT " + json.dumps(report))
''')


def test_predict_over_partitions_on_a_dask_local_cluster(packaged_wheel, tmp_path):
    wheel, _ = packaged_wheel
    site = tmp_path / "site"
    pip("install", "--no-deps", "--no-index", "--target", str(site), wheel)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = build_env()
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "trained.npz")],
                          capture_output=True, text=True, cwd=str(tmp_path), env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    line = [s for s in proc.stdout.splitlines() if s.startswith("REPORT ")][-1]
    report = json.loads(line[len("REPORT "):])
    for name, (size, by_name) in report["pickles"].items():
        assert by_name and size < 120, (name, size)    # a reference, not the function's code
    assert report["initial_matches"] and report["trained_matches"], report
    assert report["loss_matches"], report
    pids = report["worker_pids"]
    assert len(set(pids)) == 2 and report["driver_pid"] not in pids, report
    assert report["imported_on_workers"], report
    assert report["first_all_ones"] and report["second_unchanged"], report
    assert os.path.isfile(tmp_path / "trained.npz")
