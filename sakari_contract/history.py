"""The run history: every run and every finding by fingerprint, in SQLite.

One transaction per run (``BEGIN IMMEDIATE``) reads the previous run of the same
target and writes the new one, so two runs at once are serialised by SQLite and
a run killed mid-write leaves nothing behind (write-ahead log, rolled back on
the next open). What a run learns from its history:

- each finding's status: ``new`` (never seen on this target), ``recurring``
  (seen in the previous run) or ``flapping`` (seen before, gone last run, back);
- ``resolved``: findings of the previous run that are gone now;
- permitted changes (see :mod:`.permitted`) against the previous run's profile;
- the trend: findings per run of this target, oldest first, for the HTML chart.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from .errors import UsageError
from .findings import Finding, Kind
from .permitted import FieldStats, Profile, compare
from .result import RunResult

logger = logging.getLogger("sakari_contract")

DEFAULT_HISTORY = Path("reports/history.sqlite")
BUSY_TIMEOUT_MS = 30_000
TREND_RUNS = 60
# Test hook: when set to a file path, a writer creates that file while inside
# its transaction and waits there, so a test can kill it mid-write for certain.
PAUSE_ENV = "SAKARI_CONTRACT_HISTORY_PAUSE"
PAUSE_LIMIT = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    command TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    verdict TEXT NOT NULL,
    responses INTEGER NOT NULL,
    bodies INTEGER NOT NULL,
    breaking INTEGER NOT NULL,
    warning INTEGER NOT NULL,
    info INTEGER NOT NULL,
    waived INTEGER NOT NULL,
    errors INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (target, id);
CREATE TABLE IF NOT EXISTS findings (
    target TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    runs_seen INTEGER NOT NULL,
    PRIMARY KEY (target, fingerprint)
);
CREATE TABLE IF NOT EXISTS run_findings (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    waived INTEGER NOT NULL,
    PRIMARY KEY (run_id, fingerprint)
);
CREATE TABLE IF NOT EXISTS profiles (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    path TEXT NOT NULL,
    parent TEXT NOT NULL,
    present INTEGER NOT NULL,
    nulls INTEGER NOT NULL,
    objects INTEGER NOT NULL,
    styles TEXT NOT NULL,
    value_set TEXT NOT NULL,
    PRIMARY KEY (run_id, path)
);
"""


