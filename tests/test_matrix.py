"""Matrix calculus: Matrix Cookbook identities, random well-shaped expressions against
componentwise derivatives, and shape errors."""

import random

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from symderiv.cli import main
from symderiv.derive import matrix
from symderiv.derive.matrix import MatrixSpec
from symderiv.spec import Problem

n, m, p = (sp.Symbol(s, integer=True, positive=True) for s in "nmp")

# (f, wrt, shapes, expected gradient built from MatrixSymbols)
def M(name, r, c):
    return sp.MatrixSymbol(name, r, c)


x, a, b, z, y = M("x", n, 1), M("a", n, 1), M("b", n, 1), M("z", n, 1), M("y", m, 1)
A, B, C = M("A", n, n), M("B", n, n), M("C", n, n)
X_mn = M("X", m, n)
X_nn = M("X", n, n)
w = M("w", n, 1)

COOKBOOK = [
    ("a.T*x", "x", {"a": "n x 1", "x": "n x 1"}, a),                                   # (69)
    ("x.T*a", "x", {"a": "n x 1", "x": "n x 1"}, a),
    ("x.T*x", "x", {"x": "n x 1"}, 2 * x),
    ("x.T*A*x", "x", {"x": "n x 1", "A": "n x n"}, (A + A.T) * x),                     # (81)
    ("x.T*(A*x + z)", "x", {"x": "n x 1", "A": "n x n", "z": "n x 1"}, (A + A.T) * x + z),
    ("(w.T*x - c)**2/2", "w", {"w": "n x 1", "x": "n x 1"}, (sp.Trace(w.T * x) - sp.Symbol("c", real=True)) * x),
    ("norm(X*w - y)**2/(2*k)", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"},
     X_mn.T * (X_mn * w - y) / sp.Symbol("k", real=True)),
    ("norm(X*w - y)**2 + lam*norm(w)**2", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"},
     2 * X_mn.T * (X_mn * w - y) + 2 * sp.Symbol("lam", real=True) * w),               # ridge
    ("norm(W*x + c - y)**2", "W", {"W": "m x n", "x": "n x 1", "c": "m x 1", "y": "m x 1"},
     2 * (M("W", m, n) * x + M("c", m, 1) - y) * x.T),
    ("a.T*X*b", "X", {"a": "m x 1", "X": "m x n", "b": "n x 1"}, M("a", m, 1) * b.T),  # (70)
    ("a.T*X.T*b", "X", {"a": "n x 1", "X": "m x n", "b": "m x 1"}, M("b", m, 1) * a.T),  # (71)
    ("trace(X)", "X", {"X": "n x n"}, sp.Identity(n)),                                # (100)
    ("trace(A*X)", "X", {"A": "n x n", "X": "n x n"}, A.T),                          # (102)
    ("trace(A*X*B)", "X", {"A": "n x n", "X": "n x n", "B": "n x n"}, A.T * B.T),     # (102)
    ("trace(A*X.T*B)", "X", {"A": "n x n", "X": "n x n", "B": "n x n"}, B * A),       # (103)
    ("trace(X.T*X)", "X", {"X": "m x n"}, 2 * X_mn),                                  # (107)
    ("trace(X*X)", "X", {"X": "n x n"}, 2 * X_nn.T),
    ("trace(X.T*A*X)", "X", {"X": "n x n", "A": "n x n"}, (A + A.T) * X_nn),          # (117)
    ("trace(X*A*X.T)", "X", {"X": "n x n", "A": "n x n"}, X_nn * (A + A.T)),
    ("norm(X)**2", "X", {"X": "m x n"}, 2 * X_mn),                                   # Frobenius
    ("log(det(X))", "X", {"X": "n x n"}, sp.Inverse(X_nn).T),                        # (57)
    ("det(X)", "X", {"X": "n x n"}, sp.Determinant(X_nn) * sp.Inverse(X_nn).T),       # (49)
    ("trace(inv(X)*A)", "X", {"X": "n x n", "A": "n x n"},
     -sp.Inverse(X_nn).T * A.T * sp.Inverse(X_nn).T),                                 # (63)
    ("a.T*inv(X)*b", "X", {"a": "n x 1", "X": "n x n", "b": "n x 1"},
     -sp.Inverse(X_nn).T * a * b.T * sp.Inverse(X_nn).T),                             # (61)
    ("exp(a.T*x)", "x", {"a": "n x 1", "x": "n x 1"}, sp.exp(sp.Trace(a.T * x)) * a),
    ("sum(x)", "x", {"x": "n x 1"}, sp.OneMatrix(n, 1)),
    ("b.T*A*x + x.T*x", "x", {"b": "n x 1", "A": "n x n", "x": "n x 1"}, A.T * b + 2 * x),
]


def _solve(f, wrt, shapes):
    spec = MatrixSpec(f, wrt, tuple(shapes.items()))
    return matrix.solve(Problem(id="m", kind="matrix_gradient", spec=spec))


