"""The data model on a real mongod: validators, indexes, round trips, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from carecore.model import UNFINISHED_VALUES, SendStatus, TicketEvent, TicketKind, TicketStatus
from carecore.repository import (
    Database,
    DuplicateRecordError,
    RecordValidationError,
    awaiting_outcome_query,
    unfinished_query,
)
from carecore.repository.base import Repository
from tests import factories


async def seed_managers(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)


async def test_collections_have_validators_and_indexes(db: Database) -> None:
    names = set(await db.collection_names())
    assert {"customers", "account_managers", "usage_monthly", "tickets", "sends", "counters"} <= names
    indexes = await db.indexes("customers")
    assert indexes["contact_mobile"]["unique"] is True
    assert {"by_manager", "circuit", "birthday", "bill_day"} <= set(indexes)
    assert "customer_month" in await db.indexes("usage_monthly")


async def test_customer_round_trip_normalises_mobiles(db: Database) -> None:
    await seed_managers(db)
    stored = await db.customers.insert(factories.customer())
    assert stored.contacts[0].mobile == "+8613800138000"
    loaded = await db.customers.get("KA0000001")
    assert loaded is not None
    assert loaded.dict() == stored.dict()
    assert loaded.created_at is not None and loaded.created_at.tzinfo is not None
    found = await db.customers.find_by_mobile("13800138000")
    assert found is not None and found[1].name == "王伟"
    assert await db.customers.find_by_mobile("+8613700000000") is None
    assert await db.customers.find_by_mobile("not a number") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["contacts"][0].update(mobile="12345"), "contacts.0.mobile"),
        (lambda d: d["contacts"][0].update(mobile="+86 10 6552 9988"), "contacts.0.mobile"),  # a landline
        (lambda d: d["contacts"][0]["birthday"].update(month=2, day=30), "contacts.0.birthday"),
        (lambda d: d["contacts"][0]["birthday"].update(year=1987, month=2, day=29), "contacts.0.birthday"),
        (lambda d: d["contacts"][1]["birthday"].update(day=31), "contacts.1.birthday"),
        (lambda d: d["contacts"][1]["birthday"].update(year=2026, month=2, day=30), "contacts.1.birthday"),
        (lambda d: d["contacts"][0]["birthday"].update(month=13), "contacts.0.birthday.month"),
        (lambda d: d["contacts"][0].update(tier="platinum"), "contacts.0.tier"),
        (lambda d: d.update(customer_class="vip_plus"), "customer_class"),
        (lambda d: d.pop("company_name"), "company_name"),
        (lambda d: d["contacts"][0].pop("name"), "contacts.0.name"),
        (lambda d: d["billing"].update(bill_day=32), "billing.bill_day"),
        (lambda d: d.update(_id="KA 0000001/x"), "_id"),  # the operator's ids: letters, digits, - and _
        (lambda d: d["contacts"][0].update(contact_id="c:1"), "contacts.0.contact_id"),
        (lambda d: d["services"][0].update(type="carrier_pigeon"), "services.0.type"),
    ],
)
async def test_bad_profiles_are_refused_naming_the_field(db: Database, change, field) -> None:
    doc = factories.customer()
    change(doc)
    with pytest.raises(RecordValidationError) as info:
        await db.customers.insert(doc)
    assert any(f.startswith(field) for f in info.value.fields), info.value
    assert field.split(".")[0] in str(info.value)
    assert await db.customers.count() == 0  # nothing partially written


async def test_customers_may_have_no_contacts_yet_and_use_the_operators_own_ids(db: Database) -> None:
    """A CRM's customers can come in before their contacts; its ids are whatever it uses."""
    await seed_managers(db)
    for customer_id in ("CRM-000123", "crm_000124"):
        await db.customers.insert({**factories.customer(), "_id": customer_id, "contacts": [], "services": []})
    bare = await db.customers.get("CRM-000123")
    assert bare is not None and bare.contacts == [] and bare.billing_contact() is None


