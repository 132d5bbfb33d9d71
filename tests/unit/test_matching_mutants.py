"""The open pool in a busy window (MatchPool._narrowed) and the other parts of
matching the ranking tests reach only by chance: which cases a busy window
scores (rare words, the place and its neighbours within a day, long loss
windows), in which order it keeps the best, durations in reasons, and
:func:`rank` from either side.

Cases are built as profiles (term -> weight) so each test controls exactly
what the two sides share; a window with ``exact_up_to=0`` always narrows."""
import datetime as dt

import pytest

from services.lost_and_found import matching as m

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 10, 2, 9, 0, tzinfo=CST)   # the loss window is 09:00-12:00
HOUR = 3600.0


@pytest.fixture  # per test: mutmut counts a fixture for the first test only
def matcher():
    return m.load_matcher()


def narrow(matcher, scored=100):
    return m.Matcher(matcher.lexicon, matcher.gazetteer, matcher.weights, m.Window(exact_up_to=0, scored=scored))


def ts(hours):
    return (T0 + dt.timedelta(hours=hours)).timestamp()


def found(case_id, at=1.0, place="?far", terms=None):
    terms = dict(terms or {})
    return m.Profile(case_id, m.ITEM, "phone", place, place, ts(at), ts(at), terms, frozenset(terms), frozenset())


def lost(case_id="r", start=0.0, end=3.0, place="?lost-here", terms=None):
    terms = dict(terms or {})
    return m.Profile(case_id, m.REPORT, "phone", place, place, ts(start), ts(end), terms, frozenset(terms),
                     frozenset())


def pool_of(matcher, *profiles, scored=100):
    pool = m.MatchPool(narrow(matcher, scored))
    for profile in profiles:
        pool.add(profile)
    return pool


def candidate_ids(pool, kind, case_id):
    return [p.id for p in pool.candidates(pool.profile(kind, case_id))]


# -- which cases a busy window scores ---------------------------------------------------------------
def test_a_word_in_at_most_eight_cases_of_a_small_pool_finds_candidates(matcher):
    def pool(sharing):
        items = [found(f"i{n}", terms={"贴纸": 1.0}) for n in range(sharing)]
        return pool_of(matcher, lost(terms={"贴纸": 1.0, "柯基": 1.0}), *items, found("rare", terms={"柯基": 1.0}))

    # given the report and 7 items share a word (8 cases): the word finds them
    assert sorted(candidate_ids(pool(7), m.REPORT, "r")) == sorted(["rare"] + [f"i{n}" for n in range(7)])
    # given 8 items share it (9 cases): it is too common to find any; the rare word still finds its item
    assert candidate_ids(pool(8), m.REPORT, "r") == ["rare"]


def test_in_a_large_pool_a_word_is_common_beyond_five_percent_of_the_cases(matcher):
    filler = [found(f"old-{n}", at=-24 * 90, terms={f"词{n}": 1.0}) for n in range(385)]   # 400 cases in all
    sharing = [found(f"i{n}", terms={"贴纸": 1.0}) for n in range(14)]
    pool = pool_of(matcher, lost(terms={"贴纸": 1.0}), *sharing, *filler)
    assert len(pool) == 400
    # 15 cases of 400 hold the word: under 5% (20), so it finds them
    assert sorted(candidate_ids(pool, m.REPORT, "r")) == sorted(p.id for p in sharing)
    more = [found(f"j{n}", terms={"贴纸": 1.0}) for n in range(10)]
    for profile in more:
        pool.add(profile)
    # 25 cases of 410: over 5% (20.5), so it finds none
    assert candidate_ids(pool, m.REPORT, "r") == []


def test_the_place_finds_cases_there_within_a_day_of_the_loss_window_edges_included(matcher):
    place = "?北门长椅"
    items = [found("a-inside", at=1, place=place),
             found("b-a-day-and-more-before", at=-30, place=place),
             found("c-a-day-and-more-after", at=3 + 30, place=place),
             found("d-a-day-after", at=3 + 24, place=place),       # ids sort after the key's own
             found("0-a-day-before", at=-24, place=place),         # and before it
             found("e-elsewhere", at=1, place="?南门")]
    pool = pool_of(matcher, lost(place=place), *items)
    assert sorted(candidate_ids(pool, m.REPORT, "r")) == ["0-a-day-before", "a-inside", "d-a-day-after"]


