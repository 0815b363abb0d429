"""Failures of the infrastructure are errors, never drift: every sandbox fault
profile through `sakari-contract check`, a run cut short by Ctrl-C, and a run
against a target that keeps failing."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sakari_contract.cli import main
from sakari_contract.live import CheckOptions, LiveRun, Target
from sakari_contract.sandbox.server import SandboxServer
from sakari_contract.schema import load_contract

GIVE_UP = "stopped after 3 infra errors in a row"
# fault -> (exit code, error kinds, retries used, seconds waited or None when
# jittered, whether the run gave up). The run checks one record, then probes five
# unknown ids; every fault but `truncated` (which cuts record bodies only) hits
# the probes too.
FAULTS: dict[str, tuple[int, list[str], int, float | None, bool]] = {
    "slow": (3, ["timeout"] * 3, 0, 0.0, True),
    "server-error": (3, ["server_error"] * 3, 6, None, True),
    "reset": (3, ["connection_error"] * 3, 6, None, True),
    "truncated": (3, ["truncated_body"], 0, 0.0, False),
}
REPORTS = {"drift.json", "junit.xml", "summary.md"}


def check(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    history = str(tmp_path / "history.sqlite")
    code = main(["check", "--report-dir", str(tmp_path), "--history", history, *args])
    return code, json.loads((tmp_path / "drift.json").read_text())


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_profile_gives_its_verdict_and_no_finding(
    tmp_path: Path, fault: str
) -> None:
    exit_code, kinds, retries, waited, gave_up = FAULTS[fault]
    # One record: Get call is sent for it and for the five unknown-id probes.
    code, report = check(
        tmp_path, "--sandbox-fault", fault, "--max-calls", "1", "--timeout", "0.5"
    )

    assert code == exit_code
    assert report["verdict"] == {0: "conform", 3: "infra"}[exit_code]
    assert report["findings"] == []
    assert [e["kind"] for e in report["errors"]] == kinds
    assert report["retries"]["retries_used"] == retries
    if waited is not None:
        assert report["retries"]["seconds_waited"] == waited
    else:
        assert report["retries"]["seconds_waited"] > 0
    assert report["incomplete"] is gave_up
    assert any(note.startswith(GIVE_UP) for note in report["notes"]) is gave_up


def test_rate_limited_run_states_its_retries_in_every_report(tmp_path: Path) -> None:
    code, report = check(tmp_path, "--sandbox-fault", "rate-limit", "--max-calls", "1")

    # Get calls 3 and 6 of the run answer 429 with Retry-After: 1.
    line = "retries used 2, retry budget 10, seconds waited 2, wait budget seconds 30"
    assert code == 0
    assert report["verdict"] == "conform"
    assert (report["findings"], report["errors"]) == ([], [])
    assert report["retries"]["retries_used"] == 2
    assert report["retries"]["seconds_waited"] == 2.0
    assert report["counts"]["unknown_id_probes"] == 5
    assert report["counts"]["requests"] == 1 + 1 + 6 + 2 + 2
    assert f"**Retries:** {line}" in (tmp_path / "summary.md").read_text()
    assert f"retries: {line}" in (tmp_path / "junit.xml").read_text()


def test_dead_target_stops_after_three_failures_in_a_row(tmp_path: Path) -> None:
    # Sixty records to check; the run asks for three, then stops.
    code, report = check(tmp_path, "--sandbox-fault", "reset")

    assert code == 3
    assert report["incomplete"] is True
    assert report["findings"] == []
    assert "call_records" not in report["counts"]
    # A token, one list page, then three calls of three attempts each.
    assert report["counts"]["requests"] == 1 + 1 + 3 * 3
    assert report["counts"]["responses"] == 1
    assert report["notes"] == [
        f"{GIVE_UP}: connection_error: [Errno 104] Connection reset by peer"
    ]


def test_drift_on_the_responses_that_arrived_wins_over_infra() -> None:
    contract = load_contract(None)
    options = CheckOptions(max_calls=3, probes=0, max_retries=0, rate_limit=40.0)
    with SandboxServer(drift="status-new-value", fault="rate-limit") as server:
        target = Target(
            server.base_url, server.account_id, server.client_id, server.client_secret
        )
        result = LiveRun(target, contract, options).run()

    # Get call 3 answers 429 and the empty budget allows no retry.
    assert [str(e.kind) for e in result.errors] == ["rate_limited"]
    assert [(str(f.kind), f.path, f.count) for f in result.findings] == [
        ("unknown_enum_value", "$.data.status", 2)
    ]
    assert str(result.verdict) == "drift"
    assert result.verdict.exit_code == 1


def test_ctrl_c_writes_what_was_checked_and_exits_3(tmp_path: Path) -> None:
    # `slow` holds the first Get call past its (default) 10 s timeout.
    command = [sys.executable, "-m", "sakari_contract.cli", "check"]
    command += ["--sandbox-fault", "slow", "--report-dir", str(tmp_path)]
    command += ["--history", str(tmp_path / "history.sqlite")]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        seen = wait_for_line(process, "checking 60 call records", deadline=30.0)
        time.sleep(0.5)  # the first Get call is now in flight
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(5)

    report = json.loads((tmp_path / "drift.json").read_text())
    assert seen
    assert process.returncode == 3
    assert "Traceback" not in stderr
    assert "incomplete: part of the contract was not checked" in stdout
    assert report["verdict"] == "infra"
    assert report["incomplete"] is True
    assert report["notes"] == ["interrupted: reports cover what was checked"]
    assert report["findings"] == []
    assert report["counts"]["list_pages"] == 1
    assert report["counts"]["responses"] == 1
    assert {p.name for p in tmp_path.iterdir()} >= REPORTS


def wait_for_line(process: subprocess.Popen, text: str, deadline: float) -> bool:
    """Read stderr until a line holds ``text``; False if none did in time."""
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not selector.select(timeout=end - time.monotonic()):
            break
        line = process.stderr.readline()
        if not line:
            break
        if text in line:
            return True
    return False
