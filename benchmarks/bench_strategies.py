"""Examples per second: the schema-driven strategies against hypothesis-jsonschema.

Run from the checkout root, with the ``bench`` extra installed::

    .venv/bin/python benchmarks/bench_strategies.py

Both generators draw valid call responses (``CallResponse`` with every ``$ref``
inlined) through ``@given``, the way a property test consumes them: five short
runs each, generation phase only, no database. It prints the median rate of
each, by the wall clock and by the CPU time of the process (steadier on a shared
machine), and their ratio. hypothesis-jsonschema manages a few examples a second
on this schema, so it gets far fewer examples per run; the whole benchmark takes
under a minute on two cores.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import strategies  # noqa: E402 - needs the checkout root on sys.path
from sakari_contract.schema import load_contract  # noqa: E402

RUNS = 5
OURS_EXAMPLES = 500
JSONSCHEMA_EXAMPLES = 25


def rate(strategy: st.SearchStrategy[Any], examples: int) -> tuple[float, float]:
    """Examples per second of one run of a do-nothing test, by the wall clock
    and by CPU time."""

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def consume(value: Any) -> None:
        pass

    start, cpu = time.perf_counter(), time.process_time()
    consume()
    wall = examples / (time.perf_counter() - start)
    return wall, examples / (time.process_time() - cpu)


def median_rate(
    make: Callable[[], st.SearchStrategy[Any]], examples: int
) -> tuple[float, float]:
    rates = [rate(make(), examples) for _ in range(RUNS)]
    return (
        statistics.median(wall for wall, _ in rates),
        statistics.median(cpu for _, cpu in rates),
    )


def main() -> None:
    from hypothesis_jsonschema import from_schema

    schema = load_contract().resolved("CallResponse")
    ours = median_rate(strategies.call_responses, OURS_EXAMPLES)
    theirs = median_rate(lambda: from_schema(schema), JSONSCHEMA_EXAMPLES)
    print(f"valid call responses per second, median of {RUNS} runs")
    print("                                   wall       cpu")
    for name, (wall, cpu), examples in (
        ("strategies.call_responses()", ours, OURS_EXAMPLES),
        ("hypothesis_jsonschema", theirs, JSONSCHEMA_EXAMPLES),
    ):
        print(f"  {name:28s} {wall:8.1f}/s {cpu:8.1f}/s  ({examples} per run)")
    print(f"  ratio (wall)                 {ours[0] / theirs[0]:8.1f}x")


if __name__ == "__main__":
    main()
