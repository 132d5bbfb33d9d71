"""Printing from the browser: the staff receipt (3.9 员工拾到物品回执) and the
item information card (3.10 物品信息卡, small format with a QR code).

Both are built from the forms service's ``found_item_receipt`` and
``item_information_card`` replies only (no hidden features, no visitor's
data: those replies have no field for them). The QR code is a real image
made with segno, encoding the card's ``qr_payload`` (what
``services.lost_and_found.domain.qr_payload`` gives: ``vsc:found-item:<id>``);
a scanner at the desk reads it, or the short code printed beside it.

Times arrive as ISO-8601 strings (UTC, or the site's zone) and are shown in
the site's time zone.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
from zoneinfo import ZoneInfo

import segno

#: category -> (Chinese, English), as the desk says it (contracts.lost_and_found.CATEGORIES)
CATEGORY_NAMES = {
    "cash": ("现金", "cash"), "phone": ("手机", "phone"), "camera": ("相机", "camera"), "wallet": ("钱包", "wallet"),
    "bag": ("包", "bag"), "jewelry": ("首饰", "jewellery"), "watch": ("手表", "watch"),
    "electronics": ("电子产品", "electronics"), "document": ("证件", "document"), "card": ("卡", "card"),
    "key": ("钥匙", "key"), "glasses": ("眼镜", "glasses"), "clothing": ("衣物", "clothing"),
    "umbrella": ("雨伞", "umbrella"), "toy": ("玩具", "toy"), "perishable": ("易腐物品", "perishable"),
    "other": ("其他", "other"),
}

#: the card's printed size (a label stuck on the item); the print CSS uses it
CARD_WIDTH_MM, CARD_HEIGHT_MM = 90, 54
#: QR modules in pixels in the PNG, and the quiet zone in modules
QR_SCALE, QR_BORDER = 6, 4


def qr_png(payload: str, scale: int = QR_SCALE) -> bytes:
    """A PNG of the QR code of ``payload`` (error correction M: a label gets scuffed)."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=QR_BORDER)
    return buffer.getvalue()


def qr_data_uri(payload: str) -> str:
    """The PNG inline (``data:image/png;base64,...``): the printed page needs no second request."""
    return "data:image/png;base64," + base64.b64encode(qr_png(payload)).decode("ascii")


def category_label(category: str, lang: str = "zh") -> str:
    """The category in the reader's language (the code itself when unknown)."""
    names = CATEGORY_NAMES.get(category)
    return category if names is None else names[0 if lang == "zh" else 1]


def _zone(zone) -> dt.tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def local_time(value, zone, with_seconds: bool = False) -> str:
    """``2026-05-01 08:30`` in the site's zone, from an ISO string or an aware datetime ("" for none)."""
    if value in (None, ""):
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"a naive time cannot be shown in the site's zone: {value!r}")
    return moment.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def _labels(lang: str) -> dict:
    return {"lang": lang, "category_label": lambda category: category_label(category, lang)}


def receipt_context(receipt: dict, zone, lang: str = "zh") -> dict:
    """What ``lost_and_found/print_receipt.html`` shows, from a ``found_item_receipt`` reply."""
    return {**_labels(lang), "receipt": receipt, "found_at": local_time(receipt["found_at"], zone),
            "issued_at": local_time(receipt["issued_at"], zone)}


def card_context(card: dict, zone, lang: str = "zh") -> dict:
    """What ``lost_and_found/print_card.html`` shows, from an ``item_information_card`` reply."""
    return {**_labels(lang), "card": card, "qr_src": qr_data_uri(card["qr_payload"]),
            "issued_at": local_time(card["issued_at"], zone), "found_at": local_time(card.get("found_at"), zone),
            "card_width_mm": CARD_WIDTH_MM, "card_height_mm": CARD_HEIGHT_MM}
