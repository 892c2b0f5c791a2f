"""Kind ``matrix_gradient``: gradients of scalar functions of vectors and matrices.

The function is parsed into SymPy matrix expressions with their shapes traced (a mismatch is
a bad-input error naming the subexpression and both shapes). A 1 × 1 product used as a
number becomes ``tr(·)`` (the trace of a 1 × 1 matrix is its entry), so the whole function is
an ordinary scalar expression in traces, determinants and scalars. The derivation goes
through the differential:

1. df = Σ ∂f/∂a · da over the trace/determinant atoms a (scalar chain rule);
2. each da by the rules for differentials: d(AB) = dA·B + A·dB, d(Aᵀ) = (dA)ᵀ,
   d(A⁻¹) = −A⁻¹ dA A⁻¹, d tr A = tr dA, d det A = det A · tr(A⁻¹ dA);
3. every term brought to tr(M dX) by cyclicity and transposition, and the gradient (in
   denominator layout: the shape of X) read off as Mᵀ;
4. terms with the same right factor collected: (A + Aᵀ)x + z, not Ax + Aᵀx + z.

SymPy's own MatrixSymbol derivatives have open wrong-result bugs (sympy#26585,
sympy#27406), so every gradient is checked entry by entry at a small concrete size against
``sympy.diff`` of the expanded scalar, and at random rational matrices.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import BadInput, InternalLimit, VerificationFailed
from ..parse import ELEMENTARY, Namespace, parse_expression
from ..spec import Fields, Problem
from .steps import Answer, Solution

FIELDS = {"f", "wrt", "shapes", "notation", "given", "where"} | {"hessian", "stationary", "newton"}  # hessian.FIELDS
NOTATION_KEYS = {"function"}  # plus any name of f: its LaTeX (``x = "\\mathbf{x}"``)
_SHAPE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*[xX×]\s*([A-Za-z0-9_]+)\s*$")
CONCRETE = (3, 2, 4, 5)  # sizes given to symbolic dimensions, in order of appearance


@dataclass(frozen=True)
class MatrixSpec:
    f: str
    wrt: str
    shapes: tuple[tuple[str, str], ...]
    notation: tuple[tuple[str, str], ...] = ()   # "function" and symbol names -> LaTeX
    given: tuple[str, ...] = ()                  # facts such as "sum(y) = 1"
    second: Any = None   # hessian.SecondSpec: Hessian, stationary point, Newton step
    where: tuple[tuple[str, str], ...] = ()      # names for subexpressions: ("S", "X*W"), in order


# --- elementwise functions ----------------------------------------------------------------


def _sigmoid(u):
    return 1 / (1 + sp.exp(-u))


# name → (the scalar function, its LaTeX head); applied entry by entry to a vector or matrix
SCALAR = {
    "exp": (sp.exp, r"\exp"),
    "log": (sp.log, r"\log"),
    "sigmoid": (_sigmoid, r"\sigma"),
    "tanh": (sp.tanh, r"\tanh"),
    "relu": (lambda u: sp.Max(0, u), r"\operatorname{ReLU}"),
    "step": (lambda u: sp.Heaviside(u), None),   # printed 1[U > 0]
    "sqrt": (sp.sqrt, None),                     # printed √U
    "sin": (sp.sin, r"\sin"),
    "cos": (sp.cos, r"\cos"),
}
ELEMENTWISE_NAMES = ("exp", "log", "ln", "sigmoid", "tanh", "relu", "max(0, ·)", "sqrt", "sin", "cos")


class Elementwise(MatrixExpr):
    """f(U) for a vector or matrix U: the scalar function f applied to every entry."""

    def __new__(cls, name, arg):
        return MatrixExpr.__new__(cls, name if isinstance(name, Str) else Str(name), arg)

    @property
    def name(self) -> str:
        return self.args[0].name

    @property
    def arg(self):
        return self.args[1]

    @property
    def shape(self):
        return self.arg.shape

    def _entry(self, i, j, **kwargs):
        return SCALAR[self.name][0](self.arg._entry(i, j, **kwargs))

    def doit(self, **hints):
        arg = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        if isinstance(arg, sp.MatrixBase):
            return sp.ImmutableMatrix(arg.applyfunc(SCALAR[self.name][0]))
        return Elementwise(self.name, arg)

    def _eval_transpose(self):
        return Elementwise(self.name, self.arg.T)

    def _latex(self, printer):
        inner = printer._print(self.arg)
        if self.name == "step":
            return r"\mathbf{1}[" + inner + r" > 0]"
        if self.name == "sqrt":
            return r"\sqrt{" + inner + "}"
        return SCALAR[self.name][1] + r"\mathopen{}\left(" + inner + r"\right)\mathclose{}"

    def _sympystr(self, printer):
        name = "Heaviside" if self.name == "step" else self.name
        return f"{name}({printer._print(self.arg)})"


class _OfOneMatrix(MatrixExpr):
    """A matrix function of one matrix argument, of that argument's shape."""

    def __new__(cls, arg):
        return MatrixExpr.__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.arg.shape


class Softmax(_OfOneMatrix):
    """softmax(v) of an n × 1 vector: entries exp(vᵢ)/Σₖ exp(vₖ)."""

    def _entry(self, i, j, **kwargs):
        n = self.arg.shape[0]
        return sp.exp(self.arg._entry(i, 0)) / sp.Add(*[sp.exp(self.arg._entry(k, 0)) for k in range(int(n))])

    def doit(self, **hints):
        arg = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        if isinstance(arg, sp.MatrixBase):
            total = sp.Add(*[sp.exp(v) for v in arg])
            return sp.ImmutableMatrix(arg.applyfunc(lambda v: sp.exp(v) / total))
        return Softmax(arg)

    def _latex(self, printer):
        return r"\operatorname{softmax}\mathopen{}\left(" + printer._print(self.arg) + r"\right)\mathclose{}"

    def _sympystr(self, printer):
        return f"softmax({printer._print(self.arg)})"


class RowSoftmax(_OfOneMatrix):
    """softmax(S) of an N × C matrix, row by row (each row of scores to probabilities)."""

    def _entry(self, i, j, **kwargs):
        c = int(self.arg.shape[1])
        return sp.exp(self.arg._entry(i, j)) / sp.Add(*[sp.exp(self.arg._entry(i, k)) for k in range(c)])

    def _latex(self, printer):
        return r"\operatorname{softmax}\mathopen{}\left(" + printer._print(self.arg) + r"\right)\mathclose{}"

    def _sympystr(self, printer):
        return f"softmax_rows({printer._print(self.arg)})"


class ScalarSigmoid(sp.Function):
    """σ(t) = 1/(1 + e^{−t}) of a number (a 1 × 1 product such as wᵀx): the key writes σ where
    the gradient holds e^{t}/(1 + e^{t}); the JSON keeps the exponentials."""

    nargs = 1

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return sp.exp(t) / (1 + sp.exp(t))

    def _eval_evalf(self, prec):
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer, exp=None):
        text = r"\sigma\mathopen{}\left(" + printer._print(self.args[0]) + r"\right)\mathclose{}"
        return f"{text}^{{{exp}}}" if exp else text

    def _sympystr(self, printer):
        return f"sigmoid({printer._print(self.args[0])})"


def name_sigmoids(expr):
    """expr with every scalar coefficient that is a polynomial in σ(t) = eᵗ/(1 + eᵗ) written so
    (t a number such as wᵀx): e^{−t}/(1 + e^{−t}) is σ(−t), (1 − y)/(1 + e^{−t}) − y e^{−t}/(1 + e^{−t})
    is σ(t) − y, eᵗ/(eᵗ + 1)² is σ(t)(1 − σ(t)); anything else is left as it is."""
    if not expr.has(sp.exp):
        return expr

    def coefficient(c):
        args = {}
        for e in c.atoms(sp.exp):
            t = e.args[0]
            base = -t if t.could_extract_minus_sign() else t
            args.setdefault(base, sp.Dummy("s"))
        if not args:
            return c
        out = c
        for t, s_ in args.items():
            out = out.xreplace({sp.exp(t): s_ / (1 - s_), sp.exp(-t): (1 - s_) / s_})
        if out.has(sp.exp):
            return c
        out = sp.cancel(sp.together(out))
        num, den = out.as_numer_denom()
        if den.has(*args.values()):
            return c
        out = sp.expand(out)
        factored = sp.factor(out)
        sig = {s_: ScalarSigmoid(t) for t, s_ in args.items()}
        expanded, factored = out.xreplace(sig), _one_minus(factored.xreplace(sig))
        return factored if sp.count_ops(factored) <= sp.count_ops(expanded) + 1 else expanded  # −y(1 − σ)

    def term(t):
        c, mats = _split(t)
        if len(mats) == 1 and isinstance(mats[0], sp.MatAdd):  # −(c₁x₁ + c₂x₂)
            return _product(c, [sp.MatAdd(*[term(a) for a in mats[0].args])])
        return _product(coefficient(c), mats) if mats else coefficient(c)

    if _is_matrix(expr):
        if isinstance(expr, sp.MatAdd):
            return sp.MatAdd(*[term(a) for a in expr.args])
        return term(expr)
    return coefficient(expr)


def _one_minus(c):
    """−y(1 − σ) for y(σ − 1), σ(1 − σ) for −σ(σ − 1): a product with one factor a − 1 is
    written with 1 − a, the way a teacher writes it."""
    if not isinstance(c, sp.Mul):
        return c
    flips = [f for f in c.args if isinstance(f, sp.Add) and -1 in f.args]
    if len(flips) != 1:
        return c
    rest = [(-f if f is flips[0] else f) for f in c.args]
    if -1 in rest:
        rest.remove(-1)
        return sp.Mul(*rest, evaluate=False)
    return sp.Mul(-1, *rest, evaluate=False)


def _row_sums(S):
    """S𝟏: the N × 1 vector of the row sums of S."""
    return sp.MatMul(S, sp.OneMatrix(S.shape[1], 1))