async def test_database_validator_refuses_what_bypasses_the_models(db: Database) -> None:
    good = factories.customer()
    bad = factories.customer()
    bad["contacts"][0]["tier"] = "platinum"
    with pytest.raises(RecordValidationError) as info:
        await db.raw_insert("customers", bad)
    assert "contacts" in str(info.value)
    missing = factories.customer()
    del missing["billing"]
    with pytest.raises(RecordValidationError) as info:
        await db.raw_insert("customers", missing)
    assert "billing" in info.value.fields
    unnormalised = factories.customer()  # mobile not in E.164
    with pytest.raises(RecordValidationError):
        await db.raw_insert("customers", unnormalised)
    assert await db.customers.count() == 0
    await db.customers.insert(good)
    assert await db.customers.count() == 1


async def test_mobile_is_unique_across_customers(db: Database) -> None:
    await db.customers.insert(factories.customer())
    other = factories.customer(_id="KA0000002")
    for i, contact in enumerate(other["contacts"]):
        contact["contact_id"] = f"0000002-0{i + 1}"
    other["services"] = []
    with pytest.raises(DuplicateRecordError) as info:
        await db.customers.insert(other)
    assert info.value.fields == ["contacts.mobile"] and isinstance(info.value, RecordValidationError)
    assert await db.customers.count() == 1


async def test_opt_out_is_stored(db: Database) -> None:
    await db.customers.insert(factories.customer())
    assert await db.customers.opt_out_mobile("+8613900139000", source="assistant")
    customer = await db.customers.get("KA0000001")
    assert customer is not None
    assert customer.contacts[1].sms_opt_out is True and customer.contacts[1].opt_out_source == "assistant"
    assert customer.contacts[0].sms_opt_out is False
    assert not await db.customers.set_sms_opt_out("nobody", True, source="console")
    [entry] = await db.audit.for_customer("KA0000001")
    assert (entry.entity_id, entry.action, entry.source, entry.changes) == (
        "0000001-02", "opted_out", "assistant", {"sms_opt_out": [False, True]})
    assert await db.customers.opt_out_mobile("+8613900139000", source="assistant")  # no change: no entry
    assert len(await db.audit.for_customer("KA0000001")) == 1


async def test_manager_hierarchy(db: Database) -> None:
    await seed_managers(db)
    chain = await db.managers.chain("AM-CZJ01")
    assert [m.level for m in chain] == ["city", "province", "group"]
    assert [m.id for m in await db.managers.subordinates("AM-PZJ")] == ["AM-CZJ01"]
    with pytest.raises(RecordValidationError) as info:
        await db.managers.insert({**factories.MANAGERS[2], "_id": "AM-CZJ02", "mobile": "+8613920000002",
                                  "supervisor_id": None})
    assert "supervisor_id" in str(info.value)
    assert (await db.managers.acting("AM-CZJ01")).id == "AM-CZJ01"
    for leaver, acting in (("AM-CZJ01", "AM-PZJ"), ("AM-PZJ", "AM-G001"), ("AM-G001", None)):
        await db.managers.set_active(leaver, False)  # each deactivated in turn: the next one up answers
        found = await db.managers.acting("AM-CZJ01")
        assert (found.id if found else None) == acting
    assert await db.managers.acting("AM-NOBODY") is None


async def test_usage_round_trip_and_history(db: Database) -> None:
    for month in ("2026-08", "2026-09", "2026-10"):
        await db.usage.upsert(factories.usage(month=month))
    await db.usage.upsert(factories.usage(month="2026-10", voice_minutes=1))  # upsert replaces
    october = await db.usage.get("KA0000001", "2026-10")
    assert october is not None and october.voice_minutes == 1 and october.id == "KA0000001:2026-10"
    assert [u.month for u in await db.usage.history("KA0000001", 2)] == ["2026-10", "2026-09"]
    with pytest.raises(RecordValidationError) as info:
        await db.usage.upsert(factories.usage(month="2026-13"))
    assert "month" in info.value.fields
    with pytest.raises(RecordValidationError):
        await db.usage.upsert(factories.usage(amount_fen=-1))


