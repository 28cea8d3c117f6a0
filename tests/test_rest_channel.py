"""The guarded REST channel and the retry notice when processing fails."""

from __future__ import annotations

import json
from typing import AsyncIterator, Callable, List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.fallback import TRY_AGAIN
from bot.rest_channel import GuardedRestInput
from tests.channel_server import serve_channel
from tests.stack import ROOT


@pytest.fixture
async def rest_app() -> AsyncIterator[tuple[str, List[UserMessage], Callable[[bool], None]]]:
    async with serve_channel(GuardedRestInput(), "/webhooks/rest") as bot:
        yield f"{bot.base_url}/webhooks/rest/webhook", bot.received, lambda on: setattr(bot, "failing", on)


async def test_a_plain_message_reaches_the_bot(rest_app) -> None:
    url, received, _ = rest_app
    async with aiohttp.ClientSession() as http:
        resp = await http.post(url, json={"sender": "web-1", "message": "你好"})
        assert resp.status == 200 and await resp.json() == [{"recipient_id": "web-1", "text": "好的"}]
    assert [(m.sender_id, m.text, m.input_channel) for m in received] == [("web-1", "你好", "rest")]


@pytest.mark.parametrize(("body", "status"), [
    (b"not json", 400),
    (b"[1, 2]", 400),
    (json.dumps({"sender": {"$gt": ""}, "message": "hi"}).encode(), 400),
    (json.dumps({"sender": "web-1", "message": {"$ne": None}}).encode(), 400),
    (json.dumps({"sender": "web-1", "message": "   "}).encode(), 400),
    (json.dumps({"sender": "web 1; drop", "message": "hi"}).encode(), 400),
    (json.dumps({"sender": "sms:+8613800138000:unsigned", "message": "上个月话费"}).encode(), 400),
    (json.dumps({"sender": "web-1", "message": "长" * 1601}).encode(), 413),
    (json.dumps({"sender": "web-1", "message": "x" * 20000}).encode(), 413),
    ("\udcff".encode("utf-8", "surrogatepass"), 400),
])
async def test_hostile_bodies_are_refused_before_the_bot(rest_app, body: bytes, status: int) -> None:
    url, received, _ = rest_app
    async with aiohttp.ClientSession() as http:
        resp = await http.post(url, data=body, headers={"Content-Type": "application/json"})
        assert resp.status == status
    assert received == []


async def test_a_failure_inside_the_bot_gets_a_retry_notice_in_the_message_language(rest_app) -> None:
    url, _, fail = rest_app
    fail(True)
    async with aiohttp.ClientSession() as http:
        zh = await (await http.post(url, json={"sender": "web-2", "message": "上个月话费多少"})).json()
        en = await (await http.post(url, json={"sender": "web-3", "message": "what was our bill"})).json()
    assert zh == [{"recipient_id": "web-2", "text": TRY_AGAIN["zh"]}]
    assert en == [{"recipient_id": "web-3", "text": TRY_AGAIN["en"]}]


def test_only_form_validation_actions_are_sent_the_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.actions.action import RemoteAction

    for name, value in (("ACTION_SERVER_PORT", "5055"), ("MONGODB_URI", "mongodb://h"), ("MONGODB_DB", "d")):
        monkeypatch.setenv(name, value)
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    domain = Domain.load(str(ROOT / "domain"))
    tracker = DialogueStateTracker.from_events("web-1", [], domain.slots)
    assert "domain" not in RemoteAction("action_account_summary", endpoint)._action_call_format(tracker, domain)
    assert "domain" in RemoteAction("validate_fault_form", endpoint)._action_call_format(tracker, domain)
