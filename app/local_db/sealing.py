"""Sealing the site's secrets (credential, signer key) before they touch the store.

Threat: a stolen laptop, a copied database file, a backup left on a USB stick
or an export mailed to support. A secret sealed here is useless without the
key file, which lives apart from the database (``SiteSettings.secret_key_path``)
and is never part of a backup or export. It does not stop a thief who takes
the whole disk with both files: against that the workstation needs full-disk
encryption, and the hub must revoke the laptop's credential and signer.

Sealed form: one version byte, a 12-byte random nonce, then AES-256-GCM
ciphertext and tag. The ``purpose`` is authenticated data, so a sealed
credential cannot be passed off as a sealed signer key.
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.local_db.errors import SecretKeyMissing, SecretUnreadable

_HEADER: Final = b"imuno-site-secret-key v1\n"
_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12


class SecretBox:
    """Seals and opens small secrets with one AES-256-GCM key."""

    def __init__(self, key: bytes, key_path: Path) -> None:
        if len(key) != 32:
            raise ValueError("a SecretBox key is 32 bytes")
        self._aead = AESGCM(key)
        self.key_path = key_path

    @classmethod
    def load(cls, key_path: Path) -> SecretBox:
        """The box whose key is in `key_path`; `SecretKeyMissing` if the file is gone."""
        try:
            text = key_path.read_bytes()
        except FileNotFoundError:
            raise SecretKeyMissing(path=str(key_path)) from None
        if not text.startswith(_HEADER):
            raise SecretKeyMissing(path=str(key_path))
        try:
            key = base64.b64decode(text[len(_HEADER) :].strip(), validate=True)
        except ValueError:
            raise SecretKeyMissing(path=str(key_path)) from None
        if len(key) != 32:
            raise SecretKeyMissing(path=str(key_path))
        return cls(key, key_path)

    @classmethod
    def load_or_create(cls, key_path: Path) -> SecretBox:
        """The box of `key_path`, making a new random key there first if there is none.

        The file is created readable by its owner only, written completely
        before it gets its name (so a crash leaves no half key), and never
        replaces a key another process created meanwhile.
        """
        if not key_path.exists():
            key_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = key_path.with_name(f".{key_path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_HEADER + base64.b64encode(AESGCM.generate_key(256)) + b"\n")
                    out.flush()
                    os.fsync(out.fileno())
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, key_path)
            finally:
                tmp.unlink(missing_ok=True)
        return cls.load(key_path)

    def seal(self, plaintext: bytes, *, purpose: str) -> bytes:
        """`plaintext` encrypted and authenticated for `purpose`."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def unseal(self, sealed: bytes, *, purpose: str) -> bytes:
        """The plaintext of `sealed`; `SecretUnreadable` if the key, purpose or bytes differ."""
        if len(sealed) <= 1 + _NONCE_BYTES or sealed[:1] != _VERSION:
            raise SecretUnreadable(purpose=purpose, path=str(self.key_path))
        nonce = sealed[1 : 1 + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[1 + _NONCE_BYTES :], purpose.encode())
        except InvalidTag:
            raise SecretUnreadable(purpose=purpose, path=str(self.key_path)) from None
