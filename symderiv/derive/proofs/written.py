"""Proofs written in the problem file: a claim, named hypotheses and a chain of steps, each
checked by :mod:`.chain` (SymPy under the hypotheses, and at random points that satisfy them).

The file gives ``claim`` (a relation), ``given`` (name → relation), ``sequences`` (name →
real/nonnegative/positive: f(k), G(k)), ``notation`` (name → LaTeX; a sequence's LaTeX has ``?``
where the index goes) and ``steps``, a list of tables ``{ line, by, name, from }``. A step that
does not follow stops the part (it is "not solved", with the step, both sides and a
counterexample where one was found); nothing that failed is ever printed as proved.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ...assume import parse_assumption, Scope
from ...errors import BadInput, VerificationFailed
from ...spec import Fields, Problem
from ...texsafe import check_latex_fragment, escape
from ...verify import symbolic_zero
from ..steps import Answer, Solution
from . import chain

FIELDS = {"claim", "given", "steps", "sequences", "notation"}
STEP_FIELDS = {"line", "by", "name", "from"}


@dataclass(frozen=True)
class WrittenSpec:
    claim: str
    given: tuple[tuple[str, str], ...]
    steps: tuple[tuple[str, str | None, str, str], ...]   # line, by, name, from
    sequences: tuple[tuple[str, str], ...]
    notation: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ShownStep:
    number: int
    text: str        # LaTeX of the line as written: "= …", "\Leftrightarrow a \le b", "a \le b"
    why: str         # the justification in words
    status: str      # proved, tested, cited, start
    detail: str = ""


@dataclass(frozen=True)
class WrittenSolution:
    written: bool
    claim: str                      # LaTeX
    given: tuple[tuple[str, str], ...]
    steps: tuple[ShownStep, ...]
    verified: bool
    conclusion: str                 # why the last line is the claim


def _context(problem: Problem, spec: WrittenSpec) -> chain.Context:
    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    seqs = dict(spec.sequences)
    notation = dict(spec.notation)
    ctx = chain.Context(scope, seqs, {}, {n: v for n, v in notation.items() if n not in seqs},
                        {n: v for n, v in notation.items() if n in seqs})
    for name, text in spec.given:
        ctx.given[name] = _relation(ctx, text)
    return ctx


def context(problem: Problem) -> chain.Context:
    """The symbols, sequences, notation and hypotheses of a written proof: what a student's
    chain for the same question is read and checked with (``chain.check_chain(context=…)``)."""
    return _context(problem, problem.spec)


def _relation(ctx: chain.Context, text: str) -> chain.Relation:
    lhs, op, rhs = chain.split_relation(text)
    if op not in chain.RELATIONS or lhs is None:
        raise BadInput(f"expected a relation such as 'a <= b', got {text!r}")
    return chain.Relation(ctx.parse(lhs), op, ctx.parse(rhs))


def parse(problem: Problem) -> WrittenSpec:
    f = Fields(problem, FIELDS)
    claim = f.get("claim", str, required=True)
    given = f.get("given", dict, {}, what="a table of name = \"relation\"")
    for name, text in given.items():
        if not isinstance(text, str):
            raise f.error(f"given.{name}", "expected a relation as a string")
    sequences = f.get("sequences", dict, {}, what="a table of name = \"real\"/\"nonnegative\"/\"positive\"")
    for name, kind in sequences.items():
        if kind not in chain.SEQUENCE_KINDS:
            raise f.error(f"sequences.{name}", f"use one of {', '.join(chain.SEQUENCE_KINDS)}")
        if not name.isidentifier() or name.startswith("_"):
            raise f.error(f"sequences.{name}", "a sequence's name is a plain name such as f or G")
    notation = f.get("notation", dict, {}, what="a table of name = \"LaTeX\"")
    for name, value in notation.items():
        if not isinstance(value, str) or not value.strip():
            raise f.error(f"notation.{name}", "expected a LaTeX string")
        try:
            check_latex_fragment(value.replace("?", "k"), inline=True)
        except BadInput as exc:
            raise f.error(f"notation.{name}", exc.message) from None
    raw = f.get("steps", list, required=True, what="a list of tables { line, by }")
    if not raw:
        raise f.error("steps", "a proof needs at least one step")
    steps = []
    for i, item in enumerate(raw, start=1):
        where = f"steps[{i}]"
        if not isinstance(item, dict):
            raise f.error(where, "each step is a table { line = \"…\", by = \"…\" }")
        unknown = sorted(set(item) - STEP_FIELDS)
        if unknown:
            raise f.error(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(STEP_FIELDS))})")
        for key in STEP_FIELDS:
            if key in item and not isinstance(item[key], str):
                raise f.error(f"{where}.{key}", "expected a string")
        if "line" not in item:
            raise f.error(f"{where}.line", "required field is missing")
        steps.append((item["line"], item.get("by"), item.get("name", ""), item.get("from", "")))
    spec = WrittenSpec(claim, tuple(given.items()), tuple(steps), tuple(sequences.items()),
                       tuple(notation.items()))
    # read everything now, so that a typo is one line (exit 2) before anything is solved
    try:
        ctx = _context(problem, spec)
    except BadInput as exc:
        bad = next((n for n, t in spec.given if _reads(problem, spec, t) is not None), None)
        raise f.error(f"given.{bad}" if bad else "given", exc.message) from None
    try:
        _relation(ctx, claim)
    except BadInput as exc:
        raise f.error("claim", exc.message) from None
    _parsed_steps(problem, spec, ctx)
    return spec


def _reads(problem, spec, text):
    try:
        ctx = _context(problem, WrittenSpec(spec.claim, (), (), spec.sequences, spec.notation))
        _relation(ctx, text)
        return None
    except BadInput as exc:
        return exc


def _parsed_steps(problem: Problem, spec: WrittenSpec, ctx: chain.Context) -> list[chain.Step]:
    out = []
    names = set(ctx.given)
    for i, (line, by, name, source) in enumerate(spec.steps, start=1):
        field = f"steps[{i}]"
        if by is not None:
            try:
                chain.parse_justification(by)
            except BadInput as exc:
                raise problem.error(f"{field}.by", exc.message) from None
        try:
            step = chain.parse_step(i, line, by, ctx, name=name, source=source)
        except BadInput as exc:
            which = "by" if "justification" in exc.message else "line"
            raise problem.error(f"{field}.{which}", exc.message) from None
        if step.by is not None and step.by.kind == "hyp":
            for n in step.by.names:
                if n not in names:
                    raise problem.error(f"{field}.by", f"'hyp {n}': no hypothesis or earlier step named "
                                        f"{n!r} (known: {', '.join(sorted(names)) or 'none'})")
        if source and source not in names - set(ctx.given):
            raise problem.error(f"{field}.from", f"no earlier step is named {source!r}")
        if name:
            names.add(name)
        out.append(step)
    return out


_SYMBOLS = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}


def _tidy(expr: sp.Basic) -> sp.Basic:
    """An expression as written, without simplifying anything: a + b + c (read as (a + b) + c)
    flattened, brackets the writer put kept (1 + (1 + β) stays so), a product's numbers first."""
    if not expr.args or isinstance(expr, (AppliedUndef, chain.Minimum)):
        return expr
    args = [_tidy(a) for a in expr.args]
    if isinstance(expr, sp.Add):
        flat = list(args[0].args if isinstance(args[0], sp.Add) else args[:1]) + args[1:]
        return sp.Add(*flat, evaluate=False)
    if isinstance(expr, sp.Mul):
        flat = list(args[0].args if isinstance(args[0], sp.Mul) else args[:1]) + args[1:]
        numbers = [t for t in flat if t.is_Number]
        rest = [t for t in flat if not t.is_Number]
        if len(numbers) > 1 or numbers and numbers[0] == 1:
            number = sp.Mul(*numbers)
            numbers = [] if number == 1 else [number]
        if not rest:
            return sp.Mul(*numbers)
        return sp.Mul(*(numbers + rest), evaluate=False) if numbers or len(rest) > 1 else rest[0]
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


