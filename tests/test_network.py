"""Networks: the AMA564 numbers, every activation/output/loss pairing against sympy.diff of
the composed loss, random networks against finite differences, graphs with skip paths, and
shape errors."""

import dataclasses
import json
import re
import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from symderiv.cli import main
from symderiv.derive.network import Network, backprop
from symderiv.library.activations import ACTIVATIONS
from symderiv.library.losses import LOSSES, vector_loss
from symderiv.verify import mp_value

from .conftest import ROOT

CONSTS = {"a": sp.Rational(1, 10), "beta": sp.Rational(3, 2), "alpha": sp.Rational(7, 10),
          "tau": sp.Rational(1, 4), "delta": sp.Rational(1, 2)}


def _key(path):
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _independent_ama564():
    """Plain-Python forward and backward pass for AMA564 1(b), with exact fractions."""
    F = Fraction
    W1 = [[F("-0.8"), F("0.5"), F(-1)], [F("1.2"), F("-0.7"), F("0.2")]]
    b1 = [F("-0.4"), F("0.9")]
    W2 = [F("0.6"), F("1.1")]
    b2 = F("-0.1")
    x = [F(1), F(2), F(3)]
    y = F("0.33")
    z1 = [sum(w * v for w, v in zip(row, x)) + b for row, b in zip(W1, b1)]
    h1 = [max(F(0), z) for z in z1]
    yhat = sum(w * h for w, h in zip(W2, h1)) + b2
    d = yhat - y
    gW2 = [d * h for h in h1]
    delta1 = [d * w * (1 if z > 0 else 0) for w, z in zip(W2, z1)]
    gW1 = [[dl * v for v in x] for dl in delta1]
    return yhat, d * d / 2, gW1, delta1, gW2, d


@pytest.mark.slow
def test_ama564_1b_values_agree_with_an_independent_computation():
    key = _key(ROOT / "problems" / "ama564_a1.toml")
    answers = next(p for p in key["problems"] if p["id"] == "1b")["answers"]
    yhat, loss, gW1, gb1, gW2, gb2 = _independent_ama564()
    val = lambda label: sp.parse_expr(answers[label]["sympy"])  # noqa: E731
    assert val("forward.yhat") == sp.Rational(133, 100) == sp.Rational(yhat.numerator, yhat.denominator)
    assert val("forward.loss") == sp.Rational(1, 2)
    assert val("grad.W1") == sp.Matrix([[0, 0, 0], [sp.Rational(11, 10), sp.Rational(11, 5), sp.Rational(33, 10)]])
    assert val("grad.W1") == sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in r] for r in gW1])
    assert val("grad.b1") == sp.Matrix([0, sp.Rational(11, 10)])
    assert val("grad.W2") == sp.Matrix([[0, sp.Rational(13, 10)]])
    assert val("grad.b2") == sp.Matrix([1])
    assert val("forward.z1") == sp.Matrix([sp.Rational(-16, 5), sp.Rational(13, 10)])
    assert val("forward.h1") == sp.Matrix([0, sp.Rational(13, 10)])
    for label in ("forward.z2", "backward.dL/dyhat", "backward.dL/dz2", "backward.dL/dz1",
                  "backward.dL/dh1"):
        assert label in answers


def _num(e) -> complex:
    """An exact closed form (a softmax of erf's of rationals …) as a number: its rationals as
    50-digit floats first, so the tree collapses as it is rebuilt instead of being compiled whole."""
    e = sp.sympify(e)
    return complex(sp.N(e.xreplace({a: sp.Float(a, 50) for a in e.atoms(sp.Rational)
                                    if not a.is_Integer}), 30))


def _partials(L, params, values) -> tuple[list[complex], int]:
    """∂L/∂p at ``values`` for every parameter p, independent of the engine.

    L (composed in every parameter) is compiled once to mpmath and differentiated numerically
    at 60 digits, from the left and from the right. Where the two agree (L is smooth in that
    parameter) that is the reference. Where they differ (a kink hit exactly), sympy.diff of L
    gives it, with Heaviside(0) = 0: the engine's convention is the left derivative of each
    activation, which is not the one-sided derivative of the composition in the parameter.
    Returns the references and how many parameters took the exact path."""
    compiled = sp.lambdify(params, L, "mpmath", docstring_limit=0)
    references, kinks = [], 0
    with mpmath.workdps(60):
        point = [mpmath.mpf(v.p) / v.q if v.is_Rational else mpmath.mpf(str(v)) for v in values]
        for i, s in enumerate(params):
            def along(t, i=i):
                moved = list(point)
                moved[i] += t
                return compiled(*moved)

            left = mpmath.diff(along, 0, direction=-1)
            right = mpmath.diff(along, 0, direction=1)
            if abs(left - right) < mpmath.mpf(10) ** -30:
                references.append(complex(left))
                continue
            kinks += 1
            others = {k: v for k, v in zip(params, values) if k != s}
            references.append(_num(sp.diff(L.xreplace(others), s).replace(
                lambda e: isinstance(e, sp.Heaviside),
                lambda e: sp.Heaviside(e.args[0], 0)).xreplace({s: values[i]})))
    return references, kinks


def _composed_check(hidden, output, loss, seed=0, inputs=2, units=1, weights=None) -> int:
    """backprop vs the derivative of the fully composed loss (``_partials``), to the last bit, at a
    random inputs-units-n network; returns how many parameters sat at a kink."""
    rng = random.Random(seed)
    n_out = 3 if ACTIVATIONS[output].vector else 1
    widths = [inputs, units, n_out]
    net = Network(ACTIVATIONS[hidden], ACTIVATIONS[output], loss, CONSTS)
    Ws = [sp.Matrix(widths[k + 1], widths[k], lambda i, j: sp.Rational(rng.randint(-9, 9) or 1, 7))
          for k in range(2)]
    bs = [sp.Matrix(widths[k + 1], 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 13)) for k in range(2)]
    if weights is not None:
        Ws, bs = weights
    x = sp.Matrix([sp.Rational(3, 5), sp.Rational(-4, 5)][:inputs])
    y = sp.Matrix([sp.Rational(1, n_out)] * n_out) if loss in ("bce", "cross_entropy") else \
        sp.Matrix([sp.Rational(2, 5)] * n_out)
    *_, gW, gb = backprop(net, Ws, bs, x, y)
    Wsym = [sp.Matrix(W.rows, W.cols, lambda i, j, k=k: sp.Symbol(f"w{k}{i}{j}", real=True))
            for k, W in enumerate(Ws)]
    bsym = [sp.Matrix(b.rows, 1, lambda i, j, k=k: sp.Symbol(f"b{k}{i}", real=True)) for k, b in enumerate(bs)]
    h = x
    for k in range(2):
        z = Wsym[k] * h + bsym[k]
        h = net.act(net.hidden if k == 0 else net.output, z)
    L = vector_loss(loss, h, y, CONSTS)
    params = [s for S in Wsym + bsym for s in S]
    values = [v for V in Ws + bs for v in V]
    grads = [g for G in gW + gb for g in G]
    references, kinks = _partials(L, params, values)
    for s, g, reference in zip(params, grads, references):
        # both sides rounded to doubles: equal up to the last bit
        assert abs(reference - _num(g)) <= 1e-15 * max(1, abs(reference)), (hidden, output, loss, s, reference, g)
    return kinks


