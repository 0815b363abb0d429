"""The run history: statuses over a scripted sequence of runs, permitted drift,
and a database that stays consistent under concurrent and killed writers."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sakari_contract.cli import main
from sakari_contract.findings import Finding, Kind, Severity
from sakari_contract.history import PAUSE_ENV, History
from sakari_contract.permitted import Profile, compare
from sakari_contract.result import RunResult
from sakari_contract.sandbox.data import calls

TARGET = "https://sandbox.example.test"


def finding(kind: Kind, path: str, severity: Severity = Severity.BREAKING) -> Finding:
    return Finding(kind=kind, severity=severity, path=path, message="drift")


def status_drift() -> Finding:
    return finding(Kind.UNKNOWN_ENUM_VALUE, "$.data.status")


def null_contact() -> Finding:
    return finding(Kind.UNEXPECTED_NULL, "$.data.contact")


def run(history: History, *findings: Finding, started: str) -> RunResult:
    result = RunResult(command="check", target=TARGET, started=started)
    result.findings = [copy.copy(f) for f in findings]
    history.record(result)
    return result


def statuses(result: RunResult) -> dict[str, str | None]:
    return {f.path: f.status for f in result.findings}


def resolved_paths(result: RunResult) -> list[str]:
    return [item["path"] for item in result.resolved]


# -- statuses ------------------------------------------------------------------------


def test_statuses_over_a_scripted_sequence_of_runs(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history:
        first = run(history, status_drift(), null_contact(), started="2025-01-01")
        second = run(history, status_drift(), started="2025-01-02")
        third = run(history, status_drift(), null_contact(), started="2025-01-03")
        fourth = run(history, null_contact(), started="2025-01-04")
        fifth = run(history, started="2025-01-05")

        contact = history.finding(TARGET, null_contact().fingerprint)

    assert statuses(first) == {"$.data.status": "new", "$.data.contact": "new"}
    assert (statuses(second), resolved_paths(second)) == (
        {"$.data.status": "recurring"},
        ["$.data.contact"],
    )
    assert statuses(third) == {
        "$.data.status": "recurring",
        "$.data.contact": "flapping",
    }
    assert resolved_paths(third) == []
    assert (statuses(fourth), resolved_paths(fourth)) == (
        {"$.data.contact": "recurring"},
        ["$.data.status"],
    )
    assert (fifth.findings, resolved_paths(fifth)) == ([], ["$.data.contact"])
    assert [f.first_seen for f in third.findings] == ["2025-01-01", "2025-01-01"]
    assert contact == {
        "first_seen": "2025-01-01",
        "last_seen": "2025-01-04",
        "runs_seen": 3,
    }
    assert fifth.resolved[0]["runs_seen"] == 3


def test_targets_keep_separate_histories(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history:
        run(history, status_drift(), started="2025-01-01")
        other = RunResult(command="check", target="https://other.test")
        other.findings = [status_drift()]
        history.record(other)
        again = run(history, status_drift(), started="2025-01-02")

    assert other.findings[0].status == "new"
    assert other.resolved == []
    assert statuses(again) == {"$.data.status": "recurring"}


def test_trend_lists_the_targets_runs_oldest_first(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history:
        run(history, status_drift(), null_contact(), started="2025-01-01")
        last = run(history, status_drift(), started="2025-01-02")

    assert [
        (r["run"], r["started"], r["verdict"], r["breaking"]) for r in last.trend
    ] == [
        (1, "2025-01-01", "drift", 2),
        (2, "2025-01-02", "drift", 1),
    ]


# -- permitted drift -----------------------------------------------------------------


def bodies(count: int = 4, **changes: Any) -> list[dict[str, Any]]:
    """Sandbox records, every created.at in one style, with ``changes`` applied
    as dotted paths inside ``data``."""
    records = []
    for call in copy.deepcopy(calls()[:count]):
        call["created"]["at"] = "2024-05-01T12:00:00Z"
        call["phoneNumber"]["type"] = "mobile"
        for dotted, value in changes.items():
            *parents, leaf = dotted.split("__")
            node = call
            for name in parents:
                node = node[name]
            if value is ABSENT:
                node.pop(leaf, None)
            else:
                node[leaf] = value
        records.append({"success": True, "data": call})
    return records


ABSENT = object()


def profile_of(records: list[dict[str, Any]]) -> Profile:
    profile = Profile()
    for record in records:
        profile.observe(record)
    return profile


def changes(before: Profile, after: Profile, covered: tuple[str, ...] = ()) -> list:
    return [
        (f.path, f.detail, f.expected, f.observed)
        for f in compare(before, after, covered)
    ]


def test_timestamp_style_change_is_permitted_drift() -> None:
    before = profile_of(bodies())
    after = profile_of(bodies(created__at="2024-05-01T12:00:00.250+00:00"))

    assert changes(before, after) == [
        (
            "$.data.created.at",
            "timestamp style",
            ["no fraction", "offset Z"],
            ["fraction", "offset +00:00"],
        )
    ]
    found = compare(before, after, ())[0]
    assert found.message == (
        "timestamp style at $.data.created.at changed: Z → +00:00; "
        "a fraction of a second appeared"
    )
    assert (found.kind, found.severity) == (Kind.PERMITTED_CHANGE, Severity.INFO)


def test_new_value_in_an_open_string_field() -> None:
    before = profile_of(bodies())
    after = profile_of(bodies(phoneNumber__type="shortcode"))

    assert changes(before, after) == [
        ("$.data.phoneNumber.type", "new value", ["mobile"], ["shortcode"])
    ]


def test_optional_field_that_became_always_absent_or_always_null() -> None:
    before = profile_of(bodies())
    absent = profile_of(bodies(phoneNumber__provider=ABSENT))
    null = profile_of(bodies(phoneNumber__provider=None))

    assert changes(before, absent) == [
        ("$.data.phoneNumber.provider", "now always absent", "present", "always absent")
    ]
    assert changes(before, null) == [
        (
            "$.data.phoneNumber.provider",
            "now always null",
            "non-null values",
            "always null",
        )
    ]


def test_a_change_a_contract_finding_covers_is_not_permitted_drift() -> None:
    before = profile_of(bodies())
    after = profile_of(bodies(phoneNumber__provider=None))

    assert changes(before, after, covered=("$.data.phoneNumber.provider",)) == []


def test_too_few_samples_say_nothing_about_absence() -> None:
    before = profile_of(bodies())
    after = profile_of(bodies(count=2, phoneNumber__provider=ABSENT))

    assert changes(before, after) == []


def test_profile_keeps_documented_fields_only_and_masks_values(tmp_path: Path) -> None:
    email, number = "leaky.person@pii-example.org", "+14155550999"
    records = bodies(phoneNumber__provider=email, phoneNumber__type=number)
    for record in records:
        record["data"][email] = {"name": "Zoë Martin"}
        record["data"]["contact"]["attributes"] = {"Zoë Martin": "VIP"}
    profile = profile_of(records)
    result = RunResult(command="validate", target=TARGET)
    with History(tmp_path / "h.sqlite") as history:
        history.record(result, profile)

    stored = rows(tmp_path / "h.sqlite", "SELECT path, value_set FROM profiles")
    paths = {path for path, _ in stored}
    assert "$.data.contact.attributes" in paths
    assert not [p for p in paths if "leaky" in p or "Zo" in p or "attributes." in p]
    assert dict(stored)["$.data.phoneNumber.provider"] == json.dumps(
        [f"<email:{short_hash(email)}>"]
    )
    assert dict(stored)["$.data.phoneNumber.type"] == json.dumps(
        [f"<phone:{short_hash(number)}>"]
    )


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def test_profile_walks_bodies_nested_past_the_recursion_limit() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    records = bodies(count=1, extra=deep, phoneNumber__supportedDestinations=deep)

    profile = profile_of(records)

    assert profile.bodies == 1
    assert profile.fields["$.data.phoneNumber.supportedDestinations"].present == 1
    assert "$.data.phoneNumber.supportedDestinations[*][*]" not in profile.fields
    assert "$.data.extra" not in profile.fields


def validate(tmp_path: Path, records: list[dict[str, Any]]) -> tuple[int, dict]:
    data = tmp_path / "calls.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    report_dir = tmp_path / "report"
    code = main(
        ["validate", str(data), "--report-dir", str(report_dir),
         "--history", str(tmp_path / "history.sqlite")]
    )  # fmt: skip
    return code, json.loads((report_dir / "drift.json").read_text())


def seen(report: dict) -> list[tuple[str, str, str | None]]:
    return sorted((f["kind"], f["path"], f["status"]) for f in report["findings"])


def test_validate_runs_carry_statuses_and_permitted_drift(tmp_path: Path) -> None:
    queued = bodies(status="queued", created__at="2024-05-01T12:00:00+00:00")
    clean = bodies()

    first = validate(tmp_path, clean)
    second = validate(tmp_path, queued)
    third = validate(tmp_path, queued)
    fourth = validate(tmp_path, clean)
    fifth = validate(tmp_path, queued)

    assert first[0] == 0
    assert first[1]["findings"] == []
    assert second[0] == 1
    assert seen(second[1]) == [
        ("permitted_change", "$.data.created.at", "new"),
        ("unknown_enum_value", "$.data.status", "new"),
    ]
    assert seen(third[1]) == [("unknown_enum_value", "$.data.status", "recurring")]
    assert fourth[0] == 0
    assert seen(fourth[1]) == [("permitted_change", "$.data.created.at", "flapping")]
    assert [r["path"] for r in fourth[1]["resolved"]] == ["$.data.status"]
    assert seen(fifth[1]) == [
        ("permitted_change", "$.data.created.at", "recurring"),
        ("unknown_enum_value", "$.data.status", "flapping"),
    ]
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "new 0 · recurring 1 · resolved 0 · waived 0 · flapping 1" in summary


# -- a consistent database -------------------------------------------------------------

WRITER = """
import sys
from sakari_contract.findings import Finding, Kind, Severity
from sakari_contract.history import History
from sakari_contract.permitted import Profile
from sakari_contract.result import RunResult

