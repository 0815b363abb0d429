"""LiveRun against small misbehaving providers on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from sakari_contract.cli import main
from sakari_contract.errors import UsageError
from sakari_contract.live import CheckOptions, LiveRun, Target
from sakari_contract.sandbox.data import DOC_EXAMPLE
from sakari_contract.schema import load_contract

Page = Callable[[int], dict]
TOKEN = {"access_token": "header.payload.signature", "token_type": "Bearer"}


def provider(
    list_page: Page,
    seen: list[str],
    token: dict,
    retry_after: str | None,
    extra: dict | None = None,
) -> type[BaseHTTPRequestHandler]:
    """A provider that answers ``token`` to the token request and, when
    ``retry_after`` is set, 429 with that Retry-After to every Get call;
    ``extra`` fields are added to the call record it serves."""
    record = {**DOC_EXAMPLE, "id": "known", **(extra or {})}

    class Provider(BaseHTTPRequestHandler):
        # Nagle plus delayed ACK would add ~40 ms to every keep-alive answer.
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            seen.append(f"POST {self.path}")
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.answer(200, token)

        def do_GET(self) -> None:
            seen.append(f"GET {self.path}")
            if "/calls?" in self.path:
                offset = int(self.path.split("offset=")[1].split("&")[0])
                self.answer(200, list_page(offset))
            elif retry_after is not None:
                self.answer(429, error("RATE", "slow down"), retry_after)
            elif self.headers.get("Authorization") != "Bearer " + TOKEN["access_token"]:
                self.answer(401, error("AUTH", "no"))
            elif self.path.endswith("/calls/known"):
                self.answer(200, {"success": True, "data": record})
            else:
                self.answer(404, error("CALL-404", "no such call"))

        def answer(self, status: int, body: dict, retry_after: str = "") -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Provider


def error(code: str, message: str) -> dict:
    return {"success": False, "error": {"code": code, "message": message}}


def listing(ids: list[str], has_next: bool) -> dict:
    pagination = {
        "totalCount": len(ids),
        "limit": 100,
        "offset": 0,
        "hasNext": has_next,
    }
    calls = [{**DOC_EXAMPLE, "id": call_id} for call_id in ids]
    return {"success": True, "pagination": pagination, "data": calls}


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[str, list[str]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(
        list_page: Page,
        token: dict = TOKEN,
        retry_after: str | None = None,
        extra: dict | None = None,
    ) -> tuple[str, list[str]]:
        seen: list[str] = []
        handler = provider(list_page, seen, token, retry_after, extra)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run(base_url: str, **options: Any) -> LiveRun:
    target = Target(base_url, "AC1", "client", "secret")
    settings = {"rate_limit": 200.0, "timeout": 5.0, "probes": 2, **options}
    live = LiveRun(target, load_contract(), CheckOptions(**settings))
    live.run()
    return live


def test_an_account_without_calls_is_not_a_green_light(serve) -> None:
    base_url, _ = serve(lambda offset: listing([], has_next=False))

    result = run(base_url).result

    assert str(result.verdict) == "infra"
    assert result.incomplete is True
    assert result.notes == ["no call records to check: list calls gave none"]
    assert result.findings == []


def test_a_page_repeated_forever_stops_the_paging(serve) -> None:
    base_url, seen = serve(lambda offset: listing(["known"], has_next=True))

    result = run(base_url).result

    assert str(result.verdict) == "conform"
    assert result.counts["list_pages"] == 2
    assert result.counts["call_records"] == 1
    assert result.notes == ["list calls repeated a page: stopped paging"]
    assert [line for line in seen if "/calls?" in line] == [
        "GET /v1/accounts/AC1/calls?offset=0&limit=100",
        "GET /v1/accounts/AC1/calls?offset=1&limit=100",
    ]


def test_only_the_token_request_is_not_a_get(serve) -> None:
    base_url, seen = serve(lambda offset: listing(["known"], has_next=False))

    run(base_url)

    assert [line for line in seen if not line.startswith("GET ")] == [
        "POST /oauth2/token"
    ]
    # list, the record, two generated ids, and the two auth checks.
    assert len(seen) == 1 + 1 + 1 + 2 + 2


def test_a_wait_longer_than_the_budget_stops_asking_the_target(serve) -> None:
    base_url, seen = serve(
        lambda offset: listing(["known", "other"], has_next=False),
        retry_after="999999",
    )

    result = run(base_url).result

    # No second record, no probes, no auth checks after the target asked to wait.
    assert seen == [
        "POST /oauth2/token",
        "GET /v1/accounts/AC1/calls?offset=0&limit=100",
        "GET /v1/accounts/AC1/calls/known",
    ]
    assert str(result.verdict) == "infra"
    assert result.incomplete is True
    assert [(str(e.kind), e.message) for e in result.errors] == [
        (
            "rate_limited",
            "429 rate limited; retries used: 0; asked to wait 999999 s "
            "(Retry-After), beyond the retry budget",
        )
    ]
    assert result.notes == [
        "stopped: the target asked to wait 999999 s (Retry-After), beyond what "
        "the retry budget had left (10 retries, 30 s)"
    ]
    assert result.retries["retries_used"] == 0


@pytest.mark.parametrize(
    "token", ["toké中文long", "tokABC\r\nX-Injected: 1", "two words here"]
)
def test_a_token_that_is_not_a_bearer_token_fails_auth_at_once(
    serve, token: str
) -> None:
    base_url, seen = serve(
        lambda offset: listing(["known"], has_next=False),
        token={"access_token": token, "token_type": "Bearer"},
    )

    live = run(base_url)

    assert seen == ["POST /oauth2/token"]
    assert live.client.requests == 1
    assert str(live.result.verdict) == "infra"
    assert [(str(e.kind), e.message) for e in live.result.errors] == [
        (
            "auth_failed",
            "the token is not a bearer token: RFC 6750 allows ASCII letters, "
            "digits, '-._~+/' and trailing '='",
        )
    ]


def test_a_given_token_that_is_not_a_bearer_token_is_a_usage_error() -> None:
    target = Target("http://127.0.0.1:9", "AC1", token="tokén-123456")

    with pytest.raises(UsageError) as caught:
        LiveRun(target, load_contract(), CheckOptions())

    assert "tokén" not in str(caught.value)
    assert str(caught.value).startswith("the token is not a bearer token")


def test_probe_ids_come_from_the_given_strategy_quoted(serve) -> None:
    base_url, seen = serve(lambda offset: listing(["known"], has_next=False))

    result = run(base_url, probe_ids=st.just("odd id/é")).result

    probes = [line for line in seen if "odd" in line]
    assert probes == ["GET /v1/accounts/AC1/calls/odd%20id%2F%C3%A9"] * 2
    assert result.counts["unknown_id_probes"] == 2
    assert str(result.verdict) == "conform"


def test_a_waiver_copied_from_a_masked_report_covers_its_finding(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate matches waivers against the run as reported (masked), so the
    fingerprint a reviewer copies from drift.json is the one it matches."""
    extra = {"zoe.martin@example.com": "vip"}
    base_url, _ = serve(lambda offset: listing(["known"], has_next=False), extra=extra)
    for name, value in (
        ("ACCOUNT_ID", "AC1"),
        ("CLIENT_ID", "c"),
        ("CLIENT_SECRET", "s"),
    ):
        monkeypatch.setenv(f"SAKARI_{name}", value)
    gate = ["gate", "--base-url", base_url, "--strict", "--history", "h.sqlite"]

    assert main([*gate, "--report-dir", "one"]) == 1
    [finding] = json.loads((tmp_path / "one/drift.json").read_text())["findings"]
    assert finding["kind"] == "undocumented_field"
    assert "zoe.martin" not in finding["path"]
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        f"  - fingerprint: {finding['fingerprint']}\n"
        "    reason: a test field\n    owner: calls-team\n    expires: 2099-12-31\n"
    )

    assert main([*gate, "--report-dir", "two", "--waivers", str(waivers)]) == 0
