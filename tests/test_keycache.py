"""The key cache of `symderiv check`: a second check of the same key reuses the built key; an
altered, forged or foreign entry is never unpickled; nothing is cached when it is off."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEY = ROOT / "problems" / "ama564_a1.toml"
ANSWERS = ROOT / "problems" / "submissions" / "ama564_a1_student.toml"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("SYMDERIV_CACHE", str(where))
    from symderiv.solve import _SOLVED

    _SOLVED.clear()  # the process memo must not hide whether the key was solved
    return where


def _verdicts(report):
    return [(r.label, r.verdict, r.got if r.got is None else str(r.got)) for r in report.results]


def _count_solves(monkeypatch):
    import symderiv.solve as solve_module

    calls = []
    real = solve_module.solve_set

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(solve_module, "solve_set", counting)
    return calls


@pytest.mark.slow
def test_second_check_reuses_the_built_key(cache, monkeypatch):
    from symderiv.check import check
    from symderiv.solve import _SOLVED

    calls = _count_solves(monkeypatch)
    first = check(KEY, ANSWERS)
    assert len(calls) == 1
    (entry,) = (cache / "keys").glob("*.bin")
    assert stat.S_IMODE(entry.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((cache / "secret").stat().st_mode) == 0o600
    _SOLVED.clear()
    second = check(KEY, ANSWERS)
    assert len(calls) == 1  # not solved again
    assert _verdicts(second) == _verdicts(first)
    assert first.correct == second.correct == 19


@pytest.mark.slow
def test_an_altered_entry_is_not_unpickled(cache, monkeypatch):
    from symderiv.check import check, keycache
    from symderiv.solve import _SOLVED

    first = check(KEY, ANSWERS)
    (entry,) = (cache / "keys").glob("*.bin")
    blob = bytearray(entry.read_bytes())
    blob[-5] ^= 0xFF
    entry.write_bytes(bytes(blob))
    unpickled = []
    real = pickle.loads
    monkeypatch.setattr(keycache.pickle, "loads", lambda b: unpickled.append(1) or real(b))
    calls = _count_solves(monkeypatch)
    _SOLVED.clear()
    again = check(KEY, ANSWERS)
    assert unpickled == [] and len(calls) == 1  # rejected before unpickling, key rebuilt
    assert _verdicts(again) == _verdicts(first)


@pytest.mark.slow
def test_a_forged_entry_is_not_unpickled(cache, monkeypatch):
    """An entry written by someone without the secret (here: a pickle that would run code)."""
    from symderiv.check import check, keycache

    check(KEY, ANSWERS)
    (entry,) = (cache / "keys").glob("*.bin")
    evil = pickle.dumps(_Boom())
    entry.write_bytes(b"\0" * keycache.MAC_SIZE + evil)
    assert keycache.load(KEY, 20.0) is None
    # signed with another secret: also refused
    entry.write_bytes(keycache._mac(b"x" * 32, entry.stem, evil) + evil)
    assert keycache.load(KEY, 20.0) is None
    # a valid entry copied under the name of another key is refused too
    other = ROOT / "problems" / "nndl_hw1.toml"
    check(KEY, ANSWERS)
    good = max((cache / "keys").glob("*.bin"), key=lambda p: p.stat().st_mtime)
    forged = cache / "keys" / f"{keycache.fingerprint(other.read_bytes(), 20.0)}.bin"
    forged.write_bytes(good.read_bytes())
    assert keycache.load(other, 20.0) is None


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_changed_key_or_program_is_a_new_entry(cache, tmp_path, monkeypatch):
    from symderiv.check import keycache

    text = KEY.read_text(encoding="utf-8")
    a = keycache.fingerprint(text.encode(), 20.0)
    assert keycache.fingerprint((text + "\n# a comment\n").encode(), 20.0) != a
    assert keycache.fingerprint(text.encode(), 5.0) != a
    monkeypatch.setattr(keycache, "program_digest", lambda: "another build")
    assert keycache.fingerprint(text.encode(), 20.0) != a


def test_cache_off_or_unsafe_writes_nothing(tmp_path, monkeypatch):
    from symderiv.check import keycache

    monkeypatch.setenv("SYMDERIV_CACHE", "off")
    assert keycache.cache_dir() is None
    assert keycache.store(KEY, 20.0, {"1a": ()}) is False
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # other users could plant entries: not used
    monkeypatch.setenv("SYMDERIV_CACHE", str(shared))
    assert keycache.store(KEY, 20.0, {"1a": ()}) is False
    assert list(shared.iterdir()) == []


def test_a_key_with_an_unsolved_part_is_not_cached(cache, monkeypatch):
    from symderiv.check import keycache
    from symderiv.solve import Unsolved

    class Part:
        id = "1a"

    monkeypatch.setattr("symderiv.solve.solve_set", lambda *a, **k: [
        Unsolved(Part(), "took too long", "too long", None)])

    class Set:
        problems = (Part(),)

    keycache.solve_cached(Set(), KEY, 20.0, True)
    assert not (cache / "keys").exists() or list((cache / "keys").iterdir()) == []


@pytest.mark.slow
def test_the_check_command_reuses_the_built_key(cache, monkeypatch):
    """`symderiv check KEY ANSWERS` went past the cache (it handed the loaded key to the
    checker as if it were a variant), so every student's check solved the key again."""
    from click.testing import CliRunner

    from symderiv.cli import main
    from symderiv.solve import _SOLVED

    calls = _count_solves(monkeypatch)
    first = CliRunner().invoke(main, ["check", str(KEY), str(ANSWERS), "--json"])
    assert first.exit_code == 0, first.output
    assert len(calls) == 1 and len(list((cache / "keys").glob("*.bin"))) == 1
    _SOLVED.clear()
    second = CliRunner().invoke(main, ["check", str(KEY), str(ANSWERS), "--json"])
    assert len(calls) == 1  # read back, not solved again
    assert second.output == first.output
