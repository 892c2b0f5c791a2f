"""Per-process caches of derived and verified results.

The same activation, its derivative and its teacher's form recur in every file of a run (σ in
a derivative question, in a network's key, in a graph). Each is derived and checked once
per process and then reused. Only results that passed their checks are stored: a failed check
raises before anything is remembered. ``clear()`` empties every cache (tests that replace
engine functions call it, so they see their replacement run).
"""

from __future__ import annotations

_CACHES: list[dict] = []


def cache() -> dict:
    """A new cache (a dict) that ``clear`` empties."""
    store: dict = {}
    _CACHES.append(store)
    return store


def clear() -> None:
    for store in _CACHES:
        store.clear()
