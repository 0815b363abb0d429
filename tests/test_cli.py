"""The command line checks what it is given before the first request: limits,
the base URL, the token and both outputs; and it records the history from the
same masked run the reports show."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sakari_contract.cli import build_parser, main
from sakari_contract.sandbox.data import DOC_EXAMPLE

EMAIL = "leaky.person@pii-example.org"
TOKEN = {"access_token": "header.payload.signature", "token_type": "Bearer"}
BEARER_RULE = "RFC 6750 allows ASCII letters, digits, '-._~+/' and trailing '='"


class Provider(BaseHTTPRequestHandler):
    """One call record, "known", that carries an undocumented key which is an
    email; every other id is unknown. The server's ``on_token`` runs when the
    token is asked for."""

    # Nagle plus delayed ACK would add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        self.server.seen.append(f"POST {self.path}")  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.on_token()  # type: ignore[attr-defined]
        self.answer(200, TOKEN)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.server.seen.append(f"GET {self.path}")  # type: ignore[attr-defined]
        record = {**DOC_EXAMPLE, "id": "known", EMAIL: True}
        if "/calls?" in self.path:
            page = {"totalCount": 1, "limit": 100, "offset": 0, "hasNext": False}
            self.answer(200, {"success": True, "pagination": page, "data": [record]})
        elif self.headers.get("Authorization") != "Bearer " + TOKEN["access_token"]:
            self.answer(401, error("AUTH", "no"))
        elif self.path.endswith("/calls/known"):
            self.answer(200, {"success": True, "data": record})
        else:
            self.answer(404, error("CALL-404", "no such call"))

    def answer(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def error(code: str, message: str) -> dict:
    return {"success": False, "error": {"code": code, "message": message}}


Serve = Callable[..., tuple[str, list[str]]]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """Start a provider on loopback with the live-run credentials set."""
    servers: list[ThreadingHTTPServer] = []
    for name in ("SAKARI_BASE_URL", "SAKARI_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAKARI_ACCOUNT_ID", "AC1")
    monkeypatch.setenv("SAKARI_CLIENT_ID", "client")
    monkeypatch.setenv("SAKARI_CLIENT_SECRET", "secret-of-the-client")

    def start(on_token: Callable[[], None] = lambda: None) -> tuple[str, list[str]]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
        server.seen, server.on_token = [], on_token  # type: ignore[attr-defined]
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        servers.append(server)
        port = server.server_address[1]
        return f"http://127.0.0.1:{port}", server.seen  # type: ignore[attr-defined]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def check(tmp_path: Path, base_url: str, *args: str, command: str = "check") -> int:
    return main(
        [command, "--base-url", base_url, "--report-dir", str(tmp_path / "out"),
         "--history", str(tmp_path / "h.sqlite"), *args]
    )  # fmt: skip


# -- limits, base URL and token ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "nan"], "--timeout=nan must be above 0 and at most 300"),
        (["--timeout", "inf"], "--timeout=inf must be above 0 and at most 300"),
        (["--timeout", "0"], "--timeout=0.0 must be above 0 and at most 300"),
        (["--timeout", "301"], "--timeout=301.0 must be above 0 and at most 300"),
        (
            ["--rate-limit", "0.0000001"],
            "--rate-limit='0.0000001' is out of range: from 0.1/s to 1000/s",
        ),
        (
            ["--rate-limit", "2000/s"],
            "--rate-limit='2000/s' is out of range: from 0.1/s to 1000/s",
        ),
    ],
)
def test_limits_out_of_range_exit_2_naming_the_value(
    tmp_path: Path, serve: Serve, capsys, args: list[str], message: str
) -> None:
    base_url, seen = serve()

    code = check(tmp_path, base_url, *args)

    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[0].startswith(f"Error: {message}")
    assert seen == []


def test_limits_at_their_bounds_are_accepted(
    tmp_path: Path, serve: Serve, capsys
) -> None:
    base_url, seen = serve()

    code = check(tmp_path, base_url, "--timeout", "300", "--rate-limit", "1000/s")

    assert code == 0
    assert seen[0] == "POST /oauth2/token"


@pytest.mark.parametrize(
    ("url", "hidden", "message"),
    [
        (
            "http://admin:Hunter2Pass@127.0.0.1:{port}",
            "Hunter2Pass",
            "holds a user name or password ('user:password@'): remove it",
        ),
        (
            "http://127.0.0.1:{port}/?api_key=QQKEY123456",
            "QQKEY123456",
            "has a query or a fragment ('?...' or '#...'): remove it",
        ),
        (
            "http://127.0.0.1:{port}/#QQKEY123456",
            "QQKEY123456",
            "has a query or a fragment ('?...' or '#...'): remove it",
        ),
    ],
)
@pytest.mark.parametrize("given", ["flag", "environment"])
def test_a_base_url_with_credentials_or_a_query_is_refused_unechoed(
    tmp_path: Path,
    serve: Serve,
    capsys,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    hidden: str,
    message: str,
    given: str,
) -> None:
    base_url, seen = serve()
    url = url.format(port=base_url.rsplit(":", 1)[1])
    report_dir = ["--report-dir", str(tmp_path / "out")]
    if given == "flag":
        code = main(["check", "--base-url", url, *report_dir])
    else:
        monkeypatch.setenv("SAKARI_BASE_URL", url)
        code = main(["check", *report_dir])

    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines()[0] == (
        f"Error: --base-url (or SAKARI_BASE_URL) {message}"
        + (
            "; credentials come from SAKARI_CLIENT_ID and SAKARI_CLIENT_SECRET "
            "(or SAKARI_TOKEN)"
            if "password" in message
            else " and give the host root, e.g. https://api.sakari.io"
        )
    )
    assert hidden not in out + err
    assert seen == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("token", ["tokén-123456", "tokABC\r\nX-Injected: 1"])
def test_a_sakari_token_that_is_not_a_bearer_token_exits_2_unechoed(
    tmp_path: Path, serve: Serve, capsys, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    base_url, seen = serve()
    monkeypatch.setenv("SAKARI_TOKEN", token)

    code = check(tmp_path, base_url)

    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [
        f"Error: SAKARI_TOKEN is not a bearer token: {BEARER_RULE}",
        "Run 'sakari-contract --help' for usage.",
    ]
    assert token[:5] not in out + err
    assert seen == []


# -- outputs are checked first ----------------------------------------------------


def test_a_report_dir_that_cannot_be_written_stops_the_run_at_once(
    tmp_path: Path, serve: Serve, capsys
) -> None:
    base_url, seen = serve()
    occupied = tmp_path / "out"
    occupied.write_text("a file where the report directory should go")

    code = check(tmp_path, base_url)

    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[0] == (
        f"Error: cannot write reports to {str(occupied)!r}: File exists"
    )
    assert seen == []
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.parametrize("kind", ["not a database", "a directory"])
def test_a_history_that_cannot_be_opened_stops_the_run_at_once(
    tmp_path: Path, serve: Serve, capsys, kind: str
) -> None:
    base_url, seen = serve()
    history = tmp_path / "h.sqlite"
    if kind == "a directory":
        history.mkdir()
    else:
        history.write_text("this is a note, not a database\n" * 100)

    code = check(tmp_path, base_url)

    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[0].startswith(f"Error: cannot use history {str(history)!r}")
    assert seen == []
    assert not (tmp_path / "out" / "drift.json").exists()


@pytest.mark.parametrize("command", ["check", "gate"])
def test_a_history_that_fails_while_recording_still_gets_the_reports(
    tmp_path: Path, serve: Serve, capsys, command: str
) -> None:
    history = tmp_path / "h.sqlite"

    def spoil_history() -> None:
        # The history passed its check at start; it breaks during the run.
        history.write_text("this is a note, not a database\n" * 100)

    base_url, seen = serve(on_token=spoil_history)

    code = check(tmp_path, base_url, command=command)

    out, err = capsys.readouterr()
    report = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert code == 2
    assert err.splitlines()[-2].startswith(
        f"Error: cannot use history {str(history)!r}"
    )
    assert report["command"] == command
    assert report["counts"]["call_records"] == 1
    assert "reports: " in out
    assert seen[0] == "POST /oauth2/token"


def test_the_history_records_the_masked_run_the_reports_show(
    tmp_path: Path, serve: Serve
) -> None:
    base_url, _ = serve()

    code = check(tmp_path, base_url)

    report = json.loads((tmp_path / "out" / "drift.json").read_text())
    shown = sorted(f["path"] for f in report["findings"])
    db = sqlite3.connect(tmp_path / "h.sqlite")
    try:
        recorded = sorted(path for (path,) in db.execute("SELECT path FROM findings"))
        per_run = sorted(p for (p,) in db.execute("SELECT path FROM run_findings"))
        targets = [target for (target,) in db.execute("SELECT target FROM runs")]
    finally:
        db.close()
    masked = f'["<email:{hashlib.sha256(EMAIL.encode()).hexdigest()[:6]}>"]'
    assert code == 0
    # Found on the list page's record and on the record itself, sorted.
    assert shown == [f"$.data{masked}", f"$.data[0]{masked}"]
    assert recorded == per_run == shown
    assert targets == [base_url]
    assert EMAIL not in json.dumps(report)


# -- the verbose flag -------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["check"], False),
        (["-v", "check"], True),
        (["check", "-v"], True),
        (["gate", "--verbose"], True),
        (["validate", "body.json", "-v"], True),
        (["sandbox", "-v"], True),
    ],
)
def test_verbose_goes_before_or_after_the_command(
    argv: list[str], verbose: bool
) -> None:
    assert build_parser().parse_args(argv).verbose is verbose


def test_verbose_after_the_command_turns_debug_logs_on(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"success": True, "data": DOC_EXAMPLE}))

    done = subprocess.run(
        [sys.executable, "-m", "sakari_contract.cli", "validate", str(body), "-v",
         "--report-dir", str(tmp_path / "out"), "--history", str(tmp_path / "h")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip

    assert done.returncode == 0
    assert "DEBUG sakari_contract: wrote report" in done.stderr
