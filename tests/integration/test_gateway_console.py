"""The desk console over the real broker: every service in this process, the
gateway on a local port, staff logging in with their own passwords."""
import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

import eventlet
import pytest
from services.gateway.screens import SCREENS
from tests.integration.gateway_support import PASSWORD, csrf_of, start_system, system  # noqa: F401 (fixture)

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]


def menu_links(html: str) -> set[str]:
    menu = re.search(r'<nav class="menu".*?</nav>', html, re.S)
    return set(re.findall(r'href="([^"]+)"', menu.group(0))) if menu else set()


def test_wrong_password_is_401_with_a_clear_message_and_the_right_one_logs_in(system):
    browser = system.browser()
    page = browser.get(system.url + "/login")
    wrong = browser.post(system.url + "/login", data={"csrf_token": csrf_of(page), "staff_id": "wang.fang",
                                                      "password": "not-my-password"})
    assert wrong.status_code == 401
    assert "工号或密码错误。" in wrong.text
    assert "vsc_session" not in {c.name for c in browser.cookies if c.value != browser.cookies.get("vsc_session")}
    english = system.browser(language="en")
    page = english.get(system.url + "/login")
    wrong = english.post(system.url + "/login", data={"csrf_token": csrf_of(page), "staff_id": "nobody",
                                                      "password": "x"})
    assert wrong.status_code == 401 and "Wrong staff id or password." in wrong.text
    right = browser.post(system.url + "/login", data={"csrf_token": csrf_of(page := browser.get(
        system.url + "/login")), "staff_id": "wang.fang", "password": PASSWORD, "desk": "main-gate"})
    assert right.status_code == 200 and "王芳" in right.text


def test_a_clerk_signs_in_for_the_day_and_the_sheet_shows_it_in_the_site_time_zone(system):
    clerk = system.browser("wang.fang")
    page = clerk.get(system.url + "/desk/day")
    assert 'autofocus' in page.text and ">签到<" in page.text
    before = system.head()
    done = clerk.post(system.url + "/desk/day", data={"csrf_token": csrf_of(page), "desk": "main-gate"})
    assert done.status_code == 200 and "已签到" in done.text
    assert system.head() == before + 1
    row = re.search(r"<td>wang\.fang</td><td>王芳</td><td>(\d{4}-\d\d-\d\d \d\d:\d\d)</td>", done.text)
    assert row, done.text[-800:]
    from services.eventstore import open_store
    with open_store(system.store_uri) as store:
        stored = list(store.read_all())[-1]
    signed_in_at = dt.datetime.fromisoformat(stored.data["signed_in_at"])
    assert signed_in_at.utcoffset() == dt.timedelta(0)  # stored in UTC, shown at the site
    assert row.group(1) == signed_in_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def test_missing_csrf_token_is_403_and_nothing_changes(system):
    clerk = system.browser("wang.fang")
    before = system.head()
    refused = clerk.post(system.url + "/desk/day", data={"desk": "main-gate"})
    assert refused.status_code == 403
    assert "表单已过期" in refused.text
    forged = clerk.post(system.url + "/desk/day", data={"desk": "main-gate", "csrf_token": "x" * 43})
    assert forged.status_code == 403
    assert system.head() == before


def test_an_oversized_form_is_413_and_nothing_changes(system):
    clerk = system.browser("wang.fang")
    page = clerk.get(system.url + "/desk/day")
    before = system.head()
    refused = clerk.post(system.url + "/desk/day", data={"csrf_token": csrf_of(page), "desk": "x" * 70_000})
    assert refused.status_code == 413
    assert system.head() == before


def test_what_a_role_may_not_do_it_does_not_see_and_the_service_refuses_it_anyway(system):
    auditor = system.browser("zhao.shen")
    page = auditor.get(system.url + "/desk/day?desk=main-gate")
    assert page.status_code == 200 and ">签到<" not in page.text  # the auditor reads the sheet, no button
    before = system.head()
    refused = auditor.post(system.url + "/desk/day", data={"csrf_token": csrf_of(page), "desk": "main-gate"})
    assert refused.status_code == 403 and "您的角色不能进行此操作" in refused.text
    assert system.head() == before
    # the nav: a clerk sees exactly the screens whose contracts admit a clerk, finance theirs
    clerk_menu = menu_links(system.browser("wang.fang").get(system.url + "/").text)
    finance_menu = menu_links(system.browser("li.cai").get(system.url + "/").text)
    for screen in SCREENS.values():
        if screen.nav and not screen.public:
            assert (screen.path in clerk_menu) == (not screen.roles or "clerk" in screen.roles), screen.path
            assert (screen.path in finance_menu) == (not screen.roles or "finance" in screen.roles), screen.path
    assert "/desk/day" in clerk_menu and "/desk/day" not in finance_menu
    assert system.browser("li.cai").get(system.url + "/desk/day").status_code == 403