def test_the_composed_reference_catches_a_wrong_backprop(monkeypatch):
    """The reference above can fail: activation derivatives off by a factor 2 are caught."""
    from symderiv.derive import network

    right = network.local_derivative
    monkeypatch.setattr(network, "local_derivative", lambda *a, **k: 2 * right(*a, **k))
    with pytest.raises(AssertionError):
        _composed_check("tanh", "identity", "half_squared", seed=3)


def test_the_composed_reference_at_a_kink_takes_the_exact_left_derivative():
    """x = (3/5, −4/5) and W₁ = (4/7, 3/7), b₁ = 0 put the ReLU unit exactly at its kink: the
    one-sided numeric derivatives in W₁ and b₁ differ there, so sympy.diff gives the reference,
    and backprop's gradient (the left derivative, 0) matches it."""
    R = sp.Rational
    weights = ([sp.Matrix([[R(4, 7), R(3, 7)]]), sp.Matrix([[R(5, 7)]])],
               [sp.Matrix([0]), sp.Matrix([R(1, 13)])])
    assert _composed_check("relu", "identity", "half_squared", weights=weights) == 3


SCALAR = [n for n, e in ACTIVATIONS.items() if not e.vector]


def _valid(output, loss):
    """Pairings that make sense: BCE needs outputs in (0, 1), cross-entropy a softmax output;
    hinge needs ±1 targets and is covered by the derivative tests."""
    if loss == "hinge":
        return False
    if loss == "bce":
        return output in ("sigmoid", "hard_sigmoid")
    if loss == "cross_entropy":
        return output == "softmax"
    return True


COMBINATIONS = [(h, o, l) for h in SCALAR for o in ACTIVATIONS for l in sorted(LOSSES) if _valid(o, l)]


@pytest.mark.slow
@pytest.mark.parametrize("hidden, output, loss", COMBINATIONS)
def test_every_hidden_output_loss_combination_against_composed_sympy_diff(hidden, output, loss):
    """Every registry pairing on a 2-1-n network (small, so the 1,700 cases stay fast)."""
    _composed_check(hidden, output, loss, seed=len(hidden) + len(output) + len(loss))


@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh", "gelu", "elu"])
@pytest.mark.parametrize("output, loss", [("identity", "half_squared"), ("sigmoid", "bce"),
                                          ("softmax", "cross_entropy"), ("tanh", "huber")])
def test_wider_networks_against_composed_sympy_diff(hidden, output, loss):
    _composed_check(hidden, output, loss, seed=1, units=2)


@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.integers(1, 4), min_size=2, max_size=4),
       seed=st.integers(0, 10 ** 6),
       hidden=st.sampled_from(["relu", "sigmoid", "tanh", "leaky_relu", "softplus"]))
@pytest.mark.slow
def test_random_networks_against_finite_differences(widths, seed, hidden):
    rng = random.Random(seed)
    net = Network(ACTIVATIONS[hidden], ACTIVATIONS["identity"], "half_squared", CONSTS)
    L = len(widths) - 1
    Ws = [sp.Matrix(widths[k + 1], widths[k], lambda i, j: sp.Rational(rng.randint(-30, 30), 17))
          for k in range(L)]
    bs = [sp.Matrix(widths[k + 1], 1, lambda i, j: sp.Rational(rng.randint(-30, 30), 19)) for k in range(L)]
    x = sp.Matrix(widths[0], 1, lambda i, j: sp.Rational(rng.randint(-30, 30), 23))
    y = sp.Matrix(widths[-1], 1, lambda i, j: sp.Rational(rng.randint(-30, 30), 29))
    zs, *_, gW, gb = backprop(net, Ws, bs, x, y)
    if any(v == 0 for z in zs[:-1] for v in z) and hidden in ("relu", "leaky_relu"):
        return  # a unit exactly on the kink: finite differences average the two sides

    def fl(M):
        return M.applyfunc(lambda v: sp.Float(v, 50))

    def loss_at(W_list, b_list):  # at 50 digits: a step of 1e-12 leaves ~1e-24 of error
        h = fl(x)
        for k in range(L):
            h = net.act(net.hidden if k < L - 1 else net.output, fl(W_list[k]) * h + fl(b_list[k]))
        return vector_loss("half_squared", h, fl(y), CONSTS)

    step = sp.Rational(1, 10 ** 12)
    for k in range(L):
        for idx in range(len(Ws[k])):
            plus = [W.copy() for W in Ws]
            minus = [W.copy() for W in Ws]
            plus[k][idx] += step
            minus[k][idx] -= step
            fd = (loss_at(plus, bs) - loss_at(minus, bs)) / (2 * step)
            assert abs(_num(fd) - _num(gW[k][idx])) < 1e-8


@pytest.mark.slow   # a graph solved and rendered (about 1 s)
def test_graph_with_skip_paths(write_toml):
    path = write_toml('''
[meta]
title = "g"
[[problem]]
id = "g1"
kind = "graph"
inputs = ["x"]
output = "L"
wrt = ["x", "w"]
[problem.nodes]
u = "w*x"
v = "tanh(u) + x"
L = "u*v"
[problem.values]
x = 0.5
w = 2
''')
    key = _key(path)
    answers = key["problems"][0]["answers"]
    x, w = sp.symbols("x w")
    direct = (w * x) * (sp.tanh(w * x) + x)
    for var in (x, w):
        got = sp.parse_expr(answers[f"dL/d{var}"]["sympy"])
        assert sp.simplify(got - sp.diff(direct, var)) == 0
    at = {x: sp.Rational(1, 2), w: 2}
    got = sp.parse_expr(answers["dL/dx@values"]["sympy"])
    assert abs(sp.N(got - sp.diff(direct, x).subs(at))) < 1e-25


@pytest.mark.slow
def test_cs189_skip_network_derivative_matches_direct_differentiation():
    key = _key(ROOT / "problems" / "cs189_hw.toml")
    answers = next(p for p in key["problems"] if p["id"] == "3")["answers"]
    s = {n: sp.Symbol(n) for n in "x w11 w12 w13 w4 b11 b12 b13 b14 y".split()}
    relu = lambda t: sp.Max(0, t)  # noqa: E731
    a4 = s["w4"] * ((s["w11"] * s["x"] + s["b11"]) + (s["w12"] * relu(s["x"]) + s["b12"])
                    + (s["w13"] * relu(relu(s["x"])) + s["b13"])) + s["b14"]
    E = (a4 - s["y"]) ** 2 / 2
    got = sp.parse_expr(answers["dE/dx"]["sympy"])
    rng = random.Random(3)
    for _ in range(10):
        at = {v: sp.Rational(rng.randint(-50, 50), 17) or 1 for v in s.values()}
        want = sp.diff(E, s["x"]).subs(at)
        assert sp.N(got.subs(at) - want) == 0


