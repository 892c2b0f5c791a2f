"""The Jinja environment, the LaTeX printer and the filters the templates use.

Templates only format: every value they show was computed (and verified) by the engine.
Delimiters never clash with TeX: ``((* block *))``, ``((( variable )))``, ``((= comment =))``.
"""

from __future__ import annotations

import contextlib
import re
import contextvars
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import jinja2
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from . import memo
from .texsafe import escape, unicode_declarations
from .written import Written, decimal_text, problem_decimals, shown_as_decimals, written_decimals

LONG_DENOMINATOR = 10 ** 9
# the question's indicator head while one problem set is solved or rendered ("" → 1[u > 0])
INDICATOR: contextvars.ContextVar[str] = contextvars.ContextVar("indicator", default="")
SIGNIFICANT = 10
# the exact numbers printed as decimals while a function with decimals written in the problem
# file is rendered (written.shown_as_decimals): 851/500 is shown as the 1.702 the file wrote
WRITTEN: contextvars.ContextVar[frozenset] = contextvars.ContextVar("written", default=frozenset())


def template_dir() -> Path:
    """The templates: beside the package in a checkout, inside it in a wheel."""
    inside = Path(__file__).resolve().parent / "templates"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parent.parent / "templates"


def _is_number_product(expr: sp.Basic) -> bool:
    """A 1 × 1 matrix expression used as a number (wᵀx), stored as its trace."""
    return isinstance(expr, sp.Trace) and getattr(expr.arg, "shape", None) == (1, 1)


def _is_written(factor: sp.Basic) -> bool:
    """A decimal as the problem file wrote it (written.Written), or a power of one."""
    base = factor.base if isinstance(factor, sp.Pow) else factor
    return isinstance(base, Written)


def _is_stand_in(factor: sp.Basic) -> bool:
    base = factor.base if isinstance(factor, sp.Pow) else factor
    return isinstance(base, AppliedUndef)


_BUILTIN_CALL = re.compile(r"^(\\[A-Za-z]+|\\operatorname\{[A-Za-z]+\})(\^\{[^{}]*\})?"
                           r"\{\\left\((.*?) ?\\right\)\}(\^\{[^{}]*\})?$")


def _tall(inner: str) -> bool:
    """An argument that needs \\left( \\right): fractions, sums, integrals, arrays."""
    return any(t in inner for t in (r"\frac", r"\sum", r"\left", r"\begin", r"\int"))


def _plain_call(text: str) -> str:
    """``\\tanh{\\left(z \\right)}`` → ``\\tanh(z)`` when the argument is not tall: SymPy's
    ``\\left( \\right)`` around a plain argument leaves a gap a teacher does not write."""
    match = _BUILTIN_CALL.match(text)
    if not match:
        return text
    head, power, inner = match.group(1), match.group(2) or "", match.group(3)
    if _tall(inner):
        return text
    depth = 0
    for ch in inner:  # the argument must be one balanced group, not "a \right) … \left( b"
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return text
    return f"{head}{power}({inner}){match.group(4) or ''}" if depth == 0 else text


def _negative(term) -> bool:
    """A term printed with a minus sign: −y, or −log(𝟏ᵀ exp(o)) 𝟏 (a product with a negative number)."""
    if isinstance(term, sp.MatMul):
        scalars = [a for a in term.args if not getattr(a, "is_Matrix", False)]
        return sp.Mul(*scalars).could_extract_minus_sign()
    return term.could_extract_minus_sign()


def _dot_before_indicator(text: str) -> str:
    """2 · 𝟏[u > 0], not 2 𝟏[u > 0], which reads as 21[u > 0]."""
    return re.sub(r"(\d) \\mathbf\{1\}\[", r"\1 \\cdot \\mathbf{1}[", text)


