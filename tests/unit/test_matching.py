"""Lost-and-found matching: desk text normalised and segmented, the lead's
vocabulary and the gazetteer, each kind of evidence with its sign and size,
rankings of constructed pools, the open pool kept current case by case, and
the case index that keeps only open cases and never shows a hidden feature."""
import dataclasses
import datetime as dt
import json
from types import SimpleNamespace

import pytest

from services.lost_and_found.case_index import CaseIndex
from services.lost_and_found import matching as m
from services.lost_and_found.gazetteer import NEAR, SAME, Gazetteer, Place
from services.lost_and_found.lexicon import Lexicon, chinese_number, normalise

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 10, 2, 9, 0, tzinfo=CST)  # the loss window is 09:00-12:00
W = m.Weights()


def at(hours=0.0):
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture(scope="module")
def matcher():
    return m.load_matcher()  # deploy/places.yaml and deploy/synonyms.yaml


@pytest.fixture(scope="module")
def lexicon(matcher):
    return matcher.lexicon


def report(**changes) -> m.LostReportCase:
    base = m.LostReportCase("r-1", "手机", "phone", "黑色华为手机", "锁屏是一只柯基", "索道下站", at(0), at(3))
    return dataclasses.replace(base, **changes)


def item(item_id="i-1", **changes) -> m.FoundItemCase:
    base = m.FoundItemCase(item_id, "手机", "phone", "黑色华为手机", "索道下站", at(1), (("锁屏", "一只柯基"),))
    return dataclasses.replace(base, **changes)


def score(matcher, r, i, *others):
    """The raw score of (r, i) in a pool of r, i and others."""
    pool = m.MatchPool(matcher)
    pool.add_report(r)
    for case in (i, *others):
        pool.add_item(case)
    raw, reasons = matcher.score(pool.profile(m.REPORT, r.report_id), pool.profile(m.ITEM, i.item_id), pool.stats())
    return raw, {reason.code: reason.text for reason in reasons}


def ranked(matcher, r, items, limit=10):
    return [s.id for s in m.rank(r, items, matcher, limit)]


# -- normalisation and segmentation ------------------------------------------------------------
def test_full_width_text_is_folded_to_ascii_and_lower_case():
    assert normalise("ｉＰｈｏｎｅ\u3000１５\u3000蓝色") == "iphone 15 蓝色"
    assert normalise("３号停车场") == "3号停车场"


def test_full_width_iphone_gives_the_terms_of_an_iphone(lexicon):
    assert lexicon.terms("ｉＰｈｏｎｅ１５").weights.keys() >= {"@apple", "手机", "15"}
    assert lexicon.terms("ｉＰｈｏｎｅ１５").weights.keys() == lexicon.terms("iPhone 15").weights.keys()


def test_traditional_chinese_and_taiwan_phrases_become_simplified(lexicon):
    assert normalise("錢包 皮夾 裡面 悠遊卡 纜車上站") == "钱包 皮夹 里面 悠游卡 缆车上站"
    assert "身份证" in lexicon.terms("身分證").weights          # 身分 is the Taiwan spelling
    assert "双肩包" in lexicon.terms("後背包").weights


def test_letters_and_digits_are_split_and_latin_names_kept_whole(lexicon):
    assert {"mate", "60"} <= set(lexicon.tokens("Mate60"))
    assert {"20000", "mah"} <= lexicon.terms("20000毫安").weights.keys()
    assert "充电宝" in lexicon.terms("Power Bank").weights
    assert lexicon.terms("Ray-Ban").brands == {"rayban"} == lexicon.terms("雷朋").brands


def test_chinese_numerals_are_compared_as_numbers():
    assert [chinese_number(t) for t in ("三千", "二十", "两百多", "一万二千", "两张", "十")] == \
        ["3000", "20", "200", "12000", "2", None]
    assert chinese_number("三星") is None  # a brand, not a number


def test_a_lone_one_is_an_article_not_a_count(lexicon):
    assert "1" not in lexicon.terms("一把车钥匙").weights
    assert "3000" in lexicon.terms("三千台币").weights


def test_words_in_quotes_are_markings_and_weigh_double(lexicon):
    marked = lexicon.terms("杯底写着'豆豆'").weights
    plain = lexicon.terms("杯底写着豆豆").weights
    assert marked["豆豆"] == 2 * plain["豆豆"] == 2.0
    assert lexicon.terms("内侧刻着“LY”").weights["ly"] == lexicon.terms("内侧刻着「LY」").weights["ly"] == 2.0


