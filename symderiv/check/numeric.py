"""Numbers and sample points shared by the comparison and the feedback stages."""

from __future__ import annotations

import math
import random

import sympy as sp

from ..derive.branches import kink_arguments
from ..verify import mp_value

POINTS = 8
REL_TOL = 1e-9


def _num(expr) -> complex | None:
    try:
        value = mp_value(expr)
    except Exception:  # noqa: BLE001 - no finite value, whatever the reason (zoo, nan, …)
        return None
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return None
    return value


_BOUND = (sp.Derivative, sp.Subs, sp.Integral, sp.Sum, sp.Product)


def at_point(expr: sp.Basic, point: dict) -> sp.Basic:
    """``expr`` at ``point`` (symbols → numbers), all symbols at once (``xreplace``): ``subs``
    puts them in one at a time, and each partly numeric max(0, a₄) on the way compares its
    arguments symbolically (seconds for a skip-path graph's answer). Constructs that bind a
    variable (a derivative, a sum) go through ``subs``."""
    if isinstance(expr, sp.Basic) and not expr.has(*_BOUND):
        return expr.xreplace(point)
    return expr.subs(point)


def _close(a: complex, b: complex, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def sample_points(ctx, exprs: list[sp.Basic], rng: random.Random,
                  count: int = POINTS) -> list[dict]:
    """Random points of the domain, each away from every kink of ``exprs``.

    When the expressions have kinks (|u|, max, Heaviside, piecewise conditions), the points
    cover every region the kinks cut the sampled part of the domain into that random points
    reach: one point per region first (the sign pattern of the kinks' arguments), then the
    rest. Without that, a piecewise answer wrong on one branch only (the Huber loss's derivative
    with δ instead of −δ for x < y − δ) could be compared at points that all miss that branch.
    """
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    kinks = list(dict.fromkeys(k for e in exprs for k in kink_arguments(e)))
    if not kinks:
        return [{s: ctx.domain(s).sample(rng) for s in symbols} for _ in range(count)]
    candidates: list[tuple[tuple, dict]] = []
    for _ in range(count * 8):
        at = {s: ctx.domain(s).sample(rng) for s in symbols}
        values = [_num(at_point(k, at)) for k in kinks]
        if all(v is None or abs(v) > 1e-6 for v in values):
            signs = tuple(None if v is None else v.real > 0 for v in values)
            candidates.append((signs, at))
    seen: set = set()
    first, rest = [], []
    for signs, at in candidates:
        (rest if signs in seen else first).append(at)
        seen.add(signs)
    wanted = max(count, min(len(first), 2 * count))
    return (first + rest)[:wanted]
