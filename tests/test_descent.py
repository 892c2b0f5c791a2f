"""gd_analysis beyond one parameter: quadratics in several parameters, heavy-ball momentum and
non-quadratic losses in one parameter, each against a direct simulation written here."""

import json
import math
from fractions import Fraction as F

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.errors import VerificationFailed
from symderiv.solve import solve_set
from symderiv.spec import load


def _answers(path) -> dict:
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return {p["id"]: {k: sp.parse_expr(v["sympy"]) for k, v in p["answers"].items()}
            for p in json.loads(result.stdout)["problems"]}


def _simulate(A, b, x0, eta, steps, beta=F(0)):
    """θ_{k+1} = θ_k − η(Aθ_k − b) + β(θ_k − θ_{k−1}), θ_{−1} = θ_0, in exact fractions."""
    n = len(x0)
    prev, cur = list(x0), list(x0)
    out = [list(cur)]
    for _ in range(steps):
        g = [sum(A[i][j] * cur[j] for j in range(n)) - b[i] for i in range(n)]
        nxt = [cur[i] - eta * g[i] + beta * (cur[i] - prev[i]) for i in range(n)]
        prev, cur = cur, nxt
        out.append(list(cur))
    return out


def _as_lists(matrices):
    return [[F(int(sp.fraction(v)[0]), int(sp.fraction(v)[1])) for v in m] for m in matrices]


def _eig2(A):
    """The eigenvalues of a symmetric 2 × 2 matrix from its trace and determinant."""
    tr = sp.Rational(A[0][0] + A[1][1])
    det = sp.Rational(A[0][0] * A[1][1] - A[0][1] * A[1][0])
    disc = sp.sqrt(tr ** 2 - 4 * det)
    return (tr - disc) / 2, (tr + disc) / 2


QUADRATICS = [
    # A, b, x0, step sizes (as written)
    ([[2, 0], [0, 20]], [0, 0], [1, 1], ["0.01", "0.05", "0.099", "0.11"]),
    ([[3, 1], [1, 3]], [1, -1], [2, 0], ["0.1", "0.25", "0.45", "0.6"]),
    ([[2, 1], [1, 3]], [1, 0], [1, 1], ["0.2", "0.5", "0.6"]),          # irrational eigenvalues
    ([[4, -2], [-2, 5]], [3, 1], [0, 0], ["0.1", "0.3", "0.35"]),
]


@pytest.mark.parametrize("A, b, x0, alphas", QUADRATICS)
def test_several_parameters_against_direct_simulation(A, b, x0, alphas, write_toml):
    path = write_toml(f'''
[meta]
title = "gd"
[[problem]]
id = "q"
kind = "gd_analysis"
A = {A}
b = {b}
init = {x0}
alphas = [{", ".join(alphas)}]
steps = 12
''')
    got = _answers(path)["q"]
    lo, hi = _eig2(A)
    assert sp.simplify(got["largest_stable_step"] - 2 / hi) == 0
    assert got["converges"] == sp.Interval.open(0, sp.simplify(got["largest_stable_step"]))
    assert sp.simplify(got["condition_number"] - hi / lo) == 0
    assert sp.simplify(got["optimal_step"] - 2 / (lo + hi)) == 0
    assert [sp.simplify(v) for v in got["eigenvalues"]] == [sp.simplify(lo), sp.simplify(hi)]
    Af = [[F(v) for v in row] for row in A]
    bf = [F(v) for v in b]
    star = sp.Matrix(A).solve(sp.Matrix(b))
    assert got["minimizer"] == star
    for a in alphas:
        eta = F(a)
        assert _as_lists(got[f"iterates[alpha={a}]"]) == _simulate(Af, bf, [F(v) for v in x0], eta, 12)
        rate = max(abs(1 - sp.Rational(a) * lo), abs(1 - sp.Rational(a) * hi))
        assert sp.N(got[f"rate[alpha={a}]"] - rate, 30) == 0
        # the error norm never exceeds rate^k times the first one (A is symmetric)
        seq = _simulate(Af, bf, [F(v) for v in x0], eta, 12)
        e = [math.dist([float(t) for t in s], [float(t) for t in star]) for s in seq]
        r = float(rate)
        assert all(e[k] <= r ** k * e[0] * (1 + 1e-9) + 1e-12 for k in range(13))


