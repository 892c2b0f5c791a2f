"""Network LaTeX (symderiv/check/latex.py): the constructs students and Mathpix write for
vectors — ⊙, ∂ℓ/∂ŷ as a factor, norms, (u)⁺, indicators, primes, transposes after a call.

The contract with the plain reader: **a LaTeX answer reads to the same SymPy value as its
plain-text transliteration** (the same Reader, the same key). Where the key's semantics cannot
evaluate a construct yet (the step function of a vector), both readings must refuse: never
one reading and not the other. For scalars the value itself is asserted.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symderiv.check.base import Unreadable

from .read_keys import contexts

RELU_NET = ("dsga1008_hw1", "1.1bcd")     # f = ReLU, g = identity, squared loss
SIGMOID_NET = ("dsga1008_hw1", "1.2a")   # f = g = σ
SCALAR = ("ama564_a1", "1a")             # derivatives in x


def reading(where, text):
    """("read", value) or ("refused", message) for one answer."""
    reader = contexts(where[0])[where[1]].reader
    try:
        return "read", reader.expr(text).value
    except Unreadable as exc:
        return "refused", str(exc)
    except (ValueError, TypeError) as exc:  # the key's namespace refusing (grade words it)
        return "refused", type(exc).__name__


# (where, LaTeX, plain transliteration, must both read today)
SAME_AS_PLAIN = [
    # ⊙: the key's elementwise product, at the level of a product, grouped to the left
    (RELU_NET, r"(\hat y - y) \odot \hat y \odot (1 - \hat y)",
     "hadamard(hadamard(yhat - y, yhat), 1 - yhat)", True),
    (RELU_NET, r"\left({W^{(2)}}^{\top}\frac{\partial \ell}{\partial \hat y}\right) \odot z_1",
     "hadamard(W2.T*dL_dyhat, z1)", True),
    (RELU_NET, r"\left({W^{(2)}}^{\top}(\hat{y}-y)\right) \odot \operatorname{ReLU}^{\prime}(z_1)",
     "hadamard(W2.T*(yhat - y), relu_prime(z1))", True),
    (RELU_NET, r"\left[\left({W^{(2)}}^{\top} (\hat y - y)\right) \odot "
               r"\operatorname{ReLU}^{\prime}(z_1)\right] x^{\top}",
     "hadamard(W2.T*(yhat - y), relu_prime(z1))*x.T", True),
    # W^T d ⊙ f'(z) x^T is ((Wᵀd) ⊙ f'(z)) xᵀ, as W2.T*d ⊙ f * x.T reads in plain text
    (SIGMOID_NET, r"{W^{(2)}}^{T}(\hat y - y) \odot \sigma'(z_1) x^T",
     "hadamard(W2.T*(yhat - y), sigmoid_prime(z1))*x.T", True),
    (RELU_NET, r"z_1 \circ z_1 - z_1", "hadamard(z1, z1) - z1", True),
    (RELU_NET, r"\hat y - y \odot \hat y", "yhat - hadamard(y, yhat)", True),
    (RELU_NET, r"z_1 \odot x", "hadamard(z1, x)", False),  # shapes that do not fit
    # the indicator of a vector condition is the key's step function (both refuse until the
    # key's Heaviside takes a vector)
    (RELU_NET, r"\left({W^{(2)}}^{\top}(\hat y - y)\right) \odot \mathbb{1}[z_1 > 0]",
     "hadamard(W2.T*(yhat - y), Heaviside(z1))", False),
    (RELU_NET, r"\operatorname{diag}(\mathbb{1}[z_1 > 0])", "diag(Heaviside(z1))", False),
    (RELU_NET, r"\mathbb{I}(z_1 < 0)", "Heaviside(-z1)", False),
    # ∂ℓ/∂ŷ as a factor: the key's intermediate quantity
    (RELU_NET, r"{W^{(2)}}^{T}\frac{\partial \ell}{\partial \hat{y}}", "W2.T*dL_dyhat", True),
    (RELU_NET, r"\frac{\partial L}{\partial z_1} x^T", "dL_dz1*x.T", True),
    (RELU_NET, r"\frac{\partial \text{MSE}}{\partial \mathbf{z}_1}", "dL_dz1", True),
    (RELU_NET, r"{W^{(2)}}^T \nabla_{\hat y} L", "W2.T*dL_dyhat", True),
    (RELU_NET, r"\nabla_{z_1} \ell \, x^T", "dL_dz1*x.T", True),
    # norms: |v| of a number, √(vᵀv) of a vector; plain norm(v) alike
    (RELU_NET, r"\frac12\|\hat y - y\|^2", "0.5*norm(yhat - y)**2", True),
    (RELU_NET, r"\ell = \frac{1}{2}\left\|\hat{y} - y\right\|^{2}".split("= ", 1)[1],
     "norm(yhat - y)^2/2", True),
    (RELU_NET, r"\|\hat y - y\|_2^2", "norm(yhat - y)**2", True),
    (RELU_NET, r"\lVert \hat y - y \rVert", "norm(yhat - y)", True),
    (RELU_NET, "‖ŷ − y‖", "norm(yhat - y)", True),
    # the positive part, ReLU entry by entry
    (RELU_NET, r"\left[W^{(1)}x + b^{(1)}\right]^+", "relu(W1*x + b1)", True),
    (RELU_NET, r"W^{(2)} \left[ W^{(1)} x + b^{(1)} \right]^+ + b^{(2)}",
     "W2*relu(W1*x + b1) + b2", True),
    (RELU_NET, r"(z_1)^{+}", "relu(z1)", True),
    (RELU_NET, r"\left[z_1\right]_+", "relu(z1)", True),
    (RELU_NET, r"W^{(2)} z_1^{+} + b^{(2)}", "W2*relu(z1) + b2", True),
    # division: the key's own (entry by entry where the key has one), as a/b reads
    (("nndl_hw1", "Q2.3"), r"\frac{X^T(Xw - y)}{m}", "X.T*(X*w - y)/m", True),
    # primes: the activation's derivative applied
    (RELU_NET, r"\operatorname{diag}(\operatorname{ReLU}'(z_1))", "diag(relu_prime(z1))", True),
    (SIGMOID_NET, r"\operatorname{diag}(\sigma^{\prime}(z_1))", "diag(sigmoid_prime(z1))", True),
    (SIGMOID_NET, r"\mathrm{diag}\left(\sigma'(z_1)\right) {W^{(2)}}^\top (\hat y - y)",
     "diag(sigmoid_prime(z1))*W2.T*(yhat - y)", True),
    # transposes after a call, inside a layer index; accents over bold names; the identity
    (RELU_NET, r"(\hat y - y)\max(0, z_1)^{\top}", "(yhat - y)*relu(z1).T", True),
    (SIGMOID_NET, r"(\hat y - y)\sigma(z_1)^T", "(yhat - y)*sigmoid(z1).T", True),
    (RELU_NET, r"W^{(2)\top}(\hat y - y)", "W2.T*(yhat - y)", True),
    (RELU_NET, r"\hat{\vec{y}} - \vec{y}", "yhat - y", True),
    (RELU_NET, r"\boldsymbol x \boldsymbol x^\top", "x*x.T", True),
    (RELU_NET, r"\mathbf{I}", "I", True),
    # plain text read as LaTeX (a key's function unknown to the plain namespace): names whole
    (RELU_NET, r"W_1 x + b_1", "W1x + b1", True),
    (RELU_NET, r"\operatorname{diag}(z_1) W_2^T", "diag(z1)*W2.T", True),
    (RELU_NET, r"\mathbf{I}_{K}", "I", True),
]


@pytest.mark.parametrize("where, latex, plain, reads", SAME_AS_PLAIN,
                         ids=[row[1][:40] for row in SAME_AS_PLAIN])
def test_latex_reads_as_its_plain_transliteration(where, latex, plain, reads):
    got, want = reading(where, latex), reading(where, plain)
    if reads:
        assert want[0] == "read", want
        assert got == want
    else:  # the same verdict: both read to one value, or both refuse
        assert got[0] == want[0], (got, want)
        if got[0] == "read":
            assert got[1] == want[1]


def test_norm_squared_is_the_dot_product():
    """‖v‖² is vᵀv: the trace of a 1×1 product (a number), as the key's norm(v)**2."""
    kind, value = reading(RELU_NET, r"\|\hat y - y\|^2")
    assert kind == "read" and isinstance(value, sp.Trace)
    product = value.args[0]
    assert product.shape == (1, 1) and isinstance(product, sp.MatMul)
    W = contexts(RELU_NET[0])[RELU_NET[1]].symbols
    assert product.free_symbols == {W["yhat"], W["y"]}


