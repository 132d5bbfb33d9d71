"""Staff accounts decider, the rules at their edges: given past events, when a
command, then the events (every field) or the refusal (code, field and what
the message names)."""
import datetime as dt

import pytest

from contracts.roles import ADMIN, CLERK, CUSTODIAN, LEAD
from services.chassis.decider import NotFound, Rejected, fold
from services.staff import domain

AT = dt.datetime(2026, 5, 1, 7, 0, tzinfo=dt.timezone.utc)
LATER = AT + dt.timedelta(days=3)


def given(*events):
    return fold(domain, events)


def created(staff_id="wang.fang", roles=(CLERK,), desks=("main-gate",), required=True, password="$argon2id$h1"):
    return domain.StaffAccountCreated(staff_id, "王芳", tuple(sorted(roles)), tuple(sorted(desks)), password,
                                      required, AT)


def refused(command, state) -> Rejected:
    with pytest.raises(Rejected) as raised:
        domain.decide(command, state)
    return raised.value


def create(staff_id="wang.fang", roles=frozenset({CLERK}), desks=frozenset(), required=True):
    return domain.CreateStaffAccount(staff_id, "王芳", roles, desks, "$argon2id$h1", AT, required)


# -- creating ----------------------------------------------------------------------------------------
def test_roles_and_desks_are_recorded_sorted_and_the_one_time_flag_as_given():
    command = create(roles=frozenset({LEAD, CLERK, CUSTODIAN}), desks=frozenset({"north-gate", "main-gate"}),
                     required=False)
    [event] = domain.decide(command, given())
    assert event == domain.StaffAccountCreated(command.staff_id, command.display_name, tuple(sorted(command.roles)),
                                               tuple(sorted(command.desks)), command.password_hash, False, command.at)
    assert list(event.roles) == sorted(command.roles) and list(event.desks) == sorted(command.desks)


def test_a_created_account_is_active_with_everything_the_event_says():
    event = created(roles=(CLERK, CUSTODIAN), desks=("main-gate", "north-gate"), required=False)
    account = given(event)
    assert account == domain.StaffAccount(event.staff_id, event.display_name, frozenset(event.roles),
                                          frozenset(event.desks), event.password_hash, False, True)


@pytest.mark.parametrize("staff_id", ["ab", "wang.fang", "c-017", "x_9", "a" * 40, "0wang"])
def test_staff_ids_of_two_to_forty_allowed_characters_are_accepted(staff_id):
    assert domain.decide(create(staff_id), given())[0].staff_id == staff_id


@pytest.mark.parametrize("staff_id", ["a", "a" * 41, "Wang", "wang fang", ".wang", "-wang", "王芳", "wang\n"])
def test_other_staff_ids_are_refused_naming_the_field(staff_id):
    refusal = refused(create(staff_id), given())
    assert (refusal.code, refusal.field) == ("bad_staff_id", "staff_id")


def test_an_unknown_role_is_refused_naming_it_and_known_roles_alongside_do_not_help():
    refusal = refused(create(roles=frozenset({CLERK, "boss"})), given())
    assert (refusal.code, refusal.field) == ("unknown_role", "roles")
    assert "'boss'" in refusal.message
    # with two unknown roles the message names the first in order
    assert "'boss'" in refused(create(roles=frozenset({"zookeeper", "boss"})), given()).message


def test_an_account_without_roles_is_refused_also_when_changing_roles():
    assert (refused(create(roles=frozenset()), given()).code) == "no_roles"
    refusal = refused(domain.ChangeStaffRoles("wang.fang", frozenset(), frozenset(), 2, AT), given(created()))
    assert (refusal.code, refusal.field) == ("no_roles", "roles")
    assert refused(domain.ChangeStaffRoles("wang.fang", frozenset({"boss"}), frozenset(), 2, AT),
                   given(created())).code == "unknown_role"


def test_creating_an_existing_account_names_it():
    refusal = refused(create("wang.fang"), given(created("wang.fang")))
    assert (refusal.code, refusal.field) == ("already_exists", "staff_id") and "wang.fang" in refusal.message


def test_any_command_on_an_account_never_created_is_not_found_naming_it():
    for command in (domain.ChangeStaffRoles("li.ming", frozenset({CLERK}), frozenset(), 1, AT),
                    domain.SetStaffPassword("li.ming", "h", False, AT),
                    domain.DisableStaffAccount("li.ming", "left", 1, AT),
                    domain.EnableStaffAccount("li.ming", AT)):
        with pytest.raises(NotFound) as raised:
            domain.decide(command, given())
        assert raised.value.field == "staff_id" and "li.ming" in raised.value.message