async def test_tickets_ids_history_and_scoping(db: Database) -> None:
    day = datetime(2026, 11, 23).date()
    assert await db.tickets.next_id(TicketKind.fault, day) == "FT-20261123-0001"
    assert await db.tickets.next_id(TicketKind.fault, day) == "FT-20261123-0002"
    assert await db.tickets.next_id(TicketKind.complaint, day) == "CP-20261123-0001"
    ticket = await db.tickets.create(factories.ticket())
    assert ticket.status == "open"
    event = TicketEvent(at=datetime.now(timezone.utc), actor="AM-CZJ01", action="acknowledge")
    assert await db.tickets.set_status(ticket.id, TicketStatus.acknowledged, event)
    loaded = await db.tickets.get(ticket.id)
    assert loaded is not None and loaded.status == "acknowledged" and loaded.history[0].action == "acknowledge"
    assert await db.tickets.get(ticket.id, customer_id="KA0000002") is None  # another customer's ticket
    assert [t.id for t in await db.tickets.for_customer("KA0000001", open_only=True)] == [ticket.id]
    with pytest.raises(RecordValidationError) as info:
        await db.tickets.create(factories.ticket(_id="FT-20261123-0009", circuit_id=None))
    assert "circuit_id" in str(info.value)


async def test_a_fault_is_reopened_once_and_only_when_resolved_since(db: Database) -> None:
    resolved = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)
    await db.tickets.create(factories.ticket(status="resolved", resolved_at=resolved))
    await db.tickets.create(factories.ticket(_id="FT-20261123-0002", status="closed", resolved_at=resolved))
    circuit = "ZJ-2M-0000001-1"
    assert (await db.tickets.resolved_on_circuit("KA0000001", circuit, resolved)).id == "FT-20261123-0001"
    assert await db.tickets.resolved_on_circuit("KA0000001", circuit, resolved + timedelta(seconds=1)) is None
    event = TicketEvent(at=resolved + timedelta(hours=1), actor="assistant:sms", action="reopened")
    later = resolved + timedelta(minutes=1)
    assert await db.tickets.reopen("FT-20261123-0001", event, resolved_since=later) is None  # resolved before then
    assert await db.tickets.reopen("FT-20261123-0002", event, resolved_since=resolved) is None  # closed
    reopened = await db.tickets.reopen("FT-20261123-0001", event, resolved_since=resolved)
    assert reopened is not None and reopened.status == "open" and reopened.resolved_at is None  # never acknowledged
    assert await db.tickets.reopen("FT-20261123-0001", event, resolved_since=resolved) is None  # reopened already
    assert [e.action for e in reopened.history] == ["reopened"]


async def test_sends_key_is_unique_and_callbacks_never_regress(db: Database) -> None:
    now = datetime.now(timezone.utc)
    record = {"_id": "birthday:0000001-01:2026-11-23", "kind": "birthday", "to": "+8613800138000",
              "body": "生日快乐", "encoding": "UCS-2", "segments": 1, "created_at": now, "updated_at": now}
    first = await db.sends.reserve(record)
    second = await db.sends.reserve({**record, "body": "again"})
    assert first.created and not second.created and second.record.body == "生日快乐"
    await db.sends.finish(record["_id"], SendStatus.queued, sid="SM1")
    assert await db.sends.apply_callback("SM1", SendStatus.delivered, None)
    assert not await db.sends.apply_callback("SM1", SendStatus.sent, None)  # late and stale
    stored = await db.sends.get(record["_id"])
    assert stored is not None and stored.status == "delivered"
    assert [e.status for e in stored.history] == ["queued", "delivered"]
    counts = await db.sends.count_by_status(since=now - timedelta(minutes=1))
    assert counts == {("birthday", "delivered"): 1}
    assert await db.sends.count_by_status(max_time_s=30) == counts  # the time limit as the server takes it


async def test_transaction_is_all_or_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await db.customers.insert(factories.customer(), session=session)
            raise RuntimeError("abort")
    assert await db.customers.count() == 0


