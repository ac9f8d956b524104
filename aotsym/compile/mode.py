"""``aotsym.compile.mode``: Theano's ``theano.compile.mode`` — ``get_mode``,
``get_default_mode`` and ``Mode``.

Beside the pipeline: mode objects for ported code.  A mode is a name of
:data:`aotsym.config.MODES` (``aotsym.function(..., mode=...)`` takes the object or the
name); ``get_mode`` turns Theano's spellings into the object, one shared instance per mode,
as Theano's ``predefined_modes`` are.
"""

from __future__ import annotations

from aotsym.config import MODES, config, normalize_mode
from aotsym.frontend.function import Mode, ProfileMode

__all__ = ["Mode", "get_mode", "get_default_mode", "predefined_modes", "FAST_RUN",
           "FAST_COMPILE"]

# one instance per mode (Theano: get_mode('FAST_RUN') is predefined_modes['FAST_RUN'])
predefined_modes = {name: (ProfileMode() if name == "PROFILE_MODE" else Mode(name))
                    for name in MODES}
# Theano's module-level mode objects (theano.compile.mode.FAST_RUN ...)
FAST_RUN = predefined_modes["FAST_RUN"]
FAST_COMPILE = predefined_modes["FAST_COMPILE"]


def get_mode(orig_string):
    """Theano's ``get_mode``: the mode object for a name (``'FAST_RUN'``, ``'fast_compile'``,
    ``'DebugMode'``, ``'ProfileMode'``, ``'Mode'`` ...); ``None``: the default
    (``config.mode``); a mode object is returned as it is.  An unknown name is a
    ValueError listing the valid ones."""
    if orig_string is None:
        return predefined_modes[config.mode]
    if not isinstance(orig_string, str):
        return orig_string   # already a mode
    if orig_string == "Mode":
        return Mode()
    if orig_string.lower() == "nanguardmode":
        from aotsym.compile.nanguardmode import NanGuardMode
        return NanGuardMode(True, True, True)
    name = orig_string.upper() if orig_string.upper() in MODES else orig_string  # 'fast_run'
    return predefined_modes[normalize_mode(name)]


def get_default_mode():
    """The mode of ``config.mode`` (Theano's ``get_default_mode()``)."""
    return get_mode(None)
