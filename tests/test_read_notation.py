"""The statement's notation (symbol/check/notation.py): what each key publishes, and answers
written with it; every right answer has its wrong neighbour."""

import pytest

from symderiv.check.notation import statement_definitions

from .read_keys import contexts, judge, said


@pytest.mark.parametrize("statement, definitions", [
    (r"With $\boldsymbol{z} = \mathbf{W}\boldsymbol{x} + \boldsymbol{b}$ and "
     r"$L = \|\boldsymbol{z} - \boldsymbol{y}\|^2$, solve",
     [("z", r"\mathbf{W}\boldsymbol{x} + \boldsymbol{b}"), ("L", r"\|\boldsymbol{z} - \boldsymbol{y}\|^2")]),
    (r"$a_1 = w_{11} x + b_{11}$, $y_p = a_4$ (linear output)",
     [("a1", r"w_{11} x + b_{11}"), ("yp", "a_4")]),
    (r"Let $\sigma(a) = \max\{0, a\}$ and $f(x) = x^2$", []),   # functions, not names
    (r"\[ W^{(1)} = \begin{bmatrix} 1 \end{bmatrix},\quad b^{(1)} = 2 \]",
     [("W1", r"\begin{bmatrix} 1 \end{bmatrix}"), ("b1", "2")]),
    (r"a sample $y = 0.33$; $0 < a < 1$", [("y", "0.33")]),
])
def test_statement_definitions(statement, definitions):
    assert statement_definitions(statement) == definitions


@pytest.mark.parametrize("key, pid, published", [
    ("ama564_a1", "1b", {"y": "33/100", "z2": "133/100", "yhat": "133/100", "L": "1/2"}),
    # L = ‖z − y‖²: the norm reads (as the key's own norm(v)**2 does)
    ("nndl_hw1", "Q3", {"z": "W*x + b", "L": "Trace((W*x + b - y).T*(W*x + b - y))"}),
    ("ama564_a1", "1a", {}),
])
def test_published_names(key, pid, published):
    assert {n: str(v) for n, v in contexts(key)[pid].notation.items()} == published


@pytest.mark.slow
def test_settings_are_not_names():
    """"for $\\eta = 0.1$", "the book prints $x_1 = -0.057646$": numbers in a statement are
    settings, not names; an expression is a name (η = 1/L)."""
    from symderiv.spec import load

    from .conftest import ROOT

    problem = load(ROOT / "problems/examples/gd_several_dimensions.toml").problems[0]
    assert ("eta", "0.1") in statement_definitions(problem.statement)
    assert contexts("examples/gd_several_dimensions")["1"].notation == {}
    assert {n: str(v) for n, v in contexts("examples/optimization_proofs")["3"].notation.items()} \
        == {"eta": "1/L"}


@pytest.mark.slow
def test_graph_nodes_are_published():
    notation = contexts("cs189_hw")["3"].notation
    assert str(notation["a1"]) == "b11 + w11*x"
    assert notation["yp"] == notation["a4"]