@pytest.mark.parametrize("latex", [r"\sum_j (\hat y_j - y_j)", r"\sum_{j=1}^{K} \left[\hat y_j - y_j\right]"])
def test_a_sum_over_an_index_adds_up_the_entries(latex):
    """∑_j (ŷ_j − y_j): the summand read with the vectors (y_j is y), its entries added up."""
    ctx = contexts(RELU_NET[0])[RELU_NET[1]]
    v = ctx.reader.expr("yhat - y").value
    ones = sp.OneMatrix(1, v.shape[0])
    assert reading(RELU_NET, latex) == ("read", ctx.reader.vocab.ops.matmul(ones, v))


x = sp.Symbol("x", real=True)
SIGMOID = 1 / (1 + sp.exp(-x))

# (LaTeX, the value) in a scalar problem
SCALAR_VALUES = [
    (r"\|x\|", sp.Abs(x)),
    (r"\left\|x\right\|^2", x ** 2),
    (r"\lVert x - 1 \rVert", sp.Abs(x - 1)),
    (r"(x)^+", sp.Max(0, x)),
    (r"[x - 1]_+ + 1", sp.Max(0, x - 1) + 1),
    (r"x^{+} - x^+", sp.Integer(0)),
    (r"2 x^+", 2 * sp.Max(0, x)),
    (r"1_{x>0}", sp.Piecewise((1, x > 0), (0, True))),
    (r"\mathbf{1}\{x > 0\}", sp.Piecewise((1, x > 0), (0, True))),
    (r"\mathbb{1}[x > 0] x", x * sp.Piecewise((1, x > 0), (0, True))),
    (r"x \odot x", x ** 2),
    (r"2\sigma'(x)", 2 * sp.diff(SIGMOID, x)),
    (r"\tanh^{\prime}(x) + 1", 2 - sp.tanh(x) ** 2),
    (r"x \quad \text{(see part a)}", x),
    (r"|x - 1| \odot |x + 1| - 1", sp.Abs(x - 1) * sp.Abs(x + 1) - 1),
    (r"\|x + 1\| \odot 2", 2 * sp.Abs(x + 1)),
]


