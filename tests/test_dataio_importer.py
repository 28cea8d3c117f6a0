"""Importing the operator's records from real files (UTF-8 and GBK CSV, XLSX, JSON Lines) into the real mongod."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Sequence

import pytest
from openpyxl import Workbook

from care_scheduler.dataio.exporter import export, write_errors
from care_scheduler.dataio.importer import Importer, ImportOptions, ImportReport
from care_scheduler.visits import record_visit
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import ChangeSource, ImportStatus
from carecore.repository import Database
from carecore.repository.imports import ImportBusy

NOW = datetime(2026, 12, 4, 10, 0)
TEMPLATES = Path(__file__).resolve().parent.parent / "docs" / "import"
IMPORT_PAGE = TEMPLATES.parent / "import.md"
MANAGERS = """manager_id,name,mobile,email,province,city,level,supervisor_id
HQ-1,钱建国,139 0000 0001,hq@kam.example.cn,集团公司,,集团,
ZJ-P,周敏,+86-139-1000-0001,pzj@kam.example.cn,浙江省,,province,HQ-1
ZJ-HZ,林海燕,008613920000001,hz@kam.example.cn,浙江省,杭州,地市,ZJ-P
"""
CUSTOMERS = """客户编号,公司名称,客户类别,省份,城市,客户经理编号,账单日,账单寄送方式,账单邮箱
CRM-001,杭州华信物流有限公司,重要客户,浙江省,杭州,ZJ-HZ,31,电子邮件,finance@hx.example.cn
CRM-002,杭州第一人民医院,strategic,浙江省,杭州,ZJ-HZ,15,paper,
"""
CONTACTS = """customer_id,contact_id,name,role,mobile,email,birthday,birthday_calendar,language,tier,billing_contact,sms_opt_out
CRM-001,C-1,王伟,信息中心主任,138 0013 8000,,1988-02-29,solar,zh,钻石卡,是,否
CRM-001,C-2,David Chen,CIO,+86-139-0013-9000,david@hx.example.cn,08-15,lunar,en,gold,no,no
CRM-002,C-3,李娜,院办主任,13700000003,,2020-04-15,lunar-leap,中文,银卡,yes,no
"""


def clock() -> FixedClock:
    return FixedClock(NOW)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx(tmp_path: Path, name: str, rows: Sequence[Sequence[object]], sheet: str = "Sheet1") -> Path:
    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(list(row))
    path = tmp_path / name
    book.save(path)
    return path


async def run(db: Database, path: Path, kind: str, **options: object) -> ImportReport:
    return await Importer(db, Settings(), clock(), batch_rows=2).run(path, ImportOptions(kind, **options))


async def load_base(db: Database, tmp_path: Path) -> None:
    for kind, text in (("managers", MANAGERS), ("customers", CUSTOMERS), ("contacts", CONTACTS)):
        report = await run(db, write(tmp_path, f"{kind}.csv", text), kind)
        assert report.exit_code == 0, report.summary()


async def test_a_first_load_then_the_same_files_again_change_nothing(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await load_base(db, tmp_path)
    customer = await db.customers.get("CRM-001")
    assert customer is not None and customer.customer_class == "important" and customer.billing.bill_day == 31
    wang = customer.contact("C-1")
    assert wang is not None and wang.mobile == "+8613800138000" and wang.tier == "diamond" and wang.billing_contact
    assert wang.birthday is not None and (wang.birthday.year, wang.birthday.month, wang.birthday.day) == (1988, 2, 29)
    li = (await db.customers.get("CRM-002")).contact("C-3")  # type: ignore[union-attr]
    assert li is not None and li.birthday is not None and li.birthday.leap_month and li.language == "zh"
    manager = await db.managers.get("ZJ-HZ")
    assert manager is not None and manager.mobile == "+8613920000001" and manager.level == "city"
    again = await run(db, write(tmp_path, "contacts.csv", CONTACTS), "contacts")
    assert (again.counts["unchanged"], again.counts["created"], again.counts["updated"]) == (3, 0, 0)
    assert "3 unchanged" in again.summary()
    job = await db.import_jobs.get(again.job_id)
    assert job is not None and job.status == ImportStatus.done and job.counts["unchanged"] == 3
    # One audit entry for each job, none for the records it created.
    assert [e.action for e in await db.audit.for_job(again.job_id)] == ["imported"]


async def test_gbk_csv_xlsx_and_json_lines_read_alike(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    gbk = await run(db, write(tmp_path, "customers.csv", CUSTOMERS, "gbk"), "customers")
    assert gbk.counts["created"] == 2, gbk.summary()
    sheet = xlsx(tmp_path, "contacts.xlsx", [
        ["客户编号", "联系人编号", "姓名", "职务", "手机号码", "生日", "生日历法", "客户等级"],
        ["CRM-001", "C-9", "赵敏", "财务经理", 13800000009, datetime(1980, 5, 1), "公历", "金卡"]], sheet="联系人")
    assert (await run(db, sheet, "contacts", sheet="联系人")).counts["created"] == 1
    lines = tmp_path / "usage.jsonl"
    lines.write_text(json.dumps({"customer_id": "CRM-001", "month": "2026-10", "voice_minutes": 3125, "data_mb": 182784,
                                 "sms_count": 1281, "amount_yuan": "9036.05"}, ensure_ascii=False) + "\n")
    assert (await run(db, lines, "usage")).counts["created"] == 1
    usage = await db.usage.get("CRM-001", "2026-10")
    assert usage is not None and usage.amount_fen == 903605
    zhao = (await db.customers.get("CRM-001")).contact("C-9")  # type: ignore[union-attr]
    assert zhao is not None and zhao.mobile == "+8613800000009" and zhao.birthday.month == 5  # type: ignore[union-attr]


async def test_billings_payments_file_updates_months_already_loaded(db: Database, tmp_path: Path) -> None:
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    usage = "客户编号,月份,通话分钟数,流量MB,短信条数,消费金额元\nCRM-001,2026-10,3125,182784,1281,9036.05\n"
    await run(db, write(tmp_path, "u.csv", usage), "usage")
    payments = "客户编号,账期,实收金额\nCRM-001,2026-10,\"6,000.00\"\nCRM-002,2026-10,100\n"
    report = await run(db, write(tmp_path, "p.csv", payments), "usage")
    assert report.counts["updated"] == 1 and report.counts["failed"] == 1, report.summary()  # no October yet
    [error] = [e async for e in db.import_errors.for_job(report.job_id)]
    assert "no usage 'CRM-002:2026-10' yet" in error.reason
    october = await db.usage.get("CRM-001", "2026-10")
    assert october is not None and (october.paid_fen, october.owed_fen) == (600000, 303605)
    cleared = await run(db, write(tmp_path, "q.csv", "客户编号,账期,已缴金额元\nCRM-001,2026-10,\n"), "usage")
    assert cleared.counts["updated"] == 1  # an empty cell: billing no longer says, so nothing is owed
    october = await db.usage.get("CRM-001", "2026-10")
    assert october is not None and (october.paid_fen, october.owed_fen) == (None, None)


async def test_months_and_times_not_yet_come_are_refused(db: Database, tmp_path: Path) -> None:
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    usage = ("客户编号,月份,通话分钟数,流量MB,短信条数,消费金额元\n"
             "CRM-001,2026-12,10,10,1,1.00\n"  # the month under way (the clock: 2026-12-04)
             "CRM-001,2027-10,10,10,1,1.00\n")  # a mistyped year: it would read as the latest bill
    report = await run(db, write(tmp_path, "u.csv", usage), "usage")
    assert (report.counts["created"], report.counts["failed"]) == (1, 1), report.summary()
    assert [(e.row, e.column, e.reason) async for e in db.import_errors.for_job(report.job_id)] == [
        (3, "month", "a month that has not begun yet")]
    deliveries = ("customer_id,month,channel,issued_at,delivered_at,due_by\n"
                  "CRM-001,2026-11,email,2026-12-01 09:00,2026-12-01 10:00,\n"
                  "CRM-001,2026-10,email,2026-11-01 09:00,2026-12-05 10:00,\n"  # delivered tomorrow
                  "CRM-001,2026-12,email,2026-12-31 09:00,,\n"  # not issued yet
                  "CRM-002,2026-11,paper,2026-10-31 09:00,,\n"  # issued before November began
                  "CRM-002,2027-01,paper,2026-12-01 09:00,,\n")
    report = await run(db, write(tmp_path, "d.csv", deliveries), "bill-deliveries")
    assert (report.counts["created"], report.counts["failed"]) == (1, 4), report.summary()
    assert [(e.row, e.column) async for e in db.import_errors.for_job(report.job_id)] == [
        (3, "delivered_at"), (4, "issued_at"), (5, "issued_at"), (6, "month")]


async def test_a_visit_history_loads_once_and_refuses_what_cannot_be(db: Database, tmp_path: Path) -> None:
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    history = ("客户编号,拜访日期,客户经理编号,联系人编号,拜访纪要,后续安排\n"
               "CRM-001,2026/11/20,ZJ-HZ,C-1、C-2,走访信息中心，确认扩容需求,12月初报价\n"
               "CRM-001,2026-02-30,ZJ-HZ,,走访,\n"  # no such day
               "CRM-001,2026-12-05,ZJ-HZ,,季度走访安排,\n"  # not yet (the clock: 2026-12-04)
               "CRM-001,2026-11-21,XX-9,,季度走访安排,\n"  # no such manager
               "CRM-404,2026-11-21,ZJ-HZ,,季度走访安排,\n")
    report = await run(db, write(tmp_path, "v.csv", history), "visits")
    assert (report.counts["created"], report.counts["failed"]) == (1, 4), report.summary()
    failures = [(e.row, e.column) async for e in db.import_errors.for_job(report.job_id)]
    assert failures == [(3, "visited_on"), (4, "visited_on"), (5, "manager_id"), (6, "customer_id")]
    [visit] = await db.visits.for_customer("CRM-001")
    assert (visit.visited_on, visit.contact_ids, visit.next_step) == ("2026-11-20", ["C-1", "C-2"], "12月初报价")
    again = await run(db, write(tmp_path, "v2.csv", history.splitlines()[0] + "\n" + history.splitlines()[1] + "\n"),
                      "visits")
    assert again.counts["unchanged"] == 1 and len(await db.visits.for_customer("CRM-001")) == 1
    assert await export(db, "visits", tmp_path / "out.xlsx", clock().tz) == 1  # what export writes, import reads
    assert (await run(db, tmp_path / "out.xlsx", "visits")).counts["unchanged"] == 1


async def test_a_visit_recorded_here_and_loaded_again_from_a_crm_stays_one(db: Database, tmp_path: Path) -> None:
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    customer = await db.customers.get("CRM-001")
    assert customer is not None
    await record_visit(db, customer, "ZJ-HZ", visited_on="2026-11-20", contact_ids=[], notes="走访信息中心",
                       next_step="", today=date(2026, 12, 4))
    history = "客户编号,拜访日期,客户经理编号,拜访纪要\nCRM-001,2026-11-20,ZJ-HZ,走访信息中心，确认扩容需求\n"
    assert (await run(db, write(tmp_path, "v.csv", history), "visits")).counts["updated"] == 1
    [visit] = await db.visits.for_customer("CRM-001")
    assert visit.notes == "走访信息中心，确认扩容需求"


async def test_a_dry_run_writes_nothing_and_reports_the_same(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    report = await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers", dry_run=True)
    assert report.counts["created"] == 2 and "dry run: nothing written" in report.summary()
    assert await db.customers.count() == 0


BAD_CONTACTS = CONTACTS + """CRM-001,C-4,坏号码,职员,12345,,,,,gold,,
CRM-001,C-5,不存在的日子,职员,13700000005,,2026-02-30,,,gold,,
CRM-001,C-6,闰月错误,职员,13700000006,,2026-04-30,lunar-leap,,gold,,
CRM-001,C-7,未知等级,职员,13700000007,,,,,platinum,,
CRM-404,C-8,无此客户,职员,13700000008,,,,,gold,,
CRM-001,C-1,重复,职员,13700000009,,,,,gold,,
CRM-001,C-10,缺姓名,职员,13700000010,,,,,,,
"""


async def test_bad_rows_fail_alone_with_row_column_and_reason(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    report = await run(db, write(tmp_path, "contacts.csv", BAD_CONTACTS), "contacts")
    assert report.exit_code == 1 and report.counts["created"] == 3 and report.counts["failed"] == 7
    failures = [(e.row, e.column) async for e in db.import_errors.for_job(report.job_id)]
    assert failures == [(5, "mobile"), (6, "birthday"), (7, "birthday"), (8, "tier"), (9, "customer_id"),
                        (10, "contact_id"), (11, "tier")]
    reasons = {e.row: e.reason async for e in db.import_errors.for_job(report.job_id)}
    assert "impossible date" in reasons[6] and "earlier in this file" in reasons[10] and "CRM-404" in reasons[9]
    customer = await db.customers.get("CRM-001")
    assert customer is not None and sorted(c.contact_id for c in customer.contacts) == ["C-1", "C-2"]
    # The error file round-trips: fixed, the failed rows import on their own.
    errors = tmp_path / "errors.csv"
    assert await write_errors(db, report.job_id, errors) == 7
    fixed = errors.read_text(encoding="utf-8-sig").replace(",12345,", ",13700000004,").replace("platinum", "gold")
    fixed = fixed.replace("2026-02-30", "2024-02-29").replace("2026-04-30,lunar-leap", "2020-04-15,lunar-leap")
    fixed = fixed.replace("CRM-404", "CRM-002").replace(",C-1,重复", ",C-11,重复").replace("缺姓名,职员,13700000010,,,,,,", "缺姓名,职员,13700000010,,,,,gold,")
    again = await run(db, write(tmp_path, "fixed.csv", fixed), "contacts")
    assert again.counts["failed"] == 0 and again.counts["created"] == 7, again.summary()


async def test_a_row_with_several_mistakes_names_each(db: Database, tmp_path: Path) -> None:
    """The first failing column is the row's; the reason says what is wrong with the others too, cells first (so a
    file is not fixed one mistake per row at a time), then the record's checks."""
    await db.ensure_schema()
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    rows = CONTACTS.splitlines()[0] + """
CRM-001,C-4,两处错,职员,12345,,2026-02-30,,,gold,,
CRM-001,C-5,三处错,职员,13700000005,,,,fr,platinum,maybe,
"""
    report = await run(db, write(tmp_path, "contacts.csv", rows), "contacts")
    reasons = {e.row: (e.column, e.reason) async for e in db.import_errors.for_job(report.job_id)}
    assert reasons[2][0] == "mobile" and "; also birthday: impossible date" in reasons[2][1]
    assert reasons[3][0] == "language" and "; also tier: unknown tier 'platinum'" in reasons[3][1]
    assert "; also billing_contact: expected yes/no" in reasons[3][1]


