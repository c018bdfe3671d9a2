"""Signed receipts: the canonical form, Ed25519 signing and offline verification.

A receipt is one JSON object. Its signature is over the canonical bytes of every
other field (``canonical``: sorted keys, no whitespace, UTF-8, no NaN), so anyone
can check it with the platform's public key alone, without the platform. The key
id in each receipt names the key that signed it: a retired key stays published,
so receipts signed before a rotation keep verifying.

Keys live in files the operator configures, never in the database: the private
key in ``JIEBANG_SIGNING_KEY_FILE`` (PEM, PKCS#8), the public keys, current and
retired, as ``*.pem`` files in ``JIEBANG_PUBLIC_KEYS_DIR`` (by default the
signing key's folder). Outside production a missing signing key is made once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from jiebang.settings import Settings

VERSION = 1
SIGNATURE = "signature"
KEY_ID = "key_id"
PUBLIC_SUFFIX = ".pub.pem"


class ReceiptError(Exception):
    """A receipt that does not verify, or a key that cannot be used; says why."""


def canonical(document: Mapping) -> bytes:
    """The bytes that are signed: the same document always gives the same bytes."""
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of the sha256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def sign(document: Mapping, private: Ed25519PrivateKey) -> dict:
    """The document with its key id and signature (base64) added."""
    body = {k: v for k, v in document.items() if k != SIGNATURE}
    body[KEY_ID] = key_id(private.public_key())
    signature = private.sign(canonical(body))
    return {**body, SIGNATURE: base64.b64encode(signature).decode()}


def verify(receipt: Mapping, keys: Mapping[str, Ed25519PublicKey]) -> str:
    """The key id that signed ``receipt``; ``ReceiptError`` if it does not verify."""
    if not isinstance(receipt, Mapping):
        raise ReceiptError("not a receipt: expected a JSON object")
    kid, signature = receipt.get(KEY_ID), receipt.get(SIGNATURE)
    if not isinstance(kid, str) or not isinstance(signature, str):
        raise ReceiptError("not a receipt: it has no key_id or no signature")
    public = keys.get(kid)
    if public is None:
        known = ", ".join(sorted(keys)) or "none"
        raise ReceiptError(
            f"signed with key {kid}, which is not among the keys given ({known}); "
            "get it from the platform's /keys page"
        )
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptError("the signature is not valid base64") from None
    body = {k: v for k, v in receipt.items() if k != SIGNATURE}
    try:
        public.verify(raw, canonical(body))
    except (InvalidSignature, ValueError):
        raise ReceiptError(
            f"the signature does not match: the receipt was changed after key {kid} signed it"
        ) from None
    return kid


# Keys on disk


def generate(path: Path) -> Ed25519PrivateKey:
    """Write a new private key to ``path`` (mode 600, refusing to overwrite) and its
    public half beside it (``<stem>.pub.pem``)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked: a process racing to make the
    # development key never reads half a file, and the first link wins.
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.link(draft, path)  # FileExistsError: there is a key already, never replaced
    finally:
        draft.unlink(missing_ok=True)
    public_path(path).write_text(public_pem(private.public_key()))
    return private


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name.removesuffix(".pem") + PUBLIC_SUFFIX)


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ReceiptError(f"cannot read the signing key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise ReceiptError(
            f"{path} is not an unencrypted PEM private key; make one with "
            "`jiebang keys generate PATH`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReceiptError(f"{path} is not an Ed25519 key; make one with `jiebang keys generate`")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise ReceiptError(f"cannot read the public key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise ReceiptError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ReceiptError(f"{path} is not an Ed25519 public key")
    return key


def public_keys(paths: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    """The public keys in files and folders (a folder: its ``*.pem`` files holding a
    public key; private keys there are skipped), by key id."""
    found: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        if path.is_dir():
            files = [p for p in sorted(path.glob("*.pem")) if b"PUBLIC KEY" in p.read_bytes()]
        else:
            files = [path]
        for file in files:
            key = load_public(file)
            found[key_id(key)] = key
    return found


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    pem: str
    current: bool


@dataclass(frozen=True)
class Keyring:
    """The key that signs now and every public key a receipt may name."""

    signer: Ed25519PrivateKey
    public: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @property
    def current_id(self) -> str:
        return key_id(self.signer.public_key())

    def sign(self, document: Mapping) -> dict:
        return sign(document, self.signer)

    def verify(self, receipt: Mapping) -> str:
        return verify(receipt, self.public)

    def published(self) -> list[PublishedKey]:
        """The current key first, then the retired ones by id."""
        current = self.current_id
        ids = [current, *sorted(k for k in self.public if k != current)]
        return [PublishedKey(k, public_pem(self.public[k]), k == current) for k in ids]


def keyring(settings: Settings) -> Keyring:
    """The configured keys; outside production the signing key is made on first use."""
    return _keyring(settings.signing_key_file, settings.public_keys_dir, settings.env)


@lru_cache(maxsize=16)
def _keyring(signing: Path, public_dir: Path, env: str) -> Keyring:
    if not signing.exists() and env != "production":
        with contextlib.suppress(FileExistsError):  # another process made it first
            generate(signing)
    signer = load_private(signing)
    public = public_keys([public_dir]) if public_dir.is_dir() else {}
    public[key_id(signer.public_key())] = signer.public_key()
    return Keyring(signer, public)
