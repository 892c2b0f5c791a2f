"""Stage 2 of reading an answer: split a chain of relations into its members.

Students write the quantity, the working and the value on one line:
``\\frac{\\partial L}{\\partial \\hat{y}} = \\hat{y} - y = 1``, ``\\hat{y} \\approx 1.33``,
``\\lim_{x \\to +\\infty} \\sigma'(x) = 0``, ``\\to 0``. :func:`split_relations` splits the
(normalised) text at ``=``, ``\\approx``, ``\\to`` and ``\\Rightarrow`` outside every bracket
(so the ``\\to`` of ``\\lim_{x \\to \\infty}`` stays where it is; ``<=``, ``>=``, ``!=`` and ``==``
are not split). Which member is graded, and how the others are checked, is :mod:`.chain`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import Unreadable
from .normalise import UNITS, looks_latex, normalise, split_top

MAX_MEMBERS = 12  # each member may be compared: a chain is short or it is not an answer
SEPARATORS = ("==", ":=", "=", r"\approx", r"\to", r"\Rightarrow", "->", "=>", "≈", "→", "⇒")


@dataclass(frozen=True)
class Member:
    text: str
    relation: str  # the relation before this member ("" for the first): "=", "\approx", …


def _accept(text: str, i: int, sep: str) -> bool:
    if sep == "=":
        before = text[i - 1: i]
        return before not in {"<", ">", "!", "="} and text[i + 1: i + 2] not in {"=", ">"}
    return True


def prepare(text: str) -> str:
    """Normalised LaTeX, or plain text stripped of trailing punctuation and a unit word."""
    if looks_latex(text):
        return normalise(text)
    return UNITS.sub("", re.sub(r"[.,;]\s*$", "", text.strip()).strip()).strip()


BOUNDS = (r"\le", "<=", "≤")


def split_relations(text: str, bounds: bool = False) -> list[Member]:
    """The members of a chain; an empty first member (``\\approx 1.33``) is left out.

    ``bounds``: also split at ``\\le`` (an upper bound: ``\\min_k \\|…\\|^2 \\le \\frac{2L(…)}{T}``)."""
    body = prepare(text)
    pieces = split_top(body, SEPARATORS + (BOUNDS if bounds else ()), _accept)
    if len(pieces) > MAX_MEMBERS:
        raise Unreadable(f"too many relations in one answer (more than {MAX_MEMBERS - 1})")
    members = [Member(piece.strip(), _canonical(sep)) for piece, sep in pieces]
    if len(members) > 1 and not members[0].text:
        members = members[1:]
    return members


def _canonical(sep: str) -> str:
    return {"==": "=", ":=": "=", "->": r"\to", "=>": r"\Rightarrow", "≈": r"\approx",
            "→": r"\to", "⇒": r"\Rightarrow"}.get(sep, sep)


SHAPE_RELATIONS = (r"\in", "∈", "=", ":", r"\colon")


def shape_member(text: str) -> str:
    r"""The shape in ``\nabla_{\boldsymbol{x}} f \in \mathbb{R}^{n \times 1}``,
    ``\text{shape} = (n, 1)``, ``shape: n x 1``: what follows the last top-level ``\in``, ``=``
    or ``:`` (the left-hand side names the gradient); the text itself when there is none."""
    body = prepare(text)
    pieces = split_top(body, SHAPE_RELATIONS)
    shape = pieces[-1][0].strip() if len(pieces) > 1 and pieces[-1][0].strip() else body
    # \mathbb{R}^n, ℝⁿ: a vector of n entries, a column (n × 1)
    vector = re.fullmatch(r"(?:\\mathbb\s*\{?\s*R\s*\}?|ℝ)\s*\^\s*(?:\{\s*([A-Za-z0-9]+)\s*\}|([A-Za-z0-9]))",
                          shape)
    if vector:
        return f"{vector.group(1) or vector.group(2)} x 1"
    return shape if len(pieces) > 1 else text
