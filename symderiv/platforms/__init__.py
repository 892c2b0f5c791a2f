"""Exports of verified keys to course platforms: Moodle (STACK), Gradescope, Canvas, PrairieLearn.

Every exporter works on the **variants** of each problem: a list of solved keys of the same
problem (different numbers, the same question). :func:`variants` is the one place they come
from; today it gives one variant, the key itself. Issue 15 (``[problem.vary]``, a lock file per
course) plugs in there: return one :class:`Variant` per drawn variant, each with its own
solved parts, and every exporter puts them where its platform draws from (a Moodle category,
a Canvas question group, PrairieLearn's ``variant_seed``, a student's variant in Gradescope).

:func:`load_variants` gives the key itself (one variant, named "1") or, with ``count``,
``roster`` or ``lock``, the variants ``symderiv variants`` makes (the same draws, the same
distinctness rule, :mod:`symderiv.variants`), each solved and verified.

Points: issue 15's rule (:func:`symderiv.check.points.label_points`): ``[problem.points]``,
else the problem's points split over the labels the question asks for. Only those labels are
exported; a counted label a platform cannot take is listed as skipped with its points.

Nothing here computes an answer: every value exported is a value of a solved, verified key.
Answers that a platform cannot take (a set, an equation for a numeric platform…) are listed
as :class:`Skipped` with the reason, never approximated. A matrix expression (a symbolic
network's tables, a matrix gradient) is asked by Moodle, Canvas and PrairieLearn at a concrete
size (:mod:`.instance`): the key's formula on drawn numbers, verified there.
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
    """One variant of a problem set: its name and its solved parts (file order); ``built``
    is issue 15's :class:`symderiv.variants.Built` (drawn values) for a drawn variant."""

    name: str
    problem_set: Any
    solutions: tuple
    built: Any = None


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
    shared: bool = False  # the same in every variant of several: one kept (by_problem)


@dataclass
class Export:
    """What an exporter wrote: files (relative path -> bytes) and what it left out."""

    files: dict[str, bytes] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def variants(path, problem_set, solutions) -> list[Variant]:
    """The variants of the key in ``path``. Today: the key itself, one variant named "1".

    This is where issue 15's variants plug in (see the module's note)."""
    return [Variant("1", problem_set, tuple(solutions))]


def load_variants(path, timeout: float | None = 20.0, *, count: int | None = None,
                  roster=None, lock=None) -> tuple[Any, list[Variant], list[Skipped]]:
    """Load and solve the key (every answer verified; a part that cannot be solved is left
    out and listed), then its variants: the key itself, or with ``count`` (v01 …), ``roster``
    (a CSV ``id,name``: one per student) or ``lock`` (a ``variants.lock.json``) the variants
    of ``symderiv variants`` with the same options, each solved and verified."""
    from ..errors import BadInput
    from ..solve import solve_set
    from ..spec import load

    problem_set = load(path)
    given = [o for o, v in (("--n", count), ("--roster", roster), ("--lock", lock)) if v]
    if len(given) > 1:
        raise BadInput(f"give one of --n, --roster and --lock, not {' and '.join(given)}")
    if given:
        variant_list = drawn_variants(path, count=count, roster=roster, lock=lock,
                                      timeout=timeout)
    else:
        solutions = solve_set(problem_set, timeout, keep_going=True)
        variant_list = variants(path, problem_set, solutions)
    skipped, seen = [], set()
    for v in variant_list:
        for s in v.solutions:
            if not s.solved and s.problem.id not in seen:
                seen.add(s.problem.id)
                where = f" in variant {v.name}" if len(variant_list) > 1 else ""
                skipped.append(Skipped(s.problem.id, "", f"not solved{where}: {s.reason}"))
    skipped += [Skipped(p.id, "", "a training experiment: its numbers are measured by one run, "
                        "not answers a student's run must match") for p in problem_set.problems
                if p.kind == "experiment"]
    return problem_set, variant_list, skipped


