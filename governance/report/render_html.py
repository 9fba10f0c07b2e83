"""Self-contained HTML: one file with inline CSS and SVG, no script, font, image or link.

A Content-Security-Policy ``<meta>`` forbids every network request, so even a viewer that would
follow something we missed fetches nothing; all text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import re
from html import escape

from governance.report.blocks import (
    BarChart,
    Block,
    Bullets,
    Heading,
    IntervalChart,
    KeyValues,
    Paragraph,
    Table,
)
from governance.report.layout import report_blocks
from governance.report.svg import bar_chart_svg, interval_chart_svg

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ink:#1d2430; --muted:#5b6472; --line:#d8dde4; --ok:#1f7a3a; --bad:#b3261e; --note:#8a5a00;
        --unsure:#6b2fa0; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 16px; } h2 { font-size: 19px; margin-top: 36px;
     border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 24px; } h4 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); }
p.alert { border-left: 5px solid var(--bad); background: #fdeceb; padding: 8px 12px; font-weight: 600; }
p.ok { border-left: 5px solid var(--ok); background: #e9f6ed; padding: 8px 12px; }
p.note { border-left: 5px solid var(--note); background: #fff6e0; padding: 8px 12px; }
p.unsure { border-left: 5px solid var(--unsure); background: #f3ecfa; padding: 8px 12px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 14px; width: 100%; font-size: 13px; }
caption { text-align: left; color: var(--muted); font-style: italic; padding: 2px 0; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; white-space: pre-line; }
th { background: #eef1f5; } table.kv th { width: 22%; background: #f6f7f9; }
table.kv td { overflow-wrap: anywhere; }  /* signatures and hashes: one unbroken token */
td.st-failed, td.st-error { color: var(--bad); font-weight: 700; }
td.st-passed { color: var(--ok); } td.st-warning, td.st-waived { color: var(--note); font-weight: 600; }
td.st-inconclusive { color: var(--unsure); font-weight: 700; background: #f3ecfa; }
nav ul { columns: 2; font-size: 13px; list-style: none; padding-left: 0; } nav a { color: var(--ink); }
svg.chart { display: block; margin: 6px 0; font-size: 11px; }
svg .bar { fill: #4a78b5; } svg .bar-bad { fill: var(--bad); } svg .axis { stroke: #888; }
svg .limit { stroke: var(--bad); stroke-dasharray: 4 3; stroke-width: 1.5; } svg text { fill: var(--ink); }
svg .whisker, svg .cap { stroke: #4a78b5; stroke-width: 2; } svg .point { fill: #4a78b5; }
svg .fail .whisker, svg .fail .cap { stroke: var(--bad); } svg .fail .point, svg text.fail { fill: var(--bad); }
svg .inconclusive .whisker, svg .inconclusive .cap { stroke: var(--unsure); stroke-dasharray: 3 2; }
svg .inconclusive .point, svg text.inconclusive { fill: var(--unsure); }
svg text.chart-head { font-weight: 600; } svg text.tick { fill: var(--muted); font-size: 10px; } svg text.badge-inconclusive { fill: var(--unsure); font-weight: 700; }
svg.st-inconclusive { border-left: 5px solid var(--unsure); padding-left: 4px; }
p.chart-note { color: var(--muted); font-size: 12px; margin-top: 0; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-after: avoid; }
               table, svg { break-inside: avoid; } }
"""


def _slug(text: str) -> str:
    return "s-" + (re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x")


def _table(b: Table, css_class: str = "") -> str:
    rows = []
    for row in b.rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ""
            if i == b.status_column:  # "INCONCLUSIVE (blocks)" is classed by its first word
                cls = f' class="st-{escape((str(cell).split() or [""])[0].lower(), quote=True)}"'
            cells.append(f"<td{cls}>{escape(str(cell))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "" if not any(b.header) else "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in b.header) + "</tr></thead>"
    cap = f"<caption>{escape(b.caption)}</caption>" if b.caption else ""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}>{cap}{head}<tbody>{''.join(rows)}</tbody></table>"


def _block(b: Block) -> str:
    if isinstance(b, Heading):
        level = min(max(b.level, 1), 6)
        anchor = f' id="{_slug(b.text)}"' if level == 2 else ""
        return f"<h{level}{anchor}>{escape(b.text)}</h{level}>"
    if isinstance(b, Paragraph):
        cls = f' class="{b.tone}"' if b.tone else ""
        return f"<p{cls}>{escape(b.text)}</p>"
    if isinstance(b, KeyValues):
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in b.rows)
        return f'<table class="kv"><tbody>{rows}</tbody></table>'
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, (BarChart, IntervalChart)):
        notes = "".join(f'<p class="chart-note">{escape(n)}</p>' for n in b.notes)
        return (bar_chart_svg(b) if isinstance(b, BarChart) else interval_chart_svg(b)) + notes
    raise TypeError(f"unknown block {type(b).__name__}")


def render_blocks_html(blocks: list[Block], title: str) -> str:
    """A complete HTML page of ``blocks`` with a table of contents of the level-2 headings."""
    toc = "".join(f'<li><a href="#{_slug(b.text)}">{escape(b.text)}</a></li>'
                  for b in blocks if isinstance(b, Heading) and b.level == 2)
    body = []
    for b in blocks:
        # The contents go just before the first section, so the verdict stays the first thing read.
        if toc and isinstance(b, Heading) and b.level == 2:
            body.append(f"<nav><ul>{toc}</ul></nav>")
            toc = ""
        body.append(_block(b))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body><main>\n"
        + "\n".join(body) + "\n</main></body></html>\n"
    )


def render_html(doc: dict) -> str:
    """The compliance report of ``doc`` (a ``ReportDocument.to_dict()``) as one HTML file."""
    return render_blocks_html(report_blocks(doc), f"Compliance report: run {doc['run']['run_id']}")
