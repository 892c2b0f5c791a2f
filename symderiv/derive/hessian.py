"""Second-order answers of kind ``matrix_gradient``: the Hessian, stationary points, a Newton step.

For a vector variable x (n × 1) and the gradient g = ∇ₓf already derived, the Hessian is read
off the differential of the gradient, dg = H dx, with the same rules as the gradient
(d(AB) = dA·B + A·dB, d(Aᵀ) = (dA)ᵀ), and a scalar factor c(x) of a term c·M contributes
M (∇c)ᵀ. Every Hessian is checked entry by entry at a concrete size against
``sympy.hessian`` of the explicit scalar, symbolically while small and at random rational
matrices.

Stationary points: when H does not depend on x (f is quadratic), g = Hx − b with
b = −g(0), and g = 0 is the linear system Hx = b (the normal equations for least squares),
solved as x* = H⁻¹b where H is invertible. The solution is substituted back (g(x*) = 0 at a
concrete size, symbolically and at random numbers). When H is a sum of Gram matrices NᵀN and
positive multiples of I (XᵀX, XᵀX + λI), zᵀHz = Σ c‖Nz‖² + c‖z‖² ≥ 0 makes it positive
semidefinite, so x* is a minimizer (positive definite with a λI term: the unique one).
A Newton step x⁺ = x − H⁻¹g reaches x* in one step on a quadratic: checked at random x.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from ..errors import BadInput, VerificationFailed
from . import matrix as mx

FIELDS = {"hessian", "stationary", "newton"}


@dataclass(frozen=True)
class SecondSpec:
    """What is asked beyond the gradient."""

    hessian: bool = False
    stationary: bool = False
    newton: bool = False


@dataclass(frozen=True)
class Stationary:
    """x* = H₀⁻¹b₀ from the normal equations H₀x = b₀ (H = c·H₀, b = c·b₀)."""

    lhs: sp.Basic            # H₀ x, the left side of the normal equations
    rhs: sp.Basic            # b₀
    solution: sp.Basic       # H₀⁻¹ b₀
    linear: sp.Basic         # H x − b: the gradient written through the Hessian
    back: sp.Basic | None    # H₀ H₀⁻¹ b₀ − b₀, the substitution (= 0)
    matrix: sp.Basic         # H₀


@dataclass(frozen=True)
class SecondOrder:
    dgrad: sp.Basic              # d(∇f) with dx in it
    hessian: sp.Basic
    shape: str
    constant: bool               # H does not depend on x: f is quadratic
    curvature: str               # "definite", "semidefinite" or "unknown"
    quadratic_form: sp.Basic | None   # zᵀHz = Σ c‖N z‖² (+ c‖z‖²), for display
    gram: tuple[sp.Basic, ...]        # the N of every Gram term c NᵀN
    shift: sp.Basic | None            # c of a c·I term (λ)
    stationary: Stationary | None
    newton: sp.Basic | None      # x − H⁻¹ ∇f
    newton_reaches: bool         # one step lands on x* (a quadratic)
    z: sp.Basic                  # the direction named in zᵀHz
    rows: tuple = ()             # (X, x): xᵢᵀ the i-th row of X in Σᵢ vᵢ(xᵢᵀz)²
    weights: tuple = ()          # why each weight vᵢ ≥ 0: ("sigmoid", u), ("exp", u), ("square", a)


class NormSquared(sp.Function):
    """‖v‖² of a vector, for display only (checked through its trace form vᵀv)."""

    nargs = 1

    def _latex(self, printer):
        v = self.args[0]
        if v.shape == (1, 1):  # a number: (xᵀz)²
            return r"\left(" + printer._print(v) + r"\right)^2"
        return r"\left\|" + printer._print(v) + r"\right\|^2"


# --- parsing -----------------------------------------------------------------------------


def parse_options(f, shapes: dict, wrt: str, expr) -> SecondSpec | None:
    """The second-order fields of a ``matrix_gradient`` problem; ``f`` is its Fields reader."""
    hess = bool(f.get("hessian", bool, False))
    stationary = bool(f.get("stationary", bool, False))
    newton = bool(f.get("newton", bool, False))
    if not (hess or stationary or newton):
        return None
    asked = "hessian" if hess else "stationary" if stationary else "newton"
    shape = shapes.get(wrt)
    if shape is None or shape[1] != 1 or shape[0] == 1:
        raise f.error(asked, f"needs a vector variable: {wrt} must be listed in shapes as \"n x 1\" "
                      "(the Hessian in a matrix variable has four indices)")
    if expr.has(sp.Inverse) or expr.has(sp.Determinant):
        raise f.error(asked, "the Hessian of a function with inv() or det() is not supported")
    return SecondSpec(True, stationary, newton)


# --- the Hessian -------------------------------------------------------------------------


def _terms(M) -> list:
    M = M.doit()
    if isinstance(M, sp.ZeroMatrix) or M == 0:
        return []
    return [t for t in (M.args if isinstance(M, sp.MatAdd) else [M]) if not isinstance(t, sp.ZeroMatrix)]


def scalar_gradient(c, X, dX):
    """∇ₓc of a scalar c in traces of x, read off its differential (as the gradient is)."""
    atoms = sorted([a for a in c.atoms(sp.Trace) if a.has(X)], key=sp.default_sort_key)
    dummies = {a: sp.Dummy(f"a{i}") for i, a in enumerate(atoms)}
    plain = c.xreplace(dummies)
    if plain.has(X):
        raise BadInput(f"cannot differentiate {sp.sstr(c)} in {X.name}")
    back = {v: k for k, v in dummies.items()}
    df_terms = []
    for a in atoms:
        partial = sp.diff(plain, dummies[a]).xreplace(back)
        df_terms += [(partial * k, mats) for k, mats in mx.trace_pieces(mx.scalar_differential(a, X, dX), dX)]
    if not df_terms:
        return sp.ZeroMatrix(*X.shape)
    parts = mx.read_off(df_terms, X, dX)
    return (sp.MatAdd(*parts) if len(parts) > 1 else parts[0]).doit()


def _jacobian(M, X, dX) -> list:
    """The n × n contributions J with dM = J dx, for an n × 1 product M."""
    n = X.shape[0]
    out = []
    for term in _terms(sp.expand(mx.differential(M, X, dX))):
        coeff, mats = mx._split(term)
        flat = mx._flatten(mats)
        coeff *= sp.Mul(*[m for m in flat if not mx._is_matrix(m)])
        flat = [m for m in flat if mx._is_matrix(m)]
        where = [i for i, m in enumerate(flat) if m in (dX, dX.T)]
        inside = [i for i, m in enumerate(flat) if m.has(dX)]
        if not where and len(inside) == 1 and inside[0] == len(flat) - 1:
            # L D with D linear in dx through entrywise products: D = J dx, a diag(v) in J
            c, J = _pushforward(flat[-1], X, dX)
            out.append(coeff * c * (sp.MatMul(*flat[:-1], J) if flat[:-1] else J))
            continue
        if len(where) != 1:
            raise BadInput(f"the differential of the gradient is not linear in d{X.name}")
        i = where[0]
        L, R = flat[:i], flat[i + 1:]
        if flat[i] == dX:          # L dx r with r a 1 × 1 product: r L dx
            if R:
                r = sp.MatMul(*R)
                if r.shape != (1, 1):
                    raise BadInput(f"cannot read the Hessian off {sp.sstr(term)}")
                coeff *= sp.Trace(r)
            out.append(coeff * (sp.MatMul(*L) if L else sp.Identity(n)))
        else:                      # l dxᵀ r = l (rᵀ dx)
            if not L or not R:
                raise BadInput(f"cannot read the Hessian off {sp.sstr(term)}")
            out.append(coeff * sp.MatMul(*L) * sp.MatMul(*R).T)
    return out


def _hadamard_factors(D, dX):
    """(c, [factors without dx], the factor with dx) of an entrywise product, nested products
    and scalar multiples flattened: −(a ⊙ (−(b ⊙ D′))) is (1, [a, b], D′)."""
    c, others, inner = sp.S.One, [], None
    stack = [D]
    while stack:
        e = stack.pop()
        if isinstance(e, sp.MatMul):
            k, mats = mx._split(e)
            if len(mats) == 1:
                c *= k
                stack.append(mats[0])
                continue
        if isinstance(e, sp.HadamardProduct):
            stack.extend(e.args)
            continue
        if e.has(dX):
            if inner is not None:
                raise BadInput("the differential of the gradient is not linear in d" + dX.name[1:])
            inner = e
        else:
            others.append(e)
    return c, others, inner


def _weights(factors):
    """The entrywise product of ``factors`` as a teacher orders it: σ(u) ⊙ (1 − σ(u)) ⊙ y^{∘2}
    (functions first, repeated factors as powers)."""
    counts: dict = {}
    for a in factors:
        counts[a] = counts.get(a, 0) + 1
    order = sorted(counts, key=lambda a: (0 if isinstance(a, mx.Elementwise) else 1 if a.has(mx.Elementwise)
                                          else 2, sp.default_sort_key(a)))
    parts = [a if counts[a] == 1 else sp.HadamardPower(a, counts[a]) for a in order]
    return parts[0] if len(parts) == 1 else sp.HadamardProduct(*parts)


def _pushforward(D, X, dX):
    """(c, J) with a column D = c J dx, D linear in dx: a ⊙ D′ = diag(a) D′, L D′ = L J′."""
    if D == dX:
        return sp.S.One, sp.Identity(X.shape[0])
    if isinstance(D, sp.HadamardProduct) or (isinstance(D, sp.MatMul) and D.has(sp.HadamardProduct)):
        c, others, inner = _hadamard_factors(D, dX)
        if inner is None:
            raise BadInput("the differential of the gradient is not linear in d" + X.name)
        if not others:
            k, J = _pushforward(inner, X, dX)
            return c * k, J
        v = _weights(others)
        k, J = _pushforward(inner, X, dX)
        return c * k, (mx.DiagMatrix(v) if J == sp.Identity(X.shape[0]) else sp.MatMul(mx.DiagMatrix(v), J))
    if isinstance(D, sp.MatMul):
        k, mats = mx._split(D)
        flat = mx._flatten(mats)
        inside = [i for i, m in enumerate(flat) if m.has(dX)]
        if len(inside) == 1 and inside[0] == len(flat) - 1:
            c, J = _pushforward(flat[-1], X, dX)
            L = flat[:-1]
            return k * c, (sp.MatMul(*L, *(J.args if isinstance(J, sp.MatMul) else [J])).doit()
                           if L else J)
    raise BadInput(f"cannot read the Hessian off {sp.sstr(D)}")


def _canonical_traces(c):
    """tr(xᵀa) and tr(aᵀx) of a 1 × 1 product are one number: write both the same way."""
    swap = {}
    for t in c.atoms(sp.Trace):
        if t.arg.shape == (1, 1):
            other = sp.Trace(sp.Transpose(t.arg).doit())
            swap[t] = min(t, other, key=sp.default_sort_key)
    return c.xreplace(swap)


def _tidy_coefficient(c):
    if not c.has(sp.Trace):
        return sp.factor(c)
    c = _canonical_traces(c)
    atoms = sorted(c.atoms(sp.Trace), key=sp.default_sort_key)
    dummies = {a: sp.Dummy() for a in atoms}
    tidy = sp.factor(sp.together(c.xreplace(dummies)))
    return tidy.xreplace({v: k for k, v in dummies.items()})


def hessian_of(gradient, X, dX):
    """(d∇f, H) with d∇f = H dx, for the gradient of f in a vector x."""
    contributions, pieces = [], []
    for term in _terms(gradient):
        c, mats = mx._split(term)
        M = sp.MatMul(*mats) if len(mats) > 1 else mats[0]
        if M.has(X):
            dM = mx.differential(M, X, dX)
            pieces.append(c * dM)
            contributions += [c * J for J in _jacobian(M, X, dX)]
        if c.has(X):
            gc = _tidy(scalar_gradient(c, X, dX))
            pieces.append(sp.Trace((gc.T * dX)) * M)
            contributions += [M * t.T for t in _terms(gc)]
    if not contributions:
        n = X.shape[0]
        return sp.ZeroMatrix(*X.shape), sp.ZeroMatrix(n, n)
    dgrad = sp.MatAdd(*pieces) if len(pieces) > 1 else pieces[0]
    H = (sp.MatAdd(*contributions) if len(contributions) > 1 else contributions[0]).doit()
    H = H.replace(lambda a: isinstance(a, mx.DiagMatrix) and isinstance(a.args[0], sp.HadamardProduct),
                  lambda a: mx.DiagMatrix(_weights(a.args[0].args)))
    return dgrad, _tidy(H)


def _tidy(M):
    """Each term's scalar coefficient factored: y²e^{t}/(e^{t} + 1)², not a difference."""
    tidy = []
    for t in _terms(M):
        c, mats = mx._split(t)
        tidy.append(_tidy_coefficient(c) * (sp.MatMul(*mats) if len(mats) > 1 else mats[0]))
    if not tidy:
        return M
    return sp.MatAdd(*tidy).doit() if len(tidy) > 1 else tidy[0]


