"""The content-hashed cache of built modules.

Part of the build stage (emit_c -> **build** -> module.so).  An entry is a directory named by
its key, the SHA-256 of everything that decides the binary: the emitted C source, the cffi
declarations, the compiler flags, the compiler's identity, the linked libraries, the aotsym,
Python and NumPy versions.  Invariants:

* an entry appears atomically: it is built in a temporary directory beside the cache and
  renamed into place, so a reader never sees a half-written module (a killed build leaves
  only a temporary directory, swept later);
* ``manifest.json`` is written last and holds the SHA-256 and size of the shared object; an
  entry whose manifest is missing, unreadable, not the JSON object this cache writes, or
  does not match its files is corrupt, and is removed and rebuilt (a truncated ``.so`` is
  never handed to ``dlopen``);
* hashing a file is done once: a valid entry gets ``verified.json``, its files' size,
  modification time and inode as they were when their SHA-256s matched, and a later lookup
  that finds the files unchanged by those (what ``git status`` trusts too) skips the
  hashing (the runtime's 15 MB precompiled header cost 20-60 ms of every fresh process);
  any later write to a file, a truncation or a replacement changes them, and the file is
  hashed again (an entry is stamped only once its files are two seconds old, so a write
  within the file system's clock tick of the last cannot go unseen);
* builders of the same key serialize on a file lock (``fcntl.flock``), so two processes that
  need the same module build it once; different keys build in parallel.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time

MANIFEST = "manifest.json"
VERIFIED = "verified.json"
# a file changed within this long of its last write may keep its modification time (the
# file system's clock is coarse): such an entry is hashed again until it is older
RACY_NS = 2_000_000_000
FORMAT = 1


def cache_key(parts: dict) -> str:
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Cache:
    def __init__(self, root: str):
        self.root = os.path.abspath(os.path.expanduser(root))

    def entry_dir(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key)

    @contextlib.contextmanager
    def lock(self, key: str):
        lock_dir = os.path.join(self.root, "locks")
        os.makedirs(lock_dir, exist_ok=True)
        with open(os.path.join(lock_dir, key + ".lock"), "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def lookup(self, key: str):
        """The manifest of a valid entry, or None (a corrupt entry is removed)."""
        d = self.entry_dir(key)
        manifest_path = os.path.join(d, MANIFEST)
        try:
            with open(manifest_path) as fh:
                manifest = json.load(fh)
        except FileNotFoundError:
            if os.path.isdir(d):
                self._discard(d)
            return None
        except (OSError, ValueError, RecursionError):  # unreadable, not JSON, not UTF-8
            self._discard(d)
            return None
        if not self._valid(d, manifest):
            self._discard(d)
            return None
        manifest["dir"] = d
        return manifest

    def _valid(self, d, manifest) -> bool:
        """Whether ``manifest`` is one this cache wrote (an object of this format whose
        ``files`` maps plain file names to their size and SHA-256) and the files match it.
        Anything else — ``null``, a list, a field of the wrong type — is a corrupt entry."""
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            return False
        files = manifest.get("files")
        if not isinstance(files, dict) or not files:
            return False
        for name, info in files.items():
            if not isinstance(name, str) or not name or name != os.path.basename(name) \
                    or name in (".", "..") or not isinstance(info, dict) \
                    or type(info.get("size")) is not int \
                    or not isinstance(info.get("sha256"), str):
                return False
        stamps = _stamps(d, files)
        if stamps is None:
            return False
        if _read_json(os.path.join(d, VERIFIED)) == stamps:
            return True   # hashed before, and not changed since
        for name, info in files.items():
            path = os.path.join(d, name)
            try:
                if os.path.getsize(path) != info["size"] or file_digest(path) != info["sha256"]:
                    return False
            except OSError:
                return False
        if time.time_ns() - max(st[1] for st in stamps.values()) > RACY_NS:
            _write_json(os.path.join(d, VERIFIED), stamps)
        return True

    def _discard(self, d):
        trash = d + f".corrupt-{os.getpid()}-{time.time_ns()}"
        try:
            os.rename(d, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def get_or_build(self, key: str, build, meta: dict):
        """The manifest of entry ``key``, building it with ``build(tmpdir) -> [file names]``
        when it is missing or corrupt."""
        found = self.lookup(key)
        if found is not None:
            return found, False
        with self.lock(key):
            found = self.lookup(key)  # built by another process while we waited
            if found is not None:
                return found, False
            tmp_root = os.path.join(self.root, "tmp")
            os.makedirs(tmp_root, exist_ok=True)
            self._sweep(tmp_root)
            tmp = tempfile.mkdtemp(prefix=key[:16] + "-", dir=tmp_root)
            try:
                files = build(tmp)
                manifest = dict(meta, format=FORMAT, key=key, files={
                    name: {"size": os.path.getsize(os.path.join(tmp, name)),
                           "sha256": file_digest(os.path.join(tmp, name))}
                    for name in files})
                with open(os.path.join(tmp, MANIFEST), "w") as fh:
                    json.dump(manifest, fh, indent=1, sort_keys=True)
                    fh.flush()
                    os.fsync(fh.fileno())
                final = self.entry_dir(key)
                os.makedirs(os.path.dirname(final), exist_ok=True)
                if os.path.isdir(final):  # a corrupt leftover the lookup could not remove
                    self._discard(final)
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        manifest["dir"] = final
        return manifest, True

    @staticmethod
    def _sweep(tmp_root, age=3600):
        """Remove temporary build directories abandoned (killed builds) over an hour ago."""
        now = time.time()
        for name in os.listdir(tmp_root):
            path = os.path.join(tmp_root, name)
            try:
                if now - os.path.getmtime(path) > age:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _stamps(d, files) -> dict | None:
    """Each file's size, modification time (ns) and inode; None if one is missing."""
    out = {}
    for name in files:
        try:
            st = os.stat(os.path.join(d, name))
        except OSError:
            return None
        out[name] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def _read_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError, RecursionError):
        return None


def _write_json(path, value) -> None:
    """``value`` written to ``path`` atomically; nothing where the cache is read-only."""
    tmp = f"{path}.{os.getpid()}-{time.time_ns()}"
    try:
        with open(tmp, "w") as fh:
            json.dump(value, fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(tmp)
