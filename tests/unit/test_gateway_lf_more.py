"""The console's screens for lost and found's later commands, with a fake
caller in place of the services: the public notice list (no login, what a
passer-by may read), correcting and voiding (team lead, lead; only the
changed fields are sent), transfers between desks; buttons only for the
roles the contracts name. (In Chromium against the real system:
tests/e2e/test_console_lf_more.py.)"""
import re
from zoneinfo import ZoneInfo

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request

from services.gateway.app import Gateway, Settings
from services.gateway.screens import CallFailed
from tests.unit.test_gateway_app import reply_for

ITEM = {"item_id": "it-1", "short_code": "LF-AB2CD3", "desk": "main-gate", "channel": "desk_visitor", "form": "3.3",
        "item_name": "黑色雨伞", "category": "other", "description": "长柄", "found_place": "北门",
        "found_at": "2026-05-01T02:00:00+00:00", "storage_place": "柜台", "valuable": False,
        "retain_until": "2026-05-31", "status": "held", "custodian_id": None, "custody_required": False,
        "custody_overdue": False, "failed_verifications": 0, "lead_required": False,
        "hidden_features": [{"label": "伞柄", "detail": "刻着LY"}], "verifications": [], "claim_id": None,
        "handover_id": None, "version": 2, "quantity": 1, "cash_amount": None, "currency": None,
        "condition": None, "contents": [], "location": "at_desk", "to_desk": None}
BOARD = {"form": "招领公告", "title": "招领公告", "as_of_position": 9, "rows": [
    {"short_code": "LF-AB2CD3", "item_name": "黑色雨伞", "category": "other", "quantity": 2, "found_place": "北门",
     "found_on": "2026-05-01", "desk": "main-gate", "retain_until": "2026-05-31"}]}
CORRECTION = {"correction_id": "c-1", "reason": "名称录错", "corrected_by": "s-101", "corrected_by_role": "team_lead",
              "corrected_at": "2026-05-01T03:00:00+00:00", "positions": [3], "event_ids": ["e3"],
              "changes": [{"field": "item_name", "was": "黑色雨伞", "now": "黑色折叠伞"}]}


class Services:
    def __init__(self, roles, desk="main-gate", item=None, corrections=()):
        self.roles, self.desk, self.calls = set(roles), desk, []
        self.item = dict(ITEM, **(item or {}))
        self.corrections = list(corrections)

    def __call__(self, service, method, payload=None, *, token=None, cosigner=None, source=None):
        self.calls.append((service, method, payload, token))
        if method == "login":
            return reply_for("someone", self.roles, desk=self.desk)
        if method == "public_notice_list":
            return BOARD
        if token is None:
            raise CallFailed(401, {"code": "unauthenticated", "message": "log in first"})
        if method == "item":
            return self.item
        if method == "found_item_form":
            return {"corrections": self.corrections, "void": None, "movements": []}
        if method == "correct_item":
            fields = [name for name in payload if name not in ("desk", "item_id", "reason", "correction_id")]
            if not fields:
                raise CallFailed(422, {"code": "rule_violated", "reason": "nothing_to_correct",
                                       "message": "name at least one field to correct", "field": "changes"})
            return {"correction_id": "c-1", "corrected_fields": fields, "valuable": False,
                    "retain_until": "2026-05-31", "stream_id": "s", "version": 3, "positions": [3],
                    "event_ids": ["e"], "duplicate": False}
        return {"stream_id": "s", "version": 3, "positions": [3], "event_ids": ["e"], "duplicate": False}


def client_for(services):
    gateway = Gateway(Settings(ZoneInfo("Asia/Shanghai"), idle_lock_seconds=300, expire_seconds=3600,
                               max_body_bytes=8192))
    return Client(lambda environ, start: gateway.handle(Request(environ), services)(environ, start))


def logged_in(services):
    client = client_for(services)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": csrf, "staff_id": "someone", "password": "x", "desk": services.desk})
    home = client.get("/").get_data(as_text=True)  # a new session at login: its own token
    return client, re.search(r'data-csrf="([^"]+)"', home).group(1)


def test_the_public_notice_list_needs_no_login_and_shows_only_the_board_fields():
    services = Services(set())
    reply = client_for(services).get("/public/lf?desk=main-gate")
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "招领公告" in body and "LF-AB2CD3" in body and "×2" in body and "北门" in body
    assert ("forms", "public_notice_list", {"desk": "main-gate"}, None) in services.calls  # as nobody
    assert "刻着LY" not in body and "柜台" not in body and "/desk/" not in body  # no hidden, storage, links in
    english = client_for(services).get("/public/lf?lang=en").get_data(as_text=True)
    assert "Found property" in english and "Ask at desk" in english and "招领公告" not in english


@pytest.mark.parametrize("roles, shown", [({"team_lead"}, {"correct", "void"}), ({"lead"}, {"correct", "void"}),
                                          ({"clerk"}, {"send"}), ({"custodian"}, set())])
def test_the_item_page_shows_correct_void_and_send_only_to_the_contracts_roles(roles, shown):
    client, _csrf = logged_in(Services(roles))
    body = client.get("/desk/lf/items/it-1").get_data(as_text=True)
    buttons = {name for name in ("correct", "void", "send", "receive") if f'id="{name}"' in body}
    assert buttons == shown


def test_a_correction_sends_only_the_changed_fields_with_the_reason_and_the_page_shows_was_and_now():
    services = Services({"team_lead"}, desk=None, corrections=[CORRECTION])
    client, csrf = logged_in(services)
    form = client.get("/desk/lf/items/it-1/correct").get_data(as_text=True)
    assert 'value="黑色雨伞"' in form  # prefilled with the current values
    reply = client.post("/desk/lf/items/it-1/correct", data={
        "csrf_token": csrf, "reason": "名称录错", "item_name": "黑色折叠伞", "category": "other",
        "description": "长柄", "found_place": "北门", "found_at": "2026-05-01T10:00", "quantity": "1",
        "cash_amount": "", "condition": "", "correction_id": "c-1"})
    assert reply.status_code == 303
    sent = [payload for service, method, payload, _ in services.calls if method == "correct_item"]
    assert sent == [{"item_name": "黑色折叠伞", "desk": "main-gate", "item_id": "it-1", "reason": "名称录错",
                     "correction_id": "c-1"}]  # the team lead has no desk: the item's
    page = client.get("/desk/lf/items/it-1").get_data(as_text=True)
    section = page.split('id="corrections"')[1]
    assert re.search(r'class="was">黑色雨伞<.*class="now">黑色折叠伞<', section, re.S)


def test_receive_is_offered_only_at_the_desk_the_item_was_sent_to():
    on_the_way = {"location": "in_transit", "to_desk": "north-gate"}
    here, _ = logged_in(Services({"clerk"}, desk="north-gate", item=on_the_way))
    there, _ = logged_in(Services({"clerk"}, desk="main-gate", item=on_the_way))
    assert 'id="receive"' in here.get("/desk/lf/items/it-1").get_data(as_text=True)
    body = there.get("/desk/lf/items/it-1").get_data(as_text=True)
    assert 'id="receive"' not in body and 'id="send"' not in body and "north-gate" in body
