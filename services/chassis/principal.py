"""Who acts: a principal is a short-lived token signed (Ed25519, as a JWT
with ``alg=EdDSA``) by the login step of the ``staff`` service, which alone
holds the private key. Every service verifies it with the public key.

It travels in nameko's context data under :data:`CONTEXT_KEY` (nameko sends
context data as message headers, so it crosses every RPC hop), never in the
payload. A second person's consent (the custodian releasing a valuable,
finance signing a handover off) is that person's own token under
:data:`COSIGNER_KEY`.

Config: ``PRINCIPAL_PUBLIC_KEY_FILE`` (every service), ``PRINCIPAL_SIGNING_KEY_FILE``
(the staff service only), ``PRINCIPAL_TTL_MINUTES`` (default 30).
"""
from __future__ import annotations

import os
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CONTEXT_KEY = "principal"
COSIGNER_KEY = "cosigner"
ISSUER = "vsc-staff"
AUDIENCE = "vsc"
ALGORITHM = "EdDSA"
DEFAULT_TTL_MINUTES = 30
LEEWAY_SECONDS = 5
MAX_TOKEN_LENGTH = 4096
VERIFIED_TOKENS_KEPT = 4096  # tokens whose signature was checked, kept per process (times are checked every call)

def secrets_dir() -> str:
    """Where the local installation keeps its keys when the config names
    none: ``VSC_SECRETS_DIR``, else ``$XDG_CONFIG_HOME/vsc`` (``~/.config/vsc``):
    never inside ``var/``, next to the database."""
    explicit = os.environ.get("VSC_SECRETS_DIR")
    if explicit:
        return explicit
    return os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "vsc")


DEFAULT_PUBLIC_KEY_FILE = "principal.pub"   # in secrets_dir() unless the config names a path
DEFAULT_SIGNING_KEY_FILE = "principal.key"


class Unauthenticated(Exception):
    """No token, or one that is forged, expired, tampered or malformed."""


class KeyConfigError(Exception):
    """A principal key is missing or unreadable: the process must not start."""


@dataclass(frozen=True)
class Principal:
    staff_id: str
    name: str
    roles: frozenset
    desk: str | None
    issued_at: int
    expires_at: int
    token_id: str
    password_change_required: bool = False

    def holds(self, roles) -> bool:
        return not self.roles.isdisjoint(roles)


class PrincipalSigner:
    """Issues principals; only the login step has one."""

    def __init__(self, private_key: Ed25519PrivateKey, ttl_seconds: int = DEFAULT_TTL_MINUTES * 60):
        self._key = private_key
        self.ttl_seconds = ttl_seconds

    def issue(self, staff_id: str, name: str, roles, desk: str | None, *, now: float | None = None,
              password_change_required: bool = False) -> tuple[str, Principal]:
        issued = int(time.time() if now is None else now)
        principal = Principal(staff_id, name, frozenset(roles), desk, issued, issued + self.ttl_seconds,
                              uuid.uuid4().hex, password_change_required)
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": staff_id, "name": name, "roles": sorted(principal.roles),
                  "desk": desk, "iat": issued, "nbf": issued, "exp": principal.expires_at,
                  "jti": principal.token_id, "pwc": password_change_required}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), principal


class PrincipalVerifier:
    """Checks a token's signature, issuer, audience and times."""

    def __init__(self, public_key: Ed25519PublicKey, leeway: int = LEEWAY_SECONDS):
        self._key = public_key
        self.leeway = leeway
        # token -> (its principal, not before): every RPC carries the token, and checking an
        # Ed25519 signature was about a sixteenth of a desk command's CPU; a token's claims
        # never change, so only its times are checked again
        self._verified: OrderedDict[str, tuple[Principal, int]] = OrderedDict()

    def verify(self, token, *, now: float | None = None) -> Principal:
        if not isinstance(token, str) or not token:
            raise Unauthenticated("no principal: log in first")
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("the principal is malformed")
        verified = self._verified.get(token)
        if verified is not None:
            principal, not_before = verified
            moment = time.time() if now is None else now
            if principal.expires_at + self.leeway < moment:
                raise Unauthenticated("the principal has expired: log in again")
            if not_before - self.leeway > moment:
                raise Unauthenticated("the principal is not valid")
            self._verified.move_to_end(token)
            return principal
        options = {"require": ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"]}
        try:
            if now is None:
                claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                    leeway=self.leeway, options=options)
            else:  # tests move the clock: check the signature here, the times below
                claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                    options={**options, "verify_exp": False, "verify_nbf": False,
                                             "verify_iat": False})
                if claims["exp"] + self.leeway < now:
                    raise jwt.ExpiredSignatureError()
                if claims["nbf"] - self.leeway > now:
                    raise jwt.ImmatureSignatureError()
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the principal has expired: log in again") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the principal is not valid") from None
        roles, name, desk = claims.get("roles"), claims.get("name"), claims.get("desk")
        if (not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)
                or not isinstance(name, str) or not (desk is None or isinstance(desk, str))):
            raise Unauthenticated("the principal is not valid")
        principal = Principal(claims["sub"], name, frozenset(roles), desk, int(claims["iat"]), int(claims["exp"]),
                              claims["jti"], bool(claims.get("pwc", False)))
        self._verified[token] = (principal, int(claims["nbf"]))
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return principal


# -- keys ---------------------------------------------------------------------------
def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def write_keypair(private_path: str, public_path: str) -> None:
    """Create the pair unless both files exist (the private one mode 0600)."""
    if os.path.exists(private_path) and os.path.exists(public_path):
        return
    private, public = generate_keypair()
    for path, data, mode in ((private_path, private, 0o600), (public_path, public, 0o644)):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
            handle.write(data)


def key_path(config: dict, key: str, default: str) -> str:
    return config.get(key) or os.path.join(secrets_dir(), default)


def _read(config: dict, key: str, default: str) -> bytes:
    path = key_path(config, key, default)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise KeyConfigError(f"{key}: cannot read {path!r} ({exc.strerror}); create the keys with "
                             f"`vsc keys init` or set {key}") from None


def load_verifier(config: dict) -> PrincipalVerifier:
    data = _read(config, "PRINCIPAL_PUBLIC_KEY_FILE", DEFAULT_PUBLIC_KEY_FILE)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyConfigError(f"PRINCIPAL_PUBLIC_KEY_FILE does not hold a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyConfigError("PRINCIPAL_PUBLIC_KEY_FILE must hold an Ed25519 public key")
    return PrincipalVerifier(key)


def load_signer(config: dict) -> PrincipalSigner:
    data = _read(config, "PRINCIPAL_SIGNING_KEY_FILE", DEFAULT_SIGNING_KEY_FILE)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (TypeError, ValueError) as exc:
        raise KeyConfigError(f"PRINCIPAL_SIGNING_KEY_FILE does not hold a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyConfigError("PRINCIPAL_SIGNING_KEY_FILE must hold an Ed25519 private key")
    ttl = int(config.get("PRINCIPAL_TTL_MINUTES") or DEFAULT_TTL_MINUTES) * 60
    return PrincipalSigner(key, ttl)
