"""No report, terminal line or log holds a secret or a person: masking by key and
by pattern, one pass over the run before it is written, and end-to-end scans."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sakari_contract.cli import main
from sakari_contract.findings import (
    ErrorKind,
    Finding,
    InfraError,
    Kind,
    Severity,
    Source,
)
from sakari_contract.redact import (
    RedactingFilter,
    mask,
    mask_text,
    redact_result,
    redact_source,
    register_secret,
    registered_secrets,
    token,
)
from sakari_contract.result import RunResult
from sakari_contract.sandbox.data import calls

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
PERSONAL_KEYS = {"email", "firstName", "lastName", "name", "number"}
# What each drift profile puts into a finding's observed value, masked.
MASKED_IN = {
    "contact-renamed": token("email", "zoe.martin@example.com"),
    "field-renamed": token("phone", "+12025550143"),
}


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


# -- one value -----------------------------------------------------------------------


def test_mask_by_key_keeps_a_stable_short_hash() -> None:
    assert mask("Zoë", "firstName") == f"<name:{h('Zoë')}>"
    assert mask("Zoë", "lastName") == mask("Zoë", "firstName")
    assert mask("Martin", "lastName") != mask("Zoë", "lastName")
    assert mask("+12025550143", "number") == f"<phone:{h('+12025550143')}>"
    assert mask(12025550143, "phone") == f"<phone:{h('12025550143')}>"


@pytest.mark.parametrize("key", ["email", "contactEmail", "e-mail", "email_address"])
def test_email_keys_are_judged_by_word(key: str) -> None:
    assert mask("false", key) == f"<email:{h('false')}>"
    # "voicemail" holds the letters of "email" and is no address.
    assert mask("false", "voicemail") == "false"


def test_mask_by_pattern_under_any_key() -> None:
    assert mask("zoe@example.com", "note") == f"<email:{h('zoe@example.com')}>"
    assert mask("+447700900123", "whatever") == f"<phone:{h('+447700900123')}>"
    assert mask("12345", "whatever") == "12345"
    assert mask("inbound", "direction") == "inbound"


@pytest.mark.parametrize(
    "key",
    [
        "access_token",
        "token",
        "client_secret",
        "Authorization",
        "password",
        "x-api-key",
    ],
)
def test_secrets_by_key_become_a_bare_marker(key: str) -> None:
    assert mask("s3cr3t-value", key) == "<secret>"


def test_mask_walks_objects_and_is_idempotent() -> None:
    contact = {"id": "c1", "email": "a@b.io", "lists": [{"name": "VIP"}], "n": 2}
    once = mask(contact)

    assert once == {
        "id": "c1",
        "email": f"<email:{h('a@b.io')}>",
        "lists": [{"name": f"<name:{h('VIP')}>"}],
        "n": 2,
    }
    assert mask(once) == once


def test_mask_text_finds_credentials_and_people_in_free_text() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = (
        f"Authorization: Bearer abcdef123456 token {jwt} "
        "url /x?client_secret=hunter22&limit=5 mail ana@example.org tel +1 202 555 0143"
    )

    assert mask_text(text) == (
        "Authorization: Bearer <secret> token <secret> "
        f"url /x?client_secret=<secret>&limit=5 mail <email:{h('ana@example.org')}> "
        f"tel <phone:{h('+1 202 555 0143')}>"
    )


def test_registered_secret_is_masked_anywhere() -> None:
    secret = f"opaque-{uuid.uuid4().hex}"
    register_secret(secret, "short", None)

    assert secret in registered_secrets()
    assert mask_text(f"prefix{secret}suffix") == "prefix<secret>suffix"
    assert mask(secret, "id") == "<secret>"
    # A short secret is masked as a whole value, never as a word in free text.
    assert mask("short", "status") == "<secret>"
    assert mask_text("a short word") == "a short word"


def test_percent_encoded_emails_and_numbers_are_masked() -> None:
    request = (
        "GET http://127.0.0.1:8080/v1/accounts/a1/calls/leaky.person%40pii-example.org"
        " GET /v1/accounts/a1/calls/%2B14155550999?to=%2b1%20415%20555%200999"
    )

    assert mask_text(request) == (
        "GET http://127.0.0.1:8080/v1/accounts/a1/calls/"
        f"<email:{h('leaky.person@pii-example.org')}>"
        f" GET /v1/accounts/a1/calls/<phone:{h('+14155550999')}>"
        f"?to=<phone:{h('+1 415 555 0999')}>"
    )
    # Other escapes and short numbers are left as they are.
    assert mask_text("/calls/100%25?n=%2B12&q=a%20b") == "/calls/100%25?n=%2B12&q=a%20b"


def test_source_request_and_log_lines_mask_encoded_people() -> None:
    url = "http://127.0.0.1:1/v1/accounts/a1/calls/leaky.person%40pii-example.org"
    source = redact_source(Source(operation="getCall", request=f"GET {url}"))
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, 'HTTP Request: GET %s "%s"',
        ("http://127.0.0.1:1/v1/accounts/a1/calls/%2B14155550999", "200 OK"), None,
    )  # fmt: skip

    assert RedactingFilter().filter(record) is True

    email = f"<email:{h('leaky.person@pii-example.org')}>"
    assert source.request == f"GET http://127.0.0.1:1/v1/accounts/a1/calls/{email}"
    assert record.getMessage() == (
        "HTTP Request: GET http://127.0.0.1:1/v1/accounts/a1/calls/"
        f'<phone:{h("+14155550999")}> "200 OK"'
    )


# -- a whole run ---------------------------------------------------------------------


def test_redact_result_covers_every_text_of_a_run() -> None:
    source = Source(operation="getCall", request="GET /calls/c1?email=a@b.io")
    finding = Finding(
        kind=Kind.TYPE_MISMATCH,
        severity=Severity.BREAKING,
        path="$.data.contact.firstName",
        message='"Zoë" is not of type "integer"',
        expected="integer",
        observed="Zoë",
        source=source,
        waiver="accepted for Zoë until June",
    )
    missing = Finding(
        kind=Kind.MISSING_REQUIRED,
        severity=Severity.BREAKING,
        path="$.data.contact.email",
        message="required field email is absent",
        expected="present",
        observed="absent",
    )
    error = InfraError(ErrorKind.AUTH_FAILED, "Bearer abcdefgh1234 refused", source)
    result = RunResult(
        command="check",
        target="https://api.example.test",
        findings=[finding, missing],
        errors=[error],
        notes=["seen +447700900123"],
    )

    clean = redact_result(result)

    name, mail = f"<name:{h('Zoë')}>", f"<email:{h('a@b.io')}>"
    assert clean.findings[0].observed == name
    assert clean.findings[0].expected == "integer"
    assert clean.findings[0].message == f'{name} is not of type "integer"'
    assert clean.findings[0].waiver == f"accepted for {name} until June"
    assert clean.findings[0].source.request == f"GET /calls/c1?email={mail}"
    assert (clean.findings[1].observed, clean.findings[1].expected) == (
        "absent",
        "present",
    )
    assert clean.errors[0].message == "Bearer <secret> refused"
    assert clean.notes == [f"seen <phone:{h('+447700900123')}>"]
    # The run itself is untouched: the copy is what gets written.
    assert result.findings[0].observed == "Zoë"


def test_log_filter_masks_records_whoever_logs_them() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "to %s with %s",
        ("x@y.io", "Bearer abc12345"),
        None,
    )
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == f"to <email:{h('x@y.io')}> with Bearer <secret>"


# -- end to end ----------------------------------------------------------------------


def seeded_people() -> set[str]:
    """Every email, name and phone number the sandbox serves."""
    found: set[str] = set()

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and (key in PERSONAL_KEYS or "@" in value):
            if key != "name" or not value.startswith("<"):
                found.add(value)
        elif isinstance(value, str) and value.startswith("+"):
            found.add(value)

    for call in calls():
        walk(call["contact"], None)
        walk(call["phoneNumber"], None)
        walk(call["created"], None)
    return found


def history(directory: Path) -> str:
    """Inside the report directory, so the scan covers the history too."""
    return str(directory / "history.sqlite")


def artifacts(directory: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            yield str(path), path.read_text(encoding="utf-8", errors="replace")


def leaks(texts: list[tuple[str, str]], secrets: set[str]) -> list[tuple[str, str]]:
    people = seeded_people()
    found = []
    for where, text in texts:
        found += [(where, s) for s in secrets | people if s in text]
        found += [(where, m) for m in JWT.findall(text)]
    return found


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    client_id = f"ci-{uuid.uuid4().hex[:12]}"
    secret = f"cs-{uuid.uuid4().hex}"
    monkeypatch.setenv("SAKARI_CLIENT_ID", client_id)
    monkeypatch.setenv("SAKARI_CLIENT_SECRET", secret)
    return client_id, secret


def test_seeded_people_cover_contacts_users_and_numbers() -> None:
    people = seeded_people()
    assert {"zoe.martin@example.com", "Zoë", "Martin", "+12025550143"} <= people
    assert {"joe.bloggs@example.com", "Inés", "Support line", "渡辺"} <= people


@pytest.mark.parametrize("profile", ["contact-renamed", "field-renamed"])
def test_no_artifact_or_output_holds_a_secret_or_a_person(
    tmp_path: Path,
    profile: str,
    credentials: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = registered_secrets()
    args = ["-v", "check", "--sandbox-drift", profile, "--max-calls", "11"]
    code = main([*args, "--report-dir", str(tmp_path), "--history", history(tmp_path)])
    out, err = capsys.readouterr()

    report = json.loads((tmp_path / "drift.json").read_text())
    tokens = {s for s in registered_secrets() - before if JWT.fullmatch(s)}
    _, secret = credentials
    texts = [*artifacts(tmp_path), ("stdout", out), ("stderr", err)]
    texts.append(("log", caplog.text))
    assert code == 1
    # The personal object really is in the findings, masked.
    assert MASKED_IN[profile] in json.dumps(report, ensure_ascii=False)
    assert len(tokens) == 1
    assert caplog.text
    assert leaks(texts, {secret, *tokens}) == []


def test_no_redact_writes_people_as_they_are_and_warns(
    tmp_path: Path, credentials: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--sandbox-drift", "contact-renamed", "--max-calls", "1"]
    code = main(
        [
            *args,
            "--no-redact",
            "--report-dir",
            str(tmp_path),
            "--history",
            history(tmp_path),
        ]
    )
    _, err = capsys.readouterr()

    report = json.loads((tmp_path / "drift.json").read_text())
    undocumented = [f for f in report["findings"] if f["kind"] == "undocumented_field"]
    assert code == 1
    assert undocumented[0]["observed"]["email"] == calls()[0]["contact"]["email"]
    assert "warning: --no-redact" in err
    assert leaks(list(artifacts(tmp_path)), set()) != []


def test_verbose_subprocess_output_holds_no_secret_or_person(tmp_path: Path) -> None:
    secret = f"cs-{uuid.uuid4().hex}"
    env = {**os.environ, "SAKARI_CLIENT_ID": "ci-x", "SAKARI_CLIENT_SECRET": secret}
    # Apart from the working directory, where Hypothesis keeps its own cache.
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "sakari_contract.cli", "-v", "check"]
        + ["--sandbox-drift", "contact-renamed", "--max-calls", "11"]
        + ["--report-dir", str(reports), "--history", history(reports)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )

    texts = [*artifacts(reports), ("stdout", done.stdout), ("stderr", done.stderr)]
    assert done.returncode == 1
    assert "DEBUG" in done.stderr
    assert leaks(texts, {secret}) == []
