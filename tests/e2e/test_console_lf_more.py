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
    shot(lead, "74-item-voided")

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
