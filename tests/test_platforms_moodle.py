"""Moodle XML export: categories per problem, numerical and STACK questions whose teacher's
answers are the key's values (read back from Maxima), question tests scoring 1."""

import types
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from sympy.parsing.maxima import parse_maxima

from symderiv.cli import main
from symderiv.platforms.maxima import maxima_form
from symderiv.platforms.moodle import _problem, export_moodle
from symderiv.solve import solve_set
from symderiv.spec import load

ROOT = Path(__file__).resolve().parent.parent
AMA = ROOT / "problems" / "ama564_a1.toml"


def _read(text, value):
    names = {s.name: s for s in value.free_symbols}
    names.update({"signum": sp.sign, "max": sp.Max, "min": sp.Min,
                  "matrix": lambda *rows: sp.Matrix(rows)})
    return parse_maxima(text, name_dict=names)


def _key(path):
    return {s.problem.id: {a.label: a.value for a in s.answers}
            for s in solve_set(load(path), None, keep_going=True)}


@pytest.mark.slow
def test_stack_questions_hold_the_key():
    result = export_moodle(AMA)
    ((name, data),) = result.files.items()
    assert name == "ama564_a1-moodle.xml"
    quiz = ET.fromstring(data)
    key = _key(AMA)
    categories = [q.find("category/text").text for q in quiz.findall("question[@type='category']")]
    assert categories == [
        "$course$/top/AMA564 Assignment 1/1a Question 1(a): derivatives of activation functions",
        "$course$/top/AMA564 Assignment 1/1b Question 1(b): forward pass and back-propagation",
        "$course$/top/AMA564 Assignment 1/3 Question 3: gradient descent on an L-smooth function"]
    stacks = quiz.findall("question[@type='stack']")
    assert len(stacks) == 3  # 1a, 1b, 3: one variant each; 2 (an equation) is left out
    assert [(s.problem, s.label) for s in result.skipped] == [("2", "conclusion"), ("2", "")]
    first = stacks[0]
    assert first.find("name/text").text.startswith("1a: ")
    variables = first.find("questionvariables/text").text.splitlines()
    labels = [node.find("description").text for node in first.findall("prt/node")]
    assert labels == list(key["1a"])
    for line, label in zip(variables, labels):
        name, _, text = line.partition(": ")
        value = key["1a"][label]
        assert sp.simplify(_read(text.rstrip(";"), value) - maxima_form(value)) == 0, line
    assert variables[0] == "ta1: exp(x)/(exp(x) + 1)^2;"
    tests = [n.find("answertest").text for n in first.findall("prt/node")]
    assert tests[0] == "Diff" and first.find("prt/node/testoptions").text == "x"
    assert tests[1] == "NumRelative"
    # points: the problem's 3 split over its 9 labels, adding up to the question's grade
    values = [Fraction(p.find("value").text).limit_denominator(1000) for p in first.findall("prt")]
    assert values == [Fraction(1, 3)] * 9
    assert first.find("defaultgrade").text == "3"
    # the question test: every teacher's answer scores 1 on every tree
    qtest = first.find("qtest")
    assert qtest.find("description").text == "the teacher's answers score 1"
    assert [i.find("value").text for i in qtest.findall("testinput")] == [f"ta{i}" for i in range(1, 10)]
    assert {e.find("expectedscore").text for e in qtest.findall("expected")} == {"1.0000000"}
    assert [e.find("expectedanswernote").text for e in qtest.findall("expected")] \
        == [n.find("trueanswernote").text for n in first.findall("prt/node")]
    # every input is placed in the text with its validation and feedback
    text = first.find("questiontext/text").text
    assert all(f"[[input:ans{i}]] [[validation:ans{i}]]" in text for i in range(1, 10))
    assert "Leaky ReLU, limit at \\(-\\infty\\)" in text and "leaky_relu" not in text
    # the network: the output and the gradients the question asks for (issue 15's points:
    # 3 over 5 labels), matrices as matrix inputs
    net = stacks[1]
    inputs = {i.find("name").text: i.find("type").text for i in net.findall("input")}
    assert inputs == {"ans1": "algebraic", "ans2": "matrix", "ans3": "matrix", "ans4": "matrix",
                      "ans5": "matrix"}
    assert net.find("questionvariables/text").text.splitlines() == [
        "ta1: 133/100;", "ta2: matrix([0, 13/10]);", "ta3: matrix([1]);",
        "ta4: matrix([0, 0, 0], [11/10, 11/5, 33/10]);", "ta5: matrix([0], [11/10]);"]
    assert [p.find("value").text for p in net.findall("prt")] == ["0.6"] * 5
    assert net.find("defaultgrade").text == "3"
    floats = {i.find("name").text: i.find("forbidfloat").text for i in net.findall("input")}
    assert set(floats.values()) == {"0"}  # numbers: decimals allowed
    assert [i.find("forbidfloat").text for i in first.findall("input")][:2] == ["1", "0"]


def test_numerical_question_with_tolerance():
    ps = load(AMA)
    problem = ps.problems[1]
    solution = types.SimpleNamespace(problem=problem, answers=[
        types.SimpleNamespace(label="forward.yhat", value=sp.Rational(133, 100), display=None)])
    from symderiv.platforms import ProblemVariants

    quiz = ET.Element("quiz")
    skipped = []
    _problem(quiz, ps, ProblemVariants(problem, (("1", solution),)), 1e-3, skipped)
    (question,) = quiz.findall("question[@type='numerical']")
    assert question.find("answer").get("fraction") == "100"
    assert question.find("answer/text").text == "1.33"
    assert float(question.find("answer/tolerance").text) == 0.00133
    assert question.find("defaultgrade").text == "3"
    assert skipped == []


def test_deterministic_and_cli(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    first = runner.invoke(main, ["export", "moodle", str(AMA), "-o", str(out)])
    assert first.exit_code == 0, first.output
    data = (out / "ama564_a1-moodle.xml").read_bytes()
    again = runner.invoke(main, ["export", "moodle", str(AMA), "-o", str(out)])
    assert again.exit_code == 0
    assert (out / "ama564_a1-moodle.xml").read_bytes() == data
    assert "2/conclusion: not exported to Moodle: an equation" in first.stderr
