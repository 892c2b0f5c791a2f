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
    """A mathematical part of a feedback sentence. ``names`` (pairs) says how the statement
    writes the key's names in plain text (b2 → b⁽²⁾, h1 → z₂): the console and the JSON print
    them; the PDF typesets ``value`` (names.statement_words, report.plain)."""

    value: Any
    names: tuple = ()


Feedback = tuple[Any, ...]  # str | Math parts


@dataclass(frozen=True)
class Outcome:
    """A verdict, the answer as read (display form) and the feedback."""

    verdict: str
    got: Any = None  # the student's answer as read (display form)
    feedback: Feedback = ()
    method: str = ""
