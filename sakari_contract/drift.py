"""The drift engine: turn a response into findings, each with a kind and a path.

Validation runs once, against the strict overlay of the contract, so a valid body
costs one parse and one ``is_valid``. Only an invalid body pays for error
iteration and classification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .findings import ErrorKind, Finding, InfraError, Kind, Severity, Source
from .formats import format_detail
from .parsing import Parsed, parse_body
from .paths import child, jsonpath, leaf, parent
from .schema import CALL_PATH, JSON, Contract

# jsonschema keywords whose failure is a constraint, not a change of shape.
CONSTRAINT_KEYWORDS = frozenset(
    {
        "Minimum",
        "Maximum",
        "ExclusiveMinimum",
        "ExclusiveMaximum",
        "MinLength",
        "MaxLength",
        "MinItems",
        "MaxItems",
        "MinProperties",
        "MaxProperties",
        "MultipleOf",
        "Pattern",
        "UniqueItems",
        "Constant",
    }
)
JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)
CASE_SPLIT = re.compile(r"[_\-\s]+|(?<=[a-z0-9])(?=[A-Z])")
# jsonschema-rs answers is_valid at any depth, but converting an error's instance
# back to Python stops at 255 nested arrays and objects with a ValueError carrying
# this text. Valid bodies never get there, so the hot path pays nothing for it.
RECURSION_LIMIT = "Recursion limit reached"
MAX_ERROR_DEPTH = 255


class NestingTooDeep(Exception):
    """The validator rejected a value it cannot describe: too deeply nested."""


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def name_key(name: str) -> str:
    """``phoneNumber``, ``phone_number``, ``PhoneNumber`` -> ``phonenumber``."""
    return "".join(CASE_SPLIT.split(name)).lower()


@dataclass(slots=True)
class Exchange:
    """One recorded or live response to a request on an operation.

    ``headers`` is None when a recording kept none (a JSON Lines record without
    headers): the media type is then not checked. ``parsed`` carries a body that
    a recording stored as JSON rather than as text; ``body`` is then unused.
    """

    status: int
    headers: Mapping[str, str] | None
    body: bytes
    operation: str = CALL_PATH
    truncated: bool = False
    parsed: Parsed | None = None

    @property
    def media_type(self) -> str:
        for key, value in (self.headers or {}).items():
            if key.lower() == "content-type":
                return value.split(";", 1)[0].strip().lower()
        return ""


@dataclass(slots=True)
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InfraError] = field(default_factory=list)
    # The parsed body when it was JSON, for the history's permitted-drift tracking.
    body: Any = None


@dataclass(slots=True)
class Engine:
    """Checks responses against one contract.

    ``strict`` makes undocumented fields breaking. Findings carry the values
    as found; reports mask personal data when they are written (redact.py).
    """

    contract: Contract
    strict: bool = False
    _validators: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def check_exchange(self, exchange: Exchange, source: Source) -> Outcome:
        outcome = Outcome()
        error = infra_error(exchange, source)
        if error is not None:
            outcome.errors.append(error)
            return outcome
        documented = self.contract.documented_statuses(exchange.operation)
        status = str(exchange.status)
        if status not in documented and f"{status[0]}XX" not in documented:
            outcome.findings.append(undocumented_status(exchange.status, documented))
        elif exchange.parsed is None and not exchange.body:
            outcome.findings.append(empty_body(exchange.status))
        elif exchange.headers is not None and exchange.media_type != JSON:
            outcome.findings.append(undocumented_media_type(exchange.media_type))
        else:
            ref = self.contract.response_ref(exchange.operation, status)
            if ref is not None:
                parsed = exchange.parsed or parse_body(exchange.body)
                outcome.body = parsed.value
                outcome.findings = self.check_parsed(parsed, ref)
        for finding in outcome.findings:
            finding.source = source
        return outcome

    def check_body(self, raw: bytes, ref: str) -> tuple[Any, list[Finding]]:
        parsed = parse_body(raw)
        return parsed.value, self.check_parsed(parsed, ref)

    def check_parsed(self, parsed: Parsed, ref: str) -> list[Finding]:
        """Findings for a body already parsed by :func:`parse_body`."""
        if not parsed.ok:
            return parsed.findings
        validator = self.validator(ref)
        if validator.is_valid(parsed.value):
            # Parse findings are duplicate keys and invalid JSON, never claimed.
            return list(parsed.findings)
        try:
            drift = self.drift_of(parsed.value, validator)
        except NestingTooDeep:
            return [nesting_too_deep()]
        findings = parsed.findings + drift
        if parsed.claimed:
            findings = [f for f in findings if not claimed(f, parsed.claimed)]
        return findings

    def check_value(self, value: Any, ref: str) -> list[Finding]:
        validator = self.validator(ref)
        if validator.is_valid(value):
            return []
        try:
            return self.drift_of(value, validator)
        except NestingTooDeep:
            return [nesting_too_deep()]

    def drift_of(self, value: Any, validator: Any) -> list[Finding]:
        """Classify every error of a value ``validator`` has already rejected
        (``is_valid`` is the cheap question; ``iter_errors`` the costly one).

        Raises :class:`NestingTooDeep` when an error sits in a value nested
        deeper than the validator can hand back.
        """
        findings: list[Finding] = []
        try:
            for error in validator.iter_errors(value):
                findings.extend(self.classify(error))
        except ValueError as exc:
            if RECURSION_LIMIT not in str(exc):
                raise
            raise NestingTooDeep from None
        findings = drop_shadowed(findings)
        findings += probable_renames(findings, self.contract)
        return findings

    def validator(self, ref: str) -> Any:
        """The strict validator for ``ref``, looked up once per engine (this sits
        on the hot path of every record)."""
        validator = self._validators.get(ref)
        if validator is None:
            validator = self.contract.validator(ref, strict=True)
            self._validators[ref] = validator
        return validator

    def classify(self, error: Any) -> list[Finding]:
        keyword = type(error.kind).__name__
        path = jsonpath(error.instance_path)
        schema_path = "#/" + "/".join(str(p) for p in error.schema_path)
        if keyword == "AdditionalProperties":
            return [
                self.undocumented(child(path, name), error.instance[name], schema_path)
                for name in error.kind.unexpected
            ]
        finding = classify_keyword(keyword, error, path)
        finding.schema_path = schema_path
        return [finding]

    def undocumented(self, path: str, value: Any, schema_path: str) -> Finding:
        severity = Severity.BREAKING if self.strict else Severity.WARNING
        return Finding(
            kind=Kind.UNDOCUMENTED_FIELD,
            severity=severity,
            path=path,
            message=f"{leaf(path)} is not in the contract",
            schema_path=schema_path,
            expected="absent",
            observed=value,
        )


def classify_keyword(keyword: str, error: Any, path: str) -> Finding:
    value = error.instance
    if keyword == "Required":
        name = error.kind.property
        return breaking(
            Kind.MISSING_REQUIRED,
            child(path, name),
            f"required field {name} is absent",
            expected="present",
            observed="absent",
        )
    if keyword == "Type":
        expected = " or ".join(error.kind.types)
        if value is None:
            kind, message = Kind.UNEXPECTED_NULL, f"null where {expected} is expected"
        else:
            kind = Kind.TYPE_MISMATCH
            message = f"{json_type(value)} where {expected} is expected"
        return breaking(kind, path, message, expected=expected, observed=value)
    if keyword == "Enum":
        options = error.kind.options
        return breaking(
            Kind.UNKNOWN_ENUM_VALUE,
            path,
            f"{value!r} is not one of the documented values",
            expected=options,
            observed=value,
        )
    if keyword == "Format":
        fmt = error.kind.format
        detail = format_detail(fmt, value)
        finding = breaking(
            Kind.INVALID_FORMAT,
            path,
            f"not a valid {fmt}: {detail}",
            expected=fmt,
            observed=value,
        )
        finding.detail = detail
        return finding
    if keyword in CONSTRAINT_KEYWORDS:
        return breaking(
            Kind.CONSTRAINT_VIOLATION,
            path,
            error.message,
            expected={keyword.lower(): limit_of(error.kind)},
            observed=value,
        )
    return breaking(Kind.SCHEMA_MISMATCH, path, error.message, observed=value)


def limit_of(kind: Any) -> Any:
    fields = kind.as_dict()
    return next(iter(fields.values()), None) if fields else None


def breaking(kind: Kind, path: str, message: str, **values: Any) -> Finding:
    return Finding(
        kind=kind, severity=Severity.BREAKING, path=path, message=message, **values
    )


def drop_shadowed(findings: list[Finding]) -> list[Finding]:
    """One finding per location: a wrong type or a null makes the keywords that
    check the value (format, enum, bounds) noise at the same path."""
    typed = {
        f.path for f in findings if f.kind in (Kind.TYPE_MISMATCH, Kind.UNEXPECTED_NULL)
    }
    seen: set[tuple[str, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        shadowed = finding.path in typed and finding.kind not in (
            Kind.TYPE_MISMATCH,
            Kind.UNEXPECTED_NULL,
        )
        key = (str(finding.kind), finding.path)
        if not shadowed and key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def claimed(finding: Finding, paths: set[str]) -> bool:
    if finding.kind in (Kind.DUPLICATE_KEY, Kind.INVALID_JSON):
        return False
    return finding.path in paths


def probable_renames(findings: list[Finding], contract: Contract) -> list[Finding]:
    """Pair a missing field with an undocumented sibling that is the same name in
    another case style (``phoneNumber`` / ``phone_number``), or, when each is the
    only one of its sort in that object, that has the missing field's JSON type."""
    missing = by_parent(f for f in findings if f.kind is Kind.MISSING_REQUIRED)
    added = by_parent(f for f in findings if f.kind is Kind.UNDOCUMENTED_FIELD)
    renames: list[Finding] = []
    for where, gone in missing.items():
        for old in gone:
            new = rename_partner(old, gone, added.get(where, []), contract)
            if new is not None:
                renames.append(rename_finding(old, new))
    return renames


