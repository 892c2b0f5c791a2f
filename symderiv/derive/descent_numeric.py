"""``gd_analysis`` on a loss in one parameter that is not quadratic (DSC 40A style).

x_{t+1} = x_t − α L′(x_t) has no closed form here: the key shows the iterates and says
whether the run converges, and it says plainly that this was found by running the
iteration, not by a formula. L′ is SymPy's derivative, checked by finite differences; the
iterates are computed at 50 digits and again at 80 digits, and the digits shown must agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import mpmath
import sympy as sp

from ..assume import Scope, parse_assumption
from ..errors import VerificationFailed
from ..parse import parse_expression
from ..verify import check_derivative
from .derivative import namespace
from .steps import Answer, Solution

LONG_RUN = 2000          # steps run to decide convergence
SETTLED = mpmath.mpf(10) ** -25   # |x_{t+1} − x_t| below this (relative): settled
ESCAPED = mpmath.mpf(10) ** 12    # |x_t| above this: diverges
BEYOND = mpmath.mpf(10) ** 100    # the table stops here (a float holds up to 10^308)


@dataclass(frozen=True)
class NumericSpec:
    loss: str
    param: str
    loss_expr: sp.Expr
    symbol: sp.Symbol
    init: sp.Rational
    alphas: tuple[tuple[str, sp.Rational], ...]
    steps: int
    tolerance: sp.Rational | None
    step_name: str


@dataclass(frozen=True)
class NumericRun:
    written: str
    alpha: sp.Rational
    iterates: tuple[sp.Float | None, ...]   # None once the run has left the loss's domain
    values: tuple[sp.Float | None, ...]
    verdict: str          # "converges", "diverges", "cycles", "undefined", "undecided"
    limit: sp.Float | None             # the point it settles at
    limit_kind: str                    # "local minimum", "local maximum", "stationary point";
                                       # "+oo"/"-oo": where a run without a limit heads
    at_step: int | None                # converged / escaped / left the domain at this step
    cycle: tuple[sp.Float, ...] = ()
    steps_to_tolerance: int | None = None
    # a slow approach proved (verdict "converges" after LONG_RUN steps without settling):
    # the exact limit and the radius r within which every step moves closer to it
    exact_limit: sp.Expr | None = None
    radius: sp.Rational | None = None
    order: int | None = 2              # the order of the first derivative of L not 0 at the
                                       # limit (None: not found up to the 12th)


@dataclass(frozen=True)
class NumericSolution:
    kind_part: str
    spec: NumericSpec
    step: sp.Symbol
    loss: sp.Expr
    derivative: sp.Expr
    second: sp.Expr
    runs: tuple[NumericRun, ...]
    long_run: int
    plot_points: tuple[tuple[tuple[float, float], ...], ...]  # (t, x_t), cut at the frame
    plot_ymin: float
    plot_ymax: float
    stopped: bool = False  # some run's table ends early (a dash)
    max_tolerance_steps: int = 100_000   # how far a slow approach is followed (MAX_TOLERANCE_STEPS)


def parse(problem, f, alphas, steps, step_name, number) -> NumericSpec:
    loss = f.get("loss", str, required=True)
    param = f.get("param", str, "w")
    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    x = scope.symbol(param)
    expr = parse_expression(loss, namespace(scope))
    values = {scope.symbol(k): number(v, f"data.{k}", f) for k, v in f.get("data", dict, {}).items()}
    expr = expr.xreplace(values)
    init_raw = f.get("init", (int, Decimal), 0)
    init = number(init_raw, "init", f)
    tol = f.get("tolerance", (int, Decimal), None)
    tolerance = None if tol is None else number(tol, "tolerance", f)
    if tolerance is not None and tolerance <= 0:
        raise f.error("tolerance", "must be positive")
    return NumericSpec(loss, param, expr, x, init, alphas, steps, tolerance, step_name)


def _evaluator(expr, x):
    try:
        fn = sp.lambdify([x], expr, modules="mpmath", docstring_limit=0)
    except Exception:  # noqa: BLE001 - a function mpmath does not know: SymPy evaluates it
        def fn(v):
            return mpmath.mpmathify(complex(expr.evalf(mpmath.mp.dps, subs={x: sp.Float(v, mpmath.mp.dps)})))

    def value(v):
        try:
            out = fn(v)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return None
        out = mpmath.mpmathify(out)
        if isinstance(out, mpmath.mpc):
            if abs(out.imag) > mpmath.mpf(10) ** (-mpmath.mp.dps + 5) * max(1, abs(out.real)):
                return None
            out = out.real
        if not mpmath.isfinite(out):
            return None
        return out
    return value


def _run(d, x0, alpha, n, dps):
    """x₀ … x_n (None from where the derivative is not defined or the run has escaped)."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(alpha.p) / alpha.q
        x = mpmath.mpf(x0.p) / x0.q
        out = [x]
        for _ in range(n):
            g = d(x)
            if g is None or abs(x) > BEYOND:
                out.append(None)
                x = None
                break
            x = x - a * g
            out.append(x)
        out += [None] * (n + 1 - len(out))
        return out


