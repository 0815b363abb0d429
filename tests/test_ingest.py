"""``validate`` on real files: every input format, bad records, counts, memory."""

from __future__ import annotations

import copy
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest

from sakari_contract import ingest
from sakari_contract.errors import UsageError
from sakari_contract.findings import ErrorKind, Kind, Severity, Source, Verdict
from sakari_contract.schema import load_contract
from sakari_contract.validate import run_validate

DATA = Path(__file__).parent / "data"
CALL_URL = "https://api.sakari.io/v1/accounts/acc1/calls/call1"
LIST_URL = "https://api.sakari.io/v1/accounts/acc1/calls?limit=2"


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    return json.loads((DATA / "doc_example_response.json").read_text())


def validate(*paths: Path, strict: bool = False):
    return run_validate(list(paths), strict=strict, contract=load_contract())


def drifted(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    changed["data"].update(changes)
    return changed


def found(result) -> list[tuple]:
    return [
        (f.kind, f.path, f.count, f.source.file, f.source.line, f.source.entry)
        for f in result.findings
    ]


def counts(result) -> dict[str, int]:
    return dict(result.counts)


def test_jsonl_counts_every_record_and_names_bad_lines(tmp_path, body):
    path = tmp_path / "calls.jsonl"
    lines = [
        orjson.dumps(body),
        orjson.dumps(drifted(body, status="queued")),
        b'{"success": true, "data": {',
        b"",
        orjson.dumps(drifted(body, status="queued")),
        b'{"success": true, "data": "caf\xe9"}',
        json.dumps(body).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = validate(path)

    assert counts(result) == {
        "records_read": 6,
        "responses": 4,
        "unreadable": 2,
        "other_endpoints": 0,
        "infra_errors": 0,
    }
    assert found(result) == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data.status", 2, str(path), 2, None)
    ]
    assert result.notes == [
        f"{path} line 3: not a JSON value: Expecting property name enclosed in "
        "double quotes at line 1 column 28",
        f"{path} line 6: not a JSON value: not UTF-8 at byte 30",
    ]
    # Unread records leave part of the input unchecked: never "conform".
    assert result.incomplete is True
    assert result.verdict is Verdict.DRIFT


def test_unreadable_records_alone_make_the_verdict_infra(tmp_path, body):
    path = tmp_path / "calls.ndjson"
    path.write_bytes(orjson.dumps(body) + b"\nnot json\n")

    result = validate(path)

    assert result.verdict is Verdict.INFRA
    assert result.counts["unreadable"] == 1


def test_jsonl_exchange_records(tmp_path, body):
    path = tmp_path / "exchanges.jsonl"
    data = json.dumps(body["data"])
    dup = '{"success": true, "success": true, "data": ' + data + "}"
    records = [
        {"status": 200, "headers": {"content-type": "text/html"}, "body": "<p>"},
        {
            "status": 200,
            "headers": [{"name": "Content-Type", "value": JSON}],
            "body": body,
        },
        {"status": 200, "body": drifted(body, duration="42")},
        {"status": 200, "body": "{}", "url": "/oauth2/token", "method": "POST"},
        {"status": 503, "headers": {}, "body": None},
        {"status": "200", "body": body},
    ]
    lines = [orjson.dumps(r) for r in records]
    lines.insert(3, b'{"status": 200, "body": ' + dup.encode() + b"}")
    path.write_bytes(b"\n".join(lines))

    result = validate(path)

    assert found(result) == [
        (Kind.UNDOCUMENTED_MEDIA_TYPE, "$", 1, str(path), 1, None),
        (Kind.TYPE_MISMATCH, "$.data.duration", 1, str(path), 3, None),
        (Kind.DUPLICATE_KEY, "$.success", 1, str(path), 4, None),
    ]
    assert [(e.kind, e.source.line) for e in result.errors] == [
        (ErrorKind.SERVER_ERROR, 6)
    ]
    assert counts(result) == {
        "records_read": 7,
        "responses": 4,
        "unreadable": 1,
        "other_endpoints": 1,
        "infra_errors": 1,
    }
    assert result.notes == [
        f"{path} line 7: status must be an integer from 100 to 599, got '200'",
        "1 recorded requests on other endpoints were not checked",
    ]


JSON = "application/json"


def test_json_body_file_that_is_not_json_is_invalid_json(tmp_path):
    path = tmp_path / "body.json"
    path.write_text("<html>Service unavailable</html>")

    result = validate(path)

    assert [(f.kind, f.path, f.detail, f.source) for f in result.findings] == [
        (Kind.INVALID_JSON, "$", "not JSON", Source(file=str(path), line=1))
    ]
    assert result.counts["responses"] == 1 and result.counts["unreadable"] == 0


def test_json_body_file_valid(body, tmp_path):
    result = validate(DATA / "doc_example_response.json")

    assert result.findings == [] and result.verdict is Verdict.CONFORM
    assert result.counts["responses"] == 1


# -- HAR ------------------------------------------------------------------------


def har_entry(method: str, url: str, status: int, text: str | None, **content):
    return {
        "startedDateTime": "2024-05-01T12:00:00Z",
        "request": {"method": method, "url": url, "headers": []},
        "response": {
            "status": status,
            "headers": [{"name": "Content-Type", "value": JSON}],
            "content": {"size": len(text or ""), "mimeType": JSON, "text": text}
            | content,
        },
    }


def write_har(path: Path, entries: list[dict[str, Any]]) -> Path:
    har = {"log": {"version": "1.2", "creator": {"name": "t"}, "entries": entries}}
    path.write_text(json.dumps(har, indent=2))
    return path


def har_entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    listing = {
        "success": True,
        "data": [body["data"], drifted(body, status="x")["data"]],
    }
    cut = json.dumps(body)[:50]
    return [
        har_entry("OPTIONS", CALL_URL, 204, None),
        har_entry("GET", CALL_URL, 200, json.dumps(body)),
        har_entry("GET", LIST_URL, 200, json.dumps(listing)),
        har_entry("GET", CALL_URL, 200, cut, comment="Body truncated: 50 of 3100"),
        har_entry("GET", CALL_URL, 200, None, size=3100),
        har_entry("GET", CALL_URL, 0, None),
        har_entry("POST", "https://api.sakari.io/oauth2/token", 200, "{}"),
        har_entry(
            "GET", CALL_URL, 200, "eyJzdWNjZXNzIjp0cnVlfQ==", encoding="base64", size=16
        ),
    ]


def test_har_checks_call_endpoints_and_names_entries(tmp_path, body):
    path = write_har(tmp_path / "calls.har", har_entries(body))
    lines = path.read_text().splitlines()
    starts = [n for n, line in enumerate(lines, 1) if line == "      {"]

    result = validate(path)

    assert found(result) == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data[1].status", 1, str(path), starts[2], 2),
        (Kind.MISSING_REQUIRED, "$.data", 1, str(path), starts[7], 7),
    ]
    assert [(e.kind, e.source.entry) for e in result.errors] == [
        (ErrorKind.TRUNCATED_BODY, 3),
        (ErrorKind.CONNECTION_ERROR, 5),
    ]
    assert counts(result) == {
        "records_read": 8,
        "responses": 3,
        "unreadable": 1,
        "other_endpoints": 2,
        "infra_errors": 2,
    }
    assert result.notes[0] == (
        f"{path} line {starts[4]} (entry 4): the response body (3100 bytes) "
        "was not recorded"
    )