@pytest.mark.parametrize("params, message", [
    ('W1 = [[1, 2]]\nb1 = [0, 0]\nW2 = [[1, 1]]\nb2 = [0]',
     "params.W1: expected shape 2 x 3 (layers[1] x layers[0]), got 1 x 2"),
    ('W1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0]\nW2 = [[1, 1]]\nb2 = [0]',
     "params.b1: expected 2 entries (layers[1]), got 1"),
    ('W1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0, 0]\nb2 = [0]', "params.W2: missing"),
    ('W1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0, 0]\nW2 = [[1, 1]]\nb2 = [0]\nW3 = [[1]]',
     "params.W3: unexpected parameter"),
    ('W1 = [[1, 2, "x"], [4, 5, 6]]\nb1 = [0, 0]\nW2 = [[1, 1]]\nb2 = [0]',
     "params.W1: expected a number, got 'x'"),
])
def test_shape_errors_name_the_parameter(params, message, write_toml, tmp_path):
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "n1"
kind = "mlp"
layers = [3, 2, 1]
x = [1, 2, 3]
y = 0.5
[problem.params]
{params}
''')
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"symderiv: {path}: problem n1: {message}" or \
        message in result.stderr.strip()
    assert "problem n1" in result.stderr


def test_relu_at_exactly_zero_is_reported(write_toml):
    path = write_toml('''
[meta]
title = "t"
[[problem]]
id = "k"
kind = "mlp"
layers = [1, 1, 1]
x = 1
y = 0
[problem.params]
W1 = [[1]]
b1 = [-1]
W2 = [[2]]
b2 = [0.5]
''')
    from symderiv.solve import solve_set
    from symderiv.spec import load

    (sol,) = solve_set(load(path))
    assert [(k.layer, k.unit, k.activation) for k in sol.body.kinks] == [(1, 1, "relu")]
    answers = {a.label: a.value for a in sol.answers}
    assert answers["grad.W1"] == sp.Matrix([[0]])  # left derivative: ReLU'(0) = 0
    assert sol.body.fd_skipped


# --- displayed formulas, notation, diagrams ------------------------------------------------

from symderiv.derive import network as net_mod  # noqa: E402
from symderiv.errors import BadInput, VerificationFailed  # noqa: E402
from symderiv.render import render_document, tex  # noqa: E402
from symderiv.solve import solve_set  # noqa: E402
from symderiv.spec import load  # noqa: E402


def _solved(name, pid):
    ps = load(ROOT / "problems" / name)
    problem = next(p for p in ps.problems if p.id == pid)
    return ps, problem, net_mod.solve(problem)


def test_symbolic_forward_table_multiplies_weights_on_the_left():
    """The Linear₂ row once printed f(W⁽¹⁾x+b⁽¹⁾) W⁽²⁾ + b⁽²⁾: the product in the wrong order."""
    ps, problem, sol = _solved("dsga1008_hw1.toml", "1.1bcd")
    rows = {r.name: r for r in sol.body.layer_rows}
    want = r"W^{({2})} \operatorname{ReLU}(W^{({1})} x + b^{({1})}) + b^{({2})}"
    assert tex(rows[r"\mathrm{Linear}_{2}"].out) == want
    assert tex(rows["g"].out) == want   # the identity output is not written
    text = render_document(ps, [sol])
    assert want in text
    assert r"\operatorname{ReLU}\left(W^{({1})} x + b^{({1})}\right) W^{({2})}" not in text


def test_a_swapped_product_in_the_forward_table_fails_verification(monkeypatch):
    real = net_mod.LayerRow

    def swapped(name, inp, out, quantity):
        if name == r"\mathrm{Linear}_{2}":
            W, b = net_mod._nc(r"W^{({2})}"), net_mod._nc(r"b^{({2})}")
            out = inp * W + b
        return real(name, inp, out, quantity)

    monkeypatch.setattr(net_mod, "LayerRow", swapped)
    ps = load(ROOT / "problems" / "dsga1008_hw1.toml")
    problem = next(p for p in ps.problems if p.id == "1.2a")
    with pytest.raises(VerificationFailed) as err:
        net_mod.solve(problem)
    assert r"row \mathrm{Linear}_{2}, output" in err.value.label
    assert "shapes do not match" in err.value.detail


def test_a_swapped_product_in_the_numeric_backward_table_fails_verification(monkeypatch):
    real = net_mod._numeric_rows

    def swapped(*args):
        forward, backward = real(*args)
        out = []
        for row in backward:
            if row.label == "grad.W1":   # xᵀ δ instead of δ xᵀ
                a, b = row.formula.args
                row = net_mod.Row(row.label, row.symbol, b * a, row.substituted, row.value, row.group)
            out.append(row)
        return forward, out

    monkeypatch.setattr(net_mod, "_numeric_rows", swapped)
    ps = load(ROOT / "problems" / "ama564_a1.toml")
    problem = next(p for p in ps.problems if p.id == "1b")
    with pytest.raises(VerificationFailed) as err:
        net_mod.solve(problem)
    assert err.value.label == "grad.W1"


def test_a_wrong_number_in_the_numbers_column_fails_verification(monkeypatch):
    real = net_mod._numeric_rows

    def wrong(*args):
        forward, backward = real(*args)
        row = forward[0]
        W, h = row.substituted.args[0].args
        bad = net_mod._Sum(sp.MatMul(W, sp.ImmutableMatrix(h * 2), evaluate=False), row.substituted.args[1])
        return [net_mod.Row(row.label, row.symbol, row.formula, bad, row.value, row.group)] + forward[1:], backward

    monkeypatch.setattr(net_mod, "_numeric_rows", wrong)
    ps = load(ROOT / "problems" / "ama564_a1.toml")
    problem = next(p for p in ps.problems if p.id == "1b")
    with pytest.raises(VerificationFailed) as err:
        net_mod.solve(problem)
    assert err.value.label == "forward.z1" and "numbers" in err.value.detail


def test_ama564_key_speaks_in_L_and_f_of_x_theta_and_shows_relu_derivative_at_the_numbers():
    ps, problem, sol = _solved("ama564_a1.toml", "1b")
    rows = {r.label: r for r in sol.body.forward + sol.body.backward}
    assert tex(rows["forward.yhat"].symbol) == r"f(x; \theta)"
    assert tex(rows["forward.loss"].symbol) == "L"
    local = rows["local.z1"]
    assert tex(local.symbol) == r"\sigma'(z_{1})"
    assert tex(local.formula) == r"\mathbf{1}[z_{1} > 0]"
    from symderiv.render import notation

    with notation(ps.meta):   # the file names the indicator as its sheet does: I(x > 0)
        assert tex(local.formula) == r"I(z_{1} > 0)"
    assert local.value == sp.Matrix([0, 1])
    labels = [r.label for r in sol.body.backward]
    assert labels.index("local.z1") < labels.index("backward.dL/dz1")   # shown before it is used
    text = render_document(ps, [sol])
    assert r"\partial \ell" not in text and r"\frac{\partial L}{\partial W^{({1})}}" in text
    assert r"I(-3.2 > 0)" in text
    # f is the network in this question: the hidden activation is written σ
    assert r"\operatorname{ReLU}(z" not in text and r"\sigma(z_{1})" in text


def test_dsga_z2_is_the_hidden_activation_output_as_in_the_question():
    _, _, sol = _solved("dsga1008_hw1.toml", "1.1bcd")
    names = [tex(r.quantity) for r in sol.body.layer_rows]
    assert names == ["z_{1}", "z_{2}", "z_{3}", r"\hat{y}", r"\ell"]
    lhs = [tex(a) for a, _ in sol.body.elementwise]
    assert r"\frac{\partial z_{2}}{\partial z_{1}}" in lhs
    assert r"\frac{\partial \hat{y}}{\partial z_{3}}" in lhs


def test_dsga_classification_tables_substitute_the_sigmoid_and_write_the_composed_loss():
    _, _, sol = _solved("dsga1008_hw1.toml", "1.2a")
    rows = {r.name: r for r in sol.body.layer_rows}
    assert tex(rows["g"].out) == (r"\sigma(W^{({2})} \sigma(W^{({1})} x + b^{({1})})"
                                  r" + b^{({2})})")
    (lhs, rhs), = sol.body.composed
    assert tex(rhs).startswith(r"\frac{1}{2}\left\|\sigma(W^{({2})}")
    closed = dict((tex(a), tex(b)) for a, b in sol.body.elementwise)
    assert closed[r"\sigma'(z)"] == r"\sigma(z) \left(1 - \sigma(z)\right)"


def test_bce_with_sigmoid_output_shows_the_cancellation_as_steps():
    _, _, sol = _solved("dsga1008_hw1.toml", "1.2b")
    steps = sol.body.shortcut
    assert tex(sol.body.shortcut_lhs) == r"\frac{\partial \ell}{\partial z_{3}}"
    assert tex(steps[1].expr) == (r"\hat{y} \left(1 - \hat{y}\right) \frac{\hat{y} - y}"
                                  r"{\hat{y} \left(1 - \hat{y}\right)}")
    assert tex(steps[-1].expr) == r"\hat{y} - y"
    assert tex(sol.body.gradient_rows[1][1]) == r"\hat{y} - y"


def test_cs189_recurrences_name_dMSE_da_i():
    ps, problem, sol = _solved("cs189_hw.toml", "2def")
    recs = {tex(a): tex(b) for a, b in sol.body.recurrences}
    assert recs[r"\frac{\partial \mathrm{MSE}}{\partial a_{i}}"] == \
        r"{W_{i}}^{\top} \frac{\partial \mathrm{MSE}}{\partial z_{i}}"
    assert recs[r"\frac{\partial \mathrm{MSE}}{\partial z_{i}}"] == \
        r"\frac{\partial \mathrm{MSE}}{\partial a_{i + 1}} \odot \sigma'(z_{i})"
    assert recs[r"\frac{\partial \mathrm{MSE}}{\partial W_{i}}"] == \
        r"\frac{\partial \mathrm{MSE}}{\partial z_{i}} {a_{i}}^{\top}"


FORBIDDEN = ["_squared", "half_", "Symbol(", "Sum(", "**", "sympy", r"\texttt", "((", "relu",
             "identity}", "bce", r"\ell_{"]


@pytest.mark.parametrize("name", ["ama564_a1.toml", "dsga1008_hw1.toml", "cs189_hw.toml"])
@pytest.mark.slow
def test_mlp_keys_carry_no_program_text(name):
    ps = load(ROOT / "problems" / name)
    sols = [s for s in solve_set(ps) if s.problem.kind == "mlp"]
    text = render_document(ps, sols)
    body = text[text.index(r"\begin{questions}"):]
    for pattern in FORBIDDEN:
        assert pattern not in body, pattern


@pytest.mark.parametrize("notation, message", [
    ('foo = "x"', "notation.foo: unknown notation key"),
    ('weights = "W"', "notation.weights: must contain the layer index i"),
    ('index = "odd"', "notation.index: expected one of layer, step, input"),
    ('loss = "\\\\input{x}"', "notation.loss: the LaTeX command \\input is not allowed"),
])
def test_notation_errors_name_the_key(notation, message, write_toml):
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "n"
kind = "mlp"
layers = ["n", "d", "K"]
[problem.notation]
{notation}
''')
    with pytest.raises(BadInput) as err:
        load(path)
    assert message in str(err.value)


