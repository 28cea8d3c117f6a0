"""Contacts and circuits: records that live inside their customer's document.

A row changes its customer's document in place only once the record it builds has passed the
model's checks, so a failed row leaves the document as it was. Consent is sticky: an import may
opt a contact out, never back in.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo

from care_scheduler.dataio import values as v
from care_scheduler.dataio.kinds import Applied, Column, Context, Doc, Kind, RowError, _set, checked, diff
from carecore.model import Circuit, Contact
from carecore.phones import InvalidPhoneNumber, to_e164


class _Nested(Kind):
    needs_customer = True
    nested: str  # the customer's list holding the records
    item_key: str  # the record's id field inside it
    FIELDS: Tuple[str, ...] = ()
    COLUMN_OF: Dict[str, str] = {}
    model: Any

    def record_key(self, row: Doc) -> str:
        return str(row[self.key[1]])

    def build(self, before: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Optional[str]]:
        """The record as the row makes it, and a note on what the row asked for and did not get."""
        raise NotImplementedError

    def apply(self, doc: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Applied]:
        if doc is None:
            raise RowError("customer_id", f"no customer {row['customer_id']!r} (import the customer first)")
        items: List[Doc] = list(doc.get(self.nested) or [])
        doc = {**doc, self.nested: items}  # a new document and list: the one given stays as it was
        item_id = row[self.key[1]]
        index = next((i for i, item in enumerate(items) if item.get(self.item_key) == item_id), None)
        before = items[index] if index is not None else None
        self.need(row, before is None)
        record, note = self.build(before, row, ctx)
        if record == before:  # as stored, and what is stored was checked: nothing to check again
            return doc, Applied(item_id, "unchanged", note=note)
        record = checked(self.model, record, self.COLUMN_OF)
        self.check_among(record, items, index)
        if before is None:
            items.append(record)
            return doc, Applied(item_id, "created", note=note)
        changes = diff(before, record, self.FIELDS)
        items[index] = record  # type: ignore[index]
        return doc, Applied(item_id, "updated" if changes else "unchanged", changes, note=note)

    def check_among(self, record: Doc, items: List[Doc], index: Optional[int]) -> None:
        """Rules across the customer's records (a mobile used twice)."""

class Contacts(_Nested):
    name, target, entity, nested, item_key, model = "contacts", "customers", "contact", "contacts", "contact_id", Contact
    key = ("customer_id", "contact_id")
    columns = (
        Column("customer_id", "客户编号", v.identifier, required=True),
        Column("contact_id", "联系人编号", v.identifier, required=True),
        Column("name", "姓名", needed=True, aliases=("联系人姓名", "联系人")),
        Column("role", "职务", needed=True, aliases=("职位",)),
        Column("mobile", "手机号码", needed=True, aliases=("手机", "手机号")),  # the model normalises it
        Column("email", "邮箱", aliases=("电子邮件",)),
        Column("birthday", "生日", v.birthday_date, aliases=("出生日期",)),
        Column("birthday_calendar", "生日历法", v.calendar, aliases=("历法",)),
        Column("language", "语言", v.choice("language", {"chinese": "zh", "english": "en", "汉语": "zh"})),
        Column("tier", "客户等级", v.choice("tier", {"钻石": "diamond", "金": "gold", "银": "silver", "贵宾": "vip"}),
               needed=True, aliases=("等级", "卡级别")),
        Column("billing_contact", "账单联系人", v.boolean),
        Column("sms_opt_out", "退订短信", v.boolean, aliases=("拒收短信",)),
    )
    FIELDS = ("name", "role", "mobile", "email", "birthday", "language", "tier", "billing_contact", "sms_opt_out")
    COLUMN_OF = {f: f for f in FIELDS} | {"contact_id": "contact_id"}

    def build(self, before: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Optional[str]]:
        record = copy.deepcopy(before) if before else {"contact_id": row["contact_id"]}
        for name in ("name", "role", "mobile", "email", "language", "tier", "billing_contact"):
            if name in row:
                _set(record, name, row[name])
        if before and before.get("number_disowned_at") and _new_mobile(before, row):
            del record["number_disowned_at"]  # mended: the contact has a number that reaches them again
        if "birthday" in row or "birthday_calendar" in row:
            record["birthday"] = _birthday(record.get("birthday"), row)
            if record["birthday"] is None:
                del record["birthday"]
        return record, _consent(record, before, row, ctx)

    def check_among(self, record: Doc, items: List[Doc], index: Optional[int]) -> None:
        for i, other in enumerate(items):
            if i != index and other.get("mobile") == record["mobile"]:
                raise RowError("mobile", f"already the mobile of contact {other['contact_id']} of this customer")

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        for c in doc.get("contacts") or []:
            day, calendar = v.format_birthday(c.get("birthday"))
            yield [doc["_id"], c["contact_id"], c["name"], c["role"], c["mobile"], c.get("email") or "", day,
                   calendar, c.get("language", "zh"), c["tier"], v.format_boolean(c.get("billing_contact")),
                   v.format_boolean(c.get("sms_opt_out"))]


