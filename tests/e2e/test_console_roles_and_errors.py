"""The console in Chromium beyond the main flow: a valuable handed to the
custodian, who confirms with their own login; the same in English; one
whole turn-in by keyboard only; what a clerk and an auditor may not do (not
shown, and refused when reached anyway); wrong password, expired session,
missing CSRF token, malformed JSON, oversized body: the right status and a
clear message, and nothing changes. Every screen gets its screenshot."""
import re

import pytest

from tests.e2e.pages import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.rabbit, pytest.mark.slow]


def unclaimed_count(page) -> int:
    page.goto("/desk/lf")
    return page.locator("#unclaimed-items tr.item-row").count()


def register_valuable(page, name="黑色钱包", lang="zh"):
    page.goto("/desk/lf/turn-in/visitor")
    page.fill("#f-item_name", name)
    page.select_option("#f-category", "wallet")
    page.fill("#f-found_place", "索道上站")
    page.fill("#f-storage_place", "柜台抽屉 1")
    page.fill("#f-finder_name", "张三")
    page.fill("#f-description", "黑色皮质钱包，内有银行卡")
    page.fill("#f-hf_label_0", "内有物品")
    page.fill("#f-hf_detail_0", "一张写着小明的照片")
    page.click("form.form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/desk/lf/items/[0-9a-f]+"))
    return page.url.split("/desk/lf/items/")[1].split("?")[0]


