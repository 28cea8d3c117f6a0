"""KPI counts: recounted from the raw records for one month, per account manager, and kept per month.

A recount reads the month's tickets, messages, assistant sessions and compliments (and the customers, for the
account count) and replaces the month's stored counts whole: nothing is added up incrementally, so
a rerun or a crash in the middle leaves nothing counted twice. The dashboard reads the stored counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Tuple

from carecore.kpis import CARE_KINDS, SENT_STATUSES, UNATTRIBUTED
from carecore.repository.base import Repository

SURVEY_SENT = ("accepted", "queued", "sending", "sent", "delivered")
Counts = Dict[str, Counter]


def _within(moment: Optional[datetime], start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


class KpiRepository(Repository):
    collection_name = "kpi_months"

    async def stored(self, months: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        """month -> {"computed_at", "counts": {manager_id: {name: n}}} of the months kept."""
        return {doc["_id"]: doc async for doc in self._col.find({"_id": {"$in": list(months)}})}

    async def store(self, month: str, counts: Counts, computed_at: datetime) -> None:
        doc = {"_id": month, "computed_at": computed_at, "counts": {m: dict(c) for m, c in counts.items()}}
        await self._col.replace_one({"_id": month}, doc, upsert=True)

    async def recount(self, start: datetime, end: datetime, now: datetime) -> Counts:
        """Every count of the month [start, end) as it stands at ``now``, per manager."""
        counts: Counts = defaultdict(Counter)
        async for row in self._db["customers"].aggregate(
                [{"$group": {"_id": "$account_manager_id", "n": {"$sum": 1}}}]):
            counts[row["_id"]]["accounts"] += row["n"]
        await self._count_tickets(counts, start, end, now)
        await self._count_sends(counts, start, end)
        await self._count_sessions(counts, start, end)
        await self._count_compliments(counts, start, end)
        return counts

    async def _managers_of(self, customer_ids: Iterable[str]) -> Dict[str, str]:
        """Today's manager of customers whose records carry none (written before records were stamped)."""
        ids = sorted(set(customer_ids))
        if not ids:
            return {}
        cursor = self._db["customers"].find({"_id": {"$in": ids}}, {"account_manager_id": 1})
        return {doc["_id"]: doc["account_manager_id"] async for doc in cursor}

    async def _count_tickets(self, counts: Counts, start: datetime, end: datetime, now: datetime) -> None:
        span = {"$gte": start, "$lt": end}
        query = {"$or": [{"created_at": span}, {"survey.sent_at": span}, {"sla.response_due": span},
                         {"sla.restore_due": span}, {"sla.restored_at": span}, {"followup.due": span}]}
        fields = {"kind": 1, "customer_id": 1, "manager_id": 1, "created_at": 1, "sla": 1, "survey": 1, "followup": 1}
        tickets = [doc async for doc in self._db["tickets"].find(query, fields)]
        fallback = await self._managers_of(t["customer_id"] for t in tickets if not t.get("manager_id"))
        for t in tickets:
            owner = t.get("manager_id") or fallback.get(t["customer_id"], UNATTRIBUTED)
            for name, n in _ticket_counts(t, start, end, now):
                counts[owner][name] += n

    async def _count_sends(self, counts: Counts, start: datetime, end: datetime) -> None:
        match = {"created_at": {"$gte": start, "$lt": end}, "kind": {"$in": list(CARE_KINDS)},
                 "status": {"$in": list(SENT_STATUSES)}}
        by = {"k": "$kind", "s": "$status", "m": "$meta.manager_id",
              "c": {"$cond": [{"$ifNull": ["$meta.manager_id", False]}, None, "$customer_id"]}}
        rows = [row async for row in self._db["sends"].aggregate(
            [{"$match": match}, {"$group": {"_id": by, "n": {"$sum": 1}}}], allowDiskUse=True)]
        fallback = await self._managers_of(r["_id"]["c"] for r in rows if r["_id"].get("c"))
        for row in rows:
            key = row["_id"]
            owner = key.get("m") or fallback.get(key.get("c") or "", UNATTRIBUTED)
            counts[owner][f"care_sent:{key['k']}"] += row["n"]
            if key["s"] == "delivered":
                counts[owner][f"care_delivered:{key['k']}"] += row["n"]

    async def _count_sessions(self, counts: Counts, start: datetime, end: datetime) -> None:
        pipeline: List[Dict[str, Any]] = [
            {"$match": {"started_at": {"$gte": start, "$lt": end}}},
            {"$group": {"_id": "$manager_id", "conversations": {"$sum": 1},
                        "contained": {"$sum": {"$cond": ["$escalated", 0, 1]}},
                        "fallback_conversations": {"$sum": {"$cond": [{"$gt": ["$fallbacks", 0]}, 1, 0]}},
                        "verifications_started": {"$sum": "$verifications_started"},
                        "verified": {"$sum": {"$cond": ["$verified", 1, 0]}}}}]
        async for row in self._db["assistant_sessions"].aggregate(pipeline):
            owner = row.pop("_id") or UNATTRIBUTED
            counts[owner].update({k: v for k, v in row.items() if v})


    async def _count_compliments(self, counts: Counts, start: datetime, end: datetime) -> None:
        pipeline = [{"$match": {"created_at": {"$gte": start, "$lt": end}}},
                    {"$group": {"_id": "$manager_id", "n": {"$sum": 1}}}]
        async for row in self._db["compliments"].aggregate(pipeline):
            counts[row["_id"] or UNATTRIBUTED]["compliments"] += row["n"]


def _ticket_counts(t: Dict[str, Any], start: datetime, end: datetime, now: datetime) -> List[Tuple[str, int]]:
    """What one ticket adds to its manager's counts for the month."""
    out: List[Tuple[str, int]] = []
    if t["kind"] == "complaint" and _within(t.get("created_at"), start, end):
        out.append(("complaints", 1))
    survey = t.get("survey") or {}
    if _within(survey.get("sent_at"), start, end) and survey.get("outcome") in SURVEY_SENT:
        out.append(("surveys_sent", 1))
        if survey.get("score"):
            out += [("surveys_answered", 1)] + ([("surveys_satisfied", 1)] if survey["score"] >= 4 else [])
    sla = t.get("sla") or {}
    responded = min((m for m in (sla.get("responded_at"), sla.get("restored_at")) if m), default=None)
    for due, met in ((sla.get("response_due"), responded), (sla.get("restore_due"), sla.get("restored_at"))):
        if not _within(due, start, end):
            continue
        if met is not None and met <= due:
            out.append(("deadlines_met", 1))
        elif met is not None or due < now:
            out.append(("deadlines_missed", 1))
    if t["kind"] == "fault" and _within(sla.get("restored_at"), start, end):
        out += [("restores", 1), ("restore_minutes", round((sla["restored_at"] - t["created_at"]).total_seconds() / 60))]
    followup = t.get("followup") or {}
    if _within(followup.get("due"), start, end):
        done = followup.get("done_at")
        if done is not None and done <= followup["due"]:
            out.append(("followups_on_time", 1))
        elif done is not None or followup["due"] < now:
            out.append(("followups_late", 1))
    return out
