"""A symbolic network's answers: the names a key publishes and how a matrix expression is read.

A student answers a symbolic ``mlp`` key (DS-GA 1008 HW1, CS189 2(d)-(f)) in the statement's
notation and in the ways a teacher reads without comment. This module gives the checker's
reader for such a key:

* **the statement's names** for the network's quantities, mapped to the key's plain names
  (:func:`statement_names`): with ``index = "step"`` (DS-GA) z₁ = W⁽¹⁾x + b⁽¹⁾, z₂ = f(z₁),
  z₃ = W⁽²⁾z₂ + b⁽²⁾, ŷ = g(z₃), so the student's z₂ is the key's h1 and z₃ its z2; with
  ``index = "input"`` (CS189) a₁ = x, a₂ = h1, and a_{L+1} = ŷ; ∂ℓ/∂z₃ follows its name;
* **every name's definition** (:func:`expansions`, from :func:`..derive.netexpr.definitions`):
  before comparing, both the key's answer and the student's have each name replaced by its
  definition in x, y and the parameters, so ``\\hat y - y`` is ∂ℓ/∂ŷ of the squared loss and
  ``W^{(2)} z_2 + b^{(2)}`` is the output pre-activation, whatever names either side uses;
* **functions entry by entry** (:func:`namespace`): the statement's activations f and g
  (``f(z_1)``, ``f_prime(z_1)``), ``relu``, ``sigmoid``, ``exp``, ``log``, ``max(0, v)``,
  ``Heaviside(v)`` (the ReLU derivative, 0 at 0 as the key's), ``hadamard(a, b)``,
  ``diag(v)``, ``norm(v)`` (``norm(v)**2`` = vᵀv), ``I`` / ``I_K``; a product or a quotient of
  two vectors of one shape (``yhat*(1 - yhat)``, ``(yhat - y)/(yhat*(1 - yhat))``) is read
  entry by entry, as a grader reads it (an outer product needs a transpose, so the two readings
  never compete); a vector to a power is entrywise, except the square of a vector where the
  key's answer is the loss (a number): ``½(ŷ − y)²`` is ½‖ŷ − y‖².
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from ..errors import BadInput
from ..parse import Namespace

# the key's answer is a number (the loss): the square of a vector is its squared length
_SQUARE_IS_LENGTH: contextvars.ContextVar[bool] = contextvars.ContextVar("square_is_length",
                                                                         default=False)


@contextlib.contextmanager
def squares_are_lengths(on: bool):
    token = _SQUARE_IS_LENGTH.set(on)
    try:
        yield
    finally:
        _SQUARE_IS_LENGTH.reset(token)


def _is_matrix(e) -> bool:
    return isinstance(e, MatrixExpr)


def _is_vector(e) -> bool:
    return _is_matrix(e) and e.shape[1] == 1 and e.shape[0] != 1


def _same_shape(a, b) -> bool:
    return all(sp.simplify(p - q) == 0 for p, q in zip(a.shape, b.shape))


def _plain(name: str) -> str:
    return re.sub(r"[\\{}\s]|mathbf|boldsymbol|vec|bm", "", name or "")


def statement_names(spec) -> dict[str, str]:
    """The statement's names → the key's plain names (only where they differ)."""
    notation = spec.notation
    pre = _plain(notation.pre) or "z"
    post = _plain(notation.post) or "h"
    depth = len(spec.layers) - 1
    stacked = bool(getattr(spec, "output_of_hidden", False))
    out: dict[str, str] = {}
    if notation.index == "step" and pre.isalpha():
        j = 1
        for k in range(1, depth + 1):
            out[f"{pre}{j}"] = f"z{k}"
            j += 1
            if k < depth or stacked:
                out[f"{pre}{j}"] = f"h{k}"
                j += 1
    elif notation.index == "input" and post.isalpha():
        out[f"{post}1"] = "x"
        for k in range(1, depth + 1):
            if k < depth or stacked:
                out[f"{post}{k + 1}"] = f"h{k}"
        if not stacked:
            out[f"{post}{depth + 1}"] = "yhat"
        if pre != "z" and pre.isalpha():
            out.update({f"{pre}{k}": f"z{k}" for k in range(1, depth + 1)})
    else:
        if post != "h" and post.isalpha():
            out.update({f"{post}{k}": f"h{k}" for k in range(1, depth + (1 if stacked else 0))})
        if pre != "z" and pre.isalpha():
            out.update({f"{pre}{k}": f"z{k}" for k in range(1, depth + 1)})
    out = {a: b for a, b in out.items() if a != b}
    out.update({f"dL_d{a}": f"dL_d{b}" for a, b in list(out.items())})  # ∂ℓ/∂z₃, ∂ℓ/∂a₂
    return out


def activation_jacobians(spec, symbols: dict, renames: dict[str, str]) -> dict[str, object]:
    """∂σ(z₂)/∂z₂ written as a factor: ``dsigma_dz2``, ``df_dz1``, ``drelu_dz1`` for the
    Jacobian of the activation the name stands for (f the hidden one, g the output one, σ the
    hidden one when the notation says so, or the function's own name), at each pre-activation
    (in the statement's names): diag(f′(z)), the identity, or J_softmax(z)."""
    from ..derive.netexpr import ActivationPrime, Diag, Jacobian
    from ..library.activations import ACTIVATIONS

    notation = spec.notation
    acts = {spec.hidden: {spec.hidden}, spec.output: {spec.output}}
    names: dict[str, str] = {}
    for act in (spec.hidden, spec.output):
        names[act] = act
    if not notation.hidden_fn.strip():
        names["f"] = spec.hidden
    if not notation.output_fn.strip():
        names["g"] = spec.output
    generic = notation.hidden_fn.strip() == r"\sigma"
    names["sigma"] = "sigmoid"
    del acts
    back: dict[str, list[str]] = {}
    for said, plain in renames.items():
        back.setdefault(plain, []).append(said)
    out: dict[str, object] = {}
    depth = len(spec.layers) - 1
    for k in range(1, depth + 1):
        z = symbols.get(f"z{k}")
        if z is None:
            continue
        spellings = back.get(f"z{k}", []) + ([f"z{k}"] if f"z{k}" not in renames else [])
        # σ where the statement writes σ for "the activation" (CS189): the one that follows
        # z_k, the hidden one inside and the output one at the last layer
        applied = spec.output if k == depth and not getattr(spec, "output_of_hidden", False) \
            else spec.hidden
        for fname, act in names.items():
            if fname == "sigma" and generic:
                act = applied
            entry = ACTIVATIONS.get(act)
            if entry is None:
                continue
            if act == "identity":
                value = sp.Identity(z.shape[0])
            elif entry.vector:
                value = Jacobian(act, z)
            else:
                value = Diag(ActivationPrime(act, z))
            for spelled in spellings:
                out.setdefault(f"d{fname}_d{spelled}", value)
    return out


def jacobian_names(answers: dict, renames: dict[str, str]) -> dict[str, object]:
    """The key's elementwise Jacobians by name, for ∂ŷ/∂z₃ and ∂z₂/∂z₁ written as factors:
    ``elementwise.dh1/dz1`` is ``dh1_dz1`` and, in the statement's names, ``dz2_dz1`` (DS-GA) or
    ``da2_dz1`` (CS189). A plain name that means something else in the statement is left out."""
    back: dict[str, list[str]] = {}
    for said, plain in renames.items():
        back.setdefault(plain, []).append(said)
    out: dict[str, object] = {}
    for label, value in answers.items():
        m = re.fullmatch(r"elementwise\.d(\w+)/d(\w+)", label)
        if not m or not isinstance(value, MatrixExpr):
            continue
        top, bottom = m.groups()
        for t in back.get(top, []) + ([top] if top not in renames else []):
            for b in back.get(bottom, []) + ([bottom] if bottom not in renames else []):
                out.setdefault(f"d{t}_d{b}", value)
    return out


def expansions(spec, symbols: dict) -> dict:
    """{the key's MatrixSymbol: its definition in x, y, W1, b1 …}, each fully expanded."""
    from ..derive.netexpr import definitions

    defs = definitions(spec.layers, spec.hidden, spec.output, spec.loss,
                       bool(getattr(spec, "output_of_hidden", False)))
    out: dict = {}
    for name, value in defs.items():
        if name in symbols:
            out[symbols[name]] = value
    return out


def expand(ctx, expr):
    """``expr`` with every network name replaced by its definition."""
    table = getattr(ctx, "expansions", None)
    if not table or not isinstance(expr, sp.Basic):
        return expr
    for _ in range(4):
        new = expr.xreplace(table)
        if new == expr:
            break
        expr = new
    return expr


def namespace(spec, base: Namespace) -> Namespace:
    """The reader's namespace for a symbolic network: the published one (:mod:`..derive.netexpr`)
    with functions entry by entry, the statement's f and g, and vector products read as a
    grader reads them."""
    from ..derive.matrix import Elementwise, _add, _divide, _matmul, _power
    from ..derive.netexpr import Activation, ActivationPrime, Diag, Hadamard

    fns = dict(base.functions)
    hidden, output = spec.hidden, spec.output
    said = _said_names(spec)

    def hadamard(a, b):
        if _is_matrix(a) and _is_matrix(b) and a.shape != (1, 1) and b.shape != (1, 1):
            if not _same_shape(a, b):
                raise BadInput(f"shape mismatch in the entrywise product of {sp.sstr(a)} and "
                               f"{sp.sstr(b)}: {_shape(a)} and {_shape(b)}")
            return Hadamard(a, b)
        return matmul(a, b)

    def matmul(a, b):
        if _is_vector(a) and _is_vector(b) and _same_shape(a, b):
            # (ŷ − y)(1 − ŷ), σ(z)(1 − σ(z)): two vectors of one shape side by side are
            # multiplied entry by entry (their outer product would need a transpose)
            return Hadamard(a, b)
        if _is_vector(a) and _is_matrix(b) and b.shape[0] == a.shape[0] \
                and b.shape[1] == a.shape[0]:
            # ∂ℓ/∂ŷ · ∂ŷ/∂z₃, the chain rule written in the order it is said: a gradient (a
            # column) times a diagonal Jacobian is the gradient scaled entry by entry
            if isinstance(b, sp.Identity):
                return a
            if isinstance(b, Diag):
                return Hadamard(a, b.operands[0])
        try:
            return _matmul(a, b)
        except BadInput:
            raise BadInput(_mismatch(a, b, said)) from None

    def divide(a, b):
        if _is_matrix(b) and b.shape == (1, 1):
            b = sp.Trace(b)
        return _divide(a, b)

    def power(b, e):
        if _is_matrix(e) and e.shape != (1, 1) and not _is_matrix(b):
            if b == sp.E:  # e^{-(W x + b)}: exp entry by entry
                return Elementwise("exp", e)
            raise BadInput(f"{sp.sstr(b)} to the power of a vector: write exp(v) entry by entry")
        if _is_vector(b):
            if e == 2 and _SQUARE_IS_LENGTH.get():
                vt = sp.Transpose(b) if isinstance(b, sp.MatAdd) else b.T
                return sp.MatMul(vt, b)
            if isinstance(e, sp.Expr) and e.is_number:
                return sp.HadamardPower(b, e)
        return _power(b, e)

    def entrywise(name, scalar):
        def call(*args):
            if len(args) == 1 and _is_matrix(args[0]) and args[0].shape != (1, 1):
                return Elementwise(name, args[0])
            return scalar(*[sp.Trace(a) if _is_matrix(a) else a for a in args])
        return call

    for name in ("exp", "log", "ln", "sqrt", "sin", "cos"):
        if name in fns:
            fns[name] = entrywise("log" if name == "ln" else name, fns[name])

    def heaviside(*args):
        (v,) = args[:1]
        if _is_matrix(v) and v.shape != (1, 1):
            return ActivationPrime("relu", v)   # 1[v > 0] entry by entry, 0 at 0
        return sp.Heaviside(v, 0)

    relu = fns.get("relu")

    def max_of(*args):
        if len(args) == 2 and 0 in args and any(_is_matrix(a) for a in args) and relu:
            return relu(args[1] if args[0] == 0 else args[0])
        return sp.Max(*[sp.Trace(a) if _is_matrix(a) else a for a in args])

    def diag(v):
        if _is_matrix(v) and v.shape[1] == 1:
            return Diag(v)
        raise BadInput("diag() takes a vector")

    def norm(v):
        if not _is_matrix(v):
            return sp.Abs(v)
        vt = sp.Transpose(v) if isinstance(v, sp.MatAdd) else v.T
        return sp.sqrt(sp.Trace(sp.MatMul(vt, v)))

    fns.update({"hadamard": hadamard, "Heaviside": heaviside, "heaviside": heaviside,
                "step": heaviside, "max": max_of, "Max": max_of, "diag": diag, "norm": norm})
    # the statement's activations: f (hidden) and g (output), unless it names them otherwise
    notation = spec.notation
    for letter, act, given in (("f", hidden, notation.hidden_fn), ("g", output, notation.output_fn)):
        if given.strip() or act not in fns or letter in {_plain(notation.pre), _plain(notation.post)}:
            continue  # named otherwise, or the letter of a layer's vectors (UDL's f_k = Ω_k h + β_k)
        fns[letter] = fns[act]
        prime = fns.get(f"{act}_prime")
        if prime is not None:
            fns[f"{letter}_prime"] = prime
        elif act == "identity":
            fns[f"{letter}_prime"] = lambda a: (sp.OneMatrix(*a.shape) if _is_matrix(a) else 1)
    if "sigmoid" in fns:  # σ(v): the logistic sigmoid, entry by entry
        fns["sigma"] = fns["sigmoid"]
        if "sigmoid_prime" in fns:
            fns["sigma_prime"] = fns["sigmoid_prime"]
    if notation.hidden_fn.strip() == r"\sigma" and hidden in fns:
        fns["sigma"] = fns[hidden]
        if f"{hidden}_prime" in fns:
            fns["sigma_prime"] = fns[f"{hidden}_prime"]
    return dataclasses.replace(base, functions=fns, matmul=matmul, hadamard=hadamard,
                               divide=divide, power=power)


def _shape(m) -> str:
    return f"{sp.sstr(m.shape[0])}×{sp.sstr(m.shape[1])}"


def _said_names(spec) -> dict[str, str]:
    """The key's plain names → how the statement writes them (h1 → z₂ with the DS-GA
    numbering), for feedback."""
    from .names import pretty

    back = {plain: said for said, plain in statement_names(spec).items()
            if not said.startswith("dL_d")}
    out = {plain: pretty(said) for plain, said in back.items()}
    out["__loss__"] = _loss_name(spec)
    # W⁽²⁾ where the statement numbers the layers by a superscript (the default W^{(i)})
    pattern = spec.notation.weights or "W^{(i)}"
    if re.search(r"\^\s*\{?\s*\(\s*i\s*\)", pattern):
        sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
        for k in range(1, len(spec.layers)):
            for letter in ("W", "b"):
                out[f"{letter}{k}"] = f"{letter}⁽{str(k).translate(sup)}⁾"
    return out


def _named(e, said: dict[str, str]) -> str | None:
    from .names import pretty

    if isinstance(e, sp.MatrixSymbol):
        if e.name.startswith("dL_d"):
            return f"∂{said.get('__loss__', 'ℓ')}/∂" + said.get(e.name[4:], pretty(e.name[4:]))
        return said.get(e.name, pretty(e.name))
    if isinstance(e, sp.Transpose) and isinstance(e.arg, sp.MatrixSymbol):
        inner = _named(e.arg, said)
        return inner + "ᵀ" if inner else None
    return None


def _mismatch(a, b, said: dict[str, str]) -> str:
    """A product whose shapes do not fit, in words, with the likely slip: a missing transpose
    (W⁽²⁾ for W⁽²⁾ᵀ in front of a gradient, x for xᵀ after one)."""
    def what(e):
        name = _named(e, said)
        kind = "a vector" if 1 in e.shape else "a matrix"
        return f"{name} ({_shape(e)})" if name else f"{kind} of shape {_shape(e)}"

    text = f"shape mismatch: {what(a)} times {what(b)} cannot be multiplied"
    name_b = _named(b, said)
    name_a = _named(a, said)
    if _is_vector(a) and _is_matrix(b) and b.shape[0] == a.shape[0] and name_b:
        if name_b.endswith("ᵀ"):
            return text + f"; did you mean {name_b[:-1]} (no transpose)?"
        return text + f"; did you mean {name_b}ᵀ, in front: {name_b}ᵀ times the gradient?"
    if isinstance(a, sp.MatrixSymbol) and 1 not in a.shape and _is_matrix(b) \
            and a.shape[0] == b.shape[0] and name_a:
        return text + f"; did you mean {name_a}ᵀ?"
    if _is_vector(a) and _is_vector(b):
        outer = f"an outer product, shape {sp.sstr(a.shape[0])}×{sp.sstr(b.shape[0])}"
        if name_b:
            return text + f"; did you mean {name_b}ᵀ ({outer})?"
        return text + f"; did you mean the second factor transposed ({outer})?"
    return text


def entry_of(ctx, value, index: str = "j"):
    """A vector answer read entry by entry, for a key written for one entry (∂ℓ/∂ŷ_j in yhat_j
    and y_j): each vector name v becomes the key's v_j; None when that cannot be done (a matrix
    product mixes entries, or the key has no v_j)."""
    from ..derive.matrix import SCALAR, Elementwise
    from ..derive.netexpr import Activation, ActivationPrime, Hadamard, constants
    from ..library.activations import ACTIVATIONS

    symbols = getattr(ctx, "symbols", {}) or {}

    class _No(Exception):
        pass

    def walk(e):
        if not _is_matrix(e):
            if isinstance(e, sp.Basic) and e.args:
                return e.func(*[walk(a) for a in e.args])
            return e
        if isinstance(e, sp.MatrixSymbol):
            s = symbols.get(f"{e.name}_{index}")
            if s is None or not _is_vector(e):
                raise _No
            return s
        if isinstance(e, sp.OneMatrix):
            return sp.Integer(1)
        if isinstance(e, sp.MatAdd):
            return sp.Add(*[walk(a) for a in e.args])
        if isinstance(e, sp.MatMul):
            parts = [walk(a) if _is_matrix(a) else a for a in e.args]
            if sum(1 for a in e.args if _is_matrix(a)) > 1:
                raise _No
            return sp.Mul(*parts)
        if isinstance(e, (sp.HadamardProduct, Hadamard)):
            ops = e.operands if isinstance(e, Hadamard) else e.args
            return sp.Mul(*[walk(a) for a in ops])
        if isinstance(e, sp.HadamardPower):
            return walk(e.args[0]) ** e.args[1]
        if isinstance(e, Elementwise):
            return SCALAR[e.name][0](walk(e.arg))
        if isinstance(e, Activation) and not ACTIVATIONS[e.fname].vector:
            entry = ACTIVATIONS[e.fname]
            return entry.build(walk(e.operands[0]), constants(entry))
        if isinstance(e, ActivationPrime):
            entry = ACTIVATIONS[e.fname]
            t = sp.Dummy("t", real=True)
            return sp.diff(entry.build(t, constants(entry)), t).subs(t, walk(e.operands[0]))
        raise _No

    try:
        return walk(value)
    except (_No, KeyError, TypeError, ValueError):
        return None


def gradient_shape_note(ctx, label: str) -> str:
    """``: ∂ℓ/∂W⁽²⁾ has the shape of W⁽²⁾`` for a parameter's gradient in a symbolic network
    (the rule a wrong shape breaks), in the statement's names; "" otherwise."""
    problem = getattr(ctx, "problem", None)
    m = re.fullmatch(r"grad\.(\w+)", label)
    if m is None or not getattr(ctx, "expansions", None) or getattr(problem, "kind", "") != "mlp":
        return ""
    said = _said_names(problem.spec)
    from .names import pretty

    name = said.get(m.group(1), pretty(m.group(1)))
    return f": ∂{_loss_name(problem.spec)}/∂{name} has the shape of {name}"


def _loss_name(spec) -> str:
    """The statement's loss for feedback: ℓ, L, MSE."""
    text = re.sub(r"\\(mathrm|operatorname|text|mathcal)\s*\{([^{}]*)\}", r"\2",
                  spec.notation.loss or r"\ell")
    text = text.replace(r"\ell", "ℓ")
    return re.sub(r"[\\{}\s]", "", text) or "ℓ"


def names_itself(ctx, label: str, text: str, value) -> bool:
    """Is the answer only the labelled quantity's own name (``dL_dz1`` or
    ``\\frac{\\partial \\ell}{\\partial z_1}`` for ∂ℓ/∂z₁, ``z_1`` for z₁, ``dz2_dz1`` for
    ∂z₂/∂z₁)? With every name put in for its definition it would equal the key's answer."""
    if not getattr(ctx, "expansions", None):
        return False
    from .names import recognise

    body = text.strip().strip("$").strip()
    if not (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", body) or recognise(body) is not None):
        return False
    own = set()
    m = re.fullmatch(r"forward\.(\w+)", label)
    if m:
        own.add(m.group(1))
    m = re.fullmatch(r"(?:backward\.dL/d|grad\.)(\w+)", label)
    if m:
        own.add(f"dL_d{m.group(1)}")
    if isinstance(value, sp.MatrixSymbol) and value.name in own:
        return True
    if re.fullmatch(r"elementwise\.d\w+/d\w+", label):
        # dz2_dz1, \frac{\partial z_2}{\partial z_1}: the Jacobian's name, not J_softmax(z2)
        said = recognise(body)
        named = re.fullmatch(r"d[A-Za-z]\w*_d[A-Za-z]\w*", body) or (said is not None
                                                                   and said[0] == "d")
        return bool(named) and value == ctx.answers.get(label)
    return False
