"""The Twilio emulator speaks Twilio's shapes to the real client and to plain HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from localrun.twilio_emulator import FaultPlan
from tests import twilio_contract
from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM
from tests.stack import latest_code


@pytest.fixture
async def client(emulator, auth_token):
    _, url = emulator
    http = AsyncTwilioHttpClient()
    twilio = Client(TEST_ACCOUNT_SID, auth_token, http_client=http)
    twilio.api.base_url = url
    yield twilio
    await http.close()


async def test_create_get_and_list_in_twilio_shapes(client, emulator) -> None:
    emu, _ = emulator
    created = await client.messages.create_async(to="+8613800138000", from_=TEST_FROM, body="你好")
    assert created.sid.startswith("SM") and created.status == "queued" and created.num_segments == "1"
    fetched = await client.messages(created.sid).fetch_async()
    assert fetched.body == "你好" and fetched.to == "+8613800138000"
    for i in range(3):
        await client.messages.create_async(to="+8613900139000", from_=TEST_FROM, body=f"m{i}")
    today = datetime.now(timezone.utc)
    listed = await client.messages.list_async(to="+8613900139000", date_sent_after=today, page_size=2)
    assert [m.body for m in listed] == ["m2", "m1", "m0"]  # newest first, across pages
    assert await client.messages.list_async(to="+8613700000000") == []
    # the filters as Twilio applies them: any written form of the number, sender, date ranges
    assert [m.body for m in await client.messages.list_async(to="+86 139 0013 9000")] == ["m2", "m1", "m0"]
    assert await client.messages.list_async(to="+8613900139000", from_="+8610000000000") == []
    assert await client.messages.list_async(to="+8613900139000", date_sent_before=today - timedelta(days=1)) == []
    assert len(await client.messages.list_async()) == 4
    assert emu.stats.create_requests == 4


async def test_errors_carry_twilio_codes(client, emulator) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(unsubscribed_numbers={"+8613800138000"}, script=["429"]))
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to="+8613900139000", from_=TEST_FROM, body="x")
    assert (info.value.status, info.value.code) == (429, 20429)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to="+8613800138000", from_=TEST_FROM, body="x")
    assert (info.value.status, info.value.code) == (400, 21610)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to="12", from_=TEST_FROM, body="x")
    assert info.value.code == 21211
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to="+8613800138001", from_=TEST_FROM, body="")
    assert info.value.code == 21619  # neither Body nor MediaUrl
    with pytest.raises(TwilioRestException) as info:
        await client.messages("SMnope").fetch_async()
    assert info.value.status == 404


async def test_wrong_account_or_token_is_401(emulator) -> None:
    _, url = emulator
    async with aiohttp.ClientSession() as session:
        resp = await session.post(f"{url}/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json",
                                  data={"To": "+8613800138000", "Body": "x", "From": TEST_FROM},
                                  auth=aiohttp.BasicAuth(TEST_ACCOUNT_SID, "wrong"))
        assert resp.status == 401 and (await resp.json())["code"] == 20003
        resp = await session.get(f"{url}/2010-04-01/Accounts/AC{'9' * 32}/Messages.json")
        assert resp.status == 401


async def test_fault_plan_control_api(emulator) -> None:
    emu, url = emulator
    async with aiohttp.ClientSession() as session:
        resp = await session.post(f"{url}/_emulator/faults", json={"rate_429": 0.1, "invalid_numbers": ["+8613700000001"]})
        assert resp.status == 200
        assert emu.faults.rate_429 == 0.1 and emu.faults.invalid_numbers == {"+8613700000001"}
        resp = await session.post(f"{url}/_emulator/faults", json={"rate_blackhole": 1})
        assert resp.status == 400 and "rate_blackhole" in (await resp.json())["error"]
        state = await (await session.get(f"{url}/_emulator")).json()
        assert state["faults"]["rate_429"] == 0.1


async def test_control_api_lists_one_recipients_messages(client, emulator) -> None:
    emu, url = emulator
    for to, body in (("+8613800138000", "您的验证码是 123456"), ("+8613900139000", "生日快乐"),
                     ("+8613800138000", "Your code is 654321")):
        await client.messages.create_async(to=to, from_=TEST_FROM, body=body)
    async with aiohttp.ClientSession() as session:
        mine = (await (await session.get(f"{url}/_emulator/messages", params={"to": "+8613800138000"})).json())
        everyone = (await (await session.get(f"{url}/_emulator/messages")).json())
        nobody = (await (await session.get(f"{url}/_emulator/messages", params={"to": "+8613700000000"})).json())
    assert [m["body"] for m in mine["messages"]] == ["您的验证码是 123456", "Your code is 654321"]  # oldest first
    assert len(everyone["messages"]) == 3 and nobody["messages"] == []
    assert latest_code(mine["messages"]) == "654321"
    assert latest_code([m for m in everyone["messages"] if m["to"] == "+8613900139000"]) is None


def test_fault_rates_are_reproducible() -> None:
    from localrun.twilio_emulator import TwilioEmulator

    plan = {"rate_429": 0.1, "rate_500": 0.03, "rate_timeout": 0.01, "seed": 7}
    runs = []
    for _ in range(2):
        emu = TwilioEmulator(TEST_ACCOUNT_SID, "t", FaultPlan.from_json(plan))
        runs.append([emu._next_fault() for _ in range(2000)])
    assert runs[0] == runs[1]
    share_429 = runs[0].count("429") / 2000
    assert 0.07 < share_429 < 0.13


async def test_form_fields_as_twilio_reads_them(emulator, auth_token) -> None:
    """Only a form-encoded body has fields; a repeated field counts once, the first."""
    emu, url = emulator
    endpoint = f"{url}/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"
    auth = aiohttp.BasicAuth(TEST_ACCOUNT_SID, auth_token)
    async with aiohttp.ClientSession() as session:
        resp = await session.post(endpoint, json={"To": "+8613800138000", "Body": "x", "From": TEST_FROM}, auth=auth)
        assert resp.status == 400 and (await resp.json())["code"] == 21604
        resp = await session.post(endpoint, data=b"To=%2B8613800138000&To=%2B8613900139000&Body=%E4%BD%A0%E5%A5%BD"
                                  b"&From=" + TEST_FROM.replace("+", "%2B").encode(), auth=auth,
                                  headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        created = await resp.json()
        assert resp.status == 201 and created["to"] == "+8613800138000" and created["body"] == "你好"
        resp = await session.post(endpoint, data=b"To=%FF&Body=x&From=1", auth=auth,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 400  # not UTF-8: no fields
    assert emu.stats.created == 1


async def test_received_log_is_written_anew_when_removed(client, emulator, tmp_path) -> None:
    """A drill that removes the log gets a fresh one."""
    emu, _ = emulator
    log = emu.received_log
    assert log is not None
    await client.messages.create_async(to="+8613800138000", from_=TEST_FROM, body="一")
    assert [line.count('"body": "一"') for line in log.read_text(encoding="utf-8").splitlines()] == [1]
    log.unlink()
    await client.messages.create_async(to="+8613800138000", from_=TEST_FROM, body="二")
    await client.messages.create_async(to="+8613800138000", from_=TEST_FROM, body="三")
    assert ["二" in line or "三" in line for line in log.read_text(encoding="utf-8").splitlines()] == [True, True]


# --- held to Twilio's published API (tests/contracts/twilio-oai) -------------------------------------------

API = f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}"


@pytest.fixture
async def http(emulator, auth_token):
    _, url = emulator
    async with aiohttp.ClientSession(base_url=url, auth=aiohttp.BasicAuth(TEST_ACCOUNT_SID, auth_token)) as session:
        yield session


async def _call(http: aiohttp.ClientSession, method: str, path: str, **kwargs) -> tuple[int, dict]:
    async with http.request(method, path, **kwargs) as resp:
        return resp.status, await resp.json()


async def test_messages_and_lists_match_twilios_schemas(http) -> None:
    status, created = await _call(http, "POST", f"{API}/Messages.json",
                                  data={"To": "+14155550100", "From": TEST_FROM, "Body": "hello"})
    assert status == 201 and not list(twilio_contract.message_validator().iter_errors(created))
    assert created["date_created"].endswith(" +0000")
    status, fetched = await _call(http, "GET", f"{API}/Messages/{created['sid']}.json")
    assert status == 200 and not list(twilio_contract.message_validator().iter_errors(fetched))
    status, listed = await _call(http, "GET", f"{API}/Messages.json", params={"To": "+14155550100"})
    assert status == 200 and not list(twilio_contract.list_validator().iter_errors(listed))
    for method, path, kwargs in (("GET", f"{API}/Messages/SM{'0' * 32}.json", {}),
                                 ("POST", f"{API}/Messages.json", {"data": {"To": "+14155550100"}}),
                                 ("GET", f"{API}/Messages.json", {"params": {"PageSize": "0"}})):
        status, body = await _call(http, method, path, **kwargs)
        assert status >= 400 and body["status"] == status and not list(twilio_contract.error_validator().iter_errors(body))


async def test_a_filtered_list_pages_as_twilio_does(http) -> None:
    for i in range(3):
        await _call(http, "POST", f"{API}/Messages.json", data={"To": "+14155550100", "From": TEST_FROM, "Body": f"m{i}"})
    _, first = await _call(http, "GET", f"{API}/Messages.json", params={"To": "+14155550100", "PageSize": "2"})
    assert [m["body"] for m in first["messages"]] == ["m2", "m1"] and first["end"] == 1
    assert first["next_page_uri"].startswith(f"{API}/Messages.json?To=%2B14155550100&PageSize=2&Page=1&PageToken=")
    assert first["first_page_uri"] == f"{API}/Messages.json?To=%2B14155550100&PageSize=2&Page=0"
    _, second = await _call(http, "GET", first["next_page_uri"])
    assert [m["body"] for m in second["messages"]] == ["m0"] and second["next_page_uri"] is None
    assert (second["start"], second["end"]) == (2, 2) and second["uri"] == first["next_page_uri"]
    _, empty = await _call(http, "GET", f"{API}/Messages.json", params={"To": "+14155550199"})
    assert empty["messages"] == [] and (empty["start"], empty["end"]) == (0, 0)


@pytest.mark.parametrize("example", ["readEmptySentdateLess", "readEmptySentdateEquals", "readEmptySentdateGreater",
                                     "readEmptySentdateGreaterFormat1", "readEmptySentdateGreaterFormat2",
                                     "readEmptySentdateGreaterFormat3"])
async def test_twilios_own_list_examples_give_twilios_answers(http, example: str) -> None:
    """Each of Twilio's empty-list examples, asked again with its own filters, comes back as Twilio wrote it."""
    from urllib.parse import parse_qsl, urlsplit

    expected = twilio_contract.load("list_messages.json")["response_200_examples"][example]["value"]
    query = urlsplit(expected["uri"]).query
    status, answer = await _call(http, "GET", f"{API}/Messages.json?{query}")
    ours = {k: v.replace(TEST_ACCOUNT_SID, "AC" + "a" * 32) if isinstance(v, str) else v for k, v in answer.items()}
    assert status == 200 and ours == expected, parse_qsl(query)


