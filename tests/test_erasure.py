"""Erasing a contact at their request: record, messages, tickets, escalations, conversations, codes, audit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from carecore.repository import Database
from carecore.repository.erasure import ERASED, pattern_for
from tests import factories

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
WANG = "0000001-01"  # 王伟, +8613800138000


def test_the_number_is_found_as_people_write_it() -> None:
    pattern = pattern_for("王伟", "+8613800138000")
    for text in ("王伟的手机13800138000", "call +86 138 0013 8000", "0086-138-0013-8000", "138-0013-8000"):
        assert "138" not in pattern.sub(ERASED, text) and "王伟" not in pattern.sub(ERASED, text), text
    assert pattern.sub(ERASED, "工单号FT-20261123-0001，电路2M") == "工单号FT-20261123-0001，电路2M"


async def test_a_contact_is_erased_everywhere_and_only_counts_remain(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    for key, status in (("birthday:w:2026", "delivered"), ("usage:w:2026-11", "pending")):
        await db.sends.reserve({**factories.send_record(key, now=NOW), "to": "+8613800138000", "contact_id": WANG,
                                "customer_id": "KA0000001", "status": status, "body": "王伟，生日快乐"})
    await db.sends.reserve({**factories.send_record("birthday:d:2026", now=NOW), "to": "+8613900139000",
                            "contact_id": "0000001-02", "customer_id": "KA0000001", "body": "David, happy birthday"})
    await db.tickets.create(factories.ticket(text="王伟来电（138 0013 8000）：专线中断", sender_id="sms:+8613800138000:abc"))
    await db.escalations.create({
        "_id": "ES-20261204-0001", "customer_id": "KA0000001", "contact_id": WANG, "manager_id": "AM-CZJ01",
        "sender_id": "sms:+8613800138000:abc", "reason": "request_human", "summary": "王伟：请回电13800138000",
        "contact_by": NOW + timedelta(hours=2), "created_at": NOW, "updated_at": NOW})
    conversations = db.client[db.name]["conversations"]
    await conversations.insert_one({"sender_id": "sms:+8613800138000:abc", "events": [{"event": "user", "text": "你好"}]})
    await conversations.insert_one({"sender_id": "chat-1", "events": [
        {"event": "user", "text": "我的手机是 13800138000"}, {"event": "slot", "name": "contact_id", "value": WANG},
        {"event": "bot", "text": "验证成功，王伟您好"}], "slots": {"contact_name": "王伟"}})
    await conversations.insert_one({"sender_id": "chat-3", "events": [  # typed, never verified
        {"event": "user", "text": "我的手机 138-0013-8000"}, {"event": "bot", "text": "验证码不正确"}]})
    await conversations.insert_one({"sender_id": "chat-4", "events": [{"event": "user", "text": "13900139000"}]})
    archive = db.client[db.name]["conversation_archive"]
    await archive.insert_one({"sender_id": "portal:+8613800138000.1f2e:abc", "events": [{"event": "user", "text": "账单"}]})
    await archive.insert_one({"sender_id": "chat:2", "events": [
        {"event": "slot", "name": "contact_id", "value": WANG}, {"event": "user", "text": "我是王伟"}]})
    await db.visits.create({"_id": "VS-20261201-0001", "customer_id": "KA0000001", "manager_id": "AM-CZJ01",
                            "visited_on": "2026-12-01", "contact_ids": [WANG, "0000001-02"],
                            "notes": "与王伟、David Chen面谈扩容", "created_at": NOW})
    await db.compliments.create({"_id": "PR-20261201-0001", "customer_id": "KA0000001", "contact_id": WANG,
                                 "manager_id": "AM-CZJ01", "text": "我是王伟，表扬林经理", "created_at": NOW})
    await db.customers.set_sms_opt_out(WANG, True, source="assistant", actor=f"contact:{WANG}", at=NOW - timedelta(hours=1))

    counts = await db.erase_contact(WANG, at=NOW, source="cli", actor="ops", reason="客户书面申请删除")
    assert counts == {"messages": 2, "tickets": 1, "escalations": 1, "visits": 1, "compliments": 1,
                      "conversations": 3}
    assert (await db.compliments.get("PR-20261201-0001")).text == f"我是{ERASED}，表扬林经理"
    [visit] = await db.visits.for_customer("KA0000001")
    assert visit.contact_ids == ["0000001-02"] and visit.notes == f"与{ERASED}、David Chen面谈扩容"
    customer = await db.customers.get("KA0000001")
    assert customer is not None and [c.contact_id for c in customer.contacts] == ["0000001-02"]
    wang_sends = await db.sends.for_customer("KA0000001")
    erased = [s for s in wang_sends if s.contact_id == WANG]
    assert len(erased) == 2 and all(s.to is None and s.body is None and s.erased_at for s in erased)
    assert {s.status for s in erased} == {"delivered", "suppressed"}  # the unfinished one is never sent
    assert [s.body for s in wang_sends if s.contact_id != WANG] == ["David, happy birthday"]
    ticket = await db.tickets.get("FT-20261123-0001")
    assert ticket is not None and ticket.text == f"{ERASED}来电（{ERASED}）：专线中断"
    assert ticket.sender_id == "erased:FT-20261123-0001"
    escalation = await db.escalations.get("ES-20261204-0001")
    assert escalation is not None and "13800138000" not in escalation.summary
    assert escalation.sender_id == "erased:ES-20261204-0001"
    assert await conversations.count_documents({"sender_id": {"$regex": "^sms:\\+8613800138000"}}) == 0
    chat = await conversations.find_one({"sender_id": "chat-1"})
    assert "13800138000" not in str(chat) and "王伟" not in str(chat)
    typed = await conversations.find_one({"sender_id": "chat-3"})
    assert typed["events"][0]["text"] == f"我的手机{ERASED}" and typed["events"][1]["text"] == "验证码不正确"
    assert (await conversations.find_one({"sender_id": "chat-4"}))["events"][0]["text"] == "13900139000"
    assert [doc["sender_id"] for doc in await archive.find().to_list(None)] == ["chat:2"]
    assert "王伟" not in str(await archive.find_one({"sender_id": "chat:2"}))
    history = await db.audit.for_entity("contact", WANG)
    assert [e.action for e in history] == ["erased", "opted_out"] and history[1].changes == {}
    assert "王伟" not in str(history[0].dict()) and "138" not in str(history[0].dict())
    assert await db.erase_contact(WANG, at=NOW, source="cli", actor="ops", reason="again") is None
