"""Contracts: a marshmallow schema for every event and every RPC payload and
reply, all registered in :data:`registry`. Importing this package imports
every contract module, so the registry is complete."""
from contracts.base import registry  # noqa: F401
from contracts import envelope, duty_log, lost_and_found, privacy, roles, staff  # noqa: F401,E402
from contracts import console  # noqa: F401,E402  (after lost_and_found: it reuses its forms)
