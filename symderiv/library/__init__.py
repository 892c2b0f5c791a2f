"""Registries of what SymPy expressions encode: activations and losses.

Each entry is data: a builder that returns the SymPy expression, the LaTeX name, the
parameters with their default assumptions. The teacher's form of every derivative is
*derived* by :mod:`symderiv.derive.teacher`, never stored here, so a user's own function
gets the same treatment as a registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import sympy as sp


@dataclass(frozen=True)
class Entry:
    """One registry entry.

    Attributes:
        name: registry key, as written in problem files.
        latex: LaTeX name of the function, e.g. ``\\sigma``.
        title: human name, e.g. ``Sigmoid``.
        build: ``build(args, params) -> Expr``; ``args`` are the SymPy arguments and
            ``params`` maps parameter names to their symbols.
        params: parameter name → default assumption (``"0 < a < 1"``).
        vector: True when the entry maps a vector to a vector (softmax).
        arity: number of arguments (1 for activations, 2 for losses ŷ, y).
        display: ``display(args, params) -> Expr``, the definition as a teacher writes it
            (display heads and stand-ins from :mod:`.display`), checked against ``build``;
            for a vector entry ``display(x, i, k, n)`` gives component ``i`` with ``x`` an
            indexed base and ``k`` the summation index. None: ``build`` is shown.
        symbol: LaTeX head when the function is applied, e.g. ``\\ell`` for a loss whose
            ``latex`` is a formula; default ``latex``.
    """

    name: str
    latex: str
    title: str
    build: Callable[..., sp.Basic]
    params: Mapping[str, str] = field(default_factory=dict)
    vector: bool = False
    arity: int = 1
    display: Callable[..., sp.Basic] | None = None
    symbol: str = ""


def registry() -> dict[str, Entry]:
    """Every entry, activations first, keyed by name."""
    from .activations import ACTIVATIONS
    from .losses import LOSSES

    return {**ACTIVATIONS, **LOSSES}
