"""Second order in matrix_gradient and derivative: Hessians against sympy.hessian of the explicit
scalar, stationary points substituted back, Newton steps, and wrong answers refused."""

import random

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.derive import hessian, matrix
from symderiv.derive.matrix import MatrixSpec
from symderiv.errors import VerificationFailed
from symderiv.spec import Problem

LS = ("norm(X*theta - y)**2/2", "theta", {"X": "n x d", "theta": "d x 1", "y": "n x 1"})
RIDGE = ("norm(X*theta - y)**2/2 + lam/2*norm(theta)**2", "theta",
         {"X": "n x d", "theta": "d x 1", "y": "n x 1"})
QUAD = ("x.T*A*x - b.T*x", "x", {"x": "n x 1", "A": "n x n", "b": "n x 1"})
LOGISTIC = ("log(1 + exp(-y*w.T*x))", "w", {"w": "d x 1", "x": "d x 1"})


def _solve(case, stationary=True, newton=False, assume=None):
    f, wrt, shapes = case
    spec = MatrixSpec(f, wrt, tuple(shapes.items()), second=hessian.SecondSpec(True, stationary, newton))
    return matrix.solve(Problem(id="h", kind="matrix_gradient", spec=spec, assume=assume or {}))


def _answers(sol):
    return {a.label: a.value for a in sol.answers}


def _mat(name, r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


# independent explicit scalars at n = 3, d = 2 and their Hessians by sympy.hessian
Xe, th, ye = _mat("X", 3, 2), _mat("t", 2, 1), _mat("y", 3, 1)
lam = sp.Symbol("lam", real=True)
r = Xe * th - ye
LS_F = (r.T * r)[0] / 2
RIDGE_F = LS_F + lam / 2 * (th.T * th)[0]


def _explicit(expr, names):
    """A matrix expression of the answer evaluated on the explicit matrices ``names``."""
    subs = {}
    for M in expr.atoms(sp.MatrixSymbol):
        subs[M] = sp.ImmutableMatrix(names[M.name])
    e = expr.xreplace(subs)
    e = e.replace(lambda a: isinstance(a, sp.Identity), lambda a: sp.ImmutableMatrix(sp.eye(a.rows)))
    return sp.Matrix(e.subs({sp.Symbol("d", integer=True, positive=True): 2,
                             sp.Symbol("n", integer=True, positive=True): 3}).doit())


def _subs_dims(expr):
    return expr.subs({sp.Symbol("d", integer=True, positive=True): 2,
                      sp.Symbol("n", integer=True, positive=True): 3})


@pytest.mark.parametrize("case, scalar, want", [(LS, LS_F, "X.T*X"), (RIDGE, RIDGE_F, "lam*I + X.T*X")])
def test_least_squares_and_ridge_hessians_against_sympy_hessian(case, scalar, want):
    sol = _solve(case)
    H = _answers(sol)["hessian"]
    assert sp.sstr(H) == want
    assert _answers(sol)["hessian.shape"] == "d x d"
    names = {"X": Xe, "theta": th, "y": ye}
    H_e = _explicit(_subs_dims(H).xreplace({sp.Symbol("lam", real=True): lam}), names)
    assert (H_e - sp.hessian(scalar, list(th))).expand() == sp.zeros(2, 2)


def test_quadratic_form_hessian_is_a_plus_a_transpose():
    H = _answers(_solve(QUAD))["hessian"]
    A, x, b = _mat("A", 3, 3), _mat("x", 3, 1), _mat("b", 3, 1)
    f = (x.T * A * x)[0] - (b.T * x)[0]
    assert sp.sstr(H) == "A + A.T"
    n = sp.Symbol("n", integer=True, positive=True)
    assert (_explicit(H.subs(n, 3), {"A": A}) - sp.hessian(f, list(x))).expand() == sp.zeros(3, 3)


def test_logistic_hessian_is_sigma_one_minus_sigma_x_xt_and_psd():
    sol = _solve(LOGISTIC, stationary=False)
    H = _answers(sol)["hessian"]
    x, w = _mat("x", 3, 1), _mat("w", 3, 1)
    y = sp.Symbol("y", real=True)
    f = sp.log(1 + sp.exp(-y * (w.T * x)[0]))
    exact = sp.hessian(f, list(w))
    rng = random.Random(3)
    at = {s: sp.Rational(rng.randint(-9, 9), 7) for s in list(x) + list(w)}
    at[y] = -1
    s = 1 / (1 + sp.exp(-(w.T * x)[0]))
    sigma_form = (s * (1 - s)).xreplace(at) * (x * x.T).xreplace(at)   # y² = 1
    d = sp.Symbol("d", integer=True, positive=True)
    H_e = _explicit(H.subs(d, 3), {"x": x, "w": w}).xreplace(at)
    for i in range(3):
        for j in range(3):
            assert abs(sp.N(H_e[i, j] - exact.xreplace(at)[i, j], 30)) < 1e-25
            assert abs(sp.N(H_e[i, j] - sigma_form[i, j], 30)) < 1e-25
    assert sol.body.second.curvature == "semidefinite"


def test_stationary_points_substituted_back_at_random_numbers():
    rng = random.Random(7)
    for case, grad in ((LS, lambda X, t, y, l: X.T * (X * t - y)),
                       (RIDGE, lambda X, t, y, l: X.T * (X * t - y) + l * t)):
        star = _answers(_solve(case, assume={"lam": "positive"}))["stationary"]
        Xn = sp.Matrix(3, 2, lambda i, j: sp.Rational(rng.randint(-9, 9), 4) + int(i == j))
        yn = sp.Matrix(3, 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 4))
        ln = sp.Rational(3, 5)
        t = _explicit(_subs_dims(star).xreplace({sp.Symbol("lam", real=True): ln}), {"X": Xn, "y": yn})
        assert grad(Xn, t, yn, ln) == sp.zeros(2, 1)
    assert sp.sstr(_answers(_solve(RIDGE))["stationary"]) == "(lam*I + X.T*X)**(-1)*X.T*y"


