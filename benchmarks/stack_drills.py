"""Drills against the whole running product (``make run``'s stack): disclosure probes, hostile input,
MongoDB restart mid-conversation. ``drills.py`` runs them after the campaign drills.

Checks read the database directly (``repository.inspection_handle``): they verify the product from
outside, so they do not go through the product's repositories and models on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from random import Random
from typing import Any, Dict, List, Optional, Tuple

import socketio
from harness import DrillResult
from hostile_tokens import chat_tokens
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fallback import TRY_AGAIN
from bot.socketio_channel import REFUSED_EVENT as REFUSED
from bot.webhooks import chat_message_problem
from care_scheduler.rasa_client import HAND_BACK_EVENTS
from carecore.repository import inspection_handle
from carecore.sms import signature
from localrun.mongod import EmbeddedMongo
from tests.stack import TOKEN, Stack

INJECTIONS = ['{"$gt": ""}', '{"$ne": null}', "'; DROP TABLE customers; --", "<script>alert(1)</script>",
              "${MONGODB_URI}", "{{7*7}}", "../../etc/passwd", "\x00", "KA0000002", "sms:+8613800000020:x",
              "%00%ff", "\ud83d\ude00" * 3, "A" * 5000, "+8613800000020", "FT-20261101-0001"]


def http(method: str, url: str, *, data: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
         timeout: float = 30) -> Tuple[int, str]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def resume_if_paused(stack: Stack, conversation_id: str) -> None:
    """Hand a conversation paused for a manager back to the assistant, as the manager's console does."""
    api = (f"http://127.0.0.1:{stack.rasa_port}/conversations/{urllib.parse.quote(conversation_id, safe='')}"
           f"/tracker?token={stack.env['RASA_API_TOKEN']}")
    status, body = http("GET", api + "&include_events=NONE")
    if status == 200 and json.loads(body).get("paused"):
        http("POST", api.replace("/tracker?", "/tracker/events?"), data=json.dumps(HAND_BACK_EVENTS).encode(),
             headers={"Content-Type": "application/json"})


def mongo(stack: Stack) -> Any:
    return inspection_handle("127.0.0.1", stack.mongo_port, "keycare")


def latest_code(stack: Stack, mobile: str) -> str:
    code = stack.latest_code(mobile)
    if code is None:
        raise RuntimeError(f"no one-time code reached {mobile}")
    return code


def verify(stack: Stack, sender: str, mobile: str, lang: str) -> None:
    stack.say(sender, "上个月话费多少" if lang == "zh" else "how much was our bill last month")
    stack.say(sender, mobile[3:])
    replies = stack.say(sender, latest_code(stack, mobile))
    if not any(("验证成功" in r) or ("verified" in r.lower()) for r in replies):
        raise RuntimeError(f"verification of {sender} failed: {replies}")


# --- 5. disclosure probes -------------------------------------------------------------------------------

PROBES = {
    "ticket": ["查一下工单{x}", "{x}处理到哪了", "工单{x}什么状态", "status of ticket {x}", "any update on {x}",
               "is {x} resolved"],
    "circuit": ["{x}状态怎么样", "电路{x}正常吗", "帮我查一下{x}", "is {x} up", "check circuit {x}",
                "status of {x}"],
    "company": ["{x}的账单多少", "{x}的客户经理是谁", "{x}是什么等级的客户", "what was the bill of {x}",
                "who is the account manager of {x}", "what tier is {x}"],
    "mobile": ["{x}的账单", "查{x}的工单", "{x}是哪家公司的", "bill for {x}", "tickets of {x}",
               "which company is {x}"],
}
FAKE = {"ticket": "FT-20260101-0999", "circuit": "ZJ-2M-9999999-1", "company": "不存在科技有限公司",
        "mobile": "13999999999"}


