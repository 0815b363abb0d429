"""PoliteClient against a real loopback server: retries, Retry-After, budget, rate."""

from __future__ import annotations

import contextlib
import gzip
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sakari_contract.findings import ErrorKind, Source
from sakari_contract.http import (
    MAX_BODY,
    MIB,
    PoliteClient,
    RetryBudget,
    backoff,
    is_bearer_token,
    retry_after,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
SOURCE = Source(operation="getCall", request="GET /x")
Script = list[tuple[int, dict[str, str]]]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),  # IMF-fixdate
        ("Wednesday, 01-May-24 12:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Wed May  1 12:00:05 2024", 5.0),  # obsolete asctime form, no zone
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),  # already past
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value", [None, "1.5", "", "-1", "soon", "١٢", "12345678901", "1e3"]
)
def test_retry_after_refuses_what_is_neither_form(value: str | None) -> None:
    assert retry_after(value, now=NOW) is None


def test_backoff_doubles_with_jitter_inside_each_step() -> None:
    rng = random.Random(3)
    for attempt, (low, high) in enumerate([(0.125, 0.25), (0.25, 0.5), (0.5, 1.0)]):
        assert low <= backoff(attempt, rng) <= high
    assert 4.0 <= backoff(12, rng) <= 8.0


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, headers) of the server's script;
    an empty script answers 200."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server = self.server
        server.hits.append(time.monotonic())  # type: ignore[attr-defined]
        script = server.script  # type: ignore[attr-defined]
        status, headers = script.pop(0) if script else (200, {})
        body = b'{"success": true}'
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(script: Script) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.script = list(script)  # type: ignore[attr-defined]
    server.hits = []  # type: ignore[attr-defined]
    with running(server):
        yield server


@contextmanager
def running(server: ThreadingHTTPServer) -> Iterator[None]:
    """Serve in a thread until the block ends."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def client_for(server: ThreadingHTTPServer, **kw: object) -> PoliteClient:
    host, port = server.server_address[:2]
    kw.setdefault("rate_limit", 1000.0)
    return PoliteClient(f"http://{host}:{port}", **kw)  # type: ignore[arg-type]


def test_invalid_retry_after_falls_back_to_the_jittered_default() -> None:
    with serving([(429, {"Retry-After": "1.5"})]) as server:
        client = client_for(server, rng=random.Random(7))
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert reply.status == 200
    assert client.budget.retries == 1
    assert client.budget.waited == backoff(0, random.Random(7))
    assert len(server.hits) == 2  # type: ignore[attr-defined]


def test_http_date_retry_after_in_the_past_retries_at_once() -> None:
    with serving([(503, {"Retry-After": "Sun, 06 Nov 1994 08:49:37 GMT"})]) as server:
        client = client_for(server)
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert (reply.status, client.budget.retries, client.budget.waited) == (200, 1, 0.0)


def test_retry_after_beyond_the_wait_budget_is_not_waited_for() -> None:
    with serving([(429, {"Retry-After": "3600"})]) as server:
        client = client_for(server, budget=RetryBudget(max_retries=5, max_wait=30.0))
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert reply.status == 429
    assert client.budget.report() == {
        "retries_used": 0,
        "retry_budget": 5,
        "seconds_waited": 0.0,
        "wait_budget_seconds": 30.0,
    }


def test_retries_stop_when_the_budget_is_spent() -> None:
    always = [(503, {"Retry-After": "0"})] * 10
    with serving(always) as server:
        client = client_for(server, budget=RetryBudget(max_retries=2), attempts=5)
        first = client.get("/x", {}, SOURCE)
        second = client.get("/x", {}, SOURCE)
        client.close()

    assert (first.status, second.status) == (503, 503)
    assert client.budget.retries == 2
    # Three sends for the first request (two retries), one for the second.
    assert len(server.hits) == 4  # type: ignore[attr-defined]


def test_refused_connection_is_an_error_after_jittered_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = PoliteClient(
        f"http://127.0.0.1:{port}", rate_limit=1000.0, rng=random.Random(1)
    )
    reply = client.get("/x", {}, SOURCE)
    client.close()

    rng = random.Random(1)
    assert reply.error is not None
    assert reply.error.kind is ErrorKind.CONNECTION_ERROR
    assert reply.error.source == SOURCE
    assert client.requests == 3
    assert client.budget.waited == backoff(0, rng) + backoff(1, rng)


def test_rate_limit_spaces_requests() -> None:
    count, rate = 6, 20.0
    with serving([]) as server:
        client = client_for(server, rate_limit=rate)
        started = time.monotonic()
        statuses = [client.get("/x", {}, SOURCE).status for _ in range(count)]
        elapsed = time.monotonic() - started
        client.close()

    assert statuses == [200] * count
    assert len(server.hits) == count  # type: ignore[attr-defined]
    # The first request goes at once, each next one a slot of 1/rate later.
    assert elapsed >= (count - 1) / rate


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("header.payload.signature", True),
        ("aB9-._~+/", True),
        ("YWJj==", True),
        ("tokén-123456", False),
        ("tok\r\nX-Injected: 1", False),
        ("two words", False),
        ("=abc", False),
        ("ab=c", False),
        ("", False),
    ],
)
def test_a_bearer_token_is_visible_ascii(value: str, ok: bool) -> None:
    assert is_bearer_token(value) is ok


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("timeout", 0.0),
        ("rate_limit", float("nan")),
        ("rate_limit", -1.0),
    ],
)
def test_a_client_refuses_a_limit_that_is_not_finite_and_positive(
    name: str, value: float
) -> None:
    with pytest.raises(ValueError, match=f"^{name}=.* must be a finite number"):
        PoliteClient("http://127.0.0.1:9", **{name: value})  # type: ignore[arg-type]


def test_retry_after_beyond_the_budget_is_reported_as_asked() -> None:
    with serving([(429, {"Retry-After": "999999"})]) as server:
        client = client_for(server, budget=RetryBudget(max_retries=5, max_wait=30.0))
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert (reply.status, reply.asked_wait) == (429, 999999.0)
    assert reply.error is not None
    assert reply.error.kind is ErrorKind.RATE_LIMITED
    assert reply.error.message == (
        "429 rate limited; retries used: 0; asked to wait 999999 s (Retry-After), "
        "beyond the retry budget"
    )
    assert len(server.hits) == 1  # type: ignore[attr-defined]


def test_a_5xx_left_after_retries_says_how_many_were_used() -> None:
    always = [(503, {"Retry-After": "0"})] * 3
    with serving(always) as server:
        client = client_for(server, attempts=3)
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert reply.error is not None
    assert reply.error.kind is ErrorKind.SERVER_ERROR
    assert reply.error.message == "503 service unavailable; retries used: 2"
    # Retry-After: 0 asks for no wait, so it is no reason to stop asking.
    assert reply.asked_wait is None


class Streaming(BaseHTTPRequestHandler):
    """Serves the server's ``body`` (with its ``headers``), ``drip`` seconds
    between bytes when set, else all at once."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server = self.server
        body: bytes = server.body  # type: ignore[attr-defined]
        self.send_response(200)
        for name, value in server.headers.items():  # type: ignore[attr-defined]
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client stops reading on purpose in these tests.
        with contextlib.suppress(OSError):
            self.send_body(body, server.drip)  # type: ignore[attr-defined]

    def send_body(self, body: bytes, drip: float) -> None:
        if not drip:
            self.wfile.write(body)
            return
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            time.sleep(drip)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def streaming(
    body: bytes, headers: dict[str, str] | None = None, drip: float = 0.0
) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Streaming)
    server.body, server.headers = body, headers or {}  # type: ignore[attr-defined]
    server.drip = drip  # type: ignore[attr-defined]
    with running(server):
        yield server