async def test_campaign_selections_read_ids_from_the_indexes(db: Database) -> None:
    await seed_managers(db)
    for n, bill_day in ((3, 31), (1, 30), (2, 12)):
        doc = factories.customer(_id=f"KA000000{n}")
        doc["billing"]["bill_day"] = bill_day
        for i, contact in enumerate(doc["contacts"]):
            contact["contact_id"] = f"000000{n}-0{i + 1}"
            contact["mobile"] = f"+86138000{n}000{i}"
        doc["services"] = []
        await db.customers.insert(doc)
    assert await db.customers.ids_with_bill_day_in([30, 31]) == ["KA0000001", "KA0000003"]
    assert await db.customers.ids_with_birthday_in([("lunar", 8, [15])]) == ["KA0000001", "KA0000002", "KA0000003"]
    assert await db.customers.ids_with_birthday_in([("solar", 2, [28])]) == []
    # Feb 28 of a common year greets Feb 29 births too; a customer matching twice comes once
    assert await db.customers.ids_with_birthday_in([("solar", 2, [28, 29]), ("lunar", 8, [15])]) == [
        "KA0000001", "KA0000002", "KA0000003"]
    # month and day must match on the same contact: a solar Feb contact and a lunar 15th do not make a match
    assert await db.customers.ids_with_birthday_in([("lunar", 2, [15])]) == []
    assert [d["_id"] async for d in db.customers.with_bill_day_in([31])] == ["KA0000003"]
    assert await db.customers.ids_with_bill_day_in([]) == []


async def test_an_index_whose_definition_changed_is_rebuilt(db: Database) -> None:
    await db._db.customers.drop_index("region")
    await db._db.customers.create_index([("region.province", 1)], name="region")  # an older definition
    await db.ensure_schema()
    assert (await db.indexes("customers"))["region"]["key"] == [("region.province", 1), ("region.city", 1)]


async def test_a_profile_write_moves_its_customer_between_selections(db: Database) -> None:
    await seed_managers(db)
    await db.customers.insert(factories.customer())  # bill day 31, born solar Feb 29 and lunar 8-15
    moved = factories.customer()
    moved["billing"]["bill_day"] = 5
    moved["contacts"] = moved["contacts"][:1]
    moved["contacts"][0]["birthday"] = {"calendar": "solar", "month": 3, "day": 1}
    await db.customers.replace(moved)
    assert await db.customers.ids_with_bill_day_in([30, 31]) == []
    assert await db.customers.ids_with_bill_day_in([5]) == ["KA0000001"]
    assert await db.customers.ids_with_birthday_in([("solar", 2, [28, 29]), ("lunar", 8, [15])]) == []
    assert await db.customers.ids_with_birthday_in([("solar", 3, [1])]) == ["KA0000001"]
    with pytest.raises(KeyError):  # an unknown profile is not created by a replace
        await db.customers.replace(factories.customer(_id="KA0000099", contacts=[
            {**factories.customer()["contacts"][0], "contact_id": "0000099-01", "mobile": "+8613800990000"}]))


async def _plan_of(db: Database, select) -> dict:
    """The server's own record of what a selection read (the profiler's entry)."""
    await db._db.command("profile", 2)
    await select()
    await db._db.command("profile", 0)
    entry = await db._db["system.profile"].find_one({"ns": f"{db.name}.customers", "op": "query"})
    assert entry is not None
    return entry


async def test_selections_use_their_indexes(db: Database) -> None:
    await seed_managers(db)
    await db.customers.insert(factories.customer())
    await db.customers.insert_many([factories.other_customer()])
    bill = await _plan_of(db, lambda: db.customers.ids_with_bill_day_in([30, 31]))
    assert bill["planSummary"].startswith("IXSCAN { billing.bill_day: 1, _id: 1 }") and bill["docsExamined"] == 0
    await db._db["system.profile"].drop()
    born = await _plan_of(db, lambda: db.customers.ids_with_birthday_in([("solar", 2, [28, 29])]))
    assert "IXSCAN { contacts.birthday.calendar: 1" in born["planSummary"] and born["docsExamined"] == 1


