"""Lost and found's disposal routes besides finance, and a signature drawn
on the desk screen, in Chromium against the running system:

- an ID card past its retention is drawn onto a list for the police
  (deploy/config.yaml DISPOSAL_ROUTES: document -> police, kept 90 days) and
  the officer's name and badge number are recorded as the sign-off;
- perishables (destroy, kept 2 days) are destroyed before a witness, a
  clerk who signs off with their own password at the custodian's terminal
  (a wrong password first);
- a visitor finder signs on the pad; the item page then shows who signed
  which part and when (site time), and the stored signature carries only
  the SHA-256 of the drawn PNG;
- the list in English.

As in test_console_finance.py, a fresh system has nothing past its
retention and the console takes no business time, so the clerk turns the
items in over the JSON API with ``at`` in the past."""
import base64
import datetime as dt
import hashlib
import re
import uuid
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.pages import login, shot
from tests.e2e.test_console_finance import api_login

pytestmark = [pytest.mark.e2e, pytest.mark.rabbit, pytest.mark.slow]

SITE_ZONE = ZoneInfo("Asia/Shanghai")


def turned_in_long_ago(api, auth, name, category, days, **more) -> tuple[str, str]:
    """A visitor's found item turned in ``days`` ago at main-gate: (item id, short code)."""
    at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    reply = api.post("/api/lost_and_found/turn_in_by_visitor", headers=auth, data={
        "desk": "main-gate", "item_name": name, "category": category, "description": f"{name}，无人认领",
        "found_place": "南门广场", "found_at": (at - dt.timedelta(hours=1)).isoformat(), "storage_place": "柜台架 3",
        "finder_name": "路人丙", "at": at.isoformat(), "command_id": uuid.uuid4().hex, **more})
    assert reply.ok, reply.text()
    return reply.json()["item_id"], reply.json()["short_code"]


def due_row(page, code, tries=20):
    """The draw screen lists what is past its retention (the forms projection follows the log): reload until it shows."""
    for _ in range(tries):
        page.goto("/desk/lf/disposal")
        row = page.locator("#due tr", has_text=code)
        if row.count():
            return row
        page.wait_for_timeout(500)
    raise AssertionError(f"{code} not due: {page.inner_text('main')[:800]}")


def site_time(stored: str) -> str:
    return f"{dt.datetime.fromisoformat(stored).astimezone(SITE_ZONE):%Y-%m-%d %H:%M}"


def test_an_id_card_past_its_retention_goes_to_the_police_who_sign_with_name_and_badge(new_context, system):
    api = new_context().request
    clerk_auth = api_login(api, "c-017", system.password, "main-gate")
    name = f"居民身份证（张某） {uuid.uuid4().hex[:4]}"
    item_id, code = turned_in_long_ago(api, clerk_auth, name, "document", days=100)

    custodian = login(new_context().new_page(), "k-001")
    assert custodian.locator("nav a[href='/desk/lf/disposal']").inner_text() == "其他处置"
    row = due_row(custodian, code)
    assert name in row.inner_text() and "证件" in row.inner_text(), row.inner_text()
    custodian.select_option("#f-route", "police")
    custodian.fill("#f-receiver", "景区派出所")
    disposal_id = f"dp-e2e-police-{uuid.uuid4().hex[:6]}"
    custodian.fill("#f-disposal_id", disposal_id)
    shot(custodian, "80-disposal-draw")
    custodian.click("form.form button[type=submit].primary")
    custodian.wait_for_url(re.compile(rf"/desk/lf/disposal/{disposal_id}$"))
    assert "处置清单已生成" in custodian.inner_text("main")
    assert custodian.inner_text("#route") == "交公安" and custodian.inner_text("#receiver") == "景区派出所"
    line = custodian.locator(f"#lines tr[data-item-id='{item_id}']")
    assert code in line.inner_text() and "已处置" in line.inner_text(), custodian.inner_text("main")
    assert "待签收" in custodian.inner_text("#status")
    shot(custodian, "81-disposal-list-police")

    # the officer takes the items; the custodian records their name and badge number
    custodian.fill("#f-receiver_name", "张警官")
    custodian.fill("#f-receiver_reference", "警号 012345")
    custodian.click("#sign-off button[type=submit].primary")
    custodian.wait_for_selector("#signed-off")
    signed = custodian.inner_text("#signed-off")
    assert "张警官" in signed and "警号 012345" in signed and "k-001" in signed
    assert custodian.locator("#sign-off").count() == 0 and "已签收" in custodian.inner_text("#status")

    stored = api.post("/api/forms/disposal_list", headers=api_login(api, "k-001", system.password),
                      data={"disposal_id": disposal_id})
    assert stored.ok, stored.text()
    stored = stored.json()
    assert stored["route"] == "police" and stored["receiver"] == "景区派出所" and stored["signed_by"] == "k-001"
    assert [line["state"] for line in stored["lines"] if line["item_id"] == item_id] == ["disposed"]
    assert site_time(stored["signed_at"]) in signed
    shot(custodian, "82-disposal-police-signed")
    custodian.emulate_media(media="print")  # the paper copy: the list and the sign-off, no console around it
    assert not custodian.locator("header.top").is_visible() and not custodian.locator("#print-button").is_visible()
    assert custodian.locator("#lines").is_visible() and custodian.locator("#signed-off").is_visible()
    shot(custodian, "88-disposal-list-printed")
    custodian.emulate_media(media="screen")
    item = api.post("/api/lost_and_found/item", headers=clerk_auth, data={"item_id": item_id})
    assert item.ok and item.json()["status"] == "disposed", item.text()

    # a clerk can neither draw a list nor read one
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    for path in ("/desk/lf/disposal", f"/desk/lf/disposal/{disposal_id}"):
        assert clerk.goto(path).status == 403, path
    assert clerk.locator("nav a[href='/desk/lf/disposal']").count() == 0


