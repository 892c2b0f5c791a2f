"""Limits at ±∞, branch by branch, with the step that justifies each."""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from ..assume import Domain, Scope
from ..errors import BadInput, InternalLimit
from .branches import Branch

DIRECTIONS = {"+oo": sp.oo, "oo": sp.oo, "+inf": sp.oo, "inf": sp.oo,
              "-oo": -sp.oo, "-inf": -sp.oo}


@dataclass(frozen=True)
class LimitCase:
    """For parameters in ``condition``: the limit is ``value`` (an ``AccumBounds`` when it does
    not exist: the values keep oscillating within it). ``expr`` and ``scope`` are the
    function and the assumptions of this case (a parameter split by sign), for the checks."""

    condition: sp.Basic
    value: sp.Expr
    expr: sp.Expr
    scope: Scope
    oscillating: tuple[sp.Expr, ...] = ()  # sin(2ax), cos(x): what keeps the values moving
    checked: sp.Expr | None = None  # the value in this case's own symbols (y > 0 as a symbol)

    @property
    def claim(self) -> sp.Expr:
        """What the checks compare with ``expr`` far out."""
        return self.value if self.checked is None else self.checked

    @property
    def exists(self) -> bool:
        return not self.value.has(sp.AccumBounds)


@dataclass(frozen=True)
class LimitResult:
    """``lim_{var → point} expr = value``.

    ``facts`` are the sub-limits that justify it (e^{-x} → 0 …); ``branch`` is the
    condition of the piece in force far out, for piecewise functions. ``cases`` split the
    answer by the sign of a parameter when it depends on it (y > 0, y < 0, y = 0); then
    ``value`` is the Piecewise of the cases. A limit that does not exist is an answer:
    its case's value is the ``AccumBounds`` the values oscillate in.
    """

    point: sp.Expr
    written: str  # the direction as written in the problem file: "+oo" or "-oo"
    expr: sp.Expr
    value: sp.Expr
    facts: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    branch: sp.Basic | None = None
    cases: tuple[LimitCase, ...] = ()

    @property
    def exists(self) -> bool:
        return all(c.exists for c in self.cases) if self.cases else not self.value.has(sp.AccumBounds)

    @property
    def split(self) -> bool:
        """The answer depends on the parameters: shown case by case."""
        return len(shown_cases(self.cases)) > 1

    @property
    def oscillating(self) -> tuple[sp.Expr, ...]:
        return tuple(dict.fromkeys(o for c in self.cases for o in c.oscillating))

    @property
    def shown(self) -> list["LimitCase"]:
        """One case per condition, in order (y > 0, y < 0, y = 0)."""
        return shown_cases(self.cases)

    @property
    def parameters(self) -> list[sp.Symbol]:
        """The parameters the cases are split by."""
        found = set()
        for c in self.cases:
            found |= c.condition.free_symbols if c.condition is not sp.true else set()
        return sorted(found, key=lambda s: s.name)


def parse_direction(text: str) -> sp.Expr:
    try:
        return DIRECTIONS[str(text).strip()]
    except KeyError:
        raise BadInput(f"unknown limit point {text!r}: use \"+oo\" or \"-oo\"") from None


