"""The naive baseline: plain SymPy computing every answer of the four seed answer keys, and
nothing else (no steps, no checks, no rendering). ``bench.py --compare`` measures symderiv
against it.

It is written the way a competent SymPy user without symderiv would compute the keys:

- derivatives: ``sympy.diff`` then ``sympy.simplify``; a teacher form the key prints
  (σ(x)(1 − σ(x)), 1 − tanh², σ(βx), s_i(δ_ij − s_j)) is matched to the derivative by
  ``simplify((derivative - form).rewrite(exp)) == 0``; leaky ReLU and ReLU as ``Piecewise``;
- limits at ±∞: ``sympy.limit`` (for a ``Piecewise``, after x = ±p with p > 0, because
  ``limit`` of a ``Piecewise`` at ∞ raises in SymPy 1.14);
- numeric forward and backward passes: exact ``Matrix`` arithmetic;
- closed forms (matrix-calculus gradients): every entry at the explicit size the key uses, by
  ``diff`` of the expanded scalar, simplified, and matched to the closed form;
- the backward tables and recurrences of the symbolic networks: every entry at the size the
  key uses, by ``diff`` of the composed loss written in the layer values (b1 = z1 − W1 x,
  b2 = z3 − W2 f(z1)), not simplified, and the key's formulas evaluated at that size. Neither
  ``simplify`` on these entries (5 s for the sigmoid networks' W and b, about 150 s an entry of
  ∂ℓ/∂x) nor matching them to the formulas is done: the first is more than an answer needs,
  the second is a check;
- gradient descent: the iterates by exact arithmetic, the closed form by ``rsolve``, the
  conditions and the steps to the tolerance by ``solve_univariate_inequality``;
- proofs: the computations the keys' proof steps state (the derivative of the quantile risk
  by the Leibniz rule, the descent-lemma algebra, the telescoping sum).

Not computed: the keys' prose (DS-GA 1.1(a), 1.2(c)), plots and figures, and the proof steps
that are tests on instances (AMA564 2 and 3, last step): those are checks.

One function per problem file (``ama564``, ``cs189``, ``dsga1008``, ``nndl``), each returning
its (label, value) pairs; every block names the answers it computes (problem id and label as in
``symderiv solve --json`` or the rendered key). CS189 2(d)-(f) and DS-GA 1.1(b)-(d) are the same
ReLU network: both keys contain it, so both files' shares compute it.

Run: ``python benchmarks/baseline.py`` (prints a summary of the answers and each file's CPU
time, so the work cannot be skipped).
"""

from __future__ import annotations

import time

import sympy as sp

HALF = sp.Rational(1, 2)


def sigmoid(t):
    return 1 / (1 + sp.exp(-t))


def relu(t):
    return sp.Max(0, t)


def identity(t):
    return t


def derivative(f, x):
    return sp.simplify(sp.diff(f, x))


def same(a, b) -> bool:
    """simplify(a - b) == 0, entry by entry for matrices (a rewrite to exp first)."""
    pairs = zip(a, b) if isinstance(a, sp.MatrixBase) else [(a, b)]
    return all(sp.simplify((p - q).rewrite(sp.exp)) == 0 for p, q in pairs)


def limits_at_infinity(d, x):
    """limit of d at +oo and -oo; a Piecewise is first resolved on x = ±p, p > 0."""
    if d.has(sp.Piecewise):
        p = sp.Symbol("p", positive=True)
        return sp.limit(d.subs(x, p), p, sp.oo), sp.limit(d.subs(x, -p), p, sp.oo)
    return sp.limit(d, x, sp.oo), sp.limit(d, x, -sp.oo)


def vector(name: str, k: int):
    return sp.Matrix(sp.symbols(f"{name}1:{k + 1}", real=True))


