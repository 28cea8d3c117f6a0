"""Record gaps (资料缺口): which accounts care cannot fully reach, counted in MongoDB."""

from __future__ import annotations

import copy
from datetime import datetime

from care_scheduler.record_gaps import record_gaps
from carecore.repository import Database
from tests import factories


async def test_each_gap_is_named_and_complete_records_are_left_out(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # complete: both birthdays, a billing contact
    contacts = copy.deepcopy(factories.customer()["contacts"])
    gaps = {
        "KA0000002": {"contacts": [{**contacts[0], "contact_id": "0000002-01", "mobile": "+8613600136000",
                                    "billing_contact": False, "birthday": None}]},
        "KA0000003": {"contacts": []},
        "KA0000004": {"contacts": [{**c, "contact_id": f"0000004-0{n}", "mobile": f"+861360013600{n}",
                                    "sms_opt_out": True} for n, c in enumerate(contacts, 1)]},
        "KA0000005": {"account_manager_id": "AM-LEFT", "contacts": []},
        "KA0000007": {"contacts": [{**contacts[0], "contact_id": "0000007-01", "mobile": "+8613600136007",
                                    "sms_opt_out": True, "number_disowned_at": datetime(2026, 11, 2)},
                                   {**contacts[1], "contact_id": "0000007-02", "mobile": "+8613600136008"}]},
    }
    for customer_id, overrides in gaps.items():
        await db.customers.insert(factories.customer(_id=customer_id, services=[], **overrides))
    await db.managers.set_active("AM-PZJ", False)
    await db.customers.insert(factories.customer(_id="KA0000006", account_manager_id="AM-PZJ", contacts=[],
                                                 services=[]))

    found = {g.customer_id: g for g in await record_gaps(db, None)}
    assert {customer_id: g.gaps for customer_id, g in found.items()} == {
        "KA0000002": ("no_billing_contact", "no_birthday"),
        "KA0000003": ("no_contacts",),
        "KA0000004": ("all_opted_out",),
        "KA0000005": ("no_manager", "no_contacts"),
        "KA0000006": ("no_manager", "no_contacts"),
        "KA0000007": ("number_disowned", "no_billing_contact"),  # the billing contact is the one gone
    }
    assert (found["KA0000002"].contacts, found["KA0000002"].without_birthday) == (1, 1)
    assert [g.customer_id for g in await record_gaps(db, ["AM-CZJ01"])] == ["KA0000002", "KA0000003", "KA0000004",
                                                                          "KA0000007"]