def _facts(expr: sp.Expr, var: sp.Symbol, point: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
    """Where each exponential, tanh or erf in ``expr`` goes: the reasons a teacher gives."""
    atoms = [a for a in expr.atoms(sp.exp, sp.tanh, sp.erf, sp.atan) if a.has(var)]
    facts = []
    for a in sorted(atoms, key=sp.default_sort_key):
        v = _raw_limit(a, var, point)
        if v is None or v.has(sp.AccumBounds):
            return ()
        facts.append((a, v))
    return tuple(facts)


MAX_SPLIT = 2  # parameters whose sign may be split into cases (3² cases at most)


def _raw_limit(expr: sp.Expr, var: sp.Symbol, point: sp.Expr) -> sp.Expr | None:
    """SymPy's limit, or None when it is not a plain answer (an error, an unevaluated
    Limit, nan, or a sign() of the parameters left inside)."""
    try:
        value = sp.limit(expr, var, point)
    except (NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    if value.has(sp.Limit) or value.has(sp.nan) or value.has(sp.zoo) or value.has(sp.sign):
        if value.has(sp.AccumBounds) and not value.has(sp.Limit):
            return sp.AccumBounds(-sp.oo, sp.oo)  # x sin x: oo*sign(AccumBounds(-1, 1))
        return None
    if value.has(sp.AccumBounds):
        return _bounds(value)
    return value


def _bounds(value: sp.Expr) -> sp.Expr:
    """a·⟨−2, 2⟩ with a > 0 as ⟨−2a, 2a⟩; anything else with bounds as ⟨−∞, ∞⟩."""
    if isinstance(value, sp.AccumBounds):
        return value
    if value.is_Mul:
        ab = [f for f in value.args if isinstance(f, sp.AccumBounds)]
        c = sp.Mul(*[f for f in value.args if not isinstance(f, sp.AccumBounds)])
        if len(ab) == 1 and not c.has(sp.AccumBounds):
            lo, hi = ab[0].min, ab[0].max
            if c.is_positive:
                return sp.AccumBounds(c * lo, c * hi)
            if c.is_negative:
                return sp.AccumBounds(c * hi, c * lo)
    if value.is_Add:
        ab = [t for t in value.args if t.has(sp.AccumBounds)]
        rest = sp.Add(*[t for t in value.args if not t.has(sp.AccumBounds)])
        if len(ab) == 1 and rest.is_finite:
            inner = _bounds(ab[0])
            return sp.AccumBounds(inner.min + rest, inner.max + rest)
    return sp.AccumBounds(-sp.oo, sp.oo)


def _oscillating(expr: sp.Expr, var: sp.Symbol, point: sp.Expr) -> tuple[sp.Expr, ...]:
    """The sines and cosines in ``expr`` whose argument goes to ±∞: they keep oscillating."""
    found = []
    for a in sorted(expr.atoms(sp.sin, sp.cos), key=sp.default_sort_key):
        if not a.has(var):
            continue
        inner = _raw_limit(a.args[0], var, point)
        if inner is not None and inner.is_infinite:
            found.append(a)
    return tuple(found)


def _restricted(domain: Domain, sign: int) -> Domain:
    """``domain`` intersected with the positive or the negative numbers."""
    if sign > 0:
        lower = sp.Integer(0) if domain.lower is None or domain.lower < 0 else domain.lower
        lower_open = True if lower == 0 and (domain.lower is None or domain.lower <= 0) else domain.lower_open
        return replace(domain, lower=lower, lower_open=lower_open)
    upper = sp.Integer(0) if domain.upper is None or domain.upper > 0 else domain.upper
    upper_open = True if upper == 0 and (domain.upper is None or domain.upper >= 0) else domain.upper_open
    return replace(domain, upper=upper, upper_open=upper_open)


def _sign_cases(params: list[sp.Symbol], scope: Scope):
    """Every combination of signs (+, −, 0) of ``params``: (condition, symbol map, scope)."""
    combos: list[tuple[list, dict, dict]] = [([], {}, dict(scope.domains))]
    for p in params:
        grown = []
        for conds, subs, domains in combos:
            dom = scope.domain_of(p)
            for sign in (1, -1, 0):
                if sign == 0:
                    if not dom.interval().contains(0) == sp.true:
                        continue
                    grown.append((conds + [(p, 0)], {**subs, p: sp.Integer(0)}, domains))
                else:
                    d = _restricted(dom, sign)
                    grown.append((conds + [(p, sign)], {**subs, p: d.symbol()},
                                  {**domains, p.name: d}))
        combos = grown
    for conds, subs, domains in combos:
        yield conds, subs, Scope(domains)


def _candidates(expr, var, point, open_params):
    """Which parameters to split, fewest first: those inside a sign() of SymPy's answer,
    then each one alone, then pairs."""
    from itertools import combinations

    try:
        value = sp.limit(expr, var, point)
        inside = sorted({p for s in value.atoms(sp.sign) for p in s.free_symbols if p in open_params},
                        key=lambda s: s.name)
    except Exception:  # noqa: BLE001 - gruntz's NotImplementedError and relatives: try them all
        inside = []
    tried = []
    for group in ([inside] if inside else []) + [[p] for p in open_params] + \
            [list(c) for c in combinations(open_params, 2)]:
        if group and group not in tried and len(group) <= MAX_SPLIT:
            tried.append(group)
            yield group


def _split(expr, var, point, scope, params):
    """The limit in each sign case of ``params``, or None when a case has no plain answer."""
    raw = []
    for conds, subs, case_scope in _sign_cases(params, scope):
        case_expr = expr.xreplace(subs)
        if case_expr.has(sp.zoo, sp.nan):
            continue  # e^{x/a} at a = 0: the function is not defined there, no case to give
        v = _raw_limit(case_expr, var, point)
        if v is None:
            return None
        back = {new: p for p, new in subs.items() if new != 0}
        signed = {new: (sp.Abs(p) if new.is_positive else -sp.Abs(p)) for p, new in subs.items() if new != 0}
        raw.append((conds, v, case_expr, case_scope, back, signed))
    return raw


def _merged_condition(signs: list[int], p: sp.Symbol, zero_defined: bool = True) -> sp.Basic:
    s = set(signs)
    if s == {1, -1, 0} or (s == {1, -1} and not zero_defined):
        return sp.true
    if s == {1, -1}:
        return sp.Ne(p, 0)
    if s == {1, 0}:
        return p >= 0
    if s == {-1, 0}:
        return p <= 0
    (only,) = s
    return {1: p > 0, -1: p < 0, 0: sp.Eq(p, 0)}[only]


def limit_cases(expr: sp.Expr, var: sp.Symbol, point: sp.Expr, scope: Scope,
                written: str) -> list[LimitCase]:
    """The limit of ``expr``, split by the signs of the parameters when it depends on them.

    SymPy is asked once with the assumptions in force; when its answer is not plain
    (gruntz cannot decide the sign of y, or oo·sign(x²) comes back), each parameter whose
    sign the assumptions leave open is taken positive, negative and zero, and the cases
    with the same limit are merged (x ≠ 0: +∞; x = 0: 0).
    """
    value = _raw_limit(expr, var, point)
    open_params = [p for p in sorted(expr.free_symbols - {var}, key=lambda s: s.name)
                   if scope.sign(p) is None]
    if value is not None and not (value.has(sp.AccumBounds) and open_params):
        return [LimitCase(sp.true, value, expr, scope, _oscillating(expr, var, point)
                          if value.has(sp.AccumBounds) else ())]
    if not open_params:
        arrow = "+∞" if point == sp.oo else "−∞"
        raise InternalLimit(f"find the limit of {sp.sstr(expr)} at {written}",
                            shown=f"the limit at {arrow} could not be found.")
    raw = None
    for chosen in _candidates(expr, var, point, open_params):
        raw = _split(expr, var, point, scope, chosen)
        if raw is not None:
            open_params = chosen
            break
    if raw is None:
        names = ", ".join(p.name for p in open_params)
        raise BadInput(f"the limit of {sp.sstr(expr)} at {written} depends on {names} in a "
                       f"way symderiv cannot split into cases: add an 'assume' entry (e.g. "
                       f"{open_params[0].name} = \"positive\")")
    # merge the cases of one parameter with the same limit (compared with |y| for y)
    cases: list[LimitCase] = []
    if len(open_params) == 1:
        (p,) = open_params
        groups: list[list] = []
        for item in raw:
            key = sp.simplify(item[1].xreplace(item[5])) if not item[1].has(sp.AccumBounds) else \
                sp.AccumBounds(*(sp.simplify(b.xreplace(item[5])) for b in (item[1].min, item[1].max)))
            for g in groups:
                if g[0] == key or (not key.has(sp.AccumBounds) and sp.simplify(g[0] - key) == 0):
                    g[1].append(item)
                    break
            else:
                groups.append([key, [item]])
        for key, items in groups:
            signs = [it[0][0][1] for it in items]
            cond = _merged_condition(signs, p, any(it[0][0][1] == 0 for it in raw))
            shown = items[0][1].xreplace(items[0][4]) if len(items) == 1 else key
            for it in items:
                osc = tuple(o.xreplace(it[4]) for o in _oscillating(it[2], var, point)) \
                    if it[1].has(sp.AccumBounds) else ()
                cases.append(LimitCase(cond, shown, it[2], it[3], osc, it[1]))
    else:
        for conds, v, case_expr, case_scope, back, _ in raw:
            cond = sp.And(*[{1: p > 0, -1: p < 0, 0: sp.Eq(p, 0)}[s] for p, s in conds])
            osc = tuple(o.xreplace(back) for o in _oscillating(case_expr, var, point)) \
                if v.has(sp.AccumBounds) else ()
            cases.append(LimitCase(cond, v.xreplace(back), case_expr, case_scope, osc, v))
    return cases


def shown_cases(cases) -> list[LimitCase]:
    """One case per condition (a merged condition is checked once per sign it covers)."""
    seen, out = [], []
    for c in cases:
        if c.condition not in seen:
            seen.append(c.condition)
            out.append(c)
    return out


def limit_at(expr: sp.Expr, var: sp.Symbol, written: str,
             branches: list[Branch] | None = None, scope: Scope | None = None) -> LimitResult:
    """The limit of ``expr`` at ``written`` (``"+oo"``/``"-oo"``), using the far branch if piecewise."""
    point = parse_direction(written)
    branch_cond = None
    target = expr
    if branches:
        far = branches[-1] if point == sp.oo else branches[0]
        target = far.expr
        branch_cond = far.condition(var)
    cases = limit_cases(target, var, point, scope or Scope(), written)
    shown = shown_cases(cases)
    if len(shown) == 1 and shown[0].condition == sp.true:
        value = shown[0].value
        cases = [replace(c, condition=sp.true) for c in cases]
    else:
        value = sp.Piecewise(*[(c.value, c.condition) for c in shown], evaluate=False)
    facts = _facts(target, var, point) if len(shown) == 1 else ()
    return LimitResult(point, written, target, value, facts, branch_cond, tuple(cases))