def test_sheet_figure_draws_the_given_weights_and_no_gradients():
    ps = load(ROOT / "problems" / "ama564_a1.toml")
    problem = next(p for p in ps.problems if p.id == "1b")
    d = net_mod.sheet_figure(problem)
    labels = {(a, b): lab for a, b, lab, bend in d.edges}
    assert labels[("n0_2", "n1_0")] == "-1" and labels[("n0_1", "n1_1")] == "-0.7"
    assert labels[("n1_1", "n2_0")] == "1.1"
    assert len(d.edges) == 3 * 2 + 2 and all(bend == 0 for *_, bend in d.edges)
    assert [n[3] for n in d.nodes][-1] == r"f(x; \theta)"


def test_symbolic_widths_are_drawn_with_ellipses_and_width_labels():
    ps = load(ROOT / "problems" / "dsga1008_hw1.toml")
    problem = next(p for p in ps.problems if p.id == "1.1bcd")
    d = net_mod.sheet_figure(problem)
    notes = [lab for _, _, lab in d.notes]
    assert notes.count(r"\vdots") == 3 and {"n", "d", "K"} <= set(notes)
    assert [n[3] for n in d.nodes if n[0].startswith("n0_")] == ["x_{1}", "x_{2}", "x_{n}"]
    assert [n[3] for n in d.nodes if n[0].startswith("n1_")] == ["z_{2,1}", "z_{2,2}", "z_{2,d}"]


SOFTMAX = '''
[meta]
title = "softmax"
[[problem]]
id = "s1"
kind = "mlp"
layers = ["n", "d", "K"]
hidden = "tanh"
output = "softmax"
loss = "cross_entropy"
[[problem]]
id = "s2"
kind = "mlp"
layers = [2, 2, 3]
hidden = "relu"
output = "softmax"
loss = "cross_entropy"
x = [1, -1]
y = [0, 1, 0]
[problem.params]
W1 = [[0.5, -0.2], [0.3, 0.8]]
b1 = [0.1, -0.1]
W2 = [[1, -1], [0.5, 0.5], [-0.3, 0.2]]
b2 = [0, 0.1, -0.1]
'''


def test_softmax_cross_entropy_shows_the_cancellation_for_general_K(write_toml):
    ps = load(write_toml(SOFTMAX))
    sym, num = (net_mod.solve(p) for p in ps.problems)
    lines = [tex(st.expr) for st in sym.body.shortcut]
    assert lines[0].startswith(r"\sum_{i=1}^{K}")
    assert lines[-1] == r"{\hat{y}}_{j} - {y}_{j}"
    assert tex(sym.body.shortcut_lhs) == r"\frac{\partial \ell}{\partial z_{2,j}}"
    # the tanh definition is written out, not "tanh z = tanh z"
    hidden = sym.body.definitions[0]
    assert tex(hidden.rhs) == r"\frac{e^{z} - e^{- z}}{e^{z} + e^{- z}}"
    rows = {r.label: r for r in num.body.backward}
    assert tex(rows["backward.dL/dz2"].formula) == r"\hat{y} - y"
    assert "local.J2" not in rows   # the Jacobian is not needed once it cancels
    diff = rows["backward.dL/dz2"].value - (num.body.forward[-2].value - sp.Matrix([0, 1, 0]))
    assert all(sp.simplify(v) == 0 for v in diff)


