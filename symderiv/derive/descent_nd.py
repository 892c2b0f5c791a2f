"""``gd_analysis`` on a quadratic in several parameters, plain or with momentum (heavy ball).

f(θ) = ½ θᵀAθ − bᵀθ + c with A symmetric positive definite (given as ``A`` and ``b``, or
read off a loss written out, such as x² + 10y²: A is its Hessian, b = −∇f(0), c = f(0)).
With θ* = A⁻¹b, gradient descent θ_{k+1} = θ_k − η(Aθ_k − b) gives

    θ_k − θ* = (I − ηA)^k (θ₀ − θ*),

so along the eigenvector vᵢ of A (eigenvalue λᵢ) the error is multiplied by 1 − ηλᵢ each step:
it converges iff 0 < η < 2/λ_max, at the rate max(|1 − ηλ_min|, |1 − ηλ_max|).

Heavy ball θ_{k+1} = θ_k − η∇f(θ_k) + β(θ_k − θ_{k−1}) (θ₋₁ = θ₀): along vᵢ the error obeys
e_{k+1} = (1 + β − ηλᵢ)e_k − βe_{k−1}, with characteristic roots r² − (1 + β − ηλᵢ)r + β = 0;
for 0 ≤ β < 1 both roots lie inside the unit circle iff 0 < ηλᵢ < 2 + 2β.

Every claim is checked: the quadratic form against the loss, the eigenvalues by SymPy and by
mpmath, the iterates by two independent exact simulations (and the closed form), the
conditions by SymPy's inequality solver, by the characteristic roots at sample steps and by
running the iteration just below and just above the largest stable step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..errors import BadInput, SymderivError, VerificationFailed
from .steps import Answer, Solution

ETA = sp.Symbol("eta", positive=True)
LAM = sp.Symbol("lambda", positive=True)
R = sp.Symbol("r")
MAX_N = 6
PLOT_SAMPLES = 72


@dataclass(frozen=True)
class QuadSpec:
    params: tuple[str, ...]
    loss: str                       # as written ("" when A and b are given)
    loss_expr: sp.Expr              # f over the parameter symbols
    A: sp.Matrix
    b: sp.Matrix
    c: sp.Rational
    init: sp.Matrix
    alphas: tuple[tuple[str, sp.Rational], ...]
    steps: int
    tolerance: sp.Rational | None
    method: str                     # "gd" or "momentum"
    beta: sp.Rational
    beta_written: str
    step_name: str                  # the step size's name in the question: alpha or eta


@dataclass(frozen=True)
class Direction:
    """One eigen-direction of A: λ, an eigenvector (exact, as SymPy gives it)."""

    value: sp.Expr
    vector: sp.Matrix
    axis: sp.Symbol | None = None   # the coordinate when the eigenvector is a coordinate axis


@dataclass(frozen=True)
class DirectionRun:
    direction: Direction
    factor: sp.Expr                 # GD: 1 − ηλ; momentum: the larger root modulus
    roots: tuple[sp.Expr, ...]      # momentum: the characteristic roots (empty for GD)
    behaviour: str


@dataclass(frozen=True)
class StepRun:
    written: str
    eta: sp.Rational
    iterates: tuple[sp.Matrix, ...]
    values: tuple[sp.Rational, ...]  # f(θ_k)
    directions: tuple[DirectionRun, ...]
    rate: sp.Expr                    # the spectral radius of the iteration
    behaviour: str
    slowest: tuple[Direction, ...]   # the directions whose factor has the largest modulus
    steps_to_tolerance: sp.Expr | None


@dataclass(frozen=True)
class Contour:
    level: sp.Expr
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class QuadSolution:
    kind_part: str
    spec: QuadSpec
    symbols: tuple[sp.Symbol, ...]
    step: sp.Symbol
    loss: sp.Expr
    gradient: sp.Matrix
    minimizer: sp.Matrix
    f_min: sp.Expr
    directions: tuple[Direction, ...]
    lam_min: sp.Expr
    lam_max: sp.Expr
    condition: sp.Expr
    largest_step: sp.Expr            # 2/λ_max, or (2 + 2β)/λ_max with momentum
    converges: sp.Set
    best_step: sp.Expr               # GD: 2/(λ_min + λ_max)
    best_rate: sp.Expr               # GD: (κ − 1)/(κ + 1)
    monotone_step: sp.Expr           # GD: 1/λ_max (no direction oscillates below it)
    stability: tuple[tuple[float, float, float, float], ...]  # (η, ‖e₀‖, ‖e_K‖, K) below/above
    runs: tuple[StepRun, ...]
    contours: tuple[Contour, ...]
    paths: tuple[tuple[tuple[float, float], ...], ...]
    leaves: tuple[int | None, ...]
    window: tuple[float, float, float, float]
    equal_axes: bool


# ── reading the problem ──────────────────────────────────────────────────────────────────────

def quadratic_form(loss: sp.Expr, symbols: list[sp.Symbol]):
    """(A, b, c) with loss = ½θᵀAθ − bᵀθ + c exactly, or a reason why the loss is not one."""
    if not loss.is_polynomial(*symbols):
        return "it is not a polynomial in " + ", ".join(s.name for s in symbols)
    poly = sp.Poly(loss, *symbols)
    if poly.total_degree() > 2:
        return "it has degree " + str(poly.total_degree()) + ", not 2"
    if not all(c.is_Rational for c in poly.coeffs()):
        return "its coefficients must be numbers (give the other symbols' values in data)"
    zero = {s: 0 for s in symbols}
    A = sp.Matrix([[sp.diff(loss, p, q) for q in symbols] for p in symbols])
    b = sp.Matrix([-sp.diff(loss, p).subs(zero) for p in symbols])
    c = loss.subs(zero)
    theta = sp.Matrix(symbols)
    rebuilt = (theta.T * A * theta)[0] / 2 - (b.T * theta)[0] + c
    if sp.expand(rebuilt - loss) != 0:  # pragma: no cover - a polynomial of degree 2 is one
        raise VerificationFailed("?", "quadratic form", "½θᵀAθ − bᵀθ + c differs from the loss")
    return A, b, c


def check_matrix(A: sp.Matrix, where: str) -> None:
    if A != A.T:
        raise BadInput(f"{where} must be symmetric (f = ½θᵀAθ − bᵀθ uses only its symmetric part)")
    if not A.is_positive_definite:
        values = A.eigenvals()
        shown = ", ".join(sp.sstr(v) for v in values if not v.has(sp.I)) or "not all positive"
        raise BadInput(f"{where} has eigenvalues {shown}: the analysis needs a positive definite "
                       "quadratic (all eigenvalues > 0), so that a unique minimizer exists")


# ── solving ──────────────────────────────────────────────────────────────────────────────────

def _directions(pid: str, A: sp.Matrix) -> tuple[Direction, ...]:
    out = []
    if any(v.has(sp.I) or v.has(sp.CRootOf) for v in A.eigenvals()):
        lam = sp.Symbol("λ")
        raise SymderivError(f"problem {pid}: symderiv cannot write the eigenvalues of A in closed "
                            f"form without complex numbers (they are the roots of "
                            f"{sp.sstr(A.charpoly(lam).as_expr()).replace('**', '^')} = 0); "
                            "the analysis in several "
                            "parameters needs them exactly")
    for value, _, vectors in A.eigenvects():
        value = sp.nsimplify(sp.simplify(value)) if value.is_Rational else sp.radsimp(sp.simplify(value))
        for v in vectors:
            v = sp.simplify(v)
            scale = next(e for e in v if e != 0)
            if scale.is_Rational:  # first nonzero entry positive, integer entries when rational
                v = v / scale
                den = sp.ilcm(1, 1, *[sp.fraction(e)[1] for e in v]) if all(e.is_Rational for e in v) else 1
                v = sp.simplify(v * den)
            if any(not _zero(e) for e in A * v - value * v):
                raise VerificationFailed(pid, "eigenvalues", f"{sp.sstr(v)} is not an eigenvector")
            out.append(Direction(value, v))
    out.sort(key=lambda d: float(d.value))
    # numerically, independently: mpmath's symmetric eigensolver
    with mpmath.workdps(30):
        M = mpmath.matrix([[mpmath.mpf(e.p) / e.q for e in A.row(i)] for i in range(A.rows)])
        numeric = sorted(mpmath.eigsy(M)[0])
        for d, n in zip(out, numeric):
            if abs(mpmath.mpf(sp.N(d.value, 30)) - n) > mpmath.mpf(10) ** -20 * max(1, abs(n)):
                raise VerificationFailed(pid, "eigenvalues", f"SymPy gives {d.value}, mpmath {n}")
    if len(out) != A.rows:
        raise VerificationFailed(pid, "eigenvalues", "A is not diagonalizable")
    return tuple(out)


def _gd_sequence(A, b, theta0, eta, steps, beta=0):
    seq = [theta0]
    prev = theta0
    for _ in range(steps):
        cur = seq[-1]
        nxt = cur - eta * (A * cur - b) + beta * (cur - prev)
        prev = cur
        seq.append(nxt)
    return seq


def _gradient_sequence(grad, symbols, theta0, eta, steps, beta=0):
    """Independently: the gradient of the loss as written, in the velocity form of momentum
    (v_{k+1} = βv_k − η∇f(θ_k), θ_{k+1} = θ_k + v_{k+1}, v₀ = 0)."""
    seq = [list(theta0)]
    v = [sp.Integer(0)] * len(symbols)
    for _ in range(steps):
        point = dict(zip(symbols, seq[-1]))
        g = [gi.subs(point) for gi in grad]
        v = [beta * vi - eta * gi for vi, gi in zip(v, g)]
        seq.append([t + vi for t, vi in zip(seq[-1], v)])
    return [sp.Matrix(s) for s in seq]


def _float_run(A, b, theta0, eta, steps, beta=0.0):
    """The iteration in floating point (for long runs): the error norms ‖θ_k − θ*‖."""
    n = len(theta0)
    Af = [[float(A[i, j]) for j in range(n)] for i in range(n)]
    bf = [float(x) for x in b]
    cur = [float(x) for x in theta0]
    prev = list(cur)
    out = []
    for _ in range(steps):
        g = [sum(Af[i][j] * cur[j] for j in range(n)) - bf[i] for i in range(n)]
        nxt = [cur[i] - eta * g[i] + beta * (cur[i] - prev[i]) for i in range(n)]
        prev, cur = cur, nxt
        if any(abs(x) > 1e150 for x in cur):
            return cur, math.inf
        out.append(cur)
    return cur, None


def _error(theta, star) -> float:
    return math.sqrt(sum((float(t) - float(s)) ** 2 for t, s in zip(theta, star)))


def _roots(beta, eta, lam):
    """The characteristic roots of r² − (1 + β − ηλ)r + β."""
    return tuple(sp.roots(sp.Poly(R ** 2 - (1 + beta - eta * lam) * R + beta, R), multiple=True))


def _modulus(roots) -> sp.Expr:
    mods = [sp.nsimplify(sp.Abs(r)) if sp.Abs(r).is_Rational else sp.Abs(r) for r in roots]
    best = max(mods, key=lambda m: float(sp.N(m, 30)))
    return sp.simplify(best)


def _zero(expr) -> bool:
    """Exactly zero: by arithmetic when rational, else after expanding and rationalizing
    denominators, and by 50-digit evaluation (algebraic numbers from the eigenvalues)."""
    expr = sp.sympify(expr, strict=True)
    if expr.is_Rational:
        return expr == 0
    if sp.expand(sp.radsimp(expr)) == 0:
        return True
    value = sp.N(expr, 50)
    return value.is_number and abs(complex(value)) < 1e-40


def _gd_behaviour(r) -> str:
    if r == 0:
        return "reaches its minimum in one step"
    if r > 0 and r < 1:
        return "converges monotonically"
    if r < 0 and r > -1:
        return "converges, oscillating (overshoots each step)"
    if r == -1:
        return "oscillates with constant amplitude"
    if r < -1:
        return "diverges, oscillating with growing amplitude"
    return "diverges"


def _momentum_behaviour(roots, radius) -> str:
    complex_pair = any(not sp.im(r).is_zero for r in roots)
    if float(sp.N(radius, 30)) < 1:
        if complex_pair:
            return "converges, spiralling (complex roots)"
        if all(float(sp.N(r)) >= 0 for r in roots):
            return "converges without oscillating"
        return "converges, oscillating"
    if _zero(radius - 1):
        return "does not converge (a root on the unit circle)"
    return "diverges"


def _with_axis(d: Direction, symbols) -> Direction:
    """The direction named by its coordinate when the eigenvector is a coordinate axis."""
    nonzero = [i for i, e in enumerate(d.vector) if e != 0]
    if len(nonzero) == 1:
        return Direction(d.value, d.vector, symbols[nonzero[0]])
    return d


def solve(problem, spec: QuadSpec) -> Solution:
    pid = problem.id
    symbols = tuple(sp.Symbol(p, real=True) for p in spec.params)
    A, b = spec.A, spec.b
    n = A.rows
    theta = sp.Matrix(symbols)
    loss = spec.loss_expr
    grad = sp.Matrix([sp.diff(loss, s) for s in symbols])
    if sp.expand(grad - (A * theta - b)) != sp.zeros(n, 1):
        raise VerificationFailed(pid, "gradient", "∇f differs from Aθ − b")
    star = A.LUsolve(b)
    if A * star != b or grad.subs(dict(zip(symbols, star))) != sp.zeros(n, 1):
        raise VerificationFailed(pid, "minimizer", "∇f(θ*) ≠ 0")
    f_min = loss.subs(dict(zip(symbols, star)))
    dirs = tuple(_with_axis(d, symbols) for d in _directions(pid, A))
    lam_min, lam_max = dirs[0].value, dirs[-1].value
    beta = spec.beta
    momentum = spec.method == "momentum"
    kappa = sp.simplify(lam_max / lam_min)
    limit = sp.simplify((2 + 2 * beta) / lam_max)
    converges = sp.Interval.open(0, limit)
    _check_conditions(pid, dirs, beta, momentum, converges)
    stability = _check_stability(pid, A, b, star, dirs, beta, limit)
    runs = []
    answers = [Answer("A", A), Answer("b", b), Answer("minimizer", star),
               Answer("eigenvalues", [d.value for d in dirs]), Answer("condition_number", kappa),
               Answer("largest_stable_step", limit), Answer("converges", converges)]
    best_step = sp.simplify(2 / (lam_min + lam_max))
    best_rate = sp.simplify((kappa - 1) / (kappa + 1))
    if not momentum:
        rate_best = max((abs(1 - best_step * d.value) for d in dirs), key=lambda v: float(v))
        if not _zero(rate_best - best_rate):
            raise VerificationFailed(pid, "optimal_step", "max |1 − ηλ| at η = 2/(λmin + λmax) "
                                     "is not (κ − 1)/(κ + 1)")
        answers += [Answer("optimal_step", best_step), Answer("optimal_rate", best_rate)]
    for written, eta in spec.alphas:
        label = f"[{spec.step_name}={written}]"
        seq = _gd_sequence(A, b, spec.init, eta, spec.steps, beta)
        other = _gradient_sequence(grad, symbols, spec.init, eta, spec.steps, beta)
        if seq != other:
            k = next(i for i, (p, q) in enumerate(zip(seq, other)) if p != q)
            raise VerificationFailed(pid, "iterates" + label, f"two simulations differ at k = {k}")
        if not momentum:  # the closed form (I − ηA)^k (θ₀ − θ*)
            M = sp.eye(n) - eta * A
            for k in (1, spec.steps):
                if seq[k] - star != M ** k * (spec.init - star):
                    raise VerificationFailed(pid, "iterates" + label, "closed form disagrees")
        druns = []
        for d in dirs:
            if momentum:
                roots = _roots(beta, eta, d.value)
                radius = _modulus(roots)
                shown = tuple(sp.N(q, 15) for q in roots)
                druns.append(DirectionRun(d, radius, shown, _momentum_behaviour(roots, radius)))
            else:
                r = sp.radsimp(sp.expand(1 - eta * d.value))
                druns.append(DirectionRun(d, r, (), _gd_behaviour(r)))
        rate = max((sp.Abs(x.factor) for x in druns), key=lambda v: float(sp.N(v, 30)))
        if not momentum:
            general = sp.Max(sp.Abs(1 - eta * lam_min), sp.Abs(1 - eta * lam_max))
            if not _zero(general - rate):
                raise VerificationFailed(pid, "rate" + label,
                                         "rate is not max(|1 − ηλmin|, |1 − ηλmax|)")
        inside = eta in converges
        if inside != (float(sp.N(rate, 30)) < 1):
            raise VerificationFailed(pid, "rate" + label, "the rate and the stability interval disagree")
        _check_per_direction(pid, label, seq, star, dirs, druns, momentum)
        _check_long_run(pid, label, A, b, spec.init, star, eta, beta, rate)
        behaviour = ("converges" if inside else
                     "does not converge" if _zero(rate - 1) else "diverges")
        slowest = [x for x in druns if _zero(sp.Abs(x.factor) - rate)]
        tol_steps = _steps_to_tolerance(pid, label, spec, seq, star, dirs, eta, beta, rate)
        values = tuple(loss.subs(dict(zip(symbols, t))) for t in seq)
        runs.append(StepRun(written, eta, tuple(seq), values, tuple(druns), rate, behaviour,
                            tuple(x.direction for x in slowest), tol_steps))
        answers.append(Answer("iterates" + label, list(seq)))
        answers.append(Answer("rate" + label, rate))
        if tol_steps is not None:
            answers.append(Answer("steps_to_tolerance" + label, tol_steps))
    contours, paths, leaves, window, equal = _plot(A, star, f_min, spec.init, dirs, runs, loss, symbols)
    body = QuadSolution("several", spec, symbols, sp.Symbol(spec.step_name, positive=True), loss,
                        grad, star, f_min, dirs, lam_min, lam_max, kappa, limit, converges,
                        best_step, best_rate, sp.simplify(1 / lam_max), stability, tuple(runs),
                        contours, paths, leaves, window, equal)
    checks = ("iterates simulated exactly twice (Aθ − b and the loss's own gradient) and checked "
              "against the closed form",
              "eigenvalues by SymPy and by a numerical eigensolver",
              "stability interval derived by SymPy, checked by the characteristic roots and by "
              "running the iteration just below and just above the largest stable step")
    return Solution(problem, tuple(answers), body, checks)


def _check_conditions(pid, dirs, beta, momentum, claimed) -> None:
    """The interval of stable steps derived again per eigenvalue by SymPy: |1 − ηλ| < 1 (GD),
    or the Schur–Cohn conditions |β| < 1, |1 + β − ηλ| < 1 + β of r² − (1 + β − ηλ)r + β."""
    e = sp.Symbol("e", real=True)
    # derived once for a general eigenvalue λ > 0, then intersected over the eigenvalues
    general = sp.solve_univariate_inequality(sp.Abs(1 + beta - e * LAM) < 1 + beta, e, relational=False)
    if not isinstance(general, sp.Interval) or general.inf != 0:
        raise VerificationFailed(pid, "converges", f"SymPy derives {general} for one eigenvalue")
    derived = sp.Interval.open(0, min((general.sup.subs(LAM, d.value) for d in dirs),
                                      key=lambda v: float(sp.N(v, 30))))
    if not _zero(derived.sup - claimed.sup) or derived.inf != claimed.inf:
        raise VerificationFailed(pid, "converges", f"{claimed} but SymPy derives {derived}")
    if not 0 <= beta < 1:  # pragma: no cover - parse refuses it
        raise VerificationFailed(pid, "converges", "β outside [0, 1)")
    # the characteristic roots at sample products ηλ: inside the unit circle iff 0 < ηλ < 2 + 2β
    for frac in (sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(99, 100), sp.Rational(101, 100),
                 sp.Rational(3, 2)):
        x = frac * (2 + 2 * beta)
        roots = _roots(beta, 1, x)
        radius = max(float(sp.N(sp.Abs(r), 30)) for r in roots)
        if (radius < 1) != (frac < 1):
            raise VerificationFailed(pid, "converges", f"at ηλ = {x} the roots have modulus {radius}")


def _check_stability(pid, A, b, star, dirs, beta, limit):
    """Run the iteration at steps 2% below and above the largest stable step, from a start with
    a component along every eigenvector: the error must shrink below and grow above."""
    start = star
    for d in dirs:
        start = start + d.vector / sp.sqrt(sum(e ** 2 for e in d.vector))
    start = sp.Matrix([sp.nsimplify(sp.N(x, 20), rational=True) for x in start])
    out = []
    K = 400
    for frac, should_shrink in ((0.98, True), (1.02, False)):
        eta = float(sp.N(limit, 20)) * frac
        e0 = _error(start, star)
        end, blown = _float_run(A, b, start, eta, K, float(beta))
        eK = math.inf if blown else _error(end, star)
        if should_shrink != (eK < e0):
            raise VerificationFailed(pid, "largest_stable_step",
                                     f"at step {eta:.6g} the error went from {e0:.3g} to {eK:.3g}")
        out.append((sp.Float(eta, 15), sp.Float(e0, 15), None if blown else sp.Float(eK, 15), K))
    return tuple(out)


def _check_per_direction(pid, label, seq, star, dirs, druns, momentum) -> None:
    """GD: the error's component along each eigenvector is multiplied by 1 − ηλ each step
    (checked exactly on the simulated iterates, through the eigenvector's inner product)."""
    if momentum:
        return
    for d, run in zip(dirs, druns):
        comps = [(d.vector.T * (t - star))[0] for t in seq[:4]]
        for k in range(1, len(comps)):
            if not _zero(comps[k] - run.factor * comps[k - 1]):
                raise VerificationFailed(pid, "iterates" + label,
                                         f"the component along {sp.sstr(d.vector)} is not "
                                         f"multiplied by {run.factor}")


def _check_long_run(pid, label, A, b, init, star, eta, beta, rate) -> None:
    """A long run in floating point agrees with the rate: the error shrinks when it is < 1."""
    rho = float(sp.N(rate, 30))
    e0 = _error(init, star)
    if e0 == 0 or abs(rho - 1) < 1e-12:
        return
    K = min(20000, max(50, int(math.ceil(abs(math.log(1e-6) / math.log(rho))))) if rho > 0 else 50)
    end, blown = _float_run(A, b, init, float(eta), K, float(beta))
    eK = math.inf if blown else _error(end, star)
    # a start orthogonal to the growing direction does not grow: only shrinking is required
    if rho < 1 and not eK < e0:
        raise VerificationFailed(pid, "rate" + label, f"rate {rho:.6g} < 1 but the error grew "
                                 f"from {e0:.3g} to {eK:.3g} in {K} steps")


def _steps_to_tolerance(pid, label, spec, seq, star, dirs, eta, beta, rate):
    """The first k with ‖θ_k − θ*‖ < tolerance, by simulation (floating point past the table,
    exact inside it)."""
    tol = spec.tolerance
    if tol is None:
        return None
    exact = [sum(x ** 2 for x in (t - star)) for t in seq]
    for k, e2 in enumerate(exact):
        if e2 < tol ** 2:
            return sp.Integer(k)
    if float(sp.N(rate, 30)) >= 1:
        return sp.oo
    n = len(star)
    Af = [[float(spec.A[i, j]) for j in range(n)] for i in range(n)]
    bf = [float(x) for x in spec.b]
    cur = [float(x) for x in seq[-1]]
    prev = [float(x) for x in seq[-2]]
    tf = float(tol)
    for k in range(len(seq), 200000):
        g = [sum(Af[i][j] * cur[j] for j in range(n)) - bf[i] for i in range(n)]
        nxt = [cur[i] - float(eta) * g[i] + float(beta) * (cur[i] - prev[i]) for i in range(n)]
        prev, cur = cur, nxt
        err = _error(cur, star)
        if abs(err - tf) < 1e-9 * tf:
            raise VerificationFailed(pid, "steps_to_tolerance" + label,
                                     "the error is too close to the tolerance to decide in floating point")
        if err < tf:
            return sp.Integer(k)
    raise VerificationFailed(pid, "steps_to_tolerance" + label, "not reached in 200000 steps")


def _plot(A, star, f_min, init, dirs, runs, loss, symbols):
    if A.rows != 2:
        return (), (), (), (0.0, 0.0, 0.0, 0.0), False
    sx, sy = float(star[0]), float(star[1])
    c0 = float(loss.subs(dict(zip(symbols, init))) - f_min)
    if c0 <= 0:
        c0 = 1.0
    units = []
    for d in dirs:
        v = [float(sp.N(e, 20)) for e in d.vector]
        norm = math.hypot(*v)
        units.append(([x / norm for x in v], float(sp.N(d.value, 20))))
    contours = []
    for j in range(5):
        level = c0 / 4 ** j
        pts = []
        for i in range(PLOT_SAMPLES + 1):
            t = 2 * math.pi * i / PLOT_SAMPLES
            (u, l1), (w, l2) = units
            a1, a2 = math.sqrt(2 * level / l1), math.sqrt(2 * level / l2)
            pts.append((sx + a1 * math.cos(t) * u[0] + a2 * math.sin(t) * w[0],
                        sy + a1 * math.cos(t) * u[1] + a2 * math.sin(t) * w[1]))
        contours.append(Contour(sp.nsimplify(level) if j == 0 else sp.Float(level, 6), tuple(pts)))
    xs = [p[0] for p in contours[0].points]
    ys = [p[1] for p in contours[0].points]
    for r in runs:  # the frame holds every converging path (momentum need not stay inside)
        if float(sp.N(r.rate, 20)) < 1:
            xs += [float(t[0]) for t in r.iterates]
            ys += [float(t[1]) for t in r.iterates]
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    padx, pady = 0.08 * (xmax - xmin), 0.08 * (ymax - ymin)
    window = (xmin - padx, xmax + padx, ymin - pady, ymax + pady)
    paths, leaves = [], []
    for r in runs:
        pts = [(float(t[0]), float(t[1])) for t in r.iterates]
        out = next((k for k, p in enumerate(pts) if not _inside(p, window)), None)
        if out is not None:  # drawn up to where it crosses the frame
            pts = pts[:out] + [_crossing(pts[out - 1], pts[out], window)]
        paths.append(tuple(pts))
        leaves.append(out)
    ratio = (window[1] - window[0]) / (window[3] - window[2])
    return tuple(contours), tuple(paths), tuple(leaves), window, 0.4 <= ratio <= 2.5


def _inside(p, window) -> bool:
    return window[0] <= p[0] <= window[1] and window[2] <= p[1] <= window[3]


def _crossing(p, q, window):
    """The point where the segment from p (inside the window) to q (outside) leaves it."""
    s = 1.0
    for k, (lo, hi) in enumerate(((window[0], window[1]), (window[2], window[3]))):
        delta = q[k] - p[k]
        if q[k] > hi:
            s = min(s, (hi - p[k]) / delta)
        elif q[k] < lo:
            s = min(s, (lo - p[k]) / delta)
    return (p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1]))
