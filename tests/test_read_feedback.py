"""Feedback a teacher would write (symderiv/check/feedback.py): the misleading cases of issue 13
and the specific ones (sign of a term, a factor 2, an exponent off by one). Feedback never
shows SymPy syntax (Eq(…), **, oo) or a registry label."""

import re

import pytest

from .read_keys import judge, said

FEEDBACK = [
    # 𝕀(z < 0) for ReLU′: +1 on one side of the kink and −1 on the other, not "plus 1"
    ("2c/relu.derivative", r"\mathbb{I}(z < 0)", "cs189_hw",
     "the two cases are swapped, so this differs from the key at every point: the key's answer "
     "is 0 where z < 0 and 1 where z > 0"),
    # max(0, z) for ReLU′: never "plus 0"
    ("2c/relu.derivative", r"\max(0, z)", "cs189_hw",
     "right where z < 0, but not where z > 0: there the key's answer is 1, not z"),
    # swapped leaky-ReLU branches: one sentence, about x (not the parameter a)
    ("1a/leaky_relu.derivative", r"\begin{cases} a & x > 0 \\ 1 & x < 0 \end{cases}", None,
     "the two cases are swapped, so this differs from the key at every point: the key's answer "
     "is a where x < 0 and 1 where x > 0"),
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x > 0 \\ 0 & x < 0 \end{cases}", None,
     "right where x > 0, but not where x < 0: there the key's answer is a, not 0"),
    # a coincidence of the number 1 is not "the key's value of leaky_relu.limit(+oo)": it is the
    # limit of tanh itself
    ("1a/tanh.limit(+oo)", "1", None,
     "this is the limit of tanh itself at +∞, not of its derivative: the key's answer is 0"),
    ("1a/tanh.limit(-oo)", "4", None, "the key's answer is 0"),
    ("1a/leaky_relu.limit(+oo)", "a", None,
     "this is the limit at −∞, not at +∞: the two limits are swapped?"),
    ("1b/forward.loss", "1.33", None, "this is the key's answer to another part: ŷ"),
    ("Q4/steps_to_tolerance[alpha=0.5]", "never", None, "the key's answer is 7"),
    # the key's equation in its own notation, not Eq(F(q), tau)
    ("2/conclusion", r"F(q) = 1 - \tau", None, "not equivalent to the key's F(q) = τ"),
    # the sign of one term
    ("1a/sigmoid.derivative", r"\sigma(x)(1+\sigma(x))", None,
     "sign error in one term: the key's answer has 1 - σ(x) where this has σ(x) + 1"),
    ("1a/tanh.derivative", r"1 + \tanh^2(x)", None,
     "sign error in one term: the key's answer has 1 - tanh(x)^2 where this has tanh(x)^2 + 1"),
    ("1a/sigmoid.derivative", r"\sigma(x)(\sigma(x) - 1)", None,
     "sign error: this is the negative of the key's answer"),
    # a factor 2
    ("1b/backward.dL/dyhat", "2", None, "off by a factor of 2: this is 2 times the key's answer"),
    ("1b/forward.loss", r"(\hat y - y)^2", None,
     "off by a factor of 2: this is 2 times the key's answer"),
    ("1a/sigmoid.derivative", r"2\sigma(x)(1-\sigma(x))", None,
     "off by a constant factor: this is 2 times the key's answer"),
    # an exponent off by one
    ("Q4/closed_form", r"100 - 100(1-\alpha)^{t+1}", None,
     "an exponent is off by one: the key's answer has (1 - α)^t where this has (1 - α)^(t + 1)"),
    ("Q4/closed_form", r"100 - 100(1-\alpha)^{t-1}", None,
     "an exponent is off by one: the key's answer has (1 - α)^t where this has (1 - α)^(t - 1)"),
    ("1a/sigmoid.derivative", r"\frac{e^{-x}}{(1+e^{-x})^3}", None,
     "an exponent is off by one: the key's answer has (1 + exp(-x))^(-2) where this has "
     "(1 + exp(-x))^(-3)"),
    # still the generic sentences where nothing specific applies
    ("1a/sigmoid.derivative", r"\sigma(x)(1-\sigma(x)) + 3", None,
     "off by a constant: this is the key's answer plus 3"),
    ("1a/sigmoid.limit(+oo)", r"\sigma(x)(1-\sigma(x))", None,
     "the key's answer is the number 0; this still depends on x"),
]
RIGHT = [  # the right neighbours of the wrong answers above
    ("2c/relu.derivative", r"\mathbb{I}(z > 0)", "cs189_hw"),
    ("2c/relu.derivative", r"\mathbb{I}(z \geq 0)", "cs189_hw"),
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x > 0 \\ a & x < 0 \end{cases}", None),
    ("1a/tanh.limit(+oo)", "0", None),
    ("2/conclusion", r"1 - F(q) = 1 - \tau", None),
    ("1b/backward.dL/dyhat", "1", None),
    ("1b/forward.loss", r"\frac{(\hat y - y)^2}{2}", None),
    ("Q4/closed_form", r"100 - 100(1-\alpha)^{t}", None),
    ("Q4/closed_form", r"100(1 - (1-\alpha)^{t})", None),
]


