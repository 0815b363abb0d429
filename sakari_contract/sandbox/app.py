"""The sandbox's ASGI application: Sakari's token, list calls and Get call operations.

The application answers the way the documentation says Sakari does (JSON bodies,
the `{"success": false, "error": {...}}` envelope on every error, bearer tokens from
the client-credentials flow), and a drift or fault profile bends Get call alone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import socket
import struct
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import UsageError
from .data import calls
from .profiles import DRIFT_PROFILES, FAULT_PROFILES, check_profile, drift_call

# Key under which the sandbox's HTTP protocol puts the connection's transport in
# the ASGI scope's "state", so faults can cut the connection the way a network does.
TRANSPORT_KEY = "sakari_contract.transport"
# Longer than the checker's default request timeout (10 s), so `slow` is a
# timeout, not just a slow answer; bounded, and cut short when the client
# hangs up.
SLOW_SECONDS = 12.0
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

_INTEGER = re.compile(r"-?[0-9]+")
_MAINTENANCE_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Down for maintenance</title></head>
<body><h1>We'll be back soon</h1><p>Scheduled maintenance is in progress.</p></body>
</html>
"""


def build_app(
    *,
    drift: str | None,
    fault: str | None,
    rate_limit: float,
    client_id: str,
    client_secret: str,
    account_id: str,
    token_ttl: int = 3600,
) -> Starlette:
    """Build the sandbox application; unknown profiles raise UsageError."""
    check_profile("drift", drift, DRIFT_PROFILES)
    check_profile("fault", fault, FAULT_PROFILES)
    if not rate_limit > 0:
        message = f"rate_limit={rate_limit!r} must be a positive number"
        raise UsageError(f"{message} of requests per second")

    tokens = _Tokens(client_id, client_secret, account_id, token_ttl)
    sandbox = _Sandbox(tokens, account_id=account_id, drift=drift, fault=fault)
    routes = [
        Route("/oauth2/token", sandbox.token, methods=["POST"]),
        Route("/v1/accounts/{accountId}/calls", sandbox.list_calls, methods=["GET"]),
        Route(
            "/v1/accounts/{accountId}/calls/{callId}", sandbox.get_call, methods=["GET"]
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_RateLimit, bucket=_TokenBucket(rate_limit))],
        exception_handlers={_Rejected: _rejected, HTTPException: _http_error},
    )


class _Rejected(Exception):
    """A request the sandbox answers with an error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"success": False, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Rejected)
    return _error(exc.status, exc.code, exc.message, exc.headers)


def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths (404) and other methods on known paths (405, with Allow).
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if "Allow" in headers:
        # Starlette keeps the methods in a set; sort them so every run says the same.
        headers["Allow"] = ", ".join(sorted(headers["Allow"].split(", ")))
    return _error(exc.status_code, f"HTTP-{exc.status_code}", exc.detail, headers)


class _Sandbox:
    """The state behind the three operations: records, tokens, profiles."""

    def __init__(
        self, tokens: _Tokens, *, account_id: str, drift: str | None, fault: str | None
    ) -> None:
        self.tokens = tokens
        self.account_id = account_id
        self.drift = drift
        self.fault = fault
        self.calls = calls()
        self.by_id = {call["id"]: call for call in self.calls}
        self.get_call_count = 0

    async def token(self, request: Request) -> Response:
        grant = await _grant(request)
        if grant["grant_type"] != "client_credentials":
            raise _Rejected(
                401, "AUTH-006", f"unsupported grant_type={grant['grant_type']!r}"
            )
        if not self.tokens.knows(grant["client_id"], grant["client_secret"]):
            raise _Rejected(401, "AUTH-005", "invalid client_id or client_secret")

        body = {"access_token": self.tokens.issue(), "token_type": "Bearer"}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def list_calls(self, request: Request) -> Response:
        self._authorize(request)
        offset = _query_int(request, "offset", 0, low=0, high=None)
        limit = _query_int(request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)

        page = self.calls[offset : offset + limit]
        pagination = {
            "totalCount": len(self.calls),
            "limit": limit,
            "offset": offset,
            "hasNext": offset + len(page) < len(self.calls),
        }
        return JSONResponse({"success": True, "pagination": pagination, "data": page})

    async def get_call(self, request: Request) -> Response:
        self._authorize(request)
        early = await self._early_fault(request)
        if early is not None:
            return early

        call_id = request.path_params["callId"]
        record = self.by_id.get(call_id)
        if record is None:
            raise _Rejected(404, "CALL-001", f"no call with id {call_id!r}")

        body = {"success": True, "data": drift_call(self.drift, record)}
        if self.fault == "truncated":
            return _Truncated(body)
        return _render(self.drift, body)

    def _authorize(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Rejected(
                401,
                "AUTH-001",
                "missing bearer token: send Authorization: Bearer <token>",
            )
        self.tokens.verify(token.strip())

        account_id = request.path_params["accountId"]
        if account_id != self.account_id:
            message = f"the token does not grant access to account {account_id!r}"
            raise _Rejected(403, "AUTH-007", message)

    async def _early_fault(self, request: Request) -> Response | None:
        """Apply a fault that answers before the record is looked up."""
        self.get_call_count += 1
        if self.fault == "slow":
            await _pause(request, SLOW_SECONDS)
        elif self.fault == "server-error":
            raise _Rejected(503, "SRV-001", "the service is temporarily unavailable")
        elif self.fault == "rate-limit" and self.get_call_count % 3 == 0:
            raise _Rejected(
                429, "RATE-001", "too many requests", headers={"Retry-After": "1"}
            )
        elif self.fault == "reset":
            return _Reset()
        return None


def _render(drift: str | None, body: dict[str, Any]) -> Response:
    if drift == "html-maintenance":
        return HTMLResponse(_MAINTENANCE_PAGE)
    if drift == "wrong-content-type":
        return JSONResponse(body, media_type="text/plain")
    return JSONResponse(body)


async def _grant(request: Request) -> dict[str, str]:
    """Read the client-credentials request body, or reject it as malformed."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None

    fields = ("grant_type", "client_id", "client_secret")
    if not isinstance(body, dict) or not all(
        isinstance(body.get(name), str) for name in fields
    ):
        message = "the body must be a JSON object with string " + ", ".join(fields)
        raise _Rejected(400, "REQ-002", message)
    return body