@pytest.mark.slow   # three Hessians solved (about 1.1 s)
def test_ridge_is_positive_definite_only_when_lambda_is_known_positive():
    assert _solve(RIDGE, assume={"lam": "positive"}).body.second.curvature == "definite"
    assert _solve(RIDGE).body.second.curvature == "unknown"
    assert _solve(LS).body.second.curvature == "semidefinite"
    assert _solve(QUAD).body.second.curvature == "unknown"


def test_newton_step_reaches_the_minimizer_of_a_quadratic():
    sol = _solve(RIDGE, newton=True, assume={"lam": "positive"})
    assert sol.body.second.newton_reaches
    step = _answers(sol)["newton"]
    rng = random.Random(11)
    Xn = sp.Matrix(3, 2, lambda i, j: sp.Rational(rng.randint(-9, 9), 4))
    yn = sp.Matrix(3, 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 4))
    t0 = sp.Matrix([sp.Rational(5, 2), -7])
    ln = sp.Rational(1, 2)
    t1 = _explicit(_subs_dims(step).xreplace({sp.Symbol("lam", real=True): ln}), {"X": Xn, "y": yn, "theta": t0})
    assert Xn.T * (Xn * t1 - yn) + ln * t1 == sp.zeros(2, 1)


def test_a_wrong_hessian_is_refused():
    f, wrt, shapes = RIDGE
    spec = MatrixSpec(f, wrt, tuple(shapes.items()))
    expr = matrix.build(spec)
    X = sp.MatrixSymbol("theta", sp.Symbol("d", integer=True, positive=True), 1)
    Xd = sp.MatrixSymbol("X", sp.Symbol("n", integer=True, positive=True), X.shape[0])
    with pytest.raises(VerificationFailed, match="hessian"):
        hessian.check_hessian("h", spec, expr, X, Xd.T * Xd)   # the λI is missing
    hessian.check_hessian("h", spec, expr, X, Xd.T * Xd + sp.Symbol("lam", real=True) * sp.Identity(X.shape[0]))


