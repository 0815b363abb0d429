"""JUnit XML, the format CI systems (GitHub, GitLab, Jenkins) show as test results.

One testcase per finding (classname = drift kind, name = instance path), one per
infrastructure error, and one "contract conformance" testcase carrying the verdict.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from ..findings import Finding, InfraError, Severity, Verdict, breaking
from ..result import RunResult
from ._text import counts_line, lifecycle_line, retries_line, shorten, value_text

SUITE = "sakari-contract"
CONFORMANCE = "contract conformance"

# Characters XML 1.0 (section 2.2) does not allow anywhere, even as references;
# lone surrogates are in the excluded range too and could not be encoded anyway.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MESSAGE_LIMIT = 500
_VALUE_LIMIT = 2000


def render(result: RunResult) -> str:
    suite = _suite(result)
    root = ET.Element("testsuites", _suite_counts(suite), name=SUITE)
    root.append(suite)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def clean(text: str) -> str:
    """Text safe for XML 1.0: forbidden characters become visible escapes."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _suite(result: RunResult) -> ET.Element:
    suite = ET.Element("testsuite", name=SUITE, timestamp=clean(result.started))
    suite.set("time", _duration(result.started, result.finished))
    _properties(suite, result)
    for finding in result.findings:
        suite.append(_finding_case(finding))
    for error in result.errors:
        suite.append(_error_case(error))
    suite.append(_conformance_case(result))
    for name, value in _count_cases(suite).items():
        suite.set(name, str(value))
    return suite


def _properties(suite: ET.Element, result: RunResult) -> None:
    properties = ET.SubElement(suite, "properties")
    values = {
        "command": result.command,
        "target": result.target,
        "verdict": str(result.verdict),
    }
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=clean(value))


def _finding_case(finding: Finding) -> ET.Element:
    case = _case(str(finding.kind), finding.path)
    text = clean(_finding_text(finding))
    if finding.waiver:
        message = clean(shorten(f"waived: {finding.waiver}", _MESSAGE_LIMIT))
        ET.SubElement(case, "skipped", message=message)
        ET.SubElement(case, "system-out").text = text
    elif finding.severity is Severity.BREAKING:
        failure = ET.SubElement(
            case, "failure", message=_finding_message(finding), type=str(finding.kind)
        )
        failure.text = text
    else:
        ET.SubElement(case, "system-out").text = text
    return case


def _finding_message(finding: Finding) -> str:
    message = f"{finding.kind} at {finding.path}: {finding.message}"
    if finding.count > 1:
        message += f" (×{finding.count})"
    return clean(shorten(message, _MESSAGE_LIMIT))


def _finding_text(finding: Finding) -> str:
    lines = {
        "kind": str(finding.kind),
        "severity": str(finding.severity),
        "path": finding.path,
        "schema path": finding.schema_path,
        "expected": shorten(value_text(finding.expected), _VALUE_LIMIT),
        "observed": shorten(value_text(finding.observed), _VALUE_LIMIT),
        "detail": finding.detail,
        "message": finding.message,
        "count": str(finding.count) if finding.count > 1 else None,
        "source": finding.source.describe(),
        "fingerprint": finding.fingerprint,
        "status": finding.status,
        "first seen": finding.first_seen,
        "waiver": finding.waiver,
    }
    return "\n".join(f"{k}: {v}" for k, v in lines.items() if v)


def _error_case(error: InfraError) -> ET.Element:
    where = error.source.describe()
    case = _case("infra", f"{error.kind} {where}")
    message = clean(shorten(error.message, _MESSAGE_LIMIT))
    element = ET.SubElement(case, "error", message=message, type=str(error.kind))
    lines = [
        f"kind: {error.kind}",
        f"message: {error.message}",
        f"source: {where}",
        f"count: {error.count}",
    ]
    element.text = clean("\n".join(lines))
    return case


def _conformance_case(result: RunResult) -> ET.Element:
    case = _case(SUITE, CONFORMANCE)
    verdict = result.verdict
    text = clean(_conformance_text(result))
    if verdict is Verdict.CONFORM:
        ET.SubElement(case, "system-out").text = text
        return case
    tag = "failure" if verdict is Verdict.DRIFT else "error"
    element = ET.SubElement(
        case, tag, message=_conformance_message(result), type=str(verdict)
    )
    element.text = text
    return case


def _conformance_message(result: RunResult) -> str:
    if result.verdict is Verdict.DRIFT:
        unwaived = len(breaking(result.findings))
        return f"drift: {unwaived} breaking finding(s) not waived"
    if result.errors:
        return f"infra: {len(result.errors)} infrastructure error(s) left checks undone"
    return "infra: the run was incomplete, part of the contract was not checked"


def _conformance_text(result: RunResult) -> str:
    lines = [
        f"verdict: {result.verdict} (exit code {result.verdict.exit_code})",
        f"command: {result.command}",
        f"target: {result.target}",
        counts_line(result),
        lifecycle_line(result),
        f"retries: {retries_line(result)}" if result.retries else "",
        "incomplete: part of the contract was not checked" if result.incomplete else "",
        *result.notes,
    ]
    return "\n".join(line for line in lines if line)


def _case(classname: str, name: str) -> ET.Element:
    attributes = {"classname": clean(classname), "name": clean(name), "time": "0"}
    return ET.Element("testcase", attributes)


def _count_cases(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def _suite_counts(suite: ET.Element) -> dict[str, str]:
    names = ("tests", "failures", "errors", "skipped")
    return {name: suite.get(name, "0") for name in names}


def _duration(started: str, finished: str | None) -> str:
    """Seconds between two ISO timestamps, or 0 when either is missing or odd."""
    if not finished:
        return "0"
    try:
        start = datetime.fromisoformat(started.replace("Z", "+00:00"))
        end = datetime.fromisoformat(finished.replace("Z", "+00:00"))
        seconds = (end - start).total_seconds()
    except (TypeError, ValueError):
        return "0"
    return f"{max(seconds, 0.0):.3f}"
