"""Policies: the policy files the recorded runs used, their rules, and a fresh lint of each file."""

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards.state import md, trail
from governance.policy.loader import lint_policy, load_policy

st.title("Policies")
with trail() as t:
    used: dict[str, dict] = {}
    for ev in t.events(kind="run.started"):
        policy = ev.payload.get("policy") or {}
        source = policy.get("source")
        if source:
            used.setdefault(source, {**policy, "runs": 0})["runs"] += 1

if not used:
    st.info("No pipeline run has recorded a policy yet.")
    st.stop()

st.dataframe(pd.DataFrame([{"file": k, "name": v.get("name"), "version": v.get("version"),
                            "sha256 (recorded)": v.get("sha256"), "runs": v["runs"]} for k, v in used.items()]),
             hide_index=True, width="stretch")

source = st.selectbox("Policy file", list(used))
path = Path(source)
if not path.is_file():
    st.warning(f"{md(source)} is no longer on disk; the trail still holds its hash.")
    st.stop()

problems = lint_policy(path)
if problems:
    st.error(f"{len(problems)} lint error(s)")
    for p in problems:
        st.text(str(p))
    st.stop()

policy = load_policy(path)
now = policy.sha256
recorded = used[source].get("sha256")
if recorded and now != recorded:
    st.warning("The file changed since it was last used: its hash differs from the one recorded.")
else:
    st.success(f"Lints clean · fail_on {policy.fail_on.value} · {len(policy.rules)} rules · {len(policy.waivers)} waivers")
st.dataframe(pd.DataFrame([{"id": r.id, "check": r.check, "stage": r.stage, "severity": r.severity.value,
                            "params": str(r.params), "maps_to": ", ".join(r.maps_to)} for r in policy.rules]),
             hide_index=True, width="stretch")
if policy.waivers:
    st.subheader("Waivers")
    st.dataframe(pd.DataFrame([w.model_dump(mode="json") | {"active": w.active()} for w in policy.waivers]),
                 hide_index=True, width="stretch")