class KeyPrinter(LatexPrinter):
    """SymPy's LaTeX printer with a teacher's habits.

    - the function itself first in a product: σ(x)(1 − σ(x)), not (1 − σ(x))σ(x);
    - positive terms first in a sum: 1 − σ(x), δᵢⱼ − sⱼ;
    - ``sᵢ`` for a component of a vector function, ``σ(x)`` without extra braces;
    - cases with "if"/"otherwise", intervals as a < x < b;
    - a fraction with a huge denominator (SELU's constants) as a decimal with an ellipsis.
    """

    def _as_written(self, number) -> str | None:
        """A rational the problem file wrote as a decimal (or a product of such), as that
        decimal: exact, never rounded (written.decimal_text reads it back)."""
        if not number.is_Rational or number.is_Integer or abs(number) not in WRITTEN.get():
            return None
        text = decimal_text(abs(number))
        return None if text is None else ("-" if number < 0 else "") + text

    def _print_Rational(self, expr):
        written = self._as_written(expr)
        if written is not None:
            return written
        if expr.q > LONG_DENOMINATOR:
            text = sp.Float(expr, SIGNIFICANT + 2)
            digits = f"{float(text):.{SIGNIFICANT}g}"
            return digits + r"\ldots"
        return super()._print_Rational(expr)

    def _print_Mul(self, expr):
        if WRITTEN.get() and expr.is_commutative:
            coeff, rest = expr.as_coeff_Mul()
            written = self._as_written(coeff) if rest != 1 else None
            if written is not None:   # 1.702 x e^{−1.702x}, not \frac{851 x e^{…}}{500}
                sign, written = ("- ", written[1:]) if written.startswith("-") else ("", written)
                num, den = sp.fraction(rest, exact=True)
                if den != 1:
                    top = written if num == 1 else written + " " + self.parenthesize(num, PRECEDENCE["Mul"])
                    return sign + r"\frac{" + top + "}{" + self._print(den) + "}"
                body = self._print(rest) if _is_number_product(rest) else \
                    self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
                return sign + written + (r" \cdot " if body[:1].isdigit() else " ") + body
        factors = expr.args
        # a non-commutative product (W f(Wx + b)) keeps its order: moving f first is wrong
        if expr.is_commutative and any(_is_stand_in(f) for f in factors) and not any(
                f.is_Pow and f.exp.is_negative for f in factors) and not any(
                f.is_Rational and not f.is_Integer for f in factors):
            # a decimal as written (1.702) is a number here too: 1.702 σ(x), not σ(x) 1.702
            coeff = [f for f in factors if f.is_Number or _is_written(f)]
            rest = [f for f in factors if not (f.is_Number or _is_written(f))]
            first = sorted(rest, key=lambda f: not _is_stand_in(f))
            sign = ""
            parts = []
            for c in coeff:
                if c == -1:
                    sign = "-"
                elif c.is_negative:
                    sign = "-"
                    parts.append(self._print(-c))
                elif c != 1:
                    parts.append((r"\cdot " if parts else "") + self._print(c))
            for f in first:
                parts.append(self.parenthesize(f, PRECEDENCE["Mul"], strict=False))
            return _dot_before_indicator(sign + " ".join(parts))
        return _dot_before_indicator(super()._print_Mul(expr))

    def _print_Add(self, expr, order=None):
        shown = WRITTEN.get()
        if shown:
            coeffs = {abs(t.as_coeff_Mul()[0]) for t in expr.args}
            coeffs = {c for c in coeffs if c.is_Rational and not c.is_Integer}
            if coeffs & shown and coeffs - shown:
                # 0.01√41 + 71/100 mixes a written number with one that is not: fractions
                token = WRITTEN.set(frozenset())
                try:
                    return self._print_Add(expr, order)
                finally:
                    WRITTEN.reset(token)
        terms = list(self._as_ordered_terms(expr, order=order))
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        negative = [t for t in terms if t.could_extract_minus_sign()]
        terms = positive + negative
        if isinstance(expr, sp.MatAdd):  # XᵀX + λI: a multiple of the identity last, as taught
            terms = sorted(terms, key=lambda t: t.has(sp.Identity))
        out = ""
        for i, term in enumerate(terms):
            if i == 0:
                text = self._print(term)
            elif term.could_extract_minus_sign():
                out += " - "
                text = self._print(-term)
            else:
                out += " + "
                text = self._print(term)
            if term.is_Add:
                text = r"\left(" + text + r"\right)"
            out += text
        return out

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef):
            name = expr.func.__name__
            args = expr.args
            inner = ", ".join(self._print(a) for a in args)
            # plain parentheses unless the argument is tall: \sigma\left(x\right) leaves a gap
            call = (r"\mathopen{}\left(" + inner + r"\right)\mathclose{}") if _tall(inner) else f"({inner})"
            if all(a.is_Symbol and a.is_integer for a in args):
                text = f"{name}_{{{','.join(self._print(a) for a in args)}}}"
            else:
                text = f"{name}{call}"
            if exp is not None:
                if "_" in text and "(" not in text:
                    return f"{text}^{{{exp}}}"
                return f"{name}^{{{exp}}}{call}"
            return text
        return _plain_call(super()._print_Function(expr, exp))

    # the names a teacher writes: arctan, arsinh (ISO 80000-2), sgn
    _NAMED_FUNCTIONS = {"atan": r"\arctan", "asin": r"\arcsin", "acos": r"\arccos",
                        "asinh": r"\operatorname{arsinh}", "acosh": r"\operatorname{arcosh}",
                        "atanh": r"\operatorname{artanh}", "sign": r"\operatorname{sgn}"}

    def _print_named(self, expr, exp=None):
        head = self._NAMED_FUNCTIONS[type(expr).__name__]
        inner = self._print(expr.args[0])
        call = (r"\left(" + inner + r"\right)") if _tall(inner) else f"({inner})"
        return f"{head}^{{{exp}}}{call}" if exp is not None else f"{head}{call}"

    _print_atan = _print_asin = _print_acos = _print_named
    _print_asinh = _print_acosh = _print_atanh = _print_sign = _print_named

    def _print_log(self, expr, exp=None):
        return _plain_call(super()._print_log(expr, exp))

    def _print_Derivative(self, expr):
        if len(expr.variables) == 1:
            (var,) = expr.variables
            inner = self.parenthesize(expr.expr, PRECEDENCE["Mul"], strict=True)
            if expr.expr.could_extract_minus_sign() and not inner.startswith(r"\left("):
                inner = r"\left(" + inner + r"\right)"   # d/dx (−u), not d/dx − u
            return rf"\frac{{d}}{{d{self._print(var)}}} {inner}"
        return super()._print_Derivative(expr)

    def _print_Trace(self, expr):
        # a 1 x 1 product used as a number: tr(wᵀx) is wᵀx, bracketed only where a product
        # or a power needs it (see parenthesize and _needs_mul_brackets)
        if _is_number_product(expr):
            return self._print(expr.arg)
        return r"\operatorname{tr}\left(" + self._print(expr.arg) + r"\right)"

    def parenthesize(self, item, level, is_neg=False, strict=False):
        if getattr(item, "is_Rational", False) and item > 0 and self._as_written(item) is not None:
            return self._as_written(item)   # 0.5 AᵀAx, not (0.5) AᵀAx: a decimal is one symbol
        if isinstance(item, (sp.HadamardProduct, sp.HadamardPower)) and level >= PRECEDENCE["Mul"]:
            text = self._print(item)
            if isinstance(item, sp.HadamardProduct) or item.exp == -1:
                return r"\left(" + text + r"\right)"
            return text
        if _is_number_product(item) and not isinstance(item.arg, sp.MatrixSymbol):
            text = self._print(item)
            return r"\left(" + text + r"\right)" if level >= PRECEDENCE["Mul"] else text
        return super().parenthesize(item, level, is_neg=is_neg, strict=strict)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        if _is_number_product(expr) and not isinstance(expr.arg, sp.MatrixSymbol):
            return not (first and last)
        return super()._needs_mul_brackets(expr, first=first, last=last)

    def _print_Identity(self, expr):
        # the identity matrix as a teacher writes it (XᵀX + λI); \mathbb{I} is the indicator here
        return "I"

    def _print_MatAdd(self, expr):
        # as a sum: positive terms first, ones before the rest (𝟏 + exp(u), s − y); sums without
        # ones or products with a negative function (−log(𝟏ᵀ exp(o)) 𝟏) print as before
        if not any(isinstance(t, sp.OneMatrix) or _negative(t) != t.could_extract_minus_sign() for t in expr.args):
            return self._print_Add(expr)
        terms = sorted(self._as_ordered_terms(expr), key=lambda t: (_negative(t), not isinstance(t, sp.OneMatrix)))
        out = ""
        for i, term in enumerate(terms):
            negative = _negative(term)
            text = self._print(-term if negative and i else term)
            if i:
                out += " - " if negative else " + "
            out += text
        return out

    def _print_MatMul(self, expr):
        if any(isinstance(a, sp.OneMatrix) and 1 not in a.shape for a in expr.args):
            # a square matrix of ones inside a product is 𝟏𝟏ᵀ: (Y ⊙ S)𝟏𝟏ᵀ repeats each row sum
            args = []
            for a in expr.args:
                if isinstance(a, sp.OneMatrix) and 1 not in a.shape:
                    args += [sp.OneMatrix(a.shape[0], 1), sp.OneMatrix(1, a.shape[1])]
                else:
                    args.append(a)
            return self._print_MatMul(sp.MatMul(*args, evaluate=False))
        if not any(isinstance(a, (sp.HadamardProduct, sp.HadamardPower)) for a in expr.args):
            return super()._print_MatMul(expr)
        # an entrywise product inside a matrix product is always bracketed: Xᵀ(y ⊙ σ(u))
        args = list(expr.args)
        sign = ""
        if expr.could_extract_minus_sign():
            sign = "- "
            args = args[1:] if args[0] == -1 else [-args[0]] + args[1:]
        if len(args) == 1:
            return sign + self._print(args[0])
        return sign + " ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False)
                               if getattr(a, "is_Matrix", False) else self._print(a) for a in args)

    def _print_HadamardProduct(self, expr):
        # the entrywise product u ⊙ v, and u ⊘ v for a factor v^{∘−1}; vectors before functions
        # of them, products bracketed: y ⊙ (Xw); numbers in front: −y ⊙ (Xw) for (−y) ⊙ (Xw)
        coeff, args = sp.S.One, []
        for a in expr.args:
            if isinstance(a, sp.MatMul) and not getattr(a.args[0], "is_Matrix", True) and a.args[0].is_number:
                coeff *= a.args[0]
                rest = a.args[1:]
                args.append(rest[0] if len(rest) == 1 else sp.MatMul(*rest))
            else:
                args.append(a)
        if coeff != 1:
            inner = self._print_HadamardProduct(sp.HadamardProduct(*args))
            if coeff == -1:
                return "- " + inner
            return self.parenthesize(coeff, PRECEDENCE["Mul"]) + " " + inner
        factors = sorted(args, key=lambda a: (not isinstance(a, sp.MatrixSymbol), isinstance(a, sp.MatAdd)))
        over = [a.base for a in factors if isinstance(a, sp.HadamardPower) and a.exp == -1]
        top = [a for a in factors if not (isinstance(a, sp.HadamardPower) and a.exp == -1)]
        text = r" \odot ".join(self._entrywise_factor(a) for a in top) if top else r"\mathbf{1}"
        if over:
            if len(top) > 1:
                text = r"\left(" + text + r"\right)"
            text += "".join(r" \oslash " + self._entrywise_factor(b) for b in over)
        return text

    def _entrywise_factor(self, a):
        text = self._print(a)
        if isinstance(a, (sp.MatAdd, sp.MatMul, sp.HadamardProduct)) or (
                isinstance(a, sp.HadamardPower) and a.exp == -1):
            return r"\left(" + text + r"\right)"
        return text

    def _print_HadamardPower(self, expr):
        if expr.exp == -1:
            return r"\mathbf{1} \oslash " + self._entrywise_factor(expr.base)
        base = self._print(expr.base)
        if not isinstance(expr.base, sp.MatrixSymbol) and not base.endswith(r"\mathclose{}"):
            base = r"\left(" + base + r"\right)"
        return base + r"^{\circ " + self._print(expr.exp) + "}"

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if rows == 1 and cols == 1:
            return "1"
        return r"\mathbf{1}^{\top}" if rows == 1 else r"\mathbf{1}"

    def _print_DiagMatrix(self, expr):
        return r"\operatorname{diag}\mathopen{}\left(" + self._print(expr.args[0]) + r"\right)\mathclose{}"

    def _print_Transpose(self, expr):
        text = super()._print_Transpose(expr)
        return text[:-len("^{T}")] + r"^{\top}" if text.endswith("^{T}") else text

    def _print_Heaviside(self, expr, exp=None):
        # the indicator 1[u > 0]: 1 where u > 0, 0 elsewhere; an indicator's power is itself.
        # A problem file may name it as its question does ([meta] indicator = "I": I(u > 0)).
        head = INDICATOR.get()
        if head:
            return head + "(" + self._print(expr.args[0]) + " > 0)"
        return r"\mathbf{1}[" + self._print(expr.args[0]) + r" > 0]"

    def _print_KroneckerDelta(self, expr, exp=None):
        i, j = expr.args
        text = rf"\delta_{{{self._print(i)}{self._print(j)}}}"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Piecewise(self, expr):
        rows = []
        for e, c in expr.args:
            cond = r"\text{otherwise}" if c == sp.true else r"\text{if } " + self._print(c)
            rows.append(f"{self._print(e)} & {cond}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def _print_And(self, expr):
        rels = list(expr.args)
        if len(rels) == 2 and all(isinstance(r, sp.core.relational.Relational) for r in rels):
            lower = [r for r in rels if isinstance(r, (sp.StrictGreaterThan, sp.GreaterThan))]
            upper = [r for r in rels if isinstance(r, (sp.StrictLessThan, sp.LessThan))]
            if len(lower) == 1 and len(upper) == 1 and lower[0].lhs == upper[0].lhs:
                lo, hi = lower[0], upper[0]
                lop = "<" if isinstance(lo, sp.StrictGreaterThan) else r"\le"
                hop = "<" if isinstance(hi, sp.StrictLessThan) else r"\le"
                return f"{self._print(lo.rhs)} {lop} {self._print(lo.lhs)} {hop} {self._print(hi.rhs)}"
        return super()._print_And(expr)


class DecimalPrinter(KeyPrinter):
    """Numbers as decimals, the way a numeric table shows them: exact when the decimal is
    short (1.33), else to six significant digits (0.731059)."""

    def _print_Rational(self, expr):
        if expr.is_Integer:
            return str(expr)
        d = Decimal(int(expr.p)) / Decimal(int(expr.q))
        if d == d.quantize(Decimal(1).scaleb(-8)) and expr.q < 10 ** 8:
            return _plain(d)
        return self._print_Float(expr)

    def _print_Float(self, expr):
        text = f"{float(expr):.6g}"
        if "e" in text:  # 1.5e+30 as a teacher writes it: 1.5 \times 10^{30}
            mantissa, power = text.split("e")
            return rf"{mantissa} \times 10^{{{int(power)}}}"
        return text

    def doprint(self, expr):
        if isinstance(expr, sp.Basic) and not isinstance(expr, sp.MatrixBase):
            # numbers kept unevaluated on purpose (1.33 − 0.33 in a table's numbers column) stay
            expr = expr.replace(lambda e: e.is_number and not e.is_Rational and e.is_real
                                and not e.is_Atom and not e.has(sp.UnevaluatedExpr),
                                lambda e: sp.Float(sp.N(e, 15), 15))
        return super().doprint(expr)


_PRINTER = KeyPrinter({"mul_symbol": None})
_NAMED: dict = {}
_DECIMAL = DecimalPrinter({"mul_symbol": None})


def dec(value: Any) -> str:
    """A value from a numeric table: decimals, matrices entry by entry."""
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            return dec(value[0, 0])
        rows = [" & ".join(dec(v) for v in value.row(i)) for i in range(value.rows)]
        return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
    if isinstance(value, sp.Basic):
        return _DECIMAL.doprint(value)
    return tex(value)


def printer(names: Any = None) -> KeyPrinter:
    """The key's printer; ``names`` maps symbols to the question's LaTeX names (x → \\mathbf{x})."""
    if not names:
        return _PRINTER
    table = dict(names)
    key = tuple(sorted(table.items(), key=lambda kv: sp.default_sort_key(kv[0])))
    if key not in _NAMED:
        if len(_NAMED) > 256:
            _NAMED.clear()
        _NAMED[key] = KeyPrinter({"mul_symbol": None, "symbol_names": table})
    return _NAMED[key]


def tex(value: Any, names: Any = None) -> str:
    """A SymPy object (or number) as LaTeX math, the way a teacher writes it; ``names`` renames
    symbols to the question's notation."""
    if isinstance(value, (sp.Basic, sp.MatrixBase)):
        if isinstance(value, sp.MatrixBase):
            return matrix(value, names=names)
        return printer(names).doprint(value)
    if isinstance(value, Decimal):
        return num(value)
    if isinstance(value, (int, float)):
        return num(value)
    return escape(str(value))


def matrix(value: Any, delim: str = "pmatrix", names: Any = None) -> str:
    rows = [" & ".join(tex(v, names) for v in value.row(i)) for i in range(value.rows)]
    return rf"\begin{{{delim}}} " + r" \\ ".join(rows) + rf" \end{{{delim}}}"


def broken(value: Any, width: int = 70, names: Any = None) -> list[str]:
    """A long product as LaTeX lines of at most about ``width`` characters, factor by factor."""
    text = tex(value, names)
    if len(text) <= width or not (isinstance(value, sp.Basic) and value.is_Mul):
        return [text]
    lines, current = [], ""
    factors = list(value.args)
    sign = ""
    for i, f in enumerate(factors):  # −y x₁ · …, never (−1) y x₁
        if f.is_Number and f.is_negative:
            sign = "- "
            factors[i] = -f
    factors = [f for f in factors if f != 1]
    for factor in sorted(factors, key=lambda f: (not f.is_Number, len(tex(f, names)))):
        piece = printer(names).parenthesize(factor, PRECEDENCE["Mul"], strict=False)
        if current and len(current) + len(piece) > width:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    lines.append(current)
    lines[0] = sign + lines[0]
    return lines


_FRAC = re.compile(r"\\frac\s*\{")


def visible_width(text: str) -> float:
    """About how many characters wide LaTeX math is when typeset: a fraction as its wider
    part, a script at 0.7, \\left and \\right as their delimiter, a binary operator with its
    spacing. A measure to decide where to break a long line, not a typesetter."""
    def group(i: int) -> tuple[str, int]:   # text[i] == "{": (its content, the index after it)
        depth, j = 0, i
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1:j], j + 1
            j += 1
        return text[i + 1:], len(text)

    width, i = 0.0, 0
    while i < len(text):
        c = text[i]
        if text.startswith(r"\frac", i):
            m = _FRAC.match(text, i)
            if m:
                top, k = group(m.end() - 1)
                k = k if k < len(text) and text[k] == "{" else text.find("{", k)
                bottom, i = group(k) if k >= 0 else ("", len(text))
                width += max(visible_width(top), visible_width(bottom)) + 0.5
                continue
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", text[i:])
            name = m.group(1)
            i += len(m.group(0))
            if name in ("left", "right", "displaystyle", "mathrm", "operatorname", "mathbf",
                        "boldsymbol", "text", "quad", "qquad", ",", ";", " ", "!"):
                width += {"quad": 2, "qquad": 4, ",": 0.3, ";": 0.5, " ": 0.5}.get(name, 0)
                continue
            width += 1 if len(name) <= 2 or name in _GREEK else 0.6 * len(name)
            continue
        if c in "^_":
            i += 1
            if i < len(text) and text[i] == "{":
                inner, i = group(i)
            else:
                inner, i = text[i:i + 1], i + 1
            width += 0.7 * visible_width(inner)
            continue
        if c in "{} ":
            i += 1
            continue
        width += 2 if c in "+-=<>" else 1
        i += 1
    return width