def by_parent(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(parent(finding.path), []).append(finding)
    return grouped


def rename_partner(
    old: Finding, gone: list[Finding], added: list[Finding], contract: Contract
) -> Finding | None:
    for new in added:
        if name_key(leaf(new.path)) == name_key(leaf(old.path)):
            return new
    if len(gone) == 1 and len(added) == 1:
        expected = declared_type(contract, old)
        if expected is not None and expected == json_type(added[0].observed):
            return added[0]
    return None


def declared_type(contract: Contract, missing: Finding) -> str | None:
    """The JSON type the contract declares for a missing field."""
    owner = missing.schema_path.removesuffix("/required").removeprefix("#/")
    node: Any = contract.document
    for part in owner.split("/") if owner else []:
        node = node.get(part) if isinstance(node, dict) else None
    prop = ((node or {}).get("properties") or {}).get(leaf(missing.path)) or {}
    ref = prop.get("$ref")
    if isinstance(ref, str):
        prop = contract.components["schemas"].get(ref.rsplit("/", 1)[-1], {})
    declared = prop.get("type")
    return declared if isinstance(declared, str) else None


def rename_finding(old: Finding, new: Finding) -> Finding:
    return Finding(
        kind=Kind.PROBABLE_RENAME,
        severity=Severity.WARNING,
        path=old.path,
        message=f"{leaf(old.path)} looks renamed to {leaf(new.path)}",
        schema_path=old.schema_path,
        expected=old.path,
        observed=new.path,
    )


def infra_error(exchange: Exchange, source: Source) -> InfraError | None:
    if exchange.truncated:
        return InfraError(ErrorKind.TRUNCATED_BODY, "body cut short", source)
    if exchange.status == 429:
        return InfraError(ErrorKind.RATE_LIMITED, "429 after retries", source)
    if exchange.status >= 500:
        message = f"status {exchange.status}"
        return InfraError(ErrorKind.SERVER_ERROR, message, source)
    return None


def nesting_too_deep() -> Finding:
    """The one finding of a body the validator rejects but cannot describe."""
    return Finding(
        kind=Kind.INVALID_JSON,
        severity=Severity.BREAKING,
        path="$",
        message=(
            "body nests arrays and objects too deep to check: the validator "
            f"reports on values nested at most {MAX_ERROR_DEPTH} levels deep"
        ),
        expected=f"at most {MAX_ERROR_DEPTH} levels of nesting",
        detail="nesting too deep",
    )


def undocumented_status(status: int, documented: set[str]) -> Finding:
    return breaking(
        Kind.UNDOCUMENTED_STATUS,
        "$",
        f"status {status} is not documented for this operation",
        expected=sorted(documented),
        observed=status,
    )


def empty_body(status: int) -> Finding:
    return breaking(
        Kind.EMPTY_BODY,
        "$",
        f"status {status} came with an empty body",
        expected=JSON,
        observed="",
    )


def undocumented_media_type(media_type: str) -> Finding:
    return breaking(
        Kind.UNDOCUMENTED_MEDIA_TYPE,
        "$",
        f"body served as {media_type or 'no media type'}, not {JSON}",
        expected=JSON,
        observed=media_type or None,
    )


def group(findings: Iterable[Finding]) -> list[Finding]:
    """Identical drift seen in many responses is one finding with a count."""
    grouped: dict[str, Finding] = {}
    for finding in findings:
        first = grouped.get(finding.fingerprint)
        if first is None:
            grouped[finding.fingerprint] = replace(finding)
        else:
            first.count += finding.count
    return list(grouped.values())
