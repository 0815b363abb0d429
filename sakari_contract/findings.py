"""Findings, errors and verdicts: the records every report is rendered from.

A *finding* is one way a response departs from the contract (drift). An *error* is
a failure of the infrastructure (timeout, refused connection, 5xx, rate limit left
after retries): it is never a finding, because it says nothing about the contract.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

ARRAY_INDEX = re.compile(r"\[\d+\]")


class Severity(enum.StrEnum):
    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"


class Kind(enum.StrEnum):
    # Kinds of the body.
    UNKNOWN_ENUM_VALUE = "unknown_enum_value"
    TYPE_MISMATCH = "type_mismatch"
    MISSING_REQUIRED = "missing_required"
    UNEXPECTED_NULL = "unexpected_null"
    INVALID_FORMAT = "invalid_format"
    CONSTRAINT_VIOLATION = "constraint_violation"
    UNDOCUMENTED_FIELD = "undocumented_field"
    PROBABLE_RENAME = "probable_rename"
    DUPLICATE_KEY = "duplicate_key"
    SCHEMA_MISMATCH = "schema_mismatch"
    # Drift the schema still permits, tracked across runs (see history).
    PERMITTED_CHANGE = "permitted_change"
    # Kinds of the exchange.
    UNDOCUMENTED_STATUS = "undocumented_status"
    UNDOCUMENTED_MEDIA_TYPE = "undocumented_media_type"
    INVALID_JSON = "invalid_json"
    EMPTY_BODY = "empty_body"
    AUTH_NOT_ENFORCED = "auth_not_enforced"


BODY_KINDS = frozenset(
    {
        Kind.UNKNOWN_ENUM_VALUE,
        Kind.TYPE_MISMATCH,
        Kind.MISSING_REQUIRED,
        Kind.UNEXPECTED_NULL,
        Kind.INVALID_FORMAT,
        Kind.CONSTRAINT_VIOLATION,
        Kind.UNDOCUMENTED_FIELD,
        Kind.PROBABLE_RENAME,
        Kind.DUPLICATE_KEY,
        Kind.SCHEMA_MISMATCH,
    }
)


class ErrorKind(enum.StrEnum):
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    TRUNCATED_BODY = "truncated_body"
    AUTH_FAILED = "auth_failed"


class Verdict(enum.StrEnum):
    CONFORM = "conform"
    DRIFT = "drift"
    INFRA = "infra"

    @property
    def exit_code(self) -> int:
        return {"conform": 0, "drift": 1, "infra": 3}[self.value]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a response came from: a live request, or a file and line."""

    operation: str | None = None
    request: str | None = None
    file: str | None = None
    line: int | None = None
    entry: int | None = None

    def describe(self) -> str:
        if self.file is not None:
            where = f"line {self.line}" if self.line is not None else None
            if self.entry is not None:
                where = f"entry {self.entry}"
            return f"{self.file}:{where}" if where else self.file
        return self.request or self.operation or "-"


@dataclass(slots=True)
class Finding:
    kind: Kind
    severity: Severity
    path: str
    message: str
    schema_path: str = ""
    expected: Any = None
    observed: Any = None
    detail: str | None = None
    source: Source = field(default_factory=Source)
    count: int = 1
    # Filled in by the history and the gate.
    status: str | None = None
    waiver: str | None = None
    first_seen: str | None = None

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: what drifted and where, not the value."""
        key = f"{self.kind}|{generic_path(self.path)}|{self.schema_path}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["severity"] = str(self.severity)
        data["fingerprint"] = self.fingerprint
        data["source"] = {k: v for k, v in data["source"].items() if v is not None}
        return data

    def __str__(self) -> str:
        return f"{self.severity} {self.kind} at {self.path}: {self.message}"


@dataclass(slots=True)
class InfraError:
    kind: ErrorKind
    message: str
    source: Source = field(default_factory=Source)
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["source"] = {k: v for k, v in data["source"].items() if v is not None}
        return data

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def generic_path(path: str) -> str:
    """``$.data.lists[3].optIn`` -> ``$.data.lists[*].optIn``: the same drift in
    every list item is one fingerprint."""
    return ARRAY_INDEX.sub("[*]", path)


def breaking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.BREAKING and not f.waiver]


def decide(findings: list[Finding], errors: list[InfraError]) -> Verdict:
    """Drift wins over infra: drift seen on the responses that did arrive stands."""
    if breaking(findings):
        return Verdict.DRIFT
    if errors:
        return Verdict.INFRA
    return Verdict.CONFORM