def test_a_marking_outweighs_a_material_the_other_item_shares(matcher):
    lost = report(item_name="水杯", category="other", description="蓝色塑料水杯，有吸管", features="杯子上写着'豆豆'")
    named = item("named", item_name="水杯", category="other", description="蓝色吸管杯", found_place="青云寺",
                 hidden_features=(("名字", "杯身写'豆豆'"),))
    plain = item("plain", item_name="水杯", category="other", description="蓝色塑料杯，带吸管", hidden_features=())
    assert ranked(matcher, lost, [plain, named]) == ["named", "plain"]


def test_stopwords_and_punctuation_say_nothing(lexicon):
    assert lexicon.tokens("的，了。") == []


# -- the vocabulary ----------------------------------------------------------------------------------
@pytest.mark.parametrize("one, other, shared", [
    ("充电宝", "移动电源", "充电宝"), ("伞", "雨伞", "雨伞"), ("苹果手机", "iPhone", "@apple"),
    ("苹果手机", "iPhone", "手机"), ("墨镜", "太阳镜", "墨镜"), ("建行的卡", "建设银行借记卡", "@ccb"),
    ("平安福", "护身符", "护身符"), ("boarding pass", "登机牌", "登机牌"),
])
def test_synonyms_of_kinds_brands_and_words_share_a_term(lexicon, one, other, shared):
    assert shared in lexicon.terms(one).weights and shared in lexicon.terms(other).weights


def test_a_particular_kind_is_also_its_general_kind(lexicon):
    assert {"车钥匙", "钥匙"} <= lexicon.terms("汽车遥控钥匙").weights.keys()
    assert "车钥匙" not in lexicon.terms("钥匙").weights


def test_words_inside_a_longer_word_count_half_and_colours_and_numbers_stay_whole(lexicon):
    cup = lexicon.terms("吸管杯").weights
    assert cup["水杯"] == 1.0 and cup["吸管"] == 0.5
    assert set(lexicon.terms("星光色").weights) == {"#white"}
    assert set(lexicon.terms("一万二千").weights) == {"12000"}


def test_characters_of_unknown_words_weigh_less_than_words(lexicon):
    duck, ducky = lexicon.terms("小黄鸭").weights, lexicon.terms("黄色小鸭").weights
    assert {"黄", "鸭"} <= duck.keys() & ducky.keys()
    assert duck["鸭"] < 1.0


@pytest.mark.parametrize("text, colours", [
    ("星光色", {"white"}), ("深蓝色", {"blue"}), ("红银色", {"red", "silver"}), ("雅川青", {"green"}),
    ("银行卡", set()), ("白开水", set()), ("小黄鸭", set()),
])
def test_colours_are_read_from_colour_words_only(lexicon, text, colours):
    assert lexicon.terms(text).colours == colours


def test_near_colours_agree_and_others_contradict(lexicon):
    assert lexicon.colour_reach({"grey"}) == {"grey", "black", "silver"}
    assert lexicon.colour_reach({"black"}) == {"black", "grey"}          # near is symmetric
    assert "blue" not in lexicon.colour_reach({"purple"})
    assert lexicon.colour_reach(set()) == set()


def test_without_is_recorded_as_absent_until_the_next_word_or_punctuation(lexicon):
    assert lexicon.terms("没有壳").absent == {"壳"}
    assert {"壳", "手机壳"} <= lexicon.terms("无手机壳").absent
    assert lexicon.terms("无壳").absent == {"壳"}                     # glued by the segmenter
    assert lexicon.terms("眼镜盒没丢，盒子在我这里").absent == set()   # 没 + a stopword
    assert "壳" in lexicon.terms("透明壳").present
    assert "无线耳机" not in lexicon.terms("无线耳机").absent          # a word of its own


def test_the_vocabulary_can_be_extended_by_the_lead():
    base = Lexicon({"kinds": {"充电宝": ["移动电源"]}})
    extended = Lexicon({"kinds": {"充电宝": ["移动电源", "尿宝"]}})
    assert "充电宝" not in base.terms("尿宝").weights
    assert "充电宝" in extended.terms("尿宝").weights


def test_category_relations_come_from_the_vocabulary(lexicon):
    assert [lexicon.category_relation("document", c) for c in ("document", "card", "other", "umbrella")] == \
        ["same", "related", "loose", "other"]
    assert lexicon.category_relation("card", "document") == "related"  # symmetric


# -- the gazetteer -----------------------------------------------------------------------------------
def test_places_resolve_by_name_alias_or_a_name_inside(matcher):
    gazetteer = matcher.gazetteer
    assert gazetteer.resolve("缆车上站") == gazetteer.resolve("索道上站") == "ropeway-upper"
    assert gazetteer.resolve("纜車上站") == "ropeway-upper"
    assert gazetteer.resolve("３号停车场") == gazetteer.resolve("三号停车场") == "parking-3"
    assert gazetteer.resolve("北门检票口旁边") == "north-gate-check"   # the longest name inside
    assert gazetteer.resolve("Visitor Center") == "visitor-center"


