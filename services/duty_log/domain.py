"""Duty log decider: the duty day of one desk (客服岗位值班记录表).

Stream: one per desk and duty day (:func:`stream_id`). So far it knows the
pre-shift sign-in (签到); the duty-log issue adds the rest of the record.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from services.chassis.decider import Rejected


def stream_id(desk: str, shift_date: dt.date) -> str:
    return f"duty_day-{desk}-{shift_date.isoformat()}"


# -- commands ---------------------------------------------------------------
@dataclass(frozen=True)
class SignInClerk:
    desk: str
    shift_date: dt.date
    clerk_id: str
    clerk_name: str
    at: dt.datetime


# -- events -----------------------------------------------------------------
@dataclass(frozen=True)
class ClerkSignedIn:
    desk: str
    shift_date: dt.date
    clerk_id: str
    clerk_name: str
    signed_in_at: dt.datetime


EVENTS = (ClerkSignedIn,)


# -- state ------------------------------------------------------------------
@dataclass(frozen=True)
class DutyDay:
    signed_in: frozenset = frozenset()


initial_state = DutyDay()


def decide(command, state: DutyDay) -> list:
    match command:
        case SignInClerk(clerk_id=clerk) if clerk in state.signed_in:
            raise Rejected("already_signed_in", f"clerk {clerk} has already signed in for this duty day",
                           field="clerk_id")
        case SignInClerk():
            return [ClerkSignedIn(command.desk, command.shift_date, command.clerk_id,
                                  command.clerk_name, command.at)]
    raise TypeError(f"duty_log cannot decide {type(command).__name__}")


def evolve(state: DutyDay, event) -> DutyDay:
    match event:
        case ClerkSignedIn(clerk_id=clerk):
            return replace(state, signed_in=state.signed_in | {clerk})
    return state