@pytest.mark.slow
def test_the_numeric_keys_label_values_like_before():
    """JSON labels stay stable whatever the notation (L, f(x; θ) in the key)."""
    key = _key(ROOT / "problems" / "ama564_a1.toml")
    answers = next(p for p in key["problems"] if p["id"] == "1b")["answers"]
    assert "local.z1" not in answers   # shown as a step, not an answer the question asks for
    assert sp.parse_expr(answers["backward.dL/dz1"]["sympy"]) == sp.Matrix([0, sp.Rational(11, 10)])


def test_diagram_template_honours_bend_and_draws_notes():
    from symderiv.render import environment

    d = net_mod.Diagram((("a", 0, 0, "a"), ("b", 2, 0, "b"), ("c", 4, 0, "c")),
                        (("a", "b", "", 0), ("a", "c", "w", 30), ("b", "c", "", -20)),
                        ((2, -1, r"\vdots"),))
    text = environment().from_string(
        '((* from "kinds/diagram.tex.j2" import diagram *))((( diagram(d, "cap") )))').render(d=d)
    assert r"\draw[->] (a) to (b);" in text
    assert r"\draw[->, bend left=30] (a) to node[lab, pos=0.3, sloped] {$w$} (c);" in text
    assert r"\draw[->, bend right=20] (b) to (c);" in text
    assert r"\node[note] at (2, -1) {$\vdots$};" in text


def test_deeper_networks_in_custom_notation_with_a_unit_on_the_kink(write_toml):
    path = write_toml(r'''
[meta]
title = "deep"
[[problem]]
id = "d1"
kind = "mlp"
layers = ["n", "d", "m", "K"]
hidden = "leaky_relu"
output = "sigmoid"
loss = "bce"
[problem.notation]
index = "step"
[[problem]]
id = "d2"
kind = "mlp"
layers = [2, 3, 2, 1]
hidden = "leaky_relu"
output = "tanh"
loss = "mse"
x = [1, -1]
y = 0.5
constants = { a = 0.1 }
[problem.params]
W1 = [[0.5, -0.2], [0.3, 0.8], [1, 1]]
b1 = [0.1, -0.1, 0]
W2 = [[1, -1, 0.5], [0.5, 0.5, -1]]
b2 = [0, 0.1]
W3 = [[1, -2]]
b3 = [0.3]
[problem.notation]
weights = "\\mathbf{W}_i"
index = "input"
index_letter = "i"
''')
    ps = load(path)
    sym, num = (net_mod.solve(p) for p in ps.problems)
    # three layers: each row in the previous row's name, the composed output written below
    assert [tex(r.out) for r in sym.body.layer_rows[2:4]] == [r"W^{({2})} z_{2} + b^{({2})}",
                                                                r"\operatorname{LReLU}(z_{3})"]
    assert tex(sym.body.definitions[0].rhs) == r"\max\left(z, a z\right)"   # a by name, not a value
    # unit 3 of layer 1 sits at z = 0: the left derivative a, and the shown formula says so
    assert [(k.layer, k.unit) for k in num.body.kinks] == [(1, 3)]
    rows = {r.label: r for r in num.body.backward}
    assert rows["local.z1"].value == sp.Matrix([1, sp.Rational(1, 10), sp.Rational(1, 10)])
    assert r"z_{1} \leq 0" in tex(rows["local.z1"].formula)
    assert tex(rows["grad.W2"].symbol) == r"\frac{\partial \ell}{\partial \mathbf{W}_{2}}"
    assert tex(rows["backward.dL/dh2"].symbol) == r"\frac{\partial \ell}{\partial a_{3}}"


# --- the published (JSON) formulas of a symbolic network ---------------------------------

SYMBOLIC = """
[meta]
title = "t"
[[problem]]
id = "p"
kind = "mlp"
layers = {layers}
hidden = "{hidden}"
output = "{output}"
loss = "{loss}"
[problem.notation]
index = "step"
"""


def _published_against_composed_diff(key, layers, hidden, output, loss, seed):
    """Every published matrix string, read back with the checker's namespace, evaluated at a
    random network: the forward ones against composition, the gradients against sympy.diff of
    the composed loss in each entry."""
    from symderiv.derive.netexpr import namespace
    from symderiv.parse import parse_expression

    rng = random.Random(seed)
    L = len(layers) - 1
    r = lambda: sp.Float(sp.Rational(rng.randint(-9, 9), 7), 40)  # noqa: E731
    Ws = [sp.Matrix(layers[k + 1], layers[k], lambda i, j: r()) for k in range(L)]
    bs = [sp.Matrix(layers[k + 1], 1, lambda i, j: r()) for k in range(L)]
    x = sp.Matrix(layers[0], 1, lambda i, j: r())
    y = (sp.Matrix([sp.Rational(1, layers[-1])] * layers[-1]) if loss == "cross_entropy"
         else sp.Matrix(layers[-1], 1, lambda i, j: sp.Rational(rng.randint(1, 9), 10)))

    def act(name, z):
        e = ACTIVATIONS[name]
        return e.build(list(z), {}) if e.vector else z.applyfunc(lambda t: e.build(t, {}))

    def forward(Ws, bs):
        zs, hs = [], [x]
        for k in range(L):
            zs.append(Ws[k] * hs[-1] + bs[k])
            hs.append(act(hidden if k < L - 1 else output, zs[-1]))
        return zs, hs

    zs, hs = forward(Ws, bs)
    u = sp.Matrix(sp.symbols(f"u0:{layers[-1]}", real=True))
    dyhat = sp.Matrix([sp.diff(vector_loss(loss, u, y, {}), v) for v in u]).xreplace(dict(zip(u, hs[-1])))
    env = {"x": x, "y": y, "yhat": hs[-1], "dL_dyhat": dyhat}
    for k in range(1, L + 1):
        env.update({f"W{k}": Ws[k - 1], f"b{k}": bs[k - 1], f"z{k}": zs[k - 1]})
        if k < L:
            env[f"h{k}"] = hs[k]
    # the truth: sympy.diff of the composed loss in each entry of each parameter
    truth = {}
    for k in range(L):
        for name, M in ((f"W{k + 1}", Ws[k]), (f"b{k + 1}", bs[k])):
            s = sp.Symbol("s", real=True)
            g = sp.zeros(*M.shape)
            for i in range(M.rows):
                for j in range(M.cols):
                    W2 = [W.copy() for W in Ws]
                    b2 = [b.copy() for b in bs]
                    (W2 if name[0] == "W" else b2)[k][i, j] = M[i, j] + s
                    loss_s = vector_loss(loss, forward(W2, b2)[1][-1], y, {})
                    g[i, j] = sp.diff(loss_s, s).subs(s, 0)
            truth[f"grad.{name}"] = g
    truth.update({f"forward.z{k}": zs[k - 1] for k in range(1, L + 1)})
    truth["forward.yhat"] = hs[-1]
    truth["forward.loss"] = sp.Matrix([[vector_loss(loss, hs[-1], y, {})]])
    ns = namespace(layers)
    answers = key["problems"][0]["answers"]
    checked = 0
    for label, want in truth.items():
        value = parse_expression(answers[label]["sympy"], ns)
        subs = {M: sp.ImmutableMatrix(env[M.name]) for M in value.atoms(sp.MatrixSymbol)}
        got = value.xreplace(subs).doit()
        got = sp.Matrix(got.as_explicit() if hasattr(got, "as_explicit") else got)
        assert got.shape == want.shape, label
        for a, b in zip(got, want):
            assert abs(complex(sp.N(a - b, 30))) < 1e-25, (label, a, b)
        checked += 1
    return checked


