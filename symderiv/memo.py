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


def snapshot() -> list[dict]:
    """The contents of every cache, to be put back by ``restore`` (tests: a test that replaces
    an engine function runs on empty caches, and the results derived before it, by the real
    functions, are kept for the tests after it)."""
    return [dict(store) for store in _CACHES]


def restore(saved: list[dict]) -> None:
    """Every cache back to ``saved`` (a cache made since the snapshot is emptied): what was
    derived in between is forgotten."""
    for i, store in enumerate(_CACHES):
        store.clear()
        if i < len(saved):
            store.update(saved[i])