# --- checks at a concrete size -------------------------------------------------------------


def _points(rng: random.Random, explicit: dict, scalars, skip=()) -> list[dict]:
    points = []
    for _ in range(3):
        at = {}
        for M in explicit.values():
            for s in M:
                if s not in skip:
                    at[s] = sp.Rational(rng.randint(-9, 9), 4) + (sp.Rational(1, 3) if s.name.endswith(
                        tuple(f"_{k}{k}" for k in range(1, 6))) else 0)
        for s in scalars:
            at.setdefault(s, sp.Rational(rng.randint(1, 9), 5))
        points.append(at)
    return points


def _differ(a, b) -> bool:
    d = a - b
    if d == 0:
        return False
    return sp.nsimplify(d) != 0 and abs(sp.N(d, 30)) > 1e-20


def _same(a, b) -> bool:
    small = sp.count_ops(a) + sp.count_ops(b) < 400
    if not small:
        return True  # compared at random points only
    d = sp.expand(a - b)
    return d == 0 or _zero_over_exp(d) or sp.simplify(d) == 0 or \
        sp.simplify(sp.together(d.rewrite(sp.exp))) == 0


def _zero_over_exp(d) -> bool:
    """d = 0 as a rational function of exponentials: the numerator over a common denominator,
    with products of exponentials combined (e^{a}e^{−a} = 1), expands to 0. Far cheaper than
    simplify on a logistic loss's Hessian; False only means "not shown this way"."""
    num = sp.expand(sp.powsimp(sp.expand(sp.numer(sp.together(d))), combine="exp"))
    num = num.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.expand(e.args[0])))
    return sp.expand(sp.powsimp(num, combine="exp")) == 0


