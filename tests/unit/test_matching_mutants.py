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


@pytest.fixture(scope="module")
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
