"""Lost and found (失物招领) contracts: events and RPCs of ``lost_and_found``,
and the RPCs of the ``forms`` service that serve its forms (3.3-3.10).

Hidden features (serial number, phone wallpaper, contents) are marked
personal *and* hidden: they are never logged, and no claimant-facing reply,
card, receipt or form has a field for them.
"""
import unicodedata

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import roles
from contracts.base import PERSONAL, ContractSchema, EventSchema, Personal, registry
from contracts.common import (AppendReply, Boolean, CommandFields, Day, Desk, Id, Integer, Moment, Month,
                              Multiline)

SERVICE = "lost_and_found"

CATEGORIES = ("cash", "phone", "camera", "wallet", "bag", "jewelry", "watch", "electronics", "document",
              "card", "key", "glasses", "clothing", "umbrella", "toy", "perishable", "other")
#: ISO 4217 active codes (2024), for cash found
CURRENCIES = tuple(sorted("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG
""".split()))
#: a Decimal written as text, e.g. "520" or "88.50": never a JSON number (a float)
AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,3})?$"
DEFAULT_VALUABLE_CATEGORIES = ("cash", "phone", "camera", "wallet", "jewelry", "watch", "electronics")
CHANNELS = ("desk_staff", "desk_visitor", "on_site")
REGISTRAR_ROLES = ("clerk", "team_lead")
VERIFIER_ROLES = ("clerk", "team_lead", "custodian")
DECISIONS = ("owner", "not_owner", "needs_more_proof")
CLAIM_KINDS = ("reported", "unreported", "on_spot")
ID_TYPES = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit", "other")
CONTACT_OUTCOMES = ("reached", "no_answer", "wrong_number", "left_message")
DESCRIPTION_MAX = 500
HIDDEN = "hidden"
#: the roles that verify claims: they alone see hidden features
VERIFYING = frozenset({roles.CLERK, roles.TEAM_LEAD, roles.CUSTODIAN})


def Text(max_length=DESCRIPTION_MAX, **kwargs):
    """A description: may span lines."""
    return Multiline(validate=validate.Length(min=1, max=max_length), **{"required": True, **kwargs})


def Short(**kwargs):
    """One line of at most 80 characters (a name, a place)."""
    return fields.String(validate=validate.Length(min=1, max=80), **{"required": True, **kwargs})


def Maybe(field_cls=fields.String, **kwargs):
    """A field that may be null (and, unless required, absent)."""
    kwargs = {"required": False, "allow_none": True, **kwargs}
    if not kwargs["required"]:
        kwargs.setdefault("load_default", None)
    return field_cls(**kwargs)


def Name(subject=None, **kwargs):
    return Personal("name", subject, validate=validate.Length(min=1, max=40), **{"required": True, **kwargs})


def Phone(subject=None, **kwargs):
    return Personal("phone", subject, validate=validate.Regexp(r"^\+?[0-9][0-9 -]{4,19}$", error="not a phone number"),
                    **{"required": True, **kwargs})


def StaffName(**kwargs):
    """A staff member's display name, from the staff directory (which names
    every staff member in clear): not encrypted like a visitor's data."""
    return fields.String(**{"required": True, **kwargs})


def Category(**kwargs):
    return fields.String(validate=validate.OneOf(CATEGORIES), **{"required": True, **kwargs})


def Amount(**kwargs):
    """An amount of money as a decimal string ("520.00"), up to 999999999.999."""
    kwargs.setdefault("metadata", {"description": "a decimal written as a string, never a number"})
    return Maybe(validate=validate.Regexp(AMOUNT_PATTERN, error="not an amount such as 520 or 88.50"), **kwargs)


def Currency(**kwargs):
    kwargs.setdefault("metadata", {"description": "ISO 4217 code, e.g. CNY"})
    return Maybe(validate=validate.OneOf(CURRENCIES), **kwargs)


def HiddenPairs(**kwargs):
    """Stored hidden features: ``[[label, detail], ...]``; each detail is
    encrypted under the item's own subject (its owner is not known yet)."""
    pair = fields.Tuple((fields.String(validate=validate.Length(min=1, max=40)),
                         Personal("hidden", "item", validate=validate.Length(min=1, max=200))))
    return fields.List(pair, metadata={PERSONAL: True, HIDDEN: True}, **kwargs)


def normalise_short_code(text: str) -> str:
    """A short code as typed or scanned: spaces dropped, full-width folded,
    upper case, the hyphen optional (`` lf-ab2cd3 ``, ``ＬＦＡＢ２ＣＤ３`` ->
    ``LF-AB2CD3``)."""
    compact = "".join(unicodedata.normalize("NFKC", text).split()).upper().replace("-", "")
    return f"LF-{compact[2:]}" if compact.startswith("LF") else compact


class ShortCodeField(fields.String):
    """An item's short code (``LF-`` + 6 base32 characters), accepted in lower
    case and with surrounding spaces as a desk types it or a scanner sends it."""

    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_short_code(super()._deserialize(value, attr, data, **kwargs))


def ShortCode(**kwargs):
    return ShortCodeField(validate=validate.Regexp(r"^LF-[A-Z2-7]{6}$", error="not an item short code"), **kwargs)


def ClaimantIdNumber(**kwargs):
    return Personal("id_number", validate=validate.Length(min=4, max=30), **{"required": True, **kwargs})


# -- events ----------------------------------------------------------------------
class _Event(EventSchema):
    schema_version = 1
    source = SERVICE


@registry.event
class FoundItemTurnedIn(_Event):
    event_type = "FoundItemTurnedIn"
    schema_version = 2
    description = ("A found item was checked together with its finder and registered (upper half of "
                   "form 3.3, 3.4 or 3.5).")

    item_id = Id()
    short_code = Id()
    desk = Desk()
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    item_name = Short()
    category = Category()
    description = Text()
    found_place = Short()
    found_at = Moment(required=True)
    finder_kind = fields.String(required=True, validate=validate.OneOf(("staff", "visitor")))
    finder_id = Maybe(required=True)
    finder_name = Personal("name", "finder", required=True)
    finder_phone = Personal("phone", "finder", required=True, allow_none=True)
    finder_department = Maybe(required=True)
    registered_by = Id()
    registered_by_role = fields.String(required=True, validate=validate.OneOf(REGISTRAR_ROLES))
    witness_id = Maybe(required=True)
    witness_name = StaffName(allow_none=True)
    owner_urgent = Boolean(required=True)
    storage_place = Short()
    hidden_features = HiddenPairs(required=True)
    valuable = Boolean(required=True)
    retain_until = Day(required=True)
    turned_in_at = Moment(required=True)
    business_date = Day(required=True)
    quantity = Integer(required=True, validate=validate.Range(min=1))
    cash_amount = Amount(required=True)
    currency = Currency(required=True)
    condition = Maybe(required=True, validate=validate.Length(max=200))
    contents = fields.List(Category(), required=True,
                           metadata={"description": "categories declared inside the item (a bag with a phone)"})


@registry.upcaster("FoundItemTurnedIn", 1)
def _turned_in_v1(data: dict) -> dict:
    """v1 had no quantity, cash, condition or contents: one piece, nothing declared."""
    return {**data, "quantity": 1, "cash_amount": None, "currency": None, "condition": None, "contents": []}


@registry.event
class FoundItemReceiptIssued(_Event):
    event_type = "FoundItemReceiptIssued"
    description = "A staff found-item receipt (3.9 员工拾到物品回执) was issued: the finder's good deed."

    item_id = Id()
    receipt_no = Id()
    finder_id = Id()
    finder_name = StaffName()
    finder_department = Maybe(required=True)
    good_deed = fields.String(required=True, validate=validate.OneOf(("desk", "on_site")))
    issued_by = Id()
    issued_at = Moment(required=True)
    business_date = Day(required=True)


@registry.event
class ItemInformationCardIssued(_Event):
    event_type = "ItemInformationCardIssued"
    description = "An item information card (3.10 物品信息卡) with short code and QR code was stuck on the item."

    item_id = Id()
    short_code = Id()
    qr_payload = fields.String(required=True)
    issued_at = Moment(required=True)


@registry.event
class ClaimVerificationRecorded(_Event):
    event_type = "ClaimVerificationRecorded"
    schema_version = 2
    description = ("A clerk compared a claimant's description with the item and decided; bound to that "
                   "claimant (a keyed hash of their ID number) and valid for a limited time.")

    item_id = Id()
    verification_id = Id()
    claimant_description = Text()
    matched_features = fields.List(fields.String(), required=True,
                                   metadata={"description": "labels of hidden features, never their details"})
    description_matched = Boolean(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    verified_by = Id()
    verified_by_role = fields.String(required=True, validate=validate.OneOf(VERIFIER_ROLES))
    verified_at = Moment(required=True)
    claimant_key = Maybe(required=True, metadata={"description": (
        "HMAC (the privacy vault's blind-index key) of the item id and the claimant's normalised ID number: "
        "binds the verification to that claimant without the number; null on v1 records (they bind no claim)")})
    cosigned_by = Maybe(required=True, metadata={"description": "the lead or team lead who cosigned an attempt "
                                                                "after repeated failed verifications"})


@registry.upcaster("ClaimVerificationRecorded", 1)
def _verification_v1(data: dict) -> dict:
    return {**data, "claimant_key": None, "cosigned_by": None}


@registry.event
class FoundItemClaimed(_Event):
    event_type = "FoundItemClaimed"
    description = "The owner took the item and filled in the lower half (认领表) of its form."

    item_id = Id()
    claim_id = Id()
    verification_id = Id()
    claim_kind = fields.String(required=True, validate=validate.OneOf(CLAIM_KINDS))
    report_id = Maybe(required=True)
    claim_form = fields.String(required=True, validate=validate.OneOf(("3.3", "3.4", "3.5")))
    claimant_name = Personal("name", "claimant", required=True)
    claimant_phone = Personal("phone", "claimant", required=True)
    claimant_id_type = fields.String(required=True, validate=validate.OneOf(ID_TYPES))
    claimant_id_number = Personal("id_number", "claimant", required=True)
    released_by = Id()
    released_by_role = fields.String(required=True, validate=validate.OneOf(VERIFIER_ROLES))
    custodian_id = Maybe(required=True)
    on_spot_form_due = Moment(required=True, allow_none=True)
    claimed_at = Moment(required=True)


@registry.event
class OnSpotClaimFormFiled(_Event):
    event_type = "OnSpotClaimFormFiled"
    description = "A team lead's on-spot claim form (3.5) reached the desk."

    item_id = Id()
    claim_id = Id()
    received_by = Id()
    filed_at = Moment(required=True)
    late = Boolean(required=True)


@registry.event
class ItemHandedToCustodian(_Event):
    event_type = "ItemHandedToCustodian"
    description = ("A clerk at the item's desk handed it to the lost-and-found custodian (失物招领负责人), who "
                   "confirmed with their own login and recorded where it is kept.")

    item_id = Id()
    handed_by = Id()
    custodian_id = Id()
    storage_place = Short()
    handed_at = Moment(required=True)


@registry.event
class ItemHandedToFinance(_Event):
    event_type = "ItemHandedToFinance"
    schema_version = 2
    description = "An unclaimed item went to finance (财务部) in a monthly handover; no longer claimable at the desk."

    item_id = Id()
    handover_id = Id()
    custodian_id = Id()
    handed_at = Moment(required=True)
    business_date = Day(required=True, allow_none=True,
                        metadata={"description": "the handover's local day; null on v1 records"})


@registry.upcaster("ItemHandedToFinance", 1)
def _handed_to_finance_v1(data: dict) -> dict:
    return {**data, "business_date": None}


@registry.event
class LostItemReported(_Event):
    event_type = "LostItemReported"
    description = "A visitor reported a lost item (3.6 游客失物登记表)."

    report_id = Id()
    desk = Desk()
    item_name = Short()
    category = Category()
    description = Text()
    features = Text()
    lost_place = Short()
    lost_from = Moment(required=True)
    lost_until = Moment(required=True)
    visitor_name = Name("visitor")
    visitor_phone = Phone("visitor")
    received_by = Id()
    reported_at = Moment(required=True)
    business_date = Day(required=True)


@registry.event
class LostReportMatched(_Event):
    event_type = "LostReportMatched"
    description = "A clerk confirmed that a found item matches a lost-item report."

    report_id = Id()
    item_id = Id()
    short_code = Id()
    confirmed_by = Id()
    confirmed_at = Moment(required=True)


@registry.event
class LostReportMatchReleased(_Event):
    event_type = "LostReportMatchReleased"
    description = ("A clerk took back a confirmed match (not the visitor's after all, or confirmed by mistake): "
                   "the report is open again and the item free for another report.")

    report_id = Id()
    item_id = Id()
    reason = Text(max_length=200)
    released_by = Id()
    closed_task_id = Maybe(required=True, metadata={"description": "the contact task it closed, if one was open"})
    released_at = Moment(required=True)


@registry.event
class VisitorContactTaskOpened(_Event):
    event_type = "VisitorContactTaskOpened"
    description = "The visitor who reported the loss is to be contacted to come and claim the item."

    report_id = Id()
    task_id = Id()
    item_id = Id()
    opened_at = Moment(required=True)


@registry.event
class VisitorContacted(_Event):
    event_type = "VisitorContacted"
    description = "A clerk tried to reach the visitor; the task closes when the visitor was reached."

    report_id = Id()
    task_id = Id()
    contacted_by = Id()
    outcome = fields.String(required=True, validate=validate.OneOf(CONTACT_OUTCOMES))
    task_closed = Boolean(required=True)
    contacted_at = Moment(required=True)


@registry.event
class FinanceHandoverListDrawn(_Event):
    event_type = "FinanceHandoverListDrawn"
    description = "The custodian drew the month's list of items confirmed unclaimed for finance."

    handover_id = Id()
    month = Month(required=True)
    custodian_id = Id()
    item_ids = fields.List(fields.String(), required=True)
    drawn_at = Moment(required=True)


@registry.event
class FinanceHandoverTransferred(_Event):
    event_type = "FinanceHandoverTransferred"
    description = "Every listed item was handed to finance or withdrawn (claimed meanwhile)."

    handover_id = Id()
    transferred_item_ids = fields.List(fields.String(), required=True)
    withdrawn_item_ids = fields.List(fields.String(), required=True)
    transferred_at = Moment(required=True)


@registry.event
class FinanceHandoverSignedOff(_Event):
    event_type = "FinanceHandoverSignedOff"
    description = "Finance signed the handover list off."

    handover_id = Id()
    signed_by = Id()
    signer_name = StaffName()
    signed_at = Moment(required=True)


# -- RPC requests and replies of lost_and_found -------------------------------------
class HiddenFeature(ContractSchema):
    label = fields.String(required=True, validate=validate.Length(min=1, max=40),
                          metadata={"description": "what kind of feature, e.g. serial number, wallpaper"})
    detail = Personal("hidden", required=True, validate=validate.Length(min=1, max=200), metadata={HIDDEN: True})


class Suggestion(ContractSchema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "item or report"})
    score = Integer(required=True)
    reasons = fields.List(fields.String(), required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    place = fields.String(required=True)
    short_code = fields.String(allow_none=True)


SUGGESTIONS_UNAVAILABLE = ("true when suggestions could not be computed after the events were stored "
                           "(the command is stored all the same; ask suggest_matches later)")


class _TurnInFields(CommandFields):
    desk = Desk()
    item_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80),
                            metadata={"description": "defaults to a new id"})
    item_name = Short()
    category = Category()
    description = Text()
    found_place = Short()
    found_at = Moment(required=True)
    storage_place = Short()
    hidden_features = fields.List(fields.Nested(HiddenFeature), load_default=list,
                                  validate=validate.Length(max=10), metadata={PERSONAL: True, HIDDEN: True})
    at = Moment(load_default=None, metadata={"description": "when the item was turned in; defaults to now"})
    quantity = Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    cash_amount = Amount(metadata={"description": "cash only (the item, or cash declared inside it): the counted "
                                                  "amount as a decimal string, e.g. \"520.00\""})
    currency = Currency()
    condition = Maybe(validate=validate.Length(min=1, max=200),
                      metadata={"description": "物品状况, e.g. screen cracked, wet"})
    contents = fields.List(Category(), load_default=list, validate=validate.Length(max=10),
                           metadata={"description": "categories inside the item; a valuable inside makes it one"})