class DiagonalOf(_OfOneMatrix):
    """The diagonal of a square matrix as a column vector (SymPy's own fails on explicit matrices)."""

    @property
    def shape(self):
        return (self.arg.shape[0], sp.S.One)

    def _entry(self, i, j, **kwargs):
        return self.arg._entry(i, i, **kwargs)

    def _latex(self, printer):
        return r"\operatorname{diag}\mathopen{}\left(" + printer._print(self.arg) + r"\right)\mathclose{}"

    def _sympystr(self, printer):
        return f"diagonal({printer._print(self.arg)})"


ENTRYWISE_NODES = (Elementwise, Softmax, RowSoftmax, sp.HadamardProduct, sp.HadamardPower, DiagMatrix)


def _ones_like(M):
    return sp.OneMatrix(*M.shape)


def elementwise_derivative(name, U):
    """f'(U), entry by entry, as a matrix expression: d f(U) = f'(U) ⊙ dU."""
    if name == "exp":
        return Elementwise("exp", U)
    if name == "log":
        return sp.HadamardPower(U, -1)
    if name == "sigmoid":
        s = Elementwise("sigmoid", U)
        return sp.HadamardProduct(s, _ones_like(U) - s)
    if name == "tanh":
        return _ones_like(U) - sp.HadamardPower(Elementwise("tanh", U), 2)
    if name == "relu":
        return Elementwise("step", U)
    if name == "sqrt":
        return sp.HadamardPower(Elementwise("sqrt", U), -1) / 2
    if name == "sin":
        return Elementwise("cos", U)
    if name == "cos":
        return -Elementwise("sin", U)
    raise BadInput(f"no derivative rule for {name}() applied entry by entry")


def _explicit_value(M) -> sp.Matrix:
    M = M.doit()
    return sp.Matrix(M.as_explicit()) if isinstance(M, MatrixExpr) else sp.Matrix(M)


def _dim(text: str) -> sp.Expr:
    if text.isdigit():
        value = int(text)
        if value < 1:
            raise BadInput(f"dimension {text} must be at least 1")
        return sp.Integer(value)
    return sp.Symbol(text, integer=True, positive=True)


def _shapes(spec: MatrixSpec) -> dict[str, tuple[sp.Expr, sp.Expr]]:
    out = {}
    for name, text in spec.shapes:
        m = _SHAPE.match(text)
        if not m:
            raise BadInput(f"cannot read shape {text!r}: write it as \"n x 1\" or \"m x n\"")
        out[name] = (_dim(m.group(1)), _dim(m.group(2)))
    return out


def parse(problem: Problem) -> MatrixSpec:
    f = Fields(problem, FIELDS)
    text = f.get("f", str, required=True)
    wrt = f.get("wrt", str, required=True)
    shapes = f.get("shapes", dict, {}, what="a table of name = \"rows x cols\"")
    for k, v in shapes.items():
        if not isinstance(v, str):
            raise f.error(f"shapes.{k}", "expected a string such as \"n x 1\"")
    notation = f.latex_table("notation")
    given = f.get("given", list, [], what="a list of facts such as \"sum(y) = 1\"")
    if not all(isinstance(g, str) for g in given):
        raise f.error("given", "expected a list of strings such as \"sum(y) = 1\"")
    where = f.get("where", dict, {}, what="a table of name = \"expression\"")
    for k, v in where.items():
        if not isinstance(v, str):
            raise f.error(f"where.{k}", "expected a string such as \"X*W\"")
        if not re.match(r"^[A-Za-z]\w*$", k):
            raise f.error(f"where.{k}", f"{k!r} is not a name")
        if k in shapes or k == wrt:
            raise f.error(f"where.{k}", f"{k} is already a name of the shapes: a definition needs a new name")
    spec = MatrixSpec(text, wrt, tuple(shapes.items()), tuple(notation.items()), tuple(given),
                      where=tuple(where.items()))
    try:
        shape_map = _shapes(spec)
    except BadInput as exc:
        raise f.error("shapes", exc.message) from None
    for i, (k, _) in enumerate(spec.where):
        try:
            namespace(replace(spec, where=spec.where[:i + 1]))
        except BadInput as exc:
            raise f.error(f"where.{k}", exc.message) from None
    if wrt not in shape_map and not re.match(r"^[A-Za-z]\w*$", wrt):
        raise f.error("wrt", f"{wrt!r} is not a name")
    try:
        expr = build(spec)
    except BadInput as exc:
        raise f.error("f", exc.message) from None
    if isinstance(expr, MatrixExpr) and expr.shape != (1, 1):
        raise f.error("f", f"must be scalar-valued, but its shape is {_shape_text(expr.shape)}")
    symbols = {s.name for s in expr.free_symbols} | {m.name for m in expr.atoms(sp.MatrixSymbol)} | set(where)
    if wrt not in symbols:
        raise f.error("wrt", f"{wrt!r} does not appear in f")
    try:
        facts = given_facts(spec)
    except BadInput as exc:
        raise f.error("given", exc.message) from None
    if any(fact.v.name == wrt for fact in facts):
        raise f.error("given", f"constrains the variable {wrt} itself: the gradient is then "
                      "not the unconstrained one")
    for k in notation:
        if k not in NOTATION_KEYS and k not in symbols and k not in shapes:
            raise f.error(f"notation.{k}", "is neither \"function\" nor a name used in f "
                          f"(known: {', '.join(sorted(NOTATION_KEYS | symbols))})")
    from . import hessian
    second = hessian.parse_options(f, shape_map, wrt, expr)
    return replace(spec, second=second) if second else spec


def _shape_text(shape) -> str:
    return f"{sp.sstr(shape[0])} x {sp.sstr(shape[1])}"


def _is_matrix(e) -> bool:
    return isinstance(e, MatrixExpr)


def _scalar(e, where: str = "here"):
    """A 1 × 1 matrix used as a number is its trace; a larger one where a number is needed is a
    bad input that says where (``where``: "as an argument of max()")."""
    if _is_matrix(e):
        if e.shape != (1, 1):
            raise BadInput(f"{sp.sstr(e)} is {_kind_of(e)} ({_shape_text(e.shape)}), but a number "
                           f"is needed {where}")
        return sp.Trace(e)
    return e


def _kind_of(e) -> str:
    return "a vector" if 1 in e.shape else "a matrix"


def _same_dim(a, b) -> bool:
    return sp.simplify(a - b) == 0


def _matmul(a, b):
    if _is_matrix(a) and _is_matrix(b):
        if a.shape == (1, 1) and b.shape[0] != 1:
            return sp.Trace(a) * b
        if b.shape == (1, 1) and a.shape[1] != 1:
            return sp.Trace(b) * a
        if not _same_dim(a.shape[1], b.shape[0]):
            hint = ""
            if _same_shape_exprs(a, b):
                hint = " (for the entrywise product write hadamard(a, b) or a ⊙ b)"
            raise BadInput(f"shape mismatch in {sp.sstr(a)}*{sp.sstr(b)}: "
                           f"{_shape_text(a.shape)} times {_shape_text(b.shape)}{hint}")
        return a * b
    return a * b


def _add(a, b):
    if _is_matrix(a) and _is_matrix(b):
        if not (_same_dim(a.shape[0], b.shape[0]) and _same_dim(a.shape[1], b.shape[1])):
            raise BadInput(f"shape mismatch in {sp.sstr(a)} + {sp.sstr(b)}: "
                           f"{_shape_text(a.shape)} and {_shape_text(b.shape)}")
        return a + b
    # a number plus a vector or matrix is added to every entry: 1 + exp(u) is 𝟏 + exp(u)
    if _is_matrix(a) and a.shape != (1, 1) and not _is_matrix(b):
        return a + b * _ones_like(a) if b != 0 else a
    if _is_matrix(b) and b.shape != (1, 1) and not _is_matrix(a):
        return a * _ones_like(b) + b if a != 0 else b
    return _scalar(a) + _scalar(b)


def _same_shape_exprs(a, b) -> bool:
    return _same_dim(a.shape[0], b.shape[0]) and _same_dim(a.shape[1], b.shape[1])


def _is_array(e) -> bool:
    """A vector or matrix that is not a 1 × 1 product used as a number."""
    return _is_matrix(e) and e.shape != (1, 1)


def _hadamard(a, b):
    if _is_array(a) and _is_array(b):
        if not _same_shape_exprs(a, b):
            raise BadInput(f"shape mismatch in the entrywise product of {sp.sstr(a)} and {sp.sstr(b)}: "
                           f"{_shape_text(a.shape)} and {_shape_text(b.shape)}")
        return sp.HadamardProduct(a, b)
    if _is_array(a) or _is_array(b):  # a number times a vector: the ordinary product
        return _scalar(a) * b if _is_array(b) else a * _scalar(b)
    return _scalar(a) * _scalar(b)


def _divide(a, b):
    if not _is_array(b):
        b = _scalar(b)
        if b.is_zero:
            raise BadInput("division by zero")
        return a * (1 / b)
    inverse = sp.HadamardPower(b, -1)
    if not _is_array(a):
        return _scalar(a) * inverse if a != 1 else inverse
    if not _same_shape_exprs(a, b):
        raise BadInput(f"shape mismatch in the entrywise division {sp.sstr(a)}/{sp.sstr(b)}: "
                       f"{_shape_text(a.shape)} and {_shape_text(b.shape)}")
    return sp.HadamardProduct(a, inverse)


def _elementwise(name: str, U, record: list | None = None):
    """f(U) entry by entry; log(softmax(v)) = v − 𝟏 log(𝟏ᵀ exp(v)) (the log-softmax identity,
    appended to ``record`` as (log softmax(v), v − 𝟏 log(𝟏ᵀ exp(v))))."""
    name = {"ln": "log"}.get(name, name)
    if name == "log" and isinstance(U, (Softmax, RowSoftmax)):
        v = U.arg
        if isinstance(U, Softmax):
            out = v - _logsumexp(v) * _ones_like(v)
        else:  # log softmax(S) = S − log(exp(S)𝟏) 𝟏ᵀ, row by row
            out = v - sp.MatMul(Elementwise("log", _row_sums(Elementwise("exp", v))), sp.OneMatrix(1, v.shape[1]))
        if record is not None:
            record.append((Elementwise("log", U), out))
        return out
    if name not in SCALAR or name == "step":
        raise BadInput(f"{name}() of {sp.sstr(U)}, {_kind_of(U)} ({_shape_text(U.shape)}): only "
                       f"{', '.join(ELEMENTWISE_NAMES)} apply entry by entry to a vector or matrix")
    return Elementwise(name, U)


