"""Drifted responses: a valid response with one or several drifts applied, and
the findings each drift must produce.

A drift is applied at a *site*, a position of the drawn body that the schema
documents (any depth, list items included). Drifts in one body never overlap:
no site is inside another, and each object takes at most one change of its
member set (a missing, an added or a renamed property). Otherwise one drift would
hide or pair up with another (a null object reports nothing beneath it; a lone
missing field and a lone added one of the same type read as a rename).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from ._plan import Builder, Node

Expected = list[tuple[str, str]]
WARNING_KINDS = frozenset({"undocumented_field", "probable_rename"})

# Values of the wrong JSON type, as providers really send them.
WRONG_TYPED: tuple[Any, ...] = (
    "123",
    "true",
    "2024-05-01T12:00:00Z",
    123,
    12.5,
    True,
    False,
    ["x"],
    [],
    {"value": "x"},
    {},
)
BAD_DATE_TIMES = (
    "2024-05-01 12:00:00",  # space instead of T, no offset
    "2024-05-01",  # date only
    "2024-05-01T12:00:00",  # no UTC offset
    "2024-05-01T12:00:00+0200",  # offset without a colon
    "2024-05-01T12:00Z",  # no seconds
    "2023-02-29T10:00:00Z",  # not a leap year
    "Tue, 07 Nov 2023 05:31:56 +0000",  # RFC 2822
    "1699335116",  # epoch seconds as a string
    " 2024-05-01T12:00:00Z",
)
BAD_EMAILS = (
    "Chris Bloggs <chris@example.com>",  # display name
    "chris@[127.0.0.1]",  # IP literal
    "chris@localhost",  # no TLD
    "chris.example.com",
    "chris@@example.com",
    "",
)
NEW_ENUM_VALUES = ("transferred", "queued", "voicemail", "unknown", "missed")
NEW_FIELDS = (
    "callerName",
    "recordingUrl",
    "transcript",
    "sentiment",
    "tags",
    "cost",
    "answeredAt",
    "sipCallId",
    "region",
    "metadata",
)
NON_FINITE = ("NaN", "Infinity", "-Infinity")


@dataclass(frozen=True)
class Duplicate:
    """A member sent twice: ``first`` then ``last`` (the value parsers keep)."""

    first: Any
    last: Any


@dataclass(frozen=True)
class Literal:
    """A bare token written as is, such as ``NaN``."""

    text: str


@dataclass(eq=False)
class Site:
    path: str
    node: Node
    container: Any
    key: str | int
    owner: Node | None
    owner_path: str


@dataclass
class Drifted:
    body: Any
    expected: Expected = field(default_factory=list)
    taken: list[str] = field(default_factory=list)
    reshaped: set[str] = field(default_factory=set)
    raw: bool = False

    def free(self, *paths: str) -> bool:
        return not any(overlaps(p, t) for p in paths for t in self.taken)


def child(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def overlaps(a: str, b: str) -> bool:
    def inside(x: str, y: str) -> bool:
        return x.startswith(y) and x[len(y) : len(y) + 1] in (".", "[")

    return a == b or inside(a, b) or inside(b, a)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    names = {int: "integer", float: "number", str: "string", list: "array"}
    return names.get(type(value), "object")


def walk(value: Any, node: Node, path: str) -> Iterator[Site]:
    """Every documented position present in ``value`` (the root excluded)."""
    if isinstance(value, dict) and node.properties:
        for key, member in value.items():
            sub = node.properties.get(key)
            if sub is not None:
                yield Site(child(path, key), sub, value, key, node, path)
                yield from walk(member, sub, child(path, key))
    elif isinstance(value, list) and node.items is not None:
        for index, item in enumerate(value):
            yield Site(child(path, index), node.items, value, index, None, path)
            yield from walk(item, node.items, child(path, index))


def objects(body: Any, root: Node, sites: list[Site]) -> Iterator[Site]:
    """Sites holding objects with documented properties, root included."""
    yield Site("$", root, None, "", None, "")
    for site in sites:
        if site.node.properties and isinstance(site.container[site.key], dict):
            yield site


# -- drift makers: each checks where it applies, then mutates and expects ------


def wrong_type(data: Any, state: Drifted, site: Site) -> None:
    options = [v for v in WRONG_TYPED if not site.node.allows(json_type(v))]
    replace(state, site, copy.deepcopy(data.draw(st.sampled_from(options))))
    state.expected.append(("type_mismatch", site.path))


def null(data: Any, state: Drifted, site: Site) -> None:
    replace(state, site, None)
    state.expected.append(("unexpected_null", site.path))


def unknown_enum(data: Any, state: Drifted, site: Site) -> None:
    known = {str(v) for v in site.node.enum}
    variants = [str(v).upper() for v in site.node.enum]
    variants += [str(v).replace("-", "_") for v in site.node.enum]
    options = sorted({*NEW_ENUM_VALUES, *variants} - known)
    replace(state, site, data.draw(st.sampled_from(options)))
    state.expected.append(("unknown_enum_value", site.path))


def bad_format(data: Any, state: Drifted, site: Site) -> None:
    options = BAD_DATE_TIMES if site.node.format == "date-time" else BAD_EMAILS
    replace(state, site, data.draw(st.sampled_from(options)))
    state.expected.append(("invalid_format", site.path))


def out_of_bounds(data: Any, state: Drifted, site: Site) -> None:
    _, make = data.draw(st.sampled_from(violations(site.node)))
    replace(state, site, make(site.container[site.key], data))
    state.expected.append(("constraint_violation", site.path))


def violations(node: Node) -> list[tuple[str, Callable[[Any, Any], Any]]]:
    """One way to break each bound the node declares."""
    bounds = node.bounds
    gap = st.integers(1, 10**6)
    makers: dict[str, Callable[[Any, Any], Any]] = {
        "minimum": lambda _, d: bounds["minimum"] - d.draw(gap),
        "maximum": lambda _, d: bounds["maximum"] + d.draw(gap),
        "exclusiveMinimum": lambda _, d: bounds["exclusiveMinimum"],
        "exclusiveMaximum": lambda _, d: bounds["exclusiveMaximum"],
        "maxLength": lambda v, _: "x" * (bounds["maxLength"] + 1),
        "maxItems": lambda v, _: (v or [None]) * (bounds["maxItems"] + 1),
    }
    if bounds.get("minLength", 0) > 0:
        makers["minLength"] = lambda v, _: "x" * (bounds["minLength"] - 1)
    if bounds.get("minItems", 0) > 0:
        makers["minItems"] = lambda v, _: v[: bounds["minItems"] - 1]
    return [(key, make) for key, make in makers.items() if key in bounds]


def duplicate(data: Any, state: Drifted, site: Site, builder: Builder) -> None:
    first = data.draw(builder(site.node))
    replace(state, site, Duplicate(first, site.container[site.key]))
    state.expected.append(("duplicate_key", site.path))
    state.raw = True


def non_finite(data: Any, state: Drifted, site: Site) -> None:
    replace(state, site, Literal(data.draw(st.sampled_from(NON_FINITE))))
    # Not JSON at all (RFC 8259 section 6), so the engine reports invalid_json
    # at that path and nothing else there.
    state.expected.append(("invalid_json", site.path))
    state.raw = True


def missing(data: Any, state: Drifted, site: Site) -> None:
    del site.container[site.key]
    claim(state, site.path, site.owner_path)
    state.expected.append(("missing_required", site.path))


def renamed(data: Any, state: Drifted, site: Site) -> None:
    new_name = data.draw(st.sampled_from(rename_options(site)))
    new_path = child(site.owner_path, new_name)
    site.container[new_name] = site.container.pop(site.key)
    claim(state, site.path, site.owner_path, new_path)
    state.expected += [
        ("missing_required", site.path),
        ("undocumented_field", new_path),
        ("probable_rename", site.path),
    ]


def added(data: Any, state: Drifted, site: Site) -> None:
    holder = state.body if site.path == "$" else site.container[site.key]
    names = [n for n in NEW_FIELDS if n not in site.node.properties and n not in holder]
    name = data.draw(st.sampled_from(names))
    holder[name] = data.draw(st.sampled_from(WRONG_TYPED + ("text", None)))
    claim(state, child(site.path, name), site.path)
    state.expected.append(("undocumented_field", child(site.path, name)))


def rename_options(site: Site) -> list[str]:
    """The same name in another case style: phoneNumber -> phone_number."""
    name = str(site.key)
    words = split_words(name)
    styles = {
        "_".join(words),
        "-".join(words),
        "_".join(words).upper(),
        "".join(w.capitalize() for w in words),
        name.upper(),
    }
    taken = set(site.owner.properties if site.owner else ()) | set(site.container)
    return sorted(styles - taken - {name})


def split_words(name: str) -> list[str]:
    words: list[str] = []
    for char in name:
        if char.isupper() or not words:
            words.append(char.lower())
        else:
            words[-1] += char
    return words


def replace(state: Drifted, site: Site, value: Any) -> None:
    site.container[site.key] = value
    state.taken.append(site.path)


def claim(state: Drifted, path: str, owner: str, *more: str) -> None:
    state.taken += [path, *more]
    state.reshaped.add(owner)


# -- where each kind applies ---------------------------------------------------


def is_member(site: Site) -> bool:
    return isinstance(site.container, dict) and site.owner is not None


def is_required(site: Site) -> bool:
    return is_member(site) and site.key in site.owner.required  # type: ignore[union-attr]


APPLIES: dict[str, Callable[[Site], bool]] = {
    "type_mismatch": lambda s: (
        s.path != "$" and any(not s.node.allows(json_type(v)) for v in WRONG_TYPED)
    ),
    "unexpected_null": lambda s: s.path != "$" and not s.node.allows("null"),
    "unknown_enum_value": lambda s: s.path != "$" and bool(s.node.enum),
    "invalid_format": lambda s: (
        s.path != "$"
        and s.node.format in ("date-time", "email")
        and isinstance(s.container[s.key], str)
    ),
    "constraint_violation": lambda s: s.path != "$" and bool(violations(s.node)),
    "duplicate_key": lambda s: s.path != "$" and is_member(s),
    "invalid_json": lambda s: (
        s.path != "$" and bool({"integer", "number"} & set(s.node.types))
    ),
    "missing_required": is_required,
    "probable_rename": lambda s: is_required(s) and bool(rename_options(s)),
    "undocumented_field": lambda s: bool(s.node.properties),
}
OBJECT_KINDS = frozenset({"undocumented_field"})
DRIFT_KINDS = tuple(APPLIES)


def apply(kind: str, data: Any, state: Drifted, site: Site, builder: Builder) -> None:
    if kind == "duplicate_key":
        duplicate(data, state, site, builder)
        return
    makers: dict[str, Callable[[Any, Drifted, Site], None]] = {
        "type_mismatch": wrong_type,
        "unexpected_null": null,
        "unknown_enum_value": unknown_enum,
        "invalid_format": bad_format,
        "constraint_violation": out_of_bounds,
        "invalid_json": non_finite,
        "missing_required": missing,
        "probable_rename": renamed,
        "undocumented_field": added,
    }
    makers[kind](data, state, site)


def fits(kind: str, state: Drifted, site: Site) -> bool:
    """Whether a drift of this kind at this site leaves earlier ones intact."""
    if kind in ("missing_required", "probable_rename"):
        return site.owner_path not in state.reshaped and state.free(site.path)
    if kind == "undocumented_field":
        return site.path not in state.reshaped and state.free(child(site.path, "_"))
    return state.free(site.path)


def drifted_strategy(
    root: Node, builder: Builder, kinds: Iterable[str], max_drifts: int
) -> st.SearchStrategy[tuple[Any, Expected]]:
    chosen = tuple(kinds)

    @st.composite
    def draw_drifted(draw: Any) -> tuple[Any, Expected]:
        body = copy.deepcopy(draw(builder(root)))
        sites = list(walk(body, root, "$"))
        pools = {kind: candidates(kind, body, root, sites) for kind in chosen}
        usable = [kind for kind in chosen if pools[kind]]
        assume(usable)
        state = Drifted(body)
        for _ in range(draw(st.integers(1, max_drifts))):
            kind = draw(st.sampled_from(usable))
            site = draw(st.sampled_from(pools[kind]))
            if fits(kind, state, site):
                apply(kind, _Drawer(draw), state, site, builder)
        return (encode(body) if state.raw else body), state.expected

    return draw_drifted()


@dataclass
class _Drawer:
    """Gives makers the ``data.draw`` shape of ``st.data()``."""

    draw: Callable[[st.SearchStrategy[Any]], Any]


def candidates(kind: str, body: Any, root: Node, sites: list[Site]) -> list[Site]:
    pool = list(objects(body, root, sites)) if kind in OBJECT_KINDS else sites
    return [site for site in pool if APPLIES[kind](site)]


def encode(value: Any) -> bytes:
    return "".join(tokens(value)).encode()


def tokens(value: Any) -> Iterator[str]:
    """JSON text, with duplicates written twice and literals written bare."""
    if isinstance(value, Literal):
        yield value.text
    elif isinstance(value, dict):
        yield "{"
        for index, (key, member) in enumerate(value.items()):
            name = json.dumps(key, ensure_ascii=False)
            yield "," if index else ""
            if isinstance(member, Duplicate):
                yield from (name, ":", *tokens(member.first), ",")
                member = member.last
            yield from (name, ":", *tokens(member))
        yield "}"
    elif isinstance(value, list):
        yield "["
        for index, item in enumerate(value):
            yield from ("," if index else "", *tokens(item))
        yield "]"
    else:
        yield json.dumps(value, ensure_ascii=False)