def test_perishables_are_destroyed_before_a_witness_who_signs_off_with_their_own_password(new_context, system):
    api = new_context().request
    clerk_auth = api_login(api, "c-017", system.password, "main-gate")
    item_id, code = turned_in_long_ago(api, clerk_auth, f"一袋苹果 {uuid.uuid4().hex[:4]}", "perishable", days=5)

    custodian = login(new_context().new_page(), "k-001")
    due_row(custodian, code)
    custodian.select_option("#f-route", "destroy")
    disposal_id = f"dp-e2e-destroy-{uuid.uuid4().hex[:6]}"
    custodian.fill("#f-disposal_id", disposal_id)
    custodian.check(f"#pick-{item_id}")  # only this one
    custodian.click("form.form button[type=submit].primary")
    custodian.wait_for_url(re.compile(rf"/desk/lf/disposal/{disposal_id}$"))
    assert custodian.inner_text("#route") == "销毁" and custodian.locator("#receiver").count() == 0
    assert [custodian.locator("#lines tr[data-item-id]").count()] == [1]
    assert "待见证人确认" in custodian.inner_text("#status")

    # the witness (李娜, a clerk) types their own login at the custodian's terminal: a wrong password first
    custodian.fill("#f-cosigner_id", "c-023")
    custodian.fill("#f-cosigner_password", "not-her-password")
    custodian.click("#sign-off button[type=submit].primary")
    custodian.wait_for_selector("#sign-off .field-error")
    assert "工号或密码错误" in custodian.inner_text("#sign-off")
    assert "确认人的工号或密码错误" in custodian.inner_text("main") and custodian.locator("#signed-off").count() == 0
    shot(custodian, "83-disposal-witness-wrong-password")
    custodian.fill("#f-cosigner_id", "c-023")
    custodian.fill("#f-cosigner_password", system.password)
    custodian.click("#sign-off button[type=submit].primary")
    custodian.wait_for_selector("#signed-off")
    assert "李娜（c-023）" in custodian.inner_text("#signed-off"), custodian.inner_text("main")
    assert "见证人已确认" in custodian.inner_text("#status")
    shot(custodian, "84-disposal-destroyed-witnessed")

    stored = api.post("/api/forms/disposal_list", headers=api_login(api, "k-001", system.password),
                      data={"disposal_id": disposal_id}).json()
    assert stored["route"] == "destroy" and stored["witness_id"] == "c-023" and stored["receiver_name"] is None

    # the witness also signs the list's witness part on the pad, again with their own login
    custodian.click("#sign-disposal_witness")
    custodian.wait_for_url(re.compile(rf"/desk/lf/disposal/{disposal_id}/sign/disposal_witness$"))
    draw_a_signature(custodian)
    custodian.fill("#f-signing_desk", "main-gate")
    custodian.fill("#f-cosigner_id", "c-023")
    custodian.fill("#f-cosigner_password", system.password)
    custodian.click("form.form button[type=submit].primary")
    custodian.wait_for_url(re.compile(rf"/desk/lf/disposal/{disposal_id}$"))
    witness_row = custodian.locator("#signatures tr[data-part='disposal_witness']").inner_text()
    assert "c-023" in witness_row and "已签名" in witness_row, custodian.inner_text("main")

    # the same list in English
    english = login(new_context(lang="en").new_page(), "k-001")
    english.click("form.lang button[value=en]")
    english.goto(f"/desk/lf/disposal/{disposal_id}")
    assert english.inner_text("#route") == "Destroy"
    assert "Destroyed, confirmed by the witness" in english.inner_text("#status")
    assert "Witness" in english.inner_text("#signed-off") and "李娜" in english.inner_text("#signed-off")
    assert not re.search(r"[\u4e00-\u9fff]", english.inner_text("nav.menu"))
    shot(english, "85-disposal-list-en")


