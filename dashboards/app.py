"""Entry point: ``rai dashboard`` runs ``streamlit run dashboards/app.py`` on a workspace."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# Streamlit runs this file as a script; make the project importable when run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards.auth import require_login  # noqa: E402
from dashboards.state import md, workspace  # noqa: E402

st.set_page_config(page_title="rai audit dashboard", page_icon=":material/shield:", layout="wide")
require_login()

# Not "pages/": Streamlit would also serve a pages/ directory's scripts on their own, without this
# entry script and so without its sign-in check.
VIEWS = Path(__file__).parent / "views"
# Material icons ship with Streamlit, so they render without an emoji font or a network request.
navigation = st.navigation([
    st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(VIEWS / "run.py", title="Run", icon=":material/troubleshoot:"),
    st.Page(VIEWS / "trail.py", title="Audit trail", icon=":material/link:"),
    st.Page(VIEWS / "policies.py", title="Policies", icon=":material/policy:"),
    st.Page(VIEWS / "models.py", title="Models", icon=":material/inventory_2:"),
    st.Page(VIEWS / "monitoring.py", title="Monitoring", icon=":material/monitoring:"),
    st.Page(VIEWS / "reports.py", title="Reports", icon=":material/description:"),
    st.Page(VIEWS / "approvals.py", title="Approvals", icon=":material/approval:"),
])
st.sidebar.caption(f"Workspace: {md(workspace().root)}")
st.sidebar.caption("Read-only view of the audit trail; the only write is recording an approval.")
navigation.run()
