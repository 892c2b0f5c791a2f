"""The seed students' submissions (problems/submissions/): checked against their keys, their
real mistakes flagged and their right answers accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
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


def _check(name: str):
    from symderiv.check import check

    report = check(ROOT / "problems" / f"{name}.toml",
                   ROOT / "problems" / "submissions" / f"{name}_student.toml")
    return {r.label: r for r in report.results}


# the students' real mistakes (see the comments at the top of each answers file)
SEED_003_MISTAKES = [f"{part}/grad.{p}" for part in ("1.1bcd", "1.2a", "1.2b")
                     for p in ("W1", "b1", "W2")]
SEED_004_MISTAKES = ["3/dE/dx", "2def/grad.W1", "2def/grad.W2"]


@pytest.mark.slow
def test_seed_003_mistakes_are_never_accepted_and_its_right_answers_are():
    results = _check("dsga1008_hw1")
    for label in SEED_003_MISTAKES:
        assert results[label].verdict != "correct", label
    # read today (the backward tables' products of partial derivatives are not read yet; the
    # corpus keeps them as right-answer cases to be accepted)
    for label in ("1.1bcd/forward.z1", "1.2a/forward.z1", "1.2b/forward.z1"):
        assert results[label].verdict == "correct", label
    assert results["1.1bcd/backward.dL/dz2"].verdict == "missing"


@pytest.mark.slow
def test_seed_004_third_path_is_flagged_and_the_layer_outputs_accepted():
    results = _check("cs189_hw")
    for label in SEED_004_MISTAKES:
        assert results[label].verdict != "correct", label
    wrong = results["3/dE/dx"]
    assert wrong.verdict == "incorrect"
    for label in ("3/forward.a1", "3/forward.a2", "3/forward.a3", "3/forward.a4",
                  "2c/linear.derivative"):
        assert results[label].verdict == "correct", label