def test_a_valuable_goes_to_the_custodian_who_confirms_with_their_own_login(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    item_id = register_valuable(clerk)
    clerk.goto("/desk/lf/checklist")
    assert clerk.locator(f"#valuables-awaiting-custody a[href='/desk/lf/items/{item_id}']").count() == 1
    shot(clerk, "20-checklist")
    clerk.goto(f"/desk/lf/items/{item_id}/custody")
    clerk.fill("#f-storage_place", "保险柜 2 号")
    # the clerk cannot confirm for the custodian: a wrong password is refused, nothing changes
    clerk.fill("#f-cosigner_id", "k-001")
    clerk.fill("#f-cosigner_password", "not-the-password")
    clerk.click("form.form button[type=submit].primary")
    assert "确认人的工号或密码错误" in clerk.inner_text("main")
    assert clerk.locator("#e-cosigner_password").count() == 1
    shot(clerk, "21-custody-wrong-password")
    clerk.fill("#f-storage_place", "保险柜 2 号")
    clerk.fill("#f-cosigner_id", "k-001")
    clerk.fill("#f-cosigner_password", system.password)  # the custodian types their own
    shot(clerk, "22-custody")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert clerk.inner_text("#item-status").strip() == "负责人保管"
    clerk.goto("/desk/lf/checklist")
    assert clerk.locator(f"#valuables-awaiting-custody a[href='/desk/lf/items/{item_id}']").count() == 0
    clerk.goto(f"/forms/lf/items/{item_id}")
    assert "k-001" in clerk.inner_text("#found-item-form") and "保险柜 2 号" in clerk.inner_text("#found-item-form")

    # the custodian's own screens: the finance handover, finance signs with their own login
    custodian = login(new_context().new_page(), "k-001")
    custodian.goto("/desk/lf/finance")
    shot(custodian, "23-finance-draw")
    custodian.click("form.form button[type=submit].primary")
    if "/desk/lf/finance/" in custodian.url:
        shot(custodian, "24-finance-list")
        custodian.fill("#f-cosigner_id", "f-001")
        custodian.fill("#f-cosigner_password", system.password)
        custodian.click("#sign-off button[type=submit].primary")
        custodian.wait_for_selector("#signed-off")
        shot(custodian, "25-finance-signed-off")
    else:  # nothing due this month: the service says so next to the form
        assert custodian.locator(".notice.error").count() == 1, custodian.inner_text("main")


def test_the_same_in_english_and_the_lead_on_a_phone(new_context, system):
    page = login(new_context(lang="en").new_page(), "c-023", "north-gate")
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    page.goto("/desk/lf")
    assert "Unclaimed items" in page.inner_text("main") and "Lost and found" in page.inner_text("nav.menu")
    item_id = register_valuable(page, name="black wallet", lang="en")
    assert page.inner_text("#item-status").strip() == "at the desk"
    assert "Hidden features (staff only" in page.inner_text("#hidden-features")
    shot(page, "30-item-en")
    page.goto(f"/desk/lf/items/{item_id}/verify")
    assert "Verify the claimant" in page.inner_text("main") and "一张写着小明的照片" not in page.content()
    shot(page, "31-verify-en")
    page.goto("/desk/lf/report")
    shot(page, "32-report-en")
    page.goto("/desk/lf")
    shot(page, "33-desk-en")

    lead = login(new_context(phone=True).new_page(), "l-001")
    lead.goto("/lead/day")
    assert lead.locator("#day-figures .kpi").count() == 4
    assert lead.locator("#valuables tbody tr").count() >= 1
    shot(lead, "34-lead-day-phone")
    wide = login(new_context().new_page(), "l-001")
    wide.goto("/lead/day")
    shot(wide, "35-lead-day")


def tab_to(page, field_id: str, limit: int = 20) -> None:
    """Tab (only) until the field has the focus (a date-time field takes a Tab per part)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.id") == field_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{field_id}")


def test_one_whole_turn_in_by_keyboard_only(new_context, system):
    page = login(new_context().new_page(), "c-017", "main-gate")
    page.goto("/desk/lf/turn-in/visitor")
    assert page.evaluate("document.activeElement.id") == "f-item_name"  # the first field has the focus
    keys = page.keyboard
    keys.type("蓝色雨伞")
    tab_to(page, "f-category")
    for _ in range(len("cash phone camera wallet bag jewelry watch electronics document card key glasses "
                       "clothing".split())):
        keys.press("ArrowDown")                      # from "other" up to the list's top, then down to 雨伞
        if page.input_value("#f-category") == "umbrella":
            break
    while page.input_value("#f-category") != "umbrella":
        keys.press("ArrowUp")
    tab_to(page, "f-found_place"); keys.type("北门售票处")
    tab_to(page, "f-storage_place"); keys.type("柜台伞架")   # the time found stays "now"
    tab_to(page, "f-finder_name"); keys.type("李四")
    tab_to(page, "f-description"); keys.type("蓝色长柄雨伞")
    shot(page, "40-keyboard-turn-in")
    keys.press("Control+Enter")                     # submits from the textarea
    page.wait_for_url(re.compile(r"/desk/lf/items/[0-9a-f]+"))
    assert "蓝色雨伞" in page.inner_text("h1")
    # Esc leaves a form for its cancel link
    page.goto("/desk/lf/report")
    keys.press("Escape")
    page.wait_for_url(re.compile(r"/desk/lf$"))


def test_what_a_clerk_and_an_auditor_may_not_do_is_not_shown_and_refused(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    assert "移交财务" not in clerk.inner_text("nav.menu") and "审计" not in clerk.inner_text("nav.menu")
    for path in ("/desk/lf/finance", "/audit", "/lead/day"):
        response = clerk.goto(path)
        assert response.status == 403, path
    assert "您的角色不能进行此操作" in clerk.inner_text("main")
    shot(clerk, "50-clerk-forbidden")

    auditor = login(new_context().new_page(), "a-001")
    menu = auditor.inner_text("nav.menu")
    assert "审计" in menu and "失物招领" not in menu
    item_id = register_valuable(clerk, name="审计用手表")
    auditor.goto(f"/audit?stream_id=found_item-{item_id}")
    rows = auditor.locator("#history tbody tr")
    assert rows.count() >= 2 and "FoundItemTurnedIn" in rows.first.inner_text()
    assert "c-017" in auditor.inner_text("#history td.actor")
    assert "一张写着小明的照片" not in auditor.content() and "张三" not in auditor.content()
    shot(auditor, "51-audit-history")
    auditor.goto("/audit/verify")
    assert auditor.locator("#verify-ok").count() == 1, auditor.inner_text("main")
    shot(auditor, "52-audit-verify")
    auditor.goto(f"/audit/form?item_id={item_id}")
    auditor.click("form.form button[type=submit].primary")
    auditor.wait_for_selector("#found-item-form")
    shot(auditor, "53-audit-form-as-of")
    auditor.goto(f"/forms/lf/items/{item_id}")
    shot(auditor, "54-form-3.3-auditor")
    auditor.goto("/forms/lf/summary")
    shot(auditor, "55-form-3.7")
    auditor.goto("/forms/lf/good-deeds")
    shot(auditor, "56-form-3.8")
    # the auditor changes nothing: no turn-in screen, and the service refuses anyway
    assert auditor.goto("/desk/lf/turn-in/visitor").status == 403
    csrf = auditor.get_attribute("body", "data-csrf")
    refused = auditor.request.post("/api/lost_and_found/turn_in_by_visitor", headers={"X-CSRF-Token": csrf},
                                   data={"desk": "main-gate"})
    assert refused.status == 403, refused.text()


def test_wrong_password_expired_session_missing_csrf_malformed_json_oversized_body(new_context, system):
    context = new_context()
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-staff_id", "c-017")
    page.fill("#f-password", "wrong-password-1")
    page.click("button[type=submit].primary")
    assert "工号或密码错误" in page.inner_text("main") and "/login" in page.url
    shot(page, "60-login-wrong-password")

    login(page, "c-017", "main-gate")
    before = unclaimed_count(page)
    # a form posted without its CSRF token: 403, a clear message, nothing stored
    response = page.request.post("/desk/lf/turn-in/visitor", form={
        "item_name": "伞", "category": "umbrella", "found_place": "北门", "found_at": "2026-12-01T08:00",
        "storage_place": "柜台", "finder_name": "王五", "description": "伞", "desk": "main-gate"})
    assert response.status == 403 and "表单已过期" in response.text()
    assert unclaimed_count(page) == before

    # the JSON API: malformed JSON -> 400, an oversized body -> 413, nothing stored
    api = new_context().request  # a kiosk: no session cookie, a bearer token
    token = api.post("/api/login", data={"staff_id": "c-017", "password": system.password,
                                         "desk": "main-gate"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bad = api.post("/api/lost_and_found/turn_in_by_visitor", headers=auth, data=b"{not json")
    assert bad.status == 400 and bad.json()["error"]["code"] == "malformed_json", bad.text()
    huge = api.post("/api/lost_and_found/turn_in_by_visitor", headers=auth,
                             data=('{"description": "' + "x" * 200_000 + '"}').encode())
    assert huge.status == 413 and huge.json()["error"]["code"] == "too_large"
    assert unclaimed_count(page) == before

    # an expired session (the gateway no longer knows it): back to the login screen
    cookies = [c for c in context.cookies() if c["name"] == "vsc_session"]
    assert cookies and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    context.add_cookies([dict(cookies[0], value="expired-session-id")])
    page.goto("/desk/lf")
    assert "/login" in page.url
    shot(page, "61-expired-session-login")


def test_a_staff_turn_in_prints_the_finders_receipt(new_context, system):
    page = login(new_context().new_page(), "c-017", "main-gate")
    page.goto("/desk/lf/turn-in/staff")
    page.fill("#f-item_name", "儿童水壶")
    page.select_option("#f-category", "other")
    page.fill("#f-found_place", "游乐区")
    page.fill("#f-storage_place", "柜台架 3")
    page.fill("#f-finder_id", "s-101")
    page.fill("#f-finder_department", "安保部")
    page.fill("#f-description", "粉色儿童水壶")
    page.click("form.form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/desk/lf/items/[0-9a-f]+"))
    page.click("#print-receipt")
    page.wait_for_selector("#receipt")
    receipt = page.inner_text("#receipt")
    assert "刘强" in receipt and "s-101" in receipt and "安保部" in receipt and "R-" in receipt
    shot(page, "15-print-receipt")
