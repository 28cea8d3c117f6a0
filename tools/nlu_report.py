"""5-fold NLU cross-validation with intent macro-F1 per language (``make nlu-report``).

Rasa's cross-validation reports one figure for the whole data set; a bilingual
model can hide a weak language behind a strong one. This runs Rasa's own
cross-validation, then rebuilds each example's prediction (correct unless it is
in ``intent_errors.json``) and scores Chinese and English examples separately.
Mixed messages ("专线又down了") count as Chinese, as ``detect_language`` does.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carecore.texts import detect_language  # noqa: E402


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


def per_language(nlu_dir: Path, errors_file: Path) -> Dict[str, Dict[str, float]]:
    data = load_data(str(nlu_dir))
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    wrong: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    for err in errors:
        wrong[(err["text"], err["intent"])].append(err["intent_prediction"]["name"])
    pairs: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for example in data.intent_examples:
        text, intent = example.get("text"), example.get("intent")
        lang = detect_language(text) or "zh"
        predicted = wrong[(text, intent)].pop() if wrong.get((text, intent)) else intent
        pairs[lang].append((intent, predicted))
    return {
        lang: {"examples": len(p), "macro_f1": round(macro_f1(p), 4),
               "accuracy": round(sum(g == q for g, q in p) / len(p), 4)}
        for lang, p in sorted(pairs.items())
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu")
    parser.add_argument("--skip-run", action="store_true", help="only re-score an existing run")
    args = parser.parse_args()
    if not args.skip_run:
        rasa = str(Path(sys.executable).with_name("rasa"))
        subprocess.run([rasa, "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml", "--cross-validation",
                        "--folds", str(args.folds), "--out", str(args.out)], cwd=ROOT, check=True)
    report = per_language(ROOT / "data" / "nlu", args.out / "intent_errors.json")
    (args.out / "per_language.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for lang, figures in report.items():
        print(f"intent macro-F1 [{lang}]: {figures['macro_f1']:.3f} "
              f"(accuracy {figures['accuracy']:.3f}, {figures['examples']} examples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