@pytest.mark.parametrize("hidden, output, loss", [
    ("relu", "identity", "half_squared"),
    pytest.param("tanh", "sigmoid", "bce", marks=pytest.mark.slow),
    pytest.param("sigmoid", "softmax", "cross_entropy", marks=pytest.mark.slow)])
def test_symbolic_mlp_publishes_formulas_that_equal_sympy_diff_of_the_composed_loss(
        hidden, output, loss, write_toml):
    layers = [2, 3, 2] if output != "softmax" else [2, 3, 3]
    key = _key(write_toml(SYMBOLIC.format(layers=layers, hidden=hidden, output=output, loss=loss)))
    answers = key["problems"][0]["answers"]
    assert {"forward.z1", "forward.h1", "forward.yhat", "forward.loss", "backward.dL/dz2",
            "backward.dL/dh1", "backward.dL/dz1", "grad.W1", "grad.b2", "elementwise.dh1/dz1",
            "elementwise.dyhat/dz2", "elementwise.dL/dyhat"} <= set(answers)
    assert _published_against_composed_diff(key, layers, hidden, output, loss, 3) == 8


DSGA_12 = """
[meta]
title = "DS-GA 1008 HW1, 1.2(a)-(b)"
[[problem]]
id = "1.2a"
kind = "mlp"
layers = ["n", "d", "K"]
hidden = "sigmoid"
output = "sigmoid"
[problem.notation]
index = "step"
[[problem]]
id = "1.2b"
kind = "mlp"
layers = ["n", "d", "K"]
hidden = "sigmoid"
output = "sigmoid"
loss = "bce"
[problem.notation]
index = "step"
"""


def test_symbolic_mlp_answers_are_the_displayed_formulas_over_plain_names(write_toml):
    key = _key(write_toml(DSGA_12))
    a = next(p for p in key["problems"] if p["id"] == "1.2a")["answers"]
    assert a["forward.h1"]["sympy"] == "sigmoid(W1*x + b1)"
    assert a["grad.W2"]["sympy"] == "hadamard(dL_dyhat, sigmoid_prime(z2))*h1.T"
    # the key's own form, in the question's names (z₃ is the plain z2 in step numbering)
    assert a["grad.W2"]["teacher"] == (r"\left[\frac{\partial \ell}{\partial \hat{y}} \odot "
                                       r"\sigma'(z_{3})\right] {z_{2}}^{\top}")
    assert a["elementwise.dyhat/dz2"]["sympy"] == "diag(sigmoid_prime(z2))"
    assert a["elementwise.dL/dyhat"]["sympy"] == "-y_j + yhat_j"
    b = next(p for p in key["problems"] if p["id"] == "1.2b")["answers"]
    assert b["backward.dL/dz2"]["sympy"] == "-y + yhat"   # the sigmoid/BCE cancellation
    assert b["elementwise.dL/dyhat"]["sympy"] == "(-y_j + yhat_j)/(yhat_j*(1 - yhat_j))"


@pytest.mark.slow
def test_symbolic_mlp_json_answers_round_trip_through_the_checker(tmp_path, write_toml):
    """The key's own strings, given back as answers, are all correct; a transposed gradient,
    a factor 2 and σ for σ′ are not."""
    path = write_toml(DSGA_12.split("[[problem]]")[0] + "[[problem]]" + DSGA_12.split("[[problem]]")[1])
    key = _key(path)
    a = next(p for p in key["problems"] if p["id"] == "1.2a")["answers"]
    # an answer speaks the statement's numbering (index = "step": z_3 = W^{(2)} z_2 + b^{(2)}),
    # where the key's plain z2 is z3 (its h1 is read as it is)
    stated = {k: re.sub(r"\bz2\b", "z3", v["sympy"]) for k, v in a.items()}
    lines = ["[answers]"] + [f'"1.2a/{k}" = {json.dumps(v)}' for k, v in stated.items()
                             if k not in ("grad.W2", "grad.W1", "backward.dL/dz2")]
    lines += ['"1.2a/grad.W2" = "h1*hadamard(dL_dyhat, sigmoid_prime(z3)).T"',
              '"1.2a/grad.W1" = "2*hadamard(W2.T*hadamard(dL_dyhat, sigmoid_prime(z3)), sigmoid_prime(z1))*x.T"',
              '"1.2a/backward.dL/dz2" = "hadamard(dL_dyhat, sigmoid(z3))"']
    answers = tmp_path / "a.toml"
    answers.write_text("\n".join(lines) + "\n")
    from symderiv.check import check

    report = check(path, answers)
    verdicts = {r.label: r.verdict for r in report.results if r.label.startswith("1.2a/")}
    assert verdicts.pop("1.2a/grad.W2") == "incorrect"
    assert verdicts.pop("1.2a/grad.W1") == "incorrect"
    assert verdicts.pop("1.2a/backward.dL/dz2") == "incorrect"
    assert len(verdicts) == len(a) - 3 and set(verdicts.values()) == {"correct"}


def test_a_wrong_published_formula_is_refused(monkeypatch):
    """The published string is checked on its own: a translation that swapped W1 and W2 fails."""
    real = net_mod._plain_of

    def swapped(names, depth, stacked=False):
        out = real(names, depth, stacked)
        w1, w2 = names.W(1), names.W(2)
        out[w1], out[w2] = "W2", "W1"
        return out

    monkeypatch.setattr(net_mod, "_plain_of", swapped)
    ps = load(ROOT / "problems" / "dsga1008_hw1.toml")
    problem = next(p for p in ps.problems if p.id == "1.2a")
    with pytest.raises(VerificationFailed) as err:
        net_mod.solve(problem)
    assert err.value.label.startswith("published ")


ONE_LAYER = """
[meta]
title = "one layer"
[[problem]]
id = "p"
kind = "mlp"
statement = "Logistic regression as a network with one layer."
layers = {layers}
output = "sigmoid"
loss = "bce"
{numbers}
"""


@pytest.mark.parametrize("layers, numbers", [
    ('["n", "K"]', ""),
    ("[2, 1]", 'x = [1, 2]\ny = 1\n[problem.params]\nW1 = [[0.5, -0.25]]\nb1 = [0.1]')])
