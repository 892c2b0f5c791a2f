"""Matrix-expression answers at a concrete size: numeric instances of a symbolic network.

A symbolic ``mlp`` key answers with matrix expressions over the network's names
(``W2*relu(W1*x + b1) + b2``, ``dL_dyhat*h1.T``, ``hadamard(W2.T*dL_dyhat, relu_prime(z1))*x.T``).
Moodle, Canvas and PrairieLearn have no input for a matrix expression, so they get the
question at a concrete size: the widths are numbers (n = 2, d = 3, K = 2), the weights,
biases, input and target are small numbers drawn from a seed (the problem, its variant and
the instance's number, so every run draws the same), and each answer is the key's own formula
evaluated there, a matrix of numbers.

Every instance is verified before it is exported: the key's formula, evaluated with the
intermediate quantities of the concrete network (z, h, ŷ, ∂ℓ/∂ŷ), must equal the quantity it
names computed independently by :func:`symderiv.derive.network._world` (the derivative of the
composed loss, entry by entry). A draw at a kink of a piecewise activation (a pre-activation
at 0 for ReLU) is drawn again, so that no answer depends on the convention at the kink; a draw
whose answers are all zero matrices (dead units) too, while another can be found.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from .maxima import Unsupported

# a problem with matrix-expression answers and one variant gets this many instances (a
# Moodle category's questions, a Canvas group's items, PrairieLearn's variants to draw from);
# with several variants (--n, --roster, --lock) each variant gets one
INSTANCES = 3
DRAWS = 60  # draws tried for an instance away from kinks and with a nonzero answer


@dataclass(frozen=True)
class Instance:
    """One concrete network: its sizes, the values given to the student (plain name, LaTeX
    name, value), every plain name's value (givens and intermediate quantities), the
    activation's and loss's constants, and per label the key's formula and its value."""

    sizes: tuple[tuple[str, int], ...]           # (LaTeX name of a width, value)
    given: tuple[tuple[str, str, sp.Matrix], ...]  # (plain name, LaTeX name, value)
    scalars: tuple[tuple[str, str, sp.Expr], ...]  # constants (a = 3/10): (name, LaTeX, value)
    env: dict                                    # plain name -> explicit matrix
    formulas: dict                               # label -> the key's matrix expression
    values: dict                                 # label -> explicit matrix (verified)


@dataclass(frozen=True)
class InstanceBody:
    """The body of a solution at a concrete size: the instance, and the key's own body."""

    instance: Instance
    body: object
    number: int  # 1, 2, …: the instance's number within its variant


def matrix_answers(solution) -> list:
    """The counted answers of a solved part (issue 15's rule) whose values are matrix
    expressions: those a platform asks."""
    from ..check.points import label_points

    counted = label_points(solution.problem, [a.label for a in solution.answers])
    return [a for a in solution.answers if isinstance(a.value, MatrixExpr) and a.label in counted]


def concrete(problem_variants, count: int | None = None):
    """``problem_variants`` (a :class:`ProblemVariants`) with every matrix-expression answer
    at a concrete size: each variant becomes ``count`` instances (default: ``INSTANCES`` for
    a problem with one variant, else one), each a solved part whose answers are explicit
    matrices and whose statement gives the sizes and the numbers. A problem without matrix
    expressions is returned as it is. Raises :class:`Unsupported` when no instance can be
    built (a kind of problem this module does not know, a formula that cannot be evaluated
    or verified)."""
    pv = problem_variants
    if not any(matrix_answers(s) for _, s in pv.variants):
        return pv
    if count is None:
        count = INSTANCES if len(pv.variants) == 1 else 1
    out = []
    for name, solution in pv.variants:
        for k in range(1, count + 1):
            try:
                inst = build(solution, f"{name}/{k}")
            except Unsupported:
                raise
            except (TypeError, ValueError, ArithmeticError, NotImplementedError, KeyError,
                    sp.ShapeError) as exc:   # never a crash: the problem is left out, named
                raise Unsupported(f"it cannot be evaluated at a concrete size "
                                  f"({type(exc).__name__})") from None
            label = name if count == 1 else (f"{name}.{k}" if len(pv.variants) > 1 else str(k))
            out.append((label, with_instance(solution, inst, k)))
    return replace(pv, variants=tuple(out), shared=False)


