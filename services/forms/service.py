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
from services.chassis.dependencies import store_from_config
from services.chassis.projection import Projector
from services.chassis.service import ServiceBase, contract_rpc
from services.duty_log import forms as duty_log_forms

FOLD_CLASSES = (*duty_log_forms.FOLDS,)


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

    @event_handler("duty_log", "#")
    def on_duty_log_event(self, envelope):
        if envelope.get("position", 0) > self.projections.position:
            self.projections.catch_up()

    @timer(interval=5)
    def catch_up(self):
        self.projections.catch_up()

    @contract_rpc(SIGN_IN_SHEET)
    def sign_in_sheet(self, request):
        position = self.projections.catch_up()
        sheet = self.projections.fold(duty_log_forms.SignInSheets)
        return {"desk": request["desk"], "shift_date": request["shift_date"],
                "rows": sheet.sheet(request["desk"], request["shift_date"]), "as_of_position": position}

    @property
    def store(self):
        return self.projections.store
