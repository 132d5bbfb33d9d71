"""Lost and found (失物招领) at the desk: the desk's list (live), the three
turn-ins, the lost-item report, match suggestions with their reasons and
confirm, contact tasks, verification and claim, custody handover with the
custodian's own login, the finance handover list and sign-off with
finance's own login, printing the receipt and card, the item page from a
short code, the shift-end checklist; the public notice list (招领公告, no
login), corrections and voids (team lead, lead), transfers between desks,
proxy claims, courier returns and their dispatch.

Thin on purpose: every screen calls the services' RPCs (lost_and_found,
forms) and shows their replies; the rules are theirs. Roles come from the
contracts, so what a role may not do it does not see, and the service
refuses it anyway. Hidden features are shown only on the clerk's item page
(folded away, marked staff-only); the verification screen, which the
claimant may see, shows their labels only.
"""
from __future__ import annotations

import datetime as dt
import uuid

from contracts import lost_and_found as lf
from services.gateway import printing
from services.gateway.errors import REASONS
from services.gateway.i18n import _
from services.gateway.screens import CallFailed, page, redirect, screen, short_code

#: the turn-in channels: path part -> (RPC contract, form, title)
TURN_INS = {
    "visitor": (lf.TURN_IN_BY_VISITOR, "3.3", _("游客交来物品")),
    "staff": (lf.TURN_IN_BY_STAFF, "3.4", _("员工交来物品")),
    "on-site": (lf.TURN_IN_ON_SITE, "3.5", _("现场拾获登记")),
}
DESK_WORK = lf.VERIFYING | {"lead"}
STATUS_NAMES = {"held": _("在服务台"), "in_custody": _("负责人保管"), "claimed": _("已认领"),
                "with_finance": _("已交财务"), "reported": _("已登记"), "matched": _("已匹配"),
                "contacted": _("已联系"), "returned": _("已归还"), "voided": _("已作废"), "disposed": _("已处置")}
LOCATION_NAMES = {"at_desk": _("在服务台"), "on_site": _("在现场（未送到服务台）"), "in_transit": _("送往其他服务台途中")}
FIELD_NAMES = {"item_name": _("物品名称"), "category": _("类别"), "description": _("物品描述"),
               "found_place": _("拾获地点"), "found_at": _("拾获时间"), "quantity": _("数量"),
               "cash_amount": _("金额"), "currency": _("币种"), "condition": _("物品状况"), "contents": _("内含物品")}
DECISION_NAMES = {"owner": _("是失主"), "not_owner": _("不是失主"), "needs_more_proof": _("需要更多证明")}
CLAIM_KIND_NAMES = {"reported": _("已报失"), "unreported": _("未报失"), "on_spot": _("现场认领")}
ID_TYPE_NAMES = {"resident_id": _("居民身份证"), "passport": _("护照"), "hk_macao_permit": _("港澳通行证"),
                 "taiwan_permit": _("台湾通行证"), "other": _("其他证件")}
OUTCOME_NAMES = {"reached": _("已联系上"), "no_answer": _("无人接听"), "wrong_number": _("号码错误"),
                 "left_message": _("已留言")}
HIDDEN_ROWS = 3
# the second person's own login failed: the banner says so (not "log in first": the one at the terminal is)
REASONS["cosigner_login_failed"] = _("确认人的工号或密码错误。")
LIVE_TYPES = ("FoundItemTurnedIn FoundItemClaimed ItemHandedToCustodian ItemHandedToFinance LostItemReported "
              "LostReportMatched VisitorContacted")


# -- helpers ---------------------------------------------------------------------------
def _desk(request, session) -> str | None:
    return (request.form.get("desk") or request.args.get("desk") or session.principal.desk or "").strip() or None


def _local_moment(text: str | None, zone) -> str | None:
    """A ``datetime-local`` value (the site's wall clock) as an aware ISO time; None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text  # the service names the field and says what is wrong
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _number(text: str | None):
    """A whole number typed in a field (the service says what is wrong with anything else)."""
    text = (text or "").strip()
    if not text:
        return 1
    return int(text) if text.isdigit() else text


def _now_local(request) -> str:
    return dt.datetime.now(request.t.zone).strftime("%Y-%m-%dT%H:%M")


def _options(names: dict, request, keys=None) -> list[tuple[str, str]]:
    return [(key, request._(names[key])) for key in (keys or names)]


def _category_options(request) -> list[tuple[str, str]]:
    return [(key, printing.category_label(key, request.t.language)) for key in lf.CATEGORIES]


def _cosign(request, role_name: str) -> tuple[str | None, CallFailed | None]:
    """The second person's own login at this terminal (staff id and password
    typed by them): their token for the call's cosigner, or why not."""
    staff_id = request.form.get("cosigner_id", "").strip()
    password = request.form.get("cosigner_password", "")
    if not staff_id or not password:
        return None, CallFailed(400, {"code": "validation_failed",
                                      "message": request._("%(role)s须用自己的工号和密码确认。", role=request._(role_name)),
                                      "fields": {"cosigner_id": [request._("必填")]}})
    try:
        return request.login(staff_id, password, _desk(request, request.session))["token"], None
    except CallFailed as failed:
        if failed.code == "unauthenticated":
            return None, CallFailed(401, {"code": "unauthenticated", "reason": "cosigner_login_failed",
                                          "message": request._("确认人的工号或密码错误。"),
                                          "fields": {"cosigner_password": [request._("工号或密码错误。")]}})
        return None, failed