_GREEK = frozenset("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa "
                   "lambda mu nu xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta "
                   "Theta Lambda Xi Pi Sigma Phi Psi Omega ell partial cdot infty".split())


def split_sum(value: Any, width: float = 68, names: Any = None) -> list[str]:
    """A long sum as LaTeX lines of at most about ``width`` characters (``visible_width``),
    broken before a term's sign: the first line, then "+ term …" lines. Anything else, or a
    sum that fits, is one line."""
    text = tex(value, names)
    if visible_width(text) <= width or not (isinstance(value, sp.Basic) and value.is_Add):
        return [text]
    p = printer(names)
    terms = p._as_ordered_terms(value, order=None)
    lines, current = [], ""
    for k, term in enumerate(terms):
        if k == 0:
            piece = p._print(term)
        elif term.could_extract_minus_sign():
            piece = "- " + p.parenthesize(-term, PRECEDENCE["Add"], strict=False)
        else:
            piece = "+ " + p.parenthesize(term, PRECEDENCE["Add"], strict=False)
        if current and visible_width(current + piece) > width:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    lines.append(current)
    return lines


def widths(layers: Sequence[Any]) -> str:
    """Layer widths for running text, 3–2–1 or $n$–$D_{1}$–$K$: a named width is math (D_1 in
    text would be an underscore outside math)."""
    return "–".join(str(w) if isinstance(w, int) else "$" + sp.latex(sp.Symbol(str(w))) + "$" for w in layers)


