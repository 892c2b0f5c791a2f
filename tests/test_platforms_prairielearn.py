"""PrairieLearn export: info.json, question.html's inputs, server.py's generate giving the
key's answers for the variant drawn from variant_seed."""

import importlib.util
import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.platforms.maxima import elementary
from symderiv.platforms.prairielearn import export_prairielearn
from symderiv.solve import solve_set
from symderiv.spec import load

ROOT = Path(__file__).resolve().parent.parent
AMA = ROOT / "problems" / "ama564_a1.toml"


def _server(path: Path):
    spec = importlib.util.spec_from_file_location(f"server_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generate_gives_the_key(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["export", "prairielearn", str(AMA), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    questions = tmp_path / "ama564_a1-prairielearn" / "questions" / "ama564_a1"
    assert sorted(p.name for p in questions.iterdir()) == ["1a", "1b", "3"]
    key = {s.problem.id: {a.label: a.value for a in s.answers}
           for s in solve_set(load(AMA), None)}
    # info.json: a stable uuid5 of the course and the problem id
    info = json.loads((questions / "1a" / "info.json").read_text())
    assert info["type"] == "v3" and info["topic"] == "AMA564 Assignment 1"
    assert info["uuid"] == str(uuid.uuid5(uuid.NAMESPACE_URL,
                                          "symderiv:AMA564 Deep Learning, Spring 2025:1a"))
    assert info["uuid"] != json.loads((questions / "1b" / "info.json").read_text())["uuid"]
    # question.html: one input per answer, of the answer's kind
    html = (questions / "1a" / "question.html").read_text()
    tree = ET.fromstring(f"<div>{html}</div>")
    inputs = [(e.tag, e.get("answers-name"), e.get("label")) for e in tree.iter()
              if e.tag.startswith("pl-") and e.tag != "pl-question-panel"]
    assert inputs[0] == ("pl-symbolic-input", "ans1", "Sigmoid, derivative:")
    assert inputs[1][0] == "pl-number-input"
    number = tree.find(".//pl-number-input")
    assert (number.get("rtol"), number.get("atol")) == ("0.001", "1e-08")
    assert tree.find(".//pl-symbolic-input").get("variables") == "x"
    net = ET.fromstring(f"<div>{(questions / '1b' / 'question.html').read_text()}</div>")
    # 1b asks for the output and the parameter gradients (issue 15's counted labels)
    assert net.find(".//pl-number-input").get("answers-name") == "ans1"
    assert net.find(".//pl-matrix-component-input").get("answers-name") == "ans2"
    # server.py: generate() gives the key's answers, whatever the seed (one variant today)
    for seed in (0, 1, 17):
        data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        _server(questions / "1a" / "server.py").generate(data)
        got = data["correct_answers"]
        x = sp.Symbol("x")
        assert sp.simplify(sp.parse_expr(got["ans1"]) - elementary(key["1a"]["sigmoid.derivative"])
                           .subs(sp.Symbol("x", real=True), x)) == 0
        assert got["ans2"] == 0.0 and got["ans7"] == 1.0
        assert got["ans8"] == "a"
        assert data["params"]["variant"] == "1" and "\\(\\frac{1}{1+e^{-x}}\\)" in data["params"]["statement"]
        data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        _server(questions / "1b" / "server.py").generate(data)
        assert data["correct_answers"]["ans1"] == 1.33
        assert data["correct_answers"]["ans4"] == [[0.0, 0.0, 0.0], [1.1, 2.2, 3.3]]
        assert [[float(v) for v in row] for row in key["1b"]["grad.W1"].tolist()] \
            == data["correct_answers"]["ans4"]
        assert sorted(data["correct_answers"]) == [f"ans{i}" for i in range(1, 6)]
    assert "1a/leaky_relu.derivative: not exported to PrairieLearn" in result.stderr


def test_deterministic():
    first = export_prairielearn(AMA).files
    assert export_prairielearn(AMA).files == first