def test_an_unknown_place_keeps_its_text_and_agrees_with_the_same_text(matcher):
    gazetteer = matcher.gazetteer
    assert gazetteer.resolve("某个凉亭") == gazetteer.resolve(" 某个凉亭") != gazetteer.resolve("另一个凉亭")
    assert not gazetteer.known(gazetteer.resolve("某个凉亭"))


def test_neighbours_are_symmetric_even_when_listed_once():
    gazetteer = Gazetteer([Place("a", "甲亭", (), ("b",)), Place("b", "乙亭"), Place("c", "丙亭")])
    assert gazetteer.relation("b", "a") == gazetteer.relation("a", "b") == NEAR
    assert gazetteer.relation("a", "a") == SAME and gazetteer.relation("a", "c") == "elsewhere"


def test_a_gazetteer_refuses_an_alias_of_two_places_or_an_unknown_neighbour():
    with pytest.raises(ValueError):
        Gazetteer([Place("a", "甲亭", ("亭",)), Place("b", "乙亭", ("亭",))])
    with pytest.raises(ValueError):
        Gazetteer([Place("a", "甲亭", (), ("nowhere",))])


def test_places_a_visitor_mentions_are_found_in_the_account(matcher):
    assert matcher.gazetteer.mentioned("中午在小吃街吃完烤肠，然后去剧场看演出") == {"snack-street", "theater"}


# -- evidence: place -----------------------------------------------------------------------------------
def test_the_same_place_counts_more_than_a_neighbour_and_a_neighbour_more_than_elsewhere(matcher):
    same, reasons = score(matcher, report(), item())
    alias, _ = score(matcher, report(), item(found_place="缆车下站"))
    near, near_reasons = score(matcher, report(), item(found_place="青云寺"))
    elsewhere, far_reasons = score(matcher, report(), item(found_place="青岚湖码头"))
    assert same == alias
    assert round(same - elsewhere, 6) == 2.5 and round(near - elsewhere, 6) == 1.5
    assert "same_place" in reasons and "nearby_place" in near_reasons
    assert not {"same_place", "nearby_place", "mentioned_place"} & far_reasons.keys()


def test_a_place_the_visitor_mentions_counts_less_than_a_neighbour(matcher):
    told = report(lost_place="演艺剧场", description="上午在青岚湖码头坐船，然后去剧场看演出")
    mentioned, reasons = score(matcher, told, item(found_place="游船码头"))
    near, _ = score(matcher, told, item(found_place="小吃街"))
    elsewhere, far_reasons = score(matcher, told, item(found_place="玉皇阁"))
    assert reasons["mentioned_place"] == "the report mentions 青岚湖码头"
    assert "mentioned_place" not in far_reasons
    assert round(mentioned - elsewhere, 6) == 1.0 and round(near - elsewhere, 6) == 1.5


# -- evidence: time ----------------------------------------------------------------------------------------
def test_time_inside_the_loss_window_costs_nothing(matcher):
    value, reason = matcher.time_evidence(matcher.report_profile(report()), matcher.item_profile(item()))
    assert (value, reason.code) == (0.0, "in_window")


@pytest.mark.parametrize("hours_early, penalty", [(0.5, 0.25), (1, 0.5), (2, 1.0), (4, 3.0), (24, 6.0)])
def test_found_before_the_window_costs_a_little_per_hour_at_first_then_more_up_to_a_cap(
        matcher, hours_early, penalty):
    value, reason = matcher.time_evidence(matcher.report_profile(report()),
                                          matcher.item_profile(item(found_at=at(-hours_early))))
    assert reason.code == "found_early" and value == pytest.approx(-penalty)


def test_found_after_the_window_costs_slowly_more_with_time(matcher):
    r = matcher.report_profile(report())
    values = [matcher.time_evidence(r, matcher.item_profile(item(found_at=at(3 + hours))))[0]
              for hours in (6, 24, 48, 240)]
    assert values[0] == pytest.approx(-0.5 * 0.6931471805599453)
    assert values == sorted(values, reverse=True) and values[-1] > -2.5
    assert "1 d" in matcher.time_evidence(r, matcher.item_profile(item(found_at=at(3 + 28))))[1].text


