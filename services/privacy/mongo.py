"""The MongoDB vault: collections beside the event store's in the same
database (a real server through pymongo, or ``mongomock`` in tests).

- ``subject_keys``: ``_id`` subject id, ``wrapped`` key, ``created_at``,
  ``retention`` (purpose -> ISO date) and ``keep_until`` (the latest of them)
- ``blind_index``: ``_id`` blind value, ``kind``, ``subjects`` (ids)
- ``erasures``: ``_id`` subject id, ``erased_at``, ``reason``, ``shredded``
- ``vault_meta``: ``_id`` name, ``value`` (the master key check value)

An erasure is recorded first and the key deleted after it; a crash between
the two is finished at the next open. Deleted documents leave MongoDB's
collection at once, but their bytes may remain in the storage engine's files
until reused, in the oplog of a replica set until it rolls over, and in
backups (docs/privacy.md).
"""
from __future__ import annotations

import contextlib
import re
from typing import Iterable
from urllib.parse import unquote, urlsplit

from pymongo import ASCENDING, ReadPreference
from pymongo.errors import ConfigurationError, DuplicateKeyError, InvalidName, PyMongoError

from services.privacy.errors import VaultConfigError, VaultUnavailable
from services.privacy.keys import MasterKey
from services.privacy.vault import SubjectVault

DEFAULT_DATABASE = "vsc"
DEFAULT_SERVER_SELECTION_MS = 5000


