"""The one list of service classes: it covers every registered RPC and fails
loudly for one it does not know."""
import pytest

import contracts
from services import catalogue


def test_every_registered_rpc_is_served_by_a_catalogued_service():
    rpcs = contracts.registry.rpcs
    served = catalogue.serving(rpcs)
    assert {cls.name for cls in served} == {service for service, _ in rpcs}
    for (service, method), contract in rpcs.items():
        assert getattr(catalogue.service_class(service), method).contract is contract


def test_an_rpc_of_a_service_missing_from_the_catalogue_fails_loudly():
    rpcs = dict(contracts.registry.rpcs)
    some_contract = next(iter(rpcs.values()))
    with pytest.raises(LookupError, match="'assets_checkout' has registered RPCs but is not in services/catalogue"):
        catalogue.serving({**rpcs, ("assets_checkout", "lend"): some_contract})


def test_an_rpc_the_catalogued_class_does_not_implement_fails_loudly():
    rpcs = dict(contracts.registry.rpcs)
    some_contract = next(iter(rpcs.values()))
    with pytest.raises(LookupError, match="no @contract_rpc entrypoint for duty_log.close_day"):
        catalogue.serving({**rpcs, ("duty_log", "close_day"): some_contract})
    with pytest.raises(LookupError, match="no @contract_rpc entrypoint for duty_log.health"):
        catalogue.serving({**rpcs, ("duty_log", "health"): some_contract})  # an entrypoint, but not this contract
