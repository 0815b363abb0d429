"""Valid values from a plan in as few Hypothesis draws as possible.

Hypothesis spends most of a response's generation on bookkeeping per draw, not
on the values, so this builder draws little:

- a leaf is one integer draw, decoded into its value (an index into a pool of
  realistic values, or a 64-bit number whose mixed bits give a timestamp, a
  phone number or an id; drawing 0 always gives the simplest value);
- an object draws one integer holding a bit per optional member and per boolean;
- a list of leaves is one integer too, decoded into a length and the items;
- objects nested ``POOL_DEPTH`` deep (list items, channel settings, the creator)
  rarely matter one by one, so each is drawn whole from a pool of values made
  once from its plan with a fixed seed: the pool follows the schema, and a drawn
  example replays the same value in every run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, Protocol

from hypothesis import strategies as st

from . import _values as values
from ._plan import (
    INTEGER_EDGES,
    MAX_ITEMS,
    Node,
    any_json,
    integer_range,
    is_flag,
    top_of,
)

Draw = Callable[[st.SearchStrategy[Any]], Any]
POOL_DEPTH = 3
POOL_SIZE = 256
POOL_SEED = 20231107
# A packed list's length and items must fit in the integer drawn for it.
PACK_LIMIT = 2**128


class Source(Protocol):
    """The part of ``random.Random`` that sampling uses."""

    def randrange(self, size: int) -> int: ...
    def getrandbits(self, width: int) -> int: ...
    def randint(self, low: int, high: int) -> int: ...
    def choice(self, options: list[Any]) -> Any: ...


class Gen:
    """How to draw a value for one node, and how to sample one without Hypothesis
    (to fill pools)."""

    sampleable = True

    def draw(self, draw: Draw) -> Any:
        raise NotImplementedError

    def sample(self, rng: Source) -> Any:
        raise NotImplementedError

    def strategy(self) -> st.SearchStrategy[Any]:
        return st.composite(lambda draw: self.draw(draw))()


class Leaf(Gen):
    """``decode(i)`` for one drawn ``i`` in ``range(size)``."""

    def __init__(self, size: int, decode: Callable[[int], Any]) -> None:
        self.size = size
        self.decode = decode
        self.indices = st.integers(0, size - 1)

    def draw(self, draw: Draw) -> Any:
        return self.decode(draw(self.indices))

    def sample(self, rng: Source) -> Any:
        return self.decode(rng.randrange(self.size))

    def strategy(self) -> st.SearchStrategy[Any]:
        return self.indices.map(self.decode)


def choices(options: tuple[Any, ...]) -> Leaf:
    return Leaf(len(options), options.__getitem__)


def mixed(decode: Callable[[int], Any]) -> Leaf:
    """A leaf decoded from the mixed bits of a 64-bit draw."""
    return Leaf(values.WIDE, decode)


class Drawn(Gen):
    """A plain strategy, for what has no decoder (patterns, floats, any JSON)."""

    sampleable = False

    def __init__(self, strategy: st.SearchStrategy[Any]) -> None:
        self.inner = strategy

    def draw(self, draw: Draw) -> Any:
        return draw(self.inner)

    def strategy(self) -> st.SearchStrategy[Any]:
        return self.inner


class OneOf(Gen):
    """One of several JSON types (a nullable field, say)."""

    def __init__(self, options: list[Gen]) -> None:
        self.options = options
        self.which = st.integers(0, len(options) - 1)
        self.sampleable = all(option.sampleable for option in options)

    def draw(self, draw: Draw) -> Any:
        return self.options[draw(self.which)].draw(draw)

    def sample(self, rng: Source) -> Any:
        return rng.choice(self.options).sample(rng)


class Object(Gen):
    """Required members, any subset of the optional ones, booleans as bits."""

    def __init__(self, node: Node, members: dict[str, Gen]) -> None:
        self.required = node.required
        self.optional = tuple(key for key in members if key not in node.required)
        self.flags = tuple(k for k in members if is_flag(node.properties[k]))
        self.members = members
        width = len(self.optional) + len(self.flags)
        self.bits = st.integers(0, 2**width - 1) if width else None
        self.width = width
        self.sampleable = all(gen.sampleable for gen in members.values())

    def draw(self, draw: Draw) -> dict[str, Any]:
        bits = draw(self.bits) if self.bits is not None else 0
        return self.build(bits, lambda gen: gen.draw(draw))

    def sample(self, rng: Source) -> dict[str, Any]:
        return self.build(rng.getrandbits(self.width), lambda gen: gen.sample(rng))

    def build(self, bits: int, make: Callable[[Gen], Any]) -> dict[str, Any]:
        present = (k for i, k in enumerate(self.optional) if bits >> i & 1)
        value: dict[str, Any] = {}
        for key in (*self.required, *present):
            if key in self.flags:
                shift = len(self.optional) + self.flags.index(key)
                value[key] = bool(bits >> shift & 1)
            else:
                value[key] = make(self.members[key])
        return value


class Nested(Gen):
    """An object member drawn as its own span, so shrinking can treat the
    member's draws as one block."""

    def __init__(self, inner: Gen) -> None:
        self.inner = inner
        self.sampleable = inner.sampleable
        self.spanned = inner.strategy()

    def draw(self, draw: Draw) -> Any:
        return draw(self.spanned)

    def sample(self, rng: Source) -> Any:
        return self.inner.sample(rng)

    def strategy(self) -> st.SearchStrategy[Any]:
        return self.spanned