def with_instance(solution, inst: Instance, number: int):
    """The solved part at the instance: matrix answers replaced by their explicit values, the
    statement followed by the sizes and the numbers."""
    answers = tuple(replace(a, value=sp.ImmutableMatrix(inst.values[a.label]))
                    if a.label in inst.values else a for a in solution.answers)
    problem = replace(solution.problem, statement=solution.problem.statement.rstrip()
                      + "\n\n" + statement_tex(inst))
    return replace(solution, problem=problem, answers=answers,
                   body=InstanceBody(inst, solution.body, number))


def statement_tex(inst: Instance) -> str:
    """The instance for the student, in the question's names: "Answer at the sizes $n = 2$,
    $d = 3$, $K = 2$ with $W^{(1)} = \\begin{bmatrix}…\\end{bmatrix}$, … (each answer a matrix
    of numbers)."""
    parts = [f"${name} = {value}$" for name, value in inst.sizes]
    parts += [f"${tex} = {matrix_tex(value)}$" for _, tex, value in inst.given]
    parts += [f"${tex} = {_tex(value)}$" for _, tex, value in inst.scalars]
    return ("Give each answer as a matrix of numbers, at the concrete size and values "
            + ", ".join(parts) + ".")


def matrix_tex(m) -> str:
    rows = r" \\ ".join(" & ".join(_tex(v) for v in m.row(i)) for i in range(m.rows))
    return r"\begin{bmatrix} " + rows + r" \end{bmatrix}"


def _tex(v) -> str:
    from ..render import tex

    return tex(v)


# ---------------------------------------------------------------------------- networks

def build(solution, seed: str) -> Instance:
    """A verified instance of the solved part ``solution`` drawn from ``seed``."""
    problem = solution.problem
    spec = problem.spec
    if problem.kind == "matrix_gradient":
        return _gradient_instance(problem, spec, solution, seed)
    if problem.kind != "mlp" or getattr(spec, "numeric", True):
        raise Unsupported("a matrix expression of a kind that has no concrete instance here")
    return _network_instance(problem, spec, solution, seed)


def _widths(spec, vector_output: bool) -> list[int]:
    """Concrete widths, as the key's own check takes them: no two consecutive equal."""
    n_out = 3 if vector_output else 2
    depth = spec.depth
    if depth == 1:
        widths = [3 if n_out == 2 else 2, n_out]
    elif depth == 2:
        widths = [2, 3, n_out]
    else:
        widths = [2, 3] + [4 if i % 2 == 0 else 3 for i in range(depth - 2)] + [n_out]
    # a width the question fixes (an int in layers) is kept
    return [w if isinstance(w, int) else c for w, c in zip(spec.layers, widths)]


def _network_instance(problem, spec, solution, seed: str) -> Instance:
    from ..check.compare import _explicit
    from ..derive import netexpr
    from ..derive import network as nw

    base = nw._network_symbolic(spec)
    free = sorted({v for v in base.constants.values() if isinstance(v, sp.Symbol)}, key=str)
    bind = {s: sp.Rational(3, 10) * (i + 1) for i, s in enumerate(free)}  # as the key's check
    net = nw.Network(base.hidden, base.output, base.loss,
                     {k: bind.get(v, v) for k, v in base.constants.items()}, base.stacked)
    names = nw.Names(spec.notation, spec.depth, spec.layers)
    fx = nw.Functions.of(spec)
    widths = _widths(spec, net.output.vector)
    dims = {str(w): c for w, c in zip(spec.layers, widths) if not isinstance(w, int)}
    plain = nw._plain_of(names, spec.depth, spec.output_of_hidden)  # LaTeX name -> plain
    shown = {v: k for k, v in plain.items()}
    wanted = matrix_answers(solution)
    rng = random.Random(f"symderiv-instance/{problem.id}/{seed}")
    fallback = None
    for _ in range(DRAWS):
        Ws, bs, x, y = _draw(rng, widths, spec.loss)
        env = _forward(net, Ws, bs, x, y, spec.output_of_hidden)
        if env is None:   # a pre-activation at a kink
            continue
        values = {}
        try:
            with netexpr.bound({str(k): v for k, v in bind.items()}):
                for a in wanted:
                    values[a.label] = _evaluate(a.value, env, dims, bind, _explicit)
        except (KeyError, TypeError, ValueError, sp.ShapeError, NotImplementedError) as exc:
            raise Unsupported(f"the formula cannot be evaluated at a concrete size ({exc})") \
                from None
        world = nw._world(net, spec, names, fx, Ws, bs, x, y)
        for label, value in values.items():
            quantity = _quantity(label, names, plain)
            if quantity is None or quantity not in world.env:
                raise Unsupported(f"{label} cannot be checked at a concrete size")
            if not nw._agree(value, world.env[quantity]):
                raise Unsupported(f"{label} does not equal its quantity at a concrete size")
        given = [(p, shown[p], env[p]) for p in _given_names(spec.depth)]
        inst = Instance(
            sizes=tuple((_width_tex(w), c) for w, c in zip(spec.layers, widths)
                        if not isinstance(w, int)),
            given=tuple(given),
            scalars=tuple((str(s), sp.latex(s), v) for s, v in bind.items()),
            env=env, formulas={a.label: a.value for a in wanted}, values=values)
        if all(any(v != 0 for v in m) for m in values.values()):
            return inst
        fallback = fallback or inst
    if fallback is None:
        raise Unsupported("no concrete network away from the activation's kinks was found")
    return fallback


