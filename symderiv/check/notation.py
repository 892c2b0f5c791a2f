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
* **a computation graph's nodes** (a₁ … a₄, y_p), each in terms of the inputs;
* **a symbolic network's names** in the question's notation (a₂ for h₁ when aᵢ is the input
  of layer i).

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


def network_names(problem, symbols: dict) -> dict[str, sp.Basic]:
    """A symbolic network's names in the question's notation: with ``post = "a"`` and
    ``index = "input"`` (CS189), a₁ is the input x and a₂ the first hidden output h₁; with
    ``post = "a"`` by layer, aₖ is hₖ; ``pre = "u"`` makes uₖ the key's zₖ."""
    spec = problem.spec
    if problem.kind != "mlp" or getattr(spec, "numeric", True):
        return {}
    notation = getattr(spec, "notation", None)
    post = re.sub(r"[\\{}\s]|mathbf|boldsymbol", "", getattr(notation, "post", "h") or "h")
    pre = re.sub(r"[\\{}\s]|mathbf|boldsymbol", "", getattr(notation, "pre", "z") or "z")
    by_input = getattr(notation, "index", "layer") == "input"
    out: dict[str, sp.Basic] = {}
    depth = len(spec.layers) - 1
    for k in range(1, depth + 1):
        if f"h{k}" in symbols and post.isalpha() and post != "h":
            out[f"{post}{k + 1 if by_input else k}"] = symbols[f"h{k}"]
        if f"z{k}" in symbols and pre.isalpha() and pre != "z":
            out[f"{pre}{k}"] = symbols[f"z{k}"]
    if by_input and post.isalpha() and "x" in symbols:
        out[f"{post}1"] = symbols["x"]
    return out


def graph_nodes(problem) -> list[tuple[str, str]]:
    if problem.kind != "graph":
        return []
    return [(name, text) for name, text in problem.spec.nodes]


def same_function(problem, earlier) -> list:
    """The parts before ``problem`` in its file that pose the same function with the same
    shapes and definitions ("for the same loss, compute ∂J/∂U"): the names their statements
    define (ŷ = softmax(Uᵀv_c)) mean the same here."""
    fields = getattr(problem, "fields", None) or {}
    if not fields.get("f"):
        return []
    same = ("f", "shapes", "where", "given")
    return [e for e in earlier if e is not problem and e.kind == problem.kind
            and all((getattr(e, "fields", None) or {}).get(k) == fields.get(k) for k in same)]


def publish(problem, solution, read: Callable[[str], Any], taken: Callable[[str], bool],
            define: Callable[[str, Any], None], symbols: dict | None = None,
            earlier: tuple = ()) -> dict[str, Any]:
    """Read every definition the key publishes; ``define(name, value)`` makes each one known
    to the reader before the next is read. ``taken(name)``: a name the key's answers use.
    ``earlier``: the parts before this one in the file; the statements of those that pose
    the same function (:func:`same_function`) define names here too, after this part's own."""
    published: dict[str, Any] = {}

    def add(name: str, value) -> None:
        if taken(name) or name in published:
            return
        published[name] = value
        define(name, value)

    for name, value in network_values(problem, solution).items():
        add(name, value)
    for name, value in network_names(problem, symbols or {}).items():
        add(name, value)
    nodes = graph_nodes(problem)
    inherited = [d for e in same_function(problem, earlier)
                 for d in statement_definitions(e.statement)]
    for name, text in nodes + statement_definitions(problem.statement) + inherited:
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
