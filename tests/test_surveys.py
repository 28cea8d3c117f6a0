"""Satisfaction surveys: the campaign, the signed-link page, opt-out links and follow-ups, on a fixed clock
against the real mongod and the Twilio emulator."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, AsyncIterator, List, Tuple
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from care_scheduler.runner import CampaignRunner
from care_scheduler.service import create_app
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.links import LinkRefused, LinkSigner
from carecore.model import SurveyChannel, TicketEvent
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from carecore.surveys import AlreadyAnswered, Answer, feeling_of, record_answer, score_of
from localrun.twilio_emulator import TwilioEmulator
from tests import factories
from tests.conftest import start_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLIC = "https://care.example.cn"
SETTINGS = Settings(link_secret="s" * 32, public_base_url=PUBLIC)
TICKET = "FT-20261123-0001"
CITY, PROVINCE = "+8613920000001", "+8613910000001"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def run(db: Database, gateway: SmsGateway, kind: str, at: datetime) -> Any:
    return CampaignRunner(db, gateway, SETTINGS, FixedClock(at)).run(kind)


def to(emu: TwilioEmulator, number: str) -> List[str]:
    return [m["body"] for m in emu.messages.values() if m["to"] == number]


async def resolved_ticket(db: Database, at: datetime, **customer: Any) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer(**customer))
    await db.tickets.create(factories.ticket())
    await db.tickets.resolve(TICKET, TicketEvent(at=at, actor="AM-CZJ01", action="resolve"))


def test_scores_in_both_languages() -> None:
    for text, score in [("5", 5), (" 1 ", 1), ("５", 5), ("打4分", 4), ("五分", 5), ("3星", 3), ("5 stars", 5),
                        ("非常满意", 5), ("满意", 4), ("满意！", 4), ("一般", 3), ("不满意", 2), ("很不满意", 1),
                        ("Very satisfied", 5), ("satisfied", 4), ("so-so", 3), ("bad", 2), ("terrible!", 1),
                        ("I am satisfied", 4), ("not good", 2), ("4/5", 4), ("8 / 10", 4), ("10 out of 10", 5),
                        ("I'd rate it 3", 3), ("i give you a 5", 5), ("给5分", 5), ("the service was excellent", 5),
                        ("two stars", 2), ("4/5 stars", 4), ("服务一般", 3), ("superb, thanks!", 5),
                        ("I’d give it a 2", 2)]:
        assert score_of(text) == score, text
    for text in ["0", "6", "123456", "12", "", "我要投诉", "hello", "不满意，我要投诉你们", "0/5", "6/5", "11/10", "a", "服务",
                 "service", "six stars", "the service was down"]:
        assert score_of(text) is None, text


def test_a_feeling_is_a_score_said_in_words() -> None:
    for text, feeling in [("很不满意", 1), ("Great job!", 5), ("服务一般", 3), ("五星好评", 5), ("not good", 2)]:
        assert feeling_of(text) == feeling, text
    for text in ["1", "五分", "4/5", "I'd rate it 3", "two stars", "我要投诉"]:
        assert feeling_of(text) is None, text


def test_links_are_bound_to_purpose_subject_and_time() -> None:
    now = local(2026, 11, 23, 10, 0)
    signer = LinkSigner(b"k" * 32, PUBLIC)
    url = signer.url("survey", TICKET, now)
    assert url.startswith(f"{PUBLIC}/s/{TICKET}.") and len(url) < len(PUBLIC) + 50
    token = url.rsplit("/", 1)[1]
    assert signer.subject("survey", token, now + timedelta(days=6, hours=23)) == TICKET
    with pytest.raises(LinkRefused) as expired:
        signer.subject("survey", token, now + timedelta(days=7))
    assert expired.value.expired
    forged = [token.replace(TICKET, "FT-20261123-0002"), token[:-1] + ("A" if token[-1] != "A" else "B"), "x", ""]
    for bad in forged:
        with pytest.raises(LinkRefused) as refused:
            signer.subject("survey", bad, now)
        assert not refused.value.expired
    with pytest.raises(LinkRefused):  # a survey link does not opt anyone out
        signer.subject("opt_out", token, now)
    with pytest.raises(LinkRefused):
        LinkSigner(b"other" * 8, PUBLIC).subject("survey", token, now)


async def test_survey_goes_once_after_the_delay_inside_the_send_window(db: Database, gateway: SmsGateway,
                                                                      emulator) -> None:
    emu, _ = emulator
    await resolved_ticket(db, local(2026, 11, 23, 19, 30))  # due at 21:30, when the window has closed
    assert (await run(db, gateway, "survey", local(2026, 11, 23, 20, 55))).planned == 0  # before the delay
    late = await run(db, gateway, "survey", local(2026, 11, 23, 21, 35))
    assert late.planned == 0 and late.deferred_until == local(2026, 11, 24, 8, 0)
    morning = await run(db, gateway, "survey", local(2026, 11, 24, 8, 0))
    assert morning.outcomes == {"sent": 1}
    [sms] = to(emu, "+8613800138000")
    assert sms.startswith("【中国电信】王伟您好，您的故障单FT-20261123-0001已处理完毕")
    assert f"{PUBLIC}/s/{TICKET}." in sms and "回复" not in sms  # a +86 number cannot reply to Twilio
    ticket = await db.tickets.get(TICKET)
    assert ticket.survey.contact_id == "0000001-01" and ticket.survey.outcome in ("sent", "queued", "delivered")
    assert ticket.survey.sent_at == local(2026, 11, 24, 8, 0)
    assert (await run(db, gateway, "survey", local(2026, 11, 24, 8, 10))).planned == 0
    assert len(to(emu, "+8613800138000")) == 1
    # a week after resolution nothing is surveyed any more
    await db.tickets.create(factories.ticket(_id="FT-20261123-0002"))
    await db.tickets.resolve("FT-20261123-0002", TicketEvent(at=local(2026, 11, 16, 8, 0), actor="x", action="resolve"))
    assert (await run(db, gateway, "survey", local(2026, 11, 24, 8, 20))).planned == 0


async def test_an_opted_out_contact_is_not_surveyed_and_that_is_recorded(db: Database, gateway: SmsGateway,
                                                                          emulator) -> None:
    emu, _ = emulator
    await resolved_ticket(db, local(2026, 11, 23, 9, 0))
    await db.customers.set_sms_opt_out("0000001-01", True, source="assistant")
    report = await run(db, gateway, "survey", local(2026, 11, 23, 11, 5))
    assert report.suppressed == {"opted_out": 1} and not emu.messages
    ticket = await db.tickets.get(TICKET)
    assert ticket.survey.outcome == "opted_out" and ticket.survey.score is None
    assert (await run(db, gateway, "survey", local(2026, 11, 23, 11, 15))).planned == 0


async def test_when_the_raisers_number_was_disowned_another_contact_hears(db: Database, gateway: SmsGateway,
                                                                              emulator) -> None:
    emu, _ = emulator
    await resolved_ticket(db, local(2026, 11, 23, 9, 0))
    await db.customers.disown_number("0000001-01", source="assistant", actor="contact:0000001-01",
                                     at=local(2026, 11, 23, 10, 0))
    assert (await run(db, gateway, "survey", local(2026, 11, 23, 11, 5))).outcomes == {"sent": 1}
    assert to(emu, "+8613800138000") == [] and len(to(emu, "+8613900139000")) == 1
    assert (await db.tickets.get(TICKET)).survey.contact_id == "0000001-02"


async def test_a_reply_is_offered_where_replies_come_back(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    contacts = [{"contact_id": "0000001-01", "name": "Anna Lee", "role": "CTO", "mobile": "+85291234567",
                 "language": "en", "tier": "gold", "billing_contact": True}]
    await resolved_ticket(db, local(2026, 11, 23, 9, 0), contacts=contacts)
    await run(db, gateway, "survey", local(2026, 11, 23, 11, 5))
    [sms] = to(emu, "+85291234567")
    assert sms.startswith("Dear Anna Lee, your fault ticket") and "Reply with 1-5, or rate at https://" in sms


@pytest.fixture
async def care(db: Database, gateway: SmsGateway) -> AsyncIterator[Tuple[str, FixedClock]]:
    clock = FixedClock(local(2026, 11, 23, 11, 5))
    app = create_app(SETTINGS, db=db, gateway=gateway, clock=clock, start_scheduler=False)
    runner, url = await start_app(app)
    yield url, clock
    await runner.cleanup()


async def _surveyed(db: Database, gateway: SmsGateway, emu: TwilioEmulator) -> str:
    await resolved_ticket(db, local(2026, 11, 23, 9, 0))
    await run(db, gateway, "survey", local(2026, 11, 23, 11, 5))
    [sms] = to(emu, "+8613800138000")
    return re.search(r"https://\S+", sms).group(0).replace(PUBLIC, "")


async def test_answer_through_the_link_once(db: Database, gateway: SmsGateway, emulator, care) -> None:
    emu, _ = emulator
    url, clock = care
    path = await _surveyed(db, gateway, emu)
    async with aiohttp.ClientSession() as http:
        async with http.get(url + path) as resp:
            page = await resp.text()
            assert resp.status == 200 and "服务满意度评价" in page and "<script" not in page
            assert 'name="score" value="5"' in page and "故障单 FT-20261123-0001" in page
            assert "<title>中国电信 政企客户服务</title>" in page  # the operator's name (OPERATOR_NAME)
        async with http.get(url + path + "?lang=en") as resp:
            assert "How satisfied are you" in (page := await resp.text()) and "China Telecom Key Account Care" in page
        async with http.post(url + path, data={"comment": "快"}) as resp:  # no score: asked again, kept
            assert resp.status == 400 and "请选择1到5分" in (body := await resp.text()) and ">快</textarea>" in body
        async with http.post(url + path, data={"score": "5", "comment": "处理很快"}) as resp:
            assert resp.status == 200 and "感谢您的评价" in await resp.text()
        async with http.post(url + path, data={"score": "1"}) as resp:
            assert resp.status == 200 and "已评价" in await resp.text()
    ticket = await db.tickets.get(TICKET)
    assert (ticket.survey.score, ticket.survey.comment, ticket.survey.channel) == (5, "处理很快", "link")
    assert ticket.survey.answered_at == clock.now() and ticket.followup is None
    assert ticket.history[-1].action == "survey_answer"


async def test_an_expired_or_forged_link_is_refused(db: Database, gateway: SmsGateway, emulator, care) -> None:
    emu, _ = emulator
    url, clock = care
    path = await _surveyed(db, gateway, emu)
    async with aiohttp.ClientSession() as http:
        async with http.post(url + path.replace("0001.", "0002."), data={"score": "1"}) as resp:
            assert resp.status == 403 and "链接无效" in await resp.text()
        async with http.get(url + path.replace("/s/", "/u/")) as resp:  # not an opt-out link
            assert resp.status == 403
        expiry = datetime.combine(clock.today() + timedelta(days=8), time(0))  # 7 days after the day sent
        clock.set(expiry - timedelta(seconds=1))
        async with http.get(url + path) as resp:
            assert resp.status == 200
        clock.set(expiry)
        async with http.post(url + path, data={"score": "1"}) as resp:
            assert resp.status == 410 and "链接已过期" in await resp.text()
    assert (await db.tickets.get(TICKET)).survey.score is None


async def test_opt_out_link_records_the_contacts_own_choice(db: Database, gateway: SmsGateway, emulator,
                                                            care) -> None:
    emu, _ = emulator
    url, clock = care
    contacts = [{"contact_id": "0000001-01", "name": "王伟", "role": "主任", "mobile": "+8613800138000",
                 "birthday": {"calendar": "solar", "month": 11, "day": 23}, "language": "zh", "tier": "silver",
                 "billing_contact": True}]
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer(contacts=contacts))
    await run(db, gateway, "birthday", local(2026, 11, 23, 9, 0))
    [greeting] = to(emu, "+8613800138000")
    assert "点 https://care.example.cn/u/0000001-01." in greeting and greeting.endswith(" 退订")
    path = re.search(r"https://\S+", greeting).group(0).replace(PUBLIC, "")
    async with aiohttp.ClientSession() as http:
        async with http.get(url + path) as resp:  # opening the link changes nothing
            assert "确认退订" in await resp.text()
        assert not (await db.customers.find_by_contact("0000001-01"))[1].sms_opt_out
        async with http.post(url + path, data={}) as resp:
            assert resp.status == 200 and "已退订" in await resp.text()
    contact = (await db.customers.find_by_contact("0000001-01"))[1]
    assert contact.sms_opt_out and contact.opt_out_source == "link"
    [entry] = [e for e in await db.audit.for_customer("KA0000001") if e.action == "opted_out"]
    assert (entry.source, entry.actor) == ("link", "contact:0000001-01")


async def test_a_low_score_opens_a_follow_up_that_escalates_once(db: Database, gateway: SmsGateway,
                                                                 emulator) -> None:
    emu, _ = emulator
    await resolved_ticket(db, local(2026, 11, 23, 9, 0))
    await run(db, gateway, "survey", local(2026, 11, 23, 11, 5))
    ticket = await db.tickets.get(TICKET)
    answered = local(2026, 11, 23, 12, 0)
    followup = await record_answer(db, SETTINGS, ticket, Answer(2, SurveyChannel.sms), answered, actor="contact:x")
    assert followup.manager_id == "AM-CZJ01" and followup.due == answered + timedelta(hours=48)
    with pytest.raises(AlreadyAnswered):
        await record_answer(db, SETTINGS, ticket, Answer(5, SurveyChannel.link), answered, actor="contact:x")
    assert [t.id for t in await db.tickets.followups_open(["KA0000001"])] == [TICKET]

    await run(db, gateway, "sla_watch", local(2026, 11, 25, 11, 55))  # not overdue yet
    assert to(emu, PROVINCE) == []
    await run(db, gateway, "sla_watch", local(2026, 11, 25, 12, 5))
    await run(db, gateway, "sla_watch", local(2026, 11, 25, 12, 10))
    [alert] = to(emu, PROVINCE)
    assert "回访" in alert and TICKET in alert and "林海燕" in alert
    ticket = await db.tickets.get(TICKET)
    assert [e.action for e in ticket.history].count("followup_overdue") == 1

    done = TicketEvent(at=local(2026, 11, 25, 14, 0), actor="AM-CZJ01", action="followup", note="已致电，客户认可")
    assert await db.tickets.close_followup(TICKET, done)
    assert not await db.tickets.close_followup(TICKET, done)
    assert await db.tickets.followups_open(["KA0000001"]) == []


async def test_a_complaint_about_the_manager_is_followed_up_above_them(db: Database) -> None:
    await resolved_ticket(db, local(2026, 11, 23, 9, 0))
    complaint = await db.tickets.create(factories.ticket(_id="CP-20261123-0001", kind="complaint", circuit_id=None,
                                                         category="manager", manager_id="AM-CZJ01", text="换个客户经理",
                                                         survey={"sent_at": local(2026, 11, 23, 11, 5),
                                                                 "contact_id": "0000001-01", "outcome": "delivered"}))
    followup = await record_answer(db, SETTINGS, complaint, Answer(1, SurveyChannel.sms), local(2026, 11, 23, 12, 0),
                                   actor="contact:x")
    assert followup.manager_id == "AM-PZJ"


def test_every_survey_answer_the_assistant_learns_is_a_score() -> None:
    """The NLU examples of ``rate_service`` and the lexicon the action reads them with stay in step."""
    lines = Path("data/nlu/surveys.yml").read_text(encoding="utf-8").splitlines()
    examples = [line[6:] for line in lines if line.startswith("    - ")]
    assert len(examples) > 50 and [e for e in examples if score_of(e) is None] == []