def _cosigner_fields(failed: CallFailed | None) -> dict:
    """A refusal about the cosigner, shown next to the cosigner's fields."""
    if failed is None:
        return {}
    if failed.body.get("reason") in ("cosigner_required", "cosigner_role_required") or "cosigner" in failed.fields:
        return {"cosigner_id": [failed.body.get("message", "")]}
    return {}


def _labels(request) -> dict:
    return {"status_name": lambda key: request._(STATUS_NAMES.get(key, key)),
            "category_label": lambda key: printing.category_label(key, request.t.language),
            "decision_name": lambda key: request._(DECISION_NAMES.get(key, key)),
            "outcome_name": lambda key: request._(OUTCOME_NAMES.get(key, key)),
            "claim_kind_name": lambda key: request._(CLAIM_KIND_NAMES.get(key, key)),
            "id_type_name": lambda key: request._(ID_TYPE_NAMES.get(key, key)),
            "location_name": lambda key: request._(LOCATION_NAMES.get(key, key)),
            "field_name": lambda key: request._(FIELD_NAMES.get(key, key)),
            "proxy_kind_name": lambda key: request._(PROXY_KIND_NAMES.get(key, key)),
            "authorisation_name": lambda key: request._(AUTHORISATION_NAMES.get(key, key)),
            "fee_payer_name": lambda key: request._(FEE_PAYER_NAMES.get(key, key))}


def _lf_page(request, template, status=200, **context):
    return page(f"lost_and_found/{template}", status=status, **_labels(request), **context)


# -- the desk's lists -------------------------------------------------------------------
@screen("/desk/lf", roles=DESK_WORK, nav=_("失物招领"), order=20)
def desk(request, session):
    """Every desk's open cases (a visitor may ask at any desk), or one desk's with ``?desk=``."""
    desk_ = (request.args.get("desk") or "").strip() or None
    principal = session.principal
    cases = request.call("forms", "open_cases", {"desk": desk_} if desk_ else {})
    return _lf_page(request, "desk.html", desk=desk_, my_desk=principal.desk, cases=cases, live_types=LIVE_TYPES,
                    turn_ins=[(key, title) for key, (contract, _form, title) in TURN_INS.items()
                              if principal.holds(contract.roles)],
                    may_report=principal.holds(lf.REPORT_LOST_ITEM.roles),
                    may_open_item=principal.holds(lf.ITEM.roles))


# -- turn-ins ----------------------------------------------------------------------------
def _turn_in_payload(request, channel: str) -> dict:
    form, zone = request.form, request.t.zone
    payload = {"desk": _desk(request, request.session), "item_name": form.get("item_name", "").strip(),
               "category": form.get("category", ""), "description": form.get("description", "").strip(),
               "found_place": form.get("found_place", "").strip(),
               "found_at": _local_moment(form.get("found_at"), zone),
               "storage_place": form.get("storage_place", "").strip(),
               "quantity": _number(form.get("quantity")), "condition": form.get("condition", "").strip() or None,
               "hidden_features": [{"label": form.get(f"hf_label_{i}", "").strip(),
                                    "detail": form.get(f"hf_detail_{i}", "").strip()}
                                   for i in range(HIDDEN_ROWS) if form.get(f"hf_label_{i}", "").strip()
                                   or form.get(f"hf_detail_{i}", "").strip()],
               "command_id": form.get("command_id") or None}
    if form.get("cash_amount", "").strip():
        payload.update(cash_amount=form["cash_amount"].strip(), currency=form.get("currency", "CNY").strip() or "CNY")
    if channel == "visitor":
        payload.update(finder_name=form.get("finder_name", "").strip(),
                       finder_phone=form.get("finder_phone", "").strip() or None)
    else:
        payload.update(finder_id=form.get("finder_id", "").strip(),
                       finder_department=form.get("finder_department", "").strip() or None)
    if channel == "on-site":
        payload.update(witness_id=form.get("witness_id", "").strip() or None,
                       owner_urgent=form.get("owner_urgent") == "on")
    return payload


