"""When a circuit was last down: the latest fault, asked of the SLA answer ("when was it last down?")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict

import pytest

from actions import account
from actions.fault_history import LATEST_ASKED
from actions.services import Services
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, slots_of, tracker

# The clock: 23 Nov 2026 10:00 in Shanghai.
AT = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
LATE = {"response_due": AT + timedelta(hours=2), "restore_due": AT + timedelta(hours=4), "responded_at": AT,
        "restored_at": AT + timedelta(hours=6, minutes=5)}


def rendered(domain: Dict[str, Any], message: Dict[str, Any], lang: str) -> str:
    [text] = [v["text"] for v in domain["responses"][message["response"]] if bool(v.get("condition")) == (lang == "en")]
    return text.format(**{k: v for k, v in message.items() if k != "response"})


async def ask(domain: Dict[str, Any], text: str, slots: Dict[str, Any] = VERIFIED_A) -> Dict[str, Any]:
    messages, events = await run(account.ActionSla(), tracker(slots=slots, intent="ask_sla", text=text), domain)
    assert slots_of(events) == {"month": None}
    return only(messages)


@pytest.mark.parametrize("text", ["上次断网是什么时候", "最近一次故障是哪天", "第二条最后一次出故障是几号",
                                  "when was it last down?", "when did our line last go down",
                                  "how long was the last outage", "most recent fault on circuit 2?",
                                  "how long was it down?", "这次断了多长时间"])
def test_a_question_of_the_latest_fault_is_told_from_words(text: str) -> None:
    assert LATEST_ASKED.search(text)


@pytest.mark.parametrize("text", ["上个月断过几次", "我们的SLA是什么", "how many outages did we have last month",
                                  "did you meet the SLA last month", "what's the restore time",
                                  "断网多久给修好", "how long will it be down?"])
def test_a_months_record_or_the_terms_are_not_the_latest_fault(text: str) -> None:
    assert not LATEST_ASKED.search(text)


async def test_the_latest_fault_with_its_outage_and_how_it_fared(svc: Services, domain) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    for ticket_id, created, fields in (
            ("FT-20251203-0001", datetime(2025, 12, 3, 1, 0, tzinfo=timezone.utc),  # last year's, on circuit 2
             {"circuit_id": "ZJ-LL-0000001-2", "status": "resolved", "resolved_at": datetime(2025, 12, 3, 2, 30,
                                                                                            tzinfo=timezone.utc)}),
            ("FT-20261101-0001", datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc),
             {"status": "resolved", "resolved_at": datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)}),
            ("FT-20261110-0001", AT, {"status": "resolved", "sla": LATE, "resolved_at": AT + timedelta(hours=7),
                                      "compensation": {"decided_at": AT + timedelta(hours=8), "credit_fen": 50000,
                                                       "notice_key": "comp:FT-20261110-0001"}}),
            # withdrawn as a false alarm: closed with no restore, so nothing was down
            ("FT-20261120-0001", datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc), {"status": "closed"}),
            ("CP-20261121-0001", datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc),
             {"kind": "complaint", "circuit_id": None}),
            ("FT-20261122-0001", datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc),
             {"customer_id": "KA0000002", "circuit_id": "SH-155M-0000002-1"})):  # another customer's
        await svc.db.tickets.create(factories.ticket(_id=ticket_id, created_at=created, updated_at=created, **fields))
    m = await ask(domain, "上次断网是什么时候")
    assert rendered(domain, m, "zh") == (
        "最近一次报障：1. ZJ-2M-0000001-1 2M数字电路，工单FT-20261110-0001，11月10日10:00报障，11月10日16:05修复"
        "（中断6小时5分钟），超出时限，已补偿500.00元。")  # the outage ends at the restore, not the resolution
    m = await ask(domain, "when was the 100M line last down?", VERIFIED_A_EN)  # the circuit named, its year shown
    assert rendered(domain, m, "en") == (
        "The latest fault reported was on 2. ZJ-LL-0000001-2 leased line 100M: ticket FT-20251203-0001, reported "
        "03 Dec 2025 09:00, restored 03 Dec 2025 10:30 (down 1 h 30 min), within its deadlines.")
    # a fault still open is the latest, with the deadline it awaits
    opened = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0001", created_at=opened, updated_at=opened))
    m = await ask(domain, "when was it last down?", VERIFIED_A_EN)
    assert rendered(domain, m, "en") == (
        "The latest fault reported is on 1. ZJ-2M-0000001-1 2M digital circuit: ticket FT-20261123-0001, reported "
        "23 Nov 09:30, not restored yet (restore due by 23 Nov 14:00).")


async def test_with_no_fault_reported_it_says_so_of_the_circuit_asked_or_of_all(svc: Services, domain) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    m = await ask(domain, "when was the last outage", VERIFIED_A_EN)
    assert rendered(domain, m, "en") == "No fault has been reported on any of your circuits."
    await svc.db.tickets.create(factories.ticket(_id="FT-20261110-0001", created_at=AT, updated_at=AT,
                                                 status="resolved", resolved_at=AT + timedelta(hours=1)))
    m = await ask(domain, "100M那条上次断是什么时候")
    assert rendered(domain, m, "zh") == "2. ZJ-LL-0000001-2 专线 100M：暂无报障记录。"


async def test_another_circuit_named_alone_right_after_asks_its_latest_fault(svc: Services, domain) -> None:
    """"and the 100M one?", which the model reads as a status question, right after the latest fault was told."""
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    told = [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_last_fault_open"}}]
    messages, _ = await run(account.ActionServiceStatus(), tracker(
        slots=VERIFIED_A_EN, intent="ask_service_status", text="and the 100M one?", events=told), domain)
    assert only(messages)["response"] == "utter_no_fault_reported" and only(messages)["circuit"].startswith("2. ")
    # right after the status itself, it is that circuit's status
    told = [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_service_status"}}]
    messages, _ = await run(account.ActionServiceStatus(), tracker(
        slots=VERIFIED_A_EN, intent="ask_service_status", text="and the 100M one?", events=told), domain)
    assert only(messages)["response"] == "utter_service_status" and "ZJ-2M" not in only(messages)["lines"]
    # right after the SLA, that circuit's SLA
    told = [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_sla"}}]
    messages, _ = await run(account.ActionServiceStatus(), tracker(
        slots=VERIFIED_A_EN, intent="ask_service_status", text="and the 100M one?", events=told), domain)
    assert only(messages)["response"] == "utter_sla" and only(messages)["lines"].startswith("2. ZJ-LL-0000001-2")


async def test_right_after_a_report_the_fault_before_it_is_meant(svc: Services, domain) -> None:
    """"when was it last down before this?" right after the report of FT-20261123-0001: not that one; "how long was
    it down?" right after the latest fault was told: that one."""
    await svc.db.tickets.create(factories.ticket(_id="FT-20261110-0001", created_at=AT, updated_at=AT,
                                                 status="resolved", resolved_at=AT + timedelta(hours=1)))
    opened = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0001", created_at=opened, updated_at=opened))
    reported = [{"event": "bot", "text": "Fault logged as ticket FT-20261123-0001.",
                 "metadata": {"utter_action": "utter_fault_submitted"}}]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A_EN, intent="ask_sla", events=reported,
                                                         text="when was it last down before this?"), domain)
    assert only(messages)["ticket_id"] == "FT-20261110-0001"
    told = [{"event": "bot", "text": "The latest fault reported is on 1. ZJ-2M-0000001-1: ticket FT-20261123-0001",
             "metadata": {"utter_action": "utter_last_fault_open"}}]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A_EN, intent="ask_sla", events=told,
                                                         text="how long was it down?"), domain)
    assert only(messages)["ticket_id"] == "FT-20261123-0001"


async def test_right_after_the_only_fault_was_reported_none_is_reported_besides_it(svc: Services, domain) -> None:
    opened = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0001", created_at=opened, updated_at=opened))
    reported = [{"event": "bot", "text": "已受理，工单号FT-20261123-0001。", "metadata": {"utter_action": "utter_fault_submitted"}}]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", events=reported,
                                                         text="这次之前上次断网是什么时候"), domain)
    assert rendered(domain, only(messages), "zh") == "各条电路：除FT-20261123-0001外暂无报障记录。"