def matrix(name: str, rows: int, cols: int):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def symbolic_mlp(hidden, output, loss: str, n: int = 2, d: int = 3, k: int = 2) -> list:
    """Every entry the key's symbolic network tables name, at widths n -> d -> k (2 -> 3 -> 2,
    the size the keys state): the forward table, the four parameter gradients, the recurrences'
    left-hand sides (dl/dz1, dl/dz2, dl/dz3, dl/dx) and the elementwise derivatives."""
    W1, W2 = matrix("W1", d, n), matrix("W2", k, d)
    b1, b2, x, y = vector("b1_", d), vector("b2_", k), vector("x", n), vector("y", k)
    u, h, v, yh = vector("u", d), vector("h", d), vector("v", k), vector("yhat", k)  # z1, z2, z3, yhat

    def ell(out):
        if loss == "half_squared":
            return sum((out[i] - y[i]) ** 2 for i in range(k)) / 2
        return -sum(y[i] * sp.log(out[i]) + (1 - y[i]) * sp.log(1 - out[i]) for i in range(k))

    # forward table: z1, z2, z3, yhat and the loss written out
    z1 = W1 * x + b1
    z2 = z1.applyfunc(hidden)
    z3 = W2 * z2 + b2
    yhat = z3.applyfunc(output)
    L = ell(yhat)
    out = [("forward", (z1, z2, z3, yhat, L))]

    # elementwise derivatives: dz2/dz1, dyhat/dz3, the activations' derivatives, dl/dyhat
    s = sp.Symbol("z", real=True)
    fprime = derivative(hidden(s), s)
    gprime = derivative(output(s), s)
    dz2_dz1 = u.applyfunc(hidden).jacobian(u).applyfunc(sp.simplify)
    dyh_dz3 = v.applyfunc(output).jacobian(v).applyfunc(sp.simplify)
    dl_dyh = sp.Matrix([derivative(ell(yh), c) for c in yh])
    out.append(("elementwise", (dz2_dz1, dyh_dz3, fprime, gprime, dl_dyh)))
    if hidden is sigmoid:  # the key prints sigma'(z) = sigma(z)(1 - sigma(z))
        out.append(("sigma' teacher form", same(fprime, sigmoid(s) * (1 - sigmoid(s)))))

    # backward table and recurrences: diff of the composed loss, every entry, rewritten in the
    # layer values u = z1, v = z3 and simplified (the recurrences' dl/dz1 and dl/dz3 are the
    # gradients of b1 and b2)
    to_u = dict(zip(b1, u - W1 * x))
    to_v = dict(zip(b2, v - W2 * u.applyfunc(hidden)))
    grads = {}
    for name, wrt in (("W2", W2), ("b2", b2), ("W1", W1), ("b1", b1)):
        grads[name] = wrt.applyfunc(lambda p: sp.diff(L, p).subs(to_u).subs(to_v))
    # not simplified: simplify of the sigmoid networks' entries costs 5 s (W, b) and about
    # 150 s an entry (x); matching them to the key's formulas would be a check, not an answer
    grads["x"] = x.applyfunc(lambda p: sp.diff(L, p).subs(to_u).subs(to_v))
    from_h = dict(zip(b2, v - W2 * h))  # dl/dz2: the loss as a function of the hidden output
    L_h = ell((W2 * h + b2).applyfunc(output))
    grads["z2"] = h.applyfunc(lambda c: sp.diff(L_h, c).subs(from_h))
    out.append(("backward", grads))

    # the closed forms of the table and the recurrences at this size (the key's formulas)
    on = lambda e, t: e.subs(s, t)  # noqa: E731
    dl_dz3 = (dl_dyh.subs(dict(zip(yh, v.applyfunc(output))))
              .multiply_elementwise(v.applyfunc(lambda t: on(gprime, t))))
    if loss == "bce":  # the key's cancellation: dl/dz3 = yhat - y
        dl_dz3 = v.applyfunc(output) - y
    dl_dz2 = W2.T * dl_dz3
    dl_dz1 = dl_dz2.multiply_elementwise(u.applyfunc(lambda t: on(fprime, t)))
    formulas = {"W2": dl_dz3 * u.applyfunc(hidden).T, "b2": dl_dz3, "W1": dl_dz1 * x.T, "b1": dl_dz1,
                "x": W1.T * dl_dz1, "z2": dl_dz2}
    out.append(("closed forms", formulas))
    return out


