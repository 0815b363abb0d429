"""The drift engine: each case of issue 4 with its exact findings."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from sakari_contract.drift import Engine, Exchange, group
from sakari_contract.findings import ErrorKind, Kind, Severity, Source, Verdict, decide
from sakari_contract.redact import mask
from sakari_contract.schema import load_contract

DATA = Path(__file__).parent / "data"
CALL = "#/components/schemas/CallResponse"
LIST = "#/components/schemas/CallListResponse"
STATUSES = [
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
]
JSON_HEADERS = {"Content-Type": "application/json"}
B, W = Severity.BREAKING, Severity.WARNING


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_contract())


@pytest.fixture
def body() -> dict[str, Any]:
    return json.loads((DATA / "doc_example_response.json").read_text())


def check(engine: Engine, body: dict[str, Any], change: Callable[[dict], Any]):
    changed = copy.deepcopy(body)
    change(changed["data"])
    _, findings = engine.check_body(json.dumps(changed).encode(), CALL)
    return summary(findings)


def summary(findings) -> list[tuple]:
    return [
        (f.kind, f.path, f.severity, f.expected, f.observed, f.detail) for f in findings
    ]


def test_doc_example_is_valid(engine, body):
    assert check(engine, body, lambda d: None) == []


def test_flags_unknown_status_value_and_still_checks_the_rest(engine, body):
    def change(data):
        data["status"] = "queued"
        data["voicemail"] = "false"

    assert check(engine, body, change) == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data.status", B, STATUSES, "queued", None),
        (Kind.TYPE_MISMATCH, "$.data.voicemail", B, "boolean", "false", None),
    ]


def test_duration_as_string_is_a_type_mismatch_not_coerced(engine, body):
    assert check(engine, body, lambda d: d.update(duration="42")) == [
        (Kind.TYPE_MISMATCH, "$.data.duration", B, "integer", "42", None)
    ]


def test_voicemail_as_string_is_a_type_mismatch(engine, body):
    assert check(engine, body, lambda d: d.update(voicemail="false")) == [
        (Kind.TYPE_MISMATCH, "$.data.voicemail", B, "boolean", "false", None)
    ]


def test_two_absent_fields_are_two_missing_required(engine, body):
    def change(data):
        del data["duration"], data["recording"]

    assert check(engine, body, change) == [
        (Kind.MISSING_REQUIRED, "$.data.duration", B, "present", "absent", None),
        (Kind.MISSING_REQUIRED, "$.data.recording", B, "present", "absent", None),
    ]


def test_null_duration_is_unexpected_null(engine, body):
    assert check(engine, body, lambda d: d.update(duration=None)) == [
        (Kind.UNEXPECTED_NULL, "$.data.duration", B, "integer", None, None)
    ]


def test_renamed_field_is_missing_undocumented_and_a_probable_rename(engine, body):
    def change(data):
        data["phone_number"] = data.pop("phoneNumber")

    found = check(engine, body, change)
    observed = body["data"]["phoneNumber"]

    assert found == [
        (Kind.MISSING_REQUIRED, "$.data.phoneNumber", B, "present", "absent", None),
        (Kind.UNDOCUMENTED_FIELD, "$.data.phone_number", W, "absent", observed, None),
        (
            Kind.PROBABLE_RENAME,
            "$.data.phoneNumber",
            W,
            "$.data.phoneNumber",
            "$.data.phone_number",
            None,
        ),
    ]


@pytest.mark.parametrize("strict, severity", [(False, W), (True, B)])
def test_added_object_is_undocumented_field(body, strict, severity):
    engine = Engine(load_contract(), strict=strict)
    change = {"transcription": {"status": "pending"}}

    found = check(engine, body, lambda d: d.update(change))
    _, findings = engine.check_body(json.dumps(body).encode(), CALL)

    expected = {"status": "pending"}
    assert found == [
        (
            Kind.UNDOCUMENTED_FIELD,
            "$.data.transcription",
            severity,
            "absent",
            expected,
            None,
        )
    ]
    changed = copy.deepcopy(body)
    changed["data"].update(change)
    _, findings = engine.check_body(json.dumps(changed).encode(), CALL)
    verdict = Verdict.DRIFT if strict else Verdict.CONFORM
    assert decide(findings, []) is verdict


@pytest.mark.parametrize(
    "value, detail",
    [
        ("yesterday", "not a date-time"),
        ("2024-05-01 12:00:00+00:00", "space instead of T"),
        ("2024-05-01T12:00:00.123", "no UTC offset"),
    ],
)
def test_bad_date_time_is_invalid_format_with_detail(engine, body, value, detail):
    found = check(engine, body, lambda d: d["created"].update(at=value))

    assert found == [
        (Kind.INVALID_FORMAT, "$.data.created.at", B, "date-time", value, detail)
    ]


def test_epoch_millis_is_type_mismatch_without_format_noise(engine, body):
    found = check(engine, body, lambda d: d["created"].update(at=1714564800000))

    assert found == [
        (Kind.TYPE_MISMATCH, "$.data.created.at", B, "string", 1714564800000, None)
    ]


@pytest.mark.parametrize("value", ["2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00Z"])
def test_rfc3339_date_times_are_valid(engine, body, value):
    assert check(engine, body, lambda d: d["created"].update(at=value)) == []


def test_null_contact_is_one_unexpected_null(engine, body):
    assert check(engine, body, lambda d: d.update(contact=None)) == [
        (Kind.UNEXPECTED_NULL, "$.data.contact", B, "object", None, None)
    ]


def test_repeated_key_is_duplicate_key(engine, body):
    text = json.dumps(body).replace(
        '"status": "initiated"', '"status": "initiated", "status": "completed"'
    )

    _, findings = engine.check_body(text.encode(), CALL)

    assert summary(findings) == [
        (Kind.DUPLICATE_KEY, "$.data.status", B, "each key once", 2, None)
    ]


@pytest.mark.parametrize("value", ["@@", "not-an-email"])
def test_bad_email_is_invalid_format(engine, body, value):
    """The engine keeps the value as found; reports mask it (test_redaction)."""
    found = check(engine, body, lambda d: d["contact"].update(email=value))

    assert found == [
        (
            Kind.INVALID_FORMAT,
            "$.data.contact.email",
            B,
            "email",
            value,
            "not an email address",
        )
    ]


def test_list_response_paths_carry_the_array_index(engine, body):
    listing = {"success": True, "data": [body["data"], copy.deepcopy(body["data"])]}
    listing["data"][1]["status"] = "queued"

    found = summary(engine.check_value(listing, LIST))

    assert found == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data[1].status", B, STATUSES, "queued", None)
    ]


# -- exchange level -----------------------------------------------------------------


def exchange(body: bytes, content_type: str, **extra: Any) -> Exchange:
    return Exchange(200, {"Content-Type": content_type}, body, **extra)


def test_html_page_is_one_undocumented_media_type(engine):
    page = b"<!doctype html><html><body>Maintenance</body></html>"
    source = Source(file="calls.har", line=3, entry=0)

    outcome = engine.check_exchange(exchange(page, "text/html"), source)

    assert summary(outcome.findings) == [
        (Kind.UNDOCUMENTED_MEDIA_TYPE, "$", B, "application/json", "text/html", None)
    ]
    assert outcome.findings[0].source == source
    assert outcome.errors == []


def test_json_with_charset_is_the_documented_media_type(engine, body):
    raw = json.dumps(body).encode()

    outcome = engine.check_exchange(
        exchange(raw, "application/json; charset=utf-8"), Source()
    )

    assert outcome.findings == [] and outcome.errors == []
    assert outcome.body == body


def test_body_cut_short_is_an_infra_error_not_drift(engine, body):
    raw = json.dumps(body).encode()[:100]

    outcome = engine.check_exchange(
        exchange(raw, "application/json", truncated=True), Source(file="x.yaml")
    )

    assert outcome.findings == []
    assert [(e.kind, e.message) for e in outcome.errors] == [
        (ErrorKind.TRUNCATED_BODY, "body cut short")
    ]


def test_undocumented_status_and_empty_body(engine):
    teapot = Exchange(418, JSON_HEADERS, b"{}")
    empty = Exchange(200, JSON_HEADERS, b"")

    found = summary(engine.check_exchange(teapot, Source()).findings)
    found += summary(engine.check_exchange(empty, Source()).findings)

    assert [f[:2] for f in found] == [
        (Kind.UNDOCUMENTED_STATUS, "$"),
        (Kind.EMPTY_BODY, "$"),
    ]
    assert found[0][4] == 418


def test_error_status_body_is_checked_against_the_error_schema(engine):
    raw = b'{"success": false, "error": {"code": "NOT_FOUND", "message": "no"}}'

    outcome = engine.check_exchange(Exchange(404, JSON_HEADERS, raw), Source())

    assert outcome.findings == [] and outcome.errors == []


@pytest.mark.parametrize("status", [401, 403, 404, 429])
def test_error_envelope_that_drifted_is_reported(engine, status):
    """The error responses are $refs to components/responses: they must be
    followed, or every error body would pass unchecked."""
    raw = b'{"success": false, "error": {"code": 404}}'
    exchange = Exchange(status, JSON_HEADERS, raw)
    if status == 429:
        # A 429 is an infra error (rate limited after retries), never drift.
        assert [e.kind for e in engine.check_exchange(exchange, Source()).errors] == [
            ErrorKind.RATE_LIMITED
        ]
        return

    outcome = engine.check_exchange(exchange, Source())

    assert sorted((f.kind, f.path) for f in outcome.findings) == [
        (Kind.MISSING_REQUIRED, "$.error.message"),
        (Kind.TYPE_MISMATCH, "$.error.code"),
    ]


def test_html_body_served_as_json_is_invalid_json(engine):
    outcome = engine.check_exchange(exchange(b"<html>", "application/json"), Source())

    assert [(f.kind, f.path, f.detail) for f in outcome.findings] == [
        (Kind.INVALID_JSON, "$", "not JSON")
    ]


def test_group_counts_identical_findings(engine, body):
    changed = copy.deepcopy(body)
    changed["data"]["status"] = "queued"
    raw = json.dumps(changed).encode()
    findings = []
    for line in (1, 2, 3):
        _, found = engine.check_body(raw, CALL)
        for finding in found:
            finding.source = Source(file="a.jsonl", line=line)
        findings += found

    grouped = group(findings)

    assert [(f.kind, f.count, f.source.line) for f in grouped] == [
        (Kind.UNKNOWN_ENUM_VALUE, 3, 1)
    ]


def test_mask_is_stable_and_leaves_other_values(engine):
    assert mask("chris@sakari.io") == mask("chris@sakari.io", "email")
    assert mask("Chris", "firstName") == mask("Chris", "firstName")
    assert mask("Chris", "firstName").startswith("<name:")
    assert mask("+14155550123").startswith("<phone:")
    assert mask("2024-05-01 12:00:00") == "2024-05-01 12:00:00"
    assert mask(123, "duration") == 123
    assert mask({"id": "c1", "lastName": "Bloggs"})["id"] == "c1"


def nested_body(body: dict[str, Any], depth: int) -> bytes:
    """The body without its ``success`` (so the validator's error is about the
    root) and with an undocumented member that makes it ``depth`` arrays and
    objects deep, counting the root and ``data``. Written as text: the standard
    encoders stop short of such depths."""
    changed = copy.deepcopy(body)
    del changed["success"]
    inner = depth - 2
    opening = "".join('{"k":' if level % 2 else "[" for level in range(inner))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(inner)))
    extra = f'"extra":{opening}"x"{closing},'
    return json.dumps(changed).replace('"data": {', '"data": {' + extra, 1).encode()


@pytest.mark.parametrize("depth", [256, 300, 700])
def test_body_nested_deeper_than_the_validator_reports_is_one_invalid_json(
    engine, body, depth
):
    raw = nested_body(body, depth)
    # A repeated key sends the body down the exact parser too.
    duplicated = raw.replace(b'{"data": {', b'{"data": {"id": 1, ', 1)

    too_deep = [
        (
            Kind.INVALID_JSON,
            "$",
            B,
            "at most 255 levels of nesting",
            None,
            "nesting too deep",
        )
    ]
    for sent in (raw, duplicated):
        outcome = engine.check_exchange(exchange(sent, "application/json"), Source())
        assert summary(outcome.findings) == too_deep
    assert summary(engine.check_value(orjson.loads(raw), CALL)) == too_deep
    message = engine.check_body(raw, CALL)[1][0].message
    assert message == (
        "body nests arrays and objects too deep to check: the validator reports "
        "on values nested at most 255 levels deep"
    )


def test_body_nested_as_deep_as_the_validator_reports_is_checked(engine, body):
    _, findings = engine.check_body(nested_body(body, 255), CALL)

    assert [(f.kind, f.path) for f in findings] == [
        (Kind.MISSING_REQUIRED, "$.success"),
        (Kind.UNDOCUMENTED_FIELD, "$.data.extra"),
    ]


@pytest.mark.parametrize("number", [b"1e400", b"-1.5E+999"])
def test_number_past_a_double_is_invalid_json_not_null(engine, body, number):
    raw = json.dumps(body).encode()
    duration = f'"duration": {body["data"]["duration"]}'.encode()
    raw = raw.replace(duration, b'"duration": ' + number)

    _, findings = engine.check_body(raw, CALL)

    assert summary(findings) == [
        (
            Kind.INVALID_JSON,
            "$.data.duration",
            B,
            "a finite number",
            number.decode(),
            "number out of range",
        )
    ]
    assert findings[0].message == (
        f"{number.decode()} is out of the range of a double (RFC 8259 section 6)"
    )


def test_lone_surrogate_beside_other_non_ascii_text(engine, body):
    raw = (
        json.dumps(body)
        .encode()
        .replace(b'"direction": "inbound"', b'"direction": "\\u00e9t\\u00e9 \\ud800"')
    )

    _, findings = engine.check_body(raw, CALL)

    assert summary(findings) == [
        (
            Kind.INVALID_JSON,
            "$.data.direction",
            B,
            "Unicode text",
            "été \\ud800",
            "lone surrogate",
        )
    ]