async def test_a_database_of_an_earlier_version_is_brought_up_to_date_on_start(db: Database) -> None:
    await db.raw_insert("customer_birthdays", {"_id": "0000001-01/solar-2-29", "key": "solar-2-29"})
    await db.raw_insert("bill_day_members", {"_id": "31/0", "day": 31, "ids": ["KA0000001"]})
    await db._db.counters.insert_one({"_id": "schema:customer_birthdays"})
    await db._db.parked_callbacks.drop()
    await db.raw_insert("early_callbacks", {"_id": "SMx/sent"})  # the old name of the parked callbacks
    await db._db.attempts.drop()
    await db.raw_insert("login_failures", {"_id": "f" * 24, "key": "ip:10.0.0.7"})  # the attempts' old name
    old = {**factories.customer(), "customer_class": "high_value"}  # high value was a class
    del old["high_value"]
    await db._db.customers.insert_one(old, bypass_document_validation=True)
    for ticket_id, label in (("CP-20261101-0001", "账单费用"), ("CP-20261101-0002", "staff attitude")):
        await db.tickets.create(factories.ticket(_id=ticket_id, kind="complaint", circuit_id=None, sla=None))
        await db._db.tickets.update_one({"_id": ticket_id}, {"$set": {"category": label}})  # as older versions kept it
    await db.ensure_schema()
    assert [t["category"] for t in await db._db.tickets.find({}, {"category": 1}).sort("_id").to_list(None)] == [
        "billing", "attitude"]
    migrated = await db.customers.get("KA0000001")
    assert migrated is not None and migrated.customer_class is None and migrated.high_value
    names = set(await db.collection_names())
    assert not {"customer_birthdays", "bill_day_members", "early_callbacks", "login_failures"} & names
    assert await db._db.attempts.find_one({"_id": "f" * 24}) is not None
    assert "ttl" in await db._db.attempts.index_information()
    assert await db._db.counters.count_documents({}) == 0
    assert await db._db.parked_callbacks.find_one({"_id": "SMx/sent"}) is not None  # kept under its new name


async def test_profiles_read_back_without_validation_equal_parsed_ones(db: Database) -> None:
    """``from_stored`` (the campaigns' bulk read) gives what ``parse_obj`` gives, for every kind of profile."""
    from datetime import date

    from carecore.model import Customer, SendRecord
    from localrun.seed import customer_doc, manager_docs

    managers = manager_docs()
    await db.managers.insert_many(managers)
    docs = [customer_doc(index, date(2026, 11, 23), managers) for index in range(1, 41)]
    await db.customers.insert_many(docs)
    stored = [doc async for doc in db.customers.profiles(sorted(d["_id"] for d in docs))]
    assert len(stored) == 40 and any(d["services"] for d in stored)
    assert {c["birthday"]["calendar"] for d in stored for c in d["contacts"]} == {"solar", "lunar"}
    for doc in stored:
        fast, parsed = Customer.from_stored(doc), Customer.parse_obj(doc)
        assert fast == parsed and fast.dict() == parsed.dict()
        assert fast.__fields_set__ == parsed.__fields_set__ and list(fast.__dict__) == list(parsed.__dict__)
        assert all(a.__fields_set__ == b.__fields_set__ for a, b in zip(fast.contacts, parsed.contacts, strict=True))
        assert fast.billing_contact() == parsed.billing_contact() and fast.contacts[0].tier == parsed.contacts[0].tier
    now = datetime.now(timezone.utc)
    record = {"_id": "k:1", "kind": "birthday", "to": "+8613800138000", "body": "生日快乐", "encoding": "UCS-2",
              "segments": 1, "created_at": now, "updated_at": now, "history": [{"status": "pending", "at": now}]}
    await db.sends.reserve(record)
    raw = await db.sends.get("k:1")
    assert SendRecord.from_stored(raw.to_mongo()) == raw
    # Defaults as pydantic's ``construct`` gives them: unset, and a fresh list or dict for each model.
    minimal = {key: record[key] for key in ("_id", "kind", "to", "body", "encoding", "segments", "created_at",
                                            "updated_at")}
    first, second = SendRecord.from_stored(minimal), SendRecord.from_stored(minimal)
    constructed = SendRecord.construct(**{("id" if key == "_id" else key): value for key, value in minimal.items()})
    assert first == constructed and first.__fields_set__ == constructed.__fields_set__
    assert list(first.__dict__) == list(constructed.__dict__)
    assert (first.status, first.attempts, first.sid, first.history, first.meta) == (SendStatus.pending, 0, None, [], {})
    first.history.append("x")
    first.meta["y"] = 1
    assert second.history == [] and second.meta == {}


