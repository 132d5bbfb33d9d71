"""The case index (services/lost_and_found/case_index.py) in more detail: given
the events of turn-ins, reports, matches and claims, when a clerk asks for
suggestions, then every recorded field of a case counts, hidden features count
whether sealed or not, and a restored index keeps its own matcher."""
import datetime as dt
import pickle
from types import SimpleNamespace

import pytest

from services.lost_and_found import matching as m
from services.lost_and_found.case_index import CaseIndex

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 10, 2, 9, 0, tzinfo=CST)


@pytest.fixture  # per test: mutmut counts a fixture for the first test only
def matcher():
    return m.load_matcher()


def record(kind):
    return SimpleNamespace(type=kind)


def turned_in(item_id, **changes):
    values = {"item_id": item_id, "item_name": "钱包", "category": "wallet", "description": "棕色皮钱包",
              "found_place": "玉皇阁", "found_at": T0 + dt.timedelta(hours=1), "hidden_features": [],
              "short_code": f"LF-{item_id.upper()}", "retain_until": dt.date(2026, 12, 31)}
    return values | changes


def reported(report_id, **changes):
    values = {"report_id": report_id, "item_name": "钱包", "category": "wallet", "description": "棕色皮钱包",
              "features": "", "lost_place": "玉皇阁", "lost_from": T0, "lost_until": T0 + dt.timedelta(hours=3)}
    return values | changes


def ranked_ids(index, kind, case_id, limit=10):
    return [s["id"] for s in index.suggestions(kind, case_id, limit)]


# the item that agrees with the report in one field, against one that differs only there
FIELDS = [
    ("item_name", dict(item_name="雨伞"), dict(item_name="钱包")),
    ("category", dict(category="umbrella"), dict(category="wallet")),
    ("description", dict(description="黑色折叠伞"), dict(description="棕色皮钱包")),
    ("found_place", dict(found_place="北门检票口"), dict(found_place="玉皇阁")),
]


@pytest.mark.parametrize("field, differs, agrees", FIELDS, ids=[f[0] for f in FIELDS])
def test_each_recorded_field_of_an_item_counts_for_its_rank(matcher, field, differs, agrees):
    index = CaseIndex(matcher)
    index.apply(record("LostItemReported"), reported("r1"))
    index.apply(record("FoundItemTurnedIn"), turned_in("a-differs", **differs))
    index.apply(record("FoundItemTurnedIn"), turned_in("b-agrees", **agrees))
    assert ranked_ids(index, "report", "r1")[0] == "b-agrees"


def hidden_turn_in(item_id, feature):
    return turned_in(item_id, description="棕色钱包", hidden_features=[["夹层", feature]])


@pytest.mark.parametrize("seal, open_sealed", [(None, None), (lambda v: "sealed:" + v[::-1],
                                                             lambda v: v[len("sealed:"):][::-1])],
                         ids=["plain", "sealed"])
def test_a_hidden_feature_counts_for_the_match_whether_it_is_kept_sealed_or_plain(matcher, seal, open_sealed):
    index = CaseIndex(matcher, open_sealed) if open_sealed else CaseIndex(matcher)
    feature = "一张皮卡丘贴纸"
    index.apply(record("FoundItemTurnedIn"), hidden_turn_in("a-other", (seal or str)("一张地铁票")))
    index.apply(record("FoundItemTurnedIn"), hidden_turn_in("b-owner", (seal or str)(feature)))
    index.apply(record("LostItemReported"), reported("r1", description="棕色钱包", features="夹层里有皮卡丘贴纸"))
    [first, *_] = index.suggestions("report", "r1")
    assert first["id"] == "b-owner"
    assert any(reason.startswith("hidden_feature_agrees") for reason in first["reasons"])
    assert "皮卡丘" not in repr(index.suggestions("report", "r1"))


