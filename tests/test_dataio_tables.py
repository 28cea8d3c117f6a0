"""Files as they come from CRMs and Excel: encodings, delimiters, sheets, typed cells, formula escaping."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from care_scheduler.dataio.tables import TableWriter, UnusableFile, csv_encoding, open_table, table_bytes

TEXT = "客户编号,公司名称\nCRM-1,杭州华信\n"


def rows_of(path: Path, **kwargs: object) -> list:
    table = open_table(path, **kwargs)  # type: ignore[arg-type]
    try:
        return [table.headers, *[(n, cells, problem) for n, cells, problem in table.rows]]
    finally:
        table.close()


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                                                    ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(TEXT.encode(encoding))
    assert csv_encoding(path) == detected
    assert rows_of(path) == [["客户编号", "公司名称"], (2, ["CRM-1", "杭州华信"], None)]


def test_semicolons_blank_lines_and_escaped_formulas(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a;b\n'=1+1;'+86138\n\n;\nx;'plain\n", encoding="utf-8")
    assert rows_of(path) == [["a", "b"], (2, ["=1+1", "+86138"], None), (5, ["x", "'plain"], None)]


def test_xlsx_typed_cells_read_as_text_from_the_named_sheet(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("数据")
    sheet.append(["mobile", "birthday", "bill_day", "flag", "amount"])
    sheet.append([13800000010, datetime(1988, 2, 29), 31.0, True, 12.5])
    path = tmp_path / "x.xlsx"
    book.save(path)
    assert rows_of(path, sheet="数据")[1] == (2, ["13800000010", "1988-02-29", "31", "yes", "12.5"], None)
    with pytest.raises(UnusableFile, match="no sheet"):
        open_table(path, sheet="Sheet9")


def test_json_lines_report_a_bad_line_as_a_row(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    path.write_text('{"a": 1, "b": null}\nnot json\n[1]\n{"a": true}\n', encoding="utf-8")
    table = rows_of(path)
    assert table[0] == ["a", "b"] and table[1] == (1, ["1", ""], None) and table[4] == (4, ["yes", ""], None)
    assert table[2][1] is None and "not JSON" in table[2][2] and table[3][2] == "not a JSON object"


@pytest.mark.parametrize("name", ["x.docx", "x.xlsx", "x.csv"])
def test_unusable_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 broken" if name.endswith("xlsx") else b"")
    with pytest.raises(UnusableFile):
        open_table(path)


def test_writers_escape_csv_formulas_and_keep_xlsx_cells_strings(tmp_path: Path) -> None:
    hostile = ["=cmd|' /C calc'!A0", "+86138", "-5", "@SUM(A1)", "plain"]
    buffer = io.StringIO()
    with TableWriter(buffer, "csv", ["a", "b", "c", "d", "e"]) as writer:
        writer.write_row(hostile)
    assert buffer.getvalue().splitlines()[1] == "'=cmd|' /C calc'!A0,'+86138,'-5,'@SUM(A1),plain"
    path = tmp_path / "x.xlsx"
    with TableWriter(path, "xlsx", ["a", "b", "c", "d", "e"]) as writer:
        writer.write_row(hostile)
    cells = list(load_workbook(path).worksheets[0].iter_rows(min_row=2))[0]
    assert [c.value for c in cells] == hostile and {c.data_type for c in cells} == {"s"}
    assert table_bytes("csv", ["a"], [["=1"]]).startswith(b"\xef\xbb\xbfa\r\n'=1")
    assert table_bytes("xlsx", ["a"], [["=1"]])[:2] == b"PK"