async def test_a_messaging_service_sends_from_its_pool(http, emulator) -> None:
    from tests.conftest import TEST_SERVICE

    emu, _ = emulator
    status, created = await _call(http, "POST", f"{API}/Messages.json", data={
        "To": "+8613800138000", "MessagingServiceSid": TEST_SERVICE, "Body": "hi",
        "StatusCallback": "http://127.0.0.1:1/status"})
    assert status == 201 and created["from"] is None and created["status"] == "accepted"
    _, fetched = await _call(http, "GET", f"{API}/Messages/{created['sid']}.json")
    assert fetched["from"] == TEST_FROM and fetched["messaging_service_sid"] == TEST_SERVICE
    status, body = await _call(http, "POST", f"{API}/Messages.json", data={
        "To": "+8613800138000", "MessagingServiceSid": "MG" + "9" * 32, "Body": "hi"})
    assert (status, body["code"]) == (400, 21701)


@pytest.mark.parametrize(("fields", "code"), [
    ({"Body": "x" * 1601}, 21617),
    ({"Body": "hi", "StatusCallback": "not a url"}, 21609),
    ({"Body": "hi", "StatusCallback": "ftp://example.com/status"}, 21609),
    ({"Body": "hi", "From": "+8610690001"}, 21659),
    ({"Body": "hi", "From": "not-a-number"}, 21212),
    ({"Body": ""}, 21619),
])
async def test_creates_twilio_refuses(http, fields, code) -> None:
    status, body = await _call(http, "POST", f"{API}/Messages.json",
                               data={"To": "+8613800138000", "From": TEST_FROM, **fields})
    assert (status, body["code"]) == (400, code)


async def test_media_without_a_body_is_accepted(http) -> None:
    status, created = await _call(http, "POST", f"{API}/Messages.json", data={
        "To": "+8613800138000", "From": TEST_FROM, "MediaUrl": "https://example.com/a.png"})
    assert status == 201 and created["sid"].startswith("MM") and created["num_media"] == "1" and created["body"] == ""
    status, _ = await _call(http, "POST", f"{API}/Messages.json",
                            data={"To": "+8613800138000", "From": TEST_FROM, "Body": "x" * 1600})
    assert status == 201
