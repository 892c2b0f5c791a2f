"""Grading a class: every answers file in a directory against its student's own variant.

The submissions are grouped by student; a group (one variant) is one job, so each variant's
key is built once (and the parts that do not vary once per process). A submission that cannot
be read becomes a gradebook row with the reason; it never stops the batch.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import memo
from .errors import BadInput, SymderivError, printable

MAX_SUBMISSIONS = 20_000

# (problem, label, answer text, rtol) -> the comparison's outcome, per process: a class writes
# the same text for the parts that do not vary (1(a)'s derivatives), which is read and compared
# once. The comparison is deterministic (its random points are seeded by the label), so a
# cached outcome is the one a fresh comparison gives.
_OUTCOMES: dict = memo.cache()


def _compare_once() -> None:
    """Route ``check``'s comparisons through :data:`_OUTCOMES` (in this process)."""
    from .check import compare as module

    if getattr(module.compare, "graded_once", False):
        return
    original = module.compare

    def compare(ctx, label, expected, text, rtol):
        key = (repr(ctx.problem), label, text, rtol)
        if key not in _OUTCOMES:
            _OUTCOMES[key] = original(ctx, label, expected, text, rtol)
        return _OUTCOMES[key]

    compare.graded_once = True
    module.compare = compare


@dataclass(frozen=True)
class Submitted:
    path: str
    student: str        # "" when the file could not be read
    reason: str = ""    # why it cannot be graded


def collect(directory: str | Path, key_name: str) -> list[Submitted]:
    """Every ``*.toml`` answers file in ``directory`` (sorted), read just enough to know whose it
    is; unreadable ones carry the reason."""
    from .check.answers import load_answers

    d = Path(directory)
    if not d.is_dir():
        raise BadInput("not a directory", file=str(directory))
    files = sorted(p for p in d.iterdir() if p.suffix == ".toml" and p.is_file())
    if len(files) > MAX_SUBMISSIONS:
        raise BadInput(f"too many files ({len(files)}; the limit is {MAX_SUBMISSIONS})",
                       file=str(directory))
    out = []
    for p in files:
        try:
            sub = load_answers(p)
        except SymderivError as exc:
            # the gradebook's file column names the file: the reason is the rest of the line
            why = (str(BadInput(exc.message, problem=exc.problem, field=exc.field))
                   if isinstance(exc, BadInput) else str(exc))
            out.append(Submitted(str(p), "", printable(why)))
            continue
        student = sub.student.strip()
        if not student:
            out.append(Submitted(str(p), "", "no [meta] student naming whose answers these are"))
        else:
            out.append(Submitted(str(p), student))
    return out


def grade_group(key: str, student: str, values, paths: list[str], rtol: float,
                timeout: float | None, feedback_pdf: bool) -> list[dict]:
    """Grade the submissions ``paths`` of one variant (``values``: the lock's drawn values,
    None: drawn from ``student``, or the key itself when it does not vary)."""
    from .check import check
    from .check.points import (only_counted_missing, points_json, points_lines, score,
                               with_points)
    from .check.report import as_table, plain, render_feedback
    from .spec import load, read_toml
    from .variants import build_variant, varied_tables, variant_problem_set

    _compare_once()
    rows = []
    try:
        data = read_toml(key)
        if not varied_tables(data):
            problem_set = load(key)
        elif values is not None:
            problem_set = variant_problem_set(data, key, student, values)
        else:
            problem_set = build_variant(data, key, student, timeout=timeout).problem_set
    except SymderivError as exc:
        return [{"file": p, "student": student, "reason": f"the variant's key could not be "
                 f"built: {printable(str(exc))}"} for p in paths]
    for path in paths:
        try:
            report = check(key, path, timeout=timeout, rtol=rtol, keep_going=True,
                           problem_set=problem_set)
            scored = score(report, problem_set)
        except SymderivError as exc:
            rows.append({"file": path, "student": student, "reason": printable(str(exc))})
            continue
        report = only_counted_missing(report, scored)
        counted = scored.counted()
        row = {"file": path, "student": student, "reason": "",
               "points": points_json(scored),
               "labels": {r.label: (r.verdict, plain(r.got) if r.got is not None else (r.raw or ""),
                                    r.label in counted) for r in report.results},
               "feedback": as_table(report) + points_lines(scored)}
        if feedback_pdf:
            from .latex_build import build_pdf
            from .texsafe import check_document_body

            text = check_document_body(with_points(render_feedback(report), scored))
            try:
                row["pdf"] = build_pdf(text, name=f"{student}-feedback.tex").pdf
            except SymderivError as exc:
                row["pdf_error"] = printable(str(exc)).splitlines()[0]
        rows.append(row)
    return rows


def gradebook_csv(problem_ids: list[str], rows: list[dict], names: dict[str, str]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["student", "name", "file", *problem_ids, "total", "possible", "percentage",
                "status"])
    for r in rows:
        name = names.get(r["student"], "")
        fname = Path(r["file"]).name if r["file"] else ""
        if r["reason"]:
            w.writerow([r["student"], name, fname, *[""] * len(problem_ids), "", "", "",
                        r["reason"]])
            continue
        pts = r["points"]
        by_id = {p["id"]: (p["earned"] if p["gradable"] else "not gradable")
                 for p in pts["problems"]}
        w.writerow([r["student"], name, fname, *[by_id.get(pid, "") for pid in problem_ids],
                    pts["earned"], pts["possible"], f"{pts['percentage']:.2f}", "graded"])
    return out.getvalue()


def summary_text(title: str, rows: list[dict], most: int = 3) -> str:
    """Per label: how many got it right, and the most common wrong answers."""
    graded = [r for r in rows if not r["reason"]]
    right: Counter = Counter()
    seen: Counter = Counter()
    wrong: dict[str, Counter] = {}
    counted: dict[str, bool] = {}
    for r in graded:
        for label, (verdict, got, is_counted) in r["labels"].items():
            if verdict in ("unknown-label", "not-gradable"):
                continue
            counted[label] = counted.get(label, False) or is_counted
            seen[label] += 1
            if verdict == "correct":
                right[label] += 1
            else:
                text = "(no answer)" if verdict == "missing" else (
                    f"(unreadable) {got}" if verdict == "unparseable" else got)
                wrong.setdefault(label, Counter())[printable(text, 60)] += 1
    lines = [f"{title}: {len(graded)} graded, {len(rows) - len(graded)} not graded"]
    if graded:
        pct = [r["points"]["percentage"] for r in graded]
        lines.append(f"mean {sum(pct) / len(pct):.1f}%, lowest {min(pct):.1f}%, "
                     f"highest {max(pct):.1f}%")
    width = max([len(k) for k in seen] + [5])
    lines.append("label".ljust(width) + "  right  most common wrong answers")
    for label in sorted(seen, key=lambda k: (not counted[k], k)):
        common = wrong.get(label, Counter()).most_common(most)
        shown = "; ".join(f"{t} ×{n}" for t, n in common)
        mark = "" if counted[label] else " (not counted)"
        lines.append(f"{label:<{width}}  {right[label]:>3}/{seen[label]:<3} {shown}{mark}".rstrip())
    problems = [r for r in rows if r["reason"]]
    if problems:
        lines.append("not graded:")
        for r in problems:
            lines.append(f"  {r['student'] or Path(r['file']).name}: {r['reason']}")
    return "\n".join(lines) + "\n"
