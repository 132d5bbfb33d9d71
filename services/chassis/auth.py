"""Roles on every call: the chassis checks the caller's principal against
the roles the RPC's contract declares, before the payload is even loaded.

- no principal, or one that is forged, expired, tampered or malformed ->
  ``unauthenticated``;
- a valid principal without one of the contract's roles -> ``forbidden``;
- a principal that must first change its one-time password may call only
  the contracts marked ``while_password_change``.

The verified principal is kept on the worker context, so the ledger records
it as the events' actor without a service passing it along (see
``services.chassis.dependencies.Ledger``).
"""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from contracts.base import RpcContract
from services.chassis.errors import Forbidden, Unauthenticated
from services.chassis.principal import (
    COSIGNER_KEY, CONTEXT_KEY, Principal, PrincipalVerifier, load_verifier,
)
from services.chassis.principal import Unauthenticated as InvalidToken

_VERIFIED = "_vsc_principal"
_COSIGNER = "_vsc_cosigner"


def verified_principal(worker_ctx) -> Principal | None:
    """The principal the chassis verified for this call (None on open RPCs)."""
    return getattr(worker_ctx, _VERIFIED, None)


def verified_cosigner(worker_ctx) -> Principal | None:
    return getattr(worker_ctx, _COSIGNER, None)


class CallAuth:
    """One call's principal and, where a rule needs a second person, theirs."""

    def __init__(self, verifier: PrincipalVerifier, worker_ctx):
        self._verifier, self._ctx = verifier, worker_ctx

    def _verify(self, key: str) -> Principal:
        try:
            return self._verifier.verify(self._ctx.data.get(key))
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from None

    def require(self, contract: RpcContract) -> Principal | None:
        if contract.open:
            return None
        principal = self._verify(CONTEXT_KEY)
        if principal.password_change_required and not contract.while_password_change:
            raise Forbidden("change your one-time password first (staff.change_own_password)",
                            reason="password_change_required")
        if not principal.holds(contract.roles):
            raise Forbidden(f"{contract.service}.{contract.method} needs one of the roles "
                            f"{', '.join(sorted(contract.roles))}", reason="role_required")
        setattr(self._ctx, _VERIFIED, principal)
        return principal

    @property
    def context(self) -> dict:
        """The call's context data (untrusted, except what was verified)."""
        return self._ctx.data

    @property
    def principal(self) -> Principal:
        principal = verified_principal(self._ctx)
        if principal is None:
            raise Unauthenticated("no principal: log in first")
        return principal

    def cosigner(self, roles, purpose: str) -> Principal:
        """The second person's own principal (their login at the desk), who
        must hold one of ``roles``; refused when absent or not valid."""
        if not self._ctx.data.get(COSIGNER_KEY):
            raise Forbidden(f"{purpose}: the {'/'.join(sorted(roles))} confirms with their own login",
                            reason="cosigner_required", fields={"cosigner": ["required"]})
        try:
            cosigner = self._verifier.verify(self._ctx.data.get(COSIGNER_KEY))
        except InvalidToken as exc:
            raise Unauthenticated(f"cosigner: {exc}", fields={"cosigner": [str(exc)]}) from None
        if cosigner.password_change_required or not cosigner.holds(roles):
            raise Forbidden(f"{purpose}: the cosigner must hold one of the roles {', '.join(sorted(roles))}",
                            reason="cosigner_role_required", fields={"cosigner": ["wrong role"]})
        setattr(self._ctx, _COSIGNER, cosigner)
        return cosigner

    def optional_cosigner(self, roles, purpose: str) -> Principal | None:
        """The caller when they hold one of ``roles``, else the cosigner when
        the call carries one (checked as :meth:`cosigner`), else None: for a
        rule that needs the second person only in some states (the decider
        refuses when it needs them and they are absent)."""
        principal = self.principal
        if principal.holds(roles):
            return principal
        return self.cosigner(roles, purpose) if self._ctx.data.get(COSIGNER_KEY) else None

    def principal_or_cosigner(self, roles, purpose: str) -> Principal:
        """The caller when they hold one of ``roles`` themselves, else the cosigner."""
        principal = self.principal
        return principal if principal.holds(roles) else self.cosigner(roles, purpose)


class Auth(DependencyProvider):
    """``self.auth`` in a service: the verifier is loaded once, at start (a
    missing or unreadable public key stops the service with a clear message)."""

    def setup(self):
        self.verifier = load_verifier(self.container.config)

    def get_dependency(self, worker_ctx):
        return CallAuth(self.verifier, worker_ctx)
