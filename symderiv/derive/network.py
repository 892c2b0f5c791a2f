"""Kind ``mlp``: forward and backward passes through a small multi-layer perceptron.

Internal names: z_k = W_k h_{k-1} + b_k, h_0 = x, h_k = hidden(z_k), ŷ = output(z_L), loss
ℓ(ŷ, y). The key speaks in the question's names instead (``[problem.notation]``, class
:class:`Names`): L and f(x; θ), z₁ … z₃ numbered step by step, aᵢ with a₁ = x, Wᵢ or W⁽ⁱ⁾ ….

- Numeric (``x``, ``y`` and ``[problem.params]`` given): exact arithmetic; a forward table
  of every z_k, h_k, ŷ, ℓ and a backward table, layer by layer, of ∂ℓ/∂ŷ, the activation's
  derivative at the numbers, δ_k = ∂ℓ/∂z_k, ∂ℓ/∂h_k and every ∂ℓ/∂W_k, ∂ℓ/∂b_k, each with its
  formula, the numbers substituted and the value. Every gradient is checked against the
  derivative of the fully composed loss and by finite differences.
- Symbolic (no numbers): the Layer | Input | Output table with the given activations
  substituted, the loss written out, the Parameter | Gradient table, the layer-wise
  recurrences and the elementwise derivatives.

Every formula either kind displays is evaluated on a concrete network and compared with the
quantity it names (see "what the key displays" below), so a formula that is printed is a
formula that was checked, not only the final values.

At a kink (a ReLU pre-activation exactly 0) the derivative is the left one (ReLU′(0) = 0,
as PyTorch does); the key says so where it happens.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
from dataclasses import dataclass
from decimal import Decimal

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr

from .. import memo, verify
from ..assume import Scope, parse_assumption
from ..errors import BadInput, VerificationFailed
from ..library import Entry
from ..library.activations import ACTIVATIONS
from ..library.losses import LOSSES, MEAN_LOSSES, vector_loss
from ..spec import Fields, Problem
from . import netexpr
from .branches import split_branches
from .derivative import FunctionSpec, _solve_scalar, DerivativeSpec
from .steps import Answer, Solution

FIELDS = {"layers", "hidden", "output", "loss", "x", "y", "params", "constants", "recurrences", "notation",
          "output_of_hidden"}
_SIZE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# How the pre- and post-activations are numbered, as the question numbers them.
INDEXING = {
    "layer": "z_k = W_k h_{k-1} + b_k, h_k = f(z_k), h_0 = x",
    "step": "z_1 = W_1 x + b_1, z_2 = f(z_1), z_3 = W_2 z_2 + b_2, ... (one index per step)",
    "input": "a_1 = x, z_i = W_i a_i + b_i, a_{i+1} = f(z_i)",
}
# the layer index inside a weight or bias pattern: a lone i (not part of a command or word)
_PLACEHOLDER = re.compile(r"(?<![A-Za-z\\])i(?![A-Za-z])")


@dataclass(frozen=True)
class Notation:
    """The question's names (LaTeX) for the network's quantities."""

    loss: str = r"\ell"
    output: str = r"\hat{y}"
    input: str = "x"
    target: str = "y"
    pre: str = "z"
    post: str = "h"
    weights: str = "W^{(i)}"
    biases: str = ""
    index: str = "layer"
    index_letter: str = "k"
    hidden_fn: str = ""
    output_fn: str = ""


def _parse_notation(f: Fields, depth: int = 2) -> Notation:
    allowed = [fl.name for fl in dataclasses.fields(Notation)]
    table = f.get("notation", dict, {}, what="a table of names")
    for key in table:
        if key not in allowed:
            raise f.error(f"notation.{key}", f"unknown notation key (allowed: {', '.join(allowed)})")
    values = f.latex_table("notation", what="a table of names")
    if values.get("index", "layer") not in INDEXING:
        raise f.error("notation.index", f"expected one of {', '.join(INDEXING)}, got {values['index']!r}")
    for key in ("weights", "biases"):
        # one layer: W and b need no index
        if key in values and depth > 1 and not _PLACEHOLDER.search(values[key]):
            raise f.error(f"notation.{key}", "must contain the layer index i, e.g. W_i or W^{(i)}")
    if "biases" not in values:
        w = values.get("weights", Notation.weights)
        values["biases"] = w.replace("W", "b", 1) if "W" in w else "b^{(i)}"
    if values.get("index") == "input" and "post" not in values:
        values["post"] = "a"
    return Notation(**values)


@dataclass(frozen=True)
class MLPSpec:
    layers: tuple  # ints, or names for a symbolic width/depth
    hidden: str
    output: str
    loss: str
    x: tuple | None = None
    y: tuple | None = None
    params: tuple[tuple[str, sp.Matrix], ...] | None = None
    constants: tuple[tuple[str, sp.Rational], ...] = ()
    recurrences: bool = False
    notation: Notation = Notation()
    output_of_hidden: bool = False   # ŷ = g(f(z_L)): the output activation on top of the hidden one

    @property
    def numeric(self) -> bool:
        return self.params is not None

    @property
    def depth(self) -> int:
        return len(self.layers) - 1


def _rational(value, where: str, f: Fields) -> sp.Rational:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise f.error(where, f"expected a number, got {value!r}")
    return sp.Rational(str(value))


def _vector(value, where: str, f: Fields) -> tuple:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return (_rational(value, where, f),)
    if not isinstance(value, list) or not value:
        raise f.error(where, "expected a number or a list of numbers")
    return tuple(_rational(v, where, f) for v in value)


MAX_WIDTH = 64
MAX_LAYERS = 12


def parse(problem: Problem) -> MLPSpec:
    f = Fields(problem, FIELDS)
    layers = f.get("layers", list, required=True, what="a list of layer widths")
    if len(layers) < 2:
        raise f.error("layers", "needs at least an input and an output width")
    for w in layers:
        if isinstance(w, bool) or not (isinstance(w, int) and w >= 1 or isinstance(w, str) and _SIZE.match(w)):
            shown = w if isinstance(w, str) else str(w).lower() if isinstance(w, bool) else str(w)
            raise f.error("layers", f"each width must be a positive integer or a name, got {shown!r}"
                          if isinstance(w, str) else
                          f"each width must be a positive integer or a name, got {shown}")
        if isinstance(w, int) and w > MAX_WIDTH:
            raise f.error("layers", f"a width of {w} is too large for a worked example "
                          f"(at most {MAX_WIDTH}; write a name such as \"n\" for a general width)")
    if len(layers) > MAX_LAYERS:
        raise f.error("layers", f"{len(layers)} layers are too many for a worked example "
                      f"(at most {MAX_LAYERS})")
    if len(layers) == 2 and "hidden" in problem.fields:
        raise f.error("hidden", "a one-layer network (two widths) has no hidden layer; remove hidden "
                      "or add a hidden width to layers")
    hidden = f.get("hidden", str, "relu") if len(layers) > 2 else "identity"
    output = f.get("output", str, "identity")
    loss = f.get("loss", str, "half_squared")
    for field_name, name in (("hidden", hidden), ("output", output)):
        if name not in ACTIVATIONS:
            raise f.error(field_name, f"unknown activation {name!r} (see 'symderiv list')")
    if ACTIVATIONS[hidden].vector:
        raise f.error("hidden", f"{hidden} is not elementwise; use it as the output activation")
    if loss not in LOSSES:
        raise f.error("loss", f"unknown loss {loss!r} (see 'symderiv list')")
    # a width named like a quantity of the network (x, W1, z2 …) or a constant (alpha) would
    # stand for two things in the key's formulas
    taken = {name for name, _, _ in netexpr.plain_names(len(layers) - 1, True)} | {"I"}
    taken |= set(ACTIVATIONS[hidden].params) | set(ACTIVATIONS[output].params) | set(LOSSES[loss].params)
    for w in layers:
        if isinstance(w, str) and (w in taken or w.startswith("dL_d")):
            raise f.error("layers", f"the width {w!r} has the name of a quantity of the network; "
                          f"choose another name (such as n, d, K or m)")
    constants = f.get("constants", dict, {})
    consts = tuple((k, _rational(v, f"constants.{k}", f)) for k, v in sorted(constants.items()))
    numeric_fields = [k for k in ("x", "y", "params") if k in problem.fields]
    if numeric_fields and len(numeric_fields) != 3:
        missing = sorted({"x", "y", "params"} - set(numeric_fields))[0]
        raise f.error(missing, "a numeric problem needs x, y and params together")
    recurrences = bool(f.get("recurrences", bool, False)) or any(isinstance(w, str) for w in layers)
    notation = _parse_notation(f, len(layers) - 1)
    stacked = bool(f.get("output_of_hidden", bool, False))
    if stacked:
        if len(layers) == 2:
            raise f.error("output_of_hidden", "a one-layer network (two widths) has no hidden activation "
                          "to apply before the output activation")
        if "hidden" not in problem.fields or hidden == "identity":
            raise f.error("output_of_hidden", "needs a hidden activation (hidden = \"relu\" …) to apply "
                          "before the output activation")
        if output == "identity":
            raise f.error("output_of_hidden", "needs an output activation (output = \"softmax\" …) to "
                          "apply after the hidden one")
    if not numeric_fields:
        return MLPSpec(tuple(layers), hidden, output, loss, constants=consts, recurrences=recurrences,
                       notation=notation, output_of_hidden=stacked)
    if any(isinstance(w, str) for w in layers):
        raise f.error("layers", "a numeric problem needs integer widths")
    x = _vector(problem.fields["x"], "x", f)
    y = _vector(problem.fields["y"], "y", f)
    if len(x) != layers[0]:
        raise f.error("x", f"has {len(x)} entries but layers[0] = {layers[0]}")
    if len(y) != layers[-1]:
        raise f.error("y", f"has {len(y)} entries but the output width is {layers[-1]}")
    table = f.get("params", dict, required=True, what="a table W1, b1, W2, b2, …")
    depth = len(layers) - 1
    expected = {f"{p}{k}" for k in range(1, depth + 1) for p in "Wb"}
    extra = sorted(set(table) - expected)
    if extra:
        raise f.error(f"params.{extra[0]}", f"unexpected parameter (the network has "
                      f"{', '.join(sorted(expected, key=_param_order))})")
    params = []
    for k in range(1, depth + 1):
        rows, cols = layers[k], layers[k - 1]
        name = f"W{k}"
        if name not in table:
            raise f.error(f"params.{name}", "missing")
        W = table[name]
        if isinstance(W, list) and W and not isinstance(W[0], list):
            W = [W] if rows == 1 else W
        if not isinstance(W, list) or not all(isinstance(r, list) for r in W):
            raise f.error(f"params.{name}", "expected a list of rows")
        got = f"{len(W)} x {len(W[0]) if W else 0}"
        if len(W) != rows or any(len(r) != cols for r in W):
            raise f.error(f"params.{name}", f"expected shape {rows} x {cols} (layers[{k}] x "
                          f"layers[{k - 1}]), got {got}")
        params.append((name, sp.Matrix([[_rational(v, f"params.{name}", f) for v in r] for r in W])))
        name = f"b{k}"
        if name not in table:
            raise f.error(f"params.{name}", "missing")
        b = _vector(table[name], f"params.{name}", f)
        if len(b) != rows:
            raise f.error(f"params.{name}", f"expected {rows} entries (layers[{k}]), got {len(b)}")
        params.append((name, sp.Matrix(b)))
    spec = MLPSpec(tuple(layers), hidden, output, loss, x, y, tuple(params), consts, recurrences, notation,
                   stacked)
    for entry in (ACTIVATIONS[hidden], ACTIVATIONS[output], LOSSES[loss]):
        for p in entry.params:
            if p not in dict(consts):
                raise f.error("constants", f"{entry.name} needs a value for {p} "
                              f"(e.g. constants = {{ {p} = 0.1 }})")
    return spec


def _param_order(name: str) -> tuple[int, str]:
    return int(name[1:]), name[0] != "W"


# --- the network as functions ---------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """Activations and loss of one problem, with parameter values bound."""

    hidden: Entry
    output: Entry
    loss: str
    constants: dict
    stacked: bool = False   # the last layer: the output activation applied after the hidden one

    def last(self, z: sp.Matrix) -> sp.Matrix:
        """The last layer's activation: g(z_L), or g(f(z_L)) when the output follows the hidden one."""
        if self.stacked:
            z = self.act(self.hidden, z)
        return self.act(self.output, z)

    def act(self, entry: Entry, z: sp.Matrix) -> sp.Matrix:
        if entry.vector:
            return entry.build(list(z), self.constants)
        return z.applyfunc(lambda t: entry.build(t, self.constants))

    def loss_of(self, yhat: sp.Matrix, y: sp.Matrix) -> sp.Expr:
        return vector_loss(self.loss, yhat, y, self.constants)