def test_har_scanner_is_exact_across_chunk_boundaries(tmp_path, body, monkeypatch):
    path = write_har(tmp_path / "calls.har", har_entries(body))
    whole = validate(path).to_dict()

    monkeypatch.setattr(ingest, "CHUNK", 7)
    chunked = validate(path).to_dict()

    for report in (whole, chunked):
        del report["started"], report["finished"]
    assert chunked == whole


def test_har_that_is_not_json_is_one_unreadable_record(tmp_path):
    path = tmp_path / "page.har"
    path.write_text("\n<html>saved page</html>\n")

    result = validate(path)

    assert result.notes == [
        f"{path} line 2: HAR is not readable: expected '{{', found '<'"
    ]
    assert result.counts["unreadable"] == 1 and result.verdict is Verdict.INFRA


def test_har_cut_short_keeps_the_entries_before_the_break(tmp_path, body):
    path = write_har(tmp_path / "calls.har", har_entries(body)[:3])
    text = path.read_text()
    path.write_text(text[: text.index(LIST_URL)])
    line = path.read_text().count("\n") + 1

    result = validate(path)

    assert result.counts["other_endpoints"] == 1
    assert result.counts["responses"] == 1
    assert result.notes[0] == (
        f"{path} line {line}: HAR is not readable: text ends inside a string"
    )