def test_an_item_found_two_hours_before_the_stated_window_is_still_suggested_first(matcher):
    owner = item("owner", found_at=at(-2))
    other = item("other", description="白色苹果手机", hidden_features=(("锁屏", "风景"),))
    assert ranked(matcher, report(), [other, owner]) == ["owner", "other"]


# -- evidence: category ----------------------------------------------------------------------------------------
def test_category_same_related_loose_and_other_in_that_order(matcher):
    id_card = report(item_name="身份证", category="document", description="身份证", features="透明卡套")
    values = [score(matcher, id_card, item(item_name="身份证", category=c, description="身份证，透明卡套",
                                           hidden_features=()))[0] for c in ("document", "card", "other", "toy")]
    assert [round(values[0] - v, 6) for v in values] == [0.0, 1.5, 2.0, 4.5]


def test_a_different_category_is_suggested_when_the_description_agrees(matcher):
    filed_as_card = item("card", item_name="身份证", category="card", description="居民身份证，透明卡套",
                         hidden_features=(("姓名", "周晓梅"),))
    filed_as_document = item("document", item_name="身份证", category="document", description="居民身份证",
                             hidden_features=(("姓名", "周晓明"),))
    lost = report(item_name="身份证", category="document", description="丢了身份证",
                  features="名字叫周晓梅，放在透明卡套里")
    assert ranked(matcher, lost, [filed_as_document, filed_as_card]) == ["card", "document"]


# -- evidence: description, hidden features, colours, brands, absence ------------------------------------------
def test_a_shared_rare_word_counts_more_than_a_shared_common_one(matcher):
    commons = [item(f"c{n}", description="黑色手机壳", hidden_features=()) for n in range(6)]
    rare = item("rare", description="手机，皮卡丘贴纸", hidden_features=())
    common = item("common", description="黑色手机壳", hidden_features=())
    lost = report(description="黑色手机壳，皮卡丘贴纸", features="-")
    assert score(matcher, lost, rare, common, *commons)[0] > score(matcher, lost, common, rare, *commons)[0]


def test_synonyms_make_a_description_agree(matcher):
    power_bank = report(item_name="充电宝", category="electronics", description="白色的充电宝", features="罗马仕")
    synonym, reasons = score(matcher, power_bank, item(item_name="移动电源", category="electronics",
                                                      description="白色移动电源，ROMOSS", hidden_features=()))
    unrelated, _ = score(matcher, power_bank, item(item_name="数据线", category="electronics",
                                                  description="白色数据线", hidden_features=()))
    assert synonym > unrelated + 3
    assert "充电宝" in reasons["similar_description"] and "romoss" in reasons["similar_description"]


def test_a_hidden_feature_counts_for_the_match_and_its_detail_is_never_shown(matcher):
    secret = (("锁屏", "一只柯基"), ("序列号", "SN-4471"))
    with_feature, reasons = score(matcher, report(features="锁屏是一只柯基，序列号SN-4471"),
                                  item(hidden_features=secret))
    without, plain = score(matcher, report(features="锁屏是一只柯基，序列号SN-4471"), item(hidden_features=()))
    assert with_feature > without + 2
    assert reasons["hidden_feature_agrees"] == "a hidden feature agrees with the report"
    assert "hidden_feature_agrees" not in plain
    shown = json.dumps(reasons, ensure_ascii=False)
    for word in ("柯基", "4471", "sn", "序列号"):
        assert word not in shown.lower()


def test_neither_a_case_nor_its_profile_shows_a_hidden_detail_in_its_repr(matcher):
    case = item(hidden_features=(("序列号", "SN-4471"), ("品牌", "OPPO"), ("颜色", "紫色")))
    for shown in (repr(case), repr(matcher.item_profile(case))):
        assert "4471" not in shown and "oppo" not in shown.lower() and "purple" not in shown


def test_a_hidden_none_says_the_item_lacks_what_the_label_names(matcher):
    without_pendant = matcher.item_profile(item(hidden_features=(("挂件", "无"),)))
    assert "无挂件" in without_pendant.terms


def test_contradicting_colours_count_against_and_near_colours_do_not(matcher):
    black, _ = score(matcher, report(), item())
    white, reasons = score(matcher, report(), item(description="白色华为手机"))
    grey, grey_reasons = score(matcher, report(), item(description="灰色华为手机"))
    assert "colour_differs" in reasons and reasons["colour_differs"] == "colours differ: report black; item white"
    assert "colour_differs" not in grey_reasons
    assert black > grey > white
    assert round(grey - white, 6) >= 2.5


