"""Grading a chain of relations: which member is the answer, and are the others right too.

When the key's answer is not itself an equation, a student's ``A = B = C`` (or ``A \\approx C``,
``A \\to C``) is graded by its last member ``C``. The others are checked as a teacher would:

* a member that names a quantity (:mod:`.names`: ``\\frac{\\partial L}{\\partial W^{(1)}}``,
  ``\\hat y``, ``\\lim_{x \\to -\\infty} …``) must name the labelled one; naming another of the
  key's quantities is feedback, and makes the answer incorrect when that quantity's value is
  not the value given (the student answered another part);
* a member that can be evaluated (every name in it is the key's or defined by the statement's
  notation) must be equal to the key's answer: a wrong middle step is incorrect, and named;
* anything else (``f(x; \\theta)``, a limit written out, a name the key does not know) is
  passed over.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr

from ..errors import BadInput
from .base import Math, Outcome, Read, Unreadable
from .names import conflict, of_label, recognise, words
from .relations import BOUNDS, Member, split_relations



def grade_chain(ctx, label: str, expected, text: str, judge: Callable[[str], Any],
                read: Callable[[str], Read], outcome_type) -> Any:
    """``judge(member)`` grades one member in the key's shape; ``read(member)`` reads it."""
    bound = isinstance(expected, sp.Expr) and not isinstance(expected, MatrixExpr)
    members = split_relations(text, bounds=bound)
    # A = B ⇒ C = D: what precedes the last ⇒ is a premise (a definition, the line before),
    # not a member equal to the answer; the chain graded is the one after it
    implied = [k for k, m in enumerate(members) if k > 0 and m.relation == r"\Rightarrow"]
    if implied:
        members = [Member(members[implied[-1]].text, "")] + members[implied[-1] + 1:]
    members = _bind_function_name(ctx, label, members)
    named = _only_a_name(ctx, members[-1].text, label)
    if named is not None:  # 1.33 = \hat{y}: the value first, the name last
        values = [k for k, m in enumerate(members) if m.text and recognise(m.text) is None]
        if values:
            members = members[: values[-1] + 1]
            named = None
    if named is not None:
        from .names import pretty

        return Outcome("incorrect", None, (f"this only names {pretty(named)}; the question asks "
                                           "for its value",))
    if len(members) == 1:
        return judge(members[0].text)
    last_bound = max((i for i, m in enumerate(members) if m.relation in BOUNDS), default=-1)
    if last_bound > 0:  # … ≤ bound: what precedes the last ≤ is not equal to the answer
        members = [Member("", "")] + members[last_bound:]
    final = judge(members[-1].text)
    if final.verdict == "unparseable":
        return final
    key_quantity = of_label(label, ctx.problem)
    notes: list = []
    for k, member in enumerate(members[:-1]):
        said = recognise(member.text) if k == 0 or member.relation == "=" else None
        if said is not None and (k == 0 or said[0] != "value"):
            verdict = _check_name(ctx, label, expected, said, key_quantity, final, judge)
            if verdict is not None:
                if verdict.verdict == "incorrect":
                    return verdict
                notes.extend(verdict.feedback)
            continue
        if not member.text:
            continue
        try:
            got = read(member.text)
        except Unreadable:
            continue
        if not _evaluable(got.value, expected):
            continue
        step = judge(member.text)
        if step.verdict == "incorrect" and final.verdict == "correct":
            where = "the left-hand side" if k == 0 else "a middle step"
            if getattr(got.value, "is_number", False) and got.display != got.value:
                detail = (" is ", Math(got.value), ", not ", Math(expected))
            else:
                detail = (" is not equal to it" + _reason(step),)
            return outcome_type("incorrect", final.got, (
                f"the last value is right, but {where} is not: ", Math(got.display)) + detail,
                final.method)
    if notes and final.verdict == "correct":
        joined = tuple(final.feedback) + (("; ",) if final.feedback else ()) + tuple(notes)
        return outcome_type(final.verdict, final.got, joined, final.method)
    return final


