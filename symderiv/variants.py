"""A class's variants: one problem set per variant or student, each drawn, solved and verified.

:func:`build_variant` draws the ``[problem.vary]`` parameters of every varied problem (try after
try, as :mod:`symderiv.vary` hashes them) until the solved and verified key meets every
``require`` constraint, then loads the whole file with the drawn values and solves it (parts
that do not vary are solved once per process). :func:`variant_problem_set` rebuilds a variant
from the values recorded in the lock file (grading uses it).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import BadInput, printable

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
LOCK_NAME = "variants.lock.json"
MANIFEST_NAME = "manifest.csv"


@dataclass
class Built:
    """One variant: its drawn values, the tries each varied problem took, its solved set."""

    id: str
    name: str
    values: dict[str, dict[str, Any]]           # problem id -> parameter -> value
    tries: dict[str, int]
    problem_set: Any = None
    solutions: Any = None
    rejections: dict[str, int] = field(default_factory=dict)  # constraint -> rejected draws
    unmet: str | None = None                     # stress mode: why no draw was accepted


def signature(values: dict) -> str:
    """The drawn values as canonical text: two variants are the same when these are equal."""
    return json.dumps(to_json(values), sort_keys=True)


def to_json(value):
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, int):
        return str(value)
    return value


def from_json(value):
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, str):
        return int(value) if re.fullmatch(r"-?\d+", value) else Decimal(value)
    raise ValueError(value)


def varied_tables(data: dict) -> list[dict]:
    return [t for t in data.get("problem", []) if isinstance(t, dict) and "vary" in t]


def _with_values(data: dict, values: dict[str, dict[str, Any]], variant: str | None) -> dict:
    from .vary import apply_values

    out = copy.copy(data)
    out["problem"] = [apply_values(t, values[t["id"]]) if t.get("id") in values else t
                      for t in data["problem"]]
    if variant is not None:
        out["meta"] = dict(data["meta"], title=f"{data['meta'].get('title', '')} "
                           f"(variant {variant})")
    return out


def variant_problem_set(data: dict, name: str, variant: str, values: dict):
    """The problem set of one variant with the given drawn values (from a draw or a lock)."""
    from .spec import load_data

    return load_data(_with_values(data, values, variant), name)


def build_variant(data: dict, name: str, variant: str, student_name: str = "", *,
                  timeout: float | None = 20.0, excluded: frozenset = frozenset(),
                  stress: bool = False, keep_going: bool = False) -> Built:
    """Draw, solve and verify one variant.

    Each varied problem is tried alone (attempt 0, 1, … of its hash) until its solved key meets
    every ``require``; a draw whose values equal an ``excluded`` signature (an earlier variant)
    is skipped. ``stress`` evaluates every constraint of each draw (to count rejections per
    constraint) and records an unmeetable problem instead of raising. ``keep_going``: a part
    that does not vary and cannot be solved is an ``Unsolved`` entry (the exporters leave it
    out) instead of raising.

    Raises:
        BadInput: a constraint that no draw of ``max_tries`` meets (one line naming it).
    """
    from .solve import solve_set
    from .spec import load_data
    from .vary import Constraint, draw, key_values, parse_vary

    salt = data["meta"].get("salt", "")
    values: dict[str, dict[str, Any]] = {}
    tries: dict[str, int] = {}
    rejections: dict[str, int] = {}
    tables = varied_tables(data)
    for n, table in enumerate(tables):
        pid = table["id"]
        vary = parse_vary(table, name, pid)
        last = n == len(tables) - 1
        counts: dict[str, int] = {}
        accepted = None
        for attempt in range(vary.max_tries):
            drawn = draw(vary, salt, variant, pid, attempt)
            if last and excluded and signature({**values, pid: drawn}) in excluded:
                counts["(same values as an earlier variant)"] = counts.get(
                    "(same values as an earlier variant)", 0) + 1
                continue
            one = dict(data, problem=[_with_values({"problem": [table]}, {pid: drawn},
                                                   None)["problem"][0]])
            ps = load_data(one, name)
            (sol,) = solve_set(ps, timeout, keep_going=True)
            if not sol.solved:
                reason = f"(key not built: {sol.reason})"
                counts[reason] = counts.get(reason, 0) + 1
                continue
            names = key_values(sol, drawn)
            failed = []
            for i, text in enumerate(vary.require):  # every one: the counts name the culprit
                try:
                    ok = Constraint(text, list(names)).holds(names)
                except BadInput as exc:
                    raise exc.located(file=name, problem=pid,
                                      field=f"vary.require[{i}]") from None
                if not ok:
                    failed.append(text)
            for text in failed:
                counts[text] = counts.get(text, 0) + 1
            if not failed:
                accepted = (drawn, attempt + 1)
                break
        for k, v in counts.items():
            rejections[f"{pid}: {k}"] = rejections.get(f"{pid}: {k}", 0) + v
        if accepted is None:
            worst = max(counts, key=counts.get) if counts else "(none)"
            message = (f"the constraint {worst!r} is not met: it failed {counts.get(worst, 0)} "
                       f"of the {vary.max_tries} draws (max_tries) of variant {variant}")
            if stress:
                return Built(variant, student_name, values, tries, rejections=rejections,
                             unmet=f"{pid}: {message}")
            raise BadInput(message, file=name, problem=pid, field="vary.require")
        values[pid], tries[pid] = accepted
    ps = variant_problem_set(data, name, variant, values)
    solutions = solve_set(ps, timeout, keep_going=keep_going)
    return Built(variant, student_name, values, tries, ps, solutions, rejections)


# ---------------------------------------------------------------------------------------------
# rosters, locks


def read_roster(path: str | Path) -> list[tuple[str, str]]:
    """``id,name`` rows (a header line naming them); ids are 1 to 40 letters, digits, ``. _ -``
    and unique (they name directories)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read: {exc}", file=str(path)) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["id", "name"]:
        raise BadInput("the first line must be the header id,name", file=str(path))
    out, seen = [], set()
    for i, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        sid = row[0].strip()
        if not ID_PATTERN.fullmatch(sid):
            raise BadInput(f"line {i}: id {printable(sid)!r} must be 1 to 40 letters, digits and "
                           ". _ - (it names the student's directory)", file=str(path))
        if sid in seen:
            raise BadInput(f"line {i}: id {sid} appears twice", file=str(path))
        seen.add(sid)
        out.append((sid, row[1].strip() if len(row) > 1 else ""))
    if not out:
        raise BadInput("no students in the roster", file=str(path))
    return out


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lock_json(source: str | Path, variants: list[Built], salted: bool) -> dict:
    return {
        "source": Path(source).name,
        "sha256": file_digest(source),
        "salt": "set" if salted else "none",
        "variants": [{"id": b.id, "name": b.name, "tries": b.tries, "values": to_json(b.values)}
                     for b in variants],
    }


