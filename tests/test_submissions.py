"""The seed students' submissions (problems/submissions/): checked against their keys, their
real mistakes flagged and their right answers accepted."""

from __future__ import annotations

from pathlib import Path

import sympy as sp

ROOT = Path(__file__).resolve().parent.parent


def test_graph_key_publishes_the_output_of_each_layer():
    """CS189 Problem 3, 1.) "write the output of each layer": every node is a label."""
    from symderiv.solve import solve_set
    from symderiv.spec import load

    (sol,) = [s for s in solve_set(load(ROOT / "problems" / "cs189_hw.toml")) if s.problem.id == "3"]
    values = {a.label: a.value for a in sol.answers}
    x, y, w4, w11, w12, w13, b11, b12, b13, b14 = sp.symbols(
        "x y w4 w11 w12 w13 b11 b12 b13 b14", real=True)
    subs = {s: v for s in set().union(*(v.free_symbols for v in values.values()))
            for v in [{"x": x, "y": y, "w4": w4, "w11": w11, "w12": w12, "w13": w13, "b11": b11,
                       "b12": b12, "b13": b13, "b14": b14}.get(s.name)] if v is not None}
    got = {k: v.xreplace(subs) for k, v in values.items()}
    relu = sp.Max(0, x)
    a4 = w4 * (w11 * x + b11 + w12 * relu + b12 + w13 * relu + b13) + b14
    assert sp.simplify(got["forward.a1"] - (w11 * x + b11)) == 0
    assert sp.simplify(got["forward.a2"] - (w12 * relu + b12)) == 0
    assert sp.simplify(got["forward.a3"] - (w13 * relu + b13)) == 0  # ReLU(ReLU(x)) = ReLU(x)
    assert sp.simplify(got["forward.a4"] - a4) == 0
    assert sp.simplify(got["forward.yp"] - a4) == 0
    assert sp.simplify(got["forward.E"] - (a4 - y) ** 2 / 2) == 0
    assert {"dE/dx", "forward.r1", "forward.r2"} <= set(values)