def test_a_one_layer_network_never_mentions_a_hidden_activation(layers, numbers, write_toml, tmp_path):
    path = write_toml(ONE_LAYER.format(layers=layers, numbers=numbers))
    for extra in ([], ["--sheet"]):
        out = tmp_path / ("sheet" if extra else "key")
        result = CliRunner().invoke(main, ["render", str(path), "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
        text = next(out.glob("*.tex")).read_text()
        for word in ("hidden", "Hidden", "ReLU", "recurrence", "h_{", "and so on"):
            assert word not in text, (extra, word)
    answers = _key(path)["problems"][0]["answers"]
    assert not any(k.startswith(("forward.h", "backward.dL/dh")) or "relu" in k for k in answers)
    if layers.startswith('["n"'):
        assert answers["grad.W1"]["sympy"] == "(-y + yhat)*x.T"
        assert set(k for k in answers if k.startswith("elementwise.")) == {
            "elementwise.dyhat/dz1", "elementwise.sigmoid_prime", "elementwise.dL/dyhat"}
    else:
        # ŷ = σ(0.1) for x·w = 0: ∂ℓ/∂W = (σ(0.1) − 1) xᵀ, by sympy.diff of the composed loss
        w1, w2, b = sp.symbols("w1 w2 b", real=True)
        ell = vector_loss("bce", sp.Matrix([ACTIVATIONS["sigmoid"].build(w1 + 2 * w2 + b, {})]), sp.Matrix([1]), {})
        at = {w1: sp.Rational(1, 2), w2: -sp.Rational(1, 4), b: sp.Rational(1, 10)}
        got = sp.parse_expr(answers["grad.W1"]["sympy"])
        assert abs(complex(sp.N(got[0, 1] - sp.diff(ell, w2).subs(at), 30))) < 1e-25


def test_a_one_layer_network_refuses_a_hidden_activation(write_toml):
    path = write_toml(ONE_LAYER.format(layers='["n", "K"]', numbers="") .replace('loss = "bce"', 'loss = "bce"\nhidden = "relu"'))
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 2
    assert "hidden" in result.output and "one-layer network" in result.output


def test_a_one_layer_symbolic_network_publishes_formulas_equal_to_sympy_diff(write_toml):
    """Once the random check networks had two layers for a one-layer problem and failed."""
    path = write_toml(ONE_LAYER.format(layers="[3, 2]", numbers=""))
    key = _key(path)
    assert _published_against_composed_diff(key, [3, 2], "identity", "sigmoid", "bce", 5) == 5


# --- the output activation applied after the hidden one (ŷ = g(f(z_L))) ---------------------


def _composed_loss_gradients(hidden, output, loss, Ws, bs, x, y):
    """Every parameter's derivative (``_partials``) of ℓ(g(f(W_L … f(W_1 x + b_1) … + b_L)), y),
    built here from the registry's definitions alone, with the parameters as symbols."""
    consts = {}
    Wsym = [sp.Matrix(W.rows, W.cols, lambda i, j, k=k: sp.Symbol(f"w{k}_{i}{j}", real=True))
            for k, W in enumerate(Ws)]
    bsym = [sp.Matrix(b.rows, 1, lambda i, j, k=k: sp.Symbol(f"b{k}_{i}", real=True)) for k, b in enumerate(bs)]
    h = x
    for k, (W, b) in enumerate(zip(Wsym, bsym)):
        h = (W * h + b).applyfunc(lambda t: ACTIVATIONS[hidden].build(t, consts))   # f on every layer
    if ACTIVATIONS[output].vector:
        yhat = ACTIVATIONS[output].build(list(h), consts)
    else:
        yhat = h.applyfunc(lambda t: ACTIVATIONS[output].build(t, consts))
    ell = vector_loss(loss, yhat, y, consts)
    params = [p for S in Wsym + bsym for p in S]
    values = [v for V in Ws + bs for v in V]
    references, _ = _partials(ell, params, values)
    by_symbol = dict(zip(params, references))
    grads = {}
    for k in range(len(Ws)):
        grads[f"grad.W{k + 1}"] = Wsym[k].applyfunc(lambda p: sp.Float(by_symbol[p].real, 17))
        grads[f"grad.b{k + 1}"] = bsym[k].applyfunc(lambda p: sp.Float(by_symbol[p].real, 17))
    return ell.xreplace(dict(zip(params, values))), grads


def test_softmax_after_relu_example_matches_sympy_diff_of_the_composed_loss():
    ps, problem, sol = _solved("examples/backprop_graphs_tables.toml", "6")
    answers = {a.label: a.value for a in sol.answers}
    Ws = [sp.Matrix([[1, -1], [sp.Rational(1, 2), 1]]), sp.Matrix([[1, -sp.Rational(1, 2)], [sp.Rational(1, 2), 1]])]
    bs = [sp.Matrix([sp.Rational(1, 2), 0]), sp.Matrix([0, -1])]
    loss, grads = _composed_loss_gradients("relu", "softmax", "cross_entropy", Ws, bs,
                                           sp.Matrix([1, 2]), sp.Matrix([0, 1]))
    assert abs(float(answers["forward.loss"] - loss)) < 1e-15
    for label, want in grads.items():
        got = answers[label]
        assert got.shape == want.shape
        assert all(abs(mp_value(a) - complex(b)) < 1e-15 for a, b in zip(got, want)), label
    # the ReLU kills unit 1 of z₂ = (−1.25, 1.5): its row of ∂ℓ/∂W₂ is zero, the other is not
    assert answers["grad.W2"][0, :] == sp.zeros(1, 2) and answers["grad.W2"][1, 1] != 0
    assert answers["forward.h2"] == sp.Matrix([0, sp.Rational(3, 2)])
    # the softmax sees h₂ = ReLU(z₂), not z₂: ŷ₂ = e^{1.5}/(1 + e^{1.5})
    assert abs(float(answers["forward.yhat"][1] - sp.exp(sp.Rational(3, 2)) / (1 + sp.exp(sp.Rational(3, 2))))) < 1e-15
    # the cancellation is stated for the softmax's input h₂, and δ₂ = ∂ℓ/∂h₂ ⊙ ReLU′(z₂)
    rows = {r.label: r for r in sol.body.backward}
    assert tex(sol.body.shortcut_lhs) == r"\frac{\partial \ell}{\partial h_{2,j}}"
    assert tex(rows["backward.dL/dh2"].formula) == r"\hat{y} - y"
    assert tex(rows["backward.dL/dz2"].formula) == \
        r"\frac{\partial \ell}{\partial h_{2}} \odot \operatorname{ReLU}'(z_{2})"
    text = render_document(ps, [sol])
    assert r"h_{2} = f(z_{2})" in text and r"\hat{y} = g(h_{2})" in text


@pytest.mark.slow
def test_sigmoid_after_tanh_on_a_random_network_matches_sympy_diff(write_toml):
    rng = random.Random(12)
    widths = [3, 2, 2]
    Ws = [sp.Matrix(widths[k + 1], widths[k], lambda i, j: sp.Rational(rng.randint(-9, 9), 4)) for k in range(2)]
    bs = [sp.Matrix(widths[k + 1], 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 4)) for k in range(2)]
    rows = lambda M: "[" + ", ".join("[" + ", ".join(str(float(v)) for v in M.row(i)) + "]"  # noqa: E731
                                     for i in range(M.rows)) + "]"
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "st"
kind = "mlp"
layers = [3, 2, 2]
hidden = "tanh"
output = "sigmoid"
output_of_hidden = true
loss = "bce"
x = [1, -2, 0.5]
y = [1, 0]
[problem.params]
W1 = {rows(Ws[0])}
b1 = [{", ".join(str(float(v)) for v in bs[0])}]
W2 = {rows(Ws[1])}
b2 = [{", ".join(str(float(v)) for v in bs[1])}]
''')
    problem = load(path).problems[0]
    sol = net_mod.solve(problem)
    answers = {a.label: a.value for a in sol.answers}
    _, grads = _composed_loss_gradients("tanh", "sigmoid", "bce", Ws, bs,
                                        sp.Matrix([1, -2, sp.Rational(1, 2)]), sp.Matrix([1, 0]))
    for label, want in grads.items():
        assert all(abs(mp_value(a) - complex(b)) < 1e-12 for a, b in zip(answers[label], want)), label
    # sigmoid with the binary cross-entropy cancels at h₂, then tanh′ = 1 − tanh² at z₂
    rows_ = {r.label: r for r in sol.body.backward}
    assert tex(rows_["backward.dL/dh2"].formula) == r"\hat{y} - y"
    assert "local.z2" in rows_ and "local.h2" in rows_   # σ′(h₂) at the numbers, then tanh′(z₂)


def test_a_delta_without_the_hidden_derivative_is_refused(monkeypatch):
    """δ₂ = ∂ℓ/∂h₂ (forgetting ReLU′(z₂)) is what a student writes; the key must not print it."""
    real = net_mod._numeric_rows

    def forgetful(*args):
        forward, backward = real(*args)
        out = []
        for row in backward:
            if row.label == "backward.dL/dz2":
                row = net_mod.Row(row.label, row.symbol, row.formula.args[0], row.substituted, row.value, row.group)
            out.append(row)
        return forward, out

    monkeypatch.setattr(net_mod, "_numeric_rows", forgetful)
    ps = load(ROOT / "problems" / "examples" / "backprop_graphs_tables.toml")
    problem = next(p for p in ps.problems if p.id == "6")
    with pytest.raises(VerificationFailed) as err:
        net_mod.solve(problem)
    assert err.value.label == "backward.dL/dz2"
    assert "does not equal" in err.value.detail


@pytest.mark.parametrize("layers, extra, message", [
    ("[2, 2]", 'output = "softmax"\nloss = "cross_entropy"',
     "output_of_hidden: a one-layer network (two widths) has no hidden activation"),
    ("[2, 2, 2]", 'output = "softmax"\nloss = "cross_entropy"', "output_of_hidden: needs a hidden activation"),
    ("[2, 2, 2]", 'hidden = "relu"', "output_of_hidden: needs an output activation"),
])
def test_output_of_hidden_refuses_what_it_cannot_mean(layers, extra, message, write_toml, tmp_path):
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "oh"
kind = "mlp"
layers = {layers}
output_of_hidden = true
{extra}
''')
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "problem oh" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


