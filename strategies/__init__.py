"""Hypothesis strategies for Sakari call responses, derived from the contract.

Every strategy is compiled from the hand-authored schema (types, required
properties, enums, formats, bounds), so a field or an enum value added to the
YAML is generated without an edit here. Each builder takes an optional
``Contract``; without one it uses the schema of the checkout. Valid values cost
about 25 Hypothesis draws a response (``_compact``), edge cases favour reach over
speed (``_plan``).

- ``call_records()`` and ``call_responses()``: valid, with realistic values.
- ``edge_case_responses()``: valid, at the edges of each field.
- ``drifted_responses()``: ``(body, expected)`` pairs, where ``expected`` lists the
  ``(kind, path)`` of every finding the drift engine must report for ``body``.
- ``date_times()``, ``emails()``, ``e164_numbers()``, ``call_ids()``: the leaf
  strategies, shared with live generation by ``register_schemathesis_formats()``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from sakari_contract.schema import Contract, load_contract

from ._compact import CompactBuilder
from ._drift import DRIFT_KINDS, WARNING_KINDS, drifted_strategy
from ._plan import Builder, EdgeBuilder, Node, compile_plan
from ._values import call_ids, date_times, e164_numbers, emails

__all__ = [
    "DRIFT_KINDS",
    "WARNING_KINDS",
    "call_ids",
    "call_records",
    "call_responses",
    "date_times",
    "drifted_responses",
    "e164_numbers",
    "edge_case_responses",
    "emails",
    "register_schemathesis_formats",
]

RESPONSE = "CallResponse"


@functools.cache
def _compiled(contract: Contract) -> tuple[Node, Builder, Builder]:
    """The plan of the call response and its valid and edge builders."""
    plan = compile_plan(contract.resolved(RESPONSE))
    return plan, CompactBuilder(), EdgeBuilder()


def _parts(contract: Contract | None) -> tuple[Node, Builder, Builder]:
    return _compiled(contract or load_contract())


def call_responses(contract: Contract | None = None) -> st.SearchStrategy[Any]:
    """Whole 200 bodies, ``{"success": ..., "data": {...}}``, valid."""
    plan, valid, _ = _parts(contract)
    return valid(plan)


def call_records(contract: Contract | None = None) -> st.SearchStrategy[Any]:
    """The call record alone (the ``data`` member of a response), valid."""
    plan, valid, _ = _parts(contract)
    return valid(plan.properties["data"])


def edge_case_responses(contract: Contract | None = None) -> st.SearchStrategy[Any]:
    """Valid bodies at the edges: empty strings, arrays and objects, long
    strings, leap days, offsets of +-23:59, zero and huge integers."""
    plan, _, edge = _parts(contract)
    return edge(plan)


def drifted_responses(
    contract: Contract | None = None,
    *,
    kinds: Iterable[str] = DRIFT_KINDS,
    max_drifts: int = 3,
) -> st.SearchStrategy[tuple[Any, list[tuple[str, str]]]]:
    """``(body, expected)``: a response with 1 to ``max_drifts`` drifts.

    ``body`` is a dict, or bytes when a drift cannot be a dict (a duplicate key,
    a ``NaN`` literal). ``expected`` holds one ``(kind, path)`` per finding the
    engine must report; ``kinds`` limits which drifts are applied.
    """
    kinds = tuple(kinds)
    unknown = sorted(set(kinds) - set(DRIFT_KINDS))
    if unknown or not kinds:
        raise ValueError(f"kinds={kinds!r}: choose among {DRIFT_KINDS!r}")
    if max_drifts < 1:
        raise ValueError(f"max_drifts={max_drifts!r}: must be at least 1")
    plan, valid, _ = _parts(contract)
    return drifted_strategy(plan, valid, kinds, max_drifts)


def register_schemathesis_formats() -> None:
    """Make schemathesis generate ``date-time`` and ``email`` values with these
    strategies, so live runs send the same realistic values."""
    import schemathesis  # imported here: it is slow to import and rarely needed

    schemathesis.openapi.format("date-time", date_times())
    schemathesis.openapi.format("email", emails())
