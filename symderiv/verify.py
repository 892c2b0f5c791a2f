"""Checks every answer must pass before anything is rendered: SymPy and numbers, both.

- derivatives: equal to ``sympy.diff`` symbolically (branch by branch for piecewise
  functions) and to central finite differences at random points that respect the
  assumptions and stay away from breakpoints;
- limits: evaluation far out approaches the claimed value;
- identities: symbolic simplification to zero and evaluation at random points.

A failed check raises :class:`VerificationFailed`; nothing is ever rendered unchecked.
"""

from __future__ import annotations

import random

import mpmath

import sympy as sp

from . import memo
from .assume import Scope
from .derive.branches import Branch
from .errors import VerificationFailed

PRECISION = 50  # digits for numeric evaluation
STEP = sp.Rational(1, 10 ** 12)  # finite-difference step; error ~ STEP² at 50 digits
REL_TOL = 1e-8
POINTS = 6
FAR = (10 ** 2, 10 ** 3, 10 ** 4)
SLOW_FAR = (10 ** 6, 10 ** 8)  # for limits approached slowly (1/√x)


def rng_for(problem_id: str, label: str) -> random.Random:
    """A generator seeded by the answer's name: the same input checks the same points."""
    return random.Random(f"{problem_id}/{label}")


def mp_lambdify(args, expr):
    """``sympy.lambdify`` to mpmath, printing sums in their stored order: the default printer
    sorts the terms of every sum, which evaluates each term of an exact closed form (a tanh
    network's gradient) with SymPy's evalf and costs seconds."""
    from sympy.printing.pycode import MpmathPrinter

    printer = MpmathPrinter({"order": "none", "fully_qualified_modules": False, "inline": True,
                             "allow_unknown_functions": True, "user_functions": {}})
    return sp.lambdify(args, expr, modules="mpmath", printer=printer, docstring_limit=0)


def mp_value(expr: sp.Expr, dps: int = PRECISION) -> complex:
    """A closed-form number evaluated by mpmath at fixed precision.

    SymPy's adaptive ``evalf`` on a large exact expression (a sigmoid network's gradient)
    can take seconds; compiled to mpmath it takes microseconds, at the same 50 digits.
    """
    if expr.is_Rational:
        return complex(expr.p / expr.q)  # correctly rounded (SymPy's complex() of 17/50 is not)
    key = (expr, dps)
    value = _MP_VALUES.get(key)
    if value is None:   # the same entry is compared in several tables of a key: once
        with mpmath.workdps(dps):
            try:   # node by node: compiling costs more than one evaluation
                value = complex(mp_tree(expr, {}, dps))
            except (TypeError, ValueError, AttributeError):
                value = complex(mp_lambdify([], expr)())
        _MP_VALUES[key] = value
    return value


_MP_VALUES: dict = memo.cache()


_MP_FUNCTIONS = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh,
                 sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.erf: mpmath.erf, sp.Abs: abs,
                 sp.atan: mpmath.atan, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh}


def mp_tree(expr: sp.Expr, seen: dict, dps: int = PRECISION):
    """A number's expression tree (exact rationals, exp, log …) evaluated node by node in
    mpmath at ``dps`` digits, each shared subtree once (``seen``: the entries of one matrix
    share their z's and σ(z)'s). No compilation and no adaptive precision: for comparing many
    entries, where SymPy's ``evalf`` costs milliseconds an entry. Nodes it does not know are
    evaluated by SymPy. The caller decides what the fixed precision may not: a value that
    matters for a refusal is confirmed by ``evalf``."""
    value = seen.get(expr)
    if value is not None:
        return value
    if expr.is_Rational:
        value = mpmath.mpf(expr.p) / expr.q
    elif expr.is_Float:
        value = mpmath.mpf(expr._mpf_)
    elif expr.is_Add:
        value = mpmath.fsum(mp_tree(a, seen, dps) for a in expr.args)
    elif expr.is_Mul:
        value = mpmath.fprod(mp_tree(a, seen, dps) for a in expr.args)
    elif expr.is_Pow:
        base, e = expr.args
        value = mp_tree(base, seen, dps) ** (int(e) if e.is_Integer else mp_tree(e, seen, dps))
    elif expr.func in _MP_FUNCTIONS and len(expr.args) == 1:
        value = _MP_FUNCTIONS[expr.func](mp_tree(expr.args[0], seen, dps))
    else:
        v = sp.N(expr, dps)
        re, im = v.as_real_imag()
        if not (re.is_Float or re.is_zero) or not (im.is_Float or im.is_zero):
            raise TypeError(f"not a number: {type(expr).__name__}")
        value = mpmath.mpf(re._mpf_ if re.is_Float else 0)
        if not im.is_zero:
            value = mpmath.mpc(value, mpmath.mpf(im._mpf_))
    seen[expr] = value
    return value


