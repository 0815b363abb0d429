"""Waivers and `sakari-contract gate`: what a waiver covers, when it stops
covering, and a malformed waivers file named down to the line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sakari_contract.cli import main
from sakari_contract.errors import UsageError
from sakari_contract.findings import Finding, Kind, Severity
from sakari_contract.gate import apply_waivers, parse_waivers, waiver_lines

TODAY = date(2025, 6, 1)


def finding(kind: Kind, path: str) -> Finding:
    return Finding(kind=kind, severity=Severity.BREAKING, path=path, message="x")


def findings() -> list[Finding]:
    return [
        finding(Kind.UNKNOWN_ENUM_VALUE, "$.data.status"),
        finding(Kind.INVALID_FORMAT, "$.data.contact.lists[2].optOut"),
        finding(Kind.MISSING_REQUIRED, "$.data.voicemail"),
    ]


WAIVERS = """\
waivers:
  - kind: unknown_enum_value
    path: $.data.status
    reason: queued is announced
    owner: calls-team
    expires: 2025-06-01
  - kind: invalid_format
    path: $.data.contact.lists[*].optOut
    reason: provider fix due
    owner: lists-team
    expires: 2025-12-31
  - fingerprint: {fingerprint}
    reason: voicemail flag dropped
    owner: ana
    expires: 2025-05-31
  - kind: type_mismatch
    path: $.data.duration
    reason: old drift
    owner: bo
    expires: 2026-01-01
"""


def test_waivers_cover_expire_and_report_unmatched() -> None:
    found = findings()
    text = WAIVERS.format(fingerprint=found[2].fingerprint)

    report = apply_waivers(found, parse_waivers(text), TODAY)

    assert [f.waiver for f in found] == [
        "calls-team: queued is announced (until 2025-06-01)",
        "lists-team: provider fix due (until 2025-12-31)",
        None,
    ]
    assert [(w["owner"], w["line"], w["findings"]) for w in report["applied"]] == [
        ("calls-team", 2, 1),
        ("lists-team", 7, 1),
    ]
    assert report["expired"] == [
        {
            "match": f"fingerprint {found[2].fingerprint}",
            "reason": "voicemail flag dropped",
            "owner": "ana",
            "expires": "2025-05-31",
            "line": 12,
            "findings": 1,
        }
    ]
    assert [(w["owner"], w["match"]) for w in report["unmatched"]] == [
        ("bo", "type_mismatch at $.data.duration")
    ]
    assert waiver_lines(report) == [
        f"waiver expired on 2025-05-31 (owner ana, line 12): fingerprint "
        f"{found[2].fingerprint} covers nothing now; 1 finding(s) would match it",
        "waiver matched nothing (owner bo, line 16): type_mismatch at "
        "$.data.duration; remove it if the drift is gone",
    ]


def test_a_concrete_index_matches_only_that_index() -> None:
    text = WAIVERS.split("  - fingerprint")[0].replace("lists[*]", "lists[0]")

    found = findings()
    apply_waivers(found, parse_waivers(text), TODAY)

    assert found[1].waiver is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - kind: x\n    path: [unclosed\n",
            "waivers.yaml: not valid YAML at line 4: expected ',' or ']', "
            "but got '<stream end>'",
        ),
        (
            "waivers:\n  - kind: unknown_enum_value\n    path: $.data.status\n"
            "    owner: a\n    expires: 2025-01-01\n",
            "waivers.yaml: line 2: waiver is missing 'reason'",
        ),
        (
            "waivers:\n  - fingerprint: 0123456789abcdef\n    reason: r\n"
            "    owner: a\n    expires: 2025-01-01\n"
            "  - fingerprint: 0123456789abcdef\n    reason: r\n    owner: a\n"
            "    expires: 31/12/2025\n",
            "waivers.yaml: line 6: expires='31/12/2025' is not a date written "
            "YYYY-MM-DD",
        ),
        (
            "waivers:\n  - fingerprint: 0123456789abcdef\n    reason: r\n"
            "    owner: a\n    expires: 2025-02-30\n",
            "waivers.yaml: line 2: expires='2025-02-30' is not a date written "
            "YYYY-MM-DD",
        ),
        (
            "waivers:\n  - fingerprint: 0123456789abcdef\n    reason: r\n"
            "    owner: a\n    expires: 2025-01-01\n    ticket: CALLS-1\n",
            "waivers.yaml: line 6: unknown key 'ticket' in a waiver; known keys: "
            "expires, fingerprint, kind, owner, path, reason",
        ),
        (
            "waivers:\n  - kind: no_such_kind\n    path: $.data\n    reason: r\n"
            "    owner: a\n    expires: 2025-01-01\n",
            "waivers.yaml: line 2: kind='no_such_kind' is not a drift kind",
        ),
        (
            "waivers:\n  - kind: unknown_enum_value\n    reason: r\n"
            "    owner: a\n    expires: 2025-01-01\n",
            "waivers.yaml: line 2: a waiver needs a fingerprint, or both kind and path",
        ),
        (
            "waiver:\n  - {}\n",
            "waivers.yaml: line 1: unknown key 'waiver'; expected 'waivers'",
        ),
    ],
)
def test_malformed_waivers_name_the_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_waivers(text)

    assert str(caught.value) == message


def test_empty_waivers_file_is_no_waivers() -> None:
    assert parse_waivers("") == []
    assert parse_waivers("waivers:\n") == []


# -- the command ---------------------------------------------------------------------

STATUS_WAIVER = """\
waivers:
  - kind: unknown_enum_value
    path: $.data.status
    reason: queued is announced
    owner: calls-team
    expires: {expires}