def _width_tex(width) -> str:
    return sp.latex(sp.Symbol(str(width)))


def _given_names(depth: int) -> list[str]:
    names = []
    for k in range(1, depth + 1):
        names += [f"W{k}", f"b{k}"]
    return names + ["x", "y"]


def _draw(rng: random.Random, widths: list[int], loss: str):
    """Small numbers a student can compute with: integer weights and inputs, biases k + 1/2
    (a first layer's pre-activations are then never 0), targets of the loss's kind."""
    def ints(rows, cols, low=-2, high=2):
        return sp.Matrix(rows, cols, lambda i, j: sp.Integer(rng.randint(low, high)))

    Ws = [ints(widths[k + 1], widths[k]) for k in range(len(widths) - 1)]
    bs = [sp.Matrix(widths[k + 1], 1, lambda i, j: sp.Integer(rng.randint(-2, 1)) + sp.Rational(1, 2))
          for k in range(len(widths) - 1)]
    x = ints(widths[0], 1)
    n_out = widths[-1]
    if loss == "bce":
        y = ints(n_out, 1, 0, 1)
    elif loss == "cross_entropy":
        hot = rng.randrange(n_out)
        y = sp.Matrix(n_out, 1, lambda i, j: sp.Integer(1 if i == hot else 0))
    elif loss == "hinge":
        y = sp.Matrix(n_out, 1, lambda i, j: sp.Integer(rng.choice((-1, 1))))
    else:
        y = ints(n_out, 1)
    return Ws, bs, x, y


def _forward(net, Ws, bs, x, y, stacked: bool) -> dict | None:
    """Every plain name's exact value on the concrete network (None at a kink)."""
    from ..derive import network as nw

    L = len(Ws)
    env = {"x": x, "y": y}
    h = x
    for k in range(1, L + 1):
        z = Ws[k - 1] * h + bs[k - 1]
        env[f"W{k}"], env[f"b{k}"], env[f"z{k}"] = Ws[k - 1], bs[k - 1], z
        entries = [net.hidden] if k < L else ([net.hidden, net.output] if stacked else [net.output])
        value = z
        for entry in entries:
            if not entry.vector and any(nw._branch_at(entry, net.constants, v)[2] for v in value):
                return None
            value = net.act(entry, value)
            if entry is net.hidden and k == L and stacked:
                env[f"h{L}"] = value
        h = value
        if k < L:
            env[f"h{k}"] = h
    env["yhat"] = h
    u = sp.symbols(f"u0:{h.rows}", real=True)
    loss = net.loss_of(sp.Matrix(u), y)
    at = dict(zip(u, h))
    env["dL_dyhat"] = sp.Matrix([sp.diff(loss, ui).xreplace(at) for ui in u])
    if any(v.has(sp.Heaviside, sp.sign, sp.Piecewise, sp.nan, sp.zoo) for v in env["dL_dyhat"]):
        return None   # the loss at a kink (ŷ = y for an absolute error)
    return env


def _evaluate(expr, env: dict, dims: dict, scalars: dict, explicit) -> sp.Matrix:
    """The key's formula with every name at its concrete value, an explicit matrix."""
    sizes = {s: dims[s.name] for M in expr.atoms(sp.MatrixSymbol) for s in M.shape
             if isinstance(s, sp.Symbol)}
    for s in expr.free_symbols:
        if isinstance(s, sp.Symbol) and s.name in dims:
            sizes[s] = dims[s.name]
    subs = {}
    for M in expr.atoms(sp.MatrixSymbol):
        if M.name not in env:
            raise KeyError(f"no value for {M.name}")
        subs[M] = sp.ImmutableMatrix(env[M.name])
    value = explicit(expr, sizes, subs, scalars)
    return sp.Matrix(value)