def _query_int(
    request: Request, name: str, default: int, *, low: int, high: int | None
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default

    value = int(raw) if _INTEGER.fullmatch(raw) else None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        message = f"query parameter {name}={raw!r} must be an integer {bounds}"
        raise _Rejected(400, "REQ-001", message)
    return value


class _Tokens:
    """HS256 JSON Web Tokens (RFC 7519) for the one client the sandbox knows."""

    def __init__(
        self, client_id: str, client_secret: str, account_id: str, ttl: int
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.account_id = account_id
        self.ttl = ttl
        # Derived from the credentials rather than drawn at random, so a token a
        # client cached stays valid when the sandbox restarts with the same ones.
        seed = f"sakari-sandbox\0{client_id}\0{client_secret}"
        self.key = hashlib.sha256(seed.encode()).digest()

    def knows(self, client_id: str, client_secret: str) -> bool:
        same_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        same_secret = hmac.compare_digest(
            client_secret.encode(), self.client_secret.encode()
        )
        return same_id and same_secret

    def issue(self) -> str:
        now = int(time.time())
        claims = {
            "sub": self.client_id,
            "account": self.account_id,
            "iat": now,
            "exp": now + self.ttl,
        }
        signing_input = (
            f"{_b64_json({'alg': 'HS256', 'typ': 'JWT'})}.{_b64_json(claims)}"
        )
        return f"{signing_input}.{_b64(self._sign(signing_input))}"

    def verify(self, token: str) -> None:
        """Raise _Rejected (401) unless `token` is ours, intact and in date."""
        try:
            header_part, claims_part, signature_part = token.split(".")
            header = json.loads(_unb64(header_part))
            claims = json.loads(_unb64(claims_part))
            signature = _unb64(signature_part)
        except ValueError:
            raise _Rejected(401, "AUTH-002", "the bearer token is not a JWT") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _Rejected(401, "AUTH-002", "the bearer token is not a JWT")

        expected = self._sign(f"{header_part}.{claims_part}")
        genuine = header.get("alg") == "HS256" and hmac.compare_digest(
            expected, signature
        )
        if not genuine or claims.get("sub") != self.client_id:
            raise _Rejected(401, "AUTH-003", "the bearer token's signature is invalid")

        expires = claims.get("exp")
        if type(expires) is not int or expires <= time.time():
            raise _Rejected(401, "AUTH-004", "the bearer token has expired")

    def _sign(self, signing_input: str) -> bytes:
        return hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64_json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _unb64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


class _TokenBucket:
    """Allow `rate` requests a second on average, in bursts of up to `rate`."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        refill = (now - self.updated) * self.rate
        self.tokens = min(self.capacity, self.tokens + refill)
        self.updated = now

        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class _RateLimit:
    """ASGI middleware answering 429 once the bucket is empty, whatever the route."""

    def __init__(self, app: ASGIApp, bucket: _TokenBucket) -> None:
        self.app = app
        self.bucket = bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.bucket.take():
            message = "too many requests: retry after the Retry-After delay"
            response = _error(429, "RATE-001", message, {"Retry-After": "1"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _pause(request: Request, seconds: float) -> None:
    """Wait `seconds`, or less if the client hangs up first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_until_disconnected(request.receive), seconds)


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _transport(scope: Scope) -> asyncio.Transport:
    transport = scope.get("state", {}).get(TRANSPORT_KEY)
    if transport is None:
        raise RuntimeError(
            "the reset and truncated faults need SandboxServer's protocol"
        )
    return transport  # type: ignore[no-any-return]


class _Reset(Response):
    """No response at all: the connection is reset, as by a failing load balancer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _transport(scope)
        # A zero linger time makes the kernel answer close() with RST, not FIN.
        linger = struct.pack("ii", 1, 0)
        transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, linger
        )
        transport.abort()
        await _until_disconnected(receive)


class _Truncated(JSONResponse):
    """Headers promise the whole body; half of it is sent, then the connection ends."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _transport(scope)
        start = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self.raw_headers,
        }
        await send(start)  # type: ignore[arg-type]

        half = bytes(self.body[: len(self.body) // 2])
        await send({"type": "http.response.body", "body": half, "more_body": True})
        transport.close()
        await _until_disconnected(receive)
