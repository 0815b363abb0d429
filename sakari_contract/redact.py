"""Mask secrets and personal values (emails, names, phone numbers) before they
reach a report, the terminal or a log.

A masked personal value keeps its sort and a short stable hash, ``<email:3f2a1c>``,
so the same address seen in many responses is still recognisably the same in a
report without being readable. A secret (a token, a client secret, an
``Authorization`` value) becomes ``<secret>``: a hash of a secret would only help
someone guess it. Masking errs on the side of hiding: any value under a name-like,
phone-like or secret-like key is masked, whatever it looks like, and an email, an
E.164 number, a bearer credential or a JSON Web Token is masked under any key and
inside free text.

Three entry points:

- :func:`mask` masks one value by its key (the drift engine uses it per finding);
- :func:`redact_result` masks a whole run before any report is written (the
  command line's ``finish`` is the one place that calls it);
- :class:`RedactingFilter` masks log records on their way to a handler.

Secrets a run holds (the client secret, the bearer token) are registered with
:func:`register_secret`, so they are masked wherever they turn up, even in text
no pattern would catch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .findings import Finding, InfraError, Kind, Source
from .paths import leaf
from .result import RunResult

NAME_KEYS = frozenset({"name", "firstname", "lastname", "fullname", "displayname"})
PHONE_KEYS = frozenset({"phone", "number", "mobile"})
# Keys as their words joined: "api_key", "x-api-key" and "apiKey" read "apikey".
SECRET_KEYS = frozenset({"authorization", "cookie", "setcookie"})
SECRET_PARTS = ("token", "secret", "password", "apikey")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# E.164: a plus sign and up to 15 digits (ITU-T E.164 section 6).
E164 = re.compile(r"\+[1-9]\d{6,14}")
ARRAY_SUFFIX = re.compile(r"(\[\d+\])+$")
CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
NOT_ALNUM = re.compile(r"[^a-z0-9]+")
SECRET = "<secret>"
# What this module writes: masking it again must change nothing.
MASKED = re.compile(r"<(?:email|name|phone):[0-9a-f]{6}>|<secret>")

# Patterns searched inside free text (messages, notes, URLs, log lines).
# The look-behind starts a match only where a run of address characters starts:
# without it a long run with no "@" costs quadratic time.
TEXT_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
TEXT_E164 = re.compile(r"(?<![\w+])\+[1-9](?:[ -]?\d){6,14}(?!\d)")
# The same, percent-encoded as in a request URL (RFC 3986 section 2.1): "@" is
# %40, "+" is %2B, a space %20. The token is taken of the decoded text, so an
# address reads the same masked whether it was encoded or not.
TEXT_EMAIL_ENCODED = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+"
    r"%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
TEXT_E164_ENCODED = re.compile(r"(?<![\w+%])%2[Bb][1-9](?:(?:[ -]|%20)?\d){6,14}(?!\d)")
TEXT_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
TEXT_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}")
TEXT_SECRET_PARAM = re.compile(
    r"(?i)\b((?:access_|refresh_|id_)?token|client_secret|secret|password|api_?key)"
    r"(=|\":\s*\"|': ')([^&\s\"']+)"
)
# Kinds whose ``observed`` is a marker (``"absent"``, a path, a status code, a
# media type), never a value from the body: masking it by key would only garble it.
MARKER_KINDS = frozenset(
    {
        Kind.MISSING_REQUIRED,
        Kind.PROBABLE_RENAME,
        Kind.UNDOCUMENTED_STATUS,
        Kind.UNDOCUMENTED_MEDIA_TYPE,
        Kind.EMPTY_BODY,
        Kind.AUTH_NOT_ENFORCED,
        # A description of a change across runs ("now always absent").
        Kind.PERMITTED_CHANGE,
    }
)
# Shorter registered secrets are masked by key only: replacing a word such as
# "secret" everywhere would garble the reports' own text.
MIN_SECRET_LENGTH = 8
# Longest text a report keeps of one value.
MAX_CHARS = 2000

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


# -- secrets a run holds --------------------------------------------------------


def register_secret(*values: str | None) -> None:
    """Mask these exact values wherever they turn up from now on."""
    with _secrets_lock:
        _secrets.update(v for v in values if v)


def registered_secrets() -> frozenset[str]:
    """The secrets registered in this process (tests scan reports for them)."""
    with _secrets_lock:
        return frozenset(_secrets)


# -- one value, judged by its key -------------------------------------------------


def mask(value: Any, key: str | None = None) -> Any:
    """``value`` with every personal part masked; objects and arrays are walked,
    each member judged by its own key."""
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(item, key) for item in value]
    if isinstance(value, str) and MASKED.fullmatch(value):
        return value
    sort = personal_sort(value, key)
    if sort is None:
        return value
    if sort == "secret":
        return SECRET
    return token(sort, str(value))


def personal_sort(value: Any, key: str | None) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    words = key_words(ARRAY_SUFFIX.sub("", key or ""))
    name = "".join(words)
    text = value if isinstance(value, str) else None
    if is_secret_key(name) or (text is not None and text in _secrets):
        return "secret"
    if (
        "email" in words
        or name.startswith("email")
        or (text is not None and EMAIL.fullmatch(text))
    ):
        return "email"
    if name in NAME_KEYS:
        return "name"
    if name in PHONE_KEYS or "phone" in name:
        return "phone"
    if text is not None and E164.fullmatch(text.replace(" ", "")):
        return "phone"
    return None


def key_words(key: str) -> list[str]:
    """``contactEmail`` -> ``["contact", "email"]``; ``e_mail`` -> ``["e", "mail"]``.
    Words, not substrings: ``voicemail`` holds "email" but is no address."""
    spaced = CAMEL_BOUNDARY.sub(" ", key)
    return [w for w in NOT_ALNUM.split(spaced.lower()) if w]


def is_secret_key(name: str) -> bool:
    return name in SECRET_KEYS or any(part in name for part in SECRET_PARTS)


def token(sort: str, text: str) -> str:
    return f"<{sort}:{hashlib.sha256(text.encode()).hexdigest()[:6]}>"


# -- free text --------------------------------------------------------------------


def mask_text(text: str) -> str:
    """``text`` with registered secrets, bearer credentials, JSON Web Tokens,
    secret query parameters, emails and E.164 numbers masked, the last two also
    when percent-encoded (``a%40b.org``, ``%2B14155550100``)."""
    for secret in sorted(registered_secrets(), key=len, reverse=True):
        # A short secret is masked where it is a whole value (mask), not in
        # free text, where it could be an ordinary word.
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, SECRET)
    text = TEXT_CREDENTIAL.sub(lambda m: f"{m[1]}{m[2]}{SECRET}", text)
    text = TEXT_JWT.sub(SECRET, text)
    text = TEXT_SECRET_PARAM.sub(lambda m: f"{m[1]}{m[2]}{SECRET}", text)
    text = TEXT_EMAIL.sub(lambda m: token("email", m[0]), text)
    text = TEXT_E164.sub(lambda m: token("phone", m[0]), text)
    if "%" not in text:
        return text
    text = TEXT_EMAIL_ENCODED.sub(lambda m: token("email", unquote(m[0])), text)
    return TEXT_E164_ENCODED.sub(lambda m: token("phone", unquote(m[0])), text)


def mask_deep(value: Any, key: str | None = None, *, by_key: bool = True) -> Any:
    """Mask by key (unless ``by_key`` is false) and by pattern, walking objects
    and arrays; object keys are text too (an email can be a key)."""
    if isinstance(value, dict):
        return {
            mask_text(str(k)): mask_deep(v, str(k), by_key=by_key)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_deep(item, key, by_key=by_key) for item in value]
    if by_key:
        masked = mask(value, key)
        if masked is not value and masked != value:
            return masked
    return mask_text(value) if isinstance(value, str) else value


# -- a whole run ------------------------------------------------------------------


def for_reports(result: RunResult, *, redact: bool = True) -> RunResult:
    """What any report, log line or terminal summary may show of a run: masked
    (unless ``redact`` is off on purpose), then clipped, in that order, so a
    cut never leaves half an email unmasked."""
    shown = redact_result(result) if redact else result
    return dataclasses.replace(
        shown, findings=[clip_finding(f) for f in shown.findings]
    )


def clip_finding(finding: Finding) -> Finding:
    return dataclasses.replace(
        finding,
        observed=clip(finding.observed),
        expected=clip(finding.expected),
        message=clip(finding.message),
    )


def clip(value: Any) -> Any:
    """A body can hold a 50 MB string: reports keep a readable head of it."""
    if isinstance(value, str):
        if len(value) <= MAX_CHARS:
            return value
        return f"{value[:MAX_CHARS]}… ({len(value):,} characters)"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > MAX_CHARS:
            return clip(text)
    return value


def redact_result(result: RunResult) -> RunResult:
    """A copy of ``result`` fit to be written anywhere: findings (path, expected,
    observed, message, detail, source, waiver), errors, notes, the target and
    what the history and the gate added, all masked. Ids are left alone."""
    return dataclasses.replace(
        result,
        target=mask_text(result.target),
        findings=[redact_finding(f) for f in result.findings],
        errors=[redact_error(e) for e in result.errors],
        notes=[mask_text(note) for note in result.notes],
        resolved=mask_deep(result.resolved),
        waivers=mask_deep(result.waivers),
    )


def redact_finding(finding: Finding) -> Finding:
    replaced: dict[str, str] = {}
    observed = finding.observed
    if finding.kind not in MARKER_KINDS:
        observed = _collect(observed, leaf(finding.path), replaced.__setitem__)
    observed = mask_deep(observed, by_key=False)

    def text(value: str | None) -> str | None:
        return None if value is None else mask_text(_replace_all(value, replaced))

    return dataclasses.replace(
        finding,
        path=mask_text(finding.path),
        message=text(finding.message) or "",
        detail=text(finding.detail),
        expected=mask_deep(finding.expected, by_key=False),
        observed=observed,
        source=redact_source(finding.source),
        waiver=text(finding.waiver),
    )


def redact_error(error: InfraError) -> InfraError:
    return dataclasses.replace(
        error, message=mask_text(error.message), source=redact_source(error.source)
    )


def redact_source(source: Source) -> Source:
    return dataclasses.replace(
        source,
        request=None if source.request is None else mask_text(source.request),
        file=None if source.file is None else mask_text(source.file),
    )


def _collect(value: Any, key: str | None, seen: Callable[[str, str], None]) -> Any:
    """Mask ``value`` by key, telling ``seen`` each original text and its mask, so
    a copy of a name in a message can be masked too (no pattern finds a name)."""
    if isinstance(value, dict):
        return {k: _collect(v, k, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [_collect(item, key, seen) for item in value]
    masked = mask(value, key)
    if masked != value and isinstance(value, str | int | float):
        seen(str(value), str(masked))
    return masked


def _replace_all(text: str, replaced: dict[str, str]) -> str:
    # Longest first, so "Zoë Martin" goes before "Zoë". Quoted copies (how a
    # validator's message shows a value) are replaced whatever their length;
    # bare ones from three characters, so a short name cannot garble a word.
    for original in sorted(replaced, key=len, reverse=True):
        masked = replaced[original]
        for quoted in (json.dumps(original, ensure_ascii=False), repr(original)):
            text = text.replace(quoted, masked)
        if len(original) >= 3:
            text = text.replace(original, masked)
    return text


# -- logs -------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """Masks every record that passes a handler: secrets and personal values
    never reach a log file or a CI console, whoever logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add one :class:`RedactingFilter` to each handler of ``logger`` (the root
    logger by default); calling it again adds none."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
