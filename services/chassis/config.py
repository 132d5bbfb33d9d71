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


def load_config(path: str | None = None, environ=None) -> dict:
    """The config file (env placeholders filled) over the defaults; with no
    file, the defaults with environment overrides."""
    environ = os.environ if environ is None else environ
    config = {key: environ.get(key, value) for key, value in DEFAULTS.items()}
    if path:
        with open(path, encoding="utf-8") as handle:
            config.update(yaml.safe_load(substitute(handle.read(), environ)) or {})
    return config


def pika_url(amqp_uri: str) -> str:
    """nameko's ``pyamqp://`` URI as pika's ``amqp://``."""
    return re.sub(r"^pyamqp://", "amqp://", amqp_uri)
