"""The build cache: a second process loads in milliseconds; concurrent builders of one key
build it once; a corrupt or truncated entry is detected and rebuilt, never loaded."""

import glob
import json
import os
import subprocess
import sys
import time

from aotsym.build.cache import Cache

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    env.pop("AOTSYM_FLAGS", None)
    return env


def run_child(cache):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "build_child.py"), str(cache)],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def entries(cache):
    return glob.glob(os.path.join(str(cache), "??", "*", "manifest.json"))


def test_second_process_loads_from_cache(tmp_path):
    first = run_child(tmp_path)
    second = run_child(tmp_path)
    assert not first["from_cache"] and second["from_cache"]
    assert second["result"] == [1.0, 3.0, 5.0]
    assert second["seconds"] < 0.5, second  # a load, not a compile
    assert len(entries(tmp_path)) == 1


def test_concurrent_builders_build_once(tmp_path):
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "build_child.py"),
                               str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=_env()) for _ in range(3)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-4000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["from_cache"] for r in results) == [False, True, True]
    assert all(r["result"] == [1.0, 3.0, 5.0] for r in results)
    assert len(entries(tmp_path)) == 1
    assert not os.listdir(os.path.join(str(tmp_path), "tmp"))  # nothing half-built left


def test_truncated_module_is_rebuilt(tmp_path):
    first = run_child(tmp_path)
    (so,) = glob.glob(os.path.join(first["path"], "*.so"))
    with open(so, "r+b") as fh:
        fh.truncate(os.path.getsize(so) // 2)
    again = run_child(tmp_path)
    assert not again["from_cache"] and again["result"] == [1.0, 3.0, 5.0]


def test_entry_without_manifest_is_rebuilt(tmp_path):
    first = run_child(tmp_path)
    os.remove(os.path.join(first["path"], "manifest.json"))
    again = run_child(tmp_path)
    assert not again["from_cache"] and again["result"] == [1.0, 3.0, 5.0]
    assert len(entries(tmp_path)) == 1


def test_malformed_manifest_is_discarded_and_rebuilt(tmp_path):
    """A manifest that is valid JSON but not the object the cache writes (or not JSON, or not
    UTF-8) is a corrupt entry: discarded and rebuilt, never an AttributeError forever."""
    from aotsym.build.cache import MANIFEST, Cache

    def build(tmp):
        with open(os.path.join(tmp, "module.so"), "wb") as fh:
            fh.write(b"binary")
        return ["module.so"]

    cache = Cache(str(tmp_path))
    key = "ab" * 32
    good, built = cache.get_or_build(key, build, {})
    assert built
    manifest_path = os.path.join(good["dir"], MANIFEST)
    bad = ["null", "[1, 2]", '"text"', "3", '{"format": 1, "files": [1]}',
           '{"format": 1, "files": {"module.so": 1}}',
           '{"format": 1, "files": {"module.so": {"size": "6", "sha256": 1}}}',
           '{"format": 1, "files": {"../module.so": {"size": 6, "sha256": "x"}}}',
           '{"format": 1, "files": {}}', "{", "\udcff"]
    for text in bad:
        with open(manifest_path, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        found, rebuilt = cache.get_or_build(key, build, {})
        assert rebuilt, text
        assert found["files"]["module.so"]["size"] == 6
        assert cache.lookup(key) is not None


def _entry(tmp_path, files):
    """An entry of ``files`` (name -> bytes) in a fresh cache, its files made 10 s old."""
    cache = Cache(str(tmp_path / "c"))

    def build(tmp):
        for name, data in files.items():
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(data)
        return list(files)
    manifest, _ = cache.get_or_build("ab" * 32, build, {})
    old = time.time() - 10
    for name in files:
        os.utime(os.path.join(manifest["dir"], name), (old, old))
    return cache, manifest["dir"]


def test_a_verified_entry_is_not_hashed_again_until_a_file_changes(tmp_path, monkeypatch):
    from aotsym.build import cache as cache_module
    cache, d = _entry(tmp_path, {"a.so": b"x" * 1000, "b.h": b"y" * 10})
    assert cache.lookup("ab" * 32) is not None        # hashed, then stamped
    hashed = []
    real = cache_module.file_digest
    monkeypatch.setattr(cache_module, "file_digest", lambda p: hashed.append(p) or real(p))
    assert cache.lookup("ab" * 32) is not None and hashed == []
    with open(os.path.join(d, "a.so"), "r+b") as fh:   # one byte, in place: same size
        fh.write(b"z")
    assert cache.lookup("ab" * 32) is None             # hashed again: corrupt, removed
    assert len(hashed) >= 1


def test_a_fresh_entry_is_not_stamped(tmp_path):
    """Files written within the last two seconds may change without a new modification
    time: their entry is hashed on every lookup until they are older."""
    cache, d = _entry(tmp_path, {"a.so": b"x" * 100})
    os.utime(os.path.join(d, "a.so"))                  # just now
    assert cache.lookup("ab" * 32) is not None
    assert not os.path.exists(os.path.join(d, "verified.json"))
