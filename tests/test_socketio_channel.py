"""The guarded socket.io channel: the REST channel's checks, no joining an SMS conversation, a retry notice."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Dict, List, Tuple

import pytest
import socketio
from rasa.core.channels.channel import UserMessage

from bot.fallback import TRY_AGAIN
from bot.socketio_channel import REFUSED_EVENT, TOO_LONG, GuardedSocketIOInput
from tests.channel_server import serve_channel

SMS_ID = "sms:+8613800138000:0123456789abcdef01234567"


@pytest.fixture
async def sio_server() -> AsyncIterator[Tuple[str, List[UserMessage], Callable[[bool], None]]]:
    channel = GuardedSocketIOInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True})
    async with serve_channel(channel) as bot:
        yield bot.base_url, bot.received, lambda on: setattr(bot, "failing", on)


class Client:
    """A socket.io client that records what the server emits to it."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient()
        self.events: asyncio.Queue[Tuple[str, Any]] = asyncio.Queue()
        for event in ("session_confirm", "bot_uttered", REFUSED_EVENT):
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[[Any], Any]:
        async def record(data: Any) -> None:
            await self.events.put((event, data))
        return record

    async def next(self) -> Tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), 10)

    async def session(self, url: str, requested: Any = None) -> str:
        # long polling: engineio's websocket client wants aiohttp >= 3.10, and rasa pins < 3.10
        await self.sio.connect(url, transports=["polling"])
        await self.sio.emit("session_request", {"session_id": requested})
        event, session_id = await self.next()
        assert event == "session_confirm"
        return session_id


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    made = Client()
    yield made
    # also after a failed assertion; abort: not waiting out the server's pending long poll (25 s)
    await made.sio.eio.disconnect(abort=True)


async def test_a_plain_message_reaches_the_bot_and_the_reply_comes_back(sio_server, client: Client) -> None:
    url, received, _ = sio_server
    session_id = await client.session(url)
    await client.sio.emit("user_uttered", {"message": "你好", "session_id": session_id, "metadata": {"$where": "1"}})
    assert await client.next() == ("bot_uttered", {"text": "好的"})
    assert [(m.sender_id, m.text, m.input_channel, m.metadata) for m in received] == [
        (session_id, "你好", "socketio", None)]  # client metadata is not passed on


@pytest.mark.parametrize("requested", [SMS_ID, {"$gt": ""}, "web 1; drop", "x" * 200])
async def test_a_session_id_a_chat_client_may_not_use_is_replaced(sio_server, client: Client, requested: Any) -> None:
    url, received, _ = sio_server
    session_id = await client.session(url, requested)
    assert session_id != requested and len(session_id) == 32  # a fresh one: the SMS room stays closed


@pytest.mark.parametrize(("data", "status"), [
    ({"message": "上个月话费", "session_id": SMS_ID}, 400),
    ({"message": "hi", "session_id": {"$gt": ""}}, 400),
    ({"message": {"$ne": None}, "session_id": "web-1"}, 400),
    ({"message": "   ", "session_id": "web-1"}, 400),
    ({"message": "hi"}, 400),
    ("just a string", 400),
    ({"message": "长" * 1601, "session_id": "web-1"}, 413),
])
async def test_hostile_messages_are_refused_before_the_bot(sio_server, client: Client, data: Dict[str, Any],
                                                          status: int) -> None:
    url, received, _ = sio_server
    await client.session(url)
    await client.sio.emit("user_uttered", data)
    event, detail = await client.next()
    assert event == REFUSED_EVENT and detail["status"] == status and detail["error"]
    if status == 413:  # the customer sees why in the conversation too
        assert await client.next() == ("bot_uttered", {"text": TOO_LONG["zh"]})
    assert received == []


async def test_a_failure_inside_the_bot_gets_a_retry_notice(sio_server, client: Client) -> None:
    url, _, fail = sio_server
    fail(True)
    session_id = await client.session(url)
    await client.sio.emit("user_uttered", {"message": "what was our bill last month", "session_id": session_id})
    assert await client.next() == ("bot_uttered", {"text": TRY_AGAIN["en"]})