def _quantity(label: str, names, plain: dict) -> str | None:
    """The LaTeX name of the quantity a label names (``grad.W1`` -> ∂ℓ/∂W⁽¹⁾)."""
    shown = {v: k for k, v in plain.items()}
    if label == "forward.loss":
        return names.loss
    if label.startswith("forward."):
        return shown.get(label[len("forward."):])
    if label.startswith("grad."):
        return shown.get("dL_d" + label[len("grad."):])
    if label.startswith("backward.dL/d"):
        return shown.get("dL_d" + label[len("backward.dL/d"):])
    return None


# ---------------------------------------------------------------------------- Maxima (STACK)

def maxima_program(solution, answers) -> tuple[list[str], dict[str, str]]:
    """STACK's question variables for an instance: the given matrices, the network's
    intermediate quantities by their definitions (``z1: W1 . x + b1;``, ``h1: matrixmap(…,
    z1);``, ``dL_dyhat: yhat - y;``) and, per answer, the teacher's answer: the key's formula
    in Maxima's matrix algebra (``dL_dyhat . transpose(h1)``). Returns the lines and label ->
    the variable holding that answer.

    The program is read back (:func:`.maxima.evaluate_program`) and every teacher's answer
    compared with the instance's verified value; one that differs, or a formula with no
    Maxima form, is written as its value instead (``matrix([…], […])``)."""
    from ..derive import netexpr
    from ..derive import network as nw
    from .maxima import MaximaSyntax, evaluate_program, maxima, maxima_matrix

    body = solution.body
    inst: Instance = body.instance
    problem = solution.problem
    spec = problem.spec
    network = problem.kind == "mlp"
    sizes = dict(_plain_sizes(spec)) if network else {}
    bound = _bound_constants(spec) if network else {}
    lines = [f"{name}: {maxima(value)};" for name, _, value in inst.given]
    lines += [f"{name}: {maxima(value)};" for name, _, value in inst.scalars]
    if not network:   # widths by their values (1/m), scalars by name
        sizes = {tex: value for tex, value in inst.sizes}
    with netexpr.bound(bound):
        if network:
            lines += _definitions(spec, solution, sizes, bound, inst)
        variables, formulas = {}, {}
        for i, a in enumerate(answers, 1):
            variables[a.label] = f"ta{i}"
            text = None
            if a.label in inst.formulas:
                try:
                    text = maxima_matrix(inst.formulas[a.label], sizes)
                except Unsupported:
                    text = None
            formulas[a.label] = text
    values = {}
    for label, text in formulas.items():
        if not text:
            continue
        try:   # each answer read back on its own: one that fails leaves the others
            values.update(evaluate_program("\n".join(lines + [f"{variables[label]}: {text};"])))
        except (MaximaSyntax, TypeError, ValueError, ZeroDivisionError, sp.ShapeError):
            pass
    out = list(lines)
    for a in answers:
        var, text = variables[a.label], formulas[a.label]
        value = values.get(var) if text else None
        try:
            same = value is not None and nw._agree(_as_matrix(value), sp.Matrix(a.value))
        except TypeError:   # a name left without a value
            same = False
        # a 1 × 1 answer by its value: Maxima's product of a row and a column is a number,
        # and STACK's matrix input takes its size from a matrix
        if not same or sp.Matrix(a.value).shape == (1, 1):
            text = maxima(a.value)
        out.append(f"{var}: {text};")
    return out, variables


def _as_matrix(v):
    return v if isinstance(v, sp.MatrixBase) else sp.Matrix([[v]])


def _plain_sizes(spec):
    from ..library.activations import ACTIVATIONS

    widths = _widths(spec, ACTIVATIONS[spec.output].vector)
    return [(str(w), c) for w, c in zip(spec.layers, widths) if not isinstance(w, int)]


def _bound_constants(spec) -> dict:
    from ..derive import network as nw

    base = nw._network_symbolic(spec)
    free = sorted({v for v in base.constants.values() if isinstance(v, sp.Symbol)}, key=str)
    return {str(s): sp.Rational(3, 10) * (i + 1) for i, s in enumerate(free)}