def _f_explicit(f, sizes, explicit):
    e = mx._explicit(f, sizes, explicit)
    return e[0, 0] if isinstance(e, sp.MatrixBase) else e


def check_hessian(problem_id: str, spec, f, X, H) -> None:
    """H against ``sympy.hessian`` of the explicit scalar at the concrete size, entry by entry."""
    sizes, explicit = mx._concrete(spec, f, X)
    Xs = explicit[X]
    variables = list(Xs)
    f_e = _f_explicit(f, sizes, explicit)
    exact = sp.hessian(f_e, variables)
    H_e = mx._as_matrix(mx._explicit(H, sizes, explicit))
    if H_e.shape != exact.shape:
        raise VerificationFailed(problem_id, "hessian", f"shape {H_e.shape} is not {exact.shape}")
    rng = random.Random(f"{problem_id}/hessian")
    points = _points(rng, explicit, sorted(f.free_symbols, key=sp.default_sort_key))
    # the random points first: a wrong entry is refused there at once, before SymPy is asked
    # to prove the right ones equal (the slow part on a logistic loss)
    for i in range(exact.rows):
        for j in range(exact.cols):
            for at in points:
                a, b = exact[i, j].xreplace(at), H_e[i, j].xreplace(at)
                if _differ(a, b):
                    raise VerificationFailed(problem_id, "hessian", f"entry ({i + 1},{j + 1}) at random "
                                             f"matrices: {sp.N(b, 12)} ≠ {sp.N(a, 12)}")
    for i in range(exact.rows):
        for j in range(exact.cols):
            if not _same(exact[i, j], H_e[i, j]):
                raise VerificationFailed(problem_id, "hessian", f"entry ({i + 1},{j + 1}): "
                                         f"{sp.sstr(H_e[i, j])} ≠ {sp.sstr(exact[i, j])}")


