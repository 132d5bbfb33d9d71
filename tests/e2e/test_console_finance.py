"""The monthly handover to finance (移交财务) in Chromium against the running
system: an item turned in long ago (its retention over) is drawn onto the
custodian's list, handed over, and finance signs the list off with their own
login at the custodian's terminal; the list then shows who signed and when,
in the site's time zone. A clerk cannot reach the list.

A fresh system has no item past its retention, and the console's turn-in
form takes no business time (it is the turn-in's ``at``, not ``found_at``,
that starts the retention: deploy/config.yaml RETENTION_DAYS), so the clerk
turns the item in over the JSON API with ``at`` 100 days ago (within
BUSINESS_TIME_MAX_AGE_DAYS)."""
import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.pages import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.rabbit, pytest.mark.slow]

SITE_ZONE = ZoneInfo("Asia/Shanghai")  # TIMEZONE of the system in tests/e2e/conftest.py


def api_login(api, staff_id, password, desk=None) -> dict:
    reply = api.post("/api/login", data={"staff_id": staff_id, "password": password, "desk": desk})
    assert reply.ok, reply.text()
    return {"Authorization": f"Bearer {reply.json()['token']}", "Content-Type": "application/json"}


def test_the_custodian_hands_an_expired_item_to_finance_who_signs_off_with_their_own_login(new_context, system):
    # the clerk turned an umbrella in 100 days ago (kept 30 days): over the API, with that business time
    api = new_context().request
    clerk_auth = api_login(api, "c-017", system.password, "main-gate")
    turned_in = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=100)
    name = f"蓝色折叠伞 {uuid.uuid4().hex[:4]}"
    reply = api.post("/api/lost_and_found/turn_in_by_visitor", headers=clerk_auth, data={
        "desk": "main-gate", "item_name": name, "category": "umbrella", "description": "蓝色三折伞，木柄",
        "found_place": "南门广场", "found_at": (turned_in - dt.timedelta(hours=1)).isoformat(),
        "storage_place": "柜台架 1", "finder_name": "路人乙", "at": turned_in.isoformat(),
        "command_id": uuid.uuid4().hex})
    assert reply.ok, reply.text()
    item_id, code = reply.json()["item_id"], reply.json()["short_code"]

    # the custodian draws this month's list in the console
    custodian = login(new_context().new_page(), "k-001")
    custodian.goto("/desk/lf/finance")
    today = dt.datetime.now(SITE_ZONE).date()
    assert custodian.input_value("#f-month") == f"{today:%Y-%m}"
    handover_id = f"fh-e2e-{uuid.uuid4().hex[:8]}"
    custodian.fill("#f-handover_id", handover_id)
    shot(custodian, "70-finance-draw")
    custodian.click("form.form button[type=submit].primary")
    custodian.wait_for_url(re.compile(rf"/desk/lf/finance/{handover_id}$"))
    row = custodian.locator("#handover tr", has_text=code)
    row.wait_for()
    assert name in row.inner_text() and "已移交" in row.inner_text(), custodian.inner_text("main")
    assert custodian.locator("#signed-off").count() == 0
    shot(custodian, "71-finance-list-handed-over")

    # finance signs off at the custodian's terminal with their own login: a wrong password first
    custodian.fill("#f-cosigner_id", "f-001")
    custodian.fill("#f-cosigner_password", "not-their-password")
    custodian.click("#sign-off button[type=submit].primary")
    custodian.wait_for_selector("#sign-off .error, #sign-off .field-error, #sign-off [role=alert]")
    assert "工号或密码错误" in custodian.inner_text("#sign-off")
    # the banner names the cosigner's login, not "log in first" (the custodian is logged in)
    assert "确认人的工号或密码错误" in custodian.inner_text("main") and "请先登录" not in custodian.inner_text("main")
    assert custodian.locator("#signed-off").count() == 0
    shot(custodian, "72-finance-sign-off-wrong-password")
    custodian.fill("#f-cosigner_id", "f-001")
    custodian.fill("#f-cosigner_password", system.password)
    shot(custodian, "73-finance-sign-off")
    custodian.click("#sign-off button[type=submit].primary")
    custodian.wait_for_selector("#signed-off")
    signed = custodian.inner_text("#signed-off")
    assert "钱会计" in signed, custodian.inner_text("main")
    assert custodian.locator("#sign-off").count() == 0  # signed once; no second sign-off offered

    # by whom and when, as stored (UTC), shown in the site's time zone
    finance_auth = api_login(api, "f-001", system.password)
    stored = api.post("/api/forms/finance_handover_list", headers=finance_auth, data={"handover_id": handover_id})
    assert stored.ok, stored.text()
    stored = stored.json()
    assert stored["signed_by"] == "f-001" and stored["signer_name"] == "钱会计"
    signed_at = dt.datetime.fromisoformat(stored["signed_at"])
    assert f"{signed_at.astimezone(SITE_ZONE):%Y-%m-%d %H:%M}" in signed, signed
    transferred_at = dt.datetime.fromisoformat(stored["transferred_at"])
    assert f"{transferred_at.astimezone(SITE_ZONE):%Y-%m-%d %H:%M}" in custodian.inner_text("#transferred")
    assert [line["state"] for line in stored["lines"] if line["item_id"] == item_id] == ["handed_over"]
    shot(custodian, "74-finance-list-signed")

    # finance reads the same signed list with their own login
    finance = login(new_context().new_page(), "f-001")
    finance.goto(f"/desk/lf/finance/{handover_id}")
    assert "钱会计" in finance.inner_text("#signed-off") and code in finance.inner_text("#handover")
    assert finance.locator("#sign-off").count() == 0

    # the item now says so, and a clerk cannot reach the list nor draw one
    item = api.post("/api/lost_and_found/item", headers=clerk_auth, data={"item_id": item_id})
    assert item.ok and item.json()["status"] == "with_finance", item.text()
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    for path in (f"/desk/lf/finance/{handover_id}", "/desk/lf/finance"):
        response = clerk.goto(path)
        assert response.status == 403, (path, response.status)
        assert code not in clerk.content()
    assert clerk.locator("nav a[href='/desk/lf/finance']").count() == 0
    shot(clerk, "75-finance-list-clerk-forbidden")
