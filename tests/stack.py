"""The whole product as `make run` starts it, on free ports in a throwaway folder.

Used by the end-to-end test, the bot benchmark and the drills: Rasa server,
action server, care service, mongod and the Twilio emulator, all started by the
product's own supervisor. Needs the trained model (`make train`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from carecore import repository
from carecore.sms import signature
from localrun.mongod import free_port

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "keycare.tar.gz"
TOKEN = "e2e-emulator-token"
CHAT_KEY = "e2e-chat-token-key-0123456789abcdef0123"  # drills sign expired and foreign tokens with it
PORTAL_KEY, PORTAL_ISSUER = "e2e-portal-key-0123456789abcdef012345", "https://portal.e2e.example"


class Stack:
    def __init__(self, tmp: Path, *, demo_customers: int = 20) -> None:
        self.mongo_port, self.emulator_port = free_port(), free_port()
        self.rasa_port, self.action_port, self.care_port = free_port(), free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MONGODB_", "CARE_", "PUBLIC_"))}
        self.env.update(CARE_PORT=str(self.care_port),
            VAR_DIR=str(tmp / "var"), EMBEDDED_MONGO_PORT=str(self.mongo_port), EMULATOR_PORT=str(self.emulator_port),
            RASA_PORT=str(self.rasa_port), ACTION_SERVER_PORT=str(self.action_port), DEMO_CUSTOMERS=str(demo_customers),
            EMULATOR_AUTH_TOKEN=TOKEN, CHAT_TOKEN_SECRET=CHAT_KEY,
            PORTAL_JWT_KEY=PORTAL_KEY, PORTAL_JWT_ISSUER=PORTAL_ISSUER, BOT_PUBLIC_URL=f"http://127.0.0.1:{self.rasa_port}", RASA_API_TOKEN="e2e",
            METRICS_RECOUNT_S="0",  # every scrape counts the sends log afresh: the tests wait for a count to change
            CHAT_SESSIONS_PER_ADDRESS="100000",  # every simulated customer chats from 127.0.0.1
        )
        self.var = tmp / "var"
        self.chats: Dict[str, Dict[str, Any]] = {}  # a test's name for a chat -> the session the server opened
        self.lines: List[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 420) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "localrun.supervisor"], cwd=ROOT, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)
                if "ready:" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout_s):
            self.stop()
            raise AssertionError("stack never became ready:\n" + "".join(self.lines[-80:]))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        repository.shutdown_server("127.0.0.1", self.mongo_port)

    def open_chat(self, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A new chat session (``session_id``, ``token``), as the web chat page opens one."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/session",
                                     data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def say(self, chat: str, text: str) -> List[str]:
        """Send ``text`` in the chat a test calls ``chat`` (opened on first use); the replies' texts."""
        session = self.chats.get(chat) or self.chats.setdefault(chat, self.open_chat())
        req = urllib.request.Request(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
                                     data=json.dumps({"message": text}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {session['token']}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return [m.get("text", "") for m in json.load(resp)]

    def sms(self, from_: str, text: str, sid: str) -> int:
        url = f"http://127.0.0.1:{self.rasa_port}/webhooks/twilio_sms/webhook"
        params = {"MessageSid": sid, "From": from_, "To": "+8610690000", "Body": text}
        req = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),
                                     headers={signature.HEADER: signature.sign(TOKEN, url, params)})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status

    def emulator_messages(self, to: Optional[str] = None) -> List[Dict[str, Any]]:
        """The SMS the emulator has taken, oldest first; only those to ``to`` (E.164) if given."""
        query = "?" + urllib.parse.urlencode({"to": to}) if to is not None else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.emulator_port}/_emulator/messages{query}",
                                    timeout=10) as resp:
            return json.load(resp)["messages"]

    def latest_code(self, number: str) -> Optional[str]:
        return latest_code(self.emulator_messages(to=number))


CODE_WORDS = ("验证码", "code")
_CODE = re.compile(r"[0-9]{6}")


def latest_code(messages: List[Dict[str, Any]]) -> Optional[str]:
    """The one-time code in the latest code SMS among ``messages`` (oldest first), if any.

    Only code messages count: the care service may greet the same contact meanwhile.
    """
    bodies = [m["body"] for m in messages if any(word in m["body"].lower() for word in CODE_WORDS)]
    match = _CODE.search(bodies[-1]) if bodies else None
    return match.group(0) if match else None