# -- roles and the last admin --------------------------------------------------------------------------
def test_changing_only_the_desks_or_only_the_roles_is_recorded():
    state = given(created(roles=(CLERK,), desks=("main-gate",)))
    desks_only = domain.decide(domain.ChangeStaffRoles("wang.fang", frozenset({CLERK}),
                                                       frozenset({"north-gate", "main-gate"}), 1, LATER), state)
    assert desks_only == [domain.StaffRolesChanged("wang.fang", (CLERK,), ("main-gate", "north-gate"), LATER)]
    roles_only = domain.decide(domain.ChangeStaffRoles("wang.fang", frozenset({CUSTODIAN, CLERK}),
                                                       frozenset({"main-gate"}), 1, LATER), state)
    assert roles_only == [domain.StaffRolesChanged("wang.fang", (CLERK, CUSTODIAN), ("main-gate",), LATER)]


def test_a_roles_change_replaces_roles_and_desks_and_keeps_the_rest():
    before = created(roles=(CLERK,), desks=("main-gate",), required=False)
    after = given(before, domain.StaffRolesChanged("wang.fang", (CUSTODIAN,), (), LATER))
    assert (after.roles, after.desks) == (frozenset({CUSTODIAN}), frozenset())
    assert (after.password_hash, after.password_change_required, after.active, after.display_name) == (
        before.password_hash, False, True, before.display_name)


def test_the_last_admin_may_keep_admin_among_new_roles():
    state = given(created("root", roles=(ADMIN,)))
    events = domain.decide(domain.ChangeStaffRoles("root", frozenset({ADMIN, CLERK}), frozenset(), 0, AT), state)
    assert events[0].roles == (ADMIN, CLERK)


def test_the_last_admin_rule_needs_no_other_admin_for_accounts_that_are_no_admin_or_disabled():
    clerk = given(created(roles=(CLERK,)))
    assert domain.decide(domain.ChangeStaffRoles("wang.fang", frozenset({CUSTODIAN}), frozenset(), 0, AT), clerk)
    assert domain.decide(domain.DisableStaffAccount("wang.fang", "left", 0, AT), clerk)
    disabled_admin = given(created("root", roles=(ADMIN,)), domain.StaffAccountDisabled("root", "left", AT))
    assert domain.decide(domain.ChangeStaffRoles("root", frozenset({CLERK}), frozenset(), 0, AT), disabled_admin)


@pytest.mark.parametrize("others, allowed", [(0, False), (1, True), (2, True)])
def test_removing_admin_from_an_active_admin_needs_at_least_one_other_active_admin(others, allowed):
    state = given(created("root", roles=(ADMIN, CLERK)))
    commands = (domain.ChangeStaffRoles("root", frozenset({CLERK}), frozenset(), others, AT),
                domain.DisableStaffAccount("root", "left", others, AT))
    for command in commands:
        if allowed:
            assert domain.decide(command, state)
        else:
            refusal = refused(command, state)
            assert (refusal.code, refusal.field) == ("last_admin", "staff_id")
            assert refusal.message == "the center must keep at least one active admin"


# -- passwords, disabling, enabling ------------------------------------------------------------------------
@pytest.mark.parametrize("required", [True, False])
def test_a_password_set_records_the_new_hash_and_whether_it_must_be_changed(required):
    command = domain.SetStaffPassword("wang.fang", "$argon2id$h2", required, LATER)
    assert domain.decide(command, given(created(required=not required))) == [
        domain.StaffPasswordSet("wang.fang", "$argon2id$h2", required, LATER)]
    state = given(created(required=not required), domain.StaffPasswordSet("wang.fang", "$argon2id$h2", required,
                                                                          LATER))
    assert (state.password_hash, state.password_change_required, state.roles, state.active) == (
        "$argon2id$h2", required, frozenset({CLERK}), True)


def test_disabling_records_the_reason_and_keeps_roles_and_password():
    state = given(created())
    assert domain.decide(domain.DisableStaffAccount("wang.fang", "left the company", 1, LATER), state) == [
        domain.StaffAccountDisabled("wang.fang", "left the company", LATER)]
    disabled = given(created(), domain.StaffAccountDisabled("wang.fang", "left the company", LATER))
    assert disabled.active is False and (disabled.roles, disabled.password_hash) == (state.roles, state.password_hash)
    refusal = refused(domain.DisableStaffAccount("wang.fang", "again", 1, LATER), disabled)
    assert "wang.fang" in refusal.message


