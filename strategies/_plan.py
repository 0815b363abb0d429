"""Compile a resolved JSON Schema into a plan, and build strategies from the plan.

The plan is the schema with everything generation needs made explicit: JSON
types, required and optional properties, enum values, format, bounds and the
property name a value sits under (which picks realistic values). Strategies are
composed once per plan with ``fixed_dictionaries``, ``lists`` and leaf
strategies, so drawing a response costs no filtering and no schema reasoning.
"""

from __future__ import annotations

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

    def allows(self, json_type: str) -> bool:
        if not self.types:
            return True
        if json_type == "integer" and "number" in self.types:
            return True
        return json_type in self.types


def compile_plan(schema: dict[str, Any], name: str = "") -> Node:
    declared = schema.get("type")
    types = (declared,) if isinstance(declared, str) else tuple(declared or ())
    properties = schema.get("properties") or {}
    items = schema.get("items")
    return Node(
        name=name,
        types=types,
        properties={key: compile_plan(sub, key) for key, sub in properties.items()},
        required=tuple(key for key in schema.get("required", ()) if key in properties),
        items=compile_plan(items, name) if isinstance(items, dict) else None,
        enum=tuple(schema.get("enum") or ()),
        format=schema.get("format"),
        examples=tuple(schema.get("examples") or ()),
        bounds={key: schema[key] for key in BOUND_KEYS if key in schema},
    )


class Builder:
    """Strategies for a plan, valid (``edge=False``) or at the edges."""

    def __init__(self, *, edge: bool) -> None:
        self.edge = edge
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
        return st.one_of(options) if options else self.any_json()

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
            return self.free_form()
        required = {key: self(node.properties[key]) for key in node.required}
        optional = {
            key: self(sub)
            for key, sub in node.properties.items()
            if key not in required
        }
        flags = frozenset(k for k, sub in node.properties.items() if is_flag(sub))
        some = members(required, optional, flags)
        if not self.edge:
            return some
        # At the edge: only what is required (an empty object when nothing is),
        # or every documented property at once.
        everything = st.fixed_dictionaries({**required, **optional})
        return st.one_of(st.fixed_dictionaries(required), everything, some)

    def array(self, node: Node) -> st.SearchStrategy[Any]:
        low = node.bounds.get("minItems", 0)
        high = node.bounds.get("maxItems", max(low, MAX_ITEMS))
        item = self(node.items) if node.items else self.any_json()
        lists = st.lists(item, min_size=low, max_size=min(high, max(low, MAX_ITEMS)))
        if self.edge and low == 0:
            return st.one_of(st.just([]), lists)
        return lists

    def string(self, node: Node) -> st.SearchStrategy[Any]:
        if "pattern" in node.bounds:
            return st.from_regex(node.bounds["pattern"], fullmatch=True)
        if "minLength" in node.bounds or "maxLength" in node.bounds:
            low = node.bounds.get("minLength", 0)
            return st.text(min_size=low, max_size=node.bounds.get("maxLength"))
        realistic = self.realistic_string(node)
        if node.format or not self.edge:
            return realistic
        return st.one_of(
            st.just(""), values.long_strings(), values.any_text(), realistic
        )

    def realistic_string(self, node: Node) -> st.SearchStrategy[str]:
        if node.format == "date-time":
            return values.edge_date_times() if self.edge else values.date_times()
        if node.format == "email":
            return values.edge_emails() if self.edge else values.emails()
        strategy = by_name(node.name)
        if node.examples:
            strategy = st.one_of(st.sampled_from(node.examples), strategy)
        return strategy

    def integer(self, node: Node) -> st.SearchStrategy[int]:
        low, high = integer_range(node)
        top = high if high is not None else max(low, 0) + SAFE_INTEGER
        edges = [n for n in INTEGER_EDGES if low <= n <= top] + [low, top]
        if self.edge:
            edges += [n for n in BIG_INTEGERS if high is None or n <= high]
        return st.one_of(st.sampled_from(sorted(set(edges))), st.integers(low, top))

    def number(self, node: Node) -> st.SearchStrategy[float]:
        return st.floats(
            min_value=node.bounds.get("minimum"),
            max_value=node.bounds.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
        )

    def free_form(self) -> st.SearchStrategy[dict[str, Any]]:
        entries = {
            key: st.one_of(values.words(), st.integers(-1000, 1000), st.booleans())
            for key in values.FREE_FORM_KEYS
        }
        maps = members({}, entries, frozenset())
        if self.edge:
            nested = st.dictionaries(st.text(max_size=8), self.any_json(), max_size=4)
            return st.one_of(st.just({}), nested, maps)
        return maps

    def any_json(self) -> st.SearchStrategy[Any]:
        scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
        return st.recursive(
            scalars,
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=6,
        )


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
