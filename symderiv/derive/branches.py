"""Piecewise analysis: split a function of one variable into smooth branches on intervals.

``Max``, ``Min``, ``Heaviside`` and ``Piecewise`` are resolved the way a teacher does it:
find the breakpoints (where two arguments of a max are equal, where a condition's sides
meet), order them, and on each interval between them pick the active piece. The result is a
list of smooth branches with conditions on the variable alone, whatever the parameters,
which plain ``sympy.limit`` and ``sympy.diff`` on ``Max``/``Heaviside`` forms cannot give.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import combinations

import sympy as sp

from ..assume import Scope
from ..errors import BadInput, InternalLimit

KINKED = (sp.Max, sp.Min, sp.Heaviside, sp.Piecewise, sp.Abs, sp.sign)


@dataclass(frozen=True)
class Branch:
    """The function equals ``expr`` for ``lower < var < upper``."""

    expr: sp.Expr
    lower: sp.Expr  # -oo for none
    upper: sp.Expr  # +oo for none

    def condition(self, var: sp.Symbol, *, closed_upper: bool = False) -> sp.Basic:
        parts = []
        if self.lower != -sp.oo:
            parts.append(var > self.lower)
        if self.upper != sp.oo:
            parts.append(var <= self.upper if closed_upper else var < self.upper)
        return sp.And(*parts) if parts else sp.true

    def test_point(self) -> sp.Expr:
        if self.lower == -sp.oo and self.upper == sp.oo:
            return sp.Integer(0)
        if self.lower == -sp.oo:
            return self.upper - 1
        if self.upper == sp.oo:
            return self.lower + 1
        return (self.lower + self.upper) / 2


def is_piecewise(expr: sp.Basic) -> bool:
    return expr.has(*KINKED)


def _relational_sides(cond: sp.Basic):
    for rel in cond.atoms(sp.core.relational.Relational):
        yield rel.lhs - rel.rhs


def _equations(node: sp.Basic) -> list[sp.Expr]:
    """Expressions whose zeros are where the piece of ``node`` may change."""
    if isinstance(node, (sp.Max, sp.Min)):
        return [a - b for a, b in combinations(node.args, 2)]
    if isinstance(node, (sp.Heaviside, sp.Abs, sp.sign)):
        return [node.args[0]]
    if isinstance(node, sp.Piecewise):
        return [side for _, cond in node.args for side in _relational_sides(cond)]
    return []


def _roots(eq: sp.Expr, var: sp.Symbol, expr: sp.Expr) -> list[sp.Expr]:
    """The real points where ``eq`` = 0: a polynomial of degree at most 2 by its formula,
    anything else (α(e^{x/α} − 1) = 0 in CELU) by ``solveset`` over the reals when that
    gives finitely many points."""
    poly_ok = eq.is_polynomial(var) and sp.degree(eq, var) <= 2
    if poly_ok:
        return [sp.simplify(r) for r in sp.solve(eq, var) if r.is_real is not False and not r.has(sp.I)]
    try:
        found = sp.solveset(eq, var, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        found = None
    if isinstance(found, sp.FiniteSet) and len(found) <= 4 and all(
            r.is_real is not False and r.is_finite is not False and not r.has(sp.I) for r in found):
        return [sp.simplify(r) for r in found]
    raise InternalLimit(f"find where the pieces of {sp.sstr(expr)} meet: {sp.sstr(eq)} = 0 "
                        "has no finite set of solutions symderiv can find",
                        shown="the points where the pieces of the function meet could not be found.")


def decided_sign(expr: sp.Expr, scope: Scope, var: sp.Symbol | None = None) -> int | None:
    """The sign of ``expr`` from the assumptions, or else the sign it has at every one of a
    dozen sampled parameter values (a choice the derivative's finite-difference check, run
    on the original function, would refute if wrong); None when neither decides."""
    if expr.is_zero:
        return 0
    if expr.is_positive or expr.is_negative:
        return 1 if expr.is_positive else -1
    if not expr.free_symbols or expr.is_rational_function():
        # the assumptions system (slow on exponentials, where it rarely decides) for the rest
        return scope.sign(expr)
    import random

    import mpmath

    rng = random.Random(sp.srepr(expr))
    names = sorted(s.name for s in expr.free_symbols)
    seen = set()
    for _ in range(12):
        at = scope.sample(rng, names)
        try:
            with mpmath.workdps(30):
                v = mpmath.mpmathify(sp.lambdify(list(at), expr, modules="mpmath", docstring_limit=0)(
                    *[mpmath.mpf(int(q.p)) / int(q.q) for q in at.values()]))
        except (TypeError, ValueError, ZeroDivisionError, AttributeError):
            return None
        if mpmath.im(v) != 0 or not mpmath.isfinite(v) or abs(v) < mpmath.mpf(10) ** -20:
            return None
        seen.add(1 if v > 0 else -1)
    return seen.pop() if len(seen) == 1 else None


def _sorted_unique(points: list[sp.Expr], var: sp.Symbol, scope: Scope) -> list[sp.Expr]:
    unique: list[sp.Expr] = []
    for c in points:
        if not any(scope.sign(c - u) == 0 for u in unique):
            unique.append(c)

    def compare(p, q):
        s = scope.sign(p - q)
        if s is None:
            raise BadInput(f"cannot order the breakpoints {var} = {sp.sstr(p)} and "
                           f"{var} = {sp.sstr(q)} from the assumptions; add an 'assume' entry")
        return s

    return sorted(unique, key=functools.cmp_to_key(compare))


def breakpoints(expr: sp.Expr, var: sp.Symbol, scope: Scope) -> list[sp.Expr]:
    """The sorted, distinct points where a piece of ``expr`` may change.

    Innermost kinked nodes first; an outer node's equations are solved on each interval
    between the breakpoints found so far, with the inner nodes resolved there, and only
    roots inside that interval are kept.
    """
    nodes = [n for n in sp.postorder_traversal(expr) if isinstance(n, KINKED)]
    points: list[sp.Expr] = []
    for node in nodes:
        found: list[sp.Expr] = []
        edges = [-sp.oo, *points, sp.oo]
        for lo, hi in zip(edges, edges[1:]):
            probe = Branch(sp.S.Zero, lo, hi).test_point()
            for eq in _equations(node):
                if not eq.has(var):
                    continue
                smooth = _resolve_at(eq, var, probe, scope) if eq.has(*KINKED) else eq
                for root in _roots(smooth, var, expr):
                    inside = ((lo == -sp.oo or scope.sign(root - lo) == 1)
                              and (hi == sp.oo or scope.sign(hi - root) == 1))
                    if inside or not eq.has(*KINKED):
                        found.append(root)
        points = _sorted_unique(points + found, var, scope)
    return points


def _resolve_at(expr: sp.Expr, var: sp.Symbol, point: sp.Expr, scope: Scope) -> sp.Expr:
    """``expr`` with every kinked node replaced by the piece active around ``var = point``."""

    def holds(cond: sp.Basic) -> bool | None:
        value = cond.subs(var, point)
        if value in (sp.true, sp.false):
            return bool(value)
        if isinstance(value, sp.core.relational.Relational):
            s = scope.sign(value.lhs - value.rhs)
            if s is None:
                return None
            return bool({1: value.func(1, 0), -1: value.func(-1, 0), 0: value.func(0, 0)}[s])
        simplified = sp.simplify(value)
        if simplified in (sp.true, sp.false):
            return bool(simplified)
        return None

    def pick(node: sp.Basic) -> sp.Basic:
        if isinstance(node, (sp.Max, sp.Min)):
            best = node.args[0]
            for cand in node.args[1:]:
                s = decided_sign((cand - best).subs(var, point), scope)
                if s is None:
                    raise BadInput(f"cannot decide which argument of {sp.sstr(node)} is "
                                   f"larger near {var} = {sp.sstr(point)} from the assumptions")
                if (s > 0) if isinstance(node, sp.Max) else (s < 0):
                    best = cand
            return best
        if isinstance(node, sp.Heaviside):
            s = scope.sign(node.args[0].subs(var, point))
            if s is None:
                raise BadInput(f"cannot decide the sign of {sp.sstr(node.args[0])}")
            return sp.Integer(1 if s > 0 else 0)
        if isinstance(node, sp.sign):
            s = scope.sign(node.args[0].subs(var, point))
            if s is None:
                raise BadInput(f"cannot decide the sign of {sp.sstr(node.args[0])}")
            return sp.Integer(1 if s > 0 else -1)
        if isinstance(node, sp.Abs):
            s = scope.sign(node.args[0].subs(var, point))
            if s is None:
                raise BadInput(f"cannot decide the sign of {sp.sstr(node.args[0])}")
            return node.args[0] if s > 0 else -node.args[0]
        if isinstance(node, sp.Piecewise):
            for piece, cond in node.args:
                verdict = holds(cond)
                if verdict is None:
                    raise BadInput(f"cannot decide the condition {sp.sstr(cond)} near "
                                   f"{var} = {sp.sstr(point)} from the assumptions")
                if verdict:
                    return piece
            raise BadInput(f"no piece of {sp.sstr(node)} applies near {var} = {sp.sstr(point)}")
        return node

    # innermost first, so that the arguments of an outer max are already smooth
    previous = None
    while previous != expr and expr.has(*KINKED):
        previous = expr
        expr = expr.replace(lambda n: isinstance(n, KINKED) and not any(
            isinstance(a, KINKED) or a.has(*KINKED) for a in n.args), pick)
    return expr


def split_branches(expr: sp.Expr, var: sp.Symbol, scope: Scope) -> list[Branch]:
    """Smooth branches of ``expr`` over the real line, adjacent equal branches merged."""
    points = breakpoints(expr, var, scope)
    edges = [-sp.oo, *points, sp.oo]
    branches: list[Branch] = []
    for lo, hi in zip(edges, edges[1:]):
        probe = Branch(sp.S.Zero, lo, hi).test_point()
        piece = sp.simplify(_resolve_at(expr, var, probe, scope))
        if branches and sp.simplify(branches[-1].expr - piece) == 0:
            branches[-1] = Branch(branches[-1].expr, branches[-1].lower, hi)
        else:
            branches.append(Branch(piece, lo, hi))
    return branches


def as_piecewise(branches: list[Branch], var: sp.Symbol, closed: frozenset = frozenset()) -> sp.Expr:
    """A SymPy Piecewise of the branches; a breakpoint in ``closed`` is included on its left."""
    if len(branches) == 1:
        return branches[0].expr
    pieces = []
    for b in branches:
        pieces.append((b.expr, b.condition(var, closed_upper=b.upper in closed)))
    merged = sp.Piecewise(*pieces)
    # sgn′ is 0 on both sides of the jump: one piece per branch all the same, not "0 if x ≠ 0"
    return merged if len(merged.args) == len(pieces) else sp.Piecewise(*pieces, evaluate=False)


def kink_arguments(expr: sp.Expr) -> list[sp.Expr]:
    """Expressions whose sign switches the formula: u of |u|, a − b of max(a, b), …"""
    out = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.Heaviside, sp.sign)):
            out.append(node.args[0])
        elif isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            # max(0, u): the kink is at u = 0, written as u
            out.extend((b if a == 0 else a if b == 0 else a - b)
                       for i, a in enumerate(args) for b in args[i + 1:])
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    out.append(rel.lhs - rel.rhs)
    return out
