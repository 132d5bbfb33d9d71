"""Benchmark: what personal-data encryption costs (services/privacy).

Run from the repository root::

    .venv/bin/python bench/vault.py                  # 200 subjects, 20,000 tokens, 3 repetitions
    .venv/bin/python bench/vault.py --subjects 50 --tokens 5000

On a fresh SQLite vault (WAL, synchronous=FULL, secure_delete) in a temporary
directory, and on mongomock (in-process, for the CPU part only):

- ``subject_for``: new subjects found or created by phone (each a durable
  commit of the key and an index entry), then the same phones again (reads);
- ``encrypt``: tokens of 3 fields per subject with the key cached;
- ``decrypt``: every token once, in shuffled order, with the key cache on
  (``key_cache_seconds=5``) and off (0: one read of the wrapped key and one
  unwrap per token), the two taking turns in each repetition.

Figures are medians over ``--reps`` repetitions; the last line of output is
one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from services.privacy import generate_master_key, open_vault_uri, parse_master_key  # noqa: E402

FIELDS = ("claimant_name", "claimant_phone", "claimant_id_number")


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def one_repetition(open_pair, subjects: int, tokens: int, seed: int) -> dict:
    """``open_pair(key)`` opens two vaults on one fresh storage: the key
    cache on, and off."""
    cached, uncached = open_pair(parse_master_key(generate_master_key()))
    figures = {}
    phones = [f"139{n:08d}" for n in range(subjects)]
    started = time.perf_counter()
    ids = [cached.subject_for({"phone": phone}) for phone in phones]
    figures["subject_for_new_per_s"] = rate(subjects, time.perf_counter() - started)
    started = time.perf_counter()
    again = [cached.subject_for({"phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"}) for phone in phones]
    figures["subject_for_known_per_s"] = rate(subjects, time.perf_counter() - started)
    assert again == ids
    plan = [(ids[n % subjects], FIELDS[n % 3], f"value {n} 韩梅梅") for n in range(tokens)]
    started = time.perf_counter()
    made = [(cached.encrypt(s, f, text), f, text) for s, f, text in plan]
    figures["encrypt_per_s"] = rate(tokens, time.perf_counter() - started)
    random.Random(seed).shuffle(made)
    timings = {}
    order = (("cached", cached), ("uncached", uncached))
    for name, vault in (order if seed % 2 == 0 else order[::-1]):
        started = time.perf_counter()
        for token, field, text in made:
            if vault.decrypt(token, field) != text:
                raise AssertionError("decrypt returned the wrong text")
        timings[name] = time.perf_counter() - started
    figures["decrypt_cached_per_s"] = rate(tokens, timings["cached"])
    figures["decrypt_uncached_per_s"] = rate(tokens, timings["uncached"])
    figures["decrypt_cache_speedup"] = round(timings["uncached"] / timings["cached"], 2)
    uncached.close()
    cached.close()
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    results = {"machine": platform.machine(), "python": platform.python_version(),
               "cpus": os.cpu_count(), "load": os.getloadavg()[0], "date": time.strftime("%Y-%m-%d"),
               "subjects": args.subjects, "tokens": args.tokens}
    with tempfile.TemporaryDirectory() as directory:
        counter = iter(range(10**6))

        def sqlite_pair(key):
            uri = f"sqlite:///{directory}/vault-{next(counter)}.db"
            return open_vault_uri(uri, key, key_cache_seconds=5), open_vault_uri(uri, key, key_cache_seconds=0)

        def mongomock_pair(key):
            import mongomock
            client, uri = mongomock.MongoClient(), f"mongomock://bench/vault{next(counter)}"
            return (open_vault_uri(uri, key, key_cache_seconds=5, client=client),
                    open_vault_uri(uri, key, key_cache_seconds=0, client=client))

        for backend, open_pair in (("sqlite", sqlite_pair), ("mongomock", mongomock_pair)):
            reps = []
            for rep in range(args.reps):
                reps.append(one_repetition(open_pair, args.subjects, args.tokens, rep))
                print(f"{backend} repetition {rep + 1}: {json.dumps(reps[-1])}", flush=True)
            for key in reps[0]:
                results[f"{backend}_{key}"] = statistics.median(r[key] for r in reps)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
