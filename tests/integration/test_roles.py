"""Roles on every RPC, through the real broker. The expected table is written
here, not read back from the contracts, so a wrong declaration fails: for
each RPC and each role, a caller holding only that role is let in or gets
``forbidden``; no principal is ``unauthenticated``; a client speaking AMQP
itself with a made-up principal is refused too. Nothing is appended."""
import json
import uuid

import kombu
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

import contracts
from contracts import roles as r
from services import catalogue
from services.chassis.errors import error_body
from services.chassis.principal import CONTEXT_KEY
from services.eventstore import open_store

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]

DESK_READERS = {r.CLERK, r.TEAM_LEAD, r.CUSTODIAN, r.LEAD, r.SUPERVISOR, r.SECTION_HEAD, r.DEPARTMENT_MANAGER,
                r.DUTY_MANAGER, r.AUDITOR}
VERIFIERS = {r.CLERK, r.TEAM_LEAD, r.CUSTODIAN}
EVERYONE = set(r.ALL)
OPEN = set()

#: who may call what: the access table of docs/identity.md
EXPECTED = {
    ("duty_log", "sign_in"): {r.CLERK},
    ("forms", "sign_in_sheet"): DESK_READERS,
    ("lost_and_found", "turn_in_by_staff"): {r.CLERK},
    ("lost_and_found", "turn_in_by_visitor"): {r.CLERK},
    ("lost_and_found", "turn_in_on_site"): {r.CLERK, r.TEAM_LEAD},
    ("lost_and_found", "report_lost_item"): {r.CLERK},
    ("lost_and_found", "suggest_matches"): {r.CLERK, r.CUSTODIAN, r.LEAD},
    ("lost_and_found", "confirm_match"): {r.CLERK},
    ("lost_and_found", "release_match"): {r.CLERK},
    ("lost_and_found", "record_visitor_contact"): {r.CLERK},
    ("lost_and_found", "record_claim_verification"): VERIFIERS,
    ("lost_and_found", "claim_item"): VERIFIERS,
    ("lost_and_found", "file_on_spot_claim_form"): {r.CLERK},
    ("lost_and_found", "hand_to_custodian"): {r.CLERK, r.CUSTODIAN},
    ("lost_and_found", "hand_over_to_finance"): {r.CUSTODIAN},
    ("lost_and_found", "sign_off_finance_handover"): {r.FINANCE, r.CUSTODIAN},
    ("lost_and_found", "item"): VERIFIERS | {r.LEAD},
    ("lost_and_found", "claimant_view"): DESK_READERS,
    ("forms", "found_item_form"): DESK_READERS,
    ("forms", "lost_item_report_form"): DESK_READERS,
    ("forms", "lost_item_summary"): DESK_READERS,
    ("forms", "good_deeds_summary"): DESK_READERS,
    ("forms", "found_item_receipt"): {r.CLERK, r.TEAM_LEAD, r.CUSTODIAN, r.LEAD, r.AUDITOR},
    ("forms", "item_information_card"): {r.CLERK, r.TEAM_LEAD, r.CUSTODIAN, r.LEAD, r.AUDITOR},
    ("forms", "valuables_awaiting_custody"): DESK_READERS,
    ("forms", "on_spot_claims_not_filed"): DESK_READERS,
    ("forms", "finance_handover_list"): {r.CUSTODIAN, r.FINANCE, r.LEAD, r.AUDITOR},
    ("forms", "open_cases"): DESK_READERS,
    ("forms", "find_item"): DESK_READERS,
    ("forms", "stream_history"): {r.AUDITOR, r.LEAD},
    ("forms", "log_verification"): {r.AUDITOR, r.LEAD},
    ("forms", "found_item_form_as_of"): {r.AUDITOR, r.LEAD},
    ("lost_and_found", "correct_item"): {r.TEAM_LEAD, r.LEAD},
    ("lost_and_found", "void_item"): {r.TEAM_LEAD, r.LEAD},
    ("lost_and_found", "send_item_to_desk"): {r.CLERK},
    ("lost_and_found", "receive_item_at_desk"): {r.CLERK},
    ("lost_and_found", "capture_signature"): {r.CLERK, r.TEAM_LEAD, r.CUSTODIAN, r.FINANCE},
    ("lost_and_found", "claim_item_by_proxy"): {r.CLERK, r.CUSTODIAN},
    ("lost_and_found", "arrange_courier_return"): {r.CLERK, r.CUSTODIAN},
    ("lost_and_found", "record_courier_dispatch"): {r.CLERK, r.CUSTODIAN},
    ("lost_and_found", "dispose_items"): {r.CUSTODIAN},
    ("lost_and_found", "sign_off_disposal"): {r.CUSTODIAN},
    ("forms", "disposal_list"): {r.CUSTODIAN, r.LEAD, r.AUDITOR},
    ("forms", "public_notice_list"): OPEN,  # the notice board (招领公告) has no login
    ("forms", "items_on_the_way"): DESK_READERS,
    ("staff", "login"): OPEN,
    ("staff", "refresh"): EVERYONE,
    ("staff", "whoami"): EVERYONE,
    ("staff", "change_own_password"): EVERYONE,
    ("staff", "add_staff"): {r.ADMIN},
    ("staff", "set_roles"): {r.ADMIN},
    ("staff", "reset_password"): {r.ADMIN},
    ("staff", "disable_staff"): {r.ADMIN},
    ("staff", "enable_staff"): {r.ADMIN},
    ("staff", "list_staff"): {r.ADMIN, r.LEAD},
    ("privacy", "erase"): {r.LEAD, r.ADMIN},
    ("privacy", "sweep"): {r.LEAD, r.ADMIN},
    ("privacy", "subject_access"): {r.LEAD},
}


