"""The platform signature checks of the tip webhooks (pure functions, no broker)."""
import hashlib
import hmac

from gateway.api.webhooks import (facebook_signature, facebook_signature_ok, zalo_mac, zalo_signature_ok)

APP_ID = "1234567890"
OA_KEY = "oa-secret-key"
BODY = ('{"app_id":"1234567890","event_name":"user_send_text","timestamp":"1700000000000",'
        '"sender":{"id":"246"},"message":{"text":"Có trộm","msg_id":"m1"}}').encode()
TIMESTAMP = "1700000000000"


def test_zalo_mac_is_sha256_of_app_id_body_timestamp_and_oa_key_in_that_order():
    expected = hashlib.sha256(APP_ID.encode() + BODY + TIMESTAMP.encode() + OA_KEY.encode()).hexdigest()
    assert zalo_mac(APP_ID, BODY, TIMESTAMP, OA_KEY) == expected
    assert zalo_mac(APP_ID, BODY, int(TIMESTAMP), OA_KEY) == expected  # a numeric timestamp reads the same


def test_zalo_header_with_or_without_the_mac_prefix():
    mac = zalo_mac(APP_ID, BODY, TIMESTAMP, OA_KEY)
    assert zalo_signature_ok(f"mac={mac}", APP_ID, BODY, TIMESTAMP, OA_KEY)
    assert zalo_signature_ok(mac.upper(), APP_ID, BODY, TIMESTAMP, OA_KEY)


def test_zalo_forgeries_fail():
    mac = zalo_mac(APP_ID, BODY, TIMESTAMP, OA_KEY)
    assert not zalo_signature_ok(None, APP_ID, BODY, TIMESTAMP, OA_KEY)
    assert not zalo_signature_ok("", APP_ID, BODY, TIMESTAMP, OA_KEY)
    assert not zalo_signature_ok(f"mac={mac}", APP_ID, BODY + b" ", TIMESTAMP, OA_KEY)      # body changed
    assert not zalo_signature_ok(f"mac={mac}", APP_ID, BODY, "1700000000001", OA_KEY)       # timestamp changed
    assert not zalo_signature_ok(f"mac={mac}", APP_ID, BODY, TIMESTAMP, "another-key")      # wrong key
    assert not zalo_signature_ok(f"mac={mac}", "999", BODY, TIMESTAMP, OA_KEY)             # another app
    assert not zalo_signature_ok(f"mac={mac}", APP_ID, BODY, None, OA_KEY)                 # no timestamp


def test_facebook_signature_is_hmac_sha256_of_the_raw_body_with_the_app_secret():
    secret = "fb-app-secret"
    expected = "sha256=" + hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    assert facebook_signature(secret, BODY) == expected
    assert facebook_signature_ok(expected, secret, BODY)
    assert facebook_signature_ok(expected.upper().replace("SHA256=", "sha256="), secret, BODY)


def test_facebook_forgeries_fail():
    secret = "fb-app-secret"
    good = facebook_signature(secret, BODY)
    assert not facebook_signature_ok(None, secret, BODY)
    assert not facebook_signature_ok("", secret, BODY)
    assert not facebook_signature_ok(good, secret, BODY + b"\n")
    assert not facebook_signature_ok(good, "other-secret", BODY)
    assert not facebook_signature_ok(good.removeprefix("sha256="), secret, BODY)  # the prefix is part of it
    sha1 = "sha1=" + hmac.new(secret.encode(), BODY, hashlib.sha1).hexdigest()  # the old header's scheme
    assert not facebook_signature_ok(sha1, secret, BODY)