def _gram(mats) -> sp.Basic | None:
    """N when the product ``mats`` is NᵀN (XᵀX, xxᵀ = (xᵀ)ᵀxᵀ), else None."""
    flat = mx._flatten(mats)
    k = len(flat)
    if k == 0 or k % 2 or any(flat[i] != flat[k - 1 - i].T for i in range(k // 2)):
        return None
    half = flat[k // 2:]
    return half[0] if len(half) == 1 else sp.MatMul(*half)


def curvature(H, scope, dims=()) -> tuple[str, tuple, sp.Basic | None, list]:
    """("definite" | "semidefinite" | "unknown", Gram factors N, the shift c of c·I, terms).
    ``dims``: names of dimensions; such a name used as a number (the m of 1/m) is positive."""
    grams, shift, parts, known = [], None, [], True
    for t in _terms(H):
        c, mats = mx._split(t)
        c = c.xreplace({s: sp.Symbol(s.name, positive=True) for s in c.free_symbols
                        if isinstance(s, sp.Symbol) and s.name in dims})
        # a 1 × 1 product (wᵀx) is a real number
        real = _real_scalars(c, scope).xreplace({t: sp.Dummy(real=True) for t in c.atoms(sp.Trace)})
        sign = scope.sign(real) if c.free_symbols else (1 if c > 0 else -1 if c < 0 else 0)
        if sign is None and real.is_nonnegative:
            sign = 1
        if sign is None and c.is_nonnegative:
            sign = 1
        if mats and isinstance(mats[0], sp.Identity) and len(mats) == 1:
            if sign != 1:
                known = False
            shift = c if shift is None else shift + c
            parts.append((c, None, None))
            continue
        weighted = _weighted_gram(mats)
        if weighted is not None and sign in (0, 1):
            N, v, why = weighted
            if why is not None:
                grams.append(N)
                parts.append((mx._split(t)[0], N, v))
                continue
        N = _gram(mats)
        if N is None or sign not in (0, 1):
            known = False
            continue
        grams.append(N)
        parts.append((c, N, None))
    if not known:
        return "unknown", (), None, []
    return ("definite" if shift is not None else "semidefinite"), tuple(grams), shift, parts


def _weighted_gram(mats):
    """(N, v, reasons) when the product ``mats`` is Nᵀ diag(v) N, with ``reasons`` why every
    entry of v is positive (None when that is not known), else None."""
    flat = mx._flatten(mats)
    k = len(flat)
    if k % 2 == 0 or k < 3 or not isinstance(flat[k // 2], mx.DiagMatrix):
        return None
    if any(flat[i] != flat[k - 1 - i].T for i in range(k // 2)):
        return None
    half = flat[k // 2 + 1:]
    N = half[0] if len(half) == 1 else sp.MatMul(*half)
    v = flat[k // 2].args[0]
    return N, v, _positive_entries(v)


def _positive_entries(v):
    """Why every entry of the entrywise product v is ≥ 0 (as ("sigmoid", U), ("exp", U),
    ("square", a) facts), or None: σ(u) and 1 − σ(u) lie in (0, 1), e^{u} > 0, a^{∘2} ≥ 0."""
    factors = list(v.args) if isinstance(v, sp.HadamardProduct) else [v]
    reasons = []
    for a in factors:
        if isinstance(a, mx.Elementwise) and a.name in ("sigmoid", "exp"):
            reasons.append((a.name, a.arg))
        elif isinstance(a, sp.MatAdd) and len(a.args) == 2 and any(isinstance(t, sp.OneMatrix) for t in a.args) \
                and any(mx._split(t)[0] == -1 and len(mx._split(t)[1]) == 1 and isinstance(mx._split(t)[1][0], mx.Elementwise)
                        and mx._split(t)[1][0].name == "sigmoid" for t in a.args):
            s = next(mx._split(t)[1][0] for t in a.args if not isinstance(t, sp.OneMatrix))
            reasons.append(("sigmoid", s.arg))
        elif isinstance(a, sp.HadamardPower) and a.exp.is_Integer and a.exp % 2 == 0:
            reasons.append(("square", a.base))
        else:
            return None
    return tuple(dict.fromkeys(reasons))


class WeightedSquares(sp.Function):
    """Σᵢ vᵢ ((N z)ᵢ)² = (Nz)ᵀ diag(v)(Nz), for display only (checked through that trace form).
    Arguments: v, N, z, the index i, the row of N shown (xᵢᵀ) or 0, and a coefficient c."""

    nargs = 6

    def _latex(self, printer):
        v, N, z, i, row, c = self.args
        head = "" if c == 1 else "-" if c == -1 else printer._print(c) + " "
        weight = _entry_tex(v, i, printer)
        if row != sp.S.Zero:
            inner = printer._print(row) + "_{" + printer._print(i) + r"}^\top " + printer._print(z)
        else:
            inner = r"\left(" + printer._print(sp.MatMul(N, z)) + r"\right)_{" + printer._print(i) + "}"
        m = N.shape[0]
        return (head + r"\sum_{" + printer._print(i) + "=1}^{" + printer._print(m) + "} " + weight
                + r"\left(" + inner + r"\right)^2")


def _entry_tex(v, i, printer) -> str:
    """The i-th entry of an entrywise product as a teacher writes it: σ_i (1 − σ_i) y_i²."""
    factors = list(v.args) if isinstance(v, sp.HadamardProduct) else [v]
    out = []
    idx = printer._print(i)
    for a in factors:
        if isinstance(a, mx.Elementwise) and a.name == "sigmoid":
            out.append(r"\sigma_{" + idx + "}")
        elif isinstance(a, sp.MatAdd) and any(isinstance(t, sp.OneMatrix) for t in a.args):
            rest = sp.MatAdd(*[t for t in a.args if not isinstance(t, sp.OneMatrix)])
            out.append(r"\left(1 - " + _entry_tex(-rest, i, printer) + r"\right)")
        elif isinstance(a, sp.HadamardPower):
            out.append(_entry_tex(a.base, i, printer) + "^{" + printer._print(a.exp) + "}")
        elif isinstance(a, sp.MatrixSymbol):
            out.append(sp.latex(sp.Symbol(a.name)) + "_{" + idx + "}")
        else:
            out.append(r"\left(" + printer._print(a) + r"\right)_{" + idx + "}")
    return " ".join(out)


def WeightedSquares_rows(qf):
    """(N, row) of every Σᵢ vᵢ(xᵢᵀz)² shown with the rows of a named data matrix."""
    for ws in qf.atoms(WeightedSquares):
        if ws.args[4] != sp.S.Zero:
            yield ws.args[1], ws.args[4]


def _norm2(v):
    return sp.Trace(sp.MatMul(v.T, v))


def quadratic_form(parts, z, shown: bool = False, used=()):
    """Σ c‖Nz‖² + c‖z‖² as a scalar expression in traces (``shown``: with ‖·‖²)."""
    out = sp.S.Zero
    for c, N, w in parts:
        v = z if N is None else sp.MatMul(N, z)
        if w is not None:
            if shown:
                i = sp.Symbol("i" if "i" not in {s.name for s in w.free_symbols} else "k")
                row = _row_of(N, used)
                out += WeightedSquares(w, N, z, i, row if row is not None else sp.S.Zero, c)
                continue
            out += c * sp.Trace(sp.MatMul(v.T, mx.DiagMatrix(w), v))
            continue
        out += c * (NormSquared(v) if shown else _norm2(v))
    return out


def _row_of(N, used=()):
    """xᵢᵀ, the i-th row of a named data matrix X, as a printable symbol; None otherwise."""
    if not isinstance(N, sp.MatrixSymbol) or len(N.name) != 1 or not N.name.isupper() \
            or N.name.lower() in used:
        return None
    return sp.MatrixSymbol(N.name.lower(), N.shape[1], 1)


def check_curvature(problem_id: str, spec, f, X, H, parts, z) -> None:
    """zᵀHz = Σ c‖Nz‖² (+ c‖z‖²) and H ⪰ 0 at random matrices of the concrete size."""
    sizes, explicit = mx._concrete(spec, f, X)
    Xs = explicit[X]
    zs = sp.Matrix(Xs.rows, 1, lambda i, j: sp.Symbol(f"z_{i + 1}", real=True))
    H_e = mx._as_matrix(mx._explicit(H, sizes, explicit))
    q_e = _f_explicit(quadratic_form(parts, z), sizes, {**explicit, z: zs})
    if not _same((zs.T * H_e * zs)[0, 0], q_e):
        raise VerificationFailed(problem_id, "hessian", "zᵀHz is not the sum of squares shown")
    rng = random.Random(f"{problem_id}/curvature")
    for at in _points(rng, explicit, sorted(f.free_symbols, key=sp.default_sort_key)):
        zn = {s: sp.Rational(rng.randint(-9, 9), 4) for s in zs}
        lhs, rhs = (zs.T * H_e * zs)[0, 0].xreplace({**at, **zn}), q_e.xreplace({**at, **zn})
        if _differ(lhs, rhs):
            raise VerificationFailed(problem_id, "hessian", "zᵀHz is not the sum of squares shown "
                                     "at random numbers")
        if sp.N(rhs, 30) < 0 or _smallest_eigenvalue(H_e.xreplace(at)) < -1e-20:
            raise VerificationFailed(problem_id, "hessian", "the Hessian is not positive semidefinite "
                                     "at random matrices")


def _smallest_eigenvalue(M) -> float:
    import mpmath

    with mpmath.workdps(30):
        A = mpmath.matrix([[mpmath.mpf(sp.N(v, 30)) for v in M.row(i)] for i in range(M.rows)])
        A = (A + A.T) / 2
        return min(mpmath.eigsy(A)[0])


def check_stationary(problem_id: str, spec, f, X, gradient, H, b, solution, psd: bool) -> None:
    """g = Hx − b and g(x*) = 0 at a concrete size (symbolically, and at random numbers); with
    H ⪰ 0, no random step away from x* lowers f."""
    sizes, explicit = mx._concrete(spec, f, X)
    Xs = explicit[X]
    g_e = mx._as_matrix(mx._explicit(gradient, sizes, explicit))
    H_e = mx._as_matrix(mx._explicit(H, sizes, explicit))
    b_e = mx._as_matrix(mx._explicit(b, sizes, explicit))
    label = "stationary"
    if any(sp.expand(u) != 0 for u in g_e - (H_e * Xs - b_e)):
        raise VerificationFailed(problem_id, label, "the gradient is not H x − b")
    # symbolically at the concrete size: x* over the field of rational functions
    star = mx._as_matrix(mx._explicit(solution, sizes, explicit))
    at_star = g_e.xreplace(dict(zip(Xs, star)))
    if any(sp.cancel(sp.together(u)) != 0 for u in at_star):
        raise VerificationFailed(problem_id, label, "the gradient at the solution is not zero")
    rng = random.Random(f"{problem_id}/stationary")
    f_e = _f_explicit(f, sizes, explicit)
    for at in _points(rng, explicit, sorted(f.free_symbols, key=sp.default_sort_key), skip=set(Xs)):
        Hn, bn = H_e.xreplace(at), b_e.xreplace(at)
        if Hn.det() == 0:
            raise VerificationFailed(problem_id, label, "the Hessian is singular at random matrices of "
                                     "the concrete size: no unique stationary point")
        xn = star.xreplace(at)
        point = {**at, **dict(zip(Xs, xn))}
        if any(u != 0 for u in Hn * xn - bn) or any(u != 0 for u in g_e.xreplace(point)):
            raise VerificationFailed(problem_id, label, "the gradient at the solution is not zero "
                                     "at random matrices")
        if psd:
            step = [sp.Rational(rng.randint(-9, 9), 4) for _ in Xs]
            moved = {**at, **{s: xn[k] + step[k] for k, s in enumerate(Xs)}}
            if f_e.xreplace(moved) < f_e.xreplace(point):
                raise VerificationFailed(problem_id, label, "a step away from the solution lowers f")


def check_newton(problem_id: str, spec, f, X, gradient, H, solution) -> None:
    """One Newton step from random x lands on x*: x − H⁻¹g(x) = x* at random numbers."""
    sizes, explicit = mx._concrete(spec, f, X)
    Xs = explicit[X]
    g_e = mx._as_matrix(mx._explicit(gradient, sizes, explicit))
    H_e = mx._as_matrix(mx._explicit(H, sizes, explicit))
    star = mx._as_matrix(mx._explicit(solution, sizes, explicit))
    rng = random.Random(f"{problem_id}/newton")
    for at in _points(rng, explicit, sorted(f.free_symbols, key=sp.default_sort_key)):
        step = Xs.xreplace(at) - H_e.xreplace(at).inv() * g_e.xreplace(at)
        if step != star.xreplace(at):
            raise VerificationFailed(problem_id, "newton", "one Newton step does not reach the "
                                     "stationary point at random numbers")


def _newton_step(X, H, gradient):
    """x − H⁻¹∇f with the scalar factors of H and ∇f combined: (c H₀)⁻¹(k g₀) = (k/c) H₀⁻¹ g₀."""
    hs, gs = _terms(H), _terms(gradient)
    c = mx._common_factor([mx._split(t)[0] for t in hs] * 2)   # one term: its own coefficient
    k = mx._common_factor([mx._split(t)[0] for t in gs] * 2)
    if c.has(sp.Trace) or k.has(sp.Trace):
        c = k = sp.S.One
    H0 = (H / c).doit() if c != 1 else H
    g0 = (gradient / k).doit() if k != 1 else gradient
    ratio = sp.factor(k / c)
    step = ratio * sp.MatMul(sp.Inverse(H0), g0)
    return sp.MatAdd(X, -step, evaluate=False)


def check_newton_step(problem_id: str, spec, f, X, newton) -> None:
    """x − H⁻¹∇f at random numbers of the concrete size, H and ∇f from sympy of the explicit scalar."""
    sizes, explicit = mx._concrete(spec, f, X)
    Xs = explicit[X]
    variables = list(Xs)
    f_e = _f_explicit(f, sizes, explicit)
    g = sp.Matrix([sp.diff(f_e, v) for v in variables])
    Hx = sp.hessian(f_e, variables)
    rng = random.Random(f"{problem_id}/newton step")
    scalars = sorted(f.free_symbols, key=sp.default_sort_key)
    for at in _points(rng, explicit, scalars):
        Hn = Hx.xreplace(at).evalf(40)
        want = Xs.xreplace(at) - Hn.inv() * g.xreplace(at).evalf(40)
        numbers = {k: v.xreplace(at).evalf(40) for k, v in explicit.items()}
        plain = {s: v for s, v in at.items() if isinstance(s, sp.Symbol) and s not in sizes}
        got = mx._as_matrix(mx._explicit(newton.xreplace(plain), sizes, numbers)).evalf(40)
        if any(abs(a - b) > 1e-20 * (1 + abs(a)) for a, b in zip(want, got)):
            raise VerificationFailed(problem_id, "newton", "the Newton step differs from x − H⁻¹∇f "
                                     "at random numbers")


# --- solving -------------------------------------------------------------------------------


def _scope(problem):
    from ..assume import Scope, parse_assumption

    return Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})


def _real_scalars(expr, scope):
    """The scalar symbols of ``expr`` carrying the problem's assumptions (λ > 0)."""
    return expr.xreplace({s: scope.symbol(s.name) for s in expr.free_symbols
                          if isinstance(s, sp.Symbol) and s.name in scope.domains})


def _singular(spec, f, X, H) -> bool:
    """H is singular at random numbers of the concrete size (x xᵀ of one example)."""
    sizes, explicit = mx._concrete(spec, f, X)
    H_e = mx._as_matrix(mx._explicit(H, sizes, explicit))
    rng = random.Random("singular")
    for at in _points(rng, explicit, sorted(f.free_symbols, key=sp.default_sort_key)):
        if abs(sp.N(H_e.xreplace(at).det(), 30)) > 1e-20:
            return False
    return True


def _times(*factors):
    """A product with products flattened (XᵀXθ, not (XᵀX)θ)."""
    args = []
    for m in factors:
        args.extend(m.args if isinstance(m, sp.MatMul) else [m])
    return sp.MatMul(*args)


def solve(problem, spec, f, X, gradient) -> tuple[SecondOrder, list, tuple[str, ...]]:
    """The Hessian (and the stationary point, a Newton step) of f in the vector X."""
    second: SecondSpec = spec.second
    dX = sp.MatrixSymbol(f"d{X.name}", *X.shape)
    dgrad, H = hessian_of(gradient, X, dX)
    check_hessian(problem.id, spec, f, X, H)
    checks = ["the Hessian entry by entry against sympy.hessian of the expanded scalar at a concrete size"]
    shape = mx._shape_text((X.shape[0], X.shape[0]))
    answers = [("hessian", H), ("hessian.shape", shape)]
    constant = not H.has(X)
    used = {m.name for m in f.atoms(sp.MatrixSymbol)} | {s.name for s in f.free_symbols}
    z = sp.MatrixSymbol(next(n for n in ("z", "u", "v", "q", "z_0") if n not in used), *X.shape)
    scope = _scope(problem)
    dims = {d.name for M in f.atoms(sp.MatrixSymbol) for d in M.shape if isinstance(d, sp.Symbol)}
    kind, grams, shift, parts = curvature(H, scope, dims)
    if parts:
        check_curvature(problem.id, spec, f, X, H, parts, z)
        checks.append("the Hessian as a sum of squares, and positive semidefinite, at random numbers")
    stationary = newton = None
    reaches = False
    if second.stationary or (second.newton and constant):
        if not constant:
            raise problem.error("stationary" if second.stationary else "newton",
                                f"the Hessian depends on {X.name}, so the gradient is not linear and "
                                "setting it to zero has no closed form here")
        b = (-gradient.xreplace({X: sp.ZeroMatrix(*X.shape)})).doit()
        b = sp.ZeroMatrix(*X.shape) if b == 0 else b
        coeffs = [mx._split(t)[0] for t in _terms(H) + _terms(b)]
        common = mx._common_factor(coeffs)
        H0 = (H / common).doit() if common != 1 else H
        b0 = (b / common).doit() if common != 1 else b
        if isinstance(b0, sp.ZeroMatrix):
            solution = b0
        else:
            solution = sp.MatMul(sp.Inverse(H0), *(b0.args if isinstance(b0, sp.MatMul) else [b0]))
        check_stationary(problem.id, spec, f, X, gradient, H, b, solution, kind != "unknown")
        linear = sp.MatAdd(_times(H, X), -b) if not isinstance(b, sp.ZeroMatrix) else _times(H, X)
        back = sp.MatAdd(_times(H0, *solution.args), -b0, evaluate=False) \
            if not isinstance(b0, sp.ZeroMatrix) else None
        stationary = Stationary(_times(H0, X), b0, solution, linear, back, H0)
        checks.append("the stationary point substituted back into the gradient at a concrete size "
                      "(symbolically and at random numbers)")
        if second.stationary:
            answers.append(("stationary", solution))
    if second.newton:
        newton = _newton_step(X, H, gradient)
        if stationary is None and _singular(spec, f, X, H):
            raise problem.error("newton", "the Hessian is singular at random values of a concrete size "
                                "(rank deficient), so the Newton step is not defined")
        if stationary is None:
            check_newton_step(problem.id, spec, f, X, newton)
            checks.append("the Newton step against the inverse of sympy.hessian times the gradient of the "
                          "expanded scalar at random numbers")
        if stationary is not None:
            check_newton(problem.id, spec, f, X, gradient, H, stationary.solution)
            reaches = True
            checks.append("one Newton step from random points reaches the stationary point")
        answers.append(("newton", newton))
    qf = quadratic_form(parts, z, shown=True, used=used) if parts else None
    rows = tuple(WeightedSquares_rows(qf)) if qf is not None else ()
    where = tuple(dict.fromkeys(r for c, N, w in parts if w is not None for r in _positive_entries(w)))
    return (SecondOrder(dgrad, H, shape, constant, kind, qf, grams, shift, stationary, newton,
                        reaches, z, rows, where), answers, tuple(checks))


# --- kind derivative: the second derivative of a scalar function -----------------------------


@dataclass(frozen=True)
class SecondDerivative:
    value: sp.Expr                 # f″ in the variable
    teacher: sp.Expr | None        # f″ through the function itself: σ(1 − σ)(1 − 2σ)
    meaning: tuple = ()            # stand-ins of the teacher form
    checks: tuple[str, ...] = ()
    shown: sp.Expr | None = None   # f″ with the decimals the file wrote as written (1.702)


def second_derivative(problem, result, scope) -> SecondDerivative:
    """f″ of a scalar function: d/dx of the verified f′, checked symbolically, by difference
    quotients of f′ and by the second difference (f(x + h) − 2f(x) + f(x − h))/h² of f."""
    from .. import verify
    from .scalar import tidy
    from .teacher import teacher_form

    label = f"{result.name}.second_derivative"
    if result.branches:
        raise problem.error("hessian", f"{result.name} is piecewise: its second derivative is not "
                            "supported")
    f, d, x = result.definition, result.derivative, result.var
    d2 = tidy(sp.diff(d, x), x)
    checks = list(verify.check_derivative(problem.id, label, d, d2, x, scope))
    rng = verify.rng_for(problem.id, label + "/second difference")
    h = sp.Rational(1, 10 ** 4)
    others = sorted(f.free_symbols - {x}, key=lambda s: s.name)
    for _ in range(verify.POINTS):
        at = scope.sample(rng, [s.name for s in others])
        x0 = sp.Rational(rng.randint(-300, 300), 100)
        fx = [verify._value(f, {**at, x: x0 + k * h}) for k in (-1, 0, 1)]
        numeric = (fx[2] - 2 * fx[1] + fx[0]) / verify._mp(h) ** 2
        claimed = verify._value(d2, {**at, x: x0})
        if not verify._close(numeric, claimed, 1e-5):
            raise VerificationFailed(problem.id, label, f"the second difference gives "
                                     f"{verify._show(numeric)} at {x} = {x0}, the answer gives "
                                     f"{verify._show(claimed)}")
    checks.append("second derivatives against second differences (f(x + h) − 2f(x) + f(x − h))/h² at random points")
    teacher = meaning = None
    form = teacher_form(f, d2, x, result.applied)
    if form is not None and form.expr != d2 and sp.srepr(form.explicit()) != sp.srepr(d2):
        checks += verify.check_identity(problem.id, f"{label} (teacher form)", form.explicit(), d2, scope)
        teacher, meaning = form.expr, tuple(form.meaning.items())
    shown = None
    if getattr(result, "written_form", None) is not None:
        shown, teacher, meaning, more = _second_as_written(problem.id, label, result, d2, scope,
                                                           teacher, meaning)
        checks += more
    return SecondDerivative(d2, teacher, meaning or (), tuple(dict.fromkeys(checks)), shown)


def _second_as_written(pid, label, result, d2, scope, teacher, meaning):
    """f″ again from the function read with its decimals as written (written.Written), so
    that 1.702² stays a decimal instead of 724201/250000 over a common denominator; the forms
    shown are checked against ``d2`` with the exact values put back. The teacher's form of
    the exact derivation is kept when this one finds none, and the exact f″ is shown (its
    numbers printed as decimals) when this one comes out longer."""
    from .. import verify
    from ..written import as_written, exact
    from .scalar import tidy
    from .teacher import teacher_form

    x = result.var
    d2_shown = tidy(sp.diff(result.written_form, x, 2), x)
    if sp.count_ops(as_written(d2_shown)) > sp.count_ops(d2):
        # x^{1.5}/x² where the exact form has 1/√x: the exact one, its numbers as decimals
        return None, teacher, meaning, []
    checks = list(verify.check_identity(pid, f"{label} (as written)", exact(d2_shown), d2, scope))
    form = teacher_form(result.written_form, d2_shown, x, result.applied)
    if form is not None and form.expr != d2_shown and sp.srepr(form.explicit()) != sp.srepr(d2_shown):
        checks += verify.check_identity(pid, f"{label} (teacher form as written)",
                                        exact(form.explicit()), d2, scope)
        teacher, meaning = as_written(form.expr), tuple(form.meaning.items())
    return as_written(d2_shown), teacher, meaning, checks
