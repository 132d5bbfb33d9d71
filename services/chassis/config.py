"""Configuration: one YAML file with ``${VAR:default}`` placeholders filled
from the environment (the same syntax nameko's ``--config`` understands), so
every process, nameko or not, reads the same ``deploy/config.yaml``."""
from __future__ import annotations

import os
import re

import yaml

_PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<default>[^}]*))?\}")

DEFAULTS = {
    "AMQP_URI": "pyamqp://guest:guest@localhost:5672/",
    "EVENT_STORE_URI": "sqlite:///var/events.db",
    "LOG_LEVEL": "INFO",
}


def substitute(text: str, environ=None) -> str:
    environ = os.environ if environ is None else environ

    def replace(match):
        value = environ.get(match["name"], match["default"])
        if value is None:
            raise KeyError(f"configuration needs environment variable {match['name']}")
        return value

    return _PLACEHOLDER.sub(replace, text)


def _fill(value, environ):
    # placeholders in string values only (not in comments or keys); a value
    # that is exactly one placeholder takes the YAML type of what fills it
    if isinstance(value, str):
        filled = substitute(value, environ)
        if filled != value and _PLACEHOLDER.fullmatch(value):
            return yaml.safe_load(filled) if filled else filled
        return filled
    if isinstance(value, dict):
        return {key: _fill(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, environ) for item in value]
    return value


def load_config(path: str | None = None, environ=None) -> dict:
    """The config file (env placeholders filled) over the defaults; with no
    file, the defaults with environment overrides."""
    environ = os.environ if environ is None else environ
    config = {key: environ.get(key, value) for key, value in DEFAULTS.items()}
    if path:
        with open(path, encoding="utf-8") as handle:
            config.update(_fill(yaml.safe_load(handle) or {}, environ))
    return config


def pika_url(amqp_uri: str) -> str:
    """nameko's ``pyamqp://`` URI as pika's ``amqp://``."""
    return re.sub(r"^pyamqp://", "amqp://", amqp_uri)
