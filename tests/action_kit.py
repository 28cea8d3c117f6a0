"""What the action tests share: the real domain, a fixed clock, services on the real mongod, and trackers
built as the action server builds them (with slots and events, a CollectingDispatcher, the real domain)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, AsyncIterator, Dict, List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.verification  # noqa: F401  (as the action server loads every action module: all answers register)
from actions.services import Services, use_services
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from localrun.twilio_emulator import TwilioEmulator
from tests import factories

SECRET = "test-sender-secret"
# Monday 23 Nov 2026, 10:00 in Shanghai: inside business hours.
MONDAY_10 = datetime(2026, 11, 23, 10, 0)


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return Domain.load("domain").as_dict()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_10)


@pytest.fixture
async def svc(db: Database, gateway: SmsGateway, clock: FixedClock) -> AsyncIterator[Services]:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    await db.customers.insert(factories.other_customer())
    await db.usage.upsert(factories.usage(month="2026-09", amount_fen=1000000))
    await db.usage.upsert(factories.usage(month="2026-10", amount_fen=1288800))
    await db.usage.upsert(factories.usage(customer_id="KA0000002", month="2026-10", amount_fen=99))
    services = Services(db, gateway, clock, Settings(sender_id_secret=SECRET, mongodb_uri="unused"))
    use_services(services)
    yield services
    use_services(None)


def tracker(*, slots: Optional[Dict[str, Any]] = None, intent: str = "", text: str = "",
            entities: Optional[List[Dict[str, Any]]] = None, sender: str = "chat-user-1",
            events: Optional[List[Dict[str, Any]]] = None, active_loop: Optional[str] = None,
            channel: str = "rest", after_user: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.99}, "entities": entities or [], "text": text}
    all_events = (list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
                  + list(after_user or []))
    return Tracker(sender, dict(slots or {}), latest, all_events, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


VERIFIED_A = {"verified": True, "customer_id": "KA0000001", "contact_id": "0000001-01", "language": "zh"}
VERIFIED_A_EN = {**VERIFIED_A, "contact_id": "0000001-02", "language": "en"}


async def run(action: Any, t: Tracker, domain: Dict[str, Any]) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, domain)
    return dispatcher.messages, events


def slots_of(events: list) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def only(messages: list) -> Dict[str, Any]:
    assert len(messages) == 1, messages
    return messages[0]


def code_sent_to(emu: TwilioEmulator, number: str) -> str:
    bodies = [m["body"] for m in emu.messages.values() if m["to"] == number]
    assert bodies, "no code was sent"
    return re.search(r"[0-9]{6}", bodies[-1]).group(0)
