"""What each role is shown of a personal value. The expected table is
written here, not read back from services.privacy.masking, so a wrong entry
in the policy fails."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, strategies as st

from services.privacy import ERASED
from services.privacy.masking import (
    ERASED_TEXT, KINDS, ROLES, WITHHELD, level, mask_id_number, mask_name, mask_phone, present,
)

NAME, PHONE, ID_NUMBER = "韩梅梅", "138-1234-5678", "11010519491231002x"
HIDDEN = [["serial number", "SN-4471"], ["wallpaper", "a cat"]]
OTHER = "Room 12, Scenic Road"

C = {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER, "hidden": HIDDEN, "other": OTHER}
M = {"name": "韩*梅", "phone": "*******5678", "id_number": "**************002X"}
W = WITHHELD

#                      name     phone       id_number       hidden     other
EXPECTED = {
    "lead":               (C,       C,          C,              C,         C),
    "custodian":          (C,       C,          C,              C,         C),
    "clerk":              (C,       M,          M,              C,         C),
    "team_lead":          (C,       M,          M,              C,         C),
    "supervisor":         (C,       M,          M,              W,         W),
    "section_head":       (M,       M,          M,              W,         W),
    "department_manager": (M,       M,          M,              W,         W),
    "duty_manager":       (M,       M,          M,              W,         W),
    "admin":              (M,       M,          M,              W,         W),
    "finance":            (C,       W,          W,              W,         W),
    "safety_officer":     (W,       W,          W,              W,         W),
    "asset_officer":      (W,       W,          W,              W,         W),
    "auditor":            (W,       W,          W,              W,         W),
}


def shown(column, kind):
    return column[kind] if isinstance(column, dict) else column


def test_the_table_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("kind", KINDS)
def test_each_role_sees_each_kind_as_the_table_says(role, kind):
    expected = shown(EXPECTED[role][KINDS.index(kind)], kind)
    assert present(C[kind], kind, [role]) == expected


def test_a_clerk_sees_the_last_4_digits_of_a_phone_and_an_auditor_nothing():
    assert present("13812345678", "phone", ["clerk"]) == "*******5678"
    assert present("13812345678", "phone", ["auditor"]) == "[personal]"


def test_several_roles_see_the_most_any_of_them_may():
    assert present(PHONE, "phone", ["auditor", "clerk"]) == "*******5678"
    assert present(PHONE, "phone", ["clerk", "lead"]) == PHONE
    assert present(HIDDEN, "hidden", ["finance", "team_lead"]) == HIDDEN
    assert present(NAME, "name", ["duty_manager", "finance"]) == NAME


@pytest.mark.parametrize("roles", [[], ["visitor"], ["Lead"], ("",)])
def test_no_or_unknown_roles_see_nothing(roles):
    for kind in KINDS:
        assert present(C[kind], kind, roles) == WITHHELD
        assert level(kind, roles) == "withheld"


def test_one_role_may_be_given_as_a_string():
    assert present(PHONE, "phone", "clerk") == "*******5678"


@pytest.mark.parametrize("role", ROLES)
def test_erased_and_absent_values_pass_through_for_every_role(role):
    for kind in KINDS:
        assert present(ERASED, kind, [role]) is ERASED
        assert present(None, kind, [role]) is None
    assert ERASED_TEXT == {"zh": "已删除", "en": "erased"}


def test_an_unknown_kind_is_an_error():
    with pytest.raises(ValueError):
        present(NAME, "address", ["lead"])


def test_a_masked_kind_that_is_not_text_is_withheld():
    assert present(["13812345678"], "phone", ["clerk"]) == WITHHELD


@pytest.mark.parametrize("name, masked", [
    ("韩梅梅", "韩*梅"), ("韩梅", "韩*"), ("欧阳娜娜", "欧**娜"), ("李", "*"), ("Li Wei", "L* W*i"),
    ("阿卜杜拉·买买提", "阿**拉·买*提"), ("  Zhang  San ", "Z***g  S*n"), ("", "*"), ("韩 梅梅", "* 梅*")])
def test_a_name_keeps_its_first_and_last_characters(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "*******5678"), ("+86 138-1234-5678", "*******5678"), ("010-12345678", "*******5678"),
    ("+44 20 7946 0958", "+********0958"), ("12345", "*****"), ("no digits", "****")])
def test_a_phone_shows_its_last_4_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("id_number, masked", [
    ("11010519491231002x", "**************002X"), ("E12345678", "*****5678"), ("1234567", "*******"),
    ("--", "****")])
def test_an_id_number_shows_its_last_4_characters(id_number, masked):
    assert mask_id_number(id_number) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_mobile_number_shows_exactly_its_last_4_digits(mobile):
    masked = mask_phone(mobile)
    assert masked == "*" * 7 + mobile[-4:]


@given(st.text(min_size=1, max_size=12).filter(lambda s: s.strip() and "*" not in unicodedata.normalize("NFKC", s)))
def test_a_masked_name_of_3_or_more_characters_hides_its_middle(name):
    masked = mask_name(name)
    assert "*" in masked
    parts = [part for part in unicodedata.normalize("NFKC", name).split() if len(part) >= 3]
    for part in parts:
        assert part not in masked


@pytest.mark.parametrize("name", [".", "·", " . ", "•・"])
def test_a_name_of_separators_only_is_still_masked(name):
    assert mask_name(name) == "*"