def read_lock(path: str | Path, source: str | Path) -> dict[str, dict]:
    """id -> drawn values, from a lock written for this very problem file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("sha256") != file_digest(source):
            raise BadInput(f"the lock was written for another version of {Path(source).name} "
                           "(its sha256 differs); run symderiv variants again", file=str(path))
        return {v["id"]: from_json(v["values"]) for v in data["variants"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"cannot read the lock file ({type(exc).__name__})", file=str(path)) from None


# ---------------------------------------------------------------------------------------------
# jobs (run in worker processes with -j): plain data in, plain data out


def variant_job(path: str, variant: str, student_name: str, excluded: frozenset,
                pdf: bool, timeout: float | None) -> dict:
    """Build one variant's documents: ``{file name: bytes}`` (key and sheet .tex, JSON key,
    PDFs with ``pdf``), its values and tries; or ``{"error", "code"}``."""
    from .errors import SymderivError

    try:
        from .export import dumps, key_json
        from .render import render_document
        from .sheet import render_sheet
        from .spec import read_toml
        from .texsafe import check_document_body

        data = read_toml(path)
        b = build_variant(data, path, variant, student_name, timeout=timeout, excluded=excluded)
        stem = Path(path).stem
        key = check_document_body(render_document(b.problem_set, b.solutions))
        sheet = check_document_body(render_sheet(b.problem_set))
        docs = {f"{stem}-key.tex": key.encode(), f"{stem}-sheet.tex": sheet.encode(),
                f"{stem}-key.json": dumps(key_json(b.problem_set, b.solutions)).encode()}
        if pdf:
            from .latex_build import build_pdf

            docs[f"{stem}-key.pdf"] = build_pdf(key, name=f"{variant}/{stem}-key.tex").pdf
            docs[f"{stem}-sheet.pdf"] = build_pdf(sheet, name=f"{variant}/{stem}-sheet.tex").pdf
        return {"id": variant, "name": student_name, "values": b.values, "tries": b.tries,
                "docs": docs}
    except SymderivError as exc:
        return {"error": str(exc), "code": exc.exit_code}


def stress_job(path: str, variant: str, timeout: float | None) -> dict:
    """One stress-test variant: rejections per constraint, and the numbers of its answers
    (``"1b/forward.yhat[0]"`` → value) when a draw was accepted."""
    from .errors import SymderivError

    try:
        from .spec import read_toml

        data = read_toml(path)
        b = build_variant(data, path, variant, timeout=timeout, stress=True)
        numbers = {}
        if b.unmet is None:
            varied = {t["id"] for t in varied_tables(data)}
            for sol in b.solutions:
                if sol.problem.id not in varied:
                    continue
                for a in sol.answers:
                    for where, v in _entries(a.value):
                        if getattr(v, "is_number", False) and v.is_real:
                            numbers[f"{sol.problem.id}/{a.label}{where}"] = float(v)
        return {"rejections": b.rejections, "unmet": b.unmet, "numbers": numbers,
                "tries": sum(b.tries.values())}
    except SymderivError as exc:
        return {"error": str(exc), "code": exc.exit_code}


def _entries(value):
    import sympy as sp

    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            yield "", value[0, 0]
            return
        for i in range(value.rows):
            for j in range(value.cols):
                yield (f"[{i + 1},{j + 1}]" if value.cols > 1 and value.rows > 1
                       else f"[{max(i, j) + 1}]"), value[i, j]
    elif isinstance(value, sp.Basic):
        yield "", value


def stress_report(source: str, results: list[dict]) -> str:
    """The stress test's report: rejections per constraint, unmeetable variants, and the range
    of every answer over the accepted variants (as R/exams' stresstest_exercise)."""
    n = len(results)
    draws = sum(r["tries"] for r in results if r["unmet"] is None) + sum(
        sum(r["rejections"].values()) for r in results if r["unmet"] is not None)
    rejections: dict[str, int] = {}
    for r in results:
        for k, v in r["rejections"].items():
            rejections[k] = rejections.get(k, 0) + v
    unmet = [r["unmet"] for r in results if r["unmet"] is not None]
    lines = [f"stress test of {Path(source).name}: {n} variants, {draws} draws, "
             f"{n - len(unmet)} accepted"]
    lines.append("rejected draws per constraint:")
    width = max([len(k) for k in rejections] + [10])
    if not rejections:
        lines.append("  (none)")
    for k, v in sorted(rejections.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {k:<{width}}  {v:>6}  ({100 * v / max(draws, 1):.1f}% of draws)")
    if unmet:
        lines.append(f"variants with no acceptable draw: {len(unmet)} (first: {unmet[0]})")
    ranges: dict[str, list[float]] = {}
    for r in results:
        for k, v in r["numbers"].items():
            ranges.setdefault(k, []).append(v)
    if ranges:
        lines.append("range of every answer over the accepted variants (min … max, distinct values):")
        width = max(len(k) for k in ranges)
        for k, vs in ranges.items():
            flag = "   <- the same in every variant" if len(set(vs)) == 1 and len(vs) > 1 else ""
            lines.append(f"  {k:<{width}}  {min(vs):.6g} … {max(vs):.6g}  ({len(set(vs))}){flag}")
    return "\n".join(lines) + "\n"
