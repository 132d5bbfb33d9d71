"""Read-model snapshots in MongoDB, in the event store's database.

``readmodel_chunks`` holds each fold's bytes in chunks under 16 MB (a
document's limit), tagged with the snapshot's generation;
``readmodel_snapshots`` holds one header document per projector naming its
generation, position and folds. A save writes the new generation's chunks,
then replaces the header in one single-document write (atomic everywhere,
mongomock included), then deletes older chunks. A crash before the header
write leaves the previous snapshot whole (its chunks are untouched); stray
chunks are removed by the next save. pymongo is cooperative under eventlet,
so this backend does not block the hub (``blocking = False``)."""
from __future__ import annotations

import uuid

from bson.binary import Binary
from pymongo.errors import PyMongoError

from services.chassis.readmodels.interface import FoldHeader, FoldState, ReadModelStore, Snapshot, digest
from services.eventstore.errors import StoreUnavailable
from services.eventstore.interface import utc_now

CHUNK = 8 * 1024 * 1024


class MongoReadModelStore(ReadModelStore):
    blocking = False

    def __init__(self, database, *, client=None, owns_client: bool = False, chunk_size: int = CHUNK):
        self.database, self.client, self._owns_client = database, client, owns_client
        self._headers = database["readmodel_snapshots"]
        self._chunks = database["readmodel_chunks"]
        self._chunk = chunk_size
        try:
            self._chunks.create_index([("projector", 1), ("generation", 1), ("fold", 1), ("n", 1)])
        except PyMongoError as exc:
            raise StoreUnavailable(f"cannot open the MongoDB read-model store: {exc}") from exc

    @classmethod
    def from_uri(cls, uri: str, *, client=None) -> "MongoReadModelStore":
        """``mongodb://…/<database>`` or ``mongomock://…/<database>`` (the
        event store's URI: its database gets two more collections)."""
        from urllib.parse import unquote, urlsplit
        database = unquote(urlsplit(uri).path.lstrip("/")) or "vsc"
        owns = client is None
        if client is None:
            if uri.startswith("mongomock://"):
                import mongomock
                client = mongomock.MongoClient()
            else:
                import pymongo
                client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        return cls(client[database], client=client, owns_client=owns)

    def save(self, projector, position, event_hash, folds) -> None:
        generation = uuid.uuid4().hex
        try:
            manifest = []
            for name, fold in folds.items():
                pieces = [fold.state[start:start + self._chunk]
                          for start in range(0, len(fold.state), self._chunk)] or [b""]
                for n, piece in enumerate(pieces):
                    self._chunks.insert_one({"projector": projector, "generation": generation, "fold": name,
                                             "n": n, "data": Binary(piece)})
                manifest.append({"name": name, "version": fold.version, "position": fold.position,
                                 "digest": digest(fold.state), "chunks": len(pieces)})
            self._headers.replace_one({"_id": projector}, {
                "_id": projector, "generation": generation, "position": position, "event_hash": event_hash,
                "taken_at": utc_now(), "folds": manifest}, upsert=True)
            self._chunks.delete_many({"projector": projector, "generation": {"$ne": generation}})
        except PyMongoError as exc:
            raise StoreUnavailable(f"snapshot of {projector} not written: {exc}") from exc

    def load(self, projector) -> Snapshot | None:
        try:
            header = self._headers.find_one({"_id": projector})
            if header is None:
                return None
            pieces: dict[str, list] = {}
            for chunk in self._chunks.find({"projector": projector, "generation": header["generation"]}):
                pieces.setdefault(chunk["fold"], []).append((chunk["n"], bytes(chunk["data"])))
        except PyMongoError as exc:
            raise StoreUnavailable(f"snapshot of {projector} unreadable: {exc}") from exc
        folds = {}
        for entry in header["folds"]:
            parts = sorted(pieces.get(entry["name"], ()))
            if [n for n, _ in parts] != list(range(entry["chunks"])):
                continue
            state = b"".join(piece for _, piece in parts)
            if digest(state) == entry["digest"]:
                folds[entry["name"]] = FoldState(entry["version"], entry["position"], state)
        return Snapshot(projector, header["position"], header["event_hash"], header["taken_at"], folds)

    def headers(self, projector) -> Snapshot | None:
        try:
            header = self._headers.find_one({"_id": projector})
        except PyMongoError as exc:
            raise StoreUnavailable(f"snapshot of {projector} unreadable: {exc}") from exc
        if header is None:
            return None
        folds = {entry["name"]: FoldHeader(entry["version"], entry["position"], entry["digest"])
                 for entry in header["folds"]}
        return Snapshot(projector, header["position"], header["event_hash"], header["taken_at"], folds)

    def load_state(self, projector, fold, expected_digest) -> bytes | None:
        try:
            header = self._headers.find_one({"_id": projector})
            entry = next((entry for entry in (header or {}).get("folds", ())
                          if entry["name"] == fold and entry["digest"] == expected_digest), None)
            if entry is None:  # replaced by a newer snapshot meanwhile (its chunks are gone)
                return None
            parts = sorted((chunk["n"], bytes(chunk["data"])) for chunk in self._chunks.find(
                {"projector": projector, "generation": header["generation"], "fold": fold}))
        except PyMongoError as exc:
            raise StoreUnavailable(f"snapshot of {projector} unreadable: {exc}") from exc
        if [n for n, _ in parts] != list(range(entry["chunks"])):
            return None
        state = b"".join(piece for _, piece in parts)
        return state if digest(state) == expected_digest else None

    def drop(self, projector) -> None:
        self._headers.delete_one({"_id": projector})
        self._chunks.delete_many({"projector": projector})

    def close(self) -> None:
        if self._owns_client and self.client is not None:
            self.client.close()
