"""Hostile text in reports and model cards: links, images and HTML must stay text.

Policies, specs, findings and model-card narratives end up in Markdown and HTML documents that
people open in viewers (GitHub, wikis, browsers). A value such as ``[click](javascript:...)``, an
image that loads a tracking URL, or raw ``<script>`` must render as the characters it is made of.
Markdown is rendered here with a CommonMark parser (markdown-it-py, with tables) and the HTML of
every document is parsed: neither may contain a link, an image, a script or an event handler.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from report.synthetic import PASSED_RUN, build_workspace

from governance.report import build_card, build_report, render_card, render_report
from governance.report.blocks import Bullets, Heading, KeyValues, Paragraph, Table
from governance.report.render_md import render_blocks_md
from governance.trail import open_trail

from .rai_case import assert_no_terminal_controls, deadline, run

HOSTILE = {
    "javascript-link": "[click me](javascript:alert(document.cookie))",
    "javascript-link-angle": "[x](<javascript:alert(1)>)",
    "tracking-image": "![pixel](https://tracker.example/p.gif)",
    "javascript-image": "![x](javascript:alert(1))",
    "reference-link": "[ref][evil]",
    "link-definition": "[evil]: javascript:alert(1)",
    "definition-then-use": "[evil]\n\n[evil]: javascript:alert(1)",
    "autolink": "<javascript:alert(1)>",
    "autolink-https": "<https://evil.example/>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "script": "<script>alert(1)</script>",
    "anchor": '<a href="javascript:alert(1)">x</a>',
    "escaped-bracket": "[x\\](javascript:alert(1))",
    "escaped-backslash": "[a\\\\](javascript:alert(1))",
    "nested-brackets": "[[x]](javascript:alert(1))",
    "control-characters": "\x1b]8;;javascript:alert(1)\x07x\x1b]8;;\x07",
}
FORBIDDEN_TAGS = {"a", "img", "script", "iframe", "object", "embed", "link", "style", "svg", "form", "input"}


class _Elements(HTMLParser):
    """Start tags and their attributes, outside the document's own inline CSS/SVG (checked by name)."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def _active(html: str, allowed: frozenset = frozenset()) -> list[str]:
    """Tags that fetch, link or run something, and attributes that do (``on*``, ``href``, ``src``).

    The HTML documents' own table of contents (``<a href="#s-1-...">``), inline CSS and SVG
    charts are ``allowed``; a link that leaves the page is not.
    """
    parser = _Elements()
    parser.feed(html)
    out = []
    for tag, attrs in parser.found:
        own_anchor = tag == "a" and "a" in allowed and all(
            name == "href" and (value or "").startswith("#") for name, value in attrs)
        if tag in FORBIDDEN_TAGS - allowed or (tag == "a" and not own_anchor):
            out.append(tag)
        for name, value in attrs:
            if own_anchor:
                continue
            if name.startswith("on") or name in ("href", "src", "srcset", "action", "formaction") \
                    or "javascript:" in (value or "").lower():
                out.append(f"{tag}[{name}={value}]")
    return out


OWN_HTML = frozenset({"svg", "style", "a"})  # what rai's own HTML documents contain


def _markdown_html(md: str) -> str:
    """The HTML a permissive viewer makes of ``md``: markdown-it's own javascript: filter is off."""
    parser = MarkdownIt("commonmark").enable("table")
    parser.validateLink = lambda url: True
    return parser.render(md)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_markdown_blocks_keep_hostile_text_as_text(value):
    blocks = [Heading(2, value), Paragraph(value), Paragraph(value, "alert"), Table(["h", value], [[value, value]],
              caption=value), KeyValues([("owner", value)]), Bullets([value, f"see {value}"])]
    md = render_blocks_md(blocks)
    html = _markdown_html(md)
    assert _active(html) == [], (md, html)
    assert "\x1b" not in md and "\x07" not in md


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("hostile-links") / "ws")


@pytest.fixture(scope="module")
def hostile_doc(workspace) -> dict:
    """The passed run's report with every hostile value planted where people and data write text."""
    with open_trail(workspace, create=False) as trail:
        doc = build_report(trail, PASSED_RUN, generated_at="2025-03-02T10:00:00Z").to_dict()
    text = " ".join(HOSTILE.values())
    doc["metadata"] = {"owner": text, "intended_use": text, "limitations": list(HOSTILE.values())}
    for gate in doc["gates"]:
        for finding in gate["findings"]:
            finding["message"] = text
    for rule in doc["policy"].get("rules") or []:
        rule["description"] = text
    return doc


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_renders_hostile_text_inert(hostile_doc, fmt):
    with deadline():
        rendered = render_report(hostile_doc, fmt)
    html = _markdown_html(rendered) if fmt == "md" else rendered
    assert _active(html, allowed=OWN_HTML if fmt == "html" else frozenset()) == []
    assert "click me" in html  # the text is there, as text


def _narrative(path: Path) -> Path:
    # Control characters are refused by the YAML reader itself; every other value goes in.
    values = [v for k, v in HOSTILE.items() if k != "control-characters"]
    text, listing = " ".join(values), json.dumps(values)
    path.write_text(
        f"model_details: {{description: {json.dumps(text)}, owner: {json.dumps(HOSTILE['javascript-link'])}, "
        f"contact: {json.dumps(HOSTILE['autolink'])}, license: {json.dumps(HOSTILE['tracking-image'])}}}\n"
        f"intended_use: {{primary_uses: {json.dumps(text)}, out_of_scope_uses: {listing}}}\n"
        f"factors: {json.dumps(text)}\nethical_considerations: {listing}\ncaveats_and_recommendations: {listing}\n",
        encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_model_card_renders_a_hostile_narrative_inert(workspace, tmp_path, fmt):
    narrative = _narrative(tmp_path / "card.yaml")
    with open_trail(workspace, create=False) as trail, deadline():
        card = build_card(trail, PASSED_RUN, narrative)
        rendered = render_card(card, fmt)
    html = _markdown_html(rendered) if fmt == "md" else rendered
    assert _active(html, allowed=OWN_HTML if fmt == "html" else frozenset()) == []
    assert "click me" in html


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_model_card_on_stdout_shows_direction_overrides_as_escapes(workspace, tmp_path, rai, fmt):
    narrative = tmp_path / "card.yaml"
    narrative.write_text('model_details: {owner: "Credit \\u202eTeam\\u2066 evil", description: "line\\u2028sep"}\n',
                         encoding="utf-8")
    code, out, err = run(rai, "model-card", PASSED_RUN, "--format", fmt, "--narrative", str(narrative), "--workspace",
                         str(workspace))
    assert code == 0, err
    assert_no_terminal_controls(out)
    assert not any(c in out for c in "\u2066\u2028")
    if fmt == "json":  # the same values, written as JSON escapes
        assert json.loads(out)["model_details"]["owner"] == "Credit \u202eTeam\u2066 evil"
    else:
        assert "Credit \\u202eTeam\\u2066 evil" in out
