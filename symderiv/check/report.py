"""A check's report three ways: a console table, JSON for autograders, a LaTeX feedback sheet.

A student's raw text is shown only where the answer could not be read, and then escaped
(LaTeX) or stripped of control characters (console); everything else is shown from the
parsed expression.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from typing import Any

import sympy as sp
from sympy.printing.precedence import precedence

from . import Report, Result
from ..errors import printable
from .names import GREEK
from .read import describe

_GREEK_FUNCTIONS = {r"\sigma": "σ", r"\Phi": "Φ", r"\varphi": "φ"}


def plain(value: Any, printer=None) -> str:
    """A value as plain text (sympy's ``str``, with σ, Φ, φ for the named functions)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(plain(v, printer) for v in value) + "]"
    text = describe(value, printer)
    for name, letter in _GREEK_FUNCTIONS.items():
        text = text.replace(name, letter)
    return text


def feedback_text(parts) -> str:
    """A feedback sentence in plain text, its mathematics in the statement's notation:
    b₂ (b⁽²⁾ where the statement writes b^{(2)}), W₂ᵀ, ŷ, Aᵀx, λθ (see StatementPrinter)."""
    return "".join(p if isinstance(p, str) else plain(p.value, statement_printer(p.names))
                   for p in parts)


_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def said_name(name: str, said: dict[str, str]) -> str:
    """A key's name as the statement writes it in plain text: its own word from ``said``
    (names.statement_words), else b2 → b₂, yhat → ŷ, x_1 → x₁, dL_dz2 → ∂ℓ/∂z₂."""
    from .names import pretty

    if name in said:
        return said[name]
    if name.startswith("dL_d") and len(name) > 4:
        return f"∂{said.get('__loss__', 'ℓ')}/∂" + said_name(name[4:], said)
    m = re.fullmatch(r"([A-Za-z]+?)_?\{?(\d*)\}?", name)
    if m and m.group(1) in _GREEK_NAMES:   # theta1 → θ₁, lam → λ
        return _GREEK_NAMES[m.group(1)] + m.group(2).translate(_DIGITS)
    m = re.fullmatch(r"([A-Za-z]+)_\{?(\d+)\}?", name)
    if m:
        return m.group(1) + m.group(2).translate(_DIGITS)
    if re.fullmatch(r"[A-Za-z](hat|bar)?\d*|[A-Za-z]+\d+", name):   # yhat, b2, W10
        return pretty(name)
    return name


_GREEK_NAMES = {**GREEK, "lam": "λ"}   # the key's lam is λ (Python reserves lambda)


def _is_letter(ch: str) -> bool:
    """A letter of a name (x, λ, ŷ); not a mark after one (ᵀ, ₂, ⁽²⁾, a combining hat)."""
    return unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lo")


def _letters(text: str, end: bool = False) -> int:
    """How many letters the text starts (``end``: ends) with, marks on them not counted."""
    run = 0
    for ch in (reversed(text) if end else text):
        if _is_letter(ch):
            run += 1
        elif not (run and unicodedata.combining(ch)):
            break
    return run


def _juxtaposed(parts: list[str]) -> str:
    """Factors written side by side as a teacher writes them (Aᵀx, 2Aᵀb, λθ, x(1 - σ(x))),
    with a · where side by side would misread: two numbers (2·3), a word (2·exp(x), MSE·x)
    or a name before a number (x·2)."""
    out = parts[0]
    for part in parts[1:]:
        single = _letters(part) == 1   # x, λ, ŷ, W₂, σ(x): one letter, then marks or a call
        if part[:1] == "(" or (single and _letters(out, end=True) <= 1):
            out += part
        else:
            out += "·" + part
    return out


def _negative(term) -> bool:
    if isinstance(term, sp.MatMul):
        scalars = [a for a in term.args if not getattr(a, "is_Matrix", False)]
        return sp.Mul(*scalars).could_extract_minus_sign()
    return term.could_extract_minus_sign()


_PRINTERS: dict = {}


def statement_printer(names=()):
    """The plain-text printer of feedback's mathematics, for the statement's ``names``."""
    key = tuple(names)
    if key not in _PRINTERS:
        if len(_PRINTERS) > 64:
            _PRINTERS.clear()
        _PRINTERS[key] = _statement_printer_class()(dict(key))
    return _PRINTERS[key]


def _statement_printer_class():
    from .read import _answer_printer_class

    class StatementPrinter(_answer_printer_class()):
        """Plain text in the statement's notation: the key's names as the statement writes
        them (said_name), a transpose as ᵀ (Aᵀ, (Ax)ᵀ), factors side by side (Aᵀx, λθ) and an
        entrywise product as ⊙, never SymPy's ``A.T*x``."""

        def __init__(self, said: dict[str, str]):
            super().__init__()
            self.said = said

        def _print_Symbol(self, expr):
            return said_name(expr.name, self.said)

        _print_MatrixSymbol = _print_Symbol

        def _print_Transpose(self, expr):
            inner = self._print(expr.arg)
            if isinstance(expr.arg, (sp.Symbol, sp.MatrixSymbol)):
                return inner + "ᵀ"
            return "(" + inner + ")ᵀ"

        def _print_Pow(self, expr, rational=False):
            return super()._print_Pow(expr, rational).replace("**", "^")

        def _print_Mul(self, expr):
            parts = super()._print_Mul(expr).split("*")
            if expr.is_commutative and not any("/" in p for p in parts):
                # bracketed sums last: xσ(x)(1 - σ(x)), as the key writes it
                sign = "-" if parts[0].startswith("-") else ""
                parts[0] = parts[0][len(sign):]
                parts = sorted(parts, key=lambda p: p.startswith("("))
                parts[0] = sign + parts[0]
            return _juxtaposed(parts)

        def _print_MatMul(self, expr):
            return _juxtaposed(super()._print_MatMul(expr).split("*"))

        def _print_Function(self, expr):
            name = getattr(expr.func, "__name__", "")
            if name in _GREEK_FUNCTIONS:   # σ(x), not \\sigma(x): a letter, written beside others
                return _GREEK_FUNCTIONS[name] + "(" + ", ".join(self._print(a) for a in expr.args) + ")"
            return super()._print_Function(expr)

        def _print_Add(self, expr, order=None):
            # positive terms first, as a teacher writes them: ŷ - y, not -y + ŷ
            terms = list(self._as_ordered_terms(expr, order=order))
            terms = [t for t in terms if not _negative(t)] + [t for t in terms if _negative(t)]
            out = ""
            for i, term in enumerate(terms):
                negative = _negative(term)
                text = self.parenthesize(-term if negative else term, precedence(expr))
                out += ("-" if negative else "") if i == 0 else (" - " if negative else " + ")
                out += text
            return out

        _print_MatAdd = _print_Add

        def _print_OneMatrix(self, expr):
            # the statement's 𝟏 (\\mathbf{1}): a column 𝟏, a row 𝟏ᵀ, a matrix of ones 𝟏𝟏ᵀ
            rows, cols = expr.shape
            return "𝟏" if cols == 1 else "𝟏ᵀ" if rows == 1 else "𝟏𝟏ᵀ"

        def _print_HadamardProduct(self, expr):
            return " ⊙ ".join(self.parenthesize(a, precedence(expr)) for a in expr.args)

    return StatementPrinter


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


