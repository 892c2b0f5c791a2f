"""The graph kind's printing and drawing: the question's names, products as a teacher
writes them, and a layout whose edges pass no node."""

import re

import pytest

from symderiv.derive import graph
from symderiv.render import render_document
from symderiv.solve import solve_set
from symderiv.spec import load

SKIP = '''
[meta]
title = "t"
[[problem]]
id = "g"
kind = "graph"
statement = "The branches $a_1, a_2, a_3$ are summed into $a_4$ and $y_p = a_4$."
inputs = ["x"]
output = "E"
wrt = ["x"]
[problem.nodes]
r1 = "relu(x)"
r2 = "relu(r1)"
a1 = "w11*x + b11"
a2 = "w12*r1 + b12"
a3 = "w13*r2 + b13"
a4 = "w4*(a1 + a2 + a3) + b14"
yp = "a4"
E = "(yp - y)**2/2"
'''


def _positions(d):
    return {ident: (x, y * graph.Y_UNIT) for ident, x, y, _ in d.nodes}


def _assert_no_edge_crosses_a_node(d):
    place = _positions(d)
    for a, b, _, bend in d.edges:
        others = [p for k, p in place.items() if k not in (a, b)]
        room = graph.edge_clearance(place[a], place[b], bend, others)
        assert room > graph.NODE_RADIUS, (a, b, bend, room)


def test_skip_connections_are_drawn_without_crossing_nodes(write_toml):
    """CS189 Problem 3 drew a₁→a₄ and a₂→a₄ straight through a₃."""
    (problem,) = load(write_toml(SKIP)).problems
    d = graph.sheet_figure(problem)
    assert all(len(e) == 4 for e in d.edges)
    _assert_no_edge_crosses_a_node(d)
    # the summands of a₄ share the column just left of it
    xs = {ident: x for ident, x, _, _ in d.nodes}
    assert xs["ga1"] == xs["ga2"] == xs["ga3"] == xs["ga4"] - graph.X_STEP


def test_a_straight_edge_through_a_node_is_detected():
    assert graph.edge_clearance((0, 0), (4, 0), 0, [(2, 0)]) < 0.01
    assert graph.edge_clearance((0, 0), (4, 0), 40, [(2, 0)]) > graph.NODE_RADIUS


@pytest.mark.parametrize("width", [2, 3, 4])
def test_random_wide_graphs_have_no_edge_through_a_node(width, write_toml):
    nodes = "\n".join(f'h{i} = "w{i}*x"' for i in range(1, width + 1))
    chain = " + ".join(f"h{i}" for i in range(1, width + 1))
    text = f'''
[meta]
title = "t"
[[problem]]
id = "g"
kind = "graph"
inputs = ["x"]
wrt = ["x"]
[problem.nodes]
{nodes}
s = "{chain}"
t = "s*x + h1"
'''
    (problem,) = load(write_toml(text)).problems
    _assert_no_edge_crosses_a_node(graph.sheet_figure(problem))


def test_names_and_products_as_the_question_writes_them(write_toml):
    text = SKIP + '[problem.notation]\nE = "\\\\mathrm{MSE}"\n'
    ps = load(write_toml(text))
    sols = solve_set(ps)
    tex = render_document(ps, sols)
    body = tex[tex.index(r"\begin{solution}"):]
    # y_p because the statement writes y_p; MSE from the notation table; a1 -> a_1
    assert "{$y_{p}$}" in body and "{$\\mathrm{MSE}$}" in body
    assert r"\partial \mathrm{MSE} / \partial y_{p} = y_{p} - y" in body
    assert not re.search(r"(?<!\(g)yp", body) and "{$E$}" not in body
    # a path's product: no factor 1, no bracketed single factors, the indicator 1[u > 0]
    assert r"\mathbf{1}[x > 0] w_{12} w_{4} \left(y_{p} - y\right)" in body
    assert r"\left( 1 \right)" not in body and r"\left( w_{4} \right)" not in body
    assert r"I\left(" not in body and "((" not in body


