"""Answers to the symbolic network keys (DS-GA 1008 HW1, CS189 2(d)-(f) and Problem 3), as
students write them: in the statement's names (DS-GA numbers z_1 = W^{(1)}x + b^{(1)},
z_2 = f(z_1), z_3 = W^{(2)} z_2 + b^{(2)}, yhat = g(z_3); CS189 a_1 = x, a_2 = ReLU(z_1)),
with functions entry by entry, in plain text and in LaTeX. Each row: label, key, answer,
verdict, and a fragment of the feedback (checked when given). Every right answer has a wrong
neighbour that must stay wrong."""

import pytest

from symderiv.check.report import feedback_text

from .read_keys import judge

D, C = "dsga1008_hw1", "cs189_hw"

CASES = [
    # -- forward table: the statement's names stand for their definitions --------------------
    ("1.1bcd/forward.z2", D, r"W^{(2)} z_2 + b^{(2)}", "correct", ""),
    ("1.1bcd/forward.z2", D, "W2*z2 + b2", "correct", ""),
    ("1.1bcd/forward.z2", D, r"W^{(2)}\max(0, z_1) + b^{(2)}", "correct", ""),
    ("1.1bcd/forward.z2", D, "W2*z1 + b2", "incorrect", ""),
    ("1.1bcd/forward.z2", D, r"W^{(2)} z_2", "incorrect", ""),
    ("1.1bcd/forward.yhat", D, "z_3", "correct", ""),
    ("1.1bcd/forward.yhat", D, r"\hat y = W^{(2)} z_2 + b^{(2)}", "correct", ""),
    ("1.1bcd/forward.yhat", D, "z_2", "incorrect", "shape d×1, but the key's answer is K×1"),
    ("1.1bcd/forward.h1", D, r"\operatorname{ReLU}(z_1)", "correct", ""),
    ("1.1bcd/forward.h1", D, "f(z1)", "correct", ""),
    ("1.1bcd/forward.h1", D, r"f(W^{(1)}x + b^{(1)})", "correct", ""),
    ("1.1bcd/forward.h1", D, "relu(W1*x + b1)", "correct", ""),
    ("1.1bcd/forward.h1", D, r"\sigma(W^{(1)}x + b^{(1)})", "incorrect", ""),
    ("1.1bcd/forward.h1", D, "max(0, W1*x)", "incorrect", ""),
    ("1.2a/forward.h1", D, r"\sigma(W^{(1)}x + b^{(1)})", "correct", ""),
    ("1.2a/forward.h1", D, r"\left[1 + \exp\left(-W^{(1)}x - b^{(1)}\right)\right]^{-1}",
     "correct", ""),
    ("1.2a/forward.h1", D, r"\frac{1}{1 + e^{-(W^{(1)}x + b^{(1)})}}", "correct", ""),
    ("1.2a/forward.h1", D, r"z_2 = \sigma(z_1)", "correct", ""),
    ("1.2a/forward.h1", D, "relu(W1*x + b1)", "incorrect", ""),
    ("1.2a/forward.yhat", D, r"\sigma(z_3)", "correct", ""),
    ("1.2a/forward.yhat", D, "z_3", "incorrect", ""),
    # -- the loss: a norm, a square of a vector, a per-output loss summed ---------------------
    ("1.1bcd/forward.loss", D, "0.5*norm(W2*relu(W1*x + b1) + b2 - y)**2", "correct", ""),
    ("1.1bcd/forward.loss", D, r"\frac{1}{2}(\hat y - y)^T(\hat y - y)", "correct", ""),
    ("1.1bcd/forward.loss", D, r"\frac{1}{2}\left(W^{(2)} z_2 + b^{(2)} - y\right)^2", "correct", ""),
    ("1.1bcd/forward.loss", D, "norm(yhat - y)**2", "incorrect", "constant factor"),
    ("1.1bcd/forward.loss", D, "0.5*norm(yhat - y)", "incorrect", ""),
    ("1.2b/forward.loss", D, "-y*log(yhat) - (1 - y)*log(1 - yhat)", "correct",
     "read as the sum over the outputs"),
    ("1.2b/forward.loss", D, "-y*log(yhat)", "incorrect", ""),
    # -- backward: every name is its definition, ŷ − y is ∂ℓ/∂ŷ of the squared loss ----------
    ("1.1bcd/backward.dL/dz2", D, r"\hat y - y", "correct", ""),
    ("1.1bcd/backward.dL/dz2", D, "W2*z2 + b2 - y", "correct", ""),
    ("1.1bcd/backward.dL/dz2", D, "y - yhat", "incorrect", "sign error"),
    ("1.1bcd/backward.dL/dh1", D, "W2.T*(yhat - y)", "correct", ""),
    ("1.1bcd/backward.dL/dh1", D, r"\frac{\partial \ell}{\partial z_2} = (W^{(2)})^T (\hat y - y)",
     "correct", ""),
    ("1.1bcd/backward.dL/dh1", D, "W2*(yhat - y)", "incorrect", "did you mean W⁽²⁾ᵀ?"),
    ("1.1bcd/backward.dL/dz1", D, "hadamard(W2.T*(yhat - y), Heaviside(z1))", "correct", ""),
    ("1.1bcd/backward.dL/dz1", D, "diag(Heaviside(z1))*W2.T*(yhat - y)", "correct", ""),
    ("1.1bcd/backward.dL/dz1", D, "hadamard(W2.T*dL_dyhat, f_prime(z1))", "correct", ""),
    ("1.1bcd/backward.dL/dz1", D, "hadamard(W2.T*(yhat - y), Heaviside(-z1))", "incorrect", ""),
    ("1.1bcd/backward.dL/dz1", D, "hadamard(W2.T*(yhat - y), z1)", "incorrect", ""),
    ("1.2a/backward.dL/dz2", D, "(yhat - y)*yhat*(1 - yhat)", "correct", ""),
    ("1.2a/backward.dL/dz2", D, "hadamard(yhat - y, sigmoid_prime(z3))", "correct", ""),
    ("1.2a/backward.dL/dz2", D, "dL_dyhat*dyhat_dz3", "correct", ""),
    ("1.2a/backward.dL/dz2", D, "(yhat - y)*sigmoid(z3)", "incorrect", ""),
    ("1.2a/backward.dL/dz2", D, "(yhat - y)*sigmoid_prime(z2)", "incorrect", "shape mismatch"),
    ("1.2b/backward.dL/dz2", D, r"\sigma(z_3) - y", "correct", ""),
    ("1.2b/backward.dL/dz2", D, "hadamard(yhat - y, sigmoid_prime(z3))", "incorrect", ""),
    # -- parameter gradients: a missing transpose is named ------------------------------------
    ("1.1bcd/grad.W2", D, r"(\hat y - y) z_2^\top", "correct", ""),
    ("1.1bcd/grad.W2", D, "(yhat - y)*relu(W1*x + b1).T", "correct", ""),
    ("1.1bcd/grad.W2", D, "(yhat - y)*z2", "incorrect", "did you mean z₂ᵀ"),
    ("1.1bcd/grad.W2", D, "z2*(yhat - y).T", "incorrect", "transpose"),
    ("1.1bcd/grad.b2", D, r"\frac{\partial \ell}{\partial b^{(2)}} = \hat{y} - y", "correct", ""),
    ("1.1bcd/grad.b2", D, "dL_dyhat*dyhat_dz3", "correct", ""),
    ("1.1bcd/grad.b2", D, "W2.T*(yhat - y)", "incorrect", "shape d×1, but the key's answer is K×1"),
    ("1.1bcd/grad.W1", D, "hadamard(W2.T*(yhat - y), Heaviside(z1))*x.T", "correct", ""),
    ("1.1bcd/grad.W1", D, "hadamard(W2.T*(yhat - y), Heaviside(z1))*x", "incorrect",
     "did you mean xᵀ"),
    ("1.1bcd/grad.W1", D, "dL_dyhat*dyhat_dz3*W2*dz2_dz1*x", "incorrect",
     "did you mean W⁽²⁾ᵀ, in front"),
    ("1.2a/grad.W1", D, r"\frac{\partial \ell}{\partial W^{(1)}} = \frac{\partial \ell}{\partial z_1} x^{\top}",
     "correct", ""),
    ("1.2a/grad.W1", D, r"\frac{\partial \ell}{\partial z_1} x", "incorrect", "did you mean xᵀ"),
    # a name for the quantity itself says nothing; another quantity's name is its value
    ("1.1bcd/backward.dL/dz1", D, "dL_dz1", "incorrect", "only names the quantity asked for"),
    ("1.1bcd/backward.dL/dz1", D, r"\frac{\partial \ell}{\partial z_1}", "incorrect",
     "only names the quantity asked for"),
    ("1.2a/backward.dL/dz2", D, "dL_dz3", "incorrect", "only names the quantity asked for"),
    ("1.1bcd/grad.b1", D, "dL_dz1", "correct", ""),
    ("1.1bcd/grad.b1", D, "dL_dz2", "incorrect", ""),
    ("1.1bcd/forward.z1", D, "z_1", "incorrect", "only names z₁"),
    ("1.1bcd/forward.z1", D, r"W^{(1)} x + b^{(1)}", "correct", ""),
    # -- elementwise derivatives: a diagonal Jacobian, or its diagonal, or the identity -------
    ("1.1bcd/elementwise.dh1/dz1", D, "diag(Heaviside(z1))", "correct", ""),
    ("1.1bcd/elementwise.dh1/dz1", D,
     r"$$\frac{\partial z_2}{\partial z_1} = \begin{cases} 1, & \text{if } z_1 > 0 \\ 0, & \text{otherwise} \end{cases}$$",
     "correct", "diagonal"),
    ("1.1bcd/elementwise.dh1/dz1", D,
     r"\begin{cases} 1, & \text{if } z_1 < 0 \\ 0, & \text{otherwise} \end{cases}", "incorrect", ""),
    ("1.1bcd/elementwise.dh1/dz1", D, "diag(Heaviside(-z1))", "incorrect", ""),
    ("1.1bcd/elementwise.dh1/dz1", D, "dz2_dz1", "incorrect", "only names the quantity asked for"),
    ("1.1bcd/elementwise.dyhat/dz2", D, "I_K", "correct", ""),
    ("1.1bcd/elementwise.dyhat/dz2", D, r"$$\frac{\partial \hat{y}}{\partial z_3} = 1$$", "correct",
     "times the identity"),
    ("1.1bcd/elementwise.dyhat/dz2", D, "diag(Heaviside(z3))", "incorrect", ""),
    ("1.2a/elementwise.dyhat/dz2", D, r"\operatorname{diag}(\sigma(z_3)(1-\sigma(z_3)))", "correct", ""),
    ("1.2a/elementwise.dyhat/dz2", D, r"\mathrm{diag}\left(\hat{y}(1-\hat{y})\right)", "correct", ""),
    ("1.2a/elementwise.dyhat/dz2", D, r"\frac{e^{-z_3}}{\left(1 + e^{-z_3}\right)^2}", "correct",
     "diagonal"),
    ("1.2a/elementwise.dyhat/dz2", D, r"\operatorname{diag}(\sigma(z_3))", "incorrect", ""),
    ("1.2a/elementwise.dyhat/dz2", D, r"\operatorname{diag}(\sigma(z_1)(1-\sigma(z_1)))", "incorrect",
     ""),
    # ∂ℓ/∂ŷ entry by entry: a vector answer is read entry by entry (yhat_j, y_j)
    ("1.1bcd/elementwise.dL/dyhat", D, r"\hat y - y", "correct", ""),
    ("1.1bcd/elementwise.dL/dyhat", D, "yhat - y", "correct", ""),
    ("1.1bcd/elementwise.dL/dyhat", D, "y - yhat", "incorrect", ""),
    ("1.2b/elementwise.dL/dyhat", D, "(yhat - y)/(yhat*(1 - yhat))", "correct", ""),
    ("1.2b/elementwise.dL/dyhat", D, r"-\frac{y}{\hat y} + \frac{1-y}{1-\hat y}", "correct", ""),
    ("1.2b/elementwise.dL/dyhat", D, r"\frac{\hat y - y}{\hat y(1 - \hat y)}", "correct", ""),
    ("1.2b/elementwise.dL/dyhat", D, "(yhat - y)/(yhat*(1 + yhat))", "incorrect", ""),
    # -- CS189: a_1 = x, a_2 = ReLU(z_1), a_3 = yhat; σ is the activation after each layer -----
    ("2def/forward.z2", C, "W_2 a_2 + b_2", "correct", ""),
    ("2def/forward.z2", C, r"z_2 = W_2 \sigma_{\text{ReLU}}(z_1) + b_2", "correct", ""),
    ("2def/forward.z2", C, "W_2 a_1 + b_2", "incorrect", "W₂ (k×m) times a₁ (d×1)"),
    ("2def/forward.h1", C, r"a_2 = \operatorname{ReLU}(z_1)", "correct", ""),
    ("2def/forward.h1", C, r"\sigma(W_1 x + b_1)", "correct", ""),
    ("2def/forward.h1", C, "z_1", "incorrect", ""),
    ("2def/backward.dL/dz2", C, r"\frac{\partial \mathrm{MSE}}{\partial z_2} = \hat{y} - y", "correct", ""),
    ("2def/backward.dL/dz2", C, "W_2 a_2 + b_2 - y", "correct", ""),
    ("2def/backward.dL/dz2", C, "W_2 a_2 - y", "incorrect", ""),
    ("2def/backward.dL/dh1", C, r"W_2^{T}(\hat y - y)", "correct", ""),
    ("2def/backward.dL/dh1", C, r"W_2 (\hat y - y)", "incorrect", "did you mean W₂ᵀ?"),
    ("2def/grad.W2", C, r"(\hat y - y) a_2^T", "correct", ""),
    ("2def/grad.W2", C, "(yhat - y)*a2", "incorrect", "did you mean a₂ᵀ"),
    ("2def/grad.W2", C, "dL_da3*dsigma_dz2*a2", "incorrect", "did you mean a₂ᵀ"),
    ("2def/grad.b2", C, "dL_da3*dsigma_dz2", "correct", ""),
    ("2def/grad.b2", C, "dL_da3*drelu_dz2", "incorrect", ""),
    ("2def/grad.b1", C, "dL_da2*dsigma_dz1", "correct", ""),
    ("2def/grad.b1", C, "dL_da2", "incorrect", ""),
    ("2def/elementwise.dyhat/dz2", C, "I_k", "correct", ""),
    ("2def/elementwise.dyhat/dz2", C, "diag(Heaviside(z2))", "incorrect", ""),
    ("3/forward.yp", C, "a_4", "correct", ""),
    ("3/forward.yp", C, "y_p = a_4", "correct", ""),
    ("3/forward.yp", C, "a_3", "incorrect", ""),
    ("3/dE/dx", C, "dL_da4*(w4*w11 + w4*w12*Heaviside(x) + w4*w13*Heaviside(x))", "correct", ""),
    ("3/dE/dx", C, "(yp - y)*w4*(w11 + w12*Heaviside(x) + w13*Heaviside(x))", "correct", ""),
    # the seed student's third path (through a_2) and no w_4
    ("3/dE/dx", C, "(yp - y)*(w11 + w12*Heaviside(x) + w13*Heaviside(a2)*w12*Heaviside(x))",
     "incorrect", ""),
    ("3/dE/dx", C, "dL_da4*(w4*w11 + w4*w12*Heaviside(x) + w4*w13)", "incorrect", "x < 0"),
]


