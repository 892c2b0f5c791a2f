"""The forms a teacher writes: a derivative in terms of the function itself, or of a named one.

Nothing here knows any particular activation. For a function ``f`` built on a kernel
``k`` (an exponential, an ``erf``, a ``tanh`` inside it), ``f = G(k)`` is solved for ``k``
and the derivative is rewritten through that solution; the result is kept only if no
exponential or other transcendental function of the variable is left. The same is tried
with named functions whose signature appears in the derivative (σ(w) where e^{±w} appears,
Φ(w) where erf(w/√2) appears, φ(w) where e^{−w²/2} appears). So σ′ = σ(1 − σ),
tanh′ = 1 − tanh², softplus′ = σ(βx) and GELU′ = Φ(x) + xφ(x) all come out of one
procedure, and so does a user's own function.

For a vector function (softmax) the Jacobian entries are fitted, at a small concrete size,
by polynomials of degree at most two in the components, and the diagonal/off-diagonal pair
is folded into one δᵢⱼ formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Mapping

import sympy as sp


@dataclass(frozen=True)
class TeacherForm:
    """``expr`` uses stand-in functions; ``meaning`` maps each to its explicit expression."""

    expr: sp.Expr
    meaning: Mapping[sp.Basic, sp.Expr]

    def explicit(self) -> sp.Expr:
        return self.expr.xreplace(dict(self.meaning)) if self.meaning else self.expr


@dataclass(frozen=True)
class _Named:
    """A stand-in ``F`` (applied function for display) with its explicit value ``G``."""

    applied: sp.Expr
    explicit: sp.Expr


SIGMA = sp.Function(r"\sigma")
PHI_CDF = sp.Function(r"\Phi")
PHI_PDF = sp.Function(r"\varphi")


def _named_candidates(d: sp.Expr, x: sp.Symbol) -> list[_Named]:
    """Named functions whose signature appears in ``d``."""
    found: list[_Named] = []
    for e in sorted(d.atoms(sp.exp), key=sp.default_sort_key):
        (w,) = e.args
        if not w.has(x):
            continue
        if w.is_polynomial(x) and sp.degree(w, x) == 2 and sp.Poly(w, x).as_expr() == w \
                and sp.expand(w).coeff(x, 1) == 0 and sp.expand(w).coeff(x, 0) == 0:
            c = sp.expand(w).coeff(x, 2)
            if c.is_negative:
                arg = sp.sqrt(-2 * c) * x
                found.append(_Named(PHI_PDF(arg), sp.exp(-arg ** 2 / 2) / sp.sqrt(2 * sp.pi)))
            continue
        for arg in (w, -w):
            arg = sp.expand(arg)
            if sp.expand(arg).as_coeff_Mul()[0].is_positive:
                found.append(_Named(SIGMA(arg), 1 / (1 + sp.exp(-arg))))
                break
    for e in sorted(d.atoms(sp.erf), key=sp.default_sort_key):
        arg = sp.expand(e.args[0] * sp.sqrt(2))
        found.append(_Named(PHI_CDF(arg), (1 + sp.erf(arg / sp.sqrt(2))) / 2))
    unique: list[_Named] = []
    for n in found:
        if n.applied not in [u.applied for u in unique]:
            unique.append(n)
    return unique


def _kernels(g: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Transcendental atoms of ``g`` that carry the variable, simplest first."""
    atoms = [a for a in g.atoms(sp.Function) if a.has(x) and not a.args[0].has(sp.Function)]
    return sorted(atoms, key=lambda a: (sp.count_ops(a), sp.default_sort_key(a)))


def _in_kernel(expr: sp.Expr, kernel: sp.Expr, u: sp.Symbol) -> sp.Expr:
    """Rewrite ``expr`` with ``kernel = u``; exponentials e^{c·w} of the kernel e^w become u^c."""
    if isinstance(kernel, sp.exp):
        (w,) = kernel.args
        def to_u(e: sp.Expr) -> sp.Expr:
            ratio = sp.simplify(e.args[0] / w)
            return u ** ratio if ratio.is_Rational else e
        return expr.replace(lambda e: isinstance(e, sp.exp), to_u)
    return expr.xreplace({kernel: u})


