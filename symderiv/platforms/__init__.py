"""Exports of verified keys to course platforms: Moodle (STACK), Gradescope, Canvas, PrairieLearn.

Every exporter works on the **variants** of each problem: a list of solved keys of the same
problem (different numbers, the same question). :func:`variants` is the one place they come
from; today it gives one variant, the key itself. Issue 15 (``[problem.vary]``, a lock file per
course) plugs in there: return one :class:`Variant` per drawn variant, each with its own
solved parts, and every exporter puts them where its platform draws from (a Moodle category,
a Canvas question group, PrairieLearn's ``variant_seed``, a student's variant in Gradescope).

Points: :func:`label_points` splits a problem's ``points`` evenly over its labels (1 point
per label when the problem gives none); when issue 15's ``[problem.points]`` table lands, it
is read there.

Nothing here computes an answer: every value exported is a value of a solved, verified key.
Answers that a platform cannot take (a matrix expression, a set, an equation for a numeric
platform…) are listed as :class:`Skipped` with the reason, never approximated.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

# a fixed time for every file in a zip: the same key gives the same bytes
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Variant:
    """One variant of a problem set: its name and its solved parts (file order)."""

    name: str
    problem_set: Any
    solutions: tuple


@dataclass(frozen=True)
class Answer:
    """One gradable answer of one variant: ``kind`` is ``number``, ``expression``,
    ``matrix`` (numbers or expressions as entries) or ``list`` (of numbers: iterates)."""

    label: str
    value: Any
    kind: str
    points: Fraction


@dataclass(frozen=True)
class Skipped:
    problem: str
    label: str
    reason: str

    def line(self, platform: str) -> str:
        where = f"{self.problem}/{self.label}" if self.label else f"problem {self.problem}"
        return f"{where}: not exported to {platform}: {self.reason}"


@dataclass(frozen=True)
class ProblemVariants:
    """A problem and its variants, each a solved part (``solutions[i]`` of ``variants[i]``)."""

    problem: Any
    variants: tuple[tuple[str, Any], ...]  # (variant name, Solution)


@dataclass
class Export:
    """What an exporter wrote: files (relative path -> bytes) and what it left out."""

    files: dict[str, bytes] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def variants(path, problem_set, solutions) -> list[Variant]:
    """The variants of the key in ``path``. Today: the key itself, one variant named "1".

    This is where issue 15's variants plug in (see the module's note)."""
    return [Variant("1", problem_set, tuple(solutions))]


def load_variants(path, timeout: float | None = 20.0) -> tuple[Any, list[Variant], list[Skipped]]:
    """Load and solve the key (every answer verified; a part that cannot be solved is left
    out and listed), then its variants."""
    from ..solve import solve_set
    from ..spec import load

    problem_set = load(path)
    solutions = solve_set(problem_set, timeout, keep_going=True)
    skipped = [Skipped(s.problem.id, "", f"not solved: {s.reason}")
               for s in solutions if not s.solved]
    skipped += [Skipped(p.id, "", "a training experiment: its numbers are measured by one run, "
                        "not answers a student's run must match") for p in problem_set.problems
                if p.kind == "experiment"]
    return problem_set, variants(path, problem_set, solutions), skipped


def by_problem(variant_list: list[Variant]) -> list[ProblemVariants]:
    """Per problem (file order), its solved part in every variant. A problem unsolved in
    some variant is left out of all of them (a platform must not draw a variant without a key)."""
    first = variant_list[0]
    out = []
    for sol in first.solutions:
        if sol.problem.kind == "experiment":   # measured, not graded (see load_variants)
            continue
        pid = sol.problem.id
        per = []
        for v in variant_list:
            match = [s for s in v.solutions if s.problem.id == pid]
            if not match or not match[0].solved:
                break
            per.append((v.name, match[0]))
        else:
            if sol.solved:
                out.append(ProblemVariants(sol.problem, tuple(per)))
    return out


def label_points(problem, labels: list[str]) -> dict[str, Fraction]:
    """Points of each label: the problem's ``points`` split evenly, or 1 each."""
    if not labels:
        return {}
    if problem.points is None:
        return {label: Fraction(1) for label in labels}
    share = Fraction(problem.points) / len(labels)
    return {label: share for label in labels}