def ama564() -> list:
    """problems/ama564_a1.toml (seed 001)."""
    out = []
    # 1a sigmoid.derivative, .limit(+oo), .limit(-oo) and the teacher form sigma(x)(1 - sigma(x))
    x = sp.Symbol("x", real=True)
    a = sp.Symbol("a", positive=True)  # 0 < a < 1
    sig = sigmoid(x)
    d = derivative(sig, x)
    out += [("1a sigmoid.derivative", d), ("1a sigmoid.limits", limits_at_infinity(d, x)),
            ("1a sigmoid teacher form", same(d, sig * (1 - sig)))]
    # 1a tanh.derivative, limits, teacher form 1 - tanh^2 (tanh as the sheet writes it)
    th = (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1)
    d = derivative(th, x)
    out += [("1a tanh.derivative", d), ("1a tanh.limits", limits_at_infinity(d, x)),
            ("1a tanh teacher form", same(d, 1 - th ** 2))]
    # 1a leaky_relu.derivative, limits (max{ax, x} = ax for x < 0 as a < 1)
    d = derivative(sp.Piecewise((a * x, x < 0), (x, True)), x)
    out += [("1a leaky_relu.derivative", d), ("1a leaky_relu.limits", limits_at_infinity(d, x))]

    # 1b forward.z1, h1, z2, yhat, loss; backward.dL/dyhat, dL/dz2, grad.W2, grad.b2, dL/dh1,
    # sigma'(z1), dL/dz1, grad.W1, grad.b1: exact Matrix arithmetic
    r = sp.Rational
    W1 = sp.Matrix([[r(-8, 10), r(5, 10), -1], [r(12, 10), r(-7, 10), r(2, 10)]])
    b1 = sp.Matrix([r(-4, 10), r(9, 10)])
    W2 = sp.Matrix([[r(6, 10), r(11, 10)]])
    b2 = sp.Matrix([r(-1, 10)])
    xv, yv = sp.Matrix([1, 2, 3]), r(33, 100)
    z1 = W1 * xv + b1
    h1 = z1.applyfunc(relu)
    z2 = W2 * h1 + b2
    f = z2[0]
    loss = (f - yv) ** 2 / 2
    t = sp.Symbol("t", real=True)
    dL_df = sp.diff((t - yv) ** 2 / 2, t).subs(t, f)
    dL_dz2 = sp.Matrix([dL_df])
    relu_prime = z1.applyfunc(lambda c: sp.diff(relu(t), t).subs(t, c))
    dL_dh1 = W2.T * dL_dz2
    dL_dz1 = dL_dh1.multiply_elementwise(relu_prime)
    out += [("1b forward", (z1, h1, z2, f, loss)),
            ("1b backward", (dL_df, dL_dz2, dL_dz2 * h1.T, dL_dz2, dL_dh1, relu_prime, dL_dz1,
                             dL_dz1 * xv.T, dL_dz1))]

    # 2 conclusion F(q) = tau, and the proof steps' computations: the check loss by sign of u,
    # r'(q) = F(q) - tau by the Leibniz rule, r''(q) = p(q)
    q, tau, yy, u = sp.symbols("q tau y u", real=True)
    p = sp.Function("p")
    rho = sp.piecewise_fold((tau - sp.Piecewise((1, u < 0), (0, True))) * u)
    risk = (sp.Integral((tau - 1) * (yy - q) * p(yy), (yy, -sp.oo, q))
            + sp.Integral(tau * (yy - q) * p(yy), (yy, q, sp.oo)))
    F = sp.Function("F")
    cdf, tail = sp.Integral(p(yy), (yy, -sp.oo, q)), sp.Integral(p(yy), (yy, q, sp.oo))
    r1 = sp.expand(sp.simplify(sp.diff(risk, q)).subs({cdf: F(q), tail: 1 - F(q)}))
    r2 = sp.diff(r1.subs(F(q), cdf), q)
    conclusion = sp.Eq(F(q), sp.solve(r1, F(q))[0])
    out += [("2 check loss", rho), ("2 r'(q)", r1), ("2 r''(q)", r2), ("2 conclusion", conclusion)]

    # 3 conclusion 2L(f_0 - fbar)/T, and the proof steps' computations: the descent-lemma
    # algebra, times 2L, G_0/(2L) >= 0, the telescoping sum, the bound by f(theta^0) - fbar
    Lc, G, G0, fk, fk1, f0, fbar, dd, g = sp.symbols("L G G_0 f_k f_k1 f_0 fbar d g", positive=True)
    k, T = sp.symbols("k T", integer=True, positive=True)
    fs = sp.IndexedBase("f")
    step = sp.simplify(fk - G / Lc + Lc / 2 * (1 / Lc) ** 2 * G)
    times_2L = sp.expand(2 * Lc * (step - fk1))
    telescoped = sp.summation(fs[k] - fs[k + 1], (k, 1, T))
    bound_gap = sp.factor(2 * Lc * (f0 - fbar) - 2 * Lc * ((f0 - dd) - (fbar + g)))
    out += [("3 descent step", step), ("3 times 2L", times_2L),
            ("3 G_0/(2L) >= 0", (G0 / (2 * Lc)).is_nonnegative),
            ("3 telescoping", telescoped), ("3 gap", (bound_gap, bound_gap.is_nonnegative)),
            ("3 conclusion", 2 * Lc * (f0 - fbar) / T)]
    return out