path, target, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
for number in range(runs):
    result = RunResult(command="check", target=target)
    result.findings = [
        Finding(Kind.UNKNOWN_ENUM_VALUE, Severity.BREAKING, "$.data.status", "x"),
        Finding(Kind.TYPE_MISMATCH, Severity.BREAKING, f"$.data.n{number}", "x"),
    ]
    profile = Profile()
    profile.observe(
        {"data": {"status": "queued", "created": {"at": "2024-05-01T12:00:00Z"}}}
    )
    with History(path) as history:
        history.record(result, profile)
"""


def writer(
    db: Path, target: str, runs: int, env: dict | None = None
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), target, str(runs)],
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
    )


def finished(process: subprocess.Popen) -> tuple[int, bytes]:
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def rows(db: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_concurrent_writers_leave_every_run_recorded(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    runs = 15
    writers = [writer(db, TARGET, runs) for _ in range(2)]
    outcomes = [finished(w) for w in writers]

    assert outcomes == [(0, b""), (0, b"")]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "SELECT count(*) FROM runs") == [(2 * runs,)]
    assert rows(db, "SELECT count(*) FROM run_findings") == [(4 * runs,)]
    # The finding every run has was counted once per run, by both writers.
    assert rows(db, "SELECT runs_seen FROM findings WHERE path = '$.data.status'") == [
        (2 * runs,)
    ]
    assert rows(db, "SELECT count(*) FROM run_findings WHERE status = 'new'") == [
        (1 + runs,)
    ]


def test_a_writer_killed_mid_transaction_leaves_no_partial_run(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    assert finished(writer(db, TARGET, 1)) == (0, b"")
    before = {
        table: rows(db, f"SELECT count(*) FROM {table}")
        for table in ("runs", "run_findings", "findings", "profiles")
    }
    marker = tmp_path / "paused"

    victim = writer(db, TARGET, 1, env={PAUSE_ENV: str(marker)})
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the writer never reached its transaction"
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=10)

    assert victim.returncode == -signal.SIGKILL
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    after = {table: rows(db, f"SELECT count(*) FROM {table}") for table in before}
    assert (
        after
        == before
        == {
            "runs": [(1,)],
            "run_findings": [(2,)],
            "findings": [(2,)],
            "profiles": [(5,)],
        }
    )
    assert rows(db, "SELECT runs_seen FROM findings ORDER BY path") == [(1,), (1,)]
    # The next run finds the lock released and the database usable.
    assert finished(writer(db, TARGET, 1)) == (0, b"")
    assert rows(db, "SELECT id FROM runs ORDER BY id") == [(1,), (2,)]


def test_an_unusable_history_path_is_a_usage_error(tmp_path: Path) -> None:
    not_a_db = tmp_path / "h.sqlite"
    not_a_db.write_text("this is not a database, it is a note" * 100)

    with pytest.raises(Exception) as caught:
        History(not_a_db)

    assert type(caught.value).__name__ == "UsageError"
    assert str(not_a_db) in str(caught.value)
