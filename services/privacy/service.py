"""privacy: erasure on request, the retention sweep (also hourly, by
itself) and subject access. The vault deletes the key (crypto-shredding);
an event records it. Personal values are never logged, only subject ids
and counts."""
from __future__ import annotations

import datetime as dt

from nameko.timer import timer

import contracts
from contracts.personal import schema_leaves
from contracts.privacy import ERASE, SUBJECT_ACCESS, SWEEP
from services.chassis.dependencies import EventSourced
from services.chassis.principal import Principal
from services.chassis.service import ServiceBase, contract_rpc
from services.privacy import domain
from services.privacy.vault import ERASED, is_token, subject_of

SWEEP_INTERVAL = 3600  # seconds; the sweep is idempotent and costs one query when nothing expired
#: the actor of erasures the retention period makes
RETENTION = Principal("system:retention", "retention sweep", frozenset(), None, 0, 0, "retention")


class PrivacyService(ServiceBase):
    name = "privacy"
    ledger = EventSourced(domain, domain.EVENTS)

    @property
    def vault(self):
        return self.privacy.vault

    def _subjects(self, request) -> list[str]:
        if request.get("subject_id"):
            return [request["subject_id"]]
        return self.vault.subjects_by(phone=request.get("phone"), id_number=request.get("id_number"))

    def _erase(self, subject_ids, reason: str, by_retention: bool, as_principal=None) -> dict:
        erased, already, positions = [], [], []
        for subject_id in subject_ids:
            at = self.clock()
            erasure = self.vault.erase(subject_id, reason, at)
            (already if erasure.already else erased).append(subject_id)
            result = self.ledger.execute(
                domain.stream_id(subject_id), domain.RecordErasure(subject_id, erasure.reason, by_retention,
                                                                   erasure.erased_at),
                occurred_at=erasure.erased_at, command_id=f"privacy-erase:{subject_id}", as_principal=as_principal)
            positions += [event.position for event in result.events]
        self.log.info("privacy.erased", erased=len(erased), already=len(already), by_retention=by_retention)
        return {"erased": erased, "already": already, "positions": positions}

    @contract_rpc(ERASE)
    def erase(self, request):
        return self._erase(self._subjects(request), request["reason"], False)

    @contract_rpc(SWEEP)
    def sweep(self, request):
        today = request["today"] or self.desk_date(self.clock())
        return self._erase(self.vault.expired(today), "retention period over", True)

    @timer(interval=SWEEP_INTERVAL)
    def sweep_daily(self):
        """The retention sweep, by itself; logs only when it erased something."""
        expired = self.vault.expired(self.desk_date(self.clock()))
        if not expired:
            return None
        done = self._erase(expired, "retention period over", True, as_principal=RETENTION)
        return {"erased": len(done["erased"])}

    @contract_rpc(SUBJECT_ACCESS)
    def subject_access(self, request):
        """Every value held about the person, decrypted. It reads the whole
        log (a rare request of the lead's): cost grows with history."""
        subjects = set(self._subjects(request))
        store = self.ledger.store
        values, position = [], 0
        leaves_of = {event_type: schema_leaves(cls) for event_type, cls in contracts.registry.events.items()}
        for record in store.read_all():
            position = record.position
            for leaf in leaves_of.get(record.type, ()):
                for where, token in _tokens(record.data, leaf.path, ()):
                    if subject_of(token) not in subjects:
                        continue
                    plain = self.vault.decrypt(token, f"{record.type}.{leaf.name}")
                    values.append({"subject_id": subject_of(token), "position": record.position,
                                   "stream_id": record.stream_id, "event_type": record.type,
                                   "field": ".".join(map(str, where)), "occurred_at": record.occurred_at,
                                   "value": "已删除" if plain is ERASED else plain})
        retention = {subject: {purpose: day.isoformat() for purpose, day in self.vault.retention(subject).items()}
                     for subject in sorted(subjects)}
        self.log.info("privacy.subject_access", subjects=len(subjects), values=len(values))
        return {"subjects": sorted(subjects), "retention": retention, "values": values, "as_of_position": position}


def _tokens(data, path: tuple, where: tuple):
    """(concrete path, token) of every token at ``path`` in stored data."""
    if not path:
        if is_token(data):
            yield where, data
        return
    step, rest = path[0], path[1:]
    if step == "*":
        for index, item in enumerate(data if isinstance(data, list) else ()):
            yield from _tokens(item, rest, where + (index,))
    elif isinstance(step, int):
        if isinstance(data, list) and step < len(data):
            yield from _tokens(data[step], rest, where + (step,))
    elif isinstance(data, dict) and step in data:
        yield from _tokens(data[step], rest, where + (step,))
