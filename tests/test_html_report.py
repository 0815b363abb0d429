"""report.html: escaped, self-contained, and drawn by a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sakari_contract.findings import Finding, Kind, Severity
from sakari_contract.reports.html import render
from sakari_contract.reports.writer import write_reports
from sakari_contract.result import RunResult

HOSTILE = '</td><script>alert("x")</script><img src=x onerror=alert(1)>'
BROWSER_TIMEOUT = 60


def sample() -> RunResult:
    result = RunResult(command="check", target="https://api.example.test")
    result.findings = [
        Finding(
            Kind.UNKNOWN_ENUM_VALUE, Severity.BREAKING, "$.data.status",
            "not documented", observed=HOSTILE, status="new",
            first_seen="2025-01-05T02:00:00Z",
        ),
        Finding(
            Kind.INVALID_FORMAT, Severity.BREAKING, "$.data.created.at",
            "no offset", observed="2024-05-01T12:00:00", detail="no UTC offset",
            status="recurring", first_seen="2025-01-01T02:00:00Z",
            waiver="calls-team: fix due (until 2999-01-01)",
        ),
        Finding(
            Kind.UNDOCUMENTED_FIELD, Severity.WARNING, '$.data["<b>odd</b>"]',
            "not in the contract", status="flapping",
            first_seen="2025-01-02T02:00:00Z",
        ),
        Finding(
            Kind.PERMITTED_CHANGE, Severity.INFO, "$.data.phoneNumber.type",
            "new value", observed=["shortcode"], detail="new value", status="new",
            first_seen="2025-01-05T02:00:00Z",
        ),
    ]  # fmt: skip
    result.resolved = [
        {"kind": "missing_required", "path": "$.data.voicemail",
         "first_seen": "2025-01-01T02:00:00Z", "last_seen": "2025-01-04T02:00:00Z"}
    ]  # fmt: skip
    result.trend = [
        {"run": n, "started": f"2025-01-0{n}T02:00:00Z", "verdict": "drift",
         "breaking": n % 3, "warning": 1, "info": n % 2, "waived": 0, "errors": 0}
        for n in range(1, 6)
    ]  # fmt: skip
    return result


def test_every_value_is_escaped() -> None:
    page = render(sample())

    assert "<script>alert" not in page
    assert "<img" not in page
    assert "<b>odd</b>" not in page
    assert "&lt;/td&gt;&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;" in page
    assert "$.data[&quot;&lt;b&gt;odd&lt;/b&gt;&quot;]" in page
    assert page.count("<script>") == 1


def test_page_needs_no_network() -> None:
    page = render(sample())

    assert re.findall(r"<[a-z][^>]*\b(?:src|href)=", page) == []
    assert "default-src 'none'" in page
    # The only URL is the SVG namespace, which is a name and never fetched.
    assert re.findall(r"https?://[^\s\"'<]+", page) == [
        "https://api.example.test",
        "http://www.w3.org/2000/svg",
    ]


def test_table_and_chart_carry_the_findings_and_the_trend() -> None:
    page = render(sample())

    rows = re.findall(
        r'<tr class="finding (\w+)" data-kind="(\w+)" data-status="(\w+)"', page
    )
    assert rows == [
        ("breaking", "unknown_enum_value", "new"),
        ("warning", "undocumented_field", "flapping"),
        ("info", "permitted_change", "new"),
        ("breaking", "invalid_format", "recurring"),
    ]
    counts = re.findall(r'<rect class="bar (\w+)"[^>]*data-count="(\d+)"', page)
    # A series with no finding in a run draws no bar there.
    assert counts == [
        ("breaking", "1"), ("warning", "1"), ("info", "1"),
        ("breaking", "2"), ("warning", "1"),
        ("warning", "1"), ("info", "1"),
        ("breaking", "1"), ("warning", "1"),
        ("breaking", "2"), ("warning", "1"), ("info", "1"),
    ]  # fmt: skip
    assert '<table id="resolved">' in page


def test_without_history_the_chart_shows_this_run() -> None:
    result = sample()
    result.trend = []

    counts = re.findall(
        r'<rect class="bar (\w+)"[^>]*data-count="(\d+)"', render(result)
    )

    assert counts == [("breaking", "2"), ("warning", "1"), ("info", "1")]


# -- in a real browser ---------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI and was not found")
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")


def browse(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
        *args, url,
    ]  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=True
    )


@pytest.mark.browser
def test_chromium_draws_the_table_and_the_chart(tmp_path: Path) -> None:
    write_reports(sample(), tmp_path / "report")
    url = (tmp_path / "report" / "report.html").as_uri()
    screenshot = tmp_path / "report.png"

    dom = browse(tmp_path, url, "--dump-dom").stdout
    browse(tmp_path, url, f"--screenshot={screenshot}")

    assert re.search(r'<table id="findings" data-rendered="yes">', dom)
    assert re.search(r'<svg id="trend"[^>]*data-rendered="yes"', dom)
    assert len(re.findall(r'<tr class="finding[^>]*data-rendered="yes"', dom)) == 4
    assert len(re.findall(r'<rect class="bar ', dom)) == 12
    assert '<span id="shown">4 of 4 findings shown</span>' in dom
    assert "<script>alert" not in dom
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 10_000
    shutil.copy(screenshot, tmp_path / "report" / "report.png")


@pytest.mark.browser
def test_chromium_filters_by_kind_and_status(tmp_path: Path) -> None:
    write_reports(sample(), tmp_path / "report")
    page = (tmp_path / "report" / "report.html").as_uri()

    by_kind = browse(tmp_path, page + "#kind=unknown_enum_value", "--dump-dom").stdout
    by_status = browse(tmp_path, page + "#status=new", "--dump-dom").stdout

    assert '<span id="shown">1 of 4 findings shown</span>' in by_kind
    assert len(re.findall(r'<tr class="finding[^>]*hidden=""', by_kind)) == 3
    assert '<span id="shown">2 of 4 findings shown</span>' in by_status
    visible = re.findall(
        r'<tr class="finding [^"]*" data-kind="(\w+)"[^>]*>', by_status
    )
    assert len(visible) == 4
    hidden = re.findall(r'data-kind="(\w+)"[^>]*hidden=""', by_status)
    assert sorted(hidden) == ["invalid_format", "undocumented_field"]
