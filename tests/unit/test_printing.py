"""Printing (services/gateway/printing.py): the item information card's QR
code is a real image that decodes back to the item, the receipt and card
carry no hidden features, times are shown in the site's zone."""
import base64
import io
import os
import re

import pytest
from jinja2 import ChainableUndefined, Environment, FileSystemLoader

from services.gateway import printing
from services.lost_and_found import domain

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")

HERE = os.path.dirname(printing.__file__)
TEMPLATES = os.path.join(HERE, "templates")


@pytest.fixture
def env():
    """The templates as the gateway renders them (its layout around them), messages untranslated."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=ChainableUndefined)
    environment.globals["_"] = lambda message, **values: message % values if values else message
    return environment


def decode_png(data: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)).convert("L"))]


def card_reply(item_id="item-7f3a"):
    return {"form": "3.10", "title": "物品信息卡", "item_id": item_id, "short_code": domain.short_code(item_id),
            "qr_payload": domain.qr_payload(item_id), "item_name": "黑色 iPhone 13", "category": "phone",
            "found_place": "北门检票口", "found_at": "2026-05-01T00:50:00+00:00", "turned_in_on": "2026-05-01",
            "retain_until": "2026-05-31", "voided": False, "disposal_from": "2026-06-01",
            "retention_note": "保管至 2026-05-31（含当日）", "quantity": 1, "cash_amount": None, "currency": None,
            "condition": None, "contents": [], "desk": "main-gate", "storage_place": "柜台抽屉 A",
            "registered_by": "c-017", "issued_at": "2026-05-01T01:30:00+00:00", "positions": [1, 2],
            "event_ids": ["e1", "e2"], "as_of_position": 2}


def test_the_qr_png_decodes_to_the_payload_the_domain_gives():
    payload = domain.qr_payload("item-7f3a")
    assert decode_png(printing.qr_png(payload)) == [payload]


def test_the_printed_card_holds_a_qr_image_that_decodes_back_to_the_item(env):
    html = env.get_template("lost_and_found/print_card.html").render(
        **printing.card_context(card_reply(), "Asia/Shanghai"))
    source = re.search(r'id="item-qr" src="data:image/png;base64,([^"]+)"', html).group(1)
    assert decode_png(base64.b64decode(source)) == ["vsc:found-item:item-7f3a"]
    assert domain.short_code("item-7f3a") in html and "手机" in html
    assert "09:30" in html and "2026-05-01 08:50" in html  # issued 01:30 UTC, found 00:50 UTC: Shanghai time
    assert "2026-05-31" in html  # kept until, on the card
    # the card's print size is the small format, and only the sheet is printed
    assert f"{printing.CARD_WIDTH_MM}×{printing.CARD_HEIGHT_MM} mm" in html and 'href="/static/print.css"' in html
    with open(os.path.join(HERE, "static", "print.css"), encoding="utf-8") as css:
        style = css.read()
    assert f"@page card {{ size: {printing.CARD_WIDTH_MM}mm {printing.CARD_HEIGHT_MM}mm; margin: 0; }}" in style
    assert f"width: {printing.CARD_WIDTH_MM}mm; height: {printing.CARD_HEIGHT_MM}mm" in style
    assert re.search(r"@media print \{[^}]*\.print-bar[^}]*display: none", style)
    assert "<script>" not in html and "onclick" not in html and "<style" not in html  # the console's CSP


def test_the_receipt_shows_the_finder_and_the_local_time_and_no_hidden_feature(env):
    receipt = {"form": "3.9", "title": "员工拾到物品回执", "receipt_no": "R-ABC234", "item_id": "item-1",
               "short_code": "LF-ABC234", "desk": "main-gate", "item_name": "钱包", "category": "wallet",
               "found_place": "索道上站", "found_at": "2026-05-31T23:30:00+00:00", "finder_id": "s-101",
               "finder_name": "李强", "finder_department": "保洁部", "good_deed": "客服好人好事", "issued_by": "c-017",
               "issued_at": "2026-06-01T00:10:00+00:00", "positions": [3], "event_ids": ["e3"], "as_of_position": 3}
    html = env.get_template("lost_and_found/print_receipt.html").render(
        **printing.receipt_context(receipt, "Asia/Shanghai", lang="en"))
    assert "R-ABC234" in html and "李强" in html and "保洁部" in html and "wallet" in html
    assert "2026-06-01 07:30" in html and "2026-06-01 08:10" in html  # the local day, not the UTC one
    assert "hidden_features" not in receipt and "detail" not in html


def test_local_time_refuses_a_naive_time_and_shows_nothing_for_none():
    assert printing.local_time(None, "Asia/Shanghai") == ""
    assert printing.local_time("2026-05-01T16:00:00Z", "Asia/Shanghai") == "2026-05-02 00:00"
    with pytest.raises(ValueError):
        printing.local_time("2026-05-01T16:00:00", "Asia/Shanghai")


def test_every_category_has_a_name_in_both_languages():
    from contracts.lost_and_found import CATEGORIES
    assert set(printing.CATEGORY_NAMES) == set(CATEGORIES)
    assert printing.category_label("umbrella", "zh") == "雨伞"
    assert printing.category_label("umbrella", "en") == "umbrella"
