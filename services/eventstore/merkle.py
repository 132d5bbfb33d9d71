"""The Merkle tree hash of RFC 9162 section 2.1 (the tree of RFC 6962,
Certificate Transparency), SHA-256 throughout, with consistency proofs.

- a leaf hashes as ``sha256(0x00 || leaf)``, an inner node as
  ``sha256(0x01 || left || right)``; the empty tree as ``sha256()``;
- a tree of ``n > 1`` leaves splits at ``k``, the largest power of two below
  ``n``: the first ``k`` leaves on the left, the rest on the right;
- a consistency proof shows that the tree of the first ``m`` leaves is a
  prefix of the tree of ``n`` leaves, with O(log n) hashes.

Written from the RFC (sections 2.1.1, 2.1.4.1 and 2.1.4.2) rather than taken
from a library: the Python ones are GPL-licensed or unmaintained, and this
is a few dozen lines tested against the RFC's recursive definition.
"""
from __future__ import annotations

import hashlib

_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """An append-only Merkle tree over leaf hashes. Keeps the hash of every
    complete subtree (about two hashes per leaf, in flat bytearrays), so an
    append costs one hash amortised and a root or a proof O(log n) lookups."""

    def __init__(self):
        self._levels: list[bytearray] = [bytearray()]  # level h: complete subtrees of 2**h leaves

    def __len__(self) -> int:
        return len(self._levels[0]) // 32

    def append(self, leaf: bytes) -> None:
        """Append one leaf (its data; the tree hashes it with the leaf prefix)."""
        self.append_hash(leaf_hash(leaf))

    def append_hash(self, hashed_leaf: bytes) -> None:
        levels = self._levels
        levels[0] += hashed_leaf
        height = 0
        while len(levels[height]) // 32 % 2 == 0:  # a pair completed: its parent is complete too
            pair = levels[height][-64:]
            if height + 1 == len(levels):
                levels.append(bytearray())
            levels[height + 1] += node_hash(bytes(pair[:32]), bytes(pair[32:]))
            height += 1

    def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index`` (from 0)."""
        return bytes(self._levels[0][32 * index:32 * index + 32])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end)."""
        size = end - start
        if size == 0:
            return EMPTY_ROOT
        if size & (size - 1) == 0 and start % size == 0:  # a complete, aligned subtree: stored
            height = size.bit_length() - 1
            index = start // size
            return bytes(self._levels[height][32 * index:32 * index + 32])
        k = _split(size)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (default: all)."""
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise ValueError(f"the tree has {len(self)} leaves, not {size}")
        return self._subtree(0, size)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 9162 2.1.4.1: the proof that the tree of ``first`` leaves is a
        prefix of the tree of ``second`` (default: all) leaves."""
        second = len(self) if second is None else second
        if not 0 <= first <= second <= len(self):
            raise ValueError(f"no consistency proof from {first} to {second} leaves (tree has {len(self)})")
        if first == 0 or first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._subtree(start, end)]
        k = _split(n)
        if m <= k:
            return self._subproof(m, start, start + k, whole) + [self._subtree(start + k, end)]
        return self._subproof(m - k, start + k, end, False) + [self._subtree(start, start + k)]


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does ``proof`` show that the tree of ``first``
    leaves with root ``first_root`` is a prefix of the tree of ``second``
    leaves with root ``second_root``?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a complete subtree of the second
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
