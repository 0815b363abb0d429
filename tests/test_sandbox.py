"""The embedded sandbox, served by real uvicorn on loopback and driven with httpx."""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sakari_contract.errors import UsageError
from sakari_contract.sandbox import (
    DOC_EXAMPLE,
    DRIFT_PROFILES,
    FAULT_PROFILES,
    SandboxServer,
    build_app,
    calls,
)

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
ACCOUNT = "ACtest000000000000000001"
# Completed, outbound, created at 2024-04-30T15:00:53.030247+02:00, 274 s long.
DRIFT_INDEX = 7
DRIFT_CALL = calls()[DRIFT_INDEX]
STATUSES = {
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
}


def _server(**options: Any) -> SandboxServer:
    settings = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "account_id": ACCOUNT,
        "rate_limit": 10_000.0,
    }
    return SandboxServer(**{**settings, **options})


def _call_path(call_id: str, account: str = ACCOUNT) -> str:
    return f"/v1/accounts/{account}/calls/{quote(call_id, safe='')}"


def _token_body(**changes: str) -> dict[str, str]:
    body = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    return {**body, **changes}


def _bearer(client: httpx.Client, **changes: str) -> dict[str, str]:
    response = client.post("/oauth2/token", json=_token_body(**changes))
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _envelope(response: httpx.Response, status: int, code: str) -> str:
    """Assert an error envelope with `status` and `code`; return its message."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert set(body) == {"success", "error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return str(body["error"]["message"])


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


@contextmanager
def _running(**options: Any) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with (
        _server(**options) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0) as client,
    ):
        yield client, _bearer(client, client_secret=server.client_secret)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with _server() as server:
        yield server


@pytest.fixture(scope="module")
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=5.0) as client:
        yield client


@pytest.fixture(scope="module")
def auth(client: httpx.Client) -> dict[str, str]:
    return _bearer(client)


# Token endpoint


def test_token_endpoint_issues_hs256_jwt_for_the_client(client: httpx.Client) -> None:
    response = client.post("/oauth2/token", json=_token_body())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "Bearer"
    header = body["access_token"].split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {
        "alg": "HS256",
        "typ": "JWT",
    }
    claims = _claims(body["access_token"])
    assert claims["sub"] == CLIENT_ID
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"client_secret": "wrong-secret"}, "AUTH-005"),
        ({"client_id": "someone-else"}, "AUTH-005"),
        ({"grant_type": "password"}, "AUTH-006"),
    ],
)
def test_token_endpoint_rejects_wrong_credentials(
    client: httpx.Client, changes: dict[str, str], code: str
) -> None:
    response = client.post("/oauth2/token", json=_token_body(**changes))

    _envelope(response, 401, code)


@pytest.mark.parametrize(
    "content",
    [
        b"grant_type=client_credentials&client_id=a&client_secret=b",
        b'["client_credentials"]',
        b'{"grant_type": "client_credentials", "client_id": "test-client"}',
        b'{"grant_type": "client_credentials", "client_id": 7, "client_secret": "x"}',
    ],
)
def test_token_endpoint_rejects_malformed_body(
    client: httpx.Client, content: bytes
) -> None:
    response = client.post("/oauth2/token", content=content)

    _envelope(response, 400, "REQ-002")


# Get call and list calls


@pytest.mark.parametrize("index", [0, 3, DRIFT_INDEX, 30])
def test_get_call_returns_the_stored_record(
    client: httpx.Client, auth: dict[str, str], index: int
) -> None:
    record = calls()[index]

    response = client.get(_call_path(record["id"]), headers=auth)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"success": True, "data": record}


def test_doc_example_is_served_byte_for_byte(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    response = client.get(f"/v1/accounts/{ACCOUNT}/calls/%3Cstring%3E", headers=auth)

    expected = {"success": True, "data": DOC_EXAMPLE}
    assert response.status_code == 200
    assert response.content == json.dumps(expected, separators=(",", ":")).encode()


def test_unknown_call_id_is_a_404_envelope(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    response = client.get(_call_path("no-such-call"), headers=auth)

    message = _envelope(response, 404, "CALL-001")
    assert message == "no call with id 'no-such-call'"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_on_call_paths_are_405(
    client: httpx.Client, auth: dict[str, str], method: str
) -> None:
    for path in (_call_path(DRIFT_CALL["id"]), f"/v1/accounts/{ACCOUNT}/calls"):
        response = client.request(method, path, headers=auth)

        _envelope(response, 405, "HTTP-405")
        assert response.headers["allow"] == "GET, HEAD"


def test_list_calls_pages_join_to_every_call_in_order(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    for _ in range(20):
        params = {"offset": len(ids), "limit": 7}
        response = client.get(
            f"/v1/accounts/{ACCOUNT}/calls", params=params, headers=auth
        )
        assert response.status_code == 200
        body = response.json()
        pages.append(body["pagination"])
        ids += [call["id"] for call in body["data"]]
        if not body["pagination"]["hasNext"]:
            break

    assert ids == [call["id"] for call in calls()]
    assert len(pages) == 9
    assert [page["offset"] for page in pages] == [7 * n for n in range(9)]
    assert {page["totalCount"] for page in pages} == {len(calls())}
    assert {page["limit"] for page in pages} == {7}
    assert [page["hasNext"] for page in pages] == [True] * 8 + [False]


def test_list_calls_defaults_and_records(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    response = client.get(f"/v1/accounts/{ACCOUNT}/calls", headers=auth)

    body = response.json()
    assert body["success"] is True
    assert body["pagination"] == {
        "totalCount": len(calls()),
        "limit": 25,
        "offset": 0,
        "hasNext": True,
    }
    assert body["data"] == calls()[:25]


def test_list_calls_past_the_end_is_empty(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    params = {"offset": len(calls()), "limit": 100}
    response = client.get(f"/v1/accounts/{ACCOUNT}/calls", params=params, headers=auth)

    assert response.json()["data"] == []
    assert response.json()["pagination"]["hasNext"] is False


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"limit": "101"},
            "query parameter limit='101' must be an integer from 1 to 100",
        ),
        ({"limit": "0"}, "query parameter limit='0' must be an integer from 1 to 100"),
        (
            {"limit": "ten"},
            "query parameter limit='ten' must be an integer from 1 to 100",
        ),
        (
            {"offset": "-1"},
            "query parameter offset='-1' must be an integer of at least 0",
        ),
    ],
)
def test_list_calls_rejects_out_of_range_paging(
    client: httpx.Client, auth: dict[str, str], params: dict[str, str], message: str
) -> None:
    response = client.get(f"/v1/accounts/{ACCOUNT}/calls", params=params, headers=auth)

    assert _envelope(response, 400, "REQ-001") == message


# Authentication and authorization


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "AUTH-001"),
        ("Basic dGVzdDp0ZXN0", "AUTH-001"),
        ("Bearer not-a-jwt", "AUTH-002"),
        ("Bearer a.b.c", "AUTH-002"),
    ],
)
def test_get_call_without_a_usable_token_is_401(
    client: httpx.Client, authorization: str | None, code: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get(_call_path(DRIFT_CALL["id"]), headers=headers)

    _envelope(response, 401, code)


def test_token_with_forged_claims_is_401(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    header, _, signature = auth["Authorization"].removeprefix("Bearer ").split(".")
    claims = {"sub": CLIENT_ID, "exp": 4102444800}
    forged_claims = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_claims.rstrip('=')}.{signature}"

    response = client.get(
        _call_path(DRIFT_CALL["id"]), headers={"Authorization": f"Bearer {forged}"}
    )

    _envelope(response, 401, "AUTH-003")


def test_token_of_another_sandbox_is_401(client: httpx.Client) -> None:
    with _running(client_secret="another-secret") as (_, foreign):
        response = client.get(_call_path(DRIFT_CALL["id"]), headers=foreign)

    _envelope(response, 401, "AUTH-003")


def test_expired_token_is_401() -> None:
    with _running(token_ttl=-1) as (client, expired):
        get = client.get(_call_path(DRIFT_CALL["id"]), headers=expired)
        listing = client.get(f"/v1/accounts/{ACCOUNT}/calls", headers=expired)

    _envelope(get, 401, "AUTH-004")
    _envelope(listing, 401, "AUTH-004")


def test_other_account_is_403(client: httpx.Client, auth: dict[str, str]) -> None:
    get = client.get(_call_path(DRIFT_CALL["id"], account="ACother"), headers=auth)
    listing = client.get("/v1/accounts/ACother/calls", headers=auth)

    assert _envelope(get, 403, "AUTH-007") == (
        "the token does not grant access to account 'ACother'"
    )
    _envelope(listing, 403, "AUTH-007")


def test_auth_is_checked_before_the_call_id_and_paging(client: httpx.Client) -> None:
    unknown = client.get(_call_path("no-such-call"))
    bad_paging = client.get(f"/v1/accounts/{ACCOUNT}/calls", params={"limit": "101"})

    _envelope(unknown, 401, "AUTH-001")
    _envelope(bad_paging, 401, "AUTH-001")


def test_requests_past_the_rate_get_429_with_retry_after() -> None:
    with (
        _server(rate_limit=1.0) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0) as client,
    ):
        first = client.post("/oauth2/token", json=_token_body())
        for _ in range(20):
            limited = client.post("/oauth2/token", json=_token_body())
            if limited.status_code != 200:
                break

    assert first.status_code == 200
    _envelope(limited, 429, "RATE-001")
    assert limited.headers["retry-after"] == "1"


# Drift profiles


def _assign(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(call: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            call = call[key]
        call[leaf] = value

    return edit


def _remove_voicemail(call: dict[str, Any]) -> None:
    del call["voicemail"]


def _rename_phone_number(call: dict[str, Any]) -> None:
    call["phone_number"] = call.pop("phoneNumber")


def _rename_contact(call: dict[str, Any]) -> None:
    call["customer"] = call.pop("contact")


BODY_DRIFTS = {
    "status-new-value": _assign("status", "queued"),
    "direction-new-value": _assign("direction", "internal"),
    "timestamp-epoch": _assign("created.at", 1714482053030),
    "timestamp-no-offset": _assign("created.at", "2024-04-30T13:00:53.030"),
    "timestamp-space-separator": _assign("created.at", "2024-04-30 13:00:53+00:00"),
    "duration-as-string": _assign("duration", "274"),
    "field-removed": _remove_voicemail,
    "field-renamed": _rename_phone_number,
    "contact-renamed": _rename_contact,
    "field-added": _assign("transcription", {"status": "pending"}),
    "null-contact": _assign("contact", None),
}


def test_every_drift_profile_is_tested() -> None:
    tested = {*BODY_DRIFTS, "html-maintenance", "wrong-content-type"}
    assert tested == set(DRIFT_PROFILES)


@pytest.mark.parametrize("profile", sorted(BODY_DRIFTS))
def test_drift_profile_changes_only_what_it_names(profile: str) -> None:
    expected = copy.deepcopy(DRIFT_CALL)
    BODY_DRIFTS[profile](expected)
    assert expected != DRIFT_CALL

    with _running(drift=profile) as (client, auth):
        drifted = client.get(_call_path(DRIFT_CALL["id"]), headers=auth)
        listing = client.get(
            f"/v1/accounts/{ACCOUNT}/calls",
            params={"offset": DRIFT_INDEX, "limit": 1},
            headers=auth,
        )

    assert drifted.status_code == 200
    assert drifted.headers["content-type"] == "application/json"
    assert drifted.json() == {"success": True, "data": expected}
    assert listing.json()["data"] == [DRIFT_CALL]


def test_drift_html_maintenance_serves_an_html_page() -> None:
    with _running(drift="html-maintenance") as (client, auth):
        response = client.get(_call_path(DRIFT_CALL["id"]), headers=auth)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!doctype html>")
    assert "<title>Down for maintenance</title>" in response.text


def test_drift_wrong_content_type_labels_json_as_text() -> None:
    with _running(drift="wrong-content-type") as (client, auth):
        response = client.get(_call_path(DRIFT_CALL["id"]), headers=auth)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert json.loads(response.text) == {"success": True, "data": DRIFT_CALL}


# Fault profiles


def _raw_get(base_url: str, path: str, headers: dict[str, str]) -> bytes:
    """Send one GET over a bare socket and return every byte until the server closes."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, int(port)), timeout=5.0) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        for _ in range(1000):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def test_fault_profiles_all_have_a_test() -> None:
    assert set(FAULT_PROFILES) == {
        "slow",
        "server-error",
        "rate-limit",
        "reset",
        "truncated",
    }