def drawn_variants(path, *, count=None, roster=None, lock=None,
                   timeout: float | None = 20.0) -> list[Variant]:
    """Issue 15's variants of the key in ``path``, as ``symderiv variants`` draws them (or as
    a lock file records them), each solved and verified (:mod:`symderiv.variants`)."""
    from ..errors import BadInput
    from ..solve import solve_set
    from ..spec import read_toml
    from ..variants import Built, build_variant, read_lock, read_roster, signature, \
        variant_problem_set, varied_tables

    data = read_toml(path)
    if not varied_tables(data):
        raise BadInput("no problem has a [problem.vary] table, so there is nothing to vary "
                       "(leave out --n, --roster and --lock)", file=str(path))
    name = str(path)
    out = []
    if lock:
        for vid, values in read_lock(lock, path).items():
            ps = variant_problem_set(data, name, vid, values)
            solutions = tuple(solve_set(ps, timeout, keep_going=True))
            out.append(Variant(vid, ps, solutions, Built(vid, "", values, {}, ps, solutions)))
        return out
    if roster:
        students = read_roster(roster)
    else:
        width = max(2, len(str(count)))
        students = [(f"v{i + 1:0{width}d}", "") for i in range(count)]
    seen: set[str] = set()
    for sid, student_name in students:
        # the rule of `symderiv variants`: a variant that drew an earlier one's numbers
        # draws again, avoiding them
        b = build_variant(data, name, sid, student_name, timeout=timeout, keep_going=True)
        if signature(b.values) in seen:
            b = build_variant(data, name, sid, student_name, timeout=timeout,
                              excluded=frozenset(seen), keep_going=True)
        seen.add(signature(b.values))
        out.append(Variant(sid, b.problem_set, tuple(b.solutions), b))
    return out


def by_problem(variant_list: list[Variant], collapse: bool = True) -> list[ProblemVariants]:
    """Per problem (file order), its solved part in every variant. A problem unsolved in
    some variant is left out of all of them (a platform must not draw a variant without a key).
    ``collapse``: a problem that is the same in every variant (it does not vary) keeps one
    variant, the first, so that a platform does not hold N copies of it."""
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
                shared = (collapse and len(per) > 1
                          and len({repr(s.problem) for _, s in per}) == 1)
                out.append(ProblemVariants(sol.problem, tuple(per[:1] if shared else per),
                                           shared))
    return out


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
    """The gradable answers of one solved part that earn points, with their points (issue
    15's rule, :func:`symderiv.check.points.label_points`; labels that are not counted are not
    exported). A counted answer the platforms cannot take goes to ``skipped``."""
    from ..check.points import label_points

    points = label_points(problem, [a.label for a in solution.answers])
    kept = []
    for a in solution.answers:
        if a.label not in points:
            continue
        kind, reason = classify(a.value)
        if kind is None:
            if skipped is not None:
                skipped.append(Skipped(problem.id, a.label,
                                       f"{reason} ({worth(points[a.label])})"))
            continue
        kept.append(Answer(a.label, a.value, kind, points[a.label]))
    return kept


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


def supported(problem, answers: list, probe, notes: list | None) -> list:
    """The answers a platform takes: ``probe(answer)`` raises :class:`.maxima.Unsupported` for
    one it cannot; that one goes to ``notes`` (when given) with the points it loses."""
    from .maxima import Unsupported

    kept = []
    for a in answers:
        try:
            probe(a)
        except Unsupported as exc:
            if notes is not None:
                notes.append(Skipped(problem.id, a.label, f"{exc} ({worth(a.points)})"))
            continue
        kept.append(a)
    return kept


def worth(points: Fraction) -> str:
    """``1 point``, ``0.3333333 points``: what a skipped answer takes away from a platform."""
    return f"{points_text(points)} point{'' if points == 1 else 's'}"


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


def label_html(problem_id: str, label: str, problem=None) -> str:
    """A label read out for students: "Leaky ReLU, limit at \\(+\\infty\\)" (no registry
    names), from :func:`symderiv.check.report.label_words`; with ``problem`` a symbolic
    network's label is its quantity in the question's names ("\\(\\partial \\ell /
    \\partial W^{(2)}\\)")."""
    from ..check.report import label_words

    if problem is not None:
        from .instance import network_label

        quantity = network_label(problem, label)
        if quantity is not None:
            import html

            return r"\(" + html.escape(quantity, quote=False) + r"\)"

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
