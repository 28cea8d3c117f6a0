"""Key accounts and their contacts, and the campaigns' selections of them."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, AsyncIterator, Dict, Iterable, List, Optional, Sequence, Tuple

from motor.motor_asyncio import AsyncIOMotorClientSession

from carecore.clock import utcnow
from carecore.model import Contact, Customer
from carecore.phones import InvalidPhoneNumber, mask, to_e164
from carecore.repository.audit import AuditRepository
from carecore.repository.base import Repository, insert_many_skipping_duplicates
from carecore.repository.errors import RecordValidationError, validated, write_errors

log = logging.getLogger(__name__)

# (calendar, month, days): the birthdays greeted on one day, as care_scheduler.calendar gives them.
BirthdaySelection = Tuple[str, int, Sequence[int]]


class CustomerRepository(Repository):
    collection_name = "customers"

    async def insert(self, data: Any, *, session: Optional[AsyncIOMotorClientSession] = None) -> Customer:
        """Insert a profile, in the caller's transaction if it gives one."""
        customer = validated(Customer, self.collection_name, data)
        now = utcnow()
        customer.created_at = customer.created_at or now
        customer.updated_at = now
        async with write_errors(self.collection_name):
            await self._col.insert_one(customer.to_mongo(), session=session)
        return customer

    async def replace(self, data: Any) -> Customer:
        customer = validated(Customer, self.collection_name, data)
        customer.updated_at = utcnow()
        async with write_errors(self.collection_name):
            result = await self._col.replace_one({"_id": customer.id}, customer.to_mongo())
        if result.matched_count == 0:
            raise KeyError(customer.id)
        return customer

    async def insert_many(self, docs: Iterable[Dict[str, Any]]) -> List[str]:
        """Bulk insert, each checked by the model: unordered, duplicates skipped (idempotent); the new ids."""
        now = utcnow()
        batch = []
        for doc in docs:
            doc = validated(Customer, self.collection_name, doc).to_mongo()
            batch.append({**doc, "created_at": doc.get("created_at") or now, "updated_at": now})
        if not batch:
            return []
        async with write_errors(self.collection_name):
            return await insert_many_skipping_duplicates(self._col, batch)

    async def get(self, customer_id: str) -> Optional[Customer]:
        doc = await self._col.find_one({"_id": customer_id})
        return Customer.parse_obj(doc) if doc else None

    async def count(self) -> int:
        return await self._col.count_documents({})

    async def find_by_mobile(self, mobile: str) -> Optional[Tuple[Customer, Contact]]:
        """The customer and contact registered under a mobile, in any written form; a number its holder disowned
        (``disown_number``) is no contact's."""
        try:
            e164 = to_e164(mobile, mobile_only=False)
        except InvalidPhoneNumber:
            return None
        doc = await self._col.find_one({"contacts": {"$elemMatch": {"mobile": e164, "number_disowned_at": None}}})
        if not doc:
            return None
        customer = Customer.parse_obj(doc)
        contact = next(c for c in customer.contacts if c.mobile == e164 and c.reachable)
        return customer, contact

    async def find_by_contact(self, contact_id: str) -> Optional[Tuple[Customer, Contact]]:
        doc = await self._col.find_one({"contacts.contact_id": contact_id})
        if not doc:
            return None
        customer = Customer.parse_obj(doc)
        contact = customer.contact(contact_id)
        assert contact is not None
        return customer, contact

    async def set_sms_opt_out(self, contact_id: str, opted_out: bool, *, source: str, actor: str = "system",
                              reason: Optional[str] = None, at: Optional[datetime] = None) -> bool:
        """Record a contact's SMS consent and its audit entry together; False when the contact is unknown.

        ``source`` is a ``ChangeSource`` value, or ``twilio_21610`` for a provider unsubscribe (stored as
        the opt-out's source: only the contact may reverse it).
        """
        now = at or utcnow()
        return await self._change_contact(
            contact_id, {"sms_opt_out": opted_out, "opt_out_changed_at": now, "opt_out_source": source},
            audited=("sms_opt_out",), action="opted_out" if opted_out else "opted_in",
            source="twilio" if source.startswith("twilio") else source, actor=actor, note=reason, at=now)

    async def disown_number(self, contact_id: str, *, source: str, actor: str, at: datetime,
                            note: Optional[str] = None) -> bool:
        """Whoever holds the contact's mobile said it no longer reaches them: opted out of everything, and marked so
        that no message goes to it, it verifies nobody, and the manager is shown a contact to mend."""
        return await self._change_contact(
            contact_id, {"sms_opt_out": True, "opt_out_changed_at": at, "opt_out_source": source,
                         "number_disowned_at": at},
            audited=("sms_opt_out", "number_disowned_at"), action="number_disowned", source=source, actor=actor,
            note=note, at=at)

    async def set_contact_language(self, contact_id: str, language: str, *, source: str, actor: str) -> bool:
        """A contact's reply language (the assistant saves what the contact asks for), audited."""
        if language not in ("zh", "en"):
            raise RecordValidationError(self.collection_name, [("contacts.language", f"unknown language {language!r}")])
        return await self._change_contact(contact_id, {"language": language}, audited=("language",),
                                          action="updated", source=source, actor=actor)

    async def _change_contact(self, contact_id: str, fields: Dict[str, Any], *, audited: Sequence[str], action: str,
                              source: str, actor: str, note: Optional[str] = None,
                              at: Optional[datetime] = None) -> bool:
        """Set fields of one contact and write the audit entry of what changed, in one transaction."""
        now = at or utcnow()
        async with await self._db.client.start_session() as session:
            async with session.start_transaction():
                doc = await self._col.find_one({"contacts.contact_id": contact_id}, {"contacts.$": 1},
                                               session=session)
                if doc is None:
                    return False
                before = doc["contacts"][0]
                await self._col.update_one(
                    {"contacts.contact_id": contact_id},
                    {"$set": {**{f"contacts.$.{k}": v for k, v in fields.items()}, "updated_at": now}},
                    session=session)
                changes = {k: [before.get(k), fields[k]] for k in audited if before.get(k) != fields[k]}
                if changes:
                    await AuditRepository(self._db).record([{
                        "at": now, "source": source, "actor": actor, "entity": "contact", "entity_id": contact_id,
                        "customer_id": doc["_id"], "action": action, "note": note, "changes": changes}],
                        session=session)
        return True

    async def opt_out_mobile(self, mobile: str, *, source: str, actor: str = "system") -> bool:
        found = await self.find_by_mobile(mobile)
        if not found:
            log.info("opt-out for unregistered number %s ignored", mask(mobile))
            return False
        return await self.set_sms_opt_out(found[1].contact_id, True, source=source, actor=actor)

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

    async def names_and_managers(self, customer_ids: Iterable[str]) -> Dict[str, Tuple[str, str]]:
        """Company name and account manager id per customer id, in one query."""
        cursor = self._col.find({"_id": {"$in": sorted(set(customer_ids))}},
                                {"company_name": 1, "account_manager_id": 1})
        return {doc["_id"]: (doc["company_name"], doc["account_manager_id"]) async for doc in cursor}

    async def bill_days(self, customer_ids: Iterable[str]) -> Dict[str, int]:
        cursor = self._col.find({"_id": {"$in": sorted(set(customer_ids))}}, {"billing.bill_day": 1})
        return {doc["_id"]: doc["billing"]["bill_day"] async for doc in cursor}

    async def search(self, *, manager_ids: Optional[Sequence[str]], text: str = "", customer_class: str = "",
                     tier: str = "", city: str = "", also_ids: Sequence[str] = (), skip: int = 0,
                     limit: int = 25) -> Tuple[int, List[Dict[str, Any]]]:
        """A page of customers (summaries) matching the filters, within ``manager_ids`` (None: all), and the total.

        ``text`` matches part of a company or contact name, a whole customer or circuit id (any case),
        or a mobile in any written form; ``also_ids`` adds customers found otherwise (a ticket's).
        """
        query: Dict[str, Any] = {}
        if manager_ids is not None:
            query["account_manager_id"] = {"$in": list(manager_ids)}
        if customer_class == "high_value":  # the flag beside the class
            query["high_value"] = True
        elif customer_class:
            query["customer_class"] = customer_class
        if tier:
            query["contacts.tier"] = tier
        if city:
            query["region.city"] = city
        text = text.strip()[:100]
        if text or also_ids:
            part = {"$regex": re.escape(text), "$options": "i"}
            whole = {"$regex": f"^{re.escape(text)}$", "$options": "i"}
            ors: List[Dict[str, Any]] = [{"_id": {"$in": list(also_ids)}}]
            if text:
                ors += [{"company_name": part}, {"contacts.name": part}, {"_id": whole}, {"services.circuit_id": whole}]
                try:
                    ors.append({"contacts.mobile": to_e164(text, mobile_only=False)})
                except InvalidPhoneNumber:
                    pass
            query["$or"] = ors
        total = await self._col.count_documents(query)
        projection = {"company_name": 1, "customer_class": 1, "high_value": 1, "region": 1, "account_manager_id": 1,
                      "contacts.tier": 1, "contacts.contact_id": 1, "services.circuit_id": 1}
        cursor = self._col.find(query, projection).sort([("company_name", 1), ("_id", 1)]).skip(skip).limit(limit)
        return total, [doc async for doc in cursor]

    async def cities(self, manager_ids: Optional[Sequence[str]]) -> List[str]:
        query = {"account_manager_id": {"$in": list(manager_ids)}} if manager_ids is not None else {}
        return sorted(c for c in await self._col.distinct("region.city", query) if c)

    async def reassign(self, from_manager: str, to_manager: str, at: datetime) -> List[str]:
        """Move every customer of one manager to another; returns the customers moved."""
        ids = await self.ids_for_managers([from_manager])
        if ids:
            await self._col.update_many({"_id": {"$in": ids}, "account_manager_id": from_manager},
                                        {"$set": {"account_manager_id": to_manager, "updated_at": at}})
        return ids

    async def high_value_flags(self) -> Dict[str, bool]:
        return {doc["_id"]: bool(doc.get("high_value")) async for doc in self._col.find({}, {"high_value": 1})}

    async def set_high_value(self, ids: Sequence[str], flag: bool, at: datetime) -> None:
        if ids:
            await self._col.update_many({"_id": {"$in": list(ids)}}, {"$set": {"high_value": flag, "updated_at": at}})

    async def ids_of_contacts(self, contact_ids: Sequence[str]) -> List[str]:
        """The customers these contacts belong to."""
        return await self._col.distinct("_id", {"contacts.contact_id": {"$in": list(contact_ids)}})

    async def ids_for_managers(self, manager_ids: Sequence[str]) -> List[str]:
        cursor = self._col.find({"account_manager_id": {"$in": list(manager_ids)}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    async def ids_in_scope(self, manager_ids: Optional[Iterable[str]]) -> Optional[List[str]]:
        """The customers of these managers, or None (every customer) for None: a scope at group level."""
        return None if manager_ids is None else await self.ids_for_managers(sorted(manager_ids))

    async def record_counts(self, manager_ids: Optional[Sequence[str]],
                            active_manager_ids: Sequence[str]) -> AsyncIterator[Dict[str, Any]]:
        """Per customer of these managers (every one with None) whose record lacks something care needs, the
        counts that tell what: contacts, those without a birthday, those opted out, those whose number was disowned,
        whether one still reached takes the bills, whether its manager is an active one. Counted in MongoDB, so
        complete records never leave it."""
        match: Dict[str, Any] = {} if manager_ids is None else {"account_manager_id": {"$in": sorted(manager_ids)}}
        contacts = {"$ifNull": ["$contacts", []]}
        disowned = {"$gt": ["$$this.number_disowned_at", None]}  # a date; never set is missing, below null
        pipeline = [
            {"$match": match},
            {"$project": {
                "company_name": 1, "account_manager_id": 1,
                "contacts": {"$size": contacts},
                "no_birthday": {"$size": {"$filter": {"input": contacts, "cond": {"$not": ["$$this.birthday"]}}}},
                "opted_out": {"$size": {"$filter": {"input": contacts, "cond": {"$eq": ["$$this.sms_opt_out", True]}}}},
                "disowned": {"$size": {"$filter": {"input": contacts, "cond": disowned}}},
                "billing_contact": {"$anyElementTrue": [{"$map": {"input": contacts, "in": {
                    "$and": [{"$eq": ["$$this.billing_contact", True]}, {"$not": [disowned]}]}}}]},
                "manager_active": {"$in": ["$account_manager_id", sorted(active_manager_ids)]},
            }},
            {"$match": {"$expr": {"$or": [
                {"$eq": ["$contacts", 0]}, {"$gt": ["$no_birthday", 0]}, {"$eq": ["$opted_out", "$contacts"]},
                {"$gt": ["$disowned", 0]},
                {"$not": ["$billing_contact"]}, {"$not": ["$manager_active"]}]}}},
            {"$sort": {"_id": 1}},
        ]
        async for doc in self._col.aggregate(pipeline):
            yield doc
