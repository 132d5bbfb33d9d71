"""Lost and found decider (失物招领, seed 004 section 2.2.5). Pure.

Streams (appends are per stream; nothing spans two streams atomically):
- ``found_item-<item_id>``: one found item from turn-in through verification,
  claim, custody and the handover to finance;
- ``lost_report-<report_id>``: one visitor's lost-item report, the match a
  clerk confirmed and the contact task to call the visitor in;
- ``finance_handover-<handover_id>``: one monthly handover list of unclaimed
  items to finance (财务部). The list is drawn here, then each item's own
  stream gets ``ItemHandedToFinance`` under a command id derived from the
  handover and the item (:func:`finance_transfer_command_id`), then the
  outcome is recorded here and finance signs off. A crashed run is simply
  run again: the per-item appends it already made are recognised by their
  command ids and not repeated.

Everything the decider needs from outside (time, the business date in the
area's time zone, which categories are valuables, retention periods, the
state of an item a report is matched to) comes in with the command.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal

from services.chassis.decider import NotFound, Rejected

# -- vocabulary ----------------------------------------------------------------
DESK_STAFF, DESK_VISITOR, ON_SITE = "desk_staff", "desk_visitor", "on_site"
#: the registration & claim form of each way an item comes in
FORM_OF_CHANNEL = {DESK_VISITOR: "3.3", DESK_STAFF: "3.4", ON_SITE: "3.5"}
CLERK, TEAM_LEAD, CUSTODIAN = "clerk", "team_lead", "custodian"
OWNER, NOT_OWNER, NEEDS_MORE_PROOF = "owner", "not_owner", "needs_more_proof"
REPORTED, UNREPORTED, ON_SPOT = "reported", "unreported", "on_spot"
HELD, IN_CUSTODY, CLAIMED, WITH_FINANCE = "held", "in_custody", "claimed", "with_finance"
DISPOSED = "disposed"               # handed to the police or a bank, or destroyed (not finance)
FINANCE_ROUTE, POLICE, ISSUING_BANK, DESTROY = "finance", "police", "issuing_bank", "destroy"
#: where an unclaimed item goes once its retention is over, by its category's route
DISPOSAL_ROUTES = {FINANCE_ROUTE: "finance (财务部)", POLICE: "the police (公安)",
                   ISSUING_BANK: "the issuing bank (发卡银行)", DESTROY: "destruction before a witness (销毁)"}
VOIDED = "voided"                   # a duplicate or mistaken registration, voided by a recorded event
LEAD = "lead"
REACHED = "reached"
# where the item physically is (besides status): at its desk, still on site with
# the team lead or finder (an on-site turn-in), or on its way to another desk
AT_DESK, ON_SITE_LOCATION, IN_TRANSIT = "at_desk", "on_site", "in_transit"


def item_stream(item_id: str) -> str:
    return f"found_item-{item_id}"


def report_stream(report_id: str) -> str:
    return f"lost_report-{report_id}"


def handover_stream(handover_id: str) -> str:
    return f"finance_handover-{handover_id}"


def disposal_stream(disposal_id: str) -> str:
    return f"disposal-{disposal_id}"


def short_code(item_id: str, attempt: int = 0) -> str:
    """The code printed on the item information card: ``LF-`` and six
    base32 characters of a hash of the item id (2^30 codes).

    Six characters collide: about 17% of the time somewhere among 20,000
    items (the birthday bound). So the service derives the code at turn-in
    and, when its case index already gives that code to another item, tries
    the next ``attempt`` (a hash of ``<item_id>#<attempt>``); the code is
    then stored in ``FoundItemTurnedIn`` and never derived again. The code
    stays short enough to read out at the desk."""
    seed = item_id if attempt == 0 else f"{item_id}#{attempt}"
    digest = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode()
    return f"LF-{digest[:6]}"


def qr_payload(item_id: str) -> str:
    """What the card's QR code encodes: enough to find the item's record."""
    return f"vsc:found-item:{item_id}"


def receipt_no(item_id: str, code: str | None = None) -> str:
    return "R-" + (code or short_code(item_id))[3:]


def disposal_from(retain_until: dt.date) -> dt.date:
    """"Kept until D" (``retain_until``) means kept through D, inclusive: the
    first day the item may go to finance is D+1. One meaning everywhere: the
    card (3.10), the refusals, the items due for finance."""
    return retain_until + dt.timedelta(days=1)


def retention_over(retain_until: dt.date, business_date: dt.date) -> bool:
    return business_date >= disposal_from(retain_until)


def on_spot_form_due(moment: dt.datetime, zone: dt.tzinfo, shift_end: dt.time | None) -> dt.datetime:
    """When a team lead's on-spot claim form (3.5, lower half) is due at the
    desk: before the end of that day's shift (当日下班前), the desk's
    ``shift_end`` local time; a claim taken after the shift ended (or with no
    shift end configured) is due by the end of that local day."""
    local = moment.astimezone(zone)
    end_of_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    if shift_end is None:
        return end_of_day
    due = dt.datetime.combine(local.date(), shift_end, tzinfo=zone)
    return due if due > local else end_of_day


def finance_transfer_command_id(handover_id: str, item_id: str) -> str:
    """Deterministic, so a retried handover run never hands an item twice."""
    return f"finance-handover:{handover_id}:{item_id}"


def finance_step_command_id(handover_id: str, step: str) -> str:
    return f"finance-handover:{handover_id}:{step}"


@dataclass(frozen=True)
class RetentionPolicy:
    """Days an unclaimed item is kept before it may go to finance: per
    category, else the valuables' period for a valuable, else the default."""

    default_days: int = 30
    valuable_days: int | None = None
    per_category: tuple = ()  # ((category, days), ...)

    def days(self, category: str, valuable: bool) -> int:
        for name, days in self.per_category:
            if name == category:
                return days
        if valuable and self.valuable_days is not None:
            return self.valuable_days
        return self.default_days


# -- commands ------------------------------------------------------------------
@dataclass(frozen=True)
class TurnInFoundItem:
    item_id: str
    desk: str
    channel: str                    # DESK_STAFF, DESK_VISITOR or ON_SITE
    item_name: str
    category: str
    description: str
    found_place: str
    found_at: dt.datetime
    finder_kind: str                # "staff" or "visitor"
    finder_id: str | None
    finder_name: str
    finder_phone: str | None
    finder_department: str | None
    registered_by: str
    registered_by_role: str         # CLERK or TEAM_LEAD
    storage_place: str
    at: dt.datetime
    business_date: dt.date
    hidden_features: tuple = ()     # ((label, detail), ...): never shown to a claimant
    witness_id: str | None = None
    witness_name: str | None = None
    owner_urgent: bool = False      # the owner is waiting and no clerk can come
    valuable_categories: frozenset = frozenset()
    retention: RetentionPolicy = RetentionPolicy()
    short_code: str | None = None   # chosen by the service, free of collisions; None: short_code(item_id)
    quantity: int = 1               # how many pieces (3 keys on a ring: 3)
    cash_amount: Decimal | None = None  # cash only (the item, or cash inside it): counted at the desk
    currency: str | None = None     # ISO 4217, with cash_amount
    condition: str | None = None    # 物品状况: scratched screen, wet, torn strap
    contents: tuple = ()            # categories declared inside (a bag with a phone and cash in it)


@dataclass(frozen=True)
class RecordClaimVerification:
    item_id: str
    verification_id: str
    claimant_description: str
    matched_features: tuple         # labels of hidden features the claimant got right
    description_matched: bool
    decision: str                   # OWNER, NOT_OWNER or NEEDS_MORE_PROOF
    verified_by: str
    verified_by_role: str
    at: dt.datetime
    claimant_key: str = ""          # keyed hash of the claimant's ID number (claimant_key), never the number
    lead_cosigner: str | None = None  # a lead or team lead who confirmed with their own login
    failed_before_lead: int = 3     # config LF_FAILED_VERIFICATIONS_BEFORE_LEAD


@dataclass(frozen=True)
class ReportFacts:
    """What a claim's decider needs to know about the report it names (read
    by the service from the report's stream)."""

    report_id: str
    matched_item_id: str | None


@dataclass(frozen=True)
class ClaimItem:
    item_id: str
    claim_id: str
    verification_id: str
    claim_kind: str                 # REPORTED, UNREPORTED or ON_SPOT
    claimant_name: str
    claimant_phone: str
    claimant_id_type: str
    claimant_id_number: str
    released_by: str
    released_by_role: str
    at: dt.datetime
    business_date: dt.date          # the claim's local day (site TIMEZONE)
    claimant_key: str               # keyed hash of claimant_id_number, as in the verification
    verification_valid_for: dt.timedelta = dt.timedelta(minutes=120)  # config LF_VERIFICATION_VALID_MINUTES
    report_id: str | None = None
    report: ReportFacts | None = None  # the named report as its stream stands; None: no such report
    custodian_id: str | None = None  # a custodian who confirmed with their own login (principal or cosigner)
    on_spot_form_due: dt.datetime | None = None  # end of that day's shift, for a team lead's claim


@dataclass(frozen=True)
class FileOnSpotClaimForm:
    item_id: str
    received_by: str
    at: dt.datetime


@dataclass(frozen=True)
class HandToCustodian:
    item_id: str
    handed_by: str                  # any clerk on duty at the item's desk (交接人)
    custodian_id: str               # the custodian, by their own login (principal or cosigner)
    storage_place: str              # 存放处, as the custodian records it
    at: dt.datetime
    desk: str = ""                  # where the handover happens: the item's desk


@dataclass(frozen=True)
class HandItemToFinance:
    item_id: str
    handover_id: str
    custodian_id: str
    at: dt.datetime
    business_date: dt.date
    matched_report_id: str | None = None  # an open report confirmed to this item (case index)


@dataclass(frozen=True)
class ReportLostItem:
    report_id: str
    desk: str
    item_name: str
    category: str
    description: str
    features: str
    lost_place: str
    lost_from: dt.datetime
    lost_until: dt.datetime
    visitor_name: str
    visitor_phone: str
    received_by: str
    at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True)
