"""Receipts, below the database: canonical bytes, signatures, keys on disk, rotation."""

import base64
import json
import stat

import pytest

from jiebang import receipts
from jiebang.receipts import ReceiptError
from jiebang.settings import load_settings

DOC = {
    "version": 1,
    "submission": 7,
    "challenge": "parity",
    "team": {"id": 3, "name": "Tüm 队"},
    "public_score": 0.4103,
    "public_metrics": {"f1_macro": 0.4103, "accuracy": 1},
    "audit_event": {"id": 12, "hash": "ab" * 32},
}


@pytest.fixture
def key(tmp_path):
    return receipts.generate(tmp_path / "keys" / "signing.pem")


def test_canonical_bytes_are_sorted_compact_utf8():
    assert receipts.canonical({"b": 1, "a": {"d": "队", "c": 0.5}}) == (
        '{"a":{"c":0.5,"d":"队"},"b":1}'.encode()
    )
    assert receipts.canonical(DOC) == receipts.canonical(dict(reversed(DOC.items())))
    with pytest.raises(ValueError):
        receipts.canonical({"score": float("nan")})


def test_a_receipt_verifies_and_survives_a_round_trip_through_json(key):
    signed = receipts.sign(DOC, key)
    kid = receipts.key_id(key.public_key())
    assert signed["key_id"] == kid and len(kid) == 16
    again = json.loads(json.dumps(signed, indent=2, ensure_ascii=True))
    assert receipts.verify(again, {kid: key.public_key()}) == kid
    # Ed25519 is deterministic: the same receipt signed twice is the same file.
    assert receipts.sign(DOC, key) == signed


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(public_score=0.4104),
        lambda r: r["public_metrics"].update(accuracy=1.0),  # 1 and 1.0 differ in the bytes
        lambda r: r["team"].update(name="Tüm 队 "),
        lambda r: r.update(team={"id": 4, "name": "Tüm 队"}),
        lambda r: r.update(private_score=0.99),  # a field added
        lambda r: r.pop("challenge"),  # a field removed
        lambda r: r.update(key_id="0" * 16),
    ],
)
def test_any_change_fails(key, change):
    signed = json.loads(json.dumps(receipts.sign(DOC, key)))
    change(signed)
    with pytest.raises(ReceiptError):
        receipts.verify(signed, {receipts.key_id(key.public_key()): key.public_key()})


def test_a_changed_signature_fails(key):
    keys = {receipts.key_id(key.public_key()): key.public_key()}
    signed = receipts.sign(DOC, key)
    raw = bytearray(base64.b64decode(signed["signature"]))
    raw[10] ^= 1
    flipped = {**signed, "signature": base64.b64encode(bytes(raw)).decode()}
    with pytest.raises(ReceiptError, match="does not match"):
        receipts.verify(flipped, keys)
    with pytest.raises(ReceiptError, match="base64"):
        receipts.verify({**signed, "signature": "not base64!"}, keys)
    with pytest.raises(ReceiptError, match="no key_id or no signature"):
        receipts.verify({k: v for k, v in signed.items() if k != "signature"}, keys)


def test_another_key_cannot_vouch_for_a_receipt(key, tmp_path):
    other = receipts.generate(tmp_path / "other.pem")
    signed = receipts.sign(DOC, key)
    forged = receipts.sign({k: v for k, v in signed.items() if k != "key_id"}, other)
    assert forged["key_id"] != signed["key_id"]
    # Relabelled with the real key's id, the forger's signature does not verify.
    relabelled = {**forged, "key_id": signed["key_id"]}
    keys = {signed["key_id"]: key.public_key()}
    with pytest.raises(ReceiptError):
        receipts.verify(relabelled, keys)
    with pytest.raises(ReceiptError, match="not among the keys given"):
        receipts.verify(forged, keys)


