"""Safe expression parser: text → SymPy, without ``eval`` or ``sympify``.

The text is parsed by Python's ``ast`` module and walked by a whitelist: numbers, names,
``+ - * / ** ^ @``, unary minus, calls of known functions and ``.T``. Anything else
(attribute access, strings, lambdas, subscripts, comprehensions, dunder names) is refused,
and so are inputs that would cost too much: very long text, deep nesting, too many nodes,
huge exponents and huge integer literals. Every refusal is a :class:`BadInput` raised fast.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping

import sympy as sp

from .errors import BadInput

MAX_LENGTH = 2000
MAX_NODES = 600
MAX_DEPTH = 40
MAX_EXPONENT = 1000
MAX_INT_DIGITS = 60

Builder = Callable[..., sp.Basic]


def _unary(fn: Callable[[sp.Basic], sp.Basic]) -> Builder:
    def build(*args: sp.Basic) -> sp.Basic:
        if len(args) != 1:
            raise BadInput(f"{getattr(fn, '__name__', fn)} takes one argument, got {len(args)}")
        return fn(args[0])
    return build


def _nary(fn: Callable[..., sp.Basic], least: int = 2) -> Builder:
    def build(*args: sp.Basic) -> sp.Basic:
        if len(args) < least:
            raise BadInput(f"{fn.__name__} takes at least {least} arguments")
        return fn(*args)
    return build


ELEMENTARY: dict[str, Builder] = {
    "exp": _unary(sp.exp),
    "log": _unary(sp.log),
    "ln": _unary(sp.log),
    "sqrt": _unary(sp.sqrt),
    "sin": _unary(sp.sin),
    "cos": _unary(sp.cos),
    "tan": _unary(sp.tan),
    "sinh": _unary(sp.sinh),
    "cosh": _unary(sp.cosh),
    "tanh": _unary(sp.tanh),
    "erf": _unary(sp.erf),
    "atan": _unary(sp.atan),
    "arctan": _unary(sp.atan),
    "asin": _unary(sp.asin),
    "arcsin": _unary(sp.asin),
    "acos": _unary(sp.acos),
    "arccos": _unary(sp.acos),
    "asinh": _unary(sp.asinh),
    "arsinh": _unary(sp.asinh),
    "acosh": _unary(sp.acosh),
    "arcosh": _unary(sp.acosh),
    "atanh": _unary(sp.atanh),
    "artanh": _unary(sp.atanh),
    "sech": _unary(sp.sech),
    "csch": _unary(sp.csch),
    "coth": _unary(sp.coth),
    "abs": _unary(sp.Abs),
    "Abs": _unary(sp.Abs),
    "sign": _unary(sp.sign),
    "Heaviside": _unary(lambda u: sp.Heaviside(u, 0)),
    "max": _nary(sp.Max),
    "Max": _nary(sp.Max),
    "min": _nary(sp.Min),
    "Min": _nary(sp.Min),
}

CONSTANTS: dict[str, sp.Basic] = {
    "pi": sp.pi,
    "E": sp.E,
    "e": sp.E,
    "oo": sp.oo,
    "inf": sp.oo,
    "infty": sp.oo,
}


@dataclass(frozen=True)
class Namespace:
    """What names mean while parsing.

    Attributes:
        symbols: names bound to ready-made SymPy objects (symbols with assumptions,
            matrix symbols); a name not listed becomes ``make_symbol(name)``.
        functions: callable names; each builder receives SymPy arguments.
        make_symbol: how an unknown name becomes a symbol (default: a real Symbol).
        transpose: how ``.T`` applies (default: refused).
    """

    symbols: Mapping[str, sp.Basic] = field(default_factory=dict)
    functions: Mapping[str, Builder] = field(default_factory=lambda: ELEMENTARY)
    make_symbol: Callable[[str], sp.Basic] = lambda name: sp.Symbol(name, real=True)
    transpose: Callable[[sp.Basic], sp.Basic] | None = None
    matmul: Callable[[sp.Basic, sp.Basic], sp.Basic] | None = None
    add: Callable[[sp.Basic, sp.Basic], sp.Basic] | None = None
    power: Callable[[sp.Basic, sp.Basic], sp.Basic] | None = None
    # the elementwise product ``a ⊙ b`` (None: ⊙ is refused) and division by a non-number
    # (None: refused as "division by a matrix")
    hadamard: Callable[[sp.Basic, sp.Basic], sp.Basic] | None = None
    divide: Callable[[sp.Basic, sp.Basic], sp.Basic] | None = None
    finish: Callable[[sp.Basic], sp.Basic] | None = None
    # a decimal literal's text → what stands for it (None: the exact rational, as always);
    # written.Written keeps 1.702 as written in a display derived from the expression
    number: Callable[[str], sp.Basic | None] | None = None


def power_refusal(base: sp.Basic, exponent: sp.Basic) -> str | None:
    """Why ``base ** exponent`` must not be evaluated (too costly), or None when it may.

    Checked before the power is built: SymPy evaluates 2**(2**100) eagerly, in C, where no
    time budget can interrupt it.
    """
    if exponent.is_number:
        if exponent.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
            return "an infinite exponent is not allowed"
        try:
            too_big = abs(float(exponent)) > MAX_EXPONENT
        except (TypeError, ValueError):
            too_big = False
        if too_big:
            return f"exponent {exponent} is too large (limit {MAX_EXPONENT})"
    if getattr(base, "is_Integer", False) and exponent.is_Integer:
        # 10**900 is fine as a power but its digits are not: keep numbers printable.
        if abs(int(exponent)) * max(1, len(str(abs(int(base))))) > 4 * MAX_INT_DIGITS:
            return f"the number {base}**{exponent} is too large"
    return None


def number_refusal(text: str) -> str | None:
    """Why the decimal literal ``text`` must not be read exactly (too many digits or too large
    an exponent: ``1e999999999`` would build a billion-digit integer), or None."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return f"cannot read the number {text!r}"
    if not number.is_finite():
        return f"the number {text!r} is not finite"
    digits = number.as_tuple()
    if len(digits.digits) > MAX_INT_DIGITS:
        return f"the number {text[:20]}... has more than {MAX_INT_DIGITS} digits"
    if number and abs(number.adjusted()) > MAX_INT_DIGITS:
        return f"the number {text!r} is too large or too small (at most {MAX_INT_DIGITS} digits)"
    if abs(digits.exponent) > 2 * MAX_INT_DIGITS:
        return f"the number {text!r} has too large an exponent"
    return None


