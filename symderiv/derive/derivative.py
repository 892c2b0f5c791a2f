"""Kind ``derivative``: derivatives of activations, losses and the user's own functions.

For each function: the definition, the derivation as aligned lines with the rule named on
each, the teacher's form, for piecewise functions the branches with the points where the
function is not differentiable, the limits of the derivative at ±∞, and an optional plot.
Every answer is verified before it is returned.
"""

from __future__ import annotations

import re
from typing import Any
from dataclasses import dataclass, field, replace

import sympy as sp

from ..notebook import Displayable

from ..assume import Domain, Scope
from ..errors import BadInput
from ..library import Entry, registry
from ..library.display import explicit, stand_ins
from ..parse import ELEMENTARY, Namespace, parse_expression
from ..texsafe import check_latex_fragment
from ..written import Written, as_written, exact, literal, written_decimals
from ..spec import Fields, Problem
from .. import memo, verify
from .branches import Branch, as_piecewise, is_piecewise, split_branches
from .limits import LimitResult, limit_at, parse_direction
from .scalar import chain_lines, derivation_tree, tidy
from .steps import Answer, Line, Solution
from .teacher import (JacobianForm, TeacherForm, concrete, index_steps, jacobian_teacher_form,
                      teacher_form, teacher_steps)

FIELDS = {"functions", "var", "limits", "plot", "size", "hessian"}
_IDENT = re.compile(r"\A[A-Za-z][A-Za-z0-9_]*\Z")
PLOT_RANGE = (-5, 5)
PLOT_SAMPLES = 81


@dataclass(frozen=True)
class FunctionSpec:
    """A function to differentiate: a registry entry or an inline expression."""

    name: str
    entry: str | None = None
    expr: str | None = None
    latex: str | None = None
    title: str = ""


@dataclass(frozen=True)
class DerivativeSpec:
    functions: tuple[FunctionSpec, ...]
    var: str = "x"
    limits: tuple[str, ...] = ()
    plot: bool = False
    size: int = 3
    hessian: bool = False   # the second derivative too (derive/hessian.py)


@dataclass(frozen=True)
class Kink:
    """A breakpoint: the one-sided derivatives there, and whether they agree."""

    point: sp.Expr
    left: sp.Expr
    right: sp.Expr
    differentiable: bool | None  # None: depends on the parameters (ELU: only if α = 1)
    continuous: bool


@dataclass(frozen=True)
class BranchWork:
    branch: Branch
    condition: sp.Basic
    lines: tuple[Line, ...]
    derivative: sp.Expr


@dataclass(frozen=True)
class PlotData:
    function: tuple[tuple[float, float | None], ...]
    derivative: tuple[tuple[float, float | None], ...]
    params: tuple[tuple[sp.Symbol, sp.Expr], ...]
    ymin: float
    ymax: float
    clipped: tuple[bool, bool] = (False, False)     # function, derivative leave the window
    undefined: tuple[bool, bool] = (False, False)   # not real or not finite somewhere on it


@dataclass(frozen=True)
class FunctionResult(Displayable):
    name: str
    title: str
    applied: sp.Expr           # how the function is shown: σ(x)
    definition: sp.Expr
    shown: sp.Expr             # the definition as displayed (registry display or the expression)
    var: sp.Symbol
    lines: tuple[Line, ...]    # smooth functions
    branches: tuple[BranchWork, ...]
    kinks: tuple[Kink, ...]
    derivative: sp.Expr
    teacher: TeacherForm | None
    limits: tuple[LimitResult, ...]
    plot: PlotData | None
    jacobian: sp.Matrix | None = None
    jacobian_form: JacobianForm | None = None
    entry_lines: tuple[tuple[str, tuple[Line, ...]], ...] = ()
    checks: tuple[str, ...] = ()
    prime: sp.Expr | None = None   # σ′(x), for legends
    shown_meaning: dict = field(default_factory=dict)  # named functions in the definition
    shown_jacobian: sp.Matrix | None = None  # the Jacobian at the file's size, in s_1, …, s_n
    index: Any = None                        # IndexSteps: the general-n derivation
    second: Any = None                       # hessian.SecondDerivative
    written: tuple = ()   # the exact values of the decimals the file wrote, shown as written
    derivative_shown: sp.Expr | None = None  # the derivative with those decimals as written
    written_form: sp.Expr | None = None      # the function read with them as written.Written


