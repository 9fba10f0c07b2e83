"""The registry: versioned entries, signed manifests, tamper detection (serving is tested in tests/serve)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.errors import UserError
from governance.trail.signing import KeyRing, Signer
from lifecycle.deploy import find_entry, register, verify_manifest
from lifecycle.serve import load_served

SCHEMA = {"numeric": ["age"], "categorical": ["sex"], "sensitive": ["sex"], "target": "Y", "positive_label": ">50K"}


@pytest.fixture
def signer() -> Signer:
    return Signer.generate()


def _register(tmp_path: Path, signer: Signer, model: bytes = b"tflite-bytes", **body):
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "m.tflite").write_bytes(model)
    (source / "p.keras").write_bytes(b"keras-bytes")
    files = {"model.tflite": ("model", source / "m.tflite"), "preprocess.keras": ("preprocess", source / "p.keras")}
    body = {"run_id": "r1", "format": "litert", "variant": "int8", "model_sha256": "0" * 64, "schema": SCHEMA,
            "epsilon": 3.5, **body}
    return register(tmp_path / "registry", "demo", files, body, {"owner": "me"}, signer, KeyRing(tmp_path / "keys"))


def test_register_writes_a_signed_versioned_entry(tmp_path, signer):
    first, second = _register(tmp_path, signer), _register(tmp_path, signer, model=b"other")
    assert (first.version, second.version) == (1, 2)
    assert sorted(p.name for p in first.dir.iterdir()) == ["manifest.json", "model.tflite", "model_card.json", "preprocess.keras"]
    document = json.loads(first.manifest_path.read_text())
    assert document["signature"]["key_id"] == signer.key_id
    assert document["manifest"]["epsilon"] == 3.5 and document["manifest"]["model_card"] == {"owner": "me"}
    check = verify_manifest(first.dir, KeyRing(tmp_path / "keys").trusted())
    assert check.ok and check.problems == []
    assert find_entry(tmp_path / "registry", "demo").version == 2
    assert not [p for p in (tmp_path / "registry" / "demo").iterdir() if p.name.startswith(".")]  # no staging left


def _tamper_model(entry):
    (entry.dir / "model.tflite").write_bytes(b"evil")


def _edit_manifest(entry):
    document = json.loads(entry.manifest_path.read_text())
    document["manifest"]["epsilon"] = 0.1
    entry.manifest_path.write_text(json.dumps(document))


def _drop_file(entry):
    (entry.dir / "preprocess.keras").unlink()


TAMPERING = [
    ("model replaced", _tamper_model, "model.tflite: sha256 differs from the manifest (file modified or replaced)"),
    ("manifest edited", _edit_manifest, "manifest signature does not match its content (manifest edited after signing)"),
    ("file removed", _drop_file, "preprocess.keras: listed in the manifest but missing"),
]


@pytest.mark.parametrize("case,tamper,problem", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_detected(tmp_path, signer, case, tamper, problem):
    entry = _register(tmp_path, signer)
    tamper(entry)
    check = verify_manifest(entry.dir, KeyRing(tmp_path / "keys").trusted())
    assert not check.ok and check.problems == [problem]


def test_a_manifest_signed_by_an_untrusted_key_is_refused(tmp_path, signer):
    entry = _register(tmp_path, signer)
    check = verify_manifest(entry.dir, {})
    assert not check.ok and check.problems[0].startswith("manifest signed by unknown key")


def test_serve_refuses_a_tampered_entry_before_loading_anything(tmp_path, signer):
    entry = _register(tmp_path, signer)
    _tamper_model(entry)
    with pytest.raises(UserError, match=r"refusing to load demo v1: model.tflite: sha256 differs"):
        load_served(tmp_path / "registry", "demo", None, KeyRing(tmp_path / "keys").trusted())


def test_unknown_model_and_version_are_user_errors(tmp_path, signer):
    _register(tmp_path, signer)
    with pytest.raises(UserError, match="no registered model 'dmeo'; registered models: demo"):
        find_entry(tmp_path / "registry", "dmeo")
    with pytest.raises(UserError, match="no version 7; versions are 1"):
        find_entry(tmp_path / "registry", "demo", 7)