class TurnInByStaffRequest(_TurnInFields):
    """Staff bring an item to the desk (form 3.4, receipt 3.9). The clerk who
    registers it is the caller; the finder is a staff member, by staff id."""
    finder_id = Id(metadata={"description": "the finder's staff id (an existing account)"})
    finder_department = Maybe(validate=validate.Length(max=40))


class TurnInByVisitorRequest(_TurnInFields):
    """A visitor brings an item to the desk (form 3.3 upper half, card 3.10)."""
    finder_name = Name()
    finder_phone = Maybe(Phone)


class TurnInOnSiteRequest(_TurnInFields):
    """Staff found an item at work and could not bring it (form 3.5 upper half,
    receipt 3.9, card 3.10). The caller registers it: a clerk, or a team lead
    (only with a staff witness, by staff id)."""
    finder_id = Id(metadata={"description": "the finder's staff id (an existing account)"})
    finder_department = Maybe(validate=validate.Length(max=40))
    witness_id = Maybe(validate=validate.Length(min=1, max=80),
                       metadata={"description": "the witness's staff id (an existing account)"})
    owner_urgent = Boolean(load_default=False,
                                  metadata={"description": "no clerk can come and the owner urgently asks"})


class TurnInReply(AppendReply):
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    form = fields.String(required=True)
    valuable = Boolean(required=True)
    retain_until = Day(required=True)
    receipt_no = fields.String(allow_none=True)
    qr_payload = fields.String(allow_none=True)
    suggestions = fields.List(fields.Nested(Suggestion), required=True)
    suggestions_unavailable = Boolean(required=True, metadata={"description": SUGGESTIONS_UNAVAILABLE})


