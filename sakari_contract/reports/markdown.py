"""The Markdown summary: written for a GitHub step summary or a pull-request comment.

Every cell is escaped so that no value a provider sends (a pipe, a newline, a
backtick, an HTML tag) can break the table or the page around it.
"""

from __future__ import annotations

import re

from ..findings import Finding, InfraError, Verdict
from ..gate import waiver_lines
from ..result import RunResult
from ._text import (
    counts_line,
    escape_controls,
    importance,
    lifecycle_line,
    retries_line,
    shorten,
    value_text,
)

CELL_LIMIT = 120
ROW_LIMIT = 200

_BADGES = {Verdict.CONFORM: "✅", Verdict.DRIFT: "❌", Verdict.INFRA: "⚠️"}
_SEVERITY_ICONS = {"breaking": "❌", "warning": "⚠️", "info": "ℹ️"}
_FINDING_HEADER = (
    "| Severity | Kind | Path | Expected | Observed | First seen | Waiver |",
    "|---|---|---|---|---|---|---|",
)
_ERROR_HEADER = (
    "| Error | Source | Message | Count |",
    "|---|---|---|---|",
)
# Punctuation that Markdown or inline HTML would act on inside plain text.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~#!])")
_BACKTICKS = re.compile(r"`+")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def render(result: RunResult) -> str:
    blocks = [
        title(result),
        _overview(result),
        _findings_section(result.findings),
        _resolved_section(result.resolved),
        _waivers_section(result),
        _errors_section(result.errors),
        _notes_section(result.notes),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"


def title(result: RunResult) -> str:
    return f"## sakari-contract: {result.verdict} {_BADGES[result.verdict]}"


def finding_row(finding: Finding) -> str:
    path = code(finding.path)
    if finding.count > 1:
        path += f" ×{finding.count}"
    observed = code(value_text(finding.observed))
    if finding.detail:
        observed += f" ({text(finding.detail)})"
    severity = f"{_SEVERITY_ICONS.get(str(finding.severity), '')} {finding.severity}"
    if finding.status:
        severity += f" · {text(finding.status)}"
    cells = [
        severity.strip(),
        code(str(finding.kind)),
        path,
        _expected(finding),
        observed,
        text(finding.first_seen) if finding.first_seen else "—",
        text(finding.waiver) if finding.waiver else "—",
    ]
    return "| " + " | ".join(cells) + " |"


def _expected(finding: Finding) -> str:
    # None means the engine stated no expectation (an undocumented field, say).
    if finding.expected is None:
        return "—"
    return code(value_text(finding.expected))


def error_row(error: InfraError) -> str:
    cells = [
        code(str(error.kind)),
        code(error.source.describe()),
        text(error.message),
        str(error.count),
    ]
    return "| " + " | ".join(cells) + " |"


def text(value: str) -> str:
    """Plain text for a table cell: one line, capped, markup escaped."""
    flat = _NEWLINES.sub(" ", escape_controls(value))
    return _MARKUP.sub(r"\\\1", shorten(flat, CELL_LIMIT))


def code(value: str) -> str:
    """A code span for a table cell, whatever backticks or pipes the value holds.

    Inside a table GitHub splits cells on ``|`` even within code spans, so pipes
    are escaped; the fence is one backtick longer than any run in the value.
    """
    flat = _NEWLINES.sub("\\\\n", escape_controls(value))
    flat = shorten(flat, CELL_LIMIT).replace("|", "\\|")
    if not flat:
        return "—"
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _overview(result: RunResult) -> str:
    lines = [
        f"**Target:** {code(result.target)} · **Command:** {code(result.command)}",
        f"**Counts:** {counts_line(result)}",
    ]
    lifecycle = lifecycle_line(result)
    if lifecycle:
        lines.append(f"**History and waivers:** {lifecycle}")
    retries = retries_line(result)
    if retries:
        lines.append(f"**Retries:** {retries}")
    if result.incomplete:
        lines.append("**Incomplete:** part of the contract was not checked.")
    return "  \n".join(lines)


def _findings_section(findings: list[Finding]) -> str:
    if not findings:
        return "No findings."
    rows = [finding_row(f) for f in sorted(findings, key=importance)]
    return _capped_table("Findings", _FINDING_HEADER, rows, "finding(s)")


def _errors_section(errors: list[InfraError]) -> str:
    if not errors:
        return ""
    rows = [error_row(e) for e in errors]
    return _capped_table("Infrastructure errors", _ERROR_HEADER, rows, "error(s)")


def _capped_table(
    title: str, header: tuple[str, ...], rows: list[str], noun: str
) -> str:
    lines = [f"### {title}", "", *header, *rows[:ROW_LIMIT]]
    hidden = len(rows) - ROW_LIMIT
    if hidden > 0:
        lines += ["", f"{hidden} more {noun} are listed in drift.json."]
    return "\n".join(lines)


def _resolved_section(resolved: list[dict]) -> str:
    """Findings of the previous run of this target that are gone now."""
    if not resolved:
        return ""
    rows = [
        f"| {code(str(item.get('kind', '')))} | {code(str(item.get('path', '')))} "
        f"| {text(str(item.get('first_seen', '')))} |"
        for item in resolved[:ROW_LIMIT]
    ]
    header = ["| Kind | Path | First seen |", "|---|---|---|"]
    return "\n".join(["### Resolved since the previous run", "", *header, *rows])


def _waivers_section(result: RunResult) -> str:
    """Expired waivers (with their owner) and waivers that matched nothing."""
    lines = waiver_lines(result.waivers)
    if not lines:
        return ""
    return "\n".join(["### Waivers to review", "", *(f"- {text(x)}" for x in lines)])


def _notes_section(notes: list[str]) -> str:
    if not notes:
        return ""
    return "\n".join(["### Notes", "", *(f"- {text(note)}" for note in notes)])
