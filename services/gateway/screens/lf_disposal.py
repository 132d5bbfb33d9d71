"""Lost and found's disposal routes besides finance, and signatures taken
on the desk screen (issue 10, second pass).

- 其他处置: the custodian picks a route (公安 police, 发卡银行 the issuing
  bank, 销毁 destruction), sees the unclaimed items whose retention is over
  and draws the list (``dispose_items``: the service takes the route's due
  items, or the ones ticked, and refuses any of another route);
- the list (``forms.disposal_list``): items, route, receiver, status, and
  the sign-off (``sign_off_disposal``): the receiving officer's or bank
  clerk's name and badge or receipt number, or for a destruction the
  witness, who signs with their own login at the custodian's terminal;
- 签名: a drawing pad (``static/signature.js``) for a part of the item's form
  (finder, clerk, claimant) or of a disposal list (custodian, receiver,
  witness). The contract takes the image by reference only
  (``image_ref``: ``sha256:<hex>`` of the PNG, "stored elsewhere; never the
  image in the log"): the gateway checks that what came is a PNG, sends its
  SHA-256 and keeps nothing of it.

Thin like the other screens: the rules (what is due, which route a category
takes, who may sign which part) are the services'.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import uuid

from contracts import lost_and_found as lf
from services.gateway.errors import REASONS
from services.gateway.i18n import _
from services.gateway.screens import CallFailed, page, redirect, screen
from services.gateway.screens.lost_and_found import _cosign, _cosigner_fields, _desk, _labels

ROUTE_NAMES = {"police": _("交公安"), "issuing_bank": _("交发卡银行"), "destroy": _("销毁")}
RECEIVER_HINTS = {"police": _("如：景区派出所"), "issuing_bank": _("如：中国银行景区支行（每家银行一张清单）")}
LINE_STATES = {"listed": _("待处置"), "disposed": _("已处置"), "withdrawn": _("已撤回")}
#: the parts a signature may be taken for here: part -> its label
ITEM_PARTS = {"registration_finder": _("拾获人签名"), "registration_clerk": _("登记人签名"),
              "claim_claimant": _("认领人签名")}
DISPOSAL_PARTS = {"disposal_custodian": _("负责人签名"), "disposal_receiver": _("接收人签名"),
                  "disposal_witness": _("见证人签名")}
PART_NAMES = {**ITEM_PARTS, **DISPOSAL_PARTS}
PNG_DATA_URL = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: the refusals of these commands, as the person at the desk reads them
REASONS.update({
    "receiver_required": _("须填写接收单位；签收时须填写接收人姓名和证件号或回执号。"),
    "witness_required": _("销毁须由失物招领负责人以外的一名工作人员用自己的工号和密码见证。"),
    "disposal_exists": _("这个处置单号已经用过，请换一个。"),
    "other_disposal_route": _("所选物品中有不走这条处置路线的物品。"),
    "nothing_to_hand_over": _("没有可列入清单的到期物品。"),
    "retention_not_over": _("所选物品中有仍在保管期内的物品。"),
    "already_signed_off": _("这张清单已经签收。"),
    "already_signed": _("这一项已经签过名。"),
    "wrong_signer": _("这一项须由本人用自己的工号和密码签名。"),
    "part_not_filled": _("表上这一部分还没有填写，暂不能签名。"),
})
MAX_SIGNATURE_BYTES = 40_000  # a pad's strokes are a few KB; the request itself is bounded by GATEWAY_MAX_BODY_BYTES


def _page(request, template, status=200, **context):
    return page(f"lost_and_found/{template}", status=status, **_labels(request),
                route_name=lambda key: request._(ROUTE_NAMES.get(key, key)),
                line_state=lambda key: request._(LINE_STATES.get(key, key)),
                part_name=lambda key: request._(PART_NAMES.get(key, key)), **context)


def _forbidden(request):
    return page("gateway/error.html", status=403, code="forbidden", message=request._("您的角色不能进行此操作。"))


def _not_found(request):
    return page("gateway/error.html", status=404, code="not_found", message=request._("没有找到。"))


# -- drawing a list --------------------------------------------------------------------------
def _due(request) -> list[dict]:
    """The open items whose retention is over (kept through ``retain_until``):
    what a list may take. Which of them a route takes is the service's
    (its DISPOSAL_ROUTES by category); it refuses any other."""
    today = request.t.today().isoformat()
    cases = request.call("forms", "open_cases", {})
    return sorted((row for row in cases["items"] if row["retain_until"] < today),
                  key=lambda row: (row["category"], row["retain_until"], row["short_code"]))


@screen("/desk/lf/disposal", roles=lf.DISPOSE_ITEMS.roles, nav=_("其他处置"), order=51)
def disposal(request, session):
    """The custodian draws a list for the police, an issuing bank or destruction."""
    today = request.t.today()
    route = request.args.get("route", "police")
    failed = None
    form = {"route": route if route in ROUTE_NAMES else "police", "receiver": "",
            "disposal_id": f"dp-{today:%Y%m%d}-{uuid.uuid4().hex[:6]}"}
    ticked: list[str] = []
    if request.method == "POST":
        form = request.form.to_dict()
        ticked = request.form.getlist("item_id")
        route = request.form.get("route", "")
        receiver = request.form.get("receiver", "").strip()
        try:
            reply = request.call("lost_and_found", "dispose_items", {
                "disposal_id": request.form.get("disposal_id", "").strip(), "route": route,
                "receiver": receiver if route != "destroy" and receiver else None,
                "item_ids": ticked or None})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("处置清单已生成：%(n)s 件已处置，%(w)s 件已撤回。", n=len(reply["disposed_item_ids"]),
                                    w=len(reply["withdrawn_item_ids"])), "success")
            return redirect(f"/desk/lf/disposal/{reply['disposal_id']}")
    return _page(request, "disposal.html", status=failed.status if failed else 200, failed=failed, form=form,
                 routes=[(key, request._(name)) for key, name in ROUTE_NAMES.items()], due=_due(request),
                 ticked=set(ticked), receiver_hints={key: request._(hint) for key, hint in RECEIVER_HINTS.items()})


# -- the list and its sign-off ------------------------------------------------------------------
@screen("/desk/lf/disposal/<disposal_id>", roles=lf.DISPOSAL_LIST.roles)
def disposal_list(request, session, disposal_id):
    """The list; the custodian records the receiver's sign-off, or a witness
    signs a destruction off with their own login."""
    principal = session.principal
    may_sign_off = principal.holds(lf.SIGN_OFF_DISPOSAL.roles)
    failed = None
    if request.method == "POST":
        if not may_sign_off:
            return _forbidden(request)
        shown = request.call("forms", "disposal_list", {"disposal_id": disposal_id})
        cosigner = None
        if shown["route"] == "destroy":
            cosigner, failed = _cosign(request, _("见证人"))
        if failed is None:
            text = lambda name: request.form.get(name, "").strip() or None  # noqa: E731
            try:
                request.call("lost_and_found", "sign_off_disposal", {
                    "disposal_id": disposal_id, "command_id": request.form.get("command_id") or None,
                    "receiver_name": text("receiver_name") if shown["route"] != "destroy" else None,
                    "receiver_reference": text("receiver_reference") if shown["route"] != "destroy" else None},
                    cosigner=cosigner)
            except CallFailed as failed_call:
                failed = failed_call
            else:
                session.flash(request._("已签收。") if shown["route"] != "destroy" else request._("销毁已由见证人确认。"),
                              "success")
                return redirect(f"/desk/lf/disposal/{disposal_id}")
    shown = request.call("forms", "disposal_list", {"disposal_id": disposal_id})
    errors = dict(failed.field_errors(request.t), **_cosigner_fields(failed)) if failed else {}
    return _page(request, "disposal_list.html", status=failed.status if failed else 200, failed=failed,
                 errors=errors, disposal=shown, form=request.form.to_dict() if failed else {},
                 may_sign_off=may_sign_off and not shown["signed_by"] and shown["recorded_at"] is not None,
                 command_id=uuid.uuid4().hex, parts=_disposal_parts(shown),
                 offer=_disposal_parts(shown, signed_off=bool(shown["signed_by"]))
                 if principal.holds(sign_disposal_roles()) else [])


def _disposal_parts(shown: dict, signed_off: bool = True) -> list[str]:
    """The parts a disposal list has: the custodian's, and the receiver's or
    (destroyed) the witness's, which are signed once the sign-off is recorded."""
    other = "disposal_witness" if shown["route"] == "destroy" else "disposal_receiver"
    return ["disposal_custodian", other] if signed_off else ["disposal_custodian"]


