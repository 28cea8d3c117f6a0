"""Managers edit, add and remove contacts in the console: the import's checks and messages, consent with a
reason, the audit trail on customer 360, scope and CSRF on every action."""

from __future__ import annotations

from datetime import datetime, timezone

from carecore.repository import Database
from carecore.sms.message import Sms
from tests.console_client import Browser, seed

EDIT = "/console/customers/KA0000001/contacts/0000001-02"
FORM = {"name": "David Chen", "role": "CTO", "mobile": "+86 139 0013 9000", "email": "", "birthday": "08-15",
        "birthday_calendar": "lunar", "language": "en", "tier": "gold", "sms_opt_out": "no", "consent_reason": ""}


async def contact(db: Database, contact_id: str):  # type: ignore[no-untyped-def]
    found = await db.customers.find_by_contact(contact_id)
    return found[1] if found else None


async def test_an_edit_is_checked_saved_and_shown_in_the_history(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    status, page = await browser.get(EDIT)
    assert status == 200 and 'value="David Chen"' in page
    status, page = await browser.post(EDIT, {**FORM, "mobile": "12345"})
    assert status == 400 and "手机号码: " in page and 'value="12345"' in page  # the form keeps what was typed
    assert (await contact(db, "0000001-02")).mobile == "+8613900139000"
    status, page = await browser.post(EDIT, {**FORM, "birthday": "2026-02-30", "birthday_calendar": "solar"})
    assert status == 400 and "impossible date" in page
    status, page = await browser.post(EDIT, {**FORM, "role": "CTO", "mobile": "137 0000 0099"})
    assert status == 200 and "已保存" in page and "role: CIO → CTO" in page and "console · AM-CZJ01" in page
    edited = await contact(db, "0000001-02")
    assert edited.role == "CTO" and edited.mobile == "+8613700000099"


async def test_consent_changes_need_a_reason_and_21610_only_the_contact_reverses(
        db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    status, page = await browser.post(EDIT, {**FORM, "sms_opt_out": "yes"})
    assert status == 400 and "a reason is needed to change SMS consent" in page
    status, page = await browser.post(EDIT, {**FORM, "sms_opt_out": "yes", "consent_reason": "客户来电要求退订"})
    assert status == 200 and (await contact(db, "0000001-02")).opt_out_source == "console"
    assert "客户来电要求退订" in page
    status, page = await browser.post(EDIT, {**FORM, "sms_opt_out": "no", "consent_reason": "客户书面同意恢复"})
    assert status == 200 and not (await contact(db, "0000001-02")).sms_opt_out
    await db.customers.set_sms_opt_out("0000001-02", True, source="twilio_21610", actor="twilio")
    status, page = await browser.post(EDIT, {**FORM, "sms_opt_out": "no", "consent_reason": "经理认为可以"})
    assert status == 400 and "only the contact can opt back in" in page
    assert (await contact(db, "0000001-02")).sms_opt_out


async def test_a_disowned_number_is_shown_until_the_manager_gives_another(db: Database, browser: Browser) -> None:
    await seed(db)
    await db.customers.disown_number("0000001-02", source="assistant", actor="contact:0000001-02",
                                     at=datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc))
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/customers/KA0000001")
    assert status == 200 and "号码已失效 2026-11-20 10:00" in page
    assert "number_disowned_at: — → 2026-11-20 10:00" in page  # the change, in the business timezone
    status, page = await browser.get(EDIT)
    assert "此号码的持有人表示号码已不属于该联系人" in page
    status, page = await browser.post(EDIT, {**FORM, "sms_opt_out": "yes", "mobile": "137 0000 0099"})
    assert status == 200 and "号码已失效" not in page and (await contact(db, "0000001-02")).reachable


async def test_add_and_remove_a_contact(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    new = "/console/customers/KA0000001/contacts/new"
    status, page = await browser.post(new, {**FORM, "contact_id": "0000002-01", "mobile": "13700000077"})
    assert status == 400 and "already used by another contact" in page  # another customer's contact id
    status, page = await browser.post(new, {**FORM, "contact_id": "C-NEW", "mobile": "13600136000"})
    assert status == 400 and "already belongs to another record" in page  # another customer's mobile
    status, page = await browser.post(new, {**FORM, "contact_id": "C-NEW", "name": "孙丽", "mobile": "13700000077"})
    assert status == 200 and "孙丽" in page and (await contact(db, "C-NEW")) is not None
    status, page = await browser.post("/console/customers/KA0000001/contacts/C-NEW/remove", {"reason": "已离职"})
    assert status == 200 and "已删除" in page and (await contact(db, "C-NEW")) is None
    [removed] = [e for e in await db.audit.for_customer("KA0000001") if e.action == "removed"]
    assert removed.entity_id == "C-NEW" and removed.note == "已离职" and removed.actor == "AM-CZJ01"


async def test_outside_the_scope_everything_is_404_and_every_post_needs_csrf(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    other = "/console/customers/KA0000002/contacts/"
    assert (await browser.get(other + "0000002-01"))[0] == 404
    assert (await browser.get(other + "new"))[0] == 404
    await browser.get(EDIT)
    for path in (other + "0000002-01", other + "new", other + "0000002-01/remove"):
        assert (await browser.post(path, {**FORM, "contact_id": "X-1", "reason": "x"}))[0] == 404, path
    assert (await browser.get("/console/customers/KA0000001/contacts/nobody"))[0] == 404
    assert (await browser.post(EDIT, FORM, csrf=False))[0] == 403


async def test_customer_360_hides_one_time_codes_and_speaks_the_pages_language(
        db: Database, browser: Browser, gateway) -> None:  # type: ignore[no-untyped-def]
    await seed(db)
    await gateway.send(Sms.of(key="otp:x:1", kind="otp", to="+8613800138000", body="【中国电信】您的验证码是482913，5分钟内有效。",
                              customer_id="KA0000001"))
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/customers/KA0000001")
    assert status == 200 and "482913" not in page and "您的验证码是******" in page
    assert '<td class="nowrap">138 0013 8000</td>' in page  # the SMS record's number as dialled
    await db.client[db.name]["sends"].update_one({"_id": "otp:x:1"}, {"$unset": {"body": ""}})  # past retention
    status, page = await browser.get("/console/customers/KA0000001")
    assert status == 200 and "短信内容未保留" in page
    assert "验证码" in page and ("排队中" in page or "已送达" in page or "已发送" in page)