WIDE = 150   # characters of LaTeX source past which a sum is set on several lines


def _rebuilt(expr: sp.Basic) -> sp.Basic:
    """An unevaluated expression evaluated again, node by node."""
    if not expr.args or isinstance(expr, (AppliedUndef, chain.Minimum)):
        return expr
    return expr.func(*[_rebuilt(a) for a in expr.args])


def _math(ctx: chain.Context, text: str) -> str:
    expr = _tidy(ctx.parse_shown(text))
    checked = ctx.parse(text)
    if not symbolic_zero(sp.expand(_rebuilt(expr) - checked)):
        expr = checked   # never display a form that is not the expression checked
    latex = ctx.latex_written(expr)
    if len(latex) <= WIDE or not isinstance(expr, sp.Add):
        return latex
    lines, current = [], ""
    for i, term in enumerate(expr.args):
        negative = term.could_extract_minus_sign()
        piece = ctx.latex_written(-term if negative else term)
        if isinstance(term, sp.Add):
            piece = rf"\left({piece}\right)"
        joined = ("- " if negative else ("+ " if i else "")) + piece
        if current and len(current) + len(joined) > WIDE * 2 // 3:
            lines.append(current)
            current = joined
        else:
            current = f"{current} {joined}".strip()
    lines.append(current)
    return r"\begin{aligned}[t] & " + r" \\ & \quad ".join(lines) + r" \end{aligned}"


