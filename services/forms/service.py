"""forms: the read side. Keeps the forms rebuilt from the log and serves them.

It learns of new events from the relay's messages (one queue per source
service, bound to every event type) and, as a safety net, from a timer; in
both cases it reads what is new from the store itself.
"""
from __future__ import annotations

import datetime as dt
import json

import eventlet
from nameko.dependency_providers import Config
from nameko.events import event_handler
from nameko.extensions import DependencyProvider
from nameko.timer import timer

import contracts
from contracts import console as console_contracts
from contracts.duty_log import SIGN_IN_SHEET
from contracts import lost_and_found as lost_and_found_contracts
from services.chassis.collector import freeze
from services.chassis.decider import NotFound
from services.chassis.dependencies import persistent_projector, store_from_config
from services.chassis.projection import replay
from services.chassis.service import ServiceBase, contract_rpc
from services.duty_log import forms as duty_log_forms
from services.eventstore.interface import format_time, parse_time
from services.eventstore.witness import AuditError, audit, audit_paths, load_public_key, read_witness
from services.forms.open_cases import OpenCases
from services.lost_and_found import forms as lost_and_found_forms

FOLD_CLASSES = (*duty_log_forms.FOLDS, *lost_and_found_forms.FOLDS, OpenCases)
WARM_UP_AFTER = 2.0  # seconds after start before the folds nobody asked for are read back


class Projections(DependencyProvider):
    """The projector over every fold. It resumes from its newest snapshot
    (``READMODEL_STORE_URI``, by default beside the event store) when the
    container starts, reading saved fold states lazily (a form's folds when
    it is first asked for, the rest in the background), and writes a
    snapshot every ``READMODEL_SNAPSHOT_EVENTS`` events or
    ``READMODEL_SNAPSHOT_SECONDS`` seconds and when the container stops.
    Pickling and SQLite work run in eventlet's thread pool, off the hub."""

    def setup(self):
        config = self.container.config
        self.store = store_from_config(config)
        self._warm_up = None
        self.projector = persistent_projector(config, self.store, [cls() for cls in FOLD_CLASSES], "forms")
        self.readmodels = self.projector.readmodels

    def start(self):
        self.restored = self.projector.restore(lazily=True)
        self._warm_up = self.container.spawn_managed_thread(self._read_pending_folds)

    def _read_pending_folds(self):
        eventlet.sleep(WARM_UP_AFTER)  # first requests first: they read their own folds
        while self.projector.restore_pending():  # the folds, then the buckets nobody has read yet
            eventlet.sleep(0)
        freeze()  # all in memory now: no full collection walks the folds again (services/chassis/collector.py)

    def stop(self):
        if self._warm_up is not None:
            self._warm_up.kill()  # the folds nobody asked for stay saved as they were
        try:
            self.projector.catch_up()
            if self.projector.changed:
                self.projector.snapshot()
        finally:
            if self.readmodels is not None:
                self.readmodels.close()
            self.store.close()

    def get_dependency(self, worker_ctx):
        return self.projector


