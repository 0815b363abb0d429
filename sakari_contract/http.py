"""A polite HTTP client for live runs: rate-limited, retrying within a budget.

Only the token request is a POST; everything else is GET. Transport failures come
back as ``InfraError`` values, never as exceptions, so one bad request cannot end
a run and can never be mistaken for drift.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False
    error: InfraError | None = None


@dataclass(slots=True)
class RetryBudget:
    """How much patience a run has; the report states what was used."""

    max_retries: int = 10
    max_wait: float = 30.0
    retries: int = 0
    waited: float = 0.0

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
    base_url: str
    rate_limit: float = 5.0
    timeout: float = 10.0
    budget: RetryBudget = field(default_factory=RetryBudget)
    attempts: int = 3
    # Seeded in tests, so the jitter of a retry is known.
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
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
            attempt += 1
            if (
                delay is None
                or attempt >= self.attempts
                or not self.budget.allows(delay)
            ):
                return reply
            logger.info("retrying %s in %.2fs (status %s)", url, delay, reply.status)
            self.budget.spend(delay)
            time.sleep(delay)

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
        try:
            response = self.client.request(method, url, headers=headers, **kw)
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
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        return Reply(response.status_code, headers_out, response.content)


def failure(kind: ErrorKind, message: str, source: Source) -> Reply:
    return Reply(0, {}, b"", error=InfraError(kind, message, source))