MAX_NUMBER_BITS = 2000  # about 600 digits: far past any answer, far below the 4300-digit limit


def size_refusal(value) -> str | None:
    """Why a computed value holds a number too large to print or compare (products of powers
    can build one no literal shows), or None."""
    atoms = value.atoms(sp.Rational) if isinstance(value, sp.Basic) else ()
    for atom in atoms:
        if max(abs(atom.p).bit_length(), atom.q.bit_length()) > MAX_NUMBER_BITS:
            return "a number in the expression is too large (more than about 600 digits)"
    return None


def _nesting_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def syntax_tree(text: str, hadamard: bool = True) -> tuple[str, ast.Expression]:
    """The source as the parser reads it (``^`` as ``**``, ⊙ as ``%``) and its Python syntax
    tree, within the size limits; nothing is built or run. ``hadamard``: ⊙ is allowed.

    Raises:
        BadInput: for text that is not an expression or is over the size limits.
    """
    if not isinstance(text, str):
        raise BadInput(f"expected an expression as a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise BadInput(f"expression is too long ({len(text)} characters; the limit is {MAX_LENGTH})")
    if not text.strip():
        raise BadInput("expression is empty")
    if _nesting_depth(text) > MAX_DEPTH:
        raise BadInput(f"expression is nested too deeply (limit {MAX_DEPTH})")
    # ``^`` is a power, with the precedence of ``**``: as Python's XOR it would bind looser
    # than + and * (x^2 + 1 would be x^3), so it is rewritten before parsing
    source = text.strip().replace("^", "**")
    # ``a ⊙ b`` (elementwise product) is read as Python's ``%``, which has the precedence of
    # ``*``; a ``%`` written by the user is refused below, so only ⊙ ever becomes one
    if "%" in source:
        raise BadInput("the operator % is not allowed in an expression")
    if "⊙" in source:
        if not hadamard:
            raise BadInput("the elementwise product ⊙ is not allowed in this kind of expression")
        source = source.replace("⊙", "%")
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" for 2x is our message's job
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = getattr(exc, "msg", None) or type(exc).__name__
        raise BadInput(f"cannot parse {text.strip()!r}: {msg}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise BadInput(f"expression is too large ({count} syntax nodes; the limit is {MAX_NODES})")
    return source, tree


def parse_expression(text: str, namespace: Namespace | None = None) -> sp.Basic:
    """Parse ``text`` into a SymPy expression using only whitelisted constructs.

    Raises:
        BadInput: for anything outside the whitelist or over the size limits.
    """
    ns = namespace or Namespace()
    source, tree = syntax_tree(text, hadamard=ns.hadamard is not None)
    result = _Builder(source, ns).visit(tree.body, 0)
    return ns.finish(result) if ns.finish is not None else result


class _Builder:
    def __init__(self, source: str, ns: Namespace):
        self.source = source
        self.ns = ns

    def refuse(self, what: str) -> BadInput:
        return BadInput(f"{what} is not allowed in an expression")

    def visit(self, node: ast.AST, depth: int) -> sp.Basic:
        if depth > MAX_DEPTH:
            raise BadInput(f"expression is nested too deeply (limit {MAX_DEPTH})")
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(type(node).__name__)
        return method(node, depth + 1)

    def visit_Constant(self, node: ast.Constant, depth: int) -> sp.Basic:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(f"the literal {value!r}")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_INT_DIGITS:
                raise BadInput(f"integer literal has more than {MAX_INT_DIGITS} digits")
            return sp.Integer(value)
        # Floats are read exactly from their source text: 0.1 is 1/10, not a binary float.
        text = (ast.get_source_segment(self.source, node) or repr(value)).replace("_", "")
        refusal = number_refusal(text)
        if refusal:
            raise BadInput(refusal)
        if self.ns.number is not None:
            made = self.ns.number(text)
            if made is not None:
                return made
        try:
            return sp.Rational(text)
        except (TypeError, ValueError):
            raise BadInput(f"cannot read the number {text!r}") from None

    def visit_Name(self, node: ast.Name, depth: int) -> sp.Basic:
        name = node.id
        if name.startswith("_"):
            raise self.refuse(f"the name {name!r}")
        if name in self.ns.symbols:
            return self.ns.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.ns.functions:
            raise BadInput(f"{name} is a function: call it with an argument, e.g. {name}(x)")
        return self.ns.make_symbol(name)

    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Basic:
        operand = self.visit(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.refuse(f"the operator {type(node.op).__name__}")

    def visit_BinOp(self, node: ast.BinOp, depth: int) -> sp.Basic:
        result = self._binop(node, depth)
        refusal = size_refusal(result) if getattr(result, "is_number", False) else None
        if refusal:
            raise BadInput(refusal)
        return result

    def _binop(self, node: ast.BinOp, depth: int) -> sp.Basic:
        op = node.op
        if isinstance(op, (ast.Pow, ast.BitXor)):
            return self._power(node, depth)
        left = self.visit(node.left, depth)
        right = self.visit(node.right, depth)
        if isinstance(op, ast.Add):
            return self.ns.add(left, right) if self.ns.add else left + right
        if isinstance(op, ast.Sub):
            return self.ns.add(left, -right) if self.ns.add else left - right
        if isinstance(op, ast.Mult):
            if self.ns.matmul is not None:
                return self.ns.matmul(left, right)
            return left * right
        if isinstance(op, ast.MatMult):
            if self.ns.matmul is None:
                raise self.refuse("the operator @")
            return self.ns.matmul(left, right)
        if isinstance(op, ast.Mod) and self.ns.hadamard is not None:
            return self.ns.hadamard(left, right)
        if isinstance(op, ast.Div):
            if getattr(right, "is_zero", False):
                raise BadInput("division by zero")
            if self.ns.divide is not None:
                return self.ns.divide(left, right)
            if getattr(right, "is_Matrix", False) or getattr(right, "shape", (1, 1)) != (1, 1):
                raise BadInput("division by a matrix: use inv()")
            return left * (1 / right) if self.ns.matmul is not None else left / right
        raise self.refuse(f"the operator {type(op).__name__}")

    def _power(self, node: ast.BinOp, depth: int) -> sp.Basic:
        base = self.visit(node.left, depth)
        exponent = self.visit(node.right, depth)
        if isinstance(exponent, sp.MatrixBase) or \
                (isinstance(base, sp.MatrixBase) and self.ns.power is None):
            raise BadInput("a power of a matrix, or a matrix as an exponent, is not allowed")
        problem = power_refusal(base, exponent)
        if problem:
            raise BadInput(problem)
        if self.ns.power is not None:
            return self.ns.power(base, exponent)
        return base ** exponent

    def visit_Call(self, node: ast.Call, depth: int) -> sp.Basic:
        if not isinstance(node.func, ast.Name):
            raise self.refuse("calling anything but a named function")
        if node.keywords:
            raise self.refuse("a keyword argument")
        name = node.func.id
        if name.startswith("_") or name not in self.ns.functions:
            raise BadInput(f"unknown function {name!r}")
        args = [self.visit(arg, depth) for arg in node.args]
        try:
            return self.ns.functions[name](*args)
        except TypeError:
            raise BadInput(f"{name}() cannot take {len(args)} argument"
                           f"{'' if len(args) == 1 else 's'}") from None

    def visit_Attribute(self, node: ast.Attribute, depth: int) -> sp.Basic:
        if node.attr != "T" or self.ns.transpose is None:
            raise self.refuse(f"attribute access ({node.attr!r})")
        return self.ns.transpose(self.visit(node.value, depth))

    def visit_List(self, node: ast.List, depth: int) -> sp.Basic:
        rows = [self.visit(elt, depth) if not isinstance(elt, ast.List)
                else [self.visit(e, depth) for e in elt.elts] for elt in node.elts]
        if not rows:
            raise BadInput("an empty list is not an expression")
        if all(isinstance(r, list) for r in rows):
            if len({len(r) for r in rows}) != 1:
                raise BadInput("matrix rows have different lengths")
            return sp.Matrix(rows)
        if any(isinstance(r, list) for r in rows):
            raise BadInput("mix of numbers and rows in a matrix")
        return sp.Matrix(rows)