# --- parsing -------------------------------------------------------------------------


def parse(problem: Problem) -> DerivativeSpec:
    f = Fields(problem, FIELDS)
    var = f.get("var", str, "x")
    if not _IDENT.match(var):
        raise f.error("var", f"{var!r} is not a variable name")
    items = f.get("functions", list, required=True, what="a list of names or inline tables")
    if not items:
        raise f.error("functions", "the list is empty")
    known = registry()
    functions: list[FunctionSpec] = []
    for item in items:
        if isinstance(item, str):
            if item not in known:
                raise f.error("functions", f"unknown function {item!r} (see 'symderiv list')")
            functions.append(FunctionSpec(item, entry=item, title=known[item].title))
        elif isinstance(item, dict):
            extra = sorted(set(item) - {"name", "expr", "latex", "title"})
            if extra:
                raise f.error("functions", f"unknown key {extra[0]!r} in an inline function "
                              "(allowed: name, expr, latex, title)")
            name, expr = item.get("name"), item.get("expr")
            if not isinstance(name, str) or not _IDENT.match(name):
                raise f.error("functions", "an inline function needs name = \"...\" (a plain identifier)")
            if not isinstance(expr, str):
                raise f.error("functions", f"inline function {name!r} needs expr = \"...\"")
            latex = item.get("latex")
            if latex is not None:
                try:
                    check_latex_fragment(latex, inline=True)
                except BadInput as exc:
                    raise f.error("functions", f"{name}: latex: {exc.message}") from None
            spec = FunctionSpec(name, expr=expr, latex=latex, title=item.get("title", ""))
            try:
                _build_inline(spec, _scope(problem, ()), sp.Symbol(var, real=True))
            except BadInput as exc:
                raise f.error("functions", f"{name}: {exc.message}") from None
            functions.append(spec)
        else:
            raise f.error("functions", "each entry must be a registry name or an inline table")
    names = [fn.name for fn in functions]
    if len(set(names)) != len(names):
        raise f.error("functions", "two functions have the same name")
    limits = tuple(f.string_list("limits"))
    for text in limits:
        try:
            parse_direction(text)
        except BadInput as exc:
            raise f.error("limits", exc.message) from None
    for fn in functions:
        if fn.entry and known[fn.entry].vector and limits:
            raise f.error("limits", f"{fn.name} is vector-valued: limits apply to scalar functions")
    if limits:
        scope = _scope(problem, {p: t for fn in functions if fn.entry
                                 for p, t in known[fn.entry].params.items()})
        x = scope.symbol(var)
        for fn in functions:
            if fn.entry:
                entry = known[fn.entry]
                params = {p: scope.symbol(p) for p in entry.params}
                expr = entry.build(x, params) if entry.arity == 1 else \
                    entry.build(x, scope.symbol("y"), params)
            else:
                expr = _build_inline(fn, scope, x)
            for text in limits:
                try:
                    _real_far_out(expr, x, text, scope, fn.name)
                except BadInput as exc:
                    raise f.error("limits", exc.message) from None
    size = f.get("size", int, 3)
    if not 2 <= size <= 6:
        raise f.error("size", "must be between 2 and 6")
    second = bool(f.get("hessian", bool, False))
    if second:
        for fn in functions:
            if fn.entry and known[fn.entry].vector:
                raise f.error("hessian", f"{fn.name} is vector-valued: the second derivative applies "
                              "to scalar functions")
    return DerivativeSpec(tuple(functions), var, limits, bool(f.get("plot", bool, False)), size, second)


def _scope(problem: Problem, defaults) -> Scope:
    from ..assume import parse_assumption

    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    return scope.with_defaults(dict(defaults))


def namespace(scope: Scope, apply=None) -> Namespace:
    """Elementary functions plus every scalar activation, with parameters from ``scope``;
    ``apply(entry, argument, params)`` makes an activation's value (default: its build)."""
    functions = dict(ELEMENTARY)
    for entry in registry().values():
        if entry.vector or entry.arity != 1:
            continue
        def call(*args, entry=entry):
            if len(args) != 1:
                raise BadInput(f"{entry.name} takes one argument")
            scope.adopt(dict(entry.params))
            params = {p: scope.symbol(p) for p in entry.params}
            return entry.build(args[0], params) if apply is None else apply(entry, args[0], params)
        functions[entry.name] = call
    return Namespace(symbols=dict(scope.symbols), functions=functions,
                     make_symbol=lambda name: scope.symbol(name))


