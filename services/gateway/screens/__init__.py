"""The console's screens, and how a service adds its own.

A screen is a function in ``services/gateway/screens/<service>.py`` taking
``(request, session)`` (plus the path's values) and returning a
:func:`page` (a template under ``services/gateway/templates/<service>/`` and
its context) or a :func:`redirect`::

    from contracts.lost_and_found import TURN_IN_BY_STAFF
    from services.gateway.i18n import _
    from services.gateway.screens import CallFailed, page, redirect, screen

    @screen("/desk/lf/turn-in", roles=TURN_IN_BY_STAFF.roles, nav=_("拾获登记"))
    def turn_in(request, session):
        if request.method == "POST":
            try:
                reply = request.call("lost_and_found", "turn_in_by_staff", {...})
            except CallFailed as failed:
                return page("lost_and_found/turn_in.html", failed=failed, form=request.form)
            return redirect(f"/desk/lf/items/{reply['item_id']}")
        return page("lost_and_found/turn_in.html")

Every module in this package is imported when the gateway starts
(:func:`load_all`). ``roles`` are the roles of the contract(s) the screen
calls (never a rule of the gateway's own: the service checks them again);
the nav shows a screen only to whom holds one of them, and the screen
answers 403 to anyone else. ``nav`` is the menu label (marked with ``_``,
translated when shown); without it the screen is reachable but not in the menu.
A screen needs a logged-in, unlocked session unless ``public=True``.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Callable

from werkzeug.routing import Map, Rule


@dataclass(frozen=True)
class Screen:
    path: str
    func: Callable
    name: str
    roles: frozenset = frozenset()      # empty: anyone logged in
    nav: str | None = None
    order: int = 100
    methods: tuple = ("GET", "POST")
    public: bool = False                # no login needed (login, language)
    while_locked: bool = False          # reachable on a locked session (lock, logout)
    while_password_change: bool = False  # reachable before the one-time password is changed

    def allowed(self, principal) -> bool:
        if self.public:
            return True
        if principal is None:
            return False
        return not self.roles or principal.holds(self.roles)


SCREENS: dict[str, Screen] = {}
SHORT_CODES: dict[str, Callable] = {}
SHORT_CODE = re.compile(r"^\s*([A-Za-z]{2,5})-([A-Za-z0-9]{4,16})\s*$")


def screen(path: str, *, roles=frozenset(), nav: str | None = None, order: int = 100, methods=("GET", "POST"),
           public: bool = False, while_locked: bool = False, while_password_change: bool = False,
           name: str | None = None):
    """Register a screen at ``path`` (a werkzeug rule: ``/desk/lf/items/<item_id>``)."""
    def register(func):
        key = name or f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
        if key in SCREENS and SCREENS[key].func is not func:
            raise TypeError(f"screen {key!r} is registered twice")
        SCREENS[key] = Screen(path, func, key, frozenset(roles), nav, order, tuple(methods), public,
                              while_locked, while_password_change)
        return func
    return register


def short_code(prefix: str):
    """Register what a short code ``<prefix>-...`` (any case) opens: the
    function takes ``(request, code)`` (the code upper-cased) and returns the
    URL of its page (or None: not found)."""
    def register(func):
        SHORT_CODES[prefix.lower()] = func
        return func
    return register


def resolve_short_code(request, text: str) -> str | None:
    match = SHORT_CODE.match(text or "")
    if not match:
        return None
    handler = SHORT_CODES.get(match.group(1).lower())
    if handler is None:
        return None
    return handler(request, f"{match.group(1)}-{match.group(2)}".upper())


def url_map() -> Map:
    return Map([Rule(s.path, endpoint=s.name, methods=list(s.methods)) for s in SCREENS.values()],
               strict_slashes=False)


def nav_for(principal) -> list[Screen]:
    """The menu: the screens with a label that this principal may use."""
    return sorted((s for s in SCREENS.values() if s.nav and not s.public and s.allowed(principal)),
                  key=lambda s: (s.order, s.path))


def load_all() -> dict[str, Screen]:
    """Import every screen module of this package (each registers its screens)."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module.name}")
    return SCREENS


# -- what a screen returns ---------------------------------------------------------
@dataclass
class Page:
    template: str
    context: dict = field(default_factory=dict)
    status: int = 200


@dataclass
class Redirect:
    location: str
    status: int = 303


def page(template: str, status: int = 200, **context) -> Page:
    return Page(template, context, status)


def redirect(location: str, status: int = 303) -> Redirect:
    return Redirect(location, status)


class CallFailed(Exception):
    """An RPC the gateway made was refused or failed: ``status`` (HTTP),
    ``body`` (the service's structured error: code, message, fields)."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message", ""))
        self.status, self.body = status, body

    @property
    def code(self) -> str:
        return self.body.get("code", "error")

    @property
    def fields(self) -> dict:
        return self.body.get("fields") or {}

    def field_errors(self, translator) -> dict[str, list[str]]:
        from services.gateway.i18n import field_messages
        return field_messages(translator, self.fields)

    def message(self, translator) -> str:
        from services.gateway.errors import user_message
        return user_message(translator, self)


__all__ = ["CallFailed", "Page", "Redirect", "SCREENS", "Screen", "load_all", "nav_for", "page", "redirect",
           "resolve_short_code", "screen", "short_code", "url_map"]
