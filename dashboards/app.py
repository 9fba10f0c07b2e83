"""Entry point: ``rai dashboard`` runs ``streamlit run dashboards/app.py`` on a workspace."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# Streamlit runs this file as a script; make the project importable when run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards.auth import require_login  # noqa: E402
from dashboards.state import md, workspace  # noqa: E402

st.set_page_config(page_title="rai audit dashboard", page_icon="🛡️", layout="wide")
require_login()

PAGES = Path(__file__).parent / "pages"
navigation = st.navigation([
    st.Page(PAGES / "overview.py", title="Overview", icon="🏠", default=True),
    st.Page(PAGES / "run.py", title="Run", icon="🔎"),
    st.Page(PAGES / "trail.py", title="Audit trail", icon="🔗"),
    st.Page(PAGES / "policies.py", title="Policies", icon="📜"),
    st.Page(PAGES / "models.py", title="Models", icon="📦"),
    st.Page(PAGES / "reports.py", title="Reports", icon="📄"),
    st.Page(PAGES / "approvals.py", title="Approvals", icon="✍️"),
])
st.sidebar.caption(f"Workspace: {md(workspace().root)}")
st.sidebar.caption("Read-only view of the audit trail; the only write is recording an approval.")
navigation.run()