def draw_a_signature(page):
    box = page.locator("#signature-pad").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * .1, y + h * .6)
    page.mouse.down()
    for i in range(1, 30):  # a wavy stroke, as a hand writes
        page.mouse.move(x + w * (.1 + .025 * i), y + h * (.6 - .25 * ((-1) ** i) * (i % 3) / 2), steps=2)
    page.mouse.up()
    page.mouse.move(x + w * .3, y + h * .3)
    page.mouse.down()
    page.mouse.move(x + w * .45, y + h * .75, steps=5)
    page.mouse.up()


def test_the_visitor_finder_signs_on_the_desk_screen_and_the_item_page_shows_who_signed_and_when(new_context, system):
    api = new_context().request
    clerk_auth = api_login(api, "c-017", system.password, "main-gate")
    item_id, code = turned_in_long_ago(api, clerk_auth, f"蓝色雨伞 {uuid.uuid4().hex[:4]}", "umbrella", days=0)

    clerk = login(new_context().new_page(), "c-017", "main-gate")
    clerk.goto(f"/desk/lf/items/{item_id}")
    finder_row = clerk.locator("#signatures tr[data-part='registration_finder']")
    assert "未签名" in finder_row.inner_text()
    clerk.click("#sign-registration_finder")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}/sign/registration_finder$"))
    assert "拾获人签名" in clerk.inner_text("h1") and code in clerk.inner_text("h1")

    # nothing drawn: the form is not sent
    clerk.click("form.form button[type=submit].primary")
    assert clerk.locator("#e-signature").is_visible() and "请在签名框内签名" in clerk.inner_text("#e-signature")
    assert clerk.url.endswith("/sign/registration_finder")

    draw_a_signature(clerk)
    drawn_png = clerk.evaluate("document.getElementById('signature-pad').toDataURL('image/png')")
    assert drawn_png.startswith("data:image/png;base64,") and len(drawn_png) < 40_000, len(drawn_png)
    shot(clerk, "86-signature-pad")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert "已记录拾获人签名" in clerk.inner_text("main")
    finder_row = clerk.locator("#signatures tr[data-part='registration_finder']")
    shown = finder_row.inner_text()
    assert "游客本人" in shown and "c-017" in shown and "已签名" in shown, shown
    assert clerk.locator("#sign-registration_finder").count() == 0  # signed once
    assert clerk.locator("#sign-registration_clerk").count() == 1  # the clerk's own part is still open

    form = api.post("/api/forms/found_item_form", headers=clerk_auth, data={"item_id": item_id})
    assert form.ok, form.text()
    signatures = form.json()["signatures"]
    assert [(s["part"], s["signer_kind"], s["signer_id"], s["captured_by"]) for s in signatures] == [
        ("registration_finder", "finder", None, "c-017")]
    assert site_time(signatures[0]["signed_at"]) in shown
    # what the log keeps of the drawing: the SHA-256 of the PNG the pad sent, not the image
    expected = "sha256:" + hashlib.sha256(base64.b64decode(drawn_png.split(",", 1)[1])).hexdigest()
    assert signatures[0]["image_ref"] == expected, (signatures[0]["image_ref"], expected)
    clerk.locator("#signatures").scroll_into_view_if_needed()
    shot(clerk, "87-item-signed")
