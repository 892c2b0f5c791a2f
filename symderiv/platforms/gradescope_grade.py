"""Gradescope autograder entry point, copied into the autograder zip as ``grade.py``.

``run_autograder`` runs ``python grade.py ROOT`` (ROOT is ``/autograder`` on Gradescope, a
temporary directory in symderiv's tests). It reads the student's answers file (TOML, as for
``symderiv check``) from ``ROOT/submission/``, picks the student's variant (from
``ROOT/submission_metadata.json`` when the assignment has several), checks the answers against
that variant's key with symderiv (a drawn variant: the problem file with the values the lock
recorded for it), and writes ``ROOT/results/results.json`` in Gradescope's
format. It never raises: whatever goes wrong is written to the results' ``output``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def student_of(root: Path) -> str:
    """The submitting student's id (sid, else email, else name) from the metadata, or ""."""
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        user = (meta.get("users") or [{}])[0]
    except (OSError, ValueError, AttributeError, IndexError):
        return ""
    for key in ("sid", "email", "name"):
        if user.get(key):
            return str(user[key])
    return ""


def variant_for(config: dict, student: str) -> str | None:
    """The student's variant: the course's assignment when there is one, the only variant
    when there is one; otherwise None (never a guess)."""
    if student and student in config.get("students", {}):
        return config["students"][student]
    if len(config["variants"]) == 1:
        return next(iter(config["variants"]))
    return None


def answers_file(submission: Path) -> Path | None:
    """``answers.toml`` if submitted, else the one ``.toml`` file of the submission."""
    preferred = submission / "answers.toml"
    if preferred.is_file():
        return preferred
    found = sorted(p for p in submission.rglob("*.toml") if p.is_file())
    return found[0] if len(found) == 1 else None


def _markdown_code(text: str) -> str:
    text = " ".join(str(text).split()).replace("`", "'")
    return f"`{text}`" if text else "(empty)"


def grade(root: Path) -> dict:
    source = root / "source"
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    visibility = config["visibility"]
    student = student_of(root)
    variant = variant_for(config, student)
    if variant is None:
        return {"score": 0.0, "output": "No variant of this assignment is assigned to you "
                f"({student or 'unknown student'}); please tell your instructor."}
    entry = config["variants"][variant]
    answers = answers_file(root / "submission")
    tests_config = entry["tests"]
    if answers is None:
        return {"score": 0.0, "output": "Submit one answers file (answers.toml) with a line "
                "\"<problem id>/<label>\" = \"your answer\" per answer; "
                f"the labels are: {', '.join(t['label'] for t in tests_config)}.",
                "tests": [_test(t, 0.0, "failed", "**missing**: no answers file", visibility)
                          for t in tests_config]}

    from symderiv.check import check
    from symderiv.check.report import feedback_text, plain
    from symderiv.errors import SymderivError, printable

    key = source / entry["key"]
    problem_set = None
    if entry.get("lock"):  # a drawn variant: the problem file with this variant's values
        from symderiv.spec import read_toml
        from symderiv.variants import read_lock, variant_problem_set

        values = read_lock(source / entry["lock"], key)[variant]
        problem_set = variant_problem_set(read_toml(key), str(key), variant, values)
    try:
        report = check(key, answers, timeout=config["timeout"], rtol=config["rtol"],
                       keep_going=True, problem_set=problem_set)
    except SymderivError as exc:
        return {"score": 0.0, "output": f"Your answers file could not be read: "
                f"{printable(str(exc))}"}
    by_label = {r.label: r for r in report.results}
    tests, unknown = [], []
    for t in tests_config:
        r = by_label.get(t["label"])
        if r is None:
            tests.append(_test(t, 0.0, "failed", "**not graded**: this part of the key could "
                               "not be built; your instructor has been told.", visibility))
            continue
        right = r.verdict == "correct"
        lines = [f"**{r.verdict}**"]
        if r.raw is not None:
            lines.append(f"your answer: {_markdown_code(r.raw)}")
        feedback = feedback_text(r.feedback)
        if feedback:
            lines.append(feedback)
        if r.expected is not None:
            shown = re.sub(r"\\([A-Za-z]+)", r"\1", plain(r.key_shown))  # \tanh -> tanh
            lines.append(f"the key: {_markdown_code(shown)}")
        tests.append(_test(t, t["max_score"] if right else 0.0, "passed" if right else "failed",
                           "\n\n".join(lines), visibility))
    for r in report.results:
        if r.verdict == "unknown-label":
            unknown.append(f"- {_markdown_code(r.label)}: {feedback_text(r.feedback)}")
    score = round(sum(t["score"] for t in tests), 4)
    output = [f"Answers read from {answers.name}"
              + (f" (variant {variant})" if len(config["variants"]) > 1 else "") + "."]
    if visibility != "visible":
        output.append("The verdict of each answer, with feedback, is shown "
                      + {"after_due_date": "after the due date",
                         "after_published": "when the grades are published",
                         "hidden": "to the instructors only"}[visibility] + ".")
    if unknown:
        output.append("These labels are not in the key and were not graded:\n" + "\n".join(unknown))
    return {"score": score, "output": "\n\n".join(output), "output_format": "md",
            "tests": tests}


def _test(t: dict, score: float, status: str, output: str, visibility: str) -> dict:
    return {"name": t["label"], "number": t["number"], "score": score,
            "max_score": t["max_score"], "status": status, "output": output,
            "output_format": "md", "visibility": visibility}


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "/autograder")
    try:
        results = grade(root)
    except Exception as exc:  # the student must see something, never a silent failure
        results = {"score": 0.0, "output": "The autograder failed on this submission "
                   f"({type(exc).__name__}: {exc}); please tell your instructor."}
    out = root / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
