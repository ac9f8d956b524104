"""``aotsym.misc.pkl_utils``: Theano's ``dump`` / ``load``, a model saved to a zip file.

Beside the pipeline.  ``dump(obj, file)`` writes a zip archive: ``pkl`` holds ``obj``
pickled, and every NumPy array inside it (a shared variable's value, a parameter list) is
stored beside it as ``<name>.npy``, NumPy's own format, so the arrays can be read without
unpickling anything (``numpy.load(zip.open(name))``).  ``load(file)`` reads it back.  The
layout is Theano's; aotsym's functions and graphs pickle as themselves (their C modules are
rebuilt, or found in the cache, on load).
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

__all__ = ["dump", "load", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = pickle.HIGHEST_PROTOCOL


class _Pickler(pickle.Pickler):
    def __init__(self, file, archive, protocol):
        super().__init__(file, protocol=protocol)
        self.archive, self.names = archive, {}

    def persistent_id(self, obj):
        if type(obj) is not np.ndarray or obj.dtype.hasobject:
            return None
        name = self.names.get(id(obj))
        if name is None:
            name = self.names[id(obj)] = f"array_{len(self.names)}.npy"
            with self.archive.open(name, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, obj, allow_pickle=False)
        return name


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive):
        super().__init__(file)
        self.archive = archive

    def persistent_load(self, name):
        with self.archive.open(name) as fh:
            return np.lib.format.read_array(io.BytesIO(fh.read()), allow_pickle=False)


def dump(obj, file_handler, protocol=DEFAULT_PROTOCOL, persistent_id=None):
    """Save ``obj`` to ``file_handler`` (a binary file object or a path) as a zip archive
    (Theano's ``theano.misc.pkl_utils.dump``; ``persistent_id`` is accepted and unused)."""
    with zipfile.ZipFile(file_handler, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        buf = io.BytesIO()
        _Pickler(buf, archive, protocol).dump(obj)
        archive.writestr("pkl", buf.getvalue())


def load(f, persistent_load=None):
    """What :func:`dump` saved in ``f`` (a binary file object or a path)."""
    with zipfile.ZipFile(f, "r") as archive:
        return _Unpickler(io.BytesIO(archive.read("pkl")), archive).load()
