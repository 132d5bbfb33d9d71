"""A fold's rows in buckets that are pickled, and read back, one at a time.

A fold with one row per item (the found-item forms: 25 MB pickled on the
simulated year) made its first request after a restart wait for the whole
state to be unpickled (0.4-0.5 s), though the request reads one row.
:class:`Buckets` keeps the rows in ``count`` dicts chosen by a stable hash of
the key. Pickled, each bucket is its own pickle; read back, a bucket stays
bytes until one of its rows is read or written, and a bucket nobody touched
since is written into the next snapshot as it was read, not pickled again.

Rows must not share objects with rows of other buckets (each bucket is
pickled on its own: a shared object would come back as two).
"""
from __future__ import annotations

import pickle
import zlib

from services.chassis.collector import collector_paused

BUCKETS = 16


class Buckets:
    """A mapping of str key -> row (see the module)."""

    __slots__ = ("_buckets",)

    def __init__(self, count: int = BUCKETS):
        self._buckets: list = [{} for _ in range(count)]

    @classmethod
    def _packed(cls, buckets: tuple) -> "Buckets":
        made = cls.__new__(cls)
        made._buckets = list(buckets)
        return made

    def __reduce__(self):
        return Buckets._packed, (tuple(bucket if bucket.__class__ is bytes
                                       else pickle.dumps(bucket, pickle.HIGHEST_PROTOCOL)
                                       for bucket in self._buckets),)

    def _bucket(self, key: str) -> dict:
        # crc32, not hash(): str hashes change from one process to the next, a snapshot's buckets must not
        index = zlib.crc32(key.encode()) % len(self._buckets)
        bucket = self._buckets[index]
        if bucket.__class__ is bytes:
            bucket = self._unpack(index)
        return bucket

    def _unpack(self, index: int) -> dict:
        with collector_paused():
            bucket = self._buckets[index] = pickle.loads(self._buckets[index])
        return bucket

    def unpack_next(self) -> bool:
        """Read one more bucket back (a service's warm-up); False when none is left."""
        index = next((index for index, bucket in enumerate(self._buckets) if bucket.__class__ is bytes), None)
        if index is not None:
            self._unpack(index)
        return index is not None

    def _every_bucket(self) -> list[dict]:
        for index, bucket in enumerate(self._buckets):
            if bucket.__class__ is bytes:
                self._unpack(index)
        return self._buckets

    def get(self, key, default=None):
        return self._bucket(key).get(key, default) if key.__class__ is str else default

    def __getitem__(self, key: str):
        return self._bucket(key)[key]

    def __setitem__(self, key: str, row) -> None:
        self._bucket(key)[key] = row

    def __delitem__(self, key: str) -> None:
        del self._bucket(key)[key]

    def __contains__(self, key) -> bool:
        return key.__class__ is str and key in self._bucket(key)

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._every_bucket())

    def __iter__(self):
        return iter(self.keys())

    def keys(self) -> list:
        return [key for bucket in self._every_bucket() for key in bucket]

    def values(self) -> list:
        return [row for bucket in self._every_bucket() for row in bucket.values()]

    def items(self) -> list:
        return [item for bucket in self._every_bucket() for item in bucket.items()]

    def __eq__(self, other) -> bool:
        if isinstance(other, Buckets):
            other = dict(other.items())
        return isinstance(other, dict) and dict(self.items()) == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"Buckets({len(self)} rows in {len(self._buckets)} buckets)"