def _shown(ctx: chain.Context, step: chain.Step) -> str:
    rhs = _math(ctx, _side(step.text, "rhs"))
    if step.form == "start":
        return rhs
    op = _SYMBOLS[step.op]
    if step.form == "cont":
        return f"{op} {rhs}"
    lhs = _math(ctx, _side(step.text, "lhs"))
    lead = {"imp": r"\Rightarrow\ ", "iff": r"\Leftrightarrow\ ", "rel": ""}[step.form]
    return f"{lead}{lhs} {op} {rhs}"


def _side(text: str, which: str) -> str:
    lhs, op, rhs = chain.split_relation(text)
    if lhs is None and op in ("=>", "<=>"):
        lhs, op, rhs = chain.split_relation(rhs)
    return lhs if which == "lhs" else rhs


def _why(ctx: chain.Context, v: chain.Verdict, lines: dict[str, int]) -> str:
    """The justification in words: hypotheses by their names, earlier lines by their numbers."""
    j = v.step.by
    if j is None:
        return ""
    if j.kind == "hyp":
        at = ", ".join(f"${ctx.latex(ctx.scope.symbol(n))} = {ctx.latex(ctx.parse(e))}$" for n, e in j.at)
        hyps = [f"``{escape(n)}\'\'" for n in j.names if n in ctx.given]
        named = [str(lines[n]) for n in j.names if n not in ctx.given and n in lines]
        parts = []
        if hyps:
            parts.append(("the hypothesis " if len(hyps) == 1 else "the hypotheses ") + " and ".join(hyps))
        if named:
            parts.append(("line " if len(named) == 1 else "lines ") + " and ".join(named))
        return "by " + " and ".join(parts) + (f" at {at}" if at else "")
    if j.kind == "sum":
        k, lo, hi = j.index
        return (rf"summing over ${ctx.latex(ctx.scope.symbol(k))} = {ctx.latex(ctx.parse(lo))}, "
                rf"\dots, {ctx.latex(ctx.parse(hi))}$ (the sum telescopes)")
    if j.kind == "algebra":
        return "algebra"
    return j.words()


def solve(problem: Problem) -> Solution:
    spec: WrittenSpec = problem.spec
    ctx = _context(problem, spec)
    steps = _parsed_steps(problem, spec, ctx)
    verdicts = chain.check_lines(ctx, steps, seed=f"{problem.id}")
    failed = next((v for v in verdicts if not v.passed), None)
    if failed is not None:
        sides = f" (the line: {failed.relation.latex(ctx)})" if failed.relation is not None else ""
        where = f" counterexample: {failed.counterexample}" if failed.counterexample else ""
        raise VerificationFailed(problem.id, f"step {failed.step.number}",
                                 f"does not follow{sides}: {failed.reason}.{where}")
    claim = _relation(ctx, spec.claim)
    last = _final(verdicts)
    atoms = chain.Atoms()
    target = claim.fact()
    if last is None or not chain.follows(chain.Fact(atoms(target.expr), target.kind),
                                         [chain.Fact(atoms(last.fact().expr), last.fact().kind)], ctx.scope):
        raise VerificationFailed(problem.id, "conclusion",
                                 "the last line does not give the claim "
                                 f"({last.latex(ctx) if last else 'no relation'} vs {claim.latex(ctx)})")
    lines = {v.step.name: v.step.number for v in verdicts if v.step.name}
    shown = tuple(ShownStep(v.step.number, _shown(ctx, v.step), _why(ctx, v, lines), v.status, v.detail)
                  for v in verdicts)
    given = tuple((escape(name), rel.latex(ctx)) for name, rel in ctx.given.items())
    verified = all(v.status in ("proved", "tested", "start") for v in verdicts if v.status != "cited")
    body = WrittenSolution(True, claim.latex(ctx), given, shown, verified,
                           "the last line is the claim")
    value = _public(claim)
    return Solution(problem, (Answer("conclusion", value),), body,
                    ("proof steps: each line derived by SymPy from its justification and the "
                     "hypotheses, and tested at random points that satisfy them",), verified=verified)


def _final(verdicts) -> chain.Relation | None:
    """The relation the chain ends with: its first left side to its last right side."""
    return verdicts[-1].after if verdicts else None


def _public(claim: chain.Relation) -> sp.Basic:
    """The claim for the JSON key: a minimum as Min over a named function (parses back)."""
    def plain(e):
        return e.replace(lambda x: isinstance(x, chain.Minimum),
                         lambda x: sp.Function("min_over")(*x.args))
    op = {"=": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}[claim.op]
    return op(plain(claim.lhs), plain(claim.rhs), evaluate=False)