def _logsumexp(v):
    if not _is_matrix(v):
        raise BadInput("logsumexp() takes a vector")
    return sp.log(_sum(Elementwise("exp", v)))


def _softmax(v):
    if not _is_matrix(v) or v.shape == (1, 1):
        raise BadInput("softmax() takes a column vector (n x 1) or a matrix (row by row)")
    if v.shape[1] == 1:
        return Softmax(v)
    return RowSoftmax(v)


def _rowsum(M):
    if not _is_array(M):
        raise BadInput("rowsum() takes a matrix")
    return _row_sums(M)


def _diag(v):
    if not _is_matrix(v) or v.shape[1] != 1:
        raise BadInput("diag() takes a column vector (n x 1)"
                       + (f"; {sp.sstr(v)} is {_shape_text(v.shape)}" if _is_matrix(v) else ""))
    return DiagMatrix(v)


def _power(base, exponent):
    if _is_matrix(base):
        if base.shape == (1, 1):
            return sp.Trace(base) ** exponent
        if not _same_dim(*base.shape):
            raise BadInput(f"{sp.sstr(base)}**{sp.sstr(exponent)}: {sp.sstr(base)} is {_kind_of(base)} "
                           f"({_shape_text(base.shape)}) and a power needs a square matrix (entry by entry "
                           f"write hadamard({sp.sstr(base)}, {sp.sstr(base)}); for the squared length, norm(v)**2)")
        return base ** exponent
    return base ** exponent


def namespace(spec: MatrixSpec, record: list | None = None) -> Namespace:
    shapes = _shapes(spec)
    symbols = {name: sp.MatrixSymbol(name, *shape) for name, shape in shapes.items()}
    norms: dict[sp.Basic, MatrixExpr] = {}

    def norm(v):
        # only even powers are supported (‖v‖² = tr(vᵀv)); the marker is resolved in power()
        if not _is_matrix(v):
            raise BadInput("norm() takes a vector or a matrix")
        marker = sp.Function("norm")(sp.Dummy("v"))
        norms[marker] = v
        return marker

    def elementary(name, fn):
        def call(*args):
            if len(args) == 1 and _is_array(args[0]):
                return _elementwise(name, args[0], record)
            if name.lower() == "max" and len(args) == 2 and any(_is_array(a) for a in args):
                U, other = (args[0], args[1]) if _is_array(args[0]) else (args[1], args[0])
                if other == 0:
                    return Elementwise("relu", U)
                raise BadInput(f"max() of {_kind_of(U)} is supported as max(0, U) (ReLU, entry by entry)")
            return fn(*[_scalar(a, f"as an argument of {name}()") for a in args])
        return call

    functions = {name: elementary(name, fn) for name, fn in ELEMENTARY.items()}
    functions.update({
        "sigmoid": elementary("sigmoid", _unary_builder(_sigmoid, "sigmoid")),
        "relu": elementary("relu", _unary_builder(lambda u: sp.Max(0, u), "relu")),
        "softmax": _softmax,
        "logsumexp": _logsumexp,
        "hadamard": _hadamard,
        "diag": _diag,
        "rowsum": _rowsum,
        "norm": norm,
        "trace": lambda m: _check_square(m, "trace") and sp.Trace(m),
        "tr": lambda m: _check_square(m, "trace") and sp.Trace(m),
        "det": lambda m: _check_square(m, "det") and sp.Determinant(m),
        "inv": lambda m: _check_square(m, "inv") and sp.Inverse(m),
        "sum": lambda v: _sum(v),
        "ones": _ones_builder(shapes),
    })

    def power(base, exponent):
        if base in norms:
            if not (exponent.is_Integer and exponent % 2 == 0 and exponent > 0):
                raise BadInput("only even powers of norm() are supported: write norm(v)**2")
            v = norms[base]
            vt = sp.Transpose(v) if isinstance(v, sp.MatAdd) else v.T
            return sp.Trace(sp.MatMul(vt, v)) ** (exponent / 2)
        return _power(base, exponent)

    def make(bound):
        return Namespace(symbols=bound, functions=functions,
                         make_symbol=lambda name: sp.Symbol(name, real=True),
                         transpose=lambda m: m.T if _is_matrix(m) else m,
                         matmul=_matmul, add=_add, power=power, hadamard=_hadamard, divide=_divide,
                         finish=_finish(norms))

    for name, text in spec.where:  # each definition may use the ones before it
        symbols = {**symbols, name: parse_expression(text, make(symbols))}
    return make(symbols)


def _ones_builder(shapes):
    """ones(n): the n × 1 vector of ones, ones(m, n) the m × n matrix of ones; n a dimension
    name of the shapes or a positive whole number (ones(C).T is a row of C ones)."""
    dims = {}
    for rows, cols in shapes.values():
        for d in (rows, cols):
            if d.is_Symbol:
                dims[d.name] = d

    def dim(a):
        if getattr(a, "is_Symbol", False) and a.name in dims:
            return dims[a.name]
        if getattr(a, "is_Integer", False) and a > 0:
            return a
        known = ", ".join(sorted(dims)) or "none"
        raise BadInput(f"ones() takes dimensions, names of the shapes or positive whole numbers "
                       f"(known: {known}), not {sp.sstr(a)}")

    def build(*args):
        if len(args) not in (1, 2):
            raise BadInput(f"ones() takes one or two dimensions, got {len(args)}")
        shape = (dim(args[0]), dim(args[1]) if len(args) == 2 else sp.S.One)
        return sp.OneMatrix(*shape)
    return build


def abbreviations(spec: MatrixSpec) -> list[tuple[sp.Basic, sp.Basic]]:
    """(value, its name as a symbol) for every ``where`` definition, the last first: the key
    writes M where f, the differential and the gradient hold M's value."""
    out = []
    if not spec.where:
        return out
    symbols = namespace(spec).symbols
    for name, _ in reversed(spec.where):
        value = symbols[name]
        if _is_array(value):
            out.append((value, sp.MatrixSymbol(name, *value.shape)))
        else:
            out.append((_scalar(value), sp.Symbol(name, real=True)))
    return out


def abbreviate(expr, pairs):
    """``expr`` with each definition's value replaced by its name (also in the forms .doit()
    gives: 𝟏𝟏ᵀ merged into one matrix of ones)."""
    if expr is None or not pairs:
        return expr
    for value, name in pairs:
        forms = {value: name}
        try:
            done = value.doit()
        except Exception:  # noqa: BLE001 - a form that cannot be evaluated is simply not matched
            done = value
        forms[done] = name
        if _is_matrix(value):
            forms[value.T] = name.T
            forms[sp.Transpose(value)] = name.T
        expr = expr.xreplace(forms)
    return expr


def _unary_builder(fn, name):
    def build(*args):
        if len(args) != 1:
            raise BadInput(f"{name} takes one argument, got {len(args)}")
        return fn(args[0])
    return build


def _finish(norms):
    def check(expr):
        for marker in norms:
            if expr.has(marker):
                raise BadInput("norm(v) must be squared: write norm(v)**2")
        return expr
    return check


def _check_square(m, what) -> bool:
    if not _is_matrix(m):
        raise BadInput(f"{what}() takes a matrix")
    if not _same_dim(*m.shape):
        raise BadInput(f"{what}() needs a square matrix, {sp.sstr(m)} is {_shape_text(m.shape)}")
    return True


def _sum(v):
    if not _is_matrix(v):
        raise BadInput("sum() takes a vector or a matrix")
    rows, cols = v.shape
    factors = ([sp.OneMatrix(1, rows)] if rows != 1 else []) + [v] + ([sp.OneMatrix(cols, 1)] if cols != 1 else [])
    return sp.Trace(sp.MatMul(*factors) if len(factors) > 1 else v)


def _summed(t):
    """M when the scalar t is the sum of the entries of M (𝟏ᵀM𝟏, 𝟏ᵀv, vᵀ𝟏), else None."""
    if not isinstance(t, sp.Trace) or t.arg.shape != (1, 1):
        return None
    flat = [m for m in _flatten([t.arg]) if m != sp.OneMatrix(1, 1)]
    if not all(_is_matrix(m) for m in flat):
        return None
    if len(flat) >= 2 and isinstance(flat[0], sp.OneMatrix):
        inner = flat[1:]
        if len(inner) >= 2 and isinstance(inner[-1], sp.OneMatrix):
            inner = inner[:-1]
        return inner[0] if len(inner) == 1 else sp.MatMul(*inner)
    if len(flat) == 2 and isinstance(flat[1], sp.OneMatrix):
        return flat[0].T
    return None


def _pull_scalars(expr):
    """tr(A (c B)) = c tr(AB) where c is itself a function of the matrices (log Σ exp(z) after
    the log-softmax identity): the chain rule then sees c as a building block of its own."""
    def fix(t):
        inner = t.arg.expand()
        terms = inner.args if isinstance(inner, sp.MatAdd) else [inner]
        parts = [_split(term) for term in terms]
        if not any(c.has(sp.Trace, sp.Determinant, sp.MatrixSymbol) for c, _ in parts):
            return t
        return sp.Add(*[c * sp.Trace(_product(1, mats)) for c, mats in parts])
    return expr.replace(lambda a: isinstance(a, sp.Trace), fix)


class Fact(NamedTuple):
    """A fact of ``given``: the entries of v sum to c (``sum(y) = 1``), or with ``rows`` every
    row of v does (``rowsum(Y) = 1``: one-hot or probability rows)."""

    v: sp.MatrixSymbol
    c: sp.Rational
    rows: bool = False

    def sides(self):
        """Both sides as the key writes them: 𝟏ᵀy = 1, or Y𝟏 = 𝟏."""
        if self.rows:
            return _row_sums(self.v), self.c * sp.OneMatrix(self.v.shape[0], 1)
        return _sum(self.v), self.c