@pytest.mark.parametrize("label, text, key, feedback", FEEDBACK)
def test_feedback(label, text, key, feedback):
    outcome = judge(label, text, key=key)
    assert (outcome.verdict, said(outcome)) == ("incorrect", feedback)
    assert not re.search(r"Eq\(|\*\*|\boo\b|\.limit\(|leaky_relu|Piecewise|Heaviside",
                         said(outcome))


@pytest.mark.parametrize("label, text, key", RIGHT)
def test_right_neighbours(label, text, key):
    assert judge(label, text, key=key).verdict == "correct"


@pytest.mark.parametrize("value, text", [
    ("Piecewise((a, x > 0), (1, x < 0))", "a if x > 0; 1 if x < 0"),
    ("Eq(F(q), tau)", "F(q) = τ"),
    ("(1 - alpha)**(t + 1)", "(1 - α)^(t + 1)"),
    ("yhat - y", "-y + ŷ"),
    ("oo", "∞"),
])
def test_answers_are_shown_in_plain_notation(value, text):
    import sympy as sp

    from symderiv.check.read import describe

    assert describe(sp.sympify(value, locals={"F": sp.Function("F")})) == text


# --- the statement's notation in plain text (console and JSON) ------------------------------

STATEMENT_NOTATION = [
    # CS189 writes z_i = W_i a_i + b_i: b₂, W₂ᵀ; DS-GA 1008 writes W^{(2)}, b^{(2)}; both ŷ
    ("2def/forward.yhat", r"W_2 \sigma(W_1 x + b_1)", "cs189_hw",
     "a term is missing: the key's answer also has b₂"),
    ("1.1bcd/forward.yhat", r"W^{(2)} z_2", "dsga1008_hw1",
     "a term is missing: the key's answer also has b⁽²⁾"),
    ("1.1bcd/forward.z1", r"W^{(1)} x", "dsga1008_hw1",
     "a term is missing: the key's answer also has b⁽¹⁾"),
    ("2def/backward.dL/dh1", r"W_2^T (\hat y - y) + y", "cs189_hw",
     "shape mismatch in W₂ᵀ·(-y + ŷ) + y: m×1 and k×1"),
    ("1.1bcd/backward.dL/dh1", r"(W^{(2)})^T(\hat y - y) + y", "dsga1008_hw1",
     "shape mismatch in W⁽²⁾ᵀ·(-y + ŷ) + y: d×1 and K×1"),
    # NNDL Q2.1's matrix gradient: a transpose as ᵀ, factors side by side (was A.T*x)
    ("Q2.1/gradient", "Ax + z", None, "a term is missing: the key's answer also has Aᵀx"),
]


@pytest.mark.parametrize("label, text, key, feedback", STATEMENT_NOTATION)
def test_feedback_speaks_the_statements_notation(label, text, key, feedback):
    outcome = judge(label, text, key=key)
    assert (outcome.verdict, said(outcome)) == ("incorrect", feedback)
    assert not re.search(r"\b(b2|W2|yhat|b1|W1)\b|\.T\b|\*", said(outcome))


