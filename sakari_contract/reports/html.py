"""report.html: one self-contained page (no network) for people.

The same findings table as summary.md, filters by kind and status, and a chart
of findings per run drawn from the history. Every value is escaped with
``html.escape``; the page's only script and style are inline and pinned by hash
in its Content-Security-Policy, so nothing a provider sends can run or load.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from ..findings import Finding
from ..gate import waiver_lines
from ..result import RunResult
from ._text import counts_line, importance, lifecycle_line, shorten, value_text

CELL_LIMIT = 300
ROW_LIMIT = 2000
CHART_WIDTH, CHART_HEIGHT = 960, 220
_PLOT_TOP, _PLOT_BOTTOM, _PLOT_LEFT = 16, 40, 44
_SERIES = ("breaking", "warning", "info")

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:24px 0 8px}
.verdict{padding:2px 10px;border-radius:10px;color:#fff}
.conform{background:#1f7a3a}.drift{background:#b3261e}.infra{background:#9a6700}
.meta{color:#4a5060;margin:2px 0}
table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{border:1px solid #d6d9e0;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f1f3f7}td code{word-break:break-all}
tr.breaking td:first-child{border-left:4px solid #b3261e}
tr.warning td:first-child{border-left:4px solid #d08700}
tr.info td:first-child{border-left:4px solid #3a6fc4}
.filters label{margin-right:16px}
svg .breaking{fill:#b3261e}svg .warning{fill:#d08700}svg .info{fill:#3a6fc4}
svg text{font-size:11px;fill:#4a5060}svg .axis{stroke:#9aa0ad}
.legend span{margin-right:14px}.swatch{display:inline-block;width:10px;height:10px}
""".strip()

SCRIPT = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.finding"));
  var kind = document.getElementById("filter-kind");
  var status = document.getElementById("filter-status");
  var shown = document.getElementById("shown");
  function fill(select, attribute) {
    var seen = {};
    rows.forEach(function (row) { seen[row.getAttribute(attribute)] = true; });
    Object.keys(seen).sort().forEach(function (value) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value;
      select.appendChild(option);
    });
  }
  function apply() {
    var count = 0;
    rows.forEach(function (row) {
      var visible = (!kind.value || row.getAttribute("data-kind") === kind.value) &&
        (!status.value || row.getAttribute("data-status") === status.value);
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " findings shown";
  }
  function fromHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    [[kind, "kind"], [status, "status"]].forEach(function (pair) {
      var value = params.get(pair[1]);
      if (value !== null) { pair[0].value = value; }
    });
  }
  fill(kind, "data-kind");
  fill(status, "data-status");
  fromHash();
  kind.addEventListener("change", apply);
  status.addEventListener("change", apply);
  window.addEventListener("hashchange", function () { fromHash(); apply(); });
  apply();
  rows.forEach(function (row) { row.setAttribute("data-rendered", "yes"); });
  document.getElementById("findings").setAttribute("data-rendered", "yes");
  var chart = document.getElementById("trend");
  if (chart.querySelectorAll("rect.bar").length > 0) {
    chart.setAttribute("data-rendered", "yes");
  }
})();
""".strip()


def render(result: RunResult) -> str:
    sections = [
        _header(result),
        _waivers(result.waivers),
        _chart_section(_trend(result)),
        _findings(result.findings),
        _resolved(result.resolved),
    ]
    title = f"sakari-contract {result.command}: {result.verdict}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_policy()}">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(s for s in sections if s)
        + f"\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def _policy() -> str:
    """No fetch, frame, image or font from anywhere; only our own inline code."""
    script, style = _sha256(SCRIPT), _sha256(STYLE)
    return (
        f"default-src 'none'; script-src '{script}'; style-src '{style}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _header(result: RunResult) -> str:
    verdict = str(result.verdict)
    lines = [
        f"<h1>sakari-contract {escape(result.command)}: "
        f'<span class="verdict {escape(verdict)}">{escape(verdict)}</span></h1>',
        _meta(f"target {result.target} · started {result.started}"),
        _meta(counts_line(result)),
    ]
    lifecycle = lifecycle_line(result)
    if lifecycle:
        lines.append(_meta(lifecycle))
    if result.incomplete:
        lines.append(_meta("incomplete: part of the contract was not checked"))
    lines += [_meta(note) for note in result.notes]
    return "<header>\n" + "\n".join(lines) + "\n</header>"


def _meta(text: str) -> str:
    return f'<p class="meta">{escape(text)}</p>'


def _waivers(report: dict[str, list[dict[str, Any]]]) -> str:
    lines = waiver_lines(report)
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<h2>Waivers to review</h2>\n<ul id="waivers">{items}</ul>'


# -- chart -----------------------------------------------------------------------


def _trend(result: RunResult) -> list[dict[str, Any]]:
    """The history's trend, or this run alone when no history was kept."""
    if result.trend:
        return result.trend
    counts = result.severity_counts()
    return [{"run": 1, "started": result.started, **counts}]


def _chart_section(trend: list[dict[str, Any]]) -> str:
    legend = "".join(
        f'<span><svg class="swatch" width="10" height="10"><rect class="{name}" '
        f'width="10" height="10"/></svg> {name}</span>'
        for name in _SERIES
    )
    return f'<h2>Findings per run</h2>\n{chart(trend)}\n<p class="legend">{legend}</p>'