def _build_inline(spec: FunctionSpec, scope: Scope, var: sp.Symbol, number=None) -> sp.Expr:
    ns = namespace(scope)
    ns = Namespace(symbols={**ns.symbols, var.name: var}, functions=ns.functions,
                   make_symbol=ns.make_symbol, number=number)
    expr = parse_expression(spec.expr, ns)
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.MatrixBase):
        raise BadInput(f"{spec.expr!r} is not a scalar expression")
    if not expr.has(var):
        raise BadInput(f"{spec.expr!r} does not depend on {var}")
    return expr


def _display_inline(spec: FunctionSpec, scope: Scope, var: sp.Symbol, f: sp.Expr) -> sp.Expr:
    """An inline function as its author wrote it: the registry's functions in it kept by name
    (−y log σ(x) − (1 − y) log(1 − σ(x)), x σ(x)) or in their teacher's display (max{0, x},
    x Φ(x)), not expanded. The caller checks it against ``f``. ``f`` itself when it cannot be
    read that way."""
    from ..library.display import SIGMA, MaxSet, MinSet, Product

    def display(entry, argument, params):
        if entry.name == "sigmoid":
            return SIGMA(argument)
        if entry.display is not None and entry.name != "tanh":   # tanh(x), not its exponentials
            return entry.display(argument, params)
        return entry.build(argument, params)

    base = namespace(scope, display)
    # max and min as written, in the file's order: max{0.01x, x} (SymPy's Max sorts its arguments)
    functions = {**base.functions, "max": lambda *args: MaxSet(*args), "min": lambda *args: MinSet(*args)}
    ns = Namespace(symbols={**base.symbols, var.name: var}, functions=functions,
                   make_symbol=base.make_symbol, number=literal)
    try:
        shown = parse_expression(spec.expr, ns)
    except BadInput:
        return f
    if not isinstance(shown, sp.Expr):
        return f

    def written_order(m: sp.Mul) -> sp.Expr:
        # x σ(x), 2y σ(x)²: numbers and names before σ (SymPy sorts \sigma first)
        c, rest = m.as_coeff_Mul()
        factors = sorted(sp.Mul.make_args(rest), key=lambda a: a.has(SIGMA))
        body = Product(*factors) if len(factors) > 1 else factors[0]
        return body if c == 1 else sp.Mul(c, body, evaluate=False)
    return shown.replace(lambda e: e.is_Mul and any(a.has(SIGMA) for a in e.args)
                         and any(not a.has(SIGMA) and not a.is_Number for a in e.args), written_order)


# --- solving -------------------------------------------------------------------------


def solve(problem: Problem) -> Solution:
    spec: DerivativeSpec = problem.spec
    known = registry()
    defaults: dict[str, str] = {}
    for fn in spec.functions:
        if fn.entry:
            defaults.update(known[fn.entry].params)
    scope = _scope(problem, defaults)
    var = scope.symbol(spec.var)
    results = []
    answers: list[Answer] = []
    for fn in spec.functions:
        if fn.entry and known[fn.entry].vector:
            result = _solve_vector(problem, fn, known[fn.entry], scope, spec)
            answers.append(Answer(f"{fn.name}.jacobian", result.jacobian, _entry_formula(result.jacobian_form)))
        else:
            result = _solve_scalar(problem, fn, scope, var, spec)
            answers.append(Answer(f"{fn.name}.derivative", result.derivative,
                                  result.teacher.expr if result.teacher else result.derivative_shown))
            for lim in result.limits:
                answers.append(Answer(f"{fn.name}.limit({lim.written})", lim.value))
            if spec.hessian:
                from .hessian import second_derivative
                second = second_derivative(problem, result, scope)
                result = replace(result, second=second, checks=result.checks + second.checks)
                answers.append(Answer(f"{fn.name}.second_derivative", second.value,
                                      second.teacher))
        results.append(result)
    checks = sorted({c for r in results for c in r.checks})
    return Solution(problem, tuple(answers), tuple(results), tuple(checks))


def _applied(fn: FunctionSpec, entry: Entry | None, var: sp.Symbol) -> sp.Expr:
    if entry is not None:
        latex = entry.symbol or entry.latex
    else:
        latex = fn.latex or fn.name
    return sp.Function(latex)(var)


_SCALAR: dict[tuple, FunctionResult] = memo.cache()


