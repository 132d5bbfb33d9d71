"""The scenic area's places as matching knows them (``deploy/places.yaml``):
ids, names, aliases and physical neighbours. Pure once loaded.

A place written on a form resolves to a place id when its normalised text
is a name or alias, or else contains one (the longest wins: 北门检票口旁边
is 北门检票口, not 北门). A text that names no known place keeps its
normalised text as its key, so two forms that spell an unknown place alike
still agree.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

import yaml

from services.lost_and_found.lexicon import normalise

SAME, NEAR, ELSEWHERE = "same", "near", "elsewhere"
_UNKNOWN = "?"  # prefix of the key of a place the gazetteer does not know


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    aliases: tuple = ()
    near: tuple = ()


def _key(text: str) -> str:
    return normalise(text).replace(" ", "")


class Gazetteer:
    def __init__(self, places=()):
        self.places: dict[str, Place] = {}
        self._by_name: dict[str, str] = {}
        for place in places:
            if place.id in self.places:
                raise ValueError(f"place {place.id} is listed twice")
            self.places[place.id] = place
            for name in (place.name, *place.aliases):
                key = _key(name)
                if key in self._by_name and self._by_name[key] != place.id:
                    raise ValueError(f"{name!r} names both {self._by_name[key]} and {place.id}")
                self._by_name[key] = place.id
        self._near: dict[str, frozenset] = {pid: set() for pid in self.places}
        for place in self.places.values():
            for other in place.near:
                if other not in self.places:
                    raise ValueError(f"place {place.id} is near unknown place {other}")
                self._near[place.id].add(other)
                self._near[other].add(place.id)  # near is symmetric even when listed once
        self._near = {pid: frozenset(ids) for pid, ids in self._near.items()}
        names = sorted(self._by_name, key=len, reverse=True)
        self._mention = re.compile("|".join(re.escape(n) for n in names)) if names else None

    @classmethod
    def from_mapping(cls, data: dict) -> "Gazetteer":
        return cls(Place(str(p["id"]), str(p["name"]), tuple(str(a) for a in p.get("aliases") or ()),
                         tuple(str(n) for n in p.get("near") or ())) for p in (data or {}).get("places") or ())

    def resolve(self, text: str) -> str:
        """The place id a form's place text names, or ``?`` + its
        normalised text when it names no known place."""
        key = _key(text)
        if key in self._by_name:
            return self._by_name[key]
        if self._mention is not None and (found := self._mention.search(key)):
            return self._by_name[found[0]]
        return _UNKNOWN + key

    def known(self, place_key: str) -> bool:
        return place_key in self.places

    def name(self, place_key: str) -> str:
        return self.places[place_key].name if place_key in self.places else place_key[len(_UNKNOWN):]

    def neighbours(self, place_key: str) -> frozenset:
        return self._near.get(place_key, frozenset())

    def relation(self, a: str, b: str) -> str:
        """SAME, NEAR or ELSEWHERE for two resolved place keys."""
        if a == b:
            return SAME
        if b in self.neighbours(a):
            return NEAR
        return ELSEWHERE

    def mentioned(self, text: str) -> frozenset:
        """Ids of the known places a free text names (a visitor's account of
        where they went)."""
        if self._mention is None:
            return frozenset()
        return frozenset(self._by_name[m] for m in self._mention.findall(_key(text)))

    def words(self) -> tuple:
        """Every name and alias, for the segmenter."""
        return tuple(sorted({name for place in self.places.values() for name in (place.name, *place.aliases)}))


def read_places(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    if not isinstance(data, dict) or not isinstance(data.get("places", []), list):
        raise ValueError(f"{path}: expected `places:` with a list of places (id, name, aliases, near)")
    return data


@functools.lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> Gazetteer:
    return Gazetteer.from_mapping(read_places(path))


def load_gazetteer(path: str) -> Gazetteer:
    path = os.path.abspath(path)
    return _cached(path, os.path.getmtime(path))
