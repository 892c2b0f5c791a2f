"""What the key says, word for word, in cases that used to print badly (issue 12's cosmetic
defects): +∞ where +∞ is meant, z for the pre-activation of a one-layer network, −y x₁ (not
(−1) y x₁), σ for scalar functions of 1 × 1 products, σ(1 − σ) in a Hessian, the Jacobian's
teacher field in the JSON, the quantile level of the instances, the median proof and named
widths in a diagram without overfull or broken lines, and the curvature's name when the
parameter is h."""

import json

import pytest
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.render import render_document
from symderiv.solve import solve_set
from symderiv.spec import load


def _key(write_toml, body: str, bold: bool = False) -> str:
    path = write_toml('[meta]\ntitle = "t"\n' + ("bold_vectors = true\n" if bold else "") + body)
    ps = load(path)
    return render_document(ps, solve_set(ps))


def _overfull(tex: str, tmp_path) -> list[str]:
    from symderiv.latex_build import compile_pdf

    logs: list[str] = []
    compile_pdf(tex, "t", tmp_path, logs=logs)
    return [line for line in logs[0].splitlines() if line.startswith("Overfull")]


def test_limits_at_plus_infinity_print_plus_infinity(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "4"
kind = "derivative"
functions = [{ name = "L", expr = "(w*x - y)**2/2", latex = 'L' }]
var = "w"
limits = ["+oo", "-oo"]

[[problem]]
id = "5"
kind = "derivative"
functions = [{ name = "h", expr = "x*log(x)", latex = 'h' }]
limits = ["+oo"]
[problem.assume]
x = "positive"
''')
    assert "+\\infty & \\text{if } x \\neq 0 \\\\" in tex       # the split case at w → +∞
    assert "-\\infty & \\text{if } x \\neq 0 \\\\" in tex       # and at w → −∞
    assert "\\lim_{x \\to +\\infty} \\log(x) + 1 = \\boxed{+\\infty}." in tex
    assert "\\boxed{\\infty}" not in tex and "\n\\infty &" not in tex


def test_a_one_layer_network_has_z_without_an_index(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "4"
kind = "mlp"
layers = [2, 1]
output = "sigmoid"
loss = "bce"
x = [1, 2]
y = 1
[problem.params]
W1 = [[0.5, -0.25]]
b1 = [0.1]
[problem.notation]
weights = "W"
biases = "b"

[[problem]]
id = "5"
kind = "mlp"
layers = ["n", "K"]
output = "softmax"
loss = "cross_entropy"
[problem.notation]
weights = "W"
biases = "b"
''')
    assert "With $z = W x + b$:" in tex
    assert "\\frac{\\partial \\ell}{\\partial z} & \\hat{y} - y & 0.524979 - 1 & -0.475021" in tex
    assert "\\mathrm{Linear} & x & W x + b & z \\\\" in tex
    assert "z_{1}" not in tex and "\\mathrm{Linear}_{1}" not in tex


def test_a_one_layer_network_with_indexed_weights_keeps_z1(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "4"
kind = "mlp"
layers = [2, 1]
output = "sigmoid"
loss = "bce"
x = [1, 2]
y = 1
[problem.params]
W1 = [[0.5, -0.25]]
b1 = [0.1]
''')
    assert "With $z_{1} = W^{({1})} x + b^{({1})}$:" in tex


def test_a_negative_factor_of_a_broken_product_is_a_minus_sign(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "3"
kind = "graph"
inputs = ["x1", "x2", "y"]
output = "L"
wrt = ["w1"]
[problem.nodes]
s = "w1*x1 + w2*x2 + b"
L = "max(0, 1 - y*s)"
''')
    assert ("\\frac{\\partial L}{\\partial w_{1}} &= - y x_{1} \\\\\n"
            "  &\\quad \\cdot \\mathbf{1}[1 - y \\left(b + w_{1} x_{1} + w_{2} x_{2}\\right) > 0]") in tex
    assert "\\left(-1\\right)" not in tex