# -- recorded by schemathesis: HAR and VCR cassette ------------------------------


@pytest.mark.parametrize(
    ("name", "line"), [("schemathesis.har", 29), ("schemathesis_cassette.yaml", 199)]
)
def test_recordings_written_by_schemathesis(name, line):
    path = DATA / name

    result = validate(path)

    assert found(result) == [(Kind.UNDOCUMENTED_MEDIA_TYPE, "$", 1, str(path), line, 2)]
    assert counts(result) == {
        "records_read": 4,
        "responses": 2,
        "unreadable": 0,
        "other_endpoints": 2,
        "infra_errors": 0,
    }


def interaction(n: int, body: str, *, extra: str = "") -> str:
    return (
        f"\n- id: 'c{n}'\n  status: 'SUCCESS'\n  metadata: null\n"
        f"  recorded_at: '2024-05-01T12:00:00+00:00'\n  checks: []\n"
        f"  request:\n    uri: '{CALL_URL}'\n    method: 'GET'\n    headers:\n"
        f'      "accept":\n      - "*/*"\n'
        f"  response:\n    status:\n      code: '200'\n      message: \"OK\"\n"
        f"    elapsed: '0.01'\n    headers:\n"
        f'      "content-type":\n      - "application/json"\n\n'
        f"    body:\n      encoding: 'utf-8'\n      {body}{extra}\n"
        f"    http_version: '1.1'"
    )


def test_cassette_bad_interaction_is_named_and_the_rest_read(tmp_path, body):
    import base64

    raw = json.dumps(drifted(body, status="queued"))
    encoded = base64.b64encode(raw.encode()).decode()
    path = tmp_path / "cassette.yaml"
    path.write_text(
        "command: 'st run'\nrecorded_with: 'Schemathesis 4.32.5'\nseed: 1\n"
        "http_interactions:"
        + interaction(0, "string: " + json.dumps(json.dumps(body)))
        + interaction(1, 'string: "unclosed')
        + interaction(2, f"base64_string: '{encoded}'")
        + interaction(3, 'string: "{}"', extra="\n    truncated_from: 3100")
    )
    starts = [
        n
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if line[:5] == "- id:"
    ]

    result = validate(path)

    assert found(result) == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data.status", 1, str(path), starts[2], 2)
    ]
    assert [(e.kind, e.source.entry) for e in result.errors] == [
        (ErrorKind.TRUNCATED_BODY, 3)
    ]
    assert result.counts["unreadable"] == 1
    assert result.notes[0].startswith(f"{path} line ")
    assert "(entry 1): interaction is not YAML" in result.notes[0]


def test_yaml_that_is_not_a_cassette(tmp_path):
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: 3.1.0\npaths: {}\n")

    result = validate(path)

    assert result.notes == [f"{path} line 1: no http_interactions: not a VCR cassette"]


