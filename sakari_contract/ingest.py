"""Read recorded traffic for ``validate``, one record at a time.

The format comes from the file name:

- ``.json``: one response body; the file's bytes are the body as served.
- ``.jsonl``, ``.ndjson``: one JSON value per line, either a body or an exchange
  record ``{"status": 200, "headers": {...}, "body": ...}`` with an optional
  ``"url"`` (or ``"path"``) and ``"method"``. A string ``body`` is the raw text
  as served; any other JSON value is the body itself (null: no body).
- ``.har``: HAR 1.2; only GET entries on the call endpoints are checked.
- ``.yaml``, ``.yml``: VCR cassettes as schemathesis writes them (``--report vcr``).
  YAML aliases are refused: an interaction that uses one is unreadable,
  so no alias can expand into gigabytes.

Memory stays flat: JSON Lines are read a line at a time, HAR files by a small
incremental scanner that holds one entry, cassettes one interaction at a time.
A ``.json`` body is read whole; it is a single record. A ``.json`` file or a
JSON Lines line longer than MAX_RECORD bytes is an unreadable record, read no
further than the limit.

A record that cannot be read becomes a :class:`Record` with a ``problem`` naming
why; the reader then goes on with the next record when the container allows it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import orjson
import yaml

from .drift import Exchange
from .findings import Source
from .parsing import BOM, UNCLEAN, Parsed, parse_body
from .schema import CALL_PATH, LIST_PATH

CALL_URL = re.compile(r"(?:.*/)?v1/accounts/[^/]+/calls/[^/]+/?")
LIST_URL = re.compile(r"(?:.*/)?v1/accounts/[^/]+/calls/?")
# Bytes read at a time from a HAR file: memory is about two of these plus the
# entry being read.
CHUNK = 1 << 18
# Read buffer for JSON Lines. The default, one file-system block, costs a read
# call every line or two when lines are a few kilobytes; this is still small.
LINE_BUFFER = 1 << 18
STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(")?', re.DOTALL)
SCALAR = re.compile(rb'[^ \t\r\n,:\[\]{}"]++')
WHITE = re.compile(rb"[ \t\r\n]*+")
STRUCTURE = re.compile(rb'["\[\]{}]')
CASSETTE_KEYS = (b"http_interactions:", b"interactions:")
# Longest record read from a .json file or a JSON Lines line. A call response is
# a few kilobytes; this is room for a list page or a pathological value that is
# still worth reporting, and keeps one record from taking the machine's memory.
MAX_RECORD = 64 << 20
TOO_LONG = f"record is longer than {MAX_RECORD >> 20} MiB; not read"
# Status codes an HTTP response can carry (RFC 9110 section 15).
STATUS_CODES = range(100, 600)
ALIASES = "YAML aliases are not allowed in a cassette"
BAD_HEADERS = "headers must be an object of strings or a list of {name, value} strings"


@dataclass(slots=True)
class Record:
    """One record of a file: a bare body, a recorded exchange, or a reason it
    could not be read or is not checked."""

    file: str
    line: int
    entry: int | None = None
    parsed: Parsed | None = None
    exchange: Exchange | None = None
    # Why the record cannot be read; the run counts it as unreadable.
    problem: str | None = None
    # A request on another endpoint (method and path): counted, not checked.
    other: str | None = None
    # The recording has a request but no response (connection failed).
    failed: str | None = None

    @property
    def source(self) -> Source:
        return Source(file=self.file, line=self.line, entry=self.entry)


Reader = Callable[[Path], Iterator[Record]]


def reader_for(path: Path) -> Reader | None:
    return READERS.get(path.suffix.lower())


def call_operation(url: str) -> str | None:
    """The call endpoint a request URL addresses, or None for any other."""
    path = urlsplit(url).path
    if CALL_URL.fullmatch(path):
        return CALL_PATH
    if LIST_URL.fullmatch(path):
        return LIST_PATH
    return None


# -- JSON bodies and JSON Lines ------------------------------------------------


def read_json(path: Path) -> Iterator[Record]:
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_RECORD + 1)
    except OSError as exc:
        yield Record(str(path), 1, problem=f"cannot read: {exc.strerror}")
        return
    if len(raw) > MAX_RECORD:
        yield Record(str(path), 1, problem=TOO_LONG)
        return
    yield json_record(str(path), 1, parse_body(raw), body_file=True)


def read_jsonl(path: Path) -> Iterator[Record]:
    name = str(path)
    try:
        with open_lines(path) as stream:
            for number, line in enumerate(bounded_lines(stream), 1):
                record = jsonl_record(name, number, line)
                if record is not None:
                    yield record
    except OSError as exc:
        yield unreadable_file(name, exc)


def open_lines(path: Path) -> BinaryIO:
    return path.open("rb", buffering=LINE_BUFFER)


def bounded_lines(
    stream: BinaryIO, limit: int = MAX_RECORD
) -> Iterator[bytes | bytearray | None]:
    """Each line of ``stream``, or None for a line longer than ``limit`` bytes.

    Lines are read a piece at a time, so memory never holds more of a line than
    ``limit`` (a plain ``readline`` holds all of it, and a copy while joining).
    A line longer than a piece comes as a bytearray, which every parser here
    takes as it takes bytes.
    """
    readline = stream.readline
    step = min(CHUNK, limit)
    while line := readline(step):
        if len(line) < step or line.endswith(b"\n"):
            yield line
        else:
            yield long_line(readline, line, step, limit)


def long_line(
    readline: Callable[[int], bytes], head: bytes, step: int, limit: int
) -> bytearray | None:
    """The rest of a line that began with ``head``, or None past ``limit``."""
    whole: bytearray | None = bytearray(head)
    while piece := readline(step):
        if whole is not None and len(whole) + len(piece) > limit:
            whole = None
        if whole is not None:
            whole += piece
        if len(piece) < step or piece.endswith(b"\n"):
            break
    return whole


def jsonl_record(
    name: str, number: int, line: bytes | bytearray | None, value: Any = UNCLEAN
) -> Record | None:
    """The record on one line of a JSON Lines file; None for a blank line.

    ``line`` is None for a line :func:`bounded_lines` found too long. ``value``
    is the line's value when :func:`parse_clean` already read it, so a caller
    that tried a fast path first does not parse the line twice.
    """
    if line is None:
        return Record(name, number, problem=TOO_LONG)
    if number == 1 and line.startswith(BOM):
        line = line[len(BOM) :]
    if line.isspace() or not line:
        return None
    if value is not UNCLEAN:
        return json_record(name, number, Parsed(value), body_file=False)
    parsed = parse_body(line)
    if not parsed.ok:
        # Again without the line break, so a position reads "line 1".
        parsed = parse_body(line.rstrip(b"\r\n"))
    return json_record(name, number, parsed, body_file=False)


def unreadable_file(name: str, exc: OSError) -> Record:
    return Record(name, 0, problem=f"cannot read: {exc.strerror}")


def json_record(name: str, line: int, parsed: Parsed, *, body_file: bool) -> Record:
    """A parsed JSON value as a bare body or an exchange record.

    A ``.json`` file is the body's bytes, so text that is not JSON is drift of
    the body; a JSON Lines line is written by a recorder, so a line that is not
    JSON is a broken record.
    """
    value = parsed.value
    if parsed.ok and isinstance(value, dict) and is_exchange_record(value):
        return exchange_record(name, line, value, parsed)
    if not parsed.ok and not body_file:
        why = parsed.findings[-1].message.removeprefix("body is not valid JSON: ")
        return Record(name, line, problem=f"not a JSON value: {why}")
    return Record(name, line, parsed=parsed)


def is_exchange_record(value: dict[str, Any]) -> bool:
    """An object with a ``status`` or a ``body`` member and no ``success`` is an
    exchange record; any other object is a bare body.

    Every call response has ``success`` (the contract requires it), so a body
    never reads as a record, while a recorder's line that lost a member still
    does, and is then refused with a reason rather than checked as a body.
    """
    return ("status" in value or "body" in value) and "success" not in value


def exchange_problem(value: dict[str, Any]) -> str | None:
    """Why an exchange record cannot be read, or None."""
    status = value.get("status")
    if type(status) is not int or status not in STATUS_CODES:
        return f"status must be an integer from 100 to 599, got {status!r}"
    if "body" not in value:
        return "an exchange record needs a body member (null for no body)"
    for key in ("url", "path", "method"):
        if not isinstance(value.get(key, ""), str):
            return f"{key} must be a string, got {value[key]!r}"
    headers = value.get("headers")
    if headers is not None and not string_headers(headers):
        return BAD_HEADERS
    return None


def string_headers(headers: Any) -> bool:
    if isinstance(headers, dict):
        return all(isinstance(v, str) for v in headers.values())
    return isinstance(headers, list) and all(
        isinstance(h, dict)
        and isinstance(h.get("name"), str)
        and isinstance(h.get("value"), str)
        for h in headers
    )


def exchange_record(
    name: str, line: int, value: dict[str, Any], parsed: Parsed
) -> Record:
    problem = exchange_problem(value)
    if problem is not None:
        return Record(name, line, problem=problem)
    status = value["status"]
    headers = record_headers(value.get("headers"))
    if isinstance(headers, str):
        return Record(name, line, problem=headers)
    operation = CALL_PATH
    url = value.get("url", value.get("path"))
    if url is not None:
        method = str(value.get("method", "GET")).upper()
        operation = call_operation(str(url)) if method == "GET" else None
        if operation is None:
            return Record(name, line, other=f"{method} {url}")
    body = value["body"]
    truncated = value.get("truncated") is True
    exchange = Exchange(status, headers, b"", operation, truncated)
    if isinstance(body, str):
        exchange.body = body.encode("utf-8", "surrogatepass")
    elif body is not None:
        inner = body_part(parsed)
        if isinstance(inner, str):
            return Record(name, line, problem=inner)
        inner.value = body
        exchange.parsed = inner
    return Record(name, line, exchange=exchange)


def record_headers(headers: Any) -> dict[str, str] | None | str:
    """Headers as a mapping; a string is the reason they cannot be read."""
    if headers is None:
        return None
    if isinstance(headers, dict):
        return {str(k): header_value(v) for k, v in headers.items()}
    if isinstance(headers, list) and all(
        isinstance(h, dict) and "name" in h for h in headers
    ):
        return {str(h["name"]): header_value(h.get("value")) for h in headers}
    return "headers must be an object or a list of {name, value}"


def header_value(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def body_part(parsed: Parsed) -> Parsed | str:
    """The parse findings of a record that lie inside its body, re-rooted at
    the body; a repeated key in the record itself makes the record unreadable."""
    inner = Parsed()
    for finding in parsed.findings:
        path = finding.path
        if path != "$.body" and not path.startswith(("$.body.", "$.body[")):
            return f"the record itself is not clean JSON: {finding.message}"
        finding.path = "$" + path[len("$.body") :]
        inner.findings.append(finding)
    inner.claimed = {"$" + p[len("$.body") :] for p in parsed.claimed}
    return inner


# -- HAR 1.2 --------------------------------------------------------------------


class BrokenContainer(Exception):
    """The file's own structure is broken at ``line``; nothing after it can be
    read."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class Scanner:
    """Reads a JSON text in chunks and walks its outer structure, so one array
    (HAR's ``log.entries``) can be handed out an element at a time.

    The scanner only finds where values begin and end; each element is parsed
    by orjson. Memory is one chunk plus the element being read.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.data = b""
        self.pos = 0
        self.eof = False
        # Start of the element being captured: the buffer keeps it.
        self.mark: int | None = None
        self.counted_pos = 0
        self.counted_lines = 1

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        keep = self.pos if self.mark is None else self.mark
        self.line_at(keep)
        self.data = self.data[keep:] + chunk
        self.pos -= keep
        self.counted_pos -= keep
        if self.mark is not None:
            self.mark -= keep
        return True

    def line_at(self, offset: int) -> int:
        """1-based line of ``offset``; offsets are asked for in order."""
        self.counted_lines += self.data.count(b"\n", self.counted_pos, offset)
        self.counted_pos = offset
        return self.counted_lines

    def broken(self, message: str) -> BrokenContainer:
        return BrokenContainer(self.line_at(max(self.pos, self.counted_pos)), message)

    def peek(self) -> bytes:
        """The next byte that is not white space (b"" at the end)."""
        while True:
            self.pos = WHITE.match(self.data, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.data) or not self.fill():
                return self.data[self.pos : self.pos + 1]

    def expect(self, token: bytes) -> None:
        found = self.peek()
        if found != token:
            shown = found.decode("utf-8", "replace") or "end of file"
            raise self.broken(f"expected {token.decode()!r}, found {shown!r}")
        self.pos += 1

    def string(self) -> bytes:
        if self.peek() != b'"':
            raise self.broken("expected a string")
        while True:
            match = STRING.match(self.data, self.pos)
            if match is not None and match.group(1) is not None:
                self.pos = match.end()
                return match.group()
            if not self.fill():
                raise self.broken("text ends inside a string")

    def skip(self) -> None:
        """Move past one value of any kind."""
        first = self.peek()
        if first == b'"':
            self.string()
        elif first in (b"{", b"["):
            self.skip_container()
        elif first:
            self.scalar()
        else:
            raise self.broken("text ends where a value was expected")

    def scalar(self) -> None:
        while True:
            match = SCALAR.match(self.data, self.pos)
            if match is None:
                shown = self.data[self.pos : self.pos + 1].decode("utf-8", "replace")
                raise self.broken(f"unexpected {shown!r}")
            if match.end() < len(self.data) or not self.fill():
                self.pos = match.end()
                return

    def skip_container(self) -> None:
        depth = 0
        while True:
            match = STRUCTURE.search(self.data, self.pos)
            if match is None:
                self.pos = len(self.data)
                if not self.fill():
                    raise self.broken("text ends inside an object or array")
                continue
            self.pos = match.start()
            token = match.group()
            if token == b'"':
                self.string()
                continue
            self.pos += 1
            depth += 1 if token in (b"{", b"[") else -1
            if depth == 0:
                return

    def members(self) -> Iterator[str]:
        """Keys of the object at the cursor; the caller reads or skips each
        value before asking for the next key."""
        self.expect(b"{")
        if self.peek() == b"}":
            self.pos += 1
            return
        while True:
            try:
                key = orjson.loads(self.string())
            except orjson.JSONDecodeError:
                raise self.broken("an object key is not a valid string") from None
            self.expect(b":")
            yield key
            if self.peek() == b",":
                self.pos += 1
                continue
            self.expect(b"}")
            return

    def elements(self) -> Iterator[tuple[int, bytes]]:
        """(line, raw bytes) of each element of the array at the cursor."""
        self.expect(b"[")
        if self.peek() == b"]":
            self.pos += 1
            return
        while True:
            self.peek()
            self.mark = self.pos
            line = self.line_at(self.pos)
            self.skip()
            raw = self.data[self.mark : self.pos]
            self.mark = None
            yield line, raw
            if self.peek() == b",":
                self.pos += 1
                continue
            self.expect(b"]")
            return


def har_entries(scanner: Scanner) -> Iterator[tuple[int, bytes]]:
    """(line, raw bytes) of each element of ``log.entries``."""
    found = False
    for key in scanner.members():
        if key != "log":
            scanner.skip()
            continue
        for inner in scanner.members():
            if inner == "entries":
                found = True
                yield from scanner.elements()
            else:
                scanner.skip()
    if not found:
        raise BrokenContainer(1, "no log.entries array: not a HAR file")


def read_har(path: Path) -> Iterator[Record]:
    name = str(path)
    try:
        with path.open("rb") as stream:
            scanner = Scanner(stream)
            for index, (line, raw) in enumerate(har_entries(scanner)):
                yield har_record(name, line, index, raw)
    except BrokenContainer as exc:
        yield Record(name, exc.line, problem=f"HAR is not readable: {exc}")
    except OSError as exc:
        yield Record(name, 0, problem=f"cannot read: {exc.strerror}")


def har_record(name: str, line: int, index: int, raw: bytes) -> Record:
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Record(name, line, index, problem=f"entry is not JSON: {exc}")
    if not isinstance(entry, dict):
        return Record(name, line, index, problem="entry is not an object")
    request = entry.get("request") or {}
    response = entry.get("response") or {}
    method = str(request.get("method", "")).upper()
    url = str(request.get("url", ""))
    operation = call_operation(url) if method == "GET" else None
    if operation is None:
        return Record(name, line, index, other=f"{method} {urlsplit(url).path}")
    if not response.get("status"):
        return Record(name, line, index, failed="no response was recorded")
    return har_exchange(Record(name, line, index), response, operation)


def har_exchange(record: Record, response: dict[str, Any], operation: str) -> Record:
    status = response.get("status")
    headers = record_headers(response.get("headers") or [])
    content = response.get("content") or {}
    if not isinstance(status, int) or isinstance(status, bool):
        record.problem = f"response.status must be an integer, got {status!r}"
        return record
    if isinstance(headers, str) or not isinstance(content, dict):
        record.problem = "response.headers or response.content is malformed"
        return record
    if not any(k.lower() == "content-type" for k in headers) and content.get(
        "mimeType"
    ):
        headers["Content-Type"] = str(content["mimeType"])
    body = har_body(content)
    if isinstance(body, str):
        record.problem = body
        return record
    size = content.get("size")
    truncated = "truncated" in str(content.get("comment") or "").lower() or (
        isinstance(size, int)
        and size > len(body)
        and content.get("encoding") == "base64"
    )
    record.exchange = Exchange(status, headers, body, operation, truncated)
    return record


def har_body(content: dict[str, Any]) -> bytes | str:
    """The body's bytes, or why they are not in the file."""
    text = content.get("text")
    if text is None:
        size = content.get("size")
        if isinstance(size, int) and size > 0:
            return f"the response body ({size} bytes) was not recorded"
        return b""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(str(text), validate=True)
        except binascii.Error:
            return "content.text is not valid base64"
    return str(text).encode("utf-8", "surrogatepass")


