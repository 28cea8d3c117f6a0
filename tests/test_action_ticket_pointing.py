"""Which tickets a message points at."""

from __future__ import annotations

import pytest

from actions.ticket_pointing import ticket_kinds_named


@pytest.mark.parametrize("text, kinds", [
    ("取消投诉", ("complaint",)),
    ("投诉处理到哪了", ("complaint",)),
    ("报修的进度", ("fault",)),
    ("cancel my ticket", ("complaint", "fault")),
    ("能快点吗，客户都在投诉了", ()),  # had chased the customer's complaint, not the faults just listed
    ("我们被用户投诉了，故障赶紧修", ("fault",)),
    ("能快点吗", ()),
    ("我们在投诉的那个处理得怎么样了", ("complaint",)),  # their own
])
def test_the_ticket_kinds_a_message_names(text: str, kinds: tuple) -> None:
    assert ticket_kinds_named(text) == kinds
