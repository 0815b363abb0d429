"""Writes a run's four reports into one directory, each file atomically."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..result import RunResult
from . import html, junit, markdown

logger = logging.getLogger("sakari_contract")

DRIFT_JSON = "drift.json"
JUNIT_XML = "junit.xml"
SUMMARY_MD = "summary.md"
REPORT_HTML = "report.html"


def write_reports(result: RunResult, directory: Path) -> list[Path]:
    """Write drift.json, junit.xml, summary.md and report.html into ``directory``
    (created with its parents) and return their paths.

    Raises UsageError naming the path when the directory cannot be created or
    written.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create report directory {str(directory)!r}: {_reason(exc)}"
        ) from exc
    reports = {
        DRIFT_JSON: render_json(result),
        JUNIT_XML: junit.render(result),
        SUMMARY_MD: markdown.render(result),
        REPORT_HTML: html.render(result),
    }
    return [_write(directory / name, text) for name, text in reports.items()]


def render_json(result: RunResult) -> str:
    """The drift.json text: ``RunResult.to_dict`` as indented UTF-8 JSON."""
    data = _jsonable(result.to_dict())
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _write(path: Path, text: str) -> Path:
    # Lone surrogates (from a body decoded with surrogateescape) become \udcxx,
    # which is still a valid escape inside a JSON string.
    data = text.encode("utf-8", errors="backslashreplace")
    try:
        _replace_atomically(path, data)
    except OSError as exc:
        raise UsageError(f"cannot write report {str(path)!r}: {_reason(exc)}") from exc
    logger.debug("wrote report %s (%d bytes)", path, len(data))
    return path


def _replace_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    """Values JSON cannot carry as they are (NaN, bytes, sets, non-string keys)
    become text, so one odd observed value never costs the whole report."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