def test_the_place_finds_cases_at_its_neighbours_too(matcher):
    gazetteer = matcher.gazetteer
    here = gazetteer.resolve("北门检票口")
    neighbour = sorted(gazetteer.neighbours(here))[0]
    far = next(p for p in sorted(gazetteer.places) if p != here and p not in gazetteer.neighbours(here))
    pool = pool_of(matcher, lost(place=here), found("next-door", place=neighbour), found("far", place=far))
    assert candidate_ids(pool, m.REPORT, "r") == ["next-door"]


def test_a_report_with_a_long_loss_window_is_scored_for_an_item_that_shares_nothing_with_it(matcher):
    long_report = lost("long", start=-24 * 10, end=3, place="?somewhere")
    pool = pool_of(matcher, long_report, found("i", at=1, place="?far"))
    assert candidate_ids(pool, m.ITEM, "i") == ["long"]


def test_a_case_outside_the_time_window_is_skipped_and_the_rest_still_scored(matcher):
    # the word "甲" (sorted first) finds an item found three days before the loss: it does not fit
    pool = pool_of(matcher, lost(terms={"甲": 1.0, "乙": 1.0}), found("too-early", at=-72, terms={"甲": 1.0}),
                   found("fits", at=1, terms={"乙": 1.0}))
    assert candidate_ids(pool, m.REPORT, "r") == ["fits"]


# -- which of them a busy window keeps ------------------------------------------------------------------
def best(pool, kind="report", case_id="r"):
    [kept] = pool.candidates(pool.profile(kind, case_id))
    return kept.id


def test_a_word_the_item_holds_more_strongly_ranks_it_higher(matcher):
    pool = pool_of(matcher, lost(terms={"贴纸": 1.0}), found("strong", terms={"贴纸": 2.0}),
                   found("weak", terms={"贴纸": 0.5}), scored=1)
    assert best(pool) == "strong"


def test_a_rarer_shared_word_ranks_higher_than_a_commoner_one(matcher):
    common = [found(f"old-{n}", at=-24 * 90, terms={"黑色": 1.0}) for n in range(4)]
    pool = pool_of(matcher, lost(terms={"黑色": 1.0, "皮卡丘": 1.0}), found("b-rare", terms={"皮卡丘": 1.0}),
                   found("a-common", terms={"黑色": 1.0}), *common, scored=1)
    assert best(pool) == "b-rare"


def test_the_words_shared_add_up(matcher):
    pool = pool_of(matcher, lost(terms={"甲": 1.0, "乙": 1.0, "丙": 1.0}), found("two-words", terms={"甲": 1.0, "乙": 1.0}),
                   found("one-stronger", terms={"丙": 1.5}), scored=1)
    assert best(pool) == "two-words"


def test_place_and_time_evidence_are_added_to_the_words_found(matcher):
    here = "?北门长椅"
    # a faint shared word, elsewhere, in the window ...
    faint = found("faint-word", terms={"贴纸": 0.1})
    # ... against nothing shared, at the same place, three hours early (+2.5 - 2.0)
    there = found("same-place-early", at=-3, place=here)
    assert best(pool_of(matcher, lost(place=here, terms={"贴纸": 1.0}), faint, there, scored=1)) == "same-place-early"
    # a clearer shared word (about 0.8) beats the same place three hours early (0.5)
    clear = found("clear-word", terms={"贴纸": 0.4})
    assert best(pool_of(matcher, lost(place=here, terms={"贴纸": 1.0}), clear, there, scored=1)) == "clear-word"


def test_a_long_report_found_by_nothing_but_its_window_weighs_less_than_a_shared_word(matcher):
    pool = pool_of(matcher, found("i", at=1, terms={"贴纸": 1.0}), lost("long", start=-24 * 10, end=3),
                   lost("word", terms={"贴纸": 0.25}), scored=1)
    assert best(pool, m.ITEM, "i") == "word"


def test_time_evidence_is_taken_with_report_and_item_in_their_places_from_either_side(matcher):
    here = "?北门长椅"
    # from the report: an item found 5 h after the window costs less than one found 5 h before it
    from_report = pool_of(matcher, lost(place=here), found("5h-after", at=3 + 5, place=here),
                          found("5h-before", at=-5, place=here), scored=1)
    assert best(from_report) == "5h-after"
    # from the item: a report whose window ended 5 h before it was found beats one that begins 5 h after
    from_item = pool_of(matcher, found("i", at=8, place=here), lost("ended-before", start=0, end=3, place=here),
                        lost("begins-after", start=13, end=16, place=here), scored=1)
    assert best(from_item, m.ITEM, "i") == "ended-before"


