"""Console sessions, kept on the server: the browser holds only a random id
in a cookie (HttpOnly, SameSite=Strict, Secure over TLS).

A session holds the principal the staff service's ``login`` issued (the
token is passed with every RPC, never read for a rule here), its CSRF token,
and when it was last used:

- idle for ``idle_lock_seconds``: locked (the lock screen asks the same
  clerk's password again, or another clerk logs in: the quick switch);
- idle for ``expire_seconds``, or its principal expired without a refresh:
  gone (log in again);
- while in use, the principal is refreshed (staff ``refresh``) once less
  than ``refresh_margin`` of its life is left.

Sessions live in the gateway process's memory: a restart of the gateway
logs every terminal out (and nothing else).
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "vsc_session"
LANGUAGE_COOKIE = "vsc_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Signed:
    """What the console keeps of a principal (from the staff service's
    ``PrincipalReply``): the token itself and what the pages show."""
    token: str
    staff_id: str
    name: str
    roles: frozenset
    desk: str | None
    expires_at: float            # epoch seconds
    issued_at: float
    password_change_required: bool = False

    @classmethod
    def from_reply(cls, reply: dict) -> Signed:
        import datetime as dt
        return cls(reply["token"], reply["staff_id"], reply["name"], frozenset(reply["roles"]), reply.get("desk"),
                   dt.datetime.fromisoformat(reply["expires_at"]).timestamp(),
                   dt.datetime.fromisoformat(reply["issued_at"]).timestamp(),
                   bool(reply.get("password_change_required")))

    def holds(self, roles) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclass
class Session:
    session_id: str
    csrf: str
    created: float
    last_seen: float
    principal: Signed | None = None
    locked: bool = False
    notices: list = field(default_factory=list)  # one-time messages for the next page

    @property
    def staff_id(self) -> str | None:
        return self.principal.staff_id if self.principal else None

    def csrf_ok(self, given) -> bool:
        return isinstance(given, str) and bool(given) and hmac.compare_digest(given.encode(), self.csrf.encode())

    def flash(self, message: str, kind: str = "info") -> None:
        self.notices.append((kind, message))

    def take_notices(self) -> list:
        notices, self.notices = self.notices, []
        return notices


class SessionStore:
    """Sessions by id, in memory; ``clock`` returns epoch seconds (tests move it)."""

    def __init__(self, idle_lock_seconds: float = 300, expire_seconds: float = 3600,
                 refresh_margin: float = 0.5, max_sessions: int = 10_000, clock=time.time):
        self.idle_lock_seconds = idle_lock_seconds
        self.expire_seconds = expire_seconds
        self.refresh_margin = refresh_margin
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._sessions)

    def new(self) -> Session:
        now = self.clock()
        session = Session(new_secret(), new_secret(), now, now)
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                self._evict(now)
            self._sessions[session.session_id] = session
        return session

    def _evict(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[sid]
        while len(self._sessions) >= self.max_sessions:  # the least recently used go first
            del self._sessions[min(self._sessions, key=lambda sid: self._sessions[sid].last_seen)]

    def _expired(self, session: Session, now: float) -> bool:
        if now - session.last_seen > self.expire_seconds:
            return True
        return session.principal is not None and session.principal.expires_at <= now

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (None when unknown or expired).
        Does not touch it: :meth:`touch` does, for a request that counts as use."""
        if not session_id or not isinstance(session_id, str) or len(session_id) > 100:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            self.drop(session)
            return None
        if session.principal is not None and now - session.last_seen > self.idle_lock_seconds:
            session.locked = True
        return session

    def touch(self, session: Session) -> None:
        session.last_seen = self.clock()

    def needs_refresh(self, session: Session) -> bool:
        principal = session.principal
        if principal is None or session.locked:
            return False
        life = max(principal.expires_at - principal.issued_at, 1)
        return principal.expires_at - self.clock() < life * self.refresh_margin

    def log_in(self, session: Session, principal: Signed) -> Session:
        """A new session id for the logged-in session (the old id dies: no
        session fixation); the CSRF token is new too."""
        with self._lock:
            self._sessions.pop(session.session_id, None)
            now = self.clock()
            fresh = Session(new_secret(), new_secret(), now, now, principal, False, session.notices)
            self._sessions[fresh.session_id] = fresh
        return fresh

    def drop(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.session_id, None)


def cookie_options(secure: bool) -> dict:
    return {"httponly": True, "samesite": "Strict", "secure": secure, "path": "/"}
