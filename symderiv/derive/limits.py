"""Limits at ±∞, branch by branch, with the step that justifies each."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import BadInput, InternalLimit
from .branches import Branch

DIRECTIONS = {"+oo": sp.oo, "oo": sp.oo, "+inf": sp.oo, "inf": sp.oo,
              "-oo": -sp.oo, "-inf": -sp.oo}


@dataclass(frozen=True)
class LimitResult:
    """``lim_{var → point} expr = value``.

    ``facts`` are the sub-limits that justify it (e^{-x} → 0 …); ``branch`` is the
    condition of the piece in force far out, for piecewise functions.
    """

    point: sp.Expr
    written: str  # the direction as written in the problem file: "+oo" or "-oo"
    expr: sp.Expr
    value: sp.Expr
    facts: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    branch: sp.Basic | None = None


def parse_direction(text: str) -> sp.Expr:
    try:
        return DIRECTIONS[str(text).strip()]
    except KeyError:
        raise BadInput(f"unknown limit point {text!r}: use \"+oo\" or \"-oo\"") from None


def _facts(expr: sp.Expr, var: sp.Symbol, point: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
    """Where each exponential, tanh or erf in ``expr`` goes: the reasons a teacher gives."""
    atoms = [a for a in expr.atoms(sp.exp, sp.tanh, sp.erf) if a.has(var)]
    return tuple((a, sp.limit(a, var, point)) for a in sorted(atoms, key=sp.default_sort_key))


def limit_at(expr: sp.Expr, var: sp.Symbol, written: str,
             branches: list[Branch] | None = None) -> LimitResult:
    """The limit of ``expr`` at ``written`` (``"+oo"``/``"-oo"``), using the far branch if piecewise."""
    point = parse_direction(written)
    branch_cond = None
    target = expr
    if branches:
        far = branches[-1] if point == sp.oo else branches[0]
        target = far.expr
        branch_cond = far.condition(var)
    value = sp.limit(target, var, point)
    if value.has(sp.Limit) or value is sp.nan or isinstance(value, sp.AccumBounds):
        arrow = "+∞" if point == sp.oo else "−∞"
        raise InternalLimit(f"find the limit of {sp.sstr(target)} at {written}, which may not "
                            "exist", shown=f"the limit at {arrow} could not be found; it may "
                            "not exist.")
    return LimitResult(point, written, target, value, _facts(target, var, point), branch_cond)
