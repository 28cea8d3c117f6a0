"""The kinds of records an operator loads, their columns, and how one row changes a record.

Each kind names its columns in English and in the Chinese an operator would write, and applies
a row to the document it belongs to: a manager, a customer, a contact or circuit inside its
customer, a month of usage or of bill delivery, a visit. A row is checked with the data model's own rules
and fails alone, naming the column at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Type
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from care_scheduler.dataio import values as v
from carecore.model import AccountManager, BillDeliveryRecord, Customer, UsageMonth, Visit, month_key, visit_id

Doc = Dict[str, Any]


class RowError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column, self.reason = column, reason


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    parse: Callable[[str], Any] = v.text
    required: bool = False  # the file must have this column
    needed: bool = False  # a new record needs a value in it
    aliases: Tuple[str, ...] = ()


@dataclass
class Context:
    """What applying a row needs besides the row: time, rules, and which ids exist."""

    now: datetime
    tz: ZoneInfo
    bill_delivery_days: int
    manager_ids: set = field(default_factory=set)
    source: str = "import"  # stored as a contact's opt_out_source when this change opts them out
    consent_reason: Optional[str] = None  # a manager's reason: with it, and only then, a contact is opted in

    @property
    def today(self) -> date:
        """The business day of ``now``: what a visit day or a month is held not to be after."""
        return self.now.astimezone(self.tz).date()


@dataclass
class Applied:
    """What one row did: its record's id, whether it created, updated or left it, and the changed fields."""

    entity_id: str
    action: str  # created, updated, unchanged
    changes: Dict[str, List[Any]] = field(default_factory=dict)
    note: Optional[str] = None  # what the row asked for and did not get ("opt_out_kept")


