"""Campaign templates: strict rendering, signature, opt-out line, segment counts."""

from __future__ import annotations

import pytest

from care_scheduler.templates import TemplateError, render

SIG = "【中国电信】"
OPT_OUT = "https://care.example.cn/u/0000001-01.tmq9k1s.AbCdEfGhIjKlMnOp"
BASE = {"contact_name": "王伟", "region": "浙江", "company_name": "杭州华信物流有限公司", "promo": "", "belated": False,
        "opt_out_url": OPT_OUT, "reply": True, "operator": "中国电信"}
EN = {"contact_name": "David Chen", "operator": "China Telecom"}


def test_zh_greeting_starts_with_signature_and_ends_with_opt_out() -> None:
    out = render("birthday", "zh", signature=SIG, **BASE)
    assert out.text.startswith(SIG) and out.text.endswith(f"回T或点 {OPT_OUT} 退订")
    assert out.encoding == "UCS-2" and out.segments == 2 and out.warnings == []  # the link costs a segment


def test_a_reader_whose_replies_cannot_reach_us_is_not_told_to_reply() -> None:
    zh = render("birthday", "zh", signature=SIG, **{**BASE, "reply": False})
    en = render("birthday", "en", signature=SIG, **{**BASE, **EN, "reply": False})
    assert zh.text.endswith(f"！点 {OPT_OUT} 退订") and "回T" not in zh.text
    assert en.text.endswith(f" Open {OPT_OUT} to opt out") and "Reply" not in en.text


@pytest.mark.parametrize("template", ["birthday", "birthday_personal"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_late_birthday_greeting_says_so(template: str, language: str) -> None:
    values = {**BASE, **(EN if language == "en" else {}), "manager_name": "林海燕", "manager_mobile": "13900000001"}
    on_the_day = render(template, language, signature=SIG, **values)
    late = render(template, language, signature=SIG, **{**values, "belated": True})
    if language == "zh":
        assert "补祝" in late.text and "值此生日之际" not in late.text and "补祝" not in on_the_day.text
    else:
        assert "belated happy birthday" in late.text.lower() and "belated" not in on_the_day.text.lower()
    assert late.segments == on_the_day.segments  # no dearer for being late


def test_en_greeting_has_the_english_opt_out() -> None:
    values = {**BASE, **EN, "festival_name": "Spring Festival", "company_name": "Huaxin Logistics"}
    out = render("holiday", "en", signature=SIG, **values)
    assert out.text.endswith(f"Reply STOP or open {OPT_OUT} to opt out") and SIG not in out.text
    assert (out.encoding, out.segments) == ("GSM-7", 2)
    # the company is not named: a Chinese name would make the English message UCS-2, 4 segments instead of 2
    chinese_name = render("holiday", "en", signature=SIG, **{**values, "company_name": "杭州华信物流有限公司"})
    assert (chinese_name.encoding, chinese_name.segments) == ("GSM-7", 2)


def test_missing_variable_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="contact_name"):
        render("birthday", "zh", signature=SIG, region="浙江", promo="")


def test_promotional_line_is_optional() -> None:
    with_promo = render("birthday", "zh", signature=SIG, **{**BASE, "promo": "千兆专线升级享8折。"})
    without = render("birthday", "zh", signature=SIG, **BASE)
    assert "8折" in with_promo.text and "8折" not in without.text


def test_brackets_in_the_body_are_refused_and_long_messages_warned() -> None:
    with pytest.raises(TemplateError, match="reserved"):
        render("birthday", "zh", signature=SIG, **{**BASE, "contact_name": "【假冒】"})
    long = render("birthday", "zh", signature=SIG, **{**BASE, "promo": "优惠" * 120})
    assert long.segments > 3 and long.warnings


def test_unknown_language_or_kind() -> None:
    with pytest.raises(TemplateError):
        render("birthday", "fr", signature=SIG, **BASE)
    with pytest.raises(TemplateError):
        render("no_such_kind", "zh", signature=SIG, **BASE)
