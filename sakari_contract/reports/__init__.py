"""Reports of a run: drift.json, JUnit XML and a Markdown summary, all rendered
from the same findings, plus the short summary the command line prints."""

from __future__ import annotations

from ..findings import breaking
from ..result import RunResult
from ._text import counts_line, lifecycle_line, one_line, retries_line, shorten
from .writer import DRIFT_JSON, JUNIT_XML, SUMMARY_MD, render_json, write_reports

__all__ = [
    "DRIFT_JSON",
    "JUNIT_XML",
    "SUMMARY_MD",
    "render_json",
    "render_terminal",
    "write_reports",
]

TERMINAL_FINDINGS = 10
TERMINAL_ERRORS = 5
_LINE_LIMIT = 160


def render_terminal(result: RunResult) -> str:
    """A few plain lines: the verdict, the counts, the first breaking findings and
    infrastructure errors. Control characters are escaped for the terminal."""
    verdict = result.verdict
    lines = [
        f"sakari-contract {result.command}: {verdict} (exit {verdict.exit_code})",
        f"target: {result.target}",
        counts_line(result),
    ]
    lifecycle = lifecycle_line(result)
    if lifecycle:
        lines.append(lifecycle)
    if result.retries:
        lines.append(f"retries: {retries_line(result)}")
    if result.incomplete:
        lines.append("incomplete: part of the contract was not checked")
    lines += _breaking_lines(result)
    lines += _error_lines(result)
    lines += _note_lines(result)
    return "\n".join(shorten(one_line(line), _LINE_LIMIT) for line in lines)


def _breaking_lines(result: RunResult) -> list[str]:
    found = breaking(result.findings)
    lines = []
    for finding in found[:TERMINAL_FINDINGS]:
        times = f" (×{finding.count})" if finding.count > 1 else ""
        lines.append(f"  {finding.kind} {finding.path}: {finding.message}{times}")
    if len(found) > TERMINAL_FINDINGS:
        lines.append(f"  … {len(found) - TERMINAL_FINDINGS} more in {DRIFT_JSON}")
    return ["breaking:", *lines] if lines else []


def _note_lines(result: RunResult) -> list[str]:
    lines = [f"  {note}" for note in result.notes[:TERMINAL_ERRORS]]
    if len(result.notes) > TERMINAL_ERRORS:
        lines.append(f"  … {len(result.notes) - TERMINAL_ERRORS} more in {DRIFT_JSON}")
    return ["notes:", *lines] if lines else []


def _error_lines(result: RunResult) -> list[str]:
    lines = [f"  {error}" for error in result.errors[:TERMINAL_ERRORS]]
    if len(result.errors) > TERMINAL_ERRORS:
        lines.append(f"  … {len(result.errors) - TERMINAL_ERRORS} more in {DRIFT_JSON}")
    return ["errors:", *lines] if lines else []