# -- usage --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.jsonl", "missing.jsonl: no such file"),
        ("folder", "folder is a directory; pass the files inside it"),
        ("notes.txt", "notes.txt: cannot tell the format from the name 'notes.txt'"),
    ],
)
def test_bad_paths_fail_before_any_record_is_read(tmp_path, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("x")

    with pytest.raises(UsageError) as caught:
        validate(DATA / "doc_example_response.json", tmp_path / name)

    assert str(caught.value).startswith(str(tmp_path / message))
    assert UsageError.exit_code == 2


def test_strict_makes_undocumented_fields_breaking(tmp_path, body):
    path = tmp_path / "calls.jsonl"
    path.write_bytes(orjson.dumps(drifted(body, transcription={"status": "pending"})))

    relaxed, strict = validate(path), validate(path, strict=True)

    assert [(f.kind, f.severity) for f in relaxed.findings] == [
        (Kind.UNDOCUMENTED_FIELD, Severity.WARNING)
    ]
    assert relaxed.verdict is Verdict.CONFORM and strict.verdict is Verdict.DRIFT


# -- memory ----------------------------------------------------------------------------


def peak_bytes(path: Path) -> int:
    tracemalloc.start()
    try:
        result = validate(path)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_on_large_files(tmp_path, body):
    drift = orjson.dumps(drifted(body, status="queued"))
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_bytes((orjson.dumps(body) + b"\n" + drift + b"\n") * 1500)
    entry = har_entry("GET", CALL_URL, 200, drift.decode())
    har = write_har(tmp_path / "big.har", [entry] * 3000)

    for path, records in ((jsonl, 3000), (har, 3000)):
        peak, result = peak_bytes(path)
        assert result.counts["records_read"] == records
        assert len(result.findings) == 1 and result.findings[0].count == 1500 * (
            1 if path == jsonl else 2
        )
        # Files of about 5 and 10 MB; one chunk (1 MiB) and one record at a time.
        assert path.stat().st_size > 5_000_000
        assert peak < 3_000_000, (path.name, peak)


# -- records that are impossible, files that never end --------------------------------


def test_exchange_records_with_impossible_fields_are_unreadable(tmp_path, body):
    path = tmp_path / "exchanges.jsonl"
    headers = {"content-type": JSON}
    records = [
        {"status": -1, "headers": headers, "body": body},
        {"status": 99999, "headers": headers, "body": body},
        {"status": 200.5, "headers": headers, "body": body},
        {"status": True, "headers": headers, "body": body},
        {"status": None},
        {"status": 200, "headers": {"content-type": 5}, "body": body},
        {"status": 200, "headers": [{"name": "Content-Type", "value": 5}], "body": 1},
        {"status": 200, "headers": ["content-type", JSON], "body": body},
        {"status": 200, "url": 5, "body": body},
        {"headers": headers, "body": body},
        {"status": 200, "headers": headers},
        {"status": 200, "headers": headers, "body": body},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records))

    result = validate(path)

    headers_note = (
        "headers must be an object of strings or a list of {name, value} strings"
    )
    assert result.notes == [
        f"{path} line {n}: {why}"
        for n, why in [
            (1, "status must be an integer from 100 to 599, got -1"),
            (2, "status must be an integer from 100 to 599, got 99999"),
            (3, "status must be an integer from 100 to 599, got 200.5"),
            (4, "status must be an integer from 100 to 599, got True"),
            (5, "status must be an integer from 100 to 599, got None"),
            (6, headers_note),
            (7, headers_note),
            (8, headers_note),
            (9, "url must be a string, got 5"),
            (10, "status must be an integer from 100 to 599, got None"),
            (11, "an exchange record needs a body member (null for no body)"),
        ]
    ]
    assert result.findings == [] and result.errors == []
    assert counts(result) == {
        "records_read": 12,
        "responses": 1,
        "unreadable": 11,
        "other_endpoints": 0,
        "infra_errors": 0,
    }


def test_a_body_with_success_is_never_an_exchange_record(tmp_path, body):
    """The rule of ingest.is_exchange_record: "success" makes it a body, even
    beside "status" and "body" members (undocumented fields of that body)."""
    path = tmp_path / "bodies.jsonl"
    path.write_bytes(orjson.dumps(body | {"status": 200, "body": None}))

    result = validate(path)

    assert [(f.kind, f.path) for f in result.findings] == [
        (Kind.UNDOCUMENTED_FIELD, "$.status"),
        (Kind.UNDOCUMENTED_FIELD, "$.body"),
    ]
    assert result.counts["responses"] == 1 and result.counts["unreadable"] == 0