def sign_disposal_roles() -> frozenset:
    """Who signs a disposal list's part here: may capture a signature and read the list."""
    return lf.CAPTURE_SIGNATURE.roles & lf.DISPOSAL_LIST.roles


# -- signatures ---------------------------------------------------------------------------------
def _image_ref(request) -> tuple[str | None, CallFailed | None]:
    """The drawn signature (a PNG data URL from the pad) as the contract's
    reference: its SHA-256. The image itself is not kept (the contract has
    no place for it and the gateway stores no personal data)."""
    text = request.form.get("signature", "")
    error = None
    if not text.startswith(PNG_DATA_URL):
        error = request._("请在签名框内签名。")
    else:
        try:
            image = base64.b64decode(text[len(PNG_DATA_URL):], validate=True)
        except (binascii.Error, ValueError):
            image = b""
        if not image.startswith(PNG_MAGIC):
            error = request._("签名图像无效，请重新签名。")
        elif len(image) > MAX_SIGNATURE_BYTES:
            error = request._("签名图像太大，请清除后重新签名。")
    if error:
        return None, CallFailed(400, {"code": "validation_failed", "message": error, "fields": {"signature": [error]}})
    return "sha256:" + hashlib.sha256(image).hexdigest(), None


def _needs_cosigner(part: str, principal) -> str | None:
    """Whose own login a part needs at this terminal, besides the caller's
    (the service checks it is the right person): the witness's always, the
    custodian's when the caller is not one."""
    if part == "disposal_witness":
        return _("见证人")
    if part == "disposal_custodian" and not principal.holds({"custodian"}):
        return _("失物招领负责人")
    return None


