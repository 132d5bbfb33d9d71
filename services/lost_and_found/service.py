"""lost_and_found: found items, lost-item reports, claims, custody and the
monthly handover to finance. An adapter: contract -> command -> decide ->
append -> reply. Logs carry ids, positions and short codes only.

Config: ``VALUABLE_CATEGORIES`` (list), ``RETENTION_DAYS`` (mapping of
category, ``valuable`` or ``default`` to days), ``MATCHING_PLACES_FILE`` and
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

import eventlet
from eventlet import tpool
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer

import contracts
from contracts.lost_and_found import (
    CLAIM_ITEM, CLAIMANT_VIEW, CONFIRM_MATCH, DEFAULT_VALUABLE_CATEGORIES, FILE_ON_SPOT_CLAIM_FORM,
    HAND_OVER_TO_FINANCE, HAND_TO_CUSTODIAN, ITEM, RECORD_CLAIM_VERIFICATION, RECORD_VISITOR_CONTACT,
    REPORT_LOST_ITEM, SIGN_OFF_FINANCE_HANDOVER, SUGGEST_MATCHES, TURN_IN_BY_STAFF, TURN_IN_BY_VISITOR,
    TURN_IN_ON_SITE,
)
from contracts import roles
from services.chassis.decider import NotFound, Rejected
from services.chassis.dependencies import EventSourced, ReadModel, protector_from_config
from services.chassis.projection import SNAPSHOT_EVENTS, SNAPSHOT_SECONDS, Projector
from services.chassis.readmodels import readmodels_from_config
from services.chassis.service import ServiceBase, after_append, append_reply, contract_rpc
from services.chassis.wiring import store_from_config
from services.lost_and_found import domain, matching
from services.lost_and_found.case_index import CaseIndex
from services.staff.directory import StaffDirectory

DEFAULT_RETENTION_DAYS = {"default": 30}
SUGGESTIONS_IN_REPLY = 5


def retention_policy(config: dict) -> domain.RetentionPolicy:
    days = dict(DEFAULT_RETENTION_DAYS, **(config.get("RETENTION_DAYS") or {}))
    return domain.RetentionPolicy(
        default_days=int(days.pop("default")),
        valuable_days=int(days.pop("valuable")) if "valuable" in days else None,
        per_category=tuple(sorted((name, int(value)) for name, value in days.items())))


class Cases(DependencyProvider):
    """An in-process projector over the case index (open reports, unclaimed
    items, short codes), caught up from the store before each use. Like the
    forms service's, it resumes from its newest snapshot (``READMODEL_*``)
    when the container starts and writes one every so many events or seconds
    and when it stops, so a restart reads only what is new."""

    def setup(self):
        config = self.container.config
        self.store = store_from_config(config)
        self.readmodels = readmodels_from_config(config)
        matcher = matching.load_matcher(config.get("MATCHING_PLACES_FILE"), config.get("MATCHING_SYNONYMS_FILE"))
        # matching reads the items' hidden features: opened here, kept in memory only
        self.vault, protector = protector_from_config(config)
        self.projector = Projector(
            self.store, contracts.registry, [CaseIndex(matcher, protector.open)], name="lost_and_found.cases",
            readmodels=self.readmodels, offload=tpool.execute, pause=eventlet.sleep,
            snapshot_events=int(config.get("READMODEL_SNAPSHOT_EVENTS", SNAPSHOT_EVENTS)),
            snapshot_seconds=float(config.get("READMODEL_SNAPSHOT_SECONDS", SNAPSHOT_SECONDS)))

    def start(self):
        self.restored = self.projector.restore()

    def stop(self):
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

    def _end_of_desk_day(self, moment: dt.datetime) -> dt.datetime:
        next_day = self._desk_date(moment) + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, dt.time(0), tzinfo=self.site.zone)

    def _index(self) -> CaseIndex:
        self.cases.catch_up()
        return self.cases.fold(CaseIndex)

    def _suggestions_after_append(self, kind: str, subject_id: str, result) -> dict:
        suggestions, available = after_append(
            self.log, "suggestions", lambda: self._index().suggestions(kind, subject_id, SUGGESTIONS_IN_REPLY),
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
        command = domain.TurnInFoundItem(
            item_id=request["item_id"] or uuid.uuid4().hex, desk=request["desk"], channel=channel,
            item_name=request["item_name"], category=request["category"], description=request["description"],
            found_place=request["found_place"], found_at=found_at, finder_kind=finder_kind, finder_id=finder_id,
            finder_name=finder_name, finder_phone=finder_phone,
            finder_department=request.get("finder_department"), registered_by=registered_by,
            registered_by_role=registered_by_role, storage_place=request["storage_place"], at=at,
            business_date=self._desk_date(at),
            hidden_features=tuple((f["label"], f["detail"]) for f in request["hidden_features"]),
            witness_id=witness_id, witness_name=witness_name, owner_urgent=owner_urgent,
            valuable_categories=frozenset(self.config.get("VALUABLE_CATEGORIES", DEFAULT_VALUABLE_CATEGORIES)),
            retention=retention_policy(self.config))
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
        index = self._index()
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
        item = self.ledger.state(domain.item_stream(request["item_id"]))
        facts = domain.ItemFacts(item.item_id, item.short_code, item.status) \
            if isinstance(item, domain.FoundItem) else None
        command = domain.ConfirmMatch(request["report_id"], facts, f"contact-{uuid.uuid4().hex[:12]}",
                                      self.auth.principal.staff_id, at)
        result = self._execute(domain.report_stream(request["report_id"]), command, request, at=at,
                               desk=request["desk"])
        task = self.ledger.decode(result.events[-1])
        self.log.info("lost_report.matched", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "task_id": task.task_id}

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
        command = domain.RecordClaimVerification(
            request["item_id"], request["verification_id"] or f"verification-{uuid.uuid4().hex[:12]}",
            request["claimant_description"], tuple(request["matched_features"]), request["description_matched"],
            request["decision"], verified_by, role, at)
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=at,
                               desk=request["desk"])
        verification = self.ledger.decode(result.events[0])
        self.log.info("claim.verified", stream=result.stream_id, position=result.last_position,
                      decision=verification.decision)
        return {**append_reply(result), "verification_id": verification.verification_id,
                "decision": verification.decision}

    @contract_rpc(CLAIM_ITEM)
    def claim_item(self, request):
        at = self.business_time(request["at"], self.clock())
        released_by, role = self._acting(domain.CLERK, domain.CUSTODIAN, domain.TEAM_LEAD)
        team_lead = role == domain.TEAM_LEAD
        custodian = self.auth.optional_cosigner({roles.CUSTODIAN}, "releasing an item in custody")
        command = domain.ClaimItem(
            item_id=request["item_id"], claim_id=request["claim_id"] or f"claim-{uuid.uuid4().hex[:12]}",
            verification_id=request["verification_id"], claim_kind=request["claim_kind"],
            claimant_name=request["claimant_name"], claimant_phone=request["claimant_phone"],
            claimant_id_type=request["claimant_id_type"], claimant_id_number=request["claimant_id_number"],
            released_by=released_by, released_by_role=role, at=at,
            report_id=request["report_id"], custodian_id=custodian.staff_id if custodian else None,
            on_spot_form_due=self._end_of_desk_day(at) if team_lead else None)
        result = self._execute(domain.item_stream(request["item_id"]), command, request, at=at,
                               desk=request["desk"])
        claimed = self.ledger.decode(result.events[0])
        self.log.info("found_item.claimed", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "claim_id": claimed.claim_id, "claim_form": claimed.claim_form,
                "on_spot_form_due": claimed.on_spot_form_due}

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
        command = domain.HandToCustodian(request["item_id"], self.auth.principal.staff_id, custodian.staff_id,
                                         request["storage_place"], at)
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
        item_ids = request["item_ids"] or self._index().due_for_finance(today)
        lines = []
        for item_id in item_ids:
            state = self.ledger.state(domain.item_stream(item_id))
            found = isinstance(state, domain.FoundItem)
            lines.append(domain.HandoverLine(item_id, state.status if found else None,
                                             state.retain_until if found else None))
        draw = domain.DrawFinanceHandoverList(handover_id, request["month"], self.auth.principal.staff_id,
                                              tuple(lines), at, today)
        drawn_result = self._execute(domain.handover_stream(handover_id), draw, request, at=at,
                                     command_id=domain.finance_step_command_id(handover_id, "drawn"))
        drawn = self.ledger.decode(drawn_result.events[0])
        steps = [self._step(drawn_result)]
        transferred, withdrawn = [], []
        for item_id in drawn.item_ids:
            command = domain.HandItemToFinance(item_id, handover_id, drawn.custodian_id, at, today)
            try:
                result = self._execute(domain.item_stream(item_id), command, request, at=at,
                                       command_id=domain.finance_transfer_command_id(handover_id, item_id))
            except Rejected as refusal:
                if refusal.code not in ("already_claimed", "handed_to_finance"):
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
        item = self._found_item(request["item_id"])
        return {
            **{key: getattr(item, key) for key in (
                "item_id", "short_code", "desk", "channel", "item_name", "category", "description", "found_place",
                "found_at", "storage_place", "valuable", "retain_until", "status", "custodian_id", "claim_id",
                "handover_id")},
            "form": domain.FORM_OF_CHANNEL[item.channel],
            "hidden_features": [{"label": label, "detail": detail} for label, detail in item.hidden_features],
            "verifications": [{"verification_id": v.verification_id, "decision": v.decision}
                              for v in item.verifications],
            "version": self.ledger.store.stream_version(domain.item_stream(item.item_id))}

    @contract_rpc(CLAIMANT_VIEW)
    def claimant_view(self, request):
        item_id = self._index().by_short_code.get(request["short_code"])
        if item_id is None:
            raise NotFound(f"no found item with code {request['short_code']}", field="short_code")
        item = self._found_item(item_id)
        status, where = {
            domain.HELD: ("waiting for its owner", f"the visitor service desk {item.desk}"),
            domain.IN_CUSTODY: ("kept by the lost-and-found custodian (失物招领负责人)",
                                f"the visitor service desk {item.desk}, which calls the custodian"),
            domain.CLAIMED: ("returned to its owner", "nowhere: it has been claimed"),
            domain.WITH_FINANCE: ("handed to finance (财务部)", "the finance department (财务部)"),
        }[item.status]
        return {"short_code": item.short_code, "item_name": item.item_name, "category": item.category,
                "found_place": item.found_place, "found_on": self._desk_date(item.found_at), "desk": item.desk,
                "status": status, "where": where}