def _solve_scalar(problem: Problem, fn: FunctionSpec, scope: Scope, var: sp.Symbol,
                  spec: DerivativeSpec) -> FunctionResult:
    """One scalar function's derivative, steps, limits and plot, every line verified.

    The result depends on the function, the variable, the assumptions in force and what is
    asked (limits, plot), not on the problem it appears in: the same activation in another
    file of the same run (σ in a derivative question and in a network's key) is derived and
    checked once. A failed check raises and is not remembered.
    """
    key = (fn, var, frozenset(scope.domains.values()), spec.limits, spec.plot)
    if key not in _SCALAR:
        result = _derive_scalar(problem, fn, scope, var, spec)
        decimals = written_decimals(fn.expr) if fn.expr else {}
        if decimals:   # printed as written wherever the exact numbers are shown
            result = _shown_as_written(problem, fn, result, scope, decimals)
        _SCALAR[key] = result
    return _SCALAR[key]


def _derive_scalar(problem: Problem, fn: FunctionSpec, scope: Scope, var: sp.Symbol,
                   spec: DerivativeSpec) -> FunctionResult:
    entry = registry()[fn.entry] if fn.entry else None
    if entry is not None:
        params = {p: scope.symbol(p) for p in entry.params}
        f = entry.build(var, params) if entry.arity == 1 else entry.build(var, scope.symbol("y"), params)
    else:
        f = _build_inline(fn, scope, var)
    applied = _applied(fn, entry, var)
    label = f"{fn.name}.derivative"
    lines: tuple[Line, ...] = ()
    work: list[BranchWork] = []
    kinks: list[Kink] = []
    teacher = None
    checks: list[str] = []
    if is_piecewise(f):
        branches = split_branches(f, var, scope)
        for b in branches:
            chain = chain_lines(derivation_tree(b.expr, var))
            d = tidy(chain[-1].expr, var)
            if d != chain[-1].expr:
                chain.append(Line(d, ("simplify",)))
            work.append(BranchWork(b, b.condition(var), tuple(chain), d))
        kinks = _kinks(work, var, scope)
        smooth_at = frozenset(k.point for k in kinks if k.differentiable is True)
        derivative = as_piecewise([Branch(w.derivative, w.branch.lower, w.branch.upper)
                                   for w in work], var, smooth_at)
        checks += verify.check_derivative(problem.id, label, f, derivative, var, scope,
                                          [w.branch for w in work])
    else:
        chain = chain_lines(derivation_tree(f, var))
        raw = chain[-1].expr
        derivative = tidy(raw, var)
        checks += verify.check_derivative(problem.id, label, f, derivative, var, scope)
        teacher = teacher_form(f, derivative, var, applied)
        if teacher is not None and (teacher.expr == derivative or _trivial(teacher, derivative)
                                    or not teacher.expr.has(*teacher.meaning)):
            # a "form" that names no function (artanh(x/2)′ = −2/(x² − 4)) is a simplification
            teacher = None
        if teacher is not None:
            checks += verify.check_identity(problem.id, f"{label} (teacher form)",
                                            teacher.explicit(), derivative, scope)
            rewrite = teacher_steps(raw, teacher, var)
            for k, line in enumerate(rewrite):
                checks += verify.check_identity(problem.id, f"{label} (teacher step {k + 1})",
                                                explicit(line.expr.xreplace(dict(teacher.meaning))), derivative,
                                                scope)
                if isinstance(line.note, sp.Equality):
                    checks += verify.check_identity(
                        problem.id, f"{label} (teacher step {k + 1}, identity)",
                        line.note.lhs.xreplace(dict(teacher.meaning)), line.note.rhs, scope)
            chain += rewrite
        elif derivative != raw:
            chain.append(Line(derivative, ("simplify",)))
        if len(chain) > 1 and isinstance(chain[0].expr, sp.Derivative) and \
                isinstance(chain[0].expr.expr, sp.Function) and chain[0].expr.expr.args == (var,):
            chain = chain[1:]  # "d/dz tanh z = d/dz tanh z" restates the left side: start after it
        lines = tuple(chain)
    limits = []
    derivative_branches = [Branch(w.derivative, w.branch.lower, w.branch.upper) for w in work]
    for written in spec.limits:
        _real_far_out(f, var, written, scope, fn.name)
        try:
            lim = limit_at(derivative, var, written, derivative_branches or None, scope)
        except BadInput as exc:  # "depends on y …: add an 'assume' entry": the file's to fix
            raise problem.error("limits", f"{fn.name}: {exc.message}") from None
        for case in lim.cases:
            checks += verify.check_limit(problem.id, f"{fn.name}.limit({written})", case.expr, var,
                                         lim.point, case.claim, case.scope)
        if teacher is not None and lim.exists and not lim.split:
            lim = _through_teacher(lim, teacher, var)
        limits.append(lim)
    plot = _plot(f, derivative, var, scope, [k.point for k in kinks if k.differentiable is not True]) \
        if spec.plot else None
    shown = f
    if entry is not None and entry.display is not None and entry.arity == 1:
        shown = entry.display(var, {p: scope.symbol(p) for p in entry.params})
    elif entry is None:
        shown = _display_inline(fn, scope, var, f)
    checks += verify.check_identity(problem.id, f"{fn.name}.definition", exact(explicit(shown)), f, scope)
    return FunctionResult(
        name=fn.name, title=fn.title or (entry.title if entry else fn.name), applied=applied,
        prime=sp.Function(applied.func.__name__ + "'")(var), shown_meaning=stand_ins(shown, var),
        definition=f, shown=shown, var=var, lines=lines,
        branches=tuple(work), kinks=tuple(kinks), derivative=derivative, teacher=teacher,
        limits=tuple(limits), plot=plot, checks=tuple(dict.fromkeys(checks)))