@pytest.mark.parametrize("A", [[[2, 0], [0, 20]], [[2, 1], [1, 3]], [[4, -2], [-2, 5]]])
def test_largest_stable_step_is_where_the_iteration_starts_to_diverge(A, write_toml):
    """Run here (in floating point) just below and just above the step symderiv reports."""
    path = write_toml(f'''
[meta]
title = "gd"
[[problem]]
id = "q"
kind = "gd_analysis"
A = {A}
init = [1, 1]
alphas = [0.01]
''')
    limit = float(_answers(path)["q"]["largest_stable_step"])
    lo, hi = (float(v) for v in _eig2(A))
    assert limit == pytest.approx(2 / hi, rel=1e-12)

    def final_error(eta):
        x = [1.0, 0.5]
        for _ in range(3000):
            g = [A[0][0] * x[0] + A[0][1] * x[1], A[1][0] * x[0] + A[1][1] * x[1]]
            x = [x[0] - eta * g[0], x[1] - eta * g[1]]
        return math.hypot(*x)

    assert final_error(limit * 0.995) < 1e-3
    assert final_error(limit * 1.005) > 1e3


def test_momentum_matches_d2l_and_its_condition(write_toml):
    """d2l 12.6: f = 0.1 x1² + 2 x2², x0 = (−5, −2), η = 0.6, β = 0.5 prints x1 = 0.007188,
    x2 = 0.002553 after 20 steps; β = 0.25 prints x1 = −0.126340, x2 = −0.186632."""
    text = '''
[meta]
title = "m"
[[problem]]
id = "m"
kind = "gd_analysis"
method = "momentum"
beta = {beta}
loss = "0.1*x1**2 + 2*x2**2"
params = ["x1", "x2"]
init = [-5, -2]
alphas = [0.6, 0.74, 0.76]
step_name = "eta"
steps = 20
'''
    half = _answers(write_toml(text.format(beta=0.5), "half.toml"))["m"]
    quarter = _answers(write_toml(text.format(beta=0.25), "quarter.toml"))["m"]
    x20 = half["iterates[eta=0.6]"][20]
    assert (round(float(x20[0]), 6), round(float(x20[1]), 6)) == (0.007188, 0.002553)
    x20 = quarter["iterates[eta=0.6]"][20]
    assert (round(float(x20[0]), 6), round(float(x20[1]), 6)) == (-0.12634, -0.186632)
    # converges iff 0 < ηλ < 2 + 2β for every λ: λmax = 4
    assert half["converges"] == sp.Interval.open(0, sp.Rational(3, 4))
    assert quarter["converges"] == sp.Interval.open(0, sp.Rational(5, 8))
    A = [[F(1, 5), F(0)], [F(0), F(4)]]
    for got, beta in ((half, F(1, 2)), (quarter, F(1, 4))):
        for a in ("0.6", "0.74", "0.76"):
            sim = _simulate(A, [F(0), F(0)], [F(-5), F(-2)], F(a), 20, beta)
            assert _as_lists(got[f"iterates[eta={a}]"]) == sim
            # the rate: the largest |root| of r² − (1 + β − ηλ) r + β over λ ∈ {0.2, 4}
            r = sp.Symbol("r")
            moduli = [abs(complex(root)) for lam in (sp.Rational(1, 5), 4)
                      for root in sp.Poly(r ** 2 - (1 + sp.Rational(beta) - sp.Rational(a) * lam) * r
                                          + sp.Rational(beta), r).nroots(n=30)]
            assert float(got[f"rate[eta={a}]"]) == pytest.approx(max(moduli), rel=1e-12)
            assert (max(moduli) < 1) == (sp.Rational(a) in got["converges"])


