"""TED is skipped only where its prediction could not have won: every decision stays what stock Rasa makes.

The trained model (``make train``, which ``make test`` runs first) predicts the
next action at every action step of the test stories, the training stories and
rules, and of off-script variants of them (each user turn replaced by other
intents, so digressions, fallbacks and turns no rule foresaw are included). It
predicts twice: once as configured, once with the skip turned off (TED always
runs, as in stock Rasa). Action, policy and confidence must agree at every step.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator, List, Tuple

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.test import _create_data_generator
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import policies, rasa_compat

ROOT = Path(__file__).resolve().parents[1]
STORY_FILES = [ROOT / "tests" / "test_stories.yml", ROOT / "data" / "stories.yml", ROOT / "data" / "rules.yml"]


@pytest.fixture(autouse=True)
def skipping() -> Iterator[None]:
    rasa_compat.install("ted_skip")
    yield
    rasa_compat.uninstall()


def _prefixes(tracker: DialogueStateTracker) -> Iterator[List[Event]]:
    """The conversation as it stood before each action the story runs."""
    events = list(tracker.events)
    for index, event in enumerate(events):
        if isinstance(event, ActionExecuted) and index > 0:
            yield events[:index]


def _decide(agent: Agent, events: List[Event]) -> Tuple[str, str, float]:
    # A fresh tracker each time: predicting consumes a pending followup action.
    tracker = DialogueStateTracker.from_events("story", events, agent.domain.slots)
    prediction: PolicyPrediction = agent.processor._predict_next_with_tracker(tracker)  # type: ignore[union-attr]
    best = int(np.argmax(prediction.probabilities))
    return agent.domain.action_names_or_texts[best], str(prediction.policy_name), round(prediction.max_confidence, 6)


def _story_trackers(agent: Agent) -> List[DialogueStateTracker]:
    trackers: List[DialogueStateTracker] = []
    for path in STORY_FILES:
        trackers.extend(_create_data_generator(str(path), agent).generate_story_trackers())
    return trackers


def _off_script(prefixes: List[List[Event]], intents: List[str]) -> Iterator[List[Event]]:
    pick = random.Random(7)
    for events in prefixes:
        last = events[-1]
        if isinstance(last, UserUttered):
            for intent in pick.sample(intents, 2):
                yield [*events[:-1], UserUttered(last.text, {INTENT_NAME_KEY: intent, "confidence": 1.0}, last.entities)]


def test_skipping_ted_changes_no_decision(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    prefixes = [p for tracker in _story_trackers(agent) for p in _prefixes(tracker)]
    prefixes += list(_off_script(prefixes, list(agent.domain.intents)))
    assert len(prefixes) > 400

    answers: List[bool] = []
    settled_for = policies.settled_for

    def counting(tracker: DialogueStateTracker, *, below: int) -> bool:
        answers.append(settled_for(tracker, below=below))
        return answers[-1]

    monkeypatch.setattr(policies, "settled_for", counting)
    ours = [_decide(agent, p) for p in prefixes]
    skipped = sum(answers)

    monkeypatch.setattr(policies, "settled_for", lambda tracker, below: False)
    stock = [_decide(agent, p) for p in prefixes]

    differing = [(p[-1], o, s) for p, o, s in zip(prefixes, ours, stock, strict=True) if o != s]
    assert differing == []
    # TED still runs where no rule or story is certain, and is skipped on most turns.
    assert len(prefixes) / 2 < skipped < len(prefixes)


def test_a_note_only_serves_its_own_tracker_and_turn(agent: Agent) -> None:
    domain = agent.domain
    greet = UserUttered("你好", {INTENT_NAME_KEY: "greet", "confidence": 1.0})
    tracker = DialogueStateTracker.from_events("a", [ActionExecuted("action_listen"), greet], domain.slots)
    other = DialogueStateTracker.from_events("b", [ActionExecuted("action_listen"), greet], domain.slots)
    certain = PolicyPrediction([1.0], "RulePolicy", policy_priority=6)

    policies.note(certain, tracker)
    assert not policies.settled_for(other, below=1)
    assert policies.settled_for(tracker, below=1)
    assert not policies.settled_for(tracker, below=6)  # an equal or higher priority could still win
    tracker.update(ActionExecuted("utter_greet"))
    assert not policies.settled_for(tracker, below=1)  # a later turn of the same conversation

    policies.note(certain, tracker)
    policies.note(PolicyPrediction([0.3], "RulePolicy", policy_priority=6), tracker)  # weaker, after a certain one
    assert policies.settled_for(tracker, below=1)

    policies.forget()
    policies.note(PolicyPrediction([0.9], "MemoizationPolicy", policy_priority=3), tracker)
    assert not policies.settled_for(tracker, below=1)
    policies.note(PolicyPrediction([0.2], "RulePolicy", policy_priority=6, is_no_user_prediction=True), tracker)
    assert policies.settled_for(tracker, below=1)  # a loop's happy path overrules everything

    rejected = DialogueStateTracker.from_events(
        "c", [ActionExecuted("action_listen"), greet, ActionExecutionRejected("verification_form")], domain.slots)
    policies.note(certain, rejected)
    assert not policies.settled_for(rejected, below=1)  # the ensemble zeroes the rejected action: TED must run
    policies.forget()
