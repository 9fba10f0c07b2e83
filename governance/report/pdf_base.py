"""What every part of the PDF shares: the embedded font, text it can draw, tones and sizes.

Text is set in DejaVu Sans, embedded (subset to the characters used) from the TrueType files in
``governance/report/fonts/`` (DejaVu 2.37 as Debian packages it; license in ``fonts/LICENSE``).
It covers Latin, Greek, Cyrillic and the usual typographic and mathematical signs, so ``ε ≤ 8``
prints as written. A character the font has no glyph for (CJK ideographs, for example) is
written as its code point, ``[U+65E5]``: never dropped, never a ``?``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
TONE_COLOUR = {"alert": (179, 38, 30), "ok": (31, 122, 58), "note": (138, 90, 0), "unsure": (107, 47, 160)}
# Colour of a finding's status where it is written (tables, charts): the HTML report's.
STATUS_COLOUR = {"failed": TONE_COLOUR["alert"], "error": TONE_COLOUR["alert"], "passed": TONE_COLOUR["ok"],
                 "warning": TONE_COLOUR["note"], "waived": TONE_COLOUR["note"],
                 "inconclusive": TONE_COLOUR["unsure"]}
BAR_COLOUR = (74, 120, 181)
SMALL = 7  # table and chart text (pt)
KEEP_ROWS = 2  # a table's header never ends a page: it moves on with at least this many rows


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """Code points every embedded style has a glyph for."""
    from fontTools.ttLib import TTFont

    maps = [set(TTFont(FONT_DIR / name, lazy=True)["cmap"].getBestCmap()) for name in FONT_FILES.values()]
    return frozenset(set.intersection(*maps))


def drawable(text: object) -> str:
    """``text`` as the embedded font can draw it: NFC-composed, uncovered characters as ``[U+XXXX]``."""
    s = unicodedata.normalize("NFC", str(text)).replace("\t", " ")
    font = covered()
    if all(ord(ch) in font or ch == "\n" for ch in s):
        return s
    out: list[str] = []
    missing: list[str] = []
    for ch in s:
        if ord(ch) in font or ch == "\n":
            if missing:
                out.append("[" + " ".join(missing) + "]")
                missing = []
            out.append(ch)
        else:
            missing.append(f"U+{ord(ch):04X}")
    if missing:
        out.append("[" + " ".join(missing) + "]")
    return "".join(out)


def new_page_unless_at_top(pdf: FPDF, needed: float) -> None:
    """Start a page when ``needed`` mm do not fit on this one (a fresh page has to do)."""
    if pdf.will_page_break(needed) and pdf.get_y() > pdf.t_margin + 1:
        pdf.add_page()
