"""Answers in Maxima syntax (the CAS under Moodle's STACK), activations written out.

SymPy has no Maxima printer: :class:`MaximaPrinter` is a small ``StrPrinter`` that writes
``^`` for powers, ``%e``/``%pi``/``inf``/``minf`` for the constants and Maxima's names
(``abs``, ``signum``, ``max``, ``min``). :func:`elementary` first writes every activation and
display head out in elementary functions (other systems do not know σ), and
:func:`maxima_form` turns a piecewise function into ``signum`` terms, which Maxima (and every
CAS) evaluates: ``Piecewise((a, x < 0), (1, True))`` is ``a·(1 − signum(x))/2 + (1 + signum(x))/2``,
equal to the key everywhere except at the points where the pieces meet (where a derivative
with a kink is not defined anyway, and where a continuous function's two pieces agree).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

# Maxima's reserved words cannot be variable names there
# and its names of constants (a variable "inf" would be read as infinity)
RESERVED = frozenset("and or not if then else elseif do for while unless thru step in from "
                     "next lambda block return true false inf minf infinity und ind zeroa "
                     "zerob".split())

_FUNCTIONS = {
    "Abs": "abs", "sign": "signum", "Max": "max", "Min": "min", "log": "log", "exp": "exp",
    "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec",
    "csc": "csc", "asin": "asin", "acos": "acos", "atan": "atan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh",
    "sech": "sech", "csch": "csch", "coth": "coth", "erf": "erf",
}


class Unsupported(ValueError):
    """A value that has no form in the target system (the reason is for the teacher)."""


def elementary(expr):
    """``expr`` with every display head (σ, Φ, ln, max{…}) and every registry activation
    applied as a function written out in elementary functions."""
    from ..library.activations import ACTIVATIONS
    from ..library.display import explicit

    if not isinstance(expr, sp.Basic):
        raise Unsupported(f"a {type(expr).__name__} answer has no form as an expression")
    expr = explicit(expr)
    for f in sorted(expr.atoms(sp.core.function.AppliedUndef), key=sp.default_sort_key,
                    reverse=True):
        entry = ACTIVATIONS.get(str(f.func))
        if entry is not None and not entry.vector and len(f.args) == 1:
            params = {p: sp.Symbol(p, real=True) for p in entry.params}
            expr = expr.xreplace({f: entry.build(f.args[0], params)})
    return expr


def indicator(condition) -> sp.Expr:
    """1 where ``condition`` holds and 0 where it does not, in ``signum`` terms (½ on the
    boundary of a strict or non-strict inequality)."""
    if condition is sp.true:
        return sp.Integer(1)
    if condition is sp.false:
        return sp.Integer(0)
    if isinstance(condition, sp.And):
        return sp.Mul(*[indicator(c) for c in condition.args])
    if isinstance(condition, sp.Or):
        return 1 - sp.Mul(*[1 - indicator(c) for c in condition.args])
    if isinstance(condition, sp.Not):
        return 1 - indicator(condition.args[0])
    if isinstance(condition, (sp.StrictLessThan, sp.LessThan)):
        return (1 - sp.sign(condition.lhs - condition.rhs)) / 2
    if isinstance(condition, (sp.StrictGreaterThan, sp.GreaterThan)):
        return (1 + sp.sign(condition.lhs - condition.rhs)) / 2
    raise Unsupported(f"a piece's condition {condition} has no form without pieces")


def without_pieces(expr):
    """Piecewise functions and Heaviside steps as ``signum`` terms (see the module's note)."""
    def piecewise(*pairs):
        total, rest = sp.Integer(0), sp.Integer(1)
        for i, (value, condition) in enumerate(pairs):
            if i == len(pairs) - 1 and _otherwise(pairs[:-1], condition):
                return total + value * rest
            here = indicator(condition)
            total += value * rest * here
            rest = rest * (1 - here)
        return total

    expr = expr.replace(sp.Heaviside, lambda t, *h0: (1 + sp.sign(t)) / 2)
    return expr.replace(lambda e: isinstance(e, sp.Piecewise),
                        lambda e: piecewise(*[(v, c) for v, c in e.args]))


def _otherwise(before, condition) -> bool:
    """True when the last piece's ``condition`` holds wherever no earlier piece does, except
    at finitely many points: it is then the "otherwise" piece."""
    if condition is sp.true:
        return True
    left = sp.And(*[sp.Not(c) for _, c in before], sp.Not(condition))
    if len(left.free_symbols) != 1:
        return False
    try:
        gap = left.as_set()
    except (NotImplementedError, TypeError, ValueError):
        return False
    return gap.is_empty or isinstance(gap, sp.FiniteSet)


def maxima_form(expr):
    """The value as Maxima will get it: elementary functions, no pieces."""
    return without_pieces(elementary(expr))


class MaximaPrinter(StrPrinter):
    """Maxima syntax for scalar SymPy expressions (and matrices: ``matrix([…], […])``)."""

    printmethod = "_maxima"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp == sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exp == -sp.S.Half:
            return f"1/sqrt({self._print(base)})"
        if exp == -1:
            return f"1/{self.parenthesize(base, PRECEDENCE['Mul'], strict=False)}"
        if base is sp.E:
            return f"exp({self._print(exp)})"
        prec = PRECEDENCE["Pow"]
        b = self.parenthesize(base, prec, strict=True)
        e = self._print(exp)
        if not (exp.is_Symbol or (exp.is_Integer and exp >= 0)):
            e = f"({e})"
        return f"{b}^{e}"

    def _print_Exp1(self, expr):
        return "%e"

    def _print_Pi(self, expr):
        return "%pi"

    def _print_Infinity(self, expr):
        return "inf"

    def _print_NegativeInfinity(self, expr):
        return "minf"

    def _print_ImaginaryUnit(self, expr):
        return "%i"

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}" if expr.q != 1 else str(expr.p)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Symbol(self, expr):
        name = expr.name
        if name in RESERVED or not name.replace("_", "a").isalnum() or not name[0].isalpha():
            raise Unsupported(f"the name {name!r} cannot be a variable in Maxima")
        return name

    def _print_Function(self, expr):
        name = _FUNCTIONS.get(type(expr).__name__)
        if name is None:
            raise Unsupported(f"the function {type(expr).__name__} has no Maxima form here")
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    _print_Abs = _print_Max = _print_Min = _print_sign = _print_exp = _print_Function

    def _print_Heaviside(self, expr):
        return self._print((1 + sp.sign(expr.args[0])) / 2)

    def _print_Piecewise(self, expr):
        return self._print(without_pieces(expr))

    def _print_MatrixBase(self, expr):
        rows = ", ".join("[" + ", ".join(self._print(v) for v in expr.row(i)) + "]"
                         for i in range(expr.rows))
        return f"matrix({rows})"

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix = _print_MatrixBase

    def emptyPrinter(self, expr):
        raise Unsupported(f"{type(expr).__name__} has no Maxima form here")

    def _print_Relational(self, expr):
        raise Unsupported("an equation or inequality is not exported as a Maxima expression")

    def _print_Set(self, expr):
        raise Unsupported("a set is not exported as a Maxima expression")

    _print_Interval = _print_Union = _print_FiniteSet = _print_Set


_PRINTER = MaximaPrinter()


def maxima(expr) -> str:
    """``expr`` (a scalar or a matrix) in Maxima syntax, activations written out.

    Raises:
        Unsupported: for values with no Maxima form here (matrix expressions, sets,
            equations, names Maxima reserves).
    """
    if isinstance(expr, (list, tuple)):
        return "[" + ", ".join(maxima(v) for v in expr) + "]"
    if isinstance(expr, sp.MatrixBase):
        return _PRINTER.doprint(sp.Matrix(expr).applyfunc(maxima_form))
    if isinstance(expr, sp.matrices.MatrixExpr) or not isinstance(expr, sp.Expr):
        raise Unsupported(f"{type(expr).__name__} has no Maxima form here")
    return _PRINTER.doprint(maxima_form(expr))
