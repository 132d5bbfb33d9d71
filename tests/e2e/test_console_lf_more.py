"""Lost and found's later commands in Chromium against the running system:
the public notice list (招领公告) with no login, a team lead's correction
(shown beside the original) and the void of a duplicate, and an item sent
from one desk and received at another."""
import re

import pytest

from tests.e2e.pages import login, shot
from tests.e2e.test_lost_and_found_flow import turn_in_visitor_phone

pytestmark = [pytest.mark.e2e, pytest.mark.rabbit, pytest.mark.slow]


def registered(clerk, name, place="南门停车场"):
    """A visitor's found item registered at the clerk's desk: (item id, short code)."""
    turn_in_visitor_phone(clerk, name=name, place=place, secret="锁屏是一只狗")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(r"/desk/lf/items/[0-9a-f]+"))
    return clerk.url.split("/desk/lf/items/")[1].split("?")[0], clerk.inner_text("#item-code").strip()


def on_the_board(board, code, present=True, tries=20):
    """The notice list follows the log (the forms service's projection): reload until it shows (or drops) the code."""
    for _ in range(tries):
        board.goto("/public/lf")
        if (board.locator(f"#public-notices tr[data-short-code='{code}']").count() > 0) == present:
            return board.locator(f"#public-notices tr[data-short-code='{code}']")
        board.wait_for_timeout(500)
    raise AssertionError(f"{code} {'not ' if present else ''}on the board: {board.inner_text('main')[:500]}")