def cs189() -> list:
    """problems/cs189_hw.toml (seed 004)."""
    out = []
    # 2b mse.derivative
    yhat, y = sp.symbols("yhat y", real=True)
    out.append(("2b mse.derivative", derivative((yhat - y) ** 2 / 2, yhat)))
    # 2c linear.derivative, relu.derivative, tanh.derivative
    z = sp.Symbol("z", real=True)
    out += [("2c linear.derivative", derivative(z, z)),
            ("2c relu.derivative", derivative(sp.Piecewise((0, z < 0), (z, True)), z)),
            ("2c tanh.derivative", derivative(sp.tanh(z), z))]
    # 2def forward table, backward table, recurrences for dMSE/da_i, dW_i, db_i, elementwise
    # derivatives: ReLU hidden, identity output, half squared loss (the key's size 2 -> 3 -> 2)
    out += [("2def " + label, value) for label, value in symbolic_mlp(relu, identity, "half_squared")]
    # 3: the output of each node, the local derivative of every edge, the product along each of
    # the 3 paths from x to E, and dE/dx in the inputs and parameters
    x, w11, w12, w13, w4, b11, b12, b13, b14 = sp.symbols("x w11 w12 w13 w4 b11 b12 b13 b14", real=True)
    names = sp.symbols("r1 r2 a1 a2 a3 a4 yp E", real=True)
    r1, r2, a1, a2, a3, a4, yp, E = names
    nodes = {r1: relu(x), r2: relu(r1), a1: w11 * x + b11, a2: w12 * r1 + b12, a3: w13 * r2 + b13,
             a4: w4 * (a1 + a2 + a3) + b14, yp: a4, E: (yp - y) ** 2 / 2}
    outputs = {}
    for node, expr in nodes.items():  # in order: every parent is done before its children
        outputs[node] = expr.subs(outputs)
    edges = {(parent, node): sp.diff(expr, parent)
             for node, expr in nodes.items() for parent in (x, *names) if expr.has(parent)}

    def paths(start):
        if start == E:
            return [[E]]
        return [[start, *rest] for (a, b) in edges if a == start for rest in paths(b)]

    products = [sp.Mul(*(edges[(a, b)] for a, b in zip(path, path[1:]))) for path in paths(x)]
    dE_dx = sp.factor(sp.simplify(sp.diff(outputs[E], x)))
    out += [("3 outputs", outputs), ("3 edges", edges), ("3 paths", products), ("3 dE/dx", dE_dx)]
    return out


def dsga1008() -> list:
    """problems/dsga1008_hw1.toml (seed 003). 1.1(a) and 1.2(c) are prose: nothing to compute."""
    out = []
    # 1.1bcd regression: ReLU hidden, identity output, half squared loss
    out += [("1.1bcd " + label, value) for label, value in symbolic_mlp(relu, identity, "half_squared")]
    # 1.2a classification: sigmoid hidden and output, half squared loss
    out += [("1.2a " + label, value) for label, value in symbolic_mlp(sigmoid, sigmoid, "half_squared")]
    # 1.2b sigmoid hidden and output, binary cross-entropy (with dl/dz3 = yhat - y)
    out += [("1.2b " + label, value) for label, value in symbolic_mlp(sigmoid, sigmoid, "bce")]
    return out


