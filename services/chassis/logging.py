"""structlog JSON to stdout, one line per log record.

Personal data never reaches a log: we log ids, types, positions and counts,
never payloads; and as a second line of defence :func:`redact_personal` blanks
any key that a contract marks personal (names, phones, ID numbers).
"""
from __future__ import annotations

import functools
import logging

import structlog

_configured = False


@functools.cache
def _personal_keys() -> set[str]:
    """The last part of every field name a contract marks personal."""
    from contracts import registry  # at first use: contracts import this package's siblings
    from contracts.base import personal_fields
    names = set()
    for event_type in registry.events:
        names |= registry.personal_fields(event_type)
    for contract in registry.rpcs.values():
        names |= personal_fields(contract.request()) | personal_fields(contract.reply())
    return {name.rsplit(".", 1)[-1] for name in names} | {"phone", "id_number", "name"}


def redact_personal(_logger, _method, event_dict):
    keys = _personal_keys()
    for key in list(event_dict):
        if key in keys:
            event_dict[key] = "[personal]"
    return event_dict


def configure(level: str = "INFO", stream=None) -> None:
    """Configure structlog (and stdlib logging, for nameko's own records)."""
    global _configured
    if _configured:
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_personal,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream),  # None: sys.stdout at each call
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(**bound):
    configure()
    return structlog.get_logger().bind(**bound)
