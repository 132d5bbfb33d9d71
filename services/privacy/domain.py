"""Erasures as events: the decider of stream ``privacy_erasure-<subject_id>``.
The key is deleted in the vault first (the irreversible part); the event
records that it was, once: recording again is a no-op. Pure."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def stream_id(subject_id: str) -> str:
    return f"privacy_erasure-{subject_id}"


@dataclass(frozen=True)
class RecordErasure:
    subject_id: str
    reason: str
    by_retention: bool
    at: dt.datetime


@dataclass(frozen=True)
class PersonalDataErased:
    subject_id: str
    reason: str
    by_retention: bool
    erased_at: dt.datetime


EVENTS = (PersonalDataErased,)


@dataclass(frozen=True)
class Subject:
    erased: bool = False


initial_state = Subject()


def decide(command, state: Subject) -> list:
    match command:
        case RecordErasure() if state.erased:
            return []
        case RecordErasure():
            return [PersonalDataErased(command.subject_id, command.reason, command.by_retention, command.at)]
    raise TypeError(f"privacy cannot decide {type(command).__name__}")


def evolve(state: Subject, event) -> Subject:
    match event:
        case PersonalDataErased():
            return Subject(erased=True)
    return state
