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


# ---------------------------------------------------------------------------- matrix algebra
#
# A symbolic network's answers are matrix expressions over plain names (``W2*relu(W1*x + b1) +
# b2``, ``dL_dyhat*h1.T``). In Maxima the names are matrices of a concrete size (question
# variables), ``.`` is the matrix product, ``*`` the entrywise one, ``transpose`` the
# transpose, and an activation is applied entry by entry with ``matrixmap``.

_LAMBDA = sp.Symbol("t", real=True)


def entrywise(name: str, derivative: bool = False) -> str:
    """``lambda([t], …)``: an elementwise activation (or its derivative) as a Maxima function,
    with its parameters at their bound values (:func:`symderiv.derive.netexpr.bound`)."""
    from ..derive.netexpr import evaluation_constants
    from ..library.activations import ACTIVATIONS

    entry = ACTIVATIONS[name]
    if entry.vector:
        raise Unsupported(f"the vector activation {name} has no entrywise Maxima form")
    body = entry.build(_LAMBDA, evaluation_constants(entry))
    if derivative:
        body = sp.diff(body, _LAMBDA)
    return f"lambda([t], {maxima(body)})"


def maxima_matrix(expr, sizes: dict | None = None) -> str:
    """A matrix expression over named matrices (and the network's entrywise functions) in
    Maxima's matrix algebra; ``sizes`` gives the widths' values (``K`` in ``Identity(K)``)."""
    from sympy.matrices.expressions import MatrixExpr

    from ..derive import netexpr

    sizes = {str(k): v for k, v in (sizes or {}).items()}

    def scalar(e) -> str:
        """A scalar factor; a trace of a 1 × 1 product is that product (Maxima's ``.`` of a
        row and a column is a number)."""
        traces = sorted(e.atoms(sp.Trace), key=sp.default_sort_key)
        marks = {t: sp.Symbol(f"trace{i}mark") for i, t in enumerate(traces)}
        text = maxima(e.xreplace(marks))
        for t, mark in marks.items():
            text = text.replace(mark.name, f"({rec(t)})")
        return text

    def dim(d) -> str:
        if isinstance(d, sp.Symbol):
            if d.name not in sizes:
                raise Unsupported(f"no size for {d.name}")
            return str(sizes[d.name])
        return str(int(d))

    def atom(e) -> str:
        text = rec(e)
        simple = isinstance(e, (sp.MatrixSymbol, sp.Transpose, netexpr._Call, sp.Identity,
                                sp.MatrixBase)) and not isinstance(e, netexpr.Hadamard)
        return text if simple else f"({text})"

    def rec(e) -> str:
        if isinstance(e, sp.MatrixSymbol):
            return _PRINTER._print_Symbol(sp.Symbol(e.name))
        if isinstance(e, sp.MatrixBase):
            return maxima(e)
        if isinstance(e, sp.MatAdd):
            text = ""
            for a in e.args:
                negated = isinstance(a, sp.MatMul) and a.args[0] == -1
                term = rec(sp.MatMul(*a.args[1:]) if negated else a)
                if negated:
                    text += f" - {term}" if text else f"-{atom(sp.MatMul(*a.args[1:]))}"
                else:
                    text += f" + {term}" if text else term
            return text
        if isinstance(e, sp.MatMul):
            scalars = [a for a in e.args if not isinstance(a, (MatrixExpr, sp.MatrixBase))]
            matrices = [a for a in e.args if isinstance(a, (MatrixExpr, sp.MatrixBase))]
            product = " . ".join(atom(m) for m in matrices)
            if not scalars:
                return product
            return f"({scalar(sp.Mul(*scalars))})*({product})"
        if isinstance(e, sp.Transpose):
            return f"transpose({rec(e.arg)})"
        if isinstance(e, sp.Trace):
            if e.arg.shape != (1, 1):
                raise Unsupported("a trace of a matrix larger than 1 × 1")
            return rec(e.arg)
        if isinstance(e, sp.Identity):
            return f"ident({dim(e.shape[0])})"
        if isinstance(e, sp.Inverse):
            return f"invert({rec(e.arg)})"
        if isinstance(e, sp.MatPow) and e.exp == -1:
            return f"invert({rec(e.base)})"
        if isinstance(e, sp.ZeroMatrix):
            return f"zeromatrix({dim(e.shape[0])}, {dim(e.shape[1])})"
        if isinstance(e, netexpr.Hadamard):
            return "*".join(atom(a) for a in e.operands)
        if isinstance(e, netexpr.ActivationPrime):
            return f"matrixmap({entrywise(e.fname, True)}, {rec(e.operands[0])})"
        if isinstance(e, netexpr.Activation):
            if e.fname == "identity":
                return rec(e.operands[0])
            return f"matrixmap({entrywise(e.fname)}, {rec(e.operands[0])})"
        raise Unsupported(f"{type(e).__name__} has no Maxima matrix form here")

    if not isinstance(expr, (MatrixExpr, sp.MatrixBase)):
        raise Unsupported(f"{type(expr).__name__} is not a matrix expression")
    # a width used as a number (1/m) by its value
    expr = expr.xreplace({s: sp.Integer(sizes[s.name]) for s in expr.free_symbols
                          if isinstance(s, sp.Symbol) and s.name in sizes})
    return rec(expr)