def header_key(header: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", header).lower()


def diff(before: Optional[Doc], after: Doc, fields: Sequence[str]) -> Dict[str, List[Any]]:
    before = before or {}
    return {f: [before.get(f), after.get(f)] for f in fields if before.get(f) != after.get(f)}


def checked(model: Type[BaseModel], doc: Doc, column_of: Dict[str, str]) -> Doc:
    """The document as the model stores it, or a ``RowError`` naming the first failing column and saying what is
    wrong with each other one too."""
    try:
        return model.parse_obj(doc).dict(by_alias=True, exclude_none=True)
    except ValidationError as exc:
        failed: Dict[str, str] = {}  # by column, the first reason: a field may fail several ways at once
        for err in exc.errors():
            loc = [str(part) for part in err["loc"] if part != "__root__"]
            failed.setdefault(next((column_of[p] for p in loc if p in column_of), loc[0] if loc else "record"),
                              err["msg"])
        (column, reason), *others = failed.items()
        raise RowError(column, reason + "".join(f"; also {name}: {why}" for name, why in others)) from None


class Kind:
    name: str
    target: str  # the collection its records live in
    entity: str  # what the audit log calls one record
    columns: Tuple[Column, ...]
    key: Tuple[str, ...]
    needs_customer = False  # rows name a customer that must exist
    needs_managers = False  # rows name managers that must exist: the importer loads their ids into ``Context``

    @property
    def by_name(self) -> Dict[str, Column]:
        return {c.name: c for c in self.columns}

    def doc_id(self, row: Doc) -> str:
        return str(row[self.key[0]])

    def record_key(self, row: Doc) -> str:
        return ":".join(str(row[k]) for k in self.key)

    def apply(self, doc: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Applied]:
        """The document as the row leaves it, and what the row did. ``doc`` itself is never changed."""
        raise NotImplementedError

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        raise NotImplementedError

    def audit_entry(self, *, at: datetime, source: str, actor: str, customer_id: Optional[str], entity_id: str,
                    action: str, changes: Dict[str, Any], note: Optional[str] = None,
                    job_id: Optional[str] = None) -> Dict[str, Any]:
        """The audit log's entry for one record of this kind (imports, console edits and removals alike)."""
        return {"at": at, "source": source, "actor": actor[:64], "entity": self.entity,
                "entity_id": str(entity_id)[:100], "customer_id": customer_id if self.name != "managers" else None,
                "action": action, "changes": changes, "note": note[:500] if note else None, "job_id": job_id}

    def need(self, row: Doc, new: bool) -> None:
        """Values a record cannot do without: never emptied, and all given for a new record."""
        if new:
            missing = [c.name for c in self.columns if c.needed and c.name not in row]
            if missing:
                raise RowError(missing[0], f"no {self.entity} {self.record_key(row)!r} yet; a new one needs the "
                                           f"columns {', '.join(missing)}")
        for column in self.columns:
            if column.name in row and row[column.name] is None and (column.required or column.needed):
                raise RowError(column.name, "a value is needed")


def _set(target: Doc, name: str, value: Any) -> None:
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value


class Managers(Kind):
    name, target, entity = "managers", "account_managers", "manager"
    key = ("manager_id",)
    needs_managers = True  # supervisors
    columns = (
        Column("manager_id", "经理编号", v.identifier, required=True, aliases=("客户经理编号", "工号")),
        Column("name", "姓名", needed=True),
        Column("mobile", "手机号码", needed=True, aliases=("手机", "手机号")),  # the model normalises it
        Column("email", "邮箱", needed=True, aliases=("电子邮件",)),
        Column("province", "省份", needed=True, aliases=("省",)),
        Column("city", "城市", aliases=("地市",)),
        Column("level", "级别", v.choice("manager_level", {"市": "city", "省级": "province", "集团公司": "group"}),
               needed=True),
        Column("supervisor_id", "上级编号", v.identifier, aliases=("上级经理编号",)),
    )
    FIELDS = ("name", "mobile", "email", "region", "level", "supervisor_id")

    def apply(self, doc: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Applied]:
        self.need(row, doc is None)
        new = dict(doc) if doc else {"_id": row["manager_id"]}
        for name in ("name", "mobile", "email", "level", "supervisor_id"):
            if name in row:
                _set(new, name, row[name])
        region = dict(new.get("region") or {})
        for name in ("province", "city"):
            if name in row:
                _set(region, name, row[name])
        new["region"] = region
        supervisor = new.get("supervisor_id")
        if supervisor and supervisor not in ctx.manager_ids:
            raise RowError("supervisor_id", f"no manager {supervisor!r}")
        if new == doc:  # as stored, and what is stored was checked: nothing to check again
            return doc, Applied(new["_id"], "unchanged")
        new = checked(AccountManager, new, {"region": "province", "city": "city"})
        return new, _applied(new["_id"], doc, new, self.FIELDS)

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        region = doc.get("region") or {}
        yield [doc["_id"], doc["name"], doc["mobile"], doc["email"], region.get("province", ""),
               region.get("city") or "", doc["level"], doc.get("supervisor_id") or ""]


class Customers(Kind):
    name, target, entity = "customers", "customers", "customer"
    key = ("customer_id",)
    needs_managers = True
    columns = (
        Column("customer_id", "客户编号", v.identifier, required=True, aliases=("客户ID",)),
        Column("company_name", "公司名称", needed=True, aliases=("客户名称", "单位名称")),
        Column("class", "客户类别", v.customer_class, aliases=("客户类型",)),
        Column("province", "省份", needed=True, aliases=("省",)),
        Column("city", "城市", aliases=("地市",)),
        Column("account_manager_id", "客户经理编号", v.identifier, needed=True, aliases=("客户经理",)),
        Column("bill_day", "账单日", lambda c: v.whole_number(c, 1, 31), needed=True),
        Column("bill_delivery", "账单寄送方式", v.choice("bill_delivery", {"邮件": "email", "纸质账单": "paper"}),
               needed=True, aliases=("账单寄送",)),
        Column("billing_email", "账单邮箱"),
    )
    FIELDS = ("company_name", "customer_class", "region", "account_manager_id", "billing")
    COLUMN_OF = {"company_name": "company_name", "customer_class": "class", "region": "province", "city": "city",
                 "account_manager_id": "account_manager_id", "bill_day": "bill_day", "delivery": "bill_delivery",
                 "email": "billing_email", "_id": "customer_id", "id": "customer_id"}

    def apply(self, doc: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Applied]:
        self.need(row, doc is None)
        new = dict(doc) if doc else {"_id": row["customer_id"], "contacts": [], "services": []}
        for column, name in (("company_name", "company_name"), ("class", "customer_class"),
                             ("account_manager_id", "account_manager_id")):
            if column in row:
                _set(new, name, row[column])
        region, billing = dict(new.get("region") or {}), dict(new.get("billing") or {})
        for column, target, name in (("province", region, "province"), ("city", region, "city"),
                                     ("bill_day", billing, "bill_day"), ("bill_delivery", billing, "delivery"),
                                     ("billing_email", billing, "email")):
            if column in row:
                _set(target, name, row[column])
        new["region"], new["billing"] = region, billing
        if new.get("account_manager_id") not in ctx.manager_ids:
            raise RowError("account_manager_id", f"no manager {new.get('account_manager_id')!r}")
        if new == doc:
            return doc, Applied(new["_id"], "unchanged")
        # The top-level fields are checked here; the contacts and circuits were checked when they came in.
        top = checked(Customer, {**new, "contacts": [], "services": []}, self.COLUMN_OF)
        new = {**top, "contacts": new.get("contacts", []), "services": new.get("services", []),
               **{k: new[k] for k in ("created_at", "updated_at") if k in new}}
        return new, _applied(new["_id"], doc, new, self.FIELDS)

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        region, billing = doc.get("region") or {}, doc.get("billing") or {}
        yield [doc["_id"], doc["company_name"], doc.get("customer_class") or "", region.get("province", ""),
               region.get("city") or "", doc["account_manager_id"], str(billing.get("bill_day", "")),
               billing.get("delivery", ""), billing.get("email") or ""]


def _applied(entity_id: str, before: Optional[Doc], after: Doc, fields: Sequence[str]) -> Applied:
    if before is None:
        return Applied(entity_id, "created")
    changes = diff(before, after, fields)
    return Applied(entity_id, "updated" if changes else "unchanged", changes)


class _PerCustomerMonth(Kind):
    """Documents keyed ``<customer_id>:<month>``."""

    needs_customer = True
    key = ("customer_id", "month")
    model: Type[BaseModel]
    FIELDS: Tuple[str, ...] = ()

    def doc_id(self, row: Doc) -> str:
        return f"{row['customer_id']}:{row['month']}"

    def fill(self, new: Doc, row: Doc, ctx: Context) -> None:
        raise NotImplementedError

    def apply(self, doc: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Applied]:
        self.need(row, doc is None)
        # A mistyped year (2027 for 2025) would otherwise become the customer's latest bill.
        if row["month"] > month_key(ctx.today):
            raise RowError("month", "a month that has not begun yet")
        new = dict(doc) if doc else {"_id": self.doc_id(row), "customer_id": row["customer_id"],
                                     "month": row["month"]}
        self.fill(new, row, ctx)
        if new == doc:
            return doc, Applied(new["_id"], "unchanged")
        new = checked(self.model, new, {f: f for f in self.FIELDS})
        return new, _applied(new["_id"], doc, new, self.FIELDS)


class Usage(_PerCustomerMonth):
    name, target, entity, model = "usage", "usage_monthly", "usage", UsageMonth
    columns = (
        Column("customer_id", "客户编号", v.identifier, required=True),
        Column("month", "月份", v.month, required=True, aliases=("账期",)),
        Column("voice_minutes", "通话分钟数", lambda c: v.whole_number(c, 0), needed=True, aliases=("通话时长",)),
        Column("data_mb", "流量MB", lambda c: v.whole_number(c, 0), needed=True, aliases=("流量",)),
        Column("sms_count", "短信条数", lambda c: v.whole_number(c, 0), needed=True, aliases=("短信",)),
        Column("amount_yuan", "消费金额元", v.yuan_to_fen, needed=True, aliases=("金额", "消费金额")),
        # what billing says was paid toward the month's bill; an empty cell: not known (never arrears)
        Column("paid_yuan", "已缴金额元", v.yuan_to_fen, aliases=("已缴金额", "实收金额", "已缴")),
    )
    FIELDS = ("voice_minutes", "data_mb", "sms_count", "amount_fen", "paid_fen")

    def fill(self, new: Doc, row: Doc, ctx: Context) -> None:
        for column, name in (("voice_minutes", "voice_minutes"), ("data_mb", "data_mb"),
                             ("sms_count", "sms_count"), ("amount_yuan", "amount_fen"), ("paid_yuan", "paid_fen")):
            if column in row:
                new[name] = row[column]

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        paid = doc.get("paid_fen")
        yield [doc["customer_id"], doc["month"], str(doc["voice_minutes"]), str(doc["data_mb"]),
               str(doc["sms_count"]), v.format_fen(doc["amount_fen"]), "" if paid is None else v.format_fen(paid)]


class BillDeliveries(_PerCustomerMonth):
    name, target, entity, model = "bill-deliveries", "bill_deliveries", "bill_delivery", BillDeliveryRecord
    columns = (
        Column("customer_id", "客户编号", v.identifier, required=True),
        Column("month", "账期", v.month, required=True, aliases=("月份",)),
        Column("channel", "寄送方式", v.choice("bill_delivery", {"邮件": "email", "纸质账单": "paper"}), needed=True),
        Column("issued_at", "出账时间", needed=True),
        Column("delivered_at", "送达时间"),
        Column("due_by", "应送达时间"),
    )
    FIELDS = ("channel", "issued_at", "delivered_at", "due_by")

    def fill(self, new: Doc, row: Doc, ctx: Context) -> None:
        for name in ("channel",):
            if name in row:
                new[name] = row[name]
        for name in ("issued_at", "delivered_at", "due_by"):
            if name in row:
                try:
                    _set(new, name, v.moment(row[name], ctx.tz) if row[name] is not None else None)
                except v.CellError as exc:
                    raise RowError(name, str(exc)) from None
                if name != "due_by" and new.get(name) is not None and new[name] > ctx.now:
                    raise RowError(name, "a time that has not come yet")
        issued = new["issued_at"].astimezone(ctx.tz).date()
        if month_key(issued) < new["month"]:
            raise RowError("issued_at", "a bill issued before its month began")
        if "due_by" not in new or ("due_by" in row and row["due_by"] is None):
            new["due_by"] = v.end_of_day(issued + timedelta(days=ctx.bill_delivery_days), ctx.tz)

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        yield [doc["customer_id"], doc["month"], doc["channel"], v.format_moment(doc["issued_at"], tz),
               v.format_moment(doc.get("delivered_at"), tz), v.format_moment(doc["due_by"], tz)]


class Visits(Kind):
    """A visit history kept elsewhere (a CRM, a manager's spreadsheet): one row per visit, keyed by customer,
    day and manager, so loading the same history again changes nothing. Contact ids are kept as given: a
    contact who has since left still names the visit."""

    name, target, entity = "visits", "visits", "visit"
    needs_customer = needs_managers = True
    key = ("customer_id", "visited_on", "manager_id")
    columns = (
        Column("customer_id", "客户编号", v.identifier, required=True),
        Column("visited_on", "拜访日期", v.day, required=True, aliases=("日期",)),
        Column("manager_id", "客户经理编号", v.identifier, required=True),
        Column("contact_ids", "联系人编号", v.id_list, aliases=("联系人",)),
        Column("notes", "拜访纪要", needed=True, aliases=("纪要", "拜访内容")),
        Column("next_step", "后续安排", aliases=("下一步",)),
    )
    FIELDS = ("contact_ids", "notes", "next_step")

    def doc_id(self, row: Doc) -> str:
        return visit_id(row["customer_id"], row["manager_id"], row["visited_on"])

    def apply(self, doc: Optional[Doc], row: Doc, ctx: Context) -> Tuple[Doc, Applied]:
        self.need(row, doc is None)
        if row["manager_id"] not in ctx.manager_ids:
            raise RowError("manager_id", f"no manager {row['manager_id']!r}")
        if row["visited_on"] > ctx.today.isoformat():
            raise RowError("visited_on", "a visit that has not happened yet")
        new = dict(doc) if doc else {"_id": self.doc_id(row), "customer_id": row["customer_id"],
                                     "visited_on": row["visited_on"], "manager_id": row["manager_id"],
                                     "created_at": ctx.now}
        for name in self.FIELDS:
            if name in row:
                _set(new, name, row[name])
        if new == doc:
            return doc, Applied(new["_id"], "unchanged")
        new = checked(Visit, new, {f: f for f in self.FIELDS})
        return new, _applied(new["_id"], doc, new, self.FIELDS)

    def export_rows(self, doc: Doc, tz: ZoneInfo) -> Iterator[List[str]]:
        yield [doc["customer_id"], doc["visited_on"], doc["manager_id"], "、".join(doc.get("contact_ids", [])),
               doc["notes"], doc.get("next_step") or ""]