@pytest.mark.parametrize("label, key, text, verdict, fragment", CASES)
def test_network_answer(label, key, text, verdict, fragment):
    outcome = judge(label, text, key=key)
    said = feedback_text(outcome.feedback)
    assert outcome.verdict == verdict, said
    assert fragment in said


def test_every_right_answer_has_a_wrong_neighbour():
    labels = {(label, key) for label, key, _, _, _ in CASES}
    for label, key in labels:
        verdicts = {v for lab, k, _, v, _ in CASES if (lab, k) == (label, key)}
        if "correct" in verdicts:
            assert "incorrect" in verdicts, label


def _submission(name: str) -> dict[str, str]:
    import tomllib

    from .conftest import ROOT

    path = ROOT / "problems" / "submissions" / f"{name}_student.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))["answers"]


def _graded(key: str) -> dict:
    from .read_keys import contexts

    ctxs = contexts(key)
    out = {}
    for full, text in _submission(key).items():
        pid, label = full.split("/", 1)
        assert pid in ctxs and label in ctxs[pid].answers, f"{full}: not a label of the key"
        out[full] = judge(full, str(text), key=key)
    return out


@pytest.mark.slow   # grades a whole seed submission (about 4.5 s)
def test_seed_003_backward_tables_are_wrong_and_named():
    """Seed 003 (DS-GA 1008): W⁽²⁾ without its transpose in every backward table, x for xᵀ and
    z₂ for z₂ᵀ; the sigmoid forward tables, the elementwise derivatives and the BCE loss are
    right."""
    graded = _graded(D)
    for part in ("1.1bcd", "1.2a", "1.2b"):
        for row in ("grad.W1", "grad.b1"):
            outcome = graded[f"{part}/{row}"]
            assert outcome.verdict == "incorrect"
            assert "did you mean W⁽²⁾ᵀ, in front" in feedback_text(outcome.feedback)
    for part in ("1.2a", "1.2b"):
        outcome = graded[f"{part}/grad.W2"]
        assert outcome.verdict == "incorrect"
        assert "transposed (an outer product, shape K×d)" in feedback_text(outcome.feedback)
    assert graded["1.1bcd/grad.W2"].verdict != "correct"
    for full in ("1.2a/forward.h1", "1.2a/forward.z2", "1.2a/forward.yhat", "1.2a/forward.loss",
                 "1.2b/forward.loss", "1.2b/elementwise.dL/dyhat", "1.2a/elementwise.dyhat/dz2",
                 "1.2a/elementwise.dh1/dz1", "1.1bcd/elementwise.dyhat/dz2",
                 "1.1bcd/elementwise.dL/dyhat", "1.1bcd/elementwise.dh1/dz1"):
        assert graded[full].verdict == "correct", (full, feedback_text(graded[full].feedback))


@pytest.mark.slow   # grades a whole seed submission (about 4.5 s)
def test_seed_004_missing_transposes_and_wrong_third_path():
    """Seed 004 (CS189): ∂MSE/∂W_i written as a column (a_i for a_iᵀ); in Problem 3 the third
    path goes through a₂ and every path leaves out w₄; the layer outputs are right."""
    graded = _graded(C)
    for full, name in (("2def/grad.W2", "a₂ᵀ"), ("2def/grad.W1", "a₁ᵀ")):
        outcome = graded[full]
        assert outcome.verdict == "incorrect"
        assert f"did you mean {name} (an outer product" in feedback_text(outcome.feedback)
    assert graded["3/dE/dx"].verdict == "incorrect"
    for full in ("3/forward.a1", "3/forward.a2", "3/forward.a3", "3/forward.a4", "3/forward.yp",
                 "2c/linear.derivative", "2c/relu.derivative", "2c/tanh.derivative"):
        assert graded[full].verdict == "correct", (full, feedback_text(graded[full].feedback))
