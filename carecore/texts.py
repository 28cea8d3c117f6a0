"""Words replies and SMS share: labels of enum values in both languages, money and time formats."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, List, Optional
from zoneinfo import ZoneInfo

from carecore.courtesy import IDENTIFIER_TOKEN
from carecore.phones import readable

if TYPE_CHECKING:  # texts are below the models: no import at run time
    from carecore.model import Billing, Circuit, Contact, Ticket

LABELS = {
    "question": {  # what an account question asks about, named back when two come in one message
        "ask_account_summary": ("账户概况", "your account"),
        "ask_account_manager": ("客户经理", "your account manager"),
        "ask_usage": ("账单", "your bill"),
        "ask_service_status": ("专线状态", "circuit status"),
        "ask_sla": ("SLA", "the SLA"),
        "ask_ticket_status": ("工单进度", "your tickets"),
        "ask_compensation": ("补偿", "compensation"),
    },
    "fault_since": {"unknown": ("不清楚", "not known")},  # asked twice, a start never told
    "customer_class": {
        "important": ("重要客户", "important"),
        "strategic": ("战略客户", "strategic"),
        "group": ("集团客户", "group"),
        "high_value": ("高值客户", "high-value"),  # the flag, shown beside the class
    },
    "tier": {
        "diamond": ("钻石卡", "Diamond"),
        "gold": ("金卡", "Gold"),
        "silver": ("银卡", "Silver"),
        "vip": ("贵宾卡", "VIP"),
    },
    "circuit_type": {
        "digital_2m": ("2M数字电路", "2M digital circuit"),
        "digital_155m": ("155M数字电路", "155M digital circuit"),
        "ddn": ("DDN专线", "DDN line"),
        "leased_line": ("专线", "leased line"),
        "internet_access": ("互联网专线", "dedicated internet access"),
        "ne_rental": ("网元出租", "network-element rental"),
        "voice": ("语音中继", "voice trunk"),
        "mobile": ("移动", "mobile"),
        "data": ("数据", "data"),
    },
    "circuit_status": {
        "active": ("正常", "up"),
        "degraded": ("性能下降", "degraded"),
        "down": ("中断", "down"),
        "maintenance": ("维护中", "in maintenance"),
        "suspended": ("已暂停", "suspended"),
    },
    "sla_class": {
        "premium": ("金牌保障", "premium"),
        "standard": ("标准保障", "standard"),
        "basic": ("基础保障", "basic"),
    },
    "bill_delivery": {"sms": ("短信", "SMS"), "email": ("电子邮件", "email"), "paper": ("纸质", "paper")},
    "manager_level": {"city": ("地市", "city"), "province": ("省", "province"), "group": ("集团", "group")},
    "language": {"zh": ("中文", "Chinese"), "en": ("英文", "English")},
    "birthday_calendar": {"solar": ("公历", "solar"), "lunar": ("农历", "lunar"), "lunar-leap": ("农历闰月", "lunar, leap month")},
    "send_status": {
        "pending": ("发送中", "pending"), "ambiguous": ("待核实", "ambiguous"), "deferred": ("待重发", "deferred"),
        "accepted": ("已受理", "accepted"), "queued": ("排队中", "queued"), "sending": ("发送中", "sending"),
        "sent": ("已发送", "sent"), "delivered": ("已送达", "delivered"), "undelivered": ("未送达", "undelivered"),
        "failed": ("发送失败", "failed"), "suppressed": ("未发送", "suppressed"),
        # why a survey was not sent, as its ticket records it
        "opted_out": ("已退订，未发送", "opted out, not sent"), "template_error": ("模板错误，未发送", "template error, not sent"),
        "number_disowned": ("号码已非联系人本人，未发送", "number no longer the contact's, not sent"),
    },
    "send_kind": {
        "birthday": ("生日祝福", "birthday"), "holiday": ("节日问候", "holiday"), "usage": ("月度消费", "usage"),
        "compensation": ("补偿通知", "compensation"), "sla_watch": ("工单提醒", "ticket alert"),
        "brief": ("每日简报", "daily brief"), "otp": ("验证码", "one-time code"), "reply": ("助理回复", "reply"),
        "escalation": ("转人工通知", "escalation"), "notice": ("服务通知", "notice"), "survey": ("满意度评价", "survey"),
        "maintenance": ("维护通知", "maintenance notice"), "kpi_brief": ("月度指标", "monthly KPIs"),
        "arrears": ("欠费提醒", "payment reminder"), "broadcast": ("群发短信", "broadcast"),
    },
    "ticket_kind": {"complaint": ("投诉", "complaint"), "fault": ("故障", "fault")},
    "credit_reason": {"sla_breach": ("故障修复超时", "fault restored late"),
                      "bill_not_received": ("账单未按时送达", "bill not received in time")},
    "sla_outcome": {"met": ("达成", "met"), "missed": ("超时", "missed"), "pending": ("未到期", "pending")},
    "followup_state": {"owed": ("待回访", "owed"), "done": ("已回访", "done")},
    "complaint_category": {
        "network": ("网络质量", "network quality"), "billing": ("账单费用", "billing"),
        "manager": ("客户经理", "account manager"), "attitude": ("服务态度", "staff attitude"),
        "timeliness": ("装机维修时效", "installation or repair time"),
        "other": ("其他", "other"),
    },
    "ticket_action": {
        "created": ("建单", "opened"), "ack": ("受理", "acknowledged"), "note": ("备注", "note"),
        "resolve": ("解决", "resolved"), "sla_warning": ("时限预警", "deadline warning"), "escalate": ("超时升级", "escalated"),
        "survey_answer": ("满意度评价", "survey answered"), "followup": ("回访", "follow-up call"),
        "followup_overdue": ("回访超时", "follow-up overdue"), "reassigned": ("转交", "reassigned"),
        "urged": ("客户催办", "chased by the customer"),
        "customer_restored": ("客户告知已恢复", "customer says restored"),
        "reported_again": ("客户再次报障", "reported again by the customer"),
        "reopened": ("客户反映未修复，重新打开", "reopened: the customer says it is not fixed"),
        "customer_withdraw": ("客户要求撤销", "customer asks to withdraw"),
        "urge_paged": ("催办已转达", "chase passed on"),
    },
    "priority": {"urgent": ("紧急", "urgent"), "high": ("高", "high"), "normal": ("普通", "normal"),
                 "low": ("低", "low")},
    "escalation_status": {
        "open": ("待处理", "open"),
        "acknowledged": ("已受理", "acknowledged"),
        "resolved": ("已解决", "resolved"),
        "handed_back": ("已交还机器人", "handed back"),
    },
    "escalation_reason": {
        "request_human": ("客户要求人工", "customer asked for a person"),
        "other_person": ("客户要求换人联系", "customer asked for someone other than their manager"),
        "manager_unreachable": ("客户联系不上客户经理", "customer could not reach their manager"),
        "leaving": ("客户表示要退网、拆机或不再续约", "customer says they will cancel or leave"),
        "order": ("客户要办理业务（升级、新装、移机、发票、续约等）", "customer asks for an order: upgrade, new line, move, invoice, renewal"),
        "fallback": ("机器人未能理解", "the bot did not understand"),
        "urgent_complaint": ("紧急投诉", "urgent complaint"),
    },
    "ticket_status": {
        "open": ("已受理", "open"),
        "acknowledged": ("处理中", "being handled"),
        "in_progress": ("处理中", "in progress"),
        "resolved": ("已解决", "resolved"),
        "closed": ("已关闭", "closed"),
    },
    "maintenance_impact": {"interrupted": ("中断", "interrupted"), "degraded": ("受影响（质量下降）", "degraded")},
    "survey_channel": {"sms": ("短信回复", "SMS reply"), "chat": ("在线对话", "chat"), "link": ("评价链接", "link")},
}


def customer_classes(customer_class: Optional[str], high_value: bool, lang: str) -> str:
    """The class and the high-value flag together ("重要客户、高值客户"); a plain key account without either."""
    names = [label("customer_class", c, lang) for c in (customer_class, "high_value" if high_value else None) if c]
    if not names:
        return "key account" if lang == "en" else "大客户"
    return (" and " if lang == "en" else "、").join(names)


def label(kind: str, value: str, lang: str) -> str:
    pair = LABELS.get(kind, {}).get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_IDENTIFIER = re.compile(IDENTIFIER_TOKEN)


def _english_words(text: str) -> List[str]:
    return _LATIN_WORD.findall(_IDENTIFIER.sub(" ", text))


def detect_language(text: Optional[str]) -> Optional[str]:
    """zh if the message has Chinese characters (mixed messages too), en if it has English words.

    None for messages with neither (a code, a number, a customer or circuit id): those keep the
    conversation's current language.
    """
    if not text:
        return None
    if _CJK.search(text):
        return "zh"
    if _english_words(text):
        return "en"
    return None


_BRACKETED = re.compile(r"\([^()]*\)|（[^（）]*）")


def written_in_chinese(text: str) -> bool:
    """Whether an outgoing text is a Chinese message: more Chinese characters than English words, so that an English
    reply naming a manager (蔡然远) stays English, and a Chinese one quoting circuit ids stays Chinese. What is in
    brackets is left out while anything else is counted: an English list of circuits names their Chinese sites
    there, "(温州鼎盛大厦 – 南京数据中心)", which had outnumbered its English words."""
    outside = _BRACKETED.sub(" ", text)
    counted = outside if _CJK.search(outside) or _english_words(outside) else text
    return len(_CJK.findall(counted)) > len(_english_words(counted))


def reply_language(text: Optional[str], preferred: Optional[str], current: Optional[str]) -> Optional[str]:
    """The conversation's reply language after a message, if it changes: the language the customer writes
    in, whatever the profile says. A message in neither script (a code, a number) keeps it, and so does a
    lone English word ("OK", "SLA", "TD") from a contact who writes Chinese (``preferred``: the language of
    their last message that had one, else their profile's), since Chinese writers use those too."""
    wanted = detect_language(text)
    if wanted == "en" and preferred == "zh" and len(_english_words(text or "")) < 2:
        return None
    return wanted if wanted and wanted != current else None


def written_language(earlier: List[Optional[str]], profile_language: Optional[str]) -> Optional[str]:
    """The language a customer has been writing in: that of their last message (of ``earlier``, oldest first) in
    either script, else the profile's."""
    for text in reversed(earlier):
        found = detect_language(text)
        if found:
            return found
    return profile_language


def fmt_time(when: datetime, lang: str, tz: ZoneInfo) -> str:
    local = when.astimezone(tz)
    if lang == "en":
        return local.strftime("%d %b %H:%M")
    return f"{local.month}月{local.day}日{local:%H:%M}"


def ticket_deadline(ticket: Ticket, lang: str, tz: ZoneInfo, now: datetime) -> str:
    """What an open ticket's customer waits for, and until when: a fault's restore, a complaint's reply; said to be
    overdue once ``now`` is past it, and nothing once it was met."""
    if ticket.sla is None or ticket.status in ("resolved", "closed"):
        return ""
    name = "restore" if ticket.sla.restore_due is not None else "response"
    due, met = ticket.sla.deadline(name)
    if due is None or met is not None:
        return ""
    when, late = fmt_time(due, lang, tz), now > due
    if lang == "en":
        what = "restore" if name == "restore" else "reply"
        return f"{what} was due by {when}, overdue" if late else f"{what} due by {when}"
    return f"{'修复' if name == 'restore' else '答复'}时限：{when}{'，已超时' if late else ''}"


def due_by(due: datetime, now: datetime, lang: str, tz: ZoneInfo) -> str:
    """A deadline as a customer is told it, marked once past: "12月7日13:32（已超时）", "07 Dec 13:32 (overdue)"."""
    when = fmt_time(due, lang, tz)
    if now <= due:
        return when
    return f"{when} (overdue)" if lang == "en" else f"{when}（已超时）"


def fmt_date(day: date, lang: str) -> str:
    return f"{day.day} {day:%B %Y}" if lang == "en" else f"{day.year}年{day.month}月{day.day}日"


def fmt_duration(span: timedelta, lang: str) -> str:
    """'2小时15分钟' / '2 h 15 min', rounded up to the minute (an overdue second still counts)."""
    minutes = max(0, -(-int(span.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "en":
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins or not (days or hours) else ""]
        return " ".join(p for p in parts if p)
    return "".join(p for p in (f"{days}天" if days else "", f"{hours}小时" if hours else "",
                               f"{mins}分钟" if mins or not (days or hours) else "") if p)


def month_label(month: str, lang: str) -> str:
    """'2026-10' as the customer reads it: '2026年10月' or 'October 2026'."""
    year, mon = (int(part) for part in month.split("-"))
    if lang == "en":
        return datetime(year, mon, 1).strftime("%B %Y")
    return f"{year}年{mon}月"


def span_label(first: str, last: str, lang: str) -> str:
    """Several months, '2026年1月至2026年11月' or 'January 2026 to November 2026'."""
    return f"{month_label(first, lang)} to {month_label(last, lang)}" if lang == "en" else \
        f"{month_label(first, lang)}至{month_label(last, lang)}"


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def change_from_previous(current: int, previous: Optional[int], lang: str) -> str:
    """How a month's amount compares with the month before, as a phrase that stands on its own
    (the bot's usage answer and the usage SMS both put it in brackets or after a comma)."""
    if not previous:
        return "no previous month to compare" if lang == "en" else "无上月数据可比"
    pct = (current - previous) * 100 / previous
    if lang == "en":
        return f"{pct:+.1f}% vs the previous month"
    return f"较上月{'增加' if pct >= 0 else '减少'}{abs(pct):.1f}%"


def bullet_lines(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def about_manager(name: str) -> str:
    """How a manager's page or a chase names the account manager a complaint is about."""
    return f"涉及客户经理{name}"


def contact_line(company_name: str, contact: Contact) -> str:
    """Who a page to a manager is about, as they would dial them: "上海鼎盛物流有限公司（金卡）刘秀博 138 0000 0010"."""
    return f"{company_name}（{label('tier', contact.tier, 'zh')}）{contact.name} {readable(contact.mobile, 'zh')}"


def circuit_line(circuit: Circuit, lang: str) -> str:
    """"SH-155M-0000001-1 155M数字电路（上海金桥大厦—杭州数据中心）": the bandwidth only when the type's name does not
    say it; the ends where known, which is how a customer with several lines tells them apart."""
    name = label("circuit_type", circuit.type, lang)
    line = f"{circuit.circuit_id} {name}" + ("" if circuit.bandwidth in name else f" {circuit.bandwidth}")
    ends = circuit_ends(circuit, lang)
    if not ends:
        return line
    return f"{line} ({ends})" if lang == "en" else f"{line}（{ends}）"


def circuit_ends(circuit: Circuit, lang: str) -> str:
    """"上海金桥大厦—杭州数据中心": the A and Z ends known, "" for none."""
    return (" – " if lang == "en" else "—").join(end for end in (circuit.a_end, circuit.z_end) if end)


def bill_terms(billing: Billing, lang: str) -> str:
    """When the bill is issued and how it is sent, which "how is our bill delivered" and "账单寄到哪个邮箱" ask: the
    address shown only in part, enough for the customer to recognise it."""
    name, _, domain = (billing.email or "").partition("@")
    to = f"{name[:1]}***@{domain}" if billing.delivery == "email" and domain else ""
    last = billing.bill_day > 28
    if lang == "en":
        sent = {"sms": "sent by SMS", "email": "sent by email" + (f" to {to}" if to else ""),
                "paper": "posted on paper"}[billing.delivery]
        return f"Bills are issued on day {billing.bill_day} of each month{' (or its last day)' if last else ''} and {sent}."
    sent = {"sms": "通过短信发送", "email": "通过电子邮件发送" + (f"至{to}" if to else ""), "paper": "以纸质账单邮寄"}[
        billing.delivery]
    return f"账单每月{billing.bill_day}日出账{'（当月没有该日则为月末）' if last else ''}，{sent}。"
