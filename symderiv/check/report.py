"""A check's report three ways: a console table, JSON for autograders, a LaTeX feedback sheet.

A student's raw text is shown only where the answer could not be read, and then escaped
(LaTeX) or stripped of control characters (console); everything else is shown from the
parsed expression.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import sympy as sp

from . import Report, Result
from ..errors import printable
from .read import describe

_GREEK_FUNCTIONS = {r"\sigma": "σ", r"\Phi": "Φ", r"\varphi": "φ"}


def plain(value: Any) -> str:
    """A value as plain text (sympy's ``str``, with σ, Φ, φ for the named functions)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(plain(v) for v in value) + "]"
    text = describe(value)
    for name, letter in _GREEK_FUNCTIONS.items():
        text = text.replace(name, letter)
    return text


def feedback_text(parts) -> str:
    return "".join(p if isinstance(p, str) else plain(p.value) for p in parts)


def feedback_tex(parts) -> str:
    from ..render import tex
    from ..texsafe import escape

    return "".join(escape(p) if isinstance(p, str) else f"${tex(p.value)}$" for p in parts)


_LIMIT = re.compile(r"^limit\(([+-])oo\)$")
_AT = re.compile(r"^(.+)\[([A-Za-z]\w*)=([^\]]+)\]$")
_GREEK = frozenset("alpha beta gamma delta epsilon eta theta kappa lambda mu nu rho sigma tau phi "
                   "omega".split())
_PARTS = re.compile(r"\.(?![^\[]*\])")  # a dot outside [...]


def label_words(label: str) -> str:
    """An answer label read out for the feedback sheet (LaTeX): ``1a/leaky_relu.limit(+oo)``
    becomes "1a: Leaky ReLU, limit at +∞". Registry names are shown by their titles, so
    no program name reaches the student's page; the JSON and the console keep the label."""
    from ..library.activations import ACTIVATIONS
    from ..library.losses import LOSSES
    from ..texsafe import escape

    problem, _, rest = label.partition("/")
    if not rest:
        problem, rest = "", label
    words = []
    for part in _PARTS.split(rest):
        at = _AT.match(part)
        suffix = ""
        if at:
            name, value = at.group(2), escape(at.group(3))
            sym = f"$\\{name}$" if name in _GREEK else escape(name)
            part, suffix = at.group(1), f" ({sym} = {value})"
        limit = _LIMIT.match(part)
        if limit:
            words.append(rf"limit at ${limit.group(1)}\infty$" + suffix)
            continue
        entry = ACTIVATIONS.get(part) or LOSSES.get(part)
        text = entry.title if entry is not None else part.replace("_", " ")
        words.append(escape(text) + suffix)
    return (escape(problem) + ": " if problem else "") + ", ".join(words)


def score(report: Report) -> dict:
    total = report.total
    return {"correct": report.correct, "total": total,
            "fraction": round(report.correct / total, 4) if total else 0.0}


def as_json(report: Report) -> dict:
    from ..export import _sympy_string

    def value(v):
        return None if v is None else _sympy_string(v)

    return {
        "key": report.key.name,
        "answers": report.answers.name,
        "student": report.student,
        "results": [{
            "label": r.label,
            "verdict": r.verdict,
            "expected": value(r.expected),
            "got": value(r.got),
            "answer": r.raw,
            "feedback": feedback_text(r.feedback),
            "method": r.method,
        } for r in report.results],
        "score": score(report),
        "counts": report.counts(),
    }


def as_table(report: Report) -> str:
    width = shutil.get_terminal_size((110, 24)).columns
    who = f" by {printable(report.student)}" if report.student else ""
    lines = [f"{printable(report.title)}: answers{who} ({report.answers.name})"]
    label_w = min(34, max(len(r.label) for r in report.results)) if report.results else 10
    for r in report.results:
        shown = plain(r.got) if r.got is not None else (r.raw or "")
        room = max(20, width - 15 - label_w - 3)
        line = f"  {r.verdict:<13} {printable(r.label, label_w):<{label_w}}  " \
               f"{printable(shown, min(40, room))}"
        lines.append(line.rstrip())
        note = feedback_text(r.feedback)
        if note and r.verdict != "missing":
            lines.append(" " * 17 + "→ " + printable(note, 400))
    counts = _shown_counts(report)
    s = score(report)
    lines.append(f"score: {s['correct']}/{s['total']} correct ("
                 + ", ".join(f"{n} {v}" for v, n in counts.items() if v != "correct") + ")")
    return "\n".join(lines) + "\n"


def _shown_counts(report: Report) -> dict[str, int]:
    """The verdict counts for people: "not-gradable" only when the key has an unsolved part."""
    return {v: n for v, n in report.counts().items() if n or v != "not-gradable"}


def render_feedback(report: Report) -> str:
    """The LaTeX feedback sheet."""
    from ..render import dec, environment, tex as exact
    from ..texsafe import escape

    def tex(value) -> str:
        # numbers as decimals (1.33, not 133/100), as the sheet and the students write them
        numeric = isinstance(value, (sp.Basic, sp.MatrixBase)) and not getattr(
            value, "free_symbols", True) and all(
            v.is_Rational for v in (value if isinstance(value, sp.MatrixBase) else [value]))
        return dec(value) if numeric else exact(value)

    def value_tex(value) -> str:
        if isinstance(value, (list, tuple)):  # one formula per item, so that lines can break
            return ", ".join(f"${tex(v)}$" for v in value)
        if isinstance(value, str):
            return escape(value)
        if hasattr(value, "entry") and hasattr(value, "component"):  # a Jacobian's teacher form
            name = exact(sp.Symbol(str(value.component)))
            return (rf"$\frac{{\partial {name}_i}}{{\partial x_j}} = {exact(value.entry)}$")
        return "$" + tex(value) + "$"

    def answer_tex(r: Result) -> str:
        if r.got is None:
            return r"{\ttfamily " + escape(printable(r.raw or "", 80)) + "}" if r.raw else ""
        return value_tex(r.got)

    def expected_tex(r: Result) -> str:
        return "" if r.key_shown is None else value_tex(r.key_shown)

    rows = [{"label": label_words(r.label), "verdict": r.verdict, "answer": answer_tex(r),
             "expected": expected_tex(r), "feedback": feedback_tex(r.feedback)}
            for r in report.results]
    template = environment().get_template("feedback.tex.j2")
    return template.render(title=escape(report.title), student=escape(report.student),
                           answers=escape(report.answers.name), key=escape(report.key.name),
                           rows=rows, score=score(report), counts=_shown_counts(report))


