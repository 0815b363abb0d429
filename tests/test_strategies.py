"""The schema-driven strategies against the drift engine and jsonschema-rs.

Valid and edge-case responses must produce no finding at all and pass
jsonschema-rs with format checks on. Drifted responses must produce exactly the
findings they announce, compared as a multiset of ``(kind, path)`` over every
finding, warnings included: a warning the strategies did not announce is as much
a disagreement as a missing breaking finding. Severities are checked apart:
``undocumented_field`` and ``probable_rename`` are warnings (the engine is not
strict here), every other kind is breaking.

Example counts come from the Hypothesis profile (conftest.py): 50 under ``dev``,
1000 under ``ci``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import strategies
from sakari_contract.drift import Engine
from sakari_contract.findings import BODY_KINDS, Kind, Severity
from sakari_contract.schema import STRICT_EMAIL, load_contract

CALL = "#/components/schemas/CallResponse"
SCHEMA = (
    Path(__file__).resolve().parent.parent / "schemas" / "sakari-calls.openapi.yaml"
)
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})"
)
# The explain phase re-runs a failing example once per span and takes most of
# the time of a failure (a failing drifted response: about 8 s with it, under
# 2 s without), so it stays off.
SHRINK = settings(phases=[p for p in Phase if p is not Phase.explain])
# Long edge-case strings make big examples; that is their point.
BIG = settings(
    SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# For find(): the first example that matches, not the simplest one (shrinking
# the big bodies would take most of the run).
FIRST = settings(database=None, phases=[Phase.generate], max_examples=2000)

CONTRACT = load_contract()
ENGINE = Engine(CONTRACT)


def format_checker(name: str) -> Any:
    """jsonschema-rs on the inlined schema, apart from the engine's compilation."""
    return jsonschema_rs.validator_for(
        CONTRACT.resolved(name), validate_formats=True, email_options=STRICT_EMAIL
    )


RESPONSE_CHECKER = format_checker("CallResponse")
CALL_CHECKER = format_checker("Call")


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def findings_of(body: Any) -> list[Any]:
    raw = body if isinstance(body, bytes) else encode(body)
    return ENGINE.check_body(raw, CALL)[1]


def pairs(findings: list[Any]) -> Counter[tuple[str, str]]:
    return Counter((str(f.kind), f.path) for f in findings)


# -- valid and edge-case responses ---------------------------------------------


@SHRINK
@given(strategies.call_responses())
def test_valid_responses_have_no_finding(body: Any) -> None:
    assert [str(f) for f in findings_of(body)] == []
    RESPONSE_CHECKER.validate(body)


@BIG
@given(strategies.edge_case_responses())
def test_edge_case_responses_have_no_finding(body: Any) -> None:
    assert [str(f) for f in findings_of(body)] == []
    RESPONSE_CHECKER.validate(body)


@SHRINK
@given(strategies.call_records())
def test_call_records_are_valid_calls(record: Any) -> None:
    CALL_CHECKER.validate(record)
    assert ENGINE.check_value({"success": True, "data": record}, CALL) == []


# -- drifted responses ------------------------------------------------------------


@SHRINK
@given(strategies.drifted_responses())
def test_drifted_responses_report_exactly_the_expected_findings(pair: Any) -> None:
    body, expected = pair
    findings = findings_of(body)

    assert pairs(findings) == Counter(expected)
    for finding in findings:
        warns = str(finding.kind) in strategies.WARNING_KINDS
        assert finding.severity is (Severity.WARNING if warns else Severity.BREAKING)


@pytest.mark.parametrize("kind", strategies.DRIFT_KINDS)
@settings(max_examples=25)
@given(data=st.data())
def test_each_drift_kind_is_drawn(kind: str, data: st.DataObject) -> None:
    strategy = strategies.drifted_responses(kinds=[kind], max_drifts=1)
    body, expected = data.draw(strategy)
    assert kind in {k for k, _ in expected}
    assert pairs(findings_of(body)) == Counter(expected)


def test_drift_kinds_cover_every_body_kind() -> None:
    # schema_mismatch is the engine's "anything else": no keyword of this
    # schema (type, enum, format, required, minimum) produces it.
    body_kinds = {str(k) for k in BODY_KINDS} - {str(Kind.SCHEMA_MISMATCH)}
    assert set(strategies.DRIFT_KINDS) == body_kinds | {str(Kind.INVALID_JSON)}


