"""Unit tests for the tipster anonymity vault."""
import base64
import json

import pytest

from contracts.settings import load
from services.tips.vault import Vault, VaultError, VaultKeyError, alias_for, generate_key, key_id

IDENTITY = {"contact": {"name": "Nguyễn Thị Hoa", "phone": "0912345678"}, "zalo_user_id": "zl-8812"}


@pytest.fixture
def vault():
    return Vault(generate_key())


def test_round_trip(vault):
    sealed = vault.seal(IDENTITY, "tip-1")
    assert vault.open(sealed, "tip-1") == IDENTITY
    assert set(sealed) == {"v", "alg", "kid", "nonce", "ct"} and sealed["kid"] == vault.current
    dumped = json.dumps(sealed)
    assert "0912345678" not in dumped and "Hoa" not in dumped and "zl-8812" not in dumped


def test_each_seal_uses_a_fresh_nonce(vault):
    a, b = vault.seal(IDENTITY, "tip-1"), vault.seal(IDENTITY, "tip-1")
    assert a["nonce"] != b["nonce"] and a["ct"] != b["ct"]


def _flip(b64):
    raw = bytearray(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("field", ["ct", "nonce"])
def test_tampering_is_detected(vault, field):
    sealed = vault.seal(IDENTITY, "tip-1")
    with pytest.raises(VaultError):
        vault.open(dict(sealed, **{field: _flip(sealed[field])}), "tip-1")


@pytest.mark.parametrize("broken", [
    {}, None, "text", {"v": 2}, {"ct": "!!!"}, {"kid": "unknown"}, {"alg": "none"},
])
def test_malformed_blobs_raise_vault_error(vault, broken):
    sealed = vault.seal(IDENTITY, "tip-1")
    blob = dict(sealed, **broken) if isinstance(broken, dict) and broken else broken
    with pytest.raises(VaultError):
        vault.open(blob, "tip-1")


def test_blob_is_bound_to_its_tip(vault):
    sealed = vault.seal(IDENTITY, "tip-1")
    with pytest.raises(VaultError):
        vault.open(sealed, "tip-2")  # copied onto another tip: does not open


def test_key_rotation_keeps_old_blobs_readable():
    old_key, new_key = generate_key(), generate_key()
    old_blob = Vault(old_key).seal(IDENTITY, "tip-1")
    rotated = Vault(keys={"2024": old_key, "2025": new_key}, current="2025")
    # blobs named by fingerprint (Vault(key)) vs explicit ids: both styles work
    fp = Vault(keys={key_id(old_key): old_key, key_id(new_key): new_key}, current=key_id(new_key))
    assert fp.open(old_blob, "tip-1") == IDENTITY
    new_blob = fp.seal(IDENTITY, "tip-1")
    assert new_blob["kid"] == key_id(new_key) != old_blob["kid"]
    assert fp.needs_rewrap(old_blob) and not fp.needs_rewrap(new_blob)
    rewrapped = fp.rewrap(old_blob, "tip-1")
    assert Vault(new_key).open(rewrapped, "tip-1") == IDENTITY
    # without the old key the old blob stays closed
    with pytest.raises(VaultError):
        Vault(new_key).open(old_blob, "tip-1")
    blob = rotated.seal(IDENTITY, "tip-3")
    assert blob["kid"] == "2025" and rotated.open(blob, "tip-3") == IDENTITY
    with pytest.raises(VaultKeyError):
        Vault(keys={"2024": old_key}, current="2025")


def test_swapping_the_key_id_does_not_open():
    k1, k2 = generate_key(), generate_key()
    v = Vault(keys={"a": k1, "b": k2}, current="a")
    sealed = v.seal(IDENTITY, "tip-1")
    with pytest.raises(VaultError):
        v.open(dict(sealed, kid="b"), "tip-1")


def test_from_settings(tmp_path):
    key, old = generate_key(), generate_key()
    old_blob = Vault(old).seal(IDENTITY, "tip-1")
    v = Vault.from_settings(load("tips", environ={"TIPS_VAULT_KEY": key, "TIPS_VAULT_OLD_KEYS": f" {old} ,"}))
    assert v.current == key_id(key) and set(v.key_ids) == {key_id(key), key_id(old)}
    assert v.open(old_blob, "tip-1") == IDENTITY
    path = tmp_path / "vault.key"
    path.write_text(key + "\n")
    assert Vault.from_settings(load("tips", environ={"TIPS_VAULT_KEY_FILE": str(path)})).current == key_id(key)


@pytest.mark.parametrize("environ, message", [
    ({}, "TIPS_VAULT_KEY is not set"),
    ({"TIPS_VAULT_KEY": ""}, "TIPS_VAULT_KEY is not set"),
    ({"TIPS_VAULT_KEY": base64.urlsafe_b64encode(b"k" * 16).decode()}, "256 bits"),
    ({"TIPS_VAULT_KEY": "not base64 ***"}, "TIPS_VAULT_KEY"),
    ({"TIPS_VAULT_KEY": generate_key(), "TIPS_VAULT_OLD_KEYS": "short"}, "TIPS_VAULT_OLD_KEYS"),
])
def test_missing_or_short_key_is_a_clear_error(environ, message):
    with pytest.raises(VaultKeyError, match=message) as exc:
        Vault.from_settings(load("tips", environ=environ))
    assert "generate_key" in str(exc.value) or "OLD_KEYS" in message or "base64" in str(exc.value)


def test_generate_key_is_256_bits():
    raw = base64.urlsafe_b64decode(generate_key() + "=")
    assert len(raw) == 32
    assert generate_key() != generate_key()
    Vault(raw)  # raw bytes work too
    with pytest.raises(VaultKeyError):
        Vault(b"x" * 31)


def test_seal_needs_a_dict_and_a_tip_id(vault):
    with pytest.raises(TypeError):
        vault.seal("0912345678", "tip-1")
    with pytest.raises(ValueError):
        vault.seal(IDENTITY, "")


def test_alias_is_stable_and_says_nothing():
    alias = alias_for("tip-1")
    assert alias == alias_for("tip-1")
    assert alias.startswith("Người báo tin #") and len(alias.split("#")[1]) == 4
    assert len({alias_for(f"tip-{i}") for i in range(50)}) > 40
