"""Rendering: golden .tex (regenerate on purpose with SYMDERIV_REGEN_GOLDEN=1), filters."""

import os
from pathlib import Path

import sympy as sp

from symderiv.render import render_document, tex
from symderiv.solve import solve_set
from symderiv.spec import load
from symderiv.texsafe import escape

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "small.tex"


def test_golden_answer_key():
    ps = load(HERE / "data" / "small.toml")
    text = render_document(ps, solve_set(ps))
    if os.environ.get("SYMDERIV_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_teacher_forms_print_like_a_teacher():
    x = sp.Symbol("x")
    s = sp.Function(r"\sigma")(x)
    assert tex(s * (1 - s)) == r"\sigma(x) \left(1 - \sigma(x)\right)"  # no \left gap after σ
    assert tex(sp.Function(r"\sigma")(1 / (1 + x))) == r"\sigma\mathopen{}\left(\frac{1}{x + 1}\right)\mathclose{}"
    i, j = sp.symbols("i j", integer=True)
    c = sp.Function("s")
    assert tex(c(i) * (sp.KroneckerDelta(i, j) - c(j))) == r"s_{i} \left(\delta_{ij} - s_{j}\right)"


def test_piecewise_prints_cases_with_intervals():
    x = sp.Symbol("x")
    pw = sp.Piecewise((0, x < -1), (1, (x > -1) & (x < 1)), (0, x > 1))
    assert tex(pw) == (r"\begin{cases} 0 & \text{if } x < -1 \\ 1 & \text{if } -1 < x < 1 \\ "
                       r"0 & \text{if } x > 1 \end{cases}")


def test_long_fractions_print_as_decimals():
    assert tex(sp.Rational("1.0507009873554804934193349852946")) == r"1.050700987\ldots"


def test_escape_plain_text():
    assert escape(r"50% of $x_1 & {y}\ ~^") == (
        r"50\% of \$x\_1 \& \{y\}\textbackslash{} \textasciitilde{}\textasciicircum{}")
