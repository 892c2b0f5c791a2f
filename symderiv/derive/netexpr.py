"""The published (JSON) form of a symbolic network's formulas: matrix expressions over plain names.

The key displays a symbolic ``mlp`` in the question's LaTeX names (W⁽¹⁾, z₃, ∂ℓ/∂ŷ). For the
machine-readable key each displayed formula is translated, node by node, into a SymPy matrix
expression over plain names that do not change with the notation: ``x``, ``y``, ``yhat``,
``W1``, ``b1``, ``z1``, ``h1`` (hidden outputs), ``dL_dyhat``, ``dL_dz1``, ``dL_dh1``, with
the widths of ``layers`` as dimensions. The activations, their derivatives, the entrywise
product, ``diag`` and the loss are small matrix-expression classes that print as calls
(``relu(W1*x + b1)``, ``relu_prime(z1)``, ``hadamard(a, b)``, ``diag(v)``,
``J_softmax(z2)``, ``half_squared(yhat, y)``) and evaluate on explicit matrices, so that
:func:`namespace` reads the string back to the same expression and the checker compares a
student's answer with it entry by entry at concrete sizes.
"""

from __future__ import annotations

import contextlib

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixExpr

from ..errors import BadInput
from ..library.activations import ACTIVATIONS
from ..library.losses import LOSSES, vector_loss
from ..parse import ELEMENTARY, Namespace


_BOUND: dict = {}


@contextlib.contextmanager
def bound(values: dict):
    """Evaluate with these values of the activations' and loss's parameters (a = 3/10 …)."""
    saved = dict(_BOUND)
    _BOUND.update({str(k): v for k, v in values.items()})
    try:
        yield
    finally:
        _BOUND.clear()
        _BOUND.update(saved)


def constants(entry) -> dict:
    """An activation's or loss's parameters as symbols (a, β …), as a symbolic key names them,
    or their values while :func:`bound`."""
    from ..assume import parse_assumption

    return {p: _BOUND[p] if p in _BOUND else parse_assumption(p, text).symbol()
            for p, text in entry.params.items()}


def evaluation_constants(entry) -> dict:
    """The parameters' values for evaluating on explicit matrices: the bound ones, else one
    fixed point of each parameter's domain (a = a point of (0, 1)); both sides of a comparison
    are evaluated with the same point, and the branch of max(z, a z) in force is decidable."""
    import random

    from ..assume import parse_assumption

    return {p: _BOUND[p] if p in _BOUND else parse_assumption(p, text).sample(random.Random(p))
            for p, text in entry.params.items()}


def _explicit(m):
    m = m.doit()
    if isinstance(m, MatrixExpr):
        if m.atoms(sp.MatrixSymbol) or not all(getattr(d, "is_Integer", False) or isinstance(d, int)
                                               for d in m.shape):
            return None
        m = m.as_explicit()
    return sp.Matrix(m) if isinstance(m, sp.MatrixBase) else None


class _Call(MatrixExpr):
    """name(args): a function of matrices, printed as a call."""

    prefix = ""
    suffix = ""

    def __new__(cls, name, *args):
        name = name if isinstance(name, Str) else Str(name)
        return MatrixExpr.__new__(cls, name, *[sp.sympify(a, strict=True) for a in args])

    @property
    def fname(self) -> str:
        return self.args[0].name

    @property
    def operands(self):
        return self.args[1:]

    @property
    def shape(self):
        return self.operands[0].shape

    def _sympystr(self, printer):
        inner = ", ".join(printer._print(a) for a in self.operands)
        return f"{self.prefix}{self.fname}{self.suffix}({inner})"

    def _latex(self, printer, exp=None):
        inner = ", ".join(printer._print(a) for a in self.operands)
        name = self.fname.replace("_", r"\_")
        head = {"": rf"\operatorname{{{name}}}", "_prime": rf"\operatorname{{{name}}}'",
                "J_": rf"J_{{\operatorname{{{name}}}}}"}[self.prefix or self.suffix]
        return rf"{head}\left({inner}\right)"

    def _evaluate(self, values):
        raise NotImplementedError

    def doit(self, **hints):
        args = [a.doit(**hints) if hasattr(a, "doit") else a for a in self.operands]
        values = [_explicit(a) if isinstance(a, (MatrixExpr, sp.MatrixBase)) else None for a in args]
        if all(v is not None for v in values):
            return sp.ImmutableMatrix(self._evaluate(values))
        return self.func(self.args[0], *args)

    def _entry(self, i, j, **kwargs):
        values = [_explicit(a) for a in self.operands]
        if any(v is None for v in values):
            raise NotImplementedError(f"{self.fname} of a symbolic matrix has no entries")
        return self._evaluate(values)[i, j]


class Activation(_Call):
    """An activation applied to a vector (entrywise, or softmax as a whole)."""

    def _evaluate(self, values):
        (z,) = values
        entry = ACTIVATIONS[self.fname]
        consts = evaluation_constants(entry)
        if entry.vector:
            return entry.build(list(z), consts)
        return z.applyfunc(lambda t: entry.build(t, consts))