def _decide(d, d2, x0, alpha):
    """Run LONG_RUN steps at 50 digits and say what happened."""
    with mpmath.workdps(50):
        a = mpmath.mpf(alpha.p) / alpha.q
        x = mpmath.mpf(x0.p) / x0.q
        history = [x]
        for t in range(1, LONG_RUN + 1):
            g = d(x)
            if g is None:
                return "undefined", None, "", t - 1, ()
            nxt = x - a * g
            if abs(nxt) > ESCAPED:
                return "diverges", None, "", t, ()
            history.append(nxt)
            if abs(nxt - x) <= SETTLED * max(1, abs(x)):
                gx = d(nxt)
                if gx is None or abs(gx) > mpmath.mpf(10) ** -20:
                    raise VerificationFailed("?", "iterates", "the run settled where L′ ≠ 0")
                curv = d2(nxt)
                kind = ("stationary point" if curv is None or abs(curv) < mpmath.mpf(10) ** -20
                        else "local minimum" if curv > 0 else "local maximum")
                return "converges", nxt, kind, t, ()
            x = nxt
        # a cycle of period 2 to 4 at the end of the run
        for p in (2, 3, 4):
            last = history[-1 - 2 * p:]
            if all(abs(last[i] - last[i + p]) <= mpmath.mpf(10) ** -20 * max(1, abs(last[i]))
                   for i in range(p)) and abs(last[-1] - last[-2]) > mpmath.mpf(10) ** -10:
                return "cycles", None, "", None, tuple(history[-p:])
        tail = history[-100:]  # where it wanders: the range of the last 100 iterates
        return "undecided", history[-1], "", None, (min(tail), max(tail))


MAX_TOLERANCE_STEPS = 100_000   # a slow approach is followed this far for the tolerance