@screen("/desk/lf/turn-in/<channel>", roles=lf.TURN_IN_BY_VISITOR.roles | lf.TURN_IN_ON_SITE.roles)
def turn_in(request, session, channel):
    if channel not in TURN_INS:
        return page("gateway/error.html", status=404, code="not_found", message=request._("没有找到。"))
    contract, form_no, title = TURN_INS[channel]
    if not session.principal.holds(contract.roles):
        return page("gateway/error.html", status=403, code="forbidden", message=request._("您的角色不能进行此操作。"))
    failed, form = None, {"found_at": _now_local(request), "command_id": uuid.uuid4().hex,
                          "desk": _desk(request, session) or ""}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            reply = request.call("lost_and_found", contract.method, _turn_in_payload(request, channel))
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("已登记 %(code)s（%(form)s）", code=reply["short_code"], form=reply["form"]),
                          "success")
            return redirect(f"/desk/lf/items/{reply['item_id']}?new=1")
    return _lf_page(request, "turn_in.html", status=failed.status if failed else 200, failed=failed, form=form,
                    channel=channel, title=title, form_no=form_no, categories=_category_options(request),
                    hidden_rows=range(HIDDEN_ROWS))


# -- lost-item reports, suggestions, contact tasks ----------------------------------------
@screen("/desk/lf/report", roles=lf.REPORT_LOST_ITEM.roles)
def report(request, session):
    now = _now_local(request)
    failed, form = None, {"lost_until": now, "command_id": uuid.uuid4().hex, "desk": _desk(request, session) or ""}
    if request.method == "POST":
        form, zone = request.form.to_dict(), request.t.zone
        payload = {key: form.get(key, "").strip() for key in ("item_name", "category", "description", "features",
                                                               "lost_place", "visitor_name", "visitor_phone")}
        payload.update(desk=_desk(request, session), lost_from=_local_moment(form.get("lost_from"), zone),
                       lost_until=_local_moment(form.get("lost_until"), zone), command_id=form.get("command_id") or None)
        try:
            reply = request.call("lost_and_found", "report_lost_item", payload)
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("已登记报失。"), "success")
            return redirect(f"/desk/lf/reports/{reply['report_id']}")
    return _lf_page(request, "report.html", status=failed.status if failed else 200, failed=failed, form=form,
                    categories=_category_options(request))


@screen("/desk/lf/reports/<report_id>", roles=lf.LOST_ITEM_REPORT_FORM.roles)
def report_page(request, session, report_id):
    principal, failed = session.principal, None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "confirm":
                request.call("lost_and_found", "confirm_match", {
                    "desk": _desk(request, session), "report_id": report_id,
                    "item_id": request.form.get("item_id", ""), "command_id": request.form.get("command_id") or None})
                session.flash(request._("已确认匹配，已生成联系任务。"), "success")
            elif action == "contact":
                reply = request.call("lost_and_found", "record_visitor_contact", {
                    "desk": _desk(request, session), "report_id": report_id,
                    "task_id": request.form.get("task_id", ""), "outcome": request.form.get("outcome", ""),
                    "command_id": request.form.get("command_id") or None})
                session.flash(request._("联系任务已完成。") if reply["task_closed"] else request._("已记录联系。"),
                              "success")
            else:
                return page("gateway/error.html", status=400, code="bad_request", message=request._("请求无效。"))
        except CallFailed as failed_call:
            failed = failed_call
        else:
            return redirect(f"/desk/lf/reports/{report_id}")
    form = request.call("forms", "lost_item_report_form", {"report_id": report_id})
    suggestions = None
    if principal.holds(lf.SUGGEST_MATCHES.roles) and not form["matched_item_id"]:
        try:
            suggestions = request.call("lost_and_found", "suggest_matches", {"report_id": report_id, "limit": 5})
        except CallFailed as failed_call:
            if failed_call.code != "not_found":  # a returned report is no longer in the open pool
                raise
    return _lf_page(request, "report_page.html", status=failed.status if failed else 200, failed=failed,
                    report=form, suggestions=suggestions, command_id=uuid.uuid4().hex,
                    may_confirm=principal.holds(lf.CONFIRM_MATCH.roles),
                    may_contact=principal.holds(lf.RECORD_VISITOR_CONTACT.roles),
                    outcomes=_options(OUTCOME_NAMES, request))