class ItemFacts:
    """What a report's decider needs to know about the item it is matched to
    (read by the service from the item's stream)."""

    item_id: str
    short_code: str
    status: str
    claim_report_id: str | None = None   # the report its claim named, once claimed
    matched_report_id: str | None = None  # the open report confirmed to it (case index), if any


@dataclass(frozen=True)
class ConfirmMatch:
    report_id: str
    item: ItemFacts | None          # None: no such item
    task_id: str
    confirmed_by: str
    at: dt.datetime
    current: ItemFacts | None = None  # the item this report is matched to now, as its stream stands


@dataclass(frozen=True)
class ReleaseMatch:
    """The clerk takes back a confirmed match (the visitor saw the item and it
    is not theirs, or it was confirmed by mistake): the report is open again,
    and so is the item for another report."""

    report_id: str
    reason: str
    released_by: str
    at: dt.datetime
    current: ItemFacts | None = None  # the matched item, as its stream stands


@dataclass(frozen=True)
class RecordVisitorContact:
    report_id: str
    task_id: str
    contacted_by: str
    outcome: str                    # REACHED closes the task; anything else keeps it open
    at: dt.datetime


@dataclass(frozen=True)
class HandoverLine:
    """An item proposed for the finance handover, as its stream stands."""

    item_id: str
    status: str | None              # None: no such item
    retain_until: dt.date | None
    matched_report_id: str | None = None  # an open report confirmed to it: not drawn
    route: str = "finance"          # its category's disposal route (config DISPOSAL_ROUTES)


@dataclass(frozen=True)
class DrawFinanceHandoverList:
    handover_id: str
    month: str                      # "2026-06"
    custodian_id: str
    lines: tuple                    # HandoverLine, ...
    at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True)
class RecordFinanceTransfer:
    handover_id: str
    transferred: tuple
    withdrawn: tuple
    at: dt.datetime


@dataclass(frozen=True)
class SignOffFinanceHandover:
    handover_id: str
    signed_by: str
    signer_name: str
    at: dt.datetime


# -- events --------------------------------------------------------------------
@dataclass(frozen=True)
class FoundItemTurnedIn:
    item_id: str
    short_code: str
    desk: str
    channel: str
    item_name: str
    category: str
    description: str
    found_place: str
    found_at: dt.datetime
    finder_kind: str
    finder_id: str | None
    finder_name: str
    finder_phone: str | None
    finder_department: str | None
    registered_by: str
    registered_by_role: str
    witness_id: str | None
    witness_name: str | None
    owner_urgent: bool
    storage_place: str
    hidden_features: tuple
    valuable: bool
    retain_until: dt.date
    turned_in_at: dt.datetime
    business_date: dt.date
    quantity: int = 1
    cash_amount: str | None = None  # a Decimal as text ("520.00"): never a float
    currency: str | None = None
    condition: str | None = None
    contents: tuple = ()


@dataclass(frozen=True)
class FoundItemReceiptIssued:
    """3.9 员工拾到物品回执: the staff finder's proof of a good deed."""

    item_id: str
    receipt_no: str
    finder_id: str
    finder_name: str
    finder_department: str | None
    good_deed: str                  # "desk" (客服好人好事) or "on_site" (现场好人好事)
    issued_by: str
    issued_at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True)
class ItemInformationCardIssued:
    item_id: str
    short_code: str
    qr_payload: str
    issued_at: dt.datetime


@dataclass(frozen=True)
class ClaimVerificationRecorded:
    item_id: str
    verification_id: str
    claimant_description: str
    matched_features: tuple
    description_matched: bool
    decision: str
    verified_by: str
    verified_by_role: str
    verified_at: dt.datetime
    claimant_key: str | None = None   # None: recorded before verifications were bound (binds no claim)
    cosigned_by: str | None = None    # the lead or team lead, after repeated failed verifications


@dataclass(frozen=True)
class FoundItemClaimed:
    item_id: str
    claim_id: str
    verification_id: str
    claim_kind: str
    report_id: str | None
    claim_form: str
    claimant_name: str
    claimant_phone: str
    claimant_id_type: str
    claimant_id_number: str
    released_by: str
    released_by_role: str
    custodian_id: str | None
    on_spot_form_due: dt.datetime | None
    claimed_at: dt.datetime


@dataclass(frozen=True)
class OnSpotClaimFormFiled:
    item_id: str
    claim_id: str
    received_by: str
    filed_at: dt.datetime
    late: bool


@dataclass(frozen=True)
class ItemHandedToCustodian:
    item_id: str
    handed_by: str
    custodian_id: str
    storage_place: str
    handed_at: dt.datetime


@dataclass(frozen=True)
class ItemHandedToFinance:
    item_id: str
    handover_id: str
    custodian_id: str
    handed_at: dt.datetime
    business_date: dt.date | None = None  # the local day of the handover (None: recorded before it was kept)


@dataclass(frozen=True)
class LostItemReported:
    report_id: str
    desk: str
    item_name: str
    category: str
    description: str
    features: str
    lost_place: str
    lost_from: dt.datetime
    lost_until: dt.datetime
    visitor_name: str
    visitor_phone: str
    received_by: str
    reported_at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True)
class LostReportMatched:
    report_id: str
    item_id: str
    short_code: str
    confirmed_by: str
    confirmed_at: dt.datetime


@dataclass(frozen=True)
class LostReportMatchReleased:
    report_id: str
    item_id: str
    reason: str
    released_by: str
    closed_task_id: str | None      # the contact task it closed, if one was open
    released_at: dt.datetime


@dataclass(frozen=True)
class VisitorContactTaskOpened:
    report_id: str
    task_id: str
    item_id: str
    opened_at: dt.datetime


@dataclass(frozen=True)
class VisitorContacted:
    report_id: str
    task_id: str
    contacted_by: str
    outcome: str
    task_closed: bool
    contacted_at: dt.datetime


@dataclass(frozen=True)
class FinanceHandoverListDrawn:
    handover_id: str
    month: str
    custodian_id: str
    item_ids: tuple
    drawn_at: dt.datetime


@dataclass(frozen=True)
class FinanceHandoverTransferred:
    handover_id: str
    transferred_item_ids: tuple
    withdrawn_item_ids: tuple       # claimed between drawing the list and handing over
    transferred_at: dt.datetime


@dataclass(frozen=True)
class FinanceHandoverSignedOff:
    handover_id: str
    signed_by: str
    signer_name: str
    signed_at: dt.datetime


EVENTS = (FoundItemTurnedIn, FoundItemReceiptIssued, ItemInformationCardIssued, ClaimVerificationRecorded,
          FoundItemClaimed, OnSpotClaimFormFiled, ItemHandedToCustodian, ItemHandedToFinance,
          LostItemReported, LostReportMatched, LostReportMatchReleased, VisitorContactTaskOpened, VisitorContacted,
          FinanceHandoverListDrawn, FinanceHandoverTransferred, FinanceHandoverSignedOff)


# -- state -----------------------------------------------------------------------
@dataclass(frozen=True)
class Nothing:
    """A stream with no events yet."""


@dataclass(frozen=True)
class Verification:
    verification_id: str
    decision: str
    verified_at: dt.datetime | None = None
    claimant_key: str | None = None