def given_facts(spec: MatrixSpec) -> list[Fact]:
    """The facts of ``given``: ``sum(v) = c`` and ``rowsum(V) = c`` for names of the shapes."""
    out = []
    ns = namespace(spec)
    for text in spec.given:
        if text.count("=") != 1:
            raise BadInput(f"cannot read {text!r}: write a fact as \"sum(y) = 1\"")
        left, right = text.split("=")
        lhs = parse_expression(left, ns)
        rhs = parse_expression(right, ns)
        rows = isinstance(lhs, sp.MatMul) and len(lhs.args) == 2 and lhs.args[1] == sp.OneMatrix(lhs.args[0].shape[1], 1) \
            and lhs.args[0].shape[1] != 1
        v = lhs.args[0] if rows else _summed(lhs)
        if not isinstance(v, sp.MatrixSymbol) or not getattr(rhs, "is_Rational", False):
            raise BadInput(f"cannot read {text!r}: only \"sum(v) = number\" and \"rowsum(V) = number\" "
                           "are supported, for a vector or matrix of the shapes")
        out.append(Fact(v, rhs, rows))
    return out


def _use_facts(expr, facts):
    """expr with 𝟏ᵀy replaced by c (sum facts) and Y𝟏 by c𝟏 (row facts)."""
    sums = {f.v: f.c for f in facts if not f.rows}
    rows = {f.v: f.c for f in facts if f.rows}
    expr = expr.replace(lambda a: isinstance(a, sp.Trace) and _summed(a) in sums, lambda a: sums[_summed(a)])

    def row(m):
        coeff, mats = _split(m)
        for i in range(len(mats) - 1):
            if mats[i] in rows and mats[i + 1] == sp.OneMatrix(mats[i].shape[1], 1):
                ones = rows[mats[i]] * sp.OneMatrix(mats[i].shape[0], 1)
                rest = mats[:i] + [ones] + mats[i + 2:]
                return coeff * (sp.MatMul(*rest) if len(rest) > 1 else rest[0])
        return m
    return expr.replace(lambda a: isinstance(a, sp.MatMul), row) if rows else expr


def build(spec: MatrixSpec) -> sp.Expr:
    expr = parse_expression(spec.f, namespace(spec))
    if _is_matrix(expr) and expr.shape != (1, 1):
        raise BadInput(f"must be scalar-valued, but its shape is {_shape_text(expr.shape)}")
    expr = _scalar(expr) if _is_matrix(expr) else expr
    return _pull_scalars(expr) if expr.has(Softmax, RowSoftmax, Elementwise) else expr


# --- shapes ---------------------------------------------------------------------------


def shape_table(expr) -> list[tuple[sp.Basic, str]]:
    """Every matrix subexpression with its shape, innermost first, without repeats."""
    rows: list[tuple[sp.Basic, str]] = []
    seen = set()
    for node in sp.postorder_traversal(expr):
        if isinstance(node, sp.MatMul) and node.args[0] == -1:
            continue  # −A has the shape of A
        if isinstance(node, sp.OneMatrix) or (isinstance(node, sp.Transpose) and isinstance(node.arg, sp.OneMatrix)):
            continue  # 𝟏 has the shape its neighbours give it
        if _is_matrix(node) and node not in seen:
            seen.add(node)
            rows.append((node, _shape_text(node.shape)))
        elif isinstance(node, (sp.Trace, sp.Determinant)) and node not in seen and not (
                isinstance(node, sp.Trace) and node.arg.shape == (1, 1)):
            seen.add(node)
            rows.append((node, "1 x 1"))
    return rows


# --- differentials ----------------------------------------------------------------------


class Differential(sp.Function):
    """d(a) of a scalar building block a, printed d(xᵀ(Ax + z)), or d[(Xw − y)ᵀ(Xw − y)] when
    the argument itself opens with a bracket (never d((…)))."""

    nargs = 1

    def _latex(self, printer):
        inner = printer._print(self.args[0])
        if inner.startswith(r"\left("):
            return r"d\left[" + inner + r"\right]"
        return r"d\left(" + inner + r"\right)"


def differential(M, X, dX):
    """d M for a matrix expression M, with dX the differential of the variable X."""
    if M == X:
        return dX
    if not M.has(X):
        return sp.ZeroMatrix(*M.shape)
    if isinstance(M, sp.MatAdd):
        return sp.MatAdd(*[differential(a, X, dX) for a in M.args])
    if isinstance(M, sp.MatMul):
        scalars = [a for a in M.args if not _is_matrix(a)]
        mats = [a for a in M.args if _is_matrix(a)]
        coeff = sp.Mul(*scalars)
        if coeff.has(X):
            raise BadInput(f"cannot differentiate the scalar factor {sp.sstr(coeff)} inside {sp.sstr(M)}")
        terms = []
        for i, factor in enumerate(mats):
            if not factor.has(X):
                continue
            parts = mats[:i] + [differential(factor, X, dX)] + mats[i + 1:]
            terms.append(coeff * sp.MatMul(*parts))
        return sp.MatAdd(*terms)
    if isinstance(M, sp.Transpose):
        return differential(M.arg, X, dX).T
    if isinstance(M, sp.Inverse):
        return -M * differential(M.arg, X, dX) * M
    if isinstance(M, sp.MatPow) and M.exp.is_Integer and M.exp > 0:
        return differential(sp.MatMul(*([M.base] * int(M.exp))), X, dX)
    if isinstance(M, Elementwise):  # d f(U) = f'(U) ⊙ dU
        return sp.HadamardProduct(elementwise_derivative(M.name, M.arg), differential(M.arg, X, dX))
    if isinstance(M, Softmax):      # d softmax(v) = (diag(s) − s sᵀ) dv
        return sp.MatMul(DiagMatrix(M) - M * M.T, differential(M.arg, X, dX))
    if isinstance(M, RowSoftmax):   # dP = P ⊙ (dS − ((P ⊙ dS)𝟏)𝟏ᵀ), row by row
        dS = differential(M.arg, X, dX)
        return sp.HadamardProduct(M, dS - sp.MatMul(_row_sums(sp.HadamardProduct(M, dS)),
                                                   sp.OneMatrix(1, M.shape[1])))
    if isinstance(M, sp.HadamardProduct):
        terms = []
        for i, factor in enumerate(M.args):
            if factor.has(X):
                terms.append(sp.HadamardProduct(*(M.args[:i] + (differential(factor, X, dX),) + M.args[i + 1:])))
        return sp.MatAdd(*terms)
    if isinstance(M, sp.HadamardPower) and not M.exp.has(X):  # d U^{∘p} = p U^{∘(p−1)} ⊙ dU
        inner = differential(M.base, X, dX)
        if M.exp == 2:
            return 2 * sp.HadamardProduct(M.base, inner)
        return M.exp * sp.HadamardProduct(sp.HadamardPower(M.base, M.exp - 1), inner)
    if isinstance(M, DiagMatrix):
        return DiagMatrix(differential(M.args[0], X, dX))
    raise InternalLimit(f"differentiate {sp.sstr(M)}: it has no differential rule for it",
                        shown=MATRIX_NO_RULE)


MATRIX_NO_RULE = "a matrix expression in this part has no differentiation rule yet."


def scalar_differential(atom, X, dX):
    """d of a trace or determinant atom, as a scalar expression in traces."""
    if isinstance(atom, sp.Trace):
        return sp.Trace(differential(atom.arg, X, dX))
    if isinstance(atom, sp.Determinant):
        return atom * sp.Trace(sp.Inverse(atom.arg) * differential(atom.arg, X, dX))
    raise InternalLimit(f"differentiate {sp.sstr(atom)}: it has no differential rule for it",
                        shown=MATRIX_NO_RULE)


def trace_pieces(differential, dX) -> list[tuple[sp.Basic, list]]:
    """(scalar coefficient, matrices) of every term c·tr(… dX …) of a scalar differential."""
    out = []
    for term in sp.Add.make_args(sp.expand(differential)):
        c, traces = sp.S.One, []
        for factor in sp.Mul.make_args(term):
            if isinstance(factor, sp.Trace) and factor.has(dX):
                traces.append(factor)
            else:
                c *= factor
        for t in traces:
            out += [(c * coeff, mats) for coeff, mats in _trace_terms(t)]
    return out


def _trace_terms(t):
    """tr(Σ cᵢ Mᵢ) as [(cᵢ, Mᵢ)] with each Mᵢ a product of matrices."""
    inner = t.arg.doit().expand()
    out = []
    for term in (inner.args if isinstance(inner, sp.MatAdd) else [inner]):
        if isinstance(term, sp.ZeroMatrix):
            continue
        out.append(_split(term))
    return out


def _flatten(mats):
    """Expand products and transposes of products so that dX stands alone as a factor."""
    flat = []
    for m in mats:
        if isinstance(m, sp.MatMul):
            flat.extend(_flatten(list(m.args)))
        elif isinstance(m, sp.Transpose) and isinstance(m.arg, sp.MatMul):
            flat.extend(_flatten([a.T for a in reversed(m.arg.args)]))
        else:
            flat.append(m)
    return flat


def read_off(df_terms, X, dX):
    """Gradient from df = Σ c · tr(L dX R) or c · tr(L dXᵀ R): c (R L)ᵀ, resp. c R L."""
    grads = []
    for coeff, mats in df_terms:
        flat = _flatten(mats)
        scalars = [m for m in flat if not _is_matrix(m)]
        flat = [m for m in flat if _is_matrix(m)]
        positions = [i for i, m in enumerate(flat) if m in (dX, dX.T)]
        coeff = coeff * sp.Mul(*scalars)
        if not positions:  # dX inside an entrywise product: tr(L D R) = ⟨(RL)ᵀ, D⟩, pulled back
            inside = [i for i, m in enumerate(flat) if m.has(dX)]
            if len(inside) != 1:
                raise BadInput("the differential is not linear in d" + X.name)
            i = inside[0]
            L, R = flat[:i], flat[i + 1:]
            G = sp.MatMul(*(R + L)).T if R + L else sp.Identity(flat[i].shape[0])
            grads.append(coeff * pullback(G, flat[i], X, dX))
            continue
        if len(positions) != 1:
            raise BadInput("the differential is not linear in d" + X.name)
        i = positions[0]
        L, R = flat[:i], flat[i + 1:]
        RL = sp.MatMul(*(R + L)) if R + L else sp.Identity(X.shape[0])
        grads.append(coeff * (RL.T if flat[i] == dX else RL))
    return grads


