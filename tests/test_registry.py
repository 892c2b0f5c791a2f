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


def test_registry_tanh_needs_no_teacher_form():
    """tanh′ = 1 − tanh² comes straight from the rule: no "here tanh(z) = tanh(z)" rewrite."""
    r = solve_one("tanh", var="z")
    z = sp.Symbol("z", real=True)
    assert r.teacher is None
    assert r.derivative == 1 - sp.tanh(z) ** 2


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
    r = solve_one("2/(1 + exp(-x))")
    assert _rewrite_rules(r)[0] == "factor"
    _assert_steps_equal_derivative(r)


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


# --- displayed definitions, teacher steps, plots (issue 10, issue 17) ------------------

from symderiv.library.display import explicit  # noqa: E402
from symderiv.render import tex  # noqa: E402


@pytest.mark.parametrize("name", SCALAR)
def test_displayed_definition_is_the_registry_expression_in_the_problem_variable(name):
    """CS189 2(c) printed `Let ReLU(z) = max{0, x}`: the definition must use the variable asked for."""
    r = solve_one(name, var="z")
    z = sp.Symbol("z", real=True)
    assert sp.simplify((explicit(r.shown) - r.definition).rewrite(sp.exp)) == 0
    assert "x" not in {s.name for s in r.shown.free_symbols}
    assert z in r.shown.free_symbols
    assert "x" not in __import__("re").sub(r"\\[A-Za-z]+|\\text\{[^}]*\}", "", tex(r.shown))


def test_cs189_definitions_print_in_z():
    assert tex(solve_one("identity", var="z").shown) == "z"
    assert tex(solve_one("relu", var="z").shown) == r"\max\{0, z\}"
    assert tex(solve_one("tanh", var="z").shown) == r"\frac{e^{z} - e^{- z}}{e^{z} + e^{- z}}"


def _rewrite_rules(r):
    """The rule column of the lines after the rule-based derivation (the teacher steps)."""
    out = []
    for line in r.lines:
        if line.note is not None or set(line.rules) & {"factor", "rewrite", "expand",
                                                        "divide numerator and denominator by"}:
            out.append(" ".join(line.rules) + (f" {line.note}" if line.note is not None
                                               and not isinstance(line.note, sp.Equality) else ""))
            if isinstance(line.note, sp.Equality):
                out[-1] = f"{line.note.lhs} = {line.note.rhs}"
    return out


def _assert_steps_equal_derivative(r):
    """Every displayed line, made explicit, equals f′ at random points (independently of the engine)."""
    meaning = dict(r.teacher.meaning)
    rng = __import__("random").Random(7)
    for line in r.lines[1:]:
        e = explicit(line.expr.xreplace(meaning)).doit()
        for _ in range(4):
            at = {s: sp.Rational(rng.randint(-250, 250), 100) for s in e.free_symbols | r.derivative.free_symbols}
            at.update({s: sp.Rational(rng.randint(30, 300), 100) for s in at if s.name == "beta"})
            assert abs(complex(sp.N((e - r.derivative).subs(at), 30))) < 1e-20, (line, at)
        if isinstance(line.note, sp.Equality):
            assert sp.simplify(line.note.lhs.xreplace(meaning) - line.note.rhs) == 0


def test_sigmoid_teacher_form_is_shown_as_steps():
    """e^{−x}/(1+e^{−x})² = 1/(1+e^{−x}) · e^{−x}/(1+e^{−x}) = σ(x)(1 − σ(x)), each step named."""
    r = solve_one("sigmoid")
    s = sp.Function(r"\sigma")(x)
    assert _rewrite_rules(r) == ["factor", r"definition of \sigma",
                                 f"{1 - s} = {sp.exp(-x) / (1 + sp.exp(-x))}"]
    assert sp.expand(sp.Mul(*r.lines[-1].expr.args) - s * (1 - s)) == 0
    assert tex(r.lines[-1].expr) == tex(r.teacher.expr) == r"\sigma(x) \left(1 - \sigma(x)\right)"
    assert tex(r.lines[-4].expr) == r"\frac{e^{- x}}{\left(1 + e^{- x}\right)^{2}}"
    assert tex(r.lines[-3].expr) == r"\frac{1}{1 + e^{- x}} \cdot \frac{e^{- x}}{1 + e^{- x}}"
    _assert_steps_equal_derivative(r)