def _redact(uri: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", uri)


class MongoSubjectVault(SubjectVault):
    """``client`` is used as given; the vault closes it only when it owns it."""

    def __init__(self, client, database: str, master_key: MasterKey, *, owns_client: bool = True, **options):
        super().__init__(master_key, **options)
        self.client = client
        self._owns_client = owns_client
        try:
            # the primary: a subject created a moment ago must be found
            self.database = client.get_database(database, read_preference=ReadPreference.PRIMARY)
        except (InvalidName, TypeError) as exc:
            self.close()
            raise VaultConfigError(f"{database!r} is not a valid MongoDB database name: {exc}") from exc
        self._keys = self.database["subject_keys"]
        self._index = self.database["blind_index"]
        self._erasures = self.database["erasures"]
        self._meta = self.database["vault_meta"]
        try:
            with self._driver("open"):
                self.database.command("ping")
                self._index.create_index([("subjects", ASCENDING)], name="subjects")
                self._keys.create_index([("keep_until", ASCENDING)], name="keep_until", sparse=True)
                self._erasures.create_index([("shredded", ASCENDING)], name="shredded")
            self._check_master_key()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_uri(cls, uri: str, master_key: MasterKey, *, client=None, **options) -> "MongoSubjectVault":
        """``mongodb://``, ``mongodb+srv://`` or ``mongomock://`` (a fresh
        in-process engine unless ``client`` is given); the database is the
        URI's path (default ``vsc``)."""
        try:
            parts = urlsplit(uri)
        except (TypeError, ValueError) as exc:
            raise VaultConfigError(f"MongoDB URI {_redact(str(uri))!r} is malformed: {exc}") from exc
        database = unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE
        owns = client is None
        if parts.scheme == "mongomock":
            if client is None:
                try:
                    import mongomock  # only tests use this scheme
                except ImportError as exc:
                    raise VaultConfigError("mongomock:// needs the mongomock package (tests only)") from exc
                client = mongomock.MongoClient()
        elif parts.scheme in ("mongodb", "mongodb+srv"):
            if client is None:
                import pymongo
                options_in_uri = {key.lower() for key in re.findall(r"[?&]([^=&]+)=", uri)}
                extra = {} if "serverselectiontimeoutms" in options_in_uri else {
                    "serverSelectionTimeoutMS": DEFAULT_SERVER_SELECTION_MS}
                try:
                    client = pymongo.MongoClient(uri, **extra)
                except (ConfigurationError, ValueError, TypeError) as exc:
                    raise VaultConfigError(f"MongoDB URI {_redact(uri)!r} is malformed: {exc}") from exc
        else:
            raise VaultConfigError(f"{_redact(str(uri))!r} is not a MongoDB URI")
        return cls(client, database, master_key, owns_client=owns, **options)

    @contextlib.contextmanager
    def _driver(self, action: str):
        if self._closed:
            raise VaultUnavailable("the subject vault is closed")
        try:
            yield
        except PyMongoError as exc:
            raise VaultUnavailable(f"MongoDB vault {action} failed: {exc}") from exc

    # -- primitives -----------------------------------------------------------
    def _meta_get(self, name):
        with self._driver("read"):
            doc = self._meta.find_one({"_id": name})
        return doc["value"] if doc else None

    def _meta_put_if_absent(self, name, value):
        with self._driver("write"):
            try:
                self._meta.insert_one({"_id": name, "value": value})
            except DuplicateKeyError:
                pass
        return self._meta_get(name)

    def _any_wrapped_key(self):
        with self._driver("read"):
            doc = self._keys.find_one({}, {"wrapped": 1})
        return (doc["_id"], bytes(doc["wrapped"])) if doc else None

    def _insert_key(self, subject_id, wrapped, created_at):
        with self._driver("write"):
            self._keys.insert_one({"_id": subject_id, "wrapped": wrapped, "created_at": created_at,
                                   "retention": {}})

    def _drop_unused_subject(self, subject_id):
        with self._driver("write"):
            self._keys.delete_one({"_id": subject_id})

    def _wrapped_key(self, subject_id):
        with self._driver("read"):
            doc = self._keys.find_one({"_id": subject_id}, {"wrapped": 1})
        return bytes(doc["wrapped"]) if doc else None

    def _created_at(self, subject_ids: Iterable[str]):
        ids = list(subject_ids)
        if not ids:
            return {}
        with self._driver("read"):
            return {doc["_id"]: doc["created_at"]
                    for doc in self._keys.find({"_id": {"$in": ids}}, {"created_at": 1})}

    def _subjects_of_blind(self, blind):
        with self._driver("read"):
            doc = self._index.find_one({"_id": blind}, {"subjects": 1})
        return list(doc["subjects"]) if doc else []

    def _kinds_of(self, subject_ids):
        if not subject_ids:
            return {}
        kinds: dict[str, set[str]] = {}
        with self._driver("read"):
            for doc in self._index.find({"subjects": {"$in": list(subject_ids)}}, {"kind": 1, "subjects": 1}):
                for subject_id in doc["subjects"]:
                    if subject_id in subject_ids:
                        kinds.setdefault(subject_id, set()).add(doc["kind"])
        return kinds

    def _claim_blind(self, blind, kind, subject_id):
        with self._driver("write"):
            try:
                self._index.insert_one({"_id": blind, "kind": kind, "subjects": [subject_id]})
                return True
            except DuplicateKeyError:
                pass
            # a document emptied by unlinking counts as free
            result = self._index.update_one({"_id": blind, "subjects": {"$size": 0}},
                                            {"$set": {"subjects": [subject_id], "kind": kind}})
            return result.modified_count == 1

    def _link_blind(self, blind, kind, subject_id):
        with self._driver("write"):
            try:
                self._index.update_one({"_id": blind}, {"$addToSet": {"subjects": subject_id},
                                                        "$setOnInsert": {"kind": kind}}, upsert=True)
            except DuplicateKeyError:  # two first links raced: the document exists now
                self._index.update_one({"_id": blind}, {"$addToSet": {"subjects": subject_id}})

    def _unlink_blind(self, blind, subject_ids):
        with self._driver("write"):
            self._index.update_one({"_id": blind}, {"$pull": {"subjects": {"$in": list(subject_ids)}}})
            self._index.delete_one({"_id": blind, "subjects": {"$size": 0}})

    def _erase(self, subject_id, at, reason):
        with self._driver("erase"):
            try:
                self._erasures.insert_one({"_id": subject_id, "erased_at": at, "reason": reason,
                                           "shredded": False})
                already = False
            except DuplicateKeyError:
                already = True
            record = self._erasures.find_one({"_id": subject_id})
            self._shred(subject_id)
        return record["erased_at"], record["reason"], already

    def _shred(self, subject_id: str) -> None:
        self._keys.delete_one({"_id": subject_id})
        self._index.update_many({"subjects": subject_id}, {"$pull": {"subjects": subject_id}})
        self._index.delete_many({"subjects": {"$size": 0}})
        self._erasures.update_one({"_id": subject_id}, {"$set": {"shredded": True}})

    def _finish_erasures(self):
        with self._driver("erase"):
            for doc in list(self._erasures.find({"shredded": False}, {"_id": 1})):
                self._shred(doc["_id"])

    def _erasure(self, subject_id):
        with self._driver("read"):
            doc = self._erasures.find_one({"_id": subject_id})
        return (doc["erased_at"], doc["reason"]) if doc else None

    def _keep(self, subject_id, purpose, until):
        with self._driver("write"):
            result = self._keys.update_one({"_id": subject_id},
                                           {"$max": {f"retention.{purpose}": until, "keep_until": until}})
        return result.matched_count == 1

    def _retention(self, subject_id):
        with self._driver("read"):
            doc = self._keys.find_one({"_id": subject_id}, {"retention": 1})
        return dict(sorted((doc or {}).get("retention", {}).items()))

    def _expired(self, today):
        with self._driver("read"):
            docs = list(self._keys.find({"keep_until": {"$lt": today}}, {"keep_until": 1, "created_at": 1}))
        docs.sort(key=lambda doc: (doc["keep_until"], doc["created_at"], doc["_id"]))
        return [doc["_id"] for doc in docs]

    def _close(self) -> None:
        if self._owns_client and getattr(self, "client", None) is not None:
            self.client.close()
