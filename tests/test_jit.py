"""The JIT switch (CARE_JIT): known modes only, off means untouched, and the JIT computes what CPython computes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
from pydantic import ValidationError

from carecore.config import PROJECT_ROOT, Settings
from carecore.jit import enable_jit

HAS_PYSTON = importlib.util.find_spec("pyston_lite") is not None

# The care scheduler's and the emulator's own hot code, run often enough for the JIT to compile it.
WORKLOAD = textwrap.dedent(
    """
    import hashlib, json, random, sys
    from carecore.jit import enable_jit
    on = enable_jit(sys.argv[1])
    from care_scheduler.templates import render
    from carecore.phones import InvalidPhoneNumber, mask, to_e164
    from carecore.sms.segments import segment_info
    from carecore.sms.transports import form_body
    from carecore.twilio_emulator import form_fields

    rng = random.Random(20261201)
    out = []
    for i in range(3000):
        name = rng.choice(["张伟", "李娜", "Wang Fang", "Ms. O'Neil & Co", "陈 静"]) + str(i)
        language = rng.choice(["zh", "en"])
        text = render("birthday", language, signature="【中国电信】", contact_name=name,
                      region=rng.choice(["北京", "广东"]), promo=rng.choice(["", "宽带提速"]),
                      belated=rng.random() < 0.2)
        raw = rng.choice(["139", "+86 138", "0086-137", "1", "+1 415"]) + str(rng.randrange(10**7, 10**9))
        try:
            number = to_e164(raw)
        except InvalidPhoneNumber as exc:
            number = "invalid: " + str(exc)
        body = form_body({"To": number, "Body": text.text, "From": "+8610690000", "n": i})
        info = segment_info(text.text + name)
        out.append([text.text, text.segments, number, mask(number), body.decode(), form_fields(body),
                    info.encoding, info.segments])
    print(json.dumps({"jit": on, "digest": hashlib.sha256(json.dumps(out, ensure_ascii=False).encode()).hexdigest()}))
    """
)


def _run(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", WORKLOAD, mode], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_only_known_modes_are_accepted() -> None:
    with pytest.raises(ValidationError, match="CARE_JIT"):
        Settings(care_jit="fast")
    with pytest.raises(ValueError, match="CARE_JIT"):
        enable_jit("on")
    assert Settings().care_jit == "pyston"


def test_off_leaves_the_interpreter_alone() -> None:
    code = "import sys; from carecore.jit import enable_jit; print(enable_jit('off'), 'pyston_lite' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_without_the_package_the_process_runs_as_plain_cpython(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "pyston_lite", None)  # import fails as on a platform without the wheel
    with caplog.at_level(logging.WARNING, logger="carecore.jit"):
        assert enable_jit("pyston") is False
    assert "not installed" in caplog.text


@pytest.mark.skipif(not HAS_PYSTON, reason="pyston-lite exists for Linux x86_64 only")
def test_the_jit_computes_what_cpython_computes() -> None:
    plain, jitted = _run("off"), _run("pyston")
    assert plain["jit"] is False and jitted["jit"] is True
    assert jitted["digest"] == plain["digest"]
    assert len(plain["digest"]) == len(hashlib.sha256().hexdigest())
