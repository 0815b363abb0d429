"""Records per second of ``validate`` beside the floor it is built on.

Run from a checkout, with the ``bench`` extra installed::

    python benchmarks/bench_validate.py

It writes JSON Lines files to a temporary directory and prints, each the median
of 5 runs on one core (the process pins itself where the platform allows):

- ``validate`` end to end (file read, parse, duplicate-key proof, validation,
  classification, grouping) on valid call responses, and on a mix of valid and
  invalid ones (every invalid one classified in full);
- the floor: ``orjson.loads`` plus jsonschema-rs ``is_valid`` on the same lines,
  already in memory;
- jsonschema's ``Draft202012Validator`` with a ``FormatChecker`` (all errors) on
  a subset of the mix;
- the ratios between them.

The runs are interleaved, one of each row per round, so a slow spell on a shared
machine falls on every row alike and the ratios stay meaningful.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from sakari_contract.schema import load_contract, strict_overlay
from sakari_contract.validate import CALL_RESPONSE, run_validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "data" / "doc_example_response.json"
VALID_LINES = 20_000
MIX_HALF = 1_000
MIX_REPEAT = 5
JSONSCHEMA_SUBSET = 300
RUNS = 5
STATUSES = ["initiated", "ringing", "in-progress", "completed", "busy", "failed"]


def valid_body(base: dict[str, Any], n: int) -> dict[str, Any]:
    body = copy.deepcopy(base)
    body["data"]["id"] = f"call-{n:06d}"
    body["data"]["status"] = STATUSES[n % len(STATUSES)]
    body["data"]["duration"] = n % 3600
    body["data"]["voicemail"] = n % 2 == 0
    return body


def drift(data: dict[str, Any], n: int) -> None:
    """One drift of a different kind for each n."""
    choice = n % 9
    if choice == 0:
        data["status"] = "queued"
    elif choice == 1:
        data["duration"] = str(data["duration"])
    elif choice == 2:
        del data["recording"]
    elif choice == 3:
        data["phone_number"] = data.pop("phoneNumber")
    elif choice == 4:
        data["transcription"] = {"status": "pending"}
    elif choice == 5:
        data["created"]["at"] = "2024-05-01 12:00:00+00:00"
    elif choice == 6:
        data["contact"] = None
    elif choice == 7:
        data["contact"]["email"] = "not-an-email"
    else:
        data["created"]["at"] = 1714564800000


def mix_lines(base: dict[str, Any]) -> list[bytes]:
    lines = []
    for n in range(MIX_HALF):
        lines.append(orjson.dumps(valid_body(base, n)))
        invalid = valid_body(base, n)
        drift(invalid["data"], n)
        lines.append(orjson.dumps(invalid))
    return lines * MIX_REPEAT


Work = tuple[int, Callable[[], object]]


def median_rates(rows: dict[str, Work]) -> dict[str, float]:
    """Records per second of each row, the median of RUNS interleaved rounds."""
    rates: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(RUNS):
        for name, (count, work) in rows.items():
            start = time.perf_counter()
            work()
            rates[name].append(count / (time.perf_counter() - start))
    return {name: statistics.median(found) for name, found in rates.items()}


def pin_to_one_core() -> str:
    """The targets are stated for one core; say which one, or that none was."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def floor(lines: list[bytes], validator: Any) -> None:
    for line in lines:
        validator.is_valid(orjson.loads(line))


def jsonschema_all_errors(lines: list[bytes], contract: Any) -> Callable[[], None]:
    from jsonschema import Draft202012Validator, FormatChecker

    components = strict_overlay(contract.components)
    schema = {"$ref": CALL_RESPONSE, "components": components}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    docs = [json.loads(line) for line in lines]

    def run() -> None:
        for doc in docs:
            list(validator.iter_errors(doc))

    return run


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def main() -> None:
    pinned = pin_to_one_core()
    contract = load_contract()
    validator = contract.validator(CALL_RESPONSE, strict=True)
    base = json.loads(EXAMPLE.read_text())
    valid = [orjson.dumps(valid_body(base, n)) for n in range(VALID_LINES)]
    spaced = [json.dumps(valid_body(base, n)).encode() for n in range(VALID_LINES)]
    mix = mix_lines(base)
    subset = mix[:JSONSCHEMA_SUBSET]

    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "valid": write(Path(tmp, "valid.jsonl"), valid),
            "spaced": write(Path(tmp, "spaced.jsonl"), spaced),
            "mix": write(Path(tmp, "mix.jsonl"), mix),
        }
        check = run_validate([files["mix"]], strict=False, contract=contract)
        assert check.counts["responses"] == len(mix), check.counts

        def validate(name: str) -> Callable[[], object]:
            return lambda: run_validate([files[name]], strict=False, contract=contract)

        rows = median_rates(
            {
                "validate, valid JSONL": (len(valid), validate("valid")),
                "validate, valid JSONL (json.dumps spacing)": (
                    len(spaced),
                    validate("spaced"),
                ),
                "validate, valid/invalid mix": (len(mix), validate("mix")),
                "floor, valid (orjson + is_valid)": (
                    len(valid),
                    lambda: floor(valid, validator),
                ),
                "floor, mix (orjson + is_valid)": (
                    len(mix),
                    lambda: floor(mix, validator),
                ),
                "jsonschema + FormatChecker, mix subset (all errors)": (
                    len(subset),
                    jsonschema_all_errors(subset, contract),
                ),
            }
        )
    report(rows, len(valid), len(mix), len(check.findings), pinned)


def report(
    rows: dict[str, float], valid: int, mix: int, grouped: int, pinned: str
) -> None:
    print(f"records: valid {valid}, mix {mix} ({grouped} distinct findings)")
    print(f"median of {RUNS} runs, records per second, one core ({pinned})")
    for name, rate in rows.items():
        print(f"  {name:<54} {rate:>10,.0f}")
    valid_rate = rows["validate, valid JSONL"]
    mix_rate = rows["validate, valid/invalid mix"]
    slow = rows["jsonschema + FormatChecker, mix subset (all errors)"]
    print("ratios")
    ratios = {
        "validate / floor, valid": valid_rate
        / rows["floor, valid (orjson + is_valid)"],
        "validate / floor, mix": mix_rate / rows["floor, mix (orjson + is_valid)"],
        "validate mix / jsonschema + FormatChecker": mix_rate / slow,
    }
    for name, ratio in ratios.items():
        print(f"  {name:<54} {ratio:>10.2f}")


if __name__ == "__main__":
    main()
