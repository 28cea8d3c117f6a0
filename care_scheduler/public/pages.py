"""The pages a customer opens from an SMS: the one-question survey (``/s/<token>``) and opt-out (``/u/<token>``).

No login: the signed token is the credential (``carecore.links``), bound to one ticket or contact, and it
opens nothing else. Plain HTML forms, no JavaScript, in the contact's language with a switch to the
other. Changing anything takes a POST, so a link previewer fetching the URL answers or opts out nobody.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from care_scheduler.app_keys import CLOCK, DB, SETTINGS
from carecore.links import LinkRefused, Purpose, signer_for
from carecore.model import ChangeSource, SurveyChannel, Ticket
from carecore.surveys import LOW_SCORE, AlreadyAnswered, Answer, record_answer
from carecore.texts import label

log = logging.getLogger(__name__)

_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(["html"]), auto_reload=False)

TEXTS: Dict[str, Tuple[str, str]] = {
    "brand": ("{operator} 政企客户服务", "{operator} Key Account Care"),  # the operator's name (OPERATOR_NAME…)
    "switch": ("English", "中文"),
    "survey_title": ("服务满意度评价", "How did we do?"),
    "survey_intro": ("您的{kind}单 {ticket_id} 已处理完毕。", "Your {kind} ticket {ticket_id} has been resolved."),
    "survey_question": ("您对本次服务满意吗？", "How satisfied are you with how it was handled?"),
    "score_5": ("非常满意", "very satisfied"),
    "score_4": ("满意", "satisfied"),
    "score_3": ("一般", "neither"),
    "score_2": ("不满意", "dissatisfied"),
    "score_1": ("非常不满意", "very dissatisfied"),
    "comment": ("意见或建议（选填）", "Anything to add? (optional)"),
    "submit": ("提交", "Send"),
    "pick_score": ("请选择1到5分。", "Please choose a score from 1 to 5."),
    "thanks": ("感谢您的评价！", "Thank you for your answer!"),
    "thanks_score": ("您的评分：{score}分。", "Your score: {score} of 5."),
    "followup": ("我们很抱歉没能让您满意，您的客户经理将尽快与您联系。",
                 "We are sorry it fell short: your account manager will call you soon."),
    "answered": ("本次服务已评价，谢谢！", "This ticket has been rated already. Thank you!"),
    "not_open": ("该工单暂不能评价。", "This ticket cannot be rated yet."),
    "expired": ("链接已过期", "This link has expired"),
    "expired_line": ("评价链接有效期为7天。如有需要，请联系您的客户经理。",
                     "Links are valid for a limited time. Please contact your account manager if you need us."),
    "refused": ("链接无效", "This link is not valid"),
    "refused_line": ("请检查短信中的链接是否完整。", "Please check that the whole link from the SMS was opened."),
    "opt_out_title": ("退订关怀短信", "Stop care messages"),
    "opt_out_intro": ("{name}，确认后您将不再收到节日、生日问候、月度消费短信和满意度评价。",
                      "{name}, once you confirm you will no longer get greetings, the monthly usage SMS or surveys."),
    "opt_out_scope": ("故障、投诉处理进度、维护通知和补偿通知等服务通知仍会发送。",
                      "Service notices (faults, complaints, maintenance, compensation) still reach you."),
    "opt_out_confirm": ("确认退订", "Unsubscribe"),
    "opted_out": ("已退订", "You are unsubscribed"),
    "opted_out_line": ("如需恢复，请联系您的客户经理或向本号码发送“订阅”。",
                       "To subscribe again, ask your account manager or message us START."),
}


def _lang(request: web.Request, default: str, form: Optional[Dict[str, Any]] = None) -> str:
    chosen = (form or {}).get("lang") or request.query.get("lang")
    return chosen if chosen in ("zh", "en") else default


def _page(request: web.Request, lang: str, status: int = 200, **values: Any) -> web.Response:
    operator = request.app[SETTINGS].operator(lang)

    def t(key: str) -> str:
        return TEXTS[key][0 if lang == "zh" else 1].replace("{operator}", operator)

    other = "en" if lang == "zh" else "zh"
    switch = f"{request.path}?lang={other}" if values.get("page") in ("survey", "opt_out") else None
    html = _env.get_template("page.html").render(t=t, lang=lang, switch_url=switch, **values)
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _notice(request: web.Request, lang: str, heading: str, *lines: str, status: int = 200) -> web.Response:
    """A page of a heading and lines: text keys are translated, other lines shown as they are."""
    pick = 0 if lang == "zh" else 1
    return _page(request, lang, status, page="notice", heading=TEXTS[heading][pick],
                 lines=[TEXTS[line][pick] if line in TEXTS else line for line in lines])


def _subject(request: web.Request, purpose: Purpose) -> str:
    signer = signer_for(request.app[SETTINGS])
    return signer.subject(purpose, request.match_info["token"], request.app[CLOCK].now())


def _refused(request: web.Request, exc: LinkRefused) -> web.Response:
    lang = _lang(request, "zh")
    if exc.expired:
        return _notice(request, lang, "expired", "expired_line", status=410)
    log.info("refused a link: %s", exc)
    return _notice(request, lang, "refused", "refused_line", status=403)


async def _ticket_and_lang(request: web.Request) -> Tuple[Ticket, str]:
    """The link's ticket and its surveyed contact's language (zh if they are gone)."""
    db = request.app[DB]
    ticket = await db.tickets.get(_subject(request, "survey"))
    if ticket is None:
        raise LinkRefused("ticket no longer exists")
    customer = await db.customers.get(ticket.customer_id)
    contact = customer.contact(ticket.survey.contact_id) if customer and ticket.survey else None
    return ticket, contact.language if contact else "zh"


def _survey_form(request: web.Request, ticket: Ticket, lang: str, status: int = 200, **values: Any) -> web.Response:
    return _page(request, lang, status, page="survey", ticket_id=ticket.id, action=request.path,
                 kind_label=label("ticket_kind", str(ticket.kind), lang), **values)


async def survey_page(request: web.Request) -> web.Response:
    try:
        ticket, default = await _ticket_and_lang(request)
    except LinkRefused as exc:
        return _refused(request, exc)
    lang = _lang(request, default)
    if ticket.survey is None:
        return _notice(request, lang, "not_open", status=409)
    if ticket.survey.score is not None:
        return _notice(request, lang, "answered")
    return _survey_form(request, ticket, lang)


async def survey_answer(request: web.Request) -> web.Response:
    try:
        ticket, default = await _ticket_and_lang(request)
    except LinkRefused as exc:
        return _refused(request, exc)
    form = dict(await request.post())
    lang = _lang(request, default, form)
    if ticket.survey is None:
        return _notice(request, lang, "not_open", status=409)
    comment = str(form.get("comment") or "")[:500]
    score = str(form.get("score") or "")
    if score not in ("1", "2", "3", "4", "5"):
        return _survey_form(request, ticket, lang, 400, error=TEXTS["pick_score"][0 if lang == "zh" else 1],
                            comment=comment)
    try:
        await record_answer(request.app[DB], request.app[SETTINGS], ticket,
                            Answer(int(score), SurveyChannel.link, comment), request.app[CLOCK].now(),
                            actor=f"contact:{ticket.survey.contact_id}")
    except AlreadyAnswered:
        return _notice(request, lang, "answered")
    thanks = TEXTS["thanks_score"][0 if lang == "zh" else 1].format(score=score)
    return _notice(request, lang, "thanks", thanks, *(["followup"] if int(score) <= LOW_SCORE else []))


async def opt_out_page(request: web.Request) -> web.Response:
    try:
        contact_id = _subject(request, "opt_out")
    except LinkRefused as exc:
        return _refused(request, exc)
    found = await request.app[DB].customers.find_by_contact(contact_id)
    if found is None:
        return _refused(request, LinkRefused("contact no longer exists"))
    contact = found[1]
    lang = _lang(request, contact.language)
    if contact.sms_opt_out:
        return _notice(request, lang, "opted_out", "opted_out_line")
    return _page(request, lang, page="opt_out", contact_name=contact.name, action=request.path)


async def opt_out(request: web.Request) -> web.Response:
    try:
        contact_id = _subject(request, "opt_out")
    except LinkRefused as exc:
        return _refused(request, exc)
    db = request.app[DB]
    found = await db.customers.find_by_contact(contact_id)
    if found is None:
        return _refused(request, LinkRefused("contact no longer exists"))
    form = dict(await request.post())
    lang = _lang(request, found[1].language, form)
    if not found[1].sms_opt_out:
        await db.customers.set_sms_opt_out(contact_id, True, source=ChangeSource.link.value,
                                           actor=f"contact:{contact_id}", at=request.app[CLOCK].now())
    return _notice(request, lang, "opted_out", "opted_out_line")


def setup_public_pages(app: web.Application) -> None:
    app.router.add_get("/s/{token}", survey_page)
    app.router.add_post("/s/{token}", survey_answer)
    app.router.add_get("/u/{token}", opt_out_page)
    app.router.add_post("/u/{token}", opt_out)
