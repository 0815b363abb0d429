"""Waivers and the pre-release gate.

A waiver is reviewed data in a YAML file::

    waivers:
      - kind: unknown_enum_value        # or: fingerprint: 3f2a9c0d1e4b5a67
        path: $.data.status             # [*] matches any list index
        reason: Sakari announced "queued"; handled since app 4.2
        owner: calls-team
        expires: 2025-09-30

A waiver covers the findings it matches until the end of its ``expires`` day
(UTC). An expired waiver covers nothing; a waiver that matched nothing is
reported so the file does not rot. Any error in the file is a UsageError that
names the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError
from .findings import Finding, Kind

DEFAULT_WAIVERS = Path("waivers.yaml")
KEYS = frozenset({"fingerprint", "kind", "path", "reason", "owner", "expires"})
REQUIRED = ("reason", "owner", "expires")
FINGERPRINT = re.compile(r"[0-9a-f]{16}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INDEX = re.compile(r"\\\[\\\*\\\]")


@dataclass(frozen=True, slots=True)
class Waiver:
    reason: str
    owner: str
    expires: date
    line: int
    fingerprint: str | None = None
    kind: str | None = None
    path: str | None = None

    @property
    def match(self) -> str:
        if self.fingerprint is not None:
            return f"fingerprint {self.fingerprint}"
        return f"{self.kind} at {self.path}"

    def matches(self, finding: Finding) -> bool:
        if self.fingerprint is not None:
            return finding.fingerprint == self.fingerprint
        return str(finding.kind) == self.kind and _path_matches(self.path, finding.path)

    def expired(self, today: date) -> bool:
        return today > self.expires

    def label(self) -> str:
        """What a waived finding carries in every report."""
        return f"{self.owner}: {self.reason} (until {self.expires.isoformat()})"

    def to_dict(self, matched: int) -> dict[str, Any]:
        return {
            "match": self.match,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
            "line": self.line,
            "findings": matched,
        }


def _path_matches(pattern: str | None, path: str) -> bool:
    if pattern is None:
        return False
    regex = _INDEX.sub(r"\\[(?:\\d+|\\*)\\]", re.escape(pattern))
    return re.fullmatch(regex, path) is not None


# -- loading -----------------------------------------------------------------------


def load_waivers(path: Path, *, required: bool) -> list[Waiver]:
    """Waivers from ``path``. A missing file is no waivers unless ``required``
    (the user named it), when it is a UsageError like any malformed file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise UsageError(f"waivers file {str(path)!r} does not exist") from None
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read waivers file {str(path)!r}: {exc}") from None
    return parse_waivers(text, str(path))


def parse_waivers(text: str, name: str = "waivers.yaml") -> list[Waiver]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else "an unknown line"
        raise UsageError(f"{name}: not valid YAML at {line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{name}: not valid YAML: {exc}") from None
    if root is None:
        return []
    entries = _entries(root, name)
    return [_waiver(entry, name) for entry in entries]


def _entries(root: yaml.Node, name: str) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        _bad(name, root, "expected a mapping with one key, 'waivers'")
    pairs = {key.value: (key, value) for key, value in root.value}
    unknown = [key for key, _ in root.value if key.value != "waivers"]
    if unknown:
        _bad(name, unknown[0], f"unknown key {unknown[0].value!r}; expected 'waivers'")
    if "waivers" not in pairs:
        _bad(name, root, "expected a mapping with one key, 'waivers'")
    if len(root.value) > 1:
        _bad(name, root.value[1][0], "'waivers' is given twice")
    node = pairs["waivers"][1]
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        _bad(name, node, "'waivers' must be a list of waivers")
    return list(node.value)


