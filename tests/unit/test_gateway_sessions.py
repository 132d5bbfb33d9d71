"""Console sessions: ids, CSRF tokens, the idle lock, expiry and refresh."""
from services.gateway.sessions import SessionStore, Signed, cookie_options


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def principal(now, ttl=1800, **kwargs):
    return Signed(token="tok", staff_id="wang.fang", name="王芳", roles=frozenset({"clerk"}), desk="main-gate",
                  expires_at=now + ttl, issued_at=now, **kwargs)


def test_a_new_session_has_unguessable_distinct_ids_and_csrf_tokens():
    store = SessionStore()
    first, second = store.new(), store.new()
    assert first.session_id != second.session_id and first.csrf != second.csrf
    assert len(first.session_id) >= 40 and len(first.csrf) >= 40
    assert store.get(first.session_id) is first
    assert store.get("not-a-session") is None and store.get(None) is None and store.get("x" * 500) is None


def test_logging_in_gives_a_new_id_and_csrf_token_and_the_old_id_dies():
    clock = Clock()
    store = SessionStore(clock=clock)
    anonymous = store.new()
    logged_in = store.log_in(anonymous, principal(clock.now))
    assert logged_in.session_id != anonymous.session_id and logged_in.csrf != anonymous.csrf
    assert store.get(anonymous.session_id) is None
    assert store.get(logged_in.session_id).staff_id == "wang.fang"


def test_csrf_token_must_match_exactly():
    session = SessionStore().new()
    assert session.csrf_ok(session.csrf)
    for wrong in (None, "", session.csrf[:-1], session.csrf + "x", 42):
        assert not session.csrf_ok(wrong)


def test_an_idle_session_locks_then_expires_and_use_keeps_it_open():
    clock = Clock()
    store = SessionStore(idle_lock_seconds=300, expire_seconds=3600, clock=clock)
    session = store.log_in(store.new(), principal(clock.now, ttl=7200))
    clock.now += 299
    assert not store.get(session.session_id).locked
    store.touch(session)
    clock.now += 299
    assert not store.get(session.session_id).locked  # used 299 s ago
    clock.now += 2
    assert store.get(session.session_id).locked
    clock.now += 3600
    assert store.get(session.session_id) is None
    assert len(store) == 0


def test_a_session_ends_when_its_principal_expires():
    clock = Clock()
    store = SessionStore(idle_lock_seconds=10_000, expire_seconds=10_000, clock=clock)
    session = store.log_in(store.new(), principal(clock.now, ttl=60))
    clock.now += 59
    assert store.get(session.session_id) is session
    clock.now += 2
    assert store.get(session.session_id) is None


def test_refresh_is_due_in_the_second_half_of_the_principal_life_and_never_while_locked():
    clock = Clock()
    store = SessionStore(clock=clock)
    session = store.log_in(store.new(), principal(clock.now, ttl=1800))
    clock.now += 800
    assert not store.needs_refresh(session)
    clock.now += 200
    assert store.needs_refresh(session)
    session.locked = True
    assert not store.needs_refresh(session)


def test_a_full_store_evicts_the_least_recently_used():
    clock = Clock()
    store = SessionStore(max_sessions=3, clock=clock)
    sessions = []
    for _ in range(3):
        sessions.append(store.new())
        clock.now += 1
    store.touch(sessions[0])
    store.new()
    assert store.get(sessions[1].session_id) is None
    assert store.get(sessions[0].session_id) is sessions[0]
    assert len(store) == 3


def test_cookie_is_httponly_strict_and_secure_over_tls():
    assert cookie_options(False) == {"httponly": True, "samesite": "Strict", "secure": False, "path": "/"}
    assert cookie_options(True)["secure"] is True


def test_principal_from_the_staff_services_reply():
    signed = Signed.from_reply({"token": "t", "staff_id": "li.fin", "name": "李", "roles": ["finance"], "desk": None,
                                "issued_at": "2026-05-01T08:00:00+08:00", "expires_at": "2026-05-01T08:30:00+08:00",
                                "password_change_required": False})
    assert signed.expires_at - signed.issued_at == 1800
    assert signed.holds({"finance", "lead"}) and not signed.holds({"clerk"})
