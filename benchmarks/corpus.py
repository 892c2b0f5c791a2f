"""Grade the labelled corpus (tests/data/corpus/*.toml) and compare with the human verdicts.

Each corpus file names a key (a problem file) and, per label of the key, answers written the
ways students write them, each with the verdict a careful human grader gives (decided by hand,
never by running symderiv) and optionally a fragment the feedback should contain.

Run: ``python benchmarks/corpus.py [--only FILE_STEM] [--json OUT] [--quiet]``. Prints, per
key and in total:

* **agreement**: answers whose verdict is the human one (``correct`` for a right answer,
  ``incorrect`` for a wrong one; ``unparseable`` never agrees, since a human read every answer);
* **wrong accepted**: wrong answers graded ``correct`` (must stay 0);
* **unparseable**: the share of answers (all of them human-readable) graded ``unparseable``;
* **right rejected**, and how many wrong answers' feedback contains the expected fragment;

then every disagreement (label, answer, human verdict, symderiv's verdict and feedback).
The key is built once per file; each answer is graded as ``symderiv check`` grades it
(:func:`symderiv.check.grade.grade`, CPU-time budget per answer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Entry:
    file: str      # corpus file stem
    key: str       # problem file, relative to the repository
    label: str     # "<problem id>/<label>"
    text: str      # the student's answer
    human: str     # "correct" or "incorrect"
    feedback: str  # a fragment the feedback should contain ("" when not given)


@dataclass(frozen=True)
class Graded:
    entry: Entry
    verdict: str
    feedback: str
    cpu: float

    @property
    def agrees(self) -> bool:
        return self.verdict == self.entry.human

    @property
    def wrong_accepted(self) -> bool:
        return self.entry.human == "incorrect" and self.verdict == "correct"


def load_corpus(directory: Path = CORPUS, only: str | None = None) -> list[Entry]:
    entries = []
    for path in sorted(directory.glob("*.toml")):
        if only and path.stem != only:
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for case in data["case"]:
            for text in case.get("correct", []):
                entries.append(Entry(path.stem, data["key"], case["label"], text, "correct", ""))
            for item in case.get("incorrect", []):
                if isinstance(item, str):
                    item = {"text": item}
                entries.append(Entry(path.stem, data["key"], case["label"], item["text"],
                                     "incorrect", item.get("feedback", "")))
    return entries


def feedback_text(parts) -> str:
    """The feedback as the console and the JSON print it (the statement's names: b₂, Aᵀx)."""
    from symderiv.check.report import feedback_text as said

    return said(parts)


class BuiltKey:
    """A key solved once, with the grading context of each problem built on first use."""

    def __init__(self, key: Path, timeout: float | None = 60.0):
        from symderiv.solve import solve_set
        from symderiv.spec import load

        solved = solve_set(load(key), timeout, keep_going=True)
        self.solved = solved  # in the file's order (a part may share an earlier one's names)
        self.expected = {}
        self.solutions = {}
        for sol in solved:
            if not sol.solved:
                continue
            self.solutions[sol.problem.id] = sol
            for a in sol.answers:
                self.expected[f"{sol.problem.id}/{a.label}"] = (sol.problem.id, a.label, a.value)
        self.contexts: dict = {}

    def grade(self, full: str, text: str):
        from symderiv.check.compare import Outcome
        from symderiv.check.context import build_context
        from symderiv.check.grade import grade

        if full not in self.expected:
            return Outcome("unknown-label", None, (f"the key has no answer labelled {full}",))
        pid, label, value = self.expected[full]
        if pid not in self.contexts:
            sol = self.solutions[pid]
            problems = [s.problem for s in self.solved]
            earlier = tuple(problems[:problems.index(sol.problem)])
            self.contexts[pid] = build_context(sol.problem, sol, earlier)
        return grade(self.contexts[pid], full, label, value, text)


def grade_entries(entries: list[Entry]) -> list[Graded]:
    keys: dict[str, BuiltKey] = {}
    graded = []
    for e in entries:
        if e.key not in keys:
            keys[e.key] = BuiltKey(ROOT / e.key)
        start = time.process_time()
        outcome = keys[e.key].grade(e.label, e.text)
        graded.append(Graded(e, outcome.verdict, feedback_text(outcome.feedback),
                             time.process_time() - start))
    return graded


@dataclass(frozen=True)
class Figures:
    answers: int
    agreement: float        # % of answers whose verdict is the human one
    wrong_accepted: int
    unparseable: float      # % of (human-readable) answers graded unparseable
    right_rejected: int
    feedback_expected: int  # wrong answers, graded incorrect, with an expected fragment
    feedback_matched: int


def figures(graded: list[Graded]) -> Figures:
    n = len(graded)
    with_fragment = [g for g in graded if g.entry.feedback and g.verdict == "incorrect"]
    return Figures(
        answers=n,
        agreement=round(100 * sum(g.agrees for g in graded) / n, 1) if n else 0.0,
        wrong_accepted=sum(g.wrong_accepted for g in graded),
        unparseable=round(100 * sum(g.verdict == "unparseable" for g in graded) / n, 1) if n else 0.0,
        right_rejected=sum(g.entry.human == "correct" and g.verdict != "correct" for g in graded),
        feedback_expected=len(with_fragment),
        feedback_matched=sum(g.entry.feedback.lower() in g.feedback.lower() for g in with_fragment),
    )


def report(graded: list[Graded], quiet: bool = False) -> str:
    lines = []
    stems = sorted({g.entry.file for g in graded})
    for stem in stems + ["total"]:
        part = graded if stem == "total" else [g for g in graded if g.entry.file == stem]
        f = figures(part)
        lines.append(f"{stem:<14} {f.answers:4d} answers  agreement {f.agreement:5.1f}%  "
                     f"wrong accepted {f.wrong_accepted}  unparseable {f.unparseable:4.1f}%  "
                     f"right rejected {f.right_rejected}  feedback {f.feedback_matched}/"
                     f"{f.feedback_expected}")
    lines.append(f"CPU: {sum(g.cpu for g in graded):.1f} s grading "
                 f"(max {max(g.cpu for g in graded):.2f} s per answer)")
    if not quiet:
        lines.append("")
        lines.append("disagreements (human -> symderiv):")
        for g in graded:
            if not g.agrees:
                lines.append(f"  [{g.entry.file}] {g.entry.label}: {g.entry.text}")
                lines.append(f"      {g.entry.human} -> {g.verdict}: {g.feedback}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one corpus file (its stem, e.g. ama564_a1)")
    parser.add_argument("--json", type=Path, help="write every graded answer to this file")
    parser.add_argument("--quiet", action="store_true", help="figures only")
    args = parser.parse_args(argv)
    graded = grade_entries(load_corpus(only=args.only))
    print(report(graded, args.quiet))
    if args.json:
        args.json.write_text(json.dumps(
            {"figures": asdict(figures(graded)),
             "answers": [{**asdict(g.entry), "verdict": g.verdict, "got_feedback": g.feedback,
                          "cpu": round(g.cpu, 3)} for g in graded]},
            indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
