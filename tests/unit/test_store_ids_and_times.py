"""The store's event ids and time text."""
import datetime as dt
import uuid

import pytest

from services.eventstore.interface import format_time, new_event_id, parse_time, utc_now


def test_event_ids_are_uuid7_and_later_ids_sort_later():
    ids = [new_event_id() for _ in range(2000)]
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 and str(uuid.UUID(i)) == i
               for i in ids)
    assert len(set(ids)) == len(ids)
    first, later = ids[0], None
    # ids of a later millisecond sort after every id of an earlier one
    while later is None or later[:13] == first[:13]:
        later = new_event_id()
    assert later > max(i for i in ids if i[:13] == first[:13])


def test_the_time_text_is_fixed_width_utc_and_round_trips():
    now = utc_now()
    assert len(now) == 27 and now.endswith("Z")
    assert format_time(parse_time(now)) == now
    moment = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert format_time(moment) == "2026-05-01T00:30:00.000000Z"


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00.000000Z", "2026-02-30T00:00:00.000000Z",
                                  "2026-05-01T24:00:00.000000Z", "2026-05-01T00:00:00Z",
                                  "2026-05-01 00:00:00.000000Z", "2026-05-01T00:00:00.000000+08:00", "", None])
def test_anything_but_the_store_time_text_is_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)