def test_fault_slow_outlasts_a_short_client_timeout() -> None:
    with _running(fault="slow") as (client, auth):
        listing = client.get(f"/v1/accounts/{ACCOUNT}/calls", headers=auth)
        with pytest.raises(httpx.ReadTimeout):
            client.get(_call_path(DRIFT_CALL["id"]), headers=auth, timeout=0.3)

    assert listing.status_code == 200


def test_fault_server_error_answers_503_envelopes() -> None:
    with _running(fault="server-error") as (client, auth):
        responses = [
            client.get(_call_path(DRIFT_CALL["id"]), headers=auth) for _ in range(2)
        ]

    for response in responses:
        _envelope(response, 503, "SRV-001")


def test_fault_rate_limit_answers_every_third_call_with_429() -> None:
    with _running(fault="rate-limit") as (client, auth):
        responses = [
            client.get(_call_path(DRIFT_CALL["id"]), headers=auth) for _ in range(4)
        ]

    assert [response.status_code for response in responses] == [200, 200, 429, 200]
    _envelope(responses[2], 429, "RATE-001")
    assert responses[2].headers["retry-after"] == "1"
    assert responses[3].json() == {"success": True, "data": DRIFT_CALL}


def test_fault_reset_drops_the_connection() -> None:
    with _server(fault="reset") as server:
        with (
            httpx.Client(base_url=server.base_url, timeout=5.0) as client,
            pytest.raises(httpx.ReadError, match="reset"),
        ):
            client.get(_call_path(DRIFT_CALL["id"]), headers=_bearer(client))

        with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
            auth = _bearer(client)
        with pytest.raises(ConnectionResetError):
            _raw_get(server.base_url, _call_path(DRIFT_CALL["id"]), auth)


