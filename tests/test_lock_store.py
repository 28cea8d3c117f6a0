"""Rasa's lock store across servers: Rasa's own Redis store races, the product's does not."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

from bot.lock_store import AtomicRedisLockStore
from carecore.redis_url import redis_options
from localrun.mongod import free_port
from localrun.redis import EmbeddedRedis
from tests.stack import ROOT


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), free_port())
    yield server.start()
    server.stop()


class SlowReads:
    """Holds every lock read for a moment, as a busy Redis or a paused server would: the race window."""

    def get_lock(self, conversation_id: str):  # type: ignore[no-untyped-def]
        lock = super().get_lock(conversation_id)  # type: ignore[misc]
        time.sleep(0.05)
        return lock


def tickets_taken_at_once(store_class: type, url: str, conversation_id: str, servers: int = 4) -> List[int]:
    """Each 'server' has its own store and connection, as each Rasa replica does."""
    stores = [store_class(url=url) for _ in range(servers)]
    tickets: List[int] = []
    start = threading.Barrier(servers)

    def take(store: LockStore) -> None:
        start.wait()
        tickets.append(store.issue_ticket(conversation_id, 30))

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tickets


class RasasOwn(SlowReads, RedisLockStore):
    def __init__(self, url: str) -> None:
        super().__init__(**redis_options(url))


class Ours(SlowReads, AtomicRedisLockStore):
    pass


def test_rasas_redis_lock_store_hands_one_ticket_to_two_servers(redis_url: str) -> None:
    """Why the product replaces it: the read-modify-write lets two servers hold the same turn."""
    tickets = tickets_taken_at_once(RasasOwn, redis_url, "race-rasa")
    assert len(set(tickets)) < len(tickets)


def test_each_server_gets_its_own_ticket_in_order(redis_url: str) -> None:
    tickets = tickets_taken_at_once(Ours, redis_url, "race-ours")
    assert sorted(tickets) == [0, 1, 2, 3]
    lock = AtomicRedisLockStore(url=redis_url).get_lock("race-ours")
    assert lock is not None and [t.number for t in lock.tickets] == [0, 1, 2, 3]


async def test_two_servers_take_turns_on_one_conversation(redis_url: str) -> None:
    a, b = AtomicRedisLockStore(url=redis_url), AtomicRedisLockStore(url=redis_url)
    inside: List[str] = []
    overlaps = 0

    async def turn(store: LockStore, name: str) -> None:
        nonlocal overlaps
        async with store.lock("turns", lock_lifetime=10, wait_time_in_seconds=0.01):
            overlaps += bool(inside)
            inside.append(name)
            await asyncio.sleep(0.02)
            inside.remove(name)

    await asyncio.gather(*(turn(a if i % 2 else b, f"t{i}") for i in range(10)))
    assert overlaps == 0
    assert a.get_lock("turns") is None  # the last turn out deleted the lock


def test_an_expired_ticket_no_longer_blocks_the_conversation(redis_url: str) -> None:
    """A server killed mid-turn leaves its ticket; once it expires the next turn goes ahead."""
    store = AtomicRedisLockStore(url=redis_url)
    dead = store.issue_ticket("killed", 0.05)
    waiting = store.issue_ticket("killed", 30)
    assert store.get_lock("killed").is_locked(waiting)  # type: ignore[union-attr]
    time.sleep(0.1)
    store.update_lock("killed")
    lock = store.get_lock("killed")
    assert lock is not None and not lock.is_locked(waiting) and dead not in [t.number for t in lock.tickets]


def test_an_unreachable_redis_fails_within_the_timeout() -> None:
    store = AtomicRedisLockStore(url=f"redis://127.0.0.1:{free_port()}/1", socket_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(LockError):
        store.issue_ticket("nobody-home")
    assert time.monotonic() - started < 2


def test_a_hung_redis_fails_within_the_timeout(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, free_port())
    url = server.start()
    store = AtomicRedisLockStore(url=url, socket_timeout=0.5)
    store.issue_ticket("hung", 10)
    assert server.process is not None
    server.process.send_signal(19)  # SIGSTOP: connected, never answering
    try:
        started = time.monotonic()
        with pytest.raises(LockError):
            store.issue_ticket("hung", 10)
        assert time.monotonic() - started < 2
    finally:
        server.process.send_signal(18)  # SIGCONT
        server.stop()


@pytest.mark.parametrize("url", ["http://h:1/1", "redis://h:1/zero", "redis:///1"])
def test_a_lock_store_url_that_is_not_redis_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        redis_options(url)


def test_redis_url_parts() -> None:
    assert redis_options("redis://:s%40cret@10.0.0.5:6390/2") == {
        "host": "10.0.0.5", "port": 6390, "db": 2, "password": "s@cret", "use_ssl": False}


@pytest.mark.parametrize(("kind", "url", "expected"), [
    ("in_memory", "", InMemoryLockStore),
    ("bot.lock_store.AtomicRedisLockStore", "redis://127.0.0.1:{port}/1", AtomicRedisLockStore),
])
def test_endpoints_choose_the_lock_store_from_the_environment(kind: str, url: str, expected: type,
                                                              redis_url: str, endpoints_env: pytest.MonkeyPatch) -> None:
    endpoints_env.setenv("LOCK_STORE_TYPE", kind)
    endpoints_env.setenv("LOCK_STORE_URL", url.format(port=redis_options(redis_url)["port"]))
    store = LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))
    assert type(store) is expected
    if isinstance(store, AtomicRedisLockStore):
        assert store.red.connection_pool.connection_kwargs["socket_timeout"] == 0.5