def _shown_as_written(problem: Problem, fn: FunctionSpec, result: FunctionResult, scope: Scope,
                      decimals: dict) -> FunctionResult:
    """``result`` with the decimals its function writes shown as written: the printer's
    (``written``: render.WRITTEN prints 851/500 as 1.702) and, for a smooth function, the
    derivation done again from the function read with them as numbers of their own
    (:func:`_as_written`): its lines, teacher's form and derivative replace the displayed
    ones, and the limits explained through the teacher's form quote the new form."""
    result = replace(result, written=tuple(sorted(decimals)))
    if result.branches or not result.lines:
        return result
    shown = _as_written(problem.id, f"{fn.name}.derivative", fn, result.definition,
                        result.derivative, result.var, result.applied, scope,
                        result.teacher is not None)
    if shown is None:
        return result
    chain, teacher, derivative_shown, written_form, checks = shown
    var = result.var
    if len(chain) > 1 and isinstance(chain[0].expr, sp.Derivative) and \
            isinstance(chain[0].expr.expr, sp.Function) and chain[0].expr.expr.args == (var,):
        chain = chain[1:]  # as in _derive_scalar: a first line that restates the left side
    limits = tuple(replace(lim, expr=teacher.expr) if teacher is not None and result.teacher is not None
                   and lim.facts and lim.expr == result.teacher.expr else lim for lim in result.limits)
    return replace(result, lines=tuple(chain), teacher=teacher, limits=limits,
                   derivative_shown=derivative_shown, written_form=written_form,
                   checks=tuple(dict.fromkeys(result.checks + tuple(checks))))