def test_fault_truncated_sends_less_than_content_length() -> None:
    full = json.dumps(
        {"success": True, "data": DRIFT_CALL}, ensure_ascii=False, separators=(",", ":")
    ).encode()

    with _server(fault="truncated") as server:
        with (
            httpx.Client(base_url=server.base_url, timeout=5.0) as client,
            pytest.raises(httpx.RemoteProtocolError, match="complete message body"),
        ):
            client.get(_call_path(DRIFT_CALL["id"]), headers=_bearer(client))

        with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
            auth = _bearer(client)
        received = _raw_get(server.base_url, _call_path(DRIFT_CALL["id"]), auth)

    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"content-length: {len(full)}".encode() in head.split(b"\r\n")
    assert body == full[: len(full) // 2]


# Profiles and settings


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"drift": "sideways"}, "unknown drift profile drift='sideways'"),
        ({"fault": "meltdown"}, "unknown fault profile fault='meltdown'"),
        ({"rate_limit": 0.0}, "rate_limit=0.0 must be a positive number"),
    ],
)
def test_bad_settings_raise_usage_error(options: dict[str, Any], message: str) -> None:
    settings = {
        "drift": None,
        "fault": None,
        "rate_limit": 50.0,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "account_id": ACCOUNT,
    }

    with pytest.raises(UsageError, match=re.escape(message)):
        build_app(**{**settings, **options})
    with pytest.raises(UsageError, match=re.escape(message)):
        SandboxServer(**options)


