"""What the SLA answer tells of a month beside the terms: how its faults fared against their deadlines, and each
circuit's availability (可用率), the figure a leased-line contract states."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import List, Optional

from carecore.availability import downtime, percent
from carecore.model import Circuit, Ticket
from carecore.texts import fmt_duration, yuan

# "专线最近稳定吗", "has our line been stable lately?": how it has run, which the record and availability say
STABILITY_QUESTION = re.compile(r"稳定|可靠|\bstable\b|\breliab", re.I)
AVAILABILITY_QUESTION = re.compile(r"可用率|可用性|在线率|uptime|availability|" + STABILITY_QUESTION.pattern, re.I)


def month_record(faults: List[Ticket], now: datetime, lang: str, month: Optional[str] = None) -> str:
    """How this month's faults (or those of ``month``, as shown) fared against their deadlines; one reported in a
    planned maintenance window is counted apart, as it earns no credit."""
    if not faults:
        return (f"No fault reported in {month}." if month else "No fault reported this month.") if lang == "en" \
            else f"{month or '本月'}暂无故障报修。"
    in_window = sum(1 for t in faults if t.maintenance_id)
    outcomes = Counter(t.sla.outcome(now) for t in faults if t.sla and not t.maintenance_id)
    credited = sum(t.compensation.credit_fen for t in faults if t.compensation)
    if lang == "en":
        parts = [f"{n} {what}" for n, what in ((outcomes["met"], "within the deadlines"), (outcomes["missed"], "late"),
                                               (outcomes["pending"], "still open and on time"),
                                               (in_window, "during planned maintenance")) if n]
        credit = f" Credited {yuan(credited)} yuan on the next bill." if credited else ""
        return (f"{month or 'This month'}: {len(faults)} fault{'s' if len(faults) > 1 else ''} reported "
                f"({', '.join(parts)}).{credit}")
    parts = [f"{what}{n}次" for n, what in ((outcomes["met"], "按时"), (outcomes["missed"], "超时"),
                                           (outcomes["pending"], "处理中未超时"), (in_window, "计划维护期间"))
             if n]
    credit = f"已补偿{yuan(credited)}元，在下期账单中体现。" if credited else ""
    return f"{month or '本月'}报障{len(faults)}次（{'，'.join(parts)}）。{credit}"


def availability(tickets: List[Ticket], circuits: List[Circuit], start: datetime, end: datetime, lang: str,
                 asked: str, month: Optional[str] = None) -> str:
    """The availability of ``circuits`` over [start, end), the time down named; circuits never down are "the
    others". Said when any was down, or when asked ("上个月可用率多少"): otherwise "no fault" says it."""
    shown = {circuit.circuit_id for circuit in circuits}
    down = {circuit_id: d for circuit_id, d in downtime(tickets, start, end).items() if circuit_id in shown}
    if not down and not AVAILABILITY_QUESTION.search(asked):
        return ""
    span = end - start
    each = [(circuit_id, percent(d, span), fmt_duration(d, lang))
            for circuit_id, d in sorted(down.items(), key=lambda item: -item[1])]
    if lang == "en":
        named = "; ".join(f"{c} {p} % (down {d})" if len(circuits) > 1 else f"{p} % (down {d})" for c, p, d in each)
        rest = ("; the others 100 %" if named else "100 %") if len(down) < len(circuits) else ""
        return (f" Availability {'in ' + month if month else 'this month'} (from each fault's report to its restore, "
                f"planned maintenance aside): {named}{rest}.")
    named = "，".join(f"{c} {p}%（中断{d}）" if len(circuits) > 1 else f"{p}%（中断{d}）" for c, p, d in each)
    rest = ("，其余100%" if named else "100%") if len(down) < len(circuits) else ""
    return f"{month or '本月'}可用率（按报障至修复计，计划维护除外）：{named}{rest}。"

