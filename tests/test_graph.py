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