def test_enabling_a_disabled_account_makes_it_active_and_enabling_an_active_one_names_it():
    disabled = given(created(), domain.StaffAccountDisabled("wang.fang", "left", AT))
    assert domain.decide(domain.EnableStaffAccount("wang.fang", LATER), disabled) == [
        domain.StaffAccountEnabled("wang.fang", LATER)]
    assert given(created(), domain.StaffAccountDisabled("wang.fang", "left", AT),
                 domain.StaffAccountEnabled("wang.fang", LATER)).active is True
    refusal = refused(domain.EnableStaffAccount("wang.fang", LATER), given(created()))
    assert (refusal.code, refusal.field) == ("already_active", "staff_id") and "wang.fang" in refusal.message


# -- logins ----------------------------------------------------------------------------------------------
def test_a_login_records_account_desk_source_and_time():
    account = given(created(desks=("main-gate",)))
    assert domain.decide(domain.RecordLogin(account, "main-gate", "terminal-3", LATER), given()) == [
        domain.StaffLoggedIn("wang.fang", "main-gate", "terminal-3", LATER)]


def test_a_login_needs_the_account_whatever_the_stream_state():
    with pytest.raises(NotFound) as raised:
        domain.decide(domain.RecordLogin(None, "main-gate", "t", AT), given(created()))
    assert raised.value.field == "staff_id"


def test_a_disabled_account_is_refused_before_its_desks_are_looked_at():
    disabled = given(created(desks=("main-gate",)), domain.StaffAccountDisabled("wang.fang", "left", AT))
    refusal = refused(domain.RecordLogin(disabled, "north-gate", "t", AT), given())
    assert (refusal.code, refusal.field) == ("account_disabled", "staff_id")


def test_a_login_at_a_desk_not_assigned_names_the_clerk_and_the_desk():
    account = given(created(desks=("main-gate", "south-gate")))
    refusal = refused(domain.RecordLogin(account, "north-gate", "t", AT), given())
    assert (refusal.code, refusal.field) == ("desk_not_assigned", "desk")
    assert "wang.fang" in refusal.message and "north-gate" in refusal.message
    assert domain.decide(domain.RecordLogin(account, "south-gate", "t", AT), given())


@pytest.mark.parametrize("desks, desk, may", [((), "north-gate", True), ((), None, True),
                                              (("main-gate",), None, True), (("main-gate",), "main-gate", True),
                                              (("main-gate",), "north-gate", False)])
def test_an_account_works_at_its_desks_or_anywhere_when_none_are_listed(desks, desk, may):
    assert given(created(desks=desks)).may_work_at(desk) is may


# -- the decider's edges -------------------------------------------------------------------------------------
def test_a_command_the_decider_does_not_know_is_a_programming_error_naming_it_and_the_state():
    class PromoteEveryone:
        staff_id = "wang.fang"

    with pytest.raises(TypeError, match="PromoteEveryone.*StaffAccount"):
        domain.decide(PromoteEveryone(), given(created()))


def test_an_event_the_decider_does_not_know_leaves_the_account_alone():
    state = given(created())
    assert domain.evolve(state, object()) is state
    assert given() == domain.NoAccount()


def test_each_account_and_each_of_its_login_days_has_its_own_stream():
    day = AT.date()
    assert domain.stream_id("wang.fang") == "staff-wang.fang"
    assert domain.logins_stream_id("wang.fang", day) != domain.logins_stream_id("wang.fang", day + dt.timedelta(1))
    assert domain.logins_stream_id("wang.fang", day) != domain.logins_stream_id("li.ming", day)


def test_each_refusal_explains_the_rule_in_words_a_clerk_can_read():
    disabled = given(created(), domain.StaffAccountDisabled("wang.fang", "left", AT))
    refusals = {
        "no_roles": refused(create(roles=frozenset()), given()),
        "bad_staff_id": refused(create("Wang"), given()),
        "account_disabled": refused(domain.RecordLogin(disabled, None, "cli", AT), given()),
    }
    assert {code: refusal.message for code, refusal in refusals.items()} == {
        "no_roles": "a staff account needs at least one role",
        "bad_staff_id": "a staff id is 2-40 lower-case letters, digits, '.', '_' or '-'",
        "account_disabled": "this staff account is disabled",
    }
    with pytest.raises(NotFound) as raised:
        domain.decide(domain.RecordLogin(None, None, "cli", AT), given())
    assert raised.value.message == "no such staff account"
