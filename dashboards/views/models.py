"""Models: registry entries, their manifests' signature status, and what is deployed."""

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import data, queries
from dashboards.state import md, trail, trail_key, workspace
from governance.trail.revocations import describe, read_mark, revocations


def entries(registered: pd.DataFrame, root: Path, revoked: dict[str, str]) -> pd.DataFrame:
    """Registrations from the trail joined with entries found in the registry, each verified once;
    ``revoked`` maps manifest hashes to the revocation the trail records."""
    rows = [dict(r) for r in registered.to_dict("records")]
    known = {str(queries.entry_dir(r["manifest_path"], root)) for r in rows if r.get("manifest_path")}
    for found in queries.registry_dirs(workspace().registry):
        if str(found) not in known:  # on disk, but the trail never recorded its registration
            rows.append({"name": found.parent.name, "version": found.name, "manifest_path": str(found / "manifest.json")})
    checks: dict[Path, dict] = {}
    out = []
    for r in rows:
        entry = queries.entry_dir(r.get("manifest_path"), root)
        if entry is not None and entry not in checks:
            checks[entry] = data.manifest_status(entry, workspace().keys)
        check = checks[entry] if entry is not None else {"ok": False, "problems": ["no manifest path recorded"]}
        out.append({"name": r.get("name"), "version": r.get("version"), "variant": r.get("variant"),
                    "signature": "valid", "deployed": r.get("deployed"), "run_id": r.get("run_id"),
                    "registered": r.get("registered"), "key_id": check.get("key_id"),
                    "problems": "; ".join(problems(r, check)), "entry": str(entry) if entry else None})
        out[-1]["signature"] = "INVALID" if out[-1]["problems"] else "valid"
        out[-1]["revoked"] = revoked_text(entry, r, revoked)
    return pd.DataFrame(out)


def revoked_text(entry: Path | None, registration: dict, revoked: dict[str, str]) -> str:
    """``revoked at … by …: reason`` from the trail (by manifest hash) or the entry's mark, else ``""``."""
    recorded = revoked.get(str(registration.get("manifest_sha256")))
    if recorded:
        return recorded
    mark = read_mark(entry) if entry is not None else None
    return describe(mark) if mark is not None else ""


def problems(registration: dict, check: dict) -> list[str]:
    """What is wrong with one registry entry: its manifest, and its agreement with the trail."""
    found = list(check["problems"])
    body = check.get("body") or {}
    recorded = registration.get("model_sha256")
    if recorded and body and body.get("model_sha256") != recorded:
        found.append("the manifest's model hash differs from the one the trail recorded")
    if not registration.get("run_id"):
        found.append("no model.registered event in the trail for this entry")
    return found


def deployed_now(registered: pd.DataFrame) -> pd.DataFrame:
    """The latest deployed version of each model name."""
    done = registered[registered["deployed"].notna()].sort_values("deployed")
    return done.groupby("name", sort=True).tail(1)[["name", "version", "variant", "deployed", "target", "run_id"]]


st.title("Models")
with trail() as t:
    registered = data.registrations(t, trail_key(t))
    revoked = {str(e.payload.get("manifest_sha256")): describe({**e.payload, "seq": e.seq, "time": e.time,
                                                                 "actor": e.actor}) for e in revocations(t)}
table = entries(registered, workspace().root, revoked)
if table.empty:
    st.info("No model has been registered yet: a run registers its model only when every gate passes.")
    st.stop()

gone = table[table["revoked"] != ""]
if not gone.empty:
    st.error(f"{len(gone)} registry entr{'y is' if len(gone) == 1 else 'ies are'} REVOKED: `rai serve` refuses "
             "them. " + "; ".join(f"{md(r['name'])} v{md(r['version'])} {md(r['revoked'])}" for _, r in gone.iterrows()),
             icon="🚫")
bad = table[table["signature"] != "valid"]
if bad.empty:
    st.success(f"{len(table)} registry entr{'y' if len(table) == 1 else 'ies'}: every manifest signature, file hash "
               "and recorded model hash verifies.", icon="✅")
else:
    first = bad.iloc[0]
    st.error(f"{len(bad)} of {len(table)} registry entries fail verification. First: {md(first['name'])} "
             f"v{md(first['version'])}: {md(first['problems'])}", icon="🚨")

st.subheader("Deployed")
now = deployed_now(registered)
if now.empty:
    st.text("Nothing is deployed.")
else:
    st.dataframe(now, hide_index=True, width="stretch")

st.subheader("Registry entries")
st.dataframe(table, hide_index=True, width="stretch")
pick = st.selectbox("Manifest of", table.index, format_func=lambda i: f"{table.at[i, 'name']} v{table.at[i, 'version']}")
entry = table.at[pick, "entry"]
if entry:
    body = data.manifest_status(Path(entry), workspace().keys).get("body")
    if body:
        st.json({k: v for k, v in body.items() if k != "model_card"}, expanded=False)
    else:
        st.text("The manifest cannot be read.")