def num(value: Any, digits: int = 6) -> str:
    """A number as a short decimal: exact values stay exact where they are short."""
    if isinstance(value, sp.Basic):
        if value.is_Rational and value.q <= 10 ** 6:
            d = Decimal(int(value.p)) / Decimal(int(value.q))
            if d == d.quantize(Decimal(1).scaleb(-digits)):
                return _plain(d)
        value = float(value)
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, int):
        return str(value)
    text = f"{value:.{digits}g}"
    return text.replace("e-0", "e-").replace("inf", r"\infty")


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def coords(points: Sequence[tuple[float, float | None]]) -> str:
    """pgfplots coordinates; None breaks the line (with ``unbounded coords=jump``)."""
    return " ".join(f"({x:g},{'nan' if y is None else format(y, 'g')})" for x, y in points)


def product(factors: Sequence[Any], names: Any = None) -> str:
    """Factors as a teacher writes a product: factors equal to 1 dropped, numbers first, only
    sums (and negative factors) bracketed: 1[x > 0] w₄ (y_p − y), never (w₄)(1)."""
    kept = [f for f in factors if not (isinstance(f, sp.Basic) and f == 1)]
    if not kept:
        return "1"
    p = printer(names)
    sign = 1
    parts = []
    for f in sorted(kept, key=lambda f: not (isinstance(f, sp.Basic) and f.is_Number)):
        f = f if isinstance(f, sp.Basic) else sp.Integer(f)
        if not f.is_Add and f.could_extract_minus_sign():
            sign = -sign
            f = -f
        if f == 1:
            continue
        text = p._print(f)
        if f.is_Add:
            text = r"\left(" + text + r"\right)"
        parts.append(text)
    body = " ".join(parts) or "1"
    return ("-" if sign < 0 else "") + body