"""


def gate(tmp_path: Path, *args: str) -> tuple[int, dict]:
    report_dir = tmp_path / "report"
    code = main(
        ["gate", "--sandbox-drift", "status-new-value", "--max-calls", "2",
         "--report-dir", str(report_dir), "--history", str(tmp_path / "h.sqlite"),
         *args]
    )  # fmt: skip
    return code, json.loads((report_dir / "drift.json").read_text())


def test_gate_passes_when_every_breaking_finding_is_waived(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(STATUS_WAIVER.format(expires="2999-12-31"))

    code, report = gate(tmp_path, "--waivers", str(waivers))

    assert code == 0
    assert report["verdict"] == "conform"
    assert report["command"] == "gate"
    assert [(f["path"], f["waiver"]) for f in report["findings"]] == [
        ("$.data.status", "calls-team: queued is announced (until 2999-12-31)")
    ]
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "new 1 · recurring 0 · resolved 0 · waived 1" in summary


def test_gate_fails_on_an_expired_waiver_and_names_its_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(STATUS_WAIVER.format(expires="2020-01-31"))

    code, report = gate(tmp_path, "--waivers", str(waivers))

    assert code == 1
    assert report["findings"][0]["waiver"] is None
    assert [(w["owner"], w["expires"]) for w in report["waivers"]["expired"]] == [
        ("calls-team", "2020-01-31")
    ]
    assert (
        "waiver expired on 2020-01-31 (owner calls-team, line 2): unknown_enum_value "
        "at $.data.status covers nothing now; 1 finding(s) would match it"
    ) in capsys.readouterr().err
    assert "owner calls-team" in (tmp_path / "report" / "summary.md").read_text()


def test_gate_without_a_waivers_file_fails_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    code, report = gate(tmp_path)

    assert (code, report["verdict"], report["waivers"]["applied"]) == (1, "drift", [])


def test_gate_usage_errors_exit_2_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(STATUS_WAIVER.format(expires="soon"))

    missing = main(["gate", "--waivers", str(tmp_path / "none.yaml")])
    malformed = main(["gate", "--waivers", str(broken)])

    err = capsys.readouterr().err
    assert (missing, malformed) == (2, 2)
    assert f"waivers file {str(tmp_path / 'none.yaml')!r} does not exist" in err
    assert f"{broken}: line 2: expires='soon' is not a date written YYYY-MM-DD" in err
    assert not (tmp_path / "report").exists()


def test_the_documented_example_file_parses() -> None:
    example = Path(__file__).resolve().parent.parent / "waivers.example.yaml"

    waivers = parse_waivers(example.read_text(encoding="utf-8"), example.name)

    assert [(w.owner, w.line, w.match) for w in waivers] == [
        ("calls-team", 17, "unknown_enum_value at $.data.status"),
        ("lists-team", 23, "invalid_format at $.data.contact.lists[*].optOut"),
        ("platform-team", 29, "fingerprint 0123456789abcdef"),
    ]
