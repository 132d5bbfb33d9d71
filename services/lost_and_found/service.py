"""lost_and_found: found items, lost-item reports, claims, custody and the
monthly handover to finance. An adapter: contract -> command -> decide ->
append -> reply. Logs carry ids, positions and short codes only.

Config: ``VALUABLE_CATEGORIES`` (list), ``RETENTION_DAYS`` (mapping of
category, ``valuable`` or ``default`` to days), ``LF_VERIFICATION_VALID_MINUTES``
(default 120), ``LF_FAILED_VERIFICATIONS_BEFORE_LEAD`` (default 3),
``LF_SHIFT_END`` (``"18:00"``, or a mapping of desk, or ``default``, to a
local time: when a team lead's on-spot claim form is due), ``MATCHING_PLACES_FILE`` and
``MATCHING_SYNONYMS_FILE`` (the gazetteer and the vocabulary of matching;
default ``deploy/places.yaml``, ``deploy/synonyms.yaml``); ``TIMEZONE`` and
``BUSINESS_TIME_MAX_AGE_DAYS`` through the chassis (``self.site``).

Suggestions in a turn-in's or report's reply are computed after the append:
if that fails, the reply still reports the stored events, with
``suggestions_unavailable`` true.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import eventlet
from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer

import contracts
from contracts.lost_and_found import (
    CLAIM_ITEM, CLAIMANT_VIEW, CONFIRM_MATCH, DEFAULT_VALUABLE_CATEGORIES, FILE_ON_SPOT_CLAIM_FORM,
    HAND_OVER_TO_FINANCE, HAND_TO_CUSTODIAN, ITEM, RECORD_CLAIM_VERIFICATION, RECORD_VISITOR_CONTACT,
    RELEASE_MATCH, REPORT_LOST_ITEM, SIGN_OFF_FINANCE_HANDOVER, SUGGEST_MATCHES, TURN_IN_BY_STAFF, TURN_IN_BY_VISITOR,
    TURN_IN_ON_SITE,
)
from contracts.lost_and_found import (ARRANGE_COURIER_RETURN, CAPTURE_SIGNATURE, CLAIM_ITEM_BY_PROXY, CORRECT_ITEM,
                                     DISPOSE_ITEMS, RECEIVE_ITEM_AT_DESK, RECORD_COURIER_DISPATCH, SEND_ITEM_TO_DESK,
                                     SIGN_OFF_DISPOSAL, VOID_ITEM)
from contracts import roles
from services.chassis.collector import freeze
from services.chassis.decider import NotFound, Rejected
from services.chassis.dependencies import EventSourced, ReadModel, persistent_projector, protector_from_config
from services.chassis.service import ServiceBase, after_append, append_reply, contract_rpc
from services.chassis.wiring import store_from_config
from services.lost_and_found import domain, matching
from services.lost_and_found.case_index import CaseIndex
from services.staff.directory import StaffDirectory

DEFAULT_RETENTION_DAYS = {"default": 30}
SUGGESTIONS_IN_REPLY = 5
WARM_UP_CASES = 50  # cases analysed between two pauses of the warm-up (about 50 ms)
DEFAULT_VERIFICATION_VALID_MINUTES = 120
DEFAULT_FAILED_VERIFICATIONS_BEFORE_LEAD = 3
DEFAULT_SHIFT_END = "18:00"
SHORT_CODE_ATTEMPTS = 50


def retention_policy(config: dict) -> domain.RetentionPolicy:
    days = dict(DEFAULT_RETENTION_DAYS, **(config.get("RETENTION_DAYS") or {}))
    return domain.RetentionPolicy(
        default_days=int(days.pop("default")),
        valuable_days=int(days.pop("valuable")) if "valuable" in days else None,
        per_category=tuple(sorted((name, int(value)) for name, value in days.items())))


def shift_end(config: dict, desk: str) -> dt.time | None:
    """The desk's configured end of shift (``LF_SHIFT_END``: one ``"HH:MM"``
    for every desk, or a mapping of desk or ``default`` to one); None when it
    is set empty (the form is then due by the end of the local day)."""
    value = config.get("LF_SHIFT_END", DEFAULT_SHIFT_END)
    if isinstance(value, dict):
        value = value.get(desk, value.get("default", DEFAULT_SHIFT_END))
    if value in (None, ""):
        return None
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 18:00 as sexagesimal minutes (1080)
        return dt.time(value // 60, value % 60)
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def claimant_key(vault, item_id: str, id_number: str) -> str:
    """What binds a verification to its claimant: a keyed hash of the ID
    number, scoped to the item (it links the person to nothing else)."""
    return vault.keyed_hash(f"lost_and_found.verification:{item_id}", "id_number", id_number)


def disposal_route(config: dict, category: str) -> str:
    """``DISPOSAL_ROUTES``: category -> finance, police, issuing_bank or
    destroy; a category not named goes to finance."""
    return (config.get("DISPOSAL_ROUTES") or {}).get(category, domain.FINANCE_ROUTE)


def amount(text: str | None) -> Decimal | None:
    """The contract's decimal string as a Decimal (never through float)."""
    return None if text is None else Decimal(text)


_PREPARING = Semaphore()


