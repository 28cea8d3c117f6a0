"""What a one-time code looks like, and that no reader but the assistant sees the one a customer typed."""

from __future__ import annotations

from carecore.identity import CODE_FORMAT, OtpService, codes_hidden, hide_codes


def _asked(slot: object) -> dict:
    return {"event": "slot", "name": "requested_slot", "value": slot}


def test_the_code_typed_when_asked_for_is_masked_and_nothing_else() -> None:
    events = [
        {"event": "user", "text": "我是13800000010，订单号123456"},  # no code asked for: a number stays
        _asked("otp_code"),
        {"event": "bot", "text": "请回复短信验证码"},
        {"event": "user", "text": "验证码是 654321，手机13800000010，金额1234567元"},
        _asked("otp_code"),
        {"event": "user", "text": "654321"},
        _asked(None),
        {"event": "user", "text": "654321"},
        "not an event",
    ]
    said = [e["text"] for e in codes_hidden(events) if isinstance(e, dict) and e["event"] in ("user", "bot")]
    assert said == ["我是13800000010，订单号123456", "请回复短信验证码", "验证码是 ******，手机13800000010，金额1234567元",
                    "******", "654321"]
    assert list(codes_hidden(events))[-1] == "not an event"
    assert events[3]["text"].startswith("验证码是 654321")  # the conversation itself is left as it was


def test_the_code_in_a_code_message_is_masked() -> None:
    assert hide_codes("【中国电信】您的验证码为042917，5分钟内有效。") == "【中国电信】您的验证码为******，5分钟内有效。"
    assert CODE_FORMAT.fullmatch("042917") and not CODE_FORMAT.fullmatch("42917")


def test_a_codes_validity_is_stated_in_whole_minutes() -> None:
    assert [OtpService(None, None, ttl_s=ttl).valid_minutes for ttl in (300, 600, 150, 30)] == [5, 10, 2, 1]
