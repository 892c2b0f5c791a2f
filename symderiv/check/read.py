"""Reading a student's answer in the shape of the key's answer.

An answer is plain math (``1 - tanh(x)^2``, ``[[0, 1.3]]``, ``0 < alpha < 2``), read by the
foundation's safe parser, or LaTeX (anything with a backslash, a brace or a dollar), read by
:mod:`.latex`. Plain text the safe parser refuses (``2x``) is tried as LaTeX before giving up.
What the key's value is decides how the text is read: a matrix, a list, a set of step sizes,
an equation, a shape, or an expression (with ``\\begin{cases}`` for piecewise answers).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..errors import BadInput
from ..parse import Namespace, parse_expression
from .base import Read, Unreadable
from .conditions import OR_WORDS, RELATIONS, read_condition
from .latex import Vocabulary, _plain_message, read_scalar
from .normalise import looks_latex as _looks_latex, normalise, split_top

EMPTY = {r"\emptyset", r"\varnothing", r"\{\}", "∅", "{}", "none", "never", "empty"}
# an iterate count that is ∞: "never", "does not converge", "\text{never}", "\infty (diverges)"
NEVER = re.compile(r"^\s*\$*\s*(\\text\s*\{\s*|\\mathrm\s*\{\s*)?(never|does\s+not\s+converge|"
                   r"doesn't\s+converge|diverges|it\s+diverges|no\s+such\s+\w+|not\s+reached|"
                   r"never\s+reached|infinite(ly\s+many)?|infinity)\s*(\([^()]*\))?\s*\}?\s*[.!]?"
                   r"\s*\$*\s*$",
                   re.IGNORECASE)
MATRIX_ENV = re.compile(r"^\\begin\{([pbBvV]?matrix|array)\}(\{[^}]*\})?(.*)\\end\{\1\}"
                        r"\s*(\^\s*(\{\s*(\\top|T|\\intercal|\\mathsf\{T\})\s*\}|\\top|T)|')?$",
                        re.S)
_TRANSPOSE = r"(\^\s*(?:\{\s*(?:\\top|T)\s*\}|\\top|T)|'|\.T)"
_WRAPPED_ENV = re.compile(r"\s*[(\[]\s*(\\begin\{(?:[pbBvV]?matrix|array)\}.*\\end\{(?:[pbBvV]?matrix|array)\})"
                          r"\s*[)\]]\s*" + _TRANSPOSE + r"?\s*", re.S)
_BRACKETED = re.compile(r"\s*[(\[](.*)[)\]]\s*" + _TRANSPOSE + r"?\s*", re.S)
_ENTRY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+|\\frac\{[+-]?\d+\}\{\d+\}|\d+/\d+)")
CASES_ENV = re.compile(r"^\\begin\{cases\}(.*)\\end\{cases\}$", re.S)
# Mathpix's cases: \left\{\begin{array}{ll} 1, & x>0 \\ … \end{array}\right. (normalised to
# \{\begin{array}{ll} … \end{array})
BRACE_ARRAY = re.compile(r"^\\\{\s*\\begin\{array\}\{[lcr|]*\}(.*)\\end\{array\}\s*(?:\\\}|\.)?$", re.S)


@dataclass(frozen=True)
class Reader:
    """How to read one problem's answers: its names, for LaTeX and for plain math."""

    vocab: Vocabulary
    namespace: Namespace
    display_namespace: Namespace | None = None  # σ(x) shown as σ, not as 1/(1+e^{-x})

    # -- scalars --------------------------------------------------------------------------

    def expr(self, text: str, latex: bool = False) -> Read:
        """One expression; LaTeX ``cases`` gives a Piecewise.

        ``latex`` forces the LaTeX reading (cells of a LaTeX matrix or cases environment).
        """
        read = self._expr(text, latex)
        _refuse_matrix_powers(read.value)
        return read

    def _expr(self, text: str, latex: bool = False) -> Read:
        if NEVER.match(text):
            return Read(sp.oo, sp.oo)
        if latex or _looks_latex(text):
            body = normalise(text)
            m = CASES_ENV.match(body) or BRACE_ARRAY.match(body)
            if m:
                return self._cases(m.group(1))
            return read_scalar(body, self.vocab)
        # "lambda" is a Greek letter to a student, a reserved word to Python: read as "lamda"
        text = re.sub(r"(?<![\w.])lambda(?!\w)", "lamda", text)
        try:
            value = parse_expression(text, self._plain(self.namespace))
        except BadInput as exc:
            if any(w in exc.message for w in ("too large", "too long", "too deeply")):
                # refused for its size (9**240*9**240*…): no second reading
                raise Unreadable(exc.message) from None
            if exc.message.startswith(("shape mismatch", "a matrix to the power")):
                # read, and the shapes do not fit; Ax + A^Tx + z may still read as a product of
                # names the key knows, but not (yhat - y)*z2 as y·h·a·t …
                try:
                    alternative = read_scalar(text, self.vocab)
                except Unreadable:
                    alternative = None
                if alternative is not None and not self._unknown(alternative.value):
                    return alternative
                raise Unreadable(_plain_message(exc.message)) from None
            try:  # 2x, a x: implicit products read as LaTeX would read them
                return read_scalar(text, self.vocab)
            except Unreadable as second:
                if str(second).startswith(("shape mismatch", "a matrix to the power")):
                    raise  # W_2 a_1: read, and the shapes do not fit
                raise Unreadable(exc.message) from None
        if not isinstance(value, sp.Basic):
            raise Unreadable("not an expression")
        if self._unknown(value):
            # "ax" is a name to Python but a product to a student: prefer the reading whose
            # names the key knows
            try:
                alternative = read_scalar(text, self.vocab)
            except Unreadable:
                alternative = None
            if alternative is not None and \
                    len(self._unknown(alternative.value)) < len(self._unknown(value)):
                return alternative
        display = value
        if self.display_namespace is not None and self.display_namespace is not self.namespace:
            try:
                display = parse_expression(text, self._plain(self.display_namespace))
            except BadInput:
                display = value
        return Read(value, display, _decimals(text))

    def _plain(self, namespace: Namespace) -> Namespace:
        """The namespace for plain math, with ``norm(v)`` read as ``\\|v\\|`` is read, when the key's
        namespace has no norm of its own."""
        if "norm" in namespace.functions:
            return namespace
        from .latex import _norm

        vocab = self.vocab

        def norm(*args):
            if len(args) != 1:
                raise BadInput("norm() takes one argument")
            try:
                return _norm(args[0], vocab)
            except Unreadable as exc:
                raise BadInput(str(exc)) from None
        return dataclasses.replace(namespace, functions={**namespace.functions, "norm": norm})

    def _unknown(self, value) -> list:
        return [s for s in getattr(value, "free_symbols", ())
                if isinstance(s, sp.Symbol) and not self.vocab.known(s.name)]

    def _cases(self, body: str) -> Read:
        try:
            vector = self._vector_cases(body)
        except BadInput as exc:
            raise Unreadable(_plain_message(exc.message)) from None
        if vector is not None:
            return vector
        pieces, shown = [], []
        decimals = 0
        for row in _rows(body):
            cells = row.split("&")
            if len(cells) != 2:
                raise Unreadable("each case needs a value & a condition")
            # a comma or full stop ends a case's value or condition: "1, & x > 0, \\"
            cells = [re.sub(r"(?:\s|\\[,;:!]|\\q?quad)*[,.;]?\s*$", "", c.strip()) for c in cells]
            value = self.expr(cells[0], latex=True)
            cond_text = re.sub(r"\\text\s*\{\s*(if|for|when|where)\s*\}|^\s*(if|for|when)\b",
                               " ", cells[1]).strip()
            cond_text = re.sub(r"\\text\s*\{\s*(if|for|when)\s+([^}]*)\}", r"\2", cond_text)
            if re.fullmatch(r"(\\text\s*\{\s*)?(otherwise|else|elsewhere)\s*\}?", cond_text):
                cond = sp.true
            else:
                cond = read_condition(cond_text, lambda t: self.expr(t, latex=True)).value
            pieces.append((value.value, cond))
            shown.append((value.display, cond))
            decimals += value.decimals
        if not pieces:
            raise Unreadable("the cases environment is empty")
        return Read(sp.Piecewise(*pieces), sp.Piecewise(*shown), decimals)

    def _vector_cases(self, body: str) -> Read | None:
        """Cases on the sign of a vector, read entry by entry: ``1`` if z₁ > 0, ``0``
        otherwise is the indicator 𝟏[z₁ > 0] of each entry (the ReLU derivative, 0 at 0).
        None when the cases are not on a vector (then they are read as a Piecewise)."""
        ops = self.vocab.ops
        if ops is None or ops.hadamard is None:
            return None
        from sympy.matrices.expressions import MatrixExpr

        from ..derive.netexpr import ActivationPrime

        rows = [row.split("&") for row in _rows(body)]
        if not rows or any(len(r) != 2 for r in rows):
            return None
        pieces, rest = [], None
        for value_text, cond_text in rows:
            cond_text = re.sub(r"\\text\s*\{\s*(if|for|when|where)\s*\}|^\s*(if|for|when)\b",
                               " ", cond_text).strip().rstrip(".,")
            value = self.expr(re.sub(r",\s*$", "", value_text.strip()), latex=True).value
            if re.fullmatch(r"(\\text\s*\{\s*)?(otherwise|else|elsewhere)\s*\}?", cond_text):
                rest = value
                continue
            m = re.fullmatch(r"(.+?)\s*(>|<|\\gt|\\lt|\\geq?|\\leq?|\\geqslant|\\leqslant)\s*0",
                             cond_text, re.S)
            if not m:
                return None
            try:
                u = self.expr(m.group(1), latex=True).value
            except Unreadable:
                return None
            if not (isinstance(u, MatrixExpr) and u.shape[1] == 1 and u.shape != (1, 1)):
                return None
            positive = m.group(2) in {">", r"\gt", r"\ge", r"\geq", r"\geqslant"}
            pieces.append((value, ActivationPrime("relu", u if positive else -u)))
        if not pieces:
            return None
        shape = pieces[0][1].shape
        total = None
        covered = None
        for value, indicator in pieces:
            term = ops.hadamard(value, indicator)
            total = term if total is None else ops.add(total, term)
            covered = indicator if covered is None else ops.add(covered, indicator)
        if rest is not None:
            others = ops.add(sp.OneMatrix(*shape), -covered)
            total = ops.add(total, ops.hadamard(rest, others))
        return Read(total, total)

    # -- conditions and sets --------------------------------------------------------------

    def condition(self, text: str) -> Read:
        return read_condition(text, self.expr)

    def equation(self, text: str) -> Read:
        parts = split_top(normalise(text) if _looks_latex(text) else text.strip(),
                          tuple(op for op, _ in RELATIONS))
        if len(parts) != 2 or parts[1][1] not in {"=", "=="}:
            raise Unreadable("expected an equation: left side = right side")
        # q^* = \mu: the star marks the optimal q, the same quantity
        left = re.sub(r"\^\s*(?:\{\s*(?:\*|\\ast|\\star)\s*\}|\*(?!\*)|\\ast|\\star)", "", parts[0][0])
        lhs, rhs = self.expr(left), self.expr(parts[1][0])
        return Read(sp.Eq(lhs.value, rhs.value, evaluate=False),
                    sp.Eq(lhs.display, rhs.display, evaluate=False))

    def set(self, text: str, var: sp.Symbol | None) -> Read:
        """A set of values of ``var``: an interval, a union, a condition, or the empty set."""
        body = normalise(text) if _looks_latex(text) else text.strip()
        if body.lower() in EMPTY or body.replace(" ", "") in EMPTY:
            return Read(sp.EmptySet, sp.EmptySet)
        m = re.match(r"^(\\?[A-Za-z]+(_\{?\w+\}?)?)\s*(\\in(?![A-Za-z])|∈|\bin\b)\s*(.*)$",
                     body, re.S)
        if m:
            body = m.group(4)
        pieces = split_top(body, OR_WORDS)
        if len(pieces) > 1:
            sets = [self.set(p, var).value for p, _ in pieces]
            return Read(sp.Union(*sets), sp.Union(*sets))
        if re.fullmatch(r"\\mathbb\s*\{?R\}?|ℝ|R|reals", body):
            return Read(sp.S.Reals, sp.S.Reals)
        interval = self._interval(body)
        if interval is not None:
            return Read(interval, interval)
        cond = self.condition(body).value
        symbols = cond.free_symbols
        if var is None or var not in symbols:
            if len(symbols) != 1:
                raise Unreadable("a condition must be on one variable"
                                 + (f" ({sp.sstr(var)})" if var is not None else ""))
            var = next(iter(symbols))
        try:
            result = cond.as_set() if cond.free_symbols == {var} else \
                sp.solveset(cond, var, sp.S.Reals)
        except (NotImplementedError, TypeError, ValueError):
            raise Unreadable("cannot solve the condition for " + sp.sstr(var)) from None
        return Read(result, cond)

    def _interval(self, body: str) -> sp.Set | None:
        m = re.fullmatch(r"\s*([(\[]|\\left\s*[(\[]|\]|\\lbrack)(.*)([)\]]|\[)\s*", body, re.S)
        if not m:
            return None
        inside = split_top(m.group(2), (",",))
        if len(inside) != 2:
            return None
        lo, hi = self.expr(inside[0][0]).value, self.expr(inside[1][0]).value
        if not (lo.is_number and hi.is_number) and not (lo.free_symbols or hi.free_symbols):
            return None
        left_open = m.group(1).strip().endswith("(") or m.group(1) == "]"
        right_open = m.group(3) in {")", "["}
        try:
            return sp.Interval(lo, hi, left_open, right_open)
        except (TypeError, ValueError):
            raise Unreadable("the interval's ends must be numbers") from None

    # -- matrices, lists, shapes ----------------------------------------------------------

    def matrix(self, text: str) -> tuple[sp.Matrix, sp.Matrix, list[list[int]]]:
        """A matrix: (value, display, decimals per entry).

        ``\\begin{pmatrix}…``, ``\\left(\\begin{array}{c}…\\end{array}\\right)``, ``(0.6, 1.1)^T``
        (a column, transposed), ``[[0, 1.3]]``, ``[0 \\quad 1.3]`` and ``[0 1.3]`` (a row: numbers
        side by side in a bracket are entries, not a product), ``[0; 1.3]`` (rows).
        """
        latex = _looks_latex(text)
        body = normalise(text) if latex else re.sub(r"[.;,]\s*$", "", text.strip())
        m = _WRAPPED_ENV.fullmatch(body)
        if m:  # \left( \begin{array}{c} … \end{array} \right)
            body = m.group(1) + (m.group(2) or "")
        m = MATRIX_ENV.match(body)
        if m:
            rows = [[self.expr(c, latex=True) for c in row.split("&")]
                    for row in _rows(m.group(3))]
            return _as_matrix(rows, transpose=bool(m.group(4)))
        m = _BRACKETED.fullmatch(body)
        if m:
            inner, transpose = m.group(1), bool(m.group(2))
            items = [p for p, _ in split_top(inner, (",",))]
            nested = not latex and all(i.strip().startswith("[") and i.strip().endswith("]")
                                       for i in items)
            if len(items) > 1 or nested:
                if nested:
                    rows = [[self.expr(c) for c, _ in split_top(i.strip()[1:-1], (",",))]
                            for i in items]
                    return _as_matrix(rows, transpose=transpose)
                # a tuple is a column vector, with or without the ᵀ that says so: (1, 2, 3)ᵀ
                return _as_matrix([[self.expr(i, latex=latex)] for i in items], transpose=False)
            lines = [p for p, _ in split_top(inner, (";",))]
            tokens = [line.split() for line in lines]
            if (len(lines) > 1 or len(tokens[0]) > 1) and \
                    all(t and all(_ENTRY.fullmatch(x) for x in t) for t in tokens):
                rows = [[self.expr(x, latex=latex) for x in t] for t in tokens]
                return _as_matrix(rows, transpose=transpose)
        single = self.expr(body, latex=latex)
        if isinstance(single.value, sp.MatrixBase):
            return single.value, single.display, [[single.decimals] * single.value.cols
                                                  for _ in range(single.value.rows)]
        return _as_matrix([[single]], transpose=False)

    def sequence(self, text: str) -> list[Read]:
        body = normalise(text) if _looks_latex(text) else text.strip()
        for opener, closer in (("[", "]"), ("(", ")"), (r"\{", r"\}"), (r"\langle", r"\rangle")):
            if body.startswith(opener) and body.endswith(closer):
                inner = body[len(opener): len(body) - len(closer)]
                if len(split_top(body, (",",))) == 1:
                    body = inner
                break
        items = [p for p, _ in split_top(body, (",",))]
        if len(items) > 1 and items[-1].strip() in {r"\ldots", "...", "…"}:
            items = items[:-1]  # "0, 50, 75, \ldots": the values given
        return [self.expr(p) for p in items]