class ReportLostItemRequest(CommandFields):
    desk = Desk()
    report_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    item_name = Short()
    category = Category()
    description = Text()
    features = Text(metadata={"description": "distinguishing features the visitor gives"})
    lost_place = Short()
    lost_from = Moment(required=True)
    lost_until = Moment(required=True)
    visitor_name = Name()
    visitor_phone = Phone()
    at = Moment(load_default=None)


class ReportLostItemReply(AppendReply):
    report_id = fields.String(required=True)
    suggestions = fields.List(fields.Nested(Suggestion), required=True)
    suggestions_unavailable = Boolean(required=True, metadata={"description": SUGGESTIONS_UNAVAILABLE})


class SuggestMatchesRequest(ContractSchema):
    item_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    report_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    limit = Integer(load_default=10, validate=validate.Range(min=1, max=50))

    @validates_schema
    def one_subject(self, data, **kwargs):
        if bool(data.get("item_id")) == bool(data.get("report_id")):
            raise ValidationError("give exactly one of item_id and report_id", "item_id")


class SuggestMatchesReply(ContractSchema):
    subject_id = fields.String(required=True)
    subject_kind = fields.String(required=True)
    suggestions = fields.List(fields.Nested(Suggestion), required=True)
    as_of_position = Integer(required=True)


class ConfirmMatchRequest(CommandFields):
    desk = Desk()
    report_id = Id()
    item_id = Id()
    at = Moment(load_default=None)


class ConfirmMatchReply(AppendReply):
    task_id = fields.String(required=True)


class ReleaseMatchRequest(CommandFields):
    desk = Desk()
    report_id = Id()
    reason = Text(max_length=200)
    at = Moment(load_default=None)


class RecordVisitorContactRequest(CommandFields):
    desk = Desk()
    report_id = Id()
    task_id = Id()
    outcome = fields.String(required=True, validate=validate.OneOf(CONTACT_OUTCOMES))
    at = Moment(load_default=None)


class RecordVisitorContactReply(AppendReply):
    task_closed = Boolean(required=True)


class RecordClaimVerificationRequest(CommandFields):
    desk = Desk()
    item_id = Id()
    verification_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    claimant_description = Text()
    matched_features = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list)
    description_matched = Boolean(load_default=False)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    claimant_id_number = ClaimantIdNumber(metadata={"description": (
        "the claimant's ID number: the verification is bound to it (only a keyed hash is stored) and the claim "
        "must give the same one")})
    at = Moment(load_default=None, metadata={"description": (
        "after repeated failed verifications on the item (config LF_FAILED_VERIFICATIONS_BEFORE_LEAD) a lead or "
        "team lead confirms with their own login: the caller, or the call's cosigner")})


class RecordClaimVerificationReply(AppendReply):
    verification_id = fields.String(required=True)
    decision = fields.String(required=True)
    valid_until = Moment(required=True, metadata={"description": "a claim on it must come by then"})


class ClaimItemRequest(CommandFields):
    desk = Desk()
    item_id = Id()
    claim_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    verification_id = Id()
    claim_kind = fields.String(required=True, validate=validate.OneOf(CLAIM_KINDS))
    report_id = Maybe(validate=validate.Length(min=1, max=80))
    claimant_name = Name()
    claimant_phone = Phone()
    claimant_id_type = fields.String(required=True, validate=validate.OneOf(ID_TYPES))
    claimant_id_number = ClaimantIdNumber(metadata={"description": "the same as in the verification"})
    at = Moment(load_default=None, metadata={"description": (
        "who releases is the caller; an item in the custodian's keeping, or a valuable not claimed on the day it "
        "was turned in, is released only with a custodian: the caller, or a second login passed as the cosigner")})


class ClaimItemReply(AppendReply):
    claim_id = fields.String(required=True)
    claim_form = fields.String(required=True)
    on_spot_form_due = Moment(allow_none=True)


class FileOnSpotClaimFormRequest(CommandFields):
    desk = Desk()
    item_id = Id()
    at = Moment(load_default=None)


class FileOnSpotClaimFormReply(AppendReply):
    late = Boolean(required=True)


class HandToCustodianRequest(CommandFields):
    """A clerk on duty at the item's desk (any, not only the one who took it
    in) hands the item over; the custodian takes it with their own login and
    records where it is kept (存放处): the caller when they hold the
    custodian role, else the call's cosigner."""
    desk = Desk()
    item_id = Id()
    storage_place = Short()
    at = Moment(load_default=None)


class HandOverToFinanceRequest(CommandFields):
    handover_id = Id()
    month = Month(required=True)
    item_ids = fields.List(fields.String(validate=validate.Length(min=1, max=80)), load_default=None,
                           validate=validate.Length(min=1, max=500),
                           metadata={"description": "defaults to every item whose retention is over"})
    at = Moment(load_default=None)


class HandoverStep(ContractSchema):
    stream_id = fields.String(required=True)
    positions = fields.List(Integer(), required=True)
    duplicate = Boolean(required=True)
    refused = fields.String(allow_none=True)


class HandOverToFinanceReply(ContractSchema):
    handover_id = fields.String(required=True)
    item_ids = fields.List(fields.String(), required=True)
    transferred_item_ids = fields.List(fields.String(), required=True)
    withdrawn_item_ids = fields.List(fields.String(), required=True)
    steps = fields.List(fields.Nested(HandoverStep), required=True)


class SignOffFinanceHandoverRequest(CommandFields):
    """Finance signs: the caller when they hold the finance role, else the
    call's cosigner (finance's own login at the custodian's terminal)."""
    handover_id = Id()
    at = Moment(load_default=None)


class ItemRequest(ContractSchema):
    """By id, or by the card's short code as typed or scanned."""
    item_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    short_code = ShortCode(load_default=None)

    @validates_schema
    def one_key(self, data, **kwargs):
        if bool(data.get("item_id")) == bool(data.get("short_code")):
            raise ValidationError("give exactly one of item_id and short_code", "item_id")


class VerificationView(ContractSchema):
    verification_id = fields.String(required=True)
    decision = fields.String(required=True)


class ItemView(ContractSchema):
    """The clerk's view of a found item, hidden features included."""
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    desk = fields.String(required=True)
    channel = fields.String(required=True)
    form = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    description = fields.String(required=True)
    found_place = fields.String(required=True)
    found_at = Moment(required=True)
    storage_place = fields.String(required=True)
    valuable = Boolean(required=True)
    retain_until = Day(required=True)
    status = fields.String(required=True)
    custodian_id = fields.String(allow_none=True, metadata={
        "description": "shown only to custodians and the lead; null for everyone else"})
    custody_required = Boolean(required=True, metadata={
        "description": "released only with a custodian's own login (in custody, or a valuable past its day)"})
    custody_overdue = Boolean(required=True, metadata={
        "description": "a valuable still at the desk after the day it was turned in: hand it to the custodian"})
    failed_verifications = Integer(required=True)
    lead_required = Boolean(required=True, metadata={
        "description": "a further verification needs a lead's or team lead's cosignature"})
    hidden_features = fields.List(fields.Nested(HiddenFeature), required=True,
                                  metadata={PERSONAL: True, HIDDEN: True})
    verifications = fields.List(fields.Nested(VerificationView), required=True)
    claim_id = fields.String(allow_none=True)
    handover_id = fields.String(allow_none=True)
    version = Integer(required=True)
    quantity = Integer(required=True)
    cash_amount = fields.String(allow_none=True, metadata={"description": "decimal string"})
    currency = fields.String(allow_none=True)
    condition = fields.String(allow_none=True)
    contents = fields.List(fields.String(), required=True)
    location = fields.String(required=True, metadata={"description": "at_desk, on_site or in_transit"})
    to_desk = fields.String(allow_none=True, metadata={"description": "in transit: where it goes"})


