"""Decimals an instructor writes in a function, shown as written: 1.702x, not 851x/500.

A problem file's decimals are read as exact rationals (``parse.py``: 1.702 is 851/500), and
every check computes with them. Only the display keeps the instructor's decimals, in two ways:

* a derivation done for display from the expression read with each decimal as a
  :class:`Written` symbol (:func:`literal`, ``parse.Namespace.number``), which prints as its
  text: factoring keeps 1.702x + 1 instead of clearing the denominator into 851x + 500, and
  x/0.3 stays x/0.3; :func:`exact` puts the exact values back, and whatever is displayed is
  checked in that form;
* :func:`shown_as_decimals`: the exact rationals the key's printer writes as decimals while a
  function with written decimals is rendered (``render.WRITTEN``): the written numbers, the
  products of two of them and 2, 3 or 4 times them (0.1x² gives 0.2x).

A number is shown as a decimal only when its decimal expansion terminates and the text, read
back, is the exact value (:func:`decimal_text`), so a display never rounds.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import Iterable

import sympy as sp

MAX_PLACES = 8       # a combined number with more decimals than this keeps its factors
MULTIPLES = range(2, 5)   # d/dx of 0.1x², 0.3x³, 0.25x⁴: 0.2x, 0.9x², x³


class Written(sp.Symbol):
    """A positive number as the problem file writes it (``1.702``), standing for its exact
    value in an expression that is only displayed; :func:`exact` substitutes the value."""

    def __new__(cls, text, **assumptions):
        return super().__new__(cls, text, positive=True)

    @classmethod
    def class_key(cls):
        # after the numbers, before every symbol: 1.702x, never x 1.702
        return 1, 1, cls.__name__

    @property
    def value(self) -> sp.Rational:
        return sp.Rational(self.name)

    def _latex(self, printer) -> str:
        return self.name

    def _sympystr(self, printer) -> str:
        return self.name

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm
        return prettyForm(self.name)


def decimal_places(value: sp.Rational) -> int | None:
    """How many decimals the exact rational ``value`` has (3 for 851/500), None when its
    decimal expansion does not terminate (1/3)."""
    q = int(value.q)
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    return max(twos, fives) if q == 1 else None


def decimal_text(value: sp.Basic, places: int = MAX_PLACES) -> str | None:
    """``value`` (a positive non-integer rational) as a terminating decimal of at most ``places``
    decimals, read back and found equal to ``value``; None otherwise."""
    if not isinstance(value, sp.Rational) or value.is_Integer or value <= 0:
        return None
    k = decimal_places(value)
    if k is None or k > places:
        return None
    text = format((Decimal(int(value.p)) / Decimal(int(value.q))).quantize(Decimal(1).scaleb(-k)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if sp.Rational(text) == value else None


def written_decimals(text: str) -> dict[sp.Rational, str]:
    """The decimal literals of an expression's text (already accepted by ``parse_expression``):
    exact positive value → the decimal as shown (``0.50`` and ``5e-1`` both give ``0.5``)."""
    from .errors import BadInput
    from .parse import syntax_tree

    try:
        source, tree = syntax_tree(text)
    except BadInput:
        return {}
    found: dict[sp.Rational, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            literal = (ast.get_source_segment(source, node) or repr(node.value)).replace("_", "")
            try:
                value = abs(sp.Rational(literal))
            except (TypeError, ValueError):
                continue
            shown = decimal_text(value, places=60)
            if shown is not None:
                found[value] = shown
    return found


# the fields of a kind that hold expressions in the file's syntax (kind derivative shows each
# function's own decimals, function by function: FunctionResult.written)
EXPRESSION_FIELDS = {"gd_analysis": ("loss",), "graph": ("nodes",), "matrix_gradient": ("f", "where", "given")}


def problem_decimals(problem) -> dict[sp.Rational, str]:
    """The decimals written in a problem's expressions (``EXPRESSION_FIELDS`` of its kind)."""
    found: dict[sp.Rational, str] = {}

    def walk(value) -> None:
        if isinstance(value, str):
            found.update(written_decimals(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    fields = getattr(problem, "fields", {}) or {}
    for name in EXPRESSION_FIELDS.get(getattr(problem, "kind", ""), ()):
        walk(fields.get(name))
    return found


def literal(text: str):
    """A decimal literal of an expression as a :class:`Written` (``parse.Namespace.number``),
    or None (the parser's exact rational) for an integer or a number too long to show."""
    try:
        value = sp.Rational(text)
    except (TypeError, ValueError):
        return None
    shown = decimal_text(value, places=60)
    return Written(shown) if shown is not None else None


def shown_as_decimals(written: Iterable[sp.Rational]) -> frozenset:
    """The exact numbers printed as decimals beside ``written``: each one, the products of two,
    and 2, 3 or 4 times each (a power rule's factor) (terminating, at most MAX_PLACES decimals)."""
    base = sorted(set(written))
    out = set(base)
    for i, a in enumerate(base):
        out.update(a * b for b in base[i:])
        out.update(k * a for k in MULTIPLES)
    return frozenset(v for v in out if decimal_text(v) is not None)


def exact(expr):
    """The exact expression behind a display: every :class:`Written` replaced by its value."""
    if not isinstance(expr, sp.Basic):
        return expr
    table = {w: w.value for w in expr.atoms(Written)}
    return expr.xreplace(table) if table else expr


def _numeric(e: sp.Basic) -> bool:
    return e.is_Number or isinstance(e, Written) or (
        e.is_Pow and isinstance(e.base, Written) and e.exp.is_Integer)


def as_written(expr):
    """Numbers of a display combined where the result is still a decimal as written:
    2 · 1.702 → 3.404, 1.702 · 0.5 → 0.851, 1.5 − 1 → 0.5 (an exponent), 1.702² → 2.896804;
    anything else (1/1.702) is kept as it is. The value never changes."""
    if not isinstance(expr, sp.Basic) or not expr.args or not expr.has(Written):
        return expr
    args = tuple(as_written(a) for a in expr.args)
    if expr.is_Mul or expr.is_Add:
        nums = [a for a in args if _numeric(a)]
        rest = [a for a in args if not _numeric(a)]
        trivial = (sp.S.One, sp.S.NegativeOne) if expr.is_Mul else (sp.S.Zero,)
        worth = [a for a in nums if a not in trivial]
        if len(worth) > 1 or (worth and worth[0].is_Pow):
            value = exact(sp.Mul(*nums) if expr.is_Mul else sp.Add(*nums))
            if value.is_Integer:
                combined = value
            else:
                text = decimal_text(abs(value))
                combined = None if text is None else (Written(text) if value > 0 else -Written(text))
            if combined is not None:
                if not rest:
                    return combined
                return _rebuild(expr, (combined, *rest))
    if expr.is_Pow and isinstance(args[0], Written) and args[1].is_Integer and args[1] > 0:
        text = decimal_text(exact(args[0] ** args[1]))
        if text is not None:
            return Written(text)
    if args == expr.args:
        return expr
    return _rebuild(expr, args)


def _rebuild(expr: sp.Basic, args) -> sp.Basic:
    """``expr``'s head over new ``args``: evaluated when ``expr`` itself is (SymPy's canonical
    form), left as it stands when it was built unevaluated on purpose (a step's product of
    fractions)."""
    if (expr.is_Mul or expr.is_Add or expr.is_Pow) and expr.func(*expr.args) != expr:
        return expr.func(*args, evaluate=False)
    return expr.func(*args)