class FormsService(ServiceBase):
    name = "forms"
    projections = Projections()
    config = Config()

    # The handlers and the timer return what they applied, or None when
    # there was nothing new: StructLogger logs only the calls that did work.
    def _caught_up(self):
        before = self.projections.position
        after = self.projections.catch_up()
        return {"caught_up_from": before, "position": after} if after > before else None

    @event_handler("duty_log", "#")
    def on_duty_log_event(self, envelope):
        if envelope.get("position", 0) > self.projections.position:
            return self._caught_up()
        return None

    @event_handler("lost_and_found", "#")
    def on_lost_and_found_event(self, envelope):
        if envelope.get("position", 0) > self.projections.position:
            return self._caught_up()
        return None

    @timer(interval=5)
    def catch_up(self):
        caught_up = self._caught_up()
        snapshot = self.projections.maybe_snapshot()
        return dict(caught_up or {}, snapshot_at=self.projections.snapshot_position) if snapshot else caught_up

    @contract_rpc(SIGN_IN_SHEET)
    def sign_in_sheet(self, request):
        position = self.projections.catch_up()
        sheet = self.projections.fold(duty_log_forms.SignInSheets)
        return {"desk": request["desk"], "shift_date": request["shift_date"],
                "rows": sheet.sheet(request["desk"], request["shift_date"]), "as_of_position": position}

    # lost and found (3.3-3.10, checklists): see services/lost_and_found/forms.py
    @contract_rpc(lost_and_found_contracts.FOUND_ITEM_FORM)
    def found_item_form(self, request):
        return lost_and_found_forms.serve_found_item_form(self.projections, request)

    @contract_rpc(lost_and_found_contracts.LOST_ITEM_REPORT_FORM)
    def lost_item_report_form(self, request):
        return lost_and_found_forms.serve_lost_item_report_form(self.projections, request)

    @contract_rpc(lost_and_found_contracts.LOST_ITEM_SUMMARY)
    def lost_item_summary(self, request):
        return lost_and_found_forms.serve_lost_item_summary(self.projections, request)

    @contract_rpc(lost_and_found_contracts.GOOD_DEEDS_SUMMARY)
    def good_deeds_summary(self, request):
        return lost_and_found_forms.serve_good_deeds_summary(self.projections, request)

    @contract_rpc(lost_and_found_contracts.FOUND_ITEM_RECEIPT)
    def found_item_receipt(self, request):
        return lost_and_found_forms.serve_found_item_receipt(self.projections, request)

    @contract_rpc(lost_and_found_contracts.ITEM_INFORMATION_CARD)
    def item_information_card(self, request):
        return lost_and_found_forms.serve_item_information_card(self.projections, request)

    @contract_rpc(lost_and_found_contracts.VALUABLES_AWAITING_CUSTODY)
    def valuables_awaiting_custody(self, request):
        return lost_and_found_forms.serve_valuables_awaiting_custody(self.projections, request, self.site.zone)

    @contract_rpc(lost_and_found_contracts.ON_SPOT_CLAIMS_NOT_FILED)
    def on_spot_claims_not_filed(self, request):
        return lost_and_found_forms.serve_on_spot_claims_not_filed(self.projections, request)

    @contract_rpc(lost_and_found_contracts.FINANCE_HANDOVER_LIST)
    def finance_handover_list(self, request):
        return lost_and_found_forms.serve_finance_handover_list(self.projections, request)

    # the console's lists, and the auditor's reading of the log (contracts/console.py)
    @contract_rpc(console_contracts.OPEN_CASES)
    def open_cases(self, request):
        position = self.projections.catch_up()
        return {"desk": request["desk"], **self.projections.fold(OpenCases).open(request["desk"]),
                "as_of_position": position}

    @contract_rpc(console_contracts.FIND_ITEM)
    def find_item(self, request):
        self.projections.catch_up()
        found = self.projections.fold(OpenCases).find(request["short_code"])
        if found is None:
            raise NotFound(f"no found item with code {request['short_code'].upper()}", field="short_code")
        return found

    @contract_rpc(console_contracts.STREAM_HISTORY)
    def stream_history(self, request):
        events = self.store.read_stream(request["stream_id"])
        if not events:
            raise NotFound(f"no stream {request['stream_id']}", field="stream_id")
        rows = [{"position": e.position, "version": e.version, "event_id": e.event_id, "type": e.type,
                 "occurred_at": parse_time(e.occurred_at), "recorded_at": parse_time(e.recorded_at),
                 **{key: (e.metadata or {}).get(key) for key in ("actor", "cosigner", "desk", "command_id",
                                                                  "correlation_id")},
                 # as stored: personal leaves are sealed tokens, never clear text
                 "fields_": [{"name": name, "value": json.dumps(value, ensure_ascii=False, sort_keys=True)}
                             for name, value in e.data.items()]}
                for e in events]
        return {"stream_id": request["stream_id"], "rows": rows, "as_of_position": self.store.head().position}

    @contract_rpc(console_contracts.LOG_VERIFICATION)
    def log_verification(self, request):
        checked_at = dt.datetime.now(dt.timezone.utc)
        paths = audit_paths(self.config)
        try:
            heads, entries = read_witness(paths.directory)
            public_key = load_public_key(paths.public_key_file) if heads or entries else None
        except AuditError as exc:  # a witness copy that cannot be read is a failed audit, said as such
            return {"ok": False, "checked": 0, "head_position": 0, "head_hash": "", "first_bad_position": None,
                    "problem": str(exc), "witnessed": 0, "signed": 0, "signed_at": None, "unwitnessed": 0,
                    "warning": None, "checked_at": checked_at}
        result = audit(self.store, heads, entries, public_key)
        return {**result._asdict(), "checked_at": checked_at}

    @contract_rpc(console_contracts.FOUND_ITEM_FORM_AS_OF)
    def found_item_form_as_of(self, request):
        """The same folds as the live forms, rebuilt from the log as it stood then."""
        past = replay(self.store, contracts.registry, lost_and_found_forms.FOLDS,
                      as_of_time=format_time(request["as_of"]))
        form = lost_and_found_forms.serve_found_item_form(past, {"item_id": request["item_id"]})
        return {**form, "as_of": request["as_of"]}

    @contract_rpc(lost_and_found_contracts.DISPOSAL_LIST)
    def disposal_list(self, request):
        return lost_and_found_forms.serve_disposal_list(self.projections, request)

    @contract_rpc(lost_and_found_contracts.ITEMS_ON_THE_WAY)
    def items_on_the_way(self, request):
        return lost_and_found_forms.serve_items_on_the_way(self.projections, request)

    @contract_rpc(lost_and_found_contracts.PUBLIC_NOTICE_LIST)
    def public_notice_list(self, request):
        """Open: the notice board shows only what a passer-by may read."""
        return lost_and_found_forms.serve_public_notice_list(self.projections, request, self.site.zone)

    @property
    def store(self):
        return self.projections.store
