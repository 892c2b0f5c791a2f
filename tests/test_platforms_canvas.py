"""Canvas QTI 1.2 export: the manifest, question groups drawing one variant, numerical and
short-answer items holding the key's values, math as \\( … \\)."""

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
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


@pytest.mark.slow
def test_items_hold_the_key():
    result = export_canvas(AMA)
    name, quiz = _open(result)
    assert name == "ama564_a1-canvas-qti.zip"
    (assessment,) = quiz.iter(f"{Q}assessment")
    assert assessment.get("title") == "AMA564 Assignment 1"
    groups = assessment.find(f"{Q}section").findall(f"{Q}section")
    for group in groups:
        assert group.find(f".//{Q}selection_number").text == "1"
        assert len(group.findall(f"{Q}item")) == 1  # one variant without --n
    # one group per problem; a problem's points are its counted labels' (issue 15's rule):
    # 1a 3 less leaky ReLU's derivative (piecewise, not exported), 1b 3, 3: 2
    titles = [g.get("title") for g in groups]
    assert titles == ["Question 1(a): derivatives of activation functions",
                      "Question 1(b): forward pass and back-propagation",
                      "Question 3: gradient descent on an L-smooth function"]
    assert [g.find(f".//{Q}points_per_item").text for g in groups] == ["2.67", "3", "2"]
    items = [g.find(f"{Q}item") for g in groups]
    assert [_meta(i, "question_type") for i in items] == ["fill_in_multiple_blanks_question"] * 2 \
        + ["short_answer_question"]  # 3: one answer, an expression
    # 1b: a blank per number (the output, then each gradient entry by entry), each accepting
    # the key's value as decimals within rtol
    net = items[1]
    blanks = net.findall(f".//{Q}response_lid")
    assert len(blanks) == 1 + 2 + 1 + 6 + 2
    forms = {b.get("ident"): [m.text for m in b.iter(f"{Q}mattext")][1:] for b in blanks}
    assert forms["response_b1"] == ["1.33", "1.330", "1.3300"]  # ŷ = 1.33
    assert forms["response_b3"] == ["1.3", "1.30", "1.300", "1.3000"]  # ∂L/∂W2, entry (1, 2)
    assert forms["response_b5"][0] == "0"
    # each blank's share of 100 (1b: 0.6 points per label, split over its entries)
    adds = {}
    for c in net.iter(f"{Q}respcondition"):
        adds[c.find(f".//{Q}varequal").get("respident")] = c.find(f"{Q}setvar").text
    assert adds["response_b1"] == "20.00" and adds["response_b2"] == "10.00"
    assert adds["response_b5"] == "3.34" and adds["response_b7"] == "3.33"
    assert adds["response_b11"] == "10.00"
    assert sum(float(v) for v in adds.values()) == pytest.approx(100)
    prompt = net.find(f".//{Q}mattext").text
    assert "[b1]" in prompt and "[b12]" in prompt and "$" not in prompt
    first = items[0]
    (zero_id,) = [b for b in first.findall(f".//{Q}response_lid")
                  if b.get("ident") == "response_b2"]
    # a key of 0 accepts 0 written as 0, 0.0 … (no rounding of a nonzero number to 0)
    assert [m.text for m in zero_id.iter(f"{Q}mattext")][1:] == ["0", "0.0", "0.00", "0.000", "0.0000"]
    # an expression: short answer, the key's forms as text
    derivative = first.findall(f".//{Q}response_lid")[0]
    forms = [m.text for m in derivative.iter(f"{Q}mattext")][1:]
    assert forms[0] == "exp(x)/(exp(x) + 1)**2" and "exp(x)/(exp(x)+1)^2" in forms
    x = sp.Symbol("x")
    assert sp.parse_expr(forms[0]) == sp.exp(x) / (sp.exp(x) + 1) ** 2
    # math as \( … \), no dollar signs
    text = first.find(f".//{Q}mattext").text
    assert r"\(\frac{1}{1+e^{-x}}\)" in text and "$" not in text
    assert [(s.problem, s.label) for s in result.skipped] == [
        ("1a", "leaky_relu.derivative"), ("2", "conclusion"), ("2", "")]