@pytest.mark.parametrize("latex, value", SCALAR_VALUES, ids=[r[0] for r in SCALAR_VALUES])
def test_scalar_values(latex, value):
    kind, got = reading(SCALAR, latex)
    assert kind == "read", got
    assert sp.simplify(got - value) == 0


def test_scalar_indicator_is_the_step_function():
    _, indicator = reading(SCALAR, r"\mathbb{1}[x > 0]")
    _, step = reading(SCALAR, "Heaviside(x)")
    for point in (-2, 0, sp.Rational(1, 3), 5):
        assert indicator.subs(x, point) == step.subs(x, point)


# (where, answer, the message)
REFUSED = [
    (RELU_NET, r"\frac{\partial \ell}{\partial \hat y} \frac{\partial \hat y}{\partial z_7}",
     "∂ŷ/∂z₇ is not a quantity this key names; write its value"),
    (RELU_NET, r"\frac{\partial \ell}{\partial z_7}", "∂ℓ/∂z₇ is not a quantity this key names; write its value"),
    (SCALAR, r"\frac{d}{dx} x^2", "a derivative operator such as d/dx is not understood inside an "
                                  "expression; write the derivative it gives"),
    (SCALAR, r"\|x\|_1", "only the Euclidean norm ‖v‖ (or ‖v‖₂) is understood"),
    (SCALAR, r"\|x", "a norm ‖ … ‖ is not closed"),
    (SCALAR, r"x \circ x", "∘ is read as an elementwise product of two vectors; here it joins "
                           "numbers or functions (write a product, or the composition applied)"),
    (SCALAR, r"\odot x", "an elementwise product (⊙) needs a factor on each side"),
    (SCALAR, r"\sigma'(x)", "sigma' only names a derivative; write what it equals"),
    (RELU_NET, r"\operatorname{ReLU}'(z)", "relu' only names a derivative; write what it equals"),
    (RELU_NET, r"\operatorname{diag}(q'(z_1))",
     "q'(…): q is not a function this key names (write the activation's name, or its derivative)"),
    (RELU_NET, r"$$\text{(Same as 1.1)}$$", "“Same as 1.1” refers to another answer: write the answer itself"),
    (SCALAR, r"-\sum_j \left[x_j \log x_j\right]", "a sum over an index (\\sum_j …) is "
     "not understood here; write it with the vectors themselves"),
    (RELU_NET, r"(\,\cdot\,)^+", "(·) stands for a function's argument: write the function "
     "applied, e.g. (W^{(1)}x + b^{(1)})^+"),
    (RELU_NET, r"\nabla f", "\\nabla is read as a gradient of the loss, \\nabla_{w} L"),
    (RELU_NET, r"\nabla_{z_7} \ell", "∂L/∂z₇ is not a quantity this key names; write its value"),
    (RELU_NET, r"\sum_j 2", "a sum over an index (\\sum_j …) is "
     "not understood here; write it with the vectors themselves"),
]


