"""Every MongoDB call of the product, and the only module that imports a driver.

Motor is deprecated upstream in favour of PyMongo's async API, which rasa 3.6's
pymongo pin rules out for now. Keeping the driver behind this one module means the
swap later touches one file. (Rasa's own tracker store talks to MongoDB itself.)

Writes are validated twice: by the typed models here, with errors that name the
field, and by the collection's ``$jsonSchema`` validator, which also guards
writes that bypass this code.
"""

from __future__ import annotations

import logging
import secrets
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generic,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
)

import pymongo
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorClientSession, AsyncIOMotorDatabase
from pydantic import BaseModel, ValidationError
from pymongo.errors import (
    BulkWriteError,
    CollectionInvalid,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    WriteError,
)

from carecore.clock import utcnow
from carecore.models import (
    OPEN_TICKET_STATUSES,
    UNFINISHED_VALUES,
    AccountManager,
    BillDeliveryRecord,
    ClaimStatus,
    CompensationClaim,
    Contact,
    Credit,
    Customer,
    Escalation,
    EscalationStatus,
    LoginFailure,
    OtpChallenge,
    ParkedCallback,
    SendRecord,
    SendStatus,
    Settlement,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
    UsageMonth,
)
from carecore.phones import InvalidPhoneNumber, mask, to_e164
from carecore.schemas import AUXILIARY_COLLECTIONS, COLLECTIONS, RETIRED_COLLECTIONS, RETIRED_INDEXES, json_schema_for

log = logging.getLogger(__name__)

# (calendar, month, days): the birthdays greeted on one day, as care_scheduler.calendar gives them.
BirthdaySelection = Tuple[str, int, Sequence[int]]
T = TypeVar("T")

M = TypeVar("M", bound=BaseModel)

# Driver errors callers may need to tell apart without importing the driver.
DatabaseError = PyMongoError


class RecordValidationError(ValueError):
    """A write was refused because of its content; ``errors`` names each bad field."""

    def __init__(self, collection: str, errors: Sequence[Tuple[str, str]]) -> None:
        self.collection = collection
        self.errors = list(errors)
        detail = "; ".join(f"{field}: {message}" for field, message in self.errors)
        super().__init__(f"invalid {collection} record: {detail}")

    @property
    def fields(self) -> List[str]:
        return [field for field, _ in self.errors]


class DuplicateRecordError(ValueError):
    """A unique field (a mobile, a contact id, a customer id) is already taken."""

    def __init__(self, collection: str, field: str) -> None:
        self.collection, self.field = collection, field
        super().__init__(f"{collection}: {field} already exists")


def _validate(model: Type[M], collection: str, data: Any) -> M:
    if isinstance(data, model):
        data = data.dict(by_alias=True)
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        errors = [
            (".".join(str(part) for part in err["loc"] if part != "__root__") or "record", err["msg"])
            for err in exc.errors()
        ]
        raise RecordValidationError(collection, errors) from None


def _duplicate_field(exc: Exception) -> str:
    details = getattr(exc, "details", None) or {}
    key_pattern = details.get("keyPattern") or {}
    return ",".join(key_pattern) or "_id"


def _schema_failure(collection: str, exc: WriteError) -> RecordValidationError:
    details = (exc.details or {}).get("errInfo", {}).get("details", {})
    errors: List[Tuple[str, str]] = []
    for rule in details.get("schemaRulesNotSatisfied", []):
        for prop in rule.get("propertiesNotSatisfied", []):
            errors.append((prop.get("propertyName", "?"), str(prop.get("details", "invalid"))[:200]))
        for missing in rule.get("missingProperties", []):
            errors.append((missing, "field required"))
    return RecordValidationError(collection, errors or [("record", "document failed validation")])


@asynccontextmanager
async def _write_errors(collection: str) -> AsyncIterator[None]:
    try:
        yield
    except DuplicateKeyError as exc:
        raise DuplicateRecordError(collection, _duplicate_field(exc)) from None
    except WriteError as exc:
        if exc.code == 121:
            raise _schema_failure(collection, exc) from None
        raise


async def _transactional(db: AsyncIOMotorDatabase, session: Optional[AsyncIOMotorClientSession],
                        work: Callable[[AsyncIOMotorClientSession], Awaitable[T]]) -> T:
    """``work`` in the caller's transaction when it has one, else in one of its own.

    Our own goes through ``with_transaction``, which retries a transient write
    conflict (an opt-out recorded on the same profile meanwhile) instead of failing.
    """
    if session is not None:
        return await work(session)
    async with await db.client.start_session() as own:
        return await own.with_transaction(work)


class _Repository:
    collection_name: str

    def __init__(self, db: AsyncIOMotorDatabase) -> None:
        self._db = db
        self._col = db[self.collection_name]


