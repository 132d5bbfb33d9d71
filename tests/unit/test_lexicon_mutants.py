"""The lexicon at its edges: given a vocabulary (the lead's file or a small one
made here), when desk text is read, then the terms, colours, brands and
absences matching compares; Chinese numerals, colour words and the
vocabulary file's shapes."""
import os

import pytest

from services.lost_and_found import lexicon as lx
from services.lost_and_found.lexicon import Lexicon, chinese_number, display, normalise

SMALL = {
    "kinds": {"充电宝": ["移动电源", "power bank"], "雨伞": ["伞", None], "车钥匙": None, "钥匙": []},
    "is_a": {"车钥匙": ["钥匙"], "钥匙": None},
    "words": {"无": ["没有", "不带"], "皮革": ["真皮"]},
    "brands": {"rayban": ["Ray-Ban", "雷朋"], "apple": ["苹果", "iPhone"], "sony": None},
    "colours": {"red": ["红", "红色"], "black": ["黑", "黑色"], "white": ["白", "白色", "星光色"], "silver": ["银"],
                "navy": None},
    "colour_near": [["black", "grey"]],
    "related_categories": [["document", "card"]],
    "loose_categories": ["other"],
    "stopwords": ["的", "了", "在"],
}


@pytest.fixture  # per test: mutmut counts a fixture for the first test only
def small():
    return Lexicon(SMALL)


@pytest.fixture  # per test: mutmut counts a fixture for the first test only
def lexicon():
    from services.lost_and_found.matching import load_matcher
    return load_matcher().lexicon


# -- Chinese numerals ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, number", [
    ("五", "5"), ("零", "0"), ("十五", "15"), ("二十", "20"), ("一百零五", "105"), ("三万", "30000"),
    ("十万", "100000"), ("一千零一", "1001"), ("两万五千", "25000"), ("五元", "5"), ("三十多块", "30"),
    ("二百来个", "200"), ("九十九", "99"),
])
def test_chinese_numerals_give_their_value(text, number):
    assert chinese_number(text) == number


@pytest.mark.parametrize("text", ["十", "百", "万", "千", "三星", "五颜六色", "", "5"])
def test_a_lone_unit_or_a_word_that_is_no_numeral_gives_none(text):
    assert chinese_number(text) is None


# -- normalising -------------------------------------------------------------------------------------
def test_normalising_folds_width_case_script_and_spaces():
    assert normalise("  ＡＢＣ\t\n錢包  ") == "abc 钱包"
    assert normalise(None) == "" and normalise("") == ""


def test_a_term_is_displayed_without_its_brand_or_colour_mark():
    assert (display("@apple"), display("#red"), display("钱包"), display("")) == ("apple", "red", "钱包", "")


# -- the vocabulary's sections -------------------------------------------------------------------------
def test_kinds_words_and_brands_map_every_listed_name_to_the_canonical_term(small):
    assert "充电宝" in small.terms("移动电源").weights
    assert "充电宝" in small.terms("power bank").weights and "充电宝" in small.terms("Power  Bank").weights
    assert "雨伞" in small.terms("伞").weights
    assert "皮革" in small.terms("真皮").weights
    assert small.terms("雷朋墨镜").brands == {"rayban"} == small.terms("RAY-BAN").brands
    assert small.terms("ray ban").brands == frozenset()   # not a listed spelling: two words
    assert small.terms("sony").brands == {"sony"} and "@sony" in small.terms("SONY").weights


def test_a_particular_kind_also_gives_its_general_kind_but_not_the_other_way(small):
    assert {"车钥匙", "钥匙"} <= small.terms("车钥匙").weights.keys()
    assert "车钥匙" not in small.terms("钥匙").weights
    assert small.canonical("车钥匙") == {"车钥匙", "钥匙"} and small.canonical("陌生词") == {"陌生词"}


