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
from symderiv.errors import VerificationFailed
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


# --- decimals an instructor writes in a function are shown as written ---------------------

_DECIMALS = '''
[[problem]]
id = "1"
kind = "derivative"
functions = [
  { name = "g", expr = "x*sigmoid(1.702*x)", latex = 'g' },
  { name = "h", expr = "tanh(0.5*x)", latex = 'h' },
  { name = "l", expr = "max(0.01*x, x)", latex = 'l' },
]
limits = ["+oo", "-oo"]
'''


@pytest.mark.slow   # three functions solved twice, exactly and as written (about 1.3 s)
def test_decimals_in_an_instructors_function_are_shown_as_written(write_toml):
    """GELU's approximation xσ(1.702x), tanh(0.5x) and a leaky slope 0.01: the key shows the
    decimals (it printed σ(851x/500), 1/2 − h²/2 and 1/100), the answers stay exact."""
    import sympy as sp

    path = write_toml('[meta]\ntitle = "t"\n' + _DECIMALS)
    ps = load(path)
    solved = solve_set(ps)
    tex = render_document(ps, solved)
    (let_g,) = [line for line in tex.splitlines() if line.startswith("Let $g(x) = ")]
    assert "1.702 x" in let_g and "851" not in let_g
    assert ("&= \\frac{1}{1 + e^{- 1.702 x}} \\cdot \\frac{\\left(1.702 x + 1\\right) e^{- 1.702 x} + 1}"
            "{1 + e^{- 1.702 x}} ") in tex   # the factor step: 1.702x + 1, never (851x + 500)/500
    assert ("\\boxed{\\frac{d}{dx}g(x) = \\sigma(1.702 x) \\left(1.702 x \\left(1 - \\sigma(1.702 x)"
            "\\right) + 1\\right)}") in tex
    assert "\\boxed{\\frac{d}{dx}h(x) = 0.5 - 0.5 h^{2}(x)}" in tex
    assert "Let $l(x) = \\max\\{0.01 x, x\\}$." in tex   # as written, in the file's order
    assert "the one-sided derivatives are $0.01$ (left) and $1$ (right)" in tex
    assert "\\lim_{x \\to -\\infty} 0.01 = \\boxed{0.01}." in tex
    assert "851" not in tex and "\\frac{1}{100}" not in tex and "\\frac{1}{2}" not in tex
    # the answers are the exact values: what is graded and published in the JSON key
    x = sp.Symbol("x", real=True)
    answers = {a.label: a for a in solved[0].answers}
    exact = sp.diff(x / (1 + sp.exp(-sp.Rational(851, 500) * x)), x)
    assert sp.simplify(answers["g.derivative"].value - exact) == 0
    assert answers["l.limit(-oo)"].value == sp.Rational(1, 100)
    assert sp.simplify(answers["h.derivative"].value - (1 - sp.tanh(x / 2) ** 2) / 2) == 0
    assert answers["g.derivative"].value.atoms(sp.Rational) >= {sp.Rational(851, 500)}
    assert "numbers written as decimals in the file shown as written, each line checked with " \
           "their exact values" in solved[0].checks
    from symderiv.export import key_json

    published = key_json(ps, solved)["problems"][0]["answers"]
    assert published["g.derivative"]["teacher"] == ("\\sigma(1.702 x) \\left(1.702 x \\left(1 - "
                                                    "\\sigma(1.702 x)\\right) + 1\\right)")
    assert published["l.limit(-oo)"] == {"sympy": "1/100", "latex": "0.01"}


def test_products_of_written_decimals_and_second_derivatives(write_toml):
    """1.702 twice in f″ stays 1.702 (not 724201/250000 over a common denominator); x/0.3
    stays x/0.3; 0.25x² gives 0.5x; the second derivative of x^1.5 is 0.75/√x."""
    tex = _key(write_toml, '''
[[problem]]
id = "2"
kind = "derivative"
functions = [
  { name = "g", expr = "x*sigmoid(1.702*x)", latex = 'g' },
  { name = "k", expr = "x**1.5 + exp(0.25*x**2)", latex = 'k' },
  { name = "p", expr = "x/0.3 + 0.3*x**3", latex = 'p' },
]
hessian = true
[problem.assume]
x = "positive"
''')
    assert ("\\boxed{\\frac{d^2}{dx^2} g(x) = 1.702 \\sigma(1.702 x) \\left(\\sigma(1.702 x) - 1\\right) "
            "\\left(1.702 x \\left(2 \\sigma(1.702 x) - 1\\right) - 2\\right) = ") in tex
    assert "&= 0.5 x e^{0.25 x^{2}} + 1.5 x^{0.5} " in tex
    assert "\\boxed{\\frac{d}{dx}k(x) = 0.5 x e^{0.25 x^{2}} + 1.5 x^{0.5}}" in tex
    assert ("\\boxed{\\frac{d^2}{dx^2} k(x) = 0.25 x^{2} e^{0.25 x^{2}} + 0.5 e^{0.25 x^{2}} "
            "+ \\frac{0.75}{\\sqrt{x}}}") in tex
    assert "\\frac{d}{dx}p(x) &= \\frac{d}{dx} \\left(0.3 x^{3} + \\frac{x}{0.3}\\right)" in tex
    assert "\\boxed{\\frac{d}{dx}p(x) = 0.9 x^{2} + \\frac{1}{0.3}}" in tex
    assert "\\boxed{\\frac{d^2}{dx^2} p(x) = 1.8 x}" in tex
    assert "851" not in tex and "250000" not in tex