def rules(names: Sequence[str]) -> str:
    return escape(", ".join(names))


_ENVIRONMENT: dict = memo.cache()


def environment() -> jinja2.Environment:
    """The Jinja environment, made once per process: its templates are compiled once, not at
    every document (a class's variants render the same templates hundreds of times)."""
    if "env" not in _ENVIRONMENT:
        _ENVIRONMENT["env"] = _environment()
    return _ENVIRONMENT["env"]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters.update(tex=tex, dec=dec, broken=broken, split_sum=split_sum, escape=escape, num=num, matrix=matrix, coords=coords,
                       rules=rules, product=product, widths=widths)
    env.globals.update(oo=sp.oo, unicode_declarations=unicode_declarations(),
                       decimals_as_written=decimals_as_written)
    env.tests["has_indicator"] = lambda e: isinstance(e, sp.Basic) and e.has(sp.Heaviside)
    return env


def render_document(problem_set, solutions, *, key: bool = True) -> str:
    """The whole LaTeX document for one problem file: the answer key, or (``key=False``) the
    question sheet, which ignores ``solutions`` (see ``sheet.render_sheet``)."""
    if not key:
        from .sheet import render_sheet

        return render_sheet(problem_set)
    template = environment().get_template("document.tex.j2")
    with notation(problem_set.meta):
        return template.render(meta=problem_set.meta, entries=solutions, key=True,
                               source=Path(problem_set.path).name)