# -- durations in reasons, and rank ---------------------------------------------------------------------
@pytest.mark.parametrize("hours_early, text", [
    (45 / 60, "45 min"), (1, "1 h"), (1.5, "1 h 30 min"), (24, "1 d"), (26.25, "1 d 2 h"), (49.5, "2 d 1 h"),
    (59.6 / 60, "1 h"), (0.2 / 60, "0 min"),
])
def test_how_early_an_item_was_found_reads_in_days_hours_and_minutes(matcher, hours_early, text):
    _value, reason = matcher.time_evidence(lost(), found("i", at=-hours_early))
    assert reason.text == f"found {text} before the loss window"


def test_rank_shows_ten_by_default_and_works_from_an_item_too(matcher):
    base = m.LostReportCase("r", "手机", "phone", "黑色华为手机", "", "索道下站", T0, T0 + dt.timedelta(hours=3))
    items = [m.FoundItemCase(f"i{n:02}", "手机", "phone", "黑色华为手机", "索道下站", T0 + dt.timedelta(hours=1))
             for n in range(12)]
    assert len(m.rank(base, items, matcher)) == 10
    from_item = m.rank(items[0], [base], matcher)
    assert [(s.id, s.kind) for s in from_item] == [("r", m.REPORT)]



# -- loading a deployment's files --------------------------------------------------------------------------
def write_files(folder):
    places = folder / "places.yaml"
    places.write_text("places:\n  - {id: pavilion, name: 望湖亭子间, aliases: [观湖小亭]}\n", encoding="utf-8")
    synonyms = folder / "synonyms.yaml"
    synonyms.write_text("kinds:\n  充电宝: [尿宝]\n", encoding="utf-8")
    return places, synonyms


def test_a_deployment_names_its_own_places_vocabulary_weights_and_window(tmp_path):
    places, synonyms = write_files(tmp_path)
    weights, window = m.Weights(same_place=9.0), m.Window(exact_up_to=7)
    own = m.load_matcher(str(places), str(synonyms), weights, window)
    assert own.gazetteer.resolve("观湖小亭") == "pavilion" and not own.gazetteer.known("ropeway-upper")
    assert "充电宝" in own.lexicon.terms("尿宝").weights
    assert (own.weights, own.window) == (weights, window)
    # the gazetteer's names are words of the lexicon: a place name is not cut up
    assert [word for word, _inner in own.lexicon.words("望湖亭子间")] == ["望湖亭子间"]


def test_relative_file_names_are_taken_from_the_repository_root_wherever_the_process_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    default = m.load_matcher()
    relative = m.load_matcher("deploy/places.yaml", "deploy/synonyms.yaml")
    assert relative.gazetteer.places == default.gazetteer.places
    assert relative.lexicon.terms("移动电源").weights == default.lexicon.terms("移动电源").weights


# -- evidence that has nothing to say, reasons for each category relation -------------------------------
def item_case(case_id="i", **changes):
    base = dict(item_name="手机", category="phone", description="黑色华为手机", found_place="索道下站",
                found_at=T0 + dt.timedelta(hours=1))
    return m.FoundItemCase(case_id, **(base | changes))


def report_case(case_id="r", **changes):
    base = dict(item_name="手机", category="phone", description="黑色华为手机", features="", lost_place="索道下站",
                lost_from=T0, lost_until=T0 + dt.timedelta(hours=3))
    return m.LostReportCase(case_id, **(base | changes))


def test_colours_brands_and_absences_that_do_not_contradict_count_nothing(matcher):
    lost, same = matcher.report_profile(report_case()), matcher.item_profile(item_case())
    for evidence in (matcher.colour_evidence, matcher.brand_evidence, matcher.absence_evidence):
        assert evidence(lost, same) == (0.0, None)


