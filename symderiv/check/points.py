"""Points per answer: which labels are graded and what each is worth.

A problem's ``[problem.points]`` maps labels to points; only those labels count. Without it the
problem's ``points`` (1 per label when it has none) are split equally over the labels the
question asks for: for a network (``mlp``) the output ``forward.yhat`` and the parameter
gradients ``grad.*`` (intermediate quantities such as ``forward.z2``, the loss value or
``backward.dL/dz2`` are not counted unless listed); for every other kind each label of the key.
An answer to a label that is not counted is still checked and shown, with no points.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..errors import BadInput


def asked_labels(problem, labels: list[str]) -> list[str]:
    """The labels the question asks for, by default (see the module's docstring)."""
    if problem.kind == "mlp":
        picked = [lb for lb in labels if lb == "forward.yhat" or lb.startswith("grad.")]
        return picked or list(labels)
    return list(labels)


def label_points(problem, labels: list[str]) -> dict[str, Fraction]:
    """label → points for one solved problem (only the counted labels)."""
    if problem.label_points:
        unknown = [lb for lb in problem.label_points if lb not in labels]
        if unknown:
            raise BadInput(f"the key has no answer labelled {unknown[0]} (labels: "
                           f"{', '.join(labels)})", file=problem.file, problem=problem.id,
                           field=f"points.{unknown[0]}")
        return {lb: Fraction(str(p)) for lb, p in problem.label_points.items()}
    asked = asked_labels(problem, labels)
    if not asked:
        return {}
    total = Fraction(str(problem.points)) if problem.points is not None else Fraction(len(asked))
    return {lb: total / len(asked) for lb in asked}


@dataclass(frozen=True)
class LabelScore:
    label: str          # "<problem id>/<label>"
    verdict: str
    points: Fraction
    earned: Fraction


@dataclass(frozen=True)
class ProblemScore:
    id: str
    earned: Fraction
    possible: Fraction
    labels: tuple[LabelScore, ...]
    gradable: bool = True  # False: the key's part was not solved; not in the total


@dataclass(frozen=True)
class Score:
    problems: tuple[ProblemScore, ...]

    @property
    def earned(self) -> Fraction:
        return sum((p.earned for p in self.problems if p.gradable), Fraction(0))

    @property
    def possible(self) -> Fraction:
        return sum((p.possible for p in self.problems if p.gradable), Fraction(0))

    @property
    def percentage(self) -> float:
        return float(100 * self.earned / self.possible) if self.possible else 0.0

    def counted(self) -> set[str]:
        return {ls.label for p in self.problems for ls in p.labels}


def score(report, problem_set) -> Score:
    """Points of a checked report (``symderiv.check.Report``) against the key's problem set."""
    unsolved = {pid for pid, _ in report.unsolved}
    labels: dict[str, list[str]] = {}
    verdicts: dict[str, str] = {}
    for r in report.results:
        if r.verdict in ("unknown-label", "not-gradable"):
            continue
        pid, _, label = r.label.partition("/")
        labels.setdefault(pid, []).append(label)
        verdicts[r.label] = r.verdict
    problems = []
    for problem in problem_set.problems:
        if problem.id in unsolved:
            possible = (Fraction(str(problem.points)) if problem.points is not None
                        else Fraction(0))
            problems.append(ProblemScore(problem.id, Fraction(0), possible, (), gradable=False))
            continue
        worth = label_points(problem, labels.get(problem.id, []))
        scored = []
        for label, pts in worth.items():
            full = f"{problem.id}/{label}"
            verdict = verdicts.get(full, "missing")
            scored.append(LabelScore(full, verdict, pts, pts if verdict == "correct" else Fraction(0)))
        problems.append(ProblemScore(problem.id, sum((s.earned for s in scored), Fraction(0)),
                                     sum((s.points for s in scored), Fraction(0)), tuple(scored)))
    return Score(tuple(problems))


def shown(value: Fraction) -> str:
    """Points as a teacher writes them: 3, 2.5, 2.33 (two decimals at most)."""
    d = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"))
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def only_counted_missing(report, result_score: Score):
    """The report without "missing" for labels that are not counted (never asked for)."""
    from dataclasses import replace

    counted = result_score.counted()
    return replace(report, results=tuple(
        r for r in report.results if r.verdict != "missing" or r.label in counted))


def points_lines(result_score: Score) -> str:
    """``points: 1a 2.33/3, 1b 3/3 …`` and the total, for the terminal."""
    parts = []
    for p in result_score.problems:
        parts.append(f"{p.id} {shown(p.earned)}/{shown(p.possible)}" if p.gradable
                     else f"{p.id} not gradable")
    return (f"points: {', '.join(parts)}; total {shown(result_score.earned)}/"
            f"{shown(result_score.possible)} ({result_score.percentage:.1f}%)\n")


def points_json(result_score: Score) -> dict:
    return {
        "earned": shown(result_score.earned), "possible": shown(result_score.possible),
        "percentage": round(result_score.percentage, 2),
        "problems": [{"id": p.id, "earned": shown(p.earned), "possible": shown(p.possible),
                      "gradable": p.gradable,
                      "labels": {ls.label: {"points": shown(ls.points), "earned": shown(ls.earned)}
                                 for ls in p.labels}} for p in result_score.problems],
    }


def with_points(feedback_tex: str, result_score: Score) -> str:
    """The feedback sheet (LaTeX) with a closing paragraph of points per problem."""
    from ..texsafe import escape

    parts = [f"{escape(p.id)} {shown(p.earned)}/{shown(p.possible)}" if p.gradable
             else f"{escape(p.id)} not gradable" for p in result_score.problems]
    paragraph = (r"\par\medskip\noindent\textbf{Points:} " + ", ".join(parts)
                 + rf"; total {shown(result_score.earned)} of {shown(result_score.possible)} "
                 + rf"({result_score.percentage:.1f}\%)." + "\n")
    end = feedback_tex.rindex(r"\end{document}")
    return feedback_tex[:end] + paragraph + feedback_tex[end:]