def _network(spec: MLPSpec) -> Network:
    consts = {k: v for k, v in spec.constants}
    return Network(ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output], spec.loss, consts,
                   spec.output_of_hidden)


_PIECES: dict = memo.cache()


def _branch_at(entry: Entry, consts: dict, value: sp.Expr) -> tuple[sp.Expr, sp.Symbol, bool]:
    """The smooth piece of an elementwise activation used at ``value``: the left one at a kink."""
    t = sp.Symbol("t", real=True)
    key = (entry.name, tuple(sorted(consts.items(), key=str)))
    if key not in _PIECES:  # the same activation's pieces at every unit of every network
        expr = entry.build(t, consts)
        _PIECES[key] = (expr, split_branches(expr, t, Scope()) if expr.has(
            sp.Max, sp.Min, sp.Piecewise, sp.Heaviside, sp.Abs) else None)
    expr, branches = _PIECES[key]
    if not branches or len(branches) == 1:
        return (branches[0].expr if branches else expr), t, False
    v = value
    for b in branches:
        inside_upper = b.upper == sp.oo or bool(v <= b.upper)
        inside_lower = b.lower == -sp.oo or bool(v > b.lower)
        if inside_lower and inside_upper:
            return b.expr, t, b.upper != sp.oo and v == b.upper
    raise BadInput(f"no branch of {entry.name} applies at {value}")




# --- what the key displays -------------------------------------------------------------
#
# Every formula a table or line shows is a SymPy expression built from the question's names:
# non-commutative symbols for vectors and matrices (so W⁽²⁾ f(W⁽¹⁾x + b⁽¹⁾) keeps its order),
# applied functions for the activations, and the small display functions below. Before a key
# is rendered each displayed formula is *evaluated* on a concrete network (the problem's own
# numbers, or a small random one for a symbolic problem) and compared with the quantity it
# names, computed independently from the definitions (forward composition, and differentiation
# of the composed loss). A swapped product, a wrong index or a wrong transpose fails there.


class _Transpose(sp.Function):
    """vᵀ."""

    is_commutative = False

    def _latex(self, printer, exp=None):
        a = self.args[0]
        inner = printer._print(a)
        if a.is_Symbol:
            return "{" + inner + r"}^{\top}"
        return r"\left(" + inner + r"\right)^{\top}"


class _Hadamard(sp.Function):
    """a ⊙ b, the entrywise product."""

    is_commutative = False

    def _latex(self, printer, exp=None):
        parts = []
        for a in self.args:
            text = printer._print(a)
            parts.append(r"\left(" + text + r"\right)" if a.is_Add or a.is_Mul else text)
        return r" \odot ".join(parts)


class _Sum(sp.Function):
    """a + b + …, printed in the order given (a MatAdd would sort its terms)."""

    is_commutative = False

    def _latex(self, printer, exp=None):
        first, *rest = self.args
        return " + ".join([printer._print(first)] + [_atom(printer, a) for a in rest])


class _Diff(sp.Function):
    """a − b, printed as written."""

    is_commutative = False

    def _latex(self, printer, exp=None):
        a, b = self.args
        return printer._print(a) + " - " + _atom(printer, b)


class _Group(sp.Function):
    """(a ⊙ b) inside a product: the parentheses a reader needs."""

    is_commutative = False

    def _latex(self, printer, exp=None):
        return r"\left[" + printer._print(self.args[0]) + r"\right]"


def _grouped(e):
    return _Group(e) if isinstance(e, _Hadamard) else e


class _Diag(sp.Function):
    """diag(v), the diagonal matrix of a vector."""

    is_commutative = False

    def _latex(self, printer, exp=None):
        return r"\operatorname{diag}\left(" + printer._print(self.args[0]) + r"\right)"


def _atom(printer, e) -> str:
    text = printer._print(e)
    if e.is_Symbol or isinstance(e, (sp.MatrixBase, AppliedUndef)) or (e.is_Number and not e.is_negative):
        return text
    return r"\left(" + text + r"\right)"


def _component(printer, e, j: str = "j") -> str:
    """The j-th entry of a vector expression: ŷ_j, or [W x + b]_j."""
    text = printer._print(e)
    if e.is_Symbol and "_" not in e.name and "(" not in e.name:
        return f"{text}_{{{j}}}"
    return rf"\left[{text}\right]_{{{j}}}"


# the scalar form of each loss in terms of the prediction A and the target Y (as the registry
# builds it); MEAN_LOSSES and the vector forms are handled in _Loss._latex
_LOSS_FORMS = {
    "half_squared": r"\frac{{1}}{{2}}\left({A} - {Y}\right)^{{2}}",
    "squared": r"\left({A} - {Y}\right)^{{2}}",
    "mse": r"\left({A} - {Y}\right)^{{2}}",
    "bce": r"-\left[{Y} \log {A} + \left(1 - {Y}\right) \log\left(1 - {A}\right)\right]",
    "cross_entropy": r"-{Y} \log {A}",
    "absolute": r"\left|{A} - {Y}\right|",
    "check": r"\rho_\tau\left({Y} - {A}\right)",
    "huber": r"\operatorname{{Huber}}_\delta\left({A} - {Y}\right)",
    "hinge": r"\max\left\{{0, 1 - {Y} {A}\right\}}",
    "log_cosh": r"\log\cosh\left({A} - {Y}\right)",
}
_NORM_FORMS = {"half_squared": r"\frac{{1}}{{2}}\left\|{A} - {Y}\right\|^{{2}}",
               "squared": r"\left\|{A} - {Y}\right\|^{{2}}",
               "mse": r"\frac{{1}}{{{K}}}\left\|{A} - {Y}\right\|^{{2}}"}


class _Loss(sp.Function):
    """The loss of a prediction and a target in closed form; evaluated with the registry."""

    loss_name = ""
    width: object = 1

    def __reduce_ex__(self, protocol):
        # the class is made per (loss, width) at run time, so pickle (the key cache of
        # `symderiv check`) rebuilds it by name rather than looking it up in the module
        return (_loss_call, (self.loss_name, self.width, self.args))

    def _latex(self, printer, exp=None):
        A, Y = self.args
        if self.width == 1:
            return _LOSS_FORMS[self.loss_name].format(A=_atom(printer, A), Y=_atom(printer, Y))
        if self.loss_name in _NORM_FORMS:
            return _NORM_FORMS[self.loss_name].format(A=printer._print(A), Y=_atom(printer, Y),
                                                      K=self.width)
        inner = _LOSS_FORMS[self.loss_name].format(A=_component(printer, A), Y=_component(printer, Y))
        if inner.startswith("-"):
            return r"-\sum_{j} " + inner[1:]
        return r"\sum_{j} " + inner


_LOSS_CLASSES: dict = {}


def _loss_call(name: str, width, args: tuple) -> sp.Basic:
    return _loss_fn(name, width)(*args)


def _loss_fn(name: str, width) -> type:
    key = (name, str(width))
    if key not in _LOSS_CLASSES:
        _LOSS_CLASSES[key] = type(f"Loss_{name}_{width}", (_Loss,), {"loss_name": name, "width": width})
    return _LOSS_CLASSES[key]


def _nc(name: str) -> sp.Symbol:
    return sp.Symbol(name, commutative=False)


def _fn(name: str, commutative: bool = False):
    return sp.Function(name, commutative=commutative)


_IX: dict[tuple, str] = {}   # a layer index as LaTeX (i + 1, 2 i - 1): a pure function of its key


class Names:
    """LaTeX names of the network's quantities in the question's notation."""

    def __init__(self, notation: Notation, depth: int, widths: tuple):
        self.n, self.depth, self.widths = notation, depth, widths
        self.loss, self.output, self.input, self.target = (notation.loss, notation.output,
                                                           notation.input, notation.target)

    @staticmethod
    def ix(k, off: int = 0, mult: int = 1) -> str:
        if isinstance(k, int):
            return str(mult * k + off)
        key = (k, off, mult)
        if key not in _IX:   # printed once per process: every name of a key goes through here
            _IX[key] = sp.latex(mult * sp.Symbol(k) + off)
        return _IX[key]

    def _fill(self, pattern: str, k, off: int = 0) -> str:
        return _PLACEHOLDER.sub(lambda m: "{" + self.ix(k, off) + "}", pattern)

    def W(self, k, off: int = 0) -> str:
        return self._fill(self.n.weights, k, off)

    def b(self, k, off: int = 0) -> str:
        return self._fill(self.n.biases, k, off)

    @property
    def single(self) -> bool:
        """A one-layer network whose weights carry no layer index (W, b): z needs none either."""
        return self.depth == 1 and not _PLACEHOLDER.search(self.n.weights)

    def pre(self, k, off: int = 0) -> str:
        if self.single and isinstance(k, int) and k + off == 1:
            return self.n.pre
        if self.n.index == "step":
            return f"{self.n.pre}_{{{self.ix(k, 2 * off - 1, 2)}}}"
        return f"{self.n.pre}_{{{self.ix(k, off)}}}"

    def post(self, k, off: int = 0) -> str:
        """The output of layer k's activation (k + off = 0: the input; = depth: the output)."""
        if isinstance(k, int):
            if k + off == 0:
                return self.input
            if k + off == self.depth:
                return self.output
        if self.n.index == "step":
            return f"{self.n.pre}_{{{self.ix(k, 2 * off, 2)}}}"
        if self.n.index == "input":
            return f"{self.n.post}_{{{self.ix(k, off + 1)}}}"
        return f"{self.n.post}_{{{self.ix(k, off)}}}"

    def top(self) -> str:
        """The hidden activation of the last layer, f(z_L), when the output activation follows it."""
        k = self.depth
        if self.n.index == "step":
            return f"{self.n.pre}_{{{self.ix(k, 0, 2)}}}"
        if self.n.index == "input":
            return f"{self.n.post}_{{{self.ix(k, 1)}}}"
        return f"{self.n.post}_{{{self.ix(k)}}}"

    def d(self, name: str, of: str | None = None) -> str:
        return rf"\frac{{\partial {of or self.loss}}}{{\partial {name}}}"


@dataclass(frozen=True)
class Functions:
    """Display names of the activations and their derivatives."""

    hidden: str        # σ, \operatorname{ReLU} …: the symbol written in the formulas
    output: str
    hidden_letter: str  # the question's letter for the layer (f, g) in the Layer column
    output_letter: str

    @staticmethod
    def of(spec: MLPSpec) -> "Functions":
        n = spec.notation
        hidden = n.hidden_fn or ACTIVATIONS[spec.hidden].latex
        output = n.output_fn or ACTIVATIONS[spec.output].latex
        if hidden == output and spec.hidden != spec.output and spec.depth > 1:
            raise BadInput(f"the hidden ({spec.hidden}) and output ({spec.output}) activations are "
                           f"different functions but would both be written {hidden}: name them in "
                           f"[problem.notation] (hidden_fn, output_fn)", field="notation")
        return Functions(hidden, output, n.hidden_fn or "f", n.output_fn or "g")


def _prime(name: str) -> str:
    return name + "'"


@dataclass
class World:
    """A concrete network: the value of every named quantity and the functions."""

    env: dict
    fns: dict          # display function name → (Matrix → Matrix)
    scalar: dict       # function name → (scalar → scalar), for closed forms read entrywise
    consts: dict


class _NotEvaluable(Exception):
    pass


def _as_matrix(v):
    if isinstance(v, sp.MatrixBase):
        return sp.Matrix(v)
    return sp.Matrix([v])


