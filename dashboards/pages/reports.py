"""Reports: generate and download the compliance report (HTML, PDF, JSON, Markdown) and model card."""

import streamlit as st

from dashboards import queries
from dashboards.state import trail, workspace
from governance.report import build_card, build_report, render_card, render_report

MIME = {"html": "text/html", "pdf": "application/pdf", "json": "application/json", "md": "text/markdown"}

st.title("Reports")
with trail() as t:
    runs = queries.run_summaries(t)
    runs = runs[runs["kind"] == "pipeline"]
    if runs.empty:
        st.info("No pipeline runs recorded yet.")
        st.stop()
    run_id = st.selectbox("Run", list(runs["run_id"]))
    c1, c2 = st.columns(2)
    fmt = c1.radio("Report format", ["html", "pdf", "json", "md"], horizontal=True)
    card_fmt = c2.radio("Model card format", ["md", "json", "html"], horizontal=True)
    if c1.button("Generate report"):
        with st.spinner("Rendering…"):
            body = render_report(build_report(t, run_id), fmt)
        c1.download_button(f"Download report.{fmt}", body, file_name=f"report-{run_id}.{fmt}", mime=MIME[fmt])
    if c2.button("Generate model card"):
        card = build_card(t, run_id, workspace().run_dir(run_id) / "model-card.yaml")
        body = render_card(card, card_fmt)
        c2.download_button(f"Download model-card.{card_fmt}", body, file_name=f"model-card-{run_id}.{card_fmt}",
                           mime=MIME[card_fmt])