def classify(value) -> tuple[str | None, str]:
    """``(kind, "")`` for a value a platform can take as an answer, ``(None, reason)``
    otherwise."""
    import sympy as sp

    if isinstance(value, sp.MatrixBase):
        kinds = {classify(v)[0] for v in value}
        if None in kinds:
            return None, "a matrix with entries that are not numbers or expressions"
        return "matrix", ""
    if isinstance(value, sp.matrices.MatrixExpr):
        return None, "a matrix expression (grade it with symderiv check or Gradescope)"
    if isinstance(value, (list, tuple)):
        if value and all(classify(v)[0] == "number" for v in value):
            return "list", ""
        return None, "a list of values that are not all finite numbers"
    if isinstance(value, str):
        return None, "a shape or text answer"
    if isinstance(value, sp.Basic) and isinstance(value, sp.Expr):
        if value.has(sp.AccumBounds):
            return None, "a limit that does not exist"
        if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
            return None, "an infinite value"
        if not value.free_symbols:
            if value.is_real is False:
                return None, "a value that is not real"
            return "number", ""
        return "expression", ""
    if isinstance(value, sp.Basic) and isinstance(value, sp.Rel):
        return None, "an equation or inequality (grade it with symderiv check or Gradescope)"
    if isinstance(value, sp.Set):
        return None, "a set of values (grade it with symderiv check or Gradescope)"
    return None, f"a {type(value).__name__} answer"


def answers_of(problem, solution, skipped: list[Skipped] | None = None) -> list[Answer]:
    """The gradable answers of one solved part, with their points (points are split over the
    labels the platform takes). Others go to ``skipped``."""
    kept = []
    for a in solution.answers:
        kind, reason = classify(a.value)
        if kind is None:
            if skipped is not None:
                skipped.append(Skipped(problem.id, a.label, reason))
            continue
        kept.append((a.label, a.value, kind))
    points = label_points(problem, [label for label, _, _ in kept])
    return [Answer(label, value, kind, points[label]) for label, value, kind in kept]


def number(value) -> float:
    """A number's float value (for a platform's numeric answer)."""
    import sympy as sp

    return float(sp.N(value, 20))