def test_unknown_profile_message_lists_the_valid_names() -> None:
    with pytest.raises(UsageError) as raised:
        SandboxServer(drift="sideways")

    assert str(raised.value).endswith("choose one of: " + ", ".join(DRIFT_PROFILES))


def test_credentials_come_from_arguments_then_environment_then_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAKARI_CLIENT_ID", "env-client")
    monkeypatch.setenv("SAKARI_CLIENT_SECRET", "env-secret")
    monkeypatch.delenv("SAKARI_ACCOUNT_ID", raising=False)

    server = SandboxServer(client_secret="explicit-secret")
    server.close()

    assert server.client_id == "env-client"
    assert server.client_secret == "explicit-secret"
    assert server.account_id == "AC5andb0x00000000000001"
    assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", server.base_url)


def test_a_port_in_use_is_a_usage_error(sandbox: SandboxServer) -> None:
    with pytest.raises(UsageError, match=f"port={sandbox.port}"):
        SandboxServer(port=sandbox.port)


# The data set

RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
EMAIL = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Objects the docs leave free-form: any keys may appear inside them.
FREE_FORM = ("contact.attributes", "phoneNumber.forwardTo", "sms.supportedDestinations")


def _paths(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) inside `value`, with array items spelled `[]`."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path, item
            yield from _paths(item, path)
    elif isinstance(value, list):
        for item in value:
            yield f"{prefix}[]", item
            yield from _paths(item, f"{prefix}[]")