def test_suggestions_keep_to_the_limit_asked(matcher):
    index = CaseIndex(matcher)
    index.apply(record("LostItemReported"), reported("r1"))
    for n in range(12):
        index.apply(record("FoundItemTurnedIn"), turned_in(f"p{n:02}"))
    assert len(ranked_ids(index, "report", "r1", limit=1)) == 1
    assert len(ranked_ids(index, "report", "r1", limit=11)) == 11
    assert len(index.suggestions("report", "r1")) == 10


def test_the_index_knows_only_items_and_reports_that_were_recorded(matcher):
    index = CaseIndex(matcher)
    index.apply(record("FoundItemTurnedIn"), turned_in("p1"))
    index.apply(record("LostItemReported"), reported("r1"))
    assert index.knows("item", "p1") and not index.knows("item", "p9") and not index.knows("item", "r1")
    assert index.knows("report", "r1") and not index.knows("report", "p1")
    index.apply(record("FoundItemClaimed"), {"item_id": "p1", "report_id": None})
    assert index.knows("item", "p1") and not index.unclaimed("p1")


def test_a_restored_index_scores_with_the_matcher_it_was_made_with(matcher):
    # a deployment's own weights: the place counts ten times more than by default
    own = m.Matcher(matcher.lexicon, matcher.gazetteer, m.Weights(same_place=25.0))
    live = CaseIndex(own)
    live.apply(record("LostItemReported"), reported("r1"))
    live.apply(record("FoundItemTurnedIn"), turned_in("p1"))
    restored = CaseIndex(own)
    restored.restore(pickle.loads(pickle.dumps(live.snapshot())))
    assert restored.suggestions("report", "r1") == live.suggestions("report", "r1")
    default = CaseIndex(matcher)
    default.restore(pickle.loads(pickle.dumps(live.snapshot())))
    assert default.suggestions("report", "r1")[0]["score"] < restored.suggestions("report", "r1")[0]["score"]



REPORT_FIELDS = [
    ("item_name", dict(item_name="雨伞"), dict(item_name="钱包")),
    ("description", dict(description="黑色折叠伞"), dict(description="棕色皮钱包")),
    ("lost_place", dict(lost_place="北门检票口"), dict(lost_place="玉皇阁")),
]


@pytest.mark.parametrize("field, differs, agrees", REPORT_FIELDS, ids=[f[0] for f in REPORT_FIELDS])
def test_each_recorded_field_of_a_report_counts_for_its_rank(matcher, field, differs, agrees):
    index = CaseIndex(matcher)
    index.apply(record("FoundItemTurnedIn"), turned_in("p1"))
    index.apply(record("LostItemReported"), reported("a-differs", **differs))
    index.apply(record("LostItemReported"), reported("b-agrees", **agrees))
    assert ranked_ids(index, "item", "p1")[0] == "b-agrees"


def test_a_report_opened_again_is_shown_with_its_details_and_closes_for_good_on_its_own_claim(matcher):
    index = CaseIndex(matcher)
    index.apply(record("FoundItemTurnedIn"), turned_in("p1"))
    index.apply(record("FoundItemTurnedIn"), turned_in("p2"))
    index.apply(record("LostItemReported"), reported("r1"))
    index.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p1"})
    assert "r1" not in index.open_reports and ranked_ids(index, "item", "p2") == []
    # p1 goes to someone else: r1 is open again, shown from the other item with what a clerk needs
    index.apply(record("FoundItemClaimed"), {"item_id": "p1", "report_id": None})
    [shown] = index.suggestions("item", "p2")
    assert (shown["id"], shown["item_name"], shown["place"], shown["short_code"]) == ("r1", "钱包", "玉皇阁", None)
    # matched to p2 and claimed with it: closed, also after a restore
    index.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p2"})
    index.apply(record("FoundItemClaimed"), {"item_id": "p2", "report_id": "r1"})
    restored = CaseIndex(matcher)
    restored.restore(pickle.loads(pickle.dumps(index.snapshot())))
    for each in (index, restored):
        assert ("report", "r1") not in each.pool and len(each.pool) == 0 and each.knows("report", "r1")