class Items(Gen):
    """A list of items that are not leaves, one draw each."""

    def __init__(self, item: Gen, low: int, high: int) -> None:
        self.item, self.low, self.high = item, low, high
        self.sampleable = item.sampleable
        self.lists = st.lists(item.strategy(), min_size=low, max_size=high)

    def draw(self, draw: Draw) -> list[Any]:
        return draw(self.lists)

    def sample(self, rng: Source) -> list[Any]:
        return [self.item.sample(rng) for _ in range(rng.randint(self.low, self.high))]

    def strategy(self) -> st.SearchStrategy[Any]:
        return self.lists


def packed_list(item: Leaf, low: int, high: int) -> Leaf:
    """A list of ``low`` to ``high`` leaves decoded from one draw."""
    lengths = high - low + 1

    def decode(n: int) -> list[Any]:
        # The length as drawn, so a failure that needs k items shrinks to the
        # simplest k; the items from mixed bits.
        rest, extra = divmod(n, lengths)
        x = values.wide(rest, 2)
        items = []
        for _ in range(low + extra):
            x, index = divmod(x, item.size)
            items.append(item.decode(index))
        return items

    return Leaf(values.WIDE, decode)


def pooled(gen: Gen, seed: str) -> Leaf:
    """A pool of ``gen``'s values, the simplest first, smaller ones before
    bigger ones, so shrinking the index shrinks the value."""
    rng = random.Random(f"{POOL_SEED}:{seed}")
    simplest = json.dumps(gen.sample(_Zero()), ensure_ascii=False)
    texts = {simplest}
    for _ in range(POOL_SIZE * 4):
        if len(texts) >= POOL_SIZE:
            break
        texts.add(json.dumps(gen.sample(rng), ensure_ascii=False))
    rest = sorted(texts - {simplest}, key=lambda text: (len(text), text))
    pool = (simplest, *rest)
    # A fresh copy per draw: a test may change the value it was given.
    return Leaf(len(pool), lambda index: json.loads(pool[index]))


class _Zero:
    """A stand-in random source that always makes the smallest choice, giving
    the value every draw being 0 gives."""

    def randrange(self, size: int) -> int:
        return 0

    def getrandbits(self, width: int) -> int:
        return 0

    def randint(self, low: int, high: int) -> int:
        return low

    def choice(self, options: list[Any]) -> Any:
        return options[0]


