"""Where a function of one variable is defined: the reason a limit at ±∞ cannot be asked.

ln u needs u > 0, √u needs u ≥ 0, a power u^v with v varying needs u > 0, arcsin u and arccos u need −1 ≤ u ≤ 1, arcosh u needs
u ≥ 1, artanh u needs −1 < u < 1. A limit at −∞ of x ln x is not "+∞": ln x is not real
there. :func:`far_out_refusal` names the piece that is undefined, the set where it is, and
why, in the file's terms ("log(x) is not defined for x <= 0 (log needs a positive
argument)"), or returns None when every piece is defined far out.
"""

from __future__ import annotations

import mpmath
import sympy as sp

# head → (what it needs, in words; the set where u is outside its domain, as a relation)
_NEEDS = {
    sp.log: ("a positive argument", lambda u: u <= 0),
    sp.asin: ("an argument in [-1, 1]", lambda u: u ** 2 - 1 > 0),
    sp.acos: ("an argument in [-1, 1]", lambda u: u ** 2 - 1 > 0),
    sp.acosh: ("an argument >= 1", lambda u: u < 1),
    sp.atanh: ("an argument in (-1, 1)", lambda u: u ** 2 - 1 >= 0),
}
_NAMES = {sp.log: "log", sp.asin: "asin", sp.acos: "acos", sp.acosh: "acosh", sp.atanh: "atanh"}


def _restricted(expr: sp.Expr, var: sp.Symbol):
    """(piece, argument, head name, need, outside-relation) for every piece with a domain."""
    for node in sp.preorder_traversal(expr):
        if not isinstance(node, sp.Basic) or not node.has(var):
            continue
        if type(node) in _NEEDS:
            need, outside = _NEEDS[type(node)]
            u = node.args[0]
            yield node, u, _NAMES[type(node)], need, outside(u)
        elif node.is_Pow and node.exp.has(var) and not node.base.is_positive:
            # x^x, a^x: a real power with a varying exponent needs a positive base
            yield node, node.base, "a power with a varying exponent", "a positive base", node.base <= 0
        elif node.is_Pow and node.exp.is_Rational and not node.exp.is_Integer and node.exp.q % 2 == 0:
            u = node.base
            if node.exp.is_negative:
                yield node, u, "an even root", "a positive argument", u <= 0
            else:
                yield node, u, "an even root", "a nonnegative argument", u < 0


def _undefined_far(u: sp.Expr, outside: sp.Basic, var: sp.Symbol, sign: int,
                   params: dict) -> bool:
    """True when ``outside`` holds for u at var = sign·10⁴ and sign·10⁶ (representative
    parameters): the argument has left the domain for good."""
    rel = outside.subs(params)
    for far in (10 ** 4, 10 ** 6, 10 ** 8):
        value = rel.subs(var, sign * far)
        if value is not sp.true:
            return False
    return True


def far_out_refusal(f: sp.Expr, var: sp.Symbol, written: str, samples: list[dict],
                    var_domain: sp.Set = sp.S.Reals) -> str | None:
    """Why ``f`` has no limit at ``written`` ("+oo"/"-oo"), or None.

    ``samples`` are values of the other symbols inside their domains (the first one the
    representative); a piece counts as undefined far out only when it is so for every
    sample, and a piece undefined for some samples only asks for an assumption.
    ``var_domain`` is the variable's own assumption (x > 0 leaves no −∞).
    """
    sign = 1 if written.strip() in ("+oo", "oo", "+inf", "inf") else -1
    arrow = "+oo" if sign > 0 else "-oo"
    if (var_domain.inf if sign < 0 else var_domain.sup) != sign * sp.oo:
        return (f"{var} is assumed to satisfy {_describe_set(var_domain, var)}, so {var} -> {arrow} "
                "is outside its domain")
    for node, u, head, need, outside in _restricted(f, var):
        verdicts = []
        for params in samples or [{}]:
            try:
                verdicts.append(_undefined_far(u, outside, var, sign, params))
            except (TypeError, ValueError):
                verdicts.append(False)
        shown = sp.sstr(node)
        if all(verdicts):
            return (f"{shown} is not defined for {_where(outside, var)} ({head} needs {need}), "
                    f"so there is no limit at {arrow} to ask for")
        if any(verdicts):
            bad = samples[verdicts.index(True)]
            at = ", ".join(f"{k} = {v}" for k, v in sorted(bad.items(), key=lambda kv: str(kv[0])))
            return (f"{shown} is defined as {var} -> {arrow} only for some values of the parameters "
                    f"(not for {at}: {head} needs {need}); add an 'assume' entry")
    return None


def _where(outside: sp.Basic, var: sp.Symbol) -> str:
    """The set where ``outside`` holds, as the file writes it: "x <= 0", "x < -1 or x > 1"."""
    try:
        solved = sp.solve_univariate_inequality(outside, var, relational=True)
    except (NotImplementedError, ValueError, TypeError, AttributeError):
        solved = outside
    return _relation_text(solved, var)


def _relation_text(rel: sp.Basic, var: sp.Symbol) -> str:
    """x first (1 < x is x > 1), infinite bounds dropped, | and & in words."""
    if isinstance(rel, (sp.Or, sp.And)):
        parts = [_relation_text(a, var) for a in rel.args]
        parts = [p for p in parts if p]
        word = " or " if isinstance(rel, sp.Or) else " and "
        return word.join(sorted(parts, key=lambda p: ("<" not in p, p)))
    if isinstance(rel, sp.core.relational.Relational):
        if rel.lhs.has(sp.oo, -sp.oo) or rel.rhs.has(sp.oo, -sp.oo):
            return ""
        if rel.rhs == var and rel.lhs != var:
            rel = rel.reversed
        return sp.sstr(rel)
    return sp.sstr(rel)


def _describe_set(s: sp.Set, var: sp.Symbol) -> str:
    plain = sp.Symbol(var.name, real=True)
    return _relation_text(s.as_relational(plain), plain)


def numerically_undefined(f: sp.Expr, var: sp.Symbol, sign: int, params: dict) -> bool:
    """A last guard: ``f`` is not real (or not finite) at var = sign·10², sign·10⁴."""
    fn = sp.lambdify(var, f.subs(params), modules=["mpmath"], docstring_limit=0)

    def undefined(at: int, dps: int) -> bool:
        with mpmath.workdps(dps):
            try:
                v = mpmath.mpmathify(fn(mpmath.mpf(at)))
            except (ValueError, ZeroDivisionError, TypeError):
                return True
            return mpmath.im(v) != 0 or not mpmath.isfinite(v)

    # a value lost to rounding is no gap: 1 − σ(10⁴) is e^(−10⁴) > 0, which 30 digits round to
    # 0 (and ln 0 = −∞ for the cross-entropy of a logit); it is decided again with the digits
    # that e^(±far) needs
    return any(undefined(sign * far, 30) and undefined(sign * far, 40 + far // 2)
               for far in (10 ** 2, 10 ** 4))
