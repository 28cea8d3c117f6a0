"""What a channel says when the assistant cannot answer right now (MongoDB or the action server away)."""

from __future__ import annotations

from typing import Optional

from carecore.texts import detect_language

TRY_AGAIN = {
    "zh": "抱歉，系统暂时繁忙，请稍后再发一次。紧急故障请直接联系您的客户经理。",
    "en": "Sorry, we cannot answer right now. Please send your message again in a minute; "
          "for an urgent fault, call your account manager.",
}


def reply_language(text: Optional[str]) -> str:
    """The language a channel answers a message in when the assistant does not: the message's, else zh."""
    return "en" if detect_language(text) == "en" else "zh"


def try_again(text: Optional[str]) -> str:
    return TRY_AGAIN[reply_language(text)]