class ClaimantViewRequest(ContractSchema):
    short_code = ShortCode(required=True)


class ClaimantView(ContractSchema):
    """What a claimant may see: no description, finder or hidden features."""
    short_code = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    found_place = fields.String(required=True)
    found_on = Day(required=True)
    desk = fields.String(required=True)
    status = fields.String(required=True)
    where = fields.String(required=True, metadata={"description": "where to ask for it"})


TURN_IN_BY_STAFF = registry.rpc(SERVICE, "turn_in_by_staff", TurnInByStaffRequest, TurnInReply,
                                "Staff turn an item in at the desk (3.4, receipt 3.9).",
                                roles=frozenset({roles.CLERK}))
TURN_IN_BY_VISITOR = registry.rpc(SERVICE, "turn_in_by_visitor", TurnInByVisitorRequest, TurnInReply,
                                  "A visitor turns an item in at the desk (3.3 upper half, card 3.10).",
                                  roles=frozenset({roles.CLERK}))
TURN_IN_ON_SITE = registry.rpc(SERVICE, "turn_in_on_site", TurnInOnSiteRequest, TurnInReply,
                               "Staff's on-site turn-in (3.5 upper half, receipt 3.9, card 3.10).",
                               roles=frozenset({roles.CLERK, roles.TEAM_LEAD}))
REPORT_LOST_ITEM = registry.rpc(SERVICE, "report_lost_item", ReportLostItemRequest, ReportLostItemReply,
                                "A visitor reports a lost item (3.6).",
                                roles=frozenset({roles.CLERK}))
SUGGEST_MATCHES = registry.rpc(SERVICE, "suggest_matches", SuggestMatchesRequest, SuggestMatchesReply,
                               "Ranked candidates for a found item or a lost-item report.",
                               roles=frozenset({roles.CLERK, roles.CUSTODIAN, roles.LEAD}))
CONFIRM_MATCH = registry.rpc(SERVICE, "confirm_match", ConfirmMatchRequest, ConfirmMatchReply,
                             "A clerk confirms an item matches a report; a contact task opens.",
                             roles=frozenset({roles.CLERK}))
RELEASE_MATCH = registry.rpc(SERVICE, "release_match", ReleaseMatchRequest, AppendReply,
                             "A clerk takes back a confirmed match; report and item are open again.",
                             roles=frozenset({roles.CLERK}))
RECORD_VISITOR_CONTACT = registry.rpc(SERVICE, "record_visitor_contact", RecordVisitorContactRequest,
                                      RecordVisitorContactReply, "A call to the visitor; reached closes the task.",
                                      roles=frozenset({roles.CLERK}))
RECORD_CLAIM_VERIFICATION = registry.rpc(SERVICE, "record_claim_verification", RecordClaimVerificationRequest,
                                         RecordClaimVerificationReply,
                                         "The clerk records which features matched and decides.",
                                         roles=VERIFYING)
CLAIM_ITEM = registry.rpc(SERVICE, "claim_item", ClaimItemRequest, ClaimItemReply,
                          "The verified owner takes the item and fills in the claim part.",
                          roles=VERIFYING)
FILE_ON_SPOT_CLAIM_FORM = registry.rpc(SERVICE, "file_on_spot_claim_form", FileOnSpotClaimFormRequest,
                                       FileOnSpotClaimFormReply, "A team lead's on-spot claim form reaches the desk.",
                                       roles=frozenset({roles.CLERK}))
HAND_TO_CUSTODIAN = registry.rpc(SERVICE, "hand_to_custodian", HandToCustodianRequest, AppendReply,
                                 "A clerk at the item's desk hands an item to the custodian (their own login).",
                                 roles=frozenset({roles.CLERK, roles.CUSTODIAN}))
HAND_OVER_TO_FINANCE = registry.rpc(SERVICE, "hand_over_to_finance", HandOverToFinanceRequest,
                                    HandOverToFinanceReply,
                                    "The custodian's monthly handover to finance; run again to resume.",
                                    roles=frozenset({roles.CUSTODIAN}))
SIGN_OFF_FINANCE_HANDOVER = registry.rpc(SERVICE, "sign_off_finance_handover", SignOffFinanceHandoverRequest,
                                         AppendReply, "Finance signs the handover list off.",
                                         roles=frozenset({roles.FINANCE, roles.CUSTODIAN}))
ITEM = registry.rpc(SERVICE, "item", ItemRequest, ItemView, "The clerk's view of a found item.",
                    roles=VERIFYING | {roles.LEAD})
CLAIMANT_VIEW = registry.rpc(SERVICE, "claimant_view", ClaimantViewRequest, ClaimantView,
                             "A found item by its card's short code, as a claimant may see it.",
                             roles=roles.READERS)


# -- forms RPCs (served by ``forms``) ------------------------------------------------------
class Particulars(ContractSchema):
    """What the paper forms carry besides name and description."""
    quantity = Integer(required=True)
    cash_amount = fields.String(allow_none=True, metadata={"description": "decimal string"})
    currency = fields.String(allow_none=True)
    condition = fields.String(allow_none=True)
    contents = fields.List(fields.String(), required=True)


class Traced(ContractSchema):
    positions = fields.List(Integer(), required=True,
                            metadata={"description": "the events this row or part comes from"})
    event_ids = fields.List(fields.String(), required=True)


class FoundItemFormRequest(ContractSchema):
    item_id = Id()


class RegistrationPart(Traced, Particulars):
    """Upper half (登记): the item, its finder and who registered it."""
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    description = fields.String(required=True)
    found_place = fields.String(required=True)
    found_at = Moment(required=True)
    finder_id = fields.String(allow_none=True)
    finder_name = Personal("name", required=True)
    finder_phone = Personal("phone", allow_none=True)
    finder_department = fields.String(allow_none=True)
    registered_by = fields.String(required=True)
    registered_by_role = fields.String(required=True)
    witness_id = fields.String(allow_none=True)
    witness_name = StaffName(allow_none=True)
    owner_urgent = Boolean(required=True)
    storage_place = fields.String(required=True)
    valuable = Boolean(required=True)
    hidden_features_recorded = Integer(required=True, metadata={"description": "how many; never what"})
    turned_in_at = Moment(required=True)
    receipt_no = fields.String(allow_none=True)


class CustodyPart(Traced):
    """物品存放处、交接人."""
    storage_place = fields.String(required=True)
    handed_by = fields.String(required=True)
    custodian_id = fields.String(required=True)
    handed_at = Moment(required=True)


class VerificationPart(Traced):
    verification_id = fields.String(required=True)
    claimant_description = fields.String(required=True)
    matched_features = fields.List(fields.String(), required=True)
    description_matched = Boolean(required=True)
    decision = fields.String(required=True)
    verified_by = fields.String(required=True)
    verified_by_role = fields.String(required=True)
    verified_at = Moment(required=True)


class ClaimPart(Traced):
    """Lower half (认领表)."""
    claim_id = fields.String(required=True)
    claim_kind = fields.String(required=True)
    report_id = fields.String(allow_none=True)
    claimant_name = Personal("name", required=True)
    claimant_phone = Personal("phone", required=True)
    claimant_id_type = fields.String(required=True)
    claimant_id_number = Personal("id_number", required=True)
    released_by = fields.String(required=True)
    released_by_role = fields.String(required=True)
    custodian_id = fields.String(allow_none=True)
    claimed_at = Moment(required=True)
    verification_id = fields.String(required=True)
    on_spot_form_due = Moment(allow_none=True)
    filed_at_desk = Moment(allow_none=True)
    filed_late = Boolean(allow_none=True)


class FinancePart(Traced):
    handover_id = fields.String(required=True)
    custodian_id = fields.String(required=True)
    handed_at = Moment(required=True)


class CorrectedValue(ContractSchema):
    field = fields.String(required=True)
    was = fields.Raw(allow_none=True, metadata={"description": "the value before (the original, for the first)"})
    now = fields.Raw(allow_none=True)


class CorrectionPart(Traced):
    """A correction: what changed, why, by whom; its trace starts with the
    registration it corrects."""
    correction_id = fields.String(required=True)
    reason = fields.String(required=True)
    corrected_by = fields.String(required=True)
    corrected_by_role = fields.String(required=True)
    corrected_at = Moment(required=True)
    changes = fields.List(fields.Nested(CorrectedValue), required=True)