@pytest.mark.parametrize("report_category, item_category, code, value", [
    ("phone", "phone", "same_category", "same_category"), ("document", "card", "related_category", "related_category"),
    ("other", "phone", "loose_category", "loose_category"), ("umbrella", "phone", "other_category", "other_category"),
])
def test_each_category_relation_has_its_weight_and_a_reason_naming_the_categories(
        matcher, report_category, item_category, code, value):
    lost = matcher.report_profile(report_case(category=report_category))
    found_ = matcher.item_profile(item_case(category=item_category))
    weight, reason = matcher.category_evidence(lost, found_)
    assert weight == getattr(matcher.weights, value)
    assert reason.code == code and item_category in reason.text
    if code != "same_category":
        assert f"{report_category} / {item_category}" in reason.text
    assert matcher.category_evidence(lost, found_, explain=False) == (weight, None)


def test_contradicting_colours_and_brands_are_listed_in_order_in_the_reason(matcher):
    lost = matcher.report_profile(report_case(description="黑色红色华为小米手机"))
    found_ = matcher.item_profile(item_case(description="白色蓝色OPPO vivo手机"))
    assert matcher.colour_evidence(lost, found_)[1].text == "colours differ: report black, red; item blue, white"
    assert matcher.brand_evidence(lost, found_)[1].text == "brands differ: report huawei, xiaomi; item oppo, vivo"
    without = matcher.report_profile(report_case(features="没有壳，没有挂绳"))
    has = matcher.item_profile(item_case(description="黑色华为手机，透明壳，有挂绳"))
    missing = sorted(without.absent & has.present)
    assert {"壳", "挂绳"} <= set(missing)
    assert matcher.absence_evidence(without, has)[1].text == f"the report says without {', '.join(missing)}; the item has it"


# -- suggestions -----------------------------------------------------------------------------------------
def test_a_suggestion_carries_the_pairs_score_from_either_side(matcher):
    pool = m.MatchPool(matcher)
    pool.add_report(report_case())
    pool.add_item(item_case())
    lost, found_ = pool.profile(m.REPORT, "r"), pool.profile(m.ITEM, "i")
    raw = matcher.score(lost, found_, pool.stats())[0]
    [from_report], [from_item] = pool.suggest(m.REPORT, "r"), pool.suggest(m.ITEM, "i")
    assert from_report.raw == from_item.raw == raw and from_report.score == matcher.display_score(raw)


def test_from_the_item_a_report_whose_window_ended_before_ranks_above_one_that_begins_after(matcher):
    pool = m.MatchPool(matcher)
    pool.add_item(item_case(found_at=T0 + dt.timedelta(hours=8)))
    pool.add_report(report_case("ended-before"))
    pool.add_report(report_case("begins-after", lost_from=T0 + dt.timedelta(hours=13),
                                lost_until=T0 + dt.timedelta(hours=16)))
    assert [s.id for s in pool.suggest(m.ITEM, "i")] == ["ended-before", "begins-after"]


def test_a_pair_whose_evidence_for_and_against_cancel_out_is_not_suggested(matcher):
    pool = pool_of(matcher, lost(place="?a"), found("i", place="?b"))   # nothing shared, found in the window
    pool.add(m.Profile("j", m.ITEM, "card", "?b", "?b", ts(1), ts(1), {}, frozenset(), frozenset()))
    stats = pool.stats()
    lost_ = pool.profile(m.REPORT, "r")
    assert matcher.quick_score(lost_, pool.profile(m.ITEM, "i"), stats) > 0   # the same category
    related = m.Profile("r2", m.REPORT, "document", "?a", "?a", ts(0), ts(3), {}, frozenset(), frozenset())
    pool.add(related)
    assert matcher.quick_score(related, pool.profile(m.ITEM, "j"), pool.stats()) == 0.0
    assert [s.id for s in pool.suggest(m.REPORT, "r2")] == []


def test_the_pools_average_item_length_is_the_mean_of_its_items(matcher):
    pool = pool_of(matcher, lost(terms={"甲": 1.0}), found("a", terms={"甲": 1.0, "乙": 0.5}),
                   found("b", terms={"丙": 1.0, "丁": 1.0}))
    assert pool.stats().average_item_length == pytest.approx((1.5 + 2.0) / 2)
    assert pool_of(matcher, lost()).stats().average_item_length == 1.0   # no item yet
    assert pool_of(matcher, lost()).suggest(m.REPORT, "r") == []