# -- the item ------------------------------------------------------------------------------
@short_code("lf")
def open_code(request, code):
    try:
        found = request.call("forms", "find_item", {"short_code": code})
    except CallFailed as failed:
        if failed.code == "not_found":
            return None
        raise
    if request.principal.holds(lf.ITEM.roles):
        return f"/desk/lf/items/{found['item_id']}"
    return f"/forms/lf/items/{found['item_id']}"


@screen("/desk/lf/items/<item_id>", roles=lf.ITEM.roles)
def item_page(request, session, item_id):
    principal = session.principal
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    suggestions = None
    if item["status"] in ("held", "in_custody") and principal.holds(lf.SUGGEST_MATCHES.roles):
        try:
            suggestions = request.call("lost_and_found", "suggest_matches", {"item_id": item_id, "limit": 5})
        except CallFailed:
            suggestions = None
    open_item = item["status"] in ("held", "in_custody")
    # the recorded corrections (each field's was and now), the void and the movements: from the item's form
    paper = request.call("forms", "found_item_form", {"item_id": item_id}) \
        if principal.holds(lf.FOUND_ITEM_FORM.roles) else None
    at_desk = item["location"] == "at_desk"
    receivable = item["location"] == "on_site" or (item["location"] == "in_transit"
                                                   and item["to_desk"] == principal.desk)
    return _lf_page(request, "item.html", item=item, suggestions=suggestions, paper=paper,
                    may_correct=item["status"] != "voided" and principal.holds(lf.CORRECT_ITEM.roles),
                    may_void=open_item and principal.holds(lf.VOID_ITEM.roles),
                    may_send=item["status"] == "held" and at_desk and principal.holds(lf.SEND_ITEM_TO_DESK.roles),
                    may_receive=open_item and receivable and principal.holds(lf.RECEIVE_ITEM_AT_DESK.roles),
                    may_proxy=open_item and principal.holds(lf.CLAIM_ITEM_BY_PROXY.roles),
                    may_courier=open_item and principal.holds(lf.ARRANGE_COURIER_RETURN.roles),
                    may_dispatch=bool(paper and paper.get("courier") and not paper["courier"]["dispatched_at"])
                    and principal.holds(lf.RECORD_COURIER_DISPATCH.roles),
                    has_card=item["channel"] != "desk_staff", has_receipt=item["channel"] != "desk_visitor",
                    may_verify=open_item and principal.holds(lf.RECORD_CLAIM_VERIFICATION.roles),
                    may_custody=item["status"] == "held" and item["valuable"]
                    and principal.holds(lf.HAND_TO_CUSTODIAN.roles),
                    owner_verifications=[v for v in item["verifications"] if v["decision"] == "owner"],
                    may_claim=open_item and principal.holds(lf.CLAIM_ITEM.roles),
                    may_sign=principal.holds(lf.CAPTURE_SIGNATURE.roles))  # 签名: screens/lf_disposal.py


@screen("/desk/lf/items/<item_id>/verify", roles=lf.RECORD_CLAIM_VERIFICATION.roles)
def verify(request, session, item_id):
    """Claimant-facing: the labels of the hidden features, never their details."""
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    labels = [feature["label"] for feature in item["hidden_features"]]
    failed, form = None, {"command_id": uuid.uuid4().hex}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            reply = request.call("lost_and_found", "record_claim_verification", {
                "desk": _desk(request, session), "item_id": item_id,
                "claimant_description": request.form.get("claimant_description", "").strip(),
                "claimant_id_number": request.form.get("claimant_id_number", "").strip(),
                "matched_features": [label for i, label in enumerate(labels) if request.form.get(f"feature_{i}")],
                "description_matched": request.form.get("description_matched") == "on",
                "decision": request.form.get("decision", ""), "command_id": request.form.get("command_id") or None})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            if reply["decision"] == "owner":
                return redirect(f"/desk/lf/items/{item_id}/claim?verification_id={reply['verification_id']}")
            session.flash(request._("已记录核实结果：%(decision)s",
                                    decision=request._(DECISION_NAMES[reply["decision"]])), "success")
            return redirect(f"/desk/lf/items/{item_id}")
    return _lf_page(request, "verify.html", status=failed.status if failed else 200, failed=failed, form=form,
                    item={key: item[key] for key in ("item_id", "short_code", "item_name", "category", "status")},
                    labels=labels, decisions=_options(DECISION_NAMES, request))