@pytest.mark.slow
def test_sigma_for_scalar_functions_of_one_by_one_products(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "1"
kind = "matrix_gradient"
f = "log(1 + exp(-y*w.T*x))"
wrt = "w"
[problem.shapes]
w = "d x 1"
x = "d x 1"

[[problem]]
id = "2"
kind = "matrix_gradient"
f = "-y*log(sigmoid(w.T*x)) - (1 - y)*log(1 - sigmoid(w.T*x))"
wrt = "w"
hessian = true
[problem.shapes]
w = "n x 1"
x = "n x 1"
''')
    sig = "\\sigma\\mathopen{}\\left(w^{\\top} x\\right)\\mathclose{}"
    assert ("\\boxed{\\nabla_{w} f = - y \\left(1 - \\sigma\\mathopen{}\\left(y \\left(w^{\\top} x\\right)\\right)"
            "\\mathclose{}\\right) x}") in tex
    assert f"\\boxed{{\\nabla_{{w}} f = \\left({sig} - y\\right) x}}" in tex            # 0/1 cross-entropy
    assert f"\\boxed{{\\nabla^2_{{w}} f = \\left(1 - {sig}\\right) {sig} x x^{{\\top}}}}" in tex
    assert tex.count("Collecting and writing $e^{t}/(1 + e^{t}) = \\sigma(t)$,") == 2


def test_the_jacobian_teacher_field_is_a_formula(write_toml, tmp_path):
    path = write_toml('''[meta]
title = "t"
[[problem]]
id = "1"
kind = "derivative"
functions = ["softmax"]
var = "theta"
size = 3
''')
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["problems"][0]["answers"]["softmax.jacobian"]
    assert entry["teacher"] == "s_{i} \\left(\\delta_{ij} - s_{j}\\right)"


def test_the_quantile_level_is_used_by_the_instances(write_toml, tmp_path):
    tex = _key(write_toml, '''
[[problem]]
id = "q"
kind = "proof"
theorem = "quantile_minimizer"
tau = 0.9
''')
    assert "the minimizer of $r_x$ is the 0.9-quantile." in tex
    assert "0.25-quantile" not in tex
    path = write_toml('''[meta]
title = "t"
[[problem]]
id = "q"
kind = "proof"
theorem = "quantile_minimizer"
tau = 1.5
''', name="bad.toml")
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "problem q: tau: the quantile level must be between 0 and 1 (exclusive), got 1.5" in result.stderr


@pytest.mark.pdf
def test_the_median_proof_has_no_overfull_line(write_toml, tmp_path):
    tex = _key(write_toml, '''
[[problem]]
id = "m"
kind = "proof"
theorem = "median_minimizer"
''')
    assert "\\frac{d}{dq}\\bigl(\\int_{-\\infty}^{q} (q - y)p(y)\\,dy + " in tex
    assert _overfull(tex, tmp_path) == []


@pytest.mark.pdf
@pytest.mark.slow
def test_named_widths_with_subscripts_in_the_diagram_caption(write_toml, tmp_path):
    tex = _key(write_toml, '''
[[problem]]
id = "d"
kind = "mlp"
layers = ["n", "D_1", "D_2", "K"]
hidden = "relu"
output = "softmax"
loss = "cross_entropy"
''')
    assert "Figure: the network ($n$–$D_{1}$–$D_{2}$–$K$); every unit" in tex
    assert _overfull(tex, tmp_path) == []   # it compiles: D_1 in text stopped LaTeX


def test_numeric_widths_in_the_diagram_caption_stay_plain(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "n"
kind = "mlp"
layers = [2, 1]
output = "sigmoid"
loss = "bce"
x = [1, 2]
y = 1
[problem.params]
W1 = [[0.5, -0.25]]
b1 = [0.1]
''')
    assert "Figure: the network (2–1);" in tex


def test_the_curvature_is_H_when_the_parameter_is_h(write_toml):
    tex = _key(write_toml, '''
[[problem]]
id = "1"
kind = "gd_analysis"
loss = "(h - 2)**2"
param = "h"
init = 0
alphas = [0.1, 0.6]
steps = 4

[[problem]]
id = "2"
kind = "gd_analysis"
loss = "(w - 2)**2"
param = "w"
init = 0
alphas = [0.1]
steps = 4
''')
    first, second = tex.split("Question 2")
    assert "L'' = H = 2, \\qquad h^{*} = 2." in first
    assert "h_{t+1} - h^* = (1 - \\alpha H)\\left( h_t - h^* \\right)" in first
    assert "\\alpha h" not in first
    assert "L'' = h = 2, \\qquad w^{*} = 2." in second
    assert "(1 - \\alpha h)\\left( w_t - w^* \\right)" in second


