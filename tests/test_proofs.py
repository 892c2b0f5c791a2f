"""Proofs and gradient-descent analysis: checked steps, an injected broken step, and the
step-size analysis against a direct simulation."""

import json
from fractions import Fraction

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.derive import proofs
from symderiv.derive.proofs import ProofStep, identity
from symderiv.errors import VerificationFailed

from .conftest import PROBLEMS, ROOT


@pytest.mark.parametrize("name", sorted(proofs.THEOREMS))
def test_every_theorem_checks(name):
    thm = proofs.theorem(name)
    checked = proofs.check_proof("t", thm.steps({}))
    kinds = [c.step.check for c in checked]
    assert "sympy" in kinds and "numeric" in kinds
    assert all(c.detail for c in checked if c.step.check in ("sympy", "numeric"))


def test_gd_rate_with_general_step():
    checked = proofs.check_proof("t", proofs.theorem("gd_smooth_rate").steps({"step": "eta"}))
    assert any("eta" in c.step.name for c in checked)
    # the statement and the instance test are the η version, not the 1/L one
    thm = proofs.theorem("gd_smooth_rate")
    assert thm.stated({"step": "eta"}).endswith(
        r"\le \frac{2\{f(\theta^0) - \bar f\}}{\eta T}$.")
    assert r"\frac{2L\{" in thm.stated({})
    instances = next(c for c in checked if c.step.name == "instances")
    assert instances.detail.startswith(r"gradient descent with steps $\eta$ drawn from $(0, 1/L]$")


def test_the_eta_instance_test_catches_the_1_over_L_bound(monkeypatch):
    """With η < 1/L the bound 2L(f⁰ − f̄)/T is not implied; the instances test the η bound
    2(f⁰ − f̄)/(ηT), so a run that used the wrong step would be caught (here: η = 2/L)."""
    from symderiv.derive.proofs import gd_smooth_rate

    real = gd_smooth_rate.run_gd
    monkeypatch.setattr(gd_smooth_rate, "run_gd",
                        lambda grad, theta, L, steps, eta=None: real(grad, theta, L, steps, 2.2 / L))
    with pytest.raises(proofs.StepFailed, match="instance"):
        gd_smooth_rate._instances(True)()


def test_gd_rate_key_identity_is_the_one_the_seed_needs():
    """f − G/L + (L/2)·G/L² = f − G/(2L), with G = ‖∇f(θᵏ)‖² ≥ 0."""
    L = sp.Symbol("L", positive=True)
    G = sp.Symbol("G", nonnegative=True)
    f = sp.Symbol("f")
    assert sp.simplify(f - G / L + L / 2 * G / L ** 2 - (f - G / (2 * L))) == 0
    step = proofs.theorem("gd_smooth_rate").steps({})[2]
    assert step.check == "sympy" and step.run()


def test_a_broken_step_fails_naming_the_step():
    thm = proofs.theorem("gd_smooth_rate")
    L = sp.Symbol("L", positive=True)
    G = sp.Symbol("G", nonnegative=True)
    broken = ProofStep("wrong constant", "$f - G/L$", "deliberately wrong", "sympy",
                       identity(-G / L + L / 2 * G / L ** 2, -G / L))
    with pytest.raises(VerificationFailed) as err:
        proofs.check_proof("3", thm.steps({})[:3] + [broken])
    assert str(err.value).startswith("problem 3: step 4 (wrong constant): verification failed")


@pytest.mark.slow
def test_every_proof_in_problems_is_verified():
    for path in PROBLEMS:
        result = CliRunner().invoke(main, ["solve", str(path), "--json"])
        assert result.exit_code == 0, result.output
        for p in json.loads(result.stdout)["problems"]:
            if p["kind"] == "proof":
                assert p["verified"] is True, (path.name, p["id"])


def _simulate(x, y, alpha, w0, steps):
    w = Fraction(w0)
    out = [w]
    for _ in range(steps):
        w = w - alpha * (x * w - y) * x
        out.append(w)
    return out


@pytest.mark.parametrize("x, y, alphas, w0", [
    ("1", "100", ["0.5", "1.5", "2.5"], "0"),
    ("2", "3", ["0.1", "0.25", "0.3", "0.5", "0.6"], "1"),
    ("0.5", "-4", ["1", "4", "7", "9"], "2"),
])
def test_gd_analysis_against_direct_simulation(x, y, alphas, w0, write_toml):
    path = write_toml(f'''
[meta]
title = "gd"
[[problem]]
id = "g"
kind = "gd_analysis"
loss = "(x*w - y)**2/2"
param = "w"
init = {w0}
alphas = [{", ".join(alphas)}]
steps = 12
tolerance = 0.01
[problem.data]
x = {x}
y = {y}
''')
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)["problems"][0]["answers"]
    X, Y = Fraction(x), Fraction(y)
    h = X * X
    w_star = Y / X
    assert sp.parse_expr(answers["converges"]["sympy"]) == sp.Interval.open(0, sp.Rational(2) / sp.Rational(h.numerator, h.denominator))
    assert sp.parse_expr(answers["oscillates"]["sympy"]) == sp.Interval.open(sp.Rational(h.denominator, h.numerator), sp.oo)
    for a in alphas:
        alpha = Fraction(a)
        seq = _simulate(X, Y, alpha, w0, 12)
        got = sp.parse_expr(answers[f"iterates[alpha={a}]"]["sympy"])
        assert [sp.Rational(v.numerator, v.denominator) for v in seq] == list(got)
        errors = [abs(v - w_star) for v in seq]
        n = sp.parse_expr(answers[f"steps_to_tolerance[alpha={a}]"]["sympy"])
        if abs(1 - alpha * h) >= 1:
            assert n == sp.oo
        else:
            first = next(t for t in range(100) if abs(1 - alpha * h) ** t * abs(Fraction(w0) - w_star) < Fraction("0.01"))
            assert n == first
            if first <= 12:
                assert errors[first] < Fraction("0.01") and (first == 0 or errors[first - 1] >= Fraction("0.01"))


