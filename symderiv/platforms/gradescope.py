"""Gradescope: an autograder zip that grades answers files with ``symderiv check``.

The zip holds ``setup.sh`` (Python 3.11+ and symderiv's dependencies, pinned to the versions
that built the key), ``run_autograder``, ``grade.py`` (:mod:`.gradescope_grade`), symderiv's
own source, the key of every variant (drawn variants: the problem file and a lock of their
drawn values) and ``config.json``: per variant, the key file and one test per counted label
with its ``max_score`` (issue 15's points; the scores add up to the assignment's total), and
``students`` (student id -> variant). Feedback reveals the key, so it is shown
``after_due_date`` by default (``--visibility``).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import Export, by_problem, load_variants, rounded_shares, zip_bytes

VISIBILITIES = ("after_due_date", "visible", "after_published", "hidden")
LOCK_PATH = "key/variants.lock.json"
REQUIREMENTS = ("sympy", "mpmath", "lark", "jinja2", "click")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built.
set -euo pipefail
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PY=python3.11
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade.py writes results/results.json.
ROOT="${SYMDERIV_AUTOGRADER_ROOT:-/autograder}"
PY="${SYMDERIV_PYTHON:-$ROOT/venv/bin/python}"
export PYTHONPATH="$ROOT/source${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" "$ROOT/source/grade.py" "$ROOT"
"""


def _requirements() -> str:
    from importlib.metadata import PackageNotFoundError, version

    lines = []
    for name in REQUIREMENTS:
        try:
            lines.append(f"{name}=={version(name)}")
        except PackageNotFoundError:  # pragma: no cover - all are symderiv's dependencies
            lines.append(name)
    return "\n".join(lines) + "\n"


def _source_files() -> dict[str, bytes]:
    """symderiv's own source (and templates), as the zip's ``symderiv/`` and ``templates/``."""
    package = Path(__file__).resolve().parent.parent
    files = {}
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files["symderiv/" + path.relative_to(package).as_posix()] = path.read_bytes()
    templates = package / "templates"
    if not templates.is_dir():
        templates = package.parent / "templates"
    for path in sorted(templates.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files["templates/" + path.relative_to(templates).as_posix()] = path.read_bytes()
    return files


def export_gradescope(path, *, visibility: str = "after_due_date", rtol: float = 1e-3,
                      timeout: float | None = 20.0, count: int | None = None, roster=None,
                      lock=None) -> Export:
    """``count``, ``roster``, ``lock``: the variants (see :func:`load_variants`). Drawn
    variants are graded from the problem file and a lock of their drawn values (both in the
    zip), each student against their own; ``config["students"]`` maps ids to variants."""
    from ..check.points import label_points
    from ..export import dumps
    from ..variants import Built, lock_json

    problem_set, variant_list, skipped = load_variants(path, timeout, count=count,
                                                       roster=roster, lock=lock)
    source = Path(path)
    drawn = variant_list[0].built is not None
    if drawn:
        # one problem file and the drawn values of every variant (no names, no tries: the
        # same zip from --roster as from the lock that `symderiv variants --roster` wrote)
        locked = [Built(v.name, "", v.built.values, {}) for v in variant_list]
        keys = {f"key/{source.name}": source.read_bytes(),
                LOCK_PATH: dumps(lock_json(source, locked, bool(problem_set.meta.salt))).encode()}
    else:  # each variant's own key file
        keys = {f"key/{v.name}/{Path(v.problem_set.path).name}":
                Path(v.problem_set.path).read_bytes() for v in variant_list}
    problems = by_problem(variant_list, collapse=False)  # every variant's own tests
    config_variants = {}
    for index, variant in enumerate(variant_list):
        labels, points = [], []
        for number, pv in enumerate(problems, 1):
            solution = pv.variants[index][1]
            shares = label_points(pv.problem, [a.label for a in solution.answers])
            counted = [a for a in solution.answers if a.label in shares]
            for sub, a in enumerate(counted, 1):
                labels.append((f"{pv.problem.id}/{a.label}", f"{number}.{sub}"))
                points.append(shares[a.label])
        scores = rounded_shares(points) if points else []
        entry = {"key": f"key/{source.name}" if drawn
                 else f"key/{variant.name}/{Path(variant.problem_set.path).name}",
                 "total": round(sum(scores), 4),
                 "tests": [{"label": label, "number": number, "max_score": score}
                           for (label, number), score in zip(labels, scores)]}
        if drawn:
            entry["lock"] = LOCK_PATH
        config_variants[variant.name] = entry
    # a variant's id is its student's id (--roster), as in `symderiv grade`
    students = {v.name: v.name for v in variant_list} if drawn else {}
    config = {"title": problem_set.meta.title, "visibility": visibility, "rtol": rtol,
              "timeout": timeout, "variants": config_variants, "students": students}
    grade = (Path(__file__).resolve().parent / "gradescope_grade.py").read_bytes()
    files = {
        "setup.sh": SETUP.encode(),
        "run_autograder": RUN.encode(),
        "grade.py": grade,
        "requirements.txt": _requirements().encode(),
        "config.json": (json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True)
                        + "\n").encode(),
        **keys,
        **_source_files(),
    }
    archive = zip_bytes(files, executable=frozenset({"setup.sh", "run_autograder"}))
    return Export({f"{problem_set.stem}-gradescope.zip": archive}, skipped)