def test_contradicting_brands_count_against(matcher):
    same, _ = score(matcher, report(), item())
    other, reasons = score(matcher, report(), item(description="黑色OPPO手机"))
    unbranded, plain = score(matcher, report(), item(description="黑色手机"))
    assert reasons["brand_differs"] == "brands differ: report huawei; item oppo"
    assert "brand_differs" not in plain
    assert same > unbranded > other
    assert round(unbranded - other, 6) >= 3.0


def test_only_what_an_item_shows_can_contradict(matcher):
    hidden_brand = item(description="黑色手机", hidden_features=(("品牌", "OPPO"), ("颜色", "白色")))
    _, reasons = score(matcher, report(), hidden_brand)
    assert "brand_differs" not in reasons and "colour_differs" not in reasons


def test_a_report_without_what_the_item_has_counts_against(matcher):
    lost = report(description="白色苹果手机", features="没有壳")
    bare, _ = score(matcher, lost, item(description="白色苹果手机，无壳", hidden_features=()))
    cased, reasons = score(matcher, lost, item(description="白色苹果手机，透明壳", hidden_features=()))
    assert reasons["absent_differs"] == "the report says without 壳; the item has it"
    assert bare > cased


def test_what_a_visitor_says_they_still_have_does_not_contradict_an_item_without_it(matcher):
    lost = report(item_name="老花镜", category="glasses", description="金丝边老花镜", features="眼镜盒没丢，盒子在我这里")
    _, reasons = score(matcher, lost, item(item_name="眼镜", category="glasses", description="金色细框眼镜，无镜盒",
                                          hidden_features=()))
    assert "absent_differs" not in reasons


# -- rankings ------------------------------------------------------------------------------------------------
def test_the_owners_phone_ranks_first_among_seven_phones_at_the_same_gate(matcher):
    lost = report(item_name="苹果手机", description="白色苹果13，透明手机壳", features="壳里夹着一张地铁票",
                  lost_place="北门检票口")
    gate = dict(found_place="北门检票口", hidden_features=(("锁屏", "默认壁纸"),))
    phones = [item("huawei-white", description="白色华为手机，透明壳", **gate),
              item("apple-black", description="苹果手机，黑色，无壳", **gate),
              item("oppo", description="OPPO手机，白色，透明壳", **gate),
              item("apple-14", description="iPhone 14 Pro，深紫色，黑色壳", **gate),
              item("vivo", description="vivo手机，白色", **gate),
              item("apple-white-cracked", description="iPhone 13 白色，透明壳，屏幕碎裂", found_place="北门检票口",
                   found_at=at(-20)),
              item("owner", description="iPhone 13 星光色，透明硅胶壳", found_place="北门售票处",
                   hidden_features=(("壳内", "夹一张地铁单程票"),))]
    assert ranked(matcher, lost, phones)[0] == "owner"


def test_the_ranking_does_not_depend_on_ids_or_the_order_cases_arrive(matcher):
    a = item("a", description="黑色华为手机，透明壳")
    b = item("b", description="黑色华为手机", found_place="青云寺")
    c = item("c", description="白色华为手机")
    assert ranked(matcher, report(), [a, b, c]) == ranked(matcher, report(), [c, b, a])
    renamed = ranked(matcher, report(), [dataclasses.replace(x, item_id="z" + x.item_id) for x in (c, a, b)])
    assert renamed == ["z" + i for i in ranked(matcher, report(), [a, b, c])]


def test_a_pair_scores_the_same_from_the_report_and_from_the_item(matcher):
    pool = m.MatchPool(matcher)
    pool.add_report(report())
    pool.add_report(report(report_id="r-2", description="红色雨伞", category="umbrella"))
    pool.add_item(item())
    from_report = {s.id: s.raw for s in pool.suggest(m.REPORT, "r-1")}
    from_item = {s.id: s.raw for s in pool.suggest(m.ITEM, "i-1")}
    assert from_item["r-1"] == from_report["i-1"]


def test_the_quick_score_used_for_ranking_is_the_explained_score(matcher):
    pool = m.MatchPool(matcher)
    pool.add_report(report(features="没有壳，锁屏是一只柯基"))
    variants = [dict(), dict(description="白色OPPO手机，透明壳"), dict(found_place="青云寺", found_at=at(-3)),
                dict(category="other", found_at=at(30)), dict(description="灰色手机", hidden_features=())]
    for n, changes in enumerate(variants):
        pool.add_item(item(f"i{n}", **changes))
    stats, lost = pool.stats(), pool.profile(m.REPORT, "r-1")
    for n in range(len(variants)):
        found = pool.profile(m.ITEM, f"i{n}")
        assert matcher.quick_score(lost, found, stats) == matcher.score(lost, found, stats)[0]


