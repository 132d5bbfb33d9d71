"""The gateway's request handling with a fake caller in place of the
services: login, CSRF, the lock, refresh, role-filtered navigation, short
codes and the API's errors. (Over the real broker: tests/integration/test_gateway_*.)"""
import datetime as dt
import functools
import json
import re
from zoneinfo import ZoneInfo

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request

from services.gateway import screens
from services.gateway.app import Gateway, Settings, safe_next
from services.gateway.screens import CallFailed
from services.gateway.sessions import COOKIE

UTC = dt.timezone.utc


def reply_for(staff_id, roles, ttl=1800, now=None, token=None, **kwargs):
    now = now or dt.datetime.now(UTC)
    return {"token": token or f"token-of-{staff_id}", "staff_id": staff_id, "name": staff_id.upper(),
            "roles": sorted(roles), "desk": "main-gate", "issued_at": now.isoformat(),
            "expires_at": (now + dt.timedelta(seconds=ttl)).isoformat(), "password_change_required": False,
            **kwargs}


class FakeServices:
    """Answers like the services would; records every call."""

    def __init__(self):
        self.calls = []
        self.accounts = {"wang.fang": ("right-password", {"clerk"}), "li.fin": ("right-password", {"finance"}),
                         "zhao.min": ("right-password", {"custodian"})}
        self.ttl = 1800

    def __call__(self, service, method, payload=None, *, token=None, cosigner=None, source=None):
        self.calls.append((service, method, payload, token, source))
        if (service, method) == ("staff", "login"):
            account = self.accounts.get(payload.get("staff_id"))
            if account is None or account[0] != payload.get("password"):
                raise CallFailed(401, {"code": "unauthenticated", "message": "wrong staff id or password"})
            return reply_for(payload["staff_id"], account[1], self.ttl)
        if token is None:
            raise CallFailed(401, {"code": "unauthenticated", "message": "no principal: log in first"})
        if (service, method) == ("staff", "refresh"):
            staff_id = token.split("-of-")[-1].split("#")[0]
            return reply_for(staff_id, self.accounts[staff_id][1], self.ttl, token=f"token-of-{staff_id}#fresh")
        if (service, method) == ("staff", "change_own_password"):
            staff_id = token.split("-of-")[-1].split("#")[0]
            if payload.get("current_password") != self.accounts[staff_id][0]:
                raise CallFailed(401, {"code": "unauthenticated", "message": "wrong password"})
            return reply_for(staff_id, self.accounts[staff_id][1], self.ttl, token=f"token-of-{staff_id}#changed")
        if (service, method) == ("forms", "sign_in_sheet"):
            return {"desk": payload["desk"], "shift_date": payload["shift_date"], "rows": [], "as_of_position": 0}
        if (service, method) == ("duty_log", "sign_in"):
            if "clerk" not in self.accounts[token.split("-of-")[-1].split("#")[0]][1]:
                raise CallFailed(403, {"code": "forbidden", "message": "duty_log.sign_in needs one of the roles clerk"})
            if not payload.get("desk"):
                raise CallFailed(400, {"code": "validation_failed", "message": "invalid input: desk",
                                       "fields": {"desk": ["Missing data for required field."]}})
            return {"stream_id": "s", "version": 1, "positions": [1], "event_ids": ["e"], "duplicate": False,
                    "signed_in_at": "2026-05-01T07:28:00+08:00", "shift_date": "2026-05-01"}
        if (service, method) in LOST_AND_FOUND_REPLIES:  # what the lost-and-found screens read
            return LOST_AND_FOUND_REPLIES[service, method](payload)
        return {"echo": payload}


APPENDED = {"stream_id": "s", "version": 2, "positions": [2], "event_ids": ["e"], "duplicate": False}
FAKE_ITEM = {"item_id": "it-1", "short_code": "LF-AB2CD3", "desk": "main-gate", "item_name": "黑色雨伞",
             "status": "held"}
FAKE_DISPOSAL = {"disposal_id": "dp-1", "route": "destroy", "receiver": None, "custodian_id": "zhao.min",
                 "drawn_at": "2026-05-01T02:00:00+00:00", "recorded_at": "2026-05-01T02:00:01+00:00",
                 "lines": [], "receiver_name": None, "receiver_reference": None, "witness_id": None,
                 "witness_name": None, "signed_by": None, "signed_at": None, "signatures": [], "as_of_position": 3}
