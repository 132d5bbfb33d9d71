"""The gazetteer at its edges: given a configured list of places, when a form's
place text is resolved or a visitor's account is read, then the place ids
matching compares; a bad configuration is refused naming what is wrong."""
import os

import pytest

from services.lost_and_found import gazetteer as g
from services.lost_and_found.gazetteer import ELSEWHERE, NEAR, SAME, Gazetteer, Place

PLACES = {"places": [
    {"id": "north-gate", "name": "北门", "aliases": ["北大门", "North Gate"], "near": ["north-check"]},
    {"id": "north-check", "name": "北门检票口", "aliases": ["北门入口"]},
    {"id": "lake", "name": "青岚湖", "aliases": None, "near": None},
    {"id": 7, "name": 7, "aliases": [8]},   # YAML may give numbers: kept as text
]}


@pytest.fixture
def places() -> Gazetteer:
    return Gazetteer.from_mapping(PLACES)


def test_a_mapping_gives_places_with_their_names_aliases_and_neighbours_as_text(places):
    assert places.places["north-gate"] == Place("north-gate", "北门", ("北大门", "North Gate"), ("north-check",))
    assert places.places["lake"] == Place("lake", "青岚湖")
    assert places.places["7"] == Place("7", "7", ("8",))
    assert places.resolve("8") == "7"


@pytest.mark.parametrize("data", [None, {}, {"places": None}, {"places": []}])
def test_an_empty_configuration_knows_no_place_and_keeps_every_text_as_its_own(data):
    empty = Gazetteer.from_mapping(data)
    assert empty.places == {} and empty.words() == ()
    assert empty.resolve(" 某个凉亭 ") == "?某个凉亭" and empty.name("?某个凉亭") == "某个凉亭"
    assert empty.mentioned("去了北门") == frozenset()


def test_a_name_or_alias_resolves_whatever_its_spacing_and_width(places):
    assert places.resolve("北门") == places.resolve("北 大 门") == places.resolve("ｎｏｒｔｈ ｇａｔｅ") == "north-gate"


def test_a_text_containing_names_resolves_to_the_longest_one_and_an_exact_alias_beats_containment(places):
    assert places.resolve("北门检票口左边的长椅") == "north-check"
    assert places.resolve("北门入口") == "north-check"
    assert places.resolve("北门附近") == "north-gate"


def test_an_unknown_place_is_kept_as_its_normalised_text_and_is_not_known(places):
    key = places.resolve("某个 凉亭")
    assert key == "?某个凉亭" and not places.known(key) and places.known("lake")
    assert places.name(key) == "某个凉亭" and places.name("north-check") == "北门检票口"


def test_neighbours_go_both_ways_and_an_unknown_place_has_none(places):
    assert places.neighbours("north-gate") == {"north-check"}
    assert places.neighbours("north-check") == {"north-gate"}
    assert places.neighbours("lake") == frozenset() and places.neighbours("?凉亭") == frozenset()
    assert (places.relation("north-check", "north-gate"), places.relation("lake", "lake"),
            places.relation("lake", "north-gate"), places.relation("?a", "?b")) == (NEAR, SAME, ELSEWHERE, ELSEWHERE)


def test_every_place_an_account_names_is_found_once(places):
    assert places.mentioned("先到北大门，又去青岚湖，再回北门检票口") == {"north-gate", "lake", "north-check"}
    assert places.mentioned("一直在酒店") == frozenset()


def test_the_segmenter_gets_every_name_and_alias_sorted(places):
    words = places.words()
    assert list(words) == sorted(words)
    assert {"北门", "北大门", "North Gate", "北门检票口", "北门入口", "青岚湖", "7", "8"} == set(words)


def test_a_place_listed_twice_is_refused_naming_it():
    with pytest.raises(ValueError, match="lake"):
        Gazetteer([Place("lake", "青岚湖"), Place("lake", "湖")])


def test_a_name_of_two_places_is_refused_naming_both_and_a_place_may_repeat_its_own_name():
    with pytest.raises(ValueError, match="a.*b"):
        Gazetteer([Place("a", "甲亭", ("亭",)), Place("b", "乙亭", ("亭",))])
    assert Gazetteer([Place("a", "甲亭", ("甲亭", "甲 亭"))]).resolve("甲亭") == "a"


def test_a_neighbour_that_is_not_listed_is_refused_naming_it():
    with pytest.raises(ValueError, match="nowhere"):
        Gazetteer([Place("a", "甲亭", (), ("nowhere",))])


# -- the file -----------------------------------------------------------------------------------------
def test_a_places_file_is_read_and_loaded_once_per_version(tmp_path):
    path = tmp_path / "places.yaml"
    path.write_text("places:\n  - {id: lake, name: 青岚湖, aliases: [湖边]}\n", encoding="utf-8")
    first = g.load_gazetteer(str(path))
    assert first.resolve("湖边") == "lake" and g.load_gazetteer(str(path)) is first
    path.write_text("places:\n  - {id: pier, name: 码头}\n", encoding="utf-8")
    os.utime(path, (os.path.getatime(path), os.path.getmtime(path) + 5))
    second = g.load_gazetteer(str(path))
    assert second is not first and second.resolve("码头") == "pier" and not second.known("lake")


def test_an_empty_places_file_is_an_empty_gazetteer(tmp_path):
    path = tmp_path / "places.yaml"
    path.write_text("", encoding="utf-8")
    assert g.read_places(str(path)) == {} and g.load_gazetteer(str(path)).places == {}


@pytest.mark.parametrize("text", ["- a\n- b\n", "places: {lake: 青岚湖}\n"])
def test_a_places_file_of_another_shape_is_refused_naming_the_file(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yaml"):
        g.read_places(str(path))