def _sign(request, session, *, part: str, document: dict, back: str, desk: str | None, target: dict):
    principal = session.principal
    cosigner_role = _needs_cosigner(part, principal)
    failed = None
    # the desk whose screen the part is signed on; not the form's "desk", which would also be the desk of
    # the second person's login (a witness need not work at it)
    form = {"command_id": uuid.uuid4().hex, "signing_desk": desk or ""}
    if request.method == "POST":
        form = request.form.to_dict()
        form.pop("signature", None)
        image_ref, failed = _image_ref(request)
        cosigner = None
        if failed is None and cosigner_role:
            cosigner, failed = _cosign(request, cosigner_role)
        if failed is None:
            try:
                request.call("lost_and_found", "capture_signature", {
                    **target, "desk": request.form.get("signing_desk", "").strip(), "part": part, "image_ref": image_ref,
                    "command_id": request.form.get("command_id") or None}, cosigner=cosigner)
            except CallFailed as failed_call:
                failed = failed_call
            else:
                session.flash(request._("已记录%(part)s。", part=request._(PART_NAMES[part])), "success")
                return redirect(back)
    errors = dict(failed.field_errors(request.t), **_cosigner_fields(failed)) if failed else {}
    if "desk" in errors:  # the service names its own field
        errors["signing_desk"] = errors.pop("desk")
    return _page(request, "signature.html", status=failed.status if failed else 200, failed=failed, errors=errors,
                 form=form, part=part, document=document, back=back, cosigner_role=cosigner_role,
                 action=request.http.path)


@screen("/desk/lf/items/<item_id>/sign/<part>", roles=lf.CAPTURE_SIGNATURE.roles)
def sign_item(request, session, item_id, part):
    """签名 for the finder's, the registering clerk's or the claimant's part of the item's form."""
    if part not in ITEM_PARTS:
        return _not_found(request)
    item = request.call("lost_and_found", "item", {"item_id": item_id})
    return _sign(request, session, part=part, back=f"/desk/lf/items/{item_id}",
                 desk=_desk(request, session) or item["desk"], target={"item_id": item_id},
                 document={"code": item["short_code"], "title": item["item_name"]})


@screen("/desk/lf/disposal/<disposal_id>/sign/<part>", roles=sign_disposal_roles())
def sign_disposal(request, session, disposal_id, part):
    """签名 for the custodian's, the receiver's or the witness's part of a disposal list."""
    if part not in DISPOSAL_PARTS:
        return _not_found(request)
    shown = request.call("forms", "disposal_list", {"disposal_id": disposal_id})
    return _sign(request, session, part=part, back=f"/desk/lf/disposal/{disposal_id}",
                 desk=_desk(request, session), target={"handover_id": disposal_id},
                 document={"code": disposal_id, "title": request._(ROUTE_NAMES.get(shown["route"], shown["route"]))
                           + (f" · {shown['receiver']}" if shown["receiver"] else "")})