def _value(e, w: World):
    """Evaluate a displayed formula on the concrete network ``w``."""
    if isinstance(e, sp.Basic) and e.has(sp.UnevaluatedExpr):   # numbers kept as written
        e = e.replace(lambda a: isinstance(a, sp.Heaviside),
                      lambda a: sp.Heaviside(a.args[0], 0)).doit()
        e = e.replace(lambda a: isinstance(a, AppliedUndef) and a.func.__name__ in w.scalar,
                      lambda a: w.scalar[a.func.__name__](a.args[0]))
    if isinstance(e, sp.MatrixBase):
        return sp.Matrix(e)
    if isinstance(e, sp.MatrixExpr):
        return sp.Matrix(e.doit())
    if isinstance(e, sp.Tuple):
        return tuple(_value(a, w) for a in e.args)
    if isinstance(e, _Loss):
        A, Y = (_as_matrix(_value(a, w)) for a in e.args)
        if A.shape != Y.shape:
            raise sp.ShapeError(f"prediction {A.shape} and target {Y.shape}")
        return vector_loss(e.loss_name, A, Y, w.consts)
    if e.is_Number:
        return e
    if e.is_commutative:
        return _entrywise(e, w)
    if e.is_Symbol:
        if e.name not in w.env:
            raise _NotEvaluable(f"no value for {e.name}")
        return w.env[e.name]
    if isinstance(e, _Transpose):
        v = _value(e.args[0], w)
        return v.T if isinstance(v, sp.MatrixBase) else v
    if isinstance(e, _Hadamard):
        a, b = (_as_matrix(_value(x, w)) for x in e.args)
        if a.shape != b.shape:
            raise sp.ShapeError(f"entrywise product of {a.shape} and {b.shape}")
        return a.multiply_elementwise(b)
    if isinstance(e, _Group):
        return _value(e.args[0], w)
    if isinstance(e, _Diff):
        a, b = (_as_matrix(_value(x, w)) for x in e.args)
        if a.shape != b.shape:
            raise sp.ShapeError(f"difference of {a.shape} and {b.shape}")
        return a - b
    if isinstance(e, _Sum):
        values = [_as_matrix(_value(a, w)) for a in e.args]
        if len({v.shape for v in values}) > 1:
            raise sp.ShapeError("a sum of terms of different shapes")
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total
    if isinstance(e, _Diag):
        return sp.diag(*_as_matrix(_value(e.args[0], w)))
    if isinstance(e, AppliedUndef):
        name = e.func.__name__
        if name not in w.fns:
            raise _NotEvaluable(f"no function {name}")
        return w.fns[name](_as_matrix(_value(e.args[0], w)))
    if e.is_Add:
        values = [_value(a, w) for a in e.args]
        if len({v.shape if isinstance(v, sp.MatrixBase) else None for v in values}) > 1:
            raise sp.ShapeError("a sum of terms of different shapes")
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total
    if e.is_Mul:
        result = None
        for a in e.args:  # in order: the product is not commutative
            v = _value(a, w)
            if result is None:
                result = v
            elif isinstance(result, sp.MatrixBase) and isinstance(v, sp.MatrixBase):
                if result.cols != v.rows:
                    raise sp.ShapeError(f"product of {result.shape} and {v.shape}")
                result = result * v
            else:
                result = result * v
        return result
    raise _NotEvaluable(f"cannot evaluate {type(e).__name__}")


def _entrywise(e, w: World):
    """A closed form in commutative symbols (ŷ − y, I(z > 0), σ(z)(1 − σ(z))) read entry by entry."""
    syms = sorted(e.free_symbols, key=str)
    vals = {}
    for s in syms:
        if s.name not in w.env:
            raise _NotEvaluable(f"no value for {s.name}")
        vals[s] = w.env[s.name]
    sizes = {len(v) for v in vals.values() if isinstance(v, sp.MatrixBase)}
    if len(sizes) > 1:
        raise sp.ShapeError("entrywise formula over vectors of different lengths")
    n = sizes.pop() if sizes else None
    out = []
    for i in range(n or 1):
        sub = {s: (v[i] if isinstance(v, sp.MatrixBase) else v) for s, v in vals.items()}
        r = e.replace(lambda a: isinstance(a, sp.Heaviside), lambda a: sp.Heaviside(a.args[0], 0))
        r = r.xreplace(sub)
        r = r.replace(lambda a: isinstance(a, AppliedUndef) and a.func.__name__ in w.scalar,
                      lambda a: w.scalar[a.func.__name__](a.args[0]))
        if any(isinstance(a, AppliedUndef) for a in sp.preorder_traversal(r)):
            raise _NotEvaluable("unknown function in a closed form")
        out.append(r)
    return sp.Matrix(out) if n is not None else out[0]


def _agree(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(
            _agree(x, y) for x, y in zip(a, b))
    if isinstance(a, sp.MatrixBase) and a.shape == (1, 1):
        a = a[0, 0]
    if isinstance(b, sp.MatrixBase) and b.shape == (1, 1):
        b = b[0, 0]
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase) and a.shape == b.shape
                and all(_close(x, y) for x, y in zip(a, b)))
    return _close(a, b)


def _close(a, b) -> bool:
    """Equal exactly (rationals) or to 20 digits (floats, closed forms with exp, erf …)."""
    a, b = _number(a), _number(b)
    if a.is_Rational and b.is_Rational:
        return a == b
    # compiled to mpmath at 50 digits, decimals included: SymPy's adaptive evalf of a tanh
    # network's exact closed form takes seconds
    va, vb = verify.mp_value(a), verify.mp_value(b)
    return abs(va - vb) <= 1e-20 * max(1.0, abs(va))


def _number(v) -> sp.Basic:
    """An engine value as a SymPy object (a Python int or float becomes a SymPy number)."""
    return v if isinstance(v, sp.Basic) else sp.Number(v)


def check_shown(problem_id: str, label: str, shown, quantity, w: World, what: str = "formula") -> None:
    """Raise VerificationFailed unless the displayed ``shown`` evaluates to ``quantity`` on ``w``."""
    try:
        got = _value(shown, w)
    except (sp.ShapeError, TypeError) as exc:
        raise VerificationFailed(problem_id, label, f"the displayed {what} does not evaluate "
                                 f"(shapes do not match: {exc})") from None
    except _NotEvaluable as exc:
        raise VerificationFailed(problem_id, label, f"the displayed {what} cannot be checked ({exc})") from None
    try:
        same = _agree(got, quantity)
    except TypeError as exc:   # a symbol left in what should be a number
        raise VerificationFailed(problem_id, label, f"the displayed {what} cannot be checked ({exc})") from None
    if not same:
        raise VerificationFailed(problem_id, label, f"the displayed {what} does not equal the quantity "
                                 f"it names on a concrete network")


def _world(net: Network, spec: MLPSpec, names: Names, fx: Functions, Ws, bs, x, y) -> World:
    """Every named quantity of the concrete network, from the definitions alone.

    Forward quantities by composition; every derivative by differentiating the loss composed
    from that quantity onward (the branch in force for a piecewise activation, the left one at
    a kink), never by the back-propagation formulas the key displays.
    """
    L = len(Ws)

    def forward(Ws, bs, x):
        zs, hs = [], [x]
        for k in range(L):
            zs.append(Ws[k] * hs[-1] + bs[k])
            hs.append(net.act(net.hidden, zs[-1]) if k < L - 1 else net.last(zs[-1]))
        return zs, hs

    zs, hs = forward(Ws, bs, x)
    if not all(v.is_Rational for h in hs for v in h):
        # exp, tanh …: exact values grow into huge closed forms; 50 significant digits are plenty
        # to tell a right formula from a wrong one, and keep the checks fast
        def fl(M):
            return M.applyfunc(lambda v: sp.Float(v, 50))
        Ws, bs, x, y = [fl(W) for W in Ws], [fl(b) for b in bs], fl(x), fl(y)
        zs, hs = forward(Ws, bs, x)
    yhat = hs[-1]
    # the activation's and loss's constants (a, β …) by name, for closed forms that show them
    env = {str(k): v for k, v in net.constants.items()}
    env.update({names.input: x, names.target: y, names.output: yhat, names.loss: net.loss_of(yhat, y)})
    for k in range(1, L + 1):
        env[names.W(k)], env[names.b(k)], env[names.pre(k)] = Ws[k - 1], bs[k - 1], zs[k - 1]
        if k < L:
            env[names.post(k)] = hs[k]

    # Every derivative by forward mode, one entry at a time: a unit tangent at that entry is
    # pushed through the layers to the loss, with each layer's local derivative taken by
    # SymPy from the definitions (the activation's piece in force at the point, the loss).
    # This is differentiating the composed loss in that one entry, on numbers, and shares
    # nothing with the back-propagation formulas (δ recurrences, outer products) the key shows.
    local = [_local_jacobian(net.hidden if k < L else net.output, net.constants, zs[k - 1])
             for k in range(1, L + 1)]
    if net.stacked:   # ŷ = g(h_L), h_L = f(z_L): the chain of both Jacobians
        top = net.act(net.hidden, zs[-1])
        J_out = _local_jacobian(net.output, net.constants, top)
        local[-1] = J_out * _local_jacobian(net.hidden, net.constants, zs[-1])
    u = sp.symbols(f"u0:{yhat.rows}", real=True)
    loss_u = net.loss_of(sp.Matrix(u), y)
    at_yhat = dict(zip(u, yhat))
    g = sp.Matrix(1, yhat.rows, lambda _, i: sp.diff(loss_u, u[i]).xreplace(at_yhat))

    def push(k: int, dz: sp.Matrix):
        """The loss's change for the tangent ``dz`` of z_k."""
        for m in range(k, L + 1):
            dh = local[m - 1] * dz
            if m == L:
                return (g * dh)[0, 0]
            dz = Ws[m] * dh

    def unit(rows: int, cols: int, i: int, j: int) -> sp.Matrix:
        e = sp.zeros(rows, cols)
        e[i, j] = 1
        return e

    def grad(direction, value: sp.Matrix) -> sp.Matrix:
        return sp.Matrix(value.rows, value.cols,
                         lambda i, j: direction(unit(value.rows, value.cols, i, j)))

    env[names.d(names.output)] = grad(lambda e: (g * e)[0, 0], yhat)
    if net.stacked:
        env[names.top()] = top
        env[names.d(names.top())] = grad(lambda e: (g * J_out * e)[0, 0], top)
        if net.output.vector:
            env[rf"J_{{{fx.output}}}({names.top()})"] = J_out
    for k in range(1, L + 1):
        env[names.d(names.pre(k))] = grad(lambda e, k=k: push(k, e), zs[k - 1])
        if k < L:
            env[names.d(names.post(k))] = grad(lambda e, k=k: push(k + 1, Ws[k] * e), hs[k])
        env[names.d(names.W(k))] = grad(lambda e, k=k: push(k, e * hs[k - 1]), Ws[k - 1])
        env[names.d(names.b(k))] = grad(lambda e, k=k: push(k, e), bs[k - 1])

    fns = {fx.hidden: lambda m: net.act(net.hidden, m), fx.output: lambda m: net.act(net.output, m),
           _prime(fx.hidden): lambda m: local_derivative(net, net.hidden, m),
           _prime(fx.output): lambda m: local_derivative(net, net.output, m)}
    scalar = {e.latex: (lambda t, e=e: e.build(t, net.constants))
              for e in ACTIVATIONS.values() if not e.vector}
    # the teacher's heads in closed forms: Φ and φ of GELU′ (the standard normal's cdf and pdf)
    scalar.update({r"\Phi": lambda t: (1 + sp.erf(t / sp.sqrt(2))) / 2,
                   r"\varphi": lambda t: sp.exp(-t ** 2 / 2) / sp.sqrt(2 * sp.pi)})
    scalar[fx.hidden] = lambda t: net.hidden.build(t, net.constants)
    if not net.output.vector:
        scalar[fx.output] = lambda t: net.output.build(t, net.constants)
    return World(env, fns, scalar, net.constants)


def _local_jacobian(entry: Entry, consts: dict, z: sp.Matrix) -> sp.Matrix:
    """∂f(z)/∂z at the point ``z``, from SymPy's derivative of the definition: diagonal for an
    elementwise activation (the piece in force at each unit, the left one at a kink), full for
    a vector one (softmax)."""
    if entry.vector:
        u = sp.symbols(f"u0:{z.rows}", real=True)
        return entry.build(list(u), consts).jacobian(u).xreplace(dict(zip(u, z)))
    slopes = []
    for zi in z:
        piece, t, _ = _branch_at(entry, consts, zi)
        slopes.append(sp.diff(piece, t).xreplace({t: zi}))
    return sp.diag(*slopes)


def _applied(name: str, arg, entry: Entry):
    """f(arg) for display; the identity is not written."""
    if entry.name == "identity":
        return arg
    return _fn(name)(arg)


def _closed_derivative(problem: Problem, spec: MLPSpec, which: str) -> sp.Expr:
    """f′(z) in the teacher's form, from the derivative engine (so verified), in a symbol z."""
    name = spec.hidden if which == "hidden" else spec.output
    if name not in _CLOSED:  # the same activation in every problem: derived and checked once
        _CLOSED[name] = _closed_derivative_of(problem, name)
    return _CLOSED[name]


