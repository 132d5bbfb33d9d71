"""The one contract every subject vault backend passes.

A backend's test module subclasses :class:`VaultContract` (as ``Test…``) and
provides the hooks:

- ``open(master_key, **options)``: a vault on the test's own storage, fresh
  on first open, the same data on every later open (a restart, or another
  process while the first is still open);
- ``open_elsewhere(master_key)``: a vault on other, empty storage;
- ``raw_bytes()``: every byte the backend has stored (files, documents), to
  prove what is and is not in it.

The ``vault`` fixture is ``self.open(self.master_key)`` with a fresh key.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from services.privacy import (
    ERASED, InvalidIdentifier, InvalidToken, SubjectErased, UnknownSubject, VaultKeyError,
    generate_master_key, is_token, parse_master_key, subject_of,
)

NAME, PHONE, ID_NUMBER = "韩梅梅", "13812345678", "11010519491231002X"
NOW = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.timezone.utc)
PHONE_VARIANTS = ["13812345678", "138-1234-5678", "+86 13812345678", "+86 138 1234 5678",
                  "0086 13812345678", "8613812345678", "(+86) 138.1234.5678", "１３８１２３４５６７８"]
ID_VARIANTS = ["11010519491231002X", "11010519491231002x", " 110105 19491231 002x ", "110105-19491231-002X"]


class Clock:
    """Creation times one second apart, so "oldest" is unambiguous."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        self.now += dt.timedelta(seconds=1)
        return self.now


