"""The subject vault: one key per data subject (a person whose name, phone or
ID number the desk records), kept outside the event log, so that personal
data is stored in the log only as ciphertext and erasing a person is deleting
their key (crypto-shredding).

:class:`SubjectVault` is the port. Its public methods hold the shared logic
(tokens, blind index, linking rule, caching); a backend (``sqlite.py``,
``mongo.py``) implements the small storage primitives at the end of the class
and passes the one contract suite in ``tests/contract/vault_contract.py``.

Tokens
    ``pd1:<subject id>:<base64url(nonce || ciphertext || tag)>``: AES-256-GCM
    under the subject's key, 96-bit random nonce, the associated data binding
    the version, the subject id and the field name, so a token moved to another
    field or another subject fails to decrypt (:class:`InvalidToken`).

Blind index
    HMAC-SHA256, under a key derived from the master key, of the identifier's
    kind and its normalised form (:func:`normalise_phone`,
    :func:`normalise_id_number`). It finds a returning visitor's subject and,
    for erasure or subject access, every subject a phone or ID number names.
"""
from __future__ import annotations

import abc
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import os
import re
import threading
import time
import unicodedata
import uuid
from typing import Callable, Iterable, Mapping, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.privacy.errors import (
    InvalidIdentifier, InvalidToken, SubjectErased, UnknownSubject, VaultError, VaultKeyError,
    VaultUnavailable,
)
from services.privacy.keys import KEY_BYTES, DerivedKeys, MasterKey, derive_keys

TOKEN_VERSION = "pd1"
PHONE, ID_NUMBER = "phone", "id_number"
IDENTIFIER_KINDS = (PHONE, ID_NUMBER)

_TOKEN = re.compile(r"pd1:([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}):"
                    r"([A-Za-z0-9_-]{38,})")