class VoidPart(Traced):
    duplicate_of = fields.String(allow_none=True)
    reason = fields.String(required=True)
    voided_by = fields.String(required=True)
    voided_by_role = fields.String(required=True)
    voided_at = Moment(required=True)


class MovementPart(Traced):
    kind = fields.String(required=True, metadata={"description": "sent or received"})
    from_desk = fields.String(allow_none=True, metadata={"description": "null: from the site"})
    to_desk = fields.String(required=True)
    storage_place = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    by = fields.String(required=True)
    at = Moment(required=True)


class SignaturePart(Traced):
    part = fields.String(required=True)
    signer_kind = fields.String(required=True)
    signer_id = fields.String(allow_none=True, metadata={"description": "staff id; null: the visitor named on "
                                                                        "the part signed"})
    captured_by = fields.String(required=True)
    image_ref = Personal("other", allow_none=True)
    signed_at = Moment(required=True)


class ProxyPart(Traced):
    """代领: the claim part's claimant is the proxy; here the owner and the authorisation."""
    proxy_kind = fields.String(required=True)
    organisation = fields.String(allow_none=True)
    owner_name = Personal("name", required=True)
    owner_phone = Personal("phone", allow_none=True)
    authorisation_method = fields.String(required=True)
    authorisation_note = Personal("other", required=True)
    authorised_at = Moment(required=True)
    recorded_by = fields.String(required=True)


class CourierPart(Traced):
    return_id = fields.String(required=True)
    recipient_name = Personal("name", required=True)
    recipient_phone = Personal("phone", required=True)
    address = Personal("other", required=True)
    fee_paid_by = fields.String(required=True)
    fee_amount = fields.String(allow_none=True, metadata={"description": "decimal string"})
    fee_currency = fields.String(allow_none=True)
    arranged_by = fields.String(required=True)
    arranged_at = Moment(required=True)
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    dispatched_at = Moment(allow_none=True)


class DisposalPart(Traced):
    disposal_id = fields.String(required=True)
    route = fields.String(required=True, metadata={"description": "police, issuing_bank or destroy"})
    custodian_id = fields.String(required=True)
    disposed_at = Moment(required=True)


class FoundItemForm(ContractSchema):
    form = fields.String(required=True)
    title = fields.String(required=True)
    title_en = fields.String(required=True)
    registration = fields.Nested(RegistrationPart, required=True)
    custody = fields.Nested(CustodyPart, allow_none=True)
    verifications = fields.List(fields.Nested(VerificationPart), required=True)
    claim = fields.Nested(ClaimPart, allow_none=True)
    finance = fields.Nested(FinancePart, allow_none=True)
    corrections = fields.List(fields.Nested(CorrectionPart), required=True)
    void = fields.Nested(VoidPart, allow_none=True)
    movements = fields.List(fields.Nested(MovementPart), required=True)
    signatures = fields.List(fields.Nested(SignaturePart), required=True)
    proxy = fields.Nested(ProxyPart, allow_none=True)
    courier = fields.Nested(CourierPart, allow_none=True)
    disposal = fields.Nested(DisposalPart, allow_none=True)
    as_of_position = Integer(required=True)


class LostItemReportFormRequest(ContractSchema):
    report_id = Id()


class ContactRow(Traced):
    task_id = fields.String(required=True)
    contacted_by = fields.String(required=True)
    outcome = fields.String(required=True)
    contacted_at = Moment(required=True)


class ReleasedMatch(Traced):
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    released_at = Moment(required=True)
    why = fields.String(required=True, metadata={
        "description": "claimed_by_another, handed_to_finance, disposed, voided or released_by_clerk"})


class LostItemReportForm(Traced):
    form = fields.String(required=True)
    title = fields.String(required=True)
    report_id = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    description = fields.String(required=True)
    features = fields.String(required=True)
    lost_place = fields.String(required=True)
    lost_from = Moment(required=True)
    lost_until = Moment(required=True)
    visitor_name = Personal("name", required=True)
    visitor_phone = Personal("phone", required=True)
    received_by = fields.String(required=True)
    reported_at = Moment(required=True)
    matched_item_id = fields.String(allow_none=True)
    matched_short_code = fields.String(allow_none=True)
    contact_task_id = fields.String(allow_none=True)
    contact_task_open = Boolean(required=True)
    contacts = fields.List(fields.Nested(ContactRow), required=True)
    returned_at = Moment(allow_none=True, metadata={
        "description": "set only when this report's own claim returned the matched item"})
    released_matches = fields.List(fields.Nested(ReleasedMatch), required=True, metadata={
        "description": "earlier matches whose item went to someone else or to finance (the report stayed open)"})
    as_of_position = Integer(required=True)


class SummaryRequest(ContractSchema):
    """One day (``date``) or one month (``month``), optionally one staff member."""
    date = Day(load_default=None)
    month = Month(load_default=None)
    staff_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))

    @validates_schema
    def one_period(self, data, **kwargs):
        if (data.get("date") is None) == (data.get("month") is None):
            raise ValidationError("give exactly one of date and month", "date")


class LostItemSummaryRow(Traced):
    business_date = Day(required=True)
    report_id = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    lost_place = fields.String(required=True)
    visitor_name = Personal("name", required=True)
    visitor_phone = Personal("phone", required=True)
    received_by = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "reported, matched, contacted or returned"})
    stages = fields.List(fields.String(), required=True, metadata={
        "description": "every stage the report reached (matched, contacted, returned), in order; the totals "
                       "count these"})
    matched_short_code = fields.String(allow_none=True)


class LostItemSummary(ContractSchema):
    form = fields.String(required=True)
    title = fields.String(required=True)
    period = fields.String(required=True)
    staff_id = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(LostItemSummaryRow), required=True)
    totals = fields.Dict(keys=fields.String(), values=Integer(), required=True)
    as_of_position = Integer(required=True)


class GoodDeedRow(Traced):
    business_date = Day(required=True)
    staff_id = fields.String(required=True)
    staff_name = StaffName()
    department = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"description": "desk (客服好人好事) or on_site (现场好人好事)"})
    receipt_no = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    found_place = fields.String(required=True)
    returned_to_owner = Boolean(required=True)


class GoodDeedsSummary(ContractSchema):
    form = fields.String(required=True)
    title = fields.String(required=True)
    period = fields.String(required=True)
    staff_id = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(GoodDeedRow), required=True)
    per_staff = fields.Dict(keys=fields.String(), values=Integer(), required=True)
    as_of_position = Integer(required=True)


class FoundItemReceipt(Traced, Particulars):
    """3.9 员工拾到物品回执: no hidden features, no claimant."""
    form = fields.String(required=True)
    title = fields.String(required=True)
    receipt_no = fields.String(required=True)
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    found_place = fields.String(required=True)
    found_at = Moment(required=True)
    finder_id = fields.String(required=True)
    finder_name = StaffName()
    finder_department = fields.String(allow_none=True)
    good_deed = fields.String(required=True)
    issued_by = fields.String(required=True)
    issued_at = Moment(required=True)
    as_of_position = Integer(required=True)


class ItemCardRequest(ContractSchema):
    item_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    short_code = ShortCode(load_default=None)

    @validates_schema
    def one_key(self, data, **kwargs):
        if bool(data.get("item_id")) == bool(data.get("short_code")):
            raise ValidationError("give exactly one of item_id and short_code", "item_id")


class ItemInformationCard(Traced, Particulars):
    """3.10 物品信息卡, stuck on the item: no personal data, no hidden features."""
    form = fields.String(required=True)
    title = fields.String(required=True)
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    qr_payload = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    found_place = fields.String(required=True)
    found_at = Moment(required=True, metadata={"description": "when it was found (not when it was turned in)"})
    turned_in_on = Day(required=True)
    retain_until = Day(required=True, metadata={"description": "kept until this day (保管至), inclusive"})
    voided = Boolean(required=True)
    desk = fields.String(required=True)
    storage_place = fields.String(required=True)
    registered_by = fields.String(required=True)
    disposal_from = Day(required=True, metadata={"description": "the first day it may go to finance"})
    retention_note = fields.String(required=True)
    issued_at = Moment(required=True)
    as_of_position = Integer(required=True)


class AsOfRequest(ContractSchema):
    as_of = Moment(required=True)
    desk = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class AwaitingCustodyRequest(AsOfRequest):
    """The shift-end checklist of one desk, or (no desk) the lead's view of every desk."""
    overdue_only = Boolean(load_default=False, metadata={"description": "only valuables past their day"})


