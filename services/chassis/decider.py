"""The shape every service's ``domain.py`` follows, and the one error a
decider raises. Pure: no nameko, marshmallow, drivers or clock here.

A decider is a module (or object) with
- ``initial_state``: the state of a stream with no events,
- ``decide(command, state) -> list[event]``: the events a command causes, or
  :class:`Rejected` when a rule forbids it,
- ``evolve(state, event) -> state``: the state after one event.
Commands and events are frozen dataclasses named in the business's words
(commands imperative, events past tense); time comes in with the command.
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol


class Rejected(Exception):
    """A business rule forbids the command. ``code`` is stable for clients,
    ``field`` names the input at fault when there is one."""

    def __init__(self, code: str, message: str, field: str | None = None):
        self.code, self.message, self.field = code, message, field
        super().__init__(message)


class NotFound(Rejected):
    """The command names something that does not exist (an unknown item)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__("not_found", message, field)


class Decider(Protocol):
    initial_state: Any

    def decide(self, command: Any, state: Any) -> list: ...

    def evolve(self, state: Any, event: Any) -> Any: ...


def fold(decider: Decider, events: Iterable, state: Any = None) -> Any:
    """The state after ``events``, from ``state`` or the initial state."""
    state = decider.initial_state if state is None else state
    for event in events:
        state = decider.evolve(state, event)
    return state