def _as_written(pid: str, label: str, fn: FunctionSpec, f: sp.Expr, derivative: sp.Expr,
                var: sp.Symbol, applied: sp.Expr, scope: Scope, had_teacher: bool):
    """The derivation of a smooth function again, for display, with the decimals the file
    wrote kept as written: the expression read with each decimal as a written.Written, so
    that σ(1.702x)(1.702x(1 − σ(1.702x)) + 1) comes out where the exact derivation factors
    851/500 into (851x + 500)/500, and x/0.3 stays x/0.3. The function read that way is
    checked against ``f``; every line shown, each identity, the teacher's form and the
    derivative shown are checked with the exact values put back.

    Returns (lines, teacher form, derivative shown, the function as read, checks), or None
    when no decimal is written, or when the exact derivation found a teacher's form that
    this one does not (that one is shown, its numbers printed as decimals: render.WRITTEN)."""
    try:
        f_shown = _build_inline(fn, scope, var, number=literal)
    except BadInput:
        return None
    if not f_shown.atoms(Written):
        return None
    checks = list(verify.check_identity(pid, f"{fn.name}.definition (as written)", exact(f_shown), f, scope))
    chain = chain_lines(derivation_tree(f_shown, var))
    raw = chain[-1].expr
    d_shown = tidy(raw, var)
    teacher = teacher_form(f_shown, d_shown, var, applied)
    if teacher is not None and (teacher.expr == d_shown or _trivial(teacher, d_shown)
                                or not teacher.expr.has(*teacher.meaning)):
        teacher = None
    if teacher is None and had_teacher:
        return None
    if teacher is not None:
        chain += teacher_steps(raw, teacher, var)
        teacher = TeacherForm(as_written(teacher.expr),
                              {as_written(k): v for k, v in teacher.meaning.items()})
    elif d_shown != raw:
        chain.append(Line(d_shown, ("simplify",)))
    meaning = dict(teacher.meaning) if teacher is not None else {}
    lines = []
    for k, line in enumerate(chain):
        note = line.note
        if isinstance(note, sp.Equality):
            note = sp.Eq(as_written(note.lhs), as_written(note.rhs), evaluate=False)
            checks += verify.check_identity(pid, f"{label} (as written, line {k + 1}, identity)",
                                            exact(explicit(note.lhs.xreplace(meaning))),
                                            exact(explicit(note.rhs.xreplace(meaning))), scope)
        expr = as_written(line.expr)
        if k:  # the first line is d/dx of the function as read (checked above)
            checks += verify.check_identity(pid, f"{label} (as written, line {k + 1})",
                                            exact(explicit(expr.xreplace(meaning))).doit(),
                                            derivative, scope)
        lines.append(Line(expr, line.rules, note))
    if teacher is not None:
        checks += verify.check_identity(pid, f"{label} (teacher form as written)",
                                        exact(teacher.explicit()), derivative, scope)
    shown = as_written(d_shown)
    checks += verify.check_identity(pid, f"{label} (as written)", exact(shown), derivative, scope)
    checks.append("numbers written as decimals in the file shown as written, each line checked "
                  "with their exact values")
    return lines, teacher, shown, f_shown, checks


def _real_far_out(f: sp.Expr, var: sp.Symbol, written: str, scope: Scope, name: str) -> None:
    """A limit at ±∞ only where the function is defined out there (ln x has none at −∞):
    the piece that is undefined and the set where it is, or (a last guard) the function's
    values far out that are not real."""
    from .domains import far_out_refusal, numerically_undefined

    point = parse_direction(written)
    others = sorted(f.free_symbols - {var}, key=lambda s: s.name)
    params = {s: _representative(scope.domain_of(s)) for s in others}
    rng = verify.rng_for(name, written)
    samples = [params] + [scope.sample(rng, [s.name for s in others]) for _ in range(4)]
    why = far_out_refusal(f, var, written, samples, scope.domain_of(var).interval())
    if why is not None:
        raise BadInput(f"{name}: {why}")
    if numerically_undefined(f, var, 1 if point == sp.oo else -1, params):
        arrow = "+oo" if point == sp.oo else "-oo"
        raise BadInput(f"{name} is not real as {var} -> {arrow}, so its derivative has "
                       "no limit there to ask for")


def _trivial(teacher: TeacherForm, derivative: sp.Expr) -> bool:
    """The form only renames a function the derivative already names: tanh(z) for tanh(z)."""
    return all(v.is_Function for v in teacher.meaning.values()) and \
        sp.srepr(teacher.explicit()) == sp.srepr(derivative)


def _through_teacher(lim: LimitResult, teacher: TeacherForm, var: sp.Symbol) -> LimitResult:
    """Explain the limit through the teacher's form: σ(x) → 1, so σ(x)(1 − σ(x)) → 0."""
    from .limits import _raw_limit

    facts = tuple((applied, _raw_limit(explicit, var, lim.point))
                  for applied, explicit in teacher.meaning.items())
    if any(v is None or v.has(sp.AccumBounds) for _, v in facts):
        return lim  # σ(ax) → 1 or 0 by the sign of a: no single reason to give
    return replace(lim, expr=teacher.expr, facts=facts)


def _kinks(work: list[BranchWork], var: sp.Symbol, scope: Scope) -> list[Kink]:
    kinks = []
    for left, right in zip(work, work[1:]):
        p = left.branch.upper
        continuous = scope.sign((left.branch.expr - right.branch.expr).subs(var, p)) == 0
        dl, dr = left.derivative.subs(var, p), right.derivative.subs(var, p)
        gap = scope.sign(sp.simplify(dl - dr))
        differentiable = None if gap is None else (continuous and gap == 0)
        kinks.append(Kink(p, sp.simplify(dl), sp.simplify(dr), differentiable, continuous))
    return kinks


