"""`sakari-contract check` end to end against the embedded sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sakari_contract.cli import main
from sakari_contract.sandbox.data import calls

RECORDS = 5
DRIFT = {
    "status-new-value": [("unknown_enum_value", "$.data.status", "breaking")],
    "direction-new-value": [("unknown_enum_value", "$.data.direction", "breaking")],
    "timestamp-epoch": [("type_mismatch", "$.data.created.at", "breaking")],
    "timestamp-no-offset": [("invalid_format", "$.data.created.at", "breaking")],
    "timestamp-space-separator": [("invalid_format", "$.data.created.at", "breaking")],
    "duration-as-string": [("type_mismatch", "$.data.duration", "breaking")],
    "field-removed": [("missing_required", "$.data.voicemail", "breaking")],
    "field-renamed": [
        ("missing_required", "$.data.phoneNumber", "breaking"),
        ("undocumented_field", "$.data.phone_number", "warning"),
        ("probable_rename", "$.data.phoneNumber", "warning"),
    ],
    "null-contact": [("unexpected_null", "$.data.contact", "breaking")],
    "html-maintenance": [("undocumented_media_type", "$", "breaking")],
    "wrong-content-type": [("undocumented_media_type", "$", "breaking")],
}


def run(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out"
    code = main(["check", "--report-dir", str(out), *args])
    return code, json.loads((out / "drift.json").read_text())


def seen(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["kind"], f["path"], f["severity"]) for f in report["findings"]]


@pytest.mark.slow
def test_clean_sandbox_conforms_and_counts_every_response(tmp_path: Path) -> None:
    code, report = run(tmp_path)

    records = len(calls())
    assert code == 0
    assert report["verdict"] == "conform"
    assert report["findings"] == []
    assert report["errors"] == []
    assert report["counts"]["call_records"] == records
    assert report["counts"]["unknown_id_probes"] == 5
    assert report["counts"]["auth_checks"] == 2
    # One list page, every record, the probes and the two auth checks.
    assert report["counts"]["responses"] == 1 + records + 5 + 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "drift.json",
        "junit.xml",
        "report.html",
        "summary.md",
    ]


@pytest.mark.parametrize("profile", sorted(DRIFT))
def test_each_drift_profile_is_caught(tmp_path: Path, profile: str) -> None:
    code, report = run(
        tmp_path, "--sandbox-drift", profile, "--max-calls", str(RECORDS)
    )

    assert code == 1
    assert report["verdict"] == "drift"
    assert sorted(seen(report)) == sorted(DRIFT[profile])
    assert {f["count"] for f in report["findings"]} == {RECORDS}


def test_format_drift_names_the_detail(tmp_path: Path) -> None:
    _, report = run(
        tmp_path, "--sandbox-drift", "timestamp-space-separator", "--max-calls", "1"
    )

    assert report["findings"][0]["detail"] == "space instead of T"
    assert report["findings"][0]["expected"] == "date-time"


def test_added_field_is_a_warning_unless_strict(tmp_path: Path) -> None:
    lenient = ("undocumented_field", "$.data.transcription", "warning")
    code, report = run(
        tmp_path / "lenient", "--sandbox-drift", "field-added", "--max-calls", "2"
    )
    assert (code, seen(report)) == (0, [lenient])

    code, report = run(
        tmp_path / "strict",
        "--sandbox-drift",
        "field-added",
        "--max-calls",
        "2",
        "--strict",
    )
    assert (code, seen(report)) == (
        1,
        [("undocumented_field", "$.data.transcription", "breaking")],
    )


def test_given_call_ids_are_the_only_records_checked(tmp_path: Path) -> None:
    first, second = calls()[1]["id"], calls()[2]["id"]
    code, report = run(tmp_path, "--call-id", first, "--call-id", second)

    assert code == 0
    assert report["counts"]["call_records"] == 2
    assert "list_pages" not in report["counts"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sakari_contract.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--call-id", "a b"], "Error: --call-id='a b' is not a call id"),
        (["--call-id", ""], "Error: --call-id='' is not a call id"),
        (["--rate-limit", "fast"], "Error: --rate-limit='fast' is not a rate"),
        (["--base-url", "ftp://x"], "Error: --base-url='ftp://x' is not an http(s)"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    done = cli("check", *args)

    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert "Traceback" not in done.stderr


def test_missing_credentials_for_a_real_host_exit_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SAKARI_BASE_URL": "http://127.0.0.1:9"}
    done = cli("check", "--report-dir", str(tmp_path), env=env)

    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        "Error: SAKARI_ACCOUNT_ID is not set; a live run needs it"
    )
    assert not (tmp_path / "drift.json").exists()


def test_unreachable_base_url_is_infra_not_drift(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SAKARI_ACCOUNT_ID": "AC1",
        "SAKARI_CLIENT_ID": "id",
        "SAKARI_CLIENT_SECRET": "secret",
    }
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    done = cli(
        "check",
        "--base-url",
        "http://127.0.0.1:9",
        "--report-dir",
        str(tmp_path),
        env=env,
    )

    report = json.loads((tmp_path / "drift.json").read_text())
    assert done.returncode == 3
    assert report["verdict"] == "infra"
    assert report["findings"] == []
    assert [e["kind"] for e in report["errors"]] == ["connection_error"]
    assert "Traceback" not in done.stderr


def test_schema_that_does_not_parse_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\npaths:\n  /x: [unclosed\n")
    done = cli("check", "--schema", str(broken))

    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith(
        f"Error: schema {broken} does not parse at line 4, column 1"
    )


def test_a_call_id_that_does_not_exist_is_not_conform(tmp_path: Path) -> None:
    code, report = run(tmp_path, "--call-id", "doesnotexist")

    assert code == 3
    assert report["verdict"] == "infra"
    assert report["counts"].get("call_records", 0) == 0
    assert report["notes"] == [
        "call id 'doesnotexist' answered 404: its record was not checked"
    ]
    assert report["findings"] == []
