"""The ``validate`` job: check recorded traffic against the contract, offline.

Every record of every file is read once and checked once. A bare body is a
``200`` body of Get call; an exchange (JSON Lines record, HAR entry, cassette
interaction) goes through the whole exchange check: status code, media type,
body. The counts say what happened to each record:

- ``records_read``: records met in the files;
- ``responses``: records checked against the contract;
- ``unreadable``: records that could not be read (each one named in ``notes``);
- ``other_endpoints``: recorded requests on other endpoints, not checked;
- ``infra_errors``: recorded exchanges that show a failure of the infrastructure
  (no response, a body cut short, 429, 5xx): each is an error, not drift.

So ``records_read`` is the sum of the other four. A file named twice (or by two
paths that resolve to it) is read once, and a note says so.

An unreadable record leaves part of the input unchecked, so the run is marked
incomplete: its verdict is never ``conform``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .drift import Engine
from .errors import UsageError
from .findings import ErrorKind, Finding, InfraError
from .ingest import (
    READERS,
    Reader,
    Record,
    bounded_lines,
    jsonl_record,
    open_lines,
    read_jsonl,
    reader_for,
    unreadable_file,
)
from .parsing import UNCLEAN, parse_clean
from .result import RunResult, utcnow
from .schema import CALL_PATH, Contract

logger = logging.getLogger("sakari_contract")

CALL_RESPONSE = "#/components/schemas/CallResponse"
# Beyond this many, unreadable records are counted but not each named.
MAX_NOTES = 100
Observe = Callable[[Any], None] | None


def run_validate(
    paths: list[Path], *, strict: bool, contract: Contract, observe: Observe = None
) -> RunResult:
    """Check every record in ``paths``; raise UsageError before reading any
    record if a path is missing, a directory, not a regular file (a device, a
    FIFO) or of an unknown format. ``observe`` gets every parsed 200 body of Get
    call (for the history)."""
    readers = [(path, usable_reader(path)) for path in paths]
    readers, repeated = once_each(readers)
    run = Run(Engine(contract, strict=strict))
    run.observe = observe
    target = " ".join(str(path) for path, _ in readers)
    result = RunResult(command="validate", target=target)

    for path, reader in readers:
        logger.debug("validating %s", path)
        if reader is read_jsonl:
            # Most recorded traffic is JSON Lines: it has a loop of its own.
            run.check_jsonl(path)
        else:
            run.check_file(reader(path))

    result.findings = list(run.findings.values())
    result.errors = list(run.errors.values())
    result.counts.update(run.counts())
    result.notes = repeated + run.notes_with_overflow()
    result.incomplete = run.unreadable > 0
    result.finished = utcnow()
    return result


def usable_reader(path: Path) -> Reader:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path} is a directory; pass the files inside it")
    if not path.is_file():
        # A device or a FIFO never ends, or ends when someone else decides.
        raise UsageError(
            f"{path} is not a regular file (a device, a FIFO or a socket); "
            "save the traffic to a file and pass that"
        )
    if not os.access(path, os.R_OK):
        raise UsageError(f"{path}: permission denied")
    reader = reader_for(path)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise UsageError(
            f"{path}: cannot tell the format from the name {path.name!r}; "
            f"expected one of {known}"
        )
    return reader


def once_each(
    readers: list[tuple[Path, Reader]],
) -> tuple[list[tuple[Path, Reader]], list[str]]:
    """The readers with each file once (by its resolved path), and a note for
    every path left out."""
    seen: dict[Path, Path] = {}
    kept: list[tuple[Path, Reader]] = []
    notes: list[str] = []
    for path, reader in readers:
        resolved = path.resolve()
        if resolved in seen:
            notes.append(f"{path} is the same file as {seen[resolved]}; checked once")
            continue
        seen[resolved] = path
        kept.append((path, reader))
    return kept, notes


def where(record: Record) -> str:
    """``calls.har line 12 (entry 3)``: the line to open, and the entry index
    (0-based, as in ``log.entries[3]``) when the format has one."""
    if record.line <= 0:
        return record.file
    entry = f" (entry {record.entry})" if record.entry is not None else ""
    return f"{record.file} line {record.line}{entry}"


class Run:
    """What a validate run has seen so far. Findings and errors are grouped as
    they arrive, so memory grows with the number of distinct drifts, not with
    the number of records."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.observe: Observe = None
        self.findings: dict[str, Finding] = {}
        self.errors: dict[tuple[str, str], InfraError] = {}
        self.notes: list[str] = []
        self.read = self.checked = self.unreadable = self.other = self.failed = 0

    def check_file(self, records: Iterable[Record]) -> None:
        for record in records:
            self.check_record(record)

    def check_jsonl(self, path: Path) -> None:
        name = str(path)
        try:
            with open_lines(path) as stream:
                self.check_lines(name, enumerate(bounded_lines(stream), 1))
        except OSError as exc:
            self.check_record(unreadable_file(name, exc))

    def check_lines(
        self, name: str, lines: Iterable[tuple[int, bytes | bytearray | None]]
    ) -> None:
        """The hot path. A line holding a valid bare body costs one parse, the
        duplicate-key proof and one ``is_valid``: no Record, no Parsed, no
        function layers. Any other line (drift, an exchange record, a broken or
        blank line) takes the reader's own path, with the value already parsed.
        """
        is_valid = self.engine.validator(CALL_RESPONSE).is_valid
        observe = self.observe
        valid = 0
        try:
            for number, line in lines:
                # None is a line too long to read (see ingest.bounded_lines).
                value = UNCLEAN if line is None else parse_clean(line)
                # A valid body has "success", so it is never an exchange record
                # (see ingest.is_exchange_record); "body" is the cheap refusal.
                if type(value) is dict and "body" not in value and is_valid(value):
                    valid += 1
                    if observe is not None:
                        observe(value)
                    continue
                record = jsonl_record(name, number, line, value)
                if record is not None:
                    self.check_record(record)
        finally:
            # Also when reading fails halfway: those records were checked.
            self.read += valid
            self.checked += valid

    def check_record(self, record: Record) -> None:
        self.read += 1
        parsed = record.parsed
        if parsed is None:
            self.checked += self.check_other(record)
            return
        self.checked += 1
        if self.observe is not None and parsed.ok:
            self.observe(parsed.value)
        findings = self.engine.check_parsed(parsed, CALL_RESPONSE)
        if findings:
            self.add_findings(findings, record)

    def check_other(self, record: Record) -> int:
        """Handle a record that is not a bare body; 1 if it was checked."""
        if record.problem is not None:
            self.unreadable += 1
            self.note(f"{where(record)}: {record.problem}")
            return 0
        if record.other is not None:
            self.other += 1
            return 0
        if record.failed is not None or record.exchange is None:
            self.failed += 1
            why = record.failed or "no response was recorded"
            self.add_error(InfraError(ErrorKind.CONNECTION_ERROR, why, record.source))
            return 0
        outcome = self.engine.check_exchange(record.exchange, record.source)
        exchange = record.exchange
        if self.observe and exchange.operation == CALL_PATH and exchange.status == 200:
            self.observe(outcome.body)
        for error in outcome.errors:
            self.add_error(error)
        self.add_findings(outcome.findings, record)
        if outcome.errors:
            self.failed += 1
            return 0
        return 1

    def add_findings(self, findings: list[Finding], record: Record) -> None:
        source = record.source
        for finding in findings:
            finding.source = source
            key = finding.fingerprint
            first = self.findings.get(key)
            if first is None:
                self.findings[key] = finding
            else:
                first.count += finding.count

    def add_error(self, error: InfraError) -> None:
        key = (str(error.kind), error.message)
        first = self.errors.get(key)
        if first is None:
            self.errors[key] = error
        else:
            first.count += error.count

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)

    def notes_with_overflow(self) -> list[str]:
        notes = list(self.notes)
        if self.unreadable > len(notes):
            notes.append(
                f"... and {self.unreadable - len(notes)} more unreadable records"
            )
        if self.other:
            notes.append(
                f"{self.other} recorded requests on other endpoints were not checked"
            )
        return notes

    def counts(self) -> dict[str, int]:
        return {
            "records_read": self.read,
            "responses": self.checked,
            "unreadable": self.unreadable,
            "other_endpoints": self.other,
            "infra_errors": self.failed,
        }
