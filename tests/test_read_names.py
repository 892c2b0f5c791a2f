"""What a left-hand side names (symbol/check/names.py): recognise, of_label, conflict, words."""

import pytest

from symderiv.check.names import canonical_name, conflict, of_label, recognise, words


@pytest.mark.parametrize("text, quantity", [
    (r"\frac{\partial L}{\partial W^{(1)}}", ("d", None, "W1")),
    (r"\frac{\partial L}{\partial \mathbf{W}_1}", ("d", None, "W1")),
    (r"\frac{\partial \ell}{\partial z^{[2]}}", ("d", None, "z2")),
    (r"\frac{\partial L}{\partial \hat{y}}", ("d", None, "yhat")),
    (r"\frac{dL}{d\hat y}", ("d", None, "yhat")),
    ("dL/dyhat", ("d", None, "yhat")),
    ("dL/dW1", ("d", None, "W1")),              # a plain index, as W_1
    ("z1", ("value", "z1")),
    (r"\frac{\partial \text{MSE}}{\partial \hat{\vec{y}}}", ("d", None, "yhat")),
    (r"\partial L / \partial \hat{y}", ("d", None, "yhat")),
    (r"\hat y", ("value", "yhat")),
    (r"\hat{y}", ("value", "yhat")),
    (r"f(x; \theta)", ("value", "f")),
    ("y_p", ("value", "yp")),
    ("t", ("value", "t")),
    (r"f'(x)", ("d", None, "x")),
    (r"\sigma'(x)", ("d", None, "x")),           # σ is generic in most statements
    (r"\tanh'(x)", ("d", "tanh", "x")),
    (r"\text{sigmoid}'(x)", ("d", "sigmoid", "x")),
    (r"\sigma_{\tanh}'(x)", ("d", "tanh", "x")),
    (r"\nabla_w L", ("d", None, "w")),
    (r"\nabla_{\mathbf{x}} f", ("d", None, "x")),
    (r"\frac{d}{dx} \text{sigmoid}(x)", ("d", "sigmoid", "x")),
    (r"\frac{d}{dx}\sigma(x)", ("d", None, "x")),
    (r"\lim_{x \to +\infty} \frac{d}{dx} \text{sigmoid}(x)", ("lim", "+oo", ("d", "sigmoid", "x"))),
    (r"\lim_{x \to \infty} f'(x)", ("lim", "+oo", ("d", None, "x"))),
    (r"\lim_{x \to -\infty} \tanh'(x)", ("lim", "-oo", ("d", "tanh", "x"))),
    (r"\hat{y} - y", None),
    (r"2 x", None),
    (r"\frac{1}{2}", None),
])
def test_recognise(text, quantity):
    assert recognise(text) == quantity


@pytest.mark.parametrize("label, quantity", [
    ("sigmoid.derivative", ("d", "sigmoid", "x")),
    ("leaky_relu.limit(+oo)", ("lim", "+oo", ("d", "leaky_relu", "x"))),
    ("tanh.limit(-oo)", ("lim", "-oo", ("d", "tanh", "x"))),
    ("forward.yhat", ("value", "yhat")),
    ("forward.loss", ("value", "L")),
    ("backward.dL/dyhat", ("d", None, "yhat")),
    ("grad.W1", ("d", None, "W1")),
    ("dE/dx", ("d", None, "x")),
    ("steps_to_tolerance[alpha=0.5]", None),
])
def test_of_label(label, quantity):
    assert of_label(label) == quantity


@pytest.mark.parametrize("said, key, conflicts", [
    (("d", None, "W1"), ("d", None, "W1"), False),
    (("d", None, "W2"), ("d", None, "W1"), True),
    (("d", None, "W_1"), ("d", None, "W1"), False),
    (("d", None, "x"), ("d", "tanh", "x"), False),       # f'(x) for tanh': fine
    (("d", "sigmoid", "x"), ("d", "tanh", "x"), True),
    (("lim", "-oo", None), ("lim", "+oo", ("d", "tanh", "x")), True),
    (("lim", "+oo", ("d", None, "x")), ("lim", "+oo", ("d", "tanh", "x")), False),
    (("value", "y"), ("value", "yhat"), True),
    (("value", "t"), ("d", None, "x"), False),
])
def test_conflict(said, key, conflicts):
    assert conflict(said, key) is conflicts


@pytest.mark.parametrize("quantity, text", [
    (("lim", "-oo", ("d", "leaky_relu", "x")), "the limit of the derivative of Leaky ReLU at −∞"),
    (("d", None, "W1"), "∂L/∂W₁"),
    (("d", None, "yhat"), "∂L/∂ŷ"),
    (("value", "yhat"), "ŷ"),
])
def test_words(quantity, text):
    assert words(quantity) == text


def test_canonical_names():
    assert [canonical_name(t) for t in (r"W^{(2)}", r"\mathbf{b}^{(1)}", r"\hat{y}", r"\bar f",
                                        "x + y", r"\frac{a}{b}")] == \
        ["W2", "b1", "yhat", "fbar", None, None]
