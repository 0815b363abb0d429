"""Malformed input, everywhere: every file in tests/corpus/ through the real
command line in a subprocess. Each gets a message naming what is wrong and
where, the exit code the design gives it, and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sakari_contract.sandbox.data import calls

CORPUS = Path(__file__).parent / "corpus"
SCHEMA = Path(__file__).parent.parent / "schemas" / "sakari-calls.openapi.yaml"

# A .json file is a body: text that is not JSON is drift of the body (exit 1). A
# record a recorder wrote (JSON Lines, HAR, cassette) that cannot be read leaves
# input unchecked: incomplete, exit 3. Bad arguments, schemas, waivers: exit 2.
VALIDATE: dict[str, tuple[int, str]] = {
    "truncated.json": (1, "body is not valid JSON: Unterminated string"),
    "nan-literal.json": (1, "NaN is not a JSON number"),
    "infinity-literal.json": (1, "-Infinity is not a JSON number"),
    "utf8-bom.json": (0, "body starts with a UTF-8 byte order mark"),
    "deep-nesting.json": (1, "nesting too deep to parse"),
    "deep-nesting-object.json": (1, "nesting too deep to parse"),
    "binary-garbage.json": (1, "body is not valid JSON"),
    "empty.json": (1, "body is not valid JSON: Expecting value at line 1 column 1"),
    "whitespace-only.json": (1, "body is not valid JSON: Expecting value at line 3"),
    "top-level-array.json": (1, "array where object is expected"),
    "top-level-string.json": (1, "string where object is expected"),
    "duplicate-keys.json": (1, "key 'success' appears 2 times in one object"),
    "invalid-utf8.json": (1, "not UTF-8 at byte 77"),
    "trailing-garbage.json": (1, "Extra data at line 2 column 1"),
    "raw-control-characters.json": (1, "Invalid control character at line 1"),
    "single-quotes.json": (1, "Expecting property name enclosed in double quotes"),
    "comments.json": (1, "body is not valid JSON: Expecting value at line 1"),
    "nul-bytes.json": (1, "body is not valid JSON"),
    "crlf-blank-lines.jsonl": (3, "crlf-blank-lines.jsonl line 6: not a JSON value"),
    "bom-then-broken.jsonl": (3, "bom-then-broken.jsonl line 2: not a JSON value"),
    "binary-garbage.jsonl": (3, "binary-garbage.jsonl line 1"),
    "array-lines.jsonl": (1, "array where object is expected"),
    "har-missing-log.har": (3, "har-missing-log.har line 1: HAR is not readable"),
    "har-entries-not-array.har": (3, "har-entries-not-array.har line 1"),
    "har-truncated.har": (3, "har-truncated.har line 1"),
    "har-binary-garbage.har": (3, "har-binary-garbage.har line 1"),
    "har-top-level-array.har": (3, "har-top-level-array.har line 1"),
    "har-bad-base64.har": (3, "(entry 0): content.text is not valid base64"),
    "har-entry-without-response.har": (3, "no response was recorded"),
    "cassette-no-interactions.yaml": (3, "no http_interactions: not a VCR cassette"),
    "cassette-binary-garbage.yaml": (3, "cassette-binary-garbage.yaml line 1"),
    "cassette-invalid-yaml.yaml": (3, "cassette-invalid-yaml.yaml line 3 (entry 0)"),
    "huge-integer.json": (1, "an integer too long to read"),
    "lone-surrogate.json": (1, "holds a lone surrogate"),
    "lone-surrogate-key.json": (1, "holds a lone surrogate"),
    "lone-surrogate-beside-accent.json": (1, "'caf\\xe9\\ud800' holds a lone"),
    "deep-nesting-300.json": (1, "at most 255 levels deep"),
    "deep-nesting-700.jsonl": (1, "at most 255 levels deep"),
    "number-out-of-range.json": (1, "1e400 is out of the range of a double"),
    "cassette-yaml-aliases.yaml": (
        3,
        "cassette-yaml-aliases.yaml line 4 (entry 0): YAML aliases are not allowed",
    ),
    "exchange-impossible-fields.jsonl": (
        3,
        "exchange-impossible-fields.jsonl line 1: status must be an integer from "
        "100 to 599, got -1",
    ),
}
OPTIONS: dict[str, tuple[list[str], int, str]] = {
    "waivers-invalid-yaml.yaml": (
        ["gate", "--waivers"],
        2,
        "waivers-invalid-yaml.yaml: not valid YAML at line 3",
    ),
    "waivers-not-a-list.yaml": (
        ["gate", "--waivers"],
        2,
        "waivers-not-a-list.yaml: line 1: 'waivers' must be a list",
    ),
    "waivers-unknown-key.yaml": (
        ["gate", "--waivers"],
        2,
        "waivers-unknown-key.yaml: line 1: unknown key 'exceptions'",
    ),
    "schema-not-yaml.yaml": (
        ["check", "--schema"],
        2,
        "schema-not-yaml.yaml does not parse at line 4, column 1",
    ),
    "schema-top-level-list.yaml": (
        ["check", "--schema"],
        2,
        "schema-top-level-list.yaml is not an OpenAPI document",
    ),
    "unknown-format.txt": (
        ["validate"],
        2,
        "unknown-format.txt: cannot tell the format from the name",
    ),
}


def cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run the command line; return it and every text it left (stderr, stdout,
    drift.json)."""
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "sakari_contract.cli", *args]
        + ["--report-dir", str(reports), "--history", str(tmp_path / "h.sqlite")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CORPUS,
    )
    drift = reports / "drift.json"
    written = drift.read_text() if drift.exists() else ""
    return done, done.stderr + done.stdout + written