class VaultContract:
    @pytest.fixture(autouse=True)
    def _keys(self):
        self.master_key = parse_master_key(generate_master_key())

    @pytest.fixture
    def vault(self):
        return self.open(self.master_key)

    @pytest.fixture
    def clocked(self):
        """A vault whose subjects are created one second apart."""
        return self.open(self.master_key, clock=Clock())

    def reopen(self, vault, master_key=None, **options):
        vault.close()
        return self.open(master_key or self.master_key, **options)

    # -- the master key -----------------------------------------------------
    def test_the_vault_reopens_with_its_master_key_and_reads_what_it_wrote(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        token = vault.encrypt(subject, "claimant_name", NAME)
        again = self.reopen(vault)
        assert again.decrypt(token, "claimant_name") == NAME
        assert again.subject_for({"phone": PHONE}) == subject

    def test_a_wrong_master_key_is_refused_at_open_naming_the_setting(self, vault):
        token = vault.encrypt(vault.subject_for({"phone": PHONE}), "claimant_name", NAME)
        vault.close()
        wrong = parse_master_key(generate_master_key())
        with pytest.raises(VaultKeyError) as raised:
            self.open(wrong)
        assert raised.value.config_key == "PRIVACY_MASTER_KEY"
        assert "PRIVACY_MASTER_KEY" in str(raised.value)
        # and nothing was changed: the right key still opens and reads
        assert self.open(self.master_key).decrypt(token, "claimant_name") == NAME

    def test_a_wrong_key_from_a_file_names_the_file_setting(self, vault):
        vault.close()
        wrong = parse_master_key(generate_master_key(), "PRIVACY_MASTER_KEY_FILE (/etc/vsc/privacy.key)")
        with pytest.raises(VaultKeyError) as raised:
            self.open(wrong)
        assert "PRIVACY_MASTER_KEY_FILE" in str(raised.value)

    def test_an_empty_vault_remembers_the_first_master_key(self, vault):
        vault.close()
        with pytest.raises(VaultKeyError):
            self.open(parse_master_key(generate_master_key()))

    # -- tokens -------------------------------------------------------------
    def test_a_token_is_versioned_names_its_subject_and_hides_the_text(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        token = vault.encrypt(subject, "claimant_phone", PHONE)
        assert re.fullmatch(r"pd1:[0-9a-f-]{36}:[A-Za-z0-9_-]+", token)
        assert is_token(token) and subject_of(token) == subject
        assert PHONE not in token and "5678" not in token
        assert vault.encrypt(subject, "claimant_phone", PHONE) != token  # a fresh nonce each time
        assert vault.decrypt(token, "claimant_phone") == PHONE

    @pytest.mark.parametrize("text", ["", "韩梅梅", "Li Wei", "a" * 2000, "emoji \U0001F600 and\nnewline",
                                      '[["serial number", "SN-123"]]'])
    def test_any_text_round_trips(self, vault, text):
        subject = vault.subject_for({})
        assert vault.decrypt(vault.encrypt(subject, "detail", text), "detail") == text

    def test_a_token_moved_to_another_field_fails(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        token = vault.encrypt(subject, "claimant_phone", PHONE)
        with pytest.raises(InvalidToken):
            vault.decrypt(token, "finder_phone")

    def test_a_token_moved_to_another_subject_fails(self, vault):
        mine = vault.subject_for({"phone": PHONE})
        other = vault.subject_for({"phone": "13900000000"})
        token = vault.encrypt(mine, "claimant_phone", PHONE)
        moved = token.replace(mine, other)
        assert subject_of(moved) == other
        with pytest.raises(InvalidToken):
            vault.decrypt(moved, "claimant_phone")

    def test_an_altered_token_fails(self, vault):
        subject = vault.subject_for({})
        token = vault.encrypt(subject, "claimant_name", NAME)
        head, data = token.rsplit(":", 1)
        flipped = data[:10] + ("A" if data[10] != "A" else "B") + data[11:]
        for bad in (f"{head}:{flipped}", token[:-4], f"{head}:{data[:20]}"):
            with pytest.raises(InvalidToken):
                vault.decrypt(bad, "claimant_name")

    @pytest.mark.parametrize("value", [None, 42, "", NAME, "pd1:not-a-subject:abc", "pd2:" + "0" * 36 + ":x"])
    def test_what_is_not_a_token_is_refused(self, vault, value):
        assert not is_token(value)
        with pytest.raises(InvalidToken):
            vault.decrypt(value, "claimant_name")

    def test_tokens_of_an_unknown_subject_are_unknown_subject(self, vault):
        token = vault.encrypt(vault.subject_for({}), "claimant_name", NAME)
        stranger = self.open_elsewhere(parse_master_key(generate_master_key()))
        with pytest.raises(UnknownSubject):
            stranger.decrypt(token, "claimant_name")
        with pytest.raises(UnknownSubject):
            stranger.encrypt(subject_of(token), "claimant_name", NAME)

    def test_encrypt_takes_text_and_a_field_name(self, vault):
        subject = vault.subject_for({})
        with pytest.raises(TypeError):
            vault.encrypt(subject, "hidden_features", [["serial", "SN-1"]])
        with pytest.raises(ValueError):
            vault.encrypt(subject, "", NAME)

    # -- the blind index ----------------------------------------------------
    @pytest.mark.parametrize("variant", PHONE_VARIANTS)
    def test_every_written_form_of_a_phone_finds_the_same_subject(self, vault, variant):
        subject = vault.subject_for({"phone": PHONE})
        assert vault.subject_for({"phone": variant}) == subject
        assert vault.subjects_by(phone=variant) == [subject]

    @pytest.mark.parametrize("variant", ID_VARIANTS)
    def test_every_written_form_of_an_id_number_finds_the_same_subject(self, vault, variant):
        subject = vault.subject_for({"id_number": ID_NUMBER})
        assert vault.subject_for({"id_number": variant}) == subject
        assert vault.subjects_by(id_number=variant) == [subject]

    def test_different_numbers_are_different_subjects(self, vault):
        first = vault.subject_for({"phone": PHONE})
        assert vault.subject_for({"phone": "13812345679"}) != first
        assert vault.subject_for({"id_number": PHONE}) != first  # a phone and an ID number never mix

    def test_a_subject_with_both_is_found_by_either(self, vault):
        subject = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        assert vault.subject_for({"phone": PHONE}) == subject
        assert vault.subject_for({"id_number": ID_NUMBER}) == subject
        assert vault.subjects_by(phone=PHONE) == vault.subjects_by(id_number=ID_NUMBER) == [subject]

    def test_a_phone_only_subject_takes_the_id_number_given_later(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        assert vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER}) == subject
        assert vault.subject_for({"id_number": ID_NUMBER}) == subject

    def test_an_id_number_only_subject_takes_the_phone_given_later(self, vault):
        subject = vault.subject_for({"id_number": ID_NUMBER})
        assert vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER}) == subject
        assert vault.subject_for({"phone": PHONE}) == subject

    def test_two_people_sharing_a_phone_stay_two_subjects(self, clocked):
        mother = clocked.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        son = clocked.subject_for({"phone": PHONE, "id_number": "110105201001010011"})
        assert son != mother
        assert clocked.subjects_by(phone=PHONE) == [mother, son]
        assert clocked.subjects_by(id_number="110105201001010011") == [son]
        assert clocked.subject_for({"phone": PHONE}) == mother  # the phone alone: the oldest

    def test_when_one_person_links_two_subjects_the_id_numbers_subject_wins(self, clocked):
        by_phone = clocked.subject_for({"phone": PHONE})
        by_id = clocked.subject_for({"id_number": ID_NUMBER})
        assert by_phone != by_id
        assert clocked.subject_for({"phone": PHONE, "id_number": ID_NUMBER}) == by_id
        # both stay findable for erasure and subject access
        assert clocked.subjects_by(phone=PHONE) == [by_phone, by_id]
        assert clocked.subjects_by(phone=PHONE, id_number=ID_NUMBER) == [by_phone, by_id]
        assert clocked.subjects_by(id_number=ID_NUMBER) == [by_id]
        assert clocked.subject_for({"phone": PHONE}) == by_phone  # the oldest with that phone

    def test_when_a_rival_creates_the_same_phone_first_its_subject_is_used_and_no_key_is_left(self, vault):
        rival = self.open(self.master_key)
        made, theirs = self._race(vault, "_claim_blind", lambda: rival.subject_for({"phone": PHONE}))
        mine = vault.subject_for({"phone": "+86 138 1234 5678"})
        assert mine == theirs[0]
        assert [vault._wrapped_key(subject) is None for subject in made] == [True]  # my unused key is gone
        assert vault.subjects_by(phone=PHONE) == [mine]

    def test_when_a_rival_creates_the_same_id_number_first_its_subject_is_used(self, vault):
        rival = self.open(self.master_key)
        made, theirs = self._race(vault, "_claim_blind", lambda: rival.subject_for({"id_number": ID_NUMBER}))
        mine = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        assert mine == theirs[0]
        assert vault.subject_for({"phone": PHONE}) == mine  # the phone was linked to it

    def test_a_link_racing_an_erasure_leaves_no_live_entry(self, vault):
        rival = self.open(self.master_key)
        subject = vault.subject_for({"id_number": ID_NUMBER})
        self._race(vault, "_link_blind", lambda: rival.erase(subject, "visitor asked", NOW))
        assert vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER}) == subject  # erased meanwhile
        returning = vault.subject_for({"phone": PHONE})
        assert returning != subject
        assert vault.subjects_by(phone=PHONE, id_number=ID_NUMBER) == [returning]

    @staticmethod
    def _race(vault, primitive: str, rival_call):
        """Run ``rival_call`` just before ``vault``'s first call of
        ``primitive``; return (subjects this vault created, [rival's result])."""
        original, create = getattr(vault, primitive), vault._create_subject
        made, results = [], []

        def racing(*args):
            if not results:
                results.append(rival_call())
            return original(*args)

        def creating():
            made.append(create())
            return made[-1]

        vault.__dict__[primitive] = racing
        vault.__dict__["_create_subject"] = creating
        return made, results

    def test_a_subject_without_identifiers_is_new_every_time(self, vault):
        first, second = vault.subject_for({}), vault.subject_for({"phone": None, "id_number": "  "})
        assert first != second
        assert vault.decrypt(vault.encrypt(second, "finder_name", NAME), "finder_name") == NAME

    @pytest.mark.parametrize("identifiers, field", [
        ({"email": "a@b.c"}, "email"), ({"phone": "no digits"}, "phone"), ({"id_number": "--"}, "id_number"),
        ({"phone": 13812345678}, "phone")])
    def test_unusable_identifiers_are_refused_by_name(self, vault, identifiers, field):
        with pytest.raises(InvalidIdentifier) as raised:
            vault.subject_for(identifiers)
        assert raised.value.field == field

    def test_subjects_by_needs_an_identifier_and_finds_nothing_unknown(self, vault):
        with pytest.raises(InvalidIdentifier):
            vault.subjects_by()
        assert vault.subjects_by(phone="13900000000") == []

    def test_the_vault_stores_no_identifier_name_or_text_in_clear(self, vault):
        subject = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        tokens = [vault.encrypt(subject, field, text) for field, text in
                  (("claimant_name", NAME), ("claimant_phone", PHONE), ("claimant_id_number", ID_NUMBER))]
        vault.keep(subject, "claim", dt.date(2027, 5, 1))
        raw = self.raw_bytes()
        for secret in (PHONE, ID_NUMBER, ID_NUMBER.lower(), NAME, *tokens):
            for encoded in {secret.encode("utf-8"), secret.encode("utf-16-le")}:
                assert encoded not in raw, secret
        assert subject.encode() in raw  # the check is looking at the right bytes

    # -- erasure ------------------------------------------------------------
    def test_after_erasure_decrypt_returns_erased_also_after_a_restart(self, vault):
        subject = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        token = vault.encrypt(subject, "claimant_name", NAME)
        erasure = vault.erase(subject, "visitor asked", NOW)
        assert erasure == (subject, NOW, "visitor asked", False)
        assert vault.decrypt(token, "claimant_name") is ERASED
        assert vault.erased_at(subject) == NOW
        again = self.reopen(vault)
        assert again.decrypt(token, "claimant_name") is ERASED
        assert again.erased_at(subject) == NOW

    def test_an_erased_subject_takes_no_new_data(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        vault.erase(subject, "visitor asked", NOW)
        with pytest.raises(SubjectErased):
            vault.encrypt(subject, "claimant_name", NAME)

    def test_erasure_removes_the_subject_from_the_blind_index(self, vault):
        subject = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        vault.erase(subject, "visitor asked", NOW)
        assert vault.subjects_by(phone=PHONE, id_number=ID_NUMBER) == []
        returning = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        assert returning != subject
        assert vault.subjects_by(phone=PHONE) == [returning]

    def test_erasure_is_idempotent_and_keeps_the_first_record(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        vault.erase(subject, "visitor asked", NOW)
        later = NOW + dt.timedelta(days=1)
        assert vault.erase(subject, "retention", later) == (subject, NOW, "visitor asked", True)
        assert self.reopen(vault).erase(subject, "again", later).already

    def test_erasing_one_subject_leaves_the_others(self, vault):
        gone = vault.subject_for({"phone": PHONE})
        kept = vault.subject_for({"phone": "13900000000"})
        token = vault.encrypt(kept, "claimant_name", "李雷")
        vault.erase(gone, "visitor asked", NOW)
        assert vault.decrypt(token, "claimant_name") == "李雷"
        assert vault.erased_at(kept) is None
        assert vault.subjects_by(phone="13900000000") == [kept]

    def test_erasing_an_unknown_subject_is_unknown_subject(self, vault):
        with pytest.raises(UnknownSubject):
            vault.erase("3f0c1a52-2c4e-4b8a-9d7e-0a1b2c3d4e5f", "visitor asked", NOW)

    @pytest.mark.parametrize("reason, at", [("", NOW), ("  ", NOW), (None, NOW), ("ok", NOW.replace(tzinfo=None))])
    def test_an_erasure_needs_a_reason_and_an_aware_time(self, vault, reason, at):
        subject = vault.subject_for({})
        with pytest.raises(ValueError):
            vault.erase(subject, reason, at)
        assert vault.erased_at(subject) is None

    def test_an_erasure_made_by_another_process_is_seen_once_the_cache_expires(self):
        ticks = [0.0]
        reader = self.open(self.master_key, key_cache_seconds=5, monotonic=lambda: ticks[0])
        subject = reader.subject_for({"phone": PHONE})
        token = reader.encrypt(subject, "claimant_name", NAME)
        assert reader.decrypt(token, "claimant_name") == NAME  # cached from here
        eraser = self.open(self.master_key, key_cache_seconds=0)
        eraser.erase(subject, "visitor asked", NOW)
        assert eraser.decrypt(token, "claimant_name") is ERASED
        ticks[0] = 4.9
        assert reader.decrypt(token, "claimant_name") == NAME
        ticks[0] = 5.1
        assert reader.decrypt(token, "claimant_name") is ERASED

    def test_without_a_cache_an_erasure_elsewhere_is_seen_at_once(self):
        reader = self.open(self.master_key, key_cache_seconds=0)
        subject = reader.subject_for({"phone": PHONE})
        token = reader.encrypt(subject, "claimant_name", NAME)
        assert reader.decrypt(token, "claimant_name") == NAME
        self.open(self.master_key).erase(subject, "visitor asked", NOW)
        assert reader.decrypt(token, "claimant_name") is ERASED

    # -- retention ----------------------------------------------------------
    def test_expired_returns_exactly_the_subjects_whose_every_purpose_has_passed(self, clocked):
        day = dt.date(2026, 6, 1)
        ended = clocked.subject_for({"phone": "13900000001"})
        clocked.keep(ended, "claim", day - dt.timedelta(days=1))
        ends_today = clocked.subject_for({"phone": "13900000002"})
        clocked.keep(ends_today, "claim", day)
        one_purpose_left = clocked.subject_for({"phone": "13900000003"})
        clocked.keep(one_purpose_left, "claim", day - dt.timedelta(days=30))
        clocked.keep(one_purpose_left, "loan", day + dt.timedelta(days=30))
        ended_earlier = clocked.subject_for({"phone": "13900000004"})
        clocked.keep(ended_earlier, "loan", day - dt.timedelta(days=10))
        never_kept = clocked.subject_for({"phone": "13900000005"})
        erased = clocked.subject_for({"phone": "13900000006"})
        clocked.keep(erased, "claim", day - dt.timedelta(days=5))
        clocked.erase(erased, "visitor asked", NOW)
        assert clocked.expired(day) == [ended_earlier, ended]
        assert clocked.expired(day + dt.timedelta(days=1)) == [ended_earlier, ended, ends_today]
        assert never_kept not in clocked.expired(dt.date(2999, 1, 1))
        assert self.reopen(clocked).expired(day) == [ended_earlier, ended]

    def test_a_purpose_keeps_its_latest_date(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        vault.keep(subject, "claim", dt.date(2027, 5, 1))
        vault.keep(subject, "claim", dt.date(2026, 12, 1))  # a late, older message
        vault.keep(subject, "loan", dt.date(2026, 8, 1))
        assert vault.retention(subject) == {"claim": dt.date(2027, 5, 1), "loan": dt.date(2026, 8, 1)}
        assert vault.expired(dt.date(2027, 5, 1)) == []
        assert vault.expired(dt.date(2027, 5, 2)) == [subject]

    def test_retention_of_an_erased_subject_is_gone_and_keep_is_a_no_op(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        vault.keep(subject, "claim", dt.date(2026, 1, 1))
        vault.erase(subject, "retention", NOW)
        vault.keep(subject, "claim", dt.date(2026, 2, 1))
        assert vault.retention(subject) == {}
        assert vault.expired(dt.date(2999, 1, 1)) == []

    def test_keep_for_an_unknown_subject_is_unknown_subject(self, vault):
        with pytest.raises(UnknownSubject):
            vault.keep("3f0c1a52-2c4e-4b8a-9d7e-0a1b2c3d4e5f", "claim", dt.date(2026, 1, 1))

    @pytest.mark.parametrize("purpose, until", [
        ("", dt.date(2026, 1, 1)), ("a.b", dt.date(2026, 1, 1)), ("$set", dt.date(2026, 1, 1)),
        ("claim", "2026-01-01"), ("claim", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))])
    def test_keep_takes_a_plain_purpose_and_a_date(self, vault, purpose, until):
        with pytest.raises(ValueError):
            vault.keep(vault.subject_for({}), purpose, until)

    def test_expired_takes_a_date(self, vault):
        with pytest.raises(ValueError):
            vault.expired("2026-01-01")

    # -- lifetime -----------------------------------------------------------
    def test_a_closed_vault_refuses_work(self, vault):
        from services.privacy import VaultUnavailable
        subject = vault.subject_for({})
        vault.close()
        vault.close()
        for call in (lambda: vault.subject_for({"phone": PHONE}), lambda: vault.encrypt(subject, "f", "x"),
                     lambda: vault.expired(dt.date(2026, 1, 1))):
            with pytest.raises(VaultUnavailable):
                call()