def test_removed_cases_leave_the_busy_window_indexes_too(matcher):
    pool = pool_of(matcher, lost(terms={"贴纸": 1.0}), found("a", terms={"贴纸": 1.0}), found("b", terms={"贴纸": 1.0}),
                   found("c", terms={"贴纸": 1.0}), lost("long", start=-24 * 10, end=3))
    pool.remove(m.ITEM, "a")
    assert sorted(candidate_ids(pool, m.REPORT, "r")) == ["b", "c"]
    pool.remove(m.ITEM, "b")
    pool.remove(m.ITEM, "c")
    assert candidate_ids(pool, m.REPORT, "r") == []
    pool.add(found("d", terms={"别的": 1.0}))
    pool.remove(m.REPORT, "long")
    assert candidate_ids(pool, m.ITEM, "d") == []


# -- which cases are scored at all (the exact path) ---------------------------------------------------------
def exact(matcher, exact_up_to=300):
    return m.Matcher(matcher.lexicon, matcher.gazetteer, matcher.weights, m.Window(exact_up_to=exact_up_to))


def test_items_found_up_to_two_days_before_and_thirty_days_after_the_window_are_scored_edges_included(matcher):
    pool = m.MatchPool(exact(matcher))
    pool.add(lost())
    for case_id, hours in (("0-two-days-before", -48), ("a-just-over-two-days-before", -48.01),
                           ("z-thirty-days-after", 3 + 30 * 24), ("b-just-over-thirty-days-after", 3 + 30 * 24 + 0.01)):
        pool.add(found(case_id, at=hours))
    assert sorted(candidate_ids(pool, m.REPORT, "r")) == ["0-two-days-before", "z-thirty-days-after"]


def test_a_window_with_no_more_cases_than_the_exact_limit_scores_all_of_them(matcher):
    # three items long before the window, one in it sharing nothing with the report, elsewhere
    pool = m.MatchPool(exact(matcher, exact_up_to=1))
    pool.add(lost(place="?a"))
    for n in range(3):
        pool.add(found(f"old-{n}", at=-24 * 60))
    pool.add(found("in-window", place="?b"))
    assert candidate_ids(pool, m.REPORT, "r") == ["in-window"]


def test_from_the_item_a_report_whose_short_window_ended_29_days_before_is_scored(matcher):
    pool = m.MatchPool(exact(matcher))
    pool.add(found("i", at=0))
    pool.add(lost("two-day-window", start=-31 * 24, end=-29 * 24))
    pool.add(lost("ended-31-days-before", start=-33 * 24, end=-31 * 24))
    assert candidate_ids(pool, m.ITEM, "i") == ["two-day-window"]


# -- time at the window's edges, and what the reasons say ----------------------------------------------------
def test_an_item_found_at_either_edge_of_the_window_is_within_it(matcher):
    for hours in (0.0, 3.0):
        assert matcher.time_evidence(lost(), found("i", at=hours)) == (0.0, m.Reason("in_window",
                                                                                    "found within the loss window"))


def test_an_item_found_after_the_window_says_how_long_after(matcher):
    value, reason = matcher.time_evidence(lost(), found("i", at=3 + 5))
    assert (reason.code, reason.text) == ("found_late", "found 5 h after the loss window") and value < 0


def test_the_hours_beyond_the_early_grace_cost_the_weight_configured_per_hour(matcher):
    steep = m.Matcher(matcher.lexicon, matcher.gazetteer, m.Weights(early_per_hour=2.0))
    grace = steep.weights.early_grace_hours * steep.weights.early_grace_per_hour
    assert steep.time_evidence(lost(), found("i", at=-4))[0] == pytest.approx(-(grace + 2 * 2.0))


def test_the_description_reason_lists_the_five_strongest_shared_words(matcher):
    words = ["皮卡丘", "贴纸", "挂绳", "磨砂", "裂痕", "指环"]
    shared = {w: 1.0 for w in words} | {"壳": 0.5}
    pool = pool_of(matcher, lost(terms=shared), found("i", terms={w: 1.0 + n / 10 for n, w in enumerate(words)}
                                                     | {"壳": 1.0}))
    _value, words_reason, _secret = matcher.text_evidence(pool.profile(m.REPORT, "r"), pool.profile(m.ITEM, "i"),
                                                          pool.stats())
    assert words_reason.code == "similar_description"
    assert words_reason.text == "description agrees: " + ", ".join(list(reversed(words))[:5])
