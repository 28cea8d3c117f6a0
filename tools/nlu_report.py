"""5-fold NLU cross-validation per language, and how well intents survive everyday wrapping (``make nlu-report``).

Rasa's cross-validation reports one figure for the whole data set; a bilingual model can hide a weak
language behind a strong one, so each held-out example is scored in its own language (mixed messages,
"专线又down了", count as Chinese, as ``detect_language`` does).

Customers wrap requests in words of their own ("帮我查一下…", "你好，…", "…，谢谢", "hi, …"). Each fold's
model also reads its held-out requests inside every wrapper of their language below; the share of
wrapped messages given the intent of the bare request is reported. Only requests the bare form got
right are wrapped, so the share measures the wrapping alone. Social and form-answer intents
("你好", "谢谢", a code, "yes") are not wrapped: a greeting around a greeting says nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

from rasa.core.agent import Agent
from rasa.model_training import train_nlu
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carecore.texts import detect_language  # noqa: E402

# "{}" is the held-out example. Chinese examples get the Chinese wrappers, English ones the English.
# The last three of each are not among the words the tokenizer sets aside (carecore/courtesy.py): the model
# itself must hold on to the intent there.
WRAPPERS: Dict[str, Tuple[str, ...]] = {
    "zh": ("你好，{}", "您好，{}", "帮我查一下{}", "麻烦帮我看看{}", "请问{}", "{}，谢谢", "{}，谢谢！",
           "你好，请问{}", "您好，打扰一下，{}", "你好，{}，谢谢", "麻烦问一下，{}", "{}，麻烦了",
           "对了，{}", "另外，{}", "{}呀"),
    "en": ("hi, {}", "hello, {}", "hi there, {}", "good morning, {}", "hey, {}", "excuse me, {}", "{}, thanks",
           "{} thank you", "{}, thanks!", "hi, {}, thanks", "hello, {} please", "sorry to bother you, {}",
           "so, {}", "ok, {}", "{} asap"),
}
NOT_WRAPPED = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "cancel", "rate_service"}


def macro_f1(pairs: List[Tuple[str, str]]) -> float:
    labels = sorted({gold for gold, _ in pairs})
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def language(text: str) -> str:
    return detect_language(text) or "zh"


def folds(data: TrainingData, n: int, seed: int) -> List[Tuple[TrainingData, List[Message]]]:
    """Stratified folds, as Rasa's own cross-validation makes them, but the same ones on every run."""
    examples = data.intent_examples
    split = StratifiedKFold(n_splits=n, shuffle=True, random_state=seed)
    result = []
    for train_index, test_index in split.split(examples, [e.get_full_intent() for e in examples]):
        train = TrainingData(training_examples=[examples[i] for i in train_index],
                             regex_features=data.regex_features, lookup_tables=data.lookup_tables)
        result.append((train, [examples[i] for i in test_index]))
    return result


async def intents(agent: Agent, texts: List[str]) -> List[str]:
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


async def ranked(agent: Agent, text: str) -> Tuple[str, List[Tuple[str, float]]]:
    """The intent given (``nlu_fallback`` when unsure) and the classifier's top three."""
    parsed = await agent.parse_message(text)
    ranking = [(r["name"], round(r["confidence"], 4)) for r in parsed.get("intent_ranking", [])
               if r["name"] != "nlu_fallback"]
    return parsed["intent"]["name"], ranking[:3]


async def score_fold(agent: Agent, held_out: List[Message], pairs: Dict[str, List[Tuple[str, str]]],
                     kept: Dict[str, List[bool]], predictions: List[Dict[str, Any]],
                     losses: List[Dict[str, str]]) -> None:
    for example in held_out:
        text, gold = example.get("text"), example.get("intent")
        lang = language(text)
        predicted, ranking = await ranked(agent, text)
        pairs[lang].append((gold, predicted))
        predictions.append({"text": text, "intent": gold, "predicted": predicted, "ranking": ranking})
        if gold in NOT_WRAPPED or predicted != gold:
            continue
        wrapped = [wrapper.format(text) for wrapper in WRAPPERS[lang]]
        answers = await intents(agent, wrapped)
        kept[lang].extend(answer == gold for answer in answers)
        losses.extend({"text": w, "intent": gold, "predicted": a} for w, a in zip(wrapped, answers, strict=True)
                      if a != gold)


async def run(n_folds: int, seed: int, out: Path) -> Dict[str, Dict[str, float]]:
    data = load_data(str(ROOT / "data" / "nlu"))
    pairs: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    kept: Dict[str, List[bool]] = defaultdict(list)
    predictions: List[Dict[str, Any]] = []
    losses: List[Dict[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (train, held_out) in enumerate(folds(data, n_folds, seed), start=1):
            print(f"fold {number}/{n_folds}: training on {len(train.intent_examples)} examples", flush=True)
            data_file = Path(tmp) / "train.yml"
            RasaYAMLWriter().dump(data_file, train)
            model = train_nlu(str(ROOT / "config.yml"), str(data_file), str(Path(tmp) / f"fold{number}"))
            await score_fold(Agent.load(model), held_out, pairs, kept, predictions, losses)
    for name, rows in (("predictions.json", predictions), ("wrapping_losses.json", losses)):  # bare and wrapped
        (out / name).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return {
        lang: {"examples": len(p), "macro_f1": round(macro_f1(p), 4),
               "accuracy": round(sum(g == q for g, q in p) / len(p), 4),
               "wrapped_messages": len(kept[lang]), "wrappers": len(WRAPPERS[lang]),
               "kept_share": round(sum(kept[lang]) / len(kept[lang]), 4) if kept[lang] else 0.0}
        for lang, p in sorted(pairs.items())
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(run(args.folds, args.seed, args.out))
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for lang, figures in report.items():
        print(f"[{lang}] intent macro-F1 {figures['macro_f1']:.3f} (accuracy {figures['accuracy']:.3f}, "
              f"{figures['examples']} held-out examples); intent kept when wrapped: {figures['kept_share']:.1%} "
              f"of {figures['wrapped_messages']:,} wrapped messages ({figures['wrappers']} wrappers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