def _refuse_matrix_powers(value) -> None:
    """``A^{Tx}``, ``A^{y}``: a matrix to a power that is not a whole number means nothing here
    (and costs seconds to evaluate at a concrete size); it is a misread transpose or a typo."""
    from sympy.matrices.expressions import MatPow

    if not isinstance(value, sp.Basic):
        return
    for power in value.atoms(MatPow):
        if not (power.exp.is_Integer):
            raise Unreadable(f"a matrix to the power {sp.sstr(power.exp)}: a matrix power must be a "
                             "whole number (for a transpose write A^T)")


def _rows(body: str) -> list[str]:
    rows = [r for r in re.split(r"\\\\(?:\[[^\]]*\])?", body) if r.strip()]
    rows = [re.sub(r"\\hline", "", r) for r in rows]
    return [r for r in rows if r.strip()]


def _as_matrix(rows: list[list[Read]], transpose: bool):
    if not rows or len({len(r) for r in rows}) != 1:
        raise Unreadable("the matrix rows have different lengths")
    for row in rows:
        for cell in row:
            if isinstance(cell.value, sp.MatrixBase) or not isinstance(cell.value, sp.Expr):
                raise Unreadable("a matrix entry must be a number or an expression")
    value = sp.Matrix([[c.value for c in r] for r in rows])
    display = sp.Matrix([[c.display for c in r] for r in rows])
    decimals = [[c.decimals for c in r] for r in rows]
    if transpose:
        value, display = value.T, display.T
        decimals = [list(col) for col in zip(*decimals)]
    return value, display, decimals