@pytest.mark.parametrize("where, text, message", REFUSED, ids=[r[1][:40] for r in REFUSED])
def test_refused_with_a_message(where, text, message):
    assert reading(where, text) == ("refused", message)


HOSTILE = [r"\input{/etc/passwd}", r"\write18{touch /tmp/x}", r"\def\x{1}", r"\csname x\endcsname",
           r"\immediate", r"\catcode", r"\newcommand{\x}{1}", r"\openout", r"\usepackage{x}"]
# every new construct, with a hole for a hostile control sequence
CARRIERS = [r"z_1 \odot {}", r"{} \odot z_1", r"\|{}\|^2", r"\left[{}\right]^+", r"({})_+",
            r"\mathbb{{1}}[{} > 0]", r"1_{{{} > 0}}", r"\operatorname{{diag}}({})",
            r"\operatorname{{ReLU}}'({})", r"\frac{{\partial \ell}}{{\partial {}}}",
            r"\max(0, {})^\top", r"\hat{{\vec{{{}}}}}", r"W^{{({})\top}}", r"z_1 \circ {}"]


@pytest.mark.parametrize("carrier", CARRIERS)
def test_no_construct_opens_a_door(carrier):
    for payload in HOSTILE:
        kind, _ = reading(RELU_NET, carrier.format(payload))
        assert kind == "refused", carrier.format(payload)


@pytest.mark.parametrize("text", [r"\operatorname{__import__}(x)", "__import__(x)",
                                  r"\operatorname{_prime}(z_1)", r"\mathrm{__class__}"])
def test_names_with_underscores_are_never_called(text):
    assert reading(RELU_NET, text)[0] == "refused"


def test_a_word_that_is_not_the_keys_function_is_not_called():
    # \operatorname{eval}(x): an unknown name times x, nothing is called
    kind, value = reading(RELU_NET, r"\operatorname{eval}(x)")
    assert kind == "refused" or {s.name for s in value.free_symbols} <= {"eval", "x"}