def _waiver(entry: yaml.Node, name: str) -> Waiver:
    if not isinstance(entry, yaml.MappingNode):
        _bad(name, entry, "a waiver must be a mapping (reason, owner, expires, ...)")
    fields: dict[str, str] = {}
    for key, value in entry.value:
        _check_key(name, key, fields)
        if not isinstance(value, yaml.ScalarNode) or not value.value.strip():
            _bad(name, value, f"{key.value!r} must be a non-empty text value")
        fields[key.value] = value.value.strip()
    missing = [key for key in REQUIRED if key not in fields]
    if missing:
        _bad(name, entry, f"waiver is missing {', '.join(map(repr, missing))}")
    line = entry.start_mark.line + 1
    return Waiver(
        reason=fields["reason"],
        owner=fields["owner"],
        expires=_expiry(fields["expires"], name, entry),
        line=line,
        **_match(fields, name, entry),
    )


def _check_key(name: str, key: yaml.Node, seen: dict[str, str]) -> None:
    if not isinstance(key, yaml.ScalarNode) or key.value not in KEYS:
        known = ", ".join(sorted(KEYS))
        shown = key.value if isinstance(key, yaml.ScalarNode) else "?"
        _bad(name, key, f"unknown key {shown!r} in a waiver; known keys: {known}")
    if key.value in seen:
        _bad(name, key, f"{key.value!r} is given twice")


def _expiry(text: str, name: str, entry: yaml.Node) -> date:
    try:
        if not DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        _bad(name, entry, f"expires={text!r} is not a date written YYYY-MM-DD")


def _match(fields: dict[str, str], name: str, entry: yaml.Node) -> dict[str, str]:
    fingerprint, kind, path = (fields.get(k) for k in ("fingerprint", "kind", "path"))
    if fingerprint is not None:
        if kind is not None or path is not None:
            _bad(name, entry, "match by fingerprint or by kind and path, not both")
        if not FINGERPRINT.fullmatch(fingerprint):
            _bad(name, entry, f"fingerprint={fingerprint!r} is not 16 hex digits")
        return {"fingerprint": fingerprint}
    if kind is None or path is None:
        _bad(name, entry, "a waiver needs a fingerprint, or both kind and path")
    if kind not in set(Kind):
        _bad(name, entry, f"kind={kind!r} is not a drift kind")
    if not path.startswith("$"):
        _bad(name, entry, f"path={path!r} must be a JSONPath starting with '$'")
    return {"kind": kind, "path": path}


def _bad(name: str, node: yaml.Node, problem: str) -> Any:
    raise UsageError(f"{name}: line {node.start_mark.line + 1}: {problem}")


# -- applying ----------------------------------------------------------------------


def today_utc() -> date:
    return datetime.now(UTC).date()


def apply_waivers(
    findings: list[Finding], waivers: list[Waiver], today: date
) -> dict[str, list[dict[str, Any]]]:
    """Mark the findings each live waiver covers and say what each waiver did:
    ``applied`` (covered at least one finding), ``expired`` (covers nothing any
    more, with how many it would have matched) and ``unmatched``."""
    report: dict[str, list[dict[str, Any]]] = {
        "applied": [],
        "expired": [],
        "unmatched": [],
    }
    for waiver in waivers:
        matched = [f for f in findings if waiver.matches(f)]
        if waiver.expired(today):
            report["expired"].append(waiver.to_dict(len(matched)))
            continue
        for finding in matched:
            finding.waiver = finding.waiver or waiver.label()
        state = "applied" if matched else "unmatched"
        report[state].append(waiver.to_dict(len(matched)))
    return report


def waiver_lines(report: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One line per expired or unmatched waiver, for the terminal and reports."""
    lines = []
    for item in report.get("expired", []):
        lines.append(
            f"waiver expired on {item['expires']} (owner {item['owner']}, line "
            f"{item['line']}): {item['match']} covers nothing now; "
            f"{item['findings']} finding(s) would match it"
        )
    for item in report.get("unmatched", []):
        lines.append(
            f"waiver matched nothing (owner {item['owner']}, line {item['line']}): "
            f"{item['match']}; remove it if the drift is gone"
        )
    return lines
