"""Normalisation of the identifiers the blind index sees, and the tokens'
shape (pure functions)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from services.privacy import ERASED, InvalidIdentifier, InvalidToken, is_token, normalise_id_number, normalise_phone
from services.privacy import subject_of


@pytest.mark.parametrize("written, normal", [
    ("13812345678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("+86 13812345678", "13812345678"),
    ("+86-138-1234-5678", "13812345678"),
    ("(+86) 138.1234.5678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("013812345678", "13812345678"),
    ("+86 (0)138 1234 5678", "13812345678"),
    ("１３８－１２３４－５６７８", "13812345678"),        # full-width, as some input methods type it
    ("010-12345678", "01012345678"),
    ("+86 10 1234 5678", "01012345678"),
    ("+86 (0)10 1234 5678", "01012345678"),
    ("0755 8765 4321", "075587654321"),
    ("+86 755 8765 4321", "075587654321"),
    ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("+1 (212) 555-0100", "+12125550100"),
    ("12345", "12345"),
])
def test_a_phone_number_is_normalised(written, normal):
    assert normalise_phone(written) == normal


@pytest.mark.parametrize("written", ["", "   ", "ext.", "+", None, 13812345678])
def test_a_phone_without_digits_or_not_text_is_refused(written):
    with pytest.raises(InvalidIdentifier) as raised:
        normalise_phone(written)
    assert raised.value.field == "phone"


@pytest.mark.parametrize("written, normal", [
    ("11010519491231002X", "11010519491231002X"),
    ("11010519491231002x", "11010519491231002X"),
    (" 110105 19491231 002x ", "11010519491231002X"),
    ("110105-19491231-002X", "11010519491231002X"),
    ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
    ("e12345678", "E12345678"),  # a passport number
])
def test_an_id_number_is_normalised(written, normal):
    assert normalise_id_number(written) == normal


@pytest.mark.parametrize("written", ["", " - ", None, 110105])
def test_an_id_number_without_letters_or_digits_is_refused(written):
    with pytest.raises(InvalidIdentifier) as raised:
        normalise_id_number(written)
    assert raised.value.field == "id_number"


separators = st.lists(st.sampled_from([" ", "-", ".", "  ", "\u3000"]), max_size=1).map("".join)


@given(mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       prefix=st.sampled_from(["", "+86 ", "+86-", "0086 ", "86", "+86 (0)"]),
       cuts=st.tuples(separators, separators))
def test_every_way_of_writing_a_mobile_number_normalises_to_its_11_digits(mobile, prefix, cuts):
    written = prefix + mobile[:3] + cuts[0] + mobile[3:7] + cuts[1] + mobile[7:]
    assert normalise_phone(written) == mobile


SUBJECT = "3f0c1a52-2c4e-4b8a-9d7e-0a1b2c3d4e5f"


def test_a_token_names_its_subject():
    token = f"pd1:{SUBJECT}:" + "A" * 40
    assert is_token(token) and subject_of(token) == SUBJECT


@pytest.mark.parametrize("value", [None, 1, "", "韩梅梅", f"pd1:{SUBJECT}:", f"pd1:{SUBJECT}:" + "A" * 10,
                                   f"pd2:{SUBJECT}:" + "A" * 40, f"pd1:{SUBJECT.upper()}:" + "A" * 40,
                                   f"pd1:{SUBJECT}:" + "A" * 40 + "=", ERASED])
def test_anything_else_is_not_a_token(value):
    assert not is_token(value)
    with pytest.raises(InvalidToken):
        subject_of(value)


def test_erased_is_one_value_that_survives_pickling():
    import pickle
    assert pickle.loads(pickle.dumps(ERASED)) is ERASED
    assert repr(ERASED) == "ERASED"