def nndl() -> list:
    """problems/nndl_hw1.toml (seed 002)."""
    out = []
    # Q1 sigmoid.derivative and its teacher form sigma(x)(1 - sigma(x))
    x = sp.Symbol("x", real=True)
    d = derivative(sigmoid(x), x)
    out += [("Q1 sigmoid.derivative", d),
            ("Q1 sigmoid teacher form", same(d, sigmoid(x) * (1 - sigmoid(x))))]
    # Q1 softmax.jacobian at n = 3, simplified, and its entries s_i (delta_ij - s_j)
    xs = vector("x_", 3)
    soft = [sp.exp(c) / sum(sp.exp(e) for e in xs) for c in xs]
    J = sp.Matrix(3, 3, lambda i, j: derivative(soft[i], xs[j]))
    teacher = sp.Matrix(3, 3, lambda i, j: soft[i] * (sp.KroneckerDelta(i, j) - soft[j]))
    out += [("Q1 softmax.jacobian", J), ("Q1 softmax teacher form", same(J, teacher))]
    # Q1 softplus.derivative with beta > 0, and its teacher form sigma(beta x)
    beta = sp.Symbol("beta", positive=True)
    d = derivative(sp.log(1 + sp.exp(beta * x)) / beta, x)
    out += [("Q1 softplus.derivative", d), ("Q1 softplus teacher form", same(d, sigmoid(beta * x)))]

    # Q2.1, Q2.2, Q2.3, Q3 gradient and shape: the shapes of the key's shape-check table with
    # symbolic sizes; the gradient entry by entry at the key's size (n = 3; m = 3, n = 2),
    # matched to the closed form
    n, m = sp.symbols("n m", integer=True, positive=True)
    ms = sp.MatrixSymbol
    Xs, As, zs, ws = ms("x", n, 1), ms("A", n, n), ms("z", n, 1), ms("w", n, 1)
    ys, Ws, bs, Xm = ms("y", m, 1), ms("W", m, n), ms("b", m, 1), ms("X", m, n)
    r3, e3 = Xm * ws - ys, Ws * Xs + bs - ys
    shapes = {
        "Q2.1": [e.shape for e in (Xs, Xs.T, As, As * Xs, zs, As * Xs + zs, Xs.T * (As * Xs + zs))],
        "Q2.2": [e.shape for e in (ws, ws.T, Xs, ws.T * Xs)],
        "Q2.3": [e.shape for e in (ys, Xm, ws, Xm * ws, r3, r3.T, r3.T * r3)],
        "Q3": [e.shape for e in (ys, Ws, Xs, Ws * Xs, bs, e3, e3.T, e3.T * e3)],
    }
    out.append(("Q2-Q3 shapes", shapes))

    def grad(f, wrt):
        return wrt.applyfunc(lambda c: sp.simplify(sp.diff(f, c)))

    xv, A, z, w = vector("x", 3), matrix("A", 3, 3), vector("z", 3), vector("w", 3)
    yv = sp.Symbol("y", real=True)
    g = grad((xv.T * (A * xv + z))[0], xv)
    out.append(("Q2.1 gradient", (g, same(g, (A + A.T) * xv + z), xv.shape)))
    g = grad(((w.T * xv)[0] - yv) ** 2 / 2, w)
    out.append(("Q2.2 gradient", (g, same(g, ((w.T * xv)[0] - yv) * xv), w.shape)))
    X, w2, y3 = matrix("X", 3, 2), vector("w", 2), vector("y", 3)
    mm = sp.Symbol("m", positive=True)
    r = X * w2 - y3
    g = grad((r.T * r)[0] / (2 * mm), w2)
    out.append(("Q2.3 gradient", (g, same(g, X.T * r / mm), w2.shape)))
    W, x2, b = matrix("W", 3, 2), vector("x", 2), vector("b", 3)
    e = W * x2 + b - y3
    g = grad((e.T * e)[0], W)
    out.append(("Q3 gradient", (g, same(g, 2 * e * x2.T), W.shape)))

    # Q4 the loss with the data, L'(w), h = L'', w*, closed_form, converges, oscillates,
    # diverges; per alpha: 1 - alpha h, the behaviour (in which of the three sets), iterates[alpha]
    # (t = 0..10), steps_to_tolerance[alpha]
    wv = sp.Symbol("w", real=True)
    alpha = sp.Symbol("alpha", positive=True)
    t = sp.Symbol("t", integer=True, nonnegative=True)
    L = sp.expand(((x * wv - yv) ** 2 / 2).subs({x: 1, yv: 100}))
    dL, h = sp.diff(L, wv), sp.diff(L, wv, 2)
    wstar = sp.solve(dL, wv)[0]
    wt, w0 = sp.Function("w"), sp.Integer(0)
    closed = sp.rsolve(wt(t + 1) - (wt(t) - alpha * dL.subs(wv, wt(t))), wt(t), {wt(0): w0})
    positive = sp.Interval.open(0, sp.oo)
    conditions = [sp.solve_univariate_inequality(c, alpha, relational=False).intersect(positive)
                  for c in (sp.Abs(1 - alpha * h) < 1, 1 - alpha * h < 0, sp.Abs(1 - alpha * h) > 1)]
    out += [("Q4 loss, L', h, w*", (L, dL, h, wstar)), ("Q4 closed_form", closed),
            ("Q4 converges, oscillates, diverges", conditions)]
    tr = sp.Symbol("t", real=True)
    for av in (HALF, 3 * HALF, 5 * HALF):
        its = [w0]
        for _ in range(10):
            its.append(its[-1] - av * dL.subs(wv, its[-1]))
        # |w_t - w*| = |w_0 - w*| |1 - alpha h|^t (the closed form) < 1, for t >= 0
        gap = sp.Abs(w0 - wstar) * sp.Abs(1 - av * h) ** tr
        within = sp.solve_univariate_inequality(gap < 1, tr, relational=False) & sp.Interval(0, sp.oo)
        steps = sp.oo if within is sp.S.EmptySet else sp.floor(within.inf) + 1
        out.append((f"Q4 alpha={av}", (1 - av * h, [av in c for c in conditions], its, steps)))
    return out