@dataclass(frozen=True)
class FoundItem:
    item_id: str
    short_code: str
    desk: str
    channel: str
    item_name: str
    category: str
    description: str
    found_place: str
    found_at: dt.datetime
    registered_by: str
    registered_by_role: str
    storage_place: str
    valuable: bool
    retain_until: dt.date
    turned_in_at: dt.datetime
    hidden_features: tuple
    status: str = HELD
    custodian_id: str | None = None
    verifications: tuple = ()
    claim_id: str | None = None
    claimed_at: dt.datetime | None = None
    claim_taken_by_team_lead: bool = False
    on_spot_form_due: dt.datetime | None = None
    on_spot_form_filed: bool = False
    handover_id: str | None = None
    handed_to_finance_at: dt.datetime | None = None
    business_date: dt.date | None = None      # the turn-in's local day
    claim_report_id: str | None = None
    handed_to_finance_on: dt.date | None = None  # local day
    quantity: int = 1
    cash_amount: str | None = None
    currency: str | None = None
    condition: str | None = None
    contents: tuple = ()
    location: str = AT_DESK
    to_desk: str | None = None      # in transit: the desk it goes to
    voided_reason: str | None = None
    finder_id: str | None = None
    custody_handed_by: str | None = None
    signatures: tuple = ()          # ((part, with image), ...)
    courier_return_id: str | None = None
    dispatched: bool = False
    disposal_id: str | None = None
    disposal_route: str | None = None

    @property
    def failed_verifications(self) -> int:
        return sum(v.decision != OWNER for v in self.verifications)

    def verification(self, verification_id: str) -> Verification | None:
        return next((v for v in self.verifications if v.verification_id == verification_id), None)


@dataclass(frozen=True)
class LostReport:
    report_id: str
    category: str
    matched_item_id: str | None = None
    open_task_id: str | None = None
    closed_task_ids: tuple = ()


@dataclass(frozen=True)
class FinanceHandover:
    handover_id: str
    custodian_id: str
    item_ids: tuple
    transferred: bool = False
    signed_off: bool = False
    signed_by: str | None = None
    signatures: tuple = ()          # ((part, with image), ...)


initial_state = Nothing()