# ---------------------------------------------------------------------------- reading back

_TOKEN = __import__("re").compile(r"\s*(?:(\d+(?:\.\d+)?)|(%?[A-Za-z_][A-Za-z_0-9]*)|(.))")


class MaximaSyntax(ValueError):
    """Text that is not in the subset of Maxima :func:`evaluate_program` reads."""


def evaluate_program(text: str) -> dict:
    """Read back what this module writes: statements ``name: expression;`` over numbers,
    names, ``+ - * / ^``, ``.`` (the matrix product), ``matrix``, ``transpose``, ``ident``,
    ``matrixmap(lambda([t], …), M)`` and the elementary functions, evaluated exactly with
    SymPy the way Maxima evaluates them (entrywise arithmetic on matrices, a 1 × 1 matrix
    product a number). Returns name -> value. A parser, never ``eval``: the text is data."""
    tokens = []
    for m in _TOKEN.finditer(text):
        number, name, other = m.groups()
        if number is not None:
            tokens.append(("num", number))
        elif name is not None:
            tokens.append(("name", name))
        elif other is not None and not other.isspace():
            tokens.append(("op", other))
    reader = _Reader(tokens)
    env: dict = {}
    while not reader.done():
        name = reader.expect("name")
        reader.expect("op", ":")
        env[name] = reader.expression(env)
        reader.expect("op", ";")
    return env


_SCALAR_FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "atan": sp.atan, "asinh": sp.asinh,
    "erf": sp.erf, "abs": sp.Abs, "signum": sp.sign,
}


