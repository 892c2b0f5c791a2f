"""The Maxima printer: every registry expression (activations, their derivatives, losses and
their derivatives) printed in Maxima syntax and read back by SymPy's Maxima parser."""

import random

import pytest
import sympy as sp
from sympy.parsing.maxima import parse_maxima

from symderiv.library.activations import ACTIVATIONS
from symderiv.library.losses import LOSSES
from symderiv.platforms.maxima import Unsupported, maxima, maxima_form

X = sp.Symbol("x", real=True)
YHAT, Y = sp.Symbol("yhat", real=True), sp.Symbol("y", real=True)
PARAMS = {"a": sp.Rational(1, 10), "beta": sp.Symbol("beta", positive=True),
          "alpha": sp.Symbol("alpha", positive=True), "tau": sp.Symbol("tau", positive=True),
          "delta": sp.Symbol("delta", positive=True)}
VALUES = {"beta": sp.Rational(3, 2), "alpha": sp.Rational(7, 10), "tau": sp.Rational(3, 10),
          "delta": sp.Rational(6, 5)}


def _registry_expressions():
    out = []
    for name, e in ACTIVATIONS.items():
        if e.vector:
            xs = sp.symbols("x_1:4", real=True)
            f = e.build(list(xs), PARAMS)
            out.append((f"{name}", f))
            out.append((f"{name}.jacobian", f.jacobian(sp.Matrix(xs))))
            continue
        f = e.build(X, PARAMS)
        out.append((name, f))
        out.append((f"{name}.derivative", sp.diff(f, X)))
    for name, e in LOSSES.items():
        f = e.build(YHAT, Y, PARAMS)
        out.append((name, f))
        out.append((f"{name}.derivative", sp.diff(f, YHAT)))
    return out


EXPRESSIONS = _registry_expressions()


def _read(text, expr):
    names = {s.name: s for s in expr.free_symbols}
    names.update({"signum": sp.sign, "max": sp.Max, "min": sp.Min,
                  "matrix": lambda *rows: sp.Matrix(rows)})
    return parse_maxima(text, name_dict=names)


def _points(expr, n=6):
    rng = random.Random(0)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    for _ in range(n):
        # away from every kink: no value is an integer multiple of 1/10 of another
        yield {s: VALUES.get(s.name, sp.Rational(rng.randrange(-3000, 3000), 1000)
                             + sp.Rational(137, 10 ** 4)) for s in syms}


def test_every_registry_entry_is_covered():
    names = {n for n, _ in EXPRESSIONS}
    assert {"relu.derivative", "elu", "gelu.derivative", "softmax.jacobian", "huber.derivative",
            "hinge", "check.derivative", "hard_sigmoid"} <= names
    assert len(EXPRESSIONS) == 2 * (len(ACTIVATIONS) + len(LOSSES))


@pytest.mark.parametrize("name,expr", EXPRESSIONS, ids=[n for n, _ in EXPRESSIONS])
def test_round_trip_through_maximas_parser(name, expr):
    text = maxima(expr)
    assert "**" not in text and "Piecewise" not in text and "Heaviside" not in text
    back = _read(text, expr)
    form = expr.applyfunc(maxima_form) if isinstance(expr, sp.MatrixBase) else maxima_form(expr)
    # what was printed is what comes back, exactly
    assert sp.simplify(back - form) == (sp.zeros(*expr.shape) if expr.is_Matrix else 0), text
    # and the signum form is the registry's function away from the kinks
    for point in _points(expr):
        diff = sp.N(back.subs(point) - expr.subs(point), 30)
        assert (diff.norm() if expr.is_Matrix else sp.Abs(diff)) < 1e-20, (text, point)


def test_known_forms():
    x = X
    assert maxima(sp.exp(x) / (sp.exp(x) + 1) ** 2) == "exp(x)/(exp(x) + 1)^2"
    assert maxima(sp.Max(0, x)) == "max(0, x)"
    assert maxima(sp.E + sp.pi + sp.sqrt(x)) == "sqrt(x) + %e + %pi"
    assert maxima(x ** sp.Rational(-3, 2)) == "x^(-3/2)"
    assert maxima(sp.Abs(x) + sp.sign(x)) == "abs(x) + signum(x)"
    assert maxima(sp.Matrix([[1, sp.Rational(1, 3)], [x, 2]])) == "matrix([1, 1/3], [x, 2])"
    assert maxima(sp.Piecewise((sp.Symbol("a"), x < 0), (1, x > 0))) \
        == "a*(1/2 - signum(x)/2) + signum(x)/2 + 1/2"


def test_activations_are_written_out():
    sigmoid = sp.Function("sigmoid")
    assert maxima(sigmoid(X) * 2) == "2/(1 + exp(-x))"
    from symderiv.library.display import SIGMA
    text = maxima(SIGMA(X) * (1 - SIGMA(X)))
    assert "sigma" not in text and "exp(-x)" in text
    assert sp.simplify(_read(text, X) - sp.exp(-X) / (1 + sp.exp(-X)) ** 2) == 0


def test_values_without_a_maxima_form_are_refused():
    with pytest.raises(Unsupported, match="Maxima"):
        maxima(sp.Symbol("lambda") * X)
    with pytest.raises(Unsupported):
        maxima(sp.Interval(0, 2))
    with pytest.raises(Unsupported):
        maxima(sp.Eq(X, 1))
    with pytest.raises(Unsupported):
        maxima(sp.MatrixSymbol("A", 2, 2))
    with pytest.raises(Unsupported, match="'inf' cannot be a variable"):
        maxima(sp.Symbol("inf") + 1)
