"""The reports: drift.json, JUnit XML, the Markdown summary and the terminal lines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from sakari_contract import (
    ErrorKind,
    Finding,
    InfraError,
    Kind,
    RunResult,
    Severity,
    Source,
    UsageError,
)
from sakari_contract.reports import junit, markdown, render_json, render_terminal
from sakari_contract.reports.writer import write_reports

LIVE = Source(
    operation="GET /v1/accounts/{accountId}/calls/{callId}",
    request="GET /v1/accounts/acc1/calls/call1",
)
STARTED = "2025-03-04T05:06:07Z"
FINISHED = "2025-03-04T05:06:09Z"


def conform_result() -> RunResult:
    return RunResult(
        command="check",
        target="http://127.0.0.1:8123",
        counts=Counter(responses=5),
        started=STARTED,
        finished=FINISHED,
    )


def drift_findings() -> list[Finding]:
    return [
        Finding(
            Kind.UNKNOWN_ENUM_VALUE,
            Severity.BREAKING,
            "$.data.status",
            "'queued' is not a documented status",
            schema_path="#/components/schemas/Call/properties/status/enum",
            expected=["initiated", "completed"],
            observed="queued",
            source=LIVE,
        ),
        Finding(
            Kind.INVALID_FORMAT,
            Severity.BREAKING,
            "$.data.contact.lists[*].optIn",
            "not an RFC 3339 date-time",
            expected="date-time",
            observed="2025-01-01 10:00:00",
            detail="space instead of T",
            count=3,
            source=LIVE,
        ),
        Finding(
            Kind.TYPE_MISMATCH,
            Severity.BREAKING,
            "$.data.duration",
            "expected integer, got string",
            expected="integer",
            observed="12",
            source=LIVE,
            waiver="CALLS-12 until 2025-04-01",
        ),
        Finding(
            Kind.UNDOCUMENTED_FIELD,
            Severity.WARNING,
            "$.data.queue",
            "property not in the contract",
            observed={"position": 1},
            source=Source(file="calls.jsonl", line=4),
        ),
        Finding(
            Kind.PERMITTED_CHANGE,
            Severity.INFO,
            "$.data.note",
            "a new value the schema permits",
            observed="café ✓",
        ),
    ]


def drift_result() -> RunResult:
    return RunResult(
        command="check",
        target="http://127.0.0.1:8123",
        findings=drift_findings(),
        counts=Counter(responses=12),
        started=STARTED,
        finished=FINISHED,
        retries={"used": 2.0, "waited_seconds": 1.5},
        notes=["sandbox drift profile: enum"],
    )


def infra_result() -> RunResult:
    return RunResult(
        command="check",
        target="https://sandbox.example/v1",
        errors=[
            InfraError(ErrorKind.TIMEOUT, "no response within 10 s", source=LIVE),
            InfraError(ErrorKind.RATE_LIMITED, "429 after 3 retries", count=2),
        ],
        counts=Counter(responses=3),
        started=STARTED,
        finished=FINISHED,
    )


def parse_suite(text: str) -> ET.Element:
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None
    return suite


def suite_counts(suite: ET.Element) -> dict[str, str | None]:
    return {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}


def case_names(suite: ET.Element) -> list[tuple[str | None, str | None]]:
    return [(c.get("classname"), c.get("name")) for c in suite.iter("testcase")]


def case(suite: ET.Element, name: str) -> ET.Element:
    found = [c for c in suite.iter("testcase") if c.get("name") == name]
    assert len(found) == 1
    return found[0]


# drift.json


def test_drift_json_states_verdict_exit_code_and_counts() -> None:
    result = drift_result()
    data = json.loads(render_json(result))

    assert data == result.to_dict()
    assert data["verdict"] == "drift"
    assert data["exit_code"] == 1
    assert data["counts"]["responses"] == 12
    assert data["counts"]["findings"] == 5
    assert data["counts"]["errors"] == 0
    assert data["counts"]["by_severity"] == {"breaking": 3, "warning": 1, "info": 1}
    assert data["findings"][1]["count"] == 3
    assert data["findings"][2]["waiver"] == "CALLS-12 until 2025-04-01"


def test_drift_json_of_conform_and_infra_runs() -> None:
    conform = json.loads(render_json(conform_result()))
    infra = json.loads(render_json(infra_result()))

    assert (conform["verdict"], conform["exit_code"]) == ("conform", 0)
    assert conform["counts"]["findings"] == 0
    assert (infra["verdict"], infra["exit_code"]) == ("infra", 3)
    assert infra["counts"]["errors"] == 2
    assert [e["kind"] for e in infra["errors"]] == ["timeout", "rate_limited"]


def test_drift_json_keeps_non_ascii_and_survives_values_json_cannot_carry() -> None:
    result = drift_result()
    result.findings[3].observed = {"ratio": float("nan"), "raw": b"\x01"}

    text = render_json(result)

    assert '"observed": "café ✓"' in text
    assert json.loads(text)["findings"][3]["observed"] == {
        "ratio": "nan",
        "raw": "b'\\x01'",
    }


# JUnit XML


def test_junit_counts_and_names_every_finding_of_a_drift_run() -> None:
    suite = parse_suite(junit.render(drift_result()))

    assert suite.get("name") == "sakari-contract"
    assert suite_counts(suite) == {
        "tests": "6",
        "failures": "3",
        "errors": "0",
        "skipped": "1",
    }
    assert case_names(suite) == [
        ("unknown_enum_value", "$.data.status"),
        ("invalid_format", "$.data.contact.lists[*].optIn"),
        ("type_mismatch", "$.data.duration"),
        ("undocumented_field", "$.data.queue"),
        ("permitted_change", "$.data.note"),
        ("sakari-contract", "contract conformance"),
    ]
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {
        "command": "check",
        "target": "http://127.0.0.1:8123",
        "verdict": "drift",
    }


def test_junit_failure_lists_the_finding_and_its_count() -> None:
    suite = parse_suite(junit.render(drift_result()))
    failure = case(suite, "$.data.contact.lists[*].optIn").find("failure")

    assert failure is not None
    assert failure.get("type") == "invalid_format"
    assert failure.get("message") == (
        "invalid_format at $.data.contact.lists[*].optIn: "
        "not an RFC 3339 date-time (×3)"
    )
    fingerprint = drift_findings()[1].fingerprint
    assert (failure.text or "").splitlines() == [
        "kind: invalid_format",
        "severity: breaking",
        "path: $.data.contact.lists[*].optIn",
        'expected: "date-time"',
        'observed: "2025-01-01 10:00:00"',
        "detail: space instead of T",
        "message: not an RFC 3339 date-time",
        "count: 3",
        "source: GET /v1/accounts/acc1/calls/call1",
        f"fingerprint: {fingerprint}",
    ]


def test_junit_waived_is_skipped_and_warnings_pass() -> None:
    suite = parse_suite(junit.render(drift_result()))
    waived = case(suite, "$.data.duration")
    warning = case(suite, "$.data.queue")

    skipped = waived.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived: CALLS-12 until 2025-04-01"
    assert waived.find("failure") is None
    assert [child.tag for child in warning] == ["system-out"]
    assert 'observed: {"position": 1}' in (warning.findtext("system-out") or "")


def test_junit_conformance_case_fails_on_drift_with_the_counts() -> None:
    suite = parse_suite(junit.render(drift_result()))
    failure = case(suite, "contract conformance").find("failure")

    assert failure is not None
    assert failure.get("message") == "drift: 2 breaking finding(s) not waived"
    assert (failure.text or "").splitlines() == [
        "verdict: drift (exit code 1)",
        "command: check",
        "target: http://127.0.0.1:8123",
        "responses checked 12 · breaking 3 · warning 1 · info 1 · errors 0",
        "new 0 · recurring 0 · resolved 0 · waived 1",
        "retries: used 2, waited seconds 1.5",
        "sandbox drift profile: enum",
    ]


def test_junit_infra_run_reports_each_error_and_errors_the_conformance_case() -> None:
    suite = parse_suite(junit.render(infra_result()))

    assert suite_counts(suite) == {
        "tests": "3",
        "failures": "0",
        "errors": "3",
        "skipped": "0",
    }
    assert case_names(suite) == [
        ("infra", "timeout GET /v1/accounts/acc1/calls/call1"),
        ("infra", "rate_limited -"),
        ("sakari-contract", "contract conformance"),
    ]
    error = case(suite, "rate_limited -").find("error")
    assert error is not None
    assert (error.get("type"), error.get("message")) == (
        "rate_limited",
        "429 after 3 retries",
    )
    conformance = case(suite, "contract conformance").find("error")
    assert conformance is not None
    assert conformance.get("type") == "infra"


def test_junit_conform_run_passes_one_case() -> None:
    suite = parse_suite(junit.render(conform_result()))
    conformance = case(suite, "contract conformance")

    assert suite_counts(suite) == {
        "tests": "1",
        "failures": "0",
        "errors": "0",
        "skipped": "0",
    }
    assert suite.get("time") == "2.000"
    assert [child.tag for child in conformance] == ["system-out"]
    assert (conformance.findtext("system-out") or "").splitlines()[3] == (
        "responses checked 5 · breaking 0 · warning 0 · info 0 · errors 0"
    )


def test_junit_incomplete_run_without_errors_still_errors() -> None:
    result = conform_result()
    result.incomplete = True
    suite = parse_suite(junit.render(result))
    error = case(suite, "contract conformance").find("error")

    assert error is not None
    assert error.get("message") == (
        "infra: the run was incomplete, part of the contract was not checked"
    )


def test_junit_parses_when_values_hold_characters_xml_forbids() -> None:
    result = drift_result()
    hostile = result.findings[0]
    hostile.observed = "a\x00b\x1b[31m"
    hostile.message = "raw \x00 and \x1b and \ufffe"
    hostile.path = "$.data.\x1bstatus"

    suite = parse_suite(junit.render(result))
    failure = case(suite, "$.data.\\u001bstatus").find("failure")

    assert failure is not None
    lines = (failure.text or "").splitlines()
    assert 'observed: "a\\u0000b\\u001b[31m"' in lines
    assert "message: raw \\u0000 and \\u001b and \\ufffe" in lines


# Markdown


@pytest.mark.parametrize(
    ("result", "title"),
    [
        (conform_result(), "## sakari-contract: conform ✅"),
        (drift_result(), "## sakari-contract: drift ❌"),
        (infra_result(), "## sakari-contract: infra ⚠️"),
    ],
)
def test_markdown_title_states_the_verdict(result: RunResult, title: str) -> None:
    assert markdown.render(result).splitlines()[0] == title


def test_markdown_rows_of_findings() -> None:
    lines = markdown.render(drift_result()).splitlines()

    assert (
        "| ❌ breaking | `invalid_format` | `$.data.contact.lists[*].optIn` ×3 "
        '| `"date-time"` | `"2025-01-01 10:00:00"` (space instead of T) | — | — |'
    ) in lines
    assert (
        '| ❌ breaking | `type_mismatch` | `$.data.duration` | `"integer"` | `"12"` '
        "| — | CALLS-12 until 2025-04-01 |"
    ) in lines
    assert (
        '| ⚠️ warning | `undocumented_field` | `$.data.queue` | — | `{"position": 1}` '
        "| — | — |"
    ) in lines


def test_markdown_lists_waived_findings_after_unwaived_breaking_ones() -> None:
    lines = markdown.render(drift_result()).splitlines()
    rows = [line for line in lines if line.startswith("| ") and "`" in line]

    assert [row.split(" | ")[1] for row in rows] == [
        "`unknown_enum_value`",
        "`invalid_format`",
        "`undocumented_field`",
        "`permitted_change`",
        "`type_mismatch`",
    ]


def test_markdown_overview_lines() -> None:
    text = markdown.render(drift_result())

    assert text.splitlines()[2:6] == [
        "**Target:** `http://127.0.0.1:8123` · **Command:** `check`  ",
        "**Counts:** responses checked 12 · breaking 3 · warning 1 · info 1 · "
        "errors 0  ",
        "**History and waivers:** new 0 · recurring 0 · resolved 0 · waived 1  ",
        "**Retries:** used 2, waited seconds 1.5",
    ]
    assert "- sandbox drift profile: enum" in text.splitlines()


def test_markdown_shows_new_and_recurring_and_first_seen() -> None:
    result = drift_result()
    result.findings[0].status = "new"
    result.findings[1].status = "recurring"
    result.findings[1].first_seen = "2025-02-01T00:00:00Z"
    result.resolved = [{"fingerprint": "0123456789abcdef"}]
    lines = markdown.render(result).splitlines()

    assert (
        "**History and waivers:** new 1 · recurring 1 · resolved 1 · waived 1  "
        in lines
    )
    assert (
        "| ❌ breaking · recurring | `invalid_format` "
        '| `$.data.contact.lists[*].optIn` ×3 | `"date-time"` '
        '| `"2025-01-01 10:00:00"` (space instead of T) | 2025-02-01T00:00:00Z | — |'
    ) in lines


def test_markdown_without_history_or_waivers_has_no_lifecycle_line() -> None:
    text = markdown.render(infra_result())

    assert "History and waivers" not in text
    assert "| `rate_limited` | `-` | 429 after 3 retries | 2 |" in text.splitlines()


def test_markdown_escapes_pipes_newlines_and_backticks_in_cells() -> None:
    finding = Finding(
        Kind.TYPE_MISMATCH,
        Severity.BREAKING,
        "$.data.a|b",
        "bad",
        expected="x|y",
        observed="line1\nline2 `tick`",
        detail="a | b\nc",
    )

    assert markdown.finding_row(finding) == (
        '| ❌ breaking | `type_mismatch` | `$.data.a\\|b` | `"x\\|y"` '
        '| ``"line1\\nline2 `tick`"`` (a \\| b c) | — | — |'
    )


def test_markdown_caps_long_values_at_120_characters() -> None:
    cell = markdown.code("x" * 500)

    assert cell == "`" + "x" * 119 + "…`"


def test_markdown_caps_the_table_at_200_rows() -> None:
    result = conform_result()
    result.findings = [
        Finding(Kind.UNDOCUMENTED_FIELD, Severity.INFO, f"$.data.f{i}", "extra")
        for i in range(205)
    ]
    lines = markdown.render(result).splitlines()
    rows = [line for line in lines if line.startswith("| ℹ️ info |")]

    assert len(rows) == 200
    assert rows[-1].startswith("| ℹ️ info | `undocumented_field` | `$.data.f199` |")
    assert "5 more finding(s) are listed in drift.json." in lines


def test_markdown_conform_run_says_no_findings() -> None:
    assert markdown.render(conform_result()).splitlines()[-1] == "No findings."


# Terminal


def test_terminal_summary_of_a_drift_run() -> None:
    assert render_terminal(drift_result()).splitlines() == [
        "sakari-contract check: drift (exit 1)",
        "target: http://127.0.0.1:8123",
        "responses checked 12 · breaking 3 · warning 1 · info 1 · errors 0",
        "new 0 · recurring 0 · resolved 0 · waived 1",
        "retries: used 2, waited seconds 1.5",
        "breaking:",
        "  unknown_enum_value $.data.status: 'queued' is not a documented status",
        "  invalid_format $.data.contact.lists[*].optIn: not an RFC 3339 date-time"
        " (×3)",
        "notes:",
        "  sandbox drift profile: enum",
    ]


def test_terminal_summary_lists_ten_breaking_findings_and_escapes_controls() -> None:
    result = conform_result()
    result.findings = [
        Finding(Kind.MISSING_REQUIRED, Severity.BREAKING, f"$.data.f{i}", "gone\x1b[2J")
        for i in range(12)
    ]
    lines = render_terminal(result).splitlines()

    assert lines[3] == "breaking:"
    assert lines[4] == "  missing_required $.data.f0: gone\\x1b[2J"
    assert lines[13] == "  missing_required $.data.f9: gone\\x1b[2J"
    assert lines[14] == "  … 2 more in drift.json"
    assert len(lines) == 15


def test_terminal_summary_of_an_infra_run() -> None:
    assert render_terminal(infra_result()).splitlines() == [
        "sakari-contract check: infra (exit 3)",
        "target: https://sandbox.example/v1",
        "responses checked 3 · breaking 0 · warning 0 · info 0 · errors 2",
        "errors:",
        "  timeout: no response within 10 s",
        "  rate_limited: 429 after 3 retries",
    ]


# Writer


def test_writer_creates_the_three_reports_and_no_temp_files(tmp_path: Path) -> None:
    directory = tmp_path / "reports" / "latest"
    result = drift_result()

    written = write_reports(result, directory)

    assert written == [
        directory / "drift.json",
        directory / "junit.xml",
        directory / "summary.md",
        directory / "report.html",
    ]
    assert sorted(p.name for p in directory.iterdir()) == [
        "drift.json",
        "junit.xml",
        "report.html",
        "summary.md",
    ]
    data = json.loads((directory / "drift.json").read_text(encoding="utf-8"))
    assert (data["verdict"], data["exit_code"]) == ("drift", 1)
    assert suite_counts(ET.parse(directory / "junit.xml").getroot()[0])["tests"] == "6"
    summary = (directory / "summary.md").read_text(encoding="utf-8")
    assert summary.splitlines()[0] == "## sakari-contract: drift ❌"


def test_writer_replaces_reports_of_an_earlier_run(tmp_path: Path) -> None:
    write_reports(drift_result(), tmp_path)
    write_reports(conform_result(), tmp_path)

    data = json.loads((tmp_path / "drift.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "conform"
    assert len(list(tmp_path.iterdir())) == 4


def test_writer_refuses_a_directory_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "latest"

    with pytest.raises(UsageError) as caught:
        write_reports(conform_result(), target)

    message = str(caught.value)
    assert str(target) in message
    assert "\n" not in message
    assert caught.value.exit_code == 2
    assert blocker.read_text(encoding="utf-8") == "x"