def test_a_wrong_stationary_point_is_refused():
    f, wrt, shapes = RIDGE
    spec = MatrixSpec(f, wrt, tuple(shapes.items()))
    expr = matrix.build(spec)
    d, n = sp.Symbol("d", integer=True, positive=True), sp.Symbol("n", integer=True, positive=True)
    X, Xd, y = sp.MatrixSymbol("theta", d, 1), sp.MatrixSymbol("X", n, d), sp.MatrixSymbol("y", n, 1)
    lam_ = sp.Symbol("lam", real=True)
    H = lam_ * sp.Identity(d) + Xd.T * Xd
    grad = lam_ * X + Xd.T * Xd * X - Xd.T * y
    with pytest.raises(VerificationFailed, match="not zero"):
        hessian.check_stationary("h", spec, expr, X, grad, H, Xd.T * y,
                                 sp.Inverse(Xd.T * Xd) * Xd.T * y, True)   # least squares, not ridge


def test_second_derivatives_of_activations():
    from symderiv.derive import derivative
    from symderiv.derive.derivative import DerivativeSpec, FunctionSpec

    spec = DerivativeSpec((FunctionSpec("sigmoid", entry="sigmoid"), FunctionSpec("tanh", entry="tanh"),
                           FunctionSpec("f", expr="x**3*exp(-x)")), hessian=True)
    sol = derivative.solve(Problem(id="d", kind="derivative", spec=spec))
    got = {a.label: a for a in sol.answers}
    x = sp.Symbol("x", real=True)
    s = 1 / (1 + sp.exp(-x))
    assert sp.simplify(got["sigmoid.second_derivative"].value - sp.diff(s, x, 2)) == 0
    assert sp.simplify(got["tanh.second_derivative"].value - sp.diff(sp.tanh(x), x, 2)) == 0
    assert sp.simplify(got["f.second_derivative"].value - (6 * x - 6 * x**2 + x**3) * sp.exp(-x)) == 0
    # the teacher's form through σ itself: σ(σ − 1)(2σ − 1) = σ(1 − σ)(1 − 2σ)
    teacher = got["sigmoid.second_derivative"].display
    sig = sp.Function("sigma")(x)
    assert teacher is not None and len(teacher.atoms(sp.exp)) == 0
    form = teacher.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef), lambda e: sig)
    assert sp.expand(form - sig * (1 - sig) * (1 - 2 * sig)) == 0


@pytest.mark.parametrize("body, message", [
    ('f = "norm(W*x - y)**2"\nwrt = "W"\nhessian = true\n[problem.shapes]\nW = "m x n"\nx = "n x 1"\ny = "m x 1"',
     "hessian: needs a vector variable"),
    ('f = "log(1 + exp(-y*w.T*x))"\nwrt = "w"\nstationary = true\n[problem.shapes]\nw = "d x 1"\nx = "d x 1"',
     "stationary: the Hessian depends on w"),
    ('f = "log(det(S)) + x.T*S*x"\nwrt = "x"\nhessian = true\n[problem.shapes]\nS = "n x n"\nx = "n x 1"',
     "inv() or det() is not supported"),
])
def test_second_order_requests_that_cannot_be_met_are_one_line_errors(body, message, write_toml):
    path = write_toml('[meta]\ntitle = "t"\n[[problem]]\nid = "g"\nkind = "matrix_gradient"\n' + body + "\n")
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2, result.output
    assert "problem g: " in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_derivative_hessian_refuses_a_vector_function(write_toml):
    path = write_toml('[meta]\ntitle = "t"\n[[problem]]\nid = "s"\nkind = "derivative"\n'
                      'functions = ["softmax"]\nhessian = true\n')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2
    assert "problem s: hessian: softmax is vector-valued" in result.stderr