def pullback(G, D, X, dX):
    """The gradient read off from ⟨G, D⟩ = tr(Gᵀ D), D linear in dX:
    ⟨G, L D′ R⟩ = ⟨Lᵀ G Rᵀ, D′⟩, ⟨G, A ⊙ D′⟩ = ⟨G ⊙ A, D′⟩, ⟨G, D′ᵀ⟩ = ⟨Gᵀ, D′⟩,
    ⟨G, diag(d′)⟩ = ⟨diagonal of G, d′⟩."""
    if D == dX:
        return G
    if D == dX.T:
        return G.T
    if isinstance(D, sp.MatAdd):
        parts = [pullback(G, a, X, dX) for a in D.args if a.has(dX)]
        return parts[0] if len(parts) == 1 else sp.MatAdd(*parts)
    if isinstance(D, sp.Transpose):
        return pullback(G.T, D.arg, X, dX)
    if isinstance(D, sp.MatMul):
        coeff, mats = _split(D)
        mats = _flatten(mats)
        if coeff.has(dX):
            raise BadInput("the differential is not linear in d" + X.name)
        inside = [i for i, m in enumerate(mats) if m.has(dX)]
        if len(inside) != 1:
            raise BadInput("the differential is not linear in d" + X.name)
        i = inside[0]
        parts = [m.T for m in reversed(mats[:i])] + [G] + [m.T for m in reversed(mats[i + 1:])]
        return pullback(coeff * (sp.MatMul(*parts) if len(parts) > 1 else G), mats[i], X, dX)
    if isinstance(D, sp.HadamardProduct):
        inside = [i for i, m in enumerate(D.args) if m.has(dX)]
        if len(inside) != 1:
            raise BadInput("the differential is not linear in d" + X.name)
        i = inside[0]
        return pullback(sp.HadamardProduct(G, *(D.args[:i] + D.args[i + 1:])), D.args[i], X, dX)
    if isinstance(D, DiagMatrix):
        return pullback(DiagonalOf(G), D.args[0], X, dX)
    raise BadInput(f"cannot read the gradient off {sp.sstr(D)}")


def _exp_summed(t):
    """v when the scalar t is 𝟏ᵀ exp(v), else None."""
    inner = _summed(t)
    return inner.arg if isinstance(inner, Elementwise) and inner.name == "exp" else None


def tidy(term):
    """A gradient term in the form a teacher writes: 𝟏 ⊙ A = A, numbers out of entrywise products,
    exp(u) ⊘ (𝟏 + exp(u)) = σ(u), exp(v)/(𝟏ᵀ exp(v)) = softmax(v)."""
    def hadamard(h):
        coeff, factors = sp.S.One, []
        stack = list(h.args)
        while stack:
            a = stack.pop(0)
            if isinstance(a, sp.HadamardProduct):
                stack[:0] = list(a.args)
            elif isinstance(a, sp.OneMatrix):
                continue
            elif isinstance(a, sp.MatMul) and not _is_matrix(a.args[0]) and len(a.args) >= 2:
                c, mats = _split(a)
                coeff *= c
                stack.insert(0, _product(1, mats))
            else:
                factors.append(a)
        for f in list(factors):  # exp(u) ⊙ (𝟏 + exp(u))^{∘−1} = σ(u)
            if isinstance(f, sp.HadamardPower) and f.exp == -1 and isinstance(f.base, sp.MatAdd):
                ones = [a for a in f.base.args if isinstance(a, sp.OneMatrix)]
                rest = [a for a in f.base.args if not isinstance(a, sp.OneMatrix)]
                if len(ones) == 1 and len(rest) == 1 and isinstance(rest[0], Elementwise) \
                        and rest[0].name == "exp" and rest[0] in factors:
                    factors.remove(f)
                    factors.remove(rest[0])
                    factors.append(Elementwise("sigmoid", rest[0].arg))
        for f in list(factors):  # exp(S) ⊙ ((𝟏 ⊘ (exp(S)𝟏)) 𝟏ᵀ) = softmax(S) row by row
            if isinstance(f, sp.MatMul) and len(f.args) == 2 and isinstance(f.args[1], sp.OneMatrix) \
                    and isinstance(f.args[0], sp.HadamardPower) and f.args[0].exp == -1:
                sums = f.args[0].base
                if isinstance(sums, sp.MatMul) and len(sums.args) == 2 and isinstance(sums.args[1], sp.OneMatrix) \
                        and isinstance(sums.args[0], Elementwise) and sums.args[0].name == "exp" \
                        and sums.args[0] in factors:
                    factors.remove(f)
                    factors.remove(sums.args[0])
                    factors.append(RowSoftmax(sums.args[0].arg))
        if not factors:
            body = sp.OneMatrix(*h.shape)
        else:
            body = factors[0] if len(factors) == 1 else sp.HadamardProduct(*factors)
        return body if coeff == 1 else coeff * body

    def product(m):
        coeff, mats = _split(m)
        while any(isinstance(a, sp.MatMul) for a in mats):  # Xᵀ(−H) is −XᵀH
            flat = []
            for a in mats:
                c, inner = _split(a) if isinstance(a, sp.MatMul) else (sp.S.One, [a])
                coeff *= c
                flat.extend(inner)
            mats = flat
        if not mats:
            return m
        for base, e in coeff.as_powers_dict().items():
            v = _exp_summed(base)
            if v is None or e != -1:
                continue
            for i, f in enumerate(mats):
                if f == Elementwise("exp", v):
                    mats[i] = Softmax(v)
                elif f in (Elementwise("exp", v).T, Elementwise("exp", v.T)):
                    mats[i] = Softmax(v).T
                else:
                    continue
                return _product(coeff * base, mats)
        return _product(coeff, mats) if len(mats) > 1 or coeff != 1 else mats[0]

    def diagonal(d):  # the diagonal of u vᵀ is u ⊙ v
        coeff, mats = _split(d.arg)
        mats = _flatten(mats)
        if len(mats) == 2 and mats[0].shape[1] == 1 and mats[1].shape[0] == 1:
            body = sp.HadamardProduct(mats[0], mats[1].T)
            return body if coeff == 1 else coeff * body
        return d

    term = term.replace(lambda a: isinstance(a, DiagonalOf), diagonal)
    term = term.replace(lambda a: isinstance(a, sp.HadamardProduct), hadamard)
    return term.replace(lambda a: isinstance(a, sp.MatMul), product)


def _distributed(terms):
    """c(A + B) as the terms cA, cB (a contribution pulled back through a sum, such as
    dS − ((Y ⊙ dS)𝟏)𝟏ᵀ), so that collect() sees every left factor."""
    out = []
    for t in terms:
        c, mats = _split(t)
        if len(mats) == 1 and isinstance(mats[0], sp.MatAdd):
            out.extend(_product(c, [a]) if not isinstance(a, sp.MatMul) else c * a for a in mats[0].args)
        else:
            out.append(t)
    return out


def simplify_entrywise(expr):
    """Every sum of entrywise terms simplified as the scalar algebra it is entry by entry:
    (σ ⊙ (𝟏 − σ)) ⊘ (𝟏 − σ) − (y ⊙ σ ⊙ (𝟏 − σ)) ⊘ (𝟏 − σ) − (y ⊙ σ ⊙ (𝟏 − σ)) ⊘ σ is σ − y
    (the binary cross-entropy of a sigmoid). Kept only when it is shorter; the result is
    verified with the rest of the gradient."""
    def fix(add):
        atoms: dict = {}

        def to_scalar(e):
            if isinstance(e, sp.MatAdd):
                return sp.Add(*[to_scalar(a) for a in e.args])
            if isinstance(e, sp.HadamardProduct):
                return sp.Mul(*[to_scalar(a) for a in e.args])
            if isinstance(e, sp.HadamardPower) and e.exp.is_Integer:
                return to_scalar(e.base) ** e.exp
            if isinstance(e, sp.OneMatrix):
                return sp.S.One
            if isinstance(e, sp.MatMul):
                c, mats = _split(e)
                if len(mats) == 1 and c.is_number:
                    return c * to_scalar(mats[0])
            if not _is_matrix(e) or e.shape != add.shape:
                raise ValueError
            return atoms.setdefault(e, sp.Dummy("a"))

        def to_matrix(t):
            if t.is_Add:
                return sp.MatAdd(*[to_matrix(a) for a in t.args])
            if t.is_Number:
                return t * sp.OneMatrix(*add.shape) if t != 1 else sp.OneMatrix(*add.shape)
            if t.is_Mul:
                c, rest = t.as_coeff_Mul()
                factors = [to_matrix(a) for a in sp.Mul.make_args(rest)]
                body = factors[0] if len(factors) == 1 else sp.HadamardProduct(*factors)
                return body if c == 1 else c * body
            if t.is_Pow and t.exp.is_Integer:
                return sp.HadamardPower(to_matrix(t.base), t.exp)
            return back[t]

        try:
            scalar = to_scalar(add)
        except ValueError:
            return add
        if len(atoms) < 1:
            return add
        back = {v: k for k, v in atoms.items()}
        simpler = sp.factor(sp.cancel(scalar))
        expanded = sp.expand(sp.cancel(scalar))
        if sp.count_ops(expanded) < sp.count_ops(simpler):
            simpler = expanded
        if sp.count_ops(simpler) >= sp.count_ops(scalar):
            return add
        return to_matrix(simpler)

    return expr.replace(lambda a: isinstance(a, sp.MatAdd) and a.has(sp.HadamardPower), fix)