class History:
    """A history database; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path | str = DEFAULT_HISTORY) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.db.row_factory = sqlite3.Row
            self._prepare()
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot use history {str(self.path)!r}: {exc}") from exc

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _enter_wal(self) -> None:
        """Switching a new database to WAL needs a moment alone with it, and
        SQLite reports a concurrent switch as busy without calling the busy
        handler, so two runs opening a fresh database wait here for each other."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _prepare(self) -> None:
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._enter_wal()
        # FULL: a run that reported "recorded" survives a power cut too.
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("PRAGMA foreign_keys = ON")
        with self._transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    # -- recording ---------------------------------------------------------------

    def record(self, result: RunResult, profile: Profile | None = None) -> int:
        """Record ``result`` and fill in what the history knows: statuses,
        first seen, ``resolved``, permitted changes and the trend. Returns the
        new run's id."""
        profile = profile or Profile()
        target = result.target
        with self._transaction():
            previous = self._previous_run(target)
            result.findings += self._permitted(target, profile, result.findings)
            run_id = self._insert_run(result, profile)
            before = self._run_fingerprints(previous)
            for finding in result.findings:
                self._record_finding(target, run_id, previous, finding, result)
            result.resolved = self._resolved(target, before, result.findings)
            _pause_for_tests()
            self._insert_profile(run_id, profile)
        result.trend = self.trend(target)
        logger.debug("recorded run %d of %s in %s", run_id, target, self.path)
        return run_id

    def _previous_run(self, target: str) -> int | None:
        row = self.db.execute(
            "SELECT max(id) FROM runs WHERE target = ?", (target,)
        ).fetchone()
        return row[0]

    def _permitted(
        self, target: str, profile: Profile, findings: list[Finding]
    ) -> list[Finding]:
        row = self.db.execute(
            "SELECT max(id) FROM runs WHERE target = ? AND bodies > 0", (target,)
        ).fetchone()
        if row[0] is None:
            return []
        covered = [f.path for f in findings if f.kind is not Kind.PERMITTED_CHANGE]
        return compare(self.profile(row[0]), profile, covered)

    def _insert_run(self, result: RunResult, profile: Profile) -> int:
        severities = result.severity_counts()
        row = (
            result.target,
            result.command,
            result.started,
            result.finished,
            str(result.verdict),
            result.counts.get("responses", 0),
            profile.bodies,
            severities["breaking"],
            severities["warning"],
            severities["info"],
            sum(1 for f in result.findings if f.waiver),
            len(result.errors),
        )
        cursor = self.db.execute(
            "INSERT INTO runs (target, command, started, finished, verdict, "
            "responses, bodies, breaking, warning, info, waived, errors) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        return int(cursor.lastrowid)

    def _run_fingerprints(self, run_id: int | None) -> set[str]:
        rows = self.db.execute(
            "SELECT fingerprint FROM run_findings WHERE run_id = ?", (run_id,)
        )
        return {fingerprint for (fingerprint,) in rows}

    def _record_finding(
        self,
        target: str,
        run_id: int,
        previous: int | None,
        finding: Finding,
        result: RunResult,
    ) -> None:
        fingerprint = finding.fingerprint
        known = self.db.execute(
            "SELECT first_seen FROM findings WHERE target = ? AND fingerprint = ?",
            (target, fingerprint),
        ).fetchone()
        if known is None:
            finding.status, finding.first_seen = "new", result.started
        else:
            finding.first_seen = known[0]
            finding.status = self._recurring_or_flapping(previous, fingerprint)
        self.db.execute(
            "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT (target, fingerprint) DO UPDATE SET "
            "last_seen = excluded.last_seen, runs_seen = runs_seen + 1",
            (target, fingerprint, str(finding.kind), finding.path, result.started,
             result.started),
        )  # fmt: skip
        self.db.execute(
            "INSERT INTO run_findings VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, fingerprint, str(finding.kind), finding.path,
             str(finding.severity), finding.status, int(bool(finding.waiver))),
        )  # fmt: skip

    def _recurring_or_flapping(self, previous: int | None, fingerprint: str) -> str:
        row = self.db.execute(
            "SELECT 1 FROM run_findings WHERE run_id = ? AND fingerprint = ?",
            (previous, fingerprint),
        ).fetchone()
        return "recurring" if row else "flapping"

    def _resolved(
        self, target: str, before: set[str], findings: list[Finding]
    ) -> list[dict[str, Any]]:
        """Findings of the previous run that are gone. A permitted change is an
        event between two runs, so its absence next run resolves nothing."""
        gone = before - {f.fingerprint for f in findings}
        resolved = []
        for fingerprint in sorted(gone):
            row = self.db.execute(
                "SELECT kind, path, first_seen, last_seen, runs_seen FROM findings "
                "WHERE target = ? AND fingerprint = ?",
                (target, fingerprint),
            ).fetchone()
            if row is None or row[0] == Kind.PERMITTED_CHANGE:
                continue
            resolved.append({"fingerprint": fingerprint, **dict(row)})
        return resolved

    def _insert_profile(self, run_id: int, profile: Profile) -> None:
        rows = [
            (run_id, path, s.parent, s.present, s.nulls, s.objects,
             json.dumps(sorted(s.styles)), json.dumps(sorted(s.values)))
            for path, s in profile.fields.items()
        ]  # fmt: skip
        self.db.executemany(
            "INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )

    # -- reading -----------------------------------------------------------------

    def profile(self, run_id: int) -> Profile:
        bodies = self.db.execute(
            "SELECT bodies FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        profile = Profile(bodies=bodies[0] if bodies else 0)
        rows = self.db.execute(
            "SELECT path, parent, present, nulls, objects, styles, value_set "
            "FROM profiles WHERE run_id = ?",
            (run_id,),
        )
        for path, parent, present, nulls, objects, styles, values in rows:
            profile.fields[path] = FieldStats(
                parent, present, nulls, objects, set(json.loads(styles)),
                set(json.loads(values)),
            )  # fmt: skip
        return profile

    def trend(self, target: str, limit: int = TREND_RUNS) -> list[dict[str, Any]]:
        """The last ``limit`` runs of ``target``, oldest first."""
        rows = self.db.execute(
            "SELECT id AS run, started, verdict, breaking, warning, info, waived, "
            "errors FROM runs WHERE target = ? ORDER BY id DESC LIMIT ?",
            (target, limit),
        ).fetchall()
        return [dict(row) for row in reversed(rows)]

    def runs(self, target: str) -> list[dict[str, Any]]:
        return self.trend(target, limit=-1)

    def finding(self, target: str, fingerprint: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT first_seen, last_seen, runs_seen FROM findings "
            "WHERE target = ? AND fingerprint = ?",
            (target, fingerprint),
        ).fetchone()
        return None if row is None else dict(row)


class _Transaction:
    """``BEGIN IMMEDIATE`` takes the write lock up front, so two runs never both
    read the same "previous run" and then race to write."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if not marker:
        return
    Path(marker).write_text(str(os.getpid()))
    deadline = time.monotonic() + PAUSE_LIMIT
    while time.monotonic() < deadline:
        time.sleep(0.05)
