""""Will we be compensated?": the verified customer's own credits and the cases still being decided."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict

from actions import compensation, escalation
from actions.services import Services
from carecore.model import Credit
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, slots_of, tracker

# The clock: 23 Nov 2026 02:00 UTC (10:00 in Shanghai).
AT = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
SLA = {"response_due": AT + timedelta(hours=2), "restore_due": AT + timedelta(hours=4)}


def listed(messages: list) -> Dict[str, Any]:
    """What is owed, always followed by how it is had."""
    assert [m["response"] for m in messages] == ["utter_compensation", "utter_compensation_how"], messages
    return messages[0]


async def credit(svc: Services, credit_id: str, reason: str, fen: int, month: str = "2026-12", **extra) -> None:
    await svc.db.credits.add(Credit(_id=credit_id, customer_id=extra.pop("customer_id", "KA0000001"), reason=reason,
                                    amount_fen=fen, apply_to_month=month, created_at=AT, **extra))


async def fault(svc: Services, ticket_id: str, **fields) -> None:
    await svc.db.tickets.create(factories.ticket(_id=ticket_id, created_at=AT, updated_at=AT, **fields))


async def test_with_nothing_owed_the_terms_are_told(svc: Services, domain) -> None:
    await fault(svc, "FT-20261120-0001", status="resolved", sla={**SLA, "restored_at": AT + timedelta(hours=3)})
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots=VERIFIED_A), domain)
    assert only(messages) == {**only(messages), "response": "utter_no_compensation", "minutes": 5, "credit": "1.00"}


async def test_credits_claims_and_late_faults_of_the_customer_only(svc: Services, domain) -> None:
    late = {**SLA, "responded_at": AT, "restored_at": AT + timedelta(hours=6)}
    await credit(svc, "FT-20261101-0001", "sla_breach", 50000)
    await credit(svc, "BC-20261105-0001", "bill_not_received", 100, month="2026-11", minutes=5)
    await credit(svc, "FT-20261102-0001", "sla_breach", 20000, customer_id="KA0000002")
    await svc.db.claims.create({"_id": "BC-20261121-0001", "customer_id": "KA0000001", "contact_id": "0000001-01",
                                "month": "2026-10", "created_at": AT, "updated_at": AT})
    await fault(svc, "FT-20261120-0001", status="resolved", sla=late)  # restored late, credit not decided yet
    await fault(svc, "FT-20261120-0002", sla=SLA)  # still open, past its restore deadline
    await fault(svc, "FT-20261120-0003", sla=SLA, maintenance_id="MW-20261120-0001")  # in maintenance: no credit
    await fault(svc, "FT-20261120-0004", status="resolved", sla=late, compensation={  # settled: the credit says it
        "decided_at": AT, "credit_fen": 50000, "notice_key": "comp:FT-20261120-0004"})
    await fault(svc, "FT-20261123-0001")  # opened now: not late
    await fault(svc, "FT-20261120-0005", status="closed", sla=SLA)  # closed with no restore mark: nothing to credit
    await fault(svc, "FT-20261120-0006", customer_id="KA0000002", circuit_id="SH-155M-0000002-1", sla=SLA)
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots=VERIFIED_A), domain)
    assert listed(messages)["lines"].split("\n") == [
        "1. FT-20261101-0001 故障修复超时：补偿500.00元，在2026年12月账单中抵扣",
        "2. BC-20261105-0001 账单未按时送达：补偿5分钟基本通话费1.00元，在2026年11月账单中抵扣",
        "3. BC-20261121-0001 2026年10月账单未收到：正在核实送达记录",
        "4. FT-20261120-0001（电路ZJ-2M-0000001-1）修复超时：补偿500.00元正在办理，将在之后的账单中抵扣",
        "5. FT-20261120-0002（电路ZJ-2M-0000001-1）已超过修复时限：修复后补偿500.00元，在之后的账单中抵扣",
    ]
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots=VERIFIED_A_EN), domain)
    assert listed(messages)["lines"].split("\n")[::4] == [
        "1. FT-20261101-0001 fault restored late: 500.00 yuan credit on the December 2026 bill",
        "5. FT-20261120-0002 on ZJ-2M-0000001-1 is past its restore deadline: 500.00 yuan credit on a coming bill "
        "once restored",
    ]


async def test_a_circuit_no_longer_on_the_account_is_credited_at_basic(svc: Services, domain) -> None:
    await fault(svc, "FT-20261120-0001", circuit_id="ZJ-2M-0000001-9", sla=SLA)
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots=VERIFIED_A), domain)
    assert listed(messages)["lines"] == "1. FT-20261120-0001（电路ZJ-2M-0000001-9）已超过修复时限：修复后补偿50.00元，在之后的账单中抵扣"


async def test_credits_past_the_latest_five_are_counted(svc: Services, domain) -> None:
    for n, month in enumerate(("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"), 1):
        await credit(svc, f"FT-2026{n:02d}01-0001", "sla_breach", 5000, month=month)
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots=VERIFIED_A), domain)
    lines = listed(messages)["lines"].split("\n")
    assert lines[0].startswith("1. FT-20260701-0001") and lines[4].startswith("5. FT-20260301-0001")
    assert lines[5:] == ["另有2笔更早的补偿。"]


async def test_faults_past_the_five_longest_overdue_are_counted(svc: Services, domain) -> None:
    for n in range(1, 8):
        await fault(svc, f"FT-20261120-000{n}", sla=SLA)
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots=VERIFIED_A_EN), domain)
    lines = listed(messages)["lines"].split("\n")
    assert lines[0].startswith("1. FT-20261120-0001") and lines[4].startswith("5. FT-20261120-0005")
    assert lines[5:] == ["And 2 more faults past the restore deadline."]


async def test_an_unverified_contact_hears_nothing(svc: Services, domain) -> None:
    await credit(svc, "FT-20261101-0001", "sla_breach", 50000)
    messages, _ = await run(compensation.ActionCompensation(), tracker(slots={"verified": False}), domain)
    assert only(messages)["response"] == "utter_need_verification"


async def test_how_to_claim_right_after_the_list_is_told_alone(svc: Services, domain) -> None:
    await credit(svc, "FT-20261101-0001", "sla_breach", 50000)
    listed_before = [{"event": "user", "text": "有赔偿吗", "parse_data": {"intent": {"name": "ask_compensation"}}},
                     {"event": "bot", "text": "贵单位的补偿：…", "metadata": {"utter_action": "utter_compensation"}},
                     {"event": "bot", "text": "无需申请：…", "metadata": {"utter_action": "utter_compensation_how"}}]
    for text, events, heard in [
        ("怎么申请", listed_before, ["utter_compensation_how"]),
        ("do we have to claim it", listed_before, ["utter_compensation_how"]),
        ("怎么申请", [], ["utter_compensation", "utter_compensation_how"]),  # nothing listed yet: the list first
        ("有赔偿吗", listed_before, ["utter_compensation", "utter_compensation_how"]),  # asked again: told again
    ]:
        messages, _ = await run(compensation.ActionCompensation(),
                                tracker(slots=VERIFIED_A, intent="ask_compensation", text=text, events=events), domain)
        assert [m["response"] for m in messages] == heard, text


async def test_when_a_payment_just_spoken_of_is_posted_is_no_compensation_question(svc: Services, domain) -> None:
    await credit(svc, "FT-20261101-0001", "sla_breach", 50000)
    told = [{"event": "user", "text": "我已经交过了"},
            {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_paid_not_posted"}}]
    asked = tracker(slots=VERIFIED_A, intent="ask_compensation", text="什么时候到账", events=told)
    messages, _ = await run(compensation.ActionCompensation(), asked, domain)
    assert only(messages)["response"] == "utter_paid_not_posted"
    # asked of the compensation itself, it is answered
    credited = tracker(slots=VERIFIED_A, intent="ask_compensation", text="补偿什么时候到账")
    messages, _ = await run(compensation.ActionCompensation(), credited, domain)
    listed(messages)


async def test_how_compensation_is_calculated_right_after_it_is_told_by_the_sla(svc: Services, domain) -> None:
    """"how is it calculated" right after "no compensation" was out of scope: it is each circuit's credit for a late
    restore, which the SLA answer gives; read as compensation again, it had been the same answer twice."""
    told = [{"event": "user", "text": "有补偿吗", "parse_data": {"intent": {"name": "ask_compensation"}}},
            {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_no_compensation"}}]
    for action, intent, text in ((escalation.ActionOutOfScope(), "out_of_scope", "how is it calculated"),
                                 (compensation.ActionCompensation(), "ask_compensation", "补偿怎么算的")):
        slots = VERIFIED_A_EN if text.isascii() else VERIFIED_A
        messages, _ = await run(action, tracker(slots=slots, intent=intent, text=text, events=told), domain)
        assert only(messages)["response"] == "utter_sla", text
        messages, _ = await run(action, tracker(slots=slots, intent=intent, text=text), domain)  # nothing before
        assert only(messages)["response"] != "utter_sla", text


async def test_asked_of_one_ticket_it_is_told_what_that_one_earns(svc: Services, domain) -> None:
    """"FT-…有补偿吗", or "will we get compensated for it?" right after a reply naming one ticket: that ticket's
    credit or why there is none, not the account's list."""
    late = {**SLA, "responded_at": AT, "restored_at": AT + timedelta(hours=6)}
    await fault(svc, "FT-20261120-0001", status="resolved", sla={**SLA, "restored_at": AT + timedelta(hours=3)})
    await fault(svc, "FT-20261120-0002", status="resolved", sla=late)  # late, being settled
    await fault(svc, "FT-20261120-0003", status="resolved", sla=late, compensation={
        "decided_at": AT, "credit_fen": 50000, "credit_id": "FT-20261120-0003", "notice_key": "comp:FT-20261120-0003"})
    await credit(svc, "FT-20261120-0003", "sla_breach", 50000)
    await fault(svc, "FT-20261120-0004", sla=SLA, maintenance_id="MW-20261120-0001")
    await fault(svc, "FT-20261120-0005", status="closed", sla=SLA)  # withdrawn
    await fault(svc, "FT-20261123-0001")  # opened now: its deadline ahead
    await svc.db.tickets.create(factories.ticket(_id="CP-20261120-0001", kind="complaint", circuit_id=None, sla=None,
                                                 created_at=AT, updated_at=AT))
    await fault(svc, "FT-20261120-0009", customer_id="KA0000002", circuit_id="SH-155M-0000002-1", sla=SLA)
    told = {
        "FT-20261120-0001": "FT-20261120-0001在修复时限内恢复，不涉及补偿。",
        "FT-20261120-0002": "FT-20261120-0002（电路ZJ-2M-0000001-1）修复超时：补偿500.00元正在办理，将在之后的账单中抵扣。",
        "FT-20261120-0003": "FT-20261120-0003修复超时，已补偿500.00元，在2026年12月账单中抵扣。",
        "FT-20261120-0004": "FT-20261120-0004发生在计划维护MW-20261120-0001期间，不予补偿。",
        "FT-20261120-0005": "FT-20261120-0005已关闭，无修复记录，不涉及补偿。",
        "FT-20261123-0001": "FT-20261123-0001尚在修复时限内（11月23日14:00）。如超时修复，将自动补偿500.00元，无需申请。",
        "CP-20261120-0001": "CP-20261120-0001没有修复时限，不涉及SLA补偿：补偿针对修复超时的故障。",
    }
    for ticket_id, line in told.items():
        messages, events = await run(compensation.ActionCompensation(), tracker(
            slots={**VERIFIED_A, "ticket_id": ticket_id}, intent="ask_compensation", text=f"{ticket_id}有补偿吗"), domain)
        assert only(messages) == {**only(messages), "response": "utter_ticket_credit", "line": line}
        assert slots_of(events) == {"ticket_id": None}  # answered: not the next question's ticket too
    messages, _ = await run(compensation.ActionCompensation(), tracker(
        slots={**VERIFIED_A, "ticket_id": "FT-20261120-0009"}, intent="ask_compensation"), domain)
    assert only(messages)["response"] == "utter_ticket_not_found"  # another customer's
    # right after a reply naming one ticket: that one; asked of all, the account's list
    reported = [{"event": "bot", "text": "Ticket FT-20261123-0001 is open.", "metadata": {"utter_action": "utter_x"}}]
    messages, _ = await run(compensation.ActionCompensation(), tracker(
        slots=VERIFIED_A_EN, intent="ask_compensation", text="will we get compensated for it?", events=reported), domain)
    assert only(messages)["line"] == ("FT-20261123-0001 is still within its restore deadline (23 Nov 14:00). If it is "
                                      "restored later, 500.00 yuan is credited automatically, with no application "
                                      "needed.")
    messages, _ = await run(compensation.ActionCompensation(), tracker(
        slots=VERIFIED_A, intent="ask_compensation", text="我们总共有多少补偿", events=reported), domain)
    assert listed(messages)["lines"].startswith("1. FT-20261120-0003 故障修复超时：补偿500.00元")
