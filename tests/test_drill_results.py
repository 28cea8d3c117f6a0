"""The drills' bookkeeping: one drill replayed alone draws what it drew in the full run, and a partial
run keeps the other drills' latest results in ``results/drills.json``."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _drills():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("drills_under_test", ROOT / "benchmarks" / "drills.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drills = _drills()


def test_a_drill_draws_the_same_alone_as_after_the_others() -> None:
    full_run = {name: drills.drill_rng(385289712, name) for name in ("kill", "twilio", "disclosure")}
    kill_points = full_run["kill"].sample(range(500, 9_500), 5)  # the kill drill draws first in a full run
    twilio_full = full_run["twilio"].sample(range(5_000), 40)

    alone = drills.drill_rng(385289712, "twilio")  # --only twilio --seed 385289712
    assert alone.sample(range(5_000), 40) == twilio_full
    assert drills.drill_rng(385289712, "kill").sample(range(500, 9_500), 5) == kill_points
    assert drills.drill_rng(385289713, "twilio").sample(range(5_000), 40) != twilio_full
    assert drills.drill_rng(385289712, "disclosure").random() != drills.drill_rng(385289712, "twilio").random()


def _result(name: str, passed: bool = True, **counts: object):
    return drills.DrillResult(name, passed, dict(counts), [])


def test_a_partial_run_replaces_its_drills_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "drills.json"
    full = [_result("kill and restart", duplicates=0), _result("twilio faults", duplicates=0),
            _result("hostile input", server_errors=0)]
    path.write_text(json.dumps(drills.merged_results(path, 11, full)), encoding="utf-8")

    rerun = [_result("twilio faults", False, duplicates=1, seed=22)]
    merged = drills.merged_results(path, 22, rerun)

    by_name = {d["name"]: d for d in merged["drills"]}
    assert list(by_name) == ["kill and restart", "hostile input", "twilio faults"]
    assert by_name["twilio faults"]["passed"] is False and by_name["twilio faults"]["counts"]["duplicates"] == 1
    assert by_name["kill and restart"]["counts"] == {"duplicates": 0, "seed": 11}  # the seed it ran with
    assert by_name["twilio faults"]["counts"]["seed"] == 22
    assert merged["seed"] == 22


def test_no_readable_previous_file_leaves_this_run_alone(tmp_path: Path) -> None:
    path = tmp_path / "drills.json"
    assert drills.merged_results(path, 5, [_result("kill and restart")])["drills"][0]["name"] == "kill and restart"
    path.write_text("{not json", encoding="utf-8")
    assert [d["name"] for d in drills.merged_results(path, 5, [_result("hostile input")])["drills"]] == ["hostile input"]
    path.write_text("[1, 2]", encoding="utf-8")
    assert [d["name"] for d in drills.merged_results(path, 5, [_result("hostile input")])["drills"]] == ["hostile input"]