@given(strategies.drifted_responses(kinds=["probable_rename"], max_drifts=1))
def test_a_rename_is_three_findings_at_two_paths(pair: Any) -> None:
    _, expected = pair
    (gone, _), (added, new_path), (rename, old_path) = expected
    assert (gone, added, rename) == (
        "missing_required",
        "undocumented_field",
        "probable_rename",
    )
    assert expected[0][1] == old_path
    assert new_path.rpartition(".")[0] == old_path.rpartition(".")[0]


def test_several_drifts_deep_in_list_items_are_drawn() -> None:
    body, expected = find(
        strategies.drifted_responses(max_drifts=3),
        lambda pair: len(pair[1]) >= 2 and any("lists[" in p for _, p in pair[1]),
        settings=FIRST,
    )
    assert pairs(findings_of(body)) == Counter(expected)


def test_duplicate_key_body_is_bytes_with_the_key_twice() -> None:
    body, expected = find(
        strategies.drifted_responses(kinds=["duplicate_key"], max_drifts=1),
        lambda pair: pair[1] == [("duplicate_key", "$.data.duration")],
        settings=FIRST,
    )
    assert isinstance(body, bytes)
    assert body.count(b'"duration":') == 2
    assert pairs(findings_of(body)) == Counter(expected)


def test_drifted_responses_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kinds=\\('renamed',\\)"):
        strategies.drifted_responses(kinds=["renamed"])


# -- regression cases kept from disagreements -------------------------------------


def test_lone_missing_field_and_lone_new_field_of_its_type_read_as_rename() -> None:
    # Why drifted_responses never changes the member set of one object twice:
    # the engine pairs a lone missing field with a lone undocumented sibling of
    # the same JSON type, whatever their names.
    body = find(strategies.call_responses(), lambda b: True, settings=FIRST)
    del body["data"]["duration"]
    body["data"]["cost"] = 3
    assert pairs(findings_of(body)) == Counter(
        {
            ("missing_required", "$.data.duration"): 1,
            ("undocumented_field", "$.data.cost"): 1,
            ("probable_rename", "$.data.duration"): 1,
        }
    )


# -- the strategies follow the schema ---------------------------------------------


def test_strategies_follow_a_new_enum_value_and_required_field(tmp_path) -> None:
    document = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    call = document["components"]["schemas"]["Call"]
    call["properties"]["status"]["enum"].append("transferred")
    call["properties"]["transcript"] = {"type": "string"}
    call["required"].append("transcript")
    changed = tmp_path / "changed.openapi.yaml"
    changed.write_text(yaml.safe_dump(document), encoding="utf-8")
    contract = load_contract(changed)

    body = find(
        strategies.call_responses(contract),
        lambda b: b["data"]["status"] == "transferred",
        settings=FIRST,
    )
    assert isinstance(body["data"]["transcript"], str)

    @settings(database=None, max_examples=50)
    @given(strategies.call_responses(contract))
    def always_has_transcript(body: Any) -> None:
        assert isinstance(body["data"]["transcript"], str)

    always_has_transcript()
    gone = find(
        strategies.drifted_responses(contract, kinds=["missing_required"]),
        lambda pair: ("missing_required", "$.data.transcript") in pair[1],
        settings=FIRST,
    )
    assert "transcript" not in gone[0]["data"]


def test_strategies_follow_a_change_deep_in_list_items(tmp_path) -> None:
    # List items are drawn from pools made from the plan: a required field and
    # a new format there reach every drawn item.
    document = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    item = document["components"]["schemas"]["ContactList"]
    item["properties"]["createdAt"] = {"type": "string", "format": "date-time"}
    item["required"] = ["createdAt"]
    changed = tmp_path / "changed.openapi.yaml"
    changed.write_text(yaml.safe_dump(document), encoding="utf-8")
    contract = load_contract(changed)

    @settings(database=None, max_examples=50)
    @given(strategies.call_responses(contract))
    def items_have_created_at(body: Any) -> None:
        for item in body["data"]["contact"].get("lists", []):
            assert RFC3339.fullmatch(item["createdAt"]), item

    items_have_created_at()
    find(
        strategies.call_responses(contract),
        lambda b: len(b["data"]["contact"].get("lists", [])) == 5,
        settings=FIRST,
    )


