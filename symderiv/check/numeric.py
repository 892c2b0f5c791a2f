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


def _close(a: complex, b: complex, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def sample_points(ctx, exprs: list[sp.Basic], rng: random.Random,
                  count: int = POINTS) -> list[dict]:
    """Random points of the domain, each away from every kink of ``exprs``."""
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    kinks = [k for e in exprs for k in kink_arguments(e)]
    points: list[dict] = []
    for _ in range(count * 8):
        if len(points) >= count:
            break
        at = {s: ctx.domain(s).sample(rng) for s in symbols}
        if all((v := _num(k.subs(at))) is None or abs(v) > 1e-6 for k in kinks):
            points.append(at)
    return points