@functools.cache
def _flat() -> list[list[tuple[str, Any]]]:
    return [list(_paths(call)) for call in calls()]


def _values(path: str) -> list[Any]:
    return [value for pairs in _flat() for found, value in pairs if found == path]


def test_calls_are_many_unique_and_deterministic() -> None:
    records = calls()

    assert len(records) >= 50
    assert len({call["id"] for call in records}) == len(records)
    assert records == calls()
    assert DOC_EXAMPLE in records


def test_calls_cover_every_direction_status_and_list_count() -> None:
    assert set(_values("direction")) == {"inbound", "outbound"}
    assert set(_values("status")) == STATUSES
    assert {len(lists) for lists in _values("contact.lists")} == {0, 1, 2, 3, 4, 5}
    assert {"Zoë", "Łukasz", "José", "渡辺"} <= set(_values("contact.firstName"))


def test_every_documented_field_is_in_most_records_with_the_documented_type() -> None:
    documented = {path: type(value) for path, value in _paths(DOC_EXAMPLE)}
    records = calls()

    present = [{path for path, _ in pairs} for pairs in _flat()]

    for path, kind in documented.items():
        holders = sum(path in paths for paths in present)
        assert holders > len(records) / 2, path
        assert {type(value) for value in _values(path)} == {kind}, path


def test_records_hold_no_undocumented_field_and_no_null() -> None:
    documented = {path for path, _ in _paths(DOC_EXAMPLE)}

    for call in calls():
        for path, value in _paths(call):
            free = any(f"{root}." in path for root in FREE_FORM)
            assert path in documented or free, path
            assert value is not None, path


def test_required_fields_are_never_left_out() -> None:
    required = {"id", "direction", "status", "contact", "phoneNumber", "created"}
    required |= {"duration", "voicemail", "recording"}

    for call in calls():
        assert required <= set(call)
        assert "id" in call["contact"]
        assert "id" in call["phoneNumber"]
        assert "at" in call["created"]
        assert type(call["duration"]) is int
        assert call["duration"] >= 0


def test_timestamps_emails_and_numbers_are_strictly_valid() -> None:
    # The docs print this placeholder for every date-time field.
    date_times = {p for p, v in _paths(DOC_EXAMPLE) if v == "2023-11-07T05:31:56Z"}
    stamps = [value for path in sorted(date_times) for value in _values(path)]
    emails = _values("contact.email") + _values("created.by.email")
    generated = calls()[:-1]
    numbers = [call["phoneNumber"]["number"] for call in generated]
    numbers += [
        c["phoneNumber"]["channels"]["voice"]["incoming"]["forwardTo"]
        for c in generated
    ]

    assert len(date_times) == 8
    assert all(RFC3339.fullmatch(stamp) for stamp in stamps)
    assert any(stamp.endswith("Z") and "." not in stamp for stamp in stamps)
    assert any(stamp.endswith("+02:00") for stamp in stamps)
    assert any("." in stamp for stamp in stamps)
    assert all(EMAIL.fullmatch(email) for email in emails)
    assert all(E164.fullmatch(number) for number in numbers)
