"""Live conformance against a target: the main job behind ``check``.

Steps: get a token (client-credentials flow), discover call ids through list
calls, fetch and check every record, probe ids that schemathesis generates (they
must get the documented 404 envelope), and check once that the call endpoint
refuses requests without a valid token. Read-only: GET only, apart from the token
request the API requires.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .drift import Engine, Exchange, Outcome, group
from .errors import UsageError
from .findings import ErrorKind, Finding, InfraError, Kind, Severity, Source
from .http import PoliteClient, Reply, RetryBudget, is_bearer_token
from .redact import register_secret
from .result import RunResult, utcnow
from .schema import CALL_PATH, LIST_PATH, TOKEN_PATH, Contract

logger = logging.getLogger("sakari_contract")

PAGE_SIZE = 100
Progress = Callable[[str], None]
BEARER_RULE = "RFC 6750 allows ASCII letters, digits, '-._~+/' and trailing '='"


@dataclass(frozen=True)
class Target:
    base_url: str
    account_id: str
    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None


@dataclass
class CheckOptions:
    call_ids: list[str] = field(default_factory=list)
    max_calls: int = 500
    probes: int = 5
    # Where unknown-id probes draw their callId from; None lets schemathesis
    # generate it from the contract alone. The contract suite passes
    # strategies.call_ids(), so live probes share the strategies' knowledge.
    probe_ids: st.SearchStrategy[str] | None = None
    strict: bool = False
    rate_limit: float = 5.0
    timeout: float = 10.0
    max_retries: int = 10
    max_wait: float = 30.0
    # Consecutive infra errors after which a run stops asking a dead target.
    give_up_after: int = 3


class GiveUp(Exception):
    """The target keeps failing; stop and report what was checked."""


@dataclass
class LiveRun:
    target: Target
    contract: Contract
    options: CheckOptions
    progress: Progress = lambda message: None  # noqa: E731 - a no-op default
    # Called with every parsed Get call body answered 200 (the history's
    # permitted-drift profile), so no body is parsed twice.
    observe: Callable[[Any], None] | None = None
    result: RunResult = field(init=False)

    def __post_init__(self) -> None:
        if self.target.token and not is_bearer_token(self.target.token):
            raise UsageError(f"the token is not a bearer token: {BEARER_RULE}")
        self.engine = Engine(self.contract, strict=self.options.strict)
        register_secret(self.target.client_secret, self.target.token)
        self.result = RunResult(command="check", target=self.target.base_url)
        self.budget = RetryBudget(self.options.max_retries, self.options.max_wait)
        self.client = PoliteClient(
            self.target.base_url,
            rate_limit=self.options.rate_limit,
            timeout=self.options.timeout,
            budget=self.budget,
        )
        self.failures_in_a_row = 0
        self.token: str | None = None

    def run(self) -> RunResult:
        try:
            self.steps()
        except GiveUp as stop:
            self.result.incomplete = True
            self.result.notes.append(str(stop))
        except KeyboardInterrupt:
            self.result.incomplete = True
            self.result.notes.append("interrupted: reports cover what was checked")
        finally:
            self.client.close()
            self.finish()
        return self.result

    def steps(self) -> None:
        self.token = self.authenticate()
        if self.token is None:
            return
        ids = self.options.call_ids or self.discover()
        if not ids:
            # Conform on zero records would be a green light for nothing.
            self.result.incomplete = True
            self.result.notes.append("no call records to check: list calls gave none")
        self.progress(f"checking {len(ids)} call records")
        for done, call_id in enumerate(ids, 1):
            self.check_call(call_id)
            if done % 25 == 0 or done == len(ids):
                self.progress(f"  {done}/{len(ids)} call records checked")
        self.probe_unknown_ids()
        self.check_auth_enforced(ids[0] if ids else "unknown-call")

    def finish(self) -> None:
        self.result.findings = group(self.result.findings)
        self.result.retries = self.budget.report()
        self.result.counts["requests"] = self.client.requests
        self.result.finished = utcnow()

    # -- token ----------------------------------------------------------------

    def authenticate(self) -> str | None:
        if self.target.token:
            return self.target.token
        source = Source(operation="getToken", request=f"POST {TOKEN_PATH}")
        payload = {
            "grant_type": "client_credentials",
            "client_id": self.target.client_id,
            "client_secret": self.target.client_secret,
        }
        self.progress(f"requesting a token from {self.target.base_url}{TOKEN_PATH}")
        reply = self.client.post_json(TOKEN_PATH, payload, source)
        if reply.error is not None or reply.status != 200:
            self.record_auth_failure(reply, source)
            self.stop_if_asked_to_wait(reply)
            return None
        value, findings = self.engine.check_body(reply.body, ref_of("TokenResponse"))
        self.add_findings(findings, source)
        token = value.get("access_token") if isinstance(value, dict) else None
        if not isinstance(token, str) or not token:
            self.auth_failed("token response had no token", source)
            return None
        register_secret(token)
        if not is_bearer_token(token):
            # It could not be sent, and asking again would get the same token.
            self.auth_failed(f"the token is not a bearer token: {BEARER_RULE}", source)
            return None
        return token

    def auth_failed(self, message: str, source: Source) -> None:
        self.result.errors.append(InfraError(ErrorKind.AUTH_FAILED, message, source))

    def record_auth_failure(self, reply: Reply, source: Source) -> None:
        if reply.error is not None:
            self.result.errors.append(reply.error)
            return
        self.auth_failed(
            f"token request answered {reply.status}; check the credentials", source
        )

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    # -- discovery --------------------------------------------------------------

    def discover(self) -> list[str]:
        ids: dict[str, None] = {}
        for page in self.pages():
            before = len(ids)
            ids.update((call["id"], None) for call in page if has_id(call))
            if len(ids) >= self.options.max_calls:
                self.result.notes.append(f"checked the first {self.options.max_calls}")
                return list(ids)[: self.options.max_calls]
            if page and len(ids) == before:
                # A server that ignores offset repeats its page forever.
                self.result.notes.append("list calls repeated a page: stopped paging")
                break
        return list(ids)

    def pages(self) -> Iterator[list[dict]]:
        offset = 0
        while True:
            url = self.call_list_url(offset)
            source = Source(operation="listCalls", request=f"GET {url}")
            _, outcome = self.exchange(url, self.auth(), source, LIST_PATH)
            body = outcome.body if isinstance(outcome.body, dict) else {}
            data = body.get("data")
            if not isinstance(data, list):
                return
            self.result.counts["list_pages"] += 1
            yield data
            pagination = body.get("pagination") or {}
            if not data or pagination.get("hasNext") is not True:
                return
            offset += len(data)

    def call_list_url(self, offset: int) -> str:
        account = quote(self.target.account_id, safe="")
        return f"/v1/accounts/{account}/calls?offset={offset}&limit={PAGE_SIZE}"

    # -- the call endpoint ------------------------------------------------------

    def call_url(self, call_id: str) -> str:
        account = quote(self.target.account_id, safe="")
        return f"/v1/accounts/{account}/calls/{quote(call_id, safe='')}"

    def check_call(self, call_id: str) -> None:
        url = self.call_url(call_id)
        source = Source(operation="getCall", request=f"GET {url}")
        status, _ = self.exchange(url, self.auth(), source, CALL_PATH)
        if status == 200:
            self.result.counts["call_records"] += 1
        elif status is not None:
            # A mistyped --call-id, or a record deleted since it was listed:
            # its envelope was checked, but the record itself was not.
            self.result.incomplete = True
            self.result.notes.append(
                f"call id {call_id!r} answered {status}: its record was not checked"
            )

    def probe_unknown_ids(self) -> None:
        """Ids generated by schemathesis from the contract: an unknown id must get
        the documented 404 envelope, never a 5xx."""
        for url in self.probe_urls():
            source = Source(operation="getCall", request=f"GET {url} (unknown id)")
            status, _ = self.exchange(url, self.auth(), source, CALL_PATH)
            self.result.counts["unknown_id_probes"] += 1
            if status not in (None, 404, 200):
                self.add_findings([unknown_id_finding(status)], source)

    def probe_urls(self) -> list[str]:
        if self.options.probes <= 0:
            return []
        operation = schemathesis.openapi.from_dict(self.contract.document)[CALL_PATH]
        strategy = operation["GET"].as_strategy(
            path_parameters={"accountId": self.target.account_id}
        )
        if self.options.probe_ids is not None:
            strategy = st.tuples(strategy, self.options.probe_ids).map(with_call_id)
        return [
            case.as_transport_kwargs(base_url="")["url"]
            for case in draw_cases(strategy, self.options.probes)
        ]

    def check_auth_enforced(self, call_id: str) -> None:
        """Once, on purpose: no token and a forged token must both be refused."""
        url = self.call_url(call_id)
        attempts = {
            "no token": {},
            "a forged token": {"Authorization": "Bearer forged.invalid.token"},
        }
        for label, headers in attempts.items():
            source = Source(operation="getCall", request=f"GET {url} with {label}")
            status, _ = self.exchange(url, headers, source, CALL_PATH, refused=True)
            self.result.counts["auth_checks"] += 1
            if status is not None and status < 400:
                self.add_findings([auth_finding(label, status)], source)

    # -- one exchange -----------------------------------------------------------

    def exchange(
        self,
        url: str,
        headers: dict[str, str],
        source: Source,
        operation: str,
        *,
        refused: bool = False,
    ) -> tuple[int | None, Outcome]:
        """Send one GET and check the answer; the status is None when no answer
        could be checked (an infra error)."""
        reply = self.client.get(url, headers, source)
        if reply.error is None and reply.status == 401 and not refused:
            reply.error = InfraError(
                ErrorKind.AUTH_FAILED, "the token was refused (401)", source
            )
        if reply.error is not None:
            if reply.asked_wait is not None:
                self.result.errors.append(reply.error)
                self.stop_if_asked_to_wait(reply)
            return None, self.infra([reply.error])
        exchange = Exchange(reply.status, reply.headers, reply.body, operation)
        outcome = self.engine.check_exchange(exchange, source)
        if outcome.errors:
            return None, self.infra(outcome.errors)
        self.failures_in_a_row = 0
        self.result.counts["responses"] += 1
        self.result.findings.extend(outcome.findings)
        if self.observe and operation == CALL_PATH and reply.status == 200:
            self.observe(outcome.body)
        return reply.status, outcome

    def infra(self, errors: list[InfraError]) -> Outcome:
        self.result.errors.extend(errors)
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= self.options.give_up_after:
            raise GiveUp(
                f"stopped after {self.failures_in_a_row} infra errors in a row: "
                f"{errors[-1]}"
            )
        return Outcome(errors=errors)

    def stop_if_asked_to_wait(self, reply: Reply) -> None:
        """A target that asks for a longer wait than the budget has left gets
        no more requests: going on would ignore what it asked."""
        if reply.asked_wait is None:
            return
        raise GiveUp(
            f"stopped: the target asked to wait {math.ceil(reply.asked_wait)} s "
            f"(Retry-After), beyond what the retry budget had left "
            f"({self.budget.left()})"
        )

    def add_findings(self, findings: list[Finding], source: Source) -> None:
        for finding in findings:
            finding.source = source
            self.result.findings.append(finding)


def ref_of(name: str) -> str:
    return f"#/components/schemas/{name}"


def has_id(call: object) -> bool:
    return isinstance(call, dict) and isinstance(call.get("id"), str)


def draw_cases(strategy: st.SearchStrategy, count: int) -> list:
    """Draw ``count`` cases from a schemathesis strategy outside a test."""
    drawn: list = []

    @given(strategy)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: object) -> None:
        drawn.append(case)

    collect()
    return drawn[:count]


def with_call_id(drawn: tuple[Any, str]) -> Any:
    case, call_id = drawn
    # Path parameters set by hand are sent as given: quote them like ours.
    case.path_parameters["callId"] = quote(call_id, safe="")
    return case


def unknown_id_finding(status: int) -> Finding:
    return Finding(
        kind=Kind.UNDOCUMENTED_STATUS,
        severity=Severity.BREAKING,
        path="$",
        message=f"an unknown call id answered {status}, not the documented 404",
        expected=404,
        observed=status,
    )


def auth_finding(label: str, status: int) -> Finding:
    return Finding(
        kind=Kind.AUTH_NOT_ENFORCED,
        severity=Severity.BREAKING,
        path="$",
        message=f"a request with {label} was answered {status}, not refused",
        expected="401 or 403",
        observed=status,
    )