def decimal(value, digits: int = 12) -> str:
    """A number as a short decimal without exponent (Canvas's New Quizzes refuses ``1e+06``):
    1.33, 0.5, -0.333333333333, 1500000, 0.0000001."""
    from decimal import Decimal

    text = format(Decimal(f"{number(value):.{digits}g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


ZERO_TOLERANCE = 1e-8  # an answer of 0 must be 0 (to this absolute tolerance)


def tolerance(value, rtol: float) -> float:
    """Absolute tolerance for a numeric answer: ``rtol`` of its size; ``ZERO_TOLERANCE`` for 0
    (a relative tolerance of 0 would refuse 0.0, an absolute one of ``rtol`` would accept
    answers far from a small key)."""
    size = abs(number(value))
    return size * rtol if size else ZERO_TOLERANCE


def points_text(points: Fraction) -> str:
    """Points as a short decimal (1, 0.5, 0.3333333)."""
    if points.denominator == 1:
        return str(points.numerator)
    return f"{float(points):.7f}".rstrip("0").rstrip(".")


def rounded_shares(points: list[Fraction], places: int = 4) -> list[float]:
    """Each share rounded to ``places`` decimals so that they add up to the rounded total
    exactly (the remainders go to the largest fractional parts, earliest first)."""
    from decimal import ROUND_HALF_EVEN, Decimal

    step = Decimal(1).scaleb(-places)
    total = Decimal(sum(points, Fraction(0)).numerator) / Decimal(sum(points, Fraction(0)).denominator)
    total = total.quantize(step, ROUND_HALF_EVEN)
    floors = [(Decimal(p.numerator) / Decimal(p.denominator)).quantize(step, rounding="ROUND_FLOOR")
              for p in points]
    left = int((total - sum(floors, Decimal(0))) / step)
    order = sorted(range(len(points)),
                   key=lambda i: (-(Fraction(points[i]) - Fraction(floors[i])), i))
    for i in order[:left]:
        floors[i] += step
    return [float(f) for f in floors]


# ---------------------------------------------------------------------------- statements

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_TEXT_COMMANDS = {"textbf": "b", "emph": "em", "textit": "i", "underline": "u"}


def statement_html(latex: str) -> str:
    """A statement (LaTeX text with math) as HTML with math as ``\\( … \\)`` and
    ``\\[ … \\]`` for MathJax: paragraphs at blank lines, ``\\textbf`` and friends as tags,
    everything else escaped. Returns HTML text (to be put in an element, which escapes it
    once more for XML)."""
    import html

    out, pos = [], 0
    for m in _MATH.finditer(latex):
        out.append(_text_html(latex[pos:m.start()]))
        display = m.group(1) or m.group(3)
        if display is not None:
            out.append(r"\[" + html.escape(display.strip(), quote=False) + r"\]")
        else:
            out.append(r"\(" + html.escape((m.group(2) or m.group(4)).strip(), quote=False) + r"\)")
        pos = m.end()
    out.append(_text_html(latex[pos:]))
    body = "".join(out).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _text_html(text: str) -> str:
    import html

    text = html.escape(text, quote=False)
    for command, tag in _TEXT_COMMANDS.items():
        text = re.sub(r"\\" + command + r"\{([^{}]*)\}", rf"<{tag}>\1</{tag}>", text)
    text = re.sub(r"\\(?:item)\b", "<br/>&#8226;", text)
    text = re.sub(r"\\(?:begin|end)\{(?:itemize|enumerate)\}", "", text)
    text = text.replace("~", "&#160;").replace("``", "&#8220;").replace("''", "&#8221;")
    text = re.sub(r"\\([%$&#_{}])", r"\1", text)
    return text


def label_html(problem_id: str, label: str) -> str:
    """A label read out for students: "Leaky ReLU, limit at \\(+\\infty\\)" (no registry
    names), from :func:`symderiv.check.report.label_words`."""
    from ..check.report import label_words

    words = label_words(f"{problem_id}/{label}")  # LaTeX text, math in $ … $
    html = statement_html(words).removeprefix("<p>").removesuffix("</p>")
    return html.split(": ", 1)[1] if ": " in html else html


def math_tex(value) -> str:
    """The key's value in LaTeX (the form the key prints)."""
    from ..render import tex

    return tex(value)


# ---------------------------------------------------------------------------- files

def xml_bytes(root) -> bytes:
    """An ElementTree element as UTF-8 XML with a declaration, indented."""
    import xml.etree.ElementTree as ET

    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def zip_bytes(files: dict[str, bytes], executable: frozenset[str] = frozenset()) -> bytes:
    """A zip of ``files`` with sorted entries and fixed timestamps: byte-identical each run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.create_system = 3
            archive.writestr(info, files[name])
    return buffer.getvalue()


def write_files(out: Path, files: dict[str, bytes]) -> list[Path]:
    """Write every file under ``out`` (atomically each); returns the paths, sorted."""
    from ..export import write_bytes_atomic

    paths = []
    for name in sorted(files):
        path = Path(out) / name
        write_bytes_atomic(path, files[name])
        paths.append(path)
    return paths


def safe_name(text: str) -> str:
    """A file or folder name from a problem id or title (letters, digits, ``._-``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "problem"
    return name[:60]