_DECIMAL_LITERAL = re.compile(r"(?<![\w.])\d*\.\d+")


def _decimals(text: str) -> int:
    return len(_DECIMAL_LITERAL.findall(text))


def read_shape(text: str) -> tuple[str, ...]:
    """``n x 1``, ``n \\times 1``, ``(n, 1)``, ``\\mathbb{R}^{n\\times 1}`` → ("n", "1")."""
    body = normalise(text) if _looks_latex(text) else text.strip()
    m = re.fullmatch(r"\\mathbb\s*\{?R\}?\s*\^\s*\{(.*)\}", body) or \
        re.fullmatch(r"ℝ\s*\^\s*\{?(.*?)\}?", body)
    if m:
        body = m.group(1)
    body = body.strip().strip("()[]")
    parts = re.split(r"\\times|×|\*|,|\bby\b|(?<=[\w}])\s*x\s*(?=[\w\\{])", body)
    parts = [re.sub(r"[{}\\\s]|mathrm|text", "", p) for p in parts]
    if len(parts) < 1 or not all(re.fullmatch(r"[A-Za-z0-9_+\-]+", p) for p in parts):
        raise Unreadable("expected a shape such as n x 1")
    return tuple(parts)


def describe(value: Any, printer=None) -> str:
    """Plain text for an answer value (JSON and the console); ``printer`` (a StrPrinter) prints
    the expressions (feedback uses report.StatementPrinter: the statement's names, Aᵀx)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(v, printer) for v in value) + "]"
    if isinstance(value, sp.MatrixBase):
        return describe(value.tolist(), printer)
    if isinstance(value, str):
        return value
    if isinstance(value, sp.Interval):
        return (("[" if not value.left_open else "(") + sp.sstr(value.start) + ", "
                + sp.sstr(value.end) + ("]" if not value.right_open else ")"))
    if isinstance(value, sp.Union):
        return " ∪ ".join(describe(a, printer) for a in value.args)
    if value == sp.EmptySet:
        return "∅"
    if isinstance(value, sp.Equality):  # F(q) = tau, never Eq(F(q), tau)
        return describe(value.lhs, printer) + " = " + describe(value.rhs, printer)
    if isinstance(value, sp.Piecewise):  # a if x < 0; 1 if x > 0
        return "; ".join(describe(v, printer) + ("" if c == sp.true else " if " + describe(c, printer))
                         for v, c in value.args)
    text = (printer or _AnswerPrinter()).doprint(value)
    text = re.sub(r"(?<![\w.])oo(?![\w(])", "∞", text)
    text = text.replace("**", "^")
    text = re.sub(r"\b([A-Za-z])(hat|bar)\b", lambda m: unicodedata.normalize(
        "NFC", m.group(1) + ("\u0302" if m.group(2) == "hat" else "\u0304")), text)
    return re.sub(r"\b(" + "|".join(_GREEK_LETTERS) + r")\b(?!\()",
                  lambda m: _GREEK_LETTERS[m.group(1)], text)


def _answer_printer_class():
    from ..export import PlainPrinter  # prints a 1 × 1 trace wᵀx as (w.T*x)

    class AnswerPrinter(PlainPrinter):
        """Plain text as a student writes it: an entrywise power of a vector as a power or a
        quotient (``1/(exp(-W1*x - b1) + 1)``), not ``HadamardPower(…)``."""

        def _print_HadamardPower(self, expr):
            base, exp = self._print(expr.base), expr.exp
            if exp == -1:
                return f"1/({base})"
            return f"({base})^{self._print(exp)}"

        def _print_HadamardProduct(self, expr):
            # the problem-file syntax the reader takes, not SymPy's class name
            return "hadamard(" + ", ".join(self._print(a) for a in expr.args) + ")"

        def _print_OneMatrix(self, expr):
            # StrPrinter writes 𝟏 as "1", so 𝟏ᵀeˣ read 1*exp(x): ones(n), ones(n).T, ones(m, n)
            rows, cols = (self._print(d) for d in expr.shape)
            if expr.shape[1] == 1:
                return f"ones({rows})"
            if expr.shape[0] == 1:
                return f"ones({cols}).T"
            return f"ones({rows}, {cols})"

    return AnswerPrinter


def _AnswerPrinter():
    return _answer_printer_class()()


_GREEK_LETTERS = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
                  "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "rho": "ρ", "tau": "τ",
                  "omega": "ω"}
