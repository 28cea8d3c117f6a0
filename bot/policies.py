"""Rule and memoization policies that note a certain prediction, and a TED that then skips its forward pass.

A certain rule or memorised turn (confidence 1.0, higher priority) always wins Rasa's ensemble, so
TED's answer is thrown away; the note is matched by identity of the tracker and its last event, and
TED predicts as usual whenever its answer could matter (docs/assistant.md, "Rasa fixes"). A speed
patch: these classes predict exactly as Rasa's own unless ``bot.rasa_compat`` turns ``skipping`` on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, Event
from rasa.shared.core.trackers import DialogueStateTracker

CERTAIN = 1.0


@dataclass
class _Note:
    tracker: DialogueStateTracker
    last_event: Optional[Event]
    settled_at: int  # the highest priority of a certain prediction for this turn; 0: none


# The graph runs one prediction's policies one after another in one thread, and a
# note only counts for the very tracker object and last event it was made for.
_note: Optional[_Note] = None
_skipping = False


def skipping(on: bool) -> None:
    """Turn TED's skip on or off (``bot.rasa_compat`` does, as a speed patch)."""
    global _skipping
    _skipping = on


def _last_event(tracker: DialogueStateTracker) -> Optional[Event]:
    return tracker.events[-1] if tracker.events else None


def _after_rejection(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return True
        if isinstance(event, ActionExecuted):
            return False
    return False


def settles(prediction: PolicyPrediction, tracker: DialogueStateTracker) -> bool:
    """Whether no lower-priority prediction that is not end to end can win the ensemble over this one."""
    if _after_rejection(tracker):
        return False
    return prediction.is_no_user_prediction or prediction.max_confidence >= CERTAIN


def note(prediction: PolicyPrediction, tracker: DialogueStateTracker) -> None:
    """Record that ``prediction`` was made for ``tracker``; a certain prediction's note is not weakened by a later one."""
    global _note
    last = _last_event(tracker)
    earlier = _note.settled_at if _note is not None and _note.tracker is tracker and _note.last_event is last else 0
    now = prediction.policy_priority if settles(prediction, tracker) else 0
    _note = _Note(tracker, last, max(earlier, now))


def settled_for(tracker: DialogueStateTracker, *, below: int) -> bool:
    """Whether a certain prediction by a policy of priority above ``below`` was noted for this tracker and turn."""
    return (_note is not None and _note.tracker is tracker and _note.last_event is _last_event(tracker)
            and _note.settled_at > below)


def forget() -> None:
    global _note
    _note = None


class _NotesItsPrediction:
    """Mixed into a rule or memoization policy: after predicting, note whether the prediction settles the turn."""

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[str, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        prediction: PolicyPrediction = super().predict_action_probabilities(  # type: ignore[misc]
            tracker, domain, rule_only_data, **kwargs)
        note(prediction, tracker)
        return prediction


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class NotingMemoizationPolicy(_NotesItsPrediction, MemoizationPolicy):
    """Rasa's MemoizationPolicy, noting whether its prediction settles the turn."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class NotingRulePolicy(_NotesItsPrediction, RulePolicy):
    """Rasa's RulePolicy, noting whether its prediction settles the turn."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class SettledSkippingTEDPolicy(TEDPolicy):
    """Rasa's TEDPolicy, which does not run its model when a rule or memorised turn has settled the prediction."""

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[str, Any]] = None,
                                     precomputations: Any = None, **kwargs: Any) -> PolicyPrediction:
        settled = _skipping and precomputations is None and settled_for(tracker, below=self.priority)
        forget()  # a note serves one prediction and must not keep a conversation alive
        if settled:
            return self._prediction(self._default_predictions(domain))
        return super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
