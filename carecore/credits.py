"""What a customer is owed back, read the same by the assistant ("有补偿吗") and the console's customer page: credits
granted, bill claims being checked, and faults past their restore deadline whose credit is not decided yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List

from carecore.config import Settings
from carecore.model import CompensationClaim, Credit, Customer, Ticket
from carecore.repository import Database


@dataclass
class OwedBack:
    credits: List[Credit]  # those on the latest bills, newest first
    earlier_credits: int  # how many more there are
    claims: List[CompensationClaim]  # oldest first
    late_faults: List[Ticket]  # oldest first

    def __bool__(self) -> bool:
        return bool(self.credits or self.claims or self.late_faults)


async def owed_back(db: Database, customer_id: str, now: datetime, *, credits_listed: int) -> OwedBack:
    credits = await db.credits.for_customer(customer_id, limit=credits_listed)
    earlier = await db.credits.count_for_customer(customer_id) - len(credits) if len(credits) == credits_listed else 0
    return OwedBack(credits, earlier, await db.claims.pending_for_customers([customer_id]),
                    await db.tickets.credit_undecided(customer_id, now))


def fault_credit_fen(settings: Settings, customer: Customer, circuit_id: str) -> int:
    """The credit a fault on ``circuit_id`` restored late earns: its circuit's SLA class, basic once the circuit has
    left the account."""
    return settings.sla_credit_fen(customer.credit_class(circuit_id))
