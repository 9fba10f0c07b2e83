"""Approvals: runs waiting for a decision, who may decide what, and recording a decision.

For each run: the policy's roles and members, who approved, rejected and signed, whether the
duties stayed separate, and what its registry entries' revocations say. Recording goes through
:func:`governance.trail.approvals.decide`, the function behind ``rai approve``: the same refusals,
the same signing (the person's key on this machine), the same revocation of a rejected deployed
run. The actor is the signed-in user mapped to an actor name (``[actors]`` in the secrets) when
sign-in is configured, otherwise the name typed here.
"""

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.auth import signed_in_actor
from dashboards.state import md, trail, trail_key
from governance.errors import UserError
from governance.provenance import current_actor
from governance.trail.approvals import decide, read_decisions
from governance.trail.revocations import revocations

STATE_ICON = {"approved": "✅", "pending": "⏳", "rejected": "⛔"}


def pending(t, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs whose latest decision is ``awaiting_approval``: still waiting, and rejected (final)."""
    waiting, rejected = [], []
    for run in runs[runs["decision"] == "awaiting_approval"].itertuples():
        decisions = read_decisions(t, run.run_id)
        if decisions is None:
            continue
        state = decisions.assessment()
        if state.state == "rejected":
            r = state.rejections[0]
            rejected.append({"run_id": run.run_id, "model": run.model, "rejected_by": f"{r['actor']} ({r['role']})",
                             "reason": r["why"], "at": r["time"], "withdraw": "only by the person who rejected"})
            continue
        resume = (f"rai.start_run(..., resume={run.run_id!r})" if decisions.kind == "api"
                  else f"rai run --resume {run.run_id}")
        waiting.append({"run_id": run.run_id, "model": run.model, "waiting_since": run.finished,
                        "waiting_for": "; ".join(state.missing()) or "nothing: ready to resume",
                        "resume": resume if state.state == "approved" else ""})
    return (pd.DataFrame(waiting, columns=["run_id", "model", "waiting_since", "waiting_for", "resume"]),
            pd.DataFrame(rejected, columns=["run_id", "model", "rejected_by", "reason", "at", "withdraw"]))


def roles_table(run) -> pd.DataFrame:
    """One row per role: members, approvals needed and given, who signed, who rejected."""
    state = run.assessment()
    defined = run.requirement.roles
    rows = []
    for role in sorted(set(state.roles) | set(defined or {})):
        s = state.roles.get(role) or {}
        members = (defined or {}).get(role, {}).get("members")
        rows.append({"role": role, "members": ", ".join(members) if members is not None else "anyone (no roles defined)",
                     "required": "yes" if role in state.roles else "no",
                     "approvals": f"{len(s.get('approved_by', []))} of {s['needed']}" if s else "",
                     "approved_by": ", ".join(s.get("approved_by", [])), "signed_by": ", ".join(s.get("signed_by", [])),
                     "rejected_by": ", ".join(s.get("rejected_by", []))})
    return pd.DataFrame(rows)


def separation_lines(run) -> list[str]:
    """The separation-of-duties settings and every decision they kept from counting."""
    req, state = run.requirement, run.assessment()
    lines = [f"One role per person in a run: {'on' if req.one_role_per_person else 'off'}; the person who started the "
             f"run ({run.starter}) may approve it: {'yes' if req.starter_may_approve else 'no'}."]
    lines += [f"Not counted: #{i['seq']} {i['actor']} as {i['role']}: {i['why']}" for i in state.ignored]
    lines += [f"Signature INVALID: #{i['seq']} {i['actor']} as {i['role']}: {i['why']}" for i in state.invalid]
    return lines


def record_form(t, run) -> None:
    """The decision form for ``run``; on submit, one ``approval.recorded`` event (or a refusal)."""
    state = run.assessment()
    roles = list(run.requirement.roles or run.requirement.required) or ["risk-officer"]
    decisions = ["withdraw"] if state.state == "rejected" else ["approve", "reject", "withdraw"]
    identity = signed_in_actor()
    with st.form("approve", clear_on_submit=True):
        role = st.selectbox("Role", roles)
        decision = st.radio("Decision", decisions, horizontal=True)
        comment = st.text_area("Comment (recorded with the decision; the reason, to withdraw)")
        if identity is None:
            actor = st.text_input("Your name (recorded as the actor)", value=current_actor())
        else:
            actor = identity
            st.caption(f"Recorded as {md(identity)} (signed in)")
        submitted = st.form_submit_button("Record decision", type="primary")
    if not submitted:
        return
    if not actor.strip():
        st.error("Name the person deciding: the trail records who approved.")
        return
    try:
        done = decide(t, run.run_id, role, decision, actor=actor.strip(), comment=comment.strip() or None)
    except UserError as err:
        st.error(md(err))
        return
    ev = done.event
    signed = "signed" if ev.payload.get("signature") else "unsigned"
    revoked = "".join(f" Revoked {e.payload['name']} v{e.payload['version']} (#{e.seq})." for e in done.revoked)
    st.session_state["approval_recorded"] = md(
        f"Recorded as trail event #{ev.seq} ({signed}): {ev.payload['role']} {decision}s run {run.run_id}, "
        f"actor {ev.actor}.{revoked} The run is now {done.run.assessment().state}.")
    st.rerun()


def show_run(t, run_id: str) -> None:
    run = read_decisions(t, run_id)
    if run is None:
        st.text("This run recorded no start.")
        return
    state = run.assessment()
    st.subheader(f"{STATE_ICON.get(state.state, '')} Run {md(run_id)}: {state.state}")
    if state.state == "rejected":
        r = state.rejections[0]
        st.error(md(f"Rejected by {r['actor']} ({r['role']}, #{r['seq']}): final unless {r['actor']} withdraws "
                    "the rejection with a reason."))
    st.dataframe(roles_table(run), hide_index=True, width="stretch")
    for line in separation_lines(run):
        st.text(line)
    for e in run.revoked:
        st.error(md(f"Revoked: {e.payload.get('name')} v{e.payload.get('version')} at {e.time} by {e.actor}: "
                    f"{e.payload.get('reason')} (#{e.seq})"), icon="🚫")
    if not run.revoked:
        record_form(t, run)
    st.subheader("Decisions recorded for this run")
    if run.decisions:
        st.dataframe(pd.DataFrame([{k: d[k] for k in ("seq", "time", "role", "decision", "actor", "comment",
                                                       "signature", "key_id")} for d in run.decisions]),
                     hide_index=True, width="stretch")
    else:
        st.text("None yet.")


st.title("Approvals")
if "approval_recorded" in st.session_state:
    st.success(st.session_state.pop("approval_recorded"), icon="✍️")
with trail() as t:
    key = trail_key(t)
    runs = data.runs(t, key)
    runs = data.with_details(t, key, runs[runs["kind"] == "pipeline"])  # rai run and rai.start_run runs
    waiting, rejected = pending(t, runs)
    if waiting.empty:
        st.success("No run is waiting for an approval.")
    else:
        st.dataframe(waiting, hide_index=True, width="stretch")
    if not rejected.empty:
        st.caption("Rejected: waiting for nothing (final unless the rejection is withdrawn)")
        st.dataframe(rejected, hide_index=True, width="stretch")
    if runs.empty:
        st.stop()
    first = list(waiting["run_id"])
    ids = first + [r for r in runs["run_id"] if r not in set(first)]
    run_id = st.selectbox("Run to decide on (waiting runs first)", ids)
    show_run(t, run_id)
    revoked = revocations(t)
    if revoked:
        st.subheader("Revoked registry entries")
        st.dataframe(pd.DataFrame([{"model": e.payload.get("name"), "version": e.payload.get("version"),
                                    "revoked_at": e.time, "by": e.actor, "reason": e.payload.get("reason"),
                                    "signed": "yes" if e.payload.get("signature") else "workspace key only",
                                    "seq": e.seq} for e in revoked]), hide_index=True, width="stretch")
