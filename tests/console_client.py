"""A console client for tests: a browser-like session, and the two provinces' demo data it logs into."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Dict, Optional, Tuple

import aiohttp

from carecore.passwords import hash_password
from carecore.repository import Database
from tests import factories

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=timezone.utc)  # 10:30 Shanghai


async def seed(db: Database) -> None:
    """Zhejiang: province AM-PZJ over city AM-CZJ01 (KA0000001). Shanghai: AM-CSH01 (KA0000002)."""
    managers = factories.MANAGERS + [
        {"_id": "AM-PSH", "name": "陈静", "mobile": "+8613910000002", "email": "psh@kam.example.cn",
         "region": {"province": "上海市"}, "level": "province", "supervisor_id": "AM-G001"},
        {"_id": "AM-CSH01", "name": "吴斌", "mobile": "+8613920000002", "email": "csh@kam.example.cn",
         "region": {"province": "上海市", "city": "上海"}, "level": "city", "supervisor_id": "AM-PSH"},
    ]
    for manager in managers:
        await db.managers.insert({**manager, "password_hash": hash_password(PASSWORD)})
    await db.customers.insert(factories.customer())
    other = factories.other_customer()
    other["account_manager_id"] = "AM-CSH01"
    await db.customers.insert(other)
    for customer_id, suffix, circuit in (("KA0000001", "0001", "ZJ-2M-0000001-1"),
                                         ("KA0000002", "0002", "SH-155M-0000002-1")):
        contact = "0000001-01" if customer_id == "KA0000001" else "0000002-01"
        await db.tickets.create(factories.ticket(_id=f"FT-20261123-{suffix}", customer_id=customer_id,
                                                 contact_id=contact, circuit_id=circuit))
        manager = "AM-CZJ01" if customer_id == "KA0000001" else "AM-CSH01"
        await db.escalations.create({
            "_id": f"ES-20261123-{suffix}", "customer_id": customer_id, "contact_id": contact, "manager_id": manager,
            "sender_id": f"sms:+86138{suffix}:abc", "channel": "twilio_sms", "reason": "request_human",
            "summary": "客户要求人工服务", "contact_by": NOW + timedelta(hours=2), "created_at": NOW,
            "updated_at": NOW})


class Browser:
    """A cookie-keeping client that submits forms the way a browser does (with the page's CSRF token)."""

    def __init__(self, base: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
        self.csrf = ""

    async def get(self, path: str) -> Tuple[int, str]:
        async with self.http.get(self.base + path, allow_redirects=True) as resp:
            text = await resp.text() if resp.content_type == "text/html" else ""
            found = re.search(r'name="csrf" value="([^"]+)"', text)
            if found:
                self.csrf = found.group(1)
            return resp.status, text

    async def post(self, path: str, data: Dict[str, str], *, csrf: bool = True) -> Tuple[int, str]:
        payload = {**data, **({"csrf": self.csrf} if csrf else {})}
        async with self.http.post(self.base + path, data=payload, allow_redirects=True) as resp:
            text = await resp.text()
            found = re.search(r'name="csrf" value="([^"]+)"', text)
            if found:
                self.csrf = found.group(1)
            return resp.status, text

    async def login(self, manager_id: str, password: str = PASSWORD) -> Tuple[int, str]:
        await self.get("/console/login")
        return await self.post("/console/login", {"manager_id": manager_id, "password": password})

    async def close(self) -> None:
        await self.http.close()