def test_a_candidate_with_more_evidence_against_than_for_is_not_suggested(matcher):
    umbrella = item("umbrella", item_name="雨伞", category="umbrella", description="红色雨伞", found_place="青岚湖",
                    hidden_features=())
    assert ranked(matcher, report(), [umbrella, item()]) == ["i-1"]


def test_the_limit_keeps_the_best_and_scores_are_shown_from_0_to_100(matcher):
    items = [item(f"i{n}", found_place="青岚湖码头" if n else "索道下站") for n in range(4)]
    best = m.rank(report(), items, matcher, limit=1)
    assert [s.id for s in best] == ["i0"]
    assert 0 < best[0].score <= 100
    assert matcher.display_score(-3.0) == 0 and matcher.display_score(1000.0) == 100
    assert matcher.display_score(5.0) < matcher.display_score(10.0)


# -- the open pool -------------------------------------------------------------------------------------------------
def test_a_case_removed_from_the_pool_is_not_suggested_and_leaves_no_trace(matcher):
    pool = m.MatchPool(matcher)
    pool.add_report(report())
    pool.add_item(item("keep"))
    before = pool.stats()
    before = (before.cases, dict(before.df), before.average_item_length)
    pool.add_item(item("gone", description="黑色华为手机，皮卡丘贴纸"))
    assert {s.id for s in pool.suggest(m.REPORT, "r-1")} == {"gone", "keep"}
    pool.remove(m.ITEM, "gone")
    assert [s.id for s in pool.suggest(m.REPORT, "r-1")] == ["keep"]
    after = pool.stats()
    assert (after.cases, after.df, after.average_item_length) == before and len(pool) == 2
    assert pool.remove(m.ITEM, "gone") is None
    assert pool.suggest(m.ITEM, "gone") == []


def test_adding_a_case_again_replaces_it(matcher):
    pool = m.MatchPool(matcher)
    pool.add_item(item())
    pool.add_item(item(description="白色华为手机"))
    assert len(pool) == 1 and pool.stats().df["#white"] == 1 and "#black" not in pool.stats().df


def test_only_cases_within_the_time_window_are_scored(matcher):
    long_before = item("long-before", found_at=at(-49))
    a_month_later = item("a-month-later", found_at=at(3 + 31 * 24))
    in_range = item("in-range", found_at=at(3 + 29 * 24))
    assert ranked(matcher, report(), [long_before, a_month_later, in_range]) == ["in-range"]


def test_a_report_with_a_long_loss_window_is_found_from_the_item(matcher):
    pool = m.MatchPool(matcher)
    pool.add_report(report(lost_from=at(-24 * 10), lost_until=at(3)))    # "some time in the last ten days"
    pool.add_item(item(found_at=at(-24 * 9)))
    assert [s.id for s in pool.suggest(m.ITEM, "i-1")] == ["r-1"]


def test_a_busy_window_scores_only_the_cases_that_share_a_rare_word_or_the_place(matcher):
    narrow = m.Matcher(matcher.lexicon, matcher.gazetteer, window=m.Window(exact_up_to=5, scored=3))
    pool = m.MatchPool(narrow)
    pool.add_report(report(features="皮卡丘贴纸"))
    for n in range(10):
        pool.add_item(item(f"same-place-{n}", description="黑色手机", hidden_features=()))
        pool.add_item(item(f"elsewhere-{n}", description="黑色手机", found_place="玉皇阁", hidden_features=()))
    pool.add_item(item("owner", description="黑色手机，皮卡丘贴纸", found_place="玉皇阁", hidden_features=()))
    candidates = [p.id for p in pool.candidates(pool.profile(m.REPORT, "r-1"))]
    assert len(candidates) == 3 and candidates[0] == "owner"
    assert all(case_id.startswith("same-place") for case_id in candidates[1:])
    assert pool.suggest(m.REPORT, "r-1")[0].id == "owner"


# -- the case index: only open cases ------------------------------------------------------------------------------
def record(kind):
    return SimpleNamespace(type=kind)


def turned_in(item_id, **changes):
    values = {"item_id": item_id, "item_name": "手机", "category": "phone", "description": "黑色华为手机",
              "found_place": "索道下站", "found_at": at(1), "hidden_features": [["锁屏", "一只柯基"]],
              "short_code": f"LF-{item_id.upper()}", "retain_until": dt.date(2026, 12, 31)}
    return values | changes


def reported(report_id, **changes):
    values = {"report_id": report_id, "item_name": "手机", "category": "phone", "description": "黑色华为手机",
              "features": "锁屏是一只柯基", "lost_place": "索道下站", "lost_from": at(0), "lost_until": at(3)}
    return values | changes


