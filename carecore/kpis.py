"""The key-account KPIs: what each figure counts, its target, and the figures of a scope from its managers' counts.

Counts are kept per account manager and month (``carecore.repository.kpis`` recounts them from the raw
records); a scope's figures are the sums over its managers, so a province's equal the sum of its
cities'. Each event counts for the manager its customer had when it happened (stamped on the ticket,
message or session), so moving a customer later does not rewrite history. Sessions of unverified
chats count under ``UNATTRIBUTED``, which only group sees.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, Iterable, List, Mapping, Optional

UNATTRIBUTED = "-"
# Messages to customers whose delivery the care figure measures (not staff alerts or briefs).
CARE_KINDS = ("birthday", "holiday", "usage", "compensation", "survey", "maintenance", "arrears", "broadcast")
SENT_STATUSES = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")
# The operator's targets: complaint rate under 5 %, satisfaction of 90 % or more.
TARGETS: Dict[str, Dict[str, float]] = {"complaint_rate": {"below": 0.05}, "satisfaction": {"at_least": 0.90}}
HEADLINE = ("accounts", "complaints", "complaint_rate", "satisfaction", "survey_response_rate", "sla_compliance",
            "mean_time_to_restore_hours", "followups_on_time", "care_delivery_rate")


def _ratio(numerator: float, denominator: float) -> Optional[float]:
    return round(numerator / denominator, 4) if denominator else None


def total(counts: Iterable[Mapping[str, int]]) -> Counter:
    summed: Counter = Counter()
    for one in counts:
        summed.update(one)
    return summed


def figures(counts: Mapping[str, int]) -> Dict[str, Any]:
    """The figures (documented in docs/kpis.md) from one scope's summed counts; a ratio with nothing to
    divide by is None."""
    c = Counter(counts)
    care = {kind: _ratio(c[f"care_delivered:{kind}"], c[f"care_sent:{kind}"]) for kind in CARE_KINDS
            if c[f"care_sent:{kind}"]}
    return {
        "accounts": c["accounts"],
        "complaints": c["complaints"],
        "complaint_rate": _ratio(c["complaints"], c["accounts"]),
        "compliments": c["compliments"],
        "surveys_sent": c["surveys_sent"],
        "surveys_answered": c["surveys_answered"],
        "satisfaction": _ratio(c["surveys_satisfied"], c["surveys_answered"]),
        "survey_response_rate": _ratio(c["surveys_answered"], c["surveys_sent"]),
        "deadlines_met": c["deadlines_met"],
        "deadlines_missed": c["deadlines_missed"],
        "sla_compliance": _ratio(c["deadlines_met"], c["deadlines_met"] + c["deadlines_missed"]),
        "restores": c["restores"],
        "mean_time_to_restore_hours": _ratio(c["restore_minutes"], c["restores"] * 60),
        "followups_on_time": _ratio(c["followups_on_time"], c["followups_on_time"] + c["followups_late"]),
        "care_delivery_rate": _ratio(sum(c[f"care_delivered:{k}"] for k in CARE_KINDS),
                                     sum(c[f"care_sent:{k}"] for k in CARE_KINDS)),
        "care_delivery_by_kind": care,
        "conversations": c["conversations"],
        "containment": _ratio(c["contained"], c["conversations"]),
        "fallback_rate": _ratio(c["fallback_conversations"], c["conversations"]),
        "verification_success": _ratio(c["verified"], c["verifications_started"]),
    }


def shown(value: Any, how: str) -> str:
    """A figure as the dashboard, its downloads and the roll-up SMS show it."""
    if value is None:
        return "-"
    if how == "pct":
        return f"{value * 100:.1f}%"
    if how == "hours":
        return f"{value:.1f} h"
    return f"{value:,}"


def off_target(figs: Mapping[str, Any]) -> List[str]:
    """The figures that miss their target."""
    missed = []
    for name, target in TARGETS.items():
        value = figs.get(name)
        if value is None:
            continue
        if ("below" in target and value >= target["below"]) or ("at_least" in target and value < target["at_least"]):
            missed.append(name)
    return missed
