"""Drift the schema still permits, tracked per field from one run to the next.

A run builds a :class:`Profile` of the bodies it checked: for every field (by
generic path, ``$.data.contact.lists[*].optIn``) how often it was present, how
often null, which timestamp styles its values used and, for a few open string
fields, which values it took. :func:`compare` sets a run's profile against the
previous run's and reports, as ``permitted_change`` info findings:

- a timestamp style not seen last run (``Z`` to ``+00:00``, a fraction appearing
  or going);
- an optional field that became always absent, or always null;
- a new value in an open string field such as ``phoneNumber.type``.

Only fields the contract documents are profiled. An undocumented key can be
anything, an email address or a name among them, and is reported as an
``undocumented_field`` finding anyway; keeping to the contract's paths also bounds
how deep a walk of a body goes, however deeply the body nests. Values are kept
only for the open string fields named in OPEN_STRING_FIELDS, masked like any
report value where they look personal, so the history never stores a contact's
name, email or number.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, Kind, Severity, generic_path
from .paths import child, leaf
from .redact import mask, mask_text
from .schema import load_contract

# Plain strings in the documentation with no enum: the provider may add values
# at will, and a new one is worth knowing about before code branches on it.
OPEN_STRING_FIELDS = frozenset(
    {
        "$.data.phoneNumber.type",
        "$.data.phoneNumber.status",
        "$.data.phoneNumber.provider",
        "$.data.phoneNumber.country",
        "$.data.phoneNumber.channels.voice.incoming.action",
        "$.data.phoneNumber.channels.sms.regulatory.brandStatus",
        "$.data.created.by.source",
        "$.data.created.by.subSource",
    }
)
# Bounds that keep one odd response from bloating the history.
MAX_VALUES = 50
MAX_VALUE_LENGTH = 64
MAX_FIELDS = 2000
# "Always absent" or "always null" needs this many objects that could have held
# the field, so one record that happens to omit it is not called a change.
MIN_SAMPLES = 3

# RFC 3339 date-time: the parts whose style can change while staying valid.
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)
TIMESTAMP_STYLE = "timestamp style"
NOW_ABSENT = "now always absent"
NOW_NULL = "now always null"
NEW_VALUE = "new value"


@dataclass(slots=True)
class FieldStats:
    """What one run saw of one field."""

    parent: str
    present: int = 0
    nulls: int = 0
    objects: int = 0
    styles: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Profile:
    """The shape of the bodies a run checked; fed one parsed body at a time."""

    fields: dict[str, FieldStats] = field(default_factory=dict)
    bodies: int = 0

    def observe(self, body: Any) -> None:
        if body is None:
            return
        self.bodies += 1
        self._value("$", body, parent="")

    def _value(self, path: str, value: Any, parent: str) -> None:
        if isinstance(value, dict):
            self._stats(path, parent).objects += 1
            known = documented_paths()
            for key, item in value.items():
                at = child(path, str(key))
                if at in known:
                    self._field(at, item, path)
        elif isinstance(value, list):
            items = f"{path}[*]"
            if items in documented_paths():
                for item in value:
                    self._value(items, item, parent=path)
        elif isinstance(value, str):
            self._string(path, value, parent)

    def _field(self, path: str, value: Any, parent: str) -> None:
        stats = self._stats(path, parent)
        if stats is _OVERFLOW:
            return
        stats.present += 1
        if value is None:
            stats.nulls += 1
        self._value(path, value, parent)

    def _string(self, path: str, value: str, parent: str) -> None:
        stats = self._stats(path, parent)
        style = timestamp_style(value)
        if style is not None:
            stats.styles.update(style)
        elif path in OPEN_STRING_FIELDS and len(stats.values) < MAX_VALUES:
            stats.values.add(masked_value(leaf(path), value))

    def _stats(self, path: str, parent: str) -> FieldStats:
        stats = self.fields.get(path)
        if stats is None:
            if len(self.fields) >= MAX_FIELDS:
                return _OVERFLOW
            stats = self.fields[path] = FieldStats(parent=parent)
        return stats


# Absorbs what a profile past MAX_FIELDS would have recorded.
_OVERFLOW = FieldStats(parent="")


@functools.lru_cache(maxsize=1024)
def masked_value(key: str, value: str) -> str:
    """What the history may keep of a value: masked where it looks personal
    (whole, then inside), then cut short. Open string fields repeat a handful of
    values, so the cache spares the patterns on almost every body."""
    masked = mask(value, key)
    return mask_text(str(masked))[:MAX_VALUE_LENGTH]


def timestamp_style(value: str) -> set[str] | None:
    """``{"offset Z", "no fraction"}`` for ``2024-05-01T12:00:00Z``; None when
    the value is not an RFC 3339 date-time."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    offset = match["offset"].upper()
    if offset in ("+00:00", "-00:00"):
        offset_style = f"offset {offset}"
    elif offset == "Z":
        offset_style = "offset Z"
    else:
        offset_style = "offset ±hh:mm"
    fraction = "fraction" if match["fraction"] else "no fraction"
    return {offset_style, fraction}