@pytest.mark.parametrize("beta", ["0", "0.3", "0.9"])
def test_momentum_condition_at_sample_values(beta, write_toml):
    """One parameter, λ = 2: converges iff η < (2 + 2β)/2 = 1 + β, checked here by running."""
    path = write_toml(f'''
[meta]
title = "m"
[[problem]]
id = "m"
kind = "gd_analysis"
method = "momentum"
beta = {beta}
loss = "(w - 3)**2"
init = 0
alphas = [0.5]
''')
    got = _answers(path)["m"]
    b = F(beta)
    assert got["converges"] == sp.Interval.open(0, 1 + sp.Rational(b))
    for eta, converges in ((float(1 + b) * 0.97, True), (float(1 + b) * 1.03, False)):
        prev = cur = 0.0
        for _ in range(4000):
            prev, cur = cur, cur - eta * 2 * (cur - 3) + float(b) * (cur - prev)
            if abs(cur) > 1e12:
                break
        assert (abs(cur - 3) < 1e-6) == converges


def test_a_quadratic_written_out_is_read_exactly(write_toml):
    path = write_toml('''
[meta]
title = "q"
[[problem]]
id = "q"
kind = "gd_analysis"
loss = "x**2 + 10*y**2 + x*y - 3*x + 2"
params = ["x", "y"]
init = [0, 1]
alphas = [0.05]
''')
    got = _answers(path)["q"]
    assert got["A"] == sp.Matrix([[2, 1], [1, 20]])
    assert got["b"] == sp.Matrix([3, 0])
    assert got["minimizer"] == sp.Matrix([[2, 1], [1, 20]]).solve(sp.Matrix([3, 0]))


def test_a_wrong_iterate_is_refused(monkeypatch, write_toml, tmp_path):
    from symderiv.derive import descent_nd

    real = descent_nd._gd_sequence

    def off_by_one_digit(*args, **kwargs):
        seq = real(*args, **kwargs)
        seq[3] = seq[3] + sp.Matrix([sp.Rational(1, 1000), 0])
        return seq

    monkeypatch.setattr(descent_nd, "_gd_sequence", off_by_one_digit)
    path = write_toml('''
[meta]
title = "q"
[[problem]]
id = "q"
kind = "gd_analysis"
A = [[2, 0], [0, 4]]
init = [1, 1]
alphas = [0.1]
''')
    with pytest.raises(VerificationFailed, match="two simulations differ at k = 3"):
        solve_set(load(path))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(out), "--strict"])
    assert result.exit_code == 1 and not out.exists()
    # by default the rest of the key is written and the part is marked, with no iterate shown
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert "problem q: not solved" in result.stderr
    tex = (out / f"{path.stem}.tex").read_text()
    assert "Not solved" in tex and "0.001" not in tex


def test_a_wrong_rate_or_stable_step_is_refused():
    """The long run and the run around the largest stable step catch a claim that is false."""
    from symderiv.derive import descent_nd

    A, b = sp.Matrix([[2, 0], [0, 4]]), sp.Matrix([0, 0])
    star, init = sp.Matrix([0, 0]), sp.Matrix([1, 1])
    # η = 0.6: the x2 factor is 1 − 2.4 = −1.4; a claimed rate of 1/2 is refused
    with pytest.raises(VerificationFailed, match="the error grew"):
        descent_nd._check_long_run("q", "[alpha=0.6]", A, b, init, star, sp.Rational(6, 10), 0,
                                   sp.Rational(1, 2))
    dirs = descent_nd._directions("q", A)
    assert descent_nd._check_stability("q", A, b, star, dirs, 0, sp.Rational(1, 2))
    # claiming 2/λmin = 1 as the largest stable step: at 0.98 the iteration diverges
    with pytest.raises(VerificationFailed, match="largest_stable_step"):
        descent_nd._check_stability("q", A, b, star, dirs, 0, sp.Integer(1))


DSC40A = '''
[meta]
title = "n"
[[problem]]
id = "n"
kind = "gd_analysis"
loss = "5*t**4 - t**3 - 5*t**2 + 2*t - 9"
param = "t"
init = 0
alphas = [0.01, 0.05, 0.08, 0.2]
steps = 8
tolerance = 0.001
'''


