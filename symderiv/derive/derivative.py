"""Kind ``derivative``: derivatives of activations, losses and the user's own functions.

For each function: the definition, the derivation as aligned lines with the rule named on
each, the teacher's form, for piecewise functions the branches with the points where the
function is not differentiable, the limits of the derivative at ±∞, and an optional plot.
Every answer is verified before it is returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy as sp

from ..assume import Domain, Scope
from ..errors import BadInput
from ..library import Entry, registry
from ..parse import ELEMENTARY, Namespace, parse_expression
from ..texsafe import check_latex_fragment
from ..spec import Fields, Problem
from .. import verify
from .branches import Branch, as_piecewise, is_piecewise, split_branches
from .limits import LimitResult, limit_at, parse_direction
from .scalar import chain_lines, derivation_tree, tidy
from .steps import Answer, Line, Solution
from .teacher import JacobianForm, TeacherForm, jacobian_teacher_form, teacher_form

FIELDS = {"functions", "var", "limits", "plot", "size"}
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


@dataclass(frozen=True)
class FunctionResult:
    name: str
    title: str
    applied: sp.Expr           # how the function is shown: σ(x)
    definition: sp.Expr
    formula: str               # the definition as the registry writes it (LaTeX), or ""
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
    size = f.get("size", int, 3)
    if not 2 <= size <= 6:
        raise f.error("size", "must be between 2 and 6")
    return DerivativeSpec(tuple(functions), var, limits, bool(f.get("plot", bool, False)), size)


def _scope(problem: Problem, defaults) -> Scope:
    from ..assume import parse_assumption

    scope = Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})
    return scope.with_defaults(dict(defaults))


def namespace(scope: Scope) -> Namespace:
    """Elementary functions plus every scalar activation, with parameters from ``scope``."""
    functions = dict(ELEMENTARY)
    for entry in registry().values():
        if entry.vector or entry.arity != 1:
            continue
        def call(*args, entry=entry):
            if len(args) != 1:
                raise BadInput(f"{entry.name} takes one argument")
            params = {p: scope.with_defaults(dict(entry.params)).symbol(p) for p in entry.params}
            return entry.build(args[0], params)
        functions[entry.name] = call
    return Namespace(symbols=dict(scope.symbols), functions=functions,
                     make_symbol=lambda name: scope.symbol(name))


def _build_inline(spec: FunctionSpec, scope: Scope, var: sp.Symbol) -> sp.Expr:
    ns = namespace(scope)
    ns = Namespace(symbols={**ns.symbols, var.name: var}, functions=ns.functions,
                   make_symbol=ns.make_symbol)
    expr = parse_expression(spec.expr, ns)
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.MatrixBase):
        raise BadInput(f"{spec.expr!r} is not a scalar expression")
    if not expr.has(var):
        raise BadInput(f"{spec.expr!r} does not depend on {var}")
    return expr


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
            answers.append(Answer(f"{fn.name}.jacobian", result.jacobian, result.jacobian_form))
        else:
            result = _solve_scalar(problem, fn, scope, var, spec)
            answers.append(Answer(f"{fn.name}.derivative", result.derivative,
                                  result.teacher.expr if result.teacher else None))
            for lim in result.limits:
                answers.append(Answer(f"{fn.name}.limit({lim.written})", lim.value))
        results.append(result)
    checks = sorted({c for r in results for c in r.checks})
    return Solution(problem, tuple(answers), tuple(results), tuple(checks))


def _applied(fn: FunctionSpec, entry: Entry | None, var: sp.Symbol) -> sp.Expr:
    if entry is not None:
        latex = entry.latex if entry.arity == 1 else r"\ell"
    else:
        latex = fn.latex or fn.name
    return sp.Function(latex)(var)


def _solve_scalar(problem: Problem, fn: FunctionSpec, scope: Scope, var: sp.Symbol,
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
        derivative = tidy(chain[-1].expr, var)
        if derivative != chain[-1].expr:
            chain.append(Line(derivative, ("simplify",)))
        checks += verify.check_derivative(problem.id, label, f, derivative, var, scope)
        teacher = teacher_form(f, derivative, var, applied)
        if teacher is not None and teacher.expr != derivative:
            checks += verify.check_identity(problem.id, f"{label} (teacher form)",
                                            teacher.explicit(), derivative, scope)
            chain.append(Line(teacher.expr, ("teacher form",)))
        else:
            teacher = None
        lines = tuple(chain)
    limits = []
    derivative_branches = [Branch(w.derivative, w.branch.lower, w.branch.upper) for w in work]
    for written in spec.limits:
        lim = limit_at(derivative, var, written, derivative_branches or None)
        checks += verify.check_limit(problem.id, f"{fn.name}.limit({written})", lim.expr, var,
                                     lim.point, lim.value, scope)
        if teacher is not None:
            lim = _through_teacher(lim, teacher, var)
        limits.append(lim)
    plot = _plot(f, derivative, var, scope, [k.point for k in kinks if k.differentiable is not True]) \
        if spec.plot else None
    return FunctionResult(
        name=fn.name, title=fn.title or (entry.title if entry else fn.name), applied=applied,
        definition=f, formula=entry.formula if entry else "", var=var, lines=lines,
        branches=tuple(work), kinks=tuple(kinks), derivative=derivative, teacher=teacher,
        limits=tuple(limits), plot=plot, checks=tuple(dict.fromkeys(checks)))


def _through_teacher(lim: LimitResult, teacher: TeacherForm, var: sp.Symbol) -> LimitResult:
    """Explain the limit through the teacher's form: σ(x) → 1, so σ(x)(1 − σ(x)) → 0."""
    facts = tuple((applied, sp.limit(explicit, var, lim.point))
                  for applied, explicit in teacher.meaning.items())
    if any(v.has(sp.Limit) for _, v in facts):
        return lim
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