def test_newton_on_a_singular_hessian_is_refused(write_toml):
    """The Hessian of one example's logistic loss is a multiple of x xᵀ: rank one, no inverse."""
    path = write_toml('[meta]\ntitle = "t"\n[[problem]]\nid = "g"\nkind = "matrix_gradient"\n'
                      'f = "log(1 + exp(-y*w.T*x))"\nwrt = "w"\nnewton = true\n'
                      '[problem.shapes]\nw = "d x 1"\nx = "d x 1"\n')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2
    assert "problem g: newton: the Hessian is singular" in result.stderr


def test_newton_step_of_a_non_quadratic_with_an_invertible_hessian():
    """Logistic loss plus a ridge term: the Hessian depends on w; the step is the formula."""
    case = ("log(1 + exp(-y*w.T*x)) + lam/2*norm(w)**2", "w", {"w": "d x 1", "x": "d x 1"})
    sol = _solve(case, stationary=False, newton=True, assume={"lam": "positive"})
    second = sol.body.second
    assert not second.constant and not second.newton_reaches
    assert second.curvature == "definite"
    assert "newton" in _answers(sol)


_x, _a, _B = _mat("x", 3, 1), _mat("a", 3, 1), _mat("B", 3, 3)
_xx, _ax = (_x.T * _x)[0], (_a.T * _x)[0]


@pytest.mark.parametrize("f, shapes, scalar, want", [
    ("(x.T*x)**2", {"x": "n x 1"}, _xx ** 2, "(4*Trace(x.T*x))*I + 8*x*x.T"),
    ("(x.T*x)*(a.T*x)", {"x": "n x 1", "a": "n x 1"}, _xx * _ax, "(2*Trace(a.T*x))*I + 2*a*x.T + 2*x*a.T"),
    ("exp(a.T*x) + x.T*B*x", {"x": "n x 1", "a": "n x 1", "B": "n x n"},
     sp.exp(_ax) + (_x.T * _B * _x)[0], "exp(Trace(a.T*x))*a*a.T + B + B.T"),
])
def test_hessians_that_depend_on_x_against_sympy_hessian(f, shapes, scalar, want):
    """A scalar factor c(x) of a gradient term c·M contributes M (∇c)ᵀ."""
    H = _answers(_solve((f, "x", shapes), stationary=False))["hessian"]
    assert sp.sstr(H) == want
    n = sp.Symbol("n", integer=True, positive=True)
    H_e = _explicit(H.subs(n, 3), {"x": _x, "a": _a, "B": _B})
    H_e = H_e.replace(lambda e: isinstance(e, sp.Trace), lambda e: e.arg[0, 0] if hasattr(e.arg, "shape") else e)
    assert sp.simplify(H_e - sp.hessian(scalar, list(_x))) == sp.zeros(3, 3)


# --- the logistic loss over a data matrix X (m x n): entrywise functions ---------------------

DATA = {"X": "m x n", "w": "n x 1", "y": "m x 1"}
LOGREG = ("sum(log(1 + exp(-hadamard(y, X*w))))", "w", DATA)
LOGREG_MEAN = ("sum(log(1 + exp(-hadamard(y, X*w))))/m", "w", DATA)
_Xd, _wd, _yd = _mat("X", 3, 2), _mat("w", 2, 1), _mat("y", 3, 1)


def _logreg_scalar(mean=False):
    u = [-_yd[i] * (_Xd.row(i) * _wd)[0] for i in range(3)]
    total = sum(sp.log(1 + sp.exp(t)) for t in u)
    return total / sp.Symbol("m", real=True) if mean else total


def _data_explicit(expr, at):
    """The answer at m = 3, n = 2 on the explicit matrices, then at the numbers ``at``."""
    m, n = sp.Symbol("m", integer=True, positive=True), sp.Symbol("n", integer=True, positive=True)
    sizes = {m: 3, n: 2}
    explicit = {sp.MatrixSymbol("X", m, n): _Xd, sp.MatrixSymbol("w", n, 1): _wd,
                sp.MatrixSymbol("y", m, 1): _yd}
    numbers = {k: v.xreplace(at).evalf(40) for k, v in explicit.items()}  # floats: a fast inverse
    plain = {s: v for s, v in at.items() if s.name == "m"}
    return sp.Matrix(matrix._explicit(expr.xreplace(plain), sizes, numbers))


