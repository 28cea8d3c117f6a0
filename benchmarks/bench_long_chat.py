"""Per-message cost in one long conversation (``make bench-long-chat``): does turn 120 cost what turn 5 does?

One web chat session of 120 turns, alternating Chinese and English, on the product as ``make run`` starts
it and otherwise idle: a question, the mobile, the one-time code from the Twilio emulator, then account
questions round and round. Each turn's round trip is timed; the figure is the median of turns 111-120
over the median of turns 1-10 (goal <= 1.5). Both windows come from the same run, so a machine
that swings by a third within minutes moves them together, not the ratio.

It also prints what MongoDB holds for the conversation at the end: the live tracker document's events
(bounded, ``bot/tracker_store.py``) and the archived ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import write_results  # noqa: E402

from carecore.repository import inspection_handle  # noqa: E402
from tests.stack import Stack  # noqa: E402

MOBILE = "13800000010"  # the first contact of the first demo customer
OPENING = ["你好", "上个月话费多少", MOBILE, "{code}"]
ROUND = ["我们的客户经理是谁", "what is our SLA for faults", "专线现在正常吗", "how much was our bill last month",
         "查一下我的工单", "are all our circuits up", "帮我查一下我们单位上个月的费用", "who is our account manager",
         "故障多久能修好", "any update on my ticket", "谢谢", "thanks"]
WINDOWS = ((1, 10), (51, 60), (111, 120))


def script(turns: int) -> List[str]:
    texts = list(OPENING)
    while len(texts) < turns:
        texts.append(ROUND[(len(texts) - len(OPENING)) % len(ROUND)])
    return texts[:turns]


def median_ms(latencies: List[float], first: int, last: int) -> float:
    return round(statistics.median(latencies[first - 1:last]), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-long-chat-") as tmp:
        stack = Stack(Path(tmp), demo_customers=20)
        print("starting the product (make run's stack) …", flush=True)
        stack.start()
        try:
            latencies: List[float] = []
            for text in script(args.turns):
                if text == "{code}":
                    text = stack.latest_code("+86" + MOBILE) or "000000"
                started = time.perf_counter()
                replies = stack.say("long", text)
                latencies.append((time.perf_counter() - started) * 1000)
                if not replies:
                    raise SystemExit(f"turn {len(latencies)} ({text!r}) got no answer")
            conversation = stack.chats["long"]["session_id"]
            db = inspection_handle("127.0.0.1", stack.mongo_port, stack.env.get("MONGODB_DB", "keycare"))
            live = db.conversations.find_one({"sender_id": conversation}, {"events": 1}) or {}
            archived = list(db.conversation_archive.find({"sender_id": conversation}, {"events": 1}))
            stored = {"live_events": len(live.get("events", [])), "live_bytes": len(json.dumps(live, default=str)),
                      "archived_events": sum(len(a["events"]) for a in archived), "archive_chunks": len(archived)}
        finally:
            stack.stop()
    windows = {f"turns {a}-{b}": median_ms(latencies, a, b) for a, b in WINDOWS if b <= len(latencies)}
    first, last = windows["turns 1-10"], list(windows.values())[-1]
    ratio = round(last / first, 2)
    results: Dict[str, Any] = {"turns": len(latencies), "median_ms": windows, "ratio": ratio, "stored": stored,
                               "latencies_ms": [round(x, 1) for x in latencies]}
    for name, ms in windows.items():
        print(f"  median round trip, {name}: {ms:7.1f} ms")
    print(f"  stored: live document {stored['live_events']} events ({stored['live_bytes']:,} bytes), "
          f"archived {stored['archived_events']} events in {stored['archive_chunks']} chunks")
    ok = ratio <= 1.5
    print(f"  last/first window: {ratio}   [{'meets' if ok else 'MISSES'} <= 1.5]")
    write_results("bench_long_chat", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