class AwaitingCustodyRow(Traced):
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    registered_by = fields.String(required=True)
    storage_place = fields.String(required=True)
    turned_in_at = Moment(required=True)
    business_date = Day(required=True, metadata={"description": "the local day it was turned in"})
    overdue = Boolean(required=True, metadata={
        "description": "not claimed on that day and still not with the custodian: released only with a custodian"})


class AwaitingCustody(ContractSchema):
    as_of = Moment(required=True)
    rows = fields.List(fields.Nested(AwaitingCustodyRow), required=True)
    as_of_position = Integer(required=True)


class OnSpotClaimRow(Traced):
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    claim_id = fields.String(required=True)
    released_by = fields.String(required=True)
    claimed_at = Moment(required=True)
    due = Moment(required=True)
    filed_at = Moment(allow_none=True)


class OnSpotClaimsNotFiled(ContractSchema):
    as_of = Moment(required=True)
    rows = fields.List(fields.Nested(OnSpotClaimRow), required=True)
    as_of_position = Integer(required=True)


class HandoverRequest(ContractSchema):
    handover_id = Id()


class HandoverLineRow(Traced):
    item_id = fields.String(required=True)
    short_code = fields.String(allow_none=True)
    item_name = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    turned_in_on = Day(allow_none=True)
    state = fields.String(required=True, metadata={"description": "listed, handed_over or withdrawn"})


class FinanceHandoverList(Traced):
    handover_id = fields.String(required=True)
    month = fields.String(required=True)
    custodian_id = fields.String(required=True)
    drawn_at = Moment(required=True)
    lines = fields.List(fields.Nested(HandoverLineRow), required=True)
    transferred_at = Moment(allow_none=True)
    signed_by = fields.String(allow_none=True)
    signer_name = StaffName(allow_none=True)
    signed_at = Moment(allow_none=True)
    signatures = fields.List(fields.Nested(SignaturePart), required=True)
    as_of_position = Integer(required=True)


FOUND_ITEM_FORM = registry.rpc("forms", "found_item_form", FoundItemFormRequest, FoundItemForm,
                               "Form 3.3, 3.4 or 3.5 of one found item (registration, custody, claim).",
                               roles=roles.READERS)
LOST_ITEM_REPORT_FORM = registry.rpc("forms", "lost_item_report_form", LostItemReportFormRequest,
                                     LostItemReportForm, "Form 3.6 of one lost-item report.",
                                     roles=roles.READERS)
LOST_ITEM_SUMMARY = registry.rpc("forms", "lost_item_summary", SummaryRequest, LostItemSummary,
                                 "Form 3.7 for a day or month, optionally one clerk.",
                                 roles=roles.READERS)
GOOD_DEEDS_SUMMARY = registry.rpc("forms", "good_deeds_summary", SummaryRequest, GoodDeedsSummary,
                                  "Form 3.8 for a day or month, optionally one staff member.",
                                  roles=roles.READERS)
FOUND_ITEM_RECEIPT = registry.rpc("forms", "found_item_receipt", FoundItemFormRequest, FoundItemReceipt,
                                  "Form 3.9 of one item found by staff.",
                                  roles=roles.DESK | {roles.AUDITOR})
ITEM_INFORMATION_CARD = registry.rpc("forms", "item_information_card", ItemCardRequest, ItemInformationCard,
                                     "Form 3.10 by item id or short code.",
                                     roles=roles.DESK | {roles.AUDITOR})
VALUABLES_AWAITING_CUSTODY = registry.rpc("forms", "valuables_awaiting_custody", AwaitingCustodyRequest,
                                          AwaitingCustody,
                                          "Shift-end checklist (and, for every desk, the lead's view): valuables "
                                          "not yet with the custodian, overdue ones flagged.",
                                          roles=roles.READERS)
ON_SPOT_CLAIMS_NOT_FILED = registry.rpc("forms", "on_spot_claims_not_filed", AsOfRequest, OnSpotClaimsNotFiled,
                                        "Team leads' on-spot claims whose form missed the end of that day.",
                                        roles=roles.READERS)
FINANCE_HANDOVER_LIST = registry.rpc("forms", "finance_handover_list", HandoverRequest, FinanceHandoverList,
                                     "A monthly handover list to finance with its sign-off.",
                                     roles=frozenset({roles.CUSTODIAN, roles.FINANCE, roles.LEAD, roles.AUDITOR}))


# == what the paper forms carry (issue 10): corrections, voiding, transfers ===============
CORRECTABLE = ("item_name", "category", "description", "found_place", "found_at", "quantity", "cash_amount",
               "currency", "condition", "contents")
CORRECTOR_ROLES = ("team_lead", "lead")
CORRECTORS = frozenset({roles.TEAM_LEAD, roles.LEAD})


def Reason(**kwargs):
    return Text(max_length=200, **kwargs)


@registry.event
class FoundItemCorrected(_Event):
    event_type = "FoundItemCorrected"
    description = ("A registration was corrected (a typo, a wrong category) with a reason: the values after "
                   "the correction, and which fields it changed; the original stays in FoundItemTurnedIn.")

    item_id = Id()
    correction_id = Id()
    corrected_fields = fields.List(fields.String(validate=validate.OneOf(CORRECTABLE)), required=True)
    item_name = Short()
    category = Category()
    description = Text()
    found_place = Short()
    found_at = Moment(required=True)
    quantity = Integer(required=True, validate=validate.Range(min=1))
    cash_amount = Amount(required=True)
    currency = Currency(required=True)
    condition = Maybe(required=True, validate=validate.Length(max=200))
    contents = fields.List(Category(), required=True)
    valuable = Boolean(required=True)
    retain_until = Day(required=True)
    reason = Reason()
    corrected_by = Id()
    corrected_by_role = fields.String(required=True, validate=validate.OneOf(CORRECTOR_ROLES))
    corrected_at = Moment(required=True)


@registry.event
class FoundItemVoided(_Event):
    event_type = "FoundItemVoided"
    description = "A duplicate or mistaken registration was voided with a reason; every desk command is refused."

    item_id = Id()
    duplicate_of = Maybe(required=True)
    reason = Reason()
    voided_by = Id()
    voided_by_role = fields.String(required=True, validate=validate.OneOf(CORRECTOR_ROLES))
    voided_at = Moment(required=True)


@registry.event
class FoundItemSentToDesk(_Event):
    event_type = "FoundItemSentToDesk"
    description = "An item left its desk for another desk (in transit until received there)."

    item_id = Id()
    from_desk = Desk()
    to_desk = Desk()
    reason = Reason()
    sent_by = Id()
    sent_at = Moment(required=True)


@registry.event
class FoundItemReceivedAtDesk(_Event):
    event_type = "FoundItemReceivedAtDesk"
    description = "An item sent from another desk, or an on-site item, arrived at a desk and is stored there."

    item_id = Id()
    from_desk = Maybe(required=True, metadata={"description": "null: from the site where it was found"})
    desk = Desk()
    storage_place = Short()
    received_by = Id()
    received_at = Moment(required=True)


class CorrectItemRequest(CommandFields):
    """Only the fields given are corrected (null clears condition, or cash
    amount and currency together)."""
    desk = Desk()
    item_id = Id()
    correction_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    reason = Reason()
    item_name = Short(required=False)
    category = Category(required=False)
    description = Text(required=False)
    found_place = Short(required=False)
    found_at = Moment(required=False)
    quantity = Integer(required=False, validate=validate.Range(min=1, max=10000))
    cash_amount = fields.String(required=False, allow_none=True, validate=validate.Regexp(AMOUNT_PATTERN))
    currency = fields.String(required=False, allow_none=True, validate=validate.OneOf(CURRENCIES))
    condition = fields.String(required=False, allow_none=True, validate=validate.Length(min=1, max=200))
    contents = fields.List(Category(), required=False, validate=validate.Length(max=10))
    at = Moment(load_default=None)


class CorrectItemReply(AppendReply):
    correction_id = fields.String(required=True)
    corrected_fields = fields.List(fields.String(), required=True)
    valuable = Boolean(required=True)
    retain_until = Day(required=True)


class VoidItemRequest(CommandFields):
    desk = Desk()
    item_id = Id()
    duplicate_of = Maybe(validate=validate.Length(min=1, max=80),
                         metadata={"description": "the item id this registration repeats"})
    reason = Reason()
    at = Moment(load_default=None)


class SendItemToDeskRequest(CommandFields):
    desk = Desk()
    item_id = Id()
    to_desk = Desk()
    reason = Reason()
    at = Moment(load_default=None)