# -- rules -----------------------------------------------------------------------
#: currencies whose minor unit is not the cent (ISO 4217 exponent); the rest have 2 decimals
CURRENCY_DECIMALS = {"JPY": 0, "KRW": 0, "VND": 0, "ISK": 0, "CLP": 0, "PYG": 0, "UGX": 0, "XAF": 0, "XOF": 0,
                     "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}


def money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def is_valuable(category: str, contents, valuable_categories) -> bool:
    """A valuable by its category or by what was declared inside it (a bag
    with cash or a phone in it is kept like the cash or the phone)."""
    return category in valuable_categories or any(inner in valuable_categories for inner in contents)


def _check_particulars(category: str, quantity: int, cash_amount: Decimal | None, currency: str | None,
                       contents) -> None:
    """Quantity, cash and contents as forms 3.3-3.5 carry them."""
    if quantity < 1:
        raise Rejected("bad_quantity", "the quantity is at least 1", field="quantity")
    holds_cash = category == "cash" or "cash" in contents
    if category == "cash" and cash_amount is None:
        raise Rejected("amount_required", "cash is registered with its counted amount", field="cash_amount")
    if cash_amount is not None and not holds_cash:
        raise Rejected("amount_without_cash", "an amount is recorded only for cash (the item, or declared in "
                                              "its contents)", field="cash_amount")
    if (cash_amount is None) != (currency is None):
        raise Rejected("currency_required", "an amount and its currency go together",
                       field="currency" if currency is None else "cash_amount")
    if cash_amount is not None:
        if not cash_amount.is_finite() or cash_amount <= 0:
            raise Rejected("bad_amount", "the amount is a positive number", field="cash_amount")
        if -cash_amount.as_tuple().exponent > CURRENCY_DECIMALS.get(currency, 2):
            raise Rejected("bad_amount", f"{currency} has {CURRENCY_DECIMALS.get(currency, 2)} decimals",
                           field="cash_amount")
    if category in contents:
        raise Rejected("bad_contents", "contents name what is inside, not the item itself", field="contents")
    if len(set(contents)) != len(tuple(contents)):
        raise Rejected("bad_contents", "a category is named twice in the contents", field="contents")


def _item_not_available(item: FoundItem) -> Rejected | None:
    if item.status == DISPOSED:
        return Rejected("disposed", f"item {item.short_code} went to {DISPOSAL_ROUTES[item.disposal_route]} in "
                                    f"{item.disposal_id}", field="item_id")
    if item.status == VOIDED:
        return Rejected("voided", f"item {item.short_code} was voided: {item.voided_reason}", field="item_id")
    if item.status == CLAIMED:
        return Rejected("already_claimed", f"item {item.short_code} has already been claimed", field="item_id")
    if item.status == WITH_FINANCE:
        return Rejected("handed_to_finance",
                        f"item {item.short_code} was handed to finance (财务部) on "
                        f"{(item.handed_to_finance_on or item.handed_to_finance_at.date()).isoformat()} "
                        f"in handover {item.handover_id}; "
                        f"it can no longer be claimed at the desk, ask finance", field="item_id")
    return None


def _turn_in(c: TurnInFoundItem) -> list:
    if c.channel not in FORM_OF_CHANNEL:
        raise Rejected("unknown_channel", f"unknown turn-in channel {c.channel!r}", field="channel")
    if c.found_at > c.at:
        raise Rejected("found_after_turn_in", "found_at is after the turn-in", field="found_at")
    staff_found = c.channel in (DESK_STAFF, ON_SITE)
    if staff_found and (c.finder_kind != "staff" or not c.finder_id):
        raise Rejected("finder_required", "an item found by staff needs the finder's staff id", field="finder_id")
    if c.channel == DESK_VISITOR and c.finder_kind != "visitor":
        raise Rejected("finder_required", "a visitor turn-in needs the visitor who found it", field="finder_kind")
    if c.registered_by_role == TEAM_LEAD:
        if c.channel != ON_SITE:
            raise Rejected("team_lead_only_on_site", "a team lead may register only on site",
                           field="registered_by_role")
        if not c.witness_id or not c.witness_name:
            raise Rejected("witness_required", "a team lead registers only with a staff witness present",
                           field="witness_id")
        if c.witness_id in (c.finder_id, c.registered_by):
            raise Rejected("witness_required", "the witness must be a third member of staff", field="witness_id")
        if not c.owner_urgent:
            raise Rejected("clerk_must_register", "a team lead registers only when no clerk can come and the "
                                                  "owner urgently asks for the item", field="owner_urgent")
    elif c.registered_by_role != CLERK:
        raise Rejected("not_allowed", f"a {c.registered_by_role} cannot register a found item",
                       field="registered_by_role")
    labels = [label for label, _ in c.hidden_features]
    if len(labels) != len(set(labels)):
        raise Rejected("duplicate_feature", "hidden feature labels must differ", field="hidden_features")
    _check_particulars(c.category, c.quantity, c.cash_amount, c.currency, c.contents)
    valuable = is_valuable(c.category, c.contents, c.valuable_categories)
    code = c.short_code or short_code(c.item_id)
    events = [FoundItemTurnedIn(
        c.item_id, code, c.desk, c.channel, c.item_name, c.category, c.description, c.found_place, c.found_at,
        c.finder_kind, c.finder_id, c.finder_name, c.finder_phone, c.finder_department, c.registered_by,
        c.registered_by_role, c.witness_id, c.witness_name, c.owner_urgent, c.storage_place,
        tuple(tuple(pair) for pair in c.hidden_features), valuable,
        c.business_date + dt.timedelta(days=c.retention.days(c.category, valuable)), c.at, c.business_date,
        c.quantity, money_text(c.cash_amount), c.currency, c.condition, tuple(c.contents))]
    if staff_found:
        events.append(FoundItemReceiptIssued(
            c.item_id, receipt_no(c.item_id, code), c.finder_id, c.finder_name, c.finder_department,
            "on_site" if c.channel == ON_SITE else "desk", c.registered_by, c.at, c.business_date))
    if c.channel in (DESK_VISITOR, ON_SITE):
        events.append(ItemInformationCardIssued(c.item_id, code, qr_payload(c.item_id), c.at))
    return events


def _verify(c: RecordClaimVerification, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    if item.verification(c.verification_id) is not None:
        raise Rejected("verification_exists", f"verification {c.verification_id} is already recorded",
                       field="verification_id")
    if c.verified_by_role == TEAM_LEAD and item.channel != ON_SITE:
        raise Rejected("team_lead_only_on_site", "a team lead verifies only items found on site",
                       field="verified_by_role")
    if c.verified_by_role not in (CLERK, TEAM_LEAD, CUSTODIAN):
        raise Rejected("not_allowed", f"a {c.verified_by_role} cannot verify a claim", field="verified_by_role")
    if c.decision not in (OWNER, NOT_OWNER, NEEDS_MORE_PROOF):
        raise Rejected("unknown_decision", f"unknown decision {c.decision!r}", field="decision")
    if not c.claimant_key:
        raise Rejected("claimant_required", "a verification is bound to the claimant's ID number",
                       field="claimant_id_number")
    if item.failed_verifications >= c.failed_before_lead and c.lead_cosigner is None:
        # hidden features can be guessed: after so many failures a lead watches the next attempt
        raise Rejected("lead_required", f"item {item.short_code} has {item.failed_verifications} failed "
                                        "verifications; a further attempt needs the lead's (or team lead's) "
                                        "own login as cosigner", field="cosigner")
    known = {label for label, _ in item.hidden_features}
    if not set(c.matched_features) <= known:
        raise Rejected("unknown_feature", "matched_features names a feature not recorded at turn-in",
                       field="matched_features")
    if c.decision == OWNER:
        proven = bool(c.matched_features) if known else c.description_matched
        if not proven:
            raise Rejected("insufficient_proof", "an owner must describe at least one hidden feature"
                           if known else "an owner must describe the item", field="decision")
    return [ClaimVerificationRecorded(c.item_id, c.verification_id, c.claimant_description,
                                      tuple(c.matched_features), c.description_matched, c.decision,
                                      c.verified_by, c.verified_by_role, c.at, c.claimant_key,
                                      c.lead_cosigner if item.failed_verifications >= c.failed_before_lead
                                      else None)]


def custody_required(item: FoundItem, business_date: dt.date) -> bool:
    """2.2.5.3 a): a valuable not claimed the day it was turned in (local day)
    belongs with the custodian; in custody or overdue for it, it is released
    only with a custodian, whoever the clerk is."""
    if item.status == IN_CUSTODY:
        return True
    return item.valuable and item.business_date is not None and business_date > item.business_date


def custody_overdue(item: FoundItem, business_date: dt.date) -> bool:
    """A valuable still at the desk after the day it was turned in."""
    return item.status == HELD and custody_required(item, business_date)


def _claim(c: ClaimItem, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    verification = item.verification(c.verification_id)
    if verification is None:
        raise Rejected("verification_required", "no claim without a recorded verification",
                       field="verification_id")
    if verification.decision != OWNER:
        raise Rejected("not_verified_owner", f"the verification decided {verification.decision}, not owner",
                       field="verification_id")
    if verification.claimant_key is None or verification.claimant_key != c.claimant_key:
        raise Rejected("verified_for_another_claimant", "the verification was recorded for another claimant "
                                                        "(ID number); verify this claimant first",
                       field="claimant_id_number")
    if c.at < verification.verified_at:
        raise Rejected("claim_before_verification", "the claim is dated before its verification", field="at")
    if c.at > verification.verified_at + c.verification_valid_for:
        raise Rejected("verification_expired", f"the verification is older than "
                                               f"{int(c.verification_valid_for.total_seconds() // 60)} minutes; "
                                               "verify the claimant again", field="verification_id")
    if c.claim_kind not in (REPORTED, UNREPORTED, ON_SPOT):
        raise Rejected("unknown_claim_kind", f"unknown claim kind {c.claim_kind!r}", field="claim_kind")
    if c.claim_kind == REPORTED and not c.report_id:
        raise Rejected("report_required", "a claim of a reported loss names its report", field="report_id")
    if c.report_id is not None:
        if c.report is None or c.report.report_id != c.report_id:
            raise NotFound(f"no lost-item report {c.report_id}", field="report_id")
        if c.report.matched_item_id != item.item_id:
            raise Rejected("report_not_matched", f"report {c.report_id} is not matched to item {item.short_code}; "
                                                 "confirm the match first, or claim without a report",
                           field="report_id")
    if c.at < item.turned_in_at:
        raise Rejected("claimed_before_turn_in", "the claim is before the item was turned in", field="at")
    team_lead = c.released_by_role == TEAM_LEAD
    if team_lead and (item.channel != ON_SITE or c.claim_kind != ON_SPOT):
        raise Rejected("team_lead_only_on_site", "a team lead releases only on-site items, on the spot",
                       field="released_by_role")
    if team_lead and c.on_spot_form_due is None:
        raise Rejected("due_time_required", "a team lead's claim needs the time its form is due at the desk",
                       field="on_spot_form_due")
    if item.location == IN_TRANSIT:
        raise Rejected("in_transit", f"item {item.short_code} is on its way to {item.to_desk}", field="item_id")
    custody = custody_required(item, c.business_date)
    if custody and c.custodian_id is None:
        raise Rejected("custodian_required", f"item {item.short_code} is in the custodian's keeping; "
                                             "it is released only with a custodian's own login"
                       if item.status == IN_CUSTODY else
                       f"valuable {item.short_code} was not claimed on the day it was turned in and should be "
                       "with the custodian: it is released only with a custodian's own login",
                       field="cosigner")
    return [FoundItemClaimed(
        c.item_id, c.claim_id, c.verification_id, c.claim_kind, c.report_id, FORM_OF_CHANNEL[item.channel],
        c.claimant_name, c.claimant_phone, c.claimant_id_type, c.claimant_id_number, c.released_by,
        c.released_by_role, c.custodian_id if custody else None,
        c.on_spot_form_due if team_lead else None, c.at)]


def _file_on_spot_form(c: FileOnSpotClaimForm, item: FoundItem) -> list:
    if not item.claim_taken_by_team_lead:
        raise Rejected("no_on_spot_claim", f"item {item.short_code} has no on-spot claim taken by a team lead",
                       field="item_id")
    if item.on_spot_form_filed:
        raise Rejected("already_filed", "the on-spot claim form is already at the desk", field="item_id")
    return [OnSpotClaimFormFiled(c.item_id, item.claim_id, c.received_by, c.at, c.at > item.on_spot_form_due)]


def _hand_to_custodian(c: HandToCustodian, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    if item.location == IN_TRANSIT:
        raise Rejected("in_transit", f"item {item.short_code} is on its way to {item.to_desk}", field="item_id")
    if item.status == IN_CUSTODY:
        raise Rejected("already_in_custody", f"item {item.short_code} is already with the custodian",
                       field="item_id")
    if c.desk and c.desk != item.desk:
        # any clerk on duty at the item's desk may hand it over, not only the one who took it in
        raise Rejected("not_at_items_desk", f"item {item.short_code} is kept at desk {item.desk}",
                       field="desk")
    return [ItemHandedToCustodian(c.item_id, c.handed_by, c.custodian_id, c.storage_place, c.at)]


def _hand_to_finance(c: HandItemToFinance, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    if not retention_over(item.retain_until, c.business_date):
        raise _kept(item.short_code, item.retain_until, "item_id")
    if c.matched_report_id is not None:
        raise Rejected("matched_to_open_report", f"item {item.short_code} is matched to open report "
                                                 f"{c.matched_report_id}", field="item_id")
    return [ItemHandedToFinance(c.item_id, c.handover_id, c.custodian_id, c.at, c.business_date)]


def _kept(code: str, retain_until: dt.date, field: str) -> Rejected:
    return Rejected("retention_not_over", f"item {code} is kept until {retain_until.isoformat()} inclusive; "
                                          f"it may go to finance from {disposal_from(retain_until).isoformat()}",
                    field=field)


def _report(c: ReportLostItem) -> list:
    if c.lost_from > c.lost_until:
        raise Rejected("bad_time_window", "lost_from is after lost_until", field="lost_from")
    if c.lost_from > c.at:
        raise Rejected("lost_after_report", "the loss cannot start after the report", field="lost_from")
    if c.lost_until > c.at:
        raise Rejected("lost_after_report", "lost_until is after the report", field="lost_until")
    return [LostItemReported(c.report_id, c.desk, c.item_name, c.category, c.description, c.features,
                             c.lost_place, c.lost_from, c.lost_until, c.visitor_name,
                             c.visitor_phone, c.received_by, c.at, c.business_date)]


def _confirm_match(c: ConfirmMatch, report: LostReport) -> list:
    if c.item is None:
        raise NotFound("no such found item", field="item_id")
    if report.matched_item_id is not None:
        current = c.current if c.current is not None and c.current.item_id == report.matched_item_id else None
        if current is not None and current.status == CLAIMED and current.claim_report_id == report.report_id:
            raise Rejected("already_returned", f"report {report.report_id}'s item was returned to the visitor",
                           field="report_id")
        if current is None or current.status not in (CLAIMED, WITH_FINANCE):
            raise Rejected("already_matched", f"report {report.report_id} is already matched to an item "
                                              "still kept for it", field="report_id")
        # that item went to someone else or to finance: the report is open again, and matched anew
    if c.item.status in (CLAIMED, WITH_FINANCE):
        raise Rejected("item_not_available", f"item {c.item.short_code} is {c.item.status.replace('_', ' ')}",
                       field="item_id")
    if c.item.matched_report_id not in (None, c.report_id):
        raise Rejected("item_already_matched", f"item {c.item.short_code} is already confirmed for open report "
                                               f"{c.item.matched_report_id}; at most one open match per item",
                       field="item_id")
    return [LostReportMatched(c.report_id, c.item.item_id, c.item.short_code, c.confirmed_by, c.at),
            VisitorContactTaskOpened(c.report_id, c.task_id, c.item.item_id, c.at)]


def _release_match(c: ReleaseMatch, report: LostReport) -> list:
    if report.matched_item_id is None:
        raise Rejected("not_matched", f"report {report.report_id} is not matched to an item", field="report_id")
    current = c.current if c.current is not None and c.current.item_id == report.matched_item_id else None
    if current is not None and current.status == CLAIMED and current.claim_report_id == report.report_id:
        raise Rejected("already_returned", f"report {report.report_id}'s item was returned to the visitor",
                       field="report_id")
    if not c.reason.strip():
        raise Rejected("reason_required", "say why the match is released", field="reason")
    return [LostReportMatchReleased(report.report_id, report.matched_item_id, c.reason, c.released_by,
                                    report.open_task_id, c.at)]


def _contact(c: RecordVisitorContact, report: LostReport) -> list:
    if report.open_task_id != c.task_id:
        raise Rejected("no_open_contact_task", f"contact task {c.task_id} is not open", field="task_id")
    return [VisitorContacted(c.report_id, c.task_id, c.contacted_by, c.outcome, c.outcome == REACHED, c.at)]


def _draw(c: DrawFinanceHandoverList) -> list:
    ids = _check_lines(c.lines, c.business_date, FINANCE_ROUTE)
    return [FinanceHandoverListDrawn(c.handover_id, c.month, c.custodian_id, tuple(ids), c.at)]


def _check_lines(lines: tuple, business_date: dt.date, route: str) -> list:
    """The items of a handover or disposal list: each unclaimed, past its
    retention, not matched to an open report, and on this disposal route."""
    if not lines:
        raise Rejected("nothing_to_hand_over", "the handover list is empty", field="item_ids")
    ids = [line.item_id for line in lines]
    if len(ids) != len(set(ids)):
        raise Rejected("duplicate_item", "an item is on the list twice", field="item_ids")
    for line in lines:
        if line.status is None:
            raise NotFound(f"no found item {line.item_id}", field="item_ids")
        if line.status not in (HELD, IN_CUSTODY):
            raise Rejected("not_unclaimed", f"item {line.item_id} is {line.status.replace('_', ' ')}",
                           field="item_ids")
        if not retention_over(line.retain_until, business_date):
            raise _kept(line.item_id, line.retain_until, "item_ids")
        if line.matched_report_id is not None:
            raise Rejected("matched_to_open_report", f"item {line.item_id} is matched to open report "
                                                     f"{line.matched_report_id} (its visitor is being called in)",
                           field="item_ids")
        if line.route != route:
            raise Rejected("other_disposal_route", f"item {line.item_id} goes to {DISPOSAL_ROUTES[line.route]}, "
                                                   f"not {DISPOSAL_ROUTES[route]}", field="item_ids")
    return ids


def _record_transfer(c: RecordFinanceTransfer, handover: FinanceHandover) -> list:
    if handover.transferred:
        raise Rejected("already_transferred", "the handover's items are already handed over",
                       field="handover_id")
    if sorted((*c.transferred, *c.withdrawn)) != sorted(handover.item_ids):
        raise Rejected("incomplete_transfer", "every listed item must be handed over or withdrawn",
                       field="handover_id")
    return [FinanceHandoverTransferred(c.handover_id, tuple(c.transferred), tuple(c.withdrawn), c.at)]


def _sign_off(c: SignOffFinanceHandover, handover: FinanceHandover) -> list:
    if not handover.transferred:
        raise Rejected("not_transferred", "finance signs off only after the items are handed over",
                       field="handover_id")
    if handover.signed_off:
        raise Rejected("already_signed_off", "finance has already signed this handover off", field="handover_id")
    return [FinanceHandoverSignedOff(c.handover_id, c.signed_by, c.signer_name, c.at)]


_ITEM_COMMANDS = (RecordClaimVerification, ClaimItem, FileOnSpotClaimForm, HandToCustodian, HandItemToFinance)


def decide(command, state) -> list:
    if isinstance(command, PAPER_ITEM_COMMANDS):
        return _decide_paper(command, state)
    match command, state:
        case TurnInFoundItem(), Nothing():
            return _turn_in(command)
        case TurnInFoundItem(), _:
            raise Rejected("already_turned_in", f"item {command.item_id} is already registered", field="item_id")
        case _, Nothing() if isinstance(command, _ITEM_COMMANDS):
            raise NotFound(f"no found item {command.item_id}", field="item_id")
        case RecordClaimVerification(), FoundItem():
            return _verify(command, state)
        case ClaimItem(), FoundItem():
            return _claim(command, state)
        case FileOnSpotClaimForm(), FoundItem():
            return _file_on_spot_form(command, state)
        case HandToCustodian(), FoundItem():
            return _hand_to_custodian(command, state)
        case HandItemToFinance(), FoundItem():
            return _hand_to_finance(command, state)
        case ReportLostItem(), Nothing():
            return _report(command)
        case ReportLostItem(), _:
            raise Rejected("already_reported", f"report {command.report_id} already exists", field="report_id")
        case ConfirmMatch() | RecordVisitorContact() | ReleaseMatch(), Nothing():
            raise NotFound(f"no lost-item report {command.report_id}", field="report_id")
        case ConfirmMatch(), LostReport():
            return _confirm_match(command, state)
        case RecordVisitorContact(), LostReport():
            return _contact(command, state)
        case ReleaseMatch(), LostReport():
            return _release_match(command, state)
        case DrawFinanceHandoverList(), Nothing():
            return _draw(command)
        case DrawFinanceHandoverList(), _:
            raise Rejected("handover_exists", f"handover {command.handover_id} already exists",
                           field="handover_id")
        case RecordFinanceTransfer() | SignOffFinanceHandover(), Nothing():
            raise NotFound(f"no finance handover {command.handover_id}", field="handover_id")
        case RecordFinanceTransfer(), FinanceHandover():
            return _record_transfer(command, state)
        case SignOffFinanceHandover(), FinanceHandover():
            return _sign_off(command, state)
    raise TypeError(f"lost_and_found cannot decide {type(command).__name__} on {type(state).__name__}")


def evolve(state, event):
    if isinstance(event, PAPER_EVENTS):
        return _evolve_paper(state, event)
    match event:
        case FoundItemTurnedIn():
            return FoundItem(event.item_id, event.short_code, event.desk, event.channel, event.item_name,
                             event.category, event.description, event.found_place, event.found_at,
                             event.registered_by, event.registered_by_role, event.storage_place, event.valuable,
                             event.retain_until, event.turned_in_at, event.hidden_features,
                             business_date=event.business_date,
                             quantity=event.quantity, cash_amount=event.cash_amount, currency=event.currency,
                             condition=event.condition, contents=tuple(event.contents),
                             location=ON_SITE_LOCATION if event.channel == ON_SITE else AT_DESK,
                             finder_id=event.finder_id)
        case ClaimVerificationRecorded():
            return replace(state, verifications=(*state.verifications, Verification(
                event.verification_id, event.decision, event.verified_at, event.claimant_key)))
        case FoundItemClaimed():
            return replace(state, status=CLAIMED, claim_id=event.claim_id, claimed_at=event.claimed_at,
                           claim_report_id=event.report_id,
                           claim_taken_by_team_lead=event.released_by_role == TEAM_LEAD,
                           on_spot_form_due=event.on_spot_form_due)
        case OnSpotClaimFormFiled():
            return replace(state, on_spot_form_filed=True)
        case ItemHandedToCustodian():
            return replace(state, status=IN_CUSTODY, custodian_id=event.custodian_id,
                           storage_place=event.storage_place, custody_handed_by=event.handed_by)
        case ItemHandedToFinance():
            return replace(state, status=WITH_FINANCE, handover_id=event.handover_id,
                           handed_to_finance_at=event.handed_at, handed_to_finance_on=event.business_date)
        case LostItemReported():
            return LostReport(event.report_id, event.category)
        case LostReportMatched():
            return replace(state, matched_item_id=event.item_id)
        case LostReportMatchReleased():
            closed = state.closed_task_ids + ((event.closed_task_id,) if event.closed_task_id else ())
            return replace(state, matched_item_id=None, open_task_id=None, closed_task_ids=closed)
        case VisitorContactTaskOpened():
            return replace(state, open_task_id=event.task_id)
        case VisitorContacted(task_closed=True):
            return replace(state, open_task_id=None, closed_task_ids=(*state.closed_task_ids, event.task_id))
        case FinanceHandoverListDrawn():
            return FinanceHandover(event.handover_id, event.custodian_id, event.item_ids)
        case FinanceHandoverTransferred():
            return replace(state, transferred=True)
        case FinanceHandoverSignedOff():
            return replace(state, signed_off=True, signed_by=event.signed_by)
    return state


# -- what the paper forms carry: corrections, voiding, transfers between desks -------------
#: fields of a registration a correction may change (never the finder, the
#: clerk, the channel or the hidden features: those are a new registration)
CORRECTABLE = ("item_name", "category", "description", "found_place", "found_at", "quantity", "cash_amount",
               "currency", "condition", "contents")
CORRECTORS = (TEAM_LEAD, LEAD)


@dataclass(frozen=True)
class CorrectFoundItem:
    """A typo or a wrong category put right by a recorded event (never by
    editing): ``changes`` are ``((field, new value), ...)``; cash_amount a
    Decimal."""

    item_id: str
    correction_id: str
    changes: tuple
    reason: str
    corrected_by: str
    corrected_by_role: str
    at: dt.datetime
    valuable_categories: frozenset = frozenset()
    retention: RetentionPolicy = RetentionPolicy()


@dataclass(frozen=True)
class VoidFoundItem:
    item_id: str
    reason: str
    voided_by: str
    voided_by_role: str
    at: dt.datetime
    duplicate_of: ItemFacts | None = None   # the registration this one repeats (read by the service)
    duplicate_of_id: str | None = None      # as the caller named it (None: not a duplicate)


@dataclass(frozen=True)
class SendItemToDesk:
    item_id: str
    to_desk: str
    reason: str
    sent_by: str
    at: dt.datetime


@dataclass(frozen=True)
class ReceiveItemAtDesk:
    """An item sent from another desk, or an on-site item, arrives at a desk."""

    item_id: str
    desk: str
    storage_place: str
    received_by: str
    at: dt.datetime


@dataclass(frozen=True)
class FoundItemCorrected:
    item_id: str
    correction_id: str
    corrected_fields: tuple
    item_name: str
    category: str
    description: str
    found_place: str
    found_at: dt.datetime
    quantity: int
    cash_amount: str | None
    currency: str | None
    condition: str | None
    contents: tuple
    valuable: bool
    retain_until: dt.date
    reason: str
    corrected_by: str
    corrected_by_role: str
    corrected_at: dt.datetime


@dataclass(frozen=True)
class FoundItemVoided:
    item_id: str
    duplicate_of: str | None
    reason: str
    voided_by: str
    voided_by_role: str
    voided_at: dt.datetime


@dataclass(frozen=True)
class FoundItemSentToDesk:
    item_id: str
    from_desk: str
    to_desk: str
    reason: str
    sent_by: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class FoundItemReceivedAtDesk:
    item_id: str
    from_desk: str | None           # None: it came from the site where it was found
    desk: str
    storage_place: str
    received_by: str
    received_at: dt.datetime


# -- signatures where the paper form has them ------------------------------------------------
#: part of a found item's form -> who signs it
ITEM_SIGNATURE_PARTS = {"registration_finder": "finder", "registration_clerk": "clerk",
                        "claim_claimant": "claimant", "custody_handed_by": "clerk", "custody_custodian": "custodian"}
#: part of a handover list -> who signs it
HANDOVER_SIGNATURE_PARTS = {"handover_custodian": "custodian", "handover_receiver": "receiver"}


@dataclass(frozen=True)
class CaptureSignature:
    """Who signed a part of a form, and when. ``signer_id``: the staff member
    signing with their own login (principal or cosigner) for a staff part;
    None for a visitor (the finder or claimant named on that part). The image
    may follow later (``image_ref``: a reference to the PNG the desk screen
    stored, never the image itself)."""

    document_id: str                # an item id, or a handover id for handover parts
    part: str
    signer_id: str | None
    captured_by: str
    at: dt.datetime
    image_ref: str | None = None


@dataclass(frozen=True)
class SignatureCaptured:
    item_id: str | None
    handover_id: str | None
    part: str
    signer_kind: str                # finder, clerk, claimant, custodian, receiver
    signer_id: str | None           # staff id; None for a visitor (named on the part signed)
    captured_by: str
    image_ref: str | None
    signed_at: dt.datetime


def _signer_check(part: str, expected: str | None, given: str | None, what: str) -> None:
    if expected is None:
        raise Rejected("part_not_filled", f"the {part.replace('_', ' ')} part is not filled in yet", field="part")
    if given != expected:
        raise Rejected("wrong_signer", f"the {what} of that part signs it, with their own login", field="signer")


def _already_signed(signatures: tuple, c: CaptureSignature) -> None:
    """A part is signed once; a signature taken without its image may get
    the image later (the desk screen sends it), once."""
    for part, with_image in signatures:
        if part == c.part and (with_image or c.image_ref is None):
            raise Rejected("already_signed", f"the {c.part.replace('_', ' ')} part is already signed", field="part")


def _sign_item(c: CaptureSignature, item: FoundItem) -> list:
    if item.status == VOIDED:
        raise _item_not_available(item)
    kind = ITEM_SIGNATURE_PARTS.get(c.part)
    if kind is None:
        raise Rejected("unknown_part", f"a found item's form has no part {c.part!r} to sign", field="part")
    signer_id = None
    if c.part == "registration_finder":
        signer_id = item.finder_id   # a staff finder signs on the clerk's screen; a visitor is named on the part
    elif c.part == "registration_clerk":
        _signer_check(c.part, item.registered_by, c.signer_id, "clerk who registered")
        signer_id = c.signer_id
    elif c.part == "claim_claimant":
        if item.status != CLAIMED:
            raise Rejected("part_not_filled", "the claim part is not filled in yet", field="part")
    elif c.part == "custody_handed_by":
        _signer_check(c.part, item.custody_handed_by, c.signer_id, "clerk who handed it over")
        signer_id = c.signer_id
    else:
        _signer_check(c.part, item.custodian_id, c.signer_id, "custodian")
        signer_id = c.signer_id
    _already_signed(item.signatures, c)
    return [SignatureCaptured(item.item_id, None, c.part, kind, signer_id, c.captured_by, c.image_ref, c.at)]


def _sign_handover(c: CaptureSignature, handover: FinanceHandover) -> list:
    kind = HANDOVER_SIGNATURE_PARTS.get(c.part)
    if kind is None:
        raise Rejected("unknown_part", f"a handover list has no part {c.part!r} to sign", field="part")
    if c.part == "handover_custodian":
        _signer_check(c.part, handover.custodian_id, c.signer_id, "custodian")
    else:
        _signer_check(c.part, handover.signed_by, c.signer_id, "finance receiver who signed it off")
    _already_signed(handover.signatures, c)
    return [SignatureCaptured(None, handover.handover_id, c.part, kind, c.signer_id, c.captured_by, c.image_ref,
                              c.at)]


# -- proxy claims (代领) and return by courier ----------------------------------------------
PROXY_KINDS = ("tour_guide", "hotel", "family", "other")
AUTHORISATION_METHODS = ("written", "message", "phone_call", "video_call")
#: a valuable is released to a proxy only on an authorisation the desk can keep
WRITTEN_AUTHORISATION = ("written", "message")
FEE_PAYERS = ("visitor", "center", "cash_on_delivery")


@dataclass(frozen=True)
class ClaimByProxy:
    """代领: someone else (a tour guide, the hotel) takes the item for its
    owner. ``claim`` is the claim part as the proxy fills it in (the proxy is
    the claimant present and verified); the owner and how they authorised
    the proxy are recorded beside it."""

    claim: ClaimItem
    proxy_kind: str
    organisation: str | None        # the travel agency or hotel
    owner_name: str
    owner_phone: str | None
    authorisation_method: str
    authorisation_note: str         # what the owner authorised, e.g. the message or letter's words
    authorised_at: dt.datetime

    @property
    def item_id(self) -> str:
        return self.claim.item_id

    @property
    def at(self) -> dt.datetime:
        return self.claim.at


@dataclass(frozen=True)
class ArrangeCourierReturn:
    """The owner has left the area: verified remotely (the verification
    names their ID number as any claim's does), they fill in the claim part
    remotely and the item goes by courier. ``claim`` is that claim."""

    claim: ClaimItem
    return_id: str
    recipient_name: str
    recipient_phone: str
    address: str
    fee_paid_by: str                # visitor (prepaid), center, cash_on_delivery
    fee_amount: Decimal | None = None
    fee_currency: str | None = None

    @property
    def item_id(self) -> str:
        return self.claim.item_id

    @property
    def at(self) -> dt.datetime:
        return self.claim.at


@dataclass(frozen=True)
class RecordCourierDispatch:
    item_id: str
    return_id: str
    carrier: str
    tracking_number: str
    dispatched_by: str
    at: dt.datetime


@dataclass(frozen=True)
class ClaimAuthorisedByOwner:
    item_id: str
    claim_id: str
    proxy_kind: str
    organisation: str | None
    owner_name: str
    owner_phone: str | None
    authorisation_method: str
    authorisation_note: str
    authorised_at: dt.datetime
    recorded_by: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class CourierReturnArranged:
    item_id: str
    return_id: str
    claim_id: str
    recipient_name: str
    recipient_phone: str
    address: str
    fee_paid_by: str
    fee_amount: str | None
    fee_currency: str | None
    arranged_by: str
    arranged_at: dt.datetime


@dataclass(frozen=True)
class ItemDispatchedByCourier:
    item_id: str
    return_id: str
    carrier: str
    tracking_number: str
    dispatched_by: str
    dispatched_at: dt.datetime


def _claim_by_proxy(c: ClaimByProxy, item: FoundItem) -> list:
    if c.proxy_kind not in PROXY_KINDS:
        raise Rejected("unknown_proxy_kind", f"unknown proxy kind {c.proxy_kind!r}", field="proxy_kind")
    if c.claim.claim_kind == ON_SPOT:
        raise Rejected("proxy_not_on_spot", "an on-spot claim is the owner's own", field="claim_kind")
    if c.proxy_kind in ("tour_guide", "hotel") and not c.organisation:
        raise Rejected("organisation_required", f"a {c.proxy_kind.replace('_', ' ')} names their agency or hotel",
                       field="organisation")
    if c.authorisation_method not in AUTHORISATION_METHODS:
        raise Rejected("unknown_authorisation", f"unknown authorisation {c.authorisation_method!r}",
                       field="authorisation_method")
    if item.valuable and c.authorisation_method not in WRITTEN_AUTHORISATION:
        raise Rejected("written_authorisation_required", f"valuable {item.short_code} goes to a proxy only on a "
                                                         "written or messaged authorisation the desk keeps",
                       field="authorisation_method")
    if c.authorised_at > c.claim.at:
        raise Rejected("authorised_after_claim", "the owner's authorisation comes before the claim",
                       field="authorised_at")
    claimed = _claim(c.claim, item)
    return [*claimed, ClaimAuthorisedByOwner(
        c.claim.item_id, c.claim.claim_id, c.proxy_kind, c.organisation, c.owner_name, c.owner_phone,
        c.authorisation_method, c.authorisation_note, c.authorised_at, c.claim.released_by, c.claim.at)]


def _arrange_courier(c: ArrangeCourierReturn, item: FoundItem) -> list:
    if c.claim.claim_kind == ON_SPOT or c.claim.released_by_role == TEAM_LEAD:
        raise Rejected("courier_from_the_desk", "a courier return is arranged by the desk, not on the spot",
                       field="claim_kind")
    if c.fee_paid_by not in FEE_PAYERS:
        raise Rejected("unknown_fee_payer", f"unknown fee payer {c.fee_paid_by!r}", field="fee_paid_by")
    if (c.fee_amount is None) != (c.fee_currency is None):
        raise Rejected("currency_required", "a fee and its currency go together",
                       field="fee_currency" if c.fee_currency is None else "fee_amount")
    if c.fee_amount is not None and (not c.fee_amount.is_finite() or c.fee_amount < 0):
        raise Rejected("bad_amount", "the fee is not negative", field="fee_amount")
    if c.fee_paid_by == "cash_on_delivery" and c.fee_amount is not None and c.fee_amount == 0:
        raise Rejected("bad_amount", "cash on delivery with no fee: say who pays instead", field="fee_amount")
    claimed = _claim(c.claim, item)
    return [*claimed, CourierReturnArranged(
        c.claim.item_id, c.return_id, c.claim.claim_id, c.recipient_name, c.recipient_phone, c.address,
        c.fee_paid_by, money_text(c.fee_amount), c.fee_currency, c.claim.released_by, c.claim.at)]


def _dispatch(c: RecordCourierDispatch, item: FoundItem) -> list:
    if item.courier_return_id is None or item.courier_return_id != c.return_id:
        raise Rejected("no_courier_return", f"item {item.short_code} has no courier return {c.return_id}",
                       field="return_id")
    if item.dispatched:
        raise Rejected("already_dispatched", f"item {item.short_code} has already left by courier",
                       field="return_id")
    if c.at < item.claimed_at:
        raise Rejected("dispatch_before_arrangement", "the item leaves after the return was arranged", field="at")
    return [ItemDispatchedByCourier(c.item_id, c.return_id, c.carrier, c.tracking_number, c.dispatched_by, c.at)]


# -- disposal routes besides finance: police, issuing bank, destruction -------------------
def disposal_command_id(disposal_id: str, step: str) -> str:
    """Deterministic, so a retried disposal run never repeats a step."""
    return f"disposal:{disposal_id}:{step}"


@dataclass(frozen=True)
class DrawDisposalList:
    """The custodian lists unclaimed items of one route: ID documents for the
    police station, bank cards for their issuing bank, perishables to
    destroy. ``lines`` as for finance (HandoverLine, route included)."""

    disposal_id: str
    route: str
    receiver: str | None            # the police station or bank branch; None when destroyed
    custodian_id: str
    lines: tuple
    at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True)
class DisposeItem:
    item_id: str
    disposal_id: str
    route: str
    custodian_id: str
    at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True)
class RecordDisposal:
    disposal_id: str
    disposed: tuple
    withdrawn: tuple
    at: dt.datetime


@dataclass(frozen=True)
class SignOffDisposal:
    """The receiving officer or bank clerk signs the list (name and their
    reference, e.g. a badge or receipt number: personal data); a destruction
    is signed off by a witness, an existing staff member other than the
    custodian, with their own login."""

    disposal_id: str
    signed_by: str                  # the custodian recording it
    at: dt.datetime
    receiver_name: str | None = None
    receiver_reference: str | None = None
    witness_id: str | None = None
    witness_name: str | None = None


@dataclass(frozen=True)
class DisposalListDrawn:
    disposal_id: str
    route: str
    receiver: str | None
    custodian_id: str
    item_ids: tuple
    drawn_at: dt.datetime


@dataclass(frozen=True)
class ItemDisposed:
    item_id: str
    disposal_id: str
    route: str
    custodian_id: str
    disposed_at: dt.datetime


@dataclass(frozen=True)
class DisposalRecorded:
    disposal_id: str
    disposed_item_ids: tuple
    withdrawn_item_ids: tuple       # claimed between drawing the list and handing over
    recorded_at: dt.datetime


@dataclass(frozen=True)
class DisposalSignedOff:
    disposal_id: str
    route: str
    receiver_name: str | None
    receiver_reference: str | None
    witness_id: str | None
    witness_name: str | None
    signed_by: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class Disposal:
    disposal_id: str
    route: str
    custodian_id: str
    item_ids: tuple
    recorded: bool = False
    signed_off: bool = False
    receiver_signer: str | None = None  # no staff id: the receiver signs as named on the sign-off
    witness_id: str | None = None
    signatures: tuple = ()


def _draw_disposal(c: DrawDisposalList, state) -> list:
    if not isinstance(state, Nothing):
        raise Rejected("disposal_exists", f"disposal {c.disposal_id} already exists", field="disposal_id")
    if c.route not in (POLICE, ISSUING_BANK, DESTROY):
        raise Rejected("unknown_route", f"{c.route!r} is not a disposal route (finance has its own handover)",
                       field="route")
    if c.route != DESTROY and not c.receiver:
        raise Rejected("receiver_required", f"name the receiving {'police station' if c.route == POLICE else 'bank'}",
                       field="receiver")
    ids = _check_lines(c.lines, c.business_date, c.route)
    return [DisposalListDrawn(c.disposal_id, c.route, c.receiver if c.route != DESTROY else None, c.custodian_id,
                              tuple(ids), c.at)]


def _dispose(c: DisposeItem, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    if not retention_over(item.retain_until, c.business_date):
        raise _kept(item.short_code, item.retain_until, "item_id")
    return [ItemDisposed(c.item_id, c.disposal_id, c.route, c.custodian_id, c.at)]


def _record_disposal(c: RecordDisposal, disposal) -> list:
    if not isinstance(disposal, Disposal):
        raise NotFound(f"no disposal {c.disposal_id}", field="disposal_id")
    if disposal.recorded:
        raise Rejected("already_recorded", "the disposal's items are already handed over", field="disposal_id")
    if sorted((*c.disposed, *c.withdrawn)) != sorted(disposal.item_ids):
        raise Rejected("incomplete_transfer", "every listed item must be handed over or withdrawn",
                       field="disposal_id")
    return [DisposalRecorded(c.disposal_id, tuple(c.disposed), tuple(c.withdrawn), c.at)]


def _sign_off_disposal(c: SignOffDisposal, disposal) -> list:
    if not isinstance(disposal, Disposal):
        raise NotFound(f"no disposal {c.disposal_id}", field="disposal_id")
    if not disposal.recorded:
        raise Rejected("not_transferred", "the list is signed off after its items are handed over",
                       field="disposal_id")
    if disposal.signed_off:
        raise Rejected("already_signed_off", "this list is already signed off", field="disposal_id")
    if disposal.route == DESTROY:
        if not c.witness_id:
            raise Rejected("witness_required", "a destruction is witnessed by a member of staff, with their own login",
                           field="cosigner")
        if c.witness_id in (disposal.custodian_id, c.signed_by):
            raise Rejected("witness_required", "the witness is another member of staff than the custodian",
                           field="cosigner")
        return [DisposalSignedOff(c.disposal_id, DESTROY, None, None, c.witness_id, c.witness_name, c.signed_by,
                                  c.at)]
    if not c.receiver_name or not c.receiver_reference:
        raise Rejected("receiver_required", "the receiving officer or bank clerk signs with their name and "
                                            "badge or receipt number", field="receiver_name")
    return [DisposalSignedOff(c.disposal_id, disposal.route, c.receiver_name, c.receiver_reference, None, None,
                              c.signed_by, c.at)]


def _sign_disposal(c: CaptureSignature, disposal: Disposal) -> list:
    parts = {"disposal_custodian": ("custodian", disposal.custodian_id),
             "disposal_receiver": ("receiver", None), "disposal_witness": ("witness", disposal.witness_id)}
    if c.part not in parts:
        raise Rejected("unknown_part", f"a disposal list has no part {c.part!r} to sign", field="part")
    kind, expected = parts[c.part]
    if c.part != "disposal_custodian" and not disposal.signed_off:
        raise Rejected("part_not_filled", "the sign-off is not recorded yet", field="part")
    if c.part == "disposal_receiver" and disposal.route == DESTROY:
        raise Rejected("part_not_filled", "a destruction has a witness, not a receiver", field="part")
    if c.part == "disposal_witness" and disposal.route != DESTROY:
        raise Rejected("part_not_filled", "only a destruction has a witness", field="part")
    if kind != "receiver":
        _signer_check(c.part, expected, c.signer_id, kind)
    _already_signed(disposal.signatures, c)
    return [SignatureCaptured(None, disposal.disposal_id, c.part, kind, c.signer_id if kind != "receiver" else None,
                              c.captured_by, c.image_ref, c.at)]


DISPOSAL_COMMANDS = (DrawDisposalList, RecordDisposal, SignOffDisposal)
PAPER_ITEM_COMMANDS = (CorrectFoundItem, VoidFoundItem, SendItemToDesk, ReceiveItemAtDesk, CaptureSignature,
                       ClaimByProxy, ArrangeCourierReturn, RecordCourierDispatch, DisposeItem, *DISPOSAL_COMMANDS)
PAPER_EVENTS = (FoundItemCorrected, FoundItemVoided, FoundItemSentToDesk, FoundItemReceivedAtDesk,
                SignatureCaptured, ClaimAuthorisedByOwner, CourierReturnArranged, ItemDispatchedByCourier,
                DisposalListDrawn, ItemDisposed, DisposalRecorded, DisposalSignedOff)
EVENTS = EVENTS + PAPER_EVENTS


def _correct(c: CorrectFoundItem, item: FoundItem) -> list:
    if item.status == VOIDED:
        raise _item_not_available(item)
    if c.corrected_by_role not in CORRECTORS:
        raise Rejected("not_allowed", "a team lead or the lead corrects a registration", field="corrected_by_role")
    changes = dict(c.changes)
    if not changes:
        raise Rejected("nothing_to_correct", "name at least one field to correct", field="changes")
    for name in changes:
        if name not in CORRECTABLE:
            raise Rejected("not_correctable", f"{name} cannot be corrected", field=name)
    if "cash_amount" in changes:
        changes["cash_amount"] = money_text(changes["cash_amount"])
    current = {name: getattr(item, name) for name in CORRECTABLE}
    for name, value in changes.items():
        if (tuple(value) if name == "contents" else value) == current[name]:
            raise Rejected("nothing_to_correct", f"{name} already reads so", field=name)
    after = {**current, **changes, "contents": tuple(changes.get("contents", current["contents"]))}
    amount = None if after["cash_amount"] is None else Decimal(after["cash_amount"])
    _check_particulars(after["category"], after["quantity"], amount, after["currency"], after["contents"])
    if after["found_at"] > item.turned_in_at:
        raise Rejected("found_after_turn_in", "found_at is after the turn-in", field="found_at")
    valuable = is_valuable(after["category"], after["contents"], c.valuable_categories)
    retain_until = (item.business_date or item.turned_in_at.date()) + dt.timedelta(
        days=c.retention.days(after["category"], valuable))
    return [FoundItemCorrected(c.item_id, c.correction_id, tuple(name for name in CORRECTABLE if name in changes),
                               *(after[name] for name in CORRECTABLE), valuable, retain_until, c.reason,
                               c.corrected_by, c.corrected_by_role, c.at)]


def _void(c: VoidFoundItem, item: FoundItem) -> list:
    if c.voided_by_role not in CORRECTORS:
        raise Rejected("not_allowed", "a team lead or the lead voids a registration", field="voided_by_role")
    if (refusal := _item_not_available(item)) is not None:
        raise refusal  # a claimed item was real: it is corrected, not voided
    if c.duplicate_of_id is not None:
        if c.duplicate_of_id == c.item_id:
            raise Rejected("bad_duplicate", "an item is not a duplicate of itself", field="duplicate_of")
        if c.duplicate_of is None:
            raise NotFound(f"no found item {c.duplicate_of_id}", field="duplicate_of")
        if c.duplicate_of.status == VOIDED:
            raise Rejected("bad_duplicate", f"item {c.duplicate_of.short_code} is voided itself",
                           field="duplicate_of")
    return [FoundItemVoided(c.item_id, c.duplicate_of_id, c.reason, c.voided_by, c.voided_by_role, c.at)]


def _send(c: SendItemToDesk, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    if item.status == IN_CUSTODY:
        raise Rejected("in_custody", f"item {item.short_code} is in the custodian's keeping, not at a desk",
                       field="item_id")
    if item.location == IN_TRANSIT:
        raise Rejected("in_transit", f"item {item.short_code} is already on its way to {item.to_desk}",
                       field="item_id")
    if c.to_desk == item.desk:
        raise Rejected("same_desk", f"item {item.short_code} is at {item.desk} already", field="to_desk")
    return [FoundItemSentToDesk(c.item_id, item.desk, c.to_desk, c.reason, c.sent_by, c.at)]


def _receive(c: ReceiveItemAtDesk, item: FoundItem) -> list:
    if (refusal := _item_not_available(item)) is not None:
        raise refusal
    if item.location == AT_DESK:
        raise Rejected("not_expected", f"item {item.short_code} is at {item.desk} already", field="item_id")
    if item.location == IN_TRANSIT and c.desk != item.to_desk:
        raise Rejected("wrong_desk", f"item {item.short_code} was sent to {item.to_desk}", field="desk")
    return [FoundItemReceivedAtDesk(c.item_id, item.desk if item.location == IN_TRANSIT else None, c.desk,
                                    c.storage_place, c.received_by, c.at)]


def _decide_paper(command, state) -> list:
    match command:
        case DrawDisposalList():
            return _draw_disposal(command, state)
        case RecordDisposal():
            return _record_disposal(command, state)
        case SignOffDisposal():
            return _sign_off_disposal(command, state)
    if isinstance(command, CaptureSignature):
        if isinstance(state, FinanceHandover):
            return _sign_handover(command, state)
        if isinstance(state, Disposal):
            return _sign_disposal(command, state)
        if not isinstance(state, FoundItem):
            field = "item_id" if command.part in ITEM_SIGNATURE_PARTS else "handover_id"
            raise NotFound(f"no such form {command.document_id}", field=field)
        if command.at < state.turned_in_at:
            raise Rejected("before_turn_in", "the item was not registered yet then", field="at")
        return _sign_item(command, state)
    if not isinstance(state, FoundItem):
        raise NotFound(f"no found item {command.item_id}", field="item_id")
    if command.at < state.turned_in_at:
        raise Rejected("before_turn_in", "the item was not registered yet then", field="at")
    match command:
        case CorrectFoundItem():
            return _correct(command, state)
        case VoidFoundItem():
            return _void(command, state)
        case SendItemToDesk():
            return _send(command, state)
        case ReceiveItemAtDesk():
            return _receive(command, state)
        case ClaimByProxy():
            return _claim_by_proxy(command, state)
        case ArrangeCourierReturn():
            return _arrange_courier(command, state)
        case RecordCourierDispatch():
            return _dispatch(command, state)
        case DisposeItem():
            return _dispose(command, state)
    raise TypeError(type(command).__name__)


def _evolve_paper(state, event):
    match event:
        case FoundItemCorrected():
            return replace(state, **{name: getattr(event, name) for name in CORRECTABLE},
                           valuable=event.valuable, retain_until=event.retain_until)
        case FoundItemVoided():
            return replace(state, status=VOIDED, voided_reason=event.reason)
        case FoundItemSentToDesk():
            return replace(state, location=IN_TRANSIT, to_desk=event.to_desk)
        case FoundItemReceivedAtDesk():
            return replace(state, location=AT_DESK, desk=event.desk, to_desk=None, storage_place=event.storage_place)
        case SignatureCaptured():
            return replace(state, signatures=(*state.signatures, (event.part, event.image_ref is not None)))
        case CourierReturnArranged():
            return replace(state, courier_return_id=event.return_id)
        case ItemDispatchedByCourier():
            return replace(state, dispatched=True)
        case ItemDisposed():
            return replace(state, status=DISPOSED, disposal_id=event.disposal_id, disposal_route=event.route)
        case DisposalListDrawn():
            return Disposal(event.disposal_id, event.route, event.custodian_id, event.item_ids)
        case DisposalRecorded():
            return replace(state, recorded=True)
        case DisposalSignedOff():
            return replace(state, signed_off=True, witness_id=event.witness_id)
    return state