def _split(term):
    """A gradient term as (scalar coefficient, [matrix factors])."""
    coeff, mats = sp.S.One, []
    for a in (term.args if isinstance(term, sp.MatMul) else [term]):
        if _is_matrix(a):
            mats.append(a)
        else:
            coeff *= a
    return coeff, mats


def _product(coeff, mats):
    body = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
    return body if coeff == 1 else coeff * body


def _common_factor(coeffs: list) -> sp.Expr:
    """The scalar factor shared by every coefficient (2, 1/m …), positive; 1 if none.

    Coefficients holding traces (wᵀx − y) are left alone: polynomial gcds do not apply to
    matrix expressions, so only their rational parts are compared.
    """
    if len(coeffs) < 2:
        return sp.S.One
    if any(c.has(sp.Trace, sp.Determinant) for c in coeffs):
        coeffs = [c.as_coeff_Mul()[0] for c in coeffs]
    common = coeffs[0]
    for c in coeffs[1:]:
        common = sp.gcd(common, c)
    if common == 0:
        return sp.S.One
    if all(c.could_extract_minus_sign() for c in coeffs):
        common = -common
    return common


def collect(terms, X, by_left: bool = False):
    """Sum of gradient terms in the form a teacher writes.

    A common scalar factor comes out front; then a matrix factor shared on the left by every
    term (Xᵀ(Xw − y)), else terms with the same right factor are grouped ((A + Aᵀ)x + z).
    With ``by_left``, terms sharing a left factor are grouped even when others do not
    ((1/N) Xᵀ(P − Y) + 2λW).
    """
    if by_left and len(terms) > 2:
        groups: dict = {}
        for i, t in enumerate(terms):
            _, m = _split(t)
            groups.setdefault(m[0] if len(m) >= 2 else ("solo", i), []).append(t)
        if len(groups) > 1 and any(len(g) >= 2 for g in groups.values()):
            return sp.MatAdd(*[collect(g, X) if len(g) >= 2 else g[0] for g in groups.values()])
    parts = [_split(t) for t in terms]
    common = _common_factor([c for c, _ in parts])
    parts = [(c / common, m) for c, m in parts]
    lefts = {m[0] for _, m in parts if len(m) >= 2}
    if len(parts) > 1 and len(lefts) == 1 and all(len(m) >= 2 for _, m in parts):
        (left,) = lefts
        inner = sp.MatAdd(*[_product(c, m[1:]) for c, m in parts]).doit()
        body = sp.MatMul(left, inner)
    else:
        groups: dict = {}
        for c, m in parts:
            key = m[-1] if len(m) >= 2 else ("solo", len(groups))
            groups.setdefault(key, []).append((c, m[:-1] if len(m) >= 2 else m))
        out = []
        for key, members in groups.items():
            if isinstance(key, tuple):
                out.extend(_product(c, m) for c, m in members)
            elif len(members) == 1:
                c, m = members[0]
                out.append(_product(c, m + [key]))
            else:
                out.append(sp.MatMul(sp.MatAdd(*[_product(c, m) for c, m in members]).doit(), key))
        body = out[0] if len(out) == 1 else sp.MatAdd(*out)
    if common == 1:
        return body
    # MatMul(2, A + B) would be distributed by SymPy; keep the teacher's 2(A + B)
    return sp.MatMul(common, body, evaluate=False) if isinstance(body, sp.MatAdd) else common * body


# --- solving -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixSolution:
    f: sp.Basic
    wrt: sp.Basic
    shapes: tuple[tuple[sp.Basic, str], ...]
    df_chain: sp.Basic          # Σ ∂f/∂a · da
    df_expanded: sp.Basic       # with every da expanded
    terms: tuple[tuple[sp.Basic, sp.Basic], ...]  # (c·tr(…dX…), its gradient contribution)
    raw_gradient: sp.Basic
    gradient: sp.Basic
    shape: str
    checked_at: str              # LaTeX: the concrete sizes, "m = 3, n = 2" ("" when all given)
    entry_example: tuple[sp.Basic, sp.Basic] | None
    notation: tuple[tuple[str, str], ...] = ()
    general: sp.Basic | None = None  # the gradient before the given facts (𝟏ᵀy = 1) are used
    given: tuple[tuple[sp.Basic, sp.Basic], ...] = ()   # (𝟏ᵀy, 1)
    entrywise: bool = False          # f applies functions entry by entry (⊙ rules are shown)
    rewrites: tuple[tuple[sp.Basic, sp.Basic], ...] = ()  # identities used while reading f
    named: tuple[str, ...] = ()      # "softmax", "sigmoid": recognized while collecting
    named_after: tuple[str, ...] = ()  # recognized only once the given facts were used
    second: Any = None               # hessian.SecondOrder
    where: tuple[tuple[sp.Basic, sp.Basic, str], ...] = ()  # (name, value, shape) of the definitions
    sigmas: tuple[tuple[sp.Basic, sp.Basic], ...] = ()  # (σ₁, σ(y₁wᵀx₁)): names in a long Hessian

    def names(self, bold: bool = False) -> dict:
        """Every matrix symbol (and its differential) with its LaTeX in the question's notation:
        the ``notation`` table first; with ``bold``, vectors \\boldsymbol{x}, matrices \\mathbf{A}."""
        given = dict(self.notation)
        out = {}
        mats = {m for m in self.f.atoms(sp.MatrixSymbol)} | {self.wrt}
        for name, value, _ in self.where:  # the names inside the definitions, and their own
            mats |= value.atoms(sp.MatrixSymbol) | ({name} if isinstance(name, sp.MatrixSymbol) else set())
        for m in mats:
            if m.name in given:
                text = given[m.name]
            elif bold and m.shape != (1, 1):
                base = sp.latex(sp.Symbol(m.name))
                vector = 1 in m.shape
                text = (rf"\boldsymbol{{{base}}}" if vector or base.startswith("\\") else rf"\mathbf{{{base}}}")
            else:
                continue
            out[m] = text
        for s in self.f.free_symbols | {n for n, _, _ in self.where if isinstance(n, sp.Symbol)}:
            if s.name in given:
                out[s] = given[s.name]
        d = sp.MatrixSymbol(f"d{self.wrt.name}", *self.wrt.shape)
        out[d] = "d" + out.get(self.wrt, sp.latex(sp.Symbol(self.wrt.name)))
        if self.second is not None:  # the direction z of zᵀHz, bold like the variable
            z = self.second.z
            out[z] = r"\boldsymbol{z}" if bold and self.wrt not in given else "z"
            for _, row in self.second.rows:  # xᵢᵀ, a row of the data matrix X
                out[row] = rf"\boldsymbol{{{row.name}}}" if bold else row.name
        return out

    @property
    def df_lines(self) -> list[tuple[str, sp.Basic]]:
        """The terms of the expanded differential as (sign, term with the sign taken out), one
        per line of the key when entrywise products make them long."""
        out = []
        for i, term in enumerate(sp.Add.make_args(self.df_expanded)):
            negative, positive = _sign_of(term)
            out.append(("-" if negative else ("" if i == 0 else "+"), positive))
        return out

    @property
    def term_lines(self) -> list:
        """(term, [(sign, piece)]) for the entrywise read-off: a contribution c(A + B) is shown as
        cA + cB, one piece a line, so that a long one does not run off the page."""
        out = []
        for term, g in self.terms:
            c, mats = _split(g)
            if len(mats) == 1 and isinstance(mats[0], sp.MatAdd):
                pieces = []
                for i, a in enumerate(mats[0].args):
                    k, inner = _split(a)
                    k = c * k
                    negative = k.could_extract_minus_sign()
                    pieces.append(("-" if negative else ("" if i == 0 else "+"), _product(-k if negative else k, inner)))
                out.append((term, pieces))
            else:
                out.append((term, [("", g)]))
        return out

    @property
    def kinks(self) -> list:
        """The arguments of max(0, ·) in f (as the key writes them): where an entry is 0 the
        function is not differentiable."""
        return sorted({a.arg for a in self.f.atoms(Elementwise) if a.name == "relu"}, key=sp.default_sort_key)

    @property
    def function(self) -> str:
        """The function's name as the question writes it (f, L)."""
        return dict(self.notation).get("function", "f")

    @property
    def is_matrix(self) -> bool:
        return 1 not in self.wrt.shape


