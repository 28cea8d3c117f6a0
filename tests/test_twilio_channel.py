"""The Twilio SMS input channel: signature check, input validation, replies via the gateway."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Awaitable, Callable, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.twilio_channel import WEBHOOK_PATH, TwilioSmsInput
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.identity import sms_sender_id
from carecore.repository import Database
from carecore.sms import signature
from carecore.sms.gateway import SmsGateway
from localrun.mongod import free_port
from tests import factories

SECRET = "channel-secret"


@asynccontextmanager
async def serving(gateway: SmsGateway, auth_token: str, on_new_message: Callable[[UserMessage], Awaitable[None]],
                  clock: Optional[FixedClock] = None) -> AsyncIterator[str]:
    """The channel on a free port, answering with ``on_new_message``; yields the webhook's URL."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = Settings(twilio_auth_token=auth_token, bot_public_url=public, sender_id_secret=SECRET)
    channel = TwilioSmsInput(settings=settings, gateway=gateway, clock=clock)
    Sanic.test_mode = True
    app = Sanic(f"twilio_sms_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/twilio_sms")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        yield public + WEBHOOK_PATH
    finally:
        await server.close()


@pytest.fixture
async def channel_app(gateway: SmsGateway, auth_token: str) -> AsyncIterator[tuple[str, str, list]]:
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, "您好，已收到您的消息。")
        await message.output_channel.send_text_message(message.sender_id, "Second part")

    async with serving(gateway, auth_token, on_new_message) as url:
        yield url, auth_token, received


def signed(token: str, url: str, params: dict) -> dict:
    return {signature.HEADER: signature.sign(token, url, params)}


# As Twilio posts it: the sender's city, state and zip are blank for most numbers, and signed all the same.
INBOUND = {"MessageSid": "SMin0001", "From": "+8613800138000", "To": "+8610690000", "Body": "我们的专线又down了",
           "AccountSid": "AC" + "1" * 32, "FromCity": "", "FromState": "", "FromZip": "", "FromCountry": "CN",
           "NumMedia": "0", "NumSegments": "1"}


async def test_signed_sms_reaches_the_bot_and_replies_go_through_the_gateway(channel_app, emulator) -> None:
    url, token, received = channel_app
    emu, _ = emulator
    async with aiohttp.ClientSession() as http:
        resp = await http.post(url, data=INBOUND, headers=signed(token, url, INBOUND))
        assert resp.status == 200 and "<Response>" in await resp.text()
        assert len(received) == 1
        message = received[0]
        assert message.text == "我们的专线又down了" and message.input_channel == "twilio_sms"
        assert message.sender_id == sms_sender_id("+8613800138000", SECRET)
        replies = [m for m in emu.messages.values() if m["to"] == "+8613800138000"]
        assert [r["body"] for r in replies] == ["【中国电信】您好，已收到您的消息。\nSecond part"]  # one SMS per turn
        # Twilio delivering the same webhook twice is answered once.
        resp = await http.post(url, data=INBOUND, headers=signed(token, url, INBOUND))
        assert resp.status == 200 and len(received) == 1 and emu.stats.create_requests == 1


@pytest.mark.parametrize("headers", [
    {},
    {signature.HEADER: "bm90IGEgc2lnbmF0dXJl"},
])
async def test_unsigned_or_forged_requests_get_403(channel_app, headers) -> None:
    url, _, received = channel_app
    async with aiohttp.ClientSession() as http:
        resp = await http.post(url, data=INBOUND, headers=headers)
    assert resp.status == 403 and received == []


async def test_signature_over_other_params_or_url_or_token_gets_403(channel_app) -> None:
    url, token, received = channel_app
    tampered = {**INBOUND, "From": "+8613900139000"}
    async with aiohttp.ClientSession() as http:
        assert (await http.post(url, data=tampered, headers=signed(token, url, INBOUND))).status == 403
        assert (await http.post(url, data=INBOUND, headers=signed(token, url + "x", INBOUND))).status == 403
        assert (await http.post(url, data=INBOUND, headers=signed("wrong", url, INBOUND))).status == 403
        assert (await http.post(url, json=INBOUND, headers=signed(token, url, INBOUND))).status == 403
    assert received == []


async def test_missing_body_or_from_gets_400(channel_app) -> None:
    url, token, received = channel_app
    no_body = {k: v for k, v in INBOUND.items() if k != "Body"}
    blank_body = {**INBOUND, "Body": "  "}  # neither words nor a picture
    bad_from = {**INBOUND, "From": "not-a-number"}
    async with aiohttp.ClientSession() as http:
        assert (await http.post(url, data=no_body, headers=signed(token, url, no_body))).status == 400
        assert (await http.post(url, data=blank_body, headers=signed(token, url, blank_body))).status == 400
        assert (await http.post(url, data=bad_from, headers=signed(token, url, bad_from))).status == 400
    assert received == []


