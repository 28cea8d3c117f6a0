"""Rows of CSV, XLSX and JSON Lines files, read and written as text cells, streamed.

Files come from CRMs and from Excel on Chinese Windows, which saves CSV in GBK: a CSV file
that is not valid UTF-8 is read as GB18030 (a superset of GBK). A CSV cell that starts with
``=``, ``+``, ``-`` or ``@`` is written with a leading ``'`` against formula injection, and
the ``'`` is taken off again on reading; XLSX cells are always written as strings.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

FORMULA_START = ("=", "+", "-", "@")
_CHUNK = 1 << 20

# One row as read: its number in the file (the header is row 1), its cells, or why it could not be read.
Row = Tuple[int, Optional[List[str]], Optional[str]]


class UnusableFile(Exception):
    """The file as a whole cannot be imported: unreadable, of an unknown kind, or missing columns."""


def format_of(path: Path | str) -> str:
    name = str(path).lower()
    for fmt, endings in (("csv", (".csv", ".txt")), ("xlsx", (".xlsx", ".xlsm")), ("jsonl", (".jsonl", ".ndjson"))):
        if name.endswith(endings):
            return fmt
    raise UnusableFile(f"{Path(path).name}: the file's kind comes from its ending: .csv, .xlsx or .jsonl")


@dataclass
class Table:
    """A file's header and a one-pass stream of its rows; ``close`` releases the file."""

    headers: List[str]
    rows: Iterator[Row]
    encoding: Optional[str] = None
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        self._close()


def open_table(path: Path, *, sheet: Optional[str] = None) -> Table:
    fmt = format_of(path)
    if not path.is_file():
        raise UnusableFile(f"{path}: no such file")
    if fmt == "csv":
        return _open_csv(path)
    if fmt == "xlsx":
        return _open_xlsx(path, sheet)
    return _open_jsonl(path)


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is valid UTF-8 (with or without a BOM), else ``gb18030``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _unescape(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_START else cell


def _numbered(rows: Iterable[Sequence[str]], start: int = 2) -> Iterator[Row]:
    for number, cells in enumerate(rows, start=start):
        if any(c.strip() for c in cells):
            yield number, list(cells), None


def _open_csv(path: Path) -> Table:
    encoding = csv_encoding(path)
    fh = path.open(encoding=encoding, newline="")
    try:
        first_line = fh.readline()
        fh.seek(0)
        # The header line decides the delimiter: Excel writes ";" where "," is the decimal comma.
        delimiter = max(",;\t", key=first_line.count) if first_line.strip() else ","
        reader = csv.reader(fh, delimiter=delimiter)
        headers = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise UnusableFile(f"{path.name}: cannot be read as CSV ({exc})") from None
    if not headers:
        fh.close()
        raise UnusableFile(f"{path.name}: empty file, no header row")
    rows = ([_unescape(c) for c in cells] for cells in reader)
    return Table([h.strip() for h in headers], _numbered(rows), encoding, fh.close)


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _open_xlsx(path: Path, sheet: Optional[str]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UnusableFile(f"{path.name}: cannot be read as XLSX ({exc})") from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise UnusableFile(f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    values = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
    header = next(values, None)
    if not header or not any(h is not None for h in header):
        book.close()
        raise UnusableFile(f"{path.name}: empty sheet, no header row")
    rows = ([_xlsx_text(v) for v in cells] for cells in values)
    return Table([_xlsx_text(h).strip() for h in header], _numbered(rows), None, book.close)


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _open_jsonl(path: Path) -> Table:
    fh = path.open(encoding="utf-8-sig")
    lines = ((n, line) for n, line in enumerate(fh, start=1) if line.strip())
    try:
        first_number, first_line = next(lines)
        first = json.loads(first_line)
    except StopIteration:
        fh.close()
        raise UnusableFile(f"{path.name}: empty file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        fh.close()
        raise UnusableFile(f"{path.name}: the first line is not a JSON object ({exc})") from None
    if not isinstance(first, dict):
        fh.close()
        raise UnusableFile(f"{path.name}: the first line is not a JSON object")
    headers = [str(k) for k in first]

    def rows() -> Iterator[Row]:
        yield first_number, [_json_text(first.get(h)) for h in headers], None
        for number, line in lines:
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield number, None, f"not JSON: {exc}"
                continue
            if not isinstance(obj, dict):
                yield number, None, "not a JSON object"
                continue
            yield number, [_json_text(obj.get(h)) for h in headers], None
    return Table(headers, rows(), "utf-8", fh.close)


class TableWriter:
    """Rows written one at a time to CSV, XLSX or JSON Lines, so an export of millions is never held whole.

    ``out`` is a path, or for CSV and JSON Lines a text stream (standard output, a buffer).
    """

    def __init__(self, out: Path | IO[str], fmt: str, headers: Sequence[str]) -> None:
        self.fmt, self.headers, self.count = fmt, list(headers), 0
        self._out = out
        if fmt == "xlsx":
            if not isinstance(out, Path):
                raise ValueError("XLSX goes to a file")
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet()
            self._cell = WriteOnlyCell
            self._sheet.append(self._strings(headers))
            return
        self._stream: IO[str] = out.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") \
            if isinstance(out, Path) else out
        if fmt == "csv":
            self._csv = csv.writer(self._stream)
            self._csv.writerow([csv_cell(h) for h in headers])

    def _strings(self, values: Sequence[str]) -> List[Any]:
        cells = []
        for value in values:
            cell = self._cell(self._sheet, value=value)
            cell.data_type = "s"  # text as text: "=1+1" is never a formula
            cells.append(cell)
        return cells

    def write_row(self, row: Sequence[str]) -> None:
        if self.fmt == "xlsx":
            self._sheet.append(self._strings(row))
        elif self.fmt == "csv":
            self._csv.writerow([csv_cell(c) for c in row])
        else:
            self._stream.write(json.dumps(dict(zip(self.headers, row, strict=True)), ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if self.fmt == "xlsx":
            self._book.save(self._out)
        elif isinstance(self._out, Path):
            self._stream.close()
        else:
            self._stream.flush()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def csv_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def table_bytes(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A small table as a download: CSV with the BOM Excel needs to read UTF-8, or an XLSX workbook."""
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "table.xlsx"
            with TableWriter(path, "xlsx", headers) as writer:
                for row in rows:
                    writer.write_row(row)
            return path.read_bytes()
    buffer = io.StringIO()
    with TableWriter(buffer, "csv", headers) as writer:
        for row in rows:
            writer.write_row(row)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