@pytest.mark.slow
def test_a_hessian_of_several_sigmoid_terms_names_sigma_i(write_toml, tmp_path):
    """Σᵢ yᵢ² σᵢ(1 − σᵢ) xᵢxᵢᵀ with σᵢ named under the box (one line, as the question writes
    it), and the key compiles without an overfull line."""
    tex = _key(write_toml, '''
[[problem]]
id = "4"
kind = "matrix_gradient"
f = "log(1 + exp(-y_1*w.T*x_1)) + log(1 + exp(-y_2*w.T*x_2))"
wrt = "w"
hessian = true
notation = { function = "\\\\ell" }
[problem.shapes]
w = "d x 1"
x_1 = "d x 1"
x_2 = "d x 1"
''', bold=True)
    assert ("\\boxed{\\nabla^2_{\\boldsymbol{w}} \\ell = \\sigma_{1} y_{1}^{2} \\left(1 - \\sigma_{1}\\right) "
            "\\boldsymbol{x_{1}} \\boldsymbol{x_{1}}^{\\top} + \\sigma_{2} y_{2}^{2} \\left(1 - \\sigma_{2}\\right) "
            "\\boldsymbol{x_{2}} \\boldsymbol{x_{2}}^{\\top}}") in tex
    assert ("where $\\sigma_{1} = \\sigma\\mathopen{}\\left(y_{1} \\left(\\boldsymbol{w}^{\\top} \\boldsymbol{x_{1}}"
            "\\right)\\right)\\mathclose{}$ and $\\sigma_{2} = ") in tex


@pytest.mark.slow
def test_a_long_contribution_is_split_over_lines(write_toml):
    """c(A + B) read off through entrywise products is shown cA, + cB, one piece a line."""
    tex = _key(write_toml, '''
[[problem]]
id = "5"
kind = "matrix_gradient"
f = "sum((1 - Y) ⊙ max(0, X*W - rowsum(Y ⊙ (X*W))*ones(C).T + 1))"
wrt = "W"
[problem.shapes]
X = "N x D"
W = "D x C"
Y = "N x C"
''')
    assert "&\\qquad \\phantom{\\text{contributes }} + X^{\\top} \\left(" in tex


def test_an_inline_function_is_defined_as_written_with_sigma_by_name(write_toml, tmp_path):
    """−y log σ(x) − (1 − y) log(1 − σ(x)), not σ expanded into exponentials; x σ(x) in the
    written order; one definition of σ for σ(x) and σ(2x); tanh kept as tanh."""
    path = write_toml('[meta]\ntitle = "t"\n[[problem]]\nid = "1"\nkind = "derivative"\nfunctions = [\n'
                      '  { name = "L", expr = "-y*log(sigmoid(x)) - (1 - y)*log(1 - sigmoid(x))" },\n'
                      '  { name = "g", expr = "x*sigmoid(x)" },\n'
                      '  { name = "m", expr = "2*y*x*sigmoid(x)**2 - x*sigmoid(2*x)" },\n'
                      '  { name = "k", expr = "tanh(x)**2 + relu(x)" },\n]\n')
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "out" / "p.tex").read_text(encoding="utf-8")
    sigma = r"where $\sigma(x) = \frac{1}{1 + e^{- x}}$."
    assert r"Let $L(x) = - y \log(\sigma(x)) - \left(1 - y\right) \log(1 - \sigma(x))$, " + sigma in tex
    assert r"Let $g(x) = x \sigma(x)$, " + sigma in tex
    assert r"Let $m(x) = 2 x y \sigma^{2}(x) - x \sigma(2 x)$, " + sigma in tex
    assert r"Let $k(x) = \max\{0, x\} + \tanh^{2}(x)$." in tex


def test_long_sums_in_a_derivation_are_broken_before_a_sign_and_short_ones_are_not():
    import sympy as sp

    from symderiv.render import split_sum, tex, visible_width

    x = sp.Symbol("x", real=True)
    s = 1 / (1 + sp.exp(-x))
    long = (1 - s) ** 2 * (1 + sp.exp(-x)) * sp.Derivative(s, x) \
        - (2 - 2 * s) * sp.log(s) * sp.Derivative(1 - s, x)
    lines = split_sum(long, 62)
    assert len(lines) == 2 and lines[1].startswith("- ")
    assert all(visible_width(line) <= 62 for line in lines)
    assert split_sum(x + 1, 62) == ["x + 1"]
    assert visible_width(r"\frac{1}{1 + e^{- x}}") < visible_width("1 + e^{- x}") + 1
    # the derivative of a negative term keeps its brackets: d/dx (−u), never d/dx − u
    assert tex(sp.Derivative(-x / (x - 1), x, evaluate=False)) == \
        r"\frac{d}{dx} \left(- \frac{x}{x - 1}\right)"