_COMPILED: dict = memo.cache()


def compiled(expr: sp.Expr, names: tuple):
    """``expr`` compiled to an mpmath function of ``names`` (cached: the same activation and
    its derivative are checked in every file), or None when it has no mpmath form."""
    key = (expr, names)
    fn = _COMPILED.get(key)
    if fn is None:
        try:
            fn = mp_lambdify(names, expr)
        except Exception:  # noqa: BLE001 - a function mpmath does not know: evaluate with SymPy
            fn = False
        _COMPILED[key] = fn
    return fn


def _mp(v):
    if isinstance(v, sp.Integer):
        return mpmath.mpf(int(v))
    if isinstance(v, sp.Rational):
        return mpmath.mpf(v.p) / v.q
    if isinstance(v, sp.Float):
        return mpmath.mpf(v._mpf_) if v._mpf_ else mpmath.mpf(0)
    return mpmath.mpmathify(complex(sp.N(v, PRECISION)))


def _value(expr: sp.Expr, subs: dict):
    """``expr`` at the point ``subs``, as an mpmath number at ``PRECISION`` digits.

    Compiled once (``lambdify``) and evaluated at fixed precision: SymPy's adaptive
    ``evalf`` on the tree costs a millisecond or more an evaluation, and an exact rational
    power such as x^x at x = -1234567/10^6 would make it look for exact roots for minutes.
    """
    names = tuple(sorted(subs, key=str))
    fn = compiled(expr, names) if expr.free_symbols <= set(names) else False
    if fn:
        with mpmath.workdps(PRECISION):
            try:
                return fn(*(_mp(subs[k]) for k in names))
            except (TypeError, NameError, ValueError, ZeroDivisionError, AttributeError):
                pass  # a construct mpmath cannot evaluate (Heaviside at 0 …): SymPy decides
    floats = {k: sp.Float(v, PRECISION) if isinstance(v, sp.Rational) and not v.is_Integer else v
              for k, v in subs.items()}
    value = sp.N(expr.subs(floats), PRECISION)
    try:
        return mpmath.mpmathify(complex(value))
    except TypeError:
        return value


def _show(v) -> str:
    try:
        return mpmath.nstr(v, 12)
    except (TypeError, ValueError):
        return str(v)


def _number(v):
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return v
    if isinstance(v, (int, float, complex)):
        return mpmath.mpmathify(v)
    v = sp.N(v, PRECISION)
    if isinstance(v, (sp.Float, sp.Rational)):
        return _mp(v)
    return mpmath.mpmathify(complex(v))  # TypeError when not a number


def _close(a, b, tol=REL_TOL) -> bool:
    """Relative closeness at full precision (values beyond floating point, x^1000 at x = 3,
    compare as well as small ones)."""
    try:
        a, b = _number(a), _number(b)
    except (TypeError, ValueError):
        return False
    with mpmath.workdps(PRECISION):
        if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
            return False
        return bool(abs(a - b) <= tol * max(1, abs(a), abs(b)))