def _definitions(spec, solution, sizes: dict, bound: dict, inst: Instance) -> list[str]:
    """The intermediate quantities by the network's definitions, in Maxima."""
    from ..library.activations import ACTIVATIONS
    from .maxima import entrywise, maxima

    def act(name: str, arg: str) -> str:
        if name == "identity":
            return arg
        if ACTIVATIONS[name].vector:
            raise Unsupported(f"the vector activation {name}")
        return f"matrixmap({entrywise(name)}, {arg})"

    L = spec.depth
    lines = []

    def define(name: str, make) -> None:
        """``name: formula;``, or its value when the formula has no Maxima form (softmax)."""
        try:
            lines.append(f"{name}: {make()};")
        except Unsupported:
            lines.append(f"{name}: {maxima(inst.env[name])};")

    prev = "x"
    for k in range(1, L + 1):
        lines.append(f"z{k}: W{k} . {prev} + b{k};")
        if k < L:
            define(f"h{k}", lambda k=k: act(spec.hidden, f"z{k}"))
            prev = f"h{k}"
    top = f"z{L}"
    if spec.output_of_hidden:
        define(f"h{L}", lambda: act(spec.hidden, top))
        top = f"h{L}"
    define("yhat", lambda: act(spec.output, top))
    closed = next((a.value for a in solution.answers if a.label == "elementwise.dL/dyhat"), None)
    if isinstance(closed, sp.Expr) and not closed.has(sp.Max, sp.Min, sp.Abs, sp.Piecewise,
                                                       sp.Heaviside, sp.sign):
        at = {s: sp.Symbol({"yhat_j": "yhat", "y_j": "y"}.get(s.name, s.name))
              for s in closed.free_symbols}
        e = closed.xreplace(at)
        e = e.xreplace({s: sp.Integer(sizes[s.name]) for s in e.free_symbols if s.name in sizes})
        e = e.xreplace({s: bound[s.name] for s in e.free_symbols if s.name in bound})
        try:
            lines.append(f"dL_dyhat: {maxima(e)};")
            return lines
        except Unsupported:
            pass
    lines.append(f"dL_dyhat: {maxima(inst.env['dL_dyhat'])};")   # its value
    return lines


def network_label(problem, label: str) -> str | None:
    """A symbolic network's label in the question's names (LaTeX): ``forward.yhat`` is
    \\hat{y}, ``grad.W2`` is ∂ℓ/∂W⁽²⁾, ``backward.dL/dz1`` is ∂ℓ/∂z₁; None for another."""
    if problem.kind != "mlp" or getattr(problem.spec, "numeric", True):
        return None
    from ..derive import network as nw

    spec = problem.spec
    names = nw.Names(spec.notation, spec.depth, spec.layers)
    plain = nw._plain_of(names, spec.depth, spec.output_of_hidden)
    quantity = _quantity(label, names, plain)
    if quantity is None:
        return None
    if quantity.startswith(r"\frac{\partial"):   # inline: ∂ℓ/∂W rather than a fraction
        inner = quantity[len(r"\frac{"):-1].split("}{", 1)
        quantity = f"{inner[0]} / {inner[1]}"
    return quantity


# ---------------------------------------------------------------------------- matrix gradients

