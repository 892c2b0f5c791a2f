"""What every stage of the reader shares: a read expression and the error for unreadable text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp


class Unreadable(Exception):
    """The answer cannot be read; the message says why, in words a student understands."""


@dataclass(frozen=True)
class Read:
    """A student's expression: the value to compare and the form to show back."""

    value: sp.Basic
    display: sp.Basic
    decimals: int = 0


@dataclass(frozen=True)
class Math:
    """A mathematical part of a feedback sentence."""

    value: Any