def test_the_public_notice_list_shows_a_found_item_without_login_and_nothing_personal(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    _item_id, code = registered(clerk, "红色华为手机")

    board = new_context().new_page()  # the display board: no login, no cookie
    row = on_the_board(board, code)
    text = row.inner_text()
    assert "红色华为手机" in text and "南门停车场" in text and "main-gate" in text
    page_text = board.content()
    for private in ("锁屏是一只狗", "路人甲", "13900000000", "柜台抽屉", "蓝色手机壳"):
        assert private not in page_text  # hidden feature, finder, phone, storage place, description
    assert board.locator("form").count() == 0 and board.locator("a[href^='/desk']").count() == 0
    size = board.eval_on_selector("#public-notices td.code", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 24, size  # large type, read from across the hall
    shot(board, "70-public-notices")
    board.click("#board-lang-en")
    board.wait_for_selector("text=Found property")
    assert code in board.inner_text("#public-notices")
    shot(board, "71-public-notices-en")


def test_a_team_lead_corrects_an_item_beside_its_original_and_voids_a_duplicate(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    item_id, code = registered(clerk, "白色小米手机")
    duplicate_id, duplicate_code = registered(clerk, "白色小米手机")
    assert not clerk.locator("#correct").count() and not clerk.locator("#void").count()  # not a clerk's

    lead = login(new_context().new_page(), "s-101")
    lead.goto(f"/desk/lf/items/{item_id}")
    lead.click("#correct")
    lead.wait_for_url(re.compile(r"/correct$"))
    assert lead.input_value("#f-item_name") == "白色小米手机"
    lead.fill("#f-item_name", "白色红米手机")
    shot(lead, "72-correct")
    lead.click("form.form button[type=submit].primary")  # no reason: not sent (the reason is required)
    lead.wait_for_load_state()
    assert "/correct" in lead.url and lead.locator("#f-reason").count()
    lead.fill("#f-item_name", "白色红米手机")
    lead.fill("#f-reason", "型号录错，机身印着 Redmi")
    lead.click("form.form button[type=submit].primary")
    lead.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    row = lead.locator("#corrections tr[data-field='item_name']")
    assert row.locator("td.was").inner_text() == "白色小米手机"
    assert row.locator("td.now").inner_text() == "白色红米手机"
    assert "型号录错" in lead.inner_text("#corrections")
    assert "白色红米手机" in lead.inner_text("h1")
    shot(lead, "73-item-corrected")

    lead.goto(f"/desk/lf/items/{duplicate_id}")
    lead.click("#void")
    lead.fill("#f-duplicate_of", code.lower())  # as typed
    lead.fill("#f-reason", "同一部手机登记了两次")
    lead.once("dialog", lambda dialog: dialog.accept())
    lead.click("form.form button[type=submit].primary")
    lead.wait_for_url(re.compile(rf"/desk/lf/items/{duplicate_id}$"))
    assert "同一部手机登记了两次" in lead.inner_text("#item-voided")
    assert lead.locator("#void").count() == 0 and lead.locator("#verify").count() == 0
    shot(lead, "75-item-voided")

    board = new_context().new_page()
    on_the_board(board, duplicate_code, present=False)  # the void drops off
    assert "白色红米手机" in on_the_board(board, code).inner_text()  # the correction shows


def test_an_item_sent_to_another_desk_is_received_there(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    item_id, code = registered(clerk, "灰色 OPPO 手机")
    clerk.click("#send")
    clerk.fill("#f-to_desk", "north-gate")
    clerk.fill("#f-reason", "失主在北门等候")
    shot(clerk, "75-send")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert "north-gate" in clerk.inner_text("#item-location")
    assert clerk.locator("#send").count() == 0 and clerk.locator("#receive").count() == 0

    other = login(new_context().new_page(), "c-023", "north-gate")
    other.goto(f"/desk/lf/items/{item_id}")
    other.click("#receive")
    other.fill("#f-storage_place", "北门柜台 1")
    other.click("form.form button[type=submit].primary")
    other.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert other.locator("#item-location").count() == 0  # at a desk again
    movements = other.inner_text("#movements")
    assert "main-gate" in movements and "north-gate" in movements and "北门柜台 1" in movements
    assert other.locator("#movements tr[data-kind]").count() == 2
    shot(other, "76-received")


def verified(clerk, item_id, id_number):
    """The claimant's verification decided owner (the claim screen opens next)."""
    clerk.goto(f"/desk/lf/items/{item_id}/verify")
    clerk.fill("#f-claimant_id_number", id_number)
    clerk.fill("#f-claimant_description", "黑色苹果手机，锁屏是一只狗")
    clerk.check("#f-feature_0")
    clerk.check("#f-description_matched")
    clerk.select_option("#f-decision", "owner")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(r"/claim\?verification_id="))
    clerk.goto(f"/desk/lf/items/{item_id}")


def claimant(clerk, name, phone, id_number):
    clerk.fill("#f-claimant_name", name)
    clerk.fill("#f-claimant_phone", phone)
    clerk.select_option("#f-claimant_id_type", "resident_id")
    clerk.fill("#f-claimant_id_number", id_number)


def test_a_tour_guide_claims_for_the_owner_and_another_item_goes_back_by_courier(new_context, system):
    clerk = login(new_context().new_page(), "c-017", "main-gate")
    item_id, _code = registered(clerk, "金色 vivo 手机")
    verified(clerk, item_id, "110101198502023456")
    clerk.click("#proxy-claim")
    claimant(clerk, "导游小陈", "13700000001", "110101198502023456")
    clerk.select_option("#f-proxy_kind", "tour_guide")
    clerk.fill("#f-organisation", "青旅假日")
    clerk.fill("#f-owner_name", "陈先生")
    clerk.select_option("#f-authorisation_method", "message")
    clerk.fill("#f-authorisation_note", "请导游小陈代我领取手机")
    shot(clerk, "77-proxy-claim")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert clerk.inner_text("#item-status").strip() == "已认领", clerk.inner_text("main")
    assert "导游" in clerk.inner_text("#release") and "青旅假日" in clerk.inner_text("#release")
    assert "请导游小陈代我领取手机" not in clerk.inner_text("#release")  # the owner's words stay on the form

    item_id, _code = registered(clerk, "蓝色荣耀手机")
    verified(clerk, item_id, "110101197003034567")
    clerk.click("#courier-return")
    claimant(clerk, "周女士", "13600000002", "110101197003034567")
    clerk.fill("#f-recipient_name", "周女士")
    clerk.fill("#f-recipient_phone", "13600000002")
    clerk.fill("#f-address", "上海市徐汇区某路 1 号")
    clerk.select_option("#f-fee_paid_by", "cash_on_delivery")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert "待寄出" in clerk.inner_text("#courier-dispatch")
    clerk.click("#dispatch")
    clerk.fill("#f-carrier", "顺丰")
    clerk.fill("#f-tracking_number", "no spaces!")  # refused, named at the field
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_selector("#e-tracking_number")
    clerk.fill("#f-tracking_number", "SF1234567890")
    clerk.click("form.form button[type=submit].primary")
    clerk.wait_for_url(re.compile(rf"/desk/lf/items/{item_id}$"))
    assert "SF1234567890" in clerk.inner_text("#courier-dispatch")
    assert clerk.locator("#dispatch").count() == 0  # once
    shot(clerk, "78-courier-dispatched")