class ActivationPrime(_Call):
    """f′(z), entrywise: the derivative of an elementwise activation, the left one at a kink."""

    suffix = "_prime"

    def _evaluate(self, values):
        from .network import _local_jacobian

        (z,) = values
        entry = ACTIVATIONS[self.fname]
        J = _local_jacobian(entry, evaluation_constants(entry), z)
        return sp.Matrix([J[i, i] for i in range(z.rows)])


class Jacobian(_Call):
    """J_f(z): the Jacobian of a vector activation (softmax)."""

    prefix = "J_"

    @property
    def shape(self):
        n = self.operands[0].shape[0]
        return (n, n)

    def _evaluate(self, values):
        from .network import _local_jacobian

        entry = ACTIVATIONS[self.fname]
        return _local_jacobian(entry, evaluation_constants(entry), values[0])


class Hadamard(_Call):
    """a ⊙ b."""

    def __new__(cls, *args):
        if args and isinstance(args[0], (str, Str)):
            args = args[1:]
        return _Call.__new__(cls, "hadamard", *args)

    def _latex(self, printer, exp=None):
        parts = []
        for a in self.operands:
            text = printer._print(a)
            parts.append(r"\left(" + text + r"\right)" if isinstance(a, (sp.MatAdd, sp.MatMul)) else text)
        return r"\left(" + r" \odot ".join(parts) + r"\right)"

    def _evaluate(self, values):
        a, b = values
        if a.shape != b.shape:
            raise sp.ShapeError(f"entrywise product of {a.shape} and {b.shape}")
        return a.multiply_elementwise(b)


class Diag(_Call):
    """diag(v): the diagonal matrix of a vector."""

    def __new__(cls, *args):
        if args and isinstance(args[0], (str, Str)):
            args = args[1:]
        return _Call.__new__(cls, "diag", *args)

    @property
    def shape(self):
        n = self.operands[0].shape[0]
        return (n, n)

    def _evaluate(self, values):
        return sp.diag(*values[0])


class Loss(_Call):
    """The loss of a prediction and a target (a 1 × 1 matrix)."""

    @property
    def shape(self):
        return (1, 1)

    def _evaluate(self, values):
        A, Y = values
        if A.shape != Y.shape:
            raise sp.ShapeError(f"prediction {A.shape} and target {Y.shape}")
        return sp.Matrix([[vector_loss(self.fname, A, Y, evaluation_constants(LOSSES[self.fname]))]])


def dimension(width) -> sp.Basic:
    return sp.Integer(width) if isinstance(width, int) else sp.Symbol(str(width), integer=True, positive=True)


def plain_names(depth: int, stacked: bool = False) -> list[tuple[str, int, int]]:
    """(plain name, rows' layer, cols) of every named vector or matrix of a depth-L network:
    the layer index whose width gives the rows, and the columns (a layer index, or -1 for 1).
    ``stacked``: the output activation follows the hidden one, h_L = f(z_L) is named too."""
    out = [("x", 0, -1), ("y", depth, -1), ("yhat", depth, -1)]
    for k in range(1, depth + 1):
        out += [(f"W{k}", k, k - 1), (f"b{k}", k, -1), (f"z{k}", k, -1)]
        if k < depth or stacked:
            out.append((f"h{k}", k, -1))
    out += [(f"dL_d{name}", rows, cols) for name, rows, cols in list(out) if name != "y"]
    return out


def symbols(layers, stacked: bool = False) -> dict[str, MatrixExpr]:
    depth = len(layers) - 1
    out = {}
    for name, rows, cols in plain_names(depth, stacked):
        out[name] = sp.MatrixSymbol(name, dimension(layers[rows]),
                                    1 if cols < 0 else dimension(layers[cols]))
    out["I"] = sp.Identity(dimension(layers[-1]))
    return out


