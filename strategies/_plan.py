"""Compile a resolved JSON Schema into a plan, and build edge-case strategies.

The plan is the schema with everything generation needs made explicit: JSON
types, required and optional properties, enum values, format, bounds, the
property name a value sits under (which picks realistic values) and where it
sits. Strategies are composed once per plan, so drawing a response costs no
filtering and no schema reasoning. Valid values come from ``_compact``; this
module builds the edge cases, which favour reach over speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from . import _values as values

MAX_ITEMS = 5
# Past 2**53 a JSON number stops being exact in JavaScript and in doubles.
SAFE_INTEGER = 2**53 - 1
INTEGER_EDGES = (0, 1, 2**31 - 1, 2**32, SAFE_INTEGER, 2**53, 2**53 + 1, 2**63 - 1)
BIG_INTEGERS = (2**53 + 1, 2**63 - 1, 2**64, 10**20)
BOUND_KEYS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
)
# What turns a plan node into a strategy (the valid builder or the edge one).
Builder = Callable[["Node"], st.SearchStrategy[Any]]


@dataclass(eq=False)
class Node:
    """One schema position: what a value there must be."""

    name: str
    types: tuple[str, ...] = ()
    properties: dict[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    items: Node | None = None
    enum: tuple[Any, ...] = ()
    format: str | None = None
    examples: tuple[Any, ...] = ()
    bounds: dict[str, Any] = field(default_factory=dict)
    # Objects around this position (0 at the root) and a JSON-path-like name.
    depth: int = 0
    path: str = "$"

    def allows(self, json_type: str) -> bool:
        if not self.types:
            return True
        if json_type == "integer" and "number" in self.types:
            return True
        return json_type in self.types


def compile_plan(
    schema: dict[str, Any], name: str = "", depth: int = 0, path: str = "$"
) -> Node:
    declared = schema.get("type")
    types = (declared,) if isinstance(declared, str) else tuple(declared or ())
    properties = schema.get("properties") or {}
    items = schema.get("items")
    return Node(
        name=name,
        types=types,
        properties={
            key: compile_plan(sub, key, depth + 1, f"{path}.{key}")
            for key, sub in properties.items()
        },
        required=tuple(key for key in schema.get("required", ()) if key in properties),
        items=(
            compile_plan(items, name, depth, f"{path}[*]")
            if isinstance(items, dict)
            else None
        ),
        enum=tuple(schema.get("enum") or ()),
        format=schema.get("format"),
        examples=tuple(schema.get("examples") or ()),
        bounds={key: schema[key] for key in BOUND_KEYS if key in schema},
        depth=depth,
        path=path,
    )


class EdgeBuilder:
    """Valid strategies for a plan at the edges of each field: empty strings,
    arrays and objects, long strings, boundary and huge integers."""

    def __init__(self) -> None:
        self.cache: dict[int, st.SearchStrategy[Any]] = {}

    def __call__(self, node: Node) -> st.SearchStrategy[Any]:
        strategy = self.cache.get(id(node))
        if strategy is None:
            strategy = self.cache[id(node)] = self.build(node)
        return strategy

    def build(self, node: Node) -> st.SearchStrategy[Any]:
        if node.enum:
            return st.sampled_from(node.enum)
        # A nullable position ("type": ["string", "null"]) sometimes gets null.
        options = [self.of_type(node, kind) for kind in node.types if kind != "null"]
        if "null" in node.types:
            options.append(st.none())
        return st.one_of(options) if options else any_json()

    def of_type(self, node: Node, kind: str) -> st.SearchStrategy[Any]:
        makers = {
            "object": self.object,
            "array": self.array,
            "string": self.string,
            "integer": self.integer,
            "number": self.number,
            "boolean": lambda _: st.booleans(),
        }
        return makers[kind](node)

    def object(self, node: Node) -> st.SearchStrategy[Any]:
        if not node.properties:
            nested = st.dictionaries(st.text(max_size=8), any_json(), max_size=4)
            return st.one_of(st.just({}), nested, values.free_forms())
        required = {key: self(node.properties[key]) for key in node.required}
        optional = {
            key: self(sub)
            for key, sub in node.properties.items()
            if key not in required
        }
        flags = frozenset(k for k, sub in node.properties.items() if is_flag(sub))
        # Only what is required (an empty object when nothing is), every
        # documented property at once, or any subset.
        everything = st.fixed_dictionaries({**required, **optional})
        some = members(required, optional, flags)
        return st.one_of(st.fixed_dictionaries(required), everything, some)

    def array(self, node: Node) -> st.SearchStrategy[Any]:
        low = node.bounds.get("minItems", 0)
        high = node.bounds.get("maxItems", max(low, MAX_ITEMS))
        item = self(node.items) if node.items else any_json()
        lists = st.lists(item, min_size=low, max_size=min(high, max(low, MAX_ITEMS)))
        return st.one_of(st.just([]), lists) if low == 0 else lists

    def string(self, node: Node) -> st.SearchStrategy[Any]:
        if "pattern" in node.bounds:
            return st.from_regex(node.bounds["pattern"], fullmatch=True)
        if "minLength" in node.bounds or "maxLength" in node.bounds:
            low = node.bounds.get("minLength", 0)
            return st.text(min_size=low, max_size=node.bounds.get("maxLength"))
        if node.format == "date-time":
            return values.edge_date_times()
        if node.format == "email":
            return values.edge_emails()
        realistic = by_name(node.name)
        if node.examples:
            realistic = st.one_of(st.sampled_from(node.examples), realistic)
        return st.one_of(
            st.just(""), values.long_strings(), values.any_text(), realistic
        )

    def integer(self, node: Node) -> st.SearchStrategy[int]:
        low, high = integer_range(node)
        top = top_of(low, high)
        edges = [n for n in INTEGER_EDGES if low <= n <= top] + [low, top]
        edges += [n for n in BIG_INTEGERS if high is None or n <= high]
        return st.one_of(st.sampled_from(sorted(set(edges))), st.integers(low, top))

    def number(self, node: Node) -> st.SearchStrategy[float]:
        return st.floats(
            min_value=node.bounds.get("minimum"),
            max_value=node.bounds.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
        )


def any_json() -> st.SearchStrategy[Any]:
    """Any JSON value, for positions the schema leaves untyped."""
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def top_of(low: int, high: int | None) -> int:
    """The largest value drawn: the maximum, or a safe integer above ``low``."""
    return high if high is not None else max(low, 0) + SAFE_INTEGER


def is_flag(node: Node) -> bool:
    return node.types == ("boolean",) and not node.enum


def members(
    required: dict[str, st.SearchStrategy[Any]],
    optional: dict[str, st.SearchStrategy[Any]],
    flags: frozenset[str],
) -> st.SearchStrategy[dict[str, Any]]:
    """An object with its required members and any subset of the optional ones.

    One integer holds a bit per optional member (present or not) and a bit per
    boolean member (its value), instead of one draw each: responses cost about
    a third fewer draws, and the integer shrinks towards the smallest object.
    """
    names = tuple(optional)
    booleans = tuple(key for key in (*required, *names) if key in flags)
    width = len(names) + len(booleans)
    every = {**required, **optional}

    @st.composite
    def draw_object(draw: Any) -> dict[str, Any]:
        bits = draw(st.integers(0, 2**width - 1)) if width else 0
        chosen = [*required, *(k for i, k in enumerate(names) if bits >> i & 1)]
        value: dict[str, Any] = {}
        for key in chosen:
            if key in flags:
                index = len(names) + booleans.index(key)
                value[key] = bool(bits >> index & 1)
            else:
                value[key] = draw(every[key])
        return value

    return draw_object()


def integer_range(node: Node) -> tuple[int, int | None]:
    low = node.bounds.get("minimum", -SAFE_INTEGER)
    if "exclusiveMinimum" in node.bounds:
        low = max(low, node.bounds["exclusiveMinimum"] + 1)
    high = node.bounds.get("maximum")
    if "exclusiveMaximum" in node.bounds:
        limit = node.bounds["exclusiveMaximum"] - 1
        high = limit if high is None else min(high, limit)
    return int(low), None if high is None else int(high)


def by_name(name: str) -> st.SearchStrategy[str]:
    """Values that look like what the field holds, judged by its name."""
    if name == "id" or name.endswith(("Id", "_id")):
        return values.hex_ids()
    name = name.lower()
    if "number" in name or "phone" in name:
        return values.e164_numbers()
    if name == "firstname":
        return values.first_names()
    if name == "lastname":
        return values.last_names()
    if name == "name":
        return st.one_of(values.full_names(), values.words())
    if name == "country":
        return st.sampled_from(values.COUNTRIES)
    return values.words()
