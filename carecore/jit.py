"""The JIT switch: whether a process runs its Python code under pyston-lite (``CARE_JIT``)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

MODES = ("pyston", "off")


def checked_mode(mode: str) -> str:
    """``mode`` if it is one of ``MODES``; the one check Settings and ``enable_jit`` both make."""
    if mode not in MODES:
        raise ValueError(f"CARE_JIT must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def enable_jit(mode: str) -> bool:
    """Run this process's Python code under the pyston-lite JIT (``CARE_JIT=pyston``); True if it now does.

    Why: a campaign's sending is mostly pure-Python library code (aiohttp, twilio-python),
    and this project's interpreter, pyenv's Python 3.10 built without PGO or LTO, runs it
    slowly. Rasa pins 3.10, so a faster CPython is not an option. pyston-lite replaces the
    interpreter's bytecode loop with a JIT, in the same process and the same environment:
    in alternating 20,000-contact campaigns it cut the campaign's and the emulator's CPU per
    message by about a sixth, and on 100,000 contacts by about a tenth (README, Measured).

    The catch: pyston-lite 2.3.5 (September 2022) is its last release, its project is no
    longer developed, and it exists for Linux x86_64 only. So it is a switch, off with
    ``CARE_JIT=off``; where the package is missing the process logs why and runs as plain
    CPython. Only the care scheduler's long-running commands and the Twilio emulator
    turn it on; the assistant (Rasa, TensorFlow) never does.
    """
    if checked_mode(mode) == "off":
        return False
    try:
        import pyston_lite  # type: ignore[import-not-found]
    except ImportError:
        log.warning("CARE_JIT=%s, but pyston-lite is not installed (Linux x86_64 only): plain CPython", mode)
        return False
    pyston_lite.enable()
    return True
