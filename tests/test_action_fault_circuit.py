"""The circuit a fault report is about: the list to choose from, and what is told of the one chosen."""

from __future__ import annotations

from datetime import datetime, timezone

from rasa_sdk.executor import CollectingDispatcher

from actions import forms
from actions.services import Services
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, tracker


async def test_a_circuit_with_a_fault_open_is_told_of_its_ticket_when_chosen(svc: Services, domain) -> None:
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    t = tracker(slots=VERIFIED_A, active_loop="fault_form")
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    assert dispatcher.messages == []  # nothing open on it
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0007", status="acknowledged"))
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0008", kind="complaint", circuit_id=None,
                                                 sla={"response_due": factories.ticket()["created_at"]}))
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    told = dispatcher.messages[-1]  # the fault's ticket, not the complaint's
    assert {k: told[k] for k in ("response", "ticket_id", "opened", "restore_due")} == {
        "response": "utter_fault_open_on_circuit", "ticket_id": "FT-20261123-0007", "opened": "11月23日10:00",
        "restore_due": "11月23日14:00"}
    en = CollectingDispatcher()
    await form.validate_fault_circuit("1", en, tracker(slots=VERIFIED_A_EN, active_loop="fault_form"), domain)
    assert (en.messages[-1]["opened"], en.messages[-1]["restore_due"]) == ("23 Nov 10:00", "23 Nov 14:00")


async def test_a_circuit_whose_fault_was_resolved_lately_is_told_of_its_ticket(svc: Services, domain) -> None:
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    t = tracker(slots=VERIFIED_A, active_loop="fault_form")
    fixed = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)  # 09:30, half an hour ago
    await svc.db.tickets.create(factories.ticket(_id="FT-20261122-0003", status="resolved", resolved_at=fixed))
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    told = only(dispatcher.messages)
    assert {k: told[k] for k in ("response", "ticket_id", "resolved")} == {
        "response": "utter_fault_fixed_lately", "ticket_id": "FT-20261122-0003", "resolved": "11月23日09:30"}