def _only_a_name(ctx, text: str, label: str | None = None) -> str | None:
    """``\\hat{y}`` alone for ŷ: a name the statement gives a value, not the value itself."""
    quantity = recognise(text)
    if quantity is None or quantity[0] != "value":
        return None
    name = quantity[1]
    if getattr(ctx, "expansions", None):
        # a symbolic network: a name is a value (z₃ for ŷ when g is the identity), and
        # only the labelled quantity's own name says nothing
        key = of_label(label, ctx.problem) if label else None
        return name if key is not None and renamed(ctx, quantity) == key else None
    notation = getattr(ctx, "notation", {}) or {}
    if name in notation or name.replace("_", "") in notation:
        if label and _defined_as(ctx, label, name):
            return None  # y_p = a_4 in the statement: a₄ is y_p's value there
        return name
    return None


def _defined_as(ctx, label: str, name: str) -> bool:
    """Is the labelled node of a computation graph defined as exactly this other name
    (``yp = "a4"``)?"""
    import re

    problem = getattr(ctx, "problem", None)
    m = re.fullmatch(r"forward\.(\w+)", label)
    if m is None or getattr(problem, "kind", None) != "graph":
        return False
    nodes = dict(getattr(problem.spec, "nodes", ()) or ())
    text = str(nodes.get(m.group(1), "")).strip()
    return text.replace("_", "") == name.replace("_", "") and text.replace("_", "") != m.group(1)


def _reason(step) -> str:
    from .report import feedback_text

    text = feedback_text(step.feedback)
    return f" ({text})" if text and len(text) < 120 else ""


def renamed(ctx, quantity):
    """A quantity in the key's plain names: with the DS-GA numbering the statement's z₂ is the
    key's h1 and ∂ℓ/∂z₃ its ∂L/∂z2; CS189's a₂ is h1 (``ctx.renames``)."""
    table = getattr(ctx, "renames", None) or {}
    if not table or quantity is None:
        return quantity

    def plain(name):
        if name is None:
            return None
        return table.get(name, table.get(name.replace("_", ""), name))

    if quantity[0] == "value":
        return ("value", plain(quantity[1]))
    if quantity[0] == "d":
        return ("d", quantity[1], plain(quantity[2]))
    if quantity[0] == "lim":
        return ("lim", quantity[1], renamed(ctx, quantity[2]))
    return quantity


_OWN_PRIME = re.compile(r"^\s*(?:([A-Za-z])\s*(?:'+|\^\s*\{?\s*\\prime\s*\}?)\s*\(|"
                        r"\\frac\s*\{\s*(?:d|\\partial)\s*([A-Za-z])\s*\}|"
                        r"\\frac\s*\{\s*(?:d|\\partial)\s*\}\s*\{[^{}]*\}\s*([A-Za-z])\s*\()")


def _bind_function_name(ctx, label: str, members: list) -> list:
    """f′(x) = f(x)(1 − f(x)): a student who names the function of the question f on the
    left-hand side means it by f(x) on the right. When the left-hand side is the derivative of
    a one-letter function the key does not name, and the part is about a registry function
    the reader knows by its own name (σ, tanh), that name stands for f in the other members."""
    if len(members) < 2 or ctx.problem.kind != "derivative":
        return members
    m = _OWN_PRIME.match(members[0].text)
    if m is None:
        return members
    name = next(g for g in m.groups() if g)
    vocab = ctx.reader.vocab
    if vocab.known(name):
        return members
    head = _function_head(ctx, label.rsplit(".", 1)[0])
    if head is None:
        return members
    own = re.compile(r"(?<![A-Za-z\\])%s(?=\s*(?:\(|\\left\s*\())" % name)
    return [members[0]] + [Member(own.sub(lambda _: head + " ", mem.text), mem.relation)
                           for mem in members[1:]]


