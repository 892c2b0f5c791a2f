"""The naive baseline: plain SymPy computing the seed assignments' answers, and nothing else
(no steps, no checks, no rendering). ``bench.py --compare`` measures symderiv against it.

Run: ``python benchmarks/baseline.py`` (prints the answers, so the work cannot be skipped).
"""

from __future__ import annotations

import sympy as sp


def derivatives_and_limits(out: list) -> None:
    x, a, beta = sp.symbols("x a beta", real=True)
    z = sp.Symbol("z", real=True)
    sigmoid = 1 / (1 + sp.exp(-x))
    tanh = (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1)
    for f in (sigmoid, tanh):                                       # AMA564 1(a)
        d = sp.simplify(sp.diff(f, x))
        out.append((d, sp.limit(d, x, sp.oo), sp.limit(d, x, -sp.oo)))
    leaky = sp.Piecewise((a * x, x < 0), (x, True))
    d = sp.diff(leaky, x)
    out.append((d, sp.limit(d.subs(x, sp.Abs(x)), x, sp.oo), a))
    out.append(sp.simplify(sp.diff(sp.log(1 + sp.exp(beta * x)) / beta, x)))   # NNDL Q1 softplus
    xs = sp.symbols("x1:4", real=True)                                        # NNDL Q1 softmax
    s = [sp.exp(v) / sum(sp.exp(u) for u in xs) for v in xs]
    out.append(sp.Matrix(3, 3, lambda i, j: sp.simplify(sp.diff(s[i], xs[j]))))
    yhat, y = sp.symbols("yhat y", real=True)                                 # CS189 2(b), 2(c)
    out.append(sp.diff((yhat - y) ** 2 / 2, yhat))
    out.extend(sp.diff(f, z) for f in (z, sp.Max(0, z), sp.tanh(z)))


def mlp(out: list) -> None:                                                   # AMA564 1(b)
    W1 = sp.Matrix([[sp.Rational(-8, 10), sp.Rational(5, 10), -1],
                    [sp.Rational(12, 10), sp.Rational(-7, 10), sp.Rational(2, 10)]])
    b1 = sp.Matrix([sp.Rational(-4, 10), sp.Rational(9, 10)])
    W2 = sp.Matrix([[sp.Rational(6, 10), sp.Rational(11, 10)]])
    b2 = sp.Matrix([sp.Rational(-1, 10)])
    xv = sp.Matrix([1, 2, 3])
    yv = sp.Rational(33, 100)
    z1 = W1 * xv + b1
    h1 = z1.applyfunc(lambda v: sp.Max(0, v))
    yh = (W2 * h1 + b2)[0]
    loss = (yh - yv) ** 2 / 2
    d2 = yh - yv
    dW2 = d2 * h1.T
    d1 = (W2.T * d2).multiply_elementwise(z1.applyfunc(lambda v: 1 if v > 0 else 0))
    out.append((yh, loss, dW2, d2, d1 * xv.T, d1))
    # DS-GA / CS189 symbolic tables: the gradient of the composed loss at a small size
    n, d, k = 2, 3, 2
    Wa, Wb = sp.MatrixSymbol("W1", d, n).as_explicit(), sp.MatrixSymbol("W2", k, d).as_explicit()
    ba, bb = sp.MatrixSymbol("b1", d, 1).as_explicit(), sp.MatrixSymbol("b2", k, 1).as_explicit()
    xx, yy = sp.MatrixSymbol("x", n, 1).as_explicit(), sp.MatrixSymbol("y", k, 1).as_explicit()
    sig = lambda m: m.applyfunc(lambda v: 1 / (1 + sp.exp(-v)))  # noqa: E731
    yhat_m = sig(Wb * sig(Wa * xx + ba) + bb)
    L = sum((yhat_m[i] - yy[i]) ** 2 for i in range(k)) / 2
    out.append([sp.diff(L, w) for w in list(Wa)[:2]])


def matrix_gradients(out: list) -> None:                                     # NNDL Q2, Q3
    n, m = 3, 4
    xv = sp.Matrix(sp.symbols("x0:3", real=True))
    A = sp.Matrix(3, 3, sp.symbols("A0:9", real=True))
    zv = sp.Matrix(sp.symbols("z0:3", real=True))
    f = (xv.T * (A * xv + zv))[0]
    out.append(sp.Matrix([sp.diff(f, v) for v in xv]))
    w = sp.Matrix(sp.symbols("w0:3", real=True))
    y = sp.Symbol("y", real=True)
    out.append(sp.Matrix([sp.diff(((w.T * xv)[0] - y) ** 2 / 2, v) for v in w]))
    X = sp.Matrix(m, n, sp.symbols(f"X0:{m * n}", real=True))
    Y = sp.Matrix(sp.symbols(f"Y0:{m}", real=True))
    r = X * w - Y
    out.append(sp.Matrix([sp.diff((r.T * r)[0] / (2 * m), v) for v in w]))
    W = sp.Matrix(2, 3, sp.symbols("W0:6", real=True))
    b = sp.Matrix(sp.symbols("b0:2", real=True))
    t = sp.Matrix(sp.symbols("t0:2", real=True))
    e = W * xv + b - t
    out.append(sp.Matrix(2, 3, lambda i, j: sp.diff((e.T * e)[0], W[i, j])))


def descent(out: list) -> None:                                               # NNDL Q4
    alpha = sp.Symbol("alpha", positive=True)
    for av in (sp.Rational(1, 2), sp.Rational(3, 2), sp.Rational(5, 2)):
        w, its = sp.Integer(0), []
        for _ in range(8):
            w = w - av * (w - 100)
            its.append(w)
        out.append(its)
    out.append(sp.solve_univariate_inequality(sp.Abs(1 - alpha) < 1, alpha, relational=False))
    out.append(sp.solve_univariate_inequality(1 - alpha < 0, alpha, relational=False))


def proofs(out: list) -> None:                                                # AMA564 2, 3
    q, tau, y = sp.symbols("q tau y", real=True)
    p, F = sp.Function("p"), sp.Function("F")
    risk = (sp.Integral((tau - 1) * (y - q) * p(y), (y, -sp.oo, q))
            + sp.Integral(tau * (y - q) * p(y), (y, q, sp.oo)))
    out.append(sp.simplify(sp.diff(risk, q)))
    fk, G, L = sp.symbols("f_k G L", positive=True)
    out.append(sp.simplify(fk - G / L + L / 2 * G / L ** 2))
    k, T = sp.symbols("k T", integer=True, positive=True)
    f = sp.IndexedBase("f")
    out.append(sp.summation(f[k] - f[k + 1], (k, 1, T)))


def main() -> None:
    out: list = []
    for part in (derivatives_and_limits, mlp, matrix_gradients, descent, proofs):
        part(out)
    print(len(out), "answers;", sum(len(str(o)) for o in out), "characters")


if __name__ == "__main__":
    main()
