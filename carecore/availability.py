"""A circuit's availability (可用率) over a span, the figure a leased-line customer holds the SLA to: the share of
the span outside its reported faults. An outage runs from the report to the restore, as the SLA deadlines and the
KPIs' time to restore count it; a fault raised in a planned maintenance window is left out, as it earns no credit."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Tuple

from carecore.model import Ticket, TicketKind, TicketStatus


def outage(ticket: Ticket, until: datetime) -> Tuple[datetime, datetime]:
    """When a fault ticket's outage began and ended: still running at ``until`` while the ticket is open; a ticket
    closed without a restore (withdrawn, say) ended when it was closed."""
    end = (ticket.sla.restored_at if ticket.sla else None) or ticket.resolved_at
    if end is None:
        end = ticket.updated_at if ticket.status == TicketStatus.closed else until
    return ticket.created_at, end


def downtime(tickets: Iterable[Ticket], start: datetime, end: datetime) -> Dict[str, timedelta]:
    """Time down in [start, end) per circuit: the union of its faults' outages, so two reports of one outage
    count once."""
    spans: Dict[str, List[Tuple[datetime, datetime]]] = {}
    for t in tickets:
        if t.kind == TicketKind.fault and t.circuit_id and not t.maintenance_id:
            began, ended = outage(t, end)
            if ended > start and began < end:
                spans.setdefault(t.circuit_id, []).append((max(began, start), min(ended, end)))
    down: Dict[str, timedelta] = {}
    for circuit_id, outages in spans.items():
        total, reached = timedelta(0), start
        for began, ended in sorted(outages):
            began = max(began, reached)
            if ended > began:
                total, reached = total + (ended - began), ended
        down[circuit_id] = total
    return {c: d for c, d in down.items() if d > timedelta(0)}


def percent(down: timedelta, span: timedelta) -> str:
    """"99.86" (rounded down, so that any time down never reads as 100), or "100"."""
    if down <= timedelta(0) or span <= timedelta(0):
        return "100"
    return f"{math.floor(10000 * (1 - min(down / span, 1))) / 100:.2f}"
