"""Reports: generate and download a run's compliance report (HTML, PDF, JSON, Markdown) and model card.

Reading only: the report cites the smallest signed checkpoint covering the run
(:func:`governance.report.trailinfo.citation`, the choice ``rai report`` makes). When none covers
it yet, the report describes the trail as the latest checkpoint signed it, rather than signing a
new checkpoint the way ``rai report`` does; and a model card's narrative sidecar is read if it
exists, never created.
"""

import streamlit as st

from dashboards import data
from dashboards.state import md, safe_filename, trail, trail_key, workspace
from governance.report import CARD_FORMATS, REPORT_FORMATS, build_report, render_card, render_report
from governance.report.modelcard import SIDECAR_NAME, build_model_card, load_narrative, seed_narrative
from governance.report.trailinfo import citation
from governance.report.verdict import UNTRUSTED

MIME = {"html": "text/html", "pdf": "application/pdf", "json": "application/json", "md": "text/markdown"}
TONE = {"passed": st.success, "blocked": st.error, "failed": st.error, "awaiting_approval": st.warning}


def generate(t, run_id: str, fmt: str, card_fmt: str) -> dict:
    """Build the report and the card once; render both in the chosen formats."""
    cp, upto, note = citation(t, run_id)
    if cp is None:
        return {"key": (run_id, fmt, card_fmt), "note": note, "report": None}
    doc = build_report(t, run_id, checkpoint=cp, upto_seq=upto).to_dict()
    sidecar = workspace().run_dir(run_id) / SIDECAR_NAME
    seed = seed_narrative(doc["metadata"])
    narrative = load_narrative(sidecar, seed, run_id) if sidecar.is_file() else seed
    card = build_model_card(doc, narrative)
    return {"key": (run_id, fmt, card_fmt), "note": note, "verdict": doc.get("verdict"),
            "report": render_report(doc, fmt), "card": render_card(card, card_fmt)}


st.title("Reports")
with trail() as t:
    ids = data.pipeline_run_ids(t, trail_key(t))
    if not ids:
        st.info("No pipeline runs recorded yet.")
        st.stop()
    run_id = st.selectbox("Run (newest first)", ids)
    c1, c2 = st.columns(2)
    fmt = c1.radio("Report format", REPORT_FORMATS, horizontal=True)
    card_fmt = c2.radio("Model card format", CARD_FORMATS, horizontal=True)
    if st.button("Generate report and model card", type="primary"):
        with st.spinner("Building the report from the trail…"):
            st.session_state["generated"] = generate(t, run_id, fmt, card_fmt)

made = st.session_state.get("generated")
if made and made["key"] == (run_id, fmt, card_fmt):
    if made["note"]:
        st.warning(made["note"])  # our own text: numbers only, no recorded strings
    if made["report"] is None:
        st.stop()
    name = safe_filename(run_id)
    c1, c2 = st.columns(2)
    c1.download_button(f"Download report ({fmt.upper()})", made["report"], file_name=f"report-{name}.{fmt}",
                       mime=MIME[fmt], on_click="ignore", type="primary")
    c2.download_button(f"Download model card ({card_fmt.upper()})", made["card"],
                       file_name=f"model-card-{name}.{card_fmt}", mime=MIME[card_fmt], on_click="ignore")
    verdict = made["verdict"] or {}
    st.caption("Verdict, as the report states it")
    untrusted = verdict.get("headline") == UNTRUSTED
    box = st.error if untrusted else TONE.get(verdict.get("decision"), st.info)
    box(md(verdict.get("headline") or "No verdict."))  # recorded rule ids and messages: escaped
    for line in verdict.get("explanation") or []:
        st.text(f"• {line}")
