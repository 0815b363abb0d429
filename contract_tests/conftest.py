"""The contract suite: live conformance of Get call, run once per session.

Against the embedded sandbox by default; against a real host with ``--base-url``
or ``SAKARI_BASE_URL`` (credentials from the SAKARI_* variables). The run writes
the same drift.json, junit.xml and summary.md as ``sakari-contract check``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import strategies
from sakari_contract.cli import (
    REMOTE_RATE,
    SANDBOX_RATE,
    on_loopback,
    target_from_env,
)
from sakari_contract.live import CheckOptions, LiveRun, Target
from sakari_contract.redact import for_reports
from sakari_contract.reports.writer import write_reports
from sakari_contract.result import RunResult
from sakari_contract.sandbox.server import SandboxServer
from sakari_contract.schema import load_contract


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sakari-contract")
    group.addoption(
        "--base-url",
        default=os.environ.get("SAKARI_BASE_URL"),
        help="check this host instead of the embedded sandbox",
    )
    group.addoption(
        "--contract-report-dir",
        default="reports/contract",
        help="where the suite writes drift.json, junit.xml and summary.md",
    )


@pytest.fixture(scope="session")
def conformance(request: pytest.FixtureRequest) -> Iterator[RunResult]:
    base_url = request.config.getoption("--base-url")
    report_dir = Path(request.config.getoption("--contract-report-dir"))
    contract = load_contract()
    # Live generation shares the strategies' knowledge: realistic formats and
    # odd call ids for the unknown-id probes.
    strategies.register_schemathesis_formats()
    probes = {"probes": 10, "probe_ids": strategies.call_ids()}
    if base_url:
        rate = SANDBOX_RATE if on_loopback(base_url) else REMOTE_RATE
        options = CheckOptions(rate_limit=rate, **probes)
        result = LiveRun(target_from_env(base_url), contract, options).run()
    else:
        with SandboxServer() as server:
            target = Target(
                server.base_url,
                server.account_id,
                server.client_id,
                server.client_secret,
            )
            options = CheckOptions(rate_limit=SANDBOX_RATE, **probes)
            result = LiveRun(target, contract, options).run()
    # The suite's own assertion messages list findings too: show them masked.
    result = for_reports(result)
    write_reports(result, report_dir)
    yield result
