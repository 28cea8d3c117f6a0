"""What a customer or a manager reads of a ticket's deadline: the one still awaited, and whether it has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecore.model import Circuit, Ticket
from carecore.texts import circuit_line, ticket_deadline
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 31, 23, 30, tzinfo=SH)  # a year's last half hour


def _ticket(**overrides) -> Ticket:
    return Ticket.parse_obj({**factories.ticket(), **overrides})


@pytest.mark.parametrize(("sla", "status", "now", "zh", "en"), [
    ({"response_due": DUE - timedelta(hours=2), "restore_due": DUE}, "open", DUE,  # on the minute: not late yet
     "修复时限：12月31日23:30", "restore due by 31 Dec 23:30"),
    ({"response_due": DUE - timedelta(hours=2), "restore_due": DUE}, "acknowledged", DUE + timedelta(minutes=31),
     "修复时限：12月31日23:30，已超时", "restore was due by 31 Dec 23:30, overdue"),
    ({"response_due": DUE}, "open", DUE + timedelta(days=1), "答复时限：12月31日23:30，已超时",
     "reply was due by 31 Dec 23:30, overdue"),
    ({"response_due": DUE, "responded_at": DUE - timedelta(hours=1)}, "acknowledged", DUE, "", ""),  # replied
    ({"response_due": DUE}, "resolved", DUE + timedelta(days=1), "", ""),
])
def test_the_deadline_awaited_and_whether_it_passed(sla, status, now, zh, en) -> None:
    ticket = _ticket(sla=sla, status=status, kind="fault" if "restore_due" in sla else "complaint")
    assert (ticket_deadline(ticket, "zh", SH, now), ticket_deadline(ticket, "en", SH, now)) == (zh, en)


@pytest.mark.parametrize(("ends", "zh", "en"), [
    ({}, "SH-155M-0000001-1 155M数字电路", "SH-155M-0000001-1 155M digital circuit"),
    ({"a_end": "上海金桥大厦", "z_end": "杭州数据中心"}, "SH-155M-0000001-1 155M数字电路（上海金桥大厦—杭州数据中心）",
     "SH-155M-0000001-1 155M digital circuit (上海金桥大厦 – 杭州数据中心)"),
    ({"z_end": "杭州数据中心"}, "SH-155M-0000001-1 155M数字电路（杭州数据中心）",
     "SH-155M-0000001-1 155M digital circuit (杭州数据中心)"),
])
def test_a_circuit_is_shown_with_the_ends_known(ends: dict, zh: str, en: str) -> None:
    circuit = Circuit(circuit_id="SH-155M-0000001-1", type="digital_155m", bandwidth="155M", sla_class="premium", **ends)
    assert (circuit_line(circuit, "zh"), circuit_line(circuit, "en")) == (zh, en)