def _real(fn, x: float) -> float | None:
    """``fn(x)`` as a float where it is real and finite, else None (a gap in the curve)."""
    try:
        v = fn(x)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None
    try:
        c = complex(v)
    except (TypeError, ValueError, OverflowError):
        return None
    if c.imag != 0 or c.real != c.real or abs(c.real) == float("inf"):
        return None
    return round(c.real, 4)


def _break_jumps(points: list[tuple[float, float | None]], lo: float, hi: float):
    """A gap where the curve crosses the whole window between two samples (a pole)."""
    out: list[tuple[float, float | None]] = []
    for (xa, ya), (xb, yb) in zip(points, points[1:] + [(None, None)]):
        out.append((xa, ya))
        if xb is None or ya is None or yb is None:
            continue
        if (ya > hi and yb < lo) or (ya < lo and yb > hi):
            out.append(((xa + xb) / 2, None))
    return out


def _plot(f: sp.Expr, d: sp.Expr, var: sp.Symbol, scope: Scope, breaks: list[sp.Expr]) -> PlotData:
    """Sample the function and its derivative where they are real and finite.

    The derivative is broken at kinks; both curves are broken where they are undefined
    (outside the domain, at a pole) and where they jump across the whole window. The
    window is [-6, 6] at most; ``clipped`` says which curves leave it.
    """
    params = {}
    for sym in sorted((f.free_symbols | d.free_symbols) - {var}, key=lambda s: s.name):
        params[sym] = _representative(scope.domain_of(sym))
    fn = sp.lambdify(var, f.subs(params), modules=["mpmath"], docstring_limit=0)
    dn = sp.lambdify(var, d.subs(params), modules=["mpmath"], docstring_limit=0)
    lo, hi = PLOT_RANGE
    xs = [lo + (hi - lo) * k / (PLOT_SAMPLES - 1) for k in range(PLOT_SAMPLES)]
    cut = sorted(float(b.subs(params)) for b in breaks)
    for c in cut:
        xs += [c - 1e-3, c + 1e-3]
    xs = sorted(set(round(v, 4) for v in xs if lo <= v <= hi))
    fvals = [(x, _real(fn, x)) for x in xs]
    dvals: list[tuple[float, float | None]] = []
    for x in xs:
        if any(abs(x - c) < 1e-9 for c in cut):
            continue
        # the derivative only where the function itself is real (1/x is real left of ln x's domain)
        dvals.append((x, _real(dn, x) if _real(fn, x) is not None else None))
        for c in cut:
            if x < c and abs(x - (c - 1e-3)) < 1e-9:
                dvals.append((c, None))
    ys = [v for _, v in fvals + dvals if v is not None]
    if not ys:
        raise BadInput("the function is not real anywhere on the plotted range [-5, 5]")
    ymin, ymax = max(-6.0, min(ys) - 0.5), min(6.0, max(ys) + 0.5)
    fvals, dvals = _break_jumps(fvals, ymin, ymax), _break_jumps(dvals, ymin, ymax)

    def leaves(points) -> bool:
        return any(v is not None and not ymin <= v <= ymax for _, v in points)

    def gaps(points) -> bool:
        return any(v is None for _, v in points)

    return PlotData(tuple(fvals), tuple(dvals), tuple(params.items()), ymin, ymax,
                    clipped=(leaves(fvals), leaves(dvals)),
                    undefined=(gaps(fvals), any(v is None for x, v in dvals
                                                if not any(abs(x - c) < 1e-9 for c in cut))))


def _representative(domain: Domain) -> sp.Rational:
    """A typical parameter value for a plot: inside the domain, simple to read."""
    lo, hi = domain.lower, domain.upper
    if lo is not None and hi is not None:
        return sp.nsimplify(lo + (hi - lo) / 5)
    if lo is not None:
        return lo + 1
    if hi is not None:
        return hi - 1
    return sp.Integer(1)


def _entry_formula(form: JacobianForm | None):
    """∂sᵢ/∂xⱼ as the teacher writes it, sᵢ(δᵢⱼ − sⱼ): the display of the Jacobian's answer."""
    if form is None:
        return None
    name = form.component.__name__ if hasattr(form.component, "__name__") else str(form.component)
    return form.entry.xreplace({form.component(form.i): sp.Symbol(f"{name}_{form.i}"),
                                form.component(form.j): sp.Symbol(f"{name}_{form.j}")})


