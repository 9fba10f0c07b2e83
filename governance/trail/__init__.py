"""The tamper-evident audit trail.

Public API (used by the pipeline, ``rai audit --record``, reports and dashboards)::

    from governance.trail import open_trail, Event

    trail = open_trail(workspace)            # SQLite in the workspace, or PostgreSQL by URL
    ev = trail.append(kind="gate.decided", run_id=run_id, actor="alice",
                      payload={...}, subjects={"model": sha256})   # -> Event (durable on return)
    trail.events(run_id=None, kind=None, since=None, after_seq=0, limit=None, checked=False)  # -> list[Event]
    trail.count(run_id=None, kind=None)      # -> int
    trail.runs()                             # -> list[str], run ids in order of first event
    digest = trail.put_blob(data: bytes)     # content-addressed evidence file -> sha256 hex
    trail.get_blob(digest) -> bytes
    trail.checkpoint()                       # -> Checkpoint, signed, also saved in the workspace
    trail.verify(checkpoint=None)            # -> VerifyReport(ok, size, problems[...])
    trail.close()

Extensions (same module)::

    open_trail(ws, url=None, *, create=True, signing_key=None)  # create=False: readers; missing -> TrailMissing
    verify_trail(ws, url=None, checkpoint=None, blobs=True)     # also when the db is missing, damaged or forged
    trail.iter_events(...)                   # like events(), streaming; kind may be a list of kinds
    trail.head()                             # -> (size, entry hash of the last entry)
    trail.listing(run_id=None, kind=None, since=None)  # -> rows through the indexes: listings, never decisions
    trail.signer(); trail.reload_signer()    # the key that signs checkpoints (see signing.py)
    trail.put_blob_file(path) -> sha256 hex  # large files, hashed in chunks
    trail.checkpoints(); trail.latest_checkpoint()
    trail.prove(seq, checkpoint=None)        # -> inclusion proof dict (see proofs.py)
    trail.rotate_key()                       # -> (old key id, new key id, Checkpoint)
    record_approval(trail, run_id, role, decision, actor=None, comment=None, *, key=None)  # -> Event
    approvals_for(trail, run_id)             # -> [{"seq", "role", "decision", "actor", "time", "comment",
                                             #      "signature", "starter", ...}]

Payload keys named ``blob``/``*_blob`` (a digest) or ``blobs``/``*_blobs`` (a list) refer to
blobs; verify checks they exist and are intact. Reads scan the table, never an index;
``checked=True`` reads (what decisions use, e.g. ``approvals_for``) also refuse a trail whose seq
numbers have gaps or whose entries do not hash right. Errors: ``EventError`` (bad event, exit 2),
``TrailMissing`` (exit 2), ``TrailIntegrityError`` (damaged or tampered trail, exit 1),
``TrailUnavailable`` (the machine keeps rai from reading or writing it, exit 3; from
``governance.trail.errors``).

Event kinds and their payloads (the contract between writers and readers):

``run.started``      pipeline spec (dict), spec_hash, policy {name, version, sha256, source},
                     versions {python, rai, tensorflow, ...}, code_revision, workspace
``stage.completed``  stage, status ("completed" | "failed"), metrics {...}, artifacts
                     {name: {"sha256", "path"}}, evidence_blob (sha256 of a JSON evidence blob)
``gate.decided``     stage, subject (LiteRT variant or None), decision ("passed" | "blocked";
                     trails before 0.2 wrote "pass" | "block"),
                     findings [Finding.to_dict()], policy_sha256
``waiver.applied``   rule, reason, approved_by, expires, stage
``approval.recorded`` role, decision ("approve" | "reject" | "withdraw"), comment, policy_sha256,
                     withdraws (the rejection's seq), signature (when the person has a key)
``actor.key_registered`` actor, key_id, public_key, replaces, proof (an approver's key)
``model.revoked``    name, version, model_sha256, manifest_sha256, registry, registered_by_run,
                     reason, signature (the person's), workspace_signature
``model.registered`` name, version, model_sha256, manifest_path, manifest_sha256, variant
``model.deployed``   name, version, endpoint/registry path
``audit.completed``  kind ("fairness" | "drift"), inputs {file: sha256}, result (the --json
                     object), findings, decision
``drift.checked``    monitor batch drift results
``run.finished``     decision ("passed" | "blocked" | "failed" | "awaiting_approval"),
                     blocked_at (stage or None), reasons [..], summary (the --json summary)
``key.rotated``      old_key_id, new_key_id
``mlflow.mirrored``  tracking_uri, experiment, experiment_id, mlflow_run_id, upto_seq (the run's
                     last event mirrored), checkpoint {tree_size, root_hash}, registered {name, version}
``mlflow.mirror_failed`` tracking_uri, experiment, register, attempts, timeout_s, error
``mlflow.model_registered`` name, version (MLflow's), source, mlflow_run_id, registry_name,
                     registry_version, manifest_sha256, model_sha256
``model.promoted``   name, version, alias, previous_version, tracking_uri, manifest_sha256,
                     required_roles, approvals (an MLflow alias moved by ``rai promote``)
"""

from governance.trail.approvals import approvals_for, record_approval
from governance.trail.chain import Event
from governance.trail.checkpoints import Checkpoint
from governance.trail.errors import EventError, TrailIntegrityError, TrailMissing
from governance.trail.opening import open_trail, verify_trail
from governance.trail.problems import PROBLEM_KINDS, Problem, VerifyReport
from governance.trail.trail import Trail

__all__ = [
    "PROBLEM_KINDS", "Checkpoint", "Event", "EventError", "Problem", "Trail", "TrailIntegrityError",
    "TrailMissing", "VerifyReport", "approvals_for", "open_trail", "record_approval",
    "verify_trail",
]
