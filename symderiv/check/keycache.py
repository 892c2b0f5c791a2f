"""The built key of ``symderiv check``, kept between runs: a second student is checked
against the same key without solving it again.

An entry is named by a content hash of the key file, the symderiv version and source, the SymPy
and Python versions and the time budget, so any change to the key or to the program builds the
key afresh. Only a key whose every part was solved is kept, and what is kept is the answers
``check`` compares with (label, value, display per problem); the problem file itself is always
read and validated again.

The cache is pickled SymPy objects, and unpickling runs code, so an entry is trusted only if it
carries an HMAC-SHA256 made with a secret that only its owner can read (``secret`` in the cache
directory, mode 0600, 32 random bytes): an entry that was altered, forged or copied under
another name fails the check before anything is unpickled, and the key is built again. A cache
directory that other users may write, or not owned by the user, is not used at all.

Where: ``$SYMDERIV_CACHE`` (``off`` turns the cache off), else ``$XDG_CACHE_HOME/symderiv``,
else ``~/.cache/symderiv``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import pickle
import secrets
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV = "SYMDERIV_CACHE"
OFF = {"", "0", "off", "no", "none", "false"}
FORMAT = b"symderiv key cache 1\0"
MAC_SIZE = 32


@dataclass(frozen=True)
class CachedSolution:
    """A solved part read back from the cache: what ``check`` uses of a Solution."""

    problem: Any
    answers: tuple
    checks: tuple = ()
    verified: bool = True
    solved: bool = True


@dataclass(frozen=True)
class CachedAnswer:
    label: str
    value: Any
    display: Any = None


def cache_dir() -> Path | None:
    """The cache directory, or None when the cache is off."""
    value = os.environ.get(ENV)
    if value is not None:
        if value.strip().lower() in OFF:
            return None
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "symderiv"


@functools.lru_cache(maxsize=1)
def program_digest() -> str:
    """The symderiv version and a hash of its source: a new build never reads an old key."""
    import sympy

    from .. import __version__

    h = hashlib.sha256()
    h.update(f"{__version__}\0{sympy.__version__}\0{sys.version}\0".encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def fingerprint(key_bytes: bytes, timeout) -> str:
    h = hashlib.sha256()
    h.update(FORMAT)
    h.update(program_digest().encode())
    h.update(f"\0timeout={timeout!r}\0".encode())
    h.update(key_bytes)
    return h.hexdigest()


def _safe_dir(path: Path) -> bool:
    """The directory exists (made 0700 if not), is ours and only we may write to it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        return False
    return True


def _secret(path: Path) -> bytes | None:
    """The cache's signing secret, made on first use (readable by its owner only)."""
    file = path / "secret"
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return None
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    try:
        info = os.lstat(file)
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077:
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None
        key = file.read_bytes()
    except OSError:
        return None
    return key if len(key) == 32 else None


def _mac(secret: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(secret, FORMAT + name.encode() + b"\0" + payload, hashlib.sha256).digest()


def _entry(key_path: Path, timeout):
    """(cache directory, its secret, the entry's name) for the key, or None when the cache is
    off or unusable (missing, or writable by others)."""
    where = cache_dir()
    if where is None or not _safe_dir(where):
        return None
    secret = _secret(where)
    if secret is None:
        return None
    return where, secret, fingerprint(Path(key_path).read_bytes(), timeout)


def load(key_path: Path, timeout) -> dict | None:
    """The cached answers of the key at ``key_path`` ({problem id: ((label, value, display),
    …)}), or None (no cache, no entry, or an entry that fails its signature)."""
    entry = _entry(key_path, timeout)
    if entry is None:
        return None
    where, secret, name = entry
    try:
        blob = (where / "keys" / f"{name}.bin").read_bytes()
    except OSError:
        return None
    mac, payload = blob[:MAC_SIZE], blob[MAC_SIZE:]
    if len(mac) != MAC_SIZE or not hmac.compare_digest(mac, _mac(secret, name, payload)):
        return None  # altered, forged or renamed: never unpickled
    try:
        data = pickle.loads(payload)  # noqa: S301 - signed by us (above)
    except Exception:  # noqa: BLE001 - a signed but unreadable entry: build the key again
        return None
    return data if isinstance(data, dict) else None


def store(key_path: Path, timeout, answers: dict) -> bool:
    """Keep the answers of a fully solved key; False when the cache is off or unusable."""
    entry = _entry(key_path, timeout)
    if entry is None:
        return False
    where, secret, name = entry
    try:
        payload = pickle.dumps(answers, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an answer SymPy cannot pickle: simply not cached
        return False
    keys = where / "keys"
    try:
        keys.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=keys, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(_mac(secret, name, payload) + payload)
        os.replace(tmp, keys / f"{name}.bin")
    except OSError:
        return False
    return True


def solve_cached(problem_set, key_path, timeout, keep_going: bool) -> list:
    """``solve_set`` through the cache: the solved answers of an earlier run of the same key,
    or the key solved now (and kept when every part was solved)."""
    from ..solve import solve_set

    cached = load(Path(key_path), timeout)
    ids = [p.id for p in problem_set.problems]
    if cached is not None and list(cached) == ids:
        return [CachedSolution(p, tuple(CachedAnswer(*a) for a in cached[p.id]))
                for p in problem_set.problems]
    solved = solve_set(problem_set, timeout, keep_going=keep_going)
    if all(s.solved for s in solved):
        store(Path(key_path), timeout,
              {s.problem.id: tuple((a.label, a.value, a.display) for a in s.answers)
               for s in solved})
    return solved