def test_non_quadratic_loss_is_run_and_says_so(write_toml):
    path = write_toml(DSC40A)
    got = _answers(path)["n"]

    def grad(t):
        return 20 * t ** 3 - 3 * t ** 2 - 10 * t + 2

    for a in ("0.01", "0.05", "0.08", "0.2"):
        t = F(0)
        seq = [t]
        for _ in range(8):
            t = t - F(a) * grad(t)
            seq.append(t)
        shown = got[f"iterates[alpha={a}]"]
        for k, (exact, value) in enumerate(zip(seq, shown)):
            if k and abs(seq[k - 1]) > 10 ** 100:  # the table stops past 10^100
                assert value is sp.nan
            else:
                assert float(value) == pytest.approx(float(exact), rel=1e-15, abs=1e-15)
    assert [bool(got[f"converges[alpha={a}]"]) for a in ("0.01", "0.05", "0.08", "0.2")] == \
        [True, True, False, False]
    limit = float(got["limit[alpha=0.01]"])
    assert abs(grad(limit)) < 1e-12 and 60 * limit ** 2 - 6 * limit - 10 > 0   # a local minimum
    assert limit == pytest.approx(-0.7269847098690433, rel=1e-14)
    # |t_k − t̄| < 0.001 first at k = 35 for α = 0.01 (run here in floating point)
    t, k = 0.0, 0
    while abs(t - limit) >= 0.001:
        t, k = t - 0.01 * grad(t), k + 1
    assert got["steps_to_tolerance[alpha=0.01]"] == k == 35
    ps = load(path)
    (sol,) = solve_set(ps)
    from symderiv.render import render_document

    text = render_document(ps, [sol])
    assert "no closed-form rate" in text and "checked by running the iteration" in text
    verdicts = {r.written: r.verdict for r in sol.body.runs}
    assert verdicts == {"0.01": "converges", "0.05": "converges", "0.08": "cycles", "0.2": "diverges"}
    cycle = sorted(float(c) for c in sol.body.runs[2].cycle)
    a, b = cycle  # a 2-cycle: each point maps to the other
    assert b - 0.08 * grad(b) == pytest.approx(a, abs=1e-12)
    assert a - 0.08 * grad(a) == pytest.approx(b, abs=1e-12)


@pytest.mark.parametrize("fields, message", [
    ('A = [[1, 2], [0, 1]]', "A must be symmetric"),
    ('A = [[1, 2], [2, 1]]', "positive definite"),
    ('A = [[1, 0], [0, 1]]\ninit = [1, 2, 3]', "expected 2 numbers"),
    ('loss = "x**2*y**2"\nparams = ["x", "y"]', "covers quadratic losses, and it has degree 4"),
    ('loss = "x**2 - y**2"\nparams = ["x", "y"]', "positive definite"),
    ('loss = "x**2 + y**2"\nparams = ["x", "y"]\nmethod = "momentum"\nbeta = 1', "0 <= beta < 1"),
    ('loss = "x**2 + y**2"\nparams = ["x", "y"]\nbeta = 0.5', 'set method = "momentum"'),
    ('loss = "x**2 + y**2"\nparams = ["x", "y"]\nmethod = "nesterov"', "is not a method"),
    ('loss = "x**2 + y**2 + z"\nparams = ["x", "y"]', "give values for z in data"),
    ('A = [[1, 0], [0, 1]]\nparams = ["x", "y}\\\\input{z"]', "is not a name"),
    ('loss = "x**2 + y**2"\nparams = ["x", "x"]', "named twice"),
])
def test_bad_input_is_one_line(fields, message, write_toml):
    path = write_toml(f'''
[meta]
title = "b"
[[problem]]
id = "b"
kind = "gd_analysis"
alphas = [0.1]
{fields}
''')
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "problem b" in line and message in line, line


