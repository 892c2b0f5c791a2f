"""Checking a student's answers against a key symderiv builds: verdicts with feedback.

``check(key, answers)`` solves the key (every answer verified, as for ``render``), reads each
answer in the shape of the key's value (:mod:`.read`, :mod:`.latex`), compares it
(:mod:`.compare`) under a time budget, and returns a :class:`Report`. Verdicts: ``correct``,
``incorrect``, ``unparseable``, ``unknown-label``, ``missing`` for the key's labels the
student left out, and ``not-gradable`` for an answer to a part of the key that could not be
solved (with ``keep_going``, the default of the CLI): it is neither right nor wrong, and it
does not count in the score's total.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..notebook import Displayable  # Jupyter display (imports nothing heavy)

VERDICTS = ("correct", "incorrect", "unparseable", "unknown-label", "missing", "not-gradable")
UNSCORED = ("unknown-label", "not-gradable")  # not counted in the total
ANSWER_SECONDS = 6.0  # CPU seconds per answer (symderiv.check.grade)


@dataclass(frozen=True)
class Result:
    label: str
    verdict: str
    expected: Any = None     # the key's value (None for an unknown label)
    got: Any = None          # the student's answer as read (None when unreadable)
    raw: str | None = None   # what the student wrote (escaped wherever it is shown)
    feedback: tuple = ()     # str and compare.Math parts
    method: str = ""
    expected_display: Any = None  # the key's teacher form, when it has one

    @property
    def key_shown(self) -> Any:
        return self.expected if self.expected_display is None else self.expected_display


@dataclass(frozen=True)
class Report(Displayable):
    title: str
    key: Path
    answers: Path
    student: str
    results: tuple[Result, ...]
    unsolved: tuple[tuple[str, str], ...] = ()  # (problem id, reason) of the key's unsolved parts

    @property
    def correct(self) -> int:
        return sum(r.verdict == "correct" for r in self.results)

    @property
    def total(self) -> int:
        """Every label of the key (answered or missing); answers to unsolved parts are not
        counted."""
        return sum(r.verdict not in UNSCORED for r in self.results)

    def counts(self) -> dict[str, int]:
        return {v: sum(r.verdict == v for r in self.results) for v in VERDICTS}


def check(key_path, answers_path, *, timeout: float | None = 20.0,
          rtol: float | None = None, answer_seconds: float = ANSWER_SECONDS,
          keep_going: bool = False, problem_set=None) -> Report:
    """``problem_set``: the key already loaded (a student's variant); default: load ``key_path``."""
    from ..solve import solve_set
    from ..spec import load
    from . import proofs
    from .answers import load_answers
    from .context import build_context
    from .grade import grade
    from .keycache import solve_cached

    submission = load_answers(answers_path)  # a bad answers file fails before the slow part
    if problem_set is not None:   # a variant built in memory: not the file's key
        solved = solve_set(problem_set, timeout, keep_going=keep_going)
    else:
        problem_set = load(key_path)
        # the built key of an earlier check of the same file is reused (check/keycache.py)
        solved = solve_cached(problem_set, key_path, timeout, keep_going)
    solutions = [s for s in solved if s.solved]
    unsolved = {s.problem.id: s for s in solved if not s.solved}
    contexts = {}
    expected: dict[str, tuple[str, str, Any]] = {}
    shown: dict[str, Any] = {}
    for sol in solutions:
        for a in sol.answers:
            expected[f"{sol.problem.id}/{a.label}"] = (sol.problem.id, a.label, a.value)
            shown[f"{sol.problem.id}/{a.label}"] = a.display
    by_id = {s.problem.id: s for s in solutions}
    results = []
    answered = set()
    for full, text in submission.answers:
        pid = full.partition("/")[0]
        if pid in unsolved and full not in expected:
            results.append(Result(full, "not-gradable", raw=text, feedback=(
                f"part {pid} of the key could not be solved, so this answer is not graded: "
                + unsolved[pid].shown,)))
            continue
        if full.partition("/")[2] == proofs.PROOF_LABEL and pid in by_id \
                and proofs.gradable(by_id[pid].problem):
            # a proof written line by line: checked by the proofs' own chain checker
            verdict, feedback = proofs.grade(by_id[pid].problem, text)
            results.append(Result(full, verdict, raw=text, feedback=feedback, method="proof chain"))
            continue
        if full not in expected:
            close = difflib.get_close_matches(full, list(expected), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            results.append(Result(full, "unknown-label", raw=text,
                                  feedback=(f"the key has no answer labelled {full}{hint}",)))
            continue
        answered.add(full)
        pid, label, value = expected[full]
        if pid not in contexts:
            contexts[pid] = build_context(by_id[pid].problem, by_id[pid],
                                          _before(problem_set.problems, pid))
        outcome = grade(contexts[pid], full, label, value, text, rtol, answer_seconds)
        results.append(Result(full, outcome.verdict, value, outcome.got, text,
                              outcome.feedback, outcome.method, shown[full]))
    for full, (_, _, value) in expected.items():
        if full not in answered:
            results.append(Result(full, "missing", value, feedback=("no answer given",),
                                  expected_display=shown[full]))
    return Report(problem_set.meta.title, Path(key_path), Path(answers_path),
                  submission.student, tuple(results),
                  tuple((pid, u.reason) for pid, u in unsolved.items()))


def _before(problems, pid: str) -> tuple:
    """The problems of the file before the one with id ``pid``."""
    ids = [p.id for p in problems]
    return tuple(problems[:ids.index(pid)]) if pid in ids else ()


class _CallableModule(__import__("types").ModuleType):
    """``symderiv.check(key, answers)`` is the Python API's :func:`symderiv.api.check`: the
    package ``symderiv.check`` and the function share the name, so the package is callable."""

    def __call__(self, key, answers, **options):
        from ..api import check as api_check

        return api_check(key, answers, **options)


__import__("sys").modules[__name__].__class__ = _CallableModule