def _explicit_equal(spec, g1, g2):
    f = matrix.build(spec)
    X = next(s for s in f.atoms(sp.MatrixSymbol) if s.name == spec.wrt)
    sizes, explicit = matrix._concrete(spec, f, X)
    e1 = matrix._explicit(g1, sizes, explicit)
    e2 = matrix._explicit(g2, sizes, explicit)
    rng = random.Random(5)
    at = {s: sp.Rational(rng.randint(-9, 9), 4) + (sp.Rational(1, 3) if s.name[-1] == s.name[-2] else 0)
          for M_ in explicit.values() for s in M_}
    for s in set().union(*(e.free_symbols for e in e1)):
        at.setdefault(s, sp.Rational(3, 7))
    return all(sp.simplify(u.xreplace(at) - v.xreplace(at)) == 0 for u, v in zip(e1, e2))


@pytest.mark.parametrize("f, wrt, shapes, expected", COOKBOOK, ids=[c[0] for c in COOKBOOK])
def test_cookbook_identity(f, wrt, shapes, expected):
    sol = _solve(f, wrt, shapes)
    grad = sol.answers[0].value
    assert sol.answers[1].value == " x ".join(sp.sstr(d) for d in
                                              matrix._shapes(MatrixSpec(f, wrt, tuple(shapes.items())))[wrt])
    assert _explicit_equal(MatrixSpec(f, wrt, tuple(shapes.items())), grad, expected)


