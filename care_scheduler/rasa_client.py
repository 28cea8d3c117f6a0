"""Rasa's HTTP API as the care service uses it: handing a paused conversation back to the assistant."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

# Rasa (Sanic) takes the conversation id from the path as it is written: keep ":" and "+" literal.
_ID_SAFE = "/:+@!$&'()*,;="
# The pause came right after the escalating action, before Rasa listened again: a ``resume`` alone
# leaves a history no rule knows (an action followed by a user turn), so listen first, as after any turn.
HAND_BACK_EVENTS: List[Dict[str, Any]] = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


class HandBackFailed(Exception):
    """Rasa did not take the conversation back: the escalation must stay open."""


class RasaClient:
    def __init__(self, base_url: str, token: Optional[str], session: aiohttp.ClientSession, *,
                 timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def hand_back(self, sender_id: str) -> None:
        """Resume the conversation ``sender_id`` (appending tracker events); raises ``HandBackFailed``."""
        url = f"{self.base_url}/conversations/{quote(sender_id, safe=_ID_SAFE)}/tracker/events"
        try:
            async with self._session.post(url, params=self._params, json=HAND_BACK_EVENTS,
                                          timeout=self._timeout) as resp:
                if resp.status == 200:
                    return
                raise HandBackFailed(f"Rasa answered HTTP {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HandBackFailed(f"Rasa unreachable: {exc}") from None
