"""HTML, PDF and Markdown renderings: self-contained, complete, and the verdict first."""

from __future__ import annotations

import html
import io
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from governance.report import render_report
from governance.report.render_pdf import drawable

from .synthetic import BLOCKED_RUN, PASSED_RUN

EXTERNAL = re.compile(r"^\s*(https?:|//|ftp:)", re.I)


class _ExternalRefs(HTMLParser):
    """Every way an HTML page could make the browser fetch something, collected."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "srcset", "data", "action", "poster", "xlink:href", "background"):
            value = attrs.get(name)
            if value and (EXTERNAL.match(value) or (name == "src")):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "script":
            self.found.append("<script>")
        if tag == "link":
            self.found.append(f"<link {attrs}>")
        if tag in ("iframe", "object", "embed", "img", "video", "audio"):
            self.found.append(f"<{tag}>")
        if tag == "style":
            self._in_style = True
        if attrs.get("style"):
            self.styles.append(attrs["style"])

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


_PDF_TEXT: dict[str, str] = {}


def _pdf_text(doc) -> str:
    """Extracted text of the PDF of ``doc`` (rendered once per run: fpdf2 takes about a second)."""
    run = doc["run"]["run_id"]
    if run not in _PDF_TEXT:
        reader = PdfReader(io.BytesIO(render_report(doc, "pdf")))
        _PDF_TEXT[run] = "\n".join(page.extract_text() for page in reader.pages)
    return _PDF_TEXT[run]


@pytest.mark.parametrize("run", [PASSED_RUN, BLOCKED_RUN])
def test_html_makes_no_external_request(reports, run):
    page = render_report(reports[run], "html")
    parser = _ExternalRefs()
    parser.feed(page)
    assert parser.found == []
    for css in parser.styles:
        assert not re.search(r"@import|url\s*\(\s*['\"]?\s*(https?:|//)", css, re.I), css
    # Belt and braces: the page forbids every fetch itself.
    assert "default-src 'none'" in page
    assert not re.search(r"https?://", page)


def test_html_is_one_small_file_with_inline_charts(reports):
    page = render_report(reports[PASSED_RUN], "html")
    assert len(page.encode()) < 2_000_000
    assert page.count("<svg") >= 4  # per-group bars for three fairness rules and the privacy budget
    assert "<style>" in page and "<title>Compliance report: run " + PASSED_RUN in page


def test_html_escapes_text_from_the_trail(reports):
    doc = {**reports[PASSED_RUN], "metadata": {"owner": "<script>alert(1)</script>"}}
    page = render_report(doc, "html")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pdf_text_has_run_id_policy_hash_rule_ids_and_epsilon(reports):
    doc = reports[PASSED_RUN]
    text = _pdf_text(doc)
    assert PASSED_RUN in text
    assert doc["policy"]["sha256"] in text
    for rule in doc["policy"]["rules"]:
        assert rule["id"] in text, rule["id"]
    epsilon = doc["privacy"]["record"]["epsilon"]
    assert f"{epsilon:.6g}" in text  # 1.18192 in the privacy table
    assert doc["trail"]["checkpoint"]["root_hash"] in text


def test_pdf_keeps_text_outside_latin1(reports):
    doc = reports[PASSED_RUN]
    assert "ε" in str(doc["metadata"]) and "—" in str(doc["metadata"])
    text = " ".join(_pdf_text(doc).split())  # table cells wrap where they must
    assert "Zoë Müller" in text
    assert "Privacy guarantee ε ≈ 1.18 covers training rows only — not the test set." in text
    assert "epsilon ~" not in text and "?" not in text


@pytest.mark.parametrize("given,expected", [
    ("ε ≤ 8 — δ ≥ 1e-5", "ε ≤ 8 — δ ≥ 1e-5"),
    ("Zoë Müller", "Zoë Müller"),
    ("Łódź, Привет, Ελλάδα", "Łódź, Привет, Ελλάδα"),
    ("e\u0301", "é"),  # composed, so the accent sits on its letter
    ("日本 ok", "[U+65E5 U+672C] ok"),  # no glyph in DejaVu Sans: the code points, never '?'
    ("“quoted” … ✓", "“quoted” … ✓"),
])
def test_pdf_text_is_drawn_as_written(given, expected):
    assert drawable(given) == expected


def _first_text(fmt: str, doc) -> str:
    if fmt == "pdf":
        return _pdf_text(doc)
    text = render_report(doc, fmt)
    return html.unescape(re.sub(r"<[^>]+>", " ", text)) if fmt == "html" else text


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_blocked_report_explains_the_block_first(reports, fmt):
    doc = reports[BLOCKED_RUN]
    text = _first_text(fmt, doc)
    verdict = text.find("BLOCKED at the evaluate gate")
    why = text.find("Rule 'equal-opportunity-sex'")
    assert 0 <= verdict < why
    # ...in plain words, with the numbers, before any section of the report.
    assert verdict < text.find("1. Run identity")
    explanation = text[why:text.find("1. Run identity")]
    assert "failed" in explanation and "0.2547" in explanation and "0.15" in explanation
    assert "no model was registered" in " ".join(explanation.split())


def test_passed_report_says_so_first(reports):
    text = render_report(reports[PASSED_RUN], "md")
    assert text.splitlines()[2].startswith("> PASSED")
    assert "Variant dynamic_range was not deployed" in text