def _inside(branch: Branch, params: dict, rng: random.Random) -> sp.Rational:
    lo = branch.lower.subs(params) if branch.lower != -sp.oo else None
    hi = branch.upper.subs(params) if branch.upper != sp.oo else None
    lo_f = float(lo) if lo is not None else (float(hi) - 6 if hi is not None else -3.0)
    hi_f = float(hi) if hi is not None else lo_f + 6
    if lo is None and hi is None:
        lo_f, hi_f = -3.0, 3.0
    margin = (hi_f - lo_f) * 0.05
    return sp.Rational(rng.uniform(lo_f + margin, hi_f - margin)).limit_denominator(10 ** 6)


def symbolic_zero(expr: sp.Expr) -> bool:
    """True when SymPy proves ``expr`` is identically zero."""
    if expr == 0:
        return True
    for attempt in (sp.cancel, lambda e: sp.cancel(e.rewrite(sp.exp)), sp.simplify):
        try:
            if attempt(expr) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            continue
    try:
        return sp.simplify(expr.rewrite(sp.exp)) == 0
    except (TypeError, ValueError, NotImplementedError):
        return False


def zero_branchwise(expr: sp.Expr, scope: Scope) -> bool:
    """True when ``expr`` (with ReLU-like kinks in one variable) is zero on every branch.

    Heaviside(max(0, x))·Heaviside(x) − Heaviside(x) is zero except at the kink x = 0,
    which SymPy's simplify does not see; split at the breakpoints and check each piece.
    """
    from .derive.branches import KINKED, split_branches

    kinked = [n for n in sp.preorder_traversal(expr) if isinstance(n, KINKED)]
    variables = set().union(*(n.free_symbols for n in kinked)) if kinked else set()
    if len(variables) != 1:
        return symbolic_zero(expr)
    # kinks in one variable: branch by branch straight away (simplify of the whole expression
    # with its Max and Heaviside rarely decides, and is the slow part when it does not)
    (var,) = variables
    try:
        if expr == 0 or all(symbolic_zero(b.expr) for b in split_branches(expr, var, scope)):
            return True
    except (ValueError, TypeError, NotImplementedError):
        pass
    return symbolic_zero(expr)


def check_derivative(problem: str, label: str, f: sp.Expr, derivative: sp.Expr,
                     var: sp.Symbol, scope: Scope, branches: list[Branch] | None = None) -> list[str]:
    """Check ``derivative`` = d``f``/d``var`` symbolically and by finite differences.

    ``derivative`` is the claimed answer (a Piecewise when ``branches`` is given, with one
    piece per branch, in order). Returns the list of checks that passed.
    """
    rng = rng_for(problem, label)
    pieces = branches or [Branch(f, -sp.oo, sp.oo)]
    claimed = ([p for p, _ in derivative.args] if isinstance(derivative, sp.Piecewise)
               else [derivative])
    if len(claimed) != len(pieces):
        raise VerificationFailed(problem, label, "the derivative does not have one piece per branch")
    for branch, piece in zip(pieces, claimed):
        if not symbolic_zero(sp.diff(branch.expr, var) - piece):
            raise VerificationFailed(problem, label,
                                     f"{sp.sstr(piece)} is not d/d{var} of {sp.sstr(branch.expr)}")
    others = sorted(f.free_symbols - {var}, key=lambda s: s.name)
    for branch, piece in zip(pieces, claimed):
        for _ in range(POINTS):
            params = scope.sample(rng, [s.name for s in others])
            x0 = _inside(branch, params, rng)
            at = dict(params)
            f_plus = _value(f, {**at, var: x0 + STEP})
            f_minus = _value(f, {**at, var: x0 - STEP})
            numeric = (f_plus - f_minus) / (2 * _mp(STEP)) if not isinstance(f_plus, sp.Basic) \
                else (f_plus - f_minus) / (2 * STEP)
            claimed_value = _value(piece, {**at, var: x0})
            if not _close(numeric, claimed_value, 1e-7):
                raise VerificationFailed(
                    problem, label, f"finite differences give {_show(numeric)} at "
                    f"{var} = {x0} ({_fmt(params)}), the answer gives {_show(claimed_value)}")
    return ["derivatives against the symbolic derivative (branch by branch where piecewise)",
            "derivatives against the definition of the derivative (difference quotients) at random points"]