class CompactBuilder:
    """Strategies for valid values of a plan, drawn with few draws."""

    def __init__(self) -> None:
        self.gens: dict[int, Gen] = {}
        self.strategies: dict[int, st.SearchStrategy[Any]] = {}

    def __call__(self, node: Node) -> st.SearchStrategy[Any]:
        strategy = self.strategies.get(id(node))
        if strategy is None:
            strategy = self.strategies[id(node)] = self.gen(node).strategy()
        return strategy

    def gen(self, node: Node) -> Gen:
        gen = self.gens.get(id(node))
        if gen is None:
            gen = self.gens[id(node)] = self.build(node)
        return gen

    def build(self, node: Node) -> Gen:
        if node.enum:
            return choices(node.enum)
        options = [self.of_type(node, kind) for kind in node.types if kind != "null"]
        if "null" in node.types:
            options.append(choices((None,)))
        if not options:
            return Drawn(any_json())
        return options[0] if len(options) == 1 else OneOf(options)

    def of_type(self, node: Node, kind: str) -> Gen:
        makers: dict[str, Callable[[Node], Gen]] = {
            "object": self.object,
            "array": self.array,
            "string": self.string,
            "integer": integer,
            "number": number,
            "boolean": lambda _: choices((False, True)),
        }
        return makers[kind](node)

    def object(self, node: Node) -> Gen:
        if not node.properties:
            return mixed(values.free_form)
        members = {key: self.member(sub) for key, sub in node.properties.items()}
        gen = Object(node, members)
        if node.depth >= POOL_DEPTH and gen.sampleable:
            return pooled(gen, node.path)
        return gen

    def member(self, node: Node) -> Gen:
        gen = self.gen(node)
        return Nested(gen) if isinstance(gen, Object) else gen

    def array(self, node: Node) -> Gen:
        low = node.bounds.get("minItems", 0)
        high = min(node.bounds.get("maxItems", MAX_ITEMS), max(low, MAX_ITEMS))
        item = self.gen(node.items) if node.items else Drawn(any_json())
        if isinstance(item, Leaf) and item.size**high * (high - low + 1) <= PACK_LIMIT:
            return packed_list(item, low, high)
        return Items(item, low, high)

    def string(self, node: Node) -> Gen:
        if "pattern" in node.bounds:
            return Drawn(st.from_regex(node.bounds["pattern"], fullmatch=True))
        if "minLength" in node.bounds or "maxLength" in node.bounds:
            low = node.bounds.get("minLength", 0)
            return Drawn(st.text(min_size=low, max_size=node.bounds.get("maxLength")))
        if node.format == "date-time":
            return mixed(values.timestamp)
        if node.format == "email":
            return mixed(values.mailbox)
        return by_name(node)


def by_name(node: Node) -> Leaf:
    """Values that look like what the field holds, judged by its name; the
    schema's own examples come first."""
    name = node.name
    if name == "id" or name.endswith(("Id", "_id")):
        return mixed(values.hex_id)
    lower = name.lower()
    if "number" in lower or "phone" in lower:
        return mixed(values.phone_number)
    pools = {
        "firstname": values.FIRST_NAMES,
        "lastname": values.LAST_NAMES,
        "name": values.FULL_NAMES + values.WORDS,
        "country": values.COUNTRIES,
    }
    pool = pools.get(lower, values.WORDS)
    examples = tuple(e for e in node.examples if isinstance(e, str))
    return choices(tuple(dict.fromkeys(examples + pool)))


def integer(node: Node) -> Leaf:
    """Boundary values a quarter of the time, any value of the range otherwise.

    The drawn integer itself gives the value (Hypothesis favours small ones, as
    real durations and counts are); only the choice of a boundary is mixed.
    """
    low, high = integer_range(node)
    top = top_of(low, high)
    edges = sorted({n for n in INTEGER_EDGES if low <= n <= top} | {low, top})
    nearest_zero = min(max(0, low), top)

    def decode(n: int) -> int:
        x = values.wide(n)
        if x % 4 == 0:
            return edges[x // 4 % len(edges)]
        # Even n step up from the value nearest 0, odd ones down.
        value = nearest_zero + (-(n >> 1) if n & 1 else n >> 1)
        return value if low <= value <= top else low + n % (top - low + 1)

    return mixed(decode)


def number(node: Node) -> Gen:
    return Drawn(
        st.floats(
            min_value=node.bounds.get("minimum"),
            max_value=node.bounds.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
        )
    )
