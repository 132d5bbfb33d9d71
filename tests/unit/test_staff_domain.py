"""Staff accounts decider: given past events, when a command, then events or a refusal."""
import datetime as dt

import pytest

from services.chassis.decider import NotFound, Rejected, fold
from services.staff import domain

AT = dt.datetime(2026, 5, 1, 7, 0, tzinfo=dt.timezone.utc)
CLERK = frozenset({"clerk"})


def given(*events):
    return fold(domain, events)


def created(staff_id="wang.fang", roles=("clerk",), desks=("main-gate",), admin=False, required=True):
    roles = tuple(sorted(set(roles) | ({"admin"} if admin else set())))
    return domain.StaffAccountCreated(staff_id, "王芳", roles, tuple(desks), "$argon2id$h1", required, AT)


def refusal(command, state):
    with pytest.raises(Rejected) as refused:
        domain.decide(command, state)
    return refused.value.code, refused.value.field


def test_an_admin_creates_an_account_that_must_change_its_one_time_password():
    events = domain.decide(domain.CreateStaffAccount("wang.fang", "王芳", CLERK, frozenset({"main-gate"}),
                                                     "$argon2id$h1", AT), given())
    assert events == [created()]
    account = given(*events)
    assert (account.roles, account.desks, account.password_change_required, account.active) == (
        CLERK, frozenset({"main-gate"}), True, True)


def test_an_account_needs_a_valid_id_and_known_roles():
    assert refusal(domain.CreateStaffAccount("Wang Fang", "王芳", CLERK, frozenset(), "h", AT), given()) == (
        "bad_staff_id", "staff_id")
    assert refusal(domain.CreateStaffAccount("wang", "王芳", frozenset(), frozenset(), "h", AT), given()) == (
        "no_roles", "roles")
    assert refusal(domain.CreateStaffAccount("wang", "王芳", frozenset({"boss"}), frozenset(), "h", AT),
                   given()) == ("unknown_role", "roles")


def test_an_account_is_created_once():
    assert refusal(domain.CreateStaffAccount("wang.fang", "王芳", CLERK, frozenset(), "h", AT),
                   given(created())) == ("already_exists", "staff_id")


def test_commands_on_an_unknown_account_are_not_found():
    with pytest.raises(NotFound):
        domain.decide(domain.EnableStaffAccount("nobody", AT), given())


def test_roles_and_desks_change_and_an_unchanged_set_records_nothing():
    state = given(created())
    both = frozenset({"clerk", "custodian"})
    events = domain.decide(domain.ChangeStaffRoles("wang.fang", both, frozenset(), 1, AT), state)
    assert events == [domain.StaffRolesChanged("wang.fang", ("clerk", "custodian"), (), AT)]
    assert given(created(), *events).roles == both
    assert domain.decide(domain.ChangeStaffRoles("wang.fang", CLERK, frozenset({"main-gate"}), 1, AT), state) == []


def test_the_last_active_admin_keeps_the_admin_role_and_stays_enabled():
    state = given(created("root", admin=True))
    assert refusal(domain.ChangeStaffRoles("root", CLERK, frozenset(), 0, AT), state) == ("last_admin", "staff_id")
    assert refusal(domain.DisableStaffAccount("root", "left", 0, AT), state) == ("last_admin", "staff_id")
    # with another active admin both are fine
    assert domain.decide(domain.ChangeStaffRoles("root", CLERK, frozenset(), 1, AT), state)
    assert domain.decide(domain.DisableStaffAccount("root", "left", 1, AT), state)


def test_a_disabled_account_cannot_log_in_until_enabled_again():
    disabled = (created(), domain.StaffAccountDisabled("wang.fang", "left the company", AT))
    state = given(*disabled)
    assert not state.active
    assert refusal(domain.DisableStaffAccount("wang.fang", "again", 1, AT), state) == ("already_disabled", "staff_id")
    assert refusal(domain.RecordLogin(state, "main-gate", "cli", AT), given()) == ("account_disabled", "staff_id")
    enabled = domain.decide(domain.EnableStaffAccount("wang.fang", AT), state)
    assert enabled == [domain.StaffAccountEnabled("wang.fang", AT)]
    assert given(*disabled, *enabled).active
    assert refusal(domain.EnableStaffAccount("wang.fang", AT), given(*disabled, *enabled)) == (
        "already_active", "staff_id")


def test_a_login_is_recorded_on_the_day_stream_at_an_assigned_desk_only():
    account = given(created(desks=("main-gate",)))
    assert domain.decide(domain.RecordLogin(account, "main-gate", "terminal-3", AT), given()) == [
        domain.StaffLoggedIn("wang.fang", "main-gate", "terminal-3", AT)]
    assert refusal(domain.RecordLogin(account, "north-gate", "terminal-3", AT), given()) == (
        "desk_not_assigned", "desk")
    anywhere = given(created(desks=()))
    assert domain.decide(domain.RecordLogin(anywhere, "north-gate", "t", AT), given())
    assert domain.decide(domain.RecordLogin(account, None, "cli", AT), given())  # no desk: the command line
    with pytest.raises(NotFound):
        domain.decide(domain.RecordLogin(None, "main-gate", "t", AT), given())
    assert domain.logins_stream_id("wang.fang", AT.date()) == "staff_logins-wang.fang-2026-05-01"


def test_a_password_change_replaces_the_hash_and_clears_the_one_time_flag():
    events = domain.decide(domain.SetStaffPassword("wang.fang", "$argon2id$h2", False, AT), given(created()))
    state = given(created(), *events)
    assert (state.password_hash, state.password_change_required) == ("$argon2id$h2", False)
