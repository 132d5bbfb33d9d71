"""A fold's rows in buckets pickled apart (services/chassis/buckets.py): read
back, a bucket stays pickled until one of its rows is used, in any process."""
import os
import pickle
import subprocess
import sys
import zlib

from services.chassis.buckets import Buckets
from services.lost_and_found.forms import FoundItemForms
from tests.conftest import ROOT


def rows(count: int = 200) -> Buckets:
    made = Buckets()
    for number in range(count):
        made[f"item-{number}"] = {"item_id": f"item-{number}", "positions": [number]}
    return made


def packed_count(buckets: Buckets) -> int:
    return sum(bucket.__class__ is bytes for bucket in buckets._buckets)


def test_rows_go_in_and_come_out_like_a_dict():
    made = rows()
    assert len(made) == 200 and "item-7" in made and "item-200" not in made and None not in made
    assert made["item-7"] == {"item_id": "item-7", "positions": [7]} and made.get("item-200") is None
    assert made.get(None, "none") == "none"  # a signature on a handover list names no item
    made["item-7"]["positions"].append(300)
    del made["item-8"]
    assert made.get("item-7")["positions"] == [7, 300] and "item-8" not in made and len(made) == 199
    assert sorted(made.keys()) == sorted(key for key, _ in made.items()) == sorted(made)
    assert made == {key: row for key, row in made.items()} and made != {"item-1": {}} and made != [1]


def test_read_back_a_bucket_stays_pickled_until_a_row_of_it_is_used():
    restored = pickle.loads(pickle.dumps({"forms": rows()}))["forms"]
    assert packed_count(restored) == 16
    assert restored.get("item-7") == {"item_id": "item-7", "positions": [7]}
    assert packed_count(restored) == 15  # the one bucket of item-7
    used = zlib.crc32(b"item-7") % 16
    again = pickle.loads(pickle.dumps(restored))
    assert [bucket for index, bucket in enumerate(again._buckets) if index != used] == \
        [bucket for index, bucket in enumerate(restored._buckets) if index != used]  # written as they were read
    assert pickle.loads(again._buckets[used]) == restored._buckets[used]  # the used one pickled anew
    assert again == restored == rows() and len(again) == 200 and packed_count(again) == 0


def test_a_row_is_found_in_its_bucket_by_another_process_whatever_its_string_hashes():
    blob = pickle.dumps(rows())
    script = ("import pickle, sys; made = pickle.loads(sys.stdin.buffer.read()); "
              "print(made.get('item-123'), len(made))")
    for seed in ("1", "2"):
        shown = subprocess.run([sys.executable, "-c", script], input=blob, capture_output=True, cwd=ROOT,
                               env=dict(os.environ, PYTHONHASHSEED=seed), timeout=60)
        assert shown.stdout.decode().strip() == "{'item_id': 'item-123', 'positions': [123]} 200", shown.stderr


def test_the_found_item_forms_read_their_buckets_back_one_at_a_time():
    fold = FoundItemForms()
    fold.forms = rows()
    restored = pickle.loads(pickle.dumps(fold))
    reads = 0
    while restored.read_back():
        reads += 1
        assert packed_count(restored.forms) == 16 - reads
    assert reads == 16 and restored.forms == rows()