def test_the_feedback_sheet_keeps_its_latex():
    """The PDF typesets the key's value as before (b_{2}); only plain text uses b₂."""
    from symderiv.check.report import feedback_tex

    outcome = judge("2def/forward.yhat", r"W_2 \sigma(W_1 x + b_1)", key="cs189_hw")
    assert feedback_tex(outcome.feedback) == "a term is missing: the key's answer also has $b_{2}$"


@pytest.mark.parametrize("value, names, text", [
    ("A.T*x", (), "Aᵀx"),
    ("-2*A.T*b2", (), "-2Aᵀb₂"),
    ("W2.T*(yhat - y)", (("W2", "W⁽²⁾"),), "W⁽²⁾ᵀ(ŷ - y)"),
    ("(A*x).T", (), "xᵀAᵀ"),
    ("lam*theta/2", (), "λθ/2"),
    ("alpha*exp(z)", (), "α·exp(z)"),
    ("2*3*MSE", (), "6·MSE"),
    ("h1", (("h1", "z₂"),), "z₂"),
    ("dL_dz2", (("__loss__", "ℓ"),), "∂ℓ/∂z₂"),
])
def test_plain_text_in_the_statements_notation(value, names, text):
    import sympy as sp

    from symderiv.check.report import plain, statement_printer

    shapes = {"A": (3, 3), "x": (3, 1), "b2": (3, 1), "W2": (3, 3), "yhat": (3, 1), "y": (3, 1)}
    matrices = {n: sp.MatrixSymbol(n, *s) for n, s in shapes.items()} if ".T" in value else {}
    expr = sp.sympify(value, locals={**matrices, "lam": sp.Symbol("lam"),
                                     "theta": sp.Symbol("theta"), "alpha": sp.Symbol("alpha")})
    assert plain(expr, statement_printer(names)) == text


def test_check_prints_the_statements_notation_in_the_console_and_the_json(write_toml):
    """symderiv check on CS189's 2(d)-(f) (the seed's own problem): b₂ in both."""
    import json

    from click.testing import CliRunner

    from symderiv.cli import main

    from .conftest import ROOT

    seed = (ROOT / "problems" / "cs189_hw.toml").read_text(encoding="utf-8")
    start = seed.index('[[problem]]\nid = "2def"')
    end = seed.find("[[problem]]", start + 10)
    key = write_toml('[meta]\ntitle = "CS189 2(d)-(f)"\n\n' + seed[start:end if end > 0 else None],
                     "cs189_2def.toml")
    answers = write_toml("[answers]\n\"2def/forward.yhat\" = 'W_2 \\sigma(W_1 x + b_1)'\n",
                         "answers.toml")
    env = {"SYMDERIV_CACHE": "off"}
    console = CliRunner().invoke(main, ["check", str(key), str(answers)], env=env)
    assert "→ a term is missing: the key's answer also has b₂\n" in console.output
    result = CliRunner().invoke(main, ["check", str(key), str(answers), "--json"], env=env)
    (graded,) = [r for r in json.loads(result.output)["results"] if r["label"] == "2def/forward.yhat"]
    assert (graded["verdict"], graded["feedback"]) == (
        "incorrect", "a term is missing: the key's answer also has b₂")


def test_the_feedback_sheet_typesets_the_statements_subscripts():
    """A sentence in the statement's notation reaches the PDF as text: W₂ is W$_{2}$ there,
    never the code point [U+2082] (CS189's ∂MSE/∂W₂ and shape mismatches)."""
    from symderiv.check.report import feedback_tex

    outcome = judge("2def/backward.dL/dh1", r"W_2^T (\hat y - y) + y", key="cs189_hw")
    sheet = feedback_tex(outcome.feedback)
    assert sheet == ("shape mismatch in W$_{2}$$^{\\top}$$\\cdot$(-y + ŷ) + y: m$\\times$1 and "
                     "k$\\times$1")
    assert "[U+" not in feedback_tex(judge("2def/grad.W2", r"\frac{\partial \mathrm{MSE}}{\partial \hat y} a_1^T",
                                           key="cs189_hw").feedback)
