"""The statement's notation: the names a key defines, which a student may use in an answer.

A student answers in the question's words: ``\\hat{y} - y`` for ∂L/∂ŷ when the statement gives
ŷ and y, ``2(z - y)x^T`` when it says z = Wx + b, ``w_4 (y_p - y)`` when it names y_p = a₄. Each
key publishes such names, and the reader substitutes them (only names the key's own answers do
not use, so a key written in terms of z keeps z):

* **the statement's definitions**: every ``$name = expression$`` of the statement (one name on
  the left, an expression the reader can read on the right, in the key's names or earlier
  definitions, not a bare number: "at $x = 0$" and "$\\eta = 0.1$" are settings), e.g.
  ``$\\boldsymbol{z} = \\mathbf{W}\\boldsymbol{x} + \\boldsymbol{b}$``, ``$a_1 = w_{11} x + b_{11}$``,
  ``$\\eta = 1/L$``;
* **a numeric network's values**: the input and target, and every forward quantity of the key
  (z₁, h₁, ŷ, the loss L), where they are numbers;
* **a computation graph's nodes** (a₁ … a₄, y_p), each in terms of the inputs.

The statement is the teacher's text, but it is read by the same reader as a student's answer
(never evaluated as code); a definition the reader cannot read is left out.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from .base import Unreadable
from .names import canonical_name
from .relations import split_relations

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_PIECES = re.compile(r",?\s*\\q?quad\s*|;\s*|,\s+(?=\\?[A-Za-z](?:[^=,]{0,30})=)|\\text\{\s*and\s*\}")


def statement_definitions(statement: str) -> list[tuple[str, str]]:
    """``(name, expression text)`` for each ``name = expression`` in the statement's math."""
    out = []
    for m in _MATH.finditer(statement or ""):
        math = next(g for g in m.groups() if g is not None)
        for piece in _PIECES.split(math):
            if not piece or "=" not in piece:
                continue
            try:
                members = split_relations(piece)
            except Unreadable:
                continue
            if len(members) != 2 or members[1].relation != "=":
                continue
            lhs, rhs = members[0].text, members[1].text
            if re.search(r"\((?![\d\[]*\))", re.sub(r"\^\s*\{\s*[(\[]\s*\d+\s*[)\]]\s*\}", "", lhs)):
                continue  # σ(a) = …, f(x) = …: a function, not a name
            name = canonical_name(lhs)
            if name is None or not rhs:
                continue
            out.append((name, rhs))
    return out


def network_values(problem, solution) -> dict[str, sp.Basic]:
    """A numeric network's input, target and forward values that are numbers."""
    spec = problem.spec
    if problem.kind != "mlp" or not getattr(spec, "numeric", False):
        return {}
    out: dict[str, sp.Basic] = {}
    for name, values in (("x", spec.x), ("y", spec.y)):
        if values is not None and len(values) == 1:
            out[name] = sp.nsimplify(values[0])
    for answer in solution.answers:
        m = re.fullmatch(r"forward\.(\w+)", answer.label)
        if not m:
            continue
        value = answer.value
        if isinstance(value, sp.MatrixBase):
            if value.shape != (1, 1):
                continue
            value = value[0, 0]
        if isinstance(value, sp.Expr) and value.is_number:
            out["L" if m.group(1) == "loss" else m.group(1)] = value
    return out


def graph_nodes(problem) -> list[tuple[str, str]]:
    if problem.kind != "graph":
        return []
    return [(name, text) for name, text in problem.spec.nodes]


def publish(problem, solution, read: Callable[[str], Any], taken: Callable[[str], bool],
            define: Callable[[str, Any], None]) -> dict[str, Any]:
    """Read every definition the key publishes; ``define(name, value)`` makes each one known
    to the reader before the next is read. ``taken(name)``: a name the key's answers use."""
    published: dict[str, Any] = {}

    def add(name: str, value) -> None:
        if taken(name) or name in published:
            return
        published[name] = value
        define(name, value)

    for name, value in network_values(problem, solution).items():
        add(name, value)
    nodes = graph_nodes(problem)
    for name, text in nodes + statement_definitions(problem.statement):
        if taken(name) or name in published:
            continue
        from_statement = (name, text) not in nodes
        try:
            value = read(text).value
        except (Unreadable, TypeError, ValueError, AttributeError, RecursionError,
                NotImplementedError, ArithmeticError, KeyError, IndexError):
            continue
        if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr):
            continue
        if not isinstance(value, (sp.Expr, MatrixExpr)) or isinstance(value, sp.MatrixBase):
            continue
        unknown = [s for s in value.free_symbols
                   if isinstance(s, sp.Symbol) and not taken(s.name) and s.name not in published]
        if unknown or (isinstance(value, sp.Symbol) and value.name == name):
            continue
        if from_statement and getattr(value, "is_number", False):
            # "at x = 0", "for η = 0.1", "the book prints x_1 = −0.0576": a setting or a
            # remark, not a name to read answers through (a network's numbers come from its key)
            continue
        add(name, value)
    return published
