"""MongoDB read-model snapshots against the contract: on the in-process
engine (mongomock) always, on a real server when ``MONGO_URI`` is set."""
from __future__ import annotations

import os
import uuid

import mongomock
import pytest

from services.chassis.readmodels.mongo import MongoReadModelStore
from tests.contract.readmodel_contract import ReadModelContract

MONGO_URI = os.environ.get("MONGO_URI")


class MongoHooks:
    large_state = 3 * 1024 * 1024 + 17  # more than one chunk of the fixture's 1 MiB

    def _open(self):
        return MongoReadModelStore(self.client[self.database_name], client=self.client, chunk_size=1024 * 1024)

    def reopen(self, store):
        store.close()
        return self._open()

    def damage(self, store, projector, fold):
        header = store.database["readmodel_snapshots"].find_one({"_id": projector})
        store.database["readmodel_chunks"].update_one(
            {"projector": projector, "generation": header["generation"], "fold": fold, "n": 0},
            {"$set": {"data": b"damaged"}})


class TestMongomockReadModels(MongoHooks, ReadModelContract):
    @pytest.fixture
    def readmodels(self):
        self.client, self.database_name = mongomock.MongoClient(), "vsc"
        return self._open()


@pytest.mark.skipif(not MONGO_URI, reason="no MongoDB server here: set MONGO_URI to run these")
class TestMongoReadModels(MongoHooks, ReadModelContract):
    @pytest.fixture
    def readmodels(self):
        import pymongo
        self.client = pymongo.MongoClient(MONGO_URI, serverSelectionTimeoutMS=5000)
        self.database_name = f"vsc_readmodels_{uuid.uuid4().hex[:8]}"
        yield self._open()
        self.client.drop_database(self.database_name)
        self.client.close()
