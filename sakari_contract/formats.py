"""Say *how* a value fails its format, so a finding reads "no UTC offset" rather
than "invalid". The verdict itself always comes from the validator."""

from __future__ import annotations

import re

DATE = r"\d{4}-\d{2}-\d{2}"
TIME = r"\d{2}:\d{2}:\d{2}(?:\.\d+)?"
OFFSET = r"(?:[Zz]|[+-]\d{2}:\d{2})"

# Ordered: the first pattern that matches names the problem.
DATE_TIME_DETAILS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{DATE}"), "date only"),
    (re.compile(r"-?\d{9,}(?:\.\d+)?"), "epoch number as a string"),
    (re.compile(rf"{DATE} {TIME}{OFFSET}?"), "space instead of T"),
    (re.compile(rf"{DATE}[Tt]{TIME}"), "no UTC offset"),
    (re.compile(rf"{DATE}[Tt]{TIME}[+-]\d{{4}}"), "offset without a colon"),
    (re.compile(rf"{DATE}[Tt]\d{{2}}:\d{{2}}{OFFSET}?"), "no seconds"),
    (re.compile(rf"{DATE}[Tt]{TIME}{OFFSET}"), "impossible date or time"),
    (
        re.compile(r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}.*"),
        "RFC 2822 date",
    ),
)


def date_time_detail(value: str) -> str:
    stripped = value.strip()
    if stripped != value:
        return "surrounding white space"
    for pattern, detail in DATE_TIME_DETAILS:
        if pattern.fullmatch(value):
            return detail
    return "not a date-time"


def format_detail(fmt: str, value: object) -> str:
    if fmt == "date-time" and isinstance(value, str):
        return date_time_detail(value)
    if fmt == "email":
        return "not an email address"
    return f"not a {fmt}"