def test_colour_words_and_near_colours_come_from_the_vocabulary(small):
    assert small.terms("红色").colours == {"red"} and small.terms("星光色").colours == {"white"}
    assert small.terms("navy").colours == {"navy"}
    assert small.colour_reach({"black"}) == {"black", "grey"} and small.colour_reach({"grey"}) == {"grey", "black"}
    assert small.colour_reach({"red"}) == {"red"} and small.colour_reach(()) == frozenset()


def test_categories_are_the_same_related_both_ways_loose_or_other(small):
    assert [small.category_relation("document", c) for c in ("document", "card", "other", "toy")] == [
        "same", "related", "loose", "other"]
    assert small.category_relation("card", "document") == "related"
    assert small.category_relation("other", "toy") == small.category_relation("toy", "other") == "loose"
    assert small.category_relation("other", "other") == "same"


def test_stopwords_are_normalised_and_say_nothing(small):
    assert small.tokens("的了在") == []
    assert small.terms("在").weights == {}


def test_an_empty_vocabulary_still_reads_text():
    for vocabulary in (None, {}, {"kinds": None, "brands": None, "colours": None, "stopwords": None}):
        empty = Lexicon(vocabulary)
        assert "钱包" in empty.terms("钱包").weights and empty.terms("红色钱包").colours == frozenset()
        assert empty.category_relation("a", "b") == "other" and empty.stopwords == frozenset()


# -- colour words -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("word, colours", [
    ("红", {"red"}), ("红色", {"red"}), ("深红色", {"red"}), ("浅红", {"red"}), ("红黑", {"red", "black"}),
    ("红黑色", {"red", "black"}), ("红黑银色", {"red", "black", "silver"}), ("红黑银", set()),
    ("红黑银白色", set()), ("色", set()), ("银行", set()), ("黑白", {"black", "white"}), ("亮", set()),
])
def test_a_word_names_colours_when_listed_or_made_of_hues(small, word, colours):
    assert small.colours_of(word) == colours


# -- words, markings, absences ---------------------------------------------------------------------------
def test_the_words_of_a_text_keep_their_order_and_punctuation_ends_a_word(small):
    words = [word for word, _inner in small.words("雨伞，钥匙")]
    assert words == ["雨伞", "", "钥匙"]


def test_inner_words_of_two_and_three_characters_are_found_in_a_longer_word(lexicon):
    [(word, inner)] = lexicon.words("身份证")
    assert word == "身份证" and "身份" in inner and word not in inner
    assert all(len(part) in (2, 3) for _word, inner in lexicon.words("身份证件丢在游客服务中心") for part in inner)


def test_a_quoted_marking_weighs_double_and_ends_the_words_around_it(small):
    terms = small.terms("杯子上写着“豆豆”和'LY'").weights
    assert terms["豆豆"] == 2.0 and terms["ly"] == 2.0
    assert small.terms("豆豆").weights["豆豆"] == 1.0


def test_a_weight_given_scales_every_term(small):
    assert small.terms("雨伞", weight=0.5).weights["雨伞"] == 0.5
    assert small.terms("雨伞").weights["雨伞"] == 1.0


def test_without_applies_to_the_next_word_only(small):
    terms = small.terms("没有雨伞 钥匙")
    assert "雨伞" in terms.absent and "钥匙" in terms.present and "钥匙" in terms.weights
    assert "雨伞" not in terms.weights and "无雨伞" in terms.weights
    assert small.terms("没有，雨伞").absent == set() and "雨伞" in small.terms("没有，雨伞").present


def test_a_colour_said_to_be_absent_is_not_the_items(small):
    terms = small.terms("没有红色")
    assert terms.colours == frozenset()


def test_numbers_are_terms_of_their_value_and_a_lone_one_is_not(small):
    assert "3000" in small.terms("三千元").weights and "1" not in small.terms("一把雨伞").weights
    assert "2" in small.terms("两把雨伞").weights


def test_characters_of_unknown_words_count_at_half_weight_and_colour_words_only_by_their_hue(small):
    terms = small.terms("小黄鸭").weights
    assert terms["鸭"] == terms["黄"] == lx.UNIGRAM_WEIGHT and max(terms.values()) == 1.0
    red = small.terms("红色").weights
    assert "#red" in red and "色" not in red