def cs189_2g() -> list:
    """problems/cs189_hw.toml 2(g): the training experiment, as anyone would write it: NumPy
    back-propagation by hand for 1 -> 16 -> 16 -> 1, SGD, one run per activation (the key's
    settings: 200 noisy samples of sin x on [-pi, pi], 20% held out, lr 0.05, batches of 16,
    300 epochs). No derivation, no gradient check."""
    import numpy as np

    acts = {"linear": (lambda z: z, lambda z: np.ones_like(z)),
            "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
            "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2)}
    rng = np.random.default_rng(189)
    x = rng.uniform(-np.pi, np.pi, 200)
    y = np.sin(x) + 0.02 * rng.standard_normal(200)
    xt, yt, xv, yv = x[:160, None], y[:160, None], x[160:, None], y[160:, None]
    out = []
    for name, (f, df) in acts.items():
        r = np.random.default_rng(190)
        Ws = [r.uniform(-a, a, (m, n)) for m, n, a in
              ((16, 1, (6 / 17) ** 0.5), (16, 16, (6 / 32) ** 0.5), (1, 16, (6 / 17) ** 0.5))]  # Glorot
        bs = [np.zeros((16, 1)), np.zeros((16, 1)), np.zeros((1, 1))]

        def forward(X):
            hs, zs, h = [X.T], [], X.T
            for k in range(3):
                z = Ws[k] @ h + bs[k]
                zs.append(z)
                h = f(z) if k < 2 else z
                hs.append(h)
            return zs, hs

        order = np.random.default_rng(191)
        for _ in range(300):
            idx = order.permutation(160)
            for start in range(0, 160, 16):
                batch = idx[start:start + 16]
                zs, hs = forward(xt[batch])
                delta = (hs[-1] - yt[batch].T) / len(batch)
                for k in (2, 1, 0):
                    gW, gb = delta @ hs[k].T, delta.sum(axis=1, keepdims=True)
                    if k:
                        delta = (Ws[k].T @ delta) * df(zs[k - 1])
                    Ws[k] -= 0.05 * gW
                    bs[k] -= 0.05 * gb
        train = float(np.mean((forward(xt)[1][-1] - yt.T) ** 2) / 2)
        val = float(np.mean((forward(xv)[1][-1] - yv.T) ** 2) / 2)
        out.append((f"2g final_mse[activation={name}]", (train, val)))
    return out


def main() -> None:
    total = 0.0
    for part in (ama564, cs189, cs189_2g, dsga1008, nndl):
        start = time.process_time()
        answers = part()
        spent = time.process_time() - start
        total += spent
        chars = sum(len(str(value)) for _, value in answers)
        print(f"{part.__name__:<9} {len(answers):3d} results, {chars:6d} characters, CPU {spent:5.2f} s")
    print(f"all files CPU {total:5.2f} s (after imports)")


if __name__ == "__main__":
    main()
