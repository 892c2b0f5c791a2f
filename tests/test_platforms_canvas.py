"""Canvas QTI 1.2 export: the manifest, question groups drawing one variant, numerical and
short-answer items holding the key's values, math as \\( … \\)."""

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.platforms.canvas import export_canvas

ROOT = Path(__file__).resolve().parent.parent
AMA = ROOT / "problems" / "ama564_a1.toml"
Q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def _open(result):
    ((name, data),) = result.files.items()
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    (resource,) = manifest.iter(f"{CP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2"
    href = resource.find(f"{CP}file").get("href")
    assert sorted(archive.namelist()) == sorted(["imsmanifest.xml", href])
    return name, ET.fromstring(archive.read(href))


def _meta(item, label):
    for field in item.iter(f"{Q}qtimetadatafield"):
        if field.find(f"{Q}fieldlabel").text == label:
            return field.find(f"{Q}fieldentry").text
    return None


def test_items_hold_the_key():
    result = export_canvas(AMA)
    name, quiz = _open(result)
    assert name == "ama564_a1-canvas-qti.zip"
    (assessment,) = quiz.iter(f"{Q}assessment")
    assert assessment.get("title") == "AMA564 Assignment 1"
    groups = assessment.find(f"{Q}section").findall(f"{Q}section")
    for group in groups:
        assert group.find(f".//{Q}selection_number").text == "1"
        assert len(group.findall(f"{Q}item")) == 1  # one variant today
    titles = [g.get("title") for g in groups]
    assert titles[0] == "1a: Sigmoid, derivative"
    assert "1b: forward, z1, entry (2, 1)" in titles
    # a problem's points add up over its groups (AMA564 1a: 3, 1b: 3, 3: 2)
    per_problem = {}
    for g in groups:
        pid = g.get("title").split(":")[0]
        per_problem[pid] = per_problem.get(pid, 0) + float(g.find(f".//{Q}points_per_item").text)
    assert {k: round(v, 6) for k, v in per_problem.items()} == {"1a": 3.0, "1b": 3.0, "3": 2.0}
    items = {g.get("title"): g.find(f"{Q}item") for g in groups}
    # a number: the key's value, and a range of rtol around it
    z1 = items["1b: forward, z1, entry (1, 1)"]
    assert _meta(z1, "question_type") == "numerical_question"
    assert z1.find(f".//{Q}varequal").text == "-3.2"
    assert z1.find(f".//{Q}vargte").text == "-3.2032"
    assert z1.find(f".//{Q}varlte").text == "-3.1968"
    # a key of 0 must be answered 0 (an absolute 1e-8), not anything within 0.001
    zero = items["1a: Sigmoid, limit at \\(+\\infty\\)"]
    assert [zero.find(f".//{Q}{tag}").text for tag in ("varequal", "vargte", "varlte")] \
        == ["0", "-0.00000001", "0.00000001"]
    # an expression: short answer, the key's forms as text
    derivative = items["1a: Sigmoid, derivative"]
    assert _meta(derivative, "question_type") == "short_answer_question"
    forms = [v.text for v in derivative.iter(f"{Q}varequal")]
    assert forms[0] == "exp(x)/(exp(x) + 1)**2" and "exp(x)/(exp(x)+1)^2" in forms
    x = sp.Symbol("x")
    assert sp.parse_expr(forms[0]) == sp.exp(x) / (sp.exp(x) + 1) ** 2
    # math as \( … \), no dollar signs
    text = derivative.find(f".//{Q}mattext").text
    assert r"\(\frac{1}{1+e^{-x}}\)" in text and "$" not in text
    assert [(s.problem, s.label) for s in result.skipped] == [
        ("1a", "leaky_relu.derivative"), ("2", "conclusion"), ("2", "")]


def test_deterministic_and_cli(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    first = runner.invoke(main, ["export", "canvas", str(AMA), "-o", str(out)])
    assert first.exit_code == 0, first.output
    data = (out / "ama564_a1-canvas-qti.zip").read_bytes()
    assert runner.invoke(main, ["export", "canvas", str(AMA), "-o", str(out)]).exit_code == 0
    assert (out / "ama564_a1-canvas-qti.zip").read_bytes() == data
    assert "1a/leaky_relu.derivative: not exported to Canvas: a piecewise expression" in first.stderr


def test_numbers_are_written_without_exponents():
    import sympy as sp

    from symderiv.platforms import decimal

    assert [decimal(v) for v in (sp.Rational(133, 100), 1500000, sp.Rational(1, 10 ** 7),
                                 -sp.Rational(1, 3), 0, sp.Rational(-16, 5))] \
        == ["1.33", "1500000", "0.0000001", "-0.333333333333", "0", "-3.2"]
