"""The long-running commands' event loop: uvloop's once asked for, asyncio's where uvloop is missing."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from pydantic import ValidationError

from carecore.config import PROJECT_ROOT, Settings
from carecore.event_loop import use_uvloop

PROBE = """
import asyncio
from carecore.event_loop import use_uvloop

async def main():
    await asyncio.sleep(0.01)  # a timer, through the loop the policy made
    return type(asyncio.get_running_loop()).__module__

before = type(asyncio.new_event_loop()).__module__
kept = use_uvloop("asyncio"), asyncio.run(main())
print(before, *kept, use_uvloop(), asyncio.run(main()))
"""


def test_loops_made_afterwards_are_uvloop_loops() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          check=True, timeout=60)
    assert done.stdout.split() == ["asyncio.unix_events", "False", "asyncio.unix_events", "True", "uvloop"]


def test_only_known_loops_are_accepted() -> None:
    with pytest.raises(ValidationError, match="CARE_EVENT_LOOP"):
        Settings(care_event_loop="trio")
    with pytest.raises(ValueError, match="CARE_EVENT_LOOP"):
        use_uvloop("trio")
    assert Settings().care_event_loop == "uvloop"


def test_without_uvloop_asyncio_keeps_its_own_loop(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with caplog.at_level(logging.WARNING, logger="carecore.event_loop"):
        assert use_uvloop() is False
    assert "not installed" in caplog.text
