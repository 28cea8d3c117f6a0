"""The socket.io channel: a socket speaks only for the session its token opened, until it expires."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, AsyncIterator, Callable, Dict, Optional, Tuple

import pytest
import socketio

from bot.fallback import TRY_AGAIN
from bot.socketio_channel import REFUSED_EVENT, TOO_LONG, GuardedSocketIOInput
from carecore.repository import Database
from tests import chat_tokens, factories
from tests.channel_server import StandInBot, serve_channel

SMS_ID = "sms:+8613800138000:0123456789abcdef01234567"


@pytest.fixture
async def sio_server(db: Database) -> AsyncIterator[Tuple[GuardedSocketIOInput, StandInBot]]:
    channel = GuardedSocketIOInput("user_uttered", "bot_uttered", jwt_key=chat_tokens.KEY,
                                   settings=chat_tokens.settings(), clock=chat_tokens.clock(), db=db)
    async with serve_channel(channel) as bot:
        yield channel, bot


def token_for(channel: GuardedSocketIOInput, conversation_id: str = "chat:alice") -> str:
    return channel.tokens.issue(conversation_id, channel.clock.now())[0]


class Client:
    """A socket.io client that records what the server emits to it."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient()
        self.events: asyncio.Queue[Tuple[str, Any]] = asyncio.Queue()
        for event in ("session_confirm", "bot_uttered", REFUSED_EVENT, "connect_error"):
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[[Any], Any]:
        async def record(data: Any) -> None:
            await self.events.put((event, data))
        return record

    async def next(self) -> Tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), 10)

    async def connect(self, url: str, token: Optional[str], *, wait: bool = True) -> None:
        # long polling: engineio's websocket client wants aiohttp >= 3.10, and rasa pins < 3.10
        await self.sio.connect(url, transports=["polling"], auth={"token": token} if token else None, wait=wait)

    async def session(self, url: str, token: str, requested: Any = None) -> str:
        await self.connect(url, token)
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


async def test_a_message_reaches_the_conversation_of_the_sockets_token(sio_server, client: Client) -> None:
    channel, bot = sio_server
    session_id = await client.session(bot.base_url, token_for(channel), requested="chat:alice")
    assert session_id == "chat:alice"
    await client.sio.emit("user_uttered", {"message": "你好", "session_id": session_id, "metadata": {"$where": "1"}})
    assert await client.next() == ("bot_uttered", {"text": "好的"})
    await client.sio.emit("user_uttered", {"message": "hi"})  # the token says which conversation
    assert await client.next() == ("bot_uttered", {"text": "好的"})
    assert [(m.sender_id, m.text, m.input_channel, m.metadata) for m in bot.received] == [
        ("chat:alice", "你好", "socketio", None), ("chat:alice", "hi", "socketio", None)]  # client metadata dropped


@pytest.mark.parametrize("kind", ["missing", "forged", "expired"])
async def test_a_connection_without_a_valid_token_is_refused(sio_server, client: Client, kind: str) -> None:
    channel, bot = sio_server
    token = {"missing": None, "expired": token_for(channel),
             "forged": chat_tokens.signed({"sub": "chat:alice", "iss": "keycare-chat", "exp": 2**40}, key="x" * 32)}[kind]
    if kind == "expired":
        channel.clock.advance(timedelta(minutes=61))
    # not waiting: after a refusal the client would wait out its pending long poll (30 s)
    await client.connect(bot.base_url, token, wait=False)
    event, detail = await client.next()
    assert event == "connect_error" and detail["data"] == {"status": 401} and detail["message"]
    assert bot.received == []


@pytest.mark.parametrize("foreign", [SMS_ID, "chat:bob", {"$gt": ""}])
async def test_a_socket_cannot_join_or_speak_for_another_conversation(sio_server, client: Client, foreign: Any) -> None:
    channel, bot = sio_server
    await client.connect(bot.base_url, token_for(channel))
    await client.sio.emit("session_request", {"session_id": foreign})
    event, detail = await client.next()
    assert event == REFUSED_EVENT and detail["status"] == 401
    await client.sio.emit("user_uttered", {"message": "上个月话费", "session_id": foreign})
    event, detail = await client.next()
    assert event == REFUSED_EVENT and detail["status"] == 401
    assert bot.received == []


async def test_a_token_that_expires_while_connected_is_refused_on_the_next_message(sio_server, client: Client) -> None:
    channel, bot = sio_server
    session_id = await client.session(bot.base_url, token_for(channel))
    channel.clock.advance(timedelta(minutes=60))
    await client.sio.emit("user_uttered", {"message": "上个月话费", "session_id": session_id})
    event, detail = await client.next()
    assert event == REFUSED_EVENT and detail["status"] == 401
    assert bot.received == []


@pytest.mark.parametrize(("data", "status"), [
    ({"message": {"$ne": None}}, 400),
    ({"message": "   "}, 400),
    ({"session_id": "chat:alice"}, 400),
    ("just a string", 400),
    ({"message": "长" * 1601}, 413),
])
async def test_hostile_messages_are_refused_before_the_bot(sio_server, client: Client, data: Dict[str, Any],
                                                          status: int) -> None:
    channel, bot = sio_server
    await client.session(bot.base_url, token_for(channel))
    await client.sio.emit("user_uttered", data)
    event, detail = await client.next()
    assert event == REFUSED_EVENT and detail["status"] == status and detail["error"]
    if status == 413:  # the customer sees why in the conversation too
        assert await client.next() == ("bot_uttered", {"text": TOO_LONG["zh"]})
    assert bot.received == []


async def test_a_failure_inside_the_bot_gets_a_retry_notice(sio_server, client: Client) -> None:
    channel, bot = sio_server
    bot.failing = True
    session_id = await client.session(bot.base_url, token_for(channel))
    await client.sio.emit("user_uttered", {"message": "what was our bill last month", "session_id": session_id})
    assert await client.next() == ("bot_uttered", {"text": TRY_AGAIN["en"].format(hotline="10000")})


async def test_a_message_to_a_conversation_waiting_for_its_manager_is_acknowledged(sio_server, client: Client,
                                                                                   db: Database) -> None:
    channel, bot = sio_server
    bot.paused = True
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    now = channel.clock.now()
    await db.escalations.create({
        "_id": "ES-20261205-0001", "customer_id": "KA0000001", "contact_id": "0000001-01", "manager_id": "AM-CZJ01",
        "sender_id": "chat:alice", "reason": "request_human", "summary": "转人工",
        "contact_by": now + timedelta(hours=2), "created_at": now, "updated_at": now})
    session_id = await client.session(bot.base_url, token_for(channel))
    await client.sio.emit("user_uttered", {"message": "OK", "session_id": session_id})  # a Chinese contact's OK
    event, said = await client.next()
    assert event == "bot_uttered" and said["text"].startswith("您的消息已收到，客户经理林海燕将在")
