"""Kind ``mlp``: forward and backward passes through a small multi-layer perceptron.

Names: z_k = W_k h_{k-1} + b_k, h_0 = x, h_k = hidden(z_k), ŷ = output(z_L), loss ℓ(ŷ, y).

- Numeric (``x``, ``y`` and ``[problem.params]`` given): exact arithmetic; a forward table
  of every z_k, h_k, ŷ, ℓ and a backward table of ∂ℓ/∂ŷ, δ_k = ∂ℓ/∂z_k, ∂ℓ/∂h_k and every
  ∂ℓ/∂W_k, ∂ℓ/∂b_k, each with its formula, the numbers substituted and the value. Every
  gradient is checked against ``sympy.diff`` of the fully composed loss and by finite
  differences.
- Symbolic (no numbers): the Layer | Input | Output table, the Parameter | Gradient table,
  the elementwise derivatives in closed form and the layer-wise recurrences, all checked on
  random instances against ``sympy.diff`` of the composed loss.

At a kink (a ReLU pre-activation exactly 0) the derivative is the left one (ReLU′(0) = 0,
as PyTorch does); the key says so where it happens.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal

import mpmath
import sympy as sp

from .. import verify
from ..assume import Scope, parse_assumption
from ..errors import BadInput, VerificationFailed
from ..library import Entry
from ..library.activations import ACTIVATIONS
from ..library.losses import LOSSES, vector_loss
from ..spec import Fields, Problem
from .branches import split_branches
from .derivative import FunctionSpec, _solve_scalar, DerivativeSpec
from .steps import Answer, Solution

FIELDS = {"layers", "hidden", "output", "loss", "x", "y", "params", "constants", "recurrences"}
_SIZE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


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
            raise f.error("layers", f"each width must be a positive integer or a name, got {w!r}")
        if isinstance(w, int) and w > MAX_WIDTH:
            raise f.error("layers", f"a width of {w} is too large for a worked example "
                          f"(at most {MAX_WIDTH}; write a name such as \"n\" for a general width)")
    if len(layers) > MAX_LAYERS:
        raise f.error("layers", f"{len(layers)} layers are too many for a worked example "
                      f"(at most {MAX_LAYERS})")
    hidden = f.get("hidden", str, "relu")
    output = f.get("output", str, "identity")
    loss = f.get("loss", str, "half_squared")
    for field_name, name in (("hidden", hidden), ("output", output)):
        if name not in ACTIVATIONS:
            raise f.error(field_name, f"unknown activation {name!r} (see 'symderiv list')")
    if ACTIVATIONS[hidden].vector:
        raise f.error("hidden", f"{hidden} is not elementwise; use it as the output activation")
    if loss not in LOSSES:
        raise f.error("loss", f"unknown loss {loss!r} (see 'symderiv list')")
    constants = f.get("constants", dict, {})
    consts = tuple((k, _rational(v, f"constants.{k}", f)) for k, v in sorted(constants.items()))
    numeric_fields = [k for k in ("x", "y", "params") if k in problem.fields]
    if numeric_fields and len(numeric_fields) != 3:
        missing = sorted({"x", "y", "params"} - set(numeric_fields))[0]
        raise f.error(missing, "a numeric problem needs x, y and params together")
    recurrences = bool(f.get("recurrences", bool, False)) or any(isinstance(w, str) for w in layers)
    if not numeric_fields:
        return MLPSpec(tuple(layers), hidden, output, loss, constants=consts, recurrences=recurrences)
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
    spec = MLPSpec(tuple(layers), hidden, output, loss, x, y, tuple(params), consts, recurrences)
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

    def act(self, entry: Entry, z: sp.Matrix) -> sp.Matrix:
        if entry.vector:
            return entry.build(list(z), self.constants)
        return z.applyfunc(lambda t: entry.build(t, self.constants))

    def loss_of(self, yhat: sp.Matrix, y: sp.Matrix) -> sp.Expr:
        return vector_loss(self.loss, yhat, y, self.constants)


def _network(spec: MLPSpec) -> Network:
    consts = {k: v for k, v in spec.constants}
    return Network(ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output], spec.loss, consts)


def _branch_at(entry: Entry, consts: dict, value: sp.Expr) -> tuple[sp.Expr, sp.Symbol, bool]:
    """The smooth piece of an elementwise activation used at ``value``: the left one at a kink."""
    t = sp.Symbol("t", real=True)
    expr = entry.build(t, consts)
    branches = split_branches(expr, t, Scope()) if expr.has(sp.Max, sp.Min, sp.Piecewise,
                                                             sp.Heaviside, sp.Abs) else None
    if not branches or len(branches) == 1:
        return (branches[0].expr if branches else expr), t, False
    v = sp.nsimplify(value) if value.is_Rational else value
    for b in branches:
        inside_upper = b.upper == sp.oo or bool(v <= b.upper)
        inside_lower = b.lower == -sp.oo or bool(v > b.lower)
        if inside_lower and inside_upper:
            return b.expr, t, b.upper != sp.oo and v == b.upper
    raise BadInput(f"no branch of {entry.name} applies at {value}")


@dataclass(frozen=True)
class Row:
    """One row of a table: a name, its formula, the numbers substituted, the value."""

    label: str
    symbol: sp.Basic
    formula: sp.Basic | None
    substituted: sp.Basic | None
    value: sp.Basic


@dataclass(frozen=True)
class KinkNote:
    layer: int
    unit: int
    activation: str


@dataclass(frozen=True)
class Diagram:
    """Neuron positions and labelled edges, computed here so the template only draws."""

    nodes: tuple[tuple[str, float, float, str], ...]   # id, x, y, label (LaTeX)
    edges: tuple[tuple[str, str, str], ...]            # from, to, label (LaTeX) or ""


@dataclass(frozen=True)
class NumericMLP:
    spec: MLPSpec
    forward: tuple[Row, ...]
    backward: tuple[Row, ...]
    shortcut: sp.Basic | None   # ŷ − y where the output/loss pair simplifies to it
    kinks: tuple[KinkNote, ...]
    diagram: Diagram
    fd_skipped: bool


@dataclass(frozen=True)
class SymbolicMLP:
    spec: MLPSpec
    layer_rows: tuple[tuple[str, sp.Basic, sp.Basic], ...]
    gradient_rows: tuple[tuple[sp.Basic, sp.Basic], ...]
    recurrences: tuple[tuple[sp.Basic, sp.Basic], ...]
    elementwise: tuple[tuple[sp.Basic, sp.Basic], ...]
    shortcut: sp.Basic | None
    diagram: Diagram
    checked: str


def _sym(name: str, rows, cols=1):
    return sp.MatrixSymbol(name, rows, cols)


def _d(num: str, den: str) -> sp.Symbol:
    """A display symbol ∂num/∂den."""
    return sp.Symbol(rf"\frac{{\partial {num}}}{{\partial {den}}}")


# --- numeric --------------------------------------------------------------------------


def backprop(net: Network, Ws: list, bs: list, x: sp.Matrix, y: sp.Matrix,
             kink_notes: list | None = None):
    """Forward and backward pass, exact. Returns (zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb)."""
    L = len(Ws)
    hs, zs = [x], []
    for k in range(L):
        z = Ws[k] * hs[-1] + bs[k]
        zs.append(z)
        hs.append(net.act(net.hidden if k < L - 1 else net.output, z))
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
    yhat = net.act(net.output, z)
    loss = net.loss_of(yhat, y)
    grad = sp.Matrix([sp.diff(loss, v) for v in z])
    return all(verify.symbolic_zero(g - (a - b)) for g, a, b in zip(grad, yhat, y))


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

    def M(name, rows, cols=1):
        return _sym(name, rows, cols)

    widths = spec.layers
    forward, backward, answers = [], [], []
    h_prev_sym = M("x", widths[0])
    for k in range(1, L + 1):
        Wk, bk, zk = M(f"W^{{({k})}}", widths[k], widths[k - 1]), M(f"b^{{({k})}}", widths[k]), M(f"z_{{{k}}}", widths[k])
        prev_value = hs[k - 1]
        forward.append(Row(f"forward.z{k}", zk, Wk * h_prev_sym + bk,
                           sp.MatAdd(sp.MatMul(sp.ImmutableMatrix(Ws[k - 1]), sp.ImmutableMatrix(prev_value),
                                               evaluate=False), sp.ImmutableMatrix(bs[k - 1]), evaluate=False),
                           zs[k - 1]))
        if k < L:
            hk = M(f"h_{{{k}}}", widths[k])
            forward.append(Row(f"forward.h{k}", hk, sp.Function(ACTIVATIONS[spec.hidden].latex)(zk), None, hs[k]))
            h_prev_sym = hk
    out_sym = sp.Symbol(r"\hat{y}")
    forward.append(Row("forward.yhat", out_sym, sp.Function(ACTIVATIONS[spec.output].latex)(
        M(f"z_{{{L}}}", widths[L])) if spec.output != "identity" else M(f"z_{{{L}}}", widths[L]), None, yhat))
    forward.append(Row("forward.loss", sp.Symbol(r"\ell"), sp.Function(_loss_latex(spec.loss))(out_sym, sp.Symbol("y")),
                       None, loss))
    shortcut = sp.Symbol(r"\hat{y}") - sp.Symbol("y") if _shortcut(net, widths[L]) else None
    backward.append(Row("backward.dL/dyhat", _d(r"\ell", r"\hat{y}"), None, None, dyhat))
    for k in range(L, 0, -1):
        zk = f"z_{{{k}}}"
        delta = _d(r"\ell", zk)
        if k == L:
            formula = (shortcut if shortcut is not None else
                       sp.Symbol(r"J_{g}(z_{%d})^{\top} \frac{\partial \ell}{\partial \hat{y}}" % L)
                       if net.output.vector else
                       sp.Symbol(r"\frac{\partial \ell}{\partial \hat{y}} \odot g'(z_{%d})" % L))
        else:
            formula = sp.Symbol(r"\frac{\partial \ell}{\partial h_{%d}} \odot f'(z_{%d})" % (k, k))
        numbers = None
        if k < L or (not net.output.vector and shortcut is None):
            entry = net.hidden if k < L else net.output
            upstream = dhs[k] if k < L else dyhat
            numbers = sp.HadamardProduct(sp.ImmutableMatrix(upstream),
                                         sp.ImmutableMatrix(local_derivative(net, entry, zs[k - 1])),
                                         evaluate=False)
        backward.append(Row(f"backward.dL/dz{k}", delta, formula, numbers, deltas[k - 1]))
        backward.append(Row(f"grad.W{k}", _d(r"\ell", f"W^{{({k})}}"),
                            sp.Symbol(r"\frac{\partial \ell}{\partial z_{%d}} %s^{\top}" % (k, "x" if k == 1 else f"h_{{{k - 1}}}")),
                            sp.MatMul(sp.ImmutableMatrix(deltas[k - 1]), sp.ImmutableMatrix(hs[k - 1].T), evaluate=False),
                            gW[k - 1]))
        backward.append(Row(f"grad.b{k}", _d(r"\ell", f"b^{{({k})}}"), sp.Symbol(r"\frac{\partial \ell}{\partial z_{%d}}" % k),
                            None, gb[k - 1]))
        if k > 1:
            backward.append(Row(f"backward.dL/dh{k - 1}", _d(r"\ell", f"h_{{{k - 1}}}"),
                                sp.Symbol(r"W^{(%d)\top} \frac{\partial \ell}{\partial z_{%d}}" % (k, k)),
                                sp.MatMul(sp.ImmutableMatrix(Ws[k - 1].T), sp.ImmutableMatrix(deltas[k - 1]), evaluate=False),
                                dhs[k - 1]))
    for row in forward + backward:
        value = row.value
        # scalars stay scalars: the loss, and ŷ and ∂ℓ/∂ŷ of a one-output network
        if row.label in ("forward.yhat", "backward.dL/dyhat") and value.shape == (1, 1):
            value = value[0, 0]
        answers.append(Answer(row.label, value))
    body = NumericMLP(spec, tuple(forward), tuple(backward), shortcut, tuple(notes),
                      _mlp_diagram(spec), fd_skipped)
    checks = ["network gradients against sympy.diff of the composed loss"]
    if not fd_skipped:
        checks.append("network gradients by central finite differences")
    return Solution(problem, tuple(answers), body, tuple(checks))


def _loss_latex(name: str) -> str:
    return r"\ell_{\mathrm{%s}}" % name.replace("_", r"\_")


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
        entry = net.hidden if k < L - 1 else net.output
        if entry.vector:
            h = net.act(entry, z)
        else:
            pieces = []
            for i, zi in enumerate(z):
                piece, t, kink = _branch_at(entry, net.constants, zs[k][i])
                at_kink |= kink
                pieces.append(piece.subs(t, zi))
            h = sp.Matrix(pieces)
    loss = net.loss_of(h, y)
    for k in range(L):
        for S, G, name in ((Wsym[k], gW[k], f"W{k + 1}"), (bsym[k], gb[k], f"b{k + 1}")):
            for idx in range(len(S)):
                # the other parameters fixed first: d/ds in one variable is fast and exact
                others = {k: v for k, v in values.items() if k != S[idx]}
                exact = sp.diff(loss.xreplace(others), S[idx]).xreplace({S[idx]: values[S[idx]]})
                mine = G[idx]
                if not _same(exact, mine):
                    raise VerificationFailed(problem.id, f"grad.{name}", f"entry {idx + 1}: backprop "
                                             f"gives {verify.mp_value(mine).real:.10g}, sympy.diff "
                                             f"gives {verify.mp_value(exact).real:.10g}")
    if at_kink:
        return True
    flat = list(values)
    fn = sp.lambdify(flat, net.loss_of(_forward_expr(net, Wsym, bsym, x), y), modules="mpmath")
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
        h = net.act(net.hidden if k < len(Wsym) - 1 else net.output, Wsym[k] * h + bsym[k])
    return h


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    """Equal exactly (rationals) or to 30 digits (closed forms with exp, erf …)."""
    if a.is_Rational and b.is_Rational:
        return a == b
    va, vb = verify.mp_value(a), verify.mp_value(b)
    return abs(va - vb) < 1e-30 * max(1.0, abs(va))


# --- diagram --------------------------------------------------------------------------


def _mlp_diagram(spec: MLPSpec) -> Diagram:
    """Neurons in columns, input left; edges labelled with their weights when given."""
    widths = [w if isinstance(w, int) else 3 for w in spec.layers]
    params = dict(spec.params) if spec.params else {}
    nodes, edges = [], []
    L = len(widths) - 1
    for k, w in enumerate(widths):
        for i in range(w):
            ident = f"n{k}_{i}"
            if k == 0:
                label = f"x_{{{i + 1}}}"
            elif k == L:
                label = r"\hat{y}" if w == 1 else rf"\hat{{y}}_{{{i + 1}}}"
            else:
                label = f"h^{{({k})}}_{{{i + 1}}}"
            nodes.append((ident, 2.6 * k, (w - 1) / 2 - i, label))
    for k in range(1, L + 1):
        W = params.get(f"W{k}")
        for i in range(widths[k]):
            for j in range(widths[k - 1]):
                label = ""
                if W is not None:
                    label = _short_number(W[i, j])
                edges.append((f"n{k - 1}_{j}", f"n{k}_{i}", label))
    return Diagram(tuple(nodes), tuple(edges))


def _short_number(v: sp.Expr) -> str:
    if v.is_Rational and v.q <= 10 ** 6:
        d = Decimal(int(v.p)) / Decimal(int(v.q))
        return format(d.normalize(), "f")
    return f"{float(v):.3g}"


# --- symbolic -------------------------------------------------------------------------


def _solve_symbolic(problem: Problem, spec: MLPSpec) -> Solution:
    net = _network_symbolic(spec)
    L = spec.depth
    # non-commutative symbols keep W before its input: W^{(2)} f(W^{(1)} x + b^{(1)})
    x = sp.Symbol("x", commutative=False)
    f, g = sp.Function("f", commutative=False), sp.Function("g", commutative=False)
    layer_rows = []
    inp = x
    for k in range(1, L + 1):
        lin = sp.Symbol(f"W^{{({k})}}", commutative=False) * inp + sp.Symbol(f"b^{{({k})}}", commutative=False)
        layer_rows.append((rf"\mathrm{{Linear}}_{{{k}}}", inp, lin))
        act = f if k < L else g
        layer_rows.append((f"${act.__name__}$", lin, act(lin)))
        inp = act(lin)
    yhat = sp.Symbol(r"\hat{y}")
    layer_rows.append((r"\mathrm{Loss}", sp.Tuple(yhat, sp.Symbol("y")),
                       sp.Function(_loss_latex(spec.loss))(yhat, sp.Symbol("y"))))
    shortcut = (yhat - sp.Symbol("y")) if _shortcut(net, 3 if ACTIVATIONS[spec.output].vector else 1) else None
    grads, recs = [], []
    for k in range(L, 0, -1):
        prev = "x" if k == 1 else f"h_{{{k - 1}}}"
        grads.append((_d(r"\ell", f"W^{{({k})}}"), sp.Symbol(rf"\delta_{{{k}}} {prev}^{{\top}}")))
        grads.append((_d(r"\ell", f"b^{{({k})}}"), sp.Symbol(rf"\delta_{{{k}}}")))
    recs.append((sp.Symbol(rf"\delta_{{{L}}}"), shortcut if shortcut is not None else (
        sp.Symbol(r"J_g(z_{%d})^{\top} \frac{\partial \ell}{\partial \hat{y}}" % L)
        if ACTIVATIONS[spec.output].vector else
        sp.Symbol(r"\frac{\partial \ell}{\partial \hat{y}} \odot g'(z_{%d})" % L))))
    recs.append((sp.Symbol(r"\delta_{k}"), sp.Symbol(r"\left(W^{(k+1)\top} \delta_{k+1}\right) \odot f'(z_{k})")))
    recs.append((_d(r"\ell", "W^{(k)}"), sp.Symbol(r"\delta_{k}\, h_{k-1}^{\top}")))
    recs.append((_d(r"\ell", "b^{(k)}"), sp.Symbol(r"\delta_{k}")))
    elementwise = _elementwise(problem, spec)
    sizes = _check_symbolic(problem, spec)
    return Solution(problem, (), SymbolicMLP(spec, tuple(layer_rows), tuple(grads), tuple(recs),
                                             tuple(elementwise), shortcut, _mlp_diagram(spec), sizes),
                    ("network gradient recurrences against sympy.diff on random instances",))


def _network_symbolic(spec: MLPSpec) -> Network:
    consts = {}
    for entry in (ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output], LOSSES[spec.loss]):
        for p, text in entry.params.items():
            consts[p] = parse_assumption(p, text).symbol()
    consts.update(dict(spec.constants))
    return Network(ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output], spec.loss, consts)


def _elementwise(problem: Problem, spec: MLPSpec) -> list[tuple[sp.Basic, sp.Basic]]:
    """f′(z), g′(z) and ∂ℓ/∂ŷ in closed form, from the derivative engine (so verified)."""
    out = []
    scope = Scope().with_defaults({p: t for e in (ACTIVATIONS[spec.hidden], ACTIVATIONS[spec.output],
                                                  LOSSES[spec.loss]) for p, t in e.params.items()})
    z = scope.symbol("z")
    for letter, name in (("f", spec.hidden), ("g", spec.output)):
        if ACTIVATIONS[name].vector:
            out.append((sp.Symbol(rf"\frac{{\partial {letter}_i}}{{\partial z_j}}"),
                        sp.Symbol(r"g_i(z)\left(\delta_{ij} - g_j(z)\right)")))
            continue
        fs = DerivativeSpec((FunctionSpec(name, entry=name),), "z")
        r = _solve_scalar(problem, FunctionSpec(name, entry=name), scope, z, fs)
        shown = r.teacher.expr if r.teacher else r.derivative
        out.append((sp.Symbol(f"{letter}'(z)"), shown))
    yhat = scope.symbol("yhat")
    fs = DerivativeSpec((FunctionSpec(spec.loss, entry=spec.loss),), "yhat")
    r = _solve_scalar(problem, FunctionSpec(spec.loss, entry=spec.loss), scope, yhat, fs)
    out.append((_d(r"\ell", r"\hat{y}"), r.derivative.subs(yhat, sp.Symbol(r"\hat{y}"))))
    return out


def _check_symbolic(problem: Problem, spec: MLPSpec) -> str:
    """The recurrences against sympy.diff of the composed loss on random small instances."""
    net = _network_symbolic(spec)
    values = {s: sp.Rational(3, 10) * (i + 1) for i, s in enumerate(
        sorted({v for v in net.constants.values() if isinstance(v, sp.Symbol)}, key=str))}
    net = Network(net.hidden, net.output, net.loss, {k: values.get(v, v) for k, v in net.constants.items()})
    rng = random.Random(f"{problem.id}/mlp")
    n_out = 3 if net.output.vector else 1
    widths = [2, 3, n_out] if spec.depth <= 2 else [2, 3, 2, n_out]
    for _ in range(2):
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
        zs, hs, yhat, loss, dyhat, deltas, dhs, gW, gb = backprop(net, Ws, bs, x, y)
        _verify_numeric(problem, net, Ws, bs, x, y, gW, gb, zs)
    return "widths " + " → ".join(str(w) for w in widths)


def solve(problem: Problem) -> Solution:
    spec: MLPSpec = problem.spec
    if spec.numeric:
        return _solve_numeric(problem, spec)
    return _solve_symbolic(problem, spec)