_CLOSED: dict[str, tuple[sp.Expr, sp.Symbol]] = memo.cache()


def _closed_derivative_of(problem: Problem, name: str) -> tuple[sp.Expr, sp.Symbol]:
    scope = Scope().with_defaults({p: t for p, t in ACTIVATIONS[name].params.items()})
    z = scope.symbol("z")
    fs = DerivativeSpec((FunctionSpec(name, entry=name),), "z")
    r = _solve_scalar(problem, FunctionSpec(name, entry=name), scope, z, fs)
    shown = r.teacher.expr if r.teacher else r.derivative
    plain = sp.diff(ACTIVATIONS[name].build(z, {p: scope.symbol(p) for p in ACTIVATIONS[name].params}), z)
    if shown.has(sp.Piecewise) and plain.has(sp.Heaviside) and not plain.has(sp.Max, sp.Min, sp.Piecewise) \
            and sp.count_ops(plain) <= 3:
        shown = plain   # I(z > 0), as the question writes it, rather than cases
    return shown, z


def _loss_derivative(spec: MLPSpec, names: Names, width) -> sp.Expr:
    """∂ℓ/∂ŷ entrywise, in the symbols ŷ and y (commutative: read entry by entry)."""
    q, t = sp.Symbol("q", real=True), sp.Symbol("t", real=True)
    consts = {p: sp.Symbol(p, positive=True) for p in LOSSES[spec.loss].params}
    consts.update(dict(spec.constants))
    d = sp.diff(LOSSES[spec.loss].build(q, t, consts), q)
    if spec.loss in MEAN_LOSSES:
        d = d / netexpr.dimension(width)   # the width K, the same symbol as in the matrices' shapes
    d = _teacher_fraction(sp.factor(sp.simplify(d)))
    return d.xreplace({q: sp.Symbol(names.output), t: sp.Symbol(names.target)})


def _teacher_fraction(d: sp.Expr) -> sp.Expr:
    """(ŷ − y)/(ŷ(1 − ŷ)) rather than −(ŷ − y)/(ŷ(ŷ − 1)): a factor c − q with the constant first."""
    num, den = sp.fraction(d)
    sign, factors = 1, []
    for f in sp.Mul.make_args(den):
        coeff, _ = f.as_coeff_add() if f.is_Add else (0, ())
        if f.is_Add and coeff.is_Number and coeff.is_negative:
            sign, f = -sign, -f
        factors.append(f)
    out = (sign * num) / sp.Mul(*factors)
    return out if sp.simplify(out - d) == 0 else d


@dataclass(frozen=True)
class Definition:
    role: str          # "hidden activation" …
    letter: str        # the question's letter for it (LaTeX), or ""
    title: str         # the registry's human name
    lhs: sp.Basic
    rhs: sp.Basic
    identity: bool = False
    entrywise: bool = True


def _definitions(spec: MLPSpec, names: Names, fx: Functions, net: Network, w: World,
                 problem_id: str) -> list[Definition]:
    """The activations and the loss as the key states them: constants by name (a, β) in a
    symbolic problem, by value in a numeric one; each checked against the registry."""
    z = sp.Symbol("z", real=True)
    out = []
    if not spec.numeric:
        net = _network_symbolic(spec)
    roles = (("hidden activation", net.hidden, fx.hidden, fx.hidden_letter),
             ("output activation", net.output, fx.output, fx.output_letter))
    for role, entry, name, letter in roles[0 if spec.depth > 1 else 1:]:   # one layer: no hidden one
        if entry.vector:
            i, k = sp.symbols("i k", integer=True, positive=True)
            width = names.widths[-1]
            count = width if isinstance(width, int) else sp.Symbol(str(width), integer=True, positive=True)
            out.append(Definition(role, letter, entry.title, sp.Symbol(name + r"(z)_{i}"),
                                  entry.display(sp.IndexedBase("z"), i, k, count), entrywise=False))
            continue
        rhs = entry.build(z, net.constants)
        lhs = _fn(name, True)(z)
        if isinstance(rhs, sp.Function) and rhs.args == (z,) and rhs.rewrite(sp.exp) != rhs:
            rhs = rhs.rewrite(sp.exp)   # tanh z = (e^z − e^{−z})/(e^z + e^{−z}), not tanh z = tanh z
        at = {c: w.consts[str(c)] for c in rhs.free_symbols if str(c) in w.consts}
        for v in (sp.Rational(-7, 3), sp.Rational(1, 2), sp.Rational(5, 2)):
            if not _close(w.scalar[name](v), rhs.subs(z, v).xreplace(at)):
                raise VerificationFailed(problem_id, f"definition of {entry.title}",
                                         "the displayed definition differs from the registry")
        out.append(Definition(role, letter if letter != name else "", entry.title, lhs, rhs,
                              entry.name == "identity"))
    width = names.widths[-1]
    loss = _loss_fn(spec.loss, width)(sp.Symbol(names.output), sp.Symbol(names.target))
    out.append(Definition("loss", "", LOSSES[spec.loss].title, sp.Symbol(names.loss), loss))
    return out


@dataclass(frozen=True)
class Row:
    """One row of a table: a name, its formula, the numbers substituted, the value."""

    label: str
    symbol: sp.Basic
    formula: sp.Basic | None
    substituted: sp.Basic | None
    value: sp.Basic
    group: int = 0     # rows of one layer share a group: a long table breaks between groups


@dataclass(frozen=True)
class KinkNote:
    layer: int
    unit: int
    activation: str