def test_teacher_forms_of_the_seed_gradients():
    assert sp.sstr(_solve("x.T*(A*x + z)", "x", {"x": "n x 1", "A": "n x n", "z": "n x 1"})
                   .answers[0].value) == "(A + A.T)*x + z"
    assert sp.sstr(_solve("norm(X*w - y)**2/(2*m)", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"})
                   .answers[0].value) == "1/m*X.T*(X*w - y)"
    assert sp.sstr(_solve("norm(W*x + b - y)**2", "W", {"W": "m x n", "x": "n x 1", "b": "m x 1",
                                                       "y": "m x 1"}).answers[0].value) == "2*(W*x + b - y)*x.T"


LEAVES = {"u": "n x 1", "v": "n x 1", "P": "n x n", "Q": "n x n"}


@st.composite
def vector_exprs(draw, depth=0):
    """Random n x 1 expressions in u (the variable), v, P, Q."""
    if depth > 1 or draw(st.booleans()):
        return draw(st.sampled_from(["u", "v", "P*u", "Q*v", "P.T*u"]))
    op = draw(st.sampled_from(["+", "-", "P*", "Q.T*", "3*"]))
    left = draw(vector_exprs(depth + 1))
    if op in "+-":
        return f"({left} {op} {draw(vector_exprs(depth + 1))})"
    return f"{op}({left})"


@settings(max_examples=30, deadline=None)
@pytest.mark.slow
@given(left=vector_exprs(), right=vector_exprs(), square=st.booleans())
def test_random_expressions_against_componentwise_derivatives(left, right, square):
    """f = left.T*right (or its square) is checked by the engine itself entry by entry;
    here we compare the answer with sympy.diff of the expanded scalar independently."""
    f = f"(({left}).T*({right}))" + ("**2" if square else "")
    spec = MatrixSpec(f, "u", tuple(LEAVES.items()))
    sol = matrix.solve(Problem(id="h", kind="matrix_gradient", spec=spec))
    fexpr = matrix.build(spec)
    U = sp.MatrixSymbol("u", n, 1)
    sizes, explicit = matrix._concrete(spec, fexpr, U)
    f_e = matrix._explicit(fexpr, sizes, explicit)
    g_e = matrix._explicit(sol.answers[0].value, sizes, explicit)
    us = explicit[U.subs(sizes)] if U.subs(sizes) in explicit else explicit[U]
    rng = random.Random(left + right)
    symbols = set().union(*(M_.free_symbols for M_ in explicit.values()))
    for _ in range(3):  # exact rational points: a polynomial identity test
        at = {s: sp.Rational(rng.randint(-20, 20), rng.randint(1, 7)) for s in symbols}
        for i in range(us.rows):
            assert sp.diff(f_e, us[i, 0]).xreplace(at) == g_e[i, 0].xreplace(at)


@pytest.mark.parametrize("f, shapes, message", [
    ("x.T*A*x", {"x": "n x 1", "A": "m x n"}, "shape mismatch in x.T*A: 1 x n times m x n"),
    ("x.T*(A*x + z)", {"x": "n x 1", "A": "n x n", "z": "m x 1"},
     "shape mismatch in A*x + z: n x 1 and m x 1"),
    ("trace(A)", {"A": "m x n", "x": "n x 1"}, "trace() needs a square matrix, A is m x n"),
    ("A*x", {"A": "m x n", "x": "n x 1"}, "must be scalar-valued, but its shape is m x 1"),
    ("norm(x)", {"x": "n x 1"}, "norm(v) must be squared"),
])
def test_shape_mismatch_is_a_bad_input_error(f, shapes, message, write_toml, tmp_path):
    table = "\n".join(f'{k} = "{v}"' for k, v in shapes.items())
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "g"
kind = "matrix_gradient"
f = "{f}"
wrt = "x"
[problem.shapes]
{table}
''')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2
    assert "problem g: f: " in result.stderr
    assert message in result.stderr


def test_json_gradient_and_shape():
    from symderiv.export import key_json
    from symderiv.solve import solve_set
    from symderiv.spec import load
    from .conftest import ROOT

    ps = load(ROOT / "problems" / "nndl_hw1.toml")
    key = key_json(ps, solve_set(ps))
    q2 = {p["id"]: p["answers"] for p in key["problems"]}
    assert q2["Q2.1"]["gradient"]["sympy"] == "(A + A.T)*x + z"
    assert q2["Q2.1"]["shape"]["sympy"] == "n x 1"
    assert q2["Q3"]["shape"]["sympy"] == "m x n"
    # the strings parse back over the problem's own names
    names = {"A": M("A", n, n), "x": x, "z": z}
    assert sp.parse_expr(q2["Q2.1"]["gradient"]["sympy"], local_dict=names) == (A + A.T) * x + z


def _render_one(write_toml, body: str, bold: bool = False):
    from symderiv.render import render_document
    from symderiv.solve import solve_set
    from symderiv.spec import load

    path = write_toml('[meta]\ntitle = "t"\n' + ("bold_vectors = true\n" if bold else "") + body)
    ps = load(path)
    sols = solve_set(ps)
    return sols, render_document(ps, sols)


L2_LOSS = '''
[[problem]]
id = "q"
kind = "matrix_gradient"
f = "(w.T*x - y)**2/2"
wrt = "w"
notation = { function = "L" }
[problem.shapes]
w = "n x 1"
x = "n x 1"
'''


def test_printing_has_no_doubled_brackets_and_one_transpose_sign(write_toml):
    """d((xᵀ(Ax+z))) and ((wᵀx)−y)x were printed; ᵀ and ⊤ were mixed."""
    _, text = _render_one(write_toml, L2_LOSS + '''
[[problem]]
id = "r"
kind = "matrix_gradient"
f = "x.T*(A*x + z)"
wrt = "x"
[problem.shapes]
x = "n x 1"
A = "n x n"
z = "n x 1"
''')
    body = text[text.index(r"\begin{questions}"):]
    assert r"\left(\left(" not in body and "((" not in body
    assert "^{T}" not in body
    assert r"d\left(x^{\top} \left(A x + z\right)\right)" in body
    assert r"\left(w^{\top} x - y\right) x" in body


def test_bold_vectors_and_the_questions_function_name(write_toml):
    sols, text = _render_one(write_toml, L2_LOSS, bold=True)
    assert r"\nabla_{\boldsymbol{w}} L = \left(\boldsymbol{w}^{\top} \boldsymbol{x} - y\right) \boldsymbol{x}" in text
    assert r"d\boldsymbol{w}" in text and r"\nabla_{w} f" not in text
    # an entry of a vector has one index: w₁, not w₁₁
    assert sols[0].body.entry_example[0] == sp.Symbol("w_1", real=True)
    assert "w_{11}" not in text
    _, plain = _render_one(write_toml, L2_LOSS)
    assert r"\boldsymbol" not in plain.split(r"\begin{questions}")[1]
    assert r"\nabla_{w} L" in plain


def test_bold_matrices_upright_and_a_matrix_gradient_as_a_partial(write_toml):
    _, text = _render_one(write_toml, '''
[[problem]]
id = "q"
kind = "matrix_gradient"
f = "norm(W*x + b - y)**2"
wrt = "W"
notation = { function = "L" }
[problem.shapes]
W = "m x n"
x = "n x 1"
b = "m x 1"
y = "m x 1"
''', bold=True)
    assert r"\frac{\partial L}{\partial \mathbf{W}} = 2 \left(\mathbf{W} \boldsymbol{x} + \boldsymbol{b} - \boldsymbol{y}\right) \boldsymbol{x}^{\top}" in text
    assert r"\left(\mathbf{W} \boldsymbol{x} + \boldsymbol{b} - \boldsymbol{y}\right)^{\top}" in text


@pytest.mark.parametrize("meta, table, message", [
    ('bold_vectors = "yes"', "", "meta.bold_vectors: expected true or false"),
    ("", 'notation = { g = "G" }', "notation.g: is neither \"function\" nor a name used in f"),
    ("", "notation = { function = 3 }", "notation.function: expected a LaTeX string"),
    ("", 'notation = { function = "\\\\input{x}" }', "notation.function: the LaTeX command \\input"),
])
def test_notation_errors_name_the_field(meta, table, message, write_toml):
    path = write_toml(f'''
[meta]
title = "t"
{meta}
[[problem]]
id = "g"
kind = "matrix_gradient"
f = "x.T*x"
wrt = "x"
{table}
[problem.shapes]
x = "n x 1"
''')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr


# --- functions applied entry by entry (issue 12) -----------------------------------------------
#
# Each case: f as written, the variable, the shapes, and the same scalar written out
# independently at the concrete size (entries x_1 …, W_11 …) with plain SymPy, so that the
# engine's gradient is compared with sympy.diff of a scalar the engine never built.

def _vec(name, k):
    return [sp.Symbol(f"{name}_{i + 1}", real=True) for i in range(k)]


def _mat(name, r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _sig(t):
    return 1 / (1 + sp.exp(-t))


def _lse(v):
    return sp.log(sum(sp.exp(t) for t in v))


# concrete sizes: the engine gives symbolic dimensions 3, 2, 4, 5 in order of appearance
ENTRYWISE = [
    ("log(sum(exp(x)))", "x", {"x": "n x 1"}, lambda: _lse(_vec("x", 3)), "softmax(x)"),
    ("logsumexp(x)", "x", {"x": "n x 1"}, lambda: _lse(_vec("x", 3)), "softmax(x)"),
    # CS224n naive softmax (d = 3, V = 2): u_o = U y
    ("-(U*y).T*vc + log(sum(exp(U.T*vc)))", "vc", {"U": "d x V", "y": "V x 1", "vc": "d x 1"},
     lambda: (-(_mat("U", 3, 2) * sp.Matrix(_vec("y", 2))).dot(sp.Matrix(_vec("vc", 3)))
              + _lse(_mat("U", 3, 2).T * sp.Matrix(_vec("vc", 3)))), "U*(-y + softmax(U.T*vc))"),
    ("-(U*y).T*vc + log(sum(exp(U.T*vc)))", "U", {"U": "d x V", "y": "V x 1", "vc": "d x 1"},
     lambda: (-(_mat("U", 3, 2) * sp.Matrix(_vec("y", 2))).dot(sp.Matrix(_vec("vc", 3)))
              + _lse(_mat("U", 3, 2).T * sp.Matrix(_vec("vc", 3)))), "vc*(-y + softmax(U.T*vc)).T"),
    ("-uo.T*vc + log(sum(exp(U.T*vc)))", "vc", {"uo": "d x 1", "vc": "d x 1", "U": "d x V"},
     lambda: (-sp.Matrix(_vec("uo", 3)).dot(sp.Matrix(_vec("vc", 3)))
              + _lse(_mat("U", 3, 2).T * sp.Matrix(_vec("vc", 3)))), "U*softmax(U.T*vc) - uo"),
    # logistic regression over a data matrix (m = 3, n = 2)
    ("sum(log(1 + exp(-y ⊙ (X*w))))", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"},
     lambda: sum(sp.log(1 + sp.exp(-yi * zi)) for yi, zi in
                 zip(_vec("y", 3), _mat("X", 3, 2) * sp.Matrix(_vec("w", 2)))),
     "-X.T*(HadamardProduct(sigmoid(-(HadamardProduct(X*w, y))), y))"),
    ("sum(log(1 + exp(-hadamard(y, X*w))))", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"},
     lambda: sum(sp.log(1 + sp.exp(-yi * zi)) for yi, zi in
                 zip(_vec("y", 3), _mat("X", 3, 2) * sp.Matrix(_vec("w", 2)))), None),
    ("-y.T*log(softmax(z))", "z", {"y": "n x 1", "z": "n x 1"},
     lambda: -sum(yi * sp.log(sp.exp(zi) / sum(sp.exp(t) for t in _vec("z", 3)))
                  for yi, zi in zip(_vec("y", 3), _vec("z", 3))), "Trace(y.T*1)*softmax(z) - y"),
    ("sum(sigmoid(W*x))", "W", {"W": "m x n", "x": "n x 1"},
     lambda: sum(_sig(t) for t in _mat("W", 3, 2) * sp.Matrix(_vec("x", 2))), None),
    ("sum(tanh(W*x))", "x", {"W": "m x n", "x": "n x 1"},
     lambda: sum(sp.tanh(t) for t in _mat("W", 3, 2) * sp.Matrix(_vec("x", 2))),
     "W.T*(-HadamardPower(tanh(W*x), 2) + 1)"),
    ("v.T*relu(W*x)", "W", {"W": "m x n", "x": "n x 1", "v": "m x 1"},
     lambda: sum(vi * sp.Max(0, t) for vi, t in zip(_vec("v", 3), _mat("W", 3, 2) * sp.Matrix(_vec("x", 2)))),
     "(HadamardProduct(Heaviside(W*x), v))*x.T"),
    ("v.T*max(0, W*x)", "x", {"W": "m x n", "x": "n x 1", "v": "m x 1"},
     lambda: sum(vi * sp.Max(0, t) for vi, t in zip(_vec("v", 3), _mat("W", 3, 2) * sp.Matrix(_vec("x", 2)))),
     "W.T*(HadamardProduct(Heaviside(W*x), v))"),
    ("sum(hadamard(a, x) / b)", "x", {"a": "n x 1", "x": "n x 1", "b": "n x 1"},
     lambda: sum(ai * xi / bi for ai, xi, bi in zip(_vec("a", 3), _vec("x", 3), _vec("b", 3))), None),
    ("sum(a / x)", "x", {"a": "n x 1", "x": "n x 1"},
     lambda: sum(ai / xi for ai, xi in zip(_vec("a", 3), _vec("x", 3))), None),
    ("x.T*diag(a)*x", "x", {"a": "n x 1", "x": "n x 1"},
     lambda: sum(ai * xi ** 2 for ai, xi in zip(_vec("a", 3), _vec("x", 3))), "2*DiagMatrix(a)*x"),
    ("x.T*diag(exp(x))*a", "x", {"a": "n x 1", "x": "n x 1"},
     lambda: sum(ai * xi * sp.exp(xi) for ai, xi in zip(_vec("a", 3), _vec("x", 3))), None),
    ("norm(softmax(z) - y)**2", "z", {"y": "n x 1", "z": "n x 1"},
     lambda: sum((sp.exp(zi) / sum(sp.exp(t) for t in _vec("z", 3)) - yi) ** 2
                 for yi, zi in zip(_vec("y", 3), _vec("z", 3))), None),
    ("sum(sin(x) ⊙ cos(A*x))", "x", {"x": "n x 1", "A": "n x n"},
     lambda: sum(sp.sin(xi) * sp.cos(t) for xi, t in zip(_vec("x", 3), _mat("A", 3, 3) * sp.Matrix(_vec("x", 3)))),
     None),
    # CS231n softmax loss over a minibatch, softmax row by row (N = 3, D = 2, C = 4)
    ("-sum(Y ⊙ log(softmax(X*W)))/N", "W", {"X": "N x D", "W": "D x C", "Y": "N x C"},
     lambda: -sum(_mat("Y", 3, 4)[i, j] * sp.log(sp.exp(S[i, j]) / sum(sp.exp(S[i, k]) for k in range(4)))
                  for S in [_mat("X", 3, 2) * _mat("W", 2, 4)] for i in range(3) for j in range(4))
     / sp.Symbol("N", real=True), None),
    ("sum(softmax(X*W) ⊙ B)", "X", {"X": "N x D", "W": "D x C", "B": "N x C"},
     lambda: sum(_mat("B", 3, 4)[i, j] * sp.exp(S[i, j]) / sum(sp.exp(S[i, k]) for k in range(4))
                 for S in [_mat("X", 3, 2) * _mat("W", 2, 4)] for i in range(3) for j in range(4)), None),
    ("sum(log(rowsum(exp(S))))", "S", {"S": "N x C"},
     lambda: sum(_lse(_mat("S", 3, 2).row(i)) for i in range(3)), None),
    ("sum(sqrt(x ⊙ x + 1))", "x", {"x": "n x 1"},
     lambda: sum(sp.sqrt(xi ** 2 + 1) for xi in _vec("x", 3)), None),
    # binary cross-entropy of a sigmoid over a data matrix, labels 0/1 (m = 3, n = 2): the
    # entrywise quotients cancel to Xᵀ(σ(Xw) − y)
    ("-(y.T*log(sigmoid(X*w)) + (1 - y).T*log(1 - sigmoid(X*w)))", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"},
     lambda: -sum(yi * sp.log(_sig(zi)) + (1 - yi) * sp.log(1 - _sig(zi)) for yi, zi in
                  zip(_vec("y", 3), _mat("X", 3, 2) * sp.Matrix(_vec("w", 2)))), "X.T*(sigmoid(X*w) - y)"),
    ("log(1 + exp(-y * w.T*x))", "w", {"w": "n x 1", "x": "n x 1"},
     lambda: sp.log(1 + sp.exp(-sp.Symbol("y", real=True) * sp.Matrix(_vec("w", 3)).dot(sp.Matrix(_vec("x", 3))))),
     None),
]


def _entrywise_param(case):
    # a row-wise softmax of a data matrix expands to the heaviest scalars: full suite only
    slow = "softmax(X*W)" in case[0]
    return pytest.param(*case, id=case[0] + " / " + case[1], marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("f, wrt, shapes, scalar, form", [_entrywise_param(c) for c in ENTRYWISE])
def test_entrywise_gradients_against_componentwise_diff(f, wrt, shapes, scalar, form):
    spec = MatrixSpec(f, wrt, tuple(shapes.items()))
    sol = matrix.solve(Problem(id="e", kind="matrix_gradient", spec=spec))
    grad = sol.answers[0].value
    if form is not None:
        assert sp.sstr(grad) == form
    fexpr = matrix.build(spec)
    X = next(s for s in fexpr.atoms(sp.MatrixSymbol) if s.name == wrt)
    sizes, explicit = matrix._concrete(spec, fexpr, X)
    G = matrix._explicit(grad, sizes, explicit)
    G = G if isinstance(G, sp.MatrixBase) else sp.Matrix([[G]])
    f_e = scalar()
    entries = explicit[X]
    assert G.shape == entries.shape
    rng = random.Random(f)
    symbols = f_e.free_symbols | set().union(*(g.free_symbols for g in G))
    for _ in range(2):
        at = {s: sp.Rational(rng.randint(-12, 12), rng.randint(2, 7)) + sp.Rational(1, 97) for s in symbols}
        for i in range(entries.rows):
            for j in range(entries.cols):
                exact = sp.diff(f_e, entries[i, j]).xreplace(at)
                assert abs(sp.N(exact - G[i, j].xreplace(at), 30)) < 1e-20


def test_softmax_cross_entropy_uses_the_given_sum():
    spec = MatrixSpec("-y.T*log(softmax(z))", "z", (("y", "n x 1"), ("z", "n x 1")), (), ("sum(y) = 1",))
    sol = matrix.solve(Problem(id="ce", kind="matrix_gradient", spec=spec))
    assert sp.sstr(sol.answers[0].value) == "-y + softmax(z)"
    assert sp.sstr(sol.body.general) == "Trace(y.T*1)*softmax(z) - y"
    assert sol.body.named == ("softmax",)
    # softmax(z) − y is the gradient only where 1ᵀy = 1: at y = (1, 1, 1) it is not
    z, y = _vec("z", 3), _vec("y", 3)
    f_e = -sum(yi * (zi - _lse(z)) for yi, zi in zip(y, z))
    at = {**dict(zip(z, [sp.Rational(1, 2), -1, 2])), **dict(zip(y, [1, 1, 1]))}
    soft = [sp.exp(zi) / sum(sp.exp(t) for t in z) for zi in z]
    assert abs(sp.N((sp.diff(f_e, z[0]) - (soft[0] - y[0])).xreplace(at))) > 0.1
    at.update(dict(zip(y, [sp.Rational(1, 4), sp.Rational(1, 4), sp.Rational(1, 2)])))
    assert abs(sp.N((sp.diff(f_e, z[0]) - (soft[0] - y[0])).xreplace(at), 30)) < 1e-20


def test_a_wrong_entrywise_rule_is_refused(monkeypatch):
    """σ′ = σ (instead of σ ⊙ (𝟏 − σ)): the componentwise check refuses the gradient."""
    from symderiv.errors import VerificationFailed

    right = matrix.elementwise_derivative

    def wrong(name, U):
        return matrix.Elementwise("sigmoid", U) if name == "sigmoid" else right(name, U)

    monkeypatch.setattr(matrix, "elementwise_derivative", wrong)
    with pytest.raises(VerificationFailed, match="entry"):
        _solve("sum(sigmoid(W*x))", "W", {"W": "m x n", "x": "n x 1"})


def test_a_wrong_read_off_through_a_hadamard_product_is_refused(monkeypatch):
    """⟨G, A ⊙ D⟩ read as ⟨G, D⟩ (A dropped): refused."""
    from symderiv.errors import VerificationFailed

    right = matrix.pullback

    def wrong(G, D, X, dX):
        if isinstance(D, sp.HadamardProduct):
            inside = [a for a in D.args if a.has(dX)][0]
            return right(G, inside, X, dX)
        return right(G, D, X, dX)

    monkeypatch.setattr(matrix, "pullback", wrong)
    with pytest.raises(VerificationFailed, match="entry"):
        _solve("sum(log(1 + exp(-y ⊙ (X*w))))", "w", {"X": "m x n", "w": "n x 1", "y": "m x 1"})


def test_entrywise_gradients_print_as_a_teacher_writes_them(write_toml):
    _, text = _render_one(write_toml, '''
[[problem]]
id = "lr"
kind = "matrix_gradient"
f = "sum(log(1 + exp(-y ⊙ (X*w))))"
wrt = "w"
[problem.shapes]
X = "m x n"
w = "n x 1"
y = "m x 1"

[[problem]]
id = "ce"
kind = "matrix_gradient"
f = "-y.T*log(softmax(z))"
wrt = "z"
given = ["sum(y) = 1"]
[problem.shapes]
y = "n x 1"
z = "n x 1"
''')
    body = text[text.index(r"\begin{questions}"):]
    assert (r"\nabla_{w} f = - X^{\top} \left(y \odot \sigma\mathopen{}\left(- y \odot \left(X w\right)"
            r"\right)\mathclose{}\right)") in body
    assert r"\mathbf{1} + \exp\mathopen{}\left(- y \odot \left(X w\right)\right)\mathclose{}" in body
    assert r"\oslash" in body
    assert (r"\log\mathopen{}\left(\operatorname{softmax}\mathopen{}\left(z\right)\mathclose{}\right)"
            r"\mathclose{} = z - \log{\left(\mathbf{1}^{\top} \exp") in body
    assert r"\boxed{\nabla_{z} f = \operatorname{softmax}\mathopen{}\left(z\right)\mathclose{} - y}" in body
    assert r"\mathbf{1}^{\top} y = 1" in body


@pytest.mark.parametrize("f, shapes, message", [
    ("erf(x).T*x", {"x": "n x 1"}, "erf() of x, a vector (n x 1): only exp, log, ln, sigmoid"),
    ("sum(x**2)", {"x": "n x 1"}, "x**2: x is a vector (n x 1) and a power needs a square matrix"),
    ("sum(exp(x)*x)", {"x": "n x 1"}, "(for the entrywise product write hadamard(a, b) or a ⊙ b)"),
    ("sum(hadamard(x, A))", {"x": "n x 1", "A": "n x n"},
     "shape mismatch in the entrywise product of x and A: n x 1 and n x n"),
    ("sum(x / A)", {"x": "n x 1", "A": "n x n"}, "shape mismatch in the entrywise division x/A: n x 1 and n x n"),
    ("sum(softmax(x.T*x))", {"x": "n x 1"}, "softmax() takes a column vector (n x 1) or a matrix (row by row)"),
    ("sum(rowsum(x.T*x))", {"x": "n x 1"}, "rowsum() takes a matrix"),
    ("max(x, x.T*x)", {"x": "n x 1"}, "max() of a vector is supported as max(0, U)"),
    ("x % x", {"x": "n x 1"}, "the operator % is not allowed"),
])
def test_entrywise_misuse_is_a_one_line_error(f, shapes, message, write_toml):
    table = "\n".join(f'{k} = "{v}"' for k, v in shapes.items())
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "g"
kind = "matrix_gradient"
f = "{f}"
wrt = "x"
[problem.shapes]
{table}
''')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2, result.output
    assert "problem g: f: " in result.stderr
    assert message in result.stderr
    assert "used as a number" not in result.stderr


