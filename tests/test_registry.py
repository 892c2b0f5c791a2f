"""Every registry entry: derivative against independent finite differences, limits far out,
and the teacher forms that must come out of the derivation (not be stored)."""

import mpmath
import pytest
import sympy as sp

from symderiv.derive.derivative import solve_one
from symderiv.library.activations import ACTIVATIONS
from symderiv.library.losses import LOSSES

x = sp.Symbol("x", real=True)
SCALAR = [name for name, e in ACTIVATIONS.items() if not e.vector]
PARAMS = {"a": sp.Rational(1, 10), "beta": sp.Rational(3, 2), "alpha": sp.Rational(7, 10),
          "tau": sp.Rational(1, 4), "delta": sp.Rational(1, 2), "y": sp.Rational(3, 10)}
POINTS = [-2.7, -1.3, -0.45, 0.35, 0.9, 2.2]  # none on a kink of any entry


def numeric(expr):
    subs = {s: PARAMS[s.name] for s in expr.free_symbols if s.name in PARAMS}
    var = [s for s in expr.free_symbols if s.name not in PARAMS]
    return sp.lambdify(var, expr.subs(subs), modules="mpmath"), var


@pytest.mark.parametrize("name", SCALAR)
def test_activation_derivative_matches_finite_differences(name):
    result = solve_one(name)
    f, _ = numeric(result.definition)
    d, dvars = numeric(result.derivative)
    mpmath.mp.dps = 40
    for p in POINTS:
        expected = mpmath.diff(f, mpmath.mpf(p))
        got = d(mpmath.mpf(p)) if dvars else result.derivative.subs(
            {s: PARAMS[s.name] for s in result.derivative.free_symbols if s.name in PARAMS})
        assert abs(complex(expected) - complex(got)) < 1e-12, (name, p)


@pytest.mark.parametrize("name", SCALAR)
def test_activation_limits_match_evaluation_far_out(name):
    result = solve_one(name, limits=True)
    assert [lim.written for lim in result.limits] == ["+oo", "-oo"]
    for lim in result.limits:
        d = result.derivative.subs({s: PARAMS[s.name] for s in result.derivative.free_symbols
                                    if s.name in PARAMS})
        value = lim.value.subs({s: PARAMS[s.name] for s in lim.value.free_symbols if s.name in PARAMS})
        fn = sp.lambdify(x, d, modules="mpmath")
        with mpmath.workdps(30):
            far = fn(mpmath.mpf(10 ** 4 if lim.point == sp.oo else -10 ** 4))
        assert abs(float(far) - float(value)) < 1e-6, (name, lim.written, far, value)


@pytest.mark.parametrize("name, plus, minus", [
    ("relu", 1, 0), ("leaky_relu", 1, sp.Symbol("a")), ("sigmoid", 0, 0), ("tanh", 0, 0),
    ("softplus", 1, 0), ("elu", 1, 0), ("gelu", 1, 0), ("silu", 1, 0), ("softsign", 0, 0),
    ("hard_tanh", 0, 0), ("identity", 1, 1),
])
def test_known_limit_values(name, plus, minus):
    """Textbook values; leaky ReLU's are 1 at +oo and a at -oo (seed 000 swaps them)."""
    result = solve_one(name, limits=True)
    values = {lim.written: str(lim.value) for lim in result.limits}
    assert values == {"+oo": str(plus), "-oo": str(minus)}


def _teacher(name):
    return solve_one(name).teacher


def test_teacher_form_sigmoid_is_sigma_times_one_minus_sigma():
    t = _teacher("sigmoid")
    s = sp.Function(r"\sigma")(x)
    assert sp.expand(t.expr - s * (1 - s)) == 0


def test_teacher_form_tanh_is_one_minus_tanh_squared():
    t = _teacher("tanh")
    th = list(t.meaning)[0]
    assert sp.expand(t.expr - (1 - th ** 2)) == 0


def test_teacher_form_tanh_from_its_exponential_definition():
    """The AMA564 form (e^{2x}-1)/(e^{2x}+1) gets the same treatment as the registry tanh."""
    t = solve_one("(exp(2*x) - 1)/(exp(2*x) + 1)").teacher
    f = sp.Function("f")(x)
    assert sp.expand(t.expr - (1 - f ** 2)) == 0


def test_teacher_form_softplus_is_sigmoid_of_beta_x():
    t = _teacher("softplus")
    beta = sp.Symbol("beta", positive=True)
    assert t.expr == sp.Function(r"\sigma")(beta * x)


def test_teacher_form_softmax_jacobian():
    result = solve_one("softmax")
    form = result.jacobian_form
    i, j = form.i, form.j
    s = form.component
    assert sp.expand(form.entry - s(i) * (sp.KroneckerDelta(i, j) - s(j))) == 0
    assert form.checked_sizes == (3, 4)


def test_user_defined_function_gets_teacher_form():
    """A function the registry does not know: f = 2/(1+e^{-x}) gives f' = f(2 - f)/2."""
    t = solve_one("2/(1 + exp(-x))").teacher
    f = sp.Function("f")(x)
    assert t is not None
    assert sp.expand(t.expr - f * (2 - f) / 2) == 0


def test_gelu_teacher_form_uses_phi():
    t = _teacher("gelu")
    Phi, phi = sp.Function(r"\Phi")(x), sp.Function(r"\varphi")(x)
    assert sp.expand(t.expr - (Phi + x * phi)) == 0


LOSS_FILE = """
[meta]
title = "losses"
[[problem]]
id = "L"
kind = "derivative"
functions = [%s]
[problem.assume]
y = "0 < y < 1"
"""


def test_every_loss_derivative_matches_finite_differences(write_toml):
    """The engine on every loss, as a function of the prediction x with target y in (0, 1)."""
    from symderiv.solve import solve_set
    from symderiv.spec import load

    names = [n for n in sorted(LOSSES) if n != "hinge"]
    path = write_toml(LOSS_FILE % ", ".join(f'"{n}"' for n in names))
    (solution,) = solve_set(load(path))
    by_name = {r.name: r for r in solution.body}
    assert sorted(by_name) == names
    mpmath.mp.dps = 40
    for name, r in by_name.items():
        f, _ = numeric(r.definition)
        d, _ = numeric(r.derivative)
        for p in (0.05, 0.62, 0.81, 0.2):  # away from the kinks at y = 0.3 and y ± delta
            expected = mpmath.diff(f, mpmath.mpf(p))
            assert abs(complex(expected) - complex(d(mpmath.mpf(p)))) < 1e-10, (name, p)


def test_check_loss_derivative_is_tau_branches():
    """ρ_τ(y − ŷ) differentiated in ŷ: −τ below y, 1 − τ above, a kink at ŷ = y."""
    r = solve_one("check")
    pieces = [str(p) for p, _ in r.derivative.args]
    assert pieces == ["-tau", "1 - tau"]
    assert [str(k.point) for k in r.kinks] == ["y"] and r.kinks[0].differentiable is False