# -- VCR cassettes ----------------------------------------------------------------


def read_cassette(path: Path) -> Iterator[Record]:
    """Each top-level item under ``http_interactions`` is parsed on its own, so
    memory holds one interaction whatever the cassette's length."""
    name = str(path)
    try:
        with path.open("rb") as lines:
            for index, (line, text) in enumerate(cassette_items(lines)):
                yield cassette_record(name, line, index, text)
    except BrokenContainer as exc:
        yield Record(name, exc.line, problem=str(exc))
    except OSError as exc:
        yield Record(name, 0, problem=f"cannot read: {exc.strerror}")


def cassette_items(lines: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Split ``http_interactions`` into its items, each dedented to column 0.

    YAML lets the list sit at any indent under its key; the first ``-`` marker
    fixes the indent of every item of that list."""
    inside = seen = False
    indent: int | None = None
    item: list[bytes] = []
    start = 0
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip(b" ")
        depth = len(line) - len(stripped)
        filler = not stripped.strip() or stripped.startswith(b"#")
        marker = stripped[:1] == b"-" and stripped[1:2] in (b" ", b"\n", b"\r", b"")
        if depth == 0 and not marker and not filler:
            if item:
                yield start, b"".join(item)
                item = []
            inside = line.rstrip().startswith(CASSETTE_KEYS)
            seen, indent = seen or inside, None
        elif inside and marker and indent in (None, depth):
            if item:
                yield start, b"".join(item)
            indent, start, item = depth, number, [line[depth:]]
        elif item:
            item.append(dedent(line, indent or 0))
    if item:
        yield start, b"".join(item)
    if not seen:
        raise BrokenContainer(1, "no http_interactions: not a VCR cassette")


def dedent(line: bytes, indent: int) -> bytes:
    return line[indent:] if line[:indent] == b" " * indent else line


def cassette_record(name: str, line: int, index: int, text: bytes) -> Record:
    try:
        decoded = text.decode("utf-8")
        alias = first_alias(decoded)
        if alias is not None:
            return Record(name, line + alias, index, problem=ALIASES)
        loaded = yaml.load(decoded, Loader=yaml.CSafeLoader)
    except UnicodeDecodeError as exc:
        return Record(name, line, index, problem=f"not UTF-8 at byte {exc.start}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = line + mark.line if mark is not None else line
        problem = getattr(exc, "problem", None) or str(exc)
        return Record(name, where, index, problem=f"interaction is not YAML: {problem}")
    item = loaded[0] if isinstance(loaded, list) and loaded else None
    if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
        return Record(name, line, index, problem="interaction has no request")
    request = item["request"]
    method = str(request.get("method", "")).upper()
    uri = str(request.get("uri", ""))
    operation = call_operation(uri) if method == "GET" else None
    if operation is None:
        return Record(name, line, index, other=f"{method} {urlsplit(uri).path}")
    response = item.get("response")
    if response is None:
        return Record(name, line, index, failed="no response was recorded")
    return cassette_exchange(Record(name, line, index), response, operation)


def first_alias(text: str) -> int | None:
    """0-based line of the first alias (``*name``) in ``text``, or None.

    A loader keeps an alias as a shared reference, but anything that walks the
    value (str(), a check) expands it: nine nested aliases of nine make 9**9
    items out of a few hundred bytes. Events are read without building values,
    so the check costs one pass and no expansion; text with no ``*`` skips it.
    """
    if "*" not in text:
        return None
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            return int(event.start_mark.line)
    return None


def cassette_exchange(record: Record, response: Any, operation: str) -> Record:
    status = (response.get("status") or {}) if isinstance(response, dict) else {}
    try:
        code = int(status.get("code"))
    except (TypeError, ValueError):
        record.problem = "response.status.code is not an HTTP status code"
        return record
    headers = record_headers(response.get("headers") or {})
    body = cassette_body(response.get("body"))
    if isinstance(headers, str) or isinstance(body, str):
        record.problem = body if isinstance(body, str) else headers
        return record
    truncated = response.get("truncated_from") is not None
    record.exchange = Exchange(code, headers, body, operation, truncated)
    return record


def cassette_body(body: Any) -> bytes | str:
    if body is None:
        return b""
    if not isinstance(body, dict):
        return "response.body is not a mapping"
    if "base64_string" in body:
        try:
            return base64.b64decode(str(body["base64_string"]), validate=True)
        except binascii.Error:
            return "response.body.base64_string is not valid base64"
    text = body.get("string")
    if isinstance(text, bytes):
        return text
    if text is None:
        return b""
    # The writer decoded the body with the response's charset; encoding it back
    # restores bytes that were not UTF-8, so they are still reported as such.
    encoding = str(body.get("encoding") or "utf-8")
    try:
        return str(text).encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return str(text).encode("utf-8", "surrogatepass")


READERS: dict[str, Reader] = {
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".har": read_har,
    ".yaml": read_cassette,
    ".yml": read_cassette,
}