def test_tanh_from_exponentials_teacher_form_is_shown_as_steps():
    r = solve_one("(exp(2*x) - 1)/(exp(2*x) + 1)")
    rules = _rewrite_rules(r)
    assert rules[0] == "factor" and rules[-1] == "expand" and len(rules) == 4
    assert any("2/(exp(2*x) + 1)" in t for t in rules)
    _assert_steps_equal_derivative(r)


def test_softplus_teacher_form_is_shown_as_steps():
    r = solve_one("softplus")
    beta = sp.Symbol("beta", positive=True)
    assert _rewrite_rules(r) == [f"divide numerator and denominator by {sp.exp(beta * x)}",
                                 r"definition of \sigma"]
    _assert_steps_equal_derivative(r)


def test_softmax_jacobian_is_derived_for_general_n():
    """Quotient rule on s_i = e^{x_i}/Σ_k e^{x_k} with indices; every line checked here at n = 2..5."""
    from symderiv.derive.teacher import concrete

    r = solve_one("softmax")
    steps = r.index
    assert steps is not None
    assert [ln.rules for ln in steps.lines][1] == ("quotient",)
    assert steps.lines[-1].rules == ("definition of",)
    i, j = steps.i, steps.j
    assert sp.expand(steps.result - steps.s(i) * (sp.KroneckerDelta(i, j) - steps.s(j))) == 0
    for n in (2, 3, 5):
        xs = sp.symbols(f"x1:{n + 1}", real=True)
        total = sum(sp.exp(v) for v in xs)
        comps = [sp.exp(v) / total for v in xs]
        for a in range(1, n + 1):
            for b in range(1, n + 1):
                want = sp.diff(comps[a - 1], xs[b - 1])
                for line in steps.lines:
                    got = concrete(line.expr, steps, n, a, b, list(xs), comps)
                    at = {v: sp.Rational(k + 1, 3) for k, v in enumerate(xs)}
                    assert abs(sp.N((got - want).subs(at), 30)) < 1e-20, (n, a, b, line)
    assert "steps checked entry by entry at n = 3" in " ".join(r.checks)


PLOTS = """
[meta]
title = "plots"
[[problem]]
id = "p"
kind = "derivative"
functions = [{ name = "f", expr = "log(x)" }, { name = "g", expr = "sqrt(x)" }, { name = "h", expr = "1/x" }]
plot = true
"""


def test_plots_of_log_sqrt_and_reciprocal_do_not_crash(write_toml, tmp_path):
    """Issue 17: plots sampled only where the function is real and finite, split at poles."""
    from click.testing import CliRunner

    from symderiv.cli import main

    path = write_toml(PLOTS)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    text = (out / "p.tex").read_text()
    assert "Drawn only where $f(x)$ and $f'(x)$ are real and finite." in text
    assert "The curves of $h(x)$ and $h'(x)$ leave the window" in text
    assert r"\addlegendentry{$f'(x)$}" in text

    from symderiv.solve import solve_set
    from symderiv.spec import load

    (solution,) = solve_set(load(path))
    f, g, h = solution.body
    assert all(v is None for xv, v in f.plot.function if xv <= 0)
    assert all(v is None for xv, v in f.plot.derivative if xv <= 0)  # 1/x is not ln's derivative there
    assert [v for xv, v in g.plot.function if xv == 4] == [2.0]
    assert [v for xv, v in h.plot.function if xv == 0] == [None]
    assert h.plot.clipped == (True, True) and h.plot.ymax == 6.0


def test_derive_x_to_the_1000_does_not_crash():
    """Issue 17: the finite-difference check overflowed floating point."""
    from click.testing import CliRunner

    from symderiv.cli import main

    result = CliRunner().invoke(main, ["derive", "x**1000"])
    assert result.exit_code == 0, result.output
    assert "derivative: 1000*x**999" in result.output