FARTHER = (10 ** 16, 10 ** 32, 10 ** 64)  # for a limit SymPy found exactly but approached like 1/ln x


def _far_values(fn, sign: int, points) -> list:
    """``fn`` at sign·far for each far point, at enough digits that x + 1 is not x there."""
    out = []
    for far in points:
        with mpmath.workdps(40 + 2 * len(str(far))):
            try:
                out.append(mpmath.mpmathify(fn(mpmath.mpf(sign * far))))
            except (ValueError, ZeroDivisionError, TypeError, OverflowError):
                out.append(mpmath.mpf("nan"))
    return out


def check_limit(problem: str, label: str, expr: sp.Expr, var: sp.Symbol, point: sp.Expr,
                value: sp.Expr, scope: Scope) -> list[str]:
    """Check ``lim expr = value`` by evaluation at |var| = 10², 10³, 10⁴ (mpmath, fixed precision).

    Fixed precision on purpose: SymPy's adaptive ``evalf`` would chase 1 + erf(−10⁴) to
    thousands of digits; at 40 digits it is 0, which is what "far out" means here. A slow
    approach (1/(2√x), 1/ln x) is followed further out, to 10⁸ and then to 10⁶⁴: the gap
    must shrink at every step and, extrapolated (Aitken's Δ²), head to 0 (a gap levelling
    off at a constant is a wrong value, not a slow one). A limit that does not exist (``value``
    an AccumBounds) is checked by :func:`check_no_limit`.
    """
    value = sp.sympify(value)
    if value.has(sp.AccumBounds):
        return check_no_limit(problem, label, expr, var, point, value, scope)
    rng = rng_for(problem, label)
    sign = 1 if point == sp.oo else -1
    others = sorted(expr.free_symbols - {var}, key=lambda s: s.name)
    for _ in range(3):
        params = scope.sample(rng, [s.name for s in others])
        fn = sp.lambdify(var, expr.subs(params), modules="mpmath", docstring_limit=0)
        # mpmath numbers throughout: e^{x²} far out is beyond floating point, not infinite
        with mpmath.workdps(40):
            samples = _far_values(fn, sign, FAR + SLOW_FAR)
            target = value.subs(params)
            if any(not mpmath.isfinite(v) and not mpmath.isinf(v) for v in samples[:len(FAR)]) or \
                    any(abs(mpmath.im(v)) > 1e-20 * max(1, abs(v)) for v in samples[:len(FAR)]):
                # ln x + 1 at x = -10^4 has a real part that grows: not a limit of real values
                raise VerificationFailed(problem, label, "far out the derivative is not real")
            if target.is_finite:
                t = mpmath.mpmathify(complex(sp.N(target, 30)))
                scale = max(1, abs(t))
                gaps = [abs(v - t) for v in samples]
                # near at 10⁴, or (slowly, like 1/(2√x)) still closing in out to 10⁸
                near = gaps[len(FAR) - 1] <= 1e-3 * scale
                closing = all(b < a for a, b in zip(gaps, gaps[1:])) and gaps[-1] <= 1e-3 * scale
                if not (near and gaps[len(FAR) - 1] <= gaps[0] + 1e-12) and not closing:
                    gaps += [abs(v - t) for v in _far_values(fn, sign, FARTHER)]
                    # where the gaps are heading (Aitken's extrapolation over x = 10^16, 10^32,
                    # 10^64; exact for a gap shrinking by a fixed factor, as 1/ln x does)
                    g1, g2, g3 = gaps[-3:]
                    bend = (g3 - g2) - (g2 - g1)
                    heading = g3 - (g3 - g2) ** 2 / bend if bend > 0 else g3
                    shrinking = all(b < a for a, b in zip(gaps, gaps[1:])) and \
                        abs(heading) <= 1e-3 * scale
                    if not shrinking:
                        raise VerificationFailed(problem, label, f"far out the derivative is "
                                                 f"{mpmath.nstr(mpmath.re(samples[len(FAR) - 1]), 8)}, "
                                                 f"not near {target}")
            else:
                want = 1 if target == sp.oo else -1
                reals = [mpmath.re(v) * want for v in samples[:len(FAR)]]
                if not (reals[-1] > 10 and reals[-1] > reals[0]):
                    raise VerificationFailed(problem, label, f"far out the derivative is "
                                             f"{mpmath.nstr(reals[-1] * want, 8)}, not growing to {target}")
    return ["limits by evaluation far out (|x| = 100, 1000, 10000; further for slow approaches)"]


