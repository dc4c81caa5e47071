"""The anonymity vault: a tipster's identity sealed with AES-256-GCM.

The tip body and the identity are stored apart; the identity only ever exists in
the database as a sealed blob::

    {"v": 1, "alg": "AES-256-GCM", "kid": <key id>, "nonce": <b64url>, "ct": <b64url>}

* The key comes from the environment (``TIPS_VAULT_KEY``, 32 bytes base64url), never
  from the database, so a database dump alone reveals nobody.
* The associated data binds a blob to its tip id (and key id): a blob copied onto
  another tip does not open.
* Key rotation: the blob names its key id; a Vault holds the current key (used to
  seal) and older ones (used to open). ``rewrap`` re-seals an old blob with the
  current key. In the settings, ``TIPS_VAULT_OLD_KEYS`` lists retired keys.

Pure crypto, no I/O: ``from_settings`` takes the keys from the tips service's settings.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
BLOB_VERSION = 1
ALG = "AES-256-GCM"
ENV_KEY = "TIPS_VAULT_KEY"
ENV_OLD_KEYS = "TIPS_VAULT_OLD_KEYS"


class VaultKeyError(ValueError):
    """The vault key is missing or unusable (configuration error at start-up)."""


class VaultError(ValueError):
    """A sealed blob that does not open: tampered, for another tip, or unknown key."""


def _b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text):
    # strict: stray characters are an error, not silently skipped
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def generate_key():
    """A new 256-bit key, base64url, for TIPS_VAULT_KEY."""
    return _b64e(secrets.token_bytes(KEY_BYTES))


def _key_bytes(key, name=ENV_KEY):
    if isinstance(key, str):
        try:
            key = _b64d(key)
        except (binascii.Error, ValueError):
            raise VaultKeyError(f"{name} is not valid base64url")
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
        raise VaultKeyError(
            f"{name} must be {KEY_BYTES} bytes (256 bits) base64url-encoded; generate one with: "
            "python -c 'from services.tips.vault import generate_key; print(generate_key())'")
    return bytes(key)


def key_id(key):
    """A short fingerprint naming a key in sealed blobs (reveals nothing about it)."""
    return hashlib.sha256(b"binhyen.tips.vault.kid|" + _key_bytes(key)).hexdigest()[:12]


def _aad(tip_id, kid):
    return f"binhyen.tips.identity|v{BLOB_VERSION}|{kid}|{tip_id}".encode("utf-8")


class Vault:
    """``Vault(key)`` or ``Vault(keys={kid: key, ...}, current=kid)``; keys are bytes or
    base64url strings."""

    def __init__(self, key=None, *, keys=None, current=None):
        if key is not None and keys is not None:
            raise VaultKeyError("give either key or keys, not both")
        if key is not None:
            raw = _key_bytes(key)
            current = key_id(raw)
            keys = {current: raw}
        if not keys:
            raise VaultKeyError(f"no vault key: set {ENV_KEY}")
        self._aead = {kid: AESGCM(_key_bytes(k, f"key {kid!r}")) for kid, k in keys.items()}
        if current not in self._aead:
            raise VaultKeyError(f"current key id {current!r} is not among the keys")
        self.current = current

    @classmethod
    def from_settings(cls, settings):
        """Current key from TIPS_VAULT_KEY (or TIPS_VAULT_KEY_FILE) in the tips service's
        settings; retired keys, still able to open old blobs, from TIPS_VAULT_OLD_KEYS
        (comma-separated)."""
        value = settings.get(ENV_KEY) or ""
        if not value:
            raise VaultKeyError(
                f"{ENV_KEY} is not set: the tips vault needs a 256-bit key (base64url). Generate one "
                "with: python -c 'from services.tips.vault import generate_key; print(generate_key())'")
        current = _key_bytes(value)
        keys = {key_id(current): current}
        for i, old in enumerate(k for k in (settings.get(ENV_OLD_KEYS) or "").split(",") if k.strip()):
            raw = _key_bytes(old, f"{ENV_OLD_KEYS}[{i}]")
            keys.setdefault(key_id(raw), raw)
        return cls(keys=keys, current=key_id(current))

    @property
    def key_ids(self):
        return tuple(self._aead)

    def seal(self, identity, tip_id):
        """Encrypt ``identity`` (a JSON-able dict) for the tip ``tip_id``."""
        if not isinstance(identity, dict):
            raise TypeError("identity must be a dict")
        if not tip_id:
            raise ValueError("tip_id is required: it binds the blob to its tip")
        plaintext = json.dumps(identity, ensure_ascii=False, sort_keys=True).encode("utf-8")
        nonce = secrets.token_bytes(NONCE_BYTES)  # random 96-bit nonce per seal
        ct = self._aead[self.current].encrypt(nonce, plaintext, _aad(tip_id, self.current))
        return {"v": BLOB_VERSION, "alg": ALG, "kid": self.current,
                "nonce": _b64e(nonce), "ct": _b64e(ct)}

    def open(self, sealed, tip_id):
        """The identity sealed for ``tip_id``; VaultError if anything does not match."""
        try:
            if sealed.get("v") != BLOB_VERSION or sealed.get("alg") != ALG:
                raise VaultError("unsupported sealed blob version")
            kid = sealed["kid"]
            aead = self._aead.get(kid)
            if aead is None:
                raise VaultError(f"sealed with unknown key id {kid!r}")
            plaintext = aead.decrypt(_b64d(sealed["nonce"]), _b64d(sealed["ct"]), _aad(tip_id, kid))
            return json.loads(plaintext.decode("utf-8"))
        except VaultError:
            raise
        except (InvalidTag, KeyError, TypeError, AttributeError, ValueError, binascii.Error):
            # one message for every failure: do not tell an attacker which part was wrong
            raise VaultError("sealed identity does not open (tampered, wrong tip, or wrong key)")

    def needs_rewrap(self, sealed):
        return sealed.get("kid") != self.current

    def rewrap(self, sealed, tip_id):
        """Re-seal an old blob with the current key (for a rotation sweep)."""
        return self.seal(self.open(sealed, tip_id), tip_id)


def alias_for(tip_id):
    """Stable staff-facing name for a tipster, e.g. "Người báo tin #4821".

    Derived from the tip id only, never from the identity: the same person sending
    two tips gets two unrelated aliases, and the alias reveals nothing.
    """
    digest = hashlib.sha256(f"binhyen.tips.alias|{tip_id}".encode("utf-8")).digest()
    return f"Người báo tin #{int.from_bytes(digest[:4], 'big') % 9000 + 1000}"