def test_corpus_is_complete() -> None:
    names = {p.name for p in CORPUS.iterdir()}
    assert names == set(VALIDATE) | set(OPTIONS)
    assert len(names) >= 30


@pytest.mark.parametrize("name", sorted(VALIDATE))
def test_validate_names_what_and_where(tmp_path: Path, name: str) -> None:
    exit_code, message = VALIDATE[name]
    done, text = cli(tmp_path, "validate", name)

    assert "Traceback" not in done.stderr
    assert done.returncode == exit_code
    assert message in text
    assert name in text


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_bad_option_file_is_one_line_and_exit_2(tmp_path: Path, name: str) -> None:
    args, exit_code, message = OPTIONS[name]
    done, _ = cli(
        tmp_path, *args, name, *(["--max-calls", "1"] * (args[0] != "validate"))
    )

    assert "Traceback" not in done.stderr
    assert done.returncode == exit_code
    assert done.stderr.splitlines()[0].startswith("Error: ")
    assert message in done.stderr.splitlines()[0]
    assert not (tmp_path / "reports" / "drift.json").exists()


def test_schema_with_a_broken_ref_names_the_ref(tmp_path: Path) -> None:
    schema = tmp_path / "broken-ref.yaml"
    text = SCHEMA.read_text()
    schema.write_text(text.replace("'#/components/schemas/Call'", "'#/nowhere/Call'"))
    done, _ = cli(tmp_path, "check", "--schema", str(schema), "--max-calls", "1")

    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert done.returncode == 2
    # Found when the schema is first used (after the token request), not at load.
    assert len(errors) == 1
    assert "Pointer '/nowhere/Call' does not exist" in errors[0]


@pytest.mark.parametrize("path", ["missing.json", "."])
def test_missing_file_or_directory_is_exit_2(tmp_path: Path, path: str) -> None:
    done, _ = cli(tmp_path, "validate", path)

    assert "Traceback" not in done.stderr
    assert done.returncode == 2
    assert done.stderr.startswith(f"Error: {path}")


def test_valid_records_next_to_a_broken_one_are_still_checked(tmp_path: Path) -> None:
    done, _ = cli(tmp_path, "validate", "crlf-blank-lines.jsonl")

    report: dict[str, Any] = json.loads((tmp_path / "reports/drift.json").read_text())
    assert done.returncode == 3
    assert report["counts"]["records_read"] == 3
    assert report["counts"]["responses"] == 2
    assert report["counts"]["unreadable"] == 1
    assert report["incomplete"] is True


@pytest.mark.slow
def test_a_50_mb_string_is_checked_not_fatal(tmp_path: Path) -> None:
    call = calls()[0]
    call["status"] = "x" * (50 * 1024 * 1024)
    body = tmp_path / "big.json"
    body.write_text(json.dumps({"success": True, "data": call}))
    done, _ = cli(tmp_path, "validate", str(body))

    report = json.loads((tmp_path / "reports/drift.json").read_text())
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert [(f["kind"], f["path"]) for f in report["findings"]] == [
        ("unknown_enum_value", "$.data.status")
    ]
    # Reports keep a readable head of the value, not 50 MB of it.
    observed = report["findings"][0]["observed"]
    assert observed == "x" * 2000 + f"… ({50 * 1024 * 1024:,} characters)"
    for name in ("drift.json", "junit.xml", "summary.md", "report.html"):
        assert (tmp_path / "reports" / name).stat().st_size < 100_000, name