class CustomerRepository(_Repository):
    collection_name = "customers"

    async def insert(self, data: Any, *, session: Optional[AsyncIOMotorClientSession] = None) -> Customer:
        """Insert a profile, in the caller's transaction if it gives one."""
        customer = _validate(Customer, self.collection_name, data)
        now = utcnow()
        customer.created_at = customer.created_at or now
        customer.updated_at = now
        async with _write_errors(self.collection_name):
            await self._col.insert_one(customer.to_mongo(), session=session)
        return customer

    async def replace(self, data: Any) -> Customer:
        customer = _validate(Customer, self.collection_name, data)
        customer.updated_at = utcnow()
        async with _write_errors(self.collection_name):
            result = await self._col.replace_one({"_id": customer.id}, customer.to_mongo())
        if result.matched_count == 0:
            raise KeyError(customer.id)
        return customer

    async def insert_many(self, docs: Iterable[Dict[str, Any]], *, check_models: bool = True) -> List[str]:
        """Bulk insert: unordered, duplicates skipped (idempotent); returns the new ids.

        ``check_models=False`` skips the pydantic pass and leaves validation to the
        collection's ``$jsonSchema`` alone: for generated bulk data (a million
        contacts), whose generator is itself tested against the models.
        """
        now = utcnow()
        batch = []
        for doc in docs:
            if check_models:
                doc = _validate(Customer, self.collection_name, doc).to_mongo()
            batch.append({**doc, "created_at": doc.get("created_at") or now, "updated_at": now})
        if not batch:
            return []
        async with _write_errors(self.collection_name):
            return await _insert_many_skipping_duplicates(self._col, batch)

    async def get(self, customer_id: str) -> Optional[Customer]:
        doc = await self._col.find_one({"_id": customer_id})
        return Customer.parse_obj(doc) if doc else None

    async def count(self) -> int:
        return await self._col.count_documents({})

    async def find_by_mobile(self, mobile: str) -> Optional[Tuple[Customer, Contact]]:
        """The customer and contact registered under a mobile, in any written form."""
        try:
            e164 = to_e164(mobile, mobile_only=False)
        except InvalidPhoneNumber:
            return None
        doc = await self._col.find_one({"contacts.mobile": e164})
        if not doc:
            return None
        customer = Customer.parse_obj(doc)
        contact = next(c for c in customer.contacts if c.mobile == e164)
        return customer, contact

    async def find_by_contact(self, contact_id: str) -> Optional[Tuple[Customer, Contact]]:
        doc = await self._col.find_one({"contacts.contact_id": contact_id})
        if not doc:
            return None
        customer = Customer.parse_obj(doc)
        contact = customer.contact(contact_id)
        assert contact is not None
        return customer, contact

    async def set_sms_opt_out(self, contact_id: str, opted_out: bool, *, source: str, at: Optional[datetime] = None) -> bool:
        """Record a contact's SMS consent; returns False when the contact is unknown."""
        result = await self._col.update_one(
            {"contacts.contact_id": contact_id},
            {
                "$set": {
                    "contacts.$.sms_opt_out": opted_out,
                    "contacts.$.opt_out_changed_at": at or utcnow(),
                    "contacts.$.opt_out_source": source,
                    "updated_at": utcnow(),
                }
            },
        )
        return result.matched_count == 1

    async def set_contact_language(self, contact_id: str, language: str) -> bool:
        if language not in ("zh", "en"):
            raise RecordValidationError(self.collection_name, [("contacts.language", f"unknown language {language!r}")])
        result = await self._col.update_one(
            {"contacts.contact_id": contact_id},
            {"$set": {"contacts.$.language": language, "updated_at": utcnow()}},
        )
        return result.matched_count == 1

    async def opt_out_mobile(self, mobile: str, *, source: str) -> bool:
        found = await self.find_by_mobile(mobile)
        if not found:
            log.info("opt-out for unregistered number %s ignored", mask(mobile))
            return False
        return await self.set_sms_opt_out(found[1].contact_id, True, source=source)

    async def stream(
        self, query: Dict[str, Any], *, projection: Optional[Dict[str, Any]] = None, batch_size: int = 500,
    ) -> AsyncIterator[Dict[str, Any]]:
        """Stream raw documents in id order; a campaign never loads a collection whole."""
        async for doc in self._col.find(query, projection=projection, batch_size=batch_size).sort("_id", 1):
            yield doc

    async def profiles(self, ids: Sequence[str], *, batch_size: int = 500) -> AsyncIterator[Dict[str, Any]]:
        """Whole customer documents for selected ids, in that order, a batch at a time."""
        for start in range(0, len(ids), batch_size):
            chunk = list(ids[start:start + batch_size])
            found = {doc["_id"]: doc for doc in await self._col.find({"_id": {"$in": chunk}}).to_list(length=None)}
            for customer_id in chunk:
                if customer_id in found:  # deleted since the selection: skipped, not an error
                    yield found[customer_id]

    async def ids_with_birthday_in(self, selections: Sequence[BirthdaySelection]) -> List[str]:
        """Customers with a contact born on any (calendar, month, one of days), sorted, each once.

        Answered by the ``birthday`` index. Callers still check each contact, since another
        contact of the same customer may be the one born that day.
        """
        if not selections:
            return []
        query = {"$or": [
            {"contacts": {"$elemMatch": {"birthday.calendar": calendar, "birthday.month": month,
                                         "birthday.day": {"$in": list(days)}}}}
            for calendar, month, days in selections
        ]}
        return sorted(doc["_id"] for doc in await self._col.find(query, {"_id": 1}).to_list(length=None))

    async def ids_with_bill_day_in(self, days: Sequence[int]) -> List[str]:
        """Customers with any of these bill days, sorted: covered by the ``bill_day`` index (day, id)."""
        if not days:
            return []
        cursor = self._col.find({"billing.bill_day": {"$in": list(days)}}, {"_id": 1})
        return sorted(doc["_id"] for doc in await cursor.to_list(length=None))

    async def with_birthday_in(self, selections: Sequence[BirthdaySelection]) -> AsyncIterator[Dict[str, Any]]:
        async for doc in self.profiles(await self.ids_with_birthday_in(selections)):
            yield doc

    async def with_bill_day_in(self, days: Sequence[int]) -> AsyncIterator[Dict[str, Any]]:
        async for doc in self.profiles(await self.ids_with_bill_day_in(days)):
            yield doc

    async def company_names(self, customer_ids: Iterable[str]) -> Dict[str, str]:
        """Company name per customer id, in one query (lists show names, not whole profiles)."""
        cursor = self._col.find({"_id": {"$in": sorted(set(customer_ids))}}, {"company_name": 1})
        return {doc["_id"]: doc["company_name"] async for doc in cursor}

    async def ids_for_managers(self, manager_ids: Sequence[str]) -> List[str]:
        cursor = self._col.find({"account_manager_id": {"$in": list(manager_ids)}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]


class ManagerRepository(_Repository):
    collection_name = "account_managers"

    async def insert(self, data: Any) -> AccountManager:
        manager = _validate(AccountManager, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.insert_one(manager.to_mongo())
        return manager

    async def insert_many(self, docs: Iterable[Any]) -> List[str]:
        batch = [_validate(AccountManager, self.collection_name, d).to_mongo() for d in docs]
        return await _insert_many_skipping_duplicates(self._col, batch) if batch else []

    async def get(self, manager_id: str) -> Optional[AccountManager]:
        doc = await self._col.find_one({"_id": manager_id})
        return AccountManager.parse_obj(doc) if doc else None

    async def subordinates(self, manager_id: str) -> List[AccountManager]:
        cursor = self._col.find({"supervisor_id": manager_id}).sort("_id", 1)
        return [AccountManager.parse_obj(doc) async for doc in cursor]

    async def all(self) -> List[AccountManager]:
        return [AccountManager.parse_obj(doc) async for doc in self._col.find().sort("_id", 1)]

    async def set_password_hash(self, manager_id: str, password_hash: str, *, only_if_unset: bool = False) -> bool:
        query: Dict[str, Any] = {"_id": manager_id}
        if only_if_unset:
            query["password_hash"] = None
        result = await self._col.update_one(query, {"$set": {"password_hash": password_hash}})
        return result.matched_count == 1

    async def chain(self, manager_id: str) -> List[AccountManager]:
        """The manager and each supervisor above, city first, group last."""
        chain: List[AccountManager] = []
        current = await self.get(manager_id)
        while current is not None and len(chain) < 5:
            chain.append(current)
            current = await self.get(current.supervisor_id) if current.supervisor_id else None
        return chain


class _PerCustomerMonth(_Repository, Generic[M]):
    """Documents keyed ``<customer_id>:<month>``: one per customer and month."""

    model: Type[M]

    async def upsert(self, data: Any) -> M:
        record = _validate(self.model, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.replace_one({"_id": record.id}, record.to_mongo(), upsert=True)
        return record

    async def insert_many(self, docs: Iterable[Dict[str, Any]], *, check_models: bool = True) -> List[str]:
        """Bulk insert, duplicates skipped; see ``CustomerRepository.insert_many``."""
        if check_models:
            batch = [_validate(self.model, self.collection_name, d).to_mongo() for d in docs]
        else:
            batch = [{"_id": f"{d['customer_id']}:{d['month']}", **d} for d in docs]
        async with _write_errors(self.collection_name):
            return await _insert_many_skipping_duplicates(self._col, batch) if batch else []

    async def get(self, customer_id: str, month: str) -> Optional[M]:
        doc = await self._col.find_one({"_id": f"{customer_id}:{month}"})
        return self.model.parse_obj(doc) if doc else None


class UsageRepository(_PerCustomerMonth[UsageMonth]):
    collection_name = "usage_monthly"
    model = UsageMonth

    async def history(self, customer_id: str, months: int = 12) -> List[UsageMonth]:
        cursor = self._col.find({"customer_id": customer_id}).sort("month", -1).limit(months)
        return [UsageMonth.parse_obj(doc) async for doc in cursor]


class BillDeliveryRepository(_PerCustomerMonth[BillDeliveryRecord]):
    """When each month's bill reached the customer: what bill-not-received claims are checked against."""

    collection_name = "bill_deliveries"
    model = BillDeliveryRecord


class CreditRepository(_Repository):
    collection_name = "credits"

    async def add(self, credit: Credit, *, session: Optional[AsyncIOMotorClientSession] = None) -> None:
        """Record a credit once: a second call with the same id changes nothing."""
        doc = credit.to_mongo()
        async with _write_errors(self.collection_name):
            await self._col.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=session)

    async def get(self, credit_id: str) -> Optional[Credit]:
        doc = await self._col.find_one({"_id": credit_id})
        return Credit.parse_obj(doc) if doc else None

    async def for_customer(self, customer_id: str) -> List[Credit]:
        cursor = self._col.find({"customer_id": customer_id}).sort("created_at", -1)
        return [Credit.parse_obj(doc) async for doc in cursor]


async def _settle(db: AsyncIOMotorDatabase, collection: str, query: Dict[str, Any], fields: Dict[str, Any],
                  credit: Optional[Credit]) -> bool:
    """Write a settlement decision and its credit together, or neither; False if decided before."""
    async with await db.client.start_session() as session:
        async with session.start_transaction():
            async with _write_errors(collection):
                result = await db[collection].update_one(query, {"$set": {**fields, "updated_at": utcnow()}},
                                                         session=session)
            if result.matched_count == 1 and credit is not None:
                await CreditRepository(db).add(credit, session=session)
    return result.matched_count == 1


class TicketRepository(_Repository):
    collection_name = "tickets"

    async def next_id(self, kind: TicketKind, day: date) -> str:
        """CP-20261123-0001 / FT-20261123-0001."""
        return await _next_daily_id(self._db, "CP" if kind == TicketKind.complaint else "FT", day)

    async def create(self, data: Any) -> Ticket:
        ticket = _validate(Ticket, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.insert_one(ticket.to_mongo())
        return ticket

    async def get(self, ticket_id: str, *, customer_id: Optional[str] = None) -> Optional[Ticket]:
        """A ticket; with ``customer_id``, only if it belongs to that customer."""
        query: Dict[str, Any] = {"_id": ticket_id}
        if customer_id is not None:
            query["customer_id"] = customer_id
        doc = await self._col.find_one(query)
        return Ticket.parse_obj(doc) if doc else None

    async def for_customer(self, customer_id: str, *, open_only: bool = False, limit: int = 20) -> List[Ticket]:
        query: Dict[str, Any] = {"customer_id": customer_id}
        if open_only:
            query["status"] = {"$in": [s.value for s in OPEN_TICKET_STATUSES]}
        cursor = self._col.find(query).sort("created_at", -1).limit(limit)
        return [Ticket.parse_obj(doc) async for doc in cursor]

    async def customers_with_open_complaints(self) -> List[str]:
        """Customers unhappy right now: no promotion may reach them (unified customer view)."""
        return await self._col.distinct(
            "customer_id",
            {"kind": TicketKind.complaint.value, "status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}},
        )

    async def add_event(self, ticket_id: str, event: TicketEvent, *, set_fields: Optional[Dict[str, Any]] = None) -> bool:
        update: Dict[str, Any] = {
            "$push": {"history": event.to_mongo()},
            "$set": {"updated_at": utcnow(), **(set_fields or {})},
        }
        async with _write_errors(self.collection_name):
            result = await self._col.update_one({"_id": ticket_id}, update)
        return result.matched_count == 1

    async def set_status(self, ticket_id: str, status: TicketStatus, event: TicketEvent) -> bool:
        return await self.add_event(ticket_id, event, set_fields={"status": status.value})

    async def resolve(self, ticket_id: str, event: TicketEvent) -> bool:
        """Mark a ticket resolved at ``event.at``; a fault also records when service was restored."""
        return await self._advance(ticket_id, TicketStatus.resolved, "restored_at", event)

    async def acknowledge(self, ticket_id: str, event: TicketEvent) -> bool:
        """The account manager took the ticket: a fault's response deadline is met at ``event.at``."""
        return await self._advance(ticket_id, TicketStatus.acknowledged, "responded_at", event)

    async def _advance(self, ticket_id: str, status: TicketStatus, sla_mark: str, event: TicketEvent) -> bool:
        ticket = await self.get(ticket_id)
        if ticket is None:
            return False
        fields: Dict[str, Any] = {"status": status.value}
        if ticket.sla is not None and getattr(ticket.sla, sla_mark) is None:
            fields[f"sla.{sla_mark}"] = event.at
        return await self.add_event(ticket_id, event, set_fields=fields)

    async def open_faults(self) -> AsyncIterator[Ticket]:
        """Open fault tickets, nearest restore deadline first: what the SLA watch looks at."""
        query = {"kind": TicketKind.fault.value, "status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}}
        async for doc in self._col.find(query).sort("sla.restore_due", 1):
            yield Ticket.parse_obj(doc)

    async def open_for_customers(self, customer_ids: Optional[Sequence[str]], *, limit: int = 500) -> List[Ticket]:
        """Open tickets of these customers (of all customers with None), oldest first."""
        query: Dict[str, Any] = {"status": {"$in": [s.value for s in OPEN_TICKET_STATUSES]}}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        return [Ticket.parse_obj(doc) async for doc in self._col.find(query).sort("created_at", 1).limit(limit)]

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
        """Faults restored after their restore deadline whose compensation notice is not done."""
        query = {
            "kind": TicketKind.fault.value,
            "compensation.notified_at": None,
            "status": {"$in": [TicketStatus.resolved.value, TicketStatus.closed.value]},
            "$expr": {"$gt": ["$sla.restored_at", "$sla.restore_due"]},
        }
        async for doc in self._col.find(query).sort("_id", 1):
            yield Ticket.parse_obj(doc)

    async def settle_compensation(self, ticket_id: str, settlement: Settlement, credit: Optional[Credit]) -> bool:
        return await _settle(self._db, self.collection_name, {"_id": ticket_id, "compensation": None},
                             {"compensation": settlement.to_mongo()}, credit)

    async def mark_compensation_notified(self, ticket_id: str, at: datetime, notice_status: str) -> None:
        await self._col.update_one({"_id": ticket_id}, {"$set": {
            "compensation.notified_at": at, "compensation.notice_status": notice_status, "updated_at": utcnow()}})


async def _next_daily_id(db: AsyncIOMotorDatabase, prefix: str, day: date) -> str:
    """PREFIX-YYYYMMDD-0001: a per-day sequence kept in ``counters``, atomic under concurrency."""
    counter_id = f"{prefix}-{day:%Y%m%d}"
    doc = await db["counters"].find_one_and_update(
        {"_id": counter_id},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=pymongo.ReturnDocument.AFTER,
    )
    return f"{counter_id}-{doc['seq']:04d}"


class EscalationRepository(_Repository):
    collection_name = "escalations"

    async def next_id(self, day: date) -> str:
        return await _next_daily_id(self._db, "ES", day)

    async def create(self, data: Any) -> Escalation:
        escalation = _validate(Escalation, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.insert_one(escalation.to_mongo())
        return escalation

    async def get(self, escalation_id: str) -> Optional[Escalation]:
        doc = await self._col.find_one({"_id": escalation_id})
        return Escalation.parse_obj(doc) if doc else None

    async def open_for_sender(self, sender_id: str) -> Optional[Escalation]:
        doc = await self._col.find_one(
            {"sender_id": sender_id, "status": {"$in": [EscalationStatus.open.value, EscalationStatus.acknowledged.value]}}
        )
        return Escalation.parse_obj(doc) if doc else None

    async def for_customers(self, customer_ids: Optional[Sequence[str]], *, open_only: bool = True,
                            limit: int = 200) -> List[Escalation]:
        """Escalations of these customers (all customers with None), most urgent call-back first."""
        query: Dict[str, Any] = {}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        if open_only:
            query["status"] = {"$in": [EscalationStatus.open.value, EscalationStatus.acknowledged.value]}
        cursor = self._col.find(query).sort("contact_by", 1).limit(limit)
        return [Escalation.parse_obj(doc) async for doc in cursor]

    async def set_status(self, escalation_id: str, status: EscalationStatus) -> bool:
        result = await self._col.update_one(
            {"_id": escalation_id}, {"$set": {"status": status.value, "updated_at": utcnow()}}
        )
        return result.matched_count == 1


class OtpRepository(_Repository):
    collection_name = "otp_challenges"

    async def replace(self, data: Any) -> OtpChallenge:
        challenge = _validate(OtpChallenge, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.replace_one({"_id": challenge.id}, challenge.to_mongo(), upsert=True)
        return challenge

    async def get(self, challenge_id: str) -> Optional[OtpChallenge]:
        doc = await self._col.find_one({"_id": challenge_id})
        return OtpChallenge.parse_obj(doc) if doc else None

    async def count_attempt(self, challenge_id: str) -> int:
        """Count one more try atomically; returns the attempts made so far."""
        doc = await self._col.find_one_and_update(
            {"_id": challenge_id}, {"$inc": {"attempts": 1}}, return_document=pymongo.ReturnDocument.AFTER
        )
        return int(doc["attempts"]) if doc else 0

    async def delete(self, challenge_id: str) -> None:
        await self._col.delete_one({"_id": challenge_id})

    async def issued_since(self, mobile: str, since: datetime) -> int:
        return await self._col.count_documents({"mobile": mobile, "created_at": {"$gte": since}})


class LoginFailureRepository(_Repository):
    collection_name = "login_failures"

    async def counts_since(self, keys: Sequence[str], since: datetime) -> Dict[str, int]:
        """Failures per key at or after ``since``; keys without any are left out."""
        pipeline = [{"$match": {"key": {"$in": list(keys)}, "at": {"$gte": since}}},
                    {"$group": {"_id": "$key", "n": {"$sum": 1}}}]
        return {row["_id"]: row["n"] async for row in self._col.aggregate(pipeline)}

    async def record(self, keys: Sequence[str], *, at: datetime, expires_at: datetime) -> List[str]:
        """One failure for each key, in one write; returns their ids."""
        docs = [_validate(LoginFailure, self.collection_name, {
            "_id": secrets.token_hex(12), "key": key, "at": at, "expires_at": expires_at}).to_mongo() for key in keys]
        if docs:
            async with _write_errors(self.collection_name):
                await self._col.insert_many(docs)
        return [doc["_id"] for doc in docs]

    async def remove(self, ids: Sequence[str]) -> None:
        """Take back the failures ``record`` returned these ids for."""
        await self._col.delete_many({"_id": {"$in": list(ids)}})

    async def clear(self, keys: Sequence[str]) -> None:
        await self._col.delete_many({"key": {"$in": list(keys)}})


class ClaimRepository(_Repository):
    collection_name = "compensation_claims"

    async def next_id(self, day: date) -> str:
        return await _next_daily_id(self._db, "BC", day)

    async def find(self, customer_id: str, kind: str, month: str) -> Optional[CompensationClaim]:
        doc = await self._col.find_one({"customer_id": customer_id, "kind": kind, "month": month})
        return CompensationClaim.parse_obj(doc) if doc else None

    async def create(self, data: Any) -> CompensationClaim:
        """Record a claim; one per customer, kind and month (a repeat raises DuplicateRecordError)."""
        claim = _validate(CompensationClaim, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.insert_one(claim.to_mongo())
        return claim

    async def get(self, claim_id: str) -> Optional[CompensationClaim]:
        doc = await self._col.find_one({"_id": claim_id})
        return CompensationClaim.parse_obj(doc) if doc else None

    async def pending_for_customers(self, customer_ids: Sequence[str]) -> List[CompensationClaim]:
        query = {"customer_id": {"$in": list(customer_ids)}, "status": ClaimStatus.pending_verification.value}
        return [CompensationClaim.parse_obj(doc) async for doc in self._col.find(query).sort("created_at", 1)]

    async def unsettled(self) -> AsyncIterator[CompensationClaim]:
        """Claims still to be decided, or decided with the customer not told yet; oldest first."""
        async for doc in self._col.find({"settlement.notified_at": None}).sort("created_at", 1):
            yield CompensationClaim.parse_obj(doc)

    async def decide(self, claim_id: str, status: ClaimStatus, settlement: Settlement,
                     credit: Optional[Credit]) -> bool:
        return await _settle(self._db, self.collection_name,
                             {"_id": claim_id, "status": ClaimStatus.pending_verification.value},
                             {"status": status.value, "settlement": settlement.to_mongo()}, credit)

    async def mark_notified(self, claim_id: str, at: datetime, notice_status: str) -> None:
        await self._col.update_one({"_id": claim_id}, {"$set": {
            "settlement.notified_at": at, "settlement.notice_status": notice_status, "updated_at": utcnow()}})

# Statuses in the order a message moves through them; a late callback never moves back.
_STATUS_RANK = {
    SendStatus.pending: 0,
    SendStatus.ambiguous: 0,
    SendStatus.deferred: 0,
    SendStatus.accepted: 1,
    SendStatus.queued: 2,
    SendStatus.sending: 3,
    SendStatus.sent: 4,
    SendStatus.delivered: 5,
    SendStatus.undelivered: 5,
    SendStatus.failed: 5,
    SendStatus.suppressed: 5,
}


def unfinished_query(campaign: str) -> Dict[str, Any]:
    """A campaign's unfinished messages: the filter of the partial index that holds only them."""
    return {"meta.campaign": campaign, "status": {"$in": UNFINISHED_VALUES}}


def statuses_below(status: SendStatus) -> List[str]:
    rank = _STATUS_RANK[status]
    return [s.value for s, r in _STATUS_RANK.items() if r < rank]


def _moved_to(status: SendStatus, fields: Dict[str, Any], now: datetime) -> Dict[str, Any]:
    """The update that moves a send record to ``status``, with its history event."""
    event = {"status": status.value, "at": now}
    if fields.get("error_code") is not None:
        event["error_code"] = fields["error_code"]
    return {"$set": {"status": status.value, "updated_at": now, **fields}, "$push": {"history": event}}


@dataclass
class Reservation:
    created: bool
    record: SendRecord


class SendRepository(_Repository):
    collection_name = "sends"

    async def reserve(self, data: Any) -> Reservation:
        """Insert the record under its idempotency key, or return the one already there."""
        record = _validate(SendRecord, self.collection_name, data)
        try:
            async with _write_errors(self.collection_name):
                await self._col.insert_one(record.to_mongo())
        except DuplicateRecordError:
            existing = await self.get(record.id)
            assert existing is not None
            return Reservation(False, existing)
        return Reservation(True, record)

    async def get(self, key: str) -> Optional[SendRecord]:
        doc = await self._col.find_one({"_id": key})
        return SendRecord.parse_obj(doc) if doc else None

    async def finish(self, key: str, status: SendStatus, *, only_from: Optional[Sequence[SendStatus]] = None,
                     **fields: Any) -> SendRecord:
        """Move a record to ``status`` and return it as it now stands, in one round trip.

        ``only_from`` guards against racing writers: if the record already moved on,
        theirs stands and is returned unchanged.
        """
        query: Dict[str, Any] = {"_id": key}
        if only_from is not None:
            query["status"] = {"$in": [SendStatus(s).value for s in only_from]}
        async with _write_errors(self.collection_name):
            doc = await self._col.find_one_and_update(query, _moved_to(status, fields, utcnow()),
                                                      return_document=pymongo.ReturnDocument.AFTER)
        if doc is None:
            doc = await self._col.find_one({"_id": key})
        if doc is None:
            raise KeyError(key)
        return SendRecord.parse_obj(doc)

    async def claim(self, key: str, *, now: datetime, lease_until: datetime) -> Optional[SendRecord]:
        """Take an unfinished record for resending; returns it as it was before the claim.

        Ambiguous and deferred records are free to take; a pending one only once its
        lease ran out (its sender died mid-call). The claim itself marks the record
        pending, so a crash from here on is again found and looked up before a resend.
        """
        doc = await self._col.find_one_and_update(
            {
                "_id": key,
                "$or": [
                    {"status": {"$in": [SendStatus.ambiguous.value, SendStatus.deferred.value]}},
                    {"status": SendStatus.pending.value, "lease_until": {"$lt": now}},
                ],
            },
            {"$set": {"status": SendStatus.pending.value, "lease_until": lease_until, "updated_at": now}},
            return_document=pymongo.ReturnDocument.BEFORE,
        )
        return SendRecord.parse_obj(doc) if doc else None

    async def renew_lease(self, key: str, *, lease_until: datetime, renew_to: datetime,
                          count_attempt: bool) -> bool:
        """Renew a pending message's lease if it is still the sender's, counting one more attempt if asked.

        ``lease_until`` is the sender's token: the lease it took (``reserve``, ``claim``)
        or last renewed. False means another sender has claimed the message since
        (the lease ran out), and this one must not call the provider.
        """
        update: Dict[str, Any] = {"$set": {"lease_until": renew_to, "updated_at": utcnow()}}
        if count_attempt:
            update["$inc"] = {"attempts": 1}
        result = await self._col.update_one(
            {"_id": key, "status": SendStatus.pending.value, "lease_until": lease_until}, update)
        return result.matched_count == 1

    async def apply_callback(self, sid: str, status: SendStatus, error_code: Optional[int]) -> bool:
        """A Twilio status callback; ignored if the record already moved further."""
        fields: Dict[str, Any] = {}
        if error_code is not None:
            fields["error_code"] = error_code
        now = utcnow()
        result = await self._col.update_one(
            {"sid": sid, "status": {"$in": statuses_below(status)}},
            {
                "$set": {"status": status.value, "updated_at": now, **fields},
                "$push": {"history": {"status": status.value, "at": now, **fields}},
            },
        )
        return result.matched_count == 1

    async def has_sid(self, sid: str) -> bool:
        return await self._col.find_one({"sid": sid}, {"_id": 1}) is not None

    async def unfinished(self, campaign: str) -> List[SendRecord]:
        """Messages of one campaign run whose outcome is not settled yet."""
        # Ordered here, not by the server: a sort by _id would have the planner walk the _id index instead.
        found = [SendRecord.parse_obj(doc) async for doc in self._col.find(unfinished_query(campaign))]
        return sorted(found, key=lambda record: record.id)

    async def for_customer(self, customer_id: str, limit: int = 50) -> List[SendRecord]:
        cursor = self._col.find({"customer_id": customer_id}).sort("created_at", -1).limit(limit)
        return [SendRecord.parse_obj(doc) async for doc in cursor]

    async def count_by_status(self, *, since: Optional[datetime] = None,
                              max_time_s: Optional[float] = None) -> Dict[Tuple[str, str], int]:
        """Messages per (kind, status); suppressed ones per reason as ``suppressed:<reason>``.

        Without ``since`` it reads every record (about a second per million here):
        ``max_time_s`` has the server give up past that (``DatabaseError``).
        """
        match: Dict[str, Any] = {}
        if since is not None:
            match["created_at"] = {"$gte": since}
        pipeline = [{"$match": match}, {"$group": {
            "_id": {"kind": "$kind", "status": "$status", "reason": "$suppressed_reason"}, "n": {"$sum": 1}}}]
        options = {"maxTimeMS": int(max_time_s * 1000)} if max_time_s is not None else {}
        counts: Dict[Tuple[str, str], int] = {}
        async for row in self._col.aggregate(pipeline, **options):
            key = row["_id"]
            status = f"suppressed:{key.get('reason') or 'unknown'}" if key["status"] == "suppressed" else key["status"]
            counts[(key["kind"], status)] = counts.get((key["kind"], status), 0) + row["n"]
        return counts

    async def daily_by_status(self, *, since: datetime, timezone_name: str) -> Dict[str, Dict[str, int]]:
        """Messages per local day (``YYYY-MM-DD`` in ``timezone_name``) and status, for the report chart."""
        pipeline = [
            {"$match": {"created_at": {"$gte": since}}},
            {"$group": {"_id": {"day": {"$dateToString": {"format": "%Y-%m-%d", "date": "$created_at",
                                                            "timezone": timezone_name}},
                                "status": "$status"}, "n": {"$sum": 1}}},
        ]
        days: Dict[str, Dict[str, int]] = {}
        async for row in self._col.aggregate(pipeline):
            days.setdefault(row["_id"]["day"], {})[row["_id"]["status"]] = row["n"]
        return dict(sorted(days.items()))


async def _insert_many_skipping_duplicates(col: Any, batch: List[Dict[str, Any]]) -> List[Any]:
    """Unordered bulk insert that skips documents already there; returns the new ids."""
    try:
        await col.insert_many(batch, ordered=False)
        return [doc["_id"] for doc in batch]
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        invalid = [e for e in errors if e.get("code") == 121]
        if invalid:
            raise WriteError(invalid[0].get("errmsg", "validation failed"), 121, invalid[0]) from None
        if any(e.get("code") != 11000 for e in errors):
            raise
        failed = {e["index"] for e in errors}
        return [doc["_id"] for i, doc in enumerate(batch) if i not in failed]


class ParkedCallbackRepository(_Repository):
    collection_name = "early_callbacks"

    async def park(self, data: Any) -> ParkedCallback:
        """Keep a callback for later; the same callback again keeps its first arrival time."""
        callback = _validate(ParkedCallback, self.collection_name, data)
        async with _write_errors(self.collection_name):
            await self._col.update_one({"_id": callback.id}, {"$setOnInsert": callback.to_mongo()}, upsert=True)
        return callback

    async def waiting(self) -> AsyncIterator[ParkedCallback]:
        async for doc in self._col.find():
            yield ParkedCallback.parse_obj(doc)

    async def remove(self, ids: Sequence[str]) -> None:
        if ids:
            await self._col.delete_many({"_id": {"$in": list(ids)}})


class Database:
    """One connection and the repositories over it."""

    def __init__(self, client: AsyncIOMotorClient, name: str) -> None:
        self.client = client
        self.name = name
        self._db: AsyncIOMotorDatabase = client[name]
        self.customers = CustomerRepository(self._db)
        self.managers = ManagerRepository(self._db)
        self.usage = UsageRepository(self._db)
        self.tickets = TicketRepository(self._db)
        self.sends = SendRepository(self._db)
        self.early_callbacks = ParkedCallbackRepository(self._db)
        self.escalations = EscalationRepository(self._db)
        self.otp = OtpRepository(self._db)
        self.login_failures = LoginFailureRepository(self._db)
        self.claims = ClaimRepository(self._db)
        self.bill_deliveries = BillDeliveryRepository(self._db)
        self.credits = CreditRepository(self._db)

    @classmethod
    def connect(cls, uri: str, name: str, *, server_selection_timeout_ms: int = 5000) -> Database:
        client = AsyncIOMotorClient(
            uri,
            tz_aware=True,
            tzinfo=timezone.utc,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            retryWrites=True,
        )
        return cls(client, name)

    def close(self) -> None:
        self.client.close()

    async def ping(self) -> bool:
        try:
            await self._db.command("ping")
            return True
        except PyMongoError:
            return False

    async def checkpoint(self) -> None:
        """Have mongod write everything to disk now (``fsync``: a WiredTiger checkpoint).

        For benchmarks: after a million fresh documents, the next checkpoint would otherwise
        land in the middle of whatever is timed next, and time the disk instead.
        """
        await self.client.admin.command("fsync")

    async def ensure_schema(self) -> None:
        """Create collections with validators and indexes; safe to run on every start."""
        existing = set(await self._db.list_collection_names())
        for name, index_names in RETIRED_INDEXES.items():
            present = await self._db[name].index_information() if name in existing else {}
            for index_name in index_names:
                if index_name in present:
                    log.info("dropping retired index %s.%s", name, index_name)
                    await self._db[name].drop_index(index_name)
        for name, (model, indexes) in COLLECTIONS.items():
            validator = {"$jsonSchema": json_schema_for(model)}
            if name in existing:
                await self._db.command("collMod", name, validator=validator, validationLevel="strict")
            else:
                try:
                    await self._db.create_collection(name, validator=validator, validationLevel="strict")
                except CollectionInvalid:  # created concurrently
                    await self._db.command("collMod", name, validator=validator)
            await _create_indexes(self._db[name], indexes)
        for name, indexes in AUXILIARY_COLLECTIONS.items():
            if name not in existing:
                try:
                    await self._db.create_collection(name)
                except CollectionInvalid:
                    pass
            await _create_indexes(self._db[name], indexes)
        for name in RETIRED_COLLECTIONS:
            if name in existing:
                log.info("dropping retired collection %s", name)
                await self._db.drop_collection(name)
        await self._db.counters.delete_many({"_id": {"$in": [f"schema:{name}" for name in RETIRED_COLLECTIONS]}})

    async def raw_insert(self, collection: str, doc: Dict[str, Any]) -> None:
        """Insert without model validation; only for proving the database validators work."""
        async with _write_errors(collection):
            await self._db[collection].insert_one(doc)

    async def drop(self) -> None:
        await self.client.drop_database(self.name)

    async def collection_names(self) -> List[str]:
        return await self._db.list_collection_names()

    async def indexes(self, collection: str) -> Dict[str, Any]:
        return await self._db[collection].index_information()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncIOMotorClientSession]:
        """All-or-nothing across documents (needs the replica set the launcher sets up)."""
        async with await self.client.start_session() as session:
            async with session.start_transaction():
                yield session


_INDEX_CHANGED = (85, 86)  # IndexOptionsConflict, IndexKeySpecsConflict


async def _create_indexes(col: Any, indexes: List[Tuple[List[Tuple[str, int]], Dict[str, Any]]]) -> None:
    """Create the declared indexes; one whose definition changed since it was built is rebuilt."""
    for keys, options in indexes:
        try:
            await col.create_index(keys, **options)
        except OperationFailure as exc:
            if exc.code not in _INDEX_CHANGED:
                raise
            log.warning("index %s.%s changed definition: rebuilding it", col.name, options["name"])
            await col.drop_index(options["name"])
            await col.create_index(keys, **options)


# --- Synchronous helpers for the embedded-mongod launcher (runs before any event loop) ---

def server_answers(uri: str, timeout_s: float = 1.0) -> bool:
    client: pymongo.MongoClient = pymongo.MongoClient(
        uri, directConnection=True, serverSelectionTimeoutMS=int(timeout_s * 1000)
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def ensure_replica_set(host: str, port: int, name: str, timeout_s: float = 30.0) -> None:
    """Initiate a single-node replica set once, then wait until it has a primary."""
    client: pymongo.MongoClient = pymongo.MongoClient(
        host, port, directConnection=True, serverSelectionTimeoutMS=5000
    )
    try:
        try:
            client.admin.command("replSetGetStatus")
        except OperationFailure as exc:
            if exc.code not in (94, 93):  # NotYetInitialized / InvalidReplicaSetConfig
                raise
            client.admin.command(
                "replSetInitiate",
                {"_id": name, "members": [{"_id": 0, "host": f"{host}:{port}"}]},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if client.admin.command("hello").get("isWritablePrimary"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"replica set {name} on {host}:{port} has no primary after {timeout_s}s")
    finally:
        client.close()


# The driver's error base class, for code that must tell "MongoDB is away" from other failures
# (the bot's tracker store) without importing the driver itself.
DriverError = PyMongoError


def inspection_handle(host: str, port: int, name: str) -> Any:
    """A synchronous handle on one database, for tools that check the product from outside (drills).

    It bypasses the models and the repositories on purpose: a drill verifies what is really stored.
    """
    client: pymongo.MongoClient = pymongo.MongoClient(host, port, directConnection=True,
                                                      serverSelectionTimeoutMS=5000, tz_aware=True)
    return client[name]


def shutdown_server(host: str, port: int) -> None:
    client: pymongo.MongoClient = pymongo.MongoClient(
        host, port, directConnection=True, serverSelectionTimeoutMS=2000
    )
    try:
        client.admin.command("shutdown", force=True)
    except PyMongoError:
        pass  # the connection drops as the server goes down
    finally:
        client.close()