NOTATION = [
    ("1b/backward.dL/dyhat", r"$$\frac{\partial L}{\partial \hat{y}} = \hat{y} - y = 1$$",
     "correct", ""),
    ("1b/backward.dL/dyhat", r"$$\frac{\partial L}{\partial \hat{y}} = \hat{y} + y = 1$$",
     "incorrect", "the last value is right, but a middle step is not: y + ŷ is 83/50, not 1"),
    ("1b/backward.dL/dyhat", r"\hat{y} - y", "correct", ""),
    ("1b/backward.dL/dyhat", r"y - \hat{y}", "incorrect",
     "sign error: this is the negative of the key's answer"),
    ("1b/backward.dL/dyhat", "yhat - y", "correct", ""),
    ("1b/forward.loss", r"\frac{1}{2}(\hat y - y)^2", "correct", ""),
    ("1a/tanh.derivative", r"\mathrm{sech}^2(x)", "correct", ""),
    ("1a/tanh.derivative", r"\text{sech}^2 x", "correct", ""),
    ("1a/tanh.derivative", "sech(x)^2", "correct", ""),
    ("1a/tanh.derivative", r"\operatorname{sech}(x)", "incorrect",
     "differs from the key at x = -211/100: the key gives 0.0571036, this gives 0.238963"),
    ("1a/sigmoid.derivative", r"\frac{\mathrm{e}^{-x}}{(1+\mathrm{e}^{-x})^2}", "correct", ""),
    ("1a/sigmoid.derivative", r"\frac{\mathrm{e}^{-x}}{(1+\mathrm{e}^{x})^2}", "incorrect",
     "differs from the key at x = -2243/1000: the key gives 0.0867476, this gives 7.70021"),
    ("Q4/steps_to_tolerance[alpha=2.5]", "never", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=2.5]", "does not converge", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=2.5]", r"\text{never}", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=2.5]", r"\text{never (diverges)}", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=2.5]", "12", "incorrect", "the key's answer is ∞"),
    ("Q4/steps_to_tolerance[alpha=0.5]", r"7 \text{ iterations}", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=0.5]", "7 steps", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=0.5]", "6 steps", "incorrect", "the key's answer is 7"),
    # σ alone is σ(x) in a problem of one variable; then σ (1 − σ) is a product
    ("1a/sigmoid.derivative", r"\sigma (1-\sigma)", "correct", ""),
    ("1a/sigmoid.derivative", r"\sigma - \sigma^2", "correct", ""),
    ("1a/sigmoid.derivative", r"\sigma(x)(1-\sigma)", "correct", ""),
    ("1a/sigmoid.derivative", r"\sigma (1+\sigma)", "incorrect",
     "sign error in one term: the key's answer has 1 - σ(x) where this has σ(x) + 1"),
    ("1a/tanh.derivative", r"1 - \tanh^2", "correct", ""),
    ("1a/tanh.derivative", r"1 + \tanh^2", "incorrect",
     "sign error in one term: the key's answer has 1 - tanh(x)^2 where this has tanh(x)^2 + 1"),
    ("3/conclusion", r"\frac{2L(f(\theta^0)-\bar f)}{T}", "correct", ""),
    ("3/conclusion", r"\frac{2L\{f(\theta^{0})-\bar{f}\}}{T}", "correct", ""),
    ("3/conclusion", r"\frac{L(f(\theta^0)-\bar f)}{T}", "incorrect",
     "off by a constant factor: this is 1/2 times the key's answer"),
    ("Q3/gradient", r"2(z - y)x^T", "correct", ""),
    ("Q3/gradient", r"2(\mathbf{z} - \mathbf{y})\mathbf{x}^\top", "correct", ""),
    ("Q3/gradient", "2*(z - y)*x.T", "correct", ""),
    ("Q3/gradient", r"(z - y)x^T", "incorrect",
     "off by a constant factor: the key's answer is 2 times this"),
]
CS189 = [
    ("2c/tanh.derivative", r"1 - \sigma_{\tanh}^2(z)", "correct", ""),
    ("2c/tanh.derivative", r"1 - \sigma_{tanh}(z)^2", "correct", ""),
    ("2c/tanh.derivative", r"1 + \sigma_{\tanh}^2(z)", "incorrect",
     "sign error in one term: the key's answer has 1 - tanh(z)^2 where this has tanh(z)^2 + 1"),
    ("3/dE/dx", r"w_4 (y_p - y)(w_{11} + (w_{12} + w_{13})\mathbb{I}(x > 0))", "correct", ""),
    ("3/dE/dx", r"w_4 (a_4 - y)(w_{11} + (w_{12} + w_{13})\mathbb{I}(x > 0))", "correct", ""),
    ("3/dE/dx", r"\frac{\partial E}{\partial x} = w_4 (y_p - y)(w_{11} + w_{12} \mathbb{I}(x > 0)"
     r" + w_{13}\mathbb{I}(x>0))", "correct", ""),
    ("2b/mse.derivative", r"\hat y - y", "correct", ""),
    # a symbolic network: σ is the hidden activation (the notation's hidden_fn), applied to a
    # vector entry by entry; a₂ is the input of layer 2 (h₁); ∂MSE/∂ŷ is the key's symbol
    ("2def/forward.h1", r"\sigma(W_1 x + b_1)", "correct", ""),
    ("2def/forward.h1", r"\text{ReLU}(W_1 x + b_1)", "correct", ""),
    ("2def/forward.h1", r"\max(0, W_1 x + b_1)", "correct", ""),
    ("2def/forward.h1", r"\max(0, W_1 x)", "incorrect",
     "differs from the key's answer entry by entry at a concrete size"),
    ("2def/forward.yhat", r"W_2 \sigma(W_1 x + b_1) + b_2", "correct", ""),
    ("2def/forward.yhat", r"W_2 \sigma(W_1 x + b_1)", "incorrect",
     "a term is missing: the key's answer also has b₂"),
    ("2def/grad.W2", r"\frac{\partial \mathrm{MSE}}{\partial \hat y} a_2^T", "correct", ""),
    ("2def/grad.W2", r"\frac{\partial \mathrm{MSE}}{\partial \hat y} a_1^T", "incorrect",
     "shape k×d, but the key's answer is k×m: ∂MSE/∂W₂ has the shape of W₂"),
    ("2def/backward.dL/dh1", r"W_2^T \frac{\partial \mathrm{MSE}}{\partial \hat y}", "correct", ""),
    ("2b/mse.derivative", r"2(\hat y - y)", "incorrect",
     "off by a constant factor: this is 2 times the key's answer"),
]


@pytest.mark.parametrize("label, text, verdict, feedback", NOTATION)
def test_statement_notation(label, text, verdict, feedback):
    outcome = judge(label, text)
    assert (outcome.verdict, said(outcome)) == (verdict, feedback)


@pytest.mark.parametrize("label, text, verdict, feedback", CS189)
@pytest.mark.slow
def test_statement_notation_cs189(label, text, verdict, feedback):
    outcome = judge(label, text, key="cs189_hw")
    assert (outcome.verdict, said(outcome)) == (verdict, feedback)


def test_graph_answer_without_the_outer_weight_is_wrong():
    outcome = judge("3/dE/dx", r"(y_p - y)(w_{11} + (w_{12} + w_{13})\mathbb{I}(x > 0))",
                    key="cs189_hw")
    assert outcome.verdict == "incorrect"
