"""Points per answer: [problem.points], the default split over the labels asked for."""

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner

from symderiv.check.points import asked_labels, label_points, shown
from symderiv.cli import main
from symderiv.errors import BadInput
from symderiv.spec import load

from .conftest import ROOT

NET_LABELS = ["forward.z1", "forward.h1", "forward.z2", "forward.yhat", "forward.loss",
              "backward.dL/dyhat", "backward.dL/dz2", "grad.W2", "grad.b2", "backward.dL/dh1",
              "backward.dL/dz1", "grad.W1", "grad.b1"]

FILE = '''
[meta]
title = "Points"
[[problem]]
id = "d"
kind = "derivative"
functions = ["sigmoid", "tanh"]
POINTS
'''


def _problem(write_toml, points):
    return load(write_toml(FILE.replace("POINTS", points))).problems[0]


def test_default_split_over_the_labels_asked_for(write_toml):
    ama = load(ROOT / "problems" / "ama564_a1.toml")
    net = ama.problems[1]
    assert asked_labels(net, NET_LABELS) == ["forward.yhat", "grad.W2", "grad.b2", "grad.W1",
                                             "grad.b1"]
    assert label_points(net, NET_LABELS) == {lb: Fraction(3, 5) for lb in
                                             ["forward.yhat", "grad.W2", "grad.b2", "grad.W1",
                                              "grad.b1"]}
    p = _problem(write_toml, "points = 3")
    assert label_points(p, ["sigmoid.derivative", "tanh.derivative"]) == {
        "sigmoid.derivative": Fraction(3, 2), "tanh.derivative": Fraction(3, 2)}
    p = _problem(write_toml, "")  # no points: one per label
    assert label_points(p, ["sigmoid.derivative", "tanh.derivative"]) == {
        "sigmoid.derivative": 1, "tanh.derivative": 1}


def test_points_table(write_toml):
    p = _problem(write_toml, '[problem.points]\n"sigmoid.derivative" = 2\n"tanh.derivative" = 0.5')
    assert p.points == 2.5
    assert label_points(p, ["sigmoid.derivative", "tanh.derivative"]) == {
        "sigmoid.derivative": 2, "tanh.derivative": Fraction(1, 2)}
    with pytest.raises(BadInput) as err:
        label_points(p, ["sigmoid.derivative"])
    assert err.value.field == "points.tanh.derivative" and "no answer labelled" in err.value.message
    with pytest.raises(BadInput) as err:
        _problem(write_toml, '[problem.points]\n"sigmoid.derivative" = -1')
    assert err.value.field == "points.sigmoid.derivative"
    assert shown(Fraction(28, 3)) == "9.33" and shown(Fraction(3)) == "3"
    assert shown(Fraction(5, 2)) == "2.5"


@pytest.mark.slow  # the whole AMA564 key is built (about 4 s); test_check covers the CLI too
def test_seed_submission_no_longer_loses_points_for_what_was_never_asked():
    result = CliRunner().invoke(main, ["check", str(ROOT / "problems" / "ama564_a1.toml"),
                                       str(ROOT / "problems/submissions/ama564_a1_student.toml"),
                                       "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert not [r for r in data["results"] if r["verdict"] == "missing"]
    pts = data["points"]
    # 1a: 7 of 9 labels right (the swapped leaky ReLU limits), 3 points: 7/3; 1b, 2, 3 full
    assert (pts["earned"], pts["possible"], pts["percentage"]) == ("9.33", "10", 93.33)
    assert [(p["id"], p["earned"], p["possible"]) for p in pts["problems"]] == [
        ("1a", "2.33", "3"), ("1b", "3", "3"), ("2", "2", "2"), ("3", "2", "2")]
    assert "1b/forward.z2" not in pts["problems"][1]["labels"]