@dataclass(frozen=True)
class Diagram:
    """Neuron positions, edges and free labels, computed here so the template only draws.

    ``edges`` are ``(from, to, label, bend)``: bend in degrees (0 straight, 30 = bend left=30,
    -30 = bend right=30). ``notes`` are ``(x, y, label)``: text without a circle (ellipses,
    layer widths).
    """

    nodes: tuple[tuple[str, float, float, str], ...]   # id, x, y, label (LaTeX)
    edges: tuple[tuple[str, str, str, int], ...]       # from, to, label (LaTeX) or "", bend
    notes: tuple[tuple[float, float, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """One line of an aligned derivation: = expr, and why."""

    expr: sp.Basic
    why: str
    note: sp.Basic | None = None   # a formula the reason refers to


@dataclass(frozen=True)
class NumericMLP:
    spec: MLPSpec
    names: Names
    functions: Functions
    definitions: tuple[Definition, ...]
    forward: tuple[Row, ...]
    backward: tuple[Row, ...]
    shortcut: tuple[Step, ...]   # ∂ℓ/∂z_L = … = ŷ − y, when the output/loss pair simplifies
    shortcut_lhs: sp.Basic | None
    kinks: tuple[KinkNote, ...]
    diagram: Diagram
    fd_skipped: bool
    compact: bool = False   # many or wide layers: the tables in a smaller type so they fit the page


@dataclass(frozen=True)
class LayerRow:
    name: str            # LaTeX: \mathrm{Linear}_{1}, f, g, \mathrm{Loss}
    inp: sp.Basic
    out: sp.Basic
    quantity: sp.Basic   # the name of the output: z_1, z_2 …, ŷ, ℓ


@dataclass(frozen=True)
class SymbolicMLP:
    spec: MLPSpec
    names: Names
    functions: Functions
    definitions: tuple[Definition, ...]
    layer_rows: tuple[LayerRow, ...]
    composed: tuple[tuple[sp.Basic, sp.Basic], ...]   # lhs = rhs lines
    gradient_rows: tuple[tuple[sp.Basic, sp.Basic], ...]
    recurrences: tuple[tuple[sp.Basic, sp.Basic], ...]
    elementwise: tuple[tuple[sp.Basic, sp.Basic], ...]
    shortcut: tuple[Step, ...]
    shortcut_lhs: sp.Basic | None
    diagram: Diagram
    checked: str
    through: tuple[tuple[sp.Basic, sp.Basic], ...] = ()   # ∂ℓ/∂z_k, ∂ℓ/∂h_k layer by layer


def _shortcut_steps(problem: Problem, spec: MLPSpec, names: Names, fx: Functions,
                    net: Network) -> tuple[sp.Basic | None, tuple[Step, ...]]:
    """∂ℓ/∂z_L = ŷ − y for sigmoid + BCE (and any elementwise pair where it holds), as checked steps."""
    n_out = names.widths[-1] if isinstance(names.widths[-1], int) else 1
    if net.output.vector:
        if spec.loss == "cross_entropy" and _shortcut(net, 3):
            return _softmax_ce_steps(problem, spec, names, net)
        return None, ()
    if net.output.name == "identity" or not _shortcut(net, 1):
        return None, ()
    last_in = names.top() if net.stacked else names.pre(names.depth)   # what g is applied to
    lhs = sp.Symbol(names.d(last_in))
    yhat, y = sp.Symbol(names.output), sp.Symbol(names.target)
    dl = _loss_derivative(spec, names, n_out)
    dg, z = _closed_derivative(problem, spec, "output")
    # g′ written in ŷ = g(z): σ(z)(1 − σ(z)) = ŷ(1 − ŷ)
    zL = sp.Symbol(last_in)
    dg_yhat = dg.replace(lambda a: isinstance(a, AppliedUndef) and a.args == (z,), lambda a: yhat)
    if dg_yhat.has(z):
        return None, ()   # g′ is not a function of g alone: no cancellation to show
    g_prime = _fn(_prime(fx.output), True)(zL)
    steps = [Step(sp.Mul(sp.Symbol(names.d(names.output)), g_prime, evaluate=False),
                  "chain rule, entry by entry", None),
             Step(sp.Mul(dl, dg_yhat, evaluate=False), "with", sp.Eq(g_prime, dg_yhat, evaluate=False)),
             Step(sp.factor(sp.simplify(dl * dg_yhat)), "the factors cancel", None)]
    # check every line entrywise against the derivative of the composed loss at random points
    t = sp.Symbol("t", real=True)
    consts = dict(net.constants)
    rng = random.Random(f"{problem.id}/shortcut")
    for _ in range(3):
        zv = sp.Rational(rng.randint(-40, 40), 13)
        yv = sp.Rational(rng.randint(1, 9), 10)
        truth = sp.diff(LOSSES[spec.loss].build(net.output.build(t, consts), yv, consts), t).subs(t, zv)
        yh = net.output.build(zv, consts)
        if not _close(dg_yhat.xreplace({yhat: yh}), sp.diff(net.output.build(t, consts), t).subs(t, zv)):
            raise VerificationFailed(problem.id, "shortcut line 2", "the derivative of the output "
                                     "activation written in its value is wrong")
        for i, step in enumerate(steps[1:], 2):
            got = step.expr.xreplace({yhat: yh, y: yv})
            if not _close(got, truth):
                raise VerificationFailed(problem.id, f"shortcut line {i}", "does not equal the derivative "
                                         "of the composed loss")
    return lhs, tuple(steps)


def _softmax_ce_steps(problem: Problem, spec: MLPSpec, names: Names,
                      net: Network) -> tuple[sp.Basic, tuple[Step, ...]]:
    """∂ℓ/∂z_j = Σᵢ (−yᵢ/ŷᵢ) ŷᵢ(δᵢⱼ − ŷⱼ) = … = ŷⱼ − yⱼ for softmax with cross-entropy, checked."""
    width = names.widths[-1]
    K = width if isinstance(width, int) else sp.Symbol(width, positive=True, integer=True)
    i, j = sp.symbols("i j", integer=True, positive=True)
    yh, yy = sp.IndexedBase(names.output), sp.IndexedBase(names.target)
    last_in = names.top() if net.stacked else names.pre(names.depth)   # what softmax is applied to
    lhs = sp.Symbol(names.d(_unit_label(last_in, "j", False)))
    steps = (
        Step(sp.Sum(sp.Mul(-yy[i] / yh[i], yh[i] * (sp.KroneckerDelta(i, j) - yh[j]), evaluate=False), (i, 1, K)),
             "chain rule through every output", None),
        Step(-sp.Sum(yy[i] * (sp.KroneckerDelta(i, j) - yh[j]), (i, 1, K)), "the factor cancels", None),
        Step(-yy[j] + yh[j] * sp.Sum(yy[i], (i, 1, K)), "the Kronecker delta keeps the term", sp.Eq(i, j)),
        Step(yh[j] - yy[j], "the targets sum to 1", None),
    )
    n = K if isinstance(K, int) else 3   # a numeric network: its own width (the sums run to K)
    rng = random.Random(f"{problem.id}/softmax")
    zs = sp.Matrix([sp.Rational(rng.randint(-20, 20), 7) for _ in range(n)])
    first = [sp.Rational(rng.randint(1, 8), 10 * n) for _ in range(n - 1)]
    ys = sp.Matrix([*first, 1 - sum(first)])   # targets that sum to 1
    p = net.act(net.output, zs)
    u = sp.Matrix(sp.symbols(f"u0:{n}", real=True))
    loss = net.loss_of(net.act(net.output, u), ys)
    values = {**{yh[m + 1]: p[m] for m in range(n)}, **{yy[m + 1]: ys[m] for m in range(n)}}
    for jv in range(1, n + 1):
        truth = sp.diff(loss, u[jv - 1]).xreplace(dict(zip(u, zs)))
        for number, step in enumerate(steps, 1):
            got = step.expr.subs({j: jv, K: n} if not isinstance(K, int) else {j: jv}).doit().xreplace(values)
            if not _close(got, truth):
                raise VerificationFailed(problem.id, f"softmax cross-entropy line {number}",
                                         "does not equal the derivative of the composed loss")
    return lhs, steps


# --- numeric --------------------------------------------------------------------------


def _solve_numeric(problem: Problem, spec: MLPSpec) -> Solution:
    net = _network(spec)
    params = dict(spec.params)
    L = spec.depth
    Ws = [params[f"W{k}"] for k in range(1, L + 1)]
    bs = [params[f"b{k}"] for k in range(1, L + 1)]
    x, y = sp.Matrix(spec.x), sp.Matrix(spec.y)
    notes: list[KinkNote] = []
    zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb = backprop(net, Ws, bs, x, y, notes)
    fd_skipped = _verify_numeric(problem, net, Ws, bs, x, y, gW, gb, zs)
    names = Names(spec.notation, L, spec.layers)
    fx = Functions.of(spec)
    w = _world(net, spec, names, fx, Ws, bs, x, y)
    forward, backward = _numeric_rows(problem, spec, names, fx, net, Ws, bs, x, y,
                                      (zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb),
                                      {n.layer for n in notes})
    for row in forward + backward:
        sym = row.symbol
        if isinstance(sym, sp.Symbol) and sym.name in w.env:
            truth = w.env[sym.name]   # the quantity from the definitions, not from back-propagation
        elif isinstance(sym, AppliedUndef):
            truth = _value(sym, w)
        else:
            truth = row.value
        if not _agree(row.value, truth):
            raise VerificationFailed(problem.id, row.label, "the value differs from the quantity "
                                     "computed from the definitions")
        if row.formula is not None:
            check_shown(problem.id, row.label, row.formula, truth, w)
        if row.substituted is not None:
            check_shown(problem.id, row.label, row.substituted, truth, w, "numbers")
    shortcut_lhs, shortcut = _shortcut_steps(problem, spec, names, fx, net)
    answers = []
    for row in forward + backward:
        if row.label.startswith("local."):
            continue   # a step shown on the way (σ′(z₁) at the numbers), not an answer asked for
        value = row.value
        # scalars stay scalars: the loss, and ŷ and ∂ℓ/∂ŷ of a one-output network
        if row.label in ("forward.yhat", "backward.dL/dyhat") and value.shape == (1, 1):
            value = value[0, 0]
        answers.append(Answer(row.label, value))
    definitions = _definitions(spec, names, fx, net, w, problem.id)
    body = NumericMLP(spec, names, fx, tuple(definitions), tuple(forward), tuple(backward), shortcut,
                      shortcut_lhs, tuple(notes), _mlp_diagram(spec), fd_skipped,
                      compact=L >= 3 or max(spec.layers) >= 4)
    checks = ["network gradients against the derivative of the composed loss",
              "every displayed formula evaluated on the network and compared with the quantity it names"]
    if not fd_skipped:
        checks.append("network gradients by central finite differences")
    return Solution(problem, tuple(answers), body, tuple(checks))


def _numbers(*parts):
    """Numbers for a table's numbers column: a 1 × 1 matrix is written as the number."""
    return [p[0, 0] if p.shape == (1, 1) else sp.ImmutableMatrix(p) for p in parts]


def _left_at_kinks(closed: sp.Expr) -> sp.Expr:
    """A piecewise derivative with the kink given to the left piece (f′(0) = the left derivative)."""
    def widen(pw):
        return sp.Piecewise(*[(e, sp.Le(c.lhs, c.rhs) if isinstance(c, sp.StrictLessThan) else c)
                              for e, c in pw.args])
    return closed.replace(lambda a: isinstance(a, sp.Piecewise), widen)


def _numeric_rows(problem, spec, names, fx, net, Ws, bs, x, y, bp, kink_layers=frozenset()):
    """The forward and backward table rows (formula, numbers, value) in the question's names."""
    zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb = bp
    L = spec.depth
    widths = spec.layers
    forward, backward = [], []
    for k in range(1, L + 1):
        Wk, bk, prev = _nc(names.W(k)), _nc(names.b(k)), _nc(names.post(k, -1))
        W_, h_, b_ = _numbers(Ws[k - 1], hs[k - 1], bs[k - 1])
        forward.append(Row(f"forward.z{k}", _nc(names.pre(k)), Wk * prev + bk,
                           _Sum(sp.MatMul(W_, h_, evaluate=False), b_), zs[k - 1], k))
        if k < L:
            forward.append(Row(f"forward.h{k}", _nc(names.post(k)),
                               _applied(fx.hidden, _nc(names.pre(k)), net.hidden), None, hs[k], k))
    last_in = _nc(names.pre(L))   # what the output activation is applied to
    if net.stacked:
        top = net.act(net.hidden, zs[-1])
        last_in = _nc(names.top())
        forward.append(Row(f"forward.h{L}", last_in, _applied(fx.hidden, _nc(names.pre(L)), net.hidden),
                           None, top, L))
    forward.append(Row("forward.yhat", _nc(names.output), _applied(fx.output, last_in, net.output),
                       None, yhat, L))
    scalar = widths[-1] == 1
    loss_shown = _loss_fn(spec.loss, widths[-1])
    forward.append(Row("forward.loss", _nc(names.loss), loss_shown(sp.Symbol(names.output), sp.Symbol(names.target)),
                       # the numbers where the line stays short (½(1.33 − 0.33)²); the value for the rest
                       loss_shown(*(_plain(v) if scalar else sp.ImmutableMatrix(v) for v in (yhat, y)))
                       if spec.loss in _NORM_FORMS or spec.loss == "absolute" else None, loss, L))

    dl = _loss_derivative(spec, names, widths[-1])
    with sp.evaluate(False):
        dl_numbers = sp.Matrix([dl.subs({sp.Symbol(names.output): sp.UnevaluatedExpr(a),
                                         sp.Symbol(names.target): sp.UnevaluatedExpr(b)})
                                for a, b in zip(yhat, y)])
    backward.append(Row("backward.dL/dyhat", _nc(names.d(names.output)), dl,
                        # numbers only where they read well: ŷ − y, not −0 · 0.485⁻¹
                        None if dl.is_Symbol or not dl.is_polynomial() else
                        (dl_numbers[0] if scalar else sp.ImmutableMatrix(dl_numbers)),
                        dyhat, L))
    shortcut = net.output.name != "identity" and not net.output.vector and _shortcut(net, 1) or (
        net.output.vector and spec.loss == "cross_entropy" and sum(y) == 1 and _shortcut(net, widths[-1]))
    def through(k, tag, entry, fname, which, arg, at, up, upstream, cut):
        """The step back through one activation: (formula, numbers) of ∂ℓ/∂(its input), local rows added."""
        if entry.vector:
            J = local_derivative(net, entry, at)
            jac = _nc(rf"J_{{{fname}}}({arg})")
            if not cut:
                backward.append(Row(f"local.J{k}" if tag == f"z{k}" else f"local.J{tag}", jac, None, None, J, k))
            formula, numbers = _Transpose(jac) * up, sp.MatMul(*_numbers(J.T, upstream), evaluate=False)
        elif entry.name == "identity":
            formula, numbers = up, None
        else:
            local = local_derivative(net, entry, at)
            closed, z = _closed_derivative(problem, spec, which)
            zc = sp.Symbol(arg)
            closed = closed.xreplace({z: zc})
            if k in kink_layers:
                closed = _left_at_kinks(closed)
            with sp.evaluate(False):
                consts = {c: net.constants[c.name] for c in closed.free_symbols if c.name in net.constants}
                closed_numbers = sp.Matrix([closed.subs({zc: sp.UnevaluatedExpr(v), **consts})
                                            for v in at])
            # the numbers where they read as the question writes them: I(−3.2 > 0)
            readable = not any(isinstance(a, (AppliedUndef, sp.Piecewise)) for a in sp.preorder_traversal(closed))
            backward.append(Row(f"local.{tag}", _fn(_prime(fname))(_nc(arg)), closed,
                                sp.ImmutableMatrix(closed_numbers) if readable else None, local, k))
            formula = _Hadamard(up, _fn(_prime(fname))(_nc(arg)))
            numbers = _Hadamard(*_numbers(upstream, local))
        if cut:
            formula = _nc(names.output) - _nc(names.target)
            numbers = (sp.UnevaluatedExpr(yhat[0]) - sp.UnevaluatedExpr(y[0]) if scalar
                       else _Diff(*_numbers(yhat, y)))
        return formula, numbers

    for k in range(L, 0, -1):
        up = _nc(names.d(names.post(k)))
        upstream = dyhat if k == L else dhs[k]
        if k == L and net.stacked:
            # ŷ = g(h_L): back through g to h_L, then through f to z_L
            formula, numbers = through(k, f"h{k}", net.output, fx.output, "output", names.top(), top,
                                       up, upstream, shortcut)
            dtop = (local_derivative(net, net.output, top).T * upstream if net.output.vector
                    else upstream.multiply_elementwise(local_derivative(net, net.output, top)))
            backward.append(Row(f"backward.dL/dh{k}", _nc(names.d(names.top())), formula, numbers, dtop, k))
            formula, numbers = through(k, f"z{k}", net.hidden, fx.hidden, "hidden", names.pre(k), zs[k - 1],
                                       _nc(names.d(names.top())), dtop, False)
        elif k == L:
            formula, numbers = through(k, f"z{k}", net.output, fx.output, "output", names.pre(k), zs[k - 1],
                                       up, upstream, shortcut)
        else:
            formula, numbers = through(k, f"z{k}", net.hidden, fx.hidden, "hidden", names.pre(k), zs[k - 1],
                                       up, upstream, False)
        backward.append(Row(f"backward.dL/dz{k}", _nc(names.d(names.pre(k))), formula, numbers, deltas[k - 1], k))
        delta = _nc(names.d(names.pre(k)))
        backward.append(Row(f"grad.W{k}", _nc(names.d(names.W(k))), delta * _Transpose(_nc(names.post(k, -1))),
                            sp.MatMul(*_numbers(deltas[k - 1], hs[k - 1].T), evaluate=False), gW[k - 1], k))
        backward.append(Row(f"grad.b{k}", _nc(names.d(names.b(k))), delta, None, gb[k - 1], k))
        if k > 1:
            backward.append(Row(f"backward.dL/dh{k - 1}", _nc(names.d(names.post(k, -1))),
                                _Transpose(_nc(names.W(k))) * delta,
                                sp.MatMul(*_numbers(Ws[k - 1].T, deltas[k - 1]), evaluate=False), dhs[k - 1], k))
    return forward, backward


def _plain(v: sp.Matrix):
    return v[0, 0] if v.shape == (1, 1) else sp.ImmutableMatrix(v)


# --- forward and backward passes, exact ------------------------------------------


def backprop(net: Network, Ws: list, bs: list, x: sp.Matrix, y: sp.Matrix,
             kink_notes: list | None = None):
    """Forward and backward pass, exact. Returns (zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb)."""
    L = len(Ws)
    hs, zs = [x], []
    for k in range(L):
        z = Ws[k] * hs[-1] + bs[k]
        zs.append(z)
        hs.append(net.act(net.hidden, z) if k < L - 1 else net.last(z))
    yhat = hs[-1]
    loss = net.loss_of(yhat, y)
    yh = sp.Matrix(sp.symbols(f"q0:{len(yhat)}", real=True))
    dyhat = sp.Matrix([sp.diff(net.loss_of(yh, y), v) for v in yh]).subs(dict(zip(yh, yhat)))
    deltas: list = [None] * L
    dhs: list = [None] * L
    gW: list = [None] * L
    gb: list = [None] * L
    upstream = dyhat
    for k in reversed(range(L)):
        entry = net.output if k == L - 1 else net.hidden
        if k == L - 1 and net.stacked:   # through g at h_L = f(z_L), then through f
            top = net.act(net.hidden, zs[k])
            upstream, _ = _local_backward(net, net.output, top, upstream, k + 1, kink_notes)
            entry = net.hidden
        deltas[k], _ = _local_backward(net, entry, zs[k], upstream, k + 1, kink_notes)
        gW[k] = deltas[k] * hs[k].T
        gb[k] = deltas[k]
        upstream = Ws[k].T * deltas[k]
        dhs[k] = upstream
    return zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb


def local_derivative(net: Network, entry: Entry, z: sp.Matrix, layer: int = 0,
                     kink_notes: list | None = None) -> sp.Matrix:
    """The activation's derivative at z: the vector f′(z) (elementwise) or the Jacobian."""
    if entry.vector:
        zs = sp.Matrix(sp.symbols(f"u0:{len(z)}", real=True))
        return net.act(entry, zs).jacobian(zs).subs(dict(zip(zs, z)))
    out = []
    for i, zi in enumerate(z):
        piece, t, at_kink = _branch_at(entry, net.constants, zi)
        if at_kink and kink_notes is not None:
            kink_notes.append(KinkNote(layer, i + 1, entry.name))
        out.append(sp.diff(piece, t).subs(t, zi))
    return sp.Matrix(out)


def _local_backward(net: Network, entry: Entry, z: sp.Matrix, upstream: sp.Matrix, layer: int,
                    kink_notes: list | None) -> tuple[sp.Matrix, sp.Matrix]:
    """δ = J(z)ᵀ·upstream, or upstream ⊙ f′(z) for an elementwise activation; and f′(z)."""
    local = local_derivative(net, entry, z, layer, kink_notes)
    if entry.vector:
        return local.T * upstream, local
    return upstream.multiply_elementwise(local), local


def _shortcut(net: Network, n_out: int) -> bool:
    """Does ∂ℓ/∂z_L simplify to ŷ − y for this output and loss (softmax + CE, sigmoid + BCE)?"""
    z = sp.Matrix(sp.symbols(f"z0:{n_out}", real=True))
    y = sp.Matrix(sp.symbols(f"y0:{n_out}", real=True))
    if net.loss == "cross_entropy":
        # one-hot or probability targets: Σ y = 1
        y = sp.Matrix([*y[:-1], 1 - sum(y[:-1])]) if n_out > 1 else y
    key = (net.output.name, net.loss, n_out, tuple(sorted(net.constants.items(), key=str)))
    if key in _SHORTCUT:
        return _SHORTCUT[key]
    yhat = net.act(net.output, z)
    loss = net.loss_of(yhat, y)
    grad = sp.Matrix([sp.diff(loss, v) for v in z])
    gaps = [g - (a - b) for g, a, b in zip(grad, yhat, y)]
    # a number at one point settles "no" at once (sigmoid with the squared loss); "yes" is proved
    at = {s: sp.Rational(k + 2, 7) for k, s in enumerate(sorted(set().union(*(g.free_symbols for g in gaps)),
                                                              key=lambda s: s.name))}
    try:
        differs = any(abs(complex(sp.N(g.xreplace(at), 20))) > 1e-12 for g in gaps)
    except (TypeError, ValueError):
        differs = False
    _SHORTCUT[key] = not differs and all(verify.symbolic_zero(g) for g in gaps)
    return _SHORTCUT[key]


_SHORTCUT: dict = memo.cache()  # (output, loss, width, constants) -> does dℓ/dz_L equal ŷ − y?


def _verify_numeric(problem: Problem, net: Network, Ws, bs, x, y, gW, gb, zs) -> bool:
    """Check every gradient against sympy.diff of the composed loss, and by finite differences.

    The composed loss uses, for each unit, the branch of its activation in force at the
    point (the left one at a kink), so it is smooth there and ``sympy.diff`` is exact.
    Returns True when finite differences were skipped because a unit sits on a kink.
    """
    L = len(Ws)
    Wsym = [sp.Matrix(W.rows, W.cols, lambda i, j, k=k: sp.Symbol(f"w{k + 1}_{i + 1}{j + 1}", real=True))
            for k, W in enumerate(Ws)]
    bsym = [sp.Matrix(b.rows, 1, lambda i, j, k=k: sp.Symbol(f"b{k + 1}_{i + 1}", real=True))
            for k, b in enumerate(bs)]
    values = {}
    for S, V in zip(Wsym + bsym, Ws + bs):
        values.update(dict(zip(S, V)))
    h = x
    at_kink = False
    for k in range(L):
        z = Wsym[k] * h + bsym[k]
        entries = [net.hidden] if k < L - 1 else [net.hidden, net.output] if net.stacked else [net.output]
        point = zs[k]
        h = z
        for entry in entries:
            if entry.vector:
                h = net.act(entry, h)
            else:
                pieces = []
                for i, zi in enumerate(h):
                    piece, t, kink = _branch_at(entry, net.constants, point[i])
                    at_kink |= kink
                    pieces.append(piece.subs(t, zi))
                h = sp.Matrix(pieces)
            point = net.act(entry, point)
    loss = net.loss_of(h, y)
    for k in range(L):
        for S, G, name in ((Wsym[k], gW[k], f"W{k + 1}"), (bsym[k], gb[k], f"b{k + 1}")):
            for idx in range(len(S)):
                # the other parameters fixed first: d/ds in one variable is fast and exact
                others = {k: v for k, v in values.items() if k != S[idx]}
                exact = sp.diff(loss.xreplace(others), S[idx]).xreplace({S[idx]: values[S[idx]]})
                mine = G[idx]
                if not _close(exact, mine):
                    raise VerificationFailed(problem.id, f"grad.{name}", f"entry {idx + 1}: backprop "
                                             f"gives {verify.mp_value(mine).real:.10g}, sympy.diff "
                                             f"gives {verify.mp_value(exact).real:.10g}")
    if at_kink:
        return True
    flat = list(values)
    fn = verify.mp_lambdify(flat, net.loss_of(_forward_expr(net, Wsym, bsym, x), y))
    point = [values[s] for s in flat]
    with mpmath.workdps(50):
        base = [mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q for v in point]
        step = mpmath.mpf(10) ** -15
        for k in range(L):
            for S, G, name in ((Wsym[k], gW[k], f"W{k + 1}"), (bsym[k], gb[k], f"b{k + 1}")):
                for idx in range(len(S)):
                    pos = flat.index(S[idx])
                    plus, minus = list(base), list(base)
                    plus[pos] += step
                    minus[pos] -= step
                    fd = (fn(*plus) - fn(*minus)) / (2 * step)
                    if abs(complex(fd) - verify.mp_value(G[idx])) > 1e-9 * max(1, abs(complex(fd))):
                        raise VerificationFailed(problem.id, f"grad.{name}", f"entry {idx + 1}: finite "
                                                 f"differences give {complex(fd).real:.10g}")
    return False


def _forward_expr(net: Network, Wsym, bsym, x):
    h = x
    for k in range(len(Wsym)):
        z = Wsym[k] * h + bsym[k]
        h = net.act(net.hidden, z) if k < len(Wsym) - 1 else net.last(z)
    return h


# --- diagram --------------------------------------------------------------------------


def _mlp_diagram(spec: MLPSpec, show_weights: bool = True) -> Diagram:
    """Neurons in columns, input left; weights on the edges near their source end.

    A symbolic width (n, d, K) is drawn as two units, vertical dots and a last unit, with the
    width written under the column.
    """
    names = Names(spec.notation, spec.depth, spec.layers)
    params = dict(spec.params) if spec.params and show_weights else {}
    L = spec.depth
    labelled = bool(params)
    dx = 4.2 if labelled else 2.8
    nodes, edges, notes = [], [], []
    columns = []
    for k, width in enumerate(spec.layers):
        if isinstance(width, int):
            units = [(i, str(i + 1)) for i in range(width)]
        else:
            units = [(0, "1"), (1, "2"), (None, None), (2, width)]
        ys = [(len(units) - 1) / 2 - r for r in range(len(units))]
        column = []
        for (i, index), yy in zip(units, ys):
            if i is None:
                notes.append((dx * k, yy, r"\vdots"))
                continue
            ident = f"n{k}_{i}"
            if k == 0:
                base = names.input
            elif k == L:
                base = names.output
            else:
                base = names.post(k)
            label = _unit_label(base, index, isinstance(width, int) and width == 1)
            nodes.append((ident, dx * k, yy, label))
            column.append(ident)
        columns.append(column)
        if isinstance(width, str):
            notes.append((dx * k, ys[-1] - 0.85, f"{width}"))
    for k in range(1, L + 1):
        W = params.get(f"W{k}")
        for i, target in enumerate(columns[k]):
            for j, source in enumerate(columns[k - 1]):
                label = _short_number(W[i, j]) if W is not None else ""
                edges.append((source, target, label, 0))
    return Diagram(tuple(nodes), tuple(edges), tuple(notes))


def _unit_label(base: str, index: str, alone: bool) -> str:
    """Unit ``index`` of the vector ``base``: x_2, h_{1,2}, [f(x; θ)]_1; the vector itself if alone."""
    if alone:
        return base
    if "_" not in base and "(" not in base:
        return f"{base}_{{{index}}}"
    if "(" not in base and base.endswith("}") and "_{" in base:
        return base[:-1] + f",{index}}}"
    return rf"\left[{base}\right]_{{{index}}}"


def _short_number(v: sp.Expr) -> str:
    if v.is_Rational and v.q <= 10 ** 6:
        d = Decimal(int(v.p)) / Decimal(int(v.q))
        return format(d.normalize(), "f")
    return f"{float(v):.3g}"


def sheet_figure(problem: Problem) -> Diagram | None:
    """The network the statement refers to, from the parsed spec alone (no solving, no answers)."""
    return _mlp_diagram(problem.spec)


# --- symbolic -------------------------------------------------------------------------


def _solve_symbolic(problem: Problem, spec: MLPSpec) -> Solution:
    net = _network_symbolic(spec)
    L = spec.depth
    names = Names(spec.notation, L, spec.layers)
    fx = Functions.of(spec)
    x, y, yhat = _nc(names.input), _nc(names.target), _nc(names.output)

    # Layer | Input | Output, with every activation substituted, and the name of each output
    # up to two layers every column is written out in x, as the questions do; deeper networks
    # write each row in the previous row's name (the composed output is written out below)
    compose = L <= 2
    rows = []
    inp = x
    shown = x
    for k in range(1, L + 1):
        lin = _nc(names.W(k)) * inp + _nc(names.b(k))
        lin_shown = _nc(names.W(k)) * shown + _nc(names.b(k))
        rows.append(LayerRow(r"\mathrm{Linear}" if names.single else rf"\mathrm{{Linear}}_{{{k}}}", shown, lin_shown, _nc(names.pre(k))))
        entry = net.hidden if k < L else net.output
        fname = fx.hidden if k < L else fx.output
        shown = lin_shown if compose else _nc(names.pre(k))
        if k == L and net.stacked:   # f, then g on top: h_L = f(z_L), ŷ = g(h_L)
            lin = _applied(fx.hidden, lin, net.hidden)
            top_shown = _applied(fx.hidden, shown, net.hidden)
            rows.append(LayerRow(fx.hidden_letter, shown, top_shown, _nc(names.top())))
            shown = top_shown if compose else _nc(names.top())
        out = _applied(fname, lin, entry)
        out_shown = _applied(fname, shown, entry)
        rows.append(LayerRow(fx.hidden_letter if k < L else fx.output_letter, shown, out_shown,
                             _nc(names.post(k))))
        inp = out
        shown = out_shown if compose else _nc(names.post(k))
    loss_fn = _loss_fn(spec.loss, spec.layers[-1] if isinstance(spec.layers[-1], int) else spec.layers[-1])
    rows.append(LayerRow(r"\mathrm{Loss}", sp.Tuple(yhat, y), loss_fn(yhat, y), _nc(names.loss)))
    # the loss written out: in one line for a norm, else with the composed output beside it
    if spec.loss in _NORM_FORMS or spec.layers[-1] == 1:
        composed = ((_nc(names.loss), loss_fn(inp, y)),)
    else:
        composed = ((_nc(names.loss), loss_fn(yhat, y)), (yhat, inp))

    # parameter gradients, expanded in terms of ∂ℓ/∂ŷ, the activations' derivatives and the weights
    shortcut_lhs, shortcut = _shortcut_steps(problem, spec, names, fx, net)
    up = _nc(names.d(names.output))
    grads = []
    through = []   # ∂ℓ/∂z_k and ∂ℓ/∂h_{k-1}, layer by layer, in the same terms
    for k in range(L, 0, -1):
        entry = net.output if k == L else net.hidden
        fname = fx.output if k == L else fx.hidden
        pre = _nc(names.pre(k))
        if k == L and net.stacked:   # back through g to h_L, then through f
            if shortcut:
                dtop = yhat - y
            elif entry.vector:
                dtop = _Transpose(_nc(rf"J_{{{fname}}}({names.top()})")) * up
            else:
                dtop = _Hadamard(up, _fn(_prime(fname))(_nc(names.top())))
            through.append((_nc(names.d(names.top())), dtop))
            delta = _Hadamard(_nc(names.d(names.top())), _fn(_prime(fx.hidden))(pre))
        elif k == L and shortcut:
            delta = yhat - y
        elif entry.vector:
            delta = _Transpose(_nc(rf"J_{{{fname}}}({names.pre(k)})")) * up
        elif entry.name == "identity":
            delta = up
        else:
            delta = _Hadamard(up, _fn(_prime(fname))(pre))
        grads.append((_nc(names.d(names.W(k))), _grouped(delta) * _Transpose(_nc(names.post(k, -1)))))
        grads.append((_nc(names.d(names.b(k))), delta))
        through.append((_nc(names.d(names.pre(k))), delta))
        up = _Transpose(_nc(names.W(k))) * _grouped(delta)
        if k > 1:
            through.append((_nc(names.d(names.post(k, -1))), up))

    # the layer-wise recurrences, for a general layer index
    i = spec.notation.index_letter
    recs = [(_nc(names.d(names.pre(i))), _Hadamard(_nc(names.d(names.post(i))), _fn(_prime(fx.hidden))(_nc(names.pre(i))))),
            (_nc(names.d(names.post(i, -1))), _Transpose(_nc(names.W(i))) * _nc(names.d(names.pre(i)))),
            (_nc(names.d(names.W(i))), _nc(names.d(names.pre(i))) * _Transpose(_nc(names.post(i, -1)))),
            (_nc(names.d(names.b(i))), _nc(names.d(names.pre(i))))] if L > 1 else []   # one layer: none

    # elementwise derivatives in the question's names: ∂z₂/∂z₁, ∂ŷ/∂z₃, ∂ℓ/∂ŷ
    elementwise = []
    for k in range(1, L + 1):
        entry = net.hidden if k < L else net.output
        fname = fx.hidden if k < L else fx.output
        lhs = _nc(names.d(names.pre(k), of=names.post(k)))
        if k == L and net.stacked:   # ∂h_L/∂z_L = diag(f′(z_L)), ∂ŷ/∂h_L = J_g(h_L)
            elementwise.append((_nc(names.d(names.pre(k), of=names.top())),
                                _Diag(_fn(_prime(fx.hidden))(_nc(names.pre(k))))))
            elementwise.append((_nc(names.d(names.top(), of=names.output)),
                                _nc(rf"J_{{{fname}}}({names.top()})") if entry.vector else
                                _Diag(_fn(_prime(fname))(_nc(names.top())))))
            continue
        if entry.vector:
            jac = _nc(rf"J_{{{fname}}}({names.pre(k)})")
            elementwise.append((lhs, jac))
            continue
        if entry.name == "identity" and k == L:   # I: the output width's identity (1 for one output)
            elementwise.append((lhs, sp.Integer(1) if spec.layers[-1] == 1 else _nc("I")))
            continue
        elementwise.append((lhs, _Diag(_fn(_prime(fname))(_nc(names.pre(k))))))
    for which, entry, fname in (("hidden", net.hidden, fx.hidden), ("output", net.output, fx.output)):
        if (which == "hidden" and L == 1) or entry.vector or entry.name == "identity" and which == "output" or (which == "output" and spec.output == spec.hidden and fx.output == fx.hidden):
            continue
        closed, z = _closed_derivative(problem, spec, which)
        elementwise.append((_fn(_prime(fname), True)(z), closed))
    width = spec.layers[-1]
    elementwise.append((_nc(names.d(names.output)), _loss_derivative(spec, names, width)))

    published = _published_formulas(spec, names, fx, rows, composed, grads, through, elementwise)
    sizes, definitions = _check_symbolic(problem, spec, names, fx, rows, composed, grads, recs, elementwise,
                                         through, published)
    body = SymbolicMLP(spec, names, fx, tuple(definitions), tuple(rows), composed, tuple(grads), tuple(recs),
                       tuple(elementwise), shortcut, shortcut_lhs, _mlp_diagram(spec), sizes, tuple(through))
    answers = tuple(_symbolic_answer(spec, names, fx, p) for p in published)
    return Solution(problem, answers, body,
                    ("network tables, gradients" + (" and recurrences" if L > 1 else "") + " evaluated on random networks and compared "
                     "with the derivative of the composed loss",))


def _concrete_widths(layers, n_out: int) -> list[int]:
    """The widths of the random networks a symbolic key is checked on.

    A width the problem gives as a number (``["n", "d", 1]``: one output) is kept; a named one
    gets a small size, n = 2, d = 3, K = 2 by default, so that no two consecutive widths are
    equal where the problem leaves that open (then a swapped product cannot match shapes).
    One name stands for one size wherever it appears.
    """
    depth = len(layers) - 1
    default = ([3 if n_out == 2 else 2, n_out] if depth == 1 else [2, 3, n_out] if depth == 2
               else [2, 3] + [4 if i % 2 == 0 else 3 for i in range(depth - 2)] + [n_out])
    widths = [w if isinstance(w, int) else None for w in layers]
    named: dict[str, int] = {}
    for i, name in enumerate(layers):
        if widths[i] is not None:
            continue
        if name in named:
            widths[i] = named[name]
            continue
        fixed_neighbours = {w for w in (layers[i - 1] if i else None,
                                        layers[i + 1] if i + 1 < len(layers) else None)
                            if isinstance(w, int)}
        size = default[i]
        if size in fixed_neighbours:
            size = next(c for c in (2, 3, 4, 5) if c not in fixed_neighbours)
        widths[i] = named[name] = size
    return widths


def _check_symbolic(problem: Problem, spec: MLPSpec, names: Names, fx: Functions, rows, composed, grads,
                    recs, elementwise, through=(), published=()):
    """Every displayed formula, evaluated on random small networks, against the quantity it names."""
    net = _network_symbolic(spec)
    values = {s: sp.Rational(3, 10) * (i + 1) for i, s in enumerate(
        sorted({v for v in net.constants.values() if isinstance(v, sp.Symbol)}, key=str))}
    net = Network(net.hidden, net.output, net.loss, {k: values.get(v, v) for k, v in net.constants.items()},
                  net.stacked)
    rng = random.Random(f"{problem.id}/mlp")
    widths = _concrete_widths(spec.layers, 3 if net.output.vector else 2)
    n_out = widths[-1]
    definitions = []
    for attempt in range(2):
        Ws = [sp.Matrix(widths[k + 1], widths[k], lambda i, j: sp.Rational(rng.randint(-9, 9), 7))
              for k in range(len(widths) - 1)]
        bs = [sp.Matrix(widths[k + 1], 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 11))
              for k in range(len(widths) - 1)]
        x = sp.Matrix(widths[0], 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 5))
        if spec.loss in ("bce",):
            y = sp.Matrix(n_out, 1, lambda i, j: sp.Rational(rng.randint(1, 9), 10))
        elif spec.loss == "cross_entropy":
            y = sp.Matrix([sp.Rational(1, n_out)] * n_out)
        else:
            y = sp.Matrix(n_out, 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 10))
        # the displayed gradients are compared with the derivative of the composed loss in
        # _world, so back-propagation itself needs no separate check here
        w = _world(net, spec, names, fx, Ws, bs, x, y)
        for name, size in zip(spec.layers, widths):
            if isinstance(name, str):   # a width in a closed form: 2(ŷ − y)/K for the mean squared error
                w.env.setdefault(name, sp.Integer(size))
        for k in range(1, spec.depth + 1):
            J = local_derivative(net, net.hidden if k < spec.depth else net.output, w.env[names.pre(k)])
            entry = net.hidden if k < spec.depth else net.output
            fname = fx.hidden if k < spec.depth else fx.output
            w.env[rf"J_{{{fname}}}({names.pre(k)})"] = J
            w.env[names.d(names.pre(k), of=names.post(k))] = J if entry.vector else sp.diag(*J)
        if net.stacked:
            zL, top = w.env[names.pre(spec.depth)], w.env[names.top()]
            w.env[names.d(names.pre(spec.depth), of=names.top())] = sp.diag(*local_derivative(net, net.hidden, zL))
            J = local_derivative(net, net.output, top)
            w.env[names.d(names.top(), of=names.output)] = J if net.output.vector else sp.diag(*J)
        w.env["I"] = sp.eye(n_out) if net.output.name == "identity" else None
        for r in rows:
            check_shown(problem.id, f"forward table, row {r.name}, output", r.out, w.env[r.quantity.name], w)
        for prev, r in zip(rows, rows[1:]):
            want = (w.env[names.output], w.env[names.target]) if isinstance(r.inp, sp.Tuple) else w.env[prev.quantity.name]
            check_shown(problem.id, f"forward table, row {r.name}, input", r.inp, want, w)
        for lhs, rhs in composed:
            check_shown(problem.id, f"composed loss, line {lhs.name}", rhs, w.env[lhs.name], w)
        for lhs, rhs in grads:
            check_shown(problem.id, f"backward table, row {lhs.name}", rhs, w.env[lhs.name], w)
        for lhs, rhs in through:
            check_shown(problem.id, f"backward through the layers, {lhs.name}", rhs, w.env[lhs.name], w)
        # the recurrences at every layer index where they apply
        for k in range(1, spec.depth + 1):
            for n_rec, (lhs, rhs) in enumerate(recs):
                if n_rec == 0 and k == spec.depth:
                    continue  # the hidden-layer recurrence; the output layer has its own row
                at = {}
                for s in (lhs.free_symbols | rhs.free_symbols):
                    at[s] = _nc(_reindex(s.name, names, spec.notation, k))
                lhs_k, rhs_k = lhs.xreplace(at), rhs.xreplace(at)
                if lhs_k.name not in w.env:
                    continue
                check_shown(problem.id, f"recurrence {n_rec + 1} at layer {k}", rhs_k, w.env[lhs_k.name], w)
        for lhs, rhs in elementwise:
            if isinstance(lhs, sp.Symbol) and lhs.name in w.env:
                check_shown(problem.id, f"elementwise derivative {lhs.name}", rhs, w.env[lhs.name], w)
        # the published strings are the displayed formulas (checked on both networks) over
        # plain names: their translation is checked on the first network
        shared = _PublishedScope(spec, names, fx, widths, w) if attempt == 0 else None
        for p in published if attempt == 0 else ():
            _check_published(problem.id, p, widths, w, spec, names, fx, shared)
        definitions = _definitions(spec, names, fx, net, w, problem.id)
    # the closed forms f′(z), g′(z) against the derivative of the registry's function
    for lhs, rhs in elementwise:
        if isinstance(lhs, AppliedUndef) and lhs.is_commutative:
            (z,) = lhs.args
            entry = net.hidden if lhs.func.__name__ == _prime(fx.hidden) else net.output
            for v in (sp.Rational(-7, 3), sp.Rational(2, 5), sp.Rational(9, 4)):
                truth = sp.diff(entry.build(z, net.constants), z).subs(z, v)
                got = rhs.subs(z, v).replace(lambda a: isinstance(a, AppliedUndef),
                                            lambda a: w.scalar[a.func.__name__](a.args[0]))
                got = got.xreplace({s: net.constants[s.name] for s in got.free_symbols
                                    if s.name in net.constants})
                if not _close(got.doit(), truth.doit()):
                    raise VerificationFailed(problem.id, f"elementwise derivative {lhs.func.__name__}",
                                             "differs from the derivative of the activation")
    return "widths " + " → ".join(str(v) for v in widths), definitions


