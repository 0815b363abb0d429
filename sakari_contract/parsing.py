"""Parse a response body exactly, keeping what a lenient parser hides.

orjson is the fast path. Duplicate keys (silently last-wins in most parsers),
non-finite literals such as ``NaN`` (not JSON, RFC 8259 section 6), numbers too
large for a double (``1e400``), and a UTF-8 byte order mark become findings; the
rest of the body is still parsed and checked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from .findings import Finding, Kind, Severity
from .paths import child, jsonpath

BOM = b"\xef\xbb\xbf"
# A key followed by white space before its colon: the fast duplicate count below
# would miss it, so such bodies take the exact path.
SPACED_COLON = re.compile(rb'"\s+:')
# What parse_clean returns for a body it cannot vouch for (no JSON value is this).
UNCLEAN: Any = object()


class NonFinite(float):
    """A ``NaN``/``Infinity`` literal, kept apart so it can be reported."""

    literal: str

    def __new__(cls, literal: str) -> NonFinite:
        made = super().__new__(cls, literal.replace("Infinity", "inf"))
        made.literal = literal
        return made


class OutOfRange(NonFinite):
    """A number such as ``1e400`` that only a double's infinity could hold.

    RFC 8259 section 6 lets a parser limit the range of numbers; a value past
    it would silently become infinity (or null in a validator), so it is
    reported where it stands.
    """


def parse_number(text: str) -> float:
    value = float(text)
    return OutOfRange(text) if math.isinf(value) else value


class KeyedObject(dict[str, Any]):
    """A JSON object that remembers the keys it saw more than once."""

    duplicates: list[str]


def pairs_hook(pairs: list[tuple[str, Any]]) -> KeyedObject:
    obj = KeyedObject()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


@dataclass(slots=True)
class Parsed:
    value: Any = None
    ok: bool = True
    findings: list[Finding] = field(default_factory=list)
    # Paths already reported here; the validator adds nothing at them.
    claimed: set[str] = field(default_factory=set)


def parse_body(raw: bytes) -> Parsed:
    parsed = Parsed()
    if raw.startswith(BOM):
        parsed.findings.append(bom_finding())
        raw = raw[len(BOM) :]
    value = parse_clean(raw)
    if value is UNCLEAN:
        return parse_exact(raw, parsed)
    parsed.value = value
    return parsed


def parse_clean(raw: bytes) -> Any:
    """The value of ``raw`` when orjson reads it and no object in it repeats a
    key; otherwise :data:`UNCLEAN`, and :func:`parse_body` says what is wrong.

    This is the whole parse of a clean body, with nothing allocated beyond the
    value, so a caller can settle a valid record before building any findings.
    A byte order mark makes the body unclean: orjson refuses one.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return UNCLEAN
    return value if has_no_duplicates(raw, value) else UNCLEAN


def has_no_duplicates(raw: bytes, value: Any) -> bool:
    """Cheap proof that no object repeats a key.

    A dict holds each key once, so when re-serialising the parsed value gives the
    text back byte for byte (compact writers: orjson, ``JSON.stringify``), the
    text had no repeated key; this costs one ``dumps`` and one comparison. Other
    layouts fall back to counting key tokens: every key ends with ``":`` and the
    dump writes one per *distinct* key, so equal counts mean no key was dropped.
    A quote or colon written as a ``\\u`` escape could make up for a dropped key,
    so such bodies take the exact path.
    """
    try:
        dumped = orjson.dumps(value)
    except TypeError:
        return False
    if raw.startswith(dumped) and not raw[len(dumped) :].strip():
        return True
    if SPACED_COLON.search(raw) or b"\\u0022" in raw or b"\\u003" in raw:
        return False
    return raw.count(b'":') == dumped.count(b'":')