def _plot(f: sp.Expr, d: sp.Expr, var: sp.Symbol, scope: Scope, breaks: list[sp.Expr]) -> PlotData:
    """Sample the function and its derivative on a grid, breaking the derivative at kinks."""
    params = {}
    for sym in sorted((f.free_symbols | d.free_symbols) - {var}, key=lambda s: s.name):
        params[sym] = _representative(scope.domain_of(sym))
    fn = sp.lambdify(var, f.subs(params), modules=["mpmath"])
    dn = sp.lambdify(var, d.subs(params), modules=["mpmath"])
    lo, hi = PLOT_RANGE
    xs = [lo + (hi - lo) * k / (PLOT_SAMPLES - 1) for k in range(PLOT_SAMPLES)]
    cut = sorted(float(b.subs(params)) for b in breaks)
    for c in cut:
        xs += [c - 1e-3, c + 1e-3]
    xs = sorted(set(round(v, 4) for v in xs if lo <= v <= hi))
    fvals = [(x, round(float(fn(x)), 4)) for x in xs]
    dvals: list[tuple[float, float | None]] = []
    for x in xs:
        if any(abs(x - c) < 1e-9 for c in cut):
            continue
        dvals.append((x, round(float(dn(x)), 4)))
        for c in cut:
            if x < c and abs(x - (c - 1e-3)) < 1e-9:
                dvals.append((c, None))
    ys = [v for _, v in fvals + dvals if v is not None]
    return PlotData(tuple(fvals), tuple(dvals), tuple(params.items()),
                    max(-6.0, min(ys) - 0.5), min(6.0, max(ys) + 0.5))


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


def _solve_vector(problem: Problem, fn: FunctionSpec, entry: Entry, scope: Scope,
                  spec: DerivativeSpec) -> FunctionResult:
    n = spec.size
    xs = [scope.symbol(f"{spec.var}_{k}") for k in range(1, n + 1)]
    params = {p: scope.symbol(p) for p in entry.params}
    f = entry.build(xs, params)
    J = sp.Matrix(n, n, lambda i, j: tidy(sp.diff(f[i], xs[j]), xs[j]))
    label = f"{fn.name}.jacobian"
    checks: list[str] = []
    entry_lines = []
    for j in (0, 1):
        chain = chain_lines(derivation_tree(f[0], xs[j]))
        d = tidy(chain[-1].expr, xs[j])
        if d != chain[-1].expr:
            chain.append(Line(d, ("simplify",)))
        entry_lines.append((f"{1},{j + 1}", tuple(chain)))
    for i in range(n):
        for j in range(n):
            checks += verify.check_derivative(problem.id, f"{label}[{i + 1},{j + 1}]", f[i],
                                              J[i, j], xs[j], scope)
    form = jacobian_teacher_form(lambda ys: entry.build(ys, params), "s")
    return FunctionResult(
        name=fn.name, title=fn.title or entry.title, applied=sp.Function(entry.latex)(sp.Symbol(spec.var)),
        definition=f, formula=entry.formula, var=sp.Symbol(spec.var), lines=(), branches=(),
        kinks=(), derivative=J, teacher=None, limits=(), plot=None, jacobian=J,
        jacobian_form=form, entry_lines=tuple(entry_lines),
        checks=tuple(dict.fromkeys(checks + (["Jacobian formula checked entry by entry at n = 3, 4"]
                                             if form else []))))


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
