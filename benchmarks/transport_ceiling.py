"""How fast twilio-python alone can hand messages to the emulator: the dispatch benchmark's upper bound.

``make bench-dispatch`` runs this as a child after the campaign: the same
transport the gateway uses (``TwilioTransport``, twilio-python's async client
over aiohttp), the same concurrency, the same emulator process, and nothing
else: no database, no planning, no records. Whatever the campaign does around
each call can only make it slower, so this rate is the most the end-to-end
figure could reach on this machine with the real client library.

Usage (as a child): ``python benchmarks/transport_ceiling.py URL MESSAGES CONCURRENCY``;
prints one JSON line with the rate and this process's CPU per message.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER  # noqa: E402

from carecore.sms.transports import TwilioTransport  # noqa: E402

BODY = "【客户关怀】张经理，今天是您的生日，中国电信政企客户部祝您生日快乐、万事顺意！"


async def send_all(url: str, messages: int, concurrency: int) -> float:
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, base_url=url)
    queue = iter(range(messages))

    async def worker() -> None:
        for index in queue:
            await transport.create(f"+86139{index:08d}", BODY, None)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await transport.close()
    return time.perf_counter() - started


def main() -> int:
    url, messages, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cpu_before = sum(os.times()[:2])
    elapsed = asyncio.run(send_all(url, messages, concurrency))
    cpu = sum(os.times()[:2]) - cpu_before
    print(json.dumps({"messages": messages, "concurrency": concurrency, "elapsed_s": round(elapsed, 1),
                      "msgs_per_s": round(messages / elapsed, 1),
                      "sender_cpu_ms_per_msg": round(cpu * 1000 / messages, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
