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
            solutions = _solve_for(F, g_u, u)
        except (NotImplementedError, ValueError):
            continue
        for sol in solutions:
            d_u = _in_kernel(d, kernel, u)
            cand = sp.cancel(sp.together(d_u.subs(u, sol)))
            if cand.has(u):
                continue
            yield cand.xreplace({F: named.applied})
    return None


def _solve_for(F: sp.Symbol, g_u: sp.Expr, u: sp.Symbol) -> list[sp.Expr]:
    """The u with F = g(u). A Möbius g (σ = 1/(1 + u), tanh = (u − 1)/(u + 1)) is solved
    directly, F·den − num = 0 being linear in u; anything else goes to ``sympy.solve``."""
    num, den = sp.fraction(sp.together(g_u))
    linear = sp.expand(F * den - num)
    if linear.is_polynomial(u) and sp.degree(linear, u) == 1:
        a, b = linear.coeff(u, 1), linear.coeff(u, 0)
        root = sp.cancel(-b / a)
        if sp.cancel(den.subs(u, root)) != 0:
            return [root]
    return sp.solve(sp.Eq(F, g_u), u, check=False)  # each use is re-checked: cand.has(u), identities


def _positive_terms(expr: sp.Expr) -> sp.Expr:
    """−βx(σ − 1) → βx(1 − σ): a negative term whose bracket starts with a negative constant."""
    if not expr.is_Add:
        return expr
    terms = []
    for term in expr.args:
        c, fs = term.as_coeff_mul()
        fs = list(fs)
        if c.is_negative:
            for k, f in enumerate(fs):
                if f.is_Add and f.as_coeff_Add()[0].is_negative:
                    fs[k], c = sp.Add(*[-t for t in f.args]), -c
                    break
        terms.append(sp.Mul(c, *fs))
    return sp.Add(*terms)


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
        # x + 1 − xσ(x) → 1 + x(1 − σ(x)): a factor collected in the other symbols, tried first
        others = sorted(set().union(*[f.free_symbols for f in ordered]), key=lambda v: v.name)
        collected = [_positive_terms(sp.collect(f, others, func=sp.factor)) if f.is_Add and others
                     else f for f in ordered]
        if collected != list(ordered):
            args = ([coeff] if coeff != 1 else []) + collected
            options.insert(0, sp.Mul(*args, evaluate=False) if len(args) > 1 else args[0])
    return min(options, key=sp.count_ops)


def _same_function(a: sp.Expr, b: sp.Expr, x: sp.Symbol) -> bool:
    """True when ``a`` and ``b`` are the same function: different values at a point settle
    "no" at once; "yes" needs SymPy."""
    point = {s: sp.Rational(3 + k, 7) for k, s in enumerate(sorted(a.free_symbols | b.free_symbols,
                                                                      key=lambda s: s.name))}
    try:
        gap = complex(sp.N((a - b).xreplace(point), 20))
        if abs(gap) > 1e-12:
            return False
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    return sp.simplify(a - b) == 0


def teacher_form(f: sp.Expr, d: sp.Expr, x: sp.Symbol, itself: sp.Expr) -> TeacherForm | None:
    """``d`` (the derivative of ``f``) written in terms of ``itself`` or of named functions.

    Args:
        f: the function, explicit.
        d: its derivative, explicit.
        x: the variable.
        itself: how the function is shown, e.g. ``σ(x)``; used as the stand-in for ``f``.
    """
    own = _Named(itself, f)
    candidates = [own] + [n for n in _named_candidates(d, x) if not _same_function(n.explicit, f, x)]
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
            gap = sp.cancel(cand.xreplace(meaning) - d)
            if gap == 0 or sp.simplify(gap) == 0:
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
                gap = sp.cancel(value - Jy[a, b])  # rational in the exponentials: cancel decides
                if gap != 0 and sp.simplify(gap) != 0:
                    return None
    return JacobianForm(entry, i, j, comp, sizes, sp.factor(diag_ii), sp.factor(off_ij))


# --- the rewrite into the teacher's form, as steps -------------------------------------


