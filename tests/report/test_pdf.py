"""The PDF as a reader sees it: an embedded Unicode font, pages rendered to PNG by poppler's
``pdftoppm`` and looked at, text extracted with pypdf, and tables that never leave their header
alone at a page foot.

The PNGs are kept under ``tests/artifacts/`` (ignored by git) for a person to look at. Without
``pdftoppm`` (Debian's ``poppler-utils``) the rendering tests skip, unless ``CI`` is set, when
they fail instead.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from governance.report import build_report, render_report
from governance.report.blocks import Heading, Paragraph, Table
from governance.report.render_pdf import render_blocks_pdf
from governance.trail import open_trail

from .conftest import GENERATED_AT
from .synthetic import BLOCKED_RUN, PASSED_RUN, tamper

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
GREEN, RED = (31, 122, 58), (179, 38, 30)  # the ok and alert tones of render_pdf


def _pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if found is None:
        reason = "pdftoppm not found; install Debian's 'poppler-utils' package"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def _png(pdf: bytes, name: str, page: int = 1, dpi: int = 60) -> Image.Image:
    """Page ``page`` of ``pdf`` rendered by pdftoppm, saved as ``tests/artifacts/NAME.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run([_pdftoppm(), "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(source), str(ARTIFACTS / name)], check=True, timeout=60, capture_output=True)
    return Image.open(ARTIFACTS / f"{name}.png").convert("RGB")


def _first_tone(image: Image.Image) -> tuple[int, int, int] | None:
    """The first of the two tone colours met reading the page from the top (anti-aliasing allowed)."""
    pixels = image.load()
    for y in range(image.height):
        for x in range(image.width):
            for tone in (GREEN, RED):
                if all(abs(a - b) <= 24 for a, b in zip(pixels[x, y], tone, strict=True)):
                    return tone
    return None


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_pdf_embeds_dejavu_sans_and_no_core_font(reports):
    reader = PdfReader(io.BytesIO(render_report(reports[PASSED_RUN], "pdf")))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            fonts[str(font["/BaseFont"])] = descriptor is not None and "/FontFile2" in descriptor.get_object()
    assert fonts and all("DejaVuSans" in name for name in fonts), fonts
    assert all(fonts.values()), "every font is embedded"
    assert not any("Helvetica" in name for name in fonts)


def test_pdf_text_is_unicode_as_written(reports):
    text = "\n".join(_pages(render_report(reports[PASSED_RUN], "pdf")))
    flat = " ".join(text.split())
    assert "ε" in text and "epsilon ~" not in text  # the metadata keeps its letters
    assert "Privacy guarantee ε ≈ 1.18 covers training rows only — not the test set." in flat
    assert "Credit Analytics (Zoë Müller)" in flat
    assert "?" not in text  # nothing was replaced by a question mark
    assert "≥ 0.8" in flat and "≤ 0.15" in flat


def test_pdf_first_page_renders_with_the_verdict_in_its_tone(reports):
    passed = _png(render_report(reports[PASSED_RUN], "pdf"), "report-passed")
    assert passed.size == (497, 702)  # A4 (210 x 297 mm) at 60 dpi
    assert _first_tone(passed) == GREEN
    blocked = _png(render_report(reports[BLOCKED_RUN], "pdf"), "report-blocked")
    assert _first_tone(blocked) == RED
    # Ink on the page: text, tables and the verdict, not a blank render.
    dark = sum(1 for p in blocked.getdata() if sum(p) < 300)
    assert dark > 2_000


def test_pdf_of_a_tampered_trail_opens_in_red(workspace):
    tamper(workspace, PASSED_RUN, "approval.recorded", "Reviewed", "Ignored")
    with open_trail(workspace, create=False) as trail:
        doc = build_report(trail, PASSED_RUN, generated_at=GENERATED_AT).to_dict()
    pdf = render_report(doc, "pdf")
    assert _first_tone(_png(pdf, "report-tampered")) == RED  # the warning, not the green PASSED
    first = " ".join(_pages(pdf)[0].split())
    assert first.index("TRAIL NOT VERIFIED") < first.index("As recorded (unverified): PASSED")


def _stacked_tables(count: int) -> list:
    """Tables after fillers of growing length, so that some table starts at every height of a page."""
    blocks: list = [Heading(1, "Orphans")]
    for i in range(count):
        blocks += [Paragraph(f"filler {i} " + "words " * (i % 7) * 12),
                   Table([f"Header{i}", "Value"], [[f"row{i}.{k}", str(k)] for k in range(5)], caption=f"Caption{i}")]
    return blocks


def test_a_table_header_never_ends_a_page():
    pages = _pages(render_blocks_pdf(_stacked_tables(60), "orphans"))
    assert len(pages) > 5
    starts = set()
    for i in range(60):
        page = next(n for n, text in enumerate(pages) if f"Header{i}" in text)
        assert f"Caption{i}" in pages[page] and f"row{i}.0" in pages[page] and f"row{i}.1" in pages[page], (i, page)
        starts.add(page)
    assert len(starts) > 5  # the tables really are spread over the pages


def test_a_header_repeats_on_the_next_page_of_a_long_table():
    pages = _pages(render_blocks_pdf([Table(["Long", "Value"], [[f"r{k}", str(k)] for k in range(120)])], "long"))
    assert len(pages) >= 2 and all("Long" in text for text in pages)
