"""Compliance reports and model cards, generated from the audit trail.

Reading only the trail, its evidence blobs and the workspace (never TensorFlow or
:mod:`lifecycle`), this package builds one :class:`ReportDocument` per run and renders it::

    from governance.report import build_report, render_report

    doc = build_report(trail, run_id)                  # -> ReportDocument
    html = render_report(doc, "html")                  # str; "pdf" gives bytes

    card = build_card(trail, run_id, narrative_path)   # model card dict (Mitchell et al. 2019)
    text = render_card(card, "md")

    verify_report(trail, json.load(...))               # -> ReportVerification

Modules: ``source`` (reading a run), ``sections``/``verdict``/``mapping``/``trailinfo`` (the
document's parts), ``frameworks`` (EU AI Act, NIST AI RMF, ISO/IEC 42001 tables), ``layout*``
and ``blocks`` (format-neutral layout), ``render_*`` (formats), ``modelcard``/``card_layout``,
``verify``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.report.document import SCHEMA_VERSION, ReportDocument, build_report
    from governance.report.verify import ReportVerification, verify_report

REPORT_FORMATS = ("html", "pdf", "md", "json")
CARD_FORMATS = ("md", "json", "html")
# Imported when first used (PEP 562): the terminal tables of `rai audit` read group order from
# governance.report.readable without loading the trail and its cryptography.
_LAZY = {"SCHEMA_VERSION": "document", "ReportDocument": "document", "build_report": "document",
         "ReportVerification": "verify", "verify_report": "verify"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"governance.report.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'governance.report' has no attribute {name!r}")


def render_report(doc: ReportDocument | dict[str, Any], fmt: str) -> str | bytes:
    """``doc`` in format ``fmt`` (one of :data:`REPORT_FORMATS`); PDF is bytes, the rest text."""
    data = doc if isinstance(doc, dict) else doc.to_dict()
    if fmt == "json":
        from governance.report.render_json import render_json

        return render_json(data)
    if fmt == "md":
        from governance.report.render_md import render_md

        return render_md(data)
    if fmt == "html":
        from governance.report.render_html import render_html

        return render_html(data)
    if fmt == "pdf":
        from governance.report.render_pdf import render_pdf

        return render_pdf(data)
    raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(REPORT_FORMATS)}")


def build_card(trail: Any, run_id: str, narrative_path: Path, *, generated_at: str | None = None) -> dict[str, Any]:
    """The model card of ``run_id``, with narrative from ``narrative_path`` (created if absent)."""
    from governance.report.document import build_report
    from governance.report.modelcard import build_model_card, load_narrative, seed_narrative

    doc = build_report(trail, run_id, generated_at=generated_at).to_dict()
    narrative = load_narrative(Path(narrative_path), seed_narrative(doc["metadata"]), run_id)
    return build_model_card(doc, narrative)


def render_card(card: dict[str, Any], fmt: str) -> str:
    """A model card in format ``fmt`` (one of :data:`CARD_FORMATS`)."""
    if fmt == "json":
        return json.dumps(card, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    from governance.report.card_layout import card_blocks

    blocks = card_blocks(card)
    if fmt == "md":
        from governance.report.render_md import render_blocks_md

        return render_blocks_md(blocks)
    if fmt == "html":
        from governance.report.render_html import render_blocks_html

        return render_blocks_html(blocks, f"Model card: {card['model_details'].get('name') or card['run_id']}")
    raise ValueError(f"unknown model-card format {fmt!r}; choose one of {', '.join(CARD_FORMATS)}")


__all__ = [
    "CARD_FORMATS", "REPORT_FORMATS", "SCHEMA_VERSION", "ReportDocument", "ReportVerification",
    "build_card", "build_report", "render_card", "render_report", "verify_report",
]