def _leftover(expr: sp.Expr, x: sp.Symbol, allowed: set) -> bool:
    return any(a.has(x) and a not in allowed for a in expr.atoms(sp.Function))


def rewrite_through(d: sp.Expr, x: sp.Symbol, named: _Named) -> sp.Expr | None:
    """``d`` with every occurrence of the kernel of ``named`` written through ``named.applied``."""
    u = sp.Dummy("u", positive=True)
    F = sp.Dummy("F")
    for kernel in _kernels(named.explicit, x):
        g_u = _in_kernel(named.explicit, kernel, u)
        if g_u.has(x) or not g_u.has(u):
            continue
        try:
            solutions = sp.solve(sp.Eq(F, g_u), u)
        except (NotImplementedError, ValueError):
            continue
        for sol in solutions:
            d_u = _in_kernel(d, kernel, u)
            cand = sp.cancel(sp.together(d_u.subs(u, sol)))
            if cand.has(u):
                continue
            yield cand.xreplace({F: named.applied})
    return None


def _tidy_polynomial(expr: sp.Expr, stand_ins: list[sp.Expr]) -> sp.Expr:
    """Factored with a positive lead (σ(1 − σ), not −σ(σ − 1)) or expanded, whichever is shorter."""
    options = [sp.expand(expr)]
    factored = sp.factor(expr)
    coeff, factors = factored.as_coeff_mul()
    if coeff.is_negative:
        flipped = False
        new = []
        for fac in factors:
            if not flipped and fac.is_Add and any(fac.has(s) for s in stand_ins):
                new.append(sp.Add(*[-t for t in fac.args], evaluate=False))
                flipped = True
            else:
                new.append(fac)
        if flipped:
            coeff = -coeff
            factors = tuple(new)
    if factors:
        ordered = sorted(factors, key=lambda f: (not any(f == s or (f.is_Pow and f.base == s)
                                                         for s in stand_ins),))
        args = ([coeff] if coeff != 1 else []) + list(ordered)
        options.insert(0, sp.Mul(*args, evaluate=False) if len(args) > 1 else args[0])
    return min(options, key=sp.count_ops)


def teacher_form(f: sp.Expr, d: sp.Expr, x: sp.Symbol, itself: sp.Expr) -> TeacherForm | None:
    """``d`` (the derivative of ``f``) written in terms of ``itself`` or of named functions.

    Args:
        f: the function, explicit.
        d: its derivative, explicit.
        x: the variable.
        itself: how the function is shown, e.g. ``σ(x)``; used as the stand-in for ``f``.
    """
    own = _Named(itself, f)
    candidates = [own] + [n for n in _named_candidates(d, x) if sp.simplify(n.explicit - f) != 0]
    tries: list[list[_Named]] = [[c] for c in candidates]
    tries += [list(pair) for pair in combinations(candidates[1:], 2)]
    for combo in tries:
        exprs = [d]
        for named in combo:
            exprs = [r for e in exprs for r in rewrite_through(e, x, named)]
        allowed = {n.applied for n in combo}
        for cand in exprs:
            if _leftover(cand, x, allowed):
                continue
            cand = _tidy_polynomial(cand, [n.applied for n in combo])
            meaning = {n.applied: n.explicit for n in combo}
            if sp.simplify(cand.xreplace(meaning) - d) == 0:
                return TeacherForm(cand, meaning)
    return None


# --- vector functions ---------------------------------------------------------------


@dataclass(frozen=True)
class JacobianForm:
    """∂fᵢ/∂xⱼ as one formula in fᵢ, fⱼ and δᵢⱼ, with the sizes it was checked at."""

    entry: sp.Expr
    i: sp.Symbol
    j: sp.Symbol
    component: sp.Function
    checked_sizes: tuple[int, ...]
    diagonal: sp.Expr      # ∂fᵢ/∂xᵢ in fᵢ
    off_diagonal: sp.Expr  # ∂fᵢ/∂xⱼ (i ≠ j) in fᵢ, fⱼ