@screen("/desk/lf/items/<item_id>/claim", roles=lf.CLAIM_ITEM.roles)
def claim(request, session, item_id):
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    needs_custodian = item["status"] == "in_custody" and not session.principal.holds({"custodian"})
    verification_id = (request.form.get("verification_id") or request.args.get("verification_id") or "").strip()
    failed, form = None, {"verification_id": verification_id, "command_id": uuid.uuid4().hex,
                          "claim_kind": "reported" if request.args.get("report_id") else "unreported",
                          "report_id": request.args.get("report_id", ""), "authorised_at": _now_local(request),
                          "fee_paid_by": "visitor"}
    mode = (request.form.get("mode") or request.args.get("mode") or "").strip()
    if mode not in CLAIM_MODES or not session.principal.holds(CLAIM_MODES[mode][2].roles):
        return page("gateway/error.html", status=404, code="not_found", message=request._("没有找到。"))
    form["mode"] = mode
    if request.method == "POST":
        form = request.form.to_dict()
        cosigner = None
        if needs_custodian:
            cosigner, failed = _cosign(request, _("失物招领负责人"))
        if failed is None:
            payload = {key: request.form.get(key, "").strip() for key in (
                "verification_id", "claim_kind", "claimant_name", "claimant_phone", "claimant_id_type",
                "claimant_id_number")}
            payload.update(desk=_desk(request, session), item_id=item_id,
                           report_id=request.form.get("report_id", "").strip() or None,
                           command_id=request.form.get("command_id") or None)
            payload.update(_claim_mode_fields(request, mode))
            try:
                request.call("lost_and_found", CLAIM_MODES[mode][0], payload, cosigner=cosigner)
            except CallFailed as failed_call:
                failed = failed_call
            else:
                session.flash(request._(CLAIM_MODES[mode][1], code=item["short_code"]), "success")
                return redirect(f"/desk/lf/items/{item_id}")
    errors = dict(failed.field_errors(request.t), **_cosigner_fields(failed)) if failed else {}
    return _lf_page(request, "claim.html", status=failed.status if failed else 200, failed=failed, errors=errors,
                    form=form, item={key: item[key] for key in ("item_id", "short_code", "item_name", "status")},
                    verifications=[v["verification_id"] for v in item["verifications"] if v["decision"] == "owner"],
                    needs_custodian=needs_custodian, claim_kinds=_options(CLAIM_KIND_NAMES, request),
                    id_types=_options(ID_TYPE_NAMES, request), mode=mode,
                    proxy_kinds=_options(PROXY_KIND_NAMES, request),
                    authorisation_methods=_options(AUTHORISATION_NAMES, request),
                    fee_payers=_options(FEE_PAYER_NAMES, request))


#: the claim screen's modes: (RPC, message when done, contract)
CLAIM_MODES = {"": ("claim_item", _("%(code)s 已交还失主。"), lf.CLAIM_ITEM),
               "proxy": ("claim_item_by_proxy", _("%(code)s 已由代领人领走。"), lf.CLAIM_ITEM_BY_PROXY),
               "courier": ("arrange_courier_return", _("%(code)s 已登记快递寄还，待寄出。"), lf.ARRANGE_COURIER_RETURN)}
PROXY_KIND_NAMES = {"tour_guide": _("导游"), "hotel": _("酒店"), "family": _("家属"), "other": _("其他")}
AUTHORISATION_NAMES = {"written": _("书面委托"), "message": _("短信/微信"), "phone_call": _("电话"),
                       "video_call": _("视频通话")}
FEE_PAYER_NAMES = {"visitor": _("游客付费"), "center": _("中心付费"), "cash_on_delivery": _("到付")}


def _claim_mode_fields(request, mode: str) -> dict:
    """代领: who the proxy is, the owner and the owner's authorisation; 快递寄还: where it goes and who pays."""
    form = request.form
    text = lambda name: form.get(name, "").strip()  # noqa: E731
    if mode == "proxy":
        return {"proxy_kind": text("proxy_kind"), "organisation": text("organisation") or None,
                "owner_name": text("owner_name"), "owner_phone": text("owner_phone") or None,
                "authorisation_method": text("authorisation_method"), "authorisation_note": text("authorisation_note"),
                "authorised_at": _local_moment(form.get("authorised_at"), request.t.zone)}
    if mode == "courier":
        fields = {"recipient_name": text("recipient_name"), "recipient_phone": text("recipient_phone"),
                  "address": text("address"), "fee_paid_by": text("fee_paid_by")}
        if text("fee_amount"):
            fields.update(fee_amount=text("fee_amount"), fee_currency=text("fee_currency") or "CNY")
        return fields
    return {}