# -- the vocabulary file ------------------------------------------------------------------------------------
def test_a_vocabulary_file_is_read_once_per_version_and_with_its_extra_words(tmp_path):
    path = tmp_path / "synonyms.yaml"
    path.write_text("kinds:\n  充电宝: [移动电源]\n", encoding="utf-8")
    first = lx.load_lexicon(str(path))
    assert "充电宝" in first.terms("移动电源").weights and lx.load_lexicon(str(path)) is first
    assert lx.load_lexicon(str(path), ["北门检票口"]) is not first
    assert lx.load_lexicon(str(path), ["北门检票口", "北门检票口"]) is lx.load_lexicon(str(path), ["北门检票口"])
    path.write_text("kinds:\n  充电宝: [尿宝]\n", encoding="utf-8")
    os.utime(path, (os.path.getatime(path), os.path.getmtime(path) + 5))
    second = lx.load_lexicon(str(path))
    assert second is not first and "充电宝" in second.terms("尿宝").weights


def test_an_empty_vocabulary_file_is_an_empty_vocabulary_and_another_shape_is_refused(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert lx.read_vocabulary(str(empty)) == {}
    listed = tmp_path / "listed.yaml"
    listed.write_text("- 充电宝\n- 移动电源\n", encoding="utf-8")
    with pytest.raises(ValueError, match="listed.yaml"):
        lx.read_vocabulary(str(listed))
    full = tmp_path / "full.yaml"
    full.write_text("kinds:\n  雨伞: [伞]\n", encoding="utf-8")
    assert lx.read_vocabulary(str(full)) == {"kinds": {"雨伞": ["伞"]}}


def test_each_lexicon_adds_its_words_to_its_own_tokenizer(small):
    other = Lexicon({"kinds": {"皮卡丘贴纸": []}})
    assert [w for w, _ in other.words("皮卡丘贴纸")] == ["皮卡丘贴纸"]
    assert [w for w, _ in small.words("皮卡丘贴纸")] != ["皮卡丘贴纸"]


def test_a_hyphenated_colour_name_is_one_colour_word():
    lexicon = Lexicon({"colours": {"gold": ["rose-gold", "香槟金"]}})
    assert lexicon.terms("Rose-Gold iPhone").colours == {"gold"}
    assert lexicon.terms("rosegold").colours == {"gold"}


def test_what_a_text_says_is_missing_is_named_by_its_word_and_its_last_character(small, lexicon):
    absent = lexicon.terms("没有手机壳").absent
    assert {"手机壳", "壳"} <= absent and "机" not in absent
    assert "绳" in lexicon.terms("没有挂绳").absent
    # colours, numbers and Latin words name nothing that could be missing
    assert small.terms("没有红色").absent == frozenset() and small.terms("没有 case").absent == frozenset()
    assert small.terms("没有三千").absent == frozenset()


def test_a_quoted_marking_adds_its_own_terms_and_nothing_else(small):
    quoted = small.terms("雨伞上写着'豆豆'").weights
    assert set(quoted) == set(small.terms("雨伞上写着").weights) | set(small.terms("豆豆").weights)
    two = small.terms("'甲乙'和'丙丁'").weights
    assert set(two) == set(small.terms("甲乙").weights) | set(small.terms("丙丁").weights) | set(
        small.terms("和").weights)


def test_a_two_character_vocabulary_word_is_cut_whole():
    lexicon = Lexicon({"kinds": {"充电宝": ["尿宝"]}})
    assert [word for word, _ in lexicon.words("尿宝丢了")][0] == "尿宝"


@pytest.mark.parametrize("text, number", [("一千二百", "1200"), ("三百五十", "350"), ("一百十", "110")])
def test_units_add_up_and_a_unit_without_a_digit_counts_one(text, number):
    assert chinese_number(text) == number


def test_words_before_a_marking_keep_their_own_weight(small):
    assert small.terms("雨伞上写着'豆豆'").weights["雨伞"] == 1.0