def solve(problem: Problem) -> Solution:
    spec: MatrixSpec = problem.spec
    f = build(spec)
    ns_shapes = _shapes(spec)
    if spec.wrt in ns_shapes:
        X = sp.MatrixSymbol(spec.wrt, *ns_shapes[spec.wrt])
    else:
        X = sp.MatrixSymbol(spec.wrt, 1, 1)  # a scalar variable, as a 1 × 1 matrix
        f = f.subs(sp.Symbol(spec.wrt, real=True), sp.Trace(X))
    dX = sp.MatrixSymbol(f"d{spec.wrt}", *X.shape)
    atoms = sorted([a for a in f.atoms(sp.Trace, sp.Determinant) if a.has(X)], key=sp.default_sort_key)
    dummies = {a: sp.Dummy(f"a{i}") for i, a in enumerate(atoms)}
    f_plain = f.xreplace(dummies)
    partials = {a: sp.diff(f_plain, dummies[a]).xreplace({v: k for k, v in dummies.items()})
                for a in atoms}
    D = Differential
    df_chain = sp.Add(*[partials[a] * D(a) for a in atoms])
    expanded = {a: scalar_differential(a, X, dX) for a in atoms}
    df_expanded = sp.Add(*[partials[a] * expanded[a] for a in atoms])
    df_terms = []
    shown = []
    for a in atoms:
        df_terms += [(partials[a] * k, mats) for k, mats in trace_pieces(expanded[a], dX)]
    if not df_terms:  # f does not depend on X after all (u − u): the gradient is zero
        df_terms = []
        contributions = [sp.ZeroMatrix(*X.shape)]
    else:
        contributions = read_off(df_terms, X, dX)
    for (coeff, mats), g in zip(df_terms, contributions):
        shown.append((coeff * sp.Trace(sp.MatMul(*mats)), g))
    raw = (sp.MatAdd(*contributions) if len(contributions) > 1 else contributions[0]).doit()
    if isinstance(raw, sp.ZeroMatrix):
        gradient = raw
    else:
        terms = list(raw.args) if isinstance(raw, sp.MatAdd) else [raw]
        if f.has(*ENTRYWISE_NODES):
            terms = [tidy(t) for t in _distributed(terms)]
        gradient = collect(terms, X, by_left=f.has(*ENTRYWISE_NODES))
        if f.has(Elementwise, Softmax, RowSoftmax):
            gradient = _untranspose_sums(gradient)
        if f.has(*ENTRYWISE_NODES):
            gradient = simplify_entrywise(gradient)
    facts = given_facts(spec)
    general = None
    if facts:
        replaced = _use_facts(gradient, facts)
        if replaced != gradient:
            terms = _terms_of(replaced.doit().expand())
            if f.has(*ENTRYWISE_NODES):
                terms = [tidy(t) for t in terms]
            general, gradient = gradient, _untranspose_sums(collect(terms, X, by_left=True))
    checked = _verify(problem, spec, f, X, raw, gradient, facts, general)
    example = _entry_example(spec, f, X, facts)
    second, more, second_checks = None, [], ()
    if spec.second is not None:
        from . import hessian
        second, more, second_checks = hessian.solve(problem, spec, f, X, gradient)
    if X.shape == (1, 1):
        gradient = _scalar_value(gradient)
    named = _named_both(raw, general, gradient)
    shown_gradient, sigmas = gradient, ()
    if not f.has(*ENTRYWISE_NODES) and gradient.has(sp.exp):  # e^{t}/(1 + e^{t}) = σ(t) for numbers t
        shown_gradient = name_sigmoids(gradient)
        if shown_gradient.has(ScalarSigmoid):
            _same_at_random_points(problem, spec, f, X, gradient, shown_gradient)
            named = (named[0] + ("sigmoid_scalar",), named[1])
        else:
            shown_gradient = gradient
    if second is not None and not f.has(*ENTRYWISE_NODES) and second.hessian.has(sp.exp):
        shown_hessian = name_sigmoids(second.hessian)  # eᵗ/(eᵗ + 1)² = σ(t)(1 − σ(t))
        if shown_hessian.has(ScalarSigmoid):
            _same_at_random_points(problem, spec, f, X, second.hessian, shown_hessian, "hessian")
            sigs = sorted(shown_hessian.atoms(ScalarSigmoid), key=sp.default_sort_key)
            if len(sigs) >= 2:  # Σᵢ σᵢ(1 − σᵢ) xᵢxᵢᵀ with σᵢ = σ(yᵢwᵀxᵢ): one line, as the question writes it
                sigmas = tuple((sp.Symbol(f"sigma_{k + 1}"), a) for k, a in enumerate(sigs))
                shown_hessian = shown_hessian.xreplace({a: name for name, a in sigmas})
            second = replace(second, hessian=shown_hessian)
    pairs = abbreviations(spec)  # display only: the checks and the JSON use the full values
    short = lambda e: abbreviate(e, pairs)  # noqa: E731
    rows = []
    for e, sh in shape_table(f):
        row = (short(e), sh)
        if row not in rows:
            rows.append(row)
    defined = tuple((name, abbreviate(value, pairs[i + 1:]), _shape_text(value.shape) if _is_matrix(value) else "1 x 1")
                    for i, (value, name) in enumerate(pairs))[::-1]
    body = MatrixSolution(short(f), X, tuple(rows), short(df_chain), short(df_expanded),
                          tuple((short(t), short(g)) for t, g in shown), short(raw),
                          short(shown_gradient), _shape_text(X.shape), checked, example, spec.notation,
                          short(general), tuple(fact.sides() for fact in facts),
                          f.has(*ENTRYWISE_NODES),
                          tuple((short(a), short(b)) for a, b in _rewrites(spec)), *named, second=second,
                          where=defined, sigmas=sigmas)
    answers = (Answer("gradient", gradient), Answer("shape", _shape_text(X.shape))) + \
        tuple(Answer(label, value) for label, value in more)
    return Solution(problem, answers, body,
                    ("matrix gradients entry by entry against the derivative of the expanded scalar at a concrete size",)
                    + second_checks)


def _named_both(raw, general, gradient):
    first = _named(raw, general if general is not None else gradient)
    after = tuple(k for k in _named(raw, gradient) if k not in first) if general is not None else ()
    return first, after


def _named(raw, gradient) -> tuple[str, ...]:
    """The functions tidy() recognized in the gradient (the key states the identity)."""
    out = []
    if gradient.has(Softmax) and not raw.has(Softmax):
        out.append("softmax")
    if gradient.has(RowSoftmax) and not raw.has(RowSoftmax):
        out.append("softmax_rows")
    sig = lambda e: any(a.name == "sigmoid" for a in e.atoms(Elementwise)) if e.has(Elementwise) else False  # noqa: E731
    if sig(gradient) and not sig(raw):
        out.append("sigmoid")
    return tuple(out)


def _untranspose_sums(e):
    """−yᵀ + sᵀ is (s − y)ᵀ: a teacher transposes the sum, not each term."""
    def fix(add):
        inner = []
        for a in add.args:
            c, mats = _split(a)
            if len(mats) != 1 or not isinstance(mats[0], sp.Transpose):
                return add
            inner.append(c * mats[0].arg if c != 1 else mats[0].arg)
        return sp.Transpose(sp.MatAdd(*inner))
    return e.replace(lambda a: isinstance(a, sp.MatAdd), fix)


def _sign_of(term):
    """(True, −term) when the term prints with a leading minus (−c·x, tr(−yᵀUᵀdv)), else (False, term)."""
    if isinstance(term, sp.Trace) and isinstance(term.arg, sp.MatMul):
        coeff, mats = _split(term.arg)
        if coeff.could_extract_minus_sign():
            return True, sp.Trace(_product(-coeff, mats))
    if term.could_extract_minus_sign():
        return True, -term
    return False, term


def _terms_of(e):
    return list(e.args) if isinstance(e, sp.MatAdd) else [e]


def _rewrites(spec: MatrixSpec):
    """The identities used while reading f (log softmax(v) = v − 𝟏 log(𝟏ᵀ exp(v))), for the key."""
    record: list = []
    parse_expression(spec.f, namespace(spec, record))
    out = []
    for pair in record:
        if pair not in out:
            out.append(pair)
    return out


def _scalar_value(g):
    return g[0, 0] if _is_matrix(g) else g


def _concrete(spec: MatrixSpec, f, X):
    """Sizes for the symbolic dimensions and explicit matrices of symbols for every name."""
    shapes = _shapes(spec)
    dims = []
    for rows, cols in shapes.values():
        for d in (rows, cols):
            if d.is_Symbol and d not in dims:
                dims.append(d)
    sizes = {d: CONCRETE[i % len(CONCRETE)] for i, d in enumerate(dims)}
    explicit = {}
    for name, (rows, cols) in shapes.items():
        r, c = int(rows.subs(sizes)), int(cols.subs(sizes))
        if c == 1 or r == 1:  # an entry of a vector has one index: x₁, not x₁₁
            entry = (lambda i, j, name=name: sp.Symbol(f"{name}_{i + j + 1}", real=True))
        else:
            entry = (lambda i, j, name=name: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))
        explicit[sp.MatrixSymbol(name, rows, cols)] = sp.Matrix(r, c, entry)
    return sizes, explicit


def _relu_unevaluated(u):
    """max(0, u) left as it is: SymPy's Max compares a long u with 0 in every way it knows."""
    return sp.Max(0, u, evaluate=False)


def _explicit(expr, sizes, explicit):
    """``expr`` at the concrete sizes: traces and determinants evaluated before products."""
    e = expr.subs(sizes).xreplace({k.subs(sizes): v for k, v in explicit.items()})
    # 𝟏 of a concrete size as an explicit matrix: a product with a OneMatrix is otherwise
    # expanded through symbolic sums (seconds for a 3 × 4 margin matrix)
    e = e.replace(lambda a: isinstance(a, sp.OneMatrix) and a.shape[0].is_Integer and a.shape[1].is_Integer,
                  lambda a: sp.ImmutableMatrix(sp.ones(int(a.shape[0]), int(a.shape[1]))))

    def evaluate(atom):
        inner = sp.Matrix(atom.arg.doit())
        if isinstance(atom, sp.Inverse):
            try:  # over the field of rational functions: Gauss–Jordan on SymPy trees is 40× slower
                return sp.ImmutableMatrix(inner.inv(method="DM"))
            except (ValueError, NotImplementedError, TypeError):
                return sp.ImmutableMatrix(inner.inv())
        return inner.trace() if isinstance(atom, sp.Trace) else inner.det()

    def entrywise(atom):  # innermost first (replace works bottom-up): arguments are explicit
        if isinstance(atom, Elementwise):
            fn = SCALAR[atom.name][0] if atom.name != "relu" else _relu_unevaluated
            return sp.ImmutableMatrix(_explicit_value(atom.arg).applyfunc(fn))
        if isinstance(atom, Softmax):
            v = _explicit_value(atom.arg)
            total = sp.Add(*[sp.exp(a) for a in v])
            return sp.ImmutableMatrix(v.applyfunc(lambda a: sp.exp(a) / total))
        if isinstance(atom, RowSoftmax):
            S = _explicit_value(atom.arg)
            totals = [sum(sp.exp(a) for a in S.row(i)) for i in range(S.rows)]
            return sp.ImmutableMatrix(S.rows, S.cols, lambda i, j: sp.exp(S[i, j]) / totals[i])
        if isinstance(atom, sp.HadamardProduct):
            out = _explicit_value(atom.args[0])
            for a in atom.args[1:]:
                out = out.multiply_elementwise(_explicit_value(a))
            return sp.ImmutableMatrix(out)
        if isinstance(atom, sp.HadamardPower):
            return sp.ImmutableMatrix(_explicit_value(atom.base).applyfunc(lambda a: a ** atom.exp))
        if isinstance(atom, DiagMatrix):
            return sp.ImmutableMatrix(sp.diag(*_explicit_value(atom.args[0])))
        M = _explicit_value(atom.args[0])  # DiagonalOf
        return sp.ImmutableMatrix([M[i, i] for i in range(min(M.shape))])

    if e.has(Elementwise, Softmax, RowSoftmax, sp.HadamardProduct, sp.HadamardPower, DiagMatrix, DiagonalOf):
        e = e.replace(lambda a: isinstance(a, (Elementwise, Softmax, RowSoftmax, sp.HadamardProduct, sp.HadamardPower,
                                               DiagMatrix, DiagonalOf)), entrywise)
    e = e.replace(lambda a: isinstance(a, (sp.Trace, sp.Determinant, sp.Inverse)), evaluate).doit()
    if isinstance(e, (MatrixExpr, sp.MatrixBase)):
        return sp.Matrix(e.as_explicit()) if isinstance(e, MatrixExpr) else sp.Matrix(e)
    return e


