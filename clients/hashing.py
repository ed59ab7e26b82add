"""Hashing many clear-text passwords (an import's), on every core when it is worth it."""

from __future__ import annotations

import functools
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from django.contrib.auth.hashers import get_hasher, make_password

# Hash in worker processes only when it takes longer than this in one process.
POOL_THRESHOLD_SECONDS = 1.0


def _hash_many(passwords: list[str]) -> list[str]:
    return [make_password(password) for password in passwords]


def hash_passwords(passwords: list[str], *, say: Callable[[str], object] = print) -> list[str]:
    """make_password of each, on all cores when it is worth it; says how long it takes."""
    if not passwords:
        return []
    started = time.perf_counter()
    first = make_password(passwords[0])
    each = max(time.perf_counter() - started, 1e-6)
    cores = os.cpu_count() or 1
    rest = passwords[1:]
    alone = each * len(rest)
    if cores > 1 and alone > POOL_THRESHOLD_SECONDS:
        say(
            f"Hashing {len(passwords)} clear-text passwords: about {alone / cores:.0f} s "
            f"on {cores} cores ({each * 1000:.0f} ms each)."
        )
        # The configured hasher itself goes to the workers (it is a plain object), so they
        # hash exactly as this process would (the tests' fast hasher included) without
        # setting Django up; spawn gives them no copy of this process's database connection.
        work = functools.partial(make_password, hasher=get_hasher("default"))
        with ProcessPoolExecutor(
            max_workers=cores, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            hashed = list(pool.map(work, rest, chunksize=max(1, len(rest) // (cores * 8))))
    else:
        if alone > 0.5:
            say(f"Hashing {len(passwords)} clear-text passwords: about {alone:.0f} s.")
        hashed = _hash_many(rest)
    return [first, *hashed]