@pytest.mark.parametrize("sender, words", [("+8613800138000", "【中国电信】抱歉，我们暂时只能读取文字"),  # 王伟, zh
                                            ("+8613900139000", "Sorry, we can only read text"),  # David Chen, en
                                            ("+8613700137000", "【中国电信】抱歉，我们暂时只能读取文字")])  # unknown
async def test_a_picture_without_words_is_asked_for_words_once(channel_app, emulator, db: Database,
                                                                sender: str, words: str) -> None:
    url, token, received = channel_app
    emu, _ = emulator
    await db.customers.insert(factories.customer())
    picture = {**INBOUND, "From": sender, "Body": "", "NumMedia": "1", "MediaUrl0": "https://example.com/router.jpg",
               "MediaContentType0": "image/jpeg"}
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # Twilio delivering it twice is answered once
            assert (await http.post(url, data=picture, headers=signed(token, url, picture))).status == 200
    assert received == []  # nothing for the assistant to read
    bodies = [m["body"] for m in emu.messages.values() if m["to"] == sender]
    assert len(bodies) == 1 and bodies[0].startswith(words)


async def test_messages_without_a_message_sid_are_each_answered(channel_app, emulator) -> None:
    """Nothing to tell a second delivery from a second message by, so each is answered: silence is worse."""
    url, token, received = channel_app
    emu, _ = emulator
    words = {k: v for k, v in INBOUND.items() if k != "MessageSid"}
    picture = {**words, "Body": "", "NumMedia": "1"}
    async with aiohttp.ClientSession() as http:
        for params in (words, words, picture, picture):
            assert (await http.post(url, data=params, headers=signed(token, url, params))).status == 200
    assert len(received) == 2
    assert len([m for m in emu.messages.values() if m["to"] == INBOUND["From"]]) == 4


async def test_oversized_body_gets_413(channel_app) -> None:
    url, token, received = channel_app
    big = {**INBOUND, "Body": "x" * 20_000}
    async with aiohttp.ClientSession() as http:
        assert (await http.post(url, data=big, headers=signed(token, url, big))).status == 413
    assert received == []


async def test_a_failure_inside_the_bot_is_answered_inline_without_the_database(gateway: SmsGateway, auth_token: str,
                                                                                emulator) -> None:
    emu, _ = emulator

    async def on_new_message(message: UserMessage) -> None:
        raise ConnectionError("MongoDB is away")

    async with serving(gateway, auth_token, on_new_message) as url, aiohttp.ClientSession() as http:
        resp = await http.post(url, data=INBOUND, headers=signed(auth_token, url, INBOUND))
        text = await resp.text()
    assert resp.status == 200
    assert "<Message>【中国电信】抱歉，系统暂时繁忙" in text and text.endswith("热线10000。</Message></Response>")
    assert emu.stats.create_requests == 0  # TwiML answers inline: nothing through the gateway


def test_replies_carry_the_signature_once_and_no_other_brackets() -> None:
    channel = TwilioSmsInput(settings=Settings(sms_signature="【中国电信】"))
    assert channel._signed("请确认投诉内容：【紧急】断网") == "【中国电信】请确认投诉内容：[紧急]断网"
    assert channel._signed("Your ticket 【FT-1】") == "Your ticket [FT-1]"
    chased = "I've chased FT-20261205-0008 with your account manager 蔡然远, who will follow up as soon as possible."
    assert channel._signed(chased) == chased
    assert channel._signed("电路SH-155M-0000001-1状态正常").startswith("【中国电信】")


@pytest.mark.parametrize("callback_asked, promise", [(False, "将在12月7日09:30前与您联系"),
                                                      (True, "将按约定在12月7日09:30与您联系")])  # the customer's time
async def test_a_message_to_a_conversation_waiting_for_its_manager_is_acknowledged_once(
        gateway: SmsGateway, db: Database, auth_token: str, emulator, callback_asked: bool, promise: str) -> None:
    emu, _ = emulator
    now = datetime(2026, 12, 5, 14, 52, tzinfo=timezone.utc)  # Saturday 22:52 in Shanghai
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.escalations.create({
        "_id": "ES-20261205-0001", "customer_id": "KA0000001", "contact_id": "0000001-01", "manager_id": "AM-CZJ01",
        "sender_id": sms_sender_id("+8613800138000", SECRET), "reason": "request_human", "summary": "转人工",
        "contact_by": datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc), "callback_asked": callback_asked,
        "created_at": now, "updated_at": now})

    async def paused(message: UserMessage) -> None:  # Rasa says nothing in a paused conversation
        pass

    clock = FixedClock(now)
    async with serving(gateway, auth_token, paused, clock) as url, aiohttp.ClientSession() as http:
        for sid, minutes in (("SMw1", 0), ("SMw2", 5)):
            clock.set(now + timedelta(minutes=minutes))
            inbound = {**INBOUND, "MessageSid": sid, "Body": "我要投诉"}
            assert (await http.post(url, data=inbound, headers=signed(auth_token, url, inbound))).status == 200
    bodies = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    assert bodies == [f"【中国电信】您的消息已收到，客户经理林海燕{promise}。紧急情况请直接致电139 2000 0001。"]