def test_notation_for_an_unknown_name_is_an_error(write_toml):
    from symderiv.errors import BadInput

    with pytest.raises(BadInput) as err:
        load(write_toml(SKIP + '[problem.notation]\nZ = "Z"\n'))
    assert "notation.Z" in str(err.value)


HINGE = '''
[meta]
title = "t"
[[problem]]
id = "h"
kind = "graph"
statement = "Hinge loss of a linear score."
inputs = ["x", "y"]
output = "L"
wrt = ["w", "b"]
[problem.nodes]
s = "w*x + b"
L = "max(0, 1 - y*s)"
[problem.values]
w = {w}
x = 2
b = -1
y = 1
'''


def _solve_one(path):
    (problem,) = load(path).problems
    return graph.solve(problem)


def test_a_hinge_on_the_margin_is_flagged_and_uses_a_subgradient(write_toml):
    import sympy as sp

    sol = _solve_one(write_toml(HINGE.format(w=1)))   # y s = 1: on the margin
    (kink,) = sol.body.kinks
    assert kink.node.name == "L" and sp.sstr(kink.where) == "-s*y + 1"
    assert {p.name: v for p, v in kink.used} == {"s": 0, "y": 0}
    values = {a.label: a.value for a in sol.answers}
    assert values["dL/dw@values"] == 0 and values["dL/db@values"] == 0
    # 0 lies between the one-sided derivatives of the composed loss: −x y = −2 and 0
    w, b = sp.symbols("w b", real=True)
    left = sp.diff(1 - (w * 2 + b), w).subs({w: 1, b: -1})
    right = sp.diff(sp.Integer(0), w)
    assert min(left, right) <= 0 <= max(left, right) and left == -2
    ps = load(write_toml(HINGE.format(w=1), "k.toml"))
    text = render_document(ps, solve_set(ps))
    assert "sits on its kink ($1 - s y = 0$): it is not differentiable here; the subgradients" in text
    assert r"$\partial L / \partial s = 0$" in text


def test_a_hinge_off_the_margin_is_not_flagged(write_toml):
    sol = _solve_one(write_toml(HINGE.format(w=0)))   # y s = −1: inside the margin
    assert sol.body.kinks == ()
    assert {a.label: a.value for a in sol.answers}["dL/dw@values"] == -2


def test_a_relu_at_zero_in_a_graph_is_flagged(write_toml):
    text = SKIP + "[problem.values]\n" + "\n".join(
        f"{k} = {v}" for k, v in {"x": 0, "w11": 1, "w12": 1, "w13": 1, "w4": 1, "b11": 0, "b12": 0,
                                  "b13": 0, "b14": 0, "y": 1}.items()) + "\n"
    sol = _solve_one(write_toml(text))
    assert [k.node.name for k in sol.body.kinks] == ["r1", "r2"]
    assert [[(p.name, v) for p, v in k.used] for k in sol.body.kinks] == [[("x", 0)], [("r1", 0)]]


STAGED = '''
[meta]
title = "t"
[[problem]]
id = "1"
kind = "graph"
inputs = ["x", "y", "z"]
output = "f"
wrt = ["x", "y", "z"]
[problem.nodes]
q = "x + y"
f = "q*z"
[problem.values]
x = -2
y = 5
z = -4
'''

SIGMOID_GATE = '''
[meta]
title = "t"
[[problem]]
id = "1"
kind = "graph"
inputs = ["w0", "x0", "w1", "x1", "w2"]
output = "f"
wrt = ["w0", "x0"]
[problem.nodes]
a = "w0*x0"
b = "w1*x1"
d = "a + b + w2"
n = "-d"
t = "exp(n)"
s = "1 + t"
f = "1/s"
[problem.values]
w0 = {w0}
x0 = -1
w1 = -3
x1 = -2
w2 = -3
'''


def _adjoints(sol):
    return {r.node.name: r.value for r in sol.body.adjoints}