@pytest.mark.slow
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


def test_a_blank_accepts_the_number_rounded_within_rtol():
    from symderiv.platforms.canvas import number_forms

    # ... and to 3, 4, 5 significant figures (the prompt asks for 4 with rtol 1e-3)
    assert number_forms(sp.Rational(1, 3), 1e-3) == ["0.333333333333", "0.333", "0.3333",
                                                     "0.33333"]
    assert number_forms(sp.Rational(133, 100), 1e-3) == ["1.33", "1.330", "1.3300"]
    assert number_forms(sp.Rational(-16, 5), 1e-3) == ["-3.2", "-3.20", "-3.200", "-3.2000"]
    assert number_forms(sp.Integer(0), 1e-3) == ["0", "0.0", "0.00", "0.000", "0.0000"]
    # a looser tolerance accepts coarser roundings: within 5% of 1.33 is 1.3 too, not 1
    assert number_forms(sp.Rational(133, 100), 0.05) == ["1.33", "1.3", "1.330", "1.3300"]


def test_a_small_number_accepts_its_significant_figures():
    """A gradient entry 0.00312848… has no rounding to 4 decimals within 1e-3 (0.0031 is 1%
    off): its roundings to 3, 4 and 5 significant figures are listed, and the prompt asks for
    4 (the fewest whose rounding is always within rtol)."""
    from symderiv.platforms.canvas import figures, number_forms

    value = sp.Rational(312848713946, 10 ** 14)
    assert number_forms(value, 1e-3) == ["0.00312848713946", "0.00313", "0.003128", "0.0031285"]
    assert [figures(r) for r in (1e-2, 1e-3, 5e-4, 1e-4, 0.05)] == [3, 4, 4, 5, 2]
    # a number too small for 3 figures within rtol: only 4 and 5
    assert number_forms(sp.Rational(1234567, 10 ** 9), 1e-3) == ["0.001234567", "0.001235",
                                                                "0.0012346"]


def test_a_huge_number_has_forms_too():
    """A diverging iterate (3^60, 29 digits) is past Decimal's precision for 4 decimals: its
    significant-figure forms are listed, and nothing raises (it used to stop the export)."""
    from symderiv.platforms.canvas import number_forms

    forms = number_forms(sp.Integer(3) ** 60, 1e-3)
    assert "42390000000000000000000000000" in forms and "42391158275200000000000000000" in forms


def test_an_expression_lists_the_writings_a_student_types():
    """Short answers are compared as text: the key's form and its expanded, factored and
    simplified writings, with ^ and **, with and without spaces, e^x for exp(x)."""
    from symderiv.platforms.canvas import text_forms

    x = sp.Symbol("x", real=True)
    forms = text_forms((x + 1) ** 2)
    assert forms == ["(x + 1)**2", "(x+1)**2", "(x + 1)^2", "(x+1)^2", "x**2 + 2*x + 1",
                     "x**2+2*x+1", "x^2 + 2*x + 1", "x^2+2*x+1"]
    forms = text_forms(sp.exp(x) / (sp.exp(x) + 1) ** 2)
    assert {"exp(x)/(exp(x) + 1)^2", "e^x/(e^x+1)^2", "1/(4*cosh(x/2)^2)"} <= set(forms)
    # every listed form is the key
    from sympy.parsing.sympy_parser import parse_expr
    for text in forms:
        if "e^" in text:
            continue   # e^x is the student's writing of exp(x), not SymPy syntax
        back = parse_expr(text.replace("^", "**"), local_dict={"x": x})
        assert sp.simplify((back - sp.exp(x) / (sp.exp(x) + 1) ** 2).rewrite(sp.exp)) == 0, text