def test_eigenvalues_without_a_real_closed_form_are_an_engine_limit(write_toml):
    """A positive definite A whose eigenvalues need complex radicals (an irreducible cubic):
    not refused as bad input, but named as what symderiv cannot do (exit 1)."""
    path = write_toml('''
[meta]
title = "c"
[[problem]]
id = "c"
kind = "gd_analysis"
A = [[2, 1, 0], [1, 3, 1], [0, 1, 5]]
init = [1, 1, 1]
alphas = [0.1]
''')
    assert sp.Matrix([[2, 1, 0], [1, 3, 1], [0, 1, 5]]).is_positive_definite
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "symderiv: problem c: symderiv cannot write the eigenvalues of A in closed form without "
        "complex numbers (they are the roots of λ^3 - 10*λ^2 + 29*λ - 23 = 0); the analysis in "
        "several parameters needs them exactly")


# --- a loss that is not quadratic: runs that do not settle in the long run ---------------------

NONQUAD = """
[meta]
title = "t"
[[problem]]
id = "p"
kind = "gd_analysis"
statement = "Run gradient descent."
loss = "{loss}"
param = "w"
init = {init}
alphas = [{alpha}]
steps = 5
{extra}
"""


def _first_below(step, x, tol, limit=200_000):
    for t in range(limit):
        if abs(x) < tol:
            return t
        x = step(x)
    return None


@pytest.mark.parametrize("alpha, init", [(0.1, 1), (0.3, 1), (0.05, -2)])
def test_gd_on_w4_converges_slowly_and_says_so(alpha, init, write_toml, tmp_path):
    """w⁴ has L″(0) = 0: after 2000 steps the iterates are still ~0.02 from 0, which the key
    called "no convergence seen" and the JSON key published as converges = False. It is proved
    now: 0 < αL′(w)/w = 4αw² < 2 near 0, so every step moves closer to 0."""
    path = write_toml(NONQUAD.format(loss="w**4", init=init, alpha=alpha, extra="tolerance = 0.01"))
    answers = _answers(path)["p"]
    label = f"[alpha={alpha}]"
    assert answers["converges" + label] == sp.true
    assert answers["limit" + label] == 0
    expected = _first_below(lambda w: w - alpha * 4 * w ** 3, float(init), 0.01)   # plain floats
    assert answers["steps_to_tolerance" + label] == expected
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    text = (tmp_path / "out" / "p.tex").read_text()
    assert r"\textbf{converges}, slowly, to $\bar{w} = 0$, a local minimum of $L$" in text
    assert r"$L^{( 4 )}(\bar{w}) > 0$" in text and "no convergence seen" not in text


def test_gd_without_a_stationary_point_has_no_limit(write_toml, tmp_path):
    """log(1 + e^{−w}) decreases everywhere: the iterates grow like log t, never settle and never
    pass 10¹²; no point can be their limit since L′ has no zero."""
    path = write_toml(NONQUAD.format(loss="log(1 + exp(-w))", init=0, alpha=1, extra=""))
    answers = _answers(path)["p"]
    assert answers["converges[alpha=1]"] == sp.false
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    text = (tmp_path / "out" / "p.tex").read_text()
    assert r"$L' < 0$ everywhere, so $w_{t}$ increases at every step" in text
    assert r"$w_{t} \to +\infty$" in text


def test_a_run_neither_settled_nor_proved_publishes_no_verdict(write_toml):
    """w⁴/4 − w²/2 with α = 1 from 1/2 wanders; the key says what it saw and claims nothing."""
    path = write_toml(NONQUAD.format(loss="w**4/4 - w**2/2", init=0.5, alpha=1, extra=""))
    answers = _answers(path)["p"]
    assert "iterates[alpha=1]" in answers and "converges[alpha=1]" not in answers


def test_the_slow_approach_is_refused_when_the_step_map_does_not_shrink(monkeypatch):
    """The proof's numeric half: if SymPy's interval answer were wrong, the sampled points
    would catch it."""
    from symderiv.derive import descent_numeric as D

    w = sp.Symbol("w", real=True)
    monkeypatch.setattr(D.sp, "solveset", lambda *a, **k: sp.FiniteSet(0) if a[0] == 4 * w ** 3
                        else sp.S.EmptySet)
    import mpmath
    tail = [mpmath.mpf(2) - mpmath.mpf(i) / 1000 for i in range(100)]   # far out: 4αw² > 2
    with pytest.raises(VerificationFailed):
        D._approach(4 * w ** 3, w, sp.Integer(1), tail)