def _numbers(seed):
    rng = random.Random(seed)
    at = {s: sp.Rational(rng.randint(-9, 9), 4) for s in list(_Xd) + list(_wd)}
    at.update({s: rng.choice([-1, 1]) for s in _yd})
    at[sp.Symbol("m", real=True)] = 3
    return at


@pytest.mark.parametrize("case, mean, coeff", [(LOGREG, False, ""), (LOGREG_MEAN, True, "1/m*")])
def test_logistic_loss_over_a_data_matrix_hessian_against_sympy_hessian(case, mean, coeff):
    sol = _solve(case, stationary=False)
    H = _answers(sol)["hessian"]
    u = "-(HadamardProduct(X*w, y))"
    assert sp.sstr(H) == (f"{coeff}X.T*DiagMatrix(HadamardProduct(sigmoid({u}), -sigmoid({u}) + 1, "
                          "HadamardPower(y, 2)))*X")
    exact = sp.hessian(_logreg_scalar(mean), list(_wd))
    for seed in range(3):
        at = _numbers(seed)
        got, want = _data_explicit(H, at), exact.xreplace(at)
        assert all(abs(sp.N(a - b, 30)) < 1e-25 for a, b in zip(got, want))
    second = sol.body.second
    assert second.curvature == "semidefinite"
    assert [(N.name, r.name) for N, r in second.rows] == [("X", "x")]
    assert [k for k, _ in second.weights] == ["sigmoid", "square"]
    tex = sp.latex(second.quadratic_form)
    assert r"\sigma_{i} \left(1 - \sigma_{i}\right) y_{i}^{2}\left(x_{i}^\top z\right)^2" in tex
    assert tex.startswith(r"\frac{1}{m} \sum_{i=1}^{m}" if mean else r"\sum_{i=1}^{m}")


def test_logistic_loss_newton_step_at_random_numbers():
    sol = _solve(LOGREG_MEAN, stationary=False, newton=True)
    step = _answers(sol)["newton"]
    # (1/m)s cancel: w + (Xᵀ diag(…) X)⁻¹ Xᵀ(y ⊙ σ(−y ⊙ Xw))
    assert not step.has(sp.Symbol("m", real=True))
    f = _logreg_scalar(mean=True)
    g, Hx = sp.Matrix([sp.diff(f, v) for v in _wd]), sp.hessian(f, list(_wd))
    for seed in range(3):
        at = _numbers(seed)
        want = _wd.xreplace(at) - Hx.xreplace(at).evalf(40).inv() * g.xreplace(at).evalf(40)
        got = _data_explicit(step, at).evalf(40)
        assert all(abs(a - b) < 1e-25 for a, b in zip(got, want))


@pytest.mark.slow  # ~17 s: the symbolic comparison is tried before the random numbers
def test_a_wrong_logistic_hessian_is_refused(monkeypatch):
    """Dropping the y∘² factor (right only for labels ±1) is not the Hessian of f as written."""
    true = hessian.hessian_of

    def without_labels(gradient, X, dX):
        d, H = true(gradient, X, dX)
        return d, H.replace(lambda a: isinstance(a, sp.HadamardPower), lambda a: sp.OneMatrix(*a.shape))
    monkeypatch.setattr(hessian, "hessian_of", without_labels)
    with pytest.raises(VerificationFailed, match="hessian"):
        _solve(LOGREG, stationary=False)


def test_a_wrong_newton_step_is_refused(monkeypatch):
    monkeypatch.setattr(hessian, "_newton_step",
                        lambda X, H, g: sp.MatAdd(X, sp.MatMul(sp.Inverse(H), g)))  # the sign flipped
    with pytest.raises(VerificationFailed, match="Newton step differs"):
        _solve(LOGREG, stationary=False, newton=True)
