"""The event loop of the care scheduler's long-running commands and the Twilio emulator: uvloop's."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


LOOPS = ("uvloop", "asyncio")


def use_uvloop(loop: str = "uvloop") -> bool:
    """Make every event loop this process creates from now on a uvloop loop (``CARE_EVENT_LOOP``); True if it does.

    Why: once the JIT (``carecore/jit.py``) had made their Python code faster, asyncio's own
    loop, written in Python, was a larger share of what a campaign and the emulator spend per
    message. uvloop (libuv, in C; already installed, since Sanic requires it) took about a tenth
    off both in alternating 20,000-contact campaigns, and raised the rate by 3 to 19 %
    (README, Measured). Sessions before the JIT had measured no difference.

    Call it before ``asyncio.run`` or ``web.run_app``: both create their loop through the policy.
    ``CARE_EVENT_LOOP=asyncio`` keeps asyncio's own loop, to compare or to rule uvloop out.
    """
    if loop not in LOOPS:
        raise ValueError(f"CARE_EVENT_LOOP must be one of {', '.join(LOOPS)}, not {loop!r}")
    if loop == "asyncio":
        return False
    try:
        import uvloop
    except ImportError:
        log.warning("uvloop is not installed: asyncio's own event loop")
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