NO_LIMIT_SCALES = (10 ** 4, 10 ** 6, 10 ** 8)


def check_no_limit(problem: str, label: str, expr: sp.Expr, var: sp.Symbol, point: sp.Expr,
                   bounds: sp.AccumBounds, scope: Scope) -> list[str]:
    """Check that ``expr`` has no limit at ``point``: at random points of [s, 2s] for
    s = 10⁴, 10⁶, 10⁸ the values spread as widely far out as nearer in (they do not settle),
    and they stay within the claimed ``bounds``."""
    rng = rng_for(problem, label)
    sign = 1 if point == sp.oo else -1
    others = sorted(expr.free_symbols - {var}, key=lambda s: s.name)
    for _ in range(3):
        params = scope.sample(rng, [s.name for s in others])
        fn = sp.lambdify(var, expr.subs(params), modules="mpmath", docstring_limit=0)
        lo, hi = (bounds.min.subs(params), bounds.max.subs(params))
        spreads = []
        for s in NO_LIMIT_SCALES:
            xs = [mpmath.mpf(s) * (1 + mpmath.mpf(rng.random())) for _ in range(40)]
            with mpmath.workdps(40):
                values = [mpmath.re(mpmath.mpmathify(fn(sign * x))) for x in xs]
            spreads.append(max(values) - min(values))
            tol = 1e-9 * max([1] + [abs(v) for v in values])
            for v in values:
                if (lo.is_finite and v < _number(lo) - tol) or (hi.is_finite and v > _number(hi) + tol):
                    raise VerificationFailed(problem, label, f"far out the derivative takes the value "
                                             f"{mpmath.nstr(v, 8)}, outside {sp.sstr(bounds)}")
        if not (spreads[-1] > 1e-3 and spreads[-1] >= 0.5 * spreads[0]):
            raise VerificationFailed(problem, label, "far out the values of the derivative settle "
                                     f"(spread {mpmath.nstr(spreads[-1], 6)} at |x| = 10^8): the limit "
                                     "may exist")
    return ["limits that do not exist: the values far out keep oscillating (|x| = 10^4 to 10^8)"]


def check_identity(problem: str, label: str, lhs: sp.Expr, rhs: sp.Expr, scope: Scope) -> list[str]:
    """Check ``lhs = rhs`` symbolically and at random points of the assumptions."""
    if not symbolic_zero(lhs - rhs):
        raise VerificationFailed(problem, label, f"{sp.sstr(lhs)} ≠ {sp.sstr(rhs)}")
    rng = rng_for(problem, label)
    names = [s.name for s in sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)]
    for _ in range(POINTS):
        at = scope.sample(rng, names)
        a, b = _value(lhs, at), _value(rhs, at)
        if not _close(a, b):
            raise VerificationFailed(problem, label, f"at {_fmt(at)}: {_show(a)} ≠ {_show(b)}")
    return ["every displayed rewrite symbolically and at random points"]


def _fmt(at: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sorted(at.items(), key=lambda kv: str(kv[0]))) or "no parameters"