# -- variety, copies and shrink targets -------------------------------------------


def records(body: Any) -> list[Any]:
    """Every list item of the contact, pooled values all."""
    return body["data"]["contact"].get("lists", [])


def test_every_list_length_from_0_to_5_is_drawn() -> None:
    for length in range(6):
        find(
            strategies.call_responses(),
            lambda b, n=length: (
                "lists" in b["data"]["contact"] and len(records(b)) == n
            ),
            settings=FIRST,
        )


def test_boundary_integers_and_non_ascii_names_are_drawn() -> None:
    for duration in (0, 2**31 - 1, 2**32, 2**53 - 1):
        find(
            strategies.call_records(),
            lambda r, d=duration: r["duration"] == d,
            settings=FIRST,
        )
    find(
        strategies.call_records(),
        lambda r: not r["contact"].get("firstName", "a").isascii(),
        settings=FIRST,
    )


def test_drawn_values_are_fresh_copies() -> None:
    # Pooled list items are decoded anew for each draw: changing one drawn
    # body leaves the next draws untouched.
    def with_item(body: Any) -> bool:
        return len(records(body)) == 1

    first = find(strategies.call_responses(), with_item)
    records(first)[0]["changed"] = True
    second = find(strategies.call_responses(), with_item)
    assert records(second) == [{}]


def test_simplest_response_is_all_first_values() -> None:
    assert find(strategies.call_responses(), lambda b: True) == {
        "success": False,
        "data": {
            "id": "0" * 24,
            "direction": "inbound",
            "status": "initiated",
            "contact": {"id": "0" * 24},
            "phoneNumber": {"id": "0" * 24},
            "created": {"at": "1970-01-01T00:00:00Z"},
            "duration": 0,
            "voicemail": False,
            "recording": False,
        },
    }


def test_a_timestamp_style_shrinks_to_the_epoch_in_that_style() -> None:
    assert find(strategies.date_times(), lambda v: v[-6] == "-") == (
        "1970-01-01T00:00:00-00:00"
    )
    assert find(strategies.date_times(), lambda v: "." in v) == (
        "1970-01-01T00:00:00.0Z"
    )


# -- leaf strategies and the schemathesis hook ------------------------------------


@given(strategies.date_times())
def test_date_times_are_rfc3339(value: str) -> None:
    assert RFC3339.fullmatch(value), value
    assert jsonschema_rs.is_valid(
        {"type": "string", "format": "date-time"}, value, validate_formats=True
    )


def test_date_times_use_every_style() -> None:
    styles = [
        lambda v: v.endswith("Z"),
        lambda v: v.endswith("z"),
        lambda v: re.search(r"\+\d{2}:\d{2}$", v),
        lambda v: re.search(r"-\d{2}:\d{2}$", v),
        lambda v: "t" in v,
        lambda v: re.search(r"\.\d{6}[Zz+-]", v),
    ]
    for style in styles:
        find(strategies.date_times(), style, settings=FIRST)


@given(strategies.e164_numbers())
def test_e164_numbers(value: str) -> None:
    assert re.fullmatch(r"\+[1-9]\d{7,14}", value), value


@given(strategies.call_ids())
def test_call_ids_are_never_empty_nor_a_path(value: str) -> None:
    assert value and "/" not in value


def test_call_ids_include_plausible_and_odd_ones() -> None:
    for odd in (
        lambda v: re.fullmatch(r"[0-9a-f]{24}", v),
        lambda v: "%" in v,
        lambda v: not v.isascii(),
        lambda v: len(v) > 1000,
    ):
        find(strategies.call_ids(), odd, settings=FIRST)


def test_register_schemathesis_formats() -> None:
    from schemathesis.specs.openapi import formats

    strategies.register_schemathesis_formats()
    try:
        # Schemathesis now draws these formats from our strategies, whose
        # simplest values are known exactly.
        simplest = {
            name: find(formats.STRING_FORMATS[name], lambda v: True)
            for name in ("date-time", "email")
        }
        assert simplest == {
            "date-time": "1970-01-01T00:00:00Z",
            "email": "zoe.martin@example.com",
        }
    finally:
        formats.unregister_string_format("date-time")
        formats.unregister_string_format("email")