def outcome(call) -> str:
    try:
        call({})
    except RemoteError as exc:
        return error_body(exc)["code"]
    return "ok"


@pytest.fixture
def every_service(runner_factory, service_config):
    runner_factory(service_config, *catalogue.serving(contracts.registry.rpcs)).start()
    store = open_store(service_config["EVENT_STORE_URI"])
    yield store
    store.close()


def test_the_table_covers_every_registered_rpc():
    assert set(EXPECTED) == set(contracts.registry.rpcs)


def test_each_role_reaches_exactly_the_rpcs_of_the_table_and_nothing_is_appended(every_service, service_config,
                                                                                 token_for):
    wrong = []
    for role in sorted(r.ALL):
        context = {CONTEXT_KEY: token_for(role, staff_id=f"someone-{role}")}
        with ClusterRpcProxy(service_config, context_data=context, timeout=20) as rpc:
            for (service, method), allowed in sorted(EXPECTED.items()):
                got = outcome(getattr(getattr(rpc, service), method))
                # the principal is valid, so a refusal of it is "forbidden"; "unauthenticated"
                # past the roles check is the account's own state (refresh of an unknown account)
                let_in = got != "forbidden"
                if let_in != (role in allowed or not allowed):
                    wrong.append((service, method, role, got))
    assert wrong == []
    # an empty payload is enough for one command only: the clerk's own sign-in (desk from the principal)
    assert [(e.type, e.metadata["actor"]) for e in every_service.read_all()] == [("ClerkSignedIn", "someone-clerk")]


def test_without_a_principal_only_the_open_rpcs_answer(every_service, service_config):
    with ClusterRpcProxy(service_config, timeout=20) as rpc:
        got = {(service, method): outcome(getattr(getattr(rpc, service), method)) for service, method in EXPECTED}
    assert {key for key, code in got.items() if code != "unauthenticated"} == {
        key for key, allowed in EXPECTED.items() if not allowed}


def test_a_client_speaking_amqp_itself_with_a_made_up_principal_is_refused(every_service, service_config):
    """No nameko on the client side: a raw message to the RPC exchange whose
    header claims an admin (an unsigned token, then a token with a garbage
    signature)."""
    unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJyb290Iiwicm9sZXMiOlsiYWRtaW4iXX0."
    garbage = unsigned + "c2lnbmF0dXJl"
    answers = []
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
    name = f"forged-{uuid.uuid4().hex}"
    with kombu.Connection(service_config["AMQP_URI"]) as connection:
        # nameko answers on its RPC exchange with the reply_to as routing key
        replies = kombu.Queue(name, exchange=exchange, routing_key=name, exclusive=True, auto_delete=True)
        with connection.Consumer(replies, callbacks=[lambda body, message: (answers.append(body), message.ack())],
                                 accept=["json"]):
            for token in (unsigned, garbage):
                connection.Producer().publish(
                    {"args": [{"staff_id": "mallory", "display_name": "M", "roles": ["admin"]}], "kwargs": {}},
                    exchange=exchange, routing_key="staff.add_staff",
                    reply_to=replies.name, correlation_id=uuid.uuid4().hex, serializer="json",
                    headers={f"nameko.{CONTEXT_KEY}": token}, declare=[replies])
            while len(answers) < 2:
                connection.drain_events(timeout=20)
    assert [json.loads(answer["error"]["value"])["code"] for answer in answers] == ["unauthenticated"] * 2
    assert every_service.head().position == 0