class _Reader:
    def __init__(self, tokens):
        self.tokens, self.pos = tokens, 0

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, kind: str, value: str | None = None) -> str:
        got = self.take()
        if got[0] != kind or (value is not None and got[1] != value):
            raise MaximaSyntax(f"expected {value or kind}, got {got[1]!r}")
        return got[1]

    def at(self, value: str) -> bool:
        return self.peek() == ("op", value)

    # precedence, loosest first: + -, * /, unary -, ., ^
    def expression(self, env):
        value = self.term(env)
        while self.at("+") or self.at("-"):
            op = self.take()[1]
            right = self.term(env)
            value = _arith(value, right, (lambda a, b: a + b) if op == "+" else (lambda a, b: a - b))
        return value

    def term(self, env):
        value = self.unary(env)
        while self.at("*") or self.at("/"):
            op = self.take()[1]
            right = self.unary(env)
            value = _arith(value, right, (lambda a, b: a * b) if op == "*" else (lambda a, b: a / b))
        return value

    def unary(self, env):
        if self.at("-"):
            self.take()
            return _arith(sp.Integer(-1), self.unary(env), lambda a, b: a * b)
        return self.dot(env)

    def dot(self, env):
        value = self.power(env)
        while self.at("."):
            self.take()
            right = self.power(env)
            if not (isinstance(value, sp.MatrixBase) and isinstance(right, sp.MatrixBase)):
                value = _arith(value, right, lambda a, b: a * b)
                continue
            if value.cols != right.rows:
                raise MaximaSyntax(f"a product of {value.shape} and {right.shape}")
            value = value * right
            if value.shape == (1, 1):   # Maxima: a 1 × 1 product is a number
                value = value[0, 0]
        return value

    def power(self, env):
        base = self.primary(env)
        if self.at("^"):
            self.take()
            exponent = self.unary(env)
            return _arith(base, exponent, lambda a, b: a ** b)
        return base

    def arguments(self, env) -> list:
        self.expect("op", "(")
        args = []
        if not self.at(")"):
            args.append(self.expression(env))
            while self.at(","):
                self.take()
                args.append(self.expression(env))
        self.expect("op", ")")
        return args

    def primary(self, env):
        kind, value = self.take()
        if kind == "num":
            return sp.Rational(value) if "." not in value else sp.Float(value)
        if kind == "op" and value == "(":
            inner = self.expression(env)
            self.expect("op", ")")
            return inner
        if kind == "op" and value == "[":
            items = []
            if not self.at("]"):
                items.append(self.expression(env))
                while self.at(","):
                    self.take()
                    items.append(self.expression(env))
            self.expect("op", "]")
            return items
        if kind != "name":
            raise MaximaSyntax(f"unexpected {value!r}")
        if value == "%e":
            return sp.E
        if value == "%pi":
            return sp.pi
        if value == "matrixmap":
            self.expect("op", "(")
            self.expect("name", "lambda")
            self.expect("op", "(")
            self.expect("op", "[")
            param = self.expect("name")
            self.expect("op", "]")
            self.expect("op", ",")
            start = self.pos
            self.expression({**env, param: sp.Symbol(param)})   # skipped: read per entry
            end = self.pos
            self.expect("op", ")")
            self.expect("op", ",")
            matrix = self.expression(env)
            self.expect("op", ")")
            if not isinstance(matrix, sp.MatrixBase):
                raise MaximaSyntax("matrixmap of a value that is not a matrix")

            def apply(v):
                sub = _Reader(self.tokens[start:end])
                return sub.expression({**env, param: v})
            return matrix.applyfunc(apply)
        if self.at("("):
            args = self.arguments(env)
            return _call(value, args)
        if value not in env:
            return sp.Symbol(value)
        return env[value]


def _arith(a, b, op):
    """Maxima's arithmetic: entrywise on matrices of one shape, a number with each entry."""
    if isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase):
        if a.shape != b.shape:
            raise MaximaSyntax(f"entrywise arithmetic on {a.shape} and {b.shape}")
        return sp.Matrix(a.rows, a.cols, lambda i, j: op(a[i, j], b[i, j]))
    if isinstance(a, sp.MatrixBase):
        return a.applyfunc(lambda v: op(v, b))
    if isinstance(b, sp.MatrixBase):
        return b.applyfunc(lambda v: op(a, v))
    return op(a, b)


def _call(name: str, args: list):
    if name == "matrix":
        if not args or not all(isinstance(r, list) and len(r) == len(args[0]) for r in args):
            raise MaximaSyntax("matrix() takes rows of one length")
        return sp.Matrix(args)
    if name == "transpose" and len(args) == 1:
        return args[0].T if isinstance(args[0], sp.MatrixBase) else args[0]
    if name == "invert" and len(args) == 1 and isinstance(args[0], sp.MatrixBase):
        return args[0].inv()
    if name == "ident" and len(args) == 1:
        return sp.eye(int(args[0]))
    if name == "zeromatrix" and len(args) == 2:
        return sp.zeros(int(args[0]), int(args[1]))
    if name in ("max", "min") and args and not any(isinstance(a, sp.MatrixBase) for a in args):
        return (sp.Max if name == "max" else sp.Min)(*args)
    if name == "flatten" and len(args) == 1 and isinstance(args[0], list):
        return [v for row in args[0] for v in (row if isinstance(row, list) else [row])]
    if name == "args" and len(args) == 1 and isinstance(args[0], sp.MatrixBase):
        return [list(args[0].row(i)) for i in range(args[0].rows)]
    if name in _SCALAR_FUNCTIONS and len(args) == 1:
        f = _SCALAR_FUNCTIONS[name]
        return args[0].applyfunc(f) if isinstance(args[0], sp.MatrixBase) else f(args[0])
    raise MaximaSyntax(f"the function {name} with {len(args)} argument(s) is not read here")
