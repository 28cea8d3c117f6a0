"""Complaint and fault tickets, their SLA marks and their compensation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, AsyncIterator, Dict, List, Optional, Sequence

from carecore.clock import utcnow
from carecore.model import (
    OPEN_TICKET_STATUSES,
    Credit,
    FollowUp,
    Settlement,
    Survey,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)
from carecore.repository.base import RecordRepository, next_daily_id
from carecore.repository.billing import settle_with_credit
from carecore.repository.errors import write_errors

# Survey send outcomes that reached the provider: only such a survey can be answered by reply.
SURVEY_SENT = ("accepted", "queued", "sending", "sent", "delivered")


class TicketRepository(RecordRepository[Ticket]):
    collection_name = "tickets"
    model = Ticket
    durable = True

    async def next_id(self, kind: TicketKind, day: date) -> str:
        """CP-20261123-0001 / FT-20261123-0001."""
        return await next_daily_id(self._db, "CP" if kind == TicketKind.complaint else "FT", day)

    async def get(self, ticket_id: str, *, customer_id: Optional[str] = None) -> Optional[Ticket]:
        """A ticket; with ``customer_id``, only if it belongs to that customer."""
        query: Dict[str, Any] = {"_id": ticket_id}
        if customer_id is not None:
            query["customer_id"] = customer_id
        doc = await self._col.find_one(query)
        return Ticket.parse_obj(doc) if doc else None

    async def for_customer(self, customer_id: str, *, open_only: bool = False, limit: int = 20,
                           circuit_id: Optional[str] = None, kinds: Sequence[str] = ()) -> List[Ticket]:
        """The customer's tickets, newest first; of one circuit only, when given ("155M那条的故障"), and of the
        kinds given ("投诉处理到哪了")."""
        query = self._of_customer(customer_id, open_only, circuit_id, kinds)
        cursor = self._col.find(query).sort("created_at", -1).limit(limit)
        return [Ticket.parse_obj(doc) async for doc in cursor]

    async def count_for_customer(self, customer_id: str, *, open_only: bool = False,
                                 circuit_id: Optional[str] = None, kinds: Sequence[str] = ()) -> int:
        return await self._col.count_documents(self._of_customer(customer_id, open_only, circuit_id, kinds))

    @staticmethod
    def _of_customer(customer_id: str, open_only: bool, circuit_id: Optional[str] = None,
                     kinds: Sequence[str] = ()) -> Dict[str, Any]:
        query: Dict[str, Any] = {"customer_id": customer_id}
        if open_only:
            query["status"] = {"$in": [s.value for s in OPEN_TICKET_STATUSES]}
        if circuit_id is not None:
            query["circuit_id"] = circuit_id
        if kinds:
            query["kind"] = {"$in": list(kinds)}
        return query

    async def opened_between(self, start: datetime, end: datetime,
                             customer_ids: Optional[Sequence[str]] = None) -> AsyncIterator[Ticket]:
        """Tickets opened in [start, end), oldest first; of these customers only, when given (a manager's scope)."""
        query: Dict[str, Any] = {"created_at": {"$gte": start, "$lt": end}}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        async for doc in self._col.find(query).sort("created_at", 1):
            yield Ticket.parse_obj(doc)

    async def customers_with_open_complaints(self, category: Optional[str] = None) -> List[str]:
        """Customers unhappy right now (about ``category`` only, when given): no promotion may reach them
        (unified customer view)."""
        query = {"kind": TicketKind.complaint.value, "status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]},
                 **({"category": category} if category else {})}
        return await self._col.distinct("customer_id", query)

    async def open_about_managers(self, *, limit: int = 500) -> List[Ticket]:
        """Open complaints about an account manager (``Ticket.about_manager``), oldest first."""
        query = {"kind": TicketKind.complaint.value, "category": "manager",
                 "status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}}
        cursor = self._col.find(query).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [Ticket.parse_obj(doc) async for doc in cursor]

    async def open_with_event(self, action: str, note: str, since: datetime, *, limit: int = 500) -> List[Ticket]:
        """Open tickets with an event of ``action`` and ``note`` in their history since ``since`` (a chase held
        for the morning)."""
        query = {"status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]},
                 "history": {"$elemMatch": {"action": action, "note": note, "at": {"$gte": since}}}}
        cursor = self._col.find(query).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [Ticket.parse_obj(doc) async for doc in cursor]

    async def add_event(self, ticket_id: str, event: TicketEvent, *, set_fields: Optional[Dict[str, Any]] = None) -> bool:
        update: Dict[str, Any] = {
            "$push": {"history": event.to_mongo()},
            "$set": {"updated_at": utcnow(), **(set_fields or {})},
        }
        async with write_errors(self.collection_name):
            result = await self._col.update_one({"_id": ticket_id}, update)
        return result.matched_count == 1

    async def set_status(self, ticket_id: str, status: TicketStatus, event: TicketEvent) -> bool:
        return await self.add_event(ticket_id, event, set_fields={"status": status.value})

    async def resolve(self, ticket_id: str, event: TicketEvent) -> bool:
        """Mark a ticket resolved at ``event.at``; a fault also records when service was restored."""
        return await self._advance(ticket_id, TicketStatus.resolved, "restored_at", event,
                                   extra={"resolved_at": event.at})

    async def reopen(self, ticket_id: str, event: TicketEvent, *, resolved_since: datetime) -> Optional[Ticket]:
        """The fault resolved since then, open again (acknowledged if it was): its customer says it is not fixed.
        Its restore time goes, so that the SLA watch, availability and compensation count the outage to its real
        end; its deadlines stand. None when it was not resolved since then, or was reopened by another."""
        ticket = await self.get(ticket_id)
        if ticket is None:
            return None
        status = TicketStatus.acknowledged if ticket.sla is not None and ticket.sla.responded_at else TicketStatus.open
        async with write_errors(self.collection_name):
            result = await self._col.update_one(
                {"_id": ticket_id, "status": TicketStatus.resolved.value, "resolved_at": {"$gte": resolved_since}},
                {"$push": {"history": event.to_mongo()}, "$set": {"status": status.value, "updated_at": utcnow()},
                 "$unset": {"resolved_at": "", "sla.restored_at": "", "customer_notified_at": ""}})
        return await self.get(ticket_id) if result.modified_count == 1 else None

    @staticmethod
    def _faults_resolved_since(customer_id: str, since: datetime) -> Dict[str, Any]:
        return {"customer_id": customer_id, "kind": TicketKind.fault.value, "status": TicketStatus.resolved.value,
                "resolved_at": {"$gte": since}}

    async def resolved_on_circuit(self, customer_id: str, circuit_id: str, since: datetime) -> Optional[Ticket]:
        """The customer's fault on this circuit resolved most lately, since then."""
        doc = await self._col.find_one({**self._faults_resolved_since(customer_id, since), "circuit_id": circuit_id},
                                       sort=[("resolved_at", -1)])
        return Ticket.parse_obj(doc) if doc else None

    async def circuits_fixed_since(self, customer_id: str, since: datetime) -> List[str]:
        """The circuits of the customer's faults resolved since then: "还是不行" is about one of them."""
        return sorted(await self._col.distinct("circuit_id", self._faults_resolved_since(customer_id, since)))

    async def acknowledge(self, ticket_id: str, event: TicketEvent) -> bool:
        """The account manager took the ticket: a fault's response deadline is met at ``event.at``."""
        return await self._advance(ticket_id, TicketStatus.acknowledged, "responded_at", event)

    async def _advance(self, ticket_id: str, status: TicketStatus, sla_mark: str, event: TicketEvent, *,
                       extra: Optional[Dict[str, Any]] = None) -> bool:
        ticket = await self.get(ticket_id)
        if ticket is None:
            return False
        fields: Dict[str, Any] = {"status": status.value, **(extra or {})}
        if ticket.sla is not None and getattr(ticket.sla, sla_mark) is None:
            fields[f"sla.{sla_mark}"] = event.at
        return await self.add_event(ticket_id, event, set_fields=fields)

    async def open_with_deadlines(self) -> AsyncIterator[Ticket]:
        """Open faults and complaints with deadlines, nearest reply or response deadline first: what the SLA
        watch looks at."""
        query = {"status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}, "sla": {"$ne": None}}
        async for doc in self._col.find(query).sort("sla.response_due", 1):
            yield Ticket.parse_obj(doc)

    async def open_for_customers(self, customer_ids: Optional[Sequence[str]], *, limit: int = 500) -> List[Ticket]:
        """Open tickets of these customers (of all customers with None), oldest first."""
        query: Dict[str, Any] = {"status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        cursor = self._col.find(query).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [Ticket.parse_obj(doc) async for doc in cursor]

    async def record_alert(self, ticket_id: str, key: str, event: TicketEvent) -> bool:
        """Note an SLA warning or escalation once in the ticket's history; False if it was noted before."""
        update: Dict[str, Any] = {"$addToSet": {"alerts": key}, "$push": {"history": event.to_mongo()},
                                  "$set": {"updated_at": utcnow()}}
        if event.level:
            update["$max"] = {"escalation_level": event.level}
        result = await self._col.update_one({"_id": ticket_id, "alerts": {"$ne": key}}, update)
        return result.modified_count == 1

    async def resolved_unnotified(self) -> AsyncIterator[Ticket]:
        """Resolved tickets whose customer has not been told yet."""
        query = {"status": TicketStatus.resolved.value, "customer_notified_at": None}
        async for doc in self._col.find(query).sort("updated_at", 1):
            yield Ticket.parse_obj(doc)

    async def mark_customer_notified(self, ticket_id: str, at: datetime) -> None:
        await self._col.update_one({"_id": ticket_id}, {"$set": {"customer_notified_at": at, "updated_at": utcnow()}})

    async def breached_unsettled(self) -> AsyncIterator[Ticket]:
        """Faults restored after their restore deadline whose compensation notice is not done; a fault
        raised on a circuit in planned maintenance earns no credit."""
        query = {
            "kind": TicketKind.fault.value, "maintenance_id": None,
            "compensation.notified_at": None,
            "status": {"$in": [TicketStatus.resolved.value, TicketStatus.closed.value]},
            "$expr": {"$gt": ["$sla.restored_at", "$sla.restore_due"]},
        }
        async for doc in self._col.find(query).sort("_id", 1):
            yield Ticket.parse_obj(doc)

    async def credit_undecided(self, customer_id: str, now: datetime, *, limit: int = 100) -> List[Ticket]:
        """A customer's faults past their restore deadline whose credit is not decided yet: restored late (the care
        scheduler settles them) or still open; oldest first. None raised in planned maintenance: they earn none."""
        late = {"$expr": {"$gt": ["$sla.restored_at", "$sla.restore_due"]},
                "status": {"$in": [TicketStatus.resolved.value, TicketStatus.closed.value]}}
        still_open = {"sla.restored_at": None, "status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}}
        query = {"customer_id": customer_id, "kind": TicketKind.fault.value, "maintenance_id": None,
                 "compensation": None, "sla.restore_due": {"$lt": now}, "$or": [late, still_open]}
        cursor = self._col.find(query).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [Ticket.parse_obj(doc) async for doc in cursor]

    async def settle_compensation(self, ticket_id: str, settlement: Settlement, credit: Optional[Credit]) -> bool:
        return await settle_with_credit(self._db, self.collection_name, {"_id": ticket_id, "compensation": None},
                             {"compensation": settlement.to_mongo()}, credit)

    async def mark_compensation_notified(self, ticket_id: str, at: datetime, notice_status: str) -> None:
        await self._col.update_one({"_id": ticket_id}, {"$set": {
            "compensation.notified_at": at, "compensation.notice_status": notice_status, "updated_at": utcnow()}})

    async def survey_due(self, resolved_from: datetime, resolved_until: datetime) -> AsyncIterator[Ticket]:
        """Tickets resolved in this span without a survey yet: a ticket resolved before surveys existed
        has no ``resolved_at`` and is never surveyed."""
        query = {"resolved_at": {"$gte": resolved_from, "$lte": resolved_until}, "survey": None,
                 "status": {"$in": [TicketStatus.resolved.value, TicketStatus.closed.value]}}
        async for doc in self._col.find(query).sort("resolved_at", 1):
            yield Ticket.parse_obj(doc)

    async def record_survey(self, ticket_id: str, survey: Survey) -> bool:
        """The survey's send outcome, once per ticket; False if one was recorded before."""
        result = await self._col.update_one({"_id": ticket_id, "survey": None},
                                            {"$set": {"survey": survey.to_mongo(), "updated_at": utcnow()}})
        return result.modified_count == 1

    async def survey_waiting(self, contact_id: str, sent_since: datetime) -> Optional[Ticket]:
        """The latest survey sent to this contact since then and not answered yet."""
        doc = await self._col.find_one(
            {"survey.contact_id": contact_id, "survey.sent_at": {"$gte": sent_since}, "survey.score": None,
             "survey.outcome": {"$in": list(SURVEY_SENT)}}, sort=[("survey.sent_at", -1)])
        return Ticket.parse_obj(doc) if doc else None

    async def answer_survey(self, ticket_id: str, fields: Dict[str, Any], event: TicketEvent,
                            followup: Optional[FollowUp]) -> bool:
        """Record the one answer of a ticket's survey (and the follow-up a low score opens); False if it
        was answered before."""
        update: Dict[str, Any] = {**{f"survey.{k}": v for k, v in fields.items()}, "updated_at": utcnow()}
        if followup is not None:
            update["followup"] = followup.to_mongo()
        result = await self._col.update_one({"_id": ticket_id, "survey": {"$ne": None}, "survey.score": None},
                                            {"$set": update, "$push": {"history": event.to_mongo()}})
        return result.modified_count == 1

    async def followups_open(self, customer_ids: Optional[Sequence[str]] = None, *,
                             due_before: Optional[datetime] = None) -> List[Ticket]:
        """Tickets whose follow-up is not done, soonest due first (of these customers, or all; overdue only
        with ``due_before``)."""
        due: Dict[str, Any] = {"$exists": True, **({"$lt": due_before} if due_before else {})}
        query: Dict[str, Any] = {"followup.done_at": None, "followup.due": due}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        return [Ticket.parse_obj(doc) async for doc in self._col.find(query).sort("followup.due", 1).limit(500)]

    async def close_followup(self, ticket_id: str, event: TicketEvent) -> bool:
        """The account manager's note of the call closes the follow-up; False if it was closed before."""
        result = await self._col.update_one(
            {"_id": ticket_id, "followup.due": {"$exists": True}, "followup.done_at": None},
            {"$set": {"followup.done_at": event.at, "followup.done_by": event.actor, "followup.note": event.note,
                      "updated_at": utcnow()}, "$push": {"history": event.to_mongo()}})
        return result.modified_count == 1