async def test_strict_writes_nothing_when_a_row_fails(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")
    await run(db, write(tmp_path, "c.csv", CUSTOMERS), "customers")
    report = await run(db, write(tmp_path, "contacts.csv", BAD_CONTACTS), "contacts", strict=True)
    assert report.exit_code == 1 and not report.written and "nothing written" in report.summary()
    customer = await db.customers.get("CRM-001")
    assert customer is not None and customer.contacts == []


async def test_an_unusable_file_names_its_missing_columns_and_exits_2(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    report = await run(db, write(tmp_path, "contacts.csv", "customer_id,contact_id,name\nCRM-1,C-1,王伟\n"), "contacts")
    assert report.exit_code == 2 and "missing columns: role, mobile, tier" in (report.error or "")
    job = await db.import_jobs.get(report.job_id)
    assert job is not None and job.status == ImportStatus.failed
    assert (await run(db, write(tmp_path, "x.docx", "?"), "contacts")).exit_code == 2


async def test_opt_outs_are_sticky_and_audited(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await load_base(db, tmp_path)
    await db.customers.set_sms_opt_out("C-1", True, source="assistant")
    report = await run(db, write(tmp_path, "contacts.csv", CONTACTS.replace("钻石卡,是,否", "钻石卡,是,no")), "contacts")
    assert report.counts["opt_out_kept"] == 1 and report.counts["unchanged"] == 3
    wang = (await db.customers.get("CRM-001")).contact("C-1")  # type: ignore[union-attr]
    assert wang is not None and wang.sms_opt_out and wang.opt_out_source == "assistant"
    # An import may opt a contact out; it is recorded as a change of that contact.
    out = await run(db, write(tmp_path, "c2.csv", CONTACTS.replace("gold,no,no", "gold,no,yes")), "contacts")
    assert out.counts["updated"] == 1
    [entry] = [e for e in await db.audit.for_job(out.job_id) if e.entity == "contact"]
    assert entry.entity_id == "C-2" and entry.changes["sms_opt_out"] == [False, True] and entry.source == "cli"


async def test_a_disowned_number_stays_so_until_the_contact_is_given_another(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await load_base(db, tmp_path)
    await db.customers.disown_number("C-1", source="assistant", actor="contact:C-1", at=NOW)
    same = await run(db, write(tmp_path, "same.csv", CONTACTS.replace("138 0013 8000", "+86 138-0013-8000")), "contacts")
    assert same.exit_code == 0 and same.counts["unchanged"] == 3  # the CRM's stale number, however written
    assert not (await db.customers.get("CRM-001")).contact("C-1").reachable  # type: ignore[union-attr]
    mended = await run(db, write(tmp_path, "new.csv", CONTACTS.replace("138 0013 8000", "138 0013 8001")), "contacts")
    assert mended.counts["updated"] == 1
    wang = (await db.customers.get("CRM-001")).contact("C-1")  # type: ignore[union-attr]
    assert wang is not None and wang.reachable and wang.sms_opt_out  # the opt-out stays: consent is sticky
    assert (await db.customers.find_by_mobile("13800138001"))[1].contact_id == "C-1"  # type: ignore[index]


async def test_circuit_status_from_network_management_updates_existing_circuits_only(
        db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await load_base(db, tmp_path)
    circuits = ("customer_id,circuit_id,type,bandwidth,status,sla_class,a_end,z_end\n"
                "CRM-001,ZJ-2M-1,2M数字电路,2M,正常,金牌保障,杭州华信大厦,杭州数据中心\n")
    assert (await run(db, write(tmp_path, "circuits.csv", circuits), "circuits")).counts["created"] == 1
    status = "电路编号,客户编号,状态\nZJ-2M-1,CRM-001,中断\nZJ-NEW-9,CRM-001,正常\n"
    report = await run(db, write(tmp_path, "status.csv", status), "circuits")
    assert report.counts["updated"] == 1 and report.counts["failed"] == 1
    [error] = [e async for e in db.import_errors.for_job(report.job_id)]
    assert error.column == "type" and "a new one needs the columns type, bandwidth, sla_class" in error.reason
    circuit = (await db.customers.get("CRM-001")).circuit("ZJ-2M-1")  # type: ignore[union-attr]
    assert circuit is not None and circuit.status == "down" and circuit.a_end == "杭州华信大厦"


async def test_prune_removes_only_what_the_files_customers_no_longer_name(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await load_base(db, tmp_path)
    only_wang = "\n".join(CONTACTS.splitlines()[:2]) + "\n"
    kept = await run(db, write(tmp_path, "one.csv", only_wang), "contacts")
    assert kept.counts["pruned"] == 0
    assert len((await db.customers.get("CRM-001")).contacts) == 2  # type: ignore[union-attr]
    pruned = await run(db, write(tmp_path, "one.csv", only_wang), "contacts", prune=True)
    assert pruned.counts["pruned"] == 1
    assert [c.contact_id for c in (await db.customers.get("CRM-001")).contacts] == ["C-1"]  # type: ignore[union-attr]
    assert len((await db.customers.get("CRM-002")).contacts) == 1  # type: ignore[union-attr]  # not in the file
    [removed] = [e for e in await db.audit.for_customer("CRM-001") if e.action == "removed"]
    assert removed.entity_id == "C-2" and removed.job_id == pruned.job_id


async def test_export_then_import_changes_nothing_and_escapes_formulas(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await load_base(db, tmp_path)
    hostile = CONTACTS.replace("CIO", "=HYPERLINK(\"http://x\")")
    await run(db, write(tmp_path, "contacts.csv", hostile), "contacts")
    for kind in ("managers", "customers", "contacts"):
        for ending in ("csv", "xlsx", "jsonl"):
            out = tmp_path / f"{kind}.{ending}"
            assert await export(db, kind, out, clock().tz) > 0
            report = await run(db, out, kind)
            assert report.counts["unchanged"] == report.counts["rows"] and report.counts["failed"] == 0, \
                (kind, ending, report.summary())
    text = (tmp_path / "contacts.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'+8613800138000" in text
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "contacts.xlsx").worksheets[0]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)


async def test_one_import_of_a_kind_at_a_time(db: Database, tmp_path: Path) -> None:
    await db.ensure_schema()
    await db.import_jobs.start({"_id": "IMP-20261204-0099", "kind": "contacts", "source": ChangeSource.api,
                                "actor": "crm", "file_name": "x.csv", "owner": "elsewhere:1", "started_at": NOW,
                                "heartbeat_at": NOW}, stale_after=timedelta(minutes=5))
    with pytest.raises(ImportBusy):
        await run(db, write(tmp_path, "contacts.csv", CONTACTS), "contacts")
    assert (await run(db, write(tmp_path, "m.csv", MANAGERS), "managers")).exit_code == 0  # other kinds go on


@pytest.mark.parametrize("variant", ["csv", "zh.csv", "xlsx", "zh.xlsx"])
async def test_the_documented_templates_load_into_an_empty_database(db: Database, variant: str) -> None:
    from care_scheduler.dataio.catalog import KINDS

    await db.ensure_schema()
    for kind in KINDS:
        report = await run(db, TEMPLATES / f"{kind}.{variant}", kind)
        assert report.exit_code == 0 and report.counts["created"] >= 2, report.summary()
    doc = IMPORT_PAGE.read_text(encoding="utf-8")
    for kind in KINDS.values():  # the page documents every column under both its names
        for column in kind.columns:
            assert f"`{column.name}`" in doc and column.zh in doc, (kind.name, column.name)