# --- the published (JSON) form of the symbolic formulas --------------------------------


@dataclass(frozen=True)
class Published:
    """One displayed formula as the JSON key publishes it."""

    label: str             # forward.z1, grad.W1, backward.dL/dz2, elementwise.dh1/dz1 …
    shown: sp.Basic        # the displayed formula (the question's names)
    quantity: str | None   # the name of what it equals on a concrete network (None: a closed form)
    entrywise: bool = False  # a closed form read entry by entry (∂ℓ/∂ŷ)


def _plain_of(names: Names, depth: int, stacked: bool = False) -> dict[str, str]:
    """The question's name of every vector and matrix → its plain name (x, W1, z1, h1, dL_dz1)."""
    out = {names.input: "x", names.target: "y", names.output: "yhat"}
    for k in range(1, depth + 1):
        out[names.W(k)], out[names.b(k)], out[names.pre(k)] = f"W{k}", f"b{k}", f"z{k}"
        if k < depth:
            out[names.post(k)] = f"h{k}"
    if stacked:
        out[names.top()] = f"h{depth}"
    for shown, plain in list(out.items()):
        if plain != "y":
            out[names.d(shown)] = f"dL_d{plain}"
    return out


def _plain_table(spec: MLPSpec, names: Names, fx: Functions, widths) -> dict:
    """The question's names → the plain matrix symbols, at the widths ``widths``."""
    syms = netexpr.symbols(widths, spec.output_of_hidden)
    table = {shown: syms[plain] for shown, plain in _plain_of(names, spec.depth, spec.output_of_hidden).items()}
    table["I"] = syms["I"]
    for k in range(1, spec.depth + 1):
        name, fname = (spec.hidden, fx.hidden) if k < spec.depth else (spec.output, fx.output)
        table[rf"J_{{{fname}}}({names.pre(k)})"] = netexpr.Jacobian(name, syms[f"z{k}"])
    if spec.output_of_hidden:
        table[rf"J_{{{fx.output}}}({names.top()})"] = netexpr.Jacobian(spec.output, syms[f"h{spec.depth}"])
    return table


