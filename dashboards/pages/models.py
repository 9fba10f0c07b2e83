"""Models: registry entries from the trail, their manifests' signature status, what is deployed."""

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards.state import md, trail, workspace
from governance.manifest import verify_manifest
from governance.trail.signing import KeyRing

st.title("Models")
with trail() as t:
    registered = t.events(kind="model.registered")
    deployed = {(e.payload.get("name"), e.payload.get("version")): e for e in t.events(kind="model.deployed")}

if not registered:
    st.info("No model has been registered yet: a run registers its model only when every gate passes.")
    st.stop()

trusted = KeyRing(workspace().keys).trusted()
rows = []
for ev in registered:
    p = ev.payload
    manifest = Path(p.get("manifest_path") or "")
    check = verify_manifest(manifest.parent, trusted) if manifest.name else None
    rows.append({
        "name": p.get("name"), "version": p.get("version"), "variant": p.get("variant"),
        "run_id": ev.run_id, "registered": ev.time,
        "signature": "valid" if check and check.ok else "INVALID",
        "deployed": "yes" if (p.get("name"), p.get("version")) in deployed else "",
        "model_sha256": (p.get("model_sha256") or "")[:16] + "…",
        "problems": "; ".join(check.problems) if check else "no manifest path recorded",
        "manifest": str(manifest),
    })
frame = pd.DataFrame(rows)
bad = frame[frame["signature"] != "valid"]
if bad.empty:
    st.success(f"{len(frame)} registered version(s); every manifest signature and file hash verifies.")
else:
    st.error(f"{len(bad)} registry entr(y/ies) fail verification: {md(bad.iloc[0]['problems'])}")
st.dataframe(frame, hide_index=True, width="stretch")
pick = st.selectbox("Manifest", list(frame["manifest"]))
if pick and Path(pick).is_file():
    st.code(Path(pick).read_text(encoding="utf-8"), language="json")