def chart(trend: list[dict[str, Any]]) -> str:
    """Stacked bars, one per run: breaking, warning and info findings."""
    plot_height = CHART_HEIGHT - _PLOT_TOP - _PLOT_BOTTOM
    highest = max((sum(run.get(s, 0) for s in _SERIES) for run in trend), default=0)
    scale = plot_height / max(highest, 1)
    step = (CHART_WIDTH - _PLOT_LEFT - 8) / max(len(trend), 1)
    parts = _axes(highest, plot_height)
    for index, run in enumerate(trend):
        x = _PLOT_LEFT + index * step + step * 0.15
        parts += _bars(run, x, step * 0.7, scale)
    parts += _labels(trend, step)
    return (
        f'<svg id="trend" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" '
        f'aria-label="findings per run, {len(trend)} runs">' + "".join(parts) + "</svg>"
    )


def _axes(highest: int, plot_height: float) -> list[str]:
    base = _PLOT_TOP + plot_height
    return [
        f'<line class="axis" x1="{_PLOT_LEFT}" y1="{base}" '
        f'x2="{CHART_WIDTH - 4}" y2="{base}"/>',
        f'<line class="axis" x1="{_PLOT_LEFT}" y1="{_PLOT_TOP}" '
        f'x2="{_PLOT_LEFT}" y2="{base}"/>',
        f'<text x="{_PLOT_LEFT - 6}" y="{_PLOT_TOP + 4}" text-anchor="end">'
        f"{highest}</text>",
        f'<text x="{_PLOT_LEFT - 6}" y="{base}" text-anchor="end">0</text>',
    ]


def _bars(run: dict[str, Any], x: float, width: float, scale: float) -> list[str]:
    y = float(CHART_HEIGHT - _PLOT_BOTTOM)
    bars = []
    for name in _SERIES:
        count = int(run.get(name, 0))
        if count <= 0:
            continue
        height = count * scale
        y -= height
        tip = f"run {run.get('run')} · {run.get('started')}: {count} {name}"
        bars.append(
            f'<rect class="bar {name}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{width:.1f}" height="{height:.1f}" data-count="{count}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    if not bars:
        # A run with no findings still gets its place on the time axis.
        tip = f"run {run.get('run')} · {run.get('started')}: no findings"
        bars.append(
            f'<rect class="bar empty" x="{x:.1f}" y="{y - 1:.1f}" '
            f'width="{width:.1f}" height="1" fill="#9aa0ad" data-count="0">'
            f"<title>{escape(tip)}</title></rect>"
        )
    return bars


def _labels(trend: list[dict[str, Any]], step: float) -> list[str]:
    """Dates under the first and the last run; more would overlap."""
    if not trend:
        return []
    picks = {0, len(trend) - 1}
    labels = []
    for index in sorted(picks):
        x = _PLOT_LEFT + index * step + step / 2
        day = str(trend[index].get("started", ""))[:10]
        labels.append(
            f'<text x="{x:.1f}" y="{CHART_HEIGHT - _PLOT_BOTTOM + 16}" '
            f'text-anchor="middle">{escape(day)}</text>'
        )
    return labels


# -- tables ----------------------------------------------------------------------

_HEADER = (
    "<tr><th>Severity</th><th>Kind</th><th>Path</th><th>Expected</th>"
    "<th>Observed</th><th>Status</th><th>First seen</th><th>Waiver</th></tr>"
)


def _findings(findings: list[Finding]) -> str:
    ordered = sorted(findings, key=importance)
    rows = "\n".join(finding_row(f) for f in ordered[:ROW_LIMIT])
    hidden = len(ordered) - ROW_LIMIT
    more = f"<p>{hidden} more finding(s) are in drift.json.</p>" if hidden > 0 else ""
    filters = (
        '<p class="filters"><label>Kind <select id="filter-kind">'
        '<option value="">all</option></select></label>'
        '<label>Status <select id="filter-status">'
        '<option value="">all</option></select></label>'
        '<span id="shown"></span></p>'
    )
    return (
        f"<h2>Findings</h2>\n{filters}\n"
        f'<table id="findings">\n<thead>{_HEADER}</thead>\n<tbody>\n{rows}\n'
        f"</tbody>\n</table>\n{more}"
    )


def finding_row(finding: Finding) -> str:
    status = finding.status or "untracked"
    observed = value_text(finding.observed)
    if finding.detail:
        observed += f" ({finding.detail})"
    path = finding.path + (f" ×{finding.count}" if finding.count > 1 else "")
    expected = "—" if finding.expected is None else value_text(finding.expected)
    cells = [
        _cell(str(finding.severity)),
        _cell(str(finding.kind), code=True),
        _cell(path, code=True),
        _cell(expected, code=True),
        _cell(observed, code=True),
        _cell(status),
        _cell(finding.first_seen or "—"),
        _cell(finding.waiver or "—"),
    ]
    attributes = (
        f'class="finding {escape(str(finding.severity))}" '
        f'data-kind="{escape(str(finding.kind))}" data-status="{escape(status)}" '
        f'title="{escape(finding.message)}"'
    )
    return f"<tr {attributes}>{''.join(cells)}</tr>"


def _cell(text: str, *, code: bool = False) -> str:
    shown = escape(shorten(text, CELL_LIMIT))
    return f"<td><code>{shown}</code></td>" if code else f"<td>{shown}</td>"


def _resolved(resolved: list[dict[str, Any]]) -> str:
    if not resolved:
        return ""
    rows = "".join(
        "<tr>"
        + _cell(str(item.get("kind", "")), code=True)
        + _cell(str(item.get("path", "")), code=True)
        + _cell(str(item.get("first_seen", "")))
        + _cell(str(item.get("last_seen", "")))
        + "</tr>"
        for item in resolved
    )
    header = "<tr><th>Kind</th><th>Path</th><th>First seen</th><th>Last seen</th></tr>"
    return (
        "<h2>Resolved since the previous run</h2>\n"
        f'<table id="resolved"><thead>{header}</thead><tbody>{rows}</tbody></table>'
    )
