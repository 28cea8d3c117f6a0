"""Planned maintenance still to come on the customer's circuits, told when the status question asks about it
("最近有没有计划维护", "any maintenance planned?"): the notices went out by SMS, and may have been missed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import List

from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services
from carecore.model import Circuit
from carecore.texts import bullet_lines, fmt_time

# The operator's own network upgrades ("你们什么时候升级网络") are planned work too; the customer's bandwidth is not.
MAINTENANCE_QUESTION = re.compile(r"维护|割接|检修|施工|(?:网络|设备|系统)\S{0,2}升级|升级\S{0,2}(?:网络|设备|系统)|maintenance|"
                                  r"planned work|cutover|network upgrade|upgrad\w* (?:the|your) network", re.I)
AHEAD = timedelta(days=14)  # how far ahead the answer looks


async def tell_planned_work(svc: Services, circuits: List[Circuit], dispatcher: CollectingDispatcher, lang: str,
                            *, under_way: bool) -> None:
    """The windows to come; with none, that none is announced, unless maintenance is under way (``under_way``): the
    status told of it, and "when will the maintenance end" asks of that one."""
    now = svc.clock.now()
    ids = [c.circuit_id for c in circuits]
    windows = await svc.db.maintenance.upcoming_for_circuits(ids, now, now + AHEAD)
    if not windows:
        if not under_way:
            dispatcher.utter_message(response="utter_no_maintenance_planned", days=AHEAD.days)
        return
    lines = []
    for window in windows:
        start, end = fmt_time(window.start, lang, svc.clock.tz), fmt_time(window.end, lang, svc.clock.tz)
        on = ", ".join(c for c in window.circuit_ids if c in ids)
        lines.append(f"{window.id} {start} to {end}, {on}: {window.description_en}" if lang == "en"
                     else f"{window.id} {start}至{end}，{on}：{window.description_zh}")
    dispatcher.utter_message(response="utter_maintenance_planned", lines=bullet_lines(lines), days=AHEAD.days)
