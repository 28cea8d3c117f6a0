"""Record gaps (资料缺口): what the customer records in scope lack for care, so that an operator loading a
CRM's data learns which accounts care cannot reach before a campaign quietly passes them by.

A campaign skips what it cannot do and says so only in its own report: a contact without a birthday is
never greeted, an account whose contacts all opted out gets no greeting or promotion, one with no
contacts gets no SMS at all and cannot be verified by the assistant, a contact whose number its holder
disowned ("我已经离职了") is reached no more until someone gives them another mobile, one without a
billing contact has its usage SMS and payment reminders sent to its first contact, and one whose manager
is deactivated is answered for by the manager above (``acting_manager``) until someone reassigns it. The
console lists them, the admin API gives them, and `reassign` on the team page or an import mends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

from carecore.repository import Database

# In the order the report shows them: the gaps that stop the most care first.
GAPS = ("no_manager", "no_contacts", "all_opted_out", "number_disowned", "no_billing_contact", "no_birthday")


@dataclass(frozen=True)
class RecordGaps:
    customer_id: str
    company: str
    manager_id: str
    contacts: int
    gaps: Tuple[str, ...]  # of GAPS, in its order
    without_birthday: int  # contacts without one


async def record_gaps(db: Database, manager_ids: Optional[Iterable[str]]) -> List[RecordGaps]:
    """The accounts of these managers (every account with None) with a gap, in id order."""
    active = [m.id for m in await db.managers.all() if m.active]
    found: List[RecordGaps] = []
    async for doc in db.customers.record_counts(None if manager_ids is None else sorted(manager_ids), active):
        contacts = doc["contacts"]
        present = {
            "no_manager": not doc["manager_active"],
            "no_contacts": contacts == 0,
            "all_opted_out": contacts > 0 and doc["opted_out"] == contacts,
            "number_disowned": doc["disowned"] > 0,
            "no_billing_contact": contacts > 0 and not doc["billing_contact"],
            "no_birthday": doc["no_birthday"] > 0,
        }
        found.append(RecordGaps(doc["_id"], doc["company_name"], doc["account_manager_id"], contacts,
                                tuple(gap for gap in GAPS if present[gap]), doc["no_birthday"]))
    return found