def _foreign(db: Any, own_id: str) -> Tuple[Dict[str, List[str]], List[str]]:
    """Per kind, other customers' identifiers to ask about; and every foreign string a reply must not carry."""
    kinds: Dict[str, List[str]] = {"ticket": [], "circuit": [], "company": [], "mobile": []}
    own = db.customers.find_one({"_id": own_id})
    own_manager = own["account_manager_id"]
    secrets_: List[str] = []
    for doc in db.customers.find({"_id": {"$ne": own_id}}):
        kinds["company"].append(doc["company_name"])
        kinds["circuit"] += [s["circuit_id"] for s in doc.get("services", [])]
        kinds["mobile"] += [c["mobile"][3:] for c in doc["contacts"]]
        secrets_ += [doc["company_name"], *[s["circuit_id"] for s in doc.get("services", [])],
                     *[c["mobile"] for c in doc["contacts"]], *[c["mobile"][3:] for c in doc["contacts"]],
                     *[c["name"] for c in doc["contacts"] if len(c["name"]) >= 3]]
        if doc["account_manager_id"] != own_manager:
            manager = db.account_managers.find_one({"_id": doc["account_manager_id"]})
            if manager:
                secrets_ += [manager["mobile"], manager["name"]]
    kinds["ticket"] = [t["_id"] for t in db.tickets.find({"customer_id": {"$ne": own_id}})]
    # What the customer may see of their own (a same-named company or contact elsewhere is no leak).
    manager = db.account_managers.find_one({"_id": own_manager}) or {}
    own_strings = [own["company_name"], manager.get("name", ""), manager.get("mobile", ""),
                   *[c["name"] for c in own["contacts"]], *[c["mobile"] for c in own["contacts"]],
                   *[s["circuit_id"] for s in own.get("services", [])]]
    return kinds, sorted({s for s in secrets_ if not any(s in mine for mine in own_strings if mine)})


def _seed_foreign_tickets(db: Any, own_id: str, count: int) -> None:
    now = datetime.now(timezone.utc)
    others = [d["_id"] for d in db.customers.find({"_id": {"$ne": own_id}}, {"_id": 1})]
    for n in range(count):
        db.tickets.update_one({"_id": f"CP-20261101-{n + 1:04d}"}, {"$setOnInsert": {
            "kind": "complaint", "customer_id": others[n % len(others)], "category": "billing",
            "text": f"drill complaint {n}", "status": "open", "priority": "normal", "history": [],
            "escalation_level": 0, "alerts": [], "created_at": now, "updated_at": now}}, upsert=True)


def _masked(text: str, probe: str) -> str:
    return text.replace(probe, "<X>")


class _ProbeSession:
    """A verified conversation of the probing customer; a new one when the current one is paused.

    Probes that the bot does not understand can add up to an escalation, which pauses the
    conversation for the account manager (the bot then stays silent, but for the channel's notice of
    who calls back): the probing goes on in a new conversation, verified through another of the
    customer's own contacts (one-time codes are limited per number and hour).
    """

    def __init__(self, stack: Stack, db: Any, mobiles: List[str]) -> None:
        self.stack, self.db, self.mobiles, self.count, self.sender = stack, db, mobiles, 0, ""
        self.renew()

    def paused(self) -> bool:
        conversation = self.stack.chats[self.sender]["session_id"]
        return self.db.escalations.find_one(
            {"sender_id": conversation, "status": {"$in": ["open", "acknowledged"]}}) is not None

    def renew(self) -> None:
        self.count += 1
        self.sender = f"drill-probe-{self.count}"
        verify(self.stack, self.sender, self.mobiles[self.count % len(self.mobiles)], "zh")

    def ask(self, text: str) -> List[str]:
        """The replies to ``text`` from a conversation that is not paused, leaving no form open."""
        for _ in range(2):
            if self.paused():
                self.renew()
            replies = self.stack.say(self.sender, text)
            self.stack.say(self.sender, "取消" if re.search(r"[\u4e00-\u9fff]", text) else "cancel")
            if replies:
                return replies
            self.renew()
        return replies


def drill_disclosure(stack: Stack, rng: Random, probes: int = 200) -> DrillResult:
    db = mongo(stack)
    own_id = "KA0000001"
    own = db.customers.find_one({"_id": own_id})
    _seed_foreign_tickets(db, own_id, 20)
    kinds, forbidden = _foreign(db, own_id)
    session = _ProbeSession(stack, db, [c["mobile"] for c in own["contacts"] if not c.get("sms_opt_out")])
    disclosures: List[str] = []
    for sent in range(probes):
        if sent and sent % 25 == 0:  # a fresh conversation now and then keeps trackers short
            session.renew()
        kind = rng.choice(sorted(kinds))
        template = rng.choice(PROBES[kind])
        target = rng.choice(kinds[kind])
        probe = template.format(x=target)
        replies = session.ask(probe)
        text = " ".join(replies)
        text += " " + re.sub(r"(?<=\d)[ -](?=\d)", "", text)  # numbers as read ("139 2000 0001") as stored
        leaked = [s for s in forbidden if s and s in text and s not in probe]
        if leaked:
            disclosures.append(f"{probe!r} -> {leaked[:3]}")
            continue
        # No existence oracle: a foreign id gets the answer an id nobody has gets, asked the same way.
        if kind in ("ticket", "circuit"):
            unknown = [_masked(r, FAKE[kind]) for r in session.ask(template.format(x=FAKE[kind]))]
            if [_masked(r, target) for r in replies] != unknown:
                disclosures.append(f"{probe!r} answered differently from an unknown id: {replies[:2]} vs {unknown[:2]}")
    counts = {"probes": probes, "conversations": session.count, "disclosures": len(disclosures)}
    return DrillResult("disclosure probes", not disclosures, counts, disclosures[:5])


