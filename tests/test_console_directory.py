"""The console's customer list: search in every form a manager would type, filters, pages, scope."""

from __future__ import annotations

from carecore.repository import Database
from tests import factories
from tests.console_client import Browser, seed


async def test_search_by_every_kind_of_key_within_the_scope(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    for query in ("华信", "王伟", "138 0013 8000", "+86-138-0013-8000", "zj-2m-0000001-1", "FT-20261123-0001",
                  "ka0000001"):
        status, page = await browser.get(f"/console/customers?q={query}")
        assert status == 200 and 'href="/console/customers/KA0000001"' in page and "共找到 1" in page, query
    # Another manager's customer is not found by any of its keys.
    for query in ("东方证券", "13600136000", "SH-155M-0000002-1", "FT-20261123-0002", "KA0000002"):
        status, page = await browser.get(f"/console/customers?q={query}")
        assert status == 200 and "/console/customers/KA0000002" not in page and "共找到 0" in page, query


async def test_filters_pages_and_customers_without_contacts(db: Database, browser: Browser) -> None:
    await seed(db)
    for n in range(30):
        await db.customers.insert({**factories.customer(), "_id": f"CRM-{n:03d}", "company_name": f"杭州测试{n:02d}公司",
                                   "customer_class": "group", "contacts": [], "services": []})
    await browser.login("AM-PZJ")  # the province: its city manager's customers
    status, page = await browser.get("/console/customers?class=group")
    assert status == 200 and "共找到 30" in page and "1 / 2" in page and page.count("无联系人") == 25
    status, page = await browser.get("/console/customers?class=group&page=2")
    assert "CRM-029" in page and "CRM-000" not in page and "2 / 2" in page
    status, page = await browser.get("/console/customers?tier=diamond&city=杭州")
    assert "KA0000001" in page and "共找到 1" in page
    status, page = await browser.get("/console/customers?class=unknown&page=x")
    assert status == 200 and "共找到 31" in page  # an unknown filter value is no filter
