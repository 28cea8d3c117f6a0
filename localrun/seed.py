"""Demo data: realistic key accounts across provinces, written as import files and loaded through the
importer (``make seed``), so the embedded default exercises the path an operator's data takes.

Every record is derived from its index with a seeded RNG, so a rerun creates nothing new and a larger
``--customers`` adds only the missing tail; ``--customers 200000`` makes a million contacts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import signal
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo

from lunardate import LunarDate
from tqdm import tqdm

from care_scheduler.dataio.catalog import KINDS
from care_scheduler.dataio.tables import TableWriter
from carecore.clock import DEFAULT_TZ, SystemClock
from carecore.logging_setup import setup_logging
from carecore.model import month_key, visit_id
from carecore.months import after_bill_day

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Province:
    code: str  # two letters, used in ids
    name: str
    cities: Tuple[str, ...]


PROVINCES: Tuple[Province, ...] = (
    Province("BJ", "北京市", ("北京",)),
    Province("SH", "上海市", ("上海",)),
    Province("GD", "广东省", ("广州", "深圳", "东莞")),
    Province("ZJ", "浙江省", ("杭州", "宁波", "温州")),
    Province("JS", "江苏省", ("南京", "苏州", "无锡")),
    Province("SC", "四川省", ("成都", "绵阳")),
    Province("HB", "湖北省", ("武汉", "宜昌")),
    Province("SD", "山东省", ("济南", "青岛")),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕慧玲晓东文博思远子涵雨欣浩然嘉怡俊杰梓萱宇轩"
EN_GIVEN = ("David", "Michael", "Jennifer", "Grace", "Kevin", "Linda", "Peter", "Sophie", "Daniel", "Emily")
EN_SURNAMES = ("Wang", "Li", "Zhang", "Chen", "Liu", "Lin", "Huang", "Zhou")

ROLES_ZH = ("总经理", "信息中心主任", "网络管理员", "财务经理", "行政主管", "IT运维工程师", "采购经理", "办公室主任")
ROLES_EN = ("CIO", "IT Manager", "Network Engineer", "Finance Manager", "Office Manager")

INDUSTRIES = (
    ("{city}市第{n}人民医院", "important"),
    ("{province}{city}税务局", "important"),
    ("{city}市公安局", "important"),
    ("{city}{w}物流有限公司", "high_value"),
    ("{city}{w}证券股份有限公司", "high_value"),
    ("{city}{w}银行{city}分行", "strategic"),
    ("{w}能源集团有限公司", "group"),
    ("{w}连锁酒店管理集团", "group"),
    ("{city}{w}制造有限公司", "high_value"),
    ("{city}市{w}中学", "strategic"),
)
WORDS = ("华信", "东方", "中科", "恒通", "新世纪", "长城", "瑞丰", "金桥", "海纳", "天成", "鼎盛", "联创", "远航", "博远")
MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "158", "159", "186", "187", "188", "133", "153", "180", "189", "199")

CIRCUIT_KINDS = (
    ("digital_2m", "2M", "2M"),
    ("digital_155m", "155M", "155M"),
    ("ddn", "DDN", "64K"),
    ("leased_line", "ZX", "100M"),
    ("internet_access", "DIA", "1G"),
)
CLASS_TIERS = {
    "important": ("diamond", "gold"),
    "strategic": ("diamond", "gold", "silver"),
    "group": ("diamond", "gold"),
    "high_value": ("gold", "silver", "vip"),
}


def manager_docs() -> List[Dict[str, Any]]:
    """Group HQ, one province manager per province, one city manager per city."""
    docs: List[Dict[str, Any]] = [
        {
            "_id": "AM-G001",
            "name": "钱建国",
            "mobile": "+8613900000001",
            "email": "qian.jianguo@kam.example.cn",
            "region": {"province": "集团公司"},
            "level": "group",
        }
    ]
    for p_index, province in enumerate(PROVINCES):
        rng = random.Random(f"pm-{province.code}")
        docs.append(
            {
                "_id": f"AM-P{province.code}",
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "mobile": f"+86139{10000000 + p_index * 1000 + 1:08d}",
                "email": f"pm.{province.code.lower()}@kam.example.cn",
                "region": {"province": province.name},
                "level": "province",
                "supervisor_id": "AM-G001",
            }
        )
        for c_index, city in enumerate(province.cities):
            rng = random.Random(f"cm-{province.code}-{c_index}")
            docs.append(
                {
                    "_id": f"AM-C{province.code}{c_index + 1:02d}",
                    "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    "mobile": f"+86139{20000000 + p_index * 1000 + c_index + 1:08d}",
                    "email": f"cm.{province.code.lower()}{c_index + 1}@kam.example.cn",
                    "region": {"province": province.name, "city": city},
                    "level": "city",
                    "supervisor_id": f"AM-P{province.code}",
                }
            )
    return docs


def _mobile(serial: int) -> str:
    prefix = MOBILE_PREFIXES[(serial // 100_000_000) % len(MOBILE_PREFIXES)]
    return f"+86{prefix}{serial % 100_000_000:08d}"


def _birthday(rng: random.Random, index: int, today: date) -> Dict[str, Any]:
    """Mostly random; the first customers carry the cases the care scheduler must handle."""
    special = index % 50
    if special == 1:  # born today (solar)
        return {"calendar": "solar", "month": today.month, "day": today.day, "year": rng.randint(1960, 1995)}
    if special == 2:  # born today (lunar)
        lunar = LunarDate.from_solar_date(today.year, today.month, today.day)
        return {"calendar": "lunar", "month": lunar.month, "day": lunar.day, "leap_month": bool(lunar.isLeapMonth)}
    if special == 3:  # Feb 29
        return {"calendar": "solar", "month": 2, "day": 29, "year": rng.choice((1972, 1980, 1988, 1992))}
    if special == 4:  # lunar 30th (greeted on the 29th in short months)
        return {"calendar": "lunar", "month": rng.randint(1, 12), "day": 30}
    if rng.random() < 0.15:
        return {"calendar": "lunar", "month": rng.randint(1, 12), "day": rng.randint(1, 29)}
    month = rng.randint(1, 12)
    day = rng.randint(1, (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1])
    return {"calendar": "solar", "month": month, "day": day, "year": rng.randint(1958, 2000)}


def customer_doc(index: int, today: date, managers: List[Dict[str, Any]]) -> Dict[str, Any]:
    rng = random.Random(f"customer-{index}")
    city_managers = [m for m in managers if m["level"] == "city"]
    manager = city_managers[index % len(city_managers)]
    province = next(p for p in PROVINCES if p.name == manager["region"]["province"])
    city = manager["region"]["city"]
    pattern, customer_class = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
    company = pattern.format(city=city, province=province.name, n=rng.choice("一二三四五六"), w=rng.choice(WORDS))
    english_customer = index % 20 == 7
    contacts = []
    for j in range(rng.randint(3, 7)):
        english = english_customer and j < 2
        tiers = CLASS_TIERS[customer_class]
        contacts.append(
            {
                "contact_id": f"{index:07d}-{j + 1:02d}",
                "name": (f"{rng.choice(EN_GIVEN)} {rng.choice(EN_SURNAMES)}" if english
                         else rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")),
                "role": rng.choice(ROLES_EN if english else ROLES_ZH),
                "mobile": _mobile(index * 10 + j),
                "birthday": _birthday(rng, index * 10 + j, today),
                "language": "en" if english else "zh",
                "tier": tiers[min(j, len(tiers) - 1)] if j < 2 else rng.choice(tiers),
                "billing_contact": j == 0,
                "sms_opt_out": rng.random() < 0.03,
            }
        )
    services = []
    for k in range(rng.randint(1, 3)):  # two on average: 400,000 circuits for 200,000 accounts
        kind, code, bandwidth = CIRCUIT_KINDS[rng.randrange(len(CIRCUIT_KINDS))]
        services.append(
            {
                "circuit_id": f"{province.code}-{code}-{index:07d}-{k + 1}",
                "type": kind,
                "bandwidth": bandwidth,
                "status": rng.choices(("active", "degraded", "down", "maintenance"), (90, 5, 3, 2))[0],
                "sla_class": rng.choice(("premium", "standard", "basic")),
                "a_end": f"{city}{rng.choice(WORDS)}大厦",
                "z_end": f"{rng.choice(PROVINCES).cities[0]}数据中心",
            }
        )
    if index % 10 == 2:  # a voice trunk (语音中继) carrying the landlines, drawing no random number
        services.append({"circuit_id": f"{province.code}-YY-{index:07d}-{len(services) + 1}", "type": "voice",
                         "bandwidth": "E1", "status": "active", "sla_class": "standard",
                         "a_end": services[0]["a_end"], "z_end": f"{city}电信局"})
    bill_day = 31 if index % 25 == 3 else rng.randint(1, 28)
    return {
        "_id": f"KA{index:07d}",
        "company_name": company,
        # "high_value" marks a big spender with no class of its own: the flag beside the class
        **({"customer_class": customer_class} if customer_class != "high_value" else {}),
        "high_value": customer_class == "high_value",
        "region": {"province": province.name, "city": city},
        "account_manager_id": manager["_id"],
        "contacts": contacts,
        "services": services,
        "billing": {
            "bill_day": bill_day,
            "delivery": rng.choice(("sms", "email", "paper")),
            "email": f"finance{index}@example.cn",
        },
    }


def usage_docs(customer_id: str, index: int, months: List[str]) -> Iterator[Dict[str, Any]]:
    """Billed months newest first, each with what was paid: older bills in full; of the one before the latest, one
    customer in fifteen owes all or half; of the latest, maybe not due yet, two in five still owe."""
    rng, pay = random.Random(f"usage-{index}"), random.Random(f"paid-{index}")
    scale = rng.choice((1, 2, 5, 10, 20))
    for age, month in enumerate(months):
        voice = int(rng.gauss(3000, 600) * scale)
        data_mb = int(rng.gauss(200_000, 40_000) * scale)
        amount = max(int(rng.gauss(1_200_000, 250_000) * scale), 0)
        owing = pay.random()
        paid = amount if age > 1 or owing >= (0.4 if age == 0 else 1 / 15) else (0 if owing < 0.045 else amount // 2)
        yield {
            "customer_id": customer_id,
            "month": month,
            "voice_minutes": max(voice, 0),
            "data_mb": max(data_mb, 0),
            "sms_count": max(int(rng.gauss(800, 200) * scale), 0),
            "amount_fen": amount,
            "paid_fen": paid,
        }


BILL_DELIVERY_DAYS = 7  # the default stated time (Settings.bill_delivery_days)


def bill_delivery_docs(customer: Dict[str, Any], index: int, months: List[str], today: date,
                       now: Optional[datetime] = None) -> Iterator[Dict[str, Any]]:
    """When each recent bill reached the customer: mostly on time, some late, a few never; nothing issued or
    delivered after ``now`` (the import refuses a time to come: today's 09:00 bills, seeded at 08:00)."""
    rng = random.Random(f"bill-{index}")
    tz = ZoneInfo(DEFAULT_TZ)
    cutoff = now or datetime.combine(today + timedelta(days=1), time(), tzinfo=tz)
    for month in months:
        issued_day = after_bill_day(month, customer["billing"]["bill_day"], 0)
        issued = datetime.combine(issued_day, time(9), tzinfo=tz)
        if issued_day > today or issued > cutoff:
            continue
        due_by = datetime.combine(issued_day + timedelta(days=BILL_DELIVERY_DAYS), time(23, 59, 59), tzinfo=tz)
        roll = rng.random()
        if roll < 0.90:
            delivered: Optional[datetime] = issued + timedelta(hours=rng.randint(1, 72))
        elif roll < 0.97:
            delivered = due_by + timedelta(days=rng.randint(1, 8))
        else:
            delivered = None
        if delivered is not None and (delivered.date() > today or delivered > cutoff):
            delivered = None  # not yet
        yield {"customer_id": customer["_id"], "month": month, "channel": customer["billing"]["delivery"],
               "issued_at": issued, "due_by": due_by, "delivered_at": delivered}


def previous_months(today: date, count: int) -> List[str]:
    """The ``count`` complete months before ``today``'s month, newest first."""
    months, year, month = [], today.year, today.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(month_key(date(year, month, 1)))
    return months


@dataclass
class SeedReport:
    managers: int
    customers: int
    contacts: int
    usage: int
    bill_deliveries: int = 0
    circuits: int = 0
    visits: int = 0


KIND_ORDER = ("managers", "customers", "contacts", "circuits", "usage", "bill-deliveries")


def write_files(folder: Path, customers: int, *, today: date, months: int = 12, progress: bool = False,
                now: Optional[datetime] = None) -> Dict[str, Path]:
    """The demo data as the operator's import files (CSV, one per kind), streamed: a million contacts fit."""
    tz = ZoneInfo(DEFAULT_TZ)
    managers = manager_docs()
    month_keys = previous_months(today, months + 1)
    paths = {kind: folder / f"{kind}.csv" for kind in KIND_ORDER}
    writers = {kind: TableWriter(paths[kind], "csv", [c.name for c in KINDS[kind].columns]) for kind in KIND_ORDER}
    try:
        for doc in managers:
            for row in KINDS["managers"].export_rows(doc, tz):
                writers["managers"].write_row(row)
        for index in tqdm(range(1, customers + 1), desc="demo files", unit="cust", disable=not progress):
            doc = customer_doc(index, today, managers)
            for kind in ("customers", "contacts", "circuits"):
                for row in KINDS[kind].export_rows(doc, tz):
                    writers[kind].write_row(row)
            billed = [m for m in month_keys if after_bill_day(m, doc["billing"]["bill_day"], 0) <= today]
            for usage in usage_docs(doc["_id"], index, billed[:months]):  # as billing sends them: on the bill day
                writers["usage"].write_row(next(KINDS["usage"].export_rows(usage, tz)))
            for bill in bill_delivery_docs(doc, index, month_keys[:2], today, now):
                writers["bill-deliveries"].write_row(next(KINDS["bill-deliveries"].export_rows(bill, tz)))
    finally:
        for writer in writers.values():
            writer.close()
    return paths


VISIT_NOTES = ("季度走访，了解专线使用情况", "年度服务回顾，确认续约意向", "陪同技术经理排查网络质量问题",
               "介绍千兆专线升级方案", "节日走访慰问，听取服务意见")


async def seed_visits(db: Any, customers: int, today: date) -> int:
    """Up to three past visits per demo account by its manager, within the last 150 days, so that some
    accounts are due for one; an account with any visit on record is left as it is."""
    managers, visited, created = manager_docs(), await db.visits.last_visits(), 0
    for index in range(1, customers + 1):
        doc = customer_doc(index, today, managers)
        if doc["_id"] in visited:
            continue
        rng = random.Random(f"visit-{index}")
        for days_ago in sorted(rng.sample(range(3, 150), rng.choice((0, 1, 1, 2, 3)))):
            day = today - timedelta(days=days_ago)
            met = [c["contact_id"] for c in doc["contacts"][:rng.randint(1, 2)]]
            await db.visits.create({"_id": visit_id(doc["_id"], doc["account_manager_id"], day.isoformat()),
                                    "customer_id": doc["_id"],
                                    "manager_id": doc["account_manager_id"], "visited_on": day.isoformat(),
                                    "contact_ids": met, "notes": rng.choice(VISIT_NOTES),
                                    "created_at": datetime.combine(day, time(10), tzinfo=ZoneInfo(DEFAULT_TZ))})
            created += 1
    return created


async def seed(db: Any, customers: int, *, today: Optional[date] = None, months: int = 12,
               progress: bool = False) -> SeedReport:
    """Load what is missing of the demo data set through the importer, the operator's own way in.

    Returns what was created; a rerun creates nothing, and a larger ``customers`` only the new tail.
    """
    from care_scheduler.dataio.importer import Importer, ImportOptions
    from carecore.config import get_settings
    from carecore.model import ChangeSource

    settings = get_settings()
    clock = SystemClock(settings.timezone)  # the importer's: the files hold nothing later than it
    today = today or clock.today()
    created: Dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="keycare-demo-") as folder:
        paths = write_files(Path(folder), customers, today=today, months=months, progress=progress, now=clock.now())
        importer = Importer(db, settings, clock)
        for kind in KIND_ORDER:
            with tqdm(desc=f"import {kind}", unit="row", disable=not progress) as bar:
                importer.on_progress = bar.update
                report = await importer.run(paths[kind], ImportOptions(kind, source=ChangeSource.cli,
                                                                       actor="demo-seed"))
            if report.exit_code != 0:
                raise RuntimeError(f"demo data did not import: {report.summary()}")
            created[kind] = report.counts["created"]
    return SeedReport(created["managers"], created["customers"], created["contacts"], created["usage"],
                      created["bill-deliveries"], created["circuits"], await seed_visits(db, customers, today))


async def _main(args: argparse.Namespace) -> None:
    from carecore.runtime import open_database

    async with open_database(migrate=True) as db:
        report = await seed(db, args.customers, months=args.months, progress=True)
    print(f"seeded: {report.managers} managers, {report.customers} customers, {report.contacts} contacts, "
          f"{report.circuits} circuits, {report.usage} usage months, {report.bill_deliveries} bill deliveries, "
          f"{report.visits} visits "
          "(existing records kept)")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Seed demo key-account data (idempotent)")
    parser.add_argument("--customers", type=int, default=200, help="number of key accounts (about 5 contacts each)")
    parser.add_argument("--months", type=int, default=12, help="months of usage history")
    args = parser.parse_args(argv)
    if args.customers < 0 or args.months < 0:
        parser.error("--customers and --months must be >= 0")
    setup_logging()
    # SIGTERM unwinds like Ctrl-C, so an embedded mongod started here is shut down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    asyncio.run(_main(args))


if __name__ == "__main__":  # pragma: no cover
    main()
