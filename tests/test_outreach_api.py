"""The admin API's outreach: visits recorded elsewhere, the visit plan, broadcasts queued and cancelled."""

from __future__ import annotations

from datetime import datetime, timezone

from carecore.model import visit_id
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories
from tests.conftest import admin_api

NOW = datetime(2026, 11, 23, 10, 30)


async def test_admin_api_records_visits_and_lists_those_due(db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer(created_at=datetime(2026, 6, 1, tzinfo=timezone.utc)))
    visit = {"customer_id": "KA0000001", "manager_id": "AM-CZJ01", "visited_on": "2026-11-20",
             "contact_ids": ["0000001-01"], "notes": "走访信息中心，确认专线扩容需求"}
    async with admin_api(db, gateway, NOW) as (http, url):
        async with http.get(url + "/admin/visits/due?scope=AM-PZJ") as resp:
            assert [(a["customer_id"], a["due_on"], a["last_visit"]) for a in (await resp.json())["accounts"]] == [
                ("KA0000001", "2026-07-01", None)]
        for wrong, status in (({"visited_on": "2026-11-31"}, 400), ({"contact_ids": "0000001-01"}, 400),
                              ({"manager_id": "AM-NOBODY"}, 404), ({"customer_id": "KA0000099"}, 404),
                              ({"customer_id": 1}, 400), ({"manager_id": None}, 400)):  # no id at all: a bad request
            async with http.post(url + "/admin/visits", json={**visit, **wrong}) as resp:
                assert resp.status == status, wrong
        assert await db.visits.for_customer("KA0000001") == []
        async with http.post(url + "/admin/visits", json=visit) as resp:
            assert resp.status == 201 and (await resp.json())["visit_id"] == visit_id("KA0000001", "AM-CZJ01",
                                                                                     "2026-11-20")
        async with http.post(url + "/admin/visits", json=visit) as resp:
            assert resp.status == 409  # the same manager, customer and day: already recorded
        async with http.get(url + "/admin/visits/due") as resp:
            assert (await resp.json())["accounts"] == []


async def test_broadcasts_are_queued_to_the_senders_scope_and_cancelled_before_they_go(
        db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # Zhejiang: a diamond contact, a 2M circuit
    promotion = {"manager_id": "AM-PZJ", "purpose": "promotion", "text_zh": "千兆专线新品上市，首年八折。",
                 "tiers": ["diamond"], "circuit_type": "digital_2m"}
    async with admin_api(db, gateway, NOW) as (http, url):
        for wrong, status in (({"manager_id": "AM-CZJ01"}, 404), ({"purpose": "spam"}, 400),
                              ({"tiers": ["platinum"]}, 400), ({"text_zh": "短"}, 400),
                              ({"tiers": ["vip"]}, 400), ({"province": "上海市"}, 400)):  # reaching no one
            async with http.post(url + "/admin/broadcasts", json={**promotion, **wrong}) as resp:
                assert resp.status == status, wrong
        assert await db.broadcasts.recent() == []
        async with http.post(url + "/admin/broadcasts", json=promotion) as resp:
            queued = await resp.json()
        assert resp.status == 201 and queued["id"] == "BN-20261123-0001" and queued["status"] == "queued"
        assert queued["audience"] == {"manager_ids": ["AM-CZJ01", "AM-PZJ"], "circuit_type": "digital_2m",
                                      "tiers": ["diamond"]}
        async with http.get(url + "/admin/broadcasts") as resp:
            assert [b["id"] for b in (await resp.json())["broadcasts"]] == [queued["id"]]
        cancel = f"{url}/admin/broadcasts/{queued['id']}/cancel"
        async with http.post(cancel, json={"actor": "市场部张三"}) as resp:
            assert resp.status == 200
        async with http.post(cancel, json={}) as resp:
            assert resp.status == 409
        assert (await db.broadcasts.get(queued["id"])).cancelled_by == "市场部张三"
