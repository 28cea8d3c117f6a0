"""One record changed by a person (a manager in the console, an operator's API call), checked as imports are.

The row goes through the same kind, parsers and model checks as an import row, so a console edit
fails with the same message an import would give. It is written only if its document is still as
it was read, together with its audit entry.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from care_scheduler.dataio.catalog import KINDS, parse_row
from care_scheduler.dataio.kinds import Applied, Context, Doc, Kind, RowError
from care_scheduler.dataio.nested import _Nested
from carecore.repository import Database
from carecore.repository.records import Change

ATTEMPTS = 3


def row_from_form(kind: Kind, form: Mapping[str, str]) -> Doc:
    """A form's fields read by the kind's columns (only the fields the form has)."""
    names = [c.name for c in kind.columns if c.name in form]
    return parse_row(kind, names, [form[n] for n in names])


async def save(db: Database, kind_name: str, row: Doc, ctx: Context, *, actor: str,
               note: Optional[str] = None) -> Applied:
    """Create or update the row's record; ``RowError`` says why not."""
    kind = KINDS[kind_name]
    store = db.records(kind.target)
    doc_id = kind.doc_id(row)
    for _ in range(ATTEMPTS):
        before = (await store.fetch([doc_id])).get(doc_id)
        after, applied = kind.apply(before, row, ctx)
        if applied.action == "unchanged":
            return applied
        entry = kind.audit_entry(at=ctx.now, source=ctx.source, actor=actor, customer_id=row.get("customer_id"),
                                 entity_id=applied.entity_id, action=applied.action, changes=applied.changes,
                                 note=note)
        outcome = await store.write([Change(doc_id, before, _stamped(kind, after, ctx))], [entry])
        if outcome.ok:
            return applied
        _raise_refusal(outcome)
    raise RowError("row", "changed by someone else meanwhile; look again and retry")


async def remove(db: Database, kind_name: str, customer_id: str, item_id: str, ctx: Context, *, actor: str,
                 note: Optional[str] = None) -> bool:
    """Take a contact or circuit off its customer (its history stays); False if it is not there."""
    kind = KINDS[kind_name]
    assert isinstance(kind, _Nested)
    store = db.records(kind.target)
    for _ in range(ATTEMPTS):
        before = (await store.fetch([customer_id])).get(customer_id)
        items = (before or {}).get(kind.nested) or []
        gone = next((i for i in items if i.get(kind.item_key) == item_id), None)
        if before is None or gone is None:
            return False
        after = {**before, kind.nested: [i for i in items if i is not gone]}
        entry = kind.audit_entry(at=ctx.now, source=ctx.source, actor=actor, customer_id=customer_id,
                                 entity_id=item_id, action="removed",
                                 changes={k: [v, None] for k, v in gone.items()}, note=note)
        if (await store.write([Change(customer_id, before, _stamped(kind, after, ctx))], [entry])).ok:
            return True
    raise RowError("row", "changed by someone else meanwhile; look again and retry")


def _stamped(kind: Kind, doc: Doc, ctx: Context) -> Doc:
    if kind.target == "customers":
        doc["updated_at"] = ctx.now
        doc.setdefault("created_at", ctx.now)
    return doc


def _raise_refusal(outcome: Any) -> None:
    if outcome.duplicate is not None:
        _, key = outcome.duplicate
        field_name, value = next(iter(key.items()), ("record", None))
        raise RowError(field_name.rsplit(".", 1)[-1], f"{value} already belongs to another record")
    if outcome.invalid is not None:
        raise RowError("row", outcome.invalid[1])