def test_an_expired_session_goes_back_to_the_login_or_401(runner_factory, service_config, rpc_as):
    system = start_system(runner_factory, service_config, rpc_as, GATEWAY_SESSION_EXPIRE_SECONDS=2,
                          GATEWAY_IDLE_LOCK_SECONDS=600)
    clerk = system.browser("wang.fang")
    assert clerk.get(system.url + "/desk/day").status_code == 200
    eventlet.sleep(2.5)
    expired = clerk.get(system.url + "/desk/day", allow_redirects=False)
    assert expired.status_code == 303 and expired.headers["Location"].startswith("/login?next=/desk/day")
    assert clerk.get(system.url + "/desk/day", headers={"X-Requested-With": "fetch"}).status_code == 401
    assert clerk.get(system.url + "/events/stream").status_code == 401


def test_the_idle_lock_asks_the_same_clerk_again_or_lets_another_switch_in(runner_factory, service_config, rpc_as):
    system = start_system(runner_factory, service_config, rpc_as, GATEWAY_IDLE_LOCK_SECONDS=1)
    terminal = system.browser("wang.fang")
    eventlet.sleep(1.5)
    locked = terminal.get(system.url + "/desk/day", allow_redirects=False)
    assert locked.status_code == 303 and locked.headers["Location"].startswith("/lock")
    lock = terminal.get(system.url + "/lock")
    assert "王芳" in lock.text
    wrong = terminal.post(system.url + "/lock", data={"csrf_token": csrf_of(lock), "action": "unlock",
                                                      "password": "not-it"})
    assert wrong.status_code == 401
    unlocked = terminal.post(system.url + "/lock", data={"csrf_token": csrf_of(lock), "action": "unlock",
                                                         "password": PASSWORD, "next": "/desk/day"})
    assert unlocked.status_code == 200 and unlocked.url.endswith("/desk/day")
    eventlet.sleep(1.5)
    lock = terminal.get(system.url + "/lock")
    switched = terminal.post(system.url + "/lock", data={"csrf_token": csrf_of(lock), "action": "switch",
                                                         "staff_id": "zhou.min", "password": PASSWORD})
    assert switched.status_code == 200 and "周敏" in switched.text and "王芳" not in switched.text


def test_an_item_signed_in_at_one_desk_reaches_every_live_browser(system, relay_process):
    relay_process.start()
    watcher = system.browser("zhou.min", desk="east-gate")
    lines, connected = [], threading.Event()

    def listen():
        with watcher.get(system.url + "/events/stream", stream=True, timeout=30) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                lines.append(line.decode())
                connected.set()
                if line.startswith(b"data:"):
                    return

    listener = eventlet.spawn(listen)
    assert connected.wait(10)
    clerk = system.browser("wang.fang")
    page = clerk.get(system.url + "/desk/day")
    clerk.post(system.url + "/desk/day", data={"csrf_token": csrf_of(page), "desk": "main-gate"})
    listener.wait()
    assert "event: ClerkSignedIn" in lines
    data = next(line for line in lines if line.startswith("data:"))
    assert '"stream_id":"duty_day-main-gate-' in data and '"source":"duty_log"' in data
    assert "王芳" not in data and "wang.fang" not in data  # thin: ids, type, position


def test_english_is_remembered_and_dates_follow_the_language(system):
    clerk = system.browser("wang.fang")
    page = clerk.get(system.url + "/desk/day")
    english = clerk.post(system.url + "/language", data={"csrf_token": csrf_of(page), "language": "en",
                                                         "next": "/desk/day"})
    assert "Today&#39;s duty" in english.text and "Sign-in sheet" in english.text
    again = clerk.get(system.url + "/")
    assert "Hello, 王芳" in again.text


def test_an_admin_creates_an_account_whose_one_time_password_must_be_changed_first(system):
    admin = system.browser("root.admin")
    page = admin.get(system.url + "/admin/staff")
    assert page.status_code == 200 and "wang.fang" in page.text
    created = admin.post(system.url + "/admin/staff", data={
        "csrf_token": csrf_of(page), "action": "add", "staff_id": "qian.qi", "display_name": "钱七",
        "roles": ["custodian"], "desks": "main-gate, east-gate"})
    one_time = re.search(r'class="one-time-password"><code>([^<]+)</code>', created.text)
    assert created.status_code == 200 and one_time, created.text[-1500:]
    newcomer = system.browser()
    login = newcomer.get(system.url + "/login")
    first = newcomer.post(system.url + "/login", data={"csrf_token": csrf_of(login), "staff_id": "qian.qi",
                                                       "password": one_time.group(1)})
    assert first.url.endswith("/account/password")
    assert newcomer.get(system.url + "/desk/day", allow_redirects=False).headers["Location"] == "/account/password"
    changed = newcomer.post(system.url + "/account/password", data={
        "csrf_token": csrf_of(first), "current_password": one_time.group(1), "new_password": "Qian-own-pass-1",
        "repeat_password": "Qian-own-pass-1"})
    assert changed.status_code == 200 and "密码已修改" in changed.text and "钱七" in changed.text
    assert newcomer.get(system.url + "/desk/day").status_code == 200  # a custodian reads the sheet
    clerk = system.browser("wang.fang")
    assert "/admin/staff" not in menu_links(clerk.get(system.url + "/").text)
    assert clerk.get(system.url + "/admin/staff").status_code == 403