class ReceiveItemAtDeskRequest(CommandFields):
    """The caller's desk receives the item (sent to it, or brought from the site)."""
    desk = Desk()
    item_id = Id()
    storage_place = Short()
    at = Moment(load_default=None)


CORRECT_ITEM = registry.rpc(SERVICE, "correct_item", CorrectItemRequest, CorrectItemReply,
                            "Correct a registration by a recorded event with a reason.", roles=CORRECTORS)
VOID_ITEM = registry.rpc(SERVICE, "void_item", VoidItemRequest, AppendReply,
                         "Void a duplicate or mistaken registration with a reason.", roles=CORRECTORS)
SEND_ITEM_TO_DESK = registry.rpc(SERVICE, "send_item_to_desk", SendItemToDeskRequest, AppendReply,
                                 "Send an item to another desk.", roles=frozenset({roles.CLERK}))
RECEIVE_ITEM_AT_DESK = registry.rpc(SERVICE, "receive_item_at_desk", ReceiveItemAtDeskRequest, AppendReply,
                                    "An item sent from another desk, or found on site, arrives at this desk.",
                                    roles=frozenset({roles.CLERK}))


# == signatures where the paper form has them ============================================
ITEM_SIGNATURE_PARTS = ("registration_finder", "registration_clerk", "claim_claimant", "custody_handed_by",
                        "custody_custodian")
HANDOVER_SIGNATURE_PARTS = ("handover_custodian", "handover_receiver")
SIGNER_KINDS = ("finder", "clerk", "claimant", "custodian", "receiver", "witness")
IMAGE_REF_PATTERN = r"^sha256:[0-9a-f]{64}$"


def ImageRef(**kwargs):
    """The PNG the desk screen captured, by its SHA-256 (stored elsewhere;
    never the image in the log). Personal: a signature identifies its signer."""
    return Personal("other", "signer", validate=validate.Regexp(IMAGE_REF_PATTERN, error="not sha256:<64 hex>"),
                    **{"required": False, "allow_none": True, **kwargs})


@registry.event
class SignatureCaptured(_Event):
    event_type = "SignatureCaptured"
    description = ("A part of a form was signed: which part, who signed (a staff member with their own login, "
                   "or the visitor named on that part) and when; the image may follow in a later one.")

    item_id = Maybe(required=True)
    handover_id = Maybe(required=True)
    part = fields.String(required=True, validate=validate.OneOf(ITEM_SIGNATURE_PARTS + HANDOVER_SIGNATURE_PARTS
                                                                + ("disposal_custodian", "disposal_receiver",
                                                                   "disposal_witness")))
    signer_kind = fields.String(required=True, validate=validate.OneOf(SIGNER_KINDS))
    signer_id = Maybe(required=True)
    captured_by = Id()
    image_ref = ImageRef(required=True)
    signed_at = Moment(required=True)


class CaptureSignatureRequest(CommandFields):
    """A staff part is signed by that staff member's own login: the caller,
    or the cosigner (the custodian, finance); a visitor's part (the finder's,
    the claimant's) is signed on the desk screen the caller works."""
    desk = Desk()
    item_id = Maybe(validate=validate.Length(min=1, max=80))
    handover_id = Maybe(validate=validate.Length(min=1, max=80),
                        metadata={"description": "a finance handover or disposal list, for its parts"})
    part = fields.String(required=True, validate=validate.OneOf(
        ITEM_SIGNATURE_PARTS + HANDOVER_SIGNATURE_PARTS + ("disposal_custodian", "disposal_receiver",
                                                           "disposal_witness")))
    image_ref = ImageRef()
    at = Moment(load_default=None)

    @validates_schema
    def one_document(self, data, **kwargs):
        if bool(data.get("item_id")) == bool(data.get("handover_id")):
            raise ValidationError("give exactly one of item_id and handover_id", "item_id")


class CaptureSignatureReply(AppendReply):
    part = fields.String(required=True)
    signer_kind = fields.String(required=True)
    signer_id = fields.String(allow_none=True)


CAPTURE_SIGNATURE = registry.rpc(SERVICE, "capture_signature", CaptureSignatureRequest, CaptureSignatureReply,
                                 "Record who signed a part of a form, and when (the image may follow).",
                                 roles=frozenset({roles.CLERK, roles.TEAM_LEAD, roles.CUSTODIAN, roles.FINANCE}))


# == proxy claims (代领) and return by courier ==============================================
PROXY_KINDS = ("tour_guide", "hotel", "family", "other")
AUTHORISATION_METHODS = ("written", "message", "phone_call", "video_call")
FEE_PAYERS = ("visitor", "center", "cash_on_delivery")


@registry.event
class ClaimAuthorisedByOwner(_Event):
    event_type = "ClaimAuthorisedByOwner"
    description = ("A proxy (代领: a tour guide, the hotel) took the item for its owner; the owner and how they "
                   "authorised it are recorded beside the claim, whose claimant is the proxy.")

    item_id = Id()
    claim_id = Id()
    proxy_kind = fields.String(required=True, validate=validate.OneOf(PROXY_KINDS))
    organisation = Maybe(required=True, validate=validate.Length(max=80))
    owner_name = Name("owner")
    owner_phone = Phone("owner", allow_none=True)
    authorisation_method = fields.String(required=True, validate=validate.OneOf(AUTHORISATION_METHODS))
    # free text naming people (请把我的包交给王导游): personal, the owner's
    authorisation_note = Personal("other", "owner", required=True, validate=validate.Length(min=1, max=300))
    authorised_at = Moment(required=True)
    recorded_by = Id()
    recorded_at = Moment(required=True)


@registry.event
class CourierReturnArranged(_Event):
    event_type = "CourierReturnArranged"
    description = ("The verified owner, gone home, claimed remotely: the item is to go by courier to the "
                   "address (personal data), the fee paid as recorded.")

    item_id = Id()
    return_id = Id()
    claim_id = Id()
    recipient_name = Name("recipient")
    recipient_phone = Phone("recipient")
    address = Personal("other", "recipient", required=True, validate=validate.Length(min=1, max=200))
    fee_paid_by = fields.String(required=True, validate=validate.OneOf(FEE_PAYERS))
    fee_amount = Amount(required=True)
    fee_currency = Currency(required=True)
    arranged_by = Id()
    arranged_at = Moment(required=True)


@registry.event
class ItemDispatchedByCourier(_Event):
    event_type = "ItemDispatchedByCourier"
    description = "The item left with the courier: carrier and tracking number."

    item_id = Id()
    return_id = Id()
    carrier = Short()
    tracking_number = fields.String(required=True, validate=validate.Length(min=4, max=40))
    dispatched_by = Id()
    dispatched_at = Moment(required=True)


class ClaimByProxyRequest(ClaimItemRequest):
    """The claimant fields are the proxy's, who is present and verified (their
    ID number, as for any claim); the owner is named and their authorisation
    described. A valuable needs a written or messaged authorisation."""
    proxy_kind = fields.String(required=True, validate=validate.OneOf(PROXY_KINDS))
    organisation = Maybe(validate=validate.Length(min=1, max=80),
                         metadata={"description": "the travel agency or hotel"})
    owner_name = Name()
    owner_phone = Maybe(Phone)
    authorisation_method = fields.String(required=True, validate=validate.OneOf(AUTHORISATION_METHODS))
    authorisation_note = Personal("other", required=True, validate=validate.Length(min=1, max=300),
                                  metadata={"description": "what the owner wrote or said"})
    authorised_at = Moment(required=True)


class ArrangeCourierReturnRequest(ClaimItemRequest):
    """The claimant fields are the owner's, given remotely (verified remotely
    first); the recipient may be the owner or someone at the address."""
    return_id = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    recipient_name = Name()
    recipient_phone = Phone()
    address = Personal("other", required=True, validate=validate.Length(min=1, max=200))
    fee_paid_by = fields.String(required=True, validate=validate.OneOf(FEE_PAYERS))
    fee_amount = Amount()
    fee_currency = Currency()


class ArrangeCourierReturnReply(ClaimItemReply):
    return_id = fields.String(required=True)


class RecordCourierDispatchRequest(CommandFields):
    desk = Desk()
    item_id = Id()
    return_id = Id()
    carrier = Short()
    tracking_number = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9-]{4,40}$",
                                                                            error="not a tracking number"))
    at = Moment(load_default=None)


CLAIM_ITEM_BY_PROXY = registry.rpc(SERVICE, "claim_item_by_proxy", ClaimByProxyRequest, ClaimItemReply,
                                   "A proxy (代领) takes the item for its owner, on the owner's authorisation.",
                                   roles=frozenset({roles.CLERK, roles.CUSTODIAN}))
