"""The Twilio SMS input channel: signature check, input validation, replies via the gateway."""

from __future__ import annotations

import uuid
from typing import AsyncIterator

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.twilio_channel import WEBHOOK_PATH, TwilioSmsInput
from carecore.config import Settings
from carecore.identity import sms_sender_id
from carecore.sms import signature
from carecore.sms.gateway import SmsGateway
from localrun.mongod import free_port

SECRET = "channel-secret"


@pytest.fixture
async def channel_app(gateway: SmsGateway, auth_token: str) -> AsyncIterator[tuple[str, str, list]]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = Settings(twilio_auth_token=auth_token, bot_public_url=public, sender_id_secret=SECRET)
    channel = TwilioSmsInput(settings=settings, gateway=gateway)
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, "您好，已收到您的消息。")
        await message.output_channel.send_text_message(message.sender_id, "Second part")

    Sanic.test_mode = True
    app = Sanic(f"twilio_sms_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/twilio_sms")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    yield public + WEBHOOK_PATH, auth_token, received
    await server.close()


def signed(token: str, url: str, params: dict) -> dict:
    return {signature.HEADER: signature.sign(token, url, params)}


INBOUND = {"MessageSid": "SMin0001", "From": "+8613800138000", "To": "+8610690000", "Body": "我们的专线又down了",
           "AccountSid": "AC" + "1" * 32}


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
    bad_from = {**INBOUND, "From": "not-a-number"}
    async with aiohttp.ClientSession() as http:
        assert (await http.post(url, data=no_body, headers=signed(token, url, no_body))).status == 400
        assert (await http.post(url, data=bad_from, headers=signed(token, url, bad_from))).status == 400
    assert received == []


async def test_oversized_body_gets_413(channel_app) -> None:
    url, token, received = channel_app
    big = {**INBOUND, "Body": "x" * 20_000}
    async with aiohttp.ClientSession() as http:
        assert (await http.post(url, data=big, headers=signed(token, url, big))).status == 413
    assert received == []


async def test_a_failure_inside_the_bot_is_answered_inline_without_the_database(gateway: SmsGateway, auth_token: str,
                                                                                emulator) -> None:
    emu, _ = emulator
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    channel = TwilioSmsInput(settings=Settings(twilio_auth_token=auth_token, bot_public_url=public,
                                               sender_id_secret=SECRET), gateway=gateway)

    async def on_new_message(message: UserMessage) -> None:
        raise ConnectionError("MongoDB is away")

    Sanic.test_mode = True
    app = Sanic(f"twilio_sms_fail_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/twilio_sms")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        url = public + WEBHOOK_PATH
        async with aiohttp.ClientSession() as http:
            resp = await http.post(url, data=INBOUND, headers=signed(auth_token, url, INBOUND))
            text = await resp.text()
    finally:
        await server.close()
    assert resp.status == 200
    assert "<Message>【中国电信】抱歉，系统暂时繁忙" in text and text.endswith("</Message></Response>")
    assert emu.stats.create_requests == 0  # TwiML answers inline: nothing through the gateway


def test_replies_carry_the_signature_once_and_no_other_brackets() -> None:
    channel = TwilioSmsInput(settings=Settings(sms_signature="【中国电信】"))
    assert channel._signed("请确认投诉内容：【紧急】断网") == "【中国电信】请确认投诉内容：[紧急]断网"
    assert channel._signed("Your ticket 【FT-1】") == "Your ticket [FT-1]"
    chased = "I've chased FT-20261205-0008 with your account manager 蔡然远, who will follow up as soon as possible."
    assert channel._signed(chased) == chased
    assert channel._signed("电路SH-155M-0000001-1状态正常").startswith("【中国电信】")