def test_nndl_q4_values():
    result = CliRunner().invoke(main, ["solve", str(ROOT / "problems" / "nndl_hw1.toml"), "--json"])
    q4 = next(p for p in json.loads(result.stdout)["problems"] if p["id"] == "Q4")["answers"]
    assert q4["converges"]["sympy"] == "Interval.open(0, 2)"
    assert q4["oscillates"]["sympy"] == "Interval.open(1, oo)"
    assert q4["diverges"]["sympy"] == "Interval.open(2, oo)"
    assert sp.parse_expr(q4["iterates[alpha=0.5]"]["sympy"])[:3] == [0, 50, 75]
    assert sp.parse_expr(q4["iterates[alpha=1.5]"]["sympy"])[:3] == [0, 150, 75]
    assert sp.parse_expr(q4["iterates[alpha=2.5]"]["sympy"])[:3] == [0, 250, -125]
    assert q4["steps_to_tolerance[alpha=0.5]"]["sympy"] == "7"
    assert q4["steps_to_tolerance[alpha=2.5]"]["sympy"] == "oo"


def test_cli_stops_on_a_broken_proof_step(monkeypatch, tmp_path):
    """A proof whose step fails is never rendered: with --strict the build stops naming the
    step (without it the part is marked "Not solved": tests/test_keep_going.py)."""
    from dataclasses import replace

    real = proofs.theorem

    def broken_theorem(name):
        thm = real(name)
        bad = ProofStep("bad algebra", "$1 = 2$", "deliberately wrong", "sympy",
                        identity(sp.Integer(1), sp.Integer(2)))
        return replace(thm, steps=lambda o: thm.steps(o) + [bad])

    monkeypatch.setattr(proofs, "theorem", broken_theorem)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(ROOT / "problems" / "ama564_a1.toml"), "-o",
                                       str(out), "--strict"])
    assert result.exit_code == 1
    assert "problem 2: step 9 (bad algebra): verification failed: 1 ≠ 2" in result.stderr
    assert not out.exists()


PROGRAM_TEXT = ("SymPy", "sympy", "Sum(", "**", "f[", "f_(", "fbar", "integrate(", "rsolve", "\\texttt")


@pytest.mark.parametrize("name", sorted(proofs.THEOREMS))
def test_checks_are_stated_in_mathematics(name):
    """What a step checked is printed for students: an identity in LaTeX, never program text."""
    checked = proofs.check_proof("t", proofs.theorem(name).steps({}))
    for c in checked:
        for bad in PROGRAM_TEXT:
            assert bad not in c.detail, (c.step.name, c.detail)
        if c.step.check == "sympy":
            assert "$" in c.detail and c.detail.count("$") % 2 == 0, c.detail


def test_identity_detail_is_typeset_by_the_printer_in_the_questions_names():
    L = sp.Symbol("L", positive=True)
    fk = sp.Symbol("f_k", real=True)
    G = sp.Symbol("G", nonnegative=True)
    run = identity(fk - G / (2 * L) + G / (2 * L), fk, names={fk: r"f(\theta^{k})"})
    assert run() == r"$f(\theta^{k}) = f(\theta^{k})$"
    assert identity(G * L / L, G)() == "$G = G$"


def test_pointwise_step_uses_the_questions_loss():
    """AMA564 Q2 writes ρ_τ(Y − f(X)); the key never introduces an undefined ℓ(Y, q)."""
    steps = proofs.theorem("quantile_minimizer").steps({})
    pointwise = next(s for s in steps if s.name == "pointwise")
    assert r"\rho_\tau\left(Y - f(X)\right)" in pointwise.claim
    assert r"\rho_\tau\left(Y - q\right)" in pointwise.claim
    assert r"\ell" not in pointwise.claim


def test_gd_plot_says_where_a_curve_leaves_the_range(write_toml, tmp_path):
    from symderiv.render import render_document
    from symderiv.solve import solve_set
    from symderiv.spec import load

    path = write_toml('''
[meta]
title = "t"
[[problem]]
id = "q"
kind = "gd_analysis"
loss = "(x*w - y)**2/2"
init = 0
alphas = [0.5, 2.5]
steps = 6
[problem.data]
x = 1
y = 100
''')
    ps = load(path)
    (sol,) = solve_set(ps)
    b = sol.body
    assert b.leaves[0] is None and b.plot_points[0] == b.runs[0].iterates
    t, value = b.leaves[1]
    assert not b.plot_ymin <= float(value) <= b.plot_ymax
    assert all(b.plot_ymin <= float(v) <= b.plot_ymax for v in b.runs[1].iterates[:t])
    assert len(b.plot_points[1]) == t + 1
    text = render_document(ps, [sol])
    assert rf"The curve for $\alpha = 2.5$ leaves this range at $t = {t}$" in text
    assert "SymPy" not in text and "restrict y to domain" not in text