@screen("/desk/lf/items/<item_id>/dispatch", roles=lf.RECORD_COURIER_DISPATCH.roles)
def courier_dispatch(request, session, item_id):
    """The item left with the courier: carrier and tracking number, once."""
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    courier = request.call("forms", "found_item_form", {"item_id": item_id}).get("courier") or {}
    failed, form = None, {"carrier": "", "tracking_number": "", "command_id": uuid.uuid4().hex}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            request.call("lost_and_found", "record_courier_dispatch", {
                "desk": _desk(request, session) or item["desk"], "item_id": item_id,
                "return_id": courier.get("return_id") or "", "carrier": request.form.get("carrier", "").strip(),
                "tracking_number": request.form.get("tracking_number", "").strip(),
                "command_id": request.form.get("command_id") or None})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("%(code)s 已寄出。", code=item["short_code"]), "success")
            return redirect(f"/desk/lf/items/{item_id}")
    return _lf_page(request, "dispatch.html", status=failed.status if failed else 200, failed=failed, form=form,
                    item=item, courier=courier)


@screen("/desk/lf/items/<item_id>/custody", roles=lf.HAND_TO_CUSTODIAN.roles)
def custody(request, session, item_id):
    """The clerk hands a valuable over; the custodian confirms with their own login."""
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    needs_custodian = not session.principal.holds({"custodian"})
    failed, form = None, {"storage_place": "", "command_id": uuid.uuid4().hex}
    if request.method == "POST":
        form = request.form.to_dict()
        cosigner = None
        if needs_custodian:
            cosigner, failed = _cosign(request, _("失物招领负责人"))
        if failed is None:
            try:
                request.call("lost_and_found", "hand_to_custodian", {
                    "desk": _desk(request, session), "item_id": item_id,
                    "storage_place": request.form.get("storage_place", "").strip(),
                    "command_id": request.form.get("command_id") or None}, cosigner=cosigner)
            except CallFailed as failed_call:
                failed = failed_call
            else:
                session.flash(request._("%(code)s 已交失物招领负责人保管。", code=item["short_code"]), "success")
                return redirect(f"/desk/lf/items/{item_id}")
    errors = dict(failed.field_errors(request.t), **_cosigner_fields(failed)) if failed else {}
    return _lf_page(request, "custody.html", status=failed.status if failed else 200, failed=failed, errors=errors,
                    form=form, item=item, needs_custodian=needs_custodian)


# -- printing ----------------------------------------------------------------------------
@screen("/desk/lf/items/<item_id>/card", roles=lf.ITEM_INFORMATION_CARD.roles, methods=("GET",))
def print_card(request, session, item_id):
    card = request.call("forms", "item_information_card", {"item_id": item_id})
    return page("lost_and_found/print_card.html", back_url=_back(request, session, item_id),
                **printing.card_context(card, request.t.zone, request.t.language))


@screen("/desk/lf/items/<item_id>/receipt", roles=lf.FOUND_ITEM_RECEIPT.roles, methods=("GET",))
def print_receipt(request, session, item_id):
    receipt = request.call("forms", "found_item_receipt", {"item_id": item_id})
    return page("lost_and_found/print_receipt.html", back_url=_back(request, session, item_id),
                **printing.receipt_context(receipt, request.t.zone, request.t.language))


def _back(request, session, item_id) -> str:
    return f"/desk/lf/items/{item_id}" if session.principal.holds(lf.ITEM.roles) else f"/forms/lf/items/{item_id}"


# -- the shift-end checklist ---------------------------------------------------------------
@screen("/desk/lf/checklist", roles=lf.VALUABLES_AWAITING_CUSTODY.roles, nav=_("交班检查"), order=40)
def checklist(request, session):
    desk_ = _desk(request, session)
    failed = None
    if request.method == "POST":  # a team lead's on-spot claim form reached the desk
        try:
            request.call("lost_and_found", "file_on_spot_claim_form", {
                "desk": desk_, "item_id": request.form.get("item_id", ""),
                "command_id": request.form.get("command_id") or None})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("现场认领单已收到。"), "success")
            return redirect("/desk/lf/checklist")
    as_of = dt.datetime.now(dt.timezone.utc).isoformat()
    query = {"as_of": as_of, **({"desk": desk_} if desk_ else {})}
    valuables = request.call("forms", "valuables_awaiting_custody", query)
    on_spot = request.call("forms", "on_spot_claims_not_filed", {"as_of": as_of})
    return _lf_page(request, "checklist.html", status=failed.status if failed else 200, failed=failed, desk=desk_,
                    valuables=valuables, on_spot=on_spot, command_id=uuid.uuid4().hex,
                    may_file=session.principal.holds(lf.FILE_ON_SPOT_CLAIM_FORM.roles),
                    may_custody=session.principal.holds(lf.HAND_TO_CUSTODIAN.roles),
                    may_open_item=session.principal.holds(lf.ITEM.roles))


