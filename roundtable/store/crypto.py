"""Encryption at rest of one session's unit: AES-256-GCM, key from a passphrase by scrypt.

An encrypted unit has ``crypto.json`` beside its journal: the scrypt salt and parameters and a
key check value (a fixed text sealed with the key), never the key or the passphrase.  The key
is derived when the session is opened (``unlock``); a wrong passphrase fails the check before
any other file is read, so it changes nothing.

What is sealed (each with its own random 96-bit nonce; the associated data binds a sealed blob
to its purpose and its session, so a line cannot be passed off as another session's or as the
view):

* each journal line on its own: the line's JSON becomes ``{"v":2,"x":"<base64 nonce+sealed>"}``
  and keeps its tab, CRC-32 and newline (``roundtable.store.journal``), so the torn-last-line
  rule and the kill -9 guarantees are the plain journal's;
* the view, whole: ``{"v":2,"x":"<base64>"}`` written by the same atomic writer;
* the session's title in ``summary.json`` (the rest of that line — ids, region, status, date,
  counts — is metadata the sessions list and sync need without the key).

The ``cryptography`` package is imported only here, and only when a session is encrypted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from roundtable.osfiles import atomic_write_bytes
from roundtable.store.errors import StoreError

CRYPTO_NAME = "crypto.json"
CRYPTO_VERSION = 1
SCRYPT_N = 2**15  # ~0.1 s and 32 MiB on a laptop: once per session open, never per capture
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
NONCE_BYTES = 12
CHECK_TEXT = b"roundtable key check"
SEALED_KEY = "x"
"""The one field of a sealed journal line or view: base64 of nonce + ciphertext + tag."""

LOCKED_TITLE = "encrypted session (locked)"


class EncryptedSessionError(StoreError):
    """The session is encrypted and no passphrase was given for it."""


class WrongPassphraseError(StoreError):
    """The passphrase does not open this session (the key check failed); nothing was read."""


class SealError(ValueError):
    """A sealed blob that does not open with this key: damaged (the key was checked)."""


def is_encrypted(unit: Path) -> bool:
    return (unit / CRYPTO_NAME).exists()


class SessionCipher:
    """The key of one unit, and the sealing of its journal lines, view and summary title."""

    def __init__(self, key: bytes, unit_id: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        self.unit_id = unit_id

    def _aad(self, purpose: str) -> bytes:
        return f"roundtable/{purpose}/{self.unit_id}".encode()

    def seal(self, data: bytes, purpose: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, self._aad(purpose))

    def open(self, blob: bytes, purpose: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if len(blob) < NONCE_BYTES + 16:
            raise SealError("sealed data too short")
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(purpose))
        except InvalidTag:
            raise SealError("does not decrypt with this session's key (damaged)") from None

    def seal_text(self, data: bytes, purpose: str) -> str:
        return base64.b64encode(self.seal(data, purpose)).decode("ascii")

    def open_text(self, text: object, purpose: str) -> bytes:
        if not isinstance(text, str):
            raise SealError("sealed data is not text")
        try:
            blob = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise SealError("sealed data is not base64") from None
        return self.open(blob, purpose)

    # -- the files --------------------------------------------------------------------------

    def seal_line(self, body: bytes, version: int) -> bytes:
        """The JSON of a journal line, sealed inside a JSON envelope (one line, no tab)."""
        sealed = self.seal_text(body, "journal")
        return b'{"v":%d,"%s":"%s"}' % (version, SEALED_KEY.encode(), sealed.encode())

    def open_line(self, envelope: dict[str, Any]) -> dict[str, Any]:
        line = json.loads(self.open_text(envelope.get(SEALED_KEY), "journal"))
        if not isinstance(line, dict):
            raise SealError("not an object")
        return line

    def seal_view(self, payload: bytes, version: int) -> bytes:
        return b'{"v":%d,"%s":"%s"}' % (
            version,
            SEALED_KEY.encode(),
            self.seal_text(payload, "view").encode(),
        )

    def open_view(self, envelope: dict[str, Any]) -> bytes:
        return self.open_text(envelope.get(SEALED_KEY), "view")


def is_sealed(doc: object) -> bool:
    """A journal line's or view's JSON that is a sealed envelope."""
    return isinstance(doc, dict) and SEALED_KEY in doc and len(doc) <= 2


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def check_passphrase_text(passphrase: str) -> None:
    if not passphrase:
        raise StoreError("the passphrase is empty; give one to encrypt the session")


def create(unit: Path, passphrase: str) -> SessionCipher:
    """Write the unit's ``crypto.json`` (salt, parameters, key check) and return its cipher.
    The unit's directory must exist and hold nothing else yet."""
    check_passphrase_text(passphrase)
    salt = os.urandom(16)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    cipher = SessionCipher(key, unit.name)
    header = {
        "v": CRYPTO_VERSION,
        "cipher": "AES-256-GCM",
        "kdf": "scrypt",
        "salt": base64.b64encode(salt).decode("ascii"),
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "check": cipher.seal_text(CHECK_TEXT, "check"),
    }
    atomic_write_bytes(unit / CRYPTO_NAME, json.dumps(header, indent=1).encode() + b"\n")
    return cipher


def unlock(unit: Path, passphrase: str, what: str) -> SessionCipher:
    """The unit's cipher from its passphrase; ``WrongPassphraseError`` when the key check fails.
    Reads ``crypto.json`` only."""
    path = unit / CRYPTO_NAME
    try:
        header = json.loads(path.read_bytes())
        if not isinstance(header, dict) or header.get("v") != CRYPTO_VERSION:
            raise ValueError(f"unknown version {header.get('v')!r}")
        salt = base64.b64decode(header["salt"], validate=True)
        n, r, p = (header[k] for k in ("n", "r", "p"))
        if (
            not all(isinstance(x, int) and not isinstance(x, bool) and 0 < x for x in (n, r, p))
            or n & (n - 1)  # a power of two
            or n * r > 2**21  # at most 256 MiB of memory
            or r * p > 64
            or len(salt) < 16
        ):
            raise ValueError("bad scrypt parameters")
        check = header["check"]
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise StoreError(f"{path}: not a session key file ({exc})") from None
    cipher = SessionCipher(_derive(passphrase, salt, n, r, p), unit.name)
    try:
        ok = cipher.open_text(check, "check") == CHECK_TEXT
    except SealError:
        ok = False
    if not ok:
        raise WrongPassphraseError(f"{what}: wrong passphrase; nothing was opened or changed")
    return cipher


def first_line_sealed(journal: Path) -> bool:
    """True when the journal's first complete line is a sealed envelope."""
    try:
        with open(journal, "rb") as f:
            raw = f.readline()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False
    except OSError:
        return False
    body = raw.rstrip(b"\n").rpartition(b"\t")[0]
    try:
        return is_sealed(json.loads(body)) if body else False
    except (ValueError, UnicodeDecodeError):
        return False
