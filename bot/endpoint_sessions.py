"""Rasa's calls to the action server over kept-alive connections: one HTTP session per event loop.

Rasa 3.6 opens a new aiohttp session, and a new TCP connection, for every action call, paid for on the
server's one event loop. Idle connections are dropped after ``IDLE_S``, before the action server's
Sanic closes its end, so a POST never goes out on a closing connection. Installed by
``bot.rasa_compat`` for ``python -m bot run`` only; ``close_all`` runs when the server stops.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Dict, Optional, Tuple

import aiohttp
from rasa.utils import endpoints
from rasa.utils.endpoints import EndpointConfig

IDLE_S = 2.0

_Key = Tuple[Tuple[Tuple[str, Any], ...], Tuple[Tuple[str, Any], ...]]
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[_Key, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary())
ORIGINAL = EndpointConfig.session


class _Kept:
    """A shared session in the shape of a new one: ``async with`` gives it, and leaving does not close it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def _key(config: EndpointConfig) -> Optional[_Key]:
    try:
        key = (tuple(sorted(config.headers.items())), tuple(sorted(config.basic_auth.items())))
        hash(key)
    except TypeError:  # values that cannot key a session: Rasa's own session, as before
        return None
    return key


def shared_session(self: EndpointConfig) -> Any:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not in a coroutine: nothing to share with
        return ORIGINAL(self)
    key = _key(self)
    if key is None:
        return ORIGINAL(self)
    per_loop = _sessions.setdefault(loop, {})
    session = per_loop.get(key)
    if session is None or session.closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(headers=self.headers, auth=auth,
                                        timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
                                        connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_S))
        per_loop[key] = session
    return _Kept(session)


async def close_all() -> None:
    """Close the running loop's shared sessions (the Rasa server stopping)."""
    for session in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()