def namespace(layers, stacked: bool = False) -> Namespace:
    """How the checker reads a published formula (or a student's answer) back."""
    from .matrix import _add, _matmul, _power

    syms = symbols(layers, stacked)

    def is_matrix(a):
        return isinstance(a, MatrixExpr)

    def activation(name):
        entry = ACTIVATIONS[name]

        def call(*args):
            if len(args) != 1:
                raise BadInput(f"{name}() takes one argument")
            (a,) = args
            if is_matrix(a):
                if a.shape[1] != 1:
                    raise BadInput(f"{name}() takes a vector")
                return Activation(name, a)
            if entry.vector:
                raise BadInput(f"{name}() takes a vector")
            return entry.build(a, constants(entry))
        return call

    def prime(name):
        def call(a):
            if not is_matrix(a):
                t = sp.Dummy("t", real=True)
                entry = ACTIVATIONS[name]
                return sp.diff(entry.build(t, constants(entry)), t).subs(t, a)
            return ActivationPrime(name, a)
        return call

    def loss(name):
        def call(a, b):
            if not (is_matrix(a) and is_matrix(b)) or a.shape != b.shape:
                raise BadInput(f"{name}() takes the prediction and the target, two vectors of one shape")
            return Loss(name, a, b)
        return call

    def hadamard(a, b):
        if not (is_matrix(a) and is_matrix(b)) or a.shape != b.shape:
            raise BadInput("hadamard() takes two matrices of one shape")
        return Hadamard(a, b)

    def diag(v):
        if not is_matrix(v) or v.shape[1] != 1:
            raise BadInput("diag() takes a vector")
        return Diag(v)

    functions = dict(ELEMENTARY)
    for name, entry in ACTIVATIONS.items():
        functions[name] = activation(name)
        if entry.vector:
            functions["J_" + name] = lambda a, name=name: Jacobian(name, a)
        else:
            functions[name + "_prime"] = prime(name)
    for name, entry in LOSSES.items():
        functions[name] = loss(name)
    def identity(n):
        # the JSON key writes the identity matrix Identity(K); the only identity a network's
        # formulas hold is the output layer's (∂ŷ/∂z of an identity output), so a width by
        # name is the output width (read at the concrete widths of a check network)
        if isinstance(n, sp.Integer) and n > 0:
            return sp.Identity(n)
        if isinstance(n, sp.Symbol):
            return syms["I"]
        raise BadInput("Identity() takes a width")

    functions.update({"hadamard": hadamard, "diag": diag, "Identity": identity})
    return Namespace(symbols=syms, functions=functions,
                     make_symbol=lambda name: sp.Symbol(name, real=True),
                     transpose=lambda m: m.T if is_matrix(m) else m,
                     matmul=_matmul, add=_add, power=_power)


class LossGradient(_Call):
    """∂ℓ/∂ŷ of a named loss, entry by entry (a vector of the prediction's shape)."""

    suffix = "_gradient"

    def _latex(self, printer, exp=None):
        inner = ", ".join(printer._print(a) for a in self.operands)
        name = self.fname.replace("_", r"\_")
        return rf"\nabla \operatorname{{{name}}}\left({inner}\right)"

    def _evaluate(self, values):
        A, Y = values
        if A.shape != Y.shape:
            raise sp.ShapeError(f"prediction {A.shape} and target {Y.shape}")
        u = sp.symbols(f"u0:{A.rows}", real=True)
        loss = vector_loss(self.fname, sp.Matrix(u), Y, evaluation_constants(LOSSES[self.fname]))
        at = dict(zip(u, A))
        return sp.Matrix([sp.diff(loss, t).xreplace(at) for t in u])


def definitions(layers, hidden: str, output: str, loss: str,
                stacked: bool = False) -> dict[str, MatrixExpr]:
    """Every plain name of a symbolic network (:func:`plain_names`) but the sample and the
    parameters, as a matrix expression in ``x``, ``y``, ``W1``, ``b1`` … alone: z₁ = W₁x + b₁,
    h₁ = f(z₁), …, ŷ = g(z_L), ∂ℓ/∂ŷ = the loss's gradient, then back through the layers
    (∂ℓ/∂z_L, ∂ℓ/∂h_k = W_{k+1}ᵀ ∂ℓ/∂z_{k+1}, ∂ℓ/∂z_k = ∂ℓ/∂h_k ⊙ f′(z_k), ∂ℓ/∂W_k =
    ∂ℓ/∂z_k h_{k−1}ᵀ, ∂ℓ/∂b_k = ∂ℓ/∂z_k, ∂ℓ/∂x = W₁ᵀ ∂ℓ/∂z₁). The checker puts these in for
    the names on both sides before comparing, so that ``yhat - y`` is ∂ℓ/∂ŷ of the squared loss
    and ``W2*h1 + b2`` is z₂ whatever names the key's own formula uses."""
    syms = symbols(layers, stacked)
    depth = len(layers) - 1
    out: dict[str, MatrixExpr] = {}

    def through(name: str, d_out, at):
        """The gradient before an activation, given the gradient after it."""
        entry = ACTIVATIONS[name]
        if name == "identity":
            return d_out
        if entry.vector:
            return Jacobian(name, at).T * d_out
        return Hadamard(d_out, ActivationPrime(name, at))

    def act(name: str, at):
        return at if name == "identity" else Activation(name, at)

    h = syms["x"]
    for k in range(1, depth + 1):
        z = syms[f"W{k}"] * h + syms[f"b{k}"]
        out[f"z{k}"] = z
        if k < depth or stacked:
            h = act(hidden, z)
            out[f"h{k}"] = h
    top = h if stacked else out[f"z{depth}"]
    yhat = act(output, top)
    out["yhat"] = yhat
    d = LossGradient(loss, yhat, syms["y"])
    out["dL_dyhat"] = d
    d = through(output, d, top)
    if stacked:
        out[f"dL_dh{depth}"] = d
        d = through(hidden, d, out[f"z{depth}"])
    for k in range(depth, 0, -1):
        out[f"dL_dz{k}"] = d
        before = syms["x"] if k == 1 else out[f"h{k - 1}"]
        out[f"dL_dW{k}"] = d * before.T
        out[f"dL_db{k}"] = d
        up = syms[f"W{k}"].T * d
        if k == 1:
            out["dL_dx"] = up
        else:
            out[f"dL_dh{k - 1}"] = up
            d = through(hidden, up, out[f"z{k - 1}"])
    return out