async def test_every_query_of_sends_has_its_index_and_no_index_goes_unread(db: Database) -> None:
    """Each message writes every index of ``sends`` twice, so it keeps only those its queries read."""
    await db._db.sends.create_index([("status", 1), ("updated_at", 1)], name="by_status")  # as older versions had
    await db._db.sends.create_index([("meta.campaign", 1), ("status", 1)], name="by_campaign", sparse=True)
    await db.ensure_schema()
    assert set(await db.indexes("sends")) == {"_id_", "sid", "unfinished", "by_customer", "by_created",
                                              "awaiting_outcome"}
    now = datetime.now(timezone.utc)
    for i in range(3):
        await db.sends.reserve({"_id": f"k:{i}", "kind": "birthday", "to": "+8613800138000", "body": "生日快乐",
                                "customer_id": "KA0000001", "encoding": "UCS-2", "segments": 1, "created_at": now,
                                "updated_at": now, "meta": {"campaign": "birthday:2026-11-23"}})
    col = db._db.sends

    def used_index(plan: dict) -> set:
        found, stack = set(), [plan["queryPlanner"]["winningPlan"]]
        while stack:
            stage = stack.pop()
            if stage.get("indexName"):
                found.add(stage["indexName"])
            stack.extend([stage["inputStage"]] if "inputStage" in stage else stage.get("inputStages", []))
        return found

    queries = {
        "sid": col.find({"sid": "SM" + "0" * 32}),
        "unfinished": col.find(unfinished_query("birthday:2026-11-23")),
        "by_customer": col.find({"customer_id": "KA0000001"}).sort("created_at", -1).limit(50),
        "by_created": col.find({"created_at": {"$gte": now - timedelta(days=30)}}),
        "awaiting_outcome": col.find(awaiting_outcome_query(now, 2)).sort([("status_checks", 1), ("updated_at", 1)]),
    }
    for index, cursor in queries.items():
        assert used_index(await cursor.explain()) == {index}
    texts_to_forget = col.find({"created_at": {"$gte": now - timedelta(days=60), "$lt": now}, "body": {"$exists": True},
                                "status": {"$nin": list(UNFINISHED_VALUES)}})  # forget_bodies, nightly
    assert used_index(await texts_to_forget.explain()) == {"by_created"}
    assert sorted(r.id for r in await db.sends.for_customer("KA0000001")) == ["k:0", "k:1", "k:2"]
    assert [r.id for r in await db.sends.unfinished("birthday:2026-11-23")] == ["k:0", "k:1", "k:2"]
    await db.sends.finish("k:1", SendStatus.accepted, only_from=[SendStatus.pending], sid="SM" + "1" * 32)
    assert [r.id for r in await db.sends.unfinished("birthday:2026-11-23")] == ["k:0", "k:2"]



async def test_records_that_carry_a_promise_wait_for_a_majority(db: Database) -> None:
    durable = {"sends", "parked_callbacks", "tickets", "compensation_claims", "credits", "bill_deliveries",
               "escalations", "audit_log", "leases"}
    concerns = {repo.collection_name: repo._col.write_concern.document for repo in vars(db).values()
                if isinstance(repo, Repository)}
    assert {name for name, concern in concerns.items() if concern.get("w") == "majority"} == durable
    assert concerns["sends"] == {"w": "majority", "wtimeout": 10_000}


async def test_a_waiting_notice_is_claimed_once_an_hour(db) -> None:
    now = datetime(2026, 12, 5, 14, 52, tzinfo=timezone.utc)
    await db.escalations.create({
        "_id": "ES-20261205-0001", "customer_id": "KA0000001", "contact_id": "0000001-01", "manager_id": "AM-CZJ01",
        "sender_id": "chat:alice", "reason": "request_human", "summary": "-", "contact_by": now, "created_at": now,
        "updated_at": now})
    hour = timedelta(hours=1)
    claims = [await db.escalations.claim_waiting_notice("ES-20261205-0001", now + timedelta(minutes=m), hour)
              for m in (0, 0, 59, 60, 61)]
    assert claims == [True, False, False, True, False]
