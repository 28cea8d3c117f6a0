"""`python -m care_scheduler` against the real mongod and the Twilio emulator, as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from carecore.passwords import verify_password
from carecore.repository import Database
from tests import factories
from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM

ROOT = Path(__file__).resolve().parent.parent


async def cli(args: list, env: dict, stdin: bytes = b"") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "care_scheduler", *args, cwd=ROOT, env=env,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 120)
    return proc.returncode, out.decode(), err.decode()


async def test_preview_run_and_report(db: Database, mongo_uri: str, emulator, auth_token: str, tmp_path) -> None:
    emu, url = emulator
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # 王伟: Feb 29 birthday, diamond
    env = {**os.environ, "MONGODB_URI": mongo_uri, "MONGODB_DB": db.name, "VAR_DIR": str(tmp_path),
           "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": auth_token, "TWILIO_FROM_NUMBER": TEST_FROM,
           "TWILIO_API_BASE_URL": url}
    code, out, err = await cli(["preview", "birthday", "--date", "2027-02-28"], env)
    assert code == 0, err
    assert "birthday:0000001-01:2027-02-28" in out and "+861******8000" in out and "13800138000" not in out
    assert "1 recipients, 1 to send, 2 segments, estimated cost 0.10" in out and emu.stats.create_requests == 0

    code, out, err = await cli(["run", "birthday", "--date", "2027-02-28", "--now", "2027-02-28T09:00"], env)
    assert code == 0, err
    assert json.loads(out)["outcomes"] == {"sent": 1} and emu.stats.create_requests == 1
    code, out, _ = await cli(["run", "birthday", "--date", "2027-02-28", "--now", "2027-02-28T10:00"], env)
    assert json.loads(out)["outcomes"] == {"already": 1} and emu.stats.create_requests == 1

    code, out, _ = await cli(["report"], env)
    assert code == 0 and json.loads(out)["birthday"] in ({"queued": 1}, {"sent": 1}, {"delivered": 1})
    chart = tmp_path / "sends.png"
    code, out, err = await cli(["report", "--since", "2026-01-01", "--plot", str(chart)], env)
    assert code == 0, err
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"chart: {chart}" in err

    code, _, err = await cli(["run", "birthday", "--date", "2027-02-29"], env)
    assert code == 2 and "'2027-02-29' is not a day of the calendar" in err
    code, _, err = await cli(["run", "birthday", "--date", "29/02/2028"], env)
    assert code == 2 and "not a date (YYYY-MM-DD)" in err
    code, _, err = await cli(["run", "fireworks"], env)
    assert code == 2 and "invalid choice" in err


async def test_set_password(db: Database, mongo_uri: str, tmp_path) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    env = {**os.environ, "MONGODB_URI": mongo_uri, "MONGODB_DB": db.name, "VAR_DIR": str(tmp_path)}
    code, out, err = await cli(["set-password", "AM-CZJ01"], env, b"a long enough secret\n")
    assert code == 0 and "password set for AM-CZJ01" in out
    stored = (await db.managers.get("AM-CZJ01")).password_hash
    assert verify_password("a long enough secret", stored) and "secret" not in stored
    code, _, err = await cli(["set-password", "AM-CZJ01"], env, b"short\n")
    assert code == 2 and "at least 10 characters" in err
    assert (await db.managers.get("AM-CZJ01")).password_hash == stored
    code, _, err = await cli(["set-password", "AM-NOBODY"], env, b"a long enough secret\n")
    assert code == 2 and "no account manager" in err


async def test_migrate_drops_the_retired_selection_collections(db: Database, mongo_uri: str, tmp_path) -> None:
    await db.raw_insert("customer_birthdays", {"_id": "x", "key": "solar-2-29", "customer_id": "KA0000001"})
    await db.raw_insert("bill_day_members", {"_id": "12/0", "day": 12, "ids": ["KA0000001"]})
    env = {**os.environ, "MONGODB_URI": mongo_uri, "MONGODB_DB": db.name, "VAR_DIR": str(tmp_path)}
    code, out, err = await cli(["migrate"], env)
    assert code == 0, err
    assert "up to date" in out
    names = set(await db.collection_names())
    assert "customers" in names and not names & {"customer_birthdays", "bill_day_members"}
    assert {"birthday", "bill_day"} <= set(await db.indexes("customers"))


async def test_import_and_export_exit_codes_and_the_error_file(db: Database, mongo_uri: str, tmp_path) -> None:
    env = {**os.environ, "MONGODB_URI": mongo_uri, "MONGODB_DB": db.name, "VAR_DIR": str(tmp_path)}
    managers = tmp_path / "managers.csv"
    managers.write_text("经理编号,姓名,手机号码,邮箱,省份,城市,级别,上级编号\n"
                        "HQ,钱建国,13900000001,hq@kam.example.cn,集团公司,,集团,\n"
                        "HQ-2,坏号码,12345,x@kam.example.cn,集团公司,,集团,\n", encoding="utf-8")
    errors = tmp_path / "failed.csv"
    code, out, err = await cli(["import", "managers", str(managers), "--errors", str(errors)], env)
    assert code == 1, err
    assert "2 rows, 1 created, 0 updated, 0 unchanged, 1 failed" in out
    lines = errors.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "经理编号,姓名,手机号码,邮箱,省份,城市,级别,上级编号,error_row,error_column,error_reason"
    assert lines[1].startswith("HQ-2,坏号码,12345,") and ",3,mobile," in lines[1]
    code, out, _ = await cli(["import", "managers", str(managers), "--dry-run"], env)
    assert code == 1 and "1 unchanged" in out and "dry run" in out
    code, out, err = await cli(["import", "contacts", str(managers)], env)
    assert code == 2 and "missing columns: customer_id, contact_id" in out
    code, out, err = await cli(["export", "managers"], env)
    assert code == 0 and out.splitlines() == [
        "manager_id,name,mobile,email,province,city,level,supervisor_id",
        "HQ,钱建国,'+8613900000001,hq@kam.example.cn,集团公司,,group,"]
