"""Customer visits (客户拜访): an account manager's record of meeting a key account."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import List, Optional

from pydantic import Field, constr, validator

from carecore.model.base import ID_PATTERN, Model

# VS-<day>-<10 hex> from the customer and manager (visit_id); numbered VS-<day>-<nnnn> ids stay valid
VISIT_ID_PATTERN = r"^VS-[0-9]{8}-([0-9]{4,6}|[0-9a-f]{10})$"
ContactId = constr(max_length=40)


def visit_id(customer_id: str, manager_id: str, visited_on: str) -> str:
    """A visit is one manager meeting one customer on one day: the console, the admin API and an imported
    history name it alike, so a visit recorded here and loaded again from a CRM stays one record."""
    digest = hashlib.blake2b(f"{customer_id}|{manager_id}".encode(), digest_size=5).hexdigest()
    return f"VS-{visited_on.replace('-', '')}-{digest}"


class Visit(Model):
    """``visited_on`` is the business-timezone day as ``YYYY-MM-DD``: a calendar day, sortable as text."""

    id: str = Field(..., alias="_id", regex=VISIT_ID_PATTERN)
    customer_id: str = Field(..., regex=ID_PATTERN)
    manager_id: str = Field(..., regex=ID_PATTERN)  # who went
    visited_on: str = Field(..., regex=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    contact_ids: List[ContactId] = Field(default_factory=list, max_items=50)  # type: ignore[valid-type]
    notes: str = Field(..., min_length=4, max_length=2000)
    next_step: Optional[str] = Field(None, max_length=500)
    created_at: datetime

    @validator("visited_on")
    def _a_real_day(cls, value: str) -> str:  # noqa: N805
        date.fromisoformat(value)  # 2026-02-30 raises: an impossible date is refused
        return value

    @property
    def day(self) -> date:
        return date.fromisoformat(self.visited_on)
