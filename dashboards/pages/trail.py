"""Audit trail: paged, filterable event log; chain and checkpoint status; inclusion proofs."""

import json

import streamlit as st

from dashboards import queries
from dashboards.state import head_key, integrity_badge, trail, verification, workspace

PAGE_SIZE = 50

st.title("Audit trail")
with trail() as t:
    integrity_badge(verification(str(workspace().root), head_key(t)))
    c1, c2, c3 = st.columns([2, 2, 1])
    run_filter = c1.text_input("Run id", "").strip() or None
    kind_filter = c2.text_input("Kind (e.g. gate.decided)", "").strip() or None
    total = t.count(run_id=run_filter, kind=kind_filter)
    pages = max(1, -(-total // PAGE_SIZE))
    page = c3.number_input("Page", min_value=1, max_value=pages, value=pages)
    frame, total = queries.events_page(t, int(page), PAGE_SIZE, run_filter, kind_filter)
    st.caption(f"{total:,} events · page {page} of {pages}")
    st.dataframe(frame, hide_index=True, width="stretch")

    st.subheader("Inclusion proof")
    seq = st.number_input("Event seq", min_value=1, max_value=max(1, t.count()), value=1)
    if st.button("Prove inclusion"):
        try:
            proof = t.prove(int(seq))
        except Exception as err:  # no checkpoint yet, or seq beyond it
            st.warning(f"No proof: {err}")
        else:
            st.json(proof.to_dict() if hasattr(proof, "to_dict") else proof)
            st.download_button("Download proof", json.dumps(proof.to_dict() if hasattr(proof, "to_dict") else proof,
                                                            indent=2), file_name=f"proof-{seq}.json")
