"""Every nameko service class, by service name: the one list of what runs.

Tests that must reach every RPC (the bad-input property test) start the
services named here for ``contracts.registry.rpcs``; :func:`serving` fails
loudly when a registered RPC's service is missing here or does not implement
the method, so a new service is covered the day its contract is registered.
"""
from __future__ import annotations

from services.duty_log.service import DutyLogService
from services.forms.service import FormsService
from services.lost_and_found.service import LostAndFoundService
from services.privacy.service import PrivacyService
from services.staff.service import StaffService

SERVICES: dict[str, type] = {cls.name: cls for cls in (DutyLogService, FormsService, LostAndFoundService,
                                                        PrivacyService, StaffService)}


def service_class(name: str) -> type:
    try:
        return SERVICES[name]
    except KeyError:
        raise LookupError(f"service {name!r} has registered RPCs but is not in services/catalogue.py "
                          f"SERVICES") from None


def serving(rpcs) -> list[type]:
    """The service classes that serve ``rpcs`` (e.g. ``contracts.registry.rpcs``,
    keyed by ``(service, method)``), each once, in name order. LookupError
    names the first RPC no catalogued class implements with its contract."""
    classes = {}
    for (service, method), contract in sorted(rpcs.items()):
        cls = service_class(service)
        entrypoint = getattr(cls, method, None)
        if getattr(entrypoint, "contract", None) is not contract:
            raise LookupError(f"{cls.__name__} has no @contract_rpc entrypoint for {service}.{method}")
        classes[service] = cls
    return [classes[name] for name in sorted(classes)]