# -- the finance handover ----------------------------------------------------------------
@screen("/desk/lf/finance", roles=lf.HAND_OVER_TO_FINANCE.roles, nav=_("移交财务"), order=50)
def finance(request, session):
    """The custodian draws the month's list (items whose retention is over)."""
    today = request.t.today()
    failed, form = None, {"month": today.strftime("%Y-%m"), "handover_id": f"fh-{today:%Y%m}-{uuid.uuid4().hex[:6]}"}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            reply = request.call("lost_and_found", "hand_over_to_finance", {
                "handover_id": request.form.get("handover_id", "").strip(),
                "month": request.form.get("month", "").strip()})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("移交清单已生成：%(n)s 件。", n=len(reply["item_ids"])), "success")
            return redirect(f"/desk/lf/finance/{reply['handover_id']}")
    return _lf_page(request, "finance.html", status=failed.status if failed else 200, failed=failed, form=form)


@screen("/desk/lf/finance/<handover_id>", roles=lf.FINANCE_HANDOVER_LIST.roles)
def finance_list(request, session, handover_id):
    """The handover list; finance signs it off with their own login (or as the caller)."""
    principal = session.principal
    may_sign = principal.holds(lf.SIGN_OFF_FINANCE_HANDOVER.roles)
    needs_finance = not principal.holds({"finance"})
    failed = None
    if request.method == "POST":
        if not may_sign:
            return page("gateway/error.html", status=403, code="forbidden", message=request._("您的角色不能进行此操作。"))
        cosigner = None
        if needs_finance:
            cosigner, failed = _cosign(request, _("财务"))
        if failed is None:
            try:
                request.call("lost_and_found", "sign_off_finance_handover", {
                    "handover_id": handover_id, "command_id": request.form.get("command_id") or None},
                    cosigner=cosigner)
            except CallFailed as failed_call:
                failed = failed_call
            else:
                session.flash(request._("财务已签收。"), "success")
                return redirect(f"/desk/lf/finance/{handover_id}")
    handover = request.call("forms", "finance_handover_list", {"handover_id": handover_id})
    errors = dict(failed.field_errors(request.t), **_cosigner_fields(failed)) if failed else {}
    return _lf_page(request, "finance_list.html", status=failed.status if failed else 200, failed=failed,
                    errors=errors, handover=handover, may_sign=may_sign and not handover["signed_by"],
                    needs_finance=needs_finance, command_id=uuid.uuid4().hex)



# -- 招领公告: the public notice list (no login) --------------------------------------------
@screen("/public/lf", public=True, methods=("GET",), name="lost_and_found.public_notices")
def public_notices(request, session):
    """A display board in the hall or a web page: what a passer-by may read
    (the forms service answers nothing else), in large type, no login. The
    language comes from ``?lang=`` (a board has no session to remember it)."""
    from services.gateway.i18n import LANGUAGES, Translator
    language = request.args.get("lang")
    t = Translator(request.gateway.translations, language, request.t.zone) if language in LANGUAGES else request.t
    query = {key: request.args[key].strip() for key in ("desk", "category") if request.args.get(key, "").strip()}
    notices = request.call("forms", "public_notice_list", query)
    return page("lost_and_found/public_notices.html", notices=notices, t=t, _=t.gettext, gettext=t.gettext,
                language=t.language, query=query, other_languages=[code for code in LANGUAGES if code != t.language],
                category_label=lambda key: printing.category_label(key, t.language))


# -- corrections and voiding (team lead, lead) -------------------------------------------
def _corrector_desk(request, session, item) -> str:
    """A team lead or the lead may work without a desk: the item's."""
    return session.principal.desk or item["desk"]


def _correction_payload(request, item) -> dict:
    """Only the fields whose typed value differs from the item's (the service refuses a no-op)."""
    form, zone = request.form, request.t.zone
    payload = {}
    for name in ("item_name", "category", "description", "found_place", "condition"):
        value = form.get(name, "").strip()
        if value != (item.get(name) or ""):
            payload[name] = value or None if name == "condition" else value
    found_at = _local_moment(form.get("found_at"), zone)
    if found_at and (form.get("found_at") or "") != _local_input(item["found_at"], zone):
        payload["found_at"] = found_at
    quantity = _number(form.get("quantity"))
    if quantity != item["quantity"]:
        payload["quantity"] = quantity
    amount = form.get("cash_amount", "").strip()
    if amount != (item.get("cash_amount") or "") or (amount and form.get("currency", "").strip() != item.get("currency")):
        payload["cash_amount"] = amount or None
        payload["currency"] = (form.get("currency", "").strip() or "CNY") if amount else None
    return payload


