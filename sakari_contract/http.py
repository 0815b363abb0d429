"""A polite HTTP client for live runs: rate-limited, retrying within a budget.

Only the token request is a POST; everything else is GET. Transport failures come
back as ``InfraError`` values, never as exceptions, so one bad request cannot end
a run and can never be mistaken for drift.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import httpx

from .findings import ErrorKind, InfraError, Source

logger = logging.getLogger("sakari_contract")

# delay-seconds is 1*DIGIT, ASCII only: str.isdigit() would take other scripts.
DELAY_SECONDS = re.compile(r"[0-9]{1,10}")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# The first retry waits 0.125 to 0.25 s, each next one twice as long, at most 8 s.
BACKOFF_BASE = 0.25
MAX_BACKOFF = 8.0
USER_AGENT = "sakari-contract/0.1 (read-only contract check)"
# RFC 6750 section 2.1, b64token: visible ASCII only, so a token can never break
# a header line or fail to encode.
BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MIB = 1024 * 1024
# A call record is kilobytes; a body past this is not one, and a compressed one
# could otherwise expand to gigabytes.
MAX_BODY = 16 * MIB


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False
    error: InfraError | None = None
    # Seconds a Retry-After asked for that the retry budget could not give: the
    # target wants no more requests for that long.
    asked_wait: float | None = None


def is_bearer_token(value: str) -> bool:
    """Whether ``value`` may follow ``Bearer`` in an Authorization header."""
    return BEARER_TOKEN.fullmatch(value) is not None


@dataclass(slots=True)
class RetryBudget:
    """How much patience a run has; the report states what was used."""

    max_retries: int = 10
    max_wait: float = 30.0
    retries: int = 0
    waited: float = 0.0

    def left(self) -> str:
        retries = self.max_retries - self.retries
        return f"{retries} retries, {max(0.0, self.max_wait - self.waited):g} s"

    def allows(self, delay: float) -> bool:
        return self.retries < self.max_retries and self.waited + delay <= self.max_wait

    def spend(self, delay: float) -> None:
        self.retries += 1
        self.waited += delay

    def report(self) -> dict[str, float]:
        return {
            "retries_used": self.retries,
            "retry_budget": self.max_retries,
            "seconds_waited": round(self.waited, 3),
            "wait_budget_seconds": self.max_wait,
        }


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 section 10.2.3):
    a whole number of seconds or an HTTP-date. Anything else (``1.5``, junk)
    gives None, and the caller falls back to its default."""
    if value is None:
        return None
    value = value.strip()
    if DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        # The asctime form carries no zone; every HTTP-date is in GMT
        # (RFC 9110 section 5.6.7).
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with equal jitter: half of the step is fixed, so a
    retry never comes at once, and half is random, so clients that failed
    together do not retry together."""
    step = min(MAX_BACKOFF, BACKOFF_BASE * 2**attempt)
    return step / 2 + (rng or random).uniform(0, step / 2)


@dataclass
class PoliteClient:
    """``timeout`` bounds every network operation and the response as a whole:
    the body is read in chunks with the clock checked between them, so a body
    that trickles in ends at most one read after the deadline."""

    base_url: str
    rate_limit: float = 5.0
    timeout: float = 10.0
    budget: RetryBudget = field(default_factory=RetryBudget)
    attempts: int = 3
    # Decoded bytes; a body past this is an error, not read further.
    max_body: int = MAX_BODY
    # Seeded in tests, so the jitter of a retry is known.
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        for name in ("rate_limit", "timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be a finite number above 0")
        self.client = httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        self.lock = threading.Lock()
        self.next_slot = 0.0
        self.requests = 0

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, headers: dict[str, str], source: Source) -> Reply:
        return self.send("GET", url, headers, source)

    def post_json(self, url: str, payload: Any, source: Source) -> Reply:
        return self.send("POST", url, {}, source, json=payload)

    def send(
        self, method: str, url: str, headers: dict[str, str], source: Source, **kw: Any
    ) -> Reply:
        attempt = 0
        while True:
            self.pace()
            reply = self.once(method, url, headers, source, **kw)
            delay = self.retry_delay(reply, attempt)
            if delay is None:
                return settle(reply, attempt, source)
            if attempt + 1 >= self.attempts or not self.budget.allows(delay):
                # Only a wait the target asked for says to stop asking it.
                hinted = retry_after(reply.headers.get("retry-after"))
                if hinted and not self.budget.allows(hinted):
                    reply.asked_wait = hinted
                return settle(reply, attempt, source)
            logger.info("retrying %s in %.2fs (status %s)", url, delay, reply.status)
            self.budget.spend(delay)
            time.sleep(delay)
            attempt += 1

    def retry_delay(self, reply: Reply, attempt: int) -> float | None:
        """Seconds to wait before sending again, or None not to retry.

        A server's ``Retry-After`` wins; without a valid one the default is the
        jittered backoff. Timeouts and cut bodies are not retried: a hanging
        target would otherwise cost the whole wait budget per request.
        """
        if reply.status in RETRY_STATUSES:
            hinted = retry_after(reply.headers.get("retry-after"))
            return hinted if hinted is not None else backoff(attempt, self.rng)
        if reply.error is not None and reply.error.kind is ErrorKind.CONNECTION_ERROR:
            return backoff(attempt, self.rng)
        return None

    def pace(self) -> None:
        """Space requests at most ``rate_limit`` per second."""
        with self.lock:
            now = time.monotonic()
            wait = self.next_slot - now
            self.next_slot = max(now, self.next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            time.sleep(wait)

    def once(
        self, method: str, url: str, headers: dict[str, str], source: Source, **kw: Any
    ) -> Reply:
        self.requests += 1
        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream(method, url, headers=headers, **kw) as response:
                body = self.read_body(response, deadline, source)
                if isinstance(body, Reply):
                    return body
                headers_out = {k.lower(): v for k, v in response.headers.items()}
                return Reply(response.status_code, headers_out, body)
        except httpx.TimeoutException:
            return failure(
                ErrorKind.TIMEOUT, f"no answer within {self.timeout}s", source
            )
        except httpx.RemoteProtocolError as exc:
            kind = ErrorKind.CONNECTION_ERROR
            if "complete message body" in str(exc) or "incomplete" in str(exc):
                kind = ErrorKind.TRUNCATED_BODY
            return failure(kind, str(exc) or type(exc).__name__, source)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            return failure(ErrorKind.CONNECTION_ERROR, reason, source)
        except httpx.DecodingError as exc:
            # A body that claims an encoding it does not have was cut or mangled
            # on its way; nothing of it can be checked.
            message = f"body could not be decoded: {exc}"
            return failure(ErrorKind.TRUNCATED_BODY, message, source)

    def read_body(
        self, response: httpx.Response, deadline: float, source: Source
    ) -> bytes | Reply:
        """The decoded body, or a failure once it passes ``max_body`` or the
        deadline. Counting decoded bytes bounds a compression bomb too."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_body:
                message = (
                    f"the body exceeded {self.max_body / MIB:g} MiB "
                    "and was not read further"
                )
                return failure(ErrorKind.TRUNCATED_BODY, message, source)
            if time.monotonic() > deadline:
                message = f"the response did not complete within {self.timeout}s"
                return failure(ErrorKind.TIMEOUT, message, source)
            chunks.append(chunk)
        return b"".join(chunks)


def settle(reply: Reply, retries: int, source: Source) -> Reply:
    """A 429 or 5xx the client gave up on, worded with what was tried."""
    if reply.error is not None or reply.status not in RETRY_STATUSES:
        return reply
    if reply.status == 429:
        kind, what = ErrorKind.RATE_LIMITED, "rate limited"
    else:
        kind, what = ErrorKind.SERVER_ERROR, HTTPStatus(reply.status).phrase.lower()
    message = f"{reply.status} {what}; retries used: {retries}"
    if reply.asked_wait is not None:
        message += (
            f"; asked to wait {math.ceil(reply.asked_wait)} s (Retry-After), "
            "beyond the retry budget"
        )
    reply.error = InfraError(kind, message, source)
    return reply


def failure(kind: ErrorKind, message: str, source: Source) -> Reply:
    return Reply(0, {}, b"", error=InfraError(kind, message, source))