def prepared(matcher: matching.Matcher) -> matching.Matcher:
    """The matcher with jieba's dictionary loaded: about a second of pure
    Python, once per process, in a thread of eventlet's pool, so the hub
    goes on serving meanwhile (in the hub it stopped every request of a
    fresh start for that second). A second caller waits for the first's load."""
    if not matcher.prepared:
        with _PREPARING:
            if not matcher.prepared:
                tpool.execute(matcher.prepare)
    return matcher


class Cases(DependencyProvider):
    """An in-process projector over the case index (open reports, unclaimed
    items, short codes), caught up from the store before each use. Like the
    forms service's, it resumes from its newest snapshot (``READMODEL_*``)
    when the container starts and writes one every so many events or seconds
    and when it stops, so a restart reads only what is new."""

    def setup(self):
        config = self.container.config
        self.store = store_from_config(config)
        self.matcher = matcher = matching.load_matcher(config.get("MATCHING_PLACES_FILE"),
                                                       config.get("MATCHING_SYNONYMS_FILE"))
        # matching reads the items' hidden features: opened here, kept in memory only
        self.vault, protector = protector_from_config(config)
        self.projector = persistent_projector(config, self.store, [CaseIndex(matcher, protector.open)],
                                              "lost_and_found.cases")
        self.readmodels = self.projector.readmodels

    def start(self):
        # the service answers at once: reading the snapshot back, catching up (a rebuild from
        # scratch, without one) and loading the segmenter's dictionary happen in the warm-up; a
        # request that needs the index meanwhile catches it up itself
        self.restored = self.projector.restore(lazily=True, catch_up=False)
        self._warm_up = self.container.spawn_managed_thread(self._warm)

    def _warm(self):
        """After a start: read the snapshot back, catch up and analyse what
        it did not hold, a little at a time, so the first suggestions (and
        the next snapshot) find the pool ready."""
        while self.projector.restore_pending():
            eventlet.sleep(0)
        self.projector.catch_up()
        prepared(self.matcher)
        index = self.projector.fold(CaseIndex)
        while index.analyse_pending(WARM_UP_CASES):
            eventlet.sleep(0)
        freeze()  # the case index in memory: no full collection walks it again (services/chassis/collector.py)

    def stop(self):
        self._warm_up.kill()
        try:
            if self.projector.changed:  # never used since the start: the newest snapshot still holds
                self.projector.catch_up()
                self.projector.snapshot()
        finally:
            if self.readmodels is not None:
                self.readmodels.close()
            self.store.close()
            self.vault.close()

    def get_dependency(self, worker_ctx):
        return self.projector


