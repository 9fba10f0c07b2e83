"""Ed25519 keys: RFC 8032 vectors, key files, key ids, trust."""

import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.errors import UserError
from governance.trail.signing import (
    KeyRing,
    Signer,
    key_id_of,
    load_signer,
    resolve_signer,
    verify_signature,
    write_new_key,
)

# RFC 8032, section 7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize("secret, public, message, signature", RFC8032)
def test_rfc8032_vectors(secret, public, message, signature):
    signer = Signer(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret)))
    assert signer.public_raw.hex() == public
    assert signer.sign(bytes.fromhex(message)).hex() == signature
    assert verify_signature(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature))
    assert not verify_signature(bytes.fromhex(public), b"other", bytes.fromhex(signature))
    assert signer.key_id == hashlib.sha256(bytes.fromhex(public)).hexdigest() == key_id_of(bytes.fromhex(public))


def test_workspace_key_is_created_once_as_private_pkcs8(tmp_path):
    keys = tmp_path / "keys"
    first = resolve_signer(keys)
    path = keys / "signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS8
    assert resolve_signer(keys).key_id == first.key_id
    # A second creator racing the first ends up with the same key, not a half-written one.
    assert write_new_key(path).key_id == first.key_id


def test_key_from_env_or_explicit_path_wins(tmp_path, monkeypatch):
    env_key = write_new_key(tmp_path / "env.pem")
    given = write_new_key(tmp_path / "given.pem")
    monkeypatch.setenv("RAI_SIGNING_KEY", str(tmp_path / "env.pem"))
    assert resolve_signer(tmp_path / "keys").key_id == env_key.key_id
    assert resolve_signer(tmp_path / "keys", tmp_path / "given.pem").key_id == given.key_id
    assert not (tmp_path / "keys" / "signing.pem").exists()


@pytest.mark.parametrize("content, message", [
    (b"not a key", "not an unencrypted PKCS8 PEM private key"),
    (None, "cannot read"),
])
def test_bad_key_file_is_one_clean_error(tmp_path, content, message):
    path = tmp_path / "bad.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_signer(path)


def test_non_ed25519_key_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with pytest.raises(UserError, match="expected an Ed25519 key"):
        load_signer(path)


def test_keyring_trusts_by_recomputed_id(tmp_path):
    ring = KeyRing(tmp_path / "keys")
    a, b = Signer.generate(), Signer.generate()
    assert ring.trusted() == {}
    ring.trust(a.public_raw)
    ring.trust(a.public_raw)  # idempotent
    # A file renamed to claim another id does not make that id trusted.
    os.rename(ring.dir / f"{a.key_id}.pub", ring.dir / f"{b.key_id}.pub")
    assert ring.trusted() == {a.key_id: a.public_raw}