@pytest.fixture
def index(matcher):
    index = CaseIndex(matcher)
    index.apply(record("FoundItemTurnedIn"), turned_in("p1"))
    index.apply(record("FoundItemTurnedIn"), turned_in("p2", description="黑色华为手机，透明壳"))
    index.apply(record("LostItemReported"), reported("r1"))
    return index


def test_the_index_suggests_open_cases_with_what_a_clerk_needs_and_no_hidden_detail(index):
    suggestions = index.suggestions("report", "r1")
    assert {s["id"] for s in suggestions} == {"p1", "p2"}
    assert set(suggestions[0]) == {"id", "kind", "score", "reasons", "item_name", "category", "place", "short_code"}
    assert all(isinstance(reason, str) and ": " in reason for s in suggestions for reason in s["reasons"])
    assert "柯基" not in json.dumps(suggestions, ensure_ascii=False)
    assert index.suggestions("item", "p1")[0]["short_code"] is None  # a report has none


def test_a_claimed_item_and_a_matched_report_leave_the_pool(index):
    index.apply(record("FoundItemClaimed"), {"item_id": "p2", "report_id": None})
    assert [s["id"] for s in index.suggestions("report", "r1")] == ["p1"]
    index.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p1"})
    assert index.suggestions("item", "p1") == [] and index.suggestions("report", "r1") == []
    assert len(index.pool) == 1
    assert index.knows("item", "p2") and index.knows("report", "r1") and not index.knows("report", "r9")


def test_an_item_handed_to_finance_leaves_the_pool_and_is_no_longer_due(index):
    # kept until 2026-12-31 inclusive: due from the day after
    assert index.due_for_finance(dt.date(2026, 12, 31)) == []
    assert index.due_for_finance(dt.date(2027, 1, 1)) == ["p1", "p2"]
    index.apply(record("ItemHandedToFinance"), {"item_id": "p1"})
    assert index.due_for_finance(dt.date(2027, 1, 1)) == ["p2"]
    assert not index.unclaimed("p1") and index.unclaimed("p2")


def test_a_matched_report_is_closed_by_its_own_claim(index):
    index.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p1"})
    index.apply(record("FoundItemClaimed"), {"item_id": "p1", "report_id": "r1"})
    assert ("report", "r1") not in index.pool and index.knows("report", "r1")


def test_a_matched_report_opens_again_when_its_item_goes_to_someone_else(index):
    index.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p1"})
    index.apply(record("FoundItemClaimed"), {"item_id": "p1", "report_id": None})
    assert [s["id"] for s in index.suggestions("report", "r1")] == ["p2"]


def test_items_in_custody_stay_open(index):
    index.apply(record("ItemHandedToCustodian"), {"item_id": "p1"})
    assert "p1" in {s["id"] for s in index.suggestions("report", "r1")}


def sealed(value):
    return f"sealed:{value[::-1]}"


def unseal(value):
    return value[len("sealed:"):][::-1]


def test_a_restored_index_answers_as_the_one_it_was_saved_from_and_keeps_hidden_features_sealed(matcher):
    import pickle

    live = CaseIndex(matcher, unseal)
    live.apply(record("FoundItemTurnedIn"), turned_in("p1", hidden_features=[["锁屏", sealed("背面刻着小明")]]))
    live.apply(record("FoundItemTurnedIn"), turned_in("p2", description="黑色华为手机，透明壳",
                                                      hidden_features=[["锁屏", sealed("背面刻着小明")]]))
    live.apply(record("LostItemReported"), reported("r1"))
    live.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p1"})
    live.apply(record("LostItemReported"), reported("r2", description="黑色手机"))
    assert live.suggestions("report", "r2")  # everything analysed, the hidden feature opened
    saved = pickle.dumps(live.snapshot())
    assert "小明".encode() not in saved  # only the sealed form (ciphertext in the service) is persisted
    assert set(live.snapshot()["profiles"]) == {("report", "r2")}  # the items' profiles hold hidden words

    restored = CaseIndex(matcher, unseal)
    restored.restore(pickle.loads(saved))
    assert restored.suggestions("report", "r2") == live.suggestions("report", "r2")
    assert restored.suggestions("item", "p2") == live.suggestions("item", "p2")
    assert len(restored.pool) == len(live.pool) == 3 and restored.by_short_code == live.by_short_code
    # the hidden feature still matches after the restore: it was opened again
    assert restored.pool.profile("item", "p2").terms == live.pool.profile("item", "p2").terms
    # the report matched to p1 opens again when p1 goes to someone else, in both
    for index in (live, restored):
        index.apply(record("FoundItemClaimed"), {"item_id": "p1", "report_id": None})
    assert restored.suggestions("report", "r1") == live.suggestions("report", "r1") != []
    assert restored.knows("item", "p1") and restored.knows("report", "r1") and not restored.unclaimed("p1")