LOST_AND_FOUND_REPLIES = {
    ("forms", "open_cases"): lambda payload: {"desk": None, "items": [], "reports": [], "as_of_position": 0},
    ("forms", "disposal_list"): lambda payload: dict(FAKE_DISPOSAL, disposal_id=payload.get("disposal_id")),
    ("lost_and_found", "dispose_items"): lambda payload: {
        "disposal_id": payload.get("disposal_id"), "route": payload.get("route"), "item_ids": [],
        "disposed_item_ids": [], "withdrawn_item_ids": [], "steps": []},
    ("lost_and_found", "sign_off_disposal"): lambda payload: APPENDED,
    ("lost_and_found", "item"): lambda payload: dict(FAKE_ITEM, item_id=payload.get("item_id")),
    ("lost_and_found", "capture_signature"): lambda payload: dict(APPENDED, part=payload.get("part"),
                                                                  signer_kind="finder", signer_id=None),
}


@pytest.fixture
def services():
    return FakeServices()


@pytest.fixture
def gateway():
    return Gateway(Settings(ZoneInfo("Asia/Shanghai"), idle_lock_seconds=300, expire_seconds=3600,
                            max_body_bytes=2048))


@pytest.fixture
def client(gateway, services):
    def app(environ, start_response):
        return gateway.handle(Request(environ), services)(environ, start_response)
    return Client(app)


def csrf_of(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def log_in(client, staff_id="wang.fang", password="right-password"):
    token = csrf_of(client.get("/login"))
    return client.post("/login", data={"csrf_token": token, "staff_id": staff_id, "password": password,
                                       "desk": "main-gate", "next": "/desk/day"})


def test_a_page_needs_a_login_and_comes_back_after_it(client):
    response = client.get("/desk/day?desk=x")
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=/desk/day%3Fdesk%3Dx"
    response = log_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/desk/day"
    assert client.get("/desk/day").status_code == 200


def test_the_session_cookie_is_httponly_strict_and_renewed_at_login(client):
    first = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in first and "SameSite=Strict" in first and "Secure" not in first
    after = log_in(client).headers.getlist("Set-Cookie")
    assert any(c.startswith(COOKIE) for c in after)
    assert first.split(";")[0] not in [c.split(";")[0] for c in after]


def test_secure_cookie_behind_a_trusted_tls_proxy(services):
    gateway = Gateway(Settings(ZoneInfo("Asia/Shanghai"), trust_forwarded=True))
    def client():
        return Client(lambda env, start: gateway.handle(Request(env), services)(env, start))
    assert "Secure" in client().get("/login", headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]
    assert "Secure" not in client().get("/login").headers["Set-Cookie"]
    untrusting = Gateway(Settings(ZoneInfo("Asia/Shanghai")))
    direct = Client(lambda env, start: untrusting.handle(Request(env), services)(env, start))
    assert "Secure" not in direct.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]