ARRANGE_COURIER_RETURN = registry.rpc(SERVICE, "arrange_courier_return", ArrangeCourierReturnRequest,
                                      ArrangeCourierReturnReply,
                                      "The owner, verified remotely, claims; the item is to go by courier.",
                                      roles=frozenset({roles.CLERK, roles.CUSTODIAN}))
RECORD_COURIER_DISPATCH = registry.rpc(SERVICE, "record_courier_dispatch", RecordCourierDispatchRequest,
                                       AppendReply, "The item left with the courier: carrier and tracking number.",
                                       roles=frozenset({roles.CLERK, roles.CUSTODIAN}))


# == the public notice list (招领公告) =====================================================
class PublicNoticeRequest(ContractSchema):
    desk = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    limit = Integer(load_default=200, validate=validate.Range(min=1, max=500))


class PublicNoticeRow(ContractSchema):
    """What a passer-by may read: no description, hidden feature, finder,
    amount, storage place or custodian."""
    short_code = fields.String(required=True, metadata={"description": "ask for the item by this code"})
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    quantity = Integer(required=True)
    found_place = fields.String(required=True)
    found_on = Day(required=True, metadata={"description": "local date it was found"})
    desk = fields.String(required=True, metadata={"description": "where to ask"})
    retain_until = Day(required=True, metadata={"description": "kept through this day"})


class PublicNoticeList(ContractSchema):
    form = fields.String(required=True)
    title = fields.String(required=True)
    rows = fields.List(fields.Nested(PublicNoticeRow), required=True)
    as_of_position = Integer(required=True)


PUBLIC_NOTICE_LIST = registry.rpc("forms", "public_notice_list", PublicNoticeRequest, PublicNoticeList,
                                  "招领公告: unclaimed items for a display board or web page; needs no login.",
                                  roles=roles.OPEN)


# == disposal routes besides finance (police, issuing bank, destruction) =================
DISPOSAL_ROUTES = ("finance", "police", "issuing_bank", "destroy")
OTHER_ROUTES = ("police", "issuing_bank", "destroy")


@registry.event
class DisposalListDrawn(_Event):
    event_type = "DisposalListDrawn"
    description = ("The custodian listed unclaimed items for a route other than finance: ID documents to the "
                   "police (公安), bank cards to their issuing bank, perishables to destroy before a witness.")

    disposal_id = Id()
    route = fields.String(required=True, validate=validate.OneOf(OTHER_ROUTES))
    receiver = Maybe(required=True, validate=validate.Length(max=80),
                     metadata={"description": "the police station or bank branch; null when destroyed"})
    custodian_id = Id()
    item_ids = fields.List(fields.String(), required=True)
    drawn_at = Moment(required=True)


@registry.event
class ItemDisposed(_Event):
    event_type = "ItemDisposed"
    description = "An unclaimed item went to the police or a bank, or was destroyed; no longer claimable at the desk."

    item_id = Id()
    disposal_id = Id()
    route = fields.String(required=True, validate=validate.OneOf(OTHER_ROUTES))
    custodian_id = Id()
    disposed_at = Moment(required=True)


@registry.event
class DisposalRecorded(_Event):
    event_type = "DisposalRecorded"
    description = "Every listed item was disposed of or withdrawn (claimed meanwhile)."

    disposal_id = Id()
    disposed_item_ids = fields.List(fields.String(), required=True)
    withdrawn_item_ids = fields.List(fields.String(), required=True)
    recorded_at = Moment(required=True)


@registry.event
class DisposalSignedOff(_Event):
    event_type = "DisposalSignedOff"
    description = ("The receiving officer or bank clerk signed the list (name and badge or receipt number), or a "
                   "staff witness, with their own login, signed a destruction off.")

    disposal_id = Id()
    route = fields.String(required=True, validate=validate.OneOf(OTHER_ROUTES))
    receiver_name = Personal("name", "receiver", required=True, allow_none=True)
    receiver_reference = Personal("other", "receiver", required=True, allow_none=True)
    witness_id = Maybe(required=True)
    witness_name = StaffName(allow_none=True)
    signed_by = Id()
    signed_at = Moment(required=True)


class DisposeItemsRequest(CommandFields):
    disposal_id = Id()
    route = fields.String(required=True, validate=validate.OneOf(OTHER_ROUTES))
    receiver = Maybe(validate=validate.Length(min=1, max=80),
                     metadata={"description": "the police station or bank branch (not for destroy)"})
    item_ids = fields.List(fields.String(validate=validate.Length(min=1, max=80)), load_default=None,
                           validate=validate.Length(min=1, max=500),
                           metadata={"description": "defaults to every item of the route whose retention is over"})
    at = Moment(load_default=None)


class DisposeItemsReply(ContractSchema):
    disposal_id = fields.String(required=True)
    route = fields.String(required=True)
    item_ids = fields.List(fields.String(), required=True)
    disposed_item_ids = fields.List(fields.String(), required=True)
    withdrawn_item_ids = fields.List(fields.String(), required=True)
    steps = fields.List(fields.Nested(HandoverStep), required=True)


class SignOffDisposalRequest(CommandFields):
    """The custodian records the sign-off: the receiver's name and badge or
    receipt number (police, bank); for a destruction the witness signs with
    their own login as the call's cosigner."""
    disposal_id = Id()
    receiver_name = Maybe(Personal, kind="name", validate=validate.Length(min=1, max=40))
    receiver_reference = Maybe(Personal, kind="other", validate=validate.Length(min=1, max=40),
                               metadata={"description": "badge, receipt or reference number"})
    at = Moment(load_default=None)


DISPOSE_ITEMS = registry.rpc(SERVICE, "dispose_items", DisposeItemsRequest, DisposeItemsReply,
                             "The custodian disposes of unclaimed items by a route other than finance; "
                             "run again to resume.", roles=frozenset({roles.CUSTODIAN}))
SIGN_OFF_DISPOSAL = registry.rpc(SERVICE, "sign_off_disposal", SignOffDisposalRequest, AppendReply,
                                 "The receiver (police, bank) or a staff witness (destruction) signs the list off.",
                                 roles=frozenset({roles.CUSTODIAN}))



class DisposalRequest(ContractSchema):
    disposal_id = Id()


class DisposalLineRow(Traced):
    item_id = fields.String(required=True)
    short_code = fields.String(allow_none=True)
    item_name = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    quantity = Integer(allow_none=True)
    state = fields.String(required=True, metadata={"description": "listed, disposed or withdrawn"})


class DisposalList(Traced):
    disposal_id = fields.String(required=True)
    route = fields.String(required=True)
    receiver = fields.String(allow_none=True)
    custodian_id = fields.String(required=True)
    drawn_at = Moment(required=True)
    lines = fields.List(fields.Nested(DisposalLineRow), required=True)
    recorded_at = Moment(allow_none=True)
    receiver_name = Personal("name", allow_none=True)
    receiver_reference = Personal("other", allow_none=True)
    witness_id = fields.String(allow_none=True)
    witness_name = StaffName(allow_none=True)
    signed_by = fields.String(allow_none=True)
    signed_at = Moment(allow_none=True)
    signatures = fields.List(fields.Nested(SignaturePart), required=True)
    as_of_position = Integer(required=True)


DISPOSAL_LIST = registry.rpc("forms", "disposal_list", DisposalRequest, DisposalList,
                             "A disposal list (police, issuing bank, destruction) with its sign-off.",
                             roles=frozenset({roles.CUSTODIAN, roles.LEAD, roles.AUDITOR}))



# == the lead's follow-up: items on their way ===============================================
class OnTheWayRequest(ContractSchema):
    as_of = Moment(required=True)


class OnTheWayRow(Traced):
    kind = fields.String(required=True, metadata={"description": "to_desk (not received there) or by_courier "
                                                                 "(arranged, not dispatched)"})
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    from_desk = fields.String(allow_none=True)
    to = fields.String(required=True, metadata={"description": "the desk it goes to, or the courier return id"})
    since = Moment(required=True)


class ItemsOnTheWay(ContractSchema):
    as_of = Moment(required=True)
    rows = fields.List(fields.Nested(OnTheWayRow), required=True)
    as_of_position = Integer(required=True)


ITEMS_ON_THE_WAY = registry.rpc("forms", "items_on_the_way", OnTheWayRequest, ItemsOnTheWay,
                                "Items sent to a desk and not received, courier returns not dispatched.",
                                roles=roles.READERS)
