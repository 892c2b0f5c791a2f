import os
import shutil
import sys
from pathlib import Path

import pytest

# An environment that sets PYTHONDONTWRITEBYTECODE (this project's machine does) makes every
# test process compile symderiv again and pytest rewrite every test module's asserts again
# (about 3 s of CPU in each of the controller and the workers). The suite writes Python's own
# caches (__pycache__, ignored by git) as any Python does by default.
sys.dont_write_bytecode = False

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.toml"))
EXAMPLES = sorted((ROOT / "problems" / "examples").glob("*.toml"))  # unseen-style problem sets


def pytest_collection_modifyitems(config, items):
    """PDF tests skip without TeX, except in CI, where a missing TeX is a failure."""
    have_tex = shutil.which("latexmk") and shutil.which("pdflatex")
    if have_tex or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason="latexmk/pdflatex not installed (they are required when CI=true)")
    for item in items:
        if "pdf" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def write_toml(tmp_path):
    def write(text: str, name: str = "p.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture(autouse=True)
def _fresh_caches_around_replacements(request):
    """A test that replaces an engine function (monkeypatch) must see its replacement run,
    not a result cached by an earlier test; and what it derived must not outlive it. The
    caches are emptied for the test and put back as they were before it after it, so the
    keys that the tests before it solved (by the real functions) are not solved again."""
    if "monkeypatch" not in request.fixturenames:
        yield
        return
    from symderiv import memo

    saved = memo.snapshot()
    memo.clear()
    yield
    memo.restore(saved)


# The key cache of `symderiv check` (symderiv/check/keycache.py) is off in the tests, subprocesses
# included: a test that replaces a solver must see it run. tests/test_keycache.py turns it on
# in a directory of its own.
os.environ["SYMDERIV_CACHE"] = "off"
