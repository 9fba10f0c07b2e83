"""Policies: the policy files recorded runs used, their rules and waivers, and a fresh lint of each."""

import pandas as pd
import streamlit as st

from dashboards import data, queries
from dashboards.state import md, trail, trail_key, workspace
from governance.errors import UserError
from governance.policy.loader import read_policy


def in_use(t, key) -> pd.DataFrame:
    """One row per policy file and recorded hash, with its runs and the latest of them."""
    runs = data.runs(t, key)
    runs = data.with_details(t, key, runs[runs["kind"] == "pipeline"])
    runs = runs[runs["policy_source"].notna()]
    grouped = runs.groupby(["policy_source", "policy_sha256"], dropna=False, sort=False)
    return grouped.agg(policy=("policy", "first"), runs=("run_id", "count"), latest_run=("run_id", "first"),
                       last_used=("started", "max")).reset_index().sort_values("last_used", ascending=False,
                                                                                ignore_index=True)


def lint(source: str, recorded_sha: str | None) -> None:
    """Lint the file as it is now and say whether it is still the policy the runs used."""
    path = queries.policy_path(source, workspace().root)
    if path is None:
        st.warning(f"{md(source)} is not on this machine any more; the trail still holds its rules and hash.")
        return
    try:
        policy, problems = read_policy(path)
    except UserError as err:  # unreadable file
        policy, problems = None, [err]
    if problems:
        st.error(f"Lint: {len(problems)} problem(s) in {md(path)}")
        st.code("\n".join(str(p) for p in problems), language=None)
        return
    st.success(f"Lint: {md(path)} is valid · fail_on {md(policy.fail_on.value)} · {len(policy.rules)} rules · "
               f"{len(policy.waivers)} waiver(s)")
    if recorded_sha and policy.sha256 != recorded_sha:
        st.warning("The file changed since the runs used it: its hash differs from the one recorded in the trail. "
                   "The rules below are the recorded ones.")


st.title("Policies")
with trail() as t:
    key = trail_key(t)
    policies = in_use(t, key)
    if policies.empty:
        st.info("No pipeline run has recorded a policy yet.")
        st.stop()
    st.dataframe(policies, hide_index=True, width="stretch", column_config={
        "policy_source": "file", "policy_sha256": "sha256 (recorded)",
        "last_used": st.column_config.DatetimeColumn("last used", format="YYYY-MM-DD HH:mm")})
    pick = st.selectbox("Policy", policies.index,
                        format_func=lambda i: f"{policies.at[i, 'policy']} · {policies.at[i, 'policy_source']}")
    chosen = policies.loc[pick]
    recorded = queries.recorded_policy(t, chosen["latest_run"])

lint(chosen["policy_source"], chosen["policy_sha256"])
st.subheader("Rules (as recorded by the latest run using it)")
st.caption(f"fail_on {md(recorded.get('fail_on'))} · owner {md(recorded.get('owner'))} · "
           f"frameworks {md(', '.join(recorded.get('frameworks') or []) or 'none')}")
st.dataframe(queries.rules_frame(recorded.get("rules") or []), hide_index=True, width="stretch")
if recorded.get("waivers"):
    st.subheader("Waivers")
    st.dataframe(pd.DataFrame(recorded["waivers"]), hide_index=True, width="stretch")
