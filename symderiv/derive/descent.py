"""Kind ``gd_analysis``: gradient descent on a quadratic loss in one parameter (here); a
quadratic in several parameters or heavy-ball momentum (``descent_nd``); a loss in one parameter
that is not quadratic (``descent_numeric``). ``parse`` reads the fields and picks the analysis.

For L(w) = a w² + b w + c with a > 0 (curvature h = L″ = 2a, minimizer w* = −b/(2a)) the
update w_{t+1} = w_t − α L′(w_t) gives w_{t+1} − w* = (1 − αh)(w_t − w*), hence

    w_t = w* + (1 − αh)^t (w₀ − w*),

converging iff 0 < α < 2/h, oscillating around w* iff α > 1/h, diverging iff α > 2/h.
Every iterate table is a direct simulation in exact arithmetic, and it is checked against
the closed form; the conditions are checked against the simulation for every α.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import sympy as sp

from ..assume import Scope, parse_assumption
from ..errors import BadInput, VerificationFailed
from ..parse import parse_expression
from ..spec import Fields, Problem
from .derivative import _IDENT, namespace
from .steps import Answer, Solution

FIELDS = {"loss", "param", "data", "init", "alphas", "steps", "tolerance",
          "params", "A", "b", "method", "beta", "step_name"}
METHODS = ("gd", "momentum")
ALPHA = sp.Symbol("alpha", positive=True)
T = sp.Symbol("t", integer=True, nonnegative=True)


@dataclass(frozen=True)
class GDSpec:
    loss: str
    param: str
    data: tuple[tuple[str, sp.Rational], ...]
    init: sp.Rational
    alphas: tuple[tuple[str, sp.Rational], ...]  # as written, exact value
    steps: int
    tolerance: sp.Rational


def _number(value, where, f: Fields) -> sp.Rational:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise f.error(where, f"expected a number, got {value!r}")
    return sp.Rational(str(value))


def _vector(value, where, f: Fields, n: int | None = None) -> sp.Matrix:
    if not isinstance(value, list) or not value:
        raise f.error(where, f"expected a list of numbers, got {value!r}")
    entries = [_number(v, where, f) for v in value]
    if n is not None and len(entries) != n:
        raise f.error(where, f"expected {n} numbers (one per parameter), got {len(entries)}")
    return sp.Matrix(entries)


def _step_sizes(f: Fields):
    alphas = f.get("alphas", list, required=True, what="a list of step sizes")
    if not alphas:
        raise f.error("alphas", "the list is empty")
    written = []
    for a in alphas:
        value = _number(a, "alphas", f)
        if value <= 0:
            raise f.error("alphas", f"step sizes must be positive, got {a}")
        written.append((format(a, "f") if isinstance(a, Decimal) else str(a), value))
    return tuple(written)


def parse(problem: Problem):
    f = Fields(problem, FIELDS)
    method = f.get("method", str, "gd")
    if method not in METHODS:
        raise f.error("method", f"{method!r} is not a method (use {' or '.join(METHODS)})")
    steps = f.get("steps", int, 10)
    if not 1 <= steps <= 200:
        raise f.error("steps", "must be between 1 and 200")
    step_name = f.get("step_name", str, "alpha")
    if step_name not in ("alpha", "eta"):
        raise f.error("step_name", "the step size is written alpha or eta")
    several = any(k in problem.fields for k in ("A", "b", "params")) or method == "momentum"
    if not several and "loss" in problem.fields:
        loss, w = _one_parameter(problem, f)
        if loss.is_polynomial(w) and sp.degree(loss, w) != 2 or not loss.is_polynomial(w):
            from . import descent_numeric

            for name in ("beta",):
                if name in problem.fields:
                    raise f.error(name, "momentum is analysed on quadratic losses only")
            return descent_numeric.parse(problem, f, _step_sizes(f), steps, step_name, _number)
    if several:
        return _parse_several(problem, f, method, steps, step_name)
    if "beta" in problem.fields:
        raise f.error("beta", "beta is the momentum coefficient: set method = \"momentum\"")
    if step_name != "alpha":
        name = f.get("param", str, "w")
        raise f.error("step_name", "a one-parameter quadratic is analysed with alpha (write "
                      f"params = [\"{name}\"] for the matrix form, which may use eta)")
    loss = f.get("loss", str, required=True)
    param = f.get("param", str, "w")
    data = f.get("data", dict, {})
    data_values = tuple((k, _number(v, f"data.{k}", f)) for k, v in data.items())
    init = _number(f.get("init", (int, Decimal), 0), "init", f)
    written = _step_sizes(f)
    tolerance = _number(f.get("tolerance", (int, Decimal), 1), "tolerance", f)
    if tolerance <= 0:
        raise f.error("tolerance", "must be positive")
    spec = GDSpec(loss, param, data_values, init, written, steps, tolerance)
    try:
        _quadratic(problem, spec)
    except BadInput as exc:
        raise f.error("loss", exc.message) from None
    return spec


def _one_parameter(problem: Problem, f: Fields):
    """The loss as written with the data substituted, and its one parameter."""
    loss = f.get("loss", str, required=True)
    param = f.get("param", str, "w")
    if not _IDENT.match(param):
        raise f.error("param", f"{param!r} is not a name")
    data = f.get("data", dict, {})
    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    w = scope.symbol(param)
    try:
        expr = parse_expression(loss, namespace(scope))
    except BadInput as exc:
        raise f.error("loss", exc.message) from None
    values = {scope.symbol(k): _number(v, f"data.{k}", f) for k, v in data.items()}
    value = expr.xreplace(values)
    if not value.has(w):
        raise f.error("loss", f"{loss!r} does not depend on {param}")
    free = value.free_symbols - {w}
    if free:
        raise f.error("loss", f"give values for {', '.join(sorted(s.name for s in free))} in data")
    return sp.expand(value) if value.is_polynomial(w) else value, w


def _parse_several(problem: Problem, f: Fields, method: str, steps: int, step_name: str):
    from .descent_nd import QuadSpec, check_matrix, quadratic_form

    beta, beta_written = sp.Integer(0), "0"
    if method == "momentum":
        raw = f.get("beta", (int, Decimal), required=True)
        beta = _number(raw, "beta", f)
        beta_written = format(raw, "f") if isinstance(raw, Decimal) else str(raw)
        if not 0 <= beta < 1:
            raise f.error("beta", f"the momentum coefficient must satisfy 0 <= beta < 1, got {raw}")
    elif "beta" in problem.fields:
        raise f.error("beta", "beta is the momentum coefficient: set method = \"momentum\"")
    if "A" in problem.fields:
        if "loss" in problem.fields:
            raise f.error("loss", "give either the loss or A and b, not both")
        rows = f.get("A", list, what="a list of rows")
        if not rows or not all(isinstance(r, list) and len(r) == len(rows) for r in rows):
            raise f.error("A", "expected a square matrix: a list of rows of equal length")
        n = len(rows)
        if n > descent_nd_max():
            raise f.error("A", f"at most {descent_nd_max()} parameters")
        A = sp.Matrix([[_number(v, "A", f) for v in r] for r in rows])
        b = _vector(f.get("b", list, [0] * n), "b", f, n)
        names = f.string_list("params", [f"theta{i + 1}" for i in range(n)])
        if len(names) != n:
            raise f.error("params", f"A is {n} x {n}: give {n} parameter names")
        _check_names(names, f)
        try:
            check_matrix(A, "A")
        except BadInput as exc:
            raise f.error("A", exc.message) from None
        symbols = [sp.Symbol(p, real=True) for p in names]
        theta = sp.Matrix(symbols)
        loss_text, c = "", sp.Integer(0)
        loss_expr = sp.expand((theta.T * A * theta)[0] / 2 - (b.T * theta)[0])
    else:
        loss_text = f.get("loss", str, required=True)
        names = f.string_list("params", [f.get("param", str, "w")])
        if "param" in problem.fields and "params" in problem.fields:
            raise f.error("param", "give either param or params")
        n = len(names)
        if not 1 <= n <= descent_nd_max():
            raise f.error("params", f"give 1 to {descent_nd_max()} parameter names")
        scope = Scope({m: parse_assumption(m, t) for m, t in problem.assume.items()})
        _check_names(names, f)
        symbols = [sp.Symbol(p, real=True) for p in names]
        try:
            expr = parse_expression(loss_text, namespace(scope))
        except BadInput as exc:
            raise f.error("loss", exc.message) from None
        data = f.get("data", dict, {})
        values = {scope.symbol(k): _number(v, f"data.{k}", f) for k, v in data.items()}
        plain = {scope.symbol(p): s for p, s in zip(names, symbols)}
        loss_expr = sp.expand(expr.xreplace(values).xreplace(plain))
        free = loss_expr.free_symbols - set(symbols)
        if free:
            raise f.error("loss", f"give values for {', '.join(sorted(s.name for s in free))} in data")
        missing = [s.name for s in symbols if not loss_expr.has(s)]
        if missing:
            raise f.error("loss", f"the loss does not depend on {', '.join(missing)}")
        form = quadratic_form(loss_expr, symbols)
        if isinstance(form, str):
            what = "in several parameters" if n > 1 else "with momentum"
            raise f.error("loss", f"the analysis {what} covers quadratic losses, and {form}")
        A, b, c = form
        try:
            check_matrix(A, "the Hessian of the loss")
        except BadInput as exc:
            raise f.error("loss", exc.message) from None
    init_raw = f.get("init", (list, int, Decimal), [0] * n)
    if not isinstance(init_raw, list):
        if n != 1:
            raise f.error("init", f"expected a list of {n} numbers (the starting point)")
        init_raw = [init_raw]
    init = _vector(init_raw, "init", f, n)
    tol_raw = f.get("tolerance", (int, Decimal), None)
    tolerance = None if tol_raw is None else _number(tol_raw, "tolerance", f)
    if tolerance is not None and tolerance <= 0:
        raise f.error("tolerance", "must be positive")
    return QuadSpec(tuple(names), loss_text, loss_expr, A, b, c, init, _step_sizes(f), steps,
                    tolerance, method, beta, beta_written, step_name)


def _check_names(names, f: Fields) -> None:
    for p in names:
        if not _IDENT.match(p):
            raise f.error("params", f"{p!r} is not a name")
    if len(set(names)) != len(names):
        raise f.error("params", "a parameter is named twice")


def descent_nd_max() -> int:
    from .descent_nd import MAX_N

    return MAX_N


def _quadratic(problem: Problem, spec: GDSpec):
    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    w = scope.symbol(spec.param)
    expr = parse_expression(spec.loss, namespace(scope))
    values = {scope.symbol(k): v for k, v in spec.data}
    loss = sp.expand(expr.xreplace(values))
    if not loss.has(w):
        raise BadInput(f"{spec.loss!r} does not depend on {spec.param}")
    free = loss.free_symbols - {w}
    if free:
        raise BadInput(f"give values for {', '.join(sorted(s.name for s in free))} in data")
    if not loss.is_polynomial(w) or sp.degree(loss, w) != 2:
        raise BadInput("the analysis covers quadratic losses in one parameter")
    a = loss.coeff(w, 2)
    if not a > 0:
        raise BadInput("the loss must be convex (positive coefficient of the square)")
    return expr, loss, w


@dataclass(frozen=True)
class AlphaRun:
    written: str
    alpha: sp.Rational
    ratio: sp.Rational            # 1 − αh
    iterates: tuple[sp.Rational, ...]
    behaviour: str                # "converges", "converges in one step", "oscillates …" …
    steps_to_tolerance: sp.Expr   # an integer, or oo for never


@dataclass(frozen=True)
class GDSolution:
    spec: GDSpec
    param: sp.Symbol
    loss_general: sp.Expr
    loss: sp.Expr
    gradient: sp.Expr
    curvature: sp.Expr
    optimum: sp.Expr
    update: sp.Expr
    closed_form: sp.Expr
    error_form: sp.Expr
    converges: sp.Set
    oscillates: sp.Set
    diverges: sp.Set
    runs: tuple[AlphaRun, ...]
    plot_ymin: float
    plot_ymax: float
    # per run: the iterates drawn (up to and including the first one outside the plotted
    # range, so the line visibly leaves the frame) and (t, w_t) of that first one, or None
    plot_points: tuple[tuple[sp.Rational, ...], ...] = ()
    leaves: tuple[tuple[int, sp.Rational] | None, ...] = ()


def solve(problem: Problem) -> Solution:
    spec = problem.spec
    if not isinstance(spec, GDSpec):
        from . import descent_nd, descent_numeric

        if isinstance(spec, descent_nd.QuadSpec):
            return descent_nd.solve(problem, spec)
        return descent_numeric.solve(problem, spec)
    general, loss, w = _quadratic(problem, spec)
    grad = sp.diff(loss, w)
    h = sp.diff(loss, w, 2)
    w_star = sp.solve(grad, w)[0]
    w0 = spec.init
    update = w - ALPHA * grad
    closed = w_star + (1 - ALPHA * h) ** T * (w0 - w_star)
    # the closed form satisfies the recurrence and the initial condition
    step_check = sp.simplify(closed.subs(T, T + 1) - update.subs(w, closed))
    if step_check != 0 or sp.simplify(closed.subs(T, 0) - w0) != 0:
        raise VerificationFailed(problem.id, "closed_form", "does not satisfy the update rule")
    converges = sp.Interval.open(0, 2 / h)
    oscillates = sp.Interval.open(1 / h, sp.oo)
    diverges = sp.Interval.open(2 / h, sp.oo)
    _check_conditions(problem, h, converges, oscillates, diverges)
    runs = []
    answers = []
    for written, alpha in spec.alphas:
        seq = [w0]
        for _ in range(spec.steps):
            seq.append(seq[-1] - alpha * grad.subs(w, seq[-1]))
        for t, value in enumerate(seq):
            if value != closed.subs({ALPHA: alpha, T: t}):
                raise VerificationFailed(problem.id, f"iterates[alpha={written}]",
                                         f"w_{t} = {value} differs from the closed form")
        ratio = 1 - alpha * h
        behaviour = _behaviour(ratio, w0 == w_star)
        _check_behaviour(problem, written, seq, w_star, ratio, converges, oscillates, diverges, alpha)
        n_steps = _steps_to_tolerance(seq, w_star, ratio, w0, spec.tolerance, problem, written)
        runs.append(AlphaRun(written, alpha, ratio, tuple(seq), behaviour, n_steps))
        answers.append(Answer(f"iterates[alpha={written}]", list(seq)))
        answers.append(Answer(f"steps_to_tolerance[alpha={written}]", n_steps))
    answers = [Answer("closed_form", closed), Answer("converges", converges),
               Answer("oscillates", oscillates), Answer("diverges", diverges)] + answers
    finite = [float(v) for r in runs for v in r.iterates]
    span = max(abs(float(w_star - w0)), 1.0)
    ymin = max(min(finite), float(w_star) - 3 * span)
    ymax = min(max(finite), float(w_star) + 3 * span)
    points, leaves = [], []
    for r in runs:
        out = next((t for t, v in enumerate(r.iterates) if not ymin <= float(v) <= ymax), None)
        points.append(r.iterates if out is None else r.iterates[:out + 1])
        leaves.append(None if out is None else (out, r.iterates[out]))
    body = GDSolution(spec, w, general, loss, grad, h, w_star, update, closed,
                      sp.Abs(1 - ALPHA * h) ** T * sp.Abs(w0 - w_star), converges, oscillates,
                      diverges, tuple(runs), ymin, ymax, tuple(points), tuple(leaves))
    return Solution(problem, tuple(answers), body,
                    ("gradient-descent iterates simulated exactly and checked against the "
                     "closed form; conditions derived symbolically and checked against the simulation",))


def _behaviour(ratio, at_optimum: bool) -> str:
    if at_optimum:
        return "starts at the minimizer"
    if ratio == 0:
        return "reaches the minimizer in one step"
    if abs(ratio) < 1:
        return "converges" + (", oscillating around the minimizer" if ratio < 0 else " monotonically")
    if ratio == -1:
        return "oscillates with constant amplitude (does not converge)"
    if ratio < -1:
        return "diverges, oscillating with growing amplitude"
    return "diverges"


def _check_conditions(problem, h, converges, oscillates, diverges) -> None:
    """The three sets, derived again by SymPy from |1 − αh| < 1, 1 − αh < 0, |1 − αh| > 1."""
    a = sp.Symbol("a", real=True)
    derived = {
        "converges": sp.solve_univariate_inequality(sp.Abs(1 - a * h) < 1, a, relational=False)
        & sp.Interval.open(0, sp.oo),
        "oscillates": sp.solve_univariate_inequality(1 - a * h < 0, a, relational=False)
        & sp.Interval.open(0, sp.oo),
        "diverges": sp.solve_univariate_inequality(sp.Abs(1 - a * h) > 1, a, relational=False)
        & sp.Interval.open(0, sp.oo),
    }
    for name, claimed in (("converges", converges), ("oscillates", oscillates), ("diverges", diverges)):
        if derived[name] != claimed:
            raise VerificationFailed(problem.id, name, f"{claimed} but SymPy derives {derived[name]}")


def _check_behaviour(problem, written, seq, w_star, ratio, converges, oscillates, diverges, alpha):
    errors = [abs(v - w_star) for v in seq]
    if errors[0] == 0:
        return
    label = f"iterates[alpha={written}]"
    if alpha in diverges and not errors[-1] > errors[0]:
        raise VerificationFailed(problem.id, label, "α is in the divergence set but the iterates shrink")
    if alpha in converges and not errors[-1] < errors[0]:
        raise VerificationFailed(problem.id, label, "α is in the convergence set but the iterates grow")
    signs = [sp.sign(v - w_star) for v in seq if v != w_star]
    flips = any(s1 != s2 for s1, s2 in zip(signs, signs[1:]))
    if (alpha in oscillates) != flips and len(signs) > 1:
        raise VerificationFailed(problem.id, label, "oscillation claim disagrees with the iterates")


def _steps_to_tolerance(seq, w_star, ratio, w0, tol, problem, written) -> sp.Expr:
    """The first t with |w_t − w*| < tol: from the closed form, confirmed on the simulation."""
    gap = abs(w0 - w_star)
    if gap < tol:
        return sp.Integer(0)
    r = abs(ratio)
    if r == 0:
        t = 1
    elif r >= 1:
        return sp.oo
    else:
        t = max(1, math.ceil(math.log(float(tol / gap)) / math.log(float(r))))
        while r ** t * gap >= tol:  # float rounding: make it exact
            t += 1
        while t > 1 and r ** (t - 1) * gap < tol:
            t -= 1
    if t < len(seq) and not (abs(seq[t] - w_star) < tol and abs(seq[t - 1] - w_star) >= tol):
        raise VerificationFailed(problem.id, f"steps_to_tolerance[alpha={written}]",
                                 "the simulation disagrees")
    return sp.Integer(t)
