"""The console's screens for lost and found's other disposal routes (公安,
发卡银行, 销毁) and for signatures taken on the desk screen, with a fake
caller in place of the services: what is sent to dispose_items,
sign_off_disposal and capture_signature, whose login a destruction's
witness gives, what the list and the item page show. (In Chromium against
the real system: tests/e2e/test_console_disposal.py.)"""
import base64
import datetime as dt
import hashlib
import re
import zlib
from zoneinfo import ZoneInfo

import pytest

from services.gateway.screens import CallFailed
from tests.unit.test_gateway_lf_more import ITEM, client_for
from tests.unit.test_gateway_app import reply_for

SITE = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(SITE).date()
PASSWORD = "their-own-password"


def png(width=4, height=2) -> bytes:
    """A real (tiny) PNG, as a canvas's toDataURL gives one."""
    def chunk(kind, data):
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def data_url(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def open_row(item_id, code, category, retain_until):
    return {"item_id": item_id, "short_code": code, "desk": "main-gate", "item_name": f"物品{code[-2:]}",
            "category": category, "found_place": "北门", "found_at": "2026-01-01T02:00:00+00:00",
            "turned_in_at": "2026-01-01T02:00:00+00:00", "business_date": "2026-01-01", "valuable": False,
            "status": "held", "retain_until": retain_until, "matched_report_id": None, "position": 1}


DUE_DOCUMENT = open_row("it-doc", "LF-DOC2AA", "document", (TODAY - dt.timedelta(days=3)).isoformat())
DUE_TODAY = open_row("it-kept", "LF-KEPT22", "document", TODAY.isoformat())  # kept through today: not yet due
DUE_FRUIT = open_row("it-fruit", "LF-FRU2AA", "perishable", (TODAY - dt.timedelta(days=1)).isoformat())
SIGNED_AT = "2026-05-01T03:04:00+00:00"  # 11:04 at the site


class Services:
    """Answers as lost_and_found, forms and staff would; keeps the disposal lists drawn and signed."""

    def __init__(self, roles, desk=None, staff_id="k-001", item=None, paper=None):
        self.roles, self.desk, self.staff_id, self.calls = set(roles), desk, staff_id, []
        self.item = dict(ITEM, **(item or {}))
        self.paper = {"registration": {"registered_by": "c-017"}, "claim": None, "signatures": [],
                      "corrections": [], "void": None, "movements": [], **(paper or {})}
        self.lists = {}
        self.passwords = {"c-023": PASSWORD}
        self.open_items = [DUE_DOCUMENT, DUE_TODAY, DUE_FRUIT]

    def __call__(self, service, method, payload=None, *, token=None, cosigner=None, source=None):
        self.calls.append((service, method, payload, token, cosigner))
        if method == "login":
            if payload["staff_id"] == "someone":  # the person at the terminal
                return reply_for(self.staff_id, self.roles, desk=self.desk)
            if self.passwords.get(payload["staff_id"]) != payload["password"]:
                raise CallFailed(401, {"code": "unauthenticated", "message": "wrong staff id or password"})
            return reply_for(payload["staff_id"], {"clerk"}, token=f"token-of-{payload['staff_id']}")
        if token is None:
            raise CallFailed(401, {"code": "unauthenticated", "message": "log in first"})
        if method == "open_cases":
            return {"desk": None, "items": self.open_items, "reports": [], "as_of_position": 5}
        if method == "dispose_items":
            if payload["route"] != "destroy" and not payload["receiver"]:
                raise CallFailed(422, {"code": "rule_violated", "reason": "receiver_required",
                                       "message": "name the receiving police station",
                                       "fields": {"receiver": ["name the receiving police station"]}})
            ids = payload["item_ids"] or [DUE_FRUIT["item_id"] if payload["route"] == "destroy"
                                          else DUE_DOCUMENT["item_id"]]
            rows = {row["item_id"]: row for row in (DUE_DOCUMENT, DUE_FRUIT)}
            self.lists[payload["disposal_id"]] = {
                "disposal_id": payload["disposal_id"], "route": payload["route"], "receiver": payload["receiver"],
                "custodian_id": "k-001", "drawn_at": "2026-05-01T02:00:00+00:00",
                "recorded_at": "2026-05-01T02:00:01+00:00", "receiver_name": None, "receiver_reference": None,
                "witness_id": None, "witness_name": None, "signed_by": None, "signed_at": None, "signatures": [],
                "as_of_position": 9,
                "lines": [{"item_id": i, "short_code": rows[i]["short_code"], "item_name": rows[i]["item_name"],
                           "category": rows[i]["category"], "quantity": 1, "state": "disposed"} for i in ids]}
            return {"disposal_id": payload["disposal_id"], "route": payload["route"], "item_ids": ids,
                    "disposed_item_ids": ids, "withdrawn_item_ids": [], "steps": []}
        if method == "disposal_list":
            if payload["disposal_id"] not in self.lists:
                raise CallFailed(404, {"code": "not_found", "message": "no disposal", "field": "disposal_id"})
            return self.lists[payload["disposal_id"]]
        if method == "sign_off_disposal":
            shown = self.lists[payload["disposal_id"]]
            if shown["route"] == "destroy":
                if cosigner is None:
                    raise CallFailed(422, {"code": "rule_violated", "reason": "witness_required",
                                           "message": "a destruction is witnessed",
                                           "fields": {"cosigner": ["a destruction is witnessed"]}})
                shown.update(witness_id=cosigner.split("-of-")[-1], witness_name="李娜")
            else:
                shown.update(receiver_name=payload["receiver_name"], receiver_reference=payload["receiver_reference"])
            shown.update(signed_by=self.staff_id, signed_at=SIGNED_AT)
            return {"stream_id": "s", "version": 4, "positions": [4], "event_ids": ["e"], "duplicate": False}
        if method == "item":
            return self.item
        if method == "found_item_form":
            return self.paper
        if method == "capture_signature":
            return {"stream_id": "s", "version": 5, "positions": [5], "event_ids": ["e"], "duplicate": False,
                    "part": payload["part"], "signer_kind": "finder", "signer_id": None}
        return {"stream_id": "s", "version": 3, "positions": [3], "event_ids": ["e"], "duplicate": False}

    def sent(self, method):
        return [(payload, cosigner) for _service, name, payload, _token, cosigner in self.calls if name == method]


def logged_in(services):
    client = client_for(services)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": csrf, "staff_id": "someone", "password": "x", "desk": services.desk or ""})
    home = client.get("/").get_data(as_text=True)
    return client, re.search(r'data-csrf="([^"]+)"', home).group(1)


def drawn(services, client, csrf, route="police", **form):
    return client.post("/desk/lf/disposal", data={"csrf_token": csrf, "route": route, "disposal_id": f"dp-{route}",
                                                  "receiver": "景区派出所", **form})


# -- drawing a list ------------------------------------------------------------------------
def test_the_custodian_sees_the_items_past_their_retention_before_drawing_a_list():
    client, _csrf = logged_in(Services({"custodian"}))
    body = client.get("/desk/lf/disposal").get_data(as_text=True)
    due = body.split('id="due"')[1]
    assert "LF-DOC2AA" in due and "LF-FRU2AA" in due
    assert "LF-KEPT22" not in due  # kept through today: not due yet
    assert re.search(r'<option value="police" selected>交公安</option>', body)
    assert 'href="/desk/lf/disposal"' in body  # in the custodian's menu


def test_an_item_matched_to_an_open_report_is_shown_as_not_to_be_disposed_of_yet():
    services = Services({"custodian"})
    matched = dict(DUE_DOCUMENT, matched_report_id="rp-1")
    services.open_items = [matched, DUE_FRUIT]
    client, _csrf = logged_in(services)
    due = client.get("/desk/lf/disposal").get_data(as_text=True).split('id="due"')[1]
    document_row = due.split('data-item-id="it-doc"')[1].split("</tr>")[0]
    fruit_row = due.split('data-item-id="it-fruit"')[1].split("</tr>")[0]
    assert "已匹配报失，暂不处置" in document_row and "已匹配报失" not in fruit_row


@pytest.mark.parametrize("roles", [{"clerk"}, {"finance"}, {"lead"}])
def test_only_the_custodian_draws_a_list_and_nobody_else_sees_it_in_the_menu(roles):
    services = Services(roles, desk="main-gate")
    client, csrf = logged_in(services)
    assert 'href="/desk/lf/disposal"' not in client.get("/").get_data(as_text=True)
    assert client.get("/desk/lf/disposal").status_code == 403
    assert drawn(services, client, csrf).status_code == 403
    assert services.sent("dispose_items") == []


def test_a_police_list_takes_the_routes_due_items_when_none_is_ticked_and_opens_the_list():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    reply = drawn(services, client, csrf)
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/desk/lf/disposal/dp-police")
    assert [payload for payload, _ in services.sent("dispose_items")] == [
        {"disposal_id": "dp-police", "route": "police", "receiver": "景区派出所", "item_ids": None}]
    listed = client.get("/desk/lf/disposal/dp-police").get_data(as_text=True)
    assert "处置清单已生成：1 件已处置，0 件已撤回。" in listed
    assert 'id="route">交公安<' in listed and 'id="receiver">景区派出所<' in listed
    assert re.search(r'data-item-id="it-doc" data-state="disposed">.*LF-DOC2AA.*已处置', listed)


def test_a_destruction_names_no_receiver_and_takes_only_the_ticked_items():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    reply = drawn(services, client, csrf, route="destroy", item_id=["it-fruit"])
    assert reply.status_code == 303
    assert [payload for payload, _ in services.sent("dispose_items")] == [
        {"disposal_id": "dp-destroy", "route": "destroy", "receiver": None, "item_ids": ["it-fruit"]}]


def test_the_services_refusal_is_shown_next_to_the_field_and_the_form_keeps_what_was_typed():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    reply = drawn(services, client, csrf, receiver="", item_id=["it-doc"])
    body = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert 'id="e-receiver"' in body and 'value="dp-police"' in body
    assert "须填写接收单位" in body  # the rule in the clerk's words
    assert re.search(r'value="it-doc" id="pick-it-doc" checked', body)


# -- the sign-off --------------------------------------------------------------------------------
def test_the_police_officer_signs_the_list_off_with_name_and_badge_and_the_list_shows_it_in_site_time():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    drawn(services, client, csrf)
    page = client.get("/desk/lf/disposal/dp-police").get_data(as_text=True)
    assert 'id="sign-off"' in page and 'name="receiver_reference"' in page and 'name="cosigner_id"' not in page
    reply = client.post("/desk/lf/disposal/dp-police", data={
        "csrf_token": csrf, "receiver_name": "张警官", "receiver_reference": "警号 012345", "command_id": "cmd-1"})
    assert reply.status_code == 303
    assert services.sent("sign_off_disposal") == [({"disposal_id": "dp-police", "command_id": "cmd-1",
                                                      "receiver_name": "张警官", "receiver_reference": "警号 012345"},
                                                     None)]
    signed = client.get("/desk/lf/disposal/dp-police").get_data(as_text=True)
    facts = signed.split('id="signed-off"')[1].split("</dl>")[0]
    assert "张警官" in facts and "警号 012345" in facts and "2026-05-01 11:04" in facts
    assert 'id="sign-off"' not in signed and "已签收" in signed


def test_a_destruction_is_signed_off_by_a_witness_with_their_own_login_never_by_a_typed_name():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    drawn(services, client, csrf, route="destroy")
    page = client.get("/desk/lf/disposal/dp-destroy").get_data(as_text=True)
    assert 'name="cosigner_id"' in page and 'name="receiver_name"' not in page

    missing = client.post("/desk/lf/disposal/dp-destroy", data={"csrf_token": csrf, "cosigner_id": "c-023"})
    assert missing.status_code == 400 and services.sent("sign_off_disposal") == []
    wrong = client.post("/desk/lf/disposal/dp-destroy", data={"csrf_token": csrf, "cosigner_id": "c-023",
                                                              "cosigner_password": "a guess"})
    assert wrong.status_code == 401 and "确认人的工号或密码错误。" in wrong.get_data(as_text=True)
    assert services.sent("sign_off_disposal") == []

    done = client.post("/desk/lf/disposal/dp-destroy", data={
        "csrf_token": csrf, "cosigner_id": "c-023", "cosigner_password": PASSWORD, "receiver_name": "typed",
        "command_id": "cmd-2"})
    assert done.status_code == 303
    assert services.sent("sign_off_disposal") == [({"disposal_id": "dp-destroy", "command_id": "cmd-2",
                                                      "receiver_name": None, "receiver_reference": None},
                                                     "token-of-c-023")]
    witnessed = client.get("/desk/lf/disposal/dp-destroy").get_data(as_text=True)
    assert "销毁已由见证人确认。" in witnessed and "李娜（c-023）" in witnessed


def test_the_lead_reads_a_list_but_is_offered_no_sign_off_and_cannot_post_one():
    services = Services({"lead"}, staff_id="l-001")
    custodian = Services({"custodian"})
    client, csrf = logged_in(custodian)
    drawn(custodian, client, csrf)
    services.lists = custodian.lists
    lead, lead_csrf = logged_in(services)
    page = lead.get("/desk/lf/disposal/dp-police")
    assert page.status_code == 200 and 'id="sign-off"' not in page.get_data(as_text=True)
    assert lead.post("/desk/lf/disposal/dp-police", data={"csrf_token": lead_csrf, "receiver_name": "x",
                                                           "receiver_reference": "y"}).status_code == 403
    assert services.sent("sign_off_disposal") == []


# -- signatures -----------------------------------------------------------------------------------
def test_a_drawn_signature_is_sent_as_the_sha256_of_its_png_and_the_image_is_not_passed_on():
    services = Services({"clerk"}, desk="main-gate", staff_id="c-017")
    client, csrf = logged_in(services)
    form = client.get("/desk/lf/items/it-1/sign/registration_finder").get_data(as_text=True)
    assert '<canvas id="signature-pad"' in form and "/static/signature.js" in form and "拾获人签名" in form
    image = png()
    reply = client.post("/desk/lf/items/it-1/sign/registration_finder", data={
        "csrf_token": csrf, "signature": data_url(image), "signing_desk": "main-gate", "command_id": "sig-1"})
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/desk/lf/items/it-1")
    assert services.sent("capture_signature") == [({
        "item_id": "it-1", "desk": "main-gate", "part": "registration_finder",
        "image_ref": "sha256:" + hashlib.sha256(image).hexdigest(), "command_id": "sig-1"}, None)]
    assert base64.b64encode(image).decode() not in repr(services.calls)  # no service got the image itself


@pytest.mark.parametrize("signature", ["", "data:image/png;base64,", "data:image/png;base64,not base64!",
                                       data_url(b"GIF89a not a png"), "data:image/svg+xml;base64,PHN2Zz4="])
def test_no_signature_is_recorded_without_a_drawn_png(signature):
    services = Services({"clerk"}, desk="main-gate", staff_id="c-017")
    client, csrf = logged_in(services)
    reply = client.post("/desk/lf/items/it-1/sign/registration_finder", data={
        "csrf_token": csrf, "signature": signature, "signing_desk": "main-gate"})
    assert reply.status_code == 400 and 'id="e-signature"' in reply.get_data(as_text=True)
    assert services.sent("capture_signature") == []


def test_a_part_the_screen_does_not_know_is_not_found():
    client, _csrf = logged_in(Services({"clerk"}, desk="main-gate", staff_id="c-017"))
    assert client.get("/desk/lf/items/it-1/sign/custody_whatever").status_code == 404


def test_the_item_page_shows_who_signed_what_and_when_and_offers_only_the_parts_left():
    finder_signed = {"part": "registration_finder", "signer_kind": "finder", "signer_id": None,
                     "captured_by": "c-017", "image_ref": "sealed", "signed_at": SIGNED_AT}
    paper = {"signatures": [finder_signed], "claim": None}
    clerk, _ = logged_in(Services({"clerk"}, desk="main-gate", staff_id="c-017", paper=paper))
    body = clerk.get("/desk/lf/items/it-1").get_data(as_text=True).split('id="signatures"')[1]
    finder_row = body.split('data-part="registration_finder"')[1].split("</tr>")[0]
    assert "游客本人" in finder_row and "2026-05-01 11:04" in finder_row and "c-017" in finder_row
    assert 'id="sign-registration_finder"' not in body  # signed once
    assert 'href="/desk/lf/items/it-1/sign/registration_clerk"' in body  # the clerk who registered it
    assert 'data-part="claim_claimant"' not in body  # not claimed: no claim part yet

    other_clerk, _ = logged_in(Services({"clerk"}, desk="main-gate", staff_id="c-023", paper=paper))
    other = other_clerk.get("/desk/lf/items/it-1").get_data(as_text=True)
    assert 'id="sign-registration_clerk"' not in other  # another clerk's part

    claimed, _ = logged_in(Services({"clerk"}, desk="main-gate", staff_id="c-023",
                                    item={"status": "claimed"}, paper={"claim": {"claim_id": "cl-1"}}))
    assert 'href="/desk/lf/items/it-1/sign/claim_claimant"' in claimed.get("/desk/lf/items/it-1").get_data(
        as_text=True)


def test_the_witness_signs_a_destruction_lists_part_with_their_own_login():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    drawn(services, client, csrf, route="destroy")
    unsigned = client.get("/desk/lf/disposal/dp-destroy").get_data(as_text=True)
    assert 'id="sign-disposal_custodian"' in unsigned and 'id="sign-disposal_witness"' not in unsigned  # not yet
    client.post("/desk/lf/disposal/dp-destroy", data={"csrf_token": csrf, "cosigner_id": "c-023",
                                                      "cosigner_password": PASSWORD})
    page = client.get("/desk/lf/disposal/dp-destroy").get_data(as_text=True)
    assert 'href="/desk/lf/disposal/dp-destroy/sign/disposal_witness"' in page
    form = client.get("/desk/lf/disposal/dp-destroy/sign/disposal_witness").get_data(as_text=True)
    assert 'name="cosigner_id"' in form
    image = png(6, 3)
    reply = client.post("/desk/lf/disposal/dp-destroy/sign/disposal_witness", data={
        "csrf_token": csrf, "signature": data_url(image), "signing_desk": "lost-and-found-office",
        "cosigner_id": "c-023", "cosigner_password": PASSWORD, "command_id": "sig-w"})
    assert reply.status_code == 303
    assert services.sent("capture_signature") == [({
        "handover_id": "dp-destroy", "desk": "lost-and-found-office", "part": "disposal_witness",
        "image_ref": "sha256:" + hashlib.sha256(image).hexdigest(), "command_id": "sig-w"}, "token-of-c-023")]
    witness_logins = [payload for _s, method, payload, _t, _c in services.calls
                      if method == "login" and payload["staff_id"] == "c-023"]
    assert witness_logins and all("desk" not in payload for payload in witness_logins)  # not at the typed desk


def test_the_list_reads_in_english():
    services = Services({"custodian"})
    client, csrf = logged_in(services)
    client.post("/language", data={"csrf_token": csrf, "language": "en", "next": "/"})
    drawn(services, client, csrf, route="destroy")
    body = client.get("/desk/lf/disposal/dp-destroy").get_data(as_text=True)
    assert "Disposal list drawn: 1 disposed of, 0 withdrawn." in body
    assert "Disposal list" in body and 'id="route">Destroy<' in body and "Disposed of" in body
    assert "The witness confirms the destruction" in body and "处置清单" not in body