def _verify(problem: Problem, spec: MatrixSpec, f, X, raw, gradient, facts=(), general=None) -> str:
    """Every entry of ``raw`` and ``gradient`` against sympy.diff of the explicit scalar at a
    concrete size: symbolically while cheap, and at three random rational points. With
    functions applied entry by entry the explicit scalar is transcendental: the points are
    shifted off the kinks (ReLU at 0) and compared to 30 digits. With ``facts`` (sum(y) = 1)
    every point satisfies them (the last entry of y is 1 minus the others)."""
    sizes, explicit = _concrete(spec, f, X)
    entrywise = f.has(*ENTRYWISE_NODES)
    if X.shape == (1, 1) and X not in explicit:
        explicit[X] = sp.Matrix([[sp.Symbol(f"{X.name}_1", real=True)]])
    Xs = explicit[X]
    has_inverse = f.has(sp.Inverse) or f.has(sp.Determinant)
    # with an inverse the explicit scalar is a quotient of determinants in every entry:
    # differentiate at each random point in one entry at a time instead (the others numbers)
    f_e = None
    if not has_inverse:
        f_e = _explicit(f, sizes, explicit)
        if isinstance(f_e, sp.MatrixBase):
            f_e = f_e[0, 0]
    rng = random.Random(f"{problem.id}/gradient")
    kinks = [k for k in kink_entries(f, sizes, explicit) if k.has(*Xs)]
    t = sp.Dummy("t")
    checks = [("gradient (before collecting)", raw), ("gradient", gradient)]
    if general is not None:
        checks.insert(1, ("gradient (before the given facts)", general))
    for label, G in checks:
        G_e = None if has_inverse else _as_matrix(_explicit(G, sizes, explicit))
        points = []
        for _ in range(3):
            at = {}
            for M in explicit.values():
                for s in M:
                    at[s] = sp.Rational(rng.randint(-9, 9), 4) + (sp.Rational(1, 3) if s.name.endswith(
                        tuple(f"_{k}{k}" for k in range(1, 6))) else 0)
                    if entrywise:
                        at[s] += sp.Rational(1, rng.randint(7, 97))
            for s in f.free_symbols:
                at.setdefault(s, sp.Rational(rng.randint(1, 9), 5))
            for fact in facts:
                V = explicit[fact.v]
                for entries in ([list(V.row(i)) for i in range(V.rows)] if fact.rows else [list(V)]):
                    at[entries[-1]] = fact.c - sum(at[e] for e in entries[:-1])
            points.append(off_kinks(at, kinks, list(Xs), rng))
        if has_inverse:
            for at in points:
                G_at = _as_matrix(_explicit(G, sizes, _at(explicit, at))).xreplace(at)
                _same_shape(problem, G_at, Xs, X)
                for i in range(Xs.rows):
                    for j in range(Xs.cols):
                        bumped = _at(explicit, {**at, Xs[i, j]: at[Xs[i, j]] + t})
                        f_t = _scalar_value(_explicit(f, sizes, bumped)).xreplace(at)
                        exact = sp.diff(f_t, t).xreplace({t: 0})
                        if sp.nsimplify(exact - G_at[i, j]) != 0 and abs(sp.N(exact - G_at[i, j], 30)) > 1e-20:
                            raise VerificationFailed(problem.id, "gradient", f"entry ({i + 1},{j + 1}) at "
                                                     f"random matrices: {sp.N(G_at[i, j], 12)} ≠ {sp.N(exact, 12)}")
            continue
        _same_shape(problem, G_e, Xs, X)
        for i in range(Xs.rows):
            for j in range(Xs.cols):
                exact = sp.diff(f_e, Xs[i, j])
                # symbolic comparison while it is cheap; large polynomials are compared at
                # the random rational points below (exact arithmetic, Schwartz–Zippel)
                small = sp.count_ops(exact) + sp.count_ops(G_e[i, j]) < 400 and not entrywise and not facts
                if small and sp.expand(exact - G_e[i, j]) != 0:
                    raise VerificationFailed(problem.id, "gradient", f"entry ({i + 1},{j + 1}): "
                                             f"{sp.sstr(G_e[i, j])} ≠ {sp.sstr(exact)}")
                for at in points:
                    a, b = exact.xreplace(at), G_e[i, j].xreplace(at)
                    if entrywise:
                        differ = abs(sp.N(a - b, 30)) > 1e-20 * (1 + abs(sp.N(a, 30)))
                    else:
                        differ = sp.nsimplify(a - b) != 0 and abs(sp.N(a - b, 30)) > 1e-20
                    if differ:
                        raise VerificationFailed(problem.id, "gradient", f"entry ({i + 1},{j + 1}) at "
                                                 f"random matrices: {sp.N(b, 12)} ≠ {sp.N(a, 12)}")
    return ", ".join(f"{sp.latex(d)} = {v}" for d, v in sizes.items())


def kink_entries(f, sizes, explicit) -> list[sp.Expr]:
    """Every entry, at the concrete size, of every argument of max(0, ·) (ReLU) in f: where one
    is 0 the function has a kink and no derivative."""
    out = []
    for atom in f.atoms(Elementwise):
        if atom.name == "relu":
            out.extend(_as_matrix(_explicit(atom.arg, sizes, explicit)))
    return out


def off_kinks(at: dict, kinks, variable, rng, tries: int = 20) -> dict:
    """``at`` with the entries of the variable moved until no ReLU argument is exactly 0 there
    (a margin on the hinge): there is no derivative there, so such a point cannot check it."""
    for _ in range(tries):
        if not any(k.xreplace(at) == 0 for k in kinks):
            return at
        at = {**at, **{s: at[s] + sp.Rational(1, rng.randint(101, 997)) for s in variable}}
    raise InternalLimit("find a random point off the kinks of max(0, ·) to check the gradient at",
                        shown="the random points used for checking kept landing on a kink of max(0, ·).")


def _same_at_random_points(problem: Problem, spec: MatrixSpec, f, X, G, H, label: str = "gradient") -> None:
    """G and its rewriting H (σ written for eᵗ/(1 + eᵗ)) agree entry by entry at the concrete
    size, at three random rational points, to 30 digits."""
    sizes, explicit = _concrete(spec, f, X)
    if X.shape == (1, 1) and X not in explicit:
        explicit[X] = sp.Matrix([[sp.Symbol(f"{X.name}_1", real=True)]])
    unsig = lambda e: e.replace(lambda a: isinstance(a, ScalarSigmoid), lambda a: 1 / (1 + sp.exp(-a.args[0])))  # noqa: E731
    A = _as_matrix(_explicit(G, sizes, explicit))
    B = _as_matrix(_explicit(unsig(H), sizes, explicit))
    rng = random.Random(f"{problem.id}/sigma")
    symbols = set().union(*(e.free_symbols for e in [*A, *B]))
    for _ in range(3):
        at = {s_: sp.Rational(rng.randint(-9, 9), 4) + sp.Rational(1, rng.randint(7, 97)) for s_ in symbols}
        for a, b in zip(A, B):
            if abs(sp.N((a - b).xreplace(at), 30)) > 1e-20 * (1 + abs(sp.N(a.xreplace(at), 30))):
                raise VerificationFailed(problem.id, label, f"writing σ changed the {label}")


def _as_matrix(e) -> sp.Matrix:
    return e if isinstance(e, sp.MatrixBase) else sp.Matrix([[e]])


def _at(explicit: dict, at: dict) -> dict:
    """The explicit matrices with their entries replaced by the numbers in ``at``."""
    return {M: E.xreplace(at) for M, E in explicit.items()}


def _same_shape(problem: Problem, G_e: sp.Matrix, Xs: sp.Matrix, X) -> None:
    if G_e.shape != Xs.shape:
        raise VerificationFailed(problem.id, "gradient", f"shape {G_e.shape} is not the shape of "
                                 f"{X.name}, {Xs.shape}")


def _entry_example(spec: MatrixSpec, f, X, facts=()):
    """∂f/∂X₁₁ at the concrete size: the entry-by-entry view of the same gradient (with the
    given facts used: the last entry of y is 1 minus the others)."""
    sizes, explicit = _concrete(spec, f, X)
    if X not in explicit or f.has(sp.Inverse):
        return None  # an entry of an inverse is a quotient of determinants: never a short example
    f_e = _explicit(f, sizes, explicit)
    if isinstance(f_e, sp.MatrixBase):
        f_e = f_e[0, 0]
    x11 = explicit[X][0, 0]
    d = sp.diff(f_e, x11)
    for fact in facts:
        V = explicit[fact.v]
        for entries in ([list(V.row(i)) for i in range(V.rows)] if fact.rows else [list(V)]):
            d = d.subs(entries[-1], fact.c - sp.Add(*entries[:-1]))
        d = sp.simplify(d) if sp.count_ops(d) < 60 else d
    if f.has(*ENTRYWISE_NODES):  # factoring sums of exponentials is slow and rarely shorter
        return (x11, d) if sp.count_ops(d) <= 12 else None
    if sp.count_ops(d) > 150:
        # a short example is at most 12 operations; factoring a long polynomial into one
        # costs seconds (the square of a quadratic form) and almost never succeeds
        return None
    d = sp.factor(d)
    if sp.count_ops(d) > 12:
        return None
    return (x11, d)