def jacobian_teacher_form(build: Callable[[list[sp.Symbol]], sp.Matrix], name: str,
                          sizes: tuple[int, ...] = (3, 4)) -> JacobianForm | None:
    """Fit ∂fᵢ/∂xⱼ by a polynomial of degree ≤ 2 in the components, then fold in δᵢⱼ."""
    n = sizes[0]
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    f = build(list(xs))
    J = f.jacobian(xs)
    ts = sp.symbols(f"t1:{n + 1}", positive=True)

    def exp_to_t(e: sp.Expr) -> sp.Expr:
        w = sp.expand(e.args[0])
        if not w.is_polynomial(*xs) or sp.Poly(w, *xs).total_degree() > 1 or w.subs(
                {v: 0 for v in xs}) != 0:
            return e
        return sp.Mul(*(t ** w.coeff(v) for v, t in zip(xs, ts)))
    s = sp.symbols(f"s1:{n + 1}")

    def fit(entry: sp.Expr, used: tuple[sp.Symbol, ...]) -> sp.Expr | None:
        # only the components the entry is about: fᵢ (and fⱼ); their sum being 1 would
        # otherwise make the fit ambiguous
        monomials = [sp.Integer(1), *used, *[a * b for a, b in combinations(used, 2)],
                     *[a ** 2 for a in used]]
        coeffs = sp.symbols(f"c0:{len(monomials)}")
        model = sum(c * m for c, m in zip(coeffs, monomials))
        residual = sp.together((entry - model.subs(dict(zip(s, f)))).replace(
            lambda e: isinstance(e, sp.exp), exp_to_t))
        if residual.has(*xs):
            return None
        num = sp.numer(residual)
        eqs = sp.Poly(sp.expand(num), *ts).coeffs()
        sol = sp.solve(eqs, coeffs, dict=True)
        if not sol:
            return None
        return sp.expand(model.subs(sol[0]).subs({c: 0 for c in coeffs}))

    diag, off = fit(J[0, 0], s[:1]), fit(J[0, 1], s[:2])
    if diag is None or off is None:
        return None
    i, j = sp.symbols("i j", integer=True, positive=True)
    comp = sp.Function(name)
    general = {s[0]: comp(i), s[1]: comp(j)}
    if (diag.free_symbols | off.free_symbols) - {s[0], s[1]}:
        return None
    off_ij = off.xreplace(general)
    diag_ii = diag.xreplace({s[0]: comp(i)})
    extra = sp.expand(diag_ii - off_ij.xreplace({comp(j): comp(i)}))
    delta = sp.Dummy("delta")
    folded = sp.factor(off_ij + delta * extra)
    coeff, factors = folded.as_coeff_mul()
    ordered = sorted(factors, key=lambda fac: fac != comp(i))
    if coeff == -1 and len(ordered) == 2 and ordered[1].is_Add:
        ordered[1] = sp.Add(*[-t for t in ordered[1].args])
        coeff = 1
    args = ([coeff] if coeff != 1 else []) + ordered
    entry = sp.Mul(*args, evaluate=False).xreplace({delta: sp.KroneckerDelta(i, j)})
    # the folded formula must hold entry by entry at every size tried
    for size in sizes:
        ys = sp.symbols(f"x1:{size + 1}", real=True)
        fy = build(list(ys))
        Jy = fy.jacobian(ys)
        for a in range(size):
            for b in range(size):
                value = entry.xreplace({comp(i): fy[a], comp(j): fy[b],
                                        sp.KroneckerDelta(i, j): int(a == b)})
                if sp.simplify(value - Jy[a, b]) != 0:
                    return None
    return JacobianForm(entry, i, j, comp, sizes, sp.factor(diag_ii), sp.factor(off_ij))