def test_generate_writes_a_private_key_for_the_owner_only_and_never_overwrites(tmp_path):
    path = tmp_path / "k" / "signing.pem"
    private = receipts.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert receipts.load_private(path).public_key() == private.public_key()
    public = receipts.load_public(tmp_path / "k" / "signing.pub.pem")
    assert receipts.key_id(public) == receipts.key_id(private.public_key())
    with pytest.raises(FileExistsError):
        receipts.generate(path)
    assert receipts.load_private(path).public_key() == private.public_key()
    assert [p.name for p in (tmp_path / "k").iterdir() if p.name.startswith(".")] == []


def test_keys_that_are_not_ed25519_pem_are_refused_by_name(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ReceiptError, match=r"bad\.pem"):
        receipts.public_keys([bad])
    with pytest.raises(ReceiptError, match="jiebang keys generate"):
        receipts.load_private(bad)
    with pytest.raises(ReceiptError, match="cannot read"):
        receipts.load_private(tmp_path / "missing.pem")


def _settings(tmp_path, **kw):
    return load_settings(env="test", data_dir=tmp_path / "instance", **kw)


def test_outside_production_a_key_is_made_once_under_the_data_dir(tmp_path, monkeypatch):
    for name in ("JIEBANG_SIGNING_KEY_FILE", "JIEBANG_PUBLIC_KEYS_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = _settings(tmp_path)
    assert settings.signing_key_file == tmp_path / "instance" / "keys" / "signing.pem"
    assert settings.public_keys_dir == tmp_path / "instance" / "keys"
    ring = receipts.keyring(settings)
    assert settings.signing_key_file.is_file()
    again = receipts.keyring(_settings(tmp_path))
    assert again.current_id == ring.current_id
    assert [k.key_id for k in ring.published()] == [ring.current_id]


def test_production_needs_a_configured_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("JIEBANG_SIGNING_KEY_FILE", raising=False)
    base = dict(env="production", secret_key="s" * 40, data_dir=tmp_path)
    with pytest.raises(ValueError, match="JIEBANG_SIGNING_KEY_FILE is required"):
        load_settings(**base)
    with pytest.raises(ValueError, match="no key at"):
        load_settings(**base, signing_key_file=tmp_path / "none.pem")
    assert not (tmp_path / "keys").exists()  # nothing was made for it
    receipts.generate(tmp_path / "prod.pem")
    settings = load_settings(**base, signing_key_file=tmp_path / "prod.pem")
    assert receipts.keyring(settings).current_id == receipts.key_id(
        receipts.load_private(tmp_path / "prod.pem").public_key()
    )


def test_rotation_keeps_old_receipts_verifiable_with_the_published_retired_key(tmp_path):
    old = _settings(tmp_path, signing_key_file=tmp_path / "keys" / "2026.pem")
    old_ring = receipts.keyring(old)
    old_receipt = old_ring.sign(DOC)
    # The operator makes a new key beside the old one and points the setting at it;
    # the old public key (2026.pub.pem) stays in the folder, so it stays published.
    receipts.generate(tmp_path / "keys" / "2027.pem")
    (tmp_path / "keys" / "2026.pem").unlink()  # the old private key may be destroyed
    new_ring = receipts.keyring(_settings(tmp_path, signing_key_file=tmp_path / "keys/2027.pem"))
    assert new_ring.current_id != old_ring.current_id
    assert new_ring.verify(old_receipt) == old_ring.current_id
    new_receipt = new_ring.sign(DOC)
    assert new_receipt["key_id"] == new_ring.current_id
    published = new_ring.published()
    assert [(k.key_id, k.current) for k in published] == [
        (new_ring.current_id, True),
        (old_ring.current_id, False),
    ]
    # Offline, with only the retired public key: the old receipt, not the new one.
    retired = receipts.public_keys([tmp_path / "keys" / "2026.pub.pem"])
    assert receipts.verify(old_receipt, retired) == old_ring.current_id
    with pytest.raises(ReceiptError, match="not among the keys given"):
        receipts.verify(new_receipt, retired)