def _solve_vector(problem: Problem, fn: FunctionSpec, entry: Entry, scope: Scope,
                  spec: DerivativeSpec) -> FunctionResult:
    """A vector function: ∂sᵢ/∂xⱼ derived with indices for every n.

    Every index step is checked entry by entry at n = 3 (the smallest size with a k other
    than i and j, on and off the diagonal) and at the file's size; the folded entry formula
    of the teacher's form is checked at n = 3 and 4, so a formula that secretly depends on n
    (δᵢⱼ − 1/n) is not taken for a general one."""
    n = spec.size
    xs = [scope.symbol(f"{spec.var}_{k}") for k in range(1, n + 1)]
    params = {p: scope.symbol(p) for p in entry.params}
    f = entry.build(xs, params)
    J = sp.Matrix(n, n, lambda i, j: tidy(sp.diff(f[i], xs[j]), xs[j]))
    label = f"{fn.name}.jacobian"
    checks: list[str] = []
    for i in range(n):
        for j in range(n):
            checks += verify.check_derivative(problem.id, f"{label}[{i + 1},{j + 1}]", f[i],
                                              J[i, j], xs[j], scope)
    form = jacobian_teacher_form(lambda ys: entry.build(ys, params), "s")
    steps = index_steps(entry.display, spec.var) if entry.display is not None else None
    shown_J = J
    if steps is not None:
        sizes = sorted({3, n})
        for size in sizes:
            ys = [scope.symbol(f"{spec.var}_{k}") for k in range(1, size + 1)]
            comps = list(entry.build(ys, params))
            Jy = sp.Matrix(size, size, lambda a, b: sp.diff(comps[a], ys[b]))
            for a in range(1, size + 1):
                for b in range(1, size + 1):
                    shown = concrete(steps.component, steps, size, a, b, ys, comps)
                    checks += verify.check_identity(problem.id, f"{label} (definition, n = {size})",
                                                    shown, comps[a - 1], scope)
                    for k, line in enumerate(steps.lines):
                        checks += verify.check_identity(
                            problem.id, f"{label} (step {k + 1}, n = {size}, i = {a}, j = {b})",
                            concrete(line.expr, steps, size, a, b, ys, comps), Jy[a - 1, b - 1], scope)
                        if isinstance(line.note, sp.Equality):
                            checks += verify.check_identity(
                                problem.id, f"{label} (step {k + 1}, n = {size}, identity)",
                                concrete(line.note.lhs, steps, size, a, b, ys, comps),
                                concrete(line.note.rhs, steps, size, a, b, ys, comps), scope)
        names = [sp.Symbol(f"s_{{{k}}}") for k in range(1, n + 1)]
        shown_J = sp.Matrix(n, n, lambda a, b: concrete(steps.result, steps, n, a + 1, b + 1, xs, names))
        checks.append("the Jacobian steps checked entry by entry at n = "
                      + ", ".join(str(k) for k in sizes))
    var = sp.Symbol(spec.var)
    return FunctionResult(
        name=fn.name, title=fn.title or entry.title, applied=sp.Function(entry.latex)(var),
        definition=f, shown=steps.component if steps else f, var=var, lines=(), branches=(),
        kinks=(), derivative=J, teacher=None, limits=(), plot=None, jacobian=J,
        jacobian_form=form, entry_lines=((("general", steps.lines),) if steps else ()),
        checks=tuple(dict.fromkeys(checks)), shown_jacobian=shown_J,
        index=steps)


def solve_one(text: str, var: str = "x", limits: bool = False) -> FunctionResult:
    """One function from the command line: a registry name or an expression in ``var``."""
    if not _IDENT.match(var):
        raise BadInput(f"{var!r} is not a variable name")
    known = registry()
    if text in known:
        fn = FunctionSpec(text, entry=text, title=known[text].title)
    else:
        fn = FunctionSpec("f", expr=text)
    vector = fn.entry is not None and known[fn.entry].vector
    spec = DerivativeSpec((fn,), var, ("+oo", "-oo") if limits and not vector else ())
    problem = Problem(id="derive", kind="derivative", spec=spec)
    if fn.expr is not None:
        _build_inline(fn, _scope(problem, ()), sp.Symbol(var, real=True))
    return solve(problem).body[0]