def compare(
    previous: Profile, current: Profile, covered: Iterable[str]
) -> list[Finding]:
    """Permitted changes from ``previous`` to ``current``.

    ``covered`` holds the paths of this run's contract findings: a change there
    is not permitted drift (a required field gone is ``missing_required``, a
    null is ``unexpected_null``), so it is left to that finding.
    """
    if not previous.bodies or not current.bodies:
        return []
    skip = {generic_path(path) for path in covered}
    findings: list[Finding] = []
    for path in sorted(previous.fields.keys() | current.fields.keys()):
        if path in skip:
            continue
        before, after = previous.fields.get(path), current.fields.get(path)
        finding = _change(path, before, after, current)
        if finding is not None:
            findings.append(finding)
    return findings


def _change(
    path: str, before: FieldStats | None, after: FieldStats | None, current: Profile
) -> Finding | None:
    if before is None:
        return None
    if after is None or after.present == 0:
        return _absent(path, before, current)
    had_values = before.present > before.nulls
    if had_values and after.present >= MIN_SAMPLES and after.nulls == after.present:
        return _permitted(path, NOW_NULL, "non-null values", None, "always null")
    # Only a style not seen last run counts: fewer records may show fewer styles.
    if before.styles and after.styles - before.styles:
        return _style_change(path, before.styles, after.styles)
    new_values = after.values - before.values
    if before.values and new_values:
        return _new_values(path, before.values, new_values)
    return None


def _absent(path: str, before: FieldStats, current: Profile) -> Finding | None:
    parent = current.fields.get(before.parent)
    if before.present == 0 or parent is None or parent.objects < MIN_SAMPLES:
        return None
    if path not in documented_paths():
        # An undocumented field going away returns to the contract: its
        # undocumented_field finding is listed as resolved instead.
        return None
    message = (
        f"{path} was present last run and is absent from all {parent.objects} "
        "objects that could hold it now"
    )
    return _permitted(path, NOW_ABSENT, "present", None, "always absent", message)


@functools.cache
def documented_paths() -> frozenset[str]:
    """Generic paths of every field the contract's call response declares, of
    the items of its arrays (``lists[*]``), and the body's root."""
    schema = load_contract().resolved("CallResponse")
    return frozenset(["$", *_walk_schema(schema, "$")])


def _walk_schema(schema: dict[str, Any], path: str) -> Iterable[str]:
    for name, sub in (schema.get("properties") or {}).items():
        at = child(path, name)
        yield at
        yield from _walk_schema(sub, at)
    if isinstance(schema.get("items"), dict):
        yield f"{path}[*]"
        yield from _walk_schema(schema["items"], f"{path}[*]")


def _style_change(path: str, before: set[str], after: set[str]) -> Finding:
    changes = []
    offsets = (_only(before, "offset"), _only(after, "offset"))
    if offsets[0] != offsets[1]:
        changes.append(f"{' / '.join(offsets[0])} → {' / '.join(offsets[1])}")
    fractions = (_only(before, "fraction"), _only(after, "fraction"))
    if fractions[0] != fractions[1]:
        changes.append(_fraction_change(fractions[0], fractions[1]))
    message = f"timestamp style at {path} changed: {'; '.join(changes)}"
    return _permitted(
        path, TIMESTAMP_STYLE, sorted(before), sorted(after), None, message
    )


def _only(styles: set[str], aspect: str) -> list[str]:
    if aspect == "offset":
        return sorted(s.removeprefix("offset ") for s in styles if s.startswith("off"))
    return sorted(s for s in styles if s.endswith("fraction"))


def _fraction_change(before: list[str], after: list[str]) -> str:
    if "fraction" in after and "fraction" not in before:
        return "a fraction of a second appeared"
    if "fraction" in before and "fraction" not in after:
        return "the fraction of a second disappeared"
    return f"fraction {', '.join(before)} → {', '.join(after)}"


def _new_values(path: str, before: set[str], new: set[str]) -> Finding:
    shown = ", ".join(repr(v) for v in sorted(new))
    message = f"{path} took a value not seen last run: {shown}"
    return _permitted(path, NEW_VALUE, sorted(before), sorted(new), None, message)


def _permitted(
    path: str,
    detail: str,
    expected: Any,
    observed: Any,
    state: str | None,
    message: str | None = None,
) -> Finding:
    return Finding(
        kind=Kind.PERMITTED_CHANGE,
        severity=Severity.INFO,
        path=path,
        message=message or f"{path} is {state} now; it was not last run",
        expected=expected,
        observed=observed if state is None else state,
        detail=detail,
    )