_NONCE = 12
_WRAP_AAD = b"vsc-privacy/v1/subject-key|"
_PURPOSE = re.compile(r"[a-z0-9_][a-z0-9_:-]{0,63}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a mainland mobile number


class _Erased:
    """The value of a field whose subject was erased (see :data:`ERASED`)."""
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ERASED"

    def __reduce__(self):
        return (_Erased, ())


ERASED = _Erased()
"""What :meth:`SubjectVault.decrypt` returns once the subject's key is gone.
Compare with ``is``; the presentation layer shows it as 已删除 / erased."""


class Erasure(NamedTuple):
    """The record of one subject's erasure. ``already`` is True when the
    subject had been erased before this call (``erased_at`` and ``reason`` are
    then the first erasure's)."""
    subject_id: str
    erased_at: dt.datetime
    reason: str
    already: bool = False


# -- normalisation -------------------------------------------------------------

def normalise_phone(phone: str) -> str:
    """The one form of a phone number that the blind index sees.

    1. Full-width characters are folded (NFKC); everything but the digits and
       a leading ``+`` is dropped (spaces, dashes, dots, brackets).
    2. ``00`` in front is the international prefix, read as ``+``.
    3. Another country's number keeps ``+`` and its code
       (``+44 20 7946 0958`` -> ``+442079460958``).
    4. China's ``+86`` is dropped; what follows is a mobile number
       (``1[3-9]`` and 9 digits, zeros before it dropped) or a landline, which
       gets its trunk ``0`` back: ``+86 10 1234 5678`` -> ``01012345678``,
       the same as ``010-1234-5678``.
    5. Without ``+``: ``86`` or ``0`` right before a mobile number is dropped
       (``8613812345678``; ``013812345678``, once dialled from another city).
    So ``138-1234-5678``, ``+86 138 1234 5678`` and ``0086 13812345678`` are
    all ``13812345678``.
    """
    if not isinstance(phone, str):
        raise InvalidIdentifier(PHONE, "must be text")
    text = unicodedata.normalize("NFKC", phone).strip()
    plus = text.startswith("+")
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if not digits:
        raise InvalidIdentifier(PHONE, "has no digits")
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    if plus:
        if not digits.startswith("86"):
            return "+" + digits
        national = digits[2:].lstrip("0")
        return national if _MOBILE.fullmatch(national) else "0" + national
    for prefix in ("86", "0"):
        if digits.startswith(prefix) and _MOBILE.fullmatch(digits[len(prefix):]):
            return digits[len(prefix):]
    return digits


def normalise_id_number(id_number: str) -> str:
    """The one form of an ID number (resident ID card, passport, ...) that
    the blind index sees: full-width characters folded (NFKC), spaces and
    dashes dropped, letters upper-cased (the check character ``x`` of an ID
    card is ``X``)."""
    if not isinstance(id_number, str):
        raise InvalidIdentifier(ID_NUMBER, "must be text")
    text = "".join(ch for ch in unicodedata.normalize("NFKC", id_number)
                   if not ch.isspace() and ch != "-").upper()
    if not any(ch.isalnum() for ch in text):
        raise InvalidIdentifier(ID_NUMBER, "has no letters or digits")
    return text


_NORMALISE = {PHONE: normalise_phone, ID_NUMBER: normalise_id_number}


# -- tokens (pure) ---------------------------------------------------------------

def is_token(value) -> bool:
    """True for a value shaped like a token of this vault (``pd1:…``)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def subject_of(token: str) -> str:
    """The subject id a token was encrypted for (it is in the token in clear:
    subject access and erasure find a person's fields by it)."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise InvalidToken("not a personal-data token (expected pd1:<subject>:<data>)")
    return match.group(1)


def _aad(subject_id: str, field: str) -> bytes:
    return f"{TOKEN_VERSION}|{subject_id}|{field}".encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_field(field) -> None:
    if not isinstance(field, str) or not field:
        raise ValueError("field must be a non-empty string (the field's name in the event)")


def _time_text(moment: dt.datetime) -> str:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ValueError("times must be timezone-aware datetimes")
    return moment.astimezone(dt.timezone.utc).strftime(_TIME_FORMAT)


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=dt.timezone.utc)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# -- the port --------------------------------------------------------------------

class SubjectVault(abc.ABC):
    """Keys per data subject, a blind index to find subjects, erasure and
    retention. Safe for several threads (and greenlets) and, on a shared
    database, several processes.

    ``key_cache_seconds``: how long an unwrapped subject key is kept in this
    process. An erasure here takes effect at once; one made by another process
    is seen here within this many seconds (0: every call reads the database).
    ``clock`` gives the creation time of subjects (tests pass their own).
    """

    def __init__(self, master_key: MasterKey, *, key_cache_seconds: float = 5.0,
                 clock: Callable[[], dt.datetime] = _utc_now, monotonic: Callable[[], float] = time.monotonic):
        if not isinstance(master_key, MasterKey) or len(master_key.secret) != KEY_BYTES:
            raise VaultKeyError(getattr(master_key, "source", "PRIVACY_MASTER_KEY"),
                                "the master key must be a MasterKey of 32 bytes (see services.privacy.keys)")
        keys: DerivedKeys = derive_keys(master_key)
        self._source = master_key.source
        self._wrapper = AESGCM(keys.wrap)
        self._blind_key = keys.blind
        self._check = keys.check
        self._cache_seconds = float(key_cache_seconds)
        self._clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, tuple[AESGCM, float]] = {}
        self._erased: set[str] = set()   # erasure is forever: cached without expiry
        self._cache_lock = threading.Lock()
        self._closed = False

    # -- opening ----------------------------------------------------------------
    def _check_master_key(self) -> None:
        """Called by a backend once its tables exist: the first open stores
        the key check value; every later open compares it (and, should the
        value be missing, tries to unwrap a stored key)."""
        stored = self._meta_get("key_check")
        if stored is None:
            sample = self._any_wrapped_key()
            if sample is not None:
                self._unwrap(*sample)  # raises VaultKeyError on a wrong key
            stored = self._meta_put_if_absent("key_check", self._check)
        if not hmac.compare_digest(stored, self._check):
            raise VaultKeyError(self._source, (
                f"{self._source} is not the master key this vault was created with: the key check "
                "failed, nothing was read or changed. Give the key the vault was made with (from its "
                "backup); a new key cannot read what the old one protects."))
        self._finish_erasures()

    # -- subjects and the blind index ------------------------------------------
    def _blind(self, kind: str, value: str) -> str:
        """The blind index value of one identifier (kind ``phone`` or
        ``id_number``), after normalisation."""
        normalise = _NORMALISE.get(kind)
        if normalise is None:
            raise InvalidIdentifier(str(kind), f"unknown identifier; expected one of {IDENTIFIER_KINDS}")
        message = f"{kind}:{normalise(value)}".encode("utf-8")
        return hmac.new(self._blind_key, message, hashlib.sha256).hexdigest()

    def keyed_hash(self, purpose: str, kind: str, value: str) -> str:
        """A blind value of one identifier scoped to ``purpose`` (e.g. one
        found item's verifications): lets a service compare who a person is
        without storing the identifier, and, being scoped, does not link that
        person to the vault's index nor to another purpose."""
        normalise = _NORMALISE.get(kind)
        if normalise is None:
            raise InvalidIdentifier(str(kind), f"unknown identifier; expected one of {IDENTIFIER_KINDS}")
        message = f"{purpose}|{kind}:{normalise(value)}".encode("utf-8")
        return hmac.new(self._blind_key, message, hashlib.sha256).hexdigest()

    def _blinds(self, identifiers: Mapping[str, str | None]) -> dict[str, str]:
        if not isinstance(identifiers, Mapping):
            raise InvalidIdentifier("identifiers", "must be a mapping like {'phone': ..., 'id_number': ...}")
        blinds = {}
        for kind, value in identifiers.items():
            if kind not in IDENTIFIER_KINDS:
                raise InvalidIdentifier(str(kind), f"unknown identifier; expected one of {IDENTIFIER_KINDS}")
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            blinds[kind] = self._blind(kind, value)
        return blinds

    def subject_for(self, identifiers: Mapping[str, str | None]) -> str:
        """The subject of the person these identifiers (``phone``,
        ``id_number``; None or blank = not given) belong to, created when new.

        - No identifier: a fresh subject every time (a finder who gave only a
          name).
        - An ID number is decisive: the subject that has it; else a subject
          found by the phone that has no ID number yet (it gets this one);
          else a new subject. The phone is then linked to that subject too,
          so one phone may name several subjects (a family sharing a phone).
        - A phone alone: the oldest live subject with that phone, else new.
        - Several candidates: the oldest (created first).
        Erased subjects are never found: a person who comes back after an
        erasure gets a new subject.
        """
        blinds = self._blinds(identifiers)
        if not blinds:
            return self._create_subject()
        id_blind, phone_blind = blinds.get(ID_NUMBER), blinds.get(PHONE)
        for _ in range(100):
            if id_blind is not None:
                by_id = self._live_for(id_blind)
                if by_id:
                    subject = self._oldest(by_id)
                else:
                    by_phone = self._live_for(phone_blind) if phone_blind is not None else {}
                    kinds = self._kinds_of(list(by_phone))
                    phone_only = {s: at for s, at in by_phone.items() if ID_NUMBER not in kinds.get(s, ())}
                    fresh = not phone_only
                    subject = self._create_subject() if fresh else self._oldest(phone_only)
                    if not self._claim_blind(id_blind, ID_NUMBER, subject):
                        if fresh:  # another caller took this ID number first: use theirs
                            self._drop_unused_subject(subject)
                        continue
                if phone_blind is not None:
                    self._link_blind(phone_blind, PHONE, subject)
                return subject
            by_phone = self._live_for(phone_blind)
            if by_phone:
                return self._oldest(by_phone)
            subject = self._create_subject()
            if self._claim_blind(phone_blind, PHONE, subject):
                return subject
            self._drop_unused_subject(subject)
        raise VaultError("could not settle the subject of these identifiers (too many concurrent changes)")

    def subjects_by(self, phone: str | None = None, id_number: str | None = None) -> list[str]:
        """Every live subject found by this phone or this ID number (the
        union when both are given), oldest first: who to erase or export
        when a person asks. Only direct matches: a subject known by another
        phone of the same person is found by that phone or by the ID number."""
        blinds = self._blinds({PHONE: phone, ID_NUMBER: id_number})
        if not blinds:
            raise InvalidIdentifier("identifiers", "give a phone or an ID number")
        found: dict[str, str] = {}
        for blind in blinds.values():
            found.update(self._live_for(blind))
        return sorted(found, key=lambda s: (found[s], s))

    def _live_for(self, blind: str) -> dict[str, str]:
        """Live subjects of one blind value -> their creation time; rows left
        pointing at an erased subject (an erasure racing a link) are removed."""
        subjects = self._subjects_of_blind(blind)
        if not subjects:
            return {}
        live = self._created_at(subjects)
        dead = [s for s in subjects if s not in live]
        if dead:
            self._unlink_blind(blind, dead)
        return live

    @staticmethod
    def _oldest(candidates: dict[str, str]) -> str:
        return min(candidates, key=lambda s: (candidates[s], s))

    def _create_subject(self) -> str:
        subject_id = str(uuid.uuid4())
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        wrapped = nonce + self._wrapper.encrypt(nonce, key, _WRAP_AAD + subject_id.encode())
        self._insert_key(subject_id, wrapped, _time_text(self._clock()))
        return subject_id

    def _unwrap(self, subject_id: str, wrapped: bytes) -> AESGCM:
        try:
            key = self._wrapper.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _WRAP_AAD + subject_id.encode())
        except (InvalidTag, ValueError):
            raise VaultKeyError(self._source, (
                f"the key of data subject {subject_id!r} does not open with {self._source}: wrong master "
                "key, or the stored key was altered")) from None
        return AESGCM(key)

    def _subject_key(self, subject_id: str) -> AESGCM | None:
        """The subject's key, None when erased; UnknownSubject when never made."""
        now = self._monotonic()
        with self._cache_lock:
            if self._closed:
                raise VaultUnavailable("the subject vault is closed")
            if subject_id in self._erased:
                return None
            cached = self._cache.get(subject_id)
            if cached is not None and cached[1] > now:
                return cached[0]
        wrapped = self._wrapped_key(subject_id)
        if wrapped is None:
            if self._erasure(subject_id) is None:
                raise UnknownSubject(subject_id)
            with self._cache_lock:
                self._erased.add(subject_id)
                self._cache.pop(subject_id, None)
            return None
        key = self._unwrap(subject_id, wrapped)
        if self._cache_seconds > 0:
            with self._cache_lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[subject_id] = (key, now + self._cache_seconds)
        return key

    # -- encryption ---------------------------------------------------------------
    def encrypt(self, subject_id: str, field: str, plaintext: str) -> str:
        """The token of ``plaintext`` for this subject and field. ``field``
        is the field's name in the event as stored (e.g. ``claimant_phone``;
        decrypt with the same name, before any upcaster renames it).
        :class:`SubjectErased` or :class:`UnknownSubject` when there is no key."""
        _check_field(field)
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be a string (encode structured values as JSON first)")
        key = self._subject_key(subject_id)
        if key is None:
            raise SubjectErased(subject_id)
        nonce = os.urandom(_NONCE)
        sealed = key.encrypt(nonce, plaintext.encode("utf-8"), _aad(subject_id, field))
        return f"{TOKEN_VERSION}:{subject_id}:{_b64(nonce + sealed)}"

    def decrypt(self, token: str, field: str) -> str | _Erased:
        """The plaintext of a token read from ``field``, or :data:`ERASED`
        once its subject was erased. :class:`InvalidToken` when the token is
        malformed, altered, or was made for another field or subject;
        :class:`UnknownSubject` when this vault never had the subject."""
        _check_field(field)
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise InvalidToken("not a personal-data token (expected pd1:<subject>:<data>)")
        subject_id, data = match.groups()
        try:
            sealed = _unb64(data)
        except (binascii.Error, ValueError):
            raise InvalidToken("the token's data is not base64url") from None
        key = self._subject_key(subject_id)
        if key is None:
            return ERASED
        try:
            plain = key.decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(subject_id, field))
        except InvalidTag:
            raise InvalidToken(f"the token does not authenticate as field {field!r} of its subject: "
                               "altered, or moved from another field or subject") from None
        return plain.decode("utf-8")

    # -- erasure ------------------------------------------------------------------
    def erase(self, subject_id: str, reason: str, at: dt.datetime) -> Erasure:
        """Shred the subject's key, its blind index entries and retention
        records; keep a record (time, reason) of the erasure. Idempotent: a
        second call returns the first erasure with ``already=True``.
        ``reason`` must not contain personal data (it is kept)."""
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ValueError("reason must be a non-empty string of at most 500 characters")
        at_text = _time_text(at)
        if not isinstance(subject_id, str) or (self._wrapped_key(subject_id) is None
                                               and self._erasure(subject_id) is None):
            raise UnknownSubject(subject_id)
        erased_at, first_reason, already = self._erase(subject_id, at_text, reason.strip())
        with self._cache_lock:
            self._cache.pop(subject_id, None)
            self._erased.add(subject_id)
        return Erasure(subject_id, _parse_time(erased_at), first_reason, already)

    def erased_at(self, subject_id: str) -> dt.datetime | None:
        """When the subject was erased; None when it was not (or is unknown)."""
        record = self._erasure(subject_id)
        return _parse_time(record[0]) if record is not None else None

    # -- retention ----------------------------------------------------------------
    def keep(self, subject_id: str, purpose: str, until: dt.date) -> None:
        """Record that ``purpose`` (e.g. ``claim``, ``loan``) needs the
        subject's data up to and including ``until``. Per purpose the latest
        date wins (a repeated or reordered call never shortens it); the
        subject expires once every purpose's date has passed. No-op for an
        erased subject; :class:`UnknownSubject` for an unknown one."""
        if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
            raise ValueError("purpose must be 1-64 of a-z 0-9 _ : - (e.g. 'claim', 'loan')")
        if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
            raise ValueError("until must be a date")
        if not self._keep(subject_id, purpose, until.isoformat()):
            if self._erasure(subject_id) is None:
                raise UnknownSubject(subject_id)

    def retention(self, subject_id: str) -> dict[str, dt.date]:
        """Each purpose's date for a live subject (empty when none, or erased)."""
        return {purpose: dt.date.fromisoformat(until)
                for purpose, until in self._retention(subject_id).items()}

    def expired(self, today: dt.date) -> list[str]:
        """The live subjects whose every purpose ended before ``today``,
        oldest date first. A subject for which :meth:`keep` was never called
        does not expire."""
        if not isinstance(today, dt.date) or isinstance(today, dt.datetime):
            raise ValueError("today must be a date")
        return self._expired(today.isoformat())

    # -- lifetime -----------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        """Forget the keys held in memory and release the connections; the
        vault refuses work afterwards. Closing twice is harmless."""
        with self._cache_lock:
            self._closed = True
            self._cache.clear()
            self._erased.clear()
        self._close()

    @abc.abstractmethod
    def _close(self) -> None: ...

    # -- storage primitives (each backend) ------------------------------------
    # Blind values, subject ids and times are text; times are fixed-width UTC
    # text (compare as text); dates are ISO text.
    @abc.abstractmethod
    def _meta_get(self, name: str) -> str | None: ...

    @abc.abstractmethod
    def _meta_put_if_absent(self, name: str, value: str) -> str:
        """Store ``value`` unless ``name`` has one; return what is stored."""

    @abc.abstractmethod
    def _any_wrapped_key(self) -> tuple[str, bytes] | None: ...

    @abc.abstractmethod
    def _insert_key(self, subject_id: str, wrapped: bytes, created_at: str) -> None: ...

    @abc.abstractmethod
    def _drop_unused_subject(self, subject_id: str) -> None:
        """Delete a key made by :meth:`subject_for` that lost a race (never used)."""

    @abc.abstractmethod
    def _wrapped_key(self, subject_id: str) -> bytes | None: ...

    @abc.abstractmethod
    def _created_at(self, subject_ids: Iterable[str]) -> dict[str, str]:
        """The live (not erased) ones among ``subject_ids`` -> creation time."""

    @abc.abstractmethod
    def _subjects_of_blind(self, blind: str) -> list[str]: ...

    @abc.abstractmethod
    def _kinds_of(self, subject_ids: list[str]) -> dict[str, set[str]]:
        """Identifier kinds indexed for each subject."""

    @abc.abstractmethod
    def _claim_blind(self, blind: str, kind: str, subject_id: str) -> bool:
        """Atomically: index ``blind`` to ``subject_id`` only if no subject
        has it; True when this call did."""

    @abc.abstractmethod
    def _link_blind(self, blind: str, kind: str, subject_id: str) -> None:
        """Index ``blind`` to ``subject_id`` too (idempotent)."""

    @abc.abstractmethod
    def _unlink_blind(self, blind: str, subject_ids: list[str]) -> None: ...

    @abc.abstractmethod
    def _erase(self, subject_id: str, at: str, reason: str) -> tuple[str, str, bool]:
        """Record the erasure (first one wins) and delete the key, the blind
        index entries and the retention of the subject, removing their bytes
        from storage where the backend can; return (erased_at, reason,
        already)."""

    @abc.abstractmethod
    def _erasure(self, subject_id: str) -> tuple[str, str] | None: ...

    def _finish_erasures(self) -> None:
        """At open: complete erasures a crash interrupted (backends whose
        erasure is not one transaction)."""

    @abc.abstractmethod
    def _keep(self, subject_id: str, purpose: str, until: str) -> bool:
        """Raise (max) the purpose's date; False when the subject has no key."""

    @abc.abstractmethod
    def _retention(self, subject_id: str) -> dict[str, str]: ...

    @abc.abstractmethod
    def _expired(self, today: str) -> list[str]: ...
