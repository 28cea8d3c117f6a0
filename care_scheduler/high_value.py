"""The high-value flag (高值客户), set each month from billing, beside the class a manager or the CRM gives.

A customer is high value while its billed amount, averaged over the last three complete months
(a month without a record counts as nothing billed), reaches ``HIGH_VALUE_THRESHOLD_YUAN``. The job
never touches the class, and every change is in the audit log. Until billing's last month is
loaded it changes nothing, so a late billing import does not clear every flag.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Dict, List, Optional

from carecore.clock import Clock
from carecore.config import Settings
from carecore.model import ChangeSource, month_key
from carecore.months import shift_month
from carecore.repository import Database
from carecore.texts import yuan

log = logging.getLogger(__name__)


async def mark_high_value(db: Database, settings: Settings, clock: Clock, *,
                          today: Optional[date] = None) -> Dict[str, int]:
    """Set and clear the flag; the counts of what changed (``skipped`` 1 when billing is not loaded yet)."""
    today = today or clock.today()
    months = [shift_month(month_key(today), -back) for back in (1, 2, 3)]
    if not await db.usage.has_month(months[0]):
        log.warning("high value: no billing for %s yet; flags left as they are", months[0])
        return {"set": 0, "cleared": 0, "skipped": 1}
    averages = {customer_id: fen for customer_id, (fen,) in (await db.usage.average_amounts([months])).items()}
    threshold = round(settings.high_value_threshold_yuan * 100)
    flags = await db.customers.high_value_flags()
    now = clock.now()
    changed: Dict[bool, List[str]] = {True: [], False: []}
    for customer_id, flag in flags.items():
        wanted = averages.get(customer_id, 0) >= threshold
        if wanted != flag:
            changed[wanted].append(customer_id)
    for flag, ids in changed.items():
        await db.customers.set_high_value(ids, flag, now)
    await db.audit.record([
        {"at": now, "source": ChangeSource.job, "actor": "high_value", "entity": "customer", "entity_id": customer_id,
         "customer_id": customer_id, "action": "high_value_set" if flag else "high_value_cleared",
         "changes": {"high_value": [not flag, flag]},
         "note": f"average {yuan(averages.get(customer_id, 0))} over {', '.join(months)}"}
        for flag, ids in changed.items() for customer_id in ids])
    counts = {"set": len(changed[True]), "cleared": len(changed[False]), "skipped": 0}
    log.info("high value from %s: %s", ", ".join(months), counts)
    return counts