def test_jsonl_line_over_the_limit_is_unreadable_and_not_held(tmp_path, body):
    path = tmp_path / "calls.jsonl"
    drift = orjson.dumps(drifted(body, status="queued"))
    with path.open("wb") as out:
        out.write(orjson.dumps(body) + b"\n" + b'{"data": "')
        # Sparse: a line of zeros longer than the limit, written in no time.
        out.seek(ingest.MAX_RECORD + 1024 * 1024)
        out.write(b'"}\n' + drift + b"\n")

    peak, result = peak_bytes(path)

    assert result.notes == [f"{path} line 2: record is longer than 64 MiB; not read"]
    assert found(result) == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data.status", 1, str(path), 3, None)
    ]
    assert counts(result)["records_read"] == 3
    # One limit's worth of the line at most, never the whole of it.
    assert peak < ingest.MAX_RECORD * 1.2, peak


def test_json_file_over_the_limit_is_unreadable(tmp_path):
    path = tmp_path / "body.json"
    with path.open("wb") as out:
        out.truncate(ingest.MAX_RECORD + 1)

    result = validate(path)

    assert result.notes == [f"{path} line 1: record is longer than 64 MiB; not read"]
    assert result.counts["unreadable"] == 1 and result.findings == []


def test_bounded_lines_passes_over_long_lines_in_pieces(tmp_path):
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"short\n" + b"x" * 50 + b"\nabcdefg\n" + b"y" * 9 + b"\nend")

    with path.open("rb") as stream:
        lines = list(ingest.bounded_lines(stream, limit=8))

    assert lines == [b"short\n", None, b"abcdefg\n", None, b"end"]


@pytest.mark.parametrize("name", ["zero.json", "zero.jsonl", "zero.yaml", "fifo.jsonl"])
def test_paths_that_are_not_regular_files_are_refused(tmp_path, name):
    path = tmp_path / name
    if name.startswith("fifo"):
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")

    with pytest.raises(UsageError) as caught:
        validate(DATA / "doc_example_response.json", path)

    assert str(caught.value) == (
        f"{path} is not a regular file (a device, a FIFO or a socket); "
        "save the traffic to a file and pass that"
    )


def test_cassette_alias_is_refused_per_interaction(tmp_path, body):
    laughs = "".join(
        f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10)
    )
    path = tmp_path / "cassette.yaml"
    path.write_text(
        "http_interactions:"
        + interaction(0, "string: " + json.dumps(json.dumps(body)))
        + "\n- id: 'bomb'\n  l0: &l0 ['lol']\n"
        + laughs
        + f"  request: {{uri: '{CALL_URL}', method: GET, headers: {{x: *l6}}}}\n"
        + interaction(2, "string: " + json.dumps(json.dumps(drifted(body, status="x"))))
    )
    bomb = path.read_text().splitlines().index("- id: 'bomb'") + 1

    peak, result = peak_bytes(path)

    assert result.notes == [
        f"{path} line {bomb + 2} (entry 1): YAML aliases are not allowed in a cassette"
    ]
    assert [(f.kind, f.source.entry) for f in result.findings] == [
        (Kind.UNKNOWN_ENUM_VALUE, 2)
    ]
    assert counts(result)["records_read"] == 3
    assert peak < 3_000_000, peak


def test_the_same_file_named_twice_is_checked_once(tmp_path, body):
    path = tmp_path / "calls.jsonl"
    path.write_bytes(orjson.dumps(drifted(body, status="queued")) + b"\n")
    (tmp_path / "link.jsonl").symlink_to(path)
    again = tmp_path / "sub" / ".." / "calls.jsonl"
    (tmp_path / "sub").mkdir()

    result = validate(path, again, tmp_path / "link.jsonl", path)

    assert found(result) == [
        (Kind.UNKNOWN_ENUM_VALUE, "$.data.status", 1, str(path), 1, None)
    ]
    assert counts(result)["records_read"] == 1
    assert result.notes == [
        f"{again} is the same file as {path}; checked once",
        f"{tmp_path / 'link.jsonl'} is the same file as {path}; checked once",
        f"{path} is the same file as {path}; checked once",
    ]
    assert result.target == str(path)