def _function_head(ctx, part: str) -> str | None:
    """The LaTeX name under which the reader knows the function of a derivative part (σ for
    the registry's sigmoid, the file's ``latex`` for an inline one), when reading it applied
    to the variable gives that very function (compared at three points); else None."""
    import random

    from ..derive.derivative import _build_inline
    from ..library import registry
    from .numeric import _close, _num, at_point

    spec = ctx.problem.spec
    fs = next((f for f in getattr(spec, "functions", ()) if f.name == part), None)
    if fs is None:
        return None
    var = ctx.scope.symbol(spec.var)
    entry = registry().get(fs.entry) if fs.entry else None
    try:
        if entry is not None:
            if entry.arity != 1 or entry.vector:
                return None
            head = entry.latex
            definition = entry.build(var, {p: ctx.scope.symbol(p) for p in entry.params})
        else:
            head = fs.latex
            definition = _build_inline(fs, ctx.scope, var)
        if not head:
            return None
        shown = ctx.reader.expr(head + "(" + spec.var + ")", latex=True).value
    except (Unreadable, BadInput):
        return None
    if not isinstance(shown, sp.Expr) or shown.free_symbols != definition.free_symbols:
        return None
    rng = random.Random(f"head/{part}")
    for _ in range(3):
        point = {s: ctx.domain(s).sample(rng) for s in definition.free_symbols}
        a, b = _num(at_point(definition, point)), _num(at_point(shown, point))
        if a is None or b is None or not _close(a, b, 1e-12):
            return None
    return head


def _check_name(ctx, label, expected, said, key_quantity, final, judge):
    """None when the name is fine (or not the key's); else an outcome or a note."""
    if key_quantity is None:
        return None
    said = renamed(ctx, said)
    same_kind = said[0] == key_quantity[0]
    if same_kind and not conflict(said, key_quantity):
        return None
    if not same_kind and said[0] == "d" and key_quantity[0] == "lim":
        return None  # σ'(x) = … → 0: the derivative, then its limit
    other = _label_named(ctx, said, label)
    if other is None:
        if not same_kind:
            return None
        return _note(final, f"the left-hand side names {words(said)}, but the question asks "
                            f"for {words(key_quantity)}")
    other_value = ctx.answers[other]
    same = _same_value(ctx, other, other_value, expected)
    if same:
        return _note(final, f"the left-hand side names {words(said)}; the question asks for "
                            f"{words(key_quantity)} (the two are equal here)")
    return Outcome("incorrect", final.got, (
        f"this answers another part: the left-hand side is {words(said)}, but the question "
        f"asks for {words(key_quantity)}",), final.method)


def _note(final, text):
    return Outcome("correct", final.got, (text,), final.method)


def _label_named(ctx, said, label) -> str | None:
    for other in ctx.answers:
        if other == label:
            continue
        q = of_label(other, ctx.problem)
        if q is not None and q[0] == said[0] and not conflict(said, q) and not conflict(q, said):
            if said[0] == "d" and said[1] is None and q[1] is not None:
                continue  # f'(x) names no particular function
            return other
    return None


def _same_value(ctx, other, a, b) -> bool:
    try:
        if isinstance(a, sp.MatrixBase) and a.shape == (1, 1):
            a = a[0, 0]
        if isinstance(b, sp.MatrixBase) and b.shape == (1, 1):
            b = b[0, 0]
        if isinstance(a, sp.Basic) and isinstance(b, sp.Basic):
            diff = sp.simplify(a - b)
            return diff == 0 or (hasattr(diff, "is_zero_matrix") and bool(diff.is_zero_matrix))
    except (TypeError, ValueError, AttributeError):
        return False
    return a == b


def _evaluable(value, expected) -> bool:
    """Does ``value`` use only names the key's answer uses (after the notation)?"""
    if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr):
        return False
    if not isinstance(value, sp.Basic):
        return False
    allowed = set(getattr(expected, "free_symbols", set()))
    if isinstance(expected, (MatrixExpr,)):
        allowed |= expected.atoms(sp.MatrixSymbol)
    used = set(value.free_symbols)
    if isinstance(value, MatrixExpr):
        used |= value.atoms(sp.MatrixSymbol)
    if value.atoms(AppliedUndef) - (expected.atoms(AppliedUndef) if isinstance(expected, sp.Basic)
                                    else set()):
        return False
    return used <= allowed


def last_after(text: str, relation: str) -> str:
    """The text after the last top-level ``relation`` (``\\Rightarrow``), or all of it."""
    members: list[Member] = split_relations(text)
    cut = [i for i, m in enumerate(members) if m.relation == relation]
    if not cut:
        return text
    from .normalise import looks_latex

    rest = members[cut[-1]:]
    joined = rest[0].text + "".join(f" {m.relation} {m.text}" for m in rest[1:])
    return joined if looks_latex(text) or not joined else joined
