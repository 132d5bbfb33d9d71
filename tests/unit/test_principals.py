"""Principals: signed by the login step's private key, checked by every
service with the public key; forged, expired, tampered and other-key
tokens are refused."""
import base64
import json

import pytest

from services.chassis.principal import (
    KeyConfigError, PrincipalSigner, PrincipalVerifier, Unauthenticated, generate_keypair, load_signer,
    load_verifier, write_keypair,
)
from services.staff.throttle import LoginThrottle

NOW = 1_780_000_000


@pytest.fixture
def keys(tmp_path):
    private, public = tmp_path / "p.key", tmp_path / "p.pub"
    write_keypair(str(private), str(public))
    return {"PRINCIPAL_SIGNING_KEY_FILE": str(private), "PRINCIPAL_PUBLIC_KEY_FILE": str(public),
            "PRINCIPAL_TTL_MINUTES": 30}


def issue(keys, **kwargs):
    return load_signer(keys).issue("wang.fang", "王芳", {"clerk"}, "main-gate", now=NOW, **kwargs)


def test_a_token_round_trips_to_the_same_principal(keys):
    token, issued = issue(keys)
    principal = load_verifier(keys).verify(token, now=NOW + 60)
    assert principal == issued
    assert (principal.staff_id, principal.roles, principal.desk) == ("wang.fang", frozenset({"clerk"}), "main-gate")
    assert principal.expires_at - principal.issued_at == 30 * 60
    assert principal.holds({"clerk", "lead"}) and not principal.holds({"finance"})


def test_an_expired_token_is_refused_after_the_leeway(keys):
    token, _ = issue(keys)
    verifier = load_verifier(keys)
    verifier.verify(token, now=NOW + 30 * 60 + 4)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token, now=NOW + 30 * 60 + 6)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)  # the real clock is far past 1_780_001_800


def test_a_token_from_the_future_is_refused(keys):
    token, _ = issue(keys)
    with pytest.raises(Unauthenticated):
        load_verifier(keys).verify(token, now=NOW - 60)


def test_a_tampered_token_is_refused(keys):
    token, _ = issue(keys)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated, match="not valid"):
        load_verifier(keys).verify(f"{header}.{forged}.{signature}", now=NOW)


def test_a_token_signed_with_another_key_is_refused(keys, tmp_path):
    other = {"PRINCIPAL_SIGNING_KEY_FILE": str(tmp_path / "o.key"), "PRINCIPAL_PUBLIC_KEY_FILE": str(tmp_path / "o.pub")}
    write_keypair(other["PRINCIPAL_SIGNING_KEY_FILE"], other["PRINCIPAL_PUBLIC_KEY_FILE"])
    token, _ = load_signer(other).issue("mallory", "M", {"admin"}, None, now=NOW)
    with pytest.raises(Unauthenticated, match="not valid"):
        load_verifier(keys).verify(token, now=NOW)


@pytest.mark.parametrize("token", [None, "", "abc", "a.b.c", 42, "x" * 5000,
                                   # alg=none with no signature
                                   "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0."])
def test_missing_and_malformed_tokens_are_refused(keys, token):
    with pytest.raises(Unauthenticated):
        load_verifier(keys).verify(token, now=NOW)


def test_missing_or_wrong_key_files_stop_the_process_with_the_config_key_named(tmp_path):
    with pytest.raises(KeyConfigError, match="PRINCIPAL_PUBLIC_KEY_FILE"):
        load_verifier({"PRINCIPAL_PUBLIC_KEY_FILE": str(tmp_path / "missing.pub")})
    private, public = generate_keypair()
    (tmp_path / "swapped.pub").write_bytes(private)
    with pytest.raises(KeyConfigError, match="PRINCIPAL_PUBLIC_KEY_FILE"):
        load_verifier({"PRINCIPAL_PUBLIC_KEY_FILE": str(tmp_path / "swapped.pub")})
    (tmp_path / "swapped.key").write_bytes(public)
    with pytest.raises(KeyConfigError, match="PRINCIPAL_SIGNING_KEY_FILE"):
        load_signer({"PRINCIPAL_SIGNING_KEY_FILE": str(tmp_path / "swapped.key")})


def test_the_private_key_file_is_readable_by_its_owner_only(keys):
    import os
    import stat
    assert stat.S_IMODE(os.stat(keys["PRINCIPAL_SIGNING_KEY_FILE"]).st_mode) == 0o600


def test_repeated_failures_throttle_the_account_and_the_source_separately():
    throttle = LoginThrottle(per_account=3, per_source=5, window_seconds=100)
    for second in range(3):
        assert throttle.retry_after("wang", "t1", second) is None
        throttle.failed("wang", "t1", second)
    assert throttle.retry_after("wang", "t2", 3) == pytest.approx(97)   # the account, from any terminal
    assert throttle.retry_after("li", "t1", 3) is None                  # the terminal still works for others
    throttle.failed("li", "t1", 4)
    throttle.failed("zhao", "t1", 5)
    assert throttle.retry_after("qian", "t1", 6) == pytest.approx(94)   # five failures from t1
    assert throttle.retry_after("wang", "t2", 101) is None              # the window has passed


def test_a_success_clears_the_account_and_the_throttle_stays_bounded():
    throttle = LoginThrottle(per_account=2, per_source=100, window_seconds=100, max_keys=4)
    throttle.failed("wang", "t1", 0)
    throttle.succeeded("wang")
    throttle.failed("wang", "t1", 1)
    assert throttle.retry_after("wang", "t1", 2) is None
    for n in range(10):
        throttle.failed(f"user{n}", f"src{n}", 3)
    assert len(throttle._failures) == 4


def test_a_token_checked_once_is_not_checked_again_but_its_times_are(keys, monkeypatch):
    import services.chassis.principal as principal_module
    token, issued = issue(keys)
    verifier = load_verifier(keys)
    decoded = []
    real = principal_module.jwt.decode
    monkeypatch.setattr(principal_module.jwt, "decode", lambda *a, **k: decoded.append(1) or real(*a, **k))
    assert verifier.verify(token, now=NOW + 60) == issued
    assert verifier.verify(token, now=NOW + 120) == issued
    assert decoded == [1]
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token, now=NOW + 30 * 60 + 6)
    with pytest.raises(Unauthenticated):
        verifier.verify(token, now=NOW - 60)   # before it was issued
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(Unauthenticated):
        verifier.verify(tampered, now=NOW + 60)   # another string: checked, and refused


def test_the_verified_tokens_kept_are_bounded(keys, monkeypatch):
    import services.chassis.principal as principal_module
    monkeypatch.setattr(principal_module, "VERIFIED_TOKENS_KEPT", 3)
    verifier = load_verifier(keys)
    signer = load_signer(keys)
    tokens = [signer.issue(f"c-{n}", "王芳", {"clerk"}, "main-gate", now=NOW)[0] for n in range(5)]
    for token in tokens:
        verifier.verify(token, now=NOW + 1)
    assert list(verifier._verified) == tokens[-3:]
