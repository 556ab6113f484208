"""Pick the embedding store's backend by measurement: LMDB against SQLite (WAL).

Writes N entries the size of one faceres face (49 x 1024 float64 cells, about
400 kB) in transactions of 32, reads them all back, then has two processes
write 200 entries each at once. Prints seconds per stage. Usage:

    python benchmarks/bench_store_backends.py [--entries 1000] [--dir TMP]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import tempfile
import time
from pathlib import Path

import lmdb
import numpy as np

VALUE = np.random.default_rng(0).standard_normal((49, 1024)).tobytes()
BATCH = 32


def lmdb_write(path: Path, keys: list[bytes]) -> None:
    env = lmdb.open(str(path), map_size=1 << 36, subdir=True)
    for start in range(0, len(keys), BATCH):
        with env.begin(write=True) as txn:
            for key in keys[start : start + BATCH]:
                txn.put(key, VALUE)
    env.close()


def lmdb_read(path: Path, keys: list[bytes]) -> int:
    env = lmdb.open(str(path), map_size=1 << 36, subdir=True, readonly=True, lock=True)
    with env.begin() as txn:
        total = sum(len(txn.get(key)) for key in keys)
    env.close()
    return total


def sqlite_connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path / "store.sqlite", timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS e (k BLOB PRIMARY KEY, v BLOB)")
    return db


def sqlite_write(path: Path, keys: list[bytes]) -> None:
    db = sqlite_connect(path)
    for start in range(0, len(keys), BATCH):
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO e VALUES (?, ?)",
                [(key, VALUE) for key in keys[start : start + BATCH]],
            )
    db.close()


def sqlite_read(path: Path, keys: list[bytes]) -> int:
    db = sqlite_connect(path)
    total = sum(len(db.execute("SELECT v FROM e WHERE k=?", (k,)).fetchone()[0]) for k in keys)
    db.close()
    return total


def measure(name, write, read, root: Path, entries: int) -> None:
    folder = root / name
    folder.mkdir()
    keys = [f"{name}-{n:08d}".encode() for n in range(entries)]
    t0 = time.perf_counter()
    write(folder, keys)
    t1 = time.perf_counter()
    assert read(folder, keys) == entries * len(VALUE)
    t2 = time.perf_counter()
    halves = [[k + b"-p" + bytes([p]) for k in keys[:200]] for p in (48, 49)]
    workers = [multiprocessing.Process(target=write, args=(folder, h)) for h in halves]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    t3 = time.perf_counter()
    assert read(folder, halves[0] + halves[1]) == 400 * len(VALUE)
    size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    print(
        f"{name:7s} write {entries} x {len(VALUE) // 1000} kB: {t1 - t0:6.2f} s   "
        f"read all: {t2 - t1:6.2f} s   2 concurrent writers x 200: {t3 - t2:6.2f} s   "
        f"on disk {size:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--dir", default=None, help="folder for the test stores (default: a temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        measure("lmdb", lmdb_write, lmdb_read, Path(tmp), args.entries)
        measure("sqlite", sqlite_write, sqlite_read, Path(tmp), args.entries)


if __name__ == "__main__":
    main()