def _nice(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``expr`` (explicit) as one fraction in its kernel: 1 − σ(x) → e^{−x}/(1 + e^{−x})."""
    u = sp.Dummy("u", positive=True)
    for kernel in _kernels(expr, x):
        g_u = _in_kernel(expr, kernel, u)
        # polynomial factors of x may stay (x(1 − σ(x)) + 1); transcendental ones may not
        if not g_u.has(u) or any(a.has(x) for a in g_u.atoms(sp.Function)):
            continue
        return sp.factor(sp.cancel(sp.together(g_u)), u).subs(u, kernel)
    return sp.factor(expr)


def _structure(form: TeacherForm) -> tuple[list[tuple[sp.Expr, list[sp.Expr]]], bool]:
    """The teacher form as terms of factors; True when it was factored to get there."""
    stand = list(form.meaning)
    # a product already (σ(x)(1 + x(1 − σ(x)))) is kept as written; a sum is factored
    factored = form.expr if form.expr.is_Mul else sp.factor(form.expr)
    coeff, factors = factored.as_coeff_mul()
    factors = list(factors)
    if coeff.is_negative:
        # flip the factor whose constant term is negative: −(t − 1)(t + 1) → (1 − t)(1 + t)
        flippable = [k for k, fac in enumerate(factors) if fac.is_Add and fac.has(*stand)]
        flippable.sort(key=lambda k: not factors[k].as_coeff_Add()[0].is_negative)
        if flippable:
            k = flippable[0]
            factors[k] = sp.Add(*[-t for t in factors[k].args])
            coeff = -coeff
    bearing = [f for f in factors if f.has(*stand)]
    if len(bearing) >= 2 or not form.expr.is_Add:
        return [(coeff, sorted(factors, key=lambda f: f not in stand))], form.expr.is_Add
    terms = []
    for term in sp.Add.make_args(form.expr):
        c, fs = term.as_coeff_mul()
        terms.append((c, list(fs)))
    return terms, False


def _assemble(terms: list[tuple[sp.Expr, list[sp.Expr]]]) -> sp.Expr:
    from ..library.display import Product

    parts = []
    for c, fs in terms:
        if c == -1 and fs:   # −y, not −1 y
            parts.append(sp.Mul(-1, Product(*fs) if len(fs) > 1 else fs[0], evaluate=False))
            continue
        args = ([c] if c != 1 else []) + fs
        parts.append(Product(*args) if len(args) > 1 else (args[0] if args else c))
    return sp.Add(*parts, evaluate=False) if len(parts) > 1 else parts[0]


def _head(stand_in: sp.Expr) -> sp.Symbol:
    """σ for σ(x): the name of a stand-in, for the rule column."""
    return sp.Symbol(stand_in.func.__name__)


def teacher_steps(d: sp.Expr, form: TeacherForm, x: sp.Symbol) -> list:
    """Lines from ``d`` (as the derivation reached it) to the teacher form ``form.expr``.

    Derived from the same kernel substitution that found the form: every factor of the
    form that involves a named function (σ(x), 1 − σ(x), 1 + tanh x …) is written
    explicitly as one fraction in the kernel (e^{−x}, e^{2x} …); the first line is the
    product of those fractions (``factor``), then each fraction is recognised in turn
    (``definition of σ``, ``1 − σ(x) = e^{−x}/(1 + e^{−x})``), and the product is
    multiplied out if the form is a sum (``expand``). The caller checks every line.
    """
    from .steps import Line

    meaning = dict(form.meaning)
    stand = list(meaning)
    if all(v.is_Function for v in meaning.values()):
        # f = tanh(x/2): the derivative already speaks of tanh(x/2); only the name changes
        return [Line(form.expr, ("definition of",), _head(stand[0]))] if len(stand) == 1 else []
    terms, was_factored = _structure(form)

    def bearing(f: sp.Expr) -> bool:
        return f.has(*stand)

    def base(f: sp.Expr) -> sp.Expr:
        return f.base if f.is_Pow and f.exp.is_Integer and f.exp > 0 else f

    nice = {}
    for _, fs in terms:
        for f in fs:
            b = base(f)
            if bearing(b) and b not in nice:
                nice[b] = _nice(b.xreplace(meaning), x)

    def shown(done: set) -> sp.Expr:
        out = []
        for c, fs in terms:
            row = []
            for f in fs:
                b = base(f)
                if bearing(b) and b not in done:
                    row.append(nice[b] if b is f else sp.Pow(nice[b], f.exp, evaluate=False))
                else:
                    row.append(f)
            out.append((c, row))
        return _assemble(out)

    lines = []
    first = shown(set())
    if sp.srepr(first) != sp.srepr(d):
        n_bearing = sum(1 for _, fs in terms for f in fs if bearing(f))
        rule, note = ("rewrite",), None
        num_d, den_d = sp.fraction(d)
        num_f, den_f = sp.fraction(first)
        if len(terms) == 1 and n_bearing >= 2:
            rule = ("factor",)
        elif len(terms) > 1:
            rule = ("regroup",)
        elif num_f != 0 and den_f != 0:
            r = sp.simplify(num_d / num_f)
            if r != 1 and r.has(x) and sp.expand(den_f * r - den_d) == 0:
                rule, note = ("divide numerator and denominator by",), r
        lines.append(Line(first, rule, note))
    done: set = set()
    order = sorted(nice, key=lambda b: (b not in stand, sp.default_sort_key(b)))
    for b in order:
        done.add(b)
        if b in stand:
            lines.append(Line(shown(done), ("definition of",), _head(b)))
        else:
            lines.append(Line(shown(done), (), sp.Eq(b, nice[b], evaluate=False)))
    if was_factored:
        lines.append(Line(form.expr, ("expand",)))
    return lines


# --- a normalised vector function (softmax) for general n ------------------------------


class Partial(sp.Function):
    """∂/∂x_j of an expression, left standing in a displayed step."""

    nargs = 2

    def _latex(self, printer, exp=None):
        expr, var = self.args
        inner = printer._print(expr)
        if not (expr.is_Add or expr.is_Mul or expr.has(sp.Sum)):
            # ∂e^{x_i}/∂x_j: the operand inside the fraction, so a product after it is not read into it
            return rf"\frac{{\partial {inner}}}{{\partial {printer._print(var)}}}"
        if expr.is_Add or expr.is_Mul:
            inner = r"\left(" + inner + r"\right)"
        return rf"\frac{{\partial}}{{\partial {printer._print(var)}}} {inner}"


@dataclass(frozen=True)
class IndexSteps:
    """∂sᵢ/∂xⱼ for sᵢ = g(xᵢ)/Σₖ g(xₖ), derived with indices i, j, k for every n."""

    component: sp.Expr          # sᵢ as displayed: e^{x_i}/Σ_k e^{x_k}
    lines: tuple                # Line objects, from ∂/∂x_j (…) to sᵢ(δᵢⱼ − sⱼ)
    result: sp.Expr             # sᵢ(δᵢⱼ − sⱼ)
    s: sp.Function              # the component name s
    i: sp.Symbol
    j: sp.Symbol
    x: sp.IndexedBase


def index_steps(display: Callable, var: str, name: str = "s") -> IndexSteps | None:
    """The Jacobian of ``display(x, i, k, n) = N(x_i)/Σ_k g(x_k)`` entry (i, j), step by step.

    Quotient rule on the indexed formula; ∂N(x_i)/∂x_j by SymPy (a Kronecker delta),
    ∂/∂x_j Σ_k g(x_k) = g′(x_j) because only the term k = j depends on x_j; then the
    common factor sᵢ is taken out and g(x_j)/Σ_k g(x_k) recognised as sⱼ. None when the
    function is not of that shape. The caller checks every line at concrete sizes.
    """
    from .steps import Line

    x = sp.IndexedBase(var)
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    S = display(x, i, k, n)
    num, den = sp.fraction(S)
    if not isinstance(den, sp.Sum) or num.has(sp.Sum):
        return None
    s = sp.Function(name)
    dnum = sp.diff(num, x[j])
    dden = sp.diff(den.function, x[k]).subs(k, j)
    quotient = (Partial(num, x[j]) * den - num * Partial(den, x[j])) / den ** 2
    step_a = (dnum * den - num * Partial(den, x[j])) / den ** 2
    step_b = (dnum * den - num * dden) / den ** 2
    delta_part = sp.cancel(dnum / num)
    if delta_part.has(x) or sp.simplify(dden / den - S.subs(i, j)) != 0:
        return None
    factored = sp.Mul(S, sp.Add(delta_part, -S.subs(i, j)), evaluate=False)
    result = sp.Mul(s(i), sp.Add(delta_part, -s(j)), evaluate=False)
    lines = (
        Line(Partial(S, x[j])),
        Line(quotient, ("quotient",)),
        Line(step_a, (), sp.Eq(Partial(num, x[j]), dnum, evaluate=False)),
        Line(step_b, (), sp.Eq(Partial(den, x[j]), dden, evaluate=False)),
        Line(factored, ("factor",)),
        Line(result, ("definition of",), sp.Symbol(f"{name}_{{i}}")),
    )
    return IndexSteps(S, lines, result, s, i, j, x)


def concrete(expr: sp.Expr, steps: IndexSteps, size: int, a: int, b: int,
             xs: list, components: list) -> sp.Expr:
    """``expr`` at n = size, i = a, j = b, with x_m the m-th symbol and s_m the m-th component."""
    n = sp.Symbol("n", integer=True, positive=True)
    e = expr.xreplace({n: sp.Integer(size), steps.i: sp.Integer(a), steps.j: sp.Integer(b)})
    e = e.replace(lambda t: isinstance(t, sp.Sum), lambda t: t.doit())
    e = e.replace(lambda t: isinstance(t, sp.Indexed) and t.base == steps.x,
                  lambda t: xs[int(t.indices[0]) - 1])
    e = e.replace(lambda t: isinstance(t, Partial), lambda t: sp.diff(t.args[0], t.args[1]))
    e = e.replace(steps.s, lambda m: components[int(m) - 1])
    return e