FORBIDDEN = ["_squared", "half_", "Symbol(", "Sum(", "**", "sympy", r"\texttt", "((", "relu", "bce",
             r"\ell_", "rulename{identity}"]


@pytest.mark.slow
def test_derivative_keys_carry_no_program_text(write_toml):
    """Every registry function and loss rendered: no registry names, SymPy syntax or tool names."""
    from symderiv.render import render_document
    from symderiv.solve import solve_set
    from symderiv.spec import load

    names = [n for n in list(ACTIVATIONS) + list(LOSSES)]
    path = write_toml(LOSS_FILE.replace('id = "L"', 'id = "L"\nplot = true') % ", ".join(f'"{n}"' for n in names))
    ps = load(path)
    text = render_document(ps, solve_set(ps))
    body = text[text.index(r"\begin{document}"):]
    for pattern in FORBIDDEN:
        assert pattern not in body, pattern
    assert r"\sigma\left(x\right)" not in body and r"\sigma(x)" in body


@pytest.mark.parametrize("expr, args, code, expected", [
    ("sqrt(x)", ["--limits"], 2, "sqrt(x) is not defined for x < 0"),   # one line, no traceback
    ("log(x)", ["--limits"], 2, "log(x) is not defined for x <= 0"),
    ("exp(x**2)", ["--limits"], 0, "limit at +oo: oo"),            # beyond floating point far out
    ("x**x", [], 0, "derivative: x**x*(log(x) + 1)"),              # exact rational powers were slow
])
def test_derive_hostile_everyday_input(expr, args, code, expected):
    from click.testing import CliRunner

    from symderiv.cli import main

    result = CliRunner().invoke(main, ["derive", expr, *args, "--timeout", "30"])
    assert result.exit_code == code, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_slowly_approached_limit_is_verified():
    """1/(2√x) → 0 at +∞ is 0.005 at x = 10⁴: checked further out instead of refused."""
    from symderiv.derive.derivative import DerivativeSpec, FunctionSpec, solve
    from symderiv.spec import Problem

    spec = DerivativeSpec((FunctionSpec("f", expr="sqrt(x)"),), "x", ("+oo",))
    (result,) = solve(Problem(id="p", kind="derivative", spec=spec)).body
    assert [str(lim.value) for lim in result.limits] == ["0"]


def test_silu_teacher_form_is_collected_and_shown_as_steps():
    r = solve_one("silu")
    s = sp.Function(r"\sigma")(x)
    assert tex(r.teacher.expr) == r"\sigma(x) \left(x \left(1 - \sigma(x)\right) + 1\right)"
    assert sp.expand(r.teacher.expr - s * (1 + x * (1 - s))) == 0
    assert _rewrite_rules(r)[:2] == ["factor", r"definition of \sigma"]
    _assert_steps_equal_derivative(r)


def test_a_wrong_teacher_step_is_caught(monkeypatch):
    """The displayed rewrite is verified line by line: a step off by a sign stops the key."""
    from symderiv.derive import derivative
    from symderiv.derive.steps import Line
    from symderiv.verify import VerificationFailed

    real = derivative.teacher_steps

    def wrong(d, form, var):
        lines = real(d, form, var)
        bad = lines[1]
        return [lines[0], Line(-bad.expr, bad.rules, bad.note), *lines[2:]]

    monkeypatch.setattr(derivative, "teacher_steps", wrong)
    with pytest.raises(VerificationFailed):
        solve_one("sigmoid")


@pytest.mark.slow
def test_a_derivation_never_restates_its_left_side():
    """CS189 2(c) once printed d/dz tanh(z) = d/dz tanh(z) = 1 − tanh²(z)."""
    from symderiv.render import render_document
    from symderiv.solve import solve_set
    from symderiv.spec import load

    from pathlib import Path

    ps = load(Path(__file__).resolve().parent.parent / "problems" / "cs189_hw.toml")
    text = render_document(ps, solve_set(ps))
    assert r"\frac{d}{dz}\tanh(z) &= 1 - \tanh^{2}(z) \tag*{\rulename{hyperbolic}}" in text
    assert r"&= \frac{d}{dz} \tanh" not in text