def test_a_wrong_line_shown_as_written_is_never_printed(write_toml, monkeypatch):
    """Every line of the derivation shown with decimals is checked with the exact values: a
    display that is off (here by 1 in every line) makes the part 'not solved'."""
    from symderiv.derive import derivative
    from symderiv.written import as_written

    def off_by_one(expr):
        shown = as_written(expr)
        return shown + 1 if getattr(shown, "is_Add", False) else shown

    monkeypatch.setattr(derivative, "as_written", off_by_one)
    ps = load(write_toml('[meta]\ntitle = "t"\n' + _DECIMALS.replace('limits = ["+oo", "-oo"]', '')))
    with pytest.raises(VerificationFailed, match=r"g\.derivative \(as written, line \d"):
        solve_set(ps)


def test_derive_prints_decimals_as_written():
    """symderiv derive: the boxed derivative as written (it printed 851x/500 and 1/100)."""
    out = CliRunner().invoke(main, ["derive", "x*sigmoid(1.702*x)"]).output
    assert "teacher form: (1.702*x*(1 - \\sigma(1.702*x)) + 1)*\\sigma(1.702*x)\n" in out
    assert "851" not in out.split("verified:")[0]
    out = CliRunner().invoke(main, ["derive", "max(0.01*x, x)", "--latex"]).output
    assert ("derivative: \\begin{cases} 0.01 & \\text{if } x < 0 \\\\ 1 & \\text{if } x > 0 "
            "\\end{cases}\n") in out

def test_the_printer_writes_only_exact_decimals():
    """Written numbers, their products and small multiples as decimals, each read back equal
    to the exact value; 1/500 (no product of 1.702) and 1/3 stay fractions."""
    import sympy as sp
    from symderiv.render import tex, written
    from symderiv.written import Written, as_written, decimal_text, exact, shown_as_decimals

    x = sp.Symbol("x")
    c = sp.Rational(851, 500)
    with written([c, sp.Rational(1, 2)]):
        assert tex(c * x) == "1.702 x"
        assert tex(-c * x * sp.exp(-c * x)) == "- 1.702 x e^{- 1.702 x}"
        assert tex(c ** 2 * x) == "2.896804 x"
        assert tex(c * x / (1 + x)) == "\\frac{1.702 x}{x + 1}"
        assert tex(sp.Rational(1, 500) * x) == "\\frac{x}{500}"
        assert tex(sp.Rational(1, 3)) == "\\frac{1}{3}"
        assert tex(sp.Rational(3, 2)) == "1.5"        # 3 × 0.5
    assert tex(c * x) == "\\frac{851 x}{500}"         # outside a function with decimals
    with written([sp.Rational(1, 10)]):   # a sum never mixes 0.01 with 71/100
        assert tex(sp.sqrt(41) / 100 + sp.Rational(71, 100)) == "\\frac{\\sqrt{41}}{100} + \\frac{71}{100}"
        assert tex(sp.sqrt(41) / 100 + sp.Rational(1, 10)) == "0.01 \\sqrt{41} + 0.1"
    for value in shown_as_decimals([c, sp.Rational(1, 100), sp.Rational(3, 10)]):
        assert sp.Rational(decimal_text(value)) == value
    assert decimal_text(sp.Rational(1, 3)) is None and decimal_text(sp.Integer(2)) is None
    w, h = Written("1.702"), Written("0.5")
    assert as_written(2 * w * x) == Written("3.404") * x
    assert as_written(w * h * x) == Written("0.851") * x
    assert as_written(x ** (Written("1.5") - 1)) == x ** Written("0.5")
    assert as_written(x / w) == x / w                 # 1/1.702 does not terminate
    assert exact(as_written(w ** 2 * x)) == c ** 2 * x


def test_a_loss_with_decimals_is_shown_as_written(write_toml):
    """d2l's 0.1x₁² + 2x₂² (gd_analysis, and a graph's node 0.5wx): the loss, its gradient
    0.2x₁, A and λ₁ = 0.2 as decimals (they printed x₁²/10, x₁/5 and 1/5)."""
    tex = _key(write_toml, '''
[[problem]]
id = "3"
kind = "gd_analysis"
loss = "0.1*x1**2 + 2*x2**2"
params = ["x1", "x2"]
init = [-5, -2]
alphas = [0.4]
steps = 3

[[problem]]
id = "g"
kind = "graph"
inputs = ["x", "w"]
output = "f"
wrt = ["x", "w"]
[problem.nodes]
q = "0.5*w*x"
f = "q**2"
[problem.values]
x = 2
w = 0.3
''')
    assert "The loss $f(\\theta) = 0.1 x_{1}^{2} + 2 x_{2}^{2}$ is a quadratic" in tex
    assert "A = \\begin{pmatrix} 0.2 & 0 \\\\ 0 & 4 \\end{pmatrix}" in tex
    assert "\\nabla f(\\theta) = A\\theta - b = \\begin{pmatrix} 0.2 x_{1} \\\\ 4 x_{2} \\end{pmatrix}" in tex
    assert "$A$ has $\\lambda_{1} = 0.2$ with eigenvector" in tex
    assert "  q &= 0.5 w x \\\\" in tex
    assert "w \\to q & \\partial q / \\partial w = 0.5 x \\\\" in tex
    assert "\\frac{x_{1}" not in tex and "\\frac{w x}{2}" not in tex


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


@pytest.mark.slow   # four functions solved and rendered (about 2.7 s)
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