@contextlib.contextmanager
def notation(meta):
    """Print in the question's notation (its indicator) while one problem set is solved or
    rendered; no decimals as written until a function that has them sets them."""
    token = INDICATOR.set(getattr(meta, "indicator", "") or "")
    written = WRITTEN.set(frozenset())
    try:
        yield
    finally:
        WRITTEN.reset(written)
        INDICATOR.reset(token)


def decimals_as_written(source=()) -> str:
    """From here on (in a template: for one function or one problem) print the decimals a
    problem file wrote, and their products, as those decimals (written.shown_as_decimals).
    ``source`` is the exact values (written.written_decimals), an expression's text or a
    problem (the expressions of its kind's fields); empty stops. Returns "" so that a template can call it in place."""
    if isinstance(source, str):
        values = written_decimals(source)
    elif hasattr(source, "fields"):   # a problem: the decimals of its expression fields
        values = problem_decimals(source)
    else:
        values = source or ()
    WRITTEN.set(shown_as_decimals(values) if values else frozenset())
    return ""


@contextlib.contextmanager
def written(values=()):
    """Print ``values`` (the decimals a problem file wrote) as decimals inside the block."""
    token = WRITTEN.set(shown_as_decimals(values) if values else frozenset())
    try:
        yield
    finally:
        WRITTEN.reset(token)
