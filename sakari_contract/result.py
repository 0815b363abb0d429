"""The outcome of one run (``check``, ``validate`` or ``gate``): what every report
renders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .findings import Finding, InfraError, Severity, Verdict, decide


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class RunResult:
    command: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[InfraError] = field(default_factory=list)
    # responses: responses checked; records_read/unreadable for files.
    counts: Counter[str] = field(default_factory=Counter)
    started: str = field(default_factory=utcnow)
    finished: str | None = None
    incomplete: bool = False
    notes: list[str] = field(default_factory=list)
    # Retry budget, stated in the report: retries used and seconds waited.
    retries: dict[str, float] = field(default_factory=dict)
    # Filled in by the history: fingerprints seen last run and gone now.
    resolved: list[dict[str, Any]] = field(default_factory=list)
    # Filled in by the gate.
    waivers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Filled in by the history: this target's recent runs, oldest first, for the
    # HTML chart. Not part of drift.json, which describes this run alone.
    trend: list[dict[str, Any]] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        verdict = decide(self.findings, self.errors)
        if verdict is Verdict.CONFORM and self.incomplete:
            return Verdict.INFRA
        return verdict

    def severity_counts(self) -> dict[str, int]:
        counts = Counter(str(f.severity) for f in self.findings)
        return {str(s): counts.get(str(s), 0) for s in Severity}

    def kind_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(str(f.kind) for f in self.findings).items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "target": self.target,
            "started": self.started,
            "finished": self.finished,
            "verdict": str(self.verdict),
            "exit_code": self.verdict.exit_code,
            "incomplete": self.incomplete,
            "counts": {
                **dict(sorted(self.counts.items())),
                "findings": len(self.findings),
                "errors": len(self.errors),
                "by_severity": self.severity_counts(),
                "by_kind": self.kind_counts(),
            },
            "retries": self.retries,
            "notes": self.notes,
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
            "resolved": self.resolved,
            "waivers": self.waivers,
        }