def test_a_case_that_closes_before_anyone_asks_is_never_analysed(matcher, monkeypatch):
    analysed = []
    item_profile, report_profile = matcher.item_profile, matcher.report_profile
    monkeypatch.setattr(matcher, "item_profile", lambda case: analysed.append(case.item_id) or item_profile(case))
    monkeypatch.setattr(matcher, "report_profile",
                        lambda case: analysed.append(case.report_id) or report_profile(case))
    index = CaseIndex(matcher)
    index.apply(record("FoundItemTurnedIn"), turned_in("p1"))
    index.apply(record("FoundItemTurnedIn"), turned_in("p2"))
    index.apply(record("LostItemReported"), reported("r1"))
    index.apply(record("FoundItemClaimed"), {"item_id": "p1", "report_id": None})
    index.apply(record("LostReportMatched"), {"report_id": "r1", "item_id": "p2"})
    assert analysed == []  # a replay analyses nothing that closed before the first question
    index.apply(record("LostItemReported"), reported("r2"))
    assert [s["id"] for s in index.suggestions("report", "r2")] == ["p2"]
    assert analysed == ["p2", "r2"]  # the open ones, in the order they were entered, once
    index.suggestions("report", "r2")
    assert analysed == ["p2", "r2"]


def test_the_case_index_version_follows_what_its_profiles_are_made_from(tmp_path):
    import shutil
    synonyms = tmp_path / "synonyms.yaml"
    shutil.copy(m.os.path.join(m.ROOT, m.DEFAULT_SYNONYMS_FILE), synonyms)
    same = CaseIndex(m.load_matcher(synonyms_file=str(synonyms)))
    assert same.version == CaseIndex(m.load_matcher()).version
    synonyms.write_text(synonyms.read_text(encoding="utf-8") + "\n# the lead added a word\n", encoding="utf-8")
    assert CaseIndex(m.load_matcher(synonyms_file=str(synonyms))).version != same.version


def test_pending_cases_are_analysed_a_few_at_a_time_in_the_order_they_came(matcher, monkeypatch):
    analysed = []
    report_profile = matcher.report_profile
    monkeypatch.setattr(matcher, "report_profile",
                        lambda case: analysed.append(case.report_id) or report_profile(case))
    index = CaseIndex(matcher)
    for report_id in ("r1", "r2", "r3"):
        index.apply(record("LostItemReported"), reported(report_id))
    assert index.analyse_pending(2) == 1 and analysed == ["r1", "r2"]
    assert index.analyse_pending(0) == 1 and analysed == ["r1", "r2"]
    assert index.analyse_pending() == 0 and analysed == ["r1", "r2", "r3"]
    assert len(index.pool) == 3 and analysed == ["r1", "r2", "r3"]


def test_a_lexicon_loads_jieba_only_when_it_first_segments_text(monkeypatch):
    # lost and found answers its first commands after a restart before jieba's dictionary (about a
    # second) is loaded: the warm-up or the first case analysed loads it, once
    from services.lost_and_found import lexicon as lexicon_module
    loads = []
    real = lexicon_module._tokenizer
    monkeypatch.setattr(lexicon_module, "_tokenizer", lambda: loads.append(1) or real())
    lexicon = Lexicon(lexicon_module.read_vocabulary(m.DEFAULT_SYNONYMS_FILE), ("缆车上站",))
    assert loads == []
    assert "缆车上站" in [word for word, _ in lexicon.words("在缆车上站丢了")]  # a place word, added
    lexicon.prepare()
    lexicon.words("充电宝")
    assert loads == [1]


def test_two_character_words_of_the_vocabulary_are_one_word_though_jiebas_dictionary_splits_them():
    # 卡夹 (a card holder) and 徕卡 (Leica) are not in jieba's own dictionary: the lexicon adds
    # every word of two or more Chinese characters it knows, so a description keeps them whole
    from services.lost_and_found import lexicon as lexicon_module
    plain = lexicon_module._tokenizer()
    assert list(plain.cut("卡夹")) != ["卡夹"] and list(plain.cut("徕卡")) != ["徕卡"]
    lexicon = Lexicon(lexicon_module.read_vocabulary(m.DEFAULT_SYNONYMS_FILE))
    assert [word for word, _ in lexicon.words("黑色卡夹")] == ["黑色", "卡夹"]
    assert [word for word, _ in lexicon.words("徕卡相机")] == ["徕卡", "相机"]
