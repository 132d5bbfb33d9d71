"""The whole lost-and-found procedure in Chromium against the running
system: a clerk logs in, signs in, registers a visitor's found phone, prints
its card (the QR decodes to the item), takes a lost-item report that is
matched, records the contact, verifies and the visitor claims; a second
clerk at another desk sees the item appear and disappear live."""
import re

import pytest

from tests.e2e.pages import login, qr_texts_of, shot

pytestmark = [pytest.mark.e2e, pytest.mark.rabbit, pytest.mark.slow]


def turn_in_visitor_phone(page, name="黑色 iPhone 13", place="北门检票口", secret="猫咪壁纸"):
    page.goto("/desk/lf/turn-in/visitor")
    page.fill("#f-item_name", name)
    page.select_option("#f-category", "phone")
    page.fill("#f-found_place", place)
    page.fill("#f-storage_place", "柜台抽屉 2")
    page.fill("#f-finder_name", "路人甲")
    page.fill("#f-finder_phone", "13900000000")
    page.fill("#f-description", "黑色苹果手机，蓝色手机壳，屏幕右上角有裂痕")
    page.fill("#f-hf_label_0", "壁纸")
    page.fill("#f-hf_detail_0", secret)
    return page


def test_a_found_phone_from_turn_in_to_claim_with_a_second_desk_watching(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    shot(clerk, "01-home")

    # the clerk's day: sign in at this desk
    clerk.goto("/desk/day")
    clerk.click("button[type=submit].primary")
    assert "已签到" in clerk.inner_text("main") or "已在本服务台签到" in clerk.inner_text("main")
    shot(clerk, "02-clerk-day")

    # a second clerk at another desk watches the list of unclaimed items
    other = login(new_context().new_page(), "c-023", "north-gate")
    other.goto("/desk/lf")
    other.wait_for_timeout(500)  # the live stream connects

    turn_in_visitor_phone(clerk)
    shot(clerk, "03-turn-in-visitor")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(r"/desk/lf/items/[0-9a-f]+"))
    item_id = clerk.url.split("/desk/lf/items/")[1].split("?")[0]
    code = clerk.inner_text("#item-code").strip()
    assert re.fullmatch(r"LF-[A-Z2-7]{6}", code)
    assert "猫咪壁纸" in clerk.text_content("#hidden-features")  # on the clerk's page, folded away
    shot(clerk, "04-item")

    # it appears at the other desk without a reload
    other.wait_for_selector(f"#unclaimed-items tr[data-short-code='{code}']", timeout=15000)
    shot(other, "05-desk-list-live")

    # print the card: a real QR image that decodes to the item
    clerk.click("#print-card")
    clerk.wait_for_selector("#item-qr")
    assert qr_texts_of(clerk) == [f"vsc:found-item:{item_id}"]
    assert code in clerk.inner_text("#item-card")
    shot(clerk, "06-print-card")
    clerk.emulate_media(media="print")
    clerk.screenshot(path=str(shot(clerk, "06b-print-card-printed")), full_page=True)
    clerk.emulate_media(media="screen")

    # the owner comes to report it lost: the report is matched to the phone
    clerk.goto("/desk/lf/report")
    clerk.fill("#f-item_name", "苹果手机")
    clerk.select_option("#f-category", "phone")
    clerk.fill("#f-lost_place", "北门检票口")
    clerk.fill("#f-lost_from", "2026-01-01T00:00")
    clerk.fill("#f-visitor_name", "韩梅梅")
    clerk.fill("#f-visitor_phone", "13800000000")
    clerk.fill("#f-description", "黑色 iPhone 13，蓝色手机壳")
    clerk.fill("#f-features", "屏幕有裂痕")
    shot(clerk, "07-report")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(r"/desk/lf/reports/"))
    row = clerk.locator(f"#suggestions tr.suggestion[data-id='{item_id}']")
    row.wait_for()
    assert row.locator("ul.reasons li").count() >= 1  # with its reasons
    shot(clerk, "08-report-suggestions")
    row.locator("button[type=submit]").click()
    clerk.wait_for_selector("#record-contact")
    assert code in clerk.inner_text("#report")
    shot(clerk, "09-contact-task")
    clerk.select_option("#f-outcome", "reached")
    clerk.click("#record-contact")
    clerk.wait_for_selector("#contact-task .notice.success")
    report_id = clerk.url.rstrip("/").split("/")[-1]

    # the visitor is at the counter: verification shows the labels, never the details
    clerk.goto(f"/desk/lf/items/{item_id}/verify")
    assert "壁纸" in clerk.inner_text("main") and "猫咪壁纸" not in clerk.content()
    clerk.fill("#f-claimant_id_number", "110101199001011234")
    clerk.fill("#f-claimant_description", "黑色苹果手机，壁纸是我家的猫")
    clerk.check("#f-feature_0")
    clerk.check("#f-description_matched")
    clerk.select_option("#f-decision", "owner")
    shot(clerk, "10-verify")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(r"/claim\?verification_id="))
    assert "猫咪壁纸" not in clerk.content()
    clerk.fill("#f-claimant_name", "韩梅梅")
    clerk.fill("#f-claimant_phone", "13800000000")
    clerk.select_option("#f-claimant_id_type", "resident_id")
    clerk.fill("#f-claimant_id_number", "110101199001011234")
    clerk.select_option("#f-claim_kind", "reported")
    clerk.fill("#f-report_id", report_id)
    shot(clerk, "11-claim")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert clerk.inner_text("#item-status").strip() == "已认领", clerk.inner_text("main")
    shot(clerk, "12-item-claimed")

    # and it disappears from the other desk's list, live
    other.wait_for_selector(f"#unclaimed-items tr[data-short-code='{code}']", state="detached", timeout=15000)

    # the forms show it: 3.3 with the claim, 3.6 returned
    clerk.goto(f"/forms/lf/items/{item_id}")
    text = clerk.inner_text("#found-item-form")
    assert "韩梅梅" in text and "猫咪壁纸" not in text
    shot(clerk, "13-form-3.3")
    clerk.goto(f"/forms/lf/reports/{report_id}")
    shot(clerk, "14-form-3.6")
