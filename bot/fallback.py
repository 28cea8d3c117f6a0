"""What a channel says when the assistant does not answer: MongoDB or the action server away, or a person
(the account manager) has the conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

from rasa.core.channels.channel import OutputChannel

from carecore import texts
from carecore.clock import Clock, as_stored
from carecore.phones import readable
from carecore.repository import Database
from carecore.texts import detect_language, fmt_time

TRY_AGAIN = {  # the hotline, not the manager: whose the account is may be what could not be read
    "zh": "抱歉，系统暂时繁忙，请稍后再发一次。紧急故障请拨打大客户服务热线{hotline}。",
    "en": "Sorry, we cannot answer right now. Please send your message again in a minute; "
          "for an urgent fault, call the key-account hotline {hotline}.",
}
WORDS_PLEASE = {  # a picture or other media with no text: the assistant reads words only
    "zh": "抱歉，我们暂时只能读取文字，无法查看图片。请用文字描述您的问题，例如“专线中断了”或“查本月账单”。",
    "en": "Sorry, we can only read text, not pictures. Please tell us in words what you need, "
          "for example \"our line is down\" or \"this month's bill\".",
}
WAITING = {
    "zh": "您的消息已收到，客户经理{manager}将在{contact_by}前与您联系。紧急情况请直接致电{mobile}。",
    "en": "We have your message. Your account manager {manager} will contact you by {contact_by}. "
          "If it is urgent, call {mobile}.",
}
WAITING_AT = {  # the customer asked for a time: the call comes then, not "by" it
    "zh": "您的消息已收到，客户经理{manager}将按约定在{contact_by}与您联系。紧急情况请直接致电{mobile}。",
    "en": "We have your message. Your account manager {manager} will call you at {contact_by}, as agreed. "
          "If it is urgent, call {mobile}.",
}
# How often a customer writing to a paused conversation hears that a person has it: once, not at every message.
WAITING_NOTICE_EVERY = timedelta(hours=1)


def reply_language(text: Optional[str]) -> str:
    """The language a channel answers a message in when the assistant does not: the message's, else zh."""
    return "en" if detect_language(text) == "en" else "zh"


def try_again(text: Optional[str], hotline: str) -> str:
    return TRY_AGAIN[reply_language(text)].format(hotline=hotline)


async def tell_if_waiting(output: OutputChannel, db: Database, sender_id: str, text: Optional[str],
                          clock: Clock) -> None:
    """Answer a message the assistant left unanswered because its conversation waits for the account manager
    (an open escalation pauses it): who will call and by when, at most once per ``WAITING_NOTICE_EVERY``.

    Without it the customer's further messages, an outage among them, meet silence until the call.
    """
    escalation = await db.escalations.open_for_sender(sender_id)
    if escalation is None:
        return
    if not await db.escalations.claim_waiting_notice(escalation.id, as_stored(clock.now()), WAITING_NOTICE_EVERY):
        return
    manager = await db.managers.get(escalation.manager_id)
    if manager is None:
        return
    # the language the assistant would answer in: the message's, or the contact's for a code or a lone "OK"
    found = await db.customers.find_by_contact(escalation.contact_id)
    profile = found[1].language if found else None
    lang = texts.reply_language(text, profile, profile) or profile or reply_language(text)
    await output.send_text_message(sender_id, (WAITING_AT if escalation.callback_asked else WAITING)[lang].format(
        manager=manager.name, contact_by=fmt_time(escalation.contact_by, lang, clock.tz),
        mobile=readable(manager.mobile, lang)))