def test_reverse_mode_table_of_the_cs231n_staged_computation(write_toml):
    import sympy as sp

    sol = _solve_one(write_toml(STAGED))
    x, y, z = sp.symbols("x y z")
    f = (x + y) * z
    at = {x: -2, y: 5, z: -4}
    adj = _adjoints(sol)
    assert adj == {"f": 1, "q": -4, "x": -4, "y": -4, "z": 3}
    for v in (x, y, z):
        assert adj[v.name] == sp.diff(f, v).subs(at)
    rows = {r.node.name: r for r in sol.body.adjoints}
    # q receives upstream ∂f/∂f = 1 times local ∂f/∂q = z = −4
    assert [(c.name, u, l) for c, u, l in rows["q"].terms] == [("f", 1, -4)]


@pytest.mark.parametrize("w0", [2, "0.5"])
def test_reverse_mode_table_of_the_sigmoid_gate_against_sympy_diff(w0, write_toml):
    import sympy as sp

    sol = _solve_one(write_toml(SIGMOID_GATE.format(w0=w0)))
    names = sp.symbols("w0 x0 w1 x1 w2")
    w0_, x0, w1, x1, w2 = names
    f = 1 / (1 + sp.exp(-(w0_ * x0 + w1 * x1 + w2)))
    at = dict(zip(names, [sp.Rational(str(w0)), -1, -3, -2, -3]))
    adj = _adjoints(sol)
    assert set(adj) == {"f", "s", "t", "n", "d", "a", "b", "w0", "x0", "w1", "x1", "w2"}
    for v in names:
        assert abs(complex(sp.N(adj[v.name] - sp.diff(f, v).subs(at), 30))) < 1e-25, v
    # the node d = a + b + w₂: ∂f/∂d = σ(d)(1 − σ(d))
    dd = sp.Symbol("dd")
    sig = 1 / (1 + sp.exp(-dd))
    d_value = at[w0_] * -1 + 6 - 3
    assert abs(complex(sp.N(adj["d"] - sp.diff(sig, dd).subs(dd, d_value), 30))) < 1e-25
    if w0 == 2:
        assert f"{float(adj['w0']):.2f}" == "-0.20" and f"{float(adj['x0']):.2f}" == "0.39"   # CS231n's numbers


def test_reverse_mode_adds_up_where_paths_meet(write_toml):
    import sympy as sp

    text = SKIP + "[problem.values]\n" + "\n".join(
        f"{k} = {v}" for k, v in {"x": "0.5", "w11": 2, "w12": -1, "w13": 3, "w4": "0.5", "b11": 0,
                                  "b12": 1, "b13": -1, "b14": 0, "y": 1}.items()) + "\n"
    sol = _solve_one(write_toml(text))
    rows = {r.node.name: r for r in sol.body.adjoints}
    assert len(rows["x"].terms) == 2 and len(rows["r1"].terms) == 2   # x feeds a1 and r1; r1 feeds a2 and r2
    x = sp.Symbol("x", real=True)
    r1 = sp.Max(0, x)
    a4 = sp.Rational(1, 2) * ((2 * x) + (-r1 + 1) + (3 * sp.Max(0, r1) - 1))
    E = (a4 - 1) ** 2 / 2
    assert rows["x"].value == sp.diff(E, x).subs(x, sp.Rational(1, 2))


def test_a_wrong_adjoint_is_refused(write_toml, monkeypatch):
    from symderiv.errors import VerificationFailed

    real = graph.reverse_mode

    def off_by_one(*args):
        rows = list(real(*args))
        rows[2] = graph.AdjointRow(rows[2].node, rows[2].terms, rows[2].value + 1)
        return tuple(rows)

    monkeypatch.setattr(graph, "reverse_mode", off_by_one)
    with pytest.raises(VerificationFailed) as err:
        _solve_one(write_toml(STAGED))
    assert err.value.label == "reverse-mode table, node x"
