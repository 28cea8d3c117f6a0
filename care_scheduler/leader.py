"""One scheduler leader among the care services: a lease in MongoDB, taken, renewed and handed over.

APScheduler 3 cannot share a job store between processes (jobs would run twice or not at all), so each
care service keeps its own scheduler and starts it only while it holds the ``scheduler`` lease. The
lease is renewed every third of its time. A leader that cannot renew (MongoDB away, the process
stalled) stops its scheduler once its lease would have run out by its own reckoning, before another can
take the lease over; one that is killed is replaced when its lease expires. What the old leader left
half done is finished by the new one's catch-up, exactly once, through the sends' reservations (a run
a deposed leader still has in flight goes on, and cannot send what the new one sends).

Every instance, leader or not, serves the console, the status callbacks, the admin API and the pages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from typing import Callable, Optional

from carecore.repository.leases import LeaseRepository

log = logging.getLogger(__name__)

LEASE = "scheduler"


def instance_name() -> str:
    """Unique per process, readable in /healthz, the logs and the lease's document."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leadership:
    def __init__(self, leases: LeaseRepository, *, ttl_s: float, on_elected: Callable[[], None],
                 on_deposed: Callable[[], None], holder: Optional[str] = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.leases, self.ttl_s = leases, ttl_s
        self.on_elected, self.on_deposed = on_elected, on_deposed
        self.holder = holder or instance_name()
        self.monotonic = monotonic
        self.leading = False
        self._valid_until = 0.0  # by this process's clock: the lease surely holds until then
        self._task: Optional[asyncio.Task[None]] = None

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    async def tick(self) -> None:
        """One attempt to take or renew the lease, and the change of role it brings."""
        asked = self.monotonic()
        try:
            held = await asyncio.wait_for(self.leases.acquire(LEASE, self.holder, self.ttl_s), self.renew_every_s)
        except Exception as exc:  # MongoDB away or slow: keep leading only while the last lease surely runs
            log.warning("scheduler lease: %s", type(exc).__name__)
            held = None
        if held:
            self._valid_until = asked + self.ttl_s
            if not self.leading:
                self.leading = True
                log.info("%s is the scheduler leader", self.holder)
                self.on_elected()
        elif self.leading and (held is False or self.monotonic() >= self._valid_until - self.renew_every_s):
            self._step_down("lease taken over" if held is False else "lease could not be renewed")

    def _step_down(self, why: str) -> None:
        self.leading = False
        log.warning("%s stops scheduling: %s", self.holder, why)
        self.on_deposed()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every_s)
            await self.tick()

    async def start(self) -> None:
        """The first attempt now (a lone instance leads from its start), then every third of the lease."""
        await self.tick()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop renewing and give the lease up, so the next leader starts without waiting out the lease."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.leading:
            self._step_down("stopping")
            try:
                await asyncio.wait_for(self.leases.release(LEASE, self.holder), 2)
            except Exception:
                log.warning("could not release the scheduler lease; it expires in %ss", self.ttl_s)