def _approach(d1: sp.Expr, x: sp.Symbol, alpha: sp.Rational, tail):
    """A proof that a run which did not settle in LONG_RUN steps still converges.

    ``tail`` are the last iterates (mpmath numbers). Returns (x̄, r, k) when: x̄ is an exact
    real zero of L′, the tail's distance to x̄ shrinks at every step, and for every x with
    0 < |x − x̄| ≤ r (r the last distance) 0 < α L′(x)/(x − x̄) < 2, decided by SymPy over
    that interval and confirmed at sample points. Then |g(x) − x̄| < |x − x̄| for the step map
    g(x) = x − αL′(x) on the whole interval, so the distance keeps shrinking, the iterates
    converge, and their limit, a zero of L′ in the interval, is x̄ (the only one there).
    k is the order of the first derivative of L that is not 0 at x̄. None when any part fails.
    """
    try:
        roots = sp.solveset(d1, x, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if not isinstance(roots, sp.FiniteSet) or not roots:
        return None
    last = tail[-1]
    star = min(roots, key=lambda r: abs(mpmath.mpf(sp.Float(r, 30)) - last))
    dist = [abs(v - mpmath.mpf(sp.Float(star, 60))) for v in tail]
    if not all(b < a for a, b in zip(dist, dist[1:])) or dist[-1] == 0:
        return None
    radius = sp.Rational(str(mpmath.nstr(dist[-1] * (1 + mpmath.mpf(10) ** -6), 12)))
    ratio = sp.cancel(alpha * d1 / (x - star))
    if ratio.has(sp.zoo, sp.nan) or sp.denom(ratio).subs(x, star) == 0:
        return None   # L′(x)/(x − x̄) not defined at x̄ (x̄ is no simple zero SymPy can cancel)
    interval = sp.Interval(star - radius, star + radius)
    try:
        low = sp.solveset(ratio <= 0, x, interval)
        high = sp.solveset(ratio >= 2, x, interval)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if not (low.is_subset(sp.FiniteSet(star)) and high is sp.S.EmptySet):
        return None
    # the same at numbers: the step map moves every sampled point closer to x̄
    g = sp.lambdify([x], x - alpha * d1, modules="mpmath", docstring_limit=0)
    with mpmath.workdps(40):
        c, r = mpmath.mpf(sp.Float(star, 45)), mpmath.mpf(radius.p) / radius.q
        for i in range(1, 41):
            for side in (-1, 1):
                pt = c + side * r * i / 40
                if not abs(g(pt) - c) < abs(pt - c):
                    raise VerificationFailed("?", "converges", "the step map does not move a point "
                                             "closer to the limit, though SymPy said it does")
    # L′ < 0 left of x̄ and > 0 right of it (the ratio is positive): x̄ is a strict local
    # minimum, so the first derivative of L not 0 there has an even order and is positive
    order = None
    derivative = sp.diff(d1, x)
    for k in range(2, 13):
        value = sp.simplify(derivative.subs(x, star))
        if value != 0:
            if k % 2 or not value > 0:
                raise VerificationFailed("?", "converges", "every step moves closer to the limit, "
                                         "but the limit is not a minimum of L")
            order = k
            break
        derivative = sp.diff(derivative, x)
    return star, radius, order


def _no_stationary_point(d1: sp.Expr, x: sp.Symbol) -> bool:
    """L′ is continuous on the real line and has no real zero: then no run has a limit (a
    limit x̄ of x_{t+1} = x_t − αL′(x_t) would have L′(x̄) = 0)."""
    from sympy.calculus.util import continuous_domain

    try:
        return (sp.solveset(d1, x, sp.S.Reals) is sp.S.EmptySet
                and continuous_domain(d1, x, sp.S.Reals) == sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        return False


def _beyond(d, limit, x0, alpha, tol):
    """The first t with |x_t − limit| < tol, following the run (at 50 digits) up to
    MAX_TOLERANCE_STEPS steps; None when it takes longer."""
    with mpmath.workdps(50):
        a = mpmath.mpf(alpha.p) / alpha.q
        x = mpmath.mpf(x0.p) / x0.q
        c = mpmath.mpf(sp.Float(limit, 55))
        for t in range(MAX_TOLERANCE_STEPS + 1):
            if abs(x - c) < tol:
                return t
            x = x - a * d(x)
    return None


def _float(v):
    return None if v is None else sp.Float(mpmath.nstr(v, 20), 20)


def solve(problem, spec: NumericSpec) -> Solution:
    pid = problem.id
    x = spec.symbol
    loss = spec.loss_expr
    d1 = sp.diff(loss, x)
    d2 = sp.diff(d1, x)
    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    checks = list(check_derivative(pid, "derivative", loss, d1, x, scope))
    f, d, dd = _evaluator(loss, x), _evaluator(d1, x), _evaluator(d2, x)
    runs, answers = [], [Answer("derivative", d1)]
    for written, alpha in spec.alphas:
        label = f"[{spec.step_name}={written}]"
        low = _run(d, spec.init, alpha, spec.steps, 50)
        high = _run(d, spec.init, alpha, spec.steps, 80)
        for t, (p, q) in enumerate(zip(low, high)):
            if (p is None) != (q is None) or \
                    p is not None and abs(p - q) > mpmath.mpf(10) ** -12 * max(1, abs(q)):
                raise VerificationFailed(pid, "iterates" + label,
                                         f"x_{t} differs at 50 and 80 digits: the run is too sensitive")
        verdict, limit, kind, at, cycle = _decide(d, dd, spec.init, alpha)
        if verdict == "undefined" and at is not None and at < spec.steps and high[at + 1] is not None:
            raise VerificationFailed(pid, "iterates" + label, "the runs disagree on the domain")
        with mpmath.workdps(50):
            values = tuple(None if v is None else f(v) for v in high)
        tol_steps = None
        exact, radius, order = None, None, 2
        if verdict == "undecided":
            with mpmath.workdps(50):
                tail = _run(d, spec.init, alpha, LONG_RUN, 50)[-100:]
            proved = None if any(v is None for v in tail) else _approach(d1, x, alpha, tail)
            if proved is None and _no_stationary_point(d1, x):
                verdict = "no limit"
                sign = d(mpmath.mpf(spec.init.p) / spec.init.q)
                kind, cycle, limit = ("+oo" if sign < 0 else "-oo"), (), None   # where it heads
            if proved is not None:
                exact, radius, order = proved
                verdict, limit, at, cycle = "converges", mpmath.mpf(sp.Float(exact, 55)), None, ()
                kind = "local minimum"   # shown by the proof (see _approach)
        if spec.tolerance is not None and verdict == "converges":
            tol = mpmath.mpf(spec.tolerance.p) / spec.tolerance.q
            if exact is not None:
                tol_steps = _beyond(d, exact, spec.init, alpha, tol)
            else:
                with mpmath.workdps(50):
                    seq = _run(d, spec.init, alpha, at, 50)
                    tol_steps = next(t for t, v in enumerate(seq) if abs(v - limit) < tol)
        runs.append(NumericRun(written, alpha, tuple(_float(v) for v in high),
                               tuple(_float(v) for v in values), verdict, _float(limit), kind, at,
                               tuple(_float(c) for c in cycle), tol_steps, exact, radius, order))
        answers.append(Answer("iterates" + label, [_float(v) if v is not None else sp.nan for v in high]))
        if verdict != "undecided":   # not seen to settle, and not proved either way: no claim
            answers.append(Answer("converges" + label, sp.true if verdict == "converges" else sp.false))
        if verdict == "converges":
            answers.append(Answer("limit" + label, exact if exact is not None else _float(limit)))
        if tol_steps is not None:
            answers.append(Answer("steps_to_tolerance" + label, sp.Integer(tol_steps)))
    finite = [float(v) for r in runs for v in r.iterates if v is not None]
    start = float(spec.init)
    # the frame is set by the runs that stay bounded; a diverging one is cut at its edge
    bounded = [float(v) for r in runs if r.verdict != "diverges" for v in r.iterates if v is not None]
    span = max([abs(v - start) for v in bounded] + [1.0])
    ymin = max(min(finite), start - 2 * span)
    ymax = min(max(finite), start + 2 * span)
    if ymax - ymin < 1e-9:
        ymin, ymax = ymin - 1, ymax + 1
    points = []
    for r in runs:
        kept = []
        for t, v in enumerate(r.iterates):
            if v is None:
                break
            y = float(v)
            if not ymin <= y <= ymax:  # drawn up to where the line crosses the frame
                edge = ymax if y > ymax else ymin
                y0 = kept[-1][1]
                kept.append((t - 1 + (edge - y0) / (y - y0), edge))
                break
            kept.append((float(t), y))
        points.append(tuple(kept))
    body = NumericSolution("numeric", spec, sp.Symbol(spec.step_name, positive=True), loss, d1, d2,
                           tuple(runs), LONG_RUN, tuple(points), ymin, ymax,
                           any(v is None for r in runs for v in r.iterates), MAX_TOLERANCE_STEPS)
    checks += ["iterates computed at 50 and at 80 digits (they agree to the digits shown)",
               f"convergence decided by running {LONG_RUN} steps: no closed-form rate"]
    if any(r.exact_limit is not None for r in runs):
        checks.append("a slow approach proved: every step moves closer to the limit on an interval "
                      "around it (SymPy over the interval, and at 80 points)")
    if any(r.verdict == "no limit" for r in runs):
        checks.append("no limit: L′ is continuous and has no real zero (SymPy)")
    return Solution(problem, tuple(answers), body, tuple(checks))
