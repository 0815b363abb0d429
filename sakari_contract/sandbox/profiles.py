"""Drift and fault profiles: named, realistic ways the sandbox can misbehave.

A *drift* profile changes what a successful Get call response says (its body, or
its media type); list calls and the token endpoint stay clean so discovery of call
ids keeps working. A *fault* profile breaks the exchange itself (delay, 5xx, 429,
dropped or cut connection) and also touches Get call only.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import UsageError

DRIFT_PROFILES: dict[str, str] = {
    "status-new-value": 'data.status is "queued", not a documented value',
    "direction-new-value": 'data.direction is "internal", not a documented value',
    "timestamp-epoch": "data.created.at is epoch milliseconds as an integer",
    "timestamp-no-offset": "data.created.at has no offset (2024-05-01T12:00:00.123)",
    "timestamp-space-separator": "data.created.at has a space instead of T",
    "duration-as-string": 'data.duration is a string ("42")',
    "field-removed": "data.voicemail is absent",
    "field-renamed": "data.phoneNumber is renamed data.phone_number",
    "contact-renamed": "data.contact is renamed data.customer",
    "field-added": "data.transcription, an undocumented object, is added",
    "null-contact": "data.contact is null",
    "html-maintenance": "status 200 with a text/html maintenance page",
    "wrong-content-type": "the usual JSON body labelled text/plain",
}

FAULT_PROFILES: dict[str, str] = {
    "slow": "Get call waits 12 s, past the default request timeout",
    "server-error": "Get call answers 503 every time",
    "rate-limit": "every third Get call answers 429 with Retry-After: 1",
    "reset": "Get call drops the connection (TCP reset) without a response",
    "truncated": "Get call declares a Content-Length longer than the body it sends",
}

# Drift profiles that replace the media type rather than edit the record.
MEDIA_TYPE_DRIFTS = frozenset({"html-maintenance", "wrong-content-type"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_profile(kind: str, name: str | None, profiles: Mapping[str, str]) -> None:
    """Raise UsageError unless `name` is None or one of `profiles`."""
    if name is None or name in profiles:
        return
    valid = ", ".join(profiles)
    raise UsageError(f"unknown {kind} profile {kind}={name!r}; choose one of: {valid}")


def drift_call(profile: str | None, record: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `record` with the body drift of `profile` applied."""
    call = copy.deepcopy(record)
    if profile is None or profile in MEDIA_TYPE_DRIFTS:
        return call

    if profile == "status-new-value":
        call["status"] = "queued"
    elif profile == "direction-new-value":
        call["direction"] = "internal"
    elif profile.startswith("timestamp-"):
        call["created"]["at"] = _respell(profile, call["created"]["at"])
    elif profile == "duration-as-string":
        call["duration"] = str(call["duration"])
    elif profile == "field-removed":
        del call["voicemail"]
    elif profile == "field-renamed":
        call = {
            ("phone_number" if key == "phoneNumber" else key): value
            for key, value in call.items()
        }
    elif profile == "contact-renamed":
        call = {
            ("customer" if key == "contact" else key): value
            for key, value in call.items()
        }
    elif profile == "field-added":
        call["transcription"] = {"status": "pending"}
    elif profile == "null-contact":
        call["contact"] = None
    return call


def _respell(profile: str, stamp: str) -> str | int:
    """Spell an RFC 3339 timestamp the way `profile` says a drifted provider would."""
    moment = datetime.fromisoformat(stamp).astimezone(UTC)
    if profile == "timestamp-epoch":
        return (moment - _EPOCH) // timedelta(milliseconds=1)
    if profile == "timestamp-no-offset":
        return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")
    return moment.isoformat(sep=" ", timespec="seconds")
