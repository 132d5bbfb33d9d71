"""Command ids through `commands.execute`, on both backends: a retry racing
its original gets the first result, and an id reused on another stream is a
conflict naming `command_id`."""
import datetime as dt
import uuid

import pytest

import contracts
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.decider import Rejected
from services.chassis.errors import translate
from services.duty_log import domain
from services.eventstore import CommandIdConflict, open_store

AT = dt.datetime(2026, 5, 1, 7, 28, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DAY = dt.date(2026, 5, 1)


@pytest.fixture(params=["sqlite", "mongomock"])
def store(request, tmp_path):
    uri = f"sqlite:///{tmp_path}/events.db" if request.param == "sqlite" else f"mongomock://test/{uuid.uuid4().hex}"
    with open_store(uri, validator=contracts.registry) as opened:
        yield opened


@pytest.fixture
def codec():
    return EventCodec(contracts.registry, domain.EVENTS)


def sign_in(store, codec, clerk="c-017", command_id=None, desk="main-gate"):
    command = domain.SignInClerk(desk, DAY, clerk, "王芳", AT)
    return execute(store, codec, domain, domain.stream_id(desk, DAY), command, occurred_at=AT,
                   metadata={"actor": clerk, "desk": desk}, command_id=command_id)


class OriginalCommitsMeanwhile:
    """The store as a retry sees it while its original is still in flight:
    the original commits right after the retry's first call of ``moment``."""

    def __init__(self, store, moment, original):
        self._store, self._moment, self._original = store, moment, original
        self.original_result = None

    def __getattr__(self, name):
        attribute = getattr(self._store, name)
        if name != self._moment or self.original_result is not None:
            return attribute

        def then_the_original_commits(*args, **kwargs):
            result = attribute(*args, **kwargs)
            self.original_result = self._original()
            return result
        return then_the_original_commits


@pytest.mark.parametrize("moment", ["command_result", "read_stream"])
def test_a_retry_whose_original_commits_meanwhile_gets_the_first_result_not_a_refusal(store, codec, moment):
    command_id = str(uuid.uuid4())
    racing = OriginalCommitsMeanwhile(store, moment, lambda: sign_in(store, codec, command_id=command_id))
    retry = sign_in(racing, codec, command_id=command_id)
    assert racing.original_result is not None and not racing.original_result.duplicate
    assert retry.duplicate is True
    assert retry.events == racing.original_result.events
    assert store.head().position == 1
    with pytest.raises(Rejected):  # the same sign-in with a new command id is refused: it was decided
        sign_in(store, codec)


def test_a_command_id_reused_on_another_stream_is_a_conflict_naming_command_id(store, codec):
    command_id = str(uuid.uuid4())
    first = sign_in(store, codec, command_id=command_id)
    with pytest.raises(CommandIdConflict) as raised:
        sign_in(store, codec, command_id=command_id, desk="east-gate")
    assert store.head().position == 1
    body = translate(raised.value).body
    assert body["code"] == "conflict"
    assert list(body["fields"]) == ["command_id"]
    assert command_id not in str(body)  # the client's id is not echoed
    assert sign_in(store, codec, command_id=command_id).events == first.events


def test_the_store_refuses_the_reused_id_too_when_the_lookup_missed_it(store, codec):
    command_id = str(uuid.uuid4())
    racing = OriginalCommitsMeanwhile(store, "command_result", lambda: sign_in(store, codec, command_id=command_id))
    with pytest.raises(CommandIdConflict):
        sign_in(racing, codec, command_id=command_id, desk="east-gate")
    assert store.head().position == 1
