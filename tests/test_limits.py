"""Attempts limited per key in a sliding window, counted in MongoDB (failed console logins, anonymous chats)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

from carecore.limits import WindowLimiter
from carecore.repository import Database


async def test_attempts_are_counted_in_mongodb_over_a_sliding_window(db: Database) -> None:
    """A restart (a new limiter) keeps the count; failures older than the window stop counting; they expire."""
    limiter = WindowLimiter(3)
    attempts = db.attempts
    start = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
    account, address = "login:id:AM-CZJ01", "login:ip:10.0.0.7"

    async def stored(key: str) -> List[Dict[str, Any]]:
        return await db._db.attempts.find({"key": key}).to_list(None)

    for minute in range(3):  # three wrong passwords: each admitted attempt stays as its failure
        assert await limiter.admit(attempts, start + timedelta(minutes=minute), account, address)
    after_restart = WindowLimiter(3)
    assert not await after_restart.admit(attempts, start + timedelta(minutes=3), account)
    assert not await after_restart.admit(attempts, start + timedelta(minutes=3), "login:id:AM-CSH01", address)
    assert len(await stored(account)) == 3 and not await stored("login:id:AM-CSH01")  # refused: taken back
    assert await after_restart.admit(attempts, start + timedelta(minutes=3), "login:id:AM-CSH02", "login:ip:10.0.0.8")
    # the first failure leaves the window 15 minutes after it: two left, and room for this one
    assert not await after_restart.admit(attempts, start + timedelta(minutes=14, seconds=59), account)
    assert await after_restart.admit(attempts, start + timedelta(minutes=15, seconds=1), account)
    assert len(await stored(account)) == 4
    assert all(doc["expires_at"] > datetime.now(timezone.utc) for doc in await stored(account))
    ttl = (await db._db.attempts.index_information())["ttl"]
    assert ttl["key"] == [("expires_at", 1)] and ttl["expireAfterSeconds"] == 0
    await after_restart.clear(attempts, account, address)
    assert not await stored(account) and not await stored(address)
    assert await after_restart.admit(attempts, start + timedelta(minutes=16), account, address)


async def test_attempts_made_at_once_are_not_all_admitted(db: Database) -> None:
    """Twenty wrong passwords in parallel: no more than the limit get as far as the password check."""
    limiter = WindowLimiter(3)
    now = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
    keys = ("login:id:AM-CZJ01", "login:ip:10.0.0.9")
    admitted = await asyncio.gather(*(limiter.admit(db.attempts, now, *keys) for _ in range(20)))
    assert sum(admitted) <= 3
    left = await db.attempts.counts_since(keys, now - limiter.window)
    assert left.get(keys[0], 0) == left.get(keys[1], 0) == sum(admitted)  # the refused took theirs back
    if sum(admitted) == 3:
        assert not await limiter.admit(db.attempts, now, *keys)