def test_log_sum_exp_is_no_longer_refused_as_a_shape_mistake(write_toml):
    path = write_toml('''
[meta]
title = "t"
[[problem]]
id = "g"
kind = "matrix_gradient"
f = "log(sum(exp(x)))"
wrt = "x"
[problem.shapes]
x = "n x 1"
''')
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert '"sympy": "softmax(x)"' in result.output


@pytest.mark.parametrize("given, message", [
    ('["sum(z) = 1"]', "given: constrains the variable z itself"),
    ('["y = 1"]', "given: cannot read 'y = 1': only \"sum(v) = number\" and \"rowsum(V) = number\" are supported"),
    ('["sum(y) < 1"]', "given: cannot read 'sum(y) < 1': write a fact as \"sum(y) = 1\""),
    ('"sum(y) = 1"', "given: expected a list"),
])
def test_given_errors_name_the_field(given, message, write_toml):
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "g"
kind = "matrix_gradient"
f = "-y.T*log(softmax(z))"
wrt = "z"
given = {given}
[problem.shapes]
y = "n x 1"
z = "n x 1"
''')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.slow
def test_softmax_loss_over_a_minibatch_uses_one_hot_rows():
    """CS231n: with every row of Y summing to 1 the gradient is (1/N) Xᵀ(P − Y) + 2λW, P the
    row-by-row softmax of XW; verified at points whose rows of Y sum to 1, and not true
    without that fact."""
    spec = MatrixSpec("-sum(Y ⊙ log(softmax(X*W)))/N + lam*norm(W)**2", "W",
                      (("X", "N x D"), ("W", "D x C"), ("Y", "N x C")), (), ("rowsum(Y) = 1",))
    sol = matrix.solve(Problem(id="sm", kind="matrix_gradient", spec=spec))
    assert sp.sstr(sol.answers[0].value) == "(2*lam)*W + 1/N*X.T*(-Y + softmax_rows(X*W))"
    assert sol.body.named_after == ("softmax_rows",)
    assert sp.sstr(sol.body.given[0][0]) == "Y*1"
    # the closed form against sympy.diff, at Y with rows summing to 1 and at Y without
    X, W, Y = _mat("X", 3, 2), _mat("W", 2, 4), _mat("Y", 3, 4)
    N, lam = sp.Symbol("N", real=True), sp.Symbol("lam", real=True)
    S = X * W
    P = sp.Matrix(3, 4, lambda i, j: sp.exp(S[i, j]) / sum(sp.exp(S[i, k]) for k in range(4)))
    L = -sum(Y[i, j] * sp.log(P[i, j]) for i in range(3) for j in range(4)) / N + lam * sum(w ** 2 for w in W)
    G = X.T * (P - Y) / N + 2 * lam * W
    rng = random.Random(3)
    at = {s: sp.Rational(rng.randint(-8, 8), 5) for s in L.free_symbols}
    at[N], at[lam] = sp.Integer(3), sp.Rational(1, 10)
    off = abs(sp.N((sp.diff(L, W[0, 0]) - G[0, 0]).xreplace(at), 30))
    for i in range(3):
        at[Y[i, 3]] = 1 - sum(at[Y[i, j]] for j in range(3))
    on = abs(sp.N((sp.diff(L, W[0, 0]) - G[0, 0]).xreplace(at), 30))
    assert on < 1e-25 < off


# --- the multiclass SVM (hinge) loss over a minibatch: max(0, ·) of a margin matrix ------------

SVM = MatrixSpec("sum((1 - Y) ⊙ max(0, M))/N + lam*norm(W)**2", "W",
                 (("X", "N x D"), ("W", "D x C"), ("Y", "N x C")),
                 where=(("S", "X*W"), ("M", "S - rowsum(Y ⊙ S)*ones(C).T + 1")))


@pytest.mark.slow
def test_svm_loss_over_a_minibatch_against_componentwise_diff():
    """CS231n linear_svm.py: L = (1/N) Σᵢ Σ_{j ≠ yᵢ} max(0, s_ij − s_iyᵢ + 1) + λ‖W‖², written
    out with loops over labels at N = 3, D = 2, C = 4 (never through the engine), differentiated
    by sympy.diff entry by entry at random numbers off the kinks; and the assignment's own
    vectorized gradient (mask, minus the count of positive margins in the label's column)."""
    sol = matrix.solve(Problem(id="svm", kind="matrix_gradient", spec=SVM))
    grad = sol.answers[0].value
    assert sp.sstr(sol.body.gradient) == ("(2*lam)*W + 1/N*X.T*(-(HadamardProduct((HadamardProduct(-Y + 1, "
                                          "Heaviside(M)))*1, Y)) + HadamardProduct(-Y + 1, Heaviside(M)))")
    assert [sp.sstr(name) for name in sol.body.kinks] == ["M"]
    N_, D_, C_ = 3, 2, 4
    X, W = _mat("X", N_, D_), _mat("W", D_, C_)
    lam = sp.Symbol("lam", real=True)
    labels = [1, 3, 0]
    S = X * W
    L = sum(sp.Max(0, S[i, j] - S[i, labels[i]] + 1) for i in range(N_) for j in range(C_) if j != labels[i]) / N_ \
        + lam * sum(t ** 2 for t in W)
    Yv = sp.Matrix(N_, C_, lambda i, j: 1 if j == labels[i] else 0)
    fexpr = matrix.build(SVM)
    Wsym = next(s for s in fexpr.atoms(sp.MatrixSymbol) if s.name == "W")
    sizes, explicit = matrix._concrete(SVM, fexpr, Wsym)
    rng = random.Random(12)
    for _ in range(3):
        at = {s: sp.Rational(rng.randint(-12, 12), rng.randint(2, 7)) + sp.Rational(1, 97) for s in [*X, *W]}
        at[lam], at[sp.Symbol("N", real=True)] = sp.Rational(1, 10), sp.Integer(N_)  # N of f: a number
        Sv = S.xreplace(at)
        margins = [Sv[i, j] - Sv[i, labels[i]] + 1 for i in range(N_) for j in range(C_) if j != labels[i]]
        assert all(m != 0 for m in margins)  # off the kinks
        mats = {M_: (Yv if M_.name == "Y" else E.xreplace(at)) for M_, E in explicit.items()}
        G = matrix._explicit(grad, sizes, mats).xreplace(at)
        # the assignment's loop: +xᵢ to column j for each positive margin, −xᵢ to column yᵢ
        dW = sp.zeros(D_, C_)
        for i in range(N_):
            for j in range(C_):
                if j != labels[i] and Sv[i, j] - Sv[i, labels[i]] + 1 > 0:
                    dW[:, j] += X.row(i).T.xreplace(at)
                    dW[:, labels[i]] -= X.row(i).T.xreplace(at)
        dW = dW / N_ + 2 * at[lam] * W.xreplace(at)
        for i in range(D_):
            for j in range(C_):
                exact = sp.diff(L, W[i, j]).xreplace(at)
                assert sp.nsimplify(G[i, j] - exact) == 0
                assert G[i, j] == dW[i, j]


@pytest.mark.slow
def test_svm_key_names_the_margins_and_flags_the_kink(write_toml):
    _, tex = _render_one(write_toml, '''
