"""The simulated year every benchmark reads: made once by bench/simulate.py
(on tmpfs, then copied) and kept under var/bench/ by seed and size."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def simulated_year(events: int, seed: int = 1, directory: str | None = None, progress=None) -> str:
    """The path of a SQLite store holding the simulated year (made if missing)."""
    directory = directory or os.path.join(ROOT, "var", "bench")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"year-seed{seed}-{events}.db")
    if os.path.exists(path):
        return path
    scratch = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        built = os.path.join(scratch, "year.db")
        if progress:
            progress(f"simulating {events} events (seed {seed}) into {built}; once, then kept at {path}")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "simulate.py"), "--store", f"sqlite:///{built}",
                        "--events", str(events), "--seed", str(seed)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        with sqlite3.connect(built) as connection:  # fold the WAL in: one self-contained file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(built, path + ".part")
        os.replace(path + ".part", path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path


def copy_of(path: str, directory: str) -> str:
    """A private copy of a simulated store (a service may write to it)."""
    target = os.path.join(directory, os.path.basename(path))
    shutil.copyfile(path, target)
    return target