def parse_exact(raw: bytes, parsed: Parsed) -> Parsed:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return failed(parsed, f"not UTF-8 at byte {exc.start}", "bad encoding")
    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs_hook,
            parse_constant=NonFinite,
            parse_float=parse_number,
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        # Some of json's messages already end in "at".
        message = exc.msg.removesuffix(" at")
        return failed(parsed, f"{message} at {where}", "not JSON")
    except RecursionError:
        return failed(parsed, "nesting too deep to parse", "nesting too deep")
    except ValueError:
        # Python refuses to convert integers of more than 4300 digits
        # (sys.get_int_max_str_digits), a guard against quadratic parsing.
        return failed(parsed, "an integer too long to read", "integer too long")
    if isinstance(value, OutOfRange):
        return failed(parsed, f"{value.literal} is out of range", "number out of range")
    if isinstance(value, NonFinite):
        return failed(
            parsed, f"{value.literal} is not JSON", f"{value.literal} literal"
        )
    parsed.value = value
    try:
        for path, problem in walk_problems(value, "$"):
            parsed.findings.append(problem)
            parsed.claimed.add(path)
    except RecursionError:
        # json.loads stopped just short of its own limit; the walk, a few frames
        # deeper on the stack, did not.
        fresh = Parsed(findings=[f for f in parsed.findings if f.path == "$"])
        return failed(fresh, "nesting too deep to parse", "nesting too deep")
    return parsed


def failed(parsed: Parsed, message: str, detail: str) -> Parsed:
    parsed.ok = False
    parsed.findings.append(
        Finding(
            kind=Kind.INVALID_JSON,
            severity=Severity.BREAKING,
            path="$",
            message=f"body is not valid JSON: {message}",
            detail=detail,
        )
    )
    return parsed


def walk_problems(node: Any, path: str) -> Iterator[tuple[str, Finding]]:
    """Report duplicates and non-finite literals; the latter become null so the
    validator can run (their paths are claimed, so the null is not reported)."""
    if isinstance(node, KeyedObject):
        for key in dict.fromkeys(node.duplicates):
            at = child(path, key)
            yield at, duplicate_finding(at, key, node.duplicates.count(key) + 1)
    if isinstance(node, dict):
        for key in [k for k in node if not is_unicode(k)]:
            fixed = key.encode("utf-8", "replace").decode("utf-8")
            node[fixed] = node.pop(key)
            yield child(path, fixed), surrogate_finding(child(path, fixed), key)
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return
    for key, value in items:
        at = child(path, key)
        if isinstance(value, NonFinite):
            node[key] = None
            yield at, non_finite_finding(at, value)
        elif isinstance(value, str) and not is_unicode(value):
            # A lone surrogate escape ("\ud800") parses but is no Unicode text;
            # the replacement keeps the type so the rest is still checked.
            node[key] = value.encode("utf-8", "replace").decode("utf-8")
            yield at, surrogate_finding(at, value)
        elif isinstance(value, dict | list):
            yield from walk_problems(value, at)


def is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def surrogate_finding(path: str, value: str) -> Finding:
    return Finding(
        kind=Kind.INVALID_JSON,
        severity=Severity.BREAKING,
        path=path,
        message=f"string {value!a} holds a lone surrogate, which is not Unicode "
        "text (RFC 8259 section 8.2)",
        expected="Unicode text",
        # Only the surrogates become escapes; other text stays as it was.
        observed=value.encode("utf-8", "backslashreplace").decode("utf-8"),
        detail="lone surrogate",
    )


def duplicate_finding(path: str, key: str, times: int) -> Finding:
    return Finding(
        kind=Kind.DUPLICATE_KEY,
        severity=Severity.BREAKING,
        path=path,
        message=f"key {key!r} appears {times} times in one object; parsers "
        "disagree on which value wins",
        expected="each key once",
        observed=times,
    )


def non_finite_finding(path: str, number: NonFinite) -> Finding:
    literal = number.literal
    if isinstance(number, OutOfRange):
        message = f"{literal} is out of the range of a double (RFC 8259 section 6)"
        detail = "number out of range"
    else:
        message = f"{literal} is not a JSON number (RFC 8259 section 6)"
        detail = f"{literal} literal"
    return Finding(
        kind=Kind.INVALID_JSON,
        severity=Severity.BREAKING,
        path=path,
        message=message,
        expected="a finite number",
        observed=literal,
        detail=detail,
    )


def bom_finding() -> Finding:
    return Finding(
        kind=Kind.INVALID_JSON,
        severity=Severity.WARNING,
        path="$",
        message="body starts with a UTF-8 byte order mark (RFC 8259 section 8.1 "
        "forbids sending one); checked without it",
        detail="UTF-8 byte order mark",
    )


__all__ = ["UNCLEAN", "Parsed", "jsonpath", "parse_body", "parse_clean"]
