"""Loading the contract: the checks made before any response is looked at."""

from __future__ import annotations

import pytest

from sakari_contract import schema
from sakari_contract.errors import UsageError


def test_format_checks_are_proven_on_at_start_up() -> None:
    schema.ensure_format_checks(schema.load_contract())


def test_a_format_checker_that_accepts_a_bad_date_time_stops_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Stand in for a checker that lets everything through: probe with a value
    # any checker accepts, which is what a silent checker does to a bad one.
    monkeypatch.setattr(schema, "KNOWN_BAD_DATE_TIME", "2024-05-01T12:00:00Z")

    with pytest.raises(UsageError) as raised:
        schema.ensure_format_checks(schema.load_contract())

    assert str(raised.value) == (
        "the date-time format checker accepted '2024-05-01T12:00:00Z'; "
        "format checks are off, refusing to run"
    )


def test_every_documented_response_body_has_a_compiled_validator() -> None:
    contract = schema.load_contract()

    assert contract.body_refs() == {
        "#/components/schemas/CallResponse",
        "#/components/schemas/CallListResponse",
        "#/components/schemas/ErrorResponse",
    }