def _local_input(value, zone) -> str:
    """An ISO time as a ``datetime-local`` value on the site's wall clock."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@screen("/desk/lf/items/<item_id>/correct", roles=lf.CORRECT_ITEM.roles)
def correct(request, session, item_id):
    """更正登记: a recorded correction with a reason, never an edit."""
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    failed = None
    form = {key: item.get(key) or "" for key in ("item_name", "category", "description", "found_place", "condition",
                                                 "quantity", "cash_amount", "currency")}
    form.update(found_at=_local_input(item["found_at"], request.t.zone), reason="", correction_id=uuid.uuid4().hex)
    if request.method == "POST":
        form = request.form.to_dict()
        payload = _correction_payload(request, item)
        payload.update(desk=_corrector_desk(request, session, item), item_id=item_id,
                       reason=request.form.get("reason", "").strip(),
                       correction_id=request.form.get("correction_id") or None)
        try:
            reply = request.call("lost_and_found", "correct_item", payload)
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("%(code)s 已更正：%(n)s 项。", code=item["short_code"],
                                    n=len(reply["corrected_fields"])), "success")
            return redirect(f"/desk/lf/items/{item_id}")
    return _lf_page(request, "correct.html", status=failed.status if failed else 200, failed=failed, form=form,
                    item=item, categories=_category_options(request))


@screen("/desk/lf/items/<item_id>/void", roles=lf.VOID_ITEM.roles)
def void(request, session, item_id):
    """作废登记: a duplicate (of another item, by its code or id) or a mistaken registration."""
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    failed, form = None, {"duplicate_of": request.args.get("duplicate_of", ""), "reason": "",
                          "command_id": uuid.uuid4().hex}
    if request.method == "POST":
        form = request.form.to_dict()
        duplicate_of = request.form.get("duplicate_of", "").strip() or None
        try:
            if duplicate_of and printing_code(duplicate_of):
                duplicate_of = request.call("forms", "find_item", {"short_code": duplicate_of})["item_id"]
            request.call("lost_and_found", "void_item", {
                "desk": _corrector_desk(request, session, item), "item_id": item_id, "duplicate_of": duplicate_of,
                "reason": request.form.get("reason", "").strip(), "command_id": request.form.get("command_id") or None})
        except CallFailed as failed_call:
            failed = failed_call
            if failed.code == "not_found" and "duplicate_of" not in failed.fields:
                failed = CallFailed(404, {"code": "not_found", "message": request._("没有这个编号的物品。"),
                                          "fields": {"duplicate_of": [request._("没有这个编号的物品。")]}})
        else:
            session.flash(request._("%(code)s 已作废。", code=item["short_code"]), "success")
            return redirect(f"/desk/lf/items/{item_id}")
    return _lf_page(request, "void.html", status=failed.status if failed else 200, failed=failed, form=form,
                    item=item)


def printing_code(text: str) -> bool:
    """A short code as typed or scanned (``lf-ab2cd3``, ``LFAB2CD3``), not an item id."""
    folded = text.strip().upper().replace("-", "").replace(" ", "")
    return len(folded) == 8 and folded.startswith("LF")


# -- transfers between desks (clerk) -------------------------------------------------------
@screen("/desk/lf/items/<item_id>/send", roles=lf.SEND_ITEM_TO_DESK.roles)
def send_to_desk(request, session, item_id):
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    failed, form = None, {"to_desk": "", "reason": "", "command_id": uuid.uuid4().hex}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            request.call("lost_and_found", "send_item_to_desk", {
                "desk": _desk(request, session) or item["desk"], "item_id": item_id,
                "to_desk": request.form.get("to_desk", "").strip(), "reason": request.form.get("reason", "").strip(),
                "command_id": request.form.get("command_id") or None})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("%(code)s 已送往 %(desk)s。", code=item["short_code"],
                                    desk=request.form.get("to_desk", "").strip()), "success")
            return redirect(f"/desk/lf/items/{item_id}")
    return _lf_page(request, "send.html", status=failed.status if failed else 200, failed=failed, form=form,
                    item=item)


@screen("/desk/lf/items/<item_id>/receive", roles=lf.RECEIVE_ITEM_AT_DESK.roles)
def receive_at_desk(request, session, item_id):
    """The item reaches this desk (sent from another, or brought from the site)."""
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    failed, form = None, {"storage_place": "", "command_id": uuid.uuid4().hex}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            request.call("lost_and_found", "receive_item_at_desk", {
                "desk": _desk(request, session), "item_id": item_id,
                "storage_place": request.form.get("storage_place", "").strip(),
                "command_id": request.form.get("command_id") or None})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("%(code)s 已在本服务台收到。", code=item["short_code"]), "success")
            return redirect(f"/desk/lf/items/{item_id}")
    return _lf_page(request, "receive.html", status=failed.status if failed else 200, failed=failed, form=form,
                    item=item)