def test_the_login_source_is_the_peer_or_what_a_trusted_proxy_adds(services):
    for trust, expected in ((False, "127.0.0.1"), (True, "203.0.113.7")):
        gateway = Gateway(Settings(ZoneInfo("Asia/Shanghai"), trust_forwarded=trust))
        client = Client(lambda env, start: gateway.handle(Request(env), services)(env, start))
        client.post("/api/login", json={"staff_id": "wang.fang", "password": "right-password"},
                    headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert services.calls[-1][4] == expected


def test_wrong_password_is_401_with_a_clear_message_in_the_users_language(client):
    token = csrf_of(client.get("/login"))
    response = client.post("/login", data={"csrf_token": token, "staff_id": "wang.fang", "password": "nope"})
    assert response.status_code == 401
    assert "工号或密码错误。" in response.get_data(as_text=True)
    client.set_cookie("vsc_lang", "en")
    response = client.post("/login", data={"csrf_token": token, "staff_id": "wang.fang", "password": "nope"})
    assert response.status_code == 401 and "Wrong staff id or password." in response.get_data(as_text=True)


def test_a_state_change_without_the_csrf_token_is_403_and_calls_nothing(client, services):
    log_in(client)
    before = len(services.calls)
    response = client.post("/desk/day", data={"desk": "main-gate"})
    assert response.status_code == 403
    assert len(services.calls) == before
    response = client.post("/desk/day", data={"desk": "main-gate", "csrf_token": "forged"})
    assert response.status_code == 403 and len(services.calls) == before
    token = csrf_of(client.get("/desk/day?desk=main-gate"))
    before = len(services.calls)
    assert client.post("/desk/day", data={"desk": "main-gate"}, headers={"X-CSRF-Token": token}).status_code == 303
    assert ("duty_log", "sign_in") in [(c[0], c[1]) for c in services.calls[before:]]


def test_a_login_without_the_forms_csrf_token_is_refused(client, services):
    client.get("/login")
    response = client.post("/login", data={"staff_id": "wang.fang", "password": "right-password"})
    assert response.status_code == 403 and not any(c[1] == "login" for c in services.calls)


def test_field_errors_from_the_service_are_shown_next_to_the_field_in_chinese(gateway, client):
    log_in(client)
    next(iter(gateway.sessions._sessions.values())).principal.desk = None  # logged in at no desk
    token = csrf_of(client.get("/desk/day?desk=main-gate"))
    response = client.post("/desk/day", data={"desk": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="f-desk"[^>]*aria-invalid="true"', html)
    assert '<span class="field-error" id="e-desk">必填</span>' in html


def test_the_nav_shows_only_what_the_roles_may_use_and_the_service_refuses_the_rest(client, services):
    log_in(client, "li.fin")
    html = client.get("/").get_data(as_text=True)
    menu = re.search(r'<nav class="menu".*?</nav>', html, re.S)
    shown = set(re.findall(r'href="([^"]+)"', menu.group(0))) if menu else set()
    principal = screens.SCREENS["home.home"]  # any screen: the registry's view of this user's nav
    expected = {s.path for s in screens.SCREENS.values() if s.nav and not s.public and
                (not s.roles or "finance" in s.roles)}
    assert principal and shown == expected
    assert "/desk/day" not in shown  # finance reads no sign-in sheet
    assert client.get("/desk/day").status_code == 403  # the screen's roles are the contract's


def test_an_idle_session_locks_the_same_clerk_unlocks_and_another_can_switch(gateway, client, services):
    log_in(client)
    session = next(iter(gateway.sessions._sessions.values()))
    session.last_seen -= 301
    response = client.get("/desk/day")
    assert response.status_code == 303 and response.headers["Location"].startswith("/lock")
    lock = client.get("/lock")
    assert "WANG.FANG" in lock.get_data(as_text=True)
    token = csrf_of(lock)
    assert client.post("/lock", data={"csrf_token": token, "action": "unlock", "password": "nope"}).status_code == 401
    response = client.post("/lock", data={"csrf_token": token, "action": "unlock", "password": "right-password"})
    assert response.status_code == 303 and client.get("/desk/day").status_code == 200
    session.last_seen -= 301
    token = csrf_of(client.get("/lock"))
    response = client.post("/lock", data={"csrf_token": token, "action": "switch", "staff_id": "li.fin",
                                          "password": "right-password"})
    assert response.status_code == 303
    assert [s.staff_id for s in gateway.sessions._sessions.values()] == ["li.fin"]


def test_a_live_lists_background_refresh_does_not_keep_the_session_unlocked(gateway, client):
    log_in(client)
    session = next(iter(gateway.sessions._sessions.values()))
    session.last_seen -= 200
    assert client.get("/desk/day?desk=main-gate", headers={"X-Requested-With": "fetch-html"}).status_code == 200
    session.last_seen -= 101
    assert client.get("/desk/day").headers["Location"].startswith("/lock")


def test_the_principal_is_refreshed_while_in_use(gateway, client, services):
    services.ttl = 60
    log_in(client)
    session = next(iter(gateway.sessions._sessions.values()))
    session.principal.expires_at = session.principal.issued_at + 60
    session.principal.issued_at -= 200  # 60 s of 260 left: due
    client.get("/desk/day?desk=main-gate")
    assert ("staff", "refresh") in [(c[0], c[1]) for c in services.calls]
    assert session.principal.token.endswith("#fresh")
    assert services.calls[-1][3].endswith("#fresh")  # the page's own call carried the fresh principal


def test_an_expired_session_goes_to_the_login_page_or_401(gateway, client):
    log_in(client)
    session = next(iter(gateway.sessions._sessions.values()))
    session.last_seen -= 3601
    response = client.get("/desk/day")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert client.get("/desk/day", headers={"X-Requested-With": "fetch"}).status_code == 401


def test_logout_ends_the_session(gateway, client):
    log_in(client)
    token = csrf_of(client.get("/"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert len(gateway.sessions) == 0 and client.get("/").status_code == 303


def test_short_codes_open_in_any_case(client):
    screens.short_code("zz")(lambda request, code: f"/things/{code}")
    try:
        log_in(client)
        assert client.get("/go?code=zz-ab12cd").headers["Location"] == "/things/ZZ-AB12CD"
        assert client.get("/go?code=%20ZZ-AB12CD%20").headers["Location"] == "/things/ZZ-AB12CD"
        assert client.get("/go?code=qq-ab12cd").status_code == 404
        assert client.get("/go?code=<script>").status_code == 404
    finally:
        screens.SHORT_CODES.pop("zz")


def test_the_language_choice_is_remembered(client):
    token = csrf_of(client.get("/login"))
    response = client.post("/language", data={"csrf_token": token, "language": "en", "next": "/login"})
    assert "vsc_lang=en" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_redirect_targets_stay_on_this_site():
    assert safe_next("/desk/day?x=1") == "/desk/day?x=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil", "javascript:alert(1)", None, ""):
        assert safe_next(bad) == "/"


# -- the API ------------------------------------------------------------------------
def api(client, path, body=b"{}", token="token-of-wang.fang", **headers):
    headers = {"Content-Type": "application/json", **headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, data=body, headers=headers)


def test_api_login_returns_the_principal_and_a_wrong_password_is_401(client):
    response = api(client, "/api/login", json.dumps({"staff_id": "wang.fang", "password": "right-password"}), None)
    assert response.status_code == 200 and response.json["token"] == "token-of-wang.fang"
    response = api(client, "/api/login", json.dumps({"staff_id": "wang.fang", "password": "x"}), None)
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthenticated", "message": "wrong staff id or password",
                                       "field": None}}


def test_api_errors_are_structured_with_the_right_status(client, services):
    before = len(services.calls)
    assert api(client, "/api/forms/sign_in_sheet", b"{not json").json["error"]["code"] == "malformed_json"
    assert api(client, "/api/forms/sign_in_sheet", b"{not json").status_code == 400
    assert api(client, "/api/forms/sign_in_sheet", b"[1, 2]").status_code == 400
    assert api(client, "/api/forms/sign_in_sheet", b"{}" + b" " * 4096).status_code == 413
    assert api(client, "/api/forms/sign_in_sheet", b"{}", None).status_code == 401
    assert api(client, "/api/forms/sign_in_sheet", b"{}", None).headers["WWW-Authenticate"].startswith("Bearer")
    assert api(client, "/api/staff/add_staff").status_code == 404  # administration is `vsc staff`'s
    assert api(client, "/api/nothing/here").status_code == 404
    assert client.get("/api/forms/sign_in_sheet").status_code == 405
    assert api(client, "/api/forms/sign_in_sheet", b"a=1", **{"Content-Type": "text/plain"}).status_code == 415
    assert len(services.calls) == before  # none of these reached a service
    response = api(client, "/api/duty_log/sign_in", b'{"desk": ""}')
    assert response.status_code == 400
    assert response.json["error"]["field"] == "desk" and response.json["error"]["fields"] == {
        "desk": ["Missing data for required field."]}
    response = api(client, "/api/duty_log/sign_in", b'{"desk": "x"}', "token-of-li.fin")
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_api_never_answers_500_when_a_service_fails(gateway, services):
    def broken(*args, **kwargs):
        raise CallFailed(503, {"code": "unavailable", "message": "forms did not answer within 15s"})

    def crashing(*args, **kwargs):
        raise RuntimeError("a bug")
    for caller, status in ((broken, 503), (crashing, 502)):
        client = Client(lambda env, start, caller=caller: gateway.handle(Request(env), caller)(env, start))
        response = api(client, "/api/forms/sign_in_sheet")
        assert response.status_code == status and "error" in response.json


def test_the_openapi_document_and_its_docs_page(client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert "/api/login" in document["paths"] and "/api/lost_and_found/turn_in_by_staff" in document["paths"]
    assert "/api/staff/add_staff" not in document["paths"]
    operation = document["paths"]["/api/duty_log/sign_in"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404", "409", "413", "422", "502", "503"}
    assert operation["security"] == [{"bearer": []}]
    page = client.get("/api/docs")
    assert page.status_code == 200 and "POST /api/duty_log/sign_in" in page.get_data(as_text=True)
    assert "http" not in re.sub(r'href="/[^"]*"', "", page.get_data(as_text=True)).split("</head>")[0]  # no CDN


def test_a_bug_in_a_screen_is_a_logged_502_page_never_a_500(gateway, services):
    logged = []

    class Log:
        def error(self, event, **ids):
            logged.append((event, ids))
    gateway.log = Log()

    @screens.screen("/test/broken", name="test.broken")
    def broken(request, session):
        raise KeyError("personal data must not reach the log: 王芳")
    gateway.screen_map = screens.url_map()
    try:
        client = Client(lambda env, start: gateway.handle(Request(env), services)(env, start))
        log_in(client)
        response = client.get("/test/broken")
        assert response.status_code == 502 and "服务出错" in response.get_data(as_text=True)
        assert logged[0][0] == "gateway.unexpected_error" and logged[0][1]["error"] == "KeyError"
        assert "王芳" not in repr(logged)
    finally:
        screens.SCREENS.pop("test.broken")
        gateway.screen_map = screens.url_map()


def test_the_page_tells_the_terminal_when_to_lock_and_a_busy_person_keeps_it_open(gateway, client):
    log_in(client)
    page = client.get("/desk/day?desk=main-gate")
    assert 'data-idle-lock="300"' in page.get_data(as_text=True)
    session = next(iter(gateway.sessions._sessions.values()))
    session.last_seen -= 250
    assert client.post("/session/alive", headers={"X-CSRF-Token": csrf_of(page),
                                                  "X-Requested-With": "fetch"}).status_code == 204
    session.last_seen -= 100  # 350 s since the page, 100 s since the person was last busy
    assert client.get("/desk/day").status_code == 200
    assert client.post("/session/alive", headers={"X-Requested-With": "fetch"}).status_code == 403  # no CSRF
    lock_page = client.get("/lock")
    assert lock_page.status_code == 303  # not locked: back to the page


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

PATHS = ["/", "/login", "/logout", "/lock", "/language", "/account/password", "/desk/day", "/go", "/admin/staff",
         "/session/alive", "/events/nope", "/static/console.css", "/static/../app.py", "/api/login",
         "/api/duty_log/sign_in", "/api/openapi.json", "/api/docs", "/nothing",
         "/desk/lf/disposal", "/desk/lf/disposal/dp-1", "/desk/lf/disposal/dp-1/sign/disposal_witness",
         "/desk/lf/items/it-1/sign/registration_finder", "/desk/lf/items/it-1/sign/nope"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
#: what a signature pad may send: a data URL, well formed or not
SIGNATURES = st.builds(lambda kind, body: f"data:image/{kind};base64,{body}", st.sampled_from(["png", "gif"]),
                       st.sampled_from(["", "iVBORw0KGgo=", "iVBORw0KGgoAAAANSUhEUg==", "!!"]))


@functools.cache
def _shared_gateway():
    return Gateway(Settings(ZoneInfo("Asia/Shanghai"), max_body_bytes=4096))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]),
       query=st.dictionaries(st.sampled_from(["next", "code", "desk", "x"]), TEXT, max_size=3),
       form=st.dictionaries(st.sampled_from(["csrf_token", "staff_id", "password", "desk", "action", "language",
                                             "next", "new_password", "repeat_password", "roles", "route",
                                             "receiver", "disposal_id", "item_id", "receiver_name",
                                             "receiver_reference", "cosigner_id", "cosigner_password",
                                             "signature", "signing_desk"]), TEXT | SIGNATURES, max_size=6),
       logged_in=st.booleans(), with_csrf=st.booleans(), who=st.sampled_from(["wang.fang", "zhao.min"]))
def test_no_console_request_is_a_server_error(path, method, query, form, logged_in, with_csrf, who):
    services = FakeServices()
    gateway = _shared_gateway()
    client = Client(lambda env, start: gateway.handle(Request(env), services)(env, start))
    token = csrf_of(client.get("/login"))
    if logged_in:
        client.post("/login", data={"csrf_token": token, "staff_id": who, "password": "right-password"})
        token = csrf_of(client.get("/"))
    if with_csrf:
        form = dict(form, csrf_token=token)
    response = client.open(path, method=method, query_string=query, data=form if method != "GET" else None)
    assert response.status_code < 500, (path, method, response.status_code)
    if path.startswith("/static/.."):
        assert response.status_code == 404
    location = response.headers.get("Location", "")
    assert not location.startswith("//") and "://" not in location  # never sent elsewhere


def test_a_clerk_changes_their_own_password_and_stays_logged_in(client):
    token = csrf_of(client.get("/login"))
    client.post("/login", data={"csrf_token": token, "staff_id": "wang.fang", "password": "right-password"})
    token = csrf_of(client.get("/account/password"))
    refused = client.post("/account/password", data={"csrf_token": token, "current_password": "wrong",
                                                     "new_password": "a-new-one-1", "repeat_password": "a-new-one-1"})
    assert refused.status_code == 401
    changed = client.post("/account/password", data={"csrf_token": token, "current_password": "right-password",
                                                      "new_password": "a-new-one-1", "repeat_password": "a-new-one-1"})
    assert changed.status_code in (302, 303) and changed.headers["Location"].endswith("/")