_STACKED_SYMBOLIC = '''
[meta]
title = "t"
[[problem]]
id = "s1"
kind = "mlp"
layers = [2, 3, 2]
hidden = "relu"
output = "softmax"
output_of_hidden = true
loss = "cross_entropy"
'''


def test_output_of_hidden_symbolic_key_goes_through_g_then_f(write_toml):
    key = _key(write_toml(_STACKED_SYMBOLIC))
    answers = {k: v["sympy"] for k, v in key["problems"][0]["answers"].items()}
    assert answers["forward.h2"] == "relu(W2*relu(W1*x + b1) + b2)"
    assert answers["forward.yhat"] == "softmax(relu(W2*relu(W1*x + b1) + b2))"
    assert answers["backward.dL/dh2"] == "-y + yhat"
    assert answers["backward.dL/dz2"] == "hadamard(dL_dh2, relu_prime(z2))"
    assert answers["grad.W2"] == "hadamard(dL_dh2, relu_prime(z2))*h1.T"
    assert answers["elementwise.dh2/dz2"] == "diag(relu_prime(z2))"
    assert answers["elementwise.dyhat/dh2"] == "J_softmax(h2)"
    assert "elementwise.dyhat/dz2" not in answers


def test_output_of_hidden_symbolic_delta_without_f_prime_is_refused(monkeypatch, write_toml):
    real = net_mod._check_symbolic

    def forgetful(problem, spec, names, fx, rows, composed, grads, recs, elementwise, through=(), published=()):
        through = [(lhs, rhs.args[0] if lhs.name == names.d(names.pre(2)) else rhs) for lhs, rhs in through]
        return real(problem, spec, names, fx, rows, composed, grads, recs, elementwise, through, published)

    monkeypatch.setattr(net_mod, "_check_symbolic", forgetful)
    problem = load(write_toml(_STACKED_SYMBOLIC)).problems[0]
    with pytest.raises(VerificationFailed) as err:
        net_mod.solve(problem)
    assert err.value.label == r"backward through the layers, \frac{\partial \ell}{\partial z_{2}}"


SCALAR_OUTPUT = """
[meta]
title = "one output"
[[problem]]
id = "p"
kind = "mlp"
statement = "A network with n inputs, d hidden units and one output."
layers = {layers}
hidden = "sigmoid"
output = "{output}"
loss = "{loss}"
"""


@pytest.mark.parametrize("layers, expected", [
    (("n", "d", "K"), [2, 3, 2]),          # the defaults: no two consecutive widths equal
    (("n", "d"), [3, 2]),
    (("n", "d", 1), [2, 3, 1]),            # a given width is kept
    ((3, "d", 1), [3, 2, 1]),              # d moves off the 3 beside it
    (("n", "d", "d", 1), [2, 3, 3, 1]),    # one name, one size
    (("n", 4, "K"), [2, 4, 2]),
])
def test_random_networks_keep_the_widths_a_problem_gives(layers, expected):
    assert net_mod._concrete_widths(layers, 2) == expected


@pytest.mark.parametrize("output, loss, layers", [
    ("identity", "half_squared", '["n", "d", 1]'),
    ("sigmoid", "bce", '["n", "d", 1]'),
    ("identity", "half_squared", '[3, "d", 1]'),
])
def test_a_symbolic_network_with_one_output_solves(output, loss, layers, write_toml, tmp_path):
    """A width of 1 given as a number was checked on networks with two outputs, so the
    identity's ∂ŷ/∂z₂ (the 1×1 identity) failed its check. It is checked at width 1 and shown as 1."""
    path = write_toml(SCALAR_OUTPUT.format(layers=layers, output=output, loss=loss))
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "p.tex").read_text()
    if output == "identity":
        assert r"\frac{\partial \hat{y}}{\partial z_{2}} &= 1 \\" in text
    else:
        assert r"\frac{\partial \hat{y}}{\partial z_{2}} &= I" not in text


@pytest.mark.parametrize("layers, message", [
    ('["n", "d", 1.5]', "layers: each width must be a positive integer or a name, got 1.5"),
    ('["n", "d", true]', "layers: each width must be a positive integer or a name, got true"),
    ('["n", "d", "K", "x"]', "layers: the width 'x' has the name of a quantity of the network; "
                             "choose another name (such as n, d, K or m)"),
    ('["n", "W1", "K"]', "layers: the width 'W1' has the name of a quantity of the network"),
])
def test_a_width_that_cannot_be_one_is_a_one_line_error(layers, message, write_toml, tmp_path):
    path = write_toml(SCALAR_OUTPUT.format(layers=layers, output="identity", loss="half_squared"))
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"problem p: {message}" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
