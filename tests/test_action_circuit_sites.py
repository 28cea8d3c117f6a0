"""Which circuit a place in a message names: part of one end no other circuit has, in characters or in pinyin."""

from __future__ import annotations

from typing import Optional

import pytest

from actions.circuit_sites import place_elsewhere, place_shared, sited
from carecore.model import Circuit

SITED = [Circuit(circuit_id="ZJ-ZX-0000007-1", type="leased_line", bandwidth="100M", sla_class="premium",
                 a_end="温州鼎盛大厦", z_end="南京数据中心"),
         Circuit(circuit_id="ZJ-155M-0000007-2", type="digital_155m", bandwidth="155M", sla_class="premium",
                 a_end="温州长城大厦", z_end="武汉数据中心"),
         Circuit(circuit_id="ZJ-ZX-0000007-3", type="leased_line", bandwidth="100M", sla_class="basic",
                 a_end="温州联创大厦", z_end="杭州数据中心"),
         Circuit(circuit_id="ZJ-ZX-0000007-4", type="leased_line", bandwidth="100M", sla_class="basic")]


@pytest.mark.parametrize("text, as_a_line, fits", [
    ("长城大厦那个", False, "ZJ-155M-0000007-2"), ("到杭州的", False, "ZJ-ZX-0000007-3"), ("武汉", False, "ZJ-155M-0000007-2"),
    ("温州", False, None), ("数据中心", False, None),  # every site has it
    ("杭州和武汉", False, None),  # two places, two circuits
    ("长城大厦那条断了", True, "ZJ-155M-0000007-2"), ("武汉那边的专线正常吗", True, "ZJ-155M-0000007-2"),
    ("鼎盛大厦的电路", True, "ZJ-ZX-0000007-1"),
    ("南京的同事说断了", True, None),  # where it was seen, not said as a line
    ("the line to Wuhan", True, "ZJ-155M-0000007-2"), ("our Hangzhou one is down", True, "ZJ-ZX-0000007-3"),
    ("the Changcheng building", False, "ZJ-155M-0000007-2"),  # 长城 read as a word, not the 长 of 州长
    ("Wuhan", False, "ZJ-155M-0000007-2"), ("wenzhou", False, None),  # every A end is in Wenzhou
    ("our colleague in Nanjing says it's down", True, None),  # where it was seen: not said as a line
    ("the line is down", True, None),  # English words that spell nothing of a site
])
def test_a_place_at_one_end_names_the_circuit_it_fits_alone(text: str, as_a_line: bool, fits: Optional[str]) -> None:
    found = sited(SITED, text, as_a_line=as_a_line)
    assert (found.circuit_id if found else None) == fits



@pytest.mark.parametrize("text, place", [
    ("我们苏州办公室的专线断了", "苏州"), ("上海那条专线不通了", "上海"), ("深圳分公司网络中断", "深圳"),
    ("武汉那边的网络很慢", None),  # an end of a circuit
    ("从北京访问很慢", None),  # where a symptom is seen from
    ("专线中断了", None), ("our Suzhou line is down", None),  # English is not read for places
])
def test_a_place_said_as_a_lines_that_no_circuit_ends_in(text: str, place: Optional[str]) -> None:
    assert place_elsewhere(SITED, text) == place
    assert place_elsewhere(SITED[3:], text) is None  # no ends known: nothing to tell it from


@pytest.mark.parametrize("text, shared", [
    ("温州那条", ("温州", 3)), ("the Wenzhou one", ("Wenzhou", 3)), ("数据中心", ("数据中心", 3)),
    ("武汉那条", None),  # one circuit's: sited, not shared
    ("第五条", None),
])
def test_a_place_several_circuits_end_in_is_told_as_shared(text: str, shared: Optional[tuple]) -> None:
    """"深圳那条", when all three start in Shenzhen, had been told it names no circuit of theirs."""
    assert place_shared(SITED, text) == shared