def _plain_functions(spec: MLPSpec, fx: Functions) -> dict:
    out = {}
    for shown, name in ((fx.output, spec.output), (fx.hidden, spec.hidden)):
        out[shown] = (netexpr.Activation, name)
        out[_prime(shown)] = (netexpr.ActivationPrime, name)
    return out


def _to_plain(e, table: dict, functions: dict):
    """A displayed formula, node by node, as a matrix expression over the plain names."""
    def rec(a):
        return _to_plain(a, table, functions)

    if isinstance(e, _Loss):
        return netexpr.Loss(e.loss_name, *[rec(a) for a in e.args])
    if isinstance(e, _Transpose):
        return rec(e.args[0]).T
    if isinstance(e, _Hadamard):
        return netexpr.Hadamard(*[rec(a) for a in e.args])
    if isinstance(e, _Group):
        return rec(e.args[0])
    if isinstance(e, _Diag):
        return netexpr.Diag(rec(e.args[0]))
    if isinstance(e, _Diff):
        a, b = e.args
        return rec(a) - rec(b)
    if isinstance(e, _Sum) or e.is_Add:
        terms = [rec(a) for a in e.args]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total
    if e.is_Symbol:
        if e.name not in table:
            raise KeyError(e.name)
        return table[e.name]
    if isinstance(e, AppliedUndef) and e.func.__name__ in functions:
        cls, name = functions[e.func.__name__]
        return cls(name, rec(e.args[0]))
    if e.is_Number:
        return e
    if e.is_Mul:
        result = None
        for a in e.args:
            v = rec(a)
            result = v if result is None else result * v
        return result
    raise KeyError(type(e).__name__)