def _gradient_instance(problem, spec, solution, seed: str) -> Instance:
    """A ``matrix_gradient`` problem at a concrete size: every matrix and scalar of f drawn
    (small integers), the gradient the key's formula there, verified against the derivative
    of f itself in each entry of the variable (f written out entry by entry, differentiated
    by SymPy). A problem with given facts (``sum(y) = 1``) or named subexpressions is not
    instantiated (a draw need not satisfy the facts)."""
    from ..check.compare import _explicit
    from ..derive.matrix import _shapes, build
    from ..derive import network as nw

    if spec.given or spec.where or spec.second is not None:
        raise Unsupported("a matrix gradient with given facts or named parts has no "
                          "concrete instance here")
    f = build(spec)
    shapes = _shapes(spec)
    if spec.wrt not in shapes:
        raise Unsupported("a gradient in a scalar has no matrix instance")
    wanted = matrix_answers(solution)
    dims = sorted({d for shape in shapes.values() for d in shape if isinstance(d, sp.Symbol)},
                  key=lambda d: d.name)
    sizes = {d: 2 + k for k, d in enumerate(dims)}   # n = 2, m = 3 …: distinct
    dim_names = {d.name: d for d in sizes}   # a width used as a number too (1/m)
    rng = random.Random(f"symderiv-instance/{problem.id}/{seed}")
    matrices = {M.name: M for expr in [f] + [a.value for a in wanted]
                for M in expr.atoms(sp.MatrixSymbol)}
    if set(matrices) - set(shapes):
        raise Unsupported("a matrix expression over names that are not f's")
    scalars = sorted({s for expr in [f] + [a.value for a in wanted] for s in expr.free_symbols
                      if isinstance(s, sp.Symbol) and s not in sizes and s.name not in matrices},
                     key=lambda s: s.name)
    fallback = None
    for _ in range(DRAWS):
        values = {}
        for name, (r, c) in sorted(shapes.items()):
            rows, cols = (int(sizes.get(d, d)) for d in (r, c))
            values[name] = sp.Matrix(rows, cols, lambda i, j: sp.Integer(rng.randint(-3, 3)))
        at = {s: sizes[dim_names[s.name]] if s.name in dim_names else sp.Integer(rng.randint(1, 3))
              for s in scalars}
        subs = {M: sp.ImmutableMatrix(values[M.name]) for M in matrices.values()}
        try:
            got = {a.label: sp.Matrix(_explicit(a.value, sizes, subs, at)) for a in wanted}
        except (TypeError, ValueError, sp.ShapeError, NotImplementedError) as exc:
            raise Unsupported(f"the formula cannot be evaluated at a concrete size ({exc})") \
                from None
        truth = _gradient_by_entries(f, matrices, spec.wrt, values, sizes, at, _explicit)
        for label, value in got.items():
            if label == "gradient" and not nw._agree(value, truth):
                raise Unsupported(f"{label} does not equal the derivative of f at a concrete size")
            if label != "gradient":
                raise Unsupported(f"{label} cannot be checked at a concrete size")
        inst = Instance(
            sizes=tuple((sp.latex(d), v) for d, v in sizes.items()),
            given=tuple((name, _name_tex(problem, name), values[name])
                        for name in sorted(shapes) if name != spec.wrt),
            scalars=tuple((s.name, _name_tex(problem, s.name), v) for s, v in at.items()
                          if s.name not in dim_names),
            env={**values}, formulas={a.label: a.value for a in wanted}, values=got)
        inst = replace(inst, given=inst.given + ((spec.wrt, _name_tex(problem, spec.wrt),
                                                   values[spec.wrt]),))
        if all(any(v != 0 for v in m) for m in got.values()):
            return inst
        fallback = fallback or inst
    return fallback


def _gradient_by_entries(f, matrices, wrt: str, values, sizes, at, explicit) -> sp.Matrix:
    """∂f/∂X at the drawn values, from f written out entry by entry (SymPy's derivative)."""
    X = values[wrt]
    entries = sp.Matrix(X.rows, X.cols, lambda i, j: sp.Symbol(f"_e{i}_{j}", real=True))
    subs = {M: sp.ImmutableMatrix(entries if name == wrt else values[name])
            for name, M in matrices.items()}
    from ..check.compare import _dim

    value = f.subs(sizes).xreplace(
        {sp.MatrixSymbol(M.name, *[_dim(d, sizes) for d in M.shape]): v
         for M, v in subs.items()}).xreplace(at).doit()
    if isinstance(value, (sp.MatrixBase, MatrixExpr)):
        value = sp.Matrix(value.as_explicit() if isinstance(value, MatrixExpr) else value)
    scalar = value[0, 0] if isinstance(value, sp.MatrixBase) else value
    scalar = scalar.doit() if hasattr(scalar, "doit") else scalar
    point = {entries[i, j]: X[i, j] for i in range(X.rows) for j in range(X.cols)}
    return sp.Matrix(X.rows, X.cols, lambda i, j: sp.diff(scalar, entries[i, j]).xreplace(point))


def _name_tex(problem, name: str) -> str:
    """How the question writes a name: its notation entry, else the statement's
    \\boldsymbol{x} or \\mathbf{A}, else the name."""
    notation = dict(getattr(problem.spec, "notation", ()) or ())
    if name in notation:
        return notation[name]
    for head in (r"\boldsymbol", r"\mathbf"):
        if f"{head}{{{name}}}" in problem.statement:
            return f"{head}{{{name}}}"
    return name
