"""Text pieces every report shares: how a value is shown, how counts are stated."""

from __future__ import annotations

import json
import re
from typing import Any

from ..findings import Finding
from ..result import RunResult

ELLIPSIS = "…"

# C0 controls other than tab and newline, DEL and the C1 range: shown as escapes so
# a hostile response can neither move a terminal's cursor nor break a log line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_COUNT_LABELS = {
    "responses": "responses checked",
    "records_read": "records read",
    "unreadable": "unreadable",
}


def value_text(value: Any) -> str:
    """A finding's expected or observed value as compact JSON text: ``"2024"``
    and ``2024`` stay distinguishable."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        # Circular structures; never produced by a parser, but never fatal either.
        return repr(value)


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def one_line(text: str) -> str:
    """Control characters escaped and line breaks shown as ``\\n``."""
    return escape_controls(text).replace("\r", "\\r").replace("\n", "\\n")


def counts_line(result: RunResult) -> str:
    """``responses checked 12 · breaking 2 · warning 0 · info 1 · errors 0``."""
    parts = [f"responses checked {result.counts.get('responses', 0)}"]
    for key in sorted(result.counts):
        if key != "responses":
            label = _COUNT_LABELS.get(key, key.replace("_", " "))
            parts.append(f"{label} {result.counts[key]}")
    parts += [f"{name} {n}" for name, n in result.severity_counts().items()]
    parts.append(f"errors {len(result.errors)}")
    return " · ".join(parts)


def lifecycle_counts(result: RunResult) -> dict[str, int] | None:
    """New, recurring, resolved and waived counts, or None when neither the
    history nor the gate has looked at this run."""
    findings = result.findings
    tracked = result.resolved or any(f.status or f.waiver for f in findings)
    if not tracked:
        return None
    counts = {
        "new": sum(1 for f in findings if f.status == "new"),
        "recurring": sum(1 for f in findings if f.status == "recurring"),
        "resolved": len(result.resolved),
        "waived": sum(1 for f in findings if f.waiver),
    }
    flapping = sum(1 for f in findings if f.status == "flapping")
    if flapping:
        counts["flapping"] = flapping
    return counts


def lifecycle_line(result: RunResult) -> str | None:
    counts = lifecycle_counts(result)
    if counts is None:
        return None
    return " · ".join(f"{name} {n}" for name, n in counts.items())


def retries_line(result: RunResult) -> str | None:
    if not result.retries:
        return None
    items = result.retries.items()
    return ", ".join(f"{key.replace('_', ' ')} {_number(n)}" for key, n in items)


def importance(finding: Finding) -> tuple[int, int]:
    """Sort key: unwaived breaking first, then warning, info, and waived last."""
    rank = {"breaking": 0, "warning": 1, "info": 2}.get(str(finding.severity), 3)
    return (1 if finding.waiver else 0, rank)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
