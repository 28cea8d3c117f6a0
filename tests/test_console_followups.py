"""Follow-ups (回访) in the console: the inbox lists them, the ticket page shows the survey, a note closes them."""

from __future__ import annotations

from datetime import timedelta

from carecore.config import Settings
from carecore.model import Survey, SurveyChannel, TicketEvent
from carecore.repository import Database
from carecore.surveys import Answer, record_answer
from tests.console_client import NOW, Browser, seed


async def test_a_low_score_is_followed_up_from_the_inbox(db: Database, browser: Browser) -> None:
    await seed(db)
    ticket_id = "FT-20261123-0001"
    await db.tickets.resolve(ticket_id, TicketEvent(at=NOW - timedelta(hours=4), actor="AM-CZJ01", action="resolve"))
    await db.tickets.record_survey(ticket_id, Survey(contact_id="0000001-01", sent_at=NOW - timedelta(hours=2),
                                                     outcome="delivered"))
    ticket = await db.tickets.get(ticket_id)
    await record_answer(db, Settings(), ticket, Answer(1, SurveyChannel.link, "修了三次才好"), NOW - timedelta(hours=1),
                        actor="contact:0000001-01")

    await browser.login("AM-CZJ01")
    _, inbox = await browser.get("/console/")
    assert "回访" in inbox and ticket_id in inbox and "修了三次才好" in inbox
    _, page = await browser.get(f"/console/tickets/{ticket_id}")
    assert "评分 1/5" in page and "评价链接" in page and "记录回访结果" in page
    await browser.post(f"/console/tickets/{ticket_id}/followup", {"note": " "})  # an empty note closes nothing
    assert (await db.tickets.get(ticket_id)).followup.done_at is None
    status, page = await browser.post(f"/console/tickets/{ticket_id}/followup", {"note": "已致电道歉，客户接受"})
    assert status == 200 and "已回访" in page and "记录回访结果" not in page
    done = (await db.tickets.get(ticket_id)).followup
    assert (done.done_by, done.note, done.done_at) == ("AM-CZJ01", "已致电道歉，客户接受", NOW)
    _, inbox = await browser.get("/console/")
    assert "修了三次才好" not in inbox

    await browser.close()
    other = Browser(browser.base)  # another city's manager cannot close it
    await other.login("AM-CSH01")
    status, _ = await other.post(f"/console/tickets/{ticket_id}/followup", {"note": "x"})
    assert status == 404
    await other.close()
