"""``make bench-bot BENCH_ARGS=--cluster``: the assistant's throughput through HAProxy with one Rasa server
and with two, side by side, on `make cluster`'s topology (3-member replica set, Redis lock store).

The same simulated customers and scripts as ``bench_bot.py``. There is no goal on this machine's 2 cores,
where two Rasa servers share the CPUs with everything else; the figures size ``docs/capacity.md``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench_bot import SCRIPTS, WARM_UP_CONVERSATIONS, Conversations, Target, contact_pool, customers_for, drive
from bench_bot import emulator_code_lookup as code_lookup
from harness import write_results

from carecore.config import Settings
from localrun.cluster import Cluster, Ports


def measure(rasa_servers: int, *, users: int, messages: int, customers: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-cluster-{rasa_servers}-") as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(var_dir=tmp / "var", twilio_account_sid=None, twilio_auth_token=None, mongodb_uri=None)
        cluster = Cluster(settings, Ports.free(rasa=rasa_servers, actions=2, care=1), tmp / "cluster",
                          demo_customers=customers,  # every simulated customer chats from 127.0.0.1
                          extra_env={"CHAT_SESSIONS_PER_ADDRESS": "100000"})
        try:
            started = time.perf_counter()
            cluster.start()
            print(f"{rasa_servers} Rasa server(s): cluster started in {time.perf_counter() - started:.0f} s", flush=True)
            bot = cluster.ports.url(cluster.ports.bot)
            target = Target(f"cluster{rasa_servers}", f"{bot}/webhooks/rest/webhook",
                            code_lookup(cluster.ports.url(cluster.ports.emulator)), f"{bot}/webhooks/rest/session")
            mobiles = contact_pool(customers)
            asyncio.run(drive(target, customers_for(mobiles, users), Conversations(WARM_UP_CONVERSATIONS),
                              messages=users * len(SCRIPTS["zh"]), warm_up=False))
            result = asyncio.run(drive(target, customers_for(mobiles, users), Conversations(), messages=messages))
        finally:
            cluster.stop()
    latencies: List[float] = result["latencies"]
    q = statistics.quantiles(latencies, n=100)
    return {"rasa_servers": rasa_servers, "messages": len(latencies), "errors": result["errors"],
            "throughput_msgs_s": round(len(latencies) / result["wall_s"], 1), "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1)}


def main(users: int, messages: int, customers: int) -> int:
    results = [measure(n, users=users, messages=messages, customers=customers) for n in (1, 2)]
    for r in results:
        print(f"  {r['rasa_servers']} Rasa server(s): {r['throughput_msgs_s']:6.1f} msgs/s  p50 {r['p50_ms']:7.1f} ms  "
              f"p95 {r['p95_ms']:7.1f} ms  ({r['messages']:,} messages, {r['errors']} errors)")
    print(f"  two over one: {results[1]['throughput_msgs_s'] / results[0]['throughput_msgs_s']:.2f}x throughput "
          "(2 cores shared by every process of the cluster)")
    write_results("bench_cluster", {"users": users, "runs": results})
    return 0 if all(r["errors"] == 0 for r in results) else 1
