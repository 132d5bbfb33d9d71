"""forms: the read side. Keeps the forms rebuilt from the log and serves them.

It learns of new events from the relay's messages (one queue per source
service, bound to every event type) and, as a safety net, from a timer; in
both cases it reads what is new from the store itself.
"""
from __future__ import annotations

from nameko.events import event_handler
from nameko.extensions import DependencyProvider
from nameko.timer import timer

import contracts
from contracts.duty_log import SIGN_IN_SHEET
from contracts import lost_and_found as lost_and_found_contracts
from services.chassis.dependencies import store_from_config
from services.chassis.projection import Projector
from services.chassis.service import ServiceBase, contract_rpc
from services.duty_log import forms as duty_log_forms
from services.lost_and_found import forms as lost_and_found_forms

FOLD_CLASSES = (*duty_log_forms.FOLDS, *lost_and_found_forms.FOLDS)


class Projections(DependencyProvider):
    """The projector over every fold, caught up when the container starts."""

    def setup(self):
        self.store = store_from_config(self.container.config)
        self.projector = Projector(self.store, contracts.registry, [cls() for cls in FOLD_CLASSES])

    def start(self):
        self.projector.catch_up()

    def stop(self):
        self.store.close()

    def get_dependency(self, worker_ctx):
        return self.projector


class FormsService(ServiceBase):
    name = "forms"
    projections = Projections()

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
        return self._caught_up()

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
        return lost_and_found_forms.serve_valuables_awaiting_custody(self.projections, request)

    @contract_rpc(lost_and_found_contracts.ON_SPOT_CLAIMS_NOT_FILED)
    def on_spot_claims_not_filed(self, request):
        return lost_and_found_forms.serve_on_spot_claims_not_filed(self.projections, request)

    @contract_rpc(lost_and_found_contracts.FINANCE_HANDOVER_LIST)
    def finance_handover_list(self, request):
        return lost_and_found_forms.serve_finance_handover_list(self.projections, request)

    @property
    def store(self):
        return self.projections.store
