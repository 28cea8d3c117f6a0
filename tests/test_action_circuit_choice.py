"""Which circuit a message means: a mention that fits one alone, a correction naming another."""

from __future__ import annotations

from typing import Optional

import pytest

from actions import circuit_choice
from carecore.model import Circuit
from tests.test_action_circuit_sites import SITED

CIRCUITS = [Circuit(circuit_id="JS-2M-0000027-1", type="digital_2m", bandwidth="2M", sla_class="premium"),
            Circuit(circuit_id="JS-DDN-0000027-2", type="ddn", bandwidth="64K", sla_class="basic"),
            Circuit(circuit_id="JS-DIA-0000027-3", type="internet_access", bandwidth="1G", sla_class="premium")]


@pytest.mark.parametrize("text, fits", [
    ("our DIA line is down", "JS-DIA-0000027-3"), ("互联网专线断了", "JS-DIA-0000027-3"), ("DDN不通", "JS-DDN-0000027-2"),
    ("2M电路中断", "JS-2M-0000027-1"), ("专线断了", None), ("our leased line is down", None),
    ("the internet one", "JS-DIA-0000027-3"), ("互联网那条", "JS-DIA-0000027-3"), ("上不了互联网", None),
    ("JS-DIA-0000027-3 is down", None),  # an id is the domain's entity, read before this
    ("12M的线路", None), ("the 2M and the DDN are both down", None),
])
def test_a_mention_names_a_circuit_only_when_it_fits_one_alone(text: str, fits: str) -> None:
    found = circuit_choice.hinted(CIRCUITS, text)
    assert (found.circuit_id if found else None) == fits


@pytest.mark.parametrize("text, named", [
    ("不对，是第三条", "JS-DIA-0000027-3"), ("不是这条，是第2个", "JS-DDN-0000027-2"), ("是3号线路", "JS-DIA-0000027-3"),
    ("no, actually it's circuit 3", "JS-DIA-0000027-3"), ("not that one, the second one", "JS-DDN-0000027-2"),
    ("wrong one, js-2m-0000027-1", "JS-2M-0000027-1"), ("搞错了，是DDN那条", "JS-DDN-0000027-2"),
    ("不对，是第五条", None),  # no such line in the list
    ("帮我查下circuit 2的status", "JS-DDN-0000027-2"), ("查下second line的SLA", "JS-DDN-0000027-2"),  # mixed
    ("circuit 23", None), ("airline 2", None),
    ("不对，是3点开始的", None), ("不对，是3号开始的", None), ("no, it began at 3", None), ("不对，是第二天才断的", None),
])
def test_a_correction_names_a_circuit_by_id_position_or_mention_never_by_a_time(text: str, named: Optional[str]) -> None:
    found = circuit_choice.named(CIRCUITS, text)
    assert (found.circuit_id if found else None) == named


@pytest.mark.parametrize("text, chosen", [
    ("2", "JS-DDN-0000027-2"), ("选2", "JS-DDN-0000027-2"), ("第三", "JS-DIA-0000027-3"), ("second", "JS-DDN-0000027-2"),
    ("circuit 1", "JS-2M-0000027-1"), ("line number 3", "JS-DIA-0000027-3"), ("3号线路", "JS-DIA-0000027-3"),
    ("js-ddn-0000027-2", "JS-DDN-0000027-2"), ("DIA那条", "JS-DIA-0000027-3"),
    ("circuit 5", None), ("5", None), ("it's working again now", None),
])
def test_a_choice_from_the_list_is_read_by_id_number_or_mention(text: str, chosen: Optional[str]) -> None:
    found = circuit_choice.choice(CIRCUITS, text)
    assert (found.circuit_id if found else None) == chosen


@pytest.mark.parametrize("text, alone", [
    ("那第三条呢", True), ("第二条呢？", True), ("3号电路呢", True), ("and circuit 3?", True),
    ("what about the second one", True),
    ("第三条的SLA呢", False), ("那上个月呢", False), ("line 2 is down", False),  # asks something of its own
])
def test_a_circuit_named_alone_is_a_follow_up(text: str, alone: bool) -> None:
    assert circuit_choice.circuit_alone(text) is alone


@pytest.mark.parametrize("text, alone", [
    ("and the Wuhan one?", True), ("那南京那条呢", True), ("杭州那条怎么样", True), ("and the 155M one?", True),
    ("the Wenzhou line?", False),  # three end there: which, it cannot say
    ("is the Wuhan one down?", False), ("武汉那条的SLA呢", False),  # asks something of its own
    ("那条呢", False), ("and the Beijing one?", False),  # no circuit of theirs
])
def test_a_circuit_mentioned_alone_is_a_follow_up(text: str, alone: bool) -> None:
    """"and the Beijing one?" right after the status had been asked to rephrase."""
    assert circuit_choice.circuit_alone(text, SITED) is alone