[[problem]]
id = "svm"
kind = "matrix_gradient"
f = "sum((1 - Y) ⊙ max(0, M))/N + lam*norm(W)**2"
wrt = "W"
[problem.where]
S = "X*W"
M = "S - rowsum(Y ⊙ S)*ones(C).T + 1"
[problem.shapes]
X = "N x D"
W = "D x C"
Y = "N x C"
[problem.notation]
function = "L"
lam = "\\\\lambda"
''', bold=True)
    assert (r"Write $\mathbf{S} = \mathbf{X} \mathbf{W}$ ($N \times C$) and $\mathbf{M} = \mathbf{1} + \mathbf{S} - "
            r"\left(\mathbf{S} \odot \mathbf{Y}\right) \mathbf{1} \mathbf{1}^{\top}$ ($N \times C$)") in tex
    assert (r"\frac{\partial L}{\partial \mathbf{W}} = 2 \lambda \mathbf{W} + \frac{1}{N} \mathbf{X}^{\top} "
            r"\left(\mathbf{1}[\mathbf{M} > 0] \odot \left(\mathbf{1} - \mathbf{Y}\right) - \mathbf{Y} \odot "
            r"\left(\left(\mathbf{1}[\mathbf{M} > 0] \odot \left(\mathbf{1} - \mathbf{Y}\right)\right) "
            r"\mathbf{1} \mathbf{1}^{\top}\right)\right)") in tex
    assert r"\paragraph{Kinks.} $\max(0, \cdot)$ is not differentiable at $0$: where an entry of $\mathbf{M}$ is exactly $0$" in tex
    assert r"takes $\mathbf{1}[0 > 0] = 0$ there" in tex


def test_a_random_point_on_a_kink_is_moved_off_it():
    """A point where a margin is exactly 0 has no derivative: the checker moves the variable's
    entries until no ReLU argument is 0, and gives up (an internal limit) when it cannot."""
    w1, w2, c = sp.symbols("w_1 w_2 c", real=True)
    at = {w1: sp.Integer(1), w2: sp.Integer(2), c: sp.Integer(5)}
    moved = matrix.off_kinks(at, [w1 + w2 - 3], [w1, w2], random.Random(0))
    assert moved[c] == 5 and moved[w1] != 1 and moved[w1] + moved[w2] - 3 != 0
    assert matrix.off_kinks(at, [w1 - 7], [w1, w2], random.Random(0)) is at
    with pytest.raises(matrix.InternalLimit, match="off the kinks"):
        matrix.off_kinks(at, [c - 5], [w1, w2], random.Random(0))


@pytest.mark.parametrize("where, message", [
    ('M = "X*W + ones(K).T"', "where.M: ones() takes dimensions, names of the shapes or positive whole numbers (known: C, D, N), not K"),
    ('W = "X"', "where.W: W is already a name of the shapes"),
    ('M = "X*W + ones(C)"', "where.M: shape mismatch in X*W + 1: N x C and C x 1"),
])
def test_where_and_ones_errors_name_the_field(where, message, write_toml, tmp_path):
    path = write_toml(f'''
[meta]
title = "t"
[[problem]]
id = "w"
kind = "matrix_gradient"
f = "sum(X*W)"
wrt = "W"
[problem.where]
{where}
[problem.shapes]
X = "N x D"
W = "D x C"
''')
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
