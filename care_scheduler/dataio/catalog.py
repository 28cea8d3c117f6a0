"""The kinds by name, and a file's header and cells read as one kind's columns."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from care_scheduler.dataio.kinds import (
    BillDeliveries,
    Customers,
    Doc,
    Kind,
    Managers,
    RowError,
    Usage,
    Visits,
    header_key,
)
from care_scheduler.dataio.nested import Circuits, Contacts
from care_scheduler.dataio.tables import UnusableFile
from care_scheduler.dataio.values import CellError

KINDS: Dict[str, Kind] = {k.name: k for k in (Managers(), Customers(), Contacts(), Circuits(), Usage(),
                                                BillDeliveries(), Visits())}
# A file of key columns and a few others updates existing records: circuits' status, months' payments.
PARTIAL_KINDS = {"circuits", "usage"}


def kind_named(name: str) -> Kind:
    if name not in KINDS:
        raise UnusableFile(f"unknown kind {name!r}; one of {', '.join(KINDS)}")
    return KINDS[name]


def file_columns(kind: Kind) -> List[str]:
    """The columns a file of this kind must have."""
    return [c.name for c in kind.columns if c.required or (c.needed and kind.name not in PARTIAL_KINDS)]


def map_headers(kind: Kind, headers: Sequence[str]) -> List[Optional[str]]:
    """Each header's column (English or Chinese, any case and spacing); None for a column the kind does not have."""
    lookup: Dict[str, str] = {}
    for column in kind.columns:
        for name in (column.name, column.zh, *column.aliases):
            lookup[header_key(name)] = column.name
    mapped = [lookup.get(header_key(h)) for h in headers]
    twice = sorted({c for c in mapped if c is not None and mapped.count(c) > 1})
    if twice:
        raise UnusableFile(f"columns given twice: {', '.join(twice)}")
    missing = [c for c in file_columns(kind) if c not in mapped]
    if missing:
        raise UnusableFile(f"missing columns: {', '.join(missing)} (a {kind.name} file needs "
                           f"{', '.join(file_columns(kind))})")
    return mapped


def parse_row(kind: Kind, mapping: Sequence[Optional[str]], cells: Sequence[str]) -> Doc:
    """The row's values by column (None for an empty cell). Unreadable cells raise ``RowError``, naming the first
    and saying what is wrong with each of the others too, so a file is not fixed one mistake per row at a time."""
    columns = kind.by_name
    row: Doc = {}
    unread: List[Tuple[str, str]] = []
    for index, name in enumerate(mapping):
        if name is None:
            continue
        cell = cells[index].strip() if index < len(cells) else ""
        if not cell:
            row[name] = None
            continue
        try:
            row[name] = columns[name].parse(cell)
        except CellError as exc:
            unread.append((name, str(exc)))
    if unread:
        (column, reason), others = unread[0], unread[1:]
        raise RowError(column, reason + "".join(f"; also {name}: {why}" for name, why in others))
    for key in kind.key:
        if row.get(key) is None:
            raise RowError(key, "a value is needed")
    return row