@pytest.mark.parametrize("text, names", [
    ("第五条断了", True), ("5", True), ("circuit 7", True), ("SH-155M-0000002-1", True), ("1000M那条", True),
    ("100兆的", True), ("DDN那条", True), ("座机", True),
    ("办公室那条", False), ("that's all", False), ("the office one", False), ("12楼机房那根", False),
])
def test_an_answer_names_a_circuit_when_the_list_could_say_it_is_not_theirs(text: str, names: bool) -> None:
    assert circuit_choice.names_a_circuit(text) is names


@pytest.mark.parametrize("said, replied, meant", [
    ("what's the SLA on it", ["3. JS-DIA-0000027-3 DIA 1G: up"], "JS-DIA-0000027-3"),
    ("这条的SLA是多少", ["3. JS-DIA-0000027-3 互联网专线 1G：正常"], "JS-DIA-0000027-3"),
    ("is it back up", ["1. JS-2M-0000027-1 …\n2. JS-DDN-0000027-2 …"], None),     # the reply named two
    ("what's our SLA", ["3. JS-DIA-0000027-3 DIA 1G: up"], None),                # points at nothing
    ("what's the SLA for that", ["Please describe the symptom on circuit JS-DIA-0000027-3: …"], "JS-DIA-0000027-3"),
    ("那条的修复时限呢", ["电路JS-DIA-0000027-3的故障大约从什么时候开始？"], "JS-DIA-0000027-3"),
    ("what's the SLA for that month", ["3. JS-DIA-0000027-3 DIA 1G: up"], None),  # the month, not the circuit
    ("and circuit 2?", ["3. JS-DIA-0000027-3 DIA 1G: up"], "JS-DDN-0000027-2"),  # named: that one
])
def test_it_is_the_circuit_the_reply_before_named_alone(said: str, replied: list, meant: Optional[str]) -> None:
    found = circuit_choice.referred(CIRCUITS, said, replied)
    assert (found.circuit_id if found else None) == meant


def test_an_answer_to_which_circuit_and_a_question_read_a_place() -> None:
    """``choice`` takes a place alone, ``named`` only said as a line's (``circuit_sites``)."""
    assert circuit_choice.choice(SITED, "长城大厦那个").circuit_id == "ZJ-155M-0000007-2"
    assert circuit_choice.named(SITED, "杭州那条的SLA是多少").circuit_id == "ZJ-ZX-0000007-3"
    assert circuit_choice.named(SITED, "杭州的同事说断了") is None


VOICE = Circuit(circuit_id="JS-YY-0000027-4", type="voice", bandwidth="E1", sla_class="standard")


@pytest.mark.parametrize("text, voice", [
    ("我们的固话没有声音", True), ("公司座机打不通", True), ("电话打不出去", True), ("总机打不进来", True),
    ("no dial tone on our landlines", True), ("our PBX trunk is down", True), ("our phones can't make outgoing calls", True),
    ("专线断了", False), ("客户经理电话是多少", False), ("the internet one is down", False),
])
def test_a_landline_fault_is_told_apart_from_a_circuits(text: str, voice: bool) -> None:
    """Without a voice trunk it cannot be reported here; with one, it is the one meant."""
    assert circuit_choice.voice_unserved(CIRCUITS, text) is voice
    assert not circuit_choice.voice_unserved([*CIRCUITS, VOICE], text)
    found = circuit_choice.hinted([*CIRCUITS, VOICE], text)
    assert (found is VOICE) is voice


@pytest.mark.parametrize("said, rate", [("2M", 2.0), ("64K", 0.064), ("1G", 1000.0), ("1000兆", 1000.0), ("千兆", 1000.0),
                                        ("100MB", 100.0), ("gigabit", 1000.0), ("M", None)])
def test_a_bandwidth_is_read_in_mbit_per_second(said: str, rate) -> None:
    assert circuit_choice.mbps(said) == rate


@pytest.mark.parametrize("text, fits, unserved", [
    ("1000M那条断了", "JS-DIA-0000027-3", None), ("千兆那条很慢", "JS-DIA-0000027-3", None),  # the "1G" line
    ("the gigabit line is down", "JS-DIA-0000027-3", None),
    ("our 2M line is slow", "JS-2M-0000027-1", None),
    ("our 155M line is slow", None, "155M"), ("100兆的专线断了", None, "100兆"),
    ("5G信号不好，专线也慢", None, None),  # a mobile network's generation, no bandwidth
])
def test_a_bandwidth_named_fits_a_circuit_or_none_of_them(text: str, fits, unserved) -> None:
    found = circuit_choice.hinted(CIRCUITS, text)
    assert (found.circuit_id if found else None) == fits
    assert circuit_choice.bandwidth_unserved(CIRCUITS, text) == unserved