def test_a_body_that_trickles_in_ends_at_the_request_deadline() -> None:
    # 200 bytes, one every 50 ms: each read is quick, the whole takes 10 s.
    with streaming(b"x" * 200, drip=0.05) as server:
        client = client_for(server, timeout=0.5)
        started = time.monotonic()
        reply = client.get("/x", {}, SOURCE)
        elapsed = time.monotonic() - started
        client.close()

    assert reply.error is not None
    assert reply.error.kind is ErrorKind.TIMEOUT
    assert reply.error.message == "the response did not complete within 0.5s"
    assert reply.error.source == SOURCE
    assert (reply.status, reply.body) == (0, b"")
    assert client.requests == 1
    assert elapsed >= 0.5


def test_a_compressed_body_is_capped_by_its_decoded_size() -> None:
    # 17 MiB of zeros is about 17 KB gzipped: small on the wire, past the cap.
    bomb = gzip.compress(bytes(17 * MIB), compresslevel=9)
    with streaming(bomb, {"Content-Encoding": "gzip"}) as server:
        client = client_for(server)
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert len(bomb) < MIB
    assert MAX_BODY == 16 * MIB
    assert reply.error is not None
    assert reply.error.kind is ErrorKind.TRUNCATED_BODY
    assert reply.error.message == "the body exceeded 16 MiB and was not read further"
    assert reply.body == b""


def test_a_plain_body_past_the_cap_is_not_read_further() -> None:
    with streaming(b"x" * (2 * MIB)) as server:
        client = client_for(server, max_body=MIB)
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert reply.error is not None
    assert reply.error.kind is ErrorKind.TRUNCATED_BODY
    assert reply.error.message == "the body exceeded 1 MiB and was not read further"


def test_a_body_at_the_cap_is_read_whole() -> None:
    body = b"y" * MIB
    with streaming(gzip.compress(body), {"Content-Encoding": "gzip"}) as server:
        client = client_for(server, max_body=MIB)
        reply = client.get("/x", {}, SOURCE)
        client.close()

    assert (reply.status, reply.error, reply.body == body) == (200, None, True)