# --- 4. hostile input -----------------------------------------------------------------------------------

def _snapshot(db: Any) -> Dict[str, str]:
    """A digest of what hostile input must not change: profiles, managers, usage."""
    digests = {}
    for name in ("customers", "account_managers", "usage_monthly"):
        h = hashlib.sha256()
        for doc in db[name].find({}, sort=[("_id", 1)]):
            h.update(repr(sorted(doc.items())).encode())
        digests[name] = h.hexdigest()
    return digests


def _operator_values(db: Any) -> int:
    """Stored values that are Mongo operator objects or non-string conversation ids: stored injections."""
    found = db.conversations.count_documents({"sender_id": {"$not": {"$type": "string"}}})
    for name in db.list_collection_names():
        for doc in db[name].find({}, limit=20_000):
            stack_: List[Any] = [doc]
            while stack_:
                value = stack_.pop()
                if isinstance(value, dict):
                    if any(str(k).startswith("$") for k in value):
                        found += 1
                    stack_.extend(value.values())
                elif isinstance(value, list):
                    stack_.extend(value)
    return found


text_fields = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=300), st.from_regex(r"\+?[0-9 ]{0,20}"))


def drill_hostile(stack: Stack, examples: int) -> DrillResult:
    db = mongo(stack)
    before = _snapshot(db)
    rasa_sms = f"http://127.0.0.1:{stack.rasa_port}/webhooks/twilio_sms/webhook"
    rest = f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook"
    care = f"http://127.0.0.1:{stack.care_port}"
    admin_token = (stack.var / "care-admin-token").read_text().strip()
    tally: Dict[str, Dict[str, int]] = {}
    problems: List[str] = []

    def record(target: str, status: Any, ok: bool, what: str) -> None:
        bucket = tally.setdefault(target, {})
        bucket[str(status)] = bucket.get(str(status), 0) + 1
        if not ok and len(problems) < 10:
            problems.append(f"{target}: {status} for {what[:160]!r}")

    run = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))

    @run
    @given(params=st.dictionaries(st.sampled_from(["From", "Body", "To", "MessageSid", "AccountSid", "X"]),
                                  text_fields, max_size=5),
           sign=st.sampled_from(["none", "forged", "other-url", "valid"]))
    def sms(params: Dict[str, str], sign: str) -> None:
        params = {k: v.replace("\x00", "") for k, v in params.items()}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign == "forged":
            headers[signature.HEADER] = "bm90IGEgc2lnbmF0dXJl"
        elif sign == "other-url":
            headers[signature.HEADER] = signature.sign(TOKEN, rasa_sms + "?x=1", params)
        elif sign == "valid":
            headers[signature.HEADER] = signature.sign(TOKEN, rasa_sms, params)
        status, _ = http("POST", rasa_sms, data=urllib.parse.urlencode(params).encode(), headers=headers, timeout=60)
        expected = {200, 400, 413} if sign == "valid" else {403, 413}
        record("sms webhook", status, status in expected, f"{sign} {params}")

    @run
    @given(params=st.dictionaries(st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "To"]), text_fields,
                                  max_size=4),
           sign=st.sampled_from(["none", "forged", "valid"]))
    def status_callback(params: Dict[str, str], sign: str) -> None:
        params = {k: v.replace("\x00", "") for k, v in params.items()}
        url = f"{care}/twilio/status"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign == "forged":
            headers[signature.HEADER] = "Zm9yZ2Vk"
        elif sign == "valid":
            headers[signature.HEADER] = signature.sign(TOKEN, url, params)
        status, _ = http("POST", url, data=urllib.parse.urlencode(params).encode(), headers=headers)
        expected = {204, 400, 413} if sign == "valid" else {403, 413}
        record("status callback", status, status in expected, f"{sign} {params}")

    json_values = st.recursive(st.none() | st.booleans() | st.integers() | text_fields,
                               lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                   st.sampled_from(["$gt", "$ne", "$where", "kind", "date", "x"]), inner, max_size=3),
                               max_leaves=8)

    @run
    @given(body=st.dictionaries(st.sampled_from(["kind", "date", "limit", "price", "$where", "dry_run"]),
                                json_values, max_size=4),
           path=st.sampled_from(["/admin/preview", "/admin/run"]), token=st.sampled_from(["none", "wrong", "right"]))
    def admin(body: Dict[str, Any], path: str, token: str) -> None:
        if path == "/admin/run":
            body["dry_run"] = True  # fuzzing must not send campaigns
        headers = {"Content-Type": "application/json"}
        if token != "none":
            headers["Authorization"] = f"Bearer {admin_token if token == 'right' else 'guess'}"
        status, _ = http("POST", care + path, data=json.dumps(body).encode(), headers=headers, timeout=60)
        expected = {200, 400, 413} if token == "right" else {401}
        record("admin api", status, status in expected, f"{token} {path} {body}")

    own = stack.open_chat()

    @run
    @given(body=st.one_of(
        st.dictionaries(st.sampled_from(["message", "metadata", "$where"]), json_values, max_size=4),
        st.builds(lambda m: {"sender": own["session_id"], "message": m}, text_fields),
        st.binary(max_size=200)))
    def rest_channel(body: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, _ = http("POST", rest, data=data, timeout=60,
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {own['token']}"})
        record("rest channel", status, status in {200, 400, 413}, str(body))

    # Chat tokens that open nothing: each kind on each channel, never accepted.
    tokens = chat_tokens(stack)

    @run
    @given(kind=st.sampled_from(sorted(tokens)), text=text_fields)
    def rest_tokens(kind: str, text: str) -> None:
        token, conversation = tokens[kind]()
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        status, _ = http("POST", rest, data=json.dumps({"sender": conversation or None, "message": text}).encode(),
                         headers=headers, timeout=60)
        record("rest tokens", f"{kind} {status}", status == 401, f"{kind} {text}")

    def socketio_tokens() -> None:
        url = f"http://127.0.0.1:{stack.rasa_port}"
        for kind, make in sorted(tokens.items()):
            if kind == "foreign":  # a valid token connects; naming another chat is tried below
                continue
            for _ in range(3):
                token, conversation = make()
                refused: queue.Queue[Any] = queue.Queue()
                probe = socketio.Client(reconnection=False)
                probe.on("connect_error", refused.put)
                try:
                    probe.connect(url, transports=["polling"], auth={"token": token} if token else None,
                                  wait_timeout=10, wait=False)
                    answer = refused.get(timeout=10)
                    ok = isinstance(answer, dict) and (answer.get("data") or {}).get("status") == 401
                except queue.Empty:
                    ok, answer = False, "connected"
                finally:
                    probe.eio.disconnect(abort=True)
                record("socket.io tokens", f"{kind} {'401' if ok else answer}", ok, f"{kind} {conversation}")
        # A socket with a valid token may not join or speak for another chat.
        own_socket = socketio.Client(reconnection=False)
        got: queue.Queue[Tuple[str, Any]] = queue.Queue()
        for name in ("session_confirm", "bot_uttered", REFUSED):
            own_socket.on(name, lambda data=None, name=name: got.put((name, data)))
        own_socket.connect(url, transports=["polling"], auth={"token": stack.open_chat()["token"]}, wait_timeout=30)
        other = stack.open_chat()["session_id"]
        for event, body in (("session_request", {"session_id": other}),
                            ("user_uttered", {"session_id": other, "message": "上个月话费多少"})):
            own_socket.emit(event, body)
            name, data = got.get(timeout=30)
            ok = name == REFUSED and isinstance(data, dict) and data.get("status") == 401
            record("socket.io tokens", f"foreign {event} {data.get('status') if ok else name}", ok, str(body))
        own_socket.disconnect()

    # socket.io has no status codes: a refused message (another session's id included) must get an
    # input_refused event, one to our own session an answer. Silence means the server failed on it.
    events: queue.Queue[Tuple[str, Any]] = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("session_confirm", "bot_uttered", REFUSED):
        client.on(name, lambda data=None, name=name: events.put((name, data)))
    socket_chat = stack.open_chat()
    client.connect(f"http://127.0.0.1:{stack.rasa_port}", transports=["polling"], wait_timeout=30,
                   auth={"token": socket_chat["token"]})
    client.emit("session_request", {"session_id": None})
    own_session = events.get(timeout=30)[1]

    @run
    @given(body=st.one_of(
        st.dictionaries(st.sampled_from(["session_id", "message", "metadata", "$where"]), json_values, max_size=4),
        st.builds(lambda m, meta: {"session_id": own_session, "message": m, "metadata": meta}, text_fields,
                  json_values)))
    def socketio_channel(body: Dict[str, Any]) -> None:
        resume_if_paused(stack, own_session)  # an escalation pauses the chat, silent by design
        client.emit("user_uttered", body)
        foreign = body.get("session_id") not in (None, own_session)
        due = REFUSED if foreign or chat_message_problem(body.get("message")) else "bot_uttered"
        try:
            got = events.get(timeout=60)[0]
        except queue.Empty:
            got = "silence"
        record("socket.io channel", got, got == due, str(body))
        try:  # the rest of this message's events (more replies, the too-long notice) must not meet the next one
            while True:
                events.get(timeout=0.5)
        except queue.Empty:
            pass

    for fuzz in (sms, status_callback, admin, rest_channel, rest_tokens, socketio_tokens, socketio_channel):
        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - a falsified property is a finding, reported below
            problems.append(f"{fuzz.__name__}: {type(exc).__name__}: {str(exc)[:200]}")
    # Huge bodies, once per target.
    big = b"Body=" + b"A" * (2 * 1024 * 1024)
    for target, url in (("sms webhook", rasa_sms), ("status callback", f"{care}/twilio/status")):
        status, _ = http("POST", url, data=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
        record(target, status, status in {403, 413}, "2 MB body")
    status, _ = http("POST", rest, data=b'{"message": "' + b"A" * (2 * 1024 * 1024) + b'"}',
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {own['token']}"})
    record("rest channel", status, status == 413, "2 MB body")
    client.disconnect()

    after = _snapshot(db)
    changed = [name for name in before if before[name] != after[name]]
    stored = _operator_values(db)
    if changed:
        problems.append(f"hostile input changed {changed}")
    if stored:
        problems.append(f"{stored} stored operator objects or non-string ids")
    server_errors = sum(n for t in tally.values() for s, n in t.items() if s.startswith("5"))
    counts = {"requests": sum(sum(t.values()) for t in tally.values()), "server_errors": server_errors,
              "stored_injections": stored, "by_target": tally}
    return DrillResult("hostile input", not problems, counts, problems)


# --- 3a. MongoDB restart mid-conversation -----------------------------------------------------------------

def _mongod_pid(stack: Stack) -> int:
    return int((stack.var / "mongo" / "mongod.lock").read_text().strip())


def drill_mongo_conversation(stack: Stack) -> DrillResult:
    sender = "drill-mongo"
    stack.say(sender, "你好")
    children_before = sorted(p.pid for p in _children(stack))
    os.kill(_mongod_pid(stack), signal.SIGKILL)
    time.sleep(0.5)
    started = time.perf_counter()
    replies = stack.say(sender, "我的客户经理是谁")
    fallback_s = time.perf_counter() - started
    polite = any(r == TRY_AGAIN["zh"] for r in replies)
    restarted = EmbeddedMongo(stack.var / "mongo", stack.mongo_port, cache_size_gb=0.25)
    restarted.start()
    back_at = time.perf_counter()
    recovered_s: Optional[float] = None
    while time.perf_counter() - back_at < 60:
        replies_after = stack.say(sender, "你好")
        if replies_after and not any(r in TRY_AGAIN.values() for r in replies_after):
            recovered_s = time.perf_counter() - back_at
            break
        time.sleep(0.5)
    children_after = sorted(p.pid for p in _children(stack))
    problems = []
    if not polite:
        problems.append(f"no polite fallback while MongoDB was down: {replies}")
    if fallback_s > 2:
        problems.append(f"fallback took {fallback_s:.1f} s")
    if recovered_s is None:
        problems.append("the bot did not recover within 60 s of MongoDB's return")
    if children_after != children_before:
        problems.append("a bot process was restarted")
    counts = {"fallback_s": round(fallback_s, 2), "recovered_after_s": round(recovered_s or -1, 2),
              "bot_processes_restarted": int(children_after != children_before)}
    return DrillResult("mongodb restart mid-conversation", not problems, counts, problems)


@dataclass
class _Child:
    pid: int


def _children(stack: Stack) -> List[_Child]:
    """The supervisor's child processes (action server, Rasa, care service, emulator)."""
    assert stack.proc is not None
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == stack.proc.pid:
                found.append(_Child(int(entry.name)))
    return found