class LostAndFoundService(ServiceBase):
    name = "lost_and_found"
    ledger = EventSourced(domain, domain.EVENTS)
    cases = Cases()
    staff = ReadModel(StaffDirectory)
    config = Config()

    # -- helpers -------------------------------------------------------------------
    def _desk_date(self, moment: dt.datetime) -> dt.date:
        return self.desk_date(moment)

    def _verification_valid_for(self) -> dt.timedelta:
        return dt.timedelta(minutes=int(self.config.get("LF_VERIFICATION_VALID_MINUTES",
                                                        DEFAULT_VERIFICATION_VALID_MINUTES)))

    def _claimant_key(self, item_id: str, id_number: str) -> str:
        return claimant_key(self.privacy.vault, item_id, id_number)

    def _free_short_code(self, index: CaseIndex, item_id: str) -> str:
        """The item's short code: the first derivation no other item holds
        (see ``domain.short_code``)."""
        for attempt in range(SHORT_CODE_ATTEMPTS):
            code = domain.short_code(item_id, attempt)
            if index.short_code_holder(code) in (None, item_id):
                return code
        raise RuntimeError(f"no free short code for item {item_id} in {SHORT_CODE_ATTEMPTS} attempts")

    def _item_facts(self, item_id: str, index: CaseIndex | None = None) -> domain.ItemFacts | None:
        item = self.ledger.state(domain.item_stream(item_id))
        if not isinstance(item, domain.FoundItem):
            return None
        return domain.ItemFacts(item.item_id, item.short_code, item.status, item.claim_report_id,
                                index.matched_report(item_id) if index is not None else None)

    def _index(self) -> CaseIndex:
        self.cases.catch_up()
        return self.cases.fold(CaseIndex)

    def _matching_index(self) -> CaseIndex:
        """The case index, ready to analyse cases (for suggestions)."""
        index = self._index()
        prepared(index.matcher)
        return index

    def _suggestions_after_append(self, kind: str, subject_id: str, result) -> dict:
        suggestions, available = after_append(
            self.log, "suggestions", lambda: self._matching_index().suggestions(kind, subject_id, SUGGESTIONS_IN_REPLY),
            [], stream=result.stream_id, position=result.last_position)
        return {"suggestions": suggestions, "suggestions_unavailable": not available}

    def _execute(self, stream_id, command, request, *, at, desk=None, command_id=None):
        """The events' actor (and cosigner) come from the call's principals."""
        return self.ledger.execute(stream_id, command, occurred_at=at, desk=desk,
                                   command_id=command_id or request.get("command_id"),
                                   correlation_id=request.get("correlation_id"))

    def _acting(self, *preferred: str) -> tuple[str, str]:
        """The caller's staff id and the role they act in: the first of
        ``preferred`` they hold (the contract let only those roles in)."""
        principal = self.auth.principal
        return principal.staff_id, next(role for role in preferred if role in principal.roles)

    def _staff_member(self, staff_id: str, field: str):
        """A staff member named by id in the payload (a finder, a witness): an
        existing, active account, or a not_found naming the field."""
        self.staff.catch_up()
        entry = self.staff.fold(StaffDirectory).active(staff_id)
        if entry is None:
            raise NotFound(f"no active staff account {staff_id}", field=field)
        return entry

    def _found_item(self, item_id: str) -> domain.FoundItem:
        state = self.ledger.state(domain.item_stream(item_id))
        if not isinstance(state, domain.FoundItem):
            raise NotFound(f"no found item {item_id}", field="item_id")
        return state

    # -- turn-in -----------------------------------------------------------------------
    def _turn_in(self, request, channel, *, finder_kind, finder_name, finder_phone=None, finder_id=None,
                 witness_id=None, witness_name=None, owner_urgent=False):
        registered_by, registered_by_role = self._acting(domain.CLERK, domain.TEAM_LEAD)
        now = self.clock()
        at = self.business_time(request["at"], now)
        found_at = self.business_time(request["found_at"], now, "found_at")
        item_id = request["item_id"] or uuid.uuid4().hex
        command = domain.TurnInFoundItem(
            item_id=item_id, short_code=self._free_short_code(self._index(), item_id),
            desk=request["desk"], channel=channel,
            item_name=request["item_name"], category=request["category"], description=request["description"],
            found_place=request["found_place"], found_at=found_at, finder_kind=finder_kind, finder_id=finder_id,
            finder_name=finder_name, finder_phone=finder_phone,
            finder_department=request.get("finder_department"), registered_by=registered_by,
            registered_by_role=registered_by_role, storage_place=request["storage_place"], at=at,
            business_date=self._desk_date(at),
            hidden_features=tuple((f["label"], f["detail"]) for f in request["hidden_features"]),
            witness_id=witness_id, witness_name=witness_name, owner_urgent=owner_urgent,
            valuable_categories=frozenset(self.config.get("VALUABLE_CATEGORIES", DEFAULT_VALUABLE_CATEGORIES)),
            retention=retention_policy(self.config), quantity=request["quantity"],
            cash_amount=amount(request["cash_amount"]), currency=request["currency"],
            condition=request["condition"], contents=tuple(request["contents"]))
        result = self._execute(domain.item_stream(command.item_id), command, request, at=at, desk=request["desk"])
        events = [self.ledger.decode(record) for record in result.events]
        turned_in = events[0]
        receipt = next((e for e in events if isinstance(e, domain.FoundItemReceiptIssued)), None)
        card = next((e for e in events if isinstance(e, domain.ItemInformationCardIssued)), None)
        self.log.info("found_item.turned_in", stream=result.stream_id, position=result.last_position,
                      short_code=turned_in.short_code, duplicate=result.duplicate)
        return {**append_reply(result), "item_id": turned_in.item_id, "short_code": turned_in.short_code,
                "form": domain.FORM_OF_CHANNEL[turned_in.channel], "valuable": turned_in.valuable,
                "retain_until": turned_in.retain_until, "receipt_no": receipt.receipt_no if receipt else None,
                "qr_payload": card.qr_payload if card else None,
                **self._suggestions_after_append("item", turned_in.item_id, result)}

    @timer(interval=5)
    def save_case_index(self):
        """Keeps the case index's snapshot close to the log (nothing when idle)."""
        self.cases.catch_up()
        return {"snapshot_at": self.cases.snapshot_position} if self.cases.maybe_snapshot() else None

    @contract_rpc(TURN_IN_BY_STAFF)
    def turn_in_by_staff(self, request):
        finder = self._staff_member(request["finder_id"], "finder_id")
        return self._turn_in(request, domain.DESK_STAFF, finder_kind="staff", finder_id=finder.staff_id,
                             finder_name=finder.display_name)

    @contract_rpc(TURN_IN_BY_VISITOR)
    def turn_in_by_visitor(self, request):
        return self._turn_in(request, domain.DESK_VISITOR, finder_kind="visitor",
                             finder_name=request["finder_name"], finder_phone=request["finder_phone"])

    @contract_rpc(TURN_IN_ON_SITE)
    def turn_in_on_site(self, request):
        finder = self._staff_member(request["finder_id"], "finder_id")
        witness = self._staff_member(request["witness_id"], "witness_id") if request["witness_id"] else None
        return self._turn_in(request, domain.ON_SITE, finder_kind="staff", finder_id=finder.staff_id,
                             finder_name=finder.display_name, witness_id=witness and witness.staff_id,
                             witness_name=witness and witness.display_name, owner_urgent=request["owner_urgent"])

    # -- lost-item reports and matching ------------------------------------------------
    @contract_rpc(REPORT_LOST_ITEM)
    def report_lost_item(self, request):
        now = self.clock()
        at = self.business_time(request["at"], now)
        command = domain.ReportLostItem(
            report_id=request["report_id"] or uuid.uuid4().hex, desk=request["desk"],
            item_name=request["item_name"], category=request["category"], description=request["description"],
            features=request["features"], lost_place=request["lost_place"],
            lost_from=self.business_time(request["lost_from"], now, "lost_from"),
            lost_until=self.business_time(request["lost_until"], now, "lost_until"),
            visitor_name=request["visitor_name"], visitor_phone=request["visitor_phone"],
            received_by=self.auth.principal.staff_id, at=at, business_date=self._desk_date(at))
        result = self._execute(domain.report_stream(command.report_id), command, request, at=at,
                               desk=request["desk"])
        report = self.ledger.decode(result.events[0])
        self.log.info("lost_item.reported", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "report_id": report.report_id,
                **self._suggestions_after_append("report", report.report_id, result)}

    @contract_rpc(SUGGEST_MATCHES)
    def suggest_matches(self, request):
        index = self._matching_index()
        kind, subject_id = ("item", request["item_id"]) if request["item_id"] else ("report", request["report_id"])
        if not index.knows(kind, subject_id):
            raise NotFound(f"no {'found item' if kind == 'item' else 'lost-item report'} {subject_id}",
                           field=f"{kind}_id")
        return {"subject_id": subject_id, "subject_kind": kind,
                "suggestions": index.suggestions(kind, subject_id, request["limit"]),
                "as_of_position": self.cases.position}

    @contract_rpc(CONFIRM_MATCH)
    def confirm_match(self, request):
        at = self.business_time(request["at"], self.clock())
        index = self._index()
        facts = self._item_facts(request["item_id"], index)
        report = self.ledger.state(domain.report_stream(request["report_id"]))
        current = None
        if isinstance(report, domain.LostReport) and report.matched_item_id is not None:
            current = self._item_facts(report.matched_item_id)
        command = domain.ConfirmMatch(request["report_id"], facts, f"contact-{uuid.uuid4().hex[:12]}",
                                      self.auth.principal.staff_id, at, current)
        result = self._execute(domain.report_stream(request["report_id"]), command, request, at=at,
                               desk=request["desk"])
        task = self.ledger.decode(result.events[-1])
        self.log.info("lost_report.matched", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "task_id": task.task_id}

    @contract_rpc(RELEASE_MATCH)
    def release_match(self, request):
        at = self.business_time(request["at"], self.clock())
        report = self.ledger.state(domain.report_stream(request["report_id"]))
        current = None
        if isinstance(report, domain.LostReport) and report.matched_item_id is not None:
            current = self._item_facts(report.matched_item_id)
        command = domain.ReleaseMatch(request["report_id"], request["reason"], self.auth.principal.staff_id, at,
                                      current)
        result = self._execute(domain.report_stream(request["report_id"]), command, request, at=at,
                               desk=request["desk"])
        self.log.info("lost_report.match_released", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return append_reply(result)

    @contract_rpc(RECORD_VISITOR_CONTACT)
    def record_visitor_contact(self, request):
        at = self.business_time(request["at"], self.clock())
        command = domain.RecordVisitorContact(request["report_id"], request["task_id"],
                                              self.auth.principal.staff_id, request["outcome"], at)
        result = self._execute(domain.report_stream(request["report_id"]), command, request, at=at,
                               desk=request["desk"])
        contacted = self.ledger.decode(result.events[0])
        self.log.info("visitor.contacted", stream=result.stream_id, position=result.last_position,
                      outcome=contacted.outcome)
        return {**append_reply(result), "task_closed": contacted.task_closed}

    # -- claims ------------------------------------------------------------------------
    @contract_rpc(RECORD_CLAIM_VERIFICATION)
    def record_claim_verification(self, request):
        at = self.business_time(request["at"], self.clock())
        verified_by, role = self._acting(domain.CLERK, domain.CUSTODIAN, domain.TEAM_LEAD)
        lead = self.auth.optional_cosigner({roles.LEAD, roles.TEAM_LEAD},
                                           "a verification after repeated failed ones")
        command = domain.RecordClaimVerification(
            request["item_id"], request["verification_id"] or f"verification-{uuid.uuid4().hex[:12]}",
            request["claimant_description"], tuple(request["matched_features"]), request["description_matched"],
            request["decision"], verified_by, role, at,
            claimant_key=self._claimant_key(request["item_id"], request["claimant_id_number"]),
            lead_cosigner=lead.staff_id if lead else None,
            failed_before_lead=int(self.config.get("LF_FAILED_VERIFICATIONS_BEFORE_LEAD",
                                                   DEFAULT_FAILED_VERIFICATIONS_BEFORE_LEAD)))
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=at,
                               desk=request["desk"])
        verification = self.ledger.decode(result.events[0])
        self.log.info("claim.verified", stream=result.stream_id, position=result.last_position,
                      decision=verification.decision)
        return {**append_reply(result), "verification_id": verification.verification_id,
                "decision": verification.decision,
                "valid_until": verification.verified_at + self._verification_valid_for()}

    @contract_rpc(CLAIM_ITEM)
    def claim_item(self, request):
        at = self.business_time(request["at"], self.clock())
        command = self._claim_command(request, at)
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=at,
                               desk=request["desk"])
        claimed = self.ledger.decode(result.events[0])
        self.log.info("found_item.claimed", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "claim_id": claimed.claim_id, "claim_form": claimed.claim_form,
                "on_spot_form_due": claimed.on_spot_form_due}

    def _claim_command(self, request, at) -> domain.ClaimItem:
        """The claim part as the caller records it (also for a proxy's claim
        and a courier return)."""
        released_by, role = self._acting(domain.CLERK, domain.CUSTODIAN, domain.TEAM_LEAD)
        team_lead = role == domain.TEAM_LEAD
        custodian = self.auth.optional_cosigner({roles.CUSTODIAN}, "releasing an item in custody")
        report = None
        if request["report_id"]:
            state = self.ledger.state(domain.report_stream(request["report_id"]))
            if isinstance(state, domain.LostReport):
                report = domain.ReportFacts(state.report_id, state.matched_item_id)
        command = domain.ClaimItem(
            item_id=request["item_id"], claim_id=request["claim_id"] or f"claim-{uuid.uuid4().hex[:12]}",
            verification_id=request["verification_id"], claim_kind=request["claim_kind"],
            claimant_name=request["claimant_name"], claimant_phone=request["claimant_phone"],
            claimant_id_type=request["claimant_id_type"], claimant_id_number=request["claimant_id_number"],
            released_by=released_by, released_by_role=role, at=at, business_date=self._desk_date(at),
            claimant_key=self._claimant_key(request["item_id"], request["claimant_id_number"]),
            verification_valid_for=self._verification_valid_for(),
            report_id=request["report_id"], report=report, custodian_id=custodian.staff_id if custodian else None,
            on_spot_form_due=domain.on_spot_form_due(at, self.site.zone, shift_end(self.config, request["desk"]))
            if team_lead else None)
        return command

    @contract_rpc(FILE_ON_SPOT_CLAIM_FORM)
    def file_on_spot_claim_form(self, request):
        at = self.business_time(request["at"], self.clock())
        command = domain.FileOnSpotClaimForm(request["item_id"], self.auth.principal.staff_id, at)
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=at,
                               desk=request["desk"])
        filed = self.ledger.decode(result.events[0])
        self.log.info("on_spot_claim.filed", stream=result.stream_id, position=result.last_position, late=filed.late)
        return {**append_reply(result), "late": filed.late}

    # -- custody and disposal --------------------------------------------------------------
    @contract_rpc(HAND_TO_CUSTODIAN)
    def hand_to_custodian(self, request):
        at = self.business_time(request["at"], self.clock())
        custodian = self.auth.principal_or_cosigner({roles.CUSTODIAN}, "handing an item to the custodian")
        principal = self.auth.principal
        # a clerk hands over at the desk they are logged in at (their principal's desk; the typed desk only
        # for a login without one); a custodian collecting it themselves is not bound to a desk
        desk = "" if principal.holds({roles.CUSTODIAN}) else (principal.desk or request["desk"])
        command = domain.HandToCustodian(request["item_id"], principal.staff_id, custodian.staff_id,
                                         request["storage_place"], at, desk=desk)
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=at,
                               desk=request["desk"])
        self.log.info("found_item.in_custody", stream=result.stream_id, position=result.last_position)
        return append_reply(result)

    @contract_rpc(HAND_OVER_TO_FINANCE)
    def hand_over_to_finance(self, request):
        """Draw the list, hand each item over on its own stream, record the
        outcome. Every step has a command id derived from the handover id, so
        calling again after a crash completes the run without repeating a step."""
        at = self.business_time(request["at"], self.clock())
        today = self._desk_date(at)
        handover_id = request["handover_id"]
        index = self._index()
        item_ids = request["item_ids"] or self._due_on_route(index, today, domain.FINANCE_ROUTE)
        lines = [self._disposal_line(index, item_id) for item_id in item_ids]
        draw = domain.DrawFinanceHandoverList(handover_id, request["month"], self.auth.principal.staff_id,
                                              tuple(lines), at, today)
        drawn_result = self._execute(domain.handover_stream(handover_id), draw, request, at=at,
                                     command_id=domain.finance_step_command_id(handover_id, "drawn"))
        drawn = self.ledger.decode(drawn_result.events[0])
        steps = [self._step(drawn_result)]
        transferred, withdrawn = [], []
        for item_id in drawn.item_ids:
            command = domain.HandItemToFinance(item_id, handover_id, drawn.custodian_id, at, today,
                                               index.matched_report(item_id))
            try:
                result = self._execute(domain.item_stream(item_id), command, request, at=at,
                                       command_id=domain.finance_transfer_command_id(handover_id, item_id))
            except Rejected as refusal:
                if refusal.code not in ("already_claimed", "handed_to_finance", "matched_to_open_report"):
                    raise
                withdrawn.append(item_id)
                steps.append({"stream_id": domain.item_stream(item_id), "positions": [], "duplicate": False,
                              "refused": refusal.code})
                continue
            transferred.append(item_id)
            steps.append(self._step(result))
        outcome = domain.RecordFinanceTransfer(handover_id, tuple(transferred), tuple(withdrawn), at)
        outcome_result = self._execute(domain.handover_stream(handover_id), outcome, request, at=at,
                                       command_id=domain.finance_step_command_id(handover_id, "transferred"))
        recorded = self.ledger.decode(outcome_result.events[0])
        steps.append(self._step(outcome_result))
        self.log.info("finance_handover.done", stream=outcome_result.stream_id,
                      position=outcome_result.last_position, items=len(drawn.item_ids))
        return {"handover_id": handover_id, "item_ids": list(drawn.item_ids),
                "transferred_item_ids": list(recorded.transferred_item_ids),
                "withdrawn_item_ids": list(recorded.withdrawn_item_ids), "steps": steps}

    @staticmethod
    def _step(result) -> dict:
        return {"stream_id": result.stream_id, "positions": [e.position for e in result.events],
                "duplicate": result.duplicate, "refused": None}

    @contract_rpc(SIGN_OFF_FINANCE_HANDOVER)
    def sign_off_finance_handover(self, request):
        at = self.business_time(request["at"], self.clock())
        finance = self.auth.principal_or_cosigner({roles.FINANCE}, "signing the handover off")
        command = domain.SignOffFinanceHandover(request["handover_id"], finance.staff_id, finance.name, at)
        result = self._execute(domain.handover_stream(request["handover_id"]), command, request, at=at)
        self.log.info("finance_handover.signed_off", stream=result.stream_id, position=result.last_position)
        return append_reply(result)

    # -- queries -----------------------------------------------------------------------------
    @contract_rpc(ITEM)
    def item(self, request):
        item_id = request["item_id"]
        if item_id is None:
            item_id = self._index().short_code_holder(request["short_code"])
            if item_id is None:
                raise NotFound(f"no found item with code {request['short_code']}", field="short_code")
        item = self._found_item(item_id)
        today = self._desk_date(self.clock())
        # who holds an item in custody is for custodians and the lead: a clerk's release needs any
        # custodian's own login, never their id
        sees_custodian = self.auth.principal.holds({roles.CUSTODIAN, roles.LEAD})
        return {
            **{key: getattr(item, key) for key in (
                "item_id", "short_code", "desk", "channel", "item_name", "category", "description", "found_place",
                "found_at", "storage_place", "valuable", "retain_until", "status", "claim_id", "handover_id",
                "quantity", "cash_amount", "currency", "condition", "location", "to_desk")},
            "contents": list(item.contents),
            "custodian_id": item.custodian_id if sees_custodian else None,
            "custody_required": item.status in (domain.HELD, domain.IN_CUSTODY)
            and domain.custody_required(item, today),
            "custody_overdue": domain.custody_overdue(item, today),
            "failed_verifications": item.failed_verifications,
            "lead_required": item.failed_verifications >= int(self.config.get(
                "LF_FAILED_VERIFICATIONS_BEFORE_LEAD", DEFAULT_FAILED_VERIFICATIONS_BEFORE_LEAD)),
            "form": domain.FORM_OF_CHANNEL[item.channel],
            "hidden_features": [{"label": label, "detail": detail} for label, detail in item.hidden_features],
            "verifications": [{"verification_id": v.verification_id, "decision": v.decision}
                              for v in item.verifications],
            "version": self.ledger.store.stream_version(domain.item_stream(item.item_id))}

    @contract_rpc(CLAIMANT_VIEW)
    def claimant_view(self, request):
        item_id = self._index().short_code_holder(request["short_code"])
        if item_id is None:
            raise NotFound(f"no found item with code {request['short_code']}", field="short_code")
        item = self._found_item(item_id)
        status, where = {
            domain.HELD: ("waiting for its owner", f"the visitor service desk {item.desk}"),
            domain.IN_CUSTODY: ("kept by the lost-and-found custodian (失物招领负责人)",
                                f"the visitor service desk {item.desk}, which calls the custodian"),
            domain.CLAIMED: ("returned to its owner", "nowhere: it has been claimed"),
            domain.WITH_FINANCE: ("handed to finance (财务部)", "the finance department (财务部)"),
            domain.VOIDED: ("registered by mistake (voided)", f"the visitor service desk {item.desk}"),
            domain.DISPOSED: (f"unclaimed, handed to {domain.DISPOSAL_ROUTES.get(item.disposal_route, '')}",
                              "the receiver named on the disposal list; ask the desk"
                              if item.disposal_route != domain.DESTROY else "nowhere: it was destroyed"),
        }[item.status]
        if item.location == domain.IN_TRANSIT:
            where = f"on its way to the visitor service desk {item.to_desk}"
        elif item.courier_return_id is not None and item.status == domain.CLAIMED:
            status = "sent to its owner by courier" if item.dispatched else "to be sent to its owner by courier"
        return {"short_code": item.short_code, "item_name": item.item_name, "category": item.category,
                "found_place": item.found_place, "found_on": self._desk_date(item.found_at), "desk": item.desk,
                "status": status, "where": where}

    # -- what the paper forms carry: corrections, voiding, transfers ----------------------------
    def _item_command(self, request, command, log_name: str):
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=command.at,
                               desk=request.get("desk"))
        self.log.info(log_name, stream=result.stream_id, position=result.last_position, duplicate=result.duplicate)
        return result

    @contract_rpc(CORRECT_ITEM)
    def correct_item(self, request):
        now = self.clock()
        at = self.business_time(request["at"], now)
        corrected_by, role = self._acting(domain.TEAM_LEAD, domain.LEAD)
        changes = []
        for name in domain.CORRECTABLE:
            if name not in request:
                continue
            value = request[name]
            if name == "cash_amount":
                value = amount(value)
            elif name == "found_at":
                value = self.business_time(value, now, "found_at")
            elif name == "contents":
                value = tuple(value)
            changes.append((name, value))
        command = domain.CorrectFoundItem(
            request["item_id"], request["correction_id"] or f"correction-{uuid.uuid4().hex[:12]}", tuple(changes),
            request["reason"], corrected_by, role, at,
            valuable_categories=frozenset(self.config.get("VALUABLE_CATEGORIES", DEFAULT_VALUABLE_CATEGORIES)),
            retention=retention_policy(self.config))
        result = self._item_command(request, command, "found_item.corrected")
        corrected = self.ledger.decode(result.events[0])
        return {**append_reply(result), "correction_id": corrected.correction_id,
                "corrected_fields": list(corrected.corrected_fields), "valuable": corrected.valuable,
                "retain_until": corrected.retain_until}

    @contract_rpc(VOID_ITEM)
    def void_item(self, request):
        at = self.business_time(request["at"], self.clock())
        voided_by, role = self._acting(domain.TEAM_LEAD, domain.LEAD)
        duplicate_of = None
        if request["duplicate_of"]:
            other = self.ledger.state(domain.item_stream(request["duplicate_of"]))
            if isinstance(other, domain.FoundItem):
                duplicate_of = domain.ItemFacts(other.item_id, other.short_code, other.status)
        command = domain.VoidFoundItem(request["item_id"], request["reason"], voided_by, role, at,
                                       duplicate_of=duplicate_of, duplicate_of_id=request["duplicate_of"])
        return append_reply(self._item_command(request, command, "found_item.voided"))

    @contract_rpc(SEND_ITEM_TO_DESK)
    def send_item_to_desk(self, request):
        at = self.business_time(request["at"], self.clock())
        command = domain.SendItemToDesk(request["item_id"], request["to_desk"], request["reason"],
                                        self.auth.principal.staff_id, at)
        return append_reply(self._item_command(request, command, "found_item.sent_to_desk"))

    @contract_rpc(RECEIVE_ITEM_AT_DESK)
    def receive_item_at_desk(self, request):
        at = self.business_time(request["at"], self.clock())
        command = domain.ReceiveItemAtDesk(request["item_id"], request["desk"], request["storage_place"],
                                           self.auth.principal.staff_id, at)
        return append_reply(self._item_command(request, command, "found_item.received_at_desk"))

    # -- signatures ------------------------------------------------------------------------------
    #: who signs a staff part: the caller, or the cosigner holding the role (None: a visitor's part)
    _SIGNERS = {"registration_clerk": None, "custody_handed_by": None,
                "custody_custodian": roles.CUSTODIAN, "handover_custodian": roles.CUSTODIAN,
                "disposal_custodian": roles.CUSTODIAN, "handover_receiver": roles.FINANCE}

    @contract_rpc(CAPTURE_SIGNATURE)
    def capture_signature(self, request):
        at = self.business_time(request["at"], self.clock())
        part = request["part"]
        if part in ("registration_clerk", "custody_handed_by"):
            signer_id = self.auth.principal.staff_id
        elif part in self._SIGNERS:
            signer_id = self.auth.principal_or_cosigner({self._SIGNERS[part]}, f"signing the {part} part").staff_id
        elif part == "disposal_witness":
            signer_id = self.auth.cosigner(roles.ALL, "the witness signs with their own login").staff_id
        else:
            signer_id = None  # a visitor signs on the desk screen
        if request["item_id"]:
            stream = domain.item_stream(request["item_id"])
        elif part.startswith("disposal_"):
            stream = domain.disposal_stream(request["handover_id"])
        else:
            stream = domain.handover_stream(request["handover_id"])
        # image_ref is optional (the image may follow): absent from the loaded request then
        command = domain.CaptureSignature(request["item_id"] or request["handover_id"], part, signer_id,
                                          self.auth.principal.staff_id, at, request.get("image_ref"))
        result = self._execute(stream, command, request, at=at, desk=request["desk"])
        signed = self.ledger.decode(result.events[0])
        self.log.info("signature.captured", stream=result.stream_id, position=result.last_position, part=part)
        return {**append_reply(result), "part": signed.part, "signer_kind": signed.signer_kind,
                "signer_id": signed.signer_id}

    # -- proxy claims and return by courier ---------------------------------------------------------
    @contract_rpc(CLAIM_ITEM_BY_PROXY)
    def claim_item_by_proxy(self, request):
        now = self.clock()
        at = self.business_time(request["at"], now)
        command = domain.ClaimByProxy(
            self._claim_command(request, at), request["proxy_kind"], request["organisation"],
            request["owner_name"], request["owner_phone"], request["authorisation_method"],
            request["authorisation_note"], self.business_time(request["authorised_at"], now, "authorised_at"))
        result = self._item_command(request, command, "found_item.claimed_by_proxy")
        claimed = self.ledger.decode(result.events[0])
        return {**append_reply(result), "claim_id": claimed.claim_id, "claim_form": claimed.claim_form,
                "on_spot_form_due": claimed.on_spot_form_due}

    @contract_rpc(ARRANGE_COURIER_RETURN)
    def arrange_courier_return(self, request):
        at = self.business_time(request["at"], self.clock())
        command = domain.ArrangeCourierReturn(
            self._claim_command(request, at), request["return_id"] or f"courier-{uuid.uuid4().hex[:12]}",
            request["recipient_name"], request["recipient_phone"], request["address"], request["fee_paid_by"],
            amount(request["fee_amount"]), request["fee_currency"])
        result = self._item_command(request, command, "found_item.courier_return_arranged")
        claimed, arranged = (self.ledger.decode(record) for record in result.events)
        return {**append_reply(result), "claim_id": claimed.claim_id, "claim_form": claimed.claim_form,
                "on_spot_form_due": None, "return_id": arranged.return_id}

    @contract_rpc(RECORD_COURIER_DISPATCH)
    def record_courier_dispatch(self, request):
        at = self.business_time(request["at"], self.clock())
        command = domain.RecordCourierDispatch(request["item_id"], request["return_id"], request["carrier"],
                                               request["tracking_number"], self.auth.principal.staff_id, at)
        return append_reply(self._item_command(request, command, "found_item.dispatched_by_courier"))

    # -- disposal routes besides finance ------------------------------------------------------------
    def _due_on_route(self, index, today, route: str) -> list[str]:
        return [item_id for item_id in index.due_for_finance(today)
                if disposal_route(self.config, index.open_items[item_id]["category"]) == route]

    def _disposal_line(self, index, item_id: str) -> domain.HandoverLine:
        state = self.ledger.state(domain.item_stream(item_id))
        if not isinstance(state, domain.FoundItem):
            return domain.HandoverLine(item_id, None, None)
        return domain.HandoverLine(item_id, state.status, state.retain_until, index.matched_report(item_id),
                                   disposal_route(self.config, state.category))

    @contract_rpc(DISPOSE_ITEMS)
    def dispose_items(self, request):
        """As the finance handover: draw the list, dispose of each item on its
        own stream, record the outcome; every step's command id derives from
        the disposal id, so calling again after a crash completes the run."""
        at = self.business_time(request["at"], self.clock())
        today = self._desk_date(at)
        disposal_id, route = request["disposal_id"], request["route"]
        index = self._index()
        item_ids = request["item_ids"] or self._due_on_route(index, today, route)
        lines = tuple(self._disposal_line(index, item_id) for item_id in item_ids)
        draw = domain.DrawDisposalList(disposal_id, route, request["receiver"], self.auth.principal.staff_id, lines,
                                       at, today)
        stream = domain.disposal_stream(disposal_id)
        drawn_result = self._execute(stream, draw, request, at=at,
                                     command_id=domain.disposal_command_id(disposal_id, "drawn"))
        drawn = self.ledger.decode(drawn_result.events[0])
        steps, disposed, withdrawn = [self._step(drawn_result)], [], []
        for item_id in drawn.item_ids:
            command = domain.DisposeItem(item_id, disposal_id, drawn.route, drawn.custodian_id, at, today)
            try:
                result = self._execute(domain.item_stream(item_id), command, request, at=at,
                                       command_id=domain.disposal_command_id(disposal_id, item_id))
            except Rejected as refusal:
                if refusal.code not in ("already_claimed", "handed_to_finance", "disposed", "voided"):
                    raise
                withdrawn.append(item_id)
                steps.append({"stream_id": domain.item_stream(item_id), "positions": [], "duplicate": False,
                              "refused": refusal.code})
                continue
            disposed.append(item_id)
            steps.append(self._step(result))
        outcome_result = self._execute(stream, domain.RecordDisposal(disposal_id, tuple(disposed), tuple(withdrawn),
                                                                     at),
                                       request, at=at, command_id=domain.disposal_command_id(disposal_id, "recorded"))
        recorded = self.ledger.decode(outcome_result.events[0])
        steps.append(self._step(outcome_result))
        self.log.info("disposal.done", stream=outcome_result.stream_id, position=outcome_result.last_position,
                      items=len(drawn.item_ids), route=drawn.route)
        return {"disposal_id": disposal_id, "route": drawn.route, "item_ids": list(drawn.item_ids),
                "disposed_item_ids": list(recorded.disposed_item_ids),
                "withdrawn_item_ids": list(recorded.withdrawn_item_ids), "steps": steps}

    @contract_rpc(SIGN_OFF_DISPOSAL)
    def sign_off_disposal(self, request):
        at = self.business_time(request["at"], self.clock())
        state = self.ledger.state(domain.disposal_stream(request["disposal_id"]))
        witness = None
        if isinstance(state, domain.Disposal) and state.route == domain.DESTROY:
            # the witness: an existing, active member of staff signing with their own login
            witness = self.auth.cosigner(roles.ALL, "a destruction is witnessed")
            self._staff_member(witness.staff_id, "cosigner")
        command = domain.SignOffDisposal(
            request["disposal_id"], self.auth.principal.staff_id, at, request["receiver_name"],
            request["receiver_reference"], witness.staff_id if witness else None, witness.name if witness else None)
        result = self._execute(domain.disposal_stream(request["disposal_id"]), command, request, at=at)
        self.log.info("disposal.signed_off", stream=result.stream_id, position=result.last_position)
        return append_reply(result)