def _new_mobile(before: Doc, row: Doc) -> bool:
    """Whether the row gives the contact another mobile, however written; an invalid one is the model's to refuse."""
    try:
        return "mobile" in row and to_e164(str(row["mobile"])) != before.get("mobile")
    except InvalidPhoneNumber:
        return True


def _consent(record: Doc, before: Optional[Doc], row: Doc, ctx: Context) -> Optional[str]:
    """Apply the row's ``sms_opt_out``: anyone may opt a contact out; opting in takes a manager's reason.

    An import never opts a contact back in (the note says it kept the opt-out), and an opt-out that
    came from Twilio's 21610 only the contact can reverse, through the assistant.
    """
    wanted, current = row.get("sms_opt_out"), bool(record.get("sms_opt_out"))
    if wanted is True and not current:
        if before is not None and ctx.source != "import" and not ctx.consent_reason:
            raise RowError("consent_reason", "a reason is needed to change SMS consent")
        record.update(sms_opt_out=True, opt_out_source=ctx.source, opt_out_changed_at=ctx.now)
    elif wanted is False and current:
        if ctx.consent_reason is None:
            return "opt_out_kept"  # consent is the contact's: an import never opts them back in
        if str(record.get("opt_out_source", "")).startswith("twilio"):
            raise RowError("sms_opt_out", "opted out at Twilio (21610): only the contact can opt back in")
        if not ctx.consent_reason.strip():
            raise RowError("consent_reason", "a reason is needed to change SMS consent")
        record.update(sms_opt_out=False, opt_out_source=ctx.source, opt_out_changed_at=ctx.now)
    elif before is None:
        record["sms_opt_out"] = bool(wanted)
    return None


def _birthday(current: Optional[Doc], row: Doc) -> Optional[Doc]:
    """The birthday the row's two cells make, keeping what the file does not say."""
    if "birthday" in row:
        if row["birthday"] is None:
            return None
        year, month, day = row["birthday"]
        kept: Dict[str, Any] = {"month": month, "day": day, **({"year": year} if year else {})}
    elif current:
        kept = {k: current[k] for k in ("month", "day", "year") if k in current}
    else:
        raise RowError("birthday_calendar", "a calendar needs a birthday")
    if row.get("birthday_calendar") is not None:
        calendar, leap = row["birthday_calendar"]
    elif current:
        calendar, leap = current.get("calendar", "solar"), bool(current.get("leap_month"))
    else:
        calendar, leap = "solar", False
    return {"calendar": calendar, **kept, "leap_month": leap}  # the model's own form of it


class Circuits(_Nested):
    name, target, entity, nested, item_key, model = "circuits", "customers", "circuit", "services", "circuit_id", Circuit
    key = ("customer_id", "circuit_id")
    columns = (
        Column("customer_id", "客户编号", v.identifier, required=True),
        Column("circuit_id", "电路编号", v.identifier, required=True, aliases=("电路代号", "专线编号")),
        Column("type", "电路类型", v.choice("circuit_type"), needed=True, aliases=("业务类型",)),
        Column("bandwidth", "带宽", needed=True, aliases=("速率",)),
        Column("status", "状态", v.choice("circuit_status", {"性能劣化": "degraded", "维护": "maintenance",
                                                             "暂停": "suspended"}), required=True,
               aliases=("电路状态",)),
        Column("sla_class", "SLA等级", v.choice("sla_class"), needed=True, aliases=("保障等级",)),
        Column("a_end", "A端", aliases=("A端地址",)),
        Column("z_end", "Z端", aliases=("Z端地址",)),
    )
    FIELDS = ("type", "bandwidth", "status", "sla_class", "a_end", "z_end")
    COLUMN_OF = {f: f for f in FIELDS} | {"circuit_id": "circuit_id"}

    def build(self, before: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Optional[str]]:
        record = copy.deepcopy(before) if before else {"circuit_id": row["circuit_id"]}
        for name in self.FIELDS:
            if name in row:
                _set(record, name, row[name])
        return record, None

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        for c in doc.get("services") or []:
            yield [doc["_id"], c["circuit_id"], c["type"], c["bandwidth"], c.get("status", "active"), c["sla_class"],
                   c.get("a_end") or "", c.get("z_end") or ""]
