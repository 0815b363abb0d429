"""Does what the provider sends for Get call still match the contract?"""

from __future__ import annotations

from sakari_contract.findings import Finding, Severity
from sakari_contract.result import RunResult


def listing(findings: list[Finding]) -> str:
    return "\n".join(f"  {f} [{f.source.describe()}] x{f.count}" for f in findings)


def breaking_where(result: RunResult, marker: str) -> list[Finding]:
    return [
        f
        for f in result.findings
        if f.severity is Severity.BREAKING and marker in (f.source.request or "")
    ]


def test_token_flow_and_target_reachable(conformance: RunResult) -> None:
    assert conformance.errors == [], "\n".join(map(str, conformance.errors))
    assert not conformance.incomplete, conformance.notes


def test_call_records_were_found_and_checked(conformance: RunResult) -> None:
    assert conformance.counts["call_records"] >= 1
    assert conformance.counts["list_pages"] >= 1


def test_every_call_record_conforms(conformance: RunResult) -> None:
    drift = [
        f
        for f in breaking_where(conformance, "GET /v1/")
        if "unknown id" not in (f.source.request or "")
        and " with " not in (f.source.request or "")
    ]
    assert drift == [], "drift in call records:\n" + listing(drift)


def test_unknown_call_ids_get_the_404_envelope(conformance: RunResult) -> None:
    assert conformance.counts["unknown_id_probes"] >= 1
    drift = breaking_where(conformance, "unknown id")
    assert drift == [], listing(drift)


def test_requests_without_a_valid_token_are_refused(conformance: RunResult) -> None:
    assert conformance.counts["auth_checks"] == 2
    drift = breaking_where(conformance, " with ")
    assert drift == [], listing(drift)


def test_verdict_is_conform(conformance: RunResult) -> None:
    assert str(conformance.verdict) == "conform", listing(conformance.findings)
