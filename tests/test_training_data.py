"""The training data is what the issue asks for: varied examples per intent in each language."""

from __future__ import annotations

from collections import Counter, defaultdict

from rasa.shared.nlu.training_data.loading import load_data

from carecore.texts import detect_language

REQUIRED_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "ask_account_summary", "ask_account_manager",
    "ask_usage", "ask_service_status", "ask_sla", "ask_ticket_status", "report_fault", "file_complaint",
    "request_human", "report_bill_not_received", "opt_out_sms", "opt_in_sms", "change_language",
}


def test_at_least_25_distinct_examples_per_intent_and_language() -> None:
    data = load_data("data/nlu")
    per: dict = defaultdict(set)
    for example in data.intent_examples:
        text = example.get("text")
        per[(example.get("intent"), detect_language(text) or "zh")].add(text.lower())
    assert REQUIRED_INTENTS <= {intent for intent, _ in per}
    short = {key: len(texts) for key, texts in per.items() if len(texts) < 25}
    assert short == {}, short
    duplicates = [t for t, n in Counter(e.get("text") for e in data.intent_examples).items() if n > 1]
    assert duplicates == []