def _published_formulas(spec: MLPSpec, names: Names, fx: Functions, rows, composed, grads, through,
                        elementwise) -> list[Published]:
    """Every formula of the symbolic key that names a quantity, with its JSON label."""
    plain = _plain_of(names, spec.depth, spec.output_of_hidden)
    out = [Published("forward." + plain[r.quantity.name], r.out, r.quantity.name) for r in rows[:-1]]
    out.append(Published("forward.loss", composed[0][1], names.loss))
    for lhs, rhs in through:
        out.append(Published("backward.dL/d" + plain[lhs.name][len("dL_d"):], rhs, lhs.name))
    for lhs, rhs in grads:
        out.append(Published("grad." + plain[lhs.name][len("dL_d"):], rhs, lhs.name))
    for k in range(1, spec.depth + 1):
        pairs = [(names.pre(k), names.post(k))]
        if k == spec.depth and spec.output_of_hidden:
            pairs = [(names.pre(k), names.top()), (names.top(), names.output)]
        for of_what, what in pairs:
            lhs = names.d(of_what, of=what)
            rhs = next(r for l, r in elementwise if isinstance(l, sp.Symbol) and l.name == lhs)
            out.append(Published(f"elementwise.d{plain[what]}/d{plain[of_what]}", rhs, lhs))
    for lhs, rhs in elementwise:
        if isinstance(lhs, AppliedUndef):
            name = spec.hidden if lhs.func.__name__ == _prime(fx.hidden) else spec.output
            out.append(Published(f"elementwise.{name}_prime", rhs, None))
        elif lhs.name == names.d(names.output):
            out.append(Published("elementwise.dL/dyhat", rhs, lhs.name, entrywise=True))
    return out


def _entrywise_plain(spec: MLPSpec, names: Names, fx: Functions, shown: sp.Expr) -> sp.Expr:
    """A closed form read entry by entry, in plain scalars: yhat_j, y_j; f′(z) with f the
    registry's function (σ(z) as 1/(1 + e^{−z}))."""
    at = {sp.Symbol(names.output): sp.Symbol("yhat_j", real=True),
          sp.Symbol(names.target): sp.Symbol("y_j", real=True)}
    e = shown.xreplace(at)
    by_name = {fx.hidden: ACTIVATIONS[spec.hidden], fx.output: ACTIVATIONS[spec.output]}
    # the teacher's heads: σ, Φ and φ (the standard normal's distribution and density)
    heads = {r"\sigma": lambda u: 1 / (1 + sp.exp(-u)),
             r"\Phi": lambda u: (1 + sp.erf(u / sp.sqrt(2))) / 2,
             r"\varphi": lambda u: sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi)}
    heads.update({name: (lambda u, entry=entry: entry.build(u, netexpr.constants(entry)))
                  for name, entry in by_name.items()})
    return e.replace(lambda a: isinstance(a, AppliedUndef) and a.func.__name__ in heads,
                     lambda a: heads[a.func.__name__](a.args[0]))


def _symbolic_answer(spec: MLPSpec, names: Names, fx: Functions, p: Published) -> Answer:
    if p.quantity is None or p.entrywise:
        return Answer(p.label, _entrywise_plain(spec, names, fx, p.shown), p.shown)
    value = _to_plain(p.shown, _plain_table(spec, names, fx, spec.layers), _plain_functions(spec, fx))
    return Answer(p.label, value, p.shown)


class _PublishedScope:
    """What every published formula of one network is read back and evaluated with (the plain
    names' table and functions, the reader's namespace at ``widths``, the concrete values of
    ``w`` as immutable matrices): built once per network, not once per formula."""

    def __init__(self, spec: MLPSpec, names: Names, fx: Functions, widths, w: World):
        self.spec, self.names, self.fx, self.widths, self.w = spec, names, fx, widths, w

    @functools.cached_property
    def table(self) -> dict:
        return _plain_table(self.spec, self.names, self.fx, self.spec.layers)

    @functools.cached_property
    def functions(self) -> dict:
        return _plain_functions(self.spec, self.fx)

    @functools.cached_property
    def namespace(self):
        return netexpr.namespace(self.widths, self.spec.output_of_hidden)

    @functools.cached_property
    def values(self) -> dict:
        env = self.w.env
        return {name: sp.ImmutableMatrix(env[shown])
                for shown, name in _plain_of(self.names, self.spec.depth, self.spec.output_of_hidden).items()
                if shown in env and isinstance(env[shown], sp.MatrixBase)}


def _check_published(problem_id: str, p: Published, widths, w: World, spec: MLPSpec, names: Names,
                     fx: Functions, shared: _PublishedScope | None = None) -> None:
    """The published string, read back as the checker reads it, evaluated on the concrete
    network ``w`` (widths ``widths``) and compared with the quantity it names."""
    from ..export import sympy_string
    from ..parse import parse_expression

    where = f"published {p.label}"
    if p.quantity is None:   # f′(z): against the derivative of the registry's function
        value = _entrywise_plain(spec, names, fx, p.shown)
        z = next((v for v in value.free_symbols if v.name == "z"), sp.Symbol("z", real=True))
        entry = ACTIVATIONS[p.label[len("elementwise."):-len("_prime")]]
        for v in (sp.Rational(-7, 3), sp.Rational(2, 5), sp.Rational(9, 4)):
            truth = sp.diff(entry.build(z, netexpr.constants(entry)), z).subs(z, v)
            got = value.subs(z, v)
            at = {c: w.consts[c.name] for c in (truth.free_symbols | got.free_symbols) if c.name in w.consts}
            if not _close(got.xreplace(at).doit(), truth.xreplace(at).doit()):
                raise VerificationFailed(problem_id, where, "differs from the derivative of the activation")
        return
    if p.entrywise:
        value = _entrywise_plain(spec, names, fx, p.shown)
        text = sympy_string(value)
        # the JSON key's promise is that sympy.parse_expr reads its strings back; this text is
        # printed here from SymPy objects over names checked as identifiers (no file text)
        back = sp.parse_expr(text, local_dict={"yhat_j": sp.Symbol("yhat_j", real=True),
                                               "y_j": sp.Symbol("y_j", real=True)})
        yh, yy = w.env[names.output], w.env[names.target]
        got = sp.Matrix([back.xreplace({sp.Symbol("yhat_j", real=True): a, sp.Symbol("y_j", real=True): b})
                         for a, b in zip(yh, yy)])
        got = got.xreplace({c: w.consts[c.name] for c in got.free_symbols if c.name in w.consts})
        got = got.xreplace({c: w.env[c.name] for c in got.free_symbols     # a width: 2(ŷ − y)/K
                            if c.name in w.env and not isinstance(w.env[c.name], sp.MatrixBase)})
        if not _agree(got, w.env[p.quantity]):
            raise VerificationFailed(problem_id, where, "does not equal the quantity it names")
        return
    shared = shared or _PublishedScope(spec, names, fx, widths, w)
    try:   # (the table and the namespace are built here, on first use: a KeyError is this failure)
        value = _to_plain(p.shown, shared.table, shared.functions)
        text = sympy_string(value)
        back = parse_expression(text, shared.namespace)
    except (KeyError, BadInput) as exc:
        raise VerificationFailed(problem_id, where, f"cannot be written over the plain names ({exc})") from None
    values = shared.values
    subs = {M: values[M.name] for M in back.atoms(sp.MatrixSymbol) if M.name in values}
    try:
        with netexpr.bound({k: v for k, v in w.consts.items() if not isinstance(v, sp.Symbol)}):
            got = back.xreplace(subs).doit()
        if isinstance(got, MatrixExpr):
            got = got.as_explicit()
        got = sp.Matrix(got) if isinstance(got, sp.MatrixBase) else sp.Matrix([[got]])  # 1: one output
        consts = {s: w.consts[s.name] for s in got.free_symbols if s.name in w.consts}
        got = got.xreplace(consts)
    except (sp.ShapeError, TypeError, ValueError, NotImplementedError) as exc:
        raise VerificationFailed(problem_id, where, f"does not evaluate ({exc})") from None
    if not _agree(got, w.env[p.quantity]):
        raise VerificationFailed(problem_id, where, "does not equal the quantity it names on a concrete network")


def _reindex(name: str, names: Names, notation: Notation, k: int) -> str:
    """A name written with the general index (z_{k}, W^{(k)}, h_{k - 1}) at the layer k."""
    i = notation.index_letter
    candidates = {}
    for off in (-1, 0, 1):
        for fn in (names.W, names.b, names.pre, names.post):
            candidates[fn(i, off)] = fn(k, off)
    for base, concrete in list(candidates.items()):
        candidates[names.d(base)] = names.d(concrete)
    return candidates.get(name, name)


def _network_symbolic(spec: MLPSpec) -> Network:
    consts = {}
    for entry in (ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output], LOSSES[spec.loss]):
        for p, text in entry.params.items():
            consts[p] = parse_assumption(p, text).symbol()
    consts.update(dict(spec.constants))
    return Network(ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output], spec.loss, consts,
                   spec.output_of_hidden)




def solve(problem: Problem) -> Solution:
    spec: MLPSpec = problem.spec
    if spec.numeric:
        return _solve_numeric(problem, spec)
    return _solve_symbolic(problem, spec)
